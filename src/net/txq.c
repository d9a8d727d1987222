/* Interface transmit queues (CONFIG_NET_TX_QUEUE) and transmit timestamp
 * sinks (CONFIG_NET_SOCKETS_TIMESTAMPING).
 *
 * A frame goes straight to the device while nothing waits and the device
 * takes it. When a device is full (its output says -EAGAIN without taking
 * the frame), frames wait in one FIFO per SO_PRIORITY class and leave
 * highest class first once the device has room again, as a strict-priority
 * queueing discipline. A frame with an SO_TXTIME waits, earliest first,
 * until its time, then joins its class. */
#include "net/net.h"
#include "net/packet.h"

#include <errno.h>

#if CONFIG_NET_SOCKETS_TIMESTAMPING
void z_ts_sink_add_locked(struct z_stack *s, struct z_ts_sink *sink)
{
    if (++s->ts_next_id == 0) {
        s->ts_next_id = 1; /* 0 means "no sink" in a packet */
    }
    sink->id = s->ts_next_id;
    sink->next = s->ts_sinks;
    s->ts_sinks = sink;
}

void z_ts_sink_remove_locked(struct z_stack *s, struct z_ts_sink *sink)
{
    for (struct z_ts_sink **pp = &s->ts_sinks; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == sink) {
            *pp = sink->next;
            return;
        }
    }
}

/* The sink may have gone while its packet waited: then nobody is told. */
static void ts_report(struct z_stack *s, uint32_t id, uint32_t key)
{
    for (struct z_ts_sink *k = s->ts_sinks; k != NULL; k = k->next) {
        if (k->id == id) {
            k->sent(k, key, z_stack_now_us(s));
            return;
        }
    }
}
#endif

/* Hand one frame to the device: capture, counters, the transmit stamp.
 * -EAGAIN: the device is full and did not take it (the caller keeps it). */
static int xmit(struct z_netif *nif, struct z_pbuf *p)
{
    uint32_t len = p->len;
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    uint32_t ts_id = p->ts_id, ts_key = p->ts_key;
#endif
    int rc;
#if CONFIG_NET_TX_QUEUE
    if (nif->capture != NULL) {
        /* Captured once the device took it, so a retried frame shows once. */
        z_pbuf_ref(p);
        rc = nif->drv->output(nif, p);
        if (rc != -EAGAIN) {
            z_capture_frame(nif, p, z_stack_now_us(nif->stack));
        }
        z_pbuf_free(p);
    } else {
        rc = nif->drv->output(nif, p);
    }
#else
    /* Without a queue no driver holds a frame back (-EAGAIN). */
    if (nif->capture != NULL) {
        z_capture_frame(nif, p, z_stack_now_us(nif->stack));
    }
    rc = nif->drv->output(nif, p);
#endif
    if (rc == -EAGAIN) {
        return rc;
    }
    if (rc < 0) {
        nif->stats.tx_dropped++;
        return rc;
    }
    nif->stats.tx_packets++;
    nif->stats.tx_bytes += len;
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    if (ts_id != 0) {
        ts_report(nif->stack, ts_id, ts_key);
    }
#endif
    return 0;
}

#if !CONFIG_NET_TX_QUEUE

int z_netif_output_locked(struct z_netif *nif, struct z_pbuf *p)
{
    if (!(nif->flags & ZSOCK_IF_UP)) {
        nif->stats.tx_dropped++;
        z_pbuf_free(p);
        return -ENETDOWN;
    }
    z_packet_tap_locked(nif, p, true);
    return xmit(nif, p);
}

#else

/* SO_PRIORITY to class rank: 802.1Q order, where 1 (background) is below
 * 0 (best effort). */
static unsigned rank(uint8_t prio)
{
    prio &= 7;
    return prio == 1 ? 0 : prio == 0 ? 1 : prio;
}

static void put_tail(struct z_txq *q, struct z_pbuf *p)
{
    unsigned c = rank(p->prio);
    p->next = NULL;
    if (q->tail[c] != NULL) {
        q->tail[c]->next = p;
    } else {
        q->head[c] = p;
    }
    q->tail[c] = p;
    q->n++;
}

static void put_head(struct z_txq *q, struct z_pbuf *p)
{
    unsigned c = rank(p->prio);
    p->next = q->head[c];
    q->head[c] = p;
    if (q->tail[c] == NULL) {
        q->tail[c] = p;
    }
    q->n++;
}

static struct z_pbuf *take_highest(struct z_txq *q)
{
    for (int c = Z_TXQ_CLASSES - 1; c >= 0; c--) {
        struct z_pbuf *p = q->head[c];
        if (p != NULL) {
            q->head[c] = p->next;
            if (q->head[c] == NULL) {
                q->tail[c] = NULL;
            }
            p->next = NULL;
            q->n--;
            return p;
        }
    }
    return NULL;
}

static void block(struct z_netif *nif)
{
    nif->txq.blocked = true;
    /* The core thread now waits for the device's descriptor to drain. */
    z_stack_kick(nif->stack);
}

static void drain(struct z_netif *nif)
{
    struct z_txq *q = &nif->txq;
    while (!q->blocked && q->n > 0 && (nif->flags & ZSOCK_IF_UP)) {
        struct z_pbuf *p = take_highest(q);
        if (xmit(nif, p) == -EAGAIN) {
            put_head(q, p);
            block(nif);
        }
    }
}

static void schedule(struct z_stack *s, int64_t when)
{
    if (when < s->tx_next) {
        s->tx_next = when;
        z_stack_kick(s); /* the core thread may sleep past it */
    }
}

/* Insert by txtime, after frames of the same time (they keep their order). */
static int put_timed(struct z_netif *nif, struct z_pbuf *p)
{
    struct z_txq *q = &nif->txq;
    if (q->n + q->n_timed >= CONFIG_NET_TX_QUEUE_LEN) {
        return -ENOBUFS;
    }
    struct z_pbuf **pp = &q->timed;
    while (*pp != NULL && (*pp)->txtime <= p->txtime) {
        pp = &(*pp)->next;
    }
    p->next = *pp;
    *pp = p;
    q->n_timed++;
    schedule(nif->stack, q->timed->txtime);
    return 0;
}

int z_netif_output_locked(struct z_netif *nif, struct z_pbuf *p)
{
    struct z_txq *q = &nif->txq;
    int rc = -ENETDOWN;
    if (!(nif->flags & ZSOCK_IF_UP)) {
        goto drop;
    }
    z_packet_tap_locked(nif, p, true); /* once per frame, while its sender is known */
    if (p->txtime != 0 && p->txtime > z_stack_now_us(nif->stack)) {
        rc = put_timed(nif, p);
        if (rc == 0) {
            return 0;
        }
        goto drop;
    }
    if (q->n == 0 && !q->blocked) {
        rc = xmit(nif, p); /* the common case: nothing waits */
        if (rc != -EAGAIN) {
            return rc;
        }
        put_head(q, p);
        block(nif);
        return 0;
    }
    if (q->n >= CONFIG_NET_TX_QUEUE_LEN) {
        rc = -ENOBUFS;
        goto drop;
    }
    put_tail(q, p);
    drain(nif);
    return 0;
drop:
    nif->stats.tx_dropped++;
    z_pbuf_free(p);
    return rc;
}

void z_netif_tx_wake_locked(struct z_netif *nif)
{
    nif->txq.blocked = false;
    drain(nif);
}

void z_netif_tx_timers_locked(struct z_stack *s, int64_t now)
{
    s->tx_next = INT64_MAX;
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        struct z_txq *q = &nif->txq;
        bool moved = false;
        while (q->timed != NULL && q->timed->txtime <= now) {
            struct z_pbuf *p = q->timed;
            q->timed = p->next;
            q->n_timed--;
            put_tail(q, p);
            moved = true;
        }
        if (moved) {
            drain(nif);
        }
        if (q->timed != NULL && q->timed->txtime < s->tx_next) {
            s->tx_next = q->timed->txtime;
        }
    }
}

void z_netif_tx_flush_locked(struct z_netif *nif)
{
    struct z_txq *q = &nif->txq;
    struct z_pbuf *p;
    while ((p = take_highest(q)) != NULL) {
        nif->stats.tx_dropped++;
        z_pbuf_free(p);
    }
    while ((p = q->timed) != NULL) {
        q->timed = p->next;
        nif->stats.tx_dropped++;
        z_pbuf_free(p);
    }
    q->n_timed = 0;
    q->blocked = false;
}

#endif /* CONFIG_NET_TX_QUEUE */
