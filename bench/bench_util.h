/* Helpers shared by the benchmarks: a monotonic clock in seconds, the
 * median of a set of runs (medians, not single runs, are what we quote), and
 * the stream socket calls of zsock and of the kernel behind one table. */
#ifndef ZSOCK_BENCH_UTIL_H_
#define ZSOCK_BENCH_UTIL_H_

#include <zsock/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v in place. */
static inline double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The socket calls of one stack, so that one benchmark runs on each. */
struct bench_api {
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

static inline ssize_t bench_zsock_send(int fd, const void *b, size_t n, int f)
{
    return zsock_send(fd, b, n, f);
}

static inline ssize_t bench_zsock_recv(int fd, void *b, size_t n, int f)
{
    return zsock_recv(fd, b, n, f);
}

/* Initializers of struct bench_api: zsock's calls with `socket_fn` for
 * socket(), and the kernel's. */
#define BENCH_ZSOCK_API(socket_fn)                                                                 \
    {                                                                                              \
        "zsock", socket_fn, zsock_bind, zsock_listen, zsock_accept, zsock_connect,                 \
            bench_zsock_send, bench_zsock_recv, zsock_getsockname, zsock_setsockopt, zsock_close   \
    }
#define BENCH_LINUX_API                                                                            \
    {                                                                                              \
        "linux", socket, bind, listen, accept, connect, send, recv, getsockname, setsockopt, close \
    }

/* 127.0.0.1, `port`. */
static inline struct sockaddr_in bench_loopback(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* Make the socket l of A a listener on 127.0.0.1 with SO_REUSEADDR and
 * `backlog`, on a port of the stack's choice (*port). 0, or -1 (errno). */
static inline int bench_listen(const struct bench_api *A, int l, int backlog, uint16_t *port)
{
    int one = 1;
    A->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = bench_loopback(0);
    if (A->bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || A->listen(l, backlog) < 0) {
        return -1;
    }
    socklen_t len = sizeof(a);
    A->getsockname(l, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return 0;
}

/* The file dir/name, NUL-terminated and malloc'd (free it); *len counts
 * the NUL (PEM, as mbedTLS wants). Exits with a message naming `prog` when
 * it cannot be read. */
static inline unsigned char *bench_read_pki(const char *prog, const char *dir, const char *name,
                                            size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s (use --pki=DIR)\n", prog, path, strerror(errno));
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read %s\n", prog, path);
        exit(1);
    }
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n + 1;
    return buf;
}

#endif /* ZSOCK_BENCH_UTIL_H_ */
