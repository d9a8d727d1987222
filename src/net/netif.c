/* Interfaces: creation and removal, addresses, up/down, the input demux
 * (Ethernet type or raw IP) and the output path shared by every driver
 * (statistics and capture). */
#include "net/net.h"
#include "net/packet.h"

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "tap" -> "tap0", "tap1"...; a full name is kept if free. */
static void unique_name(struct z_stack *s, const char *want, char out[IFNAMSIZ])
{
    if (z_netif_by_name_locked(s, want) == NULL) {
        z_strlcpy(out, want, IFNAMSIZ);
        return;
    }
    /* The base keeps room for up to four digits. */
    size_t base = strlen(want) < IFNAMSIZ - 5 ? strlen(want) : IFNAMSIZ - 5;
    for (unsigned i = 0;; i = (i + 1) % 10000) {
        char digits[5];
        int n = 0;
        unsigned v = i;
        do {
            digits[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v != 0);
        memcpy(out, want, base);
        for (int k = 0; k < n; k++) {
            out[base + (size_t)k] = digits[n - 1 - k];
        }
        out[base + (size_t)n] = '\0';
        if (z_netif_by_name_locked(s, out) == NULL) {
            return;
        }
    }
}

struct z_netif *z_netif_add_locked(struct z_stack *s, const char *name, uint32_t flags,
                                   uint32_t mtu, const uint8_t *mac,
                                   const struct z_netif_driver *drv, void *drv_state)
{
    struct z_netif *nif = z_calloc(1, sizeof(*nif));
    if (nif == NULL) {
        return NULL;
    }
    if (flags & ZSOCK_IF_ETHERNET) {
        nif->arp = z_calloc(CONFIG_NET_ARP_ENTRIES, sizeof(*nif->arp));
        if (nif->arp == NULL) {
            z_free(nif);
            return NULL;
        }
        nif->arp_size = CONFIG_NET_ARP_ENTRIES;
    }
    nif->stack = s;
    if (z_ipv6_if_attach_locked(nif) < 0) {
        z_free(nif->arp);
        z_free(nif);
        return NULL;
    }
    nif->index = s->next_ifindex++;
    unique_name(s, name, nif->name);
    nif->flags = flags & ~ZSOCK_IF_UP;
    nif->mtu = mtu;
    if (mac != NULL) {
        memcpy(nif->mac, mac, Z_ETH_ALEN);
    }
    nif->drv = drv;
    nif->drv_state = drv_state;
    /* Appended, so listing follows creation order. */
    struct z_netif **pp = &s->ifaces;
    while (*pp != NULL) {
        pp = &(*pp)->next;
    }
    *pp = nif;
    z_stack_kick(s);
    return nif;
}

static void netif_free(struct z_netif *nif)
{
    if (nif->drv->destroy != NULL) {
        nif->drv->destroy(nif);
    }
    z_free(nif->arp);
    z_igmp_free_locked(nif);
    z_free(nif);
}

void z_netif_remove_locked(struct z_netif *nif)
{
    struct z_stack *s = nif->stack;
#ifdef CONFIG_NET_DHCPV4
    if (nif->dhcp != NULL) {
        z_dhcp4_detach_locked(nif);
    }
#endif
    for (struct z_netif **pp = &s->ifaces; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == nif) {
            *pp = nif->next;
            break;
        }
    }
    z_arp_flush_locked(nif);
    z_ipv6_if_detach_locked(nif);
    z_capture_stop_locked(nif);
    nif->flags &= ~ZSOCK_IF_UP;
#if CONFIG_NET_TX_QUEUE
    z_netif_tx_flush_locked(nif);
#endif
    if (s->thread_running) {
        /* The core thread may be inside rx_poll: it frees the interface
         * at the top of its next round. */
        nif->next = s->graveyard;
        s->graveyard = nif;
        z_stack_kick(s);
    } else {
        netif_free(nif);
    }
}

void z_netif_free_graveyard(struct z_stack *s)
{
    z_mutex_lock(&s->lock);
    struct z_netif *dead = s->graveyard;
    s->graveyard = NULL;
    z_mutex_unlock(&s->lock);
    while (dead != NULL) {
        struct z_netif *next = dead->next;
        netif_free(dead);
        dead = next;
    }
}

struct z_netif *z_netif_by_index_locked(struct z_stack *s, int index)
{
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (nif->index == index) {
            return nif;
        }
    }
    return NULL;
}

struct z_netif *z_netif_by_name_locked(struct z_stack *s, const char *name)
{
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        if (strncmp(nif->name, name, IFNAMSIZ) == 0) {
            return nif;
        }
    }
    return NULL;
}

int z_netif_set_up_locked(struct z_netif *nif, bool up)
{
    bool was_up = nif->flags & ZSOCK_IF_UP;
    if (up) {
        nif->flags |= ZSOCK_IF_UP;
        if (!was_up && (nif->flags & ZSOCK_IF_ETHERNET)) {
            for (int i = 0; i < nif->n_ipv4; i++) {
                z_arp_announce_locked(nif, nif->ipv4[i].addr);
            }
        }
        if (!was_up) {
            z_ipv6_if_up_locked(nif);
            z_igmp_up_locked(nif);
        }
    } else {
        nif->flags &= ~ZSOCK_IF_UP;
        z_arp_flush_locked(nif);
#if CONFIG_NET_TX_QUEUE
        z_netif_tx_flush_locked(nif); /* frames queued for a dead link are lost, as on Linux */
#endif
        if (was_up) {
            z_ipv6_if_down_locked(nif);
        }
    }
    return 0;
}

int z_netif_add_ipv4_locked(struct z_netif *nif, uint32_t addr, uint32_t mask)
{
    for (int i = 0; i < nif->n_ipv4; i++) {
        if (nif->ipv4[i].addr == addr) {
            return -EEXIST;
        }
    }
    if (nif->n_ipv4 == Z_NETIF_MAX_IPV4) {
        return -ENOSPC;
    }
    nif->ipv4[nif->n_ipv4].addr = addr;
    nif->ipv4[nif->n_ipv4].mask = mask;
    nif->n_ipv4++;
    if ((nif->flags & ZSOCK_IF_UP) && (nif->flags & ZSOCK_IF_ETHERNET)) {
        z_arp_announce_locked(nif, addr);
    }
    return 0;
}

int z_netif_del_ipv4_locked(struct z_netif *nif, uint32_t addr)
{
    for (int i = 0; i < nif->n_ipv4; i++) {
        if (nif->ipv4[i].addr == addr) {
            memmove(&nif->ipv4[i], &nif->ipv4[i + 1],
                    (size_t)(nif->n_ipv4 - i - 1) * sizeof(nif->ipv4[0]));
            nif->n_ipv4--;
            return 0;
        }
    }
    return -EADDRNOTAVAIL;
}

bool z_ipv4_is_local_locked(struct z_stack *s, uint32_t addr)
{
    for (struct z_netif *nif = s->ifaces; nif != NULL; nif = nif->next) {
        for (int i = 0; i < nif->n_ipv4; i++) {
            if (nif->ipv4[i].addr == addr) {
                return true;
            }
        }
    }
    return false;
}

bool z_ipv4_is_broadcast(const struct z_netif *nif, uint32_t addr)
{
    if (addr == 0xffffffffu) {
        return true;
    }
    for (int i = 0; i < nif->n_ipv4; i++) {
        uint32_t mask = nif->ipv4[i].mask;
        if (mask != 0xffffffffu && (addr & mask) == (nif->ipv4[i].addr & mask) &&
            (addr | mask) == 0xffffffffu) {
            return true;
        }
    }
    return false;
}

/* ---- the data path --------------------------------------------------------------------------- */

void z_netif_input_locked(struct z_netif *nif, struct z_pbuf *p)
{
    struct z_stack *s = nif->stack;
    p->netif = nif;
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    if (s->rx_stampers > 0) {
        p->stamp = z_stack_now_us(s);
    }
#endif
    nif->stats.rx_packets++;
    nif->stats.rx_bytes += p->len;
    /* Loopback input is its own output: captured once, when sent. */
    if (nif->capture != NULL && !(nif->flags & ZSOCK_IF_LOOPBACK)) {
        z_capture_frame(nif, p, z_stack_now_us(s));
    }
    if (!(nif->flags & ZSOCK_IF_UP)) {
        nif->stats.rx_dropped++;
        z_pbuf_free(p);
        return;
    }
    z_packet_tap_locked(nif, p, false); /* AF_PACKET copies; the stack goes on as before */
    if (!(nif->flags & ZSOCK_IF_ETHERNET)) {
        /* A raw-IP link: the version nibble tells the protocol. */
        if (p->len > 0 && (p->data[0] >> 4) == 6) {
            z_ipv6_input_locked(nif, p, NULL);
        } else {
            z_ipv4_input_locked(nif, p);
        }
        return;
    }
    struct z_eth_hdr eth;
    if (z_eth_parse(p->data, p->len, &eth) < 0) {
        nif->stats.rx_dropped++;
        z_pbuf_free(p);
        return;
    }
    /* Only frames for us, broadcast, or multicast we may want (33:33:xx
     * or 01:00:5e:xx of a group the interface joined). */
    if (!z_netif_mac_wanted(nif, eth.dst)) {
        nif->stats.rx_dropped++;
        z_pbuf_free(p);
        return;
    }
    z_pbuf_pull(p, Z_ETH_HLEN);
    switch (eth.type) {
    case Z_ETHERTYPE_IPV6:
        z_ipv6_input_locked(nif, p, eth.src);
        break;
    case Z_ETHERTYPE_IPV4:
        z_ipv4_input_locked(nif, p);
        break;
    case Z_ETHERTYPE_ARP:
        z_arp_input_locked(nif, p);
        break;
    default:
        nif->stats.rx_dropped++;
        z_pbuf_free(p);
        break;
    }
}

void z_netif_rx_drain_fd(struct z_netif *nif, int fd, size_t frame_max)
{
    struct z_stack *s = nif->stack;
    for (int i = 0; i < 64; i++) {
        struct z_pbuf *p = z_pbuf_alloc(&s->pool, 0, frame_max);
        if (p == NULL) {
            /* No buffer: take one frame off the queue anyway, so the
             * device keeps moving, and count it. */
            uint8_t sink[16];
            if (read(fd, sink, sizeof(sink)) < 0) {
                return;
            }
            z_stack_lock(s);
            nif->stats.rx_dropped++;
            s->stats.ipv4.no_buffer++;
            z_stack_unlock(s);
            continue;
        }
        ssize_t n = read(fd, p->data, frame_max);
        if (n <= 0) {
            z_pbuf_free(p);
            return;
        }
        z_pbuf_put(p, (size_t)n);
        z_netif_input(nif, p);
    }
}

void z_netif_random_mac(uint8_t mac[Z_ETH_ALEN])
{
    z_entropy(mac, Z_ETH_ALEN);
    mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}
