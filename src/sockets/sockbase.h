/* State every socket object shares whatever its family: blocking mode and
 * timeouts, with the option and fcntl handling that goes with them. */
#ifndef ZSOCK_SOCKBASE_H_
#define ZSOCK_SOCKBASE_H_

#include <stdbool.h>
#include <stdint.h>

#include <zsock/socket.h>

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
