/* libFuzzer target for the credentials store and what parses its content:
 * the input adds certificates, private keys, PSKs and PSK identities under
 * a few tags, either raw bytes or one of tests/tls/pki's files (PEM or DER)
 * with bytes patched and the length cut, then sets TLS_SEC_TAG_LIST on TLS
 * sockets (which parses them) and, where both ends accepted their lists,
 * runs a handshake between a server and a client wrapped around a
 * socketpair, so the parsed keys get used. Checks: no crash, no sanitizer
 * report or leak; the store gives back exactly the bytes added; the
 * descriptor table is back where it was once everything is closed. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#include "fuzz_check.h"
#include "fuzz_input.h"
#include "fuzz_pki.h"
#include "sockets/fdtable.h"
#include "tls/tls_internal.h"

#define NTAGS   4
#define TAG0    100
#define MAXCRED 8192

static const char *const FILES[] = {
    "ca.crt",         "ca.crt.der",        "server-ec.crt",        "server-ec.crt.der",
    "server-ec.key",  "server-ec.key.der", "server-rsa.crt",       "server-rsa.key.der",
    "client.crt.der", "client.key.der",    "server-int-chain.crt", "intermediate.crt.der",
    "psk.bin",        "psk_id.txt",        "server-expired.crt",   "untrusted-ca.crt.der",
};
#define NFILES (sizeof(FILES) / sizeof(FILES[0]))

static struct {
    uint8_t *data;
    size_t len; /* PEM files with their NUL */
} pki[NFILES];

static void load(size_t i)
{
    pki[i].data = fuzz_pki_read(FILES[i], &pki[i].len);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(zsock_net_init_polled() == 0);
    for (size_t i = 0; i < NFILES; i++) {
        load(i);
    }
    return 0;
}

/* Move what waits on `from` to `to` without blocking. */
static void pump(int from, int to)
{
    static char buf[16384];
    for (;;) {
        ssize_t n = zsock_recv(from, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT);
        if (n <= 0 || zsock_send(to, buf, (size_t)n, ZSOCK_MSG_DONTWAIT) != n) {
            return;
        }
    }
}

static int set_tags(int fd, const sec_tag_t *tags, int n)
{
    return zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags, (socklen_t)(n * sizeof(*tags)));
}

/* A server and a client over a socketpair, with the tag lists the input
 * picks, and their handshake. */
static void handshake(struct in *in)
{
    uint8_t k = u8(in);
    sec_tag_t st[NTAGS], ct[NTAGS];
    int ns = 0, nc = 0;
    for (int i = 0; i < NTAGS; i++) {
        if (k >> i & 1) {
            st[ns++] = TAG0 + i;
        }
        if (k >> (i + 4) & 1) {
            ct[nc++] = TAG0 + i;
        }
    }
    int a[2], b[2];
    CHECK(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, a) == 0);
    CHECK(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, b) == 0);
    int srv = z_tls_wrap(a[0], IPPROTO_TLS_1_2, true);
    int cli = z_tls_wrap(b[0], IPPROTO_TLS_1_2, false);
    CHECK(srv >= 0 && cli >= 0);
    CHECK(zsock_fcntl(srv, F_SETFL, O_NONBLOCK) == 0);
    CHECK(zsock_fcntl(cli, F_SETFL, O_NONBLOCK) == 0);
    CHECK(zsock_fcntl(a[1], F_SETFL, O_NONBLOCK) == 0);
    CHECK(zsock_fcntl(b[1], F_SETFL, O_NONBLOCK) == 0);
    uint8_t v = u8(in);
    int verify_c = v % 3, verify_s = (v >> 2) % 3;
    zsock_setsockopt(cli, SOL_TLS, TLS_PEER_VERIFY, &verify_c, sizeof(verify_c));
    zsock_setsockopt(srv, SOL_TLS, TLS_PEER_VERIFY, &verify_s, sizeof(verify_s));
    zsock_setsockopt(cli, SOL_TLS, TLS_HOSTNAME, "localhost", 10);
    int rs = set_tags(srv, st, ns), rc = set_tags(cli, ct, nc);
    CHECK(rs == 0 || errno == EINVAL || errno == ENOMEM || errno == ENOENT);
    CHECK(rc == 0 || errno == EINVAL || errno == ENOMEM || errno == ENOENT);
    if (rs == 0 && rc == 0 && ns > 0) {
        int hs = -EAGAIN, hc = -EAGAIN;
        for (int i = 0; i < 12 && (hs == -EAGAIN || hc == -EAGAIN); i++) {
            if (hc == -EAGAIN) {
                hc = z_tls_handshake(cli);
            }
            pump(b[1], a[1]);
            if (hs == -EAGAIN) {
                hs = z_tls_handshake(srv);
            }
            pump(a[1], b[1]);
        }
        if (getenv("FUZZ_CREDS_TRACE") != NULL) {
            fprintf(stderr, "handshake: server %d, client %d\n", hs, hc);
        }
        if (hs == 0 && hc == 0) {
            char buf[8];
            CHECK(zsock_send(cli, "ping", 4, 0) == 4);
            pump(b[1], a[1]);
            CHECK(zsock_recv(srv, buf, sizeof(buf), 0) == 4);
            CHECK(memcmp(buf, "ping", 4) == 0);
        }
    }
    CHECK(zsock_close(srv) == 0);
    CHECK(zsock_close(cli) == 0);
    CHECK(zsock_close(a[1]) == 0);
    CHECK(zsock_close(b[1]) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t cred[MAXCRED], back[MAXCRED];
    int open0 = z_fd_count_open();
    struct in in = {data, size};
    int n = 1 + u8(&in) % 8;
    for (int i = 0; i < n; i++) {
        uint8_t k = u8(&in);
        sec_tag_t tag = TAG0 + k % NTAGS;
        enum tls_credential_type type = (enum tls_credential_type)(1 + (k >> 2) % 5);
        uint8_t src = u8(&in);
        size_t len;
        if (src < 0x40) { /* raw bytes */
            len = u16(&in) % MAXCRED;
            if (len > in.n) {
                len = in.n;
            }
            memcpy(cred, in.p, len);
            in.p += len;
            in.n -= len;
        } else { /* a pki file, patched and maybe cut short */
            size_t f = src % NFILES;
            len = pki[f].len;
            memcpy(cred, pki[f].data, len);
            int patches = u8(&in) % 8;
            for (int j = 0; j < patches; j++) {
                size_t off = u16(&in) % len;
                cred[off] ^= u8(&in);
            }
            if (src & 0x80) {
                len = 1 + u16(&in) % len;
            }
        }
        int r = tls_credential_add(tag, type, cred, len);
        if (r == 0) {
            size_t blen = sizeof(back);
            CHECK(tls_credential_get(tag, type, back, &blen) == 0);
            CHECK(blen == len && memcmp(back, cred, len) == 0);
        } else {
            CHECK(r == -EEXIST || r == -EINVAL || r == -ENOMEM);
            CHECK(len == 0 || r != -EINVAL);
        }
    }
    /* The lists on plain TLS and DTLS sockets too (parsed when set). */
    int s = zsock_socket(AF_INET, SOCK_STREAM, IPPROTO_TLS_1_2);
    int d = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_DTLS_1_2);
    CHECK(s >= 0 && d >= 0);
    sec_tag_t all[NTAGS] = {TAG0, TAG0 + 1, TAG0 + 2, TAG0 + 3};
    (void)set_tags(s, all, 1 + u8(&in) % NTAGS);
    (void)set_tags(d, all + u8(&in) % NTAGS, 1);
    CHECK(zsock_close(s) == 0);
    CHECK(zsock_close(d) == 0);

    handshake(&in);

    for (int t = 0; t < NTAGS; t++) {
        for (int type = TLS_CREDENTIAL_CA_CERTIFICATE; type <= TLS_CREDENTIAL_PSK_ID; type++) {
            (void)tls_credential_delete(TAG0 + t, (enum tls_credential_type)type);
        }
    }
    CHECK(z_fd_count_open() == open0);
    return 0;
}
