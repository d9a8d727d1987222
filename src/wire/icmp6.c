/* ICMPv6 (RFC 4443), Neighbor Discovery (RFC 4861, RFC 8106) and MLD (RFC
 * 2710, RFC 3810) messages. ND and MLD arrive from anyone on the link, so
 * each parser applies the validity rules of its RFC that the message bytes
 * and addresses decide, and leaves only the hop limit to the caller. */
#include <errno.h>
#include <string.h>

#include "wire/ipv6.h"

/* The largest ICMPv6 message an IPv6 packet without jumbo payload carries. */
#define ICMP6_MAX_LEN 65535

int z_icmp6_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_icmp6_hdr *h)
{
    if (len < Z_ICMP6_HLEN || len > ICMP6_MAX_LEN) {
        return -EBADMSG;
    }
    if (z_ipv6_upper_csum(src, dst, Z_IPPROTO_ICMPV6, buf, len) != 0) {
        return -EBADMSG;
    }
    h->type = buf[0];
    h->code = buf[1];
    h->checksum = z_get_be16(buf + 2);
    h->rest = z_get_be32(buf + 4);
    return Z_ICMP6_HLEN;
}

/* Fill in the checksum of the message of `len` bytes at buf. */
static void set_csum(uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                     const uint8_t dst[Z_IPV6_ALEN])
{
    z_put_be16(buf + 2, 0);
    z_put_be16(buf + 2, z_ipv6_upper_csum(src, dst, Z_IPPROTO_ICMPV6, buf, len));
}

int z_icmp6_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_icmp6_hdr *h,
                 const uint8_t *payload, size_t plen)
{
    if (plen > ICMP6_MAX_LEN - Z_ICMP6_HLEN) {
        return -EMSGSIZE;
    }
    if (cap < Z_ICMP6_HLEN || cap - Z_ICMP6_HLEN < plen) {
        return -ENOSPC;
    }
    /* Payload first: an error message may quote the packet in place. */
    if (plen > 0 && payload != buf + Z_ICMP6_HLEN) {
        memmove(buf + Z_ICMP6_HLEN, payload, plen);
    }
    buf[0] = h->type;
    buf[1] = h->code;
    z_put_be32(buf + 4, h->rest);
    set_csum(buf, Z_ICMP6_HLEN + plen, src, dst);
    return (int)(Z_ICMP6_HLEN + plen);
}

/* ---- ND options ------------------------------------------------------------------------ */

#define OPT_LLA_LEN    8
#define OPT_PREFIX_LEN 32
#define OPT_MTU_LEN    8

static void parse_prefix(const uint8_t *p, struct z_nd_opts *o)
{
    if (o->nprefix == Z_ND_MAX_PREFIXES) {
        if (o->nprefix_lost < UINT8_MAX) {
            o->nprefix_lost++;
        }
        return;
    }
    struct z_nd_prefix *pi = &o->prefix[o->nprefix++];
    pi->len = p[2];
    pi->flags = p[3] & (Z_ND_PREFIX_ONLINK | Z_ND_PREFIX_AUTO);
    pi->valid = z_get_be32(p + 4);
    pi->preferred = z_get_be32(p + 8);
    memcpy(pi->prefix, p + 16, Z_IPV6_ALEN);
}

static void parse_rdnss(const uint8_t *p, size_t olen, struct z_nd_opts *o)
{
    if (o->nrdnss == 0) {
        o->rdnss_lifetime = z_get_be32(p + 4);
    }
    for (size_t i = 8; i + Z_IPV6_ALEN <= olen && o->nrdnss < Z_ND_MAX_RDNSS; i += Z_IPV6_ALEN) {
        memcpy(o->rdnss[o->nrdnss++], p + i, Z_IPV6_ALEN);
    }
}

int z_nd_opts_parse(const uint8_t *buf, size_t len, struct z_nd_opts *o)
{
    memset(o, 0, sizeof(*o));
    size_t i = 0;
    while (i < len) {
        if (len - i < 2) {
            return -EBADMSG;
        }
        size_t olen = (size_t)buf[i + 1] * 8;
        if (olen == 0 || olen > len - i) {
            return -EBADMSG;
        }
        const uint8_t *p = buf + i;
        switch (p[0]) {
        case Z_ND_OPT_SLLA:
            if (!o->has_slla) { /* every option is >= 8 bytes: 6 fit */
                o->has_slla = true;
                memcpy(o->slla, p + 2, Z_ETH_ALEN);
            }
            break;
        case Z_ND_OPT_TLLA:
            if (!o->has_tlla) {
                o->has_tlla = true;
                memcpy(o->tlla, p + 2, Z_ETH_ALEN);
            }
            break;
        case Z_ND_OPT_PREFIX:
            if (olen == OPT_PREFIX_LEN) {
                parse_prefix(p, o);
            }
            break;
        case Z_ND_OPT_MTU:
            if (olen == OPT_MTU_LEN && !o->has_mtu) {
                o->has_mtu = true;
                o->mtu = z_get_be32(p + 4);
            }
            break;
        case Z_ND_OPT_RDNSS:
            /* 8 bytes of header and whole addresses: an odd length >= 3. */
            if (olen >= 24 && (olen / 8) % 2 == 1) {
                parse_rdnss(p, olen, o);
            }
            break;
        case Z_ND_OPT_REDIRECTED:
            o->has_redirected = true;
            break;
        default:
            break; /* unknown: skipped (RFC 4861 4.6) */
        }
        i += olen;
    }
    return 0;
}

static size_t opts_len(const struct z_nd_opts *o)
{
    size_t n = 0;
    n += o->has_slla ? OPT_LLA_LEN : 0;
    n += o->has_tlla ? OPT_LLA_LEN : 0;
    n += o->has_mtu ? OPT_MTU_LEN : 0;
    n += (size_t)(o->nprefix > Z_ND_MAX_PREFIXES ? Z_ND_MAX_PREFIXES : o->nprefix) * OPT_PREFIX_LEN;
    size_t nr = o->nrdnss > Z_ND_MAX_RDNSS ? Z_ND_MAX_RDNSS : o->nrdnss;
    n += nr > 0 ? 8 + nr * Z_IPV6_ALEN : 0;
    return n;
}

static uint8_t *put_lla(uint8_t *p, uint8_t type, const uint8_t mac[Z_ETH_ALEN])
{
    p[0] = type;
    p[1] = 1;
    memcpy(p + 2, mac, Z_ETH_ALEN);
    return p + OPT_LLA_LEN;
}

int z_nd_opts_emit(uint8_t *buf, size_t cap, const struct z_nd_opts *o)
{
    size_t n = opts_len(o);
    if (cap < n) {
        return -ENOSPC;
    }
    uint8_t *p = buf;
    if (o->has_slla) {
        p = put_lla(p, Z_ND_OPT_SLLA, o->slla);
    }
    if (o->has_tlla) {
        p = put_lla(p, Z_ND_OPT_TLLA, o->tlla);
    }
    if (o->has_mtu) {
        p[0] = Z_ND_OPT_MTU;
        p[1] = 1;
        z_put_be16(p + 2, 0);
        z_put_be32(p + 4, o->mtu);
        p += OPT_MTU_LEN;
    }
    for (size_t i = 0; i < o->nprefix && i < Z_ND_MAX_PREFIXES; i++) {
        const struct z_nd_prefix *pi = &o->prefix[i];
        p[0] = Z_ND_OPT_PREFIX;
        p[1] = OPT_PREFIX_LEN / 8;
        p[2] = pi->len;
        p[3] = pi->flags & (Z_ND_PREFIX_ONLINK | Z_ND_PREFIX_AUTO);
        z_put_be32(p + 4, pi->valid);
        z_put_be32(p + 8, pi->preferred);
        z_put_be32(p + 12, 0);
        memcpy(p + 16, pi->prefix, Z_IPV6_ALEN);
        p += OPT_PREFIX_LEN;
    }
    size_t nr = o->nrdnss > Z_ND_MAX_RDNSS ? Z_ND_MAX_RDNSS : o->nrdnss;
    if (nr > 0) {
        p[0] = Z_ND_OPT_RDNSS;
        p[1] = (uint8_t)(1 + 2 * nr);
        z_put_be16(p + 2, 0);
        z_put_be32(p + 4, o->rdnss_lifetime);
        p += 8;
        for (size_t i = 0; i < nr; i++) {
            memcpy(p, o->rdnss[i], Z_IPV6_ALEN);
            p += Z_IPV6_ALEN;
        }
    }
    return (int)n;
}

/* ---- ND messages ----------------------------------------------------------------------- */

#define RS_LEN       8
#define RA_LEN       16
#define NS_LEN       24
#define NA_LEN       24
#define REDIRECT_LEN 40

#define RA_MANAGED   0x80
#define RA_OTHER     0x40
#define NA_ROUTER    0x80
#define NA_SOLICITED 0x40
#define NA_OVERRIDE  0x20

/* The checks every ND message shares: type, code 0, fixed part, options. */
static int nd_common(const uint8_t *buf, size_t len, uint8_t type, size_t fixed,
                     struct z_nd_opts *o)
{
    if (len < fixed || len > ICMP6_MAX_LEN || buf[0] != type || buf[1] != 0) {
        return -EBADMSG;
    }
    return z_nd_opts_parse(buf + fixed, len - fixed, o);
}

int z_nd_rs_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_nd_rs *m)
{
    (void)dst;
    if (nd_common(buf, len, Z_ICMP6_ND_RS, RS_LEN, &m->opts) < 0) {
        return -EBADMSG;
    }
    if (z_ipv6_is_unspecified(src) && m->opts.has_slla) {
        return -EBADMSG;
    }
    return (int)len;
}

int z_nd_ra_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_nd_ra *m)
{
    (void)dst;
    if (!z_ipv6_is_link_local(src) || nd_common(buf, len, Z_ICMP6_ND_RA, RA_LEN, &m->opts) < 0) {
        return -EBADMSG;
    }
    m->cur_hop_limit = buf[4];
    m->managed = (buf[5] & RA_MANAGED) != 0;
    m->other = (buf[5] & RA_OTHER) != 0;
    m->router_lifetime = z_get_be16(buf + 6);
    m->reachable_time = z_get_be32(buf + 8);
    m->retrans_timer = z_get_be32(buf + 12);
    return (int)len;
}

int z_nd_ns_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_nd_ns *m)
{
    if (nd_common(buf, len, Z_ICMP6_ND_NS, NS_LEN, &m->opts) < 0) {
        return -EBADMSG;
    }
    memcpy(m->target, buf + 8, Z_IPV6_ALEN);
    if (z_ipv6_is_multicast(m->target)) {
        return -EBADMSG;
    }
    /* Duplicate address detection: to the solicited-node group, and no
     * link-layer address to cache for a sender that has no address. */
    if (z_ipv6_is_unspecified(src) && (!z_ipv6_is_solicited_node(dst) || m->opts.has_slla)) {
        return -EBADMSG;
    }
    return (int)len;
}

int z_nd_na_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                  const uint8_t dst[Z_IPV6_ALEN], struct z_nd_na *m)
{
    (void)src;
    if (nd_common(buf, len, Z_ICMP6_ND_NA, NA_LEN, &m->opts) < 0) {
        return -EBADMSG;
    }
    m->router = (buf[4] & NA_ROUTER) != 0;
    m->solicited = (buf[4] & NA_SOLICITED) != 0;
    m->override = (buf[4] & NA_OVERRIDE) != 0;
    memcpy(m->target, buf + 8, Z_IPV6_ALEN);
    if (z_ipv6_is_multicast(m->target) || (m->solicited && z_ipv6_is_multicast(dst))) {
        return -EBADMSG;
    }
    return (int)len;
}

int z_nd_redirect_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                        const uint8_t dst[Z_IPV6_ALEN], struct z_nd_redirect *m)
{
    (void)dst;
    if (!z_ipv6_is_link_local(src) ||
        nd_common(buf, len, Z_ICMP6_ND_REDIRECT, REDIRECT_LEN, &m->opts) < 0) {
        return -EBADMSG;
    }
    memcpy(m->target, buf + 8, Z_IPV6_ALEN);
    memcpy(m->dest, buf + 24, Z_IPV6_ALEN);
    if (z_ipv6_is_multicast(m->dest)) {
        return -EBADMSG;
    }
    if (!z_ipv6_is_link_local(m->target) && memcmp(m->target, m->dest, Z_IPV6_ALEN) != 0) {
        return -EBADMSG;
    }
    return (int)len;
}

/* Write the 4 bytes after the ICMPv6 type/code/checksum and the fixed part
 * `body` of `fixed` bytes total, then the options, then the checksum. */
static int nd_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                   const uint8_t dst[Z_IPV6_ALEN], uint8_t type, const uint8_t *fixed, size_t flen,
                   const struct z_nd_opts *o)
{
    size_t total = flen + opts_len(o);
    if (cap < total) {
        return -ENOSPC;
    }
    memcpy(buf, fixed, flen);
    buf[0] = type;
    buf[1] = 0;
    (void)z_nd_opts_emit(buf + flen, cap - flen, o);
    set_csum(buf, total, src, dst);
    return (int)total;
}

int z_nd_rs_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_nd_rs *m)
{
    uint8_t f[RS_LEN] = {0};
    return nd_emit(buf, cap, src, dst, Z_ICMP6_ND_RS, f, sizeof(f), &m->opts);
}

int z_nd_ra_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_nd_ra *m)
{
    uint8_t f[RA_LEN] = {0};
    f[4] = m->cur_hop_limit;
    f[5] = (uint8_t)((m->managed ? RA_MANAGED : 0) | (m->other ? RA_OTHER : 0));
    z_put_be16(f + 6, m->router_lifetime);
    z_put_be32(f + 8, m->reachable_time);
    z_put_be32(f + 12, m->retrans_timer);
    return nd_emit(buf, cap, src, dst, Z_ICMP6_ND_RA, f, sizeof(f), &m->opts);
}

int z_nd_ns_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_nd_ns *m)
{
    uint8_t f[NS_LEN] = {0};
    memcpy(f + 8, m->target, Z_IPV6_ALEN);
    return nd_emit(buf, cap, src, dst, Z_ICMP6_ND_NS, f, sizeof(f), &m->opts);
}

int z_nd_na_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], const struct z_nd_na *m)
{
    uint8_t f[NA_LEN] = {0};
    f[4] = (uint8_t)((m->router ? NA_ROUTER : 0) | (m->solicited ? NA_SOLICITED : 0) |
                     (m->override ? NA_OVERRIDE : 0));
    memcpy(f + 8, m->target, Z_IPV6_ALEN);
    return nd_emit(buf, cap, src, dst, Z_ICMP6_ND_NA, f, sizeof(f), &m->opts);
}

/* ---- MLD ------------------------------------------------------------------------------------ */

#define MLD1_LEN       24
#define MLD2_QUERY_LEN 28

/* RFC 3810 5.1.3: a 16-bit code below 32768 is the delay in milliseconds,
 * otherwise a float with a 3-bit exponent and 12-bit mantissa. */
static uint32_t mrc_decode(uint16_t c)
{
    if (c < 0x8000) {
        return c;
    }
    return (uint32_t)((c & 0x0fff) | 0x1000) << (((c >> 12) & 7) + 3);
}

static uint16_t mrc_encode(uint32_t ms)
{
    if (ms < 0x8000) {
        return (uint16_t)ms;
    }
    for (unsigned exp = 0; exp < 8; exp++) {
        uint32_t mant = ms >> (exp + 3);
        if (mant <= 0x1fff) {
            return (uint16_t)(0x8000 | (exp << 12) | (mant & 0x0fff));
        }
    }
    return 0xffff; /* the largest the format holds */
}

/* RFC 3810 5.1.9: the same with 8 bits, a 3-bit exponent and 4-bit mantissa. */
static uint32_t qqic_decode(uint8_t c)
{
    if (c < 0x80) {
        return c;
    }
    return (uint32_t)((c & 0x0f) | 0x10) << (((c >> 4) & 7) + 3);
}

static uint8_t qqic_encode(uint32_t s)
{
    if (s < 0x80) {
        return (uint8_t)s;
    }
    for (unsigned exp = 0; exp < 8; exp++) {
        uint32_t mant = s >> (exp + 3);
        if (mant <= 0x1f) {
            return (uint8_t)(0x80 | (exp << 4) | (mant & 0x0f));
        }
    }
    return 0xff;
}

int z_mld_query_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                      const uint8_t dst[Z_IPV6_ALEN], struct z_mld_query *q)
{
    (void)dst;
    if (len < MLD1_LEN || buf[0] != Z_ICMP6_MLD_QUERY || !z_ipv6_is_link_local(src)) {
        return -EBADMSG;
    }
    memset(q, 0, sizeof(*q));
    memcpy(q->group, buf + 8, Z_IPV6_ALEN);
    if (!z_ipv6_is_unspecified(q->group) && !z_ipv6_is_multicast(q->group)) {
        return -EBADMSG;
    }
    if (len == MLD1_LEN) {
        q->version = 1;
        q->max_resp_ms = z_get_be16(buf + 4);
        return MLD1_LEN;
    }
    if (len < MLD2_QUERY_LEN) {
        return -EBADMSG;
    }
    q->nsources = z_get_be16(buf + 26);
    size_t used = MLD2_QUERY_LEN + (size_t)q->nsources * Z_IPV6_ALEN;
    if (used > len) {
        return -EBADMSG;
    }
    q->version = 2;
    q->max_resp_ms = mrc_decode(z_get_be16(buf + 4));
    q->suppress = (buf[24] & 0x08) != 0;
    q->qrv = buf[24] & 0x07;
    q->qqi_s = qqic_decode(buf[25]);
    return (int)used;
}

int z_mld_query_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                     const uint8_t dst[Z_IPV6_ALEN], const struct z_mld_query *q)
{
    if (cap < MLD2_QUERY_LEN) {
        return -ENOSPC;
    }
    memset(buf, 0, MLD2_QUERY_LEN);
    buf[0] = Z_ICMP6_MLD_QUERY;
    z_put_be16(buf + 4, mrc_encode(q->max_resp_ms));
    memcpy(buf + 8, q->group, Z_IPV6_ALEN);
    buf[24] = (uint8_t)((q->suppress ? 0x08 : 0) | (q->qrv & 0x07));
    buf[25] = qqic_encode(q->qqi_s);
    set_csum(buf, MLD2_QUERY_LEN, src, dst);
    return MLD2_QUERY_LEN;
}

int z_mld2_report_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                       const uint8_t dst[Z_IPV6_ALEN], const struct z_mld2_record *recs, size_t n)
{
    if (n > (ICMP6_MAX_LEN - Z_ICMP6_HLEN) / Z_MLD2_REC_LEN) {
        return -EMSGSIZE;
    }
    size_t total = Z_ICMP6_HLEN + n * Z_MLD2_REC_LEN;
    if (cap < total) {
        return -ENOSPC;
    }
    buf[0] = Z_ICMP6_MLD2_REPORT;
    buf[1] = 0;
    z_put_be16(buf + 4, 0);
    z_put_be16(buf + 6, (uint16_t)n);
    uint8_t *p = buf + Z_ICMP6_HLEN;
    for (size_t i = 0; i < n; i++) {
        p[0] = recs[i].type;
        p[1] = 0;             /* no auxiliary data */
        z_put_be16(p + 2, 0); /* no sources */
        memcpy(p + 4, recs[i].addr, Z_IPV6_ALEN);
        p += Z_MLD2_REC_LEN;
    }
    set_csum(buf, total, src, dst);
    return (int)total;
}
