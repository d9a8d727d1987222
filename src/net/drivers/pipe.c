/* Frame pipe: Ethernet frames carried one per datagram over a Unix datagram
 * socket, so two zsock processes (or two stacks) share a link without any
 * privilege. Each side binds its own path and sends to the other's, from a
 * second socket: the core thread reads one while senders (under the stack
 * lock) connect and write the other, so no descriptor is shared between
 * threads. */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

struct pipe_state {
    int fd;         /* bound to the local path: frames in */
    int tx;         /* frames out */
    bool connected; /* tx to the peer's path, once it exists */
    struct sockaddr_un peer;
    char local[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* Linux queues at most net.unix.max_dgram_qlen (10) datagrams per Unix
 * socket, so a burst would overflow a peer that is a moment late. The
 * socket is connected to the peer, which makes POLLOUT track the peer's
 * queue. With transmit queues a full peer queue is flow control: output
 * says -EAGAIN, the frames wait in the interface's queue and the core
 * thread waits for POLLOUT (tx_fd). Without them a full queue gets a short
 * wait before the frame is given up. A peer that is not there yet loses
 * the frame, like a wire. */
#define PIPE_FULL_WAIT_MS 50

static int pipe_send(struct pipe_state *ps, const void *data, size_t len)
{
    if (!ps->connected) {
        if (connect(ps->tx, (struct sockaddr *)&ps->peer, sizeof(ps->peer)) < 0) {
            return -errno;
        }
        ps->connected = true;
    }
    for (int attempt = 0;; attempt++) {
        if (send(ps->tx, data, len, MSG_DONTWAIT) >= 0) {
            return 0;
        }
        int err = errno;
        if (err == EAGAIN && CONFIG_NET_TX_QUEUE) {
            return -EAGAIN;
        }
        if (err == EAGAIN && attempt < 3) {
            struct pollfd pfd = {.fd = ps->tx, .events = POLLOUT};
            poll(&pfd, 1, PIPE_FULL_WAIT_MS);
            continue;
        }
        if (err == ECONNREFUSED || err == ENOTCONN) {
            /* The peer went away; it may come back under the same path. */
            struct sockaddr_un none = {.sun_family = AF_UNSPEC};
            connect(ps->tx, (struct sockaddr *)&none, sizeof(none));
            ps->connected = false;
        }
        return -err;
    }
}

static int pipe_output(struct z_netif *nif, struct z_pbuf *p)
{
    int err = pipe_send(nif->drv_state, p->data, p->len);
    if (err == -EAGAIN && CONFIG_NET_TX_QUEUE) {
        return err; /* not taken: it waits in the interface's queue */
    }
    z_pbuf_free(p);
    return err == -EAGAIN ? -ENOBUFS : err;
}

#if CONFIG_NET_TX_QUEUE
static int pipe_tx_fd(struct z_netif *nif)
{
    return ((struct pipe_state *)nif->drv_state)->tx;
}
#endif

static int pipe_rx_fd(struct z_netif *nif)
{
    return ((struct pipe_state *)nif->drv_state)->fd;
}

static void pipe_rx_poll(struct z_netif *nif)
{
    struct pipe_state *ps = nif->drv_state;
    size_t frame_max = Z_ETH_HLEN + nif->mtu + 4;
    z_netif_rx_drain_fd(nif, ps->fd, frame_max);
}

static void pipe_destroy(struct z_netif *nif)
{
    struct pipe_state *ps = nif->drv_state;
    close(ps->fd);
    if (ps->tx >= 0) {
        close(ps->tx);
    }
    unlink(ps->local);
    z_free(ps);
}

static const struct z_netif_driver pipe_driver = {
    .kind = "pipe",
    .output = pipe_output,
    .rx_fd = pipe_rx_fd,
    .rx_poll = pipe_rx_poll,
    .destroy = pipe_destroy,
#if CONFIG_NET_TX_QUEUE
    .tx_fd = pipe_tx_fd,
#endif
};

static int fill_sun(struct sockaddr_un *sun, const char *path)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun->sun_path)) {
        return -ENAMETOOLONG;
    }
    strcpy(sun->sun_path, path);
    return 0;
}

struct z_netif *z_pipe_add_locked(struct z_stack *s, const char *local, const char *peer, int *err)
{
    struct pipe_state *ps = z_calloc(1, sizeof(*ps));
    if (ps == NULL) {
        *err = -ENOMEM;
        return NULL;
    }
    struct sockaddr_un me;
    if ((*err = fill_sun(&me, local)) < 0 || (*err = fill_sun(&ps->peer, peer)) < 0) {
        z_free(ps);
        return NULL;
    }
    ps->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ps->tx = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (ps->fd < 0 || ps->tx < 0) {
        *err = -errno;
        if (ps->fd >= 0) {
            close(ps->fd);
        }
        if (ps->tx >= 0) {
            close(ps->tx);
        }
        z_free(ps);
        return NULL;
    }
    unlink(local); /* a stale socket file from an earlier run */
    if (bind(ps->fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        *err = -errno;
        close(ps->fd);
        close(ps->tx);
        z_free(ps);
        return NULL;
    }
    strcpy(ps->local, local);
    int big = 4 << 20;
    setsockopt(ps->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    setsockopt(ps->tx, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    uint8_t mac[Z_ETH_ALEN];
    z_netif_random_mac(mac);
    struct z_netif *nif = z_netif_add_locked(s, "pipe", ZSOCK_IF_ETHERNET | ZSOCK_IF_BROADCAST,
                                             Z_ETH_MTU, mac, &pipe_driver, ps);
    if (nif == NULL) {
        *err = -ENOMEM;
        pipe_destroy(&(struct z_netif){.drv_state = ps});
        return NULL;
    }
    return nif;
}
