/* AF_PACKET sockets: link-level frames, as Linux's packet sockets.
 *
 * A SOCK_RAW socket sends and receives whole frames (the Ethernet header
 * included); a SOCK_DGRAM one the payload, zsock building and removing the
 * link header, with struct sockaddr_ll naming interface, protocol and
 * address. On a raw-IP link (loopback, a raw-IP frame pipe) the frame is the
 * IP packet (ARPHRD_NONE, no link header), as on a Linux tun device.
 *
 * Each socket lives in one stack and is guarded by its lock, like a UDP
 * socket (inet.c). The stack keeps a list of its packet sockets; the hooks
 * of netif.c (net/packet.h) hand each frame received or sent to
 * z_packet_deliver_locked(), which queues a copy
 * in each matching socket's ring as a record [struct pkt_rec][bytes]. */
#include "net/packet.h"

#include <errno.h>
#include <string.h>

#include "sockets/fdtable.h"
#include "sockets/iov.h"
#include "sockets/inet.h"
#include "sockets/sockbase.h"
#include "sockets/txstamp.h"
#include "sockets/waitq.h"

#define PKT_RCVBUF_DEFAULT  212992 /* Linux's default SO_RCVBUF */
#define PKT_MAX_MEMBERSHIPS 8      /* PACKET_ADD_MEMBERSHIP entries per socket */
#define PKT_ADDR_MAX        8      /* sll_addr, mr_address */

/* One PACKET_ADD_MEMBERSHIP, counted as Linux does when added twice. */
struct pkt_mreq {
    int ifindex;
    uint16_t type; /* PACKET_MR_* */
    uint16_t alen;
    uint8_t addr[PKT_ADDR_MAX];
    uint32_t count; /* 0: free slot */
};

struct z_packet_sock {
    struct z_sockbase base;
    struct z_stack *stack;
    struct z_packet_sock *next; /* the stack's list */
    z_cond_t cond;
    struct z_waitq wq;
    bool closed;
    uint16_t proto; /* network byte order; 0: receive nothing */
    int ifindex;    /* bound interface, 0: all */
#if CONFIG_NET_TX_QUEUE
    uint8_t prio; /* SO_PRIORITY */
#endif
    struct z_ring rx;
    uint32_t rx_count; /* records in rx */
    int sndbuf;
    uint32_t st_packets; /* PACKET_STATISTICS since the last read */
    uint32_t st_drops;
    struct pkt_mreq mr[PKT_MAX_MEMBERSHIPS];
};

/* What a received frame's sockaddr_ll says; stored before its bytes. */
struct pkt_rec {
    uint32_t len; /* bytes stored after the record */
    int32_t ifindex;
    uint16_t proto; /* network byte order */
    uint16_t hatype;
    uint8_t pkttype;
    uint8_t halen;
    uint8_t addr[PKT_ADDR_MAX]; /* the frame's source address */
};

/* Wake blocked callers and pollers (lock held). */
static void sock_notify(void *ctx)
{
    struct z_packet_sock *sk = ctx;
    z_cond_broadcast(&sk->cond);
    z_waitq_wake(&sk->wq);
}

/* ---- the stack's side: frames to sockets ------------------------------------------------ */

/* The protocol Linux gives a frame (network order): its Ethernet type, or
 * for an 802.3 frame (a length there) ETH_P_802_3 for raw IPX (0xffff
 * after the header) and ETH_P_802_2 for LLC. */
static uint16_t eth_proto(const struct z_eth_hdr *eth, const uint8_t *frame, size_t len)
{
    if (eth->type >= 0x600) {
        return htons(eth->type);
    }
    if (len >= Z_ETH_HLEN + 2 && frame[Z_ETH_HLEN] == 0xff && frame[Z_ETH_HLEN + 1] == 0xff) {
        return htons(ETH_P_802_3);
    }
    return htons(ETH_P_802_2);
}

/* Do nif's packet memberships let a frame to dst in (the interface in
 * promiscuous mode, all multicast, or this group)? */
static bool membership_wants(const struct z_stack *s, const struct z_netif *nif,
                             const uint8_t dst[Z_ETH_ALEN])
{
    for (const struct z_packet_sock *sk = s->packet_socks; sk != NULL; sk = sk->next) {
        for (int i = 0; i < PKT_MAX_MEMBERSHIPS; i++) {
            const struct pkt_mreq *m = &sk->mr[i];
            if (m->count == 0 || m->ifindex != nif->index) {
                continue;
            }
            if (m->type == PACKET_MR_PROMISC ||
                (z_eth_is_multicast(dst) &&
                 (m->type == PACKET_MR_ALLMULTI ||
                  (m->type == PACKET_MR_MULTICAST && memcmp(m->addr, dst, Z_ETH_ALEN) == 0)))) {
                return true;
            }
        }
    }
    return false;
}

/* Queue one frame (hlen bytes of link header first) on sk; counted as a
 * drop when the ring (SO_RCVBUF) is full or memory runs out. */
static void enqueue(struct z_packet_sock *sk, struct pkt_rec *rec, const uint8_t *frame, size_t len,
                    size_t hlen)
{
    if (sk->base.type == SOCK_DGRAM) {
        frame += hlen;
        len -= hlen;
    }
    rec->len = (uint32_t)len;
    struct iovec v[2] = {{rec, sizeof(*rec)}, {(void *)(uintptr_t)frame, len}};
    struct z_iov_iter it;
    z_iov_iter_init(&it, v, 2);
    size_t need = sizeof(*rec) + len;
    if (z_ring_space(&sk->rx) < need ||
        z_ring_copy_in(&sk->rx, z_ring_pos(&sk->rx, sk->rx.len), &it, need) != need) {
        sk->st_drops++;
        return;
    }
    z_ring_commit(&sk->rx, need);
    sk->rx_count++;
    sk->st_packets++;
    z_stack_wakeup_locked(sk->stack, sock_notify, sk);
}

/* Describe the frame in *rec (all but len); returns the link header's
 * length, or -1 for a frame too short to have one. */
static int describe(const struct z_netif *nif, const struct z_pbuf *p, bool outgoing,
                    struct pkt_rec *rec, struct z_eth_hdr *eth)
{
    memset(rec, 0, sizeof(*rec));
    rec->ifindex = nif->index;
    if (!(nif->flags & ZSOCK_IF_ETHERNET)) {
        rec->hatype = ARPHRD_NONE;
        rec->pkttype = outgoing ? PACKET_OUTGOING : PACKET_HOST;
        rec->proto = htons(p->len > 0 && (p->data[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP);
        return 0;
    }
    /* Not z_eth_parse(): packet sockets take 802.3 (LLC) frames too. */
    if (p->len < Z_ETH_HLEN) {
        return -1;
    }
    memcpy(eth->dst, p->data, Z_ETH_ALEN);
    memcpy(eth->src, p->data + Z_ETH_ALEN, Z_ETH_ALEN);
    eth->type = z_get_be16(p->data + 2 * Z_ETH_ALEN);
    rec->hatype = ARPHRD_ETHER;
    rec->halen = Z_ETH_ALEN;
    memcpy(rec->addr, eth->src, Z_ETH_ALEN);
    rec->proto = eth_proto(eth, p->data, p->len);
    if (outgoing) {
        rec->pkttype = PACKET_OUTGOING;
    } else if (memcmp(eth->dst, nif->mac, Z_ETH_ALEN) == 0) {
        rec->pkttype = PACKET_HOST;
    } else if (z_eth_is_broadcast(eth->dst)) {
        rec->pkttype = PACKET_BROADCAST;
    } else if (z_eth_is_multicast(eth->dst)) {
        rec->pkttype = PACKET_MULTICAST;
    } else {
        rec->pkttype = PACKET_OTHERHOST;
    }
    return Z_ETH_HLEN;
}

void z_packet_deliver_locked(struct z_netif *nif, const struct z_pbuf *p, bool outgoing)
{
    struct z_stack *s = nif->stack;
    struct pkt_rec rec;
    struct z_eth_hdr eth;
    int hlen = describe(nif, p, outgoing, &rec, &eth);
    if (hlen < 0) {
        return;
    }
    /* A frame the interface would not take (another host's, a group not
     * joined) reaches packet sockets only through a membership. */
    if (!outgoing && hlen > 0 && !z_netif_mac_wanted(nif, eth.dst) &&
        !membership_wants(s, nif, eth.dst)) {
        return;
    }
    for (struct z_packet_sock *sk = s->packet_socks; sk != NULL; sk = sk->next) {
        if ((sk->ifindex != 0 && sk->ifindex != nif->index) || sk->proto == 0) {
            continue;
        }
        bool all = sk->proto == htons(ETH_P_ALL);
        /* As Linux: only ETH_P_ALL sockets see what is sent, and never
         * the socket sending it. */
        if (outgoing ? (!all || sk == s->packet_tx_self) : (!all && sk->proto != rec.proto)) {
            continue;
        }
        enqueue(sk, &rec, p->data, p->len, (size_t)hlen);
    }
}

/* ---- calls ------------------------------------------------------------------------------ */

static int bind_locked(struct z_packet_sock *sk, const struct sockaddr *addr, socklen_t addrlen)
{
    const struct sockaddr_ll *sll = (const struct sockaddr_ll *)addr;
    if (addrlen < sizeof(*sll) || sll->sll_family != AF_PACKET) {
        return -EINVAL;
    }
    if (sll->sll_ifindex != 0 && z_netif_by_index_locked(sk->stack, sll->sll_ifindex) == NULL) {
        return -ENODEV;
    }
    sk->ifindex = sll->sll_ifindex;
    if (sll->sll_protocol != 0) { /* 0 keeps the protocol, as Linux */
        sk->proto = sll->sll_protocol;
    }
    return 0;
}

static int pkt_bind(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct z_packet_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = sk->closed ? -EBADF : bind_locked(sk, addr, addrlen);
    z_stack_unlock(sk->stack);
    return rc;
}

/* Where a send goes: the interface, the protocol and (SOCK_DGRAM on
 * Ethernet) the destination address; Linux's checks and errors. */
static int send_target(struct z_packet_sock *sk, const struct msghdr *msg, struct z_netif **nif,
                       uint16_t *proto, const uint8_t **dst)
{
    int ifindex = sk->ifindex;
    *proto = sk->proto;
    *dst = NULL;
    if (msg->msg_name != NULL) {
        const struct sockaddr_ll *sll = msg->msg_name;
        if (msg->msg_namelen < sizeof(*sll) ||
            msg->msg_namelen < offsetof(struct sockaddr_ll, sll_addr) + sll->sll_halen) {
            return -EINVAL;
        }
        ifindex = sll->sll_ifindex;
        *proto = sll->sll_protocol;
        *dst = sll->sll_addr;
    }
    *nif = ifindex != 0 ? z_netif_by_index_locked(sk->stack, ifindex) : NULL;
    if (*nif == NULL) {
        return -ENXIO;
    }
    if (!((*nif)->flags & ZSOCK_IF_UP)) {
        return -ENETDOWN;
    }
    return 0;
}

static ssize_t pkt_sendmsg(void *obj, const struct msghdr *msg, int flags)
{
    (void)flags; /* a frame leaves at once: nothing to wait for */
    struct z_packet_sock *sk = obj;
    struct z_stack *s = sk->stack;
    size_t len = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    z_stack_lock(s);
    struct z_netif *nif = NULL;
    uint16_t proto;
    const uint8_t *dst;
    int rc = sk->closed ? -EBADF : send_target(sk, msg, &nif, &proto, &dst);
    if (rc < 0) {
        z_stack_unlock(s);
        return rc;
    }
    bool eth = (nif->flags & ZSOCK_IF_ETHERNET) != 0;
    bool build = eth && sk->base.type == SOCK_DGRAM;
    size_t hlen = eth ? Z_ETH_HLEN : 0;
    size_t max = nif->mtu + (sk->base.type == SOCK_RAW ? hlen : 0);
    if (len > max) {
        rc = -EMSGSIZE;
    } else if (sk->base.type == SOCK_RAW && len < hlen) {
        rc = -EINVAL; /* not even a link header */
    } else if (build && dst == NULL) {
        rc = -EDESTADDRREQ; /* no destination address */
    }
    struct z_pbuf *p = NULL;
    if (rc == 0) {
        p = z_pbuf_alloc(&s->pool, build ? hlen : 0, len);
        rc = p == NULL ? -ENOBUFS : 0;
    }
    if (rc == 0) {
        struct z_iov_iter it;
        z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
        z_iov_gather(&it, z_pbuf_put(p, len), len);
        if (build) {
            struct z_eth_hdr h = {.type = ntohs(proto)};
            memcpy(h.dst, dst, Z_ETH_ALEN);
            memcpy(h.src, nif->mac, Z_ETH_ALEN);
            z_eth_emit(z_pbuf_push(p, Z_ETH_HLEN), Z_ETH_HLEN, &h);
        }
#if CONFIG_NET_TX_QUEUE
        p->prio = sk->prio;
#endif
        s->packet_tx_self = sk;
        rc = z_netif_output_locked(nif, p);
        s->packet_tx_self = NULL;
    }
    z_stack_unlock(s);
    return rc < 0 ? rc : (ssize_t)len;
}

/* Fill a sockaddr_ll for the caller's buffer of *len bytes; *len becomes
 * the full size, as Linux gives it (at least sizeof(struct sockaddr_ll)). */
static void put_sll(const struct pkt_rec *rec, void *out, socklen_t *len)
{
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = rec->proto;
    sll.sll_ifindex = rec->ifindex;
    sll.sll_hatype = rec->hatype;
    sll.sll_pkttype = rec->pkttype;
    sll.sll_halen = rec->halen;
    memcpy(sll.sll_addr, rec->addr, sizeof(sll.sll_addr));
    memcpy(out, &sll, *len < sizeof(sll) ? *len : sizeof(sll));
    *len = sizeof(sll);
}

static int wait_locked(struct z_packet_sock *sk, int64_t *deadline)
{
    int rc =
        z_stack_wait(sk->stack, &sk->cond, z_sockbase_deadline(deadline, sk->base.rcvtimeo_us));
    return z_sockbase_wait_result(rc, sk->closed);
}

static ssize_t pkt_recvmsg(void *obj, struct msghdr *msg, int flags)
{
    struct z_packet_sock *sk = obj;
    size_t want = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    int64_t deadline = INT64_MIN;
    ssize_t rc;
    z_stack_lock(sk->stack);
    for (;;) {
        if (sk->closed) {
            rc = -EINTR;
            break;
        }
        if (sk->rx_count > 0) {
            struct pkt_rec rec;
            z_ring_peek(&sk->rx, 0, &rec, sizeof(rec));
            struct z_iov_iter it;
            z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
            size_t n = rec.len < want ? rec.len : want;
            z_ring_copy_out(&sk->rx, z_ring_pos(&sk->rx, sizeof(rec)), &it, n);
            if (rec.len > want) {
                msg->msg_flags |= ZSOCK_MSG_TRUNC;
            }
            if (msg->msg_name != NULL) {
                put_sll(&rec, msg->msg_name, &msg->msg_namelen);
            } else {
                msg->msg_namelen = 0;
            }
            msg->msg_controllen = 0;
            if (!(flags & ZSOCK_MSG_PEEK)) {
                z_ring_consume(&sk->rx, sizeof(rec) + rec.len);
                sk->rx_count--;
            }
            rc = (flags & ZSOCK_MSG_TRUNC) ? (ssize_t)rec.len : (ssize_t)n;
            break;
        }
        if (!z_sockbase_blocking(&sk->base, flags)) {
            rc = -EAGAIN;
            break;
        }
        rc = wait_locked(sk, &deadline);
        if (rc < 0) {
            break;
        }
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static int pkt_getsockname(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct z_packet_sock *sk = obj;
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    z_stack_lock(sk->stack);
    sll.sll_protocol = sk->proto;
    sll.sll_ifindex = sk->ifindex;
    struct z_netif *nif = sk->ifindex != 0 ? z_netif_by_index_locked(sk->stack, sk->ifindex) : NULL;
    if (nif != NULL) {
        bool eth = (nif->flags & ZSOCK_IF_ETHERNET) != 0;
        sll.sll_hatype = eth ? ARPHRD_ETHER : ARPHRD_NONE;
        sll.sll_halen = eth ? Z_ETH_ALEN : 0;
        memcpy(sll.sll_addr, nif->mac, sll.sll_halen);
    }
    z_stack_unlock(sk->stack);
    /* As Linux: the address up to the link address's length. */
    socklen_t full = (socklen_t)(offsetof(struct sockaddr_ll, sll_addr) + sll.sll_halen);
    memcpy(addr, &sll, *addrlen < full ? *addrlen : full);
    *addrlen = full;
    return 0;
}

/* ---- options ---------------------------------------------------------------------------- */

static int membership_set(struct z_packet_sock *sk, int optname, const void *optval,
                          socklen_t optlen)
{
    struct packet_mreq mr;
    if (optval == NULL || optlen < sizeof(mr)) {
        return -EINVAL;
    }
    memcpy(&mr, optval, sizeof(mr));
    if (mr.mr_alen > PKT_ADDR_MAX) {
        return -EINVAL;
    }
    if (optname == PACKET_DROP_MEMBERSHIP) {
        for (int i = 0; i < PKT_MAX_MEMBERSHIPS; i++) {
            struct pkt_mreq *m = &sk->mr[i];
            if (m->count > 0 && m->ifindex == mr.mr_ifindex && m->type == mr.mr_type &&
                m->alen == mr.mr_alen && memcmp(m->addr, mr.mr_address, m->alen) == 0) {
                m->count--;
                break;
            }
        }
        return 0; /* as Linux, also when there was no such membership */
    }
    const struct z_netif *nif = z_netif_by_index_locked(sk->stack, mr.mr_ifindex);
    if (nif == NULL) {
        return -ENODEV;
    }
    switch (mr.mr_type) {
    case PACKET_MR_PROMISC:
    case PACKET_MR_ALLMULTI:
        break;
    case PACKET_MR_MULTICAST:
        /* A group address of the link's length (none on a raw-IP link). */
        if (!(nif->flags & ZSOCK_IF_ETHERNET) || mr.mr_alen != Z_ETH_ALEN) {
            return -EINVAL;
        }
        break;
    default:
        return -EINVAL; /* PACKET_MR_UNICAST too: one MAC per interface here */
    }
    struct pkt_mreq *free_slot = NULL;
    for (int i = 0; i < PKT_MAX_MEMBERSHIPS; i++) {
        struct pkt_mreq *m = &sk->mr[i];
        if (m->count == 0) {
            free_slot = free_slot != NULL ? free_slot : m;
        } else if (m->ifindex == mr.mr_ifindex && m->type == mr.mr_type && m->alen == mr.mr_alen &&
                   memcmp(m->addr, mr.mr_address, m->alen) == 0) {
            m->count++;
            return 0;
        }
    }
    if (free_slot == NULL) {
        return -ENOBUFS;
    }
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->ifindex = mr.mr_ifindex;
    free_slot->type = mr.mr_type;
    free_slot->alen = mr.mr_alen;
    memcpy(free_slot->addr, mr.mr_address, mr.mr_alen);
    free_slot->count = 1;
    return 0;
}

static int pkt_setsockopt(void *obj, int level, int optname, const void *optval, socklen_t optlen)
{
    struct z_packet_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = z_sockbase_setsockopt(&sk->base, level, optname, optval, optlen);
    if (rc != -ENOPROTOOPT) {
        goto out;
    }
    int v;
    if (level == SOL_SOCKET && optname == SO_BINDTODEVICE) {
        /* The same as binding to the interface's index (Linux). */
        rc = z_bindtodevice_lookup(sk->stack, optval, optlen, &sk->ifindex);
    }
#if CONFIG_NET_TX_QUEUE
    else if (level == SOL_SOCKET && optname == SO_PRIORITY) {
        rc = z_opt_get_int(optval, optlen, &v);
        rc = rc < 0 ? rc : z_priority_set(&sk->prio, v);
    }
#endif
    else if (level == SOL_SOCKET && (optname == SO_RCVBUF || optname == SO_SNDBUF)) {
        rc = z_opt_get_int(optval, optlen, &v);
        if (rc == 0 && optname == SO_SNDBUF) {
            sk->sndbuf = v < 256 ? 256 : v;
        } else if (rc == 0) {
            size_t size = v < 256 ? 256 : (size_t)v;
            size = size > CONFIG_NET_UDP_RCVBUF_MAX ? CONFIG_NET_UDP_RCVBUF_MAX : size;
            rc = z_ring_resize(&sk->rx, size);
        }
    } else if (level == SOL_PACKET &&
               (optname == PACKET_ADD_MEMBERSHIP || optname == PACKET_DROP_MEMBERSHIP)) {
        rc = membership_set(sk, optname, optval, optlen);
    }
out:
    z_stack_unlock(sk->stack);
    return rc;
}

static int pkt_getsockopt(void *obj, int level, int optname, void *optval, socklen_t *optlen)
{
    struct z_packet_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = z_sockbase_getsockopt(&sk->base, level, optname, optval, optlen);
    if (rc != -ENOPROTOOPT) {
        goto out;
    }
    if (level == SOL_SOCKET && optname == SO_RCVBUF) {
        rc = z_opt_put_int(optval, optlen, (int)sk->rx.limit);
    } else if (level == SOL_SOCKET && optname == SO_SNDBUF) {
        rc = z_opt_put_int(optval, optlen, sk->sndbuf);
    } else if (level == SOL_SOCKET && optname == SO_ERROR) {
        rc = z_opt_put_int(optval, optlen, 0);
    } else if (level == SOL_SOCKET && optname == SO_BINDTODEVICE) {
        rc = z_bindtodevice_name(sk->stack, sk->ifindex, optval, optlen);
#if CONFIG_NET_TX_QUEUE
    } else if (level == SOL_SOCKET && optname == SO_PRIORITY) {
        rc = z_opt_put_int(optval, optlen, sk->prio);
#endif
    } else if (level == SOL_PACKET && optname == PACKET_STATISTICS) {
        /* As Linux: packets counts the drops too, and reading resets both. */
        struct zsock_tpacket_stats st = {sk->st_packets + sk->st_drops, sk->st_drops};
        socklen_t n = *optlen < sizeof(st) ? *optlen : (socklen_t)sizeof(st);
        memcpy(optval, &st, n);
        *optlen = n;
        sk->st_packets = sk->st_drops = 0;
        rc = 0;
    }
out:
    z_stack_unlock(sk->stack);
    return rc;
}

/* ---- descriptor operations -------------------------------------------------------------- */

static int pkt_ioctl(void *obj, unsigned long request, int *arg)
{
    struct z_packet_sock *sk = obj;
    int rc = 0;
    z_stack_lock(sk->stack);
    if (sk->closed) {
        rc = -EBADF;
    } else {
        /* FIONREAD: the next frame's length, as Linux's SIOCINQ there. */
        rc = z_dgram_ioctl(&sk->base, &sk->rx, sk->rx_count, request, arg);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static short pkt_poll(void *obj, struct z_wait_entry *we)
{
    struct z_packet_sock *sk = obj;
    short rev;
    z_stack_lock(sk->stack);
    if (we != NULL) {
        z_waitq_add(&sk->wq, we);
    }
    if (sk->closed) {
        rev = ZSOCK_POLLNVAL;
    } else {
        rev = (short)(ZSOCK_POLLOUT | (sk->rx_count > 0 ? ZSOCK_POLLIN : 0));
    }
    z_stack_unlock(sk->stack);
    return rev;
}

/* Leave the stack's list (memberships go with the socket), drop the queue
 * and wake every waiter. */
static void pkt_close(void *obj)
{
    struct z_packet_sock *sk = obj;
    struct z_stack *s = sk->stack;
    z_stack_lock(s);
    for (struct z_packet_sock **pp = &s->packet_socks; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == sk) {
            *pp = sk->next;
            break;
        }
    }
    sk->closed = true;
    z_ring_free(&sk->rx);
    sk->rx_count = 0;
    z_stack_wakeup_cancel_locked(s, sk);
    sock_notify(sk);
    z_stack_unlock(s);
}

static void pkt_release(void *obj)
{
    struct z_packet_sock *sk = obj;
    z_cond_destroy(&sk->cond);
    z_free(sk);
}

static const struct z_socket_ops packet_ops = {
    .fd =
        {
            .close = pkt_close,
            .release = pkt_release,
            .poll = pkt_poll,
            .ioctl = pkt_ioctl,
        },
    .bind = pkt_bind,
    .sendmsg = pkt_sendmsg,
    .recvmsg = pkt_recvmsg,
    .getsockopt = pkt_getsockopt,
    .setsockopt = pkt_setsockopt,
    .getsockname = pkt_getsockname,
};

/* ---- creation and registration ---------------------------------------------------------- */

int z_packet_socket_on(struct z_stack *s, int type, int proto, bool nonblock)
{
    if (type != SOCK_RAW && type != SOCK_DGRAM) {
        return -ESOCKTNOSUPPORT;
    }
    int fd = z_fd_reserve();
    if (fd < 0) {
        return fd;
    }
    struct z_packet_sock *sk = z_calloc(1, sizeof(*sk));
    if (sk == NULL) {
        z_fd_unreserve(fd);
        return -ENOMEM;
    }
    z_sockbase_init(&sk->base, AF_PACKET, type, proto, nonblock);
    sk->stack = s;
    sk->proto = (uint16_t)proto; /* already in network order, as Linux takes it */
    sk->sndbuf = PKT_RCVBUF_DEFAULT;
    z_ring_init_lazy(&sk->rx, PKT_RCVBUF_DEFAULT);
    z_cond_init(&sk->cond);
    z_waitq_init(&sk->wq, &s->lock);
    z_stack_lock(s);
    sk->next = s->packet_socks;
    s->packet_socks = sk;
    z_stack_unlock(s);
    z_fd_finalize(fd, sk, &packet_ops.fd, Z_FD_KIND_SOCKET);
    return fd;
}

static int packet_supports(int family, int type, int proto)
{
    (void)proto; /* any protocol: a 16-bit Ethernet type in network order */
    if (family != AF_PACKET) {
        return -EAFNOSUPPORT;
    }
    return type == SOCK_RAW || type == SOCK_DGRAM ? 0 : -ESOCKTNOSUPPORT;
}

static int packet_create(int family, int type, int proto, bool nonblock)
{
    (void)family;
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    return z_packet_socket_on(s, type, proto, nonblock);
}

struct z_socket_family z_packet_family = {
    .name = "packet",
    .priority = 60,
    .supports = packet_supports,
    .create = packet_create,
};
