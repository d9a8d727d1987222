/* TCP benchmark over loopback: bulk throughput between two threads and
 * connections per second (connect, one byte each way, close), for zsock's
 * in-process loopback and for the Linux kernel's 127.0.0.1 in the same run.
 * Prints medians and ratios; never passes or fails on time. */
#include <zsock/socket.h>

#include "bench_util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct api {
    const char *name;
    int (*socket)(int, int, int);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recv)(int, void *, size_t, int);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*close)(int);
};

static ssize_t zs_send(int fd, const void *b, size_t n, int f)
{
    return zsock_send(fd, b, n, f);
}
static ssize_t zs_recv(int fd, void *b, size_t n, int f)
{
    return zsock_recv(fd, b, n, f);
}

static const struct api zsock_api = {"zsock",           zsock_socket,     zsock_bind, zsock_listen,
                                     zsock_accept,      zsock_connect,    zs_send,    zs_recv,
                                     zsock_getsockname, zsock_setsockopt, zsock_close};
static const struct api linux_api = {"linux", socket, bind,        listen,     accept, connect,
                                     send,    recv,   getsockname, setsockopt, close};

static int make_listener(const struct api *A, uint16_t *port)
{
    int l = A->socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    A->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (A->bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || A->listen(l, 1024) < 0) {
        fprintf(stderr, "%s: listen: %s\n", A->name, strerror(errno));
        exit(1);
    }
    socklen_t len = sizeof(a);
    A->getsockname(l, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return l;
}

struct sink {
    const struct api *A;
    int listener;
    size_t total;
};

static void *bulk_sink(void *arg)
{
    struct sink *s = arg;
    int fd = s->A->accept(s->listener, NULL, NULL);
    static __thread char buf[1 << 17];
    size_t got = 0;
    for (;;) {
        ssize_t n = s->A->recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    s->total = got;
    s->A->close(fd);
    return NULL;
}

/* MiB/s of one bulk transfer of `total` bytes. */
static double bulk_run(const struct api *A, size_t total)
{
    uint16_t port;
    int l = make_listener(A, &port);
    struct sink s = {A, l, 0};
    pthread_t t;
    pthread_create(&t, NULL, bulk_sink, &s);
    int c = A->socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (A->connect(c, (struct sockaddr *)&a, sizeof(a)) < 0) {
        fprintf(stderr, "%s: connect: %s\n", A->name, strerror(errno));
        exit(1);
    }
    static char buf[1 << 17];
    double t0 = now_s();
    size_t sent = 0;
    while (sent < total) {
        ssize_t n = A->send(c, buf, sizeof(buf), 0);
        if (n <= 0) {
            break;
        }
        sent += (size_t)n;
    }
    A->close(c);
    pthread_join(t, NULL);
    double dt = now_s() - t0;
    A->close(l);
    if (s.total != sent) {
        fprintf(stderr, "%s: received %zu of %zu\n", A->name, s.total, sent);
    }
    return (double)s.total / (1 << 20) / dt;
}

struct echo1 {
    const struct api *A;
    int listener;
    int count;
};

static void *echo_one_byte(void *arg)
{
    struct echo1 *e = arg;
    for (int i = 0; i < e->count; i++) {
        int fd = e->A->accept(e->listener, NULL, NULL);
        char c;
        if (fd >= 0 && e->A->recv(fd, &c, 1, 0) == 1) {
            e->A->send(fd, &c, 1, 0);
        }
        e->A->close(fd);
    }
    return NULL;
}

/* Connections per second: connect, one byte each way, close. */
static double cps_run(const struct api *A, int count)
{
    uint16_t port;
    int l = make_listener(A, &port);
    struct echo1 e = {A, l, count};
    pthread_t t;
    pthread_create(&t, NULL, echo_one_byte, &e);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    double t0 = now_s();
    for (int i = 0; i < count; i++) {
        int c = A->socket(AF_INET, SOCK_STREAM, 0);
        char x = 'x';
        if (A->connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 || A->send(c, &x, 1, 0) != 1 ||
            A->recv(c, &x, 1, 0) != 1) {
            fprintf(stderr, "%s: connection %d failed: %s\n", A->name, i, strerror(errno));
            exit(1);
        }
        A->close(c);
    }
    pthread_join(t, NULL);
    double dt = now_s() - t0;
    A->close(l);
    return count / dt;
}

int main(int argc, char **argv)
{
    int runs = 5;
    size_t total = (size_t)512 << 20;
    int conns = 2000;
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        runs = 3;
        total = (size_t)64 << 20;
        conns = 300;
    }
    const struct api *apis[] = {&zsock_api, &linux_api};
    double bulk[2], cps[2];
    for (int k = 0; k < 2; k++) {
        double v[16];
        for (int r = 0; r < runs; r++) {
            v[r] = bulk_run(apis[k], total);
        }
        bulk[k] = median(v, runs);
        for (int r = 0; r < runs; r++) {
            v[r] = cps_run(apis[k], conns);
        }
        cps[k] = median(v, runs);
    }
    printf(
        "TCP loopback benchmark: median of %d runs; zsock in-process loopback vs Linux 127.0.0.1\n",
        runs);
    printf("%-40s %12s %12s %8s\n", "test", "zsock", "linux", "ratio");
    printf("%-40s %12.0f %12.0f %8.2f\n", "bulk transfer (MiB/s)", bulk[0], bulk[1],
           bulk[0] / bulk[1]);
    printf("%-40s %12.0f %12.0f %8.2f\n", "connections/s (1 byte each way)", cps[0], cps[1],
           cps[0] / cps[1]);
    printf("(ratio > 1: zsock faster)\n");
    return 0;
}
