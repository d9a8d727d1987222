/* lwip_zperf: a zperf TCP client (see apps/zperf and bench/lwip/README.md)
 * running Debian's lwIP (liblwip-dev) on a Linux TAP device through our own
 * netif driver (tapnetif.c), so that lwIP and zsock can be measured against
 * the same Linux peer in the same run.
 *
 * Two lwIP APIs: "raw" (the default; lwIP's fastest: the transfer runs in
 * tcp_* callbacks under the TCPIP core lock, no copies besides lwIP's own
 * into its segments) and "socket" (lwip_socket/lwip_send/lwip_recv from the
 * main thread, the API closest to what zsock offers). */
/* Not _GNU_SOURCE: with it, <netinet/tcp.h> (pulled in by lwIP's socket
 * headers on Debian) silently redefines TCP_MSS as 512. */
#define _POSIX_C_SOURCE 200809L
#include "lwip/opt.h"

/* The options lwIP was built with, captured before any system header. */
enum {
    BUILT_TCP_MSS = TCP_MSS,
    BUILT_TCP_WND = TCP_WND,
    BUILT_TCP_SND_BUF = TCP_SND_BUF,
    BUILT_TCP_SND_QUEUELEN = TCP_SND_QUEUELEN,
};

#include "tapnetif.h"
#include "zp_bytes.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sockets.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

_Static_assert(TCP_MSS == BUILT_TCP_MSS && TCP_SND_QUEUELEN == BUILT_TCP_SND_QUEUELEN,
               "a system header redefined lwIP's TCP_MSS");

#define ZPERF_PORT      5201
#define ZPERF_HDR_LEN   32
#define ZPERF_TRAIL_LEN 16
#define ZPERF_STREAM_ID 1 /* as zperf numbers its streams: 1, 2... */
#define PATTERN_MOD     251
/* Any 64 KiB run of the payload starts somewhere in the first 251 bytes. */
#define PATTERN_LEN (PATTERN_MOD * 264)

static uint8_t pattern[PATTERN_LEN];

struct options {
    const char *tap;
    ip4_addr_t ip, mask, gw;
    unsigned mtu;
    ip4_addr_t host;
    uint16_t port;
    double seconds;  /* 0: none */
    uint64_t bytes;  /* 0: none */
    int download;    /* -R */
    int verify;      /* --verify */
    int api_sockets; /* --api socket */
    double guard_s;  /* give up after this long */
};

/* What one transfer gives. */
struct result {
    int ok;
    uint64_t bytes;      /* payload bytes: the server's count for an upload */
    uint64_t sent;       /* payload bytes we sent (upload) */
    uint64_t mismatches; /* bytes that differ from the pattern */
    double seconds;
    const char *error;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void build_header(const struct options *o, uint8_t *h)
{
    memset(h, 0, ZPERF_HDR_LEN);
    memcpy(h, "ZPRF", 4);
    h[4] = 1;
    h[5] = o->download ? 1 : 0;
    h[6] = o->verify ? 1 : 0;
    zp_put_be32(h + 8, ZPERF_STREAM_ID);
    zp_put_be64(h + 16, o->bytes);
    zp_put_be64(h + 24, (uint64_t)(o->seconds * 1000.0 + 0.5));
}

/* Mismatched bytes of D (N bytes at stream offset OFF) against the pattern. */
static uint64_t check_payload(const uint8_t *d, size_t n, uint64_t off)
{
    uint64_t bad = 0;
    while (n > 0) {
        size_t k = n < PATTERN_LEN - PATTERN_MOD ? n : PATTERN_LEN - PATTERN_MOD;
        const uint8_t *ref = pattern + off % PATTERN_MOD;
        if (memcmp(d, ref, k) != 0) {
            for (size_t i = 0; i < k; i++) {
                bad += d[i] != ref[i];
            }
        }
        d += k;
        n -= k;
        off += k;
    }
    return bad;
}

/* ---- raw API client: everything runs in lwIP callbacks under the core lock */

struct raw_client {
    const struct options *o;
    struct tcp_pcb *pcb;
    uint64_t deadline_ns; /* upload: stop sending then (0: none) */
    int connected;        /* lwIP polls in SYN_SENT too: send nothing before the header */
    uint64_t sent;
    int fin_sent;
    uint8_t trailer[ZPERF_TRAIL_LEN];
    unsigned trailer_len;
    uint64_t received;
    uint64_t mismatches;
    uint64_t t0_ns, t1_ns;
    const char *error;
    pthread_mutex_t lock; /* protects done */
    pthread_cond_t cond;
    int done;
};

static void raw_finish(struct raw_client *c, const char *error)
{
    if (c->t1_ns == 0) {
        c->t1_ns = now_ns();
    }
    if (error != NULL && c->error == NULL) {
        c->error = error;
    }
    pthread_mutex_lock(&c->lock);
    c->done = 1;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static void raw_close(struct raw_client *c)
{
    struct tcp_pcb *pcb = c->pcb;
    if (pcb == NULL) {
        return;
    }
    c->pcb = NULL;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
    tcp_err(pcb, NULL);
    if (tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
    }
}

/* Queues as much payload as lwIP takes; sends FIN at the limit. */
static void raw_fill(struct raw_client *c)
{
    struct tcp_pcb *pcb = c->pcb;
    while (!c->fin_sent) {
        uint64_t rem = c->o->bytes ? c->o->bytes - c->sent : UINT64_MAX;
        if (rem == 0 || (c->deadline_ns != 0 && now_ns() >= c->deadline_ns)) {
            if (tcp_shutdown(pcb, 0, 1) == ERR_OK) {
                c->fin_sent = 1; /* else retried on the next ACK or poll */
            }
            break;
        }
        u16_t room = tcp_sndbuf(pcb);
        if (room == 0 || tcp_sndqueuelen(pcb) >= BUILT_TCP_SND_QUEUELEN) {
            break;
        }
        u16_t len = rem < room ? (u16_t)rem : room;
        err_t err = tcp_write(pcb, pattern + c->sent % PATTERN_MOD, len,
                              TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE);
        if (err == ERR_MEM) {
            break;
        }
        if (err != ERR_OK) {
            raw_close(c);
            raw_finish(c, "tcp_write failed");
            return;
        }
        c->sent += len;
    }
    tcp_output(pcb);
}

static err_t raw_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    struct raw_client *c = arg;
    if (c->connected && !c->o->download && !c->fin_sent) {
        raw_fill(c);
    }
    return ERR_OK;
}

static err_t raw_poll(void *arg, struct tcp_pcb *pcb)
{
    (void)pcb;
    struct raw_client *c = arg;
    if (c->connected && !c->o->download && !c->fin_sent) {
        raw_fill(c);
    }
    return ERR_OK;
}

static err_t raw_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct raw_client *c = arg;
    if (p == NULL || err != ERR_OK) {
        if (p != NULL) {
            pbuf_free(p);
        }
        c->t1_ns = now_ns();
        raw_close(c);
        raw_finish(c, err != ERR_OK ? "receive error" : NULL);
        return ERR_OK;
    }
    for (const struct pbuf *q = p; q != NULL; q = q->next) {
        const uint8_t *d = q->payload;
        if (c->o->download) {
            if (c->o->verify) {
                c->mismatches += check_payload(d, q->len, c->received);
            }
            c->received += q->len;
        } else {
            /* The upload trailer; anything beyond it is a protocol error. */
            unsigned k = q->len;
            if (k > ZPERF_TRAIL_LEN - c->trailer_len) {
                k = ZPERF_TRAIL_LEN - c->trailer_len;
                if (c->error == NULL) {
                    c->error = "server sent more than the 16-byte trailer";
                }
            }
            memcpy(c->trailer + c->trailer_len, d, k);
            c->trailer_len += k;
        }
    }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static void raw_err(void *arg, err_t err)
{
    struct raw_client *c = arg;
    c->pcb = NULL; /* already freed by lwIP */
    raw_finish(c, err == ERR_RST ? "connection reset" : "connection aborted or failed");
}

static err_t raw_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct raw_client *c = arg;
    if (err != ERR_OK) {
        return err;
    }
    uint8_t h[ZPERF_HDR_LEN];
    build_header(c->o, h);
    c->connected = 1;
    c->t0_ns = now_ns();
    if (!c->o->download && c->o->seconds > 0) {
        c->deadline_ns = c->t0_ns + (uint64_t)(c->o->seconds * 1e9);
    }
    if (tcp_write(pcb, h, sizeof(h), TCP_WRITE_FLAG_COPY) != ERR_OK) {
        c->pcb = NULL;
        tcp_err(pcb, NULL);
        tcp_abort(pcb);
        raw_finish(c, "cannot queue the header");
        return ERR_ABRT;
    }
    if (c->o->download) {
        tcp_output(pcb);
    } else {
        raw_fill(c);
    }
    return ERR_OK;
}

static void run_raw(const struct options *o, struct result *r)
{
    static struct raw_client c;
    memset(&c, 0, sizeof(c));
    c.o = o;
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.cond, NULL);

    LOCK_TCPIP_CORE();
    struct tcp_pcb *pcb = tcp_new_ip_type(IPADDR_TYPE_V4);
    if (pcb == NULL) {
        UNLOCK_TCPIP_CORE();
        r->error = "tcp_new failed";
        return;
    }
    c.pcb = pcb;
    tcp_arg(pcb, &c);
    tcp_recv(pcb, raw_recv);
    tcp_sent(pcb, raw_sent);
    tcp_err(pcb, raw_err);
    tcp_poll(pcb, raw_poll, 2); /* every second: the time limit without ACKs */
    ip_addr_t dst;
    ip_addr_copy_from_ip4(dst, o->host);
    err_t err = tcp_connect(pcb, &dst, o->port, raw_connected);
    if (err != ERR_OK) {
        c.pcb = NULL;
        tcp_abort(pcb);
        UNLOCK_TCPIP_CORE();
        r->error = "tcp_connect failed";
        return;
    }
    UNLOCK_TCPIP_CORE();

    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)o->guard_s;
    pthread_mutex_lock(&c.lock);
    int timed_out = 0;
    while (!c.done && !timed_out) {
        timed_out = pthread_cond_timedwait(&c.cond, &c.lock, &until) == ETIMEDOUT;
    }
    pthread_mutex_unlock(&c.lock);

    LOCK_TCPIP_CORE();
    if (!c.done) {
        if (c.pcb != NULL) {
            struct tcp_pcb *p = c.pcb;
            c.pcb = NULL;
            tcp_err(p, NULL);
            tcp_abort(p);
        }
        c.error = "timed out";
        c.t1_ns = now_ns();
    }
    r->sent = c.sent;
    r->mismatches = c.mismatches;
    r->error = c.error;
    if (c.t0_ns != 0) {
        r->seconds = (double)(c.t1_ns - c.t0_ns) / 1e9;
    }
    if (o->download) {
        r->bytes = c.received;
    } else if (c.trailer_len == ZPERF_TRAIL_LEN) {
        r->bytes = zp_get_be64(c.trailer);
        r->mismatches = zp_get_be64(c.trailer + 8);
    } else if (r->error == NULL) {
        r->error = "no trailer from the server";
    }
    UNLOCK_TCPIP_CORE();
    r->ok = r->error == NULL;
}

/* ---- socket API client ------------------------------------------------ */

static int sock_send_all(int s, const uint8_t *d, size_t n)
{
    while (n > 0) {
        ssize_t w = lwip_send(s, d, n, 0);
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        d += w;
        n -= (size_t)w;
    }
    return 0;
}

static void run_sockets(const struct options *o, struct result *r)
{
    int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) {
        r->error = "lwip_socket failed";
        return;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = lwip_htons(o->port);
    sa.sin_addr.s_addr = ip4_addr_get_u32(&o->host);
    if (lwip_connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        r->error = "lwip_connect failed";
        lwip_close(s);
        return;
    }
    struct timeval tv = {.tv_sec = (time_t)o->guard_s};
    lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    lwip_setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    uint8_t h[ZPERF_HDR_LEN];
    build_header(o, h);
    uint64_t t0 = now_ns();
    if (sock_send_all(s, h, sizeof(h)) < 0) {
        r->error = "sending the header failed";
        lwip_close(s);
        return;
    }
    static uint8_t buf[65536];
    if (!o->download) {
        uint64_t deadline = o->seconds > 0 ? t0 + (uint64_t)(o->seconds * 1e9) : 0;
        const size_t chunk = 65536;
        for (;;) {
            uint64_t rem = o->bytes ? o->bytes - r->sent : UINT64_MAX;
            if (rem == 0 || (deadline != 0 && now_ns() >= deadline)) {
                break;
            }
            size_t len = rem < chunk ? (size_t)rem : chunk;
            if (sock_send_all(s, pattern + r->sent % PATTERN_MOD, len) < 0) {
                r->error = "lwip_send failed";
                break;
            }
            r->sent += len;
        }
        lwip_shutdown(s, SHUT_WR);
        size_t got = 0;
        while (r->error == NULL) {
            ssize_t n = lwip_recv(s, buf + got, sizeof(buf) - got, 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                r->error = "receiving the trailer failed";
            } else if (n == 0) {
                break;
            }
            got += n > 0 ? (size_t)n : 0;
        }
        if (r->error == NULL && got != ZPERF_TRAIL_LEN) {
            r->error = got < ZPERF_TRAIL_LEN ? "no trailer from the server"
                                             : "server sent more than the 16-byte trailer";
        }
        if (got >= ZPERF_TRAIL_LEN) {
            r->bytes = zp_get_be64(buf);
            r->mismatches = zp_get_be64(buf + 8);
        }
    } else {
        for (;;) {
            ssize_t n = lwip_recv(s, buf, sizeof(buf), 0);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                r->error = "lwip_recv failed";
                break;
            }
            if (n == 0) {
                break;
            }
            if (o->verify) {
                r->mismatches += check_payload(buf, (size_t)n, r->bytes);
            }
            r->bytes += (uint64_t)n;
        }
    }
    r->seconds = (double)(now_ns() - t0) / 1e9;
    lwip_close(s);
    r->ok = r->error == NULL;
}

/* ---- set-up ----------------------------------------------------------- */

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t init_cond = PTHREAD_COND_INITIALIZER;
static int init_done;

static void tcpip_ready(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&init_lock);
    init_done = 1;
    pthread_cond_broadcast(&init_cond);
    pthread_mutex_unlock(&init_lock);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: lwip_zperf --tap NAME --ip A.B.C.D/PREFIX [--gateway G] [--mtu N]\n"
            "                  -c HOST [-p PORT] [-t SECONDS] [-n BYTES] [-R] [--verify]\n"
            "                  [--api raw|socket]\n"
            "One zperf TCP upload (default) or download (-R) through Debian's lwIP on\n"
            "the TAP device NAME (created if missing). Default: 10 s, port %d, MTU 1500,\n"
            "the raw API.\n",
            ZPERF_PORT);
}

static int parse_prefix(const char *arg, ip4_addr_t *ip, ip4_addr_t *mask)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%s", arg);
    char *slash = strchr(buf, '/');
    long prefix = 24;
    if (slash != NULL) {
        *slash = '\0';
        char *end;
        prefix = strtol(slash + 1, &end, 10);
        if (*end != '\0' || prefix < 1 || prefix > 32) {
            return -1;
        }
    }
    if (!ip4addr_aton(buf, ip)) {
        return -1;
    }
    uint32_t m = prefix == 32 ? 0xFFFFFFFFu : ~(0xFFFFFFFFu >> prefix);
    ip4_addr_set_u32(mask, lwip_htonl(m));
    return 0;
}

static void print_summary(const char *stream, const struct options *o, const struct result *r,
                          long long retrans)
{
    double gbps = r->seconds > 0 ? (double)r->bytes * 8.0 / r->seconds / 1e9 : 0.0;
    printf("zperf: summary stream=%s dir=%s bytes=%" PRIu64 " seconds=%.3f gbps=%.3f "
           "retrans=%lld errors=%" PRIu64 "\n",
           stream, o->download ? "down" : "up", r->bytes, r->seconds, gbps, retrans, r->mismatches);
}

int main(int argc, char **argv)
{
    struct options o;
    memset(&o, 0, sizeof(o));
    o.mtu = 1500;
    o.port = ZPERF_PORT;
    int have_ip = 0, have_host = 0;
    enum { OPT_TAP = 256, OPT_IP, OPT_GW, OPT_MTU, OPT_VERIFY, OPT_API };
    static const struct option longopts[] = {
        {"tap", required_argument, NULL, OPT_TAP},
        {"ip", required_argument, NULL, OPT_IP},
        {"gateway", required_argument, NULL, OPT_GW},
        {"mtu", required_argument, NULL, OPT_MTU},
        {"verify", no_argument, NULL, OPT_VERIFY},
        {"api", required_argument, NULL, OPT_API},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "c:p:t:n:Rh", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_TAP:
            o.tap = optarg;
            break;
        case OPT_IP:
            if (parse_prefix(optarg, &o.ip, &o.mask) < 0) {
                fprintf(stderr, "lwip_zperf: bad --ip %s (want A.B.C.D/PREFIX)\n", optarg);
                return 2;
            }
            have_ip = 1;
            break;
        case OPT_GW:
            if (!ip4addr_aton(optarg, &o.gw)) {
                fprintf(stderr, "lwip_zperf: bad --gateway %s\n", optarg);
                return 2;
            }
            break;
        case OPT_MTU: {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end != '\0' || v < 576 || v > 65000) {
                fprintf(stderr, "lwip_zperf: bad --mtu %s (576..65000)\n", optarg);
                return 2;
            }
            o.mtu = (unsigned)v;
            break;
        }
        case OPT_VERIFY:
            o.verify = 1;
            break;
        case OPT_API:
            if (strcmp(optarg, "socket") == 0 || strcmp(optarg, "sockets") == 0) {
                o.api_sockets = 1;
            } else if (strcmp(optarg, "raw") == 0) {
                o.api_sockets = 0;
            } else {
                fprintf(stderr, "lwip_zperf: bad --api %s (raw or socket)\n", optarg);
                return 2;
            }
            break;
        case 'c':
            if (!ip4addr_aton(optarg, &o.host)) {
                fprintf(stderr, "lwip_zperf: bad host %s (an IPv4 address)\n", optarg);
                return 2;
            }
            have_host = 1;
            break;
        case 'p': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (*end != '\0' || v == 0 || v > 65535) {
                fprintf(stderr, "lwip_zperf: bad port %s\n", optarg);
                return 2;
            }
            o.port = (uint16_t)v;
            break;
        }
        case 't':
            o.seconds = strtod(optarg, &end);
            if (*end != '\0' || o.seconds < 0 || o.seconds > 86400) {
                fprintf(stderr, "lwip_zperf: bad -t %s\n", optarg);
                return 2;
            }
            break;
        case 'n':
            o.bytes = strtoull(optarg, &end, 10);
            if (*end != '\0') {
                fprintf(stderr, "lwip_zperf: bad -n %s\n", optarg);
                return 2;
            }
            break;
        case 'R':
            o.download = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || o.tap == NULL || !have_ip || !have_host) {
        usage(stderr);
        return 2;
    }
    if (o.seconds == 0 && o.bytes == 0) {
        o.seconds = 10;
    }
    /* A transfer that makes no progress for this long is abandoned. */
    o.guard_s = o.seconds > 0 ? o.seconds + 30 : 600;

    for (size_t i = 0; i < PATTERN_LEN; i++) {
        pattern[i] = (uint8_t)(i % PATTERN_MOD);
    }

    static struct tapnetif tap;
    int err = tapnetif_open(&tap, o.tap, o.mtu);
    if (err < 0) {
        fprintf(stderr, "lwip_zperf: cannot open TAP %s: %s\n", o.tap, strerror(-err));
        return 1;
    }

    /* lwIP's LWIP_RAND() is rand(): seed it, or every run starts from the
     * same local port and meets the previous run's TIME_WAIT at the peer. */
    srand((unsigned)now_ns() ^ (unsigned)getpid());
    tcpip_init(tcpip_ready, NULL);
    pthread_mutex_lock(&init_lock);
    while (!init_done) {
        pthread_cond_wait(&init_cond, &init_lock);
    }
    pthread_mutex_unlock(&init_lock);

    static struct netif nif;
    LOCK_TCPIP_CORE();
    if (netif_add(&nif, &o.ip, &o.mask, &o.gw, &tap, tapnetif_init, ethernet_input) == NULL) {
        UNLOCK_TCPIP_CORE();
        fprintf(stderr, "lwip_zperf: netif_add failed\n");
        tapnetif_close(&tap);
        return 1;
    }
    netif_set_default(&nif);
    netif_set_up(&nif);
    netif_set_link_up(&nif);
    UNLOCK_TCPIP_CORE();
    err = tapnetif_start(&nif);
    if (err < 0) {
        fprintf(stderr, "lwip_zperf: cannot start the receive thread: %s\n", strerror(-err));
        tapnetif_close(&tap);
        return 1;
    }

    char ipbuf[16], hostbuf[16];
    printf("lwip_zperf: lwIP %s (Debian liblwip), api=%s, tap=%s mtu=%u "
           "mac=%02x:%02x:%02x:%02x:%02x:%02x ip=%s -> %s:%u, "
           "TCP_MSS=%d TCP_WND=%d TCP_SND_BUF=%d TCP_SND_QUEUELEN=%d wnd_scale=%d "
           "rcv_scale=%d\n",
           LWIP_VERSION_STRING, o.api_sockets ? "socket" : "raw", tap.name, o.mtu, nif.hwaddr[0],
           nif.hwaddr[1], nif.hwaddr[2], nif.hwaddr[3], nif.hwaddr[4], nif.hwaddr[5],
           ip4addr_ntoa_r(&o.ip, ipbuf, sizeof(ipbuf)),
           ip4addr_ntoa_r(&o.host, hostbuf, sizeof(hostbuf)), o.port, TCP_MSS, TCP_WND, TCP_SND_BUF,
           TCP_SND_QUEUELEN, LWIP_WND_SCALE, TCP_RCV_SCALE);
    fflush(stdout);

    struct result r;
    memset(&r, 0, sizeof(r));
    if (o.api_sockets) {
        run_sockets(&o, &r);
    } else {
        run_raw(&o, &r);
    }

    long long retrans;
#if LWIP_STATS && TCP_STATS
    retrans = (long long)lwip_stats.tcp.rexmit;
#else
    /* Debian builds lwIP without statistics: count retransmitted segments
     * on the wire in our driver instead. */
    LOCK_TCPIP_CORE();
    retrans = (long long)tap.tx_tcp_rexmit;
    UNLOCK_TCPIP_CORE();
#endif
    int status = 0;
    if (!r.ok) {
        fprintf(stderr, "lwip_zperf: transfer failed: %s\n", r.error);
        status = 1;
    }
    if (r.ok && !o.download && r.bytes != r.sent) {
        fprintf(stderr, "lwip_zperf: sent %" PRIu64 " bytes but the server counted %" PRIu64 "\n",
                r.sent, r.bytes);
        status = 1;
    }
    if (r.ok && o.download && o.bytes != 0 && r.bytes != o.bytes) {
        fprintf(stderr, "lwip_zperf: asked for %" PRIu64 " bytes, got %" PRIu64 "\n", o.bytes,
                r.bytes);
        status = 1;
    }
    if (r.mismatches != 0) {
        fprintf(stderr, "lwip_zperf: %" PRIu64 " payload bytes differ from the pattern\n",
                r.mismatches);
        status = 1;
    }
    char id[16];
    snprintf(id, sizeof(id), "%d", ZPERF_STREAM_ID);
    print_summary(id, &o, &r, retrans);
    print_summary("all", &o, &r, retrans);
    LOCK_TCPIP_CORE();
    printf("lwip_zperf: driver rx_frames=%" PRIu64 " rx_dropped=%" PRIu64 " tx_frames=%" PRIu64
           " tx_errors=%" PRIu64 " tx_tcp_rexmit=%" PRIu64 "\n",
           tap.rx_frames, tap.rx_dropped, tap.tx_frames, tap.tx_errors, tap.tx_tcp_rexmit);
    UNLOCK_TCPIP_CORE();
    fflush(stdout);

    LOCK_TCPIP_CORE();
    netif_set_down(&nif);
    netif_remove(&nif);
    UNLOCK_TCPIP_CORE();
    tapnetif_close(&tap);
    return status;
}
