/* The "none" port layer: a single thread of control and no operating system.
 *
 * The bare-metal port and the starting point for an RTOS port (see
 * port_none.h and docs/embedded.md). The clock and the entropy come from
 * hooks the firmware supplies (zsock_port.h). With one thread nothing can
 * change while a caller would wait, so a timed wait times out at once and an
 * unbounded wait is a usage error: it asserts in debug builds and times out
 * otherwise. Socket calls on the stack never get here: in single-loop mode
 * they run the stack while they wait (z_stack_wait, z_poller_wait). */
#include "port/port.h"

#include <assert.h>
#include <errno.h>

#include <zsock_port.h>

int64_t z_now_us(void)
{
    return zsock_port_now_us();
}

void z_mutex_init(z_mutex_t *m)
{
    m->locked = false;
}

void z_mutex_destroy(z_mutex_t *m)
{
    assert(!m->locked);
    (void)m;
}

void z_mutex_lock(z_mutex_t *m)
{
    assert(!m->locked); /* zsock's locks are not recursive */
    m->locked = true;
}

void z_mutex_unlock(z_mutex_t *m)
{
    assert(m->locked);
    m->locked = false;
}

void z_cond_init(z_cond_t *c)
{
    (void)c;
}

void z_cond_destroy(z_cond_t *c)
{
    (void)c;
}

void z_cond_signal(z_cond_t *c)
{
    (void)c; /* nobody else can be waiting */
}

void z_cond_broadcast(z_cond_t *c)
{
    (void)c;
}

int z_cond_wait_until(z_cond_t *c, z_mutex_t *m, int64_t deadline_us)
{
    (void)c;
    (void)m;
    /* Waiting without limit would hang the only thread forever (a blocking
     * call on a socketpair): use non-blocking calls or a timeout. */
    assert(deadline_us != Z_FOREVER);
    (void)deadline_us;
    return -ETIMEDOUT;
}

int z_thread_create(z_thread_t *t, z_thread_fn fn, void *arg)
{
    (void)t;
    (void)fn;
    (void)arg;
    return -ENOSYS;
}

int z_thread_join(z_thread_t t)
{
    (void)t;
    return -ENOSYS;
}

void z_sleep_us(int64_t us)
{
    /* No scheduler to yield to: spin on the firmware's clock. */
    int64_t until = z_deadline_after_us(us);
    while (us > 0 && z_now_us() < until) {
    }
}

void z_once(z_once_t *once, void (*fn)(void))
{
    if (!once->done) {
        once->done = true;
        fn();
    }
}

int z_entropy(void *buf, size_t len)
{
    return zsock_port_entropy(buf, len);
}
