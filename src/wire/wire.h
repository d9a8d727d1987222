/* Packet formats: parse and emit Ethernet II, ARP, IPv4, ICMPv4, UDP and
 * TCP (IPv6, ICMPv6, ND and MLD are in wire/ipv6.h).
 * Pure functions on byte buffers with explicit lengths: no state, no
 * allocation, no knowledge of sockets or buffer ownership. Every parser
 * checks every length before reading and is fuzzed.
 *
 * Structures hold host byte order values; IPv4 addresses are uint32_t in host
 * order (192.0.2.1 is 0xc0000201). Parsers return the header length (>= 0)
 * or -EBADMSG for a malformed header; emitters return the bytes written or
 * -ENOSPC when `cap` is too small, and write nothing then. */
#ifndef ZSOCK_WIRE_H_
#define ZSOCK_WIRE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- byte order helpers (unaligned-safe) ----------------------------------- */

static inline uint16_t z_get_be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t z_get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void z_put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void z_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- Internet checksum (RFC 1071) ---------------------------------------------- */

/* Add `len` bytes to a running one's-complement sum (not folded). Bytes are
 * taken as big-endian 16-bit words; an odd trailing byte is padded with zero.
 * Sums of several pieces must give each piece an even length except the last. */
uint32_t z_csum_add(uint32_t sum, const void *data, size_t len);

/* Fold a running sum and complement it: the value to put in a header. */
uint16_t z_csum_finish(uint32_t sum);

/* Running sum of the IPv4 pseudo-header (RFC 768 / 793). */
uint32_t z_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* Running sum of the IPv6 pseudo-header (RFC 8200 8.1): the 16-byte source
 * and destination addresses (network order), the upper-layer length and
 * the next header value. */
uint32_t z_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint32_t upper_len,
                        uint8_t next_header);

/* ---- Ethernet II ----------------------------------------------------------------- */

#define Z_ETH_ALEN      6
#define Z_ETH_HLEN      14
#define Z_ETH_MTU       1500
#define Z_ETH_MIN_FRAME 60 /* without FCS: shorter frames are padded */

#define Z_ETHERTYPE_IPV4 0x0800
#define Z_ETHERTYPE_ARP  0x0806
#define Z_ETHERTYPE_VLAN 0x8100
#define Z_ETHERTYPE_IPV6 0x86dd

struct z_eth_hdr {
    uint8_t dst[Z_ETH_ALEN];
    uint8_t src[Z_ETH_ALEN];
    uint16_t type;
};

/* Parse the 14-byte header. -EBADMSG if len < 14 or type < 0x0600 (an
 * 802.3 length field, not an Ethernet II type). */
int z_eth_parse(const uint8_t *buf, size_t len, struct z_eth_hdr *h);
int z_eth_emit(uint8_t *buf, size_t cap, const struct z_eth_hdr *h);

static inline bool z_eth_is_broadcast(const uint8_t *mac)
{
    return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

static inline bool z_eth_is_multicast(const uint8_t *mac)
{
    return (mac[0] & 1) != 0;
}

/* ---- ARP (RFC 826), Ethernet + IPv4 only ------------------------------------------ */

#define Z_ARP_LEN        28
#define Z_ARP_OP_REQUEST 1
#define Z_ARP_OP_REPLY   2

struct z_arp {
    uint16_t op;
    uint8_t sha[Z_ETH_ALEN]; /* sender hardware address */
    uint32_t spa;            /* sender protocol address */
    uint8_t tha[Z_ETH_ALEN]; /* target hardware address */
    uint32_t tpa;            /* target protocol address */
};

/* -EBADMSG unless htype 1, ptype 0x0800, hlen 6, plen 4, op 1 or 2, and
 * len >= 28. Returns 28. */
int z_arp_parse(const uint8_t *buf, size_t len, struct z_arp *a);
int z_arp_emit(uint8_t *buf, size_t cap, const struct z_arp *a);

/* ---- IPv4 (RFC 791) ---------------------------------------------------------------- */

#define Z_IPV4_HLEN      20 /* without options */
#define Z_IPV4_MAX_HLEN  60
#define Z_IPPROTO_ICMP   1
#define Z_IPPROTO_TCP    6
#define Z_IPPROTO_UDP    17
#define Z_IPV4_FLAG_DF   0x4000
#define Z_IPV4_FLAG_MF   0x2000
#define Z_IPV4_FRAG_MASK 0x1fff /* offset in 8-byte units */

struct z_ipv4_hdr {
    uint8_t ihl; /* header length in bytes (20..60) */
    uint8_t tos;
    uint16_t total_len; /* header + payload */
    uint16_t id;
    uint16_t frag; /* flags (DF, MF) and offset in 8-byte units */
    uint8_t ttl;
    uint8_t proto;
    uint16_t checksum; /* as received */
    uint32_t src;
    uint32_t dst;
    /* Options are skipped: parse validates their TLV structure only
     * (EOL, NOP, and length >= 2 without running past the header). */
};

/* Validates version 4, 20 <= ihl <= total_len <= len, the header checksum,
 * and option lengths. Returns ihl. Bytes past total_len (link padding) are
 * not part of the packet. */
int z_ipv4_parse(const uint8_t *buf, size_t len, struct z_ipv4_hdr *h);

/* Emit a 20-byte header (h->ihl ignored: no options) with a computed checksum. */
int z_ipv4_emit(uint8_t *buf, size_t cap, const struct z_ipv4_hdr *h);

static inline uint16_t z_ipv4_frag_offset(const struct z_ipv4_hdr *h)
{
    return (uint16_t)((h->frag & Z_IPV4_FRAG_MASK) * 8);
}

static inline bool z_ipv4_more_frags(const struct z_ipv4_hdr *h)
{
    return (h->frag & Z_IPV4_FLAG_MF) != 0;
}

/* ---- ICMPv4 (RFC 792) ----------------------------------------------------------------- */

#define Z_ICMP_HLEN             8
#define Z_ICMP_ECHO_REPLY       0
#define Z_ICMP_DEST_UNREACH     3
#define Z_ICMP_ECHO_REQUEST     8
#define Z_ICMP_TIME_EXCEEDED    11
#define Z_ICMP_PARAM_PROBLEM    12
#define Z_ICMP_UNREACH_NET      0
#define Z_ICMP_UNREACH_HOST     1
#define Z_ICMP_UNREACH_PROTOCOL 2
#define Z_ICMP_UNREACH_PORT     3
#define Z_ICMP_UNREACH_NEEDFRAG 4

struct z_icmp_hdr {
    uint8_t type;
    uint8_t code;
    uint16_t checksum;
    uint32_t rest; /* echo: id << 16 | seq; unreachable/needfrag: unused << 16 | mtu */
};

/* Validates len >= 8 and the checksum over all `len` bytes. Returns 8. */
int z_icmp_parse(const uint8_t *buf, size_t len, struct z_icmp_hdr *h);

/* Emit the 8-byte header followed by `payload` (may alias buf + 8), with the
 * checksum computed over header and payload. Returns 8 + plen. */
int z_icmp_emit(uint8_t *buf, size_t cap, const struct z_icmp_hdr *h, const uint8_t *payload,
                size_t plen);

/* ---- IGMP (RFC 2236 v2, RFC 3376 v3) ------------------------------------------------ */

#define Z_IPPROTO_IGMP        2
#define Z_IGMP_QUERY          0x11
#define Z_IGMP_V1_REPORT      0x12
#define Z_IGMP_V2_REPORT      0x16
#define Z_IGMP_V2_LEAVE       0x17
#define Z_IGMP_V3_REPORT      0x22
#define Z_IGMP_IS_EXCLUDE     2 /* v3 record types (RFC 3376 4.2.12) */
#define Z_IGMP_TO_INCLUDE     3
#define Z_IGMP_TO_EXCLUDE     4
#define Z_IGMP_ALL_HOSTS      0xe0000001u /* 224.0.0.1 */
#define Z_IGMP_ALL_ROUTERS    0xe0000002u /* 224.0.0.2: v2 leaves */
#define Z_IGMP_V3_ROUTERS     0xe0000016u /* 224.0.0.22: v3 reports */
#define Z_IGMP_V3_RECORD_SIZE 8           /* a record without sources */

/* A membership query. */
struct z_igmp_query {
    uint8_t version;      /* 1, 2 or 3 (RFC 3376 7.1: by length and max resp code) */
    uint32_t group;       /* 0: a general query */
    uint32_t max_resp_ms; /* how long an answer may wait (v1: 10 s) */
};

/* Parse an IGMP message of len bytes: 0 and *q for a query; -ENOMSG for
 * another valid message (a report, a leave); -EBADMSG too short, a bad
 * checksum, or a group that is not multicast. */
int z_igmp_parse_query(const uint8_t *buf, size_t len, struct z_igmp_query *q);

/* An IGMPv3 report with one record of `type` (no sources) per group.
 * Returns its length, or 0 if cap is too small. */
size_t z_igmp_v3_report_emit(uint8_t *buf, size_t cap, uint8_t type, const uint32_t *groups, int n);

/* An IGMPv2 report or leave (8 bytes) for group. Returns 8, or 0 if cap < 8. */
size_t z_igmp_v2_emit(uint8_t *buf, size_t cap, uint8_t type, uint32_t group);

/* Is addr (host order) an IPv4 multicast address (224.0.0.0/4)? */
static inline bool z_ipv4_is_multicast(uint32_t addr)
{
    return (addr >> 28) == 0xe;
}

/* The Ethernet address of an IPv4 group: 01:00:5e + its low 23 bits (RFC 1112 6.4). */
void z_ipv4_mcast_mac(uint32_t group, uint8_t mac[6]);

/* ---- UDP (RFC 768) ------------------------------------------------------------------------ */

#define Z_UDP_HLEN 8

struct z_udp_hdr {
    uint16_t sport;
    uint16_t dport;
    uint16_t len; /* header + payload */
    uint16_t checksum;
};

/* Validates 8 <= h->len <= len, and the checksum with the pseudo-header of
 * (src, dst) unless the checksum field is 0 (none sent). Returns 8. */
int z_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, struct z_udp_hdr *h);

/* As z_udp_parse() without the checksum: for datagrams whose checksum the
 * link vouches for (loopback, or a device that verified or will complete
 * it). */
int z_udp_parse_nocsum(const uint8_t *buf, size_t len, struct z_udp_hdr *h);

/* Emit the header for a datagram whose payload is already at buf + 8
 * (plen bytes): sets len = 8 + plen and computes the checksum (0 becomes
 * 0xffff). -ENOSPC if cap < 8 + plen, -EMSGSIZE if 8 + plen > 65535. */
int z_udp_emit(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
               size_t plen);

/* As z_udp_emit() but with checksum 0, "none computed" (RFC 768, IPv4 only):
 * for loopback, where the datagram never leaves memory. */
int z_udp_emit_nocsum(uint8_t *buf, size_t cap, uint16_t sport, uint16_t dport, size_t plen);

/* ---- TCP (RFC 9293; options RFC 7323, RFC 2018) ------------------------------------------ */

#define Z_TCP_HLEN     20
#define Z_TCP_MAX_HLEN 60
#define Z_TCP_FIN      0x01
#define Z_TCP_SYN      0x02
#define Z_TCP_RST      0x04
#define Z_TCP_PSH      0x08
#define Z_TCP_ACK      0x10
#define Z_TCP_URG      0x20
#define Z_TCP_ECE      0x40
#define Z_TCP_CWR      0x80
#define Z_TCP_MAX_SACK 4

/* Which options a header carries (z_tcp_opts.present). */
#define Z_TCPOPT_MSS       0x01
#define Z_TCPOPT_WSCALE    0x02
#define Z_TCPOPT_SACK_PERM 0x04
#define Z_TCPOPT_SACK      0x08
#define Z_TCPOPT_TS        0x10

struct z_tcp_sack_block {
    uint32_t left;  /* first sequence number of the block */
    uint32_t right; /* sequence number after its last byte */
};

struct z_tcp_opts {
    uint8_t present;
    uint16_t mss;
    uint8_t wscale;
    uint8_t nsack;
    uint32_t ts_val;
    uint32_t ts_ecr;
    struct z_tcp_sack_block sack[Z_TCP_MAX_SACK];
};

struct z_tcp_hdr {
    uint16_t sport;
    uint16_t dport;
    uint32_t seq;
    uint32_t ack;
    uint8_t hlen; /* data offset in bytes (20..60) */
    uint8_t flags;
    uint16_t window; /* as on the wire, before scaling */
    uint16_t checksum;
    uint16_t urgent;
    struct z_tcp_opts opts;
};

/* Parse a whole segment of `len` bytes (header and payload) sent from src to
 * dst. -EBADMSG unless 20 <= hlen <= len, the checksum over the segment and
 * pseudo-header verifies, and the options are well formed (each option but
 * EOL and NOP has a length >= 2 that stays inside the header). A known
 * option with a wrong length is ignored, as are unknown options; more than
 * Z_TCP_MAX_SACK SACK blocks keep the first ones. Returns hlen. */
int z_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, struct z_tcp_hdr *h);

/* As z_tcp_parse() without the checksum: for loopback, where the segment
 * never left memory. */
int z_tcp_parse_nocsum(const uint8_t *buf, size_t len, struct z_tcp_hdr *h);

/* Header length (20 plus padded options) z_tcp_emit() writes for `o`; SACK
 * blocks that would not fit in 40 bytes of options are left out. */
size_t z_tcp_hdr_len(const struct z_tcp_opts *o);

/* Write the header and options at buf for a payload of plen bytes already at
 * buf + z_tcp_hdr_len(&h->opts), computing the checksum over both (h->hlen
 * and h->checksum are ignored). Returns the header length; -ENOSPC if cap
 * cannot hold header and payload, -EMSGSIZE if they exceed 65535 bytes. */
int z_tcp_emit(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, const struct z_tcp_hdr *h,
               size_t plen);

/* As z_tcp_emit() but leaving the checksum field 0 (loopback only). */
int z_tcp_emit_nocsum(uint8_t *buf, size_t cap, const struct z_tcp_hdr *h, size_t plen);

/* ---- pcap file format (libpcap, LINKTYPE_ETHERNET or LINKTYPE_RAW) ------------------------- */

#define Z_PCAP_LINKTYPE_ETHERNET 1
#define Z_PCAP_LINKTYPE_RAW      101 /* raw IPv4/IPv6, for the loopback interface */
#define Z_PCAP_FILE_HLEN         24
#define Z_PCAP_REC_HLEN          16

/* The 24-byte global header (microsecond timestamps, native byte order). */
int z_pcap_emit_file_header(uint8_t *buf, size_t cap, uint32_t linktype, uint32_t snaplen);

/* A 16-byte record header for a frame of `len` bytes of which `caplen` are saved. */
int z_pcap_emit_record_header(uint8_t *buf, size_t cap, int64_t time_us, uint32_t caplen,
                              uint32_t len);

#endif /* ZSOCK_WIRE_H_ */
