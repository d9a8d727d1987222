/* zsock_socketpair(): two connected AF_UNIX endpoints in this process, stream
 * (byte ring) or datagram (length-prefixed records in the ring, boundaries
 * kept). Both endpoints share one lock and one condition variable; each owns
 * the ring it reads from and a wait queue for poll(). */
#include "sockets/fdtable.h"
#include "sockets/iov.h"
#include "sockets/sockbase.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DGRAM_HDR     sizeof(uint32_t)
#define SP_BUFFER_MIN 64
/* Stream copies are committed in pieces of at most this size, so the other
 * side starts on the first piece while the next is being copied. */
#define SP_COPY_PIECE 16384

struct sp_pair;

struct sp_end {
    struct z_sockbase base;
    struct sp_pair *pair;
    struct z_ring rx; /* bytes (or records) this endpoint reads */
    size_t rx_dgrams; /* records queued in rx (datagram pairs) */
    bool rx_writing;  /* a sender is copying into rx */
    bool rx_reading;  /* a receiver is copying out of rx */
    bool rd_closed;   /* nothing more will arrive: reads drain, then 0 */
    bool wr_closed;   /* sends fail with EPIPE */
    bool closed;      /* the descriptor was closed */
    struct z_waitq wq;
};

struct sp_pair {
    z_mutex_t lock;
    z_cond_t cond;
    int live_ends; /* endpoints not yet released */
    struct sp_end end[2];
};

static struct sp_end *peer_of(struct sp_end *e)
{
    struct sp_pair *p = e->pair;
    return e == &p->end[0] ? &p->end[1] : &p->end[0];
}

static bool is_dgram(const struct sp_end *e)
{
    return e->base.type == SOCK_DGRAM;
}

/* Something changed that a blocked thread or a poller may care about. */
static void pair_notify(struct sp_pair *p)
{
    z_cond_broadcast(&p->cond);
    z_waitq_wake(&p->end[0].wq);
    z_waitq_wake(&p->end[1].wq);
}

/* Block until notified. Returns 0, -EAGAIN when the socket timeout expires,
 * or -EINTR when the descriptor was closed meanwhile. `deadline` starts as
 * INT64_MIN and is computed on the first wait. */
static int end_wait(struct sp_end *e, int64_t *deadline, int64_t timeo_us)
{
    int rc =
        z_cond_wait_until(&e->pair->cond, &e->pair->lock, z_sockbase_deadline(deadline, timeo_us));
    return z_sockbase_wait_result(rc, e->closed);
}

/* Room a datagram writer needs before poll() calls the peer writable: a
 * quarter of the buffer, so a poll-then-send loop makes progress. */
static size_t dgram_writable_space(const struct z_ring *r)
{
    return DGRAM_HDR + (r->cap > DGRAM_HDR ? (r->cap - DGRAM_HDR) / 4 : 0);
}

static uint32_t next_dgram_len(const struct sp_end *e)
{
    uint32_t len = 0;
    z_ring_peek(&e->rx, 0, &len, sizeof(len));
    return len;
}

/* ---- copying outside the lock -------------------------------------------------
 * Bytes move between the caller's buffers and a ring with the pair lock
 * released, so a reader and a writer on two cores copy at the same time.
 * One copier per ring direction at a time: rx_writing / rx_reading mark the
 * ring busy, and the ring is only resized when neither is set. */

/* Wait for a copy in progress to finish (it is short and cannot block). */
static int wait_not_busy(struct sp_end *caller)
{
    z_cond_wait_until(&caller->pair->cond, &caller->pair->lock, Z_FOREVER);
    return caller->closed ? -EINTR : 0;
}

/* Copy n bytes from `it` to the free region of `r` and commit them. Called
 * and returns with the pair lock held; drops it while copying. */
static size_t ring_fill_unlocked(struct sp_end *owner, struct z_iov_iter *it, size_t n)
{
    struct z_ring *r = &owner->rx;
    size_t pos = z_ring_pos(r, r->len);
    owner->rx_writing = true;
    z_mutex_unlock(&owner->pair->lock);
    size_t done = z_ring_copy_in(r, pos, it, n);
    z_mutex_lock(&owner->pair->lock);
    owner->rx_writing = false;
    z_ring_commit(r, done);
    return done;
}

/* Copy n bytes from `offset` into the stored data of `r` to `it`, then
 * consume `consume` bytes. Same locking as ring_fill_unlocked(). */
static size_t ring_drain_unlocked(struct sp_end *owner, size_t offset, struct z_iov_iter *it,
                                  size_t n, size_t consume)
{
    struct z_ring *r = &owner->rx;
    size_t pos = z_ring_pos(r, offset);
    owner->rx_reading = true;
    z_mutex_unlock(&owner->pair->lock);
    size_t done = z_ring_copy_out(r, pos, it, n);
    z_mutex_lock(&owner->pair->lock);
    owner->rx_reading = false;
    z_ring_consume(r, consume);
    return done;
}

/* ---- send ------------------------------------------------------------------ */

static ssize_t stream_send(struct sp_end *e, struct z_iov_iter *it, size_t total, int flags)
{
    struct sp_end *peer = peer_of(e);
    int64_t deadline = INT64_MIN;
    size_t sent = 0;
    for (;;) {
        int rc = 0;
        if (e->wr_closed) {
            return sent > 0 ? (ssize_t)sent : -EPIPE;
        }
        if (sent == total) {
            return (ssize_t)sent;
        }
        if (peer->rx_writing) {
            rc = wait_not_busy(e);
        } else if (z_ring_space(&peer->rx) > 0) {
            size_t n = total - sent;
            if (n > z_ring_space(&peer->rx)) {
                n = z_ring_space(&peer->rx);
            }
            if (n > SP_COPY_PIECE) {
                n = SP_COPY_PIECE;
            }
            sent += ring_fill_unlocked(peer, it, n);
            pair_notify(e->pair);
        } else if (!z_sockbase_blocking(&e->base, flags)) {
            rc = -EAGAIN;
        } else {
            rc = end_wait(e, &deadline, e->base.sndtimeo_us);
        }
        if (rc < 0) {
            return sent > 0 ? (ssize_t)sent : rc;
        }
    }
}

static ssize_t dgram_send(struct sp_end *e, struct z_iov_iter *it, size_t total, int flags)
{
    struct sp_end *peer = peer_of(e);
    int64_t deadline = INT64_MIN;
    for (;;) {
        int rc;
        if (e->wr_closed) {
            return -EPIPE;
        }
        /* Checked each time: the peer's buffer may be resized meanwhile. */
        if (total > UINT32_MAX || total + DGRAM_HDR > peer->rx.cap) {
            return -EMSGSIZE;
        }
        if (peer->rx_writing) {
            rc = wait_not_busy(e);
        } else if (z_ring_space(&peer->rx) >= total + DGRAM_HDR) {
            uint32_t len = (uint32_t)total;
            struct iovec hv = {.iov_base = &len, .iov_len = sizeof(len)};
            struct z_iov_iter hdr;
            z_iov_iter_init(&hdr, &hv, 1);
            /* Header and payload are committed together: a reader never
             * sees a header without its datagram. */
            struct z_ring *r = &peer->rx;
            size_t pos = z_ring_pos(r, r->len);
            peer->rx_writing = true;
            z_mutex_unlock(&e->pair->lock);
            z_ring_copy_in(r, pos, &hdr, DGRAM_HDR);
            z_ring_copy_in(r,
                           pos + DGRAM_HDR >= r->cap ? pos + DGRAM_HDR - r->cap : pos + DGRAM_HDR,
                           it, total);
            z_mutex_lock(&e->pair->lock);
            peer->rx_writing = false;
            z_ring_commit(r, DGRAM_HDR + total);
            peer->rx_dgrams++;
            pair_notify(e->pair);
            return (ssize_t)total;
        } else if (!z_sockbase_blocking(&e->base, flags)) {
            rc = -EAGAIN;
        } else {
            rc = end_wait(e, &deadline, e->base.sndtimeo_us);
        }
        if (rc < 0) {
            return rc;
        }
    }
}

static ssize_t sp_sendmsg(void *obj, const struct msghdr *msg, int flags)
{
    struct sp_end *e = obj;
    if (msg->msg_name != NULL) {
        return -EISCONN;
    }
    size_t total = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    struct z_iov_iter it;
    z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);

    z_mutex_lock(&e->pair->lock);
    /* Closed between the descriptor lookup and here: as if it had blocked. */
    ssize_t rc = e->closed     ? -EINTR
                 : is_dgram(e) ? dgram_send(e, &it, total, flags)
                               : stream_send(e, &it, total, flags);
    z_mutex_unlock(&e->pair->lock);
    return rc;
}

/* ---- receive --------------------------------------------------------------- */

static ssize_t stream_recv(struct sp_end *e, struct z_iov_iter *it, size_t want, int flags)
{
    bool peek = flags & ZSOCK_MSG_PEEK;
    bool waitall = flags & ZSOCK_MSG_WAITALL;
    int64_t deadline = INT64_MIN;
    size_t got = 0;
    for (;;) {
        int rc;
        size_t avail = e->rx.len;
        if (got == want) {
            return (ssize_t)got;
        }
        if (e->rx_reading) {
            rc = wait_not_busy(e);
        } else if (peek && avail > 0 && (!waitall || avail >= want || e->rd_closed)) {
            /* A peek with WAITALL waits until the whole request is there. */
            size_t n = avail < want ? avail : want;
            return (ssize_t)ring_drain_unlocked(e, 0, it, n, 0);
        } else if (!peek && avail > 0) {
            size_t n = avail < want - got ? avail : want - got;
            if (n > SP_COPY_PIECE) {
                n = SP_COPY_PIECE;
            }
            got += ring_drain_unlocked(e, 0, it, n, n);
            pair_notify(e->pair);
            /* Keep going while data is there; block again only for WAITALL. */
            if (!waitall && e->rx.len == 0) {
                return (ssize_t)got;
            }
            continue;
        } else if (e->rd_closed) {
            return (ssize_t)got;
        } else if (!z_sockbase_blocking(&e->base, flags)) {
            rc = -EAGAIN;
        } else {
            rc = end_wait(e, &deadline, e->base.rcvtimeo_us);
        }
        if (rc < 0) {
            return got > 0 ? (ssize_t)got : rc;
        }
    }
}

static ssize_t dgram_recv(struct sp_end *e, struct msghdr *msg, struct z_iov_iter *it, size_t want,
                          int flags)
{
    int64_t deadline = INT64_MIN;
    for (;;) {
        int rc;
        if (e->rx_reading) {
            rc = wait_not_busy(e);
        } else if (e->rx_dgrams > 0) {
            uint32_t len = next_dgram_len(e);
            bool peek = flags & ZSOCK_MSG_PEEK;
            size_t n = len < want ? len : want;
            if (len > want) {
                msg->msg_flags |= ZSOCK_MSG_TRUNC;
            }
            if (!peek) {
                /* Claimed now, so a concurrent reader takes the next one. */
                e->rx_dgrams--;
            }
            n = ring_drain_unlocked(e, DGRAM_HDR, it, n, peek ? 0 : DGRAM_HDR + len);
            if (!peek) {
                pair_notify(e->pair);
            }
            return (flags & ZSOCK_MSG_TRUNC) ? (ssize_t)len : (ssize_t)n;
        } else if (e->rd_closed) {
            return 0;
        } else if (!z_sockbase_blocking(&e->base, flags)) {
            rc = -EAGAIN;
        } else {
            rc = end_wait(e, &deadline, e->base.rcvtimeo_us);
        }
        if (rc < 0) {
            return rc;
        }
    }
}

static ssize_t sp_recvmsg(void *obj, struct msghdr *msg, int flags)
{
    struct sp_end *e = obj;
    size_t want = (size_t)z_iov_total(msg->msg_iov, msg->msg_iovlen);
    struct z_iov_iter it;
    z_iov_iter_init(&it, msg->msg_iov, msg->msg_iovlen);

    /* An unnamed socket has no address to report, and there is no control data. */
    msg->msg_namelen = 0;
    msg->msg_controllen = 0;

    z_mutex_lock(&e->pair->lock);
    ssize_t rc = e->closed     ? -EINTR
                 : is_dgram(e) ? dgram_recv(e, msg, &it, want, flags)
                               : stream_recv(e, &it, want, flags);
    z_mutex_unlock(&e->pair->lock);
    return rc;
}

/* ---- state, options, poll ---------------------------------------------------- */

static int sp_shutdown(void *obj, int how)
{
    struct sp_end *e = obj;
    struct sp_end *peer = peer_of(e);
    z_mutex_lock(&e->pair->lock);
    if (how == ZSOCK_SHUT_RD || how == ZSOCK_SHUT_RDWR) {
        e->rd_closed = true;
        peer->wr_closed = true;
    }
    if (how == ZSOCK_SHUT_WR || how == ZSOCK_SHUT_RDWR) {
        e->wr_closed = true;
        peer->rd_closed = true;
    }
    pair_notify(e->pair);
    z_mutex_unlock(&e->pair->lock);
    return 0;
}

static int sp_connect(void *obj, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)obj;
    (void)addr;
    (void)addrlen;
    return -EISCONN;
}

static int unnamed_addr(struct sockaddr *addr, socklen_t *addrlen)
{
    if ((int)*addrlen < 0) {
        return -EINVAL;
    }
    sa_family_t fam = AF_UNIX;
    memcpy(addr, &fam, *addrlen < sizeof(fam) ? *addrlen : sizeof(fam));
    *addrlen = sizeof(fam);
    return 0;
}

static int sp_getname(void *obj, struct sockaddr *addr, socklen_t *addrlen)
{
    (void)obj;
    return unnamed_addr(addr, addrlen);
}

static int sp_getsockopt(void *obj, int level, int optname, void *optval, socklen_t *optlen)
{
    struct sp_end *e = obj;
    z_mutex_lock(&e->pair->lock);
    int rc = z_sockbase_getsockopt(&e->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT && level == SOL_SOCKET) {
        switch (optname) {
        case SO_ERROR:
            rc = z_opt_put_int(optval, optlen, 0);
            break;
        case SO_RCVBUF:
            rc = z_opt_put_int(optval, optlen, (int)e->rx.cap);
            break;
        case SO_SNDBUF:
            rc = z_opt_put_int(optval, optlen, (int)peer_of(e)->rx.cap);
            break;
        default:
            break;
        }
    }
    z_mutex_unlock(&e->pair->lock);
    return rc;
}

static int sp_setsockopt(void *obj, int level, int optname, const void *optval, socklen_t optlen)
{
    struct sp_end *e = obj;
    z_mutex_lock(&e->pair->lock);
    int rc = z_sockbase_setsockopt(&e->base, level, optname, optval, optlen);
    if (rc == -ENOPROTOOPT && level == SOL_SOCKET &&
        (optname == SO_RCVBUF || optname == SO_SNDBUF)) {
        /* SO_RCVBUF sizes the ring this end reads; SO_SNDBUF the one it
         * writes, which is its peer's receive ring. */
        int v;
        rc = z_opt_get_int(optval, optlen, &v);
        if (rc == 0) {
            size_t cap = v < SP_BUFFER_MIN ? SP_BUFFER_MIN : (size_t)v;
            if (cap > CONFIG_NET_SOCKETPAIR_BUFFER_MAX) {
                cap = CONFIG_NET_SOCKETPAIR_BUFFER_MAX;
            }
            struct sp_end *owner = optname == SO_RCVBUF ? e : peer_of(e);
            while (owner->rx_reading || owner->rx_writing) {
                z_cond_wait_until(&e->pair->cond, &e->pair->lock, Z_FOREVER);
            }
            rc = z_ring_resize(&owner->rx, cap);
            pair_notify(e->pair);
        }
    }
    z_mutex_unlock(&e->pair->lock);
    return rc;
}

static int sp_ioctl(void *obj, unsigned long request, int *arg)
{
    struct sp_end *e = obj;
    struct sp_end *peer = peer_of(e);
    int rc = 0;
    z_mutex_lock(&e->pair->lock);
    switch (request) {
    case FIONREAD:
        *arg = is_dgram(e) ? (e->rx_dgrams > 0 ? (int)next_dgram_len(e) : 0) : (int)e->rx.len;
        break;
    case FIONWRITE:
        *arg = (int)(peer->rx.len - peer->rx_dgrams * DGRAM_HDR);
        break;
    default:
        rc = z_sockbase_ioctl(&e->base, request, arg);
        if (request == Z_IOCTL_SETFL) {
            pair_notify(e->pair);
        }
        break;
    }
    z_mutex_unlock(&e->pair->lock);
    return rc;
}

static short sp_poll(void *obj, struct z_wait_entry *we)
{
    struct sp_end *e = obj;
    struct sp_end *peer = peer_of(e);
    short rev = 0;
    z_mutex_lock(&e->pair->lock);
    if (we != NULL) {
        z_waitq_add(&e->wq, we);
    }
    if (e->closed) {
        rev = ZSOCK_POLLNVAL;
    } else {
        bool readable = is_dgram(e) ? e->rx_dgrams > 0 : e->rx.len > 0;
        if (readable || e->rd_closed) {
            rev |= ZSOCK_POLLIN;
        }
        size_t need = is_dgram(e) ? dgram_writable_space(&peer->rx) : 1;
        if (e->wr_closed || z_ring_space(&peer->rx) >= need) {
            rev |= ZSOCK_POLLOUT;
        }
        if (e->rd_closed && e->wr_closed) {
            rev |= ZSOCK_POLLHUP;
        }
    }
    z_mutex_unlock(&e->pair->lock);
    return rev;
}

static void sp_close(void *obj)
{
    struct sp_end *e = obj;
    struct sp_end *peer = peer_of(e);
    z_mutex_lock(&e->pair->lock);
    e->closed = true;
    e->rd_closed = e->wr_closed = true;
    peer->rd_closed = peer->wr_closed = true;
    pair_notify(e->pair);
    z_mutex_unlock(&e->pair->lock);
}

static void sp_release(void *obj)
{
    struct sp_end *e = obj;
    struct sp_pair *p = e->pair;
    z_mutex_lock(&p->lock);
    bool last = --p->live_ends == 0;
    z_mutex_unlock(&p->lock);
    if (!last) {
        return;
    }
    z_ring_free(&p->end[0].rx);
    z_ring_free(&p->end[1].rx);
    z_cond_destroy(&p->cond);
    z_mutex_destroy(&p->lock);
    z_free(p);
}

static const struct z_socket_ops sp_ops = {
    .fd =
        {
            .close = sp_close,
            .release = sp_release,
            .poll = sp_poll,
            .ioctl = sp_ioctl,
        },
    .shutdown = sp_shutdown,
    .connect = sp_connect,
    .sendmsg = sp_sendmsg,
    .recvmsg = sp_recvmsg,
    .getsockopt = sp_getsockopt,
    .setsockopt = sp_setsockopt,
    .getpeername = sp_getname,
    .getsockname = sp_getname,
};

/* ---- creation ---------------------------------------------------------------- */

static int check_args(int family, int type, int proto)
{
    if (family != AF_UNIX) {
        return -EAFNOSUPPORT;
    }
    if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf)) {
        return -EINVAL;
    }
    int base = type & 0xf;
    if (base != SOCK_STREAM && base != SOCK_DGRAM) {
        return -EPROTOTYPE;
    }
    if (proto != 0 && proto != PF_UNIX) {
        return -EPROTONOSUPPORT;
    }
    return 0;
}

static struct sp_pair *pair_alloc(int type, bool nonblock)
{
    struct sp_pair *p = z_calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    if (z_ring_init(&p->end[0].rx, CONFIG_NET_SOCKETPAIR_BUFFER_SIZE) < 0 ||
        z_ring_init(&p->end[1].rx, CONFIG_NET_SOCKETPAIR_BUFFER_SIZE) < 0) {
        z_ring_free(&p->end[0].rx);
        z_free(p);
        return NULL;
    }
    z_mutex_init(&p->lock);
    z_cond_init(&p->cond);
    p->live_ends = 2;
    for (int i = 0; i < 2; i++) {
        struct sp_end *e = &p->end[i];
        z_sockbase_init(&e->base, AF_UNIX, type, 0, nonblock);
        e->pair = p;
        z_waitq_init(&e->wq, &p->lock);
    }
    return p;
}

static int socketpair_internal(int family, int type, int proto, int *sv)
{
    int rc = check_args(family, type, proto);
    if (rc < 0) {
        return rc;
    }
    if (sv == NULL) {
        return -EFAULT;
    }
    int fd0 = z_fd_reserve();
    if (fd0 < 0) {
        return fd0;
    }
    int fd1 = z_fd_reserve();
    if (fd1 < 0) {
        z_fd_unreserve(fd0);
        return fd1;
    }
    struct sp_pair *p = pair_alloc(type & 0xf, (type & SOCK_NONBLOCK) != 0);
    if (p == NULL) {
        z_fd_unreserve(fd1);
        z_fd_unreserve(fd0);
        return -ENOMEM;
    }
    z_fd_finalize(fd0, &p->end[0], &sp_ops.fd, Z_FD_KIND_SOCKET);
    z_fd_finalize(fd1, &p->end[1], &sp_ops.fd, Z_FD_KIND_SOCKET);
    sv[0] = fd0;
    sv[1] = fd1;
    return 0;
}

int zsock_socketpair(int family, int type, int proto, int *sv)
{
    int rc = socketpair_internal(family, type, proto, sv);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return 0;
}
