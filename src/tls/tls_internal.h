/* Internal entry points of the TLS socket layer (src/tls/tls_sock.c) that
 * are not part of the Zephyr API: wrapping an already connected stream
 * socket (a socketpair in the tests), driving its handshake, and reading
 * facts about a connection that the socket options do not expose
 * (resumption, the negotiated ALPN protocol, handshake byte counts).
 * Internal convention: functions return 0 / a value or a negative errno and
 * never touch errno. Not installed. */
#ifndef ZSOCK_TLS_INTERNAL_H_
#define ZSOCK_TLS_INTERNAL_H_

#include <stdbool.h>
#include <stdint.h>

#include <zsock/socket.h>

/* A blocking handshake gives up after this many milliseconds unless the
 * socket's SO_SNDTIMEO (connect, send) or SO_RCVTIMEO (accept, recv) sets
 * a limit of its own. */
#ifndef CONFIG_NET_SOCKETS_TLS_HANDSHAKE_TIMEOUT_MS
#define CONFIG_NET_SOCKETS_TLS_HANDSHAKE_TIMEOUT_MS 10000
#endif

/* Most security tags in one TLS_SEC_TAG_LIST. */
#ifndef CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS
#define CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS 8
#endif

/* Most ciphersuites in one TLS_CIPHERSUITE_LIST. */
#ifndef CONFIG_NET_SOCKETS_TLS_MAX_CIPHERSUITES
#define CONFIG_NET_SOCKETS_TLS_MAX_CIPHERSUITES 64
#endif

/* Most protocols in one TLS_ALPN_LIST. */
#ifndef CONFIG_NET_SOCKETS_TLS_MAX_APP_PROTOCOLS
#define CONFIG_NET_SOCKETS_TLS_MAX_APP_PROTOCOLS 8
#endif

/* Client sessions remembered for resumption (keyed by peer address). */
#ifndef CONFIG_NET_SOCKETS_TLS_MAX_CLIENT_SESSION_COUNT
#define CONFIG_NET_SOCKETS_TLS_MAX_CLIENT_SESSION_COUNT 16
#endif

/* Server sessions remembered for resumption (mbedTLS session cache). */
#ifndef CONFIG_NET_SOCKETS_TLS_MAX_SERVER_SESSION_COUNT
#define CONFIG_NET_SOCKETS_TLS_MAX_SERVER_SESSION_COUNT 64
#endif

/*
 * Make a TLS socket of protocol `proto` (IPPROTO_TLS_1_0..IPPROTO_TLS_1_2)
 * around `inner_fd`, an already connected zsock stream socket (a
 * socketpair endpoint, or a TCP socket connected by other means). The TLS
 * socket owns `inner_fd` from then on (it is made non-blocking and closed
 * with the TLS socket) and plays the client role, or the server role when
 * `server` is true. Set options with zsock_setsockopt() first; the
 * handshake then starts with z_tls_handshake() or the first send, recv or
 * poll, as after connect() with TLS_DTLS_HANDSHAKE_ON_CONNECT off. The
 * client session cache is not used (there is no peer address to key it).
 * Returns the new descriptor, or -EBADF / -ENOTSOCK (inner_fd), -EINVAL
 * (inner_fd not SOCK_STREAM), -EPROTONOSUPPORT (proto), -ENOMEM, -EMFILE.
 * On failure inner_fd is left open and untouched. Thread-safe.
 */
int z_tls_wrap(int inner_fd, int proto, bool server);

/*
 * Run the handshake of a TLS socket: blocking sockets wait until it is
 * over (bounded as CONFIG_NET_SOCKETS_TLS_HANDSHAKE_TIMEOUT_MS says, with
 * SO_SNDTIMEO taking precedence), non-blocking ones make what progress they
 * can and return -EAGAIN until it is. Returns 0 once the handshake is
 * complete, or the handshake's error (see docs/tls.md: -EACCES
 * verification failed, -ECONNABORTED fatal alert, -EPROTO invalid TLS,
 * -ECONNRESET transport closed, -ETIMEDOUT), -ENOTCONN (no transport yet),
 * -EBADF, -ENOTSOCK, -EOPNOTSUPP (not a TLS socket). Thread-safe.
 */
int z_tls_handshake(int fd);

/* Facts about a TLS socket's connection. */
struct z_tls_info {
    bool handshake_done;    /* the handshake completed successfully */
    bool resumed;           /* it was an abbreviated (resumed) handshake */
    int ciphersuite;        /* IANA id of the suite in use, 0 before */
    char version[16];       /* "TLSv1.2" etc., "" before */
    char alpn[64];          /* negotiated ALPN protocol, "" if none */
    uint64_t hs_bytes_in;   /* bytes read from the inner socket during the handshake */
    uint64_t hs_bytes_out;  /* bytes written to it during the handshake */
    uint32_t verify_result; /* mbedTLS X.509 verify flags of the last handshake */
};

/*
 * Fill *info for TLS socket `fd`. Returns 0, -EBADF, -ENOTSOCK, or
 * -EOPNOTSUPP when fd is not a TLS socket. Thread-safe.
 */
int z_tls_get_info(int fd, struct z_tls_info *info);

/* ---- DTLS sockets (src/tls/dtls_sock.c)
 * ----------------------------------------------------------------------------- */

/* Most sessions one DTLS server socket holds; ClientHellos (with a valid
 * cookie) beyond it are dropped and counted (sessions_refused). */
#ifndef CONFIG_NET_SOCKETS_DTLS_MAX_SESSIONS
#define CONFIG_NET_SOCKETS_DTLS_MAX_SESSIONS 16
#endif

/* A DTLS server frees a session that received nothing for this many
 * milliseconds (0: never). Zephyr's option of the same name closes a
 * session after that long without data, too. */
#ifndef CONFIG_NET_SOCKETS_DTLS_TIMEOUT
#define CONFIG_NET_SOCKETS_DTLS_TIMEOUT 60000
#endif

/* What a DTLS socket counted since it was created (docs/tls.md, DTLS). */
struct z_dtls_stats {
    uint32_t sessions;          /* live sessions (a client: 1 once its handshake is done) */
    uint64_t rx_datagrams;      /* datagrams read from the inner socket */
    uint64_t sessions_created;  /* server: ClientHellos with a valid cookie that got a session */
    uint64_t sessions_expired;  /* server: freed after CONFIG_NET_SOCKETS_DTLS_TIMEOUT idle */
    uint64_t sessions_closed;   /* server: freed after close_notify or a failure */
    uint64_t sessions_refused;  /* server: valid ClientHellos dropped, the table was full */
    uint64_t hello_verify;      /* server: ClientHellos without a valid cookie (answered with a
                                 * HelloVerifyRequest, nothing kept) */
    uint64_t rx_invalid;        /* server: datagrams from unknown peers that are no ClientHello */
    uint64_t rx_malformed;      /* datagrams whose records do not fit in them (truncated) */
    uint64_t rx_bad_mac;        /* records that failed authentication, dropped */
    uint64_t rx_replay;         /* records whose sequence number was seen already, dropped */
    uint64_t hs_failed;         /* handshakes that failed */
    uint64_t hs_timer_expiries; /* retransmission timer expiries: each one sent the last
                                 * flight again, or ended the handshake (_MAX reached) */
    uint64_t tx_mtu_shrunk;     /* datagrams the path refused as too big (EMSGSIZE): the
                                 * session's datagram size went down (1472, 1232, 508) */
};

/*
 * Make a DTLS socket of protocol `proto` (IPPROTO_DTLS_1_0/1_2) around
 * `inner_fd`, a zsock UDP socket (unconnected; a socket on a test's stack
 * instance, for example). The DTLS socket owns it from then on (made
 * non-blocking, closed with it); bind, connect and options as usual.
 * Returns the descriptor or -EBADF / -ENOTSOCK / -EINVAL (not SOCK_DGRAM) /
 * -EPROTONOSUPPORT / -ENOMEM / -EMFILE; on failure inner_fd is untouched.
 * Thread-safe.
 */
int z_dtls_wrap(int inner_fd, int proto);

/* Copy the counters of DTLS socket fd. 0, -EBADF, -ENOTSOCK, -EOPNOTSUPP
 * (not DTLS). Thread-safe. */
int z_dtls_get_stats(int fd, struct z_dtls_stats *st);

/* Set a DTLS server's session limit (>= 1) and idle timeout in ms (0:
 * none), instead of the CONFIG_ defaults. 0, -EINVAL, -EBADF, -ENOTSOCK,
 * -EOPNOTSUPP. Thread-safe. */
int z_dtls_set_limits(int fd, int max_sessions, uint32_t idle_ms);

/* Run the retransmission and idle timers of DTLS socket fd on `now_us`
 * (microseconds; a simulation's virtual clock) instead of z_now_us().
 * Such a socket must be used non-blocking: waits cannot sleep on a clock
 * that only the caller moves. 0, -EBADF, -ENOTSOCK, -EOPNOTSUPP. */
int z_dtls_set_clock(int fd, int64_t (*now_us)(void *ctx), void *ctx);

/* z_tls_get_info() for a DTLS client (a server socket reports nothing). */
int z_dtls_get_info(int fd, struct z_tls_info *info);

/* ---- shared between the TLS (tls_sock.c) and DTLS (dtls_sock.c) sockets
 * ---------------------------------------------------------------------------------- */

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <zsock/tls_credentials.h>

/* The credentials of a tag list, copied from the store (opaque). */
struct tls_creds;

/* The SOL_TLS options a TLS or DTLS socket holds, and the role its
 * handshakes play. Not locked: the owning socket's lock guards it. */
struct z_tls_opts {
    bool server;     /* handshakes play the server */
    int peer_verify; /* -1: the default for the role */
    int dtls_role;
    int cert_nocopy;
    uint32_t dtls_hs_min_ms, dtls_hs_max_ms;
    char *hostname;         /* the name the server's certificate must carry */
    bool hostname_disabled; /* TLS_HOSTNAME set to NULL: no name check */
    sec_tag_t tags[CONFIG_NET_SOCKETS_TLS_MAX_CREDENTIALS];
    int ntags;
    struct tls_creds *creds;
    int suites[CONFIG_NET_SOCKETS_TLS_MAX_CIPHERSUITES + 1]; /* 0-terminated */
    int nsuites;
    char *alpn[CONFIG_NET_SOCKETS_TLS_MAX_APP_PROTOCOLS + 1]; /* NULL-terminated */
    int nalpn;
    struct tls_cert_verify_cb vcb;
    bool cache_on;      /* TLS_SESSION_CACHE */
    bool hs_on_connect; /* TLS_DTLS_HANDSHAKE_ON_CONNECT */
};

/* The credentials of z_tls_opts parsed into mbedTLS objects. */
struct z_tls_keys {
    mbedtls_x509_crt ca;
    struct z_tls_own_pair {
        mbedtls_x509_crt crt;
        mbedtls_pk_context key;
    } * own; /* one per tag with a certificate and key */
    int nown;
};

/* Defaults: client role, verification by role, handshake on connect,
 * DTLS retransmission from 1 s to 60 s. Cannot fail. */
void z_tls_opts_init(struct z_tls_opts *o);

/* Free what the options own (host name, ALPN copies, credentials). */
void z_tls_opts_free(struct z_tls_opts *o);

/* Give `dst` (fresh from z_tls_opts_init) the handshake configuration of
 * `src` (a listener's, for a socket it accepts) in the server role.
 * Returns 0 or -ENOMEM (dst then holds what was copied; free it). */
int z_tls_opts_inherit(struct z_tls_opts *dst, const struct z_tls_opts *src);

/* Set SOL_TLS option `optname` as docs/tls.md describes. `configurable`
 * is false once the handshake configuration is built (options that shape
 * it answer -EISCONN then). Returns 0, -EINVAL, -ENOENT, -EISCONN, -ENOMEM
 * or -ENOPROTOOPT (read-only, connection-id and unknown options). */
int z_tls_opts_set(struct z_tls_opts *o, bool configurable, int optname, const void *optval,
                   socklen_t optlen);

/* Get SOL_TLS option `optname` of those the options hold; the caller
 * answers connection facts (TLS_CIPHERSUITE_USED, TLS_CERT_VERIFY_RESULT)
 * itself. Returns 0, -EINVAL (short buffer) or -ENOPROTOOPT. */
int z_tls_opts_get(const struct z_tls_opts *o, int optname, void *optval, socklen_t *optlen);

/* Build an mbedTLS configuration from the options: defaults for the role
 * and `transport` (MBEDTLS_SSL_TRANSPORT_*), versions from `min_minor`
 * (MBEDTLS_SSL_MINOR_VERSION_*) to TLS 1.2 / DTLS 1.2, the DRBG seeded,
 * verification, credentials parsed into `keys`, ciphersuites, ALPN, the
 * verify callback, the server session cache, debug output tagged with
 * *dbg_fd. `conf`, `drbg` and `keys` must be initialised by the caller
 * (z_tls_keys_init) and stay alive as long as `o`. Returns 0, -EINVAL
 * (credentials), -ENOMEM or -EIO (no entropy). Not thread-safe for one
 * conf. */
int z_tls_conf_setup(mbedtls_ssl_config *conf, mbedtls_ctr_drbg_context *drbg,
                     struct z_tls_keys *keys, struct z_tls_opts *o, int transport, int min_minor,
                     const int *dbg_fd);

/* Initialise and free `keys`. */
void z_tls_keys_init(struct z_tls_keys *keys);
void z_tls_keys_free(struct z_tls_keys *keys);

/* Store a uint32_t option value: 0, or -EINVAL when *optlen is short. */
int z_tls_put_u32(void *optval, socklen_t *optlen, uint32_t v);

/* The positive errno for mbedTLS error `ret` (docs/tls.md, Errors);
 * `io_errno` is what the transport failed with on a MBEDTLS_ERR_NET_*. */
int z_tls_map_error(int ret, int io_errno);

/* Client session cache keyed on the peer's address (TLS_SESSION_CACHE):
 * remember the session of `ssl`, or offer the remembered one to `ssl`
 * before its handshake. Thread-safe (the cache has its own lock). */
void z_tls_client_cache_store(mbedtls_ssl_context *ssl, const void *peer, socklen_t peerlen);
void z_tls_client_cache_apply(mbedtls_ssl_context *ssl, const void *peer, socklen_t peerlen);

/* An mbedTLS result that only asks for more I/O. */
static inline bool z_tls_is_want(int ret)
{
    return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* The inner-socket plumbing both socket types share. */
struct z_fd_ops;
struct z_sockbase;
struct z_waitq;

/* Wait, with the owner's lock (wq->lock, held on entry) released, until
 * the inner socket reports one of `events` (or an error, hang-up or close),
 * the owner wakes `wq`, or the deadline passes. The wait entry is queued
 * while the lock is still held: input another thread consumes after that
 * arrived after we were queued, so its arrival wakes us. Returns 0 (look
 * again) or -EAGAIN (deadline passed); the caller checks for a close. */
int z_tls_wait_inner(struct z_waitq *wq, const struct z_fd_ops *inner_ops, void *inner_obj,
                     short events, int64_t deadline);

/* Deadline of a blocking call whose own timeout is `timeo_us` (< 0: none). */
int64_t z_tls_call_deadline(int64_t timeo_us);

/* Take a reference on `inner` (into *inner_obj, *inner_ops), make it
 * non-blocking and give `obj` a descriptor with `ops`. Returns the
 * descriptor, or a negative errno with nothing held (the caller frees obj;
 * `inner` is left alone). */
int z_tls_publish(void *obj, const struct z_fd_ops *ops, int inner, void **inner_obj,
                  const struct z_fd_ops **inner_ops);

/* 0 when `inner_fd` is a socket of `type`, else -EINVAL or its -errno. */
int z_tls_check_inner(int inner_fd, int type);

/* The object behind fd when its operations are `ops`, referenced
 * (z_fd_put(fd) after); NULL with *err = -EBADF, -ENOTSOCK or -EOPNOTSUPP. */
void *z_tls_fd_object(int fd, const struct z_fd_ops *ops, int *err);

/* Options below SOL_TLS: what the socket base answers, then the inner
 * socket (get); SOL_SOCKET facts are read-only, timeouts the socket's own,
 * the rest the inner socket's (set). Caller holds the owner's lock. */
int z_tls_getsockopt_rest(const struct z_sockbase *base, int inner, int level, int optname,
                          void *optval, socklen_t *optlen);
int z_tls_setsockopt_rest(struct z_sockbase *base, int inner, int level, int optname,
                          const void *optval, socklen_t optlen);

#endif /* ZSOCK_TLS_INTERNAL_H_ */
