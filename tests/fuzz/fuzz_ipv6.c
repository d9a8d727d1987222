/* libFuzzer target for src/wire/ipv6.h. The first input byte picks a parser;
 * whatever parses is emitted again and parsed back, and the two must agree.
 * The extension header walk is checked against invariants any verdict must
 * satisfy (pointers inside the packet, the protocol byte where it says). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/ipv6.h"

#include "fuzz_check.h"

enum {
    SEL_IPV6,
    SEL_ICMP6,
    SEL_ND,
    SEL_MLD_QUERY,
    SEL_MLD_REPORT,
    SEL_ADDR,
    SEL_UDP6,
    SEL_TCP6,
    SEL_COUNT
};

static uint8_t out[65536 + 64];

/* Addresses from the first 32 input bytes (the rest is the message). */
struct addrs {
    uint8_t src[16];
    uint8_t dst[16];
};

static bool take_addrs(const uint8_t **p, size_t *n, struct addrs *a)
{
    if (*n < 32) {
        return false;
    }
    memcpy(a->src, *p, 16);
    memcpy(a->dst, *p + 16, 16);
    *p += 32;
    *n -= 32;
    return true;
}

static void check_walk(const uint8_t *p, size_t n, uint8_t first)
{
    struct z_ipv6_walk w;
    int rc = z_ipv6_walk(p, n, first, &w);
    CHECK(w.nhdrs <= Z_IPV6_MAX_EXT);
    switch (w.verdict) {
    case Z_IPV6_PASS:
        CHECK(rc >= Z_IPV6_HLEN && (size_t)rc == w.off && w.off <= n);
        CHECK(w.nh_ptr < w.off);
        CHECK((w.nh_ptr == 6 ? first : p[w.nh_ptr]) == w.proto);
        CHECK(w.proto != Z_IPPROTO_HOPOPTS || w.frag.present);
        break;
    case Z_IPV6_DROP:
        CHECK(rc == -EBADMSG);
        break;
    case Z_IPV6_PARAM_PROB:
        CHECK(rc == -EBADMSG);
        CHECK(w.icmp_code <= Z_ICMP6_PARAM_FIRST_FRAG);
        CHECK(w.pointer < n);
        CHECK(!w.even_multicast || w.icmp_code == Z_ICMP6_PARAM_OPTION);
        if (w.icmp_code == Z_ICMP6_PARAM_OPTION) {
            CHECK(w.pointer >= Z_IPV6_HLEN + 2 && (p[w.pointer] >> 6) >= 2);
        }
        break;
    default:
        CHECK(false);
    }
    if (w.frag.present) {
        const uint8_t *f = p + w.frag.hdr_off;
        CHECK(w.frag.hdr_off + Z_IPV6_FRAG_HLEN <= n);
        CHECK(w.frag.offset % 8 == 0);
        CHECK((w.frag.nh_ptr == 6 ? first : p[w.frag.nh_ptr]) == Z_IPPROTO_FRAGMENT);
        /* Emitted again: the same but for the reserved bits. */
        uint8_t e[Z_IPV6_FRAG_HLEN];
        CHECK(z_ipv6_frag_emit(e, sizeof(e), f[0], w.frag.offset, w.frag.more, w.frag.id) == 8);
        CHECK(e[0] == f[0] && e[1] == 0 && z_get_be16(e + 2) == (z_get_be16(f + 2) & 0xfff9));
        CHECK(memcmp(e + 4, f + 4, 4) == 0);
    }
    if (w.router_alert) {
        /* Emitted alone, it walks back to the same value. */
        static uint8_t pkt[Z_IPV6_HLEN + Z_IPV6_RA_HBH_LEN];
        CHECK(z_ipv6_hbh_router_alert_emit(pkt + Z_IPV6_HLEN, Z_IPV6_RA_HBH_LEN, Z_IPPROTO_NONE,
                                           w.router_alert_value) == 8);
        struct z_ipv6_walk w2;
        CHECK(z_ipv6_walk(pkt, sizeof(pkt), Z_IPPROTO_HOPOPTS, &w2) == 48);
        CHECK(w2.router_alert && w2.router_alert_value == w.router_alert_value);
    }
}

static void fuzz_ipv6(const uint8_t *p, size_t n)
{
    struct z_ipv6_hdr a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    bool ok = n >= 40 && p[0] >> 4 == 6 && ((size_t)p[4] << 8 | p[5]) <= n - 40;
    CHECK((z_ipv6_parse(p, n, &a) == 40) == ok);
    if (!ok) {
        /* The walk takes any buffer. */
        check_walk(p, n, n > 6 ? p[6] : 0);
        return;
    }
    CHECK(z_ipv6_emit(out, 40, &a) == 40);
    CHECK(memcmp(out, p, 40) == 0);
    memcpy(out + 40, p + 40, a.plen);
    CHECK(z_ipv6_parse(out, 40 + (size_t)a.plen, &b) == 40);
    CHECK(memcmp(&a, &b, sizeof(a)) == 0);
    check_walk(p, 40 + (size_t)a.plen, a.next);
}

static void fuzz_icmp6(const uint8_t *p, size_t n)
{
    struct addrs ad;
    if (n < 1 || !take_addrs(&p, &n, &ad)) {
        return;
    }
    bool fix = n > 0 && (p[0] & 1);
    uint8_t *m = out;
    memcpy(m, p, n);
    if (fix && n >= 8) {
        /* Make the checksum right so that the accepting path runs too. */
        z_put_be16(m + 2, 0);
        z_put_be16(m + 2, z_ipv6_upper_csum(ad.src, ad.dst, Z_IPPROTO_ICMPV6, m, n));
    }
    struct z_icmp6_hdr h;
    int rc = z_icmp6_parse(m, n, ad.src, ad.dst, &h);
    CHECK(rc == 8 || rc == -EBADMSG);
    if (fix && n >= 8 && n <= 65535) {
        CHECK(rc == 8);
    }
    if (rc < 0) {
        return;
    }
    static uint8_t again[65536];
    CHECK(z_icmp6_emit(again, n, ad.src, ad.dst, &h, m + 8, n - 8) == (int)n);
    /* The same bytes, but for the checksum's two forms of zero: a sender
     * may write 0xffff where emit computes 0 (RFC 1071 arithmetic). */
    uint16_t c = z_get_be16(m + 2);
    uint16_t d = z_get_be16(again + 2);
    CHECK(c == d || (c == 0xffff && d == 0));
    CHECK(memcmp(again, m, 2) == 0 && memcmp(again + 4, m + 4, n - 4) == 0);
}

/* Parsed options as the emitter can reproduce them. */
static void normalize(struct z_nd_opts *o)
{
    o->has_redirected = false;
    o->nprefix_lost = 0;
}

#define ROUND_TRIP(type, parse, emit, m, n, ad)                                                    \
    do {                                                                                           \
        type x, y;                                                                                 \
        memset(&x, 0, sizeof(x));                                                                  \
        memset(&y, 0, sizeof(y));                                                                  \
        int rc = parse(m, n, ad.src, ad.dst, &x);                                                  \
        CHECK(rc == -EBADMSG || (size_t)rc == n);                                                  \
        if (rc >= 0) {                                                                             \
            normalize(&x.opts);                                                                    \
            int e = emit(out, sizeof(out), ad.src, ad.dst, &x);                                    \
            CHECK(e > 0);                                                                          \
            struct z_icmp6_hdr ih;                                                                 \
            CHECK(z_icmp6_parse(out, (size_t)e, ad.src, ad.dst, &ih) == 8);                        \
            CHECK(parse(out, (size_t)e, ad.src, ad.dst, &y) == e);                                 \
            CHECK(memcmp(&x, &y, sizeof(x)) == 0);                                                 \
            CHECK(emit(out, (size_t)e - 1, ad.src, ad.dst, &x) == -ENOSPC);                        \
        }                                                                                          \
    } while (0)

/* The message parsers check the type byte: a copy of the input (at most
 * 32000 bytes, in the upper half of `out`) whose first byte is `type`. */
static void set_type(uint8_t *m, size_t n, uint8_t type)
{
    if (n > 0) {
        m[0] = type;
    }
}

static uint8_t *typed_copy(const uint8_t *p, size_t *n, uint8_t type)
{
    uint8_t *m = out + 32768;
    if (*n > 32000) {
        *n = 32000;
    }
    memcpy(m, p, *n);
    set_type(m, *n, type);
    return m;
}

static void fuzz_nd(const uint8_t *p, size_t n)
{
    struct addrs ad;
    if (!take_addrs(&p, &n, &ad)) {
        return;
    }
    /* The parsers check the type byte: give each its own. */
    uint8_t *m = typed_copy(p, &n, Z_ICMP6_ND_RS);
    ROUND_TRIP(struct z_nd_rs, z_nd_rs_parse, z_nd_rs_emit, m, n, ad);
    set_type(m, n, Z_ICMP6_ND_RA);
    ROUND_TRIP(struct z_nd_ra, z_nd_ra_parse, z_nd_ra_emit, m, n, ad);
    set_type(m, n, Z_ICMP6_ND_NS);
    ROUND_TRIP(struct z_nd_ns, z_nd_ns_parse, z_nd_ns_emit, m, n, ad);
    set_type(m, n, Z_ICMP6_ND_NA);
    ROUND_TRIP(struct z_nd_na, z_nd_na_parse, z_nd_na_emit, m, n, ad);
    set_type(m, n, Z_ICMP6_ND_REDIRECT);
    struct z_nd_redirect r;
    int rc = z_nd_redirect_parse(m, n, ad.src, ad.dst, &r);
    CHECK(rc == -EBADMSG || (size_t)rc == n);
    if (rc >= 0) {
        CHECK(!z_ipv6_is_multicast(r.dest) && z_ipv6_is_link_local(ad.src));
    }
    /* The options alone, with a real type byte left in place. */
    struct z_nd_opts o, q;
    if (z_nd_opts_parse(p, n, &o) == 0) {
        normalize(&o);
        int e = z_nd_opts_emit(out, 32768, &o);
        CHECK(e >= 0 && e % 8 == 0);
        CHECK(z_nd_opts_parse(out, (size_t)e, &q) == 0);
        CHECK(memcmp(&o, &q, sizeof(o)) == 0);
    }
}

static void fuzz_mld_query(const uint8_t *p, size_t n)
{
    struct addrs ad;
    if (!take_addrs(&p, &n, &ad)) {
        return;
    }
    uint8_t *m = typed_copy(p, &n, Z_ICMP6_MLD_QUERY);
    struct z_mld_query q, r;
    int rc = z_mld_query_parse(m, n, ad.src, ad.dst, &q);
    if (rc < 0) {
        CHECK(rc == -EBADMSG);
        return;
    }
    CHECK((size_t)rc <= n && (q.version == 1 || q.version == 2));
    CHECK((size_t)rc == (q.version == 1 ? 24u : 28u + 16u * q.nsources));
    CHECK(z_mld_query_emit(out, 28, ad.src, ad.dst, &q) == 28);
    struct z_icmp6_hdr ih;
    CHECK(z_icmp6_parse(out, 28, ad.src, ad.dst, &ih) == 8);
    CHECK(z_mld_query_parse(out, 28, ad.src, ad.dst, &r) == 28);
    CHECK(r.version == 2 && r.nsources == 0);
    CHECK(memcmp(r.group, q.group, 16) == 0);
    if (q.version == 2) {
        /* Decoded values are exactly representable: codes come back. */
        CHECK(r.max_resp_ms == q.max_resp_ms && r.qqi_s == q.qqi_s);
        CHECK(r.suppress == q.suppress && r.qrv == q.qrv);
        CHECK(memcmp(out + 4, m + 4, 2) == 0 && out[25] == m[25]);
    } else {
        CHECK(r.max_resp_ms <= q.max_resp_ms && r.max_resp_ms + 8 > q.max_resp_ms);
    }
}

static void fuzz_mld_report(const uint8_t *p, size_t n)
{
    struct addrs ad;
    if (!take_addrs(&p, &n, &ad)) {
        return;
    }
    static struct z_mld2_record recs[64];
    size_t nrec = n / 17 > 64 ? 64 : n / 17;
    for (size_t i = 0; i < nrec; i++) {
        recs[i].type = p[17 * i];
        memcpy(recs[i].addr, p + 17 * i + 1, 16);
    }
    int e = z_mld2_report_emit(out, sizeof(out), ad.src, ad.dst, recs, nrec);
    CHECK(e == (int)(8 + 20 * nrec));
    struct z_icmp6_hdr ih;
    CHECK(z_icmp6_parse(out, (size_t)e, ad.src, ad.dst, &ih) == 8);
    CHECK(ih.type == Z_ICMP6_MLD2_REPORT && (ih.rest & 0xffff) == nrec);
    for (size_t i = 0; i < nrec; i++) {
        const uint8_t *r = out + 8 + 20 * i;
        CHECK(r[0] == recs[i].type && r[1] == 0 && r[2] == 0 && r[3] == 0);
        CHECK(memcmp(r + 4, recs[i].addr, 16) == 0);
    }
    if (e > 0) {
        CHECK(z_mld2_report_emit(out, (size_t)e - 1, ad.src, ad.dst, recs, nrec) == -ENOSPC);
    }
}

static void fuzz_addr(const uint8_t *p, size_t n)
{
    struct addrs ad;
    if (!take_addrs(&p, &n, &ad)) {
        return;
    }
    const uint8_t *a = ad.src;
    const uint8_t *b = ad.dst;
    uint8_t s[16];
    z_ipv6_solicited_node(a, s);
    CHECK(z_ipv6_is_solicited_node(s) && z_ipv6_is_multicast(s));
    CHECK(z_ipv6_scope(s) == Z_IPV6_SCOPE_LINK);
    CHECK(memcmp(s + 13, a + 13, 3) == 0);
    uint8_t mac[6];
    z_ipv6_mcast_mac(s, mac);
    CHECK(z_eth_is_multicast(mac) && mac[2] == 0xff);
    uint8_t iid[8];
    z_ipv6_eui64(a, iid);
    CHECK((iid[0] ^ 2) == a[0] && iid[3] == 0xff && iid[4] == 0xfe && iid[7] == a[5]);

    uint8_t scope = a[0] == 0xff ? (a[1] & 0x0f)
                    : ((a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || z_ipv6_is_loopback(a))
                        ? Z_IPV6_SCOPE_LINK
                        : Z_IPV6_SCOPE_GLOBAL;
    CHECK(z_ipv6_scope(a) == scope);

    unsigned m = z_ipv6_prefix_match(a, b);
    CHECK(m <= 128 && m == z_ipv6_prefix_match(b, a));
    CHECK(z_ipv6_prefix_match(a, a) == 128);
    /* Bit by bit: the first m bits agree and bit m (if any) differs. */
    for (unsigned i = 0; i < m; i++) {
        CHECK(((a[i / 8] ^ b[i / 8]) & (0x80 >> (i % 8))) == 0);
    }
    if (m < 128) {
        CHECK(((a[m / 8] ^ b[m / 8]) & (0x80 >> (m % 8))) != 0);
    }
    unsigned plen = n > 0 ? p[0] : 0;
    CHECK(z_ipv6_prefix_eq(a, b, plen) == (m >= (plen > 128 ? 128 : plen)));

    /* Classes: at most one of these holds. */
    int classes = z_ipv6_is_unspecified(a) + z_ipv6_is_loopback(a) + z_ipv6_is_link_local(a) +
                  z_ipv6_is_multicast(a) + z_ipv6_is_v4mapped(a) + z_ipv6_is_unique_local(a) +
                  z_ipv6_is_global(a);
    CHECK(classes <= 1);
    if (z_ipv6_is_v4mapped(a)) {
        uint8_t back[16];
        z_ipv6_make_v4mapped(z_ipv6_get_v4mapped(a), back);
        CHECK(memcmp(back, a, 16) == 0);
    }
}

static void fuzz_udp6(const uint8_t *p, size_t n)
{
    struct addrs ad;
    if (!take_addrs(&p, &n, &ad)) {
        return;
    }
    struct z_udp_hdr h;
    if (z_udp6_parse(p, n, ad.src, ad.dst, &h) < 0) {
        return;
    }
    CHECK(h.checksum != 0 && h.len >= 8 && h.len <= n);
    memcpy(out, p, h.len);
    CHECK(z_udp6_emit(out, h.len, ad.src, ad.dst, h.sport, h.dport, h.len - 8u) == h.len);
    /* The same bytes: only a computed 0 has two forms (0 and 0xffff), and
     * 0 is refused over IPv6, so the sender's checksum is the one emit
     * computes. */
    CHECK(memcmp(out, p, h.len) == 0);
}

static void fuzz_tcp6(const uint8_t *p, size_t n)
{
    struct addrs ad;
    if (!take_addrs(&p, &n, &ad)) {
        return;
    }
    struct z_tcp_hdr h, g;
    memset(&h, 0, sizeof(h));
    memset(&g, 0, sizeof(g));
    int hl = z_tcp6_parse(p, n, ad.src, ad.dst, &h);
    if (hl < 0) {
        return;
    }
    size_t plen = n - (size_t)hl;
    size_t nhl = z_tcp_hdr_len(&h.opts);
    if (nhl + plen > 65535) {
        return;
    }
    memcpy(out + nhl, p + hl, plen);
    CHECK(z_tcp6_emit(out, nhl + plen, ad.src, ad.dst, &h, plen) == (int)nhl);
    CHECK(z_tcp6_parse(out, nhl + plen, ad.src, ad.dst, &g) == (int)nhl);
    CHECK(g.seq == h.seq && g.ack == h.ack && g.flags == h.flags && g.window == h.window);
    CHECK(memcmp(out + nhl, p + hl, plen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) {
        return 0;
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % SEL_COUNT) {
    case SEL_IPV6:
        fuzz_ipv6(p, n);
        break;
    case SEL_ICMP6:
        fuzz_icmp6(p, n);
        break;
    case SEL_ND:
        fuzz_nd(p, n);
        break;
    case SEL_MLD_QUERY:
        fuzz_mld_query(p, n);
        break;
    case SEL_MLD_REPORT:
        fuzz_mld_report(p, n);
        break;
    case SEL_ADDR:
        fuzz_addr(p, n);
        break;
    case SEL_UDP6:
        fuzz_udp6(p, n);
        break;
    default:
        fuzz_tcp6(p, n);
        break;
    }
    return 0;
}
