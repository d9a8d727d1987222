/* UDP (RFC 768): binding and port allocation, demultiplexing of received
 * datagrams to sockets, output with checksum, and ICMP errors turned into a
 * pending error on the connected socket they concern. */
#include "net/udp.h"

#include <errno.h>
#include <string.h>

#ifdef CONFIG_NET_DHCPV4
#include "wire/dhcp.h"
#endif

int z_udp_pcb_init(struct z_udp_pcb *pcb, struct z_stack *s)
{
    memset(pcb, 0, sizeof(*pcb));
    pcb->stack = s;
    pcb->ttl = CONFIG_NET_IPV4_TTL;
    return z_ring_init(&pcb->rx, CONFIG_NET_UDP_RCVBUF);
}

static void table_remove(struct z_udp_pcb *pcb)
{
    for (struct z_udp_pcb **pp = &pcb->stack->udp_pcbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pcb) {
            *pp = pcb->next;
            break;
        }
    }
    pcb->in_table = false;
}

void z_udp_pcb_deinit(struct z_udp_pcb *pcb)
{
    if (pcb->in_table) {
        table_remove(pcb);
    }
    z_ring_free(&pcb->rx);
    pcb->rx_dgrams = 0;
}

/* Would (addr, port) clash with another socket's binding? */
static bool port_in_use(struct z_stack *s, const struct z_udp_pcb *self, uint32_t addr,
                        uint16_t port)
{
    for (struct z_udp_pcb *o = s->udp_pcbs; o != NULL; o = o->next) {
        if (o == self || o->lport != port) {
            continue;
        }
        if (o->laddr != 0 && addr != 0 && o->laddr != addr) {
            continue;
        }
        if (o->ifindex != 0 && self->ifindex != 0 && o->ifindex != self->ifindex) {
            continue;
        }
        if ((o->reuseaddr && self->reuseaddr) || (o->reuseport && self->reuseport)) {
            continue;
        }
        return true;
    }
    return false;
}

/* RFC 6056 algorithm 1: a random starting point for every search, so the
 * next port cannot be guessed from the last one. */
static int pick_ephemeral(struct z_stack *s, const struct z_udp_pcb *self, uint32_t addr)
{
    const uint32_t span = CONFIG_NET_EPHEMERAL_PORT_MAX - CONFIG_NET_EPHEMERAL_PORT_MIN + 1;
    uint32_t start;
    z_entropy(&start, sizeof(start));
    for (uint32_t i = 0; i < span; i++) {
        uint16_t port = (uint16_t)(CONFIG_NET_EPHEMERAL_PORT_MIN + (start + i) % span);
        if (!port_in_use(s, self, addr, port)) {
            return port;
        }
    }
    return -EADDRINUSE;
}

static bool bindable(struct z_stack *s, uint32_t addr)
{
    if (addr == 0 || z_ipv4_is_local_locked(s, addr) || (addr >> 24) == 127) {
        return true;
    }
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (z_ipv4_is_broadcast(nif, addr)) {
            return true;
        }
    }
    return false;
}

int z_udp_bind(struct z_udp_pcb *pcb, uint32_t addr, uint16_t port)
{
    struct z_stack *s = pcb->stack;
    if (pcb->in_table) {
        return -EINVAL;
    }
    if (!bindable(s, addr)) {
        return -EADDRNOTAVAIL;
    }
    bool explicit_port = port != 0;
    if (port == 0) {
        int p = pick_ephemeral(s, pcb, addr);
        if (p < 0) {
            return p;
        }
        port = (uint16_t)p;
    } else if (port_in_use(s, pcb, addr, port)) {
        return -EADDRINUSE;
    }
    pcb->laddr = addr;
    pcb->lport = port;
    pcb->addr_explicit = addr != 0;
    pcb->port_explicit = explicit_port;
    pcb->next = s->udp_pcbs;
    s->udp_pcbs = pcb;
    pcb->in_table = true;
    return 0;
}

static int autobind(struct z_udp_pcb *pcb)
{
    /* An address bound by the user survives a disconnect that gave back the port. */
    return pcb->in_table ? 0 : z_udp_bind(pcb, pcb->addr_explicit ? pcb->laddr : 0, 0);
}

int z_udp_connect(struct z_udp_pcb *pcb, uint32_t addr, uint16_t port)
{
    struct z_stack *s = pcb->stack;
    if (addr == 0) {
        addr = 0x7f000001u; /* connecting to "any" means this host, as on Linux */
    }
    struct z_netif *nif;
    uint32_t nh;
    int rc = z_ipv4_route_locked(s, addr, pcb->ifindex, &nif, &nh);
    if (rc < 0) {
        return rc;
    }
    if (z_ipv4_is_broadcast(nif, addr) && !pcb->broadcast) {
        return -EACCES;
    }
    rc = autobind(pcb);
    if (rc < 0) {
        return rc;
    }
    if (!pcb->addr_explicit) {
        uint32_t src = z_ipv4_select_source(nif, addr);
        pcb->laddr = src != 0 ? src : ((nif->flags & ZSOCK_IF_LOOPBACK) ? 0x7f000001u : 0);
    }
    pcb->raddr = addr;
    pcb->rport = port;
    pcb->pending_error = 0;
    return 0;
}

void z_udp_disconnect(struct z_udp_pcb *pcb)
{
    pcb->raddr = 0;
    pcb->rport = 0;
    if (!pcb->addr_explicit) {
        pcb->laddr = 0;
    }
    /* As Linux: a port the stack picked is given back; one the user bound stays. */
    if (pcb->in_table && !pcb->port_explicit) {
        table_remove(pcb);
        pcb->lport = 0;
    }
}

int z_udp_send(struct z_udp_pcb *pcb, uint32_t dst, uint16_t dport, struct z_iov_iter *it,
               size_t len)
{
    struct z_stack *s = pcb->stack;
    if (len > Z_UDP_MAX_PAYLOAD) {
        return -EMSGSIZE;
    }
    if (dst == 0) {
        dst = 0x7f000001u;
    }
    struct z_netif *nif;
    uint32_t nh;
    int rc = z_ipv4_route_locked(s, dst, pcb->ifindex, &nif, &nh);
    if (rc < 0) {
        s->stats.ipv4.no_route++;
        return rc;
    }
    if (z_ipv4_is_broadcast(nif, dst) && !pcb->broadcast) {
        return -EACCES;
    }
    rc = autobind(pcb);
    if (rc < 0) {
        return rc;
    }
    uint32_t src = pcb->laddr;
    if (src == 0 || z_ipv4_is_broadcast(nif, src)) {
        src = z_ipv4_select_source(nif, dst);
        if (src == 0 && (nif->flags & ZSOCK_IF_LOOPBACK)) {
            src = 0x7f000001u;
        }
    }
    if (Z_PBUF_HEADROOM + Z_UDP_HLEN + len > z_pbuf_max_size(&s->pool)) {
        /* No buffer this stack can ever supply holds it: waiting would not help. */
        return -EMSGSIZE;
    }
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, Z_UDP_HLEN + len);
    if (p == NULL) {
        s->stats.ipv4.no_buffer++;
        return -ENOBUFS;
    }
    uint8_t *at = z_pbuf_put(p, Z_UDP_HLEN + len);
    z_iov_gather(it, at + Z_UDP_HLEN, len);
    if (nif->flags & ZSOCK_IF_LOOPBACK) {
        /* Loopback never corrupts: skip the checksum, as Linux does there. */
        z_udp_emit_nocsum(at, Z_UDP_HLEN + len, pcb->lport, dport, len);
    } else {
        z_udp_emit(at, Z_UDP_HLEN + len, src, dst, pcb->lport, dport, len);
    }
    struct z_ipv4_tx tx = {
        .src = src,
        .dst = dst,
        .proto = Z_IPPROTO_UDP,
        .ttl = pcb->ttl,
        .tos = pcb->tos,
        .ifindex = pcb->ifindex,
    };
    s->stats.udp.tx++;
    return z_ipv4_output_locked(s, &tx, p);
}

int z_udp_set_rcvbuf(struct z_udp_pcb *pcb, size_t size)
{
    return z_ring_resize(&pcb->rx, size);
}

/* ---- input --------------------------------------------------------------------------------------
 */

static int match_score(const struct z_udp_pcb *pcb, const struct z_netif *nif,
                       const struct z_ipv4_hdr *ip, const struct z_udp_hdr *u, bool bcast)
{
    if (pcb->lport != u->dport) {
        return -1;
    }
    if (pcb->ifindex != 0 && pcb->ifindex != nif->index) {
        return -1;
    }
    int score = 0;
    if (pcb->laddr != 0) {
        if (pcb->laddr != ip->dst && !(bcast && z_ipv4_is_broadcast(nif, pcb->laddr))) {
            return -1;
        }
        score += 2;
    }
    if (pcb->rport != 0) {
        if (pcb->raddr != ip->src || pcb->rport != u->sport) {
            return -1;
        }
        score += 4;
    }
    return score + (pcb->ifindex != 0);
}

static void deliver(struct z_udp_pcb *pcb, const struct z_netif *nif, const struct z_ipv4_hdr *ip,
                    const struct z_udp_hdr *u, const uint8_t *payload, size_t len)
{
    struct z_stack *s = pcb->stack;
    struct z_udp_rec rec = {
        .len = (uint32_t)len,
        .src = ip->src,
        .dst = ip->dst,
        .ifindex = nif->index,
        .sport = u->sport,
        .ttl = ip->ttl,
        .tos = ip->tos,
    };
    if (z_ring_space(&pcb->rx) < sizeof(rec) + len) {
        s->stats.udp.drop_rcvbuf++;
        return;
    }
    z_ring_write(&pcb->rx, &rec, sizeof(rec));
    z_ring_write(&pcb->rx, payload, len);
    pcb->rx_dgrams++;
    s->stats.udp.rx++;
    if (pcb->notify != NULL) {
        z_stack_wakeup_locked(s, pcb->notify, pcb->ctx);
    }
}

void z_udp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    const uint8_t *seg = p->data + ip->ihl;
    size_t seglen = p->len - ip->ihl;
    struct z_udp_hdr u;
    int rc = p->csum_ok ? z_udp_parse_nocsum(seg, seglen, &u)
                        : z_udp_parse(seg, seglen, ip->src, ip->dst, &u);
    if (rc < 0) {
        s->stats.udp.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    const uint8_t *payload = seg + Z_UDP_HLEN;
    size_t len = u.len - Z_UDP_HLEN;
#ifdef CONFIG_NET_DHCPV4
    if (nif->dhcp != NULL && u.dport == Z_DHCP_CLIENT_PORT) {
        /* The client on this interface owns port 68 there. */
        s->stats.udp.rx++;
        z_dhcp4_input_locked(nif, ip, payload, len);
        z_pbuf_free(p);
        return;
    }
#endif
    bool bcast = z_ipv4_is_broadcast(nif, ip->dst);
    bool delivered = false;
    if (bcast) {
        for (struct z_udp_pcb *pcb = s->udp_pcbs; pcb != NULL; pcb = pcb->next) {
            if (match_score(pcb, nif, ip, &u, true) >= 0) {
                deliver(pcb, nif, ip, &u, payload, len);
                delivered = true;
            }
        }
    } else {
        struct z_udp_pcb *best = NULL;
        int best_score = -1;
        int ties = 0;
        for (struct z_udp_pcb *pcb = s->udp_pcbs; pcb != NULL; pcb = pcb->next) {
            int sc = match_score(pcb, nif, ip, &u, false);
            if (sc > best_score) {
                best = pcb;
                best_score = sc;
                ties = 1;
            } else if (sc == best_score && sc >= 0 && pcb->reuseport && best->reuseport) {
                ties++;
            }
        }
        if (best != NULL && ties > 1) {
            /* SO_REUSEPORT group: spread senders over its sockets by a hash of
             * the source, so one flow always reaches the same socket. */
            uint32_t h = (ip->src * 2654435761u) ^ (u.sport * 40503u);
            int pick = (int)(h % (uint32_t)ties);
            for (struct z_udp_pcb *pcb = s->udp_pcbs; pcb != NULL; pcb = pcb->next) {
                if (match_score(pcb, nif, ip, &u, false) == best_score && pcb->reuseport &&
                    pick-- == 0) {
                    best = pcb;
                    break;
                }
            }
        }
        if (best != NULL) {
            deliver(best, nif, ip, &u, payload, len);
            delivered = true;
        }
    }
    if (!delivered) {
        s->stats.udp.drop_no_port++;
        if (!bcast) {
            z_icmp_send_error_locked(s, nif, Z_ICMP_DEST_UNREACH, Z_ICMP_UNREACH_PORT, 0, p->data,
                                     p->len);
        }
    }
    z_pbuf_free(p);
}

void z_udp_icmp_error_locked(struct z_stack *s, int err, const uint8_t *orig, size_t orig_len)
{
    size_t ihl = (size_t)(orig[0] & 0xf) * 4;
    if (orig_len < ihl + 4) {
        return;
    }
    uint32_t src = z_get_be32(orig + 12);
    uint32_t dst = z_get_be32(orig + 16);
    uint16_t sport = z_get_be16(orig + ihl);
    uint16_t dport = z_get_be16(orig + ihl + 2);
    for (struct z_udp_pcb *pcb = s->udp_pcbs; pcb != NULL; pcb = pcb->next) {
        /* Only connected sockets hear about errors, as on Linux without IP_RECVERR. */
        if (pcb->lport == sport && pcb->rport == dport && pcb->raddr == dst &&
            (pcb->laddr == 0 || pcb->laddr == src)) {
            pcb->pending_error = err;
            if (pcb->notify != NULL) {
                z_stack_wakeup_locked(s, pcb->notify, pcb->ctx);
            }
        }
    }
}
