/* Whole stacks over a simulated Ethernet segment under a virtual clock:
 * ARP, UDP across the wire, fragmentation and reassembly under loss,
 * duplication and reordering, reassembly limits and timeouts, ICMP, hostile
 * frames, pool exhaustion, and determinism (same seed, same run). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <zsock/config.h>
#include <zsock/socket.h>

#include "net/sim.h"
#include "sockets/inet.h"
#include "unit/test_util.h"

#define IP_A 0xc0000201u /* 192.0.2.1 */
#define IP_B 0xc0000202u /* 192.0.2.2 */

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0xb};

struct world {
    struct z_simnet *net;
    struct z_stack *a, *b;
    struct z_netif *ia, *ib;
};

static void world_up_cfg(struct world *w, uint64_t seed, const struct z_stack_config *cb)
{
    w->net = z_simnet_create(seed);
    struct z_stack_config ca = {.name = "A", .virtual_clock = true};
    w->a = z_stack_create(&ca);
    w->b = z_stack_create(cb);
    assert_non_null(w->net);
    assert_non_null(w->a);
    assert_non_null(w->b);
    w->ia = z_simnet_attach(w->net, w->a, MAC_A);
    w->ib = z_simnet_attach(w->net, w->b, MAC_B);
    assert_non_null(w->ia);
    assert_non_null(w->ib);
    z_stack_lock(w->a);
    z_netif_add_ipv4_locked(w->ia, IP_A, 0xffffff00u);
    z_stack_unlock(w->a);
    z_stack_lock(w->b);
    z_netif_add_ipv4_locked(w->ib, IP_B, 0xffffff00u);
    z_stack_unlock(w->b);
}

static void world_up(struct world *w, uint64_t seed, uint32_t pbufs_b)
{
    struct z_stack_config cb = {.name = "B", .virtual_clock = true, .pbuf_count = pbufs_b};
    world_up_cfg(w, seed, &cb);
}

static void world_down(struct world *w)
{
    z_stack_destroy(w->a);
    z_stack_destroy(w->b);
    z_simnet_destroy(w->net);
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(addr);
    return sin;
}

static int udp_on(struct z_stack *s, uint32_t addr, uint16_t port)
{
    int fd = z_inet_socket_on(s, SOCK_DGRAM, 0, true);
    assert_true(fd >= 0);
    struct sockaddr_in sin = sin_of(addr, port);
    assert_int_equal(zsock_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    return fd;
}

static ssize_t send_to(int fd, const void *buf, size_t len, uint32_t addr, uint16_t port)
{
    struct sockaddr_in to = sin_of(addr, port);
    return zsock_sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to));
}

/* Deterministic datagram content: the sequence number, then a pattern. */
static void fill_payload(uint8_t *p, size_t len, uint32_t seq)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)(seq * 7 + i * 13 + (i >> 8));
    }
    if (len >= 4) {
        memcpy(p, &seq, 4);
    }
}

static void test_arp_and_udp_across(void **state)
{
    (void)state;
    struct world w;
    world_up(&w, 1, 0);
    int sa = udp_on(w.a, IP_A, 1000);
    int sb = udp_on(w.b, IP_B, 2000);
    assert_int_equal(send_to(sa, "over the wire", 13, IP_B, 2000), 13);
    z_simnet_run(w.net, 50000);

    char buf[64];
    struct sockaddr_in from;
    socklen_t fl = sizeof(from);
    assert_int_equal(zsock_recvfrom(sb, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 13);
    assert_memory_equal(buf, "over the wire", 13);
    assert_int_equal(ntohl(from.sin_addr.s_addr), IP_A);
    assert_int_equal(ntohs(from.sin_port), 1000);
    /* Each side announced its address once; then A asked and B answered. */
    assert_int_equal(w.a->stats.arp.tx, 2);
    assert_int_equal(w.b->stats.arp.requests_rx, 2);
    assert_int_equal(w.a->stats.arp.replies_rx, 1);
    /* B learnt A from the request, so its answer needs no ARP of its own. */
    assert_int_equal(send_to(sb, "back", 4, IP_A, 1000), 4);
    z_simnet_run(w.net, 50000);
    assert_int_equal(zsock_recv(sa, buf, sizeof(buf), 0), 4);
    assert_int_equal(w.b->stats.arp.tx, 2); /* the announcement and the reply */
    zsock_close(sa);
    zsock_close(sb);
    world_down(&w);
}

static void test_unresolved_arp_drops_and_counts(void **state)
{
    (void)state;
    struct world w;
    world_up(&w, 2, 0);
    int sa = udp_on(w.a, IP_A, 1000);
    /* Nobody has .99: three requests, then the queued packets are dropped. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(send_to(sa, "x", 1, 0xc0000263u, 9), 1);
    }
    z_simnet_run(w.net, 5 * 1000000);
    assert_int_equal(w.a->stats.arp.tx, 1 + 3); /* the announcement, then three requests */
    assert_int_equal(w.a->stats.arp.unresolved, 3);
    /* The segment still works. */
    int sb = udp_on(w.b, IP_B, 2000);
    assert_int_equal(send_to(sa, "ok", 2, IP_B, 2000), 2);
    z_simnet_run(w.net, 50000);
    char c[2];
    assert_int_equal(zsock_recv(sb, c, 2, 0), 2);
    zsock_close(sa);
    zsock_close(sb);
    world_down(&w);
}

/* Send `n` datagrams of pseudo-random sizes up to `max`; every one that
 * arrives must be exact and arrive at most once per copy sent. */
static void exchange(struct world *w, int n, size_t max, int *received)
{
    int sa = udp_on(w->a, IP_A, 1000);
    int sb = udp_on(w->b, IP_B, 2000);
    int big = 8 << 20;
    assert_int_equal(zsock_setsockopt(sb, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
    uint8_t *buf = malloc(65536), *in = malloc(65536);
    int *seen = calloc((size_t)n, sizeof(int));
    rng_seed(42);
    size_t *sizes = calloc((size_t)n, sizeof(size_t));
    for (int i = 0; i < n; i++) {
        sizes[i] = 4 + rng_below((uint32_t)(max - 3));
        fill_payload(buf, sizes[i], (uint32_t)i);
        assert_int_equal(send_to(sa, buf, sizes[i], IP_B, 2000), (ssize_t)sizes[i]);
        z_simnet_run(w->net, 2000);
    }
    z_simnet_run(w->net, 2 * 1000000);
    *received = 0;
    for (;;) {
        ssize_t r = zsock_recv(sb, in, 65536, 0);
        if (r < 0) {
            assert_int_equal(errno, EAGAIN);
            break;
        }
        uint32_t seq;
        assert_true(r >= 4);
        memcpy(&seq, in, 4);
        assert_true(seq < (uint32_t)n);
        assert_int_equal((size_t)r, sizes[seq]);
        fill_payload(buf, sizes[seq], seq);
        assert_memory_equal(in, buf, (size_t)r);
        seen[seq]++;
        (*received)++;
    }
    free(sizes);
    free(seen);
    free(buf);
    free(in);
    zsock_close(sa);
    zsock_close(sb);
}

static void test_fragmentation_clean_wire(void **state)
{
    (void)state;
    if (!CONFIG_NET_IPV4_FRAGMENT) {
        skip(); /* compiled out; test_reassembly_timeout_and_overlap checks the drop */
    }
    struct world w;
    world_up(&w, 3, 0);
    int got;
    exchange(&w, 200, 65507, &got);
    assert_int_equal(w.b->stats.udp.drop_rcvbuf, 0);
    assert_int_equal(got, 200);
    assert_true(w.a->stats.ipv4.frag_tx > 200);
    assert_int_equal(w.b->stats.ipv4.reasm_drop, 0);
    world_down(&w);
}

static void test_fragmentation_under_faults(void **state)
{
    (void)state;
    if (!CONFIG_NET_IPV4_FRAGMENT) {
        skip(); /* compiled out; test_reassembly_timeout_and_overlap checks the drop */
    }
    struct world w;
    world_up(&w, 4, 0);
    struct z_sim_faults f = {
        .loss_ppm = 20000,     /* 2 % */
        .dup_ppm = 20000,      /* 2 % */
        .reorder_ppm = 100000, /* 10 % */
        .delay_us = 200,
        .jitter_us = 300,
    };
    z_simnet_set_faults(w.net, &f);
    int got;
    exchange(&w, 400, 20000, &got);
    struct z_sim_stats st;
    z_simnet_stats(w.net, &st);
    assert_true(st.lost > 0 && st.duplicated > 0 && st.reordered > 0);
    /* Loss costs whole datagrams, never corrupts one; most still arrive. */
    assert_true(got > 200);
    assert_true(w.b->stats.ipv4.reasm_ok > 0);
    /* Incomplete datagrams time out and release their memory. */
    z_simnet_run(w.net, (int64_t)(CONFIG_NET_IPV4_REASM_TIMEOUT_MS + 1000) * 1000);
    assert_int_equal(w.b->reasm.count, 0);
    assert_int_equal(w.b->reasm.bytes, 0);
    world_down(&w);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct z_sim_faults f = {.loss_ppm = 50000, .reorder_ppm = 50000, .jitter_us = 500};
    struct z_sim_stats st[2];
    int got[2];
    for (int run = 0; run < 2; run++) {
        struct world w;
        world_up(&w, 99, 0);
        z_simnet_set_faults(w.net, &f);
        /* Fragmented datagrams when the stack can fragment. */
        exchange(&w, 100, CONFIG_NET_IPV4_FRAGMENT ? 9000 : 1472, &got[run]);
        z_simnet_stats(w.net, &st[run]);
        world_down(&w);
    }
    assert_int_equal(got[0], got[1]);
    assert_memory_equal(&st[0], &st[1], sizeof(st[0]));
}

/* ---- hostile and malformed input
 * ------------------------------------------------------------------ */

/* An Ethernet + IPv4 frame from A to B with the given IP payload. */
static size_t build_ip_frame(uint8_t *frame, uint8_t proto, uint16_t id, uint16_t frag,
                             const uint8_t *payload, size_t plen)
{
    struct z_eth_hdr eth = {.type = Z_ETHERTYPE_IPV4};
    memcpy(eth.dst, MAC_B, 6);
    memcpy(eth.src, MAC_A, 6);
    z_eth_emit(frame, Z_ETH_HLEN, &eth);
    struct z_ipv4_hdr ip = {
        .total_len = (uint16_t)(Z_IPV4_HLEN + plen),
        .id = id,
        .frag = frag,
        .ttl = 64,
        .proto = proto,
        .src = IP_A,
        .dst = IP_B,
    };
    z_ipv4_emit(frame + Z_ETH_HLEN, Z_IPV4_HLEN, &ip);
    memcpy(frame + Z_ETH_HLEN + Z_IPV4_HLEN, payload, plen);
    return Z_ETH_HLEN + Z_IPV4_HLEN + plen;
}

static void test_reassembly_timeout_and_overlap(void **state)
{
    (void)state;
    struct world w;
    world_up(&w, 5, 0);
    uint8_t frame[1600], payload[1480];
    memset(payload, 0x5a, sizeof(payload));
    size_t n;
    if (!CONFIG_NET_IPV4_FRAGMENT) {
        /* Built without reassembly: every fragment is counted and dropped
         * at once, nothing is held. */
        for (uint16_t i = 0; i < 10; i++) {
            n = build_ip_frame(frame, Z_IPPROTO_UDP, 77,
                               (uint16_t)(i < 9 ? Z_IPV4_FLAG_MF | i * 185 : i * 185), payload,
                               i < 9 ? 1480 : 100);
            z_simnet_inject(w.net, w.ia, frame, n);
        }
        z_simnet_run(w.net, 1000);
        assert_int_equal(w.b->stats.ipv4.frag_rx, 10);
        assert_int_equal(w.b->stats.ipv4.reasm_drop, 10);
        assert_int_equal(w.b->stats.ipv4.reasm_ok, 0);
        assert_int_equal(w.b->reasm.count, 0);
        world_down(&w);
        return;
    }
    /* A first fragment alone: held, then dropped at the timeout. */
    n = build_ip_frame(frame, Z_IPPROTO_UDP, 77, Z_IPV4_FLAG_MF, payload, 1480);
    z_simnet_inject(w.net, w.ia, frame, n);
    z_simnet_run(w.net, 1000);
    assert_int_equal(w.b->reasm.count, 1);
    z_simnet_run(w.net, (int64_t)(CONFIG_NET_IPV4_REASM_TIMEOUT_MS + 200) * 1000);
    assert_int_equal(w.b->reasm.count, 0);
    assert_int_equal(w.b->reasm.bytes, 0);
    uint64_t drops = w.b->stats.ipv4.reasm_drop;
    assert_true(drops >= 1);
    /* Overlapping fragments: the whole datagram goes. */
    n = build_ip_frame(frame, Z_IPPROTO_UDP, 78, Z_IPV4_FLAG_MF, payload, 1480);
    z_simnet_inject(w.net, w.ia, frame, n);
    n = build_ip_frame(frame, Z_IPPROTO_UDP, 78, (uint16_t)(Z_IPV4_FLAG_MF | 100), payload, 1480);
    z_simnet_inject(w.net, w.ia, frame, n);
    z_simnet_run(w.net, 1000);
    assert_int_equal(w.b->reasm.count, 0);
    assert_true(w.b->stats.ipv4.reasm_drop > drops);
    /* Endless fragments (never a last one) are bounded by the byte limit. */
    for (uint16_t i = 0; i < 4000; i++) {
        n = build_ip_frame(frame, Z_IPPROTO_UDP, (uint16_t)(1000 + i % 500),
                           (uint16_t)(Z_IPV4_FLAG_MF | ((i / 500) * 185)), payload, 1480);
        z_simnet_inject(w.net, w.ia, frame, n);
    }
    z_simnet_run(w.net, 100000);
    assert_true(w.b->reasm.count <= CONFIG_NET_IPV4_REASM_MAX);
    assert_true(w.b->reasm.bytes <= CONFIG_NET_IPV4_REASM_BYTES);
    z_simnet_run(w.net, (int64_t)(CONFIG_NET_IPV4_REASM_TIMEOUT_MS + 200) * 1000);
    assert_int_equal(w.b->reasm.count, 0);
    world_down(&w);
}

static void test_garbage_never_crashes(void **state)
{
    (void)state;
    struct world w;
    world_up(&w, 6, 0);
    int sb = udp_on(w.b, IP_B, 2000);
    uint8_t frame[2000];
    rng_seed(7);
    uint8_t good_payload[100];
    memset(good_payload, 1, sizeof(good_payload));
    for (int i = 0; i < 20000; i++) {
        /* Mutations of a valid UDP frame: truncation, flipped bytes, random lengths. */
        struct z_udp_hdr u;
        (void)u;
        size_t n = build_ip_frame(frame, (uint8_t)(i % 3 == 0 ? Z_IPPROTO_ICMP : Z_IPPROTO_UDP),
                                  (uint16_t)i, 0, good_payload, sizeof(good_payload));
        int flips = 1 + (int)rng_below(4);
        for (int k = 0; k < flips; k++) {
            frame[rng_below((uint32_t)n)] = (uint8_t)rng_next();
        }
        if (rng_below(4) == 0) {
            n = rng_below((uint32_t)n + 1);
        }
        memcpy(frame, MAC_B, 6); /* keep it addressed to B */
        z_simnet_inject(w.net, w.ia, frame, n);
        if (i % 100 == 0) {
            z_simnet_run(w.net, 1000);
        }
    }
    z_simnet_run(w.net, 100000);
    assert_true(w.b->stats.ipv4.drop_malformed > 0);
    /* Still fine: a real datagram gets through. */
    int sa = udp_on(w.a, IP_A, 1000);
    char drain[2048];
    while (zsock_recv(sb, drain, sizeof(drain), 0) >= 0) {
    }
    assert_int_equal(send_to(sa, "alive", 5, IP_B, 2000), 5);
    z_simnet_run(w.net, 50000);
    ssize_t r;
    do {
        r = zsock_recv(sb, drain, sizeof(drain), 0);
    } while (r >= 0 && !(r == 5 && memcmp(drain, "alive", 5) == 0));
    assert_int_equal(r, 5);
    zsock_close(sa);
    zsock_close(sb);
    world_down(&w);
}

static void test_arp_flood_bounded(void **state)
{
    (void)state;
    struct world w;
    world_up(&w, 8, 0);
    uint8_t frame[64];
    for (uint32_t i = 0; i < 10000; i++) {
        struct z_eth_hdr eth = {.type = Z_ETHERTYPE_ARP};
        memset(eth.dst, 0xff, 6);
        memcpy(eth.src, MAC_A, 6);
        z_eth_emit(frame, Z_ETH_HLEN, &eth);
        struct z_arp a = {.op = Z_ARP_OP_REPLY, .spa = 0x0a000000u + i, .tpa = IP_B};
        memcpy(a.sha, MAC_A, 6);
        a.sha[5] = (uint8_t)i;
        memcpy(a.tha, MAC_B, 6);
        z_arp_emit(frame + Z_ETH_HLEN, Z_ARP_LEN, &a);
        z_simnet_inject(w.net, w.ia, frame, Z_ETH_HLEN + Z_ARP_LEN);
    }
    z_simnet_run(w.net, 100000);
    int used = 0;
    for (int i = 0; i < w.ib->arp_size; i++) {
        used += w.ib->arp[i].state != Z_ARP_FREE;
    }
    assert_true(used <= w.ib->arp_size);
    /* B still resolves and reaches A. */
    int sa = udp_on(w.a, IP_A, 1000);
    int sb = udp_on(w.b, IP_B, 2000);
    assert_int_equal(send_to(sb, "hi", 2, IP_A, 1000), 2);
    z_simnet_run(w.net, 50000);
    char c[2];
    assert_int_equal(zsock_recv(sa, c, 2, 0), 2);
    zsock_close(sa);
    zsock_close(sb);
    world_down(&w);
}

static void test_pool_exhaustion_recovers(void **state)
{
    (void)state;
    struct world w;
    world_up(&w, 9, 32); /* B has only 32 packet buffers */
    int sa = udp_on(w.a, IP_A, 1000);
    int sb = udp_on(w.b, IP_B, 2000);
    /* Incomplete datagrams pin B's buffers until the pool runs dry. */
    uint8_t frame[1600], payload[1480] = {0};
    for (uint16_t i = 0; i < 200; i++) {
        size_t n = build_ip_frame(frame, Z_IPPROTO_UDP, (uint16_t)(500 + i), Z_IPV4_FLAG_MF,
                                  payload, 1480);
        z_simnet_inject(w.net, w.ia, frame, n);
    }
    z_simnet_run(w.net, 10000);
    struct z_pbuf_stats ps;
    z_pbuf_pool_stats(&w.b->pool, &ps);
    assert_true(ps.alloc_failures > 0 || w.b->stats.ipv4.reasm_drop > 0);
    /* After the reassembly timeout everything is back and traffic flows. */
    z_simnet_run(w.net, (int64_t)(CONFIG_NET_IPV4_REASM_TIMEOUT_MS + 200) * 1000);
    z_pbuf_pool_stats(&w.b->pool, &ps);
    assert_int_equal(ps.in_use, 0);
    assert_int_equal(send_to(sa, "after", 5, IP_B, 2000), 5);
    z_simnet_run(w.net, 50000);
    char buf[8];
    assert_int_equal(zsock_recv(sb, buf, sizeof(buf), 0), 5);
    zsock_close(sa);
    zsock_close(sb);
    world_down(&w);
}

/* A host whose buffers cannot hold a large datagram (no heap, as on a small
 * target): sending one fails at once, and receiving one frees its
 * reassembly slot as soon as it is complete instead of at the timeout. */
static void test_no_heap_limits(void **state)
{
    (void)state;
    struct world w;
    struct z_stack_config cb = {.name = "B", .virtual_clock = true, .pbuf_no_heap = true};
    world_up_cfg(&w, 11, &cb);
    int sa = udp_on(w.a, IP_A, 1000);
    int sb = udp_on(w.b, IP_B, 2000);
    static uint8_t big[3000];
    expect_errno(send_to(sb, big, sizeof(big), IP_A, 1000), EMSGSIZE);
    if (!CONFIG_NET_IPV4_FRAGMENT) {
        /* Nothing above the MTU leaves A either; what fits still arrives. */
        expect_errno(send_to(sa, big, 1473, IP_B, 2000), EMSGSIZE);
        assert_int_equal(send_to(sa, big, 1472, IP_B, 2000), 1472);
        z_simnet_run(w.net, 10000);
        char in1[2048];
        assert_int_equal(zsock_recv(sb, in1, sizeof(in1), 0), 1472);
        zsock_close(sa);
        zsock_close(sb);
        world_down(&w);
        return;
    }
    for (int i = 0; i < 2 * CONFIG_NET_IPV4_REASM_MAX; i++) {
        assert_int_equal(send_to(sa, big, sizeof(big), IP_B, 2000), (ssize_t)sizeof(big));
        z_simnet_run(w.net, 1000); /* let ARP resolve after the first */
    }
    z_simnet_run(w.net, 10000);
    assert_int_equal(w.b->reasm.count, 0);
    assert_int_equal(w.b->stats.ipv4.reasm_drop, 2 * CONFIG_NET_IPV4_REASM_MAX);
    /* Fragmented datagrams that fit still get through right away. */
    assert_int_equal(send_to(sa, big, 1800, IP_B, 2000), 1800);
    z_simnet_run(w.net, 10000);
    char in[2048];
    assert_int_equal(zsock_recv(sb, in, sizeof(in), 0), 1800);
    zsock_close(sa);
    zsock_close(sb);
    world_down(&w);
}

static void test_icmp_echo_and_port_unreachable(void **state)
{
    (void)state;
    struct world w;
    world_up(&w, 10, 0);
    uint8_t frame[200], icmp[64];
    struct z_icmp_hdr h = {.type = Z_ICMP_ECHO_REQUEST, .rest = (0x1234u << 16) | 1};
    uint8_t data[32];
    memset(data, 0xab, sizeof(data));
    z_icmp_emit(icmp, sizeof(icmp), &h, data, sizeof(data));
    size_t n = build_ip_frame(frame, Z_IPPROTO_ICMP, 1, 0, icmp, Z_ICMP_HLEN + sizeof(data));
    z_simnet_inject(w.net, w.ia, frame, n);
    z_simnet_run(w.net, 50000);
    assert_int_equal(w.b->stats.icmp.echo_rx, 1);
    assert_true(w.a->stats.icmp.rx >= 1); /* the reply reached A */

    int sa = z_inet_socket_on(w.a, SOCK_DGRAM, 0, true);
    struct sockaddr_in to = sin_of(IP_B, 9999);
    assert_int_equal(zsock_connect(sa, (struct sockaddr *)&to, sizeof(to)), 0);
    assert_int_equal(zsock_send(sa, "?", 1, 0), 1);
    z_simnet_run(w.net, 50000);
    char c;
    expect_errno(zsock_recv(sa, &c, 1, 0), ECONNREFUSED);
    expect_errno(zsock_recv(sa, &c, 1, 0), EAGAIN); /* reported once */
    assert_int_equal(w.b->stats.udp.drop_no_port, 1);
    zsock_close(sa);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arp_and_udp_across),
        cmocka_unit_test(test_unresolved_arp_drops_and_counts),
        cmocka_unit_test(test_fragmentation_clean_wire),
        cmocka_unit_test(test_fragmentation_under_faults),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_reassembly_timeout_and_overlap),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_arp_flood_bounded),
        cmocka_unit_test(test_pool_exhaustion_recovers),
        cmocka_unit_test(test_icmp_echo_and_port_unreachable),
        cmocka_unit_test(test_no_heap_limits),
    };
    return cmocka_run_group_tests_name("sim", tests, NULL, NULL);
}
