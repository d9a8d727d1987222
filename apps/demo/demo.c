/* zsock demo: an echo service between two threads over a zsock socketpair,
 * driven by zsock_poll() on the client side. Shows the namespaced API, the
 * non-blocking mode and orderly shutdown, and prints what happened. */
#include <zsock/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Echo server: read until end of stream, send everything back. */
static void *echo_server(void *arg)
{
    int fd = *(int *)arg;
    char buf[4096];
    for (;;) {
        ssize_t n = zsock_recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            break;
        }
        if (zsock_send(fd, buf, (size_t)n, 0) != n) {
            break;
        }
    }
    zsock_close(fd);
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    int sv[2];
    if (zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        perror("zsock_socketpair");
        return 1;
    }
    printf("zsock demo: socketpair fds %d and %d\n", sv[0], sv[1]);

    pthread_t server;
    pthread_create(&server, NULL, echo_server, &sv[1]);

    int client = sv[0];
    zsock_fcntl(client, F_SETFL, O_NONBLOCK);

    /* Send 8 MiB of a pattern and read the echo back, never blocking:
     * poll() says when to write and when to read. */
    enum { TOTAL = 8 << 20 };
    static unsigned char out[TOTAL];
    static unsigned char in[TOTAL];
    for (size_t i = 0; i < TOTAL; i++) {
        out[i] = (unsigned char)(i * 131 + (i >> 9));
    }
    size_t sent = 0, received = 0;
    int polls = 0;
    double t0 = now_s();
    while (received < TOTAL) {
        struct zsock_pollfd pfd = {.fd = client, .events = ZSOCK_POLLIN};
        if (sent < TOTAL) {
            pfd.events |= ZSOCK_POLLOUT;
        }
        if (zsock_poll(&pfd, 1, 5000) <= 0) {
            fprintf(stderr, "poll: nothing ready\n");
            return 1;
        }
        polls++;
        if (pfd.revents & ZSOCK_POLLOUT) {
            ssize_t n = zsock_send(client, out + sent, TOTAL - sent, 0);
            if (n > 0) {
                sent += (size_t)n;
                if (sent == TOTAL) {
                    zsock_shutdown(client, ZSOCK_SHUT_WR);
                }
            }
        }
        if (pfd.revents & ZSOCK_POLLIN) {
            ssize_t n = zsock_recv(client, in + received, TOTAL - received, 0);
            if (n > 0) {
                received += (size_t)n;
            } else if (n == 0) {
                break;
            }
        }
    }
    double dt = now_s() - t0;
    pthread_join(server, NULL);

    /* After the server closed, the client sees end of stream. */
    char c;
    ssize_t eof = zsock_recv(client, &c, 1, 0);
    zsock_close(client);

    bool ok = received == TOTAL && memcmp(in, out, TOTAL) == 0 && eof == 0;
    printf("echoed %zu bytes in %.1f ms (%.0f MiB/s, %d polls), end of stream: %s\n", received,
           dt * 1e3, (double)received / (1 << 20) / dt, polls, eof == 0 ? "yes" : "no");
    printf("data %s\n", ok ? "identical: OK" : "MISMATCH");
    return ok ? 0 : 1;
}
