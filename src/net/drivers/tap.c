/* TAP driver: the stack as a host on a Linux virtual Ethernet segment,
 * through /dev/net/tun. Frames are read by the core thread (non-blocking
 * reads until EAGAIN) and written directly from the output path. */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct tap_state {
    int fd;
};

static int tap_output(struct z_netif *nif, struct z_pbuf *p)
{
    struct tap_state *t = nif->drv_state;
    ssize_t n = write(t->fd, p->data, p->len);
    int err = n < 0 ? -errno : 0;
    z_pbuf_free(p);
    return err;
}

static int tap_rx_fd(struct z_netif *nif)
{
    return ((struct tap_state *)nif->drv_state)->fd;
}

static void tap_rx_poll(struct z_netif *nif)
{
    struct tap_state *t = nif->drv_state;
    size_t frame_max = Z_ETH_HLEN + (nif->mtu > Z_ETH_MTU ? nif->mtu : Z_ETH_MTU) + 4;
    z_netif_rx_drain_fd(nif, t->fd, frame_max);
}

static void tap_destroy(struct z_netif *nif)
{
    struct tap_state *t = nif->drv_state;
    close(t->fd);
    free(t);
}

static const struct z_netif_driver tap_driver = {
    .kind = "tap",
    .output = tap_output,
    .rx_fd = tap_rx_fd,
    .rx_poll = tap_rx_poll,
    .destroy = tap_destroy,
};

struct z_netif *z_tap_add_locked(struct z_stack *s, const char *ifname, int *err)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        *err = -errno;
        close(fd);
        return NULL;
    }
    struct tap_state *t = calloc(1, sizeof(*t));
    if (t == NULL) {
        *err = -ENOMEM;
        close(fd);
        return NULL;
    }
    t->fd = fd;
    uint8_t mac[Z_ETH_ALEN];
    z_netif_random_mac(mac);
    struct z_netif *nif = z_netif_add_locked(
        s, ifr.ifr_name, ZSOCK_IF_ETHERNET | ZSOCK_IF_BROADCAST, Z_ETH_MTU, mac, &tap_driver, t);
    if (nif == NULL) {
        *err = -ENOMEM;
        close(fd);
        free(t);
        return NULL;
    }
    /* The zsock interface keeps the kernel-side name, so tools agree. */
    snprintf(nif->name, IFNAMSIZ, "%s", ifr.ifr_name);
    return nif;
}
