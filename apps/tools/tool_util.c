/* What the command-line tools share beyond their network set-up: time,
 * numbers and the command line, the test stream and its checksum, sockets,
 * the start and the end of a run. Public API only. */
#include "tool_util.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- time
 * ------------------------------------------------------------------------------------------ */

double tool_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tool_sleep_us(long us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int tool_ms_left(double deadline, int cap)
{
    double left = (deadline - tool_now_s()) * 1000.0;
    if (left <= 0) {
        return 0;
    }
    return left < cap ? (int)left + 1 : cap;
}

/* ---- numbers and the command line
 * ------------------------------------------------------------------ */

uint64_t tool_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

bool tool_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

bool tool_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *s == '\0' || *s == '-' || *end != '\0') {
        return false;
    }
    *out = v;
    return true;
}

/* Store the argument of option `t`. false for a bad value. */
static bool take_option(const struct tool_opt *t, char *arg)
{
    long v;
    bool ok = true;
    switch (t->kind) {
    case TOOL_OPT_INT:
        if ((ok = tool_parse_long(arg, t->lo, t->hi, &v))) {
            *(int *)t->value = (int)v;
        }
        break;
    case TOOL_OPT_LONG:
        ok = tool_parse_long(arg, t->lo, t->hi, (long *)t->value);
        break;
    case TOOL_OPT_SECONDS:
        if ((ok = tool_parse_long(arg, t->lo, t->hi, &v))) {
            *(double *)t->value = (double)v;
        }
        break;
    case TOOL_OPT_U64:
        ok = tool_parse_u64(arg, (uint64_t *)t->value);
        break;
    case TOOL_OPT_U64_ANY: {
        char *end;
        errno = 0;
        *(uint64_t *)t->value = strtoull(arg, &end, 0);
        ok = errno == 0 && *arg != '\0' && *end == '\0';
        break;
    }
    case TOOL_OPT_FLAG:
        *(bool *)t->value = true;
        break;
    case TOOL_OPT_STRING:
        *(const char **)t->value = arg;
        break;
    case TOOL_OPT_CALL: {
        const struct tool_opt_call *call = t->value;
        ok = call->parse(arg, call->ctx);
        break;
    }
    }
    if (ok && t->given != NULL) {
        *t->given = true;
    }
    return ok;
}

enum { OPT_FIRST = 256 }; /* getopt_long's value for opts[0]; the network's are above */

int tool_parse_options(const char *prog, int argc, char **argv, const struct tool_opt *opts,
                       struct tool_net *net, void (*usage)(FILE *))
{
    static const struct option net_longopts[] = {TOOL_NET_LONGOPTS};
    const size_t n_net = sizeof(net_longopts) / sizeof(net_longopts[0]);
    struct option longopts[TOOL_OPTS_MAX + sizeof(net_longopts) / sizeof(net_longopts[0]) + 2];
    size_t n = 0;
    for (; n < TOOL_OPTS_MAX && opts[n].name != NULL; n++) {
        int has_arg = opts[n].kind == TOOL_OPT_FLAG ? no_argument : required_argument;
        longopts[n] = (struct option){opts[n].name, has_arg, NULL, OPT_FIRST + (int)n};
    }
    memcpy(longopts + n, net_longopts, sizeof(net_longopts));
    longopts[n + n_net] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n + n_net + 1] = (struct option){NULL, 0, NULL, 0};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        if (c >= OPT_FIRST && c < OPT_FIRST + (int)n) {
            const struct tool_opt *t = &opts[c - OPT_FIRST];
            if (!take_option(t, optarg)) {
                fprintf(stderr, "%s: bad value for --%s: %s\n", prog, t->name, optarg);
                return -1;
            }
        } else if (tool_net_option(prog, net, c, optarg) != 1) {
            return -1;
        }
    }
    return tool_net_check(prog, net) < 0 ? -1 : optind;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (strcmp(s, *list) == 0) {
            return true;
        }
    }
    return false;
}

int tool_parse_mode(const char *prog, int argc, char *const *argv, const char *const *port_modes,
                    const char *const *host_modes, const char **mode, const char **host, int *port)
{
    if (argc < 1) {
        return -1;
    }
    *mode = argv[0];
    const char *p;
    if (in_list(*mode, port_modes)) {
        if (argc != 2) {
            return -1;
        }
        p = argv[1];
    } else if (in_list(*mode, host_modes)) {
        if (argc != 3) {
            return -1;
        }
        *host = argv[1];
        p = argv[2];
    } else {
        fprintf(stderr, "%s: unknown mode %s\n", prog, *mode);
        return -1;
    }
    long v;
    if (!tool_parse_long(p, 1, 65535, &v)) {
        fprintf(stderr, "%s: bad port %s\n", prog, p);
        return -1;
    }
    *port = (int)v;
    return 0;
}

/* ---- the test stream and its checksum
 * -------------------------------------------------------------- */

#define ADLER_MOD  65521u
#define ADLER_NMAX 5552 /* bytes before the Adler sums must be reduced */

void tool_stream_init(struct tool_stream *s, uint64_t seed)
{
    uint64_t st = seed;
    for (int t = 0; t < TOOL_STREAM_WORDS; t++) {
        s->pad[t] = tool_splitmix64(&st);
    }
    s->chunk_no = UINT64_MAX;
}

const uint8_t *tool_stream_at(struct tool_stream *s, uint64_t off, uint64_t end, size_t *len)
{
    uint64_t c = off / TOOL_STREAM_CHUNK;
    if (c != s->chunk_no) {
        uint64_t base = c * TOOL_STREAM_WORDS;
        for (int t = 0; t < TOOL_STREAM_WORDS; t++) {
            uint64_t v = s->pad[t] ^ (base + (uint64_t)t);
            for (int i = 0; i < 8; i++) {
                s->chunk[8 * t + i] = (uint8_t)(v >> (8 * i));
            }
        }
        s->chunk_no = c;
    }
    size_t in = (size_t)(off % TOOL_STREAM_CHUNK);
    size_t max = end - off < TOOL_STREAM_CHUNK ? (size_t)(end - off) : TOOL_STREAM_CHUNK;
    *len = TOOL_STREAM_CHUNK - in < max ? TOOL_STREAM_CHUNK - in : max;
    return s->chunk + in;
}

void tool_checksum_init(struct tool_checksum *k)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t r = i;
        for (int bit = 0; bit < 8; bit++) {
            r = (r & 1) ? (r >> 1) ^ 0xedb88320u : r >> 1;
        }
        k->tab[i] = r;
    }
    k->crc = 0xffffffffu;
    k->a = 1;
    k->b = 0;
    k->len = 0;
}

void tool_checksum_update(struct tool_checksum *k, const uint8_t *p, size_t n)
{
    uint32_t crc = k->crc;
    for (size_t i = 0; i < n; i++) {
        crc = k->tab[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    }
    k->crc = crc;
    for (size_t done = 0; done < n;) {
        size_t m = n - done < ADLER_NMAX ? n - done : ADLER_NMAX;
        uint32_t a = k->a, b = k->b;
        for (size_t i = 0; i < m; i++) {
            a += p[done + i];
            b += a;
        }
        k->a = a % ADLER_MOD;
        k->b = b % ADLER_MOD;
        done += m;
    }
    k->len += n;
}

uint64_t tool_checksum_value(const struct tool_checksum *k)
{
    return ((uint64_t)(k->crc ^ 0xffffffffu) << 32) | ((uint64_t)k->b << 16 | k->a);
}

double tool_mib_per_s(uint64_t bytes, double dt)
{
    return dt > 0 ? (double)bytes / (1024.0 * 1024.0) / dt : 0.0;
}

/* ---- sockets
 * --------------------------------------------------------------------------------------- */

void tool_perror(const char *prog, const char *what)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
}

int tool_socket(const char *prog, int type, int protocol)
{
    int fd = zsock_socket(AF_INET, type, protocol);
    if (fd < 0) {
        tool_perror(prog, "zsock_socket");
    }
    return fd;
}

int tool_send_stream(const char *prog, int fd, struct tool_stream *s, uint64_t *off, uint64_t end,
                     struct tool_checksum *k)
{
    size_t len;
    const uint8_t *p = tool_stream_at(s, *off, end, &len);
    ssize_t n = zsock_send(fd, p, len, ZSOCK_MSG_DONTWAIT);
    if (n > 0) {
        tool_checksum_update(k, p, (size_t)n);
        *off += (uint64_t)n;
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        fprintf(stderr, "%s: zsock_send: %s\n", prog, strerror(errno));
        return -1;
    }
    return 0;
}

int tool_set_socks(const char *prog, int fd, int family, const char *spec)
{
    char host[TOOL_ADDR_STRLEN];
    const char *colon = strrchr(spec, ':');
    size_t n = colon != NULL ? (size_t)(colon - spec) : 0;
    struct tool_addr proxy;
    if (n == 0 || n >= sizeof(host)) {
        fprintf(stderr, "%s: --socks wants HOST:PORT, not %s\n", prog, spec);
        return -1;
    }
    memcpy(host, spec, n);
    host[n] = '\0';
    if (!tool_addr_parse(prog, host, atoi(colon + 1), false, &proxy)) {
        return -1;
    }
    if (proxy.u.sa.sa_family != family) {
        fprintf(stderr, "%s: the proxy %s and the destination are not of one IP version\n", prog,
                spec);
        return -1;
    }
    if (zsock_setsockopt(fd, SOL_SOCKET, SO_SOCKS5, &proxy.u.sa, proxy.len) < 0) {
        fprintf(stderr, "%s: SO_SOCKS5: %s\n", prog, strerror(errno));
        return -1;
    }
    return 0;
}

int tool_socket_family(const char *prog, int family, int type, int protocol)
{
    int fd = zsock_socket(family, type, protocol);
    if (fd < 0) {
        tool_perror(prog, "zsock_socket");
    }
    return fd;
}

/* The index of interface `scope` (a name or a decimal index), or 0. */
static uint32_t scope_index(const char *scope)
{
    long v;
    if (tool_parse_long(scope, 1, 0x7fffffff, &v)) {
        return (uint32_t)v;
    }
    int idx = zsock_if_nametoindex(scope);
    return idx > 0 ? (uint32_t)idx : 0;
}

bool tool_addr_parse(const char *prog, const char *host, int port, bool any6, struct tool_addr *a)
{
    memset(a, 0, sizeof(*a));
    if (host == NULL && !any6) {
        a->u.sin.sin_family = AF_INET;
        a->u.sin.sin_port = htons((uint16_t)port);
        a->len = sizeof(a->u.sin);
        return true;
    }
    a->u.sin6.sin6_family = AF_INET6;
    a->u.sin6.sin6_port = htons((uint16_t)port);
    a->len = sizeof(a->u.sin6);
    if (host == NULL) {
        return true; /* :: */
    }
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 4];
    size_t n = strlen(host);
    if (n >= sizeof(text)) {
        fprintf(stderr, "%s: bad address %s\n", prog, host);
        return false;
    }
    memcpy(text, host, n + 1);
    char *p = text;
    if (p[0] == '[') {
        if (n < 2 || p[n - 1] != ']') {
            fprintf(stderr, "%s: bad address %s (no closing bracket)\n", prog, host);
            return false;
        }
        p[n - 1] = '\0';
        p++;
    } else if (zsock_inet_pton(AF_INET, p, &a->u.sin.sin_addr) == 1) {
        struct in_addr v4 = a->u.sin.sin_addr;
        memset(a, 0, sizeof(*a));
        a->u.sin.sin_family = AF_INET;
        a->u.sin.sin_port = htons((uint16_t)port);
        a->u.sin.sin_addr = v4;
        a->len = sizeof(a->u.sin);
        return true;
    }
    char *pct = strchr(p, '%');
    if (pct != NULL) {
        *pct++ = '\0';
        a->u.sin6.sin6_scope_id = scope_index(pct);
        if (a->u.sin6.sin6_scope_id == 0) {
            fprintf(stderr, "%s: %s: no interface %s\n", prog, host, pct);
            return false;
        }
    }
    if (zsock_inet_pton(AF_INET6, p, &a->u.sin6.sin6_addr) != 1) {
        fprintf(stderr, "%s: bad IPv4 or IPv6 address %s\n", prog, host);
        return false;
    }
    return true;
}

const char *tool_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        zsock_inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%u", ip, (unsigned)ntohs(sin->sin_port));
        return buf;
    }
    if (sa->sa_family != AF_INET6) {
        snprintf(buf, len, "(family %d)", (int)sa->sa_family);
        return buf;
    }
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
    zsock_inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
    char scope[IF_NAMESIZE + 2] = "";
    if (sin6->sin6_scope_id != 0) {
        snprintf(scope, sizeof(scope), "%%%u", (unsigned)sin6->sin6_scope_id);
        struct zsock_if_info info[8];
        int n = zsock_if_list(info, 8);
        for (int i = 0; i < n && i < 8; i++) {
            if ((uint32_t)info[i].index == sin6->sin6_scope_id) {
                snprintf(scope, sizeof(scope), "%%%s", info[i].name);
            }
        }
    }
    snprintf(buf, len, "[%s%s]:%u", ip, scope, (unsigned)ntohs(sin6->sin6_port));
    return buf;
}

int tool_set_v6only(const char *prog, int fd, int family, int v6only)
{
    if (family != AF_INET6 || v6only < 0) {
        return 0;
    }
    if (zsock_setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) {
        tool_perror(prog, "IPV6_V6ONLY");
        return -1;
    }
    return 0;
}

int tool_add_ipv6(const char *prog, const char *spec)
{
    struct in6_addr a;
    int plen;
    int idx = tool_net_ifindex();
    int rc = zsock_parse_ipv6_prefix(spec, &a, &plen);
    if (rc == 0 && idx <= 0) {
        fprintf(stderr, "%s: --ip6 %s: no interface (--tap, --pipe or ZSOCK_TAP)\n", prog, spec);
        return -1;
    }
    if (rc == 0) {
        rc = zsock_if_add_ipv6(idx, &a, plen);
    }
    if (rc < 0) {
        fprintf(stderr, "%s: --ip6 %s: %s\n", prog, spec, strerror(-rc));
        return -1;
    }
    return 0;
}

void tool_print_ipv6(const char *prog)
{
    static const char *const states[] = {"?", "tentative", "preferred", "deprecated", "duplicate"};
    static const char *const origins[] = {"?", "link-local", "slaac", "manual"};
    struct zsock_if_info info[8];
    int n = zsock_if_list(info, 8);
    for (int i = 0; i < n && i < 8; i++) {
        const struct zsock_if_info *f = &info[i];
        for (int k = 0;
             k < f->n_ipv6 && k < ZSOCK_IPV6_MAX_ADDRS && !(f->flags & ZSOCK_IF_LOOPBACK); k++) {
            char a[INET6_ADDRSTRLEN];
            zsock_inet_ntop(AF_INET6, &f->ipv6[k], a, sizeof(a));
            int st = f->ipv6_state[k], og = f->ipv6_origin[k];
            printf("%s: ipv6 %s/%d on %s %s %s\n", prog, a, f->ipv6_prefix_len[k], f->name,
                   st >= 0 && st <= 4 ? states[st] : "?", og >= 0 && og <= 3 ? origins[og] : "?");
        }
    }
}

bool tool_wait_ipv6(int ms)
{
    double end = tool_now_s() + ms / 1000.0;
    for (;;) {
        bool tentative = false;
        struct zsock_if_info info[8];
        int n = zsock_if_list(info, 8);
        for (int i = 0; i < n && i < 8; i++) {
            for (int k = 0; k < info[i].n_ipv6 && k < ZSOCK_IPV6_MAX_ADDRS; k++) {
                tentative |= !(info[i].flags & ZSOCK_IF_LOOPBACK) &&
                             info[i].ipv6_state[k] == ZSOCK_IPV6_TENTATIVE;
            }
        }
        if (!tentative) {
            return true;
        }
        if (tool_now_s() >= end) {
            return false;
        }
        tool_sleep_us(20000);
    }
}

int tool_ipv6_start(const char *prog, const char *spec, bool used)
{
    if (spec != NULL && tool_add_ipv6(prog, spec) < 0) {
        return -1;
    }
    if (!used && spec == NULL && getenv("ZSOCK_IPV6") == NULL) {
        return 0;
    }
    if (!tool_wait_ipv6(3000)) {
        fprintf(stderr, "%s: an IPv6 address is still tentative after 3 s\n", prog);
    }
    tool_print_ipv6(prog);
    return 0;
}

bool tool_sockaddr(const char *prog, const char *host, int port, struct sockaddr_in *sin)
{
    *sin = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (host != NULL && zsock_inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
        fprintf(stderr, "%s: bad IPv4 address %s\n", prog, host);
        return false;
    }
    return true;
}

void tool_set_buffers(int fd, int bytes)
{
    if (bytes > 0) {
        zsock_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
        zsock_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
    }
}

int tool_listener_at(const char *prog, const struct tool_addr *at, int v6only, int backlog,
                     int buf_bytes)
{
    int family = at->u.sa.sa_family;
    int fd = tool_socket_family(prog, family, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    zsock_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    tool_set_buffers(fd, buf_bytes);
    const char *failed = NULL;
    if (tool_set_v6only(prog, fd, family, v6only) < 0) {
        zsock_close(fd);
        return -1;
    }
    if (zsock_bind(fd, &at->u.sa, at->len) < 0) {
        failed = "zsock_bind";
    } else if (zsock_listen(fd, backlog) < 0) {
        failed = "zsock_listen";
    }
    if (failed != NULL) {
        tool_perror(prog, failed);
        zsock_close(fd);
        return -1;
    }
    return fd;
}

int tool_listener(const char *prog, int port, int backlog, int buf_bytes)
{
    struct tool_addr any;
    tool_addr_parse(prog, NULL, port, false, &any);
    return tool_listener_at(prog, &any, -1, backlog, buf_bytes);
}

void tool_set_nonblock(int fd)
{
    zsock_fcntl(fd, F_SETFL, zsock_fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
}

int tool_accept(const char *who, int lfd, struct sockaddr_in *peer)
{
    socklen_t plen = sizeof(*peer);
    int fd = zsock_accept(lfd, (struct sockaddr *)peer, peer != NULL ? &plen : NULL);
    if (fd < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
            tool_perror(who, "zsock_accept");
        }
        return -1;
    }
    tool_set_nonblock(fd);
    return fd;
}

void tool_drain_sent(int fd, double deadline)
{
    while (tool_now_s() < deadline) {
        int queued = 0;
        if (zsock_ioctl(fd, FIONWRITE, &queued) < 0 || queued == 0) {
            return;
        }
        tool_sleep_us(1000);
    }
}

/* ---- a run's start and end
 * ------------------------------------------------------------------------- */

int tool_start(const char *prog, const struct tool_net *net)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (tool_net_setup(prog, net) < 0) {
        return -1;
    }
    tool_net_print_interfaces(prog);
    return 0;
}

void tool_print_tcp_stats(const char *prog, const struct zsock_net_stats *s, bool recovery)
{
    char more[128] = "";
    if (recovery) {
        snprintf(more, sizeof(more),
                 " retransmits %" PRIu64 " timeouts %" PRIu64 " recoveries %" PRIu64,
                 s->tcp.retransmits, s->tcp.timeouts, s->tcp.recoveries);
    }
    printf("%s: stats tcp rx %" PRIu64 " tx %" PRIu64 " malformed %" PRIu64 " no-conn %" PRIu64
           " rst-tx %" PRIu64 " listen-drops %" PRIu64 "%s\n",
           prog, s->tcp.rx, s->tcp.tx, s->tcp.drop_malformed, s->tcp.drop_no_conn, s->tcp.rst_tx,
           s->tcp.listen_drops, more);
}

void tool_print_ipv6_stats(const char *prog, const struct zsock_net_stats *s)
{
    printf("%s: stats ipv6 rx %" PRIu64 " tx %" PRIu64 " malformed %" PRIu64 " not-ours %" PRIu64
           " frag-rx %" PRIu64 " frag-tx %" PRIu64 " reasm-ok %" PRIu64 " reasm-drop %" PRIu64
           " no-route %" PRIu64 " no-buffer %" PRIu64 "\n",
           prog, s->ipv6.rx, s->ipv6.tx, s->ipv6.drop_malformed, s->ipv6.drop_not_ours,
           s->ipv6.frag_rx, s->ipv6.frag_tx, s->ipv6.reasm_ok, s->ipv6.reasm_drop, s->ipv6.no_route,
           s->ipv6.no_buffer);
}

void tool_print_if_stats(const char *prog, bool loopback)
{
    struct zsock_if_info info[8];
    int n = zsock_if_list(info, 8);
    for (int i = 0; i < n && i < 8; i++) {
        struct zsock_if_stats st;
        bool shown = loopback || !(info[i].flags & ZSOCK_IF_LOOPBACK);
        if (shown && zsock_if_stats(info[i].index, &st) == 0) {
            printf("%s: stats if %s rx %" PRIu64 " (%" PRIu64 " bytes) rx-dropped %" PRIu64
                   " tx %" PRIu64 " (%" PRIu64 " bytes) tx-dropped %" PRIu64 "\n",
                   prog, info[i].name, st.rx_packets, st.rx_bytes, st.rx_dropped, st.tx_packets,
                   st.tx_bytes, st.tx_dropped);
        }
    }
}

void tool_linger(const char *prog, int ms)
{
    if (ms > 0) {
        printf("%s: lingering %d ms\n", prog, ms);
        tool_sleep_us((long)ms * 1000);
    }
}
