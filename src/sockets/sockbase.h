/* State every socket object shares whatever its family: blocking mode and
 * timeouts, with the option and fcntl handling that goes with them. */
#ifndef ZSOCK_SOCKBASE_H_
#define ZSOCK_SOCKBASE_H_

#include <stdbool.h>
#include <stdint.h>

#include <zsock/socket.h>

#include "sockets/iov.h"

struct z_sockbase {
    int family;
    int type;
    int proto;
    bool nonblock;
    int64_t rcvtimeo_us; /* < 0: no limit */
    int64_t sndtimeo_us; /* < 0: no limit */
};

void z_sockbase_init(struct z_sockbase *b, int family, int type, int proto, bool nonblock);

/* SOL_SOCKET options every socket answers the same way: SO_TYPE,
 * SO_DOMAIN, SO_PROTOCOL, SO_RCVTIMEO, SO_SNDTIMEO, SO_ACCEPTCONN (0).
 * Return 0 / a negative errno, or -ENOPROTOOPT when the option is not one
 * of these (the caller then tries its own). The caller holds the object lock. */
int z_sockbase_getsockopt(const struct z_sockbase *b, int level, int optname, void *optval,
                          socklen_t *optlen);
int z_sockbase_setsockopt(struct z_sockbase *b, int level, int optname, const void *optval,
                          socklen_t optlen);

/* Z_IOCTL_GETFL / Z_IOCTL_SETFL; -ENOTTY for other requests. */
int z_sockbase_ioctl(struct z_sockbase *b, unsigned long request, int *arg);

/* The ioctls of a datagram socket (UDP, raw, packet) whose receive ring
 * holds `count` records, each starting with its payload length as a
 * uint32_t: FIONREAD gives the next one's length (0: none), FIONWRITE 0
 * (datagrams leave at once), the rest go to z_sockbase_ioctl. The caller
 * holds the lock and has checked that the socket is open. */
static inline int z_dgram_ioctl(struct z_sockbase *b, const struct z_ring *rx, size_t count,
                                unsigned long request, int *arg)
{
    if (request == FIONREAD) {
        uint32_t len = 0;
        if (count > 0) {
            z_ring_peek(rx, 0, &len, sizeof(len));
        }
        *arg = (int)len;
        return 0;
    }
    if (request == FIONWRITE) {
        *arg = 0;
        return 0;
    }
    return z_sockbase_ioctl(b, request, arg);
}

/* Whether this call may block, given the socket's mode and the call's flags. */
static inline bool z_sockbase_blocking(const struct z_sockbase *b, int flags)
{
    return !b->nonblock && !(flags & ZSOCK_MSG_DONTWAIT);
}

/* The deadline of a blocking call, started on first use: *deadline begins
 * as INT64_MIN and is set from timeo_us (< 0: no limit) the first time. */
int64_t z_sockbase_deadline(int64_t *deadline, int64_t timeo_us);

/* What a wait on the socket gives its call: -EINTR when the socket was
 * closed meanwhile, -EAGAIN when the wait (rc) timed out, else 0. */
int z_sockbase_wait_result(int rc, bool closed);

/* Helpers for option handlers: read an int option value, write one back. */
int z_opt_get_int(const void *optval, socklen_t optlen, int *out);
int z_opt_put_int(void *optval, socklen_t *optlen, int value);

#endif /* ZSOCK_SOCKBASE_H_ */
