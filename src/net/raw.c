/* Raw IP sockets, the stack side: copies of received datagrams to the
 * sockets of their protocol, and output of what the application built.
 * Linux's semantics, which ping tools expect: an IPv4 socket reads the IP
 * header too, an IPv6 one the payload only; the stack handles the datagram
 * as well (it still answers echo requests). */
#include "net/raw.h"

#include <errno.h>
#include <string.h>

#if CONFIG_NET_IPV6
#include "net/ip6.h"
#endif

void z_raw_pcb_init(struct z_raw_pcb *pcb, struct z_stack *s, uint8_t fam, uint8_t proto)
{
    memset(pcb, 0, sizeof(*pcb));
    pcb->stack = s;
    pcb->fam = fam;
    pcb->proto = proto;
    pcb->hdrincl = fam == Z_FAM4 && proto == 255; /* IPPROTO_RAW, as Linux */
    pcb->ttl = CONFIG_NET_IPV4_TTL;
    z_ring_init_lazy(&pcb->rx, Z_RAW_RCVBUF);
    pcb->next = s->raw_pcbs;
    s->raw_pcbs = pcb;
}

void z_raw_pcb_deinit(struct z_raw_pcb *pcb)
{
    for (struct z_raw_pcb **pp = &pcb->stack->raw_pcbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pcb) {
            *pp = pcb->next;
            break;
        }
    }
    z_ring_free(&pcb->rx);
    pcb->rx_dgrams = 0;
}

int z_raw_set_rcvbuf(struct z_raw_pcb *pcb, size_t size)
{
    return z_ring_resize(&pcb->rx, size);
}

/* Queue one datagram (data, len) from rec's source, or count the drop. */
static void deliver(struct z_raw_pcb *pcb, struct z_raw_rec *rec, const uint8_t *data, size_t len)
{
    struct z_stack *s = pcb->stack;
    if (z_ring_space(&pcb->rx) < sizeof(*rec) + len) {
        s->stats.raw.drop_rcvbuf++;
        return;
    }
    rec->len = (uint32_t)len;
    /* A lazy ring may fail to grow: then nothing is kept of this datagram. */
    size_t before = pcb->rx.len;
    if (z_ring_write(&pcb->rx, rec, sizeof(*rec)) != sizeof(*rec) ||
        z_ring_write(&pcb->rx, data, len) != len) {
        pcb->rx.len = before;
        s->stats.raw.drop_rcvbuf++;
        return;
    }
    pcb->rx_dgrams++;
    s->stats.raw.rx++;
    if (pcb->notify != NULL) {
        z_stack_wakeup_locked(s, pcb->notify, pcb->ctx);
    }
}

/* A received datagram as the filters see it: its version and protocol,
 * addresses (IPv4 host order, or IPv6) and the interface it came on. */
struct raw_in {
    uint8_t fam;
    uint8_t proto;
    uint32_t src4, dst4;
    const uint8_t *src6, *dst6;
    struct z_netif *nif;
};

static bool matches(const struct z_raw_pcb *pcb, const struct raw_in *in)
{
    if (pcb->fam != in->fam || pcb->proto != in->proto || pcb->proto == 255 ||
        (pcb->ifindex != 0 && pcb->ifindex != in->nif->index)) {
        return false;
    }
#if CONFIG_NET_IPV6
    if (in->fam == Z_FAM6) {
        return (z_ipv6_is_unspecified(pcb->laddr6) ||
                memcmp(pcb->laddr6, in->dst6, Z_IPV6_ALEN) == 0) &&
               (!pcb->connected || memcmp(pcb->raddr6, in->src6, Z_IPV6_ALEN) == 0);
    }
#endif
    return (pcb->laddr == 0 || pcb->laddr == in->dst4) &&
           (!pcb->connected || pcb->raddr == in->src4);
}

/* Copy (data, len) to every raw socket that takes it; whether one did. */
static bool deliver_all(const struct raw_in *in, const uint8_t *data, size_t len)
{
    bool matched = false;
    for (struct z_raw_pcb *pcb = in->nif->stack->raw_pcbs; pcb != NULL; pcb = pcb->next) {
        if (!matches(pcb, in)) {
            continue;
        }
        matched = true;
        struct z_raw_rec rec;
        memset(&rec, 0, sizeof(rec));
        rec.ifindex = in->nif->index;
        rec.src4 = in->src4;
#if CONFIG_NET_IPV6
        if (in->fam == Z_FAM6) {
            memcpy(rec.src6, in->src6, Z_IPV6_ALEN);
        }
#endif
        deliver(pcb, &rec, data, len);
    }
    return matched;
}

bool z_raw4_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, const struct z_pbuf *p)
{
    struct raw_in in = {
        .fam = Z_FAM4, .proto = ip->proto, .src4 = ip->src, .dst4 = ip->dst, .nif = nif};
    return nif->stack->raw_pcbs != NULL && deliver_all(&in, p->data, p->len);
}

#if CONFIG_NET_IPV6
bool z_raw6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, uint8_t proto,
                         const struct z_pbuf *p, size_t off)
{
    struct raw_in in = {
        .fam = Z_FAM6, .proto = proto, .src6 = ip->src, .dst6 = ip->dst, .nif = nif};
    return nif->stack->raw_pcbs != NULL && deliver_all(&in, p->data + off, p->len - off);
}
#endif

/* A buffer holding len bytes gathered from it, with room for the headers,
 * in the socket's transmit class. */
static struct z_pbuf *gather(const struct z_raw_pcb *pcb, struct z_iov_iter *it, size_t len)
{
    struct z_pbuf *p = z_pbuf_alloc(&pcb->stack->pool, Z_PBUF_HEADROOM, len);
    if (p == NULL) {
        return NULL;
    }
    z_iov_gather(it, z_pbuf_put(p, len), len);
#if CONFIG_NET_TX_QUEUE
    p->prio = pcb->prio;
#endif
    return p;
}

int z_raw4_send_locked(struct z_raw_pcb *pcb, uint32_t dst, struct z_iov_iter *it, size_t len)
{
    struct z_stack *s = pcb->stack;
    if (len > (pcb->hdrincl ? 65535u : 65535u - Z_IPV4_HLEN)) {
        return -EMSGSIZE;
    }
    if (pcb->hdrincl && len < Z_IPV4_HLEN) {
        return -EINVAL;
    }
    struct z_pbuf *p = gather(pcb, it, len);
    if (p == NULL) {
        s->stats.ipv4.no_buffer++;
        return -ENOBUFS;
    }
    int rc;
    if (pcb->hdrincl) {
        /* The header must at least describe itself: version 4, a length
         * within what was given. Linux sends shorter headers unchecked;
         * zsock refuses them. */
        size_t ihl = (size_t)(p->data[0] & 0xf) * 4;
        if ((p->data[0] >> 4) != 4 || ihl < Z_IPV4_HLEN || ihl > len) {
            z_pbuf_free(p);
            return -EINVAL;
        }
        rc = z_ipv4_output_hdrincl_locked(s, dst, pcb->ifindex, p);
    } else {
        struct z_ipv4_tx tx = {
            .src = pcb->laddr,
            .dst = dst,
            .proto = pcb->proto,
            .ttl = pcb->ttl,
            .tos = pcb->tos,
            .ifindex = pcb->ifindex,
        };
        rc = z_ipv4_output_locked(s, &tx, p);
    }
    s->stats.raw.tx += rc == 0;
    return rc;
}

#if CONFIG_NET_IPV6
int z_raw6_send_locked(struct z_raw_pcb *pcb, const uint8_t dst[Z_IPV6_ALEN], int scope,
                       struct z_iov_iter *it, size_t len)
{
    struct z_stack *s = pcb->stack;
    if (len > 65535) {
        return -EMSGSIZE;
    }
    bool icmp = pcb->proto == Z_IPPROTO_ICMPV6;
    if (icmp && len < Z_ICMP6_HLEN) {
        return -EINVAL; /* no room for the checksum, as Linux */
    }
    struct z_ipv6_tx tx = {
        .proto = pcb->proto,
        .hop_limit = pcb->o6.hops,
        .tclass = pcb->o6.tclass,
        .ifindex = scope != 0 ? scope : pcb->ifindex,
        .dontfrag = pcb->o6.dontfrag,
        .mtu = pcb->o6.mtu,
    };
    memcpy(tx.dst, dst, Z_IPV6_ALEN);
    memcpy(tx.src, pcb->laddr6, Z_IPV6_ALEN);
    if (z_ipv6_is_multicast(dst) && tx.hop_limit == 0) {
        tx.hop_limit = 1;
    }
    if (icmp && z_ipv6_is_unspecified(tx.src)) {
        /* The checksum covers the source: choose it now, as output would. */
        struct z_netif *nif;
        uint8_t nh[Z_IPV6_ALEN];
        int rc = z_ipv6_route_locked(s, dst, tx.ifindex, &nif, nh);
        if (rc < 0) {
            s->stats.ipv6.no_route++;
            return rc;
        }
        if (z_ipv6_select_source(nif, dst, tx.src) < 0) {
            return -EADDRNOTAVAIL;
        }
    }
    struct z_pbuf *p = gather(pcb, it, len);
    if (p == NULL) {
        s->stats.ipv6.no_buffer++;
        return -ENOBUFS;
    }
    if (icmp) {
        p->data[2] = p->data[3] = 0;
        uint32_t sum = z_csum_pseudo6(tx.src, tx.dst, (uint32_t)len, Z_IPPROTO_ICMPV6);
        z_put_be16(p->data + 2, z_csum_finish(z_csum_add(sum, p->data, len)));
    }
    int rc = z_ipv6_output_locked(s, &tx, p);
    s->stats.raw.tx += rc == 0;
    return rc;
}
#endif
