/* IPv4 header (RFC 791): validation of everything the stack trusts before it
 * looks at a packet (version, lengths, checksum, option structure), and the
 * option-less header it sends. */
#include <errno.h>

#include "wire/wire.h"

#define IPOPT_EOL 0
#define IPOPT_NOP 1

/* Options are type-length-value except the one-byte EOL and NOP; a length
 * below 2 would loop forever or step backwards, and one running past the
 * header would make later code read payload as options. */
static int options_valid(const uint8_t *opt, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t type = opt[i];
        if (type == IPOPT_EOL) {
            return 1; /* the rest is padding */
        }
        if (type == IPOPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2) {
            return 0;
        }
        uint8_t olen = opt[i + 1];
        if (olen < 2 || olen > len - i) {
            return 0;
        }
        i += olen;
    }
    return 1;
}

int z_ipv4_parse(const uint8_t *buf, size_t len, struct z_ipv4_hdr *h)
{
    if (len < Z_IPV4_HLEN) {
        return -EBADMSG;
    }
    if ((buf[0] >> 4) != 4) {
        return -EBADMSG;
    }
    size_t ihl = (size_t)(buf[0] & 0x0f) * 4;
    if (ihl < Z_IPV4_HLEN || ihl > len) {
        return -EBADMSG;
    }
    uint16_t total_len = z_get_be16(buf + 2);
    if (total_len < ihl || total_len > len) {
        return -EBADMSG;
    }
    /* A correct header sums to 0xffff, which z_csum_finish turns into 0. */
    if (z_csum_finish(z_csum_add(0, buf, ihl)) != 0) {
        return -EBADMSG;
    }
    if (!options_valid(buf + Z_IPV4_HLEN, ihl - Z_IPV4_HLEN)) {
        return -EBADMSG;
    }
    h->ihl = (uint8_t)ihl;
    h->tos = buf[1];
    h->total_len = total_len;
    h->id = z_get_be16(buf + 4);
    h->frag = z_get_be16(buf + 6);
    h->ttl = buf[8];
    h->proto = buf[9];
    h->checksum = z_get_be16(buf + 10);
    h->src = z_get_be32(buf + 12);
    h->dst = z_get_be32(buf + 16);
    return (int)ihl;
}

int z_ipv4_emit(uint8_t *buf, size_t cap, const struct z_ipv4_hdr *h)
{
    if (cap < Z_IPV4_HLEN) {
        return -ENOSPC;
    }
    buf[0] = 0x45; /* version 4, five 32-bit words */
    buf[1] = h->tos;
    z_put_be16(buf + 2, h->total_len);
    z_put_be16(buf + 4, h->id);
    z_put_be16(buf + 6, h->frag);
    buf[8] = h->ttl;
    buf[9] = h->proto;
    z_put_be16(buf + 10, 0);
    z_put_be32(buf + 12, h->src);
    z_put_be32(buf + 16, h->dst);
    z_put_be16(buf + 10, z_csum_finish(z_csum_add(0, buf, Z_IPV4_HLEN)));
    return Z_IPV4_HLEN;
}
