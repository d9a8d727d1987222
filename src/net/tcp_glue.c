/* TCP in the stack: the table of protocol control blocks, listeners and
 * their queues, segment demux, RST for segments nobody owns, output of the
 * core's segments as IPv4 packets, timers, and RFC 6528 initial sequence
 * numbers (a keyed hash of the 4-tuple plus a 4 microsecond clock). */
#include "net/tcp_pcb.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/siphash.h"

#define TCP_TIME_WAIT_US (60 * 1000000LL) /* 2 * MSL with MSL = 30 s */
#define TCP_MAX_RETRIES  15
#define TCP_SYN_RETRIES  6

/* ---- table
 * ---------------------------------------------------------------------------------------- */

static void table_add(struct z_tcp_pcb *pcb)
{
    struct z_stack *s = pcb->stack;
    pcb->next = s->tcp_pcbs;
    s->tcp_pcbs = pcb;
    pcb->in_table = true;
}

static void table_remove(struct z_tcp_pcb *pcb)
{
    for (struct z_tcp_pcb **pp = &pcb->stack->tcp_pcbs; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == pcb) {
            *pp = pcb->next;
            break;
        }
    }
    pcb->in_table = false;
}

static void pcb_free(struct z_tcp_pcb *pcb)
{
    if (pcb->in_table) {
        table_remove(pcb);
    }
    z_tcp_free(&pcb->conn);
    free(pcb);
}

/* Note a connection's next deadline so the core thread (or the simulator)
 * wakes for it. */
static void timer_update(struct z_tcp_pcb *pcb)
{
    struct z_stack *s = pcb->stack;
    int64_t d = z_tcp_next_deadline(&pcb->conn);
    if (d < s->tcp_next) {
        s->tcp_next = d;
        z_stack_kick(s);
    }
}

/* ---- core callbacks -----------------------------------------------------------------------------
 */

static int pcb_xmit(struct z_tcp_conn *c, const struct z_tcp_hdr *h, size_t off, size_t len)
{
    struct z_tcp_pcb *pcb = c->ctx;
    struct z_stack *s = pcb->stack;
    struct z_tcp_hdr hdr = *h;
    hdr.sport = pcb->lport;
    hdr.dport = pcb->rport;
    size_t hl = z_tcp_hdr_len(&hdr.opts);
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, hl + len);
    if (p == NULL) {
        s->stats.ipv4.no_buffer++;
        return -ENOBUFS;
    }
    uint8_t *at = z_pbuf_put(p, hl + len);
    if (len > 0) {
        z_ring_peek(&c->snd, off, at + hl, len);
    }
    struct z_netif *via;
    uint32_t nh;
    bool routed = z_ipv4_route_locked(s, pcb->raddr, pcb->ifindex, &via, &nh) == 0;
    if (routed && (via->flags & ZSOCK_IF_LOOPBACK)) {
        /* Loopback: the receiver skips the check, so skip the sum. */
        z_tcp_emit_nocsum(at, hl + len, &hdr, len);
    } else if (routed && len > c->mss && via->gso_max != 0) {
        /* Segmentation offload: the device sums each segment; the field
         * holds the pseudo-header's part, as for a partial checksum. */
        z_tcp_emit_nocsum(at, hl + len, &hdr, len);
        uint32_t ph = z_csum_pseudo4(pcb->laddr, pcb->raddr, Z_IPPROTO_TCP, (uint16_t)(hl + len));
        z_put_be16(at + 16, (uint16_t)~z_csum_finish(ph));
        p->gso_size = c->mss;
    } else {
        z_tcp_emit(at, hl + len, pcb->laddr, pcb->raddr, &hdr, len);
    }
    struct z_ipv4_tx tx = {
        .src = pcb->laddr,
        .dst = pcb->raddr,
        .proto = Z_IPPROTO_TCP,
        .ttl = pcb->ttl,
        .tos = pcb->tos,
        .ifindex = pcb->ifindex,
    };
    s->stats.tcp.tx++;
    return z_ipv4_output_locked(s, &tx, p);
}

static void child_established(struct z_tcp_pcb *child)
{
    struct z_tcp_pcb *l = child->listener;
    if (l == NULL || child->queued) {
        return;
    }
    l->syn_pending--;
    child->queued = true;
    child->acc_next = NULL;
    if (l->acc_tail != NULL) {
        l->acc_tail->acc_next = child;
    } else {
        l->acc_head = child;
    }
    l->acc_tail = child;
    l->acc_len++;
    if (l->notify != NULL) {
        l->notify(l->ctx);
    }
}

static void pcb_notify(struct z_tcp_conn *c)
{
    struct z_tcp_pcb *pcb = c->ctx;
    if (pcb->listener != NULL && c->state == Z_TCP_ESTABLISHED) {
        child_established(pcb);
    }
    if (pcb->notify != NULL) {
        pcb->notify(pcb->ctx);
    }
}

static void pcb_event(struct z_tcp_conn *c, enum z_tcp_event ev)
{
    struct z_tcp_pcb *pcb = c->ctx;
    struct z_stack *s = pcb->stack;
    switch (ev) {
    case Z_TCP_EV_RETRANSMIT:
        s->stats.tcp.retransmits++;
        break;
    case Z_TCP_EV_TIMEOUT:
        s->stats.tcp.timeouts++;
        break;
    case Z_TCP_EV_RECOVERY:
        s->stats.tcp.recoveries++;
        break;
    }
}

static const struct z_tcp_ops pcb_ops = {
    .xmit = pcb_xmit,
    .notify = pcb_notify,
    .event = pcb_event,
};

/* ---- set-up
 * ------------------------------------------------------------------------------------------ */

struct z_tcp_pcb *z_tcp_pcb_new(struct z_stack *s)
{
    struct z_tcp_pcb *pcb = calloc(1, sizeof(*pcb));
    if (pcb == NULL) {
        return NULL;
    }
    pcb->stack = s;
    pcb->ttl = CONFIG_NET_IPV4_TTL;
    pcb->snd_buf = CONFIG_NET_TCP_SNDBUF;
    pcb->rcv_buf = CONFIG_NET_TCP_RCVBUF;
    /* Linux's defaults: two hours of silence, then 9 probes 75 s apart. */
    pcb->keep_idle_s = 7200;
    pcb->keep_intvl_s = 75;
    pcb->keep_cnt = 9;
    pcb->conn.state = Z_TCP_CLOSED;
    return pcb;
}

static uint32_t make_isn(struct z_stack *s, const struct z_tcp_pcb *pcb)
{
    uint8_t tuple[12];
    z_put_be32(tuple, pcb->laddr);
    z_put_be32(tuple + 4, pcb->raddr);
    z_put_be16(tuple + 8, pcb->lport);
    z_put_be16(tuple + 10, pcb->rport);
    uint32_t f = (uint32_t)z_siphash24(s->isn_key, tuple, sizeof(tuple));
    return f + (uint32_t)(z_stack_now_us(s) / 4);
}

static int conn_setup(struct z_tcp_pcb *pcb, const struct z_netif *nif)
{
    uint16_t mtu = (uint16_t)(nif->mtu > 65535 ? 65535 : nif->mtu);
    struct z_tcp_config cfg = {
        .tso_max = nif->gso_max > 40 ? nif->gso_max - 40 : 0,
        .snd_buf = pcb->snd_buf,
        .rcv_buf = pcb->rcv_buf,
        .mss = (uint16_t)(mtu > 40 + 64 ? mtu - 40 : 64),
        .nodelay = pcb->nodelay,
        .isn = make_isn(pcb->stack, pcb),
        .time_wait_us = TCP_TIME_WAIT_US,
        .max_retries = TCP_MAX_RETRIES,
        .syn_retries = TCP_SYN_RETRIES,
        .sack = CONFIG_NET_TCP_SACK,
        .cc = CONFIG_NET_TCP_CUBIC ? Z_TCP_CC_CUBIC : Z_TCP_CC_RENO,
    };
    int rc = z_tcp_init(&pcb->conn, &pcb_ops, pcb, &cfg);
    if (rc == 0) {
        z_tcp_pcb_apply_keepalive(pcb);
    }
    return rc;
}

void z_tcp_pcb_apply_keepalive(struct z_tcp_pcb *pcb)
{
    if (pcb->conn.ops == NULL) {
        return; /* not connected yet: conn_setup applies it */
    }
    z_tcp_set_keepalive(&pcb->conn, pcb->keepalive, (int64_t)pcb->keep_idle_s * 1000000,
                        (int64_t)pcb->keep_intvl_s * 1000000, pcb->keep_cnt,
                        z_stack_now_us(pcb->stack));
    timer_update(pcb);
}

/* Is (addr, port) taken? TIME-WAIT leftovers yield to SO_REUSEADDR. */
static bool port_in_use(struct z_stack *s, const struct z_tcp_pcb *self, uint32_t addr,
                        uint16_t port)
{
    for (struct z_tcp_pcb *o = s->tcp_pcbs; o != NULL; o = o->next) {
        if (o == self || o->lport != port || o->listener != NULL) {
            continue;
        }
        if (o->laddr != 0 && addr != 0 && o->laddr != addr) {
            continue;
        }
        if (self->reuseaddr && (o->conn.state == Z_TCP_TIME_WAIT || !o->listening)) {
            continue;
        }
        return true;
    }
    return false;
}

static bool bindable(struct z_stack *s, uint32_t addr)
{
    return addr == 0 || (addr >> 24) == 127 || z_ipv4_is_local_locked(s, addr);
}

int z_tcp_pcb_bind(struct z_tcp_pcb *pcb, uint32_t addr, uint16_t port)
{
    struct z_stack *s = pcb->stack;
    if (pcb->in_table) {
        return -EINVAL;
    }
    if (!bindable(s, addr)) {
        return -EADDRNOTAVAIL;
    }
    if (port == 0) {
        const uint32_t span = CONFIG_NET_EPHEMERAL_PORT_MAX - CONFIG_NET_EPHEMERAL_PORT_MIN + 1;
        uint32_t start;
        z_entropy(&start, sizeof(start));
        for (uint32_t i = 0; i < span && port == 0; i++) {
            uint16_t cand = (uint16_t)(CONFIG_NET_EPHEMERAL_PORT_MIN + (start + i) % span);
            if (!port_in_use(s, pcb, addr, cand)) {
                port = cand;
            }
        }
        if (port == 0) {
            return -EADDRINUSE;
        }
    } else if (port_in_use(s, pcb, addr, port)) {
        return -EADDRINUSE;
    }
    pcb->laddr = addr;
    pcb->lport = port;
    table_add(pcb);
    return 0;
}

int z_tcp_pcb_connect(struct z_tcp_pcb *pcb, uint32_t addr, uint16_t port)
{
    struct z_stack *s = pcb->stack;
    if (pcb->conn.state != Z_TCP_CLOSED || pcb->listening) {
        return pcb->listening ? -EINVAL : -EISCONN;
    }
    if (addr == 0) {
        addr = 0x7f000001u;
    }
    struct z_netif *nif;
    uint32_t nh;
    int rc = z_ipv4_route_locked(s, addr, pcb->ifindex, &nif, &nh);
    if (rc < 0) {
        return rc;
    }
    if (!pcb->in_table) {
        rc = z_tcp_pcb_bind(pcb, 0, 0);
        if (rc < 0) {
            return rc;
        }
    }
    if (pcb->laddr == 0) {
        pcb->laddr = z_ipv4_select_source(nif, addr);
        if (pcb->laddr == 0) {
            pcb->laddr = 0x7f000001u;
        }
    }
    pcb->raddr = addr;
    pcb->rport = port;
    rc = conn_setup(pcb, nif);
    if (rc < 0) {
        return rc;
    }
    rc = z_tcp_connect(&pcb->conn, z_stack_now_us(s));
    timer_update(pcb);
    return rc;
}

int z_tcp_pcb_listen(struct z_tcp_pcb *pcb, int backlog)
{
    if (pcb->conn.state != Z_TCP_CLOSED && !pcb->listening) {
        return -EINVAL;
    }
    if (!pcb->in_table) {
        int rc = z_tcp_pcb_bind(pcb, 0, 0);
        if (rc < 0) {
            return rc;
        }
    }
    /* A zero or negative backlog still accepts one connection (never a
     * listener that silently drops every SYN, as lwIP's did). */
    pcb->backlog = backlog < 1 ? 1 : (backlog > 65535 ? 65535 : backlog);
    pcb->listening = true;
    pcb->conn.state = Z_TCP_LISTEN;
    return 0;
}

struct z_tcp_pcb *z_tcp_pcb_accept(struct z_tcp_pcb *l)
{
    struct z_tcp_pcb *c = l->acc_head;
    if (c == NULL) {
        return NULL;
    }
    l->acc_head = c->acc_next;
    if (l->acc_head == NULL) {
        l->acc_tail = NULL;
    }
    l->acc_len--;
    c->acc_next = NULL;
    c->listener = NULL;
    c->queued = false;
    return c;
}

static void release_if_done(struct z_tcp_pcb *pcb)
{
    if (pcb->orphan && pcb->conn.state == Z_TCP_CLOSED) {
        pcb_free(pcb);
    }
}

void z_tcp_pcb_close(struct z_tcp_pcb *pcb, bool abort)
{
    struct z_stack *s = pcb->stack;
    int64_t now = z_stack_now_us(s);
    pcb->notify = NULL;
    pcb->ctx = NULL;
    pcb->orphan = true;
    if (pcb->conn.ops == NULL && !pcb->listening) {
        pcb_free(pcb); /* never connected: nothing to close */
        return;
    }
    if (pcb->listening) {
        /* Children never accepted are reset; those still handshaking too. */
        for (struct z_tcp_pcb *c = s->tcp_pcbs; c != NULL;) {
            struct z_tcp_pcb *next = c->next;
            if (c->listener == pcb) {
                c->listener = NULL;
                c->orphan = true;
                z_tcp_abort(&c->conn, now);
                release_if_done(c);
            }
            c = next;
        }
        pcb->conn.state = Z_TCP_CLOSED;
        pcb_free(pcb);
        return;
    }
    if (abort || z_tcp_readable(&pcb->conn) > 0) {
        z_tcp_abort(&pcb->conn, now);
    } else {
        z_tcp_shutdown_wr(&pcb->conn, now);
    }
    timer_update(pcb);
    release_if_done(pcb);
}

void z_tcp_destroy_all_locked(struct z_stack *s)
{
    while (s->tcp_pcbs != NULL) {
        pcb_free(s->tcp_pcbs);
    }
}

/* ---- input
 * ------------------------------------------------------------------------------------------ */

static void send_reset(struct z_stack *s, const struct z_ipv4_hdr *ip, const struct z_tcp_hdr *in,
                       size_t len)
{
    struct z_tcp_hdr out;
    if (!z_tcp_reset_reply(in, len, &out)) {
        return;
    }
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, Z_TCP_HLEN);
    if (p == NULL) {
        return;
    }
    uint8_t *at = z_pbuf_put(p, Z_TCP_HLEN);
    z_tcp_emit(at, Z_TCP_HLEN, ip->dst, ip->src, &out, 0);
    struct z_ipv4_tx tx = {
        .src = ip->dst,
        .dst = ip->src,
        .proto = Z_IPPROTO_TCP,
        .ttl = CONFIG_NET_IPV4_TTL,
    };
    s->stats.tcp.rst_tx++;
    z_ipv4_output_locked(s, &tx, p);
}

static struct z_tcp_pcb *find_conn(struct z_stack *s, const struct z_ipv4_hdr *ip,
                                   const struct z_tcp_hdr *h)
{
    for (struct z_tcp_pcb *pcb = s->tcp_pcbs; pcb != NULL; pcb = pcb->next) {
        if (!pcb->listening && pcb->lport == h->dport && pcb->rport == h->sport &&
            pcb->raddr == ip->src && pcb->laddr == ip->dst && pcb->conn.state != Z_TCP_CLOSED) {
            return pcb;
        }
    }
    return NULL;
}

/* RFC 6191: a SYN may reopen a TIME-WAIT connection when its timestamp is
 * newer than the last one seen, or, without timestamps, when its sequence
 * number lies beyond the old connection's. */
static bool tw_reusable(const struct z_tcp_pcb *pcb, const struct z_tcp_hdr *syn)
{
    const struct z_tcp_conn *c = &pcb->conn;
    bool seq_newer = Z_SEQ_GT(syn->seq, c->rcv_nxt);
    if (c->ts_ok && (syn->opts.present & Z_TCPOPT_TS)) {
        /* A millisecond clock may not have moved: then the sequence decides. */
        return Z_SEQ_GT(syn->opts.ts_val, c->ts_recent) ||
               (syn->opts.ts_val == c->ts_recent && seq_newer);
    }
    return seq_newer;
}

static struct z_tcp_pcb *find_listener(struct z_stack *s, struct z_netif *nif,
                                       const struct z_ipv4_hdr *ip, const struct z_tcp_hdr *h)
{
    struct z_tcp_pcb *wild = NULL;
    for (struct z_tcp_pcb *pcb = s->tcp_pcbs; pcb != NULL; pcb = pcb->next) {
        if (!pcb->listening || pcb->lport != h->dport ||
            (pcb->ifindex != 0 && pcb->ifindex != nif->index)) {
            continue;
        }
        if (pcb->laddr == ip->dst) {
            return pcb;
        }
        if (pcb->laddr == 0) {
            wild = pcb;
        }
    }
    return wild;
}

/* The half-open child of `l` that arrived first. The table is newest first,
 * so it is the last one found. */
static struct z_tcp_pcb *oldest_half_open(struct z_tcp_pcb *l)
{
    struct z_tcp_pcb *found = NULL;
    for (struct z_tcp_pcb *p = l->stack->tcp_pcbs; p != NULL; p = p->next) {
        if (p->listener == l && !p->queued && p->conn.state == Z_TCP_SYN_RCVD) {
            found = p;
        }
    }
    return found;
}

static void new_child(struct z_tcp_pcb *l, struct z_netif *nif, const struct z_ipv4_hdr *ip,
                      const struct z_tcp_hdr *h)
{
    struct z_stack *s = l->stack;
    /* The SYN queue and the accept queue together stay within the backlog:
     * a flood of SYNs costs one slot each and nothing more. When it is full
     * of half-open connections, the oldest one makes room, so a flood of
     * spoofed SYNs cannot lock out a real client, whose handshake finishes
     * within a round trip. */
    if (l->syn_pending + l->acc_len >= l->backlog) {
        struct z_tcp_pcb *oldest = l->syn_pending > 0 ? oldest_half_open(l) : NULL;
        s->stats.tcp.listen_drops++;
        if (oldest == NULL) {
            return;
        }
        l->syn_pending--;
        oldest->listener = NULL;
        oldest->orphan = true;
        oldest->conn.state = Z_TCP_CLOSED; /* silently: the peer was probably spoofed */
        release_if_done(oldest);
    }
    struct z_tcp_pcb *c = z_tcp_pcb_new(s);
    if (c == NULL) {
        return;
    }
    c->laddr = ip->dst;
    c->lport = h->dport;
    c->raddr = ip->src;
    c->rport = h->sport;
    c->ttl = l->ttl;
    c->tos = l->tos;
    c->nodelay = l->nodelay;
    c->snd_buf = l->snd_buf;
    c->rcv_buf = l->rcv_buf;
    c->keepalive = l->keepalive;
    c->keep_idle_s = l->keep_idle_s;
    c->keep_intvl_s = l->keep_intvl_s;
    c->keep_cnt = l->keep_cnt;
    c->ifindex = l->ifindex;
    c->listener = l;
    if (conn_setup(c, nif) < 0) {
        free(c);
        return;
    }
    table_add(c);
    l->syn_pending++;
    z_tcp_accept_syn(&c->conn, h, z_stack_now_us(s));
    timer_update(c);
}

void z_tcp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    const uint8_t *seg = p->data + ip->ihl;
    size_t seglen = p->len - ip->ihl;
    struct z_tcp_hdr h;
    int hl = ((nif->flags & ZSOCK_IF_LOOPBACK) || p->csum_ok)
                 ? z_tcp_parse_nocsum(seg, seglen, &h)
                 : z_tcp_parse(seg, seglen, ip->src, ip->dst, &h);
    if (hl < 0 || z_ipv4_is_broadcast(nif, ip->dst) || (ip->dst >> 28) == 0xe) {
        s->stats.tcp.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    s->stats.tcp.rx++;
    size_t len = seglen - (size_t)hl;
    struct z_tcp_pcb *pcb = find_conn(s, ip, &h);
    if (pcb != NULL && pcb->conn.state == Z_TCP_TIME_WAIT &&
        (h.flags & (Z_TCP_SYN | Z_TCP_ACK | Z_TCP_RST)) == Z_TCP_SYN && tw_reusable(pcb, &h)) {
        /* A new incarnation of a connection in TIME-WAIT (RFC 6191): the old
         * one steps aside and the SYN goes to the listener. */
        pcb->conn.state = Z_TCP_CLOSED;
        pcb->orphan = true;
        release_if_done(pcb);
        pcb = NULL;
    }
    if (pcb != NULL) {
        z_tcp_input(&pcb->conn, &h, seg + hl, len, z_stack_now_us(s));
        timer_update(pcb);
        if (pcb->conn.state == Z_TCP_CLOSED) {
            struct z_tcp_pcb *l = pcb->listener;
            if (l != NULL) {
                /* A child that died before being accepted leaves its queue. */
                if (!pcb->queued) {
                    l->syn_pending--;
                }
                pcb->orphan = true;
                if (pcb->queued) {
                    pcb->orphan = false; /* accept() will report it */
                }
            }
            release_if_done(pcb);
        }
        z_pbuf_free(p);
        return;
    }
    struct z_tcp_pcb *l = find_listener(s, nif, ip, &h);
    uint8_t ctl = h.flags & (Z_TCP_SYN | Z_TCP_ACK | Z_TCP_RST | Z_TCP_FIN);
    if (l != NULL && ctl == Z_TCP_SYN) {
        new_child(l, nif, ip, &h);
    } else if (l != NULL && !(h.flags & (Z_TCP_ACK | Z_TCP_RST))) {
        /* RFC 9293 3.10.7.2: a listener answers only an ACK with a reset;
         * SYN+FIN (a scan, dropped as Linux does) and segments with no
         * SYN, ACK or RST are dropped. */
        s->stats.tcp.drop_malformed++;
    } else if (!(h.flags & Z_TCP_RST)) {
        s->stats.tcp.drop_no_conn++;
        send_reset(s, ip, &h, len);
    }
    z_pbuf_free(p);
}

/* ---- timers
 * ------------------------------------------------------------------------------------------ */

void z_tcp_timers_locked(struct z_stack *s, int64_t now)
{
    int64_t next = INT64_MAX;
    struct z_tcp_pcb *pcb = s->tcp_pcbs;
    while (pcb != NULL) {
        struct z_tcp_pcb *following = pcb->next;
        if (z_tcp_next_deadline(&pcb->conn) <= now) {
            z_tcp_timer(&pcb->conn, now);
            if (pcb->conn.state == Z_TCP_CLOSED) {
                if (pcb->listener != NULL && !pcb->queued) {
                    pcb->listener->syn_pending--;
                    pcb->orphan = true;
                }
                if (pcb->orphan) {
                    pcb_free(pcb);
                    pcb = following;
                    continue;
                }
            }
        }
        int64_t d = z_tcp_next_deadline(&pcb->conn);
        if (d < next) {
            next = d;
        }
        pcb = following;
    }
    s->tcp_next = next;
}

int64_t z_tcp_next_deadline_locked(struct z_stack *s)
{
    return s->tcp_next;
}
