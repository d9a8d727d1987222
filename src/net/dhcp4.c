/* The DHCPv4 client (RFC 2131), one per interface, inside the stack: it is
 * driven by the replies udp.c hands it and by the stack's 100 ms tick, under
 * the core lock, with no thread of its own. It discovers a server, requests
 * the first acceptable offer, checks with ARP that nobody uses the address,
 * configures address, gateway and DNS servers, renews at T1 (unicast to its
 * server), rebinds at T2 (broadcast), and starts over when the lease runs
 * out or a server says NAK. */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/dhcp.h"
#ifdef CONFIG_DNS_RESOLVER
#include "dns/dns_internal.h"
#endif

#define S_US             1000000LL
#define RETRY_FIRST_S    4 /* RFC 2131 4.1: 4, 8, 16, 32, 64 s ... */
#define RETRY_MAX_S      64
#define REQUEST_TRIES    5           /* REQUESTs for one offer before starting over */
#define RENEW_MIN_US     (60 * S_US) /* RFC 2131 4.4.5: not more often than this */
#define NAK_DELAY_US     (2 * S_US)  /* after a NAK, before discovering again */
#define DECLINE_DELAY_US (10 * S_US) /* RFC 2131 3.1.5: at least ten seconds */
#define PROBE_WAIT_US    (1 * S_US)  /* the ARP check of an offered address */
#define MIN_LEASE_S      10          /* shorter leases are taken as this (a broken server) */
#define INFINITE_LEASE   0xffffffffu
#define DHCP_IP_TTL      64

/* The client's states: RFC 2131 figure 5, with INIT (waiting to send the
 * first DISCOVER) and PROBING (the ARP check after the ACK) made explicit. */
enum phase { P_INIT, P_SELECTING, P_REQUESTING, P_PROBING, P_BOUND, P_RENEWING, P_REBINDING };

struct lease {
    uint32_t addr;
    uint32_t mask;
    uint32_t router;
    uint32_t server;
    uint32_t dns[Z_DHCP_MAX_DNS];
    int n_dns;
    uint32_t lease_s;
    uint32_t t1_s;
    uint32_t t2_s;
    char domain[Z_DHCP_NAME_MAX + 1];
};

struct z_dhcp4 {
    struct z_stack *stack;
    struct z_netif *nif; /* NULL once stopped or the interface is gone */
    bool gone;           /* the interface was removed (waiters get -ENODEV) */
    int refs;            /* the interface's, plus one per waiting thread */
    z_cond_t cond;       /* broadcast when a lease is bound or the client stops */

    enum phase phase;
    uint32_t xid;
    int64_t began;      /* start of this exchange: the secs field counts from here */
    uint16_t secs_sent; /* secs of the last DISCOVER: the selecting REQUEST repeats it */
    int64_t next_tx;    /* next transmission or timeout; INT64_MAX: none */
    int tries;          /* transmissions of the current message */
    int64_t req_first;  /* first REQUEST of the exchange: a lease starts then */
    uint32_t prev_addr; /* requested again in the next DISCOVER (0: none) */

    struct lease offer; /* what we are asking for (REQUESTING, PROBING) */
    struct lease cur;   /* the lease in force (BOUND, RENEWING, REBINDING) */
    bool addr_added;    /* cur.addr was added by us */
    bool gw_set;        /* nif->gateway was set by us to cur.router */
    int64_t lease_start;
    int64_t t1_at, t2_at, expire_at; /* INT64_MAX: never (infinite lease) */
    uint32_t renewals;
};

static uint32_t random32(void)
{
    uint32_t v = 0;
    z_entropy(&v, sizeof(v));
    return v;
}

/* RFC 2131 4.1: the n-th wait (n = 1, 2...) is 4, 8, 16, 32, 64, 64... s,
 * each moved by a uniform random -1..+1 s so clients do not stay in step. */
static int64_t backoff_us(int n)
{
    int64_t base = RETRY_FIRST_S;
    for (int i = 1; i < n && base < RETRY_MAX_S; i++) {
        base *= 2;
    }
    if (base > RETRY_MAX_S) {
        base = RETRY_MAX_S;
    }
    return base * S_US - S_US + (int64_t)(random32() % (2 * S_US + 1));
}

/* An address a host may be given or sent to: not 0/8, loopback, multicast,
 * reserved or broadcast. */
static bool sane_unicast(uint32_t a)
{
    uint32_t top = a >> 24;
    return top != 0 && top != 127 && top < 224;
}

static bool mask_valid(uint32_t m)
{
    return m != 0 && ((~m & (~m + 1)) == 0); /* contiguous ones, then zeros */
}

/* The class default when no subnet mask came (RFC 2131 leaves it to us). */
static uint32_t class_mask(uint32_t a)
{
    return a < 0x80000000u ? 0xff000000u : a < 0xc0000000u ? 0xffff0000u : 0xffffff00u;
}

static int mask_prefix(uint32_t m)
{
    int n = 0;
    while (n < 32 && (m & (0x80000000u >> n))) {
        n++;
    }
    return n;
}

static bool holds_lease(const struct z_dhcp4 *c)
{
    return c->phase >= P_BOUND;
}

static void wake_waiters(void *ctx)
{
    struct z_dhcp4 *c = ctx;
    z_cond_broadcast(&c->cond);
}

static void client_put(struct z_dhcp4 *c)
{
    if (--c->refs > 0) {
        return;
    }
    z_stack_wakeup_cancel_locked(c->stack, c);
    z_cond_destroy(&c->cond);
    z_free(c);
}

/* ---- output --------------------------------------------------------------------------------- */

/* Send one client message to dst (255.255.255.255 or the server). */
static void send_msg(struct z_dhcp4 *c, enum z_dhcp_client_kind kind, uint32_t dst, int64_t now)
{
    struct z_netif *nif = c->nif;
    struct z_stack *s = c->stack;
    struct z_dhcp_client_msg m = {
        .kind = kind,
        .xid = c->xid,
        .max_size = (uint16_t)(nif->mtu < 576     ? 576
                               : nif->mtu > 65535 ? 65535
                                                  : nif->mtu),
    };
    memcpy(m.mac, nif->mac, 6);
    int64_t secs = (now - c->began) / S_US;
    m.secs = (uint16_t)(secs > 65535 ? 65535 : secs);
    char host[CONFIG_NET_HOSTNAME_MAX_LEN + 1];
    if (zsock_gethostname(host, sizeof(host)) == 0) {
        host[Z_DHCP_NAME_MAX < CONFIG_NET_HOSTNAME_MAX_LEN ? Z_DHCP_NAME_MAX
                                                           : CONFIG_NET_HOSTNAME_MAX_LEN] = '\0';
        m.host_name = host;
    }
    uint32_t src = 0;
    switch (kind) {
    case Z_DHCP_BUILD_DISCOVER:
        m.requested_ip = c->prev_addr;
        c->secs_sent = m.secs;
        break;
    case Z_DHCP_BUILD_REQUEST_SELECTING:
        /* RFC 2131 4.4.1: the same secs as the DISCOVER the offer answered. */
        m.secs = c->secs_sent;
        m.requested_ip = c->offer.addr;
        m.server_id = c->offer.server;
        break;
    case Z_DHCP_BUILD_DECLINE:
        m.requested_ip = c->offer.addr;
        m.server_id = c->offer.server;
        break;
    case Z_DHCP_BUILD_REQUEST_RENEWING:
    case Z_DHCP_BUILD_REQUEST_REBINDING:
    case Z_DHCP_BUILD_RELEASE:
        m.ciaddr = c->cur.addr;
        m.server_id = c->cur.server;
        src = c->cur.addr;
        break;
    }
    uint8_t msg[Z_DHCP_MIN_LEN + 128];
    int n = z_dhcp_build_client(msg, sizeof(msg), &m);
    if (n < 0) {
        return;
    }
    if (src == 0) {
        /* What z_ipv4_output_locked() picks too: 0.0.0.0 on an interface
         * without address, so the checksum covers the right source. */
        src = z_ipv4_select_source(nif, dst);
    }
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, Z_UDP_HLEN + (size_t)n);
    if (p == NULL) {
        s->stats.ipv4.no_buffer++;
        return; /* like a loss: the retransmission timer covers it */
    }
    uint8_t *at = z_pbuf_put(p, Z_UDP_HLEN + (size_t)n);
    memcpy(at + Z_UDP_HLEN, msg, (size_t)n);
    z_udp_emit(at, Z_UDP_HLEN + (size_t)n, src, dst, Z_DHCP_CLIENT_PORT, Z_DHCP_SERVER_PORT,
               (size_t)n);
    struct z_ipv4_tx tx = {
        .src = src,
        .dst = dst,
        .proto = Z_IPPROTO_UDP,
        .ttl = DHCP_IP_TTL,
        .ifindex = nif->index,
    };
    s->stats.udp.tx++;
    s->stats.dhcp.tx++;
    z_ipv4_output_locked(s, &tx, p);
}

/* ---- configuration -------------------------------------------------------------------------- */

/* Hand the lease's DNS servers to the resolver (NULL: take them back). The
 * resolver's queries go through the default stack, so only a client there
 * has servers it can reach. */
static void set_dns(struct z_dhcp4 *c, const struct lease *l)
{
#ifdef CONFIG_DNS_RESOLVER
    if (c->stack->is_default) {
        z_dns_set_dhcp_servers(c->nif->index, l != NULL ? l->dns : NULL, l != NULL ? l->n_dns : 0);
    }
#else
    (void)c;
    (void)l;
#endif
}

/* Remove what the lease in force configured. */
static void unconfigure(struct z_dhcp4 *c)
{
    struct z_netif *nif = c->nif;
    if (c->addr_added) {
        z_netif_del_ipv4_locked(nif, c->cur.addr);
    }
    if (c->gw_set && nif->gateway == c->cur.router) {
        nif->gateway = 0;
    }
    if (holds_lease(c)) {
        set_dns(c, NULL);
    }
    c->addr_added = false;
    c->gw_set = false;
    memset(&c->cur, 0, sizeof(c->cur));
    c->renewals = 0;
}

static int64_t at_offset(int64_t start, uint32_t s)
{
    return s == INFINITE_LEASE ? INT64_MAX : start + (int64_t)s * S_US;
}

/* Put lease `l` (started at `start`) in force: address, gateway, DNS, timers. */
static void configure(struct z_dhcp4 *c, const struct lease *l, int64_t start)
{
    struct z_netif *nif = c->nif;
    if (c->addr_added && (c->cur.addr != l->addr || c->cur.mask != l->mask)) {
        z_netif_del_ipv4_locked(nif, c->cur.addr);
        c->addr_added = false;
    }
    if (!c->addr_added) {
        /* -EEXIST: configured by hand already; then it is not ours to remove. */
        c->addr_added = z_netif_add_ipv4_locked(nif, l->addr, l->mask) == 0;
    }
    if (c->gw_set && nif->gateway == c->cur.router && l->router == 0) {
        nif->gateway = 0;
        c->gw_set = false;
    }
    if (l->router != 0) {
        nif->gateway = l->router;
        c->gw_set = true;
    }
    c->cur = *l;
    set_dns(c, l);
    c->lease_start = start;
    c->t1_at = at_offset(start, l->t1_s);
    c->t2_at = at_offset(start, l->t2_s);
    c->expire_at = at_offset(start, l->lease_s);
    c->prev_addr = l->addr;
    c->phase = P_BOUND;
    c->next_tx = INT64_MAX;
    z_stack_wakeup_locked(c->stack, wake_waiters, c);
}

/* ---- exchanges ------------------------------------------------------------------------------ */

/* A new exchange: fresh xid, secs counted from now. */
static void new_exchange(struct z_dhcp4 *c, enum phase phase, int64_t now)
{
    c->phase = phase;
    c->xid = random32();
    c->began = now;
    c->tries = 0;
}

static void send_discover(struct z_dhcp4 *c, int64_t now)
{
    if (c->phase != P_SELECTING) {
        new_exchange(c, P_SELECTING, now);
    }
    send_msg(c, Z_DHCP_BUILD_DISCOVER, 0xffffffffu, now);
    c->tries++;
    c->next_tx = now + backoff_us(c->tries);
}

static void send_select_request(struct z_dhcp4 *c, int64_t now)
{
    if (c->tries == 0) {
        c->req_first = now;
    }
    send_msg(c, Z_DHCP_BUILD_REQUEST_SELECTING, 0xffffffffu, now);
    c->tries++;
    c->next_tx = now + backoff_us(c->tries);
}

/* RFC 2131 4.4.5: wait half the time left to `limit`, but at least 60 s,
 * and never past `limit`, where the next state takes over. */
static int64_t half_way(int64_t now, int64_t limit)
{
    if (limit == INT64_MAX) {
        return INT64_MAX;
    }
    int64_t wait = (limit - now) / 2;
    if (wait < RENEW_MIN_US) {
        wait = RENEW_MIN_US;
    }
    return now + wait < limit ? now + wait : limit;
}

static void send_renew(struct z_dhcp4 *c, int64_t now)
{
    if (c->tries == 0) {
        c->req_first = now;
    }
    bool renewing = c->phase == P_RENEWING;
    send_msg(c, renewing ? Z_DHCP_BUILD_REQUEST_RENEWING : Z_DHCP_BUILD_REQUEST_REBINDING,
             renewing ? c->cur.server : 0xffffffffu, now);
    c->tries++;
    c->next_tx = half_way(now, renewing ? c->t2_at : c->expire_at);
}

/* Back to INIT: the first DISCOVER goes out at `when`. */
static void restart(struct z_dhcp4 *c, int64_t now, int64_t when)
{
    unconfigure(c);
    new_exchange(c, P_INIT, now);
    c->next_tx = when;
    memset(&c->offer, 0, sizeof(c->offer));
    if (when <= now) {
        send_discover(c, now);
    }
}

void z_dhcp4_tick_locked(struct z_netif *nif, int64_t now)
{
    struct z_dhcp4 *c = nif->dhcp;
    if (holds_lease(c)) {
        if (now >= c->expire_at) {
            c->stack->stats.dhcp.expired++;
            restart(c, now, now);
        } else if (c->phase != P_REBINDING && now >= c->t2_at) {
            new_exchange(c, P_REBINDING, now);
            send_renew(c, now);
        } else if (c->phase == P_BOUND && now >= c->t1_at) {
            new_exchange(c, P_RENEWING, now);
            send_renew(c, now);
        } else if (c->phase != P_BOUND && now >= c->next_tx) {
            send_renew(c, now);
        }
        return;
    }
    if (now < c->next_tx) {
        return;
    }
    switch (c->phase) {
    case P_INIT:
    case P_SELECTING:
        send_discover(c, now);
        break;
    case P_REQUESTING:
        if (c->tries >= REQUEST_TRIES) {
            restart(c, now, now); /* no answer to the REQUESTs: RFC 2131 3.1.5 */
        } else {
            send_select_request(c, now);
        }
        break;
    case P_PROBING:
        configure(c, &c->offer, c->req_first); /* nobody answered for the address */
        break;
    default:
        break;
    }
}

/* ---- input ---------------------------------------------------------------------------------- */

/* The lease a reply describes, with defaults and sanity applied. */
static void lease_of(const struct z_dhcp_msg *m, struct lease *l)
{
    memset(l, 0, sizeof(*l));
    l->addr = m->yiaddr;
    l->server = m->server_id;
    l->mask = (m->have & Z_DHCP_HAVE_SUBNET_MASK) && mask_valid(m->subnet_mask)
                  ? m->subnet_mask
                  : class_mask(m->yiaddr);
    if ((m->have & Z_DHCP_HAVE_ROUTER) && sane_unicast(m->router) && m->router != m->yiaddr) {
        l->router = m->router;
    }
    for (int i = 0; i < m->n_dns; i++) {
        if (sane_unicast(m->dns[i])) {
            l->dns[l->n_dns++] = m->dns[i];
        }
    }
    memcpy(l->domain, m->domain, sizeof(l->domain));
    uint32_t lease = m->lease_s < MIN_LEASE_S ? MIN_LEASE_S : m->lease_s;
    l->lease_s = lease;
    if (lease == INFINITE_LEASE) {
        l->t1_s = (m->have & Z_DHCP_HAVE_T1) ? m->t1_s : INFINITE_LEASE;
        l->t2_s = (m->have & Z_DHCP_HAVE_T2) ? m->t2_s : INFINITE_LEASE;
        return;
    }
    /* RFC 2131 4.4.5: T1 0.5 and T2 0.875 of the lease unless the server
     * says otherwise, with T1 <= T2 < lease. */
    l->t2_s = (m->have & Z_DHCP_HAVE_T2) && m->t2_s < lease ? m->t2_s
                                                            : (uint32_t)((uint64_t)lease * 7 / 8);
    l->t1_s = (m->have & Z_DHCP_HAVE_T1) && m->t1_s <= l->t2_s ? m->t1_s
              : lease / 2 <= l->t2_s                           ? lease / 2
                                                               : l->t2_s;
}

/* yiaddr is an address a host can use on its subnet. */
static bool offer_sane(const struct z_dhcp_msg *m)
{
    if (!sane_unicast(m->yiaddr)) {
        return false;
    }
    uint32_t mask = (m->have & Z_DHCP_HAVE_SUBNET_MASK) && mask_valid(m->subnet_mask)
                        ? m->subnet_mask
                        : class_mask(m->yiaddr);
    if (mask_prefix(mask) <= 30) {
        uint32_t host = m->yiaddr & ~mask;
        return host != 0 && host != ~mask; /* not the network or its broadcast */
    }
    return true;
}

void z_dhcp4_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, const uint8_t *payload,
                          size_t len)
{
    (void)ip;
    struct z_dhcp4 *c = nif->dhcp;
    struct z_stack *s = nif->stack;
    s->stats.dhcp.rx++;
    struct z_dhcp_msg m;
    if (z_dhcp_parse(payload, len, &m) < 0) {
        s->stats.dhcp.drop_malformed++;
        return;
    }
    if (m.op != Z_DHCP_OP_REPLY || m.htype != Z_DHCP_HTYPE_ETHER || m.hlen != 6 ||
        memcmp(m.chaddr, nif->mac, 6) != 0 || m.xid != c->xid) {
        s->stats.dhcp.drop_foreign++;
        return;
    }
    /* Every OFFER, ACK and NAK carries its server's identifier (table 3). */
    if (!(m.have & Z_DHCP_HAVE_MSG_TYPE) || !(m.have & Z_DHCP_HAVE_SERVER_ID) ||
        !sane_unicast(m.server_id)) {
        s->stats.dhcp.drop_malformed++;
        return;
    }
    int64_t now = z_stack_now_us(s);
    switch (m.msg_type) {
    case Z_DHCP_OFFER:
        if (c->phase != P_SELECTING) {
            break; /* a later offer: the first one was taken */
        }
        if (!offer_sane(&m)) {
            s->stats.dhcp.drop_malformed++;
            return;
        }
        s->stats.dhcp.offers++;
        lease_of(&m, &c->offer);
        c->phase = P_REQUESTING;
        c->tries = 0;
        send_select_request(c, now);
        return;
    case Z_DHCP_ACK:
        if (c->phase == P_REQUESTING) {
            if (m.server_id != c->offer.server) {
                break;
            }
        } else if (c->phase == P_RENEWING) {
            if (m.server_id != c->cur.server) {
                break;
            }
        } else if (c->phase != P_REBINDING) {
            break;
        }
        /* An ACK to a REQUEST must give the lease time (table 3). */
        if (!offer_sane(&m) || !(m.have & Z_DHCP_HAVE_LEASE_TIME)) {
            s->stats.dhcp.drop_malformed++;
            return;
        }
        s->stats.dhcp.acks++;
        if (c->phase == P_REQUESTING) {
            lease_of(&m, &c->offer);
            /* Check with ARP that nobody has the address before using it. */
            c->phase = P_PROBING;
            c->next_tx = now + PROBE_WAIT_US;
            z_arp_probe_locked(nif, c->offer.addr);
            return;
        }
        struct lease l;
        lease_of(&m, &l);
        configure(c, &l, c->req_first);
        c->renewals++;
        return;
    case Z_DHCP_NAK:
        if ((c->phase == P_REQUESTING && m.server_id == c->offer.server) ||
            (c->phase == P_RENEWING && m.server_id == c->cur.server) || c->phase == P_REBINDING) {
            s->stats.dhcp.naks++;
            c->prev_addr = 0; /* refused: do not ask for it again */
            restart(c, now, now + NAK_DELAY_US);
            return;
        }
        break;
    default:
        break;
    }
    s->stats.dhcp.drop_foreign++;
}

bool z_dhcp4_accept_locked(const struct z_netif *nif, const struct z_ipv4_hdr *ip,
                           const uint8_t *pkt, size_t len)
{
    const struct z_dhcp4 *c = nif->dhcp;
    if (c == NULL || holds_lease(c) || ip->proto != Z_IPPROTO_UDP ||
        (ip->frag & (Z_IPV4_FLAG_MF | Z_IPV4_FRAG_MASK)) != 0 || len < (size_t)ip->ihl + 4) {
        return false;
    }
    return z_get_be16(pkt + ip->ihl + 2) == Z_DHCP_CLIENT_PORT;
}

void z_dhcp4_arp_input_locked(struct z_netif *nif, const struct z_arp *a)
{
    struct z_dhcp4 *c = nif->dhcp;
    if (c->phase != P_PROBING || memcmp(a->sha, nif->mac, Z_ETH_ALEN) == 0) {
        return;
    }
    /* RFC 5227 2.1.1: someone answers for the address, or probes for it too. */
    bool conflict = a->spa == c->offer.addr ||
                    (a->spa == 0 && a->op == Z_ARP_OP_REQUEST && a->tpa == c->offer.addr);
    if (!conflict) {
        return;
    }
    struct z_stack *s = nif->stack;
    int64_t now = z_stack_now_us(s);
    s->stats.dhcp.declines++;
    send_msg(c, Z_DHCP_BUILD_DECLINE, 0xffffffffu, now);
    c->prev_addr = 0;
    restart(c, now, now + DECLINE_DELAY_US);
}

/* ---- control -------------------------------------------------------------------------------- */

int z_dhcp4_start_locked(struct z_netif *nif)
{
    if (!(nif->flags & ZSOCK_IF_ETHERNET)) {
        return -ENOTSUP;
    }
    if (nif->dhcp != NULL) {
        return -EALREADY;
    }
    struct z_dhcp4 *c = z_calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->stack = nif->stack;
    c->nif = nif;
    c->refs = 1;
    z_cond_init(&c->cond);
    nif->dhcp = c;
    z_netif_set_up_locked(nif, true);
    int64_t now = z_stack_now_us(nif->stack);
    new_exchange(c, P_INIT, now);
    /* RFC 2131 4.4.1 suggests a random 1-10 s wait first, so that hosts
     * booting together do not answer in step; a single host starting its
     * stack has nobody to be in step with, and waiting would only delay. */
    send_discover(c, now);
    return 0;
}

/* Unhook the client from its interface and drop the interface's reference. */
static void detach(struct z_dhcp4 *c)
{
    c->nif->dhcp = NULL;
    c->nif = NULL;
    z_cond_broadcast(&c->cond);
    client_put(c);
}

int z_dhcp4_stop_locked(struct z_netif *nif)
{
    struct z_dhcp4 *c = nif->dhcp;
    if (c == NULL) {
        return -EALREADY;
    }
    if (holds_lease(c)) {
        send_msg(c, Z_DHCP_BUILD_RELEASE, c->cur.server, z_stack_now_us(nif->stack));
    }
    unconfigure(c);
    detach(c);
    return 0;
}

void z_dhcp4_detach_locked(struct z_netif *nif)
{
    struct z_dhcp4 *c = nif->dhcp;
    if (holds_lease(c)) {
        set_dns(c, NULL);
    }
    c->gone = true;
    detach(c);
}

void z_dhcp4_get_locked(const struct z_netif *nif, struct zsock_dhcp4_lease *out)
{
    memset(out, 0, sizeof(*out));
    const struct z_dhcp4 *c = nif->dhcp;
    if (c == NULL) {
        out->state = ZSOCK_DHCP4_OFF;
        return;
    }
    static const int states[] = {
        [P_INIT] = ZSOCK_DHCP4_SELECTING,        [P_SELECTING] = ZSOCK_DHCP4_SELECTING,
        [P_REQUESTING] = ZSOCK_DHCP4_REQUESTING, [P_PROBING] = ZSOCK_DHCP4_REQUESTING,
        [P_BOUND] = ZSOCK_DHCP4_BOUND,           [P_RENEWING] = ZSOCK_DHCP4_RENEWING,
        [P_REBINDING] = ZSOCK_DHCP4_REBINDING,
    };
    out->state = states[c->phase];
    const struct lease *l = holds_lease(c)                                      ? &c->cur
                            : c->phase == P_REQUESTING || c->phase == P_PROBING ? &c->offer
                                                                                : NULL;
    if (l == NULL) {
        return;
    }
    out->addr.s_addr = htonl(l->addr);
    out->prefix_len = mask_prefix(l->mask);
    out->router.s_addr = htonl(l->router);
    out->server.s_addr = htonl(l->server);
    for (int i = 0; i < l->n_dns; i++) {
        out->dns[i].s_addr = htonl(l->dns[i]);
    }
    out->n_dns = l->n_dns;
    out->lease_s = l->lease_s;
    out->t1_s = l->t1_s;
    out->t2_s = l->t2_s;
    memcpy(out->domain, l->domain,
           sizeof(out->domain) < sizeof(l->domain) ? sizeof(out->domain) : sizeof(l->domain));
    out->domain[sizeof(out->domain) - 1] = '\0';
    out->renewals = c->renewals;
    if (holds_lease(c)) {
        int64_t left = c->expire_at - z_stack_now_us(c->stack);
        out->remaining_s = c->expire_at == INT64_MAX ? INFINITE_LEASE
                           : left <= 0               ? 0
                                                     : (uint32_t)((left + S_US - 1) / S_US);
    }
}

int z_dhcp4_wait(struct z_stack *s, int ifindex, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? Z_FOREVER : z_deadline_after_us((int64_t)timeout_ms * 1000);
    z_stack_lock(s);
    struct z_netif *nif = z_netif_by_index_locked(s, ifindex);
    int rc;
    if (nif == NULL) {
        rc = -ENODEV;
    } else if (nif->dhcp == NULL) {
        rc = -EALREADY;
    } else {
        struct z_dhcp4 *c = nif->dhcp;
        c->refs++; /* stays valid even if the client is stopped meanwhile */
        bool timed_out = false;
        for (;;) {
            if (c->nif == NULL) {
                rc = c->gone ? -ENODEV : -EALREADY;
                break;
            }
            if (holds_lease(c)) {
                rc = 0;
                break;
            }
            if (timed_out) {
                rc = -ETIMEDOUT;
                break;
            }
            timed_out = z_stack_wait(s, &c->cond, deadline) == -ETIMEDOUT;
        }
        client_put(c);
    }
    z_stack_unlock(s);
    return rc;
}
