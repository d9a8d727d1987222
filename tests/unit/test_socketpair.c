/* socketpair behaviour on one thread: creation errors, stream and datagram
 * data paths, short writes, blocking modes, MSG_PEEK/WAITALL/TRUNC, FIONREAD,
 * options, shutdown and close, each checked against what POSIX and Linux
 * specify. Multi-threaded behaviour lives in test_threads.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/socket.h>

#include "unit/test_util.h"

#define BUF       CONFIG_NET_SOCKETPAIR_BUFFER_SIZE
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static int sv[2];

static int setup_stream(void **state)
{
    (void)state;
    return zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
}

static int setup_dgram(void **state)
{
    (void)state;
    return zsock_socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
}

static int teardown(void **state)
{
    (void)state;
    zsock_close(sv[0]);
    zsock_close(sv[1]);
    return 0;
}

static void test_create_errors(void **state)
{
    (void)state;
    int v[2] = {-7, -7};
    expect_errno(zsock_socketpair(AF_INET, SOCK_STREAM, 0, v), EAFNOSUPPORT);
    expect_errno(zsock_socketpair(AF_UNIX, SOCK_RAW, 0, v), EPROTOTYPE);
    expect_errno(zsock_socketpair(AF_UNIX, SOCK_SEQPACKET, 0, v), EPROTOTYPE);
    expect_errno(zsock_socketpair(AF_UNIX, SOCK_STREAM, IPPROTO_TCP, v), EPROTONOSUPPORT);
    expect_errno(zsock_socketpair(AF_UNIX, SOCK_STREAM | 0x40000000, 0, v), EINVAL);
    expect_errno(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, NULL), EFAULT);
    assert_int_equal(v[0], -7);
    /* Without a family handler AF_UNIX sockets exist only as pairs, as in Zephyr. */
    expect_errno(zsock_socket(AF_UNIX, SOCK_STREAM, 0), EAFNOSUPPORT);
}

static void test_fds_lowest_first(void **state)
{
    (void)state;
    int a[2], b[2];
    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    assert_true(a[0] < a[1]);
    assert_int_equal(zsock_close(a[0]), 0);
    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_DGRAM, 0, b), 0);
    assert_int_equal(b[0], a[0]); /* the freed number comes back first */
    assert_true(b[1] > a[1]);
    zsock_close(a[1]);
    zsock_close(b[0]);
    zsock_close(b[1]);
}

static void test_stream_echo_both_ways(void **state)
{
    (void)state;
    char buf[32];
    assert_int_equal(zsock_send(sv[0], "hello", 5, 0), 5);
    assert_int_equal(zsock_send(sv[1], "world!", 6, 0), 6);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(zsock_recv(sv[0], buf, sizeof(buf), 0), 6);
    assert_memory_equal(buf, "world!", 6);
}

static void test_stream_is_a_byte_stream(void **state)
{
    (void)state;
    char buf[16];
    zsock_send(sv[0], "abc", 3, 0);
    zsock_send(sv[0], "defg", 4, 0);
    /* Writes merge; reads return what is queued, up to the buffer. */
    assert_int_equal(zsock_recv(sv[1], buf, 5, 0), 5);
    assert_memory_equal(buf, "abcde", 5);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "fg", 2);
}

static void test_stream_short_write_nonblocking(void **state)
{
    (void)state;
    set_nonblock(sv[0]);
    size_t big = BUF + 1000;
    char *p = calloc(1, big);
    ssize_t n = zsock_send(sv[0], p, big, 0);
    assert_int_equal(n, BUF); /* a short write: exactly what fits */
    expect_errno(zsock_send(sv[0], p, 1, 0), EAGAIN);
    int avail = -1;
    assert_int_equal(zsock_ioctl(sv[1], FIONREAD, &avail), 0);
    assert_int_equal(avail, BUF);
    int queued = -1;
    assert_int_equal(zsock_ioctl(sv[0], FIONWRITE, &queued), 0);
    assert_int_equal(queued, BUF);
    free(p);
}

static void test_nonblocking_modes(void **state)
{
    (void)state;
    char c;
    /* Per call. */
    expect_errno(zsock_recv(sv[1], &c, 1, ZSOCK_MSG_DONTWAIT), EAGAIN);
    /* fcntl. */
    assert_int_equal(zsock_fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);
    set_nonblock(sv[1]);
    assert_int_equal(zsock_fcntl(sv[1], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    expect_errno(zsock_recv(sv[1], &c, 1, 0), EAGAIN);
    assert_int_equal(zsock_fcntl(sv[1], F_SETFL, 0), 0);
    assert_int_equal(zsock_fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);
    /* ioctl FIONBIO follows its argument (Zephyr ignored it). */
    int on = 1, off = 0;
    assert_int_equal(zsock_ioctl(sv[1], FIONBIO, &on), 0);
    assert_int_equal(zsock_fcntl(sv[1], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    assert_int_equal(zsock_ioctl(sv[1], FIONBIO, &off), 0);
    assert_int_equal(zsock_fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);
    /* SOCK_NONBLOCK at creation. */
    int v[2];
    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, v), 0);
    assert_int_equal(zsock_fcntl(v[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    expect_errno(zsock_recv(v[0], &c, 1, 0), EAGAIN);
    zsock_close(v[0]);
    zsock_close(v[1]);
    /* Unknown fcntl command; NULL ioctl argument; unknown ioctl. */
    expect_errno(zsock_fcntl(sv[0], F_GETFD), EINVAL);
    expect_errno(zsock_ioctl(sv[0], FIONREAD, NULL), EFAULT);
    int x;
    expect_errno(zsock_ioctl(sv[0], 0x1234, &x), ENOTTY);
}

static void test_peek_and_waitall(void **state)
{
    (void)state;
    char buf[16];
    zsock_send(sv[0], "0123456789", 10, 0);
    assert_int_equal(zsock_recv(sv[1], buf, 4, ZSOCK_MSG_PEEK), 4);
    assert_memory_equal(buf, "0123", 4);
    assert_int_equal(zsock_recv(sv[1], buf, 4, ZSOCK_MSG_PEEK), 4);
    assert_memory_equal(buf, "0123", 4);
    assert_int_equal(zsock_recv(sv[1], buf, 6, ZSOCK_MSG_WAITALL), 6);
    assert_memory_equal(buf, "012345", 6);
    /* WAITALL returns short at end of stream. */
    zsock_shutdown(sv[0], ZSOCK_SHUT_WR);
    assert_int_equal(zsock_recv(sv[1], buf, 16, ZSOCK_MSG_WAITALL), 4);
    assert_memory_equal(buf, "6789", 4);
    assert_int_equal(zsock_recv(sv[1], buf, 16, ZSOCK_MSG_WAITALL), 0);
}

static void test_waitall_nonblocking_returns_partial(void **state)
{
    (void)state;
    char buf[16];
    zsock_send(sv[0], "abc", 3, 0);
    assert_int_equal(zsock_recv(sv[1], buf, 16, ZSOCK_MSG_WAITALL | ZSOCK_MSG_DONTWAIT), 3);
}

static void test_scatter_gather(void **state)
{
    (void)state;
    char a[3] = "abc", b[1] = "d", c[4] = "efgh";
    struct iovec out[4] = {{a, 3}, {NULL, 0}, {b, 1}, {c, 4}};
    struct msghdr m = {.msg_iov = out, .msg_iovlen = 4};
    assert_int_equal(zsock_sendmsg(sv[0], &m, 0), 8);

    char x[2], y[5], z[8];
    struct iovec in[3] = {{x, 2}, {y, 5}, {z, 8}};
    struct msghdr r = {.msg_iov = in, .msg_iovlen = 3, .msg_flags = 0x7777};
    assert_int_equal(zsock_recvmsg(sv[1], &r, 0), 8);
    assert_memory_equal(x, "ab", 2);
    assert_memory_equal(y, "cdefg", 5);
    assert_memory_equal(z, "h", 1);
    assert_int_equal(r.msg_flags, 0);

    /* Invalid vectors. */
    struct iovec bad = {NULL, 5};
    struct msghdr mb = {.msg_iov = &bad, .msg_iovlen = 1};
    expect_errno(zsock_sendmsg(sv[0], &mb, 0), EFAULT);
    expect_errno(zsock_recvmsg(sv[1], &mb, 0), EFAULT);
    struct msghdr mn = {.msg_iov = NULL, .msg_iovlen = 2};
    expect_errno(zsock_sendmsg(sv[0], &mn, 0), EFAULT);
    expect_errno(zsock_sendmsg(sv[0], NULL, 0), EFAULT);
    expect_errno(zsock_recvmsg(sv[0], NULL, 0), EFAULT);
    struct msghdr many = {.msg_iov = out, .msg_iovlen = 100000};
    expect_errno(zsock_sendmsg(sv[0], &many, 0), EMSGSIZE);
}

static void test_bad_pointers_and_flags(void **state)
{
    (void)state;
    expect_errno(zsock_send(sv[0], NULL, 10, 0), EFAULT);
    expect_errno(zsock_recv(sv[0], NULL, 10, 0), EFAULT);
    assert_int_equal(zsock_send(sv[0], NULL, 0, 0), 0); /* nothing to read */
    expect_errno(zsock_send(sv[0], "x", 1, 0x1 /* MSG_OOB */), EOPNOTSUPP);
    expect_errno(zsock_recv(sv[0], (char[1]){0}, 1, 0x1), EOPNOTSUPP);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    expect_errno(zsock_sendto(sv[0], "x", 1, 0, (struct sockaddr *)&sin, sizeof(sin)), EISCONN);
    socklen_t len = 4;
    expect_errno(zsock_recvfrom(sv[0], (char[1]){0}, 1, 0, (struct sockaddr *)&sin, NULL), EFAULT);
    (void)len;
}

static void test_unsupported_calls(void **state)
{
    (void)state;
    struct sockaddr_in sin = {.sin_family = AF_INET};
    expect_errno(zsock_bind(sv[0], (struct sockaddr *)&sin, sizeof(sin)), EOPNOTSUPP);
    expect_errno(zsock_listen(sv[0], 1), EOPNOTSUPP);
    expect_errno(zsock_accept(sv[0], NULL, NULL), EOPNOTSUPP);
    expect_errno(zsock_connect(sv[0], (struct sockaddr *)&sin, sizeof(sin)), EISCONN);
    expect_errno(zsock_connect(sv[0], NULL, 0), EFAULT);
}

static void test_names(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    memset(&ss, 0xaa, sizeof(ss));
    socklen_t len = sizeof(ss);
    assert_int_equal(zsock_getsockname(sv[0], (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(len, sizeof(sa_family_t));
    assert_int_equal(ss.ss_family, AF_UNIX);
    len = sizeof(ss);
    assert_int_equal(zsock_getpeername(sv[0], (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_UNIX);
    expect_errno(zsock_getpeername(sv[0], NULL, &len), EFAULT);
    expect_errno(zsock_getsockname(sv[0], (struct sockaddr *)&ss, NULL), EFAULT);
    /* recvfrom reports an unnamed sender: length 0. */
    zsock_send(sv[1], "x", 1, 0);
    char c;
    len = sizeof(ss);
    assert_int_equal(zsock_recvfrom(sv[0], &c, 1, 0, (struct sockaddr *)&ss, &len), 1);
    assert_int_equal(len, 0);
}

static void test_options(void **state)
{
    (void)state;
    int v;
    socklen_t len = sizeof(v);
    assert_int_equal(zsock_getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &len), 0);
    assert_int_equal(v, SOCK_STREAM);
    assert_int_equal(len, sizeof(int));
    assert_int_equal(zsock_getsockopt(sv[0], SOL_SOCKET, SO_DOMAIN, &v, &len), 0);
    assert_int_equal(v, AF_UNIX);
    assert_int_equal(zsock_getsockopt(sv[0], SOL_SOCKET, SO_PROTOCOL, &v, &len), 0);
    assert_int_equal(v, 0);
    assert_int_equal(zsock_getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &len), 0);
    assert_int_equal(v, 0);
    assert_int_equal(zsock_getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    assert_int_equal(v, BUF);

    /* Errors. */
    expect_errno(zsock_getsockopt(sv[0], SOL_SOCKET, 9999, &v, &len), ENOPROTOOPT);
    expect_errno(zsock_getsockopt(sv[0], IPPROTO_TCP, TCP_NODELAY, &v, &len), ENOPROTOOPT);
    expect_errno(zsock_setsockopt(sv[0], SOL_SOCKET, 9999, &v, sizeof(v)), ENOPROTOOPT);
    expect_errno(zsock_setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, sizeof(v)), ENOPROTOOPT);
    expect_errno(zsock_setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, 2), EINVAL);
    expect_errno(zsock_setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, NULL, 4), EFAULT);
    expect_errno(zsock_getsockopt(sv[0], SOL_SOCKET, SO_TYPE, NULL, &len), EFAULT);
    expect_errno(zsock_getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, NULL), EFAULT);
    socklen_t small = 2;
    expect_errno(zsock_getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &small), EINVAL);

    /* Timeouts round trip; bad microseconds are EDOM. */
    struct zsock_timeval tv = {.tv_sec = 1, .tv_usec = 250000}, out;
    assert_int_equal(zsock_setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    len = sizeof(out);
    assert_int_equal(zsock_getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &out, &len), 0);
    assert_int_equal(out.tv_sec, 1);
    assert_int_equal(out.tv_usec, 250000);
    tv.tv_usec = 1000000;
    expect_errno(zsock_setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), EDOM);
    expect_errno(zsock_setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, 3), EINVAL);
}

static void test_rcvbuf_resize_keeps_data(void **state)
{
    (void)state;
    enum { QUEUED = MIN(100, BUF) };
    char buf[QUEUED];
    for (int i = 0; i < QUEUED; i++) {
        buf[i] = (char)i;
    }
    assert_int_equal(zsock_send(sv[0], buf, QUEUED, 0), QUEUED);
    int big = MIN(200000, CONFIG_NET_SOCKETPAIR_BUFFER_MAX);
    int v = big;
    assert_int_equal(zsock_setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
    socklen_t len = sizeof(v);
    assert_int_equal(zsock_getsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    assert_int_equal(v, big);
    /* The writer sees the same ring as its send buffer. */
    assert_int_equal(zsock_getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
    assert_int_equal(v, big);
    /* Values past the maximum are clamped to it. */
    v = CONFIG_NET_SOCKETPAIR_BUFFER_MAX + 1;
    assert_int_equal(zsock_setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
    assert_int_equal(zsock_getsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
    assert_int_equal(v, CONFIG_NET_SOCKETPAIR_BUFFER_MAX);
    /* Shrinking below the queued data keeps every byte. */
    v = 10;
    assert_int_equal(zsock_setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
    char in[QUEUED];
    assert_int_equal(zsock_recv(sv[1], in, sizeof(in), 0), QUEUED);
    assert_memory_equal(in, buf, QUEUED);
    set_nonblock(sv[0]);
    /* The capacity stayed at the larger of the minimum and the data size. */
    assert_int_equal(fill_until_eagain(sv[0], 4096), QUEUED > 64 ? QUEUED : 64);
}

static void test_timeout_zero_is_immediate(void **state)
{
    (void)state;
    /* A negative timeval means "do not wait" as on Linux. */
    struct zsock_timeval tv = {.tv_sec = -1, .tv_usec = 0};
    assert_int_equal(zsock_setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    char c;
    expect_errno(zsock_recv(sv[1], &c, 1, 0), EAGAIN);
}

static void test_shutdown_wr(void **state)
{
    (void)state;
    char buf[8];
    zsock_send(sv[0], "tail", 4, 0);
    assert_int_equal(zsock_shutdown(sv[0], ZSOCK_SHUT_WR), 0);
    expect_errno(zsock_send(sv[0], "x", 1, 0), EPIPE);
    /* The peer reads what was sent, then end of stream, forever. */
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 4);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 0);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 0);
    /* The other direction still works: half-close. */
    assert_int_equal(zsock_send(sv[1], "back", 4, 0), 4);
    assert_int_equal(zsock_recv(sv[0], buf, sizeof(buf), 0), 4);
    assert_memory_equal(buf, "back", 4);
}

static void test_shutdown_rd(void **state)
{
    (void)state;
    char buf[8];
    zsock_send(sv[0], "ab", 2, 0);
    assert_int_equal(zsock_shutdown(sv[1], ZSOCK_SHUT_RD), 0);
    /* Buffered data is still returned, then 0; the writer gets EPIPE. */
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 2);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 0);
    expect_errno(zsock_send(sv[0], "x", 1, 0), EPIPE);
    /* sv[1] can still send. */
    assert_int_equal(zsock_send(sv[1], "ok", 2, 0), 2);
}

static void test_shutdown_rdwr_and_bad_how(void **state)
{
    (void)state;
    char c;
    expect_errno(zsock_shutdown(sv[0], 3), EINVAL);
    expect_errno(zsock_shutdown(sv[0], -1), EINVAL);
    assert_int_equal(zsock_shutdown(sv[0], ZSOCK_SHUT_RDWR), 0);
    expect_errno(zsock_send(sv[0], "x", 1, 0), EPIPE);
    assert_int_equal(zsock_recv(sv[0], &c, 1, 0), 0);
    expect_errno(zsock_send(sv[1], "x", 1, 0), EPIPE);
    assert_int_equal(zsock_recv(sv[1], &c, 1, 0), 0);
}

static void test_peer_close(void **state)
{
    (void)state;
    char buf[8];
    zsock_send(sv[0], "bye", 3, 0);
    assert_int_equal(zsock_close(sv[0]), 0);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 3);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 0);
    expect_errno(zsock_send(sv[1], "x", 1, 0), EPIPE);
    /* The closed descriptor is gone for every call. */
    expect_errno(zsock_send(sv[0], "x", 1, 0), EBADF);
    expect_errno(zsock_close(sv[0]), EBADF);
    sv[0] = -1;
}

static void test_dgram_boundaries(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(zsock_send(sv[0], "one", 3, 0), 3);
    assert_int_equal(zsock_send(sv[0], "", 0, 0), 0); /* empty datagrams exist */
    assert_int_equal(zsock_send(sv[0], "three", 5, 0), 5);
    int next = -1;
    assert_int_equal(zsock_ioctl(sv[1], FIONREAD, &next), 0);
    assert_int_equal(next, 3);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 3);
    assert_memory_equal(buf, "one", 3);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 0);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), ZSOCK_MSG_PEEK), 5);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "three", 5);
    expect_errno(zsock_recv(sv[1], buf, sizeof(buf), ZSOCK_MSG_DONTWAIT), EAGAIN);
}

static void test_dgram_truncation(void **state)
{
    (void)state;
    char buf[4];
    zsock_send(sv[0], "truncated", 9, 0);
    zsock_send(sv[0], "truncated", 9, 0);
    zsock_send(sv[0], "next", 4, 0);
    /* Excess discarded; MSG_TRUNC returns the real length. */
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 4);
    assert_memory_equal(buf, "trun", 4);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), ZSOCK_MSG_TRUNC), 9);
    struct iovec v = {buf, 4};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    assert_int_equal(zsock_recvmsg(sv[1], &m, 0), 4);
    assert_int_equal(m.msg_flags & ZSOCK_MSG_TRUNC, 0);
    assert_memory_equal(buf, "next", 4);
    zsock_send(sv[0], "longer", 6, 0);
    assert_int_equal(zsock_recvmsg(sv[1], &m, 0), 4);
    assert_int_equal(m.msg_flags & ZSOCK_MSG_TRUNC, ZSOCK_MSG_TRUNC);
}

static void test_dgram_too_big_and_full(void **state)
{
    (void)state;
    enum { DG = MIN(1000, BUF / 4) };
    char *big = calloc(1, BUF + 1);
    expect_errno(zsock_send(sv[0], big, BUF + 1, 0), EMSGSIZE);
    set_nonblock(sv[0]);
    int sent = 0;
    while (zsock_send(sv[0], big, DG, 0) == DG) {
        sent++;
    }
    assert_int_equal(errno, EAGAIN);
    assert_true(sent > 0);
    /* Reading one datagram makes room for one more, whole. */
    assert_int_equal(zsock_recv(sv[1], big, BUF, 0), DG);
    assert_int_equal(zsock_send(sv[0], big, DG, 0), DG);
    free(big);
}

static void test_dgram_peer_close(void **state)
{
    (void)state;
    char buf[8];
    zsock_send(sv[0], "last", 4, 0);
    zsock_close(sv[0]);
    sv[0] = -1;
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 4);
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 0);
    expect_errno(zsock_send(sv[1], "x", 1, 0), EPIPE);
}

static void test_many_pairs(void **state)
{
    (void)state;
    /* The default table holds well over 10,000 sockets. */
    enum { PAIRS = MIN(5000, (CONFIG_ZVFS_OPEN_MAX - 8) / 2) };
    static int fds[PAIRS][2];
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_DGRAM, 0, fds[i]), 0);
    }
    for (int i = 0; i < PAIRS; i++) {
        assert_int_equal(zsock_send(fds[i][0], &i, sizeof(i), 0), sizeof(i));
    }
    for (int i = 0; i < PAIRS; i++) {
        int v = -1;
        assert_int_equal(zsock_recv(fds[i][1], &v, sizeof(v), 0), sizeof(v));
        assert_int_equal(v, i);
        zsock_close(fds[i][0]);
        zsock_close(fds[i][1]);
    }
}

#define ST(f) cmocka_unit_test_setup_teardown(f, setup_stream, teardown)
#define DG(f) cmocka_unit_test_setup_teardown(f, setup_dgram, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_fds_lowest_first),
        ST(test_stream_echo_both_ways),
        ST(test_stream_is_a_byte_stream),
        ST(test_stream_short_write_nonblocking),
        ST(test_nonblocking_modes),
        ST(test_peek_and_waitall),
        ST(test_waitall_nonblocking_returns_partial),
        ST(test_scatter_gather),
        ST(test_bad_pointers_and_flags),
        ST(test_unsupported_calls),
        ST(test_names),
        ST(test_options),
        ST(test_rcvbuf_resize_keeps_data),
        ST(test_timeout_zero_is_immediate),
        ST(test_shutdown_wr),
        ST(test_shutdown_rd),
        ST(test_shutdown_rdwr_and_bad_how),
        ST(test_peer_close),
        DG(test_dgram_boundaries),
        DG(test_dgram_truncation),
        DG(test_dgram_too_big_and_full),
        DG(test_dgram_peer_close),
        cmocka_unit_test(test_many_pairs),
    };
    return cmocka_run_group_tests_name("socketpair", tests, NULL, NULL);
}
