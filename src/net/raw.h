/* Raw IP sockets, the stack side (raw.c): protocol control blocks that take
 * a copy of every datagram of their IP protocol (IPv4: header included;
 * IPv6: the payload after the extension headers), and send datagrams the
 * application built. Also the reply switches of SO_SILENCE_ALL and
 * SO_IP(V6)_ECHO_REPLY as the protocols consult them. All functions need
 * the stack lock. */
#ifndef ZSOCK_RAW_H_
#define ZSOCK_RAW_H_

#include <stdbool.h>
#include <stdint.h>

#include "net/net.h"
#include "sockets/iov.h"

/* ---- reply switches ------------------------------------------------------------------------ */

/* Should a reply to unexpected traffic (echo reply, ICMP error, RST for a
 * closed port) be left unsent because SO_SILENCE_ALL is on? Counts it when
 * so. Without CONFIG_NET_SOCKOPT_SILENCE: never (compiles away). */
static inline bool z_silenced(struct z_stack *s)
{
#if CONFIG_NET_SOCKOPT_SILENCE
    if (s->silence_all) {
        s->stats.raw.silenced++;
        return true;
    }
#else
    (void)s;
#endif
    return false;
}

/* An echo request is left unanswered because the echo-reply switch of its
 * IP version is off: count it. */
static inline void z_echo_unanswered(struct z_stack *s)
{
#if CONFIG_NET_SOCKOPT_SILENCE
    s->stats.raw.echo_unanswered++;
#else
    (void)s;
#endif
}

#if CONFIG_NET_SOCKETS_RAW

#define Z_RAW_RCVBUF 212992 /* default SO_RCVBUF, Linux's */

struct z_raw_pcb {
    struct z_raw_pcb *next;
    struct z_stack *stack;
    uint8_t fam;    /* Z_FAM4 or Z_FAM6 */
    uint8_t proto;  /* IP protocol; 255 (IPPROTO_RAW) sends only */
    bool hdrincl;   /* IPv4: the application writes the IP header */
    bool connected; /* raddr / raddr6 filter input and are the default destination */
    uint32_t laddr; /* bound IPv4 address, host order; 0: any */
    uint32_t raddr;
#if CONFIG_NET_IPV6
    uint8_t laddr6[Z_IPV6_ALEN]; /* :: any */
    uint8_t raddr6[Z_IPV6_ALEN];
    struct z_ip6_sockopts o6;
#endif
    int ifindex; /* SO_BINDTODEVICE (or a link-local scope); 0: any */
    uint8_t ttl; /* IP_TTL */
    uint8_t tos; /* IP_TOS */
#if CONFIG_NET_TX_QUEUE
    uint8_t prio; /* SO_PRIORITY */
#endif
    struct z_ring rx;
    size_t rx_dgrams;
    /* Called (lock held, through the stack's wake-ups) when a datagram arrives. */
    void (*notify)(void *ctx);
    void *ctx;
};

/* The header before each datagram in the receive ring. */
struct z_raw_rec {
    uint32_t len;
    int32_t ifindex;
    uint32_t src4; /* host order */
#if CONFIG_NET_IPV6
    uint8_t src6[Z_IPV6_ALEN];
#endif
};

/* Prepare a pcb for IP version fam and protocol proto and put it on the
 * stack's list (it receives from now on). Cannot fail: the receive ring is
 * allocated as datagrams arrive. */
void z_raw_pcb_init(struct z_raw_pcb *pcb, struct z_stack *s, uint8_t fam, uint8_t proto);
/* Take it off the list and free what it queued. */
void z_raw_pcb_deinit(struct z_raw_pcb *pcb);

/* SO_RCVBUF: the most bytes queued (datagrams beyond are dropped and
 * counted in raw.drop_rcvbuf). 0 or -ENOMEM. */
int z_raw_set_rcvbuf(struct z_raw_pcb *pcb, size_t size);

/* Send len bytes from it to dst (IPv4, host order): the payload after the
 * IP header, or with hdrincl a whole IPv4 packet whose header is checked
 * and completed (total length, checksum; source and id when 0). 0 or
 * -EINVAL (bad header), -EMSGSIZE, -ENETUNREACH, -ENOBUFS. */
int z_raw4_send_locked(struct z_raw_pcb *pcb, uint32_t dst, struct z_iov_iter *it, size_t len);

#if CONFIG_NET_IPV6
/* Send len bytes from it as the payload of an IPv6 packet to dst (scope:
 * the interface of a link-local dst, 0 none); an ICMPv6 checksum is
 * computed. 0 or -EINVAL (ICMPv6 shorter than its header), -EMSGSIZE,
 * -ENETUNREACH, -EADDRNOTAVAIL, -ENOBUFS. */
int z_raw6_send_locked(struct z_raw_pcb *pcb, const uint8_t dst[Z_IPV6_ALEN], int scope,
                       struct z_iov_iter *it, size_t len);
#endif

/* Input hooks: give every matching raw socket a copy of the datagram (p
 * is not taken). Return whether any socket matched, so the caller sends
 * no protocol unreachable for a protocol the application handles. */
bool z_raw4_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, const struct z_pbuf *p);
#if CONFIG_NET_IPV6
bool z_raw6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, uint8_t proto,
                         const struct z_pbuf *p, size_t off);
#endif

/* Send an IPv4 packet whose header the caller wrote (p->data at it): routed
 * toward dst (host order) or the bound interface, the source filled in
 * when 0, never fragmented (-EMSGSIZE above the MTU). Takes p. ipv4.c. */
int z_ipv4_output_hdrincl_locked(struct z_stack *s, uint32_t dst, int ifindex, struct z_pbuf *p);

#else /* !CONFIG_NET_SOCKETS_RAW */

static inline bool z_raw4_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip,
                                       const struct z_pbuf *p)
{
    (void)nif, (void)ip, (void)p;
    return false;
}
static inline bool z_raw6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip,
                                       uint8_t proto, const struct z_pbuf *p, size_t off)
{
    (void)nif, (void)ip, (void)proto, (void)p, (void)off;
    return false;
}

#endif /* CONFIG_NET_SOCKETS_RAW */

#endif /* ZSOCK_RAW_H_ */
