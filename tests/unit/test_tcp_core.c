/* The TCP connection core (net/tcp.c) under a virtual clock: two connections
 * joined by a scripted link (delay, loss, reordering, duplication) that logs
 * every segment, checked against RFC 9293, 5961, 6298, 5681/6582 and 7323. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit/test_util.h"
#include "net/tcp.h"
#include <zsock/config.h>
#include "wire/wire.h"

#define MS  1000LL
#define SEC 1000000LL

#define ADDR_A 0xc0000201u
#define ADDR_B 0xc0000202u
#define PORT_A 40000
#define PORT_B 80

/* ---- the harness --------------------------------------------------------------- */

/* What the core was doing when it sent a segment. */
enum cause { CAUSE_APP, CAUSE_INPUT, CAUSE_TIMER, CAUSE_GLUE };

struct logent {
    int64_t t;
    enum cause cause;
    uint8_t flags;
    uint32_t seq, ack;
    uint32_t len;
    uint16_t window;
    struct z_tcp_opts opts;
    enum z_tcp_state state; /* the sender's state as it sent */
};

enum fate { PASS, DROP, DUP };

/* What happens to one segment on the link: PASS delivers it after the
 * one-way delay plus `extra`; DUP also delivers a copy `dup_extra` later. */
struct verdict {
    enum fate fate;
    int64_t extra;
    int64_t dup_extra;
};

struct rule {
    int side;
    size_t idx; /* index in that side's log */
    struct verdict v;
};

struct inflight {
    int64_t at;
    uint64_t order;
    int to;
    size_t len;
    uint8_t *buf;
};

struct side {
    struct z_tcp_conn c;
    int id;
    bool inited, listen, accepted;
    bool cut; /* the link drops everything this side sends */
    struct logent *log;
    size_t nlog, caplog;
    int nnotify;
    /* right edge of the window the peer advertised, from segments delivered */
    uint32_t edge;
    bool edge_valid;
    struct {
        enum z_tcp_state st;
        int64_t t;
    } trans[128];
    size_t ntrans;
    /* contract and RFC checks made on every segment sent */
    int window_violations, ack_missing, ts_violations, ring_violations, seq_violations;
    char first_violation[256];
    int dupack_run; /* duplicate ACKs (RFC 5681) in a row delivered to this side */
    uint32_t flight_before, cwnd_before;
    int64_t last_timer_at;
    int same_time_timers;
};

typedef struct verdict (*filter_fn)(int from, size_t idx, const struct logent *e);

static struct {
    int64_t now, delay;
    struct side s[2];
    struct inflight *q;
    size_t nq, capq;
    uint64_t order;
    struct rule rules[64];
    size_t nrules;
    filter_fn filter;
    void (*after)(void);
    enum cause cause;
    uint64_t events;
    uint64_t sent[2], rcvd[2]; /* pattern offsets of each direction, by sender */
    bool no_pair_check;        /* garbage was injected: skip check_pair_sequences */
} H;

#define SA (&H.s[0])
#define SB (&H.s[1])
#define CA (&H.s[0].c)
#define CB (&H.s[1].c)

#define assert_between(v, lo, hi)                                                                  \
    do {                                                                                           \
        long long v_ = (long long)(v), lo_ = (long long)(lo), hi_ = (long long)(hi);               \
        if (v_ < lo_ || v_ > hi_) {                                                                \
            fail_msg("%s = %lld, not in [%lld, %lld]", #v, v_, lo_, hi_);                          \
        }                                                                                          \
    } while (0)

static uint32_t addr_of(int i)
{
    return i == 0 ? ADDR_A : ADDR_B;
}

static uint16_t port_of(int i)
{
    return i == 0 ? PORT_A : PORT_B;
}

static char name_of(int i)
{
    return i == 0 ? 'A' : 'B';
}

static uint8_t pat(uint64_t off, int sender)
{
    uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ULL + (uint64_t)(sender + 1) * 0x632be59bd9b4e019ULL;
    x ^= x >> 29;
    return (uint8_t)(x >> 24);
}

static size_t opt_len(const struct z_tcp_opts *o)
{
    return z_tcp_hdr_len(o) - Z_TCP_HLEN;
}

static void violation(struct side *s, int *counter, const char *fmt, ...)
{
    (*counter)++;
    if (s->first_violation[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->first_violation, sizeof(s->first_violation), fmt, ap);
        va_end(ap);
    }
}

static void record_states(void)
{
    for (int i = 0; i < 2; i++) {
        struct side *s = &H.s[i];
        if (!s->inited) {
            continue;
        }
        if (s->ntrans == 0 || s->trans[s->ntrans - 1].st != s->c.state) {
            assert_true(s->ntrans < 128);
            s->trans[s->ntrans].st = s->c.state;
            s->trans[s->ntrans].t = H.now;
            s->ntrans++;
        }
    }
}

static void enqueue(int to, const uint8_t *buf, size_t len, int64_t at)
{
    if (H.nq == H.capq) {
        H.capq = H.capq ? 2 * H.capq : 64;
        H.q = realloc(H.q, H.capq * sizeof(*H.q));
        assert_non_null(H.q);
    }
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    H.q[H.nq++] =
        (struct inflight){.at = at, .order = H.order++, .to = to, .len = len, .buf = copy};
}

static struct verdict judge(struct side *s, size_t idx, const struct logent *e)
{
    struct verdict v = {PASS, 0, 0};
    if (s->cut) {
        v.fate = DROP;
        return v;
    }
    for (size_t i = 0; i < H.nrules; i++) {
        if (H.rules[i].side == s->id && H.rules[i].idx == idx) {
            return H.rules[i].v;
        }
    }
    if (H.filter) {
        v = H.filter(s->id, idx, e);
    }
    return v;
}

static void add_rule(int side, size_t idx, enum fate fate, int64_t extra, int64_t dup_extra)
{
    assert_true(H.nrules < 64);
    H.rules[H.nrules++] = (struct rule){side, idx, {fate, extra, dup_extra}};
}

/* Put a segment from side s on the link, through the real wire encoder. */
static void wire_send(struct side *s, const struct z_tcp_hdr *h, const uint8_t *payload, size_t len,
                      enum cause cause)
{
    struct z_tcp_hdr hh = *h;
    hh.sport = port_of(s->id);
    hh.dport = port_of(!s->id);
    size_t hl = z_tcp_hdr_len(&hh.opts);
    uint8_t *buf = malloc(hl + len + 1);
    assert_non_null(buf);
    if (len) {
        memcpy(buf + hl, payload, len);
    }
    int rc = z_tcp_emit(buf, hl + len, addr_of(s->id), addr_of(!s->id), &hh, len);
    if (rc != (int)hl) {
        free(buf);
        fail_msg("%c: z_tcp_emit of a core segment failed: %d", name_of(s->id), rc);
    }
    if (s->nlog == s->caplog) {
        s->caplog = s->caplog ? 2 * s->caplog : 256;
        s->log = realloc(s->log, s->caplog * sizeof(*s->log));
        assert_non_null(s->log);
    }
    struct logent *e = &s->log[s->nlog++];
    *e = (struct logent){.t = H.now,
                         .cause = cause,
                         .flags = h->flags,
                         .seq = h->seq,
                         .ack = h->ack,
                         .len = (uint32_t)len,
                         .window = h->window,
                         .opts = h->opts,
                         .state = s->c.state};
    struct verdict v = judge(s, s->nlog - 1, e);
    if (v.fate != DROP) {
        enqueue(!s->id, buf, hl + len, H.now + H.delay + v.extra);
    }
    if (v.fate == DUP) {
        enqueue(!s->id, buf, hl + len, H.now + H.delay + v.extra + v.dup_extra);
    }
    free(buf);
}

static bool big_fails; /* xmit refuses packets above the MSS, as with no buffer for them */

static int xmit(struct z_tcp_conn *c, const struct z_tcp_hdr *h, size_t off, size_t len)
{
    struct side *s = c->ctx;
    static uint8_t payload[1 << 17];
    if (big_fails && len > c->mss) {
        return -ENOBUFS;
    }
    if (len > 0 && (off + len > c->snd.len || len > sizeof(payload))) {
        violation(s, &s->ring_violations, "%c sent off %zu len %zu with %zu bytes buffered",
                  name_of(s->id), off, len, c->snd.len);
        return -EIO;
    }
    if (len) {
        size_t got = z_ring_peek(&c->snd, off, payload, len);
        assert_int_equal(got, len);
    }
    /* Data is taken from snd_una on: its sequence number must match. */
    if (len > 0 && !(h->flags & Z_TCP_SYN) && Z_SEQ_GT(c->snd_una, c->iss) &&
        h->seq != c->snd_una + (uint32_t)off) {
        violation(s, &s->seq_violations, "%c sent seq %u for off %zu, snd_una %u", name_of(s->id),
                  h->seq, off, c->snd_una);
    }
    /* RFC 9293 3.10.7: outside SYN and RST every segment carries ACK. */
    if (!(h->flags & (Z_TCP_SYN | Z_TCP_RST)) && !(h->flags & Z_TCP_ACK)) {
        violation(s, &s->ack_missing, "%c sent flags %#x without ACK", name_of(s->id), h->flags);
    }
    /* RFC 7323 3.2: timestamps on every non-RST segment once negotiated,
     * never without. */
    if (!(h->flags & (Z_TCP_SYN | Z_TCP_RST))) {
        bool has = (h->opts.present & Z_TCPOPT_TS) != 0;
        if (has != c->ts_ok) {
            violation(s, &s->ts_violations, "%c sent flags %#x ts %d with ts_ok %d", name_of(s->id),
                      h->flags, has, c->ts_ok);
        }
    }
    /* Never send data beyond the window the peer offered; a probe may carry
     * one byte past a closed window. */
    if (len > 0 && s->edge_valid && Z_SEQ_GT(h->seq + (uint32_t)len, s->edge) &&
        !(len == 1 && h->seq == s->edge)) {
        violation(s, &s->window_violations, "%c sent [%u, %u) beyond the offered edge %u",
                  name_of(s->id), h->seq, h->seq + (uint32_t)len, s->edge);
    }
    wire_send(s, h, payload, len, H.cause);
    return 0;
}

static void notify(struct z_tcp_conn *c)
{
    struct side *s = c->ctx;
    s->nnotify++;
}

static const struct z_tcp_ops ops = {.xmit = xmit, .notify = notify};

/* What the glue does for a segment no connection takes. */
static void glue_reset(struct side *s, const struct z_tcp_hdr *h, size_t plen)
{
    struct z_tcp_hdr out;
    memset(&out, 0, sizeof(out));
    if (z_tcp_reset_reply(h, plen, &out)) {
        wire_send(s, &out, NULL, 0, CAUSE_GLUE);
    }
}

/* Hand a parsed segment to side s as the glue would. */
static void dispatch(struct side *s, const struct z_tcp_hdr *h, const uint8_t *pl, size_t plen)
{
    struct side *from = &H.s[!s->id];
    if ((h->flags & Z_TCP_ACK) && !(h->flags & Z_TCP_RST)) {
        unsigned shift = 0;
        if (!(h->flags & Z_TCP_SYN) && from->inited && from->c.ws_ok) {
            shift = from->c.rcv_wscale;
        }
        uint32_t e = h->ack + ((uint32_t)h->window << shift);
        if (!s->edge_valid || Z_SEQ_GT(e, s->edge)) {
            s->edge = e;
            s->edge_valid = true;
        }
        /* RFC 5681 2: a duplicate ACK acknowledges nothing new, carries
         * nothing, and leaves the window as it was. */
        uint32_t wnd = (uint32_t)h->window << (s->c.ws_ok ? s->c.snd_wscale : 0);
        if (Z_SEQ_GT(h->ack, s->c.snd_una)) {
            s->dupack_run = 0;
        } else if (plen == 0 && !(h->flags & (Z_TCP_SYN | Z_TCP_FIN)) && h->ack == s->c.snd_una &&
                   s->c.snd_max != s->c.snd_una && s->c.state >= Z_TCP_ESTABLISHED &&
                   wnd == s->c.snd_wnd) {
            s->dupack_run++;
        }
    }
    s->flight_before = s->c.snd_max - s->c.snd_una;
    s->cwnd_before = s->c.cwnd;
    H.cause = CAUSE_INPUT;
    if (s->c.state == Z_TCP_CLOSED) {
        if (s->listen && !s->accepted &&
            (h->flags & (Z_TCP_SYN | Z_TCP_ACK | Z_TCP_RST)) == Z_TCP_SYN) {
            s->accepted = true;
            assert_int_equal(z_tcp_accept_syn(&s->c, h, H.now), 0);
        } else {
            glue_reset(s, h, plen);
        }
    } else {
        z_tcp_input(&s->c, h, pl, plen, H.now);
    }
    record_states();
}

static void deliver(const struct inflight *f)
{
    struct side *s = &H.s[f->to];
    struct z_tcp_hdr h;
    int hl = z_tcp_parse(f->buf, f->len, addr_of(!f->to), addr_of(f->to), &h);
    if (hl < Z_TCP_HLEN) {
        fail_msg("segment to %c does not parse: %d", name_of(f->to), hl);
    }
    dispatch(s, &h, f->buf + hl, f->len - (size_t)hl);
}

/* A hand-made segment to side `to`, through the wire encoder and parser; it
 * carries a timestamp the target accepts when the target uses them, as
 * RFC 7323 3.2 lets a receiver drop non-RST segments without one. */
static void inject(int to, const struct z_tcp_hdr *h, const uint8_t *payload, size_t len)
{
    struct z_tcp_hdr hh = *h;
    hh.sport = port_of(!to);
    hh.dport = port_of(to);
    const struct z_tcp_conn *c = &H.s[to].c;
    if (c->ts_ok && !(hh.flags & Z_TCP_RST) && !(hh.opts.present & Z_TCPOPT_TS)) {
        hh.opts.present |= Z_TCPOPT_TS;
        hh.opts.ts_val = c->ts_recent;
        hh.opts.ts_ecr = 0;
    }
    size_t hl = z_tcp_hdr_len(&hh.opts);
    uint8_t buf[Z_TCP_MAX_HLEN + 4096];
    assert_true(len <= 4096);
    if (len) {
        memcpy(buf + hl, payload, len);
    }
    assert_int_equal(z_tcp_emit(buf, sizeof(buf), addr_of(!to), addr_of(to), &hh, len), (int)hl);
    struct inflight f = {.at = H.now, .to = to, .len = hl + len, .buf = buf};
    deliver(&f);
}

static int64_t deadline_of(int i)
{
    return H.s[i].inited ? z_tcp_next_deadline(&H.s[i].c) : INT64_MAX;
}

static void fire_timer(int i)
{
    struct side *s = &H.s[i];
    if (s->last_timer_at == H.now) {
        if (++s->same_time_timers > 1000) {
            fail_msg("%c: z_tcp_next_deadline stays at %lld after z_tcp_timer (state %s)",
                     name_of(i), (long long)z_tcp_next_deadline(&s->c),
                     z_tcp_state_name(s->c.state));
        }
    } else {
        s->last_timer_at = H.now;
        s->same_time_timers = 0;
    }
    s->flight_before = s->c.snd_max - s->c.snd_una;
    s->cwnd_before = s->c.cwnd;
    H.cause = CAUSE_TIMER;
    z_tcp_timer(&s->c, H.now);
    record_states();
}

/* Neither side can have accepted sequence numbers the other never sent:
 * checked while the two are a real pair (not a hand-made peer, not garbage). */
static void check_pair_sequences(void)
{
    if (H.no_pair_check) {
        return;
    }
    for (int i = 0; i < 2; i++) {
        const struct z_tcp_conn *r = &H.s[i].c, *x = &H.s[!i].c;
        if (!H.s[0].inited || !H.s[1].inited || r->state < Z_TCP_ESTABLISHED ||
            x->state < Z_TCP_SYN_SENT || r->irs != x->iss) {
            continue;
        }
        if (Z_SEQ_GT(r->rcv_nxt, x->snd_max)) {
            fail_msg("%c accepted sequence numbers up to %u, but %c never sent beyond %u "
                     "(snd_una %u snd_nxt %u)",
                     name_of(i), r->rcv_nxt, name_of(!i), x->snd_max, x->snd_una, x->snd_nxt);
        }
    }
}

/* Run the next event (segment arrival or timer) due at or before `limit`.
 * Arrivals go before timers due at the same time. */
static bool step(int64_t limit)
{
    size_t qi = SIZE_MAX;
    for (size_t i = 0; i < H.nq; i++) {
        if (qi == SIZE_MAX || H.q[i].at < H.q[qi].at ||
            (H.q[i].at == H.q[qi].at && H.q[i].order < H.q[qi].order)) {
            qi = i;
        }
    }
    int64_t next = qi == SIZE_MAX ? INT64_MAX : H.q[qi].at;
    int who = -1;
    for (int i = 0; i < 2; i++) {
        int64_t d = deadline_of(i);
        if (d < next) {
            next = d;
            who = i;
        }
    }
    if (next == INT64_MAX || next > limit) {
        return false;
    }
    if (++H.events > 20000000) {
        fail_msg("more than 20M events: the connections never go quiet");
    }
    if (next > H.now) {
        H.now = next;
    }
    if (who < 0) {
        struct inflight f = H.q[qi];
        H.q[qi] = H.q[--H.nq];
        deliver(&f);
        free(f.buf);
    } else {
        fire_timer(who);
    }
    check_pair_sequences();
    if (H.after) {
        H.after();
    }
    return true;
}

static void run_until(int64_t t)
{
    while (step(t)) {
    }
    if (t > H.now) {
        H.now = t;
    }
}

static void run_for(int64_t d)
{
    run_until(H.now + d);
}

/* ---- application calls ------------------------------------------------------------ */

static ssize_t app_send(int i, const void *p, size_t n)
{
    struct iovec v = {.iov_base = (void *)p, .iov_len = n};
    struct z_iov_iter it;
    z_iov_iter_init(&it, &v, 1);
    H.cause = CAUSE_APP;
    ssize_t r = z_tcp_send(&H.s[i].c, &it, n, H.now);
    record_states();
    return r;
}

static size_t app_recv(int i, void *p, size_t n, bool peek)
{
    struct iovec v = {.iov_base = p, .iov_len = n};
    struct z_iov_iter it;
    z_iov_iter_init(&it, &v, 1);
    H.cause = CAUSE_APP;
    size_t r = z_tcp_recv(&H.s[i].c, &it, n, peek, H.now);
    record_states();
    return r;
}

static void app_shutdown(int i)
{
    H.cause = CAUSE_APP;
    z_tcp_shutdown_wr(&H.s[i].c, H.now);
    record_states();
}

static void app_abort(int i)
{
    H.cause = CAUSE_APP;
    z_tcp_abort(&H.s[i].c, H.now);
    record_states();
}

static void app_connect(void)
{
    H.cause = CAUSE_APP;
    assert_int_equal(z_tcp_connect(CA, H.now), 0);
    record_states();
}

/* Queue up to n pattern bytes from side i; returns the bytes taken. */
static size_t send_some(int i, size_t n)
{
    static uint8_t buf[1 << 17];
    if (n > sizeof(buf)) {
        n = sizeof(buf);
    }
    for (size_t k = 0; k < n; k++) {
        buf[k] = pat(H.sent[i] + k, i);
    }
    ssize_t r = app_send(i, buf, n);
    if (r < 0) {
        fail_msg("%c: z_tcp_send: %zd in state %s", name_of(i), r,
                 z_tcp_state_name(H.s[i].c.state));
    }
    assert_true((size_t)r <= n);
    H.sent[i] += (uint64_t)r;
    return (size_t)r;
}

/* Queue n bytes from side i, letting time run while the buffer is full. */
static void send_all(int i, size_t n)
{
    int64_t end = H.now + 600 * SEC;
    while (n > 0) {
        size_t r = send_some(i, n);
        n -= r;
        if (n > 0) {
            if (H.now > end) {
                fail_msg("%c: send buffer never drains", name_of(i));
            }
            run_for(MS);
        }
    }
}

/* Side i reads up to max bytes and checks them against the peer's pattern. */
static size_t recv_check(int i, size_t max)
{
    static uint8_t buf[1 << 17];
    if (max > sizeof(buf)) {
        max = sizeof(buf);
    }
    size_t n = app_recv(i, buf, max, false);
    assert_true(n <= max);
    int from = !i;
    for (size_t k = 0; k < n; k++) {
        if (buf[k] != pat(H.rcvd[from] + k, from)) {
            fail_msg("%c read byte %llu of the stream as %u, sent %u", name_of(i),
                     (unsigned long long)(H.rcvd[from] + k), buf[k], pat(H.rcvd[from] + k, from));
        }
    }
    H.rcvd[from] += n;
    return n;
}

/* Both sides write and read random sizes each millisecond until a_add bytes
 * went A to B and b_add bytes B to A, within `limit`. */
static void pump(size_t a_add, size_t b_add, size_t max_io, int64_t limit)
{
    uint64_t ta = H.sent[0] + a_add, tb = H.sent[1] + b_add;
    int64_t end = H.now + limit;
    while (H.rcvd[0] < ta || H.rcvd[1] < tb) {
        if (H.sent[0] < ta) {
            uint64_t left = ta - H.sent[0];
            size_t n = 1 + rng_below((uint32_t)max_io);
            send_some(0, n < left ? n : (size_t)left);
        }
        if (H.sent[1] < tb) {
            uint64_t left = tb - H.sent[1];
            size_t n = 1 + rng_below((uint32_t)max_io);
            send_some(1, n < left ? n : (size_t)left);
        }
        recv_check(1, 1 + rng_below((uint32_t)max_io));
        recv_check(0, 1 + rng_below((uint32_t)max_io));
        if (H.now > end) {
            fail_msg("transfer stalled: A->B %llu/%llu read, B->A %llu/%llu read; A %s una %u "
                     "nxt %u wnd %u, B %s una %u nxt %u wnd %u",
                     (unsigned long long)H.rcvd[0], (unsigned long long)ta,
                     (unsigned long long)H.rcvd[1], (unsigned long long)tb,
                     z_tcp_state_name(CA->state), CA->snd_una, CA->snd_nxt, CA->snd_wnd,
                     z_tcp_state_name(CB->state), CB->snd_una, CB->snd_nxt, CB->snd_wnd);
        }
        run_for(MS);
    }
    assert_int_equal(H.rcvd[0], ta);
    assert_int_equal(H.rcvd[1], tb);
}

/* A sends n bytes, B answers n bytes the moment they all arrive, A reads. */
static void exchange(size_t n)
{
    int64_t limit = H.now + 3600 * SEC;
    assert_int_equal(send_some(0, n), n);
    while (z_tcp_readable(CB) < n) {
        assert_true(step(limit));
    }
    assert_int_equal(recv_check(1, n), n);
    assert_int_equal(send_some(1, n), n);
    while (z_tcp_readable(CA) < n) {
        assert_true(step(limit));
    }
    assert_int_equal(recv_check(0, n), n);
}

/* ---- setup ---------------------------------------------------------------------------- */

static struct z_tcp_config cfg_default(uint32_t isn)
{
    return (struct z_tcp_config){.snd_buf = 65536,
                                 .rcv_buf = 65536,
                                 .mss = 1460,
                                 .nodelay = false,
                                 .isn = isn,
                                 .time_wait_us = 2 * SEC,
                                 .max_retries = 6,
                                 .syn_retries = 4,
                                 .sack = true};
}

#define ISN_A 0x10000000u
#define ISN_B 0x80000000u

static void side_init(int i, const struct z_tcp_config *cfg)
{
    struct side *s = &H.s[i];
    s->id = i;
    s->last_timer_at = INT64_MIN;
    assert_int_equal(z_tcp_init(&s->c, &ops, s, cfg), 0);
    s->inited = true;
    assert_int_equal(s->c.state, Z_TCP_CLOSED);
    record_states();
}

static void pair(const struct z_tcp_config *a, const struct z_tcp_config *b)
{
    side_init(0, a);
    side_init(1, b);
    SB->listen = true;
}

static void pair_default(void)
{
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    pair(&a, &b);
}

static void harness_free(void)
{
    for (int i = 0; i < 2; i++) {
        if (H.s[i].inited) {
            z_tcp_free(&H.s[i].c);
        }
        free(H.s[i].log);
    }
    for (size_t i = 0; i < H.nq; i++) {
        free(H.q[i].buf);
    }
    free(H.q);
}

static void harness_reset(void)
{
    memset(&H, 0, sizeof(H));
    H.now = 1000 * SEC; /* an arbitrary origin: 0 means "not armed" to the core */
    H.delay = 10 * MS;
}

static int setup(void **state)
{
    (void)state;
    harness_reset();
    rng_seed(0x7c9a11);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_free();
    memset(&H, 0, sizeof(H));
    return 0;
}

/* Connect A to the listening B and run until both are established. */
static void handshake(void)
{
    app_connect();
    assert_int_equal(CA->state, Z_TCP_SYN_SENT);
    int64_t limit = H.now + 60 * SEC;
    while (!(CA->state == Z_TCP_ESTABLISHED && CB->state == Z_TCP_ESTABLISHED)) {
        if (!step(limit)) {
            fail_msg("no handshake: A %s, B %s", z_tcp_state_name(CA->state),
                     z_tcp_state_name(CB->state));
        }
    }
}

static void check_invariants(void)
{
    for (int i = 0; i < 2; i++) {
        struct side *s = &H.s[i];
        if (s->first_violation[0]) {
            print_message("%c: first violation: %s\n", name_of(i), s->first_violation);
        }
        assert_int_equal(s->ring_violations, 0);
        assert_int_equal(s->seq_violations, 0);
        assert_int_equal(s->ack_missing, 0);
        assert_int_equal(s->ts_violations, 0);
        assert_int_equal(s->window_violations, 0);
    }
}

static void expect_states(int i, int n, ...)
{
    struct side *s = &H.s[i];
    va_list ap;
    va_start(ap, n);
    char got[512] = "", want[512] = "";
    bool ok = (size_t)n == s->ntrans;
    for (int k = 0; k < n; k++) {
        enum z_tcp_state st = (enum z_tcp_state)va_arg(ap, int);
        snprintf(want + strlen(want), sizeof(want) - strlen(want), " %s", z_tcp_state_name(st));
        if ((size_t)k < s->ntrans && s->trans[k].st != st) {
            ok = false;
        }
    }
    va_end(ap);
    for (size_t k = 0; k < s->ntrans; k++) {
        snprintf(got + strlen(got), sizeof(got) - strlen(got), " %s",
                 z_tcp_state_name(s->trans[k].st));
    }
    if (!ok) {
        fail_msg("%c went through%s, expected%s", name_of(i), got, want);
    }
}

/* When side i entered state st (the last time), or -1. */
static int64_t entered(int i, enum z_tcp_state st)
{
    struct side *s = &H.s[i];
    for (size_t k = s->ntrans; k-- > 0;) {
        if (s->trans[k].st == st) {
            return s->trans[k].t;
        }
    }
    return -1;
}

static const struct logent *last_log(int i)
{
    assert_true(H.s[i].nlog > 0);
    return &H.s[i].log[H.s[i].nlog - 1];
}

/* Largest payload side i sent from log index `from` on. */
static uint32_t max_payload(int i, size_t from)
{
    uint32_t m = 0;
    for (size_t k = from; k < H.s[i].nlog; k++) {
        if (H.s[i].log[k].len > m) {
            m = H.s[i].log[k].len;
        }
    }
    return m;
}

/* Send 64 KiB A to B to open cwnd and learn the largest payload A uses, then
 * let everything settle. */
static uint32_t warm_up(void)
{
    size_t mark = SA->nlog;
    pump(65536, 0, 16384, 30 * SEC);
    run_for(2 * SEC);
    uint32_t eff = max_payload(0, mark);
    assert_true(eff > 0);
    return eff;
}

/* The default pair, connected and quiet for a second: returns B's log mark. */
static size_t established_quiet(void)
{
    pair_default();
    handshake();
    run_for(SEC);
    return SB->nlog;
}

/* B answered one injected segment with a bare challenge ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT> and kept the connection. */
static void assert_challenge_ack(size_t mark)
{
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CB->error, 0);
    assert_int_equal(SB->nlog, mark + 1);
    const struct logent *e = last_log(1);
    assert_int_equal(e->flags & (Z_TCP_ACK | Z_TCP_RST | Z_TCP_SYN | Z_TCP_FIN), Z_TCP_ACK);
    assert_int_equal(e->seq, CB->snd_nxt);
    assert_int_equal(e->ack, CB->rcv_nxt);
}

static struct z_tcp_hdr mkhdr(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t window)
{
    struct z_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.flags = flags;
    h.seq = seq;
    h.ack = ack;
    h.window = window;
    h.hlen = Z_TCP_HLEN;
    return h;
}

/* ---- handshake and options --------------------------------------------------------- */

static void test_handshake(void **state)
{
    (void)state;
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    a.rcv_buf = b.rcv_buf = 262144;
    pair(&a, &b);
    int na = SA->nnotify;
    int64_t t0 = H.now;
    app_connect();
    assert_int_equal(CA->state, Z_TCP_SYN_SENT);
    assert_int_equal(CA->iss, ISN_A);
    assert_int_equal(SA->nlog, 1);
    const struct logent syn = SA->log[0];
    assert_int_equal(syn.flags, Z_TCP_SYN);
    assert_int_equal(syn.seq, ISN_A);
    assert_int_equal(syn.len, 0);
    assert_true(syn.window > 0);
    assert_true(syn.opts.present & Z_TCPOPT_MSS);
    assert_int_equal(syn.opts.mss, 1460);
    assert_int_equal(syn.opts.present & Z_TCPOPT_SACK, 0);
    if (syn.opts.present & Z_TCPOPT_WSCALE) {
        /* A shift that lets the whole buffer be offered, within RFC 7323's 14. */
        assert_true(syn.opts.wscale <= 14);
        assert_true((262144u >> syn.opts.wscale) <= 65535);
    }

    run_until(t0 + H.delay);
    assert_int_equal(CB->state, Z_TCP_SYN_RCVD);
    assert_int_equal(SB->nlog, 1);
    const struct logent sa = SB->log[0];
    assert_int_equal(sa.flags, Z_TCP_SYN | Z_TCP_ACK);
    assert_int_equal(sa.seq, ISN_B);
    assert_int_equal(sa.ack, ISN_A + 1);
    assert_int_equal(sa.t, t0 + H.delay);
    assert_true(sa.opts.present & Z_TCPOPT_MSS);
    assert_int_equal(sa.opts.mss, 1460);
    /* RFC 7323 2.2, 3.2; RFC 2018: answered only when offered, and both
     * ends run this core, so offered means answered. */
    const uint8_t negotiable = Z_TCPOPT_WSCALE | Z_TCPOPT_TS | Z_TCPOPT_SACK_PERM;
    assert_int_equal(sa.opts.present & negotiable, syn.opts.present & negotiable);
    if (sa.opts.present & Z_TCPOPT_WSCALE) {
        assert_true(sa.opts.wscale <= 14);
        assert_true((262144u >> sa.opts.wscale) <= 65535);
    }
    if (sa.opts.present & Z_TCPOPT_TS) {
        assert_int_equal(sa.opts.ts_ecr, syn.opts.ts_val);
    }

    run_until(t0 + 2 * H.delay);
    assert_int_equal(CA->state, Z_TCP_ESTABLISHED);
    assert_true(SA->nnotify > na);
    assert_int_equal(SA->nlog, 2);
    const struct logent ack = SA->log[1];
    assert_int_equal(ack.flags & (Z_TCP_SYN | Z_TCP_FIN | Z_TCP_RST | Z_TCP_ACK), Z_TCP_ACK);
    assert_int_equal(ack.seq, ISN_A + 1);
    assert_int_equal(ack.ack, ISN_B + 1);
    assert_int_equal(ack.len, 0);
    assert_int_equal(ack.t, t0 + 2 * H.delay);
    assert_int_equal(CA->irs, ISN_B);
    assert_int_equal(CA->rcv_nxt, ISN_B + 1);
    assert_int_equal(CA->snd_una, ISN_A + 1);
    assert_int_equal(CA->snd_nxt, ISN_A + 1);
    /* The window in a SYN is never scaled (RFC 7323 2.2). */
    assert_int_equal(CA->snd_wnd, sa.window);

    run_until(t0 + 3 * H.delay);
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CB->irs, ISN_A);
    assert_int_equal(CB->rcv_nxt, ISN_A + 1);
    assert_int_equal(CB->snd_una, ISN_B + 1);

    bool ws = (syn.opts.present & Z_TCPOPT_WSCALE) != 0;
    bool ts = (syn.opts.present & Z_TCPOPT_TS) != 0;
    /* Timestamps are offered exactly when compiled in. */
    assert_int_equal(ts, CONFIG_NET_TCP_TIMESTAMPS);
    bool sack = (syn.opts.present & Z_TCPOPT_SACK_PERM) != 0;
    assert_int_equal(CA->ws_ok, ws);
    assert_int_equal(CB->ws_ok, ws);
    assert_int_equal(CA->ts_ok, ts);
    assert_int_equal(CB->ts_ok, ts);
    assert_int_equal(CA->sack_ok, sack);
    assert_int_equal(CB->sack_ok, sack);
    if (ws) {
        assert_int_equal(CA->snd_wscale, sa.opts.wscale);
        assert_int_equal(CA->rcv_wscale, syn.opts.wscale);
        assert_int_equal(CB->snd_wscale, syn.opts.wscale);
        assert_int_equal(CB->rcv_wscale, sa.opts.wscale);
        assert_int_equal(CB->snd_wnd, (uint32_t)ack.window << syn.opts.wscale);
    } else {
        assert_int_equal(CB->snd_wnd, ack.window);
    }
    if (ts) {
        assert_true(ack.opts.present & Z_TCPOPT_TS);
        assert_int_equal(ack.opts.ts_ecr, sa.opts.ts_val);
    }
    /* mss is the payload per segment: 12 bytes go to the timestamp option */
    assert_int_equal(CA->mss, 1460 - (ts ? 12 : 0));
    assert_int_equal(CB->mss, 1460 - (ts ? 12 : 0));
    expect_states(0, 3, Z_TCP_CLOSED, Z_TCP_SYN_SENT, Z_TCP_ESTABLISHED);
    expect_states(1, 3, Z_TCP_CLOSED, Z_TCP_SYN_RCVD, Z_TCP_ESTABLISHED);
    assert_int_equal(CA->error, 0);
    assert_int_equal(CB->error, 0);
    check_invariants();
}

/* The peer answers with a SYN-ACK that has no options at all. */
static void test_synack_without_options(void **state)
{
    (void)state;
    pair_default();
    SA->cut = true;
    app_connect();
    const struct logent syn = SA->log[0];
    struct z_tcp_hdr h = mkhdr(Z_TCP_SYN | Z_TCP_ACK, 0x55550000u, ISN_A + 1, 8000);
    inject(0, &h, NULL, 0);
    assert_int_equal(CA->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CA->irs, 0x55550000u);
    assert_int_equal(CA->rcv_nxt, 0x55550001u);
    assert_false(CA->ws_ok);
    assert_false(CA->ts_ok);
    assert_false(CA->sack_ok);
    assert_int_equal(CA->snd_wscale, 0);
    assert_int_equal(CA->rcv_wscale, 0);
    /* RFC 9293 3.7.1: no MSS option means 536 for IPv4. */
    assert_int_equal(CA->mss, 536);
    assert_int_equal(CA->snd_wnd, 8000);
    const struct logent *ack = last_log(0);
    assert_int_equal(ack->flags & (Z_TCP_SYN | Z_TCP_ACK | Z_TCP_RST | Z_TCP_FIN), Z_TCP_ACK);
    assert_int_equal(ack->seq, ISN_A + 1);
    assert_int_equal(ack->ack, 0x55550001u);
    assert_int_equal(ack->opts.present & (Z_TCPOPT_TS | Z_TCPOPT_SACK | Z_TCPOPT_WSCALE), 0);
    /* Unscaled now: the window says what is free, not a shifted value. */
    if (syn.opts.present & Z_TCPOPT_WSCALE && syn.opts.wscale > 0) {
        assert_true(ack->window > (65536u >> 1));
    }
    /* Data goes out in segments of at most 536 bytes, with no options. */
    size_t mark = SA->nlog;
    send_some(0, 4000);
    run_for(5 * MS);
    assert_true(SA->nlog > mark);
    for (size_t k = mark; k < SA->nlog; k++) {
        assert_true(SA->log[k].len <= 536);
        assert_int_equal(SA->log[k].opts.present, 0);
        assert_true(SA->log[k].seq + SA->log[k].len <= ISN_A + 1 + 8000);
    }
    check_invariants();
}

/* A SYN with no options reaches the passive side. */
static void test_syn_without_options(void **state)
{
    (void)state;
    pair_default();
    SB->cut = true;
    struct z_tcp_hdr h = mkhdr(Z_TCP_SYN, 0x1234u, 0, 4000);
    inject(1, &h, NULL, 0);
    assert_int_equal(CB->state, Z_TCP_SYN_RCVD);
    const struct logent *sa = last_log(1);
    assert_int_equal(sa->flags, Z_TCP_SYN | Z_TCP_ACK);
    assert_int_equal(sa->ack, 0x1235u);
    assert_int_equal(sa->seq, ISN_B);
    assert_true(sa->opts.present & Z_TCPOPT_MSS);
    assert_int_equal(sa->opts.mss, 1460);
    assert_int_equal(sa->opts.present & (Z_TCPOPT_WSCALE | Z_TCPOPT_TS | Z_TCPOPT_SACK_PERM), 0);
    h = mkhdr(Z_TCP_ACK, 0x1235u, ISN_B + 1, 4000);
    inject(1, &h, NULL, 0);
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
    assert_false(CB->ws_ok);
    assert_false(CB->ts_ok);
    assert_false(CB->sack_ok);
    assert_int_equal(CB->mss, 536);
    assert_int_equal(CB->snd_wnd, 4000);
    assert_int_equal(CB->snd_wscale, 0);
    assert_int_equal(CB->rcv_wscale, 0);
    check_invariants();
}

/* A SYN offering timestamps: answered and used when they are compiled in;
 * without them (CONFIG_NET_TCP_TIMESTAMPS=OFF) the SYN-ACK carries none, the
 * connection opens without them and data flows with no timestamp option. */
static void test_syn_with_timestamps(void **state)
{
    (void)state;
    pair_default();
    SB->cut = true;
    struct z_tcp_hdr h = mkhdr(Z_TCP_SYN, 0x1234u, 0, 4000);
    h.opts.present |= Z_TCPOPT_TS;
    h.opts.ts_val = 0xabcd0001u;
    h.opts.ts_ecr = 0;
    inject(1, &h, NULL, 0);
    assert_int_equal(CB->state, Z_TCP_SYN_RCVD);
    const struct logent *sa = last_log(1);
    assert_int_equal(sa->flags, Z_TCP_SYN | Z_TCP_ACK);
    assert_int_equal(sa->ack, 0x1235u);
    if (CONFIG_NET_TCP_TIMESTAMPS) {
        assert_true(sa->opts.present & Z_TCPOPT_TS);
        assert_int_equal(sa->opts.ts_ecr, 0xabcd0001u);
    } else {
        assert_int_equal(sa->opts.present & Z_TCPOPT_TS, 0);
    }
    uint32_t sa_val = sa->opts.ts_val;
    h = mkhdr(Z_TCP_ACK, 0x1235u, ISN_B + 1, 4000);
    if (CONFIG_NET_TCP_TIMESTAMPS) {
        h.opts.present |= Z_TCPOPT_TS;
        h.opts.ts_val = 0xabcd0002u;
        h.opts.ts_ecr = sa_val;
    }
    inject(1, &h, NULL, 0);
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CB->ts_ok, CONFIG_NET_TCP_TIMESTAMPS);
    /* 12 bytes of each segment go to the option only when it is used. */
    assert_int_equal(CB->mss, 536 - (CONFIG_NET_TCP_TIMESTAMPS ? 12 : 0));
    size_t mark = SB->nlog;
    send_some(1, 1000);
    run_for(5 * MS);
    assert_true(SB->nlog > mark);
    for (size_t k = mark; k < SB->nlog; k++) {
        assert_int_equal((SB->log[k].opts.present & Z_TCPOPT_TS) != 0, CONFIG_NET_TCP_TIMESTAMPS);
    }
    check_invariants();
}

/* Each side sends no more than the smaller MSS, options included
 * (RFC 9293 3.7.1: Eff.snd.MSS = min(SendMSS + 20, MMS_S) - TCPhdrsize). */
static void test_mss_negotiated(void **state)
{
    (void)state;
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    b.mss = 536;
    pair(&a, &b);
    handshake();
    assert_int_equal(SA->log[0].opts.mss, 1460);
    assert_int_equal(SB->log[0].opts.mss, 536);
    assert_int_equal(CA->mss, 536 - (CA->ts_ok ? 12 : 0));
    assert_int_equal(CB->mss, 536 - (CB->ts_ok ? 12 : 0));
    pump(100000, 100000, 8192, 60 * SEC);
    for (int i = 0; i < 2; i++) {
        uint32_t big = 0;
        for (size_t k = 0; k < H.s[i].nlog; k++) {
            const struct logent *e = &H.s[i].log[k];
            if (e->len + opt_len(&e->opts) > 536) {
                fail_msg("%c sent %u bytes with %zu bytes of options, MSS 536", name_of(i), e->len,
                         opt_len(&e->opts));
            }
            if (e->len > big) {
                big = e->len;
            }
        }
        /* and it does fill segments */
        assert_true(big >= 536 - 40);
    }
    check_invariants();
}

/* ---- data transfer ------------------------------------------------------------------- */

static void check_mss(int i)
{
    uint16_t peer = H.s[!i].log[0].opts.mss;
    uint16_t lim = peer < H.s[i].c.cfg.mss ? peer : H.s[i].c.cfg.mss;
    for (size_t k = 0; k < H.s[i].nlog; k++) {
        const struct logent *e = &H.s[i].log[k];
        if (e->len + opt_len(&e->opts) > lim) {
            fail_msg("%c sent %u bytes with %zu bytes of options, MSS %u", name_of(i), e->len,
                     opt_len(&e->opts), lim);
        }
    }
}

static void test_transfer_one_way(void **state)
{
    (void)state;
    /* A's sequence numbers wrap around 2^32 during the transfer. */
    struct z_tcp_config a = cfg_default(0xffff0000u), b = cfg_default(0xfffffff0u);
    H.delay = 5 * MS;
    pair(&a, &b);
    handshake();
    pump(1u << 20, 0, 16384, 120 * SEC);
    run_for(SEC);
    assert_int_equal(CA->snd_una, 0xffff0000u + 1 + (1u << 20));
    assert_int_equal(CA->snd_una, CA->snd_max);
    assert_int_equal(CB->rcv_nxt, CA->snd_una);
    assert_int_equal(z_tcp_readable(CB), 0);
    assert_int_equal(CA->retransmits, 0);
    assert_int_equal(CA->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
    check_mss(0);
    /* full segments are used */
    uint16_t lim = CA->mss;
    assert_true(max_payload(0, 0) + 40 >= lim);
    check_invariants();
}

static void test_transfer_both_ways(void **state)
{
    (void)state;
    struct z_tcp_config a = cfg_default(0xfff00000u), b = cfg_default(0x7ffffff0u);
    a.snd_buf = 100000;
    b.rcv_buf = 30000;
    pair(&a, &b);
    handshake();
    pump(1u << 20, 1u << 20, 20000, 300 * SEC);
    run_for(SEC);
    assert_int_equal(CA->snd_una, CA->snd_max);
    assert_int_equal(CB->snd_una, CB->snd_max);
    assert_int_equal(CA->retransmits, 0);
    assert_int_equal(CB->retransmits, 0);
    check_mss(0);
    check_mss(1);
    check_invariants();
}

/* ---- flow control -------------------------------------------------------------------- */

/* Fill B's 16 KiB buffer exactly, then queue more at A while B reads nothing. */
static void fill_receiver(void)
{
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    b.rcv_buf = 16384;
    pair(&a, &b);
    handshake();
    run_for(SEC);
    send_all(0, 16384);
    run_for(5 * SEC);
    assert_int_equal(z_tcp_readable(CB), 16384);
    assert_int_equal(last_log(1)->window, 0);
    assert_int_equal(CA->snd_wnd, 0);
    assert_int_equal(CA->snd_una, CA->snd_max);
}

static void test_flow_control_persist(void **state)
{
    (void)state;
    fill_receiver();
    size_t mark = SA->nlog, bmark = SB->nlog;
    send_all(0, 32768);
    run_for(120 * SEC);
    assert_int_equal(z_tcp_readable(CB), 16384);
    assert_int_equal(CA->state, Z_TCP_ESTABLISHED);
    static int64_t pt[8192];
    size_t np = 0;
    for (size_t k = mark; k < SA->nlog; k++) {
        const struct logent *e = &SA->log[k];
        if (e->len > 1) {
            fail_msg("A sent %u bytes into a zero window", e->len);
        }
        assert_true(np < 8192);
        pt[np++] = e->t;
    }
    print_message("%zu probes in 120 s, intervals %lld, %lld, ... %lld us\n", np,
                  np > 1 ? (long long)(pt[1] - pt[0]) : -1LL,
                  np > 2 ? (long long)(pt[2] - pt[1]) : -1LL,
                  np > 1 ? (long long)(pt[np - 1] - pt[np - 2]) : -1LL);
    if (np < 4) {
        fail_msg("%zu zero-window probes in 120 s", np);
    }
    /* Each probe is answered with an ACK that keeps the window closed. */
    for (size_t k = 0; k < np && pt[k] + H.delay <= H.now; k++) {
        bool answered = false;
        for (size_t j = bmark; j < SB->nlog; j++) {
            if (SB->log[j].t == pt[k] + H.delay && SB->log[j].window == 0 &&
                (SB->log[j].flags & Z_TCP_ACK)) {
                answered = true;
            }
        }
        if (!answered) {
            fail_msg("probe %zu at %lld got no zero-window ACK", k, (long long)pt[k]);
        }
    }
    int64_t first = pt[1] - pt[0], last = pt[np - 1] - pt[np - 2];
    bool shrank = false;
    for (size_t k = 2; k < np; k++) {
        shrank |= pt[k] - pt[k - 1] < pt[k - 1] - pt[k - 2];
    }
    /* B reads: a window update, and the rest flows. */
    size_t before = SB->nlog;
    assert_int_equal(recv_check(1, 65536), 16384);
    assert_true(SB->nlog > before);
    assert_true(last_log(1)->window > 0);
    int64_t end = H.now + 60 * SEC;
    while (H.rcvd[0] < H.sent[0]) {
        recv_check(1, 4096);
        run_for(MS);
        assert_true(H.now < end);
    }
    assert_int_equal(H.rcvd[0], 16384 + 32768);
    check_invariants();
    /* RFC 1122 4.2.2.17, RFC 9293 3.8.6.1: the probe interval grows
     * exponentially. */
    assert_false(shrank);
    if (last < 2 * first) {
        fail_msg("zero-window probe interval does not grow: first %lld us, last %lld us",
                 (long long)first, (long long)last);
    }
}

/* The window update after B reads is lost; a probe recovers it. */
static void test_lost_window_update(void **state)
{
    (void)state;
    fill_receiver();
    send_all(0, 32768);
    run_for(5 * SEC);
    add_rule(1, SB->nlog, DROP, 0, 0);
    size_t before = SB->nlog;
    assert_int_equal(recv_check(1, 65536), 16384);
    assert_true(SB->nlog > before); /* the update was sent, and dropped */
    int64_t end = H.now + 300 * SEC;
    while (H.rcvd[0] < H.sent[0]) {
        recv_check(1, 4096);
        run_for(MS);
        if (H.now > end) {
            fail_msg("transfer not resumed: %llu of %llu read", (unsigned long long)H.rcvd[0],
                     (unsigned long long)H.sent[0]);
        }
    }
    check_invariants();
}

/* ---- close ------------------------------------------------------------------------------- */

static void test_active_close(void **state)
{
    (void)state;
    pair_default();
    handshake();
    pump(5000, 5000, 2000, 10 * SEC);
    run_for(SEC);
    uint32_t a_nxt = CA->snd_nxt;
    app_shutdown(0);
    assert_int_equal(CA->state, Z_TCP_FIN_WAIT_1);
    const struct logent *fin = last_log(0);
    assert_true(fin->flags & Z_TCP_FIN);
    assert_true(fin->flags & Z_TCP_ACK);
    assert_int_equal(fin->seq, a_nxt);
    assert_int_equal(fin->len, 0);
    assert_int_equal(app_send(0, "x", 1), -EPIPE);
    run_for(H.delay);
    assert_int_equal(CB->state, Z_TCP_CLOSE_WAIT);
    assert_true(CB->rcv_fin);
    assert_int_equal(CB->rcv_nxt, a_nxt + 1);
    char c;
    assert_int_equal(app_recv(1, &c, 1, false), 0);
    run_for(SEC);
    assert_int_equal(CA->state, Z_TCP_FIN_WAIT_2);
    assert_int_equal(CA->snd_una, a_nxt + 1);
    /* B can still send */
    pump(0, 3000, 3000, 10 * SEC);
    run_for(SEC);
    uint32_t b_nxt = CB->snd_nxt;
    app_shutdown(1);
    assert_int_equal(CB->state, Z_TCP_LAST_ACK);
    assert_true(last_log(1)->flags & Z_TCP_FIN);
    assert_int_equal(last_log(1)->seq, b_nxt);
    int64_t t1 = H.now + H.delay;
    run_until(t1);
    assert_int_equal(CA->state, Z_TCP_TIME_WAIT);
    /* the FIN is acknowledged at once */
    assert_int_equal(last_log(0)->t, t1);
    assert_int_equal(last_log(0)->ack, b_nxt + 1);
    run_until(t1 + H.delay);
    assert_int_equal(CB->state, Z_TCP_CLOSED);
    assert_int_equal(CB->error, 0);
    run_until(t1 + CA->cfg.time_wait_us - 1);
    assert_int_equal(CA->state, Z_TCP_TIME_WAIT);
    run_until(t1 + CA->cfg.time_wait_us);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    assert_int_equal(CA->error, 0);
    assert_int_equal(z_tcp_next_deadline(CA), INT64_MAX);
    assert_int_equal(z_tcp_next_deadline(CB), INT64_MAX);
    expect_states(0, 7, Z_TCP_CLOSED, Z_TCP_SYN_SENT, Z_TCP_ESTABLISHED, Z_TCP_FIN_WAIT_1,
                  Z_TCP_FIN_WAIT_2, Z_TCP_TIME_WAIT, Z_TCP_CLOSED);
    expect_states(1, 6, Z_TCP_CLOSED, Z_TCP_SYN_RCVD, Z_TCP_ESTABLISHED, Z_TCP_CLOSE_WAIT,
                  Z_TCP_LAST_ACK, Z_TCP_CLOSED);
    check_invariants();
}

/* The last ACK is lost: B retransmits its FIN, A in TIME-WAIT acknowledges
 * it again and restarts the 2 MSL timer (RFC 9293 3.10.7.4). */
static void test_time_wait_reacks_fin(void **state)
{
    (void)state;
    pair_default();
    handshake();
    app_shutdown(0);
    run_for(SEC);
    assert_int_equal(CA->state, Z_TCP_FIN_WAIT_2);
    add_rule(0, SA->nlog, DROP, 0, 0);
    size_t bmark = SB->nlog;
    app_shutdown(1);
    run_for(H.delay);
    int64_t t1 = H.now;
    assert_int_equal(CA->state, Z_TCP_TIME_WAIT);
    int64_t end = t1 + 100 * SEC;
    while (CB->state != Z_TCP_CLOSED) {
        assert_true(step(end));
    }
    /* B's FIN went twice */
    size_t fins = 0;
    int64_t t2 = 0;
    for (size_t k = bmark; k < SB->nlog; k++) {
        if (SB->log[k].flags & Z_TCP_FIN) {
            fins++;
            t2 = SB->log[k].t;
        }
    }
    assert_int_equal(fins, 2);
    assert_int_equal(CB->error, 0);
    int64_t t3 = t2 + H.delay; /* the retransmitted FIN reaches A */
    assert_true(t3 > t1);
    run_until(t3 + CA->cfg.time_wait_us - 1);
    assert_int_equal(CA->state, Z_TCP_TIME_WAIT);
    run_until(t3 + CA->cfg.time_wait_us);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    check_invariants();
}

static void test_simultaneous_close(void **state)
{
    (void)state;
    pair_default();
    handshake();
    pump(3000, 3000, 3000, 10 * SEC);
    run_for(SEC);
    int64_t t0 = H.now;
    app_shutdown(0);
    app_shutdown(1);
    assert_int_equal(CA->state, Z_TCP_FIN_WAIT_1);
    assert_int_equal(CB->state, Z_TCP_FIN_WAIT_1);
    run_until(t0 + H.delay);
    assert_int_equal(CA->state, Z_TCP_CLOSING);
    assert_int_equal(CB->state, Z_TCP_CLOSING);
    run_until(t0 + 2 * H.delay);
    assert_int_equal(CA->state, Z_TCP_TIME_WAIT);
    assert_int_equal(CB->state, Z_TCP_TIME_WAIT);
    run_until(t0 + 2 * H.delay + CA->cfg.time_wait_us);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    assert_int_equal(CB->state, Z_TCP_CLOSED);
    assert_int_equal(CA->error, 0);
    assert_int_equal(CB->error, 0);
    for (int i = 0; i < 2; i++) {
        expect_states(i, 7, Z_TCP_CLOSED, i == 0 ? Z_TCP_SYN_SENT : Z_TCP_SYN_RCVD,
                      Z_TCP_ESTABLISHED, Z_TCP_FIN_WAIT_1, Z_TCP_CLOSING, Z_TCP_TIME_WAIT,
                      Z_TCP_CLOSED);
    }
    check_invariants();
}

static void test_half_close(void **state)
{
    (void)state;
    pair_default();
    handshake();
    app_shutdown(0);
    assert_int_equal(app_send(0, "x", 1), -EPIPE);
    run_for(SEC);
    assert_int_equal(CA->state, Z_TCP_FIN_WAIT_2);
    assert_int_equal(CB->state, Z_TCP_CLOSE_WAIT);
    /* B keeps sending; A reads everything. */
    pump(0, 300000, 16384, 60 * SEC);
    assert_false(CA->rcv_fin);
    char c;
    assert_int_equal(app_recv(0, &c, 1, false), 0);
    assert_false(CA->rcv_fin);
    /* B sends a last 5000 bytes and closes at once: A reads them, then EOF. */
    send_all(1, 5000);
    app_shutdown(1);
    run_for(SEC);
    assert_int_equal(CA->state, Z_TCP_TIME_WAIT);
    assert_true(CA->rcv_fin);
    assert_int_equal(z_tcp_readable(CA), 5000);
    assert_int_equal(recv_check(0, 3000), 3000);
    assert_int_equal(recv_check(0, 3000), 2000);
    assert_int_equal(recv_check(0, 3000), 0);
    assert_int_equal(recv_check(0, 3000), 0);
    assert_true(CA->rcv_fin);
    assert_int_equal(CB->state, Z_TCP_CLOSED);
    run_for(CA->cfg.time_wait_us);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    assert_int_equal(CA->error, 0);
    assert_int_equal(CB->error, 0);
    check_invariants();
}

/* RFC 9293 3.10.4: CLOSE in SYN-RECEIVED sends FIN and enters FIN-WAIT-1;
 * the handshake's ACK must not bring the connection back to ESTABLISHED. */
static void test_close_in_syn_rcvd(void **state)
{
    (void)state;
    pair_default();
    app_connect();
    run_for(H.delay);
    assert_int_equal(CB->state, Z_TCP_SYN_RCVD);
    app_shutdown(1);
    assert_int_equal(CB->state, Z_TCP_FIN_WAIT_1);
    run_for(5 * SEC);
    assert_int_equal(CA->state, Z_TCP_CLOSE_WAIT);
    assert_true(CA->rcv_fin);
    assert_int_equal(CB->state, Z_TCP_FIN_WAIT_2);
    /* A can still send to B */
    pump(10000, 0, 4000, 10 * SEC);
    app_shutdown(0);
    run_for(SEC);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    assert_int_equal(CB->state, Z_TCP_TIME_WAIT);
    run_for(CB->cfg.time_wait_us);
    assert_int_equal(CB->state, Z_TCP_CLOSED);
    assert_int_equal(CA->error, 0);
    assert_int_equal(CB->error, 0);
    check_invariants();
}

static int64_t spur_t0;

static struct verdict spur_filter(int from, size_t idx, const struct logent *e)
{
    (void)idx;
    (void)e;
    struct verdict v = {PASS, 0, 0};
    if (from == 1 && H.now >= spur_t0 && H.now < spur_t0 + 100 * MS) {
        v.extra = 2 * SEC; /* B's first ACKs are held up beyond A's RTO */
    }
    return v;
}

/* Data and FIN go out together; the ACKs are late, so A's RTO fires and it
 * goes back to resend. When the late ACK of everything, FIN included,
 * arrives, A is in FIN-WAIT-2; the FIN is only ever sent at its own
 * sequence number. */
static void test_fin_acked_after_spurious_rto(void **state)
{
    (void)state;
    pair_default();
    handshake();
    run_for(SEC);
    spur_t0 = H.now;
    H.filter = spur_filter;
    assert_int_equal(send_some(0, 3000), 3000);
    app_shutdown(0);
    uint32_t fin_seq = CA->snd_max - 1;
    run_for(10 * SEC);
    assert_true(CA->retransmits >= 1); /* the RTO did fire */
    for (size_t k = 0; k < SA->nlog; k++) {
        const struct logent *e = &SA->log[k];
        if ((e->flags & Z_TCP_FIN) && e->seq + e->len != fin_seq) {
            fail_msg("A sent FIN at sequence %u, its FIN is %u", e->seq + e->len, fin_seq);
        }
    }
    assert_int_equal(CA->snd_una, fin_seq + 1);
    assert_int_equal(CA->state, Z_TCP_FIN_WAIT_2);
    assert_int_equal(CB->state, Z_TCP_CLOSE_WAIT);
    assert_int_equal(recv_check(1, 65536), 3000);
    app_shutdown(1);
    run_for(CA->cfg.time_wait_us + SEC);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    assert_int_equal(CB->state, Z_TCP_CLOSED);
    assert_int_equal(CA->error, 0);
    assert_int_equal(CB->error, 0);
    check_invariants();
}

static void test_send_errors(void **state)
{
    (void)state;
    pair_default();
    char buf[10] = {0};
    assert_true(app_send(0, buf, sizeof(buf)) < 0);
    assert_int_equal(app_recv(0, buf, sizeof(buf), false), 0);
    SA->cut = true;
    app_connect();
    assert_int_equal(app_send(0, buf, sizeof(buf)), -ENOTCONN);
    SA->cut = false;
    int64_t limit = H.now + 60 * SEC;
    while (!(CA->state == Z_TCP_ESTABLISHED && CB->state == Z_TCP_ESTABLISHED)) {
        assert_true(step(limit));
    }
    assert_int_equal(app_send(0, buf, sizeof(buf)), 10);
    run_for(SEC);
    assert_int_equal(app_recv(1, buf, sizeof(buf), true), 10);
    assert_int_equal(z_tcp_readable(CB), 10);
    assert_int_equal(app_recv(1, buf, sizeof(buf), false), 10);
    assert_int_equal(z_tcp_readable(CB), 0);
    app_shutdown(0);
    assert_int_equal(app_send(0, buf, sizeof(buf)), -EPIPE);
    check_invariants();
}

/* ---- RST ----------------------------------------------------------------------------------- */

static void test_abort_sends_rst(void **state)
{
    (void)state;
    pair_default();
    handshake();
    pump(2000, 2000, 2000, 10 * SEC);
    run_for(SEC);
    uint32_t nxt = CA->snd_nxt;
    int nb = SB->nnotify;
    app_abort(0);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    const struct logent *rst = last_log(0);
    assert_true(rst->flags & Z_TCP_RST);
    assert_int_equal(rst->flags & (Z_TCP_SYN | Z_TCP_FIN), 0);
    assert_int_equal(rst->seq, nxt);
    assert_int_equal(rst->len, 0);
    run_for(H.delay);
    assert_int_equal(CB->state, Z_TCP_CLOSED);
    assert_int_equal(CB->error, ECONNRESET);
    assert_true(SB->nnotify > nb);
    char c;
    assert_int_equal(app_recv(1, &c, 1, false), 0);
    assert_true(app_send(1, "x", 1) < 0);
    run_for(60 * SEC);
    assert_int_equal(z_tcp_next_deadline(CA), INT64_MAX);
    assert_int_equal(z_tcp_next_deadline(CB), INT64_MAX);
    check_invariants();
}

static void test_rst_in_window_exact(void **state)
{
    (void)state;
    size_t mark = established_quiet();
    int nb = SB->nnotify;
    struct z_tcp_hdr h = mkhdr(Z_TCP_RST, CB->rcv_nxt, 0, 0);
    inject(1, &h, NULL, 0);
    assert_int_equal(CB->state, Z_TCP_CLOSED);
    assert_int_equal(CB->error, ECONNRESET);
    assert_true(SB->nnotify > nb);
    assert_int_equal(SB->nlog, mark); /* never answer a RST */
    check_invariants();
}

static void test_rst_out_of_window_ignored(void **state)
{
    (void)state;
    size_t mark = established_quiet();
    uint32_t far = CB->rcv_nxt + CB->cfg.rcv_buf + 100000;
    struct z_tcp_hdr h = mkhdr(Z_TCP_RST, far, 0, 0);
    inject(1, &h, NULL, 0);
    h = mkhdr(Z_TCP_RST | Z_TCP_ACK, CB->rcv_nxt - 1, CB->snd_nxt, 0);
    inject(1, &h, NULL, 0);
    h = mkhdr(Z_TCP_RST, CB->rcv_nxt - 70000, 0, 0);
    inject(1, &h, NULL, 0);
    /* RFC 5961 3.2: silently dropped */
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CB->error, 0);
    assert_int_equal(SB->nlog, mark);
    pump(20000, 20000, 4000, 10 * SEC);
    check_invariants();
}

static void test_rst_in_window_challenge_ack(void **state)
{
    (void)state;
    size_t mark = established_quiet();
    struct z_tcp_hdr h = mkhdr(Z_TCP_RST, CB->rcv_nxt + 1, 0, 0);
    inject(1, &h, NULL, 0);
    /* RFC 5961 3.2: an ACK <SEQ=SND.NXT><ACK=RCV.NXT>, nothing else */
    assert_challenge_ack(mark);
    assert_int_equal(last_log(1)->len, 0);
    run_for(SEC);
    assert_int_equal(CA->state, Z_TCP_ESTABLISHED);
    pump(20000, 20000, 4000, 10 * SEC);
    check_invariants();
}

static void test_syn_in_established_challenge_ack(void **state)
{
    (void)state;
    size_t mark = established_quiet();
    struct z_tcp_hdr h = mkhdr(Z_TCP_SYN, CB->rcv_nxt + 100, 0, 1000);
    inject(1, &h, NULL, 0);
    /* RFC 5961 4.2: a challenge ACK, the connection stays */
    assert_challenge_ack(mark);
    run_for(SEC);
    pump(20000, 20000, 4000, 10 * SEC);
    check_invariants();
}

/* RFC 9293 3.10.7.4 fifth, RFC 5961 5.2: an ACK for data never sent is
 * answered with an ACK and the segment, data included, dropped. */
static void test_ack_of_unsent_data(void **state)
{
    (void)state;
    size_t mark = established_quiet();
    uint32_t una = CB->snd_una, rnxt = CB->rcv_nxt;
    uint8_t data[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    struct z_tcp_hdr h = mkhdr(Z_TCP_ACK, CB->rcv_nxt, CB->snd_nxt + 5000, 1000);
    inject(1, &h, data, sizeof(data));
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CB->snd_una, una);
    assert_int_equal(CB->rcv_nxt, rnxt);
    assert_int_equal(z_tcp_readable(CB), 0);
    assert_int_equal(SB->nlog, mark + 1);
    assert_int_equal(last_log(1)->ack, rnxt);
    assert_int_equal(last_log(1)->seq, CB->snd_nxt);
    run_for(SEC);
    pump(20000, 20000, 4000, 10 * SEC);
    check_invariants();
}

static void test_reset_reply_fields(void **state)
{
    (void)state;
    struct z_tcp_hdr in = mkhdr(Z_TCP_SYN, 1000, 0, 5000), out;
    in.sport = 1234;
    in.dport = 80;
    in.opts.present = Z_TCPOPT_MSS;
    in.opts.mss = 1460;
    /* SYN without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN counting one */
    memset(&out, 0xa5, sizeof(out));
    assert_true(z_tcp_reset_reply(&in, 0, &out));
    assert_int_equal(out.flags, Z_TCP_RST | Z_TCP_ACK);
    assert_int_equal(out.seq, 0);
    assert_int_equal(out.ack, 1001);
    assert_int_equal(out.opts.present, 0);
    assert_true((out.sport == 80 && out.dport == 1234) || (out.sport == 0 && out.dport == 0));
    /* data and FIN without ACK: ack = seq + len + 1 */
    in = mkhdr(Z_TCP_FIN | Z_TCP_PSH, 0xfffffff0u, 0, 100);
    memset(&out, 0, sizeof(out));
    assert_true(z_tcp_reset_reply(&in, 100, &out));
    assert_int_equal(out.flags, Z_TCP_RST | Z_TCP_ACK);
    assert_int_equal(out.seq, 0);
    assert_int_equal(out.ack, 0xfffffff0u + 101);
    /* with ACK: <SEQ=SEG.ACK><CTL=RST> */
    in = mkhdr(Z_TCP_ACK | Z_TCP_PSH, 5, 77777, 100);
    memset(&out, 0, sizeof(out));
    assert_true(z_tcp_reset_reply(&in, 100, &out));
    assert_int_equal(out.flags, Z_TCP_RST);
    assert_int_equal(out.seq, 77777);
    in = mkhdr(Z_TCP_SYN | Z_TCP_ACK, 5, 0x89abcdefu, 100);
    assert_true(z_tcp_reset_reply(&in, 0, &out));
    assert_int_equal(out.flags, Z_TCP_RST);
    assert_int_equal(out.seq, 0x89abcdefu);
    /* never answer a RST */
    in = mkhdr(Z_TCP_RST, 5, 0, 0);
    assert_false(z_tcp_reset_reply(&in, 0, &out));
    in = mkhdr(Z_TCP_RST | Z_TCP_ACK, 5, 6, 0);
    assert_false(z_tcp_reset_reply(&in, 0, &out));
}

static void test_connection_refused(void **state)
{
    (void)state;
    pair_default();
    SB->listen = false;
    int na = SA->nnotify;
    app_connect();
    run_for(SEC);
    /* the glue answered A's SYN with RST,ACK */
    assert_int_equal(SB->nlog, 1);
    assert_int_equal(SB->log[0].flags, Z_TCP_RST | Z_TCP_ACK);
    assert_int_equal(SB->log[0].ack, ISN_A + 1);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    assert_int_equal(CA->error, ECONNREFUSED);
    assert_true(SA->nnotify > na);
    assert_int_equal(SA->nlog, 1); /* no SYN retransmission, no reply */
    run_for(60 * SEC);
    assert_int_equal(SA->nlog, 1);
    assert_int_equal(z_tcp_next_deadline(CA), INT64_MAX);
}

/* RFC 9293 3.10.7.3: in SYN-SENT a RST counts only with an acceptable ACK;
 * an unacceptable ACK without RST is answered <SEQ=SEG.ACK><CTL=RST>. */
static void test_syn_sent_bad_segments(void **state)
{
    (void)state;
    pair_default();
    SA->cut = true;
    app_connect();
    size_t mark = SA->nlog;
    struct z_tcp_hdr h = mkhdr(Z_TCP_RST, 777, 0, 0);
    inject(0, &h, NULL, 0);
    assert_int_equal(CA->state, Z_TCP_SYN_SENT);
    h = mkhdr(Z_TCP_RST | Z_TCP_ACK, 0, ISN_A + 5, 0);
    inject(0, &h, NULL, 0);
    assert_int_equal(CA->state, Z_TCP_SYN_SENT);
    h = mkhdr(Z_TCP_RST | Z_TCP_ACK, 0, ISN_A, 0);
    inject(0, &h, NULL, 0);
    assert_int_equal(CA->state, Z_TCP_SYN_SENT);
    assert_int_equal(SA->nlog, mark);
    h = mkhdr(Z_TCP_SYN | Z_TCP_ACK, 4242, ISN_A + 100, 1000);
    inject(0, &h, NULL, 0);
    assert_int_equal(CA->state, Z_TCP_SYN_SENT);
    assert_int_equal(SA->nlog, mark + 1);
    assert_true(last_log(0)->flags & Z_TCP_RST);
    assert_int_equal(last_log(0)->seq, ISN_A + 100);
    assert_int_equal(CA->error, 0);
    /* the real answer still completes the connection */
    SA->cut = false;
    run_for(10 * SEC);
    assert_int_equal(CA->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
}

/* ---- retransmission ---------------------------------------------------------------------- */

static void test_retransmit_lost_data(void **state)
{
    (void)state;
    pair_default();
    handshake();
    run_for(SEC);
    int64_t rto = CA->rto_us;
    assert_true(rto > 0);
    add_rule(0, SA->nlog, DROP, 0, 0);
    size_t mark = SA->nlog;
    int64_t t0 = H.now;
    assert_int_equal(send_some(0, 100), 100);
    assert_int_equal(SA->nlog, mark + 1);
    const struct logent orig = SA->log[mark];
    assert_int_equal(orig.len, 100);
    run_until(t0 + rto - 1);
    assert_int_equal(SA->nlog, mark + 1);
    assert_int_equal(CA->retransmits, 0);
    run_until(t0 + rto);
    assert_int_equal(SA->nlog, mark + 2);
    const struct logent *re = &SA->log[mark + 1];
    assert_int_equal(re->seq, orig.seq);
    assert_int_equal(re->len, 100);
    assert_int_equal(re->cause, CAUSE_TIMER);
    assert_int_equal(CA->retransmits, 1);
    /* RFC 6298 5.5: the timer backs off */
    assert_true(CA->rto_us >= 2 * rto);
    run_for(SEC);
    assert_int_equal(recv_check(1, 1000), 100);
    assert_int_equal(CA->snd_una, CA->snd_max);
    check_invariants();
}

static void test_syn_retransmit_backoff(void **state)
{
    (void)state;
    pair_default();
    add_rule(0, 0, DROP, 0, 0);
    add_rule(0, 1, DROP, 0, 0);
    int64_t t0 = H.now;
    app_connect();
    int64_t rto0 = CA->rto_us;
    /* RFC 6298 2.1: 1 s before any sample */
    assert_int_equal(rto0, SEC);
    while (!(CA->state == Z_TCP_ESTABLISHED && CB->state == Z_TCP_ESTABLISHED)) {
        assert_true(step(t0 + 60 * SEC));
    }
    assert_int_equal(SA->log[0].flags, Z_TCP_SYN);
    assert_int_equal(SA->log[1].flags, Z_TCP_SYN);
    assert_int_equal(SA->log[2].flags, Z_TCP_SYN);
    assert_int_equal(SA->log[1].seq, ISN_A);
    assert_int_equal(SA->log[2].seq, ISN_A);
    assert_int_equal(SA->log[0].t, t0);
    assert_int_equal(SA->log[1].t, t0 + rto0);
    assert_int_equal(SA->log[2].t, t0 + 3 * rto0);
    assert_int_equal(CA->retransmits, 2);
    /* Karn: no sample from the first SYN (that would be over 3 s) */
    assert_true(CA->srtt_us < 100 * MS);
    check_invariants();
}

/* SYN retransmitted, then a SYN-ACK without timestamps: no RTT sample is
 * possible, and RFC 6298 5.7 wants an RTO of 3 s for the data. */
static void test_syn_retransmit_rto_3s(void **state)
{
    (void)state;
    pair_default();
    SA->cut = true;
    app_connect();
    run_for(CA->rto_us);
    assert_int_equal(SA->nlog, 2);
    struct z_tcp_hdr h = mkhdr(Z_TCP_SYN | Z_TCP_ACK, 0x55550000u, ISN_A + 1, 8000);
    h.opts.present = Z_TCPOPT_MSS;
    h.opts.mss = 1460;
    run_for(20 * MS);
    inject(0, &h, NULL, 0);
    assert_int_equal(CA->state, Z_TCP_ESTABLISHED);
    assert_false(CA->ts_ok);
    assert_true(CA->rto_us >= 3 * SEC);
}

/* Request/response over a path of the given one-way delay: the estimate
 * converges on the path RTT (RFC 6298 2.3). */
static void converge(int64_t delay)
{
    H.delay = delay;
    pair_default();
    handshake();
    /* (an RTT over the initial 1 s RTO makes the SYN go twice: not counted) */
    uint64_t before = CA->retransmits;
    for (int i = 0; i < 80; i++) {
        exchange(100);
    }
    assert_int_equal(CA->retransmits, before);
}

static void test_rto_converges(void **state)
{
    (void)state;
    converge(750 * MS);
    assert_between(CA->srtt_us, 1500 * MS - 10 * MS, 1500 * MS + 10 * MS);
    assert_between(CA->rttvar_us, 0, 50 * MS);
    /* RFC 6298 2.3 with the core's G of 1 ms */
    int64_t k = 4 * CA->rttvar_us > 1000 ? 4 * CA->rttvar_us : 1000;
    assert_int_equal(CA->rto_us, CA->srtt_us + k);
    check_invariants();
}

static void test_rto_floor(void **state)
{
    (void)state;
    converge(1 * MS);
    assert_between(CA->srtt_us, 1500, 3000);
    /* RFC 6298 2.4 asks 1 s; the core documents Linux's 200 ms floor. */
    assert_int_equal(CA->rto_us, 200 * MS);
    check_invariants();
}

static void test_karn(void **state)
{
    (void)state;
    pair_default();
    handshake();
    for (int i = 0; i < 20; i++) {
        exchange(100);
    }
    int64_t srtt = CA->srtt_us;
    assert_between(srtt, 19 * MS, 22 * MS);
    add_rule(0, SA->nlog, DROP, 0, 0);
    exchange(100);
    assert_int_equal(CA->retransmits, 1);
    /* A sample from the first transmission would be RTO + 20 ms. */
    assert_true(CA->srtt_us <= srtt + 2 * MS);
    check_invariants();
}

static void test_give_up_data(void **state)
{
    (void)state;
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    a.max_retries = 4;
    pair(&a, &b);
    handshake();
    run_for(SEC);
    SA->cut = true;
    size_t mark = SA->nlog;
    int na = SA->nnotify;
    uint32_t seq = CA->snd_nxt;
    assert_int_equal(send_some(0, 100), 100);
    run_for(3600 * SEC);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    assert_int_equal(CA->error, ETIMEDOUT);
    assert_true(SA->nnotify > na);
    int64_t t[16] = {0};
    size_t n = 0;
    for (size_t k = mark; k < SA->nlog; k++) {
        const struct logent *e = &SA->log[k];
        if (e->len > 0) {
            assert_int_equal(e->seq, seq);
            assert_true(n < 16);
            t[n++] = e->t;
        }
    }
    assert_int_equal(n, 1 + 4);
    assert_int_equal(t[2] - t[1], 2 * (t[1] - t[0]));
    for (size_t k = 2; k < n; k++) {
        assert_true(t[k] - t[k - 1] >= t[k - 1] - t[k - 2]);
    }
    int64_t closed = entered(0, Z_TCP_CLOSED);
    assert_true(closed - t[n - 1] >= t[n - 1] - t[n - 2]);
    assert_int_equal(z_tcp_next_deadline(CA), INT64_MAX);
    assert_true(app_send(0, "x", 1) < 0);
}

static void test_give_up_syn(void **state)
{
    (void)state;
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    a.syn_retries = 3;
    pair(&a, &b);
    SA->cut = true;
    int na = SA->nnotify;
    app_connect();
    run_for(3600 * SEC);
    assert_int_equal(CA->state, Z_TCP_CLOSED);
    assert_int_equal(CA->error, ETIMEDOUT);
    assert_true(SA->nnotify > na);
    assert_int_equal(SA->nlog, 1 + 3);
    for (size_t k = 0; k < SA->nlog; k++) {
        assert_int_equal(SA->log[k].flags, Z_TCP_SYN);
        assert_int_equal(SA->log[k].seq, ISN_A);
    }
    int64_t closed = entered(0, Z_TCP_CLOSED);
    assert_true(closed - SA->log[3].t >= SA->log[3].t - SA->log[2].t);
}

/* ---- fast retransmit and recovery ---------------------------------------------------- */

static struct {
    int data_count;
    size_t drop_idx;
    uint32_t lost_seq;
    int64_t lost_at, rto_at_loss;
    bool in, entered, exited;
    uint32_t ssthresh_in, cwnd_in, flight_in, cwnd_before_in, cwnd_out;
    int64_t t_in;
    int dupacks_in;
} FR;

static struct verdict fr_filter(int from, size_t idx, const struct logent *e)
{
    struct verdict v = {PASS, 0, 0};
    if (from == 0 && e->len > 0 && ++FR.data_count == 30) {
        FR.drop_idx = idx;
        FR.lost_seq = e->seq;
        FR.lost_at = H.now;
        FR.rto_at_loss = CA->rto_us;
        v.fate = DROP;
    }
    return v;
}

static void fr_after(void)
{
    if (!FR.in && CA->in_recovery) {
        FR.in = FR.entered = true;
        FR.ssthresh_in = CA->ssthresh;
        FR.cwnd_in = CA->cwnd;
        FR.flight_in = SA->flight_before;
        FR.cwnd_before_in = SA->cwnd_before;
        FR.t_in = H.now;
        FR.dupacks_in = SA->dupack_run;
    } else if (FR.in && !CA->in_recovery) {
        FR.in = false;
        FR.exited = true;
        FR.cwnd_out = CA->cwnd;
    }
}

static void test_fast_retransmit(void **state)
{
    (void)state;
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    a.snd_buf = b.snd_buf = 262144;
    a.rcv_buf = b.rcv_buf = 262144;
    pair(&a, &b);
    handshake();
    run_for(SEC);
    memset(&FR, 0, sizeof(FR));
    H.filter = fr_filter;
    H.after = fr_after;
    pump(262144, 0, 65536, 60 * SEC);
    run_for(SEC);
    H.after = NULL;
    assert_true(FR.drop_idx > 0);
    /* the lost segment went again, once, on the third duplicate ACK */
    size_t re = SIZE_MAX, copies = 0;
    for (size_t k = FR.drop_idx + 1; k < SA->nlog; k++) {
        if (SA->log[k].seq == FR.lost_seq && SA->log[k].len > 0) {
            copies++;
            if (re == SIZE_MAX) {
                re = k;
            }
        }
    }
    assert_int_equal(copies, 1);
    const struct logent *r = &SA->log[re];
    assert_int_equal(r->cause, CAUSE_INPUT);
    assert_true(r->t < FR.lost_at + FR.rto_at_loss);
    assert_int_equal(CA->retransmits, 1);
    assert_true(FR.entered);
    assert_int_equal(FR.t_in, r->t);
    assert_int_equal(FR.dupacks_in, 3);
    /* RFC 5681 (4): ssthresh = max(FlightSize / 2, 2 * SMSS) */
    uint32_t smss = CA->mss;
    uint32_t want = FR.flight_in / 2 > 2 * smss ? FR.flight_in / 2 : 2 * smss;
    assert_between(FR.ssthresh_in, (long long)want - smss, (long long)want + smss);
    assert_true(FR.ssthresh_in <= FR.cwnd_before_in / 2 + smss);
    assert_between(FR.cwnd_in, FR.ssthresh_in, FR.ssthresh_in + 3 * smss);
    /* RFC 6582: leaving recovery deflates the window to about ssthresh */
    assert_true(FR.exited);
    assert_true(FR.cwnd_out <= FR.ssthresh_in + smss);
    /* no timeout fired */
    for (size_t k = 0; k < SA->nlog; k++) {
        assert_true(SA->log[k].cause != CAUSE_TIMER || SA->log[k].len == 0);
    }
    check_invariants();
}

/* ---- SACK (RFC 2018, RFC 6675) and CUBIC (RFC 9438) ------------------------------------ */

/* Drops chosen by the count of A's data segments (1-based): each listed
 * count is dropped once; with `drop_again`, the first retransmission of
 * each lost segment is dropped too. */
static struct {
    int count;
    int drops[8];
    int ndrops;
    uint32_t lost[8];
    int nlost;
    bool drop_again;
    bool dropped_again[8];
    uint32_t targets[8]; /* also dropped: first sendings holding these */
    int ntargets;
    bool blackout;        /* from the first retransmission on, A's data is lost... */
    int64_t blackout_end; /* ...until then */
    int recoveries;
    bool in;
    uint32_t flight_in, ssthresh_in;
    double wmax_in;
    int64_t exit_at;
    uint32_t cwnd_out;
} SK;

static struct verdict sk_filter(int from, size_t idx, const struct logent *e)
{
    (void)idx;
    struct verdict v = {PASS, 0, 0};
    if (from != 0 || e->len == 0) {
        return v;
    }
    for (int i = 0; SK.blackout && SK.blackout_end == 0 && i < SK.nlost; i++) {
        if (e->seq == SK.lost[i]) {
            SK.blackout_end = H.now + 500 * MS;
        }
    }
    if (H.now < SK.blackout_end) {
        v.fate = DROP;
        return v;
    }
    for (int i = 0; SK.drop_again && i < SK.nlost; i++) {
        if (e->seq == SK.lost[i]) {
            if (!SK.dropped_again[i]) {
                SK.dropped_again[i] = true;
                v.fate = DROP;
            }
            return v;
        }
    }
    SK.count++;
    for (int i = 0; i < SK.ntargets; i++) {
        if (Z_SEQ_LEQ(e->seq, SK.targets[i]) && Z_SEQ_LT(SK.targets[i], e->seq + e->len)) {
            SK.targets[i] = e->seq - 1; /* once */
            SK.lost[SK.nlost++] = e->seq;
            v.fate = DROP;
        }
    }
    for (int i = 0; i < SK.ndrops; i++) {
        if (SK.count == SK.drops[i]) {
            SK.lost[SK.nlost++] = e->seq;
            v.fate = DROP;
        }
    }
    return v;
}

static void sk_after(void)
{
    if (!SK.in && CA->in_recovery) {
        SK.in = true;
        SK.recoveries++;
        SK.flight_in = SA->flight_before;
        SK.ssthresh_in = CA->ssthresh;
        SK.wmax_in = CA->cubic_wmax;
    } else if (SK.in && !CA->in_recovery) {
        SK.in = false;
        SK.exit_at = H.now;
        SK.cwnd_out = CA->cwnd;
    }
}

static void sk_start(const int *drops, int n, enum z_tcp_cc cc)
{
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    a.snd_buf = b.snd_buf = 262144;
    a.rcv_buf = b.rcv_buf = 262144;
    a.cc = cc;
    pair(&a, &b);
    handshake();
    run_for(SEC);
    assert_true(CA->sack_ok);
    memset(&SK, 0, sizeof(SK));
    if (n > 0) {
        memcpy(SK.drops, drops, (size_t)n * sizeof(int));
    }
    SK.ndrops = n;
    H.filter = sk_filter;
    H.after = sk_after;
}

/* Data segments A sent after `from` (log index) starting at `seq`. */
static size_t copies_of(uint32_t seq, size_t from, const struct logent **first)
{
    size_t n = 0;
    for (size_t k = from; k < SA->nlog; k++) {
        if (SA->log[k].seq == seq && SA->log[k].len > 0) {
            if (n++ == 0 && first != NULL) {
                *first = &SA->log[k];
            }
        }
    }
    return n;
}

/* Every data segment A sent again (after log index `mark`) starts at one
 * of the lost ones, and each lost one went `copies` times in all (when not
 * 0). */
static void check_only_holes_resent(size_t mark, size_t copies)
{
    for (int i = 0; copies > 0 && i < SK.nlost; i++) {
        assert_int_equal(copies_of(SK.lost[i], mark, NULL), copies);
    }
    for (size_t k = mark; k < SA->nlog; k++) {
        const struct logent *e = &SA->log[k];
        for (size_t j = mark; e->len > 0 && j < k; j++) {
            if (SA->log[j].len > 0 && SA->log[j].seq == e->seq) {
                bool hole = false;
                for (int i = 0; i < SK.nlost; i++) {
                    hole = hole || e->seq == SK.lost[i];
                }
                if (!hole) {
                    fail_msg("data at %u sent again", e->seq);
                }
                break;
            }
        }
    }
}

/* Three segments lost from one window: SACK recovery resends exactly those
 * three, all within about one round trip, in one recovery, with no timeout
 * (NewReno would need a round trip per hole). */
static void test_sack_recovers_several_holes(void **state)
{
    (void)state;
    const int drops[] = {30, 33, 36};
    sk_start(drops, 3, Z_TCP_CC_RENO);
    size_t mark = SA->nlog;
    pump(262144, 0, 65536, 60 * SEC);
    run_for(SEC);
    assert_int_equal(SK.nlost, 3);
    int64_t t_first = 0;
    int64_t t_last = 0;
    for (int i = 0; i < 3; i++) {
        const struct logent *orig = NULL;
        const struct logent *re = NULL;
        assert_int_equal(copies_of(SK.lost[i], mark, &orig), 2);
        for (size_t k = (size_t)(orig - SA->log) + 1; k < SA->nlog; k++) {
            if (SA->log[k].seq == SK.lost[i] && SA->log[k].len > 0) {
                re = &SA->log[k];
                break;
            }
        }
        assert_non_null(re);
        assert_int_equal(re->cause, CAUSE_INPUT);
        if (i == 0) {
            t_first = re->t;
        }
        t_last = re->t;
    }
    assert_true(t_last - t_first <= 2 * H.delay + 2 * MS);
    assert_int_equal(CA->retransmits, 3);
    assert_int_equal(SK.recoveries, 1);
    /* ACKs from B carried blocks; the scoreboard is empty once all is in */
    assert_int_equal(CA->nsacked, 0);
    for (size_t k = 0; k < SA->nlog; k++) {
        assert_true(SA->log[k].cause != CAUSE_TIMER || SA->log[k].len == 0);
    }
    check_invariants();
}

/* Two holes whose fast retransmissions are lost too, with new data flowing:
 * the later SACKs show each retransmission lost, and it goes again at once,
 * without waiting for the timer; data B holds is never resent. */
static void test_sack_lost_retransmit(void **state)
{
    (void)state;
    const int drops[] = {30, 40};
    sk_start(drops, 2, Z_TCP_CC_RENO);
    SK.drop_again = true;
    size_t mark = SA->nlog;
    pump(262144, 0, 65536, 60 * SEC);
    run_for(SEC);
    assert_true(SK.dropped_again[0] && SK.dropped_again[1]);
    check_only_holes_resent(mark, 3);
    assert_int_equal(CA->retransmits, 4);
    assert_int_equal(CA->timeouts, 0);
    check_invariants();
}

/* The same at the tail, where nothing new follows to reveal the lost
 * retransmissions: a round trip and a quarter without news of them shows
 * them lost (RFC 8985 6.2), with no timeout. */
/* 256 KiB from A with the 5th and the 2nd segment from the end lost (and
 * whatever else the SK settings add); returns A's log mark before it. */
static size_t tail_holes_transfer(bool drop_again, bool blackout)
{
    sk_start(NULL, 0, Z_TCP_CC_RENO);
    SK.drop_again = drop_again;
    SK.blackout = blackout;
    uint32_t end = CA->snd_nxt + 262144;
    SK.targets[0] = end - 5 * 1448;
    SK.targets[1] = end - 2 * 1448;
    SK.ntargets = 2;
    size_t mark = SA->nlog;
    pump(262144, 0, 65536, 60 * SEC);
    run_for(SEC);
    assert_int_equal(SK.nlost, 2);
    return mark;
}

static void test_sack_tail_lost_retransmit(void **state)
{
    (void)state;
    size_t mark = tail_holes_transfer(true, false);
    assert_true(SK.dropped_again[0] && SK.dropped_again[1]);
    check_only_holes_resent(mark, 3);
    assert_int_equal(CA->timeouts, 0);
    check_invariants();
}

/* Holes at the tail, then the link loses everything A sends for half a
 * second: the timer fires, and afterwards only the holes are sent again,
 * never the data B already reported holding between and after them
 * (RFC 6675 5.1), as going back to snd_una would. */
static void test_sack_timeout_skips_sacked(void **state)
{
    (void)state;
    size_t mark = tail_holes_transfer(false, true);
    assert_true(SK.blackout_end != 0);
    check_only_holes_resent(mark, 0);
    assert_true(CA->timeouts >= 1);
    check_invariants();
}

/* A timeout that was spurious (the ACKs were only late): the first ACK
 * after it echoes a time before the retransmission, so the core stops
 * resending and takes its window back (RFC 3522, RFC 4015). */
static bool acks_late;

static struct verdict late_filter(int from, size_t idx, const struct logent *e)
{
    (void)idx;
    (void)e;
    struct verdict v = {PASS, 0, 0};
    if (from == 1 && acks_late) {
        v.extra = 400 * MS;
    }
    return v;
}

static void test_spurious_rto_undone(void **state)
{
    (void)state;
    pair_default();
    handshake();
    for (int i = 0; i < 20; i++) {
        exchange(100);
    }
    /* Only a timestamp echo tells a late ACK from one for the resent data. */
    assert_true(CA->sack_ok);
    assert_int_equal(CA->ts_ok, CONFIG_NET_TCP_TIMESTAMPS);
    uint32_t cwnd0 = CA->cwnd;
    uint32_t ssthresh0 = CA->ssthresh;
    H.filter = late_filter;
    acks_late = true;
    assert_int_equal(send_some(0, 4 * CA->mss), 4 * CA->mss);
    run_for(CA->rto_us + 50 * MS);
    assert_int_equal(CA->timeouts, 1);
    assert_int_equal(CA->cwnd, CA->mss);
    acks_late = false;
    run_for(2 * SEC);
    if (!CONFIG_NET_TCP_TIMESTAMPS) {
        /* Without timestamps the timeout stands: nothing is undone. */
        assert_int_equal(CA->spurious_rtos, 0);
        assert_true(CA->ssthresh < ssthresh0);
        assert_int_equal(CA->snd_una, CA->snd_nxt); /* all acknowledged */
        return;
    }
    assert_int_equal(CA->spurious_rtos, 1);
    /* the tail loss probe and the timeout's segment, nothing after */
    assert_int_equal(CA->retransmits, 2);
    assert_true(CA->cwnd >= cwnd0); /* restored, and grown by the ACKs since */
    assert_int_equal(CA->ssthresh, ssthresh0);
    assert_false(CA->in_recovery);
    assert_int_equal(recv_check(1, 4 * CA->mss), 4 * CA->mss);
    check_invariants();
}

/* Segmentation offload: with tso_max set, A hands down packets of several
 * segments (whole ones, unless the packet takes all that is queued); if
 * such a packet cannot be sent, A goes on one segment at a time. */
static void tso_transfer(bool fail)
{
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    a.snd_buf = b.snd_buf = a.rcv_buf = b.rcv_buf = 262144;
    a.tso_max = 65535 - 40;
    pair(&a, &b);
    handshake();
    run_for(SEC);
    big_fails = fail;
    size_t mark = SA->nlog;
    pump(262144, 0, 65536, 60 * SEC);
    big_fails = false;
    size_t big = 0;
    for (size_t k = mark; k < SA->nlog; k++) {
        const struct logent *e = &SA->log[k];
        if (e->len > CA->mss) {
            big++;
            assert_true(e->len <= a.tso_max);
        }
    }
    if (fail) {
        assert_int_equal(big, 0);
        assert_int_equal(CA->cfg.tso_max, 0);
    } else {
        assert_true(big > 0);
    }
    assert_int_equal(CA->retransmits, 0);
    check_invariants();
}

static void test_tso_packets(void **state)
{
    (void)state;
    tso_transfer(false);
}

static void test_tso_fallback(void **state)
{
    (void)state;
    tso_transfer(true);
}

/* Several holes at the receiver: one block per range, the latest first. */
static size_t holes_base;

static struct verdict holes_filter(int from, size_t idx, const struct logent *e)
{
    struct verdict v = {PASS, 0, 0};
    if (from == 0 && e->len > 0 && (idx == holes_base + 1 || idx == holes_base + 3)) {
        v.fate = DROP;
    }
    return v;
}

static void test_sack_blocks_several_ranges(void **state)
{
    (void)state;
    pair_default();
    handshake();
    uint32_t eff = warm_up();
    uint32_t start = CA->snd_nxt;
    holes_base = SA->nlog;
    H.filter = holes_filter;
    size_t bmark = SB->nlog;
    assert_int_equal(send_some(0, 6 * eff), 6 * eff);
    assert_int_equal(SA->nlog, holes_base + 6);
    run_for(H.delay + MS);
    /* B got segments 0, 2, 4 and 5: the ACK after 5 reports [4, 6) first,
     * then [2, 3). */
    const struct logent *last = NULL;
    for (size_t j = bmark; j < SB->nlog; j++) {
        if (SB->log[j].opts.present & Z_TCPOPT_SACK) {
            last = &SB->log[j];
        }
    }
    assert_non_null(last);
    assert_int_equal(last->ack, start + eff);
    assert_int_equal(last->opts.nsack, 2);
    assert_int_equal(last->opts.sack[0].left, start + 4 * eff);
    assert_int_equal(last->opts.sack[0].right, start + 6 * eff);
    assert_int_equal(last->opts.sack[1].left, start + 2 * eff);
    assert_int_equal(last->opts.sack[1].right, start + 3 * eff);
    H.filter = NULL;
    run_for(5 * SEC);
    assert_int_equal(recv_check(1, 6 * eff), 6 * eff);
    check_invariants();
}

/* SACK is used only when both ends offer it (RFC 2018 2). */
static void test_sack_needs_both(void **state)
{
    (void)state;
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    b.sack = false;
    pair(&a, &b);
    handshake();
    assert_true(SA->log[0].opts.present & Z_TCPOPT_SACK_PERM);
    assert_false(SB->log[0].opts.present & Z_TCPOPT_SACK_PERM);
    assert_false(CA->sack_ok);
    assert_false(CB->sack_ok);
    check_invariants();
}

/* CUBIC: a loss reduces to 0.7 of the flight (RFC 9438 4.6), and the window
 * regains its size before the loss by the cubic's time K (4.2). */
static void test_cubic_reduce_and_regrow(void **state)
{
    (void)state;
    if (!CONFIG_NET_TCP_CUBIC) {
        skip(); /* compiled out (CONFIG_NET_TCP_CUBIC=OFF, the embedded presets) */
    }
    const int drops[] = {30};
    sk_start(drops, 1, Z_TCP_CC_CUBIC);
    pump(262144, 0, 65536, 60 * SEC);
    assert_int_equal(SK.recoveries, 1);
    uint32_t smss = CA->mss;
    uint32_t want = (uint32_t)(SK.flight_in * 0.7);
    assert_between(SK.ssthresh_in, (long long)want - smss, (long long)want + smss);
    assert_true(SK.cwnd_out <= SK.ssthresh_in + smss);
    double wmax = CA->cubic_wmax;
    assert_true(wmax > SK.cwnd_out);
    double k = CA->cubic_k;
    assert_true(k > 0);
    /* keep the sender busy for K and a few round trips */
    H.after = NULL;
    int64_t until = SK.exit_at + (int64_t)(k * SEC) + 10 * H.delay;
    while (H.now < until) {
        pump(262144, 0, 65536, 60 * SEC);
    }
    assert_true(CA->cwnd >= (uint32_t)wmax);
    check_invariants();
}

/* ---- out-of-order arrival --------------------------------------------------------------- */

static size_t ooo_base;

static struct verdict ooo_filter(int from, size_t idx, const struct logent *e)
{
    (void)e;
    struct verdict v = {PASS, 0, 0};
    if (from == 0 && idx >= ooo_base && idx < ooo_base + 5) {
        v.extra = (int64_t)(ooo_base + 5 - idx) * MS;
        if (idx == ooo_base + 2) {
            v.fate = DUP;
            v.dup_extra = 50 * MS;
        }
    }
    return v;
}

static void test_out_of_order(void **state)
{
    (void)state;
    pair_default();
    handshake();
    uint32_t eff = warm_up();
    uint32_t start = CA->snd_nxt;
    ooo_base = SA->nlog;
    H.filter = ooo_filter;
    size_t bmark = SB->nlog;
    int64_t t0 = H.now;
    assert_int_equal(send_some(0, 5 * eff), 5 * eff);
    assert_int_equal(SA->nlog, ooo_base + 5);
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(SA->log[ooo_base + k].len, eff);
        assert_int_equal(SA->log[ooo_base + k].seq, start + k * eff);
    }
    uint32_t end = start + 5 * eff;
    /* Segment 4 arrives first, then 3, 2, 1 and 0: each is acknowledged at
     * once, the gap-filler with everything. */
    for (int k = 1; k <= 5; k++) {
        int64_t t = t0 + H.delay + k * MS;
        run_until(t);
        size_t at = 0;
        const struct logent *e = NULL;
        for (size_t j = bmark; j < SB->nlog; j++) {
            if (SB->log[j].t == t) {
                at++;
                e = &SB->log[j];
            }
        }
        if (at != 1) {
            fail_msg("B sent %zu segments when segment %d arrived", at, 5 - k);
        }
        assert_int_equal(e->len, 0);
        if (k < 5) {
            assert_int_equal(e->ack, start);
            if (CB->sack_ok) {
                /* RFC 2018 4: the first block holds the segment that just came */
                const struct logent *s = &SA->log[ooo_base + 5 - k];
                assert_true(e->opts.present & Z_TCPOPT_SACK);
                assert_true(e->opts.nsack >= 1);
                assert_true(Z_SEQ_LEQ(e->opts.sack[0].left, s->seq));
                assert_true(Z_SEQ_GEQ(e->opts.sack[0].right, s->seq + s->len));
                assert_int_equal(e->opts.sack[0].right, end);
            }
        } else {
            assert_int_equal(e->ack, end);
        }
    }
    assert_int_equal(CB->rcv_nxt, end);
    assert_int_equal(z_tcp_readable(CB), 5 * eff);
    /* the duplicate of segment 2 is acknowledged and not delivered twice */
    int64_t tdup = t0 + H.delay + 3 * MS + 50 * MS;
    run_until(tdup);
    assert_int_equal(z_tcp_readable(CB), 5 * eff);
    assert_int_equal(last_log(1)->t, tdup);
    assert_int_equal(last_log(1)->ack, end);
    assert_int_equal(recv_check(1, 1 << 16), 5 * eff);
    run_for(SEC);
    assert_int_equal(CA->snd_una, end);
    assert_int_equal(z_tcp_readable(CB), 0);
    check_invariants();
}

/* ---- delayed ACK and Nagle ----------------------------------------------------------------- */

static void test_delayed_ack_single(void **state)
{
    (void)state;
    pair_default();
    handshake();
    warm_up();
    size_t bmark = SB->nlog;
    int64_t t0 = H.now;
    assert_int_equal(send_some(0, 100), 100);
    uint32_t end = CA->snd_nxt;
    run_until(t0 + H.delay);
    assert_int_equal(z_tcp_readable(CB), 100);
    assert_int_equal(SB->nlog, bmark); /* not yet */
    run_for(SEC);
    assert_int_equal(SB->nlog, bmark + 1);
    const struct logent *e = &SB->log[bmark];
    assert_int_equal(e->ack, end);
    assert_int_equal(e->len, 0);
    /* RFC 9293 3.8.6.3: the delay is under 0.5 s */
    assert_between(e->t - (t0 + H.delay), 1, 500 * MS - 1);
    check_invariants();
}

/* Quick ACKs at the start: the first 16 data segments of a connection are
 * acknowledged at once, so slow start is not held back by the delay; after
 * them, a lone segment waits for the delayed-ACK timer again. */
static void test_quickack_at_start(void **state)
{
    (void)state;
    pair_default();
    handshake();
    for (int i = 0; i < 16; i++) {
        size_t bmark = SB->nlog;
        int64_t t0 = H.now;
        assert_int_equal(send_some(0, 100), 100);
        run_until(t0 + H.delay);
        assert_int_equal(SB->nlog, bmark + 1);
        assert_int_equal(SB->log[bmark].t, t0 + H.delay);
        assert_int_equal(SB->log[bmark].ack, CA->snd_nxt);
        assert_int_equal(recv_check(1, 100), 100);
        run_for(SEC);
    }
    size_t bmark = SB->nlog;
    int64_t t0 = H.now;
    assert_int_equal(send_some(0, 100), 100);
    run_until(t0 + H.delay);
    assert_int_equal(SB->nlog, bmark); /* the 17th waits */
    run_for(SEC);
    assert_int_equal(SB->nlog, bmark + 1);
    check_invariants();
}

static void test_delayed_ack_piggyback(void **state)
{
    (void)state;
    pair_default();
    handshake();
    warm_up();
    size_t bmark = SB->nlog;
    int64_t t0 = H.now;
    assert_int_equal(send_some(0, 100), 100);
    uint32_t end = CA->snd_nxt;
    run_until(t0 + H.delay);
    assert_int_equal(recv_check(1, 1000), 100);
    assert_int_equal(send_some(1, 50), 50);
    run_for(SEC);
    /* the reply carried the ACK; no separate one followed */
    assert_int_equal(SB->nlog, bmark + 1);
    assert_int_equal(SB->log[bmark].len, 50);
    assert_int_equal(SB->log[bmark].ack, end);
    assert_int_equal(SB->log[bmark].t, t0 + H.delay);
    check_invariants();
}

static void test_delayed_ack_two_full(void **state)
{
    (void)state;
    pair_default();
    handshake();
    uint32_t eff = warm_up();
    size_t mark = SA->nlog, bmark = SB->nlog;
    int64_t t0 = H.now;
    assert_int_equal(send_some(0, 2 * eff), 2 * eff);
    assert_int_equal(SA->nlog, mark + 2);
    uint32_t end = CA->snd_nxt;
    run_until(t0 + H.delay);
    /* RFC 5681 4.2: at least every second full segment is acknowledged */
    assert_int_equal(SB->nlog, bmark + 1);
    assert_int_equal(SB->log[bmark].ack, end);
    assert_int_equal(SB->log[bmark].t, t0 + H.delay);
    run_for(SEC);
    assert_int_equal(SB->nlog, bmark + 1);
    check_invariants();
}

static void nagle(bool nodelay)
{
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    a.nodelay = nodelay;
    pair(&a, &b);
    handshake();
    run_for(SEC);
    size_t mark = SA->nlog;
    assert_int_equal(send_some(0, 10), 10);
    for (int i = 0; i < 5; i++) {
        run_for(MS);
        assert_int_equal(send_some(0, 10), 10);
    }
    run_for(2 * SEC);
    size_t n = 0;
    uint32_t lens[16];
    for (size_t k = mark; k < SA->nlog; k++) {
        if (SA->log[k].len > 0) {
            assert_true(n < 16);
            lens[n++] = SA->log[k].len;
        }
    }
    if (nodelay) {
        assert_int_equal(n, 6);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(lens[k], 10);
        }
    } else {
        /* RFC 9293 3.7.4: small data waits while data is unacknowledged */
        assert_int_equal(n, 2);
        assert_int_equal(lens[0], 10);
        assert_int_equal(lens[1], 50);
    }
    assert_int_equal(recv_check(1, 1000), 60);
    check_invariants();
}

static void test_nagle(void **state)
{
    (void)state;
    nagle(false);
}

/* Nagle does not hold a small segment back when the send buffer could not
 * fill it anyway: with 2 KiB of buffer, the tail of a full buffer goes out
 * with the full segment, not after the peer's ACK. */
static void test_nagle_small_buffer(void **state)
{
    (void)state;
    struct z_tcp_config a = cfg_default(ISN_A), b = cfg_default(ISN_B);
    a.snd_buf = 2048;
    pair(&a, &b);
    handshake();
    warm_up();
    size_t mark = SA->nlog;
    int64_t t0 = H.now;
    assert_int_equal(send_some(0, 2048), 2048);
    assert_int_equal(SA->nlog, mark + 2);
    assert_int_equal(SA->log[mark].len + SA->log[mark + 1].len, 2048);
    assert_int_equal(SA->log[mark + 1].t, t0);
    run_for(SEC);
    assert_int_equal(recv_check(1, 2048), 2048);
    check_invariants();
}

static void test_nodelay(void **state)
{
    (void)state;
    nagle(true);
}

/* ---- robustness -------------------------------------------------------------------------- */

static void random_segment(const struct z_tcp_conn *c, struct z_tcp_hdr *h, size_t *len)
{
    memset(h, 0, sizeof(*h));
    h->sport = 1;
    h->dport = 2;
    h->flags = (uint8_t)rng_below(256);
    switch (rng_below(4)) {
    case 0:
        h->seq = (uint32_t)rng_next();
        break;
    case 1:
        h->seq = c->rcv_nxt + rng_below(140000) - 70000;
        break;
    default:
        h->seq = c->rcv_nxt + rng_below(5) - 2;
        break;
    }
    switch (rng_below(4)) {
    case 0:
        h->ack = (uint32_t)rng_next();
        break;
    case 1:
        h->ack = c->snd_una + rng_below(140000) - 70000;
        break;
    default:
        h->ack = c->snd_una + rng_below(c->snd_max - c->snd_una + 3) - 1;
        break;
    }
    h->window = (uint16_t)rng_next();
    h->hlen = (uint8_t)(Z_TCP_HLEN + 4 * rng_below(11));
    h->urgent = (uint16_t)rng_next();
    h->opts.present = (uint8_t)rng_below(32);
    h->opts.mss = rng_below(4) == 0 ? (uint16_t)rng_below(4) : (uint16_t)rng_next();
    h->opts.wscale = (uint8_t)rng_below(256);
    h->opts.nsack = (uint8_t)rng_below(Z_TCP_MAX_SACK + 1);
    h->opts.ts_val = (uint32_t)rng_next();
    h->opts.ts_ecr = (uint32_t)rng_next();
    for (int k = 0; k < Z_TCP_MAX_SACK; k++) {
        h->opts.sack[k].left = c->snd_una + rng_below(100000) - 50000;
        h->opts.sack[k].right = h->opts.sack[k].left + rng_below(100000) - 1000;
    }
    *len = rng_below(3) == 0 ? 0 : rng_below(3000);
}

static void check_sane(const struct z_tcp_conn *c)
{
    assert_true(c->state <= Z_TCP_TIME_WAIT);
    assert_true(c->snd.len <= c->snd.cap);
    assert_true(c->rcv.len <= c->rcv.cap);
    assert_true(Z_SEQ_LEQ(c->snd_una, c->snd_nxt));
    assert_true(Z_SEQ_LEQ(c->snd_nxt, c->snd_max));
    assert_true(c->error >= 0);
}

static void throw_garbage(int target, int n)
{
    static uint8_t junk[4096];
    struct side *s = &H.s[target];
    for (int i = 0; i < n; i++) {
        struct z_tcp_hdr h;
        size_t len;
        random_segment(&s->c, &h, &len);
        for (size_t k = 0; k < len; k++) {
            junk[k] = (uint8_t)rng_next();
        }
        H.cause = CAUSE_INPUT;
        z_tcp_input(&s->c, &h, junk, len, H.now);
        record_states();
        check_sane(&s->c);
        if (i % 16 == 15) {
            run_for(rng_below(50 * MS));
        }
        if (i % 256 == 255) {
            char buf[4096];
            (void)app_recv(target, buf, sizeof(buf), false);
        }
    }
}

/* Drive a fresh pair until one side is in `st`; returns that side. */
static int reach(enum z_tcp_state st)
{
    pair_default();
    switch (st) {
    case Z_TCP_CLOSED:
        return 0;
    case Z_TCP_SYN_SENT:
        SA->cut = true;
        app_connect();
        return 0;
    case Z_TCP_SYN_RCVD:
        SB->cut = true;
        app_connect();
        run_for(H.delay);
        assert_int_equal(CB->state, Z_TCP_SYN_RCVD);
        return 1;
    case Z_TCP_ESTABLISHED:
        handshake();
        pump(5000, 5000, 2000, 10 * SEC);
        return 0;
    case Z_TCP_FIN_WAIT_1:
        handshake();
        SA->cut = true;
        app_shutdown(0);
        assert_int_equal(CA->state, Z_TCP_FIN_WAIT_1);
        return 0;
    case Z_TCP_FIN_WAIT_2:
        handshake();
        app_shutdown(0);
        run_for(SEC);
        assert_int_equal(CA->state, Z_TCP_FIN_WAIT_2);
        return 0;
    case Z_TCP_CLOSE_WAIT:
        handshake();
        app_shutdown(0);
        run_for(SEC);
        assert_int_equal(CB->state, Z_TCP_CLOSE_WAIT);
        return 1;
    case Z_TCP_LAST_ACK:
        handshake();
        app_shutdown(0);
        run_for(SEC);
        SA->cut = true;
        app_shutdown(1);
        run_for(2 * H.delay);
        assert_int_equal(CB->state, Z_TCP_LAST_ACK);
        return 1;
    case Z_TCP_CLOSING:
        handshake();
        app_shutdown(0);
        app_shutdown(1);
        SA->cut = SB->cut = true;
        run_for(2 * H.delay);
        assert_int_equal(CA->state, Z_TCP_CLOSING);
        return 0;
    case Z_TCP_TIME_WAIT:
        handshake();
        app_shutdown(0);
        run_for(SEC);
        app_shutdown(1);
        run_for(2 * H.delay);
        assert_int_equal(CA->state, Z_TCP_TIME_WAIT);
        return 0;
    default:
        fail_msg("cannot reach %s", z_tcp_state_name(st));
    }
    return -1;
}

static void test_garbage_every_state(void **state)
{
    (void)state;
    static const enum z_tcp_state states[] = {
        Z_TCP_CLOSED,     Z_TCP_SYN_SENT,   Z_TCP_SYN_RCVD, Z_TCP_ESTABLISHED, Z_TCP_FIN_WAIT_1,
        Z_TCP_FIN_WAIT_2, Z_TCP_CLOSE_WAIT, Z_TCP_LAST_ACK, Z_TCP_CLOSING,     Z_TCP_TIME_WAIT,
    };
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        for (int round = 0; round < 3; round++) {
            harness_free();
            harness_reset();
            rng_seed(0x6a7b00 + i * 16 + (uint64_t)round);
            int target = reach(states[i]);
            H.no_pair_check = true;
            throw_garbage(target, 3000);
            /* let it all play out */
            SA->cut = SB->cut = false;
            run_for(3600 * SEC);
            check_sane(CA);
            check_sane(CB);
            assert_true(z_tcp_next_deadline(CA) > H.now);
            assert_true(z_tcp_next_deadline(CB) > H.now);
        }
    }
}

/* Out-of-window segments of every kind leave an established connection as it
 * was (RFC 9293 3.10.7.4 first check; RFC 5961), and it still works. */
static void test_garbage_out_of_window(void **state)
{
    (void)state;
    static uint8_t junk[4096];
    pair_default();
    handshake();
    pump(30000, 30000, 4000, 10 * SEC);
    run_for(SEC);
    uint32_t una = CA->snd_una, nxt = CA->snd_nxt, rnxt = CA->rcv_nxt;
    uint32_t wnd = CA->snd_wnd;
    uint32_t span = CA->rcv_adv - CA->rcv_nxt;
    if (span < CA->cfg.rcv_buf) {
        span = CA->cfg.rcv_buf;
    }
    for (int i = 0; i < 20000; i++) {
        struct z_tcp_hdr h;
        size_t len;
        random_segment(CA, &h, &len);
        uint32_t seglen =
            (uint32_t)len + ((h.flags & Z_TCP_SYN) ? 1 : 0) + ((h.flags & Z_TCP_FIN) ? 1 : 0);
        if (rng_below(2)) {
            h.seq = rnxt + span + 65536 + rng_below(1u << 30);
        } else {
            h.seq = rnxt - seglen - 65536 - rng_below(1u << 30);
        }
        for (size_t k = 0; k < len; k++) {
            junk[k] = (uint8_t)rng_next();
        }
        H.cause = CAUSE_INPUT;
        z_tcp_input(CA, &h, junk, len, H.now);
        record_states();
        if (CA->state != Z_TCP_ESTABLISHED || CA->snd_una != una || CA->rcv_nxt != rnxt ||
            CA->error != 0 || CA->snd_nxt != nxt || CA->snd_wnd != wnd) {
            fail_msg("segment flags %#x seq %u ack %u len %zu (rcv_nxt %u) changed A: %s una %u "
                     "nxt %u rcv_nxt %u wnd %u error %d",
                     h.flags, h.seq, h.ack, len, rnxt, z_tcp_state_name(CA->state), CA->snd_una,
                     CA->snd_nxt, CA->rcv_nxt, CA->snd_wnd, CA->error);
        }
        assert_int_equal(z_tcp_readable(CA), 0);
        if (i % 64 == 63) {
            run_for(MS);
        }
    }
    run_for(SEC);
    pump(262144, 262144, 16384, 60 * SEC);
    assert_int_equal(CA->state, Z_TCP_ESTABLISHED);
    assert_int_equal(CB->state, Z_TCP_ESTABLISHED);
    check_invariants();
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_handshake),
        T(test_synack_without_options),
        T(test_syn_without_options),
        T(test_syn_with_timestamps),
        T(test_mss_negotiated),
        T(test_transfer_one_way),
        T(test_transfer_both_ways),
        T(test_flow_control_persist),
        T(test_lost_window_update),
        T(test_active_close),
        T(test_time_wait_reacks_fin),
        T(test_simultaneous_close),
        T(test_half_close),
        T(test_close_in_syn_rcvd),
        T(test_fin_acked_after_spurious_rto),
        T(test_send_errors),
        T(test_abort_sends_rst),
        T(test_rst_in_window_exact),
        T(test_rst_out_of_window_ignored),
        T(test_rst_in_window_challenge_ack),
        T(test_syn_in_established_challenge_ack),
        T(test_ack_of_unsent_data),
        T(test_reset_reply_fields),
        T(test_connection_refused),
        T(test_syn_sent_bad_segments),
        T(test_retransmit_lost_data),
        T(test_syn_retransmit_backoff),
        T(test_syn_retransmit_rto_3s),
        T(test_rto_converges),
        T(test_rto_floor),
        T(test_karn),
        T(test_give_up_data),
        T(test_give_up_syn),
        T(test_fast_retransmit),
        T(test_sack_recovers_several_holes),
        T(test_sack_lost_retransmit),
        T(test_sack_tail_lost_retransmit),
        T(test_sack_timeout_skips_sacked),
        T(test_spurious_rto_undone),
        T(test_tso_packets),
        T(test_tso_fallback),
        T(test_sack_blocks_several_ranges),
        T(test_sack_needs_both),
        T(test_cubic_reduce_and_regrow),
        T(test_out_of_order),
        T(test_delayed_ack_single),
        T(test_quickack_at_start),
        T(test_delayed_ack_piggyback),
        T(test_delayed_ack_two_full),
        T(test_nagle),
        T(test_nodelay),
        T(test_nagle_small_buffer),
        T(test_garbage_every_state),
        T(test_garbage_out_of_window),
    };
#undef T
    return cmocka_run_group_tests_name("tcp_core", tests, NULL, NULL);
}
