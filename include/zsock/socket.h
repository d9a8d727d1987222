/** @file
 * zsock public API: the Zephyr BSD sockets interface (zsock_* functions and
 * ZSOCK_* constants), one include for everything the specification lists.
 * On a hosted system the C library's socket types and constants are used, so a
 * program can include both this header and the system's socket headers. */
#ifndef ZSOCK_SOCKET_H_
#define ZSOCK_SOCKET_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <zsock/config.h>

#if defined(ZSOCK_HOSTED_LIBC)
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <fcntl.h>
#include <net/if.h>
#if CONFIG_NET_SOCKETS_PACKET
#include <net/ethernet.h> /* ETH_P_* */
#include <net/if_arp.h>   /* ARPHRD_* */
#include <netpacket/packet.h>
#endif
#else
#error                                                                                             \
    "zsock: freestanding type definitions are not available yet; build against a C library with <sys/socket.h>"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * poll()
 * ------------------------------------------------------------------------- */

/** On a hosted system struct zsock_pollfd is the C library's struct pollfd
 * (same layout as Zephyr's: int fd; short events; short revents). */
#define zsock_pollfd pollfd

#define ZSOCK_POLLIN   1    /**< zsock_poll: poll for readability */
#define ZSOCK_POLLPRI  2    /**< zsock_poll: compatibility value, never reported */
#define ZSOCK_POLLOUT  4    /**< zsock_poll: poll for writability */
#define ZSOCK_POLLERR  8    /**< zsock_poll: error condition (output only) */
#define ZSOCK_POLLHUP  0x10 /**< zsock_poll: both directions closed (output only) */
#define ZSOCK_POLLNVAL 0x20 /**< zsock_poll: invalid or closed fd (output only) */

/* ---------------------------------------------------------------------------
 * send/recv flags, shutdown()
 * ------------------------------------------------------------------------- */

#define ZSOCK_MSG_PEEK     0x02  /**< recv: read without removing from the queue */
#define ZSOCK_MSG_CTRUNC   0x08  /**< recvmsg: control data was truncated (output) */
#define ZSOCK_MSG_TRUNC    0x20  /**< recv: return the real datagram length */
#define ZSOCK_MSG_DONTWAIT 0x40  /**< recv/send: this call is non-blocking */
#define ZSOCK_MSG_WAITALL  0x100 /**< recv: block until the request is satisfied */
#ifndef MSG_ERRQUEUE
#define MSG_ERRQUEUE 0x2000 /**< Linux's value */
#endif
/** recvmsg: read the error queue (SO_TIMESTAMPING's transmit stamps) */
#define ZSOCK_MSG_ERRQUEUE MSG_ERRQUEUE

#define ZSOCK_SHUT_RD   0 /**< shutdown: no more receptions */
#define ZSOCK_SHUT_WR   1 /**< shutdown: no more transmissions */
#define ZSOCK_SHUT_RDWR 2 /**< shutdown: both */

/* ---------------------------------------------------------------------------
 * Secure protocols and SOL_TLS options (Zephyr's numbers)
 * ------------------------------------------------------------------------- */

/** @name Secure protocols (Zephyr's numbers): TLS over SOCK_STREAM, DTLS over SOCK_DGRAM
 * @{ */
/** A protocol number for zsock_socket(); see docs/tls.md for each one's versions. */
#define IPPROTO_TLS_1_0  256
#define IPPROTO_TLS_1_1  257
#define IPPROTO_TLS_1_2  258
#define IPPROTO_TLS_1_3  259
#define IPPROTO_DTLS_1_0 272
#define IPPROTO_DTLS_1_2 273
/** @} */

/** Protocol level for TLS, the same number as Linux's. */
#define SOL_TLS 282

#define TLS_SEC_TAG_LIST               1  /**< get/set: sec_tag_t[] of credentials */
#define TLS_HOSTNAME                   2  /**< set: hostname to verify (NULL disables) */
#define TLS_CIPHERSUITE_LIST           3  /**< get/set: int[] of IANA suite ids */
#define TLS_CIPHERSUITE_USED           4  /**< get: int, suite chosen by the handshake */
#define TLS_PEER_VERIFY                5  /**< set: TLS_PEER_VERIFY_* */
#define TLS_DTLS_ROLE                  6  /**< set: TLS_DTLS_ROLE_* */
#define TLS_ALPN_LIST                  7  /**< get/set: NULL-terminated const char *[] */
#define TLS_DTLS_HANDSHAKE_TIMEOUT_MIN 8  /**< get/set: uint32_t milliseconds */
#define TLS_DTLS_HANDSHAKE_TIMEOUT_MAX 9  /**< get/set: uint32_t milliseconds */
#define TLS_CERT_NOCOPY                10 /**< set: TLS_CERT_NOCOPY_* */
#define TLS_NATIVE                     11 /**< set: native TLS over an offloaded socket */
#define TLS_SESSION_CACHE              12 /**< get/set: TLS_SESSION_CACHE_* */
#define TLS_SESSION_CACHE_PURGE        13 /**< set: purge the session caches */
#define TLS_DTLS_CID                   14 /**< set: TLS_DTLS_CID_* */
#define TLS_DTLS_CID_STATUS            15 /**< get: TLS_DTLS_CID_STATUS_* */
#define TLS_DTLS_CID_VALUE             16 /**< get/set: own connection id bytes */
#define TLS_DTLS_PEER_CID_VALUE        17 /**< get: peer's connection id bytes */
#define TLS_DTLS_HANDSHAKE_ON_CONNECT  18 /**< get/set: int, handshake in connect() */
#define TLS_CERT_VERIFY_RESULT         19 /**< get: uint32_t X.509 verify flags */
#define TLS_CERT_VERIFY_CALLBACK       20 /**< set: struct tls_cert_verify_cb */

#define TLS_PEER_VERIFY_NONE     0 /**< Peer verification disabled. */
#define TLS_PEER_VERIFY_OPTIONAL 1 /**< Peer verification optional. */
#define TLS_PEER_VERIFY_REQUIRED 2 /**< Peer verification required. */

#define TLS_DTLS_ROLE_CLIENT 0 /**< Client role in a DTLS session. */
#define TLS_DTLS_ROLE_SERVER 1 /**< Server role in a DTLS session. */

#define TLS_CERT_NOCOPY_NONE     0 /**< Certificates are copied. */
#define TLS_CERT_NOCOPY_OPTIONAL 1 /**< DER certificates are parsed in place. */

#define TLS_SESSION_CACHE_DISABLED 0 /**< Disable TLS session caching. */
#define TLS_SESSION_CACHE_ENABLED  1 /**< Enable TLS session caching. */

/** @name Values of TLS_DTLS_CID (DTLS connection identifiers)
 * @{ */
/** A value of the TLS_DTLS_CID option (DTLS: not supported yet). */
#define TLS_DTLS_CID_DISABLED  0
#define TLS_DTLS_CID_SUPPORTED 1
#define TLS_DTLS_CID_ENABLED   2
/** @} */

/** @name Values of TLS_DTLS_CID_STATUS
 * @{ */
/** A value the TLS_DTLS_CID_STATUS option reports (DTLS: not supported yet). */
#define TLS_DTLS_CID_STATUS_DISABLED      0
#define TLS_DTLS_CID_STATUS_DOWNLINK      1
#define TLS_DTLS_CID_STATUS_UPLINK        2
#define TLS_DTLS_CID_STATUS_BIDIRECTIONAL 3
/** @} */

/** Argument of TLS_CERT_VERIFY_CALLBACK: an mbedTLS f_vrfy callback and its context. */
struct tls_cert_verify_cb {
    int (*cb)(void *ctx, void *crt, int depth, uint32_t *flags); /**< the callback */
    void *ctx;                                                   /**< its first argument */
};

/* ---------------------------------------------------------------------------
 * getaddrinfo() / getnameinfo()
 * ------------------------------------------------------------------------- */

/* AI_* and NI_* are the C library's; their values equal Zephyr's. */
#ifndef AI_EXTFLAGS
#define AI_EXTFLAGS 0x800 /**< ai_eflags is valid (RFC 5014); accepted, no flag defined */
#endif

/** @name Error codes of zsock_getaddrinfo()/zsock_getnameinfo(): the C library's
 * EAI_* values, under Zephyr's DNS_EAI_* names as well.
 * @{ */
/** An error code zsock_getaddrinfo() returns; zsock_gai_strerror() names it. */
#ifndef EAI_NODATA
#define EAI_NODATA -5
#endif
#ifndef EAI_ADDRFAMILY
#define EAI_ADDRFAMILY -9
#endif
#define DNS_EAI_BADFLAGS   EAI_BADFLAGS
#define DNS_EAI_NONAME     EAI_NONAME
#define DNS_EAI_AGAIN      EAI_AGAIN
#define DNS_EAI_FAIL       EAI_FAIL
#define DNS_EAI_NODATA     EAI_NODATA
#define DNS_EAI_FAMILY     EAI_FAMILY
#define DNS_EAI_SOCKTYPE   EAI_SOCKTYPE
#define DNS_EAI_SERVICE    EAI_SERVICE
#define DNS_EAI_ADDRFAMILY EAI_ADDRFAMILY
#define DNS_EAI_MEMORY     EAI_MEMORY
#define DNS_EAI_SYSTEM     EAI_SYSTEM
#define DNS_EAI_OVERFLOW   EAI_OVERFLOW
/** @} */

/** Longest host name (with NUL) zsock_getaddrinfo() and its results handle. */
#define ZSOCK_DNS_MAX_NAME_SIZE 254

/** Result of zsock_getaddrinfo(); the list is freed with zsock_freeaddrinfo(). */
struct zsock_addrinfo {
    struct zsock_addrinfo *ai_next; /**< next result, NULL after the last */
    int ai_flags;                   /**< AI_* flags */
    int ai_family;                  /**< AF_INET or AF_INET6 */
    int ai_socktype;                /**< SOCK_STREAM, SOCK_DGRAM... */
    int ai_protocol;                /**< IPPROTO_TCP, IPPROTO_UDP... */
    int ai_eflags;                  /**< extended flags (AI_EXTFLAGS) */
    socklen_t ai_addrlen;           /**< length of *ai_addr */
    struct sockaddr *ai_addr;       /**< the address (points into _ai_addr) */
    char *ai_canonname;             /**< canonical name (AI_CANONNAME), else NULL */

    struct sockaddr_storage _ai_addr; /**< storage behind ai_addr */
};

/* ---------------------------------------------------------------------------
 * select()
 * ------------------------------------------------------------------------- */

/** Number of file descriptors a zsock_fd_set holds (the whole fd table). */
#define ZSOCK_FD_SETSIZE CONFIG_ZVFS_OPEN_MAX

/** Set of zsock file descriptors for zsock_select(). */
typedef struct zsock_fd_set {
    uint32_t bitset[(ZSOCK_FD_SETSIZE + 31) / 32]; /**< one bit per descriptor */
} zsock_fd_set;

/** On a hosted system struct zsock_timeval is the C library's struct timeval. */
#define zsock_timeval timeval

/* ---------------------------------------------------------------------------
 * Socket options beyond the C library's
 * ------------------------------------------------------------------------- */

/** Level for options that apply to both IPv4 and IPv6 (nRF Connect SDK value). */
#ifndef IPPROTO_ALL
#define IPPROTO_ALL 512
#endif
#define SO_SILENCE_ALL     30 /**< level IPPROTO_ALL: no replies to unexpected traffic */
#define SO_IP_ECHO_REPLY   31 /**< level IPPROTO_IP: answer ICMP echo requests */
#define SO_IPV6_ECHO_REPLY 32 /**< level IPPROTO_IPV6: answer ICMPv6 echo requests */

#ifndef SO_SOCKS5
#define SO_SOCKS5 60 /**< connect through a SOCKS5 proxy */
#endif

#ifndef IP_LOCAL_PORT_RANGE
/** level IPPROTO_IP: uint32_t, the ephemeral ports a socket may use: the low
 * 16 bits the lowest, the high 16 the highest, 0 for no bound (Linux's and
 * Zephyr's number; older C libraries lack it). */
#define IP_LOCAL_PORT_RANGE 51
#endif
#ifndef SO_TXTIME
#define SO_TXTIME 61 /**< transmit time of a packet */
#endif
#ifndef SCM_TXTIME
#define SCM_TXTIME SO_TXTIME /**< control message of SO_TXTIME */
#endif
#ifndef SO_TIMESTAMPING
#define SO_TIMESTAMPING 37 /**< software receive and transmit timestamps (docs/sockets.md) */
#endif
#ifndef SCM_TIMESTAMPING
#define SCM_TIMESTAMPING SO_TIMESTAMPING /**< control message of SO_TIMESTAMPING */
#endif

/* SO_TIMESTAMPING's flags and control messages, and SO_TXTIME's struct
 * sock_txtime: Linux's values and layouts (its headers on Linux). */
#if defined(__linux__)
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#else
#include <time.h>
/** @name SO_TIMESTAMPING flags (Linux's values)
 * @{ */
#define SOF_TIMESTAMPING_TX_HARDWARE  (1 << 0)  /**< not supported: EOPNOTSUPP */
#define SOF_TIMESTAMPING_TX_SOFTWARE  (1 << 1)  /**< stamp datagrams when they go to the device */
#define SOF_TIMESTAMPING_RX_HARDWARE  (1 << 2)  /**< not supported: EOPNOTSUPP */
#define SOF_TIMESTAMPING_RX_SOFTWARE  (1 << 3)  /**< stamp datagrams when they arrive */
#define SOF_TIMESTAMPING_SOFTWARE     (1 << 4)  /**< report software stamps */
#define SOF_TIMESTAMPING_RAW_HARDWARE (1 << 6)  /**< not supported: EOPNOTSUPP */
#define SOF_TIMESTAMPING_OPT_ID       (1 << 7)  /**< number datagrams (ee_data) */
#define SOF_TIMESTAMPING_OPT_TSONLY   (1 << 11) /**< stamps only (always the case) */
/** @} */
/** SO_TXTIME's optional argument (Linux): the clock must be CLOCK_MONOTONIC. */
struct sock_txtime {
    int clockid;    /**< CLOCK_MONOTONIC */
    uint32_t flags; /**< 0 */
};
/** SCM_TIMESTAMPING's data: ts[0] holds the software stamp. */
struct scm_timestamping {
    struct timespec ts[3]; /**< software, (deprecated), hardware */
};
/** The error-queue message beside a transmit stamp (IP_RECVERR / IPV6_RECVERR). */
struct sock_extended_err {
    uint32_t ee_errno; /**< ENOMSG */
    uint8_t ee_origin; /**< SO_EE_ORIGIN_TIMESTAMPING */
    uint8_t ee_type;   /**< 0 */
    uint8_t ee_code;   /**< 0 */
    uint8_t ee_pad;    /**< 0 */
    uint32_t ee_info;  /**< SCM_TSTAMP_SND */
    uint32_t ee_data;  /**< the datagram's number (SOF_TIMESTAMPING_OPT_ID) */
};
#define SO_EE_ORIGIN_TIMESTAMPING     4         /**< sock_extended_err.ee_origin of a stamp */
#define SCM_TSTAMP_SND                0         /**< sock_extended_err.ee_info: the send stamp */
#endif

/** @name Modem options of the specification (nRF Connect SDK numbers): ENOPROTOOPT
 * @{ */
/** A modem option level or name: zsock answers ENOPROTOOPT (no modem). */
#define SOL_PDN              514
#define SO_PDN_AF            1
#define SO_PDN_CONTEXT_ID    2
#define SO_PDN_STATE         3
#define SOL_DFU              515
#define SO_DFU_FW_VERSION    1
#define SO_DFU_RESOURCES     2
#define SO_DFU_TIMEO         3
#define SO_DFU_APPLY         4
#define SO_DFU_REVERT        5
#define SO_DFU_BACKUP_DELETE 6
#define SO_DFU_OFFSET        7
#define SO_DFU_ERROR         20
/** @} */

#ifndef FIONWRITE
#define FIONWRITE 0x541F /**< ioctl: bytes queued for sending */
#endif

#if CONFIG_NET_SOCKETS_PACKET
/** AF_PACKET: PACKET_STATISTICS reads (and resets) these counters, with
 * Linux's layout (struct tpacket_stats): frames queued plus dropped, and
 * frames dropped because the receive queue (SO_RCVBUF) was full. */
struct zsock_tpacket_stats {
    unsigned int tp_packets; /**< frames received, dropped ones included */
    unsigned int tp_drops;   /**< frames dropped: the receive queue was full */
};
#endif

/* ===========================================================================
 * Functions
 *
 * Unless said otherwise: every call returns -1 and sets errno on failure, and
 * is safe to call from any thread at any time, including on a socket another
 * thread is using. A call on a fd that is not open fails with EBADF; a call
 * the object does not support fails with EOPNOTSUPP; a call on an object that
 * is not a socket fails with ENOTSOCK. Bad pointers that can be detected (NULL)
 * give EFAULT, bad lengths EINVAL; nothing the caller passes crashes the stack.
 * Closing a socket wakes every thread blocked on it: blocked recv/send/accept
 * return -1 with EINTR and blocked polls report POLLNVAL for it.
 * ========================================================================= */

/**
 * Obtain the object behind a file descriptor (its socket context).
 * Returns the pointer, or NULL if `sock` is not an open descriptor. The
 * pointer stays valid only while the descriptor is open.
 */
void *zsock_get_context_object(int sock);

/**
 * Create a socket of `family`, `type` and `proto` (POSIX socket()).
 * `type` may carry SOCK_NONBLOCK (and SOCK_CLOEXEC, which is ignored).
 * Returns the lowest free descriptor.
 * Errors: EAFNOSUPPORT (no handler for the family), EPROTOTYPE (type not
 * supported by the protocol), EPROTONOSUPPORT (protocol not supported),
 * EINVAL (unknown type flags), EMFILE (descriptor table full),
 * ENOMEM/ENOBUFS (no memory for the object).
 */
int zsock_socket(int family, int type, int proto);

/**
 * Create a pair of connected sockets (POSIX socketpair()).
 * `family` must be AF_UNIX; `type` SOCK_STREAM or SOCK_DGRAM (plus
 * SOCK_NONBLOCK); `proto` 0. Each endpoint buffers
 * CONFIG_NET_SOCKETPAIR_BUFFER_SIZE bytes (SO_RCVBUF/SO_SNDBUF change it).
 * Errors: EFAULT (sv NULL), EAFNOSUPPORT, EPROTOTYPE, EPROTONOSUPPORT,
 * EMFILE, ENOMEM.
 */
int zsock_socketpair(int family, int type, int proto, int *sv);

/**
 * Close a descriptor. Threads blocked on it are woken (see above); the
 * descriptor number becomes free once the last of them has returned.
 * Errors: EBADF.
 */
int zsock_close(int sock);

/**
 * Shut down reception (ZSOCK_SHUT_RD), transmission (ZSOCK_SHUT_WR) or both.
 * After SHUT_WR the peer reads the remaining data and then end of stream;
 * our sends fail with EPIPE. After SHUT_RD reads return what is buffered, then 0.
 * Errors: EBADF, EINVAL (bad `how`), ENOTCONN (not connected), ENOTSOCK.
 */
int zsock_shutdown(int sock, int how);

/** Bind a socket to a local address. Errors: EBADF, EINVAL, EFAULT, EADDRINUSE,
 * EAFNOSUPPORT, EOPNOTSUPP, ENOTSOCK. */
int zsock_bind(int sock, const struct sockaddr *addr, socklen_t addrlen);

/** Connect a socket to a peer. Errors as POSIX connect(): EINPROGRESS for a
 * non-blocking socket, EISCONN, ECONNREFUSED, ETIMEDOUT, EFAULT, EINVAL... */
int zsock_connect(int sock, const struct sockaddr *addr, socklen_t addrlen);

/** Make a stream socket listen with at most `backlog` pending connections.
 * Errors: EBADF, EOPNOTSUPP, EINVAL, ENOTSOCK. */
int zsock_listen(int sock, int backlog);

/** Accept a connection; `addr`/`addrlen` (may be NULL) receive the peer's
 * address, truncated to *addrlen with the full length stored back.
 * Errors: EAGAIN (non-blocking, none pending), EINTR (closed meanwhile),
 * EINVAL (not listening), EMFILE, EBADF, EOPNOTSUPP, ENOTSOCK. */
int zsock_accept(int sock, struct sockaddr *addr, socklen_t *addrlen);

/**
 * Send `len` bytes, to `dest_addr` for unconnected datagram sockets. A
 * blocking stream send returns once everything is queued (or a timeout or
 * error cut it short, returning the count sent so far); a non-blocking one
 * may send less than asked. Datagrams are sent whole or not at all.
 * Errors: EAGAIN (would block, or SO_SNDTIMEO expired), EPIPE (shut down or
 * peer gone; no signal is raised), EMSGSIZE, EISCONN, EDESTADDRREQ, EFAULT,
 * EOPNOTSUPP (unsupported flags), EINTR (closed by another thread).
 */
ssize_t zsock_sendto(int sock, const void *buf, size_t len, int flags,
                     const struct sockaddr *dest_addr, socklen_t addrlen);

/** Send data to the connected peer: zsock_sendto() without an address. */
static inline ssize_t zsock_send(int sock, const void *buf, size_t len, int flags)
{
    return zsock_sendto(sock, buf, len, flags, NULL, 0);
}

/** Send the bytes gathered from msg->msg_iov (scatter/gather) with optional
 * destination msg->msg_name. Errors as zsock_sendto(), plus EMSGSIZE for
 * more than IOV_MAX vectors. */
ssize_t zsock_sendmsg(int sock, const struct msghdr *msg, int flags);

/**
 * Receive up to `max_len` bytes; `src_addr`/`addrlen` (may be NULL) receive
 * the sender's address. Stream sockets return what is queued (at least one
 * byte) unless ZSOCK_MSG_WAITALL; 0 means end of stream. Datagram sockets
 * return one datagram per call; the excess is discarded, and with
 * ZSOCK_MSG_TRUNC the real datagram length is returned.
 * Errors: EAGAIN (would block, or SO_RCVTIMEO expired), ENOTCONN, EFAULT,
 * EINTR (closed by another thread), ECONNRESET, EOPNOTSUPP (unsupported flags).
 */
ssize_t zsock_recvfrom(int sock, void *buf, size_t max_len, int flags, struct sockaddr *src_addr,
                       socklen_t *addrlen);

/** Receive from the connected peer: zsock_recvfrom() without an address. */
static inline ssize_t zsock_recv(int sock, void *buf, size_t max_len, int flags)
{
    return zsock_recvfrom(sock, buf, max_len, flags, NULL, 0);
}

/** Receive into msg->msg_iov (scatter). On return msg->msg_flags holds
 * ZSOCK_MSG_TRUNC / ZSOCK_MSG_CTRUNC as they apply and msg->msg_namelen the
 * sender address length. Errors as zsock_recvfrom(). */
ssize_t zsock_recvmsg(int sock, struct msghdr *msg, int flags);

/**
 * fcntl() on a socket (third argument an int, read only for F_SETFL): F_GETFL returns the flags
 * (O_RDWR, plus O_NONBLOCK when set); F_SETFL sets or clears O_NONBLOCK (other flags are ignored).
 * Errors: EBADF, EINVAL (other commands).
 */
int zsock_fcntl(int sock, int cmd, ...);

/**
 * ioctl() on a socket; the third argument is a pointer. FIONBIO (int *: non-zero sets non-blocking
 * mode, zero clears it), FIONREAD (int *: bytes readable now; for datagram sockets the size of the
 * next datagram), FIONWRITE (int *: bytes queued, not yet sent). Errors: EBADF, EFAULT (NULL
 * argument), ENOTTY (unknown request).
 */
int zsock_ioctl(int sock, unsigned long request, ...);

/**
 * Wait until one of `nfds` descriptors is ready (POSIX poll()). `timeout` is
 * in milliseconds: 0 returns at once, a negative value waits without limit.
 * Entries with a negative fd are ignored (revents 0); a fd that is not open,
 * or is closed while the call waits, reports ZSOCK_POLLNVAL. ZSOCK_POLLERR
 * and ZSOCK_POLLHUP are reported whether asked for or not.
 * Returns the number of entries with non-zero revents, 0 on timeout.
 * Errors: EFAULT (fds NULL with nfds > 0), EINVAL (nfds < 0 or above
 * CONFIG_ZVFS_POLL_MAX), ENOMEM.
 */
int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout);

/**
 * Legacy readiness wait built on zsock_poll(). A descriptor is readable when
 * poll reports IN, HUP or ERR; writable on OUT or ERR; exceptional on PRI.
 * `timeout` NULL waits without limit. Returns the number of bits set.
 * Errors: EBADF (a set names a fd that is not open), EINVAL (nfds outside
 * 0..ZSOCK_FD_SETSIZE or a negative/invalid timeout), ENOMEM.
 */
int zsock_select(int nfds, zsock_fd_set *readfds, zsock_fd_set *writefds, zsock_fd_set *exceptfds,
                 struct zsock_timeval *timeout);

/** Clear every fd in `set`. */
void ZSOCK_FD_ZERO(zsock_fd_set *set);
/** Non-zero if `fd` is in `set` (0 for fds outside 0..ZSOCK_FD_SETSIZE-1). */
int ZSOCK_FD_ISSET(int fd, zsock_fd_set *set);
/** Remove `fd` from `set` (ignored when out of range). */
void ZSOCK_FD_CLR(int fd, zsock_fd_set *set);
/** Add `fd` to `set` (ignored when out of range). */
void ZSOCK_FD_SET(int fd, zsock_fd_set *set);

/**
 * Read a socket option into optval (*optlen in: buffer size, out: bytes
 * written). Errors: ENOPROTOOPT (unknown level/option or write-only option),
 * EINVAL (buffer too small), EFAULT (NULL pointers), EBADF, ENOTSOCK.
 */
int zsock_getsockopt(int sock, int level, int optname, void *optval, socklen_t *optlen);

/**
 * Set a socket option. Errors: ENOPROTOOPT (unknown level/option or
 * read-only option), EINVAL (wrong optlen or value), EDOM (timeval out of
 * range), EFAULT (NULL optval), EBADF, ENOTSOCK.
 */
int zsock_setsockopt(int sock, int level, int optname, const void *optval, socklen_t optlen);

/** Address of the connected peer (truncated to *addrlen, full length stored
 * back). Errors: ENOTCONN, EFAULT, EINVAL, EBADF, ENOTSOCK. */
int zsock_getpeername(int sock, struct sockaddr *addr, socklen_t *addrlen);

/** Local address of a socket. Errors: EFAULT, EINVAL, EBADF, ENOTSOCK. */
int zsock_getsockname(int sock, struct sockaddr *addr, socklen_t *addrlen);

/** Copy the host name (CONFIG_NET_HOSTNAME or what zsock_sethostname() set)
 * with its NUL into buf. Errors: EFAULT (buf NULL), ENAMETOOLONG (len too
 * small). Thread-safe. */
int zsock_gethostname(char *buf, size_t len);

/** Set the host name (zsock extension). `len` bytes of `name`, no NUL needed;
 * at most CONFIG_NET_HOSTNAME_MAX_LEN. Errors: EFAULT, EINVAL (too long,
 * empty, or characters outside letters, digits, '-' and '.'). Thread-safe. */
int zsock_sethostname(const char *name, size_t len);

/** Convert an AF_INET or AF_INET6 address to text (inet_ntop(): RFC 5952
 * form, as glibc prints it). Returns dst, or NULL with errno EAFNOSUPPORT,
 * ENOSPC (size too small; nothing written) or EFAULT (src or dst NULL).
 * Thread-safe. */
char *zsock_inet_ntop(sa_family_t family, const void *src, char *dst, size_t size);

/** Convert text to an AF_INET (dotted quad only) or AF_INET6 address
 * (inet_pton()). Returns 1 on success, 0 if `src` is not a valid address, -1
 * with errno EAFNOSUPPORT for another family or EFAULT for NULL src/dst.
 * Thread-safe. */
int zsock_inet_pton(sa_family_t family, const char *src, void *dst);

/**
 * Translate a host and a service into socket addresses (POSIX getaddrinfo()).
 * Hosts: numeric IPv4/IPv6 (also bracketed), "localhost", the host name;
 * services: numbers or common names (see docs/sockets.md). Returns 0 and a
 * list in *res, or an EAI_* code (see zsock_gai_strerror()); EAI_SYSTEM with
 * errno EFAULT if res is NULL. *res is NULL after any error. Thread-safe.
 */
int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
                      struct zsock_addrinfo **res);

/** Free a list returned by zsock_getaddrinfo(); NULL is accepted. */
void zsock_freeaddrinfo(struct zsock_addrinfo *ai);

/** Text describing an EAI_* code; never NULL. Thread-safe. */
const char *zsock_gai_strerror(int errcode);

/**
 * Translate a socket address into host and service text (POSIX
 * getnameinfo()). Returns 0 or an EAI_* code. Thread-safe.
 */
int zsock_getnameinfo(const struct sockaddr *addr, socklen_t addrlen, char *host, socklen_t hostlen,
                      char *serv, socklen_t servlen, int flags);

#ifdef __cplusplus
}
#endif

#if defined(CONFIG_NET_SOCKETS_POSIX_NAMES) && !defined(ZSOCK_INTERNAL)
#include <zsock/posix_names.h>
#endif

#endif /* ZSOCK_SOCKET_H_ */
