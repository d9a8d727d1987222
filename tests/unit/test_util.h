/* Helpers shared by the cmocka suites: a seeded generator that gives the same
 * sequence everywhere, errno assertions, and a fixture that fails a test
 * which leaves descriptors open. Include after <cmocka.h>. */
#ifndef ZSOCK_TEST_UTIL_H_
#define ZSOCK_TEST_UTIL_H_

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include <zsock/socket.h>

#include "sockets/fdtable.h"

/* splitmix64 with a fixed seed: the same sequence on every C library. */
static uint64_t rng_state;

static inline void rng_seed(uint64_t seed)
{
    rng_state = seed;
}

static inline uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

/* The call failed with -1 and this errno. */
static inline void expect_errno(long rc, int err)
{
    assert_int_equal(rc, -1);
    assert_int_equal(errno, err);
}

/* Open descriptors when the running test started. */
static int baseline_open;

static inline int fd_leak_setup(void **state)
{
    (void)state;
    baseline_open = z_fd_count_open();
    return 0;
}

/* Fails the test if it left descriptors open, after closing them so that
 * one failing test does not break the next ones. */
static inline int fd_leak_teardown(void **state)
{
    (void)state;
    int leaked = z_fd_count_open() - baseline_open;
    if (leaked != 0) {
        for (int fd = 0; fd < ZSOCK_FD_SETSIZE; fd++) {
            (void)zsock_close(fd);
        }
        baseline_open = z_fd_count_open();
    }
    assert_int_equal(leaked, 0);
    return 0;
}

static inline int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static inline void make_pair(int type, int sv[2])
{
    sv[0] = sv[1] = -1;
    assert_int_equal(zsock_socketpair(AF_UNIX, type, 0, sv), 0);
    assert_true(sv[0] >= 0 && sv[1] >= 0);
    assert_int_not_equal(sv[0], sv[1]);
}

static inline void close_pair(int sv[2])
{
    assert_int_equal(zsock_close(sv[0]), 0);
    assert_int_equal(zsock_close(sv[1]), 0);
}

static inline void set_nonblock(int fd)
{
    assert_int_equal(zsock_fcntl(fd, F_SETFL, O_NONBLOCK), 0);
}

/* Send `chunk`-byte messages without blocking until EAGAIN; returns the
 * bytes queued. */
static inline size_t fill_until_eagain(int fd, size_t chunk)
{
    static char junk[4096];
    size_t total = 0;
    if (chunk > sizeof(junk)) {
        chunk = sizeof(junk);
    }
    for (;;) {
        ssize_t n = zsock_send(fd, junk, chunk, ZSOCK_MSG_DONTWAIT);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            return total;
        }
        assert_true(n > 0);
        total += (size_t)n;
    }
}

#endif /* ZSOCK_TEST_UTIL_H_ */
