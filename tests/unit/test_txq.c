/* Transmit queues and packet timing: SO_PRIORITY classes that reorder
 * traffic waiting for a busy device, SO_TXTIME / SCM_TXTIME holding a
 * datagram until its time, SO_TIMESTAMPING's software receive and transmit
 * stamps (the body of the stamp tests also runs on Linux kernel sockets),
 * the queue's limit and its flush when the link goes down.
 *
 * The queueing cases run two stacks on the simulated segment under a
 * virtual clock: a 1 Mbit/s wire whose device holds two frames (tx_ring),
 * so a burst waits in the stack's queue, deterministically. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <time.h>

#include "unit/test_util.h"
#include "unit/test_api.h"

#include "net/sim.h"
#include "sockets/inet.h"

#define IP_A 0xc0000201u /* 192.0.2.1 */
#define IP_B 0xc0000202u
#define PORT 6000
#define MS   1000

static const uint8_t MAC_A[6] = {0x02, 0, 0, 0, 0, 0xa};
static const uint8_t MAC_B[6] = {0x02, 0, 0, 0, 0, 0xb};

static struct {
    struct z_simnet *net;
    struct z_stack *s[2];
    struct z_netif *nif[2];
    int rx; /* B's socket on PORT */
} W;

/* A and B on a wire of rate_bps whose devices hold `ring` frames; B
 * listens on PORT; A knows B's MAC already (so no datagram waits for ARP). */
static void world_up(uint64_t rate_bps, uint32_t ring)
{
    W.net = z_simnet_create(11);
    assert_non_null(W.net);
    const uint8_t *macs[2] = {MAC_A, MAC_B};
    const uint32_t ips[2] = {IP_A, IP_B};
    for (int i = 0; i < 2; i++) {
        /* Buffers for a full transmit queue, whatever the build's pool. */
        struct z_stack_config c = {.name = i == 0 ? "A" : "B",
                                   .virtual_clock = true,
                                   .pbuf_count = CONFIG_NET_TX_QUEUE_LEN + 64};
        W.s[i] = z_stack_create(&c);
        assert_non_null(W.s[i]);
        W.nif[i] = z_simnet_attach(W.net, W.s[i], macs[i]);
        assert_non_null(W.nif[i]);
        z_stack_lock(W.s[i]);
        z_netif_add_ipv4_locked(W.nif[i], ips[i], 0xffffff00u);
        z_stack_unlock(W.s[i]);
    }
    W.rx = z_inet_socket_fam_on(W.s[1], AF_INET, SOCK_DGRAM, 0, true);
    assert_true(W.rx >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    assert_int_equal(zsock_bind(W.rx, SA(sin), sizeof(sin)), 0);
    int big = 1 << 20;
    assert_int_equal(zsock_setsockopt(W.rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)), 0);
    /* Resolve B's MAC with one datagram, then shape the wire. */
    int a = z_inet_socket_fam_on(W.s[0], AF_INET, SOCK_DGRAM, 0, true);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    to.sin_addr.s_addr = htonl(IP_B);
    assert_int_equal(zsock_sendto(a, "arp", 3, 0, SA(to), sizeof(to)), 3);
    z_simnet_run(W.net, 100 * MS);
    char buf[8];
    assert_int_equal(zsock_recv(W.rx, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT), 3);
    zsock_close(a);
    struct z_sim_faults f = {.rate_bps = rate_bps, .tx_ring = ring};
    z_simnet_set_faults(W.net, &f);
}

static void set_link(int i, bool up)
{
    z_stack_lock(W.s[i]);
    z_netif_set_up_locked(W.nif[i], up);
    z_stack_unlock(W.s[i]);
}

static void world_down(void)
{
    zsock_close(W.rx);
    for (int i = 0; i < 2; i++) {
        z_stack_destroy(W.s[i]);
    }
    z_simnet_destroy(W.net);
}

/* A UDP socket on A with SO_PRIORITY prio (-1: left alone). */
static int sender(int prio)
{
    int fd = z_inet_socket_fam_on(W.s[0], AF_INET, SOCK_DGRAM, 0, true);
    assert_true(fd >= 0);
    if (prio >= 0) {
        assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &prio, sizeof(prio)), 0);
    }
    return fd;
}

/* Send `len` bytes starting with tag to B; the return of sendto. */
static ssize_t send_tagged(int fd, char tag, size_t len)
{
    char buf[1400];
    memset(buf, tag, sizeof(buf));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    to.sin_addr.s_addr = htonl(IP_B);
    return zsock_sendto(fd, buf, len, 0, SA(to), sizeof(to));
}

/* The tags of what B received, in order; returns how many. */
static int received_tags(char *tags, int max)
{
    int n = 0;
    char buf[1500];
    while (n < max && zsock_recv(W.rx, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT) > 0) {
        tags[n++] = buf[0];
    }
    return n;
}

/* Bulk of 20 datagrams at prio_bulk, then one marker at prio_marker, all
 * sent while the wire is busy: where the marker arrives (0 = first). */
static int marker_position(int prio_bulk, int prio_marker)
{
    world_up(1000000, 2);
    int bulk = sender(prio_bulk), mark = sender(prio_marker);
    /* Small datagrams: all 21 fit the smallest receive buffer of a build. */
    for (int i = 0; i < 20; i++) {
        assert_int_equal(send_tagged(bulk, 'b', 200), 200);
    }
    assert_int_equal(send_tagged(mark, 'M', 200), 200);
    z_simnet_run(W.net, 2000 * MS);
    char tags[32];
    assert_int_equal(received_tags(tags, 32), 21);
    int pos = (int)(strchr(tags, 'M') - tags);
    zsock_close(bulk);
    zsock_close(mark);
    world_down();
    return pos;
}

static void test_priority_reorders(void **state)
{
    (void)state;
    /* Two frames are in the device already; the marker is next out. */
    assert_int_equal(marker_position(0, 6), 2);
    /* The same class: first come, first served. */
    assert_int_equal(marker_position(0, 0), 20);
    /* 802.1Q order: 1 (background) ranks below 0 (best effort). */
    assert_int_equal(marker_position(1, 0), 2);
    assert_int_equal(marker_position(0, 1), 20);
}

static void test_priority_tcp_and_errors(void **state)
{
    (void)state;
    world_up(0, 0);
    int u = sender(-1);
    assert_int_equal(get_int(&zsock_api, u, SOL_SOCKET, SO_PRIORITY), 0);
    int bad = 8;
    expect_errno(zsock_setsockopt(u, SOL_SOCKET, SO_PRIORITY, &bad, sizeof(bad)), EINVAL);
    bad = -1;
    expect_errno(zsock_setsockopt(u, SOL_SOCKET, SO_PRIORITY, &bad, sizeof(bad)), EINVAL);
    zsock_close(u);

    /* TCP: kept, and handed to accepted connections as Linux does. */
    int l = z_inet_socket_fam_on(W.s[1], AF_INET, SOCK_STREAM, 0, false);
    set_int(&zsock_api, l, SOL_SOCKET, SO_PRIORITY, 5);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(PORT + 1)};
    assert_int_equal(zsock_bind(l, SA(sin), sizeof(sin)), 0);
    assert_int_equal(zsock_listen(l, 1), 0);
    int c = z_inet_socket_fam_on(W.s[0], AF_INET, SOCK_STREAM, 0, true);
    set_int(&zsock_api, c, SOL_SOCKET, SO_PRIORITY, 6);
    assert_int_equal(get_int(&zsock_api, c, SOL_SOCKET, SO_PRIORITY), 6);
    sin.sin_addr.s_addr = htonl(IP_B);
    expect_errno(zsock_connect(c, SA(sin), sizeof(sin)), EINPROGRESS);
    z_simnet_run(W.net, 100 * MS);
    int fl = zsock_fcntl(l, F_GETFL);
    zsock_fcntl(l, F_SETFL, fl | O_NONBLOCK);
    int a = zsock_accept(l, NULL, NULL);
    assert_true(a >= 0);
    assert_int_equal(get_int(&zsock_api, a, SOL_SOCKET, SO_PRIORITY), 5);
    zsock_close(a);
    zsock_close(c);
    zsock_close(l);
    world_down();
}

/* One byte to `to` with SCM_TXTIME = at_us (stack time; 0: no control message). */
static ssize_t send_txtime(int fd, const struct sockaddr_in *to, char tag, int64_t at_us)
{
    char byte = tag;
    struct iovec iov = {&byte, 1};
    union {
        char buf[CMSG_SPACE(sizeof(uint64_t))];
        struct cmsghdr align;
    } ctl;
    struct msghdr m = {
        .msg_name = (void *)to, .msg_namelen = sizeof(*to), .msg_iov = &iov, .msg_iovlen = 1};
    if (at_us != 0) {
        memset(&ctl, 0, sizeof(ctl));
        m.msg_control = ctl.buf;
        m.msg_controllen = sizeof(ctl.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_TXTIME;
        c->cmsg_len = CMSG_LEN(sizeof(uint64_t));
        uint64_t ns = (uint64_t)at_us * 1000;
        memcpy(CMSG_DATA(c), &ns, sizeof(ns));
    }
    return zsock_sendmsg(fd, &m, 0);
}

/* The same to B on the simulated segment. */
static ssize_t send_at(int fd, char tag, int64_t at_us)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    to.sin_addr.s_addr = htonl(IP_B);
    return send_txtime(fd, &to, tag, at_us);
}

/* The SCM_TIMESTAMPING stamp of a received message, in microseconds (-1: none). */
static int64_t stamp_us(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
            struct scm_timestamping st;
            memcpy(&st, CMSG_DATA(c), sizeof(st));
            return (int64_t)st.ts[0].tv_sec * 1000000 + st.ts[0].tv_nsec / 1000;
        }
    }
    return -1;
}

/* A receive with room for data and control messages. */
struct rxmsg {
    char data[1500];
    struct iovec iov;
    union {
        char buf[256];
        struct cmsghdr align;
    } ctl;
    struct msghdr m;
};

static ssize_t recv_msg(const struct api *A, int fd, struct rxmsg *r, int flags)
{
    r->iov.iov_base = r->data;
    r->iov.iov_len = sizeof(r->data);
    memset(&r->m, 0, sizeof(r->m));
    r->m.msg_iov = &r->iov;
    r->m.msg_iovlen = 1;
    r->m.msg_control = r->ctl.buf;
    r->m.msg_controllen = sizeof(r->ctl.buf);
    return A->recvmsg(fd, &r->m, flags);
}

/* One datagram from fd with its receive stamp; returns its length. */
static ssize_t recv_stamped(const struct api *A, int fd, char *tag, int64_t *stamp, int flags)
{
    struct rxmsg r;
    ssize_t n = recv_msg(A, fd, &r, flags);
    if (n > 0) {
        *tag = r.data[0];
        *stamp = stamp_us(&r.m);
    }
    return n;
}

static void test_txtime_holds_until_due(void **state)
{
    (void)state;
    world_up(0, 0);
    int rxflags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    set_int(&zsock_api, W.rx, SOL_SOCKET, SO_TIMESTAMPING, rxflags);
    int fd = sender(-1);
    /* SCM_TXTIME needs SO_TXTIME first, as on Linux. */
    int64_t now = z_simnet_now(W.net);
    expect_errno(send_at(fd, 'x', now + 10 * MS), EINVAL);
    struct sock_txtime wrong = {.clockid = CLOCK_REALTIME};
    expect_errno(zsock_setsockopt(fd, SOL_SOCKET, SO_TXTIME, &wrong, sizeof(wrong)), EINVAL);
    struct sock_txtime mono = {.clockid = CLOCK_MONOTONIC};
    assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, SO_TXTIME, &mono, sizeof(mono)), 0);
    assert_int_equal(get_int(&zsock_api, fd, SOL_SOCKET, SO_TXTIME), 1);

    /* Sent in the order late, early, now: they arrive by their times. */
    assert_int_equal(send_at(fd, 'L', now + 50 * MS), 1);
    assert_int_equal(send_at(fd, 'E', now + 20 * MS), 1);
    assert_int_equal(send_at(fd, 'N', 0), 1);
    assert_int_equal(send_at(fd, 'P', now - 5 * MS), 1); /* already due: at once */
    z_simnet_run(W.net, 10 * MS);
    char tag;
    int64_t st;
    assert_int_equal(recv_stamped(&zsock_api, W.rx, &tag, &st, ZSOCK_MSG_DONTWAIT), 1);
    assert_int_equal(tag, 'N');
    assert_int_equal(recv_stamped(&zsock_api, W.rx, &tag, &st, ZSOCK_MSG_DONTWAIT), 1);
    assert_int_equal(tag, 'P');
    expect_errno(recv_stamped(&zsock_api, W.rx, &tag, &st, ZSOCK_MSG_DONTWAIT), EAGAIN);
    z_simnet_run(W.net, 100 * MS);
    assert_int_equal(recv_stamped(&zsock_api, W.rx, &tag, &st, ZSOCK_MSG_DONTWAIT), 1);
    assert_int_equal(tag, 'E');
    assert_true(st >= now + 20 * MS);
    assert_int_equal(recv_stamped(&zsock_api, W.rx, &tag, &st, ZSOCK_MSG_DONTWAIT), 1);
    assert_int_equal(tag, 'L');
    assert_true(st >= now + 50 * MS);

    /* Held frames die with the link. */
    uint64_t dropped = W.nif[0]->stats.tx_dropped;
    assert_int_equal(send_at(fd, 'D', z_simnet_now(W.net) + 50 * MS), 1);
    set_link(0, false);
    assert_int_equal(W.nif[0]->stats.tx_dropped, dropped + 1);
    zsock_close(fd);
    world_down();
}

static void test_queue_limit_and_flush(void **state)
{
    (void)state;
    world_up(1000000, 1);
    int fd = sender(-1);
    /* The device takes one frame; the queue CONFIG_NET_TX_QUEUE_LEN more;
     * then a non-blocking sender is told to wait. */
    int accepted = 0;
    ssize_t rc;
    while ((rc = send_tagged(fd, 'q', 100)) == 100) {
        accepted++;
        assert_true(accepted <= CONFIG_NET_TX_QUEUE_LEN + 1);
    }
    expect_errno(rc, EAGAIN);
    assert_int_equal(accepted, CONFIG_NET_TX_QUEUE_LEN + 1);
    /* Nothing lost: the wire drains the queue (about 1 ms a frame), read
     * as it arrives (a build's receive buffer may be small). */
    char tags[CONFIG_NET_TX_QUEUE_LEN + 8];
    int got = 0;
    for (int ms = 0; ms < 3000 && got < accepted; ms += 10) {
        z_simnet_run(W.net, 10 * MS);
        got += received_tags(tags, (int)sizeof(tags));
    }
    assert_int_equal(got, accepted);

    /* A queue cut short by the link going down: counted, and the link
     * works again when it comes back. */
    for (int i = 0; i < 10; i++) {
        assert_int_equal(send_tagged(fd, 'd', 1000), 1000);
    }
    uint64_t dropped = W.nif[0]->stats.tx_dropped;
    set_link(0, false);
    assert_int_equal(W.nif[0]->stats.tx_dropped, dropped + 9);
    set_link(0, true);
    z_simnet_run(W.net, 100 * MS);
    (void)received_tags(tags, (int)sizeof(tags));
    assert_int_equal(send_tagged(fd, 'u', 100), 100);
    z_simnet_run(W.net, 100 * MS);
    assert_int_equal(received_tags(tags, (int)sizeof(tags)), 1);
    assert_int_equal(tags[0], 'u');
    zsock_close(fd);
    world_down();
}

/* ---- SO_TIMESTAMPING on the loopback, zsock and Linux ------------------------------- */

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* zsock stamps on the stack's clock (CLOCK_MONOTONIC), Linux on CLOCK_REALTIME. */
static clockid_t stamp_clock(const struct api *A)
{
    return A->zsock ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

static int udp_lo(const struct api *A, struct sockaddr_in *addr)
{
    int fd = A->socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(LOCALHOST);
    assert_int_equal(A->bind(fd, CSA(sin), sizeof(sin)), 0);
    socklen_t l = sizeof(*addr);
    assert_int_equal(A->getsockname(fd, SA(*addr), &l), 0);
    return fd;
}

static void test_rx_stamps(void **state)
{
    const struct api *A = *state;
    struct sockaddr_in ra, sa;
    int r = udp_lo(A, &ra), s = udp_lo(A, &sa);
    int flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
    set_int(A, r, SOL_SOCKET, SO_TIMESTAMPING, flags);
    assert_int_equal(get_int(A, r, SOL_SOCKET, SO_TIMESTAMPING), flags);
    /* Linux stamps with the kernel's real-time clock, which may read a few
     * microseconds behind this process's vDSO read: a millisecond of slack
     * for it; zsock's stamps come from the very clock read here. */
    int64_t before = clock_us(stamp_clock(A)) - (A->zsock ? 0 : 1000);
    int64_t last = before;
    int stamped = 0;
    int64_t give_up = clock_us(CLOCK_MONOTONIC) + WAIT_MS * 1000LL;
    for (int i = 0; stamped < 5; i++) {
        assert_true(clock_us(CLOCK_MONOTONIC) < give_up);
        assert_int_equal(A->sendto(s, "s", 1, 0, CSA(ra), sizeof(ra)), 1);
        assert_true(poll_one(A, r, POLLIN, WAIT_MS) & POLLIN);
        char tag;
        int64_t st;
        assert_int_equal(recv_stamped(A, r, &tag, &st, 0), 1);
        int64_t after = clock_us(stamp_clock(A));
        /* Monotonic, and between the send and the return of recvmsg. */
        if (st == -1 && !A->zsock && last == before) {
            /* Linux turns its receive stamps on a moment later (a deferred
             * static key), sometimes after milliseconds on a busy machine. */
            usleep(1000);
            continue;
        }
        stamped++;
        if (st < last || st > after) {
            fail_msg("%s: stamp %lld outside [%lld, %lld] (datagram %d)", A->name, (long long)st,
                     (long long)last, (long long)after, i);
        }
        last = st;
    }
    assert_true(last > before);
    /* Off again: no stamp. */
    set_int(A, r, SOL_SOCKET, SO_TIMESTAMPING, 0);
    assert_int_equal(A->sendto(s, "s", 1, 0, CSA(ra), sizeof(ra)), 1);
    assert_true(poll_one(A, r, POLLIN, WAIT_MS) & POLLIN);
    char tag;
    int64_t st = 0;
    assert_int_equal(recv_stamped(A, r, &tag, &st, 0), 1);
    assert_int_equal(st, -1);
    /* Bits no implementation knows. */
    int junk = 1 << 30;
    expect_errno(A->setsockopt(r, SOL_SOCKET, SO_TIMESTAMPING, &junk, sizeof(junk)), EINVAL);
    A->close(r);
    A->close(s);
}

/* One transmit stamp from the error queue: its key and time. */
static ssize_t errqueue_stamp(const struct api *A, int fd, uint32_t *key, int64_t *when, int fam)
{
    struct rxmsg r;
    ssize_t n = recv_msg(A, fd, &r, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) {
        return n;
    }
    struct msghdr m = r.m;
    assert_true(m.msg_flags & MSG_ERRQUEUE);
    *when = stamp_us(&m);
    bool have_ee = false;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
        if ((fam == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
            (fam == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
            struct sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof(ee));
            assert_int_equal(ee.ee_errno, ENOMSG);
            assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_TIMESTAMPING);
            assert_int_equal(ee.ee_info, SCM_TSTAMP_SND);
            *key = ee.ee_data;
            have_ee = true;
        }
    }
    assert_true(have_ee);
    return n;
}

static void test_tx_stamps(void **state)
{
    const struct api *A = *state;
    struct sockaddr_in ra, sa;
    int r = udp_lo(A, &ra), s = udp_lo(A, &sa);
    int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
                SOF_TIMESTAMPING_OPT_TSONLY;
    set_int(A, s, SOL_SOCKET, SO_TIMESTAMPING, flags);
    uint32_t key;
    int64_t when;
    expect_errno(errqueue_stamp(A, s, &key, &when, AF_INET), EAGAIN);
    int64_t before = clock_us(stamp_clock(A));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(A->sendto(s, "t", 1, 0, CSA(ra), sizeof(ra)), 1);
    }
    int64_t last = before;
    for (uint32_t i = 0; i < 3; i++) {
        /* A stamp waiting shows as POLLERR. */
        assert_true(poll_one(A, s, 0, WAIT_MS) & POLLERR);
        assert_int_equal(errqueue_stamp(A, s, &key, &when, AF_INET), 0);
        assert_int_equal(key, i);
        assert_true(when >= last);
        assert_true(when <= clock_us(stamp_clock(A)));
        last = when;
    }
    expect_errno(errqueue_stamp(A, s, &key, &when, AF_INET), EAGAIN);
    assert_false(poll_one(A, s, 0, 0) & POLLERR);
    /* The datagrams themselves arrived untouched. */
    char buf[8];
    for (int i = 0; i < 3; i++) {
        assert_true(poll_one(A, r, POLLIN, WAIT_MS) & POLLIN);
        assert_int_equal(A->recvfrom(r, buf, sizeof(buf), 0, NULL, NULL), 1);
    }
    A->close(r);
    A->close(s);
}

/* What zsock answers where it differs from Linux, each documented. */
static void test_stamp_errors_zsock(void **state)
{
    (void)state;
    struct sockaddr_in a;
    int u = udp_lo(&zsock_api, &a);
    int hw = SOF_TIMESTAMPING_RX_HARDWARE;
    expect_errno(zsock_setsockopt(u, SOL_SOCKET, SO_TIMESTAMPING, &hw, sizeof(hw)), EOPNOTSUPP);
    zsock_close(u);
    int t = zsock_socket(AF_INET, SOCK_STREAM, 0);
    int on = SOF_TIMESTAMPING_RX_SOFTWARE;
    expect_errno(zsock_setsockopt(t, SOL_SOCKET, SO_TIMESTAMPING, &on, sizeof(on)), ENOPROTOOPT);
    expect_errno(zsock_setsockopt(t, SOL_SOCKET, SO_TXTIME, &on, sizeof(on)), ENOPROTOOPT);
    /* A socket without an error queue has nothing in it. */
    char c;
    struct iovec iov = {&c, 1};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    expect_errno(zsock_recvmsg(t, &m, ZSOCK_MSG_ERRQUEUE), EAGAIN);
    zsock_close(t);
}

/* A datagram sent on the real clock with an SCM_TXTIME leaves no earlier. */
static void test_txtime_real_clock(void **state)
{
    (void)state;
    struct sockaddr_in ra, sa;
    int r = udp_lo(&zsock_api, &ra), s = udp_lo(&zsock_api, &sa);
    set_int(&zsock_api, r, SOL_SOCKET, SO_TIMESTAMPING,
            SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
    set_int(&zsock_api, s, SOL_SOCKET, SO_TXTIME, 1);
    int64_t at = clock_us(CLOCK_MONOTONIC) + 30 * MS;
    assert_int_equal(send_txtime(s, &ra, 'T', at), 1);
    assert_true(poll_one(&zsock_api, r, POLLIN, WAIT_MS) & POLLIN);
    char tag;
    int64_t st;
    assert_int_equal(recv_stamped(&zsock_api, r, &tag, &st, 0), 1);
    assert_int_equal(tag, 'T');
    assert_true(st >= at);
    assert_true(clock_us(CLOCK_MONOTONIC) >= at);
    zsock_close(r);
    zsock_close(s);
}

int main(void)
{
    /* The default stack's own descriptors exist before the first test counts them. */
    assert_int_equal(zsock_net_init(), 0);
    const struct CMUnitTest tests[] = {
        ZS(test_priority_reorders),
        ZS(test_priority_tcp_and_errors),
        ZS(test_txtime_holds_until_due),
        ZS(test_queue_limit_and_flush),
        BOTH(test_rx_stamps),
        BOTH(test_tx_stamps),
        ZS(test_stamp_errors_zsock),
        ZS(test_txtime_real_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
