/* echo_server: send back whatever a client sends.
 *
 *   echo_server [-u] [-6] [--tls] [--poll] [-p PORT] [-n COUNT] [--pki DIR]
 *
 * TCP by default, a thread per connection; --poll serves every connection
 * from one thread with zsock_poll() and non-blocking sockets. -u echoes UDP
 * datagrams instead, -6 listens on IPv6 (::), --tls wraps TCP in TLS 1.2
 * with the server certificate of the test PKI (with -u: DTLS 1.2, one
 * socket serving every client, each its own session). -n COUNT exits after COUNT
 * connections (TCP) or datagrams (UDP); 0, the default, serves forever.
 *
 * Run a client in another process joined by a frame pipe, e.g.
 *   ZSOCK_PIPE=/tmp/a:/tmp/b ZSOCK_IPV4=192.0.2.2/24 echo_server -p 7
 *   ZSOCK_PIPE=/tmp/b:/tmp/a ZSOCK_IPV4=192.0.2.1/24 echo_client 192.0.2.2 -p 7 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/socket.h>

#include "sample_common.h"
#include "sample_util.h"

static struct {
    bool udp, ipv6, tls, poll;
    int port;
    long count;
    const char *pki;
} opt = {.port = 7007, .pki = SAMPLE_PKI_DIR};

/* ---- thread per connection ---------------------------------------------------------------- */

static void *echo_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char buf[4096];
    ssize_t n;
    while ((n = zsock_recv(fd, buf, sizeof(buf), 0)) > 0) {
        /* A blocking send queues everything or fails. */
        if (zsock_send(fd, buf, (size_t)n, 0) != n) {
            perror("send");
            break;
        }
    }
    if (n < 0) {
        perror("recv");
    }
    /* The echo may still be on its way: this process's stack carries it. */
    sample_drain(fd, 10000);
    zsock_close(fd);
    return NULL;
}

static int serve_threads(int lfd)
{
    pthread_t threads[64];
    int nthreads = 0;
    for (long served = 0; opt.count == 0 || served < opt.count; served++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = zsock_accept(lfd, (struct sockaddr *)&peer, &plen);
        if (fd < 0) {
            /* A TLS handshake that failed ends that connection only. */
            perror("accept");
            continue;
        }
        char who[80];
        printf("echo_server: connection from %s\n",
               sample_addr_str((struct sockaddr *)&peer, who, sizeof(who)));
        pthread_t t;
        if (pthread_create(&t, NULL, echo_connection, (void *)(intptr_t)fd) != 0) {
            zsock_close(fd);
            continue;
        }
        /* With a count, keep the threads to join them before exiting. */
        if (opt.count > 0 && nthreads < 64) {
            threads[nthreads++] = t;
        } else {
            pthread_detach(t);
        }
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(threads[i], NULL);
    }
    return 0;
}

/* ---- one thread, poll() ------------------------------------------------------------------- */

#define MAX_CONNS 32

/* A connection and the bytes it sent that are not echoed yet. */
struct conn {
    int fd;
    char buf[4096];
    size_t len, off;
    int drain_ms; /* > 0: finished, closed once its echo is acknowledged */
};

static int serve_poll(int lfd)
{
    static struct conn conns[MAX_CONNS];
    int nconns = 0;
    long accepted = 0;
    zsock_fcntl(lfd, F_SETFL, O_NONBLOCK);

    while (opt.count == 0 || accepted < opt.count || nconns > 0) {
        /* Entry 0 is the listener; a connection waits for input, or, while
         * it has bytes to echo, for room to send them. */
        struct zsock_pollfd pfd[MAX_CONNS + 1];
        pfd[0] = (struct zsock_pollfd){.fd = lfd, .events = ZSOCK_POLLIN};
        int draining = 0;
        for (int i = 0; i < nconns; i++) {
            pfd[i + 1].fd = conns[i].fd;
            pfd[i + 1].events = conns[i].len > conns[i].off ? ZSOCK_POLLOUT : ZSOCK_POLLIN;
            pfd[i + 1].revents = 0;
            if (conns[i].drain_ms > 0) {
                pfd[i + 1].events = 0; /* only waiting for the peer's ACKs */
                draining++;
            }
        }
        /* Stop accepting once the count is reached or the table is full. */
        if ((opt.count > 0 && accepted >= opt.count) || nconns == MAX_CONNS) {
            pfd[0].fd = -1;
        }
        /* While connections drain, look at them every 10 ms. */
        if (zsock_poll(pfd, nconns + 1, draining > 0 ? 10 : -1) < 0) {
            perror("poll");
            return -1;
        }
        if (pfd[0].revents & ZSOCK_POLLIN) {
            int fd = zsock_accept(lfd, NULL, NULL);
            if (fd >= 0) {
                zsock_fcntl(fd, F_SETFL, O_NONBLOCK);
                conns[nconns++] = (struct conn){.fd = fd};
                accepted++;
                printf("echo_server: connection %ld (poll)\n", accepted);
            } else if (errno != EAGAIN) {
                perror("accept");
            }
        }
        for (int i = nconns - 1; i >= 0; i--) {
            struct conn *c = &conns[i];
            short rev = pfd[i + 1].revents;
            bool done = false;
            if (c->drain_ms > 0) {
                /* Close once the echo is acknowledged (or after 1000 looks,
                 * 10 s when idle): the process may exit next, and its stack
                 * with it. */
                c->drain_ms -= 10;
                done = sample_unacked(c->fd) == 0 || c->drain_ms <= 0;
            } else if (rev & ZSOCK_POLLOUT) {
                ssize_t n = zsock_send(c->fd, c->buf + c->off, c->len - c->off, 0);
                if (n > 0) {
                    c->off += (size_t)n;
                } else if (n < 0 && errno != EAGAIN) {
                    done = true;
                }
            } else if (rev & (ZSOCK_POLLIN | ZSOCK_POLLHUP | ZSOCK_POLLERR)) {
                /* On a TLS socket the first reads run the handshake:
                 * EAGAIN until it is over. */
                ssize_t n = zsock_recv(c->fd, c->buf, sizeof(c->buf), 0);
                if (n > 0) {
                    c->len = (size_t)n;
                    c->off = 0;
                } else if (n == 0) {
                    c->drain_ms = 10000; /* end of stream: drain, then close */
                } else if (errno != EAGAIN) {
                    done = true; /* an error */
                }
            }
            if (done) {
                zsock_close(c->fd);
                conns[i] = conns[--nconns];
            }
        }
    }
    return 0;
}

/* ---- UDP ---------------------------------------------------------------------------------- */

static int serve_udp(int fd)
{
    char buf[65536];
    for (long served = 0; opt.count == 0 || served < opt.count; served++) {
        if (opt.poll) {
            /* The poll variant waits first, as a loop with other work would. */
            struct zsock_pollfd pfd = {.fd = fd, .events = ZSOCK_POLLIN};
            if (zsock_poll(&pfd, 1, -1) < 0) {
                perror("poll");
                return -1;
            }
        }
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        ssize_t n = zsock_recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
        if (n < 0) {
            perror("recvfrom");
            return -1;
        }
        if (zsock_sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen) != n) {
            perror("sendto");
        }
    }
    return 0;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out, "usage: echo_server [-u] [-6] [--tls] [--poll] [-p PORT] [-n COUNT] "
                 "[--pki DIR]\n");
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"tls", no_argument, NULL, 'T'},
        {"poll", no_argument, NULL, 'P'},
        {"pki", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "u6p:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            opt.udp = true;
            break;
        case '6':
            opt.ipv6 = true;
            break;
        case 'T':
            opt.tls = true;
            break;
        case 'P':
            opt.poll = true;
            break;
        case 'K':
            opt.pki = optarg;
            break;
        case 'p':
            opt.port = atoi(optarg);
            break;
        case 'n':
            opt.count = atol(optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0) {
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0); /* a test waits for the "listening" line */

    int family = opt.ipv6 ? AF_INET6 : AF_INET;
    int type = opt.udp ? SOCK_DGRAM : SOCK_STREAM;
    int proto = opt.udp ? (opt.tls ? IPPROTO_DTLS_1_2 : IPPROTO_UDP)
                        : (opt.tls ? IPPROTO_TLS_1_2 : IPPROTO_TCP);
    int fd = zsock_socket(family, type, proto);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    if (opt.tls && sample_server_tls(fd, opt.pki) < 0) {
        return 1;
    }
    /* A DTLS socket is a client unless told otherwise: this one answers
     * handshakes (recvfrom then names the peer each record came from). */
    int role = TLS_DTLS_ROLE_SERVER;
    if (opt.udp && opt.tls &&
        zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_ROLE, &role, sizeof(role)) < 0) {
        perror("TLS_DTLS_ROLE");
        return 1;
    }
    int one = 1;
    zsock_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));

    /* The wildcard address of the family: every interface. */
    struct sockaddr_storage ss;
    socklen_t slen = sample_any_addr(opt.ipv6, opt.port, &ss);
    if (zsock_bind(fd, (struct sockaddr *)&ss, slen) < 0) {
        perror("bind");
        return 1;
    }
    if (!opt.udp && zsock_listen(fd, 16) < 0) {
        perror("listen");
        return 1;
    }
    char where[80];
    printf("echo_server: listening on %s (%s%s, %s)\n",
           sample_addr_str((struct sockaddr *)&ss, where, sizeof(where)), opt.udp ? "udp" : "tcp",
           opt.tls ? (opt.udp ? "+dtls" : "+tls") : "", opt.poll ? "poll" : "threads");

    int rc = opt.udp ? serve_udp(fd) : opt.poll ? serve_poll(fd) : serve_threads(fd);
    zsock_close(fd);
    printf("echo_server: done\n");
    return rc == 0 ? 0 : 1;
}
