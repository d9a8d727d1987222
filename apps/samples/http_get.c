/* http_get: fetch one URL and print its body.
 *
 *   http_get [-6] [-o FILE] [--cacert FILE] [--resolve NAME:ADDR] URL
 *
 * URL is http://HOST[:PORT]/PATH or https://... (HOST a name, an IPv4
 * address or an [IPv6] address). The name is resolved with
 * zsock_getaddrinfo() (DNS, or the hosts table, which --resolve fills as
 * curl's option does); each address is tried in turn. https verifies the
 * server's certificate against --cacert (default: the test PKI's CA) and
 * the host name. The body goes to stdout or FILE; the status and what was
 * received go to stderr. Exits 0 for a 2xx status with a complete body. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/dns.h>
#include <zsock/socket.h>

#include "sample_common.h"

static struct {
    bool ipv6;
    const char *out, *cacert;
} opt;

struct url {
    bool tls;
    char host[256], port[8], path[1024];
};

/* Split http[s]://HOST[:PORT][/PATH]. False if it is not such a URL. */
static bool parse_url(const char *s, struct url *u)
{
    u->tls = strncmp(s, "https://", 8) == 0;
    if (!u->tls && strncmp(s, "http://", 7) != 0) {
        return false;
    }
    s += u->tls ? 8 : 7;
    const char *slash = strchr(s, '/');
    size_t hostport = slash != NULL ? (size_t)(slash - s) : strlen(s);
    snprintf(u->path, sizeof(u->path), "%s", slash != NULL ? slash : "/");
    strcpy(u->port, u->tls ? "443" : "80");
    const char *colon;
    if (s[0] == '[') { /* [IPv6]:port */
        const char *end = memchr(s, ']', hostport);
        if (end == NULL || (size_t)(end - s - 1) >= sizeof(u->host)) {
            return false;
        }
        snprintf(u->host, sizeof(u->host), "%.*s", (int)(end - s - 1), s + 1);
        colon = end[1] == ':' ? end + 1 : NULL;
    } else {
        colon = memchr(s, ':', hostport);
        size_t hlen = colon != NULL ? (size_t)(colon - s) : hostport;
        if (hlen == 0 || hlen >= sizeof(u->host)) {
            return false;
        }
        snprintf(u->host, sizeof(u->host), "%.*s", (int)hlen, s);
    }
    if (colon != NULL) {
        snprintf(u->port, sizeof(u->port), "%.*s", (int)(s + hostport - colon - 1), colon + 1);
    }
    return true;
}

/* --resolve NAME:ADDR: an entry in zsock's hosts table, which
 * zsock_getaddrinfo() reads before asking DNS. */
static int add_host(char *arg)
{
    char *colon = strchr(arg, ':');
    if (colon == NULL) {
        return -1;
    }
    *colon = '\0';
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
    int rc;
    if (zsock_inet_pton(AF_INET, colon + 1, &sin.sin_addr) == 1) {
        rc = zsock_hosts_add(arg, (struct sockaddr *)&sin, sizeof(sin));
    } else if (zsock_inet_pton(AF_INET6, colon + 1, &sin6.sin6_addr) == 1) {
        rc = zsock_hosts_add(arg, (struct sockaddr *)&sin6, sizeof(sin6));
    } else {
        return -1;
    }
    return rc < 0 ? -1 : 0;
}

static int connect_url(const struct url *u)
{
    struct zsock_addrinfo hints = {.ai_family = opt.ipv6 ? AF_INET6 : AF_INET,
                                   .ai_socktype = SOCK_STREAM};
    struct zsock_addrinfo *res;
    int err = zsock_getaddrinfo(u->host, u->port, &hints, &res);
    if (err != 0) {
        fprintf(stderr, "http_get: %s: %s\n", u->host, zsock_gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (struct zsock_addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        char where[80];
        sample_addr_str(ai->ai_addr, where, sizeof(where));
        fd = zsock_socket(ai->ai_family, SOCK_STREAM, u->tls ? IPPROTO_TLS_1_2 : IPPROTO_TCP);
        if (fd < 0) {
            perror("socket");
            continue;
        }
        if (u->tls) {
            /* Verification is required by default for a client: the CA, and
             * the name the certificate must carry. */
            sec_tag_t tags[] = {SAMPLE_TAG_CA};
            zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags, sizeof(tags));
            zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, u->host, strlen(u->host) + 1);
        }
        struct timeval tv = {.tv_sec = 10};
        zsock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        zsock_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            fprintf(stderr, "http_get: connect %s: %s\n", where, strerror(errno));
            zsock_close(fd);
            fd = -1;
            continue;
        }
        fprintf(stderr, "http_get: connected to %s (%s)\n", u->host, where);
        if (u->tls) {
            int suite = 0;
            socklen_t len = sizeof(suite);
            zsock_getsockopt(fd, SOL_TLS, TLS_CIPHERSUITE_USED, &suite, &len);
            fprintf(stderr, "http_get: TLS 1.2, certificate verified, cipher suite 0x%04x\n",
                    suite);
        }
    }
    zsock_freeaddrinfo(res);
    return fd;
}

/* Read the response: the head into a buffer, the body to `out`. The
 * status, or -1. */
static int read_response(int fd, FILE *out, long long *body_len, long long *content_length)
{
    static char buf[65536];
    size_t len = 0;
    char *end = NULL;
    while (end == NULL) {
        ssize_t n = zsock_recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0) {
            fprintf(stderr, "http_get: %s before the end of the head\n",
                    n == 0 ? "end of stream" : strerror(errno));
            return -1;
        }
        len += (size_t)n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end == NULL && len == sizeof(buf) - 1) {
            return -1;
        }
    }
    *end = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.%*d %d", &status);
    fprintf(stderr, "http_get: %.*s\n", (int)strcspn(buf, "\r"), buf);
    const char *cl = strstr(buf, "\nContent-Length:");
    *content_length = cl != NULL ? atoll(cl + 16) : -1;

    /* The body: what came with the head, then everything to the end. */
    size_t head = (size_t)(end + 4 - buf);
    fwrite(buf + head, 1, len - head, out);
    *body_len = (long long)(len - head);
    ssize_t n;
    while ((n = zsock_recv(fd, buf, sizeof(buf), 0)) > 0) {
        fwrite(buf, 1, (size_t)n, out);
        *body_len += n;
    }
    if (n < 0) {
        perror("http_get: recv");
        return -1;
    }
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"cacert", required_argument, NULL, 'C'},
        {"resolve", required_argument, NULL, 'R'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "6o:", longopts, NULL)) != -1) {
        if (c == '6') {
            opt.ipv6 = true;
        } else if (c == 'o') {
            opt.out = optarg;
        } else if (c == 'C') {
            opt.cacert = optarg;
        } else if (c != 'R' || add_host(optarg) < 0) {
            fprintf(stderr, "usage: http_get [-6] [-o FILE] [--cacert FILE] "
                            "[--resolve NAME:ADDR] URL\n");
            return 2;
        }
    }
    struct url u;
    if (optind + 1 != argc || !parse_url(argv[optind], &u)) {
        fprintf(stderr, "http_get: give one http:// or https:// URL\n");
        return 2;
    }
    if (u.tls) {
        const char *ca = opt.cacert != NULL ? opt.cacert : SAMPLE_PKI_DIR "/ca.crt";
        if (sample_add_credential(SAMPLE_TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, NULL, ca) < 0) {
            return 1;
        }
    }
    /* A fresh interface's IPv6 address is tentative for about a second. */
    if (opt.ipv6) {
        sample_wait_ipv6_ready(3000);
    }
    int fd = connect_url(&u);
    if (fd < 0) {
        return 1;
    }
    char req[1536];
    int n = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: zsock-http_get\r\n"
                     "Connection: close\r\n\r\n",
                     u.path, u.host);
    if (zsock_send(fd, req, (size_t)n, 0) != n) {
        perror("http_get: send");
        zsock_close(fd);
        return 1;
    }
    FILE *out = opt.out != NULL ? fopen(opt.out, "wb") : stdout;
    if (out == NULL) {
        perror(opt.out);
        return 1;
    }
    long long body = 0, want = -1;
    int status = read_response(fd, out, &body, &want);
    zsock_close(fd);
    if (out != stdout) {
        fclose(out);
    }
    bool complete = want < 0 || body == want;
    fprintf(stderr, "http_get: status %d, %lld body bytes%s\n", status, body,
            complete ? "" : " (short of Content-Length)");
    return status >= 200 && status < 300 && complete ? 0 : 1;
}
