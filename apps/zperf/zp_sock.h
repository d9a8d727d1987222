/* zp_sock.h: the socket calls zperf.c makes, mapped to one implementation so
 * the same source builds two programs: `zperf` on zsock (the default) and
 * `zperf-linux` on the Linux kernel's sockets (compiled with -DZPERF_KERNEL).
 *
 * Every zp_* call has the arguments, return value and errno of the call of
 * the same name in the chosen implementation, and is as thread-safe as that
 * call (all are safe to use from several threads on different sockets, and
 * send/recv on one socket from two threads, as zperf does). */
#ifndef ZPERF_ZP_SOCK_H_
#define ZPERF_ZP_SOCK_H_

#include <stdio.h>
#include <stdint.h>

#include "tool_net.h"

#ifdef ZPERF_KERNEL

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/** Name of the implementation, printed in the banner. */
#define ZP_IMPL "linux"

/** socket(2). */
static inline int zp_socket(int family, int type, int proto)
{
    return socket(family, type, proto);
}

/** close(2) of a socket. */
static inline int zp_close(int fd)
{
    return close(fd);
}

/** shutdown(2). */
static inline int zp_shutdown(int fd, int how)
{
    return shutdown(fd, how);
}

/** bind(2). */
static inline int zp_bind(int fd, const struct sockaddr *a, socklen_t len)
{
    return bind(fd, a, len);
}

/** connect(2). */
static inline int zp_connect(int fd, const struct sockaddr *a, socklen_t len)
{
    return connect(fd, a, len);
}

/** listen(2). */
static inline int zp_listen(int fd, int backlog)
{
    return listen(fd, backlog);
}

/** accept(2). */
static inline int zp_accept(int fd, struct sockaddr *a, socklen_t *len)
{
    return accept(fd, a, len);
}

/** send(2); MSG_NOSIGNAL is added so a closed peer gives EPIPE, not SIGPIPE. */
static inline ssize_t zp_send(int fd, const void *buf, size_t len, int flags)
{
    return send(fd, buf, len, flags | MSG_NOSIGNAL);
}

/** recv(2). */
static inline ssize_t zp_recv(int fd, void *buf, size_t len, int flags)
{
    return recv(fd, buf, len, flags);
}

/** sendto(2), with MSG_NOSIGNAL as zp_send(). */
static inline ssize_t zp_sendto(int fd, const void *buf, size_t len, int flags,
                                const struct sockaddr *to, socklen_t tolen)
{
    return sendto(fd, buf, len, flags | MSG_NOSIGNAL, to, tolen);
}

/** recvfrom(2). */
static inline ssize_t zp_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                                  socklen_t *fromlen)
{
    return recvfrom(fd, buf, len, flags, from, fromlen);
}

/** setsockopt(2). */
static inline int zp_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    return setsockopt(fd, level, name, val, len);
}

/** getsockopt(2). */
static inline int zp_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    return getsockopt(fd, level, name, val, len);
}

/** getsockname(2). */
static inline int zp_getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
    return getsockname(fd, a, len);
}

/** poll(2) on sockets of this implementation only. */
static inline int zp_poll(struct pollfd *fds, int nfds, int timeout_ms)
{
    return poll(fds, (nfds_t)nfds, timeout_ms);
}

/** inet_pton(3): 1, 0 for a bad address. */
static inline int zp_inet_pton(int family, const char *src, void *dst)
{
    return inet_pton(family, src, dst);
}

/** inet_ntop(3). */
static inline const char *zp_inet_ntop(int family, const void *src, char *dst, socklen_t size)
{
    return inet_ntop(family, src, dst, size);
}

/** Bytes a TCP socket has not had acknowledged yet (SIOCOUTQ), or -1. */
static inline int zp_unacked(int fd)
{
    int n = 0;
    return ioctl(fd, SIOCOUTQ, &n) < 0 ? -1 : n;
}

/** Segments this TCP socket retransmitted (TCP_INFO tcpi_total_retrans), or
 * -1 when the kernel does not say. Read it before closing. */
static inline long zp_tcp_retrans(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0) {
        return -1;
    }
    return (long)ti.tcpi_total_retrans;
}

/** The whole stack's retransmitted TCP segments so far, or -1: the kernel's
 * figure is per socket (zp_tcp_retrans), so this is -1 here. */
static inline long zp_stack_retrans(void)
{
    return -1;
}

/** Take network option `opt` (a TOOL_NET_OPT_* value): the kernel build
 * has none, so this prints an error and returns -1 for every option. */
static inline int zp_net_option(const char *prog, struct tool_net *n, int opt, const char *arg)
{
    (void)n;
    (void)arg;
    (void)opt;
    fprintf(stderr,
            "%s: --tap, --pipe, --ip, --gateway, --mtu and --capture are options of zperf "
            "(zsock); zperf-linux uses the kernel's interfaces\n",
            prog);
    return -1;
}

/** Set the network up: nothing to do on the kernel. Returns 0. */
static inline int zp_net_setup(const char *prog, const struct tool_net *n)
{
    (void)prog;
    (void)n;
    return 0;
}

/** Print the help text of the network options: none on the kernel. */
static inline void zp_net_usage(FILE *out)
{
    (void)out;
}

/** Wait a little before exiting so the peer's last segments are answered:
 * the kernel keeps answering after exit, so nothing to do. */
static inline void zp_exit_linger(void)
{
}

#else /* zsock */

#include <zsock/net_if.h>
#include <zsock/socket.h>

#include <time.h>

/** Name of the implementation, printed in the banner. */
#define ZP_IMPL "zsock"

/** zsock_socket(). */
static inline int zp_socket(int family, int type, int proto)
{
    return zsock_socket(family, type, proto);
}

/** zsock_close(). */
static inline int zp_close(int fd)
{
    return zsock_close(fd);
}

/** zsock_shutdown(); SHUT_* have the same values as ZSOCK_SHUT_*. */
static inline int zp_shutdown(int fd, int how)
{
    return zsock_shutdown(fd, how);
}

/** zsock_bind(). */
static inline int zp_bind(int fd, const struct sockaddr *a, socklen_t len)
{
    return zsock_bind(fd, a, len);
}

/** zsock_connect(). */
static inline int zp_connect(int fd, const struct sockaddr *a, socklen_t len)
{
    return zsock_connect(fd, a, len);
}

/** zsock_listen(). */
static inline int zp_listen(int fd, int backlog)
{
    return zsock_listen(fd, backlog);
}

/** zsock_accept(). */
static inline int zp_accept(int fd, struct sockaddr *a, socklen_t *len)
{
    return zsock_accept(fd, a, len);
}

/** zsock_send() (zsock raises no SIGPIPE). */
static inline ssize_t zp_send(int fd, const void *buf, size_t len, int flags)
{
    return zsock_send(fd, buf, len, flags);
}

/** zsock_recv(). */
static inline ssize_t zp_recv(int fd, void *buf, size_t len, int flags)
{
    return zsock_recv(fd, buf, len, flags);
}

/** zsock_sendto(). */
static inline ssize_t zp_sendto(int fd, const void *buf, size_t len, int flags,
                                const struct sockaddr *to, socklen_t tolen)
{
    return zsock_sendto(fd, buf, len, flags, to, tolen);
}

/** zsock_recvfrom(). */
static inline ssize_t zp_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                                  socklen_t *fromlen)
{
    return zsock_recvfrom(fd, buf, len, flags, from, fromlen);
}

/** zsock_setsockopt(). */
static inline int zp_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    return zsock_setsockopt(fd, level, name, val, len);
}

/** zsock_getsockopt(). */
static inline int zp_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    return zsock_getsockopt(fd, level, name, val, len);
}

/** zsock_getsockname(). */
static inline int zp_getsockname(int fd, struct sockaddr *a, socklen_t *len)
{
    return zsock_getsockname(fd, a, len);
}

/** zsock_poll() (struct zsock_pollfd is struct pollfd on hosts, and the
 * ZSOCK_POLL* bits are Linux's POLL* values). */
static inline int zp_poll(struct zsock_pollfd *fds, int nfds, int timeout_ms)
{
    return zsock_poll(fds, nfds, timeout_ms);
}

/** zsock_inet_pton(): 1, 0 for a bad address. */
static inline int zp_inet_pton(int family, const char *src, void *dst)
{
    return zsock_inet_pton((sa_family_t)family, src, dst);
}

/** zsock_inet_ntop(). */
static inline const char *zp_inet_ntop(int family, const void *src, char *dst, socklen_t size)
{
    return zsock_inet_ntop((sa_family_t)family, src, dst, size);
}

/** Bytes a TCP socket has queued and not had acknowledged (FIONWRITE), or -1. */
static inline int zp_unacked(int fd)
{
    int n = 0;
    return zsock_ioctl(fd, FIONWRITE, &n) < 0 ? -1 : n;
}

/** Segments one socket retransmitted: zsock has no per-socket figure, -1
 * (zp_stack_retrans() gives the stack's). */
static inline long zp_tcp_retrans(int fd)
{
    (void)fd;
    return -1;
}

/** The default stack's retransmitted TCP segments so far (all connections,
 * zsock_net_stats() tcp.retransmits), for a difference over a run; -1 if
 * the statistics cannot be read. */
static inline long zp_stack_retrans(void)
{
    struct zsock_net_stats st;
    if (zsock_net_stats(&st) < 0) {
        return -1;
    }
    return (long)st.tcp.retransmits;
}

/** Take network option `opt` (tool_net_option()): 1 taken, 0 not a network
 * option, -1 bad value (printed). */
static inline int zp_net_option(const char *prog, struct tool_net *n, int opt, const char *arg)
{
    return tool_net_option(prog, n, opt, arg);
}

/** Bring the default stack and the interface the options name up
 * (tool_net_setup()): 0, or -1 with the error printed. */
static inline int zp_net_setup(const char *prog, const struct tool_net *n)
{
    if (tool_net_check(prog, n) < 0) {
        return -1;
    }
    return tool_net_setup(prog, n);
}

/** Print the help text of the network options. */
static inline void zp_net_usage(FILE *out)
{
    tool_net_usage(out);
}

/** Wait 200 ms before exiting: the stack lives in this process, and the
 * peer's last segments (the ACK of our FIN, a retransmitted FIN) need an
 * answer. */
static inline void zp_exit_linger(void)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 200000000};
    nanosleep(&ts, NULL);
}

#endif /* ZPERF_KERNEL */

#endif /* ZPERF_ZP_SOCK_H_ */
