/* AF_INET sockets: the socket-call side of UDP (TCP joins later). Each socket
 * lives in one stack instance and is guarded by that stack's lock; blocking
 * calls wait on the socket's condition variable under that lock. */
#include "sockets/inet.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/udp.h"
#include "sockets/fdtable.h"
#include "sockets/sockbase.h"

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
    int priority;
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

int z_sockaddr_to_v4(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port)
{
    if (len < sizeof(struct sockaddr_in)) {
        return -EINVAL;
    }
    if (sa->sa_family != AF_INET) {
        return -EAFNOSUPPORT;
    }
    const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
    *addr = ntohl(sin->sin_addr.s_addr);
    *port = ntohs(sin->sin_port);
    return 0;
}

/* Store an address into a caller's (addr, *len), truncating, with the full
 * length written back. */
void z_v4_to_sockaddr(uint32_t addr, uint16_t port, struct sockaddr *sa, socklen_t *len)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(addr);
    sin.sin_port = htons(port);
    size_t n = *len < sizeof(sin) ? *len : sizeof(sin);
    memcpy(sa, &sin, n);
    *len = sizeof(sin);
}

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
    uint32_t a;
    uint16_t port;
    int rc = z_sockaddr_to_v4(addr, addrlen, &a, &port);
    if (rc < 0) {
        return rc;
    }
    z_stack_lock(sk->stack);
    rc = sk->closed ? -EBADF : z_udp_bind(&sk->pcb, a, port);
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
    uint32_t a;
    uint16_t port;
    int rc = z_sockaddr_to_v4(addr, addrlen, &a, &port);
    if (rc < 0) {
        return rc;
    }
    z_stack_lock(sk->stack);
    rc = sk->closed ? -EBADF : z_udp_connect(&sk->pcb, a, port);
    z_stack_unlock(sk->stack);
    return rc;
}

static ssize_t inet_sendmsg(void *obj, const struct msghdr *msg, int flags)
{
    struct inet_sock *sk = obj;
    uint32_t dst = 0;
    uint16_t dport = 0;
    size_t len = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    if (msg->msg_name != NULL) {
        int rc = z_sockaddr_to_v4(msg->msg_name, msg->msg_namelen, &dst, &dport);
        if (rc < 0) {
            return rc;
        }
        if (dport == 0) {
            return -EINVAL;
        }
    }
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
            dst = sk->pcb.raddr;
            dport = sk->pcb.rport;
        }
        struct z_iov_iter it;
        z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
        rc = z_udp_send(&sk->pcb, dst, dport, &it, len);
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

static ssize_t inet_recvmsg(void *obj, struct msghdr *msg, int flags)
{
    struct inet_sock *sk = obj;
    size_t want = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    int64_t deadline = INT64_MIN;
    ssize_t rc;
    msg->msg_controllen = 0;
    z_stack_lock(sk->stack);
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
            z_ring_peek(&pcb->rx, 0, &rec, sizeof(rec));
            struct z_iov_iter it;
            z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
            size_t n = rec.len < want ? rec.len : want;
            z_ring_copy_out(&pcb->rx, z_ring_pos(&pcb->rx, sizeof(rec)), &it, n);
            if (rec.len > want) {
                msg->msg_flags |= ZSOCK_MSG_TRUNC;
            }
            if (msg->msg_name != NULL) {
                z_v4_to_sockaddr(rec.src, rec.sport, msg->msg_name, &msg->msg_namelen);
            } else {
                msg->msg_namelen = 0;
            }
            if (!(flags & ZSOCK_MSG_PEEK)) {
                z_ring_consume(&pcb->rx, sizeof(rec) + rec.len);
                pcb->rx_dgrams--;
            }
            rc = (flags & ZSOCK_MSG_TRUNC) ? (ssize_t)rec.len : (ssize_t)n;
            break;
        }
        if (sk->shut_rd) {
            msg->msg_namelen = 0;
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
    z_stack_lock(sk->stack);
    z_v4_to_sockaddr(sk->pcb.laddr, sk->pcb.lport, addr, addrlen);
    z_stack_unlock(sk->stack);
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
        z_v4_to_sockaddr(sk->pcb.raddr, sk->pcb.rport, addr, addrlen);
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
    case SO_PRIORITY:
        return z_opt_put_int(optval, optlen, sk->priority);
    case SO_BINDTODEVICE: {
        char name[IFNAMSIZ] = "";
        struct z_netif *nif =
            pcb->ifindex != 0 ? z_netif_by_index_locked(sk->stack, pcb->ifindex) : NULL;
        if (nif != NULL) {
            memcpy(name, nif->name, IFNAMSIZ);
        }
        size_t n = strnlen(name, IFNAMSIZ) + (pcb->ifindex != 0);
        n = n < *optlen ? n : *optlen;
        memcpy(optval, name, n);
        *optlen = (socklen_t)n;
        return 0;
    }
    default:
        return -ENOPROTOOPT;
    }
}

static int inet_getsockopt(void *obj, int level, int optname, void *optval, socklen_t *optlen)
{
    struct inet_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = sk->closed ? -EBADF : z_sockbase_getsockopt(&sk->base, level, optname, optval, optlen);
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
        default:
            break;
        }
    }
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

static int set_sol_socket(struct inet_sock *sk, int optname, const void *optval, socklen_t optlen)
{
    struct z_udp_pcb *pcb = &sk->pcb;
    if (optname == SO_BINDTODEVICE) {
        return z_bindtodevice_lookup(sk->stack, optval, optlen, &pcb->ifindex);
    }
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
    case SO_PRIORITY:
        if (v < 0 || v > 7) {
            return -EINVAL;
        }
        sk->priority = v;
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

static int inet_setsockopt(void *obj, int level, int optname, const void *optval, socklen_t optlen)
{
    struct inet_sock *sk = obj;
    z_stack_lock(sk->stack);
    int rc = sk->closed ? -EBADF : z_sockbase_setsockopt(&sk->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT && level == SOL_SOCKET) {
        rc = set_sol_socket(sk, optname, optval, optlen);
    } else if (rc == -ENOPROTOOPT && level == IPPROTO_IP &&
               (optname == IP_TTL || optname == IP_TOS)) {
        int v;
        rc = z_opt_get_int(optval, optlen, &v);
        if (rc == 0 && optname == IP_TTL) {
            /* -1 restores the default, as on Linux. */
            if (v == -1) {
                v = CONFIG_NET_IPV4_TTL;
            }
            rc = (v < 1 || v > 255) ? -EINVAL : 0;
            if (rc == 0) {
                sk->pcb.ttl = (uint8_t)v;
            }
        } else if (rc == 0) {
            sk->pcb.tos = (uint8_t)v;
        }
    }
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
    switch (request) {
    case FIONREAD:
        if (sk->pcb.rx_dgrams > 0) {
            struct z_udp_rec rec;
            z_ring_peek(&sk->pcb.rx, 0, &rec, sizeof(rec));
            *arg = (int)rec.len;
        } else {
            *arg = 0;
        }
        break;
    case FIONWRITE:
        *arg = 0; /* datagrams leave at once */
        break;
    default:
        rc = z_sockbase_ioctl(&sk->base, request, arg);
        break;
    }
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
};

/* ---- creation and registration
 * ----------------------------------------------------------------------------- */

int z_inet_socket_on(struct z_stack *s, int type, int proto, bool nonblock)
{
    if (type == SOCK_STREAM) {
        return z_inet_tcp_socket_on(s, nonblock);
    }
    if (type != SOCK_DGRAM) {
        return -EPROTONOSUPPORT;
    }
    int fd = z_fd_reserve();
    if (fd < 0) {
        return fd;
    }
    struct inet_sock *sk = z_calloc(1, sizeof(*sk));
    if (sk == NULL || z_udp_pcb_init(&sk->pcb, s) < 0) {
        z_free(sk);
        z_fd_unreserve(fd);
        return -ENOMEM;
    }
    z_sockbase_init(&sk->base, AF_INET, type, proto != 0 ? proto : IPPROTO_UDP, nonblock);
    sk->stack = s;
    sk->sndbuf = 212992;
    z_cond_init(&sk->cond);
    z_waitq_init(&sk->wq, &s->lock);
    sk->pcb.notify = sock_notify;
    sk->pcb.ctx = sk;
    z_fd_finalize(fd, sk, &inet_udp_ops.fd, Z_FD_KIND_SOCKET);
    return fd;
}

static int inet_supports(int family, int type, int proto)
{
    if (family != AF_INET) {
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
    (void)family;
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    return z_inet_socket_on(s, type, proto, nonblock);
}

struct z_socket_family z_inet_family = {
    .name = "inet",
    .priority = 50,
    .supports = inet_supports,
    .create = inet_create,
};
