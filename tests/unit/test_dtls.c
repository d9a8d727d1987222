/* DTLS sockets over the in-process loopback (127.0.0.1): certificate and
 * PSK handshakes, 10,000 datagrams echoed and checked, record boundaries
 * and MSG_TRUNC, several clients on one server socket, a client that
 * vanishes (its session expires, the others go on), non-blocking handshakes
 * driven by poll, retransmission against a silent server, session
 * resumption, options; hostile input through a relay the test controls
 * (ClientHellos without cookies, replayed, damaged, truncated and garbage
 * datagrams); and a handshake plus data over a simulated link with 10 %
 * loss and reordering (virtual clock). Credentials from tests/tls/pki. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include "net/sim.h"
#include "sockets/inet.h"
#include "tls/tls_internal.h"
#include "unit/test_sim_pair.h"
#include "unit/test_tls_util.h"
#include "unit/test_util.h"

#define SA(x) ((struct sockaddr *)&(x))

enum {
    TAG_CA = 1,
    TAG_SRV = 10,
    TAG_PSK = 30,
};

/* ---- credentials
 * -------------------------------------------------------------------------------- */

static int setup_creds(void **state)
{
    (void)state;
    add_file(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt");
    add_file(TAG_SRV, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-rsa.crt");
    add_file(TAG_SRV, TLS_CREDENTIAL_PRIVATE_KEY, "server-rsa.key");
    add_file(TAG_PSK, TLS_CREDENTIAL_PSK, "psk.bin");
    add_file(TAG_PSK, TLS_CREDENTIAL_PSK_ID, "psk_id.txt");
    return 0;
}

/* ---- helpers
 * ------------------------------------------------------------------------------------ */

static uint16_t port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    assert_int_equal(zsock_getsockname(fd, SA(a), &len), 0);
    return ntohs(a.sin_port);
}

static void set_tag(int fd, sec_tag_t tag)
{
    assert_int_equal(zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, &tag, sizeof(tag)), 0);
}

static void set_hs_timeouts(int fd, uint32_t min, uint32_t max)
{
    assert_int_equal(zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MIN, &min, 4), 0);
    assert_int_equal(zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MAX, &max, 4), 0);
}

static struct z_dtls_stats stats(int fd)
{
    struct z_dtls_stats st;
    assert_int_equal(z_dtls_get_stats(fd, &st), 0);
    return st;
}

/* A DTLS server socket on 127.0.0.1 (a port of the stack's choice) with
 * credentials `tag`. */
static int server_new(sec_tag_t tag)
{
    int s = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2);
    assert_true(s >= 0);
    set_tag(s, tag);
    set_int(s, SOL_TLS, TLS_DTLS_ROLE, TLS_DTLS_ROLE_SERVER);
    struct sockaddr_in a = lo(0);
    assert_int_equal(zsock_bind(s, SA(a), sizeof(a)), 0);
    return s;
}

/* A DTLS client socket, not connected: certificates (trusting the test CA,
 * expecting "server.test") or PSK. */
static int client_new(bool psk)
{
    int c = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2);
    assert_true(c >= 0);
    set_tag(c, psk ? TAG_PSK : TAG_CA);
    if (!psk) {
        assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_HOSTNAME, "server.test", 12), 0);
    }
    set_timeo(c, SO_RCVTIMEO, 20000);
    set_timeo(c, SO_SNDTIMEO, 20000);
    return c;
}

/* An echo server in a thread: every record goes back to its sender. */
struct echo_srv {
    int fd;
    uint16_t port;
    pthread_t th;
    atomic_bool stop;
    atomic_long echoed;
};

static void *echo_main(void *arg)
{
    struct echo_srv *e = arg;
    static unsigned char buf[20000];
    while (!atomic_load(&e->stop)) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        ssize_t n = zsock_recvfrom(e->fd, buf, sizeof(buf), 0, SA(from), &fl);
        if (n < 0) {
            continue; /* EAGAIN after SO_RCVTIMEO: look at `stop` */
        }
        if (zsock_sendto(e->fd, buf, (size_t)n, 0, SA(from), fl) == n) {
            atomic_fetch_add(&e->echoed, 1);
        }
    }
    return NULL;
}

static void echo_start(struct echo_srv *e, sec_tag_t tag)
{
    memset(e, 0, sizeof(*e));
    e->fd = server_new(tag);
    e->port = port_of(e->fd);
    set_timeo(e->fd, SO_RCVTIMEO, 50);
    assert_int_equal(pthread_create(&e->th, NULL, echo_main, e), 0);
}

static void echo_stop(struct echo_srv *e)
{
    atomic_store(&e->stop, true);
    pthread_join(e->th, NULL);
    zsock_close(e->fd);
}

static int connect_to(int c, uint16_t port)
{
    struct sockaddr_in a = lo(port);
    return zsock_connect(c, SA(a), sizeof(a));
}

/* Datagram `seq` of `len` bytes: its number, then a pattern of both. */
static void fill(unsigned char *b, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        b[i] = (unsigned char)(i < 4 ? seq >> (8 * i) : (i * 31 + seq * 7) >> 3);
    }
}

static void echo_check(int c, size_t len, uint32_t seq)
{
    static unsigned char out[20000], in[20000];
    fill(out, len, seq);
    assert_int_equal(zsock_send(c, out, len, 0), (ssize_t)len);
    ssize_t n = zsock_recv(c, in, sizeof(in), 0);
    if (n != (ssize_t)len) {
        fail_msg("datagram %u: recv %zd (%s), expected %zu", seq, n, n < 0 ? strerror(errno) : "",
                 len);
    }
    assert_memory_equal(in, out, len);
}

/* ---- handshakes and data
 * -------------------------------------------------------------------- */

static void test_cert_handshake_10000_datagrams(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    int c = client_new(false);
    assert_int_equal(connect_to(c, e.port), 0);
    assert_int_equal(get_int(c, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    assert_int_equal(get_int(c, SOL_SOCKET, SO_PROTOCOL), IPPROTO_DTLS_1_2);
    assert_true(get_int(c, SOL_TLS, TLS_CIPHERSUITE_USED) > 0);
    struct z_tls_info info;
    assert_int_equal(z_tls_get_info(c, &info), 0);
    assert_true(info.handshake_done);
    assert_string_equal(info.version, "DTLSv1.2");
    assert_int_equal(info.verify_result, 0);
    uint32_t x = 7;
    for (uint32_t i = 0; i < 10000; i++) {
        x = x * 1103515245u + 12345u;
        echo_check(c, 4 + (x >> 8) % 1400, i);
    }
    /* The largest record: one 16 KiB datagram where IP fragments (or a
     * loopback MTU that large) and large buffers carry it. Where they do not
     * (the embedded limits), the stack refuses it with EMSGSIZE: the sender
     * is told, the session sends smaller datagrams from then on, and goes
     * on. */
    static unsigned char big[16384];
    fill(big, sizeof(big), 10000);
    ssize_t bn = zsock_send(c, big, sizeof(big), 0);
#if CONFIG_NET_IPV4_FRAGMENT && CONFIG_NET_PBUF_HEAP_BYTES > 0
    assert_int_equal(bn, (ssize_t)sizeof(big));
#endif
    if (bn == (ssize_t)sizeof(big)) {
        static unsigned char in[sizeof(big)];
        assert_int_equal(zsock_recv(c, in, sizeof(in), 0), (ssize_t)sizeof(big));
        assert_memory_equal(in, big, sizeof(big));
    } else {
        assert_int_equal(errno, EMSGSIZE);
        assert_true(stats(c).tx_mtu_shrunk >= 1);
        echo_check(c, 1000, 10000);
    }
    struct z_dtls_stats st = stats(e.fd), srv_st = st;
    (void)srv_st;
    assert_int_equal(st.sessions, 1);
    assert_int_equal(st.sessions_created, 1);
    assert_int_equal(st.hello_verify, 1); /* the client's first ClientHello */
    assert_int_equal(st.rx_bad_mac + st.rx_replay + st.rx_malformed + st.rx_invalid, 0);
    zsock_close(c);
    echo_stop(&e);
    assert_int_equal(atomic_load(&e.echoed), 10001); /* each once */
#if !CONFIG_NET_IPV4_FRAGMENT && CONFIG_NET_LOOPBACK_MTU < 2048
    /* The server's certificate flight is larger than one datagram: it went
     * again in smaller ones. */
    assert_true(srv_st.tx_mtu_shrunk >= 1);
#endif
}

static void test_psk_handshake(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_PSK);
    int c = client_new(true);
    assert_int_equal(connect_to(c, e.port), 0);
    int suite = get_int(c, SOL_TLS, TLS_CIPHERSUITE_USED);
    const mbedtls_ssl_ciphersuite_t *cs = mbedtls_ssl_ciphersuite_from_id(suite);
    assert_non_null(cs);
    assert_true(mbedtls_ssl_ciphersuite_uses_psk(cs));
    for (uint32_t i = 0; i < 100; i++) {
        echo_check(c, 1 + i * 10, i);
    }
    zsock_close(c);
    echo_stop(&e);
}

static void test_boundaries_and_trunc(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    int c = client_new(false);
    assert_int_equal(connect_to(c, e.port), 0);
    unsigned char out[3][600], in[600];
    size_t lens[3] = {100, 1, 500};
    for (int i = 0; i < 3; i++) {
        fill(out[i], lens[i], (uint32_t)i);
        assert_int_equal(zsock_send(c, out[i], lens[i], 0), (ssize_t)lens[i]);
    }
    /* The first, peeked, then read truncated: the rest of it is gone. */
    assert_int_equal(zsock_recv(c, in, 10, ZSOCK_MSG_PEEK), 10);
    assert_memory_equal(in, out[0], 10);
    struct iovec v = {.iov_base = in, .iov_len = 50};
    struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
    assert_int_equal(zsock_recvmsg(c, &m, 0), 50);
    assert_true(m.msg_flags & ZSOCK_MSG_TRUNC);
    assert_memory_equal(in, out[0], 50);
    /* The second whole, the third with MSG_TRUNC: its real length. */
    assert_int_equal(zsock_recvmsg(c, &m, 0), 1);
    assert_false(m.msg_flags & ZSOCK_MSG_TRUNC);
    assert_int_equal(in[0], out[1][0]);
    assert_int_equal(zsock_recv(c, in, 20, ZSOCK_MSG_TRUNC), 500);
    assert_memory_equal(in, out[2], 20);
    /* Nothing more; a record larger than any DTLS record cannot be sent. */
    expect_errno(zsock_recv(c, in, sizeof(in), ZSOCK_MSG_DONTWAIT), EAGAIN);
    static unsigned char big[16385];
    expect_errno(zsock_send(c, big, sizeof(big), 0), EMSGSIZE);
    /* Gathered from several vectors into one record. */
    struct iovec gv[3] = {{out[0], 10}, {out[1], 1}, {out[2], 5}};
    struct msghdr gm = {.msg_iov = gv, .msg_iovlen = 3};
    assert_int_equal(zsock_sendmsg(c, &gm, 0), 16);
    assert_int_equal(zsock_recv(c, in, sizeof(in), 0), 16);
    assert_memory_equal(in, out[0], 10);
    assert_memory_equal(in + 11, out[2], 5);
    zsock_close(c);
    echo_stop(&e);
}

static void test_several_clients_one_server(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    enum { N = 6 };
    int c[N];
    for (int i = 0; i < N; i++) {
        c[i] = client_new(i % 2 == 1 && false);
        set_int(c[i], SOL_TLS, TLS_DTLS_HANDSHAKE_ON_CONNECT, 0);
        assert_int_equal(connect_to(c[i], e.port), 0);
        zsock_fcntl(c[i], F_SETFL, O_NONBLOCK);
    }
    /* All handshakes at once, interleaved, driven by poll. */
    int done = 0;
    int64_t t0 = mono_us();
    while (done < N && mono_us() - t0 < 20000000) {
        struct zsock_pollfd p[N];
        for (int i = 0; i < N; i++) {
            p[i] = (struct zsock_pollfd){.fd = c[i], .events = ZSOCK_POLLOUT};
        }
        assert_true(zsock_poll(p, N, 1000) >= 0);
        done = 0;
        for (int i = 0; i < N; i++) {
            assert_false(p[i].revents & ZSOCK_POLLERR);
            done += (p[i].revents & ZSOCK_POLLOUT) != 0;
        }
    }
    assert_int_equal(done, N);
    for (int i = 0; i < N; i++) {
        zsock_fcntl(c[i], F_SETFL, 0);
    }
    /* Each gets its own records back, whatever the order of sending. */
    for (uint32_t round = 0; round < 50; round++) {
        unsigned char out[N][300], in[400];
        for (int i = 0; i < N; i++) {
            fill(out[i], 50 + (size_t)i * 40, round * N + (uint32_t)i);
            assert_int_equal(zsock_send(c[i], out[i], 50 + (size_t)i * 40, 0),
                             50 + (ssize_t)i * 40);
        }
        for (int i = N - 1; i >= 0; i--) {
            assert_int_equal(zsock_recv(c[i], in, sizeof(in), 0), 50 + (ssize_t)i * 40);
            assert_memory_equal(in, out[i], 50 + (size_t)i * 40);
        }
    }
    struct z_dtls_stats st = stats(e.fd);
    assert_int_equal(st.sessions, N);
    assert_int_equal(st.sessions_created, N);
    for (int i = 0; i < N; i++) {
        zsock_close(c[i]);
    }
    echo_stop(&e);
}

/* ---- a relay between one client and the server
 * ------------------------------------------------ */

/* The client connects to the relay's port; the relay forwards both ways
 * from its own socket (so the server sees the relay's address), remembers
 * the last datagram the client sent, and can stop forwarding. */
struct relay {
    int front, back; /* client side, server side (plain UDP) */
    uint16_t port, srv_port;
    struct sockaddr_storage client;
    socklen_t clientlen;
    pthread_t th;
    atomic_bool stop, blackhole;
    atomic_int drop_from_client; /* datagrams from the client still to drop */
    pthread_mutex_t mu;
    unsigned char first[2048], last[20000];
    size_t first_len, last_len;
    atomic_int from_client;
};

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    static unsigned char buf[20000];
    while (!atomic_load(&r->stop)) {
        struct zsock_pollfd p[2] = {{.fd = r->front, .events = ZSOCK_POLLIN},
                                    {.fd = r->back, .events = ZSOCK_POLLIN}};
        if (zsock_poll(p, 2, 20) <= 0) {
            continue;
        }
        if (p[0].revents & ZSOCK_POLLIN) {
            struct sockaddr_storage from;
            socklen_t fl = sizeof(from);
            ssize_t n = zsock_recvfrom(r->front, buf, sizeof(buf), 0, SA(from), &fl);
            if (n > 0) {
                pthread_mutex_lock(&r->mu);
                memcpy(&r->client, &from, fl);
                r->clientlen = fl;
                if (r->first_len == 0 && (size_t)n <= sizeof(r->first)) {
                    memcpy(r->first, buf, (size_t)n);
                    r->first_len = (size_t)n;
                }
                memcpy(r->last, buf, (size_t)n);
                r->last_len = (size_t)n;
                pthread_mutex_unlock(&r->mu);
                atomic_fetch_add(&r->from_client, 1);
                if (atomic_load(&r->drop_from_client) > 0) {
                    atomic_fetch_sub(&r->drop_from_client, 1);
                } else if (!atomic_load(&r->blackhole)) {
                    zsock_send(r->back, buf, (size_t)n, 0);
                }
            }
        }
        if (p[1].revents & ZSOCK_POLLIN) {
            ssize_t n = zsock_recv(r->back, buf, sizeof(buf), 0);
            pthread_mutex_lock(&r->mu);
            if (n > 0 && r->clientlen > 0 && !atomic_load(&r->blackhole)) {
                zsock_sendto(r->front, buf, (size_t)n, 0, SA(r->client), r->clientlen);
            }
            pthread_mutex_unlock(&r->mu);
        }
    }
    return NULL;
}

static void relay_start(struct relay *r, uint16_t srv_port)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    r->front = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    r->back = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    struct sockaddr_in a = lo(0);
    assert_int_equal(zsock_bind(r->front, SA(a), sizeof(a)), 0);
    r->port = port_of(r->front);
    struct sockaddr_in s = lo(srv_port);
    assert_int_equal(zsock_connect(r->back, SA(s), sizeof(s)), 0);
    r->srv_port = srv_port;
    assert_int_equal(pthread_create(&r->th, NULL, relay_main, r), 0);
}

/* Send `len` bytes of `d` to the server from the relay's address. */
static void relay_inject(struct relay *r, const void *d, size_t len)
{
    assert_int_equal(zsock_send(r->back, d, len, 0), (ssize_t)len);
}

static void relay_stop(struct relay *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->th, NULL);
    zsock_close(r->front);
    zsock_close(r->back);
    pthread_mutex_destroy(&r->mu);
}

/* Wait (up to 5 s) until the server's counter `field` reaches `v`. */
#define WAIT_STAT(fd, field, v)                                                                    \
    do {                                                                                           \
        int64_t t0_ = mono_us();                                                                   \
        while (stats(fd).field < (v) && mono_us() - t0_ < 5000000) {                               \
            sleep_ms(5);                                                                           \
        }                                                                                          \
        assert_int_equal(stats(fd).field, (v));                                                    \
    } while (0)

static void test_client_vanishes_session_expires(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    assert_int_equal(z_dtls_set_limits(e.fd, 4, 300), 0);
    struct relay r;
    relay_start(&r, e.port);
    int a = client_new(false), b = client_new(false);
    assert_int_equal(connect_to(a, r.port), 0); /* through the relay */
    assert_int_equal(connect_to(b, e.port), 0);
    echo_check(a, 100, 1);
    echo_check(b, 100, 2);
    assert_int_equal(stats(e.fd).sessions, 2);
    /* a vanishes: nothing of it reaches the server any more, not even
     * its close_notify. b keeps talking; a's session expires alone. */
    atomic_store(&r.blackhole, true);
    zsock_close(a);
    for (uint32_t i = 0; i < 10; i++) {
        echo_check(b, 200, 100 + i);
        sleep_ms(20);
    }
    WAIT_STAT(e.fd, sessions_expired, 1);
    echo_check(b, 300, 1000);
    struct z_dtls_stats st = stats(e.fd);
    assert_int_equal(st.sessions, 1);
    assert_int_equal(st.sessions_closed, 0);
    zsock_close(b);
    WAIT_STAT(e.fd, sessions_closed, 1); /* b's close_notify */
    relay_stop(&r);
    echo_stop(&e);
}

static void test_hostile_input(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    struct relay r;
    relay_start(&r, e.port);
    int a = client_new(false), b = client_new(false);
    assert_int_equal(connect_to(a, r.port), 0);
    assert_int_equal(connect_to(b, e.port), 0);
    echo_check(a, 64, 1);
    echo_check(b, 64, 2);
    struct z_dtls_stats st0 = stats(e.fd);

    /* A ClientHello without a cookie (a's first one, captured), 100 times
     * from another address: answered with a HelloVerifyRequest each time,
     * no session. */
    pthread_mutex_lock(&r.mu);
    unsigned char hello[2048];
    size_t hello_len = r.first_len;
    memcpy(hello, r.first, hello_len);
    unsigned char rec[20000];
    size_t rec_len = r.last_len; /* a's last record (application data) */
    memcpy(rec, r.last, rec_len);
    pthread_mutex_unlock(&r.mu);
    assert_true(hello_len > 13 && hello[0] == 22 && hello[13] == 1);
    int raw = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    struct sockaddr_in sa = lo(e.port);
    assert_int_equal(zsock_connect(raw, SA(sa), sizeof(sa)), 0);
    set_timeo(raw, SO_RCVTIMEO, 5000);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(zsock_send(raw, hello, hello_len, 0), (ssize_t)hello_len);
        unsigned char hvr[512];
        ssize_t n = zsock_recv(raw, hvr, sizeof(hvr), 0);
        assert_true(n > 13 + 12);
        assert_int_equal(hvr[0], 22); /* handshake */
        assert_int_equal(hvr[13], 3); /* hello_verify_request */
    }
    struct z_dtls_stats st = stats(e.fd);
    assert_int_equal(st.hello_verify - st0.hello_verify, 100);
    assert_int_equal(st.sessions, 2);
    assert_int_equal(st.sessions_created, 2);

    /* From an unknown address: garbage and a truncated ClientHello (their
     * records do not fit), a record that is no ClientHello. */
    assert_true(rec_len > 13 && rec[0] == 23);
    unsigned char junk[300];
    for (size_t i = 0; i < sizeof(junk); i++) {
        junk[i] = (unsigned char)(i * 7 + 3);
    }
    assert_int_equal(zsock_send(raw, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
    assert_int_equal(zsock_send(raw, hello, 20, 0), 20);
    assert_int_equal(zsock_send(raw, rec, rec_len, 0), (ssize_t)rec_len);
    WAIT_STAT(e.fd, rx_invalid, st0.rx_invalid + 1);

    /* From a's address: its last record replayed, the record damaged,
     * truncated, and garbage. */
    relay_inject(&r, rec, rec_len);
    WAIT_STAT(e.fd, rx_replay, st0.rx_replay + 1);
    unsigned char bad[20000];
    memcpy(bad, rec, rec_len);
    bad[5] ^= 0x01; /* a sequence number never seen: not a replay */
    bad[rec_len - 1] ^= 0x01;
    relay_inject(&r, bad, rec_len);
    WAIT_STAT(e.fd, rx_bad_mac, st0.rx_bad_mac + 1);
    relay_inject(&r, rec, rec_len - 5);
    relay_inject(&r, junk, sizeof(junk));
    relay_inject(&r, junk, 5);
    WAIT_STAT(e.fd, rx_malformed, st0.rx_malformed + 5); /* 3 here, 2 from `raw` */

    /* None of it came back as an echo, and both sessions go on. */
    unsigned char in[64];
    expect_errno(zsock_recv(a, in, sizeof(in), ZSOCK_MSG_DONTWAIT), EAGAIN);
    echo_check(a, 64, 3);
    echo_check(b, 64, 4);
    st = stats(e.fd);
    assert_int_equal(st.sessions, 2);
    assert_int_equal(st.sessions_created, 2);
    assert_int_equal(st.hs_failed, 0);
    zsock_close(raw);
    zsock_close(a);
    zsock_close(b);
    relay_stop(&r);
    echo_stop(&e);
}

static void test_session_table_full(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    assert_int_equal(z_dtls_set_limits(e.fd, 2, 0), 0);
    int c[3];
    for (int i = 0; i < 2; i++) {
        c[i] = client_new(false);
        assert_int_equal(connect_to(c[i], e.port), 0);
    }
    c[2] = client_new(false);
    set_hs_timeouts(c[2], 50, 200);
    expect_errno(connect_to(c[2], e.port), ETIMEDOUT);
    struct z_dtls_stats st = stats(e.fd);
    assert_true(st.sessions_refused >= 1);
    assert_int_equal(st.sessions, 2);
    echo_check(c[0], 10, 1);
    echo_check(c[1], 10, 2);
    for (int i = 0; i < 3; i++) {
        zsock_close(c[i]);
    }
    echo_stop(&e);
}

/* ---- handshake variants
 * ---------------------------------------------------------------------- */

static void test_nonblocking_handshake_poll(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    int c = client_new(false);
    zsock_fcntl(c, F_SETFL, O_NONBLOCK);
    expect_errno(connect_to(c, e.port), EINPROGRESS);
    unsigned char in[64];
    expect_errno(zsock_send(c, "x", 1, 0), EAGAIN);
    expect_errno(zsock_recv(c, in, sizeof(in), 0), EAGAIN);
    struct zsock_pollfd p = {.fd = c, .events = ZSOCK_POLLIN | ZSOCK_POLLOUT};
    int64_t t0 = mono_us();
    while (!(p.revents & ZSOCK_POLLOUT) && mono_us() - t0 < 20000000) {
        assert_true(zsock_poll(&p, 1, 1000) >= 0);
        assert_false(p.revents & (ZSOCK_POLLERR | ZSOCK_POLLIN));
    }
    assert_true(p.revents & ZSOCK_POLLOUT);
    /* POLLIN exactly when a record is there. */
    assert_int_equal(zsock_send(c, "ping", 4, 0), 4);
    p.events = ZSOCK_POLLIN;
    assert_int_equal(zsock_poll(&p, 1, 5000), 1);
    assert_true(p.revents & ZSOCK_POLLIN);
    int avail = 0;
    assert_int_equal(zsock_ioctl(c, FIONREAD, &avail), 0);
    assert_int_equal(avail, 4);
    assert_int_equal(zsock_recv(c, in, sizeof(in), 0), 4);
    assert_int_equal(zsock_poll(&p, 1, 0), 0);
    zsock_close(c);
    echo_stop(&e);
}

/* The first ClientHello is lost: a poll() waiting for the handshake must
 * wake by itself to retransmit it (nothing else would wake it). */
static void test_poll_wakes_to_retransmit(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    struct relay r;
    relay_start(&r, e.port);
    atomic_store(&r.drop_from_client, 1);
    int c = client_new(false);
    set_hs_timeouts(c, 100, 5000);
    zsock_fcntl(c, F_SETFL, O_NONBLOCK);
    expect_errno(connect_to(c, r.port), EINPROGRESS);
    struct zsock_pollfd p = {.fd = c, .events = ZSOCK_POLLOUT};
    assert_int_equal(zsock_poll(&p, 1, 30000), 1); /* one call, not a timeout */
    assert_int_equal(p.revents, ZSOCK_POLLOUT);
    assert_int_equal(atomic_load(&r.drop_from_client), 0);
    assert_true(stats(c).hs_timer_expiries >= 1);
    zsock_fcntl(c, F_SETFL, 0);
    echo_check(c, 10, 1);
    zsock_close(c);
    relay_stop(&r);
    echo_stop(&e);
}

static void test_handshake_on_connect_off(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    int c = client_new(false);
    set_int(c, SOL_TLS, TLS_DTLS_HANDSHAKE_ON_CONNECT, 0);
    assert_int_equal(get_int(c, SOL_TLS, TLS_DTLS_HANDSHAKE_ON_CONNECT), 0);
    assert_int_equal(connect_to(c, e.port), 0);
    assert_int_equal(stats(e.fd).sessions_created, 0);
    echo_check(c, 33, 1); /* the first send runs the handshake */
    assert_int_equal(stats(e.fd).sessions_created, 1);
    zsock_close(c);
    echo_stop(&e);
}

/* A peer that never answers: the ClientHello is retransmitted with the
 * timer doubling from MIN to MAX, then the handshake fails. */
static void test_retransmission_then_timeout(void **state)
{
    (void)state;
    int silent = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    struct sockaddr_in a = lo(0);
    assert_int_equal(zsock_bind(silent, SA(a), sizeof(a)), 0);
    int c = client_new(false);
    set_hs_timeouts(c, 40, 320);
    uint32_t v = 0;
    socklen_t vl = sizeof(v);
    assert_int_equal(zsock_getsockopt(c, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MAX, &v, &vl), 0);
    assert_int_equal(v, 320);
    expect_errno(connect_to(c, port_of(silent)), ETIMEDOUT);
    assert_int_equal(get_int(c, SOL_SOCKET, SO_ERROR), ETIMEDOUT);
    /* 40, 80, 160, 320 ms: the first ClientHello and 3 retransmissions. */
    int hellos = 0;
    unsigned char buf[2048];
    unsigned char first[2048];
    ssize_t first_len = 0;
    for (;;) {
        ssize_t n = zsock_recv(silent, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT);
        if (n < 0) {
            break;
        }
        assert_int_equal(buf[13], 1); /* ClientHello */
        if (hellos++ == 0) {
            memcpy(first, buf, (size_t)n);
            first_len = n;
        } else {
            /* The same message again, in a new record. */
            assert_int_equal(n, first_len);
            assert_memory_equal(buf + 13, first + 13, (size_t)n - 13);
        }
    }
    assert_int_equal(hellos, 4);
    assert_int_equal(stats(c).hs_timer_expiries, 4); /* 3 retransmissions, then the end */
    assert_int_equal(stats(c).hs_failed, 1);
    zsock_close(c);
    zsock_close(silent);
}

static void test_session_resumption(void **state)
{
    (void)state;
    struct echo_srv e;
    memset(&e, 0, sizeof(e));
    e.fd = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2);
    set_tag(e.fd, TAG_SRV);
    set_int(e.fd, SOL_TLS, TLS_SESSION_CACHE, TLS_SESSION_CACHE_ENABLED);
    set_int(e.fd, SOL_TLS, TLS_DTLS_ROLE, TLS_DTLS_ROLE_SERVER);
    struct sockaddr_in sa = lo(0);
    assert_int_equal(zsock_bind(e.fd, SA(sa), sizeof(sa)), 0);
    e.port = port_of(e.fd);
    set_timeo(e.fd, SO_RCVTIMEO, 50);
    assert_int_equal(pthread_create(&e.th, NULL, echo_main, &e), 0);
    for (int i = 0; i < 2; i++) {
        int c = client_new(false);
        set_int(c, SOL_TLS, TLS_SESSION_CACHE, TLS_SESSION_CACHE_ENABLED);
        assert_int_equal(connect_to(c, e.port), 0);
        struct z_tls_info info;
        assert_int_equal(z_tls_get_info(c, &info), 0);
        assert_int_equal(info.resumed, i == 1);
        echo_check(c, 20, (uint32_t)i);
        zsock_close(c);
    }
    int c = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2);
    set_int(c, SOL_TLS, TLS_SESSION_CACHE_PURGE, 1);
    zsock_close(c);
    echo_stop(&e);
}

static void test_wrong_hostname(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    int c = client_new(false);
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_HOSTNAME, "other.test", 11), 0);
    expect_errno(connect_to(c, e.port), EACCES);
    expect_errno(zsock_send(c, "x", 1, 0), EACCES);
    zsock_close(c);
    WAIT_STAT(e.fd, hs_failed, 1); /* the client's alert ends the server's session */
    echo_stop(&e);
}

static void test_options_and_errors(void **state)
{
    (void)state;
    expect_errno(zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_DTLS_1_2), EPROTOTYPE);
    expect_errno(zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_TLS_1_2), EPROTOTYPE);
    int c = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_0);
    assert_true(c >= 0);
    assert_int_equal(get_int(c, SOL_SOCKET, SO_PROTOCOL), IPPROTO_DTLS_1_0);
    /* No connection ids in Debian's mbedTLS. */
    int v = TLS_DTLS_CID_SUPPORTED;
    expect_errno(zsock_setsockopt(c, SOL_TLS, TLS_DTLS_CID, &v, sizeof(v)), ENOPROTOOPT);
    socklen_t vl = sizeof(v);
    expect_errno(zsock_getsockopt(c, SOL_TLS, TLS_DTLS_CID_STATUS, &v, &vl), ENOPROTOOPT);
    unsigned char cid[32];
    vl = sizeof(cid);
    expect_errno(zsock_getsockopt(c, SOL_TLS, TLS_DTLS_PEER_CID_VALUE, cid, &vl), ENOPROTOOPT);
    expect_errno(zsock_setsockopt(c, SOL_TLS, TLS_DTLS_CID_VALUE, cid, 4), ENOPROTOOPT);
    /* Not connected: no destination; ENOTCONN for facts and recv. */
    expect_errno(zsock_send(c, "x", 1, 0), EDESTADDRREQ);
    unsigned char in[8];
    expect_errno(zsock_recv(c, in, sizeof(in), 0), ENOTCONN);
    vl = sizeof(v);
    expect_errno(zsock_getsockopt(c, SOL_TLS, TLS_CIPHERSUITE_USED, &v, &vl), ENOTCONN);
    expect_errno(zsock_listen(c, 1), EOPNOTSUPP);
    zsock_close(c);

    /* A server: sendto a peer without a session, send before any peer. */
    int s = server_new(TAG_SRV);
    struct sockaddr_in a = lo(9);
    expect_errno(zsock_sendto(s, "x", 1, 0, SA(a), sizeof(a)), ENOTCONN);
    expect_errno(zsock_send(s, "x", 1, 0), EDESTADDRREQ);
    expect_errno(zsock_recv(s, in, sizeof(in), ZSOCK_MSG_DONTWAIT), EAGAIN);
    v = TLS_DTLS_ROLE_CLIENT;
    expect_errno(zsock_setsockopt(s, SOL_TLS, TLS_DTLS_ROLE, &v, sizeof(v)), EISCONN);
    expect_errno(zsock_connect(s, SA(a), sizeof(a)), EOPNOTSUPP);
    zsock_close(s);

    /* A connected client: another destination is refused. */
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    c = client_new(false);
    assert_int_equal(connect_to(c, e.port), 0);
    expect_errno(zsock_sendto(c, "x", 1, 0, SA(a), sizeof(a)), EISCONN);
    struct sockaddr_in same = lo(e.port);
    assert_int_equal(zsock_sendto(c, "y", 1, 0, SA(same), sizeof(same)), 1);
    assert_int_equal(zsock_recv(c, in, sizeof(in), 0), 1);
    expect_errno(zsock_connect(c, SA(same), sizeof(same)), EISCONN);
    uint32_t ms = 10;
    expect_errno(zsock_setsockopt(c, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MIN, &ms, 4), EISCONN);
    zsock_close(c);
    echo_stop(&e);
}

struct blocked_recv {
    int fd;
    ssize_t n;
    int err;
    unsigned char buf[2048];
};

static void *blocked_recv_main(void *arg)
{
    struct blocked_recv *b = arg;
    b->n = zsock_recv(b->fd, b->buf, sizeof(b->buf), 0);
    b->err = b->n < 0 ? errno : 0;
    return NULL;
}

/* A thread blocked in recv gets the echo of what another thread sends on
 * the same socket, and a close from another thread wakes a blocked recv. */
static void test_threads_send_recv_close(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    int c = client_new(false);
    assert_int_equal(connect_to(c, e.port), 0);
    for (int i = 0; i < 20; i++) {
        struct blocked_recv b = {.fd = c};
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, blocked_recv_main, &b), 0);
        sleep_ms(2);
        unsigned char out[300];
        fill(out, 100 + (size_t)i, (uint32_t)i);
        assert_int_equal(zsock_send(c, out, 100 + (size_t)i, 0), 100 + i);
        pthread_join(th, NULL);
        assert_int_equal(b.n, 100 + i);
        assert_memory_equal(b.buf, out, (size_t)b.n);
    }
    struct blocked_recv b = {.fd = c};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, blocked_recv_main, &b), 0);
    sleep_ms(50);
    zsock_close(c);
    pthread_join(th, NULL);
    assert_int_equal(b.n, -1);
    /* EINTR when it was blocked (the thread had 50 ms to get there);
     * EBADF only if it was that slow to start. Either way: no hang. */
    assert_true(b.err == EINTR || b.err == EBADF);
    echo_stop(&e);
}

/* A client that only gives sendto() an address connects implicitly. */
static void test_sendto_connects(void **state)
{
    (void)state;
    struct echo_srv e;
    echo_start(&e, TAG_SRV);
    int c = client_new(false);
    struct sockaddr_in a = lo(e.port);
    assert_int_equal(zsock_sendto(c, "hello", 5, 0, SA(a), sizeof(a)), 5);
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    unsigned char in[8];
    assert_int_equal(zsock_recvfrom(c, in, sizeof(in), 0, SA(from), &fl), 5);
    assert_int_equal(ntohs(from.sin_port), e.port);
    zsock_close(c);
    echo_stop(&e);
}

/* ---- 10 % loss and reordering on a simulated link
 * --------------------------------------------- */

#define ADDR_A 0xc0000201u
#define ADDR_B 0xc0000202u

static int64_t sim_now(void *ctx)
{
    return z_simnet_now(ctx);
}

static void test_sim_loss_and_reordering(void **state)
{
    (void)state;
    struct sim_pair pair;
    sim_pair_up(&pair, 0xd715u, ADDR_A, ADDR_B);
    struct z_simnet *net = pair.net;
    struct z_stack *sa = pair.a, *sb = pair.b;
    struct z_sim_faults f = {.loss_ppm = 100000, .reorder_ppm = 100000, .delay_us = 2000};
    z_simnet_set_faults(net, &f);

    int su = z_inet_socket_on(sb, SOCK_DGRAM, 0, true);
    int s = z_dtls_wrap(su, IPPROTO_DTLS_1_2);
    assert_true(s >= 0);
    assert_int_equal(z_dtls_set_clock(s, sim_now, net), 0);
    set_tag(s, TAG_SRV);
    set_int(s, SOL_TLS, TLS_DTLS_ROLE, TLS_DTLS_ROLE_SERVER);
    zsock_fcntl(s, F_SETFL, O_NONBLOCK);
    struct sockaddr_in baddr = {.sin_family = AF_INET, .sin_port = htons(4433)};
    baddr.sin_addr.s_addr = htonl(ADDR_B);
    assert_int_equal(zsock_bind(s, SA(baddr), sizeof(baddr)), 0);

    int cu = z_inet_socket_on(sa, SOCK_DGRAM, 0, true);
    int c = z_dtls_wrap(cu, IPPROTO_DTLS_1_2);
    assert_true(c >= 0);
    assert_int_equal(z_dtls_set_clock(c, sim_now, net), 0);
    set_tag(c, TAG_CA);
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_HOSTNAME, "server.test", 12), 0);
    set_hs_timeouts(c, 200, 60000);
    zsock_fcntl(c, F_SETFL, O_NONBLOCK);
    expect_errno(zsock_connect(c, SA(baddr), sizeof(baddr)), EINPROGRESS);
    int64_t hs_done = -1;

    /* Stop-and-wait on top: a datagram is sent again until its echo comes
     * back (DTLS does not retransmit data, only handshakes). */
    enum { COUNT = 200 };
    uint32_t next = 0;
    int64_t sent_at = -1;
    unsigned char out[600], in[700];
    uint64_t resent = 0;
    while (next < COUNT && z_simnet_now(net) < 3600LL * 1000000) {
        /* The server: echo what arrives. */
        for (;;) {
            struct sockaddr_in from;
            socklen_t fl = sizeof(from);
            ssize_t n = zsock_recvfrom(s, in, sizeof(in), 0, SA(from), &fl);
            if (n < 0) {
                assert_int_equal(errno, EAGAIN);
                break;
            }
            assert_int_equal(zsock_sendto(s, in, (size_t)n, 0, SA(from), fl), n);
        }
        /* The client: the handshake, then one datagram at a time. */
        struct zsock_pollfd p = {.fd = c, .events = ZSOCK_POLLOUT | ZSOCK_POLLIN};
        assert_true(zsock_poll(&p, 1, 0) >= 0);
        assert_false(p.revents & ZSOCK_POLLERR);
        if ((p.revents & ZSOCK_POLLOUT) && hs_done < 0) {
            hs_done = z_simnet_now(net);
        }
        if (p.revents & ZSOCK_POLLOUT) {
            for (;;) {
                ssize_t n = zsock_recv(c, in, sizeof(in), 0);
                if (n < 0) {
                    assert_int_equal(errno, EAGAIN);
                    break;
                }
                uint32_t seq = (uint32_t)in[0] | (uint32_t)in[1] << 8 | (uint32_t)in[2] << 16 |
                               (uint32_t)in[3] << 24;
                if (seq == next) {
                    fill(out, 100 + next % 400, next);
                    assert_int_equal(n, 100 + next % 400);
                    assert_memory_equal(in, out, (size_t)n);
                    next++;
                    sent_at = -1;
                }
            }
            if (next < COUNT && (sent_at < 0 || z_simnet_now(net) - sent_at > 100000)) {
                resent += sent_at >= 0;
                fill(out, 100 + next % 400, next);
                assert_int_equal(zsock_send(c, out, 100 + next % 400, 0), 100 + next % 400);
                sent_at = z_simnet_now(net);
            }
        }
        z_simnet_run(net, 1000);
    }
    assert_int_equal(next, COUNT);
    struct z_sim_stats ss;
    z_simnet_stats(net, &ss);
    struct z_dtls_stats cs = stats(c), svs = stats(s);
    print_message("sim: handshake done at %.2f s virtual (%llu client and %llu server timer "
                  "expiries), %u datagrams echoed by %.1f s; %llu frames lost, %llu reordered, "
                  "%llu datagrams sent again\n",
                  (double)hs_done / 1e6, (unsigned long long)cs.hs_timer_expiries,
                  (unsigned long long)svs.hs_timer_expiries, (unsigned)COUNT,
                  (double)z_simnet_now(net) / 1e6, (unsigned long long)ss.lost,
                  (unsigned long long)ss.reordered, (unsigned long long)resent);
    assert_int_equal(cs.hs_failed + svs.hs_failed, 0);
    /* With this seed the link loses handshake frames: the flights were
     * retransmitted, not merely lucky. */
    assert_true(cs.hs_timer_expiries + svs.hs_timer_expiries > 0);
#if !CONFIG_NET_IPV4_FRAGMENT
    /* A 1500-byte Ethernet without fragments: the certificate flight was
     * cut into datagrams that fit. */
    assert_true(svs.tx_mtu_shrunk >= 1);
#endif
    assert_true(ss.lost > 0);
    assert_true(ss.reordered > 0);
    zsock_close(c);
    zsock_close(s);
    sim_pair_down(&pair);
}

/* ---- main
 * ------------------------------------------------------------------------------------------- */

#define T(f) cmocka_unit_test_setup_teardown(f, fd_leak_setup, fd_leak_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_cert_handshake_10000_datagrams),
        T(test_psk_handshake),
        T(test_boundaries_and_trunc),
        T(test_several_clients_one_server),
        T(test_client_vanishes_session_expires),
        T(test_hostile_input),
        T(test_session_table_full),
        T(test_nonblocking_handshake_poll),
        T(test_poll_wakes_to_retransmit),
        T(test_handshake_on_connect_off),
        T(test_retransmission_then_timeout),
        T(test_session_resumption),
        T(test_wrong_hostname),
        T(test_options_and_errors),
        T(test_sendto_connects),
        T(test_threads_send_recv_close),
        T(test_sim_loss_and_reordering),
    };
    if (getenv("ZSOCK_TEST_FILTER") != NULL) {
        cmocka_set_test_filter(getenv("ZSOCK_TEST_FILTER"));
    }
    return cmocka_run_group_tests(tests, setup_creds, NULL);
}
