/* IPv6 header, extension header walk and address arithmetic (RFC 8200, RFC
 * 4291), plus UDP and TCP with the IPv6 pseudo-header. The walk is where
 * hostile packets are decided: every length is checked against the packet
 * before it is used, and the number of headers is bounded. */
#include <errno.h>
#include <string.h>

#include "wire/ipv6.h"

/* ---- addresses ---------------------------------------------------------------------- */

const uint8_t z_ipv6_any[Z_IPV6_ALEN] = {0};
const uint8_t z_ipv6_loopback[Z_IPV6_ALEN] = {[15] = 1};
const uint8_t z_ipv6_all_nodes[Z_IPV6_ALEN] = {0xff, 0x02, [15] = 0x01};
const uint8_t z_ipv6_all_routers[Z_IPV6_ALEN] = {0xff, 0x02, [15] = 0x02};
const uint8_t z_ipv6_all_mldv2_routers[Z_IPV6_ALEN] = {0xff, 0x02, [15] = 0x16};

bool z_ipv6_is_unspecified(const uint8_t a[Z_IPV6_ALEN])
{
    return memcmp(a, z_ipv6_any, Z_IPV6_ALEN) == 0;
}

bool z_ipv6_is_loopback(const uint8_t a[Z_IPV6_ALEN])
{
    return memcmp(a, z_ipv6_loopback, Z_IPV6_ALEN) == 0;
}

bool z_ipv6_is_link_local(const uint8_t a[Z_IPV6_ALEN])
{
    return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

bool z_ipv6_is_multicast(const uint8_t a[Z_IPV6_ALEN])
{
    return a[0] == 0xff;
}

bool z_ipv6_is_v4mapped(const uint8_t a[Z_IPV6_ALEN])
{
    static const uint8_t prefix[12] = {[10] = 0xff, [11] = 0xff};
    return memcmp(a, prefix, sizeof(prefix)) == 0;
}

bool z_ipv6_is_unique_local(const uint8_t a[Z_IPV6_ALEN])
{
    return (a[0] & 0xfe) == 0xfc;
}

bool z_ipv6_is_solicited_node(const uint8_t a[Z_IPV6_ALEN])
{
    static const uint8_t prefix[13] = {0xff, 0x02, [11] = 0x01, [12] = 0xff};
    return memcmp(a, prefix, sizeof(prefix)) == 0;
}

bool z_ipv6_is_global(const uint8_t a[Z_IPV6_ALEN])
{
    return (a[0] & 0xe0) == 0x20;
}

uint8_t z_ipv6_scope(const uint8_t a[Z_IPV6_ALEN])
{
    if (z_ipv6_is_multicast(a)) {
        return a[1] & 0x0f;
    }
    if (z_ipv6_is_link_local(a) || z_ipv6_is_loopback(a)) {
        return Z_IPV6_SCOPE_LINK;
    }
    return Z_IPV6_SCOPE_GLOBAL;
}

void z_ipv6_make_v4mapped(uint32_t v4, uint8_t out[Z_IPV6_ALEN])
{
    memset(out, 0, 10);
    out[10] = 0xff;
    out[11] = 0xff;
    z_put_be32(out + 12, v4);
}

uint32_t z_ipv6_get_v4mapped(const uint8_t a[Z_IPV6_ALEN])
{
    return z_get_be32(a + 12);
}

void z_ipv6_solicited_node(const uint8_t a[Z_IPV6_ALEN], uint8_t out[Z_IPV6_ALEN])
{
    /* Copy the low 24 bits first: out may be a. */
    uint8_t low[3] = {a[13], a[14], a[15]};
    memset(out, 0, Z_IPV6_ALEN);
    out[0] = 0xff;
    out[1] = 0x02;
    out[11] = 0x01;
    out[12] = 0xff;
    memcpy(out + 13, low, sizeof(low));
}

void z_ipv6_mcast_mac(const uint8_t a[Z_IPV6_ALEN], uint8_t mac[Z_ETH_ALEN])
{
    mac[0] = 0x33;
    mac[1] = 0x33;
    memcpy(mac + 2, a + 12, 4);
}

void z_ipv6_eui64(const uint8_t mac[Z_ETH_ALEN], uint8_t iid[8])
{
    iid[0] = mac[0] ^ 0x02; /* the universal/local bit, inverted */
    iid[1] = mac[1];
    iid[2] = mac[2];
    iid[3] = 0xff;
    iid[4] = 0xfe;
    iid[5] = mac[3];
    iid[6] = mac[4];
    iid[7] = mac[5];
}

unsigned z_ipv6_prefix_match(const uint8_t a[Z_IPV6_ALEN], const uint8_t b[Z_IPV6_ALEN])
{
    unsigned bits = 0;
    for (size_t i = 0; i < Z_IPV6_ALEN; i++) {
        uint8_t x = a[i] ^ b[i];
        if (x == 0) {
            bits += 8;
            continue;
        }
        while ((x & 0x80) == 0) {
            bits++;
            x = (uint8_t)(x << 1);
        }
        break;
    }
    return bits;
}

bool z_ipv6_prefix_eq(const uint8_t a[Z_IPV6_ALEN], const uint8_t b[Z_IPV6_ALEN], unsigned plen)
{
    return z_ipv6_prefix_match(a, b) >= (plen > 128 ? 128 : plen);
}

/* ---- header ------------------------------------------------------------------------------ */

int z_ipv6_parse(const uint8_t *buf, size_t len, struct z_ipv6_hdr *h)
{
    if (len < Z_IPV6_HLEN || (buf[0] >> 4) != 6) {
        return -EBADMSG;
    }
    uint16_t plen = z_get_be16(buf + 4);
    if (plen > len - Z_IPV6_HLEN) {
        return -EBADMSG;
    }
    uint32_t w = z_get_be32(buf);
    h->tclass = (uint8_t)(w >> 20);
    h->flow = w & 0xfffffu;
    h->plen = plen;
    h->next = buf[6];
    h->hop_limit = buf[7];
    memcpy(h->src, buf + 8, Z_IPV6_ALEN);
    memcpy(h->dst, buf + 24, Z_IPV6_ALEN);
    return Z_IPV6_HLEN;
}

int z_ipv6_emit(uint8_t *buf, size_t cap, const struct z_ipv6_hdr *h)
{
    if (cap < Z_IPV6_HLEN) {
        return -ENOSPC;
    }
    z_put_be32(buf, (6u << 28) | ((uint32_t)h->tclass << 20) | (h->flow & 0xfffffu));
    z_put_be16(buf + 4, h->plen);
    buf[6] = h->next;
    buf[7] = h->hop_limit;
    memmove(buf + 8, h->src, Z_IPV6_ALEN);
    memmove(buf + 24, h->dst, Z_IPV6_ALEN);
    return Z_IPV6_HLEN;
}

/* ---- extension headers ------------------------------------------------------------------ */

#define OPT_PAD1         0
#define OPT_PADN         1
#define OPT_ROUTER_ALERT 5

static int drop(struct z_ipv6_walk *w)
{
    w->verdict = Z_IPV6_DROP;
    return -EBADMSG;
}

static int param_problem(struct z_ipv6_walk *w, uint8_t code, size_t pointer, bool even_multicast)
{
    w->verdict = Z_IPV6_PARAM_PROB;
    w->icmp_code = code;
    w->pointer = (uint32_t)pointer;
    w->even_multicast = even_multicast;
    return -EBADMSG;
}

/* The options of a hop-by-hop or destination options header at
 * pkt[start, start + hlen); hlen is known to fit in the packet. */
static int walk_options(const uint8_t *pkt, size_t start, size_t hlen, bool hbh,
                        struct z_ipv6_walk *w)
{
    size_t i = start + 2;
    size_t end = start + hlen;
    while (i < end) {
        uint8_t type = pkt[i];
        if (type == OPT_PAD1) {
            i++;
            continue;
        }
        if (end - i < 2 || pkt[i + 1] > end - i - 2) {
            return drop(w); /* runs past its header */
        }
        uint8_t olen = pkt[i + 1];
        if (type == OPT_PADN) {
            /* RFC 8200 says send zeros, not that receivers check them. */
        } else if (hbh && type == OPT_ROUTER_ALERT && olen == 2) {
            w->router_alert = true;
            w->router_alert_value = z_get_be16(pkt + i + 2);
        } else {
            /* The two high bits say what to do with an unknown option. */
            switch (type >> 6) {
            case 0:
                break;
            case 1:
                return drop(w);
            case 2:
                return param_problem(w, Z_ICMP6_PARAM_OPTION, i, true);
            default:
                return param_problem(w, Z_ICMP6_PARAM_OPTION, i, false);
            }
        }
        i += 2 + (size_t)olen;
    }
    return 0;
}

/* Length of the extension header at pkt[off] if it fits in len bytes, else
 * 0. All but the fragment header give their length in 8-byte units beyond
 * the first 8. */
static size_t ext_len(const uint8_t *pkt, size_t len, size_t off, uint8_t type)
{
    if (len - off < 8) {
        return 0;
    }
    size_t hlen = type == Z_IPPROTO_FRAGMENT ? 8 : ((size_t)pkt[off + 1] + 1) * 8;
    return hlen <= len - off ? hlen : 0;
}

static bool is_ext(uint8_t type)
{
    return type == Z_IPPROTO_HOPOPTS || type == Z_IPPROTO_DSTOPTS || type == Z_IPPROTO_ROUTING ||
           type == Z_IPPROTO_FRAGMENT;
}

/* RFC 7112: a first fragment carries the whole chain of extension headers.
 * Only their lengths are checked here: their contents are walked again
 * after reassembly. */
static bool chain_complete(const uint8_t *pkt, size_t len, size_t off, uint8_t nh)
{
    for (int n = 0; is_ext(nh) && n <= Z_IPV6_MAX_EXT; n++) {
        size_t hlen = ext_len(pkt, len, off, nh);
        if (hlen == 0) {
            return false;
        }
        nh = pkt[off];
        off += hlen;
    }
    return true;
}

int z_ipv6_walk(const uint8_t *pkt, size_t len, uint8_t first, struct z_ipv6_walk *w)
{
    memset(w, 0, sizeof(*w));
    if (len < Z_IPV6_HLEN || len > Z_IPV6_HLEN + 65535) {
        return drop(w);
    }
    size_t off = Z_IPV6_HLEN;
    size_t nh_ptr = 6; /* the next header field of the IPv6 header */
    uint8_t nh = first;

    while (is_ext(nh)) {
        if (nh == Z_IPPROTO_HOPOPTS && off != Z_IPV6_HLEN) {
            return param_problem(w, Z_ICMP6_PARAM_NEXTHDR, nh_ptr, false);
        }
        if (w->nhdrs == Z_IPV6_MAX_EXT) {
            return drop(w);
        }
        size_t hlen = ext_len(pkt, len, off, nh);
        if (hlen == 0) {
            return drop(w);
        }
        w->nhdrs++;

        if (nh == Z_IPPROTO_HOPOPTS || nh == Z_IPPROTO_DSTOPTS) {
            int rc = walk_options(pkt, off, hlen, nh == Z_IPPROTO_HOPOPTS, w);
            if (rc < 0) {
                return rc;
            }
        } else if (nh == Z_IPPROTO_ROUTING) {
            /* This host is the final destination of no routing type, so
             * every type counts as unrecognized (RFC 8200 4.4, RFC 5095). */
            if (pkt[off + 3] != 0) {
                return param_problem(w, Z_ICMP6_PARAM_HEADER, off + 2, false);
            }
            if (pkt[off + 2] == 0) {
                w->rh0 = true;
            }
        } else {
            if (w->frag.present) {
                return drop(w); /* a fragment inside a fragment */
            }
            uint16_t fo = z_get_be16(pkt + off + 2);
            size_t data = len - off - Z_IPV6_FRAG_HLEN;
            w->frag.present = true;
            w->frag.more = (fo & 1) != 0;
            w->frag.offset = fo & 0xfff8;
            w->frag.id = z_get_be32(pkt + off + 4);
            w->frag.hdr_off = (uint32_t)off;
            w->frag.nh_ptr = (uint32_t)nh_ptr;
            if (w->frag.more && data % 8 != 0) {
                return param_problem(w, Z_ICMP6_PARAM_HEADER, 4, false);
            }
            /* The reassembled payload: unfragmentable headers and data. */
            if (off - Z_IPV6_HLEN + w->frag.offset + data > 65535) {
                return param_problem(w, Z_ICMP6_PARAM_HEADER, off + 2, false);
            }
            if (w->frag.offset != 0 || w->frag.more) {
                if (w->frag.offset == 0 &&
                    !chain_complete(pkt, len, off + Z_IPV6_FRAG_HLEN, pkt[off])) {
                    return param_problem(w, Z_ICMP6_PARAM_FIRST_FRAG, 0, false);
                }
                nh_ptr = off;
                nh = pkt[off];
                off += Z_IPV6_FRAG_HLEN;
                break; /* the rest waits for reassembly */
            }
            /* An atomic fragment is a whole packet (RFC 6946): go on. */
        }
        nh_ptr = off;
        nh = pkt[off];
        off += hlen;
    }
    w->verdict = Z_IPV6_PASS;
    w->proto = nh;
    w->off = (uint32_t)off;
    w->nh_ptr = (uint32_t)nh_ptr;
    return (int)off;
}

int z_ipv6_frag_emit(uint8_t *buf, size_t cap, uint8_t next, uint16_t offset, bool more,
                     uint32_t id)
{
    if (cap < Z_IPV6_FRAG_HLEN) {
        return -ENOSPC;
    }
    buf[0] = next;
    buf[1] = 0;
    z_put_be16(buf + 2, (uint16_t)((offset & 0xfff8) | (more ? 1 : 0)));
    z_put_be32(buf + 4, id);
    return Z_IPV6_FRAG_HLEN;
}

int z_ipv6_hbh_router_alert_emit(uint8_t *buf, size_t cap, uint8_t next, uint16_t value)
{
    if (cap < Z_IPV6_RA_HBH_LEN) {
        return -ENOSPC;
    }
    buf[0] = next;
    buf[1] = 0; /* 8 bytes */
    buf[2] = OPT_ROUTER_ALERT;
    buf[3] = 2;
    z_put_be16(buf + 4, value);
    buf[6] = OPT_PADN; /* PadN of two bytes fills the header */
    buf[7] = 0;
    return Z_IPV6_RA_HBH_LEN;
}

/* ---- UDP and TCP over IPv6 ------------------------------------------------------------- */

uint16_t z_ipv6_upper_csum(const uint8_t src[Z_IPV6_ALEN], const uint8_t dst[Z_IPV6_ALEN],
                           uint8_t proto, const uint8_t *buf, size_t len)
{
    return z_csum_finish(z_csum_add(z_csum_pseudo6(src, dst, (uint32_t)len, proto), buf, len));
}

int z_udp6_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], struct z_udp_hdr *h)
{
    int rc = z_udp_parse_nocsum(buf, len, h);
    if (rc < 0) {
        return rc;
    }
    if (h->checksum == 0 || z_ipv6_upper_csum(src, dst, Z_IPPROTO_UDP, buf, h->len) != 0) {
        return -EBADMSG;
    }
    return Z_UDP_HLEN;
}

int z_udp6_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                const uint8_t dst[Z_IPV6_ALEN], uint16_t sport, uint16_t dport, size_t plen)
{
    int rc = z_udp_emit_nocsum(buf, cap, sport, dport, plen);
    if (rc < 0) {
        return rc;
    }
    uint16_t csum = z_ipv6_upper_csum(src, dst, Z_IPPROTO_UDP, buf, (size_t)rc);
    z_put_be16(buf + 6, csum == 0 ? 0xffff : csum); /* zero means none */
    return rc;
}

int z_tcp6_parse(const uint8_t *buf, size_t len, const uint8_t src[Z_IPV6_ALEN],
                 const uint8_t dst[Z_IPV6_ALEN], struct z_tcp_hdr *h)
{
    int rc = z_tcp_parse_nocsum(buf, len, h);
    if (rc < 0) {
        return rc;
    }
    if (z_ipv6_upper_csum(src, dst, Z_IPPROTO_TCP, buf, len) != 0) {
        return -EBADMSG;
    }
    return rc;
}

int z_tcp6_emit(uint8_t *buf, size_t cap, const uint8_t src[Z_IPV6_ALEN],
                const uint8_t dst[Z_IPV6_ALEN], const struct z_tcp_hdr *h, size_t plen)
{
    int rc = z_tcp_emit_nocsum(buf, cap, h, plen);
    if (rc < 0) {
        return rc;
    }
    z_put_be16(buf + 16, z_ipv6_upper_csum(src, dst, Z_IPPROTO_TCP, buf, (size_t)rc + plen));
    return rc;
}
