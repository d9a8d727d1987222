/* Stack instances: creation, the core lock and its deferred input queue, the
 * clock (real or virtual), periodic work, the core thread that waits on
 * the drivers' descriptors and runs timers, and the same work one pass at a
 * time for single-loop mode (z_stack_process). */
#include "net/net.h"
#include "net/tcp_pcb.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if !defined(ZSOCK_PORT_NONE)
#include <sys/eventfd.h>
#endif

#define TICK_US              100000 /* periodic work every 100 ms */
#define ICMP_ERRORS_PER_TICK 100    /* ICMP error rate limit: 1000/s */

struct z_stack *z_stack_create(const struct z_stack_config *cfg)
{
    struct z_stack *s = z_calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    uint32_t count = cfg->pbuf_count != 0 ? cfg->pbuf_count : CONFIG_NET_PBUF_COUNT;
    size_t heap = cfg->pbuf_no_heap ? 0 : CONFIG_NET_PBUF_HEAP_BYTES;
    if (z_pbuf_pool_init(&s->pool, count, CONFIG_NET_PBUF_SIZE, heap) < 0) {
        z_free(s);
        return NULL;
    }
    z_mutex_init(&s->lock);
    z_strlcpy(s->name, cfg->name != NULL ? cfg->name : "zsock", sizeof(s->name));
    s->virtual_clock = cfg->virtual_clock;
    s->next_ifindex = 1;
    s->echo_reply = true;
#if CONFIG_NET_IPV6
    s->echo_reply6 = true;
#endif
    s->icmp_tokens = ICMP_ERRORS_PER_TICK;
    s->wake_fd = -1;
    uint16_t r;
    z_entropy(&r, sizeof(r));
    s->ip_id = r;
    z_entropy(s->isn_key, sizeof(s->isn_key));
    s->tcp_next = INT64_MAX;
#if CONFIG_NET_TX_QUEUE
    s->tx_next = INT64_MAX;
#endif
    if (z_ipv6_stack_init(s) < 0) {
        z_stack_destroy(s);
        return NULL;
    }
    if (cfg->loopback) {
        z_stack_lock(s);
        struct z_netif *lo = z_loopback_add_locked(s);
        z_stack_unlock(s);
        if (lo == NULL) {
            z_stack_destroy(s);
            return NULL;
        }
    }
    return s;
}

static void stop_thread(struct z_stack *s)
{
    if (!s->thread_running) {
        return;
    }
    z_mutex_lock(&s->lock);
    s->thread_stop = true;
    z_mutex_unlock(&s->lock);
    z_stack_kick(s);
    z_thread_join(s->thread);
    s->thread_running = false;
}

void z_stack_destroy(struct z_stack *s)
{
    if (s == NULL) {
        return;
    }
    stop_thread(s);
    z_netif_free_graveyard(s);
    z_stack_lock(s);
    z_tcp_destroy_all_locked(s);
    while (s->ifaces != NULL) {
        z_netif_remove_locked(s->ifaces);
    }
    z_ipv4_reasm_flush_locked(s);
    z_ipv6_stack_destroy(s);
    z_pbuf_free_chain(s->pending_head);
    s->pending_head = s->pending_tail = NULL;
    z_mutex_unlock(&s->lock);
    if (s->wake_fd >= 0) {
        close(s->wake_fd);
    }
    z_pbuf_pool_destroy(&s->pool);
    z_mutex_destroy(&s->lock);
    z_free(s);
}

int64_t z_stack_now_us(const struct z_stack *s)
{
    return s->virtual_clock ? s->vnow_us : z_now_us();
}

void z_stack_lock(struct z_stack *s)
{
    z_mutex_lock(&s->lock);
}

void z_stack_defer_input_locked(struct z_stack *s, struct z_netif *nif, struct z_pbuf *p)
{
    p->netif = nif;
    p->next = NULL;
    if (s->pending_tail != NULL) {
        s->pending_tail->next = p;
    } else {
        s->pending_head = p;
    }
    s->pending_tail = p;
}

/* Input queued during this critical section. Processing can queue more
 * (a reply over loopback); the loop takes it too, so the queue is empty
 * when the lock is released. */
static bool process_pending(struct z_stack *s)
{
    if (s->processing || s->pending_head == NULL) {
        return false;
    }
    s->processing = true;
    while (s->pending_head != NULL) {
        struct z_pbuf *p = s->pending_head;
        s->pending_head = p->next;
        if (s->pending_head == NULL) {
            s->pending_tail = NULL;
        }
        p->next = NULL;
        z_netif_input_locked(p->netif, p);
    }
    s->processing = false;
    return true;
}

void z_stack_wakeup_locked(struct z_stack *s, void (*fn)(void *ctx), void *ctx)
{
    for (int i = 0; i < s->nwakeups; i++) {
        if (s->wakeups[i].ctx == ctx && s->wakeups[i].fn == fn) {
            return;
        }
    }
    if (s->nwakeups == Z_STACK_WAKEUPS) {
        fn(ctx); /* the queue is full: at once */
        return;
    }
    s->wakeups[s->nwakeups].fn = fn;
    s->wakeups[s->nwakeups].ctx = ctx;
    s->nwakeups++;
}

void z_stack_wakeup_cancel_locked(struct z_stack *s, void *ctx)
{
    int k = 0;
    for (int i = 0; i < s->nwakeups; i++) {
        if (s->wakeups[i].ctx != ctx) {
            s->wakeups[k++] = s->wakeups[i];
        }
    }
    s->nwakeups = k;
}

/* Run the queued wake-ups; true if there were any. */
static bool run_wakeups(struct z_stack *s)
{
    int n = s->nwakeups;
#if CONFIG_NET_SOCKETS_SOCKS
    s->in_wakeups = true;
#endif
    for (int i = 0; i < s->nwakeups; i++) {
        s->wakeups[i].fn(s->wakeups[i].ctx);
    }
#if CONFIG_NET_SOCKETS_SOCKS
    s->in_wakeups = false;
#endif
    s->nwakeups = 0;
    return n > 0;
}

void z_stack_unlock(struct z_stack *s)
{
    /* A queued call may send (an ACK over loopback): process that too. */
    do {
        process_pending(s);
    } while (run_wakeups(s) && s->pending_head != NULL);
    z_mutex_unlock(&s->lock);
}

int z_stack_wait(struct z_stack *s, z_cond_t *cond, int64_t deadline_us)
{
    /* Whatever this thread queued (a SYN over loopback, say) must be
     * processed before it sleeps, or it would wait for its own packets. */
    bool input = process_pending(s);
    if (run_wakeups(s) || input) {
        return 0; /* the caller's condition may have changed: it checks again */
    }
    if (s->polled) {
        /* Single-loop mode: no other thread runs the stack, so sleeping on
         * cond would wait for nothing. Run it here instead, one pass at a
         * time, and let the caller look again after each. */
        if (z_now_us() >= deadline_us) {
            return -ETIMEDOUT;
        }
        z_mutex_unlock(&s->lock);
        int64_t next;
        (void)z_stack_process(s, deadline_us, &next);
        z_mutex_lock(&s->lock);
        return 0;
    }
    return z_cond_wait_until(cond, &s->lock, deadline_us);
}

int64_t z_stack_next_event_locked(struct z_stack *s)
{
    int64_t t = s->tcp_next < s->next_tick ? s->tcp_next : s->next_tick;
#if CONFIG_NET_TX_QUEUE
    t = s->tx_next < t ? s->tx_next : t;
#endif
    return t;
}

void z_stack_tick_locked(struct z_stack *s)
{
    int64_t now = z_stack_now_us(s);
    if (now >= s->tcp_next) {
        z_tcp_timers_locked(s, now);
    }
#if CONFIG_NET_TX_QUEUE
    if (now >= s->tx_next) {
        z_netif_tx_timers_locked(s, now);
    }
#endif
    if (now < s->next_tick) {
        return;
    }
    s->next_tick = now + TICK_US;
    s->icmp_tokens = ICMP_ERRORS_PER_TICK;
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        z_arp_tick_locked(nif, now);
        z_igmp_tick_locked(nif, now);
#ifdef CONFIG_NET_DHCPV4
        if (nif->dhcp != NULL) {
            z_dhcp4_tick_locked(nif, now);
        }
#endif
    }
    z_ipv4_tick_locked(s, now);
    z_ipv6_tick_locked(s, now);
}

void z_stack_advance(struct z_stack *s, int64_t us)
{
    z_stack_lock(s);
    s->vnow_us += us;
    z_stack_tick_locked(s);
    z_stack_unlock(s);
}

void z_netif_input(struct z_netif *nif, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    z_stack_lock(s);
    z_netif_input_locked(nif, p);
    z_stack_unlock(s);
}

void z_netif_input_chain(struct z_netif *nif, struct z_pbuf *chain)
{
    if (chain == NULL) {
        return;
    }
    struct z_stack *s = nif->stack;
    z_stack_lock(s);
    while (chain != NULL) {
        struct z_pbuf *p = chain;
        chain = p->next;
        p->next = NULL;
        z_netif_input_locked(nif, p);
    }
    z_stack_unlock(s);
}

/* ---- core thread ---------------------------------------------------------------------------- */

void z_stack_kick(struct z_stack *s)
{
    if (s->wake_fd >= 0) {
        uint64_t one = 1;
        ssize_t rc = write(s->wake_fd, &one, sizeof(one));
        (void)rc;
    }
}

#define MAX_RX_FDS 64

#if !defined(ZSOCK_PORT_NONE)
/* Devices that said they are full and have a descriptor to say otherwise:
 * wait for it to poll writable (POLLOUT). Lock held. */
static int add_tx_waits(struct z_stack *s, struct pollfd *pfds, struct z_netif **owners, int n,
                        int max)
{
#if CONFIG_NET_TX_QUEUE
    for (struct z_netif *nif = s->ifaces; nif != NULL && n < max; nif = nif->next) {
        int fd = nif->txq.blocked && nif->drv->tx_fd != NULL ? nif->drv->tx_fd(nif) : -1;
        if (fd >= 0) {
            pfds[n].fd = fd;
            pfds[n].events = POLLOUT;
            pfds[n].revents = 0;
            owners[n++] = nif;
        }
    }
#else
    (void)s;
    (void)pfds;
    (void)owners;
    (void)max;
#endif
    return n;
}

/* Act on what poll() said about one descriptor of add_tx_waits() or of a
 * driver's input (core lock not held). */
static void serve_fd(struct z_stack *s, const struct pollfd *pfd, struct z_netif *nif)
{
    if (pfd->events == POLLOUT) {
#if CONFIG_NET_TX_QUEUE
        if (pfd->revents != 0) {
            z_stack_lock(s);
            z_netif_tx_wake_locked(nif);
            z_stack_unlock(s);
        }
#endif
    } else if (pfd->revents & (POLLIN | POLLERR | POLLHUP)) {
        nif->drv->rx_poll(nif);
    }
    (void)s;
}
#endif

/* ---- single-loop mode ----------------------------------------------------------------------- */

int z_stack_process(struct z_stack *s, int64_t deadline_us, int64_t *next_us)
{
    if (s->virtual_clock) {
        return -EINVAL;
    }
    z_mutex_lock(&s->lock);
    bool threaded = s->thread_running;
    z_mutex_unlock(&s->lock);
    if (threaded) {
        return -EBUSY; /* the core thread reads the drivers: two readers would race */
    }
    z_netif_free_graveyard(s);

    /* Interfaces cannot be removed while this pass runs (one thread owns
     * the stack in this mode), so the lists stay valid without the lock. */
    struct z_netif *polled[MAX_RX_FDS];
    int npolled = 0;
#if !defined(ZSOCK_PORT_NONE)
    struct pollfd pfds[MAX_RX_FDS];
    struct z_netif *owners[MAX_RX_FDS];
    int n = 0;
#endif
    z_stack_lock(s);
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (nif->drv->rx_poll == NULL) {
            continue; /* loopback: its input is processed when the lock is released */
        }
#if !defined(ZSOCK_PORT_NONE)
        int fd = nif->drv->rx_fd != NULL ? nif->drv->rx_fd(nif) : -1;
        if (fd >= 0) {
            if (n < MAX_RX_FDS) {
                pfds[n].fd = fd;
                pfds[n].events = POLLIN;
                pfds[n].revents = 0;
                owners[n++] = nif;
            }
            continue;
        }
#endif
        if (npolled < MAX_RX_FDS) {
            polled[npolled++] = nif;
        }
    }
#if !defined(ZSOCK_PORT_NONE)
    n = add_tx_waits(s, pfds, owners, n, MAX_RX_FDS);
#endif
    int64_t wake = z_stack_next_event_locked(s);
    z_stack_unlock(s);

    /* Drivers without a descriptor (a MAC's receive FIFO) are asked on
     * every pass; nothing can be waited on for them. */
    for (int i = 0; i < npolled; i++) {
        polled[i]->drv->rx_poll(polled[i]);
    }
    int err = 0;
#if !defined(ZSOCK_PORT_NONE)
    int64_t until = deadline_us < wake ? deadline_us : wake;
    int64_t now = z_now_us();
    int64_t wait_us = 0;
    if (npolled == 0 && until > now) {
        wait_us = until - now > 3600000000LL ? 3600000000LL : until - now;
    }
    /* To the microsecond, as the core thread waits. */
    struct timespec tmo = {.tv_sec = (time_t)(wait_us / 1000000),
                           .tv_nsec = (long)(wait_us % 1000000) * 1000};
    int rc = ppoll(n > 0 ? pfds : NULL, (nfds_t)n, &tmo, NULL);
    if (rc < 0 && errno != EINTR) {
        err = -errno;
    }
    for (int i = 0; rc > 0 && i < n; i++) {
        serve_fd(s, &pfds[i], owners[i]);
    }
#else
    (void)deadline_us; /* nothing to wait on: the application sleeps (WFI) */
    (void)wake;
#endif
    z_stack_lock(s);
    z_stack_tick_locked(s);
    *next_us = z_stack_next_event_locked(s);
    z_stack_unlock(s);
    return err;
}

void z_stack_pause(struct z_stack *s, int64_t us)
{
    if (!s->polled) {
        z_sleep_us(us);
        return;
    }
    int64_t until = z_deadline_after_us(us);
    int64_t next;
    while (z_now_us() < until && z_stack_process(s, until, &next) == 0) {
    }
}

#if defined(ZSOCK_PORT_NONE)
/* The single-threaded "none" port (docs/embedded.md) has no threads and no
 * descriptors to poll: its stacks run in single-loop mode, driven by
 * z_stack_process() (zsock_net_process()). */
int z_stack_start(struct z_stack *s)
{
    return s->virtual_clock ? -EINVAL : -ENOSYS;
}
#else

static void *core_thread(void *arg)
{
    struct z_stack *s = arg;
    struct pollfd pfds[MAX_RX_FDS + 1];
    struct z_netif *owners[MAX_RX_FDS + 1];
    for (;;) {
        z_netif_free_graveyard(s);
        int n = 0;
        pfds[n].fd = s->wake_fd;
        pfds[n].events = POLLIN;
        owners[n++] = NULL;
        z_mutex_lock(&s->lock);
        if (s->thread_stop) {
            z_mutex_unlock(&s->lock);
            return NULL;
        }
        for (struct z_netif *nif = s->ifaces; nif != NULL && n <= MAX_RX_FDS; nif = nif->next) {
            int fd = nif->drv->rx_fd != NULL ? nif->drv->rx_fd(nif) : -1;
            if (fd >= 0) {
                pfds[n].fd = fd;
                pfds[n].events = POLLIN;
                owners[n++] = nif;
            }
        }
        n = add_tx_waits(s, pfds, owners, n, MAX_RX_FDS + 1);
        int64_t wait_us = z_stack_next_event_locked(s) - z_now_us();
        z_mutex_unlock(&s->lock);

        /* To the microsecond (ppoll), so timers such as SO_TXTIME's fire on
         * time rather than up to a millisecond late; at most an hour. */
        wait_us = wait_us < 0 ? 0 : wait_us > 3600000000LL ? 3600000000LL : wait_us;
        struct timespec tmo = {.tv_sec = (time_t)(wait_us / 1000000),
                               .tv_nsec = (long)(wait_us % 1000000) * 1000};
        int rc = ppoll(pfds, (nfds_t)n, &tmo, NULL);
        if (rc > 0 && (pfds[0].revents & POLLIN)) {
            uint64_t v;
            ssize_t r = read(s->wake_fd, &v, sizeof(v));
            (void)r;
        }
        /* An interface removed meanwhile sits in the graveyard, which only
         * this thread empties, so its driver is still valid here. */
        for (int i = 1; rc > 0 && i < n; i++) {
            serve_fd(s, &pfds[i], owners[i]);
        }
        z_stack_lock(s);
        z_stack_tick_locked(s);
        z_stack_unlock(s);
    }
}

int z_stack_start(struct z_stack *s)
{
    if (s->virtual_clock) {
        return -EINVAL;
    }
    z_mutex_lock(&s->lock);
    bool running = s->thread_running;
    z_mutex_unlock(&s->lock);
    if (running) {
        return 0;
    }
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) {
        return -errno;
    }
    s->thread_stop = false;
    int rc = z_thread_create(&s->thread, core_thread, s);
    if (rc < 0) {
        close(s->wake_fd);
        s->wake_fd = -1;
        return rc;
    }
    s->thread_running = true;
    return 0;
}
#endif /* ZSOCK_PORT_NONE */
