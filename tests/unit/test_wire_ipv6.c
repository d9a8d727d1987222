/* Unit tests for src/wire/ipv6.h: IPv6 header, extension header walk,
 * ICMPv6, Neighbor Discovery, MLD and the address helpers.
 *
 * The ND, MLD and echo packets were sent by Linux 6.x in a network namespace
 * (a veth pair with MACs 02:00:00:00:00:0a and :0b, a bridge with the MLD
 * querier on for the query) and captured with tshark; the RA was built with
 * Python and sent through a raw ICMPv6 socket, so the kernel computed its
 * checksum. The extension header packet's UDP checksum was computed with
 * Python's struct module. The emitters must reproduce the captured bytes. */
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
#include "wire/ipv6.h"

#define CANARY 0xa5

/* ---- packets (IPv6 header onwards, Ethernet header removed) ----------------------- */

/* fe80::ff:fe00:a -> ff02::1:ff00:b: Neighbor Solicitation for
 * fe80::ff:fe00:b with SLLA 02:00:00:00:00:0a. */
/* clang-format off */
static const uint8_t ns_packet[72] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, /* IPv6: plen 32, ICMPv6, hop 255 */
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* src fe80::ff:fe00:a */
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* dst ff02::1:ff00:b */
    0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x0b,
    0x87, 0x00, 0x7c, 0x73, 0x00, 0x00, 0x00, 0x00, /* NS, checksum 0x7c73, reserved */
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* target fe80::ff:fe00:b */
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0b,
    0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, /* SLLA */
};

/* fe80::ff:fe00:b -> fe80::ff:fe00:a: the solicited, override Neighbor
 * Advertisement answering it, with TLLA 02:00:00:00:00:0b. */
static const uint8_t na_packet[72] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* src fe80::ff:fe00:b */
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0b,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* dst fe80::ff:fe00:a */
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
    0x88, 0x00, 0x1a, 0xf6, 0x60, 0x00, 0x00, 0x00, /* NA, S and O flags */
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* target fe80::ff:fe00:b */
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0b,
    0x02, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b, /* TLLA */
};

/* fe80::ff:fe00:a -> fe80::ff:fe00:b: a solicited NA (S only) without
 * options, answering a unicast NS. */
static const uint8_t na_plain_packet[64] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x18, 0x3a, 0xff,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0b,
    0x88, 0x00, 0x3f, 0x0b, 0x40, 0x00, 0x00, 0x00,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
};

/* fe80::ff:fe00:a -> ff02::2: Router Solicitation with SLLA, sent on link up. */
static const uint8_t rs_packet[56] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 0x3a, 0xff,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* ff02::2 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x85, 0x00, 0x7b, 0x1a, 0x00, 0x00, 0x00, 0x00, /* RS, reserved */
    0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, /* SLLA */
};

/* fe80::ff:fe00:a -> ff02::1: Router Advertisement, hop limit 64, O flag,
 * router lifetime 1800 s, reachable 30000 ms, retrans 1000 ms; SLLA, MTU
 * 1480, prefix 2001:db8:1:2::/64 (L, A; valid 86400, preferred 14400),
 * RDNSS 2001:db8::53 for 600 s. */
static const uint8_t ra_packet[128] = {
    0x60, 0x07, 0x5f, 0x14, 0x00, 0x58, 0x3a, 0xff, /* flow label 0x75f14 */
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x86, 0x00, 0x6a, 0x00, 0x40, 0x40, 0x07, 0x08, /* RA, hop 64, O, 1800 s */
    0x00, 0x00, 0x75, 0x30, 0x00, 0x00, 0x03, 0xe8, /* reachable, retrans */
    0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, /* SLLA */
    0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc8, /* MTU 1480 */
    0x03, 0x04, 0x40, 0xc0, 0x00, 0x01, 0x51, 0x80, /* prefix /64, L A, valid */
    0x00, 0x00, 0x38, 0x40, 0x00, 0x00, 0x00, 0x00, /* preferred, reserved */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x02,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x19, 0x03, 0x00, 0x00, 0x00, 0x00, 0x02, 0x58, /* RDNSS, 600 s */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x53,
};

/* fe80::ff:fe00:a -> fe80::ff:fe00:b: ping -6 -s 16, id 0x01c2, seq 1, a
 * 16-byte timestamp as data. ICMPv6 checksum 0x423b. */
static const uint8_t echo_packet[64] = {
    0x60, 0x01, 0x8f, 0x69, 0x00, 0x18, 0x3a, 0x40,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0b,
    0x80, 0x00, 0x42, 0x3b, 0x01, 0xc2, 0x00, 0x01,
    0x96, 0x33, 0x05, 0x6b, 0x00, 0x00, 0x00, 0x00,
    0x9f, 0xf9, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* fe80::ff:fe00:a -> ff02::16, hop limit 1: MLDv2 Report joining
 * ff02::1:ff00:a (CHANGE_TO_EXCLUDE, no sources), behind a hop-by-hop
 * header with Router Alert 0 and PadN. */
static const uint8_t mld_report_packet[76] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, /* next header: hop-by-hop */
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16,
    0x3a, 0x00, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00, /* HBH: RA 0, PadN 0 */
    0x8f, 0x00, 0x71, 0xf5, 0x00, 0x00, 0x00, 0x01, /* report, 1 record */
    0x04, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xff, 0x00, 0x00, 0x0a,
};

/* The bridge (fe80::ff:fe00:c) reporting two groups: ff02::1:ff00:c and
 * ff02::6a. Only the ICMPv6 part (from byte 48 of the packet). */
static const uint8_t mld_report2_icmp[48] = {
    0x8f, 0x00, 0x6e, 0x6f, 0x00, 0x00, 0x00, 0x02,
    0x04, 0x00, 0x00, 0x00, 0xff, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0xff, 0x00, 0x00, 0x0c, 0x04, 0x00, 0x00, 0x00,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6a,
};

/* fe80::ff:fe00:c -> ff02::1: the bridge's general MLDv2 query, maximum
 * response 10000 ms, QRV 2, QQIC 125 s; hop-by-hop Router Alert then two
 * Pad1. */
static const uint8_t mld_query_packet[76] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01,
    0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0c,
    0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x3a, 0x00, 0x05, 0x02, 0x00, 0x00, 0x00, 0x00, /* HBH: RA 0, Pad1, Pad1 */
    0x82, 0x00, 0x57, 0x8b, 0x27, 0x10, 0x00, 0x00, /* query, MRC 10000 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* group :: */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x7d, 0x00, 0x00,                         /* QRV 2, QQIC 125, 0 sources */
};

/* 2001:db8::1 -> 2001:db8::2: hop-by-hop (PadN), destination options
 * (Pad1, PadN, an unknown skippable option 0x1e, PadN), an atomic fragment
 * header (id 0x12345678), then UDP 1234 -> 5678 "hello", checksum 0x458d. */
static const uint8_t chain_packet[85] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x2d, 0x00, 0x40, /* plen 45, next HBH */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, /* 40: HBH -> DST, PadN 4 */
    0x2c, 0x01, 0x00, 0x01, 0x01, 0x00, 0x1e, 0x02, /* 48: DST -> frag, 16 bytes */
    0xab, 0xcd, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x11, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, /* 64: frag -> UDP, atomic */
    0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0d, 0x45, 0x8d, /* 72: UDP */
    0x68, 0x65, 0x6c, 0x6c, 0x6f,
};
/* clang-format on */

#define SRC(p) ((p) + 8)
#define DST(p) ((p) + 24)

static const uint8_t mac_a[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0a};
static const uint8_t mac_b[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x0b};

/* ---- helpers -------------------------------------------------------------------------- */

/* RFC 1071 one byte at a time, from a running sum. */
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

static void addr(uint8_t out[16], const char *text)
{
    assert_int_equal(zsock_inet_pton(AF_INET6, text, out), 1);
}

/* An IPv6 packet from 2001:db8::1 to 2001:db8::2 (or ff02::1 with
 * `multicast`) with next header `next` and the payload `ext`. */
static size_t mkpkt(uint8_t *buf, uint8_t next, const uint8_t *ext, size_t elen, bool multicast)
{
    struct z_ipv6_hdr h = {.plen = (uint16_t)elen, .next = next, .hop_limit = 64};
    addr(h.src, "2001:db8::1");
    addr(h.dst, multicast ? "ff02::1" : "2001:db8::2");
    assert_int_equal(z_ipv6_emit(buf, Z_IPV6_HLEN, &h), Z_IPV6_HLEN);
    memcpy(buf + Z_IPV6_HLEN, ext, elen);
    return Z_IPV6_HLEN + elen;
}

static int walk(const uint8_t *ext, size_t elen, uint8_t first, struct z_ipv6_walk *w)
{
    static uint8_t buf[Z_IPV6_HLEN + 65535];
    size_t n = mkpkt(buf, first, ext, elen, false);
    return z_ipv6_walk(buf, n, first, w);
}

static void assert_param(int rc, const struct z_ipv6_walk *w, uint8_t code, uint32_t pointer)
{
    assert_int_equal(rc, -EBADMSG);
    assert_int_equal(w->verdict, Z_IPV6_PARAM_PROB);
    assert_int_equal(w->icmp_code, code);
    assert_int_equal(w->pointer, pointer);
}

static void assert_drop(int rc, const struct z_ipv6_walk *w)
{
    assert_int_equal(rc, -EBADMSG);
    assert_int_equal(w->verdict, Z_IPV6_DROP);
}

/* ---- addresses -------------------------------------------------------------------------- */

static void test_addr_classes(void **state)
{
    (void)state;
    struct {
        const char *text;
        bool unspec, loop, ll, mc, mapped, ula, global, solicited;
        uint8_t scope;
    } cases[] = {
        {"::", true, false, false, false, false, false, false, false, 0xe},
        {"::1", false, true, false, false, false, false, false, false, 2},
        {"fe80::1", false, false, true, false, false, false, false, false, 2},
        {"febf:ffff::1", false, false, true, false, false, false, false, false, 2},
        {"fec0::1", false, false, false, false, false, false, false, false, 0xe}, /* site-local */
        {"ff02::1", false, false, false, true, false, false, false, false, 2},
        {"ff05::2", false, false, false, true, false, false, false, false, 5},
        {"ff0e::101", false, false, false, true, false, false, false, false, 0xe},
        {"ff02::1:ff00:b", false, false, false, true, false, false, false, true, 2},
        {"ff02::2:ff00:b", false, false, false, true, false, false, false, false, 2},
        {"::ffff:192.0.2.1", false, false, false, false, true, false, false, false, 0xe},
        {"::192.0.2.1", false, false, false, false, false, false, false, false, 0xe},
        {"fd12:3456::1", false, false, false, false, false, true, false, false, 0xe},
        {"fc00::1", false, false, false, false, false, true, false, false, 0xe},
        {"2001:db8::1", false, false, false, false, false, false, true, false, 0xe},
        {"3fff::1", false, false, false, false, false, false, true, false, 0xe},
        {"4000::1", false, false, false, false, false, false, false, false, 0xe},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t a[16];
        addr(a, cases[i].text);
        assert_int_equal(z_ipv6_is_unspecified(a), cases[i].unspec);
        assert_int_equal(z_ipv6_is_loopback(a), cases[i].loop);
        assert_int_equal(z_ipv6_is_link_local(a), cases[i].ll);
        assert_int_equal(z_ipv6_is_multicast(a), cases[i].mc);
        assert_int_equal(z_ipv6_is_v4mapped(a), cases[i].mapped);
        assert_int_equal(z_ipv6_is_unique_local(a), cases[i].ula);
        assert_int_equal(z_ipv6_is_global(a), cases[i].global);
        assert_int_equal(z_ipv6_is_solicited_node(a), cases[i].solicited);
        assert_int_equal(z_ipv6_scope(a), cases[i].scope);
    }
}

static void test_addr_derived(void **state)
{
    (void)state;
    uint8_t a[16], want[16], mac[6];

    /* Linux's link-local address for 02:00:00:00:00:0a: fe80::ff:fe00:a. */
    uint8_t iid[8];
    z_ipv6_eui64(mac_a, iid);
    static const uint8_t want_iid[8] = {0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a};
    assert_memory_equal(iid, want_iid, 8);
    static const uint8_t mac_u[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    z_ipv6_eui64(mac_u, iid);
    static const uint8_t want_u[8] = {0x50, 0x54, 0x00, 0xff, 0xfe, 0x12, 0x34, 0x56};
    assert_memory_equal(iid, want_u, 8);

    /* The NS above went to the solicited-node group of its target. */
    z_ipv6_solicited_node(ns_packet + 48, a);
    assert_memory_equal(a, DST(ns_packet), 16);
    addr(a, "2001:db8::abcd:1234:5678");
    z_ipv6_solicited_node(a, a); /* in place */
    addr(want, "ff02::1:ff34:5678");
    assert_memory_equal(a, want, 16);

    z_ipv6_mcast_mac(DST(ns_packet), mac);
    static const uint8_t want_mac[6] = {0x33, 0x33, 0xff, 0x00, 0x00, 0x0b};
    assert_memory_equal(mac, want_mac, 6);
    z_ipv6_mcast_mac(z_ipv6_all_nodes, mac);
    static const uint8_t want_all[6] = {0x33, 0x33, 0x00, 0x00, 0x00, 0x01};
    assert_memory_equal(mac, want_all, 6);

    z_ipv6_make_v4mapped(0xc0000201u, a);
    addr(want, "::ffff:192.0.2.1");
    assert_memory_equal(a, want, 16);
    assert_int_equal(z_ipv6_get_v4mapped(a), 0xc0000201u);

    addr(want, "ff02::16");
    assert_memory_equal(z_ipv6_all_mldv2_routers, want, 16);
    addr(want, "ff02::2");
    assert_memory_equal(z_ipv6_all_routers, want, 16);
}

static void test_addr_prefix(void **state)
{
    (void)state;
    uint8_t a[16], b[16];
    addr(a, "2001:db8:1:2::1");
    addr(b, "2001:db8:1:2::1");
    assert_int_equal(z_ipv6_prefix_match(a, b), 128);
    assert_true(z_ipv6_prefix_eq(a, b, 200));
    addr(b, "2001:db8:1:3::1"); /* differs in bit 63 */
    assert_int_equal(z_ipv6_prefix_match(a, b), 63);
    assert_true(z_ipv6_prefix_eq(a, b, 63));
    assert_false(z_ipv6_prefix_eq(a, b, 64));
    addr(b, "a001:db8::");
    assert_int_equal(z_ipv6_prefix_match(a, b), 0);
    assert_true(z_ipv6_prefix_eq(a, b, 0));
    addr(b, "2001:db8:1:2::"); /* differs in the last bit */
    assert_int_equal(z_ipv6_prefix_match(a, b), 127);
}

/* ---- checksum and header ------------------------------------------------------------------- */

static void test_csum_pseudo6(void **state)
{
    (void)state;
    rng_seed(6);
    for (int i = 0; i < 1000; i++) {
        uint8_t ph[40];
        for (size_t j = 0; j < 32; j++) {
            ph[j] = (uint8_t)rng_next();
        }
        uint32_t len = (uint32_t)rng_next();
        uint8_t nh = (uint8_t)rng_next();
        z_put_be32(ph + 32, len);
        ph[36] = ph[37] = ph[38] = 0;
        ph[39] = nh;
        assert_int_equal(z_csum_finish(z_csum_pseudo6(ph, ph + 16, len, nh)),
                         ref_csum(0, ph, sizeof(ph)));
    }
    /* The captured echo request verifies with it. */
    uint32_t s = z_csum_pseudo6(SRC(echo_packet), DST(echo_packet), 24, Z_IPPROTO_ICMPV6);
    assert_int_equal(z_csum_finish(z_csum_add(s, echo_packet + 40, 24)), 0);
}

static void test_ipv6_parse_captured(void **state)
{
    (void)state;
    struct z_ipv6_hdr h;
    assert_int_equal(z_ipv6_parse(ra_packet, sizeof(ra_packet), &h), 40);
    assert_int_equal(h.tclass, 0);
    assert_int_equal(h.flow, 0x75f14);
    assert_int_equal(h.plen, 88);
    assert_int_equal(h.next, Z_IPPROTO_ICMPV6);
    assert_int_equal(h.hop_limit, 255);
    assert_memory_equal(h.src, SRC(ra_packet), 16);
    assert_memory_equal(h.dst, z_ipv6_all_nodes, 16);

    /* Link padding after the payload is accepted. */
    uint8_t buf[100] = {0};
    memcpy(buf, echo_packet, sizeof(echo_packet));
    assert_int_equal(z_ipv6_parse(buf, sizeof(buf), &h), 40);
    assert_int_equal(h.plen, 24);
}

static void test_ipv6_parse_rejects(void **state)
{
    (void)state;
    struct z_ipv6_hdr h;
    uint8_t buf[64];
    memcpy(buf, echo_packet, sizeof(buf));
    assert_int_equal(z_ipv6_parse(buf, 39, &h), -EBADMSG);
    assert_int_equal(z_ipv6_parse(buf, 63, &h), -EBADMSG); /* plen 24 > 23 */
    assert_int_equal(z_ipv6_parse(buf, 64, &h), 40);
    buf[0] = 0x40; /* version 4 */
    assert_int_equal(z_ipv6_parse(buf, 64, &h), -EBADMSG);
    buf[0] = 0x60;
    z_put_be16(buf + 4, 0); /* nothing follows */
    assert_int_equal(z_ipv6_parse(buf, 40, &h), 40);
    assert_int_equal(h.plen, 0);
}

static void test_ipv6_emit_round_trip(void **state)
{
    (void)state;
    struct z_ipv6_hdr h, g;
    assert_int_equal(z_ipv6_parse(echo_packet, sizeof(echo_packet), &h), 40);
    uint8_t buf[41];
    memset(buf, CANARY, sizeof(buf));
    assert_int_equal(z_ipv6_emit(buf, 39, &h), -ENOSPC);
    for (size_t i = 0; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], CANARY);
    }
    assert_int_equal(z_ipv6_emit(buf, sizeof(buf), &h), 40);
    assert_memory_equal(buf, echo_packet, 40);
    assert_int_equal(buf[40], CANARY);

    h.tclass = 0xb8;    /* EF */
    h.flow = 0xfffffff; /* too wide: masked */
    assert_int_equal(z_ipv6_emit(buf, sizeof(buf), &h), 40);
    assert_int_equal(buf[0], 0x6b);
    assert_int_equal(buf[1], 0x8f);
    z_put_be16(buf + 4, 0);
    assert_int_equal(z_ipv6_parse(buf, 40, &g), 40);
    assert_int_equal(g.tclass, 0xb8);
    assert_int_equal(g.flow, 0xfffff);
}

/* ---- extension headers ----------------------------------------------------------------- */

static void test_walk_chain(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    struct z_ipv6_hdr h;
    assert_int_equal(z_ipv6_parse(chain_packet, sizeof(chain_packet), &h), 40);
    assert_int_equal(z_ipv6_walk(chain_packet, 40 + h.plen, h.next, &w), 72);
    assert_int_equal(w.verdict, Z_IPV6_PASS);
    assert_int_equal(w.proto, Z_IPPROTO_UDP);
    assert_int_equal(w.off, 72);
    assert_int_equal(w.nh_ptr, 64);
    assert_int_equal(w.nhdrs, 3);
    assert_false(w.router_alert);
    assert_true(w.frag.present);
    assert_false(w.frag.more);
    assert_int_equal(w.frag.offset, 0);
    assert_int_equal(w.frag.id, 0x12345678);
    assert_int_equal(w.frag.hdr_off, 64);
    assert_int_equal(w.frag.nh_ptr, 48);

    struct z_udp_hdr u;
    assert_int_equal(z_udp6_parse(chain_packet + 72, 13, h.src, h.dst, &u), 8);
    assert_int_equal(u.sport, 1234);
    assert_int_equal(u.dport, 5678);
    assert_int_equal(u.len, 13);

    /* One byte short: the UDP part shrinks, the chain still walks. */
    assert_int_equal(z_ipv6_walk(chain_packet, 84, h.next, &w), 72);
    /* Cut inside the fragment header, the destination options, the HBH. */
    assert_drop(z_ipv6_walk(chain_packet, 71, h.next, &w), &w);
    assert_drop(z_ipv6_walk(chain_packet, 63, h.next, &w), &w);
    assert_drop(z_ipv6_walk(chain_packet, 47, h.next, &w), &w);
    assert_drop(z_ipv6_walk(chain_packet, 39, h.next, &w), &w);
    /* No extension header at all. */
    assert_int_equal(z_ipv6_walk(echo_packet, sizeof(echo_packet), Z_IPPROTO_ICMPV6, &w), 40);
    assert_int_equal(w.proto, Z_IPPROTO_ICMPV6);
    assert_int_equal(w.nh_ptr, 6);
    assert_int_equal(w.nhdrs, 0);
    assert_false(w.frag.present);
}

static void test_walk_router_alert(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    assert_int_equal(z_ipv6_walk(mld_report_packet, sizeof(mld_report_packet), 0, &w), 48);
    assert_int_equal(w.proto, Z_IPPROTO_ICMPV6);
    assert_true(w.router_alert);
    assert_int_equal(w.router_alert_value, 0);
    assert_int_equal(z_ipv6_walk(mld_query_packet, sizeof(mld_query_packet), 0, &w), 48);
    assert_true(w.router_alert);

    /* Router Alert in a destination options header means nothing. */
    static const uint8_t dst_ra[16] = {59, 0, 5, 2, 0, 0, 1, 0};
    assert_int_equal(walk(dst_ra, 8, Z_IPPROTO_DSTOPTS, &w), 48);
    assert_false(w.router_alert);
    assert_int_equal(w.proto, Z_IPPROTO_NONE);

    uint8_t buf[8];
    memset(buf, CANARY, sizeof(buf));
    assert_int_equal(z_ipv6_hbh_router_alert_emit(buf, 7, 58, 0), -ENOSPC);
    assert_int_equal(buf[0], CANARY);
    assert_int_equal(z_ipv6_hbh_router_alert_emit(buf, 8, 58, 0), 8);
    assert_memory_equal(buf, mld_report_packet + 40, 8);
}

static void test_walk_unknown_options(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    /* Pad1, then an unknown option of each action, then PadN. */
    uint8_t hbh[8] = {17, 0, 0x00, 0x1e, 1, 0xee, 0x01, 0x00};
    static uint8_t buf[128];

    assert_int_equal(walk(hbh, 8, 0, &w), 48); /* 00: skipped */
    assert_int_equal(w.proto, Z_IPPROTO_UDP);

    hbh[3] = 0x5e; /* 01: discard silently */
    assert_drop(walk(hbh, 8, 0, &w), &w);

    hbh[3] = 0x9e; /* 10: Parameter Problem, even to multicast */
    assert_param(walk(hbh, 8, 0, &w), &w, Z_ICMP6_PARAM_OPTION, 43);
    assert_true(w.even_multicast);

    hbh[3] = 0xde; /* 11: Parameter Problem unless multicast */
    assert_param(walk(hbh, 8, 0, &w), &w, Z_ICMP6_PARAM_OPTION, 43);
    assert_false(w.even_multicast);

    /* The same in a destination options header behind the HBH one. */
    uint8_t two[16] = {60, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 0, 0xde, 0, 0, 0};
    assert_param(walk(two, 16, 0, &w), &w, Z_ICMP6_PARAM_OPTION, 52);
    two[12] = 0x1e;
    assert_int_equal(walk(two, 16, 0, &w), 56);
    assert_int_equal(w.nhdrs, 2);

    /* Jumbo Payload (RFC 2675, 0xc2) is not supported: action 11. */
    uint8_t jumbo[8] = {17, 0, 0xc2, 4, 0, 1, 0, 0};
    size_t n = mkpkt(buf, 0, jumbo, 8, true);
    assert_param(z_ipv6_walk(buf, n, 0, &w), &w, Z_ICMP6_PARAM_OPTION, 42);
    assert_false(w.even_multicast); /* to ff02::1: the caller sends nothing */
}

static void test_walk_padding(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    /* Eight Pad1; PadN filling the whole rest; PadN with non-zero bytes. */
    static const uint8_t pad1[8] = {17, 0, 0, 0, 0, 0, 0, 0};
    static const uint8_t padn[8] = {17, 0, 1, 4, 0, 0, 0, 0};
    static const uint8_t padx[8] = {17, 0, 1, 4, 1, 2, 3, 4};
    assert_int_equal(walk(pad1, 8, Z_IPPROTO_DSTOPTS, &w), 48);
    assert_int_equal(walk(padn, 8, Z_IPPROTO_DSTOPTS, &w), 48);
    assert_int_equal(walk(padx, 8, Z_IPPROTO_DSTOPTS, &w), 48);
    /* An option whose length runs past its header (5 > 4 left). */
    static const uint8_t over[8] = {17, 0, 1, 5, 0, 0, 0, 0};
    assert_drop(walk(over, 8, Z_IPPROTO_DSTOPTS, &w), &w);
    /* An option type in the last byte, without room for its length. */
    static const uint8_t cut[8] = {17, 0, 1, 3, 0, 0, 0, 0x1e};
    assert_drop(walk(cut, 8, Z_IPPROTO_DSTOPTS, &w), &w);
    /* A longer header (24 bytes) with the option running into the next
     * header's bytes. */
    static const uint8_t big[24] = {17, 2, 1, 21, 0};
    assert_drop(walk(big, 24, Z_IPPROTO_DSTOPTS, &w), &w);
}

static void test_walk_hbh_position(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    /* DST then HBH: unrecognized next header, pointing at DST's byte 0. */
    static const uint8_t ext[16] = {0, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0};
    assert_param(walk(ext, 16, Z_IPPROTO_DSTOPTS, &w), &w, Z_ICMP6_PARAM_NEXTHDR, 40);
    /* HBH then HBH. */
    assert_param(walk(ext, 16, Z_IPPROTO_HOPOPTS, &w), &w, Z_ICMP6_PARAM_NEXTHDR, 40);
}

static void test_walk_routing(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    /* Type 0 with one address, segments left 1 (RFC 5095). */
    uint8_t rh[24] = {17, 2, 0, 1, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8};
    assert_param(walk(rh, 24, Z_IPPROTO_ROUTING, &w), &w, Z_ICMP6_PARAM_HEADER, 42);
    assert_false(w.even_multicast);
    /* Type 0 with segments left 0: ignored, noted. */
    rh[3] = 0;
    assert_int_equal(walk(rh, 24, Z_IPPROTO_ROUTING, &w), 64);
    assert_true(w.rh0);
    assert_int_equal(w.proto, Z_IPPROTO_UDP);
    /* Segment routing (type 4), segments left 0 then 2. */
    rh[2] = 4;
    assert_int_equal(walk(rh, 24, Z_IPPROTO_ROUTING, &w), 64);
    assert_false(w.rh0);
    rh[3] = 2;
    assert_param(walk(rh, 24, Z_IPPROTO_ROUTING, &w), &w, Z_ICMP6_PARAM_HEADER, 42);
    /* Behind a destination options header, the pointer moves along. */
    uint8_t two[32] = {43, 0, 1, 4, 0, 0, 0, 0};
    memcpy(two + 8, rh, sizeof(rh));
    assert_param(walk(two, 32, Z_IPPROTO_DSTOPTS, &w), &w, Z_ICMP6_PARAM_HEADER, 50);
    /* Its length runs past the packet. */
    rh[3] = 0;
    assert_drop(walk(rh, 16, Z_IPPROTO_ROUTING, &w), &w);
}

static void test_walk_fragments(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    /* First fragment: offset 0, M, 16 bytes of UDP behind. */
    uint8_t fr[24] = {17, 0, 0x00, 0x01, 0xca, 0xfe, 0xf0, 0x0d, 0x04, 0xd2, 0x16, 0x2e};
    assert_int_equal(walk(fr, 24, Z_IPPROTO_FRAGMENT, &w), 48);
    assert_int_equal(w.proto, Z_IPPROTO_UDP);
    assert_true(w.frag.present);
    assert_true(w.frag.more);
    assert_int_equal(w.frag.offset, 0);
    assert_int_equal(w.frag.id, 0xcafef00d);
    assert_int_equal(w.frag.hdr_off, 40);
    assert_int_equal(w.frag.nh_ptr, 6);
    /* Not a multiple of 8 with M set: pointer at the payload length. */
    assert_param(walk(fr, 23, Z_IPPROTO_FRAGMENT, &w), &w, Z_ICMP6_PARAM_HEADER, 4);
    /* A last fragment may have any length; offset 1480. */
    z_put_be16(fr + 2, 1480);
    assert_int_equal(walk(fr, 23, Z_IPPROTO_FRAGMENT, &w), 48);
    assert_false(w.frag.more);
    assert_int_equal(w.frag.offset, 1480);
    /* Offset + data beyond 65535: pointer at the fragment offset. */
    z_put_be16(fr + 2, 65528);
    assert_int_equal(walk(fr, 15, Z_IPPROTO_FRAGMENT, &w), 48); /* 65528 + 7 */
    assert_param(walk(fr, 16, Z_IPPROTO_FRAGMENT, &w), &w, Z_ICMP6_PARAM_HEADER, 42);
    /* ... counting unfragmentable headers before it (8 bytes of DST). */
    uint8_t dfr[24] = {44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0xff, 0xf0, 0, 0, 0, 1};
    assert_int_equal(walk(dfr, 16, Z_IPPROTO_DSTOPTS, &w), 56); /* 8 + 65520 + 0 */
    assert_param(walk(dfr, 24, Z_IPPROTO_DSTOPTS, &w), &w, Z_ICMP6_PARAM_HEADER, 50);
    /* A fragment header inside a fragment. */
    uint8_t ff[16] = {44, 0, 0, 0, 0, 0, 0, 1, 17, 0, 0, 0, 0, 0, 0, 2};
    assert_drop(walk(ff, 16, Z_IPPROTO_FRAGMENT, &w), &w);
    /* A later fragment does not walk what follows. */
    uint8_t later[16] = {60, 0, 0x05, 0xc8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(walk(later, 16, Z_IPPROTO_FRAGMENT, &w), 48);
    assert_int_equal(w.proto, Z_IPPROTO_DSTOPTS);
}

static void test_walk_first_fragment_chain(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    /* First fragment whose destination options header (16 bytes) does not
     * fit in its 8 data bytes: RFC 7112, code 3, pointer 0. */
    uint8_t fr[16] = {60, 0, 0, 1, 0, 0, 0, 9, 17, 1, 1, 4, 0, 0, 0, 0};
    assert_param(walk(fr, 16, Z_IPPROTO_FRAGMENT, &w), &w, Z_ICMP6_PARAM_FIRST_FRAG, 0);
    /* With the header complete (and 8 more bytes) it passes. */
    uint8_t ok[32] = {60, 0, 0, 1, 0, 0, 0, 9, 17, 1, 1, 12};
    assert_int_equal(walk(ok, 32, Z_IPPROTO_FRAGMENT, &w), 48);
    assert_int_equal(w.proto, Z_IPPROTO_DSTOPTS);
}

static void test_walk_limits(void **state)
{
    (void)state;
    struct z_ipv6_walk w;
    uint8_t ext[8 * (Z_IPV6_MAX_EXT + 1)];
    for (size_t i = 0; i < Z_IPV6_MAX_EXT + 1; i++) {
        static const uint8_t dst[8] = {Z_IPPROTO_DSTOPTS, 0, 1, 4, 0, 0, 0, 0};
        memcpy(ext + 8 * i, dst, 8);
    }
    ext[8 * (Z_IPV6_MAX_EXT - 1)] = Z_IPPROTO_NONE;
    assert_int_equal(walk(ext, 8 * Z_IPV6_MAX_EXT, Z_IPPROTO_DSTOPTS, &w), 40 + 8 * Z_IPV6_MAX_EXT);
    assert_int_equal(w.nhdrs, Z_IPV6_MAX_EXT);
    assert_int_equal(w.proto, Z_IPPROTO_NONE);
    ext[8 * (Z_IPV6_MAX_EXT - 1)] = Z_IPPROTO_DSTOPTS;
    ext[8 * Z_IPV6_MAX_EXT] = Z_IPPROTO_NONE;
    assert_drop(walk(ext, sizeof(ext), Z_IPPROTO_DSTOPTS, &w), &w);

    /* A header claiming more than the packet holds. */
    uint8_t big[16] = {17, 3, 1, 4};
    assert_drop(walk(big, 16, Z_IPPROTO_DSTOPTS, &w), &w);
    /* Less than 40 bytes. */
    assert_drop(z_ipv6_walk(echo_packet, 39, 58, &w), &w);
}

static void test_frag_emit(void **state)
{
    (void)state;
    uint8_t buf[8];
    memset(buf, CANARY, sizeof(buf));
    assert_int_equal(z_ipv6_frag_emit(buf, 7, 17, 1480, true, 1), -ENOSPC);
    assert_int_equal(buf[0], CANARY);
    assert_int_equal(z_ipv6_frag_emit(buf, 8, 17, 1487, true, 0xdeadbeef), 8);
    static const uint8_t want[8] = {17, 0, 0x05, 0xc9, 0xde, 0xad, 0xbe, 0xef};
    assert_memory_equal(buf, want, 8);

    /* Parsed back by the walk. */
    static uint8_t pkt[40 + 8 + 1480];
    memset(pkt, 0, sizeof(pkt));
    size_t n = mkpkt(pkt, Z_IPPROTO_FRAGMENT, buf, 8, false) + 1480;
    z_put_be16(pkt + 4, 8 + 1480);
    struct z_ipv6_walk w;
    assert_int_equal(z_ipv6_walk(pkt, n, Z_IPPROTO_FRAGMENT, &w), 48);
    assert_int_equal(w.frag.offset, 1480);
    assert_true(w.frag.more);
    assert_int_equal(w.frag.id, 0xdeadbeef);
}

/* ---- UDP and TCP over IPv6 ----------------------------------------------------------- */

static void test_udp6(void **state)
{
    (void)state;
    struct z_udp_hdr u;
    uint8_t buf[13];
    memcpy(buf, chain_packet + 72, 13);
    assert_int_equal(z_udp6_parse(buf, 13, SRC(chain_packet), DST(chain_packet), &u), 8);
    /* Another destination: the pseudo-header no longer matches. */
    assert_int_equal(z_udp6_parse(buf, 13, SRC(chain_packet), SRC(echo_packet), &u), -EBADMSG);
    buf[12] ^= 1;
    assert_int_equal(z_udp6_parse(buf, 13, SRC(chain_packet), DST(chain_packet), &u), -EBADMSG);
    buf[12] ^= 1;
    /* Zero ("none") is not allowed over IPv6. */
    z_put_be16(buf + 6, 0);
    assert_int_equal(z_udp6_parse(buf, 13, SRC(chain_packet), DST(chain_packet), &u), -EBADMSG);

    /* Emit gives the bytes Python computed. */
    assert_int_equal(z_udp6_emit(buf, 13, SRC(chain_packet), DST(chain_packet), 1234, 5678, 5), 13);
    assert_memory_equal(buf, chain_packet + 72, 13);
    assert_int_equal(z_udp6_emit(buf, 12, SRC(chain_packet), DST(chain_packet), 1234, 5678, 5),
                     -ENOSPC);
}

static void test_udp6_zero_checksum_sent_as_ones(void **state)
{
    (void)state;
    /* Find a 2-byte payload whose checksum comes out 0 and check it goes
     * out as 0xffff and still verifies. */
    uint8_t buf[10];
    bool found = false;
    for (uint32_t v = 0; v < 0x10000 && !found; v++) {
        z_put_be16(buf + 8, (uint16_t)v);
        assert_int_equal(
            z_udp6_emit(buf, sizeof(buf), SRC(chain_packet), DST(chain_packet), 1, 2, 2), 10);
        if (z_get_be16(buf + 6) == 0xffff) {
            found = true;
        }
    }
    assert_true(found);
    struct z_udp_hdr u;
    assert_int_equal(z_udp6_parse(buf, 10, SRC(chain_packet), DST(chain_packet), &u), 8);
    /* 0 would verify too (one's complement has two zeros) but means "no
     * checksum", which IPv6 forbids. */
    z_put_be16(buf + 6, 0);
    assert_int_equal(z_udp6_parse(buf, 10, SRC(chain_packet), DST(chain_packet), &u), -EBADMSG);
}

static void test_tcp6(void **state)
{
    (void)state;
    struct z_tcp_hdr h = {.sport = 80,
                          .dport = 40000,
                          .seq = 1,
                          .ack = 2,
                          .flags = Z_TCP_SYN | Z_TCP_ACK,
                          .window = 65535,
                          .opts = {.present = Z_TCPOPT_MSS, .mss = 1440}};
    uint8_t buf[64];
    size_t hl = z_tcp_hdr_len(&h.opts);
    memcpy(buf + hl, "abc", 3);
    assert_int_equal(z_tcp6_emit(buf, sizeof(buf), SRC(echo_packet), DST(echo_packet), &h, 3),
                     (int)hl);
    struct z_tcp_hdr g;
    assert_int_equal(z_tcp6_parse(buf, hl + 3, SRC(echo_packet), DST(echo_packet), &g), (int)hl);
    assert_int_equal(g.opts.mss, 1440);
    assert_int_equal(g.sport, 80);
    /* The IPv4-style pseudo-header would not verify. */
    assert_int_equal(z_tcp6_parse(buf, hl + 3, DST(ns_packet), DST(echo_packet), &g), -EBADMSG);
    buf[hl] ^= 0x20;
    assert_int_equal(z_tcp6_parse(buf, hl + 3, SRC(echo_packet), DST(echo_packet), &g), -EBADMSG);
}

/* ---- ICMPv6 -------------------------------------------------------------------------------- */

static void test_icmp6_echo(void **state)
{
    (void)state;
    struct z_icmp6_hdr h;
    const uint8_t *m = echo_packet + 40;
    assert_int_equal(z_icmp6_parse(m, 24, SRC(echo_packet), DST(echo_packet), &h), 8);
    assert_int_equal(h.type, Z_ICMP6_ECHO_REQUEST);
    assert_int_equal(h.code, 0);
    assert_int_equal(h.checksum, 0x423b);
    assert_int_equal(h.rest, 0x01c20001);
    assert_false(z_icmp6_is_error(h.type));

    /* Any flipped bit, or other addresses, fail the checksum. */
    uint8_t buf[24];
    for (size_t i = 0; i < 24; i++) {
        memcpy(buf, m, 24);
        buf[i] ^= 0x10;
        assert_int_equal(z_icmp6_parse(buf, 24, SRC(echo_packet), DST(echo_packet), &h), -EBADMSG);
    }
    assert_int_equal(z_icmp6_parse(m, 24, DST(echo_packet), DST(ns_packet), &h), -EBADMSG);
    assert_int_equal(z_icmp6_parse(m, 7, SRC(echo_packet), DST(echo_packet), &h), -EBADMSG);

    /* Emit reproduces the kernel's bytes, the payload given in place. */
    memcpy(buf, m, 24);
    memset(buf, 0, 8);
    struct z_icmp6_hdr e = {.type = Z_ICMP6_ECHO_REQUEST, .rest = 0x01c20001};
    assert_int_equal(z_icmp6_emit(buf, 24, SRC(echo_packet), DST(echo_packet), &e, buf + 8, 16),
                     24);
    assert_memory_equal(buf, m, 24);
    assert_int_equal(z_icmp6_emit(buf, 23, SRC(echo_packet), DST(echo_packet), &e, buf + 8, 16),
                     -ENOSPC);
}

static void test_icmp6_error_quotes_in_place(void **state)
{
    (void)state;
    /* A Packet Too Big quoting the echo request that sits at buf + 0:
     * the payload overlaps the header's bytes and is moved first. */
    uint8_t buf[8 + 64];
    memcpy(buf, echo_packet, 64);
    struct z_icmp6_hdr e = {.type = Z_ICMP6_PACKET_TOO_BIG, .rest = 1280};
    assert_int_equal(
        z_icmp6_emit(buf, sizeof(buf), SRC(echo_packet), DST(echo_packet), &e, buf, 64), 72);
    assert_memory_equal(buf + 8, echo_packet, 64);
    struct z_icmp6_hdr h;
    assert_int_equal(z_icmp6_parse(buf, 72, SRC(echo_packet), DST(echo_packet), &h), 8);
    assert_int_equal(h.type, Z_ICMP6_PACKET_TOO_BIG);
    assert_int_equal(h.rest, 1280);
    assert_true(z_icmp6_is_error(h.type));
    assert_int_equal(Z_ICMP6_ERR_MAX_QUOTE, 1232);
}

/* ---- Neighbor Discovery ----------------------------------------------------------------- */

static void test_nd_ns_captured(void **state)
{
    (void)state;
    struct z_icmp6_hdr ih;
    const uint8_t *m = ns_packet + 40;
    assert_int_equal(z_icmp6_parse(m, 32, SRC(ns_packet), DST(ns_packet), &ih), 8);
    struct z_nd_ns ns;
    assert_int_equal(z_nd_ns_parse(m, 32, SRC(ns_packet), DST(ns_packet), &ns), 32);
    assert_memory_equal(ns.target, m + 8, 16);
    assert_true(ns.opts.has_slla);
    assert_memory_equal(ns.opts.slla, mac_a, 6);
    assert_false(ns.opts.has_tlla);

    uint8_t buf[32];
    memset(buf, CANARY, sizeof(buf));
    assert_int_equal(z_nd_ns_emit(buf, 31, SRC(ns_packet), DST(ns_packet), &ns), -ENOSPC);
    assert_int_equal(buf[0], CANARY);
    assert_int_equal(z_nd_ns_emit(buf, 32, SRC(ns_packet), DST(ns_packet), &ns), 32);
    assert_memory_equal(buf, m, 32);
}

static void test_nd_ns_rules(void **state)
{
    (void)state;
    uint8_t m[32];
    struct z_nd_ns ns;
    memcpy(m, ns_packet + 40, 32);

    /* DAD: from ::, to the solicited-node group, no SLLA. */
    assert_int_equal(z_nd_ns_parse(m, 32, z_ipv6_any, DST(ns_packet), &ns), -EBADMSG);
    assert_int_equal(z_nd_ns_parse(m, 24, z_ipv6_any, DST(ns_packet), &ns), 24);
    assert_int_equal(z_nd_ns_parse(m, 24, z_ipv6_any, z_ipv6_all_nodes, &ns), -EBADMSG);
    assert_int_equal(z_nd_ns_parse(m, 24, z_ipv6_any, DST(na_packet), &ns), -EBADMSG);

    assert_int_equal(z_nd_ns_parse(m, 23, SRC(ns_packet), DST(ns_packet), &ns), -EBADMSG);
    m[1] = 1; /* code */
    assert_int_equal(z_nd_ns_parse(m, 32, SRC(ns_packet), DST(ns_packet), &ns), -EBADMSG);
    m[1] = 0;
    m[0] = Z_ICMP6_ND_NA; /* type */
    assert_int_equal(z_nd_ns_parse(m, 32, SRC(ns_packet), DST(ns_packet), &ns), -EBADMSG);
    m[0] = Z_ICMP6_ND_NS;
    m[8] = 0xff; /* multicast target */
    assert_int_equal(z_nd_ns_parse(m, 32, SRC(ns_packet), DST(ns_packet), &ns), -EBADMSG);
    m[8] = 0xfe;
    assert_int_equal(z_nd_ns_parse(m, 32, SRC(ns_packet), DST(ns_packet), &ns), 32);

    /* The DAD probe zsock will send parses back. */
    struct z_nd_ns dad = {0};
    memcpy(dad.target, ns_packet + 48, 16);
    uint8_t buf[24];
    assert_int_equal(z_nd_ns_emit(buf, 24, z_ipv6_any, DST(ns_packet), &dad), 24);
    struct z_icmp6_hdr ih;
    assert_int_equal(z_icmp6_parse(buf, 24, z_ipv6_any, DST(ns_packet), &ih), 8);
    assert_int_equal(z_nd_ns_parse(buf, 24, z_ipv6_any, DST(ns_packet), &ns), 24);
    assert_false(ns.opts.has_slla);
}

static void test_nd_na_captured(void **state)
{
    (void)state;
    struct z_nd_na na;
    const uint8_t *m = na_packet + 40;
    struct z_icmp6_hdr ih;
    assert_int_equal(z_icmp6_parse(m, 32, SRC(na_packet), DST(na_packet), &ih), 8);
    assert_int_equal(z_nd_na_parse(m, 32, SRC(na_packet), DST(na_packet), &na), 32);
    assert_false(na.router);
    assert_true(na.solicited);
    assert_true(na.override);
    assert_memory_equal(na.target, SRC(na_packet), 16);
    assert_true(na.opts.has_tlla);
    assert_memory_equal(na.opts.tlla, mac_b, 6);
    assert_false(na.opts.has_slla);

    uint8_t buf[32];
    assert_int_equal(z_nd_na_emit(buf, 32, SRC(na_packet), DST(na_packet), &na), 32);
    assert_memory_equal(buf, m, 32);

    m = na_plain_packet + 40;
    assert_int_equal(z_icmp6_parse(m, 24, SRC(na_plain_packet), DST(na_plain_packet), &ih), 8);
    assert_int_equal(z_nd_na_parse(m, 24, SRC(na_plain_packet), DST(na_plain_packet), &na), 24);
    assert_true(na.solicited);
    assert_false(na.override);
    assert_false(na.opts.has_tlla);
    assert_int_equal(z_nd_na_emit(buf, 32, SRC(na_plain_packet), DST(na_plain_packet), &na), 24);
    assert_memory_equal(buf, m, 24);

    /* Solicited to a multicast destination; multicast target; short. */
    assert_int_equal(z_nd_na_parse(m, 24, SRC(na_plain_packet), z_ipv6_all_nodes, &na), -EBADMSG);
    memcpy(buf, m, 24);
    buf[4] = 0x20; /* override only: fine to all nodes (unsolicited) */
    assert_int_equal(z_nd_na_parse(buf, 24, SRC(na_plain_packet), z_ipv6_all_nodes, &na), 24);
    buf[8] = 0xff;
    assert_int_equal(z_nd_na_parse(buf, 24, SRC(na_plain_packet), z_ipv6_all_nodes, &na), -EBADMSG);
    assert_int_equal(z_nd_na_parse(m, 23, SRC(na_plain_packet), DST(na_plain_packet), &na),
                     -EBADMSG);
}

static void test_nd_rs(void **state)
{
    (void)state;
    struct z_nd_rs rs;
    const uint8_t *m = rs_packet + 40;
    struct z_icmp6_hdr ih;
    assert_int_equal(z_icmp6_parse(m, 16, SRC(rs_packet), DST(rs_packet), &ih), 8);
    assert_int_equal(z_nd_rs_parse(m, 16, SRC(rs_packet), DST(rs_packet), &rs), 16);
    assert_true(rs.opts.has_slla);
    assert_memory_equal(rs.opts.slla, mac_a, 6);
    uint8_t buf[16];
    assert_int_equal(z_nd_rs_emit(buf, 16, SRC(rs_packet), DST(rs_packet), &rs), 16);
    assert_memory_equal(buf, m, 16);
    /* From :: an SLLA is not allowed; without it fine. */
    assert_int_equal(z_nd_rs_parse(m, 16, z_ipv6_any, DST(rs_packet), &rs), -EBADMSG);
    assert_int_equal(z_nd_rs_parse(m, 8, z_ipv6_any, DST(rs_packet), &rs), 8);
    assert_int_equal(z_nd_rs_parse(m, 7, SRC(rs_packet), DST(rs_packet), &rs), -EBADMSG);
}

static void test_nd_ra_captured(void **state)
{
    (void)state;
    struct z_nd_ra ra;
    const uint8_t *m = ra_packet + 40;
    struct z_icmp6_hdr ih;
    assert_int_equal(z_icmp6_parse(m, 88, SRC(ra_packet), DST(ra_packet), &ih), 8);
    assert_int_equal(z_nd_ra_parse(m, 88, SRC(ra_packet), DST(ra_packet), &ra), 88);
    assert_int_equal(ra.cur_hop_limit, 64);
    assert_false(ra.managed);
    assert_true(ra.other);
    assert_int_equal(ra.router_lifetime, 1800);
    assert_int_equal(ra.reachable_time, 30000);
    assert_int_equal(ra.retrans_timer, 1000);
    assert_true(ra.opts.has_slla);
    assert_memory_equal(ra.opts.slla, mac_a, 6);
    assert_true(ra.opts.has_mtu);
    assert_int_equal(ra.opts.mtu, 1480);
    assert_int_equal(ra.opts.nprefix, 1);
    assert_int_equal(ra.opts.nprefix_lost, 0);
    assert_int_equal(ra.opts.prefix[0].len, 64);
    assert_int_equal(ra.opts.prefix[0].flags, Z_ND_PREFIX_ONLINK | Z_ND_PREFIX_AUTO);
    assert_int_equal(ra.opts.prefix[0].valid, 86400);
    assert_int_equal(ra.opts.prefix[0].preferred, 14400);
    uint8_t want[16];
    addr(want, "2001:db8:1:2::");
    assert_memory_equal(ra.opts.prefix[0].prefix, want, 16);
    assert_int_equal(ra.opts.nrdnss, 1);
    assert_int_equal(ra.opts.rdnss_lifetime, 600);
    addr(want, "2001:db8::53");
    assert_memory_equal(ra.opts.rdnss[0], want, 16);

    uint8_t buf[88];
    assert_int_equal(z_nd_ra_emit(buf, 87, SRC(ra_packet), DST(ra_packet), &ra), -ENOSPC);
    assert_int_equal(z_nd_ra_emit(buf, 88, SRC(ra_packet), DST(ra_packet), &ra), 88);
    assert_memory_equal(buf, m, 88);

    /* Only from a link-local source; 16 bytes at least; code 0. */
    uint8_t global[16];
    addr(global, "2001:db8::1");
    assert_int_equal(z_nd_ra_parse(m, 88, global, DST(ra_packet), &ra), -EBADMSG);
    assert_int_equal(z_nd_ra_parse(m, 16, SRC(ra_packet), DST(ra_packet), &ra), 16);
    assert_int_equal(z_nd_ra_parse(m, 15, SRC(ra_packet), DST(ra_packet), &ra), -EBADMSG);
    memcpy(buf, m, 88);
    buf[1] = 1;
    assert_int_equal(z_nd_ra_parse(buf, 88, SRC(ra_packet), DST(ra_packet), &ra), -EBADMSG);
}

static void test_nd_redirect(void **state)
{
    (void)state;
    /* Redirect for 2001:db8::99 to the better router fe80::2, with TLLA. */
    uint8_t m[48] = {Z_ICMP6_ND_REDIRECT, 0, 0, 0, 0, 0, 0, 0};
    addr(m + 8, "fe80::2");
    addr(m + 24, "2001:db8::99");
    static const uint8_t tlla[8] = {2, 1, 2, 0, 0, 0, 0, 0x0b};
    memcpy(m + 40, tlla, 8);
    const uint8_t *src = SRC(ra_packet);
    const uint8_t *dst = SRC(ns_packet);
    struct z_nd_redirect r;
    assert_int_equal(z_nd_redirect_parse(m, 48, src, dst, &r), 48);
    assert_memory_equal(r.target, m + 8, 16);
    assert_memory_equal(r.dest, m + 24, 16);
    assert_true(r.opts.has_tlla);
    assert_memory_equal(r.opts.tlla, mac_b, 6);

    uint8_t global[16];
    addr(global, "2001:db8::1");
    assert_int_equal(z_nd_redirect_parse(m, 48, global, dst, &r), -EBADMSG);
    assert_int_equal(z_nd_redirect_parse(m, 39, src, dst, &r), -EBADMSG);
    /* Target global and different from the destination. */
    addr(m + 8, "2001:db8::2");
    assert_int_equal(z_nd_redirect_parse(m, 48, src, dst, &r), -EBADMSG);
    /* ... or equal: the destination is on-link. */
    addr(m + 8, "2001:db8::99");
    assert_int_equal(z_nd_redirect_parse(m, 48, src, dst, &r), 48);
    /* Multicast destination. */
    addr(m + 24, "ff02::99");
    addr(m + 8, "fe80::2");
    assert_int_equal(z_nd_redirect_parse(m, 48, src, dst, &r), -EBADMSG);
}

static void test_nd_opts_edges(void **state)
{
    (void)state;
    struct z_nd_opts o;
    /* An unknown option (type 200, 8 bytes) and a nonce (14) are skipped. */
    static const uint8_t unknown[24] = {200, 1, 1, 2, 3, 4, 5, 6, 14, 1, 9, 9,
                                        9,   9, 9, 9, 1, 1, 2, 0, 0,  0, 0, 0x0a};
    assert_int_equal(z_nd_opts_parse(unknown, 24, &o), 0);
    assert_true(o.has_slla);
    assert_memory_equal(o.slla, mac_a, 6);
    /* Length 0 anywhere makes the message malformed. */
    static const uint8_t zero[16] = {1, 1, 2, 0, 0, 0, 0, 0x0a, 200, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(z_nd_opts_parse(zero, 16, &o), -EBADMSG);
    /* An option running past the message. */
    assert_int_equal(z_nd_opts_parse(unknown, 23, &o), -EBADMSG);
    static const uint8_t over[16] = {1, 3, 2, 0, 0, 0, 0, 0x0a};
    assert_int_equal(z_nd_opts_parse(over, 16, &o), -EBADMSG);
    /* A single trailing byte. */
    assert_int_equal(z_nd_opts_parse(unknown, 17, &o), -EBADMSG);
    /* Nothing at all. */
    assert_int_equal(z_nd_opts_parse(unknown, 0, &o), 0);
    assert_false(o.has_slla);

    /* Known types of the wrong length are ignored: MTU of 16 bytes, a
     * 24-byte prefix, an RDNSS of even length 4. */
    uint8_t bad[16 + 24 + 32];
    memset(bad, 0, sizeof(bad));
    bad[0] = Z_ND_OPT_MTU;
    bad[1] = 2;
    bad[16] = Z_ND_OPT_PREFIX;
    bad[17] = 3;
    bad[40] = Z_ND_OPT_RDNSS;
    bad[41] = 4;
    assert_int_equal(z_nd_opts_parse(bad, sizeof(bad), &o), 0);
    assert_false(o.has_mtu);
    assert_int_equal(o.nprefix, 0);
    assert_int_equal(o.nrdnss, 0);

    /* A longer link-layer address option (16 bytes): the first 6 bytes. */
    static const uint8_t long_lla[16] = {2, 2, 2, 0, 0, 0, 0, 0x0b, 0xee, 0xee};
    assert_int_equal(z_nd_opts_parse(long_lla, 16, &o), 0);
    assert_true(o.has_tlla);
    assert_memory_equal(o.tlla, mac_b, 6);
}

static void test_nd_opts_limits(void **state)
{
    (void)state;
    /* Five prefixes and an RDNSS of four addresses, then a second RDNSS. */
    uint8_t buf[5 * 32 + 8 + 4 * 16 + 24];
    memset(buf, 0, sizeof(buf));
    for (int i = 0; i < 5; i++) {
        uint8_t *p = buf + 32 * i;
        p[0] = Z_ND_OPT_PREFIX;
        p[1] = 4;
        p[2] = 64;
        p[3] = 0xff; /* reserved bits are dropped */
        p[16] = 0x20;
        p[17] = (uint8_t)i;
    }
    uint8_t *r = buf + 5 * 32;
    r[0] = Z_ND_OPT_RDNSS;
    r[1] = 9;
    z_put_be32(r + 4, Z_ND_INFINITE);
    for (int i = 0; i < 4; i++) {
        r[8 + 16 * i] = (uint8_t)(0x30 + i);
    }
    r += 8 + 64;
    r[0] = Z_ND_OPT_RDNSS;
    r[1] = 3;
    z_put_be32(r + 4, 5);
    struct z_nd_opts o;
    assert_int_equal(z_nd_opts_parse(buf, sizeof(buf), &o), 0);
    assert_int_equal(o.nprefix, Z_ND_MAX_PREFIXES);
    assert_int_equal(o.nprefix_lost, 1);
    assert_int_equal(o.prefix[3].prefix[1], 3);
    assert_int_equal(o.prefix[0].flags, Z_ND_PREFIX_ONLINK | Z_ND_PREFIX_AUTO);
    assert_int_equal(o.nrdnss, Z_ND_MAX_RDNSS);
    assert_int_equal(o.rdnss_lifetime, Z_ND_INFINITE);
    assert_int_equal(o.rdnss[2][0], 0x32);

    /* Emit and parse back: the same (what was lost stays lost). */
    uint8_t out[sizeof(buf)];
    int n = z_nd_opts_emit(out, sizeof(out), &o);
    assert_int_equal(n, 4 * 32 + 8 + 3 * 16);
    assert_int_equal(z_nd_opts_emit(out, (size_t)n - 1, &o), -ENOSPC);
    struct z_nd_opts p;
    assert_int_equal(z_nd_opts_parse(out, (size_t)n, &p), 0);
    assert_int_equal(p.nprefix, 4);
    assert_memory_equal(p.prefix, o.prefix, sizeof(o.prefix));
    assert_memory_equal(p.rdnss, o.rdnss, sizeof(o.rdnss));
    assert_int_equal(p.rdnss_lifetime, Z_ND_INFINITE);
}

/* ---- MLD --------------------------------------------------------------------------------- */

static void test_mld_report(void **state)
{
    (void)state;
    struct z_mld2_record rec = {.type = Z_MLD2_CHANGE_TO_EXCLUDE};
    z_ipv6_solicited_node(SRC(mld_report_packet), rec.addr);
    uint8_t buf[48];
    assert_int_equal(
        z_mld2_report_emit(buf, 27, SRC(mld_report_packet), z_ipv6_all_mldv2_routers, &rec, 1),
        -ENOSPC);
    assert_int_equal(
        z_mld2_report_emit(buf, 28, SRC(mld_report_packet), z_ipv6_all_mldv2_routers, &rec, 1), 28);
    assert_memory_equal(buf, mld_report_packet + 48, 28);

    uint8_t bridge[16];
    addr(bridge, "fe80::ff:fe00:c");
    struct z_mld2_record two[2] = {{.type = Z_MLD2_CHANGE_TO_EXCLUDE},
                                   {.type = Z_MLD2_CHANGE_TO_EXCLUDE}};
    z_ipv6_solicited_node(bridge, two[0].addr);
    addr(two[1].addr, "ff02::6a");
    assert_int_equal(z_mld2_report_emit(buf, sizeof(buf), bridge, z_ipv6_all_mldv2_routers, two, 2),
                     48);
    assert_memory_equal(buf, mld_report2_icmp, 48);
    assert_int_equal(
        z_mld2_report_emit(buf, sizeof(buf), bridge, z_ipv6_all_mldv2_routers, two, 70000),
        -EMSGSIZE);
}

static void test_mld_query_captured(void **state)
{
    (void)state;
    const uint8_t *m = mld_query_packet + 48;
    struct z_icmp6_hdr ih;
    assert_int_equal(z_icmp6_parse(m, 28, SRC(mld_query_packet), DST(mld_query_packet), &ih), 8);
    struct z_mld_query q;
    assert_int_equal(z_mld_query_parse(m, 28, SRC(mld_query_packet), DST(mld_query_packet), &q),
                     28);
    assert_int_equal(q.version, 2);
    assert_int_equal(q.max_resp_ms, 10000);
    assert_true(z_ipv6_is_unspecified(q.group));
    assert_false(q.suppress);
    assert_int_equal(q.qrv, 2);
    assert_int_equal(q.qqi_s, 125);
    assert_int_equal(q.nsources, 0);

    uint8_t buf[28];
    assert_int_equal(z_mld_query_emit(buf, 27, SRC(mld_query_packet), DST(mld_query_packet), &q),
                     -ENOSPC);
    assert_int_equal(z_mld_query_emit(buf, 28, SRC(mld_query_packet), DST(mld_query_packet), &q),
                     28);
    assert_memory_equal(buf, m, 28);

    /* Not from a link-local source. */
    uint8_t global[16];
    addr(global, "2001:db8::1");
    assert_int_equal(z_mld_query_parse(m, 28, global, DST(mld_query_packet), &q), -EBADMSG);
}

static void test_mld_query_versions(void **state)
{
    (void)state;
    const uint8_t *src = SRC(mld_query_packet);
    uint8_t m[28 + 2 * 16];
    memset(m, 0, sizeof(m));
    m[0] = Z_ICMP6_MLD_QUERY;
    z_put_be16(m + 4, 1000);
    addr(m + 8, "ff02::1:ff00:b");
    struct z_mld_query q;

    /* 24 bytes: MLDv1, delay in ms as is. */
    assert_int_equal(z_mld_query_parse(m, 24, src, m + 8, &q), 24);
    assert_int_equal(q.version, 1);
    assert_int_equal(q.max_resp_ms, 1000);
    assert_memory_equal(q.group, m + 8, 16);
    /* 25 to 27: neither. */
    for (size_t n = 25; n < 28; n++) {
        assert_int_equal(z_mld_query_parse(m, n, src, m + 8, &q), -EBADMSG);
    }
    assert_int_equal(z_mld_query_parse(m, 23, src, m + 8, &q), -EBADMSG);

    /* v2 with two sources, the exponential codes, S flag. */
    z_put_be16(m + 4, 0x8000 | (1 << 12) | 0x234); /* (0x1234) << 4 */
    m[24] = 0x08 | 7;
    m[25] = 0x80 | (2 << 4) | 3; /* (0x13) << 5 */
    z_put_be16(m + 26, 2);
    assert_int_equal(z_mld_query_parse(m, sizeof(m), src, m + 8, &q), 60);
    assert_int_equal(q.version, 2);
    assert_int_equal(q.max_resp_ms, 0x12340);
    assert_true(q.suppress);
    assert_int_equal(q.qrv, 7);
    assert_int_equal(q.qqi_s, 608);
    assert_int_equal(q.nsources, 2);
    /* Sources beyond the message. */
    struct z_mld_query bad;
    assert_int_equal(z_mld_query_parse(m, sizeof(m) - 1, src, m + 8, &bad), -EBADMSG);
    /* Codes encode back to the same values. */
    uint8_t out[28];
    assert_int_equal(z_mld_query_emit(out, 28, src, z_ipv6_all_nodes, &q), 28);
    assert_int_equal(z_get_be16(out + 4), z_get_be16(m + 4));
    assert_int_equal(out[24], m[24]);
    assert_int_equal(out[25], m[25]);
    /* The top of each exponent's range: 65535 ms is 0x1fff << 3, rounded
     * down to 65528. */
    q.max_resp_ms = 65535;
    q.qqi_s = 255; /* 0x1f << 3, 248 */
    assert_int_equal(z_mld_query_emit(out, 28, src, z_ipv6_all_nodes, &q), 28);
    assert_int_equal(z_get_be16(out + 4), 0x8fff);
    assert_int_equal(out[25], 0x8f);
    assert_int_equal(z_mld_query_parse(out, 28, src, z_ipv6_all_nodes, &q), 28);
    assert_int_equal(q.max_resp_ms, 65528);
    assert_int_equal(q.qqi_s, 248);
    /* Beyond the largest code: saturated. */
    q.max_resp_ms = UINT32_MAX;
    q.qqi_s = UINT32_MAX;
    assert_int_equal(z_mld_query_emit(out, 28, src, z_ipv6_all_nodes, &q), 28);
    assert_int_equal(z_get_be16(out + 4), 0xffff);
    assert_int_equal(out[25], 0xff);
    /* A group that is not multicast. */
    addr(m + 8, "2001:db8::1");
    assert_int_equal(z_mld_query_parse(m, 28, src, z_ipv6_all_nodes, &q), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_classes),
        cmocka_unit_test(test_addr_derived),
        cmocka_unit_test(test_addr_prefix),
        cmocka_unit_test(test_csum_pseudo6),
        cmocka_unit_test(test_ipv6_parse_captured),
        cmocka_unit_test(test_ipv6_parse_rejects),
        cmocka_unit_test(test_ipv6_emit_round_trip),
        cmocka_unit_test(test_walk_chain),
        cmocka_unit_test(test_walk_router_alert),
        cmocka_unit_test(test_walk_unknown_options),
        cmocka_unit_test(test_walk_padding),
        cmocka_unit_test(test_walk_hbh_position),
        cmocka_unit_test(test_walk_routing),
        cmocka_unit_test(test_walk_fragments),
        cmocka_unit_test(test_walk_first_fragment_chain),
        cmocka_unit_test(test_walk_limits),
        cmocka_unit_test(test_frag_emit),
        cmocka_unit_test(test_udp6),
        cmocka_unit_test(test_udp6_zero_checksum_sent_as_ones),
        cmocka_unit_test(test_tcp6),
        cmocka_unit_test(test_icmp6_echo),
        cmocka_unit_test(test_icmp6_error_quotes_in_place),
        cmocka_unit_test(test_nd_ns_captured),
        cmocka_unit_test(test_nd_ns_rules),
        cmocka_unit_test(test_nd_na_captured),
        cmocka_unit_test(test_nd_rs),
        cmocka_unit_test(test_nd_ra_captured),
        cmocka_unit_test(test_nd_redirect),
        cmocka_unit_test(test_nd_opts_edges),
        cmocka_unit_test(test_nd_opts_limits),
        cmocka_unit_test(test_mld_report),
        cmocka_unit_test(test_mld_query_captured),
        cmocka_unit_test(test_mld_query_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
