/* ARP (RFC 826) for Ethernet interfaces: a per-interface cache with aging,
 * a bounded queue of packets waiting for each answer, request retries, and
 * gratuitous announcements. Entries are only created for addresses we asked
 * about or that asked about us, so a flood of unsolicited replies cannot
 * fill the cache. */
#include "net/net.h"

#include <errno.h>
#include <string.h>

#define ARP_REACHABLE_US (60 * 1000000LL) /* re-resolve after a minute */
#define ARP_RETRY_US     (1000000LL)
#define ARP_MAX_TRIES    3

static const uint8_t bcast_mac[Z_ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct z_arp_entry *arp_find(struct z_netif *nif, uint32_t ip)
{
    for (int i = 0; i < nif->arp_size; i++) {
        if (nif->arp[i].state != Z_ARP_FREE && nif->arp[i].ip == ip) {
            return &nif->arp[i];
        }
    }
    return NULL;
}

static void entry_clear(struct z_stack *s, struct z_arp_entry *e, bool unresolved)
{
    unsigned n = z_neigh_queue_drop(&e->pending);
    if (unresolved) {
        s->stats.arp.unresolved += n;
    }
    memset(e, 0, sizeof(*e));
}

/* A free entry, or the one that expires first (never an incomplete one
 * with packets waiting, if anything else is available). */
static struct z_arp_entry *arp_alloc(struct z_netif *nif)
{
    struct z_arp_entry *victim = NULL;
    for (int i = 0; i < nif->arp_size; i++) {
        struct z_arp_entry *e = &nif->arp[i];
        if (e->state == Z_ARP_FREE) {
            return e;
        }
        if (victim == NULL || (e->state == Z_ARP_REACHABLE && (victim->state != Z_ARP_REACHABLE ||
                                                               e->deadline < victim->deadline))) {
            victim = e;
        }
    }
    entry_clear(nif->stack, victim, true);
    return victim;
}

static int send_arp(struct z_netif *nif, uint16_t op, const uint8_t *eth_dst, const uint8_t *tha,
                    uint32_t tpa, uint32_t spa)
{
    struct z_stack *s = nif->stack;
    struct z_pbuf *p = z_pbuf_alloc(&s->pool, Z_PBUF_HEADROOM, Z_ETH_MIN_FRAME);
    if (p == NULL) {
        s->stats.ipv4.no_buffer++;
        return -ENOBUFS;
    }
    struct z_arp a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, nif->mac, Z_ETH_ALEN);
    memcpy(a.tha, tha, Z_ETH_ALEN);
    uint8_t *at = z_pbuf_put(p, Z_ETH_MIN_FRAME - Z_ETH_HLEN);
    memset(at, 0, Z_ETH_MIN_FRAME - Z_ETH_HLEN);
    z_arp_emit(at, Z_ARP_LEN, &a);
    struct z_eth_hdr eth = {.type = Z_ETHERTYPE_ARP};
    memcpy(eth.dst, eth_dst, Z_ETH_ALEN);
    memcpy(eth.src, nif->mac, Z_ETH_ALEN);
    z_eth_emit(z_pbuf_push(p, Z_ETH_HLEN), Z_ETH_HLEN, &eth);
    s->stats.arp.tx++;
    return z_netif_output_locked(nif, p);
}

static void send_request(struct z_netif *nif, uint32_t target)
{
    static const uint8_t zero[Z_ETH_ALEN] = {0};
    send_arp(nif, Z_ARP_OP_REQUEST, bcast_mac, zero, target, z_ipv4_select_source(nif, target));
}

void z_arp_announce_locked(struct z_netif *nif, uint32_t addr)
{
    static const uint8_t zero[Z_ETH_ALEN] = {0};
    /* Gratuitous ARP: a request for our own address (RFC 5227 announcement). */
    send_arp(nif, Z_ARP_OP_REQUEST, bcast_mac, zero, addr, addr);
}

#ifdef CONFIG_NET_DHCPV4
void z_arp_probe_locked(struct z_netif *nif, uint32_t addr)
{
    static const uint8_t zero[Z_ETH_ALEN] = {0};
    /* RFC 5227 probe: sender address 0, so no cache learns a mapping yet. */
    send_arp(nif, Z_ARP_OP_REQUEST, bcast_mac, zero, addr, 0);
}
#endif

int z_arp_output_locked(struct z_netif *nif, uint32_t nh, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    if (z_ipv4_is_broadcast(nif, nh)) {
        return z_eth_output_locked(nif, bcast_mac, Z_ETHERTYPE_IPV4, p);
    }
#if CONFIG_NET_IGMP
    if (z_ipv4_is_multicast(nh)) {
        uint8_t mac[Z_ETH_ALEN];
        z_ipv4_mcast_mac(nh, mac);
        return z_eth_output_locked(nif, mac, Z_ETHERTYPE_IPV4, p);
    }
#endif
    struct z_arp_entry *e = arp_find(nif, nh);
    if (e != NULL && e->state == Z_ARP_REACHABLE) {
        return z_eth_output_locked(nif, e->mac, Z_ETHERTYPE_IPV4, p);
    }
    if (e == NULL) {
        e = arp_alloc(nif);
        e->ip = nh;
        e->state = Z_ARP_INCOMPLETE;
        e->tries = 1;
        e->deadline = z_stack_now_us(s) + ARP_RETRY_US;
        send_request(nif, nh);
    }
    if (z_neigh_queue_put(&e->pending, p) < 0) {
        s->stats.arp.queue_full++; /* like a loss on the wire: the sender is not told */
    }
    return 0;
}

/* Record (ip, mac); send what was waiting for it. */
static void arp_learn(struct z_netif *nif, struct z_arp_entry *e, const uint8_t *mac)
{
    memcpy(e->mac, mac, Z_ETH_ALEN);
    e->state = Z_ARP_REACHABLE;
    e->deadline = z_stack_now_us(nif->stack) + ARP_REACHABLE_US;
    z_neigh_queue_send(&e->pending, nif, e->mac, Z_ETHERTYPE_IPV4);
}

static bool is_our_address(const struct z_netif *nif, uint32_t ip)
{
    for (int i = 0; i < nif->n_ipv4; i++) {
        if (nif->ipv4[i].addr == ip) {
            return true;
        }
    }
    return false;
}

void z_arp_input_locked(struct z_netif *nif, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    struct z_arp a;
    if (z_arp_parse(p->data, p->len, &a) < 0 || z_eth_is_multicast(a.sha) || a.spa == 0xffffffffu ||
        (a.spa >> 28) == 0xe) {
        s->stats.arp.drop_malformed++;
        z_pbuf_free(p);
        return;
    }
    z_pbuf_free(p);
    s->stats.arp.rx++;
    if (a.op == Z_ARP_OP_REQUEST) {
        s->stats.arp.requests_rx++;
    } else {
        s->stats.arp.replies_rx++;
    }
#ifdef CONFIG_NET_DHCPV4
    if (nif->dhcp != NULL) {
        z_dhcp4_arp_input_locked(nif, &a); /* the check of an offered address */
    }
#endif
    bool for_us = is_our_address(nif, a.tpa);
    if (a.spa != 0 && !is_our_address(nif, a.spa)) {
        struct z_arp_entry *e = arp_find(nif, a.spa);
        if (e != NULL) {
            arp_learn(nif, e, a.sha); /* update what we know, gratuitous ARP included */
        } else if (for_us) {
            e = arp_alloc(nif);
            e->ip = a.spa;
            arp_learn(nif, e, a.sha);
        }
    }
    if (a.op == Z_ARP_OP_REQUEST && for_us && a.spa != a.tpa) {
        send_arp(nif, Z_ARP_OP_REPLY, a.sha, a.sha, a.spa, a.tpa);
    }
}

void z_arp_tick_locked(struct z_netif *nif, int64_t now)
{
    for (int i = 0; i < nif->arp_size; i++) {
        struct z_arp_entry *e = &nif->arp[i];
        if (e->state == Z_ARP_FREE || now < e->deadline) {
            continue;
        }
        if (e->state == Z_ARP_REACHABLE) {
            entry_clear(nif->stack, e, false);
        } else if (e->tries >= ARP_MAX_TRIES) {
            entry_clear(nif->stack, e, true);
        } else {
            e->tries++;
            e->deadline = now + ARP_RETRY_US;
            send_request(nif, e->ip);
        }
    }
}

void z_arp_flush_locked(struct z_netif *nif)
{
    for (int i = 0; i < nif->arp_size; i++) {
        if (nif->arp[i].state != Z_ARP_FREE) {
            entry_clear(nif->stack, &nif->arp[i], true);
        }
    }
}
