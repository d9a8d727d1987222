/* The descriptor table and the socket family registry: lowest-free
 * allocation, EMFILE, EBADF/ENOTSOCK/EOPNOTSUPP from every call, reference
 * counting across close(), family priorities and the errno socket() picks,
 * and a non-socket object type registered in the same table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/socket.h>

#include "unit/test_util.h"

#include "sockets/fdtable.h"

/* ---- a minimal object type: a counter that is not a socket --------------- */

struct counter {
    int value;
    int closes;
    int *released; /* set to 1 on release */
};

static void counter_close(void *obj)
{
    ((struct counter *)obj)->closes++;
}

static void counter_release(void *obj)
{
    struct counter *c = obj;
    *c->released = 1;
    free(c);
}

static short counter_poll(void *obj, struct z_wait_entry *we)
{
    (void)we;
    return ((struct counter *)obj)->value > 0 ? ZSOCK_POLLIN : 0;
}

static int counter_ioctl(void *obj, unsigned long req, int *arg)
{
    struct counter *c = obj;
    if (req == FIONREAD) {
        *arg = c->value;
        return 0;
    }
    if (req == Z_IOCTL_GETFL) {
        *arg = O_RDWR;
        return 0;
    }
    return -ENOTTY;
}

static const struct z_fd_ops counter_ops = {
    .close = counter_close,
    .release = counter_release,
    .poll = counter_poll,
    .ioctl = counter_ioctl,
};

#define KIND_COUNTER 7

static int counter_open(int value, int *released)
{
    int fd = z_fd_reserve();
    if (fd < 0) {
        return fd;
    }
    struct counter *c = calloc(1, sizeof(*c));
    c->value = value;
    c->released = released;
    z_fd_finalize(fd, c, &counter_ops, (enum z_fd_kind)KIND_COUNTER);
    return fd;
}

static void test_other_object_types(void **state)
{
    (void)state;
    int released = 0;
    int fd = counter_open(42, &released);
    assert_true(fd >= 0);
    /* fcntl/ioctl/poll reach any object; socket calls say ENOTSOCK. */
    int v = 0;
    assert_int_equal(zsock_ioctl(fd, FIONREAD, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(zsock_fcntl(fd, F_GETFL), O_RDWR);
    struct zsock_pollfd p = {.fd = fd, .events = ZSOCK_POLLIN};
    assert_int_equal(zsock_poll(&p, 1, 0), 1);
    assert_int_equal(p.revents, ZSOCK_POLLIN);
    char c;
    expect_errno(zsock_recv(fd, &c, 1, 0), ENOTSOCK);
    expect_errno(zsock_send(fd, &c, 1, 0), ENOTSOCK);
    expect_errno(zsock_listen(fd, 1), ENOTSOCK);
    expect_errno(zsock_shutdown(fd, ZSOCK_SHUT_RD), ENOTSOCK);
    assert_ptr_not_equal(zsock_get_context_object(fd), NULL);

    /* A reference held across close() delays the release. */
    const struct z_fd_ops *ops;
    int err;
    struct counter *obj = z_fd_get(fd, Z_FD_KIND_ANY, &ops, &err);
    assert_non_null(obj);
    assert_int_equal(zsock_close(fd), 0);
    assert_int_equal(obj->closes, 1);
    assert_int_equal(released, 0);
    expect_errno(zsock_ioctl(fd, FIONREAD, &v), EBADF);
    assert_null(zsock_get_context_object(fd));
    z_fd_put(fd);
    assert_int_equal(released, 1);
}

static void test_ebadf_everywhere(void **state)
{
    (void)state;
    int bad[] = {-1, -100, CONFIG_ZVFS_OPEN_MAX, CONFIG_ZVFS_OPEN_MAX + 5, 12345};
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    char c = 0;
    int v = 0;
    struct iovec iov = {&c, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int fd = bad[i];
        expect_errno(zsock_close(fd), EBADF);
        expect_errno(zsock_shutdown(fd, ZSOCK_SHUT_RDWR), EBADF);
        expect_errno(zsock_shutdown(fd, 77), EBADF);
        expect_errno(zsock_bind(fd, (struct sockaddr *)&sin, len), EBADF);
        expect_errno(zsock_connect(fd, (struct sockaddr *)&sin, len), EBADF);
        expect_errno(zsock_listen(fd, 1), EBADF);
        expect_errno(zsock_accept(fd, NULL, NULL), EBADF);
        expect_errno(zsock_send(fd, &c, 1, 0), EBADF);
        expect_errno(zsock_sendto(fd, &c, 1, 0, (struct sockaddr *)&sin, len), EBADF);
        expect_errno(zsock_sendmsg(fd, &m, 0), EBADF);
        expect_errno(zsock_recv(fd, &c, 1, 0), EBADF);
        expect_errno(zsock_recvfrom(fd, &c, 1, 0, (struct sockaddr *)&sin, &len), EBADF);
        expect_errno(zsock_recvmsg(fd, &m, 0), EBADF);
        expect_errno(zsock_getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), EBADF);
        expect_errno(zsock_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), EBADF);
        expect_errno(zsock_getsockname(fd, (struct sockaddr *)&sin, &len), EBADF);
        expect_errno(zsock_getpeername(fd, (struct sockaddr *)&sin, &len), EBADF);
        expect_errno(zsock_fcntl(fd, F_GETFL), EBADF);
        expect_errno(zsock_fcntl(fd, F_SETFL, O_NONBLOCK), EBADF);
        expect_errno(zsock_fcntl(fd, 9999), EBADF);
        expect_errno(zsock_ioctl(fd, FIONREAD, &v), EBADF);
        expect_errno(zsock_ioctl(fd, FIONBIO, &v), EBADF);
        expect_errno(zsock_ioctl(fd, FIONREAD, NULL), EBADF);
        assert_null(zsock_get_context_object(fd));
    }
}

static void test_table_full_emfile(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int open_before = z_fd_count_open();
    static int reserved[CONFIG_ZVFS_OPEN_MAX];
    int n = 0;
    for (;;) {
        int fd = z_fd_reserve();
        if (fd < 0) {
            assert_int_equal(fd, -EMFILE);
            break;
        }
        reserved[n++] = fd;
    }
    assert_int_equal(n + open_before, CONFIG_ZVFS_OPEN_MAX);
    int v[2];
    expect_errno(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, v), EMFILE);
    /* One free slot is not enough for a pair, and nothing leaks. */
    z_fd_unreserve(reserved[--n]);
    expect_errno(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, v), EMFILE);
    z_fd_unreserve(reserved[--n]);
    /* The pair still works while the table is full. */
    assert_int_equal(zsock_send(sv[0], "x", 1, 0), 1);
    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, v), 0);
    while (n > 0) {
        z_fd_unreserve(reserved[--n]);
    }
    zsock_close(v[0]);
    zsock_close(v[1]);
    zsock_close(sv[0]);
    zsock_close(sv[1]);
    assert_int_equal(z_fd_count_open(), open_before - 2);
}

/* ---- family registry -------------------------------------------------------- */

static int created_by; /* which fake family's create() ran */

static int fake_supports_dgram_udp(int family, int type, int proto)
{
    if (family != AF_CAN) {
        return -EAFNOSUPPORT;
    }
    if (type != SOCK_DGRAM) {
        return -EPROTOTYPE;
    }
    if (proto != 0 && proto != IPPROTO_UDP) {
        return -EPROTONOSUPPORT;
    }
    return 0;
}

/* Records which handler ran and fails with a distinctive errno, so the test
 * sees that creation was reached without keeping an object. */
static int fake_create(int which, bool nonblock)
{
    created_by = which;
    (void)nonblock;
    return -ENOBUFS;
}

static int fake_create_low(int family, int type, int proto, bool nonblock)
{
    (void)family, (void)type, (void)proto;
    return fake_create(1, nonblock);
}

static int fake_create_high(int family, int type, int proto, bool nonblock)
{
    (void)family, (void)type, (void)proto;
    return fake_create(2, nonblock);
}

static struct z_socket_family fake_high = {
    .name = "fake-high",
    .priority = 60,
    .supports = fake_supports_dgram_udp,
    .create = fake_create_high,
};

static struct z_socket_family fake_low = {
    .name = "fake-low",
    .priority = 40,
    .supports = fake_supports_dgram_udp,
    .create = fake_create_low,
};

static void test_registry(void **state)
{
    (void)state;
    /* Nothing is registered for AF_CAN. */
    expect_errno(zsock_socket(AF_CAN, SOCK_DGRAM, 0), EAFNOSUPPORT);
    z_socket_family_register(&fake_high);
    created_by = 0;
    expect_errno(zsock_socket(AF_CAN, SOCK_DGRAM, 0), ENOBUFS);
    assert_int_equal(created_by, 2);
    /* A lower priority number is asked first. */
    z_socket_family_register(&fake_low);
    z_socket_family_register(&fake_low); /* twice is harmless */
    created_by = 0;
    expect_errno(zsock_socket(AF_CAN, SOCK_DGRAM | SOCK_NONBLOCK, IPPROTO_UDP), ENOBUFS);
    assert_int_equal(created_by, 1);
    /* The most specific error wins. */
    created_by = 0;
    expect_errno(zsock_socket(AF_CAN, SOCK_STREAM, 0), EPROTOTYPE);
    expect_errno(zsock_socket(AF_CAN, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
    expect_errno(zsock_socket(AF_APPLETALK, SOCK_DGRAM, 0), EAFNOSUPPORT);
    expect_errno(zsock_socket(AF_CAN, 0, 0), EINVAL);
    assert_int_equal(created_by, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_other_object_types),
        cmocka_unit_test(test_ebadf_everywhere),
        cmocka_unit_test(test_table_full_emfile),
        cmocka_unit_test(test_registry),
    };
    return cmocka_run_group_tests_name("fdtable", tests, NULL, NULL);
}
