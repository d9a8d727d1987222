/* DTLS sockets (SOCK_DGRAM, IPPROTO_DTLS_1_0/1_2) on mbedTLS 2.28, stacked
 * on an inner zsock UDP socket that they talk to through the public zsock_*
 * calls, always non-blocking, as the TLS sockets do (tls_sock.c, whose
 * option, credential and configuration code they share through
 * tls_internal.h).
 *
 * A client has one session with the peer it connected to. A server has a
 * table of sessions keyed by the peer's address, all on one inner socket:
 * every datagram read is handed to its peer's session, whose handshake or
 * record layer advances without waiting (each session is its own
 * non-blocking state machine), so one slow or hostile peer never stalls the
 * others. A datagram from an unknown address goes to one scratch context
 * that only checks the ClientHello's cookie (HelloVerifyRequest when it has
 * none): a session, and the handshake work, exist only for a peer that
 * proved it receives at its address. Decrypted records are handed to recv
 * one at a time (one record per datagram, boundaries kept).
 *
 * One mutex per socket guards everything, mbedTLS contexts included;
 * mbedTLS calls never block; waits release the lock (tls_sock.c explains
 * the wait). Retransmission timers run on the socket's clock (z_now_us, or a
 * test's virtual clock); poll() asks to be woken when the next one is due. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include <mbedtls/net_sockets.h> /* only for the MBEDTLS_ERR_NET_* codes */
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cookie.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/ssl_internal.h>

#include "port/port.h"
#include "sockets/fdtable.h"
#include "sockets/iov.h"
#include "sockets/sockbase.h"
#include "tls/tls_internal.h"

#if !defined(MBEDTLS_SSL_PROTO_DTLS) || !defined(MBEDTLS_SSL_COOKIE_C) ||                          \
    !defined(MBEDTLS_SSL_DTLS_HELLO_VERIFY)
#define DTLS_UNAVAILABLE 1 /* this mbedTLS cannot do DTLS servers: EPROTONOSUPPORT */
#endif

#ifndef DTLS_UNAVAILABLE

/* Room for one datagram as mbedTLS reads it (a full record plus headers). */
#define DGRAM_CAP MBEDTLS_SSL_IN_BUFFER_LEN
/* Largest plaintext record. */
#define REC_CAP MBEDTLS_SSL_MAX_CONTENT_LEN
/* DTLS record header: type, version, epoch, sequence number, length. */
#define REC_HDR 13

/* Transport key of a peer: family, port, address (and scope for IPv6). */
#define KEY_MAX 24

enum peer_state {
    P_HANDSHAKE,
    P_OPEN,
    P_DEAD, /* failed or closed by the peer: freed at the next sweep */
};

struct dtls_sock;

/* One DTLS session: the client's, a server's peer, or the server's scratch
 * context for ClientHellos from unknown addresses. */
struct peer {
    struct peer *next;
    struct dtls_sock *ds;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    unsigned char key[KEY_MAX];
    size_t keylen;
    enum peer_state state;
    int error;        /* why it died (positive errno) */
    bool peer_closed; /* close_notify received */
    bool resumed;
    bool ssl_init;
    mbedtls_ssl_context ssl;
    const unsigned char *rx; /* the datagram being fed to mbedTLS */
    size_t rx_len;
    int64_t t_int, t_fin; /* retransmission timer deadlines, 0: stopped */
    int64_t last_rx;      /* time of the last datagram from the peer */
    unsigned badmac_counted;
    uint32_t verify_result;
    int io_errno;
    bool resend;     /* a handshake datagram was too big: send the flight again */
    bool tx_too_big; /* an application record was too big for the path */
};

enum dtls_state {
    D_IDLE,      /* client not connected yet, or server not started */
    D_HANDSHAKE, /* client: handshake in progress */
    D_OPEN,      /* client: handshake done */
    D_SERVER,    /* server: receiving */
    D_FAILED,    /* client: fatal error in `error` */
};

struct dtls_sock {
    struct z_sockbase base;
    z_mutex_t lock;
    struct z_waitq wq; /* see tls_sock.c: wakes waiters on state changes */
    int inner;
    void *inner_obj;
    const struct z_fd_ops *inner_ops;
    enum dtls_state state;
    bool closed;
    bool conf_ready;
    bool hs_attempted;
    bool connected; /* client: the inner socket is connected to `peer` */
    int error;

    struct z_tls_opts o;
    mbedtls_ssl_config conf;
    mbedtls_ctr_drbg_context drbg;
    struct z_tls_keys keys;
    mbedtls_ssl_cookie_ctx cookie;

    struct peer *client; /* the client's session */
    struct peer *peers;  /* server: the sessions */
    int npeers;
    struct peer *scratch; /* server: cookie checks for unknown peers */

    unsigned char *dgram; /* the last datagram read */
    unsigned char *rec;   /* the decrypted record waiting for recv */
    size_t rec_len;
    bool rec_ready;
    struct sockaddr_storage rec_from;
    socklen_t rec_fromlen;
    struct sockaddr_storage last_peer; /* server: send() without an address goes here */
    socklen_t last_peerlen;

    int max_sessions;
    uint32_t idle_ms;
    int64_t (*now)(void *ctx);
    void *now_ctx;
    struct z_dtls_stats st;
};

static const struct z_socket_ops dtls_ops;

static int64_t clock_now(const struct dtls_sock *ds)
{
    return ds->now != NULL ? ds->now(ds->now_ctx) : z_now_us();
}

/* ---- peers
 * ------------------------------------------------------------------------------------------ */

/* The transport key of an address: what identifies a peer (the cookie is
 * bound to it too). Returns its length, 0 for an unusable address. */
static size_t addr_key(const struct sockaddr_storage *a, socklen_t len, unsigned char *key)
{
    if (a->ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        key[0] = AF_INET;
        memcpy(key + 1, &s->sin_port, 2);
        memcpy(key + 3, &s->sin_addr, 4);
        return 7;
    }
    if (a->ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        key[0] = AF_INET6;
        memcpy(key + 1, &s->sin6_port, 2);
        memcpy(key + 3, &s->sin6_addr, 16);
        memcpy(key + 19, &s->sin6_scope_id, 4);
        return 23;
    }
    return 0;
}

static void set_addr(struct peer *p, const struct sockaddr_storage *a, socklen_t len)
{
    memcpy(&p->addr, a, len);
    p->addrlen = len;
    p->keylen = addr_key(a, len, p->key);
}

static struct peer *find_peer(struct dtls_sock *ds, const unsigned char *key, size_t keylen)
{
    for (struct peer *p = ds->peers; p != NULL; p = p->next) {
        if (p->state != P_DEAD && p->keylen == keylen && memcmp(p->key, key, keylen) == 0) {
            return p;
        }
    }
    return NULL;
}

/* mbedTLS timer callbacks (mbedtls_ssl_set_timer_cb) on the socket's clock. */
static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    struct peer *p = ctx;
    if (fin_ms == 0) {
        p->t_int = p->t_fin = 0;
        return;
    }
    int64_t now = clock_now(p->ds);
    p->t_int = now + (int64_t)int_ms * 1000;
    p->t_fin = now + (int64_t)fin_ms * 1000;
}

static int timer_get(void *ctx)
{
    struct peer *p = ctx;
    if (p->t_fin == 0) {
        return -1;
    }
    int64_t now = clock_now(p->ds);
    if (now >= p->t_fin) {
        /* mbedTLS asks once per expiry, then resends the flight (or gives
         * up) and sets the timer again. */
        p->ds->st.hs_timer_expiries++;
        return 2;
    }
    return now >= p->t_int ? 1 : 0;
}

/* Datagram sizes to fall back to when the path refuses one (EMSGSIZE: an
 * interface MTU without IP fragmentation): Ethernet with IPv4, the IPv6
 * minimum MTU less headers, and the size every IPv4 host must accept. */
static const uint16_t path_mtus[] = {1472, 1232, 508};

/* The inner socket refused a datagram of `len` bytes as too big: send
 * smaller ones from now on. False when no smaller size is left. */
static bool shrink_mtu(struct peer *p, size_t len)
{
    for (size_t i = 0; i < sizeof(path_mtus) / sizeof(path_mtus[0]); i++) {
        if (path_mtus[i] < len) {
            mbedtls_ssl_set_mtu(&p->ssl, path_mtus[i]);
            p->ds->st.tx_mtu_shrunk++;
            return true;
        }
    }
    return false;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct peer *p = ctx;
    struct dtls_sock *ds = p->ds;
    ssize_t n = ds->connected ? zsock_send(ds->inner, buf, len, ZSOCK_MSG_DONTWAIT)
                              : zsock_sendto(ds->inner, buf, len, ZSOCK_MSG_DONTWAIT,
                                             (struct sockaddr *)&p->addr, p->addrlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        }
        if (errno == EMSGSIZE && shrink_mtu(p, len)) {
            /* As if lost on the way: a handshake flight goes again at once,
             * cut to the new size (mbedTLS fragments its messages); an
             * application record is reported to the sender. */
            if (p->state == P_HANDSHAKE) {
                p->resend = true;
            } else {
                p->tx_too_big = true;
            }
            return (int)len;
        }
        p->io_errno = errno;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    return (int)n;
}

/* mbedTLS reads the datagram the socket fed to this session, once. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct peer *p = ctx;
    if (p->rx == NULL) {
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    size_t n = p->rx_len < len ? p->rx_len : len;
    memcpy(buf, p->rx, n);
    p->rx = NULL;
    return (int)n;
}

static void peer_free(struct peer *p)
{
    if (p == NULL) {
        return;
    }
    if (p->ssl_init) {
        mbedtls_ssl_free(&p->ssl);
    }
    z_free(p);
}

/* A new session on the socket's configuration. Returns NULL on failure. */
static struct peer *peer_new(struct dtls_sock *ds)
{
    struct peer *p = z_calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->ds = ds;
    p->state = P_HANDSHAKE;
    mbedtls_ssl_init(&p->ssl);
    p->ssl_init = true;
    if (mbedtls_ssl_setup(&p->ssl, &ds->conf) != 0) {
        peer_free(p);
        return NULL;
    }
    mbedtls_ssl_set_bio(&p->ssl, p, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(&p->ssl, p, timer_set, timer_get);
    if (!ds->o.server && ds->o.hostname != NULL &&
        mbedtls_ssl_set_hostname(&p->ssl, ds->o.hostname) != 0) {
        peer_free(p);
        return NULL;
    }
    return p;
}

/* Count what mbedTLS dropped for failing authentication. */
static void count_badmac(struct dtls_sock *ds, struct peer *p)
{
    if (p->ssl.badmac_seen != p->badmac_counted) {
        ds->st.rx_bad_mac += p->ssl.badmac_seen - p->badmac_counted;
        p->badmac_counted = p->ssl.badmac_seen;
    }
}

/* Remove dead sessions and those idle for longer than the limit. */
static void sweep(struct dtls_sock *ds, int64_t now)
{
    struct peer **pp = &ds->peers;
    while (*pp != NULL) {
        struct peer *p = *pp;
        bool idle = ds->idle_ms > 0 && now - p->last_rx >= (int64_t)ds->idle_ms * 1000;
        if (p->state == P_DEAD || idle) {
            if (p->state == P_DEAD) {
                ds->st.sessions_closed++;
            } else {
                ds->st.sessions_expired++;
            }
            *pp = p->next;
            ds->npeers--;
            peer_free(p);
            continue;
        }
        pp = &p->next;
    }
}

/* ---- the configuration
 * ------------------------------------------------------------------------------ */

static int setup_conf(struct dtls_sock *ds)
{
    mbedtls_ssl_config_init(&ds->conf);
    mbedtls_ctr_drbg_init(&ds->drbg);
    z_tls_keys_init(&ds->keys);
    mbedtls_ssl_cookie_init(&ds->cookie);
    ds->conf_ready = true; /* from here on release() frees them */
    ds->hs_attempted = true;
    int minor = ds->base.proto == IPPROTO_DTLS_1_0 ? MBEDTLS_SSL_MINOR_VERSION_2
                                                   : MBEDTLS_SSL_MINOR_VERSION_3;
    int rc = z_tls_conf_setup(&ds->conf, &ds->drbg, &ds->keys, &ds->o,
                              MBEDTLS_SSL_TRANSPORT_DATAGRAM, minor, &ds->inner);
    if (rc < 0) {
        return rc;
    }
    /* A zero minimum would stop the timer, and with it every retransmission. */
    uint32_t min = ds->o.dtls_hs_min_ms > 0 ? ds->o.dtls_hs_min_ms : 1;
    uint32_t max = ds->o.dtls_hs_max_ms;
    mbedtls_ssl_conf_handshake_timeout(&ds->conf, min, max < min ? min : max);
    mbedtls_ssl_conf_dtls_anti_replay(&ds->conf, MBEDTLS_SSL_ANTI_REPLAY_ENABLED);
    /* Records failing authentication are dropped and counted, never fatal
     * (mbedTLS counts them only with a limit set). */
    mbedtls_ssl_conf_dtls_badmac_limit(&ds->conf, UINT_MAX);
    if (ds->o.server) {
        if (mbedtls_ssl_cookie_setup(&ds->cookie, mbedtls_ctr_drbg_random, &ds->drbg) != 0) {
            return -ENOMEM;
        }
        mbedtls_ssl_conf_dtls_cookies(&ds->conf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
                                      &ds->cookie);
    }
    ds->dgram = z_malloc(DGRAM_CAP);
    ds->rec = z_malloc(REC_CAP);
    if (ds->dgram == NULL || ds->rec == NULL) {
        return -ENOMEM;
    }
    return 0;
}

/* Record a client's fatal error; returns its negative errno. */
static int fail(struct dtls_sock *ds, int err)
{
    if (ds->error == 0) {
        ds->error = err;
    }
    ds->state = D_FAILED;
    z_waitq_wake(&ds->wq);
    return -ds->error;
}

/* ---- sessions at work
 * ------------------------------------------------------------------------------- */

/* Handshake steps until done or mbedTLS wants I/O. */
static int hs_steps(struct peer *p)
{
    while (p->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
        if (p->ssl.handshake != NULL) {
            p->resumed = p->ssl.handshake->resume != 0;
        }
        int ret = mbedtls_ssl_handshake_step(&p->ssl);
        /* A datagram of the flight was too big: the whole flight again, in
         * smaller datagrams (a few times at most: the sizes only shrink). */
        for (int i = 0; ret == MBEDTLS_ERR_SSL_WANT_READ && p->resend && i < 4; i++) {
            p->resend = false;
            int r = mbedtls_ssl_resend(&p->ssl);
            ret = r != 0 ? r : MBEDTLS_ERR_SSL_WANT_READ;
        }
        if (ret != 0) {
            return ret;
        }
    }
    return 0;
}

/* Drive session p with what it has been fed (p->rx, or a timer that
 * expired). Returns 1 when a decrypted record is now in ds->rec, 0 when
 * not, or a negative errno when the session failed (it is P_DEAD then). */
static int run_peer(struct dtls_sock *ds, struct peer *p)
{
    for (;;) {
        if (p->state == P_HANDSHAKE) {
            int ret = hs_steps(p);
            p->verify_result = mbedtls_ssl_get_verify_result(&p->ssl);
            count_badmac(ds, p);
            if (z_tls_is_want(ret)) {
                return 0;
            }
            if (ret != 0) {
                ds->st.hs_failed++;
                p->state = P_DEAD;
                p->error = z_tls_map_error(ret, p->io_errno);
                if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
                    p->error = ETIMEDOUT;
                }
                return -p->error;
            }
            p->state = P_OPEN;
            z_waitq_wake(&ds->wq);
            if (!ds->o.server && ds->o.cache_on) {
                z_tls_client_cache_store(&p->ssl, &p->addr, p->addrlen);
            }
        }
        if (p->state != P_OPEN || ds->rec_ready) {
            return 0;
        }
        int ret = mbedtls_ssl_read(&p->ssl, ds->rec, REC_CAP);
        count_badmac(ds, p);
        if (ret > 0) {
            ds->rec_len = (size_t)ret;
            ds->rec_ready = true;
            memcpy(&ds->rec_from, &p->addr, p->addrlen);
            ds->rec_fromlen = p->addrlen;
            return 1;
        }
        if (ret == 0 || z_tls_is_want(ret)) {
            return 0;
        }
#if defined(MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE)
        if (ret == MBEDTLS_ERR_SSL_CLIENT_RECONNECT) {
            /* The peer started over from the same port with a valid cookie:
             * mbedTLS reset the session and kept the ClientHello. */
            p->state = P_HANDSHAKE;
            continue;
        }
#endif
        p->state = P_DEAD;
        if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            p->peer_closed = true;
            p->error = ECONNRESET;
            return 0;
        }
        p->error = z_tls_map_error(ret, p->io_errno);
        return -p->error;
    }
}

/* Do the records of datagram d fit in it (no truncated record)? Counts the
 * ones p's replay window already saw (mbedTLS drops them silently). */
static bool check_records(struct dtls_sock *ds, struct peer *p, const unsigned char *d, size_t n)
{
    size_t off = 0;
    int replays = 0;
    while (off < n) {
        if (n - off < REC_HDR) {
            return false;
        }
        size_t len = (size_t)d[off + 11] << 8 | d[off + 12];
        if (n - off - REC_HDR < len) {
            return false;
        }
#if defined(MBEDTLS_SSL_DTLS_ANTI_REPLAY)
        uint16_t epoch = (uint16_t)(d[off + 3] << 8 | d[off + 4]);
        if (p != NULL && p->state == P_OPEN && epoch == p->ssl.in_epoch) {
            uint64_t seq = 0;
            for (int i = 5; i < 11; i++) {
                seq = seq << 8 | d[off + (size_t)i];
            }
            uint64_t top = p->ssl.in_window_top;
            if (seq <= top && (top - seq >= 64 || (p->ssl.in_window >> (top - seq)) & 1)) {
                replays++;
            }
        }
#else
        (void)p;
#endif
        off += REC_HDR + len;
    }
    ds->st.rx_replay += (uint64_t)replays;
    return true;
}

/* A datagram from an address without a session: only a ClientHello with a
 * valid cookie (bound to that address) creates one; one without gets a
 * HelloVerifyRequest and leaves nothing behind. Returns 1 (a record is
 * ready: never, in practice), 0, or negative errno. */
static int from_unknown(struct dtls_sock *ds, const struct sockaddr_storage *from,
                        socklen_t fromlen, const unsigned char *key, size_t keylen, size_t n)
{
    const unsigned char *d = ds->dgram;
    /* A handshake record of epoch 0 that carries a ClientHello, else drop. */
    if (n < REC_HDR + 12 || d[0] != MBEDTLS_SSL_MSG_HANDSHAKE || d[3] != 0 || d[4] != 0 ||
        d[REC_HDR] != MBEDTLS_SSL_HS_CLIENT_HELLO) {
        ds->st.rx_invalid++;
        return 0;
    }
    if (ds->scratch == NULL && (ds->scratch = peer_new(ds)) == NULL) {
        return -ENOMEM;
    }
    struct peer *p = ds->scratch;
    mbedtls_ssl_session_reset(&p->ssl);
    p->t_int = p->t_fin = 0;
    set_addr(p, from, fromlen);
    if (mbedtls_ssl_set_client_transport_id(&p->ssl, key, keylen) != 0) {
        return -ENOMEM;
    }
    p->rx = d;
    p->rx_len = n;
    p->badmac_counted = 0;
    /* Step up to and through the ClientHello, and stop there: nothing more
     * happens until the cookie is known to be good. */
    int ret = 0;
    while (ret == 0 && p->ssl.state <= MBEDTLS_SSL_CLIENT_HELLO) {
        ret = mbedtls_ssl_handshake_step(&p->ssl);
    }
    if (ret != 0 || p->ssl.handshake == NULL) {
        ds->st.rx_invalid++; /* not a ClientHello mbedTLS could parse */
        return 0;
    }
    if (p->ssl.handshake->verify_cookie_len != 0) {
        /* No valid cookie: the next step sends the HelloVerifyRequest. */
        while (ret == 0) {
            ret = mbedtls_ssl_handshake_step(&p->ssl);
        }
        ds->st.hello_verify++;
        return 0;
    }
    if (ds->npeers >= ds->max_sessions) {
        ds->st.sessions_refused++; /* the client retries; a session may be free then */
        return 0;
    }
    /* The peer answered from its address: this context becomes its session. */
    ds->scratch = NULL;
    p->next = ds->peers;
    ds->peers = p;
    ds->npeers++;
    ds->st.sessions_created++;
    p->last_rx = clock_now(ds);
    int r = run_peer(ds, p);
    return r < 0 ? 0 : r; /* a failed session is swept, the socket goes on */
}

/* Read datagrams from the inner socket and hand each to its session until
 * a decrypted record is ready (1), nothing is left (-EAGAIN), or, for a
 * client, a fatal error (negative errno). */
static int pump(struct dtls_sock *ds)
{
    if (ds->rec_ready) {
        return 1;
    }
    /* Records that arrived in one datagram with an earlier one. */
    for (struct peer *p = ds->o.server ? ds->peers : ds->client; p != NULL; p = p->next) {
        if (p->state == P_OPEN && mbedtls_ssl_check_pending(&p->ssl)) {
            int r = run_peer(ds, p);
            if (r == 1) {
                return 1;
            }
            if (r < 0 && !ds->o.server) {
                return fail(ds, -r);
            }
        }
        if (!ds->o.server) {
            break;
        }
    }
    for (int errs = 0;;) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n =
            zsock_recvfrom(ds->inner, ds->dgram, DGRAM_CAP, ZSOCK_MSG_DONTWAIT | ZSOCK_MSG_TRUNC,
                           (struct sockaddr *)&from, &fromlen);
        if (n < 0) {
            int e = errno;
            if (e == EAGAIN || e == EINTR) {
                return -EAGAIN;
            }
            if (!ds->o.server) {
                return fail(ds, e); /* e.g. ECONNREFUSED from an ICMP error */
            }
            /* A server ignores what one peer's ICMP error reports (each is
             * reported once); anything else is the socket's own trouble. */
            bool peer_err = e == ECONNREFUSED || e == ECONNRESET || e == EHOSTUNREACH ||
                            e == ENETUNREACH || e == EHOSTDOWN;
            if (!peer_err || ++errs > 64) {
                return -e;
            }
            continue;
        }
        ds->st.rx_datagrams++;
        if ((size_t)n > DGRAM_CAP) {
            ds->st.rx_malformed++; /* larger than any record: truncated here */
            continue;
        }
        struct peer *p;
        unsigned char key[KEY_MAX];
        size_t keylen = addr_key(&from, fromlen, key);
        if (ds->o.server) {
            if (keylen == 0) {
                continue;
            }
            p = find_peer(ds, key, keylen);
        } else {
            p = ds->client;
        }
        if (!check_records(ds, p, ds->dgram, (size_t)n)) {
            ds->st.rx_malformed++;
            continue;
        }
        if (p == NULL) {
            int r = from_unknown(ds, &from, fromlen, key, keylen, (size_t)n);
            if (r != 0) {
                return r;
            }
            continue;
        }
        p->rx = ds->dgram;
        p->rx_len = (size_t)n;
        p->last_rx = clock_now(ds);
        int r = run_peer(ds, p);
        p->rx = NULL;
        if (r == 1) {
            return 1;
        }
        if (r < 0 && !ds->o.server) {
            return fail(ds, -r);
        }
        if (!ds->o.server && p->peer_closed) {
            return 0;
        }
    }
}

/* Retransmit what is due, fail or expire what timed out. Returns the time
 * of the next timer (Z_FOREVER: none). */
static int64_t run_timers(struct dtls_sock *ds)
{
    int64_t now = clock_now(ds);
    int64_t next = Z_FOREVER;
    struct peer *p = ds->o.server ? ds->peers : ds->client;
    for (; p != NULL; p = ds->o.server ? p->next : NULL) {
        if (p->state == P_HANDSHAKE && p->t_fin != 0 && now >= p->t_fin) {
            int r = run_peer(ds, p); /* mbedTLS sees the timer and resends */
            if (r < 0 && !ds->o.server) {
                fail(ds, -r);
                return Z_FOREVER;
            }
        }
        if (p->state == P_HANDSHAKE && p->t_fin != 0 && p->t_fin < next) {
            next = p->t_fin;
        }
        if (ds->o.server && ds->idle_ms > 0) {
            int64_t exp = p->last_rx + (int64_t)ds->idle_ms * 1000;
            next = exp < next ? exp : next;
        }
    }
    if (ds->o.server) {
        sweep(ds, now);
    }
    return next;
}

/* A deadline on the socket's clock turned into one on z_now_us (what waits
 * use); a virtual clock is driven by the test, so its waits do not sleep. */
static int64_t real_deadline(struct dtls_sock *ds, int64_t t)
{
    if (t == Z_FOREVER) {
        return Z_FOREVER;
    }
    if (ds->now != NULL) {
        return z_now_us();
    }
    return t;
}

/* Wait with the lock released (z_tls_wait_inner). Returns 0, -EAGAIN
 * (deadline) or -EINTR (closed). */
static int wait_inner(struct dtls_sock *ds, short events, int64_t deadline)
{
    if (ds->closed) {
        return -EINTR;
    }
    int rc = z_tls_wait_inner(&ds->wq, ds->inner_ops, ds->inner_obj, events, deadline);
    return ds->closed ? -EINTR : rc;
}

/* Client: start the handshake (set-up on first use) and move it on; wait
 * if `block`, until it completes, fails (mbedTLS gives up after
 * TLS_DTLS_HANDSHAKE_TIMEOUT_MAX: ETIMEDOUT) or `deadline` passes
 * (ETIMEDOUT, fatal). Returns 0 once open, -EAGAIN, or a negative errno. */
static int progress(struct dtls_sock *ds, bool block, int64_t deadline)
{
    for (;;) {
        switch (ds->state) {
        case D_OPEN:
            return 0;
        case D_FAILED:
            return -ds->error;
        case D_IDLE:
        case D_SERVER:
            return -ENOTCONN;
        case D_HANDSHAKE:
            break;
        }
        if (!ds->conf_ready) {
            int rc = setup_conf(ds);
            if (rc < 0) {
                return fail(ds, -rc);
            }
        }
        if (ds->client == NULL) {
            ds->client = peer_new(ds);
            if (ds->client == NULL) {
                return fail(ds, ENOMEM);
            }
            set_addr(ds->client, &ds->last_peer, ds->last_peerlen);
            if (ds->o.cache_on) {
                z_tls_client_cache_apply(&ds->client->ssl, &ds->client->addr, ds->client->addrlen);
            }
        }
        int64_t next = run_timers(ds);
        if (ds->state == D_FAILED) {
            continue;
        }
        int r = run_peer(ds, ds->client);
        if (r < 0) {
            return fail(ds, -r);
        }
        if (ds->client->state == P_OPEN) {
            ds->state = D_OPEN;
            continue;
        }
        r = pump(ds);
        if (r < 0 && r != -EAGAIN) {
            return r;
        }
        if (ds->client->state == P_OPEN) {
            ds->state = D_OPEN;
            continue;
        }
        if (ds->client->state == P_DEAD) {
            return fail(ds, ds->client->error ? ds->client->error : EPROTO);
        }
        if (!block) {
            return -EAGAIN;
        }
        if (z_now_us() >= deadline) {
            return fail(ds, ETIMEDOUT);
        }
        next = run_timers(ds);
        int64_t until = real_deadline(ds, next);
        int w = wait_inner(ds, ZSOCK_POLLIN, until < deadline ? until : deadline);
        if (w == -EINTR) {
            return w;
        }
    }
}

/* ---- object lifetime
 * ------------------------------------------------------------------------------------ */

static struct dtls_sock *dtls_alloc(int inner, int family, int proto, bool nonblock)
{
    struct dtls_sock *ds = z_calloc(1, sizeof(*ds));
    if (ds == NULL) {
        return NULL;
    }
    z_sockbase_init(&ds->base, family, SOCK_DGRAM, proto, nonblock);
    z_mutex_init(&ds->lock);
    z_waitq_init(&ds->wq, &ds->lock);
    ds->inner = inner;
    ds->state = D_IDLE;
    z_tls_opts_init(&ds->o);
    ds->max_sessions = CONFIG_NET_SOCKETS_DTLS_MAX_SESSIONS;
    ds->idle_ms = CONFIG_NET_SOCKETS_DTLS_TIMEOUT;
    return ds;
}

static void free_unpublished(struct dtls_sock *ds)
{
    z_tls_opts_free(&ds->o);
    z_mutex_destroy(&ds->lock);
    z_free(ds);
}

static int dtls_publish(struct dtls_sock *ds)
{
    int fd = z_tls_publish(ds, &dtls_ops.fd, ds->inner, &ds->inner_obj, &ds->inner_ops);
    if (fd < 0) {
        free_unpublished(ds);
    }
    return fd;
}

static void dtls_close(void *obj)
{
    struct dtls_sock *ds = obj;
    z_mutex_lock(&ds->lock);
    ds->closed = true;
    z_waitq_wake(&ds->wq);
    /* Best effort, never blocking: close_notify to every open session. */
    struct peer *p = ds->o.server ? ds->peers : ds->client;
    for (; p != NULL; p = ds->o.server ? p->next : NULL) {
        if (p->state == P_OPEN) {
            mbedtls_ssl_close_notify(&p->ssl);
        }
    }
    z_mutex_unlock(&ds->lock);
    zsock_close(ds->inner);
}

static void dtls_release(void *obj)
{
    struct dtls_sock *ds = obj;
    peer_free(ds->client);
    while (ds->peers != NULL) {
        struct peer *p = ds->peers;
        ds->peers = p->next;
        peer_free(p);
    }
    peer_free(ds->scratch);
    if (ds->conf_ready) {
        mbedtls_ssl_cookie_free(&ds->cookie);
        mbedtls_ssl_config_free(&ds->conf);
        mbedtls_ctr_drbg_free(&ds->drbg);
        z_tls_keys_free(&ds->keys);
    }
    z_fd_put(ds->inner);
    z_tls_opts_free(&ds->o);
    if (ds->rec != NULL) {
        mbedtls_platform_zeroize(ds->rec, REC_CAP);
    }
    z_free(ds->rec);
    z_free(ds->dgram);
    z_mutex_destroy(&ds->lock);
    z_free(ds);
}

static int lock_open(struct dtls_sock *ds)
{
    z_mutex_lock(&ds->lock);
    if (ds->closed) {
        z_mutex_unlock(&ds->lock);
        return -EBADF;
    }
    return 0;
}

/* Server role chosen (TLS_DTLS_ROLE) and a local address: the socket
 * serves from now on; its configuration is built at first use, so options
 * set after bind() still count. */
static int start_server(struct dtls_sock *ds)
{
    if (ds->state == D_IDLE) {
        ds->o.server = true;
        ds->state = D_SERVER;
    }
    return 0;
}

/* A serving socket's configuration, built on first use. 0 or a negative
 * errno (fatal: the socket then reports it on every call). */
static int server_conf(struct dtls_sock *ds)
{
    if (ds->state == D_SERVER && !ds->conf_ready) {
        int rc = setup_conf(ds);
        if (rc < 0) {
            return fail(ds, -rc);
        }
    }
    return ds->state == D_FAILED ? -ds->error : 0;
}

/* ---- socket calls
 * ----------------------------------------------------------------------------------- */

static int dtls_bind(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct dtls_sock *ds = obj;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    rc = zsock_bind(ds->inner, addr, addrlen) < 0 ? -errno : 0;
    if (rc == 0 && ds->o.dtls_role == TLS_DTLS_ROLE_SERVER) {
        rc = start_server(ds);
    }
    z_mutex_unlock(&ds->lock);
    return rc;
}

/* Client: fix the peer (the inner socket connects to it). */
static int set_peer(struct dtls_sock *ds, const struct sockaddr *addr, socklen_t addrlen)
{
    if (addrlen > sizeof(ds->last_peer)) {
        return -EINVAL;
    }
    if (zsock_connect(ds->inner, addr, addrlen) < 0) {
        return -errno;
    }
    memcpy(&ds->last_peer, addr, addrlen);
    ds->last_peerlen = addrlen;
    ds->connected = true;
    ds->state = D_HANDSHAKE;
    return 0;
}

static int dtls_connect(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct dtls_sock *ds = obj;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    bool block = z_sockbase_blocking(&ds->base, 0);
    switch (ds->state) {
    case D_IDLE:
        if (ds->o.dtls_role == TLS_DTLS_ROLE_SERVER) {
            rc = -EOPNOTSUPP; /* a server serves whoever comes */
            break;
        }
        rc = set_peer(ds, addr, addrlen);
        if (rc < 0 || !ds->o.hs_on_connect) {
            break;
        }
        rc = progress(ds, block, z_tls_call_deadline(ds->base.sndtimeo_us));
        if (rc == -EAGAIN) {
            rc = -EINPROGRESS;
        }
        break;
    case D_HANDSHAKE:
        rc = ds->hs_attempted ? -EALREADY : -EISCONN;
        break;
    case D_OPEN:
        rc = -EISCONN;
        break;
    case D_SERVER:
        rc = -EOPNOTSUPP;
        break;
    case D_FAILED:
        rc = -ds->error;
        break;
    }
    z_mutex_unlock(&ds->lock);
    return rc;
}

static bool same_addr(const struct sockaddr *a, socklen_t alen, const struct sockaddr_storage *b,
                      socklen_t blen)
{
    unsigned char ka[KEY_MAX], kb[KEY_MAX];
    size_t la = addr_key((const struct sockaddr_storage *)a, alen, ka);
    size_t lb = addr_key(b, blen, kb);
    return la != 0 && la == lb && memcmp(ka, kb, la) == 0;
}

static ssize_t dtls_sendmsg(void *obj, const struct msghdr *msg, int flags)
{
    struct dtls_sock *ds = obj;
    size_t total = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    bool block = z_sockbase_blocking(&ds->base, flags);
    const struct sockaddr *dest = msg->msg_name;
    socklen_t destlen = msg->msg_namelen;
    ssize_t out;
    struct peer *p = NULL;
    if (ds->state == D_SERVER && (rc = server_conf(ds)) < 0) {
        out = rc;
        goto done;
    }
    if (ds->state == D_SERVER) {
        run_timers(ds);
        if (dest == NULL) {
            if (ds->last_peerlen == 0) {
                out = -EDESTADDRREQ;
                goto done;
            }
            dest = (const struct sockaddr *)&ds->last_peer;
            destlen = ds->last_peerlen;
        }
        unsigned char key[KEY_MAX];
        size_t keylen = addr_key((const struct sockaddr_storage *)dest, destlen, key);
        p = keylen > 0 ? find_peer(ds, key, keylen) : NULL;
        if (p == NULL || p->state != P_OPEN) {
            out = -ENOTCONN; /* no established session with that peer */
            goto done;
        }
    } else {
        if (ds->state == D_IDLE) {
            if (dest == NULL) {
                out = -EDESTADDRREQ;
                goto done;
            }
            if (ds->o.dtls_role == TLS_DTLS_ROLE_SERVER) {
                out = -ENOTCONN;
                goto done;
            }
            if ((rc = set_peer(ds, dest, destlen)) < 0) {
                out = rc;
                goto done;
            }
        } else if (dest != NULL && !same_addr(dest, destlen, &ds->last_peer, ds->last_peerlen)) {
            out = -EISCONN;
            goto done;
        }
        rc = progress(ds, block, z_tls_call_deadline(ds->base.sndtimeo_us));
        if (rc < 0) {
            out = rc;
            goto done;
        }
        p = ds->client;
    }
    int maxp = mbedtls_ssl_get_max_out_record_payload(&p->ssl);
    if (maxp < 0 || total > (size_t)maxp) {
        out = -EMSGSIZE; /* one datagram is one record */
        goto done;
    }
    const unsigned char *buf;
    if (msg->msg_iovlen == 1 || total == 0) {
        buf = total > 0 ? msg->msg_iov[0].iov_base : (const unsigned char *)"";
    } else {
        /* Gather into the record buffer's twin: the datagram buffer, free
         * between reads. */
        struct z_iov_iter it;
        z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
        z_iov_gather(&it, ds->dgram, total);
        buf = ds->dgram;
    }
    int64_t deadline = INT64_MIN;
    for (;;) {
        int ret = mbedtls_ssl_write(&p->ssl, buf, total);
        if (p->tx_too_big) {
            /* The path took no datagram that large: nothing was sent, and
             * mbedTLS now limits records to what it does take. */
            p->tx_too_big = false;
            out = -EMSGSIZE;
            break;
        }
        if (ret >= 0 || (ret == MBEDTLS_ERR_SSL_WANT_WRITE && p->ssl.out_left > 0)) {
            /* Sent, or encrypted and held by mbedTLS until the socket takes it. */
            out = (ssize_t)total;
            break;
        }
        if (ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            int e = z_tls_map_error(ret, p->io_errno);
            out = ds->state == D_SERVER ? -e : fail(ds, e);
            break;
        }
        if (!block) {
            out = -EAGAIN;
            break;
        }
        if (deadline == INT64_MIN) {
            deadline = z_tls_call_deadline(ds->base.sndtimeo_us);
        }
        int w = wait_inner(ds, ZSOCK_POLLOUT, deadline);
        if (w < 0) {
            out = w;
            break;
        }
    }
done:
    z_mutex_unlock(&ds->lock);
    return out;
}

static ssize_t dtls_recvmsg(void *obj, struct msghdr *msg, int flags)
{
    struct dtls_sock *ds = obj;
    size_t want = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    msg->msg_controllen = 0;
    msg->msg_flags = 0;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    bool block = z_sockbase_blocking(&ds->base, flags);
    int64_t deadline = z_tls_call_deadline(ds->base.rcvtimeo_us);
    ssize_t out;
    if (ds->state == D_IDLE) {
        out = ds->o.dtls_role == TLS_DTLS_ROLE_SERVER ? -EINVAL : -ENOTCONN;
        goto done;
    }
    if (ds->state == D_SERVER && (rc = server_conf(ds)) < 0) {
        out = rc;
        goto done;
    }
    if (ds->state != D_SERVER) {
        rc = progress(ds, block, deadline);
        if (rc < 0 && !(ds->rec_ready && ds->state == D_FAILED)) {
            out = rc;
            goto done;
        }
    }
    for (;;) {
        int64_t next = run_timers(ds);
        if (ds->rec_ready) {
            size_t n = ds->rec_len < want ? ds->rec_len : want;
            struct z_iov_iter it;
            z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
            z_iov_scatter(&it, ds->rec, n);
            if (n < ds->rec_len) {
                msg->msg_flags |= ZSOCK_MSG_TRUNC;
            }
            if (msg->msg_name != NULL) {
                socklen_t nl =
                    msg->msg_namelen < ds->rec_fromlen ? msg->msg_namelen : ds->rec_fromlen;
                memcpy(msg->msg_name, &ds->rec_from, nl);
                msg->msg_namelen = ds->rec_fromlen;
            }
            if (ds->state == D_SERVER) {
                memcpy(&ds->last_peer, &ds->rec_from, ds->rec_fromlen);
                ds->last_peerlen = ds->rec_fromlen;
            }
            out = (flags & ZSOCK_MSG_TRUNC) ? (ssize_t)ds->rec_len : (ssize_t)n;
            if (!(flags & ZSOCK_MSG_PEEK)) {
                ds->rec_ready = false;
            }
            break;
        }
        if (ds->state == D_FAILED) {
            out = -ds->error;
            break;
        }
        if (ds->client != NULL && ds->client->peer_closed) {
            out = 0; /* the server closed the session: end of stream */
            break;
        }
        int r = pump(ds);
        if (r == 1 || r == 0) {
            continue;
        }
        if (r != -EAGAIN) {
            out = r;
            break;
        }
        if (!block) {
            out = -EAGAIN;
            break;
        }
        if (z_now_us() >= deadline) {
            out = -EAGAIN;
            break;
        }
        int64_t until = real_deadline(ds, next);
        int w = wait_inner(ds, ZSOCK_POLLIN, until < deadline ? until : deadline);
        if (w == -EINTR) {
            out = w;
            break;
        }
    }
done:
    z_mutex_unlock(&ds->lock);
    return out;
}

static int dtls_shutdown(void *obj, int how)
{
    (void)how;
    struct dtls_sock *ds = obj;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    rc = ds->state == D_OPEN || ds->state == D_SERVER ? -EOPNOTSUPP : -ENOTCONN;
    z_mutex_unlock(&ds->lock);
    return rc;
}

static int dtls_getpeername(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct dtls_sock *ds = obj;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    if (ds->state == D_SERVER || !ds->connected) {
        rc = -ENOTCONN;
    } else {
        rc = zsock_getpeername(ds->inner, addr, addrlen) < 0 ? -errno : 0;
    }
    z_mutex_unlock(&ds->lock);
    return rc;
}

static int dtls_getsockname(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct dtls_sock *ds = obj;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    rc = zsock_getsockname(ds->inner, addr, addrlen) < 0 ? -errno : 0;
    z_mutex_unlock(&ds->lock);
    return rc;
}

/* The client's session, for the connection's facts. */
static struct peer *fact_peer(struct dtls_sock *ds)
{
    return ds->state == D_OPEN ? ds->client : NULL;
}

static int dtls_getsockopt(void *obj, int level, int optname, void *optval, socklen_t *optlen)
{
    struct dtls_sock *ds = obj;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    if (level == SOL_TLS) {
        struct peer *p = fact_peer(ds);
        switch (optname) {
        case TLS_CIPHERSUITE_USED:
            rc = p == NULL ? -ENOTCONN
                           : z_opt_put_int(optval, optlen,
                                           mbedtls_ssl_get_ciphersuite_id(
                                               mbedtls_ssl_get_ciphersuite(&p->ssl)));
            break;
        case TLS_CERT_VERIFY_RESULT:
            rc = ds->client == NULL ? -ENOTCONN
                                    : z_tls_put_u32(optval, optlen, ds->client->verify_result);
            break;
        case TLS_DTLS_CID:
        case TLS_DTLS_CID_STATUS:
        case TLS_DTLS_CID_VALUE:
        case TLS_DTLS_PEER_CID_VALUE:
            rc = -ENOPROTOOPT; /* no connection ids in this mbedTLS (docs/tls.md) */
            break;
        default:
            rc = z_tls_opts_get(&ds->o, optname, optval, optlen);
            break;
        }
    } else if (level == SOL_SOCKET && optname == SO_ERROR && ds->error != 0) {
        rc = z_opt_put_int(optval, optlen, ds->error);
    } else {
        rc = z_tls_getsockopt_rest(&ds->base, ds->inner, level, optname, optval, optlen);
    }
    z_mutex_unlock(&ds->lock);
    return rc;
}

static int dtls_setsockopt(void *obj, int level, int optname, const void *optval, socklen_t optlen)
{
    struct dtls_sock *ds = obj;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    if (level == SOL_TLS) {
        if (optname == TLS_DTLS_CID || optname == TLS_DTLS_CID_VALUE) {
            rc = -ENOPROTOOPT; /* no connection ids in this mbedTLS (docs/tls.md) */
        } else if (optname == TLS_DTLS_ROLE && ds->state != D_IDLE) {
            rc = -EISCONN;
        } else if ((optname == TLS_DTLS_HANDSHAKE_TIMEOUT_MIN ||
                    optname == TLS_DTLS_HANDSHAKE_TIMEOUT_MAX) &&
                   ds->conf_ready) {
            rc = -EISCONN; /* the timers of the sessions are set */
        } else {
            rc = z_tls_opts_set(&ds->o, !ds->conf_ready, optname, optval, optlen);
        }
        if (rc == 0 && optname == TLS_DTLS_ROLE && ds->o.dtls_role == TLS_DTLS_ROLE_SERVER) {
            /* Already bound: serving starts now, else at bind(). */
            struct sockaddr_storage a;
            socklen_t al = sizeof(a);
            if (zsock_getsockname(ds->inner, (struct sockaddr *)&a, &al) == 0 &&
                ((struct sockaddr_in *)&a)->sin_port != 0) {
                rc = start_server(ds);
            }
        }
    } else {
        rc = z_tls_setsockopt_rest(&ds->base, ds->inner, level, optname, optval, optlen);
    }
    z_mutex_unlock(&ds->lock);
    return rc;
}

static int dtls_ioctl(void *obj, unsigned long request, int *arg)
{
    struct dtls_sock *ds = obj;
    int rc = lock_open(ds);
    if (rc < 0) {
        return rc;
    }
    switch (request) {
    case FIONREAD:
        if (ds->state == D_OPEN || (ds->state == D_SERVER && server_conf(ds) == 0)) {
            (void)pump(ds);
        }
        *arg = ds->rec_ready ? (int)ds->rec_len : 0; /* the next datagram's size */
        break;
    case FIONWRITE:
        rc = zsock_ioctl(ds->inner, FIONWRITE, arg) < 0 ? -errno : 0;
        break;
    default:
        rc = z_sockbase_ioctl(&ds->base, request, arg);
        break;
    }
    z_mutex_unlock(&ds->lock);
    return rc;
}

static short dtls_poll(void *obj, struct z_wait_entry *we)
{
    struct dtls_sock *ds = obj;
    z_mutex_lock(&ds->lock);
    if (ds->closed) {
        z_mutex_unlock(&ds->lock);
        return ZSOCK_POLLNVAL;
    }
    short in = ds->inner_ops->poll(ds->inner_obj, we);
    short rev = 0;
    if (in & ZSOCK_POLLNVAL) {
        z_mutex_unlock(&ds->lock);
        return ZSOCK_POLLNVAL;
    }
    switch (ds->state) {
    case D_IDLE:
        rev = in & ZSOCK_POLLOUT;
        break;
    case D_HANDSHAKE:
        if (progress(ds, false, 0) != 0) {
            if (ds->state == D_FAILED) {
                rev = ZSOCK_POLLERR;
            } else if (ds->client != NULL && ds->client->t_fin != 0) {
                z_wait_entry_wake_by(we, real_deadline(ds, ds->client->t_fin));
            }
            break;
        }
        /* fall through */
    case D_OPEN:
    case D_SERVER:
    case D_FAILED: {
        int64_t next = Z_FOREVER;
        (void)server_conf(ds);
        if (ds->state != D_FAILED) {
            next = run_timers(ds);
            if (!ds->rec_ready && ds->state != D_FAILED) {
                (void)pump(ds);
            }
        }
        if (ds->rec_ready) {
            rev |= ZSOCK_POLLIN;
        }
        if (ds->client != NULL && ds->client->peer_closed) {
            rev |= ZSOCK_POLLIN | ZSOCK_POLLHUP;
        }
        if (ds->state == D_FAILED) {
            rev |= ZSOCK_POLLERR;
        } else {
            rev |= in & ZSOCK_POLLOUT;
            if (!ds->rec_ready && next != Z_FOREVER) {
                z_wait_entry_wake_by(we, real_deadline(ds, next));
            }
        }
        break;
    }
    }
    z_mutex_unlock(&ds->lock);
    return rev;
}

static const struct z_socket_ops dtls_ops = {
    .fd =
        {
            .close = dtls_close,
            .release = dtls_release,
            .poll = dtls_poll,
            .ioctl = dtls_ioctl,
        },
    .shutdown = dtls_shutdown,
    .bind = dtls_bind,
    .connect = dtls_connect,
    .sendmsg = dtls_sendmsg,
    .recvmsg = dtls_recvmsg,
    .getsockopt = dtls_getsockopt,
    .setsockopt = dtls_setsockopt,
    .getpeername = dtls_getpeername,
    .getsockname = dtls_getsockname,
};

#endif /* !DTLS_UNAVAILABLE */

/* ---- family registration and internal entry points
 * -------------------------------------------------- */

static int dtls_supports(int family, int type, int proto)
{
    if (proto != IPPROTO_DTLS_1_0 && proto != IPPROTO_DTLS_1_2) {
        return -EAFNOSUPPORT; /* not ours */
    }
    if (family != AF_INET && family != AF_INET6) {
        return -EAFNOSUPPORT;
    }
    if (type != SOCK_DGRAM) {
        return -EPROTOTYPE;
    }
#if defined(DTLS_UNAVAILABLE)
    return -EPROTONOSUPPORT;
#else
#if !defined(MBEDTLS_SSL_PROTO_TLS1_1)
    if (proto == IPPROTO_DTLS_1_0) {
        return -EPROTONOSUPPORT; /* DTLS 1.0 is TLS 1.1 in mbedTLS */
    }
#endif
    return 0;
#endif
}

#if defined(DTLS_UNAVAILABLE)
static int dtls_create(int family, int type, int proto, bool nonblock)
{
    (void)family, (void)type, (void)proto, (void)nonblock;
    return -EPROTONOSUPPORT;
}

int z_dtls_wrap(int inner_fd, int proto)
{
    (void)inner_fd, (void)proto;
    return -EPROTONOSUPPORT;
}

int z_dtls_get_stats(int fd, struct z_dtls_stats *st)
{
    (void)fd, (void)st;
    return -EOPNOTSUPP;
}

int z_dtls_set_limits(int fd, int max_sessions, uint32_t idle_ms)
{
    (void)fd, (void)max_sessions, (void)idle_ms;
    return -EOPNOTSUPP;
}

int z_dtls_set_clock(int fd, int64_t (*now_us)(void *ctx), void *ctx)
{
    (void)fd, (void)now_us, (void)ctx;
    return -EOPNOTSUPP;
}

int z_dtls_get_info(int fd, struct z_tls_info *info)
{
    (void)fd, (void)info;
    return -EOPNOTSUPP;
}
#else
static int dtls_create(int family, int type, int proto, bool nonblock)
{
    int inner = zsock_socket(family, type, IPPROTO_UDP);
    if (inner < 0) {
        return -errno;
    }
    struct dtls_sock *ds = dtls_alloc(inner, family, proto, nonblock);
    if (ds == NULL) {
        zsock_close(inner);
        return -ENOMEM;
    }
    int fd = dtls_publish(ds);
    if (fd < 0) {
        zsock_close(inner);
    }
    return fd;
}

int z_dtls_wrap(int inner_fd, int proto)
{
    if (proto != IPPROTO_DTLS_1_0 && proto != IPPROTO_DTLS_1_2) {
        return -EPROTONOSUPPORT;
    }
    int rc = z_tls_check_inner(inner_fd, SOCK_DGRAM);
    if (rc < 0) {
        return rc;
    }
    int family;
    socklen_t len = sizeof(family);
    if (zsock_getsockopt(inner_fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0) {
        return -errno;
    }
    struct dtls_sock *ds = dtls_alloc(inner_fd, family, proto, false);
    if (ds == NULL) {
        return -ENOMEM;
    }
    return dtls_publish(ds);
}

/* The DTLS object behind fd, referenced (z_fd_put(fd) after). */
static struct dtls_sock *get_dtls(int fd, int *err)
{
    return z_tls_fd_object(fd, &dtls_ops.fd, err);
}

int z_dtls_get_stats(int fd, struct z_dtls_stats *st)
{
    int err;
    struct dtls_sock *ds = get_dtls(fd, &err);
    if (ds == NULL) {
        return err;
    }
    z_mutex_lock(&ds->lock);
    *st = ds->st;
    st->sessions = (uint32_t)(ds->o.server ? ds->npeers : ds->state == D_OPEN);
    z_mutex_unlock(&ds->lock);
    z_fd_put(fd);
    return 0;
}

int z_dtls_set_limits(int fd, int max_sessions, uint32_t idle_ms)
{
    if (max_sessions < 1) {
        return -EINVAL;
    }
    int err;
    struct dtls_sock *ds = get_dtls(fd, &err);
    if (ds == NULL) {
        return err;
    }
    z_mutex_lock(&ds->lock);
    ds->max_sessions = max_sessions;
    ds->idle_ms = idle_ms;
    z_mutex_unlock(&ds->lock);
    z_fd_put(fd);
    return 0;
}

int z_dtls_set_clock(int fd, int64_t (*now_us)(void *ctx), void *ctx)
{
    int err;
    struct dtls_sock *ds = get_dtls(fd, &err);
    if (ds == NULL) {
        return err;
    }
    z_mutex_lock(&ds->lock);
    ds->now = now_us;
    ds->now_ctx = ctx;
    z_mutex_unlock(&ds->lock);
    z_fd_put(fd);
    return 0;
}

int z_dtls_get_info(int fd, struct z_tls_info *info)
{
    int err;
    struct dtls_sock *ds = get_dtls(fd, &err);
    if (ds == NULL) {
        return err;
    }
    memset(info, 0, sizeof(*info));
    z_mutex_lock(&ds->lock);
    struct peer *p = fact_peer(ds);
    if (p != NULL) {
        info->handshake_done = true;
        info->resumed = p->resumed;
        info->verify_result = p->verify_result;
        const char *name = mbedtls_ssl_get_ciphersuite(&p->ssl);
        info->ciphersuite = name != NULL ? mbedtls_ssl_get_ciphersuite_id(name) : 0;
        z_snprintf(info->version, sizeof(info->version), "%s", mbedtls_ssl_get_version(&p->ssl));
    }
    z_mutex_unlock(&ds->lock);
    z_fd_put(fd);
    return 0;
}
#endif

/* Ahead of inet (50), next to TLS (45). */
struct z_socket_family z_dtls_family = {
    .name = "dtls",
    .priority = 44,
    .supports = dtls_supports,
    .create = dtls_create,
};
