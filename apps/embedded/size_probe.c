/* Size probe: the smallest firmware that uses zsock's socket API, linked for
 * the target (a cortex-m4-* preset) with --gc-sections so that its size is
 * what the stack really costs: a UDP socket that sends and receives a
 * datagram, a TCP socket that connects, sends and receives, all non-blocking
 * as the single-threaded "none" port requires (docs/embedded.md).
 *
 * It is measured, never run: the none port has no core thread and no link
 * driver for real hardware yet, and the two hooks below are the ones a
 * firmware must supply (zsock_port.h), written here only so the program links.
 * They are NOT fit for a device: a real firmware reads a hardware timer and a
 * TRNG. */
#include <zsock/socket.h>
#include <zsock_port.h>

#include <errno.h>
#include <string.h>

/* Probe only: a counter, so that time moves; a firmware reads a timer. */
int64_t zsock_port_now_us(void)
{
    static volatile int64_t ticks;
    return ticks += 1000;
}

/* Probe only, and unfit for a device: no randomness is had here, which the
 * hook reports as an error; a firmware reads its TRNG. */
int zsock_port_entropy(void *buf, size_t len)
{
    memset(buf, 0, len);
    return -ENOSYS;
}

static int exercise(int type, const struct sockaddr_in *peer)
{
    int fd = zsock_socket(AF_INET, type | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    char buf[64] = "probe";
    int rc = 0;
    if (zsock_connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) < 0 &&
        errno != EINPROGRESS) {
        rc = -1;
    }
    if (zsock_send(fd, buf, 5, 0) < 0) {
        rc = -1;
    }
    if (zsock_recv(fd, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT) < 0) {
        rc = -1;
    }
    struct zsock_pollfd pfd = {.fd = fd, .events = ZSOCK_POLLIN};
    (void)zsock_poll(&pfd, 1, 0);
    zsock_close(fd);
    return rc;
}

int main(void)
{
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof(peer));
    peer.sin_family = AF_INET;
    peer.sin_port = htons(7);
    peer.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
    int a = exercise(SOCK_DGRAM, &peer);
    int b = exercise(SOCK_STREAM, &peer);
    return a == 0 && b == 0 ? 0 : 1;
}
