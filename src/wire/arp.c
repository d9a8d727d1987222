/* ARP (RFC 826) for IPv4 over Ethernet, the only pairing the stack resolves:
 * any other hardware or protocol type is rejected as malformed. */
#include <errno.h>
#include <string.h>

#include "wire/wire.h"

#define ARP_HTYPE_ETHERNET 1

int z_arp_parse(const uint8_t *buf, size_t len, struct z_arp *a)
{
    if (len < Z_ARP_LEN) {
        return -EBADMSG;
    }
    if (z_get_be16(buf) != ARP_HTYPE_ETHERNET || z_get_be16(buf + 2) != Z_ETHERTYPE_IPV4 ||
        buf[4] != Z_ETH_ALEN || buf[5] != 4) {
        return -EBADMSG;
    }
    uint16_t op = z_get_be16(buf + 6);
    if (op != Z_ARP_OP_REQUEST && op != Z_ARP_OP_REPLY) {
        return -EBADMSG;
    }
    a->op = op;
    memcpy(a->sha, buf + 8, Z_ETH_ALEN);
    a->spa = z_get_be32(buf + 14);
    memcpy(a->tha, buf + 18, Z_ETH_ALEN);
    a->tpa = z_get_be32(buf + 24);
    return Z_ARP_LEN;
}

int z_arp_emit(uint8_t *buf, size_t cap, const struct z_arp *a)
{
    if (cap < Z_ARP_LEN) {
        return -ENOSPC;
    }
    z_put_be16(buf, ARP_HTYPE_ETHERNET);
    z_put_be16(buf + 2, Z_ETHERTYPE_IPV4);
    buf[4] = Z_ETH_ALEN;
    buf[5] = 4;
    z_put_be16(buf + 6, a->op);
    memcpy(buf + 8, a->sha, Z_ETH_ALEN);
    z_put_be32(buf + 14, a->spa);
    memcpy(buf + 18, a->tha, Z_ETH_ALEN);
    z_put_be32(buf + 24, a->tpa);
    return Z_ARP_LEN;
}
