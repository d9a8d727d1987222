/* Per-packet timing options of datagram sockets, shared by the socket
 * families that send datagrams: SO_TXTIME with SCM_TXTIME (send at a given
 * time, CONFIG_NET_TX_QUEUE) and SO_TIMESTAMPING (software receive and
 * transmit stamps, CONFIG_NET_SOCKETS_TIMESTAMPING), plus the control
 * message writer the receive paths use. Times are on the stack's clock
 * (CLOCK_MONOTONIC on the posix port, virtual time on a simulated stack).
 * Every function needs the stack lock unless said otherwise. */
#ifndef ZSOCK_TXSTAMP_H_
#define ZSOCK_TXSTAMP_H_

#include <stdbool.h>

#include <zsock/socket.h>

#include "net/net.h"

/* Append one control message (level, type, len bytes of data) after the
 * `*used` bytes already in msg's control buffer; MSG_CTRUNC when it does
 * not fit. No lock needed. */
void z_put_cmsg(struct msghdr *msg, size_t *used, int level, int type, const void *data,
                size_t len);

#if CONFIG_NET_TX_QUEUE
/* SO_PRIORITY: 0..7 (802.1Q's priorities), else -EINVAL. */
int z_priority_set(uint8_t *prio, int v);
/* SO_TXTIME: an int (on or off, as Zephyr) or Linux's struct sock_txtime
 * (on; the clock must be CLOCK_MONOTONIC, flags 0). -EINVAL otherwise. */
int z_txtime_set(bool *on, const void *optval, socklen_t optlen);
/* Read back: an int, or a struct sock_txtime if optlen holds one. */
int z_txtime_get(bool on, void *optval, socklen_t *optlen);
/* SCM_TXTIME's data (uint64_t nanoseconds on the stack's clock) as the
 * stack time in microseconds, rounded up so a packet never leaves early;
 * 0 stays 0 (at once). -EINVAL for a short message, or when SO_TXTIME is
 * off (as Linux). */
int z_txtime_cmsg(bool on, const void *data, size_t len, int64_t *us);
#endif

#if CONFIG_NET_SOCKETS_TIMESTAMPING
#define Z_TS_ERRQ 16 /* transmit stamps a socket keeps unread; later ones are dropped */

/* One socket's SO_TIMESTAMPING state. */
struct z_sock_ts {
    int flags;                 /* SOF_TIMESTAMPING_* as set */
    struct z_stack *stack;     /* set by z_sock_ts_init */
    struct z_ts_sink sink;     /* registered while transmit stamps are on */
    bool sink_on;              /* sink registered */
    bool rx_on;                /* counted in the stack's rx_stampers */
    uint32_t next_key;         /* the next datagram's number */
    uint32_t dropped;          /* stamps lost to a full error queue */
    void (*notify)(void *ctx); /* the socket's wake-up (POLLERR), lock held */
    void *ctx;
    struct {
        uint32_t key;
        int64_t when;
    } q[Z_TS_ERRQ];
    uint8_t head, n;
};

void z_sock_ts_init(struct z_sock_ts *ts, struct z_stack *s, void (*notify)(void *), void *ctx);
/* SO_TIMESTAMPING's int of flags: -EINVAL unknown bits, -EOPNOTSUPP
 * hardware stamps (no hardware clock). */
int z_sock_ts_set(struct z_sock_ts *ts, const void *optval, socklen_t optlen);
/* Stop (socket closing): unregister, forget queued stamps. */
void z_sock_ts_close(struct z_sock_ts *ts);
/* Whether receive stamps are to be reported. */
static inline bool z_sock_ts_rx(const struct z_sock_ts *ts)
{
    return ts->rx_on;
}
/* For the next datagram sent: the sink id and number to put on it (id 0:
 * no stamp asked). */
void z_sock_ts_tx(struct z_sock_ts *ts, uint32_t *id, uint32_t *key);
/* SCM_TIMESTAMPING with `when` in ts[0], at *used in msg's control buffer. */
void z_sock_ts_put(struct msghdr *msg, size_t *used, int64_t when);
/* recvmsg(MSG_ERRQUEUE): the oldest transmit stamp as SCM_TIMESTAMPING
 * plus IP_RECVERR (IPV6_RECVERR on an AF_INET6 socket) carrying its
 * number; no data (0 returned, MSG_ERRQUEUE in msg_flags). -EAGAIN when
 * none is queued. */
int z_sock_ts_errqueue(struct z_sock_ts *ts, int family, struct msghdr *msg, int flags);
/* Whether stamps wait (poll's POLLERR). */
static inline bool z_sock_ts_pending(const struct z_sock_ts *ts)
{
    return ts->n > 0;
}
#endif

#endif /* ZSOCK_TXSTAMP_H_ */
