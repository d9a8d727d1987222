/* SO_SOCKS5: a TCP socket that connects through a SOCKS5 proxy (RFC 1928,
 * CONNECT without authentication). connect() opens the TCP connection to
 * the proxy; when it is up, the exchange below runs as the proxy's bytes
 * arrive, driven from the socket's wake-up and from every call on the
 * socket, so blocking connect, non-blocking connect and poll() see one
 * state. The socket counts as connected only once the proxy reported
 * success; a failure resets the connection to the proxy and leaves its
 * errno in the connection's error (SO_ERROR), as a refused connect does.
 * Everything here needs the stack lock; none of it is thread-safe alone. */
#ifndef ZSOCK_SOCKS_H_
#define ZSOCK_SOCKS_H_

#include <stdbool.h>
#include <stdint.h>

#include <zsock/config.h>
#include <zsock/socket.h>

#include "net/net.h"

#if CONFIG_NET_SOCKETS_SOCKS

struct z_tcp_pcb;

enum z_socks_state {
    Z_SOCKS_IDLE,   /* a proxy is named; no connect yet */
    Z_SOCKS_TCP,    /* connecting to the proxy */
    Z_SOCKS_METHOD, /* greeting sent, awaiting the method chosen */
    Z_SOCKS_REPLY,  /* CONNECT sent, awaiting the reply's first 5 bytes */
    Z_SOCKS_BOUND,  /* success: skipping the rest of the reply (BND.ADDR, BND.PORT) */
    Z_SOCKS_DONE,   /* the tunnel is open: the application's bytes from here */
    Z_SOCKS_FAILED, /* the connection to the proxy was reset; errno in its conn */
};

struct z_socks {
    struct z_ipep proxy;
    struct z_ipep dest; /* what connect() was given */
    uint8_t state;      /* enum z_socks_state */
    uint8_t have;       /* bytes of the current answer in buf */
    uint16_t skip;      /* Z_SOCKS_BOUND: bytes of the reply still to drop */
    uint8_t buf[5];
    int64_t timeo_us; /* how long the proxy may take to answer (set at connect) */
    int64_t deadline; /* monotonic time the current answer is due by; 0: none */
};

/* SO_SOCKS5 set: the proxy address (sockaddr_in on an AF_INET socket,
 * sockaddr_in6 on an AF_INET6 one) into *sp, allocated on first use; an
 * optlen of 0 forgets the proxy. -EINVAL for a short address or another
 * family, -ENOMEM. The caller checks the socket is not connected. */
int z_socks_set(struct z_socks **sp, int family, const void *optval, socklen_t optlen);

/* SO_SOCKS5 get: the proxy as a sockaddr of the socket's family, or
 * *optlen 0 when none is named. -EINVAL if optlen is too small for it. */
int z_socks_get(const struct z_socks *x, int family, void *optval, socklen_t *optlen);

/* connect(dest) begins: remember the destination and how long the proxy may
 * take to answer (timeo_us > 0, else CONFIG_NET_SOCKETS_SOCKS_TIMEOUT). */
void z_socks_start(struct z_socks *x, const struct z_ipep *dest, int64_t timeo_us);

/* Between connect() and the proxy's final answer. */
static inline bool z_socks_pending(const struct z_socks *x)
{
    return x != NULL && x->state >= Z_SOCKS_TCP && x->state < Z_SOCKS_DONE;
}

/* Whether the socket should show the destination as its peer. */
static inline bool z_socks_open(const struct z_socks *x)
{
    return x != NULL && x->state == Z_SOCKS_DONE;
}

/* Move the exchange on with what the connection to the proxy holds now:
 * send the greeting once connected, read the answers (never a byte past
 * the reply), fail on a bad answer, a closed connection or the deadline.
 * Must not be called from inside TCP input processing (only from a socket
 * call or a queued wake-up). Does nothing unless pending. */
void z_socks_drive(struct z_socks *x, struct z_tcp_pcb *pcb);

#endif /* CONFIG_NET_SOCKETS_SOCKS */

#endif /* ZSOCK_SOCKS_H_ */
