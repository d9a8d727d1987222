/* UDP benchmark over loopback: the round trip of 64-byte requests answered by
 * an echo thread, and one-way throughput of 1,472 B, 16 KiB and 60,000 B
 * datagrams with the loss it caused, for zsock's in-process loopback and the
 * Linux kernel's 127.0.0.1 in the same run. Prints medians of several runs and
 * the zsock/Linux ratios; it never passes or fails on time. */
#include <zsock/socket.h>

#include "bench_util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#define RCVBUF (4 << 20) /* receive buffer asked for on both sides */

/* One set of calls per implementation, so both run the same code. */
struct api {
    const char *name;
    int (*socket)(int, int, int);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*close)(int);
    int rcvbuf_opt; /* option that sets the receive buffer */
};

static ssize_t zs_send(int fd, const void *b, size_t n, int f)
{
    return zsock_send(fd, b, n, f);
}

static int lx_bind(int fd, const struct sockaddr *a, socklen_t l)
{
    return bind(fd, a, l);
}
static int lx_connect(int fd, const struct sockaddr *a, socklen_t l)
{
    return connect(fd, a, l);
}
static ssize_t lx_recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
    return recvfrom(fd, b, n, f, a, l);
}
static ssize_t lx_sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a,
                         socklen_t l)
{
    return sendto(fd, b, n, f, a, l);
}
static int lx_getsockname(int fd, struct sockaddr *a, socklen_t *l)
{
    return getsockname(fd, a, l);
}

static struct api zsock_api = {
    .name = "zsock",
    .socket = zsock_socket,
    .bind = zsock_bind,
    .connect = zsock_connect,
    .send = zs_send,
    .recvfrom = zsock_recvfrom,
    .sendto = zsock_sendto,
    .setsockopt = zsock_setsockopt,
    .getsockopt = zsock_getsockopt,
    .getsockname = zsock_getsockname,
    .close = zsock_close,
    .rcvbuf_opt = SO_RCVBUF,
};
static struct api linux_api = {
    .name = "linux",
    .socket = socket,
    .bind = lx_bind,
    .connect = lx_connect,
    .send = send,
    .recvfrom = lx_recvfrom,
    .sendto = lx_sendto,
    .setsockopt = setsockopt,
    .getsockopt = getsockopt,
    .getsockname = lx_getsockname,
    .close = close,
    .rcvbuf_opt = SO_RCVBUF, /* SO_RCVBUFFORCE when allowed, see main() */
};

static void die(const struct api *api, const char *what)
{
    fprintf(stderr, "%s: %s failed: %s\n", api->name, what, strerror(errno));
    exit(1);
}

/* A UDP socket bound to 127.0.0.1 on an ephemeral port; *addr receives it. */
static int bound_socket(const struct api *api, struct sockaddr_in *addr)
{
    int fd = api->socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        die(api, "socket");
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof(a);
    if (api->bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
        api->getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
        die(api, "bind");
    }
    *addr = a;
    return fd;
}

static void set_timeout_ms(const struct api *api, int fd, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    if (api->setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0) {
        die(api, "SO_RCVTIMEO");
    }
}

/* Asks for RCVBUF bytes; returns what getsockopt reports. */
static int set_rcvbuf(const struct api *api, int fd)
{
    int v = RCVBUF;
    if (api->setsockopt(fd, SOL_SOCKET, api->rcvbuf_opt, &v, sizeof(v)) < 0) {
        die(api, "SO_RCVBUF");
    }
    socklen_t l = sizeof(v);
    api->getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &l);
    return v;
}

/* ---- request/response ------------------------------------------------------------------ */

struct echo_job {
    const struct api *api;
    int fd;
};

/* Echo until a zero-length datagram (or a long silence). */
static void *echo_server(void *arg)
{
    struct echo_job *j = arg;
    char buf[2048];
    for (;;) {
        struct sockaddr_in from;
        socklen_t l = sizeof(from);
        ssize_t n = j->api->recvfrom(j->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &l);
        if (n <= 0) {
            return NULL;
        }
        j->api->sendto(j->fd, buf, (size_t)n, 0, (struct sockaddr *)&from, l);
    }
}

/* Round trips of one run in microseconds (sorted); returns the number lost. */
static int rr_run(const struct api *api, int rounds, double *rtt)
{
    struct sockaddr_in sa;
    struct echo_job job = {api, bound_socket(api, &sa)};
    set_timeout_ms(api, job.fd, 5000);
    int c = api->socket(AF_INET, SOCK_DGRAM, 0);
    if (c < 0 || api->connect(c, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        die(api, "connect");
    }
    set_timeout_ms(api, c, 1000);
    pthread_t t;
    pthread_create(&t, NULL, echo_server, &job);
    char req[64], rsp[128];
    memset(req, 'q', sizeof(req));
    int lost = 0;
    for (int i = 0; i < rounds; i++) {
        double t0 = now_s();
        if (api->send(c, req, sizeof(req), 0) != (ssize_t)sizeof(req)) {
            die(api, "send");
        }
        ssize_t n = api->recvfrom(c, rsp, sizeof(rsp), 0, NULL, NULL);
        if (n != (ssize_t)sizeof(req)) {
            lost++; /* timed out: count it and go on */
            i--;
            if (lost > 100) {
                die(api, "request/response (too many lost)");
            }
            continue;
        }
        rtt[i] = (now_s() - t0) * 1e6;
    }
    api->send(c, "", 0, 0);
    pthread_join(t, NULL);
    api->close(c);
    api->close(job.fd);
    qsort(rtt, (size_t)rounds, sizeof(*rtt), cmp_double);
    return lost;
}

/* ---- throughput ------------------------------------------------------------------------ */

struct sink_job {
    const struct api *api;
    int fd;
    size_t size;
    atomic_bool sender_done;
    uint64_t bytes, datagrams;
    double t_last;
};

static void *sink(void *arg)
{
    struct sink_job *j = arg;
    char *buf = malloc(65536);
    for (;;) {
        ssize_t n = j->api->recvfrom(j->fd, buf, 65536, 0, NULL, NULL);
        if (n > 0) {
            j->bytes += (uint64_t)n;
            j->datagrams++;
            j->t_last = now_s();
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            fprintf(stderr, "%s: recv failed: %s\n", j->api->name, strerror(errno));
            exit(1);
        } else if (n < 0 && atomic_load(&j->sender_done)) {
            break; /* quiet for a timeout after the sender finished */
        }
    }
    free(buf);
    return NULL;
}

struct tput {
    double mib_s;
    double loss_pct;
};

static struct tput tput_run(const struct api *api, size_t size, int count, int *rcvbuf)
{
    struct sockaddr_in sa;
    struct sink_job job = {.api = api, .size = size};
    job.fd = bound_socket(api, &sa);
    *rcvbuf = set_rcvbuf(api, job.fd);
    set_timeout_ms(api, job.fd, 200);
    int s = api->socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || api->connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        die(api, "connect");
    }
    char *buf = calloc(1, size);
    pthread_t t;
    pthread_create(&t, NULL, sink, &job);
    double t0 = now_s();
    for (int i = 0; i < count; i++) {
        ssize_t n = api->send(s, buf, size, 0);
        if (n != (ssize_t)size && !(n < 0 && (errno == ENOBUFS || errno == EAGAIN))) {
            die(api, "send");
        }
    }
    atomic_store(&job.sender_done, true);
    pthread_join(t, NULL);
    api->close(s);
    api->close(job.fd);
    free(buf);
    double dt = job.t_last - t0;
    struct tput r = {
        .mib_s = dt > 0 ? (double)job.bytes / (1 << 20) / dt : 0,
        .loss_pct = 100.0 * (double)(count - (int64_t)job.datagrams) / count,
    };
    return r;
}

int main(int argc, char **argv)
{
    int runs = 5;
    int rounds = 20000;
    int scale = 1;
    if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
        runs = 3;
        rounds = 2000;
        scale = 10;
    }
    /* Linux caps SO_RCVBUF at net.core.rmem_max; SO_RCVBUFFORCE (root) does
     * not, so both sides get the 4 MiB asked for when it is allowed. */
    {
        int fd = socket(AF_INET, SOCK_DGRAM, 0);
        int v = RCVBUF;
        if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) == 0) {
            linux_api.rcvbuf_opt = SO_RCVBUFFORCE;
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    const struct api *apis[] = {&zsock_api, &linux_api};

    printf("UDP loopback benchmark: median of %d runs; zsock in-process loopback vs Linux "
           "127.0.0.1\n",
           runs);
    printf("%-44s %12s %12s %8s\n", "test", "zsock", "linux", "ratio");

    /* Request/response: the median round trip of each run, then the median of those. */
    double *rtt = malloc(sizeof(double) * (size_t)rounds);
    double med[2], p99[2];
    int lost[2] = {0, 0};
    for (int a = 0; a < 2; a++) {
        double vm[16], vp[16];
        for (int r = 0; r < runs; r++) {
            lost[a] += rr_run(apis[a], rounds, rtt);
            vm[r] = rtt[rounds / 2];
            vp[r] = rtt[(int)(rounds * 0.99)];
        }
        med[a] = median(vm, runs);
        p99[a] = median(vp, runs);
    }
    free(rtt);
    char label[80];
    snprintf(label, sizeof(label), "64 B request/response x %d, median RTT (us)", rounds);
    printf("%-44s %12.2f %12.2f %8.2f\n", label, med[0], med[1], med[0] / med[1]);
    printf("%-44s %12.2f %12.2f %8.2f\n", "  99th percentile RTT (us)", p99[0], p99[1],
           p99[0] / p99[1]);
    if (lost[0] || lost[1]) {
        printf("%-44s %12d %12d\n", "  requests timed out and resent", lost[0], lost[1]);
    }

    /* Throughput: MiB/s received and the share of datagrams lost. */
    static const size_t sizes[] = {1472, 16384, 60000};
    static const int counts[] = {200000, 20000, 5000};
    int rcvbuf[2] = {0, 0};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        int count = counts[k] / scale;
        double mib[2], loss[2];
        for (int a = 0; a < 2; a++) {
            double vm[16], vl[16];
            for (int r = 0; r < runs; r++) {
                struct tput t = tput_run(apis[a], sizes[k], count, &rcvbuf[a]);
                vm[r] = t.mib_s;
                vl[r] = t.loss_pct;
            }
            mib[a] = median(vm, runs);
            loss[a] = median(vl, runs);
        }
        snprintf(label, sizeof(label), "%zu B datagrams x %d, received (MiB/s)", sizes[k], count);
        printf("%-44s %12.0f %12.0f %8.2f\n", label, mib[0], mib[1], mib[0] / mib[1]);
        printf("%-44s %11.1f%% %11.1f%%\n", "  lost", loss[0], loss[1]);
    }
    printf("(SO_RCVBUF asked %d; getsockopt reports zsock %d, linux %d: Linux doubles it for "
           "overhead)\n",
           RCVBUF, rcvbuf[0], rcvbuf[1]);
    printf("(RTT ratio < 1: zsock faster; throughput ratio > 1: zsock faster)\n");
    return 0;
}
