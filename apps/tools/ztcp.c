/* ztcp: a TCP test tool on zsock's public API only, for interoperability
 * tests over TAP or pipe.
 *
 * Protocol. The client connects, sends N bytes of the stream named by a seed,
 * shuts down writing (half-close) and reads the server's one-line summary
 * "ztcp: received BYTES checksum HEX\n" up to end of stream. The server reads
 * everything up to end of stream, writes that line and closes. The client
 * succeeds only if BYTES and HEX are those of what it sent.
 *
 * Echo mode ("echo PORT") serves up to --count connections at once from one
 * zsock_poll() loop on non-blocking sockets: it sends every byte back, shuts
 * down writing after the peer's end of stream once all is echoed, and
 * closes. It ends when --count connections have been served and closed,
 * and prints the most connections it held open at once.
 *
 * Through a SOCKS5 proxy (--socks HOST:PORT, the socket option SO_SOCKS5):
 * the client connects to HOST PORT by way of the proxy. Proxies that do not
 * relay a half-close (microsocks) suit --echoed: the client sends its
 * stream while reading it back from an echo server, and checks that the
 * echo has the length and checksum of what it sent.
 *
 * IPv6: HOST may be an IPv6 address, bare or in brackets, with %IFNAME or
 * %INDEX for a link-local one; servers listen on :: with --ipv6 (IPV6_V6ONLY
 * on) or --dual (off: IPv4 peers show as ::ffff:A.B.C.D), or on the address
 * --bind names; --ip6 adds an address to the interface.
 *
 * Stream content (tests/interop/tcp_peer.py reproduces it). With
 *   sm(seed, t) = splitmix64 output number t + 1 from state `seed`, i.e.
 *     z = seed + (t + 1) * 0x9e3779b97f4a7c15 (mod 2^64)
 *     z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *     z = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *     sm = z ^ (z >> 31),
 * the 64-bit word j of the stream (bytes 8j..8j+7, little-endian) is
 *   sm(seed, j mod 8192) XOR j,
 * and N bytes are the first N bytes of that sequence of words.
 *
 * Checksum (64 bits, printed as 16 lowercase hex digits):
 *   (CRC-32 << 32) | Adler-32
 * of the bytes in order, CRC-32 being the ISO-HDLC one of zlib and Ethernet
 * (reflected polynomial 0xedb88320, initial and final XOR 0xffffffff) and
 * Adler-32 that of RFC 1950 (initial value 1) -- Python's zlib.crc32 and
 * zlib.adler32. */
#include "tool_util.h"
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK       TOOL_STREAM_CHUNK
#define REPLY_MAX   256
#define REPLY_FMT   "ztcp: received %" PRIu64 " checksum %016" PRIx64 "\n"
#define BIG_BUFFERS (4 << 20)

struct options {
    const char *mode;
    const char *host;
    int port;
    long count;        /* server: connections accepted one after another; echo: in all */
    int backlog;       /* server, echo: listen() backlog */
    uint64_t bytes;    /* client: bytes to send */
    uint64_t seed;     /* client: content seed */
    double time_limit; /* both: seconds for the whole run */
    int linger_ms;     /* both: stay on the network after the run */
    int buf_bytes;     /* both: SO_RCVBUF and SO_SNDBUF, 0: the stack's default */
    bool ipv6;         /* server, echo: listen on :: (IPV6_V6ONLY on) */
    bool dual;         /* server, echo: listen on :: with IPV6_V6ONLY off */
    const char *bind;  /* server, echo: listen on this address */
    const char *ip6;   /* an IPv6 address (ADDR/LEN) for the interface */
    const char *socks; /* client: HOST:PORT of a SOCKS5 proxy */
    bool echoed;       /* client: the server echoes; check the echo */
    struct tool_net net;
};

/* ---- statistics
 * ------------------------------------------------------------------------------------ */

static void print_stats(void)
{
    struct zsock_net_stats s;
    if (zsock_net_stats(&s) < 0) {
        return;
    }
    printf("ztcp: stats ipv4 rx %" PRIu64 " tx %" PRIu64 " malformed %" PRIu64 " not-ours %" PRIu64
           " no-buffer %" PRIu64 "\n",
           s.ipv4.rx, s.ipv4.tx, s.ipv4.drop_malformed, s.ipv4.drop_not_ours, s.ipv4.no_buffer);
    tool_print_ipv6_stats("ztcp", &s);
    tool_print_tcp_stats("ztcp", &s, true);
    printf("ztcp: stats arp rx %" PRIu64 " tx %" PRIu64 " unresolved %" PRIu64
           " queue-full %" PRIu64 "\n",
           s.arp.rx, s.arp.tx, s.arp.unresolved, s.arp.queue_full);
    tool_print_if_stats("ztcp", false);
}

/* ---- socket helpers
 * -------------------------------------------------------------------------------- */

/* Wait up to `deadline` for `events` on fd: 1 ready, 0 time is up, -1 error. */
static int wait_for(int fd, short events, double deadline)
{
    for (;;) {
        int ms = tool_ms_left(deadline, 1000);
        if (ms == 0) {
            return 0;
        }
        struct zsock_pollfd p = {.fd = fd, .events = events};
        int rc = zsock_poll(&p, 1, ms);
        if (rc < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("ztcp: zsock_poll");
            return -1;
        }
        if (rc > 0) {
            return 1;
        }
    }
}

/* Send all of buf before the deadline: 0, or -1 (reported). */
static int send_all(int fd, const uint8_t *buf, size_t len, double deadline)
{
    size_t done = 0;
    while (done < len) {
        int r = wait_for(fd, ZSOCK_POLLOUT, deadline);
        if (r <= 0) {
            if (r == 0) {
                fprintf(stderr, "ztcp: time limit reached while sending\n");
            }
            return -1;
        }
        ssize_t n = zsock_send(fd, buf + done, len - done, ZSOCK_MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                continue;
            }
            perror("ztcp: zsock_send");
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* Read once before the deadline: bytes, 0 at end of stream, -1 error (reported). */
static ssize_t recv_some(int fd, uint8_t *buf, size_t len, double deadline)
{
    for (;;) {
        int r = wait_for(fd, ZSOCK_POLLIN, deadline);
        if (r <= 0) {
            if (r == 0) {
                fprintf(stderr, "ztcp: time limit reached while receiving\n");
            }
            return -1;
        }
        ssize_t n = zsock_recv(fd, buf, len, ZSOCK_MSG_DONTWAIT);
        if (n >= 0) {
            return n;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            perror("ztcp: zsock_recv");
            return -1;
        }
    }
}

/* ---- server
 * ---------------------------------------------------------------------------------------- */

/* One connection: read to end of stream, answer, close. 0 or -1. */
static int serve_one(int fd, long k, const struct tool_addr *peer, uint8_t *buf,
                     struct tool_checksum *sum, double end)
{
    char who[TOOL_ADDR_STRLEN];
    tool_addr_str(&peer->u.sa, who, sizeof(who));
    tool_checksum_init(sum);
    double t0 = tool_now_s();
    ssize_t n;
    while ((n = recv_some(fd, buf, CHUNK, end)) > 0) {
        tool_checksum_update(sum, buf, (size_t)n);
    }
    double dt = tool_now_s() - t0;
    if (n < 0) {
        fprintf(stderr, "ztcp: connection %ld from %s failed after %" PRIu64 " bytes\n", k, who,
                sum->len);
        return -1;
    }
    char line[REPLY_MAX];
    int len = snprintf(line, sizeof(line), REPLY_FMT, sum->len, tool_checksum_value(sum));
    if (send_all(fd, (const uint8_t *)line, (size_t)len, end) < 0) {
        return -1;
    }
    zsock_shutdown(fd, ZSOCK_SHUT_WR);
    tool_drain_sent(fd, end);
    printf("ztcp: connection %ld from %s: received %" PRIu64 " bytes checksum %016" PRIx64
           " in %.2f s, %.1f MiB/s\n",
           k, who, sum->len, tool_checksum_value(sum), dt, tool_mib_per_s(sum->len, dt));
    return 0;
}

/* The listener the options ask for (--bind, --ipv6, --dual), or -1. */
static int open_listener(const struct options *o)
{
    struct tool_addr at;
    if (!tool_addr_parse("ztcp", o->bind, o->port, o->ipv6 || o->dual, &at)) {
        return -1;
    }
    int v6only = o->dual ? 0 : at.u.sa.sa_family == AF_INET6 ? 1 : -1;
    return tool_listener_at("ztcp", &at, v6only, o->backlog, o->buf_bytes);
}

/* " on ADDR" of a listener, "" for IPv4's any address (the old output). */
static const char *listen_where(const struct options *o, int lfd, char *buf, size_t len)
{
    struct tool_addr at;
    at.len = sizeof(at.u);
    buf[0] = '\0';
    if ((o->bind != NULL || o->ipv6 || o->dual) && zsock_getsockname(lfd, &at.u.sa, &at.len) == 0) {
        char a[TOOL_ADDR_STRLEN];
        snprintf(buf, len, " on %s%s", tool_addr_str(&at.u.sa, a, sizeof(a)),
                 o->dual ? " (dual stack)" : "");
    }
    return buf;
}

static int run_server(const struct options *o, uint8_t *buf, struct tool_checksum *sum)
{
    int lfd = open_listener(o);
    if (lfd < 0) {
        return 1;
    }
    char where[TOOL_ADDR_STRLEN + 32];
    printf("ztcp: server ready on port %d%s\n", o->port,
           listen_where(o, lfd, where, sizeof(where)));
    double end = tool_now_s() + o->time_limit;
    long served = 0;
    int rc = 0;
    while (served < o->count && rc == 0) {
        int r = wait_for(lfd, ZSOCK_POLLIN, end);
        if (r <= 0) {
            if (r == 0) {
                fprintf(stderr, "ztcp: time limit reached waiting for connection %ld\n",
                        served + 1);
            }
            rc = 1;
            break;
        }
        struct tool_addr peer;
        peer.len = sizeof(peer.u);
        int fd = zsock_accept(lfd, &peer.u.sa, &peer.len);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
                errno == ECONNABORTED) {
                continue;
            }
            perror("ztcp: zsock_accept");
            rc = 1;
            break;
        }
        served++;
        rc = serve_one(fd, served, &peer, buf, sum, end) < 0 ? 1 : 0;
        zsock_close(fd);
    }
    zsock_close(lfd);
    printf("ztcp: server: %ld of %ld connections served%s\n", served, o->count,
           rc == 0 ? "" : ", FAILED");
    return rc;
}

/* ---- echo server
 * ----------------------------------------------------------------------------------- */

#define ECHO_BUF 4096

struct echo_conn {
    int fd;
    uint8_t buf[ECHO_BUF];
    size_t len, off; /* bytes held, and how many of them are sent */
    bool eof;        /* the peer has shut down writing */
    uint64_t bytes;  /* echoed so far */
};

/* Move bytes through one echo connection until it would block. 1: it is
 * finished (end of stream echoed and our FIN queued), 0: more to come,
 * -1: it failed (reported). */
static int echo_step(struct echo_conn *c)
{
    for (;;) {
        if (c->off < c->len) {
            ssize_t n = zsock_send(c->fd, c->buf + c->off, c->len - c->off, ZSOCK_MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    return 0;
                }
                perror("ztcp: echo: zsock_send");
                return -1;
            }
            c->off += (size_t)n;
            c->bytes += (uint64_t)n;
            continue;
        }
        if (c->eof) {
            zsock_shutdown(c->fd, ZSOCK_SHUT_WR);
            return 1;
        }
        ssize_t n = zsock_recv(c->fd, c->buf, ECHO_BUF, ZSOCK_MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return 0;
            }
            perror("ztcp: echo: zsock_recv");
            return -1;
        }
        c->eof = n == 0;
        c->len = (size_t)n;
        c->off = 0;
    }
}

static int run_echo(const struct options *o)
{
    size_t max = (size_t)o->count;
    struct echo_conn **conns = calloc(max, sizeof(*conns));
    struct zsock_pollfd *pfd = calloc(max + 1, sizeof(*pfd));
    size_t *slot = calloc(max + 1, sizeof(*slot));
    int lfd = conns != NULL && pfd != NULL && slot != NULL ? open_listener(o) : -1;
    if (lfd < 0) {
        free(conns);
        free(pfd);
        free(slot);
        return 1;
    }
    tool_set_nonblock(lfd);
    char where[TOOL_ADDR_STRLEN + 32];
    printf("ztcp: echo server ready on port %d for %ld connections, backlog %d%s\n", o->port,
           o->count, o->backlog, listen_where(o, lfd, where, sizeof(where)));
    double t0 = tool_now_s(), end = t0 + o->time_limit, t_peak = 0;
    long accepted = 0, done = 0, failed = 0, open = 0, peak = 0;
    uint64_t echoed = 0;
    int rc = 0;
    while (done < o->count) {
        if (tool_now_s() >= end) {
            fprintf(stderr, "ztcp: echo: time limit reached, %ld open, %ld done\n", open, done);
            rc = 1;
            break;
        }
        size_t n = 0;
        if (accepted < o->count) {
            pfd[n] = (struct zsock_pollfd){.fd = lfd, .events = ZSOCK_POLLIN};
            slot[n++] = SIZE_MAX;
        }
        for (size_t i = 0; i < max; i++) {
            struct echo_conn *c = conns[i];
            if (c != NULL) {
                pfd[n] = (struct zsock_pollfd){
                    .fd = c->fd, .events = c->off < c->len ? ZSOCK_POLLOUT : ZSOCK_POLLIN};
                slot[n++] = i;
            }
        }
        int r = zsock_poll(pfd, (nfds_t)n, tool_ms_left(end, 1000));
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("ztcp: echo: zsock_poll");
            rc = 1;
            break;
        }
        for (size_t j = 0; j < n && r > 0; j++) {
            if (pfd[j].revents == 0) {
                continue;
            }
            if (slot[j] == SIZE_MAX) {
                while (accepted < o->count) {
                    int fd = tool_accept("ztcp: echo", lfd, NULL);
                    if (fd < 0) {
                        break;
                    }
                    struct echo_conn *c = calloc(1, sizeof(*c));
                    if (c == NULL) {
                        fprintf(stderr, "ztcp: echo: out of memory\n");
                        zsock_close(fd);
                        failed++;
                        done++;
                        accepted++;
                        continue;
                    }
                    c->fd = fd;
                    conns[accepted++] = c;
                    if (++open > peak) {
                        peak = open;
                        t_peak = tool_now_s() - t0;
                    }
                }
                continue;
            }
            struct echo_conn *c = conns[slot[j]];
            int st = echo_step(c);
            if (st != 0) {
                failed += st < 0;
                echoed += c->bytes;
                done++;
                open--;
                zsock_close(c->fd);
                free(c);
                conns[slot[j]] = NULL;
            }
        }
    }
    for (size_t i = 0; i < max; i++) {
        if (conns[i] != NULL) {
            zsock_close(conns[i]->fd);
            free(conns[i]);
        }
    }
    zsock_close(lfd);
    free(conns);
    free(pfd);
    free(slot);
    printf("ztcp: echo: %ld of %ld connections served, %ld failed, %" PRIu64
           " bytes echoed, peak %ld open at once (%.2f s after start), %.2f s in all\n",
           done, o->count, failed, echoed, peak, t_peak, tool_now_s() - t0);
    return rc == 0 && failed == 0 ? 0 : 1;
}

/* ---- client
 * ---------------------------------------------------------------------------------------- */

static int open_client(const struct options *o, double end)
{
    struct tool_addr to;
    if (!tool_addr_parse("ztcp", o->host, o->port, false, &to)) {
        return -1;
    }
    int fd = tool_socket_family("ztcp", to.u.sa.sa_family, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
        return -1;
    }
    tool_set_buffers(fd, o->buf_bytes);
    tool_set_nonblock(fd);
    if (o->socks != NULL && tool_set_socks("ztcp", fd, to.u.sa.sa_family, o->socks) < 0) {
        zsock_close(fd);
        return -1;
    }
    if (zsock_connect(fd, &to.u.sa, to.len) < 0 && errno != EINPROGRESS) {
        perror("ztcp: zsock_connect");
        zsock_close(fd);
        return -1;
    }
    int r = wait_for(fd, ZSOCK_POLLOUT, end);
    int err = 0;
    socklen_t elen = sizeof(err);
    if (r == 1 && zsock_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err == 0) {
        struct tool_addr me;
        me.len = sizeof(me.u);
        if ((to.u.sa.sa_family == AF_INET6 || o->socks != NULL) &&
            zsock_getsockname(fd, &me.u.sa, &me.len) == 0) {
            char a[TOOL_ADDR_STRLEN], b[TOOL_ADDR_STRLEN];
            printf("ztcp: connected from %s to %s\n", tool_addr_str(&me.u.sa, a, sizeof(a)),
                   tool_addr_str(&to.u.sa, b, sizeof(b)));
        }
        return fd;
    }
    if (r == 0) {
        fprintf(stderr, "ztcp: time limit reached connecting to %s port %d\n", o->host, o->port);
    } else if (err != 0) {
        fprintf(stderr, "ztcp: connect to %s port %d: %s\n", o->host, o->port, strerror(err));
    }
    zsock_close(fd);
    return -1;
}

/* --echoed: send the stream while reading the echo back, until the echo
 * is as long as the stream. NULL, or what failed. */
static const char *echo_exchange(int fd, const struct options *o, struct tool_stream *s,
                                 struct tool_checksum *sent, struct tool_checksum *echo, double end)
{
    uint8_t *buf = malloc(CHUNK);
    const char *failure = buf == NULL ? "out of memory" : NULL;
    uint64_t off = 0;
    while (failure == NULL && echo->len < o->bytes) {
        int r = wait_for(fd, ZSOCK_POLLIN | (off < o->bytes ? ZSOCK_POLLOUT : 0), end);
        if (r <= 0) {
            failure = r == 0 ? "time limit" : "poll";
            break;
        }
        if (off < o->bytes && tool_send_stream("ztcp", fd, s, &off, o->bytes, sent) < 0) {
            failure = "send";
        }
        ssize_t n = zsock_recv(fd, buf, CHUNK, ZSOCK_MSG_DONTWAIT);
        if (n > 0) {
            tool_checksum_update(echo, buf, (size_t)n);
        } else if (n == 0) {
            failure = "the echo ended early";
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            perror("ztcp: zsock_recv");
            failure = "receive";
        }
    }
    free(buf);
    if (failure == NULL &&
        (echo->len != sent->len || tool_checksum_value(echo) != tool_checksum_value(sent))) {
        fprintf(stderr,
                "ztcp: MISMATCH: sent %" PRIu64 " bytes checksum %016" PRIx64 ", echo %" PRIu64
                " bytes checksum %016" PRIx64 "\n",
                sent->len, tool_checksum_value(sent), echo->len, tool_checksum_value(echo));
        failure = "verification";
    }
    return failure;
}

static int run_client(const struct options *o, struct tool_checksum *sum)
{
    struct tool_stream *s = malloc(sizeof(*s));
    if (s == NULL) {
        fprintf(stderr, "ztcp: out of memory\n");
        return 1;
    }
    tool_stream_init(s, o->seed);
    double t0 = tool_now_s();
    double end = t0 + o->time_limit;
    int fd = open_client(o, end);
    if (fd < 0) {
        free(s);
        return 1;
    }
    double t_conn = tool_now_s();
    tool_checksum_init(sum);
    const char *failure = NULL;
    if (o->echoed) {
        struct tool_checksum *echo = malloc(sizeof(*echo));
        if (echo == NULL) {
            failure = "out of memory";
        } else {
            tool_checksum_init(echo);
            failure = echo_exchange(fd, o, s, sum, echo, end);
            free(echo);
        }
        double dt = tool_now_s() - t_conn;
        if (failure == NULL) {
            printf("ztcp: sent %" PRIu64 " bytes, echo verified (checksum %016" PRIx64
                   "), %.1f MiB/s\n",
                   sum->len, tool_checksum_value(sum), tool_mib_per_s(sum->len, dt));
        } else {
            fprintf(stderr, "ztcp: client failed: %s\n", failure);
        }
        zsock_close(fd);
        free(s);
        return failure == NULL ? 0 : 1;
    }
    for (uint64_t off = 0; off < o->bytes && failure == NULL;) {
        size_t len;
        const uint8_t *p = tool_stream_at(s, off, o->bytes, &len);
        tool_checksum_update(sum, p, len);
        if (send_all(fd, p, len, end) < 0) {
            failure = "send";
        }
        off += len;
    }
    double t_sent = tool_now_s();
    if (failure == NULL && zsock_shutdown(fd, ZSOCK_SHUT_WR) < 0) {
        perror("ztcp: zsock_shutdown");
        failure = "shutdown";
    }
    char reply[REPLY_MAX + 1];
    size_t got = 0;
    while (failure == NULL) {
        ssize_t n = recv_some(fd, (uint8_t *)reply + got, REPLY_MAX - got, end);
        if (n < 0) {
            failure = "receive reply";
        } else if (n == 0) {
            break;
        } else if ((got += (size_t)n) == REPLY_MAX) {
            failure = "reply too long";
        }
    }
    double t_done = tool_now_s();
    reply[got] = '\0';
    uint64_t r_bytes = 0, r_sum = 0;
    uint64_t want = tool_checksum_value(sum);
    if (failure == NULL) {
        char expect[REPLY_MAX];
        snprintf(expect, sizeof(expect), REPLY_FMT, sum->len, want);
        if (sscanf(reply, "ztcp: received %" SCNu64 " checksum %" SCNx64, &r_bytes, &r_sum) != 2) {
            fprintf(stderr, "ztcp: unexpected reply (%zu bytes): %s\n", got, reply);
            failure = "reply";
        } else if (strcmp(reply, expect) != 0) {
            fprintf(stderr,
                    "ztcp: MISMATCH: sent %" PRIu64 " bytes checksum %016" PRIx64
                    ", server received %" PRIu64 " bytes checksum %016" PRIx64 "\n",
                    sum->len, want, r_bytes, r_sum);
            failure = "verification";
        }
    }
    double dt = t_done - t_conn;
    printf("ztcp: client details: %" PRIu64 " bytes, seed %" PRIu64 ", checksum %016" PRIx64
           ", connect %.3f s, send %.2f s, until reply %.2f s, %.1f MiB/s\n",
           sum->len, o->seed, want, t_conn - t0, t_sent - t_conn, dt, tool_mib_per_s(sum->len, dt));
    if (failure == NULL) {
        printf("ztcp: sent %" PRIu64 ", verified\n", sum->len);
    } else {
        fprintf(stderr, "ztcp: client failed: %s\n", failure);
    }
    zsock_close(fd);
    free(s);
    return failure == NULL ? 0 : 1;
}

/* ---- command line
 * ---------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: ztcp [options] server PORT\n"
               "       ztcp [options] echo PORT\n"
               "       ztcp [options] client HOST PORT\n"
               "  --count N         server: connections to serve, one after another (default 1);\n"
               "                    echo: connections to serve, all at once if they come so\n"
               "  --backlog N       server, echo: listen() backlog (default 4; echo: 1024)\n"
               "  --bytes N         client: bytes to send (default 1048576)\n"
               "  --seed X          client: content seed (default 1)\n"
               "  --time-limit SEC  end the run after this long (default 120)\n"
               "  --buffer BYTES    SO_RCVBUF and SO_SNDBUF (default 4 MiB, echo: 0; 0: the "
               "stack's)\n"
               "  --linger MS       stay on the network this long after the run (default 0)\n"
               "  --socks HOST:PORT client: connect through this SOCKS5 proxy ([ADDR]:PORT for "
               "IPv6)\n"
               "  --echoed          client: the server echoes: check the echo (no half-close)\n"
               "IPv6 (HOST may be 2001:db8::1, [2001:db8::1], fe80::1%%IFNAME or %%INDEX):\n"
               "  --ipv6            server, echo: listen on :: (IPV6_V6ONLY on)\n"
               "  --dual            server, echo: listen on :: with IPV6_V6ONLY off (IPv4 too)\n"
               "  --bind ADDR       server, echo: listen on this IPv4 or IPv6 address\n"
               "  --ip6 ADDR[/LEN]  add this IPv6 address to the interface (default /64)\n");
    tool_net_usage(f);
}

static int parse_args(int argc, char **argv, struct options *o)
{
    bool buffer_set = false, backlog_set = false;
    const struct tool_opt opts[] = {
        {"count", TOOL_OPT_LONG, &o->count, 1, 1000000, NULL},
        {"bytes", TOOL_OPT_U64, &o->bytes, 0, 0, NULL},
        {"seed", TOOL_OPT_U64, &o->seed, 0, 0, NULL},
        {"time-limit", TOOL_OPT_SECONDS, &o->time_limit, 1, 86400, NULL},
        {"buffer", TOOL_OPT_INT, &o->buf_bytes, 0, 64 << 20, &buffer_set},
        {"linger", TOOL_OPT_INT, &o->linger_ms, 0, 600000, NULL},
        {"backlog", TOOL_OPT_INT, &o->backlog, 1, 65535, &backlog_set},
        {"ipv6", TOOL_OPT_FLAG, &o->ipv6, 0, 0, NULL},
        {"dual", TOOL_OPT_FLAG, &o->dual, 0, 0, NULL},
        {"bind", TOOL_OPT_STRING, &o->bind, 0, 0, NULL},
        {"ip6", TOOL_OPT_STRING, &o->ip6, 0, 0, NULL},
        {"socks", TOOL_OPT_STRING, &o->socks, 0, 0, NULL},
        {"echoed", TOOL_OPT_FLAG, &o->echoed, 0, 0, NULL},
        {0},
    };
    int first = tool_parse_options("ztcp", argc, argv, opts, &o->net, usage);
    static const char *const port_modes[] = {"server", "echo", NULL};
    static const char *const host_modes[] = {"client", NULL};
    if (first < 0 || tool_parse_mode("ztcp", argc - first, argv + first, port_modes, host_modes,
                                     &o->mode, &o->host, &o->port) < 0) {
        return -1;
    }
    if (strcmp(o->mode, "echo") == 0) {
        /* Many connections: the stack's own buffer sizes unless asked. */
        o->buf_bytes = buffer_set ? o->buf_bytes : 0;
        o->backlog = backlog_set ? o->backlog : 1024;
        if (o->count > 4000) {
            fprintf(stderr, "ztcp: echo serves at most 4000 connections (one zsock_poll)\n");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {
        .count = 1,
        .bytes = 1 << 20,
        .seed = 1,
        .time_limit = 120,
        .buf_bytes = BIG_BUFFERS,
        .backlog = 4,
    };
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    bool v6 = o.ipv6 || o.dual || (o.bind != NULL && strchr(o.bind, ':') != NULL) ||
              (o.host != NULL && strchr(o.host, ':') != NULL);
    if (tool_start("ztcp", &o.net) < 0 || tool_ipv6_start("ztcp", o.ip6, v6) < 0) {
        return 1;
    }
    uint8_t *buf = malloc(CHUNK);
    struct tool_checksum *sum = malloc(sizeof(*sum));
    if (buf == NULL || sum == NULL) {
        fprintf(stderr, "ztcp: out of memory\n");
        free(buf);
        free(sum);
        return 1;
    }
    int rc;
    if (strcmp(o.mode, "server") == 0) {
        rc = run_server(&o, buf, sum);
    } else if (strcmp(o.mode, "echo") == 0) {
        rc = run_echo(&o);
    } else {
        rc = run_client(&o, sum);
    }
    print_stats();
    tool_linger("ztcp", o.linger_ms);
    free(buf);
    free(sum);
    return rc;
}
