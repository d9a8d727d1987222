/* zsock firmware for QEMU's mps2-an386 (Cortex-M4): the stack on the
 * emulated LAN9118, run from one bare-metal loop (single-loop mode,
 * docs/embedded.md), serving
 *   - ICMP echo (the stack answers pings by itself),
 *   - a UDP echo server on port 7 (RFC 862),
 *   - a TCP echo server on port 7, up to MAX_CONNS connections at once,
 * on 192.0.2.2/24, and telling on UART0 what it does.
 *
 *   qemu-system-arm -M mps2-an386 -nographic -kernel zsock_qemu.elf \
 *       -nic tap,ifname=tap0,script=no,downscript=no,model=lan9118
 *
 * tests/interop/qemu_tap.sh runs it against Linux over a TAP device. */
#include "board.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <zsock/drivers/lan9118.h>
#include <zsock/net_if.h>
#include <zsock/socket.h>

#define ECHO_PORT 7
#define MAX_CONNS 4
#define CONN_BUF  2048 /* bytes read and not yet echoed, per connection */

struct conn {
    int fd;              /* -1: free slot */
    bool eof;            /* the peer closed its side: close once the rest is echoed */
    uint16_t off, len;   /* pending data: buf[off..len) */
    uint64_t bytes;      /* echoed */
    uint64_t started_ms; /* when it was accepted */
    struct sockaddr_in peer;
    uint8_t buf[CONN_BUF];
};

static struct conn conns[MAX_CONNS];
static uint8_t udp_buf[2048];
static uint64_t udp_count;

static const char *ip_text(const struct sockaddr_in *sa, char *out, size_t size)
{
    if (zsock_inet_ntop(AF_INET, &sa->sin_addr, out, (socklen_t)size) == NULL) {
        return "?";
    }
    return out;
}

/* The LAN9118 raised its receive line: mask it and let the loop run (it
 * wakes from WFI); the loop reads the frames and re-arms the line. */
void board_lan_irq(void)
{
    zsock_lan9118_rx_irq(ZSOCK_LAN9118_MPS2_BASE, false);
}

static int open_server(int type)
{
    int fd = zsock_socket(AF_INET, type | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        board_log("socket: errno %d", errno);
        return -1;
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(ECHO_PORT);
    if (zsock_bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (type == SOCK_STREAM && zsock_listen(fd, MAX_CONNS) < 0)) {
        board_log("bind/listen: errno %d", errno);
        zsock_close(fd);
        return -1;
    }
    return fd;
}

/* Echo every datagram waiting on the UDP socket. Returns whether any was. */
static bool serve_udp(int fd)
{
    bool worked = false;
    for (;;) {
        struct sockaddr_in from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = zsock_recvfrom(fd, udp_buf, sizeof(udp_buf), ZSOCK_MSG_DONTWAIT,
                                   (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            return worked;
        }
        worked = true;
        udp_count++;
        if (zsock_sendto(fd, udp_buf, (size_t)n, ZSOCK_MSG_DONTWAIT, (struct sockaddr *)&from,
                         fromlen) != n) {
            board_log("udp: echo of %d bytes failed: errno %d", (int)n, errno);
        }
        char ip[16];
        if (udp_count <= 3 || udp_count % 25 == 0) {
            board_log("udp: datagram %llu, %d bytes from %s:%u echoed",
                      (unsigned long long)udp_count, (int)n, ip_text(&from, ip, sizeof(ip)),
                      (unsigned)ntohs(from.sin_port));
        }
    }
}

static void accept_conns(int lfd)
{
    for (;;) {
        struct conn *c = NULL;
        for (int i = 0; i < MAX_CONNS && c == NULL; i++) {
            if (conns[i].fd < 0) {
                c = &conns[i];
            }
        }
        if (c == NULL) {
            return; /* full: the rest wait in the backlog */
        }
        socklen_t len = sizeof(c->peer);
        int fd = zsock_accept(lfd, (struct sockaddr *)&c->peer, &len);
        if (fd < 0) {
            return;
        }
        c->fd = fd;
        c->eof = false;
        c->off = c->len = 0;
        c->bytes = 0;
        c->started_ms = board_ms();
        char ip[16];
        board_log("tcp: connection from %s:%u", ip_text(&c->peer, ip, sizeof(ip)),
                  (unsigned)ntohs(c->peer.sin_port));
    }
}

static int eth_index; /* the LAN9118 interface */

static void print_stats(void)
{
    struct zsock_if_stats is;
    struct zsock_net_stats ns;
    if (zsock_if_stats(eth_index, &is) == 0 && zsock_net_stats(&ns) == 0) {
        board_log("stats: eth rx %llu frames, tx %llu, rx dropped %llu, tx dropped %llu; "
                  "pings answered %llu; udp echoed %llu",
                  (unsigned long long)is.rx_packets, (unsigned long long)is.tx_packets,
                  (unsigned long long)is.rx_dropped, (unsigned long long)is.tx_dropped,
                  (unsigned long long)ns.icmp.echo_rx, (unsigned long long)udp_count);
    }
    /* The static arena (CONFIG_ZSOCK_STATIC_MEMORY): what sizing it needs. */
    struct zsock_mem_stats ms;
    if (zsock_mem_stats(&ms) == 0) {
        board_log("memory: arena %u bytes, in use %u, peak %u, failed allocations %llu",
                  (unsigned)ms.size, (unsigned)ms.in_use, (unsigned)ms.peak,
                  (unsigned long long)ms.failures);
    }
}

static void close_conn(struct conn *c, const char *why)
{
    uint64_t ms = board_ms() - c->started_ms;
    char ip[16];
    board_log("tcp: %s:%u %s after %llu bytes echoed in %llu ms (%llu KiB/s)",
              ip_text(&c->peer, ip, sizeof(ip)), (unsigned)ntohs(c->peer.sin_port), why,
              (unsigned long long)c->bytes, (unsigned long long)ms,
              (unsigned long long)(ms != 0 ? c->bytes * 1000 / 1024 / ms : 0));
    zsock_close(c->fd);
    c->fd = -1;
    print_stats();
}

/* Move data on one connection: send what is pending, read more when the
 * buffer is empty. Returns whether anything moved. */
static bool serve_conn(struct conn *c)
{
    bool worked = false;
    for (int round = 0; round < 8; round++) {
        if (c->off < c->len) {
            ssize_t n =
                zsock_send(c->fd, c->buf + c->off, (size_t)(c->len - c->off), ZSOCK_MSG_DONTWAIT);
            if (n < 0) {
                if (errno != EAGAIN) {
                    close_conn(c, "failed");
                    return true;
                }
                return worked; /* the send buffer is full: wait for ACKs */
            }
            c->off = (uint16_t)(c->off + n);
            c->bytes += (uint64_t)n;
            worked = true;
            continue;
        }
        if (c->eof) {
            close_conn(c, "closed");
            return true;
        }
        ssize_t n = zsock_recv(c->fd, c->buf, sizeof(c->buf), ZSOCK_MSG_DONTWAIT);
        if (n == 0) {
            c->eof = true;
            c->off = c->len = 0;
            worked = true;
            continue;
        }
        if (n < 0) {
            if (errno != EAGAIN) {
                close_conn(c, "reset");
                return true;
            }
            return worked;
        }
        c->off = 0;
        c->len = (uint16_t)n;
        worked = true;
    }
    return worked;
}

int main(void)
{
    board_init();
    board_log("zsock firmware on mps2-an386 (Cortex-M4), LAN9118 at 0x%x",
              (unsigned)ZSOCK_LAN9118_MPS2_BASE);
    for (int i = 0; i < MAX_CONNS; i++) {
        conns[i].fd = -1;
    }
    int rc = zsock_net_init();
    int ifindex = rc < 0 ? rc : zsock_if_add_lan9118(ZSOCK_LAN9118_MPS2_BASE, NULL);
    if (ifindex < 0) {
        board_log("no network: error %d", ifindex);
        return 1;
    }
    eth_index = ifindex;
    struct in_addr addr;
    int plen;
    zsock_parse_ipv4_prefix("192.0.2.2/24", &addr, &plen);
    if (zsock_if_add_ipv4(ifindex, &addr, plen) < 0 || zsock_if_up(ifindex) < 0) {
        board_log("cannot configure the interface");
        return 1;
    }
    struct zsock_if_info info[4];
    int nif = zsock_if_list(info, 4);
    for (int i = 0; i < nif && i < 4; i++) {
        if (info[i].index == ifindex) {
            const uint8_t *m = info[i].mac;
            board_log("%s: mac %02x:%02x:%02x:%02x:%02x:%02x, 192.0.2.2/24, link %s", info[i].name,
                      m[0], m[1], m[2], m[3], m[4], m[5],
                      zsock_lan9118_link_up(ifindex) == 1 ? "up" : "down");
        }
    }
    int ufd = open_server(SOCK_DGRAM);
    int lfd = open_server(SOCK_STREAM);
    if (ufd < 0 || lfd < 0) {
        return 1;
    }
    board_irq_enable(BOARD_LAN_IRQ);
    board_log("ready: ping, udp echo and tcp echo on port %d", ECHO_PORT);

    uint64_t last_stats = board_ms();
    uint64_t last_rx = 0;
    for (;;) {
        int ms = zsock_net_process(0); /* input from the MAC, timers */
        /* Which sockets can move: poll without waiting (a zero timeout
         * never runs the stack; the pass above did). */
        struct zsock_pollfd pfd[2 + MAX_CONNS];
        struct conn *owner[2 + MAX_CONNS];
        int n = 0;
        pfd[n] = (struct zsock_pollfd){.fd = ufd, .events = ZSOCK_POLLIN};
        owner[n++] = NULL;
        pfd[n] = (struct zsock_pollfd){.fd = lfd, .events = ZSOCK_POLLIN};
        owner[n++] = NULL;
        for (int i = 0; i < MAX_CONNS; i++) {
            struct conn *c = &conns[i];
            if (c->fd >= 0) {
                /* Pending data waits for room to send, else for more input. */
                short ev = c->off < c->len ? ZSOCK_POLLOUT : ZSOCK_POLLIN;
                pfd[n] = (struct zsock_pollfd){.fd = c->fd, .events = ev};
                owner[n++] = c;
            }
        }
        bool worked = false;
        if (zsock_poll(pfd, n, 0) > 0) {
            if (pfd[0].revents != 0) {
                worked |= serve_udp(ufd);
            }
            if (pfd[1].revents != 0) {
                accept_conns(lfd);
                worked = true;
            }
            for (int i = 2; i < n; i++) {
                if (pfd[i].revents != 0) {
                    worked |= serve_conn(owner[i]);
                }
            }
        }
        if (board_ms() - last_stats >= 5000) {
            struct zsock_if_stats is;
            if (zsock_if_stats(ifindex, &is) == 0 && is.rx_packets != last_rx) {
                last_rx = is.rx_packets;
                print_stats();
            }
            last_stats = board_ms();
        }
        if (worked || ms == 0) {
            continue;
        }
        /* Sleep until a frame arrives or the next 1 ms tick (the stack's
         * timers are milliseconds). The line is armed before the check: a
         * frame that came earlier is seen by the check, a later one raises
         * the interrupt. One arriving between the check and WFI is taken
         * just before WFI, which then sleeps until the next tick: at worst
         * 1 ms late, never lost. (Masking interrupts around the check, as
         * on hardware, relies on WFI waking for a masked interrupt.) */
        zsock_lan9118_rx_irq(ZSOCK_LAN9118_MPS2_BASE, true);
        if (!zsock_lan9118_rx_pending(ZSOCK_LAN9118_MPS2_BASE)) {
            board_wait_for_interrupt();
        }
    }
}
