/* Fault injection (CONFIG_ZSOCK_FAULT_INJECTION, src/port/fault.h): real
 * scenarios run once per allocation, with that allocation failing (N = 1,
 * 2, 3... until a run completes with no failure injected), then with every
 * allocation failing from N on, and with random failures. Scenarios: UDP
 * datagrams, a TCP transfer with close and TLS handshakes (PSK, and an
 * ECDSA certificate verified by the client) and transfers, on a
 * virtual-clock stack's loopback; DNS resolution against a
 * scripted server on the default stack's loopback; two stacks on the
 * simulated segment, one leasing its address from the other by DHCP, with
 * IPv6 (DAD) and a datagram over it. For each run: nothing crashes, a call
 * fails with ENOMEM/ENOBUFS (or, at the peer, a consequence: EAGAIN,
 * ECONNRESET...) or succeeds, data that arrives is what was sent, nothing
 * leaks (descriptors, packet buffers, and LeakSanitizer under ASan) and
 * the same scenario works again once injection is off. Then link faults: a
 * TCP transfer over a corrupting link whose interfaces go down and up in
 * the middle arrives whole, and one whose link stays down fails with
 * ETIMEDOUT, cleanly. mbedTLS's own allocations are counted only where it
 * allocates through zsock (MBEDTLS_PLATFORM_MEMORY with static memory);
 * Debian's mbedTLS calls the C library's calloc, which is not failed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/dns.h>
#include <zsock/net_if.h>
#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include "net/net.h"
#include "net/sim.h"
#include "port/fault.h"
#include "sockets/fdtable.h"
#include "sockets/inet.h"
#include "tls/tls_internal.h"
#include "unit/test_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define SA(x)   ((struct sockaddr *)&(x))
#define MS      1000LL
#define SEC     1000000LL
#define LO      0x7f000001u
#define ADDR_A  0xc0000232u /* 192.0.2.50: what the DHCP server leases to A */
#define ADDR_B  0xc0000201u /* 192.0.2.1: B, the DHCP server */
#define TAG     7           /* PSK */
#define TAG_CA  8           /* the test PKI's CA (tests/tls/pki) */
#define TAG_SRV 9           /* server-ec.crt and its key */

/* Byte i of stream `id`: a lost, repeated or misplaced byte shows. */
static uint8_t pattern(uint32_t id, uint64_t i)
{
    uint64_t x = (i + (uint64_t)id * 0x10001u) * 0x9e3779b97f4a7c15ULL;
    return (uint8_t)(x >> 56 ^ i);
}

/* Only one allocation fails per run (sweep_nth): every scenario must then
 * complete or fail with an errno, never stall. With allocations failing for
 * good (from N on) a stalled transfer is expected and given up on. */
static bool strict;

/* Is err what a failed allocation may surface as, here or at the peer? */
static bool clean_errno(int err)
{
    switch (err) {
    case ENOMEM:
    case ENOBUFS:
    case EAGAIN:
    case ETIMEDOUT:
    case ECONNRESET:
    case ECONNABORTED:
    case ECONNREFUSED:
    case EPIPE:
    case ENOTCONN:
    case EMFILE:
        return true;
    default:
        return false;
    }
}

/* A scenario's verdict: 0 when it completed, else the errno of the first
 * call that failed (asserted clean). */
static int failed_with(int err, const char *what)
{
    if (!clean_errno(err)) {
        print_message("  %s failed with %s (%d)\n", what, strerror(err), err);
        fail_msg("not an errno a failed allocation may cause");
    }
    return err;
}

/* ---- the virtual-clock loopback stack ----------------------------------------------------------
 */

static struct z_stack *lo_stack;

static uint32_t pool_in_use(struct z_stack *s)
{
    z_mutex_lock(&s->pool.lock);
    uint32_t n = (uint32_t)s->pool.stats.in_use;
    z_mutex_unlock(&s->pool.lock);
    return n;
}

/* Virtual time between turns: 1 ms while something moves, growing to
 * 100 ms while nothing does (a retransmission timeout), so that waiting
 * costs few turns. */
static int64_t step_us = MS;

static void step(struct z_stack *s)
{
    z_stack_advance(s, step_us);
}

static void moved(bool yes)
{
    step_us = yes ? MS : step_us * 2 > 100 * MS ? 100 * MS : step_us * 2;
}

/* Everything a scenario left behind (TIME-WAIT, retransmissions) runs out. */
static void settle(struct z_stack *s)
{
    z_stack_advance(s, 300 * SEC);
}

static void close_all(int *fds, int n)
{
    for (int i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            zsock_close(fds[i]);
            fds[i] = -1;
        }
    }
}

/* UDP: eight datagrams (one larger than a pool buffer) from one socket to
 * another and back. A datagram the stack could not buffer is lost, as
 * UDP allows; one that arrives must be what was sent. */
static int scen_udp(void)
{
    int fd[2] = {-1, -1};
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        fd[i] = z_inet_socket_on(lo_stack, SOCK_DGRAM, 0, true);
        if (fd[i] < 0) {
            rc = failed_with(-fd[i], "socket");
            goto out;
        }
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)(7001 + i))};
        a.sin_addr.s_addr = htonl(LO);
        if (zsock_bind(fd[i], SA(a), sizeof(a)) != 0) {
            rc = failed_with(errno, "bind");
            goto out;
        }
    }
    static uint8_t buf[20000], in[20000];
    int got = 0;
    for (uint32_t k = 0; k < 8; k++) {
        size_t len = k == 3 ? sizeof(buf) : 100 + k * 100;
        for (size_t i = 0; i < len; i++) {
            buf[i] = pattern(k, i);
        }
        memcpy(buf, &k, sizeof(k));
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(7002)};
        to.sin_addr.s_addr = htonl(LO);
        ssize_t n = zsock_sendto(fd[0], buf, len, 0, SA(to), sizeof(to));
        if (n < 0) {
            rc = failed_with(errno, "sendto");
            continue;
        }
        assert_int_equal(n, (ssize_t)len);
        step(lo_stack);
        for (;;) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t r = zsock_recvfrom(fd[1], in, sizeof(in), 0, SA(from), &fl);
            if (r < 0) {
                assert_int_equal(errno, EAGAIN);
                break;
            }
            uint32_t id;
            memcpy(&id, in, sizeof(id));
            assert_true(id < 8);
            size_t want = id == 3 ? sizeof(buf) : 100 + id * 100;
            assert_int_equal(r, (ssize_t)want);
            for (size_t i = sizeof(id); i < want; i++) {
                assert_int_equal(in[i], pattern(id, i));
            }
            assert_int_equal(ntohs(from.sin_port), 7001);
            got++;
        }
    }
    if (rc == 0 && got != 8) {
        rc = EAGAIN; /* lost to a buffer the stack could not get */
    }
out:
    close_all(fd, 2);
    return rc;
}

/* A stream between two non-blocking sockets, both ways, to EOF. */
struct stream {
    int fd;
    uint32_t id;   /* pattern of what this end sends */
    size_t total;  /* bytes to send */
    size_t expect; /* bytes to receive */
    size_t sent, got;
    bool shut, eof;
};

/* One turn of one end: send what fits, shut down when all is sent, read
 * and check what came. 0, or the errno of a failed call. */
static int stream_turn(struct stream *e, uint32_t peer_id)
{
    uint8_t buf[8192];
    while (e->sent < e->total) {
        size_t n = e->total - e->sent < sizeof(buf) ? e->total - e->sent : sizeof(buf);
        for (size_t i = 0; i < n; i++) {
            buf[i] = pattern(e->id, e->sent + i);
        }
        ssize_t r = zsock_send(e->fd, buf, n, 0);
        if (r < 0) {
            if (errno == EAGAIN) {
                break;
            }
            return errno;
        }
        e->sent += (size_t)r;
    }
    if (e->sent == e->total && !e->shut) {
        if (zsock_shutdown(e->fd, ZSOCK_SHUT_WR) != 0) {
            if (errno == EAGAIN) {
                return 0; /* TLS: the close_notify did not fit yet */
            }
            return errno;
        }
        e->shut = true;
    }
    while (!e->eof) {
        ssize_t r = zsock_recv(e->fd, buf, sizeof(buf), 0);
        if (r < 0) {
            return errno == EAGAIN ? 0 : errno;
        }
        if (r == 0) {
            e->eof = true;
            break;
        }
        assert_true(e->got + (size_t)r <= e->expect);
        for (ssize_t i = 0; i < r; i++) {
            assert_int_equal(buf[i], pattern(peer_id, e->got + (size_t)i));
        }
        e->got += (size_t)r;
    }
    return 0;
}

/* Run both ends on the loopback stack until both saw EOF after all the
 * data, or one fails. A stall (no error, no progress for 10 minutes of
 * virtual time) fails the test: one failed allocation must not wedge a
 * connection. */
static int stream_run(struct stream *a, struct stream *b)
{
    a->expect = b->total;
    b->expect = a->total;
    size_t progress = 0;
    step_us = MS;
    int64_t t0 = z_stack_now_us(lo_stack);
    while (!(a->eof && b->eof)) {
        int e = stream_turn(a, b->id);
        if (e == 0) {
            e = stream_turn(b, a->id);
        }
        if (e != 0) {
            return failed_with(e, "stream");
        }
        size_t now = a->sent + a->got + b->sent + b->got + a->eof + b->eof;
        moved(now != progress);
        progress = now;
        if (z_stack_now_us(lo_stack) - t0 > (strict ? 600 : 120) * SEC) {
            if (!strict) {
                return ETIMEDOUT;
            }
            fail_msg("stream stalled: sent %zu/%zu got %zu/%zu", a->sent, b->sent, a->got, b->got);
        }
        step(lo_stack);
    }
    assert_int_equal(a->got, b->total);
    assert_int_equal(b->got, a->total);
    return 0;
}

/* A TCP connection on the loopback stack: fd[0] listener, fd[1] client,
 * fd[2] the accepted end. 0 or an errno. */
static int tcp_pair(int fd[3], uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(LO);
    fd[0] = z_inet_socket_on(lo_stack, SOCK_STREAM, 0, true);
    if (fd[0] < 0) {
        return failed_with(-fd[0], "socket");
    }
    int one = 1;
    zsock_setsockopt(fd[0], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (zsock_bind(fd[0], SA(a), sizeof(a)) != 0 || zsock_listen(fd[0], 4) != 0) {
        return failed_with(errno, "bind/listen");
    }
    fd[1] = z_inet_socket_on(lo_stack, SOCK_STREAM, 0, true);
    if (fd[1] < 0) {
        return failed_with(-fd[1], "socket");
    }
    if (zsock_connect(fd[1], SA(a), sizeof(a)) != 0 && errno != EINPROGRESS) {
        return failed_with(errno, "connect");
    }
    int64_t t0 = z_stack_now_us(lo_stack);
    step_us = MS;
    while ((fd[2] = zsock_accept(fd[0], NULL, NULL)) < 0) {
        if (errno != EAGAIN) {
            return failed_with(errno, "accept");
        }
        struct zsock_pollfd p = {.fd = fd[1], .events = ZSOCK_POLLOUT};
        zsock_poll(&p, 1, 0);
        if (p.revents & (ZSOCK_POLLERR | ZSOCK_POLLHUP)) {
            int err = 0;
            socklen_t el = sizeof(err);
            zsock_getsockopt(fd[1], SOL_SOCKET, SO_ERROR, &err, &el);
            return failed_with(err, "connect (SO_ERROR)");
        }
        if (z_stack_now_us(lo_stack) - t0 > (strict ? 600 : 120) * SEC) {
            if (!strict) {
                return ETIMEDOUT;
            }
            fail_msg("connection never established");
        }
        moved(false);
        step(lo_stack);
    }
    zsock_fcntl(fd[2], F_SETFL, O_NONBLOCK);
    return 0;
}

/* TCP: 128 KiB one way, 32 KiB the other, half-closes, close. */
static int scen_tcp(void)
{
    int fd[3] = {-1, -1, -1};
    int rc = tcp_pair(fd, 7010);
    if (rc == 0) {
        struct stream c = {.fd = fd[1], .id = 1, .total = 128 << 10};
        struct stream s = {.fd = fd[2], .id = 2, .total = 32 << 10};
        rc = stream_run(&c, &s);
    }
    close_all(fd, 3);
    return rc;
}

/* TLS 1.2 over such a connection, with a pre-shared key or with an ECDSA
 * certificate the client verifies (CA and name): handshake, 64 KiB each
 * way, close_notify both ways. */
static int tls_run(bool cert)
{
    int fd[3] = {-1, -1, -1};
    int t[2] = {-1, -1};
    int rc = tcp_pair(fd, 7020);
    for (int i = 0; rc == 0 && i < 2; i++) {
        t[i] = z_tls_wrap(fd[1 + i], IPPROTO_TLS_1_2, i == 1);
        if (t[i] < 0) {
            rc = failed_with(-t[i], "z_tls_wrap");
            break;
        }
        fd[1 + i] = -1; /* the TLS socket owns it now */
        sec_tag_t tag = !cert ? TAG : i == 0 ? TAG_CA : TAG_SRV;
        if (zsock_setsockopt(t[i], SOL_TLS, TLS_SEC_TAG_LIST, &tag, sizeof(tag)) != 0) {
            rc = failed_with(errno, "TLS_SEC_TAG_LIST");
            break;
        }
        if (cert && i == 0 &&
            zsock_setsockopt(t[0], SOL_TLS, TLS_HOSTNAME, "server.test", 12) != 0) {
            rc = failed_with(errno, "TLS_HOSTNAME");
            break;
        }
        zsock_fcntl(t[i], F_SETFL, O_NONBLOCK);
        /* shutdown() waits for queued records even on a non-blocking
         * socket, in real time: bounded here, as nobody advances the
         * virtual clock meanwhile. */
        struct zsock_timeval tv = {.tv_usec = 50000};
        zsock_setsockopt(t[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    int64_t t0 = z_stack_now_us(lo_stack);
    step_us = MS;
    for (bool done[2] = {false, false}; rc == 0 && !(done[0] && done[1]);) {
        for (int i = 0; i < 2; i++) {
            int r = done[i] ? 0 : z_tls_handshake(t[i]);
            if (r == 0) {
                done[i] = true;
            } else if (r != -EAGAIN) {
                rc = failed_with(-r, "handshake");
                break;
            }
        }
        if (z_stack_now_us(lo_stack) - t0 > (strict ? 600 : 120) * SEC) {
            if (!strict) {
                rc = ETIMEDOUT;
                break;
            }
            fail_msg("handshake stalled");
        }
        moved(false); /* the handshake's own progress is not visible here */
        step(lo_stack);
    }
    if (rc == 0) {
        struct stream c = {.fd = t[0], .id = 3, .total = 64 << 10};
        struct stream s = {.fd = t[1], .id = 4, .total = 64 << 10};
        rc = stream_run(&c, &s);
    }
    close_all(t, 2);
    close_all(fd, 3);
    return rc;
}

static int scen_tls(void)
{
    return tls_run(false);
}

static int scen_tls_cert(void)
{
    return tls_run(true);
}

/* ---- DNS against a scripted server on the default stack ----------------------------------------
 */

static struct {
    pthread_t th;
    int fd;
    atomic_bool stop;
} dns_srv;

/* Answers every A query with 192.0.2.7, whatever the name. Calls that fail
 * (injection reaches this server too: it runs on zsock) are skipped. */
static void *dns_main(void *arg)
{
    (void)arg;
    uint8_t q[512], a[600];
    while (!atomic_load(&dns_srv.stop)) {
        struct zsock_pollfd p = {.fd = dns_srv.fd, .events = ZSOCK_POLLIN};
        if (zsock_poll(&p, 1, 20) <= 0) {
            continue;
        }
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t n = zsock_recvfrom(dns_srv.fd, q, sizeof(q), 0, SA(from), &fl);
        if (n < 12 + 5) {
            continue;
        }
        /* The question ends after its name and type and class; what
         * follows (an EDNS record) is dropped. */
        size_t qend = 12;
        while (qend < (size_t)n && q[qend] != 0) {
            qend += 1u + q[qend];
        }
        qend += 5;
        if (qend > (size_t)n) {
            continue;
        }
        memcpy(a, q, qend);
        a[2] = 0x81; /* QR, RD */
        a[3] = 0x80; /* RA, NOERROR */
        a[6] = 0;
        a[7] = 1; /* one answer */
        a[8] = a[9] = a[10] = a[11] = 0;
        size_t len = qend;
        if (a[qend - 4] != 0 || a[qend - 3] != 1) {
            a[7] = 0; /* not an A question: no answer */
        } else {
            const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7};
            memcpy(a + len, rr, sizeof(rr));
            len += sizeof(rr);
        }
        zsock_sendto(dns_srv.fd, a, len, 0, SA(from), fl);
    }
    return NULL;
}

static int scen_dns(void)
{
    struct zsock_addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct zsock_addrinfo *res = NULL;
    int r = zsock_getaddrinfo("fault.test", "80", &hints, &res);
    if (r != 0) {
        /* Out of memory, or the query or its answer lost (timeouts). */
        if (r != DNS_EAI_MEMORY && r != DNS_EAI_AGAIN && r != DNS_EAI_FAIL &&
            !(r == DNS_EAI_SYSTEM && clean_errno(errno))) {
            fail_msg("getaddrinfo: %d (%s)", r, zsock_gai_strerror(r));
        }
        return r == DNS_EAI_MEMORY ? ENOMEM : EAGAIN;
    }
    assert_non_null(res);
    struct sockaddr_in *sin = (struct sockaddr_in *)res->ai_addr;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0xc0000207u);
    assert_int_equal(ntohs(sin->sin_port), 80);
    zsock_freeaddrinfo(res);
    return 0;
}

/* ---- two stacks on the simulated segment: DHCP, IPv6, a datagram -------------------------------
 */

/* The DHCP reply (OFFER or ACK) to a client message, or 0 bytes. */
static size_t dhcp_reply(const uint8_t *m, size_t n, uint8_t *out)
{
    if (n < 240 || m[0] != 1) {
        return 0;
    }
    int type = 0;
    for (size_t i = 240; i + 1 < n && m[i] != 255;) {
        if (m[i] == 0) {
            i++;
            continue;
        }
        if (m[i] == 53 && i + 2 < n) {
            type = m[i + 2];
        }
        i += 2u + m[i + 1];
    }
    if (type != 1 && type != 3) { /* DISCOVER, REQUEST */
        return 0;
    }
    memset(out, 0, 300);
    out[0] = 2; /* BOOTREPLY */
    out[1] = 1;
    out[2] = 6;
    memcpy(out + 4, m + 4, 4);   /* xid */
    memcpy(out + 10, m + 10, 2); /* flags */
    uint32_t yi = htonl(ADDR_A), si = htonl(ADDR_B), mask = htonl(0xffffff00u);
    memcpy(out + 16, &yi, 4);
    memcpy(out + 28, m + 28, 16); /* chaddr */
    const uint8_t magic[4] = {99, 130, 83, 99};
    memcpy(out + 236, magic, 4);
    uint8_t *o = out + 240;
    *o++ = 53, *o++ = 1, *o++ = type == 1 ? 2 : 5; /* OFFER, ACK */
    *o++ = 54, *o++ = 4, memcpy(o, &si, 4), o += 4;
    *o++ = 1, *o++ = 4, memcpy(o, &mask, 4), o += 4;
    *o++ = 51, *o++ = 4, *o++ = 0, *o++ = 0, *o++ = 0x0e, *o++ = 0x10; /* an hour */
    *o++ = 255;
    return (size_t)(o - out);
}

static int scen_sim(void)
{
    int rc = 0;
    int fd[3] = {-1, -1, -1};
    struct z_stack *st[2] = {NULL, NULL};
    struct z_netif *nif[2] = {NULL, NULL};
    struct z_simnet *net = z_simnet_create(0xfa017);
    if (net == NULL) {
        return ENOMEM;
    }
    for (int i = 0; i < 2; i++) {
        struct z_stack_config cfg = {.name = i ? "B" : "A", .virtual_clock = true};
        st[i] = z_stack_create(&cfg);
        const uint8_t mac[6] = {2, 0, 0, 0, 0xfa, (uint8_t)(i + 1)};
        nif[i] = st[i] != NULL ? z_simnet_attach(net, st[i], mac) : NULL;
        if (nif[i] == NULL) {
            rc = ENOMEM;
            goto out;
        }
    }
    /* B: a static address, the DHCP server's socket, 2001:db8::1. */
    const uint8_t v6[2][16] = {{0x20, 0x01, 0x0d, 0xb8, [15] = 2},
                               {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    for (int i = 0; i < 2; i++) {
        z_stack_lock(st[i]);
        int r = i == 1 ? z_netif_add_ipv4_locked(nif[1], ADDR_B, 0xffffff00u) : 0;
        if (r == 0) {
            r = z_ipv6_add_addr_locked(nif[i], v6[i], 64, ZSOCK_IPV6_ORIGIN_MANUAL, Z_ND_INFINITE,
                                       Z_ND_INFINITE);
        }
        /* A: the DHCP client. */
        if (r == 0 && i == 0) {
            r = z_dhcp4_start_locked(nif[0]);
        }
        z_stack_unlock(st[i]);
        if (r != 0) {
            rc = failed_with(-r, "interface set-up");
            goto out;
        }
    }
    fd[0] = z_inet_socket_on(st[1], SOCK_DGRAM, 0, true);
    if (fd[0] < 0) {
        rc = failed_with(-fd[0], "socket");
        goto out;
    }
    int one = 1;
    zsock_setsockopt(fd[0], SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
    struct sockaddr_in srv = {.sin_family = AF_INET, .sin_port = htons(67)};
    if (zsock_bind(fd[0], SA(srv), sizeof(srv)) != 0) {
        rc = failed_with(errno, "bind 67");
        goto out;
    }
    struct zsock_dhcp4_lease lease = {0};
    for (int t = 0; t < 600000 && lease.state != ZSOCK_DHCP4_BOUND; t += 10) {
        z_simnet_run(net, 10 * MS);
        uint8_t m[600], r[300];
        ssize_t n = zsock_recv(fd[0], m, sizeof(m), 0);
        size_t rl = n > 0 ? dhcp_reply(m, (size_t)n, r) : 0;
        if (rl > 0) {
            struct sockaddr_in bc = {.sin_family = AF_INET, .sin_port = htons(68)};
            bc.sin_addr.s_addr = htonl(0xffffffffu);
            zsock_sendto(fd[0], r, rl, 0, SA(bc), sizeof(bc)); /* lost if it fails: resent */
        }
        z_stack_lock(st[0]);
        z_dhcp4_get_locked(nif[0], &lease);
        z_stack_unlock(st[0]);
    }
    if (lease.state != ZSOCK_DHCP4_BOUND) {
        if (!strict) {
            rc = ETIMEDOUT;
            goto out;
        }
        fail_msg("no lease after 10 minutes of virtual time");
    }
    assert_int_equal(ntohl(lease.addr.s_addr), ADDR_A);
    /* IPv6: A sends B a datagram to 2001:db8::1 (DAD is long over), B
     * echoes it; resent each second until the echo comes. */
    for (int i = 0; i < 2; i++) {
        fd[1 + i] = z_inet_socket_fam_on(st[i], AF_INET6, SOCK_DGRAM, 0, true);
        if (fd[1 + i] < 0) {
            rc = failed_with(-fd[1 + i], "socket6");
            goto out;
        }
    }
    struct sockaddr_in6 b6 = {.sin6_family = AF_INET6, .sin6_port = htons(9)};
    memcpy(&b6.sin6_addr, v6[1], 16);
    if (zsock_bind(fd[2], SA(b6), sizeof(b6)) != 0) {
        rc = failed_with(errno, "bind6");
        goto out;
    }
    const char msg[] = "fault injection over IPv6";
    bool echoed = false;
    for (int t = 0; t < 600 && !echoed; t++) {
        if (zsock_sendto(fd[1], msg, sizeof(msg), 0, SA(b6), sizeof(b6)) < 0 &&
            !clean_errno(errno)) {
            fail_msg("sendto6: %s", strerror(errno));
        }
        for (int k = 0; k < 100 && !echoed; k++) {
            z_simnet_run(net, 10 * MS);
            char in[64];
            struct sockaddr_in6 from;
            socklen_t fl = sizeof(from);
            ssize_t n = zsock_recvfrom(fd[2], in, sizeof(in), 0, SA(from), &fl);
            if (n > 0) {
                assert_int_equal(n, sizeof(msg));
                assert_memory_equal(in, msg, sizeof(msg));
                zsock_sendto(fd[2], in, (size_t)n, 0, SA(from), fl);
            }
            n = zsock_recv(fd[1], in, sizeof(in), 0);
            if (n > 0) {
                assert_int_equal(n, sizeof(msg));
                assert_memory_equal(in, msg, sizeof(msg));
                echoed = true;
            }
        }
    }
    if (!echoed) {
        if (!strict) {
            rc = ETIMEDOUT;
            goto out;
        }
        fail_msg("no echo over IPv6");
    }
out:
    close_all(fd, 3);
    for (int i = 0; i < 2; i++) {
        if (st[i] != NULL) {
            z_stack_destroy(st[i]);
        }
    }
    z_simnet_destroy(net);
    return rc;
}

/* ---- the sweeps -------------------------------------------------------------------------------
 */

struct scenario {
    const char *name;
    int (*run)(void);
    struct z_stack *stack; /* whose pool must be back to empty, or NULL */
};

static int fd_base;

/* LeakSanitizer's look at the heap: a tenth of a second under ASan, so by
 * default once per sweep (ZSOCK_FAULT_LSAN_EACH=1: after every run, to find
 * the run that leaked). */
static bool lsan_each;

static void lsan_check(void)
{
#ifdef HAVE_LSAN
    assert_int_equal(__lsan_do_recoverable_leak_check(), 0);
#endif
}

/* Nothing left behind: descriptors, packet buffers, heap (LSan). */
static void check_clean(const struct scenario *sc)
{
    assert_int_equal(z_fd_count_open(), fd_base);
    if (sc->stack == lo_stack && lo_stack != NULL) {
        settle(lo_stack);
        assert_int_equal(pool_in_use(lo_stack), 0);
    } else if (sc->stack != NULL) {
        /* A real-clock stack: its core thread frees what is in flight. */
        for (int i = 0; i < 200 && pool_in_use(sc->stack) != 0; i++) {
            z_sleep_us(10 * MS);
        }
        assert_int_equal(pool_in_use(sc->stack), 0);
    }
    if (lsan_each) {
        lsan_check();
    }
}

static int max_n(void)
{
    const char *e = getenv("ZSOCK_FAULT_MAX_N");
    return e != NULL && *e != '\0' ? atoi(e) : 100000;
}

/* Fail allocation 1, then 2, ... until a run sees no failure. After each
 * failing run, the same scenario must succeed with injection off. */
static void sweep_nth(const struct scenario *sc)
{
    z_fault_arm_nth(0); /* count only */
    assert_int_equal(sc->run(), 0);
    check_clean(sc);
    uint64_t base = z_fault_count();
    int errs[256] = {0};
    int ok = 0, n;
    strict = true;
    for (n = 1; n <= max_n(); n++) {
        z_fault_arm_nth((uint64_t)n);
        int rc = sc->run();
        uint64_t inj = z_fault_injected();
        z_fault_disarm();
        check_clean(sc);
        if (inj == 0) {
            assert_int_equal(rc, 0);
            break;
        }
        if (rc == 0) {
            ok++;
        } else {
            errs[rc & 255]++;
        }
        assert_int_equal(sc->run(), 0); /* recovery */
        check_clean(sc);
    }
    strict = false;
    lsan_check();
    print_message("%s: %llu allocations; failed each of %d in turn: %d runs completed anyway",
                  sc->name, (unsigned long long)base, n - 1, ok);
    for (int e = 1; e < 256; e++) {
        if (errs[e] != 0) {
            print_message(", %d %s", errs[e], strerror(e));
        }
    }
    print_message("\n");
}

/* Every allocation failing from N on (memory exhausted for good), for a
 * spread of N; then random failures (1 in 20) under a few seeds. */
static void sweep_from_and_random(const struct scenario *sc, int from_runs, int seeds)
{
    z_fault_arm_nth(0);
    assert_int_equal(sc->run(), 0);
    check_clean(sc);
    uint64_t base = z_fault_count();
    uint64_t stride = base / (uint64_t)from_runs + 1;
    for (uint64_t n = 1; n <= base; n += stride) {
        z_fault_arm_from(n);
        sc->run();
        z_fault_disarm();
        check_clean(sc);
        assert_int_equal(sc->run(), 0);
        check_clean(sc);
    }
    for (int seed = 1; seed <= seeds; seed++) {
        z_fault_arm_random(50000, (uint64_t)seed);
        sc->run();
        z_fault_disarm();
        check_clean(sc);
        assert_int_equal(sc->run(), 0);
        check_clean(sc);
    }
    lsan_check();
}

static void run_all(const struct scenario *sc)
{
    sweep_nth(sc);
    sweep_from_and_random(sc, 20, 5);
}

static void test_udp(void **state)
{
    (void)state;
    run_all(&(struct scenario){"udp", scen_udp, lo_stack});
}

static void test_tcp(void **state)
{
    (void)state;
    run_all(&(struct scenario){"tcp", scen_tcp, lo_stack});
}

static void test_tls(void **state)
{
    (void)state;
    run_all(&(struct scenario){"tls-psk", scen_tls, lo_stack});
}

static void test_tls_cert(void **state)
{
    (void)state;
    run_all(&(struct scenario){"tls-cert", scen_tls_cert, lo_stack});
}

static void test_dns(void **state)
{
    (void)state;
    run_all(&(struct scenario){"dns", scen_dns, z_stack_default()});
}

static void test_sim_dhcp_ipv6(void **state)
{
    (void)state;
    run_all(&(struct scenario){"sim-dhcp-ipv6", scen_sim, NULL});
}

/* ---- link faults ------------------------------------------------------------------------------
 */

struct link {
    struct z_simnet *net;
    struct z_stack *a, *b;
    struct z_netif *ia, *ib;
    int l, c, s;
};

static void link_up(struct link *k, uint64_t seed)
{
    k->net = z_simnet_create(seed);
    assert_non_null(k->net);
    struct z_stack_config ca = {.name = "A", .virtual_clock = true};
    struct z_stack_config cb = {.name = "B", .virtual_clock = true};
    k->a = z_stack_create(&ca);
    k->b = z_stack_create(&cb);
    assert_non_null(k->a);
    assert_non_null(k->b);
    const uint8_t ma[6] = {2, 0, 0, 0, 0xfb, 1}, mb[6] = {2, 0, 0, 0, 0xfb, 2};
    k->ia = z_simnet_attach(k->net, k->a, ma);
    k->ib = z_simnet_attach(k->net, k->b, mb);
    z_stack_lock(k->a);
    z_netif_add_ipv4_locked(k->ia, ADDR_A, 0xffffff00u);
    z_stack_unlock(k->a);
    z_stack_lock(k->b);
    z_netif_add_ipv4_locked(k->ib, ADDR_B, 0xffffff00u);
    z_stack_unlock(k->b);
    struct sockaddr_in sb = {.sin_family = AF_INET, .sin_port = htons(5001)};
    sb.sin_addr.s_addr = htonl(ADDR_B);
    k->l = z_inet_socket_on(k->b, SOCK_STREAM, 0, true);
    assert_true(k->l >= 0);
    assert_int_equal(zsock_bind(k->l, SA(sb), sizeof(sb)), 0);
    assert_int_equal(zsock_listen(k->l, 1), 0);
    k->c = z_inet_socket_on(k->a, SOCK_STREAM, 0, true);
    assert_true(k->c >= 0);
    expect_errno(zsock_connect(k->c, SA(sb), sizeof(sb)), EINPROGRESS);
    k->s = -1;
    for (int i = 0; i < 60000 && k->s < 0; i++) {
        z_simnet_run(k->net, MS);
        k->s = zsock_accept(k->l, NULL, NULL);
    }
    assert_true(k->s >= 0);
    zsock_fcntl(k->s, F_SETFL, O_NONBLOCK);
}

static void set_if(struct z_stack *s, struct z_netif *nif, bool up)
{
    z_stack_lock(s);
    assert_int_equal(z_netif_set_up_locked(nif, up), 0);
    z_stack_unlock(s);
}

static void link_down_all(struct link *k)
{
    zsock_close(k->c);
    zsock_close(k->s);
    zsock_close(k->l);
    /* TIME-WAIT and any retransmission run out before the pools are read. */
    z_simnet_run(k->net, 300 * SEC);
    assert_int_equal(pool_in_use(k->a), 0);
    assert_int_equal(pool_in_use(k->b), 0);
    z_stack_destroy(k->a);
    z_stack_destroy(k->b);
    z_simnet_destroy(k->net);
    assert_int_equal(z_fd_count_open(), fd_base);
}

/* 4 MiB from A to B over a link that corrupts 1 % of frames (and loses,
 * duplicates and reorders some), with A's interface down for 3 s and B's
 * for 5 s during the transfer: every byte arrives, in order, and both ends
 * see a clean EOF. */
static void test_link_down_up_corrupt(void **state)
{
    (void)state;
    struct link k;
    link_up(&k, 0x11f0);
    struct z_sim_faults f = {.corrupt_ppm = 10000,
                             .loss_ppm = 2000,
                             .dup_ppm = 2000,
                             .reorder_ppm = 2000,
                             .delay_us = 500,
                             .rate_bps = 100000000};
    z_simnet_set_faults(k.net, &f);
    struct stream c = {.fd = k.c, .id = 5, .total = 4 << 20};
    struct stream s = {.fd = k.s, .id = 6, .total = 0, .expect = c.total};
    int64_t t0 = z_simnet_now(k.net);
    int phase = 0;
    while (!(c.eof && s.eof)) {
        assert_int_equal(stream_turn(&c, s.id), 0);
        assert_int_equal(stream_turn(&s, c.id), 0);
        /* Down once a quarter has arrived, up 3 s later; then B's. */
        int64_t now = z_simnet_now(k.net);
        static int64_t t_down;
        if (phase == 0 && s.got > c.total / 4) {
            set_if(k.a, k.ia, false), t_down = now, phase = 1;
        } else if (phase == 1 && now - t_down > 3 * SEC) {
            set_if(k.a, k.ia, true), phase = 2;
        } else if (phase == 2 && s.got > c.total / 2) {
            set_if(k.b, k.ib, false), t_down = now, phase = 3;
        } else if (phase == 3 && now - t_down > 5 * SEC) {
            set_if(k.b, k.ib, true), phase = 4;
        }
        assert_true(now - t0 < 3600 * SEC);
        z_simnet_run(k.net, MS);
    }
    assert_int_equal(phase, 4);
    assert_int_equal(s.got, c.total);
    struct z_sim_stats ss;
    z_simnet_stats(k.net, &ss);
    print_message("link: 4 MiB in %.1f s virtual, %llu frames corrupted, %llu lost\n",
                  (double)(z_simnet_now(k.net) - t0) / 1e6, (unsigned long long)ss.corrupted,
                  (unsigned long long)ss.lost);
    assert_true(ss.corrupted > 0);
    link_down_all(&k);
}

/* The link goes down for good mid-transfer: the sender gives up after its
 * retransmissions with ETIMEDOUT, the data that arrived is a correct
 * prefix, nothing leaks. */
static void test_link_stays_down(void **state)
{
    (void)state;
    struct link k;
    link_up(&k, 0x11f1);
    struct stream c = {.fd = k.c, .id = 7, .total = 4 << 20};
    struct stream s = {.fd = k.s, .id = 8, .total = 0, .expect = c.total};
    int err = 0;
    bool down = false;
    int64_t t0 = z_simnet_now(k.net);
    while (err == 0) {
        err = stream_turn(&c, s.id);
        if (err == 0 && !down) {
            assert_int_equal(stream_turn(&s, c.id), 0);
        }
        if (!down && s.got > c.total / 4) {
            set_if(k.a, k.ia, false);
            down = true;
        }
        if (down && err == 0) {
            z_simnet_run(k.net, 100 * MS);
            int e = 0;
            socklen_t el = sizeof(e);
            zsock_getsockopt(k.c, SOL_SOCKET, SO_ERROR, &e, &el);
            err = e;
        } else {
            z_simnet_run(k.net, MS);
        }
        assert_true(z_simnet_now(k.net) - t0 < 4 * 3600 * SEC);
    }
    assert_int_equal(err, ETIMEDOUT);
    assert_true(s.got < c.total);
    print_message("link down: ETIMEDOUT after %.0f s virtual, %zu bytes arrived intact\n",
                  (double)(z_simnet_now(k.net) - t0) / 1e6, s.got);
    link_down_all(&k);
}

/* ---- main -------------------------------------------------------------------------------------
 */

/* Add a PEM file of the test PKI (with its NUL, as mbedTLS wants). */
static int add_pem(sec_tag_t tag, enum tls_credential_type type, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TLS_PKI_DIR, name);
    FILE *f = fopen(path, "rb");
    static char buf[4][8192];
    static int used;
    if (f == NULL || used == 4) {
        return -1;
    }
    size_t n = fread(buf[used], 1, sizeof(buf[used]) - 1, f);
    fclose(f);
    buf[used][n] = '\0';
    return tls_credential_add(tag, type, buf[used++], n + 1);
}

static int group_setup(void **state)
{
    (void)state;
    static const char key[16] = "0123456789abcdef";
    static const char id[] = "fault-client";
    unsetenv("ZSOCK_DNS");
    if (zsock_net_init() != 0 ||
        tls_credential_add(TAG, TLS_CREDENTIAL_PSK, key, sizeof(key)) != 0 ||
        tls_credential_add(TAG, TLS_CREDENTIAL_PSK_ID, id, sizeof(id) - 1) != 0 ||
        add_pem(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt") != 0 ||
        add_pem(TAG_SRV, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-ec.crt") != 0 ||
        add_pem(TAG_SRV, TLS_CREDENTIAL_PRIVATE_KEY, "server-ec.key") != 0) {
        return -1;
    }
    struct z_stack_config cfg = {.name = "lo", .virtual_clock = true, .loopback = true};
    lo_stack = z_stack_create(&cfg);
    if (lo_stack == NULL) {
        return -1;
    }
    /* The DNS server, and the resolver asking it with short timeouts and
     * no cache, so each run queries. */
    dns_srv.fd = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5353)};
    a.sin_addr.s_addr = htonl(LO);
    if (dns_srv.fd < 0 || zsock_bind(dns_srv.fd, SA(a), sizeof(a)) != 0 ||
        zsock_dns_set_servers("127.0.0.1:5353") != 0 ||
        zsock_dns_set_options(
            &(struct zsock_dns_options){.timeout_ms = 100, .attempts = 3, .cache_max = -1}) != 0 ||
        pthread_create(&dns_srv.th, NULL, dns_main, NULL) != 0) {
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    atomic_store(&dns_srv.stop, true);
    pthread_join(dns_srv.th, NULL);
    zsock_close(dns_srv.fd);
    z_stack_destroy(lo_stack);
    tls_credential_delete(TAG, TLS_CREDENTIAL_PSK);
    tls_credential_delete(TAG, TLS_CREDENTIAL_PSK_ID);
    tls_credential_delete(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE);
    tls_credential_delete(TAG_SRV, TLS_CREDENTIAL_PUBLIC_CERTIFICATE);
    tls_credential_delete(TAG_SRV, TLS_CREDENTIAL_PRIVATE_KEY);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    strict = false;
    fd_base = z_fd_count_open();
    return 0;
}

/* A failed test closes what it left open, so the next one starts clean. */
static int teardown(void **state)
{
    (void)state;
    z_fault_disarm();
    for (int fd = 0; fd < ZSOCK_FD_SETSIZE && z_fd_count_open() > fd_base; fd++) {
        if (fd != dns_srv.fd) {
            zsock_close(fd);
        }
    }
    return 0;
}

int main(void)
{
    /* ZSOCK_FAULT_TESTS: run only the tests whose names match (a glob). */
    const char *each = getenv("ZSOCK_FAULT_LSAN_EACH");
    lsan_each = each != NULL && *each == '1';
    const char *only = getenv("ZSOCK_FAULT_TESTS");
    if (only != NULL && *only != '\0') {
        cmocka_set_test_filter(only);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_udp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_cert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sim_dhcp_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down_up_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_stays_down, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
