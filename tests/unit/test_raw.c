/* Raw IP sockets and the stack-wide echo/silence options. The loopback
 * cases run one body on zsock and on Linux (raw sockets need root there:
 * skipped otherwise); the two-host cases run two zsock stacks on a
 * simulated segment: echo through raw sockets, the application answering
 * pings with the stack's replies off, SO_SILENCE_ALL (no port or protocol
 * unreachable, no RST, no echo reply). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit/test_util.h"
#include "unit/test_api.h"
#include "unit/test_sim_pair.h"

#include "net/net.h"
#include "sockets/fdtable.h"
#include "sockets/inet.h"
#include "sockets/raw.h"

#define PROTO_TEST 253 /* RFC 3692 experimentation */

/* Linux needs root (CAP_NET_RAW) for raw sockets. */
static void need_raw(const struct api *A)
{
    if (!A->zsock && geteuid() != 0) {
        skip();
    }
}

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        s += (uint32_t)p[n - 1] << 8;
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* An ICMP (v4: with its checksum) or ICMPv6 (checksum left 0) echo
 * message of type, id, seq and `extra` payload bytes into buf. */
static size_t make_echo(uint8_t *buf, uint8_t type, uint16_t id, uint16_t seq, size_t extra)
{
    memset(buf, 0, 8 + extra);
    buf[0] = type;
    buf[4] = (uint8_t)(id >> 8);
    buf[5] = (uint8_t)id;
    buf[6] = (uint8_t)(seq >> 8);
    buf[7] = (uint8_t)seq;
    for (size_t i = 0; i < extra; i++) {
        buf[8 + i] = (uint8_t)i;
    }
    if (type == 8 || type == 0) {
        uint16_t c = csum(buf, 8 + extra);
        buf[2] = (uint8_t)(c >> 8);
        buf[3] = (uint8_t)c;
    }
    return 8 + extra;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static struct sockaddr_in sin4(uint32_t a)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(a)};
    return s;
}

/* Read datagrams on fd until one whose ICMP part (at offset off) has
 * `type` and `id`; its length, or -1 when none came within WAIT_MS. */
static ssize_t recv_icmp(const struct api *A, int fd, uint8_t *buf, size_t cap, size_t off,
                         uint8_t type, uint16_t id)
{
    for (;;) {
        if (!(poll_one(A, fd, POLLIN, WAIT_MS) & POLLIN)) {
            return -1;
        }
        ssize_t n = A->recvfrom(fd, buf, cap, 0, NULL, NULL);
        assert_true(n >= 0);
        if ((size_t)n >= off + 8 && buf[off] == type && be16(buf + off + 4) == id) {
            return n;
        }
    }
}

/* ---- loopback, zsock and Linux ------------------------------------------------------------- */

static void test_create(void **state)
{
    const struct api *A = *state;
    need_raw(A);
    expect_errno(A->socket(AF_INET, SOCK_RAW, 0), EPROTONOSUPPORT);
    expect_errno(A->socket(AF_INET6, SOCK_RAW, 0),
                 !A->zsock || CONFIG_NET_IPV6 ? EPROTONOSUPPORT : EAFNOSUPPORT);
    int fd = A->socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    assert_true(fd >= 0);
    assert_int_equal(get_int(A, fd, SOL_SOCKET, SO_TYPE), SOCK_RAW);
    assert_int_equal(get_int(A, fd, SOL_SOCKET, SO_PROTOCOL), IPPROTO_ICMP);
    assert_int_equal(get_int(A, fd, IPPROTO_IP, IP_HDRINCL), 0);
    /* getsockname shows the protocol as the port. */
    struct sockaddr_in me;
    socklen_t ml = sizeof(me);
    assert_int_equal(A->getsockname(fd, SA(me), &ml), 0);
    assert_int_equal(ntohs(me.sin_port), IPPROTO_ICMP);
    expect_errno(A->getpeername(fd, SA(me), &ml), ENOTCONN);
    assert_int_equal(A->close(fd), 0);
    /* IPPROTO_RAW includes the header. */
    fd = A->socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
    assert_true(fd >= 0);
    assert_int_equal(get_int(A, fd, IPPROTO_IP, IP_HDRINCL), 1);
    assert_int_equal(A->close(fd), 0);
}

/* An echo request to 127.0.0.1: the socket sees its own request and the
 * stack's reply, each with the IPv4 header. */
static void test_ping4(void **state)
{
    const struct api *A = *state;
    need_raw(A);
    int fd = A->socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    assert_true(fd >= 0);
    uint8_t msg[64], buf[256];
    uint16_t id = (uint16_t)(0x4000 + getpid() % 1000);
    size_t n = make_echo(msg, 8, id, 1, 32);
    struct sockaddr_in to = sin4(LOCALHOST);
    assert_int_equal(A->sendto(fd, msg, n, 0, CSA(to), sizeof(to)), (ssize_t)n);
    ssize_t r = recv_icmp(A, fd, buf, sizeof(buf), 20, 0, id);
    assert_int_equal(r, 20 + n);
    assert_int_equal(buf[0], 0x45);
    assert_int_equal(buf[9], IPPROTO_ICMP);
    assert_int_equal(be16(buf + 2), 20 + n);
    assert_int_equal(csum(buf, 20), 0);
    assert_int_equal(csum(buf + 20, n), 0);
    assert_memory_equal(buf + 28, msg + 8, 32);
    /* Peek, then a short read: MSG_TRUNC in the flags, or the real length
     * with the flag given. */
    assert_int_equal(A->sendto(fd, msg, n, 0, CSA(to), sizeof(to)), (ssize_t)n);
    assert_true(recv_icmp(A, fd, buf, sizeof(buf), 20, 0, id) > 0);
    assert_int_equal(A->sendto(fd, msg, n, 0, CSA(to), sizeof(to)), (ssize_t)n);
    assert_true(poll_one(A, fd, POLLIN, WAIT_MS) & POLLIN);
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    assert_int_equal(A->recvfrom(fd, buf, sizeof(buf), MSG_PEEK, SA(from), &fl), 20 + n);
    assert_int_equal(fl, sizeof(from));
    assert_int_equal(ntohl(from.sin_addr.s_addr), LOCALHOST);
    assert_int_equal(from.sin_port, 0);
    int avail = -1;
    assert_int_equal(A->fionread(fd, &avail), 0);
    assert_int_equal(avail, 20 + n);
    assert_int_equal(A->recvfrom(fd, buf, 10, MSG_TRUNC, NULL, NULL), 20 + n);
    struct iovec iov = {.iov_base = buf, .iov_len = 10};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    assert_true(poll_one(A, fd, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(A->recvmsg(fd, &mh, 0), 10);
    assert_true(mh.msg_flags & MSG_TRUNC);
    assert_int_equal(A->close(fd), 0);
}

/* ICMPv6 to ::1: the stack computes the checksum, the reply is read
 * without its IPv6 header. */
static void test_ping6(void **state)
{
    const struct api *A = *state;
    need_raw(A);
    if (!CONFIG_NET_IPV6) {
        skip();
    }
    int fd = A->socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    assert_true(fd >= 0);
    uint8_t msg[64], buf[256];
    uint16_t id = (uint16_t)(0x5000 + getpid() % 1000);
    size_t n = make_echo(msg, 128, id, 1, 24);
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    assert_int_equal(A->sendto(fd, msg, n, 0, CSA(to), sizeof(to)), (ssize_t)n);
    ssize_t r = recv_icmp(A, fd, buf, sizeof(buf), 0, 129, id);
    assert_int_equal(r, n);
    assert_memory_equal(buf + 8, msg + 8, 24);
    assert_int_not_equal(be16(buf + 2), 0);
    set_int(A, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, 9);
    assert_int_equal(get_int(A, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 9);
    /* Too short to hold the checksum. */
    expect_errno(A->sendto(fd, msg, 2, 0, CSA(to), sizeof(to)), EINVAL);
    assert_int_equal(A->close(fd), 0);
}

/* Another protocol: the receiver reads the datagram with its header; an
 * IP_HDRINCL sender's header is completed (length, checksum, source). */
static void test_proto_hdrincl(void **state)
{
    const struct api *A = *state;
    need_raw(A);
    int rx = A->socket(AF_INET, SOCK_RAW, PROTO_TEST);
    int tx = A->socket(AF_INET, SOCK_RAW, PROTO_TEST);
    assert_true(rx >= 0 && tx >= 0);
    struct sockaddr_in to = sin4(LOCALHOST);
    assert_int_equal(A->sendto(tx, "hello", 5, 0, CSA(to), sizeof(to)), 5);
    uint8_t buf[128];
    assert_true(poll_one(A, rx, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(A->recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL), 25);
    assert_int_equal(buf[9], PROTO_TEST);
    assert_memory_equal(buf + 20, "hello", 5);
    /* The sender's socket is one of the protocol too: it got a copy. */
    assert_true(poll_one(A, tx, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(A->recvfrom(tx, buf, sizeof(buf), 0, NULL, NULL), 25);

    set_int(A, tx, IPPROTO_IP, IP_HDRINCL, 1);
    uint8_t pkt[24] = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, PROTO_TEST};
    pkt[16] = 127;
    pkt[19] = 1;
    memcpy(pkt + 20, "abcd", 4);
    assert_int_equal(A->sendto(tx, pkt, sizeof(pkt), 0, CSA(to), sizeof(to)), 24);
    assert_true(poll_one(A, rx, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(A->recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL), 24);
    assert_int_equal(be16(buf + 2), 24);
    assert_int_equal(csum(buf, 20), 0);
    assert_int_equal(buf[12], 127);
    assert_memory_equal(buf + 20, "abcd", 4);
    assert_int_equal(A->recvfrom(tx, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL), 24);
    /* Bad lengths: shorter than a header, a header longer than the data. */
    expect_errno(A->sendto(tx, pkt, 10, 0, CSA(to), sizeof(to)), EINVAL);
    pkt[0] = 0x4f;
    expect_errno(A->sendto(tx, pkt, sizeof(pkt), 0, CSA(to), sizeof(to)), EINVAL);
    assert_int_equal(A->close(rx), 0);
    assert_int_equal(A->close(tx), 0);
}

static void test_too_big(void **state)
{
    const struct api *A = *state;
    need_raw(A);
    int fd = A->socket(AF_INET, SOCK_RAW, PROTO_TEST);
    assert_true(fd >= 0);
    static uint8_t big[70000];
    struct sockaddr_in to = sin4(LOCALHOST);
    expect_errno(A->sendto(fd, big, sizeof(big), 0, CSA(to), sizeof(to)), EMSGSIZE);
    expect_errno(A->sendto(fd, big, 10, 0, NULL, 0), EDESTADDRREQ);
    assert_int_equal(A->close(fd), 0);
}

/* Non-blocking reads, poll, and the bind and connect filters. */
static void test_filters(void **state)
{
    const struct api *A = *state;
    need_raw(A);
    int rx = A->socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, PROTO_TEST);
    int tx = A->socket(AF_INET, SOCK_RAW, PROTO_TEST);
    assert_true(rx >= 0 && tx >= 0);
    expect_nothing(A, rx);
    assert_int_equal(poll_one(A, rx, POLLIN | POLLOUT, 0), POLLOUT);
    struct sockaddr_in one = sin4(LOCALHOST), two = sin4(LOCALHOST + 1);
    assert_int_equal(A->bind(rx, CSA(one), sizeof(one)), 0);
    assert_int_equal(A->bind(tx, CSA(one), sizeof(one)), 0);
    /* To 127.0.0.2: not for rx's address. Loopback keeps the order, so
     * once a marker sent after it arrived, it would have too. */
    uint8_t buf[64];
    assert_int_equal(A->sendto(tx, "x", 1, 0, CSA(two), sizeof(two)), 1);
    assert_int_equal(A->sendto(tx, "m", 1, 0, CSA(one), sizeof(one)), 1);
    assert_true(poll_one(A, rx, POLLIN, WAIT_MS) & POLLIN);
    assert_int_equal(A->recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL), 21);
    assert_int_equal(buf[20], 'm');
    expect_nothing(A, rx);
    /* Connected to .2: datagrams from .1 are filtered; send() goes to .2. */
    assert_int_equal(A->connect(rx, CSA(two), sizeof(two)), 0);
    struct sockaddr_in peer;
    socklen_t pl = sizeof(peer);
    if (A->zsock) {
        /* Linux answers ENOTCONN: its peer port (0 here) says "connected". */
        assert_int_equal(A->getpeername(rx, SA(peer), &pl), 0);
        assert_int_equal(ntohl(peer.sin_addr.s_addr), LOCALHOST + 1);
    }
    assert_int_equal(A->sendto(tx, "y", 1, 0, CSA(one), sizeof(one)), 1);
    struct sockaddr_in unspec = {.sin_family = AF_UNSPEC};
    assert_int_equal(A->connect(tx, CSA(two), sizeof(two)), 0);
    assert_int_equal(A->sendto(tx, "z", 1, 0, NULL, 0), 1); /* to .2 */
    assert_int_equal(A->connect(tx, CSA(unspec), sizeof(unspec)), 0);
    assert_int_equal(A->connect(rx, CSA(unspec), sizeof(unspec)), 0);
    assert_int_equal(A->sendto(tx, "m", 1, 0, CSA(one), sizeof(one)), 1);
    if (A->zsock) {
        /* Disconnected, rx takes .1's datagrams again. (Linux unhashes a
         * raw socket on disconnect: it never receives again.) */
        assert_true(poll_one(A, rx, POLLIN, WAIT_MS) & POLLIN);
        assert_int_equal(A->recvfrom(rx, buf, sizeof(buf), 0, NULL, NULL), 21);
        assert_int_equal(buf[20], 'm');
    }
    expect_nothing(A, rx);
    assert_int_equal(A->close(rx), 0);
    assert_int_equal(A->close(tx), 0);
}

/* ---- zsock only ---------------------------------------------------------------------------- */

static void test_unsupported_calls(void **state)
{
    (void)state;
    int fd = zsock_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    assert_true(fd >= 0);
    expect_errno(zsock_listen(fd, 1), EOPNOTSUPP);
    expect_errno(zsock_accept(fd, NULL, NULL), EOPNOTSUPP);
    expect_errno(zsock_shutdown(fd, ZSOCK_SHUT_RDWR), EOPNOTSUPP);
    assert_int_equal(zsock_close(fd), 0);
    if (CONFIG_NET_IPV6) {
        expect_errno(zsock_socket(AF_INET6, SOCK_RAW, IPPROTO_RAW), EPROTONOSUPPORT);
    }
    expect_errno(zsock_socket(AF_INET, SOCK_RAW, 1000), EPROTONOSUPPORT);
}

static struct zsock_net_stats net_stats(void)
{
    struct zsock_net_stats st;
    assert_int_equal(zsock_net_stats(&st), 0);
    return st;
}

/* SO_RCVBUF bounds the queue; what does not fit is dropped and counted. */
static void test_rcvbuf(void **state)
{
    (void)state;
    int rx = zsock_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, PROTO_TEST);
    int tx = zsock_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_RAW);
    assert_true(rx >= 0 && tx >= 0);
    set_int(&zsock_api, rx, SOL_SOCKET, SO_RCVBUF, 1000);
    assert_int_equal(get_int(&zsock_api, rx, SOL_SOCKET, SO_RCVBUF), 1000);
    uint64_t drops = net_stats().raw.drop_rcvbuf;
    uint8_t pkt[220] = {0x45, 0, 0, 0, 0, 0, 0, 0, 64, PROTO_TEST, 0, 0, 0, 0, 0, 0, 127, 0, 0, 1};
    struct sockaddr_in to = sin4(LOCALHOST);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(zsock_sendto(tx, pkt, sizeof(pkt), 0, CSA(to), sizeof(to)), 220);
    }
    int got = 0;
    uint8_t buf[300];
    while (zsock_recv(rx, buf, sizeof(buf), 0) == 220) {
        got++;
    }
    assert_true(got >= 1 && got < 10);
    assert_int_equal(net_stats().raw.drop_rcvbuf - drops, 10 - got);
    assert_int_equal(zsock_close(rx), 0);
    assert_int_equal(zsock_close(tx), 0);
}

static void *close_later(void *arg)
{
    int fd = *(int *)arg;
    sleep_ms(50);
    zsock_close(fd);
    return NULL;
}

static void test_close_wakes_reader(void **state)
{
    (void)state;
    int fd = zsock_socket(AF_INET, SOCK_RAW, PROTO_TEST);
    assert_true(fd >= 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, close_later, &fd), 0);
    char c;
    expect_errno(zsock_recv(fd, &c, 1, 0), EINTR);
    pthread_join(t, NULL);
}

/* SO_BINDTODEVICE: bound to lo it still sees loopback traffic; bound
 * to an unknown name it is refused. */
static void test_bindtodevice(void **state)
{
    (void)state;
    int fd = zsock_socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, PROTO_TEST);
    assert_true(fd >= 0);
    expect_errno(zsock_setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "nope0", 6), ENODEV);
    assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, "lo", 3), 0);
    char name[IFNAMSIZ];
    socklen_t nl = sizeof(name);
    assert_int_equal(zsock_getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, &nl), 0);
    assert_string_equal(name, "lo");
    struct sockaddr_in to = sin4(LOCALHOST);
    assert_int_equal(zsock_sendto(fd, "q", 1, 0, CSA(to), sizeof(to)), 1);
    uint8_t buf[64];
    assert_int_equal(zsock_recv(fd, buf, sizeof(buf), 0), 21);
    assert_int_equal(zsock_close(fd), 0);
}

/* The stack-wide options through UDP, TCP and raw sockets of both
 * families, and SO_IPV6_ECHO_REPLY off on the loopback: the request is
 * seen, no reply (a datagram sent after it arrives first). */
static void test_stack_options(void **state)
{
    (void)state;
    const struct api *A = &zsock_api;
    int u = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    int t = zsock_socket(AF_INET, SOCK_STREAM, 0);
    int r = zsock_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    assert_true(u >= 0 && t >= 0 && r >= 0);
    assert_int_equal(get_int(A, u, IPPROTO_ALL, SO_SILENCE_ALL), 0);
    assert_int_equal(get_int(A, t, IPPROTO_IP, SO_IP_ECHO_REPLY), 1);
    set_int(A, r, IPPROTO_ALL, SO_SILENCE_ALL, 5);
    assert_int_equal(get_int(A, t, IPPROTO_ALL, SO_SILENCE_ALL), 1);
    set_int(A, t, IPPROTO_ALL, SO_SILENCE_ALL, 0);
    assert_int_equal(get_int(A, r, IPPROTO_ALL, SO_SILENCE_ALL), 0);
    char small = 0;
    int one = 1;
    expect_errno(zsock_setsockopt(u, IPPROTO_IP, SO_IP_ECHO_REPLY, &small, 1), EINVAL);
    expect_errno(zsock_setsockopt(u, IPPROTO_ALL, SO_SILENCE_ALL + 1, &one, sizeof(one)),
                 ENOPROTOOPT);
    if (CONFIG_NET_IPV6) {
        int r6 = zsock_socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_ICMPV6);
        int m6 = zsock_socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK, PROTO_TEST);
        assert_true(r6 >= 0 && m6 >= 0);
        set_int(A, u, IPPROTO_IPV6, SO_IPV6_ECHO_REPLY, 0);
        assert_int_equal(get_int(A, r6, IPPROTO_IPV6, SO_IPV6_ECHO_REPLY), 0);
        uint64_t before = net_stats().raw.echo_unanswered;
        uint8_t msg[16], buf[64];
        size_t n = make_echo(msg, 128, 0x6666, 1, 8);
        struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
        assert_int_equal(zsock_sendto(r6, msg, n, 0, CSA(to), sizeof(to)), (ssize_t)n);
        assert_int_equal(zsock_sendto(m6, "m", 1, 0, CSA(to), sizeof(to)), 1);
        assert_true(poll_one(A, m6, POLLIN, WAIT_MS) & POLLIN);
        assert_int_equal(zsock_recv(r6, buf, sizeof(buf), 0), (ssize_t)n);
        assert_int_equal(buf[0], 128);
        expect_nothing(A, r6);
        assert_int_equal(net_stats().raw.echo_unanswered - before, 1);
        set_int(A, r6, IPPROTO_IPV6, SO_IPV6_ECHO_REPLY, 1);
        assert_int_equal(zsock_sendto(r6, msg, n, 0, CSA(to), sizeof(to)), (ssize_t)n);
        assert_true(recv_icmp(A, r6, buf, sizeof(buf), 0, 129, 0x6666) > 0);
        zsock_close(r6);
        zsock_close(m6);
    }
    zsock_close(u);
    zsock_close(t);
    zsock_close(r);
}

/* ---- two stacks on a simulated segment ------------------------------------------------------ */

#define ADDR_A 0xc0000201u /* 192.0.2.1 */
#define ADDR_B 0xc0000202u

/* Run the link for `ms` of virtual time. */
static void run_ms(struct sim_pair *p, int ms)
{
    z_simnet_run(p->net, (int64_t)ms * 1000);
}

static int raw_on(struct z_stack *s, int proto)
{
    int fd = z_raw_socket_on(s, AF_INET, proto, true);
    assert_true(fd >= 0);
    return fd;
}

/* The next ICMP message on fd (a raw ICMP socket) after running the
 * link: its type, or -1 if none. */
static int next_icmp(struct sim_pair *p, int fd, uint8_t *buf, size_t cap, ssize_t *len)
{
    run_ms(p, 100);
    ssize_t n = zsock_recv(fd, buf, cap, 0);
    if (len != NULL) {
        *len = n;
    }
    return n >= 28 ? buf[20] : -1;
}

static uint64_t stat_of(struct z_stack *s, const uint64_t *field)
{
    z_stack_lock(s);
    uint64_t v = *field;
    z_stack_unlock(s);
    return v;
}

static void test_sim_echo_by_app(void **state)
{
    (void)state;
    struct sim_pair p;
    sim_pair_up(&p, 0x7a11, ADDR_A, ADDR_B);
    int ra = raw_on(p.a, IPPROTO_ICMP);
    int rb = raw_on(p.b, IPPROTO_ICMP);
    uint8_t msg[64], buf[256];
    struct sockaddr_in tob = sin4(ADDR_B), toa = sin4(ADDR_A);
    /* The stack answers; B's raw socket sees the request too. */
    size_t n = make_echo(msg, 8, 0x77, 1, 16);
    assert_int_equal(zsock_sendto(ra, msg, n, 0, CSA(tob), sizeof(tob)), (ssize_t)n);
    assert_int_equal(next_icmp(&p, ra, buf, sizeof(buf), NULL), 0);
    assert_int_equal(be16(buf + 24), 0x77);
    assert_int_equal(zsock_recv(rb, buf, sizeof(buf), 0), 20 + n);
    assert_int_equal(buf[20], 8);

    /* Echo replies off on B (through a UDP socket there): unanswered. */
    int ub = z_inet_socket_on(p.b, SOCK_DGRAM, 0, true);
    assert_true(ub >= 0);
    set_int(&zsock_api, ub, IPPROTO_IP, SO_IP_ECHO_REPLY, 0);
    n = make_echo(msg, 8, 0x77, 2, 16);
    assert_int_equal(zsock_sendto(ra, msg, n, 0, CSA(tob), sizeof(tob)), (ssize_t)n);
    assert_int_equal(next_icmp(&p, ra, buf, sizeof(buf), NULL), -1);
    assert_int_equal(stat_of(p.b, &p.b->stats.raw.echo_unanswered), 1);
    /* B's application answers from its raw socket. */
    ssize_t got = zsock_recv(rb, buf, sizeof(buf), 0);
    assert_int_equal(got, 20 + n);
    uint8_t *icmp = buf + 20;
    icmp[0] = 0;
    icmp[2] = icmp[3] = 0;
    uint16_t c = csum(icmp, n);
    icmp[2] = (uint8_t)(c >> 8);
    icmp[3] = (uint8_t)c;
    assert_int_equal(zsock_sendto(rb, icmp, n, 0, CSA(toa), sizeof(toa)), (ssize_t)n);
    assert_int_equal(next_icmp(&p, ra, buf, sizeof(buf), NULL), 0);
    assert_int_equal(be16(buf + 26), 2);
    zsock_close(ra);
    zsock_close(rb);
    zsock_close(ub);
    sim_pair_down(&p);
}

/* SO_SILENCE_ALL on B: no port unreachable, no RST, no echo reply, no
 * protocol unreachable; off again, each comes back. */
static void test_sim_silence(void **state)
{
    (void)state;
    struct sim_pair p;
    sim_pair_up(&p, 0x5113, ADDR_A, ADDR_B);
    int ra = raw_on(p.a, IPPROTO_ICMP);
    int ta = raw_on(p.a, IPPROTO_TCP);
    int xa = raw_on(p.a, PROTO_TEST);
    int tb = z_inet_tcp_socket_on(p.b, AF_INET, true);
    assert_true(tb >= 0);
    struct sockaddr_in tob = sin4(ADDR_B);
    struct sockaddr_in port9 = tob;
    port9.sin_port = htons(9);
    uint8_t msg[64], buf[256];
    size_t n = make_echo(msg, 8, 0x99, 1, 8);
    for (int silent = 1; silent >= 0; silent--) {
        set_int(&zsock_api, tb, IPPROTO_ALL, SO_SILENCE_ALL, silent);
        uint64_t silenced = stat_of(p.b, &p.b->stats.raw.silenced);
        /* UDP to a closed port. */
        int ua = z_inet_socket_on(p.a, SOCK_DGRAM, 0, true);
        assert_int_equal(zsock_sendto(ua, "u", 1, 0, CSA(port9), sizeof(port9)), 1);
        int type = next_icmp(&p, ra, buf, sizeof(buf), NULL);
        assert_int_equal(type, silent ? -1 : 3);
        if (!silent) {
            assert_int_equal(buf[21], 3); /* port unreachable */
        }
        /* A datagram of a protocol B does not handle. */
        assert_int_equal(zsock_sendto(xa, "p", 1, 0, CSA(tob), sizeof(tob)), 1);
        type = next_icmp(&p, ra, buf, sizeof(buf), NULL);
        assert_int_equal(type, silent ? -1 : 3);
        if (!silent) {
            assert_int_equal(buf[21], 2); /* protocol unreachable */
        }
        /* An echo request. */
        assert_int_equal(zsock_sendto(ra, msg, n, 0, CSA(tob), sizeof(tob)), (ssize_t)n);
        type = next_icmp(&p, ra, buf, sizeof(buf), NULL);
        assert_int_equal(type, silent ? -1 : 0);
        /* A TCP connection to a closed port: the raw TCP socket of A sees
         * the RST, or nothing. */
        int ca = z_inet_tcp_socket_on(p.a, AF_INET, true);
        assert_true(ca >= 0);
        zsock_connect(ca, CSA(port9), sizeof(port9));
        run_ms(&p, 100);
        ssize_t got = zsock_recv(ta, buf, sizeof(buf), 0);
        if (silent) {
            expect_errno(got, EAGAIN);
            assert_int_equal(stat_of(p.b, &p.b->stats.raw.silenced) - silenced, 4);
        } else {
            assert_int_equal(got, 40);
            assert_true(buf[33] & 0x04); /* RST */
        }
        zsock_close(ca);
        zsock_close(ua);
        while (zsock_recv(ta, buf, sizeof(buf), 0) > 0) {
        }
    }
    zsock_close(ra);
    zsock_close(ta);
    zsock_close(xa);
    zsock_close(tb);
    sim_pair_down(&p);
}

/* A protocol an application on B handles: delivered, no protocol
 * unreachable; a raw socket connected elsewhere does not get it. */
static void test_sim_proto_filter(void **state)
{
    (void)state;
    struct sim_pair p;
    sim_pair_up(&p, 0x9e77, ADDR_A, ADDR_B);
    int ra = raw_on(p.a, IPPROTO_ICMP);
    int xa = raw_on(p.a, PROTO_TEST);
    int xb = raw_on(p.b, PROTO_TEST);
    int yb = raw_on(p.b, PROTO_TEST);
    struct sockaddr_in tob = sin4(ADDR_B), other = sin4(ADDR_A + 7);
    assert_int_equal(zsock_connect(yb, CSA(other), sizeof(other)), 0);
    set_int(&zsock_api, xa, IPPROTO_IP, IP_TTL, 7);
    assert_int_equal(zsock_sendto(xa, "data", 4, 0, CSA(tob), sizeof(tob)), 4);
    uint8_t buf[128];
    assert_int_equal(next_icmp(&p, ra, buf, sizeof(buf), NULL), -1);
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    assert_int_equal(zsock_recvfrom(xb, buf, sizeof(buf), 0, SA(from), &fl), 24);
    assert_int_equal(ntohl(from.sin_addr.s_addr), ADDR_A);
    assert_memory_equal(buf + 20, "data", 4);
    assert_int_equal(buf[8], 7); /* IP_TTL */
    expect_errno(zsock_recv(yb, buf, sizeof(buf), 0), EAGAIN);
    /* Malformed input: a truncated IPv4 header on the wire is dropped. */
    uint8_t frame[14 + 12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45};
    z_simnet_inject(p.net, p.ia, frame, sizeof(frame));
    run_ms(&p, 10);
    expect_errno(zsock_recv(xb, buf, sizeof(buf), 0), EAGAIN);
    zsock_close(ra);
    zsock_close(xa);
    zsock_close(xb);
    zsock_close(yb);
    sim_pair_down(&p);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    read_linux_port_range(); /* unused here; keeps test_api.h whole */
    assert_int_equal(zsock_net_init(), 0);
    const struct CMUnitTest tests[] = {
        BOTH(test_create),          BOTH(test_ping4),          BOTH(test_ping6),
        BOTH(test_proto_hdrincl),   BOTH(test_too_big),        BOTH(test_filters),
        ZS(test_unsupported_calls), ZS(test_rcvbuf),           ZS(test_close_wakes_reader),
        ZS(test_bindtodevice),      ZS(test_stack_options),    ZS(test_sim_echo_by_app),
        ZS(test_sim_silence),       ZS(test_sim_proto_filter),
    };
    return cmocka_run_group_tests_name("raw", tests, NULL, NULL);
}
