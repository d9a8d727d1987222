/* TCP benchmark over loopback: bulk throughput between two threads,
 * connections per second (connect, one byte each way, close) with and
 * without thousands of TIME-WAIT entries in the table, the time to open
 * many connections at once and the memory each idle one holds, for zsock's
 * in-process loopback and for the Linux kernel's 127.0.0.1 in the same run;
 * bulk throughput and connections per second again over IPv6 (::1 on both).
 * zsock's figures come from a fresh stack per measurement, so the TIME-WAIT
 * entries of one run do not slow the next. Prints medians and ratios; never
 * passes or fails on time. */
#include <zsock/socket.h>

#include "bench_util.h"
#include "net/net.h"
#include "net/tcp_pcb.h"
#include "sockets/inet.h"

#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The stack zsock's sockets are created on: a fresh one per measurement. */
static struct z_stack *bench_stack;

static int zs_socket(int domain, int type, int proto)
{
    return z_inet_socket_fam_on(bench_stack, domain, type, proto, false);
}

static const struct bench_api zsock_api = BENCH_ZSOCK_API(zs_socket);
static const struct bench_api linux_api = BENCH_LINUX_API;

/* The loopback address of `family` (127.0.0.1 or ::1) and port. */
struct lo_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in sin;
        struct sockaddr_in6 sin6;
    } u;
    socklen_t len;
};

static struct lo_addr lo_addr(int family, uint16_t port)
{
    struct lo_addr a;
    memset(&a, 0, sizeof(a));
    if (family == AF_INET6) {
        a.u.sin6.sin6_family = AF_INET6;
        a.u.sin6.sin6_port = htons(port);
        a.u.sin6.sin6_addr = in6addr_loopback;
        a.len = sizeof(a.u.sin6);
    } else {
        a.u.sin = bench_loopback(port);
        a.len = sizeof(a.u.sin);
    }
    return a;
}

static int make_listener_fam(const struct bench_api *A, int family, uint16_t *port)
{
    int l = A->socket(family, SOCK_STREAM, 0);
    if (family == AF_INET) {
        if (bench_listen(A, l, 1024, port) < 0) {
            fprintf(stderr, "%s: listen: %s\n", A->name, strerror(errno));
            exit(1);
        }
        return l;
    }
    int one = 1;
    A->setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct lo_addr a = lo_addr(AF_INET6, 0);
    if (l < 0 || A->bind(l, &a.u.sa, a.len) < 0 || A->listen(l, 1024) < 0) {
        fprintf(stderr, "%s: listen on [::1]: %s\n", A->name, strerror(errno));
        exit(1);
    }
    socklen_t len = sizeof(a.u);
    A->getsockname(l, &a.u.sa, &len);
    *port = ntohs(a.u.sin6.sin6_port);
    return l;
}

/* Can A bind a TCP socket to [::1]? (No on a zsock built without IPv6, nor
 * on a kernel with IPv6 disabled: the IPv6 rows are then left out.) */
static bool have_ipv6(const struct bench_api *A)
{
    int fd = A->socket(AF_INET6, SOCK_STREAM, 0);
    struct lo_addr a = lo_addr(AF_INET6, 0);
    bool ok = fd >= 0 && A->bind(fd, &a.u.sa, a.len) == 0;
    if (fd >= 0) {
        A->close(fd);
    }
    return ok;
}

static int make_listener(const struct bench_api *A, uint16_t *port)
{
    return make_listener_fam(A, AF_INET, port);
}

struct sink {
    const struct bench_api *A;
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

/* MiB/s of one bulk transfer of `total` bytes over the loopback of `family`. */
static double bulk_run(const struct bench_api *A, int family, size_t total)
{
    uint16_t port;
    int l = make_listener_fam(A, family, &port);
    struct sink s = {A, l, 0};
    pthread_t t;
    pthread_create(&t, NULL, bulk_sink, &s);
    int c = A->socket(family, SOCK_STREAM, 0);
    struct lo_addr a = lo_addr(family, port);
    if (A->connect(c, &a.u.sa, a.len) < 0) {
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
    const struct bench_api *A;
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
static double cps_run_fam(const struct bench_api *A, int family, int count)
{
    uint16_t port;
    int l = make_listener_fam(A, family, &port);
    struct echo1 e = {A, l, count};
    pthread_t t;
    pthread_create(&t, NULL, echo_one_byte, &e);
    struct lo_addr a = lo_addr(family, port);
    double t0 = now_s();
    for (int i = 0; i < count; i++) {
        int c = A->socket(family, SOCK_STREAM, 0);
        char x = 'x';
        if (A->connect(c, &a.u.sa, a.len) < 0 || A->send(c, &x, 1, 0) != 1 ||
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

static double cps_run(const struct bench_api *A, int count)
{
    return cps_run_fam(A, AF_INET, count);
}

/* A fresh real-clock stack with loopback for zsock's next measurement. */
static void fresh_stack(void)
{
    if (bench_stack != NULL) {
        z_stack_destroy(bench_stack);
    }
    struct z_stack_config cfg = {.name = "bench", .loopback = true};
    bench_stack = z_stack_create(&cfg);
    if (bench_stack == NULL || z_stack_start(bench_stack) < 0) {
        fprintf(stderr, "zsock: cannot create a stack\n");
        exit(1);
    }
}

static int zsock_time_wait_count(void)
{
    int n = 0;
    z_stack_lock(bench_stack);
    for (struct z_tcp_pcb *p = bench_stack->tcp_pcbs; p != NULL; p = p->next) {
        n += p->conn.state == Z_TCP_TIME_WAIT;
    }
    z_stack_unlock(bench_stack);
    return n;
}

/* Heap bytes in use (every arena, plus mmapped chunks). */
static double heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (double)mi.uordblks + (double)mi.hblkhd;
}

static double rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f != NULL) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return (double)rss * (double)sysconf(_SC_PAGESIZE);
}

/* Kernel memory in slab objects (active objects times their size), or -1
 * when /proc/slabinfo cannot be read (it needs root). */
static double slab_bytes(void)
{
    FILE *f = fopen("/proc/slabinfo", "r");
    if (f == NULL) {
        return -1;
    }
    char line[512];
    double total = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        char name[128];
        unsigned long active, num, size;
        if (line[0] != '#' && sscanf(line, "%127s %lu %lu %lu", name, &active, &num, &size) == 4) {
            total += (double)active * (double)size;
        }
    }
    fclose(f);
    return total;
}

/* The "mem" field of the TCP line of /proc/net/sockstat: pages charged to
 * TCP buffers. */
static double sockstat_tcp_pages(void)
{
    FILE *f = fopen("/proc/net/sockstat", "r");
    if (f == NULL) {
        return -1;
    }
    char line[256];
    double mem = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *m = strstr(line, " mem ");
        if (strncmp(line, "TCP:", 4) == 0 && m != NULL) {
            mem = atof(m + 5);
        }
    }
    fclose(f);
    return mem;
}

struct idle_result {
    double open_s;        /* time to open all connections */
    double heap_per_sock; /* zsock: heap bytes per socket (malloc accounting) */
    double rss_per_sock;  /* zsock: resident bytes per socket */
    double slab_per_sock; /* linux: slab bytes per socket */
    double sockstat_pages;
};

/* Open n connections (each accepted: 2n sockets), send one byte each way on
 * every one, and measure the memory they hold idle. Closes them client
 * first, so the client side of each ends in TIME-WAIT. */
static struct idle_result idle_run(const struct bench_api *A, int n)
{
    struct idle_result r = {0};
    uint16_t port;
    int l = make_listener(A, &port);
    int *cs = malloc(sizeof(int) * (size_t)n), *ss = malloc(sizeof(int) * (size_t)n);
    struct sockaddr_in a = bench_loopback(port);
    bool kernel = A == &linux_api;
    double heap0 = heap_bytes(), rss0 = rss_bytes();
    double slab0 = kernel ? slab_bytes() : 0, sock0 = kernel ? sockstat_tcp_pages() : 0;
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        cs[i] = A->socket(AF_INET, SOCK_STREAM, 0);
        if (cs[i] < 0 || A->connect(cs[i], (struct sockaddr *)&a, sizeof(a)) < 0 ||
            (ss[i] = A->accept(l, NULL, NULL)) < 0) {
            fprintf(stderr, "%s: connection %d of %d: %s\n", A->name, i, n, strerror(errno));
            exit(1);
        }
    }
    r.open_s = now_s() - t0;
    for (int i = 0; i < n; i++) {
        char x = 'x';
        if (A->send(cs[i], &x, 1, 0) != 1 || A->recv(ss[i], &x, 1, 0) != 1 ||
            A->send(ss[i], &x, 1, 0) != 1 || A->recv(cs[i], &x, 1, 0) != 1) {
            fprintf(stderr, "%s: exchange %d failed: %s\n", A->name, i, strerror(errno));
            exit(1);
        }
    }
    usleep(100000); /* let delayed ACKs go out: the connections are idle */
    r.heap_per_sock = (heap_bytes() - heap0) / (2.0 * n);
    r.rss_per_sock = (rss_bytes() - rss0) / (2.0 * n);
    if (kernel) {
        double slab1 = slab_bytes(), sock1 = sockstat_tcp_pages();
        r.slab_per_sock = slab0 >= 0 && slab1 >= 0 ? (slab1 - slab0) / (2.0 * n) : -1;
        r.sockstat_pages = sock0 >= 0 && sock1 >= 0 ? sock1 - sock0 : -1;
    }
    for (int i = 0; i < n; i++) {
        A->close(cs[i]);
    }
    for (int i = 0; i < n; i++) {
        A->close(ss[i]);
    }
    A->close(l);
    free(cs);
    free(ss);
    return r;
}

/* One row of the table; "-" for a figure not measured (0). */
static void print_row(const char *label, const double v[2])
{
    char z[16] = "-", l[16] = "-", r[16] = "-";
    if (v[0] > 0) {
        snprintf(z, sizeof(z), "%.0f", v[0]);
    }
    if (v[1] > 0) {
        snprintf(l, sizeof(l), "%.0f", v[1]);
    }
    if (v[0] > 0 && v[1] > 0) {
        snprintf(r, sizeof(r), "%.2f", v[0] / v[1]);
    }
    printf("%-44s %12s %12s %8s\n", label, z, l, r);
}

int main(int argc, char **argv)
{
    int runs = 5;
    size_t total = (size_t)512 << 20;
    int conns = 2000;
    int idle_n = 10000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            runs = 3;
            total = (size_t)64 << 20;
            conns = 300;
            idle_n = 2000;
        } else if (strncmp(argv[i], "--idle=", 7) == 0) {
            idle_n = atoi(argv[i] + 7);
        } else if (strncmp(argv[i], "--conns=", 8) == 0) {
            conns = atoi(argv[i] + 8);
        }
    }
    if (idle_n < 1 || 2 * idle_n + 16 > CONFIG_ZVFS_OPEN_MAX) {
        idle_n = (CONFIG_ZVFS_OPEN_MAX - 16) / 2;
    }
    /* The kernel's side needs 2n + a few descriptors. */
    struct rlimit rl;
    int linux_idle_n = idle_n;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)(2 * linux_idle_n + 64) > rl.rlim_cur) {
            linux_idle_n = (int)((rl.rlim_cur - 64) / 2);
        }
    }
    const struct bench_api *apis[] = {&zsock_api, &linux_api};
    double bulk[2], cps[2], cps_tw[2], bulk6[2] = {0, 0}, cps6[2] = {0, 0};
    bool v6[2];
    struct idle_result idle[2];
    int tw_present[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        double v[16];
        for (int r = 0; r < runs; r++) {
            if (k == 0) {
                fresh_stack();
            }
            v[r] = bulk_run(apis[k], AF_INET, total);
        }
        bulk[k] = median(v, runs);
        if (k == 0) {
            fresh_stack();
        }
        v6[k] = have_ipv6(apis[k]);
        for (int r = 0; r < runs && v6[k]; r++) {
            if (k == 0) {
                fresh_stack();
            }
            v[r] = bulk_run(apis[k], AF_INET6, total);
        }
        bulk6[k] = v6[k] ? median(v, runs) : 0;
        for (int r = 0; r < runs; r++) {
            if (k == 0) {
                fresh_stack();
            }
            v[r] = cps_run(apis[k], conns);
        }
        cps[k] = median(v, runs);
        for (int r = 0; r < runs && v6[k]; r++) {
            if (k == 0) {
                fresh_stack();
            }
            v[r] = cps_run_fam(apis[k], AF_INET6, conns);
        }
        cps6[k] = v6[k] ? median(v, runs) : 0;
        /* Many idle connections, then the same connections per second test
         * with their TIME-WAIT entries in the table. */
        if (k == 0) {
            fresh_stack();
        }
        idle[k] = idle_run(apis[k], k == 0 ? idle_n : linux_idle_n);
        if (k == 0) {
            tw_present[k] = zsock_time_wait_count();
        }
        for (int r = 0; r < runs; r++) {
            v[r] = cps_run(apis[k], conns);
        }
        cps_tw[k] = median(v, runs);
    }
    if (bench_stack != NULL) {
        z_stack_destroy(bench_stack);
        bench_stack = NULL;
    }
    printf(
        "TCP loopback benchmark: median of %d runs; zsock in-process loopback vs Linux 127.0.0.1\n",
        runs);
    printf("%-44s %12s %12s %8s\n", "test", "zsock", "linux", "ratio");
    printf("%-44s %12.0f %12.0f %8.2f\n", "bulk transfer (MiB/s)", bulk[0], bulk[1],
           bulk[0] / bulk[1]);
    print_row("bulk transfer, IPv6 ::1 (MiB/s)", bulk6);
    printf("%-44s %12.0f %12.0f %8.2f\n", "connections/s (1 byte each way)", cps[0], cps[1],
           cps[0] / cps[1]);
    print_row("connections/s, IPv6 ::1", cps6);
    char label[64];
    snprintf(label, sizeof(label), "connections/s, %d more in TIME-WAIT", idle_n);
    printf("%-44s %12.0f %12.0f %8.2f\n", label, cps_tw[0], cps_tw[1], cps_tw[0] / cps_tw[1]);
    printf("(ratio > 1: zsock faster)\n");
    if (v6[0] && v6[1]) {
        printf("IPv6/IPv4: bulk zsock %.2f, linux %.2f; connections/s zsock %.2f, linux %.2f\n",
               bulk6[0] / bulk[0], bulk6[1] / bulk[1], cps6[0] / cps[0], cps6[1] / cps[1]);
    } else {
        printf("IPv6 rows: -%s%s\n", v6[0] ? "" : " (zsock built without IPv6)",
               v6[1] ? "" : " (no ::1 on this kernel)");
    }
    printf("\n");
    printf("%d connections open at once (%d on Linux), 1 byte each way, then idle:\n", idle_n,
           linux_idle_n);
    printf("  zsock: opened in %.3f s; heap %.0f bytes per socket (mallinfo2), resident %.0f\n",
           idle[0].open_s, idle[0].heap_per_sock, idle[0].rss_per_sock);
    printf("         TIME-WAIT entries in its table after closing them: %d\n", tw_present[0]);
    if (idle[1].slab_per_sock >= 0) {
        printf("  linux: opened in %.3f s; slab %.0f bytes per socket (/proc/slabinfo, whole "
               "machine: noisy), TCP buffer pages %+.0f (/proc/net/sockstat)\n",
               idle[1].open_s, idle[1].slab_per_sock, idle[1].sockstat_pages);
    } else {
        printf("  linux: opened in %.3f s; kernel memory not measured (/proc/slabinfo needs "
               "root)\n",
               idle[1].open_s);
    }
    printf("  (a socket is one end: each connection is two sockets in this process)\n");
    return 0;
}
