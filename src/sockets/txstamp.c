/* SO_TXTIME and SO_TIMESTAMPING for datagram sockets (txstamp.h). */
#include "sockets/txstamp.h"

#include <errno.h>
#include <string.h>

#include "sockets/sockbase.h"

#if CONFIG_NET_IPV6 || defined(CONFIG_NET_CONTEXT_RECV_PKTINFO) || CONFIG_NET_SOCKETS_TIMESTAMPING
void z_put_cmsg(struct msghdr *msg, size_t *used, int level, int type, const void *data, size_t len)
{
    size_t space = CMSG_SPACE(len);
    if (msg->msg_control == NULL || *used + CMSG_LEN(len) > msg->msg_controllen) {
        msg->msg_flags |= ZSOCK_MSG_CTRUNC;
        return;
    }
    struct cmsghdr c = {.cmsg_len = CMSG_LEN(len), .cmsg_level = level, .cmsg_type = type};
    uint8_t *at = (uint8_t *)msg->msg_control + *used;
    memcpy(at, &c, sizeof(c));
    memcpy(at + CMSG_LEN(0), data, len);
    *used += space < msg->msg_controllen - *used ? space : msg->msg_controllen - *used;
}
#endif

#if CONFIG_NET_TX_QUEUE
int z_priority_set(uint8_t *prio, int v)
{
    if (v < 0 || v > 7) {
        return -EINVAL;
    }
    *prio = (uint8_t)v;
    return 0;
}

int z_txtime_set(bool *on, const void *optval, socklen_t optlen)
{
    if (optval != NULL && optlen >= sizeof(struct sock_txtime)) {
        struct sock_txtime t;
        memcpy(&t, optval, sizeof(t));
#ifdef CLOCK_MONOTONIC
        if (t.clockid != CLOCK_MONOTONIC) {
            return -EINVAL; /* the stack keeps no other clock */
        }
#endif
        if (t.flags != 0) {
            return -EINVAL;
        }
        *on = true;
        return 0;
    }
    int v;
    int rc = z_opt_get_int(optval, optlen, &v);
    if (rc == 0) {
        *on = v != 0;
    }
    return rc;
}

int z_txtime_get(bool on, void *optval, socklen_t *optlen)
{
    if (*optlen >= sizeof(struct sock_txtime)) {
        struct sock_txtime t;
        memset(&t, 0, sizeof(t));
#ifdef CLOCK_MONOTONIC
        t.clockid = on ? CLOCK_MONOTONIC : 0;
#endif
        memcpy(optval, &t, sizeof(t));
        *optlen = sizeof(t);
        return 0;
    }
    return z_opt_put_int(optval, optlen, on);
}

int z_txtime_cmsg(bool on, const void *data, size_t len, int64_t *us)
{
    uint64_t ns;
    if (!on || len < sizeof(ns)) {
        return -EINVAL;
    }
    memcpy(&ns, data, sizeof(ns));
    uint32_t rem;
    uint64_t q = z_udiv64(ns, 1000, &rem);
    q += rem != 0;
    *us = q > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)q;
    return 0;
}
#endif

#if CONFIG_NET_SOCKETS_TIMESTAMPING

#define TS_SUPPORTED                                                                               \
    (SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |     \
     SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY)
#define TS_HARDWARE                                                                                \
    (SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE)

static void ts_sent(struct z_ts_sink *sink, uint32_t key, int64_t when)
{
    struct z_sock_ts *ts = (struct z_sock_ts *)((char *)sink - offsetof(struct z_sock_ts, sink));
    if (ts->n == Z_TS_ERRQ) {
        ts->dropped++;
        return;
    }
    unsigned at = (ts->head + ts->n) % Z_TS_ERRQ;
    ts->q[at].key = key;
    ts->q[at].when = when;
    ts->n++;
    ts->notify(ts->ctx);
}

void z_sock_ts_init(struct z_sock_ts *ts, struct z_stack *s, void (*notify)(void *), void *ctx)
{
    memset(ts, 0, sizeof(*ts));
    ts->stack = s;
    ts->notify = notify;
    ts->ctx = ctx;
    ts->sink.sent = ts_sent;
}

int z_sock_ts_set(struct z_sock_ts *ts, const void *optval, socklen_t optlen)
{
    int v;
    int rc = z_opt_get_int(optval, optlen, &v);
    if (rc < 0) {
        return rc;
    }
    if (v & TS_HARDWARE) {
        return -EOPNOTSUPP; /* no hardware clock to read */
    }
    if (v & ~TS_SUPPORTED) {
        return -EINVAL;
    }
    bool tx = (v & SOF_TIMESTAMPING_TX_SOFTWARE) != 0;
    bool rx = (v & SOF_TIMESTAMPING_RX_SOFTWARE) != 0;
    if (tx && !ts->sink_on) {
        z_ts_sink_add_locked(ts->stack, &ts->sink);
        ts->next_key = 0; /* OPT_ID counts from the moment stamps are asked for */
    } else if (!tx && ts->sink_on) {
        z_ts_sink_remove_locked(ts->stack, &ts->sink);
    }
    ts->sink_on = tx;
    if (rx != ts->rx_on) {
        ts->stack->rx_stampers += rx ? 1 : -1;
    }
    ts->rx_on = rx;
    ts->flags = v;
    return 0;
}

void z_sock_ts_close(struct z_sock_ts *ts)
{
    int off = 0;
    (void)z_sock_ts_set(ts, &off, sizeof(off));
    ts->n = 0;
}

void z_sock_ts_tx(struct z_sock_ts *ts, uint32_t *id, uint32_t *key)
{
    *id = ts->sink_on ? ts->sink.id : 0;
    *key = ts->sink_on ? ts->next_key++ : 0;
}

void z_sock_ts_put(struct msghdr *msg, size_t *used, int64_t when)
{
    struct scm_timestamping st;
    memset(&st, 0, sizeof(st));
    uint32_t rem;
    st.ts[0].tv_sec = (time_t)z_udiv64((uint64_t)when, 1000000, &rem);
    st.ts[0].tv_nsec = (long)rem * 1000;
    z_put_cmsg(msg, used, SOL_SOCKET, SCM_TIMESTAMPING, &st, sizeof(st));
}

int z_sock_ts_errqueue(struct z_sock_ts *ts, int family, struct msghdr *msg, int flags)
{
    if (ts->n == 0) {
        return -EAGAIN; /* the error queue never blocks, as on Linux */
    }
    size_t used = 0;
    z_sock_ts_put(msg, &used, ts->q[ts->head].when);
    struct sock_extended_err ee;
    memset(&ee, 0, sizeof(ee));
    ee.ee_errno = ENOMSG;
    ee.ee_origin = SO_EE_ORIGIN_TIMESTAMPING;
    ee.ee_info = SCM_TSTAMP_SND;
    ee.ee_data = ts->q[ts->head].key;
    if (family == AF_INET6) {
        z_put_cmsg(msg, &used, IPPROTO_IPV6, IPV6_RECVERR, &ee, sizeof(ee));
    } else {
        z_put_cmsg(msg, &used, IPPROTO_IP, IP_RECVERR, &ee, sizeof(ee));
    }
    msg->msg_controllen = used;
    msg->msg_namelen = 0;
    msg->msg_flags |= ZSOCK_MSG_ERRQUEUE;
    if (!(flags & ZSOCK_MSG_PEEK)) {
        ts->head = (uint8_t)((ts->head + 1) % Z_TS_ERRQ);
        ts->n--;
    }
    return 0;
}
#endif
