/* Unit tests for the packet formats in src/wire: known packets whose fields
 * and checksums were worked out independently of the code (by hand and with
 * Python's struct module), one test per rejection rule, emit/parse round
 * trips, -ENOSPC without side effects, and the checksum against a
 * byte-at-a-time reference on random data. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit/test_util.h"
#include "wire/wire.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CANARY        0xa5

/* ---- packets ----------------------------------------------------------------- */

/* An ARP request as Linux sends it from 52:54:00:12:34:56 (10.0.2.15) for
 * 10.0.2.2, padded to the 60-byte Ethernet minimum. */
static const uint8_t arp_request_frame[60] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x08, 0x06,
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
    0x0a, 0x00, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x02,
};

/* Linux ping from 192.168.1.10 to 8.8.8.8: DF, TTL 64, id 0x1c2b, seq 1, 56
 * data bytes (a 16-byte timeval, then 0x10..0x37). IPv4 checksum 0xfbac,
 * ICMP checksum 0x86c8. */
static const uint8_t ping_packet[84] = {
    0x45, 0x00, 0x00, 0x54, 0x6d, 0x3a, 0x40, 0x00, 0x40, 0x01, 0xfb, 0xac, 0xc0, 0xa8,
    0x01, 0x0a, 0x08, 0x08, 0x08, 0x08, 0x08, 0x00, 0x86, 0xc8, 0x1c, 0x2b, 0x00, 0x01,
    0x00, 0xf1, 0x53, 0x65, 0x00, 0x00, 0x00, 0x00, 0x40, 0xe2, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
    0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29,
    0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
};
#define PING_ICMP     (ping_packet + 20)
#define PING_ICMP_LEN 64
#define PING_SRC      0xc0a8010au /* 192.168.1.10 */
#define PING_DST      0x08080808u /* 8.8.8.8 */

/* A DNS query for example.com A from 192.168.1.10:54321 to 8.8.8.8:53: odd
 * length 37, checksum 0xde3f. */
static const uint8_t dns_datagram[37] = {
    0xd4, 0x31, 0x00, 0x35, 0x00, 0x25, 0xde, 0x3f, 0xab, 0xcd, 0x01, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70,
    0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
};

/* ---- helpers ------------------------------------------------------------------ */

/* RFC 1071 taken literally: big-endian words one byte at a time, 64-bit sum,
 * carries folded at the end. */
static uint16_t ref_csum(uint64_t init, const uint8_t *p, size_t len)
{
    uint64_t s = init;
    for (size_t i = 0; i < len; i++) {
        s += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

static uint64_t ref_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint8_t ph[12];
    z_put_be32(ph, src);
    z_put_be32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    z_put_be16(ph + 10, len);
    /* Undo the complement to get the running sum back. */
    return (uint16_t)~ref_csum(0, ph, sizeof(ph));
}

/* Recompute the IPv4 header checksum after a test changed a byte, so that
 * only the rule under test can reject the header. */
static void fix_ip_csum(uint8_t *p, size_t hlen)
{
    z_put_be16(p + 10, 0);
    z_put_be16(p + 10, ref_csum(0, p, hlen));
}

static void fill_random(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        p[i] = (uint8_t)rng_next();
    }
}

static void assert_all(const uint8_t *p, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++) {
        assert_int_equal(p[i], v);
    }
}

static bool host_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* ---- checksum ------------------------------------------------------------------- */

static void test_csum_rfc1071_example(void **state)
{
    (void)state;
    /* RFC 1071 section 3: these words sum to 0xddf2 once carries are folded. */
    static const uint8_t data[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(z_csum_finish(z_csum_add(0, data, sizeof(data))), 0x220d);
    assert_int_equal((uint16_t)~z_csum_finish(z_csum_add(0, data, sizeof(data))), 0xddf2);

    /* Same words, from an odd address and in pieces. */
    uint8_t shifted[9];
    memcpy(shifted + 1, data, sizeof(data));
    uint32_t s = z_csum_add(0, shifted + 1, 2);
    s = z_csum_add(s, shifted + 3, 4);
    s = z_csum_add(s, shifted + 7, 2);
    assert_int_equal(z_csum_finish(s), 0x220d);
}

static void test_csum_known_headers(void **state)
{
    (void)state;
    /* The textbook header 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7. */
    uint8_t hdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                       0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    assert_int_equal(z_csum_finish(z_csum_add(0, hdr, 20)), 0xb861);
    hdr[10] = 0xb8;
    hdr[11] = 0x61;
    assert_int_equal(z_csum_finish(z_csum_add(0, hdr, 20)), 0);

    assert_int_equal(z_csum_finish(z_csum_add(0, ping_packet, 20)), 0);
    assert_int_equal(z_csum_finish(z_csum_add(0, PING_ICMP, PING_ICMP_LEN)), 0);
    uint32_t ph = z_csum_pseudo4(PING_SRC, PING_DST, Z_IPPROTO_UDP, sizeof(dns_datagram));
    assert_int_equal(z_csum_finish(z_csum_add(ph, dns_datagram, sizeof(dns_datagram))), 0);
}

static void test_csum_edge_values(void **state)
{
    (void)state;
    uint8_t zeros[64] = {0};
    uint8_t ones[64];
    memset(ones, 0xff, sizeof(ones));

    assert_int_equal(z_csum_finish(0), 0xffff);
    assert_int_equal(z_csum_finish(0xffff), 0);
    assert_int_equal(z_csum_finish(0xffffffffu), 0); /* 0xffff + 0xffff folds to 0xffff */
    assert_int_equal(z_csum_finish(0x0001fffeu), 0); /* 0xfffe + 1 */
    assert_int_equal(z_csum_finish(z_csum_add(0, NULL, 0)), 0xffff);
    assert_int_equal(z_csum_finish(z_csum_add(0x1234, zeros, 0)), (uint16_t)~0x1234);
    assert_int_equal(z_csum_finish(z_csum_add(0, zeros, sizeof(zeros))), 0xffff);
    assert_int_equal(z_csum_finish(z_csum_add(0, ones, sizeof(ones))), 0);
    /* A trailing odd byte is the high half of a word. */
    assert_int_equal(z_csum_finish(z_csum_add(0, ones, 1)), 0x00ff);
    /* A running sum near the top of uint32_t must wrap with end-around carry. */
    for (size_t n = 0; n <= sizeof(ones); n++) {
        assert_int_equal(z_csum_finish(z_csum_add(0xffffffffu, ones, n)),
                         ref_csum(0xffffffffu, ones, n));
        assert_int_equal(z_csum_finish(z_csum_add(0xfffffffeu, zeros, n)),
                         ref_csum(0xfffffffeu, zeros, n));
    }
}

static void test_csum_pseudo4(void **state)
{
    (void)state;
    /* 192.168.1.10 -> 8.8.8.8, UDP, 37 bytes: words c0a8 010a 0808 0808 0011 0025. */
    assert_int_equal(z_csum_pseudo4(PING_SRC, PING_DST, 17, 37), 0xd1f8);
    rng_seed(11);
    for (int i = 0; i < 1000; i++) {
        uint32_t src = (uint32_t)rng_next();
        uint32_t dst = (uint32_t)rng_next();
        uint8_t proto = (uint8_t)rng_next();
        uint16_t len = (uint16_t)rng_next();
        uint32_t sum = z_csum_pseudo4(src, dst, proto, len);
        assert_int_equal(z_csum_finish(sum), (uint16_t)~ref_pseudo(src, dst, proto, len));
    }
}

/* Random lengths, start addresses of every alignment, random even-length
 * pieces and random initial sums, against the byte-at-a-time reference. */
static void test_csum_random_vs_reference(void **state)
{
    (void)state;
    enum { MAXLEN = 4096, SLACK = 16 };
    static uint8_t buf[MAXLEN + SLACK];
    rng_seed(1071);
    for (int iter = 0; iter < 5000; iter++) {
        size_t off = rng_below(SLACK);
        size_t len = iter < 200 ? (size_t)iter : rng_below(iter % 10 == 0 ? MAXLEN : 200);
        uint8_t *p = buf + off;
        switch (iter % 4) {
        case 0:
            memset(p, 0xff, len); /* every word at its maximum: the most carries */
            break;
        case 1:
            memset(p, 0, len);
            break;
        default:
            fill_random(p, len);
            break;
        }
        uint32_t init = iter % 3 == 0 ? 0 : (uint32_t)rng_next();
        uint16_t want = ref_csum(init, p, len);

        assert_int_equal(z_csum_finish(z_csum_add(init, p, len)), want);

        uint32_t sum = init;
        size_t pos = 0;
        while (pos < len) {
            size_t piece = rng_below((uint32_t)(len - pos) + 1);
            if (pos + piece < len) {
                piece &= ~(size_t)1; /* only the last piece may be odd */
            }
            sum = z_csum_add(sum, p + pos, piece);
            pos += piece;
        }
        assert_int_equal(z_csum_finish(sum), want);
    }
}

static void test_csum_large(void **state)
{
    (void)state;
    size_t len = (size_t)8 << 20;
    uint8_t *p = malloc(len + 1);
    assert_non_null(p);
    memset(p, 0xff, len + 1);
    assert_int_equal(z_csum_finish(z_csum_add(0, p + 1, len)), ref_csum(0, p + 1, len));
    rng_seed(3);
    fill_random(p, len + 1);
    assert_int_equal(z_csum_finish(z_csum_add(7, p + 1, len - 1)), ref_csum(7, p + 1, len - 1));
    free(p);
}

/* ---- Ethernet ----------------------------------------------------------------------- */

static void test_eth_parse_known(void **state)
{
    (void)state;
    static const uint8_t src[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    struct z_eth_hdr h;
    memset(&h, 0, sizeof(h));
    assert_int_equal(z_eth_parse(arp_request_frame, sizeof(arp_request_frame), &h), 14);
    assert_true(z_eth_is_broadcast(h.dst));
    assert_true(z_eth_is_multicast(h.dst));
    assert_memory_equal(h.src, src, 6);
    assert_false(z_eth_is_broadcast(h.src));
    assert_false(z_eth_is_multicast(h.src));
    assert_int_equal(h.type, Z_ETHERTYPE_ARP);
    assert_int_equal(z_eth_parse(arp_request_frame, 14, &h), 14);
}

static void test_eth_parse_rejects(void **state)
{
    (void)state;
    struct z_eth_hdr h;
    for (size_t len = 0; len < 14; len++) {
        /* An exact-size heap block, so that ASan sees any read past it. */
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, arp_request_frame, len);
        assert_int_equal(z_eth_parse(p, len, &h), -EBADMSG);
        free(p);
    }
    uint8_t f[14];
    memcpy(f, arp_request_frame, 14);
    f[12] = 0x05;
    f[13] = 0xff; /* largest 802.3 length */
    assert_int_equal(z_eth_parse(f, 14, &h), -EBADMSG);
    f[12] = 0x00;
    f[13] = 0x2e;
    assert_int_equal(z_eth_parse(f, 14, &h), -EBADMSG);
    f[12] = 0x06;
    f[13] = 0x00; /* smallest Ethernet II type */
    assert_int_equal(z_eth_parse(f, 14, &h), 14);
    assert_int_equal(h.type, 0x0600);
}

static void test_eth_emit(void **state)
{
    (void)state;
    struct z_eth_hdr h;
    assert_int_equal(z_eth_parse(arp_request_frame, 14, &h), 14);
    uint8_t out[32];
    memset(out, CANARY, sizeof(out));
    assert_int_equal(z_eth_emit(out, sizeof(out), &h), 14);
    assert_memory_equal(out, arp_request_frame, 14);
    assert_all(out + 14, sizeof(out) - 14, CANARY);

    for (size_t cap = 0; cap < 14; cap++) {
        memset(out, CANARY, sizeof(out));
        assert_int_equal(z_eth_emit(out, cap, &h), -ENOSPC);
        assert_all(out, sizeof(out), CANARY);
    }

    rng_seed(14);
    for (int i = 0; i < 500; i++) {
        struct z_eth_hdr a, b;
        fill_random(a.dst, 6);
        fill_random(a.src, 6);
        a.type = (uint16_t)(0x0600 + rng_below(0x10000 - 0x0600));
        assert_int_equal(z_eth_emit(out, 14, &a), 14);
        assert_int_equal(z_eth_parse(out, 14, &b), 14);
        assert_memory_equal(a.dst, b.dst, 6);
        assert_memory_equal(a.src, b.src, 6);
        assert_int_equal(a.type, b.type);
    }
}

/* ---- ARP -------------------------------------------------------------------------- */

#define ARP_BODY (arp_request_frame + 14)

static void test_arp_parse_known(void **state)
{
    (void)state;
    static const uint8_t sha[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    static const uint8_t zero[6] = {0};
    struct z_arp a;
    memset(&a, 0xee, sizeof(a));
    /* The 18 bytes of link padding behind it are not part of the message. */
    assert_int_equal(z_arp_parse(ARP_BODY, sizeof(arp_request_frame) - 14, &a), 28);
    assert_int_equal(a.op, Z_ARP_OP_REQUEST);
    assert_memory_equal(a.sha, sha, 6);
    assert_int_equal(a.spa, 0x0a00020f);
    assert_memory_equal(a.tha, zero, 6);
    assert_int_equal(a.tpa, 0x0a000202);

    uint8_t reply[28];
    memcpy(reply, ARP_BODY, 28);
    reply[7] = 2;
    assert_int_equal(z_arp_parse(reply, 28, &a), 28);
    assert_int_equal(a.op, Z_ARP_OP_REPLY);
}

static void test_arp_parse_rejects(void **state)
{
    (void)state;
    /* Each: offset, new byte value. */
    static const struct {
        size_t off;
        uint8_t val;
    } bad[] = {
        {0, 0x01}, /* htype 0x0101 */
        {1, 0x06}, /* htype 6 (IEEE 802) */
        {2, 0x86}, /* ptype 0x86dd */
        {3, 0x06}, /* ptype 0x0806 */
        {4, 0x08}, /* hlen 8 */
        {4, 0x00}, /* hlen 0 */
        {5, 0x10}, /* plen 16 */
        {7, 0x00}, /* op 0 */
        {7, 0x03}, /* op 3 (RARP request) */
        {6, 0x01}, /* op 0x0101 */
    };
    struct z_arp a;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        uint8_t m[28];
        memcpy(m, ARP_BODY, 28);
        m[bad[i].off] = bad[i].val;
        assert_int_equal(z_arp_parse(m, 28, &a), -EBADMSG);
    }
    for (size_t len = 0; len < 28; len++) {
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, ARP_BODY, len);
        assert_int_equal(z_arp_parse(p, len, &a), -EBADMSG);
        free(p);
    }
}

static void test_arp_emit(void **state)
{
    (void)state;
    struct z_arp a;
    assert_int_equal(z_arp_parse(ARP_BODY, 28, &a), 28);
    uint8_t out[40];
    memset(out, CANARY, sizeof(out));
    assert_int_equal(z_arp_emit(out, sizeof(out), &a), 28);
    assert_memory_equal(out, ARP_BODY, 28);
    assert_all(out + 28, sizeof(out) - 28, CANARY);

    for (size_t cap = 0; cap < 28; cap++) {
        memset(out, CANARY, sizeof(out));
        assert_int_equal(z_arp_emit(out, cap, &a), -ENOSPC);
        assert_all(out, sizeof(out), CANARY);
    }

    rng_seed(826);
    for (int i = 0; i < 500; i++) {
        struct z_arp x, y;
        x.op = (uint16_t)(1 + rng_below(2));
        fill_random(x.sha, 6);
        fill_random(x.tha, 6);
        x.spa = (uint32_t)rng_next();
        x.tpa = (uint32_t)rng_next();
        assert_int_equal(z_arp_emit(out, 28, &x), 28);
        assert_int_equal(z_arp_parse(out, 28, &y), 28);
        assert_int_equal(x.op, y.op);
        assert_memory_equal(x.sha, y.sha, 6);
        assert_memory_equal(x.tha, y.tha, 6);
        assert_int_equal(x.spa, y.spa);
        assert_int_equal(x.tpa, y.tpa);
    }
}

/* ---- IPv4 ----------------------------------------------------------------------------- */

static void test_ipv4_parse_known(void **state)
{
    (void)state;
    struct z_ipv4_hdr h;
    memset(&h, 0xee, sizeof(h));
    assert_int_equal(z_ipv4_parse(ping_packet, sizeof(ping_packet), &h), 20);
    assert_int_equal(h.ihl, 20);
    assert_int_equal(h.tos, 0);
    assert_int_equal(h.total_len, 84);
    assert_int_equal(h.id, 0x6d3a);
    assert_int_equal(h.frag, Z_IPV4_FLAG_DF);
    assert_int_equal(z_ipv4_frag_offset(&h), 0);
    assert_false(z_ipv4_more_frags(&h));
    assert_int_equal(h.ttl, 64);
    assert_int_equal(h.proto, Z_IPPROTO_ICMP);
    assert_int_equal(h.checksum, 0xfbac);
    assert_int_equal(h.src, PING_SRC);
    assert_int_equal(h.dst, PING_DST);

    /* Link padding past total_len is allowed and ignored. */
    uint8_t padded[100];
    memset(padded, 0, sizeof(padded));
    memcpy(padded, ping_packet, sizeof(ping_packet));
    assert_int_equal(z_ipv4_parse(padded, sizeof(padded), &h), 20);
    assert_int_equal(h.total_len, 84);

    /* A header-only packet: total_len == ihl == len. */
    uint8_t bare[20];
    memcpy(bare, ping_packet, 20);
    z_put_be16(bare + 2, 20);
    bare[6] = 0x20; /* MF, offset 0x0b9 * 8 */
    bare[7] = 0xb9;
    fix_ip_csum(bare, 20);
    assert_int_equal(z_ipv4_parse(bare, 20, &h), 20);
    assert_true(z_ipv4_more_frags(&h));
    assert_int_equal(z_ipv4_frag_offset(&h), 0xb9 * 8);
}

static void expect_ip_reject(const uint8_t *p, size_t len)
{
    struct z_ipv4_hdr h;
    uint8_t *copy = malloc(len ? len : 1); /* exact size for ASan */
    assert_non_null(copy);
    memcpy(copy, p, len);
    assert_int_equal(z_ipv4_parse(copy, len, &h), -EBADMSG);
    free(copy);
}

static void test_ipv4_parse_rejects(void **state)
{
    (void)state;
    uint8_t m[84];

    for (size_t len = 0; len < 20; len++) {
        expect_ip_reject(ping_packet, len);
    }

    /* Version other than 4, checksum kept valid. */
    static const uint8_t versions[] = {0x05, 0x65, 0x35, 0xf5};
    for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
        memcpy(m, ping_packet, 84);
        m[0] = versions[i];
        fix_ip_csum(m, 20);
        expect_ip_reject(m, 84);
    }

    /* ihl below 20 bytes. */
    for (uint8_t words = 0; words < 5; words++) {
        memcpy(m, ping_packet, 84);
        m[0] = (uint8_t)(0x40 | words);
        fix_ip_csum(m, 20);
        expect_ip_reject(m, 84);
    }

    /* ihl past the buffer: 24 bytes of header claimed in a 20-byte buffer. */
    memcpy(m, ping_packet, 20);
    m[0] = 0x46;
    z_put_be16(m + 2, 20);
    fix_ip_csum(m, 20);
    expect_ip_reject(m, 20);
    /* The largest ihl (60) with 59 bytes available. */
    memset(m, 0, sizeof(m));
    memcpy(m, ping_packet, 20);
    m[0] = 0x4f;
    z_put_be16(m + 2, 59);
    fix_ip_csum(m, 59);
    expect_ip_reject(m, 59);

    /* total_len below ihl. */
    memcpy(m, ping_packet, 84);
    z_put_be16(m + 2, 19);
    fix_ip_csum(m, 20);
    expect_ip_reject(m, 84);
    memcpy(m, ping_packet, 84);
    z_put_be16(m + 2, 0);
    fix_ip_csum(m, 20);
    expect_ip_reject(m, 84);

    /* total_len past the buffer: one byte of the packet missing. */
    expect_ip_reject(ping_packet, 83);
    memcpy(m, ping_packet, 84);
    z_put_be16(m + 2, 0xffff);
    fix_ip_csum(m, 20);
    expect_ip_reject(m, 84);

    /* Checksum: one bit off, in the checksum field or in the covered header. */
    memcpy(m, ping_packet, 84);
    m[11] ^= 0x01;
    expect_ip_reject(m, 84);
    memcpy(m, ping_packet, 84);
    m[8] ^= 0x80; /* TTL */
    expect_ip_reject(m, 84);
    memcpy(m, ping_packet, 84);
    m[19] ^= 0x04; /* destination */
    expect_ip_reject(m, 84);
    /* The payload is not covered. */
    struct z_ipv4_hdr h;
    memcpy(m, ping_packet, 84);
    m[40] ^= 0xff;
    assert_int_equal(z_ipv4_parse(m, 84, &h), 20);
}

/* The ping header with `opts` (a multiple of 4 bytes) as its options and 4
 * payload bytes, checksum fixed. Returns the packet length. */
static size_t ip_with_options(uint8_t *out, const uint8_t *opts, size_t optlen)
{
    size_t ihl = 20 + optlen;
    memcpy(out, ping_packet, 20);
    out[0] = (uint8_t)(0x40 | (ihl / 4));
    memcpy(out + 20, opts, optlen);
    memset(out + ihl, 0x77, 4);
    z_put_be16(out + 2, (uint16_t)(ihl + 4));
    fix_ip_csum(out, ihl);
    return ihl + 4;
}

static void test_ipv4_options(void **state)
{
    (void)state;
    static const struct {
        uint8_t opts[40];
        uint8_t len;
        bool ok;
    } cases[] = {
        {{1, 1, 1, 0}, 4, true},                       /* NOPs, EOL */
        {{1, 1, 1, 1}, 4, true},                       /* NOPs to the end */
        {{0, 0xff, 0x00, 0x01}, 4, true},              /* anything after EOL is padding */
        {{0x94, 4, 0, 0}, 4, true},                    /* router alert fills exactly */
        {{7, 7, 4, 0, 0, 0, 0, 0}, 8, true},           /* record route, then EOL */
        {{1, 0x44, 2, 0}, 4, true},                    /* smallest TLV */
        {{0x83, 39, 4}, 40, true},                     /* 39-byte option, then EOL */
        {{0x83, 40, 4}, 40, true},                     /* fills all 40 option bytes */
        {{7, 0, 0, 0}, 4, false},                      /* length 0 */
        {{7, 1, 0, 0}, 4, false},                      /* length 1 */
        {{1, 1, 7, 1}, 4, false},                      /* length 1 after NOPs */
        {{7, 5, 0, 0}, 4, false},                      /* one byte past the header */
        {{1, 1, 1, 7}, 4, false},                      /* no room for the length byte */
        {{0x94, 4, 0, 0, 1, 1, 0x44, 3}, 8, false},    /* second option runs past */
        {{0x94, 4, 0, 0, 0x44, 0xff, 0, 0}, 8, false}, /* length 255 */
        {{0x83, 41, 4}, 40, false},                    /* 41 bytes in 40 */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        uint8_t pkt[64 + 4];
        size_t len = ip_with_options(pkt, cases[i].opts, cases[i].len);
        struct z_ipv4_hdr h;
        int rc = z_ipv4_parse(pkt, len, &h);
        if (cases[i].ok) {
            assert_int_equal(rc, 20 + cases[i].len);
            assert_int_equal(h.ihl, 20 + cases[i].len);
            assert_int_equal(h.total_len, len);
        } else {
            assert_int_equal(rc, -EBADMSG);
        }
        /* No read past the header, even when options claim more. */
        expect_ip_reject(pkt, 20 + cases[i].len - 1);
    }
}

static void test_ipv4_emit(void **state)
{
    (void)state;
    /* The textbook header: 4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7. */
    static const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                     0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    struct z_ipv4_hdr h = {
        .ihl = 60, /* ignored: emit never writes options */
        .tos = 0,
        .total_len = 0x73,
        .id = 0,
        .frag = Z_IPV4_FLAG_DF,
        .ttl = 64,
        .proto = Z_IPPROTO_UDP,
        .checksum = 0x1234, /* ignored: computed */
        .src = 0xc0a80001,
        .dst = 0xc0a800c7,
    };
    uint8_t out[32];
    memset(out, CANARY, sizeof(out));
    assert_int_equal(z_ipv4_emit(out, sizeof(out), &h), 20);
    assert_memory_equal(out, want, 20);
    assert_all(out + 20, sizeof(out) - 20, CANARY);

    for (size_t cap = 0; cap < 20; cap++) {
        memset(out, CANARY, sizeof(out));
        assert_int_equal(z_ipv4_emit(out, cap, &h), -ENOSPC);
        assert_all(out, sizeof(out), CANARY);
    }

    /* The ping header re-emitted from its parse is byte-identical. */
    struct z_ipv4_hdr p;
    assert_int_equal(z_ipv4_parse(ping_packet, sizeof(ping_packet), &p), 20);
    assert_int_equal(z_ipv4_emit(out, 20, &p), 20);
    assert_memory_equal(out, ping_packet, 20);
}

static void test_ipv4_round_trip(void **state)
{
    (void)state;
    static uint8_t pkt[200];
    rng_seed(791);
    for (int i = 0; i < 2000; i++) {
        struct z_ipv4_hdr a = {
            .tos = (uint8_t)rng_next(),
            .total_len = (uint16_t)(20 + rng_below(sizeof(pkt) - 20 + 1)),
            .id = (uint16_t)rng_next(),
            .frag = (uint16_t)rng_next(),
            .ttl = (uint8_t)rng_next(),
            .proto = (uint8_t)rng_next(),
            .src = (uint32_t)rng_next(),
            .dst = (uint32_t)rng_next(),
        };
        fill_random(pkt, sizeof(pkt));
        assert_int_equal(z_ipv4_emit(pkt, sizeof(pkt), &a), 20);
        assert_int_equal(ref_csum(0, pkt, 20), 0);
        struct z_ipv4_hdr b;
        assert_int_equal(z_ipv4_parse(pkt, a.total_len, &b), 20);
        assert_int_equal(b.ihl, 20);
        assert_int_equal(b.tos, a.tos);
        assert_int_equal(b.total_len, a.total_len);
        assert_int_equal(b.id, a.id);
        assert_int_equal(b.frag, a.frag);
        assert_int_equal(b.ttl, a.ttl);
        assert_int_equal(b.proto, a.proto);
        assert_int_equal(b.checksum, z_get_be16(pkt + 10));
        assert_int_equal(b.src, a.src);
        assert_int_equal(b.dst, a.dst);
    }
}

/* ---- ICMP -------------------------------------------------------------------------------- */

static void test_icmp_parse_known(void **state)
{
    (void)state;
    struct z_icmp_hdr h;
    memset(&h, 0xee, sizeof(h));
    assert_int_equal(z_icmp_parse(PING_ICMP, PING_ICMP_LEN, &h), 8);
    assert_int_equal(h.type, Z_ICMP_ECHO_REQUEST);
    assert_int_equal(h.code, 0);
    assert_int_equal(h.checksum, 0x86c8);
    assert_int_equal(h.rest, 0x1c2b0001);
}

static void test_icmp_parse_rejects(void **state)
{
    (void)state;
    struct z_icmp_hdr h;
    for (size_t len = 0; len < 8; len++) {
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, PING_ICMP, len);
        assert_int_equal(z_icmp_parse(p, len, &h), -EBADMSG);
        free(p);
    }
    uint8_t m[PING_ICMP_LEN];
    for (size_t i = 0; i < PING_ICMP_LEN; i++) {
        /* The checksum covers every byte, payload included. */
        memcpy(m, PING_ICMP, PING_ICMP_LEN);
        m[i] ^= (uint8_t)(1u << (i % 8));
        assert_int_equal(z_icmp_parse(m, PING_ICMP_LEN, &h), -EBADMSG);
    }
    /* Truncated by two bytes: the sum no longer matches. */
    assert_int_equal(z_icmp_parse(PING_ICMP, PING_ICMP_LEN - 2, &h), -EBADMSG);
}

static void test_icmp_emit_known(void **state)
{
    (void)state;
    /* The echo reply to the ping above: same id, seq and data; checksum 0x8ec8. */
    struct z_icmp_hdr h = {.type = Z_ICMP_ECHO_REPLY, .code = 0, .checksum = 0, .rest = 0x1c2b0001};
    uint8_t out[PING_ICMP_LEN + 8];
    memset(out, CANARY, sizeof(out));
    assert_int_equal(z_icmp_emit(out, sizeof(out), &h, PING_ICMP + 8, PING_ICMP_LEN - 8),
                     PING_ICMP_LEN);
    static const uint8_t hdr[8] = {0x00, 0x00, 0x8e, 0xc8, 0x1c, 0x2b, 0x00, 0x01};
    assert_memory_equal(out, hdr, 8);
    assert_memory_equal(out + 8, PING_ICMP + 8, PING_ICMP_LEN - 8);
    assert_all(out + PING_ICMP_LEN, 8, CANARY);

    /* Re-emitting the request gives the captured bytes back. */
    struct z_icmp_hdr req;
    assert_int_equal(z_icmp_parse(PING_ICMP, PING_ICMP_LEN, &req), 8);
    assert_int_equal(z_icmp_emit(out, PING_ICMP_LEN, &req, PING_ICMP + 8, PING_ICMP_LEN - 8),
                     PING_ICMP_LEN);
    assert_memory_equal(out, PING_ICMP, PING_ICMP_LEN);

    /* No payload. */
    assert_int_equal(z_icmp_emit(out, 8, &h, NULL, 0), 8);
    assert_int_equal(ref_csum(0, out, 8), 0);
}

static void test_icmp_emit_aliasing(void **state)
{
    (void)state;
    enum { CAP = 600 };
    static uint8_t buf[CAP], want[CAP], payload[CAP];
    rng_seed(792);
    for (int i = 0; i < 1000; i++) {
        size_t plen = rng_below(CAP - 64);
        struct z_icmp_hdr h = {
            .type = (uint8_t)rng_next(), .code = (uint8_t)rng_next(), .rest = (uint32_t)rng_next()};
        fill_random(payload, plen);
        assert_int_equal(z_icmp_emit(want, CAP, &h, payload, plen), (int)(8 + plen));
        assert_int_equal(ref_csum(0, want, 8 + plen), 0);

        /* Payload at every offset that overlaps or abuts the output, buf + 8
         * (in place) included. */
        size_t off = rng_below(64);
        fill_random(buf, CAP);
        memcpy(buf + off, payload, plen);
        assert_int_equal(z_icmp_emit(buf, CAP, &h, buf + off, plen), (int)(8 + plen));
        assert_memory_equal(buf, want, 8 + plen);

        fill_random(buf, CAP);
        memcpy(buf + 8, payload, plen);
        assert_int_equal(z_icmp_emit(buf, 8 + plen, &h, buf + 8, plen), (int)(8 + plen));
        assert_memory_equal(buf, want, 8 + plen);

        struct z_icmp_hdr back;
        assert_int_equal(z_icmp_parse(buf, 8 + plen, &back), 8);
        assert_int_equal(back.type, h.type);
        assert_int_equal(back.code, h.code);
        assert_int_equal(back.rest, h.rest);
        assert_int_equal(back.checksum, z_get_be16(want + 2));
    }
}

static void test_icmp_emit_nospace(void **state)
{
    (void)state;
    struct z_icmp_hdr h = {.type = Z_ICMP_DEST_UNREACH, .code = Z_ICMP_UNREACH_PORT};
    uint8_t buf[64], before[64];
    for (size_t plen = 0; plen <= 28; plen += 7) {
        for (size_t cap = 0; cap < 8 + plen; cap++) {
            memset(buf, CANARY, sizeof(buf));
            buf[20] = 0x45; /* a quoted header in place, which must survive too */
            memcpy(before, buf, sizeof(buf));
            assert_int_equal(z_icmp_emit(buf, cap, &h, buf + 8, plen), -ENOSPC);
            assert_memory_equal(buf, before, sizeof(buf));
            assert_int_equal(z_icmp_emit(buf, cap, &h, before, plen), -ENOSPC);
            assert_memory_equal(buf, before, sizeof(buf));
        }
    }
    /* Too large for any IPv4 packet, however big the buffer. */
    static uint8_t big[65536];
    assert_int_equal(z_icmp_emit(big, sizeof(big), &h, big + 8, 65535 - 20 - 8), 65535 - 20);
    assert_int_equal(ref_csum(0, big, 65535 - 20), 0);
    memset(big, CANARY, sizeof(big));
    assert_int_equal(z_icmp_emit(big, sizeof(big), &h, big + 8, 65535 - 20 - 7), -EMSGSIZE);
    assert_int_equal(z_icmp_emit(big, sizeof(big), &h, big + 8, SIZE_MAX), -EMSGSIZE);
    assert_all(big, sizeof(big), CANARY);
}

/* ---- UDP -------------------------------------------------------------------------------- */

static void test_udp_parse_known(void **state)
{
    (void)state;
    struct z_udp_hdr h;
    memset(&h, 0xee, sizeof(h));
    assert_int_equal(z_udp_parse(dns_datagram, sizeof(dns_datagram), PING_SRC, PING_DST, &h), 8);
    assert_int_equal(h.sport, 54321);
    assert_int_equal(h.dport, 53);
    assert_int_equal(h.len, 37);
    assert_int_equal(h.checksum, 0xde3f);

    /* Link padding behind the datagram is outside the checksum. */
    uint8_t padded[46];
    memset(padded, 0x99, sizeof(padded));
    memcpy(padded, dns_datagram, sizeof(dns_datagram));
    assert_int_equal(z_udp_parse(padded, sizeof(padded), PING_SRC, PING_DST, &h), 8);
    assert_int_equal(h.len, 37);

    /* Checksum 0: not verified, so any payload and any addresses pass. */
    uint8_t m[37];
    memcpy(m, dns_datagram, 37);
    m[6] = m[7] = 0;
    m[20] ^= 0xff;
    assert_int_equal(z_udp_parse(m, 37, 1, 2, &h), 8);
    assert_int_equal(h.checksum, 0);
}

static void test_udp_parse_rejects(void **state)
{
    (void)state;
    struct z_udp_hdr h;
    uint8_t m[37];

    for (size_t len = 0; len < 8; len++) {
        uint8_t *p = malloc(len ? len : 1);
        assert_non_null(p);
        memcpy(p, dns_datagram, len);
        assert_int_equal(z_udp_parse(p, len, PING_SRC, PING_DST, &h), -EBADMSG);
        free(p);
    }

    /* Length field below the header size, with no checksum to fail first. */
    for (uint16_t l = 0; l < 8; l++) {
        memcpy(m, dns_datagram, 37);
        z_put_be16(m + 4, l);
        m[6] = m[7] = 0;
        assert_int_equal(z_udp_parse(m, 37, PING_SRC, PING_DST, &h), -EBADMSG);
    }
    /* Length field past the bytes available. */
    memcpy(m, dns_datagram, 37);
    m[6] = m[7] = 0;
    z_put_be16(m + 4, 38);
    assert_int_equal(z_udp_parse(m, 37, PING_SRC, PING_DST, &h), -EBADMSG);
    assert_int_equal(z_udp_parse_nocsum(m, 37, &h), -EBADMSG);

    /* Without the checksum (a device vouched for it): lengths still count,
     * a wrong sum does not. */
    memcpy(m, dns_datagram, 37);
    m[7] ^= 0x5a;
    assert_int_equal(z_udp_parse(m, 37, PING_SRC, PING_DST, &h), -EBADMSG);
    assert_int_equal(z_udp_parse_nocsum(m, 37, &h), 8);
    assert_int_equal(h.len, 37);
    assert_int_equal(z_udp_parse_nocsum(m, 7, &h), -EBADMSG);
    assert_int_equal(z_udp_parse(dns_datagram, 36, PING_SRC, PING_DST, &h), -EBADMSG);

    /* Checksum: any one bit flipped, or the wrong pseudo-header. */
    for (size_t i = 0; i < 37; i++) {
        if (i == 4 || i == 5) {
            continue; /* the length field has its own rule */
        }
        memcpy(m, dns_datagram, 37);
        m[i] ^= (uint8_t)(0x80u >> (i % 8));
        if (m[6] == 0 && m[7] == 0) {
            continue;
        }
        assert_int_equal(z_udp_parse(m, 37, PING_SRC, PING_DST, &h), -EBADMSG);
    }
    assert_int_equal(z_udp_parse(dns_datagram, 37, PING_SRC + 1, PING_DST, &h), -EBADMSG);
    assert_int_equal(z_udp_parse(dns_datagram, 37, PING_SRC, 0x08080404, &h), -EBADMSG);
    /* Swapping source and destination keeps the sum: RFC 768 cannot tell. */
    assert_int_equal(z_udp_parse(dns_datagram, 37, PING_DST, PING_SRC, &h), 8);
}

static void test_udp_emit_known(void **state)
{
    (void)state;
    uint8_t buf[48];
    memset(buf, CANARY, sizeof(buf));
    memcpy(buf + 8, dns_datagram + 8, 29);
    assert_int_equal(z_udp_emit(buf, 37, PING_SRC, PING_DST, 54321, 53, 29), 37);
    assert_memory_equal(buf, dns_datagram, 37);
    assert_all(buf + 37, sizeof(buf) - 37, CANARY);

    /* An empty datagram. */
    assert_int_equal(z_udp_emit(buf, 8, 0x0a000001, 0x0a000002, 1, 2, 0), 8);
    struct z_udp_hdr h;
    assert_int_equal(z_udp_parse(buf, 8, 0x0a000001, 0x0a000002, &h), 8);
    assert_int_equal(h.len, 8);
}

static void test_udp_emit_zero_checksum(void **state)
{
    (void)state;
    /* 10.0.0.1:1000 -> 10.0.0.2:2000 carrying 0xe01f: the sum of pseudo-header,
     * header and data is 0xffff, so the computed checksum is 0 and goes out
     * as 0xffff (RFC 768). */
    uint8_t buf[10] = {0, 0, 0, 0, 0, 0, 0, 0, 0xe0, 0x1f};
    static const uint8_t want[10] = {0x03, 0xe8, 0x07, 0xd0, 0x00, 0x0a, 0xff, 0xff, 0xe0, 0x1f};
    assert_int_equal(z_udp_emit(buf, sizeof(buf), 0x0a000001, 0x0a000002, 1000, 2000, 2), 10);
    assert_memory_equal(buf, want, sizeof(want));
    struct z_udp_hdr h;
    assert_int_equal(z_udp_parse(buf, sizeof(buf), 0x0a000001, 0x0a000002, &h), 8);
    assert_int_equal(h.checksum, 0xffff);
}

static void test_udp_emit_limits(void **state)
{
    (void)state;
    static uint8_t big[65536 + 8];
    uint8_t buf[64], before[64];
    for (size_t plen = 0; plen <= 40; plen += 5) {
        for (size_t cap = 0; cap < 8 + plen; cap++) {
            memset(buf, CANARY, sizeof(buf));
            memcpy(before, buf, sizeof(buf));
            assert_int_equal(z_udp_emit(buf, cap, 1, 2, 3, 4, plen), -ENOSPC);
            assert_memory_equal(buf, before, sizeof(buf));
        }
    }
    memset(big, 0, sizeof(big));
    assert_int_equal(z_udp_emit(big, sizeof(big), 1, 2, 3, 4, 65535 - 8), 65535);
    struct z_udp_hdr h;
    assert_int_equal(z_udp_parse(big, 65535, 1, 2, &h), 8);
    assert_int_equal(h.len, 65535);
    memset(big, CANARY, sizeof(big));
    assert_int_equal(z_udp_emit(big, sizeof(big), 1, 2, 3, 4, 65535 - 7), -EMSGSIZE);
    assert_int_equal(z_udp_emit(big, sizeof(big), 1, 2, 3, 4, SIZE_MAX), -EMSGSIZE);
    assert_all(big, sizeof(big), CANARY);
}

static void test_udp_round_trip(void **state)
{
    (void)state;
    static uint8_t buf[1600];
    rng_seed(768);
    for (int i = 0; i < 2000; i++) {
        size_t plen = rng_below(sizeof(buf) - 8 + 1);
        uint32_t src = (uint32_t)rng_next();
        uint32_t dst = (uint32_t)rng_next();
        uint16_t sport = (uint16_t)rng_next();
        uint16_t dport = (uint16_t)rng_next();
        fill_random(buf, sizeof(buf));
        assert_int_equal(z_udp_emit(buf, sizeof(buf), src, dst, sport, dport, plen),
                         (int)(8 + plen));
        uint16_t ulen = (uint16_t)(8 + plen);
        uint16_t csum = z_get_be16(buf + 6);
        assert_int_not_equal(csum, 0);
        assert_int_equal(ref_csum(ref_pseudo(src, dst, Z_IPPROTO_UDP, ulen), buf, ulen), 0);
        struct z_udp_hdr h;
        assert_int_equal(z_udp_parse(buf, ulen, src, dst, &h), 8);
        assert_int_equal(h.sport, sport);
        assert_int_equal(h.dport, dport);
        assert_int_equal(h.len, ulen);
        assert_int_equal(h.checksum, csum);
    }
}

/* ---- pcap -------------------------------------------------------------------------------- */

static void test_pcap_file_header(void **state)
{
    (void)state;
    /* magic a1b2c3d4, version 2.4, thiszone 0, sigfigs 0, snaplen 65535, network 1. */
    static const uint8_t le[24] = {0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00};
    static const uint8_t be[24] = {0xa1, 0xb2, 0xc3, 0xd4, 0x00, 0x02, 0x00, 0x04,
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01};
    uint8_t out[32];
    memset(out, CANARY, sizeof(out));
    assert_int_equal(z_pcap_emit_file_header(out, sizeof(out), Z_PCAP_LINKTYPE_ETHERNET, 65535),
                     24);
    assert_memory_equal(out, host_little_endian() ? le : be, 24);
    assert_all(out + 24, sizeof(out) - 24, CANARY);

    assert_int_equal(z_pcap_emit_file_header(out, 24, Z_PCAP_LINKTYPE_RAW, 262144), 24);
    uint32_t v;
    memcpy(&v, out, 4);
    assert_int_equal(v, 0xa1b2c3d4u);
    memcpy(&v, out + 16, 4);
    assert_int_equal(v, 262144);
    memcpy(&v, out + 20, 4);
    assert_int_equal(v, 101);

    for (size_t cap = 0; cap < 24; cap++) {
        memset(out, CANARY, sizeof(out));
        assert_int_equal(z_pcap_emit_file_header(out, cap, 1, 65535), -ENOSPC);
        assert_all(out, sizeof(out), CANARY);
    }
}

static void test_pcap_record_header(void **state)
{
    (void)state;
    /* 1700000000.123456 s (0x6553f100), 60 of 98 bytes saved. */
    static const uint8_t le[16] = {0x00, 0xf1, 0x53, 0x65, 0x40, 0xe2, 0x01, 0x00,
                                   0x3c, 0x00, 0x00, 0x00, 0x62, 0x00, 0x00, 0x00};
    static const uint8_t be[16] = {0x65, 0x53, 0xf1, 0x00, 0x00, 0x01, 0xe2, 0x40,
                                   0x00, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x00, 0x62};
    uint8_t out[20];
    memset(out, CANARY, sizeof(out));
    assert_int_equal(z_pcap_emit_record_header(out, sizeof(out), 1700000000123456LL, 60, 98), 16);
    assert_memory_equal(out, host_little_endian() ? le : be, 16);
    assert_all(out + 16, sizeof(out) - 16, CANARY);

    uint32_t f[4];
    assert_int_equal(z_pcap_emit_record_header(out, 16, 0, 0, 0), 16);
    memcpy(f, out, 16);
    assert_int_equal(f[0], 0);
    assert_int_equal(f[1], 0);
    assert_int_equal(z_pcap_emit_record_header(out, 16, 999999, 1, 2), 16);
    memcpy(f, out, 16);
    assert_int_equal(f[0], 0);
    assert_int_equal(f[1], 999999);
    assert_int_equal(f[2], 1);
    assert_int_equal(f[3], 2);
    /* Before the epoch: -1.5 s is -2 s + 500000 us. */
    assert_int_equal(z_pcap_emit_record_header(out, 16, -1500000, 1, 1), 16);
    memcpy(f, out, 16);
    assert_int_equal(f[0], (uint32_t)-2);
    assert_int_equal(f[1], 500000);

    for (size_t cap = 0; cap < 16; cap++) {
        memset(out, CANARY, sizeof(out));
        assert_int_equal(z_pcap_emit_record_header(out, cap, 1, 1, 1), -ENOSPC);
        assert_all(out, sizeof(out), CANARY);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csum_rfc1071_example),
        cmocka_unit_test(test_csum_known_headers),
        cmocka_unit_test(test_csum_edge_values),
        cmocka_unit_test(test_csum_pseudo4),
        cmocka_unit_test(test_csum_random_vs_reference),
        cmocka_unit_test(test_csum_large),
        cmocka_unit_test(test_eth_parse_known),
        cmocka_unit_test(test_eth_parse_rejects),
        cmocka_unit_test(test_eth_emit),
        cmocka_unit_test(test_arp_parse_known),
        cmocka_unit_test(test_arp_parse_rejects),
        cmocka_unit_test(test_arp_emit),
        cmocka_unit_test(test_ipv4_parse_known),
        cmocka_unit_test(test_ipv4_parse_rejects),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_ipv4_emit),
        cmocka_unit_test(test_ipv4_round_trip),
        cmocka_unit_test(test_icmp_parse_known),
        cmocka_unit_test(test_icmp_parse_rejects),
        cmocka_unit_test(test_icmp_emit_known),
        cmocka_unit_test(test_icmp_emit_aliasing),
        cmocka_unit_test(test_icmp_emit_nospace),
        cmocka_unit_test(test_udp_parse_known),
        cmocka_unit_test(test_udp_parse_rejects),
        cmocka_unit_test(test_udp_emit_known),
        cmocka_unit_test(test_udp_emit_zero_checksum),
        cmocka_unit_test(test_udp_emit_limits),
        cmocka_unit_test(test_udp_round_trip),
        cmocka_unit_test(test_pcap_file_header),
        cmocka_unit_test(test_pcap_record_header),
    };

    return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
