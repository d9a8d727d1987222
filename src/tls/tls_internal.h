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

#endif /* ZSOCK_TLS_INTERNAL_H_ */
