/* The TCP connection core: RFC 9293 segment processing, window management
 * with scaling (RFC 7323), timestamps for RTT measurement, retransmission
 * timing (RFC 6298, Karn), slow start, congestion avoidance, fast retransmit
 * and NewReno recovery (RFC 5681, RFC 6582), RST validation (RFC 5961),
 * delayed ACKs, Nagle, zero-window probing and TIME-WAIT. No I/O: segments
 * leave through ops->xmit, time comes in as `now`. */
#include "net/tcp.h"

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
    if (z_ring_init(&c->snd, cfg->snd_buf) < 0) {
        return -ENOMEM;
    }
    if (z_ring_init(&c->rcv, cfg->rcv_buf) < 0) {
        z_ring_free(&c->snd);
        return -ENOMEM;
    }
    c->state = Z_TCP_CLOSED;
    c->rto_us = RTO_INIT_US;
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
        free(o);
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
    return (uint32_t)(c->now / 1000); /* 1 ms timestamp clock */
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
        if (!(flags & Z_TCP_ACK) || c->ts_ok) {
            h.opts.present |= Z_TCPOPT_TS;
        }
    } else if (c->ts_ok) {
        h.opts.present |= Z_TCPOPT_TS;
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
    c->keep_deadline = 0;
    c->ops->notify(c);
}

static void enter_time_wait(struct z_tcp_conn *c)
{
    c->state = Z_TCP_TIME_WAIT;
    c->rto_deadline = c->persist_deadline = c->keep_deadline = 0;
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

/* Send what the windows allow; FIN after the last byte when queued. */
static void tcp_output(struct z_tcp_conn *c)
{
    if (!synchronized(c) || c->state == Z_TCP_TIME_WAIT) {
        return;
    }
    for (;;) {
        uint32_t off = data_in_flight(c);
        if ((c->fin_sent && c->snd_nxt == c->snd_max) ||
            (c->fin_seq_valid && Z_SEQ_GT(c->snd_una, c->fin_seq))) {
            break; /* everything, FIN included, is out (or even acknowledged) */
        }
        size_t unsent = c->snd.len > off ? c->snd.len - off : 0;
        /* Limited transmit (RFC 3042): each of the first two duplicate ACKs
         * lets one new segment out beyond cwnd, so a small window still
         * produces the three duplicates fast retransmit needs. */
        uint32_t cwnd = c->cwnd;
        if (!c->in_recovery && c->dupacks > 0 && c->dupacks < 3) {
            cwnd += (uint32_t)c->dupacks * c->mss;
        }
        uint32_t wnd = c->snd_wnd < cwnd ? c->snd_wnd : cwnd;
        uint32_t flight = c->snd_nxt - c->snd_una;
        size_t can = wnd > flight ? wnd - flight : 0;
        size_t seg = unsent < c->mss ? unsent : c->mss;
        if (seg > can) {
            seg = can;
        }
        bool fin = c->fin_queued && !c->fin_sent && seg == unsent;
        if (seg == 0 && !fin) {
            break;
        }
        if (seg < c->mss && seg < unsent) {
            /* Window-limited to a runt: wait for a wider window instead of
             * sending silly segments, unless nothing is in flight. */
            if (flight > 0 || seg < c->snd_wnd / 2) {
                break;
            }
        }
        if (seg < c->mss && !fin && flight > 0 && !c->cfg.nodelay) {
            break; /* Nagle: one small segment in flight at a time */
        }
        uint8_t flags =
            Z_TCP_ACK | (fin ? Z_TCP_FIN : 0) | (seg == unsent && seg > 0 ? Z_TCP_PSH : 0);
        if (send_segment(c, flags, c->snd_nxt, off, seg) < 0) {
            /* Not sent (no buffer): the retransmission timer tries again. */
            if (c->rto_deadline == 0) {
                arm_rto(c);
            }
            break;
        }
        if (!c->rtt_timing && seg > 0 && c->snd_nxt == c->snd_max) {
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
    c->ts_ok = we_offered && (o->present & Z_TCPOPT_TS);
    if (c->ts_ok) {
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
    if (r <= 0) {
        r = 1;
    }
    if (c->srtt_us == 0) {
        c->srtt_us = r;
        c->rttvar_us = r / 2;
    } else {
        int64_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
        c->rttvar_us = (3 * c->rttvar_us + d) / 4;
        c->srtt_us = (7 * c->srtt_us + r) / 8;
    }
    int64_t rto = c->srtt_us + (4 * c->rttvar_us > 1000 ? 4 * c->rttvar_us : 1000);
    c->rto_us = rto < RTO_MIN_US ? RTO_MIN_US : rto > RTO_MAX_US ? RTO_MAX_US : rto;
}

static void cc_on_ack(struct z_tcp_conn *c, uint32_t acked)
{
    if (c->in_recovery) {
        return;
    }
    if (c->cwnd < c->ssthresh) {
        /* Slow start, at most one MSS per ACK (RFC 5681 3.1). */
        c->cwnd += acked < c->mss ? acked : c->mss;
    } else {
        uint32_t inc = (uint32_t)((uint64_t)c->mss * c->mss / c->cwnd);
        c->cwnd += inc > 0 ? inc : 1;
    }
}

static uint32_t half_flight(const struct z_tcp_conn *c)
{
    uint32_t flight = c->snd_max - c->snd_una;
    uint32_t h = flight / 2;
    return h > 2u * c->mss ? h : 2u * c->mss;
}

/* Resend the first unacknowledged segment. */
static void retransmit_first(struct z_tcp_conn *c)
{
    if (c->state == Z_TCP_SYN_SENT) {
        send_segment(c, Z_TCP_SYN, c->iss, 0, 0);
        return;
    }
    if (c->state == Z_TCP_SYN_RCVD) {
        send_segment(c, Z_TCP_SYN | Z_TCP_ACK, c->iss, 0, 0);
        return;
    }
    size_t seg = c->snd.len < c->mss ? c->snd.len : c->mss;
    bool fin = c->fin_sent && seg == c->snd.len;
    c->retransmits++;
    send_segment(c, Z_TCP_ACK | (fin ? Z_TCP_FIN : 0), c->snd_una, 0, seg);
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
        c->keep_deadline = c->keepalive ? c->now + c->keep_idle_us : 0;
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
        c->keep_deadline = c->keepalive ? c->now + c->keep_idle_us : 0;
        c->snd_wnd = (uint32_t)h->window << c->snd_wscale;
        c->snd_wl1 = h->seq;
        c->snd_wl2 = ack;
        if (!c->rtt_timing && c->srtt_us == 0 && !(c->ts_ok && (h->opts.present & Z_TCPOPT_TS))) {
            c->rto_us = 3000000; /* RFC 6298 5.7: the SYN-ACK timed out, no sample */
        }
        c->ops->notify(c);
    }
    if (Z_SEQ_GT(ack, c->snd_max)) {
        send_ack(c); /* acknowledges something never sent */
        return false;
    }
    uint32_t wnd = (uint32_t)h->window << c->snd_wscale;
    bool window_update =
        Z_SEQ_LT(c->snd_wl1, h->seq) || (c->snd_wl1 == h->seq && Z_SEQ_LEQ(c->snd_wl2, ack));
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
        c->retries = 0;
        /* RTT: timestamps when both use them, else Karn-safe timing. */
        if (c->ts_ok && (h->opts.present & Z_TCPOPT_TS) && h->opts.ts_ecr != 0) {
            rtt_sample(c, ((int64_t)(ts_now(c) - h->opts.ts_ecr)) * 1000);
        } else if (c->rtt_timing && Z_SEQ_GT(ack, c->rtt_seq)) {
            rtt_sample(c, c->now - c->rtt_start);
        }
        if (c->rtt_timing && Z_SEQ_GT(ack, c->rtt_seq)) {
            c->rtt_timing = false;
        }
        if (c->in_recovery) {
            if (Z_SEQ_GEQ(ack, c->recover)) {
                c->in_recovery = false;
                c->cwnd = c->ssthresh;
            } else {
                /* Partial ACK (RFC 6582): the next hole is lost too. */
                retransmit_first(c);
                c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
            }
        } else {
            cc_on_ack(c, data);
        }
        c->dupacks = 0;
        c->rto_deadline = c->snd_una == c->snd_max ? 0 : c->now + c->rto_us;
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
        c->ops->notify(c);
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
            c->ssthresh = half_flight(c);
            c->in_recovery = true;
            c->recover = c->snd_max;
            retransmit_first(c);
            c->cwnd = c->ssthresh + 3u * c->mss;
        } else if (c->in_recovery) {
            c->cwnd += c->mss;
        }
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
        free(o);
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
    struct z_tcp_ooo *o = malloc(sizeof(*o) + len);
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
    c->unacked_segs++;
    if (had_ooo || c->unacked_segs >= 2) {
        send_ack(c);
    } else if (c->delack_deadline == 0) {
        c->delack_deadline = c->now + DELACK_US;
    }
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
    if (c->ts_ok && (h->opts.present & Z_TCPOPT_TS) && !(h->flags & Z_TCP_RST) &&
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
    if (c->keepalive) {
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
    if (c->ts_ok && (h->opts.present & Z_TCPOPT_TS) && Z_SEQ_LEQ(h->seq, c->rcv_nxt)) {
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
    c->keepalive = on;
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
    const int64_t d[] = {c->rto_deadline, c->delack_deadline, c->persist_deadline, c->tw_deadline,
                         c->keep_deadline};
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
    if (++c->retries > limit) {
        if (c->state != Z_TCP_SYN_SENT) {
            send_segment(c, Z_TCP_RST | Z_TCP_ACK, c->snd_nxt, 0, 0);
        }
        enter_closed(c, ETIMEDOUT);
        return;
    }
    /* RFC 5681 3.1 and RFC 6298 5.5-5.7: one segment, doubled timer, no RTT
     * sample from what is retransmitted (Karn). */
    if (synchronized(c)) {
        c->ssthresh = half_flight(c);
        c->cwnd = c->mss;
        c->in_recovery = false;
        c->dupacks = 0;
        /* Go back: everything after snd_una is sent again as the window opens. */
        c->snd_nxt = c->snd_una;
        if (c->fin_sent) {
            c->fin_sent = false;
        }
    }
    c->rtt_timing = false;
    c->rto_us = c->rto_us * 2 > RTO_MAX_US ? RTO_MAX_US : c->rto_us * 2;
    c->retransmits++;
    if (synchronized(c)) {
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
    if (c->persist_deadline != 0 && now >= c->persist_deadline) {
        on_persist(c);
    }
    if (c->keep_deadline != 0 && now >= c->keep_deadline) {
        on_keepalive(c);
    }
}
