/* Soak test (not in CI; tests/soak/soak.sh runs it): mixed TCP, UDP and
 * TLS traffic with connection churn on the default stack's loopback for
 * DURATION seconds. Every transfer is checked byte for byte (a position-
 * keyed pattern); one wrong transfer fails the run at once. Every SAMPLE
 * seconds it prints RSS, the C library's heap in use, the packet pool's
 * buffers and heap bytes in use and the open descriptors. At the end the
 * traffic stops, the stack goes quiet, and the figures are compared with
 * those of a quiet moment after the warm-up: descriptors and packet
 * buffers must be back where they were, RSS and heap within a margin.
 * Usage: soak DURATION_S [SAMPLE_S] [WARMUP_S]. Exit 0 clean, 1 failed. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include "net/net.h"
#include "sockets/fdtable.h"

#define TAG      11
#define TCP_PORT 7100
#define TLS_PORT 7101
#define UDP_PORT 7102
#define LOCAL    0x7f000001u

static atomic_bool stop;
static atomic_bool paused; /* workers idle while the figures are read quietly */
static atomic_int idle;    /* workers idle now */
static atomic_uint_fast64_t transfers, bytes_moved;

static void die(const char *what)
{
    fprintf(stderr, "soak: FAILED: %s (errno %d: %s)\n", what, errno, strerror(errno));
    fflush(stderr);
    _exit(1);
}

static uint8_t pattern(uint32_t id, uint64_t i)
{
    uint64_t x = (i + (uint64_t)id * 0x10001u) * 0x9e3779b97f4a7c15ULL;
    return (uint8_t)(x >> 56 ^ i);
}

static struct sockaddr_in addr(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(LOCAL);
    return a;
}

static void set_timeouts(int fd)
{
    struct zsock_timeval tv = {.tv_sec = 20};
    zsock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    zsock_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int set_tag(int fd)
{
    sec_tag_t t = TAG;
    return zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, &t, sizeof(t));
}

/* Pause point of the workers. */
static void maybe_pause(void)
{
    if (!atomic_load(&paused)) {
        return;
    }
    atomic_fetch_add(&idle, 1);
    while (atomic_load(&paused) && !atomic_load(&stop)) {
        usleep(10000);
    }
    atomic_fetch_sub(&idle, 1);
}

/* ---- stream servers: read a 12-byte header (id, length), then the
 * stream, check it, answer with the same length of the reply pattern ---- */

static void serve_stream(int s)
{
    set_timeouts(s);
    uint8_t hdr[12];
    size_t got = 0;
    while (got < sizeof(hdr)) {
        ssize_t r = zsock_recv(s, hdr + got, sizeof(hdr) - got, 0);
        if (r <= 0) {
            die("server: header");
        }
        got += (size_t)r;
    }
    uint32_t id;
    uint64_t len;
    memcpy(&id, hdr, 4);
    memcpy(&len, hdr + 4, 8);
    uint8_t buf[16384];
    for (uint64_t n = 0; n < len;) {
        ssize_t r = zsock_recv(s, buf, sizeof(buf), 0);
        if (r <= 0) {
            die("server: stream ended early");
        }
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != pattern(id, n + (uint64_t)i)) {
                die("server: wrong byte");
            }
        }
        n += (uint64_t)r;
    }
    for (uint64_t n = 0; n < len;) {
        size_t k = len - n < sizeof(buf) ? (size_t)(len - n) : sizeof(buf);
        for (size_t i = 0; i < k; i++) {
            buf[i] = pattern(id ^ 0xffffu, n + i);
        }
        ssize_t w = zsock_send(s, buf, k, 0);
        if (w <= 0) {
            die("server: send");
        }
        n += (uint64_t)w;
    }
    zsock_close(s);
}

static void *server_main(void *arg)
{
    int l = (int)(intptr_t)arg;
    for (;;) {
        int s = zsock_accept(l, NULL, NULL);
        if (s < 0) {
            if (atomic_load(&stop)) {
                return NULL;
            }
            if (errno == EAGAIN || errno == ETIMEDOUT || errno == ECONNABORTED) {
                continue; /* a client gone before its handshake ended */
            }
            die("accept");
        }
        serve_stream(s);
    }
}

/* One client exchange: connect, send `len` bytes, read the reply, close. */
static void client_once(bool tls, uint32_t id, uint64_t len)
{
    int c = zsock_socket(AF_INET, SOCK_STREAM, tls ? IPPROTO_TLS_1_2 : IPPROTO_TCP);
    if (c < 0) {
        die("socket");
    }
    set_timeouts(c);
    if (tls && set_tag(c) != 0) {
        die("TLS_SEC_TAG_LIST");
    }
    struct sockaddr_in a = addr(tls ? TLS_PORT : TCP_PORT);
    if (zsock_connect(c, (struct sockaddr *)&a, sizeof(a)) != 0) {
        die("connect");
    }
    uint8_t hdr[12], buf[16384];
    memcpy(hdr, &id, 4);
    memcpy(hdr + 4, &len, 8);
    if (zsock_send(c, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr)) {
        die("client: header");
    }
    for (uint64_t n = 0; n < len;) {
        size_t k = len - n < sizeof(buf) ? (size_t)(len - n) : sizeof(buf);
        for (size_t i = 0; i < k; i++) {
            buf[i] = pattern(id, n + i);
        }
        ssize_t w = zsock_send(c, buf, k, 0);
        if (w <= 0) {
            die("client: send");
        }
        n += (uint64_t)w;
    }
    for (uint64_t n = 0; n < len;) {
        ssize_t r = zsock_recv(c, buf, sizeof(buf), 0);
        if (r <= 0) {
            die("client: reply ended early");
        }
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != pattern(id ^ 0xffffu, n + (uint64_t)i)) {
                die("client: wrong byte in the reply");
            }
        }
        n += (uint64_t)r;
    }
    zsock_close(c);
    atomic_fetch_add(&transfers, 1);
    atomic_fetch_add(&bytes_moved, 2 * len);
}

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void *client_main(void *arg)
{
    uint64_t seed = (uint64_t)(intptr_t)arg;
    bool tls = seed == 3;
    uint32_t id = (uint32_t)seed << 24;
    while (!atomic_load(&stop)) {
        maybe_pause();
        uint64_t len = rng(&seed) % (tls ? 65536 : 262144);
        client_once(tls, id++, len);
        usleep(20000); /* churn, not a flood: TIME-WAIT keeps ports a minute */
    }
    return NULL;
}

/* UDP: a burst of datagrams to an echo socket; the echoes must match. */
static void *udp_main(void *arg)
{
    (void)arg;
    int srv = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    int cli = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = addr(UDP_PORT);
    if (srv < 0 || cli < 0 || zsock_bind(srv, (struct sockaddr *)&a, sizeof(a)) != 0) {
        die("udp socket");
    }
    set_timeouts(srv);
    set_timeouts(cli);
    uint64_t seed = 99;
    uint8_t out[9000], in[9000];
    for (uint32_t id = 0; !atomic_load(&stop); id++) {
        maybe_pause();
        size_t len = 8 + rng(&seed) % (sizeof(out) - 8);
        for (size_t i = 0; i < len; i++) {
            out[i] = pattern(id, i);
        }
        memcpy(out, &id, 4);
        if (zsock_sendto(cli, out, len, 0, (struct sockaddr *)&a, sizeof(a)) != (ssize_t)len) {
            die("udp sendto");
        }
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        ssize_t r = zsock_recvfrom(srv, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);
        if (r != (ssize_t)len || memcmp(in, out, len) != 0) {
            die("udp: datagram lost or wrong on the loopback");
        }
        if (zsock_sendto(srv, in, (size_t)r, 0, (struct sockaddr *)&from, fl) != r) {
            die("udp echo");
        }
        r = zsock_recv(cli, in, sizeof(in), 0);
        if (r != (ssize_t)len || memcmp(in, out, len) != 0) {
            die("udp: echo lost or wrong");
        }
        atomic_fetch_add(&bytes_moved, 2 * len);
        usleep(2000);
    }
    zsock_close(srv);
    zsock_close(cli);
    return NULL;
}

/* ---- figures ---- */

struct sample {
    long rss_kb;
    size_t heap;
    uint64_t pbufs, pbuf_heap;
    int fds;
};

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            v = strtol(line + 6, NULL, 10);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return v;
}

static struct sample take(void)
{
    struct sample s;
    struct z_stack *st = z_stack_default();
    z_mutex_lock(&st->pool.lock);
    s.pbufs = st->pool.stats.in_use;
    s.pbuf_heap = st->pool.stats.heap_in_use;
    z_mutex_unlock(&st->pool.lock);
    s.rss_kb = rss_kb();
    s.heap = mallinfo2().uordblks;
    s.fds = z_fd_count_open();
    return s;
}

static void print_sample(const char *what, double t, struct sample s)
{
    printf("soak: %-7s t=%6.0fs rss=%ld KiB heap=%zu KiB pbufs=%llu pbuf_heap=%llu fds=%d "
           "transfers=%llu MiB=%llu\n",
           what, t, s.rss_kb, s.heap / 1024, (unsigned long long)s.pbufs,
           (unsigned long long)s.pbuf_heap, s.fds, (unsigned long long)atomic_load(&transfers),
           (unsigned long long)(atomic_load(&bytes_moved) >> 20));
    fflush(stdout);
}

/* Stop the workers between transfers, let the stack settle (TIME-WAIT
 * is left to expire on its own: it holds no buffers), read the figures. */
static struct sample quiet(int workers)
{
    atomic_store(&paused, true);
    while (atomic_load(&idle) < workers) {
        usleep(10000);
    }
    usleep(500000);
    struct sample s = take();
    atomic_store(&paused, false);
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double duration = argc > 1 ? atof(argv[1]) : 3600;
    double every = argc > 2 ? atof(argv[2]) : 60;
    double warmup = argc > 3 ? atof(argv[3]) : 120;
    static const char key[16] = "soak-soak-soak-!";
    if (zsock_net_init() != 0 ||
        tls_credential_add(TAG, TLS_CREDENTIAL_PSK, key, sizeof(key)) != 0 ||
        tls_credential_add(TAG, TLS_CREDENTIAL_PSK_ID, "soak", 4) != 0) {
        die("init");
    }
    pthread_t th[8];
    int nth = 0;
    for (int tls = 0; tls < 2; tls++) {
        int l = zsock_socket(AF_INET, SOCK_STREAM, tls ? IPPROTO_TLS_1_2 : IPPROTO_TCP);
        struct sockaddr_in a = addr(tls ? TLS_PORT : TCP_PORT);
        if (l < 0 || (tls && set_tag(l) != 0) ||
            zsock_bind(l, (struct sockaddr *)&a, sizeof(a)) != 0 || zsock_listen(l, 16) != 0) {
            die("listen");
        }
        pthread_create(&th[nth++], NULL, server_main, (void *)(intptr_t)l);
    }
    int workers = 0;
    for (intptr_t k = 1; k <= 3; k++, workers++) { /* 1, 2: TCP; 3: TLS */
        pthread_create(&th[nth++], NULL, client_main, (void *)k);
    }
    pthread_create(&th[nth++], NULL, udp_main, NULL);
    workers++;

    double t0 = now_s();
    struct sample base = {0};
    bool have_base = false;
    while (now_s() - t0 < duration) {
        double next = now_s() + every;
        while (now_s() < next && now_s() - t0 < duration) {
            usleep(100000);
        }
        double t = now_s() - t0;
        if (!have_base && t >= warmup) {
            base = quiet(workers);
            have_base = true;
            print_sample("base", t, base);
        } else {
            print_sample("sample", t, take());
        }
    }
    struct sample end = quiet(workers);
    print_sample("end", now_s() - t0, end);
    if (!have_base) {
        printf("soak: shorter than the warm-up: no comparison\n");
        return 0;
    }
    int bad = 0;
    if (end.fds != base.fds) {
        printf("soak: FAILED: descriptors %d -> %d\n", base.fds, end.fds), bad = 1;
    }
    if (end.pbufs > base.pbufs || end.pbuf_heap > base.pbuf_heap) {
        printf("soak: FAILED: packet buffers %llu -> %llu\n", (unsigned long long)base.pbufs,
               (unsigned long long)end.pbufs),
            bad = 1;
    }
    /* Margins: allocator slack and TIME-WAIT numbers vary from one moment
     * to the next; a leak of one buffer per transfer would not fit. */
    if (end.rss_kb > base.rss_kb + base.rss_kb / 10 + 8192) {
        printf("soak: FAILED: RSS %ld -> %ld KiB\n", base.rss_kb, end.rss_kb), bad = 1;
    }
    if (end.heap > base.heap + base.heap / 10 + (8u << 20)) {
        printf("soak: FAILED: heap %zu -> %zu KiB\n", base.heap / 1024, end.heap / 1024), bad = 1;
    }
    printf("soak: %s: %llu transfers, %llu MiB, all checked\n", bad ? "FAILED" : "OK",
           (unsigned long long)atomic_load(&transfers),
           (unsigned long long)(atomic_load(&bytes_moved) >> 20));
    fflush(stdout);
    _exit(bad); /* the servers block in accept: no joins */
}
