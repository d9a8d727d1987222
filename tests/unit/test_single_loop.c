/* Single-loop mode on the posix port (docs/embedded.md): the default stack
 * without a core thread, driven by zsock_net_process() from one loop in the
 * one thread of this program. Loopback TCP and UDP with non-blocking
 * sockets, timers that run only when the loop runs them, and blocking calls,
 * which run the stack themselves while they wait. A frame pipe whose far
 * end is a plain Unix datagram socket held by the test stands for a wire.
 *
 * The mode is asked for by zsock_net_init_polled() in main(), or, when the
 * test runs as test_single_loop_env, by ZSOCK_CORE_THREAD=0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "test_util.h"

/* Threads of this process, from /proc/self/task. */
static int thread_count(void)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* Safety bound for the loops below, so a broken build fails rather than
 * hangs; no assertion depends on it. */
#define LOOP_LIMIT_US (60 * 1000000LL)

static struct sockaddr_in sin_of(uint32_t host_addr, uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(host_addr);
    a.sin_port = htons(port);
    return a;
}

static uint16_t port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    assert_int_equal(zsock_getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

/* ---- the mode itself ------------------------------------------------------------------------ */

static void test_no_core_thread(void **state)
{
    (void)state;
    /* Already in single-loop mode: asking again is fine. */
    assert_int_equal(zsock_net_init_polled(), 0);
    int fd = zsock_socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    zsock_close(fd);
    int ms = zsock_net_process(0);
    assert_true(ms >= 0 && ms <= 1000);
    /* The stack is up and has run, and this process is still one thread:
     * no core thread was started. */
    assert_int_equal(thread_count(), 1);
}

/* With a core thread (the posix port's default) there is nothing for the
 * loop to do: zsock_net_process() and zsock_net_init_polled() say EBUSY.
 * Checked by this program run again without single-loop mode
 * (core_thread_check() below), since this process's stack is polled. */
static void test_core_thread_mode_refuses(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsetenv("ZSOCK_CORE_THREAD");
        char *argv[] = {"test_single_loop", "--core-thread-check", NULL};
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The other side of the test above: a stack with its core thread. */
static int core_thread_check(void)
{
    if (zsock_net_init() != 0) {
        return 1;
    }
    if (zsock_net_process(0) != -EBUSY || zsock_net_init_polled() != -EBUSY) {
        return 2;
    }
    return thread_count() >= 2 ? 0 : 3; /* the core thread runs */
}

/* ---- TCP over loopback: 1 MiB echoed, non-blocking, one loop ----------------------------------
 */

#define ECHO_BYTES (1024 * 1024)

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 10));
}

static void test_tcp_echo_one_loop(void **state)
{
    (void)state;
    int lfd = zsock_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in a = sin_of(0x7f000001, 0);
    assert_int_equal(zsock_bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(zsock_listen(lfd, 4), 0);
    a.sin_port = htons(port_of(lfd));

    int cfd = zsock_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(cfd >= 0);
    int rc = zsock_connect(cfd, (struct sockaddr *)&a, sizeof(a));
    assert_true(rc == 0 || (rc == -1 && errno == EINPROGRESS));

    int sfd = -1;
    size_t sent = 0, received = 0; /* client side */
    static uint8_t echo[16384];    /* server side: read, not yet written back */
    size_t echo_len = 0;
    bool connected = false, mismatch = false;
    int passes = 0;
    int64_t limit = mono_us() + LOOP_LIMIT_US;
    while (received < ECHO_BYTES && mono_us() < limit) {
        struct zsock_pollfd pfd[3] = {
            {.fd = lfd, .events = ZSOCK_POLLIN},
            {.fd = cfd, .events = ZSOCK_POLLIN | (sent < ECHO_BYTES ? ZSOCK_POLLOUT : 0)},
            {.fd = sfd, .events = ZSOCK_POLLIN | (echo_len > 0 ? ZSOCK_POLLOUT : 0)},
        };
        int ready = zsock_poll(pfd, sfd >= 0 ? 3 : 2, 0);
        assert_true(ready >= 0);
        if (pfd[0].revents & ZSOCK_POLLIN) {
            sfd = zsock_accept(lfd, NULL, NULL);
            assert_true(sfd >= 0);
        }
        if (pfd[1].revents & ZSOCK_POLLOUT) {
            if (!connected) {
                int err = -1;
                socklen_t len = sizeof(err);
                assert_int_equal(zsock_getsockopt(cfd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
                assert_int_equal(err, 0);
                connected = true;
            }
            uint8_t buf[8192];
            size_t n = ECHO_BYTES - sent < sizeof(buf) ? ECHO_BYTES - sent : sizeof(buf);
            for (size_t i = 0; i < n; i++) {
                buf[i] = pattern(sent + i);
            }
            ssize_t w = zsock_send(cfd, buf, n, 0);
            if (w > 0) {
                sent += (size_t)w;
            } else {
                assert_int_equal(errno, EAGAIN);
            }
        }
        if (pfd[1].revents & ZSOCK_POLLIN) {
            uint8_t buf[8192];
            ssize_t r = zsock_recv(cfd, buf, sizeof(buf), 0);
            assert_true(r > 0);
            for (ssize_t i = 0; i < r; i++) {
                mismatch |= buf[i] != pattern(received + (size_t)i);
            }
            received += (size_t)r;
        }
        if (sfd >= 0 && (pfd[2].revents & ZSOCK_POLLIN) && echo_len < sizeof(echo)) {
            ssize_t r = zsock_recv(sfd, echo + echo_len, sizeof(echo) - echo_len, 0);
            assert_true(r > 0);
            echo_len += (size_t)r;
        }
        if (sfd >= 0 && echo_len > 0) {
            ssize_t w = zsock_send(sfd, echo, echo_len, 0);
            if (w > 0) {
                memmove(echo, echo + w, echo_len - (size_t)w);
                echo_len -= (size_t)w;
            } else {
                assert_int_equal(errno, EAGAIN);
            }
        }
        /* Nothing ready: let the stack wait for its next timer (a delayed
         * ACK, say); otherwise just give it a pass. */
        int ms = zsock_net_process(ready == 0 ? 100 : 0);
        assert_true(ms >= 0);
        passes++;
    }
    assert_int_equal(received, ECHO_BYTES);
    assert_false(mismatch);
    assert_true(passes > 0);
    assert_int_equal(thread_count(), 1);
    zsock_close(cfd);
    zsock_close(sfd);
    zsock_close(lfd);
    /* The closes finish (FIN, ACK, TIME-WAIT) only as the loop runs. */
    for (int i = 0; i < 5; i++) {
        assert_true(zsock_net_process(0) >= 0);
    }
}

/* ---- UDP over loopback -------------------------------------------------------------------- */

static void test_udp_exchange(void **state)
{
    (void)state;
    int a = zsock_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int b = zsock_socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(a >= 0 && b >= 0);
    struct sockaddr_in lo = sin_of(0x7f000001, 0);
    assert_int_equal(zsock_bind(a, (struct sockaddr *)&lo, sizeof(lo)), 0);
    assert_int_equal(zsock_bind(b, (struct sockaddr *)&lo, sizeof(lo)), 0);
    struct sockaddr_in to_b = sin_of(0x7f000001, port_of(b));

    /* Ping-pong: a sends i, b answers i + 1000, driven by poll + process. */
    int answered = 0;
    int64_t limit = mono_us() + LOOP_LIMIT_US;
    for (int i = 0; i < 200 && mono_us() < limit;) {
        uint32_t v = (uint32_t)i;
        assert_int_equal(zsock_sendto(a, &v, sizeof(v), 0, (struct sockaddr *)&to_b, sizeof(to_b)),
                         (ssize_t)sizeof(v));
        bool got = false;
        while (!got && mono_us() < limit) {
            struct zsock_pollfd pfd[2] = {{.fd = a, .events = ZSOCK_POLLIN},
                                          {.fd = b, .events = ZSOCK_POLLIN}};
            int ready = zsock_poll(pfd, 2, 0);
            assert_true(ready >= 0);
            if (pfd[1].revents & ZSOCK_POLLIN) {
                uint32_t q;
                struct sockaddr_in from;
                socklen_t fl = sizeof(from);
                assert_int_equal(zsock_recvfrom(b, &q, sizeof(q), 0, (struct sockaddr *)&from, &fl),
                                 (ssize_t)sizeof(q));
                assert_int_equal(ntohs(from.sin_port), port_of(a));
                q += 1000;
                assert_int_equal(zsock_sendto(b, &q, sizeof(q), 0, (struct sockaddr *)&from, fl),
                                 (ssize_t)sizeof(q));
            }
            if (pfd[0].revents & ZSOCK_POLLIN) {
                uint32_t r;
                assert_int_equal(zsock_recv(a, &r, sizeof(r), 0), (ssize_t)sizeof(r));
                assert_int_equal(r, (uint32_t)i + 1000);
                answered++;
                got = true;
            }
            assert_true(zsock_net_process(ready == 0 ? 100 : 0) >= 0);
        }
        i++;
    }
    assert_int_equal(answered, 200);

    /* Nothing queued: a non-blocking receive says so at once. */
    uint32_t r;
    expect_errno(zsock_recv(a, &r, sizeof(r), 0), EAGAIN);
    zsock_close(a);
    zsock_close(b);
}

/* ---- blocking calls ---------------------------------------------------------------------------
 */

/* A blocking call with a timeout runs the stack while it waits, and returns
 * when the time is up, as it would with a core thread. */
static void test_blocking_timeouts(void **state)
{
    (void)state;
    int u = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(u >= 0);
    struct sockaddr_in lo = sin_of(0x7f000001, 0);
    assert_int_equal(zsock_bind(u, (struct sockaddr *)&lo, sizeof(lo)), 0);
    struct zsock_timeval tv = {.tv_sec = 0, .tv_usec = 300000};
    assert_int_equal(zsock_setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    int64_t t0 = mono_us();
    char c;
    expect_errno(zsock_recv(u, &c, 1, 0), EAGAIN);
    assert_true(mono_us() - t0 >= 300000); /* it did wait its timeout */

    /* poll with a timeout and nothing to report: 0 after the timeout. */
    struct zsock_pollfd pfd = {.fd = u, .events = ZSOCK_POLLIN};
    t0 = mono_us();
    assert_int_equal(zsock_poll(&pfd, 1, 200), 0);
    assert_true(mono_us() - t0 >= 200000);
    zsock_close(u);
}

/* Blocking connect, accept, send and receive between two sockets of the
 * same thread work: each call processes what the other queued. */
static void test_blocking_loopback_same_thread(void **state)
{
    (void)state;
    int lfd = zsock_socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    struct sockaddr_in a = sin_of(0x7f000001, 0);
    assert_int_equal(zsock_bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(zsock_listen(lfd, 1), 0);
    a.sin_port = htons(port_of(lfd));
    int cfd = zsock_socket(AF_INET, SOCK_STREAM, 0);
    assert_true(cfd >= 0);
    assert_int_equal(zsock_connect(cfd, (struct sockaddr *)&a, sizeof(a)), 0);
    int sfd = zsock_accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);
    assert_int_equal(zsock_send(cfd, "hello", 5, 0), 5);
    char buf[8] = {0};
    assert_int_equal(zsock_recv(sfd, buf, sizeof(buf), 0), 5);
    assert_string_equal(buf, "hello");

    /* A blocking send larger than what the peer, which this thread does not
     * read, can hold: it cannot complete, and returns the count queued so
     * far when SO_SNDTIMEO runs out instead of hanging. */
    struct zsock_timeval tv = {.tv_sec = 0, .tv_usec = 300000};
    assert_int_equal(zsock_setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    static uint8_t big[8 * 1024 * 1024];
    ssize_t w = zsock_send(cfd, big, sizeof(big), 0);
    assert_true(w > 0 && (size_t)w < sizeof(big));
    zsock_close(cfd);
    zsock_close(sfd);
    zsock_close(lfd);
    assert_int_equal(thread_count(), 1);
}

/* ---- a wire: a frame pipe whose far end this test holds -------------------------------------- */

struct wire {
    char local[64]; /* zsock's end */
    char peer[64];  /* ours */
    int fd;         /* our datagram socket, bound at peer */
    int ifindex;
    uint8_t mac[6]; /* zsock's interface */
};

#define WIRE_ADDR 0x0a4d0001u /* 10.77.0.1/24: zsock's address */

static void wire_open(struct wire *w, const char *tag)
{
    snprintf(w->local, sizeof(w->local), "/tmp/zsock-loop-%s-%d-z", tag, (int)getpid());
    snprintf(w->peer, sizeof(w->peer), "/tmp/zsock-loop-%s-%d-t", tag, (int)getpid());
    unlink(w->local);
    unlink(w->peer);
    w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(w->fd >= 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", w->peer);
    assert_int_equal(bind(w->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
    w->ifindex = zsock_if_add_pipe(w->local, w->peer);
    assert_true(w->ifindex > 0);
    struct in_addr addr = {.s_addr = htonl(WIRE_ADDR)};
    assert_int_equal(zsock_if_add_ipv4(w->ifindex, &addr, 24), 0);
    assert_int_equal(zsock_if_up(w->ifindex), 0);
    struct zsock_if_info info[8];
    int n = zsock_if_list(info, 8);
    for (int i = 0; i < n && i < 8; i++) {
        if (info[i].index == w->ifindex) {
            memcpy(w->mac, info[i].mac, 6);
        }
    }
}

static void wire_close(struct wire *w)
{
    assert_int_equal(zsock_if_remove(w->ifindex), 0);
    close(w->fd);
    unlink(w->peer);
}

/* Read every frame zsock sent; count the ARP requests for `target` (host
 * order). */
static int wire_count_arp_requests(struct wire *w, uint32_t target)
{
    int n = 0;
    uint8_t f[2048];
    ssize_t r;
    while ((r = recv(w->fd, f, sizeof(f), MSG_DONTWAIT)) > 0) {
        if (r >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[20] == 0 && f[21] == 1) {
            uint32_t tpa =
                (uint32_t)f[38] << 24 | (uint32_t)f[39] << 16 | (uint32_t)f[40] << 8 | f[41];
            n += tpa == target;
        }
    }
    return n;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* Put an Ethernet frame holding a UDP datagram from 10.77.0.2:4000 to
 * zsock's address and `dport` on the wire; zsock reads it only when its
 * stack runs. */
static void wire_send_udp(struct wire *w, uint16_t dport, const char *payload)
{
    uint8_t f[256];
    size_t plen = strlen(payload);
    size_t iplen = 20 + 8 + plen;
    memset(f, 0, sizeof(f));
    memcpy(f, w->mac, 6);
    const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0x4d, 0x02};
    memcpy(f + 6, src_mac, 6);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(iplen >> 8);
    ip[3] = (uint8_t)iplen;
    ip[8] = 64;
    ip[9] = 17;
    const uint8_t src[4] = {10, 77, 0, 2}, dst[4] = {10, 77, 0, 1};
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    uint16_t cs = ip_checksum(ip, 20);
    ip[10] = (uint8_t)(cs >> 8);
    ip[11] = (uint8_t)cs;
    uint8_t *udp = ip + 20;
    udp[0] = 4000 >> 8;
    udp[1] = 4000 & 0xff;
    udp[2] = (uint8_t)(dport >> 8);
    udp[3] = (uint8_t)dport;
    udp[4] = (uint8_t)((8 + plen) >> 8);
    udp[5] = (uint8_t)(8 + plen); /* checksum 0: none, allowed over IPv4 */
    memcpy(udp + 8, payload, plen);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", w->local);
    assert_int_equal(sendto(w->fd, f, 14 + iplen, 0, (struct sockaddr *)&sun, sizeof(sun)),
                     (ssize_t)(14 + iplen));
}

/* Timers run only when the loop runs the stack: a connect to a host that
 * never answers ARP sends one request, then nothing while the program does
 * not call zsock; ARP retries and the SYN's retransmission come once
 * zsock_net_process() runs. */
static void test_timers_run_from_the_loop(void **state)
{
    (void)state;
    struct wire w;
    wire_open(&w, "timers");
    (void)wire_count_arp_requests(&w, 0); /* the announcement of our address */
    struct zsock_net_stats st0, st;
    assert_int_equal(zsock_net_stats(&st0), 0);

    int fd = zsock_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in dst = sin_of(0x0a4d0002, 7);
    expect_errno(zsock_connect(fd, (struct sockaddr *)&dst, sizeof(dst)), EINPROGRESS);

    /* Longer than the ARP retry (1 s) and the SYN's first timeout (1 s). */
    sleep_ms(1500);
    assert_int_equal(wire_count_arp_requests(&w, 0x0a4d0002), 1);
    assert_int_equal(zsock_net_stats(&st), 0);
    assert_int_equal(st.tcp.retransmits, st0.tcp.retransmits);

    /* The loop runs: the timers that were due fire, more follow. */
    int arp = 0;
    int64_t limit = mono_us() + LOOP_LIMIT_US;
    while ((arp < 2 || st.tcp.retransmits == st0.tcp.retransmits) && mono_us() < limit) {
        int ms = zsock_net_process(1000);
        assert_true(ms >= 0 && ms <= 1000);
        arp += wire_count_arp_requests(&w, 0x0a4d0002);
        assert_int_equal(zsock_net_stats(&st), 0);
    }
    assert_true(arp >= 2);
    assert_true(st.tcp.retransmits > st0.tcp.retransmits);
    /* Still connecting: no answer ever came. */
    struct zsock_pollfd pfd = {.fd = fd, .events = ZSOCK_POLLOUT};
    assert_int_equal(zsock_poll(&pfd, 1, 0), 0);
    zsock_close(fd);

    /* A blocking connect with SO_SNDTIMEO: EINPROGRESS when the time is
     * up, as on Linux; the stack ran meanwhile (the ARP retries). */
    fd = zsock_socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct zsock_timeval tv = {.tv_sec = 2, .tv_usec = 500000};
    assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
    dst = sin_of(0x0a4d0003, 7);
    (void)wire_count_arp_requests(&w, 0);
    expect_errno(zsock_connect(fd, (struct sockaddr *)&dst, sizeof(dst)), EINPROGRESS);
    assert_true(wire_count_arp_requests(&w, 0x0a4d0003) >= 2);
    zsock_close(fd);
    wire_close(&w);
    assert_int_equal(thread_count(), 1);
}

/* A blocking receive, and a poll with a timeout, read the wire themselves:
 * the datagram sits in the pipe until the stack runs, and nothing but the
 * blocked call runs it. */
static void test_blocking_calls_read_the_wire(void **state)
{
    (void)state;
    struct wire w;
    wire_open(&w, "rx");
    int u = zsock_socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(u >= 0);
    struct sockaddr_in a = sin_of(WIRE_ADDR, 5555);
    assert_int_equal(zsock_bind(u, (struct sockaddr *)&a, sizeof(a)), 0);
    struct zsock_timeval tv = {.tv_sec = 20, .tv_usec = 0}; /* safety only */
    assert_int_equal(zsock_setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);

    wire_send_udp(&w, 5555, "first");
    char buf[32] = {0};
    /* Not read yet: only the stack can move it from the pipe. */
    expect_errno(zsock_recv(u, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT), EAGAIN);
    assert_int_equal(zsock_recv(u, buf, sizeof(buf), 0), 5);
    assert_string_equal(buf, "first");

    wire_send_udp(&w, 5555, "second");
    struct zsock_pollfd pfd = {.fd = u, .events = ZSOCK_POLLIN};
    assert_int_equal(zsock_poll(&pfd, 1, 20000), 1);
    assert_true(pfd.revents & ZSOCK_POLLIN);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(zsock_recv(u, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT), 6);
    assert_string_equal(buf, "second");

    /* zsock_net_process() reads it too, for a non-blocking program. */
    wire_send_udp(&w, 5555, "third");
    int64_t limit = mono_us() + LOOP_LIMIT_US;
    ssize_t r;
    memset(buf, 0, sizeof(buf));
    while ((r = zsock_recv(u, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT)) < 0 && mono_us() < limit) {
        assert_int_equal(errno, EAGAIN);
        assert_true(zsock_net_process(100) >= 0);
    }
    assert_int_equal(r, 5);
    assert_string_equal(buf, "third");
    zsock_close(u);
    wire_close(&w);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--core-thread-check") == 0) {
        return core_thread_check();
    }
    const char *env = getenv("ZSOCK_CORE_THREAD");
    if (env != NULL && strcmp(env, "0") == 0) {
        /* test_single_loop_env: the environment alone asks for the mode. */
        if (zsock_net_init() != 0 || zsock_net_process(0) < 0) {
            fprintf(stderr, "ZSOCK_CORE_THREAD=0 did not give single-loop mode\n");
            return 1;
        }
    } else if (zsock_net_init_polled() != 0) {
        fprintf(stderr, "zsock_net_init_polled failed\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_core_thread, fd_leak_setup, fd_leak_teardown),
        cmocka_unit_test(test_core_thread_mode_refuses),
        cmocka_unit_test_setup_teardown(test_tcp_echo_one_loop, fd_leak_setup, fd_leak_teardown),
        cmocka_unit_test_setup_teardown(test_udp_exchange, fd_leak_setup, fd_leak_teardown),
        cmocka_unit_test_setup_teardown(test_blocking_timeouts, fd_leak_setup, fd_leak_teardown),
        cmocka_unit_test_setup_teardown(test_blocking_loopback_same_thread, fd_leak_setup,
                                        fd_leak_teardown),
        cmocka_unit_test_setup_teardown(test_timers_run_from_the_loop, fd_leak_setup,
                                        fd_leak_teardown),
        cmocka_unit_test_setup_teardown(test_blocking_calls_read_the_wire, fd_leak_setup,
                                        fd_leak_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
