/* TLS sockets (IPPROTO_TLS_1_0..1_2) on mbedTLS 2.28, stacked on an inner
 * zsock stream socket. The TLS layer talks to the inner socket through the
 * public zsock_* calls, always non-blocking (MSG_DONTWAIT); blocking
 * behaviour and timeouts come from waiting on the inner socket's wait queue
 * (its poll op, as zsock_poll() does), so a close from another thread wakes
 * every waiter. Each socket owns its mbedTLS context, configuration, DRBG
 * and parsed credentials; only the session caches are shared, under a lock.
 *
 * One mutex per socket guards its state and its mbedTLS context. mbedTLS
 * calls run with it held and never block (the inner socket is
 * non-blocking); waits release it. Lock order: TLS socket, then whatever
 * the inner socket takes. The inner descriptor stays referenced until the
 * TLS socket is released, so its number is never reused under us. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/debug.h>
#include <mbedtls/net_sockets.h> /* only for the MBEDTLS_ERR_NET_* codes */
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/x509_crt.h>

#include "port/port.h"
#include "sockets/fdtable.h"
#include "sockets/iov.h"
#include "sockets/sockbase.h"
#include "tls/credentials_internal.h"
#include "tls/tls_internal.h"

/* With static memory, mbedTLS allocates from zsock's arena too, when its
 * build lets the allocator be set at run time (MBEDTLS_PLATFORM_MEMORY
 * without the compile-time macros). Debian's build does not: there, its
 * allocations stay on the C library's heap (docs/embedded.md). */
#if defined(CONFIG_ZSOCK_STATIC_MEMORY) && defined(MBEDTLS_PLATFORM_MEMORY) &&                     \
    !defined(MBEDTLS_PLATFORM_CALLOC_MACRO)
#include <mbedtls/platform.h>
#define TLS_MBEDTLS_ON_ZSOCK_HEAP 1
static z_once_t mbedtls_heap_once = Z_ONCE_INIT;
static void mbedtls_heap_init(void)
{
    /* Process-wide: an application's own mbedTLS calls use the arena too. */
    mbedtls_platform_set_calloc_free(z_calloc, z_free);
}
#endif

/* strdup() on zsock's heap: the C library's would call malloc. */
static char *tls_strdup(const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = z_malloc(len);
    if (d != NULL) {
        memcpy(d, s, len);
    }
    return d;
}

/* ---- credentials copied from the store
 * ------------------------------------------------------------ */

/* One credential as the store held it when TLS_SEC_TAG_LIST was set. PEM
 * data always ends with a NUL here (added if the store's copy lacked one). */
struct tls_blob {
    sec_tag_t tag;
    enum tls_credential_type type;
    size_t len;
    unsigned char data[];
};

/* The credentials of a tag list: immutable once built, shared between a
 * listener and the sockets it accepts, freed with the last reference. */
struct tls_creds {
    int refs;
    int n;
    struct tls_blob *b[CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS * 5];
};

static z_mutex_t creds_ref_lock = Z_MUTEX_INITIALIZER;

static struct tls_creds *creds_ref(struct tls_creds *c)
{
    if (c != NULL) {
        z_mutex_lock(&creds_ref_lock);
        c->refs++;
        z_mutex_unlock(&creds_ref_lock);
    }
    return c;
}

static void creds_unref(struct tls_creds *c)
{
    if (c == NULL) {
        return;
    }
    z_mutex_lock(&creds_ref_lock);
    int left = --c->refs;
    z_mutex_unlock(&creds_ref_lock);
    if (left > 0) {
        return;
    }
    for (int i = 0; i < c->n; i++) {
        mbedtls_platform_zeroize(c->b[i]->data, c->b[i]->len);
        z_free(c->b[i]);
    }
    z_free(c);
}

static const struct tls_blob *creds_find(const struct tls_creds *c, sec_tag_t tag,
                                         enum tls_credential_type type)
{
    for (int i = 0; c != NULL && i < c->n; i++) {
        if (c->b[i]->tag == tag && c->b[i]->type == type) {
            return c->b[i];
        }
    }
    return NULL;
}

/* ---- the socket object
 * ---------------------------------------------------------------------------- */

enum tls_state {
    ST_IDLE,       /* fresh: neither connected nor listening */
    ST_CONNECTING, /* the inner socket's connect is in progress */
    ST_READY,      /* transport up, handshake not started */
    ST_HANDSHAKE,  /* handshake in progress */
    ST_OPEN,       /* handshake done: data flows */
    ST_LISTENING,
    ST_FAILED, /* a fatal error, in `error` */
};

#define MAX_OWN CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS

struct tls_sock {
    struct z_sockbase base;
    z_mutex_t lock;
    /* Threads of this socket blocked in wait_inner(), woken when another
     * thread changes the socket's state (handshake over, fatal error,
     * close) without the inner socket seeing an event. Guarded by lock. */
    struct z_waitq wq;
    int inner;
    void *inner_obj; /* referenced until release */
    const struct z_fd_ops *inner_ops;
    enum tls_state state;
    bool closed;
    bool ssl_ready;    /* conf/ssl set up */
    bool hs_attempted; /* a handshake started at least once */
    bool inner_eof;    /* the inner socket reported end of stream */
    bool rx_eof;       /* recv reports end of stream from now on */
    bool close_notify; /* the peer sent close_notify */
    bool shut_wr, shut_rd;
    bool resumed;
    int error;    /* sticky fatal error (positive errno), 0 if none */
    int io_errno; /* errno of the last failed inner send/recv */
    short want;   /* POLLIN/POLLOUT the last WANT_* asked for */
    uint32_t verify_result;

    struct z_tls_opts o; /* SOL_TLS options, the role (o.server) */
    struct sockaddr_storage peer;
    socklen_t peerlen;

    /* mbedTLS state, set up when the handshake starts */
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_ctr_drbg_context drbg;
    struct z_tls_keys keys; /* parsed credentials */

    /* plaintext moved out of mbedTLS for MSG_PEEK */
    unsigned char *pt;
    size_t pt_off, pt_len, pt_cap;
    unsigned char *txbuf; /* gathers small iovecs into one record */

    uint64_t hs_in, hs_out;
};

static const struct z_socket_ops tls_ops;
static void free_unpublished(struct tls_sock *ts);

static short mbed_want(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_WRITE ? ZSOCK_POLLOUT : ZSOCK_POLLIN;
}

/* ---- debug logging (ZSOCK_TLS_DEBUG=1..4 in the environment)
 * --------------------------------------------------- */

static int debug_level;
static z_once_t debug_once = Z_ONCE_INIT;

#ifndef ZSOCK_PORT_NONE /* a hosted system: stdio and an environment */
static void debug_init(void)
{
    const char *s = getenv("ZSOCK_TLS_DEBUG");
    if (s != NULL) {
        debug_level = atoi(s);
        if (debug_level > 0) {
            mbedtls_debug_set_threshold(debug_level);
        }
    }
}

static void debug_print(void *ctx, int level, const char *file, int line, const char *msg)
{
    const int *fd = ctx;
    const char *base = strrchr(file, '/');
    fprintf(stderr, "zsock-tls[%d] %d %s:%d: %s", *fd, level, base ? base + 1 : file, line, msg);
}

#define DEBUG_FAIL(ts)                                                                             \
    do {                                                                                           \
        if (debug_level > 0) {                                                                     \
            fprintf(stderr, "zsock-tls[%d]: failed: %s\n", (ts)->inner, strerror((ts)->error));    \
        }                                                                                          \
    } while (0)
#else
/* No stdio on a bare-metal target: no debug output. */
static void debug_init(void)
{
}

static void debug_print(void *ctx, int level, const char *file, int line, const char *msg)
{
    (void)ctx;
    (void)level;
    (void)file;
    (void)line;
    (void)msg;
}

#define DEBUG_FAIL(ts) ((void)(ts))
#endif

/* ---- session caches
 * ------------------------------------------------------------------------------- */

/* Long enough for a sockaddr_in6. */
#define PEER_KEY_MAX 28

struct client_session {
    unsigned char peer[PEER_KEY_MAX];
    socklen_t peerlen;
    unsigned char *blob; /* mbedtls_ssl_session_save() form */
    size_t len;
    uint64_t stamp;
};

static z_mutex_t cache_lock = Z_MUTEX_INITIALIZER;
static struct client_session client_cache[CONFIG_NET_SOCKETS_TLS_MAX_CLIENT_SESSION_COUNT];
static uint64_t cache_clock;
static mbedtls_ssl_cache_context server_cache;
static bool server_cache_ready;

static void server_cache_init_locked(void)
{
    mbedtls_ssl_cache_init(&server_cache);
    mbedtls_ssl_cache_set_max_entries(&server_cache,
                                      CONFIG_NET_SOCKETS_TLS_MAX_SERVER_SESSION_COUNT);
    server_cache_ready = true;
}

static int server_cache_get(void *data, mbedtls_ssl_session *session)
{
    z_mutex_lock(&cache_lock);
    int rc = server_cache_ready ? mbedtls_ssl_cache_get(data, session) : 1;
    z_mutex_unlock(&cache_lock);
    return rc;
}

static int server_cache_set(void *data, const mbedtls_ssl_session *session)
{
    z_mutex_lock(&cache_lock);
    if (!server_cache_ready) {
        server_cache_init_locked();
    }
    int rc = mbedtls_ssl_cache_set(data, session);
    z_mutex_unlock(&cache_lock);
    return rc;
}

static void caches_purge(void)
{
    z_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CONFIG_NET_SOCKETS_TLS_MAX_CLIENT_SESSION_COUNT; i++) {
        if (client_cache[i].blob != NULL) {
            mbedtls_platform_zeroize(client_cache[i].blob, client_cache[i].len);
            z_free(client_cache[i].blob);
        }
        memset(&client_cache[i], 0, sizeof(client_cache[i]));
    }
    if (server_cache_ready) {
        mbedtls_ssl_cache_free(&server_cache);
        server_cache_init_locked();
    }
    z_mutex_unlock(&cache_lock);
}

static bool same_peer(const struct client_session *s, const void *p, socklen_t len)
{
    return s->blob != NULL && s->peerlen == len && memcmp(s->peer, p, len) == 0;
}

void z_tls_client_cache_store(mbedtls_ssl_context *ssl, const void *peer, socklen_t peerlen)
{
    if (peerlen == 0 || peerlen > PEER_KEY_MAX) {
        return;
    }
    mbedtls_ssl_session sess;
    mbedtls_ssl_session_init(&sess);
    size_t len = 0;
    unsigned char *blob = NULL;
    if (mbedtls_ssl_get_session(ssl, &sess) != 0) {
        goto out;
    }
    mbedtls_ssl_session_save(&sess, NULL, 0, &len);
    blob = len > 0 ? z_malloc(len) : NULL;
    if (blob == NULL || mbedtls_ssl_session_save(&sess, blob, len, &len) != 0) {
        z_free(blob);
        goto out;
    }
    z_mutex_lock(&cache_lock);
    struct client_session *slot = NULL;
    for (size_t i = 0; i < CONFIG_NET_SOCKETS_TLS_MAX_CLIENT_SESSION_COUNT; i++) {
        struct client_session *s = &client_cache[i];
        if (same_peer(s, peer, peerlen)) {
            slot = s;
            break;
        }
        if (slot == NULL || (slot->blob != NULL && (s->blob == NULL || s->stamp < slot->stamp))) {
            slot = s; /* a free slot, else the oldest */
        }
    }
    if (slot->blob != NULL) {
        mbedtls_platform_zeroize(slot->blob, slot->len);
        z_free(slot->blob);
    }
    memcpy(slot->peer, peer, peerlen);
    slot->peerlen = peerlen;
    slot->blob = blob;
    slot->len = len;
    slot->stamp = ++cache_clock;
    z_mutex_unlock(&cache_lock);
out:
    mbedtls_ssl_session_free(&sess);
}

void z_tls_client_cache_apply(mbedtls_ssl_context *ssl, const void *peer, socklen_t peerlen)
{
    mbedtls_ssl_session sess;
    mbedtls_ssl_session_init(&sess);
    bool found = false;
    z_mutex_lock(&cache_lock);
    for (size_t i = 0; i < CONFIG_NET_SOCKETS_TLS_MAX_CLIENT_SESSION_COUNT; i++) {
        if (same_peer(&client_cache[i], peer, peerlen)) {
            found = mbedtls_ssl_session_load(&sess, client_cache[i].blob, client_cache[i].len) == 0;
            break;
        }
    }
    z_mutex_unlock(&cache_lock);
    if (found) {
        mbedtls_ssl_set_session(ssl, &sess);
    }
    mbedtls_ssl_session_free(&sess);
}

/* ---- errors
 * ---------------------------------------------------------------------------------------- */

/* The errno an mbedTLS failure reports (docs/tls.md lists them). */
int z_tls_map_error(int ret, int io_errno)
{
    switch (ret) {
    case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
    case MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE:
    case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
    case MBEDTLS_ERR_SSL_UNKNOWN_IDENTITY:
        return EACCES;
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
        return ECONNABORTED;
    case MBEDTLS_ERR_SSL_CONN_EOF:
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
        return ECONNRESET;
    case MBEDTLS_ERR_NET_SEND_FAILED:
    case MBEDTLS_ERR_NET_RECV_FAILED:
        return io_errno != 0 ? io_errno : EIO;
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
    case MBEDTLS_ERR_X509_ALLOC_FAILED:
    case MBEDTLS_ERR_PK_ALLOC_FAILED:
        return ENOMEM;
    default:
        return EPROTO;
    }
}

static int map_error(struct tls_sock *ts, int ret)
{
    return z_tls_map_error(ret, ts->io_errno);
}

/* Record a fatal error; returns its negative errno. */
static int fail(struct tls_sock *ts, int err)
{
    if (ts->error == 0) {
        ts->error = err;
    }
    if (ts->state == ST_HANDSHAKE || ts->state == ST_CONNECTING || ts->state == ST_READY ||
        ts->state == ST_OPEN) {
        ts->state = ST_FAILED;
    }
    DEBUG_FAIL(ts);
    z_waitq_wake(&ts->wq);
    return -ts->error;
}

/* ---- inner socket I/O (mbedTLS callbacks)
 * ---------------------------------------------------------- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tls_sock *ts = ctx;
    ssize_t n = zsock_send(ts->inner, buf, len, ZSOCK_MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return MBEDTLS_ERR_SSL_WANT_WRITE;
        }
        ts->io_errno = errno;
        return MBEDTLS_ERR_NET_SEND_FAILED;
    }
    if (ts->state == ST_HANDSHAKE) {
        ts->hs_out += (uint64_t)n;
    }
    return (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tls_sock *ts = ctx;
    ssize_t n = zsock_recv(ts->inner, buf, len, ZSOCK_MSG_DONTWAIT);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) {
            return MBEDTLS_ERR_SSL_WANT_READ;
        }
        ts->io_errno = errno;
        return MBEDTLS_ERR_NET_RECV_FAILED;
    }
    if (n == 0) {
        ts->inner_eof = true;
    }
    if (ts->state == ST_HANDSHAKE) {
        ts->hs_in += (uint64_t)n;
    }
    return (int)n;
}

/* Wait with the lock released (z_tls_wait_inner). Returns 0 (look again),
 * -EAGAIN (deadline passed) or -EINTR (closed). */
static int wait_inner(struct tls_sock *ts, short events, int64_t deadline)
{
    if (ts->closed) {
        return -EINTR;
    }
    int rc = z_tls_wait_inner(&ts->wq, ts->inner_ops, ts->inner_obj, events, deadline);
    return ts->closed ? -EINTR : rc;
}

int z_tls_wait_inner(struct z_waitq *wq, const struct z_fd_ops *inner_ops, void *inner_obj,
                     short events, int64_t deadline)
{
    struct z_poller p;
    z_poller_init(&p);
    struct z_wait_entry we, mine;
    memset(&we, 0, sizeof(we));
    memset(&mine, 0, sizeof(mine));
    we.poller = &p;
    mine.poller = &p;
    z_waitq_add(wq, &mine);
    short rev = inner_ops->poll(inner_obj, &we);
    z_mutex_unlock(wq->lock);
    int rc = 0;
    if (!(rev & (events | ZSOCK_POLLERR | ZSOCK_POLLHUP | ZSOCK_POLLNVAL))) {
        rc = z_poller_wait(&p, deadline);
    }
    z_waitq_remove(&we);
    z_waitq_remove(&mine);
    z_poller_destroy(&p);
    z_mutex_lock(wq->lock);
    return rc == -ETIMEDOUT ? -EAGAIN : 0;
}

int64_t z_tls_call_deadline(int64_t timeo_us)
{
    return timeo_us < 0 ? Z_FOREVER : z_deadline_after_us(timeo_us);
}

/* Deadline of a blocking handshake started by a call with that timeout. */
static int64_t hs_deadline(int64_t timeo_us)
{
    return z_deadline_after_us(
        timeo_us >= 0 ? timeo_us : (int64_t)CONFIG_NET_SOCKETS_TLS_HANDSHAKE_TIMEOUT_MS * 1000);
}

/* ---- mbedTLS set-up
 * ------------------------------------------------------------------------------- */

static int entropy_cb(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    return z_entropy(out, len) == 0 ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

/* mbedTLS's verification callback: a client that was given no host name
 * (and did not turn the check off with TLS_HOSTNAME NULL) cannot match the
 * server's name, and fails as Zephyr's does (the check is enforced by
 * default); then the application's TLS_CERT_VERIFY_CALLBACK, if any. */
static int verify_trampoline(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    const struct z_tls_opts *o = ctx;
    if (depth == 0 && !o->server && o->hostname == NULL && !o->hostname_disabled) {
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    return o->vcb.cb != NULL ? o->vcb.cb(o->vcb.ctx, crt, depth, flags) : 0;
}

void z_tls_keys_init(struct z_tls_keys *keys)
{
    memset(keys, 0, sizeof(*keys));
    mbedtls_x509_crt_init(&keys->ca);
}

void z_tls_keys_free(struct z_tls_keys *keys)
{
    mbedtls_x509_crt_free(&keys->ca);
    for (int i = 0; i < keys->nown; i++) {
        mbedtls_x509_crt_free(&keys->own[i].crt);
        mbedtls_pk_free(&keys->own[i].key);
    }
    z_free(keys->own);
    keys->own = NULL;
    keys->nown = 0;
}

/* Parse the credentials into `keys` and put them into the configuration.
 * Returns 0 or a negative errno. */
static int load_creds(mbedtls_ssl_config *conf, struct z_tls_keys *keys, const struct z_tls_opts *o)
{
    struct tls_creds *c = o->creds;
    bool have_ca = false, have_psk = false;
    for (int t = 0; t < o->ntags; t++) {
        sec_tag_t tag = o->tags[t];
        const struct tls_blob *b = creds_find(c, tag, TLS_CREDENTIAL_CA_CERTIFICATE);
        if (b != NULL) {
            if (mbedtls_x509_crt_parse(&keys->ca, b->data, b->len) != 0) {
                return -EINVAL;
            }
            have_ca = true;
        }
        const struct tls_blob *crt = creds_find(c, tag, TLS_CREDENTIAL_PUBLIC_CERTIFICATE);
        const struct tls_blob *key = creds_find(c, tag, TLS_CREDENTIAL_PRIVATE_KEY);
        if (crt != NULL && key != NULL && keys->nown < MAX_OWN) {
            if (keys->own == NULL) {
                keys->own = z_calloc(MAX_OWN, sizeof(*keys->own));
                if (keys->own == NULL) {
                    return -ENOMEM;
                }
            }
            struct z_tls_own_pair *p = &keys->own[keys->nown++];
            mbedtls_x509_crt_init(&p->crt);
            mbedtls_pk_init(&p->key);
            if (mbedtls_x509_crt_parse(&p->crt, crt->data, crt->len) != 0 ||
                mbedtls_pk_parse_key(&p->key, key->data, key->len, NULL, 0) != 0 ||
                mbedtls_ssl_conf_own_cert(conf, &p->crt, &p->key) != 0) {
                return -EINVAL;
            }
        }
        const struct tls_blob *psk = creds_find(c, tag, TLS_CREDENTIAL_PSK);
        const struct tls_blob *id = creds_find(c, tag, TLS_CREDENTIAL_PSK_ID);
        if (psk != NULL && id != NULL && !have_psk) { /* the first PSK tag wins */
            have_psk = true;
            size_t idlen = strnlen((const char *)id->data, id->len);
            if (mbedtls_ssl_conf_psk(conf, psk->data, psk->len, id->data, idlen) != 0) {
                return -EINVAL;
            }
        }
    }
    if (have_ca) {
        mbedtls_ssl_conf_ca_chain(conf, &keys->ca, NULL);
    }
    return 0;
}

int z_tls_conf_setup(mbedtls_ssl_config *conf, mbedtls_ctr_drbg_context *drbg,
                     struct z_tls_keys *keys, struct z_tls_opts *o, int transport, int min_minor,
                     const int *dbg_fd)
{
    z_once(&debug_once, debug_init);
    static const unsigned char pers[] = "zsock-tls";
    if (mbedtls_ctr_drbg_seed(drbg, entropy_cb, NULL, pers, sizeof(pers) - 1) != 0) {
        return -EIO;
    }
    if (mbedtls_ssl_config_defaults(conf, o->server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
                                    transport, MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
        return -ENOMEM;
    }
    mbedtls_ssl_conf_rng(conf, mbedtls_ctr_drbg_random, drbg);
    mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, min_minor);
    mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    int verify = o->peer_verify >= 0 ? o->peer_verify
                 : o->server         ? TLS_PEER_VERIFY_NONE
                                     : TLS_PEER_VERIFY_REQUIRED;
    mbedtls_ssl_conf_authmode(conf, verify);
    int rc = load_creds(conf, keys, o);
    if (rc < 0) {
        return rc;
    }
    if (o->nsuites > 0) {
        mbedtls_ssl_conf_ciphersuites(conf, o->suites);
    }
    if (o->nalpn > 0 && mbedtls_ssl_conf_alpn_protocols(conf, (const char **)o->alpn) != 0) {
        return -EINVAL;
    }
    if (o->vcb.cb != NULL || !o->server) {
        mbedtls_ssl_conf_verify(conf, verify_trampoline, o);
    }
    if (o->server && o->cache_on) {
        z_mutex_lock(&cache_lock);
        if (!server_cache_ready) {
            server_cache_init_locked();
        }
        z_mutex_unlock(&cache_lock);
        mbedtls_ssl_conf_session_cache(conf, &server_cache, server_cache_get, server_cache_set);
    }
    if (debug_level > 0) {
        mbedtls_ssl_conf_dbg(conf, debug_print, (void *)dbg_fd);
    }
    return 0;
}

static int setup_ssl(struct tls_sock *ts)
{
    mbedtls_ssl_init(&ts->ssl);
    mbedtls_ssl_config_init(&ts->conf);
    mbedtls_ctr_drbg_init(&ts->drbg);
    z_tls_keys_init(&ts->keys);
    ts->ssl_ready = true; /* from here on release() frees them */

    /* The protocol is the lowest version accepted; the highest is 1.2. */
    int minor = ts->base.proto == IPPROTO_TLS_1_0   ? MBEDTLS_SSL_MINOR_VERSION_1
                : ts->base.proto == IPPROTO_TLS_1_1 ? MBEDTLS_SSL_MINOR_VERSION_2
                                                    : MBEDTLS_SSL_MINOR_VERSION_3;
    int rc = z_tls_conf_setup(&ts->conf, &ts->drbg, &ts->keys, &ts->o, MBEDTLS_SSL_TRANSPORT_STREAM,
                              minor, &ts->inner);
    if (rc < 0) {
        return rc;
    }
    if (mbedtls_ssl_setup(&ts->ssl, &ts->conf) != 0) {
        return -ENOMEM;
    }
    if (!ts->o.server && ts->o.hostname != NULL &&
        mbedtls_ssl_set_hostname(&ts->ssl, ts->o.hostname) != 0) {
        return -EINVAL;
    }
    mbedtls_ssl_set_bio(&ts->ssl, ts, bio_send, bio_recv, NULL);
    if (!ts->o.server && ts->o.cache_on && ts->peerlen > 0) {
        z_tls_client_cache_apply(&ts->ssl, &ts->peer, ts->peerlen);
    }
    return 0;
}

/* ---- handshake
 * ------------------------------------------------------------------------------------ */

/* Run handshake steps until done or mbedTLS wants I/O. Returns 0 (done),
 * MBEDTLS_ERR_SSL_WANT_*, or another mbedTLS error. */
static int hs_steps(struct tls_sock *ts)
{
    while (ts->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
        if (ts->ssl.handshake != NULL) {
            ts->resumed = ts->ssl.handshake->resume != 0;
        }
        int ret = mbedtls_ssl_handshake_step(&ts->ssl);
        if (ret != 0) {
            return ret;
        }
    }
    return 0;
}

/* Move the connection towards ST_OPEN. `block` says whether to wait; a
 * blocking wait ends at `deadline` with ETIMEDOUT (fatal). Returns 0 once
 * open, -EAGAIN when it would block, or a negative errno. Lock held. */
static int progress(struct tls_sock *ts, bool block, int64_t deadline)
{
    bool expired = false;
    for (;;) {
        short want = 0;
        switch (ts->state) {
        case ST_OPEN:
            return 0;
        case ST_FAILED:
            return -ts->error;
        case ST_IDLE:
        case ST_LISTENING:
            return -ENOTCONN;
        case ST_CONNECTING: {
            int rc = zsock_connect(ts->inner, (struct sockaddr *)&ts->peer, ts->peerlen);
            int e = rc == 0 ? 0 : errno;
            if (e == 0 || e == EISCONN) {
                ts->state = ST_READY;
                continue;
            }
            if (e != EALREADY && e != EINPROGRESS) {
                return fail(ts, e);
            }
            want = ZSOCK_POLLOUT;
            break;
        }
        case ST_READY: {
            int rc = setup_ssl(ts);
            if (rc < 0) {
                return fail(ts, -rc);
            }
            ts->state = ST_HANDSHAKE;
            ts->hs_attempted = true;
            continue;
        }
        case ST_HANDSHAKE: {
            int ret = hs_steps(ts);
            ts->verify_result = mbedtls_ssl_get_verify_result(&ts->ssl);
            if (ret == 0) {
                ts->state = ST_OPEN;
                z_waitq_wake(&ts->wq);
                if (!ts->o.server && ts->o.cache_on) {
                    z_tls_client_cache_store(&ts->ssl, &ts->peer, ts->peerlen);
                }
                continue;
            }
            if (!z_tls_is_want(ret)) {
                if (ret == MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE) {
                    /* mbedTLS refuses silently: tell the client why. */
                    mbedtls_ssl_send_alert_message(&ts->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                                   MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE);
                }
                return fail(ts, map_error(ts, ret));
            }
            want = mbed_want(ret);
            break;
        }
        }
        if (!block) {
            return -EAGAIN;
        }
        if (expired) {
            /* Looked once more after the deadline (another thread may have
             * finished the handshake meanwhile): still not there. */
            return fail(ts, ETIMEDOUT);
        }
        int w = wait_inner(ts, want, deadline);
        if (w == -EINTR) {
            return w;
        }
        expired = w == -EAGAIN;
    }
}

/* ---- helpers for the data path
 * -------------------------------------------------------------------- */

static size_t mbed_avail(struct tls_sock *ts)
{
    return ts->state == ST_OPEN || ts->state == ST_FAILED ? mbedtls_ssl_get_bytes_avail(&ts->ssl)
                                                          : 0;
}

/* Send what mbedTLS still holds of a record. Returns 0, WANT_WRITE, or an
 * mbedTLS error. */
static int flush_out(struct tls_sock *ts)
{
    if (!ts->ssl_ready || ts->ssl.out_left == 0) {
        return 0;
    }
    return mbedtls_ssl_flush_output(&ts->ssl);
}

/* Get a decrypted record into mbedTLS's buffer without I/O on the caller's
 * side. Returns 1 when decrypted bytes are available, 0 at end of stream
 * (rx_eof set), -EAGAIN when mbedTLS needs I/O (ts->want says which), or a
 * negative errno (fatal, recorded). */
static int read_record(struct tls_sock *ts)
{
    for (;;) {
        if (mbedtls_ssl_get_bytes_avail(&ts->ssl) > 0) {
            return 1;
        }
        if (ts->rx_eof) {
            return 0;
        }
        if (ts->error != 0) {
            return -ts->error;
        }
        int fr = flush_out(ts);
        if (fr != 0 && !z_tls_is_want(fr)) {
            return fail(ts, map_error(ts, fr));
        }
        unsigned char dummy;
        int ret = mbedtls_ssl_read(&ts->ssl, &dummy, 0);
        if (ret >= 0) {
            if (mbedtls_ssl_get_bytes_avail(&ts->ssl) > 0) {
                return 1;
            }
            if (ts->inner_eof) {
                if (ts->ssl.in_left > 0) {
                    /* The transport ended inside a record: truncated. */
                    return fail(ts, ECONNRESET);
                }
                ts->rx_eof = true;
                return 0;
            }
            continue; /* an empty record: look again */
        }
        if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
            ts->rx_eof = true;
            ts->close_notify = true;
            return 0;
        }
        if (z_tls_is_want(ret)) {
            ts->want = mbed_want(ret);
            return -EAGAIN;
        }
        return fail(ts, map_error(ts, ret));
    }
}

/* Move every byte mbedTLS holds decrypted into the peek buffer. */
static int pull_to_pt(struct tls_sock *ts)
{
    size_t n = mbedtls_ssl_get_bytes_avail(&ts->ssl);
    if (n == 0) {
        return 0;
    }
    if (ts->pt_off > 0 && ts->pt_len > 0) {
        memmove(ts->pt, ts->pt + ts->pt_off, ts->pt_len);
    }
    if (ts->pt_len == 0 || ts->pt_off > 0) {
        ts->pt_off = 0;
    }
    if (ts->pt_len + n > ts->pt_cap) {
        size_t cap = ts->pt_cap ? ts->pt_cap : 16384;
        while (cap < ts->pt_len + n) {
            cap *= 2;
        }
        unsigned char *p = z_realloc(ts->pt, cap);
        if (p == NULL) {
            return -ENOMEM;
        }
        ts->pt = p;
        ts->pt_cap = cap;
    }
    int r = mbedtls_ssl_read(&ts->ssl, ts->pt + ts->pt_len, n);
    if (r > 0) {
        ts->pt_len += (size_t)r;
    }
    return 0;
}

/* Copy up to `len` plaintext bytes into the iterator: the peek buffer
 * first, then mbedTLS's decrypted record. Returns bytes copied. */
static size_t take_plain(struct tls_sock *ts, struct z_iov_iter *it, size_t len)
{
    size_t got = 0;
    if (ts->pt_len > 0) {
        size_t n = z_iov_scatter(it, ts->pt + ts->pt_off, len < ts->pt_len ? len : ts->pt_len);
        ts->pt_off += n;
        ts->pt_len -= n;
        got += n;
        if (ts->pt_len == 0) {
            ts->pt_off = 0;
        }
    }
    while (got < len && it->idx < it->cnt) {
        size_t avail = mbedtls_ssl_get_bytes_avail(&ts->ssl);
        if (avail == 0) {
            break;
        }
        const struct iovec *v = &it->iov[it->idx];
        size_t room = v->iov_len - it->off;
        if (room == 0) {
            it->idx++;
            it->off = 0;
            continue;
        }
        size_t n = len - got;
        n = n < room ? n : room;
        n = n < avail ? n : avail;
        int r = mbedtls_ssl_read(&ts->ssl, (unsigned char *)v->iov_base + it->off, n);
        if (r <= 0) {
            break;
        }
        it->off += (size_t)r;
        got += (size_t)r;
        if (it->off == v->iov_len) {
            it->idx++;
            it->off = 0;
        }
    }
    return got;
}

/* ---- object lifetime
 * ------------------------------------------------------------------------------ */

static struct tls_sock *tls_alloc(int inner, int family, int proto, bool nonblock)
{
#if defined(TLS_MBEDTLS_ON_ZSOCK_HEAP)
    z_once(&mbedtls_heap_once, mbedtls_heap_init); /* before any mbedTLS object exists */
#endif
    struct tls_sock *ts = z_calloc(1, sizeof(*ts));
    if (ts == NULL) {
        return NULL;
    }
    z_sockbase_init(&ts->base, family, SOCK_STREAM, proto, nonblock);
    z_mutex_init(&ts->lock);
    z_waitq_init(&ts->wq, &ts->lock);
    ts->inner = inner;
    ts->state = ST_IDLE;
    z_tls_opts_init(&ts->o);
    return ts;
}

/* Publish a TLS socket around `inner` (which it takes a reference on and
 * makes non-blocking). Returns the descriptor or a negative errno; on
 * failure `ts` is freed and `inner` left alone. */
static int tls_publish(struct tls_sock *ts)
{
    int fd = z_tls_publish(ts, &tls_ops.fd, ts->inner, &ts->inner_obj, &ts->inner_ops);
    if (fd < 0) {
        free_unpublished(ts);
    }
    return fd;
}

int z_tls_publish(void *obj, const struct z_fd_ops *ops, int inner, void **inner_obj,
                  const struct z_fd_ops **inner_ops)
{
    int err;
    *inner_obj = z_fd_get(inner, Z_FD_KIND_SOCKET, inner_ops, &err);
    if (*inner_obj == NULL) {
        return err;
    }
    int fd = z_fd_reserve();
    if (fd < 0) {
        z_fd_put(inner);
        return fd;
    }
    zsock_fcntl(inner, F_SETFL, O_NONBLOCK);
    z_fd_finalize(fd, obj, ops, Z_FD_KIND_SOCKET);
    return fd;
}

static void tls_close(void *obj)
{
    struct tls_sock *ts = obj;
    z_mutex_lock(&ts->lock);
    ts->closed = true;
    z_waitq_wake(&ts->wq);
    if (ts->state == ST_OPEN && !ts->shut_wr && ts->error == 0) {
        /* Best effort and non-blocking: what does not fit is dropped. */
        if (flush_out(ts) == 0) {
            mbedtls_ssl_close_notify(&ts->ssl);
        }
    }
    if (ts->state == ST_FAILED || ts->state == ST_HANDSHAKE) {
        /* Unread bytes would turn the transport's close into a reset, which
         * can destroy the alert we just sent before the peer reads it. */
        unsigned char sink[1024];
        for (int i = 0; i < 16; i++) {
            if (zsock_recv(ts->inner, sink, sizeof(sink), ZSOCK_MSG_DONTWAIT) <= 0) {
                break;
            }
        }
    }
    z_mutex_unlock(&ts->lock);
    /* Closing the inner descriptor wakes every thread waiting on it; the
     * object stays alive (we hold a reference) until release. */
    zsock_close(ts->inner);
}

static void tls_release(void *obj)
{
    struct tls_sock *ts = obj;
    if (ts->ssl_ready) {
        mbedtls_ssl_free(&ts->ssl);
        mbedtls_ssl_config_free(&ts->conf);
        mbedtls_ctr_drbg_free(&ts->drbg);
        z_tls_keys_free(&ts->keys);
    }
    z_fd_put(ts->inner);
    z_tls_opts_free(&ts->o);
    if (ts->pt != NULL) {
        mbedtls_platform_zeroize(ts->pt, ts->pt_cap);
        z_free(ts->pt);
    }
    z_free(ts->txbuf);
    z_mutex_destroy(&ts->lock);
    z_free(ts);
}

static int lock_open(struct tls_sock *ts)
{
    z_mutex_lock(&ts->lock);
    if (ts->closed) {
        z_mutex_unlock(&ts->lock);
        return -EBADF;
    }
    return 0;
}

/* ---- connection set-up
 * ---------------------------------------------------------------------------- */

static int tls_bind(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    rc = zsock_bind(ts->inner, addr, addrlen) < 0 ? -errno : 0;
    z_mutex_unlock(&ts->lock);
    return rc;
}

static int tls_connect(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    bool block = z_sockbase_blocking(&ts->base, 0);
    switch (ts->state) {
    case ST_IDLE:
        if (addrlen > sizeof(ts->peer)) {
            rc = -EINVAL;
            break;
        }
        rc = zsock_connect(ts->inner, addr, addrlen) < 0 ? -errno : 0;
        if (rc < 0 && rc != -EINPROGRESS) {
            break;
        }
        memcpy(&ts->peer, addr, addrlen);
        ts->peerlen = addrlen;
        ts->state = rc == 0 ? ST_READY : ST_CONNECTING;
        if (!ts->o.hs_on_connect) {
            /* Only the transport: wait for it, the handshake comes later. */
            int64_t deadline = z_tls_call_deadline(ts->base.sndtimeo_us);
            while (ts->state == ST_CONNECTING && block) {
                int r = zsock_connect(ts->inner, addr, addrlen) < 0 ? errno : 0;
                if (r == 0 || r == EISCONN) {
                    ts->state = ST_READY;
                } else if (r != EALREADY && r != EINPROGRESS) {
                    rc = fail(ts, r);
                    goto out;
                } else if ((r = wait_inner(ts, ZSOCK_POLLOUT, deadline)) < 0) {
                    rc = r == -EAGAIN ? -EINPROGRESS : r;
                    goto out;
                }
            }
            rc = ts->state == ST_READY ? 0 : -EINPROGRESS;
            break;
        }
        rc = progress(ts, block, hs_deadline(ts->base.sndtimeo_us));
        if (rc == -EAGAIN) {
            rc = -EINPROGRESS;
        }
        break;
    case ST_CONNECTING:
    case ST_HANDSHAKE:
        rc = -EALREADY;
        break;
    case ST_READY:
    case ST_OPEN:
        rc = -EISCONN;
        break;
    case ST_LISTENING:
        rc = -EINVAL;
        break;
    case ST_FAILED:
        rc = -ts->error;
        break;
    }
out:
    z_mutex_unlock(&ts->lock);
    return rc;
}

static int tls_listen(void *obj, int backlog)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    if (ts->state != ST_IDLE && ts->state != ST_LISTENING) {
        rc = -EINVAL;
    } else {
        rc = zsock_listen(ts->inner, backlog) < 0 ? -errno : 0;
        if (rc == 0) {
            ts->state = ST_LISTENING;
            ts->o.server = true;
        }
    }
    z_mutex_unlock(&ts->lock);
    return rc;
}

/* Free a socket object that never got a descriptor (NULL is fine). */
static void free_unpublished(struct tls_sock *ts)
{
    if (ts == NULL) {
        return;
    }
    z_tls_opts_free(&ts->o);
    z_mutex_destroy(&ts->lock);
    z_free(ts);
}

/* Give an accepted socket the listener's configuration. */
static int inherit(struct tls_sock *child, const struct tls_sock *l)
{
    child->base.rcvtimeo_us = l->base.rcvtimeo_us;
    child->base.sndtimeo_us = l->base.sndtimeo_us;
    return z_tls_opts_inherit(&child->o, &l->o);
}

static int tls_accept(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    if (ts->state != ST_LISTENING) {
        z_mutex_unlock(&ts->lock);
        return -EINVAL;
    }
    bool block = z_sockbase_blocking(&ts->base, 0);
    int64_t deadline = z_tls_call_deadline(ts->base.rcvtimeo_us);
    int inner;
    for (;;) {
        inner = zsock_accept(ts->inner, addr, addrlen);
        if (inner >= 0) {
            break;
        }
        rc = -errno;
        if (rc != -EAGAIN || !block) {
            z_mutex_unlock(&ts->lock);
            return rc;
        }
        rc = wait_inner(ts, ZSOCK_POLLIN, deadline);
        if (rc < 0) {
            z_mutex_unlock(&ts->lock);
            return rc;
        }
    }
    struct tls_sock *child = tls_alloc(inner, ts->base.family, ts->base.proto, false);
    rc = child == NULL ? -ENOMEM : inherit(child, ts);
    int64_t hs_dl = hs_deadline(ts->base.rcvtimeo_us);
    z_mutex_unlock(&ts->lock);
    if (rc < 0) {
        free_unpublished(child);
        zsock_close(inner);
        return rc;
    }
    child->state = ST_READY;
    int fd = tls_publish(child);
    if (fd < 0) {
        zsock_close(inner);
        return fd;
    }
    if (block) {
        /* A blocking listener hands out sockets whose handshake is done. */
        z_mutex_lock(&child->lock);
        rc = progress(child, true, hs_dl);
        z_mutex_unlock(&child->lock);
        if (rc < 0) {
            zsock_close(fd);
            return rc;
        }
    }
    return fd;
}

/* ---- data
 * ----------------------------------------------------------------------------------------- */

static ssize_t tls_sendmsg(void *obj, const struct msghdr *msg, int flags)
{
    struct tls_sock *ts = obj;
    size_t total = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    bool block = z_sockbase_blocking(&ts->base, flags);
    ssize_t out = 0;
    rc = progress(ts, block, hs_deadline(ts->base.sndtimeo_us));
    if (rc < 0) {
        out = rc;
        goto done;
    }
    if (ts->shut_wr) {
        out = -EPIPE;
        goto done;
    }
    if (ts->error != 0) {
        out = -ts->error;
        goto done;
    }
    int64_t deadline = INT64_MIN;
    struct z_iov_iter it;
    z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
    size_t sent = 0;
    int maxp = mbedtls_ssl_get_max_out_record_payload(&ts->ssl);
    size_t max = maxp > 0 ? (size_t)maxp : 16384;
    while (sent < total || ts->ssl.out_left > 0) {
        int ret = flush_out(ts);
        if (ret == 0 && sent < total) {
            /* The next chunk: straight from the caller's buffer when one
             * vector holds it, else gathered into a record-sized buffer. */
            const struct iovec *v = &it.iov[it.idx];
            while (v->iov_len == it.off) {
                it.idx++;
                it.off = 0;
                v = &it.iov[it.idx];
            }
            size_t n = total - sent < max ? total - sent : max;
            const unsigned char *p;
            struct z_iov_iter save = it;
            if (v->iov_len - it.off >= n) {
                p = (const unsigned char *)v->iov_base + it.off;
            } else {
                if (ts->txbuf == NULL && (ts->txbuf = z_malloc(max)) == NULL) {
                    out = sent > 0 ? (ssize_t)sent : -ENOMEM;
                    goto done;
                }
                n = z_iov_gather(&save, ts->txbuf, n); /* `it` moves by what is taken */
                p = ts->txbuf;
            }
            ret = mbedtls_ssl_write(&ts->ssl, p, n);
            size_t done_n = ret > 0 ? (size_t)ret : 0;
            if (ret == MBEDTLS_ERR_SSL_WANT_WRITE && ts->ssl.out_left > 0) {
                done_n = n; /* encrypted into a record: it is ours to send */
            }
            if (done_n > 0) {
                /* advance the caller's iterator */
                size_t adv = done_n;
                while (adv > 0) {
                    const struct iovec *w = &it.iov[it.idx];
                    size_t room = w->iov_len - it.off;
                    size_t k = adv < room ? adv : room;
                    it.off += k;
                    adv -= k;
                    if (it.off == w->iov_len) {
                        it.idx++;
                        it.off = 0;
                    }
                }
                sent += done_n;
            }
            if (ret > 0) {
                continue;
            }
        }
        if (ret == 0) {
            continue;
        }
        if (!z_tls_is_want(ret)) {
            int e = fail(ts, map_error(ts, ret));
            out = sent > 0 ? (ssize_t)sent : e;
            goto done;
        }
        if (!block) {
            out = sent > 0 ? (ssize_t)sent : -EAGAIN;
            goto done;
        }
        if (deadline == INT64_MIN) {
            deadline = z_tls_call_deadline(ts->base.sndtimeo_us);
        }
        int w = wait_inner(ts, mbed_want(ret), deadline);
        if (w < 0) {
            out = sent > 0 ? (ssize_t)sent : w;
            goto done;
        }
    }
    out = (ssize_t)sent;
done:
    z_mutex_unlock(&ts->lock);
    return out;
}

static ssize_t tls_recvmsg(void *obj, struct msghdr *msg, int flags)
{
    struct tls_sock *ts = obj;
    size_t want = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    msg->msg_controllen = 0;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    bool block = z_sockbase_blocking(&ts->base, flags);
    bool peek = flags & ZSOCK_MSG_PEEK;
    bool waitall = (flags & ZSOCK_MSG_WAITALL) != 0;
    ssize_t out;
    if (msg->msg_name != NULL) {
        socklen_t nl = msg->msg_namelen;
        if (zsock_getpeername(ts->inner, msg->msg_name, &nl) == 0) {
            msg->msg_namelen = nl;
        } else {
            msg->msg_namelen = 0;
        }
    }
    rc = progress(ts, block, hs_deadline(ts->base.rcvtimeo_us));
    if (rc < 0 && !(ts->state == ST_FAILED && (ts->pt_len > 0 || mbed_avail(ts) > 0))) {
        out = rc;
        goto done;
    }
    struct z_iov_iter it;
    z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);
    int64_t deadline = INT64_MIN;
    size_t got = 0;
    for (;;) {
        if (ts->shut_rd) {
            out = (ssize_t)got;
            break;
        }
        if (peek) {
            int pr = pull_to_pt(ts);
            if (pr < 0) {
                out = pr;
                break;
            }
            if (ts->pt_len > 0 && (!waitall || ts->pt_len >= want || ts->rx_eof)) {
                size_t n = ts->pt_len < want ? ts->pt_len : want;
                out = (ssize_t)z_iov_scatter(&it, ts->pt + ts->pt_off, n);
                break;
            }
        } else {
            got += take_plain(ts, &it, want - got);
            if (got == want || (got > 0 && !waitall)) {
                out = (ssize_t)got;
                break;
            }
        }
        if (want == 0) {
            out = 0;
            break;
        }
        int r = read_record(ts);
        if (r == 1) {
            continue;
        }
        if (r == 0) {
            if (peek && ts->pt_len > 0) {
                continue; /* report what there is */
            }
            out = (ssize_t)got; /* end of stream: 0, and again on every call */
            break;
        }
        if (r != -EAGAIN) {
            out = got > 0 ? (ssize_t)got : r;
            break;
        }
        if (!block) {
            out = got > 0 ? (ssize_t)got : -EAGAIN;
            break;
        }
        if (deadline == INT64_MIN) {
            deadline = z_tls_call_deadline(ts->base.rcvtimeo_us);
        }
        int w = wait_inner(ts, ts->want, deadline);
        if (w < 0) {
            out = got > 0 ? (ssize_t)got : w;
            break;
        }
    }
done:
    z_mutex_unlock(&ts->lock);
    return out;
}

static int tls_shutdown(void *obj, int how)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    if (ts->state != ST_OPEN && ts->state != ST_FAILED) {
        rc = -ENOTCONN;
        goto out;
    }
    if (how == ZSOCK_SHUT_RD || how == ZSOCK_SHUT_RDWR) {
        ts->shut_rd = true;
    }
    if ((how == ZSOCK_SHUT_WR || how == ZSOCK_SHUT_RDWR) && !ts->shut_wr) {
        ts->shut_wr = true;
        if (ts->state == ST_OPEN && ts->error == 0) {
            /* Records still queued, then close_notify, must reach the
             * transport before its own half-close, or they would be lost:
             * wait for that even on a non-blocking socket (as the kernel
             * never drops queued data at shutdown), up to SO_SNDTIMEO or,
             * without one, the handshake timeout. */
            int64_t deadline = ts->base.sndtimeo_us >= 0 ? z_tls_call_deadline(ts->base.sndtimeo_us)
                                                         : hs_deadline(-1);
            bool notified = false;
            size_t left = ts->ssl.out_left;
            bool waited = false;
            for (;;) {
                int ret = flush_out(ts);
                if (ret == 0 && !notified) {
                    /* Once queued (written or not), the alert is not queued again. */
                    ret = mbedtls_ssl_close_notify(&ts->ssl);
                    notified = ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
                }
                if (ret == MBEDTLS_ERR_SSL_WANT_WRITE && waited && ts->ssl.out_left == left) {
                    /* The transport polls writable but took nothing (no
                     * memory to grow its buffer): look again shortly
                     * instead of spinning until the deadline. */
                    if (z_now_us() >= deadline) {
                        break;
                    }
                    z_mutex_unlock(&ts->lock);
                    z_sleep_us(10000);
                    z_mutex_lock(&ts->lock);
                    if (ts->closed) {
                        break;
                    }
                }
                left = ts->ssl.out_left;
                if (ret == 0 || ret != MBEDTLS_ERR_SSL_WANT_WRITE ||
                    wait_inner(ts, ZSOCK_POLLOUT, deadline) < 0) {
                    break;
                }
                waited = true;
            }
        }
    }
    rc = zsock_shutdown(ts->inner, how) < 0 ? -errno : 0;
    if (rc == -ENOTCONN) {
        rc = 0; /* the transport is already gone: nothing left to shut */
    }
out:
    z_mutex_unlock(&ts->lock);
    return rc;
}

static int tls_getpeername(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    rc = zsock_getpeername(ts->inner, addr, addrlen) < 0 ? -errno : 0;
    z_mutex_unlock(&ts->lock);
    return rc;
}

static int tls_getsockname(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    rc = zsock_getsockname(ts->inner, addr, addrlen) < 0 ? -errno : 0;
    z_mutex_unlock(&ts->lock);
    return rc;
}

/* ---- options
 * -------------------------------------------------------------------------------------- */

static bool looks_pem(const struct tls_blob *b)
{
    return b->len >= 10 && memcmp(b->data, "-----BEGIN", 10) == 0;
}

/* Copy the store's credentials for `tags` and check that they parse. */
static int build_creds(const sec_tag_t *tags, int n, struct tls_creds **out)
{
    for (int i = 0; i < n; i++) {
        if (tags[i] < 0 || !z_cred_tag_exists(tags[i])) {
            return -ENOENT;
        }
    }
    struct tls_creds *c = z_calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->refs = 1;
    int rc = 0;
    z_cred_lock();
    for (int i = 0; i < n && rc == 0; i++) {
        for (int type = TLS_CREDENTIAL_CA_CERTIFICATE; type <= TLS_CREDENTIAL_PSK_ID; type++) {
            const void *data;
            size_t len;
            if (z_cred_lookup(tags[i], (enum tls_credential_type)type, &data, &len) != 0) {
                continue;
            }
            struct tls_blob *b = z_malloc(sizeof(*b) + len + 1);
            if (b == NULL) {
                rc = -ENOMEM;
                break;
            }
            b->tag = tags[i];
            b->type = (enum tls_credential_type)type;
            b->len = len;
            memcpy(b->data, data, len);
            b->data[len] = 0;
            if (looks_pem(b) && b->data[len - 1] != 0) {
                b->len++; /* mbedTLS wants PEM with its NUL */
            }
            c->b[c->n++] = b;
        }
    }
    z_cred_unlock();
    /* Check that everything parses and that pairs are complete. */
    for (int i = 0; i < n && rc == 0; i++) {
        const struct tls_blob *ca = creds_find(c, tags[i], TLS_CREDENTIAL_CA_CERTIFICATE);
        const struct tls_blob *crt = creds_find(c, tags[i], TLS_CREDENTIAL_PUBLIC_CERTIFICATE);
        const struct tls_blob *key = creds_find(c, tags[i], TLS_CREDENTIAL_PRIVATE_KEY);
        const struct tls_blob *psk = creds_find(c, tags[i], TLS_CREDENTIAL_PSK);
        const struct tls_blob *id = creds_find(c, tags[i], TLS_CREDENTIAL_PSK_ID);
        if ((crt == NULL) != (key == NULL) || (psk == NULL) != (id == NULL)) {
            rc = -EINVAL;
            break;
        }
        mbedtls_x509_crt x;
        mbedtls_x509_crt_init(&x);
        if ((ca != NULL && mbedtls_x509_crt_parse(&x, ca->data, ca->len) != 0) ||
            (crt != NULL && mbedtls_x509_crt_parse(&x, crt->data, crt->len) != 0)) {
            rc = -EINVAL;
        }
        mbedtls_x509_crt_free(&x);
        if (rc == 0 && key != NULL) {
            mbedtls_pk_context pk;
            mbedtls_pk_init(&pk);
            if (mbedtls_pk_parse_key(&pk, key->data, key->len, NULL, 0) != 0) {
                rc = -EINVAL;
            }
            mbedtls_pk_free(&pk);
        }
    }
    if (rc < 0) {
        creds_unref(c);
        return rc;
    }
    *out = c;
    return 0;
}

void z_tls_opts_init(struct z_tls_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->hs_on_connect = true;
    o->peer_verify = -1;
    o->dtls_role = TLS_DTLS_ROLE_CLIENT;
    o->dtls_hs_min_ms = 1000;
    o->dtls_hs_max_ms = 60000;
}

void z_tls_opts_free(struct z_tls_opts *o)
{
    creds_unref(o->creds);
    o->creds = NULL;
    z_free(o->hostname);
    o->hostname = NULL;
    for (int i = 0; i < o->nalpn; i++) {
        z_free(o->alpn[i]);
        o->alpn[i] = NULL;
    }
    o->nalpn = 0;
}

int z_tls_opts_inherit(struct z_tls_opts *dst, const struct z_tls_opts *src)
{
    dst->server = true;
    dst->peer_verify = src->peer_verify;
    dst->cert_nocopy = src->cert_nocopy;
    dst->cache_on = src->cache_on;
    dst->vcb = src->vcb;
    dst->dtls_hs_min_ms = src->dtls_hs_min_ms;
    dst->dtls_hs_max_ms = src->dtls_hs_max_ms;
    memcpy(dst->tags, src->tags, sizeof(src->tags));
    dst->ntags = src->ntags;
    dst->creds = creds_ref(src->creds);
    memcpy(dst->suites, src->suites, sizeof(src->suites));
    dst->nsuites = src->nsuites;
    for (int i = 0; i < src->nalpn; i++) {
        dst->alpn[i] = tls_strdup(src->alpn[i]);
        if (dst->alpn[i] == NULL) {
            return -ENOMEM;
        }
        dst->nalpn = i + 1;
    }
    return 0;
}

int z_tls_opts_set(struct z_tls_opts *o, bool configurable, int optname, const void *optval,
                   socklen_t optlen)
{
    int v;
    int rc;
    switch (optname) {
    case TLS_SEC_TAG_LIST: {
        if (optval == NULL || optlen == 0 || optlen % sizeof(sec_tag_t) != 0 ||
            optlen / sizeof(sec_tag_t) > CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS) {
            return -EINVAL;
        }
        if (!configurable) {
            return -EISCONN;
        }
        int n = (int)(optlen / sizeof(sec_tag_t));
        sec_tag_t tags[CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS];
        memcpy(tags, optval, optlen);
        struct tls_creds *c;
        rc = build_creds(tags, n, &c);
        if (rc < 0) {
            return rc;
        }
        creds_unref(o->creds);
        o->creds = c;
        memcpy(o->tags, tags, optlen);
        o->ntags = n;
        return 0;
    }
    case TLS_HOSTNAME: {
        if (!configurable) {
            return -EISCONN;
        }
        size_t len = optval == NULL ? 0 : strnlen(optval, optlen);
        if (len > 255) {
            return -EINVAL;
        }
        char *h = NULL;
        if (len > 0) {
            h = z_malloc(len + 1);
            if (h == NULL) {
                return -ENOMEM;
            }
            memcpy(h, optval, len);
            h[len] = 0;
        }
        z_free(o->hostname);
        o->hostname = h;
        o->hostname_disabled = h == NULL;
        return 0;
    }
    case TLS_CIPHERSUITE_LIST: {
        if (optval == NULL || optlen % sizeof(int) != 0 ||
            optlen / sizeof(int) > CONFIG_NET_SOCKETS_TLS_MAX_CIPHERSUITES) {
            return -EINVAL;
        }
        if (!configurable) {
            return -EISCONN;
        }
        int n = (int)(optlen / sizeof(int));
        int list[CONFIG_NET_SOCKETS_TLS_MAX_CIPHERSUITES + 1];
        memcpy(list, optval, optlen);
        for (int i = 0; i < n; i++) {
            if (list[i] == 0 || mbedtls_ssl_ciphersuite_from_id(list[i]) == NULL) {
                return -EINVAL;
            }
        }
        list[n] = 0;
        memcpy(o->suites, list, sizeof(int) * (size_t)(n + 1));
        o->nsuites = n;
        return 0;
    }
    case TLS_PEER_VERIFY:
        if ((rc = z_opt_get_int(optval, optlen, &v)) < 0) {
            return rc;
        }
        if (v < TLS_PEER_VERIFY_NONE || v > TLS_PEER_VERIFY_REQUIRED) {
            return -EINVAL;
        }
        if (!configurable) {
            return -EISCONN;
        }
        o->peer_verify = v;
        return 0;
    case TLS_DTLS_ROLE:
        if ((rc = z_opt_get_int(optval, optlen, &v)) < 0) {
            return rc;
        }
        if (v != TLS_DTLS_ROLE_CLIENT && v != TLS_DTLS_ROLE_SERVER) {
            return -EINVAL;
        }
        o->dtls_role = v;
        return 0;
    case TLS_ALPN_LIST: {
        if (optval == NULL || optlen % sizeof(char *) != 0) {
            return -EINVAL;
        }
        if (!configurable) {
            return -EISCONN;
        }
        const char *const *list = optval;
        size_t cnt = optlen / sizeof(char *);
        char *copy[CONFIG_NET_SOCKETS_TLS_MAX_APP_PROTOCOLS + 1] = {0};
        int n = 0;
        rc = 0;
        for (size_t i = 0; i < cnt && list[i] != NULL; i++) {
            size_t len = strlen(list[i]);
            if (n == CONFIG_NET_SOCKETS_TLS_MAX_APP_PROTOCOLS || len == 0 || len > 255) {
                rc = -EINVAL;
                break;
            }
            if ((copy[n] = tls_strdup(list[i])) == NULL) {
                rc = -ENOMEM;
                break;
            }
            n++;
        }
        if (rc < 0) {
            for (int i = 0; i < n; i++) {
                z_free(copy[i]);
            }
            return rc;
        }
        for (int i = 0; i < o->nalpn; i++) {
            z_free(o->alpn[i]);
        }
        memcpy(o->alpn, copy, sizeof(copy));
        o->nalpn = n;
        return 0;
    }
    case TLS_DTLS_HANDSHAKE_TIMEOUT_MIN:
    case TLS_DTLS_HANDSHAKE_TIMEOUT_MAX: {
        uint32_t ms;
        if (optval == NULL || optlen < sizeof(ms)) {
            return -EINVAL;
        }
        memcpy(&ms, optval, sizeof(ms));
        *(optname == TLS_DTLS_HANDSHAKE_TIMEOUT_MIN ? &o->dtls_hs_min_ms : &o->dtls_hs_max_ms) = ms;
        return 0;
    }
    case TLS_CERT_NOCOPY:
        if ((rc = z_opt_get_int(optval, optlen, &v)) < 0) {
            return rc;
        }
        if (v != TLS_CERT_NOCOPY_NONE && v != TLS_CERT_NOCOPY_OPTIONAL) {
            return -EINVAL;
        }
        o->cert_nocopy = v;
        return 0;
    case TLS_SESSION_CACHE:
        if ((rc = z_opt_get_int(optval, optlen, &v)) < 0) {
            return rc;
        }
        if (v != TLS_SESSION_CACHE_DISABLED && v != TLS_SESSION_CACHE_ENABLED) {
            return -EINVAL;
        }
        if (!configurable) {
            return -EISCONN;
        }
        o->cache_on = v == TLS_SESSION_CACHE_ENABLED;
        return 0;
    case TLS_SESSION_CACHE_PURGE:
        caches_purge();
        return 0;
    case TLS_DTLS_HANDSHAKE_ON_CONNECT:
        if ((rc = z_opt_get_int(optval, optlen, &v)) < 0) {
            return rc;
        }
        o->hs_on_connect = v != 0;
        return 0;
    case TLS_CERT_VERIFY_CALLBACK: {
        struct tls_cert_verify_cb cb;
        if (optval == NULL || optlen != sizeof(cb)) {
            return -EINVAL;
        }
        if (!configurable) {
            return -EISCONN;
        }
        memcpy(&cb, optval, sizeof(cb));
        o->vcb = cb;
        return 0;
    }
    default:
        /* Read-only options, TLS_NATIVE (no offloading here) and the DTLS
         * connection-id options (DTLS only). */
        return -ENOPROTOOPT;
    }
}

int z_tls_put_u32(void *optval, socklen_t *optlen, uint32_t v)
{
    if (*optlen < sizeof(v)) {
        return -EINVAL;
    }
    memcpy(optval, &v, sizeof(v));
    *optlen = sizeof(v);
    return 0;
}

int z_tls_opts_get(const struct z_tls_opts *o, int optname, void *optval, socklen_t *optlen)
{
    switch (optname) {
    case TLS_SEC_TAG_LIST: {
        size_t n = *optlen / sizeof(sec_tag_t);
        n = n < (size_t)o->ntags ? n : (size_t)o->ntags;
        memcpy(optval, o->tags, n * sizeof(sec_tag_t));
        *optlen = (socklen_t)(n * sizeof(sec_tag_t));
        return 0;
    }
    case TLS_CIPHERSUITE_LIST: {
        const int *list = o->nsuites > 0 ? o->suites : mbedtls_ssl_list_ciphersuites();
        size_t room = *optlen / sizeof(int), n = 0;
        while (n < room && list[n] != 0) {
            memcpy((int *)optval + n, &list[n], sizeof(int));
            n++;
        }
        *optlen = (socklen_t)(n * sizeof(int));
        return 0;
    }
    case TLS_ALPN_LIST: {
        size_t room = *optlen / sizeof(char *);
        size_t n = 0;
        for (; n < room && n < (size_t)o->nalpn; n++) {
            memcpy((char **)optval + n, &o->alpn[n], sizeof(char *));
        }
        if (n < room) {
            const char *end = NULL;
            memcpy((char **)optval + n, &end, sizeof(char *));
            n++;
        }
        *optlen = (socklen_t)(n * sizeof(char *));
        return 0;
    }
    case TLS_DTLS_HANDSHAKE_TIMEOUT_MIN:
        return z_tls_put_u32(optval, optlen, o->dtls_hs_min_ms);
    case TLS_DTLS_HANDSHAKE_TIMEOUT_MAX:
        return z_tls_put_u32(optval, optlen, o->dtls_hs_max_ms);
    case TLS_SESSION_CACHE:
        return z_opt_put_int(optval, optlen, o->cache_on);
    case TLS_DTLS_HANDSHAKE_ON_CONNECT:
        return z_opt_put_int(optval, optlen, o->hs_on_connect);
    default:
        /* Write-only options (TLS_HOSTNAME, TLS_PEER_VERIFY, TLS_DTLS_ROLE,
         * TLS_CERT_NOCOPY, TLS_SESSION_CACHE_PURGE,
         * TLS_CERT_VERIFY_CALLBACK), the connection's facts (the caller's)
         * and unknown ones. */
        return -ENOPROTOOPT;
    }
}

static int get_tls_option(struct tls_sock *ts, int optname, void *optval, socklen_t *optlen)
{
    switch (optname) {
    case TLS_CIPHERSUITE_USED: {
        if (ts->state != ST_OPEN) {
            return -ENOTCONN;
        }
        int id = mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(&ts->ssl));
        return z_opt_put_int(optval, optlen, id);
    }
    case TLS_CERT_VERIFY_RESULT:
        if (!ts->hs_attempted) {
            return -ENOTCONN;
        }
        return z_tls_put_u32(optval, optlen, ts->verify_result);
    default:
        return z_tls_opts_get(&ts->o, optname, optval, optlen);
    }
}

static int tls_getsockopt(void *obj, int level, int optname, void *optval, socklen_t *optlen)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    if (level == SOL_TLS) {
        rc = get_tls_option(ts, optname, optval, optlen);
    } else if (level == SOL_SOCKET && optname == SO_ERROR && ts->error != 0) {
        rc = z_opt_put_int(optval, optlen, ts->error);
    } else if (level == SOL_SOCKET && optname == SO_ACCEPTCONN) {
        rc = z_opt_put_int(optval, optlen, ts->state == ST_LISTENING);
    } else {
        rc = z_tls_getsockopt_rest(&ts->base, ts->inner, level, optname, optval, optlen);
    }
    z_mutex_unlock(&ts->lock);
    return rc;
}

static int tls_setsockopt(void *obj, int level, int optname, const void *optval, socklen_t optlen)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    if (level == SOL_TLS) {
        rc = z_tls_opts_set(&ts->o, !ts->ssl_ready, optname, optval, optlen);
    } else {
        rc = z_tls_setsockopt_rest(&ts->base, ts->inner, level, optname, optval, optlen);
    }
    z_mutex_unlock(&ts->lock);
    return rc;
}

/* Per-packet timing options act on the inner socket's datagrams, which are
 * records here, not the application's messages: not offered. */
static bool per_packet_opt(int level, int optname)
{
    return level == SOL_SOCKET && (optname == SO_TXTIME || optname == SO_TIMESTAMPING);
}

int z_tls_getsockopt_rest(const struct z_sockbase *base, int inner, int level, int optname,
                          void *optval, socklen_t *optlen)
{
    int rc = z_sockbase_getsockopt(base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT && !per_packet_opt(level, optname)) {
        rc = zsock_getsockopt(inner, level, optname, optval, optlen) < 0 ? -errno : 0;
    }
    return rc;
}

int z_tls_setsockopt_rest(struct z_sockbase *base, int inner, int level, int optname,
                          const void *optval, socklen_t optlen)
{
    if ((level == SOL_SOCKET &&
         (optname == SO_TYPE || optname == SO_DOMAIN || optname == SO_PROTOCOL ||
          optname == SO_ERROR || optname == SO_ACCEPTCONN)) ||
        per_packet_opt(level, optname)) {
        return -ENOPROTOOPT; /* read-only, or not offered */
    }
    if (level == SOL_SOCKET && (optname == SO_RCVTIMEO || optname == SO_SNDTIMEO)) {
        return optval == NULL ? -EFAULT
                              : z_sockbase_setsockopt(base, level, optname, optval, optlen);
    }
    return zsock_setsockopt(inner, level, optname, optval, optlen) < 0 ? -errno : 0;
}

/* ---- descriptor operations
 * ------------------------------------------------------------------------ */

static int tls_ioctl(void *obj, unsigned long request, int *arg)
{
    struct tls_sock *ts = obj;
    int rc = lock_open(ts);
    if (rc < 0) {
        return rc;
    }
    switch (request) {
    case FIONREAD:
        if (ts->state == ST_OPEN && ts->pt_len == 0) {
            (void)read_record(ts); /* decrypt what has arrived, if anything */
        }
        *arg = (int)(ts->pt_len + mbed_avail(ts));
        break;
    case FIONWRITE:
        rc = zsock_ioctl(ts->inner, FIONWRITE, arg) < 0 ? -errno : 0;
        if (rc == 0 && ts->ssl_ready) {
            *arg += (int)ts->ssl.out_left;
        }
        break;
    default:
        rc = z_sockbase_ioctl(&ts->base, request, arg);
        break;
    }
    z_mutex_unlock(&ts->lock);
    return rc;
}

static short tls_poll(void *obj, struct z_wait_entry *we)
{
    struct tls_sock *ts = obj;
    z_mutex_lock(&ts->lock);
    if (ts->closed) {
        z_mutex_unlock(&ts->lock);
        return ZSOCK_POLLNVAL;
    }
    /* Queue on the inner socket: every change we care about starts there. */
    short in = ts->inner_ops->poll(ts->inner_obj, we);
    short rev = 0;
    if (in & ZSOCK_POLLNVAL) {
        z_mutex_unlock(&ts->lock);
        return ZSOCK_POLLNVAL;
    }
    switch (ts->state) {
    case ST_IDLE:
        rev = in & (ZSOCK_POLLOUT | ZSOCK_POLLHUP | ZSOCK_POLLERR);
        break;
    case ST_LISTENING:
        rev = in & (ZSOCK_POLLIN | ZSOCK_POLLERR);
        break;
    case ST_CONNECTING:
    case ST_READY:
    case ST_HANDSHAKE:
        /* Drive the handshake; readiness only once it is over. */
        if (progress(ts, false, 0) != 0) {
            if (ts->state == ST_FAILED) {
                rev = ZSOCK_POLLERR | (in & ZSOCK_POLLHUP);
            }
            break;
        }
        /* fall through */
    case ST_OPEN:
    case ST_FAILED:
        if (ts->state == ST_OPEN && ts->pt_len == 0 && mbed_avail(ts) == 0 && !ts->rx_eof &&
            ((in & (ZSOCK_POLLIN | ZSOCK_POLLHUP | ZSOCK_POLLERR)) ||
             mbedtls_ssl_check_pending(&ts->ssl))) {
            (void)read_record(ts);
        }
        if (ts->state == ST_OPEN && ts->ssl.out_left > 0 && (in & ZSOCK_POLLOUT)) {
            int fr = flush_out(ts);
            if (fr != 0 && !z_tls_is_want(fr)) {
                fail(ts, map_error(ts, fr));
            }
        }
        if (ts->pt_len > 0 || mbed_avail(ts) > 0 || ts->rx_eof || ts->shut_rd) {
            rev |= ZSOCK_POLLIN;
        }
        if (ts->close_notify || (ts->rx_eof && ts->inner_eof)) {
            rev |= ZSOCK_POLLHUP;
        }
        if (ts->state == ST_FAILED) {
            rev |= ZSOCK_POLLERR | (in & ZSOCK_POLLHUP);
        } else if (!ts->shut_wr && ts->ssl.out_left == 0 && (in & ZSOCK_POLLOUT)) {
            rev |= ZSOCK_POLLOUT;
        }
        break;
    }
    z_mutex_unlock(&ts->lock);
    return rev;
}

static const struct z_socket_ops tls_ops = {
    .fd =
        {
            .close = tls_close,
            .release = tls_release,
            .poll = tls_poll,
            .ioctl = tls_ioctl,
        },
    .shutdown = tls_shutdown,
    .bind = tls_bind,
    .connect = tls_connect,
    .listen = tls_listen,
    .accept = tls_accept,
    .sendmsg = tls_sendmsg,
    .recvmsg = tls_recvmsg,
    .getsockopt = tls_getsockopt,
    .setsockopt = tls_setsockopt,
    .getpeername = tls_getpeername,
    .getsockname = tls_getsockname,
};

/* ---- family registration and internal entry points
 * -------------------------------------------------- */

static bool tls_proto(int proto)
{
    return proto >= IPPROTO_TLS_1_0 && proto <= IPPROTO_TLS_1_3;
}

static int tls_supports(int family, int type, int proto)
{
    if (!tls_proto(proto) && proto != IPPROTO_DTLS_1_0 && proto != IPPROTO_DTLS_1_2) {
        return -EAFNOSUPPORT; /* not ours: the inet family answers */
    }
    if (family != AF_INET && family != AF_INET6) {
        return -EAFNOSUPPORT;
    }
    if (proto == IPPROTO_DTLS_1_0 || proto == IPPROTO_DTLS_1_2) {
#if defined(CONFIG_NET_SOCKETS_ENABLE_DTLS)
        return -EAFNOSUPPORT; /* the DTLS family's (dtls_sock.c) */
#else
        return type == SOCK_DGRAM ? -EPROTONOSUPPORT : -EPROTOTYPE;
#endif
    }
    if (type != SOCK_STREAM) {
        return -EPROTOTYPE;
    }
    if (proto == IPPROTO_TLS_1_3) {
        /* mbedTLS 2.28 has no TLS 1.3. */
        return -EPROTONOSUPPORT;
    }
#if !defined(MBEDTLS_SSL_PROTO_TLS1)
    if (proto == IPPROTO_TLS_1_0) {
        return -EPROTONOSUPPORT; /* this mbedTLS build has no TLS 1.0 */
    }
#endif
#if !defined(MBEDTLS_SSL_PROTO_TLS1_1)
    if (proto == IPPROTO_TLS_1_1) {
        return -EPROTONOSUPPORT; /* this mbedTLS build has no TLS 1.1 */
    }
#endif
    return 0;
}

static int tls_create(int family, int type, int proto, bool nonblock)
{
    int inner = zsock_socket(family, type, IPPROTO_TCP);
    if (inner < 0) {
        return -errno;
    }
    struct tls_sock *ts = tls_alloc(inner, family, proto, nonblock);
    if (ts == NULL) {
        zsock_close(inner);
        return -ENOMEM;
    }
    int fd = tls_publish(ts);
    if (fd < 0) {
        zsock_close(inner);
    }
    return fd;
}

/* Ahead of inet (50), as Zephyr's CONFIG_NET_SOCKETS_TLS_PRIORITY. */
struct z_socket_family z_tls_family = {
    .name = "tls",
    .priority = 45,
    .supports = tls_supports,
    .create = tls_create,
};

int z_tls_wrap(int inner_fd, int proto, bool server)
{
    if (proto < IPPROTO_TLS_1_0 || proto > IPPROTO_TLS_1_2) {
        return -EPROTONOSUPPORT;
    }
    int rc = z_tls_check_inner(inner_fd, SOCK_STREAM);
    if (rc < 0) {
        return rc;
    }
    int family;
    socklen_t len = sizeof(family);
    if (zsock_getsockopt(inner_fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0) {
        family = AF_UNIX;
    }
    struct tls_sock *ts = tls_alloc(inner_fd, family, proto, false);
    if (ts == NULL) {
        return -ENOMEM;
    }
    ts->o.server = server;
    ts->state = ST_READY;
    return tls_publish(ts);
}

/* The TLS object behind fd, with a reference held (z_fd_put(fd) after). */
static struct tls_sock *get_tls(int fd, int *err)
{
    return z_tls_fd_object(fd, &tls_ops.fd, err);
}

int z_tls_check_inner(int inner_fd, int type)
{
    int t;
    socklen_t len = sizeof(t);
    if (zsock_getsockopt(inner_fd, SOL_SOCKET, SO_TYPE, &t, &len) < 0) {
        return -errno;
    }
    return t == type ? 0 : -EINVAL;
}

void *z_tls_fd_object(int fd, const struct z_fd_ops *ops, int *err)
{
    const struct z_fd_ops *got;
    void *obj = z_fd_get(fd, Z_FD_KIND_SOCKET, &got, err);
    if (obj == NULL) {
        return NULL;
    }
    if (got != ops) {
        z_fd_put(fd);
        *err = -EOPNOTSUPP;
        return NULL;
    }
    return obj;
}

int z_tls_handshake(int fd)
{
    int err;
    struct tls_sock *ts = get_tls(fd, &err);
    if (ts == NULL) {
        return err;
    }
    int rc = lock_open(ts);
    if (rc == 0) {
        rc = progress(ts, z_sockbase_blocking(&ts->base, 0), hs_deadline(ts->base.sndtimeo_us));
        z_mutex_unlock(&ts->lock);
    }
    z_fd_put(fd);
    return rc;
}

int z_tls_get_info(int fd, struct z_tls_info *info)
{
    int err;
    struct tls_sock *ts = get_tls(fd, &err);
    if (ts == NULL) {
#if defined(CONFIG_NET_SOCKETS_ENABLE_DTLS)
        if (err == -EOPNOTSUPP) {
            return z_dtls_get_info(fd, info);
        }
#endif
        return err;
    }
    memset(info, 0, sizeof(*info));
    z_mutex_lock(&ts->lock);
    info->handshake_done = ts->state == ST_OPEN;
    info->resumed = ts->resumed;
    info->hs_bytes_in = ts->hs_in;
    info->hs_bytes_out = ts->hs_out;
    info->verify_result = ts->verify_result;
    if (ts->state == ST_OPEN) {
        const char *name = mbedtls_ssl_get_ciphersuite(&ts->ssl);
        info->ciphersuite = name != NULL ? mbedtls_ssl_get_ciphersuite_id(name) : 0;
        z_snprintf(info->version, sizeof(info->version), "%s", mbedtls_ssl_get_version(&ts->ssl));
        const char *alpn = mbedtls_ssl_get_alpn_protocol(&ts->ssl);
        z_snprintf(info->alpn, sizeof(info->alpn), "%s", alpn != NULL ? alpn : "");
    }
    z_mutex_unlock(&ts->lock);
    z_fd_put(fd);
    return 0;
}
