/* The simulated segment: frames are copied out of the sender's buffers into
 * an in-flight list ordered by delivery time, shaped by the fault injector,
 * and copied into each receiver's own pool on delivery, so stacks never
 * share buffers. Time moves only through z_simnet_run(). */
#include "net/sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SIM_MAX_PORTS 16

struct sim_frame {
    struct sim_frame *next;
    int64_t when;
    struct z_netif *from;
    size_t len;
    uint8_t data[];
};

struct z_simnet {
    z_mutex_t lock;
    uint64_t rng;
    int64_t now;
    int64_t busy_until; /* the wire is serialising a frame until then */
    struct z_sim_faults faults;
    struct z_sim_stats stats;
    struct sim_frame *inflight;
    struct z_netif *ports[SIM_MAX_PORTS];
    int nports;
};

static uint64_t sim_rand(struct z_simnet *net)
{
    uint64_t z = (net->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static bool chance(struct z_simnet *net, uint32_t ppm)
{
    return ppm > 0 && sim_rand(net) % 1000000 < ppm;
}

struct z_simnet *z_simnet_create(uint64_t seed)
{
    struct z_simnet *net = z_calloc(1, sizeof(*net));
    if (net == NULL) {
        return NULL;
    }
    z_mutex_init(&net->lock);
    net->rng = seed;
    return net;
}

void z_simnet_destroy(struct z_simnet *net)
{
    while (net->inflight != NULL) {
        struct sim_frame *f = net->inflight;
        net->inflight = f->next;
        z_free(f);
    }
    z_mutex_destroy(&net->lock);
    z_free(net);
}

void z_simnet_set_faults(struct z_simnet *net, const struct z_sim_faults *f)
{
    z_mutex_lock(&net->lock);
    net->faults = *f;
    z_mutex_unlock(&net->lock);
}

/* Insert in delivery order; equal times keep sending order. Lock held. */
static void enqueue(struct z_simnet *net, struct sim_frame *f)
{
    struct sim_frame **pp = &net->inflight;
    while (*pp != NULL && (*pp)->when <= f->when) {
        pp = &(*pp)->next;
    }
    f->next = *pp;
    *pp = f;
}

static struct sim_frame *frame_copy(struct z_netif *from, const void *data, size_t len)
{
    struct sim_frame *f = z_malloc(sizeof(*f) + len);
    if (f != NULL) {
        f->from = from;
        f->len = len;
        memcpy(f->data, data, len);
    }
    return f;
}

/* Returns when the frame will have left the wire. */
static int64_t transmit(struct z_simnet *net, struct z_netif *from, const void *data, size_t len)
{
    z_mutex_lock(&net->lock);
    const struct z_sim_faults *fx = &net->faults;
    net->stats.sent++;
    int64_t start = net->now > net->busy_until ? net->now : net->busy_until;
    if (fx->rate_bps > 0) {
        net->busy_until = start + (int64_t)((uint64_t)len * 8 * 1000000 / fx->rate_bps);
    } else {
        net->busy_until = start;
    }
    int64_t done = net->busy_until;
    if (chance(net, fx->loss_ppm)) {
        net->stats.lost++;
        z_mutex_unlock(&net->lock);
        return done;
    }
    int copies = chance(net, fx->dup_ppm) ? 2 : 1;
    net->stats.duplicated += (uint64_t)(copies - 1);
    for (int c = 0; c < copies; c++) {
        struct sim_frame *f = frame_copy(from, data, len);
        if (f == NULL) {
            net->stats.lost++;
            continue;
        }
        f->when = net->busy_until + fx->delay_us;
        if (fx->jitter_us > 0) {
            f->when += (int64_t)(sim_rand(net) % (uint64_t)(fx->jitter_us + 1));
        }
        if (chance(net, fx->reorder_ppm)) {
            /* Held back long enough for later frames to overtake it. */
            f->when += 1000 + fx->delay_us + (int64_t)(sim_rand(net) % 5000);
            net->stats.reordered++;
        }
        if (len > 0 && chance(net, fx->corrupt_ppm)) {
            f->data[sim_rand(net) % len] ^= (uint8_t)(1 + sim_rand(net) % 255);
            net->stats.corrupted++;
        }
        enqueue(net, f);
    }
    z_mutex_unlock(&net->lock);
    return done;
}

#define SIM_RING_MAX 64

/* One attached interface. Its transmit ring (the times its frames leave
 * the wire) is guarded by the stack's lock. */
struct sim_port {
    struct z_simnet *net;
    int64_t ring[SIM_RING_MAX];
    unsigned ring_head, ring_n;
    bool blocked; /* said -EAGAIN: wake the stack's queue at ring's oldest */
};

static int sim_output(struct z_netif *nif, struct z_pbuf *p)
{
    struct sim_port *port = nif->drv_state;
    struct z_simnet *net = port->net;
    z_mutex_lock(&net->lock);
    unsigned cap = net->faults.rate_bps > 0 ? net->faults.tx_ring : 0;
    int64_t now = net->now;
    z_mutex_unlock(&net->lock);
    cap = cap < SIM_RING_MAX ? cap : SIM_RING_MAX;
    while (port->ring_n > 0 && port->ring[port->ring_head] <= now) {
        port->ring_head = (port->ring_head + 1) % SIM_RING_MAX;
        port->ring_n--;
    }
    if (cap > 0 && port->ring_n >= cap && CONFIG_NET_TX_QUEUE) {
        port->blocked = true;
        return -EAGAIN; /* not taken: the stack queues it */
    }
    int64_t done = transmit(net, nif, p->data, p->len);
    if (cap > 0) {
        port->ring[(port->ring_head + port->ring_n) % SIM_RING_MAX] = done;
        port->ring_n += port->ring_n < SIM_RING_MAX;
    }
    z_pbuf_free(p);
    return 0;
}

/* When a full port's device has room again (lock of its stack held). */
static int64_t port_wake_at(const struct z_netif *nif)
{
    const struct sim_port *port = nif->drv_state;
    return port->blocked && port->ring_n > 0 ? port->ring[port->ring_head] : INT64_MAX;
}

static void sim_destroy(struct z_netif *nif)
{
    struct sim_port *port = nif->drv_state;
    struct z_simnet *net = port->net;
    z_mutex_lock(&net->lock);
    for (int i = 0; i < net->nports; i++) {
        if (net->ports[i] == nif) {
            net->ports[i] = net->ports[--net->nports];
            break;
        }
    }
    z_mutex_unlock(&net->lock);
    z_free(port);
}

static const struct z_netif_driver sim_driver = {
    .kind = "sim",
    .output = sim_output,
    .destroy = sim_destroy,
};

struct z_netif *z_simnet_attach(struct z_simnet *net, struct z_stack *s, const uint8_t mac[6])
{
    if (!s->virtual_clock || net->nports == SIM_MAX_PORTS) {
        return NULL;
    }
    struct sim_port *port = z_calloc(1, sizeof(*port));
    if (port == NULL) {
        return NULL;
    }
    port->net = net;
    z_stack_lock(s);
    s->vnow_us = net->now;
    struct z_netif *nif = z_netif_add_locked(s, "sim", ZSOCK_IF_ETHERNET | ZSOCK_IF_BROADCAST,
                                             Z_ETH_MTU, mac, &sim_driver, port);
    if (nif != NULL) {
        z_netif_set_up_locked(nif, true);
    }
    z_stack_unlock(s);
    if (nif == NULL) {
        z_free(port);
        return NULL;
    }
    z_mutex_lock(&net->lock);
    net->ports[net->nports++] = nif;
    z_mutex_unlock(&net->lock);
    return nif;
}

void z_simnet_inject(struct z_simnet *net, struct z_netif *from, const void *frame, size_t len)
{
    (void)transmit(net, from, frame, len);
}

/* Bring every attached stack's clock to `t` and run its timers. */
static void set_time(struct z_simnet *net, int64_t t)
{
    net->now = t;
    for (int i = 0; i < net->nports; i++) {
        struct z_stack *s = net->ports[i]->stack;
        z_stack_lock(s);
        if (s->vnow_us < t) {
            s->vnow_us = t;
        }
#if CONFIG_NET_TX_QUEUE
        struct sim_port *port = net->ports[i]->drv_state;
        if (port_wake_at(net->ports[i]) <= t) {
            port->blocked = false;
            z_netif_tx_wake_locked(net->ports[i]);
        }
#endif
        z_stack_tick_locked(s);
        z_stack_unlock(s);
    }
}

static void deliver(struct z_simnet *net, struct sim_frame *f)
{
    for (int i = 0; i < net->nports; i++) {
        struct z_netif *to = net->ports[i];
        if (to == f->from) {
            continue;
        }
        struct z_stack *s = to->stack;
        struct z_pbuf *p = z_pbuf_alloc(&s->pool, 0, f->len);
        if (p == NULL) {
            z_stack_lock(s);
            to->stats.rx_dropped++;
            s->stats.ipv4.no_buffer++;
            z_stack_unlock(s);
            continue;
        }
        memcpy(z_pbuf_put(p, f->len), f->data, f->len);
        z_netif_input(to, p);
    }
    net->stats.delivered++;
}

static int64_t next_tick(struct z_simnet *net)
{
    int64_t t = INT64_MAX;
    for (int i = 0; i < net->nports; i++) {
        struct z_stack *s = net->ports[i]->stack;
        z_stack_lock(s);
        int64_t e = z_stack_next_event_locked(s);
        int64_t w = port_wake_at(net->ports[i]);
        t = e < t ? e : t;
        t = w < t ? w : t;
        z_stack_unlock(s);
    }
    return t;
}

void z_simnet_run(struct z_simnet *net, int64_t us)
{
    int64_t end = net->now + us;
    for (;;) {
        z_mutex_lock(&net->lock);
        int64_t tf = net->inflight != NULL ? net->inflight->when : INT64_MAX;
        z_mutex_unlock(&net->lock);
        int64_t tt = next_tick(net);
        int64_t t = tf < tt ? tf : tt;
        if (t > end) {
            break;
        }
        set_time(net, t > net->now ? t : net->now);
        for (;;) {
            z_mutex_lock(&net->lock);
            struct sim_frame *f = net->inflight;
            if (f == NULL || f->when > net->now) {
                z_mutex_unlock(&net->lock);
                break;
            }
            net->inflight = f->next;
            z_mutex_unlock(&net->lock);
            deliver(net, f);
            z_free(f);
        }
    }
    set_time(net, end);
}

int64_t z_simnet_now(const struct z_simnet *net)
{
    return net->now;
}

void z_simnet_stats(const struct z_simnet *net, struct z_sim_stats *out)
{
    *out = net->stats;
}
