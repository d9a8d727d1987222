/* The read-only views of <zsock/net_info.h> on the default stack's
 * loopback: the connection table through a connection's life, routes,
 * neighbor lists and their arguments, and zsock_ping() answered, unanswered
 * and refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <zsock/net_if.h>
#include <zsock/net_info.h>
#include <zsock/socket.h>

#include "net/net.h"

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(0x7f000001);
    return sin;
}

/* The first entry for local port lport and remote port rport (0: any), or NULL. */
static const struct zsock_conn_info *find(const struct zsock_conn_info *c, int n, int proto,
                                          uint16_t lport, uint16_t rport)
{
    for (int i = 0; i < n; i++) {
        if (c[i].protocol == proto && c[i].lport == lport && (rport == 0 || c[i].rport == rport)) {
            return &c[i];
        }
    }
    return NULL;
}

static void test_conn_list(void **state)
{
    (void)state;
    struct sockaddr_in sin = loopback(7100);
    int lfd = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    int one = 1;
    zsock_setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    assert_int_equal(zsock_bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(zsock_listen(lfd, 4), 0);
    int cfd = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_int_equal(zsock_connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    zsock_getsockname(cfd, (struct sockaddr *)&me, &len);
    uint16_t cport = ntohs(me.sin_port);

    /* Not accepted yet: the listener counts it in its backlog. */
    struct zsock_conn_info c[32];
    int n = zsock_conn_list(c, 32);
    assert_true(n >= 3 && n <= 32);
    const struct zsock_conn_info *l = NULL;
    for (int i = 0; i < n; i++) {
        if (c[i].protocol == IPPROTO_TCP && c[i].lport == 7100 && c[i].rport == 0) {
            l = &c[i];
        }
    }
    assert_non_null(l);
    assert_string_equal(l->state_name, "LISTEN");
    assert_int_equal(l->backlog, 1);
    const struct zsock_conn_info *a = find(c, n, IPPROTO_TCP, cport, 7100);
    assert_non_null(a);
    assert_string_equal(a->state_name, "ESTABLISHED");
    assert_int_equal(a->raddr.s_addr, htonl(0x7f000001));

    /* Bytes the server has not read show in its receive queue. */
    int sfd = zsock_accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);
    assert_int_equal(zsock_send(cfd, "12345", 5, 0), 5);
    const struct zsock_conn_info *b = NULL;
    for (int tries = 0; tries < 200 && (b == NULL || b->recv_queue != 5); tries++) {
        n = zsock_conn_list(c, 32);
        b = find(c, n, IPPROTO_TCP, 7100, cport);
        usleep(5000);
    }
    assert_non_null(b);
    assert_int_equal(b->recv_queue, 5);

    /* The active closer ends in TIME_WAIT. */
    zsock_close(cfd);
    char buf[8];
    assert_int_equal(zsock_recv(sfd, buf, sizeof(buf), 0), 5);
    assert_int_equal(zsock_recv(sfd, buf, sizeof(buf), 0), 0);
    zsock_close(sfd);
    a = NULL;
    for (int tries = 0; tries < 200; tries++) {
        n = zsock_conn_list(c, 32);
        a = find(c, n, IPPROTO_TCP, cport, 7100);
        if (a != NULL && strcmp(a->state_name, "TIME_WAIT") == 0) {
            break;
        }
        usleep(5000);
    }
    assert_non_null(a);
    assert_string_equal(a->state_name, "TIME_WAIT");
    zsock_close(lfd);

    /* A bound UDP socket. */
    int u = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    struct sockaddr_in us = loopback(7101);
    assert_int_equal(zsock_bind(u, (struct sockaddr *)&us, sizeof(us)), 0);
    n = zsock_conn_list(c, 32);
    const struct zsock_conn_info *ue = find(c, n, IPPROTO_UDP, 7101, 0);
    assert_non_null(ue);
    assert_string_equal(ue->state_name, "");
    zsock_close(u);

    /* A count with no room, and bad arguments. */
    assert_true(zsock_conn_list(NULL, 0) >= 1);
    assert_int_equal(zsock_conn_list(NULL, 1), -EINVAL);
}

static void test_routes_and_neighbors(void **state)
{
    (void)state;
    struct zsock_route_info r[8];
    int n = zsock_route_list(r, 8);
    bool lo = false;
    for (int i = 0; i < n && i < 8; i++) {
        lo |= r[i].family == AF_INET && r[i].prefix_len == 8 &&
              r[i].dst4.s_addr == htonl(0x7f000000) && r[i].gateway4.s_addr == 0;
    }
    assert_true(lo);
    assert_int_equal(zsock_route_list(NULL, 1), -EINVAL);
    /* Loopback resolves no neighbors. */
    assert_int_equal(zsock_neigh_list(NULL, 0), 0);
    assert_int_equal(zsock_neigh_list(NULL, 1), -EINVAL);
}

static void test_ping(void **state)
{
    (void)state;
    struct sockaddr_in dst = loopback(0);
    uint32_t rtt = 12345;
    assert_int_equal(zsock_ping((struct sockaddr *)&dst, sizeof(dst), 7, 1, 56, 1000, &rtt), 0);
    assert_true(rtt < 1000000);

    /* A stack that does not answer echo requests: no reply, ETIMEDOUT. */
    struct z_stack *s = z_stack_default();
    z_stack_lock(s);
    s->echo_reply = false;
    z_stack_unlock(s);
    assert_int_equal(zsock_ping((struct sockaddr *)&dst, sizeof(dst), 7, 2, 0, 100, &rtt),
                     -ETIMEDOUT);
    z_stack_lock(s);
    s->echo_reply = true;
    z_stack_unlock(s);
    assert_int_equal(zsock_ping((struct sockaddr *)&dst, sizeof(dst), 7, 3, 1400, 1000, &rtt), 0);

    /* No route (loopback only, no gateway), a bad size, another family. */
    struct sockaddr_in far = {.sin_family = AF_INET};
    far.sin_addr.s_addr = htonl(0x0aff0001);
    assert_int_equal(zsock_ping((struct sockaddr *)&far, sizeof(far), 7, 4, 0, 100, &rtt),
                     -EHOSTUNREACH);
    assert_int_equal(zsock_ping((struct sockaddr *)&dst, sizeof(dst), 7, 5, 1401, 100, &rtt),
                     -EINVAL);
    struct sockaddr_in6 six = {.sin6_family = AF_INET6};
    assert_int_equal(zsock_ping((struct sockaddr *)&six, sizeof(six), 7, 6, 0, 100, &rtt),
                     -EAFNOSUPPORT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conn_list),
        cmocka_unit_test(test_routes_and_neighbors),
        cmocka_unit_test(test_ping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
