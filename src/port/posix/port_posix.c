/* POSIX implementation of the port layer: pthreads, CLOCK_MONOTONIC and
 * getrandom(). Condition variables wait on the monotonic clock so that a
 * wall-clock step never stretches or cuts a socket timeout. */
#include "port/port.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int64_t z_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die_on(int rc, const char *what)
{
    if (rc != 0) {
        /* A failing mutex or condvar call means memory corruption or a
         * destroyed object in use; carrying on would corrupt data. */
        (void)what;
        abort();
    }
}

void z_mutex_init(z_mutex_t *m)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
#if defined(PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP)
    /* Socket locks are held for a few hundred nanoseconds: spinning briefly
     * before sleeping avoids a futex round trip per contended call. */
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    die_on(pthread_mutex_init(m, &attr), "mutex_init");
    pthread_mutexattr_destroy(&attr);
}

void z_mutex_destroy(z_mutex_t *m)
{
    pthread_mutex_destroy(m);
}

void z_mutex_lock(z_mutex_t *m)
{
    die_on(pthread_mutex_lock(m), "mutex_lock");
}

void z_mutex_unlock(z_mutex_t *m)
{
    die_on(pthread_mutex_unlock(m), "mutex_unlock");
}

void z_cond_init(z_cond_t *c)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    die_on(pthread_cond_init(c, &attr), "cond_init");
    pthread_condattr_destroy(&attr);
}

void z_cond_destroy(z_cond_t *c)
{
    pthread_cond_destroy(c);
}

void z_cond_signal(z_cond_t *c)
{
    pthread_cond_signal(c);
}

void z_cond_broadcast(z_cond_t *c)
{
    pthread_cond_broadcast(c);
}

int z_cond_wait_until(z_cond_t *c, z_mutex_t *m, int64_t deadline_us)
{
    if (deadline_us == Z_FOREVER) {
        die_on(pthread_cond_wait(c, m), "cond_wait");
        return 0;
    }
    if (z_now_us() >= deadline_us) {
        return -ETIMEDOUT;
    }
    struct timespec ts = {
        .tv_sec = (time_t)(deadline_us / 1000000),
        .tv_nsec = (long)(deadline_us % 1000000) * 1000,
    };
    int rc = pthread_cond_timedwait(c, m, &ts);
    if (rc == ETIMEDOUT) {
        return -ETIMEDOUT;
    }
    die_on(rc, "cond_timedwait");
    return 0;
}

int z_thread_create(z_thread_t *t, z_thread_fn fn, void *arg)
{
    int rc = pthread_create(t, NULL, fn, arg);
    return rc == 0 ? 0 : -rc;
}

int z_thread_join(z_thread_t t)
{
    int rc = pthread_join(t, NULL);
    return rc == 0 ? 0 : -rc;
}

void z_sleep_us(int64_t us)
{
    if (us <= 0) {
        return;
    }
    struct timespec ts = {.tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void z_once(z_once_t *once, void (*fn)(void))
{
    pthread_once(once, fn);
}

int z_entropy(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
