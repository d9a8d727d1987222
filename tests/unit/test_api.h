/* One table of socket calls per implementation, zsock and Linux kernel
 * sockets, so one test body checks zsock against Linux; with the fixture that
 * fails a test leaving descriptors of either kind open and the macros that
 * register each test once per implementation. Used by test_udp and
 * test_sock6. Include after <cmocka.h> and "unit/test_util.h". */
#ifndef ZSOCK_TEST_API_H_
#define ZSOCK_TEST_API_H_

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zsock/config.h>
#include <zsock/net_if.h>
#include <zsock/socket.h>

_Static_assert(ZSOCK_MSG_PEEK == MSG_PEEK && ZSOCK_MSG_TRUNC == MSG_TRUNC &&
                   ZSOCK_MSG_DONTWAIT == MSG_DONTWAIT && ZSOCK_MSG_CTRUNC == MSG_CTRUNC,
               "zsock flags are the C library's, so one test body serves both");
_Static_assert(ZSOCK_POLLIN == POLLIN && ZSOCK_POLLOUT == POLLOUT && ZSOCK_POLLERR == POLLERR &&
                   ZSOCK_POLLHUP == POLLHUP,
               "zsock poll bits are the C library's");

#define SA(x)     ((struct sockaddr *)&(x))
#define CSA(x)    ((const struct sockaddr *)&(x))
#define LOCALHOST 0x7f000001u
#define WAIT_MS   10000 /* give up waiting for something that must arrive */

/* ---- one table of calls per implementation ------------------------------------------- */

struct api {
    const char *name;
    bool zsock;
    int eph_min, eph_max; /* ephemeral port range */
    int v6only_default;   /* IPV6_V6ONLY of a new socket */
    int (*socket)(int, int, int);
    int (*bind)(int, const struct sockaddr *, socklen_t);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*listen)(int, int);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    int (*getsockname)(int, struct sockaddr *, socklen_t *);
    int (*getpeername)(int, struct sockaddr *, socklen_t *);
    int (*setsockopt)(int, int, int, const void *, socklen_t);
    int (*getsockopt)(int, int, int, void *, socklen_t *);
    int (*fionread)(int, int *);
    int (*getfl)(int);
    int (*setfl)(int, int);
    int (*poll)(struct pollfd *, int, int);
    int (*shutdown)(int, int);
    int (*close)(int);
    int (*lo_index)(void);
};

static int zs_fionread(int fd, int *n)
{
    return zsock_ioctl(fd, FIONREAD, n);
}
static int zs_getfl(int fd)
{
    return zsock_fcntl(fd, F_GETFL);
}
static int zs_setfl(int fd, int fl)
{
    return zsock_fcntl(fd, F_SETFL, fl);
}
static int zs_poll(struct pollfd *p, int n, int t)
{
    return zsock_poll(p, n, t);
}
static int zs_lo_index(void)
{
    return zsock_if_nametoindex("lo");
}

/* The C library declares some of these with transparent unions under
 * _GNU_SOURCE, so Linux gets thin wrappers of the plain types. Sends on a
 * shut-down stream fail with EPIPE instead of raising SIGPIPE. */
static int lx_socket(int d, int t, int p)
{
    return socket(d, t, p);
}
static int lx_bind(int fd, const struct sockaddr *a, socklen_t l)
{
    return bind(fd, a, l);
}
static int lx_connect(int fd, const struct sockaddr *a, socklen_t l)
{
    return connect(fd, a, l);
}
static int lx_listen(int fd, int b)
{
    return listen(fd, b);
}
static int lx_accept(int fd, struct sockaddr *a, socklen_t *l)
{
    return accept(fd, a, l);
}
static ssize_t lx_sendto(int fd, const void *b, size_t n, int f, const struct sockaddr *a,
                         socklen_t l)
{
    return sendto(fd, b, n, f | MSG_NOSIGNAL, a, l);
}
static ssize_t lx_recvfrom(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *l)
{
    return recvfrom(fd, b, n, f, a, l);
}
static ssize_t lx_sendmsg(int fd, const struct msghdr *m, int f)
{
    return sendmsg(fd, m, f | MSG_NOSIGNAL);
}
static ssize_t lx_recvmsg(int fd, struct msghdr *m, int f)
{
    return recvmsg(fd, m, f);
}
static int lx_getsockname(int fd, struct sockaddr *a, socklen_t *l)
{
    return getsockname(fd, a, l);
}
static int lx_getpeername(int fd, struct sockaddr *a, socklen_t *l)
{
    return getpeername(fd, a, l);
}
static int lx_setsockopt(int fd, int lv, int o, const void *v, socklen_t l)
{
    return setsockopt(fd, lv, o, v, l);
}
static int lx_getsockopt(int fd, int lv, int o, void *v, socklen_t *l)
{
    return getsockopt(fd, lv, o, v, l);
}
static int lx_fionread(int fd, int *n)
{
    return ioctl(fd, FIONREAD, n);
}
static int lx_getfl(int fd)
{
    return fcntl(fd, F_GETFL);
}
static int lx_setfl(int fd, int fl)
{
    return fcntl(fd, F_SETFL, fl);
}
static int lx_poll(struct pollfd *p, int n, int t)
{
    return poll(p, (nfds_t)n, t);
}
static int lx_shutdown(int fd, int how)
{
    return shutdown(fd, how);
}
static int lx_close(int fd)
{
    return close(fd);
}
static int lx_lo_index(void)
{
    return (int)if_nametoindex("lo");
}

static struct api zsock_api = {
    .name = "zsock",
    .zsock = true,
    .eph_min = CONFIG_NET_EPHEMERAL_PORT_MIN,
    .eph_max = CONFIG_NET_EPHEMERAL_PORT_MAX,
    .v6only_default = 1, /* Zephyr's */
    .socket = zsock_socket,
    .bind = zsock_bind,
    .connect = zsock_connect,
    .listen = zsock_listen,
    .accept = zsock_accept,
    .sendto = zsock_sendto,
    .recvfrom = zsock_recvfrom,
    .sendmsg = zsock_sendmsg,
    .recvmsg = zsock_recvmsg,
    .getsockname = zsock_getsockname,
    .getpeername = zsock_getpeername,
    .setsockopt = zsock_setsockopt,
    .getsockopt = zsock_getsockopt,
    .fionread = zs_fionread,
    .getfl = zs_getfl,
    .setfl = zs_setfl,
    .poll = zs_poll,
    .shutdown = zsock_shutdown,
    .close = zsock_close,
    .lo_index = zs_lo_index,
};

static struct api linux_api = {
    .name = "linux",
    .zsock = false,
    .eph_min = 32768, /* read from /proc by read_linux_port_range() */
    .eph_max = 60999,
    .v6only_default = 0, /* net.ipv6.bindv6only, read by test_sock6 */
    .socket = lx_socket,
    .bind = lx_bind,
    .connect = lx_connect,
    .listen = lx_listen,
    .accept = lx_accept,
    .sendto = lx_sendto,
    .recvfrom = lx_recvfrom,
    .sendmsg = lx_sendmsg,
    .recvmsg = lx_recvmsg,
    .getsockname = lx_getsockname,
    .getpeername = lx_getpeername,
    .setsockopt = lx_setsockopt,
    .getsockopt = lx_getsockopt,
    .fionread = lx_fionread,
    .getfl = lx_getfl,
    .setfl = lx_setfl,
    .poll = lx_poll,
    .shutdown = lx_shutdown,
    .close = lx_close,
    .lo_index = lx_lo_index,
};

static inline void read_linux_port_range(void)
{
    FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
    if (f != NULL) {
        int lo, hi;
        if (fscanf(f, "%d %d", &lo, &hi) == 2) {
            linux_api.eph_min = lo;
            linux_api.eph_max = hi;
        }
        fclose(f);
    }
}

/* ---- calls through the table, asserted ----------------------------------------------- */

/* An int option's value (it must be int-sized). */
static int get_int(const struct api *A, int fd, int level, int opt)
{
    int v = -12345;
    socklen_t l = sizeof(v);
    assert_int_equal(A->getsockopt(fd, level, opt, &v, &l), 0);
    assert_int_equal(l, sizeof(v));
    return v;
}

static void set_int(const struct api *A, int fd, int level, int opt, int v)
{
    assert_int_equal(A->setsockopt(fd, level, opt, &v, sizeof(v)), 0);
}

/* The events of fd after waiting up to ms for one of `events` (0: none). */
static short poll_one(const struct api *A, int fd, short events, int ms)
{
    struct pollfd p = {.fd = fd, .events = events};
    int n = A->poll(&p, 1, ms);
    assert_true(n >= 0);
    return n == 0 ? 0 : p.revents;
}

/* Nothing is queued on fd. */
static inline void expect_nothing(const struct api *A, int fd)
{
    char c;
    expect_errno(A->recvfrom(fd, &c, 1, MSG_DONTWAIT, NULL, NULL), EAGAIN);
}

/* ---- fixture: no descriptor of either kind leaks ------------------------------------- */

/* Which Linux descriptors were open when the test started; the teardown
 * closes the ones a failed test left behind and fails on any leak. */
static bool linux_open_before[4096];

static void scan_linux_fds(bool *open_now)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL) {
        return;
    }
    int self = dirfd(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != self && fd >= 0 && fd < 4096) {
            open_now[fd] = true;
        }
    }
    closedir(d);
}

static int setup(void **state)
{
    memset(linux_open_before, 0, sizeof(linux_open_before));
    scan_linux_fds(linux_open_before);
    return fd_leak_setup(state);
}

static int teardown(void **state)
{
    static bool open_now[4096];
    memset(open_now, 0, sizeof(open_now));
    scan_linux_fds(open_now);
    int leaked = 0;
    for (int fd = 0; fd < 4096; fd++) {
        if (open_now[fd] && !linux_open_before[fd]) {
            close(fd);
            leaked++;
        }
    }
    fd_leak_teardown(state);
    assert_int_equal(leaked, 0);
    return 0;
}

/* Each test runs once per implementation, named test/zsock and test/linux. */
/* clang-format off */
#define ONE(f, impl) {#f "/" #impl, f, setup, teardown, &impl##_api}
#define BOTH(f)      ONE(f, zsock), ONE(f, linux)
#define ZS(f)        {#f, f, setup, teardown, NULL}
/* clang-format on */

#endif /* ZSOCK_TEST_API_H_ */
