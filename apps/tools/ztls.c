/* ztls: a TLS test tool on zsock's public API only (TLS sockets configured
 * with SOL_TLS options and credential tags), for interoperability tests
 * against openssl s_server/s_client and curl over TAP, pipe or loopback.
 *
 * Modes:
 *   client HOST PORT  connect (the handshake runs in connect()) and then
 *                     - by default, the checked stream of ztcp: send --bytes
 *                       of the stream named by --seed, shut down writing
 *                       (close_notify), read the server's line "ztls:
 *                       received BYTES checksum HEX\n" to end of stream and
 *                       compare it with what was sent;
 *                     - with --raw: send --bytes of the stream while
 *                       reading whatever comes (poll on a non-blocking
 *                       socket), shut down writing, read to end of stream,
 *                       print both checksums and "echo verified" when what
 *                       came back is what was sent (for openssl s_server,
 *                       which prints what it gets, and the echo mode);
 *                     - with --get PATH: send an HTTP/1.1 GET (Host:
 *                       --hostname, Connection: close), read the response to
 *                       end of stream and print its status and the body's
 *                       length and checksum; with --bytes given, the body
 *                       must also be --bytes of the --seed stream.
 *   server PORT       accept --count connections one after another; each
 *                     reads to end of stream and answers the line above.
 *   echo PORT         as server, but sends every byte back and shuts down
 *                     writing after the peer's end of stream.
 *   http PORT         as server, but answers each HTTP/1.1 GET or HEAD with
 *                     200 and a body of --bytes of the --seed stream
 *                     (keep-alive unless the request says otherwise), any
 *                     other method with 405, until the peer ends the stream.
 *   gen               write --bytes of the --seed stream to stdout (no
 *                     network), to compare with what curl or openssl saved.
 *
 * After every handshake ztls prints the negotiated suite
 * (TLS_CIPHERSUITE_USED) and the peer verification result
 * (TLS_CERT_VERIFY_RESULT); a failed handshake prints errno and, where the
 * socket has one, the verification result, so negative tests can tell an
 * untrusted CA from a wrong host name or an expired certificate.
 *
 * Credentials: --ca FILE (any number, each under its own tag), --cert FILE
 * and --key FILE (one tag), --psk FILE (raw key bytes) and --psk-id FILE
 * (one tag); PEM or DER, told apart by content. Every tag loaded goes into
 * TLS_SEC_TAG_LIST.
 *
 * Stream content and checksum: exactly those of ztcp (apps/tools/ztcp.c
 * describes them; tests/interop/tcp_peer.py reproduces them). */
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
#include <mbedtls/x509_crt.h>

#define CHUNK       TOOL_STREAM_CHUNK
#define REPLY_MAX   256
#define REPLY_FMT   "ztls: received %" PRIu64 " checksum %016" PRIx64 "\n"
#define MAX_CA      8
#define MAX_CIPHERS 64
#define MAX_ALPN    8
#define HTTP_HEAD   8192

struct options {
    const char *mode;
    const char *host;
    int port;
    const char *ca[MAX_CA];
    int n_ca;
    const char *cert, *key, *psk, *psk_id;
    const char *hostname;
    bool no_hostname;
    int verify; /* TLS_PEER_VERIFY_*, or -1: the socket's default */
    int ciphers[MAX_CIPHERS];
    int n_ciphers;
    const char *alpn[MAX_ALPN + 1];
    int n_alpn;
    int protocol;
    uint64_t bytes, seed;
    bool bytes_given;
    const char *get_path;
    const char *socks; /* client: HOST:PORT of a SOCKS5 proxy */
    bool raw;
    long count;
    double time_limit;
    int linger_ms;
    int buf_bytes; /* SO_RCVBUF and SO_SNDBUF, 0: the stack's default */
    struct tool_net net;
};

/* ---- the stream's checksum
 * ------------------------------------------------------------------------- */

/* The checksum of the first `bytes` of the stream `seed`. */
static uint64_t stream_checksum(struct tool_stream *s, struct tool_checksum *k, uint64_t bytes)
{
    tool_checksum_init(k);
    for (uint64_t off = 0; off < bytes;) {
        size_t len;
        const uint8_t *p = tool_stream_at(s, off, bytes, &len);
        tool_checksum_update(k, p, len);
        off += len;
    }
    return tool_checksum_value(k);
}

/* ---- credentials and socket options
 * ------------------------------------------------------------------------- */

static int set_opt(int fd, int name, const char *what, const void *val, socklen_t len)
{
    if (zsock_setsockopt(fd, SOL_TLS, name, val, len) < 0) {
        fprintf(stderr, "ztls: setsockopt(SOL_TLS, %s): %s\n", what, strerror(errno));
        return -1;
    }
    return 0;
}

/* A TLS socket with the options of `o` set (client: also the host name). */
static int tls_socket(const struct options *o, const sec_tag_t *tags, int n_tags, bool client)
{
    int fd = zsock_socket(AF_INET, SOCK_STREAM, o->protocol);
    if (fd < 0) {
        fprintf(stderr, "ztls: zsock_socket(AF_INET, SOCK_STREAM, %d): %s\n", o->protocol,
                strerror(errno));
        return -1;
    }
    tool_set_buffers(fd, o->buf_bytes);
    int rc = 0;
    if (n_tags > 0) {
        rc |= set_opt(fd, TLS_SEC_TAG_LIST, "TLS_SEC_TAG_LIST", tags,
                      (socklen_t)(n_tags * (int)sizeof(sec_tag_t)));
    }
    if (o->verify >= 0) {
        rc |= set_opt(fd, TLS_PEER_VERIFY, "TLS_PEER_VERIFY", &o->verify, sizeof(o->verify));
    }
    if (o->n_ciphers > 0) {
        rc |= set_opt(fd, TLS_CIPHERSUITE_LIST, "TLS_CIPHERSUITE_LIST", o->ciphers,
                      (socklen_t)(o->n_ciphers * (int)sizeof(int)));
    }
    if (o->n_alpn > 0) {
        /* An array of pointers (zsock copies the strings; Zephyr keeps the
         * pointers, and argv outlives the socket either way). */
        rc |= set_opt(fd, TLS_ALPN_LIST, "TLS_ALPN_LIST", o->alpn,
                      (socklen_t)((size_t)o->n_alpn * sizeof(const char *)));
    }
    if (client && o->no_hostname) {
        rc |= set_opt(fd, TLS_HOSTNAME, "TLS_HOSTNAME", NULL, 0);
    } else if (client && o->hostname != NULL) {
        rc |=
            set_opt(fd, TLS_HOSTNAME, "TLS_HOSTNAME", o->hostname, (socklen_t)strlen(o->hostname));
    }
    if (rc != 0) {
        zsock_close(fd);
        return -1;
    }
    return fd;
}

/* SO_RCVTIMEO and SO_SNDTIMEO: the time left before `deadline`. */
static void set_timeouts(int fd, double deadline)
{
    double left = deadline - tool_now_s();
    if (left < 0.001) {
        left = 0.001;
    }
    struct zsock_timeval tv = {.tv_sec = (long)left,
                               .tv_usec = (long)((left - (double)(long)left) * 1e6)};
    zsock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    zsock_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* The verification flags in words, on one line. */
static void verify_words(uint32_t flags, char *out, size_t size)
{
    if (flags == 0) {
        snprintf(out, size, "ok");
        return;
    }
    int n = mbedtls_x509_crt_verify_info(out, size, "", flags);
    for (int i = 0; i < n && out[i] != '\0'; i++) {
        if (out[i] == '\n') {
            out[i] = (i + 1 < n && out[i + 1] != '\0') ? ';' : '\0';
        }
    }
    if (n < 0) {
        snprintf(out, size, "flags 0x%" PRIx32, flags);
    }
}

/* "WHO: peer verification: ..." from TLS_CERT_VERIFY_RESULT, if the socket
 * has one. */
static void print_verify_result(int fd, const char *who, FILE *f)
{
    uint32_t flags = 0;
    socklen_t len = sizeof(flags);
    if (zsock_getsockopt(fd, SOL_TLS, TLS_CERT_VERIFY_RESULT, &flags, &len) < 0) {
        fprintf(f, "ztls: %s: peer verification: no result (%s)\n", who, strerror(errno));
        return;
    }
    char words[512];
    verify_words(flags, words, sizeof(words));
    fprintf(f, "ztls: %s: peer verification: 0x%" PRIx32 " %s\n", who, flags, words);
}

/* The line printed after every handshake. */
static void print_session(int fd, const char *who, double ms)
{
    int suite = 0;
    socklen_t len = sizeof(suite);
    if (zsock_getsockopt(fd, SOL_TLS, TLS_CIPHERSUITE_USED, &suite, &len) < 0) {
        printf("ztls: %s: handshake done in %.1f ms, suite unknown (%s)\n", who, ms,
               strerror(errno));
    } else {
        const char *name = mbedtls_ssl_get_ciphersuite_name(suite);
        printf("ztls: %s: handshake done in %.1f ms, suite 0x%04X %s\n", who, ms, suite,
               name != NULL ? name : "?");
    }
    print_verify_result(fd, who, stdout);
}

/* ---- I/O
 * ----------------------------------------------------------------------------------------- */

static int send_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = zsock_send(fd, p, len, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror(errno == EAGAIN ? "ztls: zsock_send (time limit)" : "ztls: zsock_send");
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One zsock_recv: bytes, 0 at end of stream, -1 (printed). */
static ssize_t recv_some(int fd, uint8_t *buf, size_t len)
{
    for (;;) {
        ssize_t n = zsock_recv(fd, buf, len, 0);
        if (n >= 0) {
            return n;
        }
        if (errno != EINTR) {
            perror(errno == EAGAIN ? "ztls: zsock_recv (time limit)" : "ztls: zsock_recv");
            return -1;
        }
    }
}

/* Send the first `bytes` of the stream; their checksum into k. 0 or -1. */
static int send_stream(int fd, struct tool_stream *s, struct tool_checksum *k, uint64_t bytes)
{
    tool_checksum_init(k);
    for (uint64_t off = 0; off < bytes;) {
        size_t len;
        const uint8_t *p = tool_stream_at(s, off, bytes, &len);
        tool_checksum_update(k, p, len);
        if (send_all(fd, p, len) < 0) {
            return -1;
        }
        off += len;
    }
    return 0;
}

/* ---- client
 * ---------------------------------------------------------------------------------------- */

/* The HTTP response in buf (len bytes, NUL-terminated): status and body. */
static int check_http(const struct options *o, char *buf, size_t len, struct tool_stream *s,
                      struct tool_checksum *k)
{
    char *end = strstr(buf, "\r\n\r\n");
    int status = 0;
    if (end == NULL || sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        fprintf(stderr, "ztls: not an HTTP response (%zu bytes)\n", len);
        return -1;
    }
    const uint8_t *body = (const uint8_t *)end + 4;
    size_t body_len = len - (size_t)(end + 4 - buf);
    tool_checksum_init(k);
    tool_checksum_update(k, body, body_len);
    uint64_t got = tool_checksum_value(k);
    printf("ztls: http status %d, body %zu bytes checksum %016" PRIx64 "\n", status, body_len, got);
    if (status != 200) {
        fprintf(stderr, "ztls: http status %d\n", status);
        return -1;
    }
    if (o->bytes_given) {
        uint64_t want = stream_checksum(s, k, o->bytes);
        if (body_len != o->bytes || got != want) {
            fprintf(stderr,
                    "ztls: MISMATCH: body %zu bytes checksum %016" PRIx64 ", expected %" PRIu64
                    " bytes checksum %016" PRIx64 "\n",
                    body_len, got, o->bytes, want);
            return -1;
        }
        printf("ztls: body verified\n");
    }
    return 0;
}

/* Read to end of stream into a growing buffer (NUL-terminated). */
static char *recv_to_end(int fd, size_t *len)
{
    size_t cap = 1 << 16;
    char *buf = malloc(cap + 1);
    *len = 0;
    while (buf != NULL) {
        if (*len == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (bigger == NULL) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = recv_some(fd, (uint8_t *)buf + *len, cap - *len);
        if (n <= 0) {
            if (n == 0) {
                buf[*len] = '\0';
                return buf;
            }
            break;
        }
        *len += (size_t)n;
    }
    free(buf);
    return NULL;
}

/* --raw: send the stream and read whatever comes at the same time (poll on a
 * non-blocking socket, so an echoing peer never stalls us), shut down
 * writing after the last byte, read to end of stream. Prints both
 * directions' byte counts and checksums, and "ztls: echo verified" when what
 * came back is what was sent. 0, or -1 (printed). */
static int raw_exchange(const struct options *o, int fd, struct tool_stream *s,
                        struct tool_checksum *k, double end)
{
    struct tool_checksum *in = malloc(sizeof(*in));
    uint8_t *buf = malloc(CHUNK);
    if (in == NULL || buf == NULL) {
        fprintf(stderr, "ztls: out of memory\n");
        free(in);
        free(buf);
        return -1;
    }
    tool_checksum_init(k);
    tool_checksum_init(in);
    tool_set_nonblock(fd);
    double t0 = tool_now_s();
    uint64_t off = 0;
    bool shut = false, eof = false;
    int rc = 0;
    while (!eof && rc == 0) {
        if (off == o->bytes && !shut) {
            if (zsock_shutdown(fd, ZSOCK_SHUT_WR) < 0) {
                perror("ztls: zsock_shutdown");
                rc = -1;
                break;
            }
            shut = true;
        }
        struct zsock_pollfd p = {.fd = fd,
                                 .events = ZSOCK_POLLIN | (off < o->bytes ? ZSOCK_POLLOUT : 0)};
        int ms = tool_ms_left(end, 1000);
        if (ms == 0) {
            fprintf(stderr,
                    "ztls: time limit reached after sending %" PRIu64 " and receiving %" PRIu64
                    " bytes\n",
                    off, in->len);
            rc = -1;
            break;
        }
        int r = zsock_poll(&p, 1, ms);
        if (r < 0 && errno != EINTR) {
            perror("ztls: zsock_poll");
            rc = -1;
        }
        if (r <= 0) {
            continue;
        }
        if (off < o->bytes && (p.revents & ZSOCK_POLLOUT) &&
            tool_send_stream("ztls", fd, s, &off, o->bytes, k) < 0) {
            rc = -1;
        }
        if (p.revents & (ZSOCK_POLLIN | ZSOCK_POLLHUP | ZSOCK_POLLERR)) {
            ssize_t n = zsock_recv(fd, buf, CHUNK, ZSOCK_MSG_DONTWAIT);
            if (n > 0) {
                tool_checksum_update(in, buf, (size_t)n);
            } else if (n == 0) {
                eof = true;
            } else if (errno != EAGAIN && errno != EINTR) {
                perror("ztls: zsock_recv");
                rc = -1;
            }
        }
    }
    double dt = tool_now_s() - t0;
    if (rc == 0 && off < o->bytes) {
        fprintf(stderr, "ztls: end of stream after sending only %" PRIu64 " bytes\n", off);
        rc = -1;
    }
    printf("ztls: raw: sent %" PRIu64 " bytes checksum %016" PRIx64 ", received %" PRIu64
           " bytes checksum %016" PRIx64 "%s in %.2f s, %.1f MiB/s\n",
           off, tool_checksum_value(k), in->len, tool_checksum_value(in),
           eof ? " and end of stream" : "", dt, tool_mib_per_s(off, dt));
    if (rc == 0 && in->len == off && tool_checksum_value(in) == tool_checksum_value(k)) {
        printf("ztls: echo verified\n");
    }
    free(in);
    free(buf);
    return rc;
}

static int run_client(const struct options *o, const sec_tag_t *tags, int n_tags,
                      struct tool_stream *s, struct tool_checksum *k)
{
    struct sockaddr_in sin;
    if (!tool_sockaddr("ztls", o->host, o->port, &sin)) {
        return 1;
    }
    double t0 = tool_now_s(), end = t0 + o->time_limit;
    int fd = tls_socket(o, tags, n_tags, true);
    if (fd < 0) {
        return 1;
    }
    set_timeouts(fd, end);
    if (o->socks != NULL && tool_set_socks("ztls", fd, AF_INET, o->socks) < 0) {
        zsock_close(fd);
        return 1;
    }
    if (zsock_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        int err = errno;
        fprintf(stderr, "ztls: client: handshake with %s port %d failed: %s (errno %d)\n", o->host,
                o->port, strerror(err), err);
        print_verify_result(fd, "client", stderr);
        zsock_close(fd);
        return 1;
    }
    double t_conn = tool_now_s();
    print_session(fd, "client", (t_conn - t0) * 1000);
    const char *failure = NULL;
    if (o->get_path != NULL) {
        char req[1024];
        int n = snprintf(req, sizeof(req),
                         "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ztls\r\n"
                         "Connection: close\r\n\r\n",
                         o->get_path, o->hostname != NULL ? o->hostname : o->host);
        size_t len = 0;
        char *resp = NULL;
        if (n < 0 || (size_t)n >= sizeof(req) || send_all(fd, (const uint8_t *)req, (size_t)n)) {
            failure = "send request";
        } else if ((resp = recv_to_end(fd, &len)) == NULL) {
            failure = "receive response";
        } else if (check_http(o, resp, len, s, k) < 0) {
            failure = "response";
        }
        free(resp);
    } else if (o->raw) {
        if (raw_exchange(o, fd, s, k, end) < 0) {
            failure = "raw exchange";
        }
    } else {
        if (send_stream(fd, s, k, o->bytes) < 0) {
            failure = "send";
        } else if (zsock_shutdown(fd, ZSOCK_SHUT_WR) < 0) {
            perror("ztls: zsock_shutdown");
            failure = "shutdown";
        }
        uint64_t want = tool_checksum_value(k);
        double t_sent = tool_now_s();
        size_t got = 0;
        char *reply = failure == NULL ? recv_to_end(fd, &got) : NULL;
        if (failure == NULL && reply == NULL) {
            failure = "receive reply";
        }
        double dt = tool_now_s() - t_conn;
        if (failure == NULL) {
            char expect[REPLY_MAX];
            snprintf(expect, sizeof(expect), REPLY_FMT, o->bytes, want);
            if (strcmp(reply, expect) != 0) {
                fprintf(stderr,
                        "ztls: MISMATCH: sent %" PRIu64 " bytes checksum %016" PRIx64
                        ", server replied: %.200s\n",
                        o->bytes, want, reply);
                failure = "verification";
            }
        }
        free(reply);
        printf("ztls: client details: %" PRIu64 " bytes, seed %" PRIu64 ", handshake %.3f s, "
               "send %.2f s, until reply %.2f s, %.1f MiB/s\n",
               o->bytes, o->seed, t_conn - t0, t_sent - t_conn, dt, tool_mib_per_s(o->bytes, dt));
        if (failure == NULL) {
            printf("ztls: sent %" PRIu64 ", verified\n", o->bytes);
        }
    }
    zsock_close(fd);
    if (failure != NULL) {
        fprintf(stderr, "ztls: client failed: %s\n", failure);
        return 1;
    }
    return 0;
}

/* ---- servers
 * --------------------------------------------------------------------------------------- */

/* After the last write: wait up to 10 s until the peer has acknowledged
 * everything, so that closing and leaving lose nothing. */
static void drain_sent(int fd)
{
    tool_drain_sent(fd, tool_now_s() + 10);
}

/* server: read to end of stream, answer the checksum line. */
static int serve_stream(int fd, uint8_t *buf, struct tool_checksum *k, long no)
{
    tool_checksum_init(k);
    double t0 = tool_now_s();
    ssize_t n;
    while ((n = recv_some(fd, buf, CHUNK)) > 0) {
        tool_checksum_update(k, buf, (size_t)n);
    }
    double dt = tool_now_s() - t0;
    if (n < 0) {
        fprintf(stderr, "ztls: connection %ld failed after %" PRIu64 " bytes\n", no, k->len);
        return -1;
    }
    char line[REPLY_MAX];
    int len = snprintf(line, sizeof(line), REPLY_FMT, k->len, tool_checksum_value(k));
    if (send_all(fd, (const uint8_t *)line, (size_t)len) < 0) {
        return -1;
    }
    zsock_shutdown(fd, ZSOCK_SHUT_WR);
    drain_sent(fd);
    printf("ztls: connection %ld: received %" PRIu64 " bytes checksum %016" PRIx64
           " in %.2f s, %.1f MiB/s\n",
           no, k->len, tool_checksum_value(k), dt, tool_mib_per_s(k->len, dt));
    return 0;
}

/* echo: send everything back until end of stream. */
static int serve_echo(int fd, uint8_t *buf, long no)
{
    uint64_t total = 0;
    ssize_t n;
    while ((n = recv_some(fd, buf, CHUNK)) > 0) {
        if (send_all(fd, buf, (size_t)n) < 0) {
            return -1;
        }
        total += (uint64_t)n;
    }
    if (n < 0) {
        return -1;
    }
    zsock_shutdown(fd, ZSOCK_SHUT_WR);
    drain_sent(fd);
    printf("ztls: connection %ld: echoed %" PRIu64 " bytes\n", no, total);
    return 0;
}

/* http: answer requests until the peer ends the stream or asks to close. */
static int serve_http(const struct options *o, int fd, struct tool_stream *s, long no)
{
    char req[HTTP_HEAD + 1];
    size_t have = 0;
    for (;;) {
        char *end;
        req[have] = '\0';
        while ((end = strstr(req, "\r\n\r\n")) == NULL) {
            if (have == HTTP_HEAD) {
                fprintf(stderr, "ztls: connection %ld: request head too long\n", no);
                return -1;
            }
            ssize_t n = recv_some(fd, (uint8_t *)req + have, HTTP_HEAD - have);
            if (n <= 0) {
                return n == 0 && have == 0 ? 0 : -1;
            }
            have += (size_t)n;
            req[have] = '\0';
        }
        size_t head_len = (size_t)(end + 4 - req);
        char method[16] = "", path[256] = "", version[16] = "";
        sscanf(req, "%15s %255s %15s", method, path, version);
        /* Header names are case-insensitive; look at a lower-case copy. */
        char lower[HTTP_HEAD + 1];
        for (size_t i = 0; i < head_len; i++) {
            char c = req[i];
            lower[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        lower[head_len] = '\0';
        bool close_after =
            strcmp(version, "HTTP/1.1") != 0 || strstr(lower, "\r\nconnection: close") != NULL;
        bool get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
        char hdr[512];
        int hl;
        if (get || head) {
            hl = snprintf(hdr, sizeof(hdr),
                          "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                          "Content-Length: %" PRIu64 "\r\nServer: ztls\r\n%s\r\n",
                          o->bytes, close_after ? "Connection: close\r\n" : "");
        } else {
            hl = snprintf(hdr, sizeof(hdr),
                          "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n"
                          "Allow: GET, HEAD\r\nServer: ztls\r\nConnection: close\r\n\r\n");
            close_after = true;
        }
        if (send_all(fd, (const uint8_t *)hdr, (size_t)hl) < 0) {
            return -1;
        }
        if (get) {
            for (uint64_t off = 0; off < o->bytes;) {
                size_t len;
                const uint8_t *p = tool_stream_at(s, off, o->bytes, &len);
                if (send_all(fd, p, len) < 0) {
                    return -1;
                }
                off += len;
            }
        }
        printf("ztls: connection %ld: %s %s %s -> %s\n", no, method, path, version,
               get || head ? "200" : "405");
        if (close_after) {
            zsock_shutdown(fd, ZSOCK_SHUT_WR);
            drain_sent(fd);
            return 0;
        }
        memmove(req, req + head_len, have - head_len);
        have -= head_len;
    }
}

static int run_server(const struct options *o, const sec_tag_t *tags, int n_tags,
                      struct tool_stream *s, struct tool_checksum *k)
{
    uint8_t *buf = malloc(CHUNK);
    int lfd = buf != NULL ? tls_socket(o, tags, n_tags, false) : -1;
    if (lfd < 0) {
        free(buf);
        return 1;
    }
    int one = 1;
    zsock_setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sin;
    tool_sockaddr("ztls", NULL, o->port, &sin);
    if (zsock_bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || zsock_listen(lfd, 8) < 0) {
        perror("ztls: bind/listen");
        zsock_close(lfd);
        free(buf);
        return 1;
    }
    printf("ztls: %s server ready on port %d\n", o->mode, o->port);
    double end = tool_now_s() + o->time_limit;
    long served = 0, failed = 0;
    int rc = 0;
    while (served < o->count) {
        struct zsock_pollfd p = {.fd = lfd, .events = ZSOCK_POLLIN};
        int ms = tool_ms_left(end, 1000);
        if (ms == 0) {
            fprintf(stderr, "ztls: time limit reached waiting for connection %ld\n", served + 1);
            rc = 1;
            break;
        }
        int r = zsock_poll(&p, 1, ms);
        if (r < 0 && errno != EINTR) {
            perror("ztls: zsock_poll");
            rc = 1;
            break;
        }
        if (r <= 0) {
            continue;
        }
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        double t0 = tool_now_s();
        int fd = zsock_accept(lfd, (struct sockaddr *)&peer, &plen);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                continue;
            }
            /* A failed handshake ends that connection only. */
            int err = errno;
            served++;
            failed++;
            fprintf(stderr,
                    "ztls: server: connection %ld: accept/handshake failed: %s (errno %d)\n",
                    served, strerror(err), err);
            continue;
        }
        served++;
        char who[96];
        char addr[INET_ADDRSTRLEN] = "?";
        zsock_inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof(addr));
        snprintf(who, sizeof(who), "server: connection %ld from %s:%u", served, addr,
                 (unsigned)ntohs(peer.sin_port));
        print_session(fd, who, (tool_now_s() - t0) * 1000);
        set_timeouts(fd, end);
        int st;
        if (strcmp(o->mode, "echo") == 0) {
            st = serve_echo(fd, buf, served);
        } else if (strcmp(o->mode, "http") == 0) {
            st = serve_http(o, fd, s, served);
        } else {
            st = serve_stream(fd, buf, k, served);
        }
        failed += st < 0;
        zsock_close(fd);
    }
    zsock_close(lfd);
    free(buf);
    printf("ztls: server: %ld of %ld connections, %ld failed\n", served, o->count, failed);
    return rc == 0 && failed == 0 ? 0 : 1;
}

/* gen: the stream to stdout. */
static int run_gen(const struct options *o, struct tool_stream *s)
{
    for (uint64_t off = 0; off < o->bytes;) {
        size_t len;
        const uint8_t *p = tool_stream_at(s, off, o->bytes, &len);
        if (fwrite(p, 1, len, stdout) != len) {
            perror("ztls: gen: write");
            return 1;
        }
        off += len;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- command line
 * ---------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: ztls [options] client HOST PORT\n"
               "       ztls [options] server|echo|http PORT\n"
               "       ztls [options] gen\n"
               "  --ca FILE          trusted CA certificate, PEM or DER (repeatable)\n"
               "  --cert FILE        own certificate (server; client for mutual TLS)\n"
               "  --key FILE         its private key\n"
               "  --psk FILE         pre-shared key (raw bytes), with --psk-id\n"
               "  --psk-id FILE      pre-shared key identity\n"
               "  --hostname NAME    client: TLS_HOSTNAME (default: not set)\n"
               "  --socks HOST:PORT  client: connect through this SOCKS5 proxy (SO_SOCKS5)\n"
               "  --no-hostname      client: TLS_HOSTNAME NULL (no host name check)\n"
               "  --verify none|optional|required   TLS_PEER_VERIFY (default: the socket's:\n"
               "                     required for clients, none for servers)\n"
               "  --ciphers LIST     TLS_CIPHERSUITE_LIST, IANA ids: 0xC02F,0xC02B,...\n"
               "  --alpn LIST        TLS_ALPN_LIST: h2,http/1.1,...\n"
               "  --tls 1.0|1.1|1.2  protocol (default 1.2: IPPROTO_TLS_1_2)\n"
               "  --bytes N          client: bytes to send; http, gen: body bytes (default 1 MiB)\n"
               "  --seed X           stream content seed (default 1)\n"
               "  --get PATH         client: HTTP GET instead of the checked stream\n"
               "  --raw              client: send, shut down writing, read to end of stream\n"
               "  --count N          servers: connections to serve (default 1)\n"
               "  --time-limit SEC   end the run after this long (default 60)\n"
               "  --linger MS        stay on the network this long after the run (default 0)\n"
               "  --buffer BYTES     SO_RCVBUF and SO_SNDBUF (default 0: the stack's)\n");
    tool_net_usage(f);
}

/* --ca FILE: one more trusted CA. */
static bool parse_ca(char *arg, void *ctx)
{
    struct options *o = ctx;
    if (o->n_ca == MAX_CA) {
        return false;
    }
    o->ca[o->n_ca++] = arg;
    return true;
}

/* A word of an option and its value. */
struct word {
    const char *name;
    int value;
};

/* The value of `arg` among words (ending with a NULL name), or `bad`. */
static int word_value(const char *arg, const struct word *words, int bad)
{
    for (; words->name != NULL; words++) {
        if (strcmp(arg, words->name) == 0) {
            return words->value;
        }
    }
    return bad;
}

static bool parse_verify(char *arg, void *ctx)
{
    struct options *o = ctx;
    o->verify = tool_tls_verify_value(arg);
    return o->verify != -2;
}

/* A comma-separated list of IANA suite ids. */
static bool parse_ciphers(char *list, void *ctx)
{
    struct options *o = ctx;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        long v;
        if (o->n_ciphers == MAX_CIPHERS || !tool_parse_long(t, 1, 0xffff, &v)) {
            return false;
        }
        o->ciphers[o->n_ciphers++] = (int)v;
    }
    return o->n_ciphers > 0;
}

static bool parse_alpn(char *list, void *ctx)
{
    struct options *o = ctx;
    for (char *save = NULL, *t = strtok_r(list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (o->n_alpn == MAX_ALPN || strlen(t) > 255) {
            return false;
        }
        o->alpn[o->n_alpn++] = t;
    }
    o->alpn[o->n_alpn] = NULL;
    return o->n_alpn > 0;
}

static bool parse_tls(char *arg, void *ctx)
{
    static const struct word words[] = {{"1.0", IPPROTO_TLS_1_0},
                                        {"1.1", IPPROTO_TLS_1_1},
                                        {"1.2", IPPROTO_TLS_1_2},
                                        {"1.3", IPPROTO_TLS_1_3},
                                        {NULL, 0}};
    struct options *o = ctx;
    o->protocol = word_value(arg, words, -1);
    return o->protocol != -1;
}

static bool parse_get(char *arg, void *ctx)
{
    struct options *o = ctx;
    o->get_path = arg;
    return arg[0] == '/';
}

static int parse_args(int argc, char **argv, struct options *o)
{
    struct tool_opt_call ca = {parse_ca, o}, verify = {parse_verify, o},
                         ciphers = {parse_ciphers, o}, alpn = {parse_alpn, o}, tls = {parse_tls, o},
                         get = {parse_get, o};
    const struct tool_opt opts[] = {
        {"ca", TOOL_OPT_CALL, &ca, 0, 0, NULL},
        {"cert", TOOL_OPT_STRING, &o->cert, 0, 0, NULL},
        {"key", TOOL_OPT_STRING, &o->key, 0, 0, NULL},
        {"psk", TOOL_OPT_STRING, &o->psk, 0, 0, NULL},
        {"psk-id", TOOL_OPT_STRING, &o->psk_id, 0, 0, NULL},
        {"hostname", TOOL_OPT_STRING, &o->hostname, 0, 0, NULL},
        {"socks", TOOL_OPT_STRING, &o->socks, 0, 0, NULL},
        {"no-hostname", TOOL_OPT_FLAG, &o->no_hostname, 0, 0, NULL},
        {"verify", TOOL_OPT_CALL, &verify, 0, 0, NULL},
        {"ciphers", TOOL_OPT_CALL, &ciphers, 0, 0, NULL},
        {"alpn", TOOL_OPT_CALL, &alpn, 0, 0, NULL},
        {"tls", TOOL_OPT_CALL, &tls, 0, 0, NULL},
        {"bytes", TOOL_OPT_U64, &o->bytes, 0, 0, &o->bytes_given},
        {"seed", TOOL_OPT_U64, &o->seed, 0, 0, NULL},
        {"get", TOOL_OPT_CALL, &get, 0, 0, NULL},
        {"raw", TOOL_OPT_FLAG, &o->raw, 0, 0, NULL},
        {"count", TOOL_OPT_LONG, &o->count, 1, 1000000, NULL},
        {"time-limit", TOOL_OPT_SECONDS, &o->time_limit, 1, 86400, NULL},
        {"linger", TOOL_OPT_INT, &o->linger_ms, 0, 600000, NULL},
        {"buffer", TOOL_OPT_INT, &o->buf_bytes, 0, 64 << 20, NULL},
        {0},
    };
    int first = tool_parse_options("ztls", argc, argv, opts, &o->net, usage);
    if (first < 0) {
        return -1;
    }
    if ((o->cert == NULL) != (o->key == NULL) || (o->psk == NULL) != (o->psk_id == NULL)) {
        fprintf(stderr, "ztls: --cert needs --key, --psk needs --psk-id, and the other way\n");
        return -1;
    }
    if (o->get_path != NULL && o->raw) {
        fprintf(stderr, "ztls: --get and --raw exclude each other\n");
        return -1;
    }
    argc -= first;
    argv += first;
    if (argc == 1 && strcmp(argv[0], "gen") == 0) {
        o->mode = argv[0];
        return 0;
    }
    static const char *const port_modes[] = {"server", "echo", "http", NULL};
    static const char *const host_modes[] = {"client", NULL};
    return tool_parse_mode("ztls", argc, argv, port_modes, host_modes, &o->mode, &o->host,
                           &o->port);
}

int main(int argc, char **argv)
{
    struct options o = {
        .verify = -1,
        .protocol = IPPROTO_TLS_1_2,
        .bytes = 1 << 20,
        .seed = 1,
        .count = 1,
        .time_limit = 60,
    };
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    struct tool_stream *s = malloc(sizeof(*s));
    struct tool_checksum *k = malloc(sizeof(*k));
    if (s == NULL || k == NULL) {
        fprintf(stderr, "ztls: out of memory\n");
        free(s);
        free(k);
        return 1;
    }
    tool_stream_init(s, o.seed);
    int rc = 1;
    sec_tag_t tags[MAX_CA + 2];
    int n_tags = 0;
    if (strcmp(o.mode, "gen") == 0) {
        rc = run_gen(&o, s);
    } else if (tool_start("ztls", &o.net) < 0 ||
               (n_tags = tool_tls_load_credentials("ztls", o.cert, o.key, o.psk, o.psk_id, o.ca,
                                                   o.n_ca, tags)) < 0) {
        rc = 1;
    } else {
        rc = strcmp(o.mode, "client") == 0 ? run_client(&o, tags, n_tags, s, k)
                                           : run_server(&o, tags, n_tags, s, k);
        tool_linger("ztls", o.linger_ms);
    }
    free(s);
    free(k);
    return rc;
}
