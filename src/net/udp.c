/* UDP (RFC 768): binding and port allocation, demultiplexing of received
 * datagrams to sockets, output with checksum, and ICMP errors turned into a
 * pending error on the connected socket they concern. */
#include "net/udp.h"

#include <errno.h>
#include <string.h>

#if CONFIG_NET_IPV6
#include "net/ip6.h"
#endif
#ifdef CONFIG_NET_DHCPV4
#include "wire/dhcp.h"
#endif

static uint8_t default_fam(const struct z_udp_pcb *pcb)
{
    return z_sock_fam(Z_V6(pcb->v6sock), pcb->v6only);
}

/* The versions the pcb may speak: those of its bound address, else all its
 * socket allows. */
static uint8_t allowed_fam(const struct z_udp_pcb *pcb)
{
    return pcb->addr_explicit ? Z_FAM(pcb->bfam) : default_fam(pcb);
}

int z_udp_pcb_init(struct z_udp_pcb *pcb, struct z_stack *s, bool v6sock)
{
    memset(pcb, 0, sizeof(*pcb));
    pcb->stack = s;
    pcb->ttl = CONFIG_NET_IPV4_TTL;
    pcb->v6sock = v6sock;
    pcb->v6only = v6sock; /* Zephyr's default: IPv4 needs IPV6_V6ONLY off */
    pcb->fam = pcb->bfam = default_fam(pcb);
#if CONFIG_NET_IGMP
    pcb->mcast_ttl = 1;
    pcb->mcast_loop = true;
#endif
#if CONFIG_NET_IPV6
    pcb->mcast_hops6 = 1;
    pcb->mcast_loop6 = true;
#endif
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
#if CONFIG_NET_IGMP || CONFIG_NET_IPV6
    while (pcb->membs != NULL) {
        struct z_ipep g = {.fam = pcb->membs->fam, .a4 = pcb->membs->g4};
#if CONFIG_NET_IPV6
        memcpy(g.a6, pcb->membs->g6, 16);
#endif
        z_udp_mcast_membership(pcb, &g, pcb->membs->ifindex, false);
    }
#endif
    z_ring_free(&pcb->rx);
    pcb->rx_dgrams = 0;
}

/* Would self's binding (its fam and local address) on `port` clash with
 * another socket's? */
static bool port_in_use(struct z_stack *s, const struct z_udp_pcb *self, const struct z_lbind *b,
                        uint16_t port)
{
    for (struct z_udp_pcb *o = s->udp_pcbs; o != NULL; o = o->next) {
        if (o == self || o->lport != port || !z_laddr_overlap(&Z_LBIND(o), b)) {
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
static int pick_ephemeral(struct z_stack *s, const struct z_udp_pcb *self, const struct z_lbind *b)
{
    uint32_t lo = CONFIG_NET_EPHEMERAL_PORT_MIN;
    uint32_t span = CONFIG_NET_EPHEMERAL_PORT_MAX - CONFIG_NET_EPHEMERAL_PORT_MIN + 1;
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
    z_eph_range(self->port_range, &lo, &span);
#endif
    uint32_t start;
    z_entropy(&start, sizeof(start));
    for (uint32_t i = 0; i < span; i++) {
        uint16_t port = (uint16_t)(lo + (start + i) % span);
        if (!port_in_use(s, self, b, port)) {
            return port;
        }
    }
    return -EADDRINUSE;
}

static bool bindable(struct z_stack *s, uint32_t addr)
{
    if (addr == 0 || z_ipv4_is_local_locked(s, addr) || (addr >> 24) == 127 ||
        z_ipv4_is_multicast(addr)) {
        return true;
    }
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (z_ipv4_is_broadcast(nif, addr)) {
            return true;
        }
    }
    return false;
}

/* Take the local endpoint (fam, addresses, port; 0 picks one) and join the
 * demux list; on failure the pcb is left as it was. */
static int bind_as(struct z_udp_pcb *pcb, uint8_t fam, const struct z_ipep *ep, bool explicit_addr)
{
    struct z_stack *s = pcb->stack;
    const struct z_lbind b = {fam, ep->a4, Z_ADDR6(ep->a6)};
    int port = ep->port;
    if (port == 0) {
        port = pick_ephemeral(s, pcb, &b);
    } else if (port_in_use(s, pcb, &b, (uint16_t)port)) {
        port = -EADDRINUSE;
    }
    if (port < 0) {
        return port;
    }
    pcb->fam = pcb->bfam = fam;
    pcb->laddr = ep->a4;
#if CONFIG_NET_IPV6
    memcpy(pcb->laddr6, ep->a6, Z_IPV6_ALEN);
#endif
    pcb->lport = (uint16_t)port;
    pcb->addr_explicit = explicit_addr;
    pcb->port_explicit = ep->port != 0;
    pcb->next = s->udp_pcbs;
    s->udp_pcbs = pcb;
    pcb->in_table = true;
    return 0;
}

int z_udp_bind(struct z_udp_pcb *pcb, const struct z_ipep *ep)
{
    struct z_stack *s = pcb->stack;
    if (pcb->in_table) {
        return -EINVAL;
    }
    if (Z_FAM(ep->fam) == Z_FAM4) {
        if (Z_V6(pcb->v6sock) && pcb->v6only) {
            return -EINVAL; /* a mapped address on an IPv6-only socket, as Linux */
        }
        if (!bindable(s, ep->a4)) {
            return -EADDRNOTAVAIL;
        }
        struct z_ipep e4 = {.fam = Z_FAM4, .a4 = ep->a4, .port = ep->port};
        return bind_as(pcb, Z_FAM4, &e4, ep->a4 != 0 || Z_V6(pcb->v6sock));
    }
#if CONFIG_NET_IPV6
    if (!Z_V6(pcb->v6sock)) {
        return -EAFNOSUPPORT;
    }
    bool any = z_ipv6_is_unspecified(ep->a6);
    int old_if = pcb->ifindex;
    int rc = z_ipep_take_scope(s, ep, true, &pcb->ifindex);
    if (rc == 0 && !any && !z_ipv6_is_multicast(ep->a6) &&
        !z_ipv6_bindable_locked(s, ep->a6, pcb->ifindex)) {
        rc = -EADDRNOTAVAIL;
    }
    if (rc == 0) {
        /* An IPv6 address only, or :: (with 0.0.0.0 for a dual-stack socket). */
        struct z_ipep e6 = *ep;
        e6.a4 = 0;
        rc = bind_as(pcb, any ? default_fam(pcb) : Z_FAM6, &e6, !any);
    }
    if (rc < 0) {
        pcb->ifindex = old_if;
    }
    return rc;
#else
    return -EAFNOSUPPORT;
#endif
}

static int autobind(struct z_udp_pcb *pcb)
{
    if (pcb->in_table) {
        return 0;
    }
    /* An address bound by the user survives a disconnect that gave back the port. */
    struct z_ipep ep = {0};
    if (pcb->addr_explicit) {
        ep.a4 = pcb->laddr;
#if CONFIG_NET_IPV6
        memcpy(ep.a6, pcb->laddr6, Z_IPV6_ALEN);
#endif
    }
    return bind_as(pcb, pcb->addr_explicit ? Z_FAM(pcb->bfam) : default_fam(pcb), &ep,
                   pcb->addr_explicit);
}

/* The reason a pcb cannot speak version f. */
static int fam_error(const struct z_udp_pcb *pcb, uint8_t f)
{
    return f == Z_FAM4 && pcb->v6only ? -ENETUNREACH : -EAFNOSUPPORT;
}

int z_udp_connect(struct z_udp_pcb *pcb, const struct z_ipep *ep)
{
    struct z_stack *s = pcb->stack;
    if (!(allowed_fam(pcb) & Z_FAM(ep->fam))) {
        return fam_error(pcb, Z_FAM(ep->fam));
    }
#if CONFIG_NET_IPV6
    if (Z_FAM(ep->fam) == Z_FAM6) {
        uint8_t dst[Z_IPV6_ALEN];
        memcpy(dst, ep->a6, Z_IPV6_ALEN);
        if (z_ipv6_is_unspecified(dst)) {
            dst[15] = 1; /* "any" means this host, as on Linux */
        }
        int old_if = pcb->ifindex;
        int rc = z_ipep_take_scope(s, ep, true, &pcb->ifindex);
        struct z_netif *nif = NULL;
        uint8_t nh[Z_IPV6_ALEN];
        if (rc == 0) {
            rc = z_ipv6_route_locked(s, dst, pcb->ifindex, &nif, nh);
        }
        if (rc == 0) {
            rc = autobind(pcb);
        }
        if (rc == 0 && !pcb->addr_explicit && z_ipv6_select_source(nif, dst, pcb->laddr6) < 0) {
            rc = -EADDRNOTAVAIL;
        }
        if (rc < 0) {
            pcb->ifindex = old_if;
            return rc;
        }
        memcpy(pcb->raddr6, dst, Z_IPV6_ALEN);
        pcb->rport = ep->port;
        pcb->fam = Z_FAM6;
        pcb->pending_error = 0;
        return 0;
    }
#endif
    uint32_t addr = ep->a4;
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
    pcb->rport = ep->port;
    pcb->fam = Z_FAM4;
    pcb->pending_error = 0;
    return 0;
}

void z_udp_disconnect(struct z_udp_pcb *pcb)
{
    pcb->raddr = 0;
    pcb->rport = 0;
    pcb->fam = pcb->in_table ? Z_FAM(pcb->bfam) : default_fam(pcb);
    if (!pcb->addr_explicit) {
        pcb->laddr = 0;
#if CONFIG_NET_IPV6
        memset(pcb->laddr6, 0, Z_IPV6_ALEN);
        memset(pcb->raddr6, 0, Z_IPV6_ALEN);
#endif
    }
    /* As Linux: a port the stack picked is given back; one the user bound stays. */
    if (pcb->in_table && !pcb->port_explicit) {
        table_remove(pcb);
        pcb->lport = 0;
    }
}

void z_udp_peer(const struct z_udp_pcb *pcb, struct z_ipep *out)
{
    z_ipep_make(out, Z_FAM(pcb->fam) == Z_FAM6 ? Z_FAM6 : Z_FAM4, pcb->raddr, Z_ADDR6(pcb->raddr6),
                pcb->rport, pcb->ifindex);
}

void z_udp_local(const struct z_udp_pcb *pcb, struct z_ipep *out)
{
    /* A dual-stack or IPv6 binding shows as IPv6 (:: when unbound). */
    z_ipep_make(out, (Z_FAM(pcb->fam) & Z_FAM6) ? Z_FAM6 : Z_FAM4, pcb->laddr, Z_ADDR6(pcb->laddr6),
                pcb->lport, pcb->ifindex);
}

/* A buffer with the UDP payload gathered from `it`, room left for the
 * headers; NULL with the error in *err. */
static struct z_pbuf *payload_buf(struct z_stack *s, struct z_iov_iter *it, size_t len,
                                  const struct z_udp_txopt *opt, int *err)
{
    if (Z_PBUF_HEADROOM + Z_UDP_HLEN + len > z_pbuf_max_size(&s->pool)) {
        /* No buffer this stack can ever supply holds it: waiting would not help. */
        *err = -EMSGSIZE;
        return NULL;
    }
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, Z_UDP_HLEN + len);
    if (p == NULL) {
        *err = -ENOBUFS;
        return NULL;
    }
    uint8_t *at = z_pbuf_put(p, Z_UDP_HLEN + len);
    z_iov_gather(it, at + Z_UDP_HLEN, len);
#if CONFIG_NET_TX_QUEUE
    p->prio = opt->prio;
    p->txtime = opt->txtime;
#endif
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    p->ts_id = opt->ts_id;
    p->ts_key = opt->ts_key;
#endif
    (void)opt;
    return p;
}

#if CONFIG_NET_IPV6
static int send6(struct z_udp_pcb *pcb, const struct z_ipep *ep, struct z_iov_iter *it, size_t len,
                 const struct z_udp_txopt *opt)
{
    struct z_stack *s = pcb->stack;
    struct z_ipv6_tx tx = {.proto = Z_IPPROTO_UDP, .tclass = pcb->o6.tclass, .mtu = pcb->o6.mtu};
    memcpy(tx.dst, ep->a6, Z_IPV6_ALEN);
    if (z_ipv6_is_unspecified(tx.dst)) {
        tx.dst[15] = 1;
    }
    bool mc = z_ipv6_is_multicast(tx.dst);
    tx.ifindex = opt->ifindex != 0 ? opt->ifindex : pcb->ifindex;
    if (mc && opt->ifindex == 0 && pcb->mcast_if6 != 0) {
        tx.ifindex = pcb->mcast_if6;
    }
    if (ep->scope != 0 && (z_ipv6_is_link_local(tx.dst) || z_ipv6_is_multicast(tx.dst))) {
        if (tx.ifindex != 0 && tx.ifindex != (int)ep->scope) {
            return -EINVAL;
        }
        tx.ifindex = (int)ep->scope;
    } else if (z_ipv6_is_link_local(tx.dst) && tx.ifindex == 0) {
        return -EINVAL; /* which link? */
    }
    if (tx.ifindex != 0 && z_netif_by_index_locked(s, tx.ifindex) == NULL) {
        return -ENODEV;
    }
    struct z_netif *nif;
    uint8_t nh[Z_IPV6_ALEN];
    int rc = z_ipv6_route_locked(s, tx.dst, tx.ifindex, &nif, nh);
    if (rc < 0) {
        s->stats.ipv6.no_route++;
        return rc;
    }
    rc = autobind(pcb);
    if (rc < 0) {
        return rc;
    }
    if (opt->src6 != NULL && !z_ipv6_is_unspecified(opt->src6)) {
        if (!z_ipv6_is_local_locked(s, opt->src6)) {
            return -EINVAL; /* as Linux for IPV6_PKTINFO */
        }
        memcpy(tx.src, opt->src6, Z_IPV6_ALEN);
    } else if (!z_ipv6_is_unspecified(pcb->laddr6) && !z_ipv6_is_multicast(pcb->laddr6)) {
        memcpy(tx.src, pcb->laddr6, Z_IPV6_ALEN);
    } else if (z_ipv6_select_source(nif, tx.dst, tx.src) < 0) {
        return -EADDRNOTAVAIL;
    }
    tx.hop_limit = (uint8_t)(opt->hops != 0 ? opt->hops - 1 : mc ? pcb->mcast_hops6 : pcb->o6.hops);
    tx.mcast_loop = mc && pcb->mcast_loop6;
    tx.dontfrag = pcb->o6.dontfrag;
    struct z_pbuf *p = payload_buf(s, it, len, opt, &rc);
    if (p == NULL) {
        s->stats.ipv6.no_buffer += rc == -ENOBUFS;
        return rc;
    }
    z_udp6_emit(p->data, p->len, tx.src, tx.dst, pcb->lport, ep->port, len);
    s->stats.udp.tx++;
    return z_ipv6_output_locked(s, &tx, p);
}
#endif

int z_udp_send(struct z_udp_pcb *pcb, const struct z_ipep *ep, struct z_iov_iter *it, size_t len,
               const struct z_udp_txopt *opt)
{
    static const struct z_udp_txopt none;
    struct z_stack *s = pcb->stack;
    if (opt == NULL) {
        opt = &none;
    }
    if (len > (Z_FAM(ep->fam) == Z_FAM6 ? Z_UDP6_MAX_PAYLOAD : Z_UDP_MAX_PAYLOAD)) {
        return -EMSGSIZE;
    }
    if (!(allowed_fam(pcb) & Z_FAM(ep->fam))) {
        return fam_error(pcb, Z_FAM(ep->fam));
    }
#if CONFIG_NET_IPV6
    if (Z_FAM(ep->fam) == Z_FAM6) {
        return send6(pcb, ep, it, len, opt);
    }
#endif
    uint32_t dst = ep->a4;
    if (dst == 0) {
        dst = 0x7f000001u;
    }
#if CONFIG_NET_IGMP
    bool mc = z_ipv4_is_multicast(dst);
    int oif = mc && pcb->mcast_if != 0 ? pcb->mcast_if : pcb->ifindex;
#else
    int oif = pcb->ifindex;
#endif
#ifdef CONFIG_NET_CONTEXT_RECV_PKTINFO
    if (opt != NULL && opt->ifindex != 0) {
        oif = opt->ifindex; /* IP_PKTINFO's interface */
    }
    if (opt != NULL && opt->src4 != 0 && !z_ipv4_is_local_locked(s, opt->src4) &&
        (opt->src4 >> 24) != 127) {
        return -EINVAL; /* a source that is not ours, as Linux */
    }
#endif
    struct z_netif *nif;
    uint32_t nh;
    int rc = z_ipv4_route_locked(s, dst, oif, &nif, &nh);
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
#ifdef CONFIG_NET_CONTEXT_RECV_PKTINFO
    if (opt != NULL && opt->src4 != 0) {
        src = opt->src4;
    }
#endif
    if (src == 0 || z_ipv4_is_broadcast(nif, src) || z_ipv4_is_multicast(src)) {
        src = z_ipv4_select_source(nif, dst);
        if (src == 0 && (nif->flags & ZSOCK_IF_LOOPBACK)) {
            src = 0x7f000001u;
        }
    }
    struct z_pbuf *p = payload_buf(s, it, len, opt, &rc);
    if (p == NULL) {
        s->stats.ipv4.no_buffer += rc == -ENOBUFS;
        return rc;
    }
    if (nif->flags & ZSOCK_IF_LOOPBACK) {
        /* Loopback never corrupts: skip the checksum, as Linux does there. */
        z_udp_emit_nocsum(p->data, p->len, pcb->lport, ep->port, len);
    } else {
        z_udp_emit(p->data, p->len, src, dst, pcb->lport, ep->port, len);
    }
    struct z_ipv4_tx tx = {
        .src = src,
        .dst = dst,
        .proto = Z_IPPROTO_UDP,
        .ttl = pcb->ttl,
        .tos = pcb->tos,
        .ifindex = oif,
    };
#if CONFIG_NET_IGMP
    if (mc) {
        tx.ttl = pcb->mcast_ttl;
        tx.mcast_loop = pcb->mcast_loop;
    }
#endif
#ifdef CONFIG_NET_CONTEXT_RECV_PKTINFO
    if (opt != NULL && opt->ttl4 != 0) {
        tx.ttl = (uint8_t)opt->ttl4;
    }
    if (opt != NULL && opt->tos4 != 0) {
        tx.tos = (uint8_t)(opt->tos4 - 1);
    }
#endif
    s->stats.udp.tx++;
    return z_ipv4_output_locked(s, &tx, p);
}

#if CONFIG_NET_IGMP || CONFIG_NET_IPV6
/* ---- multicast membership ---------------------------------------------------------------- */

static struct z_udp_memb **memb_find(struct z_udp_pcb *pcb, const struct z_ipep *g, int ifindex)
{
    for (struct z_udp_memb **pp = &pcb->membs; *pp != NULL; pp = &(*pp)->next) {
        const struct z_udp_memb *m = *pp;
        if (Z_FAM(m->fam) != Z_FAM(g->fam) || (ifindex != 0 && m->ifindex != ifindex)) {
            continue;
        }
#if CONFIG_NET_IPV6
        if (Z_FAM(g->fam) == Z_FAM6 ? memcmp(m->g6, g->a6, 16) == 0 : m->g4 == g->a4) {
#else
        if (m->g4 == g->a4) {
#endif
            return pp;
        }
    }
    return NULL;
}

/* Join or leave m's group on nif (a reference per socket membership). */
static int iface_membership(struct z_netif *nif, const struct z_udp_memb *m, bool join)
{
#if CONFIG_NET_IPV6
    if (Z_FAM(m->fam) == Z_FAM6) {
        if (!join) {
            z_mld_leave_locked(nif, m->g6);
            return 0;
        }
        return z_mld_join_locked(nif, m->g6);
    }
#endif
#if CONFIG_NET_IGMP
    return join ? z_igmp_join_locked(nif, m->g4) : z_igmp_leave_locked(nif, m->g4);
#else
    (void)nif;
    (void)join;
    return -EAFNOSUPPORT;
#endif
}

int z_udp_mcast_membership(struct z_udp_pcb *pcb, const struct z_ipep *group, int ifindex,
                           bool join)
{
    struct z_stack *s = pcb->stack;
    bool v6 = Z_FAM(group->fam) == Z_FAM6;
    if (v6 ? !Z_V6(pcb->v6sock) : (Z_V6(pcb->v6sock) && pcb->v6only)) {
        return -EAFNOSUPPORT;
    }
#if CONFIG_NET_IPV6
    if (v6 ? !z_ipv6_is_multicast(group->a6) : !z_ipv4_is_multicast(group->a4)) {
#else
    if (v6 || !z_ipv4_is_multicast(group->a4)) {
#endif
        return -EINVAL;
    }
    if (!join) {
        struct z_udp_memb **pp = memb_find(pcb, group, ifindex);
        if (pp == NULL) {
            return -EADDRNOTAVAIL;
        }
        struct z_udp_memb *m = *pp;
        *pp = m->next;
        pcb->n_membs--;
        struct z_netif *nif = z_netif_by_index_locked(s, m->ifindex);
        if (nif != NULL) {
            iface_membership(nif, m, false);
        }
        z_free(m);
        return 0;
    }
    struct z_netif *nif = NULL;
    int rc = 0;
    if (ifindex != 0) {
        nif = z_netif_by_index_locked(s, ifindex);
        rc = nif != NULL ? 0 : -ENODEV;
    }
#if CONFIG_NET_IPV6
    else if (v6) {
        uint8_t nh[Z_IPV6_ALEN];
        rc = z_ipv6_route_locked(s, group->a6, pcb->mcast_if6, &nif, nh);
    }
#endif
    else {
#if CONFIG_NET_IGMP
        uint32_t nh;
        rc = z_ipv4_route_locked(s, group->a4, pcb->mcast_if, &nif, &nh);
#else
        rc = -EAFNOSUPPORT;
#endif
    }
    if (rc < 0) {
        return rc == -ENETDOWN ? -ENODEV : rc;
    }
    if (memb_find(pcb, group, nif->index) != NULL) {
        return -EADDRINUSE;
    }
    if (pcb->n_membs >= Z_UDP_MAX_MEMBERSHIPS) {
        return -ENOBUFS;
    }
    struct z_udp_memb *m = z_calloc(1, sizeof(*m));
    if (m == NULL) {
        return -ENOMEM;
    }
    m->fam = Z_FAM(group->fam);
    m->ifindex = nif->index;
    m->g4 = group->a4;
#if CONFIG_NET_IPV6
    memcpy(m->g6, group->a6, 16);
#endif
    rc = iface_membership(nif, m, true);
    if (rc < 0) {
        z_free(m);
        return rc == -ENOSPC ? -ENOBUFS : rc;
    }
    m->next = pcb->membs;
    pcb->membs = m;
    pcb->n_membs++;
    return 0;
}
#endif

int z_udp_set_rcvbuf(struct z_udp_pcb *pcb, size_t size)
{
    return z_ring_resize(&pcb->rx, size);
}

/* ---- input --------------------------------------------------------------------------------------
 */

/* A received datagram, of either version, as the demux sees it. */
struct udp_in {
    const struct z_netif *nif;
    uint8_t fam;
    bool mcast; /* broadcast or multicast: every matching socket gets it */
    uint32_t src4, dst4;
    const uint8_t *src6, *dst6;
    uint16_t sport, dport;
    uint8_t ttl, tos;
    const uint8_t *payload;
    size_t len;
    int64_t stamp;
};

static int match_score(const struct z_udp_pcb *pcb, const struct udp_in *in)
{
    if (pcb->lport != in->dport || !(Z_FAM(pcb->fam) & Z_FAM(in->fam))) {
        return -1;
    }
    if (pcb->ifindex != 0 && pcb->ifindex != in->nif->index) {
        return -1;
    }
    int score = 0;
#if CONFIG_NET_IPV6
    if (Z_FAM(in->fam) == Z_FAM6) {
        if (!z_ipv6_is_unspecified(pcb->laddr6)) {
            if (memcmp(pcb->laddr6, in->dst6, Z_IPV6_ALEN) != 0) {
                return -1;
            }
            score += 2;
        }
        if (pcb->rport != 0) {
            if (memcmp(pcb->raddr6, in->src6, Z_IPV6_ALEN) != 0 || pcb->rport != in->sport) {
                return -1;
            }
            score += 4;
        }
        return score + (pcb->ifindex != 0);
    }
#endif
    if (pcb->laddr != 0) {
        if (pcb->laddr != in->dst4 && !(in->mcast && z_ipv4_is_broadcast(in->nif, pcb->laddr))) {
            return -1;
        }
        score += 2;
    }
    if (pcb->rport != 0) {
        if (pcb->raddr != in->src4 || pcb->rport != in->sport) {
            return -1;
        }
        score += 4;
    }
    return score + (pcb->ifindex != 0);
}

static void deliver(struct z_udp_pcb *pcb, const struct udp_in *in)
{
    struct z_stack *s = pcb->stack;
    struct z_udp_rec rec = {
        .len = (uint32_t)in->len,
        .src = in->src4,
        .dst = in->dst4,
        .ifindex = in->nif->index,
        .sport = in->sport,
        .ttl = in->ttl,
        .tos = in->tos,
        .fam = Z_FAM(in->fam),
#if CONFIG_NET_SOCKETS_TIMESTAMPING
        .stamp = in->stamp,
#endif
    };
    size_t hlen = z_udp_rec_hlen(&rec);
    if (z_ring_space(&pcb->rx) < hlen + in->len) {
        s->stats.udp.drop_rcvbuf++;
        return;
    }
    z_ring_write(&pcb->rx, &rec, sizeof(rec));
#if CONFIG_NET_IPV6
    if (Z_FAM(in->fam) == Z_FAM6) {
        struct z_udp_rec6 r6;
        memcpy(r6.src, in->src6, Z_IPV6_ALEN);
        memcpy(r6.dst, in->dst6, Z_IPV6_ALEN);
        z_ring_write(&pcb->rx, &r6, sizeof(r6));
    }
#endif
    z_ring_write(&pcb->rx, in->payload, in->len);
    pcb->rx_dgrams++;
    s->stats.udp.rx++;
    if (pcb->notify != NULL) {
        z_stack_wakeup_locked(s, pcb->notify, pcb->ctx);
    }
}

/* Hand the datagram to its socket (every matching one for broadcast and
 * multicast). False if nobody wanted it. */
static bool demux(struct z_stack *s, const struct udp_in *in)
{
    bool delivered = false;
    if (in->mcast) {
        for (struct z_udp_pcb *pcb = s->udp_pcbs; pcb != NULL; pcb = pcb->next) {
            if (match_score(pcb, in) >= 0) {
                deliver(pcb, in);
                delivered = true;
            }
        }
        return delivered;
    }
    struct z_udp_pcb *best = NULL;
    int best_score = -1;
    int ties = 0;
    for (struct z_udp_pcb *pcb = s->udp_pcbs; pcb != NULL; pcb = pcb->next) {
        int sc = match_score(pcb, in);
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
        uint32_t src = Z_FAM(in->fam) == Z_FAM6 ? z_get_be32(in->src6 + 12) : in->src4;
        uint32_t h = (src * 2654435761u) ^ (in->sport * 40503u);
        int pick = (int)(h % (uint32_t)ties);
        for (struct z_udp_pcb *pcb = s->udp_pcbs; pcb != NULL; pcb = pcb->next) {
            if (match_score(pcb, in) == best_score && pcb->reuseport && pick-- == 0) {
                best = pcb;
                break;
            }
        }
    }
    if (best != NULL) {
        deliver(best, in);
        return true;
    }
    return false;
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
    struct udp_in in = {
        .nif = nif,
        .fam = Z_FAM4,
        .mcast = z_ipv4_is_broadcast(nif, ip->dst) || z_ipv4_is_multicast(ip->dst),
        .src4 = ip->src,
        .dst4 = ip->dst,
        .sport = u.sport,
        .dport = u.dport,
        .ttl = ip->ttl,
        .tos = ip->tos,
        .payload = payload,
        .len = len,
#if CONFIG_NET_SOCKETS_TIMESTAMPING
        .stamp = p->stamp,
#endif
    };
    if (!demux(s, &in)) {
        s->stats.udp.drop_no_port++;
        if (!in.mcast) {
            z_icmp_send_error_locked(s, nif, Z_ICMP_DEST_UNREACH, Z_ICMP_UNREACH_PORT, 0, p->data,
                                     p->len);
        }
    }
    z_pbuf_free(p);
}

/* Mark the connected sockets that sent the datagram an ICMP error is about. */
static void error_to(struct z_stack *s, int err, const struct udp_in *sent)
{
    for (struct z_udp_pcb *pcb = s->udp_pcbs; pcb != NULL; pcb = pcb->next) {
        /* Only connected sockets hear about errors, as on Linux without IP_RECVERR. */
        if (pcb->lport != sent->sport || pcb->rport != sent->dport ||
            Z_FAM(pcb->fam) != Z_FAM(sent->fam)) {
            continue;
        }
        bool match;
#if CONFIG_NET_IPV6
        if (Z_FAM(sent->fam) == Z_FAM6) {
            match = memcmp(pcb->raddr6, sent->dst6, Z_IPV6_ALEN) == 0 &&
                    (z_ipv6_is_unspecified(pcb->laddr6) ||
                     memcmp(pcb->laddr6, sent->src6, Z_IPV6_ALEN) == 0);
        } else
#endif
        {
            match = pcb->raddr == sent->dst4 && (pcb->laddr == 0 || pcb->laddr == sent->src4);
        }
        if (match) {
            pcb->pending_error = err;
            if (pcb->notify != NULL) {
                z_stack_wakeup_locked(s, pcb->notify, pcb->ctx);
            }
        }
    }
}

void z_udp_icmp_error_locked(struct z_stack *s, int err, const uint8_t *orig, size_t orig_len)
{
    size_t ihl = (size_t)(orig[0] & 0xf) * 4;
    if (orig_len < ihl + 4) {
        return;
    }
    struct udp_in sent = {
        .fam = Z_FAM4,
        .src4 = z_get_be32(orig + 12),
        .dst4 = z_get_be32(orig + 16),
        .sport = z_get_be16(orig + ihl),
        .dport = z_get_be16(orig + ihl + 2),
    };
    error_to(s, err, &sent);
}

#if CONFIG_NET_IPV6
void z_udp6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, struct z_pbuf *p,
                         size_t off)
{
    struct z_stack *s = nif->stack;
    struct z_udp_hdr u;
    if ((p->csum_ok ? z_udp_parse_nocsum(p->data + off, p->len - off, &u)
                    : z_udp6_parse(p->data + off, p->len - off, ip->src, ip->dst, &u)) < 0) {
        s->stats.udp.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    struct udp_in in = {
        .nif = nif,
        .fam = Z_FAM6,
        .mcast = z_ipv6_is_multicast(ip->dst),
        .src6 = ip->src,
        .dst6 = ip->dst,
        .sport = u.sport,
        .dport = u.dport,
        .ttl = ip->hop_limit,
        .tos = ip->tclass,
        .payload = p->data + off + Z_UDP_HLEN,
        .len = u.len - Z_UDP_HLEN,
#if CONFIG_NET_SOCKETS_TIMESTAMPING
        .stamp = p->stamp,
#endif
    };
    if (!demux(s, &in)) {
        s->stats.udp.drop_no_port++;
        if (!in.mcast) {
            z_icmp6_send_error_locked(s, nif, Z_ICMP6_DEST_UNREACH, Z_ICMP6_UNREACH_PORT, 0,
                                      p->data, p->len, false);
        }
    }
    z_pbuf_free(p);
}

void z_udp6_icmp_error_locked(struct z_stack *s, int err, const uint8_t *orig, size_t orig_len)
{
    /* Our datagrams carry no extension header but a fragment header. */
    size_t off = Z_IPV6_HLEN;
    if (orig_len >= Z_IPV6_HLEN + Z_IPV6_FRAG_HLEN && orig[6] == Z_IPPROTO_FRAGMENT &&
        (z_get_be16(orig + Z_IPV6_HLEN + 2) & 0xfff8) == 0) {
        off += Z_IPV6_FRAG_HLEN;
    } else if (orig[6] != Z_IPPROTO_UDP) {
        return;
    }
    if (orig_len < off + 4) {
        return;
    }
    struct udp_in sent = {
        .fam = Z_FAM6,
        .src6 = orig + 8,
        .dst6 = orig + 24,
        .sport = z_get_be16(orig + off),
        .dport = z_get_be16(orig + off + 2),
    };
    error_to(s, err, &sent);
}
#endif
