/* The TCP connection core (RFC 9293): a state machine driven by segments in
 * and the time now, producing segments through a callback. It does no I/O,
 * knows no addresses beyond what it echoes, and takes no locks, so it can be
 * tested segment by segment under a virtual clock. The stack glue (tcp_glue.c)
 * finds connections for segments, turns output into IP packets and runs the
 * timers; the socket layer reads and writes the buffers through it.
 *
 * Sequence numbers compare modulo 2^32 (Z_SEQ_LT...). Times are microseconds.
 * Functions return a value or a negative errno. */
#ifndef ZSOCK_TCP_H_
#define ZSOCK_TCP_H_

#include <stdbool.h>
#include <stdint.h>

#include "sockets/iov.h"
#include "wire/wire.h"

enum z_tcp_state {
    Z_TCP_CLOSED = 0,
    Z_TCP_LISTEN,
    Z_TCP_SYN_SENT,
    Z_TCP_SYN_RCVD,
    Z_TCP_ESTABLISHED,
    Z_TCP_FIN_WAIT_1,
    Z_TCP_FIN_WAIT_2,
    Z_TCP_CLOSE_WAIT,
    Z_TCP_CLOSING,
    Z_TCP_LAST_ACK,
    Z_TCP_TIME_WAIT,
};

const char *z_tcp_state_name(enum z_tcp_state st);

#define Z_SEQ_LT(a, b)  ((int32_t)((a) - (b)) < 0)
#define Z_SEQ_LEQ(a, b) ((int32_t)((a) - (b)) <= 0)
#define Z_SEQ_GT(a, b)  ((int32_t)((a) - (b)) > 0)
#define Z_SEQ_GEQ(a, b) ((int32_t)((a) - (b)) >= 0)

struct z_tcp_conn;

/* What z_tcp_ops.event reports, for statistics. */
enum z_tcp_event {
    Z_TCP_EV_RETRANSMIT, /* a segment was sent again */
    Z_TCP_EV_TIMEOUT,    /* the retransmission timer fired */
    Z_TCP_EV_RECOVERY,   /* fast recovery began (duplicate ACKs or SACK) */
};

struct z_tcp_ops {
    /* Send one segment: `h` (ports left 0 for the glue to fill) and `len`
     * payload bytes taken from the send buffer starting `off` bytes after
     * snd_una. Returns 0, or a negative errno if it could not be sent (it
     * will be retransmitted by the timer). */
    int (*xmit)(struct z_tcp_conn *c, const struct z_tcp_hdr *h, size_t off, size_t len);
    /* The state seen by the application changed: data or EOF to read, room to
     * write, connected, an error. */
    void (*notify)(struct z_tcp_conn *c);
    /* Optional (may be NULL): count an event. */
    void (*event)(struct z_tcp_conn *c, enum z_tcp_event ev);
};

/* Congestion control after slow start. */
enum z_tcp_cc {
    Z_TCP_CC_RENO = 0, /* RFC 5681 congestion avoidance */
    Z_TCP_CC_CUBIC,    /* RFC 9438 (the successor of RFC 8312) */
};

/* Settings fixed when a connection starts. */
struct z_tcp_config {
    uint32_t snd_buf; /* send buffer bytes */
    uint32_t rcv_buf; /* receive buffer bytes (the largest window offered) */
    uint16_t mss;     /* our MSS: MTU - 40 */
    bool nodelay;     /* TCP_NODELAY: no Nagle */
    uint32_t isn;     /* initial sequence number (RFC 6528, from the glue) */
    int64_t time_wait_us;
    int max_retries; /* retransmissions before ETIMEDOUT */
    int syn_retries;
    bool sack;        /* offer SACK (RFC 2018) and use it when the peer agrees */
    uint32_t tso_max; /* largest TCP payload the device segments (0: one MSS per packet) */
    enum z_tcp_cc cc; /* congestion avoidance algorithm */
};

/* Ranges of sent data the peer reported holding (SACK scoreboard). */
#define Z_TCP_SACK_RANGES 8
/* Retransmissions watched for loss during a SACK recovery. */
#define Z_TCP_RXT_WATCH 32

struct z_tcp_range {
    uint32_t left;  /* first sequence number */
    uint32_t right; /* sequence number after the last */
};

struct z_tcp_ooo; /* out-of-order segment */

struct z_tcp_conn {
    enum z_tcp_state state;
    const struct z_tcp_ops *ops;
    void *ctx; /* the glue's */
    struct z_tcp_config cfg;

    /* send sequence space */
    uint32_t iss, snd_una, snd_nxt, snd_max;
    uint32_t snd_wnd; /* peer's window, scaled */
    uint32_t snd_wl1, snd_wl2;
    uint8_t snd_wscale; /* shift applied to windows the peer sends */
    uint8_t rcv_wscale; /* shift we apply to windows we send */
    struct z_ring snd;  /* bytes from snd_una on */
    bool fin_queued;    /* the application is done sending */
    bool fin_sent;      /* the FIN is out (cleared when an RTO resends from snd_una) */
    bool fin_seq_valid; /* fin_seq holds the FIN's sequence number */
    uint32_t fin_seq;

    /* receive sequence space */
    uint32_t irs, rcv_nxt;
    uint32_t rcv_adv; /* right edge of the window last advertised */
    struct z_ring rcv;
    struct z_tcp_ooo *ooo; /* sorted, non-overlapping */
    size_t ooo_bytes;
    bool rcv_fin; /* FIN received and in order: reads end after the buffer */

    /* options */
    uint16_t mss; /* segment size we send */
    bool ws_ok, ts_ok, sack_ok;
    uint32_t ts_recent;

    /* retransmission (RFC 6298) */
    int64_t srtt_us, rttvar_us, rto_us;
    int64_t rto_deadline; /* 0: not armed */
    int retries;
    bool rtt_timing;
    uint32_t rtt_seq;
    int64_t rtt_start;

    /* congestion control (RFC 5681, NewReno RFC 6582) */
    uint32_t cwnd, ssthresh;
    int dupacks;
    bool in_recovery;
    uint32_t recover;

    /* SACK (RFC 2018) and SACK-based loss recovery (RFC 6675): what the peer
     * holds above snd_una, sorted and disjoint; the highest sequence number
     * retransmitted in this recovery; whether the recovery began with a
     * retransmission timeout (then every hole counts as lost). */
    struct z_tcp_range sacked[Z_TCP_SACK_RANGES];
    int nsacked;
    uint32_t high_rxt;
    bool rto_recovery;
    /* Retransmissions of this recovery with `fence`, snd_nxt when each was
     * sent, and the time: a SACK beyond the fence while the segment is still
     * missing, or no news of it a round trip and a quarter after it went
     * (RACK's rule, RFC 8985 6.2, checked by rack_deadline), means the
     * retransmission was lost too. */
    struct {
        uint32_t seq, fence;
        int64_t at;
    } rxt[Z_TCP_RXT_WATCH];
    int nrxt;
    int64_t rack_deadline;
    bool rxt_cut; /* the window was reduced for a lost retransmission in this recovery */

    /* Tail loss probe (RFC 8985 7): with SACK, when ACKs stop arriving for
     * about two round trips, one segment is sent to draw SACK feedback
     * instead of waiting for the RTO. When the probe is SACKed, the holes
     * below it count as lost. */
    int64_t tlp_deadline;
    bool tlp_out;
    bool tlp_mark_valid;
    uint32_t tlp_seq, tlp_end;
    uint32_t tlp_mark;

    /* Spurious timeout detection (Eifel, RFC 3522) with timestamps: the
     * first ACK after a timeout echoing a time before the retransmission
     * shows the original arrived; the window before the timeout returns
     * (RFC 4015). */
    bool rto_undo_armed;
    uint32_t rto_ts;
    uint32_t last_rto_ts; /* our timestamp clock at the latest timeout */
    uint32_t undo_cwnd, undo_ssthresh;
    double undo_wmax;
    uint64_t spurious_rtos;
    uint32_t ooo_last; /* receiver: where the latest out-of-order segment began */

    /* CUBIC (RFC 9438), windows in bytes, times in seconds */
    double cubic_wmax;   /* window before the last reduction */
    double cubic_k;      /* time for the cubic to regrow to cubic_wmax */
    double cubic_west;   /* Reno-friendly estimate */
    double cubic_acc;    /* fractional bytes of growth not yet in cwnd */
    int64_t cubic_epoch; /* start of this congestion-avoidance epoch, 0: none */

    /* other timers */
    int64_t delack_deadline;
    int64_t persist_deadline;
    int persist_backoff; /* unanswered zero-window probes */
    int64_t tw_deadline;
    int unacked_segs; /* full segments received since our last ACK */
    int quickacks;    /* segments still acknowledged at once (slow start's start) */
    bool defer_ack;   /* set by the glue: an ACK due every second segment waits for */
    bool ack_pending; /* z_tcp_ack_flush() at the end of the burst of input */

    /* keepalive (RFC 1122 4.2.3.6): probes after keep_idle of silence */
    bool keepalive;
    int64_t keep_idle_us, keep_intvl_us;
    int keep_cnt;
    int keep_probes; /* unanswered so far */
    int64_t keep_deadline;

    int error; /* positive errno to report: ECONNRESET, ECONNREFUSED, ETIMEDOUT */
    int64_t now;

    uint64_t retransmits; /* statistics */
    uint64_t timeouts;
    uint64_t recoveries;
};

/* Prepare a closed connection with its buffers. 0 or -ENOMEM. */
int z_tcp_init(struct z_tcp_conn *c, const struct z_tcp_ops *ops, void *ctx,
               const struct z_tcp_config *cfg);
void z_tcp_free(struct z_tcp_conn *c);

/* Active open: send SYN. */
int z_tcp_connect(struct z_tcp_conn *c, int64_t now);

/* Passive open from a SYN received by a listener: `c` answers with SYN-ACK
 * and enters SYN-RCVD. */
int z_tcp_accept_syn(struct z_tcp_conn *c, const struct z_tcp_hdr *syn, int64_t now);

/* Process a segment for this connection (its checksum already verified). */
void z_tcp_input(struct z_tcp_conn *c, const struct z_tcp_hdr *h, const uint8_t *payload,
                 size_t len, int64_t now);

/* Send the ACK that input left pending (ack_pending, with defer_ack set),
 * if no segment has carried it since. */
void z_tcp_ack_flush(struct z_tcp_conn *c, int64_t now);

/* Run due timers. */
void z_tcp_timer(struct z_tcp_conn *c, int64_t now);

/* The earliest time z_tcp_timer() has work, or INT64_MAX. */
int64_t z_tcp_next_deadline(const struct z_tcp_conn *c);

/* Queue up to `len` bytes from `it` for sending; returns bytes queued (0
 * when the buffer is full), -EPIPE after shutdown or close, -ENOTCONN before
 * the connection is synchronised... */
ssize_t z_tcp_send(struct z_tcp_conn *c, struct z_iov_iter *it, size_t len, int64_t now);

/* Copy up to `len` received bytes into `it` (consuming them unless peek).
 * Returns the count; 0 with rcv_fin set means end of stream. Opening the
 * window enough sends a window update. */
size_t z_tcp_recv(struct z_tcp_conn *c, struct z_iov_iter *it, size_t len, bool peek, int64_t now);

/* Bytes readable now. */
static inline size_t z_tcp_readable(const struct z_tcp_conn *c)
{
    return c->rcv.len;
}

/* Room in the send buffer. */
static inline size_t z_tcp_writable(const struct z_tcp_conn *c)
{
    return z_ring_space(&c->snd);
}

/* No more data will be sent: a FIN follows the queued data. */
void z_tcp_shutdown_wr(struct z_tcp_conn *c, int64_t now);

/* Turn keepalive on or off: after `idle_us` without any segment from the
 * peer, send up to `cnt` probes `intvl_us` apart; if none is answered the
 * connection is reset with ETIMEDOUT. */
void z_tcp_set_keepalive(struct z_tcp_conn *c, bool on, int64_t idle_us, int64_t intvl_us, int cnt,
                         int64_t now);

/* Send RST and go to CLOSED (abortive close). */
void z_tcp_abort(struct z_tcp_conn *c, int64_t now);

/* The RST to answer a segment that has no connection (RFC 9293 3.10.7.1),
 * or false if none is due (it was itself a RST). */
bool z_tcp_reset_reply(const struct z_tcp_hdr *in, size_t len, struct z_tcp_hdr *out);

#endif /* ZSOCK_TCP_H_ */
