/* IPv4: input validation and demultiplexing, routing, output with
 * fragmentation, and reassembly bounded in count, bytes and time. Overlapping
 * fragments discard the whole datagram (the safe reading of RFC 791 after
 * the overlap attacks), exact duplicates are ignored. */
#include "net/net.h"

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

static int send_fragments(struct z_stack *s, struct z_netif *nif, uint32_t nh,
                          const struct z_ipv4_tx *tx, uint32_t src, uint16_t id, struct z_pbuf *p)
{
    size_t chunk = ((nif->mtu - Z_IPV4_HLEN) / 8) * 8;
    size_t off = 0;
    int rc = 0;
    while (off < p->len && rc == 0) {
        size_t n = p->len - off < chunk ? p->len - off : chunk;
        bool more = off + n < p->len;
        struct z_pbuf *f = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, n);
        if (f == NULL) {
            s->stats.ipv4.no_buffer++;
            rc = -ENOBUFS;
            break;
        }
        memcpy(z_pbuf_put(f, n), p->data + off, n);
        struct z_ipv4_hdr h;
        uint16_t frag = (uint16_t)((off / 8) | (more ? Z_IPV4_FLAG_MF : 0));
        fill_header(&h, tx, src, id, Z_IPV4_HLEN + n, frag);
        z_ipv4_emit(z_pbuf_push(f, Z_IPV4_HLEN), Z_IPV4_HLEN, &h);
        s->stats.ipv4.frag_tx++;
        s->stats.ipv4.tx++;
        rc = link_output(nif, nh, f);
        off += n;
    }
    z_pbuf_free(p);
    return rc;
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
        if (tx->df) {
            z_pbuf_free(p);
            return -EMSGSIZE;
        }
        return send_fragments(s, nif, nh, tx, src, id, p);
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

/* ---- reassembly
 * ------------------------------------------------------------------------------------ */

struct z_frag {
    struct z_frag *next;
    uint16_t off; /* payload offset in bytes */
    uint16_t len;
    struct z_pbuf *p; /* data at the payload */
};

struct z_reasm {
    struct z_reasm *next;
    uint32_t src, dst;
    uint16_t id;
    uint8_t proto;
    uint8_t hdr[Z_IPV4_MAX_HLEN]; /* header of the first fragment */
    uint8_t hlen;
    int32_t total; /* payload length once the last fragment is seen, else -1 */
    size_t bytes;  /* payload bytes held */
    int64_t deadline;
    struct z_frag *frags; /* sorted by offset, no overlap */
    struct z_netif *netif;
};

static void reasm_free(struct z_stack *s, struct z_reasm *r)
{
    for (struct z_reasm **pp = &s->reasm; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    while (r->frags != NULL) {
        struct z_frag *f = r->frags;
        r->frags = f->next;
        z_pbuf_free(f->p);
        z_free(f);
    }
    s->reasm_count--;
    s->reasm_bytes -= r->bytes;
    z_free(r);
}

void z_ipv4_reasm_flush_locked(struct z_stack *s)
{
    while (s->reasm != NULL) {
        reasm_free(s, s->reasm);
    }
}

void z_ipv4_tick_locked(struct z_stack *s, int64_t now)
{
    struct z_reasm *r = s->reasm;
    while (r != NULL) {
        struct z_reasm *next = r->next;
        if (now >= r->deadline) {
            s->stats.ipv4.reasm_drop++;
            reasm_free(s, r);
        }
        r = next;
    }
}

static struct z_reasm *reasm_find(struct z_stack *s, const struct z_ipv4_hdr *ip, int64_t now)
{
    for (struct z_reasm *r = s->reasm; r != NULL; r = r->next) {
        if (r->src == ip->src && r->dst == ip->dst && r->id == ip->id && r->proto == ip->proto) {
            return r;
        }
    }
    if (s->reasm_count >= CONFIG_NET_IPV4_REASM_MAX) {
        return NULL;
    }
    struct z_reasm *r = z_calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->src = ip->src;
    r->dst = ip->dst;
    r->id = ip->id;
    r->proto = ip->proto;
    r->total = -1;
    r->deadline = now + (int64_t)CONFIG_NET_IPV4_REASM_TIMEOUT_MS * 1000;
    r->next = s->reasm;
    s->reasm = r;
    s->reasm_count++;
    return r;
}

/* Insert a fragment; -1 if it overlaps another (the datagram is then
 * dropped), 0 if inserted, 1 if it was an exact duplicate. */
static int frag_insert(struct z_reasm *r, struct z_frag *nf)
{
    struct z_frag **pp = &r->frags;
    while (*pp != NULL && (*pp)->off < nf->off) {
        pp = &(*pp)->next;
    }
    struct z_frag *after = *pp;
    if (after != NULL && after->off == nf->off && after->len == nf->len) {
        return 1;
    }
    /* The fragment before ends at or before us, the one after starts at or after our end. */
    struct z_frag *before = NULL;
    for (struct z_frag *f = r->frags; f != NULL && f != after; f = f->next) {
        before = f;
    }
    if (before != NULL && before->off + before->len > nf->off) {
        return -1;
    }
    if (after != NULL && nf->off + nf->len > after->off) {
        return -1;
    }
    nf->next = after;
    *pp = nf;
    return 0;
}

/* Has every byte of the datagram arrived? */
static bool reasm_done(const struct z_reasm *r)
{
    if (r->total < 0 || r->hlen == 0) {
        return false;
    }
    uint32_t expect = 0;
    for (struct z_frag *f = r->frags; f != NULL; f = f->next) {
        if (f->off != expect) {
            return false;
        }
        expect += f->len;
    }
    return expect == (uint32_t)r->total;
}

/* The whole datagram as one buffer (header + payload); NULL without a buffer. */
static struct z_pbuf *reasm_join(struct z_stack *s, struct z_reasm *r)
{
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, 0, r->hlen + (size_t)r->total);
    if (p == NULL) {
        s->stats.ipv4.no_buffer++;
        return NULL;
    }
    uint8_t *at = z_pbuf_put(p, r->hlen + (size_t)r->total);
    memcpy(at, r->hdr, r->hlen);
    for (struct z_frag *f = r->frags; f != NULL; f = f->next) {
        memcpy(at + r->hlen + f->off, f->p->data, f->len);
    }
    /* Make the header describe the whole, unfragmented datagram. */
    z_put_be16(at + 2, (uint16_t)(r->hlen + r->total));
    z_put_be16(at + 6, 0);
    z_put_be16(at + 10, 0);
    z_put_be16(at + 10, z_csum_finish(z_csum_add(0, at, r->hlen)));
    return p;
}

/* Take a fragment (p->data at its IP header). Returns the reassembled
 * datagram when this fragment completes one, else NULL (p consumed). */
static struct z_pbuf *reasm_input(struct z_stack *s, struct z_netif *nif,
                                  const struct z_ipv4_hdr *ip, struct z_pbuf *p)
{
    s->stats.ipv4.frag_rx++;
    uint32_t off = z_ipv4_frag_offset(ip);
    uint32_t len = ip->total_len - ip->ihl;
    bool more = z_ipv4_more_frags(ip);
    /* Every fragment but the last carries a multiple of 8 bytes, and no
     * datagram exceeds 65535 bytes. */
    if ((more && (len % 8 != 0 || len == 0)) || ip->ihl + off + len > 65535 ||
        s->reasm_bytes + len > CONFIG_NET_IPV4_REASM_BYTES) {
        s->stats.ipv4.reasm_drop++;
        z_pbuf_free(p);
        return NULL;
    }
    int64_t now = z_stack_now_us(s);
    struct z_reasm *r = reasm_find(s, ip, now);
    if (r == NULL) {
        s->stats.ipv4.reasm_drop++;
        z_pbuf_free(p);
        return NULL;
    }
    if (!more) {
        if ((r->total >= 0 && (uint32_t)r->total != off + len)) {
            goto bad;
        }
        r->total = (int32_t)(off + len);
    }
    if (r->total >= 0 && off + len > (uint32_t)r->total) {
        goto bad;
    }
    struct z_frag *nf = z_calloc(1, sizeof(*nf));
    if (nf == NULL) {
        goto bad;
    }
    if (off == 0) {
        memcpy(r->hdr, p->data, ip->ihl);
        r->hlen = ip->ihl;
        r->netif = nif;
    }
    z_pbuf_pull(p, ip->ihl);
    nf->off = (uint16_t)off;
    nf->len = (uint16_t)len;
    nf->p = p;
    int rc = frag_insert(r, nf);
    if (rc != 0) {
        z_free(nf);
        z_pbuf_free(p);
        if (rc < 0) {
            s->stats.ipv4.reasm_drop++;
            reasm_free(s, r);
        }
        return NULL;
    }
    r->bytes += len;
    s->reasm_bytes += len;
    if (r->total >= 0 && r->hlen + (size_t)r->total > z_pbuf_max_size(&s->pool)) {
        /* The whole datagram could never be put in one buffer here. */
        goto drop;
    }
    if (!reasm_done(r)) {
        return NULL;
    }
    /* Complete: the slot is freed now, with or without a buffer to join into. */
    struct z_pbuf *whole = reasm_join(s, r);
    if (whole != NULL) {
        s->stats.ipv4.reasm_ok++;
    } else {
        s->stats.ipv4.reasm_drop++;
    }
    reasm_free(s, r);
    return whole;

drop:
    s->stats.ipv4.reasm_drop++;
    reasm_free(s, r);
    return NULL;

bad:
    s->stats.ipv4.reasm_drop++;
    z_pbuf_free(p);
    reasm_free(s, r);
    return NULL;
}

/* ---- input
 * -------------------------------------------------------------------------------------------- */

static bool accept_dst(struct z_netif *nif, uint32_t dst)
{
    if (nif->flags & ZSOCK_IF_LOOPBACK) {
        return true; /* everything looped back was sent to us */
    }
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
    default:
        s->stats.ipv4.drop_proto++;
        if (!z_ipv4_is_broadcast(nif, ip.dst)) {
            z_icmp_send_error_locked(s, nif, Z_ICMP_DEST_UNREACH, Z_ICMP_UNREACH_PROTOCOL, 0,
                                     p->data, p->len);
        }
        z_pbuf_free(p);
        break;
    }
}
