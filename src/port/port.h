/* OS abstraction used by every part of zsock: monotonic clock, mutex,
 * condition variable with a deadline, threads, one-time init and entropy.
 * A port supplies port_<os>.h with the types and implements these functions. */
#ifndef ZSOCK_PORT_H_
#define ZSOCK_PORT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <zsock/config.h>

#include "port/fault.h"

#if defined(ZSOCK_PORT_NONE)
#include "port/none/port_none.h" /* single-threaded, see docs/embedded.md */
#else
#include "port/posix/port_posix.h"
#endif

/* Deadlines and durations are microseconds on the monotonic clock. */
#define Z_FOREVER INT64_MAX

/* Microseconds since an arbitrary fixed point; never goes backwards. */
int64_t z_now_us(void);

/* n / d, and n % d in *rem if not NULL (d > 0). On 32-bit targets this
 * takes 32-bit divisions only, so the 64-bit division routines of the
 * compiler's runtime (about 1 KiB on a Cortex-M) are never linked in. */
#if UINTPTR_MAX > 0xffffffffu
static inline uint64_t z_udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
    if (rem != NULL) {
        *rem = (uint32_t)(n % d);
    }
    return n / d;
}
#else
uint64_t z_udiv64(uint64_t n, uint32_t d, uint32_t *rem);
#endif

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

/* Copy src into dst (size bytes, at least 1), cut and always terminated,
 * like BSD's strlcpy but returning nothing: for the short names the stack
 * keeps, where pulling in a formatter would cost more than it says. */
void z_strlcpy(char *dst, const char *src, size_t size);

/* Formatted text without the C library's stdio: newlib's snprintf links
 * its malloc (for asprintf's growing buffers), which a static-memory
 * firmware must not contain (docs/embedded.md). Like snprintf, for the
 * subset zsock uses: %s %c %d %i %u %x and %%, with the l, ll and z length
 * modifiers, no flags, width or precision. Writes at most size bytes,
 * NUL-terminated when size > 0; returns the length the whole text needs. */
int z_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A diagnostic line for the user (a bad environment variable): stderr on a
 * hosted port, dropped on the none port, which has no stdio. */
void z_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Memory. Every allocation zsock makes goes through these four, with the
 * C library's contracts: NULL when there is no memory (callers turn it
 * into ENOMEM or ENOBUFS), z_free(NULL) does nothing, z_realloc(p, 0) frees
 * p and returns NULL. Without CONFIG_ZSOCK_STATIC_MEMORY they are the C
 * library's functions. With it they allocate from one static arena of
 * CONFIG_ZSOCK_HEAP_BYTES (src/port/heap.c, docs/embedded.md), so the
 * library never calls malloc. Thread-safe either way. With
 * CONFIG_ZSOCK_FAULT_INJECTION a test can make any of them fail (fault.h). */
#if defined(CONFIG_ZSOCK_STATIC_MEMORY)
void *z_malloc(size_t size);
void *z_calloc(size_t n, size_t size); /* NULL when n * size overflows */
void *z_realloc(void *p, size_t size);
void z_free(void *p);
#else
static inline void *z_malloc(size_t size)
{
    if (Z_FAULT_FAIL()) {
        return NULL;
    }
    return malloc(size);
}
static inline void *z_calloc(size_t n, size_t size)
{
    if (Z_FAULT_FAIL()) {
        return NULL;
    }
    return calloc(n, size);
}
static inline void *z_realloc(void *p, size_t size)
{
    if (size == 0) { /* the static arena's contract, whatever the C library's */
        free(p);
        return NULL;
    }
    if (Z_FAULT_FAIL()) {
        return NULL; /* p stays allocated, as when realloc fails */
    }
    return realloc(p, size);
}
static inline void z_free(void *p)
{
    free(p);
}
#endif

#endif /* ZSOCK_PORT_H_ */
