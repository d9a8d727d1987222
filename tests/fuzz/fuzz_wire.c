/* libFuzzer target for the packet parsers in src/wire. The first input byte
 * picks a parser (or the checksum); whatever parses is emitted again and
 * parsed back, and the two must agree, so emitters are fuzzed too. */
#include <stdbool.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#include "fuzz_check.h"

enum { SEL_ETH, SEL_ARP, SEL_IPV4, SEL_ICMP, SEL_UDP, SEL_CSUM, SEL_TCP, SEL_IGMP, SEL_COUNT };

static uint8_t out[65536 + 64];
static uint8_t out2[65536 + 64];

/* RFC 1071 one byte at a time: the slow, obvious version to compare with. */
static uint16_t ref_csum(uint64_t s, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        s += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* RFC 791's rules written out independently of ipv4.c. */
static bool ref_ipv4_ok(const uint8_t *p, size_t n)
{
    if (n < 20 || p[0] >> 4 != 4) {
        return false;
    }
    size_t ihl = (p[0] & 15u) * 4u;
    size_t total = (size_t)p[2] << 8 | p[3];
    if (ihl < 20 || ihl > n || total < ihl || total > n || ref_csum(0, p, ihl) != 0) {
        return false;
    }
    const uint8_t *o = p + 20;
    const uint8_t *end = p + ihl;
    while (o < end && *o != 0) {
        if (*o == 1) {
            o++;
        } else if (end - o < 2 || o[1] < 2 || o[1] > end - o) {
            return false;
        } else {
            o += o[1];
        }
    }
    return true;
}

static void fuzz_eth(const uint8_t *p, size_t n)
{
    struct z_eth_hdr a, b;
    bool ok = n >= Z_ETH_HLEN && p[12] >= 0x06;
    CHECK((z_eth_parse(p, n, &a) >= 0) == ok);
    if (!ok) {
        return;
    }
    CHECK(z_eth_emit(out, Z_ETH_HLEN, &a) == Z_ETH_HLEN);
    CHECK(memcmp(out, p, Z_ETH_HLEN) == 0);
    CHECK(z_eth_parse(out, Z_ETH_HLEN, &b) == Z_ETH_HLEN);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

static void fuzz_arp(const uint8_t *p, size_t n)
{
    struct z_arp a, b;
    memset(&a, 0, sizeof(a)); /* padding, for the memcmp below */
    memset(&b, 0, sizeof(b));
    static const uint8_t fixed[7] = {0, 1, 8, 0, 6, 4, 0};
    bool ok = n >= Z_ARP_LEN && memcmp(p, fixed, 7) == 0 && (p[7] == 1 || p[7] == 2);
    CHECK((z_arp_parse(p, n, &a) >= 0) == ok);
    if (!ok) {
        return;
    }
    /* Every byte of an accepted message is either fixed or in the struct. */
    CHECK(z_arp_emit(out, Z_ARP_LEN, &a) == Z_ARP_LEN);
    CHECK(memcmp(out, p, Z_ARP_LEN) == 0);
    CHECK(z_arp_parse(out, Z_ARP_LEN, &b) == Z_ARP_LEN);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
}

static void fuzz_ipv4(const uint8_t *p, size_t n)
{
    struct z_ipv4_hdr a, b;
    int rc = z_ipv4_parse(p, n, &a);
    CHECK((rc >= 0) == ref_ipv4_ok(p, n));
    if (rc < 0) {
        return;
    }
    CHECK(rc == a.ihl);
    CHECK(a.ihl >= Z_IPV4_HLEN && a.ihl <= Z_IPV4_MAX_HLEN && a.ihl % 4 == 0);
    CHECK(a.ihl <= a.total_len && a.total_len <= n);
    CHECK(ref_csum(0, p, a.ihl) == 0);

    /* Re-emitted without options: same fields in a packet of the same length. */
    memset(out, 0, a.total_len);
    CHECK(z_ipv4_emit(out, sizeof(out), &a) == Z_IPV4_HLEN);
    CHECK(memcmp(out + 1, p + 1, 9) == 0 && memcmp(out + 12, p + 12, 8) == 0);
    CHECK(z_ipv4_parse(out, a.total_len, &b) == Z_IPV4_HLEN);
    CHECK(b.ihl == Z_IPV4_HLEN);
    CHECK(b.tos == a.tos && b.total_len == a.total_len && b.id == a.id && b.frag == a.frag);
    CHECK(b.ttl == a.ttl && b.proto == a.proto && b.src == a.src && b.dst == a.dst);
    if (a.ihl == Z_IPV4_HLEN) {
        /* 0x0000 and 0xffff both verify; emit picks the one RFC 1071 computes. */
        CHECK(b.checksum == a.checksum || (a.checksum ^ b.checksum) == 0xffff);
    }
}

static void fuzz_icmp(const uint8_t *p, size_t n)
{
    struct z_icmp_hdr a, b;
    if (z_icmp_parse(p, n, &a) < 0) {
        CHECK(n < Z_ICMP_HLEN || ref_csum(0, p, n) != 0);
        return;
    }
    CHECK(ref_csum(0, p, n) == 0);
    if (n - Z_ICMP_HLEN > 65535 - Z_IPV4_HLEN - Z_ICMP_HLEN) {
        CHECK(z_icmp_emit(out, sizeof(out), &a, p + 8, n - 8) < 0);
        return;
    }
    int len = (int)n;
    CHECK(z_icmp_emit(out, n, &a, p + 8, n - 8) == len);
    CHECK(memcmp(out, p, 2) == 0 && memcmp(out + 4, p + 4, n - 4) == 0);
    CHECK(z_icmp_parse(out, n, &b) == Z_ICMP_HLEN);
    CHECK(b.type == a.type && b.code == a.code && b.rest == a.rest);
    CHECK(b.checksum == a.checksum || (a.checksum ^ b.checksum) == 0xffff);

    /* In place, payload already behind the header: the same bytes. */
    memcpy(out2, p, n);
    CHECK(z_icmp_emit(out2, n, &a, out2 + 8, n - 8) == len);
    CHECK(memcmp(out2, out, n) == 0);
    /* One byte short: refused, nothing written. */
    memcpy(out2, p, n);
    CHECK(z_icmp_emit(out2, n - 1, &a, out2 + 8, n - 8) < 0);
    CHECK(memcmp(out2, p, n) == 0);
}

/* Input: source and destination address (8 bytes), then the datagram. */
static void fuzz_udp(const uint8_t *p, size_t n)
{
    struct z_udp_hdr a, b;
    if (n < 8) {
        return;
    }
    uint32_t src = z_get_be32(p);
    uint32_t dst = z_get_be32(p + 4);
    p += 8;
    n -= 8;
    bool ok = false;
    if (n >= Z_UDP_HLEN) {
        size_t ulen = (size_t)p[4] << 8 | p[5];
        uint8_t ph[12] = {(uint8_t)(src >> 24),
                          (uint8_t)(src >> 16),
                          (uint8_t)(src >> 8),
                          (uint8_t)src,
                          (uint8_t)(dst >> 24),
                          (uint8_t)(dst >> 16),
                          (uint8_t)(dst >> 8),
                          (uint8_t)dst,
                          0,
                          Z_IPPROTO_UDP,
                          p[4],
                          p[5]};
        ok = ulen >= 8 && ulen <= n &&
             ((p[6] == 0 && p[7] == 0) ||
              ref_csum((uint16_t)~ref_csum(0, ph, sizeof(ph)), p, ulen) == 0);
    }
    CHECK((z_udp_parse(p, n, src, dst, &a) >= 0) == ok);
    if (!ok) {
        return;
    }

    memcpy(out, p, a.len);
    CHECK(z_udp_emit(out, a.len, src, dst, a.sport, a.dport, a.len - 8u) == a.len);
    CHECK(memcmp(out, p, 6) == 0 && memcmp(out + 8, p + 8, a.len - 8u) == 0);
    CHECK(z_udp_parse(out, a.len, src, dst, &b) == Z_UDP_HLEN);
    CHECK(b.sport == a.sport && b.dport == a.dport && b.len == a.len);
    CHECK(b.checksum != 0);
    /* A verified nonzero checksum is the only nonzero value that verifies. */
    CHECK(a.checksum == 0 || b.checksum == a.checksum);
}

/* Input: a TCP segment from 192.0.2.1 to 192.0.2.2. What parses is emitted
 * again with the same payload and must parse back to the same fields. */
static void fuzz_tcp(const uint8_t *p, size_t n)
{
    const uint32_t src = 0xc0000201u, dst = 0xc0000202u;
    struct z_tcp_hdr a, b;
    if (z_tcp_parse(p, n, src, dst, &a) < 0) {
        return;
    }
    CHECK(a.hlen >= Z_TCP_HLEN && a.hlen <= n && a.hlen % 4 == 0);
    CHECK(a.opts.nsack <= Z_TCP_MAX_SACK);
    size_t plen = n - a.hlen;
    size_t hl = z_tcp_hdr_len(&a.opts);
    CHECK(hl >= Z_TCP_HLEN && hl <= Z_TCP_MAX_HLEN && hl % 4 == 0);
    if (hl + plen > sizeof(out)) {
        return;
    }
    memcpy(out + hl, p + a.hlen, plen);
    CHECK(z_tcp_emit(out, sizeof(out), src, dst, &a, plen) == (int)hl);
    CHECK(z_tcp_parse(out, hl + plen, src, dst, &b) == (int)hl);
    CHECK(b.sport == a.sport && b.dport == a.dport && b.seq == a.seq && b.ack == a.ack);
    CHECK(b.flags == a.flags && b.window == a.window && b.urgent == a.urgent);
    CHECK((b.opts.present & ~Z_TCPOPT_SACK) == (a.opts.present & ~Z_TCPOPT_SACK));
    CHECK(b.opts.mss == a.opts.mss && b.opts.wscale == a.opts.wscale);
    CHECK(b.opts.ts_val == a.opts.ts_val && b.opts.ts_ecr == a.opts.ts_ecr);
    CHECK(b.opts.nsack <= a.opts.nsack);
    for (size_t k = 0; k < b.opts.nsack; k++) {
        CHECK(b.opts.sack[k].left == a.opts.sack[k].left);
        CHECK(b.opts.sack[k].right == a.opts.sack[k].right);
    }
}

/* Input: a split point (2 bytes) and an initial sum (4 bytes), then data. */
static void fuzz_csum(const uint8_t *p, size_t n)
{
    if (n < 6) {
        return;
    }
    size_t split = z_get_be16(p);
    uint32_t init = z_get_be32(p + 2);
    p += 6;
    n -= 6;
    uint16_t want = ref_csum(init, p, n);
    CHECK(z_csum_finish(z_csum_add(init, p, n)) == want);
    split = (split % (n + 1)) & ~(size_t)1;
    uint32_t s = z_csum_add(init, p, split);
    s = z_csum_add(s, p + split, n - split);
    CHECK(z_csum_finish(s) == want);
}

/* IGMP: a query is one by type, checksum and length (8, or 12 and more),
 * with a multicast or zero group; what the stack emits parses back. */
static void fuzz_igmp(const uint8_t *p, size_t n)
{
    struct z_igmp_query q;
    int rc = z_igmp_parse_query(p, n, &q);
    if (rc == -ENOMSG) {
        CHECK(n >= 8 && p[0] != Z_IGMP_QUERY && ref_csum(0, p, n) == 0);
    } else if (rc < 0) {
        CHECK(rc == -EBADMSG);
    } else {
        CHECK(p[0] == Z_IGMP_QUERY && ref_csum(0, p, n) == 0 && (n == 8 || n >= 12));
        CHECK(q.group == 0 || z_ipv4_is_multicast(q.group));
        CHECK(q.version >= 1 && q.version <= 3);
        CHECK(q.max_resp_ms <= 3174400u); /* code 0xff: 31 << 10 tenths of a second */
    }
    uint32_t groups[4];
    for (int i = 0; i < 4; i++) {
        groups[i] = 0xe0000000u | (n > (size_t)i * 4 + 3 ? z_get_be32(p + i * 4) & 0x0fffffffu : 1);
    }
    size_t len = z_igmp_v3_report_emit(out, sizeof(out), Z_IGMP_IS_EXCLUDE, groups, 4);
    CHECK(len == 8 + 4 * Z_IGMP_V3_RECORD_SIZE);
    CHECK(z_igmp_parse_query(out, len, &q) == -ENOMSG && ref_csum(0, out, len) == 0);
    CHECK(z_igmp_v3_report_emit(out, len - 1, Z_IGMP_IS_EXCLUDE, groups, 4) == 0);
    CHECK(z_igmp_v2_emit(out, 8, Z_IGMP_V2_REPORT, groups[0]) == 8);
    CHECK(z_igmp_parse_query(out, 8, &q) == -ENOMSG && z_get_be32(out + 4) == groups[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % SEL_COUNT) {
    case SEL_ETH:
        fuzz_eth(p, n);
        break;
    case SEL_ARP:
        fuzz_arp(p, n);
        break;
    case SEL_IPV4:
        fuzz_ipv4(p, n);
        break;
    case SEL_ICMP:
        fuzz_icmp(p, n);
        break;
    case SEL_UDP:
        fuzz_udp(p, n);
        break;
    case SEL_TCP:
        fuzz_tcp(p, n);
        break;
    case SEL_IGMP:
        fuzz_igmp(p, n);
        break;
    default:
        fuzz_csum(p, n);
        break;
    }
    return 0;
}
