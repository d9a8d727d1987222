/* libFuzzer target for the socket API itself: the input is a program of
 * calls (socket of any family, type and protocol, TLS and DTLS, raw and
 * packet ones and socketpair; bind, connect, listen, accept, send and
 * receive with any flags, sendmsg and recvmsg with control messages,
 * setsockopt and getsockopt of any level and name with any length, poll,
 * fcntl, ioctl, shutdown, close, getsockname, getpeername) with arguments
 * from the input, on descriptors the program opened or on any number.
 * Single-threaded, on the loopback of the default stack in single-loop
 * mode; every descriptor is non-blocking (a program cannot clear that), so
 * nothing waits. What must hold whatever the program:
 *
 *  - no crash, no sanitizer report, no leak;
 *  - a call that fails sets errno to one of the POSIX values expected of
 *    the socket calls (ok_errno());
 *  - once the program's descriptors are closed, the descriptor table and
 *    the stack's packet buffers are back to what they were before. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "fuzz_check.h"
#include "fuzz_input.h"
#include "net/net.h"
#include "sockets/fdtable.h"

#define NFD    16
#define MAXBUF 2048

static int fds[NFD];
static int nfds;

static void keep(int fd)
{
    if (fd < 0) {
        return;
    }
    /* Nothing may block: a program cannot clear O_NONBLOCK (see op_fcntl). */
    CHECK(zsock_fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
    if (nfds < NFD) {
        fds[nfds++] = fd;
    } else {
        CHECK(zsock_close(fd) == 0);
    }
}

/* A descriptor: mostly one of the program's, sometimes any number. */
static int pick_fd(struct in *in)
{
    uint8_t k = u8(in);
    if (k >= 0xf0 || nfds == 0) {
        static const int odd[] = {-1, 0, 1, 2, 3, 1000, 32767, 32768, INT32_MAX, INT32_MIN};
        return odd[k % 10];
    }
    return fds[k % nfds];
}

/* The errno values a socket call may fail with (POSIX, plus what Linux
 * and Zephyr use for sockets). */
static bool ok_errno(int e)
{
    switch (e) {
    case EBADF:
    case ENOTSOCK:
    case EINVAL:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
    case EPROTOTYPE:
    case ESOCKTNOSUPPORT:
    case EOPNOTSUPP:
    case ENOPROTOOPT:
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case EISCONN:
    case ENOTCONN:
    case EALREADY:
    case EINPROGRESS:
    case EAGAIN:
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case EMSGSIZE:
    case EDESTADDRREQ:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EFAULT:
    case ENOMEM:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
    case EACCES:
    case EPERM:
    case ENODEV:
    case ENXIO:
    case ETIMEDOUT:
    case ENOTTY:
    case ENETDOWN:
    case EPROTO:
    case ESHUTDOWN:
    case ERANGE:
    case ENOENT:
    case EDOM: /* setsockopt: a timeout too big to hold (POSIX) */
        return true;
    default:
        return false;
    }
}

static const int FAMILIES[] = {AF_INET, AF_INET6, AF_PACKET, AF_UNIX, AF_UNSPEC, 99};
static const int TYPES[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, 0, 77};
static const int PROTOS[] = {0,
                             IPPROTO_TCP,
                             IPPROTO_UDP,
                             IPPROTO_TLS_1_2,
                             IPPROTO_TLS_1_3,
                             IPPROTO_DTLS_1_2,
                             IPPROTO_ICMP,
                             IPPROTO_ICMPV6,
                             253,
                             0x0300 /* htons(ETH_P_ALL) */,
                             0x0008 /* htons(ETH_P_IP) */,
                             IPPROTO_RAW};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* An address: loopback, any, v4-mapped, with a port from a small set so
 * that binds and connects meet; or bytes from the input with any length. */
static socklen_t make_addr(struct in *in, struct sockaddr_storage *ss)
{
    static const uint16_t ports[] = {0, 7, 80, 443, 4433, 5000};
    uint8_t k = u8(in);
    uint16_t port = htons(ports[(k >> 3) % N(ports)]);
    memset(ss, 0, sizeof(*ss));
    switch (k % 8) {
    case 0:
    case 1: {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        s->sin_port = port;
        s->sin_addr.s_addr = k % 8 == 0 ? htonl(0x7f000001u) : 0;
        return sizeof(*s);
    }
    case 2:
    case 3: {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = port;
        if (k % 8 == 2) {
            s->sin6_addr.s6_addr[15] = 1;
        }
        return sizeof(*s);
    }
    case 4: { /* v4-mapped loopback */
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = port;
        s->sin6_addr.s6_addr[10] = 0xff;
        s->sin6_addr.s6_addr[11] = 0xff;
        s->sin6_addr.s6_addr[12] = 127;
        s->sin6_addr.s6_addr[15] = 1;
        return sizeof(*s);
    }
    case 5: { /* a packet socket's address: the loopback interface */
        struct sockaddr_ll *s = (struct sockaddr_ll *)ss;
        s->sll_family = AF_PACKET;
        s->sll_protocol = htons(ETH_P_ALL);
        s->sll_ifindex = 1 + u8(in) % 3;
        return sizeof(*s);
    }
    default: {
        socklen_t len = u8(in) % (sizeof(*ss) + 1);
        in_bytes(in, ss, len);
        if (len >= 2 && (k & 0x80)) {
            ss->ss_family = (sa_family_t)FAMILIES[k % N(FAMILIES)];
        }
        return len;
    }
    }
}

static const int LEVELS[] = {SOL_SOCKET,  IPPROTO_IP, IPPROTO_IPV6, IPPROTO_TCP,
                             IPPROTO_UDP, SOL_TLS,    SOL_PACKET,   IPPROTO_RAW};

static void op_sockopt(struct in *in, bool set)
{
    int fd = pick_fd(in);
    uint8_t k = u8(in);
    int level = k & 0x80 ? (int)u16(in) : LEVELS[k % N(LEVELS)];
    int name = u8(in);
    socklen_t len = u8(in) % 72;
    uint8_t val[72] __attribute__((aligned(8)));
    in_bytes(in, val, len);
    if (set && level == SOL_TLS && name == TLS_ALPN_LIST) {
        /* Its value is an array of string pointers: random bytes would be
         * wild pointers, which no API can check. Strings from the input,
         * NULL-terminated or not as the length says. */
        static char names[4][300];
        const char *list[5];
        socklen_t n = (socklen_t)(len % 6);
        for (socklen_t i = 0; i < n && i < 4; i++) {
            size_t l = u16(in) % sizeof(names[i]);
            in_bytes(in, names[i], l);
            names[i][l] = 0;
            list[i] = names[i];
        }
        list[n < 4 ? n : 4] = NULL;
        CALL(
            zsock_setsockopt(fd, level, name, list, (socklen_t)((n < 5 ? n : 5) * sizeof(char *))));
        return;
    }
    if (set) {
        /* A zero length with a NULL value, as programs pass for options
         * without one (TLS_HOSTNAME). */
        CALL(zsock_setsockopt(fd, level, name, len == 0 && (k & 0x40) ? NULL : val, len));
    } else {
        /* Nothing written past the length given, and the length returned
         * no more than that (what was written). */
        socklen_t got = len;
        memset(val + len, 0xa5, sizeof(val) - len);
        CALL(zsock_getsockopt(fd, level, name, val, &got));
        for (size_t i = len; i < sizeof(val); i++) {
            CHECK(val[i] == 0xa5);
        }
        if (got > len) {
            fprintf(stderr, "getsockopt(%d, %d) said %u bytes in a buffer of %u\n", level, name,
                    (unsigned)got, (unsigned)len);
            abort();
        }
    }
}

/* A control message buffer: headers with lengths from the input, fixed up
 * to be consistent unless the input says not to. */
static size_t make_cmsgs(struct in *in, uint8_t *buf, size_t room)
{
    size_t off = 0;
    int n = u8(in) % 4;
    for (int i = 0; i < n; i++) {
        uint8_t k = u8(in);
        size_t dlen = u8(in) % 24;
        size_t sz = CMSG_SPACE(dlen);
        if (off + sz > room) {
            break;
        }
        struct cmsghdr *c = (struct cmsghdr *)(buf + off);
        c->cmsg_level = LEVELS[k % N(LEVELS)];
        c->cmsg_type = u8(in);
        c->cmsg_len = k & 0x80 ? u8(in) : CMSG_LEN(dlen);
        in_bytes(in, CMSG_DATA(c), dlen);
        off += sz;
    }
    return off;
}

/* An address buffer of which only the first `len` bytes may be written:
 * the rest is filled with a pattern that name_check() looks for. */
static socklen_t name_room(struct sockaddr_storage *ss, socklen_t len)
{
    memset((uint8_t *)ss + len, 0xa5, sizeof(*ss) - len);
    return len;
}

static void name_check(const struct sockaddr_storage *ss, socklen_t room)
{
    for (size_t i = room; i < sizeof(*ss); i++) {
        CHECK(((const uint8_t *)ss)[i] == 0xa5);
    }
}

static void op_msg(struct in *in, bool send)
{
    static uint8_t data[MAXBUF];
    uint8_t ctl[256] __attribute__((aligned(8)));
    struct sockaddr_storage ss;
    int fd = pick_fd(in);
    uint8_t k = u8(in);
    struct iovec iov[3];
    size_t niov = k % 4;
    for (size_t i = 0; i < niov; i++) {
        iov[i].iov_base = data + i * 256;
        iov[i].iov_len = u8(in) * (k & 0x40 ? 8u : 1u) % 700;
    }
    struct msghdr m = {.msg_iov = niov > 0 ? iov : NULL, .msg_iovlen = niov};
    int flags = (int)(u16(in) & 0x1ff) | ZSOCK_MSG_DONTWAIT;
    if (send) {
        if (k & 0x10) {
            m.msg_namelen = make_addr(in, &ss);
            m.msg_name = &ss;
        }
        memset(data, 'x', sizeof(data));
        memset(ctl, 0, sizeof(ctl));
        m.msg_controllen = make_cmsgs(in, ctl, sizeof(ctl));
        m.msg_control = m.msg_controllen > 0 ? ctl : NULL;
        CALL(zsock_sendmsg(fd, &m, flags));
    } else {
        m.msg_name = k & 0x10 ? &ss : NULL;
        socklen_t room = name_room(&ss, k & 0x10 ? u8(in) % (sizeof(ss) + 1) : 0);
        m.msg_namelen = room;
        m.msg_control = k & 0x20 ? ctl : NULL;
        size_t croom = k & 0x20 ? u8(in) : 0;
        m.msg_controllen = croom;
        memset(ctl + croom, 0xa5, sizeof(ctl) - croom);
        errno = 0;
        ssize_t r = zsock_recvmsg(fd, &m, flags);
        CHECK(r >= 0 || ok_errno(errno));
        /* Nothing written past either buffer; the control length returned
         * is what was written. */
        name_check(&ss, room);
        for (size_t i = croom; i < sizeof(ctl); i++) {
            CHECK(ctl[i] == 0xa5);
        }
        if (r >= 0) {
            CHECK(m.msg_controllen <= croom);
        }
    }
}

static void program(struct in *in)
{
    static uint8_t buf[MAXBUF];
    struct sockaddr_storage ss;
    socklen_t len;
    for (int step = 0; in->n > 0 && step < 200; step++) {
        uint8_t op = u8(in);
        switch (op % 20) {
        case 0: {
            int fam = FAMILIES[u8(in) % N(FAMILIES)];
            uint8_t t = u8(in);
            int type = TYPES[t % N(TYPES)] | (t & 0x80 ? SOCK_NONBLOCK : 0);
            int proto = PROTOS[u8(in) % N(PROTOS)];
            errno = 0;
            int fd = zsock_socket(fam, type, proto);
            CHECK(fd >= 0 || ok_errno(errno));
            keep(fd);
            break;
        }
        case 1: {
            int sv[2] = {-1, -1};
            int type = u8(in) & 1 ? SOCK_DGRAM : SOCK_STREAM;
            errno = 0;
            if (zsock_socketpair(AF_UNIX, type, 0, sv) == 0) {
                keep(sv[0]);
                keep(sv[1]);
            } else {
                CHECK(ok_errno(errno));
            }
            break;
        }
        case 2: {
            int fd = pick_fd(in);
            len = make_addr(in, &ss);
            CALL(zsock_bind(fd, (struct sockaddr *)&ss, len));
            break;
        }
        case 3: {
            int fd = pick_fd(in);
            len = make_addr(in, &ss);
            CALL(zsock_connect(fd, (struct sockaddr *)&ss, len));
            break;
        }
        case 4: {
            int fd = pick_fd(in);
            CALL(zsock_listen(fd, (int8_t)u8(in)));
            break;
        }
        case 5: {
            int fd = pick_fd(in);
            uint8_t k = u8(in);
            socklen_t room = len = name_room(&ss, k % (sizeof(ss) + 1));
            errno = 0;
            int s =
                zsock_accept(fd, k & 0x80 ? (struct sockaddr *)&ss : NULL, k & 0x80 ? &len : NULL);
            name_check(&ss, room);
            CHECK(s >= 0 || ok_errno(errno));
            keep(s);
            break;
        }
        case 6: {
            int fd = pick_fd(in);
            size_t n = u16(in) % MAXBUF;
            int flags = (int)(u16(in) & 0x1ff) | ZSOCK_MSG_DONTWAIT;
            memset(buf, 'y', n);
            if (op & 0x80) {
                len = make_addr(in, &ss);
                CALL(zsock_sendto(fd, buf, n, flags, (struct sockaddr *)&ss, len));
            } else {
                CALL(zsock_send(fd, buf, n, flags));
            }
            break;
        }
        case 7: {
            int fd = pick_fd(in);
            size_t n = u16(in) % MAXBUF;
            int flags = (int)(u16(in) & 0x1ff) | ZSOCK_MSG_DONTWAIT;
            socklen_t room = len = name_room(&ss, u8(in) % (sizeof(ss) + 1));
            CALL(zsock_recvfrom(fd, buf, n, flags, op & 0x80 ? (struct sockaddr *)&ss : NULL,
                                op & 0x80 ? &len : NULL));
            name_check(&ss, room);
            break;
        }
        case 8:
            op_msg(in, true);
            break;
        case 9:
            op_msg(in, false);
            break;
        case 10:
        case 11:
            op_sockopt(in, true);
            break;
        case 12:
            op_sockopt(in, false);
            break;
        case 13: {
            struct zsock_pollfd p[4];
            int n = 1 + u8(in) % 4;
            for (int i = 0; i < n; i++) {
                p[i].fd = pick_fd(in);
                p[i].events = (short)u8(in);
                p[i].revents = 0;
            }
            CALL(zsock_poll(p, n, 0));
            break;
        }
        case 14: {
            int fd = pick_fd(in);
            uint8_t k = u8(in);
            if (k & 1) {
                CALL(zsock_fcntl(fd, F_GETFL, 0));
            } else {
                /* Any flags, O_NONBLOCK kept. */
                CALL(zsock_fcntl(fd, F_SETFL, (int)u32(in) | O_NONBLOCK));
            }
            break;
        }
        case 15: {
            int fd = pick_fd(in);
            int v = 1 + (int)u8(in);
            uint8_t k = u8(in);
            unsigned long req = k % 3 == 0 ? FIONREAD : k % 3 == 1 ? FIONBIO : u32(in);
            CALL(zsock_ioctl(fd, req, &v));
            break;
        }
        case 16:
            CALL(zsock_shutdown(pick_fd(in), (int)(u8(in) % 4)));
            break;
        case 17: {
            uint8_t k = u8(in);
            if (nfds > 0 && k < 0xf0) {
                int i = k % nfds;
                CHECK(zsock_close(fds[i]) == 0);
                fds[i] = fds[--nfds];
            } else {
                /* Any number; if it is one of the program's, it is gone. */
                int fd = pick_fd(in);
                CALL(zsock_close(fd));
                for (int i = 0; i < nfds; i++) {
                    if (fds[i] == fd) {
                        fds[i] = fds[--nfds];
                        break;
                    }
                }
            }
            break;
        }
        case 18: {
            int fd = pick_fd(in);
            socklen_t room = len = name_room(&ss, u8(in) % (sizeof(ss) + 1));
            if (op & 0x80) {
                CALL(zsock_getpeername(fd, (struct sockaddr *)&ss, &len));
            } else {
                CALL(zsock_getsockname(fd, (struct sockaddr *)&ss, &len));
            }
            name_check(&ss, room);
            break;
        }
        default:
            /* The loop's turn: loopback input, timers. */
            CALL(zsock_net_process(0));
            break;
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(zsock_net_init_polled() == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int open0 = z_fd_count_open();
    struct z_stack *s = z_stack_default();
    CHECK(s != NULL);
    struct in in = {data, size};
    nfds = 0;
    program(&in);
    while (nfds > 0) {
        CHECK(zsock_close(fds[--nfds]) == 0);
    }
    CHECK(z_fd_count_open() == open0);
    /* What the closed sockets sent to each other drains on the loop. */
    for (int i = 0; i < 16 && s->pool.stats.in_use != 0; i++) {
        zsock_net_process(0);
    }
    if (s->pool.stats.in_use != 0) {
        fprintf(stderr, "%u packet buffers still in use\n", (unsigned)s->pool.stats.in_use);
        abort();
    }
    return 0;
}
