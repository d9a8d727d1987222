/* http_server: a small HTTP/1.1 file server.
 *
 *   http_server [-p PORT] [--poll] [--tls] [-6] [-n COUNT] [--pki DIR] ROOT
 *
 * Serves the regular files under ROOT to GET and HEAD (/ is /index.html),
 * with keep-alive, Content-Length and a Content-Type from the extension.
 * One thread per connection by default; --poll serves every connection from
 * one thread with zsock_poll() and non-blocking sockets. --tls serves HTTPS
 * with the test PKI's server certificate (names server.test and localhost),
 * -6 listens on IPv6. -n COUNT exits after COUNT connections (0: never).
 *
 *   ZSOCK_TAP=tap0 ZSOCK_IPV4=192.0.2.2/24 http_server --tls -p 8443 /srv/www
 *   curl --cacert tests/tls/pki/ca.crt --resolve server.test:8443:192.0.2.2 \
 *        https://server.test:8443/ */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zsock/socket.h>

#include "sample_common.h"
#include "sample_util.h"

static struct {
    bool ipv6, tls, poll;
    int port;
    long count;
    const char *root, *pki;
} opt = {.port = 8080, .pki = SAMPLE_PKI_DIR};

#define REQ_MAX 8192 /* longest request head we take */

/* What to send for one request: the head, then `remaining` bytes of `file`. */
struct response {
    char head[512];
    size_t head_len, head_off;
    int file;        /* -1: no body from a file */
    off_t remaining; /* body bytes still to send */
    bool close;      /* close the connection after this response */
    int status;
};

/* ---- HTTP, the same for both modes -------------------------------------------------------- */

static const char *content_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html"},        {".txt", "text/plain"},    {".css", "text/css"},
        {".js", "text/javascript"},    {".png", "image/png"},     {".jpg", "image/jpeg"},
        {".json", "application/json"}, {".svg", "image/svg+xml"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i][0]) == 0) {
            return types[i][1];
        }
    }
    return "application/octet-stream";
}

/* Decode %XX in place; false for a bad escape or a NUL. */
static bool percent_decode(char *s)
{
    char *out = s;
    for (; *s != '\0'; s++) {
        if (*s == '%') {
            unsigned v;
            if (sscanf(s + 1, "%2x", &v) != 1 || v == 0 || s[1] == '\0' || s[2] == '\0') {
                return false;
            }
            *out++ = (char)v;
            s += 2;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
    return true;
}

/* A path that stays inside ROOT: absolute, no ".." segment. */
static bool safe_path(const char *p)
{
    if (p[0] != '/') {
        return false;
    }
    for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2) {
        if (s[-1] == '/' && (s[2] == '/' || s[2] == '\0')) {
            return false;
        }
    }
    return true;
}

static void set_head(struct response *r, int status, const char *reason, const char *type,
                     off_t length)
{
    r->head_len = (size_t)snprintf(r->head, sizeof(r->head),
                                   "HTTP/1.1 %d %s\r\nServer: zsock http_server\r\n"
                                   "Content-Type: %s\r\nContent-Length: %lld\r\n%s\r\n",
                                   status, reason, type, (long long)length,
                                   r->close ? "Connection: close\r\n" : "");
    r->head_off = 0;
    r->status = status;
}

/* A response with a short text body and no file (errors): the body goes in
 * the head buffer. */
static void error_response(struct response *r, int status, const char *reason)
{
    char body[64];
    int blen = snprintf(body, sizeof(body), "%d %s\n", status, reason);
    set_head(r, status, reason, "text/plain", blen);
    if (r->head_len + (size_t)blen < sizeof(r->head)) {
        memcpy(r->head + r->head_len, body, (size_t)blen);
        r->head_len += (size_t)blen;
    }
}

/* Turn the request head in `req` (NUL-terminated) into a response. */
static void handle_request(char *req, struct response *r)
{
    char method[16], target[1024], version[16];
    *r = (struct response){.file = -1};
    if (sscanf(req, "%15s %1023s %15s", method, target, version) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0) {
        r->close = true;
        error_response(r, 400, "Bad Request");
        return;
    }
    /* HTTP/1.1 keeps the connection unless told to close; 1.0 closes. */
    r->close = strcmp(version, "HTTP/1.0") == 0 || strstr(req, "\nConnection: close") != NULL ||
               strstr(req, "\nconnection: close") != NULL;
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        bool known = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                     strcmp(method, "DELETE") == 0;
        error_response(r, known ? 405 : 501, known ? "Method Not Allowed" : "Not Implemented");
        return;
    }
    char *query = strchr(target, '?');
    if (query != NULL) {
        *query = '\0';
    }
    if (!percent_decode(target) || !safe_path(target)) {
        error_response(r, 400, "Bad Request");
        return;
    }
    char path[2048];
    snprintf(path, sizeof(path), "%s%s%s", opt.root, target,
             target[strlen(target) - 1] == '/' ? "index.html" : "");
    /* Regular files only; O_NOFOLLOW refuses a link as the last component. */
    int file = open(path, O_RDONLY | O_NOFOLLOW);
    struct stat st;
    if (file < 0 || fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (file >= 0) {
            close(file);
        }
        error_response(r, 404, "Not Found");
        return;
    }
    set_head(r, 200, "OK", content_type(path), st.st_size);
    if (head) {
        close(file);
    } else {
        r->file = file;
        r->remaining = st.st_size;
    }
}

/* Send what `r` still has to send on fd, up to what the socket takes now
 * (all of it on a blocking socket). 1 when done, 0 when the socket is full
 * (non-blocking), -1 on an error. */
static int send_response(int fd, struct response *r)
{
    char buf[16384];
    while (r->head_off < r->head_len) {
        ssize_t n = zsock_send(fd, r->head + r->head_off, r->head_len - r->head_off, 0);
        if (n < 0) {
            return errno == EAGAIN ? 0 : -1;
        }
        r->head_off += (size_t)n;
    }
    while (r->remaining > 0) {
        /* Read at the file's current position: a short send rewinds it. */
        size_t want = r->remaining < (off_t)sizeof(buf) ? (size_t)r->remaining : sizeof(buf);
        ssize_t got = read(r->file, buf, want);
        if (got <= 0) {
            return -1; /* the file shrank: the promised length cannot be kept */
        }
        ssize_t n = zsock_send(fd, buf, (size_t)got, 0);
        if (n < 0 && errno != EAGAIN) {
            return -1;
        }
        n = n < 0 ? 0 : n;
        lseek(r->file, n - got, SEEK_CUR);
        r->remaining -= n;
        if (n < got) {
            return 0;
        }
    }
    if (r->file >= 0) {
        close(r->file);
        r->file = -1;
    }
    return 1;
}

/* The length of the request head at the start of buf[0..len) (up to and
 * including the blank line), or 0 when it is not complete yet. */
static size_t head_length(const char *buf, size_t len)
{
    for (size_t i = 3; i < len; i++) {
        if (memcmp(buf + i - 3, "\r\n\r\n", 4) == 0) {
            return i + 1;
        }
    }
    return 0;
}

/* ---- thread per connection ---------------------------------------------------------------- */

static void *serve_connection(void *arg)
{
    int fd = (int)(intptr_t)arg;
    char req[REQ_MAX + 1];
    size_t len = 0;
    for (;;) {
        size_t hl;
        while ((hl = head_length(req, len)) == 0) {
            if (len == REQ_MAX) {
                goto out; /* too long: not worth an answer */
            }
            ssize_t n = zsock_recv(fd, req + len, REQ_MAX - len, 0);
            if (n <= 0) {
                goto out; /* end of stream or error */
            }
            len += (size_t)n;
        }
        char saved = req[hl];
        req[hl] = '\0';
        struct response r;
        handle_request(req, &r);
        req[hl] = saved;
        printf("http_server: %.*s -> %d\n", (int)strcspn(req, "\r"), req, r.status);
        int rc = send_response(fd, &r);
        if (r.file >= 0) {
            close(r.file);
        }
        if (rc != 1 || r.close) {
            break;
        }
        /* Pipelined requests: keep what followed this one. */
        memmove(req, req + hl, len - hl);
        len -= hl;
    }
out:
    /* The response may still be on its way: this process's stack carries it. */
    sample_drain(fd, 10000);
    zsock_close(fd);
    return NULL;
}

static int serve_threads(int lfd)
{
    pthread_t threads[256];
    int nthreads = 0;
    for (long served = 0; opt.count == 0 || served < opt.count; served++) {
        int fd = zsock_accept(lfd, NULL, NULL);
        if (fd < 0) {
            perror("accept"); /* e.g. a failed TLS handshake: next one */
            continue;
        }
        pthread_t t;
        if (pthread_create(&t, NULL, serve_connection, (void *)(intptr_t)fd) != 0) {
            zsock_close(fd);
        } else if (opt.count > 0 && nthreads < 256) {
            threads[nthreads++] = t;
        } else {
            pthread_detach(t);
        }
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(threads[i], NULL);
    }
    return 0;
}

/* ---- one thread, poll() ------------------------------------------------------------------- */

#define MAX_CONNS 64

struct conn {
    int fd;
    char req[REQ_MAX + 1];
    size_t len;
    bool sending; /* a response is under way in `r` */
    struct response r;
    int drain_ms; /* > 0: finished, closed once its bytes are acknowledged */
};

/* Move a connection on as far as it can go without blocking. False when
 * it is finished (closed by the peer, an error, or Connection: close). */
static bool step(struct conn *c)
{
    for (;;) {
        if (c->sending) {
            int rc = send_response(c->fd, &c->r);
            if (rc <= 0) {
                return rc == 0; /* full: wait for POLLOUT */
            }
            c->sending = false;
            if (c->r.close) {
                return false;
            }
        }
        size_t hl = head_length(c->req, c->len);
        if (hl == 0) {
            if (c->len == REQ_MAX) {
                return false;
            }
            ssize_t n = zsock_recv(c->fd, c->req + c->len, REQ_MAX - c->len, 0);
            if (n < 0 && errno == EAGAIN) {
                return true; /* wait for POLLIN (or a TLS handshake) */
            }
            if (n <= 0) {
                return false;
            }
            c->len += (size_t)n;
            continue;
        }
        char saved = c->req[hl];
        c->req[hl] = '\0';
        handle_request(c->req, &c->r);
        c->req[hl] = saved;
        printf("http_server: %.*s -> %d (poll)\n", (int)strcspn(c->req, "\r"), c->req, c->r.status);
        memmove(c->req, c->req + hl, c->len - hl);
        c->len -= hl;
        c->sending = true;
    }
}

static int serve_poll(int lfd)
{
    static struct conn *conns[MAX_CONNS];
    int nconns = 0;
    long accepted = 0;
    zsock_fcntl(lfd, F_SETFL, O_NONBLOCK);
    while (opt.count == 0 || accepted < opt.count || nconns > 0) {
        struct zsock_pollfd pfd[MAX_CONNS + 1];
        bool listening = (opt.count == 0 || accepted < opt.count) && nconns < MAX_CONNS;
        pfd[0] = (struct zsock_pollfd){.fd = listening ? lfd : -1, .events = ZSOCK_POLLIN};
        int draining = 0;
        for (int i = 0; i < nconns; i++) {
            pfd[i + 1] = (struct zsock_pollfd){
                .fd = conns[i]->fd,
                .events = conns[i]->sending ? ZSOCK_POLLOUT : ZSOCK_POLLIN,
            };
            if (conns[i]->drain_ms > 0) {
                pfd[i + 1].events = 0; /* only waiting for the peer's ACKs */
                draining++;
            }
        }
        /* While connections drain, look at them every 10 ms. */
        if (zsock_poll(pfd, nconns + 1, draining > 0 ? 10 : -1) < 0) {
            perror("poll");
            return -1;
        }
        if (pfd[0].revents & ZSOCK_POLLIN) {
            int fd = zsock_accept(lfd, NULL, NULL);
            struct conn *c = fd >= 0 ? calloc(1, sizeof(*c)) : NULL;
            if (c != NULL) {
                zsock_fcntl(fd, F_SETFL, O_NONBLOCK);
                c->fd = fd;
                c->r.file = -1;
                conns[nconns++] = c;
                accepted++;
            } else if (fd >= 0) {
                zsock_close(fd);
            }
        }
        for (int i = nconns - 1; i >= 0; i--) {
            struct conn *c = conns[i];
            if (c->drain_ms == 0) {
                if (pfd[i + 1].revents == 0 || step(c)) {
                    continue;
                }
                c->drain_ms = 10000; /* finished: drain, then close */
            }
            /* Closed once the peer has everything (or after 1000 looks, 10 s
             * when idle): the process may exit next, and its stack with it. */
            c->drain_ms -= 10;
            if (sample_unacked(c->fd) > 0 && c->drain_ms > 0) {
                continue;
            }
            if (c->r.file >= 0) {
                close(c->r.file);
            }
            zsock_close(c->fd);
            free(c);
            conns[i] = conns[--nconns];
        }
    }
    return 0;
}

/* ---- set-up ------------------------------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: http_server [-p PORT] [--poll] [--tls] [-6] [-n COUNT] [--pki DIR] ROOT\n");
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"tls", no_argument, NULL, 'T'},
        {"poll", no_argument, NULL, 'P'},
        {"pki", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "6p:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case '6':
            opt.ipv6 = true;
            break;
        case 'T':
            opt.tls = true;
            break;
        case 'P':
            opt.poll = true;
            break;
        case 'K':
            opt.pki = optarg;
            break;
        case 'p':
            opt.port = atoi(optarg);
            break;
        case 'n':
            opt.count = atol(optarg);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return -1;
    }
    opt.root = argv[optind];
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0) {
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = zsock_socket(opt.ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM,
                          opt.tls ? IPPROTO_TLS_1_2 : IPPROTO_TCP);
    if (fd < 0) {
        perror("socket");
        return 1;
    }
    if (opt.tls && sample_server_tls(fd, opt.pki) < 0) {
        return 1;
    }
    int one = 1;
    zsock_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_storage ss;
    socklen_t slen = sample_any_addr(opt.ipv6, opt.port, &ss);
    if (zsock_bind(fd, (struct sockaddr *)&ss, slen) < 0 || zsock_listen(fd, 64) < 0) {
        perror("bind/listen");
        return 1;
    }
    char where[80];
    printf("http_server: serving %s on %s (%s, %s)\n", opt.root,
           sample_addr_str((struct sockaddr *)&ss, where, sizeof(where)),
           opt.tls ? "https" : "http", opt.poll ? "poll" : "threads");
    int rc = opt.poll ? serve_poll(fd) : serve_threads(fd);
    zsock_close(fd);
    printf("http_server: done\n");
    return rc == 0 ? 0 : 1;
}
