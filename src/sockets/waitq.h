/* Wait queues: how poll() learns that an object's readiness changed.
 * An object owns a waitq guarded by the object's own mutex; a poll() call owns
 * one poller and one wait entry per descriptor it watches. When the object's
 * state changes it wakes its queue, which fires every poller registered on it.
 * Lock order: object mutex, then poller mutex. */
#ifndef ZSOCK_WAITQ_H_
#define ZSOCK_WAITQ_H_

#include <stdbool.h>

#include <zsock/config.h>

#include "port/port.h"

/* Objects with timers of their own (DTLS retransmissions, the SOCKS5
 * exchange's deadline) need poll() to wake by a time: built only for them. */
#if defined(CONFIG_NET_SOCKETS_ENABLE_DTLS) || CONFIG_NET_SOCKETS_SOCKS
#define Z_POLL_WAKE_BY 1
#else
#define Z_POLL_WAKE_BY 0
#endif

struct z_poller {
    z_mutex_t lock;
    z_cond_t cond;
    bool fired;
    /* poll(): an object whose readiness changes with time alone (a DTLS
     * retransmission timer) asks to be evaluated again by then. Written
     * only by the polling thread; Z_FOREVER when nobody asked. */
#if Z_POLL_WAKE_BY
    int64_t wake_by;
#endif
};

struct z_waitq;

struct z_wait_entry {
    struct z_wait_entry *next;
    struct z_wait_entry *prev;
    struct z_waitq *q; /* NULL while not queued */
    struct z_poller *poller;
};

struct z_waitq {
    struct z_wait_entry head; /* circular list sentinel */
    z_mutex_t *lock;          /* the owner's mutex, guarding the list */
};

void z_waitq_init(struct z_waitq *q, z_mutex_t *lock);

/* Queue `e` on `q`; the caller holds q->lock. An entry already queued
 * (on any queue) is left where it is. */
void z_waitq_add(struct z_waitq *q, struct z_wait_entry *e);

/* Remove `e` from whatever queue holds it, taking that queue's lock. */
void z_waitq_remove(struct z_wait_entry *e);

/* Fire every poller queued on `q`; the caller holds q->lock. */
void z_waitq_wake(struct z_waitq *q);

/* From an object's poll op: have the poll() that owns `we` (NULL: none)
 * evaluate the object again no later than `deadline_us`, even if nothing
 * wakes it. */
#if Z_POLL_WAKE_BY
void z_wait_entry_wake_by(struct z_wait_entry *we, int64_t deadline_us);
#endif

void z_poller_init(struct z_poller *p);
void z_poller_destroy(struct z_poller *p);

/* Block until a queue the poller is registered on fires or the deadline
 * passes. Returns 0 if fired, -ETIMEDOUT otherwise; clears the fired flag.
 * When the default stack runs in single-loop mode it runs the stack
 * (z_stack_process) while it waits instead of sleeping. */
int z_poller_wait(struct z_poller *p, int64_t deadline_us);

#endif /* ZSOCK_WAITQ_H_ */
