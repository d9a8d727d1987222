/* zhttpd: a small HTTP/1.1 static file server on zsock's public API only,
 * for the interoperability tests (curl against zsock over TAP).
 *
 * One thread, one zsock_poll() loop over the listener and every connection,
 * all of them non-blocking. It answers GET and HEAD for the regular files
 * under one directory (Content-Length, keep-alive, pipelined requests), and
 *   400 for a malformed request, a target that is not an absolute path, a
 *       path with a ".." segment (also percent-encoded), a NUL or a
 *       backslash, or an HTTP/1.1 request without Host;
 *   404 for anything that is not a regular file there ("/" is index.html);
 *   405 for the methods HTTP defines that a static server does not allow;
 *   501 for any other method; 505 for a version other than HTTP/1.x.
 * Error responses other than 404 close the connection (a body the client
 * may have sent is never read). Files are opened relative to the directory
 * without following a symbolic link in the last component.
 *
 * Every request is logged as one line:
 *   zhttpd: conn ID ADDR:PORT req K "METHOD TARGET VERSION" STATUS BYTES
 * (K counts the requests of that connection from 1; BYTES is the body),
 * and at the end a summary with the peak number of open connections and
 * the stack's TCP counters. SIGINT/SIGTERM end the run cleanly. */
#include "tool_util.h"
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX   8192  /* bytes of a request head (request line and headers) */
#define OUT_CHUNK 65536 /* bytes of a file read and sent at a time */
#define HEAD_MAX  512   /* bytes of a response head */
#define PATH_MAX_ 1024  /* bytes of a decoded path */

struct options {
    const char *dir;
    int port;
    int backlog;
    int max_conns;
    double time_limit;   /* seconds for the whole run, 0: none */
    double idle_timeout; /* seconds a connection may stay silent */
    long max_requests;   /* end the run after this many, 0: no limit */
    bool quiet;          /* no line per request */
    struct tool_net net;
};

struct conn {
    int fd;
    long id;
    char who[INET_ADDRSTRLEN + 8];
    char in[REQ_MAX];
    size_t in_len;
    long requests;
    /* The response being sent: the head and then `body_left` bytes of `file`
     * from `file_off`, through `out`. */
    char *out;
    size_t out_len, out_off;
    int file;
    off_t file_off;
    uint64_t body_left;
    bool close_after; /* close once the response is out */
    bool peer_eof;
    bool shut; /* our FIN is queued: read and discard until the peer's */
    double shut_at;
    double last_active;
};

struct counters {
    uint64_t requests, bytes_out;
    uint64_t status[6]; /* by hundreds: 2xx .. 5xx */
    long conns, peak;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- requests
 * -------------------------------------------------------------------------------------- */

struct request {
    char method[16];
    char target[REQ_MAX];
    char version[16];
    bool has_host;
    bool keep_alive;
    bool has_body; /* Content-Length above 0 or a Transfer-Encoding */
};

/* Case-insensitive "does line start with name:" and, if so, its value. */
static const char *header_value(const char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':') {
        return NULL;
    }
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t') {
        v++;
    }
    return v;
}

/* Whether the comma-separated header value holds `token` (any case). */
static bool has_token(const char *value, const char *token)
{
    size_t n = strlen(token);
    const char *p = value;
    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            p++;
        }
        const char *start = p;
        while (*p != '\0' && *p != ',') {
            p++;
        }
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }
        if ((size_t)(end - start) == n && strncasecmp(start, token, n) == 0) {
            return true;
        }
    }
    return false;
}

/* Parse the NUL-terminated head `text` (lines ending in CRLF or LF). 0, or
 * the status of the error to answer (400, 505). */
static int parse_request(char *text, struct request *r)
{
    memset(r, 0, sizeof(*r));
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    if (line == NULL) {
        return 400;
    }
    size_t ll = strlen(line);
    if (ll > 0 && line[ll - 1] == '\r') {
        line[--ll] = '\0';
    }
    /* METHOD SP TARGET SP VERSION, single spaces, nothing else. */
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
    if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL || sp1 == line ||
        sp2 == sp1 + 1 || sp2[1] == '\0') {
        return 400;
    }
    size_t ml = (size_t)(sp1 - line), tl = (size_t)(sp2 - sp1 - 1), vl = strlen(sp2 + 1);
    if (ml >= sizeof(r->method) || vl >= sizeof(r->version)) {
        return 400;
    }
    for (size_t i = 0; i < ml; i++) {
        if (!isupper((unsigned char)line[i]) && line[i] != '-' && line[i] != '_') {
            return 400;
        }
    }
    memcpy(r->method, line, ml);
    memcpy(r->target, sp1 + 1, tl);
    memcpy(r->version, sp2 + 1, vl);
    if (strncmp(r->version, "HTTP/", 5) != 0 || !isdigit((unsigned char)r->version[5]) ||
        r->version[6] != '.' || !isdigit((unsigned char)r->version[7]) || r->version[8] != '\0') {
        return 400;
    }
    if (r->version[5] != '1') {
        return 505;
    }
    bool http11 = r->version[7] != '0';
    r->keep_alive = http11;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        ll = strlen(line);
        if (ll > 0 && line[ll - 1] == '\r') {
            line[--ll] = '\0';
        }
        if (ll == 0) {
            break;
        }
        if (line[0] == ' ' || line[0] == '\t' || strchr(line, ':') == NULL) {
            return 400; /* obsolete line folding, or no field name */
        }
        const char *v;
        if ((v = header_value(line, "Host")) != NULL) {
            if (r->has_host) {
                return 400;
            }
            r->has_host = true;
        } else if ((v = header_value(line, "Connection")) != NULL) {
            if (has_token(v, "close")) {
                r->keep_alive = false;
            } else if (has_token(v, "keep-alive")) {
                r->keep_alive = true;
            }
        } else if ((v = header_value(line, "Content-Length")) != NULL) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 10);
            if (errno != 0 || end == v || *end != '\0' || *v == '-') {
                return 400;
            }
            r->has_body |= n > 0;
        } else if (header_value(line, "Transfer-Encoding") != NULL) {
            r->has_body = true;
        }
    }
    if (http11 && !r->has_host) {
        return 400;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Turn the request target into a path relative to the served directory:
 * the query is dropped, %XX decoded, "/" becomes index.html. 0, or 400 for
 * a target that is not an absolute path or would leave the directory. */
static int target_to_path(const char *target, char *out, size_t cap)
{
    if (target[0] != '/') {
        return 400;
    }
    size_t n = 0;
    for (const char *p = target + 1; *p != '\0' && *p != '?' && *p != '#'; p++) {
        char c = *p;
        if (c == '%') {
            int hi = hexval(p[1]), lo = hi >= 0 ? hexval(p[2]) : -1;
            if (lo < 0) {
                return 400;
            }
            c = (char)(hi * 16 + lo);
            p += 2;
        }
        if (c == '\0' || c == '\\' || n + 1 >= cap) {
            return 400;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    /* No "." or ".." segment, no empty segment: one canonical name per file. */
    for (char *seg = out; *seg != '\0';) {
        char *slash = strchr(seg, '/');
        size_t sl = slash != NULL ? (size_t)(slash - seg) : strlen(seg);
        if (sl == 0 || (sl == 1 && seg[0] == '.') || (sl == 2 && seg[0] == '.' && seg[1] == '.')) {
            return 400;
        }
        if (slash == NULL) {
            break;
        }
        seg = slash + 1;
        if (*seg == '\0') {
            return 400; /* a trailing slash names a directory */
        }
    }
    if (n == 0) {
        snprintf(out, cap, "index.html");
    }
    return 0;
}

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 501:
        return "Not Implemented";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL) {
        return "application/octet-stream";
    }
    if (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0) {
        return "text/html; charset=utf-8";
    }
    if (strcmp(dot, ".txt") == 0) {
        return "text/plain; charset=utf-8";
    }
    if (strcmp(dot, ".json") == 0) {
        return "application/json";
    }
    return "application/octet-stream";
}

/* ---- connections
 * ----------------------------------------------------------------------------------- */

static void conn_free(struct conn *c, struct counters *k)
{
    if (c->file >= 0) {
        close(c->file);
    }
    zsock_close(c->fd);
    free(c->out);
    free(c);
    k->conns--;
}

/* Queue the response head; the body (if any) follows from c->file. */
static void queue_head(struct conn *c, int status, uint64_t length, const char *type, bool closing)
{
    char date[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(c->out, OUT_CHUNK,
                     "HTTP/1.1 %d %s\r\nServer: zhttpd (zsock)\r\nDate: %s\r\n"
                     "Content-Type: %s\r\nContent-Length: %" PRIu64 "\r\n%s%s\r\n",
                     status, reason(status), date, type, length,
                     status == 405 ? "Allow: GET, HEAD\r\n" : "",
                     closing ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->close_after = closing;
}

/* Answer one parsed request (or a parse error `status`). */
static void respond(const struct options *o, struct conn *c, struct counters *k, int status,
                    struct request *r, int dirfd)
{
    char path[PATH_MAX_];
    bool head = false;
    uint64_t size = 0;
    const char *type = "text/plain; charset=utf-8";
    if (status == 0) {
        head = strcmp(r->method, "HEAD") == 0;
        if (!head && strcmp(r->method, "GET") != 0) {
            static const char *const defined[] = {"POST",    "PUT",   "DELETE", "PATCH",
                                                  "OPTIONS", "TRACE", "CONNECT"};
            status = 501;
            for (size_t i = 0; i < sizeof(defined) / sizeof(defined[0]); i++) {
                if (strcmp(r->method, defined[i]) == 0) {
                    status = 405;
                }
            }
        } else if ((status = target_to_path(r->target, path, sizeof(path))) == 0) {
            struct stat st;
            int fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
                status = 200;
                size = (uint64_t)st.st_size;
                type = content_type(path);
                c->file = head ? -1 : fd;
                if (head) {
                    close(fd);
                }
                c->file_off = 0;
                c->body_left = head ? 0 : size;
            } else {
                if (fd >= 0) {
                    close(fd);
                }
                status = 404;
            }
        }
    }
    /* Errors carry a one-line body; only 404 keeps the connection. */
    char body[128] = "";
    if (status != 200) {
        snprintf(body, sizeof(body), "%d %s\n", status, reason(status));
        size = strlen(body);
    }
    bool closing = (status != 200 && status != 404) || !r->keep_alive ||
                   (r->has_body && status != 200) || stop_requested;
    queue_head(c, status, size, type, closing);
    if (status != 200 && !head) {
        memcpy(c->out + c->out_len, body, size);
        c->out_len += size;
    }
    c->requests++;
    k->requests++;
    k->status[status / 100]++;
    k->bytes_out += head ? 0 : size;
    if (!o->quiet) {
        printf("zhttpd: conn %ld %s req %ld \"%s %s %s\" %d %" PRIu64 "\n", c->id, c->who,
               c->requests, status == 400 && r->method[0] == '\0' ? "-" : r->method,
               r->target[0] != '\0' ? r->target : "-", r->version[0] != '\0' ? r->version : "-",
               status, head ? 0 : size);
    }
}

/* If a whole request head is buffered, answer it. Returns true when one
 * was taken from the buffer. */
static bool take_request(const struct options *o, struct conn *c, struct counters *k, int dirfd)
{
    if (c->out_off < c->out_len || c->body_left > 0 || c->close_after) {
        return false; /* one response at a time; pipelined requests wait */
    }
    char *end = NULL;
    size_t used = 0;
    for (size_t i = 0; i + 1 < c->in_len; i++) {
        if (c->in[i] == '\n' && c->in[i + 1] == '\n') {
            end = c->in + i;
            used = i + 2;
            break;
        }
        if (i + 3 < c->in_len && memcmp(c->in + i, "\r\n\r\n", 4) == 0) {
            end = c->in + i;
            used = i + 4;
            break;
        }
    }
    struct request r;
    if (end == NULL) {
        if (c->in_len < REQ_MAX && !c->peer_eof) {
            return false;
        }
        if (c->in_len == 0) {
            return false; /* a clean end between requests */
        }
        memset(&r, 0, sizeof(r));
        respond(o, c, k, 400, &r, dirfd); /* too long, or cut short */
        c->in_len = 0;
        return true;
    }
    char head[REQ_MAX + 1];
    memcpy(head, c->in, (size_t)(end - c->in));
    head[end - c->in] = '\0';
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    int status = parse_request(head, &r);
    respond(o, c, k, status, &r, dirfd);
    return true;
}

/* Move response bytes to the socket until it would block. -1: drop the
 * connection. */
static int send_some(struct conn *c)
{
    for (;;) {
        if (c->out_off == c->out_len) {
            if (c->body_left == 0) {
                if (c->file >= 0) {
                    close(c->file);
                    c->file = -1;
                }
                return 0;
            }
            size_t want = c->body_left < OUT_CHUNK ? (size_t)c->body_left : OUT_CHUNK;
            ssize_t n = pread(c->file, c->out, want, c->file_off);
            if (n <= 0) {
                fprintf(stderr, "zhttpd: conn %ld: reading the file: %s\n", c->id,
                        n < 0 ? strerror(errno) : "it shrank");
                return -1;
            }
            c->file_off += n;
            c->body_left -= (uint64_t)n;
            c->out_len = (size_t)n;
            c->out_off = 0;
        }
        ssize_t n =
            zsock_send(c->fd, c->out + c->out_off, c->out_len - c->out_off, ZSOCK_MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return 0;
            }
            return -1; /* reset by the peer, typically */
        }
        c->out_off += (size_t)n;
    }
}

/* Read what the socket has. -1: drop the connection. */
static int recv_some(struct conn *c)
{
    while (c->in_len < REQ_MAX && !c->peer_eof) {
        ssize_t n = zsock_recv(c->fd, c->in + c->in_len, REQ_MAX - c->in_len, ZSOCK_MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                return 0;
            }
            return -1;
        }
        if (n == 0) {
            c->peer_eof = true;
        }
        c->in_len += (size_t)n;
    }
    return 0;
}

/* After our FIN: discard what the peer still sends, so that closing with
 * unread data does not reset the connection under the response. true when
 * the connection can go (the peer's FIN, an error, or 2 s). */
static bool linger_done(struct conn *c, double t)
{
    for (;;) {
        ssize_t n = zsock_recv(c->fd, c->in, REQ_MAX, ZSOCK_MSG_DONTWAIT);
        if (n <= 0) {
            bool again = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
            return !again || t - c->shut_at > 2.0;
        }
    }
}

/* ---- the loop
 * -------------------------------------------------------------------------------------- */

static void accept_all(int lfd, struct conn **conns, int max, long *next_id, struct counters *k)
{
    while (k->conns < max) {
        struct sockaddr_in peer;
        int fd = tool_accept("zhttpd", lfd, &peer);
        if (fd < 0) {
            return;
        }
        struct conn *c = calloc(1, sizeof(*c));
        char *out = malloc(OUT_CHUNK);
        if (c == NULL || out == NULL) {
            fprintf(stderr, "zhttpd: out of memory\n");
            free(c);
            free(out);
            zsock_close(fd);
            return;
        }
        c->fd = fd;
        c->file = -1;
        c->out = out;
        c->id = ++*next_id;
        c->last_active = tool_now_s();
        char a[INET_ADDRSTRLEN] = "?";
        zsock_inet_ntop(AF_INET, &peer.sin_addr, a, sizeof(a));
        snprintf(c->who, sizeof(c->who), "%s:%u", a, (unsigned)ntohs(peer.sin_port));
        for (int i = 0; i < max; i++) {
            if (conns[i] == NULL) {
                conns[i] = c;
                break;
            }
        }
        if (++k->conns > k->peak) {
            k->peak = k->conns;
        }
    }
}

/* Serve until a signal, the time limit or the request limit. 0 or 1. */
static int serve(const struct options *o, int lfd, int dirfd, struct counters *k)
{
    struct conn **conns = calloc((size_t)o->max_conns, sizeof(*conns));
    struct zsock_pollfd *pfd = calloc((size_t)o->max_conns + 1, sizeof(*pfd));
    int *slot = calloc((size_t)o->max_conns + 1, sizeof(*slot));
    if (conns == NULL || pfd == NULL || slot == NULL) {
        fprintf(stderr, "zhttpd: out of memory\n");
        free(conns);
        free(pfd);
        free(slot);
        return 1;
    }
    double end = o->time_limit > 0 ? tool_now_s() + o->time_limit : 0;
    long next_id = 0;
    int rc = 0;
    while (!stop_requested) {
        double t = tool_now_s();
        if (end > 0 && t >= end) {
            printf("zhttpd: time limit reached\n");
            break;
        }
        if (o->max_requests > 0 && (long)k->requests >= o->max_requests && k->conns == 0) {
            break;
        }
        int n = 0;
        if (k->conns < o->max_conns) {
            pfd[n] = (struct zsock_pollfd){.fd = lfd, .events = ZSOCK_POLLIN};
            slot[n++] = -1;
        }
        for (int i = 0; i < o->max_conns; i++) {
            struct conn *c = conns[i];
            if (c == NULL) {
                continue;
            }
            bool sending = c->out_off < c->out_len || c->body_left > 0;
            short ev = sending ? ZSOCK_POLLOUT : 0;
            if (c->shut || (!sending && !c->peer_eof && c->in_len < REQ_MAX)) {
                ev |= ZSOCK_POLLIN;
            }
            pfd[n] = (struct zsock_pollfd){.fd = c->fd, .events = ev};
            slot[n++] = i;
        }
        int r = zsock_poll(pfd, (nfds_t)n, 250);
        if (r < 0 && errno != EINTR) {
            perror("zhttpd: zsock_poll");
            rc = 1;
            break;
        }
        t = tool_now_s();
        for (int j = 0; j < n; j++) {
            if (r <= 0) {
                pfd[j].revents = 0; /* no events: only the timeouts below */
            }
            if (slot[j] < 0) {
                if (pfd[j].revents & ZSOCK_POLLIN) {
                    accept_all(lfd, conns, o->max_conns, &next_id, k);
                }
                continue;
            }
            struct conn *c = conns[slot[j]];
            bool drop = false;
            if (pfd[j].revents != 0) {
                c->last_active = t;
            }
            if (c->shut) {
                if (linger_done(c, t)) {
                    conns[slot[j]] = NULL;
                    conn_free(c, k);
                }
                continue;
            }
            if (pfd[j].revents & (ZSOCK_POLLIN | ZSOCK_POLLHUP | ZSOCK_POLLERR)) {
                drop = recv_some(c) < 0;
            }
            /* Answer, send, and answer the next pipelined request while the
             * socket takes the bytes. */
            while (!drop && take_request(o, c, k, dirfd)) {
                drop = send_some(c) < 0;
            }
            if (!drop && (pfd[j].revents & ZSOCK_POLLOUT)) {
                drop = send_some(c) < 0;
                while (!drop && take_request(o, c, k, dirfd)) {
                    drop = send_some(c) < 0;
                }
            }
            bool idle = c->out_off == c->out_len && c->body_left == 0;
            if (!drop && idle && (c->close_after || (c->peer_eof && c->in_len == 0))) {
                /* Done: our FIN goes after the last byte. */
                zsock_shutdown(c->fd, ZSOCK_SHUT_WR);
                c->shut = true;
                c->shut_at = t;
                if (c->peer_eof) {
                    drop = true;
                }
            }
            if (!drop && t - c->last_active > o->idle_timeout) {
                printf("zhttpd: conn %ld %s idle for %.0f s, closed\n", c->id, c->who,
                       o->idle_timeout);
                drop = true;
            }
            if (drop) {
                conns[slot[j]] = NULL;
                conn_free(c, k);
            }
        }
    }
    for (int i = 0; i < o->max_conns; i++) {
        if (conns[i] != NULL) {
            conn_free(conns[i], k);
        }
    }
    free(conns);
    free(pfd);
    free(slot);
    return rc;
}

static void print_stats(const struct counters *k)
{
    printf("zhttpd: %" PRIu64 " requests (2xx %" PRIu64 ", 4xx %" PRIu64 ", 5xx %" PRIu64
           "), %" PRIu64 " body bytes, %ld connections at most at once\n",
           k->requests, k->status[2], k->status[4], k->status[5], k->bytes_out, k->peak);
    struct zsock_net_stats s;
    if (zsock_net_stats(&s) == 0) {
        tool_print_tcp_stats("zhttpd", &s, false);
    }
}

/* ---- command line
 * ---------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f, "usage: zhttpd [options] DIR\n"
               "  --port N           TCP port (default 8080)\n"
               "  --backlog N        listen() backlog (default 128)\n"
               "  --max-conns N      connections served at once (default 1000, at most 4000)\n"
               "  --time-limit SEC   end the run after this long (default: none)\n"
               "  --idle-timeout SEC close a connection silent this long (default 60)\n"
               "  --max-requests N   end once N requests are answered and connections closed\n"
               "  --quiet            no line per request\n");
    tool_net_usage(f);
}

static int parse_args(int argc, char **argv, struct options *o)
{
    const struct tool_opt opts[] = {
        {"port", TOOL_OPT_INT, &o->port, 1, 65535, NULL},
        {"backlog", TOOL_OPT_INT, &o->backlog, 1, 65535, NULL},
        /* zsock_poll takes CONFIG_ZVFS_POLL_MAX entries, the listener too. */
        {"max-conns", TOOL_OPT_INT, &o->max_conns, 1, 4000, NULL},
        {"time-limit", TOOL_OPT_SECONDS, &o->time_limit, 1, 86400, NULL},
        {"idle-timeout", TOOL_OPT_SECONDS, &o->idle_timeout, 1, 86400, NULL},
        {"max-requests", TOOL_OPT_LONG, &o->max_requests, 1, 1000000000, NULL},
        {"quiet", TOOL_OPT_FLAG, &o->quiet, 0, 0, NULL},
        {0},
    };
    int first = tool_parse_options("zhttpd", argc, argv, opts, &o->net, usage);
    if (first < 0 || argc - first != 1) {
        return -1;
    }
    o->dir = argv[first];
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {
        .port = 8080,
        .backlog = 128,
        .max_conns = 1000,
        .idle_timeout = 60,
    };
    if (parse_args(argc, argv, &o) < 0) {
        usage(stderr);
        return 2;
    }
    int dirfd = open(o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        fprintf(stderr, "zhttpd: %s: %s\n", o.dir, strerror(errno));
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int lfd = tool_start("zhttpd", &o.net) < 0 ? -1 : tool_listener("zhttpd", o.port, o.backlog, 0);
    if (lfd < 0) {
        close(dirfd);
        return 1;
    }
    tool_set_nonblock(lfd);
    printf("zhttpd: serving %s on port %d\n", o.dir, o.port);
    struct counters k = {0};
    int rc = serve(&o, lfd, dirfd, &k);
    zsock_close(lfd);
    close(dirfd);
    print_stats(&k);
    return rc;
}
