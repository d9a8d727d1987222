/* echo_client: send bytes to an echo server and check they come back.
 *
 *   echo_client HOST [-u] [-6] [--tls] [-p PORT] [-s BYTES] [-m TEXT]
 *               [--hostname NAME] [--pki DIR]
 *
 * Resolves HOST with zsock_getaddrinfo() (-6: IPv6 only, else IPv4),
 * connects over TCP (or, with -u, UDP; with --tls, TLS 1.2, or DTLS 1.2
 * with -u, verifying the server against the test CA and the name
 * --hostname, default "server.test"), sends TEXT (default a greeting) and prints the echo; with
 * -s it sends BYTES of a pattern instead and checks every byte. Exits 0 when
 * the echo matched. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/socket.h>

#include "sample_common.h"

static struct {
    bool udp, ipv6, tls;
    const char *host, *port, *text, *hostname, *pki;
    long size;
} opt = {
    .port = "7007", .text = "hello from zsock", .hostname = "server.test", .pki = SAMPLE_PKI_DIR};

/* Resolve, create the socket, set TLS up, connect: the descriptor or -1. */
static int connect_to_server(void)
{
    struct zsock_addrinfo hints = {
        .ai_family = opt.ipv6 ? AF_INET6 : AF_INET,
        .ai_socktype = opt.udp ? SOCK_DGRAM : SOCK_STREAM,
    };
    struct zsock_addrinfo *res;
    int err = zsock_getaddrinfo(opt.host, opt.port, &hints, &res);
    if (err != 0) {
        fprintf(stderr, "%s: %s\n", opt.host, zsock_gai_strerror(err));
        return -1;
    }
    int fd = -1;
    for (struct zsock_addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        int proto = !opt.tls ? ai->ai_protocol : opt.udp ? IPPROTO_DTLS_1_2 : IPPROTO_TLS_1_2;
        fd = zsock_socket(ai->ai_family, ai->ai_socktype, proto);
        if (fd < 0) {
            perror("socket");
            continue;
        }
        if (opt.tls) {
            /* Trust the test CA and check that the certificate names the server. */
            sec_tag_t tags[] = {SAMPLE_TAG_CA};
            zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags, sizeof(tags));
            zsock_setsockopt(fd, SOL_TLS, TLS_HOSTNAME, opt.hostname, strlen(opt.hostname) + 1);
        }
        /* A reply that never comes must not hang the client. */
        struct timeval tv = {.tv_sec = 5};
        zsock_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char where[80];
        /* For UDP, connect() only fixes the peer: send() and recv() then
         * need no address. For TLS and DTLS it also runs the handshake. */
        if (zsock_connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            fprintf(stderr, "connect %s: %s\n", sample_addr_str(ai->ai_addr, where, sizeof(where)),
                    strerror(errno));
            zsock_close(fd);
            fd = -1;
            continue;
        }
        printf("echo_client: connected to %s\n",
               sample_addr_str(ai->ai_addr, where, sizeof(where)));
    }
    zsock_freeaddrinfo(res);
    return fd;
}

/* Send len bytes in chunks, reading each chunk's echo back before the next. */
static int echo_bytes(int fd, const char *out, char *in, size_t len)
{
    size_t chunk = opt.udp ? 1024 : 16384;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (zsock_send(fd, out + off, n, 0) != (ssize_t)n) {
            perror("send");
            return -1;
        }
        /* TCP may return the echo in pieces: wait for all of it. A UDP
         * datagram comes back whole. */
        ssize_t got = zsock_recv(fd, in + off, n, opt.udp ? 0 : ZSOCK_MSG_WAITALL);
        if (got != (ssize_t)n) {
            fprintf(stderr, "recv: %s\n", got < 0 ? strerror(errno) : "short echo");
            return -1;
        }
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: echo_client HOST [-u] [-6] [--tls] [-p PORT] [-s BYTES] [-m TEXT]\n"
                 "                   [--hostname NAME] [--pki DIR]\n");
}

static int parse_args(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"tls", no_argument, NULL, 'T'},
        {"hostname", required_argument, NULL, 'H'},
        {"pki", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "u6p:s:m:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            opt.udp = true;
            break;
        case '6':
            opt.ipv6 = true;
            break;
        case 'T':
            opt.tls = true;
            break;
        case 'H':
            opt.hostname = optarg;
            break;
        case 'K':
            opt.pki = optarg;
            break;
        case 'p':
            opt.port = optarg;
            break;
        case 's':
            opt.size = atol(optarg);
            break;
        case 'm':
            opt.text = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind + 1 != argc || opt.size < 0) {
        usage(stderr);
        return -1;
    }
    opt.host = argv[optind];
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) < 0) {
        return 2;
    }
    if (opt.tls && sample_add_credential(SAMPLE_TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, opt.pki,
                                         "ca.crt") < 0) {
        return 1;
    }
    /* A fresh interface's IPv6 address is tentative for about a second. */
    if (opt.ipv6) {
        sample_wait_ipv6_ready(3000);
    }
    int fd = connect_to_server();
    if (fd < 0) {
        return 1;
    }

    size_t len = opt.size > 0 ? (size_t)opt.size : strlen(opt.text);
    char *out = malloc(len + 1), *in = malloc(len + 1);
    if (out == NULL || in == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    if (opt.size > 0) {
        for (size_t i = 0; i < len; i++) {
            out[i] = (char)(i * 7 + (i >> 11)); /* not periodic in a chunk */
        }
    } else {
        memcpy(out, opt.text, len);
    }

    int rc = echo_bytes(fd, out, in, len);
    zsock_close(fd);
    if (rc == 0 && memcmp(out, in, len) == 0) {
        if (opt.size > 0) {
            printf("echo_client: %zu bytes echoed, identical\n", len);
        } else {
            printf("echo_client: echo: %.*s\n", (int)len, in);
        }
    } else if (rc == 0) {
        fprintf(stderr, "echo_client: the echo differs\n");
        rc = -1;
    }
    free(out);
    free(in);
    return rc == 0 ? 0 : 1;
}
