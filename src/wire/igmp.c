/* IGMP messages: queries of the three versions in, v2 and v3 reports out
 * (RFC 2236, RFC 3376). */
#include <errno.h>
#include <string.h>

#include "wire/wire.h"

/* RFC 3376 4.1.1: a code of 128 or more is a floating point value. */
static uint32_t v3_code_ms(uint8_t code)
{
    uint32_t tenths =
        code < 128 ? code : ((uint32_t)(code & 0x0f) | 0x10) << (((code >> 4) & 7) + 3);
    return tenths * 100;
}

int z_igmp_parse_query(const uint8_t *buf, size_t len, struct z_igmp_query *q)
{
    if (len < 8 || z_csum_finish(z_csum_add(0, buf, len)) != 0) {
        return -EBADMSG;
    }
    if (buf[0] != Z_IGMP_QUERY) {
        return -ENOMSG;
    }
    uint32_t group = z_get_be32(buf + 4);
    if (group != 0 && !z_ipv4_is_multicast(group)) {
        return -EBADMSG;
    }
    q->group = group;
    if (len == 8) {
        q->version = buf[1] == 0 ? 1 : 2;
        q->max_resp_ms = buf[1] == 0 ? 10000 : (uint32_t)buf[1] * 100;
    } else if (len >= 12) {
        q->version = 3;
        q->max_resp_ms = v3_code_ms(buf[1]);
    } else {
        return -EBADMSG; /* 9..11 bytes: RFC 3376 7.1 says ignore */
    }
    return 0;
}

size_t z_igmp_v3_report_emit(uint8_t *buf, size_t cap, uint8_t type, const uint32_t *groups, int n)
{
    size_t len = 8 + (size_t)n * Z_IGMP_V3_RECORD_SIZE;
    if (n < 0 || n > 0xffff || cap < len) {
        return 0;
    }
    memset(buf, 0, len);
    buf[0] = Z_IGMP_V3_REPORT;
    z_put_be16(buf + 6, (uint16_t)n);
    for (int i = 0; i < n; i++) {
        uint8_t *r = buf + 8 + (size_t)i * Z_IGMP_V3_RECORD_SIZE;
        r[0] = type;
        z_put_be32(r + 4, groups[i]);
    }
    z_put_be16(buf + 2, z_csum_finish(z_csum_add(0, buf, len)));
    return len;
}

size_t z_igmp_v2_emit(uint8_t *buf, size_t cap, uint8_t type, uint32_t group)
{
    if (cap < 8) {
        return 0;
    }
    buf[0] = type;
    buf[1] = 0;
    z_put_be16(buf + 2, 0);
    z_put_be32(buf + 4, group);
    z_put_be16(buf + 2, z_csum_finish(z_csum_add(0, buf, 8)));
    return 8;
}

void z_ipv4_mcast_mac(uint32_t group, uint8_t mac[6])
{
    mac[0] = 0x01;
    mac[1] = 0x00;
    mac[2] = 0x5e;
    mac[3] = (uint8_t)((group >> 16) & 0x7f);
    mac[4] = (uint8_t)(group >> 8);
    mac[5] = (uint8_t)group;
}
