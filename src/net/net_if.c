/* The management API on the default stack (include/zsock/net_if.h), and the
 * creation of that stack: loopback, then whatever the environment names
 * (ZSOCK_TAP, ZSOCK_PIPE, ZSOCK_IPV4, ZSOCK_IPV6, ZSOCK_GATEWAY, ZSOCK_MTU,
 * ZSOCK_CAPTURE, ZSOCK_DHCP), so an unmodified program can be put on a
 * network; ZSOCK_CORE_THREAD=0 creates it in single-loop mode (no core
 * thread: the application runs it with zsock_net_process()). With
 * ZSOCK_DHCP=1 the stack waits up to DHCP_ENV_WAIT_MS for a lease before the
 * first call returns, so such a program finds its address configured; with
 * ZSOCK_IPV6 it waits (up to DAD_ENV_WAIT_MS) for duplicate address
 * detection to finish, so the address can be used at once. */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(ZSOCK_NO_HOSTED_DRIVERS)
/* Built without the TAP and pipe drivers (ZSOCK_DRIVERS_HOSTED=OFF, the
 * cross builds: docs/embedded.md): asking for one fails with ENOTSUP. */
static struct z_netif *no_hosted_driver(struct z_stack *s, const char *a, const char *b, int *err)
{
    (void)s;
    (void)a;
    (void)b;
    *err = -ENOTSUP;
    return NULL;
}

static struct z_netif *no_tap(struct z_stack *s, const char *ifname, int *err)
{
    return no_hosted_driver(s, ifname, NULL, err);
}
#define z_tap_add_locked  no_tap
#define z_pipe_add_locked no_hosted_driver
#endif

#define DHCP_ENV_WAIT_MS 10000
#define DAD_ENV_WAIT_MS  3000

static struct z_stack *default_stack;
static z_once_t default_once = Z_ONCE_INIT;
/* The default stack again, once it exists, if it runs in single-loop mode:
 * z_poller_wait() reads it from any thread without the once's ordering. */
static _Atomic(struct z_stack *) polled_default;
/* zsock_net_init_polled() was called before the stack was created. */
static bool want_polled;

static uint32_t prefix_to_mask(int prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static int mask_to_prefix(uint32_t mask)
{
    int n = 0;
    while (n < 32 && (mask & (0x80000000u >> n))) {
        n++;
    }
    return n;
}

int zsock_parse_ipv4_prefix(const char *text, struct in_addr *addr, int *prefix_len)
{
    char buf[64];
    z_strlcpy(buf, text, sizeof(buf));
    char *slash = strchr(buf, '/');
    *prefix_len = 24;
    if (slash != NULL) {
        *slash = '\0';
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (*end != '\0' || v < 0 || v > 32) {
            return -EINVAL;
        }
        *prefix_len = (int)v;
    }
    return inet_pton(AF_INET, buf, addr) == 1 ? 0 : -EINVAL;
}

#ifndef ZSOCK_NO_HOSTED_DRIVERS
/* The same, the address in host order. */
static int parse_cidr(const char *text, uint32_t *addr, int *prefix)
{
    struct in_addr in;
    int rc = zsock_parse_ipv4_prefix(text, &in, prefix);
    if (rc == 0) {
        *addr = ntohl(in.s_addr);
    }
    return rc;
}

static void report(const char *what, const char *value, int err)
{
    z_diag("zsock: %s=%s: %s", what, value, strerror(-err));
}

/* Apply the environment to the new default stack (lock held). Returns the
 * index of an interface whose DHCP client was started, else 0; *v6_if: that
 * of an interface given an IPv6 address, else 0. */
static int configure_from_env(struct z_stack *s, int *v6_if)
{
    const char *tap = getenv("ZSOCK_TAP");
    const char *pipe = getenv("ZSOCK_PIPE");
    struct z_netif *nif = NULL;
    int err = 0;
    if (tap != NULL && *tap != '\0') {
        nif = z_tap_add_locked(s, tap, &err);
        if (nif == NULL) {
            report("ZSOCK_TAP", tap, err);
        }
    } else if (pipe != NULL && *pipe != '\0') {
        char buf[256];
        z_snprintf(buf, sizeof(buf), "%s", pipe);
        char *colon = strchr(buf, ':');
        if (colon == NULL) {
            report("ZSOCK_PIPE", pipe, -EINVAL);
        } else {
            *colon = '\0';
            nif = z_pipe_add_locked(s, buf, colon + 1, &err);
            if (nif == NULL) {
                report("ZSOCK_PIPE", pipe, err);
            }
        }
    }
    if (nif == NULL) {
        return 0;
    }
    const char *mtu = getenv("ZSOCK_MTU");
    if (mtu != NULL) {
        long v = strtol(mtu, NULL, 10);
        if (v >= 68 && v <= 65535) {
            nif->mtu = (uint32_t)v;
        }
    }
    const char *ip = getenv("ZSOCK_IPV4");
    uint32_t addr;
    int prefix;
    if (ip != NULL && parse_cidr(ip, &addr, &prefix) == 0) {
        z_netif_add_ipv4_locked(nif, addr, prefix_to_mask(prefix));
    } else if (ip != NULL) {
        report("ZSOCK_IPV4", ip, -EINVAL);
    }
    const char *ip6 = getenv("ZSOCK_IPV6");
    if (ip6 != NULL) {
        struct in6_addr a6;
        int plen6;
        err = zsock_parse_ipv6_prefix(ip6, &a6, &plen6);
        if (err == 0) {
            err = z_ipv6_add_addr_locked(nif, a6.s6_addr, plen6, ZSOCK_IPV6_ORIGIN_MANUAL,
                                         Z_ND_INFINITE, Z_ND_INFINITE);
        }
        if (err < 0) {
            report("ZSOCK_IPV6", ip6, err);
        } else {
            *v6_if = nif->index;
        }
    }
    const char *gw = getenv("ZSOCK_GATEWAY");
    if (gw != NULL && parse_cidr(gw, &addr, &prefix) == 0) {
        nif->gateway = addr;
    }
    const char *cap = getenv("ZSOCK_CAPTURE");
    if (cap != NULL && (err = z_capture_start_locked(nif, cap)) < 0) {
        report("ZSOCK_CAPTURE", cap, err);
    }
    z_netif_set_up_locked(nif, true);
    const char *dhcp = getenv("ZSOCK_DHCP");
    if (dhcp != NULL && strcmp(dhcp, "1") == 0) {
#ifdef CONFIG_NET_DHCPV4
        if ((err = z_dhcp4_start_locked(nif)) < 0) {
            report("ZSOCK_DHCP", dhcp, err);
        } else {
            return nif->index;
        }
#else
        report("ZSOCK_DHCP", dhcp, -ENOTSUP);
#endif
    }
    return 0;
}
#else
/* Every variable configures the TAP or pipe interface it names. */
static int configure_from_env(struct z_stack *s, int *v6_if)
{
    (void)s;
    (void)v6_if;
    return 0;
}
#endif /* ZSOCK_NO_HOSTED_DRIVERS */

/* Single-loop mode: always on the none port (no threads); on the posix
 * port when asked for by zsock_net_init_polled() or ZSOCK_CORE_THREAD=0. */
static bool single_loop_wanted(void)
{
#if defined(ZSOCK_PORT_NONE)
    return true;
#else
    const char *env = getenv("ZSOCK_CORE_THREAD");
    return want_polled || (env != NULL && strcmp(env, "0") == 0);
#endif
}

static void create_default(void)
{
    struct z_stack_config cfg = {.name = "default", .loopback = true};
    struct z_stack *s = z_stack_create(&cfg);
    if (s == NULL) {
        return;
    }
    z_stack_lock(s);
    s->is_default = true; /* set before any other thread can see s */
    s->polled = single_loop_wanted();
    int v6_if = 0;
    int dhcp_if = configure_from_env(s, &v6_if);
    z_stack_unlock(s);
    if (!s->polled && z_stack_start(s) < 0) {
        z_stack_destroy(s);
        return;
    }
    /* The core thread runs DAD meanwhile (a single-loop program runs it
     * itself, as it runs everything). */
    for (int64_t waited = 0; v6_if > 0 && !s->polled && waited < DAD_ENV_WAIT_MS * 1000LL;
         waited += 20000) {
        z_stack_lock(s);
        struct z_netif *nif = z_netif_by_index_locked(s, v6_if);
        bool pending = nif != NULL && z_ipv6_dad_pending_locked(nif);
        z_stack_unlock(s);
        if (!pending) {
            break;
        }
        z_stack_pause(s, 20000);
    }
#ifdef CONFIG_NET_DHCPV4
    if (dhcp_if > 0 && z_dhcp4_wait(s, dhcp_if, DHCP_ENV_WAIT_MS) < 0) {
        z_diag("zsock: ZSOCK_DHCP=1: no lease after %d ms, going on without", DHCP_ENV_WAIT_MS);
    }
#else
    (void)dhcp_if;
#endif
    default_stack = s;
    if (s->polled) {
        atomic_store_explicit(&polled_default, s, memory_order_release);
    }
}

struct z_stack *z_stack_polled_default(void)
{
    return atomic_load_explicit(&polled_default, memory_order_acquire);
}

struct z_stack *z_stack_default(void)
{
    z_once(&default_once, create_default);
    return default_stack;
}

int zsock_net_init(void)
{
    return z_stack_default() != NULL ? 0 : -ENOMEM;
}

int zsock_net_init_polled(void)
{
    want_polled = true; /* read by create_default(), if this call creates the stack */
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    return s->polled ? 0 : -EBUSY;
}

/* Longest wait zsock_net_process() reports; the tick keeps it near 100 ms. */
#define PROCESS_MAX_MS 1000

int zsock_net_process(int timeout_ms)
{
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    if (!s->polled) {
        return -EBUSY;
    }
    int64_t deadline = timeout_ms < 0 ? Z_FOREVER : z_deadline_after_us((int64_t)timeout_ms * 1000);
    int64_t next;
    int rc = z_stack_process(s, deadline, &next);
    if (rc < 0) {
        return rc;
    }
    int64_t wait_us = next - z_now_us();
    if (wait_us <= 0) {
        return 0;
    }
    if (wait_us >= (int64_t)PROCESS_MAX_MS * 1000) {
        return PROCESS_MAX_MS;
    }
    return (int)(((uint32_t)wait_us + 999) / 1000); /* rounded up; 32 bits suffice */
}

/* Run `op` on interface `ifindex` of the default stack with the lock held. */
#define WITH_IF(ifindex, nif, body)                                                                \
    do {                                                                                           \
        struct z_stack *s_ = z_stack_default();                                                    \
        if (s_ == NULL) {                                                                          \
            return -ENOMEM;                                                                        \
        }                                                                                          \
        z_stack_lock(s_);                                                                          \
        struct z_netif *nif = z_netif_by_index_locked(s_, (ifindex));                              \
        int rc_ = -ENODEV;                                                                         \
        if (nif != NULL) {                                                                         \
            body                                                                                   \
        }                                                                                          \
        z_stack_unlock(s_);                                                                        \
        return rc_;                                                                                \
    } while (0)

static int add_with(struct z_netif *(*add)(struct z_stack *, const char *, const char *, int *),
                    const char *a, const char *b)
{
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    int err = 0;
    z_stack_lock(s);
    struct z_netif *nif = add(s, a, b, &err);
    int rc = nif != NULL ? nif->index : err;
    z_stack_unlock(s);
    return rc;
}

static struct z_netif *tap_adapter(struct z_stack *s, const char *name, const char *unused,
                                   int *err)
{
    (void)unused;
    return z_tap_add_locked(s, name, err);
}

int zsock_if_add_tap(const char *ifname)
{
    if (ifname == NULL || strlen(ifname) >= IFNAMSIZ) {
        return -EINVAL;
    }
    return add_with(tap_adapter, ifname, NULL);
}

int zsock_if_add_pipe(const char *local, const char *peer)
{
    if (local == NULL || peer == NULL) {
        return -EINVAL;
    }
    return add_with(z_pipe_add_locked, local, peer);
}

int zsock_if_remove(int ifindex)
{
    WITH_IF(ifindex, nif, {
        if (nif->flags & ZSOCK_IF_LOOPBACK) {
            rc_ = -EPERM;
        } else {
            z_netif_remove_locked(nif);
            rc_ = 0;
        }
    });
}

int zsock_if_nametoindex(const char *name)
{
    struct z_stack *s = z_stack_default();
    if (s == NULL || name == NULL) {
        return s == NULL ? -ENOMEM : -EINVAL;
    }
    z_stack_lock(s);
    struct z_netif *nif = z_netif_by_name_locked(s, name);
    int rc = nif != NULL ? nif->index : -ENODEV;
    z_stack_unlock(s);
    return rc;
}

int zsock_if_up(int ifindex)
{
    WITH_IF(ifindex, nif, { rc_ = z_netif_set_up_locked(nif, true); });
}

int zsock_if_down(int ifindex)
{
    WITH_IF(ifindex, nif, { rc_ = z_netif_set_up_locked(nif, false); });
}

static bool valid_unicast(uint32_t a)
{
    return a != 0 && a != 0xffffffffu && (a >> 28) != 0xe && (a >> 28) != 0xf;
}

int zsock_if_add_ipv4(int ifindex, const struct in_addr *addr, int prefix_len)
{
    if (addr == NULL || prefix_len < 0 || prefix_len > 32 || !valid_unicast(ntohl(addr->s_addr))) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, {
        rc_ = z_netif_add_ipv4_locked(nif, ntohl(addr->s_addr), prefix_to_mask(prefix_len));
    });
}

int zsock_if_del_ipv4(int ifindex, const struct in_addr *addr)
{
    if (addr == NULL) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, { rc_ = z_netif_del_ipv4_locked(nif, ntohl(addr->s_addr)); });
}

int zsock_parse_ipv6_prefix(const char *text, struct in6_addr *addr, int *prefix_len)
{
    if (text == NULL || addr == NULL || prefix_len == NULL) {
        return -EINVAL;
    }
    char buf[80];
    if (strlen(text) >= sizeof(buf)) {
        return -EINVAL;
    }
    z_strlcpy(buf, text, sizeof(buf));
    char *slash = strchr(buf, '/');
    *prefix_len = 64;
    if (slash != NULL) {
        *slash = '\0';
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || v < 0 || v > 128) {
            return -EINVAL;
        }
        *prefix_len = (int)v;
    }
    return inet_pton(AF_INET6, buf, addr) == 1 ? 0 : -EINVAL;
}

/* An address a host may hold: not ::, multicast or IPv4-mapped. */
static bool valid_unicast6(const uint8_t a[16])
{
    return !z_ipv6_is_unspecified(a) && !z_ipv6_is_multicast(a) && !z_ipv6_is_v4mapped(a);
}

int zsock_if_add_ipv6(int ifindex, const struct in6_addr *addr, int prefix_len)
{
    if (addr == NULL || prefix_len < 1 || prefix_len > 128 || !valid_unicast6(addr->s6_addr)) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, {
        rc_ = z_ipv6_add_addr_locked(nif, addr->s6_addr, prefix_len, ZSOCK_IPV6_ORIGIN_MANUAL,
                                     Z_ND_INFINITE, Z_ND_INFINITE);
    });
}

int zsock_if_del_ipv6(int ifindex, const struct in6_addr *addr)
{
    if (addr == NULL) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, { rc_ = z_ipv6_del_addr_locked(nif, addr->s6_addr); });
}

int zsock_if_ipv6_router(int ifindex, struct in6_addr *out)
{
    if (out == NULL) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, {
        struct zsock_if_info info;
        memset(&info, 0, sizeof(info));
        z_ipv6_if_info_locked(nif, &info);
        *out = info.ipv6_router;
        rc_ = 0;
    });
}

int zsock_if_set_gateway(int ifindex, const struct in_addr *gw)
{
    if (gw == NULL) {
        return -EINVAL;
    }
    uint32_t g = ntohl(gw->s_addr);
    if (g != 0 && !valid_unicast(g)) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, {
        nif->gateway = g;
        rc_ = 0;
    });
}

int zsock_if_set_mtu(int ifindex, int mtu)
{
    /* 65536 is allowed: it is loopback's default, as on Linux. */
    if (mtu < 68 || mtu > 65536) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, {
        nif->mtu = (uint32_t)mtu;
        rc_ = 0;
    });
}

int zsock_if_set_mac(int ifindex, const uint8_t mac[6])
{
    if (mac == NULL || z_eth_is_multicast(mac)) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, {
        memcpy(nif->mac, mac, Z_ETH_ALEN);
        z_ipv6_mac_changed_locked(nif);
        rc_ = 0;
    });
}

int zsock_if_list(struct zsock_if_info *out, int max)
{
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    if (out == NULL && max > 0) {
        return -EINVAL;
    }
    int n = 0;
    z_stack_lock(s);
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next, n++) {
        if (n >= max) {
            continue;
        }
        struct zsock_if_info *i = &out[n];
        memset(i, 0, sizeof(*i));
        i->index = nif->index;
        memcpy(i->name, nif->name, IFNAMSIZ);
        i->flags = nif->flags;
        i->mtu = nif->mtu;
        memcpy(i->mac, nif->mac, 6);
        i->n_ipv4 = nif->n_ipv4;
        for (int k = 0; k < nif->n_ipv4; k++) {
            i->ipv4[k].s_addr = htonl(nif->ipv4[k].addr);
            i->prefix_len[k] = mask_to_prefix(nif->ipv4[k].mask);
        }
        i->gateway.s_addr = htonl(nif->gateway);
        z_strlcpy(i->kind, nif->drv->kind, sizeof(i->kind));
        z_ipv6_if_info_locked(nif, i);
    }
    z_stack_unlock(s);
    return n;
}

int zsock_if_stats(int ifindex, struct zsock_if_stats *out)
{
    if (out == NULL) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, {
        *out = nif->stats;
        rc_ = 0;
    });
}

int zsock_net_stats(struct zsock_net_stats *out)
{
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    if (out == NULL) {
        return -EINVAL;
    }
    z_stack_lock(s);
    *out = s->stats;
    z_stack_unlock(s);
    return 0;
}

int zsock_if_capture(int ifindex, const char *path)
{
    WITH_IF(ifindex, nif, { rc_ = z_capture_start_locked(nif, path); });
}

/* ---- DHCPv4 client ------------------------------------------------------------------------ */

int zsock_dhcp4_start(int ifindex)
{
#ifdef CONFIG_NET_DHCPV4
    WITH_IF(ifindex, nif, { rc_ = z_dhcp4_start_locked(nif); });
#else
    (void)ifindex;
    return -ENOTSUP;
#endif
}

int zsock_dhcp4_stop(int ifindex)
{
#ifdef CONFIG_NET_DHCPV4
    WITH_IF(ifindex, nif, { rc_ = z_dhcp4_stop_locked(nif); });
#else
    (void)ifindex;
    return -ENOTSUP;
#endif
}

int zsock_dhcp4_get(int ifindex, struct zsock_dhcp4_lease *out)
{
    if (out == NULL) {
        return -EINVAL;
    }
    WITH_IF(ifindex, nif, {
#ifdef CONFIG_NET_DHCPV4
        z_dhcp4_get_locked(nif, out);
#else
        memset(out, 0, sizeof(*out)); /* no client in this build: OFF */
#endif
        rc_ = 0;
    });
}

int zsock_dhcp4_wait(int ifindex, int timeout_ms)
{
#ifdef CONFIG_NET_DHCPV4
    struct z_stack *s = z_stack_default();
    return s != NULL ? z_dhcp4_wait(s, ifindex, timeout_ms) : -ENOMEM;
#else
    (void)ifindex;
    (void)timeout_ms;
    return -ENOTSUP;
#endif
}
