/* SO_SOCKS5 against a scripted SOCKS5 proxy run in a thread on zsock's
 * loopback: the bytes of the greeting and of the CONNECT request (IPv4,
 * IPv6, mapped), success with data both ways (echoed by the proxy, or
 * relayed to a real destination), every reply code's errno, a proxy that
 * wants authentication, malformed, short and missing answers, a silent
 * proxy, non-blocking connect with poll, getpeername, the option's errors,
 * and TLS through the proxy. Linux has no SO_SOCKS5 (60 is its
 * SO_ZEROCOPY), so these run on zsock only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/config.h>
#include <zsock/socket.h>

#include "unit/test_util.h"

#define SA(x)   ((struct sockaddr *)&(x))
#define WAIT_MS 10000 /* give up waiting for something that must happen */

static struct sockaddr_in v4(uint32_t a, uint16_t port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
    s.sin_addr.s_addr = htonl(a);
    return s;
}

static struct sockaddr_in6 v6(const char *a, uint16_t port)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    assert_int_equal(zsock_inet_pton(AF_INET6, a, &s.sin6_addr), 1);
    return s;
}

/* ---- the scripted proxy
 * ---------------------------------------------------------------------------------- */

enum after {
    AFTER_CLOSE, /* close once the reply is sent */
    AFTER_ECHO,  /* echo the client's bytes until it closes */
    AFTER_RELAY, /* connect to the requested destination and relay */
    AFTER_WAIT,  /* read until the client closes */
};

struct proxy {
    int family;
    int lfd;
    uint16_t port;
    /* the script: answers sent as they are (NULL: close instead) */
    const uint8_t *method;
    size_t method_len;
    const uint8_t *reply;
    size_t reply_len;
    bool silent; /* never answer the greeting */
    sem_t *gate; /* if set, wait on it before sending the reply */
    enum after after;
    /* what it saw */
    uint8_t greeting[3];
    uint8_t request[4 + 16 + 2];
    size_t request_len;
    pthread_t th;
};

static bool read_full(int fd, void *buf, size_t len)
{
    return zsock_recv(fd, buf, len, ZSOCK_MSG_WAITALL) == (ssize_t)len;
}

static void send_full(int fd, const void *buf, size_t len)
{
    if (len > 0) {
        assert_int_equal(zsock_send(fd, buf, len, 0), (ssize_t)len);
    }
}

static void drain_until_eof(int fd)
{
    char buf[4096];
    while (zsock_recv(fd, buf, sizeof(buf), 0) > 0) {
    }
}

/* Copy between a and b until both directions have ended. */
static void relay(int a, int b)
{
    bool open_a = true, open_b = true;
    char buf[16384];
    while (open_a || open_b) {
        struct zsock_pollfd p[2] = {{.fd = open_a ? a : -1, .events = ZSOCK_POLLIN},
                                    {.fd = open_b ? b : -1, .events = ZSOCK_POLLIN}};
        if (zsock_poll(p, 2, WAIT_MS) <= 0) {
            return;
        }
        for (int i = 0; i < 2; i++) {
            if (p[i].revents == 0) {
                continue;
            }
            int from = i == 0 ? a : b, to = i == 0 ? b : a;
            ssize_t n = zsock_recv(from, buf, sizeof(buf), 0);
            if (n <= 0) {
                zsock_shutdown(to, ZSOCK_SHUT_WR);
                *(i == 0 ? &open_a : &open_b) = false;
            } else {
                send_full(to, buf, (size_t)n);
            }
        }
    }
}

static void serve(struct proxy *p, int c)
{
    if (!read_full(c, p->greeting, 3)) {
        return;
    }
    if (p->silent) {
        drain_until_eof(c);
        return;
    }
    if (p->method == NULL) {
        return;
    }
    send_full(c, p->method, p->method_len);
    if (p->method_len < 2) {
        return;
    }
    if (p->method[1] != 0) {
        drain_until_eof(c);
        return;
    }
    if (!read_full(c, p->request, 4)) {
        return;
    }
    size_t alen = p->request[3] == 4 ? 16 : 4;
    if (!read_full(c, p->request + 4, alen + 2)) {
        return;
    }
    p->request_len = 4 + alen + 2;
    if (p->gate != NULL) {
        sem_wait(p->gate);
    }
    if (p->reply == NULL) {
        return;
    }
    send_full(c, p->reply, p->reply_len);
    if (p->after == AFTER_ECHO) {
        char buf[16384];
        ssize_t n;
        while ((n = zsock_recv(c, buf, sizeof(buf), 0)) > 0) {
            send_full(c, buf, (size_t)n);
        }
    } else if (p->after == AFTER_RELAY) {
        int fam = p->request[3] == 4 ? AF_INET6 : AF_INET;
        int d = zsock_socket(fam, SOCK_STREAM, 0);
        assert_true(d >= 0);
        uint16_t port = (uint16_t)(p->request[4 + alen] << 8 | p->request[5 + alen]);
        int rc;
        if (fam == AF_INET6) {
            struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
            memcpy(&a.sin6_addr, p->request + 4, 16);
            rc = zsock_connect(d, SA(a), sizeof(a));
        } else {
            struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
            memcpy(&a.sin_addr, p->request + 4, 4);
            rc = zsock_connect(d, SA(a), sizeof(a));
        }
        assert_int_equal(rc, 0);
        relay(c, d);
        zsock_close(d);
    } else if (p->after == AFTER_WAIT) {
        drain_until_eof(c);
    }
}

static void *proxy_main(void *arg)
{
    struct proxy *p = arg;
    int c = zsock_accept(p->lfd, NULL, NULL);
    if (c >= 0) {
        serve(p, c);
        zsock_close(c);
    }
    return NULL;
}

/* Start the proxy on the loopback of `family`; its address into *addr. */
static void proxy_start(struct proxy *p, int family)
{
    p->family = family;
    p->lfd = zsock_socket(family, SOCK_STREAM, 0);
    assert_true(p->lfd >= 0);
    struct timeval tv = {.tv_sec = WAIT_MS / 1000};
    assert_int_equal(zsock_setsockopt(p->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    struct sockaddr_in6 a6 = v6("::1", 0);
    struct sockaddr_in a4 = v4(0x7f000001u, 0);
    socklen_t len = family == AF_INET6 ? sizeof(a6) : sizeof(a4);
    struct sockaddr *a = family == AF_INET6 ? SA(a6) : SA(a4);
    assert_int_equal(zsock_bind(p->lfd, a, len), 0);
    assert_int_equal(zsock_listen(p->lfd, 4), 0);
    assert_int_equal(zsock_getsockname(p->lfd, a, &len), 0);
    p->port = ntohs(family == AF_INET6 ? a6.sin6_port : a4.sin_port);
    assert_int_equal(pthread_create(&p->th, NULL, proxy_main, p), 0);
}

static void proxy_join(struct proxy *p)
{
    pthread_join(p->th, NULL);
    zsock_close(p->lfd);
}

/* A client socket of `family` with the proxy named. */
static int client_for(const struct proxy *p, int family)
{
    int c = zsock_socket(family, SOCK_STREAM, 0);
    assert_true(c >= 0);
    struct timeval tv = {.tv_sec = WAIT_MS / 1000}; /* a broken exchange fails, never hangs */
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    if (p->family == AF_INET6) {
        struct sockaddr_in6 a = v6("::1", p->port);
        assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), 0);
    } else {
        struct sockaddr_in a = v4(0x7f000001u, p->port);
        assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), 0);
    }
    return c;
}

static const uint8_t M_NONE[] = {5, 0};
static const uint8_t OK4[] = {5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90};

/* A proxy that takes the greeting (no authentication), then answers the
 * request with `reply`, and does `after`; `gate` (NULL: none) holds the
 * reply back until posted. */
static struct proxy answering(const uint8_t *reply, size_t len, enum after after, sem_t *gate)
{
    return (struct proxy){.method = M_NONE,
                          .method_len = 2,
                          .reply = reply,
                          .reply_len = len,
                          .gate = gate,
                          .after = after};
}

/* ---- success
 * ------------------------------------------------------------------------------------------ */

static void test_ipv4_echo(void **state)
{
    (void)state;
    /* The reply and the first relayed bytes in one segment: only the
     * latter reach the application. */
    static uint8_t reply[sizeof(OK4) + 2];
    memcpy(reply, OK4, sizeof(OK4));
    memcpy(reply + sizeof(OK4), "hi", 2);
    struct proxy p = answering(reply, sizeof(reply), AFTER_ECHO, NULL);
    proxy_start(&p, AF_INET);
    int c = client_for(&p, AF_INET);
    struct sockaddr_in proxy_back;
    socklen_t plen = sizeof(proxy_back);
    assert_int_equal(zsock_getsockopt(c, SOL_SOCKET, SO_SOCKS5, &proxy_back, &plen), 0);
    assert_int_equal(plen, sizeof(proxy_back));
    assert_int_equal(ntohs(proxy_back.sin_port), p.port);
    assert_int_equal(ntohl(proxy_back.sin_addr.s_addr), 0x7f000001u);

    struct sockaddr_in dest = v4(0xc0000209u, 4242); /* 192.0.2.9, nowhere: the proxy answers */
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), 0);
    static const uint8_t greeting[] = {5, 1, 0};
    static const uint8_t request[] = {5, 1, 0, 1, 192, 0, 2, 9, 0x10, 0x92};
    assert_memory_equal(p.greeting, greeting, 3);
    assert_int_equal(p.request_len, sizeof(request));
    assert_memory_equal(p.request, request, sizeof(request));

    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    assert_int_equal(zsock_getpeername(c, SA(peer), &len), 0);
    assert_int_equal(len, sizeof(peer));
    assert_memory_equal(&peer, &dest, sizeof(dest));
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), -1);
    assert_int_equal(errno, EISCONN);

    char buf[8];
    assert_int_equal(zsock_recv(c, buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "hi", 2);
    /* 256 KiB through the echo, checked byte for byte. */
    size_t total = 256 * 1024;
    uint8_t *out = malloc(total), *in = malloc(total);
    for (size_t i = 0; i < total; i++) {
        out[i] = (uint8_t)(i * 7 + (i >> 9));
    }
    /* Sending and reading as poll allows: with small buffers (the
     * embedded limits) a blocking send could wait on an echo nobody reads. */
    size_t sent = 0, got = 0;
    while (got < total) {
        struct zsock_pollfd pfd = {.fd = c,
                                   .events = ZSOCK_POLLIN | (sent < total ? ZSOCK_POLLOUT : 0)};
        assert_int_equal(zsock_poll(&pfd, 1, WAIT_MS), 1);
        if (pfd.revents & ZSOCK_POLLOUT) {
            size_t want = total - sent < 16384 ? total - sent : 16384;
            ssize_t n = zsock_send(c, out + sent, want, ZSOCK_MSG_DONTWAIT);
            assert_true(n > 0 || errno == EAGAIN);
            sent += n > 0 ? (size_t)n : 0;
        }
        if (pfd.revents & ZSOCK_POLLIN) {
            ssize_t n = zsock_recv(c, in + got, total - got, ZSOCK_MSG_DONTWAIT);
            assert_true(n > 0 || errno == EAGAIN);
            got += n > 0 ? (size_t)n : 0;
        }
    }
    assert_memory_equal(in, out, total);
    free(out);
    free(in);
    zsock_close(c);
    proxy_join(&p);
}

/* A destination listener on the loopback of `family`. */
static int dest_listener(int family, uint16_t *port)
{
    int l = zsock_socket(family, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in6 a6 = v6("::1", 0);
    struct sockaddr_in a4 = v4(0x7f000001u, 0);
    socklen_t len = family == AF_INET6 ? sizeof(a6) : sizeof(a4);
    struct sockaddr *a = family == AF_INET6 ? SA(a6) : SA(a4);
    assert_int_equal(zsock_bind(l, a, len), 0);
    assert_int_equal(zsock_listen(l, 4), 0);
    assert_int_equal(zsock_getsockname(l, a, &len), 0);
    *port = ntohs(family == AF_INET6 ? a6.sin6_port : a4.sin_port);
    return l;
}

static void test_ipv6_relay(void **state)
{
    (void)state;
#if CONFIG_NET_IPV6
    /* A reply naming its bound address by domain name (variable length). */
    static const uint8_t reply[] = {5,   0,   0,   3,   13,  'p', 'r', 'o', 'x',  'y',
                                    '.', 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x04, 0x38};
    struct proxy p = answering(reply, sizeof(reply), AFTER_RELAY, NULL);
    proxy_start(&p, AF_INET6);
    uint16_t dport;
    int l = dest_listener(AF_INET6, &dport);
    int c = client_for(&p, AF_INET6);
    struct sockaddr_in6 dest = v6("::1", dport);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), 0);
    assert_int_equal(p.request_len, 22);
    static const uint8_t head[] = {5, 1, 0, 4};
    assert_memory_equal(p.request, head, 4);
    assert_memory_equal(p.request + 4, &dest.sin6_addr, 16);
    assert_int_equal(p.request[20] << 8 | p.request[21], dport);
    struct sockaddr_in6 peer;
    socklen_t len = sizeof(peer);
    assert_int_equal(zsock_getpeername(c, SA(peer), &len), 0);
    assert_memory_equal(&peer.sin6_addr, &dest.sin6_addr, 16);
    assert_int_equal(peer.sin6_port, dest.sin6_port);

    int s = zsock_accept(l, NULL, NULL);
    assert_true(s >= 0);
    send_full(c, "ping", 4);
    char buf[8];
    assert_true(read_full(s, buf, 4));
    assert_memory_equal(buf, "ping", 4);
    send_full(s, "pong!", 5);
    assert_true(read_full(c, buf, 5));
    assert_memory_equal(buf, "pong!", 5);
    /* Through recvmsg, the name is the destination's too. */
    send_full(s, "x", 1);
    struct sockaddr_in6 from;
    struct iovec v = {buf, 1};
    struct msghdr m = {
        .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &v, .msg_iovlen = 1};
    assert_int_equal(zsock_recvmsg(c, &m, 0), 1);
    assert_int_equal(from.sin6_port, dest.sin6_port);
    zsock_close(c);
    zsock_close(s);
    zsock_close(l);
    proxy_join(&p);
#else
    skip();
#endif
}

static void test_mapped_destination(void **state)
{
    (void)state;
#if CONFIG_NET_IPV6
    /* An AF_INET6 socket naming an IPv4-mapped destination asks for IPv4. */
    static const uint8_t refused[] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};
    struct proxy p = {
        .method = M_NONE, .method_len = 2, .reply = refused, .reply_len = sizeof(refused)};
    proxy_start(&p, AF_INET6);
    int c = client_for(&p, AF_INET6);
    struct sockaddr_in6 dest = v6("::ffff:192.0.2.1", 80);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), -1);
    assert_int_equal(errno, ECONNREFUSED);
    static const uint8_t request[] = {5, 1, 0, 1, 192, 0, 2, 1, 0, 80};
    assert_int_equal(p.request_len, sizeof(request));
    assert_memory_equal(p.request, request, sizeof(request));
    zsock_close(c);
    proxy_join(&p);
#else
    skip();
#endif
}

/* ---- failures
 * ----------------------------------------------------------------------------------------- */

/* connect through a proxy following `p`'s script: the errno it fails with
 * (0 if it succeeds). */
static int attempt(struct proxy *p)
{
    proxy_start(p, AF_INET);
    int c = client_for(p, AF_INET);
    struct sockaddr_in dest = v4(0xc0000201u, 80);
    int rc = zsock_connect(c, SA(dest), sizeof(dest));
    int err = rc == 0 ? 0 : errno;
    if (rc < 0) {
        /* As after a refused connect: no peer, the error reported once. */
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer);
        assert_int_equal(zsock_getpeername(c, SA(peer), &len), -1);
        assert_int_equal(errno, ENOTCONN);
        int so = -1;
        len = sizeof(so);
        assert_int_equal(zsock_getsockopt(c, SOL_SOCKET, SO_ERROR, &so, &len), 0);
        assert_int_equal(so, 0);
        char buf[4];
        assert_true(zsock_recv(c, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT) <= 0);
    }
    zsock_close(c);
    proxy_join(p);
    return err;
}

static void test_reply_codes(void **state)
{
    (void)state;
    static const struct {
        uint8_t rep;
        int err;
    } table[] = {
        {1, ECONNREFUSED}, {2, EACCES},     {3, ENETUNREACH},  {4, EHOSTUNREACH}, {5, ECONNREFUSED},
        {6, ETIMEDOUT},    {7, EOPNOTSUPP}, {8, EAFNOSUPPORT}, {9, EPROTO},       {0x42, EPROTO},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        uint8_t reply[10] = {5, table[i].rep, 0, 1, 0, 0, 0, 0, 0, 0};
        struct proxy p = answering(reply, sizeof(reply), AFTER_WAIT, NULL);
        print_message("reply code %u\n", table[i].rep);
        assert_int_equal(attempt(&p), table[i].err);
    }
    /* A failure reply cut short after its code still says what failed. */
    static const uint8_t cut[] = {5, 2};
    struct proxy p = {.method = M_NONE, .method_len = 2, .reply = cut, .reply_len = 2};
    assert_int_equal(attempt(&p), EACCES);
}

static void test_methods(void **state)
{
    (void)state;
    static const uint8_t auth_only[] = {5, 0xff};
    static const uint8_t gssapi[] = {5, 1}; /* never offered */
    static const uint8_t socks4[] = {4, 0};
    struct proxy p1 = {.method = auth_only, .method_len = 2};
    assert_int_equal(attempt(&p1), EACCES);
    static const uint8_t greeting[] = {5, 1, 0}; /* no authentication offered, only */
    assert_memory_equal(p1.greeting, greeting, 3);
    struct proxy p2 = {.method = gssapi, .method_len = 2};
    assert_int_equal(attempt(&p2), EPROTO);
    struct proxy p3 = {.method = socks4, .method_len = 2};
    assert_int_equal(attempt(&p3), EPROTO);
}

static void test_malformed_replies(void **state)
{
    (void)state;
    static const uint8_t bad_version[] = {4, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    static const uint8_t bad_atyp[] = {5, 0, 0, 7, 0, 0, 0, 0, 0, 0};
    struct proxy p1 = answering(bad_version, sizeof(bad_version), AFTER_WAIT, NULL);
    assert_int_equal(attempt(&p1), EPROTO);
    struct proxy p2 = answering(bad_atyp, sizeof(bad_atyp), AFTER_WAIT, NULL);
    assert_int_equal(attempt(&p2), EPROTO);
}

static void test_proxy_closes(void **state)
{
    (void)state;
    /* Closed before the method, before the reply, and in the middle of a
     * success reply (its address cut short). */
    struct proxy p1 = {0};
    assert_int_equal(attempt(&p1), ECONNRESET);
    struct proxy p2 = {.method = M_NONE, .method_len = 2};
    assert_int_equal(attempt(&p2), ECONNRESET);
    assert_int_equal(p2.request_len, 10); /* it had the request */
    static const uint8_t short_ok[] = {5, 0, 0, 1, 127, 0};
    struct proxy p3 = {
        .method = M_NONE, .method_len = 2, .reply = short_ok, .reply_len = sizeof(short_ok)};
    assert_int_equal(attempt(&p3), ECONNRESET);
    static const uint8_t one_byte[] = {5};
    struct proxy p4 = {.method = one_byte, .method_len = 1};
    assert_int_equal(attempt(&p4), ECONNRESET);
}

static void test_no_proxy_listening(void **state)
{
    (void)state;
    int c = zsock_socket(AF_INET, SOCK_STREAM, 0);
    uint16_t port;
    int l = dest_listener(AF_INET, &port);
    zsock_close(l); /* a port nobody listens on */
    struct sockaddr_in proxy = v4(0x7f000001u, port), dest = v4(0xc0000201u, 80);
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &proxy, sizeof(proxy)), 0);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), -1);
    assert_int_equal(errno, ECONNREFUSED);
    zsock_close(c);
}

/* Non-blocking connect of c to dest: EINPROGRESS. */
static void connect_nonblocking(int c, const struct sockaddr_in *dest)
{
    int on = 1;
    assert_int_equal(zsock_ioctl(c, FIONBIO, &on), 0);
    assert_int_equal(zsock_connect(c, (const struct sockaddr *)dest, sizeof(*dest)), -1);
    assert_int_equal(errno, EINPROGRESS);
}

/* poll() reports the end of c's connect as a failure with errno err. */
static void expect_async_failure(int c, int err)
{
    struct zsock_pollfd pfd = {.fd = c, .events = ZSOCK_POLLOUT};
    assert_int_equal(zsock_poll(&pfd, 1, WAIT_MS), 1);
    assert_true(pfd.revents & ZSOCK_POLLERR);
    int so = 0;
    socklen_t len = sizeof(so);
    assert_int_equal(zsock_getsockopt(c, SOL_SOCKET, SO_ERROR, &so, &len), 0);
    assert_int_equal(so, err);
}

static void test_silent_proxy_times_out(void **state)
{
    (void)state;
    /* Blocking: SO_RCVTIMEO bounds the wait for the proxy's answers. */
    struct proxy p = {.silent = true};
    proxy_start(&p, AF_INET);
    int c = client_for(&p, AF_INET);
    struct timeval tv = {.tv_usec = 200000};
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    struct sockaddr_in dest = v4(0xc0000201u, 80);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), -1);
    assert_int_equal(errno, ETIMEDOUT);
    zsock_close(c);
    proxy_join(&p);

    /* Non-blocking: poll() wakes by itself at the deadline and reports it. */
    struct proxy q = {.silent = true};
    proxy_start(&q, AF_INET);
    c = client_for(&q, AF_INET);
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    connect_nonblocking(c, &dest);
    expect_async_failure(c, ETIMEDOUT);
    zsock_close(c);
    proxy_join(&q);
}

/* ---- non-blocking
 * ------------------------------------------------------------------------------------ */

static void test_nonblocking_connect(void **state)
{
    (void)state;
    sem_t gate;
    sem_init(&gate, 0, 0);
    struct proxy p = answering(OK4, sizeof(OK4), AFTER_ECHO, &gate);
    proxy_start(&p, AF_INET);
    int c = client_for(&p, AF_INET);
    struct sockaddr_in dest = v4(0xc0000201u, 443);
    connect_nonblocking(c, &dest);
    /* Until the proxy's reply: connecting, whatever TCP has done. */
    struct zsock_pollfd pfd = {.fd = c, .events = ZSOCK_POLLIN | ZSOCK_POLLOUT};
    assert_int_equal(zsock_poll(&pfd, 1, 50), 0);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), -1);
    assert_int_equal(errno, EALREADY);
    assert_int_equal(zsock_send(c, "x", 1, 0), -1);
    assert_int_equal(errno, EAGAIN);
    char buf[8];
    assert_int_equal(zsock_recv(c, buf, sizeof(buf), 0), -1);
    assert_int_equal(errno, ENOTCONN);
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    assert_int_equal(zsock_getpeername(c, SA(peer), &len), -1);
    assert_int_equal(errno, ENOTCONN);
    int n = -1;
    assert_int_equal(zsock_ioctl(c, FIONREAD, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, NULL, 0), -1);
    assert_int_equal(errno, EISCONN);

    sem_post(&gate);
    pfd.events = ZSOCK_POLLOUT;
    assert_int_equal(zsock_poll(&pfd, 1, WAIT_MS), 1);
    assert_int_equal(pfd.revents, ZSOCK_POLLOUT);
    int so = -1;
    len = sizeof(so);
    assert_int_equal(zsock_getsockopt(c, SOL_SOCKET, SO_ERROR, &so, &len), 0);
    assert_int_equal(so, 0);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), -1);
    assert_int_equal(errno, EISCONN);
    len = sizeof(peer);
    assert_int_equal(zsock_getpeername(c, SA(peer), &len), 0);
    assert_memory_equal(&peer, &dest, sizeof(dest));
    send_full(c, "abc", 3);
    pfd.events = ZSOCK_POLLIN;
    assert_int_equal(zsock_poll(&pfd, 1, WAIT_MS), 1);
    assert_int_equal(zsock_recv(c, buf, sizeof(buf), 0), 3);
    assert_memory_equal(buf, "abc", 3);
    zsock_close(c);
    proxy_join(&p);
    sem_destroy(&gate);
}

static void test_nonblocking_failure(void **state)
{
    (void)state;
    static const uint8_t not_allowed[] = {5, 2, 0, 1, 0, 0, 0, 0, 0, 0};
    struct proxy p = answering(not_allowed, sizeof(not_allowed), AFTER_WAIT, NULL);
    proxy_start(&p, AF_INET);
    int c = client_for(&p, AF_INET);
    struct sockaddr_in dest = v4(0xc0000201u, 443);
    connect_nonblocking(c, &dest);
    expect_async_failure(c, EACCES);
    zsock_close(c);
    proxy_join(&p);
}

static void test_blocking_sndtimeo(void **state)
{
    (void)state;
    /* A blocking connect gives up at SO_SNDTIMEO with EINPROGRESS, as a
     * plain one does; the exchange goes on and poll() sees it end. */
    sem_t gate;
    sem_init(&gate, 0, 0);
    struct proxy p = answering(OK4, sizeof(OK4), AFTER_ECHO, &gate);
    proxy_start(&p, AF_INET);
    int c = client_for(&p, AF_INET);
    struct timeval tv = {.tv_usec = 100000};
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    struct sockaddr_in dest = v4(0xc0000201u, 443);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), -1);
    assert_int_equal(errno, EINPROGRESS);
    sem_post(&gate);
    struct zsock_pollfd pfd = {.fd = c, .events = ZSOCK_POLLOUT};
    assert_int_equal(zsock_poll(&pfd, 1, WAIT_MS), 1);
    assert_int_equal(pfd.revents, ZSOCK_POLLOUT);
    assert_int_equal(p.request_len, 10);
    send_full(c, "ok", 2);
    char buf[4];
    assert_true(read_full(c, buf, 2));
    assert_memory_equal(buf, "ok", 2);
    zsock_close(c);
    proxy_join(&p);
    sem_destroy(&gate);
}

static void test_retry_after_failure(void **state)
{
    (void)state;
    /* A failed attempt leaves the socket as a refused connect does: a new
     * connect (here through another proxy) starts afresh. */
    static const uint8_t refused[] = {5, 5, 0, 1, 0, 0, 0, 0, 0, 0};
    struct proxy p1 = {
        .method = M_NONE, .method_len = 2, .reply = refused, .reply_len = sizeof(refused)};
    proxy_start(&p1, AF_INET);
    int c = client_for(&p1, AF_INET);
    struct sockaddr_in dest = v4(0xc0000201u, 25);
    expect_errno(zsock_connect(c, SA(dest), sizeof(dest)), ECONNREFUSED);
    proxy_join(&p1);
    struct proxy p2 = answering(OK4, sizeof(OK4), AFTER_ECHO, NULL);
    proxy_start(&p2, AF_INET);
    struct sockaddr_in a = v4(0x7f000001u, p2.port);
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), 0);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), 0);
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    assert_int_equal(zsock_getpeername(c, SA(peer), &len), 0);
    assert_memory_equal(&peer, &dest, sizeof(dest));
    send_full(c, "again", 5);
    char buf[8];
    assert_true(read_full(c, buf, 5));
    assert_memory_equal(buf, "again", 5);
    zsock_close(c);
    proxy_join(&p2);
}

static void test_mapped_proxy(void **state)
{
    (void)state;
#if CONFIG_NET_IPV6
    /* An AF_INET6 socket with IPV6_V6ONLY off reaches an IPv4 proxy by its
     * mapped address, and asks it for an IPv6 destination. */
    struct proxy p = answering(OK4, sizeof(OK4), AFTER_ECHO, NULL);
    proxy_start(&p, AF_INET);
    int c = zsock_socket(AF_INET6, SOCK_STREAM, 0);
    int off = 0;
    assert_int_equal(zsock_setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)), 0);
    struct sockaddr_in6 proxy = v6("::ffff:127.0.0.1", p.port);
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &proxy, sizeof(proxy)), 0);
    struct sockaddr_in6 dest = v6("2001:db8::7", 8080);
    assert_int_equal(zsock_connect(c, SA(dest), sizeof(dest)), 0);
    assert_int_equal(p.request_len, 22);
    assert_int_equal(p.request[3], 4);
    assert_memory_equal(p.request + 4, &dest.sin6_addr, 16);
    struct sockaddr_in6 peer;
    socklen_t len = sizeof(peer);
    assert_int_equal(zsock_getpeername(c, SA(peer), &len), 0);
    assert_memory_equal(&peer.sin6_addr, &dest.sin6_addr, 16);
    zsock_close(c);
    proxy_join(&p);
#else
    skip();
#endif
}

/* ---- the option
 * -------------------------------------------------------------------------------------- */

static void test_option_errors(void **state)
{
    (void)state;
    int c = zsock_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = v4(0x7f000001u, 1080);
    struct sockaddr_in out;
    socklen_t len = sizeof(out);
    /* Unset: an empty value. */
    assert_int_equal(zsock_getsockopt(c, SOL_SOCKET, SO_SOCKS5, &out, &len), 0);
    assert_int_equal(len, 0);
    expect_errno(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a) - 1), EINVAL);
    struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = htons(1080)};
    expect_errno(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &six, sizeof(six)), EINVAL);
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), 0);
    len = sizeof(out) - 1;
    expect_errno(zsock_getsockopt(c, SOL_SOCKET, SO_SOCKS5, &out, &len), EINVAL);
    len = sizeof(out);
    assert_int_equal(zsock_getsockopt(c, SOL_SOCKET, SO_SOCKS5, &out, &len), 0);
    assert_int_equal(len, sizeof(out));
    assert_memory_equal(&out, &a, sizeof(a));
    /* An empty value forgets it. */
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, NULL, 0), 0);
    len = sizeof(out);
    assert_int_equal(zsock_getsockopt(c, SOL_SOCKET, SO_SOCKS5, &out, &len), 0);
    assert_int_equal(len, 0);
    /* Not on a listener, nor once connected directly. */
    uint16_t port;
    int l = dest_listener(AF_INET, &port);
    expect_errno(zsock_setsockopt(l, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), EINVAL);
    struct sockaddr_in d = v4(0x7f000001u, port);
    assert_int_equal(zsock_connect(c, SA(d), sizeof(d)), 0);
    expect_errno(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), EISCONN);
    zsock_close(c);
    zsock_close(l);
    /* UDP: no UDP ASSOCIATE. */
    int u = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    expect_errno(zsock_setsockopt(u, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), ENOPROTOOPT);
    len = sizeof(out);
    expect_errno(zsock_getsockopt(u, SOL_SOCKET, SO_SOCKS5, &out, &len), ENOPROTOOPT);
    zsock_close(u);
#ifdef CONFIG_NET_SOCKETS_ENABLE_DTLS
    int dt = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2);
    expect_errno(zsock_setsockopt(dt, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), ENOPROTOOPT);
    zsock_close(dt);
#endif
#if CONFIG_NET_IPV6
    /* An AF_INET6 socket takes sockaddr_in6 (a mapped proxy address too). */
    int c6 = zsock_socket(AF_INET6, SOCK_STREAM, 0);
    expect_errno(zsock_setsockopt(c6, SOL_SOCKET, SO_SOCKS5, &a, sizeof(a)), EINVAL);
    struct sockaddr_in6 m = v6("::ffff:127.0.0.1", 1080);
    assert_int_equal(zsock_setsockopt(c6, SOL_SOCKET, SO_SOCKS5, &m, sizeof(m)), 0);
    struct sockaddr_in6 back;
    len = sizeof(back);
    assert_int_equal(zsock_getsockopt(c6, SOL_SOCKET, SO_SOCKS5, &back, &len), 0);
    assert_int_equal(len, sizeof(back));
    assert_memory_equal(&back.sin6_addr, &m.sin6_addr, 16);
    zsock_close(c6);
#endif
}

/* ---- TLS through the proxy
 * -------------------------------------------------------------------------- */

#ifdef CONFIG_NET_SOCKETS_SOCKOPT_TLS
#include <zsock/tls_credentials.h>

#include "unit/test_tls_util.h"

#define TAG_CA  7101
#define TAG_SRV 7102

struct tls_srv {
    int lfd;
    int rc;
};

static void *tls_srv_main(void *arg)
{
    struct tls_srv *t = arg;
    int s = zsock_accept(t->lfd, NULL, NULL);
    t->rc = -1;
    if (s >= 0) {
        char buf[32];
        ssize_t n = zsock_recv(s, buf, sizeof(buf), 0);
        if (n > 0) {
            t->rc = (int)zsock_send(s, buf, (size_t)n, 0);
        }
        zsock_close(s);
    }
    return NULL;
}

static void test_tls_through_proxy(void **state)
{
    (void)state;
    add_file(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt");
    add_file(TAG_SRV, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-ec.crt");
    add_file(TAG_SRV, TLS_CREDENTIAL_PRIVATE_KEY, "server-ec.key");
    struct tls_srv t = {.lfd = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2)};
    assert_true(t.lfd >= 0);
    sec_tag_t srv_tags[] = {TAG_SRV};
    assert_int_equal(zsock_setsockopt(t.lfd, SOL_TLS, TLS_SEC_TAG_LIST, srv_tags, sizeof(srv_tags)),
                     0);
    struct sockaddr_in a = lo(0);
    assert_int_equal(zsock_bind(t.lfd, SA(a), sizeof(a)), 0);
    assert_int_equal(zsock_listen(t.lfd, 2), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(zsock_getsockname(t.lfd, SA(a), &len), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tls_srv_main, &t), 0);

    struct proxy p = answering(OK4, sizeof(OK4), AFTER_RELAY, NULL);
    proxy_start(&p, AF_INET);
    int c = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2);
    assert_true(c >= 0);
    struct sockaddr_in proxy = lo(p.port);
    /* Forwarded to the TCP socket under the TLS one, and read back. */
    assert_int_equal(zsock_setsockopt(c, SOL_SOCKET, SO_SOCKS5, &proxy, sizeof(proxy)), 0);
    struct sockaddr_in back;
    len = sizeof(back);
    assert_int_equal(zsock_getsockopt(c, SOL_SOCKET, SO_SOCKS5, &back, &len), 0);
    assert_memory_equal(&back, &proxy, sizeof(proxy));
    sec_tag_t cli_tags[] = {TAG_CA};
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_SEC_TAG_LIST, cli_tags, sizeof(cli_tags)), 0);
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_HOSTNAME, "localhost", 10), 0);
    set_timeo(c, SO_RCVTIMEO, WAIT_MS);
    assert_int_equal(zsock_connect(c, SA(a), sizeof(a)), 0);
    static const uint8_t head[] = {5, 1, 0, 1, 127, 0, 0, 1};
    assert_memory_equal(p.request, head, sizeof(head));
    struct sockaddr_in peer;
    len = sizeof(peer);
    assert_int_equal(zsock_getpeername(c, SA(peer), &len), 0);
    assert_int_equal(peer.sin_port, a.sin_port);
    send_full(c, "secret", 6);
    char buf[16];
    assert_int_equal(zsock_recv(c, buf, sizeof(buf), 0), 6);
    assert_memory_equal(buf, "secret", 6);
    zsock_close(c);
    pthread_join(th, NULL);
    assert_int_equal(t.rc, 6);
    zsock_close(t.lfd);
    proxy_join(&p);
    tls_credential_delete(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE);
    tls_credential_delete(TAG_SRV, TLS_CREDENTIAL_PUBLIC_CERTIFICATE);
    tls_credential_delete(TAG_SRV, TLS_CREDENTIAL_PRIVATE_KEY);
}
#endif

#define T(f) cmocka_unit_test_setup_teardown(f, fd_leak_setup, fd_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ipv4_echo),
        T(test_ipv6_relay),
        T(test_mapped_destination),
        T(test_reply_codes),
        T(test_methods),
        T(test_malformed_replies),
        T(test_proxy_closes),
        T(test_no_proxy_listening),
        T(test_silent_proxy_times_out),
        T(test_nonblocking_connect),
        T(test_nonblocking_failure),
        T(test_blocking_sndtimeo),
        T(test_retry_after_failure),
        T(test_mapped_proxy),
        T(test_option_errors),
#ifdef CONFIG_NET_SOCKETS_SOCKOPT_TLS
        T(test_tls_through_proxy),
#endif
    };
    return cmocka_run_group_tests_name("socks", tests, NULL, NULL);
}
