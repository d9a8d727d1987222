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

struct z_udp_pcb {
    struct z_udp_pcb *next;
    struct z_stack *stack;
    bool in_table;      /* bound: on the stack's demux list */
    bool addr_explicit; /* the local address was bound by the user */
    bool port_explicit; /* the local port was bound by the user */
    uint32_t laddr;     /* host order; 0 = any */
    uint16_t lport;     /* 0 = unbound */
    uint32_t raddr;     /* connected peer; rport 0 = not connected */
    uint16_t rport;
    int ifindex; /* SO_BINDTODEVICE, 0 = any */
    uint8_t ttl;
    uint8_t tos;
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

/* The header stored before each datagram in the receive ring. */
struct z_udp_rec {
    uint32_t len;
    uint32_t src;
    uint32_t dst;
    int32_t ifindex;
    uint16_t sport;
    uint8_t ttl;
    uint8_t tos;
};

/* Returns 0 or -ENOMEM. */
int z_udp_pcb_init(struct z_udp_pcb *pcb, struct z_stack *s);
/* Unbind and free the receive queue. */
void z_udp_pcb_deinit(struct z_udp_pcb *pcb);

/* Bind to (addr, port); port 0 picks an ephemeral port.
 * -EINVAL already bound, -EADDRNOTAVAIL not our address, -EADDRINUSE. */
int z_udp_bind(struct z_udp_pcb *pcb, uint32_t addr, uint16_t port);
/* Set the peer (binding implicitly); port 0 disconnects. */
int z_udp_connect(struct z_udp_pcb *pcb, uint32_t addr, uint16_t port);
void z_udp_disconnect(struct z_udp_pcb *pcb);

/* Send `len` bytes gathered from `it` to (dst, dport), binding implicitly.
 * 0 or -errno: -EMSGSIZE, -ENETUNREACH, -EACCES (broadcast without
 * SO_BROADCAST), -ENOBUFS (no packet buffer: the caller may retry). */
int z_udp_send(struct z_udp_pcb *pcb, uint32_t dst, uint16_t dport, struct z_iov_iter *it,
               size_t len);

/* Change the receive buffer size, keeping queued datagrams. */
int z_udp_set_rcvbuf(struct z_udp_pcb *pcb, size_t size);

/* Largest payload of one datagram. */
#define Z_UDP_MAX_PAYLOAD (65535 - Z_IPV4_HLEN - Z_UDP_HLEN)

#endif /* ZSOCK_UDP_H_ */
