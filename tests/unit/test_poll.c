/* Unit tests for zsock_poll() and zsock_select() on socketpairs (stream and
 * datagram): timeouts, readiness as data moves, end-of-stream and hang-up,
 * invalid descriptors, closes during a wait, argument errors, a 2,000-fd
 * poll, and the ZSOCK_FD_* set macros. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <zsock/socket.h>

#include "unit/test_util.h"

#include "sockets/fdtable.h"

/* A chunk size used to fill buffers: datagrams must fit, streams do not care. */
#define FILL_CHUNK 1000

/* ---- helpers ------------------------------------------------------------------ */

/* Poll a single fd for `events` with `timeout` ms; returns revents and checks
 * the return value agrees with it. */
static short poll_one(int fd, short events, int timeout)
{
    struct zsock_pollfd pfd = {.fd = fd, .events = events, .revents = (short)0x7fff};
    int rc = zsock_poll(&pfd, 1, timeout);
    assert_true(rc == 0 || rc == 1);
    assert_int_equal(rc, pfd.revents != 0 ? 1 : 0);
    return pfd.revents;
}

/* Read everything queued without blocking; returns the bytes read. */
static size_t drain(int fd)
{
    static char buf[4096];
    size_t total = 0;
    for (;;) {
        ssize_t n = zsock_recv(fd, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            return total;
        }
        if (n == 0) {
            return total;
        }
        total += (size_t)n;
    }
}

/* A thread that sleeps, then acts on a descriptor. */
enum op_kind {
    OP_SEND,    /* send "wake" */
    OP_DRAIN,   /* read everything queued */
    OP_CLOSE,   /* close the descriptor */
    OP_SHUT_WR, /* shutdown(SHUT_WR) */
};

struct delayed_op {
    pthread_t thread;
    int fd;
    int delay_ms;
    enum op_kind kind;
    ssize_t result;
    int err;
};

static void *delayed_op_main(void *arg)
{
    struct delayed_op *op = arg;
    sleep_ms(op->delay_ms);
    errno = 0;
    switch (op->kind) {
    case OP_SEND:
        op->result = zsock_send(op->fd, "wake", 4, 0);
        break;
    case OP_DRAIN: {
        static char buf[4096];
        ssize_t total = 0;
        ssize_t n;
        while ((n = zsock_recv(op->fd, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT)) > 0) {
            total += n;
        }
        op->result = n < 0 && errno != EAGAIN ? -1 : total;
        break;
    }
    case OP_CLOSE:
        op->result = zsock_close(op->fd);
        break;
    case OP_SHUT_WR:
        op->result = zsock_shutdown(op->fd, ZSOCK_SHUT_WR);
        break;
    }
    op->err = op->result < 0 ? errno : 0;
    return NULL;
}

static void delayed_op_start(struct delayed_op *op, int fd, int delay_ms, enum op_kind kind)
{
    memset(op, 0, sizeof(*op));
    op->fd = fd;
    op->delay_ms = delay_ms;
    op->kind = kind;
    assert_int_equal(pthread_create(&op->thread, NULL, delayed_op_main, op), 0);
}

static void delayed_op_join(struct delayed_op *op)
{
    assert_int_equal(pthread_join(op->thread, NULL), 0);
}

static int count_set(const zsock_fd_set *set)
{
    int n = 0;
    for (int fd = 0; fd < ZSOCK_FD_SETSIZE; fd++) {
        n += ZSOCK_FD_ISSET(fd, (zsock_fd_set *)set) ? 1 : 0;
    }
    return n;
}

static const int pair_types[] = {SOCK_STREAM, SOCK_DGRAM};
#define FOR_EACH_TYPE(t) for (size_t t##_i = 0; t##_i < 2 && ((t) = pair_types[t##_i], 1); t##_i++)

/* ---- timeouts ------------------------------------------------------------------- */

static void test_poll_timeout_zero_returns_at_once(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        struct zsock_pollfd pfd[2] = {
            {.fd = sv[0], .events = ZSOCK_POLLIN, .revents = -1},
            {.fd = sv[1], .events = ZSOCK_POLLIN | ZSOCK_POLLPRI, .revents = -1},
        };
        assert_int_equal(zsock_poll(pfd, 2, 0), 0);
        assert_int_equal(pfd[0].revents, 0);
        assert_int_equal(pfd[1].revents, 0);
        close_pair(sv);
    }
}

static void test_poll_positive_timeout_waits(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        struct zsock_pollfd pfd = {.fd = sv[0], .events = ZSOCK_POLLIN};
        int64_t t0 = mono_us();
        assert_int_equal(zsock_poll(&pfd, 1, 50), 0);
        int64_t elapsed = mono_us() - t0;
        assert_true(elapsed >= 50000);
        assert_int_equal(pfd.revents, 0);
        close_pair(sv);
    }
}

static void test_poll_infinite_waits_for_writer(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        struct delayed_op op;
        int64_t t0 = mono_us();
        delayed_op_start(&op, sv[1], 50, OP_SEND);
        struct zsock_pollfd pfd = {.fd = sv[0], .events = ZSOCK_POLLIN};
        assert_int_equal(zsock_poll(&pfd, 1, -1), 1);
        int64_t elapsed = mono_us() - t0;
        assert_int_equal(pfd.revents, ZSOCK_POLLIN);
        delayed_op_join(&op);
        assert_int_equal(op.result, 4);
        assert_true(elapsed >= 50000);
        char buf[8];
        assert_int_equal(zsock_recv(sv[0], buf, sizeof(buf), 0), 4);
        assert_memory_equal(buf, "wake", 4);
        close_pair(sv);
    }
}

/* Any negative timeout means "no limit", not only -1. */
static void test_poll_other_negative_timeout_waits(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    struct delayed_op op;
    delayed_op_start(&op, sv[1], 30, OP_SEND);
    struct zsock_pollfd pfd = {.fd = sv[0], .events = ZSOCK_POLLIN};
    assert_int_equal(zsock_poll(&pfd, 1, INT_MIN), 1);
    assert_int_equal(pfd.revents, ZSOCK_POLLIN);
    delayed_op_join(&op);
    close_pair(sv);
}

/* ---- readiness as data moves ------------------------------------------------------ */

static void test_pollout_on_fresh_pair(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLOUT, 0), ZSOCK_POLLOUT);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLOUT, 0), ZSOCK_POLLOUT);
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLIN | ZSOCK_POLLOUT, 0), ZSOCK_POLLOUT);
        /* POLLPRI is accepted and never reported. */
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLPRI, 0), 0);
        close_pair(sv);
    }
}

static void test_pollin_after_write_cleared_after_read(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, 0), 0);
        assert_int_equal(zsock_send(sv[0], "abc", 3, 0), 3);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, 0), ZSOCK_POLLIN);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN | ZSOCK_POLLOUT, 0),
                         ZSOCK_POLLIN | ZSOCK_POLLOUT);
        /* Only the reader's side became readable. */
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLIN, 0), 0);
        /* A peek leaves it readable. */
        char buf[8];
        assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), ZSOCK_MSG_PEEK), 3);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, 0), ZSOCK_POLLIN);
        assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 3);
        assert_memory_equal(buf, "abc", 3);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, 0), 0);
        close_pair(sv);
    }
}

/* A datagram of length 0 is still a datagram: it makes the socket readable. */
static void test_pollin_for_empty_datagram(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_DGRAM, sv);
    assert_int_equal(zsock_send(sv[0], "", 0, 0), 0);
    assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, 0), ZSOCK_POLLIN);
    char buf[4];
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), ZSOCK_MSG_DONTWAIT), 0);
    assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, 0), 0);
    close_pair(sv);
}

static void test_pollout_cleared_when_full_set_after_read(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        size_t queued = fill_until_eagain(sv[0], FILL_CHUNK);
        assert_true(queued > 0);
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLOUT, 0), 0);
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLOUT, 20), 0);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN | ZSOCK_POLLOUT, 0),
                         ZSOCK_POLLIN | ZSOCK_POLLOUT);
        assert_int_equal(drain(sv[1]), queued);
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLOUT, 0), ZSOCK_POLLOUT);
        close_pair(sv);
    }
}

/* A poll blocked on POLLOUT of a full socket is woken when the peer reads. */
static void test_pollout_wait_woken_by_reader(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        size_t queued = fill_until_eagain(sv[0], FILL_CHUNK);
        struct delayed_op op;
        delayed_op_start(&op, sv[1], 30, OP_DRAIN);
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLOUT, -1), ZSOCK_POLLOUT);
        delayed_op_join(&op);
        assert_true(op.result > 0);
        /* The reader may not have drained everything before poll saw room;
         * whatever is left is still queued. */
        assert_int_equal((size_t)op.result + drain(sv[1]), queued);
        close_pair(sv);
    }
}

/* ---- end of stream and hang-up ------------------------------------------------------- */

static void test_peer_close_pollin_pollhup(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        assert_int_equal(zsock_send(sv[0], "xy", 2, 0), 2);
        assert_int_equal(zsock_close(sv[0]), 0);
        short re = poll_one(sv[1], ZSOCK_POLLIN, 0);
        assert_int_equal(re, ZSOCK_POLLIN | ZSOCK_POLLHUP);
        char buf[8];
        assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 2);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, 0), ZSOCK_POLLIN | ZSOCK_POLLHUP);
        assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 0);
        assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), ZSOCK_MSG_DONTWAIT), 0);
        /* Still ready with an infinite timeout: returns at once. */
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, -1), ZSOCK_POLLIN | ZSOCK_POLLHUP);
        assert_int_equal(zsock_close(sv[1]), 0);
    }
}

static void test_peer_shut_wr_pollin_without_pollhup(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        assert_int_equal(zsock_shutdown(sv[0], ZSOCK_SHUT_WR), 0);
        short re = poll_one(sv[1], ZSOCK_POLLIN | ZSOCK_POLLOUT, 0);
        assert_true(re & ZSOCK_POLLIN);
        assert_false(re & ZSOCK_POLLHUP);
        assert_false(re & ZSOCK_POLLNVAL);
        /* The half that still works: sv[1] can send to sv[0]. */
        assert_true(re & ZSOCK_POLLOUT);
        char buf[4];
        assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), 0), 0);
        assert_int_equal(zsock_send(sv[1], "k", 1, 0), 1);
        assert_int_equal(poll_one(sv[0], ZSOCK_POLLIN, 0), ZSOCK_POLLIN);
        close_pair(sv);
    }
}

static void test_own_shut_rdwr_pollhup(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        assert_int_equal(zsock_shutdown(sv[0], ZSOCK_SHUT_RDWR), 0);
        short re = poll_one(sv[0], ZSOCK_POLLIN, 0);
        assert_true(re & ZSOCK_POLLHUP);
        assert_false(re & ZSOCK_POLLNVAL);
        re = poll_one(sv[0], 0, 0);
        assert_int_equal(re, ZSOCK_POLLHUP);
        close_pair(sv);
    }
}

/* POLLHUP (and POLLERR) are reported even when not asked for. */
static void test_pollhup_reported_with_zero_events(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        assert_int_equal(poll_one(sv[1], 0, 0), 0);
        assert_int_equal(zsock_close(sv[0]), 0);
        short re = poll_one(sv[1], 0, 0);
        assert_true(re & ZSOCK_POLLHUP);
        assert_int_equal(re & ~(ZSOCK_POLLHUP | ZSOCK_POLLERR), 0);
        re = poll_one(sv[1], ZSOCK_POLLOUT, 0);
        assert_true(re & ZSOCK_POLLHUP);
        assert_false(re & ZSOCK_POLLIN);
        assert_int_equal(zsock_close(sv[1]), 0);
    }
}

/* A poll(-1) blocked on a socket is woken by the peer's close. */
static void test_poll_woken_by_peer_close(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        struct delayed_op op;
        delayed_op_start(&op, sv[0], 50, OP_CLOSE);
        short re = poll_one(sv[1], ZSOCK_POLLIN, -1);
        assert_int_equal(re, ZSOCK_POLLIN | ZSOCK_POLLHUP);
        delayed_op_join(&op);
        assert_int_equal(op.result, 0);
        char c;
        assert_int_equal(zsock_recv(sv[1], &c, 1, 0), 0);
        assert_int_equal(zsock_close(sv[1]), 0);
    }
}

/* A poll(-1) blocked on a socket is woken by the peer's shutdown(SHUT_WR). */
static void test_poll_woken_by_peer_shutdown(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        struct delayed_op op;
        delayed_op_start(&op, sv[0], 50, OP_SHUT_WR);
        assert_int_equal(poll_one(sv[1], ZSOCK_POLLIN, -1), ZSOCK_POLLIN);
        delayed_op_join(&op);
        assert_int_equal(op.result, 0);
        close_pair(sv);
    }
}

/* ---- invalid descriptors ----------------------------------------------------------------- */

static void test_pollnval_for_fd_not_open(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    int closed_fd = sv[0];
    assert_int_equal(zsock_close(closed_fd), 0);
    errno = 0;
    assert_int_equal(zsock_send(sv[1], "z", 1, ZSOCK_MSG_DONTWAIT), -1);
    assert_int_equal(errno, EPIPE);

    struct zsock_pollfd pfd[5] = {
        {.fd = closed_fd, .events = ZSOCK_POLLIN},
        {.fd = ZSOCK_FD_SETSIZE - 1, .events = ZSOCK_POLLIN | ZSOCK_POLLOUT},
        {.fd = CONFIG_ZVFS_OPEN_MAX, .events = 0},
        {.fd = INT_MAX, .events = ZSOCK_POLLOUT},
        {.fd = sv[1], .events = ZSOCK_POLLPRI}, /* open, not ready for PRI, but HUP */
    };
    assert_int_equal(zsock_poll(pfd, 5, 0), 5);
    assert_int_equal(pfd[0].revents, ZSOCK_POLLNVAL);
    assert_int_equal(pfd[1].revents, ZSOCK_POLLNVAL);
    assert_int_equal(pfd[2].revents, ZSOCK_POLLNVAL);
    assert_int_equal(pfd[3].revents, ZSOCK_POLLNVAL);
    assert_int_equal(pfd[4].revents, ZSOCK_POLLHUP);

    /* An invalid fd alone: returns at once even with an infinite timeout. */
    assert_int_equal(poll_one(closed_fd, ZSOCK_POLLIN, -1), ZSOCK_POLLNVAL);
    assert_int_equal(zsock_close(sv[1]), 0);
}

static void test_negative_fd_ignored(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    struct zsock_pollfd pfd[4] = {
        {.fd = -1, .events = ZSOCK_POLLIN | ZSOCK_POLLOUT, .revents = 0x55},
        {.fd = sv[0], .events = ZSOCK_POLLOUT, .revents = 0x55},
        {.fd = INT_MIN, .events = ZSOCK_POLLOUT, .revents = 0x55},
        {.fd = -sv[0] - 1, .events = ZSOCK_POLLOUT, .revents = 0x55},
    };
    assert_int_equal(zsock_poll(pfd, 4, 0), 1);
    assert_int_equal(pfd[0].revents, 0);
    assert_int_equal(pfd[1].revents, ZSOCK_POLLOUT);
    assert_int_equal(pfd[2].revents, 0);
    assert_int_equal(pfd[3].revents, 0);

    /* Only negative fds: a plain timeout. */
    pfd[0].revents = 0x55;
    int64_t t0 = mono_us();
    assert_int_equal(zsock_poll(pfd, 1, 20), 0);
    assert_true(mono_us() - t0 >= 20000);
    assert_int_equal(pfd[0].revents, 0);
    close_pair(sv);
}

static void test_same_fd_twice(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        struct zsock_pollfd pfd[3] = {
            {.fd = sv[1], .events = ZSOCK_POLLIN},
            {.fd = sv[1], .events = ZSOCK_POLLOUT},
            {.fd = sv[1], .events = ZSOCK_POLLIN},
        };
        assert_int_equal(zsock_poll(pfd, 3, 0), 1);
        assert_int_equal(pfd[0].revents, 0);
        assert_int_equal(pfd[1].revents, ZSOCK_POLLOUT);
        assert_int_equal(pfd[2].revents, 0);

        /* Both IN entries are woken by one write. */
        struct delayed_op op;
        delayed_op_start(&op, sv[0], 20, OP_SEND);
        pfd[1].events = ZSOCK_POLLPRI;
        assert_int_equal(zsock_poll(pfd, 3, -1), 2);
        assert_int_equal(pfd[0].revents, ZSOCK_POLLIN);
        assert_int_equal(pfd[1].revents, 0);
        assert_int_equal(pfd[2].revents, ZSOCK_POLLIN);
        delayed_op_join(&op);
        assert_int_equal(op.result, 4);
        close_pair(sv);
    }
}

/* ---- close during a blocking poll --------------------------------------------------------- */

struct poll_thread {
    pthread_t thread;
    struct zsock_pollfd pfd[2];
    int nfds;
    int timeout;
    int rc;
    int err;
    int started;
};

static void *poll_thread_main(void *arg)
{
    struct poll_thread *pt = arg;
    __atomic_store_n(&pt->started, 1, __ATOMIC_RELEASE);
    errno = 0;
    pt->rc = zsock_poll(pt->pfd, pt->nfds, pt->timeout);
    pt->err = errno;
    return NULL;
}

static void test_close_during_blocking_poll(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int a[2], other[2];
        make_pair(type, a);
        make_pair(type, other);
        struct poll_thread pt;
        memset(&pt, 0, sizeof(pt));
        pt.pfd[0] = (struct zsock_pollfd){.fd = a[0], .events = ZSOCK_POLLIN};
        pt.pfd[1] = (struct zsock_pollfd){.fd = other[0], .events = ZSOCK_POLLIN};
        pt.nfds = 2;
        pt.timeout = -1;
        assert_int_equal(pthread_create(&pt.thread, NULL, poll_thread_main, &pt), 0);
        while (!__atomic_load_n(&pt.started, __ATOMIC_ACQUIRE)) {
            sleep_ms(1);
        }
        sleep_ms(100); /* let it block */
        int closed = a[0];
        assert_int_equal(zsock_close(closed), 0);
        assert_int_equal(pthread_join(pt.thread, NULL), 0);
        assert_int_equal(pt.rc, 1);
        assert_int_equal(pt.pfd[0].revents, ZSOCK_POLLNVAL);
        assert_int_equal(pt.pfd[1].revents, 0);

        /* The number is free again once the poll has returned. */
        int sv[2];
        make_pair(type, sv);
        assert_int_equal(sv[0], closed);
        close_pair(sv);
        assert_int_equal(zsock_close(a[1]), 0);
        close_pair(other);
    }
}

/* ---- argument errors ------------------------------------------------------------------------ */

static void test_poll_argument_errors(void **state)
{
    (void)state;
    struct zsock_pollfd pfd = {.fd = -1};
    errno = 0;
    assert_int_equal(zsock_poll(&pfd, -1, 0), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(zsock_poll(&pfd, INT_MIN, 0), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(zsock_poll(NULL, 1, 0), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(zsock_poll(NULL, 3, -1), -1);
    assert_int_equal(errno, EFAULT);

    /* More entries than CONFIG_ZVFS_POLL_MAX. */
    struct zsock_pollfd *big = calloc(CONFIG_ZVFS_POLL_MAX + 1, sizeof(*big));
    assert_non_null(big);
    for (int i = 0; i <= CONFIG_ZVFS_POLL_MAX; i++) {
        big[i].fd = -1;
    }
    errno = 0;
    assert_int_equal(zsock_poll(big, CONFIG_ZVFS_POLL_MAX + 1, 0), -1);
    assert_int_equal(errno, EINVAL);
    /* Exactly the maximum is fine. */
    assert_int_equal(zsock_poll(big, CONFIG_ZVFS_POLL_MAX, 0), 0);
    free(big);

    assert_int_equal(zsock_poll(NULL, 0, 0), 0);
    int64_t t0 = mono_us();
    assert_int_equal(zsock_poll(NULL, 0, 10), 0);
    assert_true(mono_us() - t0 >= 10000);
    t0 = mono_us();
    assert_int_equal(zsock_poll(&pfd, 0, 10), 0);
    assert_true(mono_us() - t0 >= 10000);
}

/* ---- many descriptors ------------------------------------------------------------------------ */

#define MANY_PAIRS 2000

static void test_poll_many_fds(void **state)
{
    (void)state;
    int(*sv)[2] = calloc(MANY_PAIRS, sizeof(*sv));
    struct zsock_pollfd *pfd = calloc(MANY_PAIRS, sizeof(*pfd));
    assert_non_null(sv);
    assert_non_null(pfd);
    for (int i = 0; i < MANY_PAIRS; i++) {
        make_pair(i % 2 ? SOCK_DGRAM : SOCK_STREAM, sv[i]);
        pfd[i].fd = sv[i][1];
        pfd[i].events = ZSOCK_POLLIN;
    }
    assert_int_equal(zsock_poll(pfd, MANY_PAIRS, 0), 0);
    for (int i = 0; i < MANY_PAIRS; i++) {
        assert_int_equal(pfd[i].revents, 0);
    }

    /* One becomes readable before the call. */
    const int first = 1357;
    assert_int_equal(zsock_send(sv[first][0], "1", 1, 0), 1);
    assert_int_equal(zsock_poll(pfd, MANY_PAIRS, 0), 1);
    for (int i = 0; i < MANY_PAIRS; i++) {
        assert_int_equal(pfd[i].revents, i == first ? ZSOCK_POLLIN : 0);
    }
    char c;
    assert_int_equal(zsock_recv(sv[first][1], &c, 1, 0), 1);

    /* One becomes readable while the call waits. */
    const int second = 778;
    struct delayed_op op;
    delayed_op_start(&op, sv[second][0], 30, OP_SEND);
    assert_int_equal(zsock_poll(pfd, MANY_PAIRS, -1), 1);
    delayed_op_join(&op);
    assert_int_equal(op.result, 4);
    for (int i = 0; i < MANY_PAIRS; i++) {
        assert_int_equal(pfd[i].revents, i == second ? ZSOCK_POLLIN : 0);
    }

    for (int i = 0; i < MANY_PAIRS; i++) {
        close_pair(sv[i]);
    }
    free(pfd);
    free(sv);
}

/* ---- select ------------------------------------------------------------------------------------
 */

static void test_select_read_write_semantics(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        int nfds = (sv[0] > sv[1] ? sv[0] : sv[1]) + 1;
        zsock_fd_set r, w, e;
        struct zsock_timeval tv = {0, 0};

        ZSOCK_FD_ZERO(&r);
        ZSOCK_FD_ZERO(&w);
        ZSOCK_FD_ZERO(&e);
        ZSOCK_FD_SET(sv[0], &r);
        ZSOCK_FD_SET(sv[1], &r);
        ZSOCK_FD_SET(sv[0], &w);
        ZSOCK_FD_SET(sv[1], &w);
        ZSOCK_FD_SET(sv[0], &e);
        assert_int_equal(zsock_select(nfds, &r, &w, &e, &tv), 2);
        assert_int_equal(count_set(&r), 0);
        assert_int_equal(count_set(&e), 0);
        assert_int_equal(count_set(&w), 2);
        assert_true(ZSOCK_FD_ISSET(sv[0], &w));
        assert_true(ZSOCK_FD_ISSET(sv[1], &w));

        assert_int_equal(zsock_send(sv[0], "q", 1, 0), 1);
        ZSOCK_FD_ZERO(&r);
        ZSOCK_FD_ZERO(&w);
        ZSOCK_FD_SET(sv[0], &r);
        ZSOCK_FD_SET(sv[1], &r);
        ZSOCK_FD_SET(sv[0], &w);
        ZSOCK_FD_SET(sv[1], &w);
        assert_int_equal(zsock_select(nfds, &r, &w, NULL, &tv), 3);
        assert_false(ZSOCK_FD_ISSET(sv[0], &r));
        assert_true(ZSOCK_FD_ISSET(sv[1], &r));
        assert_int_equal(count_set(&r), 1);
        assert_int_equal(count_set(&w), 2);

        /* Only readfds given. */
        ZSOCK_FD_ZERO(&r);
        ZSOCK_FD_SET(sv[1], &r);
        assert_int_equal(zsock_select(nfds, &r, NULL, NULL, NULL), 1);
        assert_true(ZSOCK_FD_ISSET(sv[1], &r));
        close_pair(sv);
    }
}

static void test_select_timeout_zero_clears_sets(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    int nfds = (sv[0] > sv[1] ? sv[0] : sv[1]) + 1;
    zsock_fd_set r, e;
    ZSOCK_FD_ZERO(&r);
    ZSOCK_FD_ZERO(&e);
    ZSOCK_FD_SET(sv[0], &r);
    ZSOCK_FD_SET(sv[1], &r);
    ZSOCK_FD_SET(sv[0], &e);
    ZSOCK_FD_SET(sv[1], &e);
    struct zsock_timeval tv = {0, 0};
    assert_int_equal(zsock_select(nfds, &r, NULL, &e, &tv), 0);
    assert_int_equal(count_set(&r), 0);
    assert_int_equal(count_set(&e), 0);
    close_pair(sv);
}

static void test_select_positive_timeout_waits(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_DGRAM, sv);
    zsock_fd_set r;
    ZSOCK_FD_ZERO(&r);
    ZSOCK_FD_SET(sv[0], &r);
    struct zsock_timeval tv = {0, 50000};
    int64_t t0 = mono_us();
    assert_int_equal(zsock_select(sv[0] + 1, &r, NULL, NULL, &tv), 0);
    assert_true(mono_us() - t0 >= 50000);
    assert_false(ZSOCK_FD_ISSET(sv[0], &r));

    /* No descriptors at all: a sleep. */
    tv = (struct zsock_timeval){0, 10000};
    t0 = mono_us();
    assert_int_equal(zsock_select(0, NULL, NULL, NULL, &tv), 0);
    assert_true(mono_us() - t0 >= 10000);
    close_pair(sv);
}

static void test_select_null_timeout_woken_by_writer(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        zsock_fd_set r;
        ZSOCK_FD_ZERO(&r);
        ZSOCK_FD_SET(sv[0], &r);
        struct delayed_op op;
        int64_t t0 = mono_us();
        delayed_op_start(&op, sv[1], 50, OP_SEND);
        assert_int_equal(zsock_select(sv[0] + 1, &r, NULL, NULL, NULL), 1);
        assert_true(mono_us() - t0 >= 50000);
        assert_true(ZSOCK_FD_ISSET(sv[0], &r));
        delayed_op_join(&op);
        assert_int_equal(op.result, 4);
        close_pair(sv);
    }
}

static void test_select_ebadf(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    int closed = sv[0];
    assert_int_equal(zsock_close(closed), 0);
    int nfds = (sv[0] > sv[1] ? sv[0] : sv[1]) + 1;
    struct zsock_timeval tv = {0, 0};
    zsock_fd_set s, ok;

    for (int which = 0; which < 3; which++) {
        ZSOCK_FD_ZERO(&s);
        ZSOCK_FD_ZERO(&ok);
        ZSOCK_FD_SET(closed, &s);
        ZSOCK_FD_SET(sv[1], &ok);
        errno = 0;
        int rc = zsock_select(nfds, which == 0 ? &s : &ok, which == 1 ? &s : NULL,
                              which == 2 ? &s : NULL, &tv);
        assert_int_equal(rc, -1);
        assert_int_equal(errno, EBADF);
    }
    /* Even with an infinite timeout it fails at once. */
    ZSOCK_FD_ZERO(&s);
    ZSOCK_FD_SET(closed, &s);
    errno = 0;
    assert_int_equal(zsock_select(nfds, &s, NULL, NULL, NULL), -1);
    assert_int_equal(errno, EBADF);

    /* A closed fd at or above nfds is not examined. */
    int low[2];
    make_pair(SOCK_STREAM, low); /* takes the closed number back */
    assert_int_equal(low[0], closed);
    int high = (low[0] > low[1] ? low[0] : low[1]);
    high = (high > sv[1] ? high : sv[1]) + 1; /* not open */
    ZSOCK_FD_ZERO(&s);
    ZSOCK_FD_SET(low[0], &s);
    ZSOCK_FD_SET(high, &s);
    assert_int_equal(zsock_select(high, NULL, &s, NULL, &tv), 1);
    assert_true(ZSOCK_FD_ISSET(low[0], &s));
    close_pair(low);
    assert_int_equal(zsock_close(sv[1]), 0);
}

static void test_select_einval(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    zsock_fd_set r;
    struct zsock_timeval bad[] = {{-1, 0}, {0, -1}, {0, 1000000}, {-5, -5}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ZSOCK_FD_ZERO(&r);
        ZSOCK_FD_SET(sv[0], &r);
        errno = 0;
        assert_int_equal(zsock_select(sv[0] + 1, &r, NULL, NULL, &bad[i]), -1);
        assert_int_equal(errno, EINVAL);
    }
    struct zsock_timeval tv = {0, 0};
    errno = 0;
    assert_int_equal(zsock_select(-1, &r, NULL, NULL, &tv), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(zsock_select(ZSOCK_FD_SETSIZE + 1, &r, NULL, NULL, &tv), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(zsock_select(INT_MAX, NULL, NULL, NULL, &tv), -1);
    assert_int_equal(errno, EINVAL);

    /* nfds == ZSOCK_FD_SETSIZE is allowed. */
    ZSOCK_FD_ZERO(&r);
    ZSOCK_FD_SET(sv[0], &r);
    zsock_fd_set w;
    ZSOCK_FD_ZERO(&w);
    ZSOCK_FD_SET(sv[0], &w);
    assert_int_equal(zsock_select(ZSOCK_FD_SETSIZE, &r, &w, NULL, &tv), 1);
    assert_int_equal(count_set(&r), 0);
    assert_true(ZSOCK_FD_ISSET(sv[0], &w));
    close_pair(sv);
}

static void test_select_hangup_and_eof_are_readable(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int a[2], b[2];
        make_pair(type, a);
        make_pair(type, b);
        assert_int_equal(zsock_close(a[0]), 0);                   /* a[1]: POLLHUP */
        assert_int_equal(zsock_shutdown(b[0], ZSOCK_SHUT_WR), 0); /* b[1]: EOF */
        int nfds = 0;
        int fds[3] = {a[1], b[1], b[0]};
        for (int i = 0; i < 3; i++) {
            nfds = fds[i] + 1 > nfds ? fds[i] + 1 : nfds;
        }
        zsock_fd_set r;
        ZSOCK_FD_ZERO(&r);
        for (int i = 0; i < 3; i++) {
            ZSOCK_FD_SET(fds[i], &r);
        }
        struct zsock_timeval tv = {0, 0};
        assert_int_equal(zsock_select(nfds, &r, NULL, NULL, &tv), 2);
        assert_true(ZSOCK_FD_ISSET(a[1], &r));
        assert_true(ZSOCK_FD_ISSET(b[1], &r));
        assert_false(ZSOCK_FD_ISSET(b[0], &r));
        assert_int_equal(zsock_close(a[1]), 0);
        close_pair(b);
    }
}

static void test_select_writefds_cleared_when_full(void **state)
{
    (void)state;
    int type;
    FOR_EACH_TYPE(type)
    {
        int sv[2];
        make_pair(type, sv);
        size_t queued = fill_until_eagain(sv[0], FILL_CHUNK);
        zsock_fd_set w;
        ZSOCK_FD_ZERO(&w);
        ZSOCK_FD_SET(sv[0], &w);
        struct zsock_timeval tv = {0, 0};
        assert_int_equal(zsock_select(sv[0] + 1, NULL, &w, NULL, &tv), 0);
        assert_false(ZSOCK_FD_ISSET(sv[0], &w));

        /* select(NULL timeout) woken when the peer reads. */
        struct delayed_op op;
        delayed_op_start(&op, sv[1], 30, OP_DRAIN);
        ZSOCK_FD_SET(sv[0], &w);
        assert_int_equal(zsock_select(sv[0] + 1, NULL, &w, NULL, NULL), 1);
        assert_true(ZSOCK_FD_ISSET(sv[0], &w));
        delayed_op_join(&op);
        assert_int_equal((size_t)op.result + drain(sv[1]), queued);
        close_pair(sv);
    }
}

static void test_select_close_during_wait_ebadf(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    zsock_fd_set r;
    ZSOCK_FD_ZERO(&r);
    ZSOCK_FD_SET(sv[0], &r);
    struct delayed_op op;
    delayed_op_start(&op, sv[0], 50, OP_CLOSE);
    errno = 0;
    assert_int_equal(zsock_select(sv[0] + 1, &r, NULL, NULL, NULL), -1);
    assert_int_equal(errno, EBADF);
    delayed_op_join(&op);
    assert_int_equal(op.result, 0);
    assert_int_equal(zsock_close(sv[1]), 0);
}

static void test_fd_set_macros(void **state)
{
    (void)state;
    zsock_fd_set s, zero;
    memset(&s, 0xa5, sizeof(s));
    ZSOCK_FD_ZERO(&s);
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&s, &zero, sizeof(s));
    assert_true(sizeof(s.bitset) * 8 >= ZSOCK_FD_SETSIZE);

    const int edge[] = {0, 1, 31, 32, 33, 63, 64, ZSOCK_FD_SETSIZE / 2, ZSOCK_FD_SETSIZE - 1};
    for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
        assert_int_equal(ZSOCK_FD_ISSET(edge[i], &s), 0);
        ZSOCK_FD_SET(edge[i], &s);
        assert_int_not_equal(ZSOCK_FD_ISSET(edge[i], &s), 0);
        assert_int_equal(count_set(&s), (int)i + 1);
    }
    /* Setting twice changes nothing. */
    ZSOCK_FD_SET(32, &s);
    assert_int_equal(count_set(&s), (int)(sizeof(edge) / sizeof(edge[0])));
    ZSOCK_FD_CLR(32, &s);
    assert_int_equal(ZSOCK_FD_ISSET(32, &s), 0);
    assert_int_not_equal(ZSOCK_FD_ISSET(31, &s), 0);
    assert_int_not_equal(ZSOCK_FD_ISSET(33, &s), 0);
    ZSOCK_FD_CLR(32, &s); /* clearing an absent fd */
    assert_int_equal(count_set(&s), (int)(sizeof(edge) / sizeof(edge[0])) - 1);

    /* Out of range: ignored, ISSET 0, nothing else touched. */
    zsock_fd_set before;
    memcpy(&before, &s, sizeof(s));
    const int out[] = {
        -1, -32, INT_MIN, ZSOCK_FD_SETSIZE, ZSOCK_FD_SETSIZE + 1, ZSOCK_FD_SETSIZE + 31, INT_MAX};
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
        ZSOCK_FD_SET(out[i], &s);
        assert_int_equal(ZSOCK_FD_ISSET(out[i], &s), 0);
        assert_memory_equal(&s, &before, sizeof(s));
        ZSOCK_FD_CLR(out[i], &s);
        assert_memory_equal(&s, &before, sizeof(s));
    }

    /* A full set: out-of-range ISSET still 0. */
    memset(&s, 0xff, sizeof(s));
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
        assert_int_equal(ZSOCK_FD_ISSET(out[i], &s), 0);
    }
    ZSOCK_FD_ZERO(&s);
    assert_int_equal(count_set(&s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fd_leak_setup, fd_leak_teardown)
        T(test_poll_timeout_zero_returns_at_once),
        T(test_poll_positive_timeout_waits),
        T(test_poll_infinite_waits_for_writer),
        T(test_poll_other_negative_timeout_waits),
        T(test_pollout_on_fresh_pair),
        T(test_pollin_after_write_cleared_after_read),
        T(test_pollin_for_empty_datagram),
        T(test_pollout_cleared_when_full_set_after_read),
        T(test_pollout_wait_woken_by_reader),
        T(test_peer_close_pollin_pollhup),
        T(test_peer_shut_wr_pollin_without_pollhup),
        T(test_own_shut_rdwr_pollhup),
        T(test_pollhup_reported_with_zero_events),
        T(test_poll_woken_by_peer_close),
        T(test_poll_woken_by_peer_shutdown),
        T(test_pollnval_for_fd_not_open),
        T(test_negative_fd_ignored),
        T(test_same_fd_twice),
        T(test_close_during_blocking_poll),
        T(test_poll_argument_errors),
        T(test_poll_many_fds),
        T(test_select_read_write_semantics),
        T(test_select_timeout_zero_clears_sets),
        T(test_select_positive_timeout_waits),
        T(test_select_null_timeout_woken_by_writer),
        T(test_select_ebadf),
        T(test_select_einval),
        T(test_select_hangup_and_eof_are_readable),
        T(test_select_writefds_cleared_when_full),
        T(test_select_close_during_wait_ebadf),
        T(test_fd_set_macros),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
