/* socketpair benchmark: stream throughput between two threads and the round
 * trip of a one-byte ping-pong where each side sleeps in poll(), for zsock and
 * for the Linux kernel's socketpair() in the same run. Prints medians of
 * several runs and the zsock/Linux ratios; it never passes or fails on time. */
#include <zsock/socket.h>

#include "bench_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

/* One set of calls per implementation, so both run the same code. */
struct api {
    const char *name;
    int (*socketpair)(int, int, int, int *);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recv)(int, void *, size_t, int);
    int (*poll)(struct pollfd *, nfds_t, int);
    int (*close)(int);
};

static int zs_socketpair(int d, int t, int p, int *sv)
{
    return zsock_socketpair(d, t, p, sv);
}
static ssize_t zs_send(int fd, const void *b, size_t n, int f)
{
    return zsock_send(fd, b, n, f);
}
static ssize_t zs_recv(int fd, void *b, size_t n, int f)
{
    return zsock_recv(fd, b, n, f);
}
static int zs_poll(struct pollfd *p, nfds_t n, int t)
{
    return zsock_poll(p, (int)n, t);
}

static const struct api zsock_api = {"zsock", zs_socketpair, zs_send,
                                     zs_recv, zs_poll,       zsock_close};
static const struct api linux_api = {"linux", socketpair, send, recv, poll, close};

/* ---- throughput ---------------------------------------------------------------- */

struct stream_job {
    const struct api *api;
    int fd;
    size_t total;
    size_t chunk;
};

static void *stream_reader(void *arg)
{
    struct stream_job *j = arg;
    char *buf = malloc(j->chunk);
    size_t got = 0;
    while (got < j->total) {
        ssize_t n = j->api->recv(j->fd, buf, j->chunk, 0);
        if (n <= 0) {
            fprintf(stderr, "%s: recv failed: %s\n", j->api->name, strerror(errno));
            exit(1);
        }
        got += (size_t)n;
    }
    free(buf);
    return NULL;
}

/* Returns MiB/s for one run. */
static double throughput_run(const struct api *api, size_t total, size_t chunk)
{
    int sv[2];
    if (api->socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        perror("socketpair");
        exit(1);
    }
    char *buf = calloc(1, chunk);
    struct stream_job job = {api, sv[1], total, chunk};
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, stream_reader, &job);
    size_t sent = 0;
    while (sent < total) {
        size_t n = total - sent < chunk ? total - sent : chunk;
        ssize_t rc = api->send(sv[0], buf, n, 0);
        if (rc <= 0) {
            fprintf(stderr, "%s: send failed: %s\n", api->name, strerror(errno));
            exit(1);
        }
        sent += (size_t)rc;
    }
    pthread_join(t, NULL);
    double dt = now_s() - t0;
    api->close(sv[0]);
    api->close(sv[1]);
    free(buf);
    return (double)total / (1 << 20) / dt;
}

/* ---- poll wake-up round trip ------------------------------------------------------ */

struct pingpong_job {
    const struct api *api;
    int fd;
    int rounds;
};

static void wait_readable(const struct api *api, int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (api->poll(&p, 1, -1) != 1 || !(p.revents & POLLIN)) {
    }
}

static void *ponger(void *arg)
{
    struct pingpong_job *j = arg;
    char c;
    for (int i = 0; i < j->rounds; i++) {
        wait_readable(j->api, j->fd);
        if (j->api->recv(j->fd, &c, 1, 0) != 1 || j->api->send(j->fd, &c, 1, 0) != 1) {
            exit(1);
        }
    }
    return NULL;
}

/* Returns the mean round trip in microseconds for one run. */
static double pingpong_run(const struct api *api, int rounds)
{
    int sv[2];
    api->socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct pingpong_job job = {api, sv[1], rounds};
    pthread_t t;
    pthread_create(&t, NULL, ponger, &job);
    char c = 'x';
    double t0 = now_s();
    for (int i = 0; i < rounds; i++) {
        if (api->send(sv[0], &c, 1, 0) != 1) {
            exit(1);
        }
        wait_readable(api, sv[0]);
        if (api->recv(sv[0], &c, 1, 0) != 1) {
            exit(1);
        }
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    api->close(sv[0]);
    api->close(sv[1]);
    return dt / rounds * 1e6;
}

int main(int argc, char **argv)
{
    int runs = 5;
    size_t total = (size_t)256 << 20;
    int rounds = 20000;
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        runs = 3;
        total = (size_t)32 << 20;
        rounds = 2000;
    }
    const struct api *apis[] = {&zsock_api, &linux_api};
    size_t chunks[] = {1024, 16384, 65536};

    printf("socketpair benchmark: median of %d runs; zsock buffer %d bytes per endpoint\n", runs,
           CONFIG_NET_SOCKETPAIR_BUFFER_SIZE);
    printf("%-34s %12s %12s %8s\n", "test", "zsock", "linux", "ratio");
    for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
        double med[2];
        for (int a = 0; a < 2; a++) {
            double v[16];
            for (int r = 0; r < runs; r++) {
                v[r] = throughput_run(apis[a], total, chunks[c]);
            }
            med[a] = median(v, runs);
        }
        char label[64];
        snprintf(label, sizeof(label), "stream %zu MiB, %zu B writes (MiB/s)", total >> 20,
                 chunks[c]);
        printf("%-34s %12.0f %12.0f %8.2f\n", label, med[0], med[1], med[0] / med[1]);
    }
    double lat[2];
    for (int a = 0; a < 2; a++) {
        double v[16];
        for (int r = 0; r < runs; r++) {
            v[r] = pingpong_run(apis[a], rounds);
        }
        lat[a] = median(v, runs);
    }
    printf("%-34s %12.2f %12.2f %8.2f\n", "poll wake-up round trip (us)", lat[0], lat[1],
           lat[0] / lat[1]);
    printf("(throughput ratio > 1: zsock faster; round-trip ratio < 1: zsock faster)\n");
    return 0;
}
