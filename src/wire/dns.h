/* DNS messages (RFC 1035, RFC 3596): parse and build. Pure functions on
 * byte buffers, as the rest of src/wire: no state, no allocation, every
 * length checked before it is read, fuzzed (tests/fuzz/fuzz_dns.c).
 *
 * Names are handled in text form: labels joined by '.', no trailing dot, the
 * root as "". A label byte that is '.', '\\' or not printable ASCII (outside
 * 0x21..0x7e) appears as \DDD (three decimal digits), as dig prints it, so a
 * text name always maps back to the same wire name. Text names are at most
 * Z_DNS_NAME_TEXT_MAX characters: a received name longer than that in text
 * form is treated as malformed, since no host name we look up can match it.
 *
 * Parsers return 0 or a positive count on success and -EBADMSG for a
 * malformed message; builders return the bytes written or -ENOSPC (nothing
 * useful written) / -EINVAL (a name that cannot be encoded). */
#ifndef ZSOCK_WIRE_DNS_H_
#define ZSOCK_WIRE_DNS_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define Z_DNS_HDR_LEN       12
#define Z_DNS_NAME_WIRE_MAX 255 /* RFC 1035 2.3.4: bytes of a wire name */
#define Z_DNS_LABEL_MAX     63
#define Z_DNS_NAME_TEXT_MAX 253 /* characters of a text name, without NUL */
#define Z_DNS_UDP_MAX       512 /* a DNS message over UDP without EDNS0 */
#define Z_DNS_PORT          53

#define Z_DNS_TYPE_A     1
#define Z_DNS_TYPE_NS    2
#define Z_DNS_TYPE_CNAME 5
#define Z_DNS_TYPE_SOA   6
#define Z_DNS_TYPE_PTR   12
#define Z_DNS_TYPE_MX    15
#define Z_DNS_TYPE_TXT   16
#define Z_DNS_TYPE_AAAA  28
#define Z_DNS_TYPE_OPT   41
#define Z_DNS_TYPE_ANY   255

#define Z_DNS_CLASS_IN 1

/* Header flag bits (struct z_dns_hdr.flags, host order). */
#define Z_DNS_FLAG_QR        0x8000
#define Z_DNS_OPCODE_MASK    0x7800
#define Z_DNS_FLAG_AA        0x0400
#define Z_DNS_FLAG_TC        0x0200
#define Z_DNS_FLAG_RD        0x0100
#define Z_DNS_FLAG_RA        0x0080
#define Z_DNS_RCODE_MASK     0x000f
#define Z_DNS_RCODE_OK       0
#define Z_DNS_RCODE_FORMERR  1
#define Z_DNS_RCODE_SERVFAIL 2
#define Z_DNS_RCODE_NXDOMAIN 3
#define Z_DNS_RCODE_NOTIMP   4
#define Z_DNS_RCODE_REFUSED  5

struct z_dns_hdr {
    uint16_t id;
    uint16_t flags;
    uint16_t qdcount;
    uint16_t ancount;
    uint16_t nscount;
    uint16_t arcount;
};

/* One resource record. name is the owner name in text form; the record data
 * is msg[rdoff .. rdoff + rdlen), inside the message. */
struct z_dns_rr {
    char name[Z_DNS_NAME_TEXT_MAX + 1];
    uint16_t type;
    uint16_t cls;
    uint32_t ttl; /* RFC 2181 8: a value with the top bit set reads as 0 */
    uint16_t rdlen;
    size_t rdoff;
};

/* Parse the 12-byte header. Returns 0, or -EBADMSG if len < 12. */
int z_dns_hdr_parse(const uint8_t *msg, size_t len, struct z_dns_hdr *h);

/* Encode a text name (an optional trailing dot is accepted; "" and "." are
 * the root) into wire form at buf. Returns the wire length, -EINVAL for an
 * empty label, a label over 63 bytes, a wire name over 255 bytes or a bad
 * \DDD escape, -ENOSPC if cap is too small. */
int z_dns_name_encode(uint8_t *buf, size_t cap, const char *name);

/* Decode the (possibly compressed) name at *off in msg into text (out has
 * room for cap bytes with the NUL; Z_DNS_NAME_TEXT_MAX + 1 is always
 * enough). Compression pointers must point strictly before the start of
 * the label sequence they end (so no loop is possible), at most 128 of them
 * in one name, the expanded wire name must stay within 255 bytes, and
 * label types 01/10 are rejected. On success *off is just past the name
 * where it started (past the first pointer, if any).
 * Returns 0, -EBADMSG (malformed, or text longer than Z_DNS_NAME_TEXT_MAX)
 * or -ENOSPC (out too small). */
int z_dns_name_decode(const uint8_t *msg, size_t len, size_t *off, char *out, size_t cap);

/* Case-insensitive (ASCII only, RFC 4343) comparison of two text names;
 * a trailing dot on either side is ignored. */
bool z_dns_name_equal(const char *a, const char *b);

/* Parse a question at *off (advanced past it). Returns 0, -EBADMSG, or
 * -ENOSPC if cap cannot hold the name. */
int z_dns_question_parse(const uint8_t *msg, size_t len, size_t *off, char *name, size_t cap,
                         uint16_t *qtype, uint16_t *qclass);

/* Parse a resource record at *off (advanced past it, rdata included).
 * Checks that the rdata lies inside the message and, for A and AAAA, that
 * rdlen is 4 or 16. Returns 0 or -EBADMSG. */
int z_dns_rr_parse(const uint8_t *msg, size_t len, size_t *off, struct z_dns_rr *rr);

/* The name in the rdata of a CNAME, PTR or NS record; the name (with any
 * compression pointers followed) must end exactly at the end of the rdata.
 * Returns 0, -EBADMSG or -ENOSPC. */
int z_dns_rr_target(const uint8_t *msg, size_t len, const struct z_dns_rr *rr, char *out,
                    size_t cap);

/* The MINIMUM field of an SOA record (negative caching, RFC 2308), or
 * -EBADMSG. */
int64_t z_dns_soa_minimum(const uint8_t *msg, size_t len, const struct z_dns_rr *rr);

/* Build a standard query (opcode 0, RD set) with one question of class IN.
 * edns_udp_size > 0 adds an EDNS0 OPT record (RFC 6891) advertising that
 * UDP payload size. Returns the length, -EINVAL or -ENOSPC. */
int z_dns_query_build(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype,
                      uint16_t edns_udp_size);

/* The reverse-lookup name of an address (RFC 1035 3.5, RFC 3596 2.5):
 * "4.3.2.1.in-addr.arpa" for AF_INET's 1.2.3.4 (family 4, 4 bytes), the
 * nibble form under "ip6.arpa" for IPv6 (family 6, 16 bytes). Returns the
 * text length or -ENOSPC / -EINVAL. */
int z_dns_reverse_name(int family, const uint8_t *addr, char *out, size_t cap);

/* A message builder for answers (test servers, fuzzing): no compression.
 * Sections must be added in order (questions, answers, authority,
 * additional); z_dns_build_finish() writes the counts. Each call returns 0
 * or -ENOSPC / -EINVAL and leaves the builder unchanged on error. */
struct z_dns_builder {
    uint8_t *buf;
    size_t cap;
    size_t len;
    uint16_t count[4]; /* qd, an, ns, ar */
    int section;       /* 0..3: the section being filled */
};

void z_dns_build_init(struct z_dns_builder *b, uint8_t *buf, size_t cap, uint16_t id,
                      uint16_t flags);
int z_dns_build_question(struct z_dns_builder *b, const char *name, uint16_t qtype,
                         uint16_t qclass);
/* section: 1 answer, 2 authority, 3 additional. */
int z_dns_build_rr(struct z_dns_builder *b, int section, const char *name, uint16_t type,
                   uint16_t cls, uint32_t ttl, const void *rdata, uint16_t rdlen);
/* A record whose rdata is a name (CNAME, PTR, NS). */
int z_dns_build_rr_name(struct z_dns_builder *b, int section, const char *name, uint16_t type,
                        uint32_t ttl, const char *target);
/* Returns the message length (0 if cap could not hold the header). */
size_t z_dns_build_finish(struct z_dns_builder *b);

#endif /* ZSOCK_WIRE_DNS_H_ */
