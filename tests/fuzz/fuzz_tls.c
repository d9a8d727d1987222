/* libFuzzer target for TLS and DTLS sockets mid-handshake. A server and a
 * client (credentials from tests/tls/pki: ECDSA certificates, a client
 * certificate, or a PSK) talk through a relay the input drives: TLS over
 * two socketpairs (z_tls_wrap), DTLS over UDP on the loopback of the
 * default stack (z_dtls_wrap, on a clock the harness moves). The input's
 * program steps either end, forwards, drops or corrupts what is in flight
 * in either direction, injects its own bytes or datagrams (records, a
 * flight) into either end, sends and reads application data, shuts down
 * and lets time pass. So the server is fed the fuzzer's records in every
 * handshake state and the client is fed a server's flight, real or not.
 * Checks: no crash, no sanitizer report or leak, a handshake error is a
 * documented errno, application data that arrives is what was sent, and
 * the descriptor table and packet buffers come back to where they were. */
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
#include "net/net.h"
#include "sockets/fdtable.h"
#include "tls/tls_internal.h"

#define TAG_CA  1
#define TAG_SRV 2
#define TAG_PSK 3
#define TAG_CLI 4

#define PORT_SRV 4433
#define PORT_RC  4434 /* the relay's end the DTLS client talks to */
#define PORT_RS  4435 /* the relay's end that talks to the DTLS server */

static void add_file(sec_tag_t tag, enum tls_credential_type type, const char *name)
{
    size_t len;
    unsigned char *buf = fuzz_pki_read(name, &len);
    CHECK(tls_credential_add(tag, type, buf, len) == 0);
    free(buf);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    CHECK(zsock_net_init_polled() == 0);
    add_file(TAG_CA, TLS_CREDENTIAL_CA_CERTIFICATE, "ca.crt");
    add_file(TAG_SRV, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "server-ec.crt");
    add_file(TAG_SRV, TLS_CREDENTIAL_PRIVATE_KEY, "server-ec.key");
    add_file(TAG_PSK, TLS_CREDENTIAL_PSK, "psk.bin");
    add_file(TAG_PSK, TLS_CREDENTIAL_PSK_ID, "psk_id.txt");
    add_file(TAG_CLI, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, "client.crt");
    add_file(TAG_CLI, TLS_CREDENTIAL_PRIVATE_KEY, "client.key");
    return 0;
}

/* What a failed call of a TLS/DTLS socket may say (docs/tls.md). */
static bool ok_errno(int e)
{
    switch (e) {
    case EAGAIN:
    case EACCES:
    case ECONNABORTED:
    case EPROTO:
    case ECONNRESET:
    case ETIMEDOUT:
    case ENOTCONN:
    case EINPROGRESS:
    case EALREADY:
    case EPIPE:
    case ENOMEM:
    case EMSGSIZE:
    case EINVAL:
    case ESHUTDOWN:
    case EBADMSG:
    case EDESTADDRREQ: /* a DTLS server's send without an address */
    case EOPNOTSUPP:   /* shutdown() of a DTLS socket */
        return true;
    default:
        return false;
    }
}

static struct {
    bool dtls;
    int srv, cli; /* the TLS or DTLS sockets */
    int ws, wc;   /* TLS: the wire ends next to the server and the client */
    int rs, rc;   /* DTLS: the relay's sockets */
    struct sockaddr_in cli_addr, srv_addr;
    int64_t now_us; /* DTLS sockets' clock */
    bool connected; /* the DTLS client called connect() */
    uint8_t sent[2];
    uint64_t got_off[2]; /* app data read so far by server [0] and client [1] */
} T;

static int64_t clock_now(void *ctx)
{
    (void)ctx;
    return T.now_us;
}

static struct sockaddr_in lo(uint16_t port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
    s.sin_addr.s_addr = htonl(0x7f000001u);
    return s;
}

#define SA(x) ((struct sockaddr *)&(x))

static void set_tags(int fd, sec_tag_t a, sec_tag_t b)
{
    sec_tag_t t[2] = {a, b};
    CHECK(zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, t, (b < 0 ? 1 : 2) * sizeof(t[0])) == 0);
}

/* Credentials and verification as the input's first byte says. */
static void configure(uint8_t mode)
{
    int psk = mode & 2, mutual = mode & 4;
    if (psk) {
        set_tags(T.srv, TAG_PSK, -1);
        set_tags(T.cli, TAG_PSK, -1);
    } else {
        set_tags(T.srv, TAG_SRV, mutual ? TAG_CA : -1);
        set_tags(T.cli, TAG_CA, mutual ? TAG_CLI : -1);
        CHECK(zsock_setsockopt(T.cli, SOL_TLS, TLS_HOSTNAME, "localhost", 10) == 0);
    }
    int v = mutual ? TLS_PEER_VERIFY_REQUIRED : TLS_PEER_VERIFY_NONE;
    CHECK(zsock_setsockopt(T.srv, SOL_TLS, TLS_PEER_VERIFY, &v, sizeof(v)) == 0);
}

static void up_tls(uint8_t mode)
{
    int a[2], b[2];
    CHECK(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, a) == 0);
    CHECK(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, b) == 0);
    T.srv = z_tls_wrap(a[0], IPPROTO_TLS_1_2, true);
    T.cli = z_tls_wrap(b[0], IPPROTO_TLS_1_2, false);
    CHECK(T.srv >= 0 && T.cli >= 0);
    T.ws = a[1];
    T.wc = b[1];
    CHECK(zsock_fcntl(T.ws, F_SETFL, O_NONBLOCK) == 0);
    CHECK(zsock_fcntl(T.wc, F_SETFL, O_NONBLOCK) == 0);
    configure(mode);
}

static void up_dtls(uint8_t mode)
{
    int su = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    int cu = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(su >= 0 && cu >= 0);
    T.srv = z_dtls_wrap(su, IPPROTO_DTLS_1_2);
    T.cli = z_dtls_wrap(cu, IPPROTO_DTLS_1_2);
    CHECK(T.srv >= 0 && T.cli >= 0);
    CHECK(z_dtls_set_clock(T.srv, clock_now, NULL) == 0);
    CHECK(z_dtls_set_clock(T.cli, clock_now, NULL) == 0);
    int role = TLS_DTLS_ROLE_SERVER;
    CHECK(zsock_setsockopt(T.srv, SOL_TLS, TLS_DTLS_ROLE, &role, sizeof(role)) == 0);
    configure(mode);
    T.srv_addr = lo(PORT_SRV);
    CHECK(zsock_bind(T.srv, SA(T.srv_addr), sizeof(T.srv_addr)) == 0);
    T.rc = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    T.rs = zsock_socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
    CHECK(T.rc >= 0 && T.rs >= 0);
    struct sockaddr_in rc = lo(PORT_RC), rs = lo(PORT_RS);
    CHECK(zsock_bind(T.rc, SA(rc), sizeof(rc)) == 0);
    CHECK(zsock_bind(T.rs, SA(rs), sizeof(rs)) == 0);
    int one = 1;
    zsock_ioctl(T.rc, FIONBIO, &one);
    zsock_ioctl(T.rs, FIONBIO, &one);
    T.cli_addr = lo(PORT_RC + 100);
    CHECK(zsock_bind(T.cli, SA(T.cli_addr), sizeof(T.cli_addr)) == 0);
}

static void down(void)
{
    if (getenv("FUZZ_TLS_TRACE") != NULL) {
        struct z_tls_info is = {0}, ic = {0};
        if (T.dtls) {
            (void)z_dtls_get_info(T.cli, &ic);
        } else {
            (void)z_tls_get_info(T.srv, &is);
            (void)z_tls_get_info(T.cli, &ic);
        }
        fprintf(stderr, "handshake done: server %d, client %d; app bytes read %llu, %llu\n",
                is.handshake_done, ic.handshake_done, (unsigned long long)T.got_off[0],
                (unsigned long long)T.got_off[1]);
    }
    CHECK(zsock_close(T.srv) == 0);
    CHECK(zsock_close(T.cli) == 0);
    if (T.dtls) {
        CHECK(zsock_close(T.rc) == 0);
        CHECK(zsock_close(T.rs) == 0);
    } else {
        CHECK(zsock_close(T.ws) == 0);
        CHECK(zsock_close(T.wc) == 0);
    }
}

/* One unit in flight towards the server (to_srv) or the client: up to
 * `max` bytes of the stream, or one datagram. Returns its length. */
static ssize_t take(bool to_srv, uint8_t *buf, size_t max)
{
    if (T.dtls) {
        return zsock_recvfrom(to_srv ? T.rc : T.rs, buf, max, ZSOCK_MSG_DONTWAIT, NULL, NULL);
    }
    return zsock_recv(to_srv ? T.wc : T.ws, buf, max, ZSOCK_MSG_DONTWAIT);
}

static void put(bool to_srv, const uint8_t *buf, size_t len)
{
    if (T.dtls) {
        if (to_srv) {
            (void)zsock_sendto(T.rs, buf, len, 0, SA(T.srv_addr), sizeof(T.srv_addr));
        } else {
            (void)zsock_sendto(T.rc, buf, len, 0, SA(T.cli_addr), sizeof(T.cli_addr));
        }
        return;
    }
    (void)zsock_send(to_srv ? T.ws : T.wc, buf, len, ZSOCK_MSG_DONTWAIT);
}

/* The application data stream: byte i of side s is (i * 7 + s) & 0xff. */
static void app_send(int side, size_t n)
{
    uint8_t buf[512];
    for (size_t i = 0; i < n; i++) {
        buf[i] = (uint8_t)((T.sent[side] + i) * 7 + side);
    }
    errno = 0;
    ssize_t r = zsock_send(side ? T.cli : T.srv, buf, n, ZSOCK_MSG_DONTWAIT);
    if (r < 0 && !ok_errno(errno)) {
        fprintf(stderr, "send: errno %d (%s)\n", errno, strerror(errno));
        abort();
    }
    if (r > 0) {
        T.sent[side] = (uint8_t)(T.sent[side] + r);
    }
}

/* Read what side `side` received. What a TLS peer reads is authenticated,
 * so it must be the other side's stream; the fuzzer cannot forge it. */
static void app_recv(int side)
{
    uint8_t buf[2048];
    errno = 0;
    ssize_t r = zsock_recv(side ? T.cli : T.srv, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT);
    if (r < 0 && !ok_errno(errno)) {
        fprintf(stderr, "recv: errno %d (%s)\n", errno, strerror(errno));
        abort();
    }
    if (!T.dtls) {
        int from = !side;
        for (ssize_t i = 0; i < r; i++) {
            CHECK(buf[i] == (uint8_t)((T.got_off[side] + (uint64_t)i) * 7 + (uint64_t)from));
        }
        if (r > 0) {
            T.got_off[side] += (uint64_t)r;
        }
    }
}

static void step(int side)
{
    int fd = side ? T.cli : T.srv;
    if (!T.dtls) {
        int r = z_tls_handshake(fd); /* a negative errno */
        if (r < 0 && !ok_errno(-r)) {
            fprintf(stderr, "z_tls_handshake: %d\n", r);
            abort();
        }
        return;
    }
    if (side == 1) {
        /* The client's handshake starts with connect and goes on in poll
         * and recv. */
        if (!T.connected) {
            struct sockaddr_in rc = lo(PORT_RC);
            errno = 0;
            int r = zsock_connect(fd, SA(rc), sizeof(rc));
            CHECK(r == 0 || ok_errno(errno));
            T.connected = true;
        }
    }
    struct zsock_pollfd p = {.fd = fd, .events = ZSOCK_POLLIN | ZSOCK_POLLOUT};
    CHECK(zsock_poll(&p, 1, 0) >= 0);
    app_recv(side);
}

static void program(struct in *in)
{
    uint8_t buf[2048];
    for (int n = 0; in->n > 0 && n < 200; n++) {
        uint8_t op = u8(in);
        bool to_srv = op & 0x80;
        switch ((op & 0x7f) % 10) {
        case 0:
        case 1:
            step(op & 1);
            break;
        case 2: { /* forward */
            size_t max = T.dtls ? sizeof(buf) : 1 + u8(in) * 8u;
            ssize_t r = take(to_srv, buf, max < sizeof(buf) ? max : sizeof(buf));
            if (r > 0) {
                put(to_srv, buf, (size_t)r);
            }
            break;
        }
        case 3: { /* inject the input's bytes */
            size_t len = u16(in) % sizeof(buf);
            if (len > in->n) {
                len = in->n;
            }
            memcpy(buf, in->p, len);
            in->p += len;
            in->n -= len;
            put(to_srv, buf, len);
            break;
        }
        case 4: { /* corrupt what is in flight: patches at offsets */
            ssize_t r = take(to_srv, buf, sizeof(buf));
            if (r > 0) {
                int k = 1 + u8(in) % 4;
                for (int i = 0; i < k; i++) {
                    buf[u16(in) % (size_t)r] ^= u8(in);
                }
                if (op & 0x40) {
                    r = 1 + u16(in) % r; /* cut short */
                }
                put(to_srv, buf, (size_t)r);
            }
            break;
        }
        case 5: /* drop */
            (void)take(to_srv, buf, T.dtls ? sizeof(buf) : 1 + u8(in) * 4u);
            break;
        case 6:
            app_send(to_srv ? 1 : 0, u8(in) % 512);
            break;
        case 7:
            app_recv(to_srv ? 0 : 1);
            break;
        case 8:
            CALL(zsock_shutdown(to_srv ? T.cli : T.srv, ZSOCK_SHUT_WR));
            break;
        default: /* time: DTLS retransmissions and idle timeouts */
            T.now_us += (int64_t)(u8(in) + 1) * 100000;
            zsock_net_process(0);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int open0 = z_fd_count_open();
    struct in in = {data, size};
    memset(&T, 0, sizeof(T));
    T.now_us = 1000000;
    uint8_t mode = u8(&in);
    T.dtls = mode & 1;
    if (T.dtls) {
        up_dtls(mode);
    } else {
        up_tls(mode);
    }
    /* Nothing waits: the DTLS sockets' clock moves only in program(). */
    CHECK(zsock_fcntl(T.srv, F_SETFL, O_NONBLOCK) == 0);
    CHECK(zsock_fcntl(T.cli, F_SETFL, O_NONBLOCK) == 0);
    program(&in);
    down();
    CHECK(z_fd_count_open() == open0);
    struct z_stack *s = z_stack_default();
    for (int i = 0; i < 8 && s->pool.stats.in_use != 0; i++) {
        zsock_net_process(0);
    }
    CHECK(s->pool.stats.in_use == 0);
    return 0;
}
