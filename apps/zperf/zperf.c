/* zperf: an iperf-like throughput tool. One source, two programs: `zperf`
 * on zsock, `zperf-linux` on the Linux kernel's sockets (-DZPERF_KERNEL;
 * see zp_sock.h). A zperf server serves clients of either program, and the
 * lwIP client in bench/lwip speaks the same TCP protocol.
 *
 * TCP protocol (shared with bench/lwip; all integers big-endian).
 *   The client connects (default port 5201) and sends a 32-byte header:
 *     0 "ZPRF", 4 version u8 = 1, 5 direction u8 (0 upload: the client sends;
 *     1 download: the server sends), 6 flags u8 (bit 0: verify content),
 *     7 reserved u8 = 0, 8 stream id u32, 12 reserved u32 = 0,
 *     16 byte limit u64 (0: none), 24 duration in ms u64 (0: none);
 *     both limits 0 means 10 s, both set means whichever comes first.
 *   Payload byte k of a stream (k counted from the first byte after the
 *   header) is (uint8_t)(k % 251); a receiver asked to verify counts every
 *   byte that differs.
 *   Upload: the client sends until its limit, then shutdown(SHUT_WR); the
 *   server reads to end of stream and answers with a 16-byte trailer (u64
 *   payload bytes received, u64 mismatched bytes) and closes; the client
 *   reports the server's count. Download: the server sends until the limit
 *   and closes; the client reads to end of stream.
 *   Parallel streams (-P) are separate connections; a server groups the
 *   connections that overlap in time into one test.
 *
 * UDP protocol (zperf's own; the server listens for it on the TCP port's
 * number, so a server needs no -u). Every datagram starts with 32 bytes:
 *     0 "ZPRU", 4 version u8 = 1, 5 type u8, 6 flags u8 (bit 0: verify),
 *     7 reserved u8 = 0, 8 stream id u32, 12 session u32 (random, chosen by
 *     the client per stream), 16 sequence u64, 24 send time u64 (ns of the
 *     sender's monotonic clock; only differences of it are used).
 *   Types:
 *     0 data: sequence 0, 1, 2...; payload byte j is (uint8_t)((seq + j) % 251).
 *       The datagram's length is -l (header included) and the sender paces
 *       them to -b bits/s (counting whole UDP payloads).
 *     1 end: sequence = number of data datagrams sent. The sender repeats it
 *       every 100 ms, up to 20 times, until a summary arrives.
 *     2 summary, the receiver's answer to each end marker; after the header,
 *       nine u64: unique datagrams received, lost (sent - received), out of
 *       order (arrived after a later sequence), duplicates, bytes (of the
 *       unique datagrams, headers included), mismatched payload bytes, jitter
 *       in ns (RFC 3550's running estimate of transit-time variation),
 *       microseconds from first to last arrival, datagrams sent (from the end
 *       marker).
 *     3 start, the client's first datagram of a session; after the header:
 *       rate bits/s u64, datagram length u32, direction u8 (0 upload, 1
 *       download), 3 reserved bytes, byte limit u64, duration ms u64. The
 *       client repeats it every 200 ms, up to 10 times, until the server
 *       answers (which also resolves addresses before the data starts).
 *       Upload: the server answers with 4 ready (the header alone) and
 *       receives. Download: the server answers by sending data, then end
 *       markers, to the client's address, and the client, receiving, answers
 *       them with summaries.
 *     4 ready, see 3.
 *   Duplicates are recognised within the last 65536 sequence numbers; an
 *   older late datagram counts as out of order.
 *
 * Each side prints, at the end, one line per stream and one for the total:
 *   zperf: summary stream=ID|all dir=up|down bytes=N seconds=S.SSS gbps=G.GGG
 *          retrans=R errors=E
 * (one line), and in UDP mode a "zperf: udp ..." line with the receiver's
 * figures. retrans: Linux's TCP_INFO tcpi_total_retrans summed over the
 * streams; zsock's stack-wide counter difference over the run when the stack
 * has one, else -1. With -i, "zperf: interval ..." lines while running. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* clock_nanosleep, struct tcp_info, MSG_NOSIGNAL */
#endif

#include "zp_bytes.h"
#include "zp_sock.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG            "zperf"
#define HDR_LEN         32
#define TRAILER_LEN     16
#define PATTERN_MOD     251
#define MAX_STREAMS     128
#define DEFAULT_PORT    5201
#define DEFAULT_SECONDS 10.0
#define DEFAULT_TCP_LEN (128 * 1024)
#define MAX_TCP_LEN     (16 << 20)
#define DEFAULT_UDP_LEN 1472 /* fills a 1500-byte MTU */
#define MAX_UDP_LEN     65507
#define DEFAULT_RATE    1000000 /* UDP, bits/s */
#define UDP_HDR         32
#define UDP_SUMMARY_LEN (UDP_HDR + 9 * 8)
#define UDP_START_LEN   (UDP_HDR + 32)
#define UDP_RX_WINDOW   65536 /* sequences remembered for duplicate detection */
#define END_TRIES       20
#define END_GAP_MS      100
#define START_TRIES     10
#define START_GAP_MS    200
#define UDP_SESSIONS    MAX_STREAMS
#define GROUP_GRACE_NS  300000000ull /* a test ends this long after its last stream */
#define IO_TIMEOUT_S    30           /* a silent peer ends a server stream */
#define NS              1000000000ull

enum { DIR_UP = 0, DIR_DOWN = 1 };
enum { UDP_DATA = 0, UDP_END = 1, UDP_SUMMARY = 2, UDP_START = 3, UDP_READY = 4 };

struct options {
    bool server, udp, reverse, verify, self, one_off;
    const char *host;
    int port;
    bool port_set;
    double seconds; /* 0: not given */
    uint64_t bytes; /* total over the streams, 0: not given */
    int streams;
    double interval; /* 0: no interval reports */
    size_t len;      /* 0: the protocol's default */
    int window;      /* SO_SNDBUF/SO_RCVBUF, 0: the stack's */
    uint64_t rate;   /* UDP bits/s over all streams, 0: unlimited */
    struct tool_net net;
};

/* What a UDP receiver found (the summary datagram's content). */
struct udp_sum {
    uint64_t received, lost, ooo, dups, bytes, errors, jitter_ns, active_us, sent;
};

/* One stream of a test: a TCP connection or a UDP session. */
struct stream {
    uint32_t id;
    int dir;
    bool verify;
    int fd;
    uint64_t limit;  /* bytes, 0: none */
    uint64_t dur_ms; /* 0: none */
    uint64_t rate;   /* UDP bits/s */
    size_t len;
    struct sockaddr_in peer;
    _Atomic uint64_t progress; /* bytes so far, for the interval reports */
    uint64_t bytes;            /* the count reported at the end */
    uint64_t errors;
    uint64_t t0, t1; /* ns */
    long retrans;
    bool ok;
    bool udp, has_usum;
    struct udp_sum usum;
    bool has_thread;
    pthread_t th;
    struct test *test;
};

/* Streams that run together and are reported together. */
struct test {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct stream *s[MAX_STREAMS];
    int n;
    int active;
    uint64_t t_start;
    uint64_t last_end;
    long retrans0;
    bool done, quiet, has_reporter;
    double interval;
    pthread_t reporter;
};

static struct options g_o;
static uint8_t *g_pattern; /* pattern[i] = i % 251, long enough for any len */
static atomic_bool g_quit;

/* ---- small helpers ----------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static void sleep_until_ns(uint64_t t)
{
    struct timespec ts = {.tv_sec = (time_t)(t / NS), .tv_nsec = (long)(t % NS)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static void sleep_ms(int ms)
{
    sleep_until_ns(now_ns() + (uint64_t)ms * 1000000ull);
}

static double gbps(uint64_t bytes, double secs)
{
    return secs > 0 ? (double)bytes * 8.0 / secs / 1e9 : 0.0;
}

/* Bytes of buf[0..n) that differ from the pattern at stream offset `off`. */
static uint64_t mismatches(const uint8_t *buf, size_t n, uint64_t off)
{
    const uint8_t *want = g_pattern + off % PATTERN_MOD;
    if (memcmp(buf, want, n) == 0) {
        return 0;
    }
    uint64_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        bad += buf[i] != want[i];
    }
    return bad;
}

static bool transient(int e)
{
    return e == EINTR || e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENOMEM;
}

/* Send all of buf (blocking socket): 0, or -1 with errno. */
static int send_all(int fd, const uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = zp_send(fd, buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* Read exactly len bytes: len, fewer at end of stream, -1 with errno. */
static ssize_t recv_exact(int fd, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = zp_recv(fd, buf + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (n == 0) {
            break;
        }
        done += (size_t)n;
    }
    return (ssize_t)done;
}

static void set_buffers(int fd, int bytes)
{
    if (bytes > 0) {
        if (zp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) < 0 ||
            zp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes)) < 0) {
            fprintf(stderr, PROG ": -w %d: %s\n", bytes, strerror(errno));
        }
    }
}

static void set_timeout(int fd, int seconds)
{
    struct timeval tv = {.tv_sec = seconds};
    zp_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    zp_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Wait (up to 10 s) until the peer has acknowledged everything we sent, so
 * that closing, or a zsock process exiting, loses nothing. */
static void drain_unacked(int fd)
{
    uint64_t end = now_ns() + 10 * NS;
    while (now_ns() < end) {
        int q = zp_unacked(fd);
        if (q <= 0) {
            return;
        }
        sleep_ms(1);
    }
}

/* IPv6 (TCP only): the server a client was given (-c with an IPv6 address),
 * which a sockaddr_in of family AF_INET6 stands for; a server's IPv6 peers
 * are printed without their address. */
static struct sockaddr_in6 g_srv6;

static const char *addr_str(const struct sockaddr_in *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->sin_family == AF_INET6) {
        if (g_srv6.sin6_family == AF_INET6) {
            zp_inet_ntop(AF_INET6, &g_srv6.sin6_addr, ip, sizeof(ip));
        }
        int n = snprintf(buf, len, "[%s]:%u", g_srv6.sin6_family == AF_INET6 ? ip : "IPv6",
                         (unsigned)ntohs(a->sin_port));
        return n >= 0 ? buf : "?"; /* cut short to fit len: only shown */
    }
    zp_inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    int n = snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(a->sin_port));
    return n >= 0 ? buf : "?";
}

/* ---- tests, summaries and interval reports ----------------------------------------------- */

static void print_summary(const char *id, int dir, uint64_t bytes, double secs, long retrans,
                          uint64_t errors)
{
    printf("zperf: summary stream=%s dir=%s bytes=%" PRIu64 " seconds=%.3f gbps=%.3f retrans=%ld "
           "errors=%" PRIu64 "\n",
           id, dir == DIR_UP ? "up" : "down", bytes, secs, gbps(bytes, secs), retrans, errors);
}

static void print_udp(const char *id, int dir, const struct udp_sum *u)
{
    double loss = u->sent > 0 ? 100.0 * (double)u->lost / (double)u->sent : 0.0;
    printf("zperf: udp stream=%s dir=%s sent=%" PRIu64 " received=%" PRIu64 " lost=%" PRIu64
           " loss=%.3f%% out-of-order=%" PRIu64 " duplicates=%" PRIu64 " jitter-ms=%.3f"
           " errors=%" PRIu64 "\n",
           id, dir == DIR_UP ? "up" : "down", u->sent, u->received, u->lost, loss, u->ooo, u->dups,
           (double)u->jitter_ns / 1e6, u->errors);
}

static void *reporter_main(void *arg)
{
    struct test *t = arg;
    uint64_t last[MAX_STREAMS] = {0};
    uint64_t step = (uint64_t)(t->interval * 1e9);
    uint64_t from = 0;
    pthread_mutex_lock(&t->lock);
    for (;;) {
        uint64_t due = t->t_start + from + step;
        struct timespec ts = {.tv_sec = (time_t)(due / NS), .tv_nsec = (long)(due % NS)};
        while (!t->done && now_ns() < due) {
            pthread_cond_timedwait(&t->cond, &t->lock, &ts);
        }
        if (t->done) {
            break;
        }
        uint64_t sum = 0;
        double a = (double)from / 1e9, b = (double)(from + step) / 1e9;
        for (int i = 0; i < t->n; i++) {
            uint64_t p = atomic_load_explicit(&t->s[i]->progress, memory_order_relaxed);
            uint64_t d = p - last[i];
            last[i] = p;
            sum += d;
            printf("zperf: interval stream=%" PRIu32 " t=%.2f-%.2f bytes=%" PRIu64 " gbps=%.3f\n",
                   t->s[i]->id, a, b, d, gbps(d, b - a));
        }
        if (t->n > 1) {
            printf("zperf: interval stream=all t=%.2f-%.2f bytes=%" PRIu64 " gbps=%.3f\n", a, b,
                   sum, gbps(sum, b - a));
        }
        fflush(stdout);
        from += step;
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

static struct test *test_new(bool quiet, double interval)
{
    struct test *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    t->quiet = quiet;
    t->interval = quiet ? 0 : interval;
    t->t_start = now_ns();
    t->retrans0 = zp_stack_retrans();
    return t;
}

/* Start the interval reports from now (no-op without -i). */
static void test_start(struct test *t)
{
    t->t_start = now_ns();
    if (t->interval > 0 && pthread_create(&t->reporter, NULL, reporter_main, t) == 0) {
        t->has_reporter = true;
    }
}

/* Add a stream: 0, or -1 when the test is full. */
static int test_add(struct test *t, struct stream *s)
{
    pthread_mutex_lock(&t->lock);
    int rc = -1;
    if (t->n < MAX_STREAMS) {
        s->test = t;
        t->s[t->n++] = s;
        t->active++;
        rc = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

static void test_stream_done(struct test *t)
{
    pthread_mutex_lock(&t->lock);
    t->active--;
    t->last_end = now_ns();
    pthread_mutex_unlock(&t->lock);
}

/* True when no stream has run for a grace period (the server's end of a test). */
static bool test_idle(struct test *t)
{
    pthread_mutex_lock(&t->lock);
    bool idle = t->active == 0 && now_ns() - t->last_end > GROUP_GRACE_NS;
    pthread_mutex_unlock(&t->lock);
    return idle;
}

/* Wait for every stream, print the summaries unless quiet, free the test.
 * Returns 0 when every stream succeeded and found no mismatch, else 1. */
static int test_finish(struct test *t)
{
    for (int i = 0; i < t->n; i++) {
        if (t->s[i]->has_thread) {
            pthread_join(t->s[i]->th, NULL);
        }
    }
    pthread_mutex_lock(&t->lock);
    t->done = true;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->lock);
    if (t->has_reporter) {
        pthread_join(t->reporter, NULL);
    }
    long stack = zp_stack_retrans();
    long stack_diff = stack >= 0 && t->retrans0 >= 0 ? stack - t->retrans0 : -1;
    if (t->n > 0 && t->s[0]->udp) {
        stack_diff = -1; /* UDP does not retransmit */
    }
    uint64_t bytes = 0, errors = 0, t0 = UINT64_MAX, t1 = 0;
    long retrans = 0;
    int rc = 0;
    bool udp = false;
    struct udp_sum all = {0};
    uint64_t jitter_max = 0;
    for (int i = 0; i < t->n; i++) {
        struct stream *s = t->s[i];
        if (stack_diff >= 0 && t->n == 1) {
            s->retrans = stack_diff;
        }
        if (!t->quiet) {
            char id[16];
            snprintf(id, sizeof(id), "%" PRIu32, s->id);
            print_summary(id, s->dir, s->bytes, s->t1 > s->t0 ? (double)(s->t1 - s->t0) / 1e9 : 0,
                          s->retrans, s->errors);
            if (s->has_usum) {
                print_udp(id, s->dir, &s->usum);
            }
        }
        bytes += s->bytes;
        errors += s->errors;
        t0 = s->t0 < t0 ? s->t0 : t0;
        t1 = s->t1 > t1 ? s->t1 : t1;
        retrans = retrans < 0 || s->retrans < 0 ? -1 : retrans + s->retrans;
        if (!s->ok || s->errors != 0) {
            rc = 1;
        }
        if (s->has_usum) {
            udp = true;
            all.received += s->usum.received;
            all.lost += s->usum.lost;
            all.ooo += s->usum.ooo;
            all.dups += s->usum.dups;
            all.errors += s->usum.errors;
            all.sent += s->usum.sent;
            jitter_max = s->usum.jitter_ns > jitter_max ? s->usum.jitter_ns : jitter_max;
        }
    }
    if (stack_diff >= 0) {
        retrans = stack_diff;
    }
    if (t->n > 0 && !t->quiet) {
        print_summary("all", t->s[0]->dir, bytes, t1 > t0 ? (double)(t1 - t0) / 1e9 : 0, retrans,
                      errors);
        if (udp) {
            all.jitter_ns = jitter_max; /* the worst stream's */
            print_udp("all", t->s[0]->dir, &all);
        }
        fflush(stdout);
    }
    for (int i = 0; i < t->n; i++) {
        free(t->s[i]);
    }
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
    free(t);
    return rc;
}

/* ---- TCP: the header and the two directions ---------------------------------------------- */

struct zp_hdr {
    int dir;
    bool verify;
    uint32_t stream;
    uint64_t limit, dur_ms;
};

static void hdr_encode(uint8_t *p, const struct zp_hdr *h)
{
    memset(p, 0, HDR_LEN);
    memcpy(p, "ZPRF", 4);
    p[4] = 1;
    p[5] = (uint8_t)h->dir;
    p[6] = h->verify ? 1 : 0;
    zp_put_be32(p + 8, h->stream);
    zp_put_be64(p + 16, h->limit);
    zp_put_be64(p + 24, h->dur_ms);
}

static int hdr_decode(const uint8_t *p, struct zp_hdr *h)
{
    if (memcmp(p, "ZPRF", 4) != 0 || p[4] != 1 || p[5] > 1) {
        return -1;
    }
    h->dir = p[5];
    h->verify = (p[6] & 1) != 0;
    h->stream = zp_get_be32(p + 8);
    h->limit = zp_get_be64(p + 16);
    h->dur_ms = zp_get_be64(p + 24);
    return 0;
}

/* Send the pattern until the stream's byte or time limit (both 0: 10 s).
 * Returns the bytes sent; *failed tells whether a send failed. */
static uint64_t tcp_send_pattern(struct stream *s, bool *failed)
{
    uint64_t limit = s->limit, dur_ms = s->dur_ms;
    if (limit == 0 && dur_ms == 0) {
        dur_ms = (uint64_t)(DEFAULT_SECONDS * 1000);
    }
    uint64_t deadline = dur_ms > 0 ? s->t0 + dur_ms * 1000000ull : UINT64_MAX;
    uint64_t off = 0;
    *failed = false;
    while (limit == 0 || off < limit) {
        if (deadline != UINT64_MAX && now_ns() >= deadline) {
            break;
        }
        size_t n = s->len;
        if (limit != 0 && limit - off < n) {
            n = (size_t)(limit - off);
        }
        ssize_t r = zp_send(s->fd, g_pattern + off % PATTERN_MOD, n, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, PROG ": stream %" PRIu32 ": send: %s\n", s->id, strerror(errno));
            *failed = true;
            break;
        }
        off += (uint64_t)r;
        atomic_store_explicit(&s->progress, off, memory_order_relaxed);
    }
    return off;
}

/* Read to end of stream, verifying if asked. Returns the bytes read;
 * *failed tells whether a receive failed. */
static uint64_t tcp_recv_pattern(struct stream *s, uint8_t *buf, bool *failed)
{
    uint64_t off = 0;
    *failed = false;
    for (;;) {
        ssize_t r = zp_recv(s->fd, buf, s->len, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            fprintf(stderr, PROG ": stream %" PRIu32 ": recv: %s\n", s->id, strerror(errno));
            *failed = true;
            break;
        }
        if (r == 0) {
            break;
        }
        if (s->verify) {
            s->errors += mismatches(buf, (size_t)r, off);
        }
        off += (uint64_t)r;
        atomic_store_explicit(&s->progress, off, memory_order_relaxed);
    }
    return off;
}

static void *tcp_client_stream(void *arg)
{
    struct stream *s = arg;
    bool failed;
    s->t0 = now_ns();
    if (s->dir == DIR_UP) {
        uint64_t sent = tcp_send_pattern(s, &failed);
        uint8_t tr[TRAILER_LEN];
        ssize_t r = -1;
        if (!failed && zp_shutdown(s->fd, SHUT_WR) == 0) {
            r = recv_exact(s->fd, tr, sizeof(tr));
        }
        s->t1 = now_ns();
        if (r == TRAILER_LEN) {
            s->bytes = zp_get_be64(tr);
            s->errors = zp_get_be64(tr + 8);
            s->ok = s->bytes == sent;
            if (!s->ok) {
                fprintf(stderr,
                        PROG ": stream %" PRIu32 ": sent %" PRIu64 " bytes, server got %" PRIu64
                             "\n",
                        s->id, sent, s->bytes);
            }
        } else {
            fprintf(stderr, PROG ": stream %" PRIu32 ": no trailer from the server (%s)\n", s->id,
                    r < 0 ? strerror(errno) : "end of stream");
            s->bytes = 0;
        }
    } else {
        uint8_t *buf = malloc(s->len);
        if (buf != NULL) {
            s->bytes = tcp_recv_pattern(s, buf, &failed);
            /* Without a time limit, a byte limit must be met exactly. */
            s->ok = !failed && (s->limit == 0 || s->dur_ms != 0 || s->bytes == s->limit);
            if (!failed && !s->ok) {
                fprintf(stderr,
                        PROG ": stream %" PRIu32 ": asked for %" PRIu64 " bytes, got %" PRIu64 "\n",
                        s->id, s->limit, s->bytes);
            }
            free(buf);
        }
        s->t1 = now_ns();
    }
    s->retrans = zp_tcp_retrans(s->fd);
    zp_close(s->fd);
    return NULL;
}

static void *tcp_server_stream(void *arg)
{
    struct stream *s = arg;
    uint8_t h[HDR_LEN];
    struct zp_hdr hdr;
    char who[48];
    addr_str(&s->peer, who, sizeof(who));
    set_timeout(s->fd, IO_TIMEOUT_S);
    ssize_t r = recv_exact(s->fd, h, sizeof(h));
    s->t0 = s->t1 = now_ns();
    if (r != HDR_LEN || hdr_decode(h, &hdr) < 0) {
        fprintf(stderr, PROG ": %s: no valid zperf header (%zd bytes)\n", who, r);
        zp_close(s->fd);
        test_stream_done(s->test);
        return NULL;
    }
    s->id = hdr.stream;
    s->dir = hdr.dir;
    s->verify = hdr.verify;
    s->limit = hdr.limit;
    s->dur_ms = hdr.dur_ms;
    if (!s->test->quiet) {
        printf("zperf: stream %" PRIu32 " from %s: %s%s\n", s->id, who,
               s->dir == DIR_UP ? "upload (we receive)" : "download (we send)",
               s->verify ? ", verified" : "");
    }
    bool failed = false;
    if (s->dir == DIR_UP) {
        uint8_t *buf = malloc(s->len);
        if (buf == NULL) {
            failed = true;
        } else {
            s->bytes = tcp_recv_pattern(s, buf, &failed);
            free(buf);
        }
        s->t1 = now_ns();
        uint8_t tr[TRAILER_LEN];
        zp_put_be64(tr, s->bytes);
        zp_put_be64(tr + 8, s->errors);
        if (!failed && send_all(s->fd, tr, sizeof(tr)) < 0) {
            fprintf(stderr, PROG ": %s: sending the trailer: %s\n", who, strerror(errno));
            failed = true;
        }
    } else {
        s->bytes = tcp_send_pattern(s, &failed);
    }
    zp_shutdown(s->fd, SHUT_WR);
    drain_unacked(s->fd);
    if (s->dir == DIR_DOWN) {
        s->t1 = now_ns();
    }
    s->ok = !failed;
    s->retrans = zp_tcp_retrans(s->fd);
    zp_close(s->fd);
    test_stream_done(s->test);
    return NULL;
}

/* ---- UDP: datagrams, the receiver's accounting, the paced sender ------------------------- */

struct udp_hdr {
    int type;
    bool verify;
    uint32_t stream, session;
    uint64_t seq, ts;
};

static void udp_hdr_encode(uint8_t *p, const struct udp_hdr *h)
{
    memcpy(p, "ZPRU", 4);
    p[4] = 1;
    p[5] = (uint8_t)h->type;
    p[6] = h->verify ? 1 : 0;
    p[7] = 0;
    zp_put_be32(p + 8, h->stream);
    zp_put_be32(p + 12, h->session);
    zp_put_be64(p + 16, h->seq);
    zp_put_be64(p + 24, h->ts);
}

static int udp_hdr_decode(const uint8_t *p, size_t len, struct udp_hdr *h)
{
    if (len < UDP_HDR || memcmp(p, "ZPRU", 4) != 0 || p[4] != 1 || p[5] > UDP_READY) {
        return -1;
    }
    h->type = p[5];
    h->verify = (p[6] & 1) != 0;
    h->stream = zp_get_be32(p + 8);
    h->session = zp_get_be32(p + 12);
    h->seq = zp_get_be64(p + 16);
    h->ts = zp_get_be64(p + 24);
    if ((h->type == UDP_SUMMARY && len < UDP_SUMMARY_LEN) ||
        (h->type == UDP_START && len < UDP_START_LEN)) {
        return -1;
    }
    return 0;
}

static void udp_sum_encode(uint8_t *p, const struct udp_sum *u)
{
    const uint64_t v[9] = {u->received, u->lost,      u->ooo,       u->dups, u->bytes,
                           u->errors,   u->jitter_ns, u->active_us, u->sent};
    for (int i = 0; i < 9; i++) {
        zp_put_be64(p + 8 * i, v[i]);
    }
}

static void udp_sum_decode(const uint8_t *p, struct udp_sum *u)
{
    uint64_t *v[9] = {&u->received, &u->lost,      &u->ooo,       &u->dups, &u->bytes,
                      &u->errors,   &u->jitter_ns, &u->active_us, &u->sent};
    for (int i = 0; i < 9; i++) {
        *v[i] = zp_get_be64(p + 8 * i);
    }
}

/* The receiver's running accounting of one session. */
struct udp_rx {
    uint64_t received, bytes, errors, ooo, dups;
    int64_t max_seq;
    uint64_t *seen; /* UDP_RX_WINDOW bits, bit (seq % window) */
    double jitter;  /* ns */
    int64_t last_transit;
    bool have_transit;
    uint64_t first_ns, last_ns;
};

static int rx_init(struct udp_rx *r)
{
    memset(r, 0, sizeof(*r));
    r->max_seq = -1;
    r->seen = calloc(UDP_RX_WINDOW / 64, sizeof(uint64_t));
    return r->seen == NULL ? -1 : 0;
}

static bool rx_bit(struct udp_rx *r, uint64_t seq, int op) /* op: 0 test, 1 set, 2 clear */
{
    uint64_t i = seq % UDP_RX_WINDOW, m = 1ull << (i % 64);
    bool was = (r->seen[i / 64] & m) != 0;
    if (op == 1) {
        r->seen[i / 64] |= m;
    } else if (op == 2) {
        r->seen[i / 64] &= ~m;
    }
    return was;
}

static void rx_data(struct udp_rx *r, const struct udp_hdr *h, const uint8_t *payload, size_t n,
                    uint64_t now)
{
    if (r->first_ns == 0) {
        r->first_ns = now;
    }
    r->last_ns = now;
    if (r->max_seq < 0 || h->seq > (uint64_t)r->max_seq) {
        uint64_t from = (uint64_t)(r->max_seq + 1);
        if (h->seq - from >= UDP_RX_WINDOW) {
            memset(r->seen, 0, UDP_RX_WINDOW / 8);
        } else {
            for (uint64_t q = from; q < h->seq; q++) {
                rx_bit(r, q, 2);
            }
        }
        rx_bit(r, h->seq, 1);
        r->max_seq = (int64_t)h->seq;
    } else if ((uint64_t)r->max_seq - h->seq >= UDP_RX_WINDOW) {
        r->ooo++; /* too old to tell a duplicate */
    } else if (rx_bit(r, h->seq, 1)) {
        r->dups++;
        return;
    } else {
        r->ooo++;
    }
    r->received++;
    r->bytes += n + UDP_HDR;
    int64_t transit = (int64_t)(now - h->ts);
    if (r->have_transit) {
        int64_t d = transit - r->last_transit;
        r->jitter += ((double)(d < 0 ? -d : d) - r->jitter) / 16.0;
    }
    r->last_transit = transit;
    r->have_transit = true;
    if (h->verify) {
        r->errors += mismatches(payload, n, h->seq);
    }
}

static void rx_summary(const struct udp_rx *r, uint64_t sent, struct udp_sum *u)
{
    u->received = r->received;
    u->lost = sent > r->received ? sent - r->received : 0;
    u->ooo = r->ooo;
    u->dups = r->dups;
    u->bytes = r->bytes;
    u->errors = r->errors;
    u->jitter_ns = (uint64_t)r->jitter;
    u->active_us = r->last_ns > r->first_ns ? (r->last_ns - r->first_ns) / 1000 : 0;
    u->sent = sent;
}

static ssize_t udp_out(int fd, const uint8_t *buf, size_t len, const struct sockaddr_in *to)
{
    for (;;) {
        ssize_t r = to != NULL
                        ? zp_sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to))
                        : zp_send(fd, buf, len, 0);
        if (r >= 0 || errno != EINTR) {
            return r;
        }
    }
}

/* Send paced data datagrams for stream s (to `to`, or on a connected socket
 * when NULL) until its byte or time limit. Sets s->t0, s->t1 and the
 * progress; returns the number of datagrams sent, or -1 on a hard error. */
static int64_t udp_send_data(struct stream *s, uint32_t session, const struct sockaddr_in *to)
{
    uint8_t *buf = malloc(s->len);
    if (buf == NULL) {
        return -1;
    }
    uint64_t dur_ms = s->dur_ms;
    if (dur_ms == 0 && s->limit == 0) {
        dur_ms = (uint64_t)(DEFAULT_SECONDS * 1000);
    }
    uint64_t t0 = now_ns();
    uint64_t end = dur_ms > 0 ? t0 + dur_ms * 1000000ull : UINT64_MAX;
    uint64_t seq = 0, bytes = 0, soft_errors = 0;
    struct udp_hdr h = {.type = UDP_DATA, .verify = s->verify, .stream = s->id, .session = session};
    s->t0 = t0;
    int64_t rc = 0;
    for (;;) {
        uint64_t now = now_ns();
        if (now >= end || (s->limit != 0 && bytes >= s->limit) || atomic_load(&g_quit)) {
            break;
        }
        if (s->rate > 0) {
            uint64_t due = t0 + (uint64_t)((double)bytes * 8.0 * 1e9 / (double)s->rate);
            if (due > now + 20000) {
                sleep_until_ns(due < end ? due : end);
                continue;
            }
        }
        h.seq = seq;
        h.ts = now_ns();
        udp_hdr_encode(buf, &h);
        memcpy(buf + UDP_HDR, g_pattern + seq % PATTERN_MOD, s->len - UDP_HDR);
        if (udp_out(s->fd, buf, s->len, to) < 0) {
            if (transient(errno)) {
                soft_errors++; /* the datagram was not sent: no sequence used */
                sched_yield();
                continue;
            }
            fprintf(stderr, PROG ": stream %" PRIu32 ": send: %s\n", s->id, strerror(errno));
            rc = -1;
            break;
        }
        seq++;
        bytes += s->len;
        atomic_store_explicit(&s->progress, bytes, memory_order_relaxed);
    }
    s->t1 = now_ns();
    if (soft_errors > 0 && !s->test->quiet) {
        printf("zperf: stream %" PRIu32 ": %" PRIu64 " sends refused for a moment (no buffer)\n",
               s->id, soft_errors);
    }
    free(buf);
    return rc < 0 ? -1 : (int64_t)seq;
}

static uint32_t new_session(uint32_t salt)
{
    uint64_t x = now_ns() ^ ((uint64_t)getpid() << 32) ^ ((uint64_t)salt * 0x9e3779b97f4a7c15ull);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return (uint32_t)x | 1;
}

static int udp_client_socket(const struct sockaddr_in *srv)
{
    int fd = zp_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    if (fd < 0) {
        perror(PROG ": socket");
        return -1;
    }
    set_buffers(fd, g_o.window);
    if (zp_connect(fd, (const struct sockaddr *)srv, sizeof(*srv)) < 0) {
        perror(PROG ": connect");
        zp_close(fd);
        return -1;
    }
    return fd;
}

/* Wait up to ms for a datagram on fd: its length, 0 if none came, -1 on error. */
static ssize_t udp_wait(int fd, uint8_t *buf, size_t len, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = zp_poll(&p, 1, ms);
    if (r <= 0) {
        return r < 0 && errno != EINTR ? -1 : 0;
    }
    ssize_t n = zp_recv(fd, buf, len, MSG_DONTWAIT);
    if (n < 0) {
        return transient(errno) || errno == ECONNREFUSED ? 0 : -1;
    }
    return n;
}

struct udp_client_ctx {
    struct stream *s;
    struct sockaddr_in srv;
};

/* The start request of a session (see the protocol at the top). */
static void udp_start_encode(uint8_t *p, const struct stream *s, uint32_t session)
{
    struct udp_hdr h = {
        .type = UDP_START, .verify = s->verify, .stream = s->id, .session = session};
    memset(p, 0, UDP_START_LEN);
    udp_hdr_encode(p, &h);
    zp_put_be64(p + UDP_HDR, s->rate);
    zp_put_be32(p + UDP_HDR + 8, (uint32_t)s->len);
    p[UDP_HDR + 12] = (uint8_t)s->dir;
    zp_put_be64(p + UDP_HDR + 16, s->limit);
    zp_put_be64(p + UDP_HDR + 24, s->dur_ms);
}

/* Client upload: a start request until the server is ready, the data, then
 * end markers until the server's summary. */
static void udp_client_up(struct stream *s, const struct sockaddr_in *srv)
{
    uint32_t session = new_session(s->id);
    uint8_t req[UDP_START_LEN], end[UDP_HDR], in[UDP_SUMMARY_LEN + 64];
    char who[48];
    udp_start_encode(req, s, session);
    bool ready = false;
    for (int k = 0; k < START_TRIES && !ready; k++) {
        udp_out(s->fd, req, sizeof(req), NULL);
        uint64_t until = now_ns() + START_GAP_MS * 1000000ull;
        while (!ready && now_ns() < until) {
            ssize_t n = udp_wait(s->fd, in, sizeof(in), START_GAP_MS);
            struct udp_hdr rh;
            ready = n > 0 && udp_hdr_decode(in, (size_t)n, &rh) == 0 && rh.type == UDP_READY &&
                    rh.session == session;
        }
    }
    if (!ready) {
        fprintf(stderr, PROG ": stream %" PRIu32 ": no answer from a zperf server at %s\n", s->id,
                addr_str(srv, who, sizeof(who)));
        return;
    }
    int64_t count = udp_send_data(s, session, NULL);
    if (count < 0) {
        return;
    }
    struct udp_hdr h = {
        .type = UDP_END, .stream = s->id, .session = session, .seq = (uint64_t)count};
    for (int k = 0; k < END_TRIES && !s->has_usum; k++) {
        h.ts = now_ns();
        udp_hdr_encode(end, &h);
        udp_out(s->fd, end, sizeof(end), NULL);
        uint64_t until = now_ns() + END_GAP_MS * 1000000ull;
        while (!s->has_usum && now_ns() < until) {
            ssize_t n = udp_wait(s->fd, in, sizeof(in), END_GAP_MS);
            struct udp_hdr rh;
            if (n > 0 && udp_hdr_decode(in, (size_t)n, &rh) == 0 && rh.type == UDP_SUMMARY &&
                rh.session == session) {
                udp_sum_decode(in + UDP_HDR, &s->usum);
                s->has_usum = true;
            }
        }
    }
    if (!s->has_usum) {
        fprintf(stderr, PROG ": stream %" PRIu32 ": no summary from %s after %d end markers\n",
                s->id, addr_str(srv, who, sizeof(who)), END_TRIES);
        return;
    }
    s->bytes = s->usum.bytes;
    s->errors = s->usum.errors;
    s->ok = true;
}

/* The receiving side of a session on a connected socket (client download):
 * ask the server to send, account for the data, answer end markers. */
static void udp_client_down(struct stream *s)
{
    uint32_t session = new_session(s->id);
    struct udp_rx rx;
    if (rx_init(&rx) < 0) {
        return;
    }
    uint8_t *buf = malloc(MAX_UDP_LEN + 1);
    if (buf == NULL) {
        free(rx.seen);
        return;
    }
    uint8_t req[UDP_START_LEN], sum[UDP_SUMMARY_LEN];
    udp_start_encode(req, s, session);
    uint64_t dur_ns = (s->dur_ms > 0 ? s->dur_ms : 60000) * 1000000ull;
    s->t0 = now_ns();
    uint64_t give_up = s->t0 + dur_ns + 15 * NS, last_req = 0, ended_at = 0;
    int tries = 0;
    bool got_any = false, ended = false;
    for (;;) {
        uint64_t now = now_ns();
        if (ended && now - ended_at > 300000000ull) {
            break; /* answered; a lost summary would have brought another end marker */
        }
        if (now > give_up || atomic_load(&g_quit)) {
            fprintf(stderr, PROG ": stream %" PRIu32 ": no end marker from the server\n", s->id);
            break;
        }
        if (!got_any && now - last_req > START_GAP_MS * 1000000ull) {
            if (tries++ == START_TRIES) {
                fprintf(stderr, PROG ": stream %" PRIu32 ": the server does not answer\n", s->id);
                break;
            }
            udp_out(s->fd, req, sizeof(req), NULL);
            last_req = now;
        }
        ssize_t n = udp_wait(s->fd, buf, MAX_UDP_LEN + 1, 50);
        struct udp_hdr rh;
        if (n < 0) {
            perror(PROG ": recv");
            break;
        }
        if (n == 0 || udp_hdr_decode(buf, (size_t)n, &rh) < 0 || rh.session != session) {
            continue;
        }
        now = now_ns();
        if (rh.type == UDP_DATA && !ended) {
            got_any = true;
            rx_data(&rx, &rh, buf + UDP_HDR, (size_t)n - UDP_HDR, now);
            atomic_store_explicit(&s->progress, rx.bytes, memory_order_relaxed);
        } else if (rh.type == UDP_END) {
            got_any = true;
            if (!ended) {
                ended = true;
                s->t1 = now;
                rx_summary(&rx, rh.seq, &s->usum);
                s->has_usum = true;
            }
            ended_at = now;
            struct udp_hdr sh = {
                .type = UDP_SUMMARY, .stream = s->id, .session = session, .ts = now_ns()};
            udp_hdr_encode(sum, &sh);
            udp_sum_encode(sum + UDP_HDR, &s->usum);
            udp_out(s->fd, sum, sizeof(sum), NULL);
        }
    }
    if (ended) {
        s->bytes = s->usum.bytes;
        s->errors = s->usum.errors;
        s->ok = true;
    } else {
        s->t1 = now_ns();
    }
    free(buf);
    free(rx.seen);
}

static void *udp_client_stream(void *arg)
{
    struct udp_client_ctx *c = arg;
    struct stream *s = c->s;
    s->fd = udp_client_socket(&c->srv);
    if (s->fd >= 0) {
        if (s->dir == DIR_UP) {
            udp_client_up(s, &c->srv);
        } else {
            udp_client_down(s);
        }
        zp_close(s->fd);
    }
    free(c);
    return NULL;
}

/* ---- server --------------------------------------------------------------------------------- */

/* A UDP session the server knows: receiving (client upload) or sending. */
struct usess {
    bool used;
    struct sockaddr_in peer;
    uint32_t session;
    int dir;
    struct stream *s; /* NULL once its test is reported */
    struct udp_rx rx;
    bool ended;
    struct udp_sum sum; /* receiving: ours, to (re)send */
    atomic_bool got_peer_sum;
    atomic_bool finished;
    uint64_t last_ns;
    int ufd;
};

struct server {
    int lfd, ufd, port;
    bool quiet;
    atomic_int tests_done;
    pthread_t uth;
    bool has_uth;
    struct usess sess[UDP_SESSIONS];
    struct test *utest;
};

static int open_bound(int type, int port, int *bound)
{
    /* TCP listens on [::] with IPV6_V6ONLY off (IPv4 and IPv6 clients), or
     * on 0.0.0.0 where there is no IPv6. */
    int fd = type == SOCK_STREAM ? zp_socket(AF_INET6, type, IPPROTO_TCP) : -1;
    int off = 0;
    if (fd >= 0 && zp_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0) {
        zp_close(fd);
        fd = -1;
    }
    bool v6 = fd >= 0;
    if (!v6) {
        fd = zp_socket(AF_INET, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP);
    }
    if (fd < 0) {
        perror(PROG ": socket");
        return -1;
    }
    int one = 1;
    zp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    set_buffers(fd, g_o.window);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    if (v6 ? zp_bind(fd, (struct sockaddr *)&a6, sizeof(a6)) < 0
           : zp_bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        fprintf(stderr, PROG ": bind %s port %d: %s\n", type == SOCK_STREAM ? "TCP" : "UDP", port,
                strerror(errno));
        zp_close(fd);
        return -1;
    }
    if (type == SOCK_STREAM && zp_listen(fd, MAX_STREAMS) < 0) {
        perror(PROG ": listen");
        zp_close(fd);
        return -1;
    }
    socklen_t len = sizeof(a6);
    zp_getsockname(fd, (struct sockaddr *)&a6, &len);
    *bound = ntohs(a6.sin6_port); /* sin_port and sin6_port share their place */
    return fd;
}

static void *udp_server_sender(void *arg)
{
    struct usess *u = arg;
    struct stream *s = u->s;
    int64_t count = udp_send_data(s, u->session, &u->peer);
    if (count >= 0) {
        uint8_t end[UDP_HDR];
        struct udp_hdr h = {
            .type = UDP_END, .stream = s->id, .session = u->session, .seq = (uint64_t)count};
        for (int k = 0; k < END_TRIES && !atomic_load(&u->got_peer_sum); k++) {
            h.ts = now_ns();
            udp_hdr_encode(end, &h);
            udp_out(u->ufd, end, sizeof(end), &u->peer);
            for (int w = 0; w < END_GAP_MS && !atomic_load(&u->got_peer_sum); w++) {
                sleep_ms(1);
            }
        }
    }
    if (atomic_load(&u->got_peer_sum)) {
        s->bytes = s->usum.bytes;
        s->errors = s->usum.errors;
        s->ok = true;
    } else {
        char who[48];
        fprintf(stderr, PROG ": udp stream %" PRIu32 " to %s: no summary from the client\n", s->id,
                addr_str(&u->peer, who, sizeof(who)));
    }
    atomic_store(&u->finished, true);
    test_stream_done(s->test);
    return NULL;
}

static struct usess *sess_find(struct server *sv, const struct sockaddr_in *from, uint32_t session)
{
    for (int i = 0; i < UDP_SESSIONS; i++) {
        struct usess *u = &sv->sess[i];
        if (u->used && u->session == session && u->peer.sin_port == from->sin_port &&
            u->peer.sin_addr.s_addr == from->sin_addr.s_addr) {
            return u;
        }
    }
    return NULL;
}

static struct usess *sess_new(struct server *sv, const struct sockaddr_in *from,
                              const struct udp_hdr *h, int dir)
{
    struct usess *u = NULL;
    for (int i = 0; i < UDP_SESSIONS && u == NULL; i++) {
        if (!sv->sess[i].used) {
            u = &sv->sess[i];
        }
    }
    if (u == NULL) {
        return NULL;
    }
    struct stream *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    if (sv->utest == NULL) {
        sv->utest = test_new(sv->quiet, g_o.interval);
        if (sv->utest == NULL) {
            free(s);
            return NULL;
        }
        test_start(sv->utest);
    }
    memset(u, 0, sizeof(*u));
    if (dir == DIR_UP && rx_init(&u->rx) < 0) {
        free(s);
        return NULL;
    }
    s->id = h->stream;
    s->dir = dir;
    s->verify = h->verify;
    s->udp = true;
    s->retrans = -1;
    s->fd = sv->ufd;
    s->peer = *from;
    if (test_add(sv->utest, s) < 0) {
        free(u->rx.seen);
        free(s);
        return NULL;
    }
    u->used = true;
    u->peer = *from;
    u->session = h->session;
    u->dir = dir;
    u->s = s;
    u->ufd = sv->ufd;
    u->last_ns = now_ns();
    if (!sv->quiet) {
        char who[48];
        printf("zperf: udp stream %" PRIu32 " from %s: %s%s\n", s->id,
               addr_str(from, who, sizeof(who)),
               dir == DIR_UP ? "upload (we receive)" : "download (we send)",
               h->verify ? ", verified" : "");
    }
    return u;
}

static void udp_server_datagram(struct server *sv, const uint8_t *buf, size_t n,
                                const struct sockaddr_in *from)
{
    struct udp_hdr h;
    if (udp_hdr_decode(buf, n, &h) < 0) {
        return;
    }
    uint64_t now = now_ns();
    struct usess *u = sess_find(sv, from, h.session);
    if (u == NULL) {
        if (h.type == UDP_DATA) {
            u = sess_new(sv, from, &h, DIR_UP); /* a client that skipped the start request */
        } else if (h.type == UDP_START && buf[UDP_HDR + 12] == DIR_UP) {
            u = sess_new(sv, from, &h, DIR_UP);
        } else if (h.type == UDP_START) {
            u = sess_new(sv, from, &h, DIR_DOWN);
            if (u != NULL) {
                struct stream *s = u->s;
                const uint8_t *p = buf + UDP_HDR;
                s->rate = zp_get_be64(p);
                s->len = zp_get_be32(p + 8);
                s->limit = zp_get_be64(p + 16);
                s->dur_ms = zp_get_be64(p + 24);
                if (s->len < UDP_HDR || s->len > MAX_UDP_LEN) {
                    s->len = DEFAULT_UDP_LEN;
                }
                if (pthread_create(&s->th, NULL, udp_server_sender, u) == 0) {
                    s->has_thread = true;
                } else {
                    atomic_store(&u->finished, true);
                    test_stream_done(sv->utest);
                }
            }
            return;
        }
        if (u == NULL) {
            return;
        }
    }
    u->last_ns = now;
    if (u->dir == DIR_UP && h.type == UDP_START) {
        uint8_t out[UDP_HDR];
        struct udp_hdr rh = {
            .type = UDP_READY, .stream = h.stream, .session = h.session, .ts = now_ns()};
        udp_hdr_encode(out, &rh);
        udp_out(sv->ufd, out, sizeof(out), from);
    } else if (u->dir == DIR_UP) {
        if (h.type == UDP_DATA && !u->ended && u->s != NULL) {
            rx_data(&u->rx, &h, buf + UDP_HDR, n - UDP_HDR, now);
            atomic_store_explicit(&u->s->progress, u->rx.bytes, memory_order_relaxed);
        } else if (h.type == UDP_END) {
            if (!u->ended) {
                u->ended = true;
                rx_summary(&u->rx, h.seq, &u->sum);
                if (u->s != NULL) {
                    struct stream *s = u->s;
                    s->usum = u->sum;
                    s->has_usum = true;
                    s->bytes = u->rx.bytes;
                    s->errors = u->rx.errors;
                    s->t0 = u->rx.first_ns != 0 ? u->rx.first_ns : now;
                    s->t1 = now;
                    s->ok = true;
                    test_stream_done(s->test);
                }
                atomic_store(&u->finished, true);
            }
            uint8_t out[UDP_SUMMARY_LEN];
            struct udp_hdr sh = {
                .type = UDP_SUMMARY, .stream = h.stream, .session = h.session, .ts = now_ns()};
            udp_hdr_encode(out, &sh);
            udp_sum_encode(out + UDP_HDR, &u->sum);
            udp_out(sv->ufd, out, sizeof(out), from);
        }
    } else if (h.type == UDP_SUMMARY && u->s != NULL && !atomic_load(&u->got_peer_sum)) {
        udp_sum_decode(buf + UDP_HDR, &u->s->usum);
        u->s->has_usum = true;
        atomic_store(&u->got_peer_sum, true);
    }
}

/* Forget sessions long finished; end receiving ones whose sender vanished;
 * report the test when all of its sessions are over. */
static void udp_server_housekeeping(struct server *sv)
{
    uint64_t now = now_ns();
    for (int i = 0; i < UDP_SESSIONS; i++) {
        struct usess *u = &sv->sess[i];
        if (!u->used) {
            continue;
        }
        if (u->dir == DIR_UP && !u->ended && now - u->last_ns > (uint64_t)IO_TIMEOUT_S * NS) {
            char who[48];
            fprintf(stderr, PROG ": udp session from %s: nothing for %d s, no end marker\n",
                    addr_str(&u->peer, who, sizeof(who)), IO_TIMEOUT_S);
            u->ended = true;
            if (u->s != NULL) {
                u->s->bytes = u->rx.bytes;
                u->s->t0 = u->rx.first_ns;
                u->s->t1 = u->rx.last_ns;
                test_stream_done(u->s->test);
            }
            atomic_store(&u->finished, true);
        }
        if (atomic_load(&u->finished) && u->s == NULL && now - u->last_ns > 5 * NS) {
            free(u->rx.seen);
            u->rx.seen = NULL;
            u->used = false;
        }
    }
    if (sv->utest != NULL && test_idle(sv->utest)) {
        for (int i = 0; i < UDP_SESSIONS; i++) {
            sv->sess[i].s = NULL; /* the test frees the streams */
        }
        test_finish(sv->utest);
        sv->utest = NULL;
        atomic_fetch_add(&sv->tests_done, 1);
    }
}

static void *udp_server_main(void *arg)
{
    struct server *sv = arg;
    uint8_t *buf = malloc(MAX_UDP_LEN + 1);
    if (buf == NULL) {
        return NULL;
    }
    while (!atomic_load(&g_quit)) {
        struct pollfd p = {.fd = sv->ufd, .events = POLLIN};
        int r = zp_poll(&p, 1, 100);
        if (r > 0) {
            /* Take what is queued, then look after the sessions. */
            for (int k = 0; k < 1024; k++) {
                struct sockaddr_in from;
                socklen_t flen = sizeof(from);
                ssize_t n = zp_recvfrom(sv->ufd, buf, MAX_UDP_LEN + 1, MSG_DONTWAIT,
                                        (struct sockaddr *)&from, &flen);
                if (n < 0) {
                    break;
                }
                udp_server_datagram(sv, buf, (size_t)n, &from);
            }
        } else if (r < 0 && errno != EINTR) {
            perror(PROG ": udp poll");
            break;
        }
        udp_server_housekeeping(sv);
    }
    if (sv->utest != NULL) {
        /* Quitting (--self): the sessions have ended or their senders end
         * within END_TRIES end markers; report and free the last test. */
        for (int k = 0; k < 50 && !test_idle(sv->utest); k++) {
            sleep_ms(100);
        }
        test_finish(sv->utest);
        sv->utest = NULL;
    }
    for (int i = 0; i < UDP_SESSIONS; i++) {
        free(sv->sess[i].rx.seen);
    }
    free(buf);
    return NULL;
}

static int server_open(struct server *sv, bool quiet)
{
    memset(sv, 0, sizeof(*sv));
    sv->quiet = quiet;
    int port = g_o.port_set ? g_o.port : (g_o.self ? 0 : DEFAULT_PORT);
    sv->lfd = open_bound(SOCK_STREAM, port, &sv->port);
    if (sv->lfd < 0) {
        return -1;
    }
    int uport;
    sv->ufd = open_bound(SOCK_DGRAM, sv->port, &uport);
    if (sv->ufd < 0) {
        zp_close(sv->lfd);
        return -1;
    }
    if (pthread_create(&sv->uth, NULL, udp_server_main, sv) == 0) {
        sv->has_uth = true;
    }
    if (!quiet) {
        printf("zperf: %s server listening on port %d (TCP and UDP)\n", ZP_IMPL, sv->port);
        fflush(stdout);
    }
    return 0;
}

/* Accept connections and group them into tests until g_quit, or after the
 * first test with -1. */
static void server_loop(struct server *sv)
{
    struct test *t = NULL;
    while (!atomic_load(&g_quit)) {
        struct pollfd p = {.fd = sv->lfd, .events = POLLIN};
        int r = zp_poll(&p, 1, 100);
        if (r > 0) {
            struct sockaddr_in6 peer6;
            socklen_t plen = sizeof(peer6);
            int fd = zp_accept(sv->lfd, (struct sockaddr *)&peer6, &plen);
            /* An IPv4 peer as before (from its v4-mapped address); an IPv6
             * one by its port only. */
            struct sockaddr_in peer = {.sin_family = AF_INET6, .sin_port = peer6.sin6_port};
            static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
            if (peer6.sin6_family == AF_INET) {
                memcpy(&peer, &peer6, sizeof(peer));
            } else if (memcmp(peer6.sin6_addr.s6_addr, mapped, 12) == 0) {
                peer.sin_family = AF_INET;
                memcpy(&peer.sin_addr, peer6.sin6_addr.s6_addr + 12, 4);
            }
            if (fd < 0) {
                if (!transient(errno) && errno != ECONNABORTED) {
                    perror(PROG ": accept");
                }
                continue;
            }
            struct stream *s = calloc(1, sizeof(*s));
            if (s != NULL && t == NULL) {
                t = test_new(sv->quiet, g_o.interval);
                if (t != NULL) {
                    test_start(t);
                }
            }
            if (s == NULL || t == NULL || test_add(t, s) < 0) {
                fprintf(stderr, PROG ": refusing a connection (out of memory or streams)\n");
                free(s);
                zp_close(fd);
                continue;
            }
            s->fd = fd;
            s->peer = peer;
            s->len = g_o.len > 0 ? g_o.len : DEFAULT_TCP_LEN;
            s->retrans = -1;
            if (pthread_create(&s->th, NULL, tcp_server_stream, s) == 0) {
                s->has_thread = true;
            } else {
                zp_close(fd);
                test_stream_done(t);
            }
        } else if (r < 0 && errno != EINTR) {
            perror(PROG ": poll");
            break;
        }
        if (t != NULL && test_idle(t)) {
            test_finish(t);
            t = NULL;
            atomic_fetch_add(&sv->tests_done, 1);
        }
        if (g_o.one_off && atomic_load(&sv->tests_done) > 0) {
            break;
        }
    }
    if (t != NULL) {
        /* Quitting (--self): give the last streams a moment to end. */
        for (int k = 0; k < 50 && !test_idle(t); k++) {
            sleep_ms(100);
        }
        pthread_mutex_lock(&t->lock);
        int active = t->active;
        pthread_mutex_unlock(&t->lock);
        if (active == 0) {
            test_finish(t);
        } /* else: streams still run; the process is ending anyway */
    }
}

static void *server_thread(void *arg)
{
    server_loop(arg);
    return NULL;
}

static void server_close(struct server *sv)
{
    atomic_store(&g_quit, true);
    if (sv->has_uth) {
        pthread_join(sv->uth, NULL);
    }
    zp_close(sv->lfd);
    zp_close(sv->ufd);
}

/* ---- client --------------------------------------------------------------------------------- */

static int tcp_connect(const struct sockaddr_in *srv)
{
    bool v6 = srv->sin_family == AF_INET6;
    int fd = zp_socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
        perror(PROG ": socket");
        return -1;
    }
    set_buffers(fd, g_o.window);
    if (v6 ? zp_connect(fd, (const struct sockaddr *)&g_srv6, sizeof(g_srv6)) < 0
           : zp_connect(fd, (const struct sockaddr *)srv, sizeof(*srv)) < 0) {
        char who[48];
        fprintf(stderr, PROG ": connect to %s: %s\n", addr_str(srv, who, sizeof(who)),
                strerror(errno));
        zp_close(fd);
        return -1;
    }
    return fd;
}

static int run_client(const struct sockaddr_in *srv)
{
    struct test *t = test_new(false, g_o.interval);
    if (t == NULL) {
        return 1;
    }
    int n = g_o.streams;
    int dir = g_o.reverse ? DIR_DOWN : DIR_UP;
    uint64_t dur_ms = g_o.seconds > 0 ? (uint64_t)(g_o.seconds * 1000 + 0.5) : 0;
    if (dur_ms == 0 && g_o.bytes == 0) {
        dur_ms = (uint64_t)(DEFAULT_SECONDS * 1000);
    }
    size_t len = g_o.len > 0 ? g_o.len : (g_o.udp ? DEFAULT_UDP_LEN : DEFAULT_TCP_LEN);
    char who[48];
    printf("zperf: %s client, %s %s to %s, %d stream%s, %s%s\n", ZP_IMPL, g_o.udp ? "UDP" : "TCP",
           dir == DIR_UP ? "upload" : "download", addr_str(srv, who, sizeof(who)), n,
           n > 1 ? "s" : "", g_o.verify ? "verified, " : "",
           g_o.bytes > 0 ? "byte limit" : "time limit");
    fflush(stdout);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        struct stream *s = calloc(1, sizeof(*s));
        if (s == NULL || test_add(t, s) < 0) {
            free(s);
            failed = 1;
            break;
        }
        s->id = (uint32_t)i + 1;
        s->dir = dir;
        s->verify = g_o.verify;
        s->limit = g_o.bytes / (uint64_t)n + (i == 0 ? g_o.bytes % (uint64_t)n : 0);
        if (g_o.bytes > 0 && s->limit == 0) {
            s->limit = 1;
        }
        s->dur_ms = dur_ms;
        s->len = len;
        s->rate = g_o.rate / (uint64_t)n;
        s->udp = g_o.udp;
        s->retrans = -1;
        s->fd = -1;
    }
    if (!failed && !g_o.udp) {
        /* Every connection is up before any data flows. */
        for (int i = 0; i < t->n && !failed; i++) {
            struct stream *s = t->s[i];
            s->fd = tcp_connect(srv);
            uint8_t h[HDR_LEN];
            struct zp_hdr hdr = {s->dir, s->verify, s->id, s->limit, s->dur_ms};
            hdr_encode(h, &hdr);
            if (s->fd < 0) {
                failed = 1;
            } else if (send_all(s->fd, h, sizeof(h)) < 0) {
                perror(PROG ": sending the header");
                failed = 1;
            }
        }
        if (failed) {
            for (int i = 0; i < t->n; i++) {
                if (t->s[i]->fd >= 0) {
                    zp_close(t->s[i]->fd);
                }
            }
        }
    }
    if (!failed) {
        test_start(t);
        for (int i = 0; i < t->n; i++) {
            struct stream *s = t->s[i];
            int rc;
            if (g_o.udp) {
                struct udp_client_ctx *c = malloc(sizeof(*c));
                if (c == NULL) {
                    continue;
                }
                c->s = s;
                c->srv = *srv;
                rc = pthread_create(&s->th, NULL, udp_client_stream, c);
                if (rc != 0) {
                    free(c);
                }
            } else {
                rc = pthread_create(&s->th, NULL, tcp_client_stream, s);
                if (rc != 0) {
                    zp_close(s->fd);
                }
            }
            s->has_thread = rc == 0;
        }
    } else {
        for (int i = 0; i < t->n; i++) {
            free(t->s[i]);
        }
        t->n = 0;
    }
    int rc = test_finish(t);
    return failed || rc != 0 ? 1 : 0;
}

/* ---- command line --------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " -s [options]            server (TCP and UDP on one port)\n"
            "       " PROG " -c HOST [options]       client\n"
            "       " PROG " --self [options]        server in a thread, client to 127.0.0.1\n"
            "  -p, --port PORT      port (default 5201; --self: any free one)\n"
            "  -u, --udp            UDP (client)\n"
            "  -t, --time SECONDS   duration (default 10 unless -n)\n"
            "  -n, --bytes N        total bytes, split over the streams (K/M/G: 1024s)\n"
            "  -P, --parallel N     streams, one thread each (default 1, at most %d)\n"
            "  -i, --interval SEC   report every SEC seconds while running\n"
            "  -R, --reverse        download: the server sends\n"
            "      --verify         the receiver checks every byte\n"
            "  -l, --len N          bytes per send/recv (TCP, default 128K) or per datagram\n"
            "                       (UDP, default 1472, header included)\n"
            "  -w, --window N       SO_SNDBUF and SO_RCVBUF\n"
            "  -b, --bitrate RATE   UDP bits/s over all streams (k/M/G: 1000s; default 1M; 0: "
            "unlimited)\n"
            "  -1, --one-off        server: exit after one test\n"
            "  -h, --help\n",
            MAX_STREAMS);
    zp_net_usage(f);
}

/* Parse a count with an optional K/M/G suffix (base 1024 or 1000). */
static bool parse_scaled(const char *s, double base, uint64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0) {
        return false;
    }
    switch (*end) {
    case 'k':
    case 'K':
        v *= base;
        end++;
        break;
    case 'm':
    case 'M':
        v *= base * base;
        end++;
        break;
    case 'g':
    case 'G':
        v *= base * base * base;
        end++;
        break;
    default:
        break;
    }
    if (*end != '\0' || v > 1.8e19) {
        return false;
    }
    *out = (uint64_t)(v + 0.5);
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > 86400) {
        return false;
    }
    *out = v;
    return true;
}

enum { OPT_VERIFY = 256, OPT_SELF };

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"server", no_argument, NULL, 's'},
        {"client", required_argument, NULL, 'c'},
        {"port", required_argument, NULL, 'p'},
        {"udp", no_argument, NULL, 'u'},
        {"time", required_argument, NULL, 't'},
        {"bytes", required_argument, NULL, 'n'},
        {"parallel", required_argument, NULL, 'P'},
        {"interval", required_argument, NULL, 'i'},
        {"reverse", no_argument, NULL, 'R'},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"len", required_argument, NULL, 'l'},
        {"window", required_argument, NULL, 'w'},
        {"bitrate", required_argument, NULL, 'b'},
        {"self", no_argument, NULL, OPT_SELF},
        {"one-off", no_argument, NULL, '1'},
        {"help", no_argument, NULL, 'h'},
        TOOL_NET_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    bool rate_set = false;
    uint64_t v;
    int c;
    while ((c = getopt_long(argc, argv, "sc:p:ut:n:P:i:Rl:w:b:1h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 's':
            g_o.server = true;
            break;
        case 'c':
            g_o.host = optarg;
            break;
        case 'p':
            ok = parse_scaled(optarg, 1, &v) && v >= 1 && v <= 65535;
            g_o.port = (int)v;
            g_o.port_set = true;
            break;
        case 'u':
            g_o.udp = true;
            break;
        case 't':
            ok = parse_seconds(optarg, &g_o.seconds);
            break;
        case 'n':
            ok = parse_scaled(optarg, 1024, &g_o.bytes) && g_o.bytes > 0;
            break;
        case 'P':
            ok = parse_scaled(optarg, 1, &v) && v >= 1 && v <= MAX_STREAMS;
            g_o.streams = (int)v;
            break;
        case 'i':
            ok = parse_seconds(optarg, &g_o.interval);
            break;
        case 'R':
            g_o.reverse = true;
            break;
        case OPT_VERIFY:
            g_o.verify = true;
            break;
        case 'l':
            ok = parse_scaled(optarg, 1024, &v) && v >= 1 && v <= MAX_TCP_LEN;
            g_o.len = (size_t)v;
            break;
        case 'w':
            ok = parse_scaled(optarg, 1024, &v) && v >= 1 && v <= (64u << 20);
            g_o.window = (int)v;
            break;
        case 'b':
            ok = parse_scaled(optarg, 1000, &g_o.rate);
            rate_set = true;
            break;
        case OPT_SELF:
            g_o.self = true;
            break;
        case '1':
            g_o.one_off = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            if (c >= TOOL_NET_OPT_TAP && c <= TOOL_NET_OPT_CAPTURE) {
                if (zp_net_option(PROG, &g_o.net, c, optarg) != 1) {
                    return -1;
                }
                break;
            }
            return -1;
        }
        if (!ok) {
            fprintf(stderr, PROG ": bad value for -%c: %s\n", c < 256 ? c : '-', optarg);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, PROG ": unexpected argument %s\n", argv[optind]);
        return -1;
    }
    int modes = g_o.server + (g_o.host != NULL) + g_o.self;
    if (modes != 1) {
        fprintf(stderr, PROG ": give exactly one of -s, -c HOST and --self\n");
        return -1;
    }
    if (g_o.udp && g_o.len != 0 && (g_o.len < UDP_HDR || g_o.len > MAX_UDP_LEN)) {
        fprintf(stderr, PROG ": UDP datagrams are %d..%d bytes (-l)\n", UDP_HDR, MAX_UDP_LEN);
        return -1;
    }
    if (!rate_set) {
        g_o.rate = DEFAULT_RATE;
    }
    if (g_o.streams == 0) {
        g_o.streams = 1;
    }
    return 0;
}

static int resolve(const char *host, int port, struct sockaddr_in *out)
{
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    if (zp_inet_pton(AF_INET, host, &out->sin_addr) == 1) {
        return 0;
    }
    /* An IPv6 address (TCP only): kept in g_srv6, which `out` stands for. */
    g_srv6 = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = out->sin_port};
    if (!g_o.udp && zp_inet_pton(AF_INET6, host, &g_srv6.sin6_addr) == 1) {
        out->sin_family = AF_INET6;
        return 0;
    }
    g_srv6.sin6_family = 0;
    fprintf(stderr, PROG ": %s: give an IPv4 address%s\n", host, g_o.udp ? "" : " or an IPv6 one");
    return -1;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    size_t max_len = MAX_TCP_LEN > MAX_UDP_LEN ? MAX_TCP_LEN : MAX_UDP_LEN;
    g_pattern = malloc(max_len + PATTERN_MOD);
    if (g_pattern == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < max_len + PATTERN_MOD; i++) {
        g_pattern[i] = (uint8_t)(i % PATTERN_MOD);
    }
    if (zp_net_setup(PROG, &g_o.net) < 0) {
        return 1;
    }
    int rc = 0;
    if (g_o.server) {
        struct server *sv = malloc(sizeof(*sv));
        if (sv == NULL || server_open(sv, false) < 0) {
            free(sv);
            return 1;
        }
        server_loop(sv);
        server_close(sv);
        free(sv);
        zp_exit_linger();
    } else {
        struct server *sv = NULL;
        struct sockaddr_in srv;
        pthread_t sth;
        if (g_o.self) {
            sv = malloc(sizeof(*sv));
            if (sv == NULL || server_open(sv, true) < 0) {
                free(sv);
                return 1;
            }
            if (pthread_create(&sth, NULL, server_thread, sv) != 0) {
                return 1;
            }
            resolve("127.0.0.1", sv->port, &srv);
        } else if (resolve(g_o.host, g_o.port_set ? g_o.port : DEFAULT_PORT, &srv) < 0) {
            return 2;
        }
        rc = run_client(&srv);
        if (sv != NULL) {
            atomic_store(&g_quit, true);
            pthread_join(sth, NULL);
            server_close(sv);
            free(sv);
        } else {
            zp_exit_linger();
        }
    }
    free(g_pattern);
    return rc;
}
