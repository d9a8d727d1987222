/* Size probe: the smallest firmware that uses zsock's socket API, linked for
 * the target (a cortex-m4-* preset) with --gc-sections so that its size is
 * what the stack really costs: the application's main loop running the
 * stack with zsock_net_process() (single-loop mode, the none port's only
 * mode: docs/embedded.md), a UDP socket and a TCP socket, non-blocking,
 * that connect, send, receive, poll and close.
 *
 * It is measured, never run: there is no link driver for real hardware yet
 * (a firmware adds one: docs/embedded.md), and the two hooks below are the
 * ones a firmware must supply (zsock_port.h), written here only so the
 * program links. They are NOT fit for a device: a real firmware reads a
 * hardware timer and a TRNG. */
#include <zsock/net_if.h>
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

/* Open a non-blocking socket of `type` and start talking to `peer`. */
static int open_socket(int type, const struct sockaddr_in *peer)
{
    int fd = zsock_socket(AF_INET, type | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -1;
    }
    if (zsock_connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) < 0 &&
        errno != EINPROGRESS) {
        zsock_close(fd);
        return -1;
    }
    return fd;
}

/* Sleep until the next interrupt, or `ms` at most: a firmware arms a timer
 * for ms and waits for an interrupt (the MAC's or the timer's). */
static void wait_for_interrupt(int ms)
{
    (void)ms;
#if defined(__ARM_ARCH)
    __asm volatile("wfi");
#endif
}

int main(void)
{
    struct sockaddr_in peer;
    memset(&peer, 0, sizeof(peer));
    peer.sin_family = AF_INET;
    peer.sin_port = htons(7);
    peer.sin_addr.s_addr = htonl(0xc0000201); /* 192.0.2.1 */
    /* The none port always runs the stack from the application's loop. */
    if (zsock_net_init() < 0) {
        return 1;
    }
    struct zsock_pollfd pfd[2] = {
        {.fd = open_socket(SOCK_DGRAM, &peer), .events = ZSOCK_POLLIN | ZSOCK_POLLOUT},
        {.fd = open_socket(SOCK_STREAM, &peer), .events = ZSOCK_POLLIN | ZSOCK_POLLOUT},
    };
    char buf[64] = "probe";
    /* The main loop: run the stack (input, timers), serve the sockets, sleep
     * until the stack's next timer or an interrupt. A firmware loops
     * forever; the probe stops after a while. */
    for (int round = 0; round < 1000; round++) {
        int ms = zsock_net_process(0);
        if (ms < 0) {
            break;
        }
        if (zsock_poll(pfd, 2, 0) > 0) {
            for (int i = 0; i < 2; i++) {
                if (pfd[i].revents & ZSOCK_POLLIN) {
                    (void)zsock_recv(pfd[i].fd, buf, sizeof(buf), 0);
                }
                if (pfd[i].revents & ZSOCK_POLLOUT) {
                    (void)zsock_send(pfd[i].fd, buf, 5, 0);
                    pfd[i].events = ZSOCK_POLLIN;
                }
                if (pfd[i].revents & (ZSOCK_POLLERR | ZSOCK_POLLHUP)) {
                    pfd[i].fd = -1;
                }
            }
            continue;
        }
        wait_for_interrupt(ms);
    }
    zsock_close(pfd[0].fd);
    zsock_close(pfd[1].fd);
    return 0;
}
