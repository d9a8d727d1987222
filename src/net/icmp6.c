/* ICMPv6 (RFC 4443): echo replies, the error messages we send (rate
 * limited, never about errors, multicast or unspecified sources, RFC 4443
 * 2.4), Packet Too Big received (path MTU, RFC 8201), and the dispatch of
 * Neighbor Discovery (nd.c) and MLD (mld.c) messages. Errors received are
 * counted; delivering them to sockets comes with IPv6 sockets. */
#include "net/ip6.h"
#include "net/raw.h"
#include "net/tcp_pcb.h"
#include "net/udp.h"

#include <errno.h>
#include <string.h>

int z_icmp6_send_locked(struct z_stack *s, int ifindex, const uint8_t src[Z_IPV6_ALEN],
                        const uint8_t dst[Z_IPV6_ALEN], uint8_t hop_limit,
                        const struct z_icmp6_hdr *h, const uint8_t *body, size_t blen)
{
    /* The checksum covers the source: choose it now, as output would. */
    struct z_netif *nif;
    uint8_t nh[Z_IPV6_ALEN];
    int rc = z_ipv6_route_locked(s, dst, ifindex, &nif, nh);
    if (rc < 0) {
        s->stats.ipv6.no_route++;
        return rc;
    }
    struct z_ipv6_tx tx = {.proto = Z_IPPROTO_ICMPV6, .hop_limit = hop_limit, .ifindex = ifindex};
    memcpy(tx.dst, dst, Z_IPV6_ALEN);
    memcpy(tx.src, src, Z_IPV6_ALEN);
    if (z_ipv6_is_unspecified(tx.src) && z_ipv6_select_source(nif, dst, tx.src) < 0) {
        s->stats.ipv6.no_route++;
        return -EADDRNOTAVAIL;
    }
    size_t n = Z_ICMP6_HLEN + blen;
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, n);
    if (p == NULL) {
        s->stats.ipv6.no_buffer++;
        return -ENOBUFS;
    }
    uint8_t *at = z_pbuf_put(p, n);
    if (z_icmp6_emit(at, n, tx.src, tx.dst, h, body, blen) < 0) {
        z_pbuf_free(p);
        return -EMSGSIZE;
    }
    s->stats.icmp6.tx++;
    return z_ipv6_output_locked(s, &tx, p);
}

/* Is the packet quoted in `orig` itself an ICMPv6 error or a redirect? The
 * header chain is followed by lengths only: the packet may be the one whose
 * options were refused. */
static bool about_error(const uint8_t *orig, size_t len)
{
    uint8_t nh = orig[6];
    size_t off = Z_IPV6_HLEN;
    for (int i = 0; i < Z_IPV6_MAX_EXT && off + 8 <= len; i++) {
        if (nh == Z_IPPROTO_HOPOPTS || nh == Z_IPPROTO_ROUTING || nh == Z_IPPROTO_DSTOPTS) {
            nh = orig[off];
            off += 8 + 8 * (size_t)orig[off + 1];
        } else if (nh == Z_IPPROTO_FRAGMENT) {
            if ((z_get_be16(orig + off + 2) & 0xfff8) != 0) {
                return false; /* a later fragment: no ICMPv6 header in it */
            }
            nh = orig[off];
            off += 8;
        } else {
            break;
        }
    }
    if (nh != Z_IPPROTO_ICMPV6 || off >= len) {
        return false;
    }
    return z_icmp6_is_error(orig[off]) || orig[off] == Z_ICMP6_ND_REDIRECT;
}

void z_icmp6_send_error_locked(struct z_stack *s, struct z_netif *nif, uint8_t type, uint8_t code,
                               uint32_t extra, const uint8_t *orig, size_t len, bool even_multicast)
{
    if (len < Z_IPV6_HLEN || s->ip6 == NULL) {
        return;
    }
    const uint8_t *osrc = orig + 8, *odst = orig + 24;
    if (z_ipv6_is_unspecified(osrc) || z_ipv6_is_multicast(osrc)) {
        return;
    }
    if (z_ipv6_is_multicast(odst) && !even_multicast && type != Z_ICMP6_PACKET_TOO_BIG) {
        return;
    }
    if (about_error(orig, len)) {
        return;
    }
    if (z_silenced(s)) {
        return;
    }
    if (s->ip6->icmp_tokens <= 0) {
        s->stats.icmp6.rate_limited++;
        return;
    }
    s->ip6->icmp_tokens--;
    uint8_t src[Z_IPV6_ALEN] = {0};
    if (!z_ipv6_is_multicast(odst) && z_ipv6_is_local_locked(s, odst)) {
        memcpy(src, odst, Z_IPV6_ALEN);
    }
    uint8_t dst[Z_IPV6_ALEN];
    memcpy(dst, osrc, Z_IPV6_ALEN);
    struct z_icmp6_hdr h = {.type = type, .code = code, .rest = extra};
    size_t n = len < Z_ICMP6_ERR_MAX_QUOTE ? len : Z_ICMP6_ERR_MAX_QUOTE;
    s->stats.icmp6.errors_tx++;
    z_icmp6_send_locked(s, nif->index, src, dst, 0, &h, orig, n);
}

/* The errno an ICMPv6 error means to a socket (as Linux's
 * icmpv6_err_convert()). */
static int error_to_errno(uint8_t type, uint8_t code)
{
    if (type == Z_ICMP6_DEST_UNREACH) {
        switch (code) {
        case Z_ICMP6_UNREACH_NOROUTE:
            return ENETUNREACH;
        case Z_ICMP6_UNREACH_PORT:
            return ECONNREFUSED;
        case Z_ICMP6_UNREACH_BEYOND:
        case Z_ICMP6_UNREACH_ADDR:
            return EHOSTUNREACH;
        default:
            return EACCES; /* administratively prohibited, policy, reject route */
        }
    }
    return type == Z_ICMP6_PARAM_PROBLEM ? EPROTO : EHOSTUNREACH;
}

static void packet_too_big(struct z_stack *s, const struct z_icmp6_hdr *h, const uint8_t *orig,
                           size_t olen)
{
    /* The quoted packet must be one we sent: its source is ours. */
    if (olen < Z_IPV6_HLEN || (orig[0] >> 4) != 6 || !z_ipv6_is_local_locked(s, orig + 8)) {
        s->stats.icmp6.drop_malformed++;
        return;
    }
    z_ip6_pmtu_update(s, orig + 24, h->rest);
    z_tcp6_pmtu_locked(s, orig + 24);
}

void z_icmp6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, struct z_pbuf *p,
                          size_t off, bool tentative_dst, bool frag, const uint8_t *eth_src)
{
    struct z_stack *s = nif->stack;
    const uint8_t *msg = p->data + off;
    size_t len = p->len - off;
    struct z_icmp6_hdr h;
    if (z_icmp6_parse(msg, len, ip->src, ip->dst, &h) < 0) {
        s->stats.icmp6.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    s->stats.icmp6.rx++;
    if (tentative_dst && h.type != Z_ICMP6_ND_NS && h.type != Z_ICMP6_ND_NA) {
        /* RFC 4862 5.4: a tentative address takes nothing but DAD. */
        s->stats.ipv6.drop_not_ours++;
        z_pbuf_free(p);
        return;
    }
    switch (h.type) {
    case Z_ICMP6_ECHO_REQUEST:
        s->stats.icmp6.echo_rx++;
        if (!s->echo_reply6) {
            z_echo_unanswered(s); /* SO_IPV6_ECHO_REPLY 0: a raw socket may answer */
        } else if (!z_ipv6_is_unspecified(ip->src) && !z_silenced(s)) {
            /* A multicast ping is answered from a unicast address (Linux
             * does the same by default). */
            uint8_t src[Z_IPV6_ALEN] = {0};
            if (!z_ipv6_is_multicast(ip->dst)) {
                memcpy(src, ip->dst, Z_IPV6_ALEN);
            }
            struct z_icmp6_hdr reply = {.type = Z_ICMP6_ECHO_REPLY, .rest = h.rest};
            z_icmp6_send_locked(s, nif->index, src, ip->src, 0, &reply, msg + Z_ICMP6_HLEN,
                                len - Z_ICMP6_HLEN);
        }
        break;
    case Z_ICMP6_ECHO_REPLY:
        s->stats.icmp6.echo_reply_rx++;
        break;
    case Z_ICMP6_PACKET_TOO_BIG:
        s->stats.icmp6.errors_rx++;
        packet_too_big(s, &h, msg + Z_ICMP6_HLEN, len - Z_ICMP6_HLEN);
        break;
    case Z_ICMP6_DEST_UNREACH:
    case Z_ICMP6_TIME_EXCEEDED:
    case Z_ICMP6_PARAM_PROBLEM: {
        s->stats.icmp6.errors_rx++;
        const uint8_t *orig = msg + Z_ICMP6_HLEN;
        size_t olen = len - Z_ICMP6_HLEN;
        /* Only about a packet we sent (its source is ours) reaches a socket. */
        if (olen < Z_IPV6_HLEN || (orig[0] >> 4) != 6 || !z_ipv6_is_local_locked(s, orig + 8)) {
            s->stats.icmp6.drop_malformed++;
            break;
        }
        z_udp6_icmp_error_locked(s, error_to_errno(h.type, h.code), orig, olen);
        break;
    }
    case Z_ICMP6_ND_RS:
    case Z_ICMP6_ND_RA:
    case Z_ICMP6_ND_NS:
    case Z_ICMP6_ND_NA:
    case Z_ICMP6_ND_REDIRECT:
        if (frag || !(nif->flags & ZSOCK_IF_ETHERNET)) {
            /* RFC 6980: fragmented ND messages are dropped. */
            s->stats.icmp6.drop_malformed++;
            break;
        }
        z_nd_input_locked(nif, ip, msg, len, eth_src);
        break;
    case Z_ICMP6_MLD_QUERY:
        if (nif->flags & ZSOCK_IF_ETHERNET) {
            z_mld_query_input_locked(nif, ip, msg, len);
        }
        break;
    default:
        break; /* reports of other listeners, unknown informational messages */
    }
    z_pbuf_free(p);
}
