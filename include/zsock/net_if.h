/** @file
 * Network management: interfaces of the default zsock stack, their
 * addresses, routes and statistics, in the spirit of Zephyr's net_if calls,
 * and the single-loop entry point (zsock_net_process()). Every function
 * returns 0 (or a count/index) on success or a negative errno, and is safe
 * to call from any thread, except in single-loop mode, where the stack
 * belongs to one thread. The default stack is created, with loopback up, by
 * the first call here or the first socket call. */
#ifndef ZSOCK_NET_IF_H_
#define ZSOCK_NET_IF_H_

#include <stddef.h>
#include <stdint.h>

#include <zsock/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Interface flags. */
#define ZSOCK_IF_UP        0x1 /**< administratively up */
#define ZSOCK_IF_LOOPBACK  0x2 /**< the loopback interface */
#define ZSOCK_IF_ETHERNET  0x4 /**< Ethernet framing and ARP */
#define ZSOCK_IF_BROADCAST 0x8 /**< supports broadcast */
/** IPv6 is off on the interface: its link-local address (from its MAC) is
 * another node's (RFC 4862 5.4.5). Taking the interface down and up, or a
 * new MAC, tries again. */
#define ZSOCK_IF_IPV6_DISABLED 0x100

/** IPv6 addresses one interface holds: its link-local address and up to
 * four more (SLAAC or manual). */
#define ZSOCK_IPV6_MAX_ADDRS 5

/** State of an IPv6 address (RFC 4862 2). */
enum zsock_ipv6_addr_state {
    ZSOCK_IPV6_TENTATIVE = 1, /**< duplicate address detection running: not used yet */
    ZSOCK_IPV6_PREFERRED,     /**< in use */
    ZSOCK_IPV6_DEPRECATED,    /**< preferred lifetime over: kept for existing traffic */
    ZSOCK_IPV6_DUPLICATE,     /**< another node has it: never used */
};

/** Where an IPv6 address came from. */
enum zsock_ipv6_addr_origin {
    ZSOCK_IPV6_ORIGIN_LINK_LOCAL = 1, /**< fe80::/64 from the MAC (EUI-64) */
    ZSOCK_IPV6_ORIGIN_SLAAC,          /**< a router's prefix + EUI-64 (RFC 4862) */
    ZSOCK_IPV6_ORIGIN_MANUAL,         /**< zsock_if_add_ipv6(), ZSOCK_IPV6, or ::1 on loopback */
};

/** Counters of one interface. */
struct zsock_if_stats {
    uint64_t rx_packets; /**< frames received */
    uint64_t rx_bytes;   /**< bytes of those frames */
    uint64_t rx_dropped; /**< frames dropped on input (no buffer, bad frame, down) */
    uint64_t tx_packets; /**< frames sent */
    uint64_t tx_bytes;   /**< bytes of those frames */
    uint64_t tx_dropped; /**< frames the driver could not send */
};

/** Counters of the stack's protocols, each drop counted under its reason. */
struct zsock_net_stats {
    struct {
        uint64_t rx, tx;
        uint64_t drop_malformed; /**< truncated, bad version/length/checksum */
        uint64_t drop_not_ours;  /**< destination is not one of our addresses */
        uint64_t drop_proto;     /**< no handler for the protocol */
        uint64_t frag_rx;        /**< fragments received */
        uint64_t frag_tx;        /**< fragments sent */
        uint64_t reasm_ok;       /**< datagrams reassembled */
        uint64_t reasm_drop;     /**< fragments dropped: overlap, limit, timeout */
        uint64_t no_route;       /**< output with no route */
        uint64_t no_buffer;      /**< no packet buffer for input or output */
    } ipv4;                      /**< IPv4 counters */
    struct {
        uint64_t rx, tx;
        uint64_t requests_rx, replies_rx;
        uint64_t drop_malformed;
        uint64_t unresolved; /**< packets dropped: no answer to our requests */
        uint64_t queue_full; /**< packets dropped: pending queue full */
    } arp;                   /**< ARP counters */
    struct {
        uint64_t rx, tx;
        uint64_t echo_rx;    /**< echo requests received */
        uint64_t unreach_tx; /**< destination unreachable sent */
        uint64_t errors_rx;  /**< errors delivered to sockets */
        uint64_t drop_malformed;
    } icmp; /**< ICMP counters */
    struct {
        uint64_t rx, tx;
        uint64_t drop_malformed; /**< bad length or checksum */
        uint64_t drop_no_port;   /**< no socket on the port */
        uint64_t drop_rcvbuf;    /**< receive buffer full */
    } udp;                       /**< UDP counters */
    struct {
        uint64_t rx, tx;         /**< segments */
        uint64_t drop_malformed; /**< bad offset, options or checksum */
        uint64_t drop_no_conn;   /**< no connection or listener: answered with RST */
        uint64_t rst_tx;         /**< resets sent for such segments */
        uint64_t listen_drops;   /**< SYNs dropped: listener backlog full */
        uint64_t retransmits;    /**< segments sent again */
        uint64_t timeouts;       /**< retransmission timer expiries */
        uint64_t recoveries;     /**< fast recoveries (duplicate ACKs or SACK) */
    } tcp;                       /**< TCP counters */
    struct {
        uint64_t rx, tx;         /**< DHCP messages received by / sent by the client */
        uint64_t drop_malformed; /**< unparsable, or lacking what its type requires */
        uint64_t drop_foreign;   /**< not ours: op, chaddr, xid, server or state */
        uint64_t offers;         /**< offers taken */
        uint64_t acks;           /**< acknowledgements applied */
        uint64_t naks;           /**< negative acknowledgements */
        uint64_t declines;       /**< offered addresses found in use (ARP check) */
        uint64_t expired;        /**< leases that ran out */
    } dhcp;                      /**< DHCP counters */
    struct {
        uint64_t rx, tx;         /**< packets (a fragment counts once, so does its datagram) */
        uint64_t drop_malformed; /**< bad version or length, multicast source */
        uint64_t drop_not_ours;  /**< destination not ours (nor a group we joined) */
        uint64_t drop_ext;       /**< extension headers: malformed, option action, routing */
        uint64_t drop_proto;     /**< unknown next header (Parameter Problem sent) */
        uint64_t frag_rx;        /**< fragments received */
        uint64_t frag_tx;        /**< fragments sent */
        uint64_t reasm_ok;       /**< datagrams reassembled */
        uint64_t reasm_drop;     /**< fragments dropped: overlap, limit, bad length */
        uint64_t reasm_timeout;  /**< datagrams given up after 60 s */
        uint64_t no_route;       /**< output with no route (no default router) */
        uint64_t no_buffer;      /**< no packet buffer for input or output */
        uint64_t pmtu_updates;   /**< path MTUs learnt from Packet Too Big */
        uint64_t drop_disabled;  /**< on an interface whose IPv6 is off (duplicate link-local) */
    } ipv6;                      /**< IPv6 counters */
    struct {
        uint64_t rx, tx;
        uint64_t drop_malformed; /**< bad length or checksum, invalid ND/MLD message */
        uint64_t echo_rx;        /**< echo requests received */
        uint64_t echo_reply_rx;  /**< echo replies received */
        uint64_t errors_tx;      /**< error messages sent */
        uint64_t errors_rx;      /**< error messages received */
        uint64_t rate_limited;   /**< errors not sent: rate limit */
        uint64_t ns_rx, ns_tx;   /**< neighbor solicitations */
        uint64_t na_rx, na_tx;   /**< neighbor advertisements */
        uint64_t rs_tx;          /**< router solicitations sent */
        uint64_t ra_rx;          /**< router advertisements accepted */
        uint64_t redirects_rx;   /**< redirects: ignored (RFC 4861 8.3 is optional for hosts) */
        uint64_t dad_ok;         /**< addresses that passed duplicate address detection */
        uint64_t dad_fail;       /**< addresses found duplicate */
        uint64_t nd_unresolved;  /**< packets dropped: neighbor did not answer */
        uint64_t nd_queue_full;  /**< packets dropped: resolution queue full */
        uint64_t mld_query_rx;   /**< multicast listener queries received */
        uint64_t mld_report_tx;  /**< MLDv2 reports sent */
    } icmp6;                     /**< ICMPv6 counters */
    struct {
        uint64_t rx, tx;         /**< IGMP messages (ours: reports and leaves) */
        uint64_t queries_rx;     /**< membership queries heard */
        uint64_t drop_malformed; /**< bad length, checksum or group */
    } igmp;                      /**< IGMP counters */
    struct {
        uint64_t rx;              /**< datagrams copied to raw sockets */
        uint64_t tx;              /**< datagrams sent by raw sockets */
        uint64_t drop_rcvbuf;     /**< copies dropped: the raw socket's SO_RCVBUF full */
        uint64_t echo_unanswered; /**< echo requests left to the application (*_ECHO_REPLY 0) */
        uint64_t silenced;        /**< echo replies, ICMP errors, RSTs not sent: SO_SILENCE_ALL */
    } raw;                        /**< raw sockets and the stack-wide reply switches */
};

/** What zsock_if_list() reports about one interface. */
struct zsock_if_info {
    int index;                                  /**< interface index (lo is 1) */
    char name[IFNAMSIZ];                        /**< name: lo, the TAP device's... */
    uint32_t flags;                             /**< ZSOCK_IF_* */
    uint32_t mtu;                               /**< MTU in bytes */
    uint8_t mac[6];                             /**< Ethernet address (zero on loopback) */
    int n_ipv4;                                 /**< IPv4 addresses listed below */
    struct in_addr ipv4[4];                     /**< the IPv4 addresses */
    int prefix_len[4];                          /**< their prefix lengths */
    struct in_addr gateway;                     /**< 0.0.0.0: none */
    char kind[16];                              /**< driver: loopback, tap, pipe, sim */
    int n_ipv6;                                 /**< IPv6 addresses listed below */
    struct in6_addr ipv6[ZSOCK_IPV6_MAX_ADDRS]; /**< the IPv6 addresses */
    int ipv6_prefix_len[ZSOCK_IPV6_MAX_ADDRS];  /**< their prefix lengths */
    int ipv6_state[ZSOCK_IPV6_MAX_ADDRS];       /**< enum zsock_ipv6_addr_state */
    int ipv6_origin[ZSOCK_IPV6_MAX_ADDRS];      /**< enum zsock_ipv6_addr_origin */
    struct in6_addr ipv6_router;                /**< default router in use (link-local), :: none */
};

/** Bring the default stack up (loopback, plus interfaces named by
 * ZSOCK_TAP / ZSOCK_PIPE in the environment). Optional: the first socket
 * call does it. On the posix port the stack runs its own core thread unless
 * ZSOCK_CORE_THREAD=0 is in the environment (single-loop mode, see
 * zsock_net_process()); on the none port it is always in single-loop mode.
 * Returns 0 or -ENOMEM. */
int zsock_net_init(void);

/**
 * Bring the default stack up in single-loop mode: no core thread; the
 * application runs the stack by calling zsock_net_process() from its loop.
 * Call it before any other zsock call (the stack is created by the first
 * one), from the thread that will own the stack. On the none port, where
 * single-loop mode is the only mode, it is the same as zsock_net_init().
 *
 * Returns 0 (also when the stack already runs in single-loop mode), -EBUSY
 * if the default stack was already created with a core thread, -ENOMEM.
 */
int zsock_net_init_polled(void);

/**
 * Run the default stack once, in single-loop mode (no core thread): read
 * every driver's pending input, run the timers that are due (TCP
 * retransmission, delayed ACK, ARP retries and aging, reassembly timeouts,
 * DHCP) and free removed interfaces. It is what the core thread does in
 * one round of its loop.
 *
 * Waiting: drivers with an OS descriptor (TAP, frame pipe) are waited on
 * until input arrives, the stack's next timed work is due, or timeout_ms
 * passes, whichever is first (0: do not wait; negative: no limit but the
 * next timed work). The call does not wait when an interface has no
 * descriptor (a firmware's MAC driver, whose rx_poll is called on every
 * pass), nor ever on the none port: there the loop sleeps by itself (WFI)
 * for the time returned.
 *
 * Returns the milliseconds until the stack next has timed work (0: call
 * again at once; never more than 1000, in practice at most 100, the
 * period of the stack's housekeeping), or a negative errno: -EBUSY when
 * the default stack runs a core thread (nothing to do: it runs itself),
 * -ENOMEM if the stack could not be created, or an error of the OS's
 * poll().
 *
 * Creates the default stack if needed. Thread-safety: in single-loop mode
 * the stack belongs to one thread: call this, and every other zsock
 * function, from that thread only. Blocking socket calls in this mode run
 * zsock_net_process() themselves while they wait (so SO_RCVTIMEO,
 * SO_SNDTIMEO and poll timeouts work); non-blocking sockets and
 * zsock_poll() with a zero timeout leave it to the loop.
 */
int zsock_net_process(int timeout_ms);

/** Add a TAP interface on Linux's /dev/net/tun named `ifname` (created if
 * needed; needs CAP_NET_ADMIN). Returns the new interface index, or -errno
 * (-ENOENT no /dev/net/tun, -EPERM, -EBUSY name in use, -ENOTSUP in a build
 * without the hosted drivers: ZSOCK_DRIVERS_HOSTED=OFF). The interface
 * is left down and without address. */
int zsock_if_add_tap(const char *ifname);

/** Add a frame pipe: Ethernet frames carried in datagrams over a Unix
 * socket bound to path `local` and sent to path `peer`, so two zsock
 * processes can share a link without privileges. Returns the index or -errno
 * (-ENOTSUP in a build without the hosted drivers: ZSOCK_DRIVERS_HOSTED=OFF). */
int zsock_if_add_pipe(const char *local, const char *peer);

/** Remove an interface (not loopback: -EPERM). Sockets bound to it get
 * ENETDOWN/ENODEV on their next send. */
int zsock_if_remove(int ifindex);

/** Index of the interface named `name`, or -ENODEV. */
int zsock_if_nametoindex(const char *name);

/** Bring an interface up or down. Up sends a gratuitous ARP for each address. */
int zsock_if_up(int ifindex);
/** Bring an interface down (the counterpart of zsock_if_up()). */
int zsock_if_down(int ifindex);

/** Parse "a.b.c.d" or "a.b.c.d/len" (len 0..32; 24 when absent), as the
 * ZSOCK_IPV4 and ZSOCK_GATEWAY variables and the tools' --ip take it. 0 or
 * -EINVAL. Thread-safe (no state). */
int zsock_parse_ipv4_prefix(const char *text, struct in_addr *addr, int *prefix_len);

/** Add an IPv4 address with its prefix length (0..32). -EEXIST if present,
 * -ENOSPC beyond four addresses, -EINVAL for a bad prefix or address. */
int zsock_if_add_ipv4(int ifindex, const struct in_addr *addr, int prefix_len);
/** Remove an IPv4 address: -EADDRNOTAVAIL if absent. */
int zsock_if_del_ipv4(int ifindex, const struct in_addr *addr);

/** Parse "addr" or "addr/len" (an IPv6 address in RFC 4291 text, len
 * 0..128; 64 when absent), as the ZSOCK_IPV6 variable takes it. 0 or
 * -EINVAL. Thread-safe (no state). */
int zsock_parse_ipv6_prefix(const char *text, struct in6_addr *addr, int *prefix_len);

/** Add a manual IPv6 address with its prefix length (1..128; the prefix is
 * then on-link). On an Ethernet interface that is up it is TENTATIVE for
 * about a second while duplicate address detection runs (RFC 4862 5.4),
 * then PREFERRED, or DUPLICATE if another node holds it; on a down
 * interface detection runs when it comes up; on loopback it is PREFERRED at
 * once. Returns 0, -EEXIST if present, -ENOSPC when the interface has
 * ZSOCK_IPV6_MAX_ADDRS already, -EINVAL for a bad prefix length or an
 * unspecified, multicast or IPv4-mapped address, -ENODEV. */
int zsock_if_add_ipv6(int ifindex, const struct in6_addr *addr, int prefix_len);

/** Remove an IPv6 address, whatever its origin: -EADDRNOTAVAIL if absent. */
int zsock_if_del_ipv6(int ifindex, const struct in6_addr *addr);

/** The IPv6 default router in use on ifindex (learnt from router
 * advertisements) in *out, or :: when there is none. 0 or -ENODEV. */
int zsock_if_ipv6_router(int ifindex, struct in6_addr *out);

/** Set (or with 0.0.0.0 clear) the default gateway reached through ifindex. */
int zsock_if_set_gateway(int ifindex, const struct in_addr *gw);

/** Set the MTU: 68..65536 (-EINVAL otherwise). */
int zsock_if_set_mtu(int ifindex, int mtu);

/** Set the Ethernet address (interface down or not). The IPv6 addresses
 * made from the old one (link-local, SLAAC) are replaced: a new link-local
 * address goes through DAD, SLAAC ones come back with the next router
 * advertisement. -EINVAL for a multicast address. */
int zsock_if_set_mac(int ifindex, const uint8_t mac[6]);

/** Fill up to `max` entries; returns the number of interfaces (which may exceed max). */
int zsock_if_list(struct zsock_if_info *out, int max);

/** Read one interface's counters. */
int zsock_if_stats(int ifindex, struct zsock_if_stats *out);

/** Read the protocol counters of the default stack. */
int zsock_net_stats(struct zsock_net_stats *out);

/** Start writing every frame sent or received on ifindex to a pcap file at
 * `path` (truncated), or stop with path NULL. Ethernet interfaces write
 * LINKTYPE_ETHERNET, loopback LINKTYPE_RAW. */
int zsock_if_capture(int ifindex, const char *path);

/* ---- DHCPv4 client (RFC 2131) ------------------------------------------------------------------
 */

/** States of the DHCPv4 client of one interface (RFC 2131 figure 5). */
enum zsock_dhcp4_state {
    ZSOCK_DHCP4_OFF = 0,    /**< not running on this interface */
    ZSOCK_DHCP4_SELECTING,  /**< DISCOVER sent, waiting for offers */
    ZSOCK_DHCP4_REQUESTING, /**< REQUEST sent for an offer */
    ZSOCK_DHCP4_BOUND,      /**< lease held, address configured */
    ZSOCK_DHCP4_RENEWING,   /**< past T1: asking the leasing server */
    ZSOCK_DHCP4_REBINDING,  /**< past T2: asking any server */
};

/** What zsock_dhcp4_get() reports. Addresses are zero when not known. */
struct zsock_dhcp4_lease {
    int state;             /**< enum zsock_dhcp4_state */
    struct in_addr addr;   /**< leased address */
    int prefix_len;        /**< from the subnet mask option */
    struct in_addr router; /**< first router, installed as gateway */
    struct in_addr server; /**< server identifier */
    struct in_addr dns[3]; /**< DNS servers, handed to the resolver */
    int n_dns;             /**< DNS servers in dns[] */
    uint32_t lease_s;      /**< lease time granted */
    uint32_t t1_s;         /**< renewal time */
    uint32_t t2_s;         /**< rebinding time */
    uint32_t remaining_s;  /**< seconds left on the lease */
    uint32_t renewals;     /**< leases extended since the first ACK */
    char domain[64];       /**< domain name option, "" if none */
};

/**
 * Start the DHCPv4 client on an Ethernet interface (bringing it up). It
 * runs inside the stack: it discovers a server, requests the offered
 * address, configures the address, prefix, gateway and (through the
 * resolver) DNS servers, renews at T1 and rebinds at T2, and starts over if
 * the lease runs out or the server NAKs. It sends the host name
 * (zsock_gethostname()) in option 12. Returns 0, -ENODEV no such interface,
 * -ENOTSUP not Ethernet (loopback), -EALREADY already running, -ENOMEM.
 * With ZSOCK_DHCP=1 in the environment the default stack starts it on the
 * interfaces named by ZSOCK_TAP / ZSOCK_PIPE.
 */
int zsock_dhcp4_start(int ifindex);

/** Stop the client: a held lease is released (DHCPRELEASE to its server)
 * and the address, gateway and DNS servers it configured are removed.
 * Returns 0, -ENODEV, or -EALREADY if it was not running. */
int zsock_dhcp4_stop(int ifindex);

/** Report the client's state and lease. -ENODEV for no such interface;
 * state is ZSOCK_DHCP4_OFF when the client is not running. */
int zsock_dhcp4_get(int ifindex, struct zsock_dhcp4_lease *out);

/** Wait up to timeout_ms (-1: forever) until the client holds a lease
 * (BOUND, RENEWING or REBINDING). 0, -ETIMEDOUT, -ENODEV, -EALREADY if the
 * client is not running. */
int zsock_dhcp4_wait(int ifindex, int timeout_ms);

/* ---- Memory ----------------------------------------------------------------------------------
 */

/** What zsock_mem_stats() reports about the static heap. Sizes in bytes;
 * in_use and peak count whole blocks, headers and alignment included. */
struct zsock_mem_stats {
    size_t size;         /**< the arena: CONFIG_ZSOCK_HEAP_BYTES, rounded down to the alignment */
    size_t in_use;       /**< allocated now */
    size_t peak;         /**< the most ever allocated at once */
    size_t largest_free; /**< the largest allocation that can succeed now */
    size_t free_blocks;  /**< free blocks (fragmentation: 1 when nothing is split) */
    uint64_t allocs;     /**< allocations that succeeded (realloc included) */
    uint64_t failures;   /**< allocations that returned NULL: the arena was full */
};

/**
 * Read the figures of zsock's static heap: with CONFIG_ZSOCK_STATIC_MEMORY
 * every allocation of the library (stack, packet pool, sockets, connections,
 * buffers) comes from one arena of CONFIG_ZSOCK_HEAP_BYTES, and an
 * allocation that does not fit fails (ENOMEM or ENOBUFS to the caller) and
 * is counted in `failures`. Returns 0, -EFAULT if out is NULL, -ENOTSUP
 * without the option (zsock then uses the C library's malloc, which keeps
 * no figures zsock can read). Thread-safe; a snapshot, taken under the
 * heap's lock.
 */
int zsock_mem_stats(struct zsock_mem_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* ZSOCK_NET_IF_H_ */
