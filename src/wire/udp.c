/* UDP header (RFC 768) with its pseudo-header checksum. The payload is
 * already in place behind the header, so emit only fills the 8 bytes. */
#include <errno.h>

#include "wire/wire.h"

int z_udp_parse_nocsum(const uint8_t *buf, size_t len, struct z_udp_hdr *h)
{
    if (len < Z_UDP_HLEN) {
        return -EBADMSG;
    }
    uint16_t ulen = z_get_be16(buf + 4);
    if (ulen < Z_UDP_HLEN || ulen > len) {
        return -EBADMSG;
    }
    h->sport = z_get_be16(buf);
    h->dport = z_get_be16(buf + 2);
    h->len = ulen;
    h->checksum = z_get_be16(buf + 6);
    return Z_UDP_HLEN;
}

int z_udp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, struct z_udp_hdr *h)
{
    int rc = z_udp_parse_nocsum(buf, len, h);
    /* Zero means the sender computed none; a computed zero is sent as 0xffff. */
    if (rc < 0 || h->checksum == 0) {
        return rc;
    }
    uint32_t sum = z_csum_pseudo4(src, dst, Z_IPPROTO_UDP, h->len);
    if (z_csum_finish(z_csum_add(sum, buf, h->len)) != 0) {
        return -EBADMSG;
    }
    return Z_UDP_HLEN;
}

int z_udp_emit_nocsum(uint8_t *buf, size_t cap, uint16_t sport, uint16_t dport, size_t plen)
{
    if (plen > 65535 - Z_UDP_HLEN) {
        return -EMSGSIZE;
    }
    if (cap < Z_UDP_HLEN || cap - Z_UDP_HLEN < plen) {
        return -ENOSPC;
    }
    uint16_t ulen = (uint16_t)(Z_UDP_HLEN + plen);
    z_put_be16(buf, sport);
    z_put_be16(buf + 2, dport);
    z_put_be16(buf + 4, ulen);
    z_put_be16(buf + 6, 0);
    return ulen;
}

int z_udp_emit(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
               size_t plen)
{
    int rc = z_udp_emit_nocsum(buf, cap, sport, dport, plen);
    if (rc < 0) {
        return rc;
    }
    uint16_t ulen = (uint16_t)rc;
    uint16_t csum =
        z_csum_finish(z_csum_add(z_csum_pseudo4(src, dst, Z_IPPROTO_UDP, ulen), buf, ulen));
    /* RFC 768: a computed zero is sent as all ones, since zero means "none". */
    z_put_be16(buf + 6, csum == 0 ? 0xffff : csum);
    return ulen;
}
