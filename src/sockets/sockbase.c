/* Options, flags and timeouts common to every socket object. */
#include "sockets/sockbase.h"
#include "sockets/fdtable.h"

#include "port/port.h"

#include <errno.h>
#include <string.h>

void z_sockbase_init(struct z_sockbase *b, int family, int type, int proto, bool nonblock)
{
    b->family = family;
    b->type = type;
    b->proto = proto;
    b->nonblock = nonblock;
    b->rcvtimeo_us = -1;
    b->sndtimeo_us = -1;
}

int64_t z_sockbase_deadline(int64_t *deadline, int64_t timeo_us)
{
    if (*deadline == INT64_MIN) {
        *deadline = timeo_us < 0 ? Z_FOREVER : z_deadline_after_us(timeo_us);
    }
    return *deadline;
}

int z_sockbase_wait_result(int rc, bool closed)
{
    if (closed) {
        return -EINTR;
    }
    return rc == -ETIMEDOUT ? -EAGAIN : 0;
}

int z_opt_get_int(const void *optval, socklen_t optlen, int *out)
{
    if (optlen < sizeof(int)) {
        return -EINVAL;
    }
    memcpy(out, optval, sizeof(int));
    return 0;
}

int z_opt_put_int(void *optval, socklen_t *optlen, int value)
{
    if (*optlen < sizeof(int)) {
        return -EINVAL;
    }
    memcpy(optval, &value, sizeof(int));
    *optlen = sizeof(int);
    return 0;
}

/* Linux's rules: {0,0} means no limit, a negative time means "do not wait",
 * microseconds outside 0..999999 are EDOM. */
static int timeval_to_us(const void *optval, socklen_t optlen, int64_t *us)
{
    struct zsock_timeval tv;
    if (optlen < sizeof(tv)) {
        return -EINVAL;
    }
    memcpy(&tv, optval, sizeof(tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) {
        return -EDOM;
    }
    if (tv.tv_sec < 0) {
        *us = 0;
    } else if (tv.tv_sec == 0 && tv.tv_usec == 0) {
        *us = -1;
    } else if (tv.tv_sec > (INT64_MAX - 999999) / 1000000) {
        *us = -1;
    } else {
        *us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    }
    return 0;
}

static int us_to_timeval(int64_t us, void *optval, socklen_t *optlen)
{
    struct zsock_timeval tv = {0, 0};
    if (*optlen < sizeof(tv)) {
        return -EINVAL;
    }
    if (us > 0) {
        uint32_t usec;
        tv.tv_sec = (time_t)z_udiv64((uint64_t)us, 1000000, &usec);
        tv.tv_usec = (suseconds_t)usec;
    } else if (us == 0) {
        /* "Do not wait" has no exact timeval form; the shortest one. */
        tv.tv_usec = 1;
    }
    memcpy(optval, &tv, sizeof(tv));
    *optlen = sizeof(tv);
    return 0;
}

int z_sockbase_getsockopt(const struct z_sockbase *b, int level, int optname, void *optval,
                          socklen_t *optlen)
{
    if (level != SOL_SOCKET) {
        return -ENOPROTOOPT;
    }
    switch (optname) {
    case SO_TYPE:
        return z_opt_put_int(optval, optlen, b->type);
    case SO_DOMAIN:
        return z_opt_put_int(optval, optlen, b->family);
    case SO_PROTOCOL:
        return z_opt_put_int(optval, optlen, b->proto);
    case SO_ACCEPTCONN:
        return z_opt_put_int(optval, optlen, 0);
    case SO_RCVTIMEO:
        return us_to_timeval(b->rcvtimeo_us, optval, optlen);
    case SO_SNDTIMEO:
        return us_to_timeval(b->sndtimeo_us, optval, optlen);
    default:
        return -ENOPROTOOPT;
    }
}

int z_sockbase_setsockopt(struct z_sockbase *b, int level, int optname, const void *optval,
                          socklen_t optlen)
{
    if (level != SOL_SOCKET) {
        return -ENOPROTOOPT;
    }
    switch (optname) {
    case SO_RCVTIMEO:
        return timeval_to_us(optval, optlen, &b->rcvtimeo_us);
    case SO_SNDTIMEO:
        return timeval_to_us(optval, optlen, &b->sndtimeo_us);
    case SO_TYPE:
    case SO_DOMAIN:
    case SO_PROTOCOL:
    case SO_ACCEPTCONN:
        /* Read-only. */
        return -ENOPROTOOPT;
    default:
        return -ENOPROTOOPT;
    }
}

int z_sockbase_ioctl(struct z_sockbase *b, unsigned long request, int *arg)
{
    switch (request) {
    case Z_IOCTL_GETFL:
        *arg = O_RDWR | (b->nonblock ? O_NONBLOCK : 0);
        return 0;
    case Z_IOCTL_SETFL:
        b->nonblock = (*arg & O_NONBLOCK) != 0;
        return 0;
    default:
        return -ENOTTY;
    }
}
