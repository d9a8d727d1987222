/* AF_INET and AF_INET6 sockets: the socket-call side of UDP (TCP is in
 * inet_tcp.c), and the address and IPv6 option helpers both share. Each socket
 * lives in one stack instance and is guarded by that stack's lock; blocking
 * calls wait on the socket's condition variable under that lock. */
#include "sockets/inet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/udp.h"
#include "sockets/fdtable.h"
#include "sockets/sockbase.h"
#include "sockets/stackopt.h"
#include "sockets/txstamp.h"

#define Z_IPV6_DEFAULT_HOPS 64 /* what IPV6_UNICAST_HOPS reads when left alone */

struct inet_sock {
    struct z_sockbase base;
    struct z_stack *stack;
    struct z_udp_pcb pcb;
    z_cond_t cond;
    struct z_waitq wq;
    bool closed;
    bool shut_rd;
    bool shut_wr;
    int sndbuf;
#if CONFIG_NET_TX_QUEUE
    uint8_t priority; /* SO_PRIORITY */
    bool txtime;      /* SO_TXTIME: SCM_TXTIME honoured */
#endif
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    struct z_sock_ts ts; /* SO_TIMESTAMPING */
#endif
    bool recv_pktinfo4; /* IP_PKTINFO */
    bool recv_ttl4;     /* IP_RECVTTL */
    bool recv_tos4;     /* IP_RECVTOS */
    bool recv_pktinfo6; /* IPV6_RECVPKTINFO */
    bool recv_hoplimit; /* IPV6_RECVHOPLIMIT */
    bool recv_tclass;   /* IPV6_RECVTCLASS */
};

/* Wake blocked callers and pollers (lock held). */
static void sock_notify(void *ctx)
{
    struct inet_sock *sk = ctx;
    z_cond_broadcast(&sk->cond);
    z_waitq_wake(&sk->wq);
}

/* ---- addresses
 * ------------------------------------------------------------------------------------- */

int z_sockaddr_to_ep(const struct sockaddr *sa, socklen_t len, int family, struct z_ipep *ep)
{
    memset(ep, 0, sizeof(*ep));
    if (len < sizeof(sa_family_t) || sa->sa_family != family) {
        return len < sizeof(sa_family_t) ? -EINVAL : -EAFNOSUPPORT;
    }
#if CONFIG_NET_IPV6
    if (family == AF_INET6) {
        /* RFC 2133's sockaddr_in6 (24 bytes, no scope) is still accepted, as Linux does. */
        if (len < offsetof(struct sockaddr_in6, sin6_scope_id)) {
            return -EINVAL;
        }
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        ep->port = ntohs(sin6->sin6_port);
        if (z_ipv6_is_v4mapped(sin6->sin6_addr.s6_addr)) {
            ep->fam = Z_FAM4;
            ep->a4 = z_get_be32(sin6->sin6_addr.s6_addr + 12);
            return 0;
        }
        ep->fam = Z_FAM6;
        memcpy(ep->a6, sin6->sin6_addr.s6_addr, Z_IPV6_ALEN);
        ep->scope = len >= sizeof(*sin6) ? sin6->sin6_scope_id : 0;
        return 0;
    }
#endif
    if (len < sizeof(struct sockaddr_in)) {
        return -EINVAL;
    }
    const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
    ep->fam = Z_FAM4;
    ep->a4 = ntohl(sin->sin_addr.s_addr);
    ep->port = ntohs(sin->sin_port);
    return 0;
}

void z_ep_to_sockaddr(const struct z_ipep *ep, int family, struct sockaddr *sa, socklen_t *len)
{
    union {
        struct sockaddr_in v4;
#if CONFIG_NET_IPV6
        struct sockaddr_in6 v6;
#endif
    } u;
    size_t size;
    memset(&u, 0, sizeof(u));
#if CONFIG_NET_IPV6
    if (family == AF_INET6) {
        u.v6.sin6_family = AF_INET6;
        u.v6.sin6_port = htons(ep->port);
        uint8_t *a = u.v6.sin6_addr.s6_addr;
        if (ep->fam == Z_FAM6) {
            memcpy(a, ep->a6, 16);
            u.v6.sin6_scope_id = ep->scope;
        } else {
            a[10] = a[11] = 0xff;
            z_put_be32(a + 12, ep->a4);
        }
        size = sizeof(u.v6);
    } else
#else
    (void)family;
#endif
    {
        u.v4.sin_family = AF_INET;
        u.v4.sin_addr.s_addr = htonl(ep->a4);
        u.v4.sin_port = htons(ep->port);
        size = sizeof(u.v4);
    }
    size_t n = *len < size ? *len : size;
    memcpy(sa, &u, n);
    *len = (socklen_t)size;
}

#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
int z_port_range_set(uint32_t *range, const void *optval, socklen_t optlen)
{
    uint32_t v;
    if (optval == NULL || optlen < sizeof(v)) {
        return -EINVAL;
    }
    memcpy(&v, optval, sizeof(v));
    if ((v & 0xffff) != 0 && (v >> 16) != 0 && (v & 0xffff) > (v >> 16)) {
        return -EINVAL; /* as Linux */
    }
    *range = v;
    return 0;
}

int z_port_range_get(uint32_t range, void *optval, socklen_t *optlen)
{
    if (*optlen < sizeof(range)) {
        return -EINVAL;
    }
    memcpy(optval, &range, sizeof(range));
    *optlen = sizeof(range);
    return 0;
}
#endif

int z_ip_ttl_tos_set(uint8_t *ttl, uint8_t *tos, int optname, int v)
{
    if (optname == IP_TOS) {
        *tos = (uint8_t)v;
        return 0;
    }
    v = v == -1 ? CONFIG_NET_IPV4_TTL : v; /* -1 restores the default, as on Linux */
    if (v < 1 || v > 255) {
        return -EINVAL;
    }
    *ttl = (uint8_t)v;
    return 0;
}

#if CONFIG_NET_IPV6
int z_ip6_sockopt_set(struct z_ip6_sockopts *o, bool *v6only, bool bound, int optname,
                      const void *optval, socklen_t optlen)
{
    int v;
    int rc = z_opt_get_int(optval, optlen, &v);
    if (rc < 0) {
        return rc;
    }
    switch (optname) {
    case IPV6_V6ONLY:
        if (bound) {
            return -EINVAL; /* the binding was made for one setting, as Linux */
        }
        *v6only = v != 0;
        return 0;
    case IPV6_UNICAST_HOPS:
        /* -1 restores the default; 0 is the interface's too. */
        if (v < -1 || v > 255) {
            return -EINVAL;
        }
        o->hops = (uint8_t)(v < 0 ? 0 : v);
        return 0;
    case IPV6_TCLASS:
        if (v < -1 || v > 255) {
            return -EINVAL;
        }
        o->tclass = (uint8_t)(v < 0 ? 0 : v);
        return 0;
    case IPV6_DONTFRAG:
        o->dontfrag = v != 0;
        return 0;
    case IPV6_MTU:
        /* 0 goes back to the path MTU; below IPv6's minimum is refused. */
        if (v != 0 && (v < Z_IPV6_MIN_MTU || v > 65535)) {
            return -EINVAL;
        }
        o->mtu = (uint16_t)v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int z_ip6_sockopt_get(struct z_stack *s, const struct z_ip6_sockopts *o, bool v6only,
                      const uint8_t *dst, int ifindex, int optname, void *optval, socklen_t *optlen)
{
    switch (optname) {
    case IPV6_V6ONLY:
        return z_opt_put_int(optval, optlen, v6only);
    case IPV6_UNICAST_HOPS:
        return z_opt_put_int(optval, optlen, o->hops != 0 ? o->hops : Z_IPV6_DEFAULT_HOPS);
    case IPV6_TCLASS:
        return z_opt_put_int(optval, optlen, o->tclass);
    case IPV6_DONTFRAG:
        return z_opt_put_int(optval, optlen, o->dontfrag);
    case IPV6_MTU: {
        struct z_netif *nif;
        uint8_t nh[Z_IPV6_ALEN];
        if (dst == NULL) {
            return -ENOTCONN;
        }
        if (z_ipv6_route_locked(s, dst, ifindex, &nif, nh) < 0) {
            return -ENETUNREACH;
        }
        uint32_t mtu = z_ipv6_path_mtu_locked(s, nif, dst);
        if (o->mtu != 0 && o->mtu < mtu) {
            mtu = o->mtu;
        }
        return z_opt_put_int(optval, optlen, (int)mtu);
    }
    default:
        return -ENOPROTOOPT;
    }
}
#endif

/* ---- calls
 * --------------------------------------------------------------------------------------------- */

static int wait_locked(struct inet_sock *sk, int64_t *deadline, int64_t timeo_us)
{
    int rc = z_stack_wait(sk->stack, &sk->cond, z_sockbase_deadline(deadline, timeo_us));
    return z_sockbase_wait_result(rc, sk->closed);
}

static int inet_bind(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct inet_sock *sk = obj;
    struct z_ipep ep;
    int rc = z_sockaddr_to_ep(addr, addrlen, sk->base.family, &ep);
    if (rc < 0) {
        return rc;
    }
    z_stack_lock(sk->stack);
    rc = sk->closed ? -EBADF : z_udp_bind(&sk->pcb, &ep);
    z_stack_unlock(sk->stack);
    return rc;
}

static int inet_connect(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct inet_sock *sk = obj;
    if (addrlen >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC) {
        z_stack_lock(sk->stack);
        int rc = sk->closed ? -EBADF : 0;
        if (rc == 0) {
            z_udp_disconnect(&sk->pcb);
        }
        z_stack_unlock(sk->stack);
        return rc;
    }
    struct z_ipep ep;
    int rc = z_sockaddr_to_ep(addr, addrlen, sk->base.family, &ep);
    if (rc < 0) {
        return rc;
    }
    z_stack_lock(sk->stack);
    rc = sk->closed ? -EBADF : z_udp_connect(&sk->pcb, &ep);
    z_stack_unlock(sk->stack);
    return rc;
}

/* The control messages of sendmsg() this socket honours: IPV6_PKTINFO
 * (source address, interface) and IPV6_HOPLIMIT on an AF_INET6 socket,
 * IP_PKTINFO, IP_TTL, IP_TOS, SCM_TXTIME. -EINVAL for a malformed one. */
static int parse_tx_cmsgs(const struct inet_sock *sk, const struct msghdr *msg,
                          struct z_udp_txopt *opt, struct in6_addr *src)
{
#if CONFIG_NET_IPV6 || defined(CONFIG_NET_CONTEXT_RECV_PKTINFO) || CONFIG_NET_TX_QUEUE
    if (msg->msg_control == NULL || msg->msg_controllen == 0) {
        return 0;
    }
    if (msg->msg_controllen < sizeof(struct cmsghdr)) {
        return -EINVAL;
    }
    for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)msg); c != NULL;
         c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
        if (c->cmsg_len < CMSG_LEN(0) ||
            (char *)c + c->cmsg_len > (char *)msg->msg_control + msg->msg_controllen) {
            return -EINVAL;
        }
        size_t dlen = c->cmsg_len - CMSG_LEN(0);
        int v = 0;
        if (dlen >= sizeof(v)) {
            memcpy(&v, CMSG_DATA(c), sizeof(v));
        }
#if CONFIG_NET_TX_QUEUE
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TXTIME) {
            int rc = z_txtime_cmsg(sk->txtime, CMSG_DATA(c), dlen, &opt->txtime);
            if (rc < 0) {
                return rc;
            }
            continue;
        }
#endif
#ifdef CONFIG_NET_CONTEXT_RECV_PKTINFO
        if (c->cmsg_level == IPPROTO_IP) {
            if (c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                if (dlen < sizeof(pi)) {
                    return -EINVAL;
                }
                memcpy(&pi, CMSG_DATA(c), sizeof(pi));
                opt->ifindex = pi.ipi_ifindex;
                opt->src4 = ntohl(pi.ipi_spec_dst.s_addr);
            } else if (c->cmsg_type == IP_TTL) {
                if (dlen < sizeof(v) || v < 1 || v > 255) {
                    return -EINVAL;
                }
                opt->ttl4 = v;
            } else if (c->cmsg_type == IP_TOS) {
                /* An int, or a byte as Linux also takes. */
                if (dlen < 1) {
                    return -EINVAL;
                }
                opt->tos4 = (dlen >= sizeof(v) ? v & 0xff : *CMSG_DATA(c)) + 1;
            }
            continue;
        }
#endif
#if CONFIG_NET_IPV6
        if (c->cmsg_level != IPPROTO_IPV6 || sk->base.family != AF_INET6) {
            continue;
        }
        if (c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            if (dlen < sizeof(pi)) {
                return -EINVAL;
            }
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            *src = pi.ipi6_addr;
            opt->src6 = src->s6_addr;
            opt->ifindex = (int)pi.ipi6_ifindex;
        } else if (c->cmsg_type == IPV6_HOPLIMIT) {
            if (dlen < sizeof(v) || v < -1 || v > 255) {
                return -EINVAL;
            }
            opt->hops = v < 0 ? 0 : v + 1;
        }
#endif
    }
#endif
    (void)sk;
    (void)msg;
    (void)opt;
    (void)src;
    return 0;
}

static ssize_t inet_sendmsg(void *obj, const struct msghdr *msg, int flags)
{
    struct inet_sock *sk = obj;
    struct z_ipep dst = {0};
    size_t len = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    if (msg->msg_name != NULL) {
        int rc = z_sockaddr_to_ep(msg->msg_name, msg->msg_namelen, sk->base.family, &dst);
        if (rc < 0) {
            return rc;
        }
        if (dst.port == 0) {
            return -EINVAL;
        }
    }
    struct z_udp_txopt opt = {0};
    struct in6_addr src6;
    int crc = parse_tx_cmsgs(sk, msg, &opt, &src6);
    if (crc < 0) {
        return crc;
    }
#if CONFIG_NET_TX_QUEUE
    opt.prio = sk->priority;
#endif
    z_stack_lock(sk->stack);
    ssize_t rc;
    int64_t deadline = INT64_MIN;
    int64_t backoff_us = 1000;
    for (;;) {
        if (sk->closed) {
            rc = -EINTR;
            break;
        }
        if (sk->shut_wr) {
            rc = -EPIPE;
            break;
        }
        if (sk->pcb.pending_error != 0) {
            rc = -sk->pcb.pending_error;
            sk->pcb.pending_error = 0;
            break;
        }
        if (msg->msg_name == NULL) {
            if (sk->pcb.rport == 0) {
                rc = -EDESTADDRREQ;
                break;
            }
            z_udp_peer(&sk->pcb, &dst);
        }
        struct z_iov_iter it;
        z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
#if CONFIG_NET_SOCKETS_TIMESTAMPING
        if (opt.ts_id == 0) {
            z_sock_ts_tx(&sk->ts, &opt.ts_id, &opt.ts_key);
        }
#endif
        rc = z_udp_send(&sk->pcb, &dst, &it, len, &opt);
        if (rc != -ENOBUFS) {
            rc = rc < 0 ? rc : (ssize_t)len;
            break;
        }
        /* Out of packet buffers: a transient shortage. Wait for buffers to
         * come back rather than failing, within the socket's timeout. */
        if (!z_sockbase_blocking(&sk->base, flags)) {
            rc = -EAGAIN;
            break;
        }
        if (z_now_us() >= z_sockbase_deadline(&deadline, sk->base.sndtimeo_us)) {
            rc = -EAGAIN;
            break;
        }
        z_stack_unlock(sk->stack);
        z_stack_pause(sk->stack, backoff_us);
        backoff_us = backoff_us < 10000 ? backoff_us * 2 : 10000;
        z_stack_lock(sk->stack);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

/* The control messages asked for about the datagram rec (whose IPv6
 * addresses, if any, are r6). */
static void rx_cmsgs(const struct inet_sock *sk, struct msghdr *msg, const struct z_udp_rec *rec,
                     const struct z_udp_rec6 *r6)
{
    size_t used = 0;
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    if (z_sock_ts_rx(&sk->ts)) {
        z_sock_ts_put(msg, &used, rec->stamp);
    }
#endif
#ifdef CONFIG_NET_CONTEXT_RECV_PKTINFO
    if (sk->recv_pktinfo4 && Z_FAM(rec->fam) == Z_FAM4) {
        /* ipi_spec_dst: the address a reply would come from, ours for a
         * unicast datagram, else the interface's first (as Linux). */
        struct in_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        pi.ipi_ifindex = rec->ifindex;
        pi.ipi_addr.s_addr = htonl(rec->dst);
        uint32_t spec = rec->dst;
        if (!z_ipv4_is_local_locked(sk->stack, spec) && (spec >> 24) != 127) {
            struct z_netif *nif = z_netif_by_index_locked(sk->stack, rec->ifindex);
            spec = nif != NULL && nif->n_ipv4 > 0 ? nif->ipv4[0].addr : 0;
        }
        pi.ipi_spec_dst.s_addr = htonl(spec);
        z_put_cmsg(msg, &used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
    }
    if (sk->recv_ttl4 && Z_FAM(rec->fam) == Z_FAM4) {
        int v = rec->ttl;
        z_put_cmsg(msg, &used, IPPROTO_IP, IP_TTL, &v, sizeof(v));
    }
    if (sk->recv_tos4 && Z_FAM(rec->fam) == Z_FAM4) {
        uint8_t v = rec->tos; /* one byte, as Linux */
        z_put_cmsg(msg, &used, IPPROTO_IP, IP_TOS, &v, sizeof(v));
    }
#endif
#if CONFIG_NET_IPV6
    if (sk->recv_pktinfo6) {
        struct in6_pktinfo pi;
        memset(&pi, 0, sizeof(pi));
        if (rec->fam == Z_FAM6) {
            memcpy(pi.ipi6_addr.s6_addr, r6->dst, 16);
        } else {
            pi.ipi6_addr.s6_addr[10] = pi.ipi6_addr.s6_addr[11] = 0xff;
            z_put_be32(pi.ipi6_addr.s6_addr + 12, rec->dst);
        }
        pi.ipi6_ifindex = (unsigned)rec->ifindex;
        z_put_cmsg(msg, &used, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
    }
    if (sk->recv_hoplimit && rec->fam == Z_FAM6) {
        int v = rec->ttl;
        z_put_cmsg(msg, &used, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, sizeof(v));
    }
    if (sk->recv_tclass && rec->fam == Z_FAM6) {
        int v = rec->tos;
        z_put_cmsg(msg, &used, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v));
    }
#else
    (void)sk;
    (void)rec;
    (void)r6;
#endif
    msg->msg_controllen = used;
}

static ssize_t inet_recvmsg(void *obj, struct msghdr *msg, int flags)
{
    struct inet_sock *sk = obj;
    size_t want = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    int64_t deadline = INT64_MIN;
    ssize_t rc;
    z_stack_lock(sk->stack);
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    if (flags & ZSOCK_MSG_ERRQUEUE) {
        rc = sk->closed ? -EBADF : z_sock_ts_errqueue(&sk->ts, sk->base.family, msg, flags);
        z_stack_unlock(sk->stack);
        return rc;
    }
#endif
    for (;;) {
        struct z_udp_pcb *pcb = &sk->pcb;
        if (sk->closed) {
            rc = -EINTR;
            break;
        }
        /* A pending error is reported before queued data, as Linux does. */
        if (pcb->pending_error != 0) {
            rc = -pcb->pending_error;
            pcb->pending_error = 0;
            break;
        }
        if (pcb->rx_dgrams > 0) {
            struct z_udp_rec rec;
            struct z_udp_rec6 r6;
            z_ring_peek(&pcb->rx, 0, &rec, sizeof(rec));
            size_t hlen = z_udp_rec_hlen(&rec);
            struct z_ipep from = {.fam = rec.fam, .a4 = rec.src, .port = rec.sport};
#if CONFIG_NET_IPV6
            if (rec.fam == Z_FAM6) {
                z_ring_peek(&pcb->rx, sizeof(rec), &r6, sizeof(r6));
                memcpy(from.a6, r6.src, 16);
                from.scope = z_ipv6_is_link_local(r6.src) ? (uint32_t)rec.ifindex : 0;
            }
#endif
            struct z_iov_iter it;
            z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
            size_t n = rec.len < want ? rec.len : want;
            z_ring_copy_out(&pcb->rx, z_ring_pos(&pcb->rx, hlen), &it, n);
            if (rec.len > want) {
                msg->msg_flags |= ZSOCK_MSG_TRUNC;
            }
            if (msg->msg_name != NULL) {
                z_ep_to_sockaddr(&from, sk->base.family, msg->msg_name, &msg->msg_namelen);
            } else {
                msg->msg_namelen = 0;
            }
            rx_cmsgs(sk, msg, &rec, &r6);
            if (!(flags & ZSOCK_MSG_PEEK)) {
                z_ring_consume(&pcb->rx, hlen + rec.len);
                pcb->rx_dgrams--;
            }
            rc = (flags & ZSOCK_MSG_TRUNC) ? (ssize_t)rec.len : (ssize_t)n;
            break;
        }
        if (sk->shut_rd) {
            msg->msg_namelen = 0;
            msg->msg_controllen = 0;
            rc = 0;
            break;
        }
        if (!z_sockbase_blocking(&sk->base, flags)) {
            rc = -EAGAIN;
            break;
        }
        rc = wait_locked(sk, &deadline, sk->base.rcvtimeo_us);
        if (rc < 0) {
            break;
        }
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static int inet_shutdown(void *obj, int how)
{
    struct inet_sock *sk = obj;
    int rc = 0;
    z_stack_lock(sk->stack);
    if (sk->closed) {
        rc = -EBADF;
    } else if (sk->pcb.rport == 0) {
        rc = -ENOTCONN;
    } else {
        sk->shut_rd |= how == ZSOCK_SHUT_RD || how == ZSOCK_SHUT_RDWR;
        sk->shut_wr |= how == ZSOCK_SHUT_WR || how == ZSOCK_SHUT_RDWR;
        sock_notify(sk);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static int inet_getsockname(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct inet_sock *sk = obj;
    struct z_ipep ep;
    z_stack_lock(sk->stack);
    z_udp_local(&sk->pcb, &ep);
    z_stack_unlock(sk->stack);
    z_ep_to_sockaddr(&ep, sk->base.family, addr, addrlen);
    return 0;
}

static int inet_getpeername(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct inet_sock *sk = obj;
    int rc = 0;
    z_stack_lock(sk->stack);
    if (sk->closed) {
        rc = -EBADF;
    } else if (sk->pcb.rport == 0) {
        rc = -ENOTCONN;
    } else {
        struct z_ipep ep;
        z_udp_peer(&sk->pcb, &ep);
        z_ep_to_sockaddr(&ep, sk->base.family, addr, addrlen);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

/* ---- options
 * ---------------------------------------------------------------------------------------------- */

static int get_sol_socket(struct inet_sock *sk, int optname, void *optval, socklen_t *optlen)
{
    struct z_udp_pcb *pcb = &sk->pcb;
    switch (optname) {
    case SO_ERROR: {
        int err = pcb->pending_error;
        pcb->pending_error = 0;
        return z_opt_put_int(optval, optlen, err);
    }
    case SO_REUSEADDR:
        return z_opt_put_int(optval, optlen, pcb->reuseaddr);
    case SO_REUSEPORT:
        return z_opt_put_int(optval, optlen, pcb->reuseport);
    case SO_BROADCAST:
        return z_opt_put_int(optval, optlen, pcb->broadcast);
    case SO_RCVBUF:
        return z_opt_put_int(optval, optlen, (int)pcb->rx.cap);
    case SO_SNDBUF:
        return z_opt_put_int(optval, optlen, sk->sndbuf);
#if CONFIG_NET_TX_QUEUE
    case SO_PRIORITY:
        return z_opt_put_int(optval, optlen, sk->priority);
    case SO_TXTIME:
        return z_txtime_get(sk->txtime, optval, optlen);
#endif
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    case SO_TIMESTAMPING:
        return z_opt_put_int(optval, optlen, sk->ts.flags);
#endif
    case SO_BINDTODEVICE:
        return z_bindtodevice_name(sk->stack, pcb->ifindex, optval, optlen);
    default:
        return -ENOPROTOOPT;
    }
}

/* ---- multicast options ---------------------------------------------------------------- */

#if CONFIG_NET_IGMP
/* An int, or (as Linux takes for these) a single byte. */
static int opt_get_small(const void *optval, socklen_t optlen, int *v)
{
    if (optval != NULL && optlen >= 1 && optlen < sizeof(int)) {
        *v = *(const unsigned char *)optval;
        return 0;
    }
    return z_opt_get_int(optval, optlen, v);
}

/* The interface with IPv4 address addr (host order), or NULL. */
static struct z_netif *if_by_addr(struct z_stack *s, uint32_t addr)
{
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        for (int i = 0; i < nif->n_ipv4; i++) {
            if (nif->ipv4[i].addr == addr) {
                return nif;
            }
        }
    }
    return NULL;
}

/* struct ip_mreqn (12 bytes) or ip_mreq (8): the group and the interface
 * (an index, or one of its addresses; 0 for the route's). */
static int parse_mreq(struct z_stack *s, const void *optval, socklen_t optlen, uint32_t *group,
                      int *ifindex)
{
    struct ip_mreqn mr;
    memset(&mr, 0, sizeof(mr));
    if (optval == NULL || optlen < sizeof(struct ip_mreq)) {
        return -EINVAL;
    }
    memcpy(&mr, optval, optlen >= sizeof(mr) ? sizeof(mr) : sizeof(struct ip_mreq));
    *group = ntohl(mr.imr_multiaddr.s_addr);
    *ifindex = optlen >= sizeof(mr) ? mr.imr_ifindex : 0;
    uint32_t ifaddr = ntohl(mr.imr_address.s_addr);
    if (*ifindex == 0 && ifaddr != 0) {
        struct z_netif *nif = if_by_addr(s, ifaddr);
        if (nif == NULL) {
            return -EADDRNOTAVAIL;
        }
        *ifindex = nif->index;
    }
    return 0;
}

static int set_ip_mcast(struct inet_sock *sk, int optname, const void *optval, socklen_t optlen)
{
    struct z_udp_pcb *pcb = &sk->pcb;
    int v;
    int rc;
    switch (optname) {
    case IP_ADD_MEMBERSHIP:
    case IP_DROP_MEMBERSHIP: {
        struct z_ipep g = {.fam = Z_FAM4};
        int ifindex;
        rc = parse_mreq(sk->stack, optval, optlen, &g.a4, &ifindex);
        return rc < 0 ? rc : z_udp_mcast_membership(pcb, &g, ifindex, optname == IP_ADD_MEMBERSHIP);
    }
    case IP_MULTICAST_IF: {
        uint32_t addr = 0;
        int ifindex = 0;
        if (optlen >= sizeof(struct ip_mreq)) {
            uint32_t unused;
            rc = parse_mreq(sk->stack, optval, optlen, &unused, &ifindex);
            if (rc < 0) {
                return rc;
            }
            struct ip_mreq mr;
            memcpy(&mr, optval, sizeof(mr));
            addr = ntohl(mr.imr_interface.s_addr);
        } else if (optval != NULL && optlen >= sizeof(struct in_addr)) {
            struct in_addr a;
            memcpy(&a, optval, sizeof(a));
            addr = ntohl(a.s_addr);
            struct z_netif *nif = addr != 0 ? if_by_addr(sk->stack, addr) : NULL;
            if (addr != 0 && nif == NULL) {
                return -EADDRNOTAVAIL;
            }
            ifindex = nif != NULL ? nif->index : 0;
        } else {
            return -EINVAL;
        }
        pcb->mcast_if = ifindex;
        pcb->mcast_if_addr = addr;
        return 0;
    }
    case IP_MULTICAST_TTL:
        rc = opt_get_small(optval, optlen, &v);
        if (rc == 0 && (v < -1 || v > 255)) {
            rc = -EINVAL;
        }
        if (rc == 0) {
            pcb->mcast_ttl = (uint8_t)(v == -1 ? 1 : v);
        }
        return rc;
    case IP_MULTICAST_LOOP:
        rc = opt_get_small(optval, optlen, &v);
        if (rc == 0) {
            pcb->mcast_loop = v != 0;
        }
        return rc;
    default:
        return -ENOPROTOOPT;
    }
}

static int get_ip_mcast(struct inet_sock *sk, int optname, void *optval, socklen_t *optlen)
{
    struct z_udp_pcb *pcb = &sk->pcb;
    switch (optname) {
    case IP_MULTICAST_IF: {
        struct in_addr a = {.s_addr = htonl(pcb->mcast_if_addr)};
        if (*optlen < sizeof(a)) {
            return -EINVAL;
        }
        memcpy(optval, &a, sizeof(a));
        *optlen = sizeof(a);
        return 0;
    }
    case IP_MULTICAST_TTL:
        return z_opt_put_int(optval, optlen, pcb->mcast_ttl);
    case IP_MULTICAST_LOOP:
        return z_opt_put_int(optval, optlen, pcb->mcast_loop);
    default:
        return -ENOPROTOOPT;
    }
}
#endif /* CONFIG_NET_IGMP */

#if CONFIG_NET_IPV6
static int set_ip6_mcast(struct inet_sock *sk, int optname, const void *optval, socklen_t optlen)
{
    struct z_udp_pcb *pcb = &sk->pcb;
    int v;
    int rc;
    switch (optname) {
    case IPV6_ADD_MEMBERSHIP:
    case IPV6_DROP_MEMBERSHIP: {
        struct ipv6_mreq mr;
        if (optval == NULL || optlen < sizeof(mr)) {
            return -EINVAL;
        }
        memcpy(&mr, optval, sizeof(mr));
        struct z_ipep g = {.fam = Z_FAM6};
        memcpy(g.a6, mr.ipv6mr_multiaddr.s6_addr, 16);
        return z_udp_mcast_membership(pcb, &g, (int)mr.ipv6mr_interface,
                                      optname == IPV6_ADD_MEMBERSHIP);
    }
    case IPV6_MULTICAST_IF:
        rc = z_opt_get_int(optval, optlen, &v);
        if (rc == 0 && v != 0 && z_netif_by_index_locked(sk->stack, v) == NULL) {
            rc = -ENODEV;
        }
        if (rc == 0) {
            pcb->mcast_if6 = v;
        }
        return rc;
    case IPV6_MULTICAST_HOPS:
        rc = z_opt_get_int(optval, optlen, &v);
        if (rc == 0 && (v < -1 || v > 255)) {
            rc = -EINVAL;
        }
        if (rc == 0) {
            pcb->mcast_hops6 = (uint8_t)(v == -1 ? 1 : v);
        }
        return rc;
    case IPV6_MULTICAST_LOOP:
        rc = z_opt_get_int(optval, optlen, &v);
        if (rc == 0 && v != 0 && v != 1) {
            rc = -EINVAL; /* as Linux */
        }
        if (rc == 0) {
            pcb->mcast_loop6 = v != 0;
        }
        return rc;
    default:
        return -ENOPROTOOPT;
    }
}

static int get_ip6_mcast(struct inet_sock *sk, int optname, void *optval, socklen_t *optlen)
{
    struct z_udp_pcb *pcb = &sk->pcb;
    switch (optname) {
    case IPV6_MULTICAST_IF:
        return z_opt_put_int(optval, optlen, pcb->mcast_if6);
    case IPV6_MULTICAST_HOPS:
        return z_opt_put_int(optval, optlen, pcb->mcast_hops6);
    case IPV6_MULTICAST_LOOP:
        return z_opt_put_int(optval, optlen, pcb->mcast_loop6);
    default:
        return -ENOPROTOOPT;
    }
}
#endif

static int inet_getsockopt(void *obj, int level, int optname, void *optval, socklen_t *optlen)
{
    struct inet_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = sk->closed ? -EBADF : z_sockbase_getsockopt(&sk->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT) {
        rc = z_stackopt_get(sk->stack, level, optname, optval, optlen);
    }
    if (rc == -ENOPROTOOPT && level == SOL_SOCKET) {
        rc = get_sol_socket(sk, optname, optval, optlen);
    } else if (rc == -ENOPROTOOPT && level == IPPROTO_IP) {
        switch (optname) {
        case IP_TTL:
            rc = z_opt_put_int(optval, optlen, sk->pcb.ttl);
            break;
        case IP_TOS:
            rc = z_opt_put_int(optval, optlen, sk->pcb.tos);
            break;
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
        case IP_LOCAL_PORT_RANGE:
            rc = z_port_range_get(sk->pcb.port_range, optval, optlen);
            break;
#endif
#ifdef CONFIG_NET_CONTEXT_RECV_PKTINFO
        case IP_PKTINFO:
            rc = z_opt_put_int(optval, optlen, sk->recv_pktinfo4);
            break;
        case IP_RECVTTL:
            rc = z_opt_put_int(optval, optlen, sk->recv_ttl4);
            break;
        case IP_RECVTOS:
            rc = z_opt_put_int(optval, optlen, sk->recv_tos4);
            break;
#endif
        default:
#if CONFIG_NET_IGMP
            rc = get_ip_mcast(sk, optname, optval, optlen);
#endif
            break;
        }
    }
#if CONFIG_NET_IPV6
    else if (rc == -ENOPROTOOPT && level == IPPROTO_IPV6 && sk->base.family == AF_INET6) {
        struct z_udp_pcb *pcb = &sk->pcb;
        bool connected6 = pcb->rport != 0 && pcb->fam == Z_FAM6;
        switch (optname) {
        case IPV6_RECVPKTINFO:
            rc = z_opt_put_int(optval, optlen, sk->recv_pktinfo6);
            break;
        case IPV6_RECVHOPLIMIT:
            rc = z_opt_put_int(optval, optlen, sk->recv_hoplimit);
            break;
        case IPV6_RECVTCLASS:
            rc = z_opt_put_int(optval, optlen, sk->recv_tclass);
            break;
        default:
            rc = get_ip6_mcast(sk, optname, optval, optlen);
            if (rc == -ENOPROTOOPT) {
                rc = z_ip6_sockopt_get(sk->stack, &pcb->o6, pcb->v6only,
                                       connected6 ? pcb->raddr6 : NULL, pcb->ifindex, optname,
                                       optval, optlen);
            }
            break;
        }
    }
#endif
    z_stack_unlock(sk->stack);
    return rc;
}

int z_bindtodevice_lookup(struct z_stack *s, const void *optval, socklen_t optlen, int *ifindex)
{
    char name[IFNAMSIZ] = "";
    size_t n = optlen < IFNAMSIZ - 1 ? optlen : IFNAMSIZ - 1;
    if (optval != NULL) {
        memcpy(name, optval, n);
    }
    if (name[0] == '\0') {
        *ifindex = 0;
        return 0;
    }
    struct z_netif *nif = z_netif_by_name_locked(s, name);
    if (nif == NULL) {
        return -ENODEV;
    }
    *ifindex = nif->index;
    return 0;
}

int z_bindtodevice_name(struct z_stack *s, int ifindex, void *optval, socklen_t *optlen)
{
    char name[IFNAMSIZ] = "";
    struct z_netif *nif = ifindex != 0 ? z_netif_by_index_locked(s, ifindex) : NULL;
    if (nif != NULL) {
        memcpy(name, nif->name, IFNAMSIZ);
    }
    size_t n = strnlen(name, IFNAMSIZ) + (ifindex != 0);
    n = n < *optlen ? n : *optlen;
    memcpy(optval, name, n);
    *optlen = (socklen_t)n;
    return 0;
}

static int set_sol_socket(struct inet_sock *sk, int optname, const void *optval, socklen_t optlen)
{
    struct z_udp_pcb *pcb = &sk->pcb;
    if (optname == SO_BINDTODEVICE) {
        return z_bindtodevice_lookup(sk->stack, optval, optlen, &pcb->ifindex);
    }
#if CONFIG_NET_TX_QUEUE
    if (optname == SO_TXTIME) {
        return z_txtime_set(&sk->txtime, optval, optlen);
    }
#endif
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    if (optname == SO_TIMESTAMPING) {
        return z_sock_ts_set(&sk->ts, optval, optlen);
    }
#endif
    int v;
    int rc = z_opt_get_int(optval, optlen, &v);
    if (rc < 0) {
        return rc;
    }
    switch (optname) {
    case SO_REUSEADDR:
        pcb->reuseaddr = v != 0;
        return 0;
    case SO_REUSEPORT:
        pcb->reuseport = v != 0;
        return 0;
    case SO_BROADCAST:
        pcb->broadcast = v != 0;
        return 0;
    case SO_RCVBUF: {
        size_t size = v < 256 ? 256 : (size_t)v;
        if (size > CONFIG_NET_UDP_RCVBUF_MAX) {
            size = CONFIG_NET_UDP_RCVBUF_MAX;
        }
        return z_udp_set_rcvbuf(pcb, size);
    }
    case SO_SNDBUF:
        sk->sndbuf = v < 256 ? 256 : v;
        return 0;
#if CONFIG_NET_TX_QUEUE
    case SO_PRIORITY:
        return z_priority_set(&sk->priority, v);
#endif
    default:
        return -ENOPROTOOPT;
    }
}

static int inet_setsockopt(void *obj, int level, int optname, const void *optval, socklen_t optlen)
{
    struct inet_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = sk->closed ? -EBADF : z_sockbase_setsockopt(&sk->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT) {
        rc = z_stackopt_set(sk->stack, level, optname, optval, optlen);
    }
    if (rc == -ENOPROTOOPT && level == SOL_SOCKET) {
        rc = set_sol_socket(sk, optname, optval, optlen);
    } else if (rc == -ENOPROTOOPT && level == IPPROTO_IP &&
               (optname == IP_TTL || optname == IP_TOS)) {
        int v;
        rc = z_opt_get_int(optval, optlen, &v);
        if (rc == 0) {
            rc = z_ip_ttl_tos_set(&sk->pcb.ttl, &sk->pcb.tos, optname, v);
        }
    }
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
    else if (rc == -ENOPROTOOPT && level == IPPROTO_IP && optname == IP_LOCAL_PORT_RANGE) {
        rc = z_port_range_set(&sk->pcb.port_range, optval, optlen);
    }
#endif
#ifdef CONFIG_NET_CONTEXT_RECV_PKTINFO
    else if (rc == -ENOPROTOOPT && level == IPPROTO_IP &&
             (optname == IP_PKTINFO || optname == IP_RECVTTL || optname == IP_RECVTOS)) {
        int v;
        rc = z_opt_get_int(optval, optlen, &v);
        bool *flag = optname == IP_PKTINFO   ? &sk->recv_pktinfo4
                     : optname == IP_RECVTTL ? &sk->recv_ttl4
                                             : &sk->recv_tos4;
        if (rc == 0) {
            *flag = v != 0;
        }
    }
#endif
#if CONFIG_NET_IGMP
    else if (rc == -ENOPROTOOPT && level == IPPROTO_IP) {
        rc = set_ip_mcast(sk, optname, optval, optlen);
    }
#endif
#if CONFIG_NET_IPV6
    else if (rc == -ENOPROTOOPT && level == IPPROTO_IPV6 && sk->base.family == AF_INET6) {
        bool *flag = optname == IPV6_RECVPKTINFO    ? &sk->recv_pktinfo6
                     : optname == IPV6_RECVHOPLIMIT ? &sk->recv_hoplimit
                     : optname == IPV6_RECVTCLASS   ? &sk->recv_tclass
                                                    : NULL;
        int v;
        if (flag != NULL) {
            rc = z_opt_get_int(optval, optlen, &v);
            if (rc == 0) {
                *flag = v != 0;
            }
        } else {
            struct z_udp_pcb *pcb = &sk->pcb;
            rc = set_ip6_mcast(sk, optname, optval, optlen);
            if (rc == -ENOPROTOOPT) {
                rc = z_ip6_sockopt_set(&pcb->o6, &pcb->v6only, pcb->in_table, optname, optval,
                                       optlen);
            }
            if (rc == 0 && optname == IPV6_V6ONLY) {
                pcb->fam = pcb->bfam = pcb->v6only ? Z_FAM6 : Z_FAM4 | Z_FAM6;
            }
        }
    }
#endif
    z_stack_unlock(sk->stack);
    return rc;
}

/* ---- descriptor operations
 * ------------------------------------------------------------------------------- */

static int inet_ioctl(void *obj, unsigned long request, int *arg)
{
    struct inet_sock *sk = obj;
    int rc = 0;
    z_stack_lock(sk->stack);
    if (sk->closed) {
        z_stack_unlock(sk->stack);
        return -EBADF;
    }
    rc = z_dgram_ioctl(&sk->base, &sk->pcb.rx, sk->pcb.rx_dgrams, request, arg);
    z_stack_unlock(sk->stack);
    return rc;
}

static short inet_poll(void *obj, struct z_wait_entry *we)
{
    struct inet_sock *sk = obj;
    short rev = 0;
    z_stack_lock(sk->stack);
    if (we != NULL) {
        z_waitq_add(&sk->wq, we);
    }
    if (sk->closed) {
        rev = ZSOCK_POLLNVAL;
    } else {
        if (sk->pcb.rx_dgrams > 0 || sk->shut_rd) {
            rev |= ZSOCK_POLLIN;
        }
        if (sk->pcb.pending_error != 0) {
            rev |= ZSOCK_POLLERR;
        }
#if CONFIG_NET_SOCKETS_TIMESTAMPING
        if (z_sock_ts_pending(&sk->ts)) {
            rev |= ZSOCK_POLLERR; /* stamps in the error queue, as Linux */
        }
#endif
        rev |= ZSOCK_POLLOUT;
        if (sk->shut_rd && sk->shut_wr) {
            rev |= ZSOCK_POLLHUP;
        }
    }
    z_stack_unlock(sk->stack);
    return rev;
}

static void inet_close(void *obj)
{
    struct inet_sock *sk = obj;
    z_stack_lock(sk->stack);
    sk->closed = true;
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    z_sock_ts_close(&sk->ts);
#endif
    z_udp_pcb_deinit(&sk->pcb);
    sock_notify(sk);
    z_stack_unlock(sk->stack);
}

static void inet_release(void *obj)
{
    struct inet_sock *sk = obj;
    z_cond_destroy(&sk->cond);
    z_free(sk);
}

static const struct z_socket_ops inet_udp_ops = {
    .fd =
        {
            .close = inet_close,
            .release = inet_release,
            .poll = inet_poll,
            .ioctl = inet_ioctl,
        },
    .shutdown = inet_shutdown,
    .bind = inet_bind,
    .connect = inet_connect,
    .sendmsg = inet_sendmsg,
    .recvmsg = inet_recvmsg,
    .getsockopt = inet_getsockopt,
    .setsockopt = inet_setsockopt,
    .getpeername = inet_getpeername,
    .getsockname = inet_getsockname,
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    .errqueue = true,
#endif
};

/* ---- creation and registration
 * ----------------------------------------------------------------------------- */

int z_inet_socket_fam_on(struct z_stack *s, int family, int type, int proto, bool nonblock)
{
    if (family != AF_INET && (family != AF_INET6 || !CONFIG_NET_IPV6)) {
        return -EAFNOSUPPORT;
    }
    if (type == SOCK_STREAM) {
        return z_inet_tcp_socket_on(s, family, nonblock);
    }
    if (type != SOCK_DGRAM) {
        return -EPROTONOSUPPORT;
    }
    int fd = z_fd_reserve();
    if (fd < 0) {
        return fd;
    }
    struct inet_sock *sk = z_calloc(1, sizeof(*sk));
    if (sk == NULL || z_udp_pcb_init(&sk->pcb, s, family == AF_INET6) < 0) {
        z_free(sk);
        z_fd_unreserve(fd);
        return -ENOMEM;
    }
    z_sockbase_init(&sk->base, family, type, proto != 0 ? proto : IPPROTO_UDP, nonblock);
    sk->stack = s;
    sk->sndbuf = 212992;
    z_cond_init(&sk->cond);
    z_waitq_init(&sk->wq, &s->lock);
    sk->pcb.notify = sock_notify;
    sk->pcb.ctx = sk;
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    z_sock_ts_init(&sk->ts, s, sock_notify, sk);
#endif
    z_fd_finalize(fd, sk, &inet_udp_ops.fd, Z_FD_KIND_SOCKET);
    return fd;
}

static int inet_supports(int family, int type, int proto)
{
    if (family != AF_INET && (family != AF_INET6 || !CONFIG_NET_IPV6)) {
        return -EAFNOSUPPORT;
    }
    if (type == SOCK_DGRAM) {
        return (proto == 0 || proto == IPPROTO_UDP) ? 0 : -EPROTONOSUPPORT;
    }
    if (type == SOCK_STREAM) {
        return (proto == 0 || proto == IPPROTO_TCP) ? 0 : -EPROTONOSUPPORT;
    }
    return -EPROTOTYPE;
}

static int inet_create(int family, int type, int proto, bool nonblock)
{
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    return z_inet_socket_fam_on(s, family, type, proto, nonblock);
}

struct z_socket_family z_inet_family = {
    .name = "inet",
    .priority = 50,
    .supports = inet_supports,
    .create = inet_create,
};
