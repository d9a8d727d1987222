/* TCP in the stack: the protocol control blocks and their lookup tables,
 * listeners and their queues, segment demux, RST for segments nobody owns,
 * output of the core's segments as IPv4 packets, timers, and RFC 6528
 * initial sequence numbers (a keyed hash of the 4-tuple plus a 4
 * microsecond clock).
 *
 * Lookups cost the same with ten or ten thousand connections:
 * - connections (TIME-WAIT ones included) sit in a hash table of their
 *   4-tuple, keyed by SipHash under a per-stack random key so a peer cannot
 *   aim at one chain; it doubles (and halves) with the number of entries;
 * - every bound pcb hangs from the entry of its local port in a second hash
 *   table, which also lists that port's listeners: a SYN finds its listener
 *   and bind() checks a port by looking at that port only;
 * - timers are a binary heap of the pcbs by next deadline, so a tick runs
 *   only the connections that are due. */
#include "net/tcp_pcb.h"
#include "net/raw.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/siphash.h"

#define TCP_TIME_WAIT_US ((int64_t)CONFIG_NET_TCP_TIME_WAIT_DELAY * 1000) /* 2 * MSL */
#define TCP_MAX_RETRIES  CONFIG_NET_TCP_RETRY_COUNT
#define TCP_SYN_RETRIES  CONFIG_NET_TCP_SYN_RETRY_COUNT
#define TAB_MIN_BUCKETS  64

/* The pcbs bound to one local port, and its listeners among them. */
struct z_tcp_port {
    struct z_tcp_port *next; /* hash chain */
    uint16_t port;
    int explicit_binds; /* pcbs bound by bind() or listen() */
    struct z_tcp_pcb *pcbs;
    struct z_tcp_pcb *listeners;
};

struct z_tcp_tables {
    uint8_t key[16]; /* 4-tuple hash and ephemeral port offsets */
    struct z_tcp_pcb **conn;
    size_t conn_mask, conn_count;
    struct z_tcp_port **ports;
    size_t port_mask, port_count;
    struct z_tcp_pcb **heap; /* min-heap on timer_at, one slot per pcb */
    size_t heap_len, heap_cap;
    size_t pcbs;       /* pcbs allocated */
    uint32_t eph_next; /* RFC 6056 algorithm 3's counter */
};

/* ---- tables
 * ---------------------------------------------------------------------------------------- */

static struct z_tcp_tables *tables(struct z_stack *s)
{
    if (s->tcp_tab != NULL) {
        return s->tcp_tab;
    }
    struct z_tcp_tables *t = z_calloc(1, sizeof(*t));
    if (t == NULL) {
        return NULL;
    }
    t->conn = z_calloc(TAB_MIN_BUCKETS, sizeof(*t->conn));
    t->ports = z_calloc(TAB_MIN_BUCKETS, sizeof(*t->ports));
    if (t->conn == NULL || t->ports == NULL) {
        z_free(t->conn);
        z_free(t->ports);
        z_free(t);
        return NULL;
    }
    t->conn_mask = t->port_mask = TAB_MIN_BUCKETS - 1;
    z_entropy(t->key, sizeof(t->key));
    z_entropy(&t->eph_next, sizeof(t->eph_next));
    s->tcp_tab = t;
    return t;
}

/* A connection's addresses and ports, of one IP version. */
struct tuple {
    uint8_t fam;
    uint16_t lport, rport;
    uint32_t l4, r4;
#if CONFIG_NET_IPV6
    const uint8_t *l6, *r6; /* Z_FAM6 */
#endif
};

#define TUPLE_KEY_MAX (2 * 16 + 4)

/* The tuple as bytes, for keyed hashes; returns their number. */
static size_t tuple_key(const struct tuple *t, uint8_t out[TUPLE_KEY_MAX])
{
    size_t n = 8;
#if CONFIG_NET_IPV6
    if (Z_FAM(t->fam) == Z_FAM6) {
        memcpy(out, t->l6, 16);
        memcpy(out + 16, t->r6, 16);
        n = 32;
    } else
#endif
    {
        z_put_be32(out, t->l4);
        z_put_be32(out + 4, t->r4);
    }
    z_put_be16(out + n, t->lport);
    z_put_be16(out + n + 2, t->rport);
    return n + 4;
}

static struct tuple pcb_tuple(const struct z_tcp_pcb *p)
{
    struct tuple t = {
        .fam = Z_FAM(p->fam) == Z_FAM6 ? Z_FAM6 : Z_FAM4,
        .lport = p->lport,
        .rport = p->rport,
        .l4 = p->laddr,
        .r4 = p->raddr,
    };
#if CONFIG_NET_IPV6
    t.l6 = p->laddr6;
    t.r6 = p->raddr6;
#endif
    return t;
}

static size_t tuple_hash(const struct z_tcp_tables *t, const struct tuple *tu)
{
    uint8_t key[TUPLE_KEY_MAX];
    return (size_t)z_siphash24(t->key, key, tuple_key(tu, key));
}

static size_t pcb_hash(const struct z_tcp_tables *t, const struct z_tcp_pcb *p)
{
    struct tuple tu = pcb_tuple(p);
    return tuple_hash(t, &tu);
}

static bool pcb_is(const struct z_tcp_pcb *p, const struct tuple *t)
{
    if (p->lport != t->lport || p->rport != t->rport) {
        return false;
    }
#if CONFIG_NET_IPV6
    if (Z_FAM(t->fam) == Z_FAM6) {
        return Z_FAM(p->fam) == Z_FAM6 && memcmp(p->raddr6, t->r6, 16) == 0 &&
               memcmp(p->laddr6, t->l6, 16) == 0;
    }
#endif
    return Z_FAM(p->fam) == Z_FAM4 && p->raddr == t->r4 && p->laddr == t->l4;
}

static size_t port_hash(uint16_t port)
{
    return (size_t)((port * 2654435761u) >> 16);
}

/* Rehash the connection table into `n` buckets (a power of two); on
 * allocation failure the old one stays, only with longer chains. */
static void conn_rehash(struct z_tcp_tables *t, size_t n)
{
    struct z_tcp_pcb **nb = z_calloc(n, sizeof(*nb));
    if (nb == NULL) {
        return;
    }
    for (size_t i = 0; i <= t->conn_mask; i++) {
        while (t->conn[i] != NULL) {
            struct z_tcp_pcb *p = t->conn[i];
            t->conn[i] = p->hnext;
            size_t b = pcb_hash(t, p) & (n - 1);
            p->hnext = nb[b];
            nb[b] = p;
        }
    }
    z_free(t->conn);
    t->conn = nb;
    t->conn_mask = n - 1;
}

static void conn_insert(struct z_tcp_pcb *pcb)
{
    struct z_tcp_tables *t = pcb->stack->tcp_tab;
    size_t b = pcb_hash(t, pcb) & t->conn_mask;
    pcb->hnext = t->conn[b];
    t->conn[b] = pcb;
    pcb->hashed = true;
    if (++t->conn_count > t->conn_mask + 1) {
        conn_rehash(t, (t->conn_mask + 1) * 2);
    }
}

static void conn_remove(struct z_tcp_pcb *pcb)
{
    struct z_tcp_tables *t = pcb->stack->tcp_tab;
    for (struct z_tcp_pcb **pp = &t->conn[pcb_hash(t, pcb) & t->conn_mask]; *pp != NULL;
         pp = &(*pp)->hnext) {
        if (*pp == pcb) {
            *pp = pcb->hnext;
            break;
        }
    }
    pcb->hashed = false;
    pcb->hnext = NULL;
    if (--t->conn_count < (t->conn_mask + 1) / 8 && t->conn_mask + 1 > TAB_MIN_BUCKETS) {
        conn_rehash(t, (t->conn_mask + 1) / 2);
    }
}

/* The connection with this 4-tuple that is not CLOSED, or NULL. */
static struct z_tcp_pcb *conn_lookup(struct z_stack *s, const struct tuple *tu)
{
    struct z_tcp_tables *t = s->tcp_tab;
    if (t == NULL) {
        return NULL;
    }
    size_t b = tuple_hash(t, tu) & t->conn_mask;
    for (struct z_tcp_pcb *p = t->conn[b]; p != NULL; p = p->hnext) {
        if (pcb_is(p, tu) && p->conn.state != Z_TCP_CLOSED) {
            return p;
        }
    }
    return NULL;
}

static void port_rehash(struct z_tcp_tables *t, size_t n)
{
    struct z_tcp_port **nb = z_calloc(n, sizeof(*nb));
    if (nb == NULL) {
        return;
    }
    for (size_t i = 0; i <= t->port_mask; i++) {
        while (t->ports[i] != NULL) {
            struct z_tcp_port *e = t->ports[i];
            t->ports[i] = e->next;
            size_t b = port_hash(e->port) & (n - 1);
            e->next = nb[b];
            nb[b] = e;
        }
    }
    z_free(t->ports);
    t->ports = nb;
    t->port_mask = n - 1;
}

static struct z_tcp_port *port_find(const struct z_tcp_tables *t, uint16_t port)
{
    if (t == NULL) {
        return NULL; /* no TCP socket was ever opened on this stack */
    }
    for (struct z_tcp_port *e = t->ports[port_hash(port) & t->port_mask]; e != NULL; e = e->next) {
        if (e->port == port) {
            return e;
        }
    }
    return NULL;
}

/* Bind the pcb to `port` (its laddr already set): it joins the port's entry
 * and the stack's list. 0 or -ENOMEM. */
static int port_attach(struct z_tcp_pcb *pcb, uint16_t port, bool explicitly)
{
    struct z_stack *s = pcb->stack;
    struct z_tcp_tables *t = s->tcp_tab;
    struct z_tcp_port *e = port_find(t, port);
    if (e == NULL) {
        e = z_calloc(1, sizeof(*e));
        if (e == NULL) {
            return -ENOMEM;
        }
        e->port = port;
        size_t b = port_hash(port) & t->port_mask;
        e->next = t->ports[b];
        t->ports[b] = e;
        if (++t->port_count > t->port_mask + 1) {
            port_rehash(t, (t->port_mask + 1) * 2);
        }
    }
    pcb->lport = port;
    pcb->port = e;
    pcb->bound_explicitly = explicitly;
    e->explicit_binds += explicitly;
    pcb->pprev = NULL;
    pcb->pnext = e->pcbs;
    if (e->pcbs != NULL) {
        e->pcbs->pprev = pcb;
    }
    e->pcbs = pcb;
    pcb->prev = NULL;
    pcb->next = s->tcp_pcbs;
    if (s->tcp_pcbs != NULL) {
        s->tcp_pcbs->prev = pcb;
    }
    s->tcp_pcbs = pcb;
    pcb->in_table = true;
    return 0;
}

static void listener_unlink(struct z_tcp_pcb *pcb)
{
    for (struct z_tcp_pcb **pp = &pcb->port->listeners; *pp != NULL; pp = &(*pp)->lnext) {
        if (*pp == pcb) {
            *pp = pcb->lnext;
            break;
        }
    }
    pcb->lnext = NULL;
}

static void port_detach(struct z_tcp_pcb *pcb)
{
    struct z_stack *s = pcb->stack;
    struct z_tcp_tables *t = s->tcp_tab;
    struct z_tcp_port *e = pcb->port;
    if (pcb->listening) {
        listener_unlink(pcb);
    }
    e->explicit_binds -= pcb->bound_explicitly;
    if (pcb->pprev != NULL) {
        pcb->pprev->pnext = pcb->pnext;
    } else {
        e->pcbs = pcb->pnext;
    }
    if (pcb->pnext != NULL) {
        pcb->pnext->pprev = pcb->pprev;
    }
    if (e->pcbs == NULL) {
        for (struct z_tcp_port **pp = &t->ports[port_hash(e->port) & t->port_mask]; *pp != NULL;
             pp = &(*pp)->next) {
            if (*pp == e) {
                *pp = e->next;
                break;
            }
        }
        z_free(e);
        if (--t->port_count < (t->port_mask + 1) / 8 && t->port_mask + 1 > TAB_MIN_BUCKETS) {
            port_rehash(t, (t->port_mask + 1) / 2);
        }
    }
    if (pcb->prev != NULL) {
        pcb->prev->next = pcb->next;
    } else {
        s->tcp_pcbs = pcb->next;
    }
    if (pcb->next != NULL) {
        pcb->next->prev = pcb->prev;
    }
    pcb->next = pcb->prev = pcb->pnext = pcb->pprev = NULL;
    pcb->port = NULL;
    pcb->in_table = false;
}

/* ---- timer heap
 * ------------------------------------------------------------------------------------ */

static void heap_set(struct z_tcp_tables *t, size_t i, struct z_tcp_pcb *p)
{
    t->heap[i] = p;
    p->heap_idx = i + 1;
}

static void heap_up(struct z_tcp_tables *t, size_t i)
{
    struct z_tcp_pcb *p = t->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (t->heap[parent]->timer_at <= p->timer_at) {
            break;
        }
        heap_set(t, i, t->heap[parent]);
        i = parent;
    }
    heap_set(t, i, p);
}

static void heap_down(struct z_tcp_tables *t, size_t i)
{
    struct z_tcp_pcb *p = t->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= t->heap_len) {
            break;
        }
        if (c + 1 < t->heap_len && t->heap[c + 1]->timer_at < t->heap[c]->timer_at) {
            c++;
        }
        if (t->heap[c]->timer_at >= p->timer_at) {
            break;
        }
        heap_set(t, i, t->heap[c]);
        i = c;
    }
    heap_set(t, i, p);
}

static void heap_remove(struct z_tcp_tables *t, struct z_tcp_pcb *p)
{
    size_t i = p->heap_idx - 1;
    p->heap_idx = 0;
    struct z_tcp_pcb *last = t->heap[--t->heap_len];
    if (last != p) {
        heap_set(t, i, last);
        heap_up(t, i);
        heap_down(t, last->heap_idx - 1);
    }
}

/* Put the pcb in the heap at `at` (INT64_MAX: take it out). The heap has a
 * slot for every pcb (reserved in z_tcp_pcb_new), so this cannot fail. */
static void heap_schedule(struct z_tcp_tables *t, struct z_tcp_pcb *p, int64_t at)
{
    if (at == INT64_MAX) {
        if (p->heap_idx != 0) {
            heap_remove(t, p);
        }
        return;
    }
    if (p->heap_idx == 0) {
        p->timer_at = at;
        heap_set(t, t->heap_len++, p);
        heap_up(t, t->heap_len - 1);
        return;
    }
    int64_t old = p->timer_at;
    p->timer_at = at;
    if (at < old) {
        heap_up(t, p->heap_idx - 1);
    } else if (at > old) {
        heap_down(t, p->heap_idx - 1);
    }
}

static int64_t heap_first(const struct z_tcp_tables *t)
{
    return t->heap_len > 0 ? t->heap[0]->timer_at : INT64_MAX;
}

/* Note a connection's next deadline so the core thread (or the simulator)
 * wakes for it. */
static void timer_update(struct z_tcp_pcb *pcb)
{
    struct z_stack *s = pcb->stack;
    struct z_tcp_tables *t = s->tcp_tab;
    heap_schedule(t, pcb, z_tcp_next_deadline(&pcb->conn));
    int64_t first = heap_first(t);
    bool earlier = first < s->tcp_next;
    s->tcp_next = first;
    if (earlier) {
        z_stack_kick(s);
    }
}

void z_tcp_pcb_timer_update(struct z_tcp_pcb *pcb)
{
    timer_update(pcb);
}

/* ---- listener queues
 * ------------------------------------------------------------------------------- */

static void syn_list_add(struct z_tcp_pcb *l, struct z_tcp_pcb *c)
{
    c->syn_next = NULL;
    c->syn_prev = l->syn_tail;
    if (l->syn_tail != NULL) {
        l->syn_tail->syn_next = c;
    } else {
        l->syn_head = c;
    }
    l->syn_tail = c;
    c->in_syn = true;
    l->syn_pending++;
}

/* The child leaves its listener's SYN list (established, dead or evicted). */
static void syn_list_remove(struct z_tcp_pcb *c)
{
    struct z_tcp_pcb *l = c->listener;
    if (!c->in_syn) {
        return;
    }
    if (c->syn_prev != NULL) {
        c->syn_prev->syn_next = c->syn_next;
    } else {
        l->syn_head = c->syn_next;
    }
    if (c->syn_next != NULL) {
        c->syn_next->syn_prev = c->syn_prev;
    } else {
        l->syn_tail = c->syn_prev;
    }
    c->syn_next = c->syn_prev = NULL;
    c->in_syn = false;
    l->syn_pending--;
}

static void acc_queue_remove(struct z_tcp_pcb *c)
{
    struct z_tcp_pcb *l = c->listener;
    struct z_tcp_pcb *prev = NULL;
    for (struct z_tcp_pcb *p = l->acc_head; p != NULL; prev = p, p = p->acc_next) {
        if (p == c) {
            if (prev != NULL) {
                prev->acc_next = c->acc_next;
            } else {
                l->acc_head = c->acc_next;
            }
            if (l->acc_tail == c) {
                l->acc_tail = prev;
            }
            l->acc_len--;
            break;
        }
    }
    c->acc_next = NULL;
    c->queued = false;
}

static void pcb_free(struct z_tcp_pcb *pcb)
{
    struct z_tcp_tables *t = pcb->stack->tcp_tab;
    z_stack_wakeup_cancel_locked(pcb->stack, pcb); /* a pending ACK flush */
    if (pcb->listener != NULL) {
        syn_list_remove(pcb);
        if (pcb->queued) {
            acc_queue_remove(pcb);
        }
        pcb->listener = NULL;
    }
    if (pcb->hashed) {
        conn_remove(pcb);
    }
    if (pcb->in_table) {
        port_detach(pcb);
    }
    if (pcb->heap_idx != 0) {
        heap_remove(t, pcb);
    }
    t->pcbs--;
    if (t->heap_cap > TAB_MIN_BUCKETS && t->pcbs < t->heap_cap / 4) {
        struct z_tcp_pcb **h = z_realloc(t->heap, t->heap_cap / 2 * sizeof(*h));
        if (h != NULL) {
            t->heap = h;
            t->heap_cap /= 2;
        }
    }
    z_tcp_free(&pcb->conn);
    z_free(pcb);
}

/* ---- core callbacks -----------------------------------------------------------------------------
 */

#if CONFIG_NET_IPV6
/* The IPv6 half of pcb_xmit: checksum (or its offload) and output. */
static int xmit6(struct z_tcp_pcb *pcb, const struct z_tcp_hdr *hdr, size_t hl, size_t len,
                 struct z_pbuf *p)
{
    struct z_stack *s = pcb->stack;
    struct z_ipv6_tx tx = {
        .proto = Z_IPPROTO_TCP,
        .hop_limit = pcb->o6.hops,
        .tclass = pcb->o6.tclass,
        .mtu = pcb->o6.mtu,
        .ifindex = pcb->ifindex,
    };
    memcpy(tx.src, pcb->laddr6, Z_IPV6_ALEN);
    memcpy(tx.dst, pcb->raddr6, Z_IPV6_ALEN);
    struct z_netif *via;
    uint8_t nh[Z_IPV6_ALEN];
    bool routed = z_ipv6_route_locked(s, tx.dst, tx.ifindex, &via, nh) == 0;
    if (routed && (via->flags & ZSOCK_IF_LOOPBACK)) {
        z_tcp_emit_nocsum(p->data, hl + len, hdr, len);
    } else if (routed && len > pcb->conn.mss && via->gso_max != 0) {
        z_tcp_emit_nocsum(p->data, hl + len, hdr, len);
        uint32_t ph = z_csum_pseudo6(tx.src, tx.dst, (uint32_t)(hl + len), Z_IPPROTO_TCP);
        z_put_be16(p->data + 16, (uint16_t)~z_csum_finish(ph));
        p->gso_size = pcb->conn.mss;
    } else {
        z_tcp6_emit(p->data, hl + len, tx.src, tx.dst, hdr, len);
    }
    s->stats.tcp.tx++;
    return z_ipv6_output_locked(s, &tx, p);
}
#endif

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
#if CONFIG_NET_TX_QUEUE
    p->prio = pcb->prio;
#endif
#if CONFIG_NET_IPV6
    if (Z_FAM(pcb->fam) == Z_FAM6) {
        return xmit6(pcb, &hdr, hl, len, p);
    }
#endif
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
    syn_list_remove(child);
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
        z_stack_wakeup_locked(l->stack, l->notify, l->ctx);
    }
}

static void pcb_notify(struct z_tcp_conn *c)
{
    struct z_tcp_pcb *pcb = c->ctx;
    if (pcb->listener != NULL && c->state == Z_TCP_ESTABLISHED) {
        child_established(pcb);
    }
    if (pcb->notify != NULL) {
        z_stack_wakeup_locked(pcb->stack, pcb->notify, pcb->ctx);
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

static uint8_t default_fam(const struct z_tcp_pcb *pcb)
{
    return z_sock_fam(Z_V6(pcb->v6sock), pcb->v6only);
}

struct z_tcp_pcb *z_tcp_pcb_new(struct z_stack *s, bool v6sock)
{
    struct z_tcp_tables *t = tables(s);
    if (t == NULL) {
        return NULL;
    }
    if (t->pcbs == t->heap_cap) {
        /* Every pcb has its timer heap slot before it exists. */
        size_t cap = t->heap_cap > 0 ? t->heap_cap * 2 : TAB_MIN_BUCKETS;
        struct z_tcp_pcb **h = z_realloc(t->heap, cap * sizeof(*h));
        if (h == NULL) {
            return NULL;
        }
        t->heap = h;
        t->heap_cap = cap;
    }
    struct z_tcp_pcb *pcb = z_calloc(1, sizeof(*pcb));
    if (pcb == NULL) {
        return NULL;
    }
    t->pcbs++;
    pcb->stack = s;
    pcb->v6sock = v6sock;
    pcb->v6only = v6sock; /* Zephyr's default: IPv4 needs IPV6_V6ONLY off */
    pcb->fam = default_fam(pcb);
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
    struct tuple tu = pcb_tuple(pcb);
    uint8_t key[TUPLE_KEY_MAX];
    uint32_t f = (uint32_t)z_siphash24(s->isn_key, key, tuple_key(&tu, key));
    return f + (uint32_t)(z_stack_now_us(s) / 4);
}

static int conn_setup(struct z_tcp_pcb *pcb, const struct z_netif *nif)
{
    uint32_t mtu = nif->mtu;
    uint32_t hdrs = Z_IPV4_HLEN + Z_TCP_HLEN;
#if CONFIG_NET_IPV6
    if (Z_FAM(pcb->fam) == Z_FAM6) {
        mtu = z_ipv6_path_mtu_locked(pcb->stack, nif, pcb->raddr6);
        if (pcb->o6.mtu >= Z_IPV6_MIN_MTU && pcb->o6.mtu < mtu) {
            mtu = pcb->o6.mtu;
        }
        hdrs = Z_IPV6_HLEN + Z_TCP_HLEN;
    }
#endif
    mtu = mtu > 65535 ? 65535 : mtu;
    struct z_tcp_config cfg = {
        .tso_max = nif->gso_max > hdrs ? nif->gso_max - hdrs : 0,
        .snd_buf = pcb->snd_buf,
        .rcv_buf = pcb->rcv_buf,
        .mss = (uint16_t)(mtu > hdrs + 64 ? mtu - hdrs : 64),
        .nodelay = pcb->nodelay,
        .isn = make_isn(pcb->stack, pcb),
        .time_wait_us = TCP_TIME_WAIT_US,
        .max_retries = TCP_MAX_RETRIES,
        .syn_retries = TCP_SYN_RETRIES,
        .sack = CONFIG_NET_TCP_SACK,
        .cc = CONFIG_NET_TCP_CUBIC ? Z_TCP_CC_CUBIC : Z_TCP_CC_RENO,
    };
    int rc = z_tcp_init(&pcb->conn, &pcb_ops, pcb, &cfg);
    pcb->conn.defer_ack = true;
    if (rc == 0 && CONFIG_NET_TCP_KEEPALIVE) {
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

/* Is (addr, port) taken for an explicit bind? TIME-WAIT leftovers yield to
 * SO_REUSEADDR. Looks only at the pcbs on that port. */
static bool port_in_use(struct z_stack *s, const struct z_tcp_pcb *self, const struct z_lbind *b,
                        uint16_t port)
{
    struct z_tcp_port *e = port_find(s->tcp_tab, port);
    for (struct z_tcp_pcb *o = e != NULL ? e->pcbs : NULL; o != NULL; o = o->pnext) {
        if (o == self || o->listener != NULL || !z_laddr_overlap(&Z_LBIND(o), b)) {
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

#define EPH_SPAN ((uint32_t)(CONFIG_NET_EPHEMERAL_PORT_MAX - CONFIG_NET_EPHEMERAL_PORT_MIN + 1))

/* The binding ep asks for, into *b (b->a6 points into ep), and the
 * interface a link-local address names into *ifindex; -errno if the
 * address cannot be ours. */
static int local_of(const struct z_tcp_pcb *pcb, const struct z_ipep *ep, struct z_lbind *b,
                    int *ifindex)
{
    struct z_stack *s = pcb->stack;
    if (Z_FAM(ep->fam) == Z_FAM4) {
        if (Z_V6(pcb->v6sock) && pcb->v6only) {
            return -EINVAL; /* a mapped address on an IPv6-only socket, as Linux */
        }
        b->fam = Z_FAM4;
        b->a4 = ep->a4;
        return bindable(s, ep->a4) ? 0 : -EADDRNOTAVAIL;
    }
#if CONFIG_NET_IPV6
    if (!Z_V6(pcb->v6sock)) {
        return -EAFNOSUPPORT;
    }
    bool any = z_ipv6_is_unspecified(ep->a6);
    int rc = z_ipep_take_scope(s, ep, false, ifindex);
    if (rc == 0 && !any && !z_ipv6_bindable_locked(s, ep->a6, *ifindex)) {
        rc = -EADDRNOTAVAIL;
    }
    b->fam = any ? default_fam(pcb) : Z_FAM6;
    b->a6 = ep->a6;
    return rc;
#else
    (void)ifindex;
    return -EAFNOSUPPORT;
#endif
}

int z_tcp_pcb_bind(struct z_tcp_pcb *pcb, const struct z_ipep *ep)
{
    struct z_stack *s = pcb->stack;
    if (pcb->in_table) {
        return -EINVAL;
    }
    struct z_lbind b = {0};
    int ifindex = pcb->ifindex;
    int rc = local_of(pcb, ep, &b, &ifindex);
    if (rc < 0) {
        return rc;
    }
    uint16_t port = ep->port;
    if (port == 0) {
        /* A port nobody holds at all, from a random starting point. */
        uint32_t lo = CONFIG_NET_EPHEMERAL_PORT_MIN, span = EPH_SPAN, start;
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
        z_eph_range(pcb->port_range, &lo, &span);
#endif
        z_entropy(&start, sizeof(start));
        for (uint32_t i = 0; i < span && port == 0; i++) {
            uint16_t cand = (uint16_t)(lo + (start + i) % span);
            if (port_find(s->tcp_tab, cand) == NULL) {
                port = cand;
            }
        }
        if (port == 0) {
            return -EADDRINUSE;
        }
    } else if (port_in_use(s, pcb, &b, port)) {
        return -EADDRINUSE;
    }
    rc = port_attach(pcb, port, true);
    if (rc == 0) {
        pcb->fam = b.fam;
        pcb->laddr = b.a4;
        pcb->ifindex = ifindex;
#if CONFIG_NET_IPV6
        if (b.a6 != NULL) {
            memcpy(pcb->laddr6, b.a6, Z_IPV6_ALEN);
        }
#endif
    }
    return rc;
}

/* RFC 6056 algorithm 3: the search for a connection's port starts at a
 * keyed hash of (local address, remote address, remote port) plus a counter
 * that moves on with every connection, so consecutive connections to one
 * place find a free port at once, and nobody elsewhere can predict them. A
 * port is usable unless bound explicitly or already carrying this 4-tuple. */
static int connect_port(struct z_tcp_pcb *pcb)
{
    struct z_stack *s = pcb->stack;
    struct z_tcp_tables *t = s->tcp_tab;
    struct tuple tu = pcb_tuple(pcb);
    tu.lport = 0;
    uint8_t key[TUPLE_KEY_MAX];
    uint32_t offset = (uint32_t)z_siphash24(t->key, key, tuple_key(&tu, key));
    uint32_t lo = CONFIG_NET_EPHEMERAL_PORT_MIN, span = EPH_SPAN;
#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
    z_eph_range(pcb->port_range, &lo, &span);
#endif
    for (uint32_t i = 0; i < span; i++) {
        uint16_t cand = (uint16_t)(lo + (offset + t->eph_next + i) % span);
        struct z_tcp_port *e = port_find(t, cand);
        if (e != NULL && e->explicit_binds > 0) {
            continue;
        }
        tu.lport = cand;
        if (conn_lookup(s, &tu) != NULL) {
            continue;
        }
        t->eph_next += i + 1;
        return port_attach(pcb, cand, false);
    }
    return -EADDRINUSE;
}

/* Route toward the endpoint and choose the local address (unless bound to
 * one): the connection's addresses are set in the pcb, its interface in
 * *nif. -ENETUNREACH, -EADDRNOTAVAIL, -EAFNOSUPPORT, -EINVAL (scope). */
static int route_peer(struct z_tcp_pcb *pcb, const struct z_ipep *ep, struct z_netif **nif)
{
    struct z_stack *s = pcb->stack;
    uint8_t allowed = pcb->in_table ? Z_FAM(pcb->fam) : default_fam(pcb);
    if (!(allowed & Z_FAM(ep->fam))) {
        return Z_FAM(ep->fam) == Z_FAM4 && pcb->v6only ? -ENETUNREACH : -EAFNOSUPPORT;
    }
#if CONFIG_NET_IPV6
    if (Z_FAM(ep->fam) == Z_FAM6) {
        uint8_t dst[Z_IPV6_ALEN], nh[Z_IPV6_ALEN];
        memcpy(dst, ep->a6, Z_IPV6_ALEN);
        if (z_ipv6_is_unspecified(dst)) {
            dst[15] = 1; /* "any" means this host, as on Linux */
        }
        if (z_ipv6_is_multicast(dst)) {
            return -ENETUNREACH;
        }
        int old_if = pcb->ifindex;
        int rc = z_ipep_take_scope(s, ep, false, &pcb->ifindex);
        if (rc == 0) {
            rc = z_ipv6_route_locked(s, dst, pcb->ifindex, nif, nh);
        }
        bool bound_addr = pcb->in_table && pcb->bound_explicitly;
        if (rc == 0 && (!bound_addr || z_ipv6_is_unspecified(pcb->laddr6)) &&
            z_ipv6_select_source(*nif, dst, pcb->laddr6) < 0) {
            rc = -EADDRNOTAVAIL;
        }
        if (rc < 0) {
            pcb->ifindex = old_if;
            return rc;
        }
        memcpy(pcb->raddr6, dst, Z_IPV6_ALEN);
        pcb->fam = Z_FAM6;
        return 0;
    }
#endif
    uint32_t addr = ep->a4 != 0 ? ep->a4 : 0x7f000001u;
    uint32_t nh;
    int rc = z_ipv4_route_locked(s, addr, pcb->ifindex, nif, &nh);
    if (rc < 0) {
        return rc;
    }
    if (pcb->laddr == 0) {
        pcb->laddr = z_ipv4_select_source(*nif, addr);
        if (pcb->laddr == 0) {
            pcb->laddr = 0x7f000001u;
        }
    }
    pcb->raddr = addr;
    pcb->fam = Z_FAM4;
    return 0;
}

int z_tcp_pcb_connect(struct z_tcp_pcb *pcb, const struct z_ipep *ep)
{
    struct z_stack *s = pcb->stack;
    if (pcb->conn.state != Z_TCP_CLOSED || pcb->listening) {
        return pcb->listening ? -EINVAL : -EISCONN;
    }
    if (pcb->hashed) {
        conn_remove(pcb); /* an earlier attempt's 4-tuple, hashed under its addresses */
    }
    struct z_netif *nif;
    int rc = route_peer(pcb, ep, &nif);
    if (rc < 0) {
        return rc;
    }
    pcb->rport = ep->port;
    if (!pcb->in_table) {
        rc = connect_port(pcb);
        if (rc < 0) {
            pcb->fam = default_fam(pcb);
            pcb->laddr = 0;
#if CONFIG_NET_IPV6
            memset(pcb->laddr6, 0, Z_IPV6_ALEN);
#endif
            return rc;
        }
    } else {
        /* Bound already: the 4-tuple must be free. Our own TIME-WAIT
         * connection with timestamps may be recycled, as Linux's
         * tcp_tw_reuse does: PAWS tells old segments apart. */
        struct tuple tu = pcb_tuple(pcb);
        struct z_tcp_pcb *o = conn_lookup(s, &tu);
        if (o != NULL && o != pcb) {
            if (o->conn.state != Z_TCP_TIME_WAIT || !o->conn.ts_ok || !o->orphan) {
                return -EADDRNOTAVAIL;
            }
            pcb_free(o);
        }
    }
    if (pcb->conn.ops != NULL) {
        z_tcp_free(&pcb->conn); /* what an earlier attempt left */
    }
    rc = conn_setup(pcb, nif);
    if (rc < 0) {
        return rc;
    }
    conn_insert(pcb);
    rc = z_tcp_connect(&pcb->conn, z_stack_now_us(s));
    timer_update(pcb);
    return rc;
}

void z_tcp_pcb_local(const struct z_tcp_pcb *pcb, struct z_ipep *out)
{
    z_ipep_make(out, (Z_FAM(pcb->fam) & Z_FAM6) ? Z_FAM6 : Z_FAM4, pcb->laddr, Z_ADDR6(pcb->laddr6),
                pcb->lport, pcb->ifindex);
}

void z_tcp_pcb_peer(const struct z_tcp_pcb *pcb, struct z_ipep *out)
{
    z_ipep_make(out, Z_FAM(pcb->fam) == Z_FAM6 ? Z_FAM6 : Z_FAM4, pcb->raddr, Z_ADDR6(pcb->raddr6),
                pcb->rport, pcb->ifindex);
}

int z_tcp_pcb_listen(struct z_tcp_pcb *pcb, int backlog)
{
    if (pcb->conn.state != Z_TCP_CLOSED && !pcb->listening) {
        return -EINVAL;
    }
    if (!pcb->in_table) {
        struct z_ipep any = {.fam = Z_V6(pcb->v6sock) ? Z_FAM6 : Z_FAM4};
        int rc = z_tcp_pcb_bind(pcb, &any);
        if (rc < 0) {
            return rc;
        }
    }
    if (pcb->hashed) {
        conn_remove(pcb); /* a failed connect's 4-tuple */
    }
    if (!pcb->bound_explicitly) {
        /* A port connect() picked: no longer shared with new connections. */
        pcb->bound_explicitly = true;
        pcb->port->explicit_binds++;
    }
    /* A zero or negative backlog still accepts one connection (never a
     * listener that silently drops every SYN, as lwIP's did). */
    pcb->backlog = backlog < 1 ? 1 : (backlog > 65535 ? 65535 : backlog);
    if (!pcb->listening) {
        pcb->listening = true;
        pcb->lnext = pcb->port->listeners;
        pcb->port->listeners = pcb;
    }
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

/* Reset a child the listener is dropping (the listener is closing). */
static void drop_child(struct z_tcp_pcb *c, int64_t now)
{
    if (c->in_syn) {
        syn_list_remove(c);
    }
    c->listener = NULL;
    c->queued = false;
    c->acc_next = NULL;
    c->orphan = true;
    z_tcp_abort(&c->conn, now);
    timer_update(c);
    release_if_done(c);
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
        while (pcb->syn_head != NULL) {
            drop_child(pcb->syn_head, now);
        }
        while (pcb->acc_head != NULL) {
            struct z_tcp_pcb *c = pcb->acc_head;
            pcb->acc_head = c->acc_next;
            pcb->acc_len--;
            drop_child(c, now);
        }
        pcb->acc_tail = NULL;
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
    struct z_tcp_tables *t = s->tcp_tab;
    if (t == NULL) {
        return;
    }
    /* Children first forget their listeners, so no free touches a freed one. */
    for (struct z_tcp_pcb *p = s->tcp_pcbs; p != NULL; p = p->next) {
        p->listener = NULL;
        p->in_syn = p->queued = false;
    }
    while (s->tcp_pcbs != NULL) {
        pcb_free(s->tcp_pcbs);
    }
    /* Unbound pcbs (sockets never bound) belong to their sockets; the stack
     * must not be destroyed under live sockets, so none is left here. */
    for (size_t i = 0; i <= t->port_mask; i++) {
        while (t->ports[i] != NULL) {
            struct z_tcp_port *e = t->ports[i];
            t->ports[i] = e->next;
            z_free(e);
        }
    }
    z_free(t->conn);
    z_free(t->ports);
    z_free(t->heap);
    z_free(t);
    s->tcp_tab = NULL;
    s->tcp_next = INT64_MAX;
}

/* ---- input
 * ------------------------------------------------------------------------------------------ */

/* Answer a segment nobody owns (its addresses in seg: l ours, r the
 * sender's) with RST. */
static void send_reset(struct z_netif *nif, const struct tuple *seg, const struct z_tcp_hdr *in,
                       size_t len)
{
    struct z_stack *s = nif->stack;
    struct z_tcp_hdr out;
    if (!z_tcp_reset_reply(in, len, &out) || z_silenced(s)) {
        return;
    }
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, Z_TCP_HLEN);
    if (p == NULL) {
        return;
    }
    uint8_t *at = z_pbuf_put(p, Z_TCP_HLEN);
    s->stats.tcp.rst_tx++;
#if CONFIG_NET_IPV6
    if (Z_FAM(seg->fam) == Z_FAM6) {
        struct z_ipv6_tx tx = {.proto = Z_IPPROTO_TCP};
        memcpy(tx.src, seg->l6, Z_IPV6_ALEN);
        memcpy(tx.dst, seg->r6, Z_IPV6_ALEN);
        if (z_ipv6_is_link_local(tx.dst)) {
            tx.ifindex = nif->index;
        }
        z_tcp6_emit(at, Z_TCP_HLEN, tx.src, tx.dst, &out, 0);
        z_ipv6_output_locked(s, &tx, p);
        return;
    }
#else
    (void)nif;
#endif
    z_tcp_emit(at, Z_TCP_HLEN, seg->l4, seg->r4, &out, 0);
    struct z_ipv4_tx tx = {
        .src = seg->l4,
        .dst = seg->r4,
        .proto = Z_IPPROTO_TCP,
        .ttl = CONFIG_NET_IPV4_TTL,
    };
    z_ipv4_output_locked(s, &tx, p);
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
                                       const struct tuple *seg)
{
    struct z_tcp_port *e = port_find(s->tcp_tab, seg->lport);
    struct z_tcp_pcb *wild = NULL;
    for (struct z_tcp_pcb *pcb = e != NULL ? e->listeners : NULL; pcb != NULL; pcb = pcb->lnext) {
        if ((pcb->ifindex != 0 && pcb->ifindex != nif->index) ||
            !(Z_FAM(pcb->fam) & Z_FAM(seg->fam))) {
            continue;
        }
        bool any;
#if CONFIG_NET_IPV6
        if (Z_FAM(seg->fam) == Z_FAM6) {
            any = z_ipv6_is_unspecified(pcb->laddr6);
            if (!any && memcmp(pcb->laddr6, seg->l6, Z_IPV6_ALEN) == 0) {
                return pcb;
            }
        } else
#endif
        {
            any = pcb->laddr == 0;
            if (pcb->laddr == seg->l4 && !any) {
                return pcb;
            }
        }
        if (any) {
            wild = pcb;
        }
    }
    return wild;
}

static void new_child(struct z_tcp_pcb *l, struct z_netif *nif, const struct tuple *seg,
                      const struct z_tcp_hdr *h)
{
    struct z_stack *s = l->stack;
    /* The SYN queue and the accept queue together stay within the backlog:
     * a flood of SYNs costs one slot each and nothing more. When it is full
     * of half-open connections, the oldest one makes room, so a flood of
     * spoofed SYNs cannot lock out a real client, whose handshake finishes
     * within a round trip. */
    if (l->syn_pending + l->acc_len >= l->backlog) {
        struct z_tcp_pcb *oldest = l->syn_head;
        s->stats.tcp.listen_drops++;
        if (oldest == NULL) {
            return;
        }
        syn_list_remove(oldest);
        oldest->listener = NULL;
        oldest->orphan = true;
        oldest->conn.state = Z_TCP_CLOSED; /* silently: the peer was probably spoofed */
        release_if_done(oldest);
    }
    struct z_tcp_pcb *c = z_tcp_pcb_new(s, Z_V6(l->v6sock));
    if (c == NULL) {
        return;
    }
    c->fam = Z_FAM(seg->fam);
    c->v6only = l->v6only;
    c->laddr = seg->l4;
    c->raddr = seg->r4;
#if CONFIG_NET_IPV6
    if (Z_FAM(seg->fam) == Z_FAM6) {
        memcpy(c->laddr6, seg->l6, Z_IPV6_ALEN);
        memcpy(c->raddr6, seg->r6, Z_IPV6_ALEN);
    }
    c->o6 = l->o6;
#endif
    c->rport = h->sport;
    c->ttl = l->ttl;
    c->tos = l->tos;
#if CONFIG_NET_TX_QUEUE
    c->prio = l->prio;
#endif
    c->nodelay = l->nodelay;
    c->snd_buf = l->snd_buf;
    c->rcv_buf = l->rcv_buf;
    c->keepalive = l->keepalive;
    c->keep_idle_s = l->keep_idle_s;
    c->keep_intvl_s = l->keep_intvl_s;
    c->keep_cnt = l->keep_cnt;
    c->ifindex = l->ifindex;
#if CONFIG_NET_IPV6
    if (Z_FAM(seg->fam) == Z_FAM6 && z_ipv6_is_link_local(seg->r6)) {
        c->ifindex = nif->index; /* a link-local peer is on this link only */
    }
#endif
    c->lport = h->dport;
    if (conn_setup(c, nif) < 0 || port_attach(c, h->dport, false) < 0) {
        pcb_free(c);
        return;
    }
    conn_insert(c);
    c->listener = l;
    syn_list_add(l, c);
    z_tcp_accept_syn(&c->conn, h, z_stack_now_us(s));
    timer_update(c);
}

/* The ACK left pending by a burst of input (run before the lock goes). */
static void pcb_ack_flush(void *ctx)
{
    struct z_tcp_pcb *pcb = ctx;
    z_tcp_ack_flush(&pcb->conn, z_stack_now_us(pcb->stack));
    timer_update(pcb);
}

/* A parsed segment (payload of len bytes at data) with its addresses in
 * seg (l: ours): to its connection, else a listener, else RST. Takes p. */
static void tcp_input(struct z_netif *nif, const struct tuple *seg, const struct z_tcp_hdr *h,
                      const uint8_t *data, size_t len, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    s->stats.tcp.rx++;
    struct z_tcp_pcb *pcb = conn_lookup(s, seg);
    if (pcb != NULL && pcb->conn.state == Z_TCP_TIME_WAIT &&
        (h->flags & (Z_TCP_SYN | Z_TCP_ACK | Z_TCP_RST)) == Z_TCP_SYN && tw_reusable(pcb, h)) {
        /* A new incarnation of a connection in TIME-WAIT (RFC 6191): the old
         * one steps aside and the SYN goes to the listener. */
        pcb->conn.state = Z_TCP_CLOSED;
        pcb->orphan = true;
        release_if_done(pcb);
        pcb = NULL;
    }
    if (pcb != NULL) {
        uint32_t una = pcb->conn.snd_una;
        z_tcp_input(&pcb->conn, h, data, len, z_stack_now_us(s));
#if CONFIG_NET_IPV6
        if (Z_FAM(seg->fam) == Z_FAM6 && Z_SEQ_GT(pcb->conn.snd_una, una)) {
            /* New data acknowledged by an on-link peer confirms it as a
             * neighbor (RFC 4861 7.3.1), sparing the probes of DELAY and PROBE. */
            z_nd_confirm_locked(nif, seg->r6);
        }
#else
        (void)una;
#endif
        if (pcb->conn.ack_pending) {
            /* One ACK for the whole burst of input being processed. */
            z_stack_wakeup_locked(s, pcb_ack_flush, pcb);
        }
        timer_update(pcb);
        if (pcb->conn.state == Z_TCP_CLOSED) {
            struct z_tcp_pcb *l = pcb->listener;
            if (l != NULL) {
                /* A child that died before being accepted leaves its queue;
                 * one already queued stays for accept() to report. */
                syn_list_remove(pcb);
                pcb->orphan = !pcb->queued;
                if (!pcb->queued) {
                    pcb->listener = NULL;
                }
            }
            release_if_done(pcb);
        }
        z_pbuf_free(p);
        return;
    }
    struct z_tcp_pcb *l = find_listener(s, nif, seg);
    uint8_t ctl = h->flags & (Z_TCP_SYN | Z_TCP_ACK | Z_TCP_RST | Z_TCP_FIN);
    if (l != NULL && ctl == Z_TCP_SYN) {
        new_child(l, nif, seg, h);
    } else if (l != NULL && !(h->flags & (Z_TCP_ACK | Z_TCP_RST))) {
        /* RFC 9293 3.10.7.2: a listener answers only an ACK with a reset;
         * SYN+FIN (a scan, dropped as Linux does) and segments with no
         * SYN, ACK or RST are dropped. */
        s->stats.tcp.drop_malformed++;
    } else if (!(h->flags & Z_TCP_RST)) {
        s->stats.tcp.drop_no_conn++;
        send_reset(nif, seg, h, len);
    }
    z_pbuf_free(p);
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
    struct tuple tu = {
        .fam = Z_FAM4,
        .lport = h.dport,
        .rport = h.sport,
        .l4 = ip->dst,
        .r4 = ip->src,
    };
    tcp_input(nif, &tu, &h, seg + hl, seglen - (size_t)hl, p);
}

#if CONFIG_NET_IPV6
void z_tcp6_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, struct z_pbuf *p,
                         size_t off)
{
    struct z_stack *s = nif->stack;
    const uint8_t *seg = p->data + off;
    size_t seglen = p->len - off;
    struct z_tcp_hdr h;
    int hl = ((nif->flags & ZSOCK_IF_LOOPBACK) || p->csum_ok)
                 ? z_tcp_parse_nocsum(seg, seglen, &h)
                 : z_tcp6_parse(seg, seglen, ip->src, ip->dst, &h);
    if (hl < 0 || z_ipv6_is_multicast(ip->dst)) {
        s->stats.tcp.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    struct tuple tu = {
        .fam = Z_FAM6,
        .lport = h.dport,
        .rport = h.sport,
        .l6 = ip->dst,
        .r6 = ip->src,
    };
    tcp_input(nif, &tu, &h, seg + hl, seglen - (size_t)hl, p);
}

void z_tcp6_pmtu_locked(struct z_stack *s, const uint8_t dst[Z_IPV6_ALEN])
{
    for (struct z_tcp_pcb *pcb = s->tcp_pcbs; pcb != NULL; pcb = pcb->next) {
        struct z_tcp_conn *c = &pcb->conn;
        struct z_netif *nif;
        uint8_t nh[Z_IPV6_ALEN];
        if (Z_FAM(pcb->fam) != Z_FAM6 || c->ops == NULL || memcmp(pcb->raddr6, dst, 16) != 0 ||
            z_ipv6_route_locked(s, dst, pcb->ifindex, &nif, nh) < 0) {
            continue;
        }
        uint32_t mtu = z_ipv6_path_mtu_locked(s, nif, dst);
        uint32_t mss = mtu - Z_IPV6_HLEN - Z_TCP_HLEN - (c->ts_ok ? 12 : 0);
        if (mss < c->mss) {
            c->mss = (uint16_t)mss;
        }
    }
}
#endif

/* ---- timers
 * ------------------------------------------------------------------------------------------ */

void z_tcp_timers_locked(struct z_stack *s, int64_t now)
{
    struct z_tcp_tables *t = s->tcp_tab;
    if (t == NULL) {
        s->tcp_next = INT64_MAX;
        return;
    }
    /* Only the connections that are due; each runs once per call (a
     * deadline still due afterwards waits for the next call). */
    while (t->heap_len > 0 && t->heap[0]->timer_at <= now) {
        struct z_tcp_pcb *pcb = t->heap[0];
        if (z_tcp_next_deadline(&pcb->conn) <= now) {
            z_tcp_timer(&pcb->conn, now);
        }
        if (pcb->conn.state == Z_TCP_CLOSED) {
            if (pcb->listener != NULL && !pcb->queued) {
                syn_list_remove(pcb);
                pcb->listener = NULL;
                pcb->orphan = true;
            }
            if (pcb->orphan) {
                pcb_free(pcb);
                continue;
            }
        }
        int64_t d = z_tcp_next_deadline(&pcb->conn);
        heap_schedule(t, pcb, d != INT64_MAX && d <= now ? now + 1 : d);
    }
    s->tcp_next = heap_first(t);
}

int64_t z_tcp_next_deadline_locked(struct z_stack *s)
{
    return s->tcp_next;
}
