/* OS abstraction used by every part of zsock: monotonic clock, mutex,
 * condition variable with a deadline, threads, one-time init and entropy.
 * A port supplies port_<os>.h with the types and implements these functions. */
#ifndef ZSOCK_PORT_H_
#define ZSOCK_PORT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(ZSOCK_PORT_NONE)
#include "port/none/port_none.h" /* single-threaded, see docs/embedded.md */
#else
#include "port/posix/port_posix.h"
#endif

/* Deadlines and durations are microseconds on the monotonic clock. */
#define Z_FOREVER INT64_MAX

/* Microseconds since an arbitrary fixed point; never goes backwards. */
int64_t z_now_us(void);

/* Deadline for a timeout of `us` microseconds from now; Z_FOREVER if us < 0
 * or if the sum would overflow. */
int64_t z_deadline_after_us(int64_t us);

void z_mutex_init(z_mutex_t *m);
void z_mutex_destroy(z_mutex_t *m);
void z_mutex_lock(z_mutex_t *m);
void z_mutex_unlock(z_mutex_t *m);

void z_cond_init(z_cond_t *c);
void z_cond_destroy(z_cond_t *c);
void z_cond_signal(z_cond_t *c);
void z_cond_broadcast(z_cond_t *c);
/* Wait with `m` held until signalled or the monotonic clock passes
 * `deadline_us` (Z_FOREVER: no limit). Returns 0 when woken (possibly
 * spuriously) or -ETIMEDOUT once the deadline has passed. */
int z_cond_wait_until(z_cond_t *c, z_mutex_t *m, int64_t deadline_us);

typedef void *(*z_thread_fn)(void *arg);
/* Returns 0 or a negative errno. */
int z_thread_create(z_thread_t *t, z_thread_fn fn, void *arg);
int z_thread_join(z_thread_t t);
void z_sleep_us(int64_t us);

/* Runs fn exactly once across all threads; later callers wait for it. */
void z_once(z_once_t *once, void (*fn)(void));

/* Fills buf with len bytes from the OS's cryptographic generator.
 * Returns 0 or a negative errno. */
int z_entropy(void *buf, size_t len);

#endif /* ZSOCK_PORT_H_ */
