/* TLS benchmark on loopback: handshakes per second (ECDHE-ECDSA P-256 and
 * ECDHE-RSA 2048, full and resumed) and bulk TLS throughput (AES-128-GCM), client and
 * server in two threads of this process, for three set-ups measured in the
 * same run with the same mbedTLS, certificates (tests/tls/pki) and suites:
 *   zsock-tls   zsock's TLS sockets (IPPROTO_TLS_1_2 over zsock TCP on its
 *               in-process loopback), configured with SOL_TLS options;
 *   mbedtls/z   mbedTLS driven by hand (mbedtls_ssl_* with a BIO on
 *               zsock_send/zsock_recv) over the same zsock TCP loopback;
 *   mbedtls/k   the same mbedTLS code with the BIO on Linux kernel TCP
 *               sockets over 127.0.0.1.
 * zsock-tls / mbedtls/z is the cost of the TLS socket layer itself (the
 * issue's target: under 10% on bulk throughput); zsock-tls / mbedtls/k is
 * what an application sees against the kernel. The zsock-tls handshake
 * includes what a TLS socket does per connection (socket creation, options,
 * parsing its credentials); the hand-driven ones parse them once. A third
 * handshake row turns the session caches on (TLS_SESSION_CACHE on both
 * sockets; a server cache and a saved client session by hand) and counts
 * the handshakes that were really resumed. The set-ups take turns run by
 * run. Prints medians of several runs and ratios; never passes or fails on
 * time.
 * Usage: bench_tls [--quick] [--verbose] [--setup=NAME] [--pki=DIR] [--bytes=N] [--handshakes=N].
 */
#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include "bench_util.h"
#include "tls/tls_internal.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef ZSOCK_TLS_PKI_DIR
#define ZSOCK_TLS_PKI_DIR "tests/tls/pki"
#endif

#define APP_CHUNK   (64 * 1024) /* bytes per send() call */
#define SUITE_ECDSA 0xC02B      /* TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256 */
#define SUITE_RSA   0xC02F      /* TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256 */
#define TAG_CA      100
#define TAG_EC      101
#define TAG_RSA     102

static const char *pki_dir = ZSOCK_TLS_PKI_DIR;
static bool verbose;        /* --verbose: every run's figure, not only the medians */
static int only_setup = -1; /* --setup=NAME: measure that set-up alone (profiling) */

/* ---- files and credentials
 * ------------------------------------------------------------------------- */

static void add_cred(sec_tag_t tag, enum tls_credential_type type, const char *name)
{
    size_t len;
    unsigned char *buf = bench_read_pki("bench_tls", pki_dir, name, &len);
    int rc = tls_credential_add(tag, type, buf, len);
    free(buf);
    if (rc < 0) {
        fprintf(stderr, "bench_tls: tls_credential_add %s: %s\n", name, strerror(-rc));
        exit(1);
    }
}

/* ---- the socket calls of each set-up
 * ------------------------------------------------------------------------- */

static const struct bench_api zsock_api = BENCH_ZSOCK_API(zsock_socket);
static const struct bench_api linux_api = BENCH_LINUX_API;

/* No Nagle delay on any of the sockets: TLS writes a handshake flight in
 * several sends. */
static void nodelay(const struct bench_api *A, int fd)
{
    int one = 1;
    A->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* A listener on 127.0.0.1, any port (*port), with protocol `proto`; for a
 * TLS protocol the server credentials `tag` and the suite. -1 if the
 * protocol is not there (errno kept). */
static int make_listener(const struct bench_api *A, int proto, sec_tag_t tag, int suite,
                         bool resume, uint16_t *port)
{
    int cache = TLS_SESSION_CACHE_ENABLED;
    int l = A->socket(AF_INET, SOCK_STREAM, proto);
    if (l < 0) {
        return -1;
    }
    if (proto != IPPROTO_TCP &&
        (A->setsockopt(l, SOL_TLS, TLS_SEC_TAG_LIST, &tag, sizeof(tag)) < 0 ||
         A->setsockopt(l, SOL_TLS, TLS_CIPHERSUITE_LIST, &suite, sizeof(suite)) < 0 ||
         (resume && A->setsockopt(l, SOL_TLS, TLS_SESSION_CACHE, &cache, sizeof(cache)) < 0))) {
        fprintf(stderr, "bench_tls: %s listener options: %s\n", A->name, strerror(errno));
        exit(1);
    }
    if (bench_listen(A, l, 64, port) < 0) {
        fprintf(stderr, "bench_tls: %s listen: %s\n", A->name, strerror(errno));
        exit(1);
    }
    return l;
}

/* A connected client of `proto` (TLS: CA tag, host name, suite; connect()
 * runs the handshake), or exit. */
static int make_client(const struct bench_api *A, int proto, int suite, bool resume, uint16_t port)
{
    int c = A->socket(AF_INET, SOCK_STREAM, proto);
    sec_tag_t ca = TAG_CA;
    int cache = TLS_SESSION_CACHE_ENABLED;
    if (c < 0 ||
        (proto != IPPROTO_TCP &&
         (A->setsockopt(c, SOL_TLS, TLS_SEC_TAG_LIST, &ca, sizeof(ca)) < 0 ||
          A->setsockopt(c, SOL_TLS, TLS_HOSTNAME, "localhost", 9) < 0 ||
          A->setsockopt(c, SOL_TLS, TLS_CIPHERSUITE_LIST, &suite, sizeof(suite)) < 0 ||
          (resume && A->setsockopt(c, SOL_TLS, TLS_SESSION_CACHE, &cache, sizeof(cache)) < 0)))) {
        fprintf(stderr, "bench_tls: %s client socket: %s\n", A->name, strerror(errno));
        exit(1);
    }
    struct sockaddr_in a = bench_loopback(port);
    nodelay(A, c);
    if (A->connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
        fprintf(stderr, "bench_tls: %s connect: %s\n", A->name, strerror(errno));
        exit(1);
    }
    return c;
}

/* ---- mbedTLS driven by hand over an api's sockets
 * ------------------------------------------------------------------------- */

struct side {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    int suites[2];
    bool resume;                     /* session resumption on */
    mbedtls_ssl_cache_context cache; /* server: its session cache */
    mbedtls_ssl_session saved;       /* client: the session to resume */
    bool have_saved;
};

struct bio {
    const struct bench_api *A;
    int fd;
};

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct bio *b = ctx;
    ssize_t n = b->A->send(b->fd, buf, len, 0);
    return n >= 0 ? (int)n : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct bio *b = ctx;
    ssize_t n = b->A->recv(b->fd, buf, len, 0);
    return n >= 0 ? (int)n : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static mbedtls_x509_crt ca_crt, ec_crt, rsa_crt;
static mbedtls_pk_context ec_key, rsa_key;

static void check(int rc, const char *what)
{
    if (rc != 0) {
        char msg[128];
        mbedtls_strerror(rc, msg, sizeof(msg));
        fprintf(stderr, "bench_tls: %s: -0x%04x %s\n", what, (unsigned)-rc, msg);
        exit(1);
    }
}

static void load_mbedtls_credentials(void)
{
    mbedtls_x509_crt_init(&ca_crt);
    mbedtls_x509_crt_init(&ec_crt);
    mbedtls_x509_crt_init(&rsa_crt);
    mbedtls_pk_init(&ec_key);
    mbedtls_pk_init(&rsa_key);
    const struct {
        mbedtls_x509_crt *crt;
        const char *name;
    } crts[] = {{&ca_crt, "ca.crt"}, {&ec_crt, "server-ec.crt"}, {&rsa_crt, "server-rsa.crt"}};
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        unsigned char *buf = bench_read_pki("bench_tls", pki_dir, crts[i].name, &len);
        check(mbedtls_x509_crt_parse(crts[i].crt, buf, len), crts[i].name);
        free(buf);
    }
    const struct {
        mbedtls_pk_context *pk;
        const char *name;
    } keys[] = {{&ec_key, "server-ec.key"}, {&rsa_key, "server-rsa.key"}};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        unsigned char *buf = bench_read_pki("bench_tls", pki_dir, keys[i].name, &len);
        check(mbedtls_pk_parse_key(keys[i].pk, buf, len, NULL, 0), keys[i].name);
        free(buf);
    }
}

/* One side's configuration for `suite`; a server uses the certificate that
 * matches the suite. */
static void side_init(struct side *s, bool server, int suite, bool resume)
{
    s->resume = resume;
    s->have_saved = false;
    mbedtls_ssl_cache_init(&s->cache);
    mbedtls_ssl_session_init(&s->saved);
    mbedtls_entropy_init(&s->entropy);
    mbedtls_ctr_drbg_init(&s->drbg);
    mbedtls_ssl_config_init(&s->conf);
    mbedtls_ssl_init(&s->ssl);
    const char *pers = server ? "bench_tls server" : "bench_tls client";
    check(mbedtls_ctr_drbg_seed(&s->drbg, mbedtls_entropy_func, &s->entropy,
                                (const unsigned char *)pers, strlen(pers)),
          "ctr_drbg_seed");
    check(mbedtls_ssl_config_defaults(&s->conf,
                                      server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT),
          "ssl_config_defaults");
    mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
    s->suites[0] = suite;
    s->suites[1] = 0;
    mbedtls_ssl_conf_ciphersuites(&s->conf, s->suites);
    if (server) {
        mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_NONE);
        if (resume) {
            mbedtls_ssl_conf_session_cache(&s->conf, &s->cache, mbedtls_ssl_cache_get,
                                           mbedtls_ssl_cache_set);
        }
        bool ec = suite == SUITE_ECDSA;
        check(mbedtls_ssl_conf_own_cert(&s->conf, ec ? &ec_crt : &rsa_crt, ec ? &ec_key : &rsa_key),
              "conf_own_cert");
    } else {
        mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(&s->conf, &ca_crt, NULL);
    }
    check(mbedtls_ssl_setup(&s->ssl, &s->conf), "ssl_setup");
    if (!server) {
        check(mbedtls_ssl_set_hostname(&s->ssl, "localhost"), "set_hostname");
    }
}

static void side_free(struct side *s)
{
    mbedtls_ssl_free(&s->ssl);
    mbedtls_ssl_config_free(&s->conf);
    mbedtls_ctr_drbg_free(&s->drbg);
    mbedtls_entropy_free(&s->entropy);
    mbedtls_ssl_session_free(&s->saved);
    mbedtls_ssl_cache_free(&s->cache);
}

/* A new session on fd with the handshake done. A client with resumption
 * offers the session of its first handshake; true when the server took it
 * (the same session id again). */
static bool side_handshake(struct side *s, struct bio *b)
{
    bool client = s->conf.endpoint == MBEDTLS_SSL_IS_CLIENT;
    check(mbedtls_ssl_session_reset(&s->ssl), "session_reset");
    if (client && s->resume && s->have_saved) {
        check(mbedtls_ssl_set_session(&s->ssl, &s->saved), "set_session");
    }
    mbedtls_ssl_set_bio(&s->ssl, b, bio_send, bio_recv, NULL);
    int rc;
    while ((rc = mbedtls_ssl_handshake(&s->ssl)) != 0) {
        if (rc != MBEDTLS_ERR_SSL_WANT_READ && rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
            check(rc, "handshake");
        }
    }
    if (!client || !s->resume) {
        return false;
    }
    if (!s->have_saved) {
        check(mbedtls_ssl_get_session(&s->ssl, &s->saved), "get_session");
        s->have_saved = true;
        return false;
    }
    const mbedtls_ssl_session *now = s->ssl.session;
    return now != NULL && now->id_len > 0 && now->id_len == s->saved.id_len &&
           memcmp(now->id, s->saved.id, now->id_len) == 0;
}

/* Read to close_notify or end of stream: bytes read. */
static size_t side_drain(struct side *s)
{
    static __thread unsigned char buf[APP_CHUNK];
    size_t got = 0;
    for (;;) {
        int n = mbedtls_ssl_read(&s->ssl, buf, sizeof(buf));
        if (n > 0) {
            got += (size_t)n;
        } else if (n != MBEDTLS_ERR_SSL_WANT_READ && n != MBEDTLS_ERR_SSL_WANT_WRITE) {
            return got;
        }
    }
}

static void side_write_all(struct side *s, const unsigned char *p, size_t len)
{
    while (len > 0) {
        int n = mbedtls_ssl_write(&s->ssl, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n != MBEDTLS_ERR_SSL_WANT_READ && n != MBEDTLS_ERR_SSL_WANT_WRITE) {
            check(n, "ssl_write");
        }
    }
}

/* ---- one measurement
 * ------------------------------------------------------------------------- */

enum setup { ZSOCK_TLS, MBEDTLS_ZSOCK, MBEDTLS_KERNEL };
static const char *const setup_names[] = {"zsock-tls", "mbedtls/z", "mbedtls/k"};

struct job {
    enum setup setup;
    const struct bench_api *A;
    int listener;
    int suite;
    int count;       /* connections */
    bool resume;     /* session caches on */
    size_t total;    /* bulk bytes from the client; 0: handshakes only */
    size_t received; /* server: bytes received */
};

static void *server_thread(void *arg)
{
    struct job *j = arg;
    struct side s;
    if (j->setup != ZSOCK_TLS) {
        side_init(&s, true, j->suite, j->resume);
    }
    static __thread char buf[APP_CHUNK];
    for (int i = 0; i < j->count; i++) {
        int fd = j->A->accept(j->listener, NULL, NULL);
        if (fd < 0) {
            fprintf(stderr, "bench_tls: %s accept: %s\n", setup_names[j->setup], strerror(errno));
            exit(1);
        }
        nodelay(j->A, fd);
        if (j->setup == ZSOCK_TLS) {
            ssize_t n;
            while ((n = zsock_recv(fd, buf, sizeof(buf), 0)) > 0) {
                j->received += (size_t)n;
            }
        } else {
            struct bio b = {j->A, fd};
            side_handshake(&s, &b);
            j->received += side_drain(&s);
            mbedtls_ssl_close_notify(&s.ssl);
        }
        j->A->close(fd);
    }
    if (j->setup != ZSOCK_TLS) {
        side_free(&s);
    }
    return NULL;
}

/* Resumed handshakes seen by the clients, and handshakes, per set-up. */
static long resumed_sum[3], handshake_sum[3];

/* Handshakes per second (count connections, no data; with `resume`, the
 * session caches on), or MiB/s of one transfer of `total` bytes. Negative
 * when the set-up is not available. */
static double measure(enum setup setup, int suite, int count, size_t total, bool resume)
{
    const struct bench_api *A = setup == MBEDTLS_KERNEL ? &linux_api : &zsock_api;
    int proto = setup == ZSOCK_TLS ? IPPROTO_TLS_1_2 : IPPROTO_TCP;
    uint16_t port;
    sec_tag_t tag = suite == SUITE_ECDSA ? TAG_EC : TAG_RSA;
    int l = make_listener(A, proto, tag, suite, resume, &port);
    if (l < 0) {
        return -errno;
    }
    struct job j = {setup, A, l, suite, total > 0 ? 1 : count, resume, total, 0};
    pthread_t t;
    pthread_create(&t, NULL, server_thread, &j);
    struct side s;
    if (setup != ZSOCK_TLS) {
        side_init(&s, false, suite, resume);
    }
    static unsigned char buf[APP_CHUNK];
    memset(buf, 0x5a, sizeof(buf));
    double t0 = now_s();
    for (int i = 0; i < j.count; i++) {
        int c = make_client(A, proto, suite, resume, port);
        struct bio b = {A, c};
        bool resumed = false;
        if (setup != ZSOCK_TLS) {
            resumed = side_handshake(&s, &b);
        } else {
            struct z_tls_info info;
            resumed = z_tls_get_info(c, &info) == 0 && info.resumed;
        }
        resumed_sum[setup] += resumed;
        handshake_sum[setup]++;
        if (total > 0) {
            t0 = now_s(); /* bulk: the handshake is not timed */
            for (size_t sent = 0; sent < total;) {
                size_t len = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
                if (setup == ZSOCK_TLS) {
                    ssize_t n = zsock_send(c, buf, len, 0);
                    if (n <= 0) {
                        fprintf(stderr, "bench_tls: zsock_send: %s\n", strerror(errno));
                        exit(1);
                    }
                    sent += (size_t)n;
                } else {
                    side_write_all(&s, buf, len);
                    sent += len;
                }
            }
        }
        if (setup != ZSOCK_TLS) {
            mbedtls_ssl_close_notify(&s.ssl);
        }
        A->close(c);
    }
    pthread_join(t, NULL);
    double dt = now_s() - t0;
    A->close(l);
    if (setup != ZSOCK_TLS) {
        side_free(&s);
    }
    if (total > 0 && j.received != total) {
        fprintf(stderr, "bench_tls: %s received %zu of %zu bytes\n", setup_names[setup], j.received,
                total);
        exit(1);
    }
    return total > 0 ? (double)total / (1 << 20) / dt : count / dt;
}

/* The medians of `runs` measurements of each set-up into out[] (negative:
 * not available). The set-ups take turns run by run, so a change of load
 * on the machine during the benchmark touches all of them alike. */
static void medians(int suite, int count, size_t total, bool resume, int runs, double *out)
{
    double v[3][16];
    bool absent[3] = {false, false, false};
    for (int k = 0; k < 3; k++) {
        if (only_setup >= 0 && k != only_setup) {
            absent[k] = true;
            out[k] = -ENOTSUP;
        }
    }
    for (int r = 0; r < runs; r++) {
        for (int k = 0; k < 3; k++) {
            if (!absent[k]) {
                v[k][r] = measure((enum setup)k, suite, count, total, resume);
                absent[k] = v[k][r] < 0;
                out[k] = v[k][r];
            }
        }
    }
    for (int k = 0; k < 3; k++) {
        if (verbose && !absent[k]) {
            printf("  %-10s %s runs:", setup_names[k], total > 0 ? "bulk MiB/s" : "handshakes/s");
            for (int r = 0; r < runs; r++) {
                printf(" %.1f", v[k][r]);
            }
            printf("\n");
        }
        if (!absent[k]) {
            out[k] = median(v[k], runs);
        }
    }
}

static void print_row(const char *label, const double *v)
{
    char cell[3][32];
    for (int k = 0; k < 3; k++) {
        if (v[k] < 0) {
            snprintf(cell[k], sizeof(cell[k]), "n/a");
        } else {
            snprintf(cell[k], sizeof(cell[k]), "%.1f", v[k]);
        }
    }
    printf("%-36s %11s %11s %11s", label, cell[0], cell[1], cell[2]);
    if (v[0] >= 0 && v[1] > 0 && v[2] > 0) {
        printf(" %8.2f %8.2f\n", v[0] / v[1], v[0] / v[2]);
    } else {
        printf(" %8s %8s\n", "-", "-");
    }
}

int main(int argc, char **argv)
{
    int runs = 5, handshakes = 200;
    size_t total = (size_t)256 << 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            runs = 3;
            handshakes = 40;
            total = (size_t)32 << 20;
        } else if (strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else if (strncmp(argv[i], "--setup=", 8) == 0) {
            for (int k = 0; k < 3; k++) {
                if (strcmp(argv[i] + 8, setup_names[k]) == 0) {
                    only_setup = k;
                }
            }
            if (only_setup < 0) {
                fprintf(stderr, "bench_tls: --setup=zsock-tls|mbedtls/z|mbedtls/k\n");
                return 2;
            }
        } else if (strncmp(argv[i], "--pki=", 6) == 0) {
            pki_dir = argv[i] + 6;
        } else if (strncmp(argv[i], "--bytes=", 8) == 0) {
            total = strtoull(argv[i] + 8, NULL, 0);
        } else if (strncmp(argv[i], "--handshakes=", 13) == 0) {
            handshakes = atoi(argv[i] + 13);
        } else {
            fprintf(stderr, "usage: bench_tls [--quick] [--verbose] [--setup=NAME] [--pki=DIR] "
                            "[--bytes=N] [--handshakes=N]\n");
            return 2;
        }
    }
    if (total == 0 || handshakes < 1) {
        fprintf(stderr, "bench_tls: --bytes and --handshakes must be positive\n");
        return 2;
    }
    add_cred(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt");
    add_cred(TAG_EC, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-ec.crt");
    add_cred(TAG_EC, TLS_CREDENTIAL_PRIVATE_KEY, "server-ec.key");
    add_cred(TAG_RSA, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-rsa.crt");
    add_cred(TAG_RSA, TLS_CREDENTIAL_PRIVATE_KEY, "server-rsa.key");
    load_mbedtls_credentials();

    double hs_ec[3], hs_rsa[3], hs_res[3], bulk[3];
    long resumed[3] = {0, 0, 0}, resumable[3] = {0, 0, 0};
    int missing = 0;
    medians(SUITE_ECDSA, handshakes, 0, false, runs, hs_ec);
    medians(SUITE_RSA, handshakes, 0, false, runs, hs_rsa);
    /* Every connection after the first of a run can resume. */
    long r0[3], h0[3];
    memcpy(r0, resumed_sum, sizeof(r0));
    memcpy(h0, handshake_sum, sizeof(h0));
    medians(SUITE_ECDSA, handshakes, 0, true, runs, hs_res);
    for (int k = 0; k < 3; k++) {
        resumed[k] = resumed_sum[k] - r0[k];
        resumable[k] = handshake_sum[k] - h0[k] > runs ? handshake_sum[k] - h0[k] - runs : 0;
    }
    medians(SUITE_ECDSA, 1, total, false, runs, bulk);
    if (hs_ec[0] < 0 && only_setup < 0) {
        missing = (int)-hs_ec[0];
    }
    printf("TLS 1.2 loopback benchmark (mbedTLS %s): median of %d runs; %d handshakes a run, "
           "%zu MiB bulk\n",
           MBEDTLS_VERSION_STRING, runs, handshakes, total >> 20);
    printf("  zsock-tls: zsock TLS sockets; mbedtls/z: mbedTLS by hand on zsock TCP; "
           "mbedtls/k: on Linux TCP\n");
    printf("%-36s %11s %11s %11s %8s %8s\n", "test", "zsock-tls", "mbedtls/z", "mbedtls/k", "tls/z",
           "tls/k");
    print_row("handshakes/s ECDHE-ECDSA P-256", hs_ec);
    print_row("handshakes/s ECDHE-RSA 2048", hs_rsa);
    print_row("handshakes/s ECDSA, session cache on", hs_res);
    print_row("bulk MiB/s AES-128-GCM", bulk);
    if (missing != 0) {
        printf("(zsock TLS sockets not available: %s)\n", strerror(missing));
    } else if (bulk[1] > 0) {
        printf("TLS socket layer cost on bulk throughput: %.1f%% (target: under 10%%)\n",
               100.0 * (1.0 - bulk[0] / bulk[1]));
    }
    if (missing == 0) {
        printf(
            "session cache on: resumed handshakes %ld of %ld (zsock-tls), %ld of %ld (mbedtls/z), "
            "%ld of %ld (mbedtls/k)\n",
            resumed[0], resumable[0], resumed[1], resumable[1], resumed[2], resumable[2]);
    }
    printf("(ratio > 1: zsock TLS sockets faster)\n");
    return 0;
}
