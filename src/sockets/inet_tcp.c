/* AF_INET and AF_INET6 SOCK_STREAM sockets over the stack's TCP: connect (blocking or
 * EINPROGRESS), listen/accept, send with back-pressure (a full buffer blocks
 * or gives EAGAIN, never ENOMEM), recv with PEEK/WAITALL, half-close, linger
 * (abortive, or a blocking close that waits for the peer's acknowledgement),
 * and poll readiness. Guarded by the stack lock; blocking calls wait on the
 * socket's condition variable, woken by the connection's notify callback. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp_pcb.h"
#include "sockets/fdtable.h"
#include "sockets/inet.h"
#include "sockets/sockbase.h"
#include "sockets/socks.h"
#include "sockets/stackopt.h"
#include "sockets/txstamp.h"

struct tcp_sock {
    struct z_sockbase base;
    struct z_stack *stack;
    struct z_tcp_pcb *pcb; /* NULL once closed */
    z_cond_t cond;
    struct z_waitq wq;
    bool closed;
    bool shut_rd;
    bool linger_abort; /* SO_LINGER on with 0 seconds: close sends RST */
    /* SO_LINGER on with t seconds: a blocking close waits up to t for the
     * peer to acknowledge everything, then resets. */
    struct linger linger;
    bool keepalive;
#if CONFIG_NET_SOCKETS_SOCKS
    struct z_socks *socks; /* SO_SOCKS5: NULL when no proxy is named */
#endif
};

/* SO_SOCKS5 (socks.c): from connect() to the proxy's success the socket is
 * still connecting, whatever its connection to the proxy is doing. */
#if CONFIG_NET_SOCKETS_SOCKS
static bool socks_pending(const struct tcp_sock *sk)
{
    return z_socks_pending(sk->socks);
}

/* Move the exchange on; from every call on the socket and its wake-ups. */
static void socks_drive(struct tcp_sock *sk)
{
    if (sk->socks != NULL && sk->pcb != NULL && !sk->closed) {
        z_socks_drive(sk->socks, sk->pcb);
    }
}
#else
static bool socks_pending(const struct tcp_sock *sk)
{
    (void)sk;
    return false;
}
#endif

/* A connection through a proxy has no peer until the proxy reported
 * success (nor after a failure, as after a refused connect). */
static bool socks_hides_peer(const struct tcp_sock *sk)
{
#if CONFIG_NET_SOCKETS_SOCKS
    return sk->socks != NULL && sk->socks->state != Z_SOCKS_IDLE && !z_socks_open(sk->socks);
#else
    (void)sk;
    return false;
#endif
}

/* The peer the application sees: through a proxy, the destination it
 * named. */
static void peer_of(struct tcp_sock *sk, struct z_ipep *ep)
{
#if CONFIG_NET_SOCKETS_SOCKS
    if (z_socks_open(sk->socks)) {
        *ep = sk->socks->dest;
        return;
    }
#endif
    z_tcp_pcb_peer(sk->pcb, ep);
}

static void tcp_sock_notify(void *ctx)
{
    struct tcp_sock *sk = ctx;
#if CONFIG_NET_SOCKETS_SOCKS
    /* Only as a queued wake-up: called at once from inside TCP input (the
     * queue full), it must not send; the woken callers drive it then. */
    if (sk->stack->in_wakeups) {
        socks_drive(sk);
    }
#endif
    z_cond_broadcast(&sk->cond);
    z_waitq_wake(&sk->wq);
}

static int64_t now_of(struct tcp_sock *sk)
{
    return z_stack_now_us(sk->stack);
}

static void after_call(struct tcp_sock *sk)
{
    /* The call may have moved the connection's timers. */
    if (sk->pcb != NULL) {
        z_tcp_pcb_timer_update(sk->pcb);
    }
}

static int wait_event(struct tcp_sock *sk, int64_t *deadline, int64_t timeo_us)
{
    int rc = z_stack_wait(sk->stack, &sk->cond, z_sockbase_deadline(deadline, timeo_us));
    return z_sockbase_wait_result(rc, sk->closed);
}

/* Report and clear the connection's error. */
static int take_error(struct tcp_sock *sk)
{
    int e = sk->pcb->conn.error;
    sk->pcb->conn.error = 0;
    return e;
}

static int lock_open(struct tcp_sock *sk)
{
    z_stack_lock(sk->stack);
    if (sk->closed || sk->pcb == NULL) {
        z_stack_unlock(sk->stack);
        return -EBADF;
    }
#if CONFIG_NET_SOCKETS_SOCKS
    socks_drive(sk);
#endif
    return 0;
}

static void unlock(struct tcp_sock *sk)
{
    after_call(sk);
    z_stack_unlock(sk->stack);
}

/* ---- connection set-up
 * --------------------------------------------------------------------------- */

static int tcp_bind(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct tcp_sock *sk = obj;
    struct z_ipep ep;
    int rc = z_sockaddr_to_ep(addr, addrlen, sk->base.family, &ep);
    if (rc < 0 || (rc = lock_open(sk)) < 0) {
        return rc;
    }
    rc = z_tcp_pcb_bind(sk->pcb, &ep);
    unlock(sk);
    return rc;
}

/* Open the connection: to the proxy when SO_SOCKS5 names one. */
static int start_connect(struct tcp_sock *sk, const struct z_ipep *ep)
{
#if CONFIG_NET_SOCKETS_SOCKS
    if (sk->socks != NULL) {
        z_socks_start(sk->socks, ep, sk->base.rcvtimeo_us);
        int rc = z_tcp_pcb_connect(sk->pcb, &sk->socks->proxy);
        if (rc < 0) {
            sk->socks->state = Z_SOCKS_IDLE;
        }
        return rc;
    }
#endif
    return z_tcp_pcb_connect(sk->pcb, ep);
}

/* A blocking connect's wait, which the proxy's deadline also ends. */
static int wait_connect(struct tcp_sock *sk, int64_t *deadline)
{
#if CONFIG_NET_SOCKETS_SOCKS
    int64_t d = z_sockbase_deadline(deadline, sk->base.sndtimeo_us);
    if (socks_pending(sk) && sk->socks->deadline != 0 && sk->socks->deadline < d) {
        int rc = z_stack_wait(sk->stack, &sk->cond, sk->socks->deadline);
        socks_drive(sk); /* fails it with ETIMEDOUT once due */
        return z_sockbase_wait_result(rc == -ETIMEDOUT ? 0 : rc, sk->closed);
    }
    int rc = wait_event(sk, deadline, sk->base.sndtimeo_us);
    socks_drive(sk);
    return rc;
#else
    return wait_event(sk, deadline, sk->base.sndtimeo_us);
#endif
}

static int tcp_connect(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct tcp_sock *sk = obj;
    struct z_ipep ep;
    int rc = z_sockaddr_to_ep(addr, addrlen, sk->base.family, &ep);
    if (rc < 0 || (rc = lock_open(sk)) < 0) {
        return rc;
    }
    struct z_tcp_conn *c = &sk->pcb->conn;
    if (c->state == Z_TCP_SYN_SENT || socks_pending(sk)) {
        rc = -EALREADY;
    } else if (c->state != Z_TCP_CLOSED || sk->pcb->listening) {
        rc = sk->pcb->listening ? -EINVAL : -EISCONN;
    } else if (c->error != 0) {
        rc = -take_error(sk); /* the outcome of an earlier non-blocking connect */
    } else {
        rc = start_connect(sk, &ep);
        if (rc == 0 && !z_sockbase_blocking(&sk->base, 0)) {
            rc = -EINPROGRESS;
        }
        int64_t deadline = INT64_MIN;
        while (rc == 0 && (c->state == Z_TCP_SYN_SENT || socks_pending(sk))) {
            rc = wait_connect(sk, &deadline);
            if (rc == -EAGAIN) {
                rc = -EINPROGRESS; /* as Linux when SO_SNDTIMEO runs out */
            }
        }
        if (rc == 0 && c->state == Z_TCP_CLOSED) {
            rc = -(c->error != 0 ? take_error(sk) : ECONNREFUSED);
        }
    }
    unlock(sk);
    return rc;
}

static int tcp_listen(void *obj, int backlog)
{
    struct tcp_sock *sk = obj;
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    rc = z_tcp_pcb_listen(sk->pcb, backlog);
    unlock(sk);
    return rc;
}

static int new_socket_for(struct z_stack *s, int family, struct z_tcp_pcb *pcb, bool nonblock);

static int tcp_accept(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct tcp_sock *sk = obj;
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    int64_t deadline = INT64_MIN;
    for (;;) {
        if (!sk->pcb->listening) {
            rc = -EINVAL;
            break;
        }
        struct z_tcp_pcb *child = z_tcp_pcb_accept(sk->pcb);
        if (child != NULL) {
            rc = new_socket_for(sk->stack, sk->base.family, child, false);
            if (rc < 0) {
                z_tcp_pcb_close(child, true);
            } else if (addr != NULL) {
                struct z_ipep ep;
                z_tcp_pcb_peer(child, &ep);
                z_ep_to_sockaddr(&ep, sk->base.family, addr, addrlen);
            }
            break;
        }
        if (!z_sockbase_blocking(&sk->base, 0)) {
            rc = -EAGAIN;
            break;
        }
        rc = wait_event(sk, &deadline, sk->base.rcvtimeo_us);
        if (rc < 0) {
            break;
        }
    }
    z_stack_unlock(sk->stack);
    return rc;
}

/* ---- data
 * ------------------------------------------------------------------------------------------- */

static bool can_send_state(enum z_tcp_state st)
{
    return st == Z_TCP_ESTABLISHED || st == Z_TCP_CLOSE_WAIT;
}

static ssize_t tcp_sendmsg(void *obj, const struct msghdr *msg, int flags)
{
    struct tcp_sock *sk = obj;
    size_t total = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    struct z_tcp_conn *c = &sk->pcb->conn;
    struct z_iov_iter it;
    z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
    int64_t deadline = INT64_MIN;
    size_t sent = 0;
    ssize_t out;
    for (;;) {
        if (c->error != 0) {
            out = -take_error(sk);
            break;
        }
        if (c->fin_queued || c->state == Z_TCP_CLOSED) {
            out = -EPIPE;
            break;
        }
        if (c->state == Z_TCP_SYN_SENT || c->state == Z_TCP_SYN_RCVD || socks_pending(sk)) {
            if (!z_sockbase_blocking(&sk->base, flags)) {
                out = -EAGAIN;
                break;
            }
        } else if (!can_send_state(c->state)) {
            out = -ENOTCONN;
            break;
        } else {
            ssize_t n = z_tcp_send(c, &it, total - sent, now_of(sk));
            if (n < 0) {
                out = n;
                break;
            }
            sent += (size_t)n;
            if (sent == total) {
                out = (ssize_t)sent;
                break;
            }
            if (!z_sockbase_blocking(&sk->base, flags)) {
                out = sent > 0 ? (ssize_t)sent : -EAGAIN;
                break;
            }
            if (n == 0 && z_tcp_writable(c) > 0) {
                /* Room, but no memory to grow the buffer into: no ACK may be
                 * coming to wake us, so look again shortly. */
                z_sockbase_deadline(&deadline, sk->base.sndtimeo_us);
                int64_t retry = z_deadline_after_us(10000);
                int w = z_stack_wait(sk->stack, &sk->cond, retry < deadline ? retry : deadline);
                if (sk->closed || (w == -ETIMEDOUT && retry >= deadline)) {
                    out = sent > 0 ? (ssize_t)sent : (sk->closed ? -EINTR : -EAGAIN);
                    break;
                }
                continue;
            }
        }
        int w = wait_event(sk, &deadline, sk->base.sndtimeo_us);
        if (w < 0) {
            out = sent > 0 ? (ssize_t)sent : w;
            break;
        }
    }
    if (out < 0 && sent > 0) {
        out = (ssize_t)sent;
    }
    unlock(sk);
    return out;
}

static ssize_t tcp_recvmsg(void *obj, struct msghdr *msg, int flags)
{
    struct tcp_sock *sk = obj;
    size_t want = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    msg->msg_controllen = 0;
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    struct z_tcp_conn *c = &sk->pcb->conn;
    bool peek = flags & ZSOCK_MSG_PEEK;
    bool waitall = (flags & ZSOCK_MSG_WAITALL) && !peek;
    struct z_iov_iter it;
    z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
    int64_t deadline = INT64_MIN;
    size_t got = 0;
    ssize_t out;
    if (msg->msg_name != NULL) {
        struct z_ipep ep;
        peer_of(sk, &ep);
        z_ep_to_sockaddr(&ep, sk->base.family, msg->msg_name, &msg->msg_namelen);
    }
    for (;;) {
        /* Nothing before the proxy's success is the application's. */
        size_t avail = socks_pending(sk) ? 0 : z_tcp_readable(c);
        if (avail > 0 && want > got) {
            if (peek && waitall && avail < want && !c->rcv_fin) {
                /* wait below for the whole request */
            } else {
                got += z_tcp_recv(c, &it, want - got, peek, now_of(sk));
                if (peek || !waitall || got == want) {
                    out = (ssize_t)got;
                    break;
                }
                continue;
            }
        }
        if (want == got) {
            out = (ssize_t)got;
            break;
        }
        if (c->rcv_fin || sk->shut_rd) {
            out = (ssize_t)got; /* end of stream: 0, and again on every call */
            break;
        }
        if (c->error != 0) {
            out = got > 0 ? (ssize_t)got : -take_error(sk);
            break;
        }
        if (c->state == Z_TCP_CLOSED || c->state == Z_TCP_LISTEN ||
            ((c->state == Z_TCP_SYN_SENT || socks_pending(sk)) &&
             !z_sockbase_blocking(&sk->base, flags))) {
            out = got > 0 ? (ssize_t)got
                          : (c->state == Z_TCP_CLOSED && sk->pcb->rport != 0 ? 0 : -ENOTCONN);
            break;
        }
        if (!z_sockbase_blocking(&sk->base, flags)) {
            out = got > 0 ? (ssize_t)got : -EAGAIN;
            break;
        }
        int w = wait_event(sk, &deadline, sk->base.rcvtimeo_us);
        if (w < 0) {
            out = got > 0 ? (ssize_t)got : w;
            break;
        }
    }
    unlock(sk);
    return out;
}

static int tcp_shutdown(void *obj, int how)
{
    struct tcp_sock *sk = obj;
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    struct z_tcp_conn *c = &sk->pcb->conn;
    if (sk->pcb->listening || c->state == Z_TCP_CLOSED || c->state == Z_TCP_SYN_SENT ||
        socks_pending(sk)) {
        rc = -ENOTCONN;
    } else {
        if (how == ZSOCK_SHUT_RD || how == ZSOCK_SHUT_RDWR) {
            sk->shut_rd = true;
        }
        if (how == ZSOCK_SHUT_WR || how == ZSOCK_SHUT_RDWR) {
            z_tcp_shutdown_wr(c, now_of(sk));
        }
        tcp_sock_notify(sk);
    }
    unlock(sk);
    return rc;
}

static int tcp_getname(struct tcp_sock *sk, bool peer, struct sockaddr *addr, socklen_t *addrlen)
{
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    struct z_tcp_pcb *pcb = sk->pcb;
    if (peer && (pcb->rport == 0 || pcb->conn.state == Z_TCP_SYN_SENT || socks_hides_peer(sk))) {
        rc = -ENOTCONN;
    } else {
        struct z_ipep ep;
        if (peer) {
            peer_of(sk, &ep);
        } else {
            z_tcp_pcb_local(pcb, &ep);
        }
        z_ep_to_sockaddr(&ep, sk->base.family, addr, addrlen);
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static int tcp_getsockname(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    return tcp_getname(obj, false, addr, addrlen);
}

static int tcp_getpeername(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    return tcp_getname(obj, true, addr, addrlen);
}

/* ---- options
 * -------------------------------------------------------------------------------------------- */

/* The keepalive options, which a build without CONFIG_NET_TCP_KEEPALIVE
 * answers with ENOPROTOOPT (as Zephyr does). */
static bool keepalive_opt(int level, int optname)
{
    return (level == SOL_SOCKET && optname == SO_KEEPALIVE) ||
           (level == IPPROTO_TCP &&
            (optname == TCP_KEEPIDLE || optname == TCP_KEEPINTVL || optname == TCP_KEEPCNT));
}

static int tcp_getsockopt(void *obj, int level, int optname, void *optval, socklen_t *optlen)
{
    struct tcp_sock *sk = obj;
    if (!CONFIG_NET_TCP_KEEPALIVE && keepalive_opt(level, optname)) {
        return -ENOPROTOOPT;
    }
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    struct z_tcp_pcb *pcb = sk->pcb;
    rc = z_sockbase_getsockopt(&sk->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT) {
        rc = z_stackopt_get(sk->stack, level, optname, optval, optlen);
    }
    if (rc == -ENOPROTOOPT && level == SOL_SOCKET) {
        switch (optname) {
        case SO_ERROR:
            rc = z_opt_put_int(optval, optlen, take_error(sk));
            break;
        case SO_ACCEPTCONN:
            rc = z_opt_put_int(optval, optlen, pcb->listening);
            break;
        case SO_REUSEADDR:
            rc = z_opt_put_int(optval, optlen, pcb->reuseaddr);
            break;
        case SO_KEEPALIVE:
            rc = z_opt_put_int(optval, optlen, pcb->keepalive);
            break;
        case SO_RCVBUF:
            rc = z_opt_put_int(optval, optlen, (int)pcb->rcv_buf);
            break;
        case SO_SNDBUF:
            rc = z_opt_put_int(optval, optlen, (int)pcb->snd_buf);
            break;
#if CONFIG_NET_TX_QUEUE
        case SO_PRIORITY:
            rc = z_opt_put_int(optval, optlen, pcb->prio);
            break;
#endif
        case SO_BINDTODEVICE:
            rc = z_bindtodevice_name(sk->stack, pcb->ifindex, optval, optlen);
            break;
        case SO_LINGER:
            if (*optlen < sizeof(struct linger)) {
                rc = -EINVAL;
            } else {
                memcpy(optval, &sk->linger, sizeof(sk->linger));
                *optlen = sizeof(sk->linger);
                rc = 0;
            }
            break;
#if CONFIG_NET_SOCKETS_SOCKS
        case SO_SOCKS5:
            rc = z_socks_get(sk->socks, sk->base.family, optval, optlen);
            break;
#endif
        default:
            break;
        }
    } else if (rc == -ENOPROTOOPT && level == IPPROTO_TCP) {
        switch (optname) {
        case TCP_NODELAY:
            rc = z_opt_put_int(optval, optlen, pcb->nodelay);
            break;
        case TCP_KEEPIDLE:
            rc = z_opt_put_int(optval, optlen, pcb->keep_idle_s);
            break;
        case TCP_KEEPINTVL:
            rc = z_opt_put_int(optval, optlen, pcb->keep_intvl_s);
            break;
        case TCP_KEEPCNT:
            rc = z_opt_put_int(optval, optlen, pcb->keep_cnt);
            break;
        default:
            break;
        }
    } else if (rc == -ENOPROTOOPT && level == IPPROTO_IP) {
        if (optname == IP_TTL) {
            rc = z_opt_put_int(optval, optlen, pcb->ttl);
        } else if (optname == IP_TOS) {
            rc = z_opt_put_int(optval, optlen, pcb->tos);
        }
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
        else if (optname == IP_LOCAL_PORT_RANGE) {
            rc = z_port_range_get(pcb->port_range, optval, optlen);
        }
#endif
    }
#if CONFIG_NET_IPV6
    else if (rc == -ENOPROTOOPT && level == IPPROTO_IPV6 && sk->base.family == AF_INET6) {
        bool connected6 = pcb->fam == Z_FAM6 && pcb->rport != 0 && !pcb->listening;
        rc = z_ip6_sockopt_get(sk->stack, &pcb->o6, pcb->v6only, connected6 ? pcb->raddr6 : NULL,
                               pcb->ifindex, optname, optval, optlen);
    }
#endif
    z_stack_unlock(sk->stack);
    return rc;
}

static int set_buf(struct z_tcp_pcb *pcb, int optname, int v)
{
    if (pcb->conn.state != Z_TCP_CLOSED || pcb->listening) {
        /* The window scale is fixed by the handshake: sizes apply before it. */
        return -EISCONN;
    }
    uint32_t size = v < 2048 ? 2048 : (uint32_t)v;
    if (size > CONFIG_NET_TCP_BUF_MAX) {
        size = CONFIG_NET_TCP_BUF_MAX;
    }
    if (optname == SO_RCVBUF) {
        pcb->rcv_buf = size;
    } else {
        pcb->snd_buf = size;
    }
    return 0;
}

static int tcp_setsockopt(void *obj, int level, int optname, const void *optval, socklen_t optlen)
{
    struct tcp_sock *sk = obj;
    if (!CONFIG_NET_TCP_KEEPALIVE && keepalive_opt(level, optname)) {
        return -ENOPROTOOPT;
    }
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    struct z_tcp_pcb *pcb = sk->pcb;
    rc = z_sockbase_setsockopt(&sk->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT) {
        rc = z_stackopt_set(sk->stack, level, optname, optval, optlen);
    }
    if (rc != -ENOPROTOOPT) {
        goto out;
    }
    if (level == SOL_SOCKET && optname == SO_BINDTODEVICE) {
        rc = z_bindtodevice_lookup(sk->stack, optval, optlen, &pcb->ifindex);
        goto out;
    }
#if CONFIG_NET_SOCKETS_SOCKS
    if (level == SOL_SOCKET && optname == SO_SOCKS5) {
        /* A proxy applies to the next connect: not to a listener, nor to a
         * connection already made or being made. */
        rc = pcb->listening ? -EINVAL
             : (pcb->conn.state != Z_TCP_CLOSED || socks_pending(sk) || z_socks_open(sk->socks))
                 ? -EISCONN
                 : z_socks_set(&sk->socks, sk->base.family, optval, optlen);
        goto out;
    }
#endif
#if CONFIG_NET_IPV6
    if (level == IPPROTO_IPV6 && sk->base.family == AF_INET6) {
        rc = z_ip6_sockopt_set(&pcb->o6, &pcb->v6only, pcb->in_table, optname, optval, optlen);
        if (rc == 0 && optname == IPV6_V6ONLY) {
            pcb->fam = pcb->v6only ? Z_FAM6 : Z_FAM4 | Z_FAM6;
        }
        goto out;
    }
#endif
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
    if (level == IPPROTO_IP && optname == IP_LOCAL_PORT_RANGE) {
        rc = z_port_range_set(&pcb->port_range, optval, optlen);
        goto out;
    }
#endif
    if (level == SOL_SOCKET && optname == SO_LINGER) {
        if (optlen < sizeof(struct linger)) {
            rc = -EINVAL;
        } else {
            memcpy(&sk->linger, optval, sizeof(sk->linger));
            sk->linger_abort = sk->linger.l_onoff && sk->linger.l_linger == 0;
            rc = 0;
        }
        goto out;
    }
    int v;
#if CONFIG_NET_TX_QUEUE
    if (level == SOL_SOCKET && optname == SO_PRIORITY) {
        rc = z_opt_get_int(optval, optlen, &v);
        rc = rc < 0 ? rc : z_priority_set(&pcb->prio, v);
        goto out;
    }
#endif
    if ((level == SOL_SOCKET && (optname == SO_REUSEADDR || optname == SO_RCVBUF ||
                                 optname == SO_SNDBUF || optname == SO_KEEPALIVE)) ||
        (level == IPPROTO_TCP && (optname == TCP_NODELAY || optname == TCP_KEEPIDLE ||
                                  optname == TCP_KEEPINTVL || optname == TCP_KEEPCNT)) ||
        (level == IPPROTO_IP && (optname == IP_TTL || optname == IP_TOS))) {
        rc = z_opt_get_int(optval, optlen, &v);
        if (rc < 0) {
            goto out;
        }
    } else {
        goto out; /* -ENOPROTOOPT */
    }
    if (level == SOL_SOCKET && optname == SO_REUSEADDR) {
        pcb->reuseaddr = v != 0;
    } else if (CONFIG_NET_TCP_KEEPALIVE && level == SOL_SOCKET && optname == SO_KEEPALIVE) {
        pcb->keepalive = v != 0;
        z_tcp_pcb_apply_keepalive(pcb);
    } else if (level == SOL_SOCKET) {
        rc = set_buf(pcb, optname, v);
    } else if (level == IPPROTO_TCP && optname == TCP_NODELAY) {
        pcb->nodelay = v != 0;
        pcb->conn.cfg.nodelay = pcb->nodelay;
    } else if (CONFIG_NET_TCP_KEEPALIVE && level == IPPROTO_TCP) {
        /* Linux's ranges: seconds 1..32767, probes 1..127. */
        int max = optname == TCP_KEEPCNT ? 127 : 32767;
        if (v < 1 || v > max) {
            rc = -EINVAL;
        } else {
            int *field = optname == TCP_KEEPIDLE    ? &pcb->keep_idle_s
                         : optname == TCP_KEEPINTVL ? &pcb->keep_intvl_s
                                                    : &pcb->keep_cnt;
            *field = v;
            z_tcp_pcb_apply_keepalive(pcb);
        }
    } else {
        rc = z_ip_ttl_tos_set(&pcb->ttl, &pcb->tos, optname, v);
    }
out:
    unlock(sk);
    return rc;
}

/* ---- descriptor operations
 * --------------------------------------------------------------------------------- */

static int tcp_ioctl(void *obj, unsigned long request, int *arg)
{
    struct tcp_sock *sk = obj;
    int rc = lock_open(sk);
    if (rc < 0) {
        return rc;
    }
    switch (request) {
    case FIONREAD:
        *arg = socks_pending(sk) ? 0 : (int)z_tcp_readable(&sk->pcb->conn);
        break;
    case FIONWRITE:
        *arg = (int)sk->pcb->conn.snd.len;
        break;
    default:
        rc = z_sockbase_ioctl(&sk->base, request, arg);
        break;
    }
    z_stack_unlock(sk->stack);
    return rc;
}

static short tcp_poll(void *obj, struct z_wait_entry *we)
{
    struct tcp_sock *sk = obj;
    short rev = 0;
    z_stack_lock(sk->stack);
    if (we != NULL) {
        z_waitq_add(&sk->wq, we);
    }
    if (sk->closed || sk->pcb == NULL) {
        z_stack_unlock(sk->stack);
        return ZSOCK_POLLNVAL;
    }
#if CONFIG_NET_SOCKETS_SOCKS
    socks_drive(sk);
    if (socks_pending(sk)) {
        /* Not connected yet; the proxy's silence ends it by its deadline. */
        if (sk->socks->deadline != 0) {
            z_wait_entry_wake_by(we, sk->socks->deadline);
        }
        z_stack_unlock(sk->stack);
        return 0;
    }
#endif
    struct z_tcp_pcb *pcb = sk->pcb;
    struct z_tcp_conn *c = &pcb->conn;
    if (pcb->listening) {
        rev = pcb->acc_len > 0 ? ZSOCK_POLLIN : 0;
    } else {
        if (z_tcp_readable(c) > 0 || c->rcv_fin || sk->shut_rd) {
            rev |= ZSOCK_POLLIN;
        }
        if (can_send_state(c->state) && !c->fin_queued && z_tcp_writable(c) > 0) {
            rev |= ZSOCK_POLLOUT;
        }
        if (c->error != 0) {
            rev |= ZSOCK_POLLERR;
        }
        /* Both directions finished, or never connected: POLLHUP (Linux). */
        if (c->state == Z_TCP_CLOSED || (c->rcv_fin && c->fin_queued)) {
            rev |= ZSOCK_POLLHUP;
            if (c->state == Z_TCP_CLOSED) {
                rev |= ZSOCK_POLLOUT;
            }
        }
        if (c->state == Z_TCP_CLOSED && pcb->rport != 0) {
            rev |= ZSOCK_POLLIN;
        }
    }
    z_stack_unlock(sk->stack);
    return rev;
}

/* Has everything we sent, FIN included, been acknowledged (or is the
 * connection over)? */
static bool linger_done(const struct z_tcp_conn *c)
{
    return c->state == Z_TCP_CLOSED || c->state == Z_TCP_FIN_WAIT_2 || c->state == Z_TCP_TIME_WAIT;
}

/* SO_LINGER {1, t > 0} on a blocking socket (POSIX, Linux): send the FIN
 * after the queued data and wait until the peer has acknowledged both, or
 * t seconds. Returns true if the time ran out first (the caller resets). */
static bool linger_wait(struct tcp_sock *sk)
{
    struct z_tcp_pcb *pcb = sk->pcb;
    struct z_tcp_conn *c = &pcb->conn;
    bool open = c->state == Z_TCP_ESTABLISHED || c->state == Z_TCP_CLOSE_WAIT ||
                c->state == Z_TCP_FIN_WAIT_1 || c->state == Z_TCP_CLOSING ||
                c->state == Z_TCP_LAST_ACK;
    if (!sk->linger.l_onoff || sk->linger.l_linger == 0 || !z_sockbase_blocking(&sk->base, 0) ||
        pcb->listening || !open || z_tcp_readable(c) > 0) {
        return false; /* nothing to wait for, or a close that resets anyway */
    }
    z_tcp_shutdown_wr(c, now_of(sk));
    z_tcp_pcb_timer_update(pcb);
    /* A negative time waits without limit, as Linux's does. */
    int64_t deadline = sk->linger.l_linger < 0
                           ? Z_FOREVER
                           : z_deadline_after_us((int64_t)sk->linger.l_linger * 1000000);
    while (!linger_done(c)) {
        if (z_stack_wait(sk->stack, &sk->cond, deadline) == -ETIMEDOUT) {
            return !linger_done(c);
        }
    }
    return false;
}

static void tcp_close(void *obj)
{
    struct tcp_sock *sk = obj;
    z_stack_lock(sk->stack);
    sk->closed = true;
    tcp_sock_notify(sk); /* other threads blocked on the socket return first */
    if (sk->pcb != NULL) {
        struct z_tcp_pcb *pcb = sk->pcb;
        /* While lingering the pcb keeps its notify, so ACKs wake us; the
         * glue frees only orphans, so it cannot go away meanwhile. */
        bool abort = sk->linger_abort || linger_wait(sk);
        sk->pcb = NULL;
        z_tcp_pcb_close(pcb, abort);
    }
    tcp_sock_notify(sk);
    z_stack_unlock(sk->stack);
}

static void tcp_release(void *obj)
{
    struct tcp_sock *sk = obj;
#if CONFIG_NET_SOCKETS_SOCKS
    z_free(sk->socks);
#endif
    z_cond_destroy(&sk->cond);
    z_free(sk);
}

static const struct z_socket_ops tcp_ops = {
    .fd =
        {
            .close = tcp_close,
            .release = tcp_release,
            .poll = tcp_poll,
            .ioctl = tcp_ioctl,
        },
    .shutdown = tcp_shutdown,
    .bind = tcp_bind,
    .connect = tcp_connect,
    .listen = tcp_listen,
    .accept = tcp_accept,
    .sendmsg = tcp_sendmsg,
    .recvmsg = tcp_recvmsg,
    .getsockopt = tcp_getsockopt,
    .setsockopt = tcp_setsockopt,
    .getpeername = tcp_getpeername,
    .getsockname = tcp_getsockname,
};

/* A socket object around `pcb` (lock held). Returns the descriptor. */
static int new_socket_for(struct z_stack *s, int family, struct z_tcp_pcb *pcb, bool nonblock)
{
    int fd = z_fd_reserve();
    if (fd < 0) {
        return fd;
    }
    struct tcp_sock *sk = z_calloc(1, sizeof(*sk));
    if (sk == NULL) {
        z_fd_unreserve(fd);
        return -ENOMEM;
    }
    z_sockbase_init(&sk->base, family, SOCK_STREAM, IPPROTO_TCP, nonblock);
    sk->stack = s;
    sk->pcb = pcb;
    z_cond_init(&sk->cond);
    z_waitq_init(&sk->wq, &s->lock);
    pcb->notify = tcp_sock_notify;
    pcb->ctx = sk;
    z_fd_finalize(fd, sk, &tcp_ops.fd, Z_FD_KIND_SOCKET);
    return fd;
}

int z_inet_tcp_socket_on(struct z_stack *s, int family, bool nonblock)
{
    z_stack_lock(s);
    struct z_tcp_pcb *pcb = z_tcp_pcb_new(s, family == AF_INET6);
    int fd = pcb != NULL ? new_socket_for(s, family, pcb, nonblock) : -ENOMEM;
    if (fd < 0 && pcb != NULL) {
        z_tcp_pcb_close(pcb, true);
    }
    z_stack_unlock(s);
    return fd;
}
