/* Bulk TCP between two zsock stacks on the simulated Ethernet segment: one
 * stream of ZSOCK_SIM_BYTES (default 64 MiB) from A to B per case, over a
 * 100 Mbit/s wire with no loss, 1 %, 5 % and 20 % loss, reordering with
 * duplication, and a 100 ms one-way delay with 0.1 % loss. Every byte must
 * arrive in order (a position-keyed pattern is checked) and the stream must
 * end with a clean EOF. Per case the test prints the virtual time, the
 * throughput, the retransmissions and the Mathis et al. estimate
 * MSS / RTT * sqrt(3/2) / sqrt(p) next to it. There is no timing assertion:
 * the only bound is a liveness cap in virtual time (LIVENESS_CAP_S) that
 * catches a stalled connection. The same cases run again over IPv6 (the
 * test_sim6_* cases: manual addresses 2001:db8::1 and ::2 on the two
 * stacks, AF_INET6 sockets), with the same figures printed and the
 * neighbor solicitations sent. Their figures vary from run to run where
 * frames are lost: the stack draws ND and MLD timers (ReachableTime, report
 * delays) from the OS's entropy, not from the simulation's seed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/socket.h>

#include "net/net.h"
#include "net/sim.h"
#include "net/tcp_pcb.h"
#include "sockets/inet.h"
#include "unit/test_sim_pair.h"
#include "unit/test_util.h"

#define SA(x) ((struct sockaddr *)&(x))

#define ADDR_A 0xc0000201u /* 192.0.2.1, the sender */
#define ADDR_B 0xc0000202u /* 192.0.2.2, the receiver */

static const uint8_t ADDR6_A[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}; /* 2001:db8::1 */
static const uint8_t ADDR6_B[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}; /* 2001:db8::2 */

/* Not a performance bound: a transfer still running after this much
 * virtual time has stalled. */
#define LIVENESS_CAP_S (7 * 86400)

#define SOCK_BUF (4 << 20) /* SO_SNDBUF / SO_RCVBUF on both ends */

struct sim_case {
    const char *test; /* the cmocka test's name */
    const char *name;
    int family; /* AF_INET or AF_INET6 */
    uint32_t loss_ppm, reorder_ppm, dup_ppm;
    int64_t delay_us;
    uint64_t rate_bps;
};

struct result {
    int64_t time_us;
    uint64_t retransmits;
    uint64_t timeouts;   /* retransmission timer expiries */
    uint64_t recoveries; /* fast recoveries entered */
    uint64_t segments;   /* TCP segments A sent */
    uint64_t ns_tx;      /* neighbor solicitations A sent (IPv6) */
    uint64_t arp_tx;     /* ARP requests A sent (IPv4) */
    double srtt_us;      /* mean of the sender's smoothed RTT over the transfer */
    uint16_t mss;
};

/* Byte `i` of the stream: depends on its position, so a lost, duplicated
 * or misplaced byte is caught. */
static uint8_t pattern(uint64_t i)
{
    uint64_t x = i * 0x9e3779b97f4a7c15ULL;
    return (uint8_t)(x >> 56 ^ i);
}

static size_t total_bytes(void)
{
    const char *e = getenv("ZSOCK_SIM_BYTES");
    if (e != NULL && *e != '\0') {
        char *end;
        unsigned long long v = strtoull(e, &end, 0);
        if (*end == '\0' && v > 0) {
            return (size_t)v;
        }
    }
    return (size_t)64 << 20;
}

/* The connection of stack `s` (the one of the pair it holds). */
static struct z_tcp_conn *conn_of(struct z_stack *s)
{
    for (struct z_tcp_pcb *p = s->tcp_pcbs; p != NULL; p = p->next) {
        if (!p->listening && p->conn.state != Z_TCP_CLOSED) {
            return &p->conn;
        }
    }
    return NULL;
}

static void set_bufs(int fd)
{
    int v = SOCK_BUF;
    assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
    assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
}

static void run_case(const struct sim_case *k, size_t total, struct result *res)
{
    struct sim_pair pair;
    sim_pair_up(&pair, 0x5eed0000u + k->loss_ppm + k->reorder_ppm, ADDR_A, ADDR_B);
    struct z_simnet *net = pair.net;
    struct z_stack *a = pair.a, *b = pair.b;
    struct z_netif *ia = pair.ia, *ib = pair.ib;
    struct sockaddr_in6 sb6 = {.sin6_family = AF_INET6, .sin6_port = htons(5001)};
    if (k->family == AF_INET6) {
        z_stack_lock(a);
        assert_int_equal(z_ipv6_add_addr_locked(ia, ADDR6_A, 64, ZSOCK_IPV6_ORIGIN_MANUAL,
                                                Z_ND_INFINITE, Z_ND_INFINITE),
                         0);
        z_stack_unlock(a);
        z_stack_lock(b);
        assert_int_equal(z_ipv6_add_addr_locked(ib, ADDR6_B, 64, ZSOCK_IPV6_ORIGIN_MANUAL,
                                                Z_ND_INFINITE, Z_ND_INFINITE),
                         0);
        z_stack_unlock(b);
        /* Duplicate address detection (a second) on a clean wire first. */
        z_simnet_run(net, 2000000);
        memcpy(&sb6.sin6_addr, ADDR6_B, 16);
    }
    struct z_sim_faults f = {.loss_ppm = k->loss_ppm,
                             .reorder_ppm = k->reorder_ppm,
                             .dup_ppm = k->dup_ppm,
                             .delay_us = k->delay_us,
                             .rate_bps = k->rate_bps};
    z_simnet_set_faults(net, &f);

    int l = z_inet_socket_fam_on(b, k->family, SOCK_STREAM, 0, true);
    assert_true(l >= 0);
    set_bufs(l);
    struct sockaddr_in sb = {.sin_family = AF_INET, .sin_port = htons(5001)};
    sb.sin_addr.s_addr = htonl(ADDR_B);
    const struct sockaddr *to = k->family == AF_INET6 ? SA(sb6) : SA(sb);
    socklen_t tolen = k->family == AF_INET6 ? sizeof(sb6) : sizeof(sb);
    assert_int_equal(zsock_bind(l, to, tolen), 0);
    assert_int_equal(zsock_listen(l, 4), 0);
    int c = z_inet_socket_fam_on(a, k->family, SOCK_STREAM, 0, true);
    assert_true(c >= 0);
    set_bufs(c);
    int64_t t0 = z_simnet_now(net);
    expect_errno(zsock_connect(c, to, tolen), EINPROGRESS);
    int s = -1;
    while (s < 0 && z_simnet_now(net) - t0 < 600LL * 1000000) {
        z_simnet_run(net, 1000);
        s = zsock_accept(l, NULL, NULL);
    }
    assert_true(s >= 0);
    zsock_fcntl(s, F_SETFL, O_NONBLOCK);
    if (k->family == AF_INET6) {
        /* The connection is an IPv6 one end to end: A's address as B's peer. */
        struct sockaddr_in6 peer;
        socklen_t plen = sizeof(peer);
        assert_int_equal(zsock_getpeername(s, SA(peer), &plen), 0);
        assert_int_equal(peer.sin6_family, AF_INET6);
        assert_memory_equal(&peer.sin6_addr, ADDR6_A, 16);
    }

    static uint8_t out[256 * 1024], in[256 * 1024];
    size_t sent = 0, got = 0;
    size_t pend_off = 0, pend_len = 0; /* bytes of out[] filled but not yet sent */
    bool shut = false, eof = false;
    double rtt_sum = 0;
    uint64_t rtt_n = 0;
    /* The wire runs `step` between application turns: 1 ms while bytes
     * move, growing to 100 ms while they do not (a retransmission timeout),
     * so that a slow case does not cost a turn per millisecond. */
    int64_t step = 1000;
    while (!eof && z_simnet_now(net) - t0 < LIVENESS_CAP_S * 1000000LL) {
        bool moved = false;
        while (sent < total) {
            if (pend_len == 0) {
                size_t n = total - sent < sizeof(out) ? total - sent : sizeof(out);
                for (size_t i = 0; i < n; i++) {
                    out[i] = pattern(sent + i);
                }
                pend_off = 0;
                pend_len = n;
            }
            ssize_t r = zsock_send(c, out + pend_off, pend_len, 0);
            if (r <= 0) {
                assert_int_equal(errno, EAGAIN);
                break;
            }
            sent += (size_t)r;
            pend_off += (size_t)r;
            pend_len -= (size_t)r;
            moved = true;
        }
        if (sent == total && !shut) {
            assert_int_equal(zsock_shutdown(c, ZSOCK_SHUT_WR), 0);
            shut = true;
        }
        for (;;) {
            ssize_t r = zsock_recv(s, in, sizeof(in), 0);
            if (r < 0) {
                assert_int_equal(errno, EAGAIN);
                break;
            }
            if (r == 0) {
                eof = true;
                break;
            }
            for (ssize_t i = 0; i < r; i++) {
                if (in[i] != pattern(got + (size_t)i)) {
                    fail_msg("%s: byte %zu is %#x, not %#x", k->name, got + (size_t)i, in[i],
                             pattern(got + (size_t)i));
                }
            }
            got += (size_t)r;
            assert_true(got <= total);
            moved = true;
        }
        step = moved ? 1000 : (step * 2 > 100000 ? 100000 : step * 2);
        z_stack_lock(a);
        struct z_tcp_conn *cc = conn_of(a);
        if (cc != NULL && cc->srtt_us > 0) {
            rtt_sum += (double)cc->srtt_us * (double)step; /* weighted by time */
            rtt_n += (uint64_t)step;
        }
        z_stack_unlock(a);
        z_simnet_run(net, step);
    }
    if (!eof) {
        fail_msg("%s: stalled: %zu of %zu bytes after %d s of virtual time", k->name, got, total,
                 LIVENESS_CAP_S);
    }
    assert_int_equal(got, total);
    res->time_us = z_simnet_now(net) - t0;
    z_stack_lock(a);
    struct z_tcp_conn *cc = conn_of(a);
    assert_non_null(cc);
    res->retransmits = cc->retransmits;
    res->timeouts = cc->timeouts;
    res->recoveries = cc->recoveries;
    res->mss = cc->mss;
    res->segments = a->stats.tcp.tx;
    res->ns_tx = a->stats.icmp6.ns_tx;
    res->arp_tx = a->stats.arp.tx;
    z_stack_unlock(a);
    res->srtt_us = rtt_n > 0 ? rtt_sum / (double)rtt_n : 0;

    /* The receiver's close finishes the stream cleanly both ways. */
    zsock_close(s);
    char byte;
    ssize_t r = -1;
    int64_t t1 = z_simnet_now(net);
    while (z_simnet_now(net) - t1 < 600LL * 1000000) {
        z_simnet_run(net, 10000);
        r = zsock_recv(c, &byte, 1, 0);
        if (r >= 0 || errno != EAGAIN) {
            break;
        }
    }
    assert_int_equal(r, 0);
    zsock_close(c);
    zsock_close(l);
    sim_pair_down(&pair);
}

static struct sim_case cases[] = {
    {"test_sim_bulk_clean", "clean", AF_INET, 0, 0, 0, 5000, 100000000},
    {"test_sim_bulk_loss_1", "loss 1%", AF_INET, 10000, 0, 0, 5000, 100000000},
    {"test_sim_bulk_loss_5", "loss 5%", AF_INET, 50000, 0, 0, 5000, 100000000},
    {"test_sim_bulk_loss_20", "loss 20%", AF_INET, 200000, 0, 0, 5000, 100000000},
    {"test_sim_bulk_reorder_dup", "reorder 2% + dup 1%", AF_INET, 0, 20000, 10000, 5000, 100000000},
    {"test_sim_bulk_long_delay", "delay 100ms, loss 0.1%", AF_INET, 1000, 0, 0, 100000, 100000000},
#if CONFIG_NET_IPV6
    /* The same over IPv6: 20 bytes more header per segment, the rest alike. */
    {"test_sim6_bulk_clean", "v6 clean", AF_INET6, 0, 0, 0, 5000, 100000000},
    {"test_sim6_bulk_loss_1", "v6 loss 1%", AF_INET6, 10000, 0, 0, 5000, 100000000},
    {"test_sim6_bulk_loss_5", "v6 loss 5%", AF_INET6, 50000, 0, 0, 5000, 100000000},
    {"test_sim6_bulk_loss_20", "v6 loss 20%", AF_INET6, 200000, 0, 0, 5000, 100000000},
    {"test_sim6_bulk_reorder_dup", "v6 reorder 2% + dup 1%", AF_INET6, 0, 20000, 10000, 5000,
     100000000},
    {"test_sim6_bulk_long_delay", "v6 delay 100ms, loss 0.1%", AF_INET6, 1000, 0, 0, 100000,
     100000000},
#endif
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void report(const struct sim_case *k, size_t total, const struct result *r)
{
    double secs = (double)r->time_us / 1e6;
    double mbps = (double)total * 8 / secs / 1e6;
    char model[96] = "n/a (no loss)";
    if (k->loss_ppm > 0 && r->srtt_us > 0) {
        /* With the measured mean srtt, and with the path's base RTT (two
         * delays; serialisation of a frame is 0.12 ms at 100 Mbit/s). */
        double p = k->loss_ppm / 1e6;
        double m = (double)r->mss * 8 * sqrt(1.5) / sqrt(p) / 1e6;
        double srtt = r->srtt_us / 1e6, base = 2.0 * (double)k->delay_us / 1e6;
        snprintf(model, sizeof(model), "%.2f Mbit/s (ratio %.2f), base RTT %.2f (ratio %.2f)",
                 m / srtt, mbps / (m / srtt), m / base, mbps / (m / base));
    }
    printf("  %-24s %9.2f s %9.2f Mbit/s  rexmit %6llu (%5.2f%% of %llu segs, %llu RTO, %llu "
           "recoveries)  srtt %6.1f ms  %s %llu  mathis %s\n",
           k->name, secs, mbps, (unsigned long long)r->retransmits,
           r->segments ? 100.0 * (double)r->retransmits / (double)r->segments : 0.0,
           (unsigned long long)r->segments, (unsigned long long)r->timeouts,
           (unsigned long long)r->recoveries, r->srtt_us / 1000,
           k->family == AF_INET6 ? "ns-tx" : "arp-tx",
           (unsigned long long)(k->family == AF_INET6 ? r->ns_tx : r->arp_tx), model);
    fflush(stdout);
}

/* One test per case of cases[]: its state is the case. */
static void test_sim_bulk(void **state)
{
    const struct sim_case *k = *state;
    size_t total = total_bytes();
    struct result r;
    memset(&r, 0, sizeof(r));
    run_case(k, total, &r);
    report(k, total, &r);
    if (k->family == AF_INET6 && k->loss_ppm <= 50000) {
        /* TCP's acknowledgements confirm B as a neighbor (RFC 4861 7.3.1):
         * resolution, DAD and no probing every ReachableTime on top. (At
         * 20 % loss, timeouts back off past ReachableTime: probes there are
         * right.) */
        assert_true(r.ns_tx <= 5);
    }
}

static int header(void **state)
{
    (void)state;
    printf("  %zu bytes A -> B per case, 100 Mbit/s, MSS and mean srtt as measured by the "
           "sender; Mathis = MSS/RTT * sqrt(3/2)/sqrt(p)\n",
           total_bytes());
    return 0;
}

int main(void)
{
    struct CMUnitTest tests[N_CASES];
    for (size_t i = 0; i < N_CASES; i++) {
        tests[i] = (struct CMUnitTest){cases[i].test, test_sim_bulk, fd_leak_setup,
                                       fd_leak_teardown, &cases[i]};
    }
    return cmocka_run_group_tests_name("tcp_sim", tests, header, NULL);
}
