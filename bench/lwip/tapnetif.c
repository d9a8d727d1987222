/* lwIP netif driver for a Linux TAP device: see tapnetif.h. */
#define _GNU_SOURCE
#include "tapnetif.h"

#include "lwip/opt.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#define RX_BATCH   64 /* frames read before taking the core lock once */
#define TX_IOV_MAX 64 /* pbufs in one frame; longer chains are flattened */
#define ETH_HDR    14
#define VLAN_HDR   4

int tapnetif_open(struct tapnetif *t, const char *name, unsigned mtu)
{
    memset(t, 0, sizeof(*t));
    t->fd = -1;
    t->stop_fd = -1;
    /* The frame must fit a pbuf (u16_t lengths), with one byte to spare so
     * that an oversized frame is seen as such rather than truncated. */
    if (mtu < 576 || mtu + ETH_HDR + VLAN_HDR + 1 > 0xFFFF) {
        return -EINVAL;
    }
    t->frame_max = mtu + ETH_HDR + VLAN_HDR;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    /* Offloads set on the device by an earlier user (zsock's driver turns
     * on checksum and TSO offload with virtio-net headers) outlive it; with
     * them the kernel would hand us frames with partial checksums and
     * 64 KiB TCP segments, without the header that says so. */
    if (ioctl(fd, TUNSETOFFLOAD, 0UL) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    t->fd = fd;
    t->stop_fd = efd;
    snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
    return 0;
}

/* Counts TCP segments carrying sequence space (data, SYN or FIN) that end at
 * or before the highest sequence already sent: retransmissions, as seen on
 * the wire. One connection at a time is assumed (lwip_zperf opens one). */
static void count_tcp_rexmit(struct tapnetif *t, const struct pbuf *p)
{
    uint8_t h[ETH_HDR + 60 + 20];
    u16_t n = pbuf_copy_partial(p, h, sizeof(h), 0);
    if (n < ETH_HDR + 20 || h[12] != 0x08 || h[13] != 0x00) {
        return;
    }
    const uint8_t *ip = h + ETH_HDR;
    unsigned ihl = (ip[0] & 0x0F) * 4u;
    unsigned ip_len = ((unsigned)ip[2] << 8) | ip[3];
    if ((ip[0] >> 4) != 4 || ip[9] != 6 || ihl < 20 || (ip[6] & 0x3F) != 0 || ip[7] != 0) {
        return; /* not IPv4 TCP, or a fragment */
    }
    if (n < ETH_HDR + ihl + 20 || ip_len < ihl + 20) {
        return;
    }
    const uint8_t *tcp = ip + ihl;
    unsigned doff = (tcp[12] >> 4) * 4u;
    if (doff < 20 || ip_len < ihl + doff) {
        return;
    }
    uint32_t seq =
        ((uint32_t)tcp[4] << 24) | ((uint32_t)tcp[5] << 16) | ((uint32_t)tcp[6] << 8) | tcp[7];
    uint8_t flags = tcp[13];
    uint32_t len = ip_len - ihl - doff + ((flags & 0x02) ? 1 : 0) + ((flags & 0x01) ? 1 : 0);
    if (flags & 0x04) {
        return; /* RST */
    }
    if (flags & 0x02 && !(flags & 0x10)) {
        t->tx_tcp_seen = 0; /* a new connection starts: new sequence space */
    }
    if (len == 0) {
        return;
    }
    uint32_t end = seq + len;
    if (t->tx_tcp_seen && (int32_t)(end - t->tx_tcp_max_end) <= 0) {
        t->tx_tcp_rexmit++;
    } else {
        t->tx_tcp_max_end = end;
        t->tx_tcp_seen = 1;
    }
}

static err_t tapnetif_linkoutput(struct netif *netif, struct pbuf *p)
{
    struct tapnetif *t = netif->state;
    struct iovec iov[TX_IOV_MAX];
    int cnt = 0;
    const struct pbuf *q;
    for (q = p; q != NULL && cnt < TX_IOV_MAX; q = q->next) {
        if (q->len == 0) {
            continue;
        }
        iov[cnt].iov_base = q->payload;
        iov[cnt].iov_len = q->len;
        cnt++;
    }
    ssize_t w;
    if (q != NULL) {
        /* A very long chain: flatten it (rare; never on the TCP path). The
         * core lock is held, so one static buffer serves every caller. */
        static uint8_t buf[0xFFFF];
        u16_t n = pbuf_copy_partial(p, buf, p->tot_len, 0);
        w = write(t->fd, buf, n);
    } else {
        w = writev(t->fd, iov, cnt);
    }
    if (w < 0) {
        /* The kernel takes every well-formed frame; count and let TCP
         * recover as from a loss on the wire. */
        t->tx_errors++;
        return ERR_OK;
    }
    t->tx_frames++;
    count_tcp_rexmit(t, p);
    return ERR_OK;
}

err_t tapnetif_init(struct netif *netif)
{
    struct tapnetif *t = netif->state;
    netif->name[0] = 't';
    netif->name[1] = 'p';
    netif->output = etharp_output;
    netif->linkoutput = tapnetif_linkoutput;
    netif->mtu = (u16_t)(t->frame_max - ETH_HDR - VLAN_HDR);
    netif->hwaddr_len = ETH_HWADDR_LEN;
    uint8_t mac[ETH_HWADDR_LEN];
    if (getrandom(mac, sizeof(mac), 0) != (ssize_t)sizeof(mac)) {
        for (size_t i = 0; i < sizeof(mac); i++) {
            mac[i] = (uint8_t)rand();
        }
    }
    mac[0] = (uint8_t)((mac[0] & 0xFE) | 0x02); /* unicast, locally administered */
    memcpy(netif->hwaddr, mac, sizeof(mac));
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

static void *tapnetif_rx(void *arg)
{
    struct netif *netif = arg;
    struct tapnetif *t = netif->state;
    struct pbuf *batch[RX_BATCH];
    struct pbuf *spare = NULL;
    for (;;) {
        struct pollfd pfd[2] = {{.fd = t->fd, .events = POLLIN},
                                {.fd = t->stop_fd, .events = POLLIN}};
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("tapnetif: poll");
            break;
        }
        if (pfd[1].revents != 0) {
            break;
        }
        if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            fprintf(stderr, "tapnetif: %s: device error or gone\n", t->name);
            break;
        }
        /* Read a batch outside the lock, so lwIP (timers, the application)
         * runs meanwhile; then give it to lwIP under one lock. */
        int nb = 0;
        while (nb < RX_BATCH) {
            struct pbuf *p = spare;
            spare = NULL;
            if (p == NULL) {
                p = pbuf_alloc(PBUF_RAW, (u16_t)(t->frame_max + 1), PBUF_RAM);
                if (p == NULL) {
                    /* Out of memory: take the frame out of the queue. */
                    uint8_t sink[1];
                    if (read(t->fd, sink, sizeof(sink)) < 0) {
                        break;
                    }
                    t->rx_dropped++;
                    continue;
                }
            }
            ssize_t n = read(t->fd, p->payload, t->frame_max + 1);
            if (n < 0) {
                spare = p;
                if (errno != EAGAIN && errno != EINTR) {
                    perror("tapnetif: read");
                }
                break;
            }
            if (n < ETH_HDR || (size_t)n > t->frame_max) {
                spare = p; /* runt, or larger than our MTU: drop */
                t->rx_dropped++;
                continue;
            }
            pbuf_realloc(p, (u16_t)n);
            batch[nb++] = p;
        }
        if (nb > 0) {
            LOCK_TCPIP_CORE();
            for (int i = 0; i < nb; i++) {
                if (netif->input(batch[i], netif) != ERR_OK) {
                    pbuf_free(batch[i]);
                    t->rx_dropped++;
                } else {
                    t->rx_frames++;
                }
            }
            UNLOCK_TCPIP_CORE();
        }
    }
    if (spare != NULL) {
        pbuf_free(spare);
    }
    return NULL;
}

int tapnetif_start(struct netif *netif)
{
    struct tapnetif *t = netif->state;
    int err = pthread_create(&t->rx_thread, NULL, tapnetif_rx, netif);
    if (err != 0) {
        return -err;
    }
    t->rx_started = 1;
    return 0;
}

void tapnetif_close(struct tapnetif *t)
{
    if (t->rx_started) {
        uint64_t one = 1;
        if (write(t->stop_fd, &one, sizeof(one)) < 0) {
            perror("tapnetif: eventfd");
        }
        pthread_join(t->rx_thread, NULL);
        t->rx_started = 0;
    }
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
    if (t->stop_fd >= 0) {
        close(t->stop_fd);
        t->stop_fd = -1;
    }
}
