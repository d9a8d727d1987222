/* txtime: datagrams sent on a schedule with SO_TXTIME / SCM_TXTIME, and
 * timed with SO_TIMESTAMPING, as Zephyr's txtime sample does for TSN.
 *
 *   txtime recv [-6] [-p PORT] [-c COUNT]       print each arrival's stamp
 *   txtime send [-6] [-p PORT] [-c COUNT] [-i MS] HOST
 *
 * The sender schedules COUNT datagrams every MS milliseconds (default 10),
 * the first 100 ms from now, each with an SCM_TXTIME on CLOCK_MONOTONIC and
 * its schedule in the payload, handed to the stack 20 ms ahead of its time;
 * with SOF_TIMESTAMPING_TX_SOFTWARE it reads back from its error queue when
 * each one really left, prints how late it
 * was, and fails if any left early. The receiver stamps arrivals
 * (SOF_TIMESTAMPING_RX_SOFTWARE) and prints the gap to the previous one.
 * Interfaces come from the environment (ZSOCK_TAP, ZSOCK_PIPE, ZSOCK_IPV4,
 * ZSOCK_IPV6...; docs/networking.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>

struct args {
    bool send, ipv6;
    int port, count, interval_ms;
    const char *host;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The SCM_TIMESTAMPING stamp of a message in nanoseconds, or -1. */
static int64_t stamp_ns(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
            struct scm_timestamping st;
            memcpy(&st, CMSG_DATA(c), sizeof(st));
            return (int64_t)st.ts[0].tv_sec * 1000000000 + st.ts[0].tv_nsec;
        }
    }
    return -1;
}

static int udp_socket(const struct args *a, int flags)
{
    int fd = zsock_socket(a->ipv6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || zsock_setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) < 0) {
        perror("txtime: socket or SO_TIMESTAMPING");
        return -1;
    }
    return fd;
}

static int run_recv(const struct args *a)
{
    int fd = udp_socket(a, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t len = sizeof(struct sockaddr_in);
    if (a->ipv6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)a->port);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)a->port);
    }
    if (fd < 0 || zsock_bind(fd, (struct sockaddr *)&ss, len) < 0) {
        perror("txtime: bind");
        return 1;
    }
    printf("txtime: receiving on port %d\n", a->port);
    fflush(stdout);
    int64_t prev = -1;
    for (int i = 0; i < a->count; i++) {
        int64_t sched = 0;
        struct iovec iov = {&sched, sizeof(sched)};
        union {
            char buf[128];
            struct cmsghdr align;
        } ctl;
        struct msghdr m = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = ctl.buf,
                           .msg_controllen = sizeof(ctl)};
        if (zsock_recvmsg(fd, &m, 0) < 0) {
            perror("txtime: recvmsg");
            return 1;
        }
        int64_t at = stamp_ns(&m);
        printf("recv %d: arrived %" PRId64 " ns", i, at);
        if (prev >= 0) {
            printf(", %.3f ms after the previous", (double)(at - prev) / 1e6);
        }
        printf("\n");
        fflush(stdout);
        prev = at;
    }
    zsock_close(fd);
    return 0;
}

/* The peer as an address of the socket's family. */
static socklen_t peer_addr(const struct args *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (a->ipv6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)a->port);
        return zsock_inet_pton(AF_INET6, a->host, &s6->sin6_addr) == 1 ? sizeof(*s6) : 0;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)a->port);
    return zsock_inet_pton(AF_INET, a->host, &s4->sin_addr) == 1 ? sizeof(*s4) : 0;
}

/* The next transmit stamp, waiting up to ms: its datagram's number and time. */
static int next_tx_stamp(int fd, int ms, uint32_t *key, int64_t *at)
{
    struct pollfd p = {.fd = fd, .events = 0};
    if (zsock_poll(&p, 1, ms) <= 0 || !(p.revents & POLLERR)) {
        return -1;
    }
    union {
        char buf[256];
        struct cmsghdr align;
    } ctl;
    char none;
    struct iovec iov = {&none, 1};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl)};
    if (zsock_recvmsg(fd, &m, ZSOCK_MSG_ERRQUEUE) < 0) {
        return -1;
    }
    *at = stamp_ns(&m);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
            struct sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof(ee));
            *key = ee.ee_data;
            return 0;
        }
    }
    return -1;
}

/* One datagram carrying its schedule, with SCM_TXTIME = that schedule. */
static int send_at(int fd, const struct sockaddr_storage *to, socklen_t tolen, int64_t *sched)
{
    uint64_t txtime = (uint64_t)*sched;
    struct iovec iov = {sched, sizeof(*sched)};
    union {
        char buf[CMSG_SPACE(sizeof(uint64_t))];
        struct cmsghdr align;
    } ctl;
    memset(&ctl, 0, sizeof(ctl));
    struct msghdr m = {.msg_name = (void *)to,
                       .msg_namelen = tolen,
                       .msg_iov = &iov,
                       .msg_iovlen = 1,
                       .msg_control = ctl.buf,
                       .msg_controllen = sizeof(ctl.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_TXTIME;
    c->cmsg_len = CMSG_LEN(sizeof(txtime));
    memcpy(CMSG_DATA(c), &txtime, sizeof(txtime));
    return zsock_sendmsg(fd, &m, 0) < 0 ? -1 : 0;
}

/* The transmit stamps read so far. */
struct stamps {
    const int64_t *sched;
    int64_t first;
    int count, stamped, early;
    int64_t worst;
};

/* Wait up to ms for the next transmit stamp and print it. -1: none came. */
static int collect(int fd, struct stamps *st, int ms)
{
    uint32_t key;
    int64_t at;
    if (next_tx_stamp(fd, ms, &key, &at) < 0 || key >= (uint32_t)st->count) {
        return -1;
    }
    int64_t late = at - st->sched[key];
    printf("sent %" PRIu32 ": %.3f ms after scheduling, %" PRId64 " us late\n", key,
           (double)(st->sched[key] - st->first) / 1e6 + 100, late / 1000);
    st->early += late < 0;
    st->worst = late > st->worst ? late : st->worst;
    st->stamped++;
    return 0;
}

static int run_send(const struct args *a)
{
    int fd = udp_socket(a, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
                               SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY);
    int on = 1;
    if (fd < 0 || zsock_setsockopt(fd, SOL_SOCKET, SO_TXTIME, &on, sizeof(on)) < 0) {
        perror("txtime: SO_TXTIME");
        return 1;
    }
    struct sockaddr_storage to;
    socklen_t tolen = peer_addr(a, &to);
    if (tolen == 0) {
        fprintf(stderr, "txtime: bad address %s\n", a->host);
        return 1;
    }
    /* Each datagram is handed over LEAD ahead of its time, as a real-time
     * application prepares one cycle ahead: the stack holds it until then. */
    const int64_t lead = 20 * 1000000LL;
    int64_t *sched = calloc((size_t)a->count, sizeof(*sched));
    int64_t first = now_ns() + 100 * 1000000LL;
    struct stamps st = {.sched = sched, .first = first, .count = a->count};
    for (int i = 0; sched != NULL && i < a->count; i++) {
        sched[i] = first + (int64_t)i * a->interval_ms * 1000000LL;
        while (now_ns() < sched[i] - lead) {
            collect(fd, &st, 1); /* stamps of earlier datagrams meanwhile */
        }
        if (send_at(fd, &to, tolen, &sched[i]) < 0) {
            perror("txtime: sendmsg");
            return 1;
        }
    }
    printf("txtime: %d datagrams scheduled every %d ms\n", a->count, a->interval_ms);
    while (sched != NULL && st.stamped < a->count && collect(fd, &st, 5000) == 0) {
    }
    int early = st.early, stamped = st.stamped;
    int64_t worst = st.worst;
    printf("txtime: %d of %d stamped, %d early, at most %" PRId64 " us late\n", stamped, a->count,
           early, worst / 1000);
    free(sched);
    zsock_close(fd);
    return stamped == a->count && early == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    struct args a = {.port = 4243, .count = 10, .interval_ms = 10};
    int i = 1;
    if (argc > 1 && (strcmp(argv[1], "send") == 0 || strcmp(argv[1], "recv") == 0)) {
        a.send = strcmp(argv[1], "send") == 0;
        i = 2;
    } else {
        fprintf(stderr, "usage: txtime recv|send [-6] [-p PORT] [-c COUNT] [-i MS] [HOST]\n");
        return 2;
    }
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-6") == 0) {
            a.ipv6 = true;
        } else if (i + 1 < argc && strcmp(argv[i], "-p") == 0) {
            a.port = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "-c") == 0) {
            a.count = atoi(argv[++i]);
        } else if (i + 1 < argc && strcmp(argv[i], "-i") == 0) {
            a.interval_ms = atoi(argv[++i]);
        } else {
            a.host = argv[i];
        }
    }
    if (a.count <= 0 || a.interval_ms <= 0 || (a.send && a.host == NULL)) {
        fprintf(stderr, "txtime: COUNT and MS must be positive; send needs HOST\n");
        return 2;
    }
    if (zsock_net_init() < 0) {
        perror("txtime: zsock_net_init");
        return 1;
    }
    return a.send ? run_send(&a) : run_recv(&a);
}
