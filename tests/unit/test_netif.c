/* Packet buffers and the management API: pool accounting, references and
 * the heap budget; interfaces listed, configured and counted; captures that
 * are valid pcap files; two stacks joined by a frame pipe in one process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zsock/config.h>
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "net/net.h"
#include "sockets/inet.h"
#include "unit/test_util.h"

/* ---- packet buffers
 * -------------------------------------------------------------------------------- */

static void test_pbuf_pool(void **state)
{
    (void)state;
    struct z_pbuf_pool pool;
    assert_int_equal(z_pbuf_pool_init(&pool, 4, 256, 1000), 0);
    struct z_pbuf *p[5];
    for (int i = 0; i < 4; i++) {
        p[i] = z_pbuf_alloc(&pool, 64, 100);
        assert_non_null(p[i]);
        assert_int_equal(z_pbuf_headroom(p[i]), 64);
        assert_int_equal(p[i]->len, 0);
    }
    assert_null(z_pbuf_alloc(&pool, 64, 100)); /* pool empty */
    /* Larger than a pool buffer: from the heap budget. */
    p[4] = z_pbuf_alloc(&pool, 0, 900);
    assert_non_null(p[4]);
    assert_null(z_pbuf_alloc(&pool, 0, 200)); /* 900 + 200 > 1000 */
    struct z_pbuf_stats st;
    z_pbuf_pool_stats(&pool, &st);
    assert_int_equal(st.in_use, 5);
    assert_int_equal(st.alloc_failures, 2);
    assert_int_equal(st.heap_in_use, 900);

    /* push/pull/put/trim stay inside the buffer. */
    uint8_t *d = z_pbuf_put(p[0], 100);
    assert_non_null(d);
    memset(d, 7, 100);
    assert_null(z_pbuf_put(p[0], 1000));
    assert_non_null(z_pbuf_push(p[0], 14));
    assert_int_equal(p[0]->len, 114);
    assert_null(z_pbuf_push(p[0], 51));
    assert_non_null(z_pbuf_pull(p[0], 14));
    assert_null(z_pbuf_pull(p[0], 101));
    z_pbuf_trim(p[0], 10);
    assert_int_equal(p[0]->len, 10);

    /* References: freed at the last one. */
    z_pbuf_ref(p[1]);
    z_pbuf_free(p[1]);
    z_pbuf_pool_stats(&pool, &st);
    assert_int_equal(st.in_use, 5);
    z_pbuf_free(p[1]);
    z_pbuf_free(p[0]);
    p[2]->next = p[3];
    z_pbuf_free_chain(p[2]);
    z_pbuf_free(p[4]);
    z_pbuf_free(NULL);
    z_pbuf_pool_stats(&pool, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.heap_in_use, 0);
    assert_int_equal(st.high_water, 5);
    assert_non_null(p[0] = z_pbuf_alloc(&pool, 0, 256));
    z_pbuf_free(p[0]);
    z_pbuf_pool_destroy(&pool);
}

/* ---- management API on the default stack
 * ------------------------------------------------------------ */

static void test_loopback_by_default(void **state)
{
    (void)state;
    struct zsock_if_info info[8];
    int n = zsock_if_list(info, 8);
    assert_true(n >= 1);
    assert_string_equal(info[0].name, "lo");
    assert_int_equal(info[0].index, 1);
    assert_true(info[0].flags & ZSOCK_IF_UP);
    assert_true(info[0].flags & ZSOCK_IF_LOOPBACK);
    assert_int_equal(info[0].n_ipv4, 1);
    assert_int_equal(ntohl(info[0].ipv4[0].s_addr), 0x7f000001u);
    assert_int_equal(info[0].prefix_len[0], 8);
    assert_string_equal(info[0].kind, "loopback");
    assert_int_equal(zsock_if_nametoindex("lo"), 1);
    assert_int_equal(zsock_if_nametoindex("nope0"), -ENODEV);
    assert_int_equal(zsock_if_list(NULL, 0), n);
}

static void test_management_errors(void **state)
{
    (void)state;
    struct in_addr a = {htonl(0x7f000002u)};
    struct in_addr mc = {htonl(0xe0000001u)};
    assert_int_equal(zsock_if_add_ipv4(99, &a, 8), -ENODEV);
    assert_int_equal(zsock_if_add_ipv4(1, &a, 33), -EINVAL);
    assert_int_equal(zsock_if_add_ipv4(1, &mc, 8), -EINVAL);
    assert_int_equal(zsock_if_add_ipv4(1, NULL, 8), -EINVAL);
    assert_int_equal(zsock_if_add_ipv4(1, &a, 8), 0);
    assert_int_equal(zsock_if_add_ipv4(1, &a, 8), -EEXIST);
    assert_int_equal(zsock_if_del_ipv4(1, &a), 0);
    assert_int_equal(zsock_if_del_ipv4(1, &a), -EADDRNOTAVAIL);
    assert_int_equal(zsock_if_set_mtu(1, 67), -EINVAL);
    assert_int_equal(zsock_if_set_mtu(1, 65537), -EINVAL);
    assert_int_equal(zsock_if_remove(1), -EPERM);
    assert_int_equal(zsock_if_remove(42), -ENODEV);
    uint8_t mcast_mac[6] = {0x01, 0, 0x5e, 0, 0, 1};
    assert_int_equal(zsock_if_set_mac(1, mcast_mac), -EINVAL);
    assert_int_equal(zsock_if_stats(1, NULL), -EINVAL);
    assert_int_equal(zsock_net_stats(NULL), -EINVAL);
    assert_int_equal(zsock_if_add_tap(NULL), -EINVAL);
    assert_int_equal(zsock_if_add_pipe(NULL, "x"), -EINVAL);
}

static void test_down_interface_drops(void **state)
{
    (void)state;
    int s = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
    to.sin_addr.s_addr = htonl(0x7f000001u);
    assert_int_equal(zsock_if_down(1), 0);
    expect_errno(zsock_sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), ENETUNREACH);
    assert_int_equal(zsock_if_up(1), 0);
    assert_int_equal(zsock_sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
    zsock_close(s);
}

static void test_stats_and_capture(void **state)
{
    (void)state;
    char path[] = "/tmp/zsock-capture-XXXXXX";
    int tmp = mkstemp(path);
    assert_true(tmp >= 0);
    close(tmp);
    struct zsock_if_stats before, after;
    assert_int_equal(zsock_if_stats(1, &before), 0);
    assert_int_equal(zsock_if_capture(1, path), 0);

    int a = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    int b = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(7777)};
    sin.sin_addr.s_addr = htonl(0x7f000001u);
    assert_int_equal(zsock_bind(b, (struct sockaddr *)&sin, sizeof(sin)), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(zsock_sendto(a, "cap", 3, 0, (struct sockaddr *)&sin, sizeof(sin)), 3);
    }
    assert_int_equal(zsock_if_capture(1, NULL), 0);
    assert_int_equal(zsock_if_stats(1, &after), 0);
    /* Loopback counts each packet once sent and once received. */
    assert_int_equal(after.tx_packets - before.tx_packets, 3);
    assert_int_equal(after.rx_packets - before.rx_packets, 3);
    assert_int_equal(after.tx_bytes - before.tx_bytes, 3 * (20 + 8 + 3));

    /* The file: a pcap header (LINKTYPE_RAW) and 3 records of 31 bytes:
     * loopback's packets are captured once, when sent. */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t hdr[24];
    assert_int_equal(fread(hdr, 1, 24, f), 24);
    uint32_t magic, linktype;
    memcpy(&magic, hdr, 4);
    memcpy(&linktype, hdr + 20, 4);
    assert_int_equal(magic, 0xa1b2c3d4u);
    assert_int_equal(linktype, Z_PCAP_LINKTYPE_RAW);
    int records = 0;
    uint8_t rec[16], pkt[64];
    while (fread(rec, 1, 16, f) == 16) {
        uint32_t incl;
        memcpy(&incl, rec + 8, 4);
        assert_int_equal(incl, 31);
        assert_int_equal(fread(pkt, 1, incl, f), incl);
        struct z_ipv4_hdr ip;
        assert_int_equal(z_ipv4_parse(pkt, incl, &ip), 20);
        assert_int_equal(ip.proto, Z_IPPROTO_UDP);
        records++;
    }
    fclose(f);
    unlink(path);
    assert_int_equal(records, 3);
    assert_int_equal(zsock_if_capture(1, "/nonexistent-dir/x.pcap"), -ENOENT);
    zsock_close(a);
    zsock_close(b);
}

/* ---- two real-clock stacks joined by a frame pipe
 * ------------------------------------------------------ */

/* Two fragments of one UDP datagram to 192.0.2.2:4000 handed to nif as if
 * received: reassembled and delivered to fd, or, built without
 * CONFIG_NET_IPV4_FRAGMENT, each counted in frag_rx and reasm_drop and the
 * datagram never arrives. */
static void frags_to(struct z_stack *s, struct z_netif *nif, int fd)
{
    uint8_t udp[Z_UDP_HLEN + 24];
    for (size_t i = 0; i < 24; i++) {
        udp[Z_UDP_HLEN + i] = (uint8_t)(0xc0 + i);
    }
    assert_true(z_udp_emit(udp, sizeof(udp), 0xc0000201u, 0xc0000202u, 5000, 4000, 24) >= 0);
    z_stack_lock(s);
    uint64_t rx0 = s->stats.ipv4.frag_rx, drop0 = s->stats.ipv4.reasm_drop;
    uint64_t ok0 = s->stats.ipv4.reasm_ok;
    /* 16 bytes (a multiple of 8) with MF, then the last 16 at offset 2 * 8. */
    for (int k = 0; k < 2; k++) {
        uint8_t frame[Z_ETH_HLEN + Z_IPV4_HLEN + 16];
        struct z_eth_hdr eth = {.type = Z_ETHERTYPE_IPV4};
        memcpy(eth.dst, nif->mac, Z_ETH_ALEN);
        memcpy(eth.src, "\x02\x00\x00\x00\x00\x09", Z_ETH_ALEN);
        z_eth_emit(frame, Z_ETH_HLEN, &eth);
        struct z_ipv4_hdr ip = {
            .total_len = Z_IPV4_HLEN + 16,
            .id = 0x4242,
            .frag = (uint16_t)(k == 0 ? Z_IPV4_FLAG_MF : 2),
            .ttl = 64,
            .proto = Z_IPPROTO_UDP,
            .src = 0xc0000201u,
            .dst = 0xc0000202u,
        };
        z_ipv4_emit(frame + Z_ETH_HLEN, Z_IPV4_HLEN, &ip);
        memcpy(frame + Z_ETH_HLEN + Z_IPV4_HLEN, udp + 16 * k, 16);
        struct z_pbuf *p = z_pbuf_alloc(&s->pool, 0, sizeof(frame));
        assert_non_null(p);
        memcpy(z_pbuf_put(p, sizeof(frame)), frame, sizeof(frame));
        z_netif_input_locked(nif, p);
    }
    uint64_t rx = s->stats.ipv4.frag_rx - rx0, drop = s->stats.ipv4.reasm_drop - drop0;
    uint64_t ok = s->stats.ipv4.reasm_ok - ok0;
    z_stack_unlock(s);
    assert_int_equal(rx, 2);
    uint8_t in[64];
    if (CONFIG_NET_IPV4_FRAGMENT) {
        assert_int_equal(ok, 1);
        assert_int_equal(drop, 0);
        assert_int_equal(zsock_recv(fd, in, sizeof(in), 0), 24);
        assert_memory_equal(in, udp + Z_UDP_HLEN, 24);
    } else {
        assert_int_equal(ok, 0);
        assert_int_equal(drop, 2);
        errno = 0;
        assert_int_equal(zsock_recv(fd, in, sizeof(in), ZSOCK_MSG_DONTWAIT), -1);
        assert_int_equal(errno, EAGAIN);
    }
}

static void test_frame_pipe_between_stacks(void **state)
{
    (void)state;
    char pa[64], pb[64];
    snprintf(pa, sizeof(pa), "/tmp/zsock-pipe-a-%d", (int)getpid());
    snprintf(pb, sizeof(pb), "/tmp/zsock-pipe-b-%d", (int)getpid());
    struct z_stack_config c = {.name = "p"};
    struct z_stack *sa = z_stack_create(&c), *sb = z_stack_create(&c);
    assert_non_null(sa);
    assert_non_null(sb);
    int err = 0;
    z_stack_lock(sa);
    struct z_netif *ia = z_pipe_add_locked(sa, pa, pb, &err);
    assert_non_null(ia);
    z_netif_add_ipv4_locked(ia, 0xc0000201u, 0xffffff00u);
    z_netif_set_up_locked(ia, true);
    z_stack_unlock(sa);
    z_stack_lock(sb);
    struct z_netif *ib = z_pipe_add_locked(sb, pb, pa, &err);
    assert_non_null(ib);
    z_netif_add_ipv4_locked(ib, 0xc0000202u, 0xffffff00u);
    z_netif_set_up_locked(ib, true);
    z_stack_unlock(sb);
    assert_int_equal(z_stack_start(sa), 0);
    assert_int_equal(z_stack_start(sb), 0);

    int ua = z_inet_socket_on(sa, SOCK_DGRAM, 0, false);
    int ub = z_inet_socket_on(sb, SOCK_DGRAM, 0, false);
    struct sockaddr_in bsin = {.sin_family = AF_INET, .sin_port = htons(4000)};
    bsin.sin_addr.s_addr = htonl(0xc0000202u);
    assert_int_equal(zsock_bind(ub, (struct sockaddr *)&bsin, sizeof(bsin)), 0);
    struct zsock_timeval tv = {.tv_sec = 5};
    zsock_setsockopt(ub, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    static uint8_t big[30000], in[30000];
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)(i * 31);
    }
    if (CONFIG_NET_IPV4_FRAGMENT) {
        /* The first datagram waits in A's ARP queue until B answers. */
        assert_int_equal(
            zsock_sendto(ua, big, sizeof(big), 0, (struct sockaddr *)&bsin, sizeof(bsin)),
            (ssize_t)sizeof(big));
        assert_int_equal(zsock_recv(ub, in, sizeof(in), 0), (ssize_t)sizeof(big));
        assert_memory_equal(in, big, sizeof(big));
    } else {
        /* Without fragmentation what exceeds the MTU (1500) is refused and
         * the largest datagram that fits goes through, after ARP. */
        errno = 0;
        assert_int_equal(
            zsock_sendto(ua, big, sizeof(big), 0, (struct sockaddr *)&bsin, sizeof(bsin)), -1);
        assert_int_equal(errno, EMSGSIZE);
        errno = 0;
        assert_int_equal(zsock_sendto(ua, big, 1473, 0, (struct sockaddr *)&bsin, sizeof(bsin)),
                         -1);
        assert_int_equal(errno, EMSGSIZE);
        assert_int_equal(zsock_sendto(ua, big, 1472, 0, (struct sockaddr *)&bsin, sizeof(bsin)),
                         1472);
        assert_int_equal(zsock_recv(ub, in, sizeof(in), 0), 1472);
        assert_memory_equal(in, big, 1472);
    }
    frags_to(sb, ib, ub);
    zsock_close(ua);
    zsock_close(ub);
    z_stack_destroy(sa);
    z_stack_destroy(sb);
    assert_int_equal(access(pa, F_OK), -1); /* socket files removed */
}

/* The address syntax of ZSOCK_IPV4, ZSOCK_GATEWAY and the tools' --ip. */
static void test_parse_ipv4_prefix(void **state)
{
    (void)state;
    struct in_addr a;
    int len = -1;
    assert_int_equal(zsock_parse_ipv4_prefix("192.0.2.7/25", &a, &len), 0);
    assert_int_equal(ntohl(a.s_addr), 0xc0000207u);
    assert_int_equal(len, 25);
    assert_int_equal(zsock_parse_ipv4_prefix("10.1.2.3", &a, &len), 0);
    assert_int_equal(ntohl(a.s_addr), 0x0a010203u);
    assert_int_equal(len, 24);
    assert_int_equal(zsock_parse_ipv4_prefix("10.1.2.3/0", &a, &len), 0);
    assert_int_equal(len, 0);
    assert_int_equal(zsock_parse_ipv4_prefix("10.1.2.3/33", &a, &len), -EINVAL);
    assert_int_equal(zsock_parse_ipv4_prefix("10.1.2.3/2x", &a, &len), -EINVAL);
    assert_int_equal(zsock_parse_ipv4_prefix("10.1.2/24", &a, &len), -EINVAL);
    assert_int_equal(zsock_parse_ipv4_prefix("", &a, &len), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pbuf_pool),         cmocka_unit_test(test_loopback_by_default),
        cmocka_unit_test(test_management_errors), cmocka_unit_test(test_down_interface_drops),
        cmocka_unit_test(test_stats_and_capture), cmocka_unit_test(test_frame_pipe_between_stacks),
        cmocka_unit_test(test_parse_ipv4_prefix),
    };
    return cmocka_run_group_tests_name("netif", tests, NULL, NULL);
}
