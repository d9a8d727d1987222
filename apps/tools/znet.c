/* znet: a network shell on a zsock stack, in the spirit of Zephyr's `net`
 * shell. It runs the stack in the foreground (the in-process loopback, and
 * with --tap/--pipe a link) and takes commands interactively (GNU readline:
 * line editing and history), from stdin, or from -c "cmd; cmd".
 *
 *   znet [--tap IF --ip A/N ...] [-c "iface; ping 192.0.2.1"] [--keep-going]
 *
 * `help` lists the commands. Every command prints plain lines; the exit
 * status is 0 when every command succeeded, 1 otherwise (-c and stdin). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include <zsock/net_if.h>
#include <zsock/net_info.h>
#include <zsock/socket.h>
#ifdef CONFIG_DNS_RESOLVER
#include <zsock/dns.h>
#endif

#include "tool_net.h"

#define MAX_ARGS  16
#define MAX_OWNED 64

/* Sockets the `tcp` and `udp` commands opened (closed by `close`). */
static int owned[MAX_OWNED];
static int n_owned;

/* ---- helpers ------------------------------------------------------------------------------ */

static int err(const char *what, int rc)
{
    printf("error: %s: %s\n", what, strerror(rc < 0 ? -rc : rc));
    return -1;
}

static int usage_err(const char *u)
{
    printf("usage: %s\n", u);
    return -1;
}

/* An interface by name or index. */
static int ifindex_of(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end == '\0' && v > 0) {
        return (int)v;
    }
    return zsock_if_nametoindex(s);
}

/* The interface a command names (IF: a name or an index); -1 after printing
 * why when there is none. */
static int if_arg(const char *s)
{
    int idx = ifindex_of(s);
    return idx < 0 ? err(s, idx) : idx;
}

static const char *mac_str(const uint8_t m[6], char *buf)
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

static const char *ip4(struct in_addr a, char *buf)
{
    return zsock_inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static const char *ip6(const struct in6_addr *a, char *buf)
{
    return zsock_inet_ntop(AF_INET6, a, buf, INET6_ADDRSTRLEN);
}

static const char *if_name(int index, char *buf)
{
    struct zsock_if_info ifs[16];
    int n = zsock_if_list(ifs, 16);
    for (int i = 0; i < n && i < 16; i++) {
        if (ifs[i].index == index) {
            return strcpy(buf, ifs[i].name);
        }
    }
    snprintf(buf, IFNAMSIZ, "if%d", index);
    return buf;
}

/* ---- iface, addr, route ------------------------------------------------------------------- */

static void print_iface(const struct zsock_if_info *f)
{
    char mac[18], a[INET6_ADDRSTRLEN];
    printf("%d: %s <%s%s%s%s> kind %s mtu %u mac %s\n", f->index, f->name,
           f->flags & ZSOCK_IF_UP ? "UP" : "DOWN", f->flags & ZSOCK_IF_LOOPBACK ? ",LOOPBACK" : "",
           f->flags & ZSOCK_IF_ETHERNET ? ",ETHERNET" : "",
           f->flags & ZSOCK_IF_BROADCAST ? ",BROADCAST" : "", f->kind, (unsigned)f->mtu,
           mac_str(f->mac, mac));
    for (int i = 0; i < f->n_ipv4 && i < 4; i++) {
        printf("    inet %s/%d\n", ip4(f->ipv4[i], a), f->prefix_len[i]);
    }
    static const char *const states[] = {"?", "tentative", "preferred", "deprecated", "duplicate"};
    static const char *const origins[] = {"?", "link-local", "slaac", "manual"};
    for (int i = 0; i < f->n_ipv6 && i < ZSOCK_IPV6_MAX_ADDRS; i++) {
        int st = f->ipv6_state[i], or = f->ipv6_origin[i];
        printf("    inet6 %s/%d %s %s\n", ip6(&f->ipv6[i], a), f->ipv6_prefix_len[i],
               st >= 1 && st <= 4 ? states[st] : "?", or >= 1 && or <= 3 ? origins[or] : "?");
    }
    if (f->gateway.s_addr != 0) {
        printf("    gateway %s\n", ip4(f->gateway, a));
    }
}

static int cmd_iface(int argc, char **argv)
{
    const char *u = "iface [list | up IF | down IF | mtu IF N | mac IF MAC | add tap NAME | "
                    "add pipe LOCAL PEER | del IF]";
    if (argc == 1 || strcmp(argv[1], "list") == 0) {
        struct zsock_if_info ifs[16];
        int n = zsock_if_list(ifs, 16);
        if (n < 0) {
            return err("iface", n);
        }
        for (int i = 0; i < n && i < 16; i++) {
            print_iface(&ifs[i]);
        }
        return 0;
    }
    if (strcmp(argv[1], "add") == 0 && argc == 4 && strcmp(argv[2], "tap") == 0) {
        int rc = zsock_if_add_tap(argv[3]);
        if (rc < 0) {
            return err("add tap", rc);
        }
        printf("added %s as interface %d (down, no address)\n", argv[3], rc);
        return 0;
    }
    if (strcmp(argv[1], "add") == 0 && argc == 5 && strcmp(argv[2], "pipe") == 0) {
        int rc = zsock_if_add_pipe(argv[3], argv[4]);
        if (rc < 0) {
            return err("add pipe", rc);
        }
        printf("added pipe as interface %d (down, no address)\n", rc);
        return 0;
    }
    if (argc < 3) {
        return usage_err(u);
    }
    int idx = if_arg(argv[2]);
    if (idx < 0) {
        return -1;
    }
    int rc;
    if (strcmp(argv[1], "up") == 0 && argc == 3) {
        rc = zsock_if_up(idx);
    } else if (strcmp(argv[1], "down") == 0 && argc == 3) {
        rc = zsock_if_down(idx);
    } else if (strcmp(argv[1], "del") == 0 && argc == 3) {
        rc = zsock_if_remove(idx);
    } else if (strcmp(argv[1], "mtu") == 0 && argc == 4) {
        rc = zsock_if_set_mtu(idx, atoi(argv[3]));
    } else if (strcmp(argv[1], "mac") == 0 && argc == 4) {
        unsigned m[6];
        uint8_t mac[6];
        if (sscanf(argv[3], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
            return usage_err(u);
        }
        for (int i = 0; i < 6; i++) {
            mac[i] = (uint8_t)m[i];
        }
        rc = zsock_if_set_mac(idx, mac);
    } else {
        return usage_err(u);
    }
    return rc < 0 ? err(argv[1], rc) : 0;
}

static int cmd_addr(int argc, char **argv)
{
    const char *u = "addr add|del IF ADDR[/LEN]   (IPv4 or IPv6)";
    if (argc != 4) {
        return usage_err(u);
    }
    int idx = if_arg(argv[2]);
    if (idx < 0) {
        return -1;
    }
    bool add = strcmp(argv[1], "add") == 0;
    if (!add && strcmp(argv[1], "del") != 0) {
        return usage_err(u);
    }
    int rc;
    if (strchr(argv[3], ':') != NULL) {
        struct in6_addr a;
        int len;
        if (zsock_parse_ipv6_prefix(argv[3], &a, &len) < 0) {
            return usage_err(u);
        }
        rc = add ? zsock_if_add_ipv6(idx, &a, len) : zsock_if_del_ipv6(idx, &a);
    } else {
        struct in_addr a;
        int len;
        if (zsock_parse_ipv4_prefix(argv[3], &a, &len) < 0) {
            return usage_err(u);
        }
        rc = add ? zsock_if_add_ipv4(idx, &a, len) : zsock_if_del_ipv4(idx, &a);
    }
    return rc < 0 ? err(argv[1], rc) : 0;
}

static int cmd_route(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "gw") == 0) {
        int idx = if_arg(argv[2]);
        struct in_addr gw;
        if (idx < 0) {
            return -1;
        }
        if (zsock_inet_pton(AF_INET, argv[3], &gw) != 1) {
            return usage_err("route gw IF ADDR   (0.0.0.0 clears it)");
        }
        int rc = zsock_if_set_gateway(idx, &gw);
        return rc < 0 ? err("route gw", rc) : 0;
    }
    if (argc != 1 && !(argc == 2 && strcmp(argv[1], "list") == 0)) {
        return usage_err("route [list | gw IF ADDR]");
    }
    struct zsock_route_info r[32];
    int n = zsock_route_list(r, 32);
    if (n < 0) {
        return err("route", n);
    }
    for (int i = 0; i < n && i < 32; i++) {
        char d[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], name[IFNAMSIZ];
        if_name(r[i].ifindex, name);
        if (r[i].family == AF_INET && r[i].prefix_len == 0 && r[i].gateway4.s_addr != 0) {
            printf("default via %s dev %s\n", ip4(r[i].gateway4, g), name);
        } else if (r[i].family == AF_INET) {
            printf("%s/%d dev %s\n", ip4(r[i].dst4, d), r[i].prefix_len, name);
        } else if (r[i].prefix_len == 0) {
            printf("default via %s dev %s\n", ip6(&r[i].gateway6, g), name);
        } else {
            printf("%s/%d dev %s\n", ip6(&r[i].dst6, d), r[i].prefix_len, name);
        }
    }
    return 0;
}

/* ---- neighbors, connections, statistics --------------------------------------------------- */

static int cmd_neigh(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        return usage_err("neigh   (also: arp)");
    }
    static const char *const states[] = {"?", "INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE"};
    struct zsock_neigh_info nb[64];
    int n = zsock_neigh_list(nb, 64);
    if (n < 0) {
        return err("neigh", n);
    }
    for (int i = 0; i < n && i < 64; i++) {
        char a[INET6_ADDRSTRLEN], mac[18], name[IFNAMSIZ];
        printf("%s dev %s lladdr %s %s%s%s\n",
               nb[i].family == AF_INET ? ip4(nb[i].addr4, a) : ip6(&nb[i].addr6, a),
               if_name(nb[i].ifindex, name), mac_str(nb[i].mac, mac),
               nb[i].state >= 1 && nb[i].state <= 5 ? states[nb[i].state] : "?",
               nb[i].router ? " router" : "", nb[i].pending > 0 ? " (packets waiting)" : "");
    }
    if (n == 0) {
        printf("(no neighbors)\n");
    }
    return 0;
}

static int cmd_conn(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        return usage_err("conn");
    }
    struct zsock_conn_info c[256];
    int n = zsock_conn_list(c, 256);
    if (n < 0) {
        return err("conn", n);
    }
    printf("%-5s %-21s %-21s %-12s %8s %8s\n", "proto", "local", "remote", "state", "send-q",
           "recv-q");
    for (int i = 0; i < n && i < 256; i++) {
        char l[INET6_ADDRSTRLEN + 8], r[INET6_ADDRSTRLEN + 8], a[INET6_ADDRSTRLEN];
        bool v6 = c[i].family == AF_INET6;
        snprintf(l, sizeof(l), v6 ? "[%s]:%u" : "%s:%u",
                 v6 ? ip6(&c[i].laddr6, a) : ip4(c[i].laddr, a), c[i].lport);
        if (c[i].rport != 0) {
            snprintf(r, sizeof(r), v6 ? "[%s]:%u" : "%s:%u",
                     v6 ? ip6(&c[i].raddr6, a) : ip4(c[i].raddr, a), c[i].rport);
        } else {
            strcpy(r, "*:*");
        }
        printf("%-5s %-21s %-21s %-12s %8u %8u\n", c[i].protocol == IPPROTO_TCP ? "tcp" : "udp", l,
               r, c[i].state_name[0] != '\0' ? c[i].state_name : "-", c[i].send_queue,
               c[i].recv_queue);
    }
    if (n > 256) {
        printf("(%d more)\n", n - 256);
    }
    return 0;
}

static int cmd_stats(int argc, char **argv)
{
    if (argc == 2) {
        int idx = ifindex_of(argv[1]);
        struct zsock_if_stats st;
        int rc = idx < 0 ? idx : zsock_if_stats(idx, &st);
        if (rc < 0) {
            return err(argv[1], rc);
        }
        printf("%s: rx %llu packets %llu bytes %llu dropped, tx %llu packets %llu bytes %llu "
               "dropped\n",
               argv[1], (unsigned long long)st.rx_packets, (unsigned long long)st.rx_bytes,
               (unsigned long long)st.rx_dropped, (unsigned long long)st.tx_packets,
               (unsigned long long)st.tx_bytes, (unsigned long long)st.tx_dropped);
        return 0;
    }
    if (argc != 1) {
        return usage_err("stats [IF]");
    }
    struct zsock_net_stats s;
    int rc = zsock_net_stats(&s);
    if (rc < 0) {
        return err("stats", rc);
    }
#define U(x) ((unsigned long long)(x))
    printf("ipv4: rx %llu tx %llu malformed %llu not-ours %llu no-proto %llu frag-rx %llu "
           "frag-tx %llu reasm-ok %llu reasm-drop %llu no-route %llu no-buffer %llu\n",
           U(s.ipv4.rx), U(s.ipv4.tx), U(s.ipv4.drop_malformed), U(s.ipv4.drop_not_ours),
           U(s.ipv4.drop_proto), U(s.ipv4.frag_rx), U(s.ipv4.frag_tx), U(s.ipv4.reasm_ok),
           U(s.ipv4.reasm_drop), U(s.ipv4.no_route), U(s.ipv4.no_buffer));
    printf("arp: rx %llu tx %llu requests-rx %llu replies-rx %llu malformed %llu unresolved %llu "
           "queue-full %llu\n",
           U(s.arp.rx), U(s.arp.tx), U(s.arp.requests_rx), U(s.arp.replies_rx),
           U(s.arp.drop_malformed), U(s.arp.unresolved), U(s.arp.queue_full));
    printf("icmp: rx %llu tx %llu echo-rx %llu unreach-tx %llu errors-rx %llu malformed %llu\n",
           U(s.icmp.rx), U(s.icmp.tx), U(s.icmp.echo_rx), U(s.icmp.unreach_tx), U(s.icmp.errors_rx),
           U(s.icmp.drop_malformed));
    printf("udp: rx %llu tx %llu malformed %llu no-port %llu rcvbuf-full %llu\n", U(s.udp.rx),
           U(s.udp.tx), U(s.udp.drop_malformed), U(s.udp.drop_no_port), U(s.udp.drop_rcvbuf));
    printf("tcp: rx %llu tx %llu malformed %llu no-conn %llu rst-tx %llu listen-drops %llu "
           "retransmits %llu timeouts %llu recoveries %llu\n",
           U(s.tcp.rx), U(s.tcp.tx), U(s.tcp.drop_malformed), U(s.tcp.drop_no_conn),
           U(s.tcp.rst_tx), U(s.tcp.listen_drops), U(s.tcp.retransmits), U(s.tcp.timeouts),
           U(s.tcp.recoveries));
    printf("ipv6: rx %llu tx %llu malformed %llu not-ours %llu no-route %llu; icmp6: rx %llu tx "
           "%llu echo-rx %llu ns %llu/%llu na %llu/%llu (rx/tx) dad-ok %llu dad-fail %llu\n",
           U(s.ipv6.rx), U(s.ipv6.tx), U(s.ipv6.drop_malformed), U(s.ipv6.drop_not_ours),
           U(s.ipv6.no_route), U(s.icmp6.rx), U(s.icmp6.tx), U(s.icmp6.echo_rx), U(s.icmp6.ns_rx),
           U(s.icmp6.ns_tx), U(s.icmp6.na_rx), U(s.icmp6.na_tx), U(s.icmp6.dad_ok),
           U(s.icmp6.dad_fail));
    printf("dhcp: rx %llu tx %llu offers %llu acks %llu naks %llu\n", U(s.dhcp.rx), U(s.dhcp.tx),
           U(s.dhcp.offers), U(s.dhcp.acks), U(s.dhcp.naks));
#undef U
    return 0;
}

/* ---- ping, dns, capture ------------------------------------------------------------------- */

static int resolve4(const char *host, struct sockaddr_in *out)
{
    struct zsock_addrinfo hints = {.ai_family = AF_INET}, *res;
    int rc = zsock_getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        printf("error: %s: %s\n", host, zsock_gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, sizeof(*out));
    zsock_freeaddrinfo(res);
    return 0;
}

static int cmd_ping(int argc, char **argv)
{
    const char *u = "ping [-c COUNT] [-s SIZE] [-W MS] [-i MS] HOST";
    int count = 3, size = 56, wait_ms = 1000, interval_ms = 200;
    optind = 1;
    int c;
    while ((c = getopt(argc, argv, "c:s:W:i:")) != -1) {
        switch (c) {
        case 'c':
            count = atoi(optarg);
            break;
        case 's':
            size = atoi(optarg);
            break;
        case 'W':
            wait_ms = atoi(optarg);
            break;
        case 'i':
            interval_ms = atoi(optarg);
            break;
        default:
            return usage_err(u);
        }
    }
    if (optind + 1 != argc || count < 1) {
        return usage_err(u);
    }
    struct sockaddr_in dst;
    if (resolve4(argv[optind], &dst) < 0) {
        return -1;
    }
    char a[INET_ADDRSTRLEN];
    printf("PING %s (%s): %d data bytes\n", argv[optind], ip4(dst.sin_addr, a), size);
    int received = 0;
    uint16_t id = (uint16_t)getpid();
    double sum = 0;
    for (int seq = 1; seq <= count; seq++) {
        uint32_t rtt;
        int rc = zsock_ping((struct sockaddr *)&dst, sizeof(dst), id, (uint16_t)seq, size, wait_ms,
                            &rtt);
        if (rc == 0) {
            received++;
            sum += rtt / 1000.0;
            printf("%d bytes from %s: icmp_seq=%d time=%.3f ms\n", size + 8, a, seq, rtt / 1000.0);
        } else {
            printf("icmp_seq=%d: %s\n", seq, strerror(-rc));
        }
        if (seq < count) {
            usleep((useconds_t)interval_ms * 1000);
        }
    }
    printf("%d packets transmitted, %d received, %d%% packet loss", count, received,
           (count - received) * 100 / count);
    if (received > 0) {
        printf(", avg %.3f ms", sum / received);
    }
    printf("\n");
    return received > 0 ? 0 : -1;
}

static int cmd_dns(int argc, char **argv)
{
#ifdef CONFIG_DNS_RESOLVER
    if (argc == 3 && strcmp(argv[1], "servers") == 0) {
        int rc = zsock_dns_set_servers(argv[2]);
        return rc < 0 ? err("dns servers", rc) : 0;
    }
    if (argc == 2 && strcmp(argv[1], "servers") == 0) {
        char list[8][ZSOCK_DNS_SERVER_TEXT];
        int n = zsock_dns_get_servers(list, 8);
        for (int i = 0; i < n && i < 8; i++) {
            printf("server %s\n", list[i]);
        }
        if (n <= 0) {
            printf("(no DNS servers)\n");
        }
        return 0;
    }
#endif
    if (argc != 2) {
        return usage_err("dns NAME | dns servers [LIST]");
    }
    struct zsock_addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int rc = zsock_getaddrinfo(argv[1], NULL, &hints, &res);
    if (rc != 0) {
        printf("error: %s: %s\n", argv[1], zsock_gai_strerror(rc));
        return -1;
    }
    for (struct zsock_addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char a[INET6_ADDRSTRLEN];
        if (ai->ai_family == AF_INET) {
            ip4(((struct sockaddr_in *)ai->ai_addr)->sin_addr, a);
        } else {
            ip6(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, a);
        }
        printf("%s %s %s\n", argv[1], ai->ai_family == AF_INET ? "A" : "AAAA", a);
    }
    zsock_freeaddrinfo(res);
    return 0;
}

static int cmd_capture(int argc, char **argv)
{
    const char *u = "capture on IF FILE | capture off IF";
    if (argc < 3) {
        return usage_err(u);
    }
    int idx = if_arg(argv[2]);
    if (idx < 0) {
        return -1;
    }
    int rc;
    if (strcmp(argv[1], "on") == 0 && argc == 4) {
        rc = zsock_if_capture(idx, argv[3]);
    } else if (strcmp(argv[1], "off") == 0 && argc == 3) {
        rc = zsock_if_capture(idx, NULL);
    } else {
        return usage_err(u);
    }
    if (rc < 0) {
        return err("capture", rc);
    }
    printf("capture %s on %s\n", argv[1][1] == 'n' ? "started" : "stopped", argv[2]);
    return 0;
}

/* ---- test sockets: tcp, udp, close -------------------------------------------------------- */

static int own(int fd)
{
    if (n_owned == MAX_OWNED) {
        zsock_close(fd);
        printf("error: too many sockets (close some)\n");
        return -1;
    }
    owned[n_owned++] = fd;
    printf("socket %d\n", fd);
    return 0;
}

static int cmd_sock(int argc, char **argv)
{
    const char *u = "tcp listen PORT | tcp connect ADDR PORT | tcp accept | udp bind PORT";
    bool tcp = strcmp(argv[0], "tcp") == 0;
    if (tcp && argc == 2 && strcmp(argv[1], "accept") == 0) {
        /* Accept one waiting connection on the last listener opened. */
        for (int i = n_owned - 1; i >= 0; i--) {
            int fd = zsock_accept(owned[i], NULL, NULL);
            if (fd >= 0) {
                return own(fd);
            }
        }
        printf("error: no connection waiting\n");
        return -1;
    }
    struct sockaddr_in sin = {.sin_family = AF_INET};
    int fd = -1;
    if (argc == 3 && (strcmp(argv[1], "listen") == 0 || strcmp(argv[1], "bind") == 0)) {
        sin.sin_port = htons((uint16_t)atoi(argv[2]));
        fd = zsock_socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
        int one = 1;
        zsock_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (zsock_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
            (tcp && zsock_listen(fd, 8) < 0)) {
            int e = errno;
            zsock_close(fd);
            return err(argv[1], e);
        }
        if (tcp) {
            zsock_fcntl(fd, F_SETFL, O_NONBLOCK); /* so that `tcp accept` never blocks */
        }
        return own(fd);
    }
    if (tcp && argc == 4 && strcmp(argv[1], "connect") == 0) {
        if (resolve4(argv[2], &sin) < 0) {
            return -1;
        }
        sin.sin_port = htons((uint16_t)atoi(argv[3]));
        fd = zsock_socket(AF_INET, SOCK_STREAM, 0);
        struct timeval tv = {.tv_sec = 5};
        zsock_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (zsock_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
            int e = errno;
            zsock_close(fd);
            return err("connect", e);
        }
        return own(fd);
    }
    return usage_err(u);
}

static int cmd_close(int argc, char **argv)
{
    if (argc == 2) {
        int fd = atoi(argv[1]);
        for (int i = 0; i < n_owned; i++) {
            if (owned[i] == fd) {
                zsock_close(fd);
                owned[i] = owned[--n_owned];
                return 0;
            }
        }
        printf("error: socket %d is not one of znet's\n", fd);
        return -1;
    }
    while (n_owned > 0) {
        zsock_close(owned[--n_owned]);
    }
    return 0;
}

static int cmd_sleep(int argc, char **argv)
{
    if (argc != 2) {
        return usage_err("sleep MS");
    }
    usleep((useconds_t)atoi(argv[1]) * 1000);
    return 0;
}

/* ---- the shell ---------------------------------------------------------------------------- */

static int cmd_help(int argc, char **argv);

static const struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"iface", cmd_iface,
     "iface [list|up IF|down IF|mtu IF N|mac IF MAC|add tap NAME|add pipe L P|del IF]"},
    {"addr", cmd_addr, "addr add|del IF ADDR[/LEN]: IPv4 or IPv6 address"},
    {"route", cmd_route, "route [list | gw IF ADDR]: routes; the default gateway of IF"},
    {"neigh", cmd_neigh, "neigh: the ARP and IPv6 neighbor caches"},
    {"arp", cmd_neigh, "arp: the same as neigh"},
    {"conn", cmd_conn, "conn: TCP connections (with their states) and UDP sockets"},
    {"stats", cmd_stats, "stats [IF]: protocol counters, or one interface's"},
    {"ping", cmd_ping, "ping [-c N] [-s SIZE] [-W MS] [-i MS] HOST: ICMP echo (IPv4)"},
    {"dns", cmd_dns, "dns NAME | dns servers [LIST]: look a name up; the resolver's servers"},
    {"capture", cmd_capture, "capture on IF FILE | capture off IF: pcap capture"},
    {"tcp", cmd_sock, "tcp listen PORT | tcp connect HOST PORT | tcp accept: test sockets"},
    {"udp", cmd_sock, "udp bind PORT: a test socket"},
    {"close", cmd_close, "close [FD]: close test sockets (all without FD)"},
    {"sleep", cmd_sleep, "sleep MS: wait (in scripts)"},
    {"help", cmd_help, "help: this list"},
};

static int cmd_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        printf("  %s\n", commands[i].help);
    }
    printf("  quit: leave (also end of input)\n");
    return 0;
}

/* Run one command line. 0, -1 for a failed command, 1 for quit. */
static int run_line(char *line)
{
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (char *tok = strtok(line, " \t\r\n"); tok != NULL && argc < MAX_ARGS;
         tok = strtok(NULL, " \t\r\n")) {
        argv[argc++] = tok;
    }
    argv[argc] = NULL;
    if (argc == 0 || argv[0][0] == '#') {
        return 0;
    }
    if (strcmp(argv[0], "quit") == 0 || strcmp(argv[0], "exit") == 0) {
        return 1;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[0], commands[i].name) == 0) {
            int rc = commands[i].fn(argc, argv);
            fflush(stdout);
            return rc;
        }
    }
    printf("error: unknown command '%s' (try help)\n", argv[0]);
    return -1;
}

/* Readline completion of command names (the first word). */
static char *complete_command(const char *text, int state)
{
    static size_t i, len;
    if (state == 0) {
        i = 0;
        len = strlen(text);
    }
    while (i < sizeof(commands) / sizeof(commands[0])) {
        const char *name = commands[i++].name;
        if (strncmp(name, text, len) == 0) {
            return strdup(name);
        }
    }
    return NULL;
}

static char **completion(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1; /* no file names */
    return start == 0 ? rl_completion_matches(text, complete_command) : NULL;
}

static void interactive(void)
{
    char hist[1024] = "";
    const char *home = getenv("HOME");
    if (home != NULL) {
        snprintf(hist, sizeof(hist), "%s/.znet_history", home);
        read_history(hist);
    }
    rl_attempted_completion_function = completion;
    printf("znet: zsock network shell; help lists the commands, quit or Ctrl-D leaves\n");
    char *line;
    while ((line = readline("znet> ")) != NULL) {
        if (line[0] != '\0') {
            add_history(line);
        }
        int rc = run_line(line);
        free(line);
        if (rc == 1) {
            break;
        }
    }
    if (hist[0] != '\0') {
        write_history(hist);
    }
}

/* One line of a script (-c or stdin); counts a failure. False when the
 * session ends: quit, or a failure without --keep-going. */
static bool run_counted(char *line, bool keep_going, int *failed)
{
    int rc = run_line(line);
    if (rc < 0) {
        (*failed)++;
        return keep_going;
    }
    return rc != 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: znet [network options] [-c \"CMD; CMD...\"] [--keep-going]\n"
                 "Commands come from -c, else from a terminal (readline) or stdin.\n");
    tool_net_usage(out);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        TOOL_NET_LONGOPTS,
        {"keep-going", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tool_net net = {0};
    const char *script = NULL;
    bool keep_going = false;
    int c;
    while ((c = getopt_long(argc, argv, "c:kh", longopts, NULL)) != -1) {
        if (c == 'c') {
            script = optarg;
        } else if (c == 'k') {
            keep_going = true;
        } else if (c == 'h') {
            usage(stdout);
            return 0;
        } else if (tool_net_option("znet", &net, c, optarg) != 1) {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || tool_net_check("znet", &net) < 0) {
        usage(stderr);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (tool_net_setup("znet", &net) < 0) {
        return 1;
    }

    int failed = 0;
    if (script != NULL) {
        /* -c: commands separated by ';', echoed so a log reads as a session. */
        char *copy = strdup(script), *save = NULL;
        for (char *cmd = strtok_r(copy, ";", &save); cmd != NULL;
             cmd = strtok_r(NULL, ";", &save)) {
            while (isspace((unsigned char)*cmd)) {
                cmd++;
            }
            if (*cmd == '\0') {
                continue;
            }
            printf("znet> %s\n", cmd);
            if (!run_counted(cmd, keep_going, &failed)) {
                break;
            }
        }
        free(copy);
    } else if (isatty(STDIN_FILENO)) {
        interactive();
    } else {
        char line[1024];
        while (fgets(line, sizeof(line), stdin) != NULL) {
            printf("znet> %s", line);
            if (strchr(line, '\n') == NULL) {
                printf("\n");
            }
            if (!run_counted(line, keep_going, &failed)) {
                break;
            }
        }
    }
    cmd_close(1, NULL);
    return failed == 0 ? 0 : 1;
}
