/* TLS sockets: handshakes over zsock TCP on 127.0.0.1 and over socketpairs
 * (z_tls_wrap, with a relay in between that the tests control byte by
 * byte), certificate verification, PEM and DER, PSK, ALPN, ciphersuite
 * restriction, session resumption, MSG_PEEK/WAITALL/FIONREAD, non-blocking
 * handshakes through poll, exact poll, close_notify, mutual TLS, options,
 * and the failures: wrong hostname, untrusted CA, expired certificate,
 * missing client certificate, garbage instead of a ServerHello, a peer
 * closing mid-handshake, a truncated record, a silent peer. Credentials come
 * from tests/tls/pki (see its README). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/x509.h>

#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include "tls/tls_internal.h"
#include "unit/test_tls_util.h"
#include "unit/test_util.h"

#define SA(x) ((struct sockaddr *)&(x))

enum {
    TAG_CA = 1,
    TAG_CA_DER = 2,
    TAG_UNTRUSTED_CA = 3,
    TAG_SRV = 10,
    TAG_SRV_DER = 11,
    TAG_SRV_EC = 12,
    TAG_EXPIRED = 13,
    TAG_UNTRUSTED = 14,
    TAG_CLIENT = 20,
    TAG_PSK = 30,
    TAG_EMPTY = 99, /* never added */
};

/* ---- credentials
 * -------------------------------------------------------------------------------- */

/* Which files make up each tag. Tests load the tags they use and the
 * teardown deletes them, so a store of 8 slots (the embedded preset) is
 * enough. */
struct tag_file {
    sec_tag_t tag;
    enum tls_credential_type type;
    const char *file;
};

static const struct tag_file tag_files[] = {
    {TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt"},
    {TAG_CA_DER, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt.der"},
    {TAG_UNTRUSTED_CA, TLS_CREDENTIAL_CA_CERTIFICATE, "untrusted-ca.crt"},
    {TAG_SRV, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-rsa.crt"},
    {TAG_SRV, TLS_CREDENTIAL_PRIVATE_KEY, "server-rsa.key"},
    {TAG_SRV_DER, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-rsa.crt.der"},
    {TAG_SRV_DER, TLS_CREDENTIAL_PRIVATE_KEY, "server-rsa.key.der"},
    {TAG_SRV_EC, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-ec.crt"},
    {TAG_SRV_EC, TLS_CREDENTIAL_PRIVATE_KEY, "server-ec.key"},
    {TAG_EXPIRED, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-expired.crt"},
    {TAG_EXPIRED, TLS_CREDENTIAL_PRIVATE_KEY, "server-expired.key"},
    {TAG_UNTRUSTED, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-untrusted.crt"},
    {TAG_UNTRUSTED, TLS_CREDENTIAL_PRIVATE_KEY, "server-untrusted.key"},
    {TAG_CLIENT, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "client.crt"},
    {TAG_CLIENT, TLS_CREDENTIAL_PRIVATE_KEY, "client.key"},
    {TAG_PSK, TLS_CREDENTIAL_PSK, "psk.bin"},
    {TAG_PSK, TLS_CREDENTIAL_PSK_ID, "psk_id.txt"},
};

#define N_TAG_FILES (sizeof(tag_files) / sizeof(tag_files[0]))

/* Load the credentials of `tag` unless they are in the store already. */
static void load_tag(sec_tag_t tag)
{
    for (size_t i = 0; i < N_TAG_FILES; i++) {
        char probe[1];
        size_t len = 0;
        if (tag_files[i].tag == tag &&
            tls_credential_get(tag, tag_files[i].type, probe, &len) == -ENOENT) {
            add_file(tag, tag_files[i].type, tag_files[i].file);
        }
    }
}

static int teardown(void **state)
{
    for (size_t i = 0; i < N_TAG_FILES; i++) {
        (void)tls_credential_delete(tag_files[i].tag, tag_files[i].type);
    }
    return fd_leak_teardown(state);
}

/* ---- helpers
 * ------------------------------------------------------------------------------------ */

/* Bind l to 127.0.0.1, a port of the stack's choice: that port. */
static uint16_t bind_lo(int l)
{
    struct sockaddr_in a = lo(0);
    assert_int_equal(zsock_bind(l, SA(a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(zsock_getsockname(l, SA(a), &len), 0);
    return ntohs(a.sin_port);
}

static void set_tags(int fd, const sec_tag_t *tags, int n)
{
    for (int i = 0; i < n; i++) {
        load_tag(tags[i]);
    }
    assert_int_equal(
        zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags, (socklen_t)(n * sizeof(sec_tag_t))),
        0);
}

/* Server configuration for one test. */
struct srv_cfg {
    sec_tag_t tags[4];
    int ntags;
    int peer_verify; /* -1: default */
    const char *alpn[4];
    int cache;
    int suites[4];
    int nsuites;
    int connections; /* accepted one after the other */
    bool echo;       /* echo until EOF; else close at once */
};

struct srv {
    struct srv_cfg cfg;
    int l;
    uint16_t port;
    pthread_t th;
    int accept_err[8]; /* errno of each accept, 0 if it worked */
    struct z_tls_info info[8];
    int64_t echoed;
    int recv_err; /* errno of the echo's last recv, 0 at end of stream */
};

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    static char buf[65536];
    for (int i = 0; i < s->cfg.connections; i++) {
        int c = zsock_accept(s->l, NULL, NULL);
        if (c < 0) {
            s->accept_err[i] = errno;
            continue;
        }
        z_tls_get_info(c, &s->info[i]);
        while (s->cfg.echo) {
            ssize_t n = zsock_recv(c, buf, sizeof(buf), 0);
            if (n <= 0) {
                s->recv_err = n < 0 ? errno : 0; /* why the echo ended, for failures */
                break;
            }
            if (zsock_send(c, buf, (size_t)n, 0) != n) {
                break;
            }
            s->echoed += n;
        }
        zsock_close(c);
    }
    return NULL;
}

static void srv_start(struct srv *s, const struct srv_cfg *cfg)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    if (s->cfg.connections == 0) {
        s->cfg.connections = 1;
    }
    s->l = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2);
    assert_true(s->l >= 0);
    set_tags(s->l, cfg->tags, cfg->ntags);
    if (cfg->peer_verify >= 0) {
        set_int(s->l, SOL_TLS, TLS_PEER_VERIFY, cfg->peer_verify);
    }
    if (cfg->alpn[0] != NULL) {
        assert_int_equal(
            zsock_setsockopt(s->l, SOL_TLS, TLS_ALPN_LIST, cfg->alpn, sizeof(cfg->alpn)), 0);
    }
    if (cfg->nsuites > 0) {
        assert_int_equal(zsock_setsockopt(s->l, SOL_TLS, TLS_CIPHERSUITE_LIST, cfg->suites,
                                          (socklen_t)(cfg->nsuites * sizeof(int))),
                         0);
    }
    set_int(s->l, SOL_TLS, TLS_SESSION_CACHE, cfg->cache);
    set_timeo(s->l, SO_RCVTIMEO, 20000);
    s->port = bind_lo(s->l);
    assert_int_equal(zsock_listen(s->l, 8), 0);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
    pthread_join(s->th, NULL);
    zsock_close(s->l);
}

/* A server with the credentials `tag` that echoes one connection. */
static void echo_srv_start(struct srv *s, sec_tag_t tag)
{
    srv_start(s, &(struct srv_cfg){.tags = {tag}, .ntags = 1, .peer_verify = -1, .echo = true});
}

/* A client socket (not yet connected) with tags and a hostname. */
static int client_new(const sec_tag_t *tags, int n, const char *host)
{
    int c = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2);
    assert_true(c >= 0);
    if (n > 0) {
        set_tags(c, tags, n);
    }
    if (host != NULL) {
        assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_HOSTNAME, host, strlen(host) + 1), 0);
    }
    set_timeo(c, SO_RCVTIMEO, 20000);
    set_timeo(c, SO_SNDTIMEO, 20000);
    return c;
}

/* A client (not yet connected) that trusts the test CA and wants
 * "server.test". */
static int ca_client(void)
{
    return client_new((sec_tag_t[]){TAG_CA}, 1, "server.test");
}

static int client_connect(int c, uint16_t port)
{
    struct sockaddr_in a = lo(port);
    return zsock_connect(c, SA(a), sizeof(a));
}

/* An echo server with the credentials `tag` (echo_srv_start) and a
 * ca_client() connected to it. */
static int echo_connected(struct srv *s, sec_tag_t tag)
{
    echo_srv_start(s, tag);
    int c = ca_client();
    assert_int_equal(client_connect(c, s->port), 0);
    return c;
}

static void echo_once(int c, const char *msg)
{
    size_t n = strlen(msg);
    char buf[256];
    assert_int_equal(zsock_send(c, msg, n, 0), (ssize_t)n);
    assert_int_equal(zsock_recv(c, buf, n, ZSOCK_MSG_WAITALL), (ssize_t)n);
    assert_memory_equal(buf, msg, n);
}

/* Echo `msg` once on c, close c and wait for the server s. */
static void echo_close(struct srv *s, int c, const char *msg)
{
    echo_once(c, msg);
    zsock_close(c);
    srv_stop(s);
}

static uint32_t verify_result(int fd)
{
    uint32_t v = 0;
    socklen_t len = sizeof(v);
    assert_int_equal(zsock_getsockopt(fd, SOL_TLS, TLS_CERT_VERIFY_RESULT, &v, &len), 0);
    return v;
}

/* ---- handshakes and data
 * -------------------------------------------------------------------- */

static void test_handshake_echo(void **state)
{
    (void)state;
    struct srv s;
    int c = echo_connected(&s, TAG_SRV);
    echo_once(c, "hello over TLS");
    assert_int_equal(get_int(c, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TLS_1_2);
    assert_true(get_int(c, SOL_TLS, TLS_CIPHERSUITE_USED) > 0);
    assert_int_equal(verify_result(c), 0);
    struct z_tls_info info;
    assert_int_equal(z_tls_get_info(c, &info), 0);
    assert_true(info.handshake_done);
    assert_string_equal(info.version, "TLSv1.2");
    assert_false(info.resumed);
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    assert_int_equal(zsock_getpeername(c, SA(peer), &len), 0);
    assert_int_equal(ntohs(peer.sin_port), s.port);
    zsock_close(c);
    srv_stop(&s);
    assert_int_equal(s.accept_err[0], 0);
    assert_true(s.info[0].handshake_done);
}

struct bulk {
    int fd;
    size_t total;
    int ok;
};

static uint8_t pattern(size_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static void *bulk_writer(void *arg)
{
    struct bulk *b = arg;
    static uint8_t buf[100000];
    size_t sent = 0;
    uint32_t x = 12345;
    while (sent < b->total) {
        size_t n = 1 + (x % sizeof(buf));
        x = x * 1103515245u + 12345u;
        if (n > b->total - sent) {
            n = b->total - sent;
        }
        for (size_t i = 0; i < n; i++) {
            buf[i] = pattern(sent + i);
        }
        ssize_t r = zsock_send(b->fd, buf, n, 0);
        if (r <= 0) {
            return NULL;
        }
        sent += (size_t)r;
    }
    b->ok = 1;
    return NULL;
}

/* Bulk echo over the connected socket c (the peer echoes): a thread
 * writes bulk_writer's pattern, $ZSOCK_TLS_BULK_BYTES of it or `dflt`
 * bytes, while this one reads it back, `max_read` bytes at most a call, and
 * checks every byte. The bytes echoed. */
static size_t bulk_echo(int c, size_t dflt, size_t max_read)
{
    const char *env = getenv("ZSOCK_TLS_BULK_BYTES");
    struct bulk b = {.fd = c, .total = env != NULL ? strtoul(env, NULL, 0) : dflt};
    pthread_t w;
    assert_int_equal(pthread_create(&w, NULL, bulk_writer, &b), 0);
    static uint8_t buf[70000];
    assert_true(max_read <= sizeof(buf));
    int64_t t0 = mono_us();
    size_t got = 0;
    bool same = true;
    while (got < b.total) {
        ssize_t n = zsock_recv(c, buf, max_read, 0);
        if (n <= 0) {
            fail_msg("recv after %zu bytes: %zd, %s (%lld ms)", got, n, strerror(errno),
                     (long long)(mono_us() - t0) / 1000);
        }
        for (ssize_t i = 0; i < n && same; i++) {
            same = buf[i] == pattern(got + (size_t)i);
        }
        got += (size_t)n;
    }
    pthread_join(w, NULL);
    assert_true(b.ok);
    assert_true(same);
    assert_int_equal(got, b.total);
    return b.total;
}

static void test_bulk_16mib_echo(void **state)
{
    (void)state;
    struct srv s;
    int c = echo_connected(&s, TAG_SRV);
    /* 16 MiB; 1 MiB where TCP buffers are a few KiB (embedded preset). */
    size_t total = bulk_echo(c, CONFIG_NET_TCP_SNDBUF >= 65536 ? 16u << 20 : 1u << 20, 70000);
    zsock_close(c);
    srv_stop(&s);
    assert_int_equal(s.echoed, (int64_t)total);
}

static void test_der_credentials(void **state)
{
    (void)state;
    struct srv s;
    echo_srv_start(&s, TAG_SRV_DER);
    int c = client_new((sec_tag_t[]){TAG_CA_DER}, 1, "localhost");
    assert_int_equal(client_connect(c, s.port), 0);
    echo_close(&s, c, "DER");
}

static void test_ecdsa_and_suite_restriction(void **state)
{
    (void)state;
    /* TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384 */
    const int suite = 0xC02C;
    struct srv s;
    echo_srv_start(&s, TAG_SRV_EC);
    int c = ca_client();
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_CIPHERSUITE_LIST, &suite, sizeof(suite)), 0);
    int list[8];
    socklen_t len = sizeof(list);
    assert_int_equal(zsock_getsockopt(c, SOL_TLS, TLS_CIPHERSUITE_LIST, list, &len), 0);
    assert_int_equal(len, sizeof(int));
    assert_int_equal(list[0], suite);
    assert_int_equal(client_connect(c, s.port), 0);
    assert_int_equal(get_int(c, SOL_TLS, TLS_CIPHERSUITE_USED), suite);
    echo_close(&s, c, "ecdsa");
}

static void test_no_common_suite(void **state)
{
    (void)state;
    /* An RSA server cannot serve an ECDSA-only client. */
    const int suite = 0xC02C;
    struct srv s;
    srv_start(&s, &(struct srv_cfg){.tags = {TAG_SRV}, .ntags = 1, .peer_verify = -1});
    int c = ca_client();
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_CIPHERSUITE_LIST, &suite, sizeof(suite)), 0);
    expect_errno(client_connect(c, s.port),
                 ECONNABORTED); /* the server's handshake_failure alert */
    zsock_close(c);
    srv_stop(&s);
    assert_int_equal(s.accept_err[0], EPROTO);
}

static void test_psk(void **state)
{
    (void)state;
    /* TLS-PSK-WITH-AES-128-GCM-SHA256 */
    const int suite = 0x00A8;
    struct srv s;
    srv_start(&s, &(struct srv_cfg){.tags = {TAG_PSK},
                                    .ntags = 1,
                                    .peer_verify = -1,
                                    .suites = {suite},
                                    .nsuites = 1,
                                    .echo = true});
    int c = client_new((sec_tag_t[]){TAG_PSK}, 1, NULL);
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_CIPHERSUITE_LIST, &suite, sizeof(suite)), 0);
    assert_int_equal(client_connect(c, s.port), 0);
    assert_int_equal(get_int(c, SOL_TLS, TLS_CIPHERSUITE_USED), suite);
    echo_close(&s, c, "psk");
}

static void test_alpn(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, &(struct srv_cfg){.tags = {TAG_SRV},
                                    .ntags = 1,
                                    .peer_verify = -1,
                                    .alpn = {"http/1.1", "x-test"},
                                    .echo = true});
    int c = ca_client();
    const char *mine[] = {"h2", "x-test", NULL};
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_ALPN_LIST, mine, sizeof(mine)), 0);
    const char *back[4];
    socklen_t len = sizeof(back);
    assert_int_equal(zsock_getsockopt(c, SOL_TLS, TLS_ALPN_LIST, back, &len), 0);
    assert_int_equal(len, 3 * sizeof(char *));
    assert_string_equal(back[0], "h2");
    assert_string_equal(back[1], "x-test");
    assert_null(back[2]);
    assert_int_equal(client_connect(c, s.port), 0);
    struct z_tls_info info;
    assert_int_equal(z_tls_get_info(c, &info), 0);
    assert_string_equal(info.alpn, "x-test");
    echo_close(&s, c, "alpn");
    assert_string_equal(s.info[0].alpn, "x-test");
}

static void test_session_resumption(void **state)
{
    (void)state;
    int one = 1;
    struct srv s;
    srv_start(&s, &(struct srv_cfg){.tags = {TAG_SRV},
                                    .ntags = 1,
                                    .peer_verify = -1,
                                    .cache = 1,
                                    .connections = 3,
                                    .echo = true});
    struct z_tls_info info[3];
    for (int i = 0; i < 3; i++) {
        int c = ca_client();
        set_int(c, SOL_TLS, TLS_SESSION_CACHE, TLS_SESSION_CACHE_ENABLED);
        assert_int_equal(get_int(c, SOL_TLS, TLS_SESSION_CACHE), 1);
        if (i == 0) {
            /* Start from empty caches whatever ran before. */
            assert_int_equal(
                zsock_setsockopt(c, SOL_TLS, TLS_SESSION_CACHE_PURGE, &one, sizeof(one)), 0);
        }
        if (i == 2) {
            assert_int_equal(
                zsock_setsockopt(c, SOL_TLS, TLS_SESSION_CACHE_PURGE, &one, sizeof(one)), 0);
        }
        assert_int_equal(client_connect(c, s.port), 0);
        echo_once(c, "resume");
        assert_int_equal(z_tls_get_info(c, &info[i]), 0);
        zsock_close(c);
    }
    srv_stop(&s);
    assert_false(info[0].resumed);
    assert_true(info[1].resumed);
    assert_false(info[2].resumed);
    assert_false(s.info[0].resumed);
    assert_true(s.info[1].resumed);
    /* The abbreviated handshake carries no certificate. */
    assert_true(info[1].hs_bytes_in * 2 < info[0].hs_bytes_in);
    print_message("handshake bytes from server: full %llu, resumed %llu\n",
                  (unsigned long long)info[0].hs_bytes_in, (unsigned long long)info[1].hs_bytes_in);
}

static void test_mutual_tls(void **state)
{
    (void)state;
    struct srv s;
    srv_start(&s, &(struct srv_cfg){.tags = {TAG_SRV, TAG_CA},
                                    .ntags = 2,
                                    .peer_verify = TLS_PEER_VERIFY_REQUIRED,
                                    .connections = 2,
                                    .echo = true});
    int c = client_new((sec_tag_t[]){TAG_CA, TAG_CLIENT}, 2, "server.test");
    assert_int_equal(client_connect(c, s.port), 0);
    echo_once(c, "mutual");
    zsock_close(c);
    /* Without a client certificate the server refuses. */
    c = ca_client();
    int rc = client_connect(c, s.port);
    if (rc == 0) {
        /* TLS 1.2: the client may finish its flight before the alert. */
        char b;
        rc = (int)zsock_recv(c, &b, 1, 0);
    }
    expect_errno(rc, ECONNABORTED);
    assert_int_equal(get_int(c, SOL_SOCKET, SO_ERROR), ECONNABORTED);
    zsock_close(c);
    srv_stop(&s);
    assert_int_equal(s.accept_err[0], 0);
    assert_int_equal(s.info[0].verify_result, 0);
    assert_int_equal(s.accept_err[1], EACCES);
}

/* A client that must fail verification against `srv_tag` with `flag`. */
static void verify_fails(sec_tag_t srv_tag, const char *host, uint32_t flag)
{
    struct srv s;
    srv_start(&s, &(struct srv_cfg){.tags = {srv_tag}, .ntags = 1, .peer_verify = -1});
    int c = client_new((sec_tag_t[]){TAG_CA}, 1, host);
    expect_errno(client_connect(c, s.port), EACCES);
    assert_true(verify_result(c) & flag);
    expect_errno(zsock_send(c, "x", 1, 0), EACCES);
    struct zsock_pollfd p = {.fd = c, .events = ZSOCK_POLLIN | ZSOCK_POLLOUT};
    assert_int_equal(zsock_poll(&p, 1, 0), 1);
    assert_true(p.revents & ZSOCK_POLLERR);
    zsock_close(c);
    srv_stop(&s);
    /* The client's alert ends the server's handshake. */
    assert_int_equal(s.accept_err[0], ECONNABORTED);
}

static void test_wrong_hostname(void **state)
{
    (void)state;
    verify_fails(TAG_SRV, "wrong.test", MBEDTLS_X509_BADCERT_CN_MISMATCH);
}

/* Zephyr's rule: a client checks the server's name by default. With no
 * TLS_HOSTNAME there is no name to match, so verification fails; setting
 * TLS_HOSTNAME to NULL turns the check off. */
static void test_hostname_enforced_by_default(void **state)
{
    (void)state;
    verify_fails(TAG_SRV, NULL, MBEDTLS_X509_BADCERT_CN_MISMATCH);
}

static void test_hostname_null_disables_check(void **state)
{
    (void)state;
    struct srv s;
    echo_srv_start(&s, TAG_SRV);
    int c = client_new((sec_tag_t[]){TAG_CA}, 1, NULL);
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_HOSTNAME, NULL, 0), 0);
    assert_int_equal(client_connect(c, s.port), 0);
    assert_int_equal(verify_result(c), 0);
    echo_close(&s, c, "no name check");
}

static void test_untrusted_ca(void **state)
{
    (void)state;
    verify_fails(TAG_UNTRUSTED, "server.test", MBEDTLS_X509_BADCERT_NOT_TRUSTED);
}

static void test_expired_certificate(void **state)
{
    (void)state;
    verify_fails(TAG_EXPIRED, "server.test", MBEDTLS_X509_BADCERT_EXPIRED);
}

static void test_verify_optional(void **state)
{
    (void)state;
    struct srv s;
    echo_srv_start(&s, TAG_UNTRUSTED);
    /* OPTIONAL: the handshake completes and the result says why it would not have. */
    int c = ca_client();
    set_int(c, SOL_TLS, TLS_PEER_VERIFY, TLS_PEER_VERIFY_OPTIONAL);
    assert_int_equal(client_connect(c, s.port), 0);
    assert_true(verify_result(c) & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
    echo_close(&s, c, "optional");
}

static int calls;
static int accept_all(void *ctx, void *crt, int depth, uint32_t *flags)
{
    (void)crt;
    (void)depth;
    *(int *)ctx += 1;
    *flags = 0;
    return 0;
}

static void test_verify_callback(void **state)
{
    (void)state;
    struct srv s;
    echo_srv_start(&s, TAG_UNTRUSTED);
    int c = ca_client();
    calls = 0;
    struct tls_cert_verify_cb cb = {.cb = accept_all, .ctx = &calls};
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_CERT_VERIFY_CALLBACK, &cb, sizeof(cb)), 0);
    assert_int_equal(client_connect(c, s.port), 0);
    assert_true(calls >= 1);
    assert_int_equal(verify_result(c), 0);
    echo_close(&s, c, "callback");
}

/* ---- misbehaving peers (plain TCP servers)
 * ------------------------------------------------ */

enum raw_mode { RAW_GARBAGE, RAW_CLOSE, RAW_SILENT };

struct raw {
    int l;
    uint16_t port;
    enum raw_mode mode;
    pthread_t th;
    int quit[2]; /* socketpair: the test says when a silent peer may go */
};

static void *raw_main(void *arg)
{
    struct raw *r = arg;
    int c = zsock_accept(r->l, NULL, NULL);
    if (c < 0) {
        return NULL;
    }
    char buf[4096];
    if (r->mode != RAW_SILENT) {
        (void)zsock_recv(c, buf, sizeof(buf), 0); /* the ClientHello (or its start) */
    }
    if (r->mode == RAW_GARBAGE) {
        static const char junk[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        zsock_send(c, junk, sizeof(junk) - 1, 0);
        while (zsock_recv(c, buf, sizeof(buf), 0) > 0) {
        }
    } else if (r->mode == RAW_SILENT) {
        (void)zsock_recv(r->quit[1], buf, 1, 0);
    }
    zsock_close(c);
    return NULL;
}

static void raw_start(struct raw *r, enum raw_mode mode)
{
    memset(r, 0, sizeof(*r));
    r->mode = mode;
    make_pair(SOCK_STREAM, r->quit);
    r->l = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    r->port = bind_lo(r->l);
    assert_int_equal(zsock_listen(r->l, 4), 0);
    assert_int_equal(pthread_create(&r->th, NULL, raw_main, r), 0);
}

static void raw_stop(struct raw *r)
{
    zsock_send(r->quit[0], "q", 1, 0);
    pthread_join(r->th, NULL);
    zsock_close(r->l);
    close_pair(r->quit);
}

/* A client of the misbehaving peer `mode`: its connect() must fail with
 * `err`. Against a silent peer it sends with a 200 ms timeout, and a recv
 * after the failed handshake times out too. */
static void raw_handshake_fails(enum raw_mode mode, int err)
{
    struct raw r;
    raw_start(&r, mode);
    int c = ca_client();
    if (mode == RAW_SILENT) {
        set_timeo(c, SO_SNDTIMEO, 200);
    }
    expect_errno(client_connect(c, r.port), err);
    if (mode == RAW_SILENT) {
        expect_errno(zsock_recv(c, (char[4]){0}, 4, 0), ETIMEDOUT);
    }
    zsock_close(c);
    raw_stop(&r);
}

static void test_garbage_instead_of_server_hello(void **state)
{
    (void)state;
    raw_handshake_fails(RAW_GARBAGE, EPROTO);
}

static void test_peer_closes_mid_handshake(void **state)
{
    (void)state;
    raw_handshake_fails(RAW_CLOSE, ECONNRESET);
}

static void test_silent_peer_times_out(void **state)
{
    (void)state;
    raw_handshake_fails(RAW_SILENT, ETIMEDOUT);
}

/* ---- socketpair transport with a controlled relay
 * ----------------------------------------- */

/* TLS server on a[0], client on b[0]; the test moves bytes a[1] <-> b[1]. */
struct wired {
    int a[2], b[2];
    int srv, cli;
};

/* Move what is waiting on `from` to `to`, at most `max` bytes, without
 * blocking: only what `to` accepts leaves `from`. */
static size_t pump(int from, int to, size_t max)
{
    static char buf[65536];
    size_t moved = 0;
    while (moved < max) {
        size_t want = max - moved < sizeof(buf) ? max - moved : sizeof(buf);
        ssize_t n = zsock_recv(from, buf, want, ZSOCK_MSG_DONTWAIT | ZSOCK_MSG_PEEK);
        if (n <= 0) {
            break;
        }
        ssize_t k = zsock_send(to, buf, (size_t)n, ZSOCK_MSG_DONTWAIT);
        if (k <= 0) {
            break;
        }
        assert_int_equal(zsock_recv(from, buf, (size_t)k, 0), k);
        moved += (size_t)k;
    }
    return moved;
}

static void wired_up(struct wired *w)
{
    make_pair(SOCK_STREAM, w->a);
    make_pair(SOCK_STREAM, w->b);
    /* Room for a handshake flight even where the default is 64 bytes. */
    int room = 16384;
    for (int i = 0; i < 2; i++) {
        zsock_setsockopt(w->a[i], SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
        zsock_setsockopt(w->b[i], SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
    }
    w->srv = z_tls_wrap(w->a[0], IPPROTO_TLS_1_2, true);
    w->cli = z_tls_wrap(w->b[0], IPPROTO_TLS_1_2, false);
    assert_true(w->srv >= 0 && w->cli >= 0);
    set_tags(w->srv, (sec_tag_t[]){TAG_SRV}, 1);
    set_tags(w->cli, (sec_tag_t[]){TAG_CA}, 1);
    assert_int_equal(zsock_setsockopt(w->cli, SOL_TLS, TLS_HOSTNAME, "server.test", 12), 0);
    set_nonblock(w->srv);
    set_nonblock(w->cli);
    /* Both handshakes, non-blocking, driven by hand: no thread, no timing. */
    int rs = -EAGAIN, rc = -EAGAIN;
    for (int i = 0; i < 10000 && (rs != 0 || rc != 0); i++) {
        if (rc != 0) {
            rc = z_tls_handshake(w->cli);
        }
        if (rs != 0) {
            rs = z_tls_handshake(w->srv);
        }
        pump(w->b[1], w->a[1], SIZE_MAX);
        pump(w->a[1], w->b[1], SIZE_MAX);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(rs, 0);
}

static void wired_down(struct wired *w)
{
    zsock_close(w->srv);
    zsock_close(w->cli);
    zsock_close(w->a[1]);
    zsock_close(w->b[1]);
}

/* Send `msg` from the server of w and take its record off the wire into
 * raw (size bytes) before the client sees it: the record's length. */
static ssize_t take_record(struct wired *w, const char *msg, char *raw, size_t size)
{
    ssize_t len = (ssize_t)strlen(msg);
    assert_int_equal(zsock_send(w->srv, msg, (size_t)len, 0), len);
    ssize_t n = zsock_recv(w->a[1], raw, size, ZSOCK_MSG_DONTWAIT);
    assert_true(n > len);
    return n;
}

static short poll_now(int fd, short events, int timeout)
{
    struct zsock_pollfd p = {.fd = fd, .events = events};
    int n = zsock_poll(&p, 1, timeout);
    assert_true(n >= 0);
    return n == 0 ? 0 : p.revents;
}

static int fionread(int fd)
{
    int v = -1;
    assert_int_equal(zsock_ioctl(fd, FIONREAD, &v), 0);
    return v;
}

struct sp_echo {
    int fd;
    int64_t echoed;
};

static void *sp_echo_main(void *arg)
{
    struct sp_echo *e = arg;
    static char buf[40000];
    for (;;) {
        ssize_t n = zsock_recv(e->fd, buf, sizeof(buf), 0);
        if (n <= 0 || zsock_send(e->fd, buf, (size_t)n, 0) != n) {
            break;
        }
        e->echoed += n;
    }
    zsock_shutdown(e->fd, ZSOCK_SHUT_WR);
    return NULL;
}

static void test_socketpair_bulk_echo(void **state)
{
    (void)state;
    /* TLS straight over a socketpair (blocking, no relay): handshake in
     * the first send/recv, then 16 MiB each way. */
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    int room = CONFIG_NET_SOCKETPAIR_BUFFER_MAX;
    zsock_setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
    zsock_setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &room, sizeof(room));
    int srv = z_tls_wrap(sv[0], IPPROTO_TLS_1_2, true);
    int cli = z_tls_wrap(sv[1], IPPROTO_TLS_1_2, false);
    assert_true(srv >= 0 && cli >= 0);
    set_tags(srv, (sec_tag_t[]){TAG_SRV_EC}, 1);
    set_tags(cli, (sec_tag_t[]){TAG_CA_DER}, 1);
    assert_int_equal(zsock_setsockopt(cli, SOL_TLS, TLS_HOSTNAME, "localhost", 10), 0);
    set_timeo(srv, SO_RCVTIMEO, 20000);
    set_timeo(cli, SO_RCVTIMEO, 20000);
    struct sp_echo e = {.fd = srv};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, sp_echo_main, &e), 0);
    /* 1 MiB where socketpair buffers are tiny (embedded preset). */
    size_t total =
        bulk_echo(cli, CONFIG_NET_SOCKETPAIR_BUFFER_SIZE >= 65536 ? 16u << 20 : 1u << 20, 50000);
    char buf[16];
    assert_int_equal(zsock_shutdown(cli, ZSOCK_SHUT_WR), 0);
    assert_int_equal(zsock_recv(cli, buf, sizeof(buf), 0), 0); /* the echo's close_notify */
    pthread_join(t, NULL);
    assert_int_equal(e.echoed, (int64_t)total);
    zsock_close(cli);
    zsock_close(srv);
}

static void test_socketpair_poll_exact(void **state)
{
    (void)state;
    struct wired w;
    wired_up(&w);
    assert_int_equal(poll_now(w.cli, ZSOCK_POLLIN | ZSOCK_POLLOUT, 0), ZSOCK_POLLOUT);
    /* One record, delivered but for its last byte: not readable. */
    char raw[256];
    ssize_t n = take_record(&w, "hello", raw, sizeof(raw));
    assert_int_equal(zsock_send(w.b[1], raw, (size_t)n - 1, 0), n - 1);
    assert_int_equal(poll_now(w.cli, ZSOCK_POLLIN, 0), 0);
    assert_int_equal(poll_now(w.cli, ZSOCK_POLLIN, 50), 0);
    assert_int_equal(fionread(w.cli), 0);
    expect_errno(zsock_recv(w.cli, raw, sizeof(raw), 0), EAGAIN);
    /* The last byte completes it. */
    assert_int_equal(zsock_send(w.b[1], raw + n - 1, 1, 0), 1);
    assert_int_equal(poll_now(w.cli, ZSOCK_POLLIN, 5000), ZSOCK_POLLIN);
    assert_int_equal(fionread(w.cli), 5);
    char buf[16];
    assert_int_equal(zsock_recv(w.cli, buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(poll_now(w.cli, ZSOCK_POLLIN, 0), 0);
    /* Two records at once; reading part of the first leaves the rest
     * readable at once, and the second is found without new input. */
    assert_int_equal(zsock_send(w.srv, "aaaa", 4, 0), 4);
    assert_int_equal(zsock_send(w.srv, "bbbb", 4, 0), 4);
    pump(w.a[1], w.b[1], SIZE_MAX);
    assert_int_equal(zsock_recv(w.cli, buf, 2, 0), 2);
    assert_int_equal(poll_now(w.cli, ZSOCK_POLLIN, 0), ZSOCK_POLLIN);
    assert_int_equal(zsock_recv(w.cli, buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "aa", 2);
    assert_int_equal(poll_now(w.cli, ZSOCK_POLLIN, 0), ZSOCK_POLLIN);
    assert_int_equal(zsock_recv(w.cli, buf, sizeof(buf), 0), 4);
    assert_memory_equal(buf, "bbbb", 4);
    assert_int_equal(poll_now(w.cli, ZSOCK_POLLIN, 0), 0);
    wired_down(&w);
}

static void test_socketpair_close_notify(void **state)
{
    (void)state;
    struct wired w;
    wired_up(&w);
    assert_int_equal(zsock_send(w.srv, "last", 4, 0), 4);
    assert_int_equal(zsock_shutdown(w.srv, ZSOCK_SHUT_WR), 0);
    expect_errno(zsock_send(w.srv, "x", 1, 0), EPIPE);
    pump(w.a[1], w.b[1], SIZE_MAX);
    char buf[16];
    assert_int_equal(zsock_recv(w.cli, buf, sizeof(buf), 0), 4);
    short rev = poll_now(w.cli, ZSOCK_POLLIN, 0);
    assert_true(rev & ZSOCK_POLLIN);
    assert_true(rev & ZSOCK_POLLHUP);
    assert_int_equal(zsock_recv(w.cli, buf, sizeof(buf), 0), 0);
    assert_int_equal(zsock_recv(w.cli, buf, sizeof(buf), 0), 0);
    /* Half-close: the other direction still works. */
    assert_int_equal(zsock_send(w.cli, "back", 4, 0), 4);
    pump(w.b[1], w.a[1], SIZE_MAX);
    assert_int_equal(poll_now(w.srv, ZSOCK_POLLIN, 5000), ZSOCK_POLLIN);
    assert_int_equal(zsock_recv(w.srv, buf, sizeof(buf), 0), 4);
    assert_memory_equal(buf, "back", 4);
    wired_down(&w);
}

static void test_socketpair_truncated_record(void **state)
{
    (void)state;
    struct wired w;
    wired_up(&w);
    char raw[256];
    ssize_t n = take_record(&w, "truncated", raw, sizeof(raw));
    assert_int_equal(zsock_send(w.b[1], raw, (size_t)n - 3, 0), n - 3);
    assert_int_equal(zsock_shutdown(w.b[1], ZSOCK_SHUT_WR), 0);
    short rev = poll_now(w.cli, ZSOCK_POLLIN, 5000);
    assert_true(rev & ZSOCK_POLLERR);
    expect_errno(zsock_recv(w.cli, raw, sizeof(raw), 0), ECONNRESET);
    assert_int_equal(get_int(w.cli, SOL_SOCKET, SO_ERROR), ECONNRESET);
    wired_down(&w);
}

static void test_socketpair_fatal_alert(void **state)
{
    (void)state;
    struct wired w;
    wired_up(&w);
    /* A record damaged on the way: the client rejects it (EPROTO) and
     * sends a fatal alert, which the server reports as ECONNABORTED. */
    char raw[256];
    ssize_t n = take_record(&w, "damaged", raw, sizeof(raw));
    raw[n - 1] ^= 0x40;
    assert_int_equal(zsock_send(w.b[1], raw, (size_t)n, 0), n);
    expect_errno(zsock_recv(w.cli, raw, sizeof(raw), 0), EPROTO);
    pump(w.b[1], w.a[1], SIZE_MAX);
    short rev = poll_now(w.srv, ZSOCK_POLLIN, 5000);
    assert_true(rev & ZSOCK_POLLERR);
    assert_int_equal(get_int(w.srv, SOL_SOCKET, SO_ERROR), ECONNABORTED);
    expect_errno(zsock_recv(w.srv, raw, sizeof(raw), 0), ECONNABORTED);
    wired_down(&w);
}

/* ---- flags, ioctl, scatter/gather
 * --------------------------------------------------------- */

static void test_peek_waitall_fionread(void **state)
{
    (void)state;
    struct srv s;
    int c = echo_connected(&s, TAG_SRV);
    assert_int_equal(zsock_send(c, "abcdefgh", 8, 0), 8);
    assert_int_equal(poll_now(c, ZSOCK_POLLIN, 5000), ZSOCK_POLLIN);
    assert_int_equal(fionread(c), 8);
    char buf[32];
    assert_int_equal(zsock_recv(c, buf, 4, ZSOCK_MSG_PEEK), 4);
    assert_memory_equal(buf, "abcd", 4);
    assert_int_equal(zsock_recv(c, buf, 8, ZSOCK_MSG_PEEK | ZSOCK_MSG_WAITALL), 8);
    assert_memory_equal(buf, "abcdefgh", 8);
    assert_int_equal(fionread(c), 8);
    assert_int_equal(zsock_recv(c, buf, 3, 0), 3);
    assert_memory_equal(buf, "abc", 3);
    assert_int_equal(fionread(c), 5);
    /* WAITALL across two records (the echo of a second send). */
    assert_int_equal(zsock_send(c, "ijkl", 4, 0), 4);
    assert_int_equal(zsock_recv(c, buf, 9, ZSOCK_MSG_WAITALL), 9);
    assert_memory_equal(buf, "defghijkl", 9);
    expect_errno(zsock_recv(c, buf, 1, ZSOCK_MSG_DONTWAIT), EAGAIN);
    /* PEEK|WAITALL waits for a second record too. */
    assert_int_equal(zsock_send(c, "12", 2, 0), 2);
    assert_int_equal(zsock_recv(c, buf, 2, ZSOCK_MSG_WAITALL | ZSOCK_MSG_PEEK), 2);
    assert_int_equal(zsock_send(c, "34", 2, 0), 2);
    assert_int_equal(zsock_recv(c, buf, 4, ZSOCK_MSG_WAITALL | ZSOCK_MSG_PEEK), 4);
    assert_memory_equal(buf, "1234", 4);
    assert_int_equal(zsock_recv(c, buf, 4, 0), 4);
    assert_memory_equal(buf, "1234", 4);
    /* sendmsg/recvmsg with several vectors. */
    struct iovec out[3] = {{"one-", 4}, {"two-", 4}, {"three", 5}};
    struct msghdr m = {.msg_iov = out, .msg_iovlen = 3};
    assert_int_equal(zsock_sendmsg(c, &m, 0), 13);
    char x[5], y[8];
    struct iovec in[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
    struct sockaddr_in from;
    struct msghdr r = {
        .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = in, .msg_iovlen = 2};
    assert_int_equal(zsock_recvmsg(c, &r, ZSOCK_MSG_WAITALL), 13);
    assert_memory_equal(x, "one-t", 5);
    assert_memory_equal(y, "wo-three", 8);
    assert_int_equal(r.msg_namelen, sizeof(from));
    assert_int_equal(ntohs(from.sin_port), s.port);
    zsock_close(c);
    srv_stop(&s);
}

static void test_nonblocking_handshake(void **state)
{
    (void)state;
    struct srv s;
    echo_srv_start(&s, TAG_SRV);
    int c = zsock_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TLS_1_2);
    assert_true(c >= 0);
    set_tags(c, (sec_tag_t[]){TAG_CA}, 1);
    assert_int_equal(zsock_setsockopt(c, SOL_TLS, TLS_HOSTNAME, "server.test", 12), 0);
    struct sockaddr_in a = lo(s.port);
    int rc = zsock_connect(c, SA(a), sizeof(a));
    expect_errno(rc, EINPROGRESS);
    int polls = 0;
    short rev = 0;
    while (!(rev & ZSOCK_POLLOUT)) {
        rev = poll_now(c, ZSOCK_POLLOUT, 10000);
        assert_int_not_equal(rev, 0);
        assert_false(rev & ZSOCK_POLLERR);
        polls++;
    }
    assert_int_equal(zsock_send(c, "nb", 2, 0), 2);
    assert_int_equal(poll_now(c, ZSOCK_POLLIN, 10000), ZSOCK_POLLIN);
    char buf[4];
    assert_int_equal(zsock_recv(c, buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "nb", 2);
    ssize_t more = zsock_recv(c, buf, sizeof(buf), 0);
    if (more != -1) {
        fail_msg("recv gave %zd, not EAGAIN (the echo server's recv ended with errno %d)", more,
                 s.recv_err);
    }
    assert_int_equal(errno, EAGAIN);
    expect_errno(zsock_connect(c, SA(a), sizeof(a)), EISCONN);
    zsock_close(c);
    srv_stop(&s);
}

static void test_connect_refused(void **state)
{
    (void)state;
    /* A port nobody listens on: the TCP error, as it is. */
    int l = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    uint16_t port = bind_lo(l);
    zsock_close(l);
    int c = ca_client();
    expect_errno(client_connect(c, port), ECONNREFUSED);
    zsock_close(c);
    c = zsock_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TLS_1_2);
    set_tags(c, (sec_tag_t[]){TAG_CA}, 1);
    int rc = client_connect(c, port);
    assert_int_equal(rc, -1);
    if (errno == EINPROGRESS) {
        short rev = poll_now(c, ZSOCK_POLLOUT, 10000);
        assert_true(rev & ZSOCK_POLLERR);
        expect_errno(zsock_send(c, "x", 1, 0), ECONNREFUSED);
        assert_int_equal(get_int(c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
    } else {
        assert_int_equal(errno, ECONNREFUSED);
    }
    zsock_close(c);
}

static void *late_client(void *arg)
{
    uint16_t port = *(uint16_t *)arg;
    int c = ca_client();
    if (client_connect(c, port) == 0) {
        echo_once(c, "late");
    }
    zsock_close(c);
    return NULL;
}

static void test_nonblocking_listener_and_lazy_handshake(void **state)
{
    (void)state;
    int l = zsock_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TLS_1_2);
    set_tags(l, (sec_tag_t[]){TAG_SRV}, 1);
    uint16_t port = bind_lo(l);
    assert_int_equal(zsock_listen(l, 4), 0);
    expect_errno(zsock_accept(l, NULL, NULL), EAGAIN);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, late_client, &port), 0);
    assert_int_equal(poll_now(l, ZSOCK_POLLIN, 10000), ZSOCK_POLLIN);
    int c = zsock_accept(l, NULL, NULL);
    assert_true(c >= 0);
    /* The accepted socket is blocking; its handshake runs in the first recv. */
    set_timeo(c, SO_RCVTIMEO, 10000);
    char buf[8];
    assert_int_equal(zsock_recv(c, buf, 4, ZSOCK_MSG_WAITALL), 4);
    assert_memory_equal(buf, "late", 4);
    assert_int_equal(zsock_send(c, buf, 4, 0), 4);
    pthread_join(t, NULL);
    zsock_close(c);
    zsock_close(l);
}

static void test_handshake_on_connect_off(void **state)
{
    (void)state;
    struct srv s;
    echo_srv_start(&s, TAG_SRV);
    int c = ca_client();
    set_int(c, SOL_TLS, TLS_DTLS_HANDSHAKE_ON_CONNECT, 0);
    assert_int_equal(client_connect(c, s.port), 0);
    int v;
    socklen_t len = sizeof(v);
    expect_errno(zsock_getsockopt(c, SOL_TLS, TLS_CIPHERSUITE_USED, &v, &len), ENOTCONN);
    echo_once(c, "lazy");
    len = sizeof(v);
    assert_int_equal(zsock_getsockopt(c, SOL_TLS, TLS_CIPHERSUITE_USED, &v, &len), 0);
    zsock_close(c);
    srv_stop(&s);
}

struct closer {
    int fd;
};

static void *close_later(void *arg)
{
    struct closer *cl = arg;
    sleep_ms(100);
    zsock_close(cl->fd);
    return NULL;
}

static void test_close_wakes_blocked_recv(void **state)
{
    (void)state;
    struct wired w;
    wired_up(&w);
    int fl = 0;
    assert_int_equal(zsock_fcntl(w.cli, F_SETFL, fl), 0);
    struct closer cl = {.fd = w.cli};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, close_later, &cl), 0);
    char buf[4];
    /* Blocked when the close comes (the usual case): EINTR. Should the
     * closer win the race on a loaded machine, the call sees EBADF; either
     * way it must not hang. */
    assert_int_equal(zsock_recv(w.cli, buf, sizeof(buf), 0), -1);
    assert_true(errno == EINTR || errno == EBADF);
    pthread_join(t, NULL);
    zsock_close(w.srv);
    zsock_close(w.a[1]);
    zsock_close(w.b[1]);
}

/* ---- options and protocols
 * ---------------------------------------------------------------- */

static void test_socket_protocols(void **state)
{
    (void)state;
    expect_errno(zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_3), EPROTONOSUPPORT);
    expect_errno(zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_TLS_1_2), EPROTOTYPE);
    expect_errno(zsock_socket(AF_UNIX, SOCK_STREAM, IPPROTO_TLS_1_2), EAFNOSUPPORT);
    for (int p = IPPROTO_TLS_1_0; p <= IPPROTO_TLS_1_2; p++) {
        int fd = zsock_socket(AF_INET, SOCK_STREAM, p);
        assert_true(fd >= 0);
        assert_int_equal(get_int(fd, SOL_SOCKET, SO_PROTOCOL), p);
        zsock_close(fd);
    }
}

static void test_options(void **state)
{
    (void)state;
    int fd = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2);
    assert_true(fd >= 0);
    int v;
    socklen_t len = sizeof(v);
    char buf[64];
    /* Unknown, write-only, read-only, DTLS-only. */
    expect_errno(zsock_setsockopt(fd, SOL_TLS, 999, &v, sizeof(v)), ENOPROTOOPT);
    len = sizeof(buf);
    expect_errno(zsock_getsockopt(fd, SOL_TLS, TLS_HOSTNAME, buf, &len), ENOPROTOOPT);
    len = sizeof(v);
    expect_errno(zsock_getsockopt(fd, SOL_TLS, TLS_PEER_VERIFY, &v, &len), ENOPROTOOPT);
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_CIPHERSUITE_USED, &v, sizeof(v)), ENOPROTOOPT);
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_CERT_VERIFY_RESULT, &v, sizeof(v)), ENOPROTOOPT);
    v = 1;
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_CID, &v, sizeof(v)), ENOPROTOOPT);
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_NATIVE, &v, sizeof(v)), ENOPROTOOPT);
    /* Validation. */
    sec_tag_t missing = TAG_EMPTY;
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, &missing, sizeof(missing)),
                 ENOENT);
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, &missing, 3), EINVAL);
    int bad_suite = 0x1234;
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_CIPHERSUITE_LIST, &bad_suite, sizeof(bad_suite)),
                 EINVAL);
    v = 7;
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_PEER_VERIFY, &v, sizeof(v)), EINVAL);
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_SESSION_CACHE, &v, sizeof(v)), EINVAL);
    const char *empty_proto[] = {"", NULL};
    expect_errno(zsock_setsockopt(fd, SOL_TLS, TLS_ALPN_LIST, empty_proto, sizeof(empty_proto)),
                 EINVAL);
    /* Before any handshake. */
    len = sizeof(v);
    expect_errno(zsock_getsockopt(fd, SOL_TLS, TLS_CIPHERSUITE_USED, &v, &len), ENOTCONN);
    uint32_t flags;
    len = sizeof(flags);
    expect_errno(zsock_getsockopt(fd, SOL_TLS, TLS_CERT_VERIFY_RESULT, &flags, &len), ENOTCONN);
    expect_errno(zsock_send(fd, "x", 1, 0), ENOTCONN);
    /* Defaults and round trips. */
    assert_int_equal(get_int(fd, SOL_TLS, TLS_SESSION_CACHE), 0);
    assert_int_equal(get_int(fd, SOL_TLS, TLS_DTLS_HANDSHAKE_ON_CONNECT), 1);
    int all[256];
    len = sizeof(all);
    assert_int_equal(zsock_getsockopt(fd, SOL_TLS, TLS_CIPHERSUITE_LIST, all, &len), 0);
    assert_true(len >= 10 * sizeof(int));
    sec_tag_t tags[2] = {TAG_CA, TAG_CLIENT}, back[4];
    set_tags(fd, tags, 2);
    len = sizeof(back);
    assert_int_equal(zsock_getsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, back, &len), 0);
    assert_int_equal(len, sizeof(tags));
    assert_memory_equal(back, tags, sizeof(tags));
    set_int(fd, SOL_TLS, TLS_PEER_VERIFY, TLS_PEER_VERIFY_OPTIONAL);
    set_int(fd, SOL_TLS, TLS_DTLS_ROLE, TLS_DTLS_ROLE_SERVER);
    set_int(fd, SOL_TLS, TLS_CERT_NOCOPY, TLS_CERT_NOCOPY_OPTIONAL);
    assert_int_equal(zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, NULL, 0), 0);
    uint32_t ms = 2500, got_ms = 0;
    assert_int_equal(zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MIN, &ms, sizeof(ms)),
                     0);
    len = sizeof(got_ms);
    assert_int_equal(zsock_getsockopt(fd, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MIN, &got_ms, &len),
                     0);
    assert_int_equal(got_ms, 2500);
    /* SOL_SOCKET at the TLS layer, the rest forwarded to TCP. */
    assert_int_equal(get_int(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    assert_int_equal(get_int(fd, SOL_SOCKET, SO_ERROR), 0);
    expect_errno(zsock_setsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, sizeof(v)), ENOPROTOOPT);
    set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
    assert_int_equal(get_int(fd, IPPROTO_TCP, TCP_NODELAY), 1);
    set_timeo(fd, SO_RCVTIMEO, 1500);
    struct timeval tv;
    len = sizeof(tv);
    assert_int_equal(zsock_getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
    assert_int_equal(tv.tv_sec, 1);
    assert_int_equal(tv.tv_usec, 500000);
    zsock_close(fd);
}

static void test_credential_deleted_after_set(void **state)
{
    (void)state;
    /* The socket keeps its own copy: deleting the credential later does
     * not affect a socket that already took it. */
    enum { TAG_TMP = 50 };
    add_file(TAG_TMP, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt.der");
    struct srv s;
    echo_srv_start(&s, TAG_SRV);
    int c = client_new((sec_tag_t[]){TAG_TMP}, 1, "server.test");
    assert_int_equal(tls_credential_delete(TAG_TMP, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
    assert_int_equal(client_connect(c, s.port), 0);
    echo_close(&s, c, "copied");
}

/* ---- main
 * ------------------------------------------------------------------------------------------- */

#define T(f) cmocka_unit_test_setup_teardown(f, fd_leak_setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_handshake_echo),
        T(test_bulk_16mib_echo),
        T(test_der_credentials),
        T(test_ecdsa_and_suite_restriction),
        T(test_no_common_suite),
        T(test_psk),
        T(test_alpn),
        T(test_session_resumption),
        T(test_mutual_tls),
        T(test_wrong_hostname),
        T(test_hostname_enforced_by_default),
        T(test_hostname_null_disables_check),
        T(test_untrusted_ca),
        T(test_expired_certificate),
        T(test_verify_optional),
        T(test_verify_callback),
        T(test_garbage_instead_of_server_hello),
        T(test_peer_closes_mid_handshake),
        T(test_silent_peer_times_out),
        T(test_socketpair_bulk_echo),
        T(test_socketpair_poll_exact),
        T(test_socketpair_close_notify),
        T(test_socketpair_truncated_record),
        T(test_socketpair_fatal_alert),
        T(test_peek_waitall_fionread),
        T(test_nonblocking_handshake),
        T(test_connect_refused),
        T(test_nonblocking_listener_and_lazy_handshake),
        T(test_handshake_on_connect_off),
        T(test_close_wakes_blocked_recv),
        T(test_socket_protocols),
        T(test_options),
        T(test_credential_deleted_after_set),
    };
    /* ZSOCK_TEST_FILTER=pattern runs only the matching tests. */
    if (getenv("ZSOCK_TEST_FILTER") != NULL) {
        cmocka_set_test_filter(getenv("ZSOCK_TEST_FILTER"));
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
