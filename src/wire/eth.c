/* Ethernet II header: the 14 bytes in front of every frame the link drivers
 * hand to the stack. */
#include <errno.h>
#include <string.h>

#include "wire/wire.h"

int z_eth_parse(const uint8_t *buf, size_t len, struct z_eth_hdr *h)
{
    if (len < Z_ETH_HLEN) {
        return -EBADMSG;
    }
    uint16_t type = z_get_be16(buf + 12);
    /* Values below 0x0600 are IEEE 802.3 lengths: an LLC frame we do not speak. */
    if (type < 0x0600) {
        return -EBADMSG;
    }
    memcpy(h->dst, buf, Z_ETH_ALEN);
    memcpy(h->src, buf + 6, Z_ETH_ALEN);
    h->type = type;
    return Z_ETH_HLEN;
}

int z_eth_emit(uint8_t *buf, size_t cap, const struct z_eth_hdr *h)
{
    if (cap < Z_ETH_HLEN) {
        return -ENOSPC;
    }
    memcpy(buf, h->dst, Z_ETH_ALEN);
    memcpy(buf + 6, h->src, Z_ETH_ALEN);
    z_put_be16(buf + 12, h->type);
    return Z_ETH_HLEN;
}
