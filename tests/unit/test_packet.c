/* AF_PACKET sockets. Two stacks on the simulated segment (virtual clock,
 * non-blocking sockets): SOCK_RAW and SOCK_DGRAM both ways, protocol
 * filters, packet types, promiscuous and multicast memberships, outgoing
 * copies, the receive queue limit and the errors of bad addresses and
 * lengths. On the loopback, through the call table of test_api.h, the same
 * bodies run against zsock and against Linux's packet sockets (root only;
 * skipped otherwise): errors, and an IPv4 packet seen by a SOCK_DGRAM
 * ETH_P_IP socket. A close wakes a thread blocked in recv. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <zsock/config.h>
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "unit/test_util.h"
#include "unit/test_api.h"
#include "unit/test_sim_pair.h"
#include "net/packet.h"
#include "sockets/inet.h"

#define IP_A     0xc0000201u /* 192.0.2.1 */
#define IP_B     0xc0000202u /* 192.0.2.2 */
#define ETH_TEST 0x88b5      /* IEEE local experimental Ethertype */
#define STEP_US  100000

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1}, MAC_B[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t MAC_OTHER[6] = {2, 0, 0, 0, 0, 0x99};
static const uint8_t MAC_GROUP[6] = {0x33, 0x33, 0, 0, 0x12, 0x34}; /* a group nobody joined */

/* ---- helpers ---------------------------------------------------------------------------- */

static void run(struct sim_pair *w)
{
    z_simnet_run(w->net, STEP_US);
}

static int pkt_on(struct z_stack *s, int type, uint16_t ethertype, int ifindex)
{
    int fd = z_packet_socket_on(s, type, htons(ethertype), true);
    assert_true(fd >= 0);
    if (ifindex != 0) {
        struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex};
        assert_int_equal(zsock_bind(fd, CSA(sll), sizeof(sll)), 0);
    }
    return fd;
}

/* An Ethernet frame: dst, src, type, then `len` bytes of `fill`. */
static size_t frame(uint8_t *buf, const uint8_t *dst, const uint8_t *src, uint16_t type,
                    uint8_t fill, size_t len)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = (uint8_t)(type >> 8);
    buf[13] = (uint8_t)type;
    memset(buf + 14, fill, len);
    return 14 + len;
}

/* Receive the next frame of Ethernet type `type` (skipping the stack's own
 * traffic, IPv6 and ARP, that an ETH_P_ALL socket also sees); its length,
 * or -1 when none is queued. */
static ssize_t recv_type(int fd, uint16_t type, uint8_t *buf, size_t cap, struct sockaddr_ll *from)
{
    for (;;) {
        socklen_t fl = sizeof(*from);
        ssize_t n = zsock_recvfrom(fd, buf, cap, ZSOCK_MSG_DONTWAIT, SA(*from), &fl);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            return -1;
        }
        assert_int_equal(fl, sizeof(*from));
        assert_int_equal(from->sll_family, AF_PACKET);
        if (from->sll_protocol == htons(type)) {
            return n;
        }
    }
}

/* An IPv4 packet (20-byte header, checksum set) holding a UDP datagram
 * (checksum 0: none) from src to dst (host order), port to port, with a
 * 4-byte payload; 32 bytes at p. */
static void ipv4_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t port, const char payload[4])
{
    const uint8_t hdr[12] = {0x45, 0, 0, 32, 0, 1, 0, 0, 64, IPPROTO_UDP};
    memcpy(p, hdr, sizeof(hdr));
    uint32_t s = htonl(src), d = htonl(dst);
    memcpy(p + 12, &s, 4);
    memcpy(p + 16, &d, 4);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    p[10] = (uint8_t)(~sum >> 8);
    p[11] = (uint8_t)~sum;
    const uint8_t udp[8] = {port >> 8, port & 0xff, port >> 8, port & 0xff, 0, 12, 0, 0};
    memcpy(p + 20, udp, sizeof(udp));
    memcpy(p + 28, payload, 4);
}

static void raw_send(int fd, const uint8_t *buf, size_t len)
{
    assert_int_equal(zsock_send(fd, buf, len, 0), (ssize_t)len);
}

/* What hop() received: the frame and its address. */
static uint8_t got[2048];
static struct sockaddr_ll got_from;

/* tx sends the frame, the segment runs, and rx's next frame of `type` goes
 * to got / got_from: its length, or -1 when none came. */
static ssize_t hop(struct sim_pair *w, int tx, const uint8_t *f, size_t len, int rx, uint16_t type)
{
    raw_send(tx, f, len);
    run(w);
    return recv_type(rx, type, got, sizeof(got), &got_from);
}

/* Close the test's descriptors and take the segment down. */
static void pair_done(struct sim_pair *w, const int *fds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(zsock_close(fds[i]), 0);
    }
    sim_pair_down(w);
}

/* ---- two stacks on the simulated segment ------------------------------------------------ */

static void test_raw_both_ways(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 1, IP_A, IP_B);
    int a = pkt_on(w.a, SOCK_RAW, ETH_P_ALL, w.ia->index);
    int a_tap = pkt_on(w.a, SOCK_RAW, ETH_P_ALL, 0); /* another socket of A's */
    int b = pkt_on(w.b, SOCK_RAW, ETH_TEST, w.ib->index);
    run(&w);
    uint8_t out[200], in[256];
    size_t len = frame(out, MAC_B, MAC_A, ETH_TEST, 0x5a, 100);
    raw_send(a, out, len);
    run(&w);

    struct sockaddr_ll from;
    assert_int_equal(recv_type(b, ETH_TEST, in, sizeof(in), &from), (ssize_t)len);
    assert_memory_equal(in, out, len);
    assert_int_equal(from.sll_ifindex, w.ib->index);
    assert_int_equal(from.sll_hatype, ARPHRD_ETHER);
    assert_int_equal(from.sll_pkttype, PACKET_HOST);
    assert_int_equal(from.sll_halen, 6);
    assert_memory_equal(from.sll_addr, MAC_A, 6);
    assert_int_equal(recv_type(b, ETH_TEST, in, sizeof(in), &from), -1);

    /* The sender never sees its own frame; A's other ETH_P_ALL socket sees
     * it leave. */
    assert_int_equal(recv_type(a, ETH_TEST, in, sizeof(in), &from), -1);
    assert_int_equal(recv_type(a_tap, ETH_TEST, in, sizeof(in), &from), (ssize_t)len);
    assert_memory_equal(in, out, len);
    assert_int_equal(from.sll_pkttype, PACKET_OUTGOING);
    assert_int_equal(from.sll_ifindex, w.ia->index);

    /* And back: B's socket sends to A by its own binding. */
    len = frame(out, MAC_A, MAC_B, ETH_TEST, 0xa5, 46);
    raw_send(b, out, len);
    run(&w);
    assert_int_equal(recv_type(a, ETH_TEST, in, sizeof(in), &from), (ssize_t)len);
    assert_memory_equal(in, out, len);
    assert_int_equal(from.sll_pkttype, PACKET_HOST);
    assert_memory_equal(from.sll_addr, MAC_B, 6);
    pair_done(&w, (int[]){a, a_tap, b}, 3);
}

static void test_dgram_both_ways(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 2, IP_A, IP_B);
    int a = pkt_on(w.a, SOCK_DGRAM, ETH_TEST, 0);
    int a_raw = pkt_on(w.a, SOCK_RAW, ETH_TEST, 0);
    int b = pkt_on(w.b, SOCK_DGRAM, ETH_TEST, 0);
    struct sockaddr_ll to = {.sll_family = AF_PACKET,
                             .sll_protocol = htons(ETH_TEST),
                             .sll_ifindex = w.ib->index,
                             .sll_halen = 6};
    memcpy(to.sll_addr, MAC_A, 6);
    const char msg[] = "payload without a link header";
    assert_int_equal(zsock_sendto(b, msg, sizeof(msg), 0, CSA(to), sizeof(to)),
                     (ssize_t)sizeof(msg));
    run(&w);

    uint8_t in[256];
    struct sockaddr_ll from;
    assert_int_equal(recv_type(a, ETH_TEST, in, sizeof(in), &from), (ssize_t)sizeof(msg));
    assert_memory_equal(in, msg, sizeof(msg));
    assert_int_equal(from.sll_ifindex, w.ia->index);
    assert_int_equal(from.sll_pkttype, PACKET_HOST);
    assert_memory_equal(from.sll_addr, MAC_B, 6);
    /* The frame zsock built, as a SOCK_RAW socket sees it. */
    assert_int_equal(recv_type(a_raw, ETH_TEST, in, sizeof(in), &from),
                     (ssize_t)(14 + sizeof(msg)));
    assert_memory_equal(in, MAC_A, 6);
    assert_memory_equal(in + 6, MAC_B, 6);
    assert_int_equal(in[12] << 8 | in[13], ETH_TEST);
    assert_memory_equal(in + 14, msg, sizeof(msg));

    /* Back to where it came from: the sender's sockaddr_ll as given. */
    from.sll_ifindex = w.ia->index;
    assert_int_equal(zsock_sendto(a, "r", 1, 0, CSA(from), sizeof(from)), 1);
    run(&w);
    assert_int_equal(recv_type(b, ETH_TEST, in, sizeof(in), &from), 1);
    assert_int_equal(in[0], 'r');
    assert_memory_equal(from.sll_addr, MAC_A, 6);
    pair_done(&w, (int[]){a, a_raw, b}, 3);
}

/* Protocol filters: ETH_P_IP, ETH_P_ARP, an unbound protocol 0; the
 * stack's UDP socket still gets its datagram. */
static void test_protocol_filters(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 3, IP_A, IP_B);
    int ip = pkt_on(w.a, SOCK_DGRAM, ETH_P_IP, 0);
    int arp = pkt_on(w.a, SOCK_RAW, ETH_P_ARP, 0);
    int none = z_packet_socket_on(w.a, SOCK_RAW, 0, true);
    int other = pkt_on(w.a, SOCK_RAW, ETH_TEST, 0);
    assert_true(none >= 0);
    int ua = z_inet_socket_on(w.a, SOCK_DGRAM, 0, true);
    int ub = z_inet_socket_on(w.b, SOCK_DGRAM, 0, true);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(7000), .sin_addr.s_addr = htonl(IP_A)};
    assert_int_equal(zsock_bind(ua, CSA(sa), sizeof(sa)), 0);
    assert_int_equal(zsock_sendto(ub, "udp!", 4, 0, CSA(sa), sizeof(sa)), 4);
    for (int i = 0; i < 5; i++) {
        run(&w);
    }
    uint8_t in[256];
    struct sockaddr_ll from;
    /* B's ARP request, broadcast. */
    ssize_t n = recv_type(arp, ETH_P_ARP, in, sizeof(in), &from);
    assert_true(n >= 14 + 28);
    assert_int_equal(from.sll_pkttype, PACKET_BROADCAST);
    assert_memory_equal(in, "\xff\xff\xff\xff\xff\xff", 6);
    /* The IPv4 packet, without its Ethernet header: UDP, to port 7000. */
    n = recv_type(ip, ETH_P_IP, in, sizeof(in), &from);
    assert_int_equal(n, 20 + 8 + 4);
    assert_int_equal(in[0], 0x45);
    assert_int_equal(in[9], IPPROTO_UDP);
    assert_int_equal(in[22] << 8 | in[23], 7000);
    assert_memory_equal(in + 28, "udp!", 4);
    assert_int_equal(from.sll_pkttype, PACKET_HOST);
    char c;
    expect_errno(zsock_recv(none, &c, 1, ZSOCK_MSG_DONTWAIT), EAGAIN);
    expect_errno(zsock_recv(other, &c, 1, ZSOCK_MSG_DONTWAIT), EAGAIN);
    char buf[8];
    assert_int_equal(zsock_recv(ua, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT), 4);
    /* Protocol 0 then bound to ETH_P_IP: it takes the next one. */
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};
    assert_int_equal(zsock_bind(none, CSA(sll), sizeof(sll)), 0);
    assert_int_equal(zsock_sendto(ub, "udp!", 4, 0, CSA(sa), sizeof(sa)), 4);
    run(&w);
    assert_true(recv_type(none, ETH_P_IP, in, sizeof(in), &from) > 14 + 20);
    /* 802.3 frames (a length where the type goes): LLC, and raw IPX. */
    int llc = pkt_on(w.a, SOCK_DGRAM, ETH_P_802_2, 0);
    int ipx = pkt_on(w.a, SOCK_DGRAM, ETH_P_802_3, 0);
    uint8_t f[60];
    frame(f, MAC_A, MAC_B, 46, 0x42, 46); /* LLC: DSAP/SSAP 0x42 */
    z_simnet_inject(w.net, w.ib, f, sizeof(f));
    frame(f, MAC_A, MAC_B, 46, 0xff, 46); /* IPX: 0xffff checksum first */
    z_simnet_inject(w.net, w.ib, f, sizeof(f));
    run(&w);
    assert_int_equal(recv_type(llc, ETH_P_802_2, in, sizeof(in), &from), 46);
    assert_int_equal(in[0], 0x42);
    assert_int_equal(recv_type(ipx, ETH_P_802_3, in, sizeof(in), &from), 46);
    assert_int_equal(in[0], 0xff);
    assert_int_equal(recv_type(llc, ETH_P_802_2, in, sizeof(in), &from), -1);
    pair_done(&w, (int[]){ip, arp, none, other, ua, ub, llc, ipx}, 8);
}

/* Frames to another host's MAC reach packet sockets only while the
 * interface is promiscuous, and never the IP stack. */
static void test_promiscuous(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 4, IP_A, IP_B);
    int a = pkt_on(w.a, SOCK_RAW, ETH_P_IP, 0);
    int ua = z_inet_socket_on(w.a, SOCK_DGRAM, 0, true);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7000)};
    assert_int_equal(zsock_bind(ua, CSA(sa), sizeof(sa)), 0);
    int b = pkt_on(w.b, SOCK_RAW, ETH_P_IP, w.ib->index);
    /* An IPv4 UDP datagram to A's address, in a frame to another MAC. */
    uint8_t out[64] = {0};
    frame(out, MAC_OTHER, MAC_B, ETH_P_IP, 0, 0);
    ipv4_udp(out + 14, IP_B, IP_A, 7000, "prom");
    size_t len = 14 + 32;

    assert_int_equal(hop(&w, b, out, len, a, ETH_P_IP), -1);

    int p2 = pkt_on(w.a, SOCK_RAW, ETH_TEST, 0); /* its membership serves every socket */
    struct packet_mreq mr = {.mr_ifindex = w.ia->index, .mr_type = PACKET_MR_PROMISC};
    assert_int_equal(zsock_setsockopt(p2, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_int_equal(hop(&w, b, out, len, a, ETH_P_IP), (ssize_t)len);
    assert_int_equal(got_from.sll_pkttype, PACKET_OTHERHOST);
    assert_memory_equal(got, out, len);
    char c[8];
    expect_errno(zsock_recv(ua, c, sizeof(c), ZSOCK_MSG_DONTWAIT), EAGAIN);

    /* The same datagram to A's MAC: the stack takes it (so it was valid). */
    memcpy(out, MAC_A, 6);
    assert_int_equal(hop(&w, b, out, len, a, ETH_P_IP), (ssize_t)len);
    assert_int_equal(got_from.sll_pkttype, PACKET_HOST);
    assert_int_equal(zsock_recv(ua, c, sizeof(c), ZSOCK_MSG_DONTWAIT), 4);

    /* Closing the socket drops its membership. */
    memcpy(out, MAC_OTHER, 6);
    zsock_close(p2);
    assert_int_equal(hop(&w, b, out, len, a, ETH_P_IP), -1);

    /* Added twice, dropped twice (a count, as Linux). */
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_int_equal(hop(&w, b, out, len, a, ETH_P_IP), (ssize_t)len);
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_int_equal(hop(&w, b, out, len, a, ETH_P_IP), -1);
    /* Dropping one not held succeeds, as on Linux. */
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);
    pair_done(&w, (int[]){a, ua, b}, 3);
}

static void test_multicast_membership(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 5, IP_A, IP_B);
    int a = pkt_on(w.a, SOCK_DGRAM, ETH_TEST, 0);
    int b = pkt_on(w.b, SOCK_RAW, ETH_TEST, w.ib->index);
    uint8_t out[64];
    size_t len = frame(out, MAC_GROUP, MAC_B, ETH_TEST, 7, 20);
    assert_int_equal(hop(&w, b, out, len, a, ETH_TEST), -1);

    struct packet_mreq mr = {
        .mr_ifindex = w.ia->index, .mr_type = PACKET_MR_MULTICAST, .mr_alen = 6};
    memcpy(mr.mr_address, MAC_GROUP, 6);
    mr.mr_address[5] ^= 1; /* another group first: not this one */
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_int_equal(hop(&w, b, out, len, a, ETH_TEST), -1);
    mr.mr_address[5] ^= 1;
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
    assert_int_equal(hop(&w, b, out, len, a, ETH_TEST), 20);
    assert_int_equal(got_from.sll_pkttype, PACKET_MULTICAST);
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);

    /* All multicast; a unicast frame to another host is still not taken. */
    struct packet_mreq all = {.mr_ifindex = w.ia->index, .mr_type = PACKET_MR_ALLMULTI};
    assert_int_equal(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &all, sizeof(all)), 0);
    raw_send(b, out, len);
    frame(out, MAC_OTHER, MAC_B, ETH_TEST, 7, 20);
    assert_int_equal(hop(&w, b, out, len, a, ETH_TEST), 20);
    assert_int_equal(got_from.sll_pkttype, PACKET_MULTICAST);
    assert_int_equal(recv_type(a, ETH_TEST, got, sizeof(got), &got_from), -1);

    /* Bad memberships. */
    struct packet_mreq bad = mr;
    bad.mr_alen = 9;
    expect_errno(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &bad, sizeof(bad)), EINVAL);
    bad = mr;
    bad.mr_alen = 4;
    expect_errno(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &bad, sizeof(bad)), EINVAL);
    expect_errno(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr) - 1),
                 EINVAL);
    pair_done(&w, (int[]){a, b}, 2);
}

/* Lengths: the MTU plus the link header for SOCK_RAW, the MTU for
 * SOCK_DGRAM; then a down interface. */
static void test_lengths_and_down(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 6, IP_A, IP_B);
    int raw = pkt_on(w.a, SOCK_RAW, ETH_TEST, w.ia->index);
    int dg = pkt_on(w.a, SOCK_DGRAM, ETH_TEST, w.ia->index);
    int rb = pkt_on(w.b, SOCK_DGRAM, ETH_TEST, 0);
    size_t mtu = w.ia->mtu;
    static uint8_t big[9100];
    frame(big, MAC_B, MAC_A, ETH_TEST, 1, mtu + 1);
    expect_errno(zsock_send(raw, big, 14 + mtu + 1, 0), EMSGSIZE);
    raw_send(raw, big, 14 + mtu);
    expect_errno(zsock_send(raw, big, 13, 0), EINVAL);
    struct sockaddr_ll to = {.sll_family = AF_PACKET,
                             .sll_protocol = htons(ETH_TEST),
                             .sll_ifindex = w.ia->index,
                             .sll_halen = 6};
    memcpy(to.sll_addr, MAC_B, 6);
    expect_errno(zsock_sendto(dg, big, mtu + 1, 0, CSA(to), sizeof(to)), EMSGSIZE);
    assert_int_equal(zsock_sendto(dg, big, mtu, 0, CSA(to), sizeof(to)), (ssize_t)mtu);
    /* SOCK_DGRAM on Ethernet needs a destination address. */
    expect_errno(zsock_send(dg, "x", 1, 0), EDESTADDRREQ);
    run(&w);
    struct sockaddr_ll from;
    assert_int_equal(recv_type(rb, ETH_TEST, big, sizeof(big), &from), (ssize_t)mtu);
    assert_int_equal(recv_type(rb, ETH_TEST, big, sizeof(big), &from), (ssize_t)mtu);

    z_stack_lock(w.a);
    z_netif_set_up_locked(w.ia, false);
    z_stack_unlock(w.a);
    expect_errno(zsock_sendto(dg, "x", 1, 0, CSA(to), sizeof(to)), ENETDOWN);
    pair_done(&w, (int[]){raw, dg, rb}, 3);
}

/* SO_RCVBUF bounds the queue; PACKET_STATISTICS counts what was dropped. */
static void test_rcvbuf_drops(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 7, IP_A, IP_B);
    int a = pkt_on(w.a, SOCK_DGRAM, ETH_TEST, 0);
    int b = pkt_on(w.b, SOCK_RAW, ETH_TEST, w.ib->index);
    int v = 1000;
    assert_int_equal(zsock_setsockopt(a, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
    socklen_t l = sizeof(v);
    assert_int_equal(zsock_getsockopt(a, SOL_SOCKET, SO_RCVBUF, &v, &l), 0);
    assert_int_equal(v, 1000);
    uint8_t out[400];
    size_t len = frame(out, MAC_A, MAC_B, ETH_TEST, 3, 300);
    for (int i = 0; i < 6; i++) {
        raw_send(b, out, len);
    }
    run(&w);
    struct zsock_tpacket_stats st;
    l = sizeof(st);
    assert_int_equal(zsock_getsockopt(a, SOL_PACKET, PACKET_STATISTICS, &st, &l), 0);
    assert_int_equal(l, sizeof(st));
    int queued = 0;
    uint8_t in[400];
    struct sockaddr_ll from;
    while (recv_type(a, ETH_TEST, in, sizeof(in), &from) == 300) {
        queued++;
    }
    assert_true(queued >= 2 && queued < 6); /* 1000 bytes hold a few of 300 */
    assert_int_equal(st.tp_packets, 6);
    assert_int_equal(st.tp_drops, 6 - queued);
    /* Reading resets them. */
    assert_int_equal(zsock_getsockopt(a, SOL_PACKET, PACKET_STATISTICS, &st, &l), 0);
    assert_int_equal(st.tp_packets, 0);
    assert_int_equal(st.tp_drops, 0);
    pair_done(&w, (int[]){a, b}, 2);
}

/* MSG_PEEK, MSG_TRUNC, FIONREAD and poll on a queued frame. */
static void test_peek_trunc_poll(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 8, IP_A, IP_B);
    int a = pkt_on(w.a, SOCK_DGRAM, ETH_TEST, 0);
    int b = pkt_on(w.b, SOCK_RAW, ETH_TEST, w.ib->index);
    struct pollfd p = {.fd = a, .events = ZSOCK_POLLIN};
    assert_int_equal(zsock_poll(&p, 1, 0), 0); /* nothing to read */
    uint8_t out[100];
    size_t len = frame(out, MAC_A, MAC_B, ETH_TEST, 0, 50);
    for (int i = 0; i < 50; i++) {
        out[14 + i] = (uint8_t)i;
    }
    raw_send(b, out, len);
    run(&w);
    assert_int_equal(zsock_poll(&p, 1, 0), 1);
    assert_true(p.revents & ZSOCK_POLLIN);
    int n = 0;
    assert_int_equal(zsock_ioctl(a, FIONREAD, &n), 0);
    assert_int_equal(n, 50);
    uint8_t in[64];
    assert_int_equal(zsock_recv(a, in, 10, ZSOCK_MSG_PEEK | ZSOCK_MSG_TRUNC), 50);
    assert_memory_equal(in, out + 14, 10);
    struct iovec iov = {in, 10};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    assert_int_equal(zsock_recvmsg(a, &m, 0), 10);
    assert_true(m.msg_flags & ZSOCK_MSG_TRUNC);
    assert_memory_equal(in, out + 14, 10);
    char c;
    expect_errno(zsock_recv(a, &c, 1, ZSOCK_MSG_DONTWAIT), EAGAIN);
    assert_int_equal(zsock_ioctl(a, FIONREAD, &n), 0);
    assert_int_equal(n, 0);
    pair_done(&w, (int[]){a, b}, 2);
}

/* Addresses and options zsock checks where Linux's errors need no root. */
static void test_bad_addresses(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 9, IP_A, IP_B);
    int a = z_packet_socket_on(w.a, SOCK_RAW, htons(ETH_P_ALL), true);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = w.ia->index};
    expect_errno(zsock_bind(a, CSA(sll), sizeof(sll) - 1), EINVAL);
    sll.sll_family = AF_INET;
    expect_errno(zsock_bind(a, CSA(sll), sizeof(sll)), EINVAL);
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = 999;
    expect_errno(zsock_bind(a, CSA(sll), sizeof(sll)), ENODEV);
    uint8_t f[60];
    frame(f, MAC_B, MAC_A, ETH_TEST, 0, 46);
    expect_errno(zsock_send(a, f, sizeof(f), 0), ENXIO); /* unbound, no address */
    expect_errno(zsock_sendto(a, f, sizeof(f), 0, CSA(sll), sizeof(sll)), ENXIO);
    sll.sll_ifindex = w.ia->index;
    expect_errno(zsock_sendto(a, f, sizeof(f), 0, CSA(sll), sizeof(sll) - 1), EINVAL);
    expect_errno(zsock_connect(a, CSA(sll), sizeof(sll)), EOPNOTSUPP);
    expect_errno(zsock_listen(a, 1), EOPNOTSUPP);
    struct packet_mreq mr = {.mr_ifindex = 999, .mr_type = PACKET_MR_PROMISC};
    expect_errno(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), ENODEV);
    mr.mr_ifindex = w.ia->index;
    mr.mr_type = 77;
    expect_errno(zsock_setsockopt(a, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), EINVAL);
    int v = 0;
    socklen_t l = sizeof(v);
    expect_errno(zsock_getsockopt(a, SOL_PACKET, 99, &v, &l), ENOPROTOOPT);
    /* getsockname: the binding and the interface's address. */
    sll.sll_protocol = htons(ETH_P_ARP);
    assert_int_equal(zsock_bind(a, CSA(sll), sizeof(sll)), 0);
    struct sockaddr_ll me;
    l = sizeof(me);
    assert_int_equal(zsock_getsockname(a, SA(me), &l), 0);
    assert_int_equal(l, offsetof(struct sockaddr_ll, sll_addr) + 6);
    assert_int_equal(me.sll_ifindex, w.ia->index);
    assert_int_equal(me.sll_protocol, htons(ETH_P_ARP));
    assert_int_equal(me.sll_hatype, ARPHRD_ETHER);
    assert_memory_equal(me.sll_addr, MAC_A, 6);
    pair_done(&w, (int[]){a}, 1);
}

/* The next frame from the injector (source MAC_FUZZ) that rx received,
 * skipping the stacks' own traffic: its length (payload for SOCK_DGRAM), or
 * -1 when none is left. */
static const uint8_t MAC_FUZZ[6] = {2, 0xf0, 0, 0, 0, 0xf0};

static ssize_t next_fuzz(int rx, uint8_t *buf, size_t cap)
{
    for (;;) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof(from);
        ssize_t n = zsock_recvfrom(rx, buf, cap, ZSOCK_MSG_DONTWAIT, SA(from), &fl);
        if (n < 0) {
            return -1;
        }
        if (from.sll_pkttype != PACKET_OUTGOING && memcmp(from.sll_addr, MAC_FUZZ, 6) == 0) {
            return n;
        }
    }
}

/* Malformed input: random frames of 0 to 89 bytes, whatever their type
 * and destination, reach a promiscuous ETH_P_ALL socket whole (SOCK_RAW) or
 * without their header (SOCK_DGRAM) when they hold a link header, and not
 * at all when shorter; the stack goes on processing them without harm. */
static void test_random_frames(void **state)
{
    (void)state;
    struct sim_pair w;
    sim_pair_up(&w, 10, IP_A, IP_B);
    int raw = pkt_on(w.a, SOCK_RAW, ETH_P_ALL, 0);
    int dg = pkt_on(w.a, SOCK_DGRAM, ETH_P_ALL, 0);
    struct packet_mreq mr = {.mr_ifindex = w.ia->index, .mr_type = PACKET_MR_PROMISC};
    assert_int_equal(zsock_setsockopt(raw, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), 0);
    enum { N = 300, MAXLEN = 90 };
    static uint8_t sent[N][MAXLEN];
    static size_t sent_len[N];
    uint32_t seed = 0x5eed;
    size_t whole = 0;
    for (int i = 0; i < N; i++) {
        sent_len[i] = (size_t)(i % MAXLEN);
        for (size_t k = 0; k < sent_len[i]; k++) {
            seed = seed * 1103515245u + 12345u;
            sent[i][k] = (uint8_t)(seed >> 16);
        }
        if (sent_len[i] >= 12) {
            memcpy(sent[i] + 6, MAC_FUZZ, 6);
        }
        z_simnet_inject(w.net, w.ib, sent[i], sent_len[i]);
        whole += sent_len[i] >= 14;
    }
    run(&w);
    uint8_t in[MAXLEN];
    size_t seen = 0;
    for (int i = 0; i < N; i++) {
        if (sent_len[i] < 14) {
            continue;
        }
        assert_int_equal(next_fuzz(raw, in, sizeof(in)), (ssize_t)sent_len[i]);
        assert_memory_equal(in, sent[i], sent_len[i]);
        assert_int_equal(next_fuzz(dg, in, sizeof(in)), (ssize_t)sent_len[i] - 14);
        assert_memory_equal(in, sent[i] + 14, sent_len[i] - 14);
        seen++;
    }
    assert_int_equal(seen, whole);
    assert_int_equal(next_fuzz(raw, in, sizeof(in)), -1);
    assert_int_equal(next_fuzz(dg, in, sizeof(in)), -1);
    pair_done(&w, (int[]){raw, dg}, 2);
}

/* ---- loopback: zsock and Linux ------------------------------------------------------------ */

/* Linux needs CAP_NET_RAW for packet sockets; without it the Linux half skips. */
static bool skip_linux(const struct api *A)
{
    if (A->zsock) {
        return false;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        return true;
    }
    close(fd);
    return false;
}

static void test_lo_errors(void **state)
{
    const struct api *A = *state;
    if (skip_linux(A)) {
        skip();
    }
    expect_errno(A->socket(AF_PACKET, SOCK_STREAM, 0), ESOCKTNOSUPPORT);
    int fd = A->socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    assert_true(fd >= 0);
    assert_int_equal(get_int(A, fd, SOL_SOCKET, SO_TYPE), SOCK_RAW);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = 0x7ffff};
    expect_errno(A->bind(fd, CSA(sll), sizeof(sll)), ENODEV);
    expect_errno(A->bind(fd, CSA(sll), 8), EINVAL);
    uint8_t f[60] = {0};
    expect_errno(A->sendto(fd, f, sizeof(f), 0, NULL, 0), ENXIO);
    expect_errno(A->sendto(fd, f, sizeof(f), 0, CSA(sll), sizeof(sll)), ENXIO);
    expect_errno(A->connect(fd, CSA(sll), sizeof(sll)), EOPNOTSUPP);
    struct packet_mreq mr = {.mr_ifindex = A->lo_index(), .mr_type = PACKET_MR_PROMISC};
    assert_int_equal(A->setsockopt(fd, SOL_PACKET, PACKET_DROP_MEMBERSHIP, &mr, sizeof(mr)), 0);
    expect_errno(A->setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, 4), EINVAL);
    mr.mr_ifindex = 0x7ffff;
    expect_errno(A->setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)), ENODEV);
    struct zsock_tpacket_stats st = {1, 1};
    socklen_t l = sizeof(st);
    assert_int_equal(A->getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &l), 0);
    assert_int_equal(l, sizeof(st));
    sll.sll_ifindex = A->lo_index();
    sll.sll_protocol = htons(ETH_P_IP);
    assert_int_equal(A->bind(fd, CSA(sll), sizeof(sll)), 0);
    struct sockaddr_ll me;
    l = sizeof(me);
    assert_int_equal(A->getsockname(fd, SA(me), &l), 0);
    assert_int_equal(me.sll_family, AF_PACKET);
    assert_int_equal(me.sll_ifindex, A->lo_index());
    assert_int_equal(me.sll_protocol, htons(ETH_P_IP));
    assert_int_equal(A->close(fd), 0);
    /* Protocol 0: nothing arrives until a bind names one. */
    fd = A->socket(AF_PACKET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    set_int(A, fd, SOL_SOCKET, SO_RCVBUF, 65536);
    expect_nothing(A, fd);
    assert_int_equal(A->setfl(fd, A->getfl(fd) | O_NONBLOCK), 0);
    char c;
    expect_errno(A->recvfrom(fd, &c, 1, 0, NULL, NULL), EAGAIN);
    assert_int_equal(poll_one(A, fd, POLLIN, 0), 0);
    assert_int_equal(A->close(fd), 0);
}

/* A UDP datagram on the loopback, seen by a SOCK_DGRAM ETH_P_IP socket
 * bound to lo: the IPv4 packet, as the host received it. */
static void test_lo_ipv4(void **state)
{
    const struct api *A = *state;
    if (skip_linux(A)) {
        skip();
    }
    int p = A->socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
    assert_true(p >= 0);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = A->lo_index()};
    assert_int_equal(A->bind(p, CSA(sll), sizeof(sll)), 0);
    int u = A->socket(AF_INET, SOCK_DGRAM, 0);
    int r = A->socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LOCALHOST)};
    assert_int_equal(A->bind(r, CSA(to), sizeof(to)), 0);
    socklen_t l = sizeof(to);
    assert_int_equal(A->getsockname(r, SA(to), &l), 0);
    const char mark[] = "zsock-packet-lo-mark";
    assert_int_equal(A->sendto(u, mark, sizeof(mark), 0, CSA(to), sizeof(to)),
                     (ssize_t)sizeof(mark));
    /* Other loopback traffic may come first (Linux): look for ours. */
    uint8_t in[2048];
    struct sockaddr_ll from;
    bool found = false;
    for (int i = 0; i < 100 && !found; i++) {
        assert_true(poll_one(A, p, POLLIN, WAIT_MS) & POLLIN);
        int next = 0;
        assert_int_equal(A->fionread(p, &next), 0);
        l = sizeof(from);
        ssize_t n = A->recvfrom(p, in, sizeof(in), 0, SA(from), &l);
        assert_int_equal(n, next);
        found = n == 28 + (ssize_t)sizeof(mark) && memcmp(in + 28, mark, sizeof(mark)) == 0 &&
                memcmp(in + 22, &to.sin_port, 2) == 0;
    }
    assert_true(found);
    assert_int_equal(in[0], 0x45);
    assert_int_equal(from.sll_protocol, htons(ETH_P_IP));
    assert_int_equal(from.sll_ifindex, A->lo_index());
    assert_int_equal(from.sll_pkttype, PACKET_HOST);
    A->close(u);
    A->close(r);
    A->close(p);
}

/* zsock's loopback is a raw-IP link: the frame is the IP packet
 * (ARPHRD_NONE, no link address), an ETH_P_ALL socket sees it leave and
 * come back, and an IP packet sent on it reaches the stack. */
static void test_lo_raw_ip(void **state)
{
    (void)state;
    int lo = zsock_if_nametoindex("lo");
    int all = zsock_socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
    int dg = zsock_socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
    int u = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(all >= 0 && dg >= 0 && u >= 0);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = lo};
    assert_int_equal(zsock_bind(all, CSA(sll), sizeof(sll)), 0);
    struct sockaddr_in sa = {
        .sin_family = AF_INET, .sin_port = htons(7001), .sin_addr.s_addr = htonl(LOCALHOST)};
    assert_int_equal(zsock_bind(u, CSA(sa), sizeof(sa)), 0);
    uint8_t pkt[32];
    ipv4_udp(pkt, LOCALHOST, LOCALHOST, 7001, "loop");
    sll.sll_protocol = htons(ETH_P_IP);
    assert_int_equal(zsock_sendto(dg, pkt, sizeof(pkt), 0, CSA(sll), sizeof(sll)), 32);
    char buf[8];
    assert_int_equal(zsock_recv(u, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT), 4);
    assert_memory_equal(buf, "loop", 4);
    /* The sending socket is not ETH_P_ALL: the ETH_P_ALL one saw it go out
     * and come in, unchanged. */
    int kinds = 0;
    for (int i = 0; i < 2; i++) {
        uint8_t in[64];
        struct sockaddr_ll from;
        socklen_t fl = sizeof(from);
        assert_int_equal(zsock_recvfrom(all, in, sizeof(in), 0, SA(from), &fl), 32);
        assert_memory_equal(in, pkt, 32);
        assert_int_equal(from.sll_hatype, ARPHRD_NONE);
        assert_int_equal(from.sll_halen, 0);
        assert_int_equal(from.sll_protocol, htons(ETH_P_IP));
        kinds |= 1 << from.sll_pkttype;
    }
    assert_int_equal(kinds, 1 << PACKET_OUTGOING | 1 << PACKET_HOST);
    zsock_close(all);
    zsock_close(dg);
    zsock_close(u);
}

/* A thread blocked in recv: the length it got (MSG_TRUNC), or -errno. */
static void *blocked_recv(void *arg)
{
    int fd = *(int *)arg;
    char c;
    ssize_t n = zsock_recv(fd, &c, 1, ZSOCK_MSG_TRUNC);
    return (void *)(intptr_t)(n < 0 ? -errno : n);
}

/* A frame arriving wakes a thread blocked in recv. */
static void test_arrival_wakes_reader(void **state)
{
    (void)state;
    int fd = zsock_socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_IP));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = zsock_if_nametoindex("lo")};
    assert_int_equal(zsock_bind(fd, CSA(sll), sizeof(sll)), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_recv, &fd), 0);
    usleep(50000); /* let it block; the result is the same if it has not yet */
    int u = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {
        .sin_family = AF_INET, .sin_port = htons(9), .sin_addr.s_addr = htonl(LOCALHOST)};
    assert_int_equal(zsock_sendto(u, "wake", 4, 0, CSA(to), sizeof(to)), 4);
    void *res;
    assert_int_equal(pthread_join(t, &res), 0);
    assert_int_equal((intptr_t)res, 20 + 8 + 4); /* the IPv4 packet */
    zsock_close(u);
    zsock_close(fd);
}

static void test_close_wakes_reader(void **state)
{
    (void)state;
    int fd = zsock_socket(AF_PACKET, SOCK_RAW, htons(ETH_TEST));
    assert_true(fd >= 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, blocked_recv, &fd), 0);
    usleep(50000); /* let it block; the result is the same if it has not yet */
    assert_int_equal(zsock_close(fd), 0);
    void *res;
    assert_int_equal(pthread_join(t, &res), 0);
    int err = -(int)(intptr_t)res;
    assert_true(err == EINTR || err == EBADF);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    read_linux_port_range();
    assert_int_equal(zsock_net_init(), 0);
    /* clang-format off */
    const struct CMUnitTest tests[] = {
        ZS(test_raw_both_ways),
        ZS(test_dgram_both_ways),
        ZS(test_protocol_filters),
        ZS(test_promiscuous),
        ZS(test_multicast_membership),
        ZS(test_lengths_and_down),
        ZS(test_rcvbuf_drops),
        ZS(test_peek_trunc_poll),
        ZS(test_bad_addresses),
        ZS(test_random_frames),
        BOTH(test_lo_errors),
        BOTH(test_lo_ipv4),
        ZS(test_lo_raw_ip),
        ZS(test_arrival_wakes_reader),
        ZS(test_close_wakes_reader),
    };
    /* clang-format on */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
