/* The stack's side of AF_PACKET sockets (src/sockets/packet.c): every frame
 * an interface receives or sends is offered to the packet sockets that want
 * it, as a copy; the stack's own processing of the frame is unchanged. With
 * CONFIG_NET_SOCKETS_PACKET off both hooks are empty inline functions. */
#ifndef ZSOCK_NET_PACKET_H_
#define ZSOCK_NET_PACKET_H_

#include "net/net.h"

/* Would nif take an Ethernet frame to dst for its own protocols: its MAC,
 * broadcast, or a multicast group it may want? (Packet sockets may take
 * more: promiscuous and multicast memberships.) Lock held. */
static inline bool z_netif_mac_wanted(const struct z_netif *nif, const uint8_t dst[Z_ETH_ALEN])
{
    return memcmp(dst, nif->mac, Z_ETH_ALEN) == 0 ||
           (z_eth_is_multicast(dst) &&
            (z_ipv6_mcast_mac_wanted(nif, dst) || z_igmp_mac_wanted(nif, dst)));
}

#if CONFIG_NET_SOCKETS_PACKET
/* nif received a frame (outgoing false: the interface is up; p->data at the
 * link header, or at the IP header on a raw-IP link) or is sending one
 * (outgoing true). A received frame is copied to each packet socket whose
 * interface, protocol and the frame's destination (promiscuous and
 * multicast memberships) match; a sent one, as PACKET_OUTGOING, to each
 * ETH_P_ALL socket of the interface but the one sending it. Never takes or
 * changes p. Lock held. */
void z_packet_deliver_locked(struct z_netif *nif, const struct z_pbuf *p, bool outgoing);
/* Create an AF_PACKET socket of `type` (SOCK_RAW, SOCK_DGRAM) for the Ethernet
 * type `proto` (network byte order, ETH_P_ALL for all, 0 for none until
 * bound) on stack `s` (zsock_socket() uses the default stack; tests put
 * sockets on theirs). The descriptor, or -ESOCKTNOSUPPORT, -EMFILE, -ENOMEM.
 * Thread-safe (lock not held). */
int z_packet_socket_on(struct z_stack *s, int type, int proto, bool nonblock);
#endif

/* The hook netif.c calls on input and output (z_packet_deliver_locked);
 * nothing to do while the stack has no packet socket. */
static inline void z_packet_tap_locked(struct z_netif *nif, const struct z_pbuf *p, bool outgoing)
{
#if CONFIG_NET_SOCKETS_PACKET
    if (nif->stack->packet_socks != NULL) {
        z_packet_deliver_locked(nif, p, outgoing);
    }
#else
    (void)nif;
    (void)p;
    (void)outgoing;
#endif
}

#endif /* ZSOCK_NET_PACKET_H_ */
