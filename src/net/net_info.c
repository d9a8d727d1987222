/* Read-only views of the default stack (include/zsock/net_info.h): the
 * neighbor caches, the routes, the connection table and a ping. Each view
 * copies under the stack's lock. The connection table reads the TCP and UDP
 * pcb lists (tcp_pcb.h, udp.h) without changing them. */
#include "net/net.h"
#include "net/tcp_pcb.h"
#include "net/udp.h"
#if CONFIG_NET_IPV6
#include "net/ip6.h"
#endif
#include "port/port.h"

#include <zsock/net_if.h>
#include <zsock/net_info.h>

#include <errno.h>
#include <string.h>

/* The default stack, locked; NULL (nothing locked) if it cannot be made. */
static struct z_stack *lock_default(void)
{
    struct z_stack *s = z_stack_default();
    if (s != NULL) {
        z_stack_lock(s);
    }
    return s;
}

/* The default stack, locked, for a call listing into out[max]; NULL with
 * *err set: -EINVAL (no array for max > 0 entries), -ENOMEM (no stack). */
static struct z_stack *lock_for_list(const void *out, int max, int *err)
{
    if (out == NULL && max > 0) {
        *err = -EINVAL;
        return NULL;
    }
    struct z_stack *s = lock_default();
    if (s == NULL) {
        *err = -ENOMEM;
    }
    return s;
}

static struct in_addr in4(uint32_t host_order)
{
    struct in_addr a = {.s_addr = htonl(host_order)};
    return a;
}

/* out[n] cleared and given the interface and family; NULL past max (the
 * entry is only counted). */
static struct zsock_neigh_info *neigh_at(struct zsock_neigh_info *out, int max, int n,
                                         const struct z_netif *nif, int family)
{
    if (n >= max) {
        return NULL;
    }
    struct zsock_neigh_info *o = &out[n];
    memset(o, 0, sizeof(*o));
    o->ifindex = nif->index;
    o->family = family;
    return o;
}

int zsock_neigh_list(struct zsock_neigh_info *out, int max)
{
    int err;
    struct z_stack *s = lock_for_list(out, max, &err);
    if (s == NULL) {
        return err;
    }
    int n = 0;
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        for (int i = 0; nif->arp != NULL && i < CONFIG_NET_ARP_ENTRIES; i++) {
            const struct z_arp_entry *e = &nif->arp[i];
            if (e->state == Z_ARP_FREE) {
                continue;
            }
            struct zsock_neigh_info *o = neigh_at(out, max, n++, nif, AF_INET);
            if (o != NULL) {
                o->addr4 = in4(e->ip);
                memcpy(o->mac, e->mac, 6);
                o->state = e->state; /* the same numbers as enum zsock_neigh_state */
                o->pending = e->pending.n;
            }
        }
#if CONFIG_NET_IPV6
        for (int i = 0; nif->ip6 != NULL && i < CONFIG_NET_ARP_ENTRIES; i++) {
            const struct z_nd_entry *e = &nif->ip6->nc[i];
            if (e->state == Z_ND_FREE) {
                continue;
            }
            struct zsock_neigh_info *o = neigh_at(out, max, n++, nif, AF_INET6);
            if (o != NULL) {
                memcpy(&o->addr6, e->ip, 16);
                memcpy(o->mac, e->mac, 6);
                o->state = e->state; /* Z_ND_* are RFC 4861's order, as the enum */
                o->router = e->router;
                o->pending = e->pending.n;
            }
        }
#endif
    }
    z_stack_unlock(s);
    return n;
}

/* A route of the family on the interface, all else zero. */
static struct zsock_route_info route_on(int ifindex, int family)
{
    struct zsock_route_info r;
    memset(&r, 0, sizeof(r));
    r.ifindex = ifindex;
    r.family = family;
    return r;
}

/* out[*n] = *r where there is room; counts it either way (the caller
 * returns how many there are). */
static void put_route(struct zsock_route_info *out, int max, int *n,
                      const struct zsock_route_info *r)
{
    if (*n < max) {
        out[*n] = *r;
    }
    (*n)++;
}

int zsock_route_list(struct zsock_route_info *out, int max)
{
    if (out == NULL && max > 0) {
        return -EINVAL;
    }
    /* The routes follow from the interfaces' addresses and gateways. */
    int nif = zsock_if_list(NULL, 0);
    if (nif < 0) {
        return nif;
    }
    struct zsock_if_info *ifs = z_calloc((size_t)nif + 1, sizeof(*ifs));
    if (ifs == NULL) {
        return -ENOMEM;
    }
    nif = zsock_if_list(ifs, nif + 1);
    int n = 0;
    for (int pass = 0; pass < 2; pass++) { /* prefixes first, then defaults */
        for (int i = 0; i < nif; i++) {
            const struct zsock_if_info *f = &ifs[i];
            struct zsock_route_info r;
            for (int a = 0; pass == 0 && a < f->n_ipv4 && a < 4; a++) {
                r = route_on(f->index, AF_INET);
                r.prefix_len = f->prefix_len[a];
                uint32_t mask = r.prefix_len == 0 ? 0 : 0xffffffffu << (32 - r.prefix_len);
                r.dst4.s_addr = htonl(ntohl(f->ipv4[a].s_addr) & mask);
                put_route(out, max, &n, &r);
            }
            if (pass == 1 && f->gateway.s_addr != 0) {
                r = route_on(f->index, AF_INET);
                r.gateway4 = f->gateway;
                put_route(out, max, &n, &r);
            }
            for (int a = 0; pass == 0 && a < f->n_ipv6 && a < ZSOCK_IPV6_MAX_ADDRS; a++) {
                /* Link-local and host (/128) addresses make no route. */
                if (f->ipv6_prefix_len[a] >= 128 ||
                    f->ipv6_origin[a] == ZSOCK_IPV6_ORIGIN_LINK_LOCAL) {
                    continue;
                }
                r = route_on(f->index, AF_INET6);
                r.prefix_len = f->ipv6_prefix_len[a];
                for (int b = 0; b < 16; b++) {
                    int bits = r.prefix_len - 8 * b;
                    uint8_t m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
                    r.dst6.s6_addr[b] = f->ipv6[a].s6_addr[b] & m;
                }
                put_route(out, max, &n, &r);
            }
            static const struct in6_addr none6;
            if (pass == 1 && memcmp(&f->ipv6_router, &none6, sizeof(none6)) != 0) {
                r = route_on(f->index, AF_INET6);
                r.gateway6 = f->ipv6_router;
                put_route(out, max, &n, &r);
            }
        }
    }
    z_free(ifs);
    return n;
}

/* The entry's protocol and both ends (IPv4 or IPv6 fields by the local end's version). */
static void fill_ends(struct zsock_conn_info *o, int protocol, const struct z_ipep *l,
                      const struct z_ipep *r)
{
    memset(o, 0, sizeof(*o));
    o->protocol = protocol;
    o->family = AF_INET;
    o->lport = l->port;
    o->rport = r->port;
    o->laddr = in4(l->a4);
    o->raddr = in4(r->a4);
#if CONFIG_NET_IPV6
    if (l->fam == Z_FAM6) {
        o->family = AF_INET6;
        memcpy(o->laddr6.s6_addr, l->a6, 16);
        memcpy(o->raddr6.s6_addr, r->a6, 16);
        o->scope_id = (int)(l->scope != 0 ? l->scope : r->scope);
    }
#endif
}

int zsock_conn_list(struct zsock_conn_info *out, int max)
{
    int err;
    struct z_stack *s = lock_for_list(out, max, &err);
    if (s == NULL) {
        return err;
    }
    int n = 0;
    for (const struct z_tcp_pcb *p = s->tcp_pcbs; p != NULL; p = p->next, n++) {
        if (n >= max) {
            continue;
        }
        struct zsock_conn_info *o = &out[n];
        struct z_ipep l, r;
        z_tcp_pcb_local(p, &l);
        z_tcp_pcb_peer(p, &r);
        fill_ends(o, IPPROTO_TCP, &l, &r);
        o->state = p->listening ? Z_TCP_LISTEN : (int)p->conn.state;
        strncpy(o->state_name, z_tcp_state_name((enum z_tcp_state)o->state),
                sizeof(o->state_name) - 1);
        o->send_queue = (uint32_t)p->conn.snd.len;
        o->recv_queue = (uint32_t)p->conn.rcv.len;
        o->backlog = p->listening ? p->acc_len : 0;
    }
    for (const struct z_udp_pcb *p = s->udp_pcbs; p != NULL; p = p->next, n++) {
        if (n >= max) {
            continue;
        }
        struct zsock_conn_info *o = &out[n];
        struct z_ipep l, r;
        z_udp_local(p, &l);
        z_udp_peer(p, &r);
        fill_ends(o, IPPROTO_UDP, &l, &r);
        o->recv_queue = (uint32_t)p->rx.len;
    }
    z_stack_unlock(s);
    return n;
}

/* ---- ping: one request in flight per process -------------------------------------------- */

static struct {
    bool active;   /* a zsock_ping() waits */
    uint32_t dst;  /* host order */
    uint32_t rest; /* id << 16 | seq */
    bool replied;
    int64_t replied_us;
} ping;

/* An echo reply from src (host order) with id << 16 | seq `rest` (the
 * stack's echo_reply_hook, lock held): ends the wait of zsock_ping(). */
static void ping_reply_locked(struct z_stack *s, uint32_t src, uint32_t rest)
{
    if (ping.active && !ping.replied && src == ping.dst && rest == ping.rest) {
        ping.replied = true;
        ping.replied_us = z_stack_now_us(s);
    }
}

int zsock_ping(const struct sockaddr *dst, socklen_t dstlen, uint16_t id, uint16_t seq,
               int payload_len, int timeout_ms, uint32_t *rtt_us)
{
    if (dst == NULL || rtt_us == NULL || payload_len < 0 || payload_len > 1400 || timeout_ms < 0) {
        return -EINVAL;
    }
    if (dst->sa_family != AF_INET) {
        return -EAFNOSUPPORT;
    }
    if (dstlen < (socklen_t)sizeof(struct sockaddr_in)) {
        return -EINVAL;
    }
    uint32_t daddr = ntohl(((const struct sockaddr_in *)dst)->sin_addr.s_addr);
    struct z_stack *s = lock_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    if (ping.active) {
        z_stack_unlock(s);
        return -EBUSY;
    }
    struct z_netif *nif;
    uint32_t nh;
    if (z_ipv4_route_locked(s, daddr, 0, &nif, &nh) < 0) {
        z_stack_unlock(s);
        return -EHOSTUNREACH;
    }
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, Z_ICMP_HLEN + (size_t)payload_len);
    if (p == NULL) {
        z_stack_unlock(s);
        return -ENOMEM;
    }
    uint8_t data[1400];
    for (int i = 0; i < payload_len; i++) {
        data[i] = (uint8_t)i; /* as Linux's ping fills it, after its timestamp */
    }
    struct z_icmp_hdr h = {.type = Z_ICMP_ECHO_REQUEST, .rest = (uint32_t)id << 16 | seq};
    uint8_t *at = z_pbuf_put(p, Z_ICMP_HLEN + (size_t)payload_len);
    z_icmp_emit(at, Z_ICMP_HLEN + (size_t)payload_len, &h, data, (size_t)payload_len);
    ping.active = true;
    ping.replied = false;
    ping.dst = daddr;
    ping.rest = h.rest;
    s->echo_reply_hook = ping_reply_locked;
    int64_t t0 = z_stack_now_us(s);
    struct z_ipv4_tx tx = {.dst = daddr, .proto = Z_IPPROTO_ICMP, .ttl = CONFIG_NET_IPV4_TTL};
    s->stats.icmp.tx++;
    int rc = z_ipv4_output_locked(s, &tx, p);
    bool polled = s->polled;
    /* Wait for the reply: the core thread (or, in single-loop mode, our
     * calls to zsock_net_process()) delivers it to z_ping_reply_locked(). */
    int64_t deadline = t0 + (int64_t)timeout_ms * 1000;
    while (rc >= 0 && !ping.replied && z_stack_now_us(s) < deadline) {
        z_stack_unlock(s);
        if (polled) {
            zsock_net_process(1);
        } else {
            z_sleep_us(200);
        }
        z_stack_lock(s);
    }
    if (rc >= 0) {
        rc = ping.replied ? 0 : -ETIMEDOUT;
        *rtt_us = ping.replied ? (uint32_t)(ping.replied_us - t0) : 0;
    }
    ping.active = false;
    z_stack_unlock(s);
    return rc < 0 && rc != -ETIMEDOUT ? -EHOSTUNREACH : rc;
}
