/* Concurrency tests on socketpairs: close, shutdown and peer close waking
 * blocked calls, socket timeouts, a multi-thread hammer mixing legitimate use
 * with calls on random descriptor numbers, and byte-exact stream and
 * datagram transfers between threads. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <zsock/socket.h>

#include "unit/test_util.h"

#include "sockets/fdtable.h"

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void set_timeo(int fd, int optname, int ms)
{
    struct zsock_timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, optname, &tv, sizeof(tv)), 0);
}

/* Descriptors that are open, counted through the public API. */
static int count_open_by_fcntl(void)
{
    int n = 0;
    for (int fd = 0; fd < ZSOCK_FD_SETSIZE; fd++) {
        errno = 0;
        if (zsock_fcntl(fd, F_GETFL) >= 0 || errno != EBADF) {
            n++;
        }
    }
    return n;
}

/* Failures seen by worker threads: cmocka's asserts may only run on the
 * test's own thread, so workers record the first failure and the test
 * asserts after joining them. */
static pthread_mutex_t thread_fail_lock = PTHREAD_MUTEX_INITIALIZER;
static int thread_fail_count;
static char thread_fail_msg[512];

static void thread_fail(int line, const char *fmt, ...)
{
    pthread_mutex_lock(&thread_fail_lock);
    if (thread_fail_count++ == 0) {
        int off = snprintf(thread_fail_msg, sizeof(thread_fail_msg), "line %d: ", line);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(thread_fail_msg + off, sizeof(thread_fail_msg) - (size_t)off, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&thread_fail_lock);
}

#define TCHECK(cond)                                                                               \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            thread_fail(__LINE__, "%s (errno %d)", #cond, errno);                                  \
        }                                                                                          \
    } while (0)

static bool thread_failed(void)
{
    pthread_mutex_lock(&thread_fail_lock);
    bool f = thread_fail_count > 0;
    pthread_mutex_unlock(&thread_fail_lock);
    return f;
}

static void assert_no_thread_failures(void)
{
    pthread_mutex_lock(&thread_fail_lock);
    int n = thread_fail_count;
    char msg[sizeof(thread_fail_msg)];
    memcpy(msg, thread_fail_msg, sizeof(msg));
    thread_fail_count = 0;
    thread_fail_msg[0] = '\0';
    pthread_mutex_unlock(&thread_fail_lock);
    if (n > 0) {
        fail_msg("%d failure(s) in worker threads, first: %s", n, msg);
    }
}

/* ---- a thread blocked in one call -------------------------------------------------- */

enum blocked_call {
    CALL_RECV,
    CALL_SEND,
    CALL_POLL,
    CALL_SELECT,
};

struct blocked {
    pthread_t thread;
    enum blocked_call call;
    int fd;
    size_t len;
    int flags;
    char buf[1024];
    pid_t tid;
    int started;
    int done;
    ssize_t rc;
    int err;
    short revents;
    int64_t elapsed_us;
};

static void *blocked_main(void *arg)
{
    struct blocked *b = arg;
    b->tid = gettid();
    __atomic_store_n(&b->started, 1, __ATOMIC_RELEASE);
    int64_t t0 = mono_us();
    errno = 0;
    switch (b->call) {
    case CALL_RECV:
        b->rc = zsock_recv(b->fd, b->buf, b->len, b->flags);
        break;
    case CALL_SEND:
        b->rc = zsock_send(b->fd, b->buf, b->len, b->flags);
        break;
    case CALL_POLL: {
        struct zsock_pollfd pfd = {.fd = b->fd, .events = (short)b->flags};
        b->rc = zsock_poll(&pfd, 1, -1);
        b->revents = pfd.revents;
        break;
    }
    case CALL_SELECT: {
        zsock_fd_set r;
        ZSOCK_FD_ZERO(&r);
        ZSOCK_FD_SET(b->fd, &r);
        b->rc = zsock_select(b->fd + 1, &r, NULL, NULL, NULL);
        break;
    }
    }
    b->err = errno;
    b->elapsed_us = mono_us() - t0;
    __atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* Thread state letter from /proc, or 0 once the thread is gone. */
static char thread_state(pid_t tid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    char line[512];
    char st = 0;
    if (fgets(line, sizeof(line), f) != NULL) {
        char *p = strrchr(line, ')');
        if (p != NULL && p[1] == ' ') {
            st = p[2];
        }
    }
    fclose(f);
    return st;
}

/* Start the call and return once the thread is asleep inside it. */
static void blocked_start(struct blocked *b, enum blocked_call call, int fd, size_t len, int flags)
{
    memset(b, 0, sizeof(*b));
    b->call = call;
    b->fd = fd;
    b->len = len;
    b->flags = flags;
    assert_true(len <= sizeof(b->buf));
    assert_int_equal(pthread_create(&b->thread, NULL, blocked_main, b), 0);
    while (!__atomic_load_n(&b->started, __ATOMIC_ACQUIRE)) {
        sleep_ms(1);
    }
    /* Sleeping in the kernel (a futex), then a margin for good measure. */
    for (int i = 0; i < 2000; i++) {
        char st = thread_state(b->tid);
        if (st == 'S' || st == 0) {
            break;
        }
        sleep_ms(1);
    }
    sleep_ms(50);
}

static void blocked_join(struct blocked *b)
{
    assert_int_equal(pthread_join(b->thread, NULL), 0);
}

/* ---- close wakes blocked calls ------------------------------------------------------- */

/* Close `victim` while a thread is blocked in `call` on it; the call must
 * fail with EINTR (poll: POLLNVAL), and the number is reused afterwards. */
static void close_wakes(int type, enum blocked_call call)
{
    int sv[2];
    make_pair(type, sv);
    int victim = sv[0];
    size_t len = 100;
    if (call == CALL_SEND) {
        fill_until_eagain(victim, 1000);
        len = 1000;
    }
    struct blocked b;
    blocked_start(&b, call, victim, len, call == CALL_POLL ? ZSOCK_POLLIN : 0);
    /* Still blocked: nothing has happened to the socket. */
    assert_false(__atomic_load_n(&b.done, __ATOMIC_ACQUIRE));
    assert_int_equal(zsock_close(victim), 0);
    blocked_join(&b);
    if (call == CALL_POLL) {
        assert_int_equal(b.rc, 1);
        assert_int_equal(b.revents, ZSOCK_POLLNVAL);
    } else if (call == CALL_SELECT) {
        assert_int_equal(b.rc, -1);
        assert_int_equal(b.err, EBADF);
    } else {
        assert_int_equal(b.rc, -1);
        assert_int_equal(b.err, EINTR);
    }
    /* Closed for every later call. */
    char c;
    errno = 0;
    assert_int_equal(zsock_recv(victim, &c, 1, 0), -1);
    assert_int_equal(errno, EBADF);
    assert_null(zsock_get_context_object(victim));

    /* Once the woken thread has left, the number is the lowest free one. */
    int again[2];
    make_pair(type, again);
    assert_int_equal(again[0], victim);
    close_pair(again);
    assert_int_equal(zsock_close(sv[1]), 0);
}

static void test_close_wakes_recv_stream(void **state)
{
    (void)state;
    close_wakes(SOCK_STREAM, CALL_RECV);
}

static void test_close_wakes_send_stream_full(void **state)
{
    (void)state;
    close_wakes(SOCK_STREAM, CALL_SEND);
}

static void test_close_wakes_recv_dgram(void **state)
{
    (void)state;
    close_wakes(SOCK_DGRAM, CALL_RECV);
}

static void test_close_wakes_send_dgram_full(void **state)
{
    (void)state;
    close_wakes(SOCK_DGRAM, CALL_SEND);
}

static void test_close_wakes_poll(void **state)
{
    (void)state;
    close_wakes(SOCK_STREAM, CALL_POLL);
    close_wakes(SOCK_DGRAM, CALL_POLL);
}

static void test_close_wakes_select(void **state)
{
    (void)state;
    close_wakes(SOCK_STREAM, CALL_SELECT);
}

/* Several threads blocked on one descriptor in different calls: one close
 * wakes all of them. */
static void test_close_wakes_every_waiter(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    struct blocked b[5];
    blocked_start(&b[0], CALL_RECV, sv[0], 10, 0);
    blocked_start(&b[1], CALL_RECV, sv[0], 10, ZSOCK_MSG_WAITALL);
    blocked_start(&b[2], CALL_POLL, sv[0], 0, ZSOCK_POLLIN);
    blocked_start(&b[3], CALL_POLL, sv[0], 0, ZSOCK_POLLIN | ZSOCK_POLLPRI);
    blocked_start(&b[4], CALL_RECV, sv[0], 10, ZSOCK_MSG_PEEK);
    assert_int_equal(zsock_close(sv[0]), 0);
    for (int i = 0; i < 5; i++) {
        blocked_join(&b[i]);
        if (b[i].call == CALL_POLL) {
            assert_int_equal(b[i].rc, 1);
            assert_int_equal(b[i].revents, ZSOCK_POLLNVAL);
        } else {
            assert_int_equal(b[i].rc, -1);
            assert_int_equal(b[i].err, EINTR);
        }
    }
    assert_int_equal(zsock_close(sv[1]), 0);
}

/* White box: while any call holds a reference on a descriptor, the closed
 * number is not handed out again (fdtable.h's reference rule). */
static void test_closed_number_not_reused_while_referenced(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    int err = 0;
    const struct z_fd_ops *ops = NULL;
    void *obj = z_fd_get(sv[0], Z_FD_KIND_SOCKET, &ops, &err);
    assert_non_null(obj);
    assert_int_equal(zsock_close(sv[0]), 0);
    assert_null(zsock_get_context_object(sv[0]));
    int other[2];
    make_pair(SOCK_STREAM, other);
    assert_int_not_equal(other[0], sv[0]);
    assert_int_not_equal(other[1], sv[0]);
    /* The object is still usable by the holder and says it is closed. */
    assert_int_equal(ops->poll(obj, NULL), ZSOCK_POLLNVAL);
    z_fd_put(sv[0]);
    int third[2];
    make_pair(SOCK_STREAM, third);
    assert_int_equal(third[0], sv[0]);
    close_pair(third);
    close_pair(other);
    assert_int_equal(zsock_close(sv[1]), 0);
}

/* ---- peer close and shutdown wake blocked calls ------------------------------------------ */

static void test_peer_close_wakes_recv(void **state)
{
    (void)state;
    const int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        int sv[2];
        make_pair(types[i], sv);
        struct blocked b;
        blocked_start(&b, CALL_RECV, sv[1], 100, 0);
        assert_int_equal(zsock_close(sv[0]), 0);
        blocked_join(&b);
        assert_int_equal(b.rc, 0);
        assert_int_equal(zsock_close(sv[1]), 0);
    }
}

static void test_own_shut_rd_wakes_recv(void **state)
{
    (void)state;
    const int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        int sv[2];
        make_pair(types[i], sv);
        struct blocked b;
        blocked_start(&b, CALL_RECV, sv[1], 100, 0);
        assert_int_equal(zsock_shutdown(sv[1], ZSOCK_SHUT_RD), 0);
        blocked_join(&b);
        assert_int_equal(b.rc, 0);
        /* The descriptor is still open. */
        assert_int_equal(zsock_fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);
        close_pair(sv);
    }
}

static void test_peer_shut_wr_wakes_recv(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    struct blocked b;
    blocked_start(&b, CALL_RECV, sv[1], 100, ZSOCK_MSG_WAITALL);
    assert_int_equal(zsock_send(sv[0], "12345", 5, 0), 5);
    assert_int_equal(zsock_shutdown(sv[0], ZSOCK_SHUT_WR), 0);
    blocked_join(&b);
    /* WAITALL returns what arrived before end of stream. */
    assert_int_equal(b.rc, 5);
    assert_memory_equal(b.buf, "12345", 5);
    close_pair(sv);
}

/* A sender blocked on a full buffer learns that the peer went away. */
static void test_peer_close_wakes_send(void **state)
{
    (void)state;
    const int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        int sv[2];
        make_pair(types[i], sv);
        fill_until_eagain(sv[0], 1000);
        struct blocked b;
        blocked_start(&b, CALL_SEND, sv[0], 500, 0);
        assert_int_equal(zsock_close(sv[1]), 0);
        blocked_join(&b);
        assert_int_equal(b.rc, -1);
        assert_int_equal(b.err, EPIPE);
        assert_int_equal(zsock_close(sv[0]), 0);
    }
}

/* ---- socket timeouts ------------------------------------------------------------------- */

static void test_rcvtimeo_expires(void **state)
{
    (void)state;
    const int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        int sv[2];
        make_pair(types[i], sv);
        set_timeo(sv[0], SO_RCVTIMEO, 100);
        char buf[16];
        int64_t t0 = mono_us();
        errno = 0;
        assert_int_equal(zsock_recv(sv[0], buf, sizeof(buf), 0), -1);
        assert_int_equal(errno, EAGAIN);
        assert_true(mono_us() - t0 >= 100000);
        /* Data that is there is returned without waiting for the timeout. */
        assert_int_equal(zsock_send(sv[1], "ab", 2, 0), 2);
        assert_int_equal(zsock_recv(sv[0], buf, sizeof(buf), 0), 2);
        close_pair(sv);
    }
}

static void test_sndtimeo_expires_on_full_buffer(void **state)
{
    (void)state;
    const int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        int sv[2];
        make_pair(types[i], sv);
        set_timeo(sv[0], SO_SNDTIMEO, 100);
        fill_until_eagain(sv[0], 1000);
        char buf[500] = {0};
        int64_t t0 = mono_us();
        errno = 0;
        assert_int_equal(zsock_send(sv[0], buf, sizeof(buf), 0), -1);
        assert_int_equal(errno, EAGAIN);
        assert_true(mono_us() - t0 >= 100000);
        close_pair(sv);
    }
}

/* A stream send cut short by SO_SNDTIMEO returns the count queued so far. */
static void test_sndtimeo_partial_stream_send(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    int cap = 0;
    socklen_t len = sizeof(cap);
    assert_int_equal(zsock_getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &cap, &len), 0);
    assert_true(cap > 100);
    char *big = calloc((size_t)cap + 1000, 1);
    assert_non_null(big);
    assert_int_equal(zsock_send(sv[0], big, (size_t)cap - 100, 0), cap - 100);
    set_timeo(sv[0], SO_SNDTIMEO, 100);
    int64_t t0 = mono_us();
    assert_int_equal(zsock_send(sv[0], big, 1000, 0), 100);
    assert_true(mono_us() - t0 >= 100000);
    free(big);
    close_pair(sv);
}

/* Traffic in the other direction of the same pair wakes the shared wait
 * machinery; a timed wait must neither end early nor invent a result. */
struct noise {
    pthread_t thread;
    int tx, rx;
    int stop;
    long rounds;
};

static void *noise_main(void *arg)
{
    struct noise *n = arg;
    char c = 'n';
    while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
        TCHECK(zsock_send(n->tx, &c, 1, 0) == 1);
        TCHECK(zsock_recv(n->rx, &c, 1, 0) == 1);
        n->rounds++;
    }
    return NULL;
}

static void test_timeouts_hold_under_unrelated_traffic(void **state)
{
    (void)state;
    const int types[] = {SOCK_STREAM, SOCK_DGRAM};
    for (int i = 0; i < 2; i++) {
        int sv[2];
        make_pair(types[i], sv);
        /* Noise: sv[0] -> sv[1]. Nothing ever arrives at sv[0]. */
        struct noise n = {.tx = sv[0], .rx = sv[1]};
        assert_int_equal(pthread_create(&n.thread, NULL, noise_main, &n), 0);

        set_timeo(sv[0], SO_RCVTIMEO, 100);
        char buf[16];
        int64_t t0 = mono_us();
        errno = 0;
        ssize_t rc = zsock_recv(sv[0], buf, sizeof(buf), 0);
        int err = errno;
        int64_t recv_us = mono_us() - t0;

        struct zsock_pollfd pfd = {.fd = sv[0], .events = ZSOCK_POLLIN};
        t0 = mono_us();
        int prc = zsock_poll(&pfd, 1, 100);
        int64_t poll_us = mono_us() - t0;

        __atomic_store_n(&n.stop, 1, __ATOMIC_RELEASE);
        assert_int_equal(pthread_join(n.thread, NULL), 0);
        assert_no_thread_failures();
        assert_int_equal(rc, -1);
        assert_int_equal(err, EAGAIN);
        assert_true(recv_us >= 100000);
        assert_int_equal(prc, 0);
        assert_int_equal(pfd.revents, 0);
        assert_true(poll_us >= 100000);
        assert_true(n.rounds > 0);
        close_pair(sv);
    }
}

static void test_waitall_with_rcvtimeo_returns_partial(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    set_timeo(sv[0], SO_RCVTIMEO, 100);
    assert_int_equal(zsock_send(sv[1], "0123456789", 10, 0), 10);
    char buf[100];
    int64_t t0 = mono_us();
    assert_int_equal(zsock_recv(sv[0], buf, sizeof(buf), ZSOCK_MSG_WAITALL), 10);
    assert_true(mono_us() - t0 >= 100000);
    assert_memory_equal(buf, "0123456789", 10);
    close_pair(sv);
}

/* WAITALL collects data that arrives in several pieces. */
struct piece_writer {
    int fd;
    int pieces;
};

static void *piece_writer_main(void *arg)
{
    struct piece_writer *pw = arg;
    for (int i = 0; i < pw->pieces; i++) {
        sleep_ms(10);
        char c = (char)('a' + i);
        TCHECK(zsock_send(pw->fd, &c, 1, 0) == 1);
    }
    return NULL;
}

static void test_waitall_collects_pieces(void **state)
{
    (void)state;
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    struct piece_writer pw = {.fd = sv[1], .pieces = 8};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, piece_writer_main, &pw), 0);
    char buf[8];
    assert_int_equal(zsock_recv(sv[0], buf, sizeof(buf), ZSOCK_MSG_WAITALL), 8);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_no_thread_failures();
    assert_memory_equal(buf, "abcdefgh", 8);
    close_pair(sv);
}

/* ---- hammer ------------------------------------------------------------------------------ */

#define HAMMER_OWNERS   8
#define HAMMER_CHAOS    4
#define HAMMER_MS       2000
#define HAMMER_FD_RANGE 48 /* random numbers drawn from -2..HAMMER_FD_RANGE-1 */

static int hammer_stop;

static bool errno_allowed(int e)
{
    return e == EBADF || e == EAGAIN || e == EINTR || e == EPIPE || e == ENOTSOCK;
}

static bool revents_valid(short re, short events)
{
    if (re & ZSOCK_POLLNVAL) {
        return re == ZSOCK_POLLNVAL;
    }
    return (re & ~(events | ZSOCK_POLLERR | ZSOCK_POLLHUP)) == 0;
}

static void check_recv_result(ssize_t n, size_t len)
{
    TCHECK((n >= 0 && (size_t)n <= len) || (n == -1 && errno_allowed(errno)));
}

static void check_send_result(ssize_t n, size_t len)
{
    TCHECK((n >= 0 && (size_t)n <= len) || (n == -1 && errno_allowed(errno)));
}

struct hammer_owner {
    pthread_t thread;
    int id;
    long iterations;
};

static void *hammer_owner_main(void *arg)
{
    struct hammer_owner *o = arg;
    uint64_t rng = 0x1234567ull + (uint64_t)o->id * 7919;
    int64_t end = mono_us() + HAMMER_MS * 1000;
    char out[64], in[128];
    while (mono_us() < end && !thread_failed()) {
        uint64_t r = xorshift64(&rng);
        int type = (r & 1) ? SOCK_STREAM : SOCK_DGRAM;
        if (r & 2) {
            type |= SOCK_NONBLOCK;
        }
        int sv[2];
        if (zsock_socketpair(AF_UNIX, type, 0, sv) != 0) {
            TCHECK(!"socketpair failed");
            break;
        }
        size_t n = 1 + (r >> 8) % sizeof(out);
        memset(out, o->id, n);
        check_send_result(zsock_send(sv[0], out, n, ZSOCK_MSG_DONTWAIT), n);

        struct zsock_pollfd pfd[2] = {
            {.fd = sv[1], .events = ZSOCK_POLLIN},
            {.fd = sv[0], .events = ZSOCK_POLLOUT},
        };
        int pr = zsock_poll(pfd, 2, (int)((r >> 16) % 3));
        TCHECK(pr >= 0 && pr <= 2);
        TCHECK(revents_valid(pfd[0].revents, pfd[0].events));
        TCHECK(revents_valid(pfd[1].revents, pfd[1].events));
        TCHECK(pr == (pfd[0].revents != 0) + (pfd[1].revents != 0));

        switch ((r >> 20) % 4) {
        case 0:
            check_recv_result(zsock_recv(sv[1], in, sizeof(in), ZSOCK_MSG_DONTWAIT), sizeof(in));
            break;
        case 1: {
            /* A short timeout bounds a blocking receive whoever stole the data. */
            struct zsock_timeval tv = {0, 2000};
            int rc = zsock_setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            TCHECK(rc == 0 || errno_allowed(errno));
            if (rc == 0) {
                check_recv_result(zsock_recv(sv[1], in, sizeof(in), 0), sizeof(in));
            }
            break;
        }
        case 2:
            check_recv_result(zsock_recv(sv[1], in, 4, ZSOCK_MSG_PEEK | ZSOCK_MSG_DONTWAIT), 4);
            check_recv_result(zsock_recv(sv[1], in, sizeof(in), ZSOCK_MSG_DONTWAIT), sizeof(in));
            break;
        default: {
            int rc = zsock_shutdown(sv[0], ZSOCK_SHUT_WR);
            TCHECK(rc == 0 || errno_allowed(errno));
            check_recv_result(zsock_recv(sv[1], in, sizeof(in), ZSOCK_MSG_DONTWAIT), sizeof(in));
            break;
        }
        }
        for (int i = 0; i < 2; i++) {
            int rc = zsock_close(sv[i]);
            TCHECK(rc == 0 || errno == EBADF);
        }
        o->iterations++;
    }
    return NULL;
}

struct hammer_chaos {
    pthread_t thread;
    int id;
    long calls;
    long hits; /* calls that reached an open descriptor */
    long closes;
};

static int random_fd(uint64_t *rng)
{
    uint64_t r = xorshift64(rng);
    switch (r % 64) {
    case 0:
        return INT_MAX;
    case 1:
        return ZSOCK_FD_SETSIZE;
    default:
        return (int)((r >> 8) % (HAMMER_FD_RANGE + 2)) - 2;
    }
}

static void *hammer_chaos_main(void *arg)
{
    struct hammer_chaos *c = arg;
    uint64_t rng = 0xabcdef12345ull + (uint64_t)c->id * 104729;
    char buf[256];
    while (!__atomic_load_n(&hammer_stop, __ATOMIC_ACQUIRE)) {
        uint64_t r = xorshift64(&rng);
        int fd = random_fd(&rng);
        unsigned op = (unsigned)(r % 100);
        if (op < 39) {
            ssize_t n = zsock_recv(fd, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT);
            check_recv_result(n, sizeof(buf));
            c->hits += n >= 0 || errno != EBADF;
        } else if (op < 40) {
            /* May sleep until the owner closes the descriptor. */
            check_recv_result(zsock_recv(fd, buf, 1 + (r >> 8) % sizeof(buf), 0), sizeof(buf));
        } else if (op < 75) {
            struct zsock_pollfd pfd[4];
            int n = 1 + (int)((r >> 8) % 4);
            for (int i = 0; i < n; i++) {
                pfd[i].fd = i == 0 ? fd : random_fd(&rng);
                pfd[i].events = (short)((r >> (12 + 2 * i)) & 1 ? ZSOCK_POLLIN : ZSOCK_POLLOUT);
                pfd[i].revents = 0;
            }
            int pr = zsock_poll(pfd, n, (r >> 24) % 32 == 0 ? 1 : 0);
            TCHECK(pr >= 0 && pr <= n);
            int ready = 0;
            for (int i = 0; i < n; i++) {
                TCHECK(revents_valid(pfd[i].revents, pfd[i].events));
                TCHECK(pfd[i].fd >= 0 || pfd[i].revents == 0);
                ready += pfd[i].revents != 0;
            }
            TCHECK(pr == ready);
        } else if (op < 85) {
            memset(buf, 0xee, 16);
            check_send_result(zsock_send(fd, buf, 16, ZSOCK_MSG_DONTWAIT), 16);
        } else if (op < 88) {
            int rc = zsock_close(fd);
            TCHECK(rc == 0 || errno == EBADF);
            c->closes += rc == 0;
        } else if (op < 94) {
            int rc = zsock_fcntl(fd, F_GETFL);
            TCHECK(rc >= 0 || errno == EBADF);
        } else {
            int v;
            socklen_t len = sizeof(v);
            int rc = zsock_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len);
            TCHECK((rc == 0 && (v == SOCK_STREAM || v == SOCK_DGRAM)) || errno == EBADF);
        }
        c->calls++;
    }
    return NULL;
}

static void test_hammer(void **state)
{
    (void)state;
    int start_open = z_fd_count_open();
    int start_fcntl = count_open_by_fcntl();
    assert_int_equal(start_open, start_fcntl);

    static struct hammer_owner owners[HAMMER_OWNERS];
    static struct hammer_chaos chaos[HAMMER_CHAOS];
    __atomic_store_n(&hammer_stop, 0, __ATOMIC_RELEASE);
    for (int i = 0; i < HAMMER_CHAOS; i++) {
        chaos[i] = (struct hammer_chaos){.id = i};
        assert_int_equal(pthread_create(&chaos[i].thread, NULL, hammer_chaos_main, &chaos[i]), 0);
    }
    for (int i = 0; i < HAMMER_OWNERS; i++) {
        owners[i] = (struct hammer_owner){.id = i};
        assert_int_equal(pthread_create(&owners[i].thread, NULL, hammer_owner_main, &owners[i]), 0);
    }
    long total = 0;
    for (int i = 0; i < HAMMER_OWNERS; i++) {
        assert_int_equal(pthread_join(owners[i].thread, NULL), 0);
        total += owners[i].iterations;
    }
    /* Every owner's descriptor has been closed by now, so a chaos thread
     * asleep in recv() has been woken (or will get EBADF). */
    __atomic_store_n(&hammer_stop, 1, __ATOMIC_RELEASE);
    long calls = 0, hits = 0, closes = 0;
    for (int i = 0; i < HAMMER_CHAOS; i++) {
        assert_int_equal(pthread_join(chaos[i].thread, NULL), 0);
        calls += chaos[i].calls;
        hits += chaos[i].hits;
        closes += chaos[i].closes;
    }
    assert_no_thread_failures();
    print_message("hammer: %ld socketpair iterations; %ld random calls, %ld recv on open fds, "
                  "%ld foreign closes\n",
                  total, calls, hits, closes);
    for (int i = 0; i < HAMMER_OWNERS; i++) {
        assert_true(owners[i].iterations > 0);
    }
    assert_int_equal(z_fd_count_open(), start_open);
    assert_int_equal(count_open_by_fcntl(), start_fcntl);

    /* The table still works: lowest numbers first. */
    int sv[2];
    make_pair(SOCK_STREAM, sv);
    assert_int_equal(zsock_send(sv[0], "ok", 2, 0), 2);
    char buf[2];
    assert_int_equal(zsock_recv(sv[1], buf, 2, 0), 2);
    close_pair(sv);
}

/* ---- stream integrity ---------------------------------------------------------------------- */

#define STREAM_TOTAL     (64u * 1024 * 1024)
#define STREAM_MAX_CHUNK (160 * 1024)
/* The stream is a pseudo-random sequence with a period of about 1 MiB (a
 * prime, unrelated to any buffer size, so a misplaced chunk shows). The
 * table repeats its start so that any chunk is one contiguous slice: the
 * writer sends straight from it and the reader compares with memcmp. */
#define PAT_PERIOD 1048573u

static uint8_t pat_table[PAT_PERIOD + STREAM_MAX_CHUNK];

static void pattern_init(void)
{
    uint64_t s = 0x5eed5eed5eedull;
    for (size_t i = 0; i < PAT_PERIOD; i++) {
        pat_table[i] = (uint8_t)(xorshift64(&s) >> 32);
    }
    memcpy(pat_table + PAT_PERIOD, pat_table, STREAM_MAX_CHUNK);
}

/* The stream's bytes from offset `off` on (at most STREAM_MAX_CHUNK of them). */
static const uint8_t *pattern_at(uint64_t off)
{
    return &pat_table[off % PAT_PERIOD];
}

/* Index of the first byte of buf that differs from the stream at off, or n. */
static size_t pattern_check(const uint8_t *buf, uint64_t off, size_t n)
{
    const uint8_t *want = pattern_at(off);
    if (memcmp(buf, want, n) == 0) {
        return n;
    }
    size_t i = 0;
    while (buf[i] == want[i]) {
        i++;
    }
    return i;
}

static size_t random_chunk(uint64_t *rng)
{
    uint64_t r = xorshift64(rng);
    switch (r % 4) {
    case 0:
        return 1 + (size_t)((r >> 8) % 16);
    case 1:
        return 1 + (size_t)((r >> 8) % 4096);
    default:
        return 1 + (size_t)((r >> 8) % STREAM_MAX_CHUNK);
    }
}

struct stream_side {
    pthread_t thread;
    int fd;
    bool nonblock;
    uint64_t seed;
    uint64_t bytes;
    long peeks;
};

/* Wait for `events` on fd; false (after recording why) on a failure. */
static bool wait_ready(int fd, short events)
{
    struct zsock_pollfd pfd = {.fd = fd, .events = events};
    int rc = zsock_poll(&pfd, 1, -1);
    if (rc != 1 || (pfd.revents & (ZSOCK_POLLNVAL | ZSOCK_POLLERR))) {
        thread_fail(__LINE__, "poll rc %d revents 0x%x errno %d", rc, pfd.revents, errno);
        return false;
    }
    return true;
}

static void *stream_writer_main(void *arg)
{
    struct stream_side *w = arg;
    uint64_t rng = w->seed;
    uint64_t off = 0;
    while (off < STREAM_TOTAL && !thread_failed()) {
        size_t n = random_chunk(&rng);
        if (n > STREAM_TOTAL - off) {
            n = (size_t)(STREAM_TOTAL - off);
        }
        uint8_t *buf = (uint8_t *)pattern_at(off); /* only read by send */
        size_t done = 0;
        while (done < n) {
            ssize_t s;
            if (xorshift64(&rng) % 8 == 0) {
                /* Gathered from three pieces. */
                size_t left = n - done;
                size_t a = left / 3, b = left / 3;
                struct iovec iov[3] = {
                    {buf + done, a},
                    {buf + done + a, b},
                    {buf + done + a + b, left - a - b},
                };
                struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
                s = zsock_sendmsg(w->fd, &msg, 0);
            } else {
                s = zsock_send(w->fd, buf + done, n - done, 0);
            }
            if (s < 0) {
                if (w->nonblock && errno == EAGAIN) {
                    if (!wait_ready(w->fd, ZSOCK_POLLOUT)) {
                        break;
                    }
                    continue;
                }
                thread_fail(__LINE__, "send: errno %d at offset %llu", errno,
                            (unsigned long long)(off + done));
                break;
            }
            if (!w->nonblock && (size_t)s != n - done) {
                thread_fail(__LINE__, "blocking send returned %zd of %zu", s, n - done);
                break;
            }
            TCHECK(s > 0 || n - done == 0);
            done += (size_t)s;
        }
        off += done;
        if (done < n) {
            break;
        }
    }
    w->bytes = off;
    TCHECK(zsock_close(w->fd) == 0);
    return NULL;
}

static void *stream_reader_main(void *arg)
{
    struct stream_side *rd = arg;
    uint64_t rng = rd->seed;
    uint8_t *buf = malloc(STREAM_MAX_CHUNK);
    TCHECK(buf != NULL);
    uint64_t off = 0;
    while (buf != NULL && !thread_failed()) {
        size_t want = random_chunk(&rng);
        uint64_t r = xorshift64(&rng);
        bool peek = r % 8 == 0;
        ssize_t n;
        if (r % 8 == 1) {
            /* Scattered into three pieces. */
            size_t a = want / 3, b = want / 3;
            struct iovec iov[3] = {{buf, a}, {buf + a, b}, {buf + a + b, want - a - b}};
            struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
            n = zsock_recvmsg(rd->fd, &msg, 0);
        } else {
            n = zsock_recv(rd->fd, buf, want, peek ? ZSOCK_MSG_PEEK : 0);
        }
        if (n < 0) {
            if (rd->nonblock && errno == EAGAIN) {
                if (!wait_ready(rd->fd, ZSOCK_POLLIN)) {
                    break;
                }
                continue;
            }
            thread_fail(__LINE__, "recv: errno %d at offset %llu", errno, (unsigned long long)off);
            break;
        }
        if (n == 0) {
            break; /* end of stream */
        }
        if ((size_t)n > want) {
            thread_fail(__LINE__, "recv returned %zd for %zu", n, want);
            break;
        }
        size_t bad = pattern_check(buf, off, (size_t)n);
        if (bad != (size_t)n) {
            thread_fail(__LINE__, "%s: wrong byte at offset %llu", peek ? "peek" : "recv",
                        (unsigned long long)(off + bad));
            break;
        }
        if (peek) {
            rd->peeks++;
        } else {
            off += (size_t)n;
        }
    }
    rd->bytes = off;
    free(buf);
    return NULL;
}

static void stream_integrity(bool nonblock)
{
    pattern_init();
    /* The checker sees a wrong byte. */
    uint8_t probe[100];
    memcpy(probe, pattern_at(12345), sizeof(probe));
    assert_int_equal(pattern_check(probe, 12345, sizeof(probe)), sizeof(probe));
    probe[37] ^= 1;
    assert_int_equal(pattern_check(probe, 12345, sizeof(probe)), 37);
    assert_int_not_equal(pattern_check(pattern_at(12346), 12345, sizeof(probe)), sizeof(probe));

    int sv[2];
    make_pair(SOCK_STREAM, sv);
    if (nonblock) {
        assert_int_equal(zsock_fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
        assert_int_equal(zsock_fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    }
    struct stream_side w = {.fd = sv[0], .nonblock = nonblock, .seed = 0x1111};
    struct stream_side r = {.fd = sv[1], .nonblock = nonblock, .seed = 0x2222};
    assert_int_equal(pthread_create(&r.thread, NULL, stream_reader_main, &r), 0);
    assert_int_equal(pthread_create(&w.thread, NULL, stream_writer_main, &w), 0);
    assert_int_equal(pthread_join(w.thread, NULL), 0);
    assert_int_equal(pthread_join(r.thread, NULL), 0);
    assert_no_thread_failures();
    assert_int_equal(w.bytes, STREAM_TOTAL);
    assert_int_equal(r.bytes, STREAM_TOTAL);
    assert_true(r.peeks > 0);
    assert_int_equal(zsock_close(sv[1]), 0);
}

static void test_stream_integrity_blocking(void **state)
{
    (void)state;
    stream_integrity(false);
}

static void test_stream_integrity_nonblocking_poll(void **state)
{
    (void)state;
    stream_integrity(true);
}

/* ---- datagram integrity -----------------------------------------------------------------------
 */

#define DGRAM_COUNT 100000u
#define DGRAM_MAX   1000u

static size_t dgram_size(uint32_t seq)
{
    return (size_t)(mix64(seq) % (DGRAM_MAX + 1));
}

/* Datagram `seq`: its sequence number (little endian) in the first four
 * bytes when it is that long, then bytes derived from seq and position. */
static void dgram_fill(uint8_t *dst, uint32_t seq, size_t n)
{
    uint64_t h = mix64((uint64_t)seq << 20);
    for (size_t i = 0; i < n; i++) {
        dst[i] = (uint8_t)((h >> ((i % 8) * 8)) + i);
    }
    if (n >= 4) {
        for (int i = 0; i < 4; i++) {
            dst[i] = (uint8_t)(seq >> (8 * i));
        }
    }
}

struct dgram_side {
    pthread_t thread;
    int fd;
    bool nonblock;
    uint32_t count;
    uint64_t trunc_flags;
};

static void *dgram_writer_main(void *arg)
{
    struct dgram_side *w = arg;
    uint8_t buf[DGRAM_MAX];
    uint32_t seq = 0;
    while (seq < DGRAM_COUNT && !thread_failed()) {
        size_t n = dgram_size(seq);
        dgram_fill(buf, seq, n);
        ssize_t s = zsock_send(w->fd, buf, n, 0);
        if (s < 0 && w->nonblock && errno == EAGAIN) {
            if (!wait_ready(w->fd, ZSOCK_POLLOUT)) {
                break;
            }
            continue;
        }
        if (s != (ssize_t)n) {
            thread_fail(__LINE__, "send of datagram %u (%zu bytes) returned %zd errno %d", seq, n,
                        s, errno);
            break;
        }
        seq++;
    }
    w->count = seq;
    TCHECK(zsock_close(w->fd) == 0);
    return NULL;
}

static void *dgram_reader_main(void *arg)
{
    struct dgram_side *rd = arg;
    uint8_t buf[2 * DGRAM_MAX + 16], expect[DGRAM_MAX];
    uint32_t seq = 0;
    while (seq < DGRAM_COUNT && !thread_failed()) {
        ssize_t n;
        int mflags = 0;
        if (seq % 7 == 0) {
            struct iovec iov[2] = {{buf, 3}, {buf + 3, sizeof(buf) - 3}};
            struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
            n = zsock_recvmsg(rd->fd, &msg, 0);
            mflags = msg.msg_flags;
        } else {
            n = zsock_recv(rd->fd, buf, sizeof(buf), 0);
        }
        if (n < 0 && rd->nonblock && errno == EAGAIN) {
            if (!wait_ready(rd->fd, ZSOCK_POLLIN)) {
                break;
            }
            continue;
        }
        size_t want = dgram_size(seq);
        if (n != (ssize_t)want) {
            uint32_t got_seq = n >= 4 ? (uint32_t)buf[0] | (uint32_t)buf[1] << 8 |
                                            (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24
                                      : UINT32_MAX;
            thread_fail(__LINE__,
                        "datagram %u: expected %zu bytes, got %zd (errno %d, seq field %u)", seq,
                        want, n, errno, got_seq);
            break;
        }
        if (mflags & ZSOCK_MSG_TRUNC) {
            rd->trunc_flags++;
        }
        dgram_fill(expect, seq, want);
        if (memcmp(buf, expect, want) != 0) {
            thread_fail(__LINE__, "datagram %u: wrong content", seq);
            break;
        }
        seq++;
    }
    rd->count = seq;
    /* Nothing more: end of stream once the writer has closed. */
    if (seq == DGRAM_COUNT) {
        for (;;) {
            ssize_t n = zsock_recv(rd->fd, buf, sizeof(buf), 0);
            if (n < 0 && rd->nonblock && errno == EAGAIN) {
                if (!wait_ready(rd->fd, ZSOCK_POLLIN)) {
                    break;
                }
                continue;
            }
            TCHECK(n == 0);
            break;
        }
    }
    return NULL;
}

static void dgram_integrity(bool nonblock)
{
    int sv[2];
    make_pair(SOCK_DGRAM | (nonblock ? SOCK_NONBLOCK : 0), sv);
    struct dgram_side w = {.fd = sv[0], .nonblock = nonblock};
    struct dgram_side r = {.fd = sv[1], .nonblock = nonblock};
    assert_int_equal(pthread_create(&r.thread, NULL, dgram_reader_main, &r), 0);
    assert_int_equal(pthread_create(&w.thread, NULL, dgram_writer_main, &w), 0);
    assert_int_equal(pthread_join(w.thread, NULL), 0);
    assert_int_equal(pthread_join(r.thread, NULL), 0);
    assert_no_thread_failures();
    assert_int_equal(w.count, DGRAM_COUNT);
    assert_int_equal(r.count, DGRAM_COUNT);
    assert_int_equal(r.trunc_flags, 0);
    assert_int_equal(zsock_close(sv[1]), 0);
}

static void test_dgram_integrity_blocking(void **state)
{
    (void)state;
    dgram_integrity(false);
}

static void test_dgram_integrity_nonblocking_poll(void **state)
{
    (void)state;
    dgram_integrity(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, fd_leak_setup, fd_leak_teardown)
        T(test_close_wakes_recv_stream),
        T(test_close_wakes_send_stream_full),
        T(test_close_wakes_recv_dgram),
        T(test_close_wakes_send_dgram_full),
        T(test_close_wakes_poll),
        T(test_close_wakes_select),
        T(test_close_wakes_every_waiter),
        T(test_closed_number_not_reused_while_referenced),
        T(test_peer_close_wakes_recv),
        T(test_own_shut_rd_wakes_recv),
        T(test_peer_shut_wr_wakes_recv),
        T(test_peer_close_wakes_send),
        T(test_rcvtimeo_expires),
        T(test_sndtimeo_expires_on_full_buffer),
        T(test_sndtimeo_partial_stream_send),
        T(test_timeouts_hold_under_unrelated_traffic),
        T(test_waitall_with_rcvtimeo_returns_partial),
        T(test_waitall_collects_pieces),
        T(test_hammer),
        T(test_stream_integrity_blocking),
        T(test_stream_integrity_nonblocking_poll),
        T(test_dgram_integrity_blocking),
        T(test_dgram_integrity_nonblocking_poll),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
