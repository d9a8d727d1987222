/* IPv6 packet formats: the IPv6 header and its extension headers (RFC 8200),
 * ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861, RDNSS from RFC 8106),
 * MLDv2 (RFC 3810), and the address arithmetic the stack needs (RFC 4291).
 *
 * Same conventions as wire.h: pure functions on byte buffers with explicit
 * lengths, no state, no allocation, all safe to call from any thread.
 * Structures hold host byte order values; IPv6 addresses are uint8_t[16] in
 * network order (the bytes as on the wire). Parsers return the header length
 * (>= 0) or -EBADMSG; emitters return the bytes written or -ENOSPC when `cap`
 * is too small (nothing is written then), -EMSGSIZE when the result could
 * not be carried by an IPv6 packet. Every parser is fuzzed. */
#ifndef ZSOCK_WIRE_IPV6_H_
#define ZSOCK_WIRE_IPV6_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/wire.h"

#define Z_IPV6_ALEN    16
#define Z_IPV6_HLEN    40
#define Z_IPV6_MIN_MTU 1280 /* every link carries this much (RFC 8200 5) */

/* Next header values (IANA "Assigned Internet Protocol Numbers"). */
#define Z_IPPROTO_HOPOPTS  0
#define Z_IPPROTO_ROUTING  43
#define Z_IPPROTO_FRAGMENT 44
#define Z_IPPROTO_ICMPV6   58
#define Z_IPPROTO_NONE     59 /* nothing follows */
#define Z_IPPROTO_DSTOPTS  60

/* ---- addresses (RFC 4291) --------------------------------------------------------- */

/* Multicast scopes (RFC 4291 2.7, RFC 7346): the low nibble of byte 1. */
#define Z_IPV6_SCOPE_IFACE  0x1
#define Z_IPV6_SCOPE_LINK   0x2
#define Z_IPV6_SCOPE_REALM  0x3
#define Z_IPV6_SCOPE_ADMIN  0x4
#define Z_IPV6_SCOPE_SITE   0x5
#define Z_IPV6_SCOPE_ORG    0x8
#define Z_IPV6_SCOPE_GLOBAL 0xe

/* Well-known addresses: ::, ::1, ff02::1 (all nodes), ff02::2 (all
 * routers), ff02::16 (all MLDv2-capable routers). Read-only. */
extern const uint8_t z_ipv6_any[Z_IPV6_ALEN];
extern const uint8_t z_ipv6_loopback[Z_IPV6_ALEN];
extern const uint8_t z_ipv6_all_nodes[Z_IPV6_ALEN];
extern const uint8_t z_ipv6_all_routers[Z_IPV6_ALEN];
extern const uint8_t z_ipv6_all_mldv2_routers[Z_IPV6_ALEN];

/* Classification. Each looks at the 16 bytes only; none fails. */
bool z_ipv6_is_unspecified(const uint8_t a[Z_IPV6_ALEN]);  /* :: */
bool z_ipv6_is_loopback(const uint8_t a[Z_IPV6_ALEN]);     /* ::1 */
bool z_ipv6_is_link_local(const uint8_t a[Z_IPV6_ALEN]);   /* fe80::/10 (unicast) */
bool z_ipv6_is_multicast(const uint8_t a[Z_IPV6_ALEN]);    /* ff00::/8 */
bool z_ipv6_is_v4mapped(const uint8_t a[Z_IPV6_ALEN]);     /* ::ffff:0:0/96 */
bool z_ipv6_is_unique_local(const uint8_t a[Z_IPV6_ALEN]); /* fc00::/7 (RFC 4193) */
/* ff02::1:ff00:0/104 (RFC 4291 2.7.1). */
bool z_ipv6_is_solicited_node(const uint8_t a[Z_IPV6_ALEN]);
/* A global unicast address: none of the above, not the IPv4-compatible or
 * documentation-free special cases either; concretely 2000::/3, the only
 * range IANA allocates global unicast from (RFC 4291 2.4). */
bool z_ipv6_is_global(const uint8_t a[Z_IPV6_ALEN]);

/* Scope of a multicast address (Z_IPV6_SCOPE_*), or of a unicast one as RFC
 * 6724 3.1 maps it: loopback and link-local are link scope (2), everything
 * else global (0xe). */
uint8_t z_ipv6_scope(const uint8_t a[Z_IPV6_ALEN]);

/* ::ffff:a.b.c.d for an IPv4 address in host order, and back (the back
 * direction reads bytes 12..15 without checking the prefix). */
void z_ipv6_make_v4mapped(uint32_t v4, uint8_t out[Z_IPV6_ALEN]);
uint32_t z_ipv6_get_v4mapped(const uint8_t a[Z_IPV6_ALEN]);

/* The solicited-node multicast address of `a`: ff02::1:ff + its low 24 bits.
 * out may alias a. */
void z_ipv6_solicited_node(const uint8_t a[Z_IPV6_ALEN], uint8_t out[Z_IPV6_ALEN]);

/* The Ethernet destination of an IPv6 multicast address: 33:33 + its low 32
 * bits (RFC 2464 7). */
void z_ipv6_mcast_mac(const uint8_t a[Z_IPV6_ALEN], uint8_t mac[Z_ETH_ALEN]);

/* Modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A): the
 * MAC split by ff:fe with the universal/local bit inverted. */
void z_ipv6_eui64(const uint8_t mac[Z_ETH_ALEN], uint8_t iid[8]);

/* Number of leading bits a and b share (0..128). */
unsigned z_ipv6_prefix_match(const uint8_t a[Z_IPV6_ALEN], const uint8_t b[Z_IPV6_ALEN]);

/* Whether the first `plen` bits (0..128; more counts as 128) are equal. */
bool z_ipv6_prefix_eq(const uint8_t a[Z_IPV6_ALEN], const uint8_t b[Z_IPV6_ALEN], unsigned plen);

/* ---- IPv6 header (RFC 8200) ------------------------------------------------------------- */

struct z_ipv6_hdr {
    uint8_t tclass; /* traffic class (DSCP << 2 | ECN) */
    uint32_t flow;  /* flow label, 20 bits */
    uint16_t plen;  /* payload length: everything after the 40 bytes */
    uint8_t next;   /* next header */
    uint8_t hop_limit;
    uint8_t src[Z_IPV6_ALEN];
    uint8_t dst[Z_IPV6_ALEN];
};

/* Validates len >= 40, version 6 and 40 + payload length <= len. Returns 40.
 * Bytes past 40 + plen (link padding) are not part of the packet. A payload
 * length of 0 is accepted: either nothing follows, or a jumbogram (RFC 2675),
 * whose Jumbo Payload option the extension header walk then rejects. */
int z_ipv6_parse(const uint8_t *buf, size_t len, struct z_ipv6_hdr *h);

/* Emit the 40-byte header (flow is masked to 20 bits). Returns 40. */
int z_ipv6_emit(uint8_t *buf, size_t cap, const struct z_ipv6_hdr *h);

/* ---- extension headers (RFC 8200 4) ------------------------------------------------------- */

/* At most this many extension headers are walked; more make the packet
 * dropped (a bound on work per packet, RFC 8504 5.3 allows it). */
#define Z_IPV6_MAX_EXT 8

/* ICMPv6 Parameter Problem codes (RFC 4443 3.4, RFC 7112). */
#define Z_ICMP6_PARAM_HEADER     0 /* erroneous header field */
#define Z_ICMP6_PARAM_NEXTHDR    1 /* unrecognized next header */
#define Z_ICMP6_PARAM_OPTION     2 /* unrecognized IPv6 option */
#define Z_ICMP6_PARAM_FIRST_FRAG 3 /* first fragment lacks the header chain */

/* What the caller does with the packet (z_ipv6_walk.verdict). */
enum z_ipv6_verdict {
    Z_IPV6_PASS = 0,  /* deliver to w.proto at w.off (or reassemble first) */
    Z_IPV6_DROP,      /* discard silently: malformed, or option action 01 */
    Z_IPV6_PARAM_PROB /* discard and answer with Parameter Problem
                       * (w.icmp_code, w.pointer), see w.even_multicast */
};

struct z_ipv6_frag_info {
    bool present;     /* a fragment header was met (the walk stops there
                       * unless it is an atomic fragment, RFC 6946) */
    bool more;        /* M flag */
    uint16_t offset;  /* fragment offset in bytes (a multiple of 8) */
    uint32_t id;      /* identification */
    uint32_t hdr_off; /* where the fragment header starts, from the start
                       * of the IPv6 header: the unfragmentable part is
                       * [0, hdr_off), the fragment data [hdr_off + 8, end) */
    uint32_t nh_ptr;  /* offset of the next-header byte naming the fragment
                       * header (6 if it follows the IPv6 header) */
};

struct z_ipv6_walk {
    enum z_ipv6_verdict verdict;
    /* Z_IPV6_PASS: */
    uint8_t proto;               /* upper-layer protocol, or what follows the fragment
                                  * header of a non-atomic fragment; Z_IPPROTO_NONE
                                  * when nothing follows */
    uint32_t off;                /* its offset from the start of the IPv6 header */
    uint32_t nh_ptr;             /* offset of the byte holding proto: the pointer of a
                                  * Parameter Problem "unrecognized next header" the
                                  * caller sends for a protocol it does not handle */
    uint8_t nhdrs;               /* extension headers walked */
    bool router_alert;           /* a Router Alert hop-by-hop option (RFC 2711) */
    uint16_t router_alert_value; /* 0 = MLD */
    bool rh0;                    /* a type 0 routing header with segments left 0 was
                                  * ignored, as RFC 5095 3 says (with segments left > 0
                                  * the verdict is Z_IPV6_PARAM_PROB) */
    struct z_ipv6_frag_info frag;
    /* Z_IPV6_PARAM_PROB: */
    uint8_t icmp_code;   /* Z_ICMP6_PARAM_* */
    uint32_t pointer;    /* offset of the offending byte from the start of the
                          * IPv6 header */
    bool even_multicast; /* an unknown option with action 10: the error is
                          * sent even to a multicast destination (RFC 4443
                          * 2.4 e.3); otherwise no error for multicast */
};

/* Walk the extension headers of the packet `pkt` of `len` bytes (the IPv6
 * header included, link padding not: len = 40 + payload length), starting
 * from the header's next header `first`. Handles:
 * - hop-by-hop options, only directly after the IPv6 header (elsewhere:
 *   Parameter Problem code 1 pointing at the next-header byte naming it);
 * - destination options, any number of times;
 * - options inside both: Pad1, PadN (contents not checked), Router Alert;
 *   an unknown option by its two high bits (RFC 8200 4.2): 00 skipped, 01
 *   drop, 10 Parameter Problem code 2 even to multicast, 11 code 2 unless
 *   to multicast; the pointer is the option type byte. An option running
 *   past its header is dropped;
 * - routing headers: any type (type 0 included, RFC 5095) with segments
 *   left 0 is skipped; segments left > 0 gives Parameter Problem code 0
 *   pointing at the routing type byte (this host routes no type);
 * - fragment header: info into w->frag. A non-atomic fragment stops the
 *   walk (proto/off name what follows the fragment header, for after
 *   reassembly); a fragment with M set whose data length is not a multiple
 *   of 8 gives Parameter Problem code 0 pointing at the payload length
 *   (offset 4); a fragment offset + data beyond 65535 gives code 0
 *   pointing at the fragment offset field. An atomic fragment (offset 0,
 *   M 0) is walked through;
 * - anything else (upper layers, ESP, AH, No Next Header) ends the walk.
 * A header running past `len`, or more than Z_IPV6_MAX_EXT headers, is a
 * drop, except in a first fragment (offset 0, M set), where a chain running
 * past the fragment gives Parameter Problem code 3 (RFC 7112); the pointer
 * is 0 then.
 * Returns w->off (>= 40) with verdict Z_IPV6_PASS, or -EBADMSG with verdict
 * DROP or PARAM_PROB; DROP too if len < 40 or len > 40 + 65535. */
int z_ipv6_walk(const uint8_t *pkt, size_t len, uint8_t first, struct z_ipv6_walk *w);

/* Emit an 8-byte fragment header (RFC 8200 4.5): `next` is the protocol of
 * the fragmentable part, `offset` its offset in bytes (a multiple of 8, low
 * bits ignored). Returns 8. */
#define Z_IPV6_FRAG_HLEN 8
int z_ipv6_frag_emit(uint8_t *buf, size_t cap, uint8_t next, uint16_t offset, bool more,
                     uint32_t id);

/* Emit the 8-byte hop-by-hop header carrying a Router Alert option with
 * `value` (0: MLD, RFC 2711) and padding, as MLD messages need. Returns 8. */
#define Z_IPV6_RA_HBH_LEN 8
int z_ipv6_hbh_router_alert_emit(uint8_t *buf, size_t cap, uint8_t next, uint16_t value);

/* ---- upper-layer checksums over IPv6 (RFC 8200 8.1) ------------------------------------- */

/* The running sum of the IPv6 pseudo-header (z_csum_pseudo6() in wire.h)
 * plus the `len` bytes of the upper-layer message at buf, finished: 0 for
 * a message whose checksum field verifies, the value to store when the
 * field held 0. */
uint16_t z_ipv6_upper_csum(const uint8_t src[Z_IPV6_ALEN], const uint8_t dst[Z_IPV6_ALEN],
                           uint8_t proto, const uint8_t *buf, size_t len);

/* UDP over IPv6: as z_udp_parse() but the checksum is mandatory (a zero
 * field is -EBADMSG, RFC 8200 8.1) and uses the IPv6 pseudo-header. */
int z_udp6_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], struct z_udp_hdr *h);

/* As z_udp_emit() with the IPv6 pseudo-header. */
int z_udp6_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                const uint8_t dst[Z_IPV6_ALEN], uint16_t sport, uint16_t dport, size_t plen);

/* As z_tcp_parse() / z_tcp_emit() with the IPv6 pseudo-header. */
int z_tcp6_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], struct z_tcp_hdr *h);
int z_tcp6_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                const uint8_t dst[Z_IPV6_ALEN], const struct z_tcp_hdr *h, size_t plen);

/* ---- ICMPv6 (RFC 4443) ---------------------------------------------------------------------- */

#define Z_ICMP6_HLEN 8

#define Z_ICMP6_DEST_UNREACH   1
#define Z_ICMP6_PACKET_TOO_BIG 2
#define Z_ICMP6_TIME_EXCEEDED  3
#define Z_ICMP6_PARAM_PROBLEM  4
#define Z_ICMP6_ECHO_REQUEST   128
#define Z_ICMP6_ECHO_REPLY     129
#define Z_ICMP6_MLD_QUERY      130
#define Z_ICMP6_MLD1_REPORT    131
#define Z_ICMP6_MLD1_DONE      132
#define Z_ICMP6_ND_RS          133
#define Z_ICMP6_ND_RA          134
#define Z_ICMP6_ND_NS          135
#define Z_ICMP6_ND_NA          136
#define Z_ICMP6_ND_REDIRECT    137
#define Z_ICMP6_MLD2_REPORT    143

/* Destination unreachable codes. */
#define Z_ICMP6_UNREACH_NOROUTE 0
#define Z_ICMP6_UNREACH_ADMIN   1
#define Z_ICMP6_UNREACH_BEYOND  2 /* beyond scope of source address */
#define Z_ICMP6_UNREACH_ADDR    3
#define Z_ICMP6_UNREACH_PORT    4
/* Time exceeded codes. */
#define Z_ICMP6_TIMEX_HOPS       0
#define Z_ICMP6_TIMEX_REASSEMBLY 1

/* An error message quotes as much of the offending packet as fits in the
 * minimum MTU with its own IPv6 and ICMPv6 headers (RFC 4443 2.4 c). */
#define Z_ICMP6_ERR_MAX_QUOTE (Z_IPV6_MIN_MTU - Z_IPV6_HLEN - Z_ICMP6_HLEN)

/* Whether the type is an error message (types 0..127). */
static inline bool z_icmp6_is_error(uint8_t type)
{
    return type < 128;
}

struct z_icmp6_hdr {
    uint8_t type;
    uint8_t code;
    uint16_t checksum; /* as received */
    uint32_t rest;     /* echo: id << 16 | seq; packet too big: MTU;
                        * parameter problem: pointer; others: unused */
};

/* Validates 8 <= len <= 65535 and the checksum over the IPv6 pseudo-header
 * of (src, dst) and all `len` bytes (the whole ICMPv6 message). Returns 8.
 * The message bodies are parsed by the functions below. */
int z_icmp6_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_icmp6_hdr *h);

/* Emit the 8-byte header followed by `payload` (may alias buf + 8 or
 * overlap it: it is moved first), with the checksum over the pseudo-header,
 * header and payload. Returns 8 + plen; -EMSGSIZE beyond 65535 bytes. */
int z_icmp6_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_icmp6_hdr *h,
                 const uint8_t *payload, size_t plen);

/* ---- Neighbor Discovery (RFC 4861) -------------------------------------------------------- */

/* Option types. */
#define Z_ND_OPT_SLLA       1
#define Z_ND_OPT_TLLA       2
#define Z_ND_OPT_PREFIX     3
#define Z_ND_OPT_REDIRECTED 4
#define Z_ND_OPT_MTU        5
#define Z_ND_OPT_RDNSS      25 /* RFC 8106 */

#define Z_ND_MAX_PREFIXES 4           /* prefix options kept per message */
#define Z_ND_MAX_RDNSS    3           /* RDNSS addresses kept per message */
#define Z_ND_INFINITE     0xffffffffu /* a lifetime that never ends */

#define Z_ND_PREFIX_ONLINK 0x80 /* L flag */
#define Z_ND_PREFIX_AUTO   0x40 /* A flag */

struct z_nd_prefix {
    uint8_t len;        /* prefix length in bits; may exceed 128 on the
                         * wire (the caller ignores such a prefix) */
    uint8_t flags;      /* Z_ND_PREFIX_ONLINK | Z_ND_PREFIX_AUTO */
    uint32_t valid;     /* valid lifetime, seconds */
    uint32_t preferred; /* preferred lifetime, seconds */
    uint8_t prefix[Z_IPV6_ALEN];
};

/* The options of one ND message. Options the message type does not use
 * are parsed all the same (a receiver ignores them, RFC 4861 4.x). */
struct z_nd_opts {
    bool has_slla;
    bool has_tlla;
    bool has_mtu;
    bool has_redirected;      /* a Redirected Header option */
    uint8_t slla[Z_ETH_ALEN]; /* first 6 bytes of the option's address */
    uint8_t tlla[Z_ETH_ALEN];
    uint32_t mtu;
    uint8_t nprefix;      /* prefixes kept (<= Z_ND_MAX_PREFIXES) */
    uint8_t nprefix_lost; /* well-formed prefix options beyond those */
    struct z_nd_prefix prefix[Z_ND_MAX_PREFIXES];
    uint8_t nrdnss;          /* RDNSS addresses kept (<= Z_ND_MAX_RDNSS) */
    uint32_t rdnss_lifetime; /* of the first RDNSS option (all kept share
                              * it when there are several options) */
    uint8_t rdnss[Z_ND_MAX_RDNSS][Z_IPV6_ALEN];
};

/* Parse the ND options in `buf` (the bytes after a message's fixed part).
 * -EBADMSG if an option has length 0 or runs past `len` (RFC 4861 says the
 * whole message is then dropped). Options with a known type and a wrong
 * length (prefix != 4, MTU != 1, RDNSS < 3 or even, link-layer address
 * shorter than 6 bytes) are ignored, as are unknown types. Returns 0. */
int z_nd_opts_parse(const uint8_t *buf, size_t len, struct z_nd_opts *o);

/* Emit the options `o` asks for, in the order SLLA, TLLA, MTU, prefixes,
 * RDNSS (has_redirected is not emitted). Returns the bytes written. */
int z_nd_opts_emit(uint8_t *buf, size_t cap, const struct z_nd_opts *o);

/* The message parsers below take the whole ICMPv6 message (already checked
 * by z_icmp6_parse()) and the IPv6 source and destination, and apply the
 * RFC 4861 validity checks that need nothing else (section 6.1, 7.1, 8.1):
 * the type, code 0, the minimum length, the options. The caller checks the
 * hop limit is 255 (and that no fragment header was involved, for SEND
 * compatibility it may ignore). Each returns the message length or
 * -EBADMSG. */

struct z_nd_rs {
    struct z_nd_opts opts;
};

struct z_nd_ra {
    uint8_t cur_hop_limit;    /* 0: unspecified */
    bool managed;             /* M flag */
    bool other;               /* O flag */
    uint16_t router_lifetime; /* seconds; 0: not a default router */
    uint32_t reachable_time;  /* milliseconds; 0: unspecified */
    uint32_t retrans_timer;   /* milliseconds; 0: unspecified */
    struct z_nd_opts opts;
};

struct z_nd_ns {
    uint8_t target[Z_IPV6_ALEN];
    struct z_nd_opts opts;
};

struct z_nd_na {
    bool router;    /* R flag */
    bool solicited; /* S flag */
    bool override;  /* O flag */
    uint8_t target[Z_IPV6_ALEN];
    struct z_nd_opts opts;
};

struct z_nd_redirect {
    uint8_t target[Z_IPV6_ALEN]; /* the better first hop */
    uint8_t dest[Z_IPV6_ALEN];   /* the destination redirected */
    struct z_nd_opts opts;
};

/* Router Solicitation: length >= 8; with an unspecified source, no SLLA
 * option (RFC 4861 6.1.1). */
int z_nd_rs_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_nd_rs *m);

/* Router Advertisement: length >= 16, a link-local source (RFC 4861 6.1.2). */
int z_nd_ra_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_nd_ra *m);

/* Neighbor Solicitation: length >= 24, target not multicast; with an
 * unspecified source (duplicate address detection), a solicited-node
 * multicast destination and no SLLA option (RFC 4861 7.1.1). */
int z_nd_ns_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_nd_ns *m);

/* Neighbor Advertisement: length >= 24, target not multicast, S flag clear
 * when the destination is multicast (RFC 4861 7.1.2). */
int z_nd_na_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_nd_na *m);

/* Redirect: length >= 40, a link-local source, destination not multicast,
 * target link-local or equal to the destination (RFC 4861 8.1). The caller
 * still checks the source is its current first hop for the destination. */
int z_nd_redirect_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                        const uint8_t dst[Z_IPV6_ALEN], struct z_nd_redirect *m);

/* Emitters: the whole ICMPv6 message (header, fixed part, the options the
 * struct's opts asks for) with its checksum for src -> dst. The caller puts
 * it in an IPv6 packet with hop limit 255. Each returns the message length
 * or -ENOSPC. RA is meant for tests (zsock is no router). */
int z_nd_rs_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_nd_rs *m);
int z_nd_ra_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_nd_ra *m);
int z_nd_ns_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_nd_ns *m);
int z_nd_na_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_nd_na *m);

/* ---- MLD (RFC 2710 v1, RFC 3810 v2) ------------------------------------------------------- */

/* MLDv2 multicast address record types (RFC 3810 5.2.12). */
#define Z_MLD2_MODE_IS_INCLUDE   1
#define Z_MLD2_MODE_IS_EXCLUDE   2
#define Z_MLD2_CHANGE_TO_INCLUDE 3 /* leave (with no sources) */
#define Z_MLD2_CHANGE_TO_EXCLUDE 4 /* join (with no sources) */
#define Z_MLD2_ALLOW_NEW_SOURCES 5
#define Z_MLD2_BLOCK_OLD_SOURCES 6

#define Z_MLD2_REC_LEN 20 /* a record without sources */

struct z_mld2_record {
    uint8_t type; /* Z_MLD2_* */
    uint8_t addr[Z_IPV6_ALEN];
};

/* Emit an MLDv2 Report (type 143) of `n` records without sources, checksum
 * for src -> dst (dst is normally ff02::16; the IPv6 packet needs hop limit
 * 1 and z_ipv6_hbh_router_alert_emit()). Returns 8 + 20 * n; -EMSGSIZE if
 * that exceeds 65535 bytes. */
int z_mld2_report_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                       const uint8_t dst[Z_IPV6_ALEN], const struct z_mld2_record *recs, size_t n);

struct z_mld_query {
    uint8_t version;            /* 1: 24-byte MLDv1 query; 2: MLDv2 (>= 28) */
    uint32_t max_resp_ms;       /* maximum response delay, decoded (v2's
                                 * exponential form, RFC 3810 5.1.3) */
    uint8_t group[Z_IPV6_ALEN]; /* :: for a general query */
    bool suppress;              /* v2 S flag */
    uint8_t qrv;                /* v2 robustness variable, 0: unspecified */
    uint32_t qqi_s;             /* v2 query interval in seconds, decoded */
    uint16_t nsources;          /* v2 source addresses, at byte 28 */
};

/* Parse a Multicast Listener Query (type 130, code ignored as RFC 3810
 * 5.1 says): length 24 is MLDv1, >= 28 with room for its sources MLDv2,
 * anything else -EBADMSG; so is a source that is not link-local (RFC 3810
 * 5.1.14) or a group that is neither :: nor multicast. The caller checks
 * hop limit 1 and the Router Alert option. Returns the length used. */
int z_mld_query_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                      const uint8_t dst[Z_IPV6_ALEN], struct z_mld_query *q);

/* Emit an MLDv2 query without sources (for tests): max_resp_ms and qqi_s
 * are encoded (rounded down to what the format holds), q->version and
 * q->nsources ignored. Returns 28. */
int z_mld_query_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                     const uint8_t dst[Z_IPV6_ALEN], const struct z_mld_query *q);

#endif /* ZSOCK_WIRE_IPV6_H_ */
