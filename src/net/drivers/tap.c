/* TAP driver: the stack as a host on a Linux virtual Ethernet segment,
 * through /dev/net/tun. Frames are read by the core thread (non-blocking
 * reads until EAGAIN) and written directly from the output path.
 *
 * Offloads. The device is opened with a virtio-net header in front of every
 * frame (IFF_VNET_HDR) and, if the kernel agrees (TUNSETOFFLOAD), with
 * checksum and TCP segmentation offload, as a virtual NIC would use them:
 * - out: TCP hands down packets of up to 64 KiB with gso_size = MSS and a
 *   partial checksum; the kernel cuts them into wire-sized segments (or
 *   passes them whole to a local socket, as its own stack would);
 * - in: the kernel may pass packets it has not summed yet (NEEDS_CSUM, from
 *   a local sender) or already checked (DATA_VALID), and coalesced TCP
 *   packets above the MTU; their checksums are taken as good (they never
 *   crossed a wire since the kernel last vouched for them).
 * ZSOCK_TAP_OFFLOAD=0 in the environment turns offloads off. */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define TAP_GSO_MAX 65535u /* an IPv4 packet's limit (IPv6's payload may be 40 more) */

struct tap_state {
    int fd;
    bool offload;
    uint8_t *big; /* receive overflow for frames beyond a pool buffer */
    size_t big_cap;
};

static int tap_output(struct z_netif *nif, struct z_pbuf *p)
{
    struct tap_state *t = nif->drv_state;
    struct virtio_net_hdr vh;
    memset(&vh, 0, sizeof(vh));
    if (p->gso_size != 0 && p->len > Z_ETH_HLEN + Z_IPV4_HLEN + Z_TCP_HLEN) {
        /* TCP's packets carry no IPv6 extension header: its header follows. */
        bool v6 = (p->data[Z_ETH_HLEN] >> 4) == 6;
        size_t ihl = v6 ? Z_IPV6_HLEN : (size_t)(p->data[Z_ETH_HLEN] & 0x0f) * 4;
        size_t thl = (size_t)(p->data[Z_ETH_HLEN + ihl + 12] >> 4) * 4;
        vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
        vh.hdr_len = (uint16_t)(Z_ETH_HLEN + ihl + thl);
        vh.gso_size = p->gso_size;
        vh.csum_start = (uint16_t)(Z_ETH_HLEN + ihl);
        vh.csum_offset = 16; /* the TCP checksum field */
    }
    struct iovec iov[2] = {{&vh, sizeof(vh)}, {p->data, p->len}};
    ssize_t n = writev(t->fd, iov, 2);
    /* The frame is gone either way: a full device queue is a loss here,
     * never -EAGAIN (which would mean "not taken"). */
    int err = n < 0 ? (errno == EAGAIN ? -ENOBUFS : -errno) : 0;
    z_pbuf_free(p);
    return err;
}

static int tap_rx_fd(struct z_netif *nif)
{
    return ((struct tap_state *)nif->drv_state)->fd;
}

/* Read frames until none is left (or 64, to let others run): each into a
 * pool buffer, or, if it is larger, through the overflow area into a
 * buffer of its size. */
static void tap_rx_poll(struct z_netif *nif)
{
    struct tap_state *t = nif->drv_state;
    struct z_stack *s = nif->stack;
    size_t small = s->pool.buf_size;
    struct z_pbuf *head = NULL;
    struct z_pbuf **tail = &head;
    for (int i = 0; i < 64; i++) {
        struct virtio_net_hdr vh;
        struct z_pbuf *p = z_pbuf_alloc(&s->pool, 0, small);
        struct iovec iov[3] = {
            {&vh, sizeof(vh)},
            {p != NULL ? p->data : t->big, p != NULL ? small : 0},
            {t->big, t->big_cap},
        };
        ssize_t n = readv(t->fd, iov, 3);
        if (n <= (ssize_t)sizeof(vh)) {
            if (p != NULL) {
                z_pbuf_free(p);
            }
            break;
        }
        size_t len = (size_t)n - sizeof(vh);
        if (p == NULL || len > small) {
            /* Too big for a pool buffer (or none): one of its own size. */
            struct z_pbuf *q = z_pbuf_alloc(&s->pool, 0, len);
            if (q != NULL) {
                size_t head = p != NULL ? small : 0;
                uint8_t *at = z_pbuf_put(q, len);
                if (p != NULL) {
                    memcpy(at, p->data, head);
                }
                memcpy(at + head, t->big, len - head);
            }
            if (p != NULL) {
                z_pbuf_free(p);
            }
            p = q;
            if (p == NULL) {
                z_stack_lock(s);
                nif->stats.rx_dropped++;
                s->stats.ipv4.no_buffer++;
                z_stack_unlock(s);
                continue;
            }
        } else {
            z_pbuf_put(p, len);
        }
        p->csum_ok = (vh.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0;
        if ((vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && nif->capture != NULL &&
            (size_t)vh.csum_start + vh.csum_offset + 2 <= p->len) {
            /* A capture shows the frame as the wire would carry it: the
             * field holds the pseudo-header's sum, so summing from
             * csum_start completes it. */
            uint8_t *at = p->data + vh.csum_start + vh.csum_offset;
            uint16_t sum =
                z_csum_finish(z_csum_add(0, p->data + vh.csum_start, p->len - vh.csum_start));
            z_put_be16(at, sum);
        }
        *tail = p;
        tail = &p->next;
    }
    z_netif_input_chain(nif, head);
}

static void tap_destroy(struct z_netif *nif)
{
    struct tap_state *t = nif->drv_state;
    if (t->offload) {
        /* A persistent TAP keeps its settings: leave it as found for the
         * next user, who may not read virtio-net headers. */
        ioctl(t->fd, TUNSETOFFLOAD, 0UL);
    }
    close(t->fd);
    z_free(t->big);
    z_free(t);
}

static const struct z_netif_driver tap_driver = {
    .kind = "tap",
    .output = tap_output,
    .rx_fd = tap_rx_fd,
    .rx_poll = tap_rx_poll,
    .destroy = tap_destroy,
};

/* No offloads: a persistent TAP may keep an earlier user's, so clear them. */
static bool tap_offload_off(int fd)
{
    ioctl(fd, TUNSETOFFLOAD, 0UL);
    return false;
}

/* Ask for checksum and TCP segmentation offload (IPv4 and IPv6); false if
 * refused or turned off by ZSOCK_TAP_OFFLOAD=0. */
static bool tap_offload(int fd)
{
    const char *env = getenv("ZSOCK_TAP_OFFLOAD");
    if (env != NULL && strcmp(env, "0") == 0) {
        return tap_offload_off(fd);
    }
    return ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) == 0;
}

struct z_netif *z_tap_add_locked(struct z_stack *s, const char *ifname, int *err)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    int hdr = (int)sizeof(struct virtio_net_hdr);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) {
        *err = -errno;
        close(fd);
        return NULL;
    }
    struct tap_state *t = z_calloc(1, sizeof(*t));
    if (t == NULL) {
        *err = -ENOMEM;
        close(fd);
        return NULL;
    }
    t->fd = fd;
    /* Offloaded packets are up to 64 KiB each: only where the buffer pool's
     * heap budget holds several (not on the small embedded limits). */
    t->offload =
        s->pool.heap_budget >= 4 * (size_t)TAP_GSO_MAX ? tap_offload(fd) : tap_offload_off(fd);
    /* Frames up to the largest MTU, or coalesced packets with offload. */
    t->big_cap = Z_ETH_HLEN + TAP_GSO_MAX + 4;
    t->big = z_malloc(t->big_cap);
    if (t->big == NULL) {
        *err = -ENOMEM;
        close(fd);
        z_free(t);
        return NULL;
    }
    uint8_t mac[Z_ETH_ALEN];
    z_netif_random_mac(mac);
    struct z_netif *nif = z_netif_add_locked(
        s, ifr.ifr_name, ZSOCK_IF_ETHERNET | ZSOCK_IF_BROADCAST, Z_ETH_MTU, mac, &tap_driver, t);
    if (nif == NULL) {
        *err = -ENOMEM;
        close(fd);
        z_free(t->big);
        z_free(t);
        return NULL;
    }
    nif->gso_max = t->offload ? TAP_GSO_MAX : 0;
    /* The zsock interface keeps the kernel-side name, so tools agree. */
    snprintf(nif->name, IFNAMSIZ, "%s", ifr.ifr_name);
    return nif;
}
