/* zudp: a UDP test tool on zsock's public API only. An echo server, a client
 * that verifies every echoed byte (retrying what the network loses), and a
 * one-way sender and receiver, for interoperability tests over TAP or pipe.
 * IPv6 as in ztcp: HOST may be an IPv6 address (with %IFNAME for a
 * link-local one); servers bind :: with --ipv6 or --dual, or --bind ADDR;
 * servers print each new peer ("zudp: peer N ADDR"). */
#include "tool_util.h"
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UDP_MAX       65507 /* largest IPv4 UDP payload */
#define RX_BUF        (UDP_MAX + 1)
#define STALE_WINDOW  8  /* client: earlier datagrams whose late echo is ignored */
#define ERRORS_SHOWN  10 /* verification failures printed in detail */
#define SYNC_MAGIC    "ZUDP-SYNC"
#define READY_MAGIC   "ZUDP-READY"
#define DONE_MAGIC    "ZUDP-DONE"
#define ACK_MAGIC     "ZUDP-ACK"
#define CONTROL_EXTRA 24 /* seed, count, verified after a control magic */

struct options {
    const char *mode;
    const char *host;
    int port;
    long count;
    int min_size;
    int max_size;
    uint64_t seed;
    int timeout_ms;    /* client: wait for one echo */
    int retries;       /* client: resends of one datagram */
    int start_ms;      /* server, recv: wait for the first datagram */
    int idle_ms;       /* server, recv: inactivity that ends the run */
    double time_limit; /* every mode: seconds for the whole run */
    long interval_us;  /* send: gap between datagrams */
    long allow_loss;   /* recv: datagrams that may be missing */
    int linger_ms;     /* every mode: stay on the network after the run */
    bool ipv6;         /* echo-server, recv: bind :: (IPV6_V6ONLY on) */
    bool dual;         /* echo-server, recv: bind :: with IPV6_V6ONLY off */
    bool oneway;       /* send: no handshake with a zudp receiver (groups, other tools) */
    const char *bind;  /* echo-server, recv: bind this address */
    const char *join;  /* echo-server, recv: join this multicast group */
    const char *ip6;   /* an IPv6 address (ADDR/LEN) for the interface */
    struct tool_net net;
};

/* ---- deterministic datagrams
 * ------------------------------------------------------------------------- */

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Datagram `seq` of the stream named by `seed`: its size (uniform in
 * min..max) and every byte follow from (seed, seq) alone. A datagram of 8
 * bytes or more starts with its sequence number, masked by the seed, so a
 * receiver can name it whatever was lost before it. */
static uint64_t seq_mask(const struct options *o)
{
    uint64_t st = o->seed;
    return tool_splitmix64(&st);
}

static size_t datagram_size(const struct options *o, uint64_t seq, uint64_t *state)
{
    uint64_t st = o->seed ^ (seq * 0xd1342543de82ef95ull);
    tool_splitmix64(&st);
    uint64_t span = (uint64_t)(o->max_size - o->min_size) + 1;
    size_t len = (size_t)o->min_size + (size_t)(tool_splitmix64(&st) % span);
    if (state != NULL) {
        *state = st;
    }
    return len;
}

static size_t make_datagram(const struct options *o, uint64_t seq, uint8_t *buf)
{
    uint64_t st;
    size_t len = datagram_size(o, seq, &st);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t r = tool_splitmix64(&st);
        memcpy(buf + i, &r, 8);
    }
    if (i < len) {
        uint64_t r = tool_splitmix64(&st);
        memcpy(buf + i, &r, len - i);
    }
    if (len >= 8) {
        put_u64(buf, seq ^ seq_mask(o));
    }
    return len;
}

/* Offset of the first differing byte, or -1 if equal. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) {
            return (long)i;
        }
    }
    return -1;
}

/* ---- control datagrams of send/recv
 * ------------------------------------------------------------------ */

static size_t make_control(uint8_t *buf, const char *magic, uint64_t seed, uint64_t a, uint64_t b)
{
    size_t m = strlen(magic);
    memcpy(buf, magic, m);
    put_u64(buf + m, seed);
    put_u64(buf + m + 8, a);
    put_u64(buf + m + 16, b);
    return m + CONTROL_EXTRA;
}

/* Is buf a control datagram `magic` for this seed? Fills a and b. */
static bool is_control(const uint8_t *buf, size_t len, const char *magic, uint64_t seed,
                       uint64_t *a, uint64_t *b)
{
    size_t m = strlen(magic);
    if (len != m + CONTROL_EXTRA || memcmp(buf, magic, m) != 0 || get_u64(buf + m) != seed) {
        return false;
    }
    *a = get_u64(buf + m + 8);
    *b = get_u64(buf + m + 16);
    return true;
}

/* ---- statistics
 * ------------------------------------------------------------------------------------ */

static void print_stats(void)
{
    struct zsock_net_stats s;
    if (zsock_net_stats(&s) < 0) {
        return;
    }
    printf("zudp: stats ipv4 rx %" PRIu64 " tx %" PRIu64 " malformed %" PRIu64 " not-ours %" PRIu64
           " frag-rx %" PRIu64 " frag-tx %" PRIu64 " reasm-ok %" PRIu64 " reasm-drop %" PRIu64
           " no-buffer %" PRIu64 "\n",
           s.ipv4.rx, s.ipv4.tx, s.ipv4.drop_malformed, s.ipv4.drop_not_ours, s.ipv4.frag_rx,
           s.ipv4.frag_tx, s.ipv4.reasm_ok, s.ipv4.reasm_drop, s.ipv4.no_buffer);
    printf("zudp: stats arp rx %" PRIu64 " tx %" PRIu64 " requests-rx %" PRIu64
           " replies-rx %" PRIu64 " unresolved %" PRIu64 " queue-full %" PRIu64 "\n",
           s.arp.rx, s.arp.tx, s.arp.requests_rx, s.arp.replies_rx, s.arp.unresolved,
           s.arp.queue_full);
    printf("zudp: stats icmp rx %" PRIu64 " tx %" PRIu64 " echo-rx %" PRIu64 " unreach-tx %" PRIu64
           " errors-rx %" PRIu64 "\n",
           s.icmp.rx, s.icmp.tx, s.icmp.echo_rx, s.icmp.unreach_tx, s.icmp.errors_rx);
    printf("zudp: stats udp rx %" PRIu64 " tx %" PRIu64 " malformed %" PRIu64 " no-port %" PRIu64
           " rcvbuf-full %" PRIu64 "\n",
           s.udp.rx, s.udp.tx, s.udp.drop_malformed, s.udp.drop_no_port, s.udp.drop_rcvbuf);
    tool_print_ipv6_stats("zudp", &s);
    tool_print_if_stats("zudp", true);
}

/* ---- sockets
 * --------------------------------------------------------------------------------------- */

/* A UDP socket bound to the port (the address of --bind, or any address,
 * IPv6's with --ipv6 or --dual), or with `host` connected to HOST:PORT. -1
 * on failure (printed). */
static int open_udp(const struct options *o, const char *host)
{
    struct tool_addr sin;
    if (!tool_addr_parse("zudp", host != NULL ? host : o->bind, o->port,
                         host == NULL && (o->ipv6 || o->dual), &sin)) {
        return -1;
    }
    int family = sin.u.sa.sa_family;
    int fd = tool_socket_family("zudp", family, SOCK_DGRAM, 0);
    if (fd < 0) {
        return -1;
    }
    if (host == NULL && tool_set_v6only("zudp", fd, family,
                                        o->dual              ? 0
                                        : family == AF_INET6 ? 1
                                                             : -1) < 0) {
        zsock_close(fd);
        return -1;
    }
    /* Room for a burst of the largest datagrams; the stack caps it. */
    int big = 4 << 20;
    zsock_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    bool ok = host != NULL ? zsock_connect(fd, &sin.u.sa, sin.len) == 0
                           : zsock_bind(fd, &sin.u.sa, sin.len) == 0;
    if (!ok) {
        tool_perror("zudp", host != NULL ? "zsock_connect" : "zsock_bind");
        zsock_close(fd);
        return -1;
    }
    return fd;
}

/* Wait up to ms for the socket to become readable: 1 ready, 0 timeout, -1 error. */
static int wait_readable(int fd, int ms)
{
    struct zsock_pollfd p = {.fd = fd, .events = ZSOCK_POLLIN};
    int rc = zsock_poll(&p, 1, ms);
    if (rc < 0) {
        if (errno == EINTR) {
            return 0;
        }
        perror("zudp: zsock_poll");
        return -1;
    }
    return rc > 0 ? 1 : 0;
}

/* Errors a datagram socket may see on a lossy link, after which a later
 * attempt may succeed. */
static bool transient(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == ECONNREFUSED ||
           err == EHOSTUNREACH || err == ENETUNREACH || err == EINTR;
}

/* The socket of a server (echo-server, recv), bound and announced as ready;
 * -1 on failure (printed). */
/* --join: the group on the interface a datagram to it would leave by. */
static int join_group(int fd, const char *group)
{
    struct in_addr g4;
    struct in6_addr g6;
    int rc;
    if (zsock_inet_pton(AF_INET, group, &g4) == 1) {
        struct ip_mreqn mr = {.imr_multiaddr = g4};
        rc = zsock_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
    } else if (zsock_inet_pton(AF_INET6, group, &g6) == 1) {
        struct ipv6_mreq mr = {.ipv6mr_multiaddr = g6};
        rc = zsock_setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mr, sizeof(mr));
    } else {
        fprintf(stderr, "zudp: --join %s: not an IPv4 or IPv6 address\n", group);
        return -1;
    }
    if (rc < 0) {
        fprintf(stderr, "zudp: --join %s: %s\n", group, strerror(errno));
        return -1;
    }
    printf("zudp: joined %s\n", group);
    return 0;
}

static int open_server(const struct options *o)
{
    int fd = open_udp(o, NULL);
    if (fd >= 0 && o->join != NULL && join_group(fd, o->join) < 0) {
        zsock_close(fd);
        return -1;
    }
    if (fd >= 0) {
        char where[TOOL_ADDR_STRLEN + 32] = "";
        struct tool_addr at;
        at.len = sizeof(at.u);
        if ((o->bind != NULL || o->ipv6 || o->dual) &&
            zsock_getsockname(fd, &at.u.sa, &at.len) == 0) {
            char a[TOOL_ADDR_STRLEN];
            snprintf(where, sizeof(where), " on %s%s", tool_addr_str(&at.u.sa, a, sizeof(a)),
                     o->dual ? " (dual stack)" : "");
        }
        printf("zudp: %s ready on port %d%s\n", o->mode, o->port, where);
        fflush(stdout);
    }
    return fd;
}

#define PEERS_SHOWN 16

/* The peers a server has heard from, each printed once when first seen. */
struct peers {
    struct tool_addr seen[PEERS_SHOWN];
    int n;
};

static void note_peer(struct peers *p, const struct tool_addr *a)
{
    for (int i = 0; i < p->n; i++) {
        if (p->seen[i].len == a->len && memcmp(&p->seen[i].u, &a->u, a->len) == 0) {
            return;
        }
    }
    if (p->n < PEERS_SHOWN) {
        char s[TOOL_ADDR_STRLEN];
        p->seen[p->n++] = *a;
        printf("zudp: peer %d %s\n", p->n, tool_addr_str(&a->u.sa, s, sizeof(s)));
    }
}

/* The next datagram to a server (echo-server, recv) into buf, its sender in
 * src: its length, or -1 when the run ends, *why saying why. The run ends at
 * `end`, or after a quiet time from `last`: start_ms until the first
 * datagram (`started`), idle_ms after. */
static ssize_t next_datagram(const struct options *o, int fd, uint8_t *buf, bool started,
                             double last, double end, struct tool_addr *src, const char **why)
{
    for (;;) {
        double quiet_until = last + (started ? o->idle_ms : o->start_ms) / 1000.0;
        double until = quiet_until < end ? quiet_until : end;
        int r = wait_readable(fd, tool_ms_left(until, 1000));
        if (r < 0) {
            *why = "poll error";
            return -1;
        }
        if (r == 0) {
            double t = tool_now_s();
            if (t >= end || t >= quiet_until) {
                *why = t >= end ? "time limit" : started ? "idle timeout" : "nothing received";
                return -1;
            }
            continue;
        }
        memset(src, 0, sizeof(*src));
        src->len = sizeof(src->u);
        ssize_t n = zsock_recvfrom(fd, buf, RX_BUF, ZSOCK_MSG_DONTWAIT, &src->u.sa, &src->len);
        if (n >= 0) {
            return n;
        }
        if (!transient(errno)) {
            perror("zudp: zsock_recvfrom");
            *why = "receive error";
            return -1;
        }
    }
}

/* ---- echo-server
 * ----------------------------------------------------------------------------------- */

static int run_echo_server(const struct options *o, uint8_t *buf)
{
    int fd = open_server(o);
    if (fd < 0) {
        return 1;
    }
    double t0 = tool_now_s();
    double end = t0 + o->time_limit;
    double last = t0;
    long echoed = 0;
    long send_errors = 0;
    uint64_t bytes = 0;
    bool started = false;
    const char *why = "count reached";
    struct peers peers = {.n = 0};
    while (o->count == 0 || echoed < o->count) {
        struct tool_addr src;
        ssize_t n = next_datagram(o, fd, buf, started, last, end, &src, &why);
        if (n < 0) {
            break;
        }
        note_peer(&peers, &src);
        started = true;
        last = tool_now_s();
        if (zsock_sendto(fd, buf, (size_t)n, 0, &src.u.sa, src.len) < 0) {
            if (!transient(errno)) {
                perror("zudp: zsock_sendto");
                why = "send error";
                break;
            }
            send_errors++;
        }
        echoed++;
        bytes += (uint64_t)n;
    }
    double dt = tool_now_s() - t0;
    printf("zudp: echoed %ld datagrams, %" PRIu64 " bytes, send errors %ld, %.2f s (%s)\n", echoed,
           bytes, send_errors, dt, why);
    zsock_close(fd);
    bool normal = strcmp(why, "idle timeout") == 0 || strcmp(why, "count reached") == 0;
    return started && normal ? 0 : 1;
}

/* ---- client
 * ---------------------------------------------------------------------------------------- */

/* An echo that is not the expected one: a late echo of a recent datagram
 * (true), or corrupt data (false, reported). */
static bool is_stale(const struct options *o, uint64_t seq, const uint8_t *got, size_t n,
                     uint8_t *scratch)
{
    for (uint64_t back = 1; back <= STALE_WINDOW && back <= seq; back++) {
        size_t len = make_datagram(o, seq - back, scratch);
        if (len == n && memcmp(scratch, got, n) == 0) {
            return true;
        }
    }
    return false;
}

static int run_client(const struct options *o, uint8_t *rx)
{
    uint8_t *tx = malloc(RX_BUF);
    uint8_t *scratch = malloc(RX_BUF);
    int fd = tx != NULL && scratch != NULL ? open_udp(o, o->host) : -1;
    if (fd < 0) {
        free(tx);
        free(scratch);
        return 1;
    }
    double t0 = tool_now_s();
    double end = t0 + o->time_limit;
    long verified = 0, retries = 0, stale = 0, corrupt = 0, send_errors = 0, sent = 0;
    int max_attempts = 0;
    uint64_t bytes = 0;
    const char *failure = NULL;
    for (long seq = 0; seq < o->count && failure == NULL; seq++) {
        size_t len = make_datagram(o, (uint64_t)seq, tx);
        sent++;
        bool ok = false;
        for (int attempt = 0; !ok; attempt++) {
            if (attempt > o->retries) {
                fprintf(stderr, "zudp: datagram %ld (%zu bytes) not echoed after %d retries\n", seq,
                        len, o->retries);
                failure = "retries exhausted";
                break;
            }
            if (tool_now_s() >= end) {
                fprintf(stderr, "zudp: time limit of %.0f s reached at datagram %ld\n",
                        o->time_limit, seq);
                failure = "time limit";
                break;
            }
            if (attempt > 0) {
                retries++;
                max_attempts = attempt > max_attempts ? attempt : max_attempts;
            }
            if (zsock_send(fd, tx, len, 0) < 0) {
                if (!transient(errno)) {
                    perror("zudp: zsock_send");
                    failure = "send error";
                    break;
                }
                send_errors++;
                /* Let the link drain or the peer appear before resending. */
                tool_sleep_us(errno == ECONNREFUSED ? 100000 : 2000);
                continue;
            }
            double until = tool_now_s() + o->timeout_ms / 1000.0;
            while (!ok && failure == NULL) {
                int r = wait_readable(fd, tool_ms_left(until < end ? until : end, 1000));
                if (r < 0) {
                    failure = "poll error";
                } else if (r == 0) {
                    if (tool_now_s() >= until || tool_now_s() >= end) {
                        break; /* resend */
                    }
                    continue;
                }
                if (failure != NULL) {
                    break;
                }
                ssize_t n = zsock_recv(fd, rx, RX_BUF, ZSOCK_MSG_DONTWAIT);
                if (n < 0) {
                    if (transient(errno)) {
                        send_errors += errno != EAGAIN;
                        continue;
                    }
                    perror("zudp: zsock_recv");
                    failure = "receive error";
                    break;
                }
                if ((size_t)n == len && memcmp(rx, tx, len) == 0) {
                    ok = true;
                    verified++;
                    bytes += len;
                } else if (is_stale(o, (uint64_t)seq, rx, (size_t)n, scratch)) {
                    stale++;
                } else {
                    if (corrupt < ERRORS_SHOWN) {
                        long at = first_diff(rx, tx, (size_t)n < len ? (size_t)n : len);
                        fprintf(stderr,
                                "zudp: datagram %ld: echo of %zd bytes does not match the %zu "
                                "sent (first difference at byte %ld)\n",
                                seq, n, len, at);
                    }
                    corrupt++;
                }
            }
        }
    }
    double dt = tool_now_s() - t0;
    printf("zudp: sent %ld, verified %ld, retries %ld\n", sent, verified, retries);
    printf("zudp: client details: %" PRIu64 " bytes verified, %.2f s, %.1f Mbit/s each way, "
           "most retries of one datagram %d, late echoes %ld, corrupt %ld, transient errors %ld\n",
           bytes, dt, dt > 0 ? (double)bytes * 8 / dt / 1e6 : 0.0, max_attempts, stale, corrupt,
           send_errors);
    if (failure != NULL) {
        fprintf(stderr, "zudp: client failed: %s\n", failure);
    }
    zsock_close(fd);
    free(tx);
    free(scratch);
    return failure == NULL && corrupt == 0 && verified == o->count ? 0 : 1;
}

/* ---- send / recv
 * ----------------------------------------------------------------------------------- */

static int run_send(const struct options *o, uint8_t *rx)
{
    uint8_t *tx = malloc(RX_BUF);
    int fd = tx != NULL ? open_udp(o, o->host) : -1;
    if (fd < 0) {
        free(tx);
        return 1;
    }
    double t0 = tool_now_s();
    double end = t0 + o->time_limit;
    uint64_t a, b;
    /* Handshake: the receiver is there and both sides have resolved each other. */
    bool synced = o->oneway;
    while (!synced && tool_now_s() < end) {
        size_t n = make_control(tx, SYNC_MAGIC, o->seed, (uint64_t)o->count, 0);
        if (zsock_send(fd, tx, n, 0) < 0 && !transient(errno)) {
            perror("zudp: zsock_send");
            break;
        }
        double until = tool_now_s() + 0.2;
        while (!synced && wait_readable(fd, tool_ms_left(until, 200)) > 0) {
            ssize_t r = zsock_recv(fd, rx, RX_BUF, ZSOCK_MSG_DONTWAIT);
            synced = r > 0 && is_control(rx, (size_t)r, READY_MAGIC, o->seed, &a, &b);
        }
        if (!synced) {
            tool_sleep_us(50000);
        }
    }
    if (!synced) {
        fprintf(stderr, "zudp: send: no receiver answered at %s port %d\n", o->host, o->port);
        zsock_close(fd);
        free(tx);
        return 1;
    }
    long sent = 0, stalls = 0;
    uint64_t bytes = 0;
    bool failed = false;
    for (long seq = 0; seq < o->count && !failed; seq++) {
        size_t len = make_datagram(o, (uint64_t)seq, tx);
        /* A full link (EAGAIN, ENOBUFS) is back-pressure: wait and resend. */
        for (int tries = 0;; tries++) {
            if (zsock_send(fd, tx, len, 0) == (ssize_t)len) {
                break;
            }
            if (!transient(errno) || tries >= 5000 || tool_now_s() >= end) {
                perror("zudp: zsock_send");
                failed = true;
                break;
            }
            stalls++;
            tool_sleep_us(200);
        }
        if (!failed) {
            sent++;
            bytes += len;
            if (o->interval_us > 0) {
                tool_sleep_us(o->interval_us);
            }
        }
    }
    double dt = tool_now_s() - t0;
    /* Tell the receiver we are done; it answers with what it verified. */
    long peer_verified = o->oneway ? o->count : -1;
    for (int i = 0; i < 20 && peer_verified < 0 && tool_now_s() < end + 5; i++) {
        size_t n = make_control(tx, DONE_MAGIC, o->seed, (uint64_t)sent, 0);
        zsock_send(fd, tx, n, 0);
        double until = tool_now_s() + 0.3;
        while (peer_verified < 0 && wait_readable(fd, tool_ms_left(until, 300)) > 0) {
            ssize_t r = zsock_recv(fd, rx, RX_BUF, ZSOCK_MSG_DONTWAIT);
            if (r > 0 && is_control(rx, (size_t)r, ACK_MAGIC, o->seed, &a, &b)) {
                peer_verified = (long)b;
            }
        }
    }
    printf("zudp: sent %ld, %" PRIu64 " bytes, %.2f s, %.1f Mbit/s, stalls %ld, receiver verified "
           "%ld\n",
           sent, bytes, dt, dt > 0 ? (double)bytes * 8 / dt / 1e6 : 0.0, stalls, peer_verified);
    zsock_close(fd);
    free(tx);
    if (peer_verified < 0) {
        fprintf(stderr, "zudp: send: the receiver never acknowledged the end\n");
    }
    return !failed && sent == o->count && peer_verified >= o->count - o->allow_loss ? 0 : 1;
}

/* Which datagram of the stream is rx[0..n)? Its sequence number, or -1 if
 * it is none of them (corrupt). A short one carries no number: it is looked
 * for among those of its size not yet seen. */
static long identify(const struct options *o, const uint8_t *rx, size_t n, const uint8_t *seen,
                     uint8_t *scratch)
{
    if (n >= 8) {
        uint64_t k = get_u64(rx) ^ seq_mask(o);
        if (k >= (uint64_t)o->count) {
            return -1;
        }
        size_t len = make_datagram(o, k, scratch);
        return len == n && memcmp(scratch, rx, n) == 0 ? (long)k : -1;
    }
    long dup = -1;
    for (long k = 0; k < o->count; k++) {
        if (datagram_size(o, (uint64_t)k, NULL) != n) {
            continue;
        }
        make_datagram(o, (uint64_t)k, scratch);
        if (memcmp(scratch, rx, n) == 0) {
            if (!(seen[k / 8] & (1u << (k % 8)))) {
                return k;
            }
            dup = k;
        }
    }
    return dup;
}

static int run_recv(const struct options *o, uint8_t *rx)
{
    uint8_t *expect = malloc(RX_BUF);
    uint8_t *seen = calloc((size_t)o->count / 8 + 1, 1);
    int fd = expect != NULL && seen != NULL ? open_server(o) : -1;
    if (fd < 0) {
        free(expect);
        free(seen);
        return 1;
    }
    double t0 = tool_now_s();
    double end = t0 + o->time_limit;
    double last = t0;
    bool started = false, done = false;
    long received = 0, verified = 0, dups = 0, corrupt = 0, reordered = 0, highest = -1;
    uint64_t bytes = 0, a, b;
    const char *why = "done";
    struct peers peers = {.n = 0};
    while (!done) {
        struct tool_addr src;
        ssize_t n = next_datagram(o, fd, rx, started, last, end, &src, &why);
        if (n < 0) {
            break;
        }
        note_peer(&peers, &src);
        last = tool_now_s();
        uint8_t ctl[64];
        if (is_control(rx, (size_t)n, SYNC_MAGIC, o->seed, &a, &b)) {
            started = true;
            size_t m = make_control(ctl, READY_MAGIC, o->seed, 0, 0);
            zsock_sendto(fd, ctl, m, 0, &src.u.sa, src.len);
            continue;
        }
        if (is_control(rx, (size_t)n, DONE_MAGIC, o->seed, &a, &b)) {
            size_t m =
                make_control(ctl, ACK_MAGIC, o->seed, (uint64_t)received, (uint64_t)verified);
            zsock_sendto(fd, ctl, m, 0, &src.u.sa, src.len);
            done = true;
            break;
        }
        started = true;
        received++;
        long k = identify(o, rx, (size_t)n, seen, expect);
        if (k < 0) {
            if (corrupt < ERRORS_SHOWN) {
                fprintf(stderr, "zudp: recv: a datagram of %zd bytes is none of the %ld expected\n",
                        n, o->count);
            }
            corrupt++;
        } else if (seen[k / 8] & (1u << (k % 8))) {
            dups++;
        } else {
            seen[k / 8] |= (uint8_t)(1u << (k % 8));
            verified++;
            bytes += (uint64_t)n;
            reordered += k < highest;
            highest = k > highest ? k : highest;
        }
    }
    double dt = tool_now_s() - t0;
    printf("zudp: received %ld, verified %ld, lost %ld, duplicates %ld, reordered %ld, corrupt "
           "%ld\n",
           received, verified, o->count - verified, dups, reordered, corrupt);
    printf("zudp: recv details: %" PRIu64 " bytes verified, %.2f s (%s)\n", bytes, dt, why);
    zsock_close(fd);
    free(expect);
    free(seen);
    return corrupt == 0 && verified >= o->count - o->allow_loss ? 0 : 1;
}

/* ---- command line
 * ---------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: zudp [options] echo-server PORT\n"
            "       zudp [options] client HOST PORT\n"
            "       zudp [options] send HOST PORT\n"
            "       zudp [options] recv PORT\n"
            "Datagram stream (client, send, recv):\n"
            "  --count N         datagrams (client/send/recv: 1000; echo-server: 0 = no limit)\n"
            "  --max-size S      largest datagram, 1..65507 (default 1472)\n"
            "  --min-size S      smallest datagram (default 1)\n"
            "  --seed X          content seed (default 1)\n"
            "Timing:\n"
            "  --timeout MS      client: wait for one echo before resending (default 500)\n"
            "  --retries R       client: resends allowed per datagram (default 20)\n"
            "  --idle-timeout MS echo-server/recv: stop after this quiet time (default 5000)\n"
            "  --start-timeout MS echo-server/recv: wait for the first datagram (default 30000)\n"
            "  --time-limit SEC  end any mode after this long (default 120)\n"
            "  --interval-us U   send: pause between datagrams (default 0)\n"
            "  --allow-loss N    send/recv: datagrams that may be lost (default 0)\n"
            "  --oneway          send: no handshake with a zudp receiver (a group, any tool)\n"
            "  --linger MS       stay on the network this long after the run (default 0)\n"
            "IPv6 (HOST may be 2001:db8::1, [2001:db8::1], fe80::1%%IFNAME or %%INDEX):\n"
            "  --ipv6            echo-server/recv: bind :: (IPV6_V6ONLY on)\n"
            "  --dual            echo-server/recv: bind :: with IPV6_V6ONLY off (IPv4 too)\n"
            "  --bind ADDR       echo-server/recv: bind this IPv4 or IPv6 address\n"
            "  --join GROUP      echo-server/recv: join this IPv4 or IPv6 multicast group\n"
            "                    (IPv6: with --ipv6 or --dual); echoes go back unicast\n"
            "  --ip6 ADDR[/LEN]  add this IPv6 address to the interface (default /64)\n");
    tool_net_usage(f);
}

static int parse_args(int argc, char **argv, struct options *o)
{
    long count = -1;
    const struct tool_opt opts[] = {
        {"count", TOOL_OPT_LONG, &count, 0, 100000000, NULL},
        {"max-size", TOOL_OPT_INT, &o->max_size, 1, UDP_MAX, NULL},
        {"min-size", TOOL_OPT_INT, &o->min_size, 1, UDP_MAX, NULL},
        {"seed", TOOL_OPT_U64_ANY, &o->seed, 0, 0, NULL},
        {"timeout", TOOL_OPT_INT, &o->timeout_ms, 1, 600000, NULL},
        {"retries", TOOL_OPT_INT, &o->retries, 0, 100000, NULL},
        {"idle-timeout", TOOL_OPT_INT, &o->idle_ms, 1, 3600000, NULL},
        {"start-timeout", TOOL_OPT_INT, &o->start_ms, 1, 3600000, NULL},
        {"time-limit", TOOL_OPT_SECONDS, &o->time_limit, 1, 86400, NULL},
        {"interval-us", TOOL_OPT_LONG, &o->interval_us, 0, 10000000, NULL},
        {"allow-loss", TOOL_OPT_LONG, &o->allow_loss, 0, 100000000, NULL},
        {"linger", TOOL_OPT_INT, &o->linger_ms, 0, 600000, NULL},
        {"ipv6", TOOL_OPT_FLAG, &o->ipv6, 0, 0, NULL},
        {"dual", TOOL_OPT_FLAG, &o->dual, 0, 0, NULL},
        {"oneway", TOOL_OPT_FLAG, &o->oneway, 0, 0, NULL},
        {"bind", TOOL_OPT_STRING, &o->bind, 0, 0, NULL},
        {"join", TOOL_OPT_STRING, &o->join, 0, 0, NULL},
        {"ip6", TOOL_OPT_STRING, &o->ip6, 0, 0, NULL},
        {0},
    };
    int first = tool_parse_options("zudp", argc, argv, opts, &o->net, usage);
    if (first < 0) {
        return -1;
    }
    if (o->min_size > o->max_size) {
        fprintf(stderr, "zudp: --min-size exceeds --max-size\n");
        return -1;
    }
    static const char *const port_modes[] = {"echo-server", "recv", NULL};
    static const char *const host_modes[] = {"client", "send", NULL};
    if (tool_parse_mode("zudp", argc - first, argv + first, port_modes, host_modes, &o->mode,
                        &o->host, &o->port) < 0) {
        return -1;
    }
    o->count = count >= 0 ? count : strcmp(o->mode, "echo-server") == 0 ? 0 : 1000;
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {
        .min_size = 1,
        .max_size = 1472,
        .seed = 1,
        .timeout_ms = 500,
        .retries = 20,
        .start_ms = 30000,
        .idle_ms = 5000,
        .time_limit = 120,
    };
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    bool v6 = o.ipv6 || o.dual || (o.bind != NULL && strchr(o.bind, ':') != NULL) ||
              (o.host != NULL && strchr(o.host, ':') != NULL);
    if (tool_start("zudp", &o.net) < 0 || tool_ipv6_start("zudp", o.ip6, v6) < 0) {
        return 1;
    }
    uint8_t *buf = malloc(RX_BUF);
    if (buf == NULL) {
        fprintf(stderr, "zudp: out of memory\n");
        return 1;
    }
    int rc;
    if (strcmp(o.mode, "echo-server") == 0) {
        rc = run_echo_server(&o, buf);
    } else if (strcmp(o.mode, "client") == 0) {
        rc = run_client(&o, buf);
    } else if (strcmp(o.mode, "send") == 0) {
        rc = run_send(&o, buf);
    } else {
        rc = run_recv(&o, buf);
    }
    print_stats();
    tool_linger("zudp", o.linger_ms);
    free(buf);
    return rc;
}
