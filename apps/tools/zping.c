/* zping: ping on zsock's raw IP sockets (SOCK_RAW, IPPROTO_ICMP or
 * IPPROTO_ICMPV6), public API only, for interoperability tests over TAP.
 *
 *   zping [options] HOST   echo requests to HOST (IPv4, or IPv6 with
 *                          %IFNAME for a link-local one), a line per reply
 *                          and ping's summary; exit 0 if a reply came
 *   zping [options] serve  stay on the network, printing each echo request
 *                          the raw sockets see; --echo-reply off stops the
 *                          stack's own replies, --answer (which implies it)
 *                          answers from the raw sockets instead
 */
#include "tool_util.h"
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SIZE 65000 /* payload bytes after the 8-byte ICMP header */
#define MAX_SEQ  65536

struct options {
    const char *host;
    long count;        /* ping: requests (4); serve: requests before leaving (0: no limit) */
    int interval_ms;   /* ping: between requests */
    int size;          /* ping: payload bytes after the ICMP header */
    int timeout_ms;    /* ping: wait for the last reply */
    double time_limit; /* serve: seconds on the network */
    const char *echo_reply;
    bool answer;
    const char *ip6;
    struct tool_net net;
};

static uint16_t icmp_csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    }
    if (n & 1) {
        s += (uint32_t)p[n - 1] << 8;
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

/* Write an ICMPv4 message's checksum; the stack computes ICMPv6's. */
static void put_csum(uint8_t *m, size_t len, bool v6)
{
    m[2] = m[3] = 0;
    if (!v6) {
        uint16_t c = icmp_csum(m, len);
        m[2] = (uint8_t)(c >> 8);
        m[3] = (uint8_t)c;
    }
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* An echo message: type, id, seq, then `size` pattern bytes. For ICMPv4
 * the checksum is ours to write; the stack computes ICMPv6's. */
static size_t build_echo(uint8_t *buf, bool v6, uint8_t type, uint16_t id, uint16_t seq,
                         size_t size)
{
    buf[0] = type;
    buf[1] = 0;
    buf[4] = (uint8_t)(id >> 8);
    buf[5] = (uint8_t)id;
    buf[6] = (uint8_t)(seq >> 8);
    buf[7] = (uint8_t)seq;
    for (size_t i = 0; i < size; i++) {
        buf[8 + i] = (uint8_t)(0x10 + i);
    }
    put_csum(buf, 8 + size, v6);
    return 8 + size;
}

/* The next ICMP message queued on raw socket fd, or NULL when nothing is
 * left: after the IPv4 header (whose TTL goes to *ttl; -1 for IPv6, whose
 * socket reads the message alone). Its sender in *from, its length in
 * *len. Datagrams too short for an echo header are skipped. */
static uint8_t *next_icmp(int fd, bool v6, uint8_t *buf, struct tool_addr *from, size_t *len,
                          int *ttl)
{
    for (;;) {
        from->len = sizeof(from->u);
        ssize_t n =
            zsock_recvfrom(fd, buf, MAX_SIZE + 128, ZSOCK_MSG_DONTWAIT, &from->u.sa, &from->len);
        if (n < 0) {
            return NULL;
        }
        size_t off = v6 ? 0 : (size_t)(buf[0] & 0xf) * 4;
        *ttl = v6 ? -1 : buf[8];
        if ((v6 || (n >= 20 && (buf[0] >> 4) == 4)) && (size_t)n >= off + 8) {
            *len = (size_t)n - off;
            return buf + off;
        }
    }
}

static bool same_host(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family) {
        return false;
    }
    if (a->sa_family == AF_INET) {
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    }
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                  &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* An address as ping prints it: no port, no brackets. */
static const char *host_str(const struct sockaddr *sa, char *buf, size_t len)
{
    tool_addr_str(sa, buf, len);
    *strrchr(buf, ':') = '\0';
    if (buf[0] == '[') {
        size_t n = strlen(buf);
        memmove(buf, buf + 1, n - 2);
        buf[n - 2] = '\0';
    }
    return buf;
}

/* ---- ping ----------------------------------------------------------------------------------- */

struct ping_stats {
    long sent, received;
    double min_ms, max_ms, sum_ms, sum2_ms;
};

/* Read what is queued on fd; print and count the replies to our id. */
static void take_replies(int fd, bool v6, const struct tool_addr *to, uint16_t id,
                         const double *sent_at, bool *seen, struct ping_stats *st, uint8_t *buf)
{
    struct tool_addr from;
    size_t len;
    int ttl;
    for (const uint8_t *m; (m = next_icmp(fd, v6, buf, &from, &len, &ttl)) != NULL;) {
        double now = tool_now_s();
        if (m[0] != (v6 ? 129 : 0) || be16(m + 4) != id || !same_host(&from.u.sa, &to->u.sa)) {
            continue;
        }
        uint16_t seq = be16(m + 6);
        if (seq >= st->sent || seen[seq]) {
            continue; /* not sent yet, or a duplicate */
        }
        seen[seq] = true;
        double ms = (now - sent_at[seq]) * 1000.0;
        st->received++;
        st->min_ms = st->received == 1 || ms < st->min_ms ? ms : st->min_ms;
        st->max_ms = ms > st->max_ms ? ms : st->max_ms;
        st->sum_ms += ms;
        st->sum2_ms += ms * ms;
        char addr[TOOL_ADDR_STRLEN];
        host_str(&from.u.sa, addr, sizeof(addr));
        if (ttl >= 0) {
            printf("%zu bytes from %s: icmp_seq=%u ttl=%d time=%.3f ms\n", len, addr, seq + 1, ttl,
                   ms);
        } else {
            printf("%zu bytes from %s: icmp_seq=%u time=%.3f ms\n", len, addr, seq + 1, ms);
        }
    }
}

static int run_ping(const struct options *o, uint8_t *buf)
{
    struct tool_addr to;
    if (!tool_addr_parse("zping", o->host, 0, false, &to)) {
        return 2;
    }
    bool v6 = to.u.sa.sa_family == AF_INET6;
    int fd = tool_socket_family("zping", to.u.sa.sa_family, SOCK_RAW,
                                v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    if (fd < 0) {
        return 2;
    }
    static double sent_at[MAX_SEQ];
    static bool seen[MAX_SEQ];
    uint16_t id = (uint16_t)getpid();
    struct ping_stats st = {0};
    char addr[TOOL_ADDR_STRLEN];
    host_str(&to.u.sa, addr, sizeof(addr));
    printf("PING %s %d data bytes\n", addr, o->size);
    double start = tool_now_s();
    for (long i = 0; i < o->count; i++) {
        size_t n = build_echo(buf, v6, v6 ? 128 : 8, id, (uint16_t)i, (size_t)o->size);
        sent_at[i] = tool_now_s();
        if (zsock_sendto(fd, buf, n, 0, &to.u.sa, to.len) < 0) {
            tool_perror("zping", "zsock_sendto");
        }
        st.sent++;
        /* Take replies until the next request is due (or, after the last,
         * until all came or the timeout passed). */
        bool last = i + 1 == o->count;
        double until = tool_now_s() + (last ? o->timeout_ms : o->interval_ms) / 1000.0;
        while (!(last && st.received == st.sent)) {
            int ms = tool_ms_left(until, 1000);
            if (ms <= 0) {
                break;
            }
            struct zsock_pollfd p = {.fd = fd, .events = ZSOCK_POLLIN};
            if (zsock_poll(&p, 1, ms) > 0) {
                take_replies(fd, v6, &to, id, sent_at, seen, &st, buf);
            }
        }
    }
    zsock_close(fd);
    double total_ms = (tool_now_s() - start) * 1000.0;
    printf("\n--- %s ping statistics ---\n", addr);
    printf("%ld packets transmitted, %ld received, %ld%% packet loss, time %.0fms\n", st.sent,
           st.received, st.sent > 0 ? (st.sent - st.received) * 100 / st.sent : 0, total_ms);
    if (st.received > 0) {
        double avg = st.sum_ms / (double)st.received;
        double var = st.sum2_ms / (double)st.received - avg * avg;
        printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", st.min_ms, avg, st.max_ms,
               sqrt(var > 0 ? var : 0));
    }
    return st.received > 0 ? 0 : 1;
}

/* ---- serve ---------------------------------------------------------------------------------- */

/* Handle what one raw socket has queued: print each echo request, and
 * answer it when asked. Returns the requests seen. */
static long serve_one(const struct options *o, int fd, bool v6, uint8_t *buf)
{
    long seen = 0;
    struct tool_addr from;
    size_t len;
    int ttl;
    for (uint8_t *m; (m = next_icmp(fd, v6, buf, &from, &len, &ttl)) != NULL;) {
        if (m[0] != (v6 ? 128 : 8)) {
            continue;
        }
        seen++;
        char addr[TOOL_ADDR_STRLEN];
        host_str(&from.u.sa, addr, sizeof(addr));
        printf("zping: request from %s id %u seq %u, %zu bytes%s\n", addr, be16(m + 4), be16(m + 6),
               len, o->answer ? ", answered" : "");
        if (o->answer) {
            m[0] = v6 ? 129 : 0;
            put_csum(m, len, v6);
            if (zsock_sendto(fd, m, len, 0, &from.u.sa, from.len) < 0) {
                tool_perror("zping", "zsock_sendto");
            }
        }
    }
    return seen;
}

static int run_serve(const struct options *o, uint8_t *buf)
{
    struct zsock_pollfd p[2];
    int n = 0;
    p[n++] = (struct zsock_pollfd){
        .fd = tool_socket_family("zping", AF_INET, SOCK_RAW, IPPROTO_ICMP), .events = POLLIN};
    if (CONFIG_NET_IPV6) {
        p[n++] = (struct zsock_pollfd){
            .fd = tool_socket_family("zping", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6),
            .events = POLLIN};
    }
    if (p[0].fd < 0 || p[n - 1].fd < 0) {
        return 2;
    }
    printf("zping: serving, stack echo replies %s%s\n", o->echo_reply,
           o->answer ? ", answering from raw sockets" : "");
    double until = tool_now_s() + o->time_limit;
    long seen = 0;
    while (o->count == 0 || seen < o->count) {
        int ms = tool_ms_left(until, 1000);
        if (ms <= 0) {
            break;
        }
        if (zsock_poll(p, n, ms) <= 0) {
            continue;
        }
        for (int i = 0; i < n; i++) {
            seen += serve_one(o, p[i].fd, i == 1, buf);
        }
    }
    printf("zping: %ld requests seen\n", seen);
    for (int i = 0; i < n; i++) {
        zsock_close(p[i].fd);
    }
    return 0;
}

/* ---- command line --------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: zping [options] HOST\n"
               "       zping [options] serve\n"
               "  --count N          ping: requests (default 4); serve: leave after N (0: never)\n"
               "  --interval MS      ping: between requests (default 1000)\n"
               "  --size S           ping: data bytes after the ICMP header (default 56)\n"
               "  --timeout MS       ping: wait for the last reply (default 1000)\n"
               "  --time-limit SEC   serve: stay this long (default 10)\n"
               "  --echo-reply on|off the stack's own echo replies, IPv4 and IPv6\n"
               "                     (SO_IP_ECHO_REPLY, SO_IPV6_ECHO_REPLY; default on)\n"
               "  --answer           serve: answer from the raw sockets (implies --echo-reply "
               "off)\n"
               "  --ip6 ADDR[/LEN]   add this IPv6 address to the interface (default /64)\n");
    tool_net_usage(f);
}

/* SO_IP_ECHO_REPLY and SO_IPV6_ECHO_REPLY set through a socket of the
 * stack (any inet socket reaches the stack-wide switches). */
static int set_echo_reply(int on)
{
    int fd = tool_socket_family("zping", AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        return -1;
    }
    int rc = zsock_setsockopt(fd, IPPROTO_IP, SO_IP_ECHO_REPLY, &on, sizeof(on));
    if (rc == 0 && CONFIG_NET_IPV6) {
        rc = zsock_setsockopt(fd, IPPROTO_IPV6, SO_IPV6_ECHO_REPLY, &on, sizeof(on));
    }
    if (rc < 0) {
        tool_perror("zping", "SO_IP_ECHO_REPLY");
    }
    zsock_close(fd);
    return rc;
}

int main(int argc, char **argv)
{
    struct options o = {
        .count = -1,
        .interval_ms = 1000,
        .size = 56,
        .timeout_ms = 1000,
        .time_limit = 10,
        .echo_reply = "on",
    };
    const struct tool_opt opts[] = {
        {"count", TOOL_OPT_LONG, &o.count, 0, MAX_SEQ - 1, NULL},
        {"interval", TOOL_OPT_INT, &o.interval_ms, 0, 3600000, NULL},
        {"size", TOOL_OPT_INT, &o.size, 0, MAX_SIZE, NULL},
        {"timeout", TOOL_OPT_INT, &o.timeout_ms, 1, 3600000, NULL},
        {"time-limit", TOOL_OPT_SECONDS, &o.time_limit, 1, 86400, NULL},
        {"echo-reply", TOOL_OPT_STRING, &o.echo_reply, 0, 0, NULL},
        {"answer", TOOL_OPT_FLAG, &o.answer, 0, 0, NULL},
        {"ip6", TOOL_OPT_STRING, &o.ip6, 0, 0, NULL},
        {0},
    };
    int first = tool_parse_options("zping", argc, argv, opts, &o.net, usage);
    bool on = strcmp(o.echo_reply, "on") == 0;
    if (first < 0 || first != argc - 1 || (!on && strcmp(o.echo_reply, "off") != 0)) {
        usage(stderr);
        return 2;
    }
    o.host = argv[first];
    bool serve = strcmp(o.host, "serve") == 0;
    if (o.count < 0) {
        o.count = serve ? 0 : 4;
    }
    if (serve && o.answer) {
        on = false;
        o.echo_reply = "off";
    }
    bool v6 = serve || strchr(o.host, ':') != NULL;
    if (tool_start("zping", &o.net) < 0 || tool_ipv6_start("zping", o.ip6, v6) < 0 ||
        set_echo_reply(on) < 0) {
        return 2;
    }
    static uint8_t buf[MAX_SIZE + 128];
    return serve ? run_serve(&o, buf) : run_ping(&o, buf);
}
