/** @file
 * Read-only views of the default stack for tools such as znet: the
 * neighbor caches (ARP and IPv6 ND), the routing table, the connection
 * table, and an ICMP echo ("ping") that waits for its reply. They
 * complement <zsock/net_if.h>, which configures interfaces. Every function
 * returns a count or 0 on success, or a negative errno; each is safe to
 * call from any thread (it takes the stack's lock while it copies), except
 * in single-loop mode, where the stack belongs to one thread. Each list is
 * a snapshot: it may be stale as soon as the call returns. */
#ifndef ZSOCK_NET_INFO_H_
#define ZSOCK_NET_INFO_H_

#include <stdbool.h>
#include <stdint.h>

#include <zsock/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/** States of a neighbor cache entry: ARP uses INCOMPLETE and REACHABLE,
 * IPv6 neighbor discovery all five (RFC 4861 7.3.2). */
enum zsock_neigh_state {
    ZSOCK_NEIGH_INCOMPLETE = 1, /**< resolution under way: no link address yet */
    ZSOCK_NEIGH_REACHABLE,      /**< link address known and recently confirmed */
    ZSOCK_NEIGH_STALE,          /**< known, not confirmed lately (IPv6) */
    ZSOCK_NEIGH_DELAY,          /**< in use, waiting before a probe (IPv6) */
    ZSOCK_NEIGH_PROBE,          /**< being probed (IPv6) */
};

/** One neighbor cache entry. */
struct zsock_neigh_info {
    int ifindex;           /**< the interface */
    int family;            /**< AF_INET (an ARP entry) or AF_INET6 (an ND entry) */
    struct in_addr addr4;  /**< AF_INET: the neighbor's address */
    struct in6_addr addr6; /**< AF_INET6: the neighbor's address */
    uint8_t mac[6];        /**< its link address (zero while INCOMPLETE) */
    int state;             /**< enum zsock_neigh_state */
    bool router;           /**< IPv6: the neighbor said it is a router */
    int pending;           /**< packets queued waiting for the resolution */
};

/**
 * List the ARP and IPv6 neighbor cache entries of every interface (free
 * slots left out) into out[0..max). Returns the number of entries, which
 * may exceed max (only max are written), or -EINVAL (out NULL with max > 0),
 * -ENOMEM (the default stack could not be created).
 */
int zsock_neigh_list(struct zsock_neigh_info *out, int max);

/** One route of the stack's routing table. The stack routes by the
 * interfaces' prefixes and one default gateway per interface (IPv4), or
 * the default router learnt from router advertisements (IPv6). */
struct zsock_route_info {
    int ifindex;              /**< the interface it goes through */
    int family;               /**< AF_INET or AF_INET6 */
    struct in_addr dst4;      /**< AF_INET: destination prefix (0.0.0.0 with len 0: default) */
    struct in_addr gateway4;  /**< AF_INET: next hop, 0.0.0.0 for on-link */
    struct in6_addr dst6;     /**< AF_INET6: destination prefix (:: with len 0: default) */
    struct in6_addr gateway6; /**< AF_INET6: next hop, :: for on-link */
    int prefix_len;           /**< length of the destination prefix */
};

/**
 * List the routes (on-link prefixes of each interface's addresses, then
 * default routes) into out[0..max). Returns the number of routes, which
 * may exceed max, or -EINVAL, -ENOMEM as zsock_neigh_list().
 */
int zsock_route_list(struct zsock_route_info *out, int max);

/** One connection (TCP) or bound socket (UDP) of the stack. */
struct zsock_conn_info {
    int protocol;           /**< IPPROTO_TCP or IPPROTO_UDP */
    int family;             /**< AF_INET, or AF_INET6: the addresses are laddr6/raddr6 */
    struct in_addr laddr;   /**< local address, 0.0.0.0: any */
    uint16_t lport;         /**< local port (host order) */
    struct in_addr raddr;   /**< remote address, 0.0.0.0: none */
    uint16_t rport;         /**< remote port (host order), 0: not connected */
    struct in6_addr laddr6; /**< AF_INET6: local address, :: any */
    struct in6_addr raddr6; /**< AF_INET6: remote address */
    int scope_id;           /**< AF_INET6: interface of link-local addresses, 0 none */
    int state;              /**< TCP: RFC 793 state, 0 CLOSED .. 10 TIME_WAIT; UDP: 0 */
    char state_name[16];    /**< "ESTABLISHED", "LISTEN"...; UDP: "" */
    uint32_t send_queue;    /**< TCP: bytes sent and not acknowledged, or not sent yet */
    uint32_t recv_queue;    /**< TCP, UDP: bytes received and not read by the application */
    int backlog;            /**< TCP listener: connections waiting for accept() */
};

/**
 * List the stack's TCP connections and listeners and its bound UDP sockets
 * into out[0..max), TCP first. Returns the number of entries, which may
 * exceed max, or -EINVAL, -ENOMEM as zsock_neigh_list(). A socket taking
 * IPv6 (an AF_INET6 socket, a dual-stack listener included) is listed as
 * AF_INET6; an IPv4 connection of a dual-stack socket as AF_INET.
 */
int zsock_conn_list(struct zsock_conn_info *out, int max);

/**
 * Send one ICMP echo request to the IPv4 address `dst` with `payload_len`
 * bytes of data (0..1400), identifier `id` and sequence number `seq`, and
 * wait up to timeout_ms for the matching echo reply. Returns 0 with the
 * round trip in *rtt_us, -ETIMEDOUT when no reply came, -EHOSTUNREACH with
 * no route, -EINVAL for a bad argument, -EBUSY when another ping of the
 * process waits already (one at a time), -ENOMEM. Blocks the calling
 * thread; in single-loop mode it runs zsock_net_process() while it waits.
 * IPv4 only in this version (-EAFNOSUPPORT for another family).
 */
int zsock_ping(const struct sockaddr *dst, socklen_t dstlen, uint16_t id, uint16_t seq,
               int payload_len, int timeout_ms, uint32_t *rtt_us);

#ifdef __cplusplus
}
#endif

#endif /* ZSOCK_NET_INFO_H_ */
