/* IPv4: input validation and demultiplexing, routing, output with
 * fragmentation, and reassembly bounded in count, bytes and time. Overlapping
 * fragments discard the whole datagram (the safe reading of RFC 791 after
 * the overlap attacks), exact duplicates are ignored. */
#include "net/net.h"
#include "net/raw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- routing ------------------------------------------------------------------------------------
 */

static struct z_netif *loopback_if(struct z_stack *s)
{
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if ((nif->flags & ZSOCK_IF_LOOPBACK) && (nif->flags & ZSOCK_IF_UP)) {
            return nif;
        }
    }
    return NULL;
}

static bool on_link(const struct z_netif *nif, uint32_t dst)
{
    for (int i = 0; i < nif->n_ipv4; i++) {
        if ((dst & nif->ipv4[i].mask) == (nif->ipv4[i].addr & nif->ipv4[i].mask)) {
            return true;
        }
    }
    return z_ipv4_is_broadcast(nif, dst);
}

static bool usable(const struct z_netif *nif)
{
    return (nif->flags & ZSOCK_IF_UP) && !(nif->flags & ZSOCK_IF_LOOPBACK);
}

int z_ipv4_route_locked(struct z_stack *s, uint32_t dst, int bound_ifindex, struct z_netif **out,
                        uint32_t *next_hop)
{
    *next_hop = dst;
#if CONFIG_NET_IGMP
    if (z_ipv4_is_multicast(dst)) {
        /* A group is on the link of the interface asked for, else of the
         * first one with an address (Linux: the route to 224/4, usually the
         * default route's). */
        struct z_netif *nif = bound_ifindex != 0 ? z_netif_by_index_locked(s, bound_ifindex) : NULL;
        for (nif = nif != NULL ? nif : s->ifaces; nif != NULL && bound_ifindex == 0;
             nif = nif->next) {
            if (usable(nif) && nif->n_ipv4 > 0) {
                break;
            }
        }
        if (nif == NULL || !(nif->flags & ZSOCK_IF_UP)) {
            return bound_ifindex != 0 ? -ENETDOWN : -ENETUNREACH;
        }
        *out = nif;
        return 0;
    }
#endif
    if ((dst >> 24) == 127 || (bound_ifindex == 0 && z_ipv4_is_local_locked(s, dst))) {
        /* Traffic to ourselves goes over loopback, as on Linux. */
        *out = loopback_if(s);
        return *out != NULL ? 0 : -ENETUNREACH;
    }
    if (bound_ifindex != 0) {
        struct z_netif *nif = z_netif_by_index_locked(s, bound_ifindex);
        if (nif == NULL || !(nif->flags & ZSOCK_IF_UP)) {
            return -ENETDOWN;
        }
        *out = nif;
        if (nif->flags & ZSOCK_IF_LOOPBACK) {
            return 0;
        }
        if (!on_link(nif, dst) && nif->gateway == 0) {
            return -ENETUNREACH;
        }
        if (!on_link(nif, dst)) {
            *next_hop = nif->gateway;
        }
        return 0;
    }
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (usable(nif) && nif->n_ipv4 > 0 && on_link(nif, dst)) {
            *out = nif;
            return 0;
        }
    }
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (usable(nif) && nif->gateway != 0) {
            *out = nif;
            *next_hop = nif->gateway;
            return 0;
        }
    }
    return -ENETUNREACH;
}

uint32_t z_ipv4_select_source(const struct z_netif *nif, uint32_t dst)
{
    for (int i = 0; i < nif->n_ipv4; i++) {
        if ((dst & nif->ipv4[i].mask) == (nif->ipv4[i].addr & nif->ipv4[i].mask)) {
            return nif->ipv4[i].addr;
        }
    }
    return nif->n_ipv4 > 0 ? nif->ipv4[0].addr : 0;
}

/* ---- output -------------------------------------------------------------------------------------
 */

static int link_output(struct z_netif *nif, uint32_t next_hop, struct z_pbuf *p)
{
    if (nif->flags & ZSOCK_IF_ETHERNET) {
        return z_arp_output_locked(nif, next_hop, p);
    }
    return z_netif_output_locked(nif, p);
}

static void fill_header(struct z_ipv4_hdr *h, const struct z_ipv4_tx *tx, uint32_t src, uint16_t id,
                        size_t total, uint16_t frag)
{
    memset(h, 0, sizeof(*h));
    h->tos = tx->tos;
    h->total_len = (uint16_t)total;
    h->id = id;
    h->frag = frag;
    h->ttl = tx->ttl;
    h->proto = tx->proto;
    h->src = src;
    h->dst = tx->dst;
}

#if CONFIG_NET_IGMP
/* IP_MULTICAST_LOOP: this host's members of the group get the datagram
 * as if it came in on nif (whole: it was never fragmented). */
static void loop_copy(struct z_netif *nif, const struct z_ipv4_tx *tx, uint32_t src, uint16_t id,
                      const struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    size_t total = Z_IPV4_HLEN + p->len;
    struct z_pbuf *c = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, total);
    if (c == NULL) {
        s->stats.ipv4.no_buffer++;
        return;
    }
    uint8_t *at = z_pbuf_put(c, total);
    struct z_ipv4_hdr h;
    fill_header(&h, tx, src, id, total, 0);
    z_ipv4_emit(at, Z_IPV4_HLEN, &h);
    memcpy(at + Z_IPV4_HLEN, p->data, p->len);
    if (nif->flags & ZSOCK_IF_ETHERNET) {
        struct z_eth_hdr eth = {.type = Z_ETHERTYPE_IPV4};
        z_ipv4_mcast_mac(tx->dst, eth.dst);
        memcpy(eth.src, nif->mac, Z_ETH_ALEN);
        z_eth_emit(z_pbuf_push(c, Z_ETH_HLEN), Z_ETH_HLEN, &eth);
    }
    z_stack_defer_input_locked(s, nif, c);
}
#endif

/* What every fragment of one datagram shares. */
struct frag_out {
    struct z_stack *s;
    struct z_netif *nif;
    uint32_t nh;
    const struct z_ipv4_tx *tx;
    uint32_t src;
    uint16_t id;
};

static int emit_fragment(void *ctx, struct z_pbuf *f, size_t off, bool more)
{
    struct frag_out *o = ctx;
    struct z_ipv4_hdr h;
    uint16_t frag = (uint16_t)((off / 8) | (more ? Z_IPV4_FLAG_MF : 0));
    fill_header(&h, o->tx, o->src, o->id, Z_IPV4_HLEN + f->len, frag);
    z_ipv4_emit(z_pbuf_push(f, Z_IPV4_HLEN), Z_IPV4_HLEN, &h);
    o->s->stats.ipv4.frag_tx++;
    o->s->stats.ipv4.tx++;
    return link_output(o->nif, o->nh, f);
}

int z_ipv4_output_locked(struct z_stack *s, const struct z_ipv4_tx *tx, struct z_pbuf *p)
{
    struct z_netif *nif;
    uint32_t nh;
    int rc = z_ipv4_route_locked(s, tx->dst, tx->ifindex, &nif, &nh);
    if (rc < 0) {
        s->stats.ipv4.no_route++;
        z_pbuf_free(p);
        return rc;
    }
    uint32_t src = tx->src != 0 ? tx->src : z_ipv4_select_source(nif, tx->dst);
    if ((nif->flags & ZSOCK_IF_LOOPBACK) && src == 0) {
        src = 0x7f000001u;
    }
    uint16_t id = s->ip_id++;
    size_t total = Z_IPV4_HLEN + p->len;
    if (total > 65535) {
        z_pbuf_free(p);
        return -EMSGSIZE;
    }
#if CONFIG_NET_IGMP
    if (tx->mcast_loop && z_ipv4_is_multicast(tx->dst) && !(nif->flags & ZSOCK_IF_LOOPBACK) &&
        z_igmp_is_member(nif, tx->dst)) {
        loop_copy(nif, tx, src, id, p);
    }
#endif
    if (total > nif->mtu && p->gso_size != 0 && total <= nif->gso_max) {
        /* The device cuts it into segments that fit: never fragment. */
        uint8_t *gh = z_pbuf_push(p, Z_IPV4_HLEN);
        struct z_ipv4_hdr h;
        fill_header(&h, tx, src, id, total, Z_IPV4_FLAG_DF);
        z_ipv4_emit(gh, Z_IPV4_HLEN, &h);
        s->stats.ipv4.tx++;
        return link_output(nif, nh, p);
    }
    if (total > nif->mtu) {
        if (tx->df || !CONFIG_NET_IPV4_FRAGMENT) {
            z_pbuf_free(p);
            return -EMSGSIZE;
        }
        struct frag_out o = {s, nif, nh, tx, src, id};
        size_t chunk = ((nif->mtu - Z_IPV4_HLEN) / 8) * 8;
        return z_frag_output(&s->pool, p, chunk, &s->stats.ipv4.no_buffer, emit_fragment, &o);
    }
    uint8_t *hdr = z_pbuf_push(p, Z_IPV4_HLEN);
    if (hdr == NULL) {
        z_pbuf_free(p);
        return -ENOBUFS;
    }
    struct z_ipv4_hdr h;
    fill_header(&h, tx, src, id, total, tx->df ? Z_IPV4_FLAG_DF : 0);
    z_ipv4_emit(hdr, Z_IPV4_HLEN, &h);
    s->stats.ipv4.tx++;
    return link_output(nif, nh, p);
}

#if CONFIG_NET_SOCKETS_RAW
int z_ipv4_output_hdrincl_locked(struct z_stack *s, uint32_t dst, int ifindex, struct z_pbuf *p)
{
    struct z_netif *nif;
    uint32_t nh;
    int rc = z_ipv4_route_locked(s, dst, ifindex, &nif, &nh);
    if (rc < 0) {
        s->stats.ipv4.no_route++;
        z_pbuf_free(p);
        return rc;
    }
    if (p->len > nif->mtu) {
        z_pbuf_free(p); /* a header given by the application is not fragmented */
        return -EMSGSIZE;
    }
    /* Complete the header as Linux does: length and checksum always, the
     * source and identification when left 0. */
    uint8_t *h = p->data;
    size_t ihl = (size_t)(h[0] & 0xf) * 4;
    if (z_get_be32(h + 12) == 0) {
        uint32_t src = z_ipv4_select_source(nif, dst);
        z_put_be32(h + 12, src == 0 && (nif->flags & ZSOCK_IF_LOOPBACK) ? 0x7f000001u : src);
    }
    if (z_get_be16(h + 4) == 0) {
        z_put_be16(h + 4, s->ip_id++);
    }
    z_put_be16(h + 2, (uint16_t)p->len);
    z_put_be16(h + 10, 0);
    z_put_be16(h + 10, z_csum_finish(z_csum_add(0, h, ihl)));
    s->stats.ipv4.tx++;
    return link_output(nif, nh, p);
}
#endif

/* ---- reassembly
 * ------------------------------------------------------------------------------------ */

static const struct z_reasm_limits reasm_limits = {
    .max_count = CONFIG_NET_IPV4_REASM_MAX,
    .max_bytes = CONFIG_NET_IPV4_REASM_BYTES,
    .timeout_us = (int64_t)CONFIG_NET_IPV4_REASM_TIMEOUT_MS * 1000,
    .size_needs_first = false,
};

void z_ipv4_reasm_flush_locked(struct z_stack *s)
{
    if (CONFIG_NET_IPV4_FRAGMENT) {
        z_reasm_flush(&s->reasm);
    }
}

void z_ipv4_tick_locked(struct z_stack *s, int64_t now)
{
    if (!CONFIG_NET_IPV4_FRAGMENT) {
        return;
    }
    struct z_reasm *r;
    while ((r = z_reasm_expired(&s->reasm, now)) != NULL) {
        s->stats.ipv4.reasm_drop++;
        z_reasm_free(&s->reasm, r);
    }
}

/* Take a fragment (p->data at its IP header). Returns the reassembled
 * datagram when this fragment completes one, else NULL (p consumed). */
static struct z_pbuf *reasm_input(struct z_stack *s, struct z_netif *nif,
                                  const struct z_ipv4_hdr *ip, struct z_pbuf *p)
{
    s->stats.ipv4.frag_rx++;
    if (!CONFIG_NET_IPV4_FRAGMENT) {
        /* Built without reassembly (Zephyr's default too): counted, dropped. */
        s->stats.ipv4.reasm_drop++;
        z_pbuf_free(p);
        return NULL;
    }
    uint32_t off = z_ipv4_frag_offset(ip);
    uint32_t len = ip->total_len - ip->ihl;
    bool more = z_ipv4_more_frags(ip);
    /* Every fragment but the last carries a multiple of 8 bytes, and no
     * datagram exceeds 65535 bytes. */
    if ((more && (len % 8 != 0 || len == 0)) || ip->ihl + off + len > 65535) {
        s->stats.ipv4.reasm_drop++;
        z_pbuf_free(p);
        return NULL;
    }
    /* A datagram is (source, destination, identification, protocol). */
    uint8_t key[11];
    memcpy(key, &ip->src, 4);
    memcpy(key + 4, &ip->dst, 4);
    memcpy(key + 8, &ip->id, 2);
    key[10] = ip->proto;
    struct z_reasm_in in = {
        .key = key,
        .key_len = sizeof(key),
        .p = p,
        .off = off,
        .len = len,
        .skip = ip->ihl,
        .prefix_len = ip->ihl, /* the first fragment's header heads the datagram */
        .tag = ip->ihl,
        .ifindex = nif->index,
        .more = more,
        .now = z_stack_now_us(s),
    };
    struct z_reasm_counters c = {&s->stats.ipv4.reasm_ok, &s->stats.ipv4.reasm_drop,
                                 &s->stats.ipv4.no_buffer};
    uint32_t hlen; /* of the first fragment */
    struct z_pbuf *whole = z_reasm_input(&s->reasm, &s->pool, &reasm_limits, &c, &in, &hlen);
    if (whole != NULL) {
        /* Make the header describe the whole, unfragmented datagram. */
        uint8_t *at = whole->data;
        z_put_be16(at + 2, (uint16_t)whole->len);
        z_put_be16(at + 6, 0);
        z_put_be16(at + 10, 0);
        z_put_be16(at + 10, z_csum_finish(z_csum_add(0, at, hlen)));
    }
    return whole;
}

/* ---- input
 * -------------------------------------------------------------------------------------------- */

static bool accept_dst(struct z_netif *nif, uint32_t dst)
{
    if (nif->flags & ZSOCK_IF_LOOPBACK) {
        return true; /* everything looped back was sent to us */
    }
#if CONFIG_NET_IGMP
    if (z_ipv4_is_multicast(dst)) {
        return z_igmp_is_member(nif, dst);
    }
#endif
    return z_ipv4_is_local_locked(nif->stack, dst) || z_ipv4_is_broadcast(nif, dst);
}

void z_ipv4_input_locked(struct z_netif *nif, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    struct z_ipv4_hdr ip;
    if (z_ipv4_parse(p->data, p->len, &ip) < 0 || (ip.src >> 28) == 0xe || ip.src == 0xffffffffu) {
        s->stats.ipv4.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    s->stats.ipv4.rx++;
    z_pbuf_trim(p, ip.total_len);
    bool ours = accept_dst(nif, ip.dst);
#ifdef CONFIG_NET_DHCPV4
    /* A DHCP reply unicast to the address we are being offered. */
    ours = ours || (nif->dhcp != NULL && z_dhcp4_accept_locked(nif, &ip, p->data, p->len));
#endif
    if (!ours) {
        s->stats.ipv4.drop_not_ours++;
        z_pbuf_free(p);
        return;
    }
    if (ip.frag & (Z_IPV4_FLAG_MF | Z_IPV4_FRAG_MASK)) {
        p = reasm_input(s, nif, &ip, p);
        if (p == NULL) {
            return;
        }
        p->netif = nif;
        z_ipv4_parse(p->data, p->len, &ip);
    }
    /* Raw sockets get a copy; the stack goes on with the datagram. */
    bool raw = z_raw4_input_locked(nif, &ip, p);
    switch (ip.proto) {
    case Z_IPPROTO_ICMP:
        z_icmp_input_locked(nif, &ip, p);
        break;
    case Z_IPPROTO_UDP:
        z_udp_input_locked(nif, &ip, p);
        break;
    case Z_IPPROTO_TCP:
        z_tcp_input_locked(nif, &ip, p);
        break;
#if CONFIG_NET_IGMP
    case Z_IPPROTO_IGMP:
        z_igmp_input_locked(nif, &ip, p);
        break;
#endif
    default:
        s->stats.ipv4.drop_proto += !raw;
        if (!raw && !z_ipv4_is_broadcast(nif, ip.dst) && !z_ipv4_is_multicast(ip.dst)) {
            z_icmp_send_error_locked(s, nif, Z_ICMP_DEST_UNREACH, Z_ICMP_UNREACH_PROTOCOL, 0,
                                     p->data, p->len);
        }
        z_pbuf_free(p);
        break;
    }
}
