/* Tests for <zsock/posix_names.h> and the Zephyr forwarding headers: code
 * written with POSIX names (socketpair(), poll(), select(), FD_SET, fcntl()...)
 * reaches zsock, and the constants Zephyr programs rely on have Zephyr's
 * values and agree with the C library's. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include <zephyr/net/socket.h>
#include <zephyr/net/tls_credentials.h>

/* Last: from here on the POSIX names are zsock's. */
#include <zsock/posix_names.h>

/* ---- constants (checked at compile time, and again at run time for the report) ---- */

_Static_assert(SOL_TLS == 282, "SOL_TLS");
_Static_assert(TLS_SEC_TAG_LIST == 1, "TLS_SEC_TAG_LIST");
_Static_assert(IPPROTO_TLS_1_2 == 258, "IPPROTO_TLS_1_2");
_Static_assert(IPPROTO_DTLS_1_2 == 273, "IPPROTO_DTLS_1_2");
_Static_assert(TLS_CREDENTIAL_CA_CERTIFICATE == 1, "TLS_CREDENTIAL_CA_CERTIFICATE");
_Static_assert(ZSOCK_POLLIN == POLLIN && ZSOCK_POLLOUT == POLLOUT && ZSOCK_POLLPRI == POLLPRI &&
                   ZSOCK_POLLERR == POLLERR && ZSOCK_POLLHUP == POLLHUP &&
                   ZSOCK_POLLNVAL == POLLNVAL,
               "ZSOCK_POLL* == POLL*");
_Static_assert(ZSOCK_MSG_PEEK == MSG_PEEK && ZSOCK_MSG_CTRUNC == MSG_CTRUNC &&
                   ZSOCK_MSG_TRUNC == MSG_TRUNC && ZSOCK_MSG_DONTWAIT == MSG_DONTWAIT &&
                   ZSOCK_MSG_WAITALL == MSG_WAITALL,
               "ZSOCK_MSG_* == MSG_*");
_Static_assert(ZSOCK_SHUT_RD == SHUT_RD && ZSOCK_SHUT_WR == SHUT_WR && ZSOCK_SHUT_RDWR == SHUT_RDWR,
               "ZSOCK_SHUT_* == SHUT_*");
_Static_assert(sizeof(fd_set) == sizeof(zsock_fd_set), "fd_set is zsock's");
_Static_assert(FD_SETSIZE == ZSOCK_FD_SETSIZE, "FD_SETSIZE is zsock's");
_Static_assert(sizeof(struct addrinfo) == sizeof(struct zsock_addrinfo), "addrinfo is zsock's");

static void test_zephyr_constants(void **state)
{
    (void)state;
    assert_int_equal(SOL_TLS, 282);
    assert_int_equal(TLS_SEC_TAG_LIST, 1);
    assert_int_equal(IPPROTO_TLS_1_2, 258);
    assert_int_equal(IPPROTO_DTLS_1_2, 273);
    assert_int_equal(TLS_CREDENTIAL_CA_CERTIFICATE, 1);
    assert_int_equal(TLS_HOSTNAME, 2);
    assert_int_equal(TLS_PEER_VERIFY, 5);
    assert_int_equal(TLS_PEER_VERIFY_REQUIRED, 2);
    assert_int_equal(TLS_CREDENTIAL_PRIVATE_KEY, 3);
    assert_int_equal(TLS_CREDENTIAL_PSK, 4);
    assert_int_equal(TLS_CREDENTIAL_PSK_ID, 5);
    sec_tag_t tag = 1;
    assert_int_equal(sizeof(tag), sizeof(int));
}

static void test_poll_and_msg_values_match_libc(void **state)
{
    (void)state;
    assert_int_equal(ZSOCK_POLLIN, POLLIN);
    assert_int_equal(ZSOCK_POLLPRI, POLLPRI);
    assert_int_equal(ZSOCK_POLLOUT, POLLOUT);
    assert_int_equal(ZSOCK_POLLERR, POLLERR);
    assert_int_equal(ZSOCK_POLLHUP, POLLHUP);
    assert_int_equal(ZSOCK_POLLNVAL, POLLNVAL);
    assert_int_equal(ZSOCK_MSG_PEEK, MSG_PEEK);
    assert_int_equal(ZSOCK_MSG_CTRUNC, MSG_CTRUNC);
    assert_int_equal(ZSOCK_MSG_TRUNC, MSG_TRUNC);
    assert_int_equal(ZSOCK_MSG_DONTWAIT, MSG_DONTWAIT);
    assert_int_equal(ZSOCK_MSG_WAITALL, MSG_WAITALL);
    /* struct zsock_pollfd is the C library's struct pollfd. */
    struct pollfd pfd = {.fd = 3, .events = POLLIN};
    struct zsock_pollfd *zp = &pfd;
    assert_int_equal(zp->fd, 3);
    assert_int_equal(sizeof(struct zsock_pollfd), sizeof(struct pollfd));
    assert_int_equal(offsetof(struct zsock_pollfd, revents), offsetof(struct pollfd, revents));
}

/* The Zephyr header declares the zsock API. */
static void test_zephyr_header_declares_api(void **state)
{
    (void)state;
    int (*sock)(int, int, int) = zsock_socket;
    int (*pair)(int, int, int, int *) = zsock_socketpair;
    int (*pl)(struct zsock_pollfd *, int, int) = zsock_poll;
    int (*cred_add)(sec_tag_t, enum tls_credential_type, const void *, size_t) = tls_credential_add;
    assert_non_null(sock);
    assert_non_null(pair);
    assert_non_null(pl);
    assert_non_null(cred_add);
}

/* ---- every name maps to zsock ---------------------------------------------------- */

#define STR_(x) #x
#define XSTR(x) STR_(x)

static void assert_maps_to(const char *expansion, const char *target)
{
    if (strncmp(expansion, target, strlen(target)) != 0 ||
        (expansion[strlen(target)] != '(' && expansion[strlen(target)] != '\0')) {
        fail_msg("expands to \"%s\", expected %s", expansion, target);
    }
}

static void test_names_expand_to_zsock(void **state)
{
    (void)state;
    assert_maps_to(XSTR(socket(a, b, c)), "zsock_socket");
    assert_maps_to(XSTR(socketpair(a, b, c, d)), "zsock_socketpair");
    assert_maps_to(XSTR(close(a)), "zsock_close");
    assert_maps_to(XSTR(shutdown(a, b)), "zsock_shutdown");
    assert_maps_to(XSTR(bind(a, b, c)), "zsock_bind");
    assert_maps_to(XSTR(connect(a, b, c)), "zsock_connect");
    assert_maps_to(XSTR(listen(a, b)), "zsock_listen");
    assert_maps_to(XSTR(accept(a, b, c)), "zsock_accept");
    assert_maps_to(XSTR(send(a, b, c, d)), "zsock_send");
    assert_maps_to(XSTR(recv(a, b, c, d)), "zsock_recv");
    assert_maps_to(XSTR(sendto(a, b, c, d, e, f)), "zsock_sendto");
    assert_maps_to(XSTR(recvfrom(a, b, c, d, e, f)), "zsock_recvfrom");
    assert_maps_to(XSTR(sendmsg(a, b, c)), "zsock_sendmsg");
    assert_maps_to(XSTR(recvmsg(a, b, c)), "zsock_recvmsg");
    assert_maps_to(XSTR(fcntl(a, b)), "zsock_fcntl");
    assert_maps_to(XSTR(fcntl(a, b, c)), "zsock_fcntl");
    assert_maps_to(XSTR(ioctl(a, b, c)), "zsock_ioctl");
    assert_maps_to(XSTR(poll(a, b, c)), "zsock_poll");
    assert_maps_to(XSTR(select(a, b, c, d, e)), "zsock_select");
    assert_maps_to(XSTR(getsockopt(a, b, c, d, e)), "zsock_getsockopt");
    assert_maps_to(XSTR(setsockopt(a, b, c, d, e)), "zsock_setsockopt");
    assert_maps_to(XSTR(getpeername(a, b, c)), "zsock_getpeername");
    assert_maps_to(XSTR(getsockname(a, b, c)), "zsock_getsockname");
    assert_maps_to(XSTR(gethostname(a, b)), "zsock_gethostname");
    assert_maps_to(XSTR(inet_ntop(a, b, c, d)), "zsock_inet_ntop");
    assert_maps_to(XSTR(inet_pton(a, b, c)), "zsock_inet_pton");
    assert_maps_to(XSTR(getaddrinfo(a, b, c, d)), "zsock_getaddrinfo");
    assert_maps_to(XSTR(freeaddrinfo(a)), "zsock_freeaddrinfo");
    assert_maps_to(XSTR(gai_strerror(a)), "zsock_gai_strerror");
    assert_maps_to(XSTR(getnameinfo(a, b, c, d, e, f, g)), "zsock_getnameinfo");
    assert_maps_to(XSTR(addrinfo), "zsock_addrinfo");
    assert_maps_to(XSTR(fd_set), "zsock_fd_set");
    assert_maps_to(XSTR(FD_ZERO(a)), "ZSOCK_FD_ZERO");
    assert_maps_to(XSTR(FD_SET(a, b)), "ZSOCK_FD_SET");
    assert_maps_to(XSTR(FD_CLR(a, b)), "ZSOCK_FD_CLR");
    assert_maps_to(XSTR(FD_ISSET(a, b)), "ZSOCK_FD_ISSET");
    /* A name not called like a function is left alone (a member, a pointer). */
    assert_string_equal(XSTR(close), "close");

    /* struct addrinfo is zsock's: it has ai_eflags. */
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_eflags = 0;
    hints.ai_family = AF_INET;
    assert_int_equal(hints.ai_family, AF_INET);
}

/* ---- the calls reach zsock ----------------------------------------------------------- */

static void test_socketpair_send_recv(void **state)
{
    (void)state;
    int sv[2] = {-1, -1};
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* zsock descriptors, not the kernel's. */
    assert_non_null(zsock_get_context_object(sv[0]));
    assert_non_null(zsock_get_context_object(sv[1]));
    assert_int_equal(zsock_fcntl(sv[0], F_GETFL), O_RDWR);

    assert_int_equal(send(sv[0], "hello", 5, 0), 5);
    char buf[16];
    assert_int_equal(zsock_recv(sv[1], buf, sizeof(buf), MSG_PEEK), 5);
    assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 5);
    assert_memory_equal(buf, "hello", 5);

    assert_int_equal(sendto(sv[1], "back", 4, 0, NULL, 0), 4);
    assert_int_equal(recvfrom(sv[0], buf, sizeof(buf), 0, NULL, NULL), 4);
    assert_memory_equal(buf, "back", 4);

    char part1[] = "ab", part2[] = "cde";
    struct iovec out[2] = {{part1, 2}, {part2, 3}};
    struct msghdr msg = {.msg_iov = out, .msg_iovlen = 2};
    assert_int_equal(sendmsg(sv[0], &msg, 0), 5);
    struct iovec in = {buf, sizeof(buf)};
    struct msghdr rmsg = {.msg_iov = &in, .msg_iovlen = 1};
    assert_int_equal(recvmsg(sv[1], &rmsg, 0), 5);
    assert_memory_equal(buf, "abcde", 5);

    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    assert_int_equal(getsockname(sv[0], (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_UNIX);
    len = sizeof(ss);
    assert_int_equal(getpeername(sv[0], (struct sockaddr *)&ss, &len), 0);
    assert_int_equal(ss.ss_family, AF_UNIX);

    assert_int_equal(close(sv[0]), 0);
    assert_int_equal(close(sv[1]), 0);
    assert_null(zsock_get_context_object(sv[0]));
    errno = 0;
    assert_int_equal(close(sv[0]), -1);
    assert_int_equal(errno, EBADF);
}

static void test_poll_with_pollfd(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
    struct pollfd pfd[2] = {
        {.fd = sv[1], .events = POLLIN},
        {.fd = sv[0], .events = POLLOUT},
    };
    assert_int_equal(poll(pfd, 2, 0), 1);
    assert_int_equal(pfd[0].revents, 0);
    assert_int_equal(pfd[1].revents, POLLOUT);
    assert_int_equal(send(sv[0], "d", 1, 0), 1);
    assert_int_equal(poll(pfd, 1, -1), 1);
    assert_int_equal(pfd[0].revents, POLLIN);
    assert_int_equal(close(sv[0]), 0);
    assert_int_equal(poll(pfd, 1, 0), 1);
    assert_int_equal(pfd[0].revents, POLLIN | POLLHUP);
    assert_int_equal(close(sv[1]), 0);
    assert_int_equal(poll(pfd, 1, 0), 1);
    assert_int_equal(pfd[0].revents, POLLNVAL);
}

static void test_select_with_fd_set(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int nfds = (sv[0] > sv[1] ? sv[0] : sv[1]) + 1;
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(sv[0], &r);
    FD_SET(sv[1], &r);
    FD_SET(sv[0], &w);
    struct timeval tv = {0, 0};
    assert_int_equal(select(nfds, &r, &w, NULL, &tv), 1);
    assert_false(FD_ISSET(sv[0], &r));
    assert_false(FD_ISSET(sv[1], &r));
    assert_true(FD_ISSET(sv[0], &w));

    assert_int_equal(send(sv[0], "x", 1, 0), 1);
    FD_ZERO(&r);
    FD_SET(sv[1], &r);
    assert_int_equal(select(nfds, &r, NULL, NULL, NULL), 1);
    assert_true(FD_ISSET(sv[1], &r));
    FD_CLR(sv[1], &r);
    assert_false(FD_ISSET(sv[1], &r));

    /* zsock's sets cover the whole zsock table, beyond the C library's 1024. */
    FD_ZERO(&r);
    FD_SET(FD_SETSIZE - 1, &r);
    assert_true(FD_ISSET(FD_SETSIZE - 1, &r));
    FD_SET(FD_SETSIZE, &r); /* out of range: ignored */
    assert_false(FD_ISSET(FD_SETSIZE, &r));

    assert_int_equal(close(sv[0]), 0);
    assert_int_equal(close(sv[1]), 0);
}

static void test_fcntl_ioctl_sockopts_shutdown(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

    assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
    assert_int_equal(fcntl(sv[1], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    char buf[8];
    errno = 0;
    assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), -1);
    assert_int_equal(errno, EAGAIN);
    assert_int_equal(fcntl(sv[1], F_SETFL, 0), 0);
    assert_int_equal(zsock_fcntl(sv[1], F_GETFL) & O_NONBLOCK, 0);

    int on = 1;
    assert_int_equal(ioctl(sv[0], FIONBIO, &on), 0);
    assert_int_equal(zsock_fcntl(sv[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    assert_int_equal(send(sv[0], "abc", 3, 0), 3);
    int avail = -1;
    assert_int_equal(ioctl(sv[1], FIONREAD, &avail), 0);
    assert_int_equal(avail, 3);

    struct timeval tv = {.tv_sec = 0, .tv_usec = 250000};
    assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    struct timeval got = {0, 0};
    socklen_t len = sizeof(got);
    assert_int_equal(getsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
    assert_int_equal(len, sizeof(got));
    assert_int_equal(got.tv_sec, 0);
    assert_int_equal(got.tv_usec, 250000);
    int type = -1;
    len = sizeof(type);
    assert_int_equal(getsockopt(sv[1], SOL_SOCKET, SO_TYPE, &type, &len), 0);
    assert_int_equal(type, SOCK_STREAM);

    assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
    assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 3);
    assert_int_equal(recv(sv[1], buf, sizeof(buf), 0), 0);
    errno = 0;
    assert_int_equal(send(sv[0], "z", 1, 0), -1);
    assert_int_equal(errno, EPIPE);

    assert_int_equal(close(sv[0]), 0);
    assert_int_equal(close(sv[1]), 0);
}

static void test_socket_reaches_zsock(void **state)
{
    (void)state;
    /* No family -1 anywhere: zsock's answer. */
    errno = 0;
    assert_int_equal(socket(-1, SOCK_STREAM, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    /* Errors come back the POSIX way through every name. */
    errno = 0;
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, NULL), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(shutdown(-1, SHUT_RDWR), -1);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_int_equal(poll(NULL, -1, 0), -1);
    assert_int_equal(errno, EINVAL);
}

/* The escape hatch the header documents: a parenthesized name is the C
 * library's function. */
static void test_parenthesized_name_is_libc(void **state)
{
    (void)state;
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], "k", 1), 1);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    assert_int_equal((poll)(&pfd, 1, 0), 1);
    assert_int_equal(pfd.revents, POLLIN);
    char c = 0;
    assert_int_equal(read(p[0], &c, 1), 1);
    assert_int_equal(c, 'k');
    assert_int_equal((close)(p[0]), 0);
    assert_int_equal((close)(p[1]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zephyr_constants),
        cmocka_unit_test(test_poll_and_msg_values_match_libc),
        cmocka_unit_test(test_zephyr_header_declares_api),
        cmocka_unit_test(test_names_expand_to_zsock),
        cmocka_unit_test(test_socketpair_send_recv),
        cmocka_unit_test(test_poll_with_pollfd),
        cmocka_unit_test(test_select_with_fd_set),
        cmocka_unit_test(test_fcntl_ioctl_sockopts_shutdown),
        cmocka_unit_test(test_socket_reaches_zsock),
        cmocka_unit_test(test_parenthesized_name_is_libc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
