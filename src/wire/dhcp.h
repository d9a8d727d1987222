/* DHCP messages (RFC 2131, options RFC 2132): parse any message and build
 * the ones a client sends. Pure functions on byte buffers, as the rest of
 * src/wire: no state, no allocation, every length checked before it is
 * read, fuzzed (tests/fuzz/fuzz_dhcp.c).
 *
 * A message is the 236-byte BOOTP fixed part, the magic cookie 99.130.83.99
 * and options (code, length, data; pad 0 and end 255 are single bytes).
 * Option overload (52) moves more options into the `file` and `sname`
 * fields, and an option that appears several times is the concatenation of
 * its pieces, in the order options, file, sname (RFC 3396).
 *
 * Addresses are uint32_t in host order, as in wire.h. Parsers return 0 or
 * -EBADMSG; builders return the bytes written or -ENOSPC / -EINVAL. */
#ifndef ZSOCK_WIRE_DHCP_H_
#define ZSOCK_WIRE_DHCP_H_

#include <stddef.h>
#include <stdint.h>

#define Z_DHCP_SERVER_PORT 67
#define Z_DHCP_CLIENT_PORT 68
#define Z_DHCP_FIXED_LEN   236        /* op .. file */
#define Z_DHCP_HDR_LEN     240        /* fixed part and magic cookie */
#define Z_DHCP_MIN_LEN     300        /* RFC 1542: BOOTP messages are padded to this */
#define Z_DHCP_MAGIC       0x63825363 /* 99.130.83.99 */

#define Z_DHCP_OP_REQUEST     1
#define Z_DHCP_OP_REPLY       2
#define Z_DHCP_HTYPE_ETHER    1
#define Z_DHCP_FLAG_BROADCAST 0x8000

/* Message types (option 53). */
#define Z_DHCP_DISCOVER 1
#define Z_DHCP_OFFER    2
#define Z_DHCP_REQUEST  3
#define Z_DHCP_DECLINE  4
#define Z_DHCP_ACK      5
#define Z_DHCP_NAK      6
#define Z_DHCP_RELEASE  7
#define Z_DHCP_INFORM   8

/* Option codes. */
#define Z_DHCP_OPT_PAD          0
#define Z_DHCP_OPT_SUBNET_MASK  1
#define Z_DHCP_OPT_ROUTER       3
#define Z_DHCP_OPT_DNS          6
#define Z_DHCP_OPT_HOST_NAME    12
#define Z_DHCP_OPT_DOMAIN_NAME  15
#define Z_DHCP_OPT_REQUESTED_IP 50
#define Z_DHCP_OPT_LEASE_TIME   51
#define Z_DHCP_OPT_OVERLOAD     52
#define Z_DHCP_OPT_MSG_TYPE     53
#define Z_DHCP_OPT_SERVER_ID    54
#define Z_DHCP_OPT_PARAM_LIST   55
#define Z_DHCP_OPT_MAX_SIZE     57
#define Z_DHCP_OPT_T1           58
#define Z_DHCP_OPT_T2           59
#define Z_DHCP_OPT_CLIENT_ID    61
#define Z_DHCP_OPT_END          255

/* Which options a parsed message carries (z_dhcp_msg.have). */
#define Z_DHCP_HAVE_MSG_TYPE     0x0001
#define Z_DHCP_HAVE_SERVER_ID    0x0002
#define Z_DHCP_HAVE_SUBNET_MASK  0x0004
#define Z_DHCP_HAVE_ROUTER       0x0008
#define Z_DHCP_HAVE_DNS          0x0010
#define Z_DHCP_HAVE_REQUESTED_IP 0x0020
#define Z_DHCP_HAVE_LEASE_TIME   0x0040
#define Z_DHCP_HAVE_T1           0x0080
#define Z_DHCP_HAVE_T2           0x0100
#define Z_DHCP_HAVE_MAX_SIZE     0x0200
#define Z_DHCP_HAVE_HOST_NAME    0x0400
#define Z_DHCP_HAVE_DOMAIN_NAME  0x0800
#define Z_DHCP_HAVE_CLIENT_ID    0x1000
#define Z_DHCP_HAVE_PARAM_LIST   0x2000

#define Z_DHCP_MAX_DNS       3  /* DNS servers kept; more are ignored */
#define Z_DHCP_NAME_MAX      63 /* bytes of a host or domain name kept */
#define Z_DHCP_CLIENT_ID_MAX 32 /* bytes of a client identifier kept */
#define Z_DHCP_PARAMS_MAX    32 /* codes of a parameter request list kept */

/* A message: the fixed part and the options this module knows. Options
 * with a fixed size and another length are ignored (their `have` bit stays
 * clear), as are unknown options; longer names, identifiers and lists are
 * cut to what fits. */
struct z_dhcp_msg {
    uint8_t op;
    uint8_t htype;
    uint8_t hlen;
    uint8_t hops;
    uint32_t xid;
    uint16_t secs;
    uint16_t flags;
    uint32_t ciaddr; /* client's address, when it has one */
    uint32_t yiaddr; /* "your" address: what the server gives */
    uint32_t siaddr;
    uint32_t giaddr;
    uint8_t chaddr[16];

    uint32_t have; /* Z_DHCP_HAVE_* */
    uint8_t msg_type;
    uint32_t server_id;
    uint32_t subnet_mask;
    uint32_t router; /* the first one listed */
    uint32_t dns[Z_DHCP_MAX_DNS];
    uint8_t n_dns;
    uint32_t requested_ip;
    uint32_t lease_s;
    uint32_t t1_s;
    uint32_t t2_s;
    uint16_t max_size;
    /* Names stop at the first NUL byte (some servers send one) and are kept
     * NUL-terminated; their length excludes it. An empty name is absent. */
    uint8_t host_name_len;
    char host_name[Z_DHCP_NAME_MAX + 1];
    uint8_t domain_len;
    char domain[Z_DHCP_NAME_MAX + 1];
    uint8_t client_id_len;
    uint8_t client_id[Z_DHCP_CLIENT_ID_MAX];
    uint8_t n_params;
    uint8_t params[Z_DHCP_PARAMS_MAX];
};

/* Parse a message of `len` bytes (the UDP payload). -EBADMSG unless it
 * holds the fixed part and the magic cookie, op is 1 or 2, every option in
 * the options field (and in file / sname when option 52 says so) stays
 * inside its field, and an overload option is one byte of value 1..3.
 * Thread-safe (no state). */
int z_dhcp_parse(const uint8_t *buf, size_t len, struct z_dhcp_msg *m);

/* Write `m`: the fixed part (sname and file zero), the cookie, every
 * option `have` names (the message type first), end, then zero padding up
 * to Z_DHCP_MIN_LEN bytes. Returns the length, -ENOSPC if cap cannot hold
 * it (nothing useful written), -EINVAL for a name, identifier or list
 * longer than its array. Thread-safe (no state). */
int z_dhcp_emit(uint8_t *buf, size_t cap, const struct z_dhcp_msg *m);

/* The messages a client sends, with their RFC 2131 table 5 forms. */
enum z_dhcp_client_kind {
    Z_DHCP_BUILD_DISCOVER,          /* broadcast; requested IP only if given */
    Z_DHCP_BUILD_REQUEST_SELECTING, /* answering an offer: requested IP + server id */
    Z_DHCP_BUILD_REQUEST_RENEWING,  /* unicast to the server: ciaddr, no 50/54 */
    Z_DHCP_BUILD_REQUEST_REBINDING, /* broadcast: ciaddr, no 50/54 */
    Z_DHCP_BUILD_DECLINE,           /* the address is in use: requested IP + server id */
    Z_DHCP_BUILD_RELEASE,           /* giving the lease back: ciaddr + server id */
};

/* What a client message is built from. */
struct z_dhcp_client_msg {
    enum z_dhcp_client_kind kind;
    uint32_t xid;
    uint16_t secs;         /* seconds since the exchange began (DISCOVER, REQUEST) */
    uint8_t mac[6];        /* chaddr, and client identifier 61 = type 1 + mac */
    uint32_t ciaddr;       /* the leased address: renewing, rebinding, release */
    uint32_t requested_ip; /* selecting, decline; discover if not 0 */
    uint32_t server_id;    /* selecting, decline, release */
    uint16_t max_size;     /* option 57 in DISCOVER and REQUEST; 0: none (else >= 576) */
    const char *host_name; /* option 12 in DISCOVER and REQUEST; NULL or "": none */
};

/* Build a client message: BOOTREQUEST, Ethernet, the BROADCAST flag on
 * DISCOVER and the selecting REQUEST (the client cannot receive unicast
 * yet), the options its kind calls for, the parameter request list (1, 3,
 * 6, 15, 51, 58, 59) on DISCOVER and REQUEST, padded to 300 bytes. Returns
 * the length, -ENOSPC, or -EINVAL (host name over Z_DHCP_NAME_MAX bytes,
 * max_size under 576, unknown kind). Thread-safe (no state). */
int z_dhcp_build_client(uint8_t *buf, size_t cap, const struct z_dhcp_client_msg *c);

#endif /* ZSOCK_WIRE_DHCP_H_ */
