/* libFuzzer target for the whole receive path: stack A on the simulated
 * Ethernet segment, with peer stack B, and sockets on A in every state the
 * input can reach: UDP bound, connected and a multicast member (IPv4 and
 * IPv6), TCP listeners, a connection in SYN-RCVD (its peer never answers
 * ARP), connections established with data both ways, in FIN-WAIT-2,
 * CLOSE-WAIT and TIME-WAIT, an IPv6 connection, raw IPv4 and IPv6 sockets,
 * AF_PACKET sockets (one promiscuous) and a fragment waiting in reassembly.
 *
 * The input is a program. Each step is one of: a frame put on the wire as
 * is; a frame built from a template (IPv4 or IPv6 with UDP, TCP, ICMP,
 * IGMP, a raw protocol, fragments, or ARP) whose addresses, ports and
 * sequence numbers are picked from what A really uses, and whose lengths
 * and checksums are fixed up, so that most frames get past the parsers;
 * time passing; A's application reading, accepting and writing; B writing
 * or closing. At the end every socket is closed and time runs until all
 * connections are gone: both stacks' packet buffers must be back to what
 * they were before the first socket (LeakSanitizer checks the heap). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <zsock/socket.h>

#include "fuzz_check.h"
#include "fuzz_input.h"
#include "net/net.h"
#include "net/packet.h"
#include "net/raw.h"
#include "net/sim.h"
#include "net/tcp_pcb.h"
#include "sockets/inet.h"
#include "sockets/raw.h"
#include "wire/wire.h"

#define ADDR_A  0xc0000201u /* 192.0.2.1 */
#define ADDR_B  0xc0000202u
#define ADDR_X  0xc0000209u /* a host that never answers ARP */
#define MCAST4  0xef010203u /* 239.1.2.3, A's UDP socket is a member */
#define MAX_FD  48
#define MAX_FRM 1600

static const uint8_t MAC_A[6] = {2, 0, 0, 0, 0, 1}, MAC_B[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t MAC_X[6] = {2, 0, 0, 0, 0, 9};
static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
static const uint8_t ALLNODES6[16] = {0xff, 0x02, [15] = 1};

static struct {
    struct z_simnet *net;
    struct z_stack *a, *b;
    struct z_netif *ia, *ib;
    int afd[MAX_FD]; /* A's sockets */
    int nafd;
    int bfd[MAX_FD]; /* B's ends of the connections */
    int nbfd;
} W;

static void add_fd(int *tab, int *n, int fd)
{
    CHECK(fd >= 0);
    if (*n < MAX_FD) {
        tab[(*n)++] = fd;
    } else {
        zsock_close(fd);
    }
}

static struct sockaddr_in sin4(uint32_t addr, uint16_t port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
    s.sin_addr.s_addr = htonl(addr);
    return s;
}

static struct sockaddr_in6 sin6(const uint8_t addr[16], uint16_t port)
{
    struct sockaddr_in6 s = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    memcpy(&s.sin6_addr, addr, 16);
    return s;
}

#define SA(x) ((struct sockaddr *)&(x))

static void run(int64_t us)
{
    z_simnet_run(W.net, us);
}

/* An accepted connection from B to A's listener `l` (port 80), with data
 * both ways, left partly unread. Returns A's end; *bend gets B's. */
static int connect_pair(int l, int family, int *bend)
{
    int c = z_inet_socket_fam_on(W.b, family, SOCK_STREAM, 0, true);
    CHECK(c >= 0);
    struct sockaddr_in to4 = sin4(ADDR_A, 80);
    struct sockaddr_in6 to6 = sin6(A6, 80);
    int r = family == AF_INET ? zsock_connect(c, SA(to4), sizeof(to4))
                              : zsock_connect(c, SA(to6), sizeof(to6));
    CHECK(r == 0 || errno == EINPROGRESS);
    int s = -1;
    for (int i = 0; i < 100 && s < 0; i++) {
        run(1000);
        s = zsock_accept(l, NULL, NULL);
    }
    CHECK(s >= 0);
    zsock_fcntl(s, F_SETFL, O_NONBLOCK);
    static const char msg[64] = "data";
    CHECK(zsock_send(c, msg, sizeof(msg), 0) == sizeof(msg));
    CHECK(zsock_send(s, msg, sizeof(msg), 0) == sizeof(msg));
    run(5000);
    *bend = c;
    return s;
}

/* Read what fd holds (a close with unread data resets the connection). */
static void drain(int fd)
{
    static uint8_t buf[4096];
    while (zsock_recv(fd, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT) > 0) {
    }
}

static void setup(void)
{
    memset(&W, 0, sizeof(W));
    W.net = z_simnet_create(1);
    CHECK(W.net != NULL);
    struct z_stack_config ca = {.name = "A", .virtual_clock = true, .pbuf_count = 256};
    struct z_stack_config cb = {.name = "B", .virtual_clock = true, .pbuf_count = 256};
    W.a = z_stack_create(&ca);
    W.b = z_stack_create(&cb);
    CHECK(W.a != NULL && W.b != NULL);
    W.ia = z_simnet_attach(W.net, W.a, MAC_A);
    W.ib = z_simnet_attach(W.net, W.b, MAC_B);
    CHECK(W.ia != NULL && W.ib != NULL);
    z_stack_lock(W.a);
    z_netif_add_ipv4_locked(W.ia, ADDR_A, 0xffffff00u);
    CHECK(z_ipv6_add_addr_locked(W.ia, A6, 64, ZSOCK_IPV6_ORIGIN_MANUAL, Z_ND_INFINITE,
                                 Z_ND_INFINITE) == 0);
    z_stack_unlock(W.a);
    z_stack_lock(W.b);
    z_netif_add_ipv4_locked(W.ib, ADDR_B, 0xffffff00u);
    CHECK(z_ipv6_add_addr_locked(W.ib, B6, 64, ZSOCK_IPV6_ORIGIN_MANUAL, Z_ND_INFINITE,
                                 Z_ND_INFINITE) == 0);
    z_stack_unlock(W.b);
    run(2000000); /* duplicate address detection */
}

/* Every kind of socket on A, and the connections. */
static void sockets(void)
{
    struct z_stack *a = W.a;
    int fd;
    /* UDP: bound, connected, multicast member; IPv6 bound. */
    fd = z_inet_socket_fam_on(a, AF_INET, SOCK_DGRAM, 0, true);
    struct sockaddr_in any7 = sin4(0, 7);
    CHECK(zsock_bind(fd, SA(any7), sizeof(any7)) == 0);
    add_fd(W.afd, &W.nafd, fd);
    fd = z_inet_socket_fam_on(a, AF_INET, SOCK_DGRAM, 0, true);
    struct sockaddr_in a8 = sin4(ADDR_A, 8), b9 = sin4(ADDR_B, 9);
    CHECK(zsock_bind(fd, SA(a8), sizeof(a8)) == 0);
    CHECK(zsock_connect(fd, SA(b9), sizeof(b9)) == 0);
    add_fd(W.afd, &W.nafd, fd);
    fd = z_inet_socket_fam_on(a, AF_INET, SOCK_DGRAM, 0, true);
    struct sockaddr_in m = sin4(0, 5000);
    CHECK(zsock_bind(fd, SA(m), sizeof(m)) == 0);
    struct ip_mreqn mr = {.imr_ifindex = W.ia->index};
    mr.imr_multiaddr.s_addr = htonl(MCAST4);
    CHECK(zsock_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) == 0);
    add_fd(W.afd, &W.nafd, fd);
    fd = z_inet_socket_fam_on(a, AF_INET6, SOCK_DGRAM, 0, true);
    struct sockaddr_in6 any6 = sin6((const uint8_t[16]){0}, 7);
    CHECK(zsock_bind(fd, SA(any6), sizeof(any6)) == 0);
    add_fd(W.afd, &W.nafd, fd);

    /* TCP listeners on port 80, IPv4 and IPv6. */
    int l4 = z_inet_socket_fam_on(a, AF_INET, SOCK_STREAM, 0, true);
    struct sockaddr_in p80 = sin4(0, 80);
    CHECK(zsock_bind(l4, SA(p80), sizeof(p80)) == 0);
    CHECK(zsock_listen(l4, 8) == 0);
    add_fd(W.afd, &W.nafd, l4);
    int l6 = z_inet_socket_fam_on(a, AF_INET6, SOCK_STREAM, 0, true);
    int on = 1;
    zsock_setsockopt(l6, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
    struct sockaddr_in6 p80_6 = sin6((const uint8_t[16]){0}, 80);
    CHECK(zsock_bind(l6, SA(p80_6), sizeof(p80_6)) == 0);
    CHECK(zsock_listen(l6, 8) == 0);
    add_fd(W.afd, &W.nafd, l6);

    int b;
    /* Established, with unread data both ways. */
    add_fd(W.afd, &W.nafd, connect_pair(l4, AF_INET, &b));
    add_fd(W.bfd, &W.nbfd, b);
    /* A closed its side: FIN-WAIT-2 (B in CLOSE-WAIT). */
    fd = connect_pair(l4, AF_INET, &b);
    zsock_shutdown(fd, ZSOCK_SHUT_WR);
    add_fd(W.afd, &W.nafd, fd);
    add_fd(W.bfd, &W.nbfd, b);
    /* B closed its side: CLOSE-WAIT on A. */
    fd = connect_pair(l4, AF_INET, &b);
    zsock_shutdown(b, ZSOCK_SHUT_WR);
    add_fd(W.afd, &W.nafd, fd);
    add_fd(W.bfd, &W.nbfd, b);
    /* A closed first, then B: TIME-WAIT on A, no descriptor left. */
    fd = connect_pair(l4, AF_INET, &b);
    drain(fd);
    drain(b);
    zsock_close(fd);
    run(5000);
    zsock_close(b);
    /* IPv6, established. */
    add_fd(W.afd, &W.nafd, connect_pair(l6, AF_INET6, &b));
    add_fd(W.bfd, &W.nbfd, b);
    run(5000);
    if (getenv("FUZZ_STACK_TRACE") != NULL) {
        for (struct z_tcp_pcb *p = W.a->tcp_pcbs; p != NULL; p = p->next) {
            fprintf(stderr, "A: port %u -> %u %s\n", p->lport, p->rport,
                    p->listening ? "LISTEN" : z_tcp_state_name(p->conn.state));
        }
    }

    /* Raw IP sockets: a private protocol and ICMPv6. */
    fd = z_raw_socket_on(a, AF_INET, 253, true);
    add_fd(W.afd, &W.nafd, fd);
    fd = z_raw_socket_on(a, AF_INET6, IPPROTO_ICMPV6, true);
    add_fd(W.afd, &W.nafd, fd);
    /* AF_PACKET: every frame, promiscuous; and a cooked one for IPv4. */
    fd = z_packet_socket_on(a, SOCK_RAW, htons(ETH_P_ALL), true);
    struct sockaddr_ll ll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = W.ia->index};
    CHECK(zsock_bind(fd, SA(ll), sizeof(ll)) == 0);
    struct packet_mreq pm = {.mr_ifindex = W.ia->index, .mr_type = PACKET_MR_PROMISC};
    CHECK(zsock_setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &pm, sizeof(pm)) == 0);
    add_fd(W.afd, &W.nafd, fd);
    fd = z_packet_socket_on(a, SOCK_DGRAM, htons(ETH_P_IP), true);
    add_fd(W.afd, &W.nafd, fd);
}

/* ---- frames ------------------------------------------------------------------------------ */

static uint8_t frm[MAX_FRM];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* A TCP pcb of A (not a listener), picked by `k`, or NULL. */
static struct z_tcp_pcb *pick_pcb(uint8_t k)
{
    int n = 0;
    for (struct z_tcp_pcb *p = W.a->tcp_pcbs; p != NULL; p = p->next) {
        n += !p->listening;
    }
    if (n == 0) {
        return NULL;
    }
    int want = k % n;
    for (struct z_tcp_pcb *p = W.a->tcp_pcbs; p != NULL; p = p->next) {
        if (!p->listening && want-- == 0) {
            return p;
        }
    }
    return NULL;
}

static const uint16_t PORTS[] = {7, 8, 9, 80, 5000, 53, 67, 68};

/* The transport header and payload at `t` (room for `room` bytes); returns
 * its length. ports/sequence numbers from A's state as `sel` says. */
static size_t l4_build(struct in *in, uint8_t proto, uint8_t *t, size_t room, bool v6,
                       uint32_t *src4, uint32_t *dst4, uint8_t *src6, uint8_t *dst6)
{
    uint8_t sel = u8(in);
    size_t plen = u8(in);
    if (plen > room) {
        plen = room;
    }
    size_t hl = proto == IPPROTO_TCP                               ? 20
                : proto == IPPROTO_UDP                             ? 8
                : proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ? 4
                                                                   : 0;
    if (hl + plen > room) {
        plen = room - hl;
    }
    for (size_t i = 0; i < hl + plen; i++) {
        t[i] = u8(in);
    }
    if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
        struct z_tcp_pcb *pcb = proto == IPPROTO_TCP && (sel & 0x80) ? pick_pcb(sel) : NULL;
        if (pcb != NULL) {
            /* A segment of a live connection: its ports, addresses and
             * sequence numbers give or take a little. */
            put16(t, pcb->rport);
            put16(t + 2, pcb->lport);
            int32_t d = (int8_t)t[4];
            put32(t + 4, pcb->conn.rcv_nxt + (uint32_t)(sel & 0x40 ? d : 0));
            put32(t + 8, pcb->conn.snd_una + (uint32_t)(sel & 0x20 ? (int8_t)t[8] : 0));
            if (pcb->v6sock && v6) {
                memcpy(src6, pcb->raddr6, 16);
                memcpy(dst6, pcb->laddr6, 16);
            } else if (!v6) {
                *src4 = pcb->raddr;
                *dst4 = pcb->laddr;
            }
        } else if (sel & 0x40) {
            put16(t + 2, PORTS[sel % 8]);
        }
        if (proto == IPPROTO_TCP) {
            size_t doff = 5 + (t[12] >> 4) % 6; /* options are payload bytes */
            if (doff * 4 > hl + plen) {
                doff = 5;
            }
            t[12] = (uint8_t)(doff << 4 | (t[12] & 0x0f));
        } else {
            put16(t + 4, (uint16_t)(hl + plen));
        }
    }
    return hl + plen;
}

static void fix_l4(uint8_t proto, uint8_t *t, size_t len, bool v6, uint32_t s4, uint32_t d4,
                   const uint8_t *s6, const uint8_t *d6)
{
    size_t off = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
    if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_ICMP &&
        proto != IPPROTO_ICMPV6 && proto != IPPROTO_IGMP) {
        return;
    }
    if (len < off + 2) {
        return;
    }
    put16(t + off, 0);
    uint32_t sum = 0;
    if (proto != IPPROTO_ICMP && proto != IPPROTO_IGMP) {
        sum = v6 ? z_csum_pseudo6(s6, d6, (uint32_t)len, proto)
                 : z_csum_pseudo4(s4, d4, proto, (uint16_t)len);
    }
    uint16_t c = z_csum_finish(z_csum_add(sum, t, len));
    if (proto == IPPROTO_UDP && c == 0) {
        c = 0xffff;
    }
    put16(t + off, c);
}

static uint32_t pick4(uint8_t k, uint32_t other)
{
    switch (k % 6) {
    case 0:
        return ADDR_B;
    case 1:
        return ADDR_A;
    case 2:
        return ADDR_X;
    case 3:
        return MCAST4;
    case 4:
        return 0xffffffffu;
    default:
        return other;
    }
}

/* A frame from a template (see the file's comment); returns its length. */
static size_t build(struct in *in)
{
    uint8_t kind = u8(in);
    uint8_t flags = u8(in);
    memcpy(frm, flags & 1 ? MAC_X : MAC_A, 6);
    memcpy(frm + 6, MAC_B, 6);
    if (flags & 2) {
        memcpy(frm, (const uint8_t[6]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 6);
    }
    uint8_t *ip = frm + 14;
    size_t room = MAX_FRM - 14;
    switch (kind % 4) {
    case 0:
    case 1: { /* IPv4 */
        static const uint8_t protos[] = {IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP, IPPROTO_IGMP, 253};
        uint8_t proto = protos[(kind >> 2) % 5];
        if (kind & 0x80) {
            proto = u8(in);
        }
        put16(frm + 12, 0x0800);
        uint32_t s4 = pick4(flags >> 2, u32(in)), d4 = pick4(flags >> 5, ADDR_A);
        if (d4 == MCAST4) {
            memcpy(frm, (const uint8_t[6]){0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}, 6);
        }
        size_t ihl = 20 + 4 * (u8(in) % 4 == 0 ? u8(in) % 11 : 0);
        for (size_t i = 20; i < ihl; i++) {
            ip[i] = u8(in);
        }
        size_t tl = l4_build(in, proto, ip + ihl, room - ihl, false, &s4, &d4, NULL, NULL);
        fix_l4(proto, ip + ihl, tl, false, s4, d4, NULL, NULL);
        ip[0] = (uint8_t)(0x40 | ihl / 4);
        ip[1] = u8(in);
        put16(ip + 2, (uint16_t)(ihl + tl));
        put16(ip + 4, u16(in));
        uint16_t frag = 0x4000; /* DF */
        if (kind & 0x40) {      /* a fragment: MF and offset from the input */
            frag = u16(in) & 0x3fff;
        }
        put16(ip + 6, frag);
        ip[8] = (uint8_t)(1 + u8(in) % 255);
        ip[9] = proto;
        put16(ip + 10, 0);
        put32(ip + 12, s4);
        put32(ip + 16, d4);
        put16(ip + 10, z_csum_finish(z_csum_add(0, ip, ihl)));
        return 14 + ihl + tl;
    }
    case 2: { /* IPv6 */
        static const uint8_t protos[] = {IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMPV6, 253};
        uint8_t proto = protos[(kind >> 2) % 4];
        put16(frm + 12, 0x86dd);
        uint8_t s6[16], d6[16];
        memcpy(s6, B6, 16);
        memcpy(d6, flags & 4 ? ALLNODES6 : A6, 16);
        if (flags & 8) {
            s6[0] = 0xfe; /* link-local, for ND and MLD */
            s6[1] = 0x80;
            memset(s6 + 2, 0, 6);
        }
        if (flags & 4) {
            memcpy(frm, (const uint8_t[6]){0x33, 0x33, 0, 0, 0, 1}, 6);
        }
        size_t ext = 0;
        uint8_t next = proto;
        if (kind & 0x40) { /* a fragment header, or hop-by-hop options */
            uint8_t *e = ip + 40;
            e[0] = proto;
            e[1] = 0;
            if (kind & 0x20) {
                next = 44;
                put16(e + 2, u16(in) & 0xfff9);
                put32(e + 4, u32(in));
            } else {
                next = 0;
                for (int i = 2; i < 8; i++) {
                    e[i] = u8(in);
                }
            }
            ext = 8;
        }
        uint32_t s4 = 0, d4 = 0;
        size_t tl = l4_build(in, proto, ip + 40 + ext, room - 40 - ext, true, &s4, &d4, s6, d6);
        fix_l4(proto, ip + 40 + ext, tl, true, 0, 0, s6, d6);
        put32(ip, 0x60000000u | (u32(in) & 0x0fffffffu));
        put16(ip + 4, (uint16_t)(ext + tl));
        ip[6] = next;
        ip[7] = flags & 16 ? 255 : u8(in);
        memcpy(ip + 8, s6, 16);
        memcpy(ip + 24, d6, 16);
        return 14 + 40 + ext + tl;
    }
    default: { /* ARP */
        put16(frm + 12, 0x0806);
        put16(ip, 1);
        put16(ip + 2, 0x0800);
        ip[4] = 6;
        ip[5] = 4;
        put16(ip + 6, (uint16_t)(1 + (kind >> 2) % 2));
        memcpy(ip + 8, frm + 6, 6);
        put32(ip + 14, pick4(flags >> 2, u32(in)));
        memcpy(ip + 18, frm, 6);
        put32(ip + 24, pick4(flags >> 5, ADDR_A));
        return 14 + 28;
    }
    }
}

/* ---- the program ------------------------------------------------------------------------- */

static void app_a(struct in *in)
{
    static uint8_t buf[4096];
    uint8_t what = u8(in);
    for (int i = 0; i < W.nafd; i++) {
        int fd = W.afd[i];
        int s = zsock_accept(fd, NULL, NULL);
        if (s >= 0) {
            zsock_fcntl(s, F_SETFL, O_NONBLOCK);
            add_fd(W.afd, &W.nafd, s);
        }
        for (int k = 0; k < 8; k++) {
            if (zsock_recv(fd, buf, what & 1 ? 7 : sizeof(buf), ZSOCK_MSG_DONTWAIT) <= 0) {
                break;
            }
        }
    }
    if (W.nafd > 0 && (what & 2)) {
        int fd = W.afd[u8(in) % W.nafd];
        size_t n = u8(in) * 8u;
        memset(buf, 'a', n);
        (void)zsock_send(fd, buf, n, ZSOCK_MSG_DONTWAIT);
    }
    if (W.nafd > 0 && (what & 0xf0) == 0xf0) {
        int k = u8(in) % W.nafd;
        zsock_close(W.afd[k]);
        W.afd[k] = W.afd[--W.nafd];
    }
}

static void app_b(struct in *in)
{
    static uint8_t buf[4096];
    if (W.nbfd == 0) {
        return;
    }
    uint8_t what = u8(in);
    int k = u8(in) % W.nbfd;
    int fd = W.bfd[k];
    switch (what % 4) {
    case 0:
        memset(buf, 'b', sizeof(buf));
        (void)zsock_send(fd, buf, u8(in) * 16u, ZSOCK_MSG_DONTWAIT);
        break;
    case 1:
        while (zsock_recv(fd, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT) > 0) {
        }
        break;
    case 2:
        zsock_shutdown(fd, ZSOCK_SHUT_WR);
        break;
    default:
        zsock_close(fd);
        W.bfd[k] = W.bfd[--W.nbfd];
        break;
    }
}

/* Close everything, let every connection and timer run out, then check
 * that no buffer is still held. */
static void teardown(uint32_t base_a, uint32_t base_b)
{
    for (int i = 0; i < W.nafd; i++) {
        zsock_close(W.afd[i]);
    }
    for (int i = 0; i < W.nbfd; i++) {
        zsock_close(W.bfd[i]);
    }
    /* Retransmissions give up, TIME-WAIT, reassembly and neighbor entries
     * expire: a few simulated hours at most. */
    int i = 0;
    for (; i < 400 && (W.a->tcp_pcbs != NULL || W.b->tcp_pcbs != NULL ||
                       W.a->pool.stats.in_use != base_a || W.b->pool.stats.in_use != base_b);
         i++) {
        run(60 * 1000000LL);
    }
    if (getenv("FUZZ_STACK_TRACE") != NULL) {
        fprintf(stderr, "teardown: %d simulated minutes\n", i);
    }
    CHECK(W.a->tcp_pcbs == NULL && W.b->tcp_pcbs == NULL);
    CHECK(W.a->pool.stats.in_use == base_a);
    CHECK(W.b->pool.stats.in_use == base_b);
    z_stack_destroy(W.a);
    z_stack_destroy(W.b);
    z_simnet_destroy(W.net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    uint32_t base_a = W.a->pool.stats.in_use, base_b = W.b->pool.stats.in_use;
    sockets();
    /* A connection left in SYN-RCVD (its SYN-ACK waits for ARP that X never
     * answers) and the first fragment of a datagram in reassembly. */
    {
        struct in seed = {(const uint8_t[]){0x01, 0x05, 0, 0x80, 0x02, 0,    0, 0, 0, 0, 0, 0, 0,
                                            0,    0,    0, 0,    0,    0x02, 0, 0, 0, 0, 0, 0},
                          25};
        size_t n = build(&seed);
        /* Rewrite as X's SYN to port 80. */
        uint8_t *ip = frm + 14, *t = frm + 34;
        put32(ip + 12, ADDR_X);
        memcpy(frm, MAC_A, 6);
        memcpy(frm + 6, MAC_X, 6);
        ip[9] = IPPROTO_TCP;
        put16(ip + 2, 40);
        put16(ip + 10, 0);
        put16(ip + 10, z_csum_finish(z_csum_add(0, ip, 20)));
        memset(t, 0, 20);
        put16(t, 40000);
        put16(t + 2, 80);
        put32(t + 4, 12345);
        t[12] = 0x50;
        t[13] = 0x02;
        put16(t + 14, 8192);
        fix_l4(IPPROTO_TCP, t, 20, false, ADDR_X, ADDR_A, NULL, NULL);
        z_simnet_inject(W.net, W.ib, frm, 54);
        (void)n;
        /* First fragment (MF) of a UDP datagram to port 7. */
        memcpy(frm, MAC_A, 6);
        memcpy(frm + 6, MAC_B, 6);
        put16(ip + 2, 20 + 16);
        put16(ip + 4, 777);
        put16(ip + 6, 0x2000);
        ip[9] = IPPROTO_UDP;
        put32(ip + 12, ADDR_B);
        put16(ip + 10, 0);
        put16(ip + 10, z_csum_finish(z_csum_add(0, ip, 20)));
        put16(t, 1234);
        put16(t + 2, 7);
        put16(t + 4, 100);
        put16(t + 6, 0);
        z_simnet_inject(W.net, W.ib, frm, 14 + 36);
        run(1000);
    }

    struct in in = {data, size};
    for (int steps = 0; in.n > 0 && steps < 256; steps++) {
        uint8_t op = u8(&in);
        switch (op % 8) {
        case 0: { /* a raw frame */
            size_t n = u16(&in) % (MAX_FRM + 1);
            if (n > in.n) {
                n = in.n;
            }
            memcpy(frm, in.p, n);
            in.p += n;
            in.n -= n;
            z_simnet_inject(W.net, W.ib, frm, n);
            run(100);
            break;
        }
        case 1:
        case 2:
        case 3:
        case 4:
            z_simnet_inject(W.net, W.ib, frm, build(&in));
            run(100);
            break;
        case 5: /* time: up to 255 ms or 255 s */
            run((int64_t)(u8(&in) + 1) * (op & 0x80 ? 1000000 : 1000));
            break;
        case 6:
            app_a(&in);
            run(100);
            break;
        default:
            app_b(&in);
            run(100);
            break;
        }
    }
    teardown(base_a, base_b);
    return 0;
}
