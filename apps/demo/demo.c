/* zsock demo: a TLS HTTP server and a client in one process.
 *
 *   zsock_demo [--size BYTES] [--port PORT] [--pki DIR]
 *   zsock_demo --tap [IFNAME] [--serve SECONDS] ...       (root)
 *
 * The server thread listens for TLS 1.2 on every interface of zsock's stack
 * and serves a page and a large file (32 MiB by default, generated in
 * memory). The client connects over the in-process loopback (127.0.0.1, no
 * privilege), verifies the server's certificate against the test CA and the
 * name "localhost", fetches both over one connection, checks the file's
 * SHA-256 against the server's and prints the handshake time, the cipher
 * suite, the bytes and the throughput.
 *
 * With --tap, the server is also on a TAP interface (default zsock0): zsock
 * is 192.0.2.2/24 on it and the demo gives the host's end 192.0.2.1/24, so
 * `curl --cacert .../ca.crt https://192.0.2.2:8443/` on the host reaches it.
 * The demo then serves until SIGINT/SIGTERM, or for --serve SECONDS. */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#ifndef DEMO_PKI_DIR
#define DEMO_PKI_DIR "tests/tls/pki"
#endif

#define TAG_SERVER 1 /* server certificate and key */
#define TAG_CA     2 /* the CA the client trusts */

static struct {
    size_t size;
    int port;
    const char *pki;
    const char *tap; /* NULL: loopback only */
    int serve_s;     /* --tap: serve this long (0: until a signal) */
} opt = {.size = 32u << 20, .port = 8443, .pki = DEMO_PKI_DIR};

static unsigned char *big;         /* the large file, made at start */
static char big_sha[65];           /* its SHA-256, as the server knows it */
static volatile sig_atomic_t stop; /* SIGINT/SIGTERM */
static int served_requests;        /* by the server, for the last line */
static pthread_mutex_t served_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conns_done = PTHREAD_COND_INITIALIZER;
static int active_conns; /* connection threads running, under served_lock */

static const char page[] =
    "<!DOCTYPE html>\n<html><head><title>zsock</title></head><body>\n"
    "<h1>Hello from zsock</h1>\n"
    "<p>This page came over TLS 1.2 from a server running on zsock's own TCP/IP stack.</p>\n"
    "<p><a href=\"/big.bin\">big.bin</a>: a large file to measure throughput.</p>\n"
    "</body></html>\n";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sha256_hex(const unsigned char digest[32], char out[65])
{
    for (int i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
    }
}

/* Read a file of the PKI into the credential store (PEM with its NUL). */
static int add_credential(sec_tag_t tag, enum tls_credential_type type, const char *name)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", opt.pki, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "demo: %s: %s (run from the source tree, or give --pki DIR)\n", path,
                strerror(errno));
        return -1;
    }
    static char buf[65536];
    size_t len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[len] = '\0';
    int rc = tls_credential_add(tag, type, buf, len + 1);
    if (rc < 0) {
        fprintf(stderr, "demo: tls_credential_add(%s): %s\n", name, strerror(-rc));
        return -1;
    }
    return 0;
}

/* ---- the server --------------------------------------------------------------------------- */

static int send_all(int fd, const void *buf, size_t len)
{
    /* A blocking send on zsock queues all of it, or fails. */
    return zsock_send(fd, buf, len, 0) == (ssize_t)len ? 0 : -1;
}

/* One connection: requests until the client closes (keep-alive). */
static void *serve_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char req[4096];
    size_t len = 0;
    for (;;) {
        char *end;
        req[len] = '\0';
        while ((end = strstr(req, "\r\n\r\n")) == NULL) {
            ssize_t n =
                len < sizeof(req) - 1 ? zsock_recv(fd, req + len, sizeof(req) - 1 - len, 0) : -1;
            if (n <= 0) {
                goto out; /* end of stream, error, or a head too long */
            }
            len += (size_t)n;
            req[len] = '\0';
        }
        char method[8] = "", path[256] = "";
        sscanf(req, "%7s %255s", method, path);
        const void *body = NULL;
        size_t blen = 0;
        const char *type = "text/plain", *status = "404 Not Found";
        if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
            body = page, blen = sizeof(page) - 1, type = "text/html", status = "200 OK";
        } else if (strcmp(path, "/big.bin") == 0) {
            body = big, blen = opt.size, type = "application/octet-stream", status = "200 OK";
        } else {
            body = "not found\n", blen = 10;
        }
        bool head_only = strcmp(method, "HEAD") == 0;
        char head[256];
        int hlen = snprintf(head, sizeof(head),
                            "HTTP/1.1 %s\r\nServer: zsock demo\r\nContent-Type: %s\r\n"
                            "Content-Length: %zu\r\nX-Content-SHA256: %s\r\n\r\n",
                            status, type, blen, body == big ? big_sha : "-");
        if (send_all(fd, head, (size_t)hlen) < 0 || (!head_only && send_all(fd, body, blen) < 0)) {
            break;
        }
        pthread_mutex_lock(&served_lock);
        served_requests++;
        pthread_mutex_unlock(&served_lock);
        if (strstr(req, "Connection: close") != NULL) {
            break;
        }
        size_t used = (size_t)(end + 4 - req);
        memmove(req, req + used, len - used);
        len -= used;
    }
out:
    zsock_close(fd);
    pthread_mutex_lock(&served_lock);
    active_conns--;
    pthread_cond_broadcast(&conns_done);
    pthread_mutex_unlock(&served_lock);
    return NULL;
}

/* Accept until told to stop; a thread per connection. */
static void *server(void *arg)
{
    int lfd = *(int *)arg;
    while (!stop) {
        /* A non-blocking listener: accept() returns at once and the
         * connection's thread runs the handshake in its first recv(). */
        struct zsock_pollfd pfd = {.fd = lfd, .events = ZSOCK_POLLIN};
        if (zsock_poll(&pfd, 1, 200) <= 0) {
            continue;
        }
        int fd = zsock_accept(lfd, NULL, NULL);
        if (fd < 0) {
            continue;
        }
        pthread_t t;
        pthread_mutex_lock(&served_lock);
        active_conns++;
        pthread_mutex_unlock(&served_lock);
        if (pthread_create(&t, NULL, serve_connection, (void *)(intptr_t)fd) == 0) {
            pthread_detach(t);
        } else {
            zsock_close(fd);
            pthread_mutex_lock(&served_lock);
            active_conns--;
            pthread_mutex_unlock(&served_lock);
        }
    }
    return NULL;
}

static int start_server(int *lfd)
{
    if (add_credential(TAG_SERVER, TLS_CREDENTIAL_SERVER_CERTIFICATE, "server-rsa.crt") < 0 ||
        add_credential(TAG_SERVER, TLS_CREDENTIAL_PRIVATE_KEY, "server-rsa.key") < 0) {
        return -1;
    }
    int fd = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2);
    sec_tag_t tags[] = {TAG_SERVER};
    int one = 1;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    if (fd < 0 || zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags, sizeof(tags)) < 0 ||
        zsock_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        zsock_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || zsock_listen(fd, 16) < 0 ||
        zsock_fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
        perror("demo: server socket");
        return -1;
    }
    *lfd = fd;
    printf("server: TLS 1.2 on port %d of every zsock interface, certificate %s/server-rsa.crt\n",
           opt.port, opt.pki);
    return 0;
}

/* ---- the client --------------------------------------------------------------------------- */

/* Read one response on fd: its status, its body hashed into `digest` (if
 * not NULL) or kept in `keep` (up to keep_len bytes), and its length. */
static int get(int fd, const char *path, size_t *body_len, unsigned char digest[32], char *keep,
               size_t keep_len, char server_sha[65])
{
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    if (send_all(fd, req, (size_t)n) < 0) {
        return -1;
    }
    static char buf[65536];
    size_t len = 0;
    char *end = NULL;
    while (end == NULL) {
        ssize_t got = zsock_recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (got <= 0) {
            return -1;
        }
        len += (size_t)got;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    const char *cl = strstr(buf, "Content-Length: ");
    const char *sh = strstr(buf, "X-Content-SHA256: ");
    size_t want = cl != NULL ? strtoul(cl + 16, NULL, 10) : 0;
    if (server_sha != NULL && sh != NULL) {
        snprintf(server_sha, 65, "%.64s", sh + 18);
    }
    mbedtls_sha256_context sha;
    mbedtls_sha256_init(&sha);
    mbedtls_sha256_starts_ret(&sha, 0);

    /* The body: what came with the head, then exactly Content-Length. */
    size_t have = len - (size_t)(end + 4 - buf);
    const char *p = end + 4;
    size_t total = 0;
    for (;;) {
        if (have > want - total) {
            have = want - total; /* nothing else was asked for */
        }
        if (digest != NULL) {
            mbedtls_sha256_update_ret(&sha, (const unsigned char *)p, have);
        } else if (keep != NULL && total < keep_len) {
            size_t k = have < keep_len - total ? have : keep_len - total;
            memcpy(keep + total, p, k);
        }
        total += have;
        if (total == want) {
            break;
        }
        ssize_t got = zsock_recv(fd, buf, sizeof(buf), 0);
        if (got <= 0) {
            mbedtls_sha256_free(&sha);
            return -1;
        }
        p = buf;
        have = (size_t)got;
    }
    if (digest != NULL) {
        mbedtls_sha256_finish_ret(&sha, digest);
    }
    mbedtls_sha256_free(&sha);
    *body_len = total;
    return status;
}

static int client(void)
{
    if (add_credential(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt") < 0) {
        return -1;
    }
    int fd = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2);
    if (fd < 0) {
        perror("demo: client socket");
        return -1;
    }
    /* Verification is required for a client by default: trust the test CA
     * and check that the certificate names "localhost". */
    sec_tag_t tags[] = {TAG_CA};
    zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags, sizeof(tags));
    zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, "localhost", sizeof("localhost"));
    struct timeval tv = {.tv_sec = 10};
    zsock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
    zsock_inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    double t0 = now_s();
    if (zsock_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        /* EACCES or EPROTO here: the certificate did not verify. */
        fprintf(stderr, "demo: connect/handshake: %s\n", strerror(errno));
        zsock_close(fd);
        return -1;
    }
    double hs = now_s() - t0;
    int suite = 0;
    socklen_t slen = sizeof(suite);
    zsock_getsockopt(fd, SOL_TLS, TLS_CIPHERSUITE_USED, &suite, &slen);
    const char *name = mbedtls_ssl_get_ciphersuite_name(suite);
    printf("client: connected to 127.0.0.1:%d, TCP + TLS handshake in %.1f ms\n", opt.port,
           hs * 1e3);
    printf("client: certificate verified (CA ca.crt, name localhost), cipher suite %s (0x%04x)\n",
           name != NULL ? name : "?", suite);

    char text[sizeof(page)] = "";
    size_t n = 0;
    int st = get(fd, "/", &n, NULL, text, sizeof(text) - 1, NULL);
    char *h1 = strstr(text, "<h1>"), *h1e = h1 != NULL ? strstr(h1, "</h1>") : NULL;
    printf("client: GET / -> %d, %zu bytes: \"%.*s\"\n", st, n,
           h1e != NULL ? (int)(h1e - h1 - 4) : 0, h1 != NULL ? h1 + 4 : "");
    bool ok = st == 200 && n == sizeof(page) - 1 && memcmp(text, page, n) == 0;

    unsigned char digest[32];
    char got_sha[65], server_sha[65] = "";
    t0 = now_s();
    st = get(fd, "/big.bin", &n, digest, NULL, 0, server_sha);
    double dt = now_s() - t0;
    zsock_close(fd);
    sha256_hex(digest, got_sha);
    printf("client: GET /big.bin -> %d, %zu bytes in %.3f s: %.0f MiB/s (%.2f Gbit/s)\n", st, n, dt,
           (double)n / (1 << 20) / dt, (double)n * 8 / 1e9 / dt);
    bool same = strcmp(got_sha, server_sha) == 0 && strcmp(got_sha, big_sha) == 0;
    printf("client: sha256 %s %s\n", got_sha, same ? "matches the server's" : "DIFFERS");
    ok = ok && st == 200 && n == opt.size && same;
    return ok ? 0 : -1;
}

/* ---- --tap: the host's end of the TAP device ---------------------------------------------- */

/* Give the kernel's end of the TAP device 192.0.2.1/24 and bring it up, with
 * the kernel's own ioctls (the TAP device is a Linux interface). */
static int configure_host_side(const char *ifname)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;
    a->sin_family = AF_INET;
    zsock_inet_pton(AF_INET, "192.0.2.1", &a->sin_addr);
    int rc = s < 0 ? -1 : ioctl(s, SIOCSIFADDR, &ifr);
    zsock_inet_pton(AF_INET, "255.255.255.0", &a->sin_addr);
    rc = rc < 0 ? rc : ioctl(s, SIOCSIFNETMASK, &ifr);
    rc = rc < 0 ? rc : ioctl(s, SIOCGIFFLAGS, &ifr);
    ifr.ifr_flags |= IFF_UP;
    rc = rc < 0 ? rc : ioctl(s, SIOCSIFFLAGS, &ifr);
    if (rc < 0) {
        fprintf(stderr, "demo: host side of %s: %s\n", ifname, strerror(errno));
    }
    if (s >= 0) {
        close(s);
    }
    return rc;
}

static int setup_tap(void)
{
    int ifindex = zsock_if_add_tap(opt.tap);
    if (ifindex < 0) {
        fprintf(stderr, "demo: TAP %s: %s (--tap needs root or CAP_NET_ADMIN)\n", opt.tap,
                strerror(-ifindex));
        return -1;
    }
    struct in_addr addr;
    zsock_inet_pton(AF_INET, "192.0.2.2", &addr);
    if (zsock_if_add_ipv4(ifindex, &addr, 24) < 0 || zsock_if_up(ifindex) < 0 ||
        configure_host_side(opt.tap) < 0) {
        return -1;
    }
    printf("tap: zsock is 192.0.2.2/24 on %s, the host 192.0.2.1/24\n", opt.tap);
    return 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: zsock_demo [--size BYTES] [--port PORT] [--pki DIR]\n"
                 "       zsock_demo --tap [IFNAME] [--serve SECONDS] [...]   (root)\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"size", required_argument, NULL, 's'},
        {"port", required_argument, NULL, 'p'},
        {"pki", required_argument, NULL, 'k'},
        {"tap", optional_argument, NULL, 't'},
        {"serve", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            opt.size = strtoul(optarg, NULL, 0);
            break;
        case 'p':
            opt.port = atoi(optarg);
            break;
        case 'k':
            opt.pki = optarg;
            break;
        case 't':
            /* --tap, --tap=NAME or --tap NAME */
            opt.tap = optarg != NULL ? optarg : "zsock0";
            if (optarg == NULL && optind < argc && argv[optind][0] != '-') {
                opt.tap = argv[optind++];
            }
            break;
        case 'S':
            opt.serve_s = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || opt.size == 0) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("zsock demo: a TLS HTTP server and a client in one process, on zsock's own stack\n");

    /* The large file, and its SHA-256 as the server announces it. */
    big = malloc(opt.size);
    if (big == NULL) {
        fprintf(stderr, "demo: no memory for %zu bytes\n", opt.size);
        return 1;
    }
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (size_t i = 0; i < opt.size; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
        big[i] = (unsigned char)x;
    }
    unsigned char d[32];
    mbedtls_sha256_ret(big, opt.size, d, 0);
    sha256_hex(d, big_sha);

    if (opt.tap != NULL && setup_tap() < 0) {
        return 1;
    }
    int lfd;
    if (start_server(&lfd) < 0) {
        return 1;
    }
    pthread_t st;
    pthread_create(&st, NULL, server, &lfd);

    int rc = client();

    if (rc == 0 && opt.tap != NULL) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        char pki[4096];
        if (realpath(opt.pki, pki) == NULL) {
            snprintf(pki, sizeof(pki), "%s", opt.pki);
        }
        printf("tap: from the host, run:\n  curl --cacert %s/ca.crt https://192.0.2.2:%d/\n"
               "tap: serving %s\n",
               pki, opt.port, opt.serve_s > 0 ? "for a while" : "until Ctrl-C");
        for (int i = 0; !stop && (opt.serve_s == 0 || i < opt.serve_s * 10); i++) {
            usleep(100000);
        }
    }
    stop = 1;
    pthread_join(st, NULL);
    zsock_close(lfd);
    /* Connections still open (a curl that did not close) end with the
     * process; wait at most a moment for the others to finish. */
    pthread_mutex_lock(&served_lock);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    while (active_conns > 0 && pthread_cond_timedwait(&conns_done, &served_lock, &until) == 0) {
    }
    printf("server: %d requests served\n", served_requests);
    pthread_mutex_unlock(&served_lock);
    printf("demo: %s\n", rc == 0 ? "OK" : "FAILED");
    free(big);
    return rc == 0 ? 0 : 1;
}
