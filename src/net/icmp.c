/* ICMPv4: echo replies, destination-unreachable errors we send (rate
 * limited, never about errors, broadcasts or later fragments, RFC 1122
 * 3.2.2), and errors we receive, handed to the socket that caused them. */
#include "net/net.h"
#include "net/raw.h"

#include <errno.h>
#include <string.h>

#define ICMP_ERROR_PAYLOAD_MAX 548 /* keeps an error within 576 bytes */

static void send_icmp(struct z_stack *s, uint32_t src, uint32_t dst, const struct z_icmp_hdr *h,
                      const uint8_t *payload, size_t plen)
{
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, Z_ICMP_HLEN + plen);
    if (p == NULL) {
        s->stats.ipv4.no_buffer++;
        return;
    }
    uint8_t *at = z_pbuf_put(p, Z_ICMP_HLEN + plen);
    z_icmp_emit(at, Z_ICMP_HLEN + plen, h, payload, plen);
    struct z_ipv4_tx tx = {
        .src = src,
        .dst = dst,
        .proto = Z_IPPROTO_ICMP,
        .ttl = CONFIG_NET_IPV4_TTL,
    };
    s->stats.icmp.tx++;
    z_ipv4_output_locked(s, &tx, p);
}

void z_icmp_send_error_locked(struct z_stack *s, const struct z_netif *nif, uint8_t type,
                              uint8_t code, uint32_t extra, const uint8_t *orig, size_t orig_len)
{
    struct z_ipv4_hdr ip;
    if (z_ipv4_parse(orig, orig_len, &ip) < 0) {
        return;
    }
    /* Never about a broadcast or multicast, a non-initial fragment, an
     * unspecified source, or another ICMP error. */
    if (z_ipv4_is_broadcast(nif, ip.dst) || (ip.dst >> 28) == 0xe || ip.src == 0 ||
        (ip.frag & Z_IPV4_FRAG_MASK) != 0) {
        return;
    }
    if (ip.proto == Z_IPPROTO_ICMP) {
        size_t t = ip.ihl;
        if (orig_len <= t || !(orig[t] == Z_ICMP_ECHO_REQUEST || orig[t] == Z_ICMP_ECHO_REPLY)) {
            return;
        }
    }
    if (s->icmp_tokens <= 0 || z_silenced(s)) {
        return;
    }
    s->icmp_tokens--;
    struct z_icmp_hdr h = {.type = type, .code = code, .rest = extra};
    size_t n = orig_len < ICMP_ERROR_PAYLOAD_MAX ? orig_len : ICMP_ERROR_PAYLOAD_MAX;
    s->stats.icmp.unreach_tx += type == Z_ICMP_DEST_UNREACH;
    send_icmp(s, z_ipv4_is_local_locked(s, ip.dst) ? ip.dst : 0, ip.src, &h, orig, n);
}

static int error_to_errno(uint8_t type, uint8_t code)
{
    if (type == Z_ICMP_TIME_EXCEEDED) {
        return EHOSTUNREACH;
    }
    if (type == Z_ICMP_PARAM_PROBLEM) {
        return EPROTO;
    }
    switch (code) {
    case Z_ICMP_UNREACH_NET:
        return ENETUNREACH;
    case Z_ICMP_UNREACH_PROTOCOL:
        return ENOPROTOOPT;
    case Z_ICMP_UNREACH_PORT:
        return ECONNREFUSED;
    case Z_ICMP_UNREACH_NEEDFRAG:
        return EMSGSIZE;
    default:
        return EHOSTUNREACH;
    }
}

void z_icmp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    const uint8_t *msg = p->data + ip->ihl;
    size_t len = p->len - ip->ihl;
    struct z_icmp_hdr h;
    if (z_icmp_parse(msg, len, &h) < 0) {
        s->stats.icmp.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    s->stats.icmp.rx++;
    switch (h.type) {
    case Z_ICMP_ECHO_REQUEST:
        s->stats.icmp.echo_rx++;
        /* Broadcast pings are ignored, as Linux does by default. */
        if (!s->echo_reply) {
            z_echo_unanswered(s); /* SO_IP_ECHO_REPLY 0: a raw socket may answer */
        } else if (!z_ipv4_is_broadcast(nif, ip->dst) && (ip->dst >> 28) != 0xe && !z_silenced(s)) {
            struct z_icmp_hdr reply = {.type = Z_ICMP_ECHO_REPLY, .code = 0, .rest = h.rest};
            send_icmp(s, ip->dst, ip->src, &reply, msg + Z_ICMP_HLEN, len - Z_ICMP_HLEN);
        }
        break;
    case Z_ICMP_ECHO_REPLY: /* for zsock_ping() (net_info.c) */
        if (s->echo_reply_hook != NULL) {
            s->echo_reply_hook(s, ip->src, h.rest);
        }
        break;
    case Z_ICMP_DEST_UNREACH:
    case Z_ICMP_TIME_EXCEEDED:
    case Z_ICMP_PARAM_PROBLEM: {
        const uint8_t *orig = msg + Z_ICMP_HLEN;
        size_t olen = len - Z_ICMP_HLEN;
        /* The quoted header must parse far enough to name the ports; its
         * total length refers to the original, so only the header is checked. */
        if (olen < Z_IPV4_HLEN || (orig[0] >> 4) != 4 || (size_t)(orig[0] & 0xf) * 4 + 8 > olen) {
            s->stats.icmp.drop_malformed++;
            break;
        }
        if (orig[9] == Z_IPPROTO_UDP) {
            s->stats.icmp.errors_rx++;
            z_udp_icmp_error_locked(s, error_to_errno(h.type, h.code), orig, olen);
        }
        break;
    }
    default:
        break;
    }
    z_pbuf_free(p);
}
