/* Neighbor Discovery for hosts (RFC 4861) and the address
 * autoconfiguration it carries (RFC 4862): the neighbor cache with its
 * INCOMPLETE, REACHABLE, STALE, DELAY and PROBE states and a bounded queue of
 * packets waiting for resolution, answers to solicitations for our
 * addresses, duplicate address detection (one probe, RetransTimer), router
 * solicitation and advertisement processing (default routers, hop limit,
 * timers, MTU, on-link prefixes, SLAAC with the two-hour rule). Redirects
 * are counted and ignored: a host may (RFC 4861 8.3 is a SHOULD for
 * accepting them, and ignoring is the safe reading without SEND); traffic
 * keeps going through the default router, which forwards it. */
#include "net/ip6.h"

#include <errno.h>
#include <string.h>

#define TWO_HOURS_US (7200 * 1000000LL)

static int64_t now_of(struct z_netif *nif)
{
    return z_stack_now_us(nif->stack);
}

void z_nd_new_reachable(struct z_ip6_if *ip6)
{
    /* RFC 4861 6.3.2: uniformly between 0.5 and 1.5 times the base. */
    int64_t base = (int64_t)ip6->base_reachable_ms * 1000;
    ip6->reachable_us = z_ip6_random_us(ip6, base / 2, base + base / 2);
}

/* ---- sending ND messages ----------------------------------------------------------------- */

#define ND_MSG_MAX 96 /* NS, NA or RS with one link-layer address option */

static struct z_pbuf *nd_buf(struct z_stack *s)
{
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, ND_MSG_MAX);
    if (p == NULL) {
        s->stats.ipv6.no_buffer++;
    }
    return p;
}

static void send_msg(struct z_netif *nif, struct z_pbuf *p, int n, const uint8_t *src,
                     const uint8_t *dst)
{
    if (n < 0) {
        z_pbuf_free(p);
        return;
    }
    z_pbuf_put(p, (size_t)n);
    nif->stack->stats.icmp6.tx++;
    z_ip6_send_link(nif, src, dst, Z_IPPROTO_ICMPV6, 255, p);
}

/* A Neighbor Solicitation for target to dst; from :: for DAD. */
static void send_ns(struct z_netif *nif, const uint8_t target[16], const uint8_t dst[16], bool dad)
{
    struct z_stack *s = nif->stack;
    uint8_t src[Z_IPV6_ALEN] = {0};
    if (!dad && z_ipv6_select_source(nif, target, src) < 0) {
        return; /* no usable address yet: resolution waits for one */
    }
    struct z_pbuf *p = nd_buf(s);
    if (p == NULL) {
        return;
    }
    struct z_nd_ns m;
    memset(&m, 0, sizeof(m));
    memcpy(m.target, target, Z_IPV6_ALEN);
    if (!dad) {
        m.opts.has_slla = true;
        memcpy(m.opts.slla, nif->mac, Z_ETH_ALEN);
    }
    s->stats.icmp6.ns_tx++;
    send_msg(nif, p, z_nd_ns_emit(p->data, z_pbuf_tailroom(p), src, dst, &m), src, dst);
}

static void send_ns_multicast(struct z_netif *nif, const uint8_t target[16], bool dad)
{
    uint8_t sn[Z_IPV6_ALEN];
    z_ipv6_solicited_node(target, sn);
    send_ns(nif, target, sn, dad);
}

/* A Neighbor Advertisement for our address target. */
static void send_na(struct z_netif *nif, const uint8_t target[16], const uint8_t dst[16],
                    bool solicited)
{
    struct z_stack *s = nif->stack;
    struct z_pbuf *p = nd_buf(s);
    if (p == NULL) {
        return;
    }
    struct z_nd_na m;
    memset(&m, 0, sizeof(m));
    m.solicited = solicited;
    m.override = true;
    memcpy(m.target, target, Z_IPV6_ALEN);
    m.opts.has_tlla = true;
    memcpy(m.opts.tlla, nif->mac, Z_ETH_ALEN);
    s->stats.icmp6.na_tx++;
    send_msg(nif, p, z_nd_na_emit(p->data, z_pbuf_tailroom(p), target, dst, &m), target, dst);
}

static void send_rs(struct z_netif *nif)
{
    struct z_stack *s = nif->stack;
    struct z_pbuf *p = nd_buf(s);
    if (p == NULL) {
        return;
    }
    /* From the link-local address once it is usable (with our MAC), else
     * from :: without one (RFC 4861 6.3.7). */
    uint8_t src[Z_IPV6_ALEN] = {0};
    struct z_nd_rs m;
    memset(&m, 0, sizeof(m));
    const struct z_ip6_addr *ll = z_ip6_link_local(nif);
    if (ll != NULL) {
        memcpy(src, ll->addr, Z_IPV6_ALEN);
        m.opts.has_slla = true;
        memcpy(m.opts.slla, nif->mac, Z_ETH_ALEN);
    }
    s->stats.icmp6.rs_tx++;
    send_msg(nif, p, z_nd_rs_emit(p->data, z_pbuf_tailroom(p), src, z_ipv6_all_routers, &m), src,
             z_ipv6_all_routers);
}

void z_nd_start_dad_locked(struct z_netif *nif, struct z_ip6_addr *a)
{
    a->state = ZSOCK_IPV6_TENTATIVE;
    a->dad_deadline = now_of(nif) + nif->ip6->retrans_us;
    a->dad_sent = true;
    send_ns_multicast(nif, a->addr, true);
}

void z_nd_start_rs_locked(struct z_netif *nif)
{
    /* The first after the link-local address's DAD, so it carries our MAC. */
    nif->ip6->rs_left = Z_ND_RS_MAX;
    nif->ip6->rs_next = now_of(nif) + Z_ND_RS_DELAY_US;
}

/* ---- the neighbor cache ------------------------------------------------------------------ */

struct z_nd_entry *z_nd_find(struct z_netif *nif, const uint8_t ip[Z_IPV6_ALEN])
{
    for (int i = 0; i < CONFIG_NET_ARP_ENTRIES; i++) {
        struct z_nd_entry *e = &nif->ip6->nc[i];
        if (e->state != Z_ND_FREE && memcmp(e->ip, ip, Z_IPV6_ALEN) == 0) {
            return e;
        }
    }
    return NULL;
}

static void entry_clear(struct z_stack *s, struct z_nd_entry *e)
{
    s->stats.icmp6.nd_unresolved += z_neigh_queue_drop(&e->pending);
    memset(e, 0, sizeof(*e));
}

/* A free entry, else the least recently used one that is not being resolved. */
static struct z_nd_entry *nd_alloc(struct z_netif *nif, const uint8_t ip[16])
{
    struct z_nd_entry *victim = NULL;
    for (int i = 0; i < CONFIG_NET_ARP_ENTRIES; i++) {
        struct z_nd_entry *e = &nif->ip6->nc[i];
        if (e->state == Z_ND_FREE) {
            victim = e;
            break;
        }
        bool e_busy = e->state == Z_ND_INCOMPLETE;
        bool v_busy = victim != NULL && victim->state == Z_ND_INCOMPLETE;
        if (victim == NULL || (v_busy && !e_busy) || (v_busy == e_busy && e->used < victim->used)) {
            victim = e;
        }
    }
    if (victim->state != Z_ND_FREE) {
        entry_clear(nif->stack, victim);
    }
    memcpy(victim->ip, ip, Z_IPV6_ALEN);
    victim->used = now_of(nif);
    victim->deadline = INT64_MAX;
    return victim;
}

static int send_frame(struct z_netif *nif, const uint8_t *mac, struct z_pbuf *p)
{
    return z_eth_output_locked(nif, mac, Z_ETHERTYPE_IPV6, p);
}

static void flush_pending(struct z_netif *nif, struct z_nd_entry *e)
{
    z_neigh_queue_send(&e->pending, nif, e->mac, Z_ETHERTYPE_IPV6);
}

static void set_reachable(struct z_netif *nif, struct z_nd_entry *e)
{
    e->state = Z_ND_REACHABLE;
    e->probes = 0;
    e->deadline = now_of(nif) + nif->ip6->reachable_us;
}

void z_nd_confirm_locked(struct z_netif *nif, const uint8_t ip[Z_IPV6_ALEN])
{
    if (nif->ip6 == NULL || !(nif->flags & ZSOCK_IF_ETHERNET)) {
        return;
    }
    struct z_nd_entry *e = z_nd_find(nif, ip);
    /* An INCOMPLETE entry has no address to confirm; a REACHABLE one only
     * has its timer renewed. */
    if (e != NULL && e->state != Z_ND_INCOMPLETE) {
        set_reachable(nif, e);
    }
}

static void set_stale(struct z_nd_entry *e)
{
    e->state = Z_ND_STALE;
    e->probes = 0;
    e->deadline = INT64_MAX;
}

/* What a solicitation or an advertisement from a router says about its
 * sender (RFC 4861 7.2.3, 6.3.4): a new or changed address is STALE. */
static struct z_nd_entry *learn_sender(struct z_netif *nif, const uint8_t ip[16],
                                       const uint8_t mac[6])
{
    struct z_nd_entry *e = z_nd_find(nif, ip);
    if (e == NULL) {
        e = nd_alloc(nif, ip);
        memcpy(e->mac, mac, Z_ETH_ALEN);
        set_stale(e);
        return e;
    }
    if (e->state == Z_ND_INCOMPLETE) {
        memcpy(e->mac, mac, Z_ETH_ALEN);
        set_stale(e);
        flush_pending(nif, e);
    } else if (memcmp(e->mac, mac, Z_ETH_ALEN) != 0) {
        memcpy(e->mac, mac, Z_ETH_ALEN);
        set_stale(e);
    }
    return e;
}

int z_nd_output_locked(struct z_netif *nif, const uint8_t nh[Z_IPV6_ALEN], struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    if (z_ipv6_is_multicast(nh)) {
        uint8_t mac[Z_ETH_ALEN];
        z_ipv6_mcast_mac(nh, mac);
        return send_frame(nif, mac, p);
    }
    if (nif->ip6 == NULL) {
        z_pbuf_free(p);
        return -ENETDOWN;
    }
    int64_t now = now_of(nif);
    struct z_nd_entry *e = z_nd_find(nif, nh);
    if (e == NULL) {
        e = nd_alloc(nif, nh);
        e->state = Z_ND_INCOMPLETE;
        e->probes = 1;
        e->deadline = now + nif->ip6->retrans_us;
        send_ns_multicast(nif, nh, false);
    }
    e->used = now;
    switch (e->state) {
    case Z_ND_INCOMPLETE:
        if (z_neigh_queue_put(&e->pending, p) < 0) {
            s->stats.icmp6.nd_queue_full++; /* like a loss on the wire */
        }
        return 0;
    case Z_ND_STALE:
        /* RFC 4861 7.3.3: the first use of a stale entry starts the delay. */
        e->state = Z_ND_DELAY;
        e->deadline = now + Z_ND_DELAY_FIRST_PROBE;
        break;
    default:
        break;
    }
    return send_frame(nif, e->mac, p);
}

void z_nd_flush_locked(struct z_netif *nif)
{
    if (nif->ip6 == NULL) {
        return;
    }
    for (int i = 0; i < CONFIG_NET_ARP_ENTRIES; i++) {
        if (nif->ip6->nc[i].state != Z_ND_FREE) {
            entry_clear(nif->stack, &nif->ip6->nc[i]);
        }
    }
}

/* ---- routers and prefixes ---------------------------------------------------------------- */

static struct z_ip6_router *router_find(struct z_ip6_if *ip6, const uint8_t a[16])
{
    for (int i = 0; i < Z_IP6_MAX_ROUTERS; i++) {
        if (ip6->routers[i].used && memcmp(ip6->routers[i].addr, a, Z_IPV6_ALEN) == 0) {
            return &ip6->routers[i];
        }
    }
    return NULL;
}

const struct z_ip6_router *z_nd_default_router(struct z_netif *nif)
{
    if (nif->ip6 == NULL) {
        return NULL;
    }
    int64_t now = now_of(nif);
    const struct z_ip6_router *any = NULL;
    for (int i = 0; i < Z_IP6_MAX_ROUTERS; i++) {
        const struct z_ip6_router *r = &nif->ip6->routers[i];
        if (!r->used || now >= r->expires) {
            continue;
        }
        /* RFC 4861 6.3.6: one known (or probably) reachable first. */
        const struct z_nd_entry *e = z_nd_find(nif, r->addr);
        if (e != NULL && e->state != Z_ND_INCOMPLETE) {
            return r;
        }
        if (any == NULL) {
            any = r;
        }
    }
    return any;
}

static void onlink_update(struct z_netif *nif, const struct z_nd_prefix *pi, int64_t now)
{
    struct z_ip6_if *ip6 = nif->ip6;
    struct z_ip6_prefix *slot = NULL, *free_slot = NULL;
    for (int i = 0; i < Z_IP6_MAX_PREFIXES; i++) {
        struct z_ip6_prefix *x = &ip6->prefixes[i];
        if (x->used && x->plen == pi->len && z_ipv6_prefix_eq(x->prefix, pi->prefix, pi->len)) {
            slot = x;
        } else if (!x->used && free_slot == NULL) {
            free_slot = x;
        }
    }
    if (pi->valid == 0) {
        if (slot != NULL) {
            slot->used = false; /* RFC 4861 6.3.4: time the prefix out now */
        }
        return;
    }
    if (slot == NULL) {
        slot = free_slot;
        if (slot == NULL) {
            return;
        }
        memset(slot, 0, sizeof(*slot));
        slot->used = true;
        slot->plen = pi->len;
        for (unsigned b = 0; b < pi->len; b++) {
            if (pi->prefix[b / 8] & (0x80 >> (b % 8))) {
                slot->prefix[b / 8] |= (uint8_t)(0x80 >> (b % 8));
            }
        }
    }
    slot->expires = pi->valid == Z_ND_INFINITE ? INT64_MAX : now + (int64_t)pi->valid * 1000000;
}

/* RFC 4862 5.5.3 for one prefix with the A flag. */
static void slaac_update(struct z_netif *nif, const struct z_nd_prefix *pi, int64_t now)
{
    if (pi->preferred > pi->valid || pi->len != 64) {
        return; /* (c), and (d): our identifiers are 64 bits */
    }
    uint8_t addr[Z_IPV6_ALEN];
    memcpy(addr, pi->prefix, 8);
    z_ipv6_eui64(nif->mac, addr + 8);
    struct z_ip6_addr *a = z_ip6_find_addr(nif, addr);
    if (a == NULL) {
        if (pi->valid != 0) {
            z_ipv6_add_addr_locked(nif, addr, 64, ZSOCK_IPV6_ORIGIN_SLAAC, pi->valid,
                                   pi->preferred);
        }
        return;
    }
    if (a->origin != ZSOCK_IPV6_ORIGIN_SLAAC) {
        return; /* configured by hand: the router does not manage it */
    }
    a->preferred_until =
        pi->preferred == Z_ND_INFINITE ? INT64_MAX : now + (int64_t)pi->preferred * 1000000;
    if (a->state == ZSOCK_IPV6_DEPRECATED && now < a->preferred_until) {
        a->state = ZSOCK_IPV6_PREFERRED;
    }
    /* (e): the two-hour rule keeps a forged RA from cutting an address short. */
    int64_t valid_end = pi->valid == Z_ND_INFINITE ? INT64_MAX : now + (int64_t)pi->valid * 1000000;
    int64_t remaining = a->valid_until == INT64_MAX ? INT64_MAX : a->valid_until - now;
    if (pi->valid == Z_ND_INFINITE || (int64_t)pi->valid * 1000000 > TWO_HOURS_US ||
        valid_end > a->valid_until) {
        a->valid_until = valid_end;
    } else if (remaining <= TWO_HOURS_US) {
        /* ignore the received valid lifetime */
    } else {
        a->valid_until = now + TWO_HOURS_US;
    }
}

static void ra_input(struct z_netif *nif, const struct z_ipv6_hdr *ip, const uint8_t *msg,
                     size_t len)
{
    struct z_stack *s = nif->stack;
    struct z_ip6_if *ip6 = nif->ip6;
    struct z_nd_ra m;
    if (z_nd_ra_parse(msg, len, ip->src, ip->dst, &m) < 0) {
        s->stats.icmp6.drop_malformed++;
        return;
    }
    s->stats.icmp6.ra_rx++;
    int64_t now = now_of(nif);
    ip6->rs_left = 0; /* a router answered (or spoke): stop soliciting */
    if (m.cur_hop_limit != 0) {
        ip6->hop_limit = m.cur_hop_limit;
    }
    if (m.reachable_time != 0 && m.reachable_time != ip6->base_reachable_ms) {
        ip6->base_reachable_ms = m.reachable_time;
        z_nd_new_reachable(ip6);
    }
    if (m.retrans_timer != 0) {
        ip6->retrans_us = (int64_t)m.retrans_timer * 1000;
    }
    struct z_ip6_router *r = router_find(ip6, ip->src);
    if (m.router_lifetime == 0) {
        if (r != NULL) {
            r->used = false;
        }
    } else {
        for (int i = 0; i < Z_IP6_MAX_ROUTERS && r == NULL; i++) {
            if (!ip6->routers[i].used || now >= ip6->routers[i].expires) {
                r = &ip6->routers[i];
                r->used = true;
                memcpy(r->addr, ip->src, Z_IPV6_ALEN);
            }
        }
        if (r != NULL) {
            r->expires = now + (int64_t)m.router_lifetime * 1000000;
        }
    }
    if (m.opts.has_slla) {
        learn_sender(nif, ip->src, m.opts.slla)->router = true;
    } else {
        struct z_nd_entry *e = z_nd_find(nif, ip->src);
        if (e != NULL) {
            e->router = true;
        }
    }
    if (m.opts.has_mtu && m.opts.mtu >= Z_IPV6_MIN_MTU && m.opts.mtu <= nif->mtu) {
        ip6->mtu = m.opts.mtu;
    }
    for (int i = 0; i < m.opts.nprefix; i++) {
        const struct z_nd_prefix *pi = &m.opts.prefix[i];
        if (pi->len > 128 || z_ipv6_is_link_local(pi->prefix)) {
            continue;
        }
        if (pi->flags & Z_ND_PREFIX_ONLINK) {
            onlink_update(nif, pi, now);
        }
        if (pi->flags & Z_ND_PREFIX_AUTO) {
            slaac_update(nif, pi, now);
        }
    }
}

/* ---- solicitations and advertisements received ------------------------------------------ */

static bool from_self(const struct z_netif *nif, const uint8_t *eth_src)
{
    /* Our own multicast coming back (a hub, a looping bridge) is no
     * evidence of a duplicate. */
    return eth_src != NULL && memcmp(eth_src, nif->mac, Z_ETH_ALEN) == 0;
}

static void ns_input(struct z_netif *nif, const struct z_ipv6_hdr *ip, const uint8_t *msg,
                     size_t len, const uint8_t *eth_src)
{
    struct z_stack *s = nif->stack;
    struct z_nd_ns m;
    if (z_nd_ns_parse(msg, len, ip->src, ip->dst, &m) < 0) {
        s->stats.icmp6.drop_malformed++;
        return;
    }
    s->stats.icmp6.ns_rx++;
    struct z_ip6_addr *a = z_ip6_find_addr(nif, m.target);
    if (a == NULL || a->state == ZSOCK_IPV6_DUPLICATE) {
        return; /* not ours: no proxying */
    }
    bool dad = z_ipv6_is_unspecified(ip->src);
    if (a->state == ZSOCK_IPV6_TENTATIVE) {
        /* RFC 4862 5.4.3: another node probing the same address means a
         * duplicate; a resolution from a unicast source is ignored. */
        if (dad && !from_self(nif, eth_src)) {
            z_ip6_addr_dad_done(nif, a, true);
        }
        return;
    }
    if (dad) {
        send_na(nif, m.target, z_ipv6_all_nodes, false);
        return;
    }
    if (m.opts.has_slla) {
        learn_sender(nif, ip->src, m.opts.slla);
    }
    send_na(nif, m.target, ip->src, true);
}

static void na_input(struct z_netif *nif, const struct z_ipv6_hdr *ip, const uint8_t *msg,
                     size_t len, const uint8_t *eth_src)
{
    struct z_stack *s = nif->stack;
    struct z_nd_na m;
    if (z_nd_na_parse(msg, len, ip->src, ip->dst, &m) < 0) {
        s->stats.icmp6.drop_malformed++;
        return;
    }
    s->stats.icmp6.na_rx++;
    struct z_ip6_addr *a = z_ip6_find_addr(nif, m.target);
    if (a != NULL) {
        if (a->state == ZSOCK_IPV6_TENTATIVE && !from_self(nif, eth_src)) {
            z_ip6_addr_dad_done(nif, a, true); /* RFC 4862 5.4.4 */
        }
        return;
    }
    struct z_nd_entry *e = z_nd_find(nif, m.target);
    if (e == NULL) {
        return; /* RFC 4861 7.2.5: nothing asked, nothing learnt */
    }
    if (e->state == Z_ND_INCOMPLETE) {
        if (!m.opts.has_tlla) {
            return;
        }
        memcpy(e->mac, m.opts.tlla, Z_ETH_ALEN);
        if (m.solicited) {
            set_reachable(nif, e);
        } else {
            set_stale(e);
        }
        e->router = m.router;
        flush_pending(nif, e);
        return;
    }
    bool differs = m.opts.has_tlla && memcmp(m.opts.tlla, e->mac, Z_ETH_ALEN) != 0;
    if (!m.override && differs) {
        if (e->state == Z_ND_REACHABLE) {
            set_stale(e);
        }
        return;
    }
    if (differs) {
        memcpy(e->mac, m.opts.tlla, Z_ETH_ALEN);
    }
    if (m.solicited) {
        set_reachable(nif, e);
    } else if (differs) {
        set_stale(e);
    }
    if (e->router && !m.router) {
        /* No longer a router: out of the default router list (7.2.5). */
        struct z_ip6_router *r = router_find(nif->ip6, m.target);
        if (r != NULL) {
            r->used = false;
        }
    }
    e->router = m.router;
}

void z_nd_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, const uint8_t *msg,
                       size_t len, const uint8_t *eth_src)
{
    struct z_stack *s = nif->stack;
    if (nif->ip6 == NULL) {
        return;
    }
    if (ip->hop_limit != 255) {
        /* RFC 4861: not from this link. */
        s->stats.icmp6.drop_malformed++;
        return;
    }
    switch (msg[0]) {
    case Z_ICMP6_ND_NS:
        ns_input(nif, ip, msg, len, eth_src);
        break;
    case Z_ICMP6_ND_NA:
        na_input(nif, ip, msg, len, eth_src);
        break;
    case Z_ICMP6_ND_RA:
        ra_input(nif, ip, msg, len);
        break;
    case Z_ICMP6_ND_REDIRECT:
        s->stats.icmp6.redirects_rx++;
        break;
    default:
        break; /* router solicitations: we are no router */
    }
}

/* ---- timers ------------------------------------------------------------------------------ */

void z_nd_tick_locked(struct z_netif *nif, int64_t now)
{
    struct z_ip6_if *ip6 = nif->ip6;
    for (int i = 0; i < CONFIG_NET_ARP_ENTRIES; i++) {
        struct z_nd_entry *e = &ip6->nc[i];
        if (e->state == Z_ND_FREE || now < e->deadline) {
            continue;
        }
        switch (e->state) {
        case Z_ND_INCOMPLETE:
            if (e->probes >= Z_ND_MAX_MCAST_SOLICIT) {
                entry_clear(nif->stack, e);
                break;
            }
            e->probes++;
            e->deadline = now + ip6->retrans_us;
            send_ns_multicast(nif, e->ip, false);
            break;
        case Z_ND_REACHABLE:
            set_stale(e);
            break;
        case Z_ND_DELAY:
            e->state = Z_ND_PROBE;
            e->probes = 1;
            e->deadline = now + ip6->retrans_us;
            send_ns(nif, e->ip, e->ip, false); /* unicast, to the cached address */
            break;
        case Z_ND_PROBE:
            if (e->probes >= Z_ND_MAX_UCAST_SOLICIT) {
                entry_clear(nif->stack, e);
                break;
            }
            e->probes++;
            e->deadline = now + ip6->retrans_us;
            send_ns(nif, e->ip, e->ip, false);
            break;
        default:
            break;
        }
    }
    for (int i = 0; i < Z_IP6_MAX_ROUTERS; i++) {
        if (ip6->routers[i].used && now >= ip6->routers[i].expires) {
            ip6->routers[i].used = false;
        }
    }
    for (int i = 0; i < Z_IP6_MAX_PREFIXES; i++) {
        if (ip6->prefixes[i].used && now >= ip6->prefixes[i].expires) {
            ip6->prefixes[i].used = false;
        }
    }
    if (ip6->rs_left > 0 && now >= ip6->rs_next) {
        ip6->rs_left--;
        ip6->rs_next = now + Z_ND_RS_INTERVAL_US;
        send_rs(nif);
    }
}
