/* libFuzzer target for the TCP connection core (src/net/tcp.c). The input's
 * first bytes choose the connection's settings (buffer sizes, MSS, Nagle,
 * both ISNs, retry limits, SACK, Reno or CUBIC) and a starting state; a
 * scripted, valid exchange with a simulated peer brings the connection
 * there (SYN-SENT, SYN-RCVD, ESTABLISHED from either side, FIN-WAIT-1/2,
 * CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT, or a listener that accepts the
 * first SYN). The rest is a program: segments from the peer with chosen
 * sequence and acknowledgement numbers, flags, windows and options (built
 * as bytes and run through the wire parser, raw option bytes included),
 * time advancing through the timers, and the application's send, receive,
 * peek, shutdown, abort and keepalive calls. After every step the harness
 * checks what must hold whatever the peer does, and aborts otherwise:
 *
 *  - snd_una <= snd_nxt <= snd_max, nothing sent beyond the data and FIN
 *    the application queued, and snd_una - iss accounts exactly for the
 *    bytes released from the send ring (plus SYN and FIN);
 *  - every data segment carries the bytes the application wrote at the
 *    offset its sequence number names, no more than MSS of them, inside the
 *    send ring and inside a window the peer offered;
 *  - the peer's payload always carries a pattern keyed by sequence number,
 *    so every byte the application reads must match the pattern at its
 *    stream offset, and rcv_nxt - irs accounts for read, buffered and FIN;
 *  - rings within capacity, the out-of-order queue sorted, counted and
 *    beyond rcv_nxt; states agree with FIN flags; only legal transitions;
 *    nothing sent and no timer armed once CLOSED; a timer that ran is not
 *    due again at the same instant.
 *
 * FUZZ_TCP_TRACE=1 in the environment prints every segment both ways, which
 * is the quickest way to read a crashing input. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The core itself, so the harness sees its private out-of-order queue; it
 * is compiled here rather than listed as a source of this target. */
#include "net/tcp.c"
#include "sockets/iov.h"
#include "wire/wire.h"

/* Not assert(): release builds define NDEBUG. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed (state %s)\n", __FILE__, __LINE__, #cond,     \
                    z_tcp_state_name(F.c.state));                                                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define ADDR_US   0xc0000201u
#define ADDR_PEER 0xc0000202u
#define MAX_PL    16384

enum start {
    ST_SYN_SENT,
    ST_SYN_RCVD,
    ST_EST_ACTIVE,
    ST_EST_PASSIVE,
    ST_FIN_WAIT_1,
    ST_FIN_WAIT_2,
    ST_CLOSE_WAIT,
    ST_CLOSING,
    ST_LAST_ACK,
    ST_TIME_WAIT,
    ST_LISTEN,
    ST_COUNT
};

struct input {
    const uint8_t *p;
    size_t n;
};

static struct {
    struct z_tcp_conn c;
    int64_t now;
    bool listen;       /* a listener that has not accepted a SYN yet */
    bool xmit_ok;      /* the call in progress may send */
    int xmit_fail;     /* the next sends fail (no buffer) */
    bool have_irs;     /* the peer's ISN is known */
    uint32_t irs;      /* ... and what it is */
    uint32_t peer_nxt; /* the next sequence number the simulated peer sends */
    uint32_t peer_ts;  /* the peer's timestamp clock */
    uint64_t app_sent; /* bytes z_tcp_send accepted */
    uint64_t app_read; /* bytes z_tcp_recv consumed */
    bool edge_valid;   /* right edge of the windows the peer offered */
    uint32_t edge;
    bool edge_off; /* the peer was inconsistent: the edge no longer bounds */
    bool peer_seq_valid;
    uint32_t peer_seq_max;                     /* highest sequence number the peer used */
    uint8_t last_seg[Z_TCP_MAX_HLEN + MAX_PL]; /* the peer's last segment, to replay */
    size_t last_len;
} F;

static uint8_t seg[Z_TCP_MAX_HLEN + MAX_PL];
static bool trace; /* FUZZ_TCP_TRACE=1: print every segment, to read a crash */

static void trace_seg(const char *dir, const struct z_tcp_hdr *h, size_t len)
{
    if (trace) {
        fprintf(stderr,
                "%lld %s %-11s flags %02x seq %u ack %u win %u len %zu ts %d/%u/%u | una %u nxt %u "
                "max %u wnd %u rcv_nxt %u adv %u\n",
                (long long)F.now, dir, z_tcp_state_name(F.c.state), h->flags, h->seq, h->ack,
                h->window, len, !!(h->opts.present & Z_TCPOPT_TS), h->opts.ts_val, h->opts.ts_ecr,
                F.c.snd_una, F.c.snd_nxt, F.c.snd_max, F.c.snd_wnd, F.c.rcv_nxt, F.c.rcv_adv);
    }
}

static uint8_t get8(struct input *in)
{
    if (in->n == 0) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

static uint16_t get16(struct input *in)
{
    uint16_t hi = get8(in);
    return (uint16_t)(hi << 8 | get8(in));
}

static uint32_t get32(struct input *in)
{
    uint32_t hi = get16(in);
    return hi << 16 | get16(in);
}

/* Byte `k` of what our application writes. */
static uint8_t out_pat(uint64_t k)
{
    return (uint8_t)((k * 0x9e3779b1u) >> 13 ^ k);
}

/* The peer's byte carried at sequence number `seq`, wherever it appears. */
static uint8_t in_pat(uint32_t seq)
{
    uint32_t x = seq * 0x85ebca6bu;
    x ^= x >> 15;
    return (uint8_t)(x * 0xc2b2ae35u >> 24);
}

/* ---- the connection's output ------------------------------------------------------------ */

static int xmit(struct z_tcp_conn *c, const struct z_tcp_hdr *h, size_t off, size_t len)
{
    trace_seg("out", h, len);
    CHECK(F.xmit_ok);
    bool syn = h->flags & Z_TCP_SYN, rst = h->flags & Z_TCP_RST, fin = h->flags & Z_TCP_FIN;
    if (syn) {
        CHECK(h->seq == c->iss && len == 0 && !fin && !rst);
    }
    if (!syn && !rst) {
        CHECK(h->flags & Z_TCP_ACK); /* RFC 9293 3.10.7 */
        CHECK(((h->opts.present & Z_TCPOPT_TS) != 0) == c->ts_ok);
    }
    if (len > 0) {
        CHECK(!syn && !rst);
        CHECK(len <= c->mss);
        CHECK(off + len <= c->snd.len);
        CHECK(F.app_sent >= c->snd.len);
        uint64_t base = F.app_sent - c->snd.len + off; /* stream offset of the first byte */
        CHECK(h->seq == c->iss + 1 + (uint32_t)base);
        static uint8_t tmp[65536];
        CHECK(len <= sizeof(tmp));
        CHECK(z_ring_peek(&c->snd, off, tmp, len) == len);
        for (size_t i = 0; i < len; i++) {
            CHECK(tmp[i] == out_pat(base + i));
        }
        if (F.edge_valid && !F.edge_off) {
            CHECK(Z_SEQ_LEQ(h->seq + (uint32_t)len, F.edge));
        }
    }
    if (fin && !rst) {
        CHECK(c->fin_queued);
        CHECK(h->seq + (uint32_t)len == c->iss + 1 + (uint32_t)F.app_sent);
    }
    if (F.xmit_fail > 0) {
        F.xmit_fail--;
        return -ENOBUFS;
    }
    return 0;
}

static void notify(struct z_tcp_conn *c)
{
    (void)c;
}

static const struct z_tcp_ops ops = {.xmit = xmit, .notify = notify};

/* ---- invariants ------------------------------------------------------------------------- */

static bool legal(enum z_tcp_state from, enum z_tcp_state to)
{
    if (from == to || to == Z_TCP_CLOSED) {
        return true;
    }
    switch (from) {
    case Z_TCP_SYN_SENT:
        return to == Z_TCP_SYN_RCVD || to == Z_TCP_ESTABLISHED;
    case Z_TCP_SYN_RCVD:
        return to == Z_TCP_ESTABLISHED || to == Z_TCP_CLOSE_WAIT || to == Z_TCP_FIN_WAIT_1;
    case Z_TCP_ESTABLISHED:
        return to == Z_TCP_FIN_WAIT_1 || to == Z_TCP_CLOSE_WAIT;
    case Z_TCP_FIN_WAIT_1:
        return to == Z_TCP_FIN_WAIT_2 || to == Z_TCP_CLOSING || to == Z_TCP_TIME_WAIT;
    case Z_TCP_FIN_WAIT_2:
    case Z_TCP_CLOSING:
        return to == Z_TCP_TIME_WAIT;
    case Z_TCP_CLOSE_WAIT:
        return to == Z_TCP_LAST_ACK;
    default:
        return false;
    }
}

/* Within its limit, and (for a lazy ring) no bytes without a buffer. */
static void check_ring(const struct z_ring *r)
{
    CHECK(r->len <= r->limit && r->len <= r->cap);
    CHECK(r->cap == 0 || r->head < r->cap);
    CHECK(r->cap == 0 || r->buf != NULL);
}

static void check_invariants(enum z_tcp_state before)
{
    struct z_tcp_conn *c = &F.c;
    enum z_tcp_state st = c->state;
    CHECK(legal(before, st));
    check_ring(&c->snd);
    check_ring(&c->rcv);
    if (st == Z_TCP_CLOSED) {
        CHECK(z_tcp_next_deadline(c) == INT64_MAX);
    }
    if (F.listen) {
        return;
    }
    /* Send side. */
    CHECK(Z_SEQ_LEQ(c->snd_una, c->snd_nxt) && Z_SEQ_LEQ(c->snd_nxt, c->snd_max));
    CHECK(F.app_sent >= c->snd.len);
    uint32_t fin = c->fin_queued ? 1 : 0;
    CHECK(Z_SEQ_LEQ(c->snd_max, c->iss + 1 + (uint32_t)F.app_sent + fin));
    if (c->snd_una != c->iss) {
        uint32_t acked = (uint32_t)(F.app_sent - c->snd.len);
        uint32_t d = c->snd_una - c->iss - 1 - acked;
        CHECK(d == 0 || (d == 1 && c->fin_queued && c->snd.len == 0));
    }
    if (st == Z_TCP_FIN_WAIT_2 || st == Z_TCP_TIME_WAIT) {
        CHECK(c->snd_una == c->iss + 2 + (uint32_t)F.app_sent);
    }
    if (st == Z_TCP_FIN_WAIT_1 || st == Z_TCP_FIN_WAIT_2 || st == Z_TCP_CLOSING ||
        st == Z_TCP_LAST_ACK || st == Z_TCP_TIME_WAIT) {
        CHECK(c->fin_queued);
    }
    /* The SACK scoreboard: sorted, disjoint ranges of sent data above snd_una. */
    CHECK(c->nsacked >= 0 && c->nsacked <= Z_TCP_SACK_RANGES);
    for (int i = 0; i < c->nsacked; i++) {
        const struct z_tcp_range *r = &c->sacked[i];
        CHECK(Z_SEQ_LT(r->left, r->right));
        CHECK(Z_SEQ_GEQ(r->left, c->snd_una) && Z_SEQ_LEQ(r->right, c->snd_max));
        CHECK(i == 0 || Z_SEQ_LT(c->sacked[i - 1].right, r->left));
    }
    if (st >= Z_TCP_ESTABLISHED) {
        CHECK(c->mss > 0 && c->mss <= c->cfg.mss);
        CHECK(c->cwnd >= c->mss);
        CHECK(c->rto_us >= RTO_MIN_US && c->rto_us <= RTO_MAX_US);
    }
    /* Receive side. */
    if (!F.have_irs && st != Z_TCP_CLOSED && st != Z_TCP_SYN_SENT) {
        F.have_irs = true;
        F.irs = c->irs;
        F.peer_nxt = c->irs + 1;
    }
    if (F.have_irs) {
        CHECK(c->irs == F.irs);
        uint32_t expect = F.irs + 1 + (uint32_t)(F.app_read + c->rcv.len) + (c->rcv_fin ? 1 : 0);
        CHECK(c->rcv_nxt == expect);
    } else {
        CHECK(c->rcv.len == 0);
    }
    bool fin_state = st == Z_TCP_CLOSE_WAIT || st == Z_TCP_CLOSING || st == Z_TCP_LAST_ACK ||
                     st == Z_TCP_TIME_WAIT;
    if (fin_state) {
        CHECK(c->rcv_fin);
    }
    if (c->rcv_fin) {
        CHECK(fin_state || st == Z_TCP_CLOSED);
    }
    /* The out-of-order queue: sorted, beyond rcv_nxt, counted, and holding
     * the peer's bytes at their sequence numbers. */
    size_t bytes = 0;
    for (const struct z_tcp_ooo *o = c->ooo; o != NULL; o = o->next) {
        CHECK(Z_SEQ_GT(o->seq, c->rcv_nxt));
        CHECK(o->next == NULL || Z_SEQ_LEQ(o->seq, o->next->seq));
        for (uint32_t i = 0; i < o->len; i++) {
            CHECK(o->data[i] == in_pat(o->seq + i));
        }
        bytes += o->len;
    }
    CHECK(bytes == c->ooo_bytes);
    CHECK(c->ooo_bytes <= c->cfg.rcv_buf);
}

/* ---- the peer's segments ---------------------------------------------------------------- */

/* Hand one segment, as bytes, to the connection the way the glue would:
 * parse it (dropping what does not parse), then the listener or the
 * connection. */
static void deliver_bytes(const uint8_t *buf, size_t len, bool csum)
{
    struct z_tcp_hdr h;
    int hl =
        csum ? z_tcp_parse(buf, len, ADDR_PEER, ADDR_US, &h) : z_tcp_parse_nocsum(buf, len, &h);
    if (hl < 0) {
        return; /* malformed: the glue counts and drops it */
    }
    CHECK(hl >= Z_TCP_HLEN && (size_t)hl <= len);
    if (len <= sizeof(F.last_seg) && buf != F.last_seg) {
        memcpy(F.last_seg, buf, len);
        F.last_len = len;
    }
    const uint8_t *payload = buf + hl;
    size_t plen = len - (size_t)hl;
    trace_seg("in ", &h, plen);
    struct z_tcp_conn *c = &F.c;
    enum z_tcp_state before = c->state;
    if (F.listen) {
        if ((h.flags & (Z_TCP_SYN | Z_TCP_ACK | Z_TCP_RST)) == Z_TCP_SYN) {
            F.listen = false;
            F.xmit_ok = true;
            CHECK(z_tcp_accept_syn(c, &h, F.now) == 0);
            CHECK(c->state == Z_TCP_SYN_RCVD);
            before = Z_TCP_SYN_RCVD;
        } else {
            struct z_tcp_hdr out;
            bool r = z_tcp_reset_reply(&h, plen, &out);
            CHECK(r == !(h.flags & Z_TCP_RST));
            if (r) {
                CHECK(out.flags & Z_TCP_RST);
                CHECK(out.sport == h.dport && out.dport == h.sport);
                if (h.flags & Z_TCP_ACK) {
                    CHECK(out.seq == h.ack && !(out.flags & Z_TCP_ACK));
                } else {
                    CHECK(out.ack == h.seq + (uint32_t)plen + !!(h.flags & Z_TCP_SYN) +
                                         !!(h.flags & Z_TCP_FIN));
                }
            }
            return;
        }
    } else {
        /* The window a consistent ACK offers bounds what may be sent. Once
         * the peer's sequence numbers go backwards, RFC 9293's SND.WL1 rule
         * may keep a window offered against an older ACK, applied from the
         * newer SND.UNA: from then on the bound is not checked. */
        if (F.peer_seq_valid && Z_SEQ_LT(h.seq, F.peer_seq_max)) {
            F.edge_off = true;
        }
        if (!F.peer_seq_valid || Z_SEQ_GT(h.seq, F.peer_seq_max)) {
            F.peer_seq_max = h.seq;
            F.peer_seq_valid = true;
        }
        if ((h.flags & Z_TCP_ACK) && !(h.flags & Z_TCP_RST) && c->state != Z_TCP_CLOSED &&
            Z_SEQ_GEQ(h.ack, c->snd_una - (1u << 30)) && Z_SEQ_LEQ(h.ack, c->snd_max)) {
            unsigned shift = (h.flags & Z_TCP_SYN) ? 0 : c->snd_wscale;
            if (c->state == Z_TCP_SYN_SENT) {
                shift = 0;
            }
            uint32_t e = h.ack + ((uint32_t)h.window << shift);
            if (!F.edge_valid || Z_SEQ_GT(e, F.edge)) {
                F.edge = e;
                F.edge_valid = true;
            }
        }
        F.xmit_ok = c->state != Z_TCP_CLOSED;
        z_tcp_input(c, &h, payload, plen, F.now);
    }
    F.xmit_ok = false;
    check_invariants(before);
}

/* Fill the payload for sequence number seq with the peer's pattern. */
static void fill_payload(uint8_t *dst, uint32_t seq, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        dst[i] = in_pat(seq + (uint32_t)i);
    }
}

/* A well-formed segment from the peer, through the encoder and the parser
 * with its checksum. */
static void peer_send(struct z_tcp_hdr *h, size_t len)
{
    h->sport = 80;
    h->dport = 40000;
    size_t hl = z_tcp_hdr_len(&h->opts);
    if (len > MAX_PL) {
        len = MAX_PL;
    }
    fill_payload(seg + hl, h->seq, len);
    int rc = z_tcp_emit(seg, sizeof(seg), ADDR_PEER, ADDR_US, h, len);
    CHECK(rc == (int)hl);
    deliver_bytes(seg, hl + len, true);
}

/* The peer's timestamp option, moving forward. */
static void peer_ts(struct z_tcp_hdr *h)
{
    h->opts.present |= Z_TCPOPT_TS;
    h->opts.ts_val = ++F.peer_ts;
    h->opts.ts_ecr = (uint32_t)(F.now / 1000);
}

/* A plain in-order segment from a well-behaved peer. */
static void peer_segment(uint8_t flags, size_t len, uint32_t ack, uint16_t window)
{
    struct z_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.seq = F.peer_nxt;
    h.ack = ack;
    h.flags = flags;
    h.window = window;
    peer_ts(&h);
    peer_send(&h, len);
    F.peer_nxt += (uint32_t)len + ((flags & Z_TCP_FIN) ? 1 : 0);
}

static uint8_t app_buf[65536];

/* The application writes n bytes; returns what was accepted. */
static ssize_t app_send(size_t n, int64_t now)
{
    if (n > sizeof(app_buf)) {
        n = sizeof(app_buf);
    }
    for (size_t i = 0; i < n; i++) {
        app_buf[i] = out_pat(F.app_sent + i);
    }
    /* Two vectors, so the iterator crosses a boundary. */
    struct iovec iov[2] = {{app_buf, n / 3}, {app_buf + n / 3, n - n / 3}};
    struct z_iov_iter it;
    z_iov_iter_init(&it, iov, 2);
    struct z_tcp_conn *c = &F.c;
    enum z_tcp_state st = c->state;
    size_t space = z_tcp_writable(c);
    bool fin = c->fin_queued;
    bool refused = fin || st == Z_TCP_CLOSED || st == Z_TCP_TIME_WAIT || st == Z_TCP_SYN_SENT ||
                   st == Z_TCP_SYN_RCVD || st == Z_TCP_LISTEN;
    /* Counted before the call: the bytes may leave during it. */
    size_t expect = refused ? 0 : (n < space ? n : space);
    F.app_sent += expect;
    F.xmit_ok = st != Z_TCP_CLOSED;
    ssize_t r = z_tcp_send(c, &it, n, now);
    F.xmit_ok = false;
    if (fin || st == Z_TCP_CLOSED || st == Z_TCP_TIME_WAIT) {
        CHECK(r == -EPIPE);
    } else if (refused) {
        CHECK(r == -ENOTCONN);
    } else {
        CHECK(r >= 0 && (size_t)r == expect);
    }
    check_invariants(st);
    return r;
}

static void app_recv(size_t n, bool peek)
{
    struct z_tcp_conn *c = &F.c;
    if (n > sizeof(app_buf)) {
        n = sizeof(app_buf);
    }
    struct iovec iov[2] = {{app_buf, n / 2}, {app_buf + n / 2, n - n / 2}};
    struct z_iov_iter it;
    z_iov_iter_init(&it, iov, 2);
    enum z_tcp_state st = c->state;
    size_t avail = z_tcp_readable(c);
    F.xmit_ok = st != Z_TCP_CLOSED;
    size_t r = z_tcp_recv(c, &it, n, peek, F.now);
    F.xmit_ok = false;
    CHECK(r == (n < avail ? n : avail));
    if (r > 0) {
        CHECK(F.have_irs);
    }
    for (size_t i = 0; i < r; i++) {
        CHECK(app_buf[i] == in_pat(F.irs + 1 + (uint32_t)(F.app_read + i)));
    }
    if (!peek) {
        F.app_read += r;
    }
    check_invariants(st);
}

static void do_shutdown(void)
{
    enum z_tcp_state st = F.c.state;
    F.xmit_ok = st != Z_TCP_CLOSED;
    z_tcp_shutdown_wr(&F.c, F.now);
    F.xmit_ok = false;
    check_invariants(st);
}

/* Run every timer due up to `target`, in order, then set the clock there. */
static void advance(int64_t target)
{
    struct z_tcp_conn *c = &F.c;
    for (int i = 0; i < 256; i++) {
        int64_t d = z_tcp_next_deadline(c);
        if (d > target) {
            break;
        }
        if (d > F.now) {
            F.now = d;
        }
        enum z_tcp_state st = c->state;
        F.xmit_ok = st != Z_TCP_CLOSED;
        z_tcp_timer(c, F.now);
        F.xmit_ok = false;
        CHECK(z_tcp_next_deadline(c) > F.now); /* else the glue would spin */
        check_invariants(st);
    }
    if (target > F.now) {
        F.now = target;
    }
}

/* ---- the program ------------------------------------------------------------------------ */

/* Options chosen by the input, for a structured segment. */
static void fuzz_options(struct input *in, struct z_tcp_hdr *h)
{
    uint8_t m = get8(in);
    if (m & 1) {
        h->opts.present |= Z_TCPOPT_MSS;
        h->opts.mss = get16(in);
    }
    if (m & 2) {
        h->opts.present |= Z_TCPOPT_WSCALE;
        h->opts.wscale = get8(in);
    }
    if (m & 4) {
        h->opts.present |= Z_TCPOPT_SACK_PERM;
    }
    if (m & 8) {
        h->opts.present |= Z_TCPOPT_TS;
        /* Mostly near what the connection expects, sometimes anything. */
        h->opts.ts_val = (m & 0x40) ? get32(in) : F.c.ts_recent + (uint32_t)(int8_t)get8(in);
        h->opts.ts_ecr = (m & 0x80) ? get32(in) : (uint32_t)(F.now / 1000);
    }
    if (m & 0x10) {
        h->opts.present |= Z_TCPOPT_SACK;
        h->opts.nsack = (uint8_t)(1 + get8(in) % Z_TCP_MAX_SACK);
        for (int k = 0; k < h->opts.nsack; k++) {
            h->opts.sack[k].left = F.c.snd_una + get16(in);
            h->opts.sack[k].right = h->opts.sack[k].left + get16(in);
        }
    }
}

static uint32_t pick_seq(struct input *in)
{
    uint8_t mode = get8(in);
    struct z_tcp_conn *c = &F.c;
    switch (mode % 6) {
    case 0:
        return c->rcv_nxt;
    case 1:
        return c->rcv_nxt + get16(in);
    case 2:
        return c->rcv_nxt - get16(in);
    case 3:
        return F.peer_nxt;
    case 4:
        return c->rcv_adv - (mode >> 3);
    default:
        return get32(in);
    }
}

static uint32_t pick_ack(struct input *in)
{
    uint8_t mode = get8(in);
    struct z_tcp_conn *c = &F.c;
    uint32_t span = c->snd_max - c->snd_una;
    switch (mode % 7) {
    case 0:
        return c->snd_max;
    case 1:
        return c->snd_nxt;
    case 2:
        return c->snd_una;
    case 3:
        return c->snd_una + (span ? get16(in) % (span + 1) : 0);
    case 4:
        return c->snd_una - get16(in);
    case 5:
        return c->snd_max + get16(in);
    default:
        return get32(in);
    }
}

static size_t pick_len(struct input *in)
{
    uint8_t m = get8(in);
    switch (m & 3) {
    case 0:
        return 0;
    case 1:
        return m >> 2;
    case 2:
        return F.c.mss < MAX_PL ? F.c.mss : MAX_PL;
    default:
        return get16(in) % MAX_PL;
    }
}

/* A segment built field by field. */
static void op_segment(struct input *in)
{
    struct z_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.flags = get8(in);
    h.seq = pick_seq(in);
    h.ack = pick_ack(in);
    h.window = get16(in);
    fuzz_options(in, &h);
    peer_send(&h, pick_len(in));
}

/* A segment whose option bytes and data offset come straight from the
 * input (malformed lengths included), parsed without a checksum. */
static void op_raw_segment(struct input *in)
{
    uint8_t flags = get8(in);
    uint32_t sq = pick_seq(in);
    uint32_t ak = pick_ack(in);
    uint16_t window = get16(in);
    uint8_t olen = get8(in) % 41;
    uint8_t doff = get8(in);
    size_t hl = Z_TCP_HLEN + olen;
    memset(seg, 0, Z_TCP_MAX_HLEN);
    z_put_be16(seg, 80);
    z_put_be16(seg + 2, 40000);
    z_put_be32(seg + 4, sq);
    z_put_be32(seg + 8, ak);
    size_t padded = (hl + 3) & ~(size_t)3;
    seg[12] = (doff & 0x80) ? (uint8_t)(doff << 4) : (uint8_t)((padded / 4) << 4);
    seg[13] = flags;
    z_put_be16(seg + 14, window);
    for (size_t i = 0; i < olen; i++) {
        seg[Z_TCP_HLEN + i] = get8(in);
    }
    /* The payload starts where the data offset says, even inside the
     * option bytes written above. */
    size_t hdr = (size_t)(seg[12] >> 4) * 4;
    if (hdr < Z_TCP_HLEN) {
        hdr = Z_TCP_HLEN; /* does not parse anyway */
    }
    size_t len = pick_len(in);
    fill_payload(seg + hdr, sq, len);
    deliver_bytes(seg, hdr + len, false);
}

/* In-order data (and maybe FIN) from a well-behaved peer, acknowledging
 * everything sent. */
static void op_peer_data(struct input *in)
{
    uint8_t m = get8(in);
    size_t len = pick_len(in);
    uint8_t flags = Z_TCP_ACK | ((m & 1) ? Z_TCP_FIN : 0) | ((m & 2) ? Z_TCP_PSH : 0);
    F.peer_nxt = F.c.rcv_nxt + ((m & 4) ? (uint32_t)get16(in) : 0); /* maybe past a hole */
    peer_segment(flags, len, F.c.snd_max, (m & 8) ? get16(in) : 65535);
}

static void op_peer_ack(struct input *in)
{
    struct z_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.seq = F.c.rcv_nxt;
    h.ack = pick_ack(in);
    h.flags = Z_TCP_ACK;
    h.window = get16(in);
    if (F.c.ts_ok) {
        peer_ts(&h);
    }
    peer_send(&h, 0);
}

static void run_program(struct input *in)
{
    while (in->n > 0) {
        uint8_t op = get8(in);
        switch (op % 16) {
        case 0:
        case 1:
            op_segment(in);
            break;
        case 2:
            op_raw_segment(in);
            break;
        case 3:
        case 4:
            op_peer_data(in);
            break;
        case 5:
        case 6:
            op_peer_ack(in);
            break;
        case 7: {
            uint16_t v = get16(in);
            advance(F.now + (int64_t)v * v); /* up to about 71 minutes */
            break;
        }
        case 8: {
            int64_t d = z_tcp_next_deadline(&F.c);
            if (d != INT64_MAX) {
                advance(d);
            }
            break;
        }
        case 9:
            app_send(get16(in), F.now);
            break;
        case 10:
            app_recv(get16(in), (op & 0x10) != 0);
            break;
        case 11:
            do_shutdown();
            break;
        case 12:
            if (op & 0x10) {
                /* Rare on purpose: the connection is over after it. */
                enum z_tcp_state st = F.c.state;
                F.xmit_ok = st != Z_TCP_CLOSED;
                z_tcp_abort(&F.c, F.now);
                F.xmit_ok = false;
                CHECK(F.c.state == Z_TCP_CLOSED);
                check_invariants(st);
            }
            break;
        case 13: {
            uint8_t k = get8(in);
            enum z_tcp_state st = F.c.state;
            z_tcp_set_keepalive(&F.c, k & 1, (int64_t)(1 + (k >> 1 & 7)) * 1000000,
                                (int64_t)(1 + (k >> 4 & 3)) * 1000000, 1 + (k >> 6), F.now);
            check_invariants(st);
            break;
        }
        case 14:
            F.xmit_fail = get8(in) % 4;
            break;
        default:
            if (F.last_len > 0) {
                deliver_bytes(F.last_seg, F.last_len, true); /* a duplicate */
            }
            break;
        }
    }
}

/* ---- reaching the starting state -------------------------------------------------------- */

static void expect_state(enum z_tcp_state st)
{
    if (F.c.state != st) {
        fprintf(stderr,
                "scripted exchange: %s, expected %s (rcv_nxt %u, peer %u, irs %u, ts_recent %u, "
                "peer_ts %u)\n",
                z_tcp_state_name(F.c.state), z_tcp_state_name(st), F.c.rcv_nxt, F.peer_nxt, F.c.irs,
                F.c.ts_recent, F.peer_ts);
        abort();
    }
}

/* The peer's SYN or SYN-ACK, with the options the input chose. */
static void peer_syn(struct input *in, uint8_t flags, uint32_t ack)
{
    struct z_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    uint8_t m = get8(in);
    h.seq = F.irs;
    h.ack = ack;
    h.flags = flags;
    h.window = get16(in);
    if (m & 1) {
        h.opts.present |= Z_TCPOPT_MSS;
        h.opts.mss = get16(in);
    }
    if (m & 2) {
        h.opts.present |= Z_TCPOPT_WSCALE;
        h.opts.wscale = get8(in);
    }
    if (m & 4) {
        h.opts.present |= Z_TCPOPT_SACK_PERM;
    }
    if (m & 8) {
        peer_ts(&h);
    }
    peer_send(&h, 0);
}

/* Everything we sent acknowledged, with a wide window, until the send
 * buffer (and FIN) is out and acknowledged. */
static void peer_ack_all(void)
{
    struct z_tcp_conn *c = &F.c;
    for (int i = 0; i < 4096 && (c->snd_una != c->snd_max || c->snd.len > 0); i++) {
        uint32_t una = c->snd_una, max = c->snd_max;
        peer_segment(Z_TCP_ACK, 0, c->snd_max, 65535);
        if (c->snd_una == una && c->snd_max == max && z_tcp_next_deadline(c) != INT64_MAX) {
            advance(z_tcp_next_deadline(c)); /* stuck: let a timer move it */
        }
        F.now += 100;
    }
    if (c->snd_una != c->snd_max || c->snd.len > 0) {
        fprintf(stderr, "scripted exchange: the send buffer never drained\n");
        abort();
    }
}

static void establish(struct input *in, bool active, uint8_t pre)
{
    struct z_tcp_conn *c = &F.c;
    if (active) {
        F.xmit_ok = true;
        CHECK(z_tcp_connect(c, F.now) == 0);
        F.xmit_ok = false;
        expect_state(Z_TCP_SYN_SENT);
        F.now += 1000;
        peer_syn(in, Z_TCP_SYN | Z_TCP_ACK, c->iss + 1);
        expect_state(Z_TCP_ESTABLISHED);
    } else {
        F.listen = true;
        peer_syn(in, Z_TCP_SYN, 0);
        expect_state(Z_TCP_SYN_RCVD);
        F.now += 1000;
        peer_segment(Z_TCP_ACK, 0, c->iss + 1, get16(in));
        expect_state(Z_TCP_ESTABLISHED);
    }
    F.now += 1000;
    /* Some data each way first, acknowledged. */
    if (pre & 0x0f) {
        app_send((size_t)(pre & 0x0f) * 211, F.now);
        peer_ack_all();
    }
    if (pre & 0xf0) {
        /* Half the window at most: RFC 9293 refuses even a bare FIN at a
         * closed window (Linux takes it), and the script's FIN must land. */
        size_t room = (c->rcv_adv - c->rcv_nxt) / 2;
        size_t n = (size_t)(pre >> 4) * 97;
        peer_segment(Z_TCP_ACK, n < room ? n : room, c->snd_max, 65535);
    }
    F.now += 1000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint32_t bufs[] = {128, 1000, 4096, 16384, 65535, 65536, 262144, 1u << 20};
    static const uint16_t mss[] = {76, 536, 1000, 1460, 1460, 8960, 16344, 65495};
    struct input in = {data, size};
    memset(&F, 0, sizeof(F));
    trace = getenv("FUZZ_TCP_TRACE") != NULL;
    uint8_t s0 = get8(&in);
    uint8_t st = (s0 & 0x0f) % ST_COUNT;
    bool passive = (s0 & 0x10) != 0;
    uint8_t b = get8(&in);
    uint8_t m = get8(&in);
    struct z_tcp_config cfg = {
        .snd_buf = bufs[b & 7],
        .rcv_buf = bufs[b >> 3 & 7],
        .mss = mss[m & 7],
        .nodelay = (m & 8) != 0,
        .isn = get32(&in),
        .time_wait_us = 60000000,
        .max_retries = 1 + (m >> 4 & 7),
        .syn_retries = 1 + (m >> 6),
    };
    F.irs = get32(&in);
    F.peer_nxt = F.irs + 1;
    F.peer_ts = get32(&in);
    F.now = 1000000000LL;
    uint8_t pre = get8(&in);
    uint8_t k = get8(&in);
    cfg.sack = (k & 1) != 0;
    cfg.cc = (k & 2) ? Z_TCP_CC_CUBIC : Z_TCP_CC_RENO;
    if (z_tcp_init(&F.c, &ops, NULL, &cfg) != 0) {
        return 0;
    }
    switch (st) {
    case ST_SYN_SENT:
        F.xmit_ok = true;
        CHECK(z_tcp_connect(&F.c, F.now) == 0);
        F.xmit_ok = false;
        expect_state(Z_TCP_SYN_SENT);
        break;
    case ST_SYN_RCVD:
        F.listen = true;
        peer_syn(&in, Z_TCP_SYN, 0);
        expect_state(Z_TCP_SYN_RCVD);
        break;
    case ST_LISTEN:
        F.listen = true;
        break;
    default:
        establish(&in, st == ST_EST_ACTIVE || (st > ST_EST_PASSIVE && !passive), pre);
        if (st == ST_EST_ACTIVE || st == ST_EST_PASSIVE) {
            break;
        }
        if (st == ST_CLOSE_WAIT || st == ST_LAST_ACK) {
            peer_segment(Z_TCP_ACK | Z_TCP_FIN, 0, F.c.snd_max, 65535);
            expect_state(Z_TCP_CLOSE_WAIT);
            if (st == ST_LAST_ACK) {
                do_shutdown();
                expect_state(Z_TCP_LAST_ACK);
            }
            break;
        }
        do_shutdown();
        expect_state(Z_TCP_FIN_WAIT_1);
        if (st == ST_CLOSING) {
            /* The peer's FIN crosses ours: it acknowledges only the data. */
            peer_segment(Z_TCP_ACK | Z_TCP_FIN, 0, F.c.snd_una, 65535);
            expect_state(Z_TCP_CLOSING);
        } else if (st == ST_FIN_WAIT_2 || st == ST_TIME_WAIT) {
            peer_ack_all();
            expect_state(Z_TCP_FIN_WAIT_2);
            if (st == ST_TIME_WAIT) {
                peer_segment(Z_TCP_ACK | Z_TCP_FIN, 0, F.c.snd_max, 65535);
                expect_state(Z_TCP_TIME_WAIT);
            }
        }
        break;
    }
    run_program(&in);
    z_tcp_free(&F.c);
    return 0;
}
