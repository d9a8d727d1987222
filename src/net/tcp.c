/* The TCP connection core: RFC 9293 segment processing, window management
 * with scaling (RFC 7323), timestamps for RTT measurement, retransmission
 * timing (RFC 6298, Karn), slow start, congestion avoidance (Reno or CUBIC,
 * RFC 9438), fast retransmit and NewReno recovery (RFC 5681, RFC 6582),
 * selective acknowledgements and SACK-based recovery (RFC 2018, RFC 6675),
 * RST validation (RFC 5961), delayed ACKs, Nagle, zero-window probing and
 * TIME-WAIT. No I/O: segments leave through ops->xmit, time comes in as
 * `now`. */
#include "net/tcp.h"

#include "port/port.h" /* z_malloc, z_free */

#include <zsock/config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RTO_INIT_US    1000000LL
#define RTO_MIN_US     200000LL /* Linux's floor; RFC 6298 allows lower than 1 s */
#define RTO_MAX_US     60000000LL
#define DELACK_US      40000LL
#define PERSIST_MIN_US 200000LL
#define PERSIST_MAX_US 60000000LL
#define DEFAULT_MSS    536 /* RFC 9293 3.7.1, when the peer sends none */
#define MAX_WSCALE     14
/* SACK and CUBIC compiled in (CONFIG_NET_TCP_SACK, CONFIG_NET_TCP_CUBIC): when
 * out, the constant false lets the compiler drop their code. */
#define SACK_ON(c)    (CONFIG_NET_TCP_SACK && (c)->sack_ok)
#define CUBIC_ON(c)   (CONFIG_NET_TCP_CUBIC && (c)->cfg.cc == Z_TCP_CC_CUBIC)
#define KEEP_ON(c)    (CONFIG_NET_TCP_KEEPALIVE && (c)->keepalive)
#define TS_ON(c)      (CONFIG_NET_TCP_TIMESTAMPS && (c)->ts_ok)
#define DUPTHRESH     3        /* RFC 5681 / RFC 6675 DupThresh */
#define QUICKACKS     16       /* first segments acknowledged at once, as Linux does */
#define PTO_MIN_US    10000LL  /* RFC 8985 7.2: the probe timeout's floor */
#define PTO_DELACK_US 200000LL /* ...plus the worst delayed ACK for one segment */
#define CUBIC_C       0.4      /* RFC 9438 4.1, segments per second^3 */
#define CUBIC_BETA    0.7      /* RFC 9438 4.6 */

struct z_tcp_ooo {
    struct z_tcp_ooo *next;
    uint32_t seq;
    uint32_t len;
    bool fin;
    uint8_t data[];
};

const char *z_tcp_state_name(enum z_tcp_state st)
{
    static const char *const names[] = {
        "CLOSED",     "LISTEN",     "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
        "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",  "LAST_ACK", "TIME_WAIT",
    };
    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

int z_tcp_init(struct z_tcp_conn *c, const struct z_tcp_ops *ops, void *ctx,
               const struct z_tcp_config *cfg)
{
    memset(c, 0, sizeof(*c));
    c->ops = ops;
    c->ctx = ctx;
    c->cfg = *cfg;
    /* Lazy rings: no buffer memory until bytes arrive, none again once they
     * are consumed, yet the window offered still reflects the whole rcv_buf.
     * Where memory runs out the ring takes less: a segment is then dropped
     * unacknowledged and a send queues less. */
    z_ring_init_lazy(&c->snd, cfg->snd_buf);
    z_ring_init_lazy(&c->rcv, cfg->rcv_buf);
    c->state = Z_TCP_CLOSED;
    c->rto_us = RTO_INIT_US;
    c->quickacks = QUICKACKS;
    c->mss = DEFAULT_MSS;
    /* The smallest shift that lets the whole buffer be advertised. */
    while (c->rcv_wscale < MAX_WSCALE && (cfg->rcv_buf >> c->rcv_wscale) > 65535) {
        c->rcv_wscale++;
    }
    return 0;
}

static void ooo_flush(struct z_tcp_conn *c)
{
    while (c->ooo != NULL) {
        struct z_tcp_ooo *o = c->ooo;
        c->ooo = o->next;
        z_free(o);
    }
    c->ooo_bytes = 0;
}

void z_tcp_free(struct z_tcp_conn *c)
{
    ooo_flush(c);
    z_ring_free(&c->snd);
    z_ring_free(&c->rcv);
}

/* ---- helpers ------------------------------------------------------------------------------------
 */

static void count(struct z_tcp_conn *c, enum z_tcp_event ev)
{
    switch (ev) {
    case Z_TCP_EV_RETRANSMIT:
        c->retransmits++;
        break;
    case Z_TCP_EV_TIMEOUT:
        c->timeouts++;
        break;
    case Z_TCP_EV_RECOVERY:
        c->recoveries++;
        break;
    }
    if (c->ops->event != NULL) {
        c->ops->event(c, ev);
    }
}

static bool syn_unacked(const struct z_tcp_conn *c)
{
    return c->snd_una == c->iss;
}

static bool synchronized(const struct z_tcp_conn *c)
{
    return c->state >= Z_TCP_ESTABLISHED;
}

/* Window to advertise, before scaling: free receive space, never shrinking
 * the right edge already offered, and withheld while small (receiver-side
 * silly window avoidance, RFC 1122 4.2.3.3). */
static uint32_t rcv_window(struct z_tcp_conn *c)
{
    uint32_t space = (uint32_t)(z_ring_space(&c->rcv));
    uint32_t promised = Z_SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t threshold = c->cfg.rcv_buf / 4 < c->mss ? c->cfg.rcv_buf / 4 : c->mss;
    if (space < promised) {
        space = promised;
    } else if (space - promised < threshold && promised > 0) {
        space = promised;
    } else if (space < threshold) {
        space = promised;
    }
    return space;
}

static uint16_t window_field(struct z_tcp_conn *c, bool syn, uint32_t *wnd_out)
{
    uint32_t wnd = rcv_window(c);
    uint8_t shift = syn ? 0 : c->rcv_wscale;
    uint32_t field = wnd >> shift;
    if (field > 65535) {
        field = 65535;
    }
    *wnd_out = field << shift;
    return (uint16_t)field;
}

static uint32_t ts_now(const struct z_tcp_conn *c)
{
    if (!CONFIG_NET_TCP_TIMESTAMPS) {
        return 0; /* no timestamp is ever sent nor compared */
    }
    return (uint32_t)z_udiv64((uint64_t)c->now, 1000, NULL); /* 1 ms timestamp clock */
}

/* The ranges of the out-of-order queue (sorted by sequence, possibly
 * overlapping) as SACK blocks (RFC 2018 4): first the one holding the
 * latest arrival, then the others from the highest down, as many as fit
 * beside `len` payload bytes in a segment of c->mss. */
static void sack_blocks(const struct z_tcp_conn *c, struct z_tcp_opts *o, size_t len)
{
    struct z_tcp_range r[Z_TCP_SACK_RANGES];
    int n = 0;
    for (const struct z_tcp_ooo *q = c->ooo; q != NULL; q = q->next) {
        uint32_t end = q->seq + q->len + (q->fin ? 1 : 0);
        if (n > 0 && Z_SEQ_LEQ(q->seq, r[n - 1].right)) {
            if (Z_SEQ_GT(end, r[n - 1].right)) {
                r[n - 1].right = end;
            }
            continue;
        }
        if (n == Z_TCP_SACK_RANGES) {
            break; /* the highest ranges go unreported for now */
        }
        r[n].left = q->seq;
        r[n].right = end;
        n++;
    }
    /* Each block costs 8 bytes, the option 4 more (kind, length, padding). */
    int room = Z_TCP_MAX_SACK;
    if (len > 0) {
        room = len + 12 <= c->mss ? (int)((c->mss - len - 4) / 8) : 0;
        if (room > Z_TCP_MAX_SACK) {
            room = Z_TCP_MAX_SACK; /* o->sack holds no more */
        }
    }
    int first = n - 1;
    for (int i = 0; i < n; i++) {
        if (Z_SEQ_GEQ(c->ooo_last, r[i].left) && Z_SEQ_LT(c->ooo_last, r[i].right)) {
            first = i;
        }
    }
    o->nsack = 0;
    for (int k = 0; k < n && o->nsack < room; k++) {
        /* k = 0 is `first`; then the others from the top */
        int i = k == 0 ? first : (n - k <= first ? n - 1 - k : n - k);
        o->sack[o->nsack].left = r[i].left;
        o->sack[o->nsack].right = r[i].right;
        o->nsack++;
    }
    if (o->nsack > 0) {
        o->present |= Z_TCPOPT_SACK;
    }
}

/* Build and send one segment. */
static int send_segment(struct z_tcp_conn *c, uint8_t flags, uint32_t seq, size_t off, size_t len)
{
    struct z_tcp_hdr h;
    memset(&h, 0, sizeof(h));
    h.seq = seq;
    h.flags = flags;
    bool syn = flags & Z_TCP_SYN;
    if (flags & Z_TCP_ACK) {
        h.ack = c->rcv_nxt;
    }
    uint32_t wnd;
    h.window = window_field(c, syn, &wnd);
    if (flags & Z_TCP_ACK) {
        uint32_t edge = c->rcv_nxt + wnd;
        if (Z_SEQ_GT(edge, c->rcv_adv)) {
            c->rcv_adv = edge;
        }
    }
    if (syn) {
        h.opts.present |= Z_TCPOPT_MSS;
        h.opts.mss = c->cfg.mss;
        /* Offered on our SYN; on a SYN-ACK only if the peer offered it. */
        if (!(flags & Z_TCP_ACK) || c->ws_ok) {
            h.opts.present |= Z_TCPOPT_WSCALE;
            h.opts.wscale = c->rcv_wscale;
        }
        if (CONFIG_NET_TCP_TIMESTAMPS && (!(flags & Z_TCP_ACK) || TS_ON(c))) {
            h.opts.present |= Z_TCPOPT_TS;
        }
        if (CONFIG_NET_TCP_SACK && c->cfg.sack && (!(flags & Z_TCP_ACK) || c->sack_ok)) {
            h.opts.present |= Z_TCPOPT_SACK_PERM;
        }
    } else {
        if (TS_ON(c)) {
            h.opts.present |= Z_TCPOPT_TS;
        }
        if ((flags & Z_TCP_ACK) && SACK_ON(c) && c->ooo != NULL) {
            sack_blocks(c, &h.opts, len);
        }
    }
    if (h.opts.present & Z_TCPOPT_TS) {
        h.opts.ts_val = ts_now(c);
        h.opts.ts_ecr = c->ts_recent;
    }
    if (flags & Z_TCP_ACK) {
        c->delack_deadline = 0;
        c->unacked_segs = 0;
    }
    return c->ops->xmit(c, &h, off, len);
}

static void send_ack(struct z_tcp_conn *c)
{
    send_segment(c, Z_TCP_ACK, c->snd_nxt, 0, 0);
}

static void arm_rto(struct z_tcp_conn *c)
{
    c->rto_deadline = c->now + c->rto_us;
}

static void enter_closed(struct z_tcp_conn *c, int err)
{
    if (err != 0 && c->error == 0) {
        c->error = err;
    }
    c->state = Z_TCP_CLOSED;
    c->rto_deadline = c->delack_deadline = c->persist_deadline = c->tw_deadline = 0;
    c->keep_deadline = c->tlp_deadline = c->rack_deadline = 0;
    c->ops->notify(c);
}

static void enter_time_wait(struct z_tcp_conn *c)
{
    c->state = Z_TCP_TIME_WAIT;
    c->rto_deadline = c->persist_deadline = c->keep_deadline = c->tlp_deadline = 0;
    c->rack_deadline = 0;
    c->tw_deadline = c->now + c->cfg.time_wait_us;
    c->ops->notify(c);
}

/* ---- output -------------------------------------------------------------------------------------
 */

static int64_t persist_interval(const struct z_tcp_conn *c);

/* Bytes of data sent but not acknowledged (FIN excluded). */
static uint32_t data_in_flight(const struct z_tcp_conn *c)
{
    uint32_t f = c->snd_nxt - c->snd_una;
    if (c->fin_sent && Z_SEQ_GT(c->snd_nxt, c->snd_una) && c->snd_nxt == c->snd_max) {
        f--;
    }
    return f;
}

static void sack_output(struct z_tcp_conn *c);

/* (Re)start the tail loss probe timer (RFC 8985 7.2): two smoothed round
 * trips (plus a delayed ACK when one segment is out), if that comes before
 * the RTO. Only with SACK, outside recovery, one probe at a time. */
static void arm_tlp(struct z_tcp_conn *c)
{
    c->tlp_deadline = 0;
    if (!SACK_ON(c) || c->in_recovery || c->tlp_out || c->srtt_us == 0 ||
        c->snd_una == c->snd_max || c->state == Z_TCP_TIME_WAIT) {
        return;
    }
    int64_t pto = 2 * c->srtt_us;
    if (c->snd_max - c->snd_una <= (uint32_t)c->mss + 1) {
        pto += PTO_DELACK_US;
    }
    if (pto < PTO_MIN_US) {
        pto = PTO_MIN_US;
    }
    if (c->rto_deadline == 0 || c->now + pto < c->rto_deadline) {
        c->tlp_deadline = c->now + pto;
    }
}

/* Send one new segment within `can` bytes of room (the smaller of what the
 * peer's window and the congestion window leave), or the FIN. Returns false
 * when nothing more goes out now. */
static bool send_new(struct z_tcp_conn *c, size_t can)
{
    uint32_t off = data_in_flight(c);
    if ((c->fin_sent && c->snd_nxt == c->snd_max) ||
        (c->fin_seq_valid && Z_SEQ_GT(c->snd_una, c->fin_seq))) {
        return false; /* everything, FIN included, is out (or even acknowledged) */
    }
    size_t unsent = c->snd.len > off ? c->snd.len - off : 0;
    uint32_t flight = c->snd_nxt - c->snd_una;
    /* With segmentation offload, several segments in one packet. */
    size_t most = c->cfg.tso_max > c->mss ? c->cfg.tso_max - c->cfg.tso_max % c->mss : c->mss;
    size_t seg = unsent < most ? unsent : most;
    if (seg > can) {
        seg = can;
    }
    if (seg > c->mss && seg < unsent) {
        seg -= seg % c->mss; /* whole segments, the tail waits for more */
    }
    bool fin = c->fin_queued && !c->fin_sent && seg == unsent;
    if (seg == 0 && !fin) {
        return false;
    }
    if (seg < c->mss && seg < unsent) {
        /* Window-limited to a runt: wait for a wider window instead of
         * sending silly segments, unless nothing is in flight. */
        if (flight > 0 || seg < c->snd_wnd / 2) {
            return false;
        }
    }
    if (seg < c->mss && !fin && flight > 0 && !c->cfg.nodelay &&
        z_ring_space(&c->snd) >= c->mss - seg) {
        /* Nagle: one small segment in flight at a time, while the
         * application can still fill it; with a send buffer too small for
         * that (a few KiB on a microcontroller), waiting gains nothing and
         * would stall on the peer's delayed ACK. */
        return false;
    }
    uint8_t flags = Z_TCP_ACK | (fin ? Z_TCP_FIN : 0) | (seg == unsent && seg > 0 ? Z_TCP_PSH : 0);
    if (send_segment(c, flags, c->snd_nxt, off, seg) < 0) {
        if (seg > c->mss) {
            /* No buffer for an offloaded packet: one segment at a time
             * from now on (the caller comes back at once). */
            c->cfg.tso_max = 0;
            return true;
        }
        /* Not sent (no buffer): the retransmission timer tries again. */
        if (c->rto_deadline == 0) {
            arm_rto(c);
        }
        return false;
    }
    if (!c->rtt_timing && seg > 0 && c->snd_nxt == c->snd_max && !c->in_recovery) {
        c->rtt_timing = true;
        c->rtt_seq = c->snd_nxt;
        c->rtt_start = c->now;
    }
    if (fin) {
        c->fin_sent = true;
        c->fin_seq = c->snd_nxt + (uint32_t)seg;
        c->fin_seq_valid = true;
    }
    c->snd_nxt += (uint32_t)seg + (fin ? 1 : 0);
    if (Z_SEQ_GT(c->snd_nxt, c->snd_max)) {
        c->snd_max = c->snd_nxt;
    }
    if (c->rto_deadline == 0) {
        arm_rto(c);
    }
    arm_tlp(c);
    return true;
}

/* Send what the windows allow; FIN after the last byte when queued. */
static void tcp_output(struct z_tcp_conn *c)
{
    if (!synchronized(c) || c->state == Z_TCP_TIME_WAIT) {
        return;
    }
    if (c->in_recovery && SACK_ON(c)) {
        sack_output(c);
    } else {
        for (;;) {
            /* Limited transmit (RFC 3042): each of the first two duplicate
             * ACKs lets one new segment out beyond cwnd, so a small window
             * still produces the three duplicates fast retransmit needs. */
            uint32_t cwnd = c->cwnd;
            if (!c->in_recovery && c->dupacks > 0 && c->dupacks < DUPTHRESH) {
                cwnd += (uint32_t)c->dupacks * c->mss;
            }
            uint32_t wnd = c->snd_wnd < cwnd ? c->snd_wnd : cwnd;
            uint32_t flight = c->snd_nxt - c->snd_una;
            if (!send_new(c, wnd > flight ? wnd - flight : 0)) {
                break;
            }
        }
    }
    /* Data waits behind a zero window with nothing in flight: probe it. */
    size_t unsent_now = c->snd.len > data_in_flight(c) ? c->snd.len - data_in_flight(c) : 0;
    if (c->snd_wnd == 0 && unsent_now > 0 && c->snd_nxt == c->snd_una) {
        if (c->persist_deadline == 0) {
            c->persist_deadline = c->now + persist_interval(c);
        }
    } else {
        c->persist_deadline = 0;
        c->persist_backoff = 0;
    }
}

/* ---- opening ------------------------------------------------------------------------------------
 */

int z_tcp_connect(struct z_tcp_conn *c, int64_t now)
{
    if (c->state != Z_TCP_CLOSED) {
        return -EISCONN;
    }
    c->now = now;
    c->iss = c->cfg.isn;
    c->snd_una = c->iss;
    c->snd_nxt = c->iss + 1;
    c->snd_max = c->snd_nxt;
    c->cwnd = 10u * c->cfg.mss; /* RFC 6928 initial window */
    c->ssthresh = UINT32_MAX;
    c->state = Z_TCP_SYN_SENT;
    send_segment(c, Z_TCP_SYN, c->iss, 0, 0);
    c->rtt_timing = true;
    c->rtt_seq = c->iss;
    c->rtt_start = now;
    arm_rto(c);
    return 0;
}

/* Options of the peer's SYN decide what the connection uses. */
static void take_syn_options(struct z_tcp_conn *c, const struct z_tcp_hdr *syn, bool we_offered)
{
    const struct z_tcp_opts *o = &syn->opts;
    uint16_t peer_mss = (o->present & Z_TCPOPT_MSS) ? o->mss : DEFAULT_MSS;
    c->mss = peer_mss < c->cfg.mss ? peer_mss : c->cfg.mss;
    if (c->mss < 64) {
        c->mss = 64; /* a hostile MSS must not turn a transfer into a storm */
    }
    c->ws_ok = we_offered && (o->present & Z_TCPOPT_WSCALE);
    if (c->ws_ok) {
        c->snd_wscale = o->wscale > MAX_WSCALE ? MAX_WSCALE : o->wscale;
    } else {
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
    c->sack_ok =
        CONFIG_NET_TCP_SACK && we_offered && c->cfg.sack && (o->present & Z_TCPOPT_SACK_PERM);
    c->ts_ok = CONFIG_NET_TCP_TIMESTAMPS && we_offered && (o->present & Z_TCPOPT_TS);
    if (TS_ON(c)) {
        c->ts_recent = o->ts_val;
        c->mss -= 12; /* every segment carries the 12-byte timestamp option */
    }
    c->cwnd = 10u * c->mss;
    c->ssthresh = UINT32_MAX;
}

int z_tcp_accept_syn(struct z_tcp_conn *c, const struct z_tcp_hdr *syn, int64_t now)
{
    c->now = now;
    c->irs = syn->seq;
    c->rcv_nxt = syn->seq + 1;
    c->rcv_adv = c->rcv_nxt; /* nothing offered yet */
    c->iss = c->cfg.isn;
    c->snd_una = c->iss;
    c->snd_nxt = c->iss + 1;
    c->snd_max = c->snd_nxt;
    /* Answer with what the peer offered. */
    c->ws_ok = true;
    c->ts_ok = true;
    take_syn_options(c, syn, true);
    c->snd_wnd = syn->window; /* never scaled on a SYN */
    c->snd_wl1 = syn->seq;
    c->snd_wl2 = c->iss;
    c->state = Z_TCP_SYN_RCVD;
    send_segment(c, Z_TCP_SYN | Z_TCP_ACK, c->iss, 0, 0);
    c->rtt_timing = true;
    c->rtt_seq = c->iss;
    c->rtt_start = now;
    arm_rto(c);
    return 0;
}

/* ---- RTT and congestion control -------------------------------------------------------------- */

static void rtt_sample(struct z_tcp_conn *c, int64_t r)
{
    /* Every quantity is positive: unsigned shifts do the divisions, with
     * none of the rounding fix-ups signed ones need on a 32-bit target. */
    uint64_t m = r <= 0 ? 1 : (uint64_t)r;
    uint64_t srtt = (uint64_t)c->srtt_us;
    uint64_t var = (uint64_t)c->rttvar_us;
    if (srtt == 0) {
        srtt = m;
        var = m >> 1;
    } else {
        uint64_t d = srtt > m ? srtt - m : m - srtt;
        var = (3 * var + d) >> 2;
        srtt = (7 * srtt + m) >> 3;
    }
    c->srtt_us = (int64_t)srtt;
    c->rttvar_us = (int64_t)var;
    int64_t rto = c->srtt_us + (4 * c->rttvar_us > 1000 ? 4 * c->rttvar_us : 1000);
    c->rto_us = rto < RTO_MIN_US ? RTO_MIN_US : rto > RTO_MAX_US ? RTO_MAX_US : rto;
}

#define CWND_MAX (1u << 30)

/* Cube root by Newton's method from above (no libm needed). */
static double cube_root(double x)
{
    if (x <= 0) {
        return 0;
    }
    double r = x < 1 ? 1 : x;
    for (int i = 0; i < 200; i++) {
        double n = (2 * r + x / (r * r)) / 3;
        if (n >= r) {
            break;
        }
        r = n;
    }
    return r;
}

/* CUBIC congestion avoidance (RFC 9438 4.2-4.5) for `acked` new bytes. */
static void cubic_on_ack(struct z_tcp_conn *c, uint32_t acked)
{
    double mss = c->mss;
    double cwnd = c->cwnd;
    if (c->cubic_epoch == 0) {
        c->cubic_epoch = c->now;
        c->cubic_acc = 0;
        c->cubic_west = cwnd;
        if (c->cubic_wmax > cwnd) {
            c->cubic_k = cube_root((c->cubic_wmax - cwnd) / (CUBIC_C * mss));
        } else {
            c->cubic_k = 0;
            c->cubic_wmax = cwnd;
        }
    }
    double t = (double)(c->now - c->cubic_epoch) / 1e6;
    double d_now = t - c->cubic_k;
    double d_next = t + (double)c->srtt_us / 1e6 - c->cubic_k;
    double w_now = c->cubic_wmax + CUBIC_C * mss * d_now * d_now * d_now;
    double target = c->cubic_wmax + CUBIC_C * mss * d_next * d_next * d_next;
    if (target < cwnd) {
        target = cwnd;
    } else if (target > 1.5 * cwnd) {
        target = 1.5 * cwnd;
    }
    /* The window standard TCP would have now (4.3): CUBIC never does worse. */
    double alpha =
        c->cubic_west >= c->cubic_wmax ? 1.0 : 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
    c->cubic_west += alpha * acked * mss / cwnd;
    if (w_now < c->cubic_west) {
        c->cubic_acc += c->cubic_west > cwnd ? c->cubic_west - cwnd : 0;
    } else {
        c->cubic_acc += (target - cwnd) * acked / cwnd;
    }
    if (c->cubic_acc >= 1) {
        uint32_t add = c->cubic_acc > CWND_MAX ? CWND_MAX : (uint32_t)c->cubic_acc;
        c->cubic_acc -= add;
        c->cwnd = c->cwnd > CWND_MAX - add ? CWND_MAX : c->cwnd + add;
    }
}

static void cc_on_ack(struct z_tcp_conn *c, uint32_t acked)
{
    /* In fast recovery the window is set by the recovery itself; after a
     * timeout it grows again by slow start. */
    if (c->in_recovery && !c->rto_recovery) {
        return;
    }
    if (c->cwnd < c->ssthresh) {
        /* Slow start, at most one MSS per ACK (RFC 5681 3.1). */
        c->cwnd += acked < c->mss ? acked : c->mss;
    } else if (CUBIC_ON(c)) {
        cubic_on_ack(c, acked);
    } else {
        /* In 32 bits (not int: 65535 squared overflows it), below 2^32. */
        uint32_t inc = (uint32_t)c->mss * c->mss / c->cwnd;
        c->cwnd += inc > 0 ? inc : 1;
    }
    if (c->cwnd > CWND_MAX) {
        c->cwnd = CWND_MAX;
    }
}

/* A loss was detected: the new slow-start threshold (RFC 5681 (4): half the
 * flight; CUBIC: beta times it, RFC 9438 4.6), at least two segments. */
static void cc_congestion(struct z_tcp_conn *c)
{
    uint32_t flight = c->snd_max - c->snd_una;
    uint32_t t;
    if (CUBIC_ON(c)) {
        double w = c->cwnd;
        /* Fast convergence (4.7): a flow that lost before regaining its old
         * window leaves room for newer flows. */
        c->cubic_wmax = w < c->cubic_wmax ? w * (1.0 + CUBIC_BETA) / 2.0 : w;
        c->cubic_epoch = 0;
        t = (uint32_t)(flight * CUBIC_BETA);
    } else {
        t = flight / 2;
    }
    c->ssthresh = t > 2u * c->mss ? t : 2u * c->mss;
}

/* Resend the first unacknowledged segment. */
static void retransmit_first(struct z_tcp_conn *c)
{
    if (c->state == Z_TCP_SYN_SENT) {
        send_segment(c, Z_TCP_SYN, c->iss, 0, 0);
        return;
    }
    if (c->state == Z_TCP_SYN_RCVD || syn_unacked(c)) {
        send_segment(c, Z_TCP_SYN | Z_TCP_ACK, c->iss, 0, 0);
        return;
    }
    size_t seg = c->snd.len < c->mss ? c->snd.len : c->mss;
    if (seg > c->snd_max - c->snd_una) {
        seg = c->snd_max - c->snd_una; /* only what was sent: the rest may be beyond the window */
    }
    bool fin = c->fin_sent && seg == c->snd.len;
    count(c, Z_TCP_EV_RETRANSMIT);
    send_segment(c, Z_TCP_ACK | (fin ? Z_TCP_FIN : 0), c->snd_una, 0, seg);
}

/* ---- SACK scoreboard and recovery (RFC 2018, RFC 6675) ------------------------------------- */

/* Merge [l, r) into the scoreboard. When it is full the highest range goes:
 * forgetting a SACK only costs an unneeded retransmission. */
static void sack_add(struct z_tcp_conn *c, uint32_t l, uint32_t r)
{
    struct z_tcp_range *sb = c->sacked;
    int n = c->nsacked;
    int i = 0;
    while (i < n && Z_SEQ_LT(sb[i].right, l)) {
        i++;
    }
    int j = i;
    while (j < n && Z_SEQ_LEQ(sb[j].left, r)) {
        if (Z_SEQ_LT(sb[j].left, l)) {
            l = sb[j].left;
        }
        if (Z_SEQ_GT(sb[j].right, r)) {
            r = sb[j].right;
        }
        j++;
    }
    if (i == j) {
        if (n == Z_TCP_SACK_RANGES) {
            if (i == n) {
                return;
            }
            n--;
        }
        memmove(&sb[i + 1], &sb[i], (size_t)(n - i) * sizeof(*sb));
        n++;
    } else if (j - i > 1) {
        memmove(&sb[i + 1], &sb[j], (size_t)(n - j) * sizeof(*sb));
        n -= j - i - 1;
    }
    sb[i].left = l;
    sb[i].right = r;
    c->nsacked = n;
}

/* Take the SACK blocks of an acceptable ACK. Blocks at or below snd_una
 * (D-SACK, RFC 2883) or beyond what was sent are ignored. */
static void sack_update(struct z_tcp_conn *c, const struct z_tcp_hdr *h)
{
    if (!SACK_ON(c) || !(h->opts.present & Z_TCPOPT_SACK)) {
        return;
    }
    for (int k = 0; k < h->opts.nsack && k < Z_TCP_MAX_SACK; k++) {
        uint32_t l = h->opts.sack[k].left;
        uint32_t r = h->opts.sack[k].right;
        if (!Z_SEQ_LT(l, r) || Z_SEQ_LEQ(r, c->snd_una) || Z_SEQ_GT(r, c->snd_max)) {
            continue;
        }
        sack_add(c, Z_SEQ_LT(l, c->snd_una) ? c->snd_una : l, r);
    }
}

/* Forget what the cumulative ACK now covers. */
static void sack_trim(struct z_tcp_conn *c)
{
    int k = 0;
    for (int i = 0; i < c->nsacked; i++) {
        struct z_tcp_range r = c->sacked[i];
        if (Z_SEQ_LEQ(r.right, c->snd_una)) {
            continue;
        }
        if (Z_SEQ_LT(r.left, c->snd_una)) {
            r.left = c->snd_una;
        }
        c->sacked[k++] = r;
    }
    c->nsacked = k;
}

/* The first unSACKed sequence number at or after `from` and below `limit`
 * (and snd_max), with the end of its hole; false if there is none. */
static bool next_hole(const struct z_tcp_conn *c, uint32_t from, uint32_t limit, uint32_t *start,
                      uint32_t *end)
{
    uint32_t x = from;
    uint32_t e = Z_SEQ_LT(c->snd_max, limit) ? c->snd_max : limit;
    for (int i = 0; i < c->nsacked; i++) {
        const struct z_tcp_range *r = &c->sacked[i];
        if (Z_SEQ_LEQ(r->right, x)) {
            continue;
        }
        if (Z_SEQ_LEQ(r->left, x)) {
            x = r->right;
            continue;
        }
        if (Z_SEQ_LT(r->left, e)) {
            e = r->left;
        }
        break;
    }
    if (!Z_SEQ_LT(x, e)) {
        return false;
    }
    *start = x;
    *end = e;
    return true;
}

/* Holes below the returned sequence number are lost (IsLost, RFC 6675 4):
 * DupThresh ranges, or more than (DupThresh - 1) * MSS bytes, were SACKed
 * above them. After a timeout every hole that was out then is. */
static uint32_t lost_edge(const struct z_tcp_conn *c)
{
    if (c->rto_recovery) {
        return c->recover; /* what was out when the timer fired, not newer data */
    }
    uint32_t edge = c->snd_una;
    if (c->tlp_mark_valid && Z_SEQ_GT(c->tlp_mark, edge) && Z_SEQ_LEQ(c->tlp_mark, c->snd_max)) {
        edge = c->tlp_mark; /* sent before a probe that arrived */
    }
    uint32_t bytes = 0;
    int count = 0;
    for (int i = c->nsacked - 1; i >= 0; i--) {
        bytes += c->sacked[i].right - c->sacked[i].left;
        if (++count >= DUPTHRESH || bytes > (DUPTHRESH - 1) * (uint32_t)c->mss) {
            return Z_SEQ_GT(c->sacked[i].left, edge) ? c->sacked[i].left : edge;
        }
    }
    return edge;
}

/* Bytes believed in the network (RFC 6675 SetPipe): unSACKed bytes not
 * lost, plus those retransmitted in this recovery. */
static uint32_t sack_pipe(const struct z_tcp_conn *c, uint32_t edge)
{
    uint32_t pipe = 0;
    uint32_t s = c->snd_una;
    uint32_t e;
    while (next_hole(c, s, c->snd_max, &s, &e)) {
        if (Z_SEQ_LT(edge, e)) {
            pipe += e - (Z_SEQ_GT(s, edge) ? s : edge);
        }
        uint32_t hr = Z_SEQ_LT(c->high_rxt, e) ? c->high_rxt : e;
        if (Z_SEQ_GT(hr, s)) {
            pipe += hr - s;
        }
        s = e;
    }
    return pipe;
}

/* Retransmit up to one segment of the hole starting at `seq` (at most
 * `room` sequence numbers, the FIN included if it is there). Returns the
 * sequence numbers sent, 0 if nothing went. */
static void arm_rack(struct z_tcp_conn *c);

static uint32_t retransmit_at(struct z_tcp_conn *c, uint32_t seq, uint32_t room)
{
    size_t off = seq - c->snd_una;
    size_t avail = c->snd.len > off ? c->snd.len - off : 0;
    size_t len = avail < c->mss ? avail : c->mss;
    if (len > room) {
        len = room;
    }
    bool fin = c->fin_seq_valid && seq + (uint32_t)len == c->fin_seq && len < room;
    if (len == 0 && !fin) {
        return 0;
    }
    if (send_segment(c, Z_TCP_ACK | (fin ? Z_TCP_FIN : 0), seq, off, len) < 0) {
        return 0;
    }
    count(c, Z_TCP_EV_RETRANSMIT);
    uint32_t n = (uint32_t)len + (fin ? 1 : 0);
    /* Watch it. When all watches are taken, the highest one gives way: the
     * lowest holes are the ones that hold the connection back. */
    int w = 0;
    while (w < c->nrxt && c->rxt[w].seq != seq) {
        w++;
    }
    if (w == Z_TCP_RXT_WATCH) {
        int hi = 0;
        for (int i = 1; i < c->nrxt; i++) {
            if (Z_SEQ_GT(c->rxt[i].seq, c->rxt[hi].seq)) {
                hi = i;
            }
        }
        w = Z_SEQ_LT(seq, c->rxt[hi].seq) ? hi : -1;
    } else if (w == c->nrxt) {
        c->nrxt++;
    }
    if (w >= 0) {
        c->rxt[w].seq = seq;
        c->rxt[w].fence = c->snd_nxt;
        c->rxt[w].at = c->now;
        arm_rack(c);
    }
    if (Z_SEQ_GT(seq + n, c->high_rxt)) {
        c->high_rxt = seq + n;
    }
    return n;
}

/* Transmission during SACK recovery (RFC 6675 5, NextSeg): while the
 * congestion window has a segment of room beyond the pipe, resend lost
 * holes, else send new data, else resend a hole below the highest SACK. */
static void sack_output(struct z_tcp_conn *c)
{
    for (int guard = 0; guard < 4096; guard++) {
        if (Z_SEQ_LT(c->high_rxt, c->snd_una)) {
            c->high_rxt = c->snd_una;
        }
        uint32_t edge = lost_edge(c);
        uint32_t pipe = sack_pipe(c, edge);
        if ((uint64_t)pipe + c->mss > c->cwnd) {
            break;
        }
        uint32_t s;
        uint32_t e;
        if (next_hole(c, c->high_rxt, edge, &s, &e)) {
            if (retransmit_at(c, s, e - s) == 0) {
                break;
            }
            continue;
        }
        uint32_t flight = c->snd_nxt - c->snd_una;
        size_t can = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
        if (can > c->cwnd - pipe) {
            can = c->cwnd - pipe;
        }
        if (send_new(c, can)) {
            continue;
        }
        if (c->nsacked > 0 && next_hole(c, c->high_rxt, c->sacked[c->nsacked - 1].left, &s, &e)) {
            if (retransmit_at(c, s, e - s) == 0) {
                break;
            }
            continue;
        }
        break;
    }
}

/* How long a retransmission may go without news before it counts as lost:
 * a smoothed round trip and a quarter (RFC 8985 6.2's reordering window),
 * at least 1 ms. */
static int64_t rack_wait(const struct z_tcp_conn *c)
{
    int64_t w = c->srtt_us + c->srtt_us / 4;
    return w < 1000 ? 1000 : w;
}

/* The time the oldest watched retransmission goes stale, or none. */
static void arm_rack(struct z_tcp_conn *c)
{
    c->rack_deadline = 0;
    if (!c->in_recovery || c->rto_recovery || c->nrxt == 0) {
        return;
    }
    int64_t first = c->rxt[0].at;
    for (int i = 1; i < c->nrxt; i++) {
        if (c->rxt[i].at < first) {
            first = c->rxt[i].at;
        }
    }
    c->rack_deadline = first + rack_wait(c);
}

static bool is_sacked(const struct z_tcp_conn *c, uint32_t seq)
{
    for (int i = 0; i < c->nsacked; i++) {
        if (Z_SEQ_GEQ(seq, c->sacked[i].left) && Z_SEQ_LT(seq, c->sacked[i].right)) {
            return true;
        }
    }
    return false;
}

/* A retransmission is lost when data sent after it arrived (a SACK above
 * its fence) and it did not, or when a round trip and a quarter passed
 * without news of it: send it again, and, as for any loss, reduce the
 * window, once per recovery (RFC 5681 4.3; RFC 6675 leaves this case to the
 * RTO, RFC 8985 does not). */
static void detect_lost_retransmits(struct z_tcp_conn *c)
{
    uint32_t top = c->nsacked > 0 ? c->sacked[c->nsacked - 1].right : c->snd_una;
    uint32_t lowest = 0;
    bool lost = false;
    int k = 0;
    int64_t wait = rack_wait(c);
    for (int i = 0; i < c->nrxt; i++) {
        uint32_t seq = c->rxt[i].seq;
        if (Z_SEQ_LT(seq, c->snd_una) || is_sacked(c, seq)) {
            continue; /* arrived */
        }
        if (Z_SEQ_GT(top, c->rxt[i].fence) || c->now - c->rxt[i].at >= wait) {
            if (!lost || Z_SEQ_LT(seq, lowest)) {
                lowest = seq;
            }
            lost = true;
            continue;
        }
        c->rxt[k++] = c->rxt[i];
    }
    c->nrxt = k;
    if (lost) {
        if (Z_SEQ_LT(lowest, c->high_rxt)) {
            c->high_rxt = lowest;
        }
        if (!c->rxt_cut) {
            c->rxt_cut = true;
            cc_congestion(c);
            c->cwnd = c->ssthresh;
        }
    }
    arm_rack(c);
}

/* Loss detected by duplicate ACKs or SACKs: fast retransmit and fast
 * recovery, SACK-based (RFC 6675 5) when the peer sends SACKs, NewReno
 * (RFC 6582) otherwise. */
static void enter_recovery(struct z_tcp_conn *c)
{
    count(c, Z_TCP_EV_RECOVERY);
    cc_congestion(c);
    c->in_recovery = true;
    c->recover = c->snd_max;
    c->rtt_timing = false; /* Karn: the timed segment may be resent */
    if (!SACK_ON(c)) {
        retransmit_first(c);
        c->cwnd = c->ssthresh + (uint32_t)DUPTHRESH * c->mss;
        return;
    }
    c->rto_recovery = false;
    c->high_rxt = c->snd_una;
    c->nrxt = 0;
    c->rxt_cut = false;
    c->cwnd = c->ssthresh;
    uint32_t s;
    uint32_t e;
    /* The first segment presumed lost goes at once, whatever the pipe. */
    if (next_hole(c, c->snd_una, c->snd_max, &s, &e)) {
        retransmit_at(c, s, e - s);
    }
    sack_output(c);
}

/* ---- input
 * ---------------------------------------------------------------------------------------- */

static bool seq_acceptable(const struct z_tcp_conn *c, uint32_t seq, size_t len)
{
    uint32_t wnd = c->rcv_adv - c->rcv_nxt;
    if (Z_SEQ_LT(c->rcv_adv, c->rcv_nxt)) {
        wnd = 0;
    }
    if (len == 0) {
        return wnd == 0 ? seq == c->rcv_nxt
                        : Z_SEQ_GEQ(seq, c->rcv_nxt) && Z_SEQ_LT(seq, c->rcv_nxt + wnd);
    }
    if (wnd == 0) {
        return false;
    }
    uint32_t last = seq + (uint32_t)len - 1;
    return (Z_SEQ_GEQ(seq, c->rcv_nxt) && Z_SEQ_LT(seq, c->rcv_nxt + wnd)) ||
           (Z_SEQ_GEQ(last, c->rcv_nxt) && Z_SEQ_LT(last, c->rcv_nxt + wnd));
}

static void input_syn_sent(struct z_tcp_conn *c, const struct z_tcp_hdr *h)
{
    bool has_ack = h->flags & Z_TCP_ACK;
    bool ack_ok = has_ack && Z_SEQ_GT(h->ack, c->iss) && Z_SEQ_LEQ(h->ack, c->snd_max);
    if (has_ack && !ack_ok) {
        /* RFC 9293 3.10.7.3: <SEQ=SEG.ACK><CTL=RST>, unless it is a RST. */
        if (!(h->flags & Z_TCP_RST)) {
            send_segment(c, Z_TCP_RST, h->ack, 0, 0);
        }
        return;
    }
    if (h->flags & Z_TCP_RST) {
        if (ack_ok) {
            enter_closed(c, ECONNREFUSED);
        }
        return;
    }
    if (!(h->flags & Z_TCP_SYN)) {
        return;
    }
    c->irs = h->seq;
    c->rcv_nxt = h->seq + 1;
    c->rcv_adv = c->rcv_nxt; /* nothing offered yet */
    take_syn_options(c, h, true);
    if (ack_ok) {
        c->snd_una = h->ack;
        c->snd_wnd = h->window; /* not scaled on a SYN */
        c->snd_wl1 = h->seq;
        c->snd_wl2 = h->ack;
        c->state = Z_TCP_ESTABLISHED;
        c->rto_deadline = 0;
        c->retries = 0;
        c->keep_deadline = KEEP_ON(c) ? c->now + c->keep_idle_us : 0;
        if (c->rtt_timing) {
            /* The SYN was not retransmitted: its round trip is a clean sample. */
            rtt_sample(c, c->now - c->rtt_start);
            c->rtt_timing = false;
        } else if (c->srtt_us == 0) {
            c->rto_us = 3000000; /* RFC 6298 5.7: the SYN timed out, no sample */
        }
        send_ack(c);
        c->ops->notify(c);
        tcp_output(c);
    } else {
        /* Simultaneous open. */
        c->state = Z_TCP_SYN_RCVD;
        send_segment(c, Z_TCP_SYN | Z_TCP_ACK, c->iss, 0, 0);
    }
}

/* Process an acceptable ACK number. Returns false if the segment must be dropped. */
static bool process_ack(struct z_tcp_conn *c, const struct z_tcp_hdr *h, size_t len)
{
    uint32_t ack = h->ack;
    if (c->state == Z_TCP_SYN_RCVD) {
        if (!(Z_SEQ_GT(ack, c->snd_una) && Z_SEQ_LEQ(ack, c->snd_max))) {
            return false;
        }
        c->state = Z_TCP_ESTABLISHED;
        c->keep_deadline = KEEP_ON(c) ? c->now + c->keep_idle_us : 0;
        c->snd_wnd = (uint32_t)h->window << c->snd_wscale;
        c->snd_wl1 = h->seq;
        c->snd_wl2 = ack;
        if (!c->rtt_timing && c->srtt_us == 0 && !(TS_ON(c) && (h->opts.present & Z_TCPOPT_TS))) {
            c->rto_us = 3000000; /* RFC 6298 5.7: the SYN-ACK timed out, no sample */
        }
        c->ops->notify(c);
    }
    if (Z_SEQ_GT(ack, c->snd_max)) {
        send_ack(c); /* acknowledges something never sent */
        return false;
    }
    sack_update(c, h);
    uint32_t wnd = (uint32_t)h->window << c->snd_wscale;
    /* RFC 9293 3.10.7.4: only an ACK in [SND.UNA, SND.NXT] updates the window
     * (an older one would let us send past the edge it offered). */
    bool window_update =
        Z_SEQ_GEQ(ack, c->snd_una) &&
        (Z_SEQ_LT(c->snd_wl1, h->seq) || (c->snd_wl1 == h->seq && Z_SEQ_LEQ(c->snd_wl2, ack)));
    if (Z_SEQ_GT(ack, c->snd_una)) {
        uint32_t acked = ack - c->snd_una;
        /* Sequence space of SYN and FIN carries no data. */
        uint32_t data = acked;
        if (syn_unacked(c)) {
            data--;
        }
        /* The FIN's own sequence number decides, not whether it is marked
         * sent right now: an RTO may have scheduled it again meanwhile. */
        bool fin_acked = c->fin_seq_valid && Z_SEQ_GT(ack, c->fin_seq);
        if (fin_acked) {
            data--;
        }
        z_ring_consume(&c->snd, data);
        c->snd_una = ack;
        if (Z_SEQ_LT(c->snd_nxt, c->snd_una)) {
            c->snd_nxt = c->snd_una;
        }
        sack_trim(c);
        c->retries = 0;
        /* RTT: timestamps when both use them, else Karn-safe timing. In a
         * recovery after a timeout, an echo from before the timeout is no
         * sample: the peer echoes an old time when it acknowledges a
         * duplicate of what it had (RFC 7323 4.3), and the wait would
         * count as round trip. */
        if (TS_ON(c) && (h->opts.present & Z_TCPOPT_TS) && h->opts.ts_ecr != 0) {
            if (!(c->rto_recovery && Z_SEQ_LT(h->opts.ts_ecr, c->last_rto_ts))) {
                rtt_sample(c, ((int64_t)(ts_now(c) - h->opts.ts_ecr)) * 1000);
            }
        } else if (c->rtt_timing && Z_SEQ_GT(ack, c->rtt_seq)) {
            rtt_sample(c, c->now - c->rtt_start);
        }
        if (c->rtt_timing && Z_SEQ_GT(ack, c->rtt_seq)) {
            c->rtt_timing = false;
        }
        c->tlp_out = false;
        /* Armed only with SACK and timestamps (on_rto): not built without them. */
        if (CONFIG_NET_TCP_SACK && CONFIG_NET_TCP_TIMESTAMPS && c->rto_undo_armed) {
            c->rto_undo_armed = false;
            if (c->rto_recovery && (h->opts.present & Z_TCPOPT_TS) && h->opts.ts_ecr != 0 &&
                Z_SEQ_LT(h->opts.ts_ecr, c->rto_ts)) {
                /* The timeout was spurious: what was sent before it is
                 * arriving. Stop resending and take the window back. */
                c->spurious_rtos++;
                c->in_recovery = false;
                c->rto_recovery = false;
                c->tlp_mark_valid = false;
                c->cwnd = c->undo_cwnd;
                c->ssthresh = c->undo_ssthresh;
                c->cubic_wmax = c->undo_wmax;
                c->cubic_epoch = 0;
            }
        }
        if (c->in_recovery && Z_SEQ_GEQ(ack, c->recover)) {
            /* Recovery ends; after a timeout slow start simply goes on. */
            c->in_recovery = false;
            c->tlp_mark_valid = false;
            c->rack_deadline = 0;
            if (!c->rto_recovery) {
                c->cwnd = c->ssthresh;
            }
            c->rto_recovery = false;
        } else if (c->in_recovery && !SACK_ON(c)) {
            /* Partial ACK (RFC 6582): the next hole is lost too. */
            retransmit_first(c);
            c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
        } else {
            cc_on_ack(c, data);
        }
        c->dupacks = 0;
        c->rto_deadline = c->snd_una == c->snd_max ? 0 : c->now + c->rto_us;
        arm_tlp(c);
        if (fin_acked) {
            if (c->state == Z_TCP_FIN_WAIT_1) {
                c->state = Z_TCP_FIN_WAIT_2;
            } else if (c->state == Z_TCP_CLOSING) {
                enter_time_wait(c);
            } else if (c->state == Z_TCP_LAST_ACK) {
                enter_closed(c, 0);
                return false;
            }
        }
        /* Writers wake when a third of the buffer is free again (as Linux's
         * sk_stream_write_space), or all is acknowledged: not on every ACK
         * of a bulk transfer. */
        size_t room = z_tcp_writable(c);
        size_t low = c->cfg.snd_buf / 3 > 0 ? c->cfg.snd_buf / 3 : 1;
        if (fin_acked || c->snd.len == 0 || (room >= low && room - data < low)) {
            c->ops->notify(c);
        }
    } else if (ack == c->snd_una && len == 0 && !(h->flags & (Z_TCP_SYN | Z_TCP_FIN)) &&
               wnd == c->snd_wnd && c->snd_max != c->snd_una) {
        /* A duplicate ACK (RFC 5681 2): same ACK, no data, same window (a
         * changed window is a window update, not a report of a hole). */
        c->dupacks++;
        /* Early retransmit (RFC 5827): with fewer than four segments out and
         * nothing new to send, fewer duplicates can ever arrive. */
        uint32_t out_segs = (c->snd_max - c->snd_una + c->mss - 1) / c->mss;
        int thresh = 3;
        if (out_segs < 4 && c->snd.len <= data_in_flight(c) && out_segs > 1) {
            thresh = (int)out_segs - 1;
        }
        if (c->dupacks >= thresh && !c->in_recovery) {
            enter_recovery(c);
        } else if (c->in_recovery && !SACK_ON(c)) {
            c->cwnd += c->mss; /* NewReno: each duplicate left the network */
        }
    }
    if (SACK_ON(c) && c->in_recovery && c->nrxt > 0) {
        detect_lost_retransmits(c);
    }
    /* The tail loss probe arrived, but what was sent before it did not. */
    if (CONFIG_NET_TCP_SACK && c->tlp_out && is_sacked(c, c->tlp_seq)) {
        c->tlp_out = false;
        if (!c->in_recovery) {
            c->tlp_mark = c->tlp_seq;
            c->tlp_mark_valid = true;
        }
    }
    /* SACKs alone can show the first segment lost (RFC 6675 5: IsLost). */
    if (SACK_ON(c) && !c->in_recovery && c->nsacked > 0 && c->snd_una != c->snd_max &&
        Z_SEQ_GT(lost_edge(c), c->snd_una)) {
        enter_recovery(c);
    }
    if (window_update) {
        c->snd_wnd = wnd;
        c->snd_wl1 = h->seq;
        c->snd_wl2 = ack;
        if (wnd > 0) {
            c->persist_deadline = 0;
        }
    }
    return true;
}

/* Append in-order bytes, then whatever the out-of-order queue now continues. */
static void deliver_in_order(struct z_tcp_conn *c, const uint8_t *data, size_t len, bool fin)
{
    size_t n = z_ring_write(&c->rcv, data, len);
    c->rcv_nxt += (uint32_t)n;
    if (fin && n == len) {
        c->rcv_nxt++;
        c->rcv_fin = true;
    }
    while (c->ooo != NULL && Z_SEQ_LEQ(c->ooo->seq, c->rcv_nxt)) {
        struct z_tcp_ooo *o = c->ooo;
        c->ooo = o->next;
        c->ooo_bytes -= o->len;
        uint32_t skip = c->rcv_nxt - o->seq;
        if (!c->rcv_fin && skip <= o->len) {
            size_t w = z_ring_write(&c->rcv, o->data + skip, o->len - skip);
            c->rcv_nxt += (uint32_t)w;
            if (o->fin && w == o->len - skip) {
                c->rcv_nxt++;
                c->rcv_fin = true;
            }
        }
        z_free(o);
    }
}

static void store_out_of_order(struct z_tcp_conn *c, uint32_t seq, const uint8_t *data, size_t len,
                               bool fin)
{
    uint32_t wnd = Z_SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t room = (uint32_t)z_ring_space(&c->rcv);
    if (wnd > room) {
        wnd = room;
    }
    /* Keep only what lies inside the window, bounded by the buffer. */
    uint32_t end = c->rcv_nxt + wnd;
    if (Z_SEQ_GT(seq + (uint32_t)len, end)) {
        len = Z_SEQ_GT(end, seq) ? end - seq : 0;
        fin = false;
    }
    if (len == 0 && !fin) {
        return;
    }
    c->ooo_last = seq;
    if (c->ooo_bytes + len > c->cfg.rcv_buf) {
        return;
    }
    struct z_tcp_ooo **pp = &c->ooo;
    while (*pp != NULL && Z_SEQ_LT((*pp)->seq, seq)) {
        pp = &(*pp)->next;
    }
    if (*pp != NULL && (*pp)->seq == seq && (*pp)->len >= len) {
        return; /* a duplicate */
    }
    struct z_tcp_ooo *o = z_malloc(sizeof(*o) + len);
    if (o == NULL) {
        return;
    }
    o->seq = seq;
    o->len = (uint32_t)len;
    o->fin = fin;
    memcpy(o->data, data, len);
    o->next = *pp;
    *pp = o;
    c->ooo_bytes += len;
}

static void process_text(struct z_tcp_conn *c, const struct z_tcp_hdr *h, const uint8_t *payload,
                         size_t len)
{
    bool fin = h->flags & Z_TCP_FIN;
    uint32_t seq = h->seq;
    bool was_fin = c->rcv_fin;
    if (c->rcv_fin || !(c->state == Z_TCP_ESTABLISHED || c->state == Z_TCP_FIN_WAIT_1 ||
                        c->state == Z_TCP_FIN_WAIT_2)) {
        if (len > 0 || fin) {
            send_ack(c); /* data after FIN: acknowledge what we have */
        }
        return;
    }
    /* Trim what was already received. */
    if (Z_SEQ_LT(seq, c->rcv_nxt)) {
        uint32_t dup = c->rcv_nxt - seq;
        if (dup >= len) {
            if (!(fin && dup == len)) {
                if (len > 0 || fin) {
                    send_ack(c);
                }
                return;
            }
            payload += len;
            len = 0;
        } else {
            payload += dup;
            len -= dup;
        }
        seq = c->rcv_nxt;
    }
    if (seq != c->rcv_nxt) {
        store_out_of_order(c, seq, payload, len, fin);
        send_ack(c); /* immediately, so the sender sees the hole (RFC 5681 4.2) */
        return;
    }
    /* In order: never beyond what the buffer holds. */
    if (len > z_ring_space(&c->rcv)) {
        len = z_ring_space(&c->rcv);
        fin = false;
    }
    bool had_ooo = c->ooo != NULL;
    deliver_in_order(c, payload, len, fin);
    if (len > 0 || c->rcv_fin != was_fin) {
        c->ops->notify(c);
    }
    if (c->rcv_fin && !was_fin) {
        switch (c->state) {
        case Z_TCP_ESTABLISHED:
            c->state = Z_TCP_CLOSE_WAIT;
            break;
        case Z_TCP_FIN_WAIT_1:
            /* Our FIN is not acknowledged yet (else we would be in FIN_WAIT_2). */
            c->state = Z_TCP_CLOSING;
            break;
        case Z_TCP_FIN_WAIT_2:
            enter_time_wait(c);
            break;
        default:
            break;
        }
        send_ack(c);
        return;
    }
    if (len == 0) {
        return;
    }
    /* Delayed ACK (RFC 1122 4.2.3.2): at least every second segment, at
     * once when this one filled a hole, otherwise within DELACK_US. */
    c->unacked_segs += len > c->mss ? (int)(len / c->mss) : 1; /* offloaded: several */
    if (had_ooo || c->quickacks > 0) {
        /* At the start every segment is acknowledged at once, so the
         * peer's slow start is not held back by delayed ACKs. */
        if (c->quickacks > 0) {
            c->quickacks--;
        }
        send_ack(c);
    } else if (c->unacked_segs >= 2) {
        if (c->defer_ack) {
            c->ack_pending = true; /* the glue sends one for the whole burst */
        } else {
            send_ack(c);
        }
    } else if (c->delack_deadline == 0) {
        c->delack_deadline = c->now + DELACK_US;
    }
}

void z_tcp_ack_flush(struct z_tcp_conn *c, int64_t now)
{
    c->now = now;
    if (c->ack_pending && c->unacked_segs > 0 && synchronized(c)) {
        send_ack(c);
    }
    c->ack_pending = false;
}

void z_tcp_input(struct z_tcp_conn *c, const struct z_tcp_hdr *h, const uint8_t *payload,
                 size_t len, int64_t now)
{
    c->now = now;
    switch (c->state) {
    case Z_TCP_CLOSED:
    case Z_TCP_LISTEN:
        return;
    case Z_TCP_SYN_SENT:
        input_syn_sent(c, h);
        return;
    default:
        break;
    }
    size_t seglen = len + ((h->flags & Z_TCP_SYN) ? 1 : 0) + ((h->flags & Z_TCP_FIN) ? 1 : 0);
    /* PAWS (RFC 7323 5): an old timestamp marks an old duplicate. */
    if (TS_ON(c) && (h->opts.present & Z_TCPOPT_TS) && !(h->flags & Z_TCP_RST) &&
        Z_SEQ_LT(h->opts.ts_val, c->ts_recent)) {
        send_ack(c);
        return;
    }
    if (!seq_acceptable(c, h->seq, seglen)) {
        if (h->flags & Z_TCP_RST) {
            return;
        }
        if (c->state == Z_TCP_TIME_WAIT && (h->flags & Z_TCP_FIN)) {
            c->tw_deadline = c->now + c->cfg.time_wait_us; /* a retransmitted FIN */
        }
        send_ack(c);
        return;
    }
    /* The peer is alive: keepalive starts counting again. */
    c->keep_probes = 0;
    if (KEEP_ON(c)) {
        c->keep_deadline = c->now + c->keep_idle_us;
    }
    if (h->flags & Z_TCP_RST) {
        /* RFC 5961 3.2: only the exact next sequence number resets. */
        if (h->seq != c->rcv_nxt) {
            send_ack(c); /* challenge ACK */
            return;
        }
        /* A connection the application may still use learns it was reset;
         * one that is only finishing its close just goes. */
        int err = 0;
        switch (c->state) {
        case Z_TCP_SYN_RCVD:
            err = ECONNREFUSED;
            break;
        case Z_TCP_ESTABLISHED:
        case Z_TCP_FIN_WAIT_1:
        case Z_TCP_FIN_WAIT_2:
        case Z_TCP_CLOSE_WAIT:
            err = ECONNRESET;
            break;
        default:
            break;
        }
        enter_closed(c, err);
        return;
    }
    if (h->flags & Z_TCP_SYN) {
        send_ack(c); /* RFC 5961 4: challenge ACK, never a reset */
        return;
    }
    if (!(h->flags & Z_TCP_ACK)) {
        return;
    }
    /* Timestamps: remember the peer's clock for segments at the left edge. */
    if (TS_ON(c) && (h->opts.present & Z_TCPOPT_TS) && Z_SEQ_LEQ(h->seq, c->rcv_nxt)) {
        c->ts_recent = h->opts.ts_val;
    }
    if (!process_ack(c, h, len)) {
        return;
    }
    if (c->state == Z_TCP_TIME_WAIT) {
        if (h->flags & Z_TCP_FIN) {
            c->tw_deadline = c->now + c->cfg.time_wait_us;
            send_ack(c);
        }
        return;
    }
    process_text(c, h, payload, len);
    tcp_output(c);
}

/* ---- application calls --------------------------------------------------------------------------
 */

ssize_t z_tcp_send(struct z_tcp_conn *c, struct z_iov_iter *it, size_t len, int64_t now)
{
    c->now = now;
    if (c->fin_queued || c->state == Z_TCP_CLOSED || c->state == Z_TCP_TIME_WAIT) {
        return -EPIPE;
    }
    if (c->state == Z_TCP_SYN_SENT || c->state == Z_TCP_SYN_RCVD || c->state == Z_TCP_LISTEN) {
        return -ENOTCONN;
    }
    size_t n = len < z_ring_space(&c->snd) ? len : z_ring_space(&c->snd);
    struct z_ring *r = &c->snd;
    n = z_ring_copy_in(r, z_ring_pos(r, r->len), it, n);
    z_ring_commit(r, n);
    tcp_output(c);
    return (ssize_t)n;
}

size_t z_tcp_recv(struct z_tcp_conn *c, struct z_iov_iter *it, size_t len, bool peek, int64_t now)
{
    c->now = now;
    size_t n = len < c->rcv.len ? len : c->rcv.len;
    n = z_ring_copy_out(&c->rcv, c->rcv.head, it, n);
    if (peek || n == 0) {
        return n;
    }
    uint32_t before = rcv_window(c);
    z_ring_consume(&c->rcv, n);
    uint32_t after = rcv_window(c);
    /* Tell the peer once the window opened by a useful amount (RFC 1122
     * 4.2.3.3): two segments, or half the buffer. */
    uint32_t step = 2u * c->mss < c->cfg.rcv_buf / 2 ? 2u * c->mss : c->cfg.rcv_buf / 2;
    uint32_t advertised = Z_SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    /* ...or as soon as the window at least doubles, so a sender stopped by a
     * full window does not wait for the delayed-ACK timer. */
    if (synchronized(c) && !c->rcv_fin && after > before &&
        (after - advertised >= step || after >= 2 * advertised)) {
        send_ack(c);
    }
    return n;
}

void z_tcp_shutdown_wr(struct z_tcp_conn *c, int64_t now)
{
    c->now = now;
    if (c->fin_queued) {
        return;
    }
    switch (c->state) {
    case Z_TCP_SYN_SENT:
    case Z_TCP_LISTEN:
        enter_closed(c, 0);
        return;
    case Z_TCP_SYN_RCVD:
    case Z_TCP_ESTABLISHED:
        c->fin_queued = true;
        c->state = Z_TCP_FIN_WAIT_1;
        break;
    case Z_TCP_CLOSE_WAIT:
        c->fin_queued = true;
        c->state = Z_TCP_LAST_ACK;
        break;
    default:
        return;
    }
    tcp_output(c);
}

void z_tcp_abort(struct z_tcp_conn *c, int64_t now)
{
    c->now = now;
    if (c->state != Z_TCP_CLOSED && c->state != Z_TCP_LISTEN && c->state != Z_TCP_SYN_SENT &&
        c->state != Z_TCP_TIME_WAIT) {
        send_segment(c, Z_TCP_RST | Z_TCP_ACK, c->snd_nxt, 0, 0);
    }
    enter_closed(c, 0);
}

bool z_tcp_reset_reply(const struct z_tcp_hdr *in, size_t len, struct z_tcp_hdr *out)
{
    if (in->flags & Z_TCP_RST) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    out->sport = in->dport;
    out->dport = in->sport;
    if (in->flags & Z_TCP_ACK) {
        out->seq = in->ack;
        out->flags = Z_TCP_RST;
    } else {
        out->seq = 0;
        out->ack = in->seq + (uint32_t)len + ((in->flags & Z_TCP_SYN) ? 1 : 0) +
                   ((in->flags & Z_TCP_FIN) ? 1 : 0);
        out->flags = Z_TCP_RST | Z_TCP_ACK;
    }
    return true;
}

/* ---- timers
 * ---------------------------------------------------------------------------------------- */

void z_tcp_set_keepalive(struct z_tcp_conn *c, bool on, int64_t idle_us, int64_t intvl_us, int cnt,
                         int64_t now)
{
    c->now = now;
    c->keepalive = CONFIG_NET_TCP_KEEPALIVE && on;
    c->keep_idle_us = idle_us;
    c->keep_intvl_us = intvl_us;
    c->keep_cnt = cnt;
    c->keep_probes = 0;
    c->keep_deadline = on && synchronized(c) ? now + idle_us : 0;
}

/* A probe is due: send one (sequence snd_una - 1, no data, which the peer
 * must answer with an ACK), or give up after keep_cnt unanswered ones. */
static void on_keepalive(struct z_tcp_conn *c)
{
    bool idle = c->snd_una == c->snd_max && c->persist_deadline == 0;
    if (!c->keepalive || !(c->state == Z_TCP_ESTABLISHED || c->state == Z_TCP_CLOSE_WAIT)) {
        c->keep_deadline = 0;
        return;
    }
    if (!idle) {
        /* Retransmission timing watches a connection with data in flight. */
        c->keep_deadline = c->now + c->keep_idle_us;
        return;
    }
    if (c->keep_probes >= c->keep_cnt) {
        send_segment(c, Z_TCP_RST | Z_TCP_ACK, c->snd_nxt, 0, 0);
        enter_closed(c, ETIMEDOUT);
        return;
    }
    send_segment(c, Z_TCP_ACK, c->snd_una - 1, 0, 0);
    c->keep_probes++;
    c->keep_deadline = c->now + c->keep_intvl_us;
}

int64_t z_tcp_next_deadline(const struct z_tcp_conn *c)
{
    int64_t t = INT64_MAX;
    const int64_t d[] = {c->rto_deadline,  c->delack_deadline, c->persist_deadline, c->tw_deadline,
                         c->keep_deadline, c->tlp_deadline,    c->rack_deadline};
    for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        if (d[i] != 0 && d[i] < t) {
            t = d[i];
        }
    }
    return t;
}

static void on_rto(struct z_tcp_conn *c)
{
    int limit = (c->state == Z_TCP_SYN_SENT || c->state == Z_TCP_SYN_RCVD) ? c->cfg.syn_retries
                                                                           : c->cfg.max_retries;
    count(c, Z_TCP_EV_TIMEOUT);
    c->last_rto_ts = ts_now(c);
    if (++c->retries > limit) {
        if (c->state != Z_TCP_SYN_SENT) {
            send_segment(c, Z_TCP_RST | Z_TCP_ACK, c->snd_nxt, 0, 0);
        }
        enter_closed(c, ETIMEDOUT);
        return;
    }
    /* RFC 5681 3.1 and RFC 6298 5.5-5.7: one segment, doubled timer, no RTT
     * sample from what is retransmitted (Karn). A FIN queued in SYN-RCVD
     * leaves the SYN unacknowledged: the SYN-ACK is what goes again. */
    bool sync = synchronized(c) && !syn_unacked(c);
    if (sync && c->retries == 1 && SACK_ON(c) && TS_ON(c)) {
        c->rto_undo_armed = true;
        c->rto_ts = ts_now(c);
        c->undo_cwnd = c->cwnd;
        c->undo_ssthresh = c->ssthresh;
        c->undo_wmax = c->cubic_wmax;
    }
    if (sync) {
        cc_congestion(c);
        c->cwnd = c->mss;
        c->dupacks = 0;
        if (SACK_ON(c)) {
            /* Every hole is lost; SACKed data is not sent again unless a
             * second timeout suggests the peer dropped it (RFC 2018 8). */
            if (c->retries > 1) {
                c->nsacked = 0;
            }
            c->in_recovery = true;
            c->rto_recovery = true;
            c->recover = c->snd_max;
            c->high_rxt = c->snd_una;
            c->nrxt = 0;
            c->rack_deadline = 0;
            c->rxt_cut = true; /* the timeout cut the window already */
        } else {
            /* Go back: everything after snd_una is sent again as the window opens. */
            c->in_recovery = false;
            c->snd_nxt = c->snd_una;
            c->fin_sent = false;
        }
    }
    c->rtt_timing = false;
    c->rto_us = c->rto_us * 2 > RTO_MAX_US ? RTO_MAX_US : c->rto_us * 2;
    if (!(sync && SACK_ON(c))) {
        count(c, Z_TCP_EV_RETRANSMIT); /* SACK recovery counts its own */
    }
    if (sync) {
        c->rto_deadline = 0;
        tcp_output(c);
        if (c->rto_deadline == 0) {
            arm_rto(c);
        }
    } else {
        retransmit_first(c);
        arm_rto(c);
    }
}

/* The zero-window probe interval: the RTO (at least PERSIST_MIN_US),
 * doubling with every unanswered probe up to PERSIST_MAX_US. */
static int64_t persist_interval(const struct z_tcp_conn *c)
{
    int64_t iv = c->rto_us > PERSIST_MIN_US ? c->rto_us : PERSIST_MIN_US;
    for (int i = 0; i < c->persist_backoff && iv < PERSIST_MAX_US; i++) {
        iv *= 2;
    }
    return iv > PERSIST_MAX_US ? PERSIST_MAX_US : iv;
}

/* The tail loss probe: new data if the windows allow, else the last
 * segment again; the RTO is restarted behind it (RFC 8985 7.3). */
static void on_tlp(struct z_tcp_conn *c)
{
    if (!synchronized(c) || c->state == Z_TCP_TIME_WAIT || c->in_recovery ||
        c->snd_una == c->snd_max || c->tlp_out) {
        return;
    }
    uint32_t end = c->snd_max;
    uint32_t flight = c->snd_nxt - c->snd_una;
    size_t can = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
    uint32_t seq = c->snd_nxt;
    if (send_new(c, can < c->mss ? can : c->mss)) {
        end = c->snd_max;
    } else {
        bool fin = c->fin_sent && c->fin_seq_valid && c->fin_seq + 1 == end;
        uint32_t data_end = fin ? end - 1 : end;
        uint32_t last = data_end - c->snd_una < c->mss ? data_end - c->snd_una : c->mss;
        seq = data_end - last;
        if (retransmit_at(c, seq, end - seq) == 0) {
            return;
        }
    }
    c->tlp_out = true;
    c->tlp_seq = seq;
    c->tlp_end = end;
    arm_rto(c);
}

static void on_persist(struct z_tcp_conn *c)
{
    /* A probe below the window (sequence snd_una - 1, no data), as Linux
     * sends: it consumes no sequence space, and the answer carries the
     * current window. RFC 9293 3.8.6.1 allows any probe that elicits one. */
    send_segment(c, Z_TCP_ACK, c->snd_una - 1, 0, 0);
    if (c->persist_backoff < 16) {
        c->persist_backoff++;
    }
    c->persist_deadline = c->now + persist_interval(c);
}

void z_tcp_timer(struct z_tcp_conn *c, int64_t now)
{
    c->now = now;
    if (c->tw_deadline != 0 && now >= c->tw_deadline) {
        c->tw_deadline = 0;
        enter_closed(c, 0);
        return;
    }
    if (c->delack_deadline != 0 && now >= c->delack_deadline) {
        send_ack(c);
    }
    if (c->rto_deadline != 0 && now >= c->rto_deadline) {
        c->rto_deadline = 0;
        on_rto(c);
        if (c->state == Z_TCP_CLOSED) {
            return;
        }
    }
    if (CONFIG_NET_TCP_SACK && c->tlp_deadline != 0 && now >= c->tlp_deadline) {
        c->tlp_deadline = 0;
        on_tlp(c);
    }
    if (CONFIG_NET_TCP_SACK && c->rack_deadline != 0 && now >= c->rack_deadline) {
        c->rack_deadline = 0;
        if (c->in_recovery && SACK_ON(c)) {
            detect_lost_retransmits(c);
            tcp_output(c);
        }
    }
    if (c->persist_deadline != 0 && now >= c->persist_deadline) {
        on_persist(c);
    }
    if (CONFIG_NET_TCP_KEEPALIVE && c->keep_deadline != 0 && now >= c->keep_deadline) {
        on_keepalive(c);
    }
}
