/* IPv6 inside the stack: the per-interface state (addresses, neighbor
 * cache, default routers, on-link prefixes, multicast groups) and the
 * per-stack state (reassembly, destination cache), shared by ipv6.c, nd.c,
 * icmp6.c and mld.c. Everything here is guarded by the stack's core lock;
 * every function expects it held. What the rest of the stack calls is
 * declared in net.h. */
#ifndef ZSOCK_NET_IP6_H_
#define ZSOCK_NET_IP6_H_

#include "net/net.h"
#include "wire/ipv6.h"

/* Address slots per interface: the link-local address and four more. */
#define Z_IP6_MAX_ADDRS    ZSOCK_IPV6_MAX_ADDRS
#define Z_IP6_MAX_ROUTERS  3
#define Z_IP6_MAX_PREFIXES 4
#define Z_IP6_MAX_GROUPS   16
#define Z_IP6_DEST_CACHE   8

/* RFC 4861 10 and RFC 4862 5.1 constants, in microseconds. */
#define Z_ND_REACHABLE_MS      30000 /* REACHABLE_TIME */
#define Z_ND_RETRANS_US        1000000LL
#define Z_ND_DELAY_FIRST_PROBE 5000000LL
#define Z_ND_MAX_MCAST_SOLICIT 3
#define Z_ND_MAX_UCAST_SOLICIT 3
#define Z_ND_RS_MAX            3
#define Z_ND_RS_INTERVAL_US    4000000LL
#define Z_ND_RS_DELAY_US       1000000LL /* MAX_RTR_SOLICITATION_DELAY: after DAD */
#define Z_IP6_HOP_LIMIT        64
#define Z_IP6_REASM_TIMEOUT_US 60000000LL  /* RFC 8200 4.5 */
#define Z_IP6_PMTU_AGE_US      600000000LL /* RFC 8201 4: ten minutes */
#define Z_MLD_UNSOLICITED      2
#define Z_MLD_UNSOLICITED_US   1000000LL /* RFC 3810 9.11 */

/* Address states: the public ZSOCK_IPV6_* values, 0 for a free slot. */
struct z_ip6_addr {
    uint8_t addr[Z_IPV6_ALEN];
    uint8_t plen;
    uint8_t state;        /* 0 (free) or ZSOCK_IPV6_TENTATIVE ... */
    uint8_t origin;       /* ZSOCK_IPV6_ORIGIN_* */
    bool dad_sent;        /* the DAD probe went out (it waits for a link-local source otherwise) */
    int64_t dad_deadline; /* tentative: when DAD succeeds */
    int64_t preferred_until; /* INT64_MAX: infinite */
    int64_t valid_until;     /* INT64_MAX: infinite */
};

#define Z_ND_FREE       0
#define Z_ND_INCOMPLETE 1
#define Z_ND_REACHABLE  2
#define Z_ND_STALE      3
#define Z_ND_DELAY      4
#define Z_ND_PROBE      5

/* One neighbor cache entry (RFC 4861 5.1, 7.3.2). */
struct z_nd_entry {
    uint8_t ip[Z_IPV6_ALEN];
    uint8_t mac[Z_ETH_ALEN];
    uint8_t state;
    bool router;                  /* IsRouter */
    uint8_t probes;               /* solicitations sent in INCOMPLETE or PROBE */
    int64_t deadline;             /* next event; INT64_MAX: none (STALE) */
    int64_t used;                 /* last use, for replacement */
    struct z_neigh_queue pending; /* IPv6 packets waiting for resolution */
};

struct z_ip6_router {
    bool used;
    uint8_t addr[Z_IPV6_ALEN];
    int64_t expires;
};

struct z_ip6_prefix {
    bool used;
    uint8_t prefix[Z_IPV6_ALEN];
    uint8_t plen;
    int64_t expires; /* INT64_MAX: infinite */
};

struct z_mld_group {
    uint8_t addr[Z_IPV6_ALEN];
    uint16_t refs;       /* 0: free slot */
    uint8_t unsolicited; /* unsolicited reports still to send */
    int64_t next_report; /* of the next unsolicited report */
    int64_t respond_at;  /* a group-specific query's answer; INT64_MAX: none */
};

/* Per-interface IPv6 state (nif->ip6). */
struct z_ip6_if {
    struct z_ip6_addr addrs[Z_IP6_MAX_ADDRS];
    struct z_nd_entry nc[CONFIG_NET_ARP_ENTRIES];
    struct z_ip6_router routers[Z_IP6_MAX_ROUTERS];
    struct z_ip6_prefix prefixes[Z_IP6_MAX_PREFIXES];
    struct z_mld_group groups[Z_IP6_MAX_GROUPS];
    bool disabled;              /* our link-local address is a duplicate: no IPv6 here */
    uint32_t rng;               /* z_ip6_random_us's state */
    uint8_t hop_limit;          /* CurHopLimit */
    uint32_t mtu;               /* from an RA's MTU option; 0: the link's */
    uint32_t base_reachable_ms; /* BaseReachableTime */
    int64_t reachable_us;       /* ReachableTime, randomized */
    int64_t retrans_us;         /* RetransTimer */
    uint8_t rs_left;            /* router solicitations still to send */
    int64_t rs_next;
    int64_t general_report_at; /* answer to a general query; INT64_MAX: none */
};

struct z_ip6_dest {
    uint8_t dst[Z_IPV6_ALEN];
    uint32_t pmtu; /* 0: free */
    int64_t expires;
};

/* Per-stack IPv6 state (s->ip6). */
struct z_ip6_stack {
    struct z_reasm_set reasm; /* datagrams being reassembled */
    struct z_ip6_dest dest[Z_IP6_DEST_CACHE];
    uint32_t frag_id;
    int icmp_tokens; /* ICMPv6 errors still allowed in this tick */
};

/* ---- ipv6.c ---- */

/* The interface's link MTU for IPv6 (an RA may lower it). */
uint32_t z_ip6_link_mtu(const struct z_netif *nif);
/* Our address slot holding `a` on nif, or NULL. */
struct z_ip6_addr *z_ip6_find_addr(struct z_netif *nif, const uint8_t a[Z_IPV6_ALEN]);
/* A usable (preferred or deprecated) link-local address of nif, or NULL. */
const struct z_ip6_addr *z_ip6_link_local(const struct z_netif *nif);
/* Learn a path MTU toward dst (Packet Too Big). */
void z_ip6_pmtu_update(struct z_stack *s, const uint8_t dst[Z_IPV6_ALEN], uint32_t mtu);
/* Put the link header on an IPv6 packet and send it to next hop nh. Takes p. */
int z_ip6_link_output(struct z_netif *nif, const uint8_t nh[Z_IPV6_ALEN], struct z_pbuf *p);
/* Push an IPv6 header (src as given, :: included) on p and send it on
 * nif to dst, a neighbor or a multicast group: for ND and MLD messages,
 * which are never routed nor fragmented. Takes p. */
int z_ip6_send_link(struct z_netif *nif, const uint8_t src[Z_IPV6_ALEN],
                    const uint8_t dst[Z_IPV6_ALEN], uint8_t next, uint8_t hop_limit,
                    struct z_pbuf *p);
/* Random value in [lo, hi] microseconds, from the interface's generator
 * (seeded from its MAC on a virtual clock, so simulations repeat). */
int64_t z_ip6_random_us(struct z_ip6_if *ip6, int64_t lo, int64_t hi);
/* An address's DAD ended: duplicate or not. */
void z_ip6_addr_dad_done(struct z_netif *nif, struct z_ip6_addr *a, bool duplicate);
/* The address is gone: leave its solicited-node group, free the slot. */
void z_ip6_addr_release(struct z_netif *nif, struct z_ip6_addr *a);

/* ---- nd.c ---- */

/* Resolve nh on an Ethernet interface and send the IPv6 packet p (data at
 * the IPv6 header). Takes p. */
int z_nd_output_locked(struct z_netif *nif, const uint8_t nh[Z_IPV6_ALEN], struct z_pbuf *p);
void z_nd_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, const uint8_t *msg,
                       size_t len, const uint8_t *eth_src);
void z_nd_tick_locked(struct z_netif *nif, int64_t now);
void z_nd_flush_locked(struct z_netif *nif);
/* Start DAD for a tentative address (the NS goes out now). */
void z_nd_start_dad_locked(struct z_netif *nif, struct z_ip6_addr *a);
/* Start router solicitation (interface up). */
void z_nd_start_rs_locked(struct z_netif *nif);
/* The neighbor cache entry for ip, or NULL. */
struct z_nd_entry *z_nd_find(struct z_netif *nif, const uint8_t ip[Z_IPV6_ALEN]);
/* Pick a default router (RFC 4861 6.3.6): one not known unreachable first. */
const struct z_ip6_router *z_nd_default_router(struct z_netif *nif);
/* Recompute ReachableTime from BaseReachableTime (RFC 4861 6.3.2). */
void z_nd_new_reachable(struct z_ip6_if *ip6);

/* ---- icmp6.c ---- */

/* An ICMPv6 message at `off` in p (data at the IPv6 header). tentative_dst:
 * sent to one of our tentative addresses (only ND is taken); frag: it came
 * in fragments (ND ignores such messages); eth_src: the frame's source MAC
 * or NULL. Takes p. */
void z_icmp6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, struct z_pbuf *p,
                          size_t off, bool tentative_dst, bool frag, const uint8_t *eth_src);
/* Send an ICMPv6 error about the packet `orig` (its IPv6 header on, as
 * received: len bytes). Rate limited; nothing for errors, multicast (unless
 * `even_multicast`) or unspecified sources. */
void z_icmp6_send_error_locked(struct z_stack *s, struct z_netif *nif, uint8_t type, uint8_t code,
                               uint32_t extra, const uint8_t *orig, size_t len,
                               bool even_multicast);
/* Build an ICMPv6 message with the given body and send it from src (:: to
 * select) to dst through ifindex (0: routed). */
int z_icmp6_send_locked(struct z_stack *s, int ifindex, const uint8_t src[Z_IPV6_ALEN],
                        const uint8_t dst[Z_IPV6_ALEN], uint8_t hop_limit,
                        const struct z_icmp6_hdr *h, const uint8_t *body, size_t blen);

/* ---- mld.c ---- */

/* Join (or add a reference to) a group: unsolicited reports follow. */
int z_mld_join_locked(struct z_netif *nif, const uint8_t group[Z_IPV6_ALEN]);
/* Drop a reference; at zero the group is left (a report says so). */
void z_mld_leave_locked(struct z_netif *nif, const uint8_t group[Z_IPV6_ALEN]);
bool z_mld_is_member(const struct z_netif *nif, const uint8_t group[Z_IPV6_ALEN]);
/* A Multicast Listener Query (the ICMPv6 message msg of len bytes). */
void z_mld_query_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, const uint8_t *msg,
                              size_t len);
void z_mld_tick_locked(struct z_netif *nif, int64_t now);
/* Interface came up: report every group again. */
void z_mld_up_locked(struct z_netif *nif);

#endif /* ZSOCK_NET_IP6_H_ */
