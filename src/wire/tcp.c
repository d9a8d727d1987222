/* TCP header and options (RFC 9293, RFC 7323, RFC 2018): parse a received
 * segment with its checksum, and emit a header with the options a
 * connection uses, laid out as Linux does (MSS, SACK-permitted, timestamps,
 * window scale, then SACK blocks) and padded with NOPs. */
#include <errno.h>
#include <string.h>

#include "wire/wire.h"

enum {
    OPT_EOL = 0,
    OPT_NOP = 1,
    OPT_MSS = 2,
    OPT_WSCALE = 3,
    OPT_SACK_PERM = 4,
    OPT_SACK = 5,
    OPT_TS = 8,
};

/* Read the known options; unknown ones and known ones of the wrong length
 * are skipped. -EBADMSG when the TLV structure runs out of the header. */
static int parse_options(const uint8_t *o, size_t len, struct z_tcp_opts *opts)
{
    size_t i = 0;
    while (i < len) {
        uint8_t kind = o[i];
        if (kind == OPT_EOL) {
            break;
        }
        if (kind == OPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2 || o[i + 1] < 2 || o[i + 1] > len - i) {
            return -EBADMSG;
        }
        uint8_t olen = o[i + 1];
        const uint8_t *v = o + i + 2;
        switch (kind) {
        case OPT_MSS:
            if (olen == 4) {
                opts->present |= Z_TCPOPT_MSS;
                opts->mss = z_get_be16(v);
            }
            break;
        case OPT_WSCALE:
            if (olen == 3) {
                opts->present |= Z_TCPOPT_WSCALE;
                opts->wscale = v[0];
            }
            break;
        case OPT_SACK_PERM:
            if (olen == 2) {
                opts->present |= Z_TCPOPT_SACK_PERM;
            }
            break;
        case OPT_SACK:
            if (olen >= 10 && (olen - 2) % 8 == 0) {
                size_t n = (size_t)(olen - 2) / 8;
                opts->present |= Z_TCPOPT_SACK;
                opts->nsack = 0;
                for (size_t k = 0; k < n && k < Z_TCP_MAX_SACK; k++) {
                    opts->sack[k].left = z_get_be32(v + 8 * k);
                    opts->sack[k].right = z_get_be32(v + 8 * k + 4);
                    opts->nsack++;
                }
            }
            break;
        case OPT_TS:
            if (olen == 10) {
                opts->present |= Z_TCPOPT_TS;
                opts->ts_val = z_get_be32(v);
                opts->ts_ecr = z_get_be32(v + 4);
            }
            break;
        default:
            break;
        }
        i += olen;
    }
    return 0;
}

int z_tcp_parse(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst, struct z_tcp_hdr *h)
{
    if (len < Z_TCP_HLEN || len > 65535) {
        return -EBADMSG;
    }
    uint32_t sum = z_csum_pseudo4(src, dst, Z_IPPROTO_TCP, (uint16_t)len);
    if (z_csum_finish(z_csum_add(sum, buf, len)) != 0) {
        return -EBADMSG;
    }
    return z_tcp_parse_nocsum(buf, len, h);
}

int z_tcp_parse_nocsum(const uint8_t *buf, size_t len, struct z_tcp_hdr *h)
{
    if (len < Z_TCP_HLEN || len > 65535) {
        return -EBADMSG;
    }
    uint8_t hlen = (uint8_t)((buf[12] >> 4) * 4);
    if (hlen < Z_TCP_HLEN || hlen > len) {
        return -EBADMSG;
    }
    memset(h, 0, sizeof(*h));
    if (parse_options(buf + Z_TCP_HLEN, hlen - Z_TCP_HLEN, &h->opts) < 0) {
        return -EBADMSG;
    }
    h->sport = z_get_be16(buf);
    h->dport = z_get_be16(buf + 2);
    h->seq = z_get_be32(buf + 4);
    h->ack = z_get_be32(buf + 8);
    h->hlen = hlen;
    h->flags = buf[13];
    h->window = z_get_be16(buf + 14);
    h->checksum = z_get_be16(buf + 16);
    h->urgent = z_get_be16(buf + 18);
    return hlen;
}

/* SACK blocks that fit after the other options (40 bytes of options in all). */
static size_t sack_fit(const struct z_tcp_opts *o, size_t used)
{
    if (!(o->present & Z_TCPOPT_SACK) || o->nsack == 0) {
        return 0;
    }
    size_t n = o->nsack < Z_TCP_MAX_SACK ? o->nsack : Z_TCP_MAX_SACK;
    while (n > 0 && used + 4 + 8 * n > 40) {
        n--;
    }
    return n;
}

/* Bytes of options before SACK, each group padded to 4 bytes. */
static size_t base_options_len(const struct z_tcp_opts *o)
{
    size_t n = 0;
    n += (o->present & Z_TCPOPT_MSS) ? 4 : 0;
    if (o->present & Z_TCPOPT_TS) {
        n += 12; /* SACK-permitted + timestamps, or NOP NOP + timestamps */
    } else if (o->present & Z_TCPOPT_SACK_PERM) {
        n += 4; /* NOP NOP SACK-permitted */
    }
    n += (o->present & Z_TCPOPT_WSCALE) ? 4 : 0;
    return n;
}

size_t z_tcp_hdr_len(const struct z_tcp_opts *o)
{
    size_t base = base_options_len(o);
    size_t nsack = sack_fit(o, base);
    return Z_TCP_HLEN + base + (nsack > 0 ? 4 + 8 * nsack : 0);
}

int z_tcp_emit(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, const struct z_tcp_hdr *h,
               size_t plen)
{
    int hlen = z_tcp_emit_nocsum(buf, cap, h, plen);
    if (hlen < 0) {
        return hlen;
    }
    uint16_t seglen = (uint16_t)((size_t)hlen + plen);
    uint32_t sum = z_csum_pseudo4(src, dst, Z_IPPROTO_TCP, seglen);
    z_put_be16(buf + 16, z_csum_finish(z_csum_add(sum, buf, seglen)));
    return hlen;
}

int z_tcp_emit_nocsum(uint8_t *buf, size_t cap, const struct z_tcp_hdr *h, size_t plen)
{
    const struct z_tcp_opts *o = &h->opts;
    size_t hlen = z_tcp_hdr_len(o);
    if (hlen + plen > 65535) {
        return -EMSGSIZE;
    }
    if (cap < hlen || cap - hlen < plen) {
        return -ENOSPC;
    }
    z_put_be16(buf, h->sport);
    z_put_be16(buf + 2, h->dport);
    z_put_be32(buf + 4, h->seq);
    z_put_be32(buf + 8, h->ack);
    buf[12] = (uint8_t)((hlen / 4) << 4);
    buf[13] = h->flags;
    z_put_be16(buf + 14, h->window);
    z_put_be16(buf + 16, 0);
    z_put_be16(buf + 18, h->urgent);
    uint8_t *p = buf + Z_TCP_HLEN;
    if (o->present & Z_TCPOPT_MSS) {
        p[0] = OPT_MSS;
        p[1] = 4;
        z_put_be16(p + 2, o->mss);
        p += 4;
    }
    if (o->present & Z_TCPOPT_TS) {
        if (o->present & Z_TCPOPT_SACK_PERM) {
            p[0] = OPT_SACK_PERM;
            p[1] = 2;
        } else {
            p[0] = OPT_NOP;
            p[1] = OPT_NOP;
        }
        p[2] = OPT_TS;
        p[3] = 10;
        z_put_be32(p + 4, o->ts_val);
        z_put_be32(p + 8, o->ts_ecr);
        p += 12;
    } else if (o->present & Z_TCPOPT_SACK_PERM) {
        p[0] = OPT_NOP;
        p[1] = OPT_NOP;
        p[2] = OPT_SACK_PERM;
        p[3] = 2;
        p += 4;
    }
    if (o->present & Z_TCPOPT_WSCALE) {
        p[0] = OPT_NOP;
        p[1] = OPT_WSCALE;
        p[2] = 3;
        p[3] = o->wscale;
        p += 4;
    }
    size_t nsack = sack_fit(o, base_options_len(o));
    if (nsack > 0) {
        p[0] = OPT_NOP;
        p[1] = OPT_NOP;
        p[2] = OPT_SACK;
        p[3] = (uint8_t)(2 + 8 * nsack);
        p += 4;
        for (size_t k = 0; k < nsack; k++) {
            z_put_be32(p, o->sack[k].left);
            z_put_be32(p + 4, o->sack[k].right);
            p += 8;
        }
    }
    return (int)hlen;
}
