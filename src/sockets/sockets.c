/* The public zsock_* socket calls: argument checks that hold for every
 * socket, descriptor lookup with a reference held for the call, dispatch to
 * the object's operations, and the translation of negative errno results into
 * -1 + errno. */
#include "sockets/fdtable.h"
#include "sockets/iov.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

/* Turn an internal result (value or negative errno) into the POSIX form. */
static inline long posix_result(long rc)
{
    if (rc < 0) {
        errno = (int)-rc;
        return -1;
    }
    return rc;
}

/* Look up a socket, run `expr` (which may use `obj` and `ops`) if the socket
 * implements `member`, and return its result in POSIX form. */
#define SOCKET_CALL(sock, member, expr)                                                            \
    do {                                                                                           \
        int err_;                                                                                  \
        const struct z_fd_ops *fdops_;                                                             \
        void *obj = z_fd_get((sock), Z_FD_KIND_SOCKET, &fdops_, &err_);                            \
        if (obj == NULL) {                                                                         \
            return posix_result(err_);                                                             \
        }                                                                                          \
        const struct z_socket_ops *ops = (const struct z_socket_ops *)fdops_;                      \
        long rc_ = ops->member != NULL ? (long)(expr) : -EOPNOTSUPP;                               \
        z_fd_put(sock);                                                                            \
        return posix_result(rc_);                                                                  \
    } while (0)

void *zsock_get_context_object(int sock)
{
    int err;
    const struct z_fd_ops *ops;
    void *obj = z_fd_get(sock, Z_FD_KIND_ANY, &ops, &err);
    if (obj != NULL) {
        z_fd_put(sock);
    }
    return obj;
}

int zsock_socket(int family, int type, int proto)
{
    return (int)posix_result(z_socket_create(family, type, proto));
}

int zsock_close(int sock)
{
    return (int)posix_result(z_fd_close(sock));
}

int zsock_shutdown(int sock, int how)
{
    if (how != ZSOCK_SHUT_RD && how != ZSOCK_SHUT_WR && how != ZSOCK_SHUT_RDWR) {
        /* Still EBADF/ENOTSOCK first for a bad descriptor, as POSIX lists. */
        SOCKET_CALL(sock, shutdown, -EINVAL);
    }
    SOCKET_CALL(sock, shutdown, ops->shutdown(obj, how));
}

int zsock_bind(int sock, const struct sockaddr *addr, socklen_t addrlen)
{
    SOCKET_CALL(sock, bind, addr == NULL ? -EFAULT : ops->bind(obj, addr, addrlen));
}

int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen)
{
    SOCKET_CALL(sock, connect, addr == NULL ? -EFAULT : ops->connect(obj, addr, addrlen));
}

int zsock_listen(int sock, int backlog)
{
    SOCKET_CALL(sock, listen, ops->listen(obj, backlog));
}

/* Checks shared by calls that return an address into (addr, *addrlen). */
static int check_addr_out(const struct sockaddr *addr, const socklen_t *addrlen)
{
    if (addr != NULL && addrlen == NULL) {
        return -EFAULT;
    }
    if (addrlen != NULL && (int)*addrlen < 0) {
        return -EINVAL;
    }
    return 0;
}

int zsock_accept(int sock, struct sockaddr *addr, socklen_t *addrlen)
{
    int bad = check_addr_out(addr, addrlen);
    SOCKET_CALL(sock, accept, bad ? bad : ops->accept(obj, addr, addrlen));
}

/* Flags any socket may be given on send and receive. */
#define SEND_FLAGS (ZSOCK_MSG_DONTWAIT | MSG_NOSIGNAL)
#if CONFIG_NET_SOCKETS_TIMESTAMPING
#define RECV_FLAGS                                                                                 \
    (ZSOCK_MSG_DONTWAIT | ZSOCK_MSG_PEEK | ZSOCK_MSG_TRUNC | ZSOCK_MSG_WAITALL | ZSOCK_MSG_ERRQUEUE)
#else
#define RECV_FLAGS (ZSOCK_MSG_DONTWAIT | ZSOCK_MSG_PEEK | ZSOCK_MSG_TRUNC | ZSOCK_MSG_WAITALL)
#endif

static ssize_t checked_sendmsg(void *obj, const struct z_socket_ops *ops, const struct msghdr *msg,
                               int flags)
{
    if (msg == NULL) {
        return -EFAULT;
    }
    if (flags & ~SEND_FLAGS) {
        return -EOPNOTSUPP;
    }
    if (msg->msg_name == NULL && msg->msg_namelen != 0) {
        return -EFAULT;
    }
    ssize_t total = z_iov_total(msg->msg_iov, msg->msg_iovlen);
    if (total < 0) {
        return total;
    }
    return ops->sendmsg(obj, msg, flags);
}

static ssize_t checked_recvmsg(void *obj, const struct z_socket_ops *ops, struct msghdr *msg,
                               int flags)
{
    if (msg == NULL) {
        return -EFAULT;
    }
    if (flags & ~RECV_FLAGS) {
        return -EOPNOTSUPP;
    }
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    if ((flags & ZSOCK_MSG_ERRQUEUE) && !ops->errqueue) {
        return -EAGAIN;
    }
#endif
    ssize_t total = z_iov_total(msg->msg_iov, msg->msg_iovlen);
    if (total < 0) {
        return total;
    }
    msg->msg_flags = 0;
    return ops->recvmsg(obj, msg, flags);
}

ssize_t zsock_sendto(int sock, const void *buf, size_t len, int flags,
                     const struct sockaddr *dest_addr, socklen_t addrlen)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {
        .msg_name = (void *)dest_addr,
        .msg_namelen = dest_addr != NULL ? addrlen : 0,
        .msg_iov = &iov,
        .msg_iovlen = 1,
    };
    SOCKET_CALL(sock, sendmsg, checked_sendmsg(obj, ops, &msg, flags));
}

ssize_t zsock_sendmsg(int sock, const struct msghdr *msg, int flags)
{
    SOCKET_CALL(sock, sendmsg, checked_sendmsg(obj, ops, msg, flags));
}

ssize_t zsock_recvfrom(int sock, void *buf, size_t max_len, int flags, struct sockaddr *src_addr,
                       socklen_t *addrlen)
{
    int bad = check_addr_out(src_addr, addrlen);
    struct iovec iov = {.iov_base = buf, .iov_len = max_len};
    struct msghdr msg = {
        .msg_name = src_addr,
        .msg_namelen = (src_addr != NULL && addrlen != NULL) ? *addrlen : 0,
        .msg_iov = &iov,
        .msg_iovlen = 1,
    };
    int err_;
    const struct z_fd_ops *fdops;
    void *obj = z_fd_get(sock, Z_FD_KIND_SOCKET, &fdops, &err_);
    if (obj == NULL) {
        return posix_result(err_);
    }
    const struct z_socket_ops *ops = (const struct z_socket_ops *)fdops;
    ssize_t rc = bad                    ? bad
                 : ops->recvmsg == NULL ? -EOPNOTSUPP
                                        : checked_recvmsg(obj, ops, &msg, flags);
    z_fd_put(sock);
    if (rc >= 0 && src_addr != NULL) {
        *addrlen = msg.msg_namelen;
    }
    return posix_result(rc);
}

ssize_t zsock_recvmsg(int sock, struct msghdr *msg, int flags)
{
    SOCKET_CALL(sock, recvmsg, checked_recvmsg(obj, ops, msg, flags));
}

/* Option calls: NULL pointers are EFAULT whatever the option. */
int zsock_getsockopt(int sock, int level, int optname, void *optval, socklen_t *optlen)
{
    SOCKET_CALL(sock, getsockopt,
                (optval == NULL || optlen == NULL)
                    ? -EFAULT
                    : ops->getsockopt(obj, level, optname, optval, optlen));
}

int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen)
{
    SOCKET_CALL(sock, setsockopt,
                (optval == NULL && optlen != 0)
                    ? -EFAULT
                    : ops->setsockopt(obj, level, optname, optval, optlen));
}

int zsock_getpeername(int sock, struct sockaddr *addr, socklen_t *addrlen)
{
    SOCKET_CALL(sock, getpeername,
                (addr == NULL || addrlen == NULL) ? -EFAULT : ops->getpeername(obj, addr, addrlen));
}

int zsock_getsockname(int sock, struct sockaddr *addr, socklen_t *addrlen)
{
    SOCKET_CALL(sock, getsockname,
                (addr == NULL || addrlen == NULL) ? -EFAULT : ops->getsockname(obj, addr, addrlen));
}

/* fcntl and ioctl reach every object in the table, not only sockets. */
static int fd_ioctl(int sock, unsigned long request, int *arg)
{
    int err;
    const struct z_fd_ops *ops;
    void *obj = z_fd_get(sock, Z_FD_KIND_ANY, &ops, &err);
    if (obj == NULL) {
        return err;
    }
    int rc = ops->ioctl != NULL ? ops->ioctl(obj, request, arg) : -ENOTTY;
    z_fd_put(sock);
    return rc;
}

int zsock_fcntl(int sock, int cmd, ...)
{
    int arg = 0;
    switch (cmd) {
    case F_GETFL: {
        int rc = fd_ioctl(sock, Z_IOCTL_GETFL, &arg);
        return (int)posix_result(rc < 0 ? rc : arg);
    }
    case F_SETFL: {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
        return (int)posix_result(fd_ioctl(sock, Z_IOCTL_SETFL, &arg));
    }
    default: {
        /* EBADF takes precedence over an unknown command. */
        int rc = fd_ioctl(sock, Z_IOCTL_GETFL, &arg);
        return (int)posix_result(rc < 0 ? rc : -EINVAL);
    }
    }
}

int zsock_ioctl(int sock, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    int *arg = va_arg(ap, int *);
    va_end(ap);
    if (arg == NULL) {
        int dummy;
        int rc = fd_ioctl(sock, Z_IOCTL_GETFL, &dummy);
        return (int)posix_result(rc < 0 ? rc : -EFAULT);
    }
    if (request == FIONBIO) {
        int flags;
        int rc = fd_ioctl(sock, Z_IOCTL_GETFL, &flags);
        if (rc < 0) {
            return (int)posix_result(rc);
        }
        flags = *arg ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
        return (int)posix_result(fd_ioctl(sock, Z_IOCTL_SETFL, &flags));
    }
    return (int)posix_result(fd_ioctl(sock, request, arg));
}
