/* Raw IP sockets (AF_INET/AF_INET6, SOCK_RAW, an IP protocol number): the
 * socket-call side of net/raw.c. Like a UDP socket (inet.c) each lives in
 * one stack instance, guarded by its lock; blocking calls wait on the
 * socket's condition variable. Linux lets only root create them; zsock has
 * no users, so anyone may. */
#include "sockets/raw.h"

#include <errno.h>
#include <string.h>

#include "net/raw.h"
#include "sockets/fdtable.h"
#include "sockets/inet.h"
#include "sockets/sockbase.h"
#include "sockets/stackopt.h"
#include "sockets/txstamp.h"

struct raw_sock {
    struct z_sockbase base;
    struct z_stack *stack;
    struct z_raw_pcb pcb;
    z_cond_t cond;
    struct z_waitq wq;
    bool closed;
    int sndbuf;
};

/* Wake blocked callers and pollers (lock held). */
static void raw_notify(void *ctx)
{
    struct raw_sock *sk = ctx;
    z_cond_broadcast(&sk->cond);
    z_waitq_wake(&sk->wq);
}

static bool is6(const struct raw_sock *sk)
{
    return Z_V6(sk->base.family == AF_INET6);
}

/* An address given to the socket as an endpoint of its own IP version:
 * an IPv4-mapped address on an AF_INET6 socket is refused, as Linux. */
static int to_ep(const struct raw_sock *sk, const struct sockaddr *sa, socklen_t len,
                 struct z_ipep *ep)
{
    int rc = z_sockaddr_to_ep(sa, len, sk->base.family, ep);
    if (rc == 0 && is6(sk) && Z_FAM(ep->fam) != Z_FAM6) {
        rc = -EAFNOSUPPORT;
    }
    return rc;
}

static int raw_bind(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct raw_sock *sk = obj;
    struct z_ipep ep;
    int rc = to_ep(sk, addr, addrlen, &ep);
    if (rc < 0) {
        return rc == -EAFNOSUPPORT && is6(sk) ? -EADDRNOTAVAIL : rc;
    }
    z_stack_lock(sk->stack);
    struct z_raw_pcb *pcb = &sk->pcb;
    if (sk->closed) {
        rc = -EBADF;
    }
#if CONFIG_NET_IPV6
    else if (is6(sk)) {
        int ifindex = pcb->ifindex;
        bool any = z_ipv6_is_unspecified(ep.a6);
        rc = z_ipep_take_scope(sk->stack, &ep, false, &ifindex);
        if (rc == 0 && !any && !z_ipv6_bindable_locked(sk->stack, ep.a6, ifindex)) {
            rc = -EADDRNOTAVAIL;
        }
        if (rc == 0) {
            memcpy(pcb->laddr6, ep.a6, Z_IPV6_ALEN);
            pcb->ifindex = ifindex;
        }
    }
#endif
    else if (ep.a4 != 0 && (ep.a4 >> 24) != 127 && !z_ipv4_is_local_locked(sk->stack, ep.a4)) {
        rc = -EADDRNOTAVAIL;
    } else {
        pcb->laddr = ep.a4;
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static int raw_connect(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct raw_sock *sk = obj;
    struct z_ipep ep = {0};
    bool unspec = addrlen >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC;
    int rc = unspec ? 0 : to_ep(sk, addr, addrlen, &ep);
    if (rc < 0) {
        return rc;
    }
    z_stack_lock(sk->stack);
    struct z_raw_pcb *pcb = &sk->pcb;
    if (sk->closed) {
        rc = -EBADF;
    } else {
        /* The peer filters what is received and is where send() goes. */
        pcb->connected = !unspec;
        pcb->raddr = ep.a4;
#if CONFIG_NET_IPV6
        memcpy(pcb->raddr6, ep.a6, Z_IPV6_ALEN);
        if (is6(sk) && !unspec) {
            rc = z_ipep_take_scope(sk->stack, &ep, true, &pcb->ifindex);
        }
#endif
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static int send_once(struct raw_sock *sk, const struct z_ipep *dst, const struct msghdr *msg,
                     size_t len)
{
    struct z_iov_iter it;
    z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
#if CONFIG_NET_IPV6
    if (is6(sk)) {
        return z_raw6_send_locked(&sk->pcb, dst->a6, (int)dst->scope, &it, len);
    }
#endif
    return z_raw4_send_locked(&sk->pcb, dst->a4, &it, len);
}

static ssize_t raw_sendmsg(void *obj, const struct msghdr *msg, int flags)
{
    struct raw_sock *sk = obj;
    size_t len = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    struct z_ipep dst = {0};
    if (msg->msg_name != NULL) {
        int rc = to_ep(sk, msg->msg_name, msg->msg_namelen, &dst);
        if (rc < 0) {
            return rc;
        }
    }
    int64_t deadline = INT64_MIN;
    int64_t backoff_us = 1000;
    ssize_t rc;
    z_stack_lock(sk->stack);
    for (;;) {
        if (sk->closed) {
            rc = -EINTR;
            break;
        }
        if (msg->msg_name == NULL) {
            if (!sk->pcb.connected) {
                rc = -EDESTADDRREQ;
                break;
            }
            dst.a4 = sk->pcb.raddr;
#if CONFIG_NET_IPV6
            memcpy(dst.a6, sk->pcb.raddr6, Z_IPV6_ALEN);
#endif
        }
        rc = send_once(sk, &dst, msg, len);
        if (rc != -ENOBUFS) {
            rc = rc < 0 ? rc : (ssize_t)len;
            break;
        }
        /* Out of packet buffers, a transient shortage: wait for them as a
         * UDP socket does, within the send timeout. */
        if (!z_sockbase_blocking(&sk->base, flags) ||
            z_now_us() >= z_sockbase_deadline(&deadline, sk->base.sndtimeo_us)) {
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

/* Copy the oldest datagram out (lock held, one queued). */
static ssize_t take(struct raw_sock *sk, struct msghdr *msg, size_t want, int flags)
{
    struct z_raw_pcb *pcb = &sk->pcb;
    struct z_raw_rec rec;
    z_ring_peek(&pcb->rx, 0, &rec, sizeof(rec));
    struct z_iov_iter it;
    z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
    size_t n = rec.len < want ? rec.len : want;
    z_ring_copy_out(&pcb->rx, z_ring_pos(&pcb->rx, sizeof(rec)), &it, n);
    if (rec.len > want) {
        msg->msg_flags |= ZSOCK_MSG_TRUNC;
    }
    if (msg->msg_name != NULL) {
        /* The peer's address, port 0 (as Linux). */
        struct z_ipep from;
        z_ipep_make(&from, is6(sk) ? Z_FAM6 : Z_FAM4, rec.src4, Z_ADDR6(rec.src6), 0, rec.ifindex);
        z_ep_to_sockaddr(&from, sk->base.family, msg->msg_name, &msg->msg_namelen);
    } else {
        msg->msg_namelen = 0;
    }
    msg->msg_controllen = 0; /* no control messages */
    if (!(flags & ZSOCK_MSG_PEEK)) {
        z_ring_consume(&pcb->rx, sizeof(rec) + rec.len);
        pcb->rx_dgrams--;
    }
    return (flags & ZSOCK_MSG_TRUNC) ? (ssize_t)rec.len : (ssize_t)n;
}

static ssize_t raw_recvmsg(void *obj, struct msghdr *msg, int flags)
{
    struct raw_sock *sk = obj;
    size_t want = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    int64_t deadline = INT64_MIN;
    ssize_t rc;
    z_stack_lock(sk->stack);
    for (;;) {
        if (sk->closed) {
            rc = -EINTR;
            break;
        }
        if (sk->pcb.rx_dgrams > 0) {
            rc = take(sk, msg, want, flags);
            break;
        }
        if (!z_sockbase_blocking(&sk->base, flags)) {
            rc = -EAGAIN;
            break;
        }
        rc = z_stack_wait(sk->stack, &sk->cond,
                          z_sockbase_deadline(&deadline, sk->base.rcvtimeo_us));
        rc = z_sockbase_wait_result((int)rc, sk->closed);
        if (rc < 0) {
            break;
        }
    }
    z_stack_unlock(sk->stack);
    return rc;
}

/* The address the socket shows: bound address, the protocol as port (as
 * Linux's getsockname), or the peer. */
static int raw_name(void *obj, struct sockaddr *addr, socklen_t *addrlen, bool peer)
{
    struct raw_sock *sk = obj;
    struct z_raw_pcb *pcb = &sk->pcb;
    struct z_ipep ep;
    int rc = 0;
    z_stack_lock(sk->stack);
    if (sk->closed) {
        rc = -EBADF;
    } else if (peer && !pcb->connected) {
        rc = -ENOTCONN;
    } else {
        z_ipep_make(&ep, is6(sk) ? Z_FAM6 : Z_FAM4, peer ? pcb->raddr : pcb->laddr,
                    peer ? Z_ADDR6(pcb->raddr6) : Z_ADDR6(pcb->laddr6), peer ? 0 : pcb->proto,
                    pcb->ifindex);
        z_ep_to_sockaddr(&ep, sk->base.family, addr, addrlen);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static int raw_getsockname(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    return raw_name(obj, addr, addrlen, false);
}

static int raw_getpeername(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    return raw_name(obj, addr, addrlen, true);
}

/* ---- options ------------------------------------------------------------------------------- */

static int get_opt(struct raw_sock *sk, int level, int optname, void *optval, socklen_t *optlen)
{
    struct z_raw_pcb *pcb = &sk->pcb;
    int rc = z_stackopt_get(sk->stack, level, optname, optval, optlen);
    if (rc != -ENOPROTOOPT) {
        return rc;
    }
    if (level == SOL_SOCKET) {
        switch (optname) {
        case SO_ERROR:
            return z_opt_put_int(optval, optlen, 0);
        case SO_RCVBUF:
            return z_opt_put_int(optval, optlen, (int)pcb->rx.limit);
        case SO_SNDBUF:
            return z_opt_put_int(optval, optlen, sk->sndbuf);
        case SO_BINDTODEVICE:
            return z_bindtodevice_name(sk->stack, pcb->ifindex, optval, optlen);
#if CONFIG_NET_TX_QUEUE
        case SO_PRIORITY:
            return z_opt_put_int(optval, optlen, pcb->prio);
#endif
        default:
            return -ENOPROTOOPT;
        }
    }
    if (level == IPPROTO_IP && !is6(sk)) {
        switch (optname) {
        case IP_TTL:
            return z_opt_put_int(optval, optlen, pcb->ttl);
        case IP_TOS:
            return z_opt_put_int(optval, optlen, pcb->tos);
        case IP_HDRINCL:
            return z_opt_put_int(optval, optlen, pcb->hdrincl);
        default:
            return -ENOPROTOOPT;
        }
    }
#if CONFIG_NET_IPV6
    if (level == IPPROTO_IPV6 && is6(sk)) {
        return z_ip6_sockopt_get(sk->stack, &pcb->o6, true, pcb->connected ? pcb->raddr6 : NULL,
                                 pcb->ifindex, optname, optval, optlen);
    }
#endif
    return -ENOPROTOOPT;
}

static int raw_getsockopt(void *obj, int level, int optname, void *optval, socklen_t *optlen)
{
    struct raw_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = sk->closed ? -EBADF : z_sockbase_getsockopt(&sk->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT) {
        rc = get_opt(sk, level, optname, optval, optlen);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static int set_opt(struct raw_sock *sk, int level, int optname, const void *optval,
                   socklen_t optlen)
{
    struct z_raw_pcb *pcb = &sk->pcb;
    int rc = z_stackopt_set(sk->stack, level, optname, optval, optlen);
    if (rc != -ENOPROTOOPT) {
        return rc;
    }
    if (level == SOL_SOCKET && optname == SO_BINDTODEVICE) {
        return z_bindtodevice_lookup(sk->stack, optval, optlen, &pcb->ifindex);
    }
#if CONFIG_NET_IPV6
    if (level == IPPROTO_IPV6 && is6(sk)) {
        bool v6only = true; /* a raw IPv6 socket takes IPv6 only */
        return optname == IPV6_V6ONLY
                   ? -ENOPROTOOPT
                   : z_ip6_sockopt_set(&pcb->o6, &v6only, true, optname, optval, optlen);
    }
#endif
    int v;
    rc = z_opt_get_int(optval, optlen, &v);
    if (level == SOL_SOCKET && optname == SO_RCVBUF) {
        size_t size = v < 256 ? 256 : (size_t)v;
        return rc < 0
                   ? rc
                   : z_raw_set_rcvbuf(
                         pcb, size > CONFIG_NET_UDP_RCVBUF_MAX ? CONFIG_NET_UDP_RCVBUF_MAX : size);
    }
    if (level == SOL_SOCKET && optname == SO_SNDBUF) {
        sk->sndbuf = v < 256 ? 256 : v;
        return rc;
    }
#if CONFIG_NET_TX_QUEUE
    if (level == SOL_SOCKET && optname == SO_PRIORITY) {
        return rc < 0 ? rc : z_priority_set(&pcb->prio, v);
    }
#endif
    if (level == IPPROTO_IP && !is6(sk) && (optname == IP_TTL || optname == IP_TOS)) {
        return rc < 0 ? rc : z_ip_ttl_tos_set(&pcb->ttl, &pcb->tos, optname, v);
    }
    if (level == IPPROTO_IP && !is6(sk) && optname == IP_HDRINCL) {
        /* IPPROTO_RAW sockets always include the header. */
        if (rc == 0 && pcb->proto != 255) {
            pcb->hdrincl = v != 0;
        }
        return rc;
    }
    return -ENOPROTOOPT;
}

static int raw_setsockopt(void *obj, int level, int optname, const void *optval, socklen_t optlen)
{
    struct raw_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = sk->closed ? -EBADF : z_sockbase_setsockopt(&sk->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT) {
        rc = set_opt(sk, level, optname, optval, optlen);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

/* ---- descriptor operations ----------------------------------------------------------------- */

static int raw_ioctl(void *obj, unsigned long request, int *arg)
{
    struct raw_sock *sk = obj;
    int rc = 0;
    z_stack_lock(sk->stack);
    if (sk->closed) {
        rc = -EBADF;
    } else {
        rc = z_dgram_ioctl(&sk->base, &sk->pcb.rx, sk->pcb.rx_dgrams, request, arg);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static short raw_poll(void *obj, struct z_wait_entry *we)
{
    struct raw_sock *sk = obj;
    short rev;
    z_stack_lock(sk->stack);
    if (we != NULL) {
        z_waitq_add(&sk->wq, we);
    }
    if (sk->closed) {
        rev = ZSOCK_POLLNVAL;
    } else {
        rev = ZSOCK_POLLOUT | (sk->pcb.rx_dgrams > 0 ? ZSOCK_POLLIN : 0);
    }
    z_stack_unlock(sk->stack);
    return rev;
}

static void raw_close(void *obj)
{
    struct raw_sock *sk = obj;
    z_stack_lock(sk->stack);
    sk->closed = true;
    z_raw_pcb_deinit(&sk->pcb);
    z_stack_wakeup_cancel_locked(sk->stack, sk);
    raw_notify(sk);
    z_stack_unlock(sk->stack);
}

static void raw_release(void *obj)
{
    struct raw_sock *sk = obj;
    z_cond_destroy(&sk->cond);
    z_free(sk);
}

/* listen, accept and shutdown are left NULL: EOPNOTSUPP. */
static const struct z_socket_ops raw_ops = {
    .fd =
        {
            .close = raw_close,
            .release = raw_release,
            .poll = raw_poll,
            .ioctl = raw_ioctl,
        },
    .bind = raw_bind,
    .connect = raw_connect,
    .sendmsg = raw_sendmsg,
    .recvmsg = raw_recvmsg,
    .getsockopt = raw_getsockopt,
    .setsockopt = raw_setsockopt,
    .getpeername = raw_getpeername,
    .getsockname = raw_getsockname,
};

/* ---- creation and registration ------------------------------------------------------------- */

static int raw_supports(int family, int type, int proto)
{
    if ((family != AF_INET && (family != AF_INET6 || !CONFIG_NET_IPV6)) || type != SOCK_RAW) {
        return -EAFNOSUPPORT; /* not ours: another handler decides */
    }
    /* Protocol 0 is refused, as Linux; an IPv6 socket does not take
     * IPPROTO_RAW (IPV6_HDRINCL is not implemented). */
    if (proto <= 0 || proto > 255 || (family == AF_INET6 && proto == 255)) {
        return -EPROTONOSUPPORT;
    }
    return 0;
}

int z_raw_socket_on(struct z_stack *s, int family, int proto, bool nonblock)
{
    int rc = raw_supports(family, SOCK_RAW, proto);
    if (rc < 0) {
        return rc;
    }
    int fd = z_fd_reserve();
    if (fd < 0) {
        return fd;
    }
    struct raw_sock *sk = z_calloc(1, sizeof(*sk));
    if (sk == NULL) {
        z_fd_unreserve(fd);
        return -ENOMEM;
    }
    z_sockbase_init(&sk->base, family, SOCK_RAW, proto, nonblock);
    sk->stack = s;
    sk->sndbuf = 212992;
    z_cond_init(&sk->cond);
    z_waitq_init(&sk->wq, &s->lock);
    z_stack_lock(s);
    z_raw_pcb_init(&sk->pcb, s, family == AF_INET6 ? Z_FAM6 : Z_FAM4, (uint8_t)proto);
    sk->pcb.notify = raw_notify;
    sk->pcb.ctx = sk;
    z_stack_unlock(s);
    z_fd_finalize(fd, sk, &raw_ops.fd, Z_FD_KIND_SOCKET);
    return fd;
}

static int raw_create(int family, int type, int proto, bool nonblock)
{
    (void)type;
    struct z_stack *s = z_stack_default();
    return s == NULL ? -ENOMEM : z_raw_socket_on(s, family, proto, nonblock);
}

struct z_socket_family z_raw_family = {
    .name = "raw",
    .priority = 49, /* beside inet, which answers EPROTOTYPE for SOCK_RAW */
    .supports = raw_supports,
    .create = raw_create,
};
