/* socketpair_threads: two threads talking over a zsock socketpair.
 *
 *   socketpair_threads [REQUESTS]
 *
 * The main thread sends REQUESTS (default 1000) fixed-size requests "sum of
 * 1..n" to a worker thread on one end of a stream socketpair; the worker
 * answers each on the same socket; the main thread checks every answer, then
 * half-closes its end so the worker sees end of stream and exits. A second,
 * datagram socketpair shows that SOCK_DGRAM keeps message boundaries. No
 * network interface is involved: a socketpair lives inside the process. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/socket.h>

struct request {
    uint32_t id;
    uint32_t n;
};

struct reply {
    uint32_t id;
    uint64_t sum;
};

/* The worker: read requests until end of stream, answer each. */
static void *worker(void *arg)
{
    int fd = *(int *)arg;
    struct request rq;
    long answered = 0;
    /* MSG_WAITALL: a stream may deliver a request in pieces. */
    while (zsock_recv(fd, &rq, sizeof(rq), ZSOCK_MSG_WAITALL) == (ssize_t)sizeof(rq)) {
        struct reply rp = {.id = rq.id, .sum = 0};
        for (uint64_t i = 1; i <= rq.n; i++) {
            rp.sum += i;
        }
        if (zsock_send(fd, &rp, sizeof(rp), 0) != (ssize_t)sizeof(rp)) {
            perror("worker: send");
            break;
        }
        answered++;
    }
    printf("socketpair_threads: worker answered %ld requests, saw end of stream\n", answered);
    zsock_close(fd);
    return NULL;
}

/* A datagram socketpair: three sends, three receives of the same sizes. */
static int datagrams(void)
{
    int sv[2];
    if (zsock_socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0) {
        perror("socketpair(SOCK_DGRAM)");
        return -1;
    }
    const char *msgs[] = {"one", "three", "fifteen"};
    for (int i = 0; i < 3; i++) {
        zsock_send(sv[0], msgs[i], strlen(msgs[i]), 0);
    }
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        char buf[64];
        ssize_t n = zsock_recv(sv[1], buf, sizeof(buf), 0);
        if (n != (ssize_t)strlen(msgs[i]) || memcmp(buf, msgs[i], (size_t)n) != 0) {
            rc = -1;
        }
    }
    printf("socketpair_threads: datagram pair kept 3 message boundaries: %s\n",
           rc == 0 ? "yes" : "NO");
    zsock_close(sv[0]);
    zsock_close(sv[1]);
    return rc;
}

int main(int argc, char **argv)
{
    long requests = argc > 1 ? atol(argv[1]) : 1000;
    int sv[2];
    if (zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
        perror("socketpair");
        return 1;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, worker, &sv[1]) != 0) {
        return 1;
    }

    /* Requests and replies in lockstep; a real client could pipeline them,
     * the socketpair buffers CONFIG_NET_SOCKETPAIR_BUFFER_SIZE bytes. */
    long good = 0;
    for (long i = 0; i < requests; i++) {
        struct request rq = {.id = (uint32_t)i, .n = (uint32_t)(i % 5000)};
        struct reply rp;
        if (zsock_send(sv[0], &rq, sizeof(rq), 0) != (ssize_t)sizeof(rq) ||
            zsock_recv(sv[0], &rp, sizeof(rp), ZSOCK_MSG_WAITALL) != (ssize_t)sizeof(rp)) {
            perror("main: send/recv");
            break;
        }
        uint64_t n = rq.n;
        if (rp.id == rq.id && rp.sum == n * (n + 1) / 2) {
            good++;
        }
    }
    /* No more requests: the worker's recv() returns 0 and it closes its
     * end, which our recv() sees as end of stream. */
    zsock_shutdown(sv[0], ZSOCK_SHUT_WR);
    pthread_join(t, NULL);
    char c;
    ssize_t eof = zsock_recv(sv[0], &c, 1, 0);
    zsock_close(sv[0]);

    printf("socketpair_threads: %ld of %ld answers correct, end of stream: %s\n", good, requests,
           eof == 0 ? "yes" : "no");
    int dg = datagrams();
    return good == requests && eof == 0 && dg == 0 ? 0 : 1;
}
