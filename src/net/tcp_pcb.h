/* TCP in the stack: protocol control blocks that bind a connection core to
 * addresses and ports, listeners with their accept queues, the demux of
 * received segments, output as IP packets, and timers. The socket layer uses
 * only these calls. All need the stack lock. */
#ifndef ZSOCK_TCP_PCB_H_
#define ZSOCK_TCP_PCB_H_

#include <stdbool.h>
#include <stdint.h>

#include "net/net.h"
#include "net/tcp.h"

struct z_tcp_pcb {
    struct z_tcp_pcb *next; /* the stack's table */
    struct z_stack *stack;
    struct z_tcp_conn conn;
    bool in_table;
    uint32_t laddr, raddr; /* host order */
    uint16_t lport, rport;
    int ifindex;
    uint8_t ttl, tos;
    bool reuseaddr;
    bool nodelay;
    uint32_t snd_buf, rcv_buf;
    bool keepalive;
    int keep_idle_s, keep_intvl_s, keep_cnt; /* TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT */

    /* listener */
    bool listening;
    int backlog;
    int syn_pending;            /* children in SYN-RCVD */
    struct z_tcp_pcb *acc_head; /* established children not yet accepted */
    struct z_tcp_pcb *acc_tail;
    int acc_len;

    /* child */
    struct z_tcp_pcb *listener; /* until accepted */
    struct z_tcp_pcb *acc_next;
    bool queued;

    bool orphan; /* the socket is gone; freed once the connection closes */
    void (*notify)(void *ctx);
    void *ctx;
};

/* A new unbound pcb, or NULL without memory. */
struct z_tcp_pcb *z_tcp_pcb_new(struct z_stack *s);

/* Same rules as UDP: -EINVAL bound already, -EADDRNOTAVAIL, -EADDRINUSE. */
int z_tcp_pcb_bind(struct z_tcp_pcb *pcb, uint32_t addr, uint16_t port);
/* Start an active open: -ENETUNREACH, -EADDRINUSE, -ENOMEM, -EISCONN. */
int z_tcp_pcb_connect(struct z_tcp_pcb *pcb, uint32_t addr, uint16_t port);
int z_tcp_pcb_listen(struct z_tcp_pcb *pcb, int backlog);
/* The oldest established child, removed from the queue; NULL if none. */
struct z_tcp_pcb *z_tcp_pcb_accept(struct z_tcp_pcb *listener);
/* The socket is done with the pcb: graceful close (RST if unread data, as
 * RFC 2525 2.17 asks), or abortive with `abort`. The pcb lives on, orphaned,
 * until the close completes. */
void z_tcp_pcb_close(struct z_tcp_pcb *pcb, bool abort);

/* Apply the pcb's keepalive settings to its connection (after a change). */
void z_tcp_pcb_apply_keepalive(struct z_tcp_pcb *pcb);

void z_tcp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p);
/* Run due connection timers; the time of the next one. */
void z_tcp_timers_locked(struct z_stack *s, int64_t now);
int64_t z_tcp_next_deadline_locked(struct z_stack *s);
void z_tcp_destroy_all_locked(struct z_stack *s);

#endif /* ZSOCK_TCP_PCB_H_ */
