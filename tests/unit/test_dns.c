/* Unit tests of the DNS stub resolver behind zsock_getaddrinfo() and
 * zsock_getnameinfo(), and of the hosts table, against scripted DNS servers
 * running in this process on zsock's loopback (UDP, and TCP for truncated
 * answers). The servers encode their answers with the small encoder below
 * (with name compression), not with src/wire/dns.c, so the resolver's parser
 * is checked against an independent encoding. Each test scripts what the
 * servers do, then checks the results, the EAI_* codes, the resolver's
 * counters and the queries the servers saw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include <zsock/dns.h>
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "unit/test_util.h"

#define PORT_A    5301 /* first scripted server */
#define PORT_B    5302 /* second scripted server */
#define PORT_DEAD 5309 /* nothing listens here: ICMP port unreachable */
#define SPOOF_OFF 100  /* a server's second socket, port + SPOOF_OFF, for spoofed answers */

#define T_A     1
#define T_NS    2
#define T_CNAME 5
#define T_SOA   6
#define T_PTR   12
#define T_TXT   16
#define T_AAAA  28
#define T_OPT   41

#define F_QR 0x8000
#define F_AA 0x0400
#define F_TC 0x0200
#define F_RD 0x0100
#define F_RA 0x0080

#define RC_FORMERR  1
#define RC_SERVFAIL 2
#define RC_NXDOMAIN 3
#define RC_NOTIMP   4
#define RC_REFUSED  5

#define MSG_MAX 8192

/* ---- an independent DNS message encoder, with compression ------------------------------------ */

struct enc {
    uint8_t b[MSG_MAX];
    size_t len;
    bool compress;
    int nsuf;
    struct {
        char name[256];
        uint16_t off;
    } suf[128]; /* names written so far, for compression pointers */
    uint16_t count[4];
};

static void put8(struct enc *e, unsigned v)
{
    assert_true(e->len < MSG_MAX);
    e->b[e->len++] = (uint8_t)v;
}

static void put16(struct enc *e, unsigned v)
{
    put8(e, v >> 8);
    put8(e, v & 0xff);
}

static void put32(struct enc *e, uint32_t v)
{
    put16(e, v >> 16);
    put16(e, v & 0xffff);
}

static void put_bytes(struct enc *e, const void *p, size_t n)
{
    assert_true(e->len + n <= MSG_MAX);
    memcpy(e->b + e->len, p, n);
    e->len += n;
}

static void enc_init(struct enc *e, uint16_t id, uint16_t flags, bool compress)
{
    memset(e, 0, sizeof(*e));
    e->compress = compress;
    put16(e, id);
    put16(e, flags);
    for (int i = 0; i < 4; i++) {
        put16(e, 0);
    }
}

/* A text name ("" is the root). With compression, the longest suffix
 * already in the message (compared without case, as RFC 1035 4.1.4 allows)
 * becomes a pointer, and each suffix written is remembered. */
static void enc_name(struct enc *e, const char *name)
{
    const char *p = name;
    while (*p != '\0') {
        if (e->compress) {
            for (int i = 0; i < e->nsuf; i++) {
                if (strcasecmp(e->suf[i].name, p) == 0) {
                    put16(e, 0xc000 | e->suf[i].off);
                    return;
                }
            }
            if (e->len < 0x3fff && e->nsuf < (int)(sizeof(e->suf) / sizeof(e->suf[0]))) {
                snprintf(e->suf[e->nsuf].name, sizeof(e->suf[0].name), "%s", p);
                e->suf[e->nsuf++].off = (uint16_t)e->len;
            }
        }
        const char *dot = strchr(p, '.');
        size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);
        assert_true(l > 0 && l <= 63);
        put8(e, (unsigned)l);
        put_bytes(e, p, l);
        p += l;
        if (*p == '.') {
            p++;
        }
    }
    put8(e, 0);
}

static void enc_question(struct enc *e, const char *name, uint16_t type, uint16_t cls)
{
    enc_name(e, name);
    put16(e, type);
    put16(e, cls);
    e->count[0]++;
}

/* Start a record in section sec (1 answer, 2 authority, 3 additional);
 * returns where its RDLENGTH goes, for enc_rr_end(). */
static size_t enc_rr_begin(struct enc *e, int sec, const char *name, uint16_t type, uint16_t cls,
                           uint32_t ttl)
{
    enc_name(e, name);
    put16(e, type);
    put16(e, cls);
    put32(e, ttl);
    size_t at = e->len;
    put16(e, 0);
    e->count[sec]++;
    return at;
}

static void enc_rr_end(struct enc *e, size_t at)
{
    size_t rdlen = e->len - at - 2;
    e->b[at] = (uint8_t)(rdlen >> 8);
    e->b[at + 1] = (uint8_t)rdlen;
}

static void enc_a(struct enc *e, int sec, const char *name, uint32_t ttl, const char *text)
{
    uint8_t a[4];
    assert_int_equal(inet_pton(AF_INET, text, a), 1);
    size_t at = enc_rr_begin(e, sec, name, T_A, 1, ttl);
    put_bytes(e, a, 4);
    enc_rr_end(e, at);
}

static void enc_aaaa(struct enc *e, int sec, const char *name, uint32_t ttl, const char *text)
{
    uint8_t a[16];
    assert_int_equal(inet_pton(AF_INET6, text, a), 1);
    size_t at = enc_rr_begin(e, sec, name, T_AAAA, 1, ttl);
    put_bytes(e, a, 16);
    enc_rr_end(e, at);
}

/* CNAME, PTR or NS: rdata is a (compressible) name. */
static void enc_target(struct enc *e, int sec, const char *name, uint16_t type, uint32_t ttl,
                       const char *target)
{
    size_t at = enc_rr_begin(e, sec, name, type, 1, ttl);
    enc_name(e, target);
    enc_rr_end(e, at);
}

static void enc_txt(struct enc *e, int sec, const char *name, uint32_t ttl, const char *text)
{
    size_t at = enc_rr_begin(e, sec, name, T_TXT, 1, ttl);
    put8(e, (unsigned)strlen(text));
    put_bytes(e, text, strlen(text));
    enc_rr_end(e, at);
}

static void enc_soa(struct enc *e, int sec, const char *zone, uint32_t ttl, uint32_t minimum)
{
    size_t at = enc_rr_begin(e, sec, zone, T_SOA, 1, ttl);
    enc_name(e, "ns.test");
    enc_name(e, "hostmaster.test");
    put32(e, 1);     /* serial */
    put32(e, 3600);  /* refresh */
    put32(e, 600);   /* retry */
    put32(e, 86400); /* expire */
    put32(e, minimum);
    enc_rr_end(e, at);
}

static void enc_opt(struct enc *e, uint16_t udp_size)
{
    size_t at = enc_rr_begin(e, 3, "", T_OPT, udp_size, 0);
    enc_rr_end(e, at);
}

/* Write the section counts into the header; the message is e->b[0..len). */
static void enc_finish(struct enc *e)
{
    for (int i = 0; i < 4; i++) {
        e->b[4 + 2 * i] = (uint8_t)(e->count[i] >> 8);
        e->b[5 + 2 * i] = (uint8_t)e->count[i];
    }
}

static void enc_set_flags(struct enc *e, uint16_t flags)
{
    e->b[2] = (uint8_t)(flags >> 8);
    e->b[3] = (uint8_t)flags;
}

/* ---- what a server saw ----------------------------------------------------------------------- */

struct query {
    int seq;  /* arrival order over both servers */
    int port; /* the server that got it */
    bool ok;  /* parsed; the fields below are valid */
    bool tcp;
    uint16_t id, flags;
    uint16_t qdcount, ancount, nscount, arcount;
    char name[256];
    uint16_t qtype, qclass;
    bool opt;
    uint16_t opt_udp;
    int opt_version;
    struct sockaddr_in from; /* UDP: the resolver's socket */
    int tcp_fd;              /* TCP: the connection it came on */
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Skip a wire name at *off (pointers allowed, not followed). */
static int skip_name(const uint8_t *m, size_t len, size_t *off)
{
    while (*off < len) {
        uint8_t l = m[(*off)++];
        if (l == 0) {
            return 0;
        }
        if ((l & 0xc0) == 0xc0) {
            (*off)++;
            return *off <= len ? 0 : -1;
        }
        if (l > 63) {
            return -1;
        }
        *off += l;
    }
    return -1;
}

/* Parse a query strictly: one question with an uncompressed name, records
 * that lie inside the message, nothing after them. 0 or -1. */
static int parse_query(const uint8_t *m, size_t len, struct query *q)
{
    if (len < 12) {
        return -1;
    }
    q->id = rd16(m);
    q->flags = rd16(m + 2);
    q->qdcount = rd16(m + 4);
    q->ancount = rd16(m + 6);
    q->nscount = rd16(m + 8);
    q->arcount = rd16(m + 10);
    if (q->qdcount != 1) {
        return -1;
    }
    size_t off = 12, ol = 0;
    for (;;) {
        if (off >= len) {
            return -1;
        }
        uint8_t l = m[off++];
        if (l == 0) {
            break;
        }
        if (l > 63 || off + l > len || ol + l + 2 > sizeof(q->name)) {
            return -1;
        }
        if (ol > 0) {
            q->name[ol++] = '.';
        }
        memcpy(q->name + ol, m + off, l);
        ol += l;
        off += l;
    }
    q->name[ol] = '\0';
    if (off + 4 > len) {
        return -1;
    }
    q->qtype = rd16(m + off);
    q->qclass = rd16(m + off + 2);
    off += 4;
    int nrr = q->ancount + q->nscount + q->arcount;
    for (int i = 0; i < nrr; i++) {
        bool root = off < len && m[off] == 0;
        if (skip_name(m, len, &off) < 0 || off + 10 > len) {
            return -1;
        }
        uint16_t type = rd16(m + off), cls = rd16(m + off + 2), rdlen = rd16(m + off + 8);
        if (i >= q->ancount + q->nscount && type == T_OPT && root) {
            q->opt = true;
            q->opt_udp = cls;
            q->opt_version = m[off + 5];
        }
        off += 10 + (size_t)rdlen;
        if (off > len) {
            return -1;
        }
    }
    return off == len ? 0 : -1;
}

/* ---- scripted servers ------------------------------------------------------------------------ */

/* Each server is a thread running the script of the test under way; its
 * asserts (in the encoder) only catch mistakes in the scripts themselves. */
struct srv;
typedef void (*handler_fn)(struct srv *s, const struct query *q);

/* A zone record: name, type, TTL and data in text (an address, a target
 * name, TXT text). */
struct zrec {
    const char *name;
    uint16_t type;
    uint32_t ttl;
    const char *data;
};

/* How zone_handler answers: like an authoritative server for `rr`, with
 * these changes. */
struct zone {
    const struct zrec *rr;
    size_t n;
    bool compress;       /* compression pointers in answers */
    bool upper_question; /* echo the question in upper case */
    bool no_soa;         /* negative answers without an SOA record */
    uint32_t soa_ttl;    /* SOA TTL and MINIMUM of negative answers (0, 0: 60, 60) */
    uint32_t soa_min;
    int rcode;      /* non-zero: every answer is this error, without records */
    bool silent;    /* never answer */
    bool tc;        /* UDP answers are truncated (TC, no records); TCP ones whole */
    bool no_follow; /* answer with the records of the name asked only (no chasing) */
};

#define MAX_LOG 1024

struct srv {
    uint16_t port;
    int udp, tcp, other;
    pthread_t thread;
    atomic_bool stop;
    atomic_int tcp_busy; /* a TCP connection is open */
    pthread_mutex_t lock;
    handler_fn handler;
    const struct zone *zone;
    struct enc enc; /* the server thread's message being built */
    int nlog;
    struct query log[MAX_LOG];
};

static struct srv srv_a, srv_b;
static atomic_int arrival;

static void srv_log(struct srv *s, struct query *q, handler_fn *h)
{
    pthread_mutex_lock(&s->lock);
    q->seq = atomic_fetch_add(&arrival, 1);
    q->port = s->port;
    if (s->nlog < MAX_LOG) {
        s->log[s->nlog++] = *q;
    }
    *h = s->handler;
    pthread_mutex_unlock(&s->lock);
}

static void srv_send_raw(struct srv *s, const struct query *q, const uint8_t *m, size_t len)
{
    if (q->tcp) {
        /* The length prefix and the message in two writes, so the resolver
         * must reassemble (RFC 1035 4.2.2 does not promise one segment). */
        uint8_t pfx[2] = {(uint8_t)(len >> 8), (uint8_t)len};
        (void)zsock_send(q->tcp_fd, pfx, 2, 0);
        sleep_ms(2);
        (void)zsock_send(q->tcp_fd, m, len, 0);
    } else {
        (void)zsock_sendto(s->udp, m, len, 0, (const struct sockaddr *)&q->from, sizeof(q->from));
    }
}

static void srv_send(struct srv *s, const struct query *q, struct enc *e)
{
    enc_finish(e);
    srv_send_raw(s, q, e->b, e->len);
}

/* The same answer from the server's other port: it must never reach a
 * connected socket. */
static void srv_send_other(struct srv *s, const struct query *q, struct enc *e)
{
    enc_finish(e);
    (void)zsock_sendto(s->other, e->b, e->len, 0, (const struct sockaddr *)&q->from,
                       sizeof(q->from));
}

static void srv_udp(struct srv *s)
{
    uint8_t buf[4096];
    for (;;) {
        struct query q = {0};
        socklen_t fl = sizeof(q.from);
        ssize_t n = zsock_recvfrom(s->udp, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT,
                                   (struct sockaddr *)&q.from, &fl);
        if (n < 0) {
            return;
        }
        q.ok = parse_query(buf, (size_t)n, &q) == 0;
        handler_fn h;
        srv_log(s, &q, &h);
        if (q.ok && h != NULL) {
            h(s, &q);
        }
    }
}

/* Read exactly n bytes within 2 s: 0, or -1 on close, error or time out. */
static int read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        struct zsock_pollfd pf = {.fd = fd, .events = ZSOCK_POLLIN};
        if (zsock_poll(&pf, 1, 2000) <= 0) {
            return -1;
        }
        ssize_t r = zsock_recv(fd, p, n, 0);
        if (r <= 0) {
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One TCP connection: length-prefixed queries until the resolver closes. */
static void srv_tcp(struct srv *s)
{
    int c = zsock_accept(s->tcp, NULL, NULL);
    if (c < 0) {
        return;
    }
    atomic_store(&s->tcp_busy, 1);
    uint8_t buf[4096];
    for (;;) {
        uint8_t pfx[2];
        if (read_full(c, pfx, 2) < 0) {
            break;
        }
        size_t len = rd16(pfx);
        if (len > sizeof(buf) || read_full(c, buf, len) < 0) {
            break;
        }
        struct query q = {0};
        q.tcp = true;
        q.tcp_fd = c;
        q.ok = parse_query(buf, len, &q) == 0;
        handler_fn h;
        srv_log(s, &q, &h);
        if (q.ok && h != NULL) {
            h(s, &q);
        }
    }
    zsock_close(c);
    atomic_store(&s->tcp_busy, 0);
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct zsock_pollfd p[2] = {{.fd = s->udp, .events = ZSOCK_POLLIN},
                                    {.fd = s->tcp, .events = ZSOCK_POLLIN}};
        if (zsock_poll(p, 2, 20) <= 0) {
            continue;
        }
        if (p[0].revents & ZSOCK_POLLIN) {
            srv_udp(s);
        }
        if (p[1].revents & ZSOCK_POLLIN) {
            srv_tcp(s);
        }
    }
    return NULL;
}

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sin;
}

static int bound_socket(int type, uint16_t port)
{
    int fd = zsock_socket(AF_INET, type, 0);
    struct sockaddr_in sin = loopback(port);
    if (fd < 0 || zsock_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        return -1;
    }
    return fd;
}

static int srv_start(struct srv *s, uint16_t port)
{
    memset(s, 0, sizeof(*s));
    s->port = port;
    pthread_mutex_init(&s->lock, NULL);
    s->udp = bound_socket(SOCK_DGRAM, port);
    s->tcp = bound_socket(SOCK_STREAM, port);
    s->other = bound_socket(SOCK_DGRAM, (uint16_t)(port + SPOOF_OFF));
    if (s->udp < 0 || s->tcp < 0 || s->other < 0 || zsock_listen(s->tcp, 8) < 0) {
        return -1;
    }
    return pthread_create(&s->thread, NULL, srv_main, s) == 0 ? 0 : -1;
}

static void srv_stop(struct srv *s)
{
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    zsock_close(s->udp);
    zsock_close(s->tcp);
    zsock_close(s->other);
}

/* Script the server and forget what it saw. */
static void srv_set(struct srv *s, handler_fn h, const struct zone *z)
{
    pthread_mutex_lock(&s->lock);
    s->handler = h;
    s->zone = z;
    s->nlog = 0;
    pthread_mutex_unlock(&s->lock);
}

/* Change the zone only, keeping the log. */
static void srv_zone(struct srv *s, const struct zone *z)
{
    pthread_mutex_lock(&s->lock);
    s->zone = z;
    pthread_mutex_unlock(&s->lock);
}

static int srv_nq(struct srv *s)
{
    pthread_mutex_lock(&s->lock);
    int n = s->nlog;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static struct query srv_q(struct srv *s, int i)
{
    pthread_mutex_lock(&s->lock);
    assert_true(i < s->nlog);
    struct query q = s->log[i];
    pthread_mutex_unlock(&s->lock);
    return q;
}

/* ---- the zone handler ------------------------------------------------------------------------ */

static const struct zrec *zone_find(const struct zone *z, const char *name, uint16_t type,
                                    size_t from)
{
    for (size_t i = from; z != NULL && i < z->n; i++) {
        if (strcasecmp(z->rr[i].name, name) == 0 && (type == 0 || z->rr[i].type == type)) {
            return &z->rr[i];
        }
    }
    return NULL;
}

static void enc_zrec(struct enc *e, const struct zrec *r)
{
    switch (r->type) {
    case T_A:
        enc_a(e, 1, r->name, r->ttl, r->data);
        break;
    case T_AAAA:
        enc_aaaa(e, 1, r->name, r->ttl, r->data);
        break;
    case T_CNAME:
    case T_PTR:
    case T_NS:
        enc_target(e, 1, r->name, r->type, r->ttl, r->data);
        break;
    case T_TXT:
        enc_txt(e, 1, r->name, r->ttl, r->data);
        break;
    default:
        fail_msg("zone record type %u", r->type);
    }
}

static void zone_handler(struct srv *s, const struct query *q)
{
    pthread_mutex_lock(&s->lock);
    const struct zone *z = s->zone;
    pthread_mutex_unlock(&s->lock);
    static const struct zone empty = {0};
    if (z == NULL) {
        z = &empty;
    }
    if (z->silent) {
        return;
    }
    struct enc *e = &s->enc;
    uint16_t flags = F_QR | F_AA | F_RA | (q->flags & F_RD);
    enc_init(e, q->id, flags, z->compress);
    char qname[256];
    snprintf(qname, sizeof(qname), "%s", q->name);
    if (z->upper_question) {
        for (char *p = qname; *p != '\0'; p++) {
            *p = (char)toupper((unsigned char)*p);
        }
    }
    enc_question(e, qname, q->qtype, q->qclass);
    if (z->rcode != 0) {
        enc_set_flags(e, flags | (uint16_t)z->rcode);
        srv_send(s, q, e);
        return;
    }
    if (z->tc && !q->tcp) {
        enc_set_flags(e, flags | F_TC);
        srv_send(s, q, e);
        return;
    }
    char cur[256];
    snprintf(cur, sizeof(cur), "%s", q->name);
    for (int hops = 0;; hops++) {
        const struct zrec *cn = zone_find(z, cur, T_CNAME, 0);
        if (cn != NULL && q->qtype != T_CNAME && hops < 16) {
            enc_zrec(e, cn);
            snprintf(cur, sizeof(cur), "%s", cn->data);
            if (z->no_follow) {
                break;
            }
            continue;
        }
        for (const struct zrec *r = zone_find(z, cur, q->qtype, 0); r != NULL;
             r = zone_find(z, cur, q->qtype, (size_t)(r - z->rr) + 1)) {
            enc_zrec(e, r);
        }
        break;
    }
    if (e->count[1] == 0) {
        bool exists = zone_find(z, q->name, 0, 0) != NULL;
        enc_set_flags(e, flags | (exists ? 0 : RC_NXDOMAIN));
        if (!z->no_soa) {
            bool dflt = z->soa_ttl == 0 && z->soa_min == 0;
            enc_soa(e, 2, "test", dflt ? 60 : z->soa_ttl, dflt ? 60 : z->soa_min);
        }
    }
    if (q->opt) {
        enc_opt(e, 1232);
    }
    srv_send(s, q, e);
}

/* Names tT-I.test get 10.T.(I / 256).(I % 256); others do not exist. For
 * the thread test and the randomness test. */
static void synth_handler(struct srv *s, const struct query *q)
{
    struct enc *e = calloc(1, sizeof(*e));
    if (e == NULL) {
        return;
    }
    uint16_t flags = F_QR | F_AA | F_RA | (q->flags & F_RD);
    enc_init(e, q->id, flags, true);
    enc_question(e, q->name, q->qtype, q->qclass);
    unsigned t, i;
    char tail[16];
    if (q->qtype == T_A && sscanf(q->name, "t%u-%u.%15s", &t, &i, tail) == 3 &&
        strcmp(tail, "test") == 0 && t < 256 && i < 65536) {
        char a[32];
        snprintf(a, sizeof(a), "10.%u.%u.%u", t, i / 256, i % 256);
        enc_a(e, 1, q->name, 300, a);
    } else {
        enc_set_flags(e, flags | RC_NXDOMAIN);
    }
    srv_send(s, q, e);
    free(e);
}

/* ---- helpers of the tests -------------------------------------------------------------------- */

static struct zsock_dns_stats st0;

static void stats_mark(void)
{
    assert_int_equal(zsock_dns_stats(&st0), 0);
}

/* Counters since stats_mark(). */
static struct zsock_dns_stats stats_delta(void)
{
    struct zsock_dns_stats s;
    assert_int_equal(zsock_dns_stats(&s), 0);
    s.queries -= st0.queries;
    s.answers -= st0.answers;
    s.timeouts -= st0.timeouts;
    s.rejected -= st0.rejected;
    s.truncated -= st0.truncated;
    s.cache_hits -= st0.cache_hits;
    s.failovers -= st0.failovers;
    return s;
}

#define MAX_RES 16

struct res {
    int rc;
    int n;
    int family[MAX_RES];
    char addr[MAX_RES][INET6_ADDRSTRLEN];
    uint16_t port[MAX_RES];
    bool has_canon;
    char canon[ZSOCK_DNS_MAX_NAME_SIZE];
};

/* getaddrinfo(name, service) for SOCK_STREAM (one entry per address). */
static int lookup_svc(const char *name, const char *service, int family, int flags, struct res *r)
{
    struct zsock_addrinfo hints = {
        .ai_family = family, .ai_socktype = SOCK_STREAM, .ai_flags = flags};
    struct zsock_addrinfo *ai = (struct zsock_addrinfo *)&hints; /* must become NULL on error */
    memset(r, 0, sizeof(*r));
    r->rc = zsock_getaddrinfo(name, service, &hints, &ai);
    if (r->rc != 0) {
        assert_null(ai);
        return r->rc;
    }
    assert_non_null(ai);
    if (ai->ai_canonname != NULL) {
        r->has_canon = true;
        snprintf(r->canon, sizeof(r->canon), "%s", ai->ai_canonname);
    }
    for (struct zsock_addrinfo *p = ai; p != NULL; p = p->ai_next) {
        assert_true(r->n < MAX_RES);
        assert_int_equal(p->ai_socktype, SOCK_STREAM);
        assert_int_equal(p->ai_family, p->ai_addr->sa_family);
        r->family[r->n] = p->ai_family;
        if (p->ai_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)p->ai_addr;
            assert_int_equal(p->ai_addrlen, sizeof(*sin));
            inet_ntop(AF_INET, &sin->sin_addr, r->addr[r->n], INET6_ADDRSTRLEN);
            r->port[r->n] = ntohs(sin->sin_port);
        } else {
            assert_int_equal(p->ai_family, AF_INET6);
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)p->ai_addr;
            assert_int_equal(p->ai_addrlen, sizeof(*sin6));
            inet_ntop(AF_INET6, &sin6->sin6_addr, r->addr[r->n], INET6_ADDRSTRLEN);
            r->port[r->n] = ntohs(sin6->sin6_port);
        }
        r->n++;
    }
    zsock_freeaddrinfo(ai);
    return 0;
}

static int lookup(const char *name, int family, int flags, struct res *r)
{
    return lookup_svc(name, NULL, family, flags, r);
}

/* The result holds exactly these addresses, in this order (NULL-terminated). */
static void expect_addrs(const struct res *r, ...)
{
    va_list ap;
    va_start(ap, r);
    int i = 0;
    for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *), i++) {
        if (i >= r->n) {
            fail_msg("result has %d addresses; %s expected at %d", r->n, a, i);
        }
        if (strcmp(r->addr[i], a) != 0) {
            fail_msg("address %d is %s, %s expected", i, r->addr[i], a);
        }
    }
    va_end(ap);
    assert_int_equal(r->n, i);
}

static bool has_addr(const struct res *r, const char *a)
{
    for (int i = 0; i < r->n; i++) {
        if (strcmp(r->addr[i], a) == 0) {
            return true;
        }
    }
    return false;
}

static int reverse(const char *ip, int flags, char *host, size_t hostlen)
{
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (strchr(ip, ':') != NULL) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
        len = sizeof(*sin6);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
        len = sizeof(*sin);
    }
    return zsock_getnameinfo((struct sockaddr *)&ss, len, host, (socklen_t)hostlen, NULL, 0, flags);
}

static void set_options(int timeout_ms, int attempts)
{
    struct zsock_dns_options o = {.timeout_ms = timeout_ms, .attempts = attempts};
    assert_int_equal(zsock_dns_set_options(&o), 0);
}

static void need_cache(void)
{
    if (CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES == 0) {
        skip();
    }
}

/* ---- fixtures -------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    unsetenv("ZSOCK_DNS"); /* the servers are the tests' own */
    if (zsock_net_init() != 0 || srv_start(&srv_a, PORT_A) < 0 || srv_start(&srv_b, PORT_B) < 0) {
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    srv_stop(&srv_a);
    srv_stop(&srv_b);
    return 0;
}

static int setup(void **state)
{
    srv_set(&srv_a, zone_handler, NULL);
    srv_set(&srv_b, zone_handler, NULL);
    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5301"), 0);
    /* A timeout long enough that a loaded machine never hits it: the tests
     * that want timeouts set their own. */
    struct zsock_dns_options o = {
        .timeout_ms = 3000, .attempts = 2, .cache_max = CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES};
    assert_int_equal(zsock_dns_set_options(&o), 0);
    zsock_dns_cache_flush();
    stats_mark();
    return fd_leak_setup(state);
}

static int teardown(void **state)
{
    /* A TCP connection the server still holds is its own, not a leak. */
    for (int i = 0; i < 200 && (atomic_load(&srv_a.tcp_busy) || atomic_load(&srv_b.tcp_busy));
         i++) {
        sleep_ms(10);
    }
    return fd_leak_teardown(state);
}

/* ---- servers and options --------------------------------------------------------------------- */

static void test_servers_api(void **state)
{
    (void)state;
    char out[ZSOCK_DNS_MAX_SERVERS + 1][ZSOCK_DNS_SERVER_TEXT];

    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5301, 127.0.0.1"), 0);
    assert_int_equal(zsock_dns_get_servers(out, ZSOCK_DNS_MAX_SERVERS), 2);
    assert_string_equal(out[0], "127.0.0.1:5301");
    assert_string_equal(out[1], "127.0.0.1:53");

    assert_int_equal(zsock_dns_set_servers("10.0.0.1 10.0.0.2:54"), 0);
    assert_int_equal(zsock_dns_get_servers(out, ZSOCK_DNS_MAX_SERVERS), 2);
    assert_string_equal(out[0], "10.0.0.1:53");
    assert_string_equal(out[1], "10.0.0.2:54");

    /* max smaller than the list: the count, and only max entries written. */
    memset(out, 'x', sizeof(out));
    assert_int_equal(zsock_dns_get_servers(out, 1), 2);
    assert_string_equal(out[0], "10.0.0.1:53");
    assert_int_equal(out[1][0], 'x');

    assert_int_equal(zsock_dns_set_servers("[::1]:5353,::2"), 0);
    assert_int_equal(zsock_dns_get_servers(out, ZSOCK_DNS_MAX_SERVERS), 2);
    assert_string_equal(out[0], "[::1]:5353");
    assert_string_equal(out[1], "[::2]:53");

    /* Errors leave the list as it was. */
    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5301"), 0);
    static const char *const bad[] = {"1.2.3",    "1.2.3.4:99999",    "1.2.3.4:x",
                                      "dns.test", "1.2.3.4,nonsense", "[::1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (zsock_dns_set_servers(bad[i]) != -EINVAL) {
            fail_msg("zsock_dns_set_servers(\"%s\") did not give -EINVAL", bad[i]);
        }
        assert_int_equal(zsock_dns_get_servers(out, ZSOCK_DNS_MAX_SERVERS), 1);
        assert_string_equal(out[0], "127.0.0.1:5301");
    }
    char many[256] = "";
    for (int i = 0; i <= ZSOCK_DNS_MAX_SERVERS; i++) {
        char one[32];
        snprintf(one, sizeof(one), "%s10.0.0.%d", i ? "," : "", i + 1);
        strcat(many, one);
    }
    assert_int_equal(zsock_dns_set_servers(many), -E2BIG);
    assert_int_equal(zsock_dns_get_servers(out, ZSOCK_DNS_MAX_SERVERS), 1);

    /* NULL and "" clear the list (no environment, no DHCP here). */
    assert_int_equal(zsock_dns_set_servers(NULL), 0);
    assert_int_equal(zsock_dns_get_servers(out, ZSOCK_DNS_MAX_SERVERS), 0);
    assert_int_equal(zsock_dns_set_servers("127.0.0.1"), 0);
    assert_int_equal(zsock_dns_set_servers(""), 0);
    assert_int_equal(zsock_dns_get_servers(out, ZSOCK_DNS_MAX_SERVERS), 0);
}

static void test_options_api(void **state)
{
    (void)state;
    struct zsock_dns_options o = {.timeout_ms = -1};
    assert_int_equal(zsock_dns_set_options(&o), -EINVAL);
    o = (struct zsock_dns_options){.attempts = -1};
    assert_int_equal(zsock_dns_set_options(&o), -EINVAL);
    o = (struct zsock_dns_options){.cache_max = CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES + 1};
    assert_int_equal(zsock_dns_set_options(&o), -EINVAL);
    o = (struct zsock_dns_options){.cache_max = -2};
    assert_int_equal(zsock_dns_set_options(&o), -EINVAL);
    o = (struct zsock_dns_options){0}; /* all kept */
    assert_int_equal(zsock_dns_set_options(&o), 0);
}

/* ---- answers --------------------------------------------------------------------------------- */

static void test_a_basic(void **state)
{
    (void)state;
    static const struct zrec rr[] = {
        {"host.test", T_A, 300, "192.0.2.10"},
        {"host.test", T_A, 300, "192.0.2.11"},
    };
    static const struct zone z = {.rr = rr, .n = 2};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;
    assert_int_equal(lookup_svc("host.test", "80", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.10", "192.0.2.11", NULL);
    assert_int_equal(r.family[0], AF_INET);
    assert_int_equal(r.port[0], 80);
    assert_int_equal(r.port[1], 80);
    assert_true(r.has_canon);
    assert_string_equal(r.canon, "host.test"); /* no CNAME: the name asked */

    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.queries, 1);
    assert_int_equal(d.answers, 1);
    assert_int_equal(d.timeouts, 0);
    assert_int_equal(d.rejected, 0);
    assert_int_equal(d.failovers, 0);
    assert_int_equal(d.truncated, 0);

    /* The query: standard, recursion desired, EDNS0 with 1232 bytes. */
    assert_int_equal(srv_nq(&srv_a), 1);
    struct query q = srv_q(&srv_a, 0);
    assert_true(q.ok);
    assert_false(q.tcp);
    assert_string_equal(q.name, "host.test");
    assert_int_equal(q.qtype, T_A);
    assert_int_equal(q.qclass, 1);
    assert_int_equal(q.flags & F_QR, 0);
    assert_int_equal(q.flags & 0x7800, 0); /* opcode QUERY */
    assert_int_equal(q.flags & F_RD, F_RD);
    assert_int_equal(q.qdcount, 1);
    assert_int_equal(q.ancount, 0);
    assert_int_equal(q.nscount, 0);
    assert_true(q.opt);
    assert_int_equal(q.opt_udp, 1232);
    assert_int_equal(q.opt_version, 0);
    assert_int_equal(ntohl(q.from.sin_addr.s_addr), INADDR_LOOPBACK);
}

static void test_compression_and_case(void **state)
{
    (void)state;
    static const struct zrec rr[] = {
        {"www.example.test", T_CNAME, 300, "web.example.test"},
        {"web.example.test", T_A, 300, "192.0.2.21"},
        {"web.example.test", T_A, 300, "192.0.2.22"},
        {"web.example.test", T_A, 300, "192.0.2.23"},
    };
    /* Every owner name and the CNAME target end in pointers, and the
     * question comes back in upper case (still the question asked). */
    static const struct zone z = {.rr = rr, .n = 4, .compress = true, .upper_question = true};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;
    assert_int_equal(lookup("www.example.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.21", "192.0.2.22", "192.0.2.23", NULL);
    assert_true(r.has_canon);
    assert_int_equal(strcasecmp(r.canon, "web.example.test"), 0);
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.queries, 1);
    assert_int_equal(d.rejected, 0);

    /* Asked in mixed case, answered in upper case. */
    assert_int_equal(lookup("Web.Example.TEST", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.21", "192.0.2.22", "192.0.2.23", NULL);
    assert_int_equal(stats_delta().rejected, 0);
}

/* A chain n0 -> n1 -> ... -> nN (N CNAME links), nN having an A record. */
static struct zrec chain_rr[16];
static char chain_names[16][32];

static struct zone make_chain(const char *tag, int links)
{
    assert_true(links < 15);
    for (int i = 0; i <= links; i++) {
        snprintf(chain_names[i], sizeof(chain_names[i]), "%s%d.chain.test", tag, i);
    }
    for (int i = 0; i < links; i++) {
        chain_rr[i] = (struct zrec){chain_names[i], T_CNAME, 300, chain_names[i + 1]};
    }
    chain_rr[links] = (struct zrec){chain_names[links], T_A, 300, "192.0.2.99"};
    return (struct zone){.rr = chain_rr, .n = (size_t)links + 1, .compress = true};
}

static void test_cname_chains(void **state)
{
    (void)state;
    struct res r;

    static struct zone z;
    z = make_chain("a", 3);
    srv_set(&srv_a, zone_handler, &z);
    assert_int_equal(lookup("a0.chain.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.99", NULL);
    assert_string_equal(r.canon, "a3.chain.test");
    assert_int_equal(stats_delta().queries, 1);

    /* 8 links is the limit, still followed. */
    z = make_chain("b", 8);
    assert_int_equal(lookup("b0.chain.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.99", NULL);
    assert_string_equal(r.canon, "b8.chain.test");

    /* 9 links is too long. */
    z = make_chain("c", 9);
    assert_int_equal(lookup("c0.chain.test", AF_INET, AI_CANONNAME, &r), EAI_FAIL);
}

static void test_cname_loops(void **state)
{
    (void)state;
    struct res r;
    static const struct zrec rr[] = {
        {"loop1.test", T_CNAME, 300, "loop2.test"},
        {"loop2.test", T_CNAME, 300, "loop1.test"},
        {"self.test", T_CNAME, 300, "self.test"},
    };
    static const struct zone z = {.rr = rr, .n = 3};
    srv_set(&srv_a, zone_handler, &z);
    assert_int_equal(lookup("loop1.test", AF_INET, 0, &r), EAI_FAIL);
    assert_int_equal(lookup("self.test", AF_INET, 0, &r), EAI_FAIL);

    /* The same loop when each answer carries one link only: the resolver
     * asks for the targets, and must still stop. */
    static const struct zone z1 = {.rr = rr, .n = 3, .no_follow = true};
    srv_set(&srv_a, zone_handler, &z1);
    zsock_dns_cache_flush();
    stats_mark();
    assert_int_equal(lookup("loop2.test", AF_INET, 0, &r), EAI_FAIL);
    assert_true(stats_delta().queries <= 10);
}

static void test_cname_chase(void **state)
{
    (void)state;
    /* The answer ends at a CNAME (another zone): the target is asked. */
    static const struct zrec rr[] = {
        {"alias.test", T_CNAME, 300, "real.elsewhere.test"},
        {"real.elsewhere.test", T_A, 300, "192.0.2.77"},
    };
    static const struct zone z = {.rr = rr, .n = 2, .no_follow = true};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;
    assert_int_equal(lookup("alias.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.77", NULL);
    assert_string_equal(r.canon, "real.elsewhere.test");
    assert_int_equal(stats_delta().queries, 2);
    assert_int_equal(srv_nq(&srv_a), 2);
    struct query q = srv_q(&srv_a, 1);
    assert_string_equal(q.name, "real.elsewhere.test");
    assert_int_equal(q.qtype, T_A);

    /* A chain longer than 8 links over several answers fails too. */
    static struct zone zc;
    zc = make_chain("d", 10);
    zc.no_follow = true;
    srv_set(&srv_a, zone_handler, &zc);
    stats_mark();
    assert_int_equal(lookup("d0.chain.test", AF_INET, 0, &r), EAI_FAIL);
    assert_true(stats_delta().queries <= 10);
}

/* ---- negative answers ------------------------------------------------------------------------ */

static void test_nxdomain(void **state)
{
    (void)state;
    need_cache();
    struct res r;
    static const struct zrec rr[] = {{"there.test", T_A, 300, "192.0.2.1"}};
    static const struct zone z = {.rr = rr, .n = 1, .soa_ttl = 60, .soa_min = 60};
    srv_set(&srv_a, zone_handler, &z);
    assert_int_equal(lookup("nx.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(lookup("nx.test", AF_INET, 0, &r), EAI_NONAME); /* cached */
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.queries, 1);
    assert_int_equal(d.cache_hits, 1);
    assert_int_equal(srv_nq(&srv_a), 1);
    assert_int_equal(srv_q(&srv_a, 0).qtype, T_A);

    zsock_dns_cache_flush();
    assert_int_equal(lookup("nx.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(srv_nq(&srv_a), 2);

    /* Without an SOA, NXDOMAIN is not cached (RFC 2308 5). */
    static const struct zone z2 = {.rr = rr, .n = 1, .no_soa = true};
    srv_set(&srv_a, zone_handler, &z2);
    assert_int_equal(lookup("nx2.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(lookup("nx2.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(srv_nq(&srv_a), 2);
}

static void test_negative_ttl(void **state)
{
    (void)state;
    need_cache();
    struct res r;
    /* The negative TTL is min(SOA TTL, SOA MINIMUM): 1 s both ways. */
    static const struct zone ttl1 = {.soa_ttl = 1, .soa_min = 3600};
    static const struct zone min1 = {.soa_ttl = 3600, .soa_min = 1};
    static const struct zone big = {.soa_ttl = 100000, .soa_min = 100000};
    srv_set(&srv_a, zone_handler, &ttl1);
    assert_int_equal(lookup("nxa.test", AF_INET, 0, &r), EAI_NONAME);
    srv_zone(&srv_a, &min1);
    assert_int_equal(lookup("nxb.test", AF_INET, 0, &r), EAI_NONAME);
    srv_zone(&srv_a, &big);
    assert_int_equal(lookup("nxc.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(srv_nq(&srv_a), 3);
    assert_int_equal(lookup("nxa.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(lookup("nxb.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(lookup("nxc.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(srv_nq(&srv_a), 3);
    assert_int_equal(stats_delta().cache_hits, 3);
    sleep_ms(1500);
    assert_int_equal(lookup("nxa.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(lookup("nxb.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(lookup("nxc.test", AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(srv_nq(&srv_a), 5); /* nxc still cached */
    assert_string_equal(srv_q(&srv_a, 3).name, "nxa.test");
    assert_string_equal(srv_q(&srv_a, 4).name, "nxb.test");
}

static void test_nodata(void **state)
{
    (void)state;
    struct res r;
    static const struct zrec rr[] = {
        {"v4only.test", T_A, 300, "192.0.2.20"},
        {"v6only.test", T_AAAA, 300, "2001:db8::20"},
        {"txtonly.test", T_TXT, 300, "hello"},
    };
    static const struct zone z = {.rr = rr, .n = 3};
    srv_set(&srv_a, zone_handler, &z);

    assert_int_equal(lookup("v4only.test", AF_INET6, 0, &r), EAI_NODATA);
    assert_int_equal(srv_nq(&srv_a), 1);
    assert_int_equal(srv_q(&srv_a, 0).qtype, T_AAAA);
    if (CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES > 0) {
        /* NODATA with an SOA is cached. */
        assert_int_equal(lookup("v4only.test", AF_INET6, 0, &r), EAI_NODATA);
        assert_int_equal(srv_nq(&srv_a), 1);
        assert_int_equal(stats_delta().cache_hits, 1);
    }
    assert_int_equal(lookup("v6only.test", AF_INET, 0, &r), EAI_NODATA);
    assert_int_equal(lookup("txtonly.test", AF_UNSPEC, 0, &r), EAI_NODATA);
    assert_int_equal(lookup("txtonly.test", AF_INET6, AI_V4MAPPED, &r), EAI_NODATA);

    /* Only A: AF_UNSPEC gives it, AF_INET6 with AI_V4MAPPED maps it. */
    assert_int_equal(lookup("v4only.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "192.0.2.20", NULL);
    assert_int_equal(lookup("v4only.test", AF_INET6, AI_V4MAPPED, &r), 0);
    expect_addrs(&r, "::ffff:192.0.2.20", NULL);
    assert_int_equal(r.family[0], AF_INET6);
}

static void test_rcodes(void **state)
{
    (void)state;
    struct res r;
    set_options(200, 1);
    static const struct zone servfail = {.rcode = RC_SERVFAIL};
    static const struct zone refused = {.rcode = RC_REFUSED};
    static const struct zone formerr = {.rcode = RC_FORMERR};
    static const struct zone notimp = {.rcode = RC_NOTIMP};
    srv_set(&srv_a, zone_handler, &servfail);
    assert_int_equal(lookup("err.test", AF_INET, 0, &r), EAI_AGAIN);
    srv_set(&srv_a, zone_handler, &refused);
    assert_int_equal(lookup("err.test", AF_INET, 0, &r), EAI_AGAIN);
    srv_set(&srv_a, zone_handler, &formerr);
    assert_int_equal(lookup("err.test", AF_INET, 0, &r), EAI_FAIL);
    srv_set(&srv_a, zone_handler, &notimp);
    assert_int_equal(lookup("err.test", AF_INET, 0, &r), EAI_FAIL);
    assert_int_equal(stats_delta().timeouts, 0);

    /* SERVFAIL (REFUSED) from the first server: the second one answers. */
    static const struct zrec rr[] = {{"err.test", T_A, 300, "192.0.2.40"}};
    static const struct zone good = {.rr = rr, .n = 1};
    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5301,127.0.0.1:5302"), 0);
    srv_set(&srv_a, zone_handler, &servfail);
    srv_set(&srv_b, zone_handler, &good);
    stats_mark();
    assert_int_equal(lookup("err.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.40", NULL);
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.failovers, 1);
    assert_int_equal(d.timeouts, 0);
    assert_int_equal(srv_nq(&srv_a), 1);
    assert_int_equal(srv_nq(&srv_b), 1);

    srv_set(&srv_a, zone_handler, &refused);
    srv_set(&srv_b, zone_handler, &good);
    zsock_dns_cache_flush();
    assert_int_equal(lookup("err.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.40", NULL);
}

/* ---- timeouts and failover ------------------------------------------------------------------- */

static void test_timeout_rounds(void **state)
{
    (void)state;
    struct res r;
    static const struct zone silent = {.silent = true};
    srv_set(&srv_a, zone_handler, &silent);
    set_options(100, 3);
    int64_t t0 = mono_us();
    assert_int_equal(lookup("silent.test", AF_INET, 0, &r), EAI_AGAIN);
    int64_t dt = mono_us() - t0;
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.queries, 3);
    assert_int_equal(d.timeouts, 3);
    assert_int_equal(d.answers, 0);
    assert_int_equal(srv_nq(&srv_a), 3);
    /* 100 + 200 + 400 ms when the timeout doubles each round (300 ms if it
     * did not): a lower bound only. */
    assert_true(dt >= 650000);
    /* Each try: a new socket (port) and the same question. */
    struct query q[3];
    for (int i = 0; i < 3; i++) {
        q[i] = srv_q(&srv_a, i);
        assert_string_equal(q[i].name, "silent.test");
    }
    assert_true(q[0].from.sin_port != q[1].from.sin_port);
    assert_true(q[1].from.sin_port != q[2].from.sin_port);
    assert_true(q[0].from.sin_port != q[2].from.sin_port);

    /* Two silent servers, two rounds: A, B, A, B. */
    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5301,127.0.0.1:5302"), 0);
    srv_set(&srv_a, zone_handler, &silent);
    srv_set(&srv_b, zone_handler, &silent);
    set_options(100, 2);
    stats_mark();
    assert_int_equal(lookup("silent.test", AF_INET, 0, &r), EAI_AGAIN);
    d = stats_delta();
    assert_int_equal(d.timeouts, 4);
    assert_true(d.failovers >= 2);
    assert_int_equal(srv_nq(&srv_a), 2);
    assert_int_equal(srv_nq(&srv_b), 2);
    assert_true(srv_q(&srv_a, 0).seq < srv_q(&srv_b, 0).seq);
    assert_true(srv_q(&srv_b, 0).seq < srv_q(&srv_a, 1).seq);
    assert_true(srv_q(&srv_a, 1).seq < srv_q(&srv_b, 1).seq);

    /* A silent first server: the second one answers after one timeout. */
    static const struct zrec rr[] = {{"late.test", T_A, 300, "192.0.2.41"}};
    static const struct zone good = {.rr = rr, .n = 1};
    srv_set(&srv_b, zone_handler, &good);
    stats_mark();
    assert_int_equal(lookup("late.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.41", NULL);
    d = stats_delta();
    assert_int_equal(d.timeouts, 1);
    assert_int_equal(d.failovers, 1);
    assert_int_equal(d.answers, 1);
}

static void test_port_unreachable(void **state)
{
    (void)state;
    struct res r;
    static const struct zrec rr[] = {{"up.test", T_A, 300, "192.0.2.42"}};
    static const struct zone good = {.rr = rr, .n = 1};
    srv_set(&srv_a, zone_handler, &good);
    /* Nothing on the first port: the ICMP error skips it at once, so no
     * timeout is counted even with a long one. */
    set_options(2000, 2);
    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5309,127.0.0.1:5301"), 0);
    assert_int_equal(lookup("up.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.42", NULL);
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.timeouts, 0);
    assert_int_equal(d.failovers, 1);
    assert_int_equal(d.queries, 2);
    assert_int_equal(d.answers, 1);

    /* Only an unreachable server: EAI_AGAIN, without waiting out timeouts. */
    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5309"), 0);
    stats_mark();
    assert_int_equal(lookup("up.test", AF_INET, 0, &r), EAI_AGAIN);
    assert_int_equal(stats_delta().timeouts, 0);
}

static void test_no_servers(void **state)
{
    (void)state;
    struct res r;
    assert_int_equal(zsock_dns_set_servers(NULL), 0);
    assert_int_equal(lookup("nowhere.test", AF_INET, 0, &r), EAI_AGAIN);
    assert_int_equal(lookup("nowhere.test", AF_UNSPEC, 0, &r), EAI_AGAIN);
    assert_int_equal(stats_delta().queries, 0);
    /* The built-in name needs no server. */
    assert_int_equal(lookup("localhost", AF_INET, 0, &r), 0);
    expect_addrs(&r, "127.0.0.1", NULL);
}

/* ---- forged and malformed answers ------------------------------------------------------------ */

/* A complete answer to a question (name, type, class) with one A record. */
static void answer_a(struct enc *e, uint16_t id, uint16_t flags, const char *qname, uint16_t qtype,
                     uint16_t qclass, const char *addr)
{
    enc_init(e, id, flags, false);
    enc_question(e, qname, qtype, qclass);
    enc_a(e, 1, qname, 300, addr);
}

static void spoof_handler(struct srv *s, const struct query *q)
{
    if (q->tcp) {
        return;
    }
    struct enc *e = &s->enc;
    const uint16_t ok = F_QR | F_RD | F_RA;
    answer_a(e, q->id ^ 0x5a5a, ok, q->name, q->qtype, 1, "6.6.6.1"); /* wrong id */
    srv_send(s, q, e);
    answer_a(e, q->id, ok, "evil.test", q->qtype, 1, "6.6.6.2"); /* another name */
    srv_send(s, q, e);
    answer_a(e, q->id, ok, q->name, T_AAAA, 1, "6.6.6.3"); /* another type */
    srv_send(s, q, e);
    answer_a(e, q->id, ok, q->name, q->qtype, 3, "6.6.6.4"); /* class CH */
    srv_send(s, q, e);
    answer_a(e, q->id, F_RD | F_RA, q->name, q->qtype, 1, "6.6.6.5"); /* QR clear */
    srv_send(s, q, e);
    answer_a(e, q->id, ok, q->name, q->qtype, 1, "6.6.6.6"); /* cut inside the record */
    enc_finish(e);
    srv_send_raw(s, q, e->b, e->len - 3);
    uint8_t tiny[5] = {(uint8_t)(q->id >> 8), (uint8_t)q->id, 0x81, 0x80, 0}; /* no header */
    srv_send_raw(s, q, tiny, sizeof(tiny));
    enc_init(e, q->id, ok, false); /* an A record of 5 bytes */
    enc_question(e, q->name, q->qtype, 1);
    size_t at = enc_rr_begin(e, 1, q->name, T_A, 1, 300);
    put_bytes(e, "\x06\x06\x06\x09\x00", 5);
    enc_rr_end(e, at);
    srv_send(s, q, e);
    enc_init(e, q->id, ok, false); /* the question's name points at itself */
    put16(e, 0xc000 | 12);
    put16(e, q->qtype);
    put16(e, 1);
    e->count[0] = 1;
    srv_send(s, q, e);
    enc_init(e, q->id, ok, false); /* the answer's owner points forward */
    enc_question(e, q->name, q->qtype, 1);
    put16(e, 0xc000 | (unsigned)(e->len + 2));
    put16(e, T_A);
    put16(e, 1);
    put32(e, 300);
    put16(e, 4);
    put_bytes(e, "\x06\x06\x06\x0a", 4);
    e->count[1] = 1;
    srv_send(s, q, e);
    answer_a(e, q->id, ok, q->name, q->qtype, 1, "6.6.6.8"); /* right, but another port */
    srv_send_other(s, q, e);
    answer_a(e, q->id, ok, q->name, q->qtype, 1, "192.0.2.50"); /* the real one */
    srv_send(s, q, e);
}

static void test_spoofed_answers(void **state)
{
    (void)state;
    srv_set(&srv_a, spoof_handler, NULL);
    struct res r;
    assert_int_equal(lookup("target.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.50", NULL);
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.rejected, 10); /* all but the other port's, which never arrives */
    assert_int_equal(d.queries, 1);
    assert_int_equal(d.answers, 1);
    assert_int_equal(d.timeouts, 0);
    assert_int_equal(srv_nq(&srv_a), 1);
}

/* ---- truncation and TCP ---------------------------------------------------------------------- */

static void test_truncated_tcp(void **state)
{
    (void)state;
    static struct zrec rr[30];
    static char addrs[30][16];
    for (int i = 0; i < 30; i++) {
        snprintf(addrs[i], sizeof(addrs[i]), "10.2.0.%d", i + 1);
        rr[i] = (struct zrec){"big.test", T_A, 300, addrs[i]};
    }
    static const struct zone z = {.rr = rr, .n = 30, .compress = true, .tc = true};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;
    assert_int_equal(lookup("big.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "10.2.0.1", "10.2.0.2", "10.2.0.3", "10.2.0.4", "10.2.0.5", "10.2.0.6",
                 "10.2.0.7", "10.2.0.8", NULL);
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.truncated, 1);
    assert_int_equal(d.queries, 2);
    assert_int_equal(d.answers, 1);
    assert_int_equal(srv_nq(&srv_a), 2);
    struct query u = srv_q(&srv_a, 0), t = srv_q(&srv_a, 1);
    assert_false(u.tcp);
    assert_true(t.tcp);
    assert_true(t.ok);
    assert_string_equal(t.name, "big.test");
    assert_int_equal(t.qtype, T_A);
    assert_int_equal(t.flags & F_RD, F_RD);

    /* Both families truncated: each question asked again over TCP. */
    static const struct zrec rr6[] = {
        {"big6.test", T_A, 300, "10.2.1.1"},
        {"big6.test", T_AAAA, 300, "2001:db8::2:1"},
    };
    static const struct zone z6 = {.rr = rr6, .n = 2, .tc = true};
    srv_set(&srv_a, zone_handler, &z6);
    stats_mark();
    assert_int_equal(lookup("big6.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "10.2.1.1", "2001:db8::2:1", NULL);
    d = stats_delta();
    assert_int_equal(d.truncated, 2);
    assert_int_equal(d.queries, 4);
    int tcp = 0;
    for (int i = 0; i < srv_nq(&srv_a); i++) {
        tcp += srv_q(&srv_a, i).tcp;
    }
    assert_int_equal(tcp, 2);
}

/* A server that drops AAAA queries (as some middleboxes do): the A answer
 * is still returned, after the AAAA tries time out. */
static void no_aaaa_handler(struct srv *s, const struct query *q)
{
    if (q->qtype != T_AAAA) {
        zone_handler(s, q);
    }
}

static void test_aaaa_dropped(void **state)
{
    (void)state;
    static const struct zrec rr[] = {{"v4.test", T_A, 300, "192.0.2.66"}};
    static const struct zone z = {.rr = rr, .n = 1};
    srv_set(&srv_a, no_aaaa_handler, &z);
    set_options(100, 2);
    struct res r;
    assert_int_equal(lookup("v4.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "192.0.2.66", NULL);
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.timeouts, 2);
    assert_int_equal(d.answers, 1);
}

/* ---- many records, AAAA, order --------------------------------------------------------------- */

static void test_many_records(void **state)
{
    (void)state;
    static struct zrec rr[40];
    static char addrs[40][48];
    for (int i = 0; i < 20; i++) {
        snprintf(addrs[i], sizeof(addrs[i]), "10.1.0.%d", i + 1);
        rr[i] = (struct zrec){"many.test", T_A, 300, addrs[i]};
        snprintf(addrs[20 + i], sizeof(addrs[0]), "2001:db8::%x", i + 1);
        rr[20 + i] = (struct zrec){"many.test", T_AAAA, 300, addrs[20 + i]};
    }
    static const struct zone z = {.rr = rr, .n = 40, .compress = true};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;
    /* At most 8, the first ones in the server's order. */
    assert_int_equal(lookup("many.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5", "10.1.0.6",
                 "10.1.0.7", "10.1.0.8", NULL);
    assert_int_equal(lookup("many.test", AF_INET6, 0, &r), 0);
    expect_addrs(&r, "2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4", "2001:db8::5",
                 "2001:db8::6", "2001:db8::7", "2001:db8::8", NULL);
    /* Both families: 8 in all, IPv4 first. */
    assert_int_equal(lookup("many.test", AF_UNSPEC, 0, &r), 0);
    assert_int_equal(r.n, 8);
    assert_int_equal(r.family[0], AF_INET);
    assert_string_equal(r.addr[0], "10.1.0.1");
    for (int i = 1; i < r.n; i++) {
        assert_false(r.family[i] == AF_INET && r.family[i - 1] == AF_INET6);
    }
}

static void test_aaaa(void **state)
{
    (void)state;
    static const struct zrec rr[] = {
        {"dual.test", T_AAAA, 300, "2001:db8::30"}, {"dual.test", T_A, 300, "192.0.2.30"},
        {"dual.test", T_AAAA, 300, "2001:db8::31"}, {"dual.test", T_A, 300, "192.0.2.31"},
        {"six.test", T_AAAA, 300, "2001:db8::40"},
    };
    static const struct zone z = {.rr = rr, .n = 5, .compress = true};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;

    assert_int_equal(lookup("dual.test", AF_INET6, 0, &r), 0);
    expect_addrs(&r, "2001:db8::30", "2001:db8::31", NULL);
    assert_int_equal(r.family[0], AF_INET6);
    assert_int_equal(srv_nq(&srv_a), 1);
    assert_int_equal(srv_q(&srv_a, 0).qtype, T_AAAA);

    /* AF_UNSPEC asks both; IPv4 comes first (zsock has no IPv6 source). */
    zsock_dns_cache_flush();
    srv_set(&srv_a, zone_handler, &z);
    assert_int_equal(lookup("dual.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "192.0.2.30", "192.0.2.31", "2001:db8::30", "2001:db8::31", NULL);
    assert_int_equal(srv_nq(&srv_a), 2);
    uint16_t t0 = srv_q(&srv_a, 0).qtype, t1 = srv_q(&srv_a, 1).qtype;
    assert_true((t0 == T_A && t1 == T_AAAA) || (t0 == T_AAAA && t1 == T_A));

    /* AI_V4MAPPED does not map when there is an AAAA; AI_ALL does. */
    assert_int_equal(lookup("dual.test", AF_INET6, AI_V4MAPPED, &r), 0);
    expect_addrs(&r, "2001:db8::30", "2001:db8::31", NULL);
    assert_int_equal(lookup("dual.test", AF_INET6, AI_V4MAPPED | AI_ALL, &r), 0);
    assert_int_equal(r.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(r.family[i], AF_INET6);
    }
    assert_true(has_addr(&r, "2001:db8::30") && has_addr(&r, "2001:db8::31"));
    assert_true(has_addr(&r, "::ffff:192.0.2.30") && has_addr(&r, "::ffff:192.0.2.31"));

    assert_int_equal(lookup("six.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "2001:db8::40", NULL);
}

/* Answers with records that are not part of the answer: they must be
 * ignored, and the order of the records must not matter. */
static void unrelated_handler(struct srv *s, const struct query *q)
{
    struct enc *e = &s->enc;
    enc_init(e, q->id, F_QR | F_RD | F_RA, true);
    enc_question(e, q->name, q->qtype, 1);
    if (strcmp(q->name, "host.test") == 0 && q->qtype == T_A) {
        enc_a(e, 1, "other.test", 300, "6.6.6.1");
        enc_aaaa(e, 1, "host.test", 300, "2001:db8::66");
        size_t at = enc_rr_begin(e, 1, "host.test", T_A, 3, 300); /* class CH */
        put_bytes(e, "\x06\x06\x06\x02", 4);
        enc_rr_end(e, at);
        enc_target(e, 1, "else.test", T_CNAME, 300, "host.test");
        enc_a(e, 1, "host.test", 300, "192.0.2.51");
        enc_a(e, 2, "host.test", 300, "6.6.6.3");
        enc_a(e, 3, "host.test", 300, "6.6.6.4");
    } else if (strcmp(q->name, "fwd.test") == 0 && q->qtype == T_A) {
        /* The chain's records before its CNAME, and a branch off it. */
        enc_a(e, 1, "end.test", 300, "192.0.2.52");
        enc_target(e, 1, "mid.test", T_CNAME, 300, "end.test");
        enc_target(e, 1, "end.test.other", T_CNAME, 300, "evil.test");
        enc_a(e, 1, "evil.test", 300, "6.6.6.5");
        enc_target(e, 1, "fwd.test", T_CNAME, 300, "mid.test");
    } else {
        enc_set_flags(e, F_QR | F_RD | F_RA | RC_NXDOMAIN);
    }
    srv_send(s, q, e);
}

static void test_unrelated_records(void **state)
{
    (void)state;
    srv_set(&srv_a, unrelated_handler, NULL);
    struct res r;
    assert_int_equal(lookup("host.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.51", NULL);
    assert_string_equal(r.canon, "host.test");
    assert_int_equal(lookup("fwd.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.52", NULL);
    assert_string_equal(r.canon, "end.test");
    assert_int_equal(stats_delta().queries, 2);
}

/* AI_ADDRCONFIG with an IPv4 address on an interface other than loopback
 * (a frame pipe with no peer): only A is asked. */
static void test_addrconfig(void **state)
{
    (void)state;
    static const struct zrec rr[] = {
        {"dual.test", T_A, 300, "192.0.2.30"},
        {"dual.test", T_AAAA, 300, "2001:db8::30"},
    };
    static const struct zone z = {.rr = rr, .n = 2};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;

    /* Only loopback: no family counts as configured, nobody is asked, but
     * localhost still resolves. */
    assert_true(lookup("dual.test", AF_UNSPEC, AI_ADDRCONFIG, &r) != 0);
    assert_int_equal(srv_nq(&srv_a), 0);
    assert_int_equal(lookup("localhost", AF_INET, AI_ADDRCONFIG, &r), 0);
    expect_addrs(&r, "127.0.0.1", NULL);

    char path[64];
    snprintf(path, sizeof(path), "/tmp/zsock-test-dns-%d.sock", (int)getpid());
    unlink(path);
    int idx = zsock_if_add_pipe(path, "/tmp/zsock-test-dns-nobody.sock");
    if (idx == -ENOTSUP) {
        skip();
    }
    assert_true(idx > 0);
    struct in_addr a;
    inet_pton(AF_INET, "198.51.100.2", &a);
    assert_int_equal(zsock_if_add_ipv4(idx, &a, 24), 0);
    assert_int_equal(zsock_if_up(idx), 0);

    assert_int_equal(lookup("dual.test", AF_UNSPEC, AI_ADDRCONFIG, &r), 0);
    expect_addrs(&r, "192.0.2.30", NULL);
    assert_int_equal(srv_nq(&srv_a), 1);
    assert_int_equal(srv_q(&srv_a, 0).qtype, T_A);
    assert_true(lookup("dual.test", AF_INET6, AI_ADDRCONFIG, &r) != 0);
    assert_int_equal(srv_nq(&srv_a), 1);
    /* Without the flag both are asked. */
    assert_int_equal(lookup("dual.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "192.0.2.30", "2001:db8::30", NULL);

    assert_int_equal(zsock_if_remove(idx), 0);
    unlink(path);
}

/* ---- the cache ------------------------------------------------------------------------------- */

static void test_cache_ttl(void **state)
{
    (void)state;
    need_cache();
    static const struct zrec rr[] = {
        {"ttl1.test", T_A, 1, "192.0.2.61"},           {"ttl0.test", T_A, 0, "192.0.2.62"},
        {"short.test", T_CNAME, 1, "long.test"},       {"long.test", T_A, 300, "192.0.2.63"},
        {"huge.test", T_A, 0x80000000u, "192.0.2.64"}, /* RFC 2181 8: reads as 0 */
    };
    static const struct zone z = {.rr = rr, .n = 5};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;

    assert_int_equal(lookup("ttl1.test", AF_INET, 0, &r), 0);
    assert_int_equal(lookup("ttl1.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.61", NULL);
    assert_int_equal(srv_nq(&srv_a), 1);
    assert_int_equal(stats_delta().cache_hits, 1);

    /* TTL 0: not cached. */
    assert_int_equal(lookup("ttl0.test", AF_INET, 0, &r), 0);
    assert_int_equal(lookup("ttl0.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.62", NULL);
    assert_int_equal(srv_nq(&srv_a), 3);
    assert_int_equal(stats_delta().cache_hits, 1);

    /* The smallest TTL of the chain (the CNAME's 1 s) applies. */
    assert_int_equal(lookup("short.test", AF_INET, AI_CANONNAME, &r), 0);
    assert_int_equal(lookup("short.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.63", NULL);
    assert_string_equal(r.canon, "long.test"); /* from the cache too */
    assert_int_equal(srv_nq(&srv_a), 4);
    assert_int_equal(lookup("huge.test", AF_INET, 0, &r), 0);
    assert_int_equal(lookup("huge.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.64", NULL);
    assert_int_equal(srv_nq(&srv_a), 6);

    sleep_ms(1500);
    assert_int_equal(lookup("ttl1.test", AF_INET, 0, &r), 0);
    assert_int_equal(lookup("short.test", AF_INET, 0, &r), 0);
    assert_int_equal(srv_nq(&srv_a), 8);
    assert_string_equal(srv_q(&srv_a, 6).name, "ttl1.test");
    assert_string_equal(srv_q(&srv_a, 7).name, "short.test");
}

/* A chain followed over two answers: the CNAME's TTL (1 s) still bounds
 * how long the result is cached, although the final answer has 300 s. */
static void test_cache_chase_ttl(void **state)
{
    (void)state;
    need_cache();
    static const struct zrec rr[] = {
        {"chase.test", T_CNAME, 1, "target.elsewhere.test"},
        {"target.elsewhere.test", T_A, 300, "192.0.2.65"},
    };
    static const struct zone z = {.rr = rr, .n = 2, .no_follow = true};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;
    assert_int_equal(lookup("chase.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "192.0.2.65", NULL);
    assert_int_equal(srv_nq(&srv_a), 2);
    assert_int_equal(lookup("chase.test", AF_INET, AI_CANONNAME, &r), 0);
    assert_string_equal(r.canon, "target.elsewhere.test");
    assert_int_equal(srv_nq(&srv_a), 2);
    sleep_ms(1500);
    assert_int_equal(lookup("chase.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.65", NULL);
    if (srv_nq(&srv_a) < 3) {
        fail_msg("chase.test still answered from the cache after its CNAME's TTL of 1 s");
    }
    assert_string_equal(srv_q(&srv_a, 2).name, "chase.test");
}

static void test_cache_control(void **state)
{
    (void)state;
    need_cache();
    static const struct zrec rr[] = {
        {"keep.test", T_A, 300, "192.0.2.71"},
        {"keep.test", T_AAAA, 300, "2001:db8::71"},
    };
    static const struct zone z = {.rr = rr, .n = 2};
    srv_set(&srv_a, zone_handler, &z);
    struct res r;

    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(srv_nq(&srv_a), 1);
    /* Per (name, type): AAAA is not in the cache yet. */
    assert_int_equal(lookup("keep.test", AF_INET6, 0, &r), 0);
    expect_addrs(&r, "2001:db8::71", NULL);
    assert_int_equal(srv_nq(&srv_a), 2);
    assert_int_equal(srv_q(&srv_a, 1).qtype, T_AAAA);
    /* Both cached now. */
    assert_int_equal(lookup("keep.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "192.0.2.71", "2001:db8::71", NULL);
    assert_int_equal(srv_nq(&srv_a), 2);

    zsock_dns_cache_flush();
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(srv_nq(&srv_a), 3);

    /* Setting the servers (even the same ones) empties the cache. */
    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5301"), 0);
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(srv_nq(&srv_a), 4);

    /* cache_max -1: no caching at all. */
    struct zsock_dns_options off = {.cache_max = -1};
    assert_int_equal(zsock_dns_set_options(&off), 0);
    stats_mark();
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(srv_nq(&srv_a), 6);
    assert_int_equal(stats_delta().cache_hits, 0);
    struct zsock_dns_options on = {.cache_max = CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES};
    assert_int_equal(zsock_dns_set_options(&on), 0);
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(srv_nq(&srv_a), 7);

    /* Room for one answer: a second name pushes the first out. */
    struct zsock_dns_options one = {.cache_max = 1};
    assert_int_equal(zsock_dns_set_options(&one), 0);
    zsock_dns_cache_flush();
    srv_set(&srv_a, zone_handler, &z);
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    assert_int_equal(srv_nq(&srv_a), 1);
    assert_int_equal(lookup("keep.test", AF_INET6, 0, &r), 0);
    assert_int_equal(lookup("keep.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "192.0.2.71", NULL);
    assert_int_equal(srv_nq(&srv_a), 3);
    assert_int_equal(zsock_dns_set_options(&on), 0);
}

/* ---- query randomness ------------------------------------------------------------------------ */

static void test_query_randomness(void **state)
{
    (void)state;
    srv_set(&srv_a, synth_handler, NULL);
    enum { N = 20 };
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "t9-%d.test", i);
        struct res r;
        assert_int_equal(lookup(name, AF_INET, 0, &r), 0);
    }
    assert_int_equal(srv_nq(&srv_a), N);
    uint16_t ids[N], ports[N];
    int id_steps = 0, port_steps = 0;
    for (int i = 0; i < N; i++) {
        struct query q = srv_q(&srv_a, i);
        assert_true(q.ok);
        assert_int_equal(q.flags & F_RD, F_RD);
        assert_true(q.opt);
        ids[i] = q.id;
        ports[i] = ntohs(q.from.sin_port);
        assert_true(ports[i] >= CONFIG_NET_EPHEMERAL_PORT_MIN);
        assert_true(ports[i] <= CONFIG_NET_EPHEMERAL_PORT_MAX);
        if (i > 0) {
            id_steps += (uint16_t)(ids[i] - ids[i - 1]) == 1;
            port_steps += (uint16_t)(ports[i] - ports[i - 1]) == 1;
        }
    }
    int distinct_ids = 0, distinct_ports = 0;
    for (int i = 0; i < N; i++) {
        bool id_new = true, port_new = true;
        for (int j = 0; j < i; j++) {
            id_new &= ids[j] != ids[i];
            port_new &= ports[j] != ports[i];
        }
        distinct_ids += id_new;
        distinct_ports += port_new;
    }
    /* Random 16-bit ids and 14-bit port choices repeat rarely; counters or
     * a fixed value would not pass. */
    assert_true(distinct_ids >= N - 3);
    assert_true(distinct_ports >= N - 3);
    assert_true(id_steps < N / 2);
    assert_true(port_steps < N / 2);
}

/* ---- threads --------------------------------------------------------------------------------- */

#define THREADS    8
#define PER_THREAD 50
static atomic_int thread_errors;
static char thread_error[160];
static pthread_mutex_t thread_error_lock = PTHREAD_MUTEX_INITIALIZER;

static void thread_fail(const char *fmt, ...)
{
    pthread_mutex_lock(&thread_error_lock);
    if (atomic_fetch_add(&thread_errors, 1) == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(thread_error, sizeof(thread_error), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&thread_error_lock);
}

static void *lookup_thread(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        char name[32], want[32];
        snprintf(name, sizeof(name), "t%d-%d.test", t, i);
        snprintf(want, sizeof(want), "10.%d.%d.%d", t, i / 256, i % 256);
        struct zsock_addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
        struct zsock_addrinfo *ai = NULL;
        int rc = zsock_getaddrinfo(name, NULL, &hints, &ai);
        if (rc != 0) {
            thread_fail("%s: %s", name, zsock_gai_strerror(rc));
            continue;
        }
        char got[INET_ADDRSTRLEN] = "";
        inet_ntop(AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, got, sizeof(got));
        if (ai->ai_next != NULL || strcmp(got, want) != 0) {
            thread_fail("%s: got %s%s, %s expected", name, got, ai->ai_next ? " and more" : "",
                        want);
        }
        zsock_freeaddrinfo(ai);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    srv_set(&srv_a, synth_handler, NULL);
    atomic_store(&thread_errors, 0);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(pthread_create(&th[t], NULL, lookup_thread, (void *)(intptr_t)t), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
    }
    if (atomic_load(&thread_errors) != 0) {
        fail_msg("%d lookups failed; first: %s", atomic_load(&thread_errors), thread_error);
    }
    struct zsock_dns_stats d = stats_delta();
    assert_int_equal(d.answers, THREADS * PER_THREAD);
    assert_int_equal(srv_nq(&srv_a), THREADS * PER_THREAD);
}

/* ---- getnameinfo ----------------------------------------------------------------------------- */

static void test_getnameinfo_ptr(void **state)
{
    (void)state;
    static const struct zrec rr[] = {
        {"10.2.0.192.in-addr.arpa", T_PTR, 300, "host.example.test"},
        {"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", T_PTR, 300,
         "six.example.test"},
    };
    static const struct zone z = {.rr = rr, .n = 2, .compress = true};
    srv_set(&srv_a, zone_handler, &z);
    char host[ZSOCK_DNS_MAX_NAME_SIZE];

    assert_int_equal(reverse("192.0.2.10", 0, host, sizeof(host)), 0);
    assert_string_equal(host, "host.example.test");
    assert_int_equal(srv_nq(&srv_a), 1);
    struct query q = srv_q(&srv_a, 0);
    assert_string_equal(q.name, "10.2.0.192.in-addr.arpa");
    assert_int_equal(q.qtype, T_PTR);
    assert_int_equal(q.flags & F_RD, F_RD);

    assert_int_equal(reverse("192.0.2.10", NI_NOFQDN, host, sizeof(host)), 0);
    assert_string_equal(host, "host");
    assert_int_equal(reverse("192.0.2.10", NI_NAMEREQD, host, sizeof(host)), 0);
    assert_string_equal(host, "host.example.test");
    /* The name does not fit. */
    assert_int_equal(reverse("192.0.2.10", 0, host, 5), EAI_OVERFLOW);

    /* No PTR record: the numeric form, or EAI_NONAME with NI_NAMEREQD. */
    assert_int_equal(reverse("192.0.2.11", 0, host, sizeof(host)), 0);
    assert_string_equal(host, "192.0.2.11");
    assert_int_equal(reverse("192.0.2.11", NI_NAMEREQD, host, sizeof(host)), EAI_NONAME);

    /* NI_NUMERICHOST asks nobody. */
    int before = srv_nq(&srv_a);
    assert_int_equal(reverse("192.0.2.10", NI_NUMERICHOST, host, sizeof(host)), 0);
    assert_string_equal(host, "192.0.2.10");
    assert_int_equal(srv_nq(&srv_a), before);

    /* IPv6: the nibble name under ip6.arpa. */
    assert_int_equal(reverse("2001:db8::1", 0, host, sizeof(host)), 0);
    assert_string_equal(host, "six.example.test");
    q = srv_q(&srv_a, srv_nq(&srv_a) - 1);
    assert_int_equal(q.qtype, T_PTR);
    assert_int_equal(strcasecmp(q.name, rr[1].name), 0);

    /* The hosts table answers first, and localhost is built in. */
    struct sockaddr_in sin = {.sin_family = AF_INET};
    inet_pton(AF_INET, "192.0.2.88", &sin.sin_addr);
    assert_int_equal(zsock_hosts_add("myhost.local.test", (struct sockaddr *)&sin, sizeof(sin)), 0);
    before = srv_nq(&srv_a);
    assert_int_equal(reverse("192.0.2.88", NI_NAMEREQD, host, sizeof(host)), 0);
    assert_string_equal(host, "myhost.local.test");
    assert_int_equal(reverse("192.0.2.88", NI_NOFQDN, host, sizeof(host)), 0);
    assert_string_equal(host, "myhost");
    assert_int_equal(reverse("127.0.0.1", NI_NAMEREQD, host, sizeof(host)), 0);
    assert_string_equal(host, "localhost");
    assert_int_equal(srv_nq(&srv_a), before);
    assert_int_equal(zsock_hosts_remove("myhost.local.test"), 0);

    /* A silent server: the numeric form after the timeouts. */
    static const struct zone silent = {.silent = true};
    srv_set(&srv_a, zone_handler, &silent);
    set_options(100, 1);
    assert_int_equal(reverse("192.0.2.12", 0, host, sizeof(host)), 0);
    assert_string_equal(host, "192.0.2.12");
}

/* ---- the hosts table ------------------------------------------------------------------------- */

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, a, &sin.sin_addr), 1);
    return sin;
}

static struct sockaddr_in6 v6(const char *a)
{
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    assert_int_equal(inet_pton(AF_INET6, a, &sin6.sin6_addr), 1);
    return sin6;
}

#define SA(x) ((struct sockaddr *)&(x))

static void test_hosts_api(void **state)
{
    (void)state;
    struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
    struct sockaddr_in6 a6 = v6("2001:db8::1");
    char label64[80], long_name[300];
    memset(label64, 'x', 64);
    strcpy(label64 + 64, ".test");
    long_name[0] = '\0';
    while (strlen(long_name) < 254) {
        strcat(long_name, "abcdefghi.");
    }
    strcat(long_name, "test");

    assert_int_equal(zsock_hosts_add(NULL, SA(a), sizeof(a)), -EINVAL);
    assert_int_equal(zsock_hosts_add("", SA(a), sizeof(a)), -EINVAL);
    assert_int_equal(zsock_hosts_add("a..test", SA(a), sizeof(a)), -EINVAL);
    assert_int_equal(zsock_hosts_add(label64, SA(a), sizeof(a)), -EINVAL);
    assert_int_equal(zsock_hosts_add(long_name, SA(a), sizeof(a)), -EINVAL);
    assert_int_equal(zsock_hosts_add("h.test", NULL, sizeof(a)), -EINVAL);
    assert_int_equal(zsock_hosts_add("h.test", SA(a), sizeof(a) - 1), -EINVAL);
    assert_int_equal(zsock_hosts_add("h.test", SA(a6), sizeof(a6) - 1), -EINVAL);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    assert_int_equal(zsock_hosts_add("h.test", SA(un), sizeof(un)), -EAFNOSUPPORT);

    assert_int_equal(zsock_hosts_add("h.test", SA(a), sizeof(a)), 0);
    assert_int_equal(zsock_hosts_add("h.test", SA(a), sizeof(a)), -EEXIST);
    a.sin_port = htons(99); /* the port is not part of the entry */
    assert_int_equal(zsock_hosts_add("h.test", SA(a), sizeof(a)), -EEXIST);
    assert_int_equal(zsock_hosts_add("h.test", SA(b), sizeof(b)), 0);
    assert_int_equal(zsock_hosts_add("h.test", SA(a6), sizeof(a6)), 0);
    assert_int_equal(zsock_hosts_add("h.test", SA(a6), sizeof(a6)), -EEXIST);
    assert_int_equal(zsock_hosts_remove("h.test"), 0); /* all three */
    assert_int_equal(zsock_hosts_remove("h.test"), -ENOENT);
    assert_int_equal(zsock_hosts_remove("never.test"), -ENOENT);

    /* localhost stays. */
    assert_true(zsock_hosts_remove("localhost") < 0);
    struct res r;
    assert_int_equal(lookup("localhost", AF_INET, 0, &r), 0);
    expect_addrs(&r, "127.0.0.1", NULL);

    /* The table fills up: -ENOSPC, then room again after a removal. */
    int added = 0, rc = 0;
    for (int i = 0; i <= CONFIG_DNS_RESOLVER_HOSTS_MAX; i++) {
        char name[32];
        snprintf(name, sizeof(name), "full%d.test", i);
        struct sockaddr_in x = v4("10.9.0.1");
        x.sin_addr.s_addr = htonl(0x0a090000u + (uint32_t)i);
        rc = zsock_hosts_add(name, SA(x), sizeof(x));
        if (rc != 0) {
            break;
        }
        added++;
    }
    assert_int_equal(rc, -ENOSPC);
    assert_true(added >= CONFIG_DNS_RESOLVER_HOSTS_MAX - 2);
    assert_int_equal(zsock_hosts_remove("full0.test"), 0);
    assert_int_equal(zsock_hosts_add("again.test", SA(a), sizeof(a)), 0);
    assert_int_equal(zsock_hosts_remove("again.test"), 0);
    for (int i = 1; i < added; i++) {
        char name[32];
        snprintf(name, sizeof(name), "full%d.test", i);
        assert_int_equal(zsock_hosts_remove(name), 0);
    }
}

static void test_hosts_lookup(void **state)
{
    (void)state;
    static const struct zrec rr[] = {
        {"box.test", T_A, 300, "6.6.6.6"},
        {"dnsonly.test", T_A, 300, "192.0.2.90"},
    };
    static const struct zone z = {.rr = rr, .n = 2};
    srv_set(&srv_a, zone_handler, &z);
    struct sockaddr_in a = v4("10.0.0.1"), b = v4("10.0.0.2");
    struct sockaddr_in6 c = v6("2001:db8::5");
    assert_int_equal(zsock_hosts_add("box.test", SA(a), sizeof(a)), 0);
    assert_int_equal(zsock_hosts_add("box.test", SA(b), sizeof(b)), 0);
    assert_int_equal(zsock_hosts_add("box.test", SA(c), sizeof(c)), 0);
    struct res r;

    /* The table wins over DNS and asks nobody. */
    assert_int_equal(lookup("box.test", AF_INET, AI_CANONNAME, &r), 0);
    expect_addrs(&r, "10.0.0.1", "10.0.0.2", NULL);
    assert_string_equal(r.canon, "box.test");
    assert_int_equal(lookup("box.test", AF_INET6, 0, &r), 0);
    expect_addrs(&r, "2001:db8::5", NULL);
    assert_int_equal(lookup("box.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "10.0.0.1", "10.0.0.2", "2001:db8::5", NULL);
    assert_int_equal(lookup("localhost", AF_INET6, 0, &r), 0);
    expect_addrs(&r, "::1", NULL);
    /* Entered IPv6 first, returned IPv4 first (RFC 6724 with no IPv6 source). */
    struct sockaddr_in d = v4("10.0.0.7");
    struct sockaddr_in6 e = v6("2001:db8::7");
    assert_int_equal(zsock_hosts_add("v6first.test", SA(e), sizeof(e)), 0);
    assert_int_equal(zsock_hosts_add("v6first.test", SA(d), sizeof(d)), 0);
    assert_int_equal(lookup("v6first.test", AF_UNSPEC, 0, &r), 0);
    expect_addrs(&r, "10.0.0.7", "2001:db8::7", NULL);
    assert_int_equal(zsock_hosts_remove("v6first.test"), 0);
    assert_int_equal(srv_nq(&srv_a), 0);
    assert_int_equal(stats_delta().queries, 0);

    /* Without servers the table still answers. */
    assert_int_equal(zsock_dns_set_servers(NULL), 0);
    assert_int_equal(lookup("box.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "10.0.0.1", "10.0.0.2", NULL);
    assert_int_equal(lookup("dnsonly.test", AF_INET, 0, &r), EAI_AGAIN);

    /* Removed: DNS again. */
    assert_int_equal(zsock_dns_set_servers("127.0.0.1:5301"), 0);
    assert_int_equal(zsock_hosts_remove("box.test"), 0);
    assert_int_equal(lookup("box.test", AF_INET, 0, &r), 0);
    expect_addrs(&r, "6.6.6.6", NULL);
    assert_int_equal(srv_nq(&srv_a), 1);
}

/* ---- names that cannot be asked -------------------------------------------------------------- */

static void test_bad_names(void **state)
{
    (void)state;
    char label64[80], label63[80], n254[300], n253[300];
    memset(label64, 'x', 64);
    strcpy(label64 + 64, ".test");
    memset(label63, 'x', 63);
    strcpy(label63 + 63, ".test");
    /* 4 labels of 62 + dots = 251, then ".t" / ".tu": 253 and 254 characters. */
    n253[0] = '\0';
    for (int i = 0; i < 4; i++) {
        char l[64];
        memset(l, 'a' + i, 62);
        l[62] = '\0';
        strcat(n253, l);
        strcat(n253, i < 3 ? "." : "");
    }
    strcpy(n254, n253);
    strcat(n253, ".t");
    strcat(n254, ".tu");
    assert_int_equal(strlen(n253), 253);
    assert_int_equal(strlen(n254), 254);

    struct res r;
    const char *bad[] = {"a..b.test", ".a.test", label64, n254};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = lookup(bad[i], AF_INET, 0, &r);
        if (rc != EAI_NONAME) {
            fail_msg("\"%.20s...\" gave %d, EAI_NONAME expected", bad[i], rc);
        }
    }
    assert_int_equal(srv_nq(&srv_a), 0);
    assert_int_equal(stats_delta().queries, 0);

    /* The longest label and the longest name are asked (and do not exist). */
    assert_int_equal(lookup(label63, AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(lookup(n253, AF_INET, 0, &r), EAI_NONAME);
    assert_int_equal(srv_nq(&srv_a), 2);
    assert_string_equal(srv_q(&srv_a, 0).name, label63);
    assert_string_equal(srv_q(&srv_a, 1).name, n253);
}

/* ---- main ------------------------------------------------------------------------------------ */

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_servers_api),
        T(test_options_api),
        T(test_a_basic),
        T(test_compression_and_case),
        T(test_cname_chains),
        T(test_cname_loops),
        T(test_cname_chase),
        T(test_nxdomain),
        T(test_negative_ttl),
        T(test_nodata),
        T(test_rcodes),
        T(test_timeout_rounds),
        T(test_port_unreachable),
        T(test_no_servers),
        T(test_spoofed_answers),
        T(test_truncated_tcp),
        T(test_aaaa_dropped),
        T(test_many_records),
        T(test_aaaa),
        T(test_unrelated_records),
        T(test_addrconfig),
        T(test_cache_ttl),
        T(test_cache_chase_ttl),
        T(test_cache_control),
        T(test_query_randomness),
        T(test_threads),
        T(test_getnameinfo_ptr),
        T(test_hosts_api),
        T(test_hosts_lookup),
        T(test_bad_names),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
