/* zdtls: a DTLS test tool on zsock's public API only (DTLS sockets
 * configured with SOL_TLS options and credential tags), for interoperability
 * tests against openssl s_server/s_client -dtls1_2 over TAP or loopback.
 *
 * Modes:
 *   client HOST PORT  connect (the handshake runs in connect()), then send
 *                     --count datagrams, each one text line
 *                     "zdtls NNNNNN <filler>\n" of --size bytes (filler
 *                     letters depend on NNNNNN, so a line is checkable on
 *                     its own); then
 *                     - with --echo: each datagram is sent once its
 *                       predecessor came back, and what comes back must be
 *                       what was sent ("echo verified" at the end);
 *                     - with --expect N: read N datagrams and print each as
 *                       "zdtls: received: TEXT" (for openssl s_server, which
 *                       sends its standard input's lines).
 *   server PORT       a DTLS server on one socket: every record goes back
 *                     to the peer that sent it, many peers at once; prints
 *                     "zdtls: server ready", then "zdtls: server: peer
 *                     IP:PORT" at a peer's first record; ends after --count
 *                     records (when given) or --time-limit.
 *
 * After the client's handshake zdtls prints the negotiated suite
 * (TLS_CIPHERSUITE_USED) and the peer verification result; a failed
 * handshake prints errno.
 *
 * Credentials: --ca FILE, --cert FILE and --key FILE, --psk FILE (raw key
 * bytes) and --psk-id FILE; PEM or DER, told apart by content. */
#include "tool_tls.h"
#include "tool_util.h"
#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ssl.h>

#define MAX_PEERS 64
#define DGRAM_MAX 16384

struct options {
    const char *mode;
    const char *host;
    int port;
    const char *ca, *cert, *key, *psk, *psk_id;
    const char *hostname;
    int verify; /* TLS_PEER_VERIFY_*, -1: the socket's default */
    long count;
    bool count_given;
    int size;
    long expect;
    bool echo;
    int dtls10;
    int hs_min_ms, hs_max_ms; /* TLS_DTLS_HANDSHAKE_TIMEOUT_MIN/MAX, 0: the socket's */
    double time_limit;
    int linger_ms;
    struct tool_net net;
};

/* ---- credentials
 * ------------------------------------------------------------------------------- */

/* A DTLS socket with the credentials and options of `o`, or -1. */
static int dtls_socket(const struct options *o, bool server)
{
    sec_tag_t tags[3];
    int n = tool_tls_load_credentials("zdtls", o->cert, o->key, o->psk, o->psk_id, &o->ca,
                                      o->ca != NULL ? 1 : 0, tags);
    if (n < 0) {
        return -1;
    }
    int fd = tool_socket("zdtls", SOCK_DGRAM, o->dtls10 ? IPPROTO_DTLS_1_0 : IPPROTO_DTLS_1_2);
    if (fd < 0) {
        return -1;
    }
    int role = server ? TLS_DTLS_ROLE_SERVER : TLS_DTLS_ROLE_CLIENT;
    if ((n > 0 && zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags,
                                   (socklen_t)(n * (int)sizeof(sec_tag_t))) < 0) ||
        zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_ROLE, &role, sizeof(role)) < 0 ||
        (o->verify >= 0 &&
         zsock_setsockopt(fd, SOL_TLS, TLS_PEER_VERIFY, &o->verify, sizeof(o->verify)) < 0) ||
        (o->hs_min_ms > 0 &&
         zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MIN,
                          &(uint32_t){(uint32_t)o->hs_min_ms}, sizeof(uint32_t)) < 0) ||
        (o->hs_max_ms > 0 &&
         zsock_setsockopt(fd, SOL_TLS, TLS_DTLS_HANDSHAKE_TIMEOUT_MAX,
                          &(uint32_t){(uint32_t)o->hs_max_ms}, sizeof(uint32_t)) < 0) ||
        (!server && o->hostname != NULL &&
         zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, o->hostname, (socklen_t)strlen(o->hostname)) <
             0)) {
        tool_perror("zdtls", "zsock_setsockopt(SOL_TLS)");
        zsock_close(fd);
        return -1;
    }
    struct zsock_timeval tv = {.tv_sec = (long)o->time_limit};
    zsock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    zsock_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

/* ---- client
 * ------------------------------------------------------------------------------------ */

/* Datagram `seq` as a text line of `size` bytes (at least 14). */
static size_t make_line(char *buf, int size, long seq)
{
    int n = snprintf(buf, (size_t)size, "zdtls %06ld ", seq % 1000000);
    for (int i = n; i < size - 1; i++) {
        buf[i] = (char)('a' + (seq * 7 + i) % 26);
    }
    buf[size - 1] = '\n';
    return (size_t)size;
}

static int run_client(const struct options *o)
{
    struct sockaddr_in sin;
    if (!tool_sockaddr("zdtls", o->host, o->port, &sin)) {
        return 1;
    }
    int fd = dtls_socket(o, false);
    if (fd < 0) {
        return 1;
    }
    double t0 = tool_now_s();
    if (zsock_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        printf("zdtls: client: handshake failed: %s (errno %d)\n", strerror(errno), errno);
        zsock_close(fd);
        return 1;
    }
    int suite = 0;
    socklen_t len = sizeof(suite);
    zsock_getsockopt(fd, SOL_TLS, TLS_CIPHERSUITE_USED, &suite, &len);
    const char *name = mbedtls_ssl_get_ciphersuite_name(suite);
    uint32_t flags = 0;
    len = sizeof(flags);
    zsock_getsockopt(fd, SOL_TLS, TLS_CERT_VERIFY_RESULT, &flags, &len);
    printf("zdtls: client: handshake done in %.1f ms, suite 0x%04X %s, verification 0x%" PRIx32
           "\n",
           (tool_now_s() - t0) * 1000, suite, name != NULL ? name : "?", flags);
    static char out[DGRAM_MAX], in[DGRAM_MAX + 1];
    int rc = 0;
    for (long i = 0; i < o->count && rc == 0; i++) {
        size_t n = make_line(out, o->size, i);
        if (zsock_send(fd, out, n, 0) != (ssize_t)n) {
            tool_perror("zdtls", "zsock_send");
            rc = 1;
            break;
        }
        if (o->echo) {
            ssize_t r = zsock_recv(fd, in, sizeof(in), 0);
            if (r != (ssize_t)n || memcmp(in, out, n) != 0) {
                printf("zdtls: client: datagram %ld came back as %zd bytes%s\n", i, r,
                       r == (ssize_t)n ? ", different" : "");
                rc = 1;
            }
        }
    }
    if (rc == 0) {
        printf("zdtls: client: sent %ld datagrams of %d bytes\n", o->count, o->size);
    }
    if (rc == 0 && o->echo) {
        printf("zdtls: client: echo verified\n");
    }
    for (long i = 0; i < o->expect && rc == 0; i++) {
        ssize_t r = zsock_recv(fd, in, DGRAM_MAX, 0);
        if (r < 0) {
            tool_perror("zdtls", "zsock_recv");
            rc = 1;
            break;
        }
        in[r] = '\0';
        while (r > 0 && (in[r - 1] == '\n' || in[r - 1] == '\r')) {
            in[--r] = '\0';
        }
        printf("zdtls: received: %s\n", in);
    }
    zsock_close(fd);
    return rc;
}

/* ---- server
 * ------------------------------------------------------------------------------------ */

static int run_server(const struct options *o)
{
    int fd = dtls_socket(o, true);
    if (fd < 0) {
        return 1;
    }
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (zsock_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        tool_perror("zdtls", "zsock_bind");
        zsock_close(fd);
        return 1;
    }
    printf("zdtls: server ready on port %d\n", o->port);
    static struct sockaddr_in peers[MAX_PEERS];
    int npeers = 0;
    static char buf[DGRAM_MAX];
    long records = 0;
    double deadline = tool_now_s() + o->time_limit;
    while ((!o->count_given || records < o->count) && tool_now_s() < deadline) {
        struct sockaddr_in from;
        socklen_t fl = sizeof(from);
        struct zsock_pollfd p = {.fd = fd, .events = ZSOCK_POLLIN};
        if (zsock_poll(&p, 1, tool_ms_left(deadline, 1000)) <= 0) {
            continue;
        }
        ssize_t n =
            zsock_recvfrom(fd, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0) {
            if (errno != EAGAIN) {
                tool_perror("zdtls", "zsock_recvfrom");
            }
            continue;
        }
        bool known = false;
        for (int i = 0; i < npeers && !known; i++) {
            known = peers[i].sin_port == from.sin_port &&
                    peers[i].sin_addr.s_addr == from.sin_addr.s_addr;
        }
        if (!known) {
            char a[INET_ADDRSTRLEN];
            zsock_inet_ntop(AF_INET, &from.sin_addr, a, sizeof(a));
            printf("zdtls: server: peer %s:%d\n", a, ntohs(from.sin_port));
            if (npeers < MAX_PEERS) {
                peers[npeers++] = from;
            }
        }
        records++;
        if (zsock_sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) != n) {
            tool_perror("zdtls", "zsock_sendto");
        }
    }
    printf("zdtls: server: echoed %ld records from %d peers\n", records, npeers);
    zsock_close(fd);
    return 0;
}

/* ---- command line
 * ------------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f, "usage: zdtls [options] client HOST PORT\n"
               "       zdtls [options] server PORT\n"
               "  --ca FILE          trusted CA certificate, PEM or DER\n"
               "  --cert FILE        own certificate, with --key\n"
               "  --key FILE         its private key\n"
               "  --psk FILE         pre-shared key (raw bytes), with --psk-id\n"
               "  --psk-id FILE      pre-shared key identity\n"
               "  --hostname NAME    client: TLS_HOSTNAME\n"
               "  --verify none|optional|required   TLS_PEER_VERIFY\n"
               "  --dtls10           IPPROTO_DTLS_1_0 (default IPPROTO_DTLS_1_2)\n"
               "  --hs-min MS, --hs-max MS  TLS_DTLS_HANDSHAKE_TIMEOUT_MIN/MAX\n"
               "  --count N          client: datagrams to send (default 10);\n"
               "                     server: records to echo before ending\n"
               "  --size BYTES       client: datagram size, 14..16384 (default 100)\n"
               "  --echo             client: wait for each datagram to come back, compare\n"
               "  --expect N         client: then read N datagrams and print them\n"
               "  --time-limit SEC   end the run after this long (default 20)\n"
               "  --linger MS        stay on the network this long after the run\n");
    tool_net_usage(f);
}

static bool parse_verify(char *arg, void *ctx)
{
    struct options *o = ctx;
    o->verify = tool_tls_verify_value(arg);
    return o->verify != -2;
}

int main(int argc, char **argv)
{
    struct options o = {.verify = -1, .count = 10, .size = 100, .time_limit = 20};
    struct tool_opt_call verify = {parse_verify, &o};
    bool dtls10 = false;
    const struct tool_opt opts[] = {
        {"ca", TOOL_OPT_STRING, &o.ca, 0, 0, NULL},
        {"cert", TOOL_OPT_STRING, &o.cert, 0, 0, NULL},
        {"key", TOOL_OPT_STRING, &o.key, 0, 0, NULL},
        {"psk", TOOL_OPT_STRING, &o.psk, 0, 0, NULL},
        {"psk-id", TOOL_OPT_STRING, &o.psk_id, 0, 0, NULL},
        {"hostname", TOOL_OPT_STRING, &o.hostname, 0, 0, NULL},
        {"verify", TOOL_OPT_CALL, &verify, 0, 0, NULL},
        {"dtls10", TOOL_OPT_FLAG, &dtls10, 0, 0, NULL},
        {"hs-min", TOOL_OPT_INT, &o.hs_min_ms, 1, 600000, NULL},
        {"hs-max", TOOL_OPT_INT, &o.hs_max_ms, 1, 600000, NULL},
        {"count", TOOL_OPT_LONG, &o.count, 0, 100000000, &o.count_given},
        {"size", TOOL_OPT_INT, &o.size, 14, DGRAM_MAX, NULL},
        {"echo", TOOL_OPT_FLAG, &o.echo, 0, 0, NULL},
        {"expect", TOOL_OPT_LONG, &o.expect, 0, 1000000, NULL},
        {"time-limit", TOOL_OPT_SECONDS, &o.time_limit, 1, 86400, NULL},
        {"linger", TOOL_OPT_INT, &o.linger_ms, 0, 600000, NULL},
        {0},
    };
    int first = tool_parse_options("zdtls", argc, argv, opts, &o.net, usage);
    if (first < 0) {
        usage(stderr);
        return 2;
    }
    o.dtls10 = dtls10;
    if ((o.cert == NULL) != (o.key == NULL) || (o.psk == NULL) != (o.psk_id == NULL)) {
        fprintf(stderr, "zdtls: --cert needs --key, --psk needs --psk-id, and the other way\n");
        return 2;
    }
    static const char *const port_modes[] = {"server", NULL};
    static const char *const host_modes[] = {"client", NULL};
    if (tool_parse_mode("zdtls", argc - first, argv + first, port_modes, host_modes, &o.mode,
                        &o.host, &o.port) < 0) {
        usage(stderr);
        return 2;
    }
    if (tool_start("zdtls", &o.net) < 0) {
        return 1;
    }
    int rc = strcmp(o.mode, "client") == 0 ? run_client(&o) : run_server(&o);
    tool_linger("zdtls", o.linger_ms);
    return rc;
}
