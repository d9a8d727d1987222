/* What ARP (arp.c) and neighbor discovery (nd.c) share: sending an IP
 * packet in an Ethernet frame to a resolved neighbor, and the bounded queue
 * of packets that wait while a neighbor is being resolved. */
#include "net/net.h"

#include <errno.h>
#include <string.h>

int z_eth_output_locked(struct z_netif *nif, const uint8_t dst[Z_ETH_ALEN], uint16_t type,
                        struct z_pbuf *p)
{
    uint8_t *hdr = z_pbuf_push(p, Z_ETH_HLEN);
    if (hdr == NULL) {
        z_pbuf_free(p);
        return -ENOBUFS;
    }
    struct z_eth_hdr eth = {.type = type};
    memcpy(eth.dst, dst, Z_ETH_ALEN);
    memcpy(eth.src, nif->mac, Z_ETH_ALEN);
    z_eth_emit(hdr, Z_ETH_HLEN, &eth);
    return z_netif_output_locked(nif, p);
}

int z_neigh_queue_put(struct z_neigh_queue *q, struct z_pbuf *p)
{
    if (q->n >= CONFIG_NET_ARP_QUEUE) {
        z_pbuf_free(p);
        return -ENOBUFS;
    }
    p->next = NULL;
    struct z_pbuf **pp = &q->head;
    while (*pp != NULL) {
        pp = &(*pp)->next;
    }
    *pp = p;
    q->n++;
    return 0;
}

void z_neigh_queue_send(struct z_neigh_queue *q, struct z_netif *nif, const uint8_t dst[Z_ETH_ALEN],
                        uint16_t type)
{
    struct z_pbuf *p = q->head;
    q->head = NULL;
    q->n = 0;
    while (p != NULL) {
        struct z_pbuf *next = p->next;
        p->next = NULL;
        z_eth_output_locked(nif, dst, type, p);
        p = next;
    }
}

unsigned z_neigh_queue_drop(struct z_neigh_queue *q)
{
    unsigned n = q->n;
    z_pbuf_free_chain(q->head);
    q->head = NULL;
    q->n = 0;
    return n;
}
