/* Network management: interfaces of the default zsock stack, their
 * addresses, routes and statistics, in the spirit of Zephyr's net_if calls.
 * Every function returns 0 (or a count/index) on success or a negative errno,
 * and is safe to call from any thread. The default stack is created, with
 * loopback up, by the first call here or the first socket call. */
#ifndef ZSOCK_NET_IF_H_
#define ZSOCK_NET_IF_H_

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

/** Counters of one interface. */
struct zsock_if_stats {
    uint64_t rx_packets;
    uint64_t rx_bytes;
    uint64_t rx_dropped; /**< frames dropped on input (no buffer, bad frame, down) */
    uint64_t tx_packets;
    uint64_t tx_bytes;
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
    } ipv4;
    struct {
        uint64_t rx, tx;
        uint64_t requests_rx, replies_rx;
        uint64_t drop_malformed;
        uint64_t unresolved; /**< packets dropped: no answer to our requests */
        uint64_t queue_full; /**< packets dropped: pending queue full */
    } arp;
    struct {
        uint64_t rx, tx;
        uint64_t echo_rx;    /**< echo requests received */
        uint64_t unreach_tx; /**< destination unreachable sent */
        uint64_t errors_rx;  /**< errors delivered to sockets */
        uint64_t drop_malformed;
    } icmp;
    struct {
        uint64_t rx, tx;
        uint64_t drop_malformed; /**< bad length or checksum */
        uint64_t drop_no_port;   /**< no socket on the port */
        uint64_t drop_rcvbuf;    /**< receive buffer full */
    } udp;
    struct {
        uint64_t rx, tx;         /**< segments */
        uint64_t drop_malformed; /**< bad offset, options or checksum */
        uint64_t drop_no_conn;   /**< no connection or listener: answered with RST */
        uint64_t rst_tx;         /**< resets sent for such segments */
        uint64_t listen_drops;   /**< SYNs dropped: listener backlog full */
        uint64_t retransmits;    /**< segments sent again */
        uint64_t timeouts;       /**< retransmission timer expiries */
        uint64_t recoveries;     /**< fast recoveries (duplicate ACKs or SACK) */
    } tcp;
    struct {
        uint64_t rx, tx;         /**< DHCP messages received by / sent by the client */
        uint64_t drop_malformed; /**< unparsable, or lacking what its type requires */
        uint64_t drop_foreign;   /**< not ours: op, chaddr, xid, server or state */
        uint64_t offers;         /**< offers taken */
        uint64_t acks;           /**< acknowledgements applied */
        uint64_t naks;           /**< negative acknowledgements */
        uint64_t declines;       /**< offered addresses found in use (ARP check) */
        uint64_t expired;        /**< leases that ran out */
    } dhcp;
};

/** What zsock_if_list() reports about one interface. */
struct zsock_if_info {
    int index;
    char name[IFNAMSIZ];
    uint32_t flags;
    uint32_t mtu;
    uint8_t mac[6];
    int n_ipv4;
    struct in_addr ipv4[4];
    int prefix_len[4];
    struct in_addr gateway; /**< 0.0.0.0: none */
    char kind[16];          /**< driver: loopback, tap, pipe, sim */
};

/** Bring the default stack up (loopback, plus interfaces named by
 * ZSOCK_TAP / ZSOCK_PIPE in the environment). Optional: the first socket
 * call does it. Returns 0 or -ENOMEM. */
int zsock_net_init(void);

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

/** Set (or with 0.0.0.0 clear) the default gateway reached through ifindex. */
int zsock_if_set_gateway(int ifindex, const struct in_addr *gw);

/** Set the MTU: 68..65536 (-EINVAL otherwise). */
int zsock_if_set_mtu(int ifindex, int mtu);

/** Set the Ethernet address (interface down or not). -EINVAL for a multicast address. */
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
    int n_dns;
    uint32_t lease_s;     /**< lease time granted */
    uint32_t t1_s, t2_s;  /**< renewal and rebinding times */
    uint32_t remaining_s; /**< seconds left on the lease */
    uint32_t renewals;    /**< leases extended since the first ACK */
    char domain[64];      /**< domain name option, "" if none */
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

#ifdef __cplusplus
}
#endif

#endif /* ZSOCK_NET_IF_H_ */
