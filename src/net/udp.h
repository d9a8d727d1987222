/* UDP protocol control blocks: the stack side of a UDP socket. A pcb holds
 * the local and remote endpoints, the per-socket options that shape output,
 * and the receive queue (records in a byte ring sized by SO_RCVBUF). All
 * functions need the stack lock. */
#ifndef ZSOCK_UDP_H_
#define ZSOCK_UDP_H_

#include <stdbool.h>
#include <stdint.h>

#include "net/net.h"
#include "sockets/iov.h"

/* A group a UDP socket joined (IP_ADD_MEMBERSHIP, IPV6_ADD_MEMBERSHIP). */
struct z_udp_memb {
    struct z_udp_memb *next;
    uint8_t fam;
    int ifindex;
    uint32_t g4;
    uint8_t g6[16];
};

#define Z_UDP_MAX_MEMBERSHIPS 20 /* per socket, as Linux's igmp_max_memberships */

struct z_udp_pcb {
    struct z_udp_pcb *next;
    struct z_stack *stack;
    bool in_table;      /* bound: on the stack's demux list */
    bool addr_explicit; /* the local address was bound by the user */
    bool port_explicit; /* the local port was bound by the user */
    uint8_t fam;        /* Z_FAM4/Z_FAM6 bits: the IP versions it takes now */
    bool v6sock;        /* an AF_INET6 socket's pcb */
    bool v6only;        /* IPV6_V6ONLY */
    uint8_t bfam;       /* the versions of the bound address (fam before connect) */
    uint32_t laddr;     /* host order; 0 = any */
    uint16_t lport;     /* 0 = unbound */
    uint32_t raddr;     /* connected peer; rport 0 = not connected */
    uint16_t rport;
#if CONFIG_NET_IPV6
    uint8_t laddr6[Z_IPV6_ALEN]; /* :: = any */
    uint8_t raddr6[Z_IPV6_ALEN];
    struct z_ip6_sockopts o6;
#endif
    int ifindex; /* SO_BINDTODEVICE (or a link-local scope), 0 = any */
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
    uint32_t port_range; /* IP_LOCAL_PORT_RANGE, 0: the stack's */
#endif
    uint8_t ttl;
    uint8_t tos;
    /* multicast: groups joined, and how datagrams to a group leave */
#if CONFIG_NET_IGMP || CONFIG_NET_IPV6
    struct z_udp_memb *membs;
    int n_membs;
#endif
#if CONFIG_NET_IGMP
    uint8_t mcast_ttl;      /* IP_MULTICAST_TTL (1) */
    bool mcast_loop;        /* IP_MULTICAST_LOOP (on) */
    int mcast_if;           /* IP_MULTICAST_IF's interface, 0: the route's */
    uint32_t mcast_if_addr; /* IP_MULTICAST_IF's address, as given */
#endif
#if CONFIG_NET_IPV6
    uint8_t mcast_hops6; /* IPV6_MULTICAST_HOPS (1) */
    bool mcast_loop6;    /* IPV6_MULTICAST_LOOP (on) */
    int mcast_if6;       /* IPV6_MULTICAST_IF, 0: the route's */
#endif
    bool broadcast;
    bool reuseaddr;
    bool reuseport;
    int pending_error; /* from ICMP, for a connected socket; positive errno */
    struct z_ring rx;
    size_t rx_dgrams;
    /* Called (lock held) when a datagram or an error arrives. */
    void (*notify)(void *ctx);
    void *ctx;
};

/* The header stored before each datagram in the receive ring. An IPv6
 * datagram's addresses follow it (struct z_udp_rec6), then the payload. */
struct z_udp_rec {
    uint32_t len;
    uint32_t src; /* IPv4 */
    uint32_t dst;
    int32_t ifindex;
    uint16_t sport;
    uint8_t ttl; /* or hop limit */
    uint8_t tos; /* or traffic class */
    uint8_t fam; /* Z_FAM4 or Z_FAM6 */
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    int64_t stamp; /* arrival (stack clock, us), when receive stamps are on */
#endif
};

struct z_udp_rec6 {
    uint8_t src[16];
    uint8_t dst[16];
};

/* Bytes before the payload of the datagram whose header is rec. */
static inline size_t z_udp_rec_hlen(const struct z_udp_rec *rec)
{
    return sizeof(*rec) + (rec->fam == Z_FAM6 ? sizeof(struct z_udp_rec6) : 0);
}

/* Per-datagram choices of sendmsg() (control messages), zero for none. */
struct z_udp_txopt {
    int ifindex;         /* IP_PKTINFO's or IPV6_PKTINFO's interface */
    int hops;            /* IPV6_HOPLIMIT + 1; 0: the socket's */
    const uint8_t *src6; /* IPV6_PKTINFO's source, NULL or :: for the socket's */
    uint32_t src4;       /* IP_PKTINFO's ipi_spec_dst (host order); 0: the socket's */
    int ttl4;            /* IP_TTL (1..255); 0: the socket's */
    int tos4;            /* IP_TOS + 1; 0: the socket's */
    uint8_t prio;        /* SO_PRIORITY: the transmit class */
    int64_t txtime;      /* SCM_TXTIME: leave no earlier (stack clock, us); 0: at once */
    uint32_t ts_id;      /* SO_TIMESTAMPING: the stamp sink to tell (0: none) */
    uint32_t ts_key;     /* and this datagram's number */
};

/* Returns 0 or -ENOMEM. v6sock: the pcb of an AF_INET6 socket. */
int z_udp_pcb_init(struct z_udp_pcb *pcb, struct z_stack *s, bool v6sock);
/* Unbind and free the receive queue. */
void z_udp_pcb_deinit(struct z_udp_pcb *pcb);

/* Bind to the endpoint (an IPv4 one on an AF_INET6 pcb is a mapped
 * address); port 0 picks an ephemeral port. -EINVAL already bound, or a
 * mapped address with IPV6_V6ONLY, or a link-local one without scope;
 * -EADDRNOTAVAIL not our address, -EADDRINUSE. */
int z_udp_bind(struct z_udp_pcb *pcb, const struct z_ipep *ep);
/* Set the peer (binding implicitly); port 0 disconnects. -ENETUNREACH,
 * -EACCES (broadcast), -EAFNOSUPPORT (the other version than the bound
 * address's), the errors of bind. */
int z_udp_connect(struct z_udp_pcb *pcb, const struct z_ipep *ep);
void z_udp_disconnect(struct z_udp_pcb *pcb);

/* Send `len` bytes gathered from `it` to the endpoint, binding implicitly.
 * 0 or -errno: -EMSGSIZE, -ENETUNREACH, -EACCES (broadcast without
 * SO_BROADCAST), -EAFNOSUPPORT (the version the pcb cannot send),
 * -ENOBUFS (no packet buffer: the caller may retry). opt may be NULL. */
int z_udp_send(struct z_udp_pcb *pcb, const struct z_ipep *dst, struct z_iov_iter *it, size_t len,
               const struct z_udp_txopt *opt);

/* The connected peer as an endpoint (port 0: not connected). */
void z_udp_peer(const struct z_udp_pcb *pcb, struct z_ipep *out);
/* The local endpoint. */
void z_udp_local(const struct z_udp_pcb *pcb, struct z_ipep *out);

/* Join (join true) or leave a multicast group on interface ifindex (0:
 * the one a datagram to the group would leave by). Join: -EINVAL not a
 * group, -EADDRINUSE joined already, -ENOBUFS too many groups (socket or
 * interface), -ENODEV no such interface, -ENETUNREACH none to choose,
 * -EAFNOSUPPORT (IPv4 group on an IPv6-only socket, IPv6 group on an
 * IPv4 one, or a version this build lacks). Leave: -EADDRNOTAVAIL. */
#if CONFIG_NET_IGMP || CONFIG_NET_IPV6
int z_udp_mcast_membership(struct z_udp_pcb *pcb, const struct z_ipep *group, int ifindex,
                           bool join);
#endif

/* Change the receive buffer size, keeping queued datagrams. */
int z_udp_set_rcvbuf(struct z_udp_pcb *pcb, size_t size);

#if CONFIG_NET_IPV6
/* A UDP datagram over IPv6 (p->data at the IPv6 header, the UDP header
 * `off` bytes in). Takes p. */
void z_udp6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, struct z_pbuf *p,
                         size_t off);
/* An ICMPv6 error about a datagram we sent (orig: its IPv6 header on). */
void z_udp6_icmp_error_locked(struct z_stack *s, int err, const uint8_t *orig, size_t orig_len);
#endif

/* Largest payload of one datagram: over IPv4, and over IPv6 (whose length
 * field does not count its own header). */
#define Z_UDP_MAX_PAYLOAD  (65535 - Z_IPV4_HLEN - Z_UDP_HLEN)
#define Z_UDP6_MAX_PAYLOAD (65535 - Z_UDP_HLEN)

#endif /* ZSOCK_UDP_H_ */
