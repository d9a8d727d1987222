/* IPv6 (RFC 8200): per-interface addresses and their lifetimes, input
 * validation and the extension header walk (src/wire/ipv6.c), reassembly
 * bounded in count, bytes and time (overlaps drop the datagram, RFC 5722),
 * routing (on-link prefixes, link-local scope, default routers), source
 * address selection (RFC 6724 5), output with fragmentation at the path MTU,
 * and the destination cache that remembers path MTUs (RFC 8201). Neighbor
 * discovery is nd.c, ICMPv6 icmp6.c, MLD mld.c. */
#include "net/ip6.h"
#include "net/raw.h"
#include "net/tcp_pcb.h"
#include "net/udp.h"

#include <errno.h>
#include <string.h>

#define ICMP6_ERRORS_PER_TICK 100 /* 1000/s, as ICMPv4 */

int64_t z_ip6_random_us(struct z_ip6_if *ip6, int64_t lo, int64_t hi)
{
    /* xorshift32: protocol timers need spread, not secrecy (RFC 4861 and
     * 3810 ask for uniform delays), and a seeded generator keeps a
     * simulation repeatable. */
    uint32_t x = ip6->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ip6->rng = x;
    if (hi <= lo) {
        return lo;
    }
    return lo + (int64_t)(x % (uint64_t)(hi - lo + 1));
}

static int64_t lifetime_end(int64_t now, uint32_t s)
{
    return s == Z_ND_INFINITE ? INT64_MAX : now + (int64_t)s * 1000000;
}

/* ---- stack and interface state ---------------------------------------------------------- */

int z_ipv6_stack_init(struct z_stack *s)
{
    s->ip6 = z_calloc(1, sizeof(*s->ip6));
    if (s->ip6 == NULL) {
        return -ENOMEM;
    }
    z_entropy(&s->ip6->frag_id, sizeof(s->ip6->frag_id));
    s->ip6->icmp_tokens = ICMP6_ERRORS_PER_TICK;
    return 0;
}

void z_ipv6_stack_destroy(struct z_stack *s)
{
    if (s->ip6 == NULL) {
        return;
    }
    z_reasm_flush(&s->ip6->reasm);
    z_free(s->ip6);
    s->ip6 = NULL;
}

int z_ipv6_if_attach_locked(struct z_netif *nif)
{
    struct z_ip6_if *ip6 = z_calloc(1, sizeof(*ip6));
    if (ip6 == NULL) {
        return -ENOMEM;
    }
    if (nif->stack->virtual_clock) {
        /* A simulated host: the same seed every run (from its MAC). */
        ip6->rng = 2166136261u;
        for (int i = 0; i < Z_ETH_ALEN; i++) {
            ip6->rng = (ip6->rng ^ nif->mac[i]) * 16777619u;
        }
    } else {
        z_entropy(&ip6->rng, sizeof(ip6->rng));
    }
    ip6->rng |= 1; /* xorshift never leaves 0 */
    ip6->hop_limit = Z_IP6_HOP_LIMIT;
    ip6->base_reachable_ms = Z_ND_REACHABLE_MS;
    ip6->retrans_us = Z_ND_RETRANS_US;
    ip6->general_report_at = INT64_MAX;
    z_nd_new_reachable(ip6);
    nif->ip6 = ip6;
    return 0;
}

void z_ipv6_if_detach_locked(struct z_netif *nif)
{
    if (nif->ip6 == NULL) {
        return;
    }
    /* Reassembly slots name their interface by index: nothing to undo there. */
    z_nd_flush_locked(nif);
    z_free(nif->ip6);
    nif->ip6 = NULL;
}

struct z_ip6_addr *z_ip6_find_addr(struct z_netif *nif, const uint8_t a[Z_IPV6_ALEN])
{
    if (nif->ip6 == NULL) {
        return NULL;
    }
    for (int i = 0; i < Z_IP6_MAX_ADDRS; i++) {
        struct z_ip6_addr *x = &nif->ip6->addrs[i];
        if (x->state != 0 && memcmp(x->addr, a, Z_IPV6_ALEN) == 0) {
            return x;
        }
    }
    return NULL;
}

static bool addr_usable(const struct z_ip6_addr *a)
{
    return a->state == ZSOCK_IPV6_PREFERRED || a->state == ZSOCK_IPV6_DEPRECATED;
}

const struct z_ip6_addr *z_ip6_link_local(const struct z_netif *nif)
{
    if (nif->ip6 == NULL) {
        return NULL;
    }
    for (int i = 0; i < Z_IP6_MAX_ADDRS; i++) {
        const struct z_ip6_addr *a = &nif->ip6->addrs[i];
        if (addr_usable(a) && z_ipv6_is_link_local(a->addr)) {
            return a;
        }
    }
    return NULL;
}

bool z_ipv6_is_local_locked(struct z_stack *s, const uint8_t a[16])
{
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (z_ip6_find_addr(nif, a) != NULL) {
            return true;
        }
    }
    return false;
}

uint32_t z_ip6_link_mtu(const struct z_netif *nif)
{
    uint32_t mtu = nif->mtu;
    if (nif->ip6 != NULL && nif->ip6->mtu != 0 && nif->ip6->mtu < mtu) {
        mtu = nif->ip6->mtu;
    }
    return mtu < Z_IPV6_MIN_MTU ? Z_IPV6_MIN_MTU : mtu;
}

static bool is_ethernet(const struct z_netif *nif)
{
    return (nif->flags & ZSOCK_IF_ETHERNET) != 0;
}

int z_ipv6_add_addr_locked(struct z_netif *nif, const uint8_t addr[16], int plen, int origin,
                           uint32_t valid_s, uint32_t preferred_s)
{
    struct z_ip6_if *ip6 = nif->ip6;
    if (ip6 == NULL) {
        return -ENOMEM;
    }
    if (z_ip6_find_addr(nif, addr) != NULL) {
        return -EEXIST;
    }
    struct z_ip6_addr *a = NULL;
    for (int i = 0; i < Z_IP6_MAX_ADDRS && a == NULL; i++) {
        if (ip6->addrs[i].state == 0) {
            a = &ip6->addrs[i];
        }
    }
    if (a == NULL) {
        return -ENOSPC;
    }
    int64_t now = z_stack_now_us(nif->stack);
    memset(a, 0, sizeof(*a));
    memcpy(a->addr, addr, Z_IPV6_ALEN);
    a->plen = (uint8_t)plen;
    a->origin = (uint8_t)origin;
    a->valid_until = lifetime_end(now, valid_s);
    a->preferred_until = lifetime_end(now, preferred_s);
    a->state = ZSOCK_IPV6_TENTATIVE;
    if (!is_ethernet(nif)) {
        /* No neighbors on loopback (or a raw-IP link): nothing to detect. */
        a->state = ZSOCK_IPV6_PREFERRED;
        return 0;
    }
    /* Join the solicited-node group before DAD (RFC 4862 5.4.2). */
    uint8_t sn[Z_IPV6_ALEN];
    z_ipv6_solicited_node(addr, sn);
    z_mld_join_locked(nif, sn);
    if (nif->flags & ZSOCK_IF_UP) {
        z_nd_start_dad_locked(nif, a);
    }
    return 0;
}

void z_ip6_addr_release(struct z_netif *nif, struct z_ip6_addr *a)
{
    if (a->state != ZSOCK_IPV6_DUPLICATE && is_ethernet(nif)) {
        uint8_t sn[Z_IPV6_ALEN];
        z_ipv6_solicited_node(a->addr, sn);
        z_mld_leave_locked(nif, sn);
    }
    memset(a, 0, sizeof(*a));
}

int z_ipv6_del_addr_locked(struct z_netif *nif, const uint8_t addr[16])
{
    struct z_ip6_addr *a = z_ip6_find_addr(nif, addr);
    if (a == NULL) {
        return -EADDRNOTAVAIL;
    }
    z_ip6_addr_release(nif, a);
    return 0;
}

void z_ip6_addr_dad_done(struct z_netif *nif, struct z_ip6_addr *a, bool duplicate)
{
    struct z_stack *s = nif->stack;
    if (duplicate) {
        s->stats.icmp6.dad_fail++;
        uint8_t sn[Z_IPV6_ALEN];
        z_ipv6_solicited_node(a->addr, sn);
        z_mld_leave_locked(nif, sn);
        a->state = ZSOCK_IPV6_DUPLICATE;
        if (a->origin == ZSOCK_IPV6_ORIGIN_LINK_LOCAL) {
            /* RFC 4862 5.4.5: our MAC-derived identifier is another node's,
             * so every address made from it would be too. */
            z_diag("zsock: %s: duplicate link-local address, IPv6 disabled", nif->name);
            nif->ip6->disabled = true;
            nif->ip6->rs_left = 0;
        }
        return;
    }
    s->stats.icmp6.dad_ok++;
    a->state =
        z_stack_now_us(s) >= a->preferred_until ? ZSOCK_IPV6_DEPRECATED : ZSOCK_IPV6_PREFERRED;
}

void z_ipv6_mac_changed_locked(struct z_netif *nif)
{
    if (nif->ip6 == NULL || !is_ethernet(nif)) {
        return;
    }
    /* Addresses made from the old MAC go; the next RA forms new SLAAC ones. */
    for (int i = 0; i < Z_IP6_MAX_ADDRS; i++) {
        struct z_ip6_addr *a = &nif->ip6->addrs[i];
        if (a->state != 0 &&
            (a->origin == ZSOCK_IPV6_ORIGIN_LINK_LOCAL || a->origin == ZSOCK_IPV6_ORIGIN_SLAAC)) {
            z_ip6_addr_release(nif, a);
        }
    }
    nif->ip6->disabled = false;
    if (nif->flags & ZSOCK_IF_UP) {
        z_ipv6_if_up_locked(nif); /* a new link-local address, DAD, router solicitation */
    }
}

int z_ipep_take_scope(struct z_stack *s, const struct z_ipep *ep, bool mcast, int *ifindex)
{
    bool link_mcast = mcast && z_ipv6_is_multicast(ep->a6) && (ep->a6[1] & 0xf) <= 2;
    if (!z_ipv6_is_link_local(ep->a6) && !link_mcast) {
        return 0;
    }
    if (ep->scope != 0) {
        if (*ifindex != 0 && *ifindex != (int)ep->scope) {
            return -EINVAL;
        }
        if (z_netif_by_index_locked(s, (int)ep->scope) == NULL) {
            return -ENODEV;
        }
        *ifindex = (int)ep->scope;
        return 0;
    }
    return *ifindex != 0 || link_mcast ? 0 : -EINVAL;
}

bool z_ipv6_bindable_locked(struct z_stack *s, const uint8_t a[16], int ifindex)
{
    if (z_ipv6_is_link_local(a) && ifindex != 0) {
        struct z_netif *nif = z_netif_by_index_locked(s, ifindex);
        return nif != NULL && z_ip6_find_addr(nif, a) != NULL;
    }
    return z_ipv6_is_local_locked(s, a);
}

bool z_ipv6_dad_pending_locked(const struct z_netif *nif)
{
    for (int i = 0; nif->ip6 != NULL && i < Z_IP6_MAX_ADDRS; i++) {
        if (nif->ip6->addrs[i].state == ZSOCK_IPV6_TENTATIVE) {
            return true;
        }
    }
    return false;
}

void z_ipv6_if_up_locked(struct z_netif *nif)
{
    struct z_ip6_if *ip6 = nif->ip6;
    if (ip6 == NULL) {
        return;
    }
    if (!is_ethernet(nif)) {
        if ((nif->flags & ZSOCK_IF_LOOPBACK) && z_ip6_find_addr(nif, z_ipv6_loopback) == NULL) {
            z_ipv6_add_addr_locked(nif, z_ipv6_loopback, 128, ZSOCK_IPV6_ORIGIN_MANUAL,
                                   Z_ND_INFINITE, Z_ND_INFINITE);
        }
        return;
    }
    ip6->disabled = false; /* a link coming (back) up gets another chance */
    if (!z_mld_is_member(nif, z_ipv6_all_nodes)) {
        z_mld_join_locked(nif, z_ipv6_all_nodes);
    }
    z_mld_up_locked(nif);
    /* Every address is checked again on a link that comes (back) up. */
    bool have_ll = false;
    for (int i = 0; i < Z_IP6_MAX_ADDRS; i++) {
        struct z_ip6_addr *a = &ip6->addrs[i];
        if (a->state == 0) {
            continue;
        }
        have_ll = have_ll || a->origin == ZSOCK_IPV6_ORIGIN_LINK_LOCAL;
        if (a->state != ZSOCK_IPV6_DUPLICATE || a->origin == ZSOCK_IPV6_ORIGIN_LINK_LOCAL) {
            z_nd_start_dad_locked(nif, a);
        }
    }
    if (!have_ll) {
        uint8_t ll[Z_IPV6_ALEN] = {0xfe, 0x80};
        z_ipv6_eui64(nif->mac, ll + 8);
        z_ipv6_add_addr_locked(nif, ll, 64, ZSOCK_IPV6_ORIGIN_LINK_LOCAL, Z_ND_INFINITE,
                               Z_ND_INFINITE);
    }
    z_nd_start_rs_locked(nif);
}

void z_ipv6_if_down_locked(struct z_netif *nif)
{
    struct z_ip6_if *ip6 = nif->ip6;
    if (ip6 == NULL) {
        return;
    }
    z_nd_flush_locked(nif);
    memset(ip6->routers, 0, sizeof(ip6->routers));
    ip6->rs_left = 0;
    ip6->general_report_at = INT64_MAX;
}

void z_ipv6_if_info_locked(const struct z_netif *nif, struct zsock_if_info *out)
{
    out->n_ipv6 = 0;
    if (nif->ip6 == NULL) {
        return;
    }
    if (nif->ip6->disabled) {
        out->flags |= ZSOCK_IF_IPV6_DISABLED;
    }
    for (int i = 0; i < Z_IP6_MAX_ADDRS; i++) {
        const struct z_ip6_addr *a = &nif->ip6->addrs[i];
        if (a->state == 0) {
            continue;
        }
        int k = out->n_ipv6++;
        memcpy(&out->ipv6[k], a->addr, Z_IPV6_ALEN);
        out->ipv6_prefix_len[k] = a->plen;
        out->ipv6_state[k] = a->state;
        out->ipv6_origin[k] = a->origin;
    }
    const struct z_ip6_router *r = z_nd_default_router((struct z_netif *)nif);
    if (r != NULL) {
        memcpy(&out->ipv6_router, r->addr, Z_IPV6_ALEN);
    }
}

bool z_ipv6_mcast_mac_wanted(const struct z_netif *nif, const uint8_t mac[Z_ETH_ALEN])
{
    if (mac[0] != 0x33 || mac[1] != 0x33) {
        return true; /* not IPv6 multicast: the other protocols decide */
    }
    if (nif->ip6 == NULL) {
        return false;
    }
    for (int i = 0; i < Z_IP6_MAX_GROUPS; i++) {
        const struct z_mld_group *g = &nif->ip6->groups[i];
        if (g->refs > 0 && memcmp(g->addr + 12, mac + 2, 4) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- addresses over time ------------------------------------------------------------------ */

static void addrs_tick(struct z_netif *nif, int64_t now)
{
    for (int i = 0; i < Z_IP6_MAX_ADDRS; i++) {
        struct z_ip6_addr *a = &nif->ip6->addrs[i];
        if (a->state == 0) {
            continue;
        }
        if (now >= a->valid_until) {
            z_ip6_addr_release(nif, a);
            continue;
        }
        if (a->state == ZSOCK_IPV6_TENTATIVE && a->dad_sent && now >= a->dad_deadline) {
            z_ip6_addr_dad_done(nif, a, false);
        }
        if (a->state == ZSOCK_IPV6_PREFERRED && now >= a->preferred_until) {
            a->state = ZSOCK_IPV6_DEPRECATED;
        }
    }
}

/* ---- routing and source selection ------------------------------------------------------- */

static struct z_netif *loopback_if(struct z_stack *s)
{
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if ((nif->flags & ZSOCK_IF_LOOPBACK) && (nif->flags & ZSOCK_IF_UP) && nif->ip6 != NULL) {
            return nif;
        }
    }
    return NULL;
}

static bool usable_if(const struct z_netif *nif)
{
    return (nif->flags & ZSOCK_IF_UP) && !(nif->flags & ZSOCK_IF_LOOPBACK) && nif->ip6 != NULL &&
           !nif->ip6->disabled;
}

static bool on_link(const struct z_netif *nif, const uint8_t dst[16], int64_t now)
{
    if (z_ipv6_is_link_local(dst) || z_ipv6_is_multicast(dst)) {
        return true;
    }
    const struct z_ip6_if *ip6 = nif->ip6;
    for (int i = 0; i < Z_IP6_MAX_PREFIXES; i++) {
        const struct z_ip6_prefix *p = &ip6->prefixes[i];
        if (p->used && now < p->expires && z_ipv6_prefix_eq(p->prefix, dst, p->plen)) {
            return true;
        }
    }
    /* A manual address's prefix is on-link, as `ip addr add` makes it on Linux. */
    for (int i = 0; i < Z_IP6_MAX_ADDRS; i++) {
        const struct z_ip6_addr *a = &ip6->addrs[i];
        if (a->state != 0 && a->origin == ZSOCK_IPV6_ORIGIN_MANUAL && a->plen < 128 &&
            z_ipv6_prefix_eq(a->addr, dst, a->plen)) {
            return true;
        }
    }
    return false;
}

int z_ipv6_route_locked(struct z_stack *s, const uint8_t dst[16], int ifindex, struct z_netif **out,
                        uint8_t next_hop[16])
{
    int64_t now = z_stack_now_us(s);
    memcpy(next_hop, dst, Z_IPV6_ALEN);
    if (z_ipv6_is_loopback(dst) || (ifindex == 0 && z_ipv6_is_local_locked(s, dst))) {
        *out = loopback_if(s); /* traffic to ourselves goes over loopback, as on Linux */
        return *out != NULL ? 0 : -ENETUNREACH;
    }
    if (ifindex != 0) {
        struct z_netif *nif = z_netif_by_index_locked(s, ifindex);
        if (nif == NULL || !(nif->flags & ZSOCK_IF_UP) || nif->ip6 == NULL) {
            return -ENETDOWN;
        }
        *out = nif;
        if ((nif->flags & ZSOCK_IF_LOOPBACK) || on_link(nif, dst, now)) {
            return 0;
        }
        const struct z_ip6_router *r = z_nd_default_router(nif);
        if (r == NULL) {
            return -ENETUNREACH;
        }
        memcpy(next_hop, r->addr, Z_IPV6_ALEN);
        return 0;
    }
    if (z_ipv6_is_link_local(dst) || z_ipv6_is_multicast(dst)) {
        /* No scope given: the first link. */
        for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
            if (usable_if(nif)) {
                *out = nif;
                return 0;
            }
        }
        return -ENETUNREACH;
    }
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (usable_if(nif) && on_link(nif, dst, now)) {
            *out = nif;
            return 0;
        }
    }
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        const struct z_ip6_router *r = usable_if(nif) ? z_nd_default_router(nif) : NULL;
        if (r != NULL) {
            *out = nif;
            memcpy(next_hop, r->addr, Z_IPV6_ALEN);
            return 0;
        }
    }
    return -ENETUNREACH;
}

/* RFC 6724 5: is candidate b better than a as a source toward dst? */
static bool better_source(const struct z_ip6_addr *a, const struct z_ip6_addr *b,
                          const uint8_t dst[16])
{
    /* Rule 1: the destination itself. */
    if (memcmp(a->addr, dst, Z_IPV6_ALEN) == 0) {
        return false;
    }
    if (memcmp(b->addr, dst, Z_IPV6_ALEN) == 0) {
        return true;
    }
    /* Rule 2: appropriate scope. */
    unsigned sa = z_ipv6_scope(a->addr), sb = z_ipv6_scope(b->addr), sd = z_ipv6_scope(dst);
    if (sa < sb) {
        return sa < sd;
    }
    if (sb < sa) {
        return !(sb < sd);
    }
    /* Rule 3: avoid deprecated addresses. */
    bool da = a->state == ZSOCK_IPV6_DEPRECATED, db = b->state == ZSOCK_IPV6_DEPRECATED;
    if (da != db) {
        return da;
    }
    /* Rule 8: longest matching prefix. */
    return z_ipv6_prefix_match(b->addr, dst) > z_ipv6_prefix_match(a->addr, dst);
}

int z_ipv6_select_source(const struct z_netif *nif, const uint8_t dst[16], uint8_t out[16])
{
    if (nif->ip6 == NULL) {
        return -EADDRNOTAVAIL;
    }
    if ((nif->flags & ZSOCK_IF_LOOPBACK) && z_ipv6_is_local_locked(nif->stack, dst)) {
        memcpy(out, dst, Z_IPV6_ALEN); /* to ourselves: from the same address (rule 1) */
        return 0;
    }
    const struct z_ip6_addr *best = NULL;
    for (int i = 0; i < Z_IP6_MAX_ADDRS; i++) {
        const struct z_ip6_addr *a = &nif->ip6->addrs[i];
        if (addr_usable(a) && (best == NULL || better_source(best, a, dst))) {
            best = a;
        }
    }
    if (best == NULL) {
        return -EADDRNOTAVAIL;
    }
    memcpy(out, best->addr, Z_IPV6_ALEN);
    return 0;
}

/* ---- destination cache (path MTU) -------------------------------------------------------- */

static struct z_ip6_dest *dest_find(struct z_stack *s, const uint8_t dst[16])
{
    int64_t now = z_stack_now_us(s);
    for (int i = 0; i < Z_IP6_DEST_CACHE; i++) {
        struct z_ip6_dest *d = &s->ip6->dest[i];
        if (d->pmtu != 0 && now < d->expires && memcmp(d->dst, dst, Z_IPV6_ALEN) == 0) {
            return d;
        }
    }
    return NULL;
}

void z_ip6_pmtu_update(struct z_stack *s, const uint8_t dst[Z_IPV6_ALEN], uint32_t mtu)
{
    /* RFC 8201 4: never below the IPv6 minimum (fragments are then sent to
     * a link that needs them: RFC 8200 dropped the atomic-fragment case). */
    if (mtu < Z_IPV6_MIN_MTU) {
        mtu = Z_IPV6_MIN_MTU;
    }
    int64_t now = z_stack_now_us(s);
    struct z_ip6_dest *d = dest_find(s, dst);
    if (d != NULL && d->pmtu <= mtu) {
        return; /* only a decrease is news (increases come from aging) */
    }
    if (d == NULL) {
        /* A free or expired slot, else the one closest to expiry. */
        for (int i = 0; i < Z_IP6_DEST_CACHE; i++) {
            struct z_ip6_dest *x = &s->ip6->dest[i];
            if (x->pmtu == 0 || now >= x->expires) {
                d = x;
                break;
            }
            if (d == NULL || x->expires < d->expires) {
                d = x;
            }
        }
    }
    memcpy(d->dst, dst, Z_IPV6_ALEN);
    d->pmtu = mtu;
    d->expires = now + Z_IP6_PMTU_AGE_US;
    s->stats.ipv6.pmtu_updates++;
}

uint32_t z_ipv6_path_mtu_locked(struct z_stack *s, const struct z_netif *nif, const uint8_t dst[16])
{
    uint32_t mtu = z_ip6_link_mtu(nif);
    const struct z_ip6_dest *d = dest_find(s, dst);
    return d != NULL && d->pmtu < mtu ? d->pmtu : mtu;
}

/* ---- output ------------------------------------------------------------------------------ */

int z_ip6_link_output(struct z_netif *nif, const uint8_t nh[Z_IPV6_ALEN], struct z_pbuf *p)
{
    if (nif->ip6->disabled) {
        nif->stack->stats.ipv6.drop_disabled++;
        z_pbuf_free(p);
        return -ENETDOWN;
    }
    if (is_ethernet(nif)) {
        return z_nd_output_locked(nif, nh, p);
    }
    return z_netif_output_locked(nif, p);
}

static int push_header(struct z_pbuf *p, const uint8_t src[16], const uint8_t dst[16], uint8_t next,
                       uint8_t hop_limit, uint8_t tclass, uint32_t flow)
{
    size_t plen = p->len;
    uint8_t *h = z_pbuf_push(p, Z_IPV6_HLEN);
    if (h == NULL) {
        return -ENOBUFS;
    }
    struct z_ipv6_hdr ip = {.tclass = tclass,
                            .flow = flow,
                            .plen = (uint16_t)plen,
                            .next = next,
                            .hop_limit = hop_limit};
    memcpy(ip.src, src, Z_IPV6_ALEN);
    memcpy(ip.dst, dst, Z_IPV6_ALEN);
    z_ipv6_emit(h, Z_IPV6_HLEN, &ip);
    return 0;
}

/* IPV6_MULTICAST_LOOP: this host's members of the group get the packet as
 * if it came in on nif (whole, before any fragmentation). */
static void loop_copy(struct z_netif *nif, const struct z_ipv6_tx *tx, const uint8_t src[16],
                      uint8_t hop_limit, const struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    struct z_pbuf *c = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, p->len);
    if (c == NULL) {
        s->stats.ipv6.no_buffer++;
        return;
    }
    memcpy(z_pbuf_put(c, p->len), p->data, p->len);
    if (push_header(c, src, tx->dst, tx->proto, hop_limit, tx->tclass, tx->flow) < 0) {
        z_pbuf_free(c);
        return;
    }
    if (is_ethernet(nif)) {
        struct z_eth_hdr eth = {.type = Z_ETHERTYPE_IPV6};
        z_ipv6_mcast_mac(tx->dst, eth.dst);
        memcpy(eth.src, nif->mac, Z_ETH_ALEN);
        z_eth_emit(z_pbuf_push(c, Z_ETH_HLEN), Z_ETH_HLEN, &eth);
    }
    z_stack_defer_input_locked(s, nif, c);
}

int z_ip6_send_link(struct z_netif *nif, const uint8_t src[Z_IPV6_ALEN],
                    const uint8_t dst[Z_IPV6_ALEN], uint8_t next, uint8_t hop_limit,
                    struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    if (push_header(p, src, dst, next, hop_limit, 0, 0) < 0) {
        z_pbuf_free(p);
        return -ENOBUFS;
    }
    s->stats.ipv6.tx++;
    return z_ip6_link_output(nif, dst, p);
}

/* What every fragment of one datagram shares. */
struct frag_out {
    struct z_stack *s;
    struct z_netif *nif;
    const uint8_t *nh;
    const struct z_ipv6_tx *tx;
    const uint8_t *src;
    uint8_t hop_limit;
    uint32_t id;
};

static int emit_fragment(void *ctx, struct z_pbuf *f, size_t off, bool more)
{
    struct frag_out *o = ctx;
    z_ipv6_frag_emit(z_pbuf_push(f, Z_IPV6_FRAG_HLEN), Z_IPV6_FRAG_HLEN, o->tx->proto,
                     (uint16_t)off, more, o->id);
    push_header(f, o->src, o->tx->dst, Z_IPPROTO_FRAGMENT, o->hop_limit, o->tx->tclass,
                o->tx->flow);
    o->s->stats.ipv6.frag_tx++;
    o->s->stats.ipv6.tx++;
    return z_ip6_link_output(o->nif, o->nh, f);
}

int z_ipv6_output_locked(struct z_stack *s, const struct z_ipv6_tx *tx, struct z_pbuf *p)
{
    struct z_netif *nif;
    uint8_t nh[Z_IPV6_ALEN];
    int rc = z_ipv6_route_locked(s, tx->dst, tx->ifindex, &nif, nh);
    if (rc < 0) {
        s->stats.ipv6.no_route++;
        z_pbuf_free(p);
        return rc;
    }
    uint8_t src[Z_IPV6_ALEN];
    memcpy(src, tx->src, Z_IPV6_ALEN);
    if (z_ipv6_is_unspecified(src) && z_ipv6_select_source(nif, tx->dst, src) < 0) {
        s->stats.ipv6.no_route++;
        z_pbuf_free(p);
        return -EADDRNOTAVAIL;
    }
    uint8_t hop_limit = tx->hop_limit;
    if (hop_limit == 0) {
        hop_limit = z_ipv6_is_multicast(tx->dst) ? 1 : nif->ip6->hop_limit;
    }
    if (p->len > 65535) {
        z_pbuf_free(p);
        return -EMSGSIZE;
    }
    if (tx->mcast_loop && z_ipv6_is_multicast(tx->dst) && !(nif->flags & ZSOCK_IF_LOOPBACK) &&
        z_mld_is_member(nif, tx->dst)) {
        loop_copy(nif, tx, src, hop_limit, p);
    }
    uint32_t mtu = z_ipv6_path_mtu_locked(s, nif, tx->dst);
    if (tx->mtu >= Z_IPV6_MIN_MTU && tx->mtu < mtu) {
        mtu = tx->mtu;
    }
    if (Z_IPV6_HLEN + p->len > mtu && p->gso_size != 0 && p->len <= nif->gso_max) {
        /* The device cuts it into segments of gso_size: never fragment. */
        mtu = Z_IPV6_HLEN + (uint32_t)p->len;
    }
    if (Z_IPV6_HLEN + p->len > mtu) {
        if (tx->dontfrag) {
            z_pbuf_free(p);
            return -EMSGSIZE;
        }
        struct frag_out o = {s, nif, nh, tx, src, hop_limit, ++s->ip6->frag_id};
        size_t chunk = ((mtu - Z_IPV6_HLEN - Z_IPV6_FRAG_HLEN) / 8) * 8;
        return z_frag_output(&s->pool, p, chunk, &s->stats.ipv6.no_buffer, emit_fragment, &o);
    }
    if (push_header(p, src, tx->dst, tx->proto, hop_limit, tx->tclass, tx->flow) < 0) {
        s->stats.ipv6.no_buffer++;
        z_pbuf_free(p);
        return -ENOBUFS;
    }
    s->stats.ipv6.tx++;
    return z_ip6_link_output(nif, nh, p);
}

/* ---- reassembly (RFC 8200 4.5) ----------------------------------------------------------- */

static const struct z_reasm_limits reasm_limits = {
    .max_count = CONFIG_NET_IPV6_REASM_MAX,
    .max_bytes = CONFIG_NET_IPV6_REASM_BYTES,
    .timeout_us = Z_IP6_REASM_TIMEOUT_US,
    .size_needs_first = true,
};

static void reasm_tick(struct z_stack *s, int64_t now)
{
    struct z_reasm_set *set = &s->ip6->reasm;
    struct z_reasm *r;
    while ((r = z_reasm_expired(set, now)) != NULL) {
        s->stats.ipv6.reasm_timeout++;
        /* RFC 8200 4.5: Time Exceeded code 1, if the first fragment came. */
        struct z_netif *nif = z_netif_by_index_locked(s, r->ifindex);
        if (r->first != NULL && nif != NULL) {
            z_icmp6_send_error_locked(s, nif, Z_ICMP6_TIME_EXCEEDED, Z_ICMP6_TIMEX_REASSEMBLY, 0,
                                      r->first->p->data, r->first->p->len, false);
        }
        z_reasm_free(set, r);
    }
}

/* A fragment (p->data at its IPv6 header) described by w. Returns the
 * datagram without its fragment header when this one completes it: the
 * first fragment's unfragmentable part, naming what followed the fragment
 * header, then every fragment's data. Else NULL (p consumed). */
static struct z_pbuf *reasm_input(struct z_stack *s, struct z_netif *nif,
                                  const struct z_ipv6_hdr *ip, const struct z_ipv6_walk *w,
                                  struct z_pbuf *p)
{
    s->stats.ipv6.frag_rx++;
    size_t skip = (size_t)w->frag.hdr_off + Z_IPV6_FRAG_HLEN;
    uint32_t len = (uint32_t)(p->len - skip);
    if (len == 0) {
        s->stats.ipv6.reasm_drop++;
        z_pbuf_free(p);
        return NULL;
    }
    /* A datagram is (source, destination, identification). */
    uint8_t key[2 * Z_IPV6_ALEN + 4];
    memcpy(key, ip->src, Z_IPV6_ALEN);
    memcpy(key + Z_IPV6_ALEN, ip->dst, Z_IPV6_ALEN);
    memcpy(key + 2 * Z_IPV6_ALEN, &w->frag.id, 4);
    struct z_reasm_in in = {
        .key = key,
        .key_len = sizeof(key),
        .p = p,
        .off = w->frag.offset,
        .len = len,
        .skip = (uint16_t)skip,
        .prefix_len = (uint16_t)w->frag.hdr_off,
        /* Where the unfragmentable part names the fragment header, and what followed it. */
        .tag = ((uint32_t)w->frag.nh_ptr << 8) | w->proto,
        .ifindex = nif->index,
        .more = w->frag.more,
        .now = z_stack_now_us(s),
    };
    struct z_reasm_counters c = {&s->stats.ipv6.reasm_ok, &s->stats.ipv6.reasm_drop,
                                 &s->stats.ipv6.no_buffer};
    uint32_t tag;
    struct z_pbuf *whole = z_reasm_input(&s->ip6->reasm, &s->pool, &reasm_limits, &c, &in, &tag);
    if (whole != NULL) {
        whole->data[tag >> 8] = (uint8_t)tag;
        z_put_be16(whole->data + 4, (uint16_t)(whole->len - Z_IPV6_HLEN));
    }
    return whole;
}

/* ---- input ------------------------------------------------------------------------------- */

void z_ipv6_l4_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, uint8_t proto,
                            struct z_pbuf *p, size_t off)
{
    if (proto == Z_IPPROTO_UDP) {
        z_udp6_input_locked(nif, ip, p, off);
    } else {
        z_tcp6_input_locked(nif, ip, p, off);
    }
}

/* Is dst ours on nif? 1 yes, 2 a tentative address of ours (only DAD
 * messages may be taken), 0 no. */
static int dst_kind(struct z_netif *nif, const uint8_t dst[16])
{
    if (nif->flags & ZSOCK_IF_LOOPBACK) {
        return 1; /* everything looped back was sent to us */
    }
    if (z_ipv6_is_multicast(dst)) {
        return z_mld_is_member(nif, dst) ? 1 : 0;
    }
    struct z_ip6_addr *a = NULL;
    for (struct z_netif *n = nif->stack->ifaces; n != NULL && a == NULL; n = n->next) {
        a = z_ip6_find_addr(n, dst);
    }
    if (a == NULL || a->state == ZSOCK_IPV6_DUPLICATE) {
        return 0;
    }
    return a->state == ZSOCK_IPV6_TENTATIVE ? 2 : 1;
}

void z_ipv6_input_locked(struct z_netif *nif, struct z_pbuf *p, const uint8_t *eth_src)
{
    struct z_stack *s = nif->stack;
    struct z_ipv6_hdr ip;
    if (nif->ip6 == NULL || s->ip6 == NULL || z_ipv6_parse(p->data, p->len, &ip) < 0 ||
        z_ipv6_is_multicast(ip.src)) {
        s->stats.ipv6.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    s->stats.ipv6.rx++;
    if (nif->ip6->disabled) {
        s->stats.ipv6.drop_disabled++;
        z_pbuf_free(p);
        return;
    }
    z_pbuf_trim(p, Z_IPV6_HLEN + (size_t)ip.plen);
    int kind = dst_kind(nif, ip.dst);
    if (kind == 0) {
        s->stats.ipv6.drop_not_ours++;
        z_pbuf_free(p);
        return;
    }
    struct z_ipv6_walk w;
    if (z_ipv6_walk(p->data, p->len, ip.next, &w) < 0) {
        s->stats.ipv6.drop_ext++;
        if (w.verdict == Z_IPV6_PARAM_PROB && kind == 1) {
            z_icmp6_send_error_locked(s, nif, Z_ICMP6_PARAM_PROBLEM, w.icmp_code, w.pointer,
                                      p->data, p->len, w.even_multicast);
        }
        z_pbuf_free(p);
        return;
    }
    bool frag = false;
    if (w.frag.present && (w.frag.more || w.frag.offset != 0)) {
        if (kind != 1) {
            s->stats.ipv6.reasm_drop++;
            z_pbuf_free(p);
            return;
        }
        p = reasm_input(s, nif, &ip, &w, p);
        if (p == NULL) {
            return;
        }
        p->netif = nif;
        frag = true;
        /* The datagram is whole now, without its fragment header: walk it again. */
        if (z_ipv6_parse(p->data, p->len, &ip) < 0 ||
            z_ipv6_walk(p->data, p->len, ip.next, &w) < 0) {
            s->stats.ipv6.drop_ext++;
            z_pbuf_free(p);
            return;
        }
    }
    /* Raw sockets get a copy of what is for one of our usable addresses;
     * the stack goes on with the datagram. */
    bool raw = kind == 1 && z_raw6_input_locked(nif, &ip, w.proto, p, w.off);
    switch (w.proto) {
    case Z_IPPROTO_ICMPV6:
        z_icmp6_input_locked(nif, &ip, p, w.off, kind == 2, frag || w.frag.present, eth_src);
        break;
    case Z_IPPROTO_UDP:
    case Z_IPPROTO_TCP:
        if (kind != 1) {
            s->stats.ipv6.drop_not_ours++;
            z_pbuf_free(p);
            break;
        }
        z_ipv6_l4_input_locked(nif, &ip, w.proto, p, w.off);
        break;
    case Z_IPPROTO_NONE:
        z_pbuf_free(p);
        break;
    default:
        s->stats.ipv6.drop_proto += !raw;
        if (kind == 1 && !raw) {
            z_icmp6_send_error_locked(s, nif, Z_ICMP6_PARAM_PROBLEM, Z_ICMP6_PARAM_NEXTHDR,
                                      w.nh_ptr, p->data, p->len, false);
        }
        z_pbuf_free(p);
        break;
    }
}

/* ---- timers ------------------------------------------------------------------------------ */

void z_ipv6_tick_locked(struct z_stack *s, int64_t now)
{
    if (s->ip6 == NULL) {
        return;
    }
    s->ip6->icmp_tokens = ICMP6_ERRORS_PER_TICK;
    reasm_tick(s, now);
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (nif->ip6 == NULL) {
            continue;
        }
        addrs_tick(nif, now);
        if ((nif->flags & ZSOCK_IF_UP) && is_ethernet(nif)) {
            z_nd_tick_locked(nif, now);
            z_mld_tick_locked(nif, now);
        }
    }
}
