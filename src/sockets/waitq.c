/* Wait queues linking objects to the poll() calls that watch them. */
#include "sockets/waitq.h"

#include "net/net.h"

#include <errno.h>

void z_waitq_init(struct z_waitq *q, z_mutex_t *lock)
{
    q->head.next = &q->head;
    q->head.prev = &q->head;
    q->head.q = q;
    q->head.poller = NULL;
    q->lock = lock;
}

void z_waitq_add(struct z_waitq *q, struct z_wait_entry *e)
{
    if (e->q != NULL) {
        return;
    }
    e->q = q;
    e->prev = q->head.prev;
    e->next = &q->head;
    q->head.prev->next = e;
    q->head.prev = e;
}

void z_waitq_remove(struct z_wait_entry *e)
{
    struct z_waitq *q = e->q;
    if (q == NULL) {
        return;
    }
    z_mutex_lock(q->lock);
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->next = e->prev = NULL;
    e->q = NULL;
    z_mutex_unlock(q->lock);
}

void z_waitq_wake(struct z_waitq *q)
{
    for (struct z_wait_entry *e = q->head.next; e != &q->head; e = e->next) {
        struct z_poller *p = e->poller;
        z_mutex_lock(&p->lock);
        p->fired = true;
        z_cond_signal(&p->cond);
        z_mutex_unlock(&p->lock);
    }
}

#if Z_POLL_WAKE_BY
void z_wait_entry_wake_by(struct z_wait_entry *we, int64_t deadline_us)
{
    if (we != NULL && we->poller != NULL && deadline_us < we->poller->wake_by) {
        we->poller->wake_by = deadline_us;
    }
}

#endif

void z_poller_init(struct z_poller *p)
{
#if Z_POLL_WAKE_BY
    p->wake_by = Z_FOREVER;
#endif
    z_mutex_init(&p->lock);
    z_cond_init(&p->cond);
    p->fired = false;
}

void z_poller_destroy(struct z_poller *p)
{
    z_cond_destroy(&p->cond);
    z_mutex_destroy(&p->lock);
}

int z_poller_wait(struct z_poller *p, int64_t deadline_us)
{
    struct z_stack *loop = z_stack_polled_default();
    int rc = 0;
    z_mutex_lock(&p->lock);
    while (!p->fired) {
        if (loop != NULL) {
            /* Single-loop mode: nothing else runs the stack, so run it here,
             * one pass at a time, until an object fires or time is up. */
            if (z_now_us() >= deadline_us) {
                rc = -ETIMEDOUT;
                break;
            }
            z_mutex_unlock(&p->lock);
            int64_t next;
            (void)z_stack_process(loop, deadline_us, &next);
            z_mutex_lock(&p->lock);
            continue;
        }
        if (z_cond_wait_until(&p->cond, &p->lock, deadline_us) == -ETIMEDOUT) {
            rc = -ETIMEDOUT;
            break;
        }
    }
    p->fired = false;
    z_mutex_unlock(&p->lock);
    return rc;
}
