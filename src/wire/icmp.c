/* ICMPv4 messages (RFC 792): the checksummed 8-byte header shared by echo,
 * destination unreachable and the other error messages, plus its payload. */
#include <errno.h>
#include <string.h>

#include "wire/wire.h"

/* The largest ICMP message an IPv4 packet can carry. */
#define ICMP_MAX_LEN (65535 - Z_IPV4_HLEN)

int z_icmp_parse(const uint8_t *buf, size_t len, struct z_icmp_hdr *h)
{
    if (len < Z_ICMP_HLEN) {
        return -EBADMSG;
    }
    if (z_csum_finish(z_csum_add(0, buf, len)) != 0) {
        return -EBADMSG;
    }
    h->type = buf[0];
    h->code = buf[1];
    h->checksum = z_get_be16(buf + 2);
    h->rest = z_get_be32(buf + 4);
    return Z_ICMP_HLEN;
}

int z_icmp_emit(uint8_t *buf, size_t cap, const struct z_icmp_hdr *h, const uint8_t *payload,
                size_t plen)
{
    if (plen > ICMP_MAX_LEN - Z_ICMP_HLEN) {
        return -EMSGSIZE;
    }
    if (cap < Z_ICMP_HLEN || cap - Z_ICMP_HLEN < plen) {
        return -ENOSPC;
    }
    /* Payload first: it may overlap the header's bytes (an error message
     * quoting the packet in place) and must be read before they change. */
    if (plen > 0 && payload != buf + Z_ICMP_HLEN) {
        memmove(buf + Z_ICMP_HLEN, payload, plen);
    }
    buf[0] = h->type;
    buf[1] = h->code;
    z_put_be16(buf + 2, 0);
    z_put_be32(buf + 4, h->rest);
    z_put_be16(buf + 2, z_csum_finish(z_csum_add(0, buf, Z_ICMP_HLEN + plen)));
    return (int)(Z_ICMP_HLEN + plen);
}
