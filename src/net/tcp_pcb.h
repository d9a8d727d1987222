/* TCP in the stack: protocol control blocks that bind a connection core to
 * addresses and ports, listeners with their accept queues, the demux of
 * received segments, output as IP packets, and timers. The socket layer uses
 * only these calls. All need the stack lock (none is thread-safe alone). */
#ifndef ZSOCK_TCP_PCB_H_
#define ZSOCK_TCP_PCB_H_

#include <stdbool.h>
#include <stdint.h>

#include "net/net.h"
#include "net/tcp.h"

struct z_tcp_port; /* the pcbs bound to one local port (tcp_glue.c) */

struct z_tcp_pcb {
    struct z_tcp_pcb *next; /* every bound pcb of the stack, from s->tcp_pcbs */
    struct z_tcp_pcb *prev;
    struct z_stack *stack;
    struct z_tcp_conn conn;
    bool in_table;         /* bound: on the list above and in its port's entry */
    uint8_t fam;           /* Z_FAM4/Z_FAM6 bits: a listener may take both, a connection one */
    bool v6sock;           /* an AF_INET6 socket's pcb */
    bool v6only;           /* IPV6_V6ONLY */
    uint32_t laddr, raddr; /* IPv4, host order */
    uint16_t lport, rport;
#if CONFIG_NET_IPV6
    uint8_t laddr6[Z_IPV6_ALEN], raddr6[Z_IPV6_ALEN];
    struct z_ip6_sockopts o6;
#endif
    int ifindex;
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
    uint32_t port_range; /* IP_LOCAL_PORT_RANGE, 0: the stack's */
#endif
    uint8_t ttl, tos;
#if CONFIG_NET_TX_QUEUE
    uint8_t prio; /* SO_PRIORITY: the transmit class of its segments */
#endif
    bool reuseaddr;
    bool nodelay;
    uint32_t snd_buf, rcv_buf;
    bool keepalive;
    int keep_idle_s, keep_intvl_s, keep_cnt; /* TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT */

    /* lookup: the 4-tuple hash chain, the port entry, the timer heap */
    struct z_tcp_pcb *hnext;
    bool hashed;
    struct z_tcp_port *port;
    struct z_tcp_pcb *pnext, *pprev; /* pcbs on the same port */
    struct z_tcp_pcb *lnext;         /* listeners on the same port */
    bool bound_explicitly;           /* bind() or listen(), not connect() or accept */
    size_t heap_idx;                 /* position in the timer heap + 1; 0: absent */
    int64_t timer_at;                /* the deadline the heap holds */

    /* listener */
    bool listening;
    int backlog;
    int syn_pending;            /* children in SYN-RCVD */
    struct z_tcp_pcb *syn_head; /* those children, oldest first */
    struct z_tcp_pcb *syn_tail;
    struct z_tcp_pcb *acc_head; /* established children not yet accepted */
    struct z_tcp_pcb *acc_tail;
    int acc_len;

    /* child */
    struct z_tcp_pcb *listener; /* until accepted */
    struct z_tcp_pcb *acc_next;
    struct z_tcp_pcb *syn_next, *syn_prev;
    bool in_syn; /* on the listener's SYN list */
    bool queued; /* on the listener's accept queue */

    bool orphan; /* the socket is gone; freed once the connection closes */
    void (*notify)(void *ctx);
    void *ctx;
};

/* A new unbound pcb (v6sock: of an AF_INET6 socket, IPv6-only until
 * told otherwise), or NULL without memory. Free it with z_tcp_pcb_close(). */
struct z_tcp_pcb *z_tcp_pcb_new(struct z_stack *s, bool v6sock);

/* Bind to a local endpoint (port 0: an unused ephemeral port from a random
 * starting point). An IPv4 endpoint on an AF_INET6 pcb is a mapped address.
 * Same rules as UDP: -EINVAL bound already (or a mapped address with
 * IPV6_V6ONLY, or a link-local one without scope), -EADDRNOTAVAIL,
 * -EADDRINUSE; -ENOMEM. */
int z_tcp_pcb_bind(struct z_tcp_pcb *pcb, const struct z_ipep *ep);
/* Start an active open. An unbound pcb gets an ephemeral port chosen as
 * RFC 6056 algorithm 3 does (a keyed hash of the addresses and remote port
 * plus a counter), shared with connections to other destinations but never
 * with a port bound explicitly. Errors: -ENETUNREACH (also IPv4 on an
 * IPv6-only pcb), -EAFNOSUPPORT (the other version than the bound
 * address's), -EADDRINUSE (no port left), -EADDRNOTAVAIL (the 4-tuple is in
 * use), -ENOMEM, -EISCONN. */
int z_tcp_pcb_connect(struct z_tcp_pcb *pcb, const struct z_ipep *ep);
/* The local and remote endpoints (a pcb bound to :: or taking both
 * versions shows as IPv6). */
void z_tcp_pcb_local(const struct z_tcp_pcb *pcb, struct z_ipep *out);
void z_tcp_pcb_peer(const struct z_tcp_pcb *pcb, struct z_ipep *out);
/* Listen with a backlog (clamped to 1..65535), binding first if needed.
 * -EINVAL on a connected pcb; the errors of bind. */
int z_tcp_pcb_listen(struct z_tcp_pcb *pcb, int backlog);
/* The oldest established child, removed from the queue; NULL if none. */
struct z_tcp_pcb *z_tcp_pcb_accept(struct z_tcp_pcb *listener);
/* The socket is done with the pcb: graceful close (RST if unread data, as
 * RFC 2525 2.17 asks), or abortive with `abort`. The pcb lives on, orphaned,
 * until the close completes. */
void z_tcp_pcb_close(struct z_tcp_pcb *pcb, bool abort);

/* Apply the pcb's keepalive settings to its connection (after a change). */
void z_tcp_pcb_apply_keepalive(struct z_tcp_pcb *pcb);

/* Re-read the connection's next deadline into the stack's timer heap, and
 * wake the core thread if it became the earliest. Every call into the
 * connection core made outside tcp_glue.c must be followed by this. */
void z_tcp_pcb_timer_update(struct z_tcp_pcb *pcb);

/* Deliver a received segment (the IPv4 packet in `p`, which is consumed) to
 * its connection (a 4-tuple hash lookup), else to a listener (by port), else
 * answer it with RST. */
void z_tcp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p);
#if CONFIG_NET_IPV6
/* The same for a segment over IPv6 (the TCP header `off` bytes into p). */
void z_tcp6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, struct z_pbuf *p,
                         size_t off);
/* The path MTU toward dst went down (Packet Too Big): connections to it
 * send smaller segments from now on (what is in flight is fragmented). */
void z_tcp6_pmtu_locked(struct z_stack *s, const uint8_t dst[Z_IPV6_ALEN]);
#endif
/* Run the timers due at `now` (only those: they are kept in a heap). */
void z_tcp_timers_locked(struct z_stack *s, int64_t now);
/* The earliest TCP deadline of the stack, INT64_MAX if none. */
int64_t z_tcp_next_deadline_locked(struct z_stack *s);
/* Free every pcb and the lookup tables (stack destruction). */
void z_tcp_destroy_all_locked(struct z_stack *s);

#endif /* ZSOCK_TCP_PCB_H_ */
