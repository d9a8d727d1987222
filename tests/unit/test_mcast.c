/* Multicast between whole stacks on the simulated Ethernet segment: IGMP
 * and MLD membership through the socket options, delivery to members only
 * (the interface's MAC filter), the multicast TTL/hops, interface and loop
 * options, answers to queries of each IGMP version, leaving on drop and on
 * close, and the options' errors. A sends; B is a member; C listens on the
 * port without joining. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <zsock/config.h>
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "net/sim.h"
#include "net/udp.h"
#include "sockets/inet.h"
#include "unit/test_util.h"

#define IP_A   0xc0000201u /* 192.0.2.1 */
#define IP_B   0xc0000202u
#define IP_C   0xc0000203u
#define GROUP  0xef010203u /* 239.1.2.3 */
#define GROUP2 0xef010204u
#define PORT   5000
#define MS     1000

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0xb};
static const uint8_t MAC_C[6] = {0x02, 0, 0, 0, 0, 0xc};
/* ff15::1234, a transient site-local group; ff12::99, link-local scope. */
static const uint8_t GROUP6[16] = {0xff, 0x15, [14] = 0x12, [15] = 0x34};
static const uint8_t GROUP6_LL[16] = {0xff, 0x12, [15] = 0x99};

static struct {
    struct z_simnet *net;
    struct z_stack *s[3];
    struct z_netif *nif[3];
} W;

static void world_up(void)
{
    static const char *names[3] = {"A", "B", "C"};
    const uint8_t *macs[3] = {MAC_A, MAC_B, MAC_C};
    const uint32_t ips[3] = {IP_A, IP_B, IP_C};
    W.net = z_simnet_create(7);
    assert_non_null(W.net);
    for (int i = 0; i < 3; i++) {
        struct z_stack_config c = {.name = names[i], .virtual_clock = true};
        W.s[i] = z_stack_create(&c);
        assert_non_null(W.s[i]);
        W.nif[i] = z_simnet_attach(W.net, W.s[i], macs[i]);
        assert_non_null(W.nif[i]);
        z_stack_lock(W.s[i]);
        z_netif_add_ipv4_locked(W.nif[i], ips[i], 0xffffff00u);
        z_stack_unlock(W.s[i]);
    }
    z_simnet_run(W.net, 2000 * MS); /* IPv6 DAD of the link-local addresses */
}

static void world_down(void)
{
    for (int i = 0; i < 3; i++) {
        z_stack_destroy(W.s[i]);
    }
    z_simnet_destroy(W.net);
}

static struct zsock_net_stats stats_of(int i)
{
    struct zsock_net_stats st;
    z_stack_lock(W.s[i]);
    st = W.s[i]->stats;
    z_stack_unlock(W.s[i]);
    return st;
}

static int udp4(int i, uint32_t bind_addr)
{
    int fd = z_inet_socket_fam_on(W.s[i], AF_INET, SOCK_DGRAM, 0, true);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    sin.sin_addr.s_addr = htonl(bind_addr);
    assert_int_equal(zsock_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    return fd;
}

static int udp6(int i)
{
    int fd = z_inet_socket_fam_on(W.s[i], AF_INET6, SOCK_DGRAM, 0, true);
    assert_true(fd >= 0);
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(PORT)};
    assert_int_equal(zsock_bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
    return fd;
}

static int membership4(int fd, int opt, uint32_t group, int ifindex)
{
    struct ip_mreqn mr = {.imr_ifindex = ifindex};
    mr.imr_multiaddr.s_addr = htonl(group);
    return zsock_setsockopt(fd, IPPROTO_IP, opt, &mr, sizeof(mr));
}

static int membership6(int fd, int opt, const uint8_t *group, int ifindex)
{
    struct ipv6_mreq mr = {.ipv6mr_interface = (unsigned)ifindex};
    memcpy(mr.ipv6mr_multiaddr.s6_addr, group, 16);
    return zsock_setsockopt(fd, IPPROTO_IPV6, opt, &mr, sizeof(mr));
}

/* The world up with a UDP socket on A and one on B, both members of GROUP. */
static void world_up_members(int *a, int *b)
{
    world_up();
    *a = udp4(0, 0);
    *b = udp4(1, 0);
    assert_int_equal(membership4(*a, IP_ADD_MEMBERSHIP, GROUP, 0), 0);
    assert_int_equal(membership4(*b, IP_ADD_MEMBERSHIP, GROUP, 0), 0);
}

/* One datagram to the group on PORT; the link then runs 10 ms to carry it. */
static void send4(int fd, uint32_t group, const char *msg)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    to.sin_addr.s_addr = htonl(group);
    assert_int_equal(zsock_sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to)),
                     (ssize_t)strlen(msg));
    z_simnet_run(W.net, 10 * MS);
}

static void send6(int fd, const uint8_t *group, const char *msg)
{
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(PORT)};
    memcpy(to.sin6_addr.s6_addr, group, 16);
    assert_int_equal(zsock_sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to)),
                     (ssize_t)strlen(msg));
    z_simnet_run(W.net, 10 * MS);
}

/* The next datagram's text ("" if none is queued). */
static const char *recv_text(int fd)
{
    static char buf[128];
    ssize_t n = zsock_recv(fd, buf, sizeof(buf) - 1, ZSOCK_MSG_DONTWAIT);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static bool is_member4(int i, uint32_t group)
{
    z_stack_lock(W.s[i]);
    bool m = z_igmp_is_member(W.nif[i], group);
    z_stack_unlock(W.s[i]);
    return m;
}

static void test_ipv4_members_only(void **state)
{
    (void)state;
    world_up();
    int a = udp4(0, 0), b = udp4(1, 0), c = udp4(2, 0);
    uint64_t b_tx = stats_of(1).igmp.tx;
    assert_int_equal(membership4(b, IP_ADD_MEMBERSHIP, GROUP, W.nif[1]->index), 0);
    assert_true(is_member4(1, GROUP));
    /* The join report at once, its repetition a second later (RFC 3376 5.1). */
    assert_int_equal(stats_of(1).igmp.tx, b_tx + 1);
    z_simnet_run(W.net, 1100 * MS);
    assert_int_equal(stats_of(1).igmp.tx, b_tx + 2);

    send4(a, GROUP, "one");
    assert_string_equal(recv_text(b), "one");
    assert_string_equal(recv_text(c), ""); /* not a member: its MAC filter drops it */
    assert_string_equal(recv_text(a), ""); /* not a member either: no loop copy */

    /* A socket bound to the group address takes it too; one bound to another group not. */
    int b2 = z_inet_socket_fam_on(W.s[1], AF_INET, SOCK_DGRAM, 0, true);
    int one = 1;
    assert_int_equal(zsock_setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    assert_int_equal(zsock_setsockopt(b2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    sin.sin_addr.s_addr = htonl(GROUP);
    assert_int_equal(zsock_bind(b2, (struct sockaddr *)&sin, sizeof(sin)), 0);
    int b3 = z_inet_socket_fam_on(W.s[1], AF_INET, SOCK_DGRAM, 0, true);
    assert_int_equal(zsock_setsockopt(b3, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    sin.sin_addr.s_addr = htonl(GROUP2);
    assert_int_equal(zsock_bind(b3, (struct sockaddr *)&sin, sizeof(sin)), 0);
    send4(a, GROUP, "two");
    assert_string_equal(recv_text(b), "two");
    assert_string_equal(recv_text(b2), "two");
    assert_string_equal(recv_text(b3), "");

    /* Leaving: a report, and the group is gone from the interface. */
    b_tx = stats_of(1).igmp.tx;
    assert_int_equal(membership4(b, IP_DROP_MEMBERSHIP, GROUP, 0), 0);
    assert_int_equal(stats_of(1).igmp.tx, b_tx + 1);
    assert_false(is_member4(1, GROUP));
    send4(a, GROUP, "three");
    assert_string_equal(recv_text(b), "");

    /* Two sockets share the interface's membership; closing one keeps it. */
    assert_int_equal(membership4(b, IP_ADD_MEMBERSHIP, GROUP, 0), 0);
    assert_int_equal(membership4(b2, IP_ADD_MEMBERSHIP, GROUP, 0), 0);
    zsock_close(b2);
    assert_true(is_member4(1, GROUP));
    zsock_close(b);
    assert_false(is_member4(1, GROUP)); /* the last member closed: left */
    zsock_close(b3);
    zsock_close(a);
    zsock_close(c);
    world_down();
}

static void test_ipv4_loop_ttl_if(void **state)
{
    (void)state;
    int a, b;
    world_up_members(&a, &b);
    /* Loop on by default: the sender's host gets a copy. */
    int v = -5;
    socklen_t len = sizeof(v);
    assert_int_equal(zsock_getsockopt(a, IPPROTO_IP, IP_MULTICAST_LOOP, &v, &len), 0);
    assert_int_equal(v, 1);
    send4(a, GROUP, "looped");
    assert_string_equal(recv_text(a), "looped");
    assert_string_equal(recv_text(b), "looped");
    unsigned char off = 0; /* a single byte, as Linux also takes */
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IP, IP_MULTICAST_LOOP, &off, 1), 0);
    send4(a, GROUP, "not looped");
    assert_string_equal(recv_text(a), "");
    assert_string_equal(recv_text(b), "not looped");

    /* TTL: 1 by default, 0..255 (-1: the default). */
    len = sizeof(v);
    assert_int_equal(zsock_getsockopt(a, IPPROTO_IP, IP_MULTICAST_TTL, &v, &len), 0);
    assert_int_equal(v, 1);
    v = 256;
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof(v)), -1);
    assert_int_equal(errno, EINVAL);
    v = 7;
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IP, IP_MULTICAST_TTL, &v, sizeof(v)), 0);
    len = sizeof(v);
    assert_int_equal(zsock_getsockopt(a, IPPROTO_IP, IP_MULTICAST_TTL, &v, &len), 0);
    assert_int_equal(v, 7);

    /* IP_MULTICAST_IF by address: ours only. */
    struct in_addr ia = {.s_addr = htonl(IP_A)};
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof(ia)), 0);
    struct in_addr got;
    len = sizeof(got);
    assert_int_equal(zsock_getsockopt(a, IPPROTO_IP, IP_MULTICAST_IF, &got, &len), 0);
    assert_int_equal(got.s_addr, ia.s_addr);
    ia.s_addr = htonl(IP_B);
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IP, IP_MULTICAST_IF, &ia, sizeof(ia)), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    send4(a, GROUP, "via A");
    assert_string_equal(recv_text(b), "via A");
    zsock_close(a);
    zsock_close(b);
    world_down();
}

/* An IGMP query from the segment (as a router would send it). */
static void inject_query(int version, uint32_t group, uint8_t max_resp)
{
    uint8_t f[14 + 24 + 12];
    memset(f, 0, sizeof(f));
    size_t ilen = version == 3 ? 12 : 8;
    uint32_t dst = group != 0 ? group : Z_IGMP_ALL_HOSTS;
    z_ipv4_mcast_mac(dst, f);
    static const uint8_t router[6] = {0x02, 0, 0, 0, 0, 0xfe};
    memcpy(f + 6, router, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x46;
    z_put_be16(ip + 2, (uint16_t)(24 + ilen));
    ip[8] = 1;
    ip[9] = Z_IPPROTO_IGMP;
    z_put_be32(ip + 12, 0xc00002feu);
    z_put_be32(ip + 16, dst);
    ip[20] = 0x94;
    ip[21] = 4;
    z_put_be16(ip + 10, z_csum_finish(z_csum_add(0, ip, 24)));
    uint8_t *m = ip + 24;
    m[0] = Z_IGMP_QUERY;
    m[1] = version == 1 ? 0 : max_resp;
    z_put_be32(m + 4, group);
    z_put_be16(m + 2, z_csum_finish(z_csum_add(0, m, ilen)));
    z_simnet_inject(W.net, W.nif[2], f, 14 + 24 + ilen); /* from C's port of the hub */
}

static void test_igmp_queries(void **state)
{
    (void)state;
    /* A joins too, so it hears reports sent to the group (v2), not those to 224.0.0.22 (v3). */
    int a, b;
    world_up_members(&a, &b);
    z_simnet_run(W.net, 2000 * MS); /* the unsolicited reports are over */
    uint64_t b_tx = stats_of(1).igmp.tx, a_rx = stats_of(0).igmp.rx;

    /* v3 general query, max response 1 s: one report within it, to 224.0.0.22. */
    inject_query(3, 0, 10);
    z_simnet_run(W.net, 1100 * MS);
    assert_int_equal(stats_of(1).igmp.queries_rx, 1);
    assert_int_equal(stats_of(1).igmp.tx, b_tx + 1);
    assert_int_equal(stats_of(0).igmp.rx, a_rx + 1); /* A hears the query, not B's report */

    /* v2 group-specific query: B falls back to v2 and reports to the group itself. */
    b_tx = stats_of(1).igmp.tx;
    a_rx = stats_of(0).igmp.rx;
    inject_query(2, GROUP, 10);
    z_simnet_run(W.net, 1100 * MS);
    assert_int_equal(stats_of(1).igmp.tx, b_tx + 1);
    assert_int_equal(stats_of(0).igmp.rx, a_rx + 2); /* the query and B's v2 report */
    /* A v2 leave goes to 224.0.0.2 (nobody here listens) */
    b_tx = stats_of(1).igmp.tx;
    assert_int_equal(membership4(b, IP_DROP_MEMBERSHIP, GROUP, 0), 0);
    assert_int_equal(stats_of(1).igmp.tx, b_tx + 1);

    /* A query for a group B is not in: no answer. Malformed: counted. */
    b_tx = stats_of(1).igmp.tx;
    inject_query(3, GROUP2, 10);
    z_simnet_run(W.net, 1100 * MS);
    assert_int_equal(stats_of(1).igmp.tx, b_tx);
    uint8_t bad[14 + 24 + 8];
    memset(bad, 0, sizeof(bad));
    z_ipv4_mcast_mac(Z_IGMP_ALL_HOSTS, bad);
    bad[12] = 0x08;
    bad[14] = 0x46;
    z_put_be16(bad + 16, 32);
    bad[22] = 1;
    bad[23] = Z_IPPROTO_IGMP;
    z_put_be32(bad + 30, Z_IGMP_ALL_HOSTS);
    z_put_be16(bad + 24, z_csum_finish(z_csum_add(0, bad + 14, 24)));
    bad[38] = Z_IGMP_QUERY; /* checksum left 0: wrong */
    z_simnet_inject(W.net, W.nif[2], bad, sizeof(bad));
    z_simnet_run(W.net, 10 * MS);
    assert_true(stats_of(1).igmp.drop_malformed >= 1);
    zsock_close(a);
    zsock_close(b);
    world_down();
}

static void test_ipv6_members_only(void **state)
{
    (void)state;
    world_up();
    int a = udp6(0), b = udp6(1), c = udp6(2);
    assert_int_equal(membership6(b, IPV6_ADD_MEMBERSHIP, GROUP6, W.nif[1]->index), 0);
    assert_int_equal(membership6(b, IPV6_ADD_MEMBERSHIP, GROUP6, W.nif[1]->index), -1);
    assert_int_equal(errno, EADDRINUSE);
    int ifa = W.nif[0]->index;
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifa, sizeof(ifa)), 0);
    send6(a, GROUP6, "six");
    assert_string_equal(recv_text(b), "six");
    assert_string_equal(recv_text(c), "");
    assert_string_equal(recv_text(a), "");

    /* A link-scope group with the interface in the scope id. */
    assert_int_equal(membership6(b, IPV6_ADD_MEMBERSHIP, GROUP6_LL, 0), 0);
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_port = htons(PORT)};
    memcpy(to.sin6_addr.s6_addr, GROUP6_LL, 16);
    to.sin6_scope_id = (uint32_t)ifa;
    assert_int_equal(zsock_sendto(a, "ll", 2, 0, (struct sockaddr *)&to, sizeof(to)), 2);
    z_simnet_run(W.net, 10 * MS);
    struct sockaddr_in6 from;
    socklen_t fl = sizeof(from);
    char buf[16];
    assert_int_equal(
        zsock_recvfrom(b, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT, (struct sockaddr *)&from, &fl), 2);
    assert_int_equal(from.sin6_scope_id, (uint32_t)W.nif[1]->index); /* A's link-local source */

    /* Loop: A joins, gets its own datagrams unless IPV6_MULTICAST_LOOP is 0. */
    assert_int_equal(membership6(a, IPV6_ADD_MEMBERSHIP, GROUP6, 0), 0);
    send6(a, GROUP6, "mine");
    assert_string_equal(recv_text(a), "mine");
    assert_string_equal(recv_text(b), "mine");
    int v = 2;
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, sizeof(v)), -1);
    assert_int_equal(errno, EINVAL);
    v = 0;
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &v, sizeof(v)), 0);
    send6(a, GROUP6, "not mine");
    assert_string_equal(recv_text(a), "");
    assert_string_equal(recv_text(b), "not mine");

    /* Hops: 1 by default; -1 restores it; 256 is refused. */
    socklen_t len = sizeof(v);
    assert_int_equal(zsock_getsockopt(a, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, &len), 0);
    assert_int_equal(v, 1);
    v = 256;
    assert_int_equal(zsock_setsockopt(a, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof(v)), -1);
    assert_int_equal(errno, EINVAL);

    /* Drop: B no longer gets the group. */
    assert_int_equal(membership6(b, IPV6_DROP_MEMBERSHIP, GROUP6, 0), 0);
    assert_int_equal(membership6(b, IPV6_DROP_MEMBERSHIP, GROUP6, 0), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    send6(a, GROUP6, "gone");
    assert_string_equal(recv_text(b), "");
    zsock_close(a);
    zsock_close(b);
    zsock_close(c);
    world_down();
}

static void test_option_errors(void **state)
{
    (void)state;
    world_up();
    int b = udp4(1, 0);
    assert_int_equal(membership4(b, IP_ADD_MEMBERSHIP, IP_A, 0), -1); /* not a group */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(membership4(b, IP_ADD_MEMBERSHIP, GROUP, 99), -1);
    assert_int_equal(errno, ENODEV);
    assert_int_equal(membership4(b, IP_DROP_MEMBERSHIP, GROUP, 0), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    struct ip_mreqn mr = {.imr_ifindex = 0};
    assert_int_equal(zsock_setsockopt(b, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, 4), -1);
    assert_int_equal(errno, EINVAL);
    /* struct ip_mreq (8 bytes), interface by address. */
    struct ip_mreq old = {.imr_multiaddr.s_addr = htonl(GROUP)};
    old.imr_interface.s_addr = htonl(IP_B);
    assert_int_equal(zsock_setsockopt(b, IPPROTO_IP, IP_ADD_MEMBERSHIP, &old, sizeof(old)), 0);
    assert_int_equal(zsock_setsockopt(b, IPPROTO_IP, IP_ADD_MEMBERSHIP, &old, sizeof(old)), -1);
    assert_int_equal(errno, EADDRINUSE);
    old.imr_interface.s_addr = htonl(IP_A);
    assert_int_equal(zsock_setsockopt(b, IPPROTO_IP, IP_DROP_MEMBERSHIP, &old, sizeof(old)), -1);
    assert_int_equal(errno, EADDRNOTAVAIL);
    /* A socket holds at most 20 groups (and the interface CONFIG_NET_IGMP_GROUPS). */
    int n = 1, rc = 0;
    for (uint32_t g = GROUP + 100; rc == 0 && n < 40; g++, n++) {
        rc = membership4(b, IP_ADD_MEMBERSHIP, g, 0);
    }
    assert_int_equal(rc, -1);
    assert_int_equal(errno, ENOBUFS);
    assert_true(n - 1 <= Z_UDP_MAX_MEMBERSHIPS + 1);
    /* IPv6 options need an AF_INET6 socket; IPv6 groups too. */
    int v = 1;
    assert_int_equal(zsock_setsockopt(b, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &v, sizeof(v)), -1);
    assert_int_equal(errno, ENOPROTOOPT);
    int b6 = udp6(1);
    v = 99;
    assert_int_equal(zsock_setsockopt(b6, IPPROTO_IPV6, IPV6_MULTICAST_IF, &v, sizeof(v)), -1);
    assert_int_equal(errno, ENODEV);
    static const uint8_t not_group[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    assert_int_equal(membership6(b6, IPV6_ADD_MEMBERSHIP, not_group, 0), -1);
    assert_int_equal(errno, EINVAL);
    /* An IPv4 group on an IPv6-only socket: EAFNOSUPPORT; with V6ONLY off it works. */
    assert_int_equal(membership4(b6, IP_ADD_MEMBERSHIP, GROUP2, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    zsock_close(b);
    zsock_close(b6);
    world_down();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_members_only), cmocka_unit_test(test_ipv4_loop_ttl_if),
        cmocka_unit_test(test_igmp_queries),      cmocka_unit_test(test_ipv6_members_only),
        cmocka_unit_test(test_option_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
