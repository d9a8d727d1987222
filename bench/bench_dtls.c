/* DTLS benchmark on loopback: handshakes per second (ECDHE-ECDSA P-256,
 * AES-128-GCM, with the cookie exchange) and record throughput (1 KiB
 * records, AES-128-GCM), client and server in two threads of this process,
 * for two set-ups measured in the same run with the same mbedTLS,
 * certificates (tests/tls/pki) and suite:
 *   zsock-dtls  zsock's DTLS sockets (IPPROTO_DTLS_1_2 over zsock UDP on its
 *               in-process loopback): one server socket serves every client;
 *   mbedtls/k   mbedTLS driven by hand (mbedtls_ssl_* with a BIO on Linux
 *               kernel UDP sockets over 127.0.0.1), serving one client at a
 *               time as mbedTLS's dtls_server example does.
 * A zsock-dtls handshake includes what a DTLS socket does per connection
 * (socket creation, options, parsing its credentials); the hand-driven one
 * parses them once. Throughput: the client sends records in windows of
 * WINDOW and waits for the server's one-byte acknowledgement after each
 * (UDP has no flow control; neither side drops a record). Prints medians of
 * several runs and their ratio; never passes or fails on time.
 * Usage: bench_dtls [--quick] [--pki=DIR] [--bytes=N] [--handshakes=N]. */
#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include "bench_util.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/timing.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef ZSOCK_TLS_PKI_DIR
#define ZSOCK_TLS_PKI_DIR "tests/tls/pki"
#endif

#define SUITE    0xC02B /* TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256 */
#define RECORD   1024
#define WINDOW   32
#define TAG_CA   200
#define TAG_EC   201
#define KERN_SRV 0 /* kernel port: chosen at bind */

static const char *pki_dir = ZSOCK_TLS_PKI_DIR;

enum setup { ZSOCK, KERNEL, NSETUPS };
static const char *const setup_names[NSETUPS] = {"zsock-dtls", "mbedtls/k"};

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "bench_dtls: %s: %d (-0x%04x)\n", what, rc, (unsigned)-rc);
        exit(1);
    }
}

/* ---- zsock DTLS sockets
 * ------------------------------------------------------------------------ */

struct job {
    enum setup setup;
    bool bulk;
    int fd; /* the server's socket */
    uint16_t port;
    atomic_bool stop;
    size_t received;
};

static void *zsock_server(void *arg)
{
    struct job *j = arg;
    static unsigned char buf[20000];
    long count = 0;
    while (!atomic_load(&j->stop)) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof(from);
        ssize_t n = zsock_recvfrom(j->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (n <= 0) {
            continue;
        }
        j->received += (size_t)n;
        if (++count % WINDOW == 0 || buf[0] == 'E') {
            zsock_sendto(j->fd, "A", 1, 0, (struct sockaddr *)&from, fl);
        }
    }
    return NULL;
}

static int zsock_client(uint16_t port)
{
    int c = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2);
    sec_tag_t tag = TAG_CA;
    int suites[] = {SUITE};
    zsock_setsockopt(c, SOL_TLS, TLS_SEC_TAG_LIST, &tag, sizeof(tag));
    zsock_setsockopt(c, SOL_TLS, TLS_CIPHERSUITE_LIST, suites, sizeof(suites));
    zsock_setsockopt(c, SOL_TLS, TLS_HOSTNAME, "server.test", 11);
    struct sockaddr_in a = bench_loopback(port);
    if (zsock_connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
        fprintf(stderr, "bench_dtls: zsock connect: %s\n", strerror(errno));
        exit(1);
    }
    return c;
}

/* ---- mbedTLS by hand on kernel UDP sockets
 * ---------------------------------------------------- */

static mbedtls_x509_crt ca_crt, ec_crt;
static mbedtls_pk_context ec_key;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_entropy_context entropy;
static mbedtls_ssl_config srv_conf, cli_conf;
static mbedtls_ssl_cookie_ctx cookie;
static const int suite_list[] = {SUITE, 0};

struct kbio {
    int fd;
    struct sockaddr_in peer; /* the server's current client */
    bool server;
};

static int k_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct kbio *b = ctx;
    ssize_t n = b->server ? sendto(b->fd, buf, len, 0, (struct sockaddr *)&b->peer, sizeof(b->peer))
                          : send(b->fd, buf, len, 0);
    return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)n;
}

static int k_recv_timeout(void *ctx, unsigned char *buf, size_t len, uint32_t timeout)
{
    struct kbio *b = ctx;
    struct pollfd p = {.fd = b->fd, .events = POLLIN};
    if (poll(&p, 1, timeout == 0 ? -1 : (int)timeout) == 0) {
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    ssize_t n = recv(b->fd, buf, len, 0);
    return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)n;
}

/* The drbg is shared by the two threads: mbedTLS's CTR-DRBG is not
 * thread-safe without MBEDTLS_THREADING, so a lock around it. */
static pthread_mutex_t drbg_mu = PTHREAD_MUTEX_INITIALIZER;

static int locked_random(void *ctx, unsigned char *out, size_t len)
{
    pthread_mutex_lock(&drbg_mu);
    int rc = mbedtls_ctr_drbg_random(ctx, out, len);
    pthread_mutex_unlock(&drbg_mu);
    return rc;
}

static void kernel_init(void)
{
    size_t len;
    unsigned char *p;
    mbedtls_x509_crt_init(&ca_crt);
    mbedtls_x509_crt_init(&ec_crt);
    mbedtls_pk_init(&ec_key);
    p = bench_read_pki("bench_dtls", pki_dir, "ca.crt", &len);
    check(mbedtls_x509_crt_parse(&ca_crt, p, len), "parse ca.crt");
    free(p);
    p = bench_read_pki("bench_dtls", pki_dir, "server-ec.crt", &len);
    check(mbedtls_x509_crt_parse(&ec_crt, p, len), "parse server-ec.crt");
    free(p);
    p = bench_read_pki("bench_dtls", pki_dir, "server-ec.key", &len);
    check(mbedtls_pk_parse_key(&ec_key, p, len, NULL, 0), "parse server-ec.key");
    free(p);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    check(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0), "drbg");
    mbedtls_ssl_config_init(&srv_conf);
    mbedtls_ssl_config_init(&cli_conf);
    check(mbedtls_ssl_config_defaults(&srv_conf, MBEDTLS_SSL_IS_SERVER,
                                      MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT),
          "server config");
    check(mbedtls_ssl_config_defaults(&cli_conf, MBEDTLS_SSL_IS_CLIENT,
                                      MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT),
          "client config");
    mbedtls_ssl_conf_rng(&srv_conf, locked_random, &drbg);
    mbedtls_ssl_conf_rng(&cli_conf, locked_random, &drbg);
    check(mbedtls_ssl_conf_own_cert(&srv_conf, &ec_crt, &ec_key), "own cert");
    mbedtls_ssl_conf_ca_chain(&cli_conf, &ca_crt, NULL);
    mbedtls_ssl_conf_authmode(&cli_conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ciphersuites(&cli_conf, suite_list);
    mbedtls_ssl_cookie_init(&cookie);
    check(mbedtls_ssl_cookie_setup(&cookie, locked_random, &drbg), "cookie");
    mbedtls_ssl_conf_dtls_cookies(&srv_conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                  &cookie);
}

/* One DTLS side by hand: the context, its BIO and timer. */
struct kside {
    mbedtls_ssl_context ssl;
    mbedtls_timing_delay_context timer;
    struct kbio bio;
};

static void kside_init(struct kside *s, mbedtls_ssl_config *conf, int fd, bool server)
{
    mbedtls_ssl_init(&s->ssl);
    check(mbedtls_ssl_setup(&s->ssl, conf), "ssl setup");
    s->bio.fd = fd;
    s->bio.server = server;
    mbedtls_ssl_set_bio(&s->ssl, &s->bio, k_send, NULL, k_recv_timeout);
    mbedtls_ssl_set_timer_cb(&s->ssl, &s->timer, mbedtls_timing_set_delay,
                             mbedtls_timing_get_delay);
}

static void *kernel_server(void *arg)
{
    struct job *j = arg;
    struct kside s;
    kside_init(&s, &srv_conf, j->fd, true);
    static unsigned char buf[20000];
    while (!atomic_load(&j->stop)) {
        mbedtls_ssl_session_reset(&s.ssl);
        /* The next client: whoever sends the next datagram. */
        struct pollfd p = {.fd = j->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0) {
            continue;
        }
        socklen_t pl = sizeof(s.bio.peer);
        if (recvfrom(j->fd, buf, 1, MSG_PEEK, (struct sockaddr *)&s.bio.peer, &pl) < 0) {
            continue;
        }
        mbedtls_ssl_set_client_transport_id(&s.ssl, (unsigned char *)&s.bio.peer, pl);
        int rc;
        do {
            rc = mbedtls_ssl_handshake(&s.ssl);
        } while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
        if (rc != 0) {
            continue; /* HelloVerifyRequest sent: the client comes back with its cookie */
        }
        long count = 0;
        for (;;) {
            rc = mbedtls_ssl_read(&s.ssl, buf, sizeof(buf));
            if (rc <= 0) {
                break; /* close_notify */
            }
            j->received += (size_t)rc;
            if (++count % WINDOW == 0 || buf[0] == 'E') {
                mbedtls_ssl_write(&s.ssl, (const unsigned char *)"A", 1);
            }
        }
    }
    mbedtls_ssl_free(&s.ssl);
    return NULL;
}

/* ---- the measurements
 * ------------------------------------------------------------------------- */

static int kernel_client_connect(uint16_t port, struct kside *s)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = bench_loopback(port);
    connect(fd, (struct sockaddr *)&a, sizeof(a));
    kside_init(s, &cli_conf, fd, false);
    check(mbedtls_ssl_set_hostname(&s->ssl, "server.test"), "hostname");
    int rc;
    do {
        rc = mbedtls_ssl_handshake(&s->ssl);
    } while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
    check(rc, "kernel client handshake");
    return fd;
}

static void kernel_client_close(int fd, struct kside *s)
{
    mbedtls_ssl_close_notify(&s->ssl);
    mbedtls_ssl_free(&s->ssl);
    close(fd);
}

/* Send `total` bytes in RECORD-byte records, waiting for the server's
 * acknowledgement after every WINDOW; the last record asks for one. */
static void bulk_send(enum setup setup, int fd, struct kside *s, size_t total)
{
    static unsigned char rec[RECORD], ack[16];
    memset(rec, 'D', sizeof(rec));
    size_t sent = 0;
    long n = 0;
    while (sent < total) {
        size_t len = total - sent < RECORD ? total - sent : RECORD;
        bool last = sent + len == total;
        rec[0] = last ? 'E' : 'D';
        int rc = setup == ZSOCK ? (int)zsock_send(fd, rec, len, 0)
                                : mbedtls_ssl_write(&s->ssl, rec, len);
        if (rc != (int)len) {
            fprintf(stderr, "bench_dtls: %s send: %d\n", setup_names[setup], rc);
            exit(1);
        }
        sent += len;
        if (++n % WINDOW == 0 || last) {
            rc = setup == ZSOCK ? (int)zsock_recv(fd, ack, sizeof(ack), 0)
                                : mbedtls_ssl_read(&s->ssl, ack, sizeof(ack));
            if (rc != 1) {
                fprintf(stderr, "bench_dtls: %s ack: %d\n", setup_names[setup], rc);
                exit(1);
            }
        }
    }
}

/* One run: handshakes per second (total == 0) or MiB/s. */
static double measure(enum setup setup, int count, size_t total)
{
    struct job j = {.setup = setup};
    pthread_t th;
    if (setup == ZSOCK) {
        j.fd = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2);
        sec_tag_t tag = TAG_EC;
        int role = TLS_DTLS_ROLE_SERVER;
        zsock_setsockopt(j.fd, SOL_TLS, TLS_SEC_TAG_LIST, &tag, sizeof(tag));
        zsock_setsockopt(j.fd, SOL_TLS, TLS_DTLS_ROLE, &role, sizeof(role));
        struct zsock_timeval tv = {.tv_usec = 50000};
        zsock_setsockopt(j.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        struct sockaddr_in a = bench_loopback(0);
        zsock_bind(j.fd, (struct sockaddr *)&a, sizeof(a));
        socklen_t al = sizeof(a);
        zsock_getsockname(j.fd, (struct sockaddr *)&a, &al);
        j.port = ntohs(a.sin_port);
        pthread_create(&th, NULL, zsock_server, &j);
    } else {
        j.fd = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in a = bench_loopback(KERN_SRV);
        bind(j.fd, (struct sockaddr *)&a, sizeof(a));
        socklen_t al = sizeof(a);
        getsockname(j.fd, (struct sockaddr *)&a, &al);
        j.port = ntohs(a.sin_port);
        pthread_create(&th, NULL, kernel_server, &j);
    }
    double t0 = now_s(), dt;
    if (total == 0) {
        for (int i = 0; i < count; i++) {
            if (setup == ZSOCK) {
                zsock_close(zsock_client(j.port));
            } else {
                struct kside s;
                kernel_client_close(kernel_client_connect(j.port, &s), &s);
            }
        }
        dt = now_s() - t0;
    } else {
        struct kside s;
        int fd = setup == ZSOCK ? zsock_client(j.port) : kernel_client_connect(j.port, &s);
        t0 = now_s();
        bulk_send(setup, fd, &s, total);
        dt = now_s() - t0;
        if (setup == ZSOCK) {
            zsock_close(fd);
        } else {
            kernel_client_close(fd, &s);
        }
    }
    atomic_store(&j.stop, true);
    pthread_join(th, NULL);
    if (setup == ZSOCK) {
        zsock_close(j.fd);
    } else {
        close(j.fd);
    }
    if (total > 0 && j.received != total) {
        fprintf(stderr, "bench_dtls: %s: the server received %zu of %zu bytes\n",
                setup_names[setup], j.received, total);
        exit(1);
    }
    return total == 0 ? count / dt : (double)total / dt / (1 << 20);
}

int main(int argc, char **argv)
{
    int runs = 5, handshakes = 100;
    size_t bytes = 32u << 20;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            runs = 3;
            handshakes = 30;
            bytes = 8u << 20;
        } else if (strncmp(argv[i], "--pki=", 6) == 0) {
            pki_dir = argv[i] + 6;
        } else if (strncmp(argv[i], "--bytes=", 8) == 0) {
            bytes = strtoul(argv[i] + 8, NULL, 0);
        } else if (strncmp(argv[i], "--handshakes=", 13) == 0) {
            handshakes = atoi(argv[i] + 13);
        } else {
            fprintf(stderr,
                    "usage: bench_dtls [--quick] [--pki=DIR] [--bytes=N] [--handshakes=N]\n");
            return 2;
        }
    }
    if (bytes == 0 || handshakes <= 0) {
        fprintf(stderr, "bench_dtls: --bytes and --handshakes must be positive\n");
        return 2;
    }
    size_t len;
    unsigned char *p = bench_read_pki("bench_dtls", pki_dir, "ca.crt", &len);
    check(tls_credential_add(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, p, len), "add ca");
    free(p); /* the store keeps a copy */
    p = bench_read_pki("bench_dtls", pki_dir, "server-ec.crt", &len);
    check(tls_credential_add(TAG_EC, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, p, len), "add crt");
    free(p);
    p = bench_read_pki("bench_dtls", pki_dir, "server-ec.key", &len);
    check(tls_credential_add(TAG_EC, TLS_CREDENTIAL_PRIVATE_KEY, p, len), "add key");
    free(p);
    kernel_init();

    char ver[32];
    mbedtls_version_get_string(ver);
    printf("DTLS 1.2 loopback benchmark (mbedTLS %s): median of %d runs; %d handshakes a run, "
           "%zu bytes of %d-byte records a run, ECDHE-ECDSA-AES128-GCM\n",
           ver, runs, handshakes, bytes, RECORD);
    printf("  zsock-dtls: zsock DTLS sockets on zsock UDP; mbedtls/k: mbedTLS by hand on kernel "
           "UDP\n");
    printf("%-30s %11s %11s %8s\n", "test", setup_names[0], setup_names[1], "ratio");
    const char *labels[2] = {"handshakes/s (cookie, full)", "records 1 KiB, MiB/s"};
    for (int t = 0; t < 2; t++) {
        double v[NSETUPS][16], med[NSETUPS];
        for (int r = 0; r < runs; r++) {
            for (int k = 0; k < NSETUPS; k++) {
                v[k][r] = measure((enum setup)k, handshakes, t == 0 ? 0 : bytes);
            }
        }
        for (int k = 0; k < NSETUPS; k++) {
            med[k] = median(v[k], runs);
        }
        printf("%-30s %11.1f %11.1f %8.2f\n", labels[t], med[0], med[1], med[0] / med[1]);
    }
    printf("(ratio > 1: zsock DTLS sockets faster)\n");
    return 0;
}
