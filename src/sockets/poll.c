/* poll() and select() over every object in the descriptor table.
 * Each watched object is asked for its readiness while a wait entry of this
 * call is queued on it under the object's lock, so a change that happens
 * between the check and the sleep still wakes the sleeper. */
#include "sockets/fdtable.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define POLL_STACK_ENTRIES 16

struct watched {
    struct z_wait_entry we;
    void *obj;
    const struct z_fd_ops *ops;
};

/* Readiness of entry i as poll reports it: the events asked for plus the
 * ones always reported. */
static short entry_revents(const struct watched *w, const struct zsock_pollfd *pfd, bool reg)
{
    /* Later passes pass the entry too (queuing a queued entry does nothing)
     * so that an object can ask for a timed re-evaluation (wake_by). */
    (void)reg;
    short all = w->ops->poll != NULL ? w->ops->poll(w->obj, (struct z_wait_entry *)&w->we)
                                     : (short)(ZSOCK_POLLIN | ZSOCK_POLLOUT);
    if (all & ZSOCK_POLLNVAL) {
        return ZSOCK_POLLNVAL;
    }
    return (short)(all & (pfd->events | ZSOCK_POLLERR | ZSOCK_POLLHUP));
}

static int poll_internal(struct zsock_pollfd *fds, int nfds, int64_t deadline_us)
{
    struct watched stack_w[POLL_STACK_ENTRIES];
    struct watched *w = stack_w;
    if (nfds > POLL_STACK_ENTRIES) {
        w = z_calloc((size_t)nfds, sizeof(*w));
        if (w == NULL) {
            return -ENOMEM;
        }
    } else {
        memset(stack_w, 0, sizeof(stack_w));
    }

    struct z_poller poller;
    z_poller_init(&poller);

    /* Take a reference on every valid descriptor for the whole call. */
    for (int i = 0; i < nfds; i++) {
        fds[i].revents = 0;
        w[i].we.poller = &poller;
        if (fds[i].fd < 0) {
            continue;
        }
        int err;
        w[i].obj = z_fd_get(fds[i].fd, Z_FD_KIND_ANY, &w[i].ops, &err);
    }

    int ready = 0;
    bool first = true;
    for (;;) {
        ready = 0;
#if Z_POLL_WAKE_BY
        poller.wake_by = Z_FOREVER;
#endif
        for (int i = 0; i < nfds; i++) {
            if (fds[i].fd < 0) {
                continue;
            }
            fds[i].revents =
                w[i].obj == NULL ? ZSOCK_POLLNVAL : entry_revents(&w[i], &fds[i], first);
            if (fds[i].revents != 0) {
                ready++;
            }
        }
        first = false;
        if (ready > 0) {
            break;
        }
#if Z_POLL_WAKE_BY
        /* Only DTLS and SOCKS5 sockets have timers of their own. */
        bool early = poller.wake_by < deadline_us; /* an object's own timer comes first */
        if (z_poller_wait(&poller, early ? poller.wake_by : deadline_us) == -ETIMEDOUT &&
            (!early || z_now_us() >= deadline_us)) {
            break;
        }
#else
        if (z_poller_wait(&poller, deadline_us) == -ETIMEDOUT) {
            break;
        }
#endif
    }
    /* A wake that raced with the deadline still counts: the loop above ran
     * its final evaluation before leaving. */

    for (int i = 0; i < nfds; i++) {
        if (w[i].obj != NULL) {
            z_waitq_remove(&w[i].we);
            z_fd_put(fds[i].fd);
        }
    }
    z_poller_destroy(&poller);
    if (w != stack_w) {
        z_free(w);
    }
    return ready;
}

int zsock_poll(struct zsock_pollfd *fds, int nfds, int timeout)
{
    if (nfds < 0 || nfds > CONFIG_ZVFS_POLL_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (fds == NULL && nfds > 0) {
        errno = EFAULT;
        return -1;
    }
    int64_t deadline = timeout < 0 ? Z_FOREVER : z_deadline_after_us((int64_t)timeout * 1000);
    int rc = poll_internal(fds, nfds, deadline);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return rc;
}

void ZSOCK_FD_ZERO(zsock_fd_set *set)
{
    if (set != NULL) {
        memset(set->bitset, 0, sizeof(set->bitset));
    }
}

static bool fd_in_range(int fd)
{
    return fd >= 0 && fd < ZSOCK_FD_SETSIZE;
}

int ZSOCK_FD_ISSET(int fd, zsock_fd_set *set)
{
    if (set == NULL || !fd_in_range(fd)) {
        return 0;
    }
    return (set->bitset[fd / 32] >> (fd % 32)) & 1u;
}

void ZSOCK_FD_CLR(int fd, zsock_fd_set *set)
{
    if (set != NULL && fd_in_range(fd)) {
        set->bitset[fd / 32] &= ~(1u << (fd % 32));
    }
}

void ZSOCK_FD_SET(int fd, zsock_fd_set *set)
{
    if (set != NULL && fd_in_range(fd)) {
        set->bitset[fd / 32] |= 1u << (fd % 32);
    }
}

/* Deadline of a select() timeout, or -EINVAL for a negative or malformed one. */
static int64_t select_deadline(const struct zsock_timeval *tv)
{
    if (tv == NULL) {
        return Z_FOREVER;
    }
    if (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000) {
        return -EINVAL;
    }
    if (tv->tv_sec > (INT64_MAX - tv->tv_usec) / 1000000) {
        return Z_FOREVER;
    }
    return z_deadline_after_us((int64_t)tv->tv_sec * 1000000 + tv->tv_usec);
}

int zsock_select(int nfds, zsock_fd_set *readfds, zsock_fd_set *writefds, zsock_fd_set *exceptfds,
                 struct zsock_timeval *timeout)
{
    int rc;
    struct zsock_pollfd *pfds = NULL;
    int64_t deadline = select_deadline(timeout);
    if (nfds < 0 || nfds > ZSOCK_FD_SETSIZE || deadline < 0) {
        rc = -EINVAL;
        goto out;
    }

    int count = 0;
    for (int fd = 0; fd < nfds; fd++) {
        if (ZSOCK_FD_ISSET(fd, readfds) || ZSOCK_FD_ISSET(fd, writefds) ||
            ZSOCK_FD_ISSET(fd, exceptfds)) {
            count++;
        }
    }
    pfds = z_calloc(count > 0 ? (size_t)count : 1, sizeof(*pfds));
    if (pfds == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    int n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = 0;
        ev |= ZSOCK_FD_ISSET(fd, readfds) ? ZSOCK_POLLIN : 0;
        ev |= ZSOCK_FD_ISSET(fd, writefds) ? ZSOCK_POLLOUT : 0;
        ev |= ZSOCK_FD_ISSET(fd, exceptfds) ? ZSOCK_POLLPRI : 0;
        if (ev != 0) {
            pfds[n].fd = fd;
            pfds[n].events = ev;
            n++;
        }
    }

    rc = poll_internal(pfds, n, deadline);
    if (rc < 0) {
        goto out;
    }
    /* A descriptor that is not open is an error for select(), not an event. */
    for (int i = 0; i < n; i++) {
        if (pfds[i].revents & ZSOCK_POLLNVAL) {
            rc = -EBADF;
            goto out;
        }
    }

    rc = 0;
    for (int i = 0; i < n; i++) {
        int fd = pfds[i].fd;
        short re = pfds[i].revents;
        if (ZSOCK_FD_ISSET(fd, readfds) && !(re & (ZSOCK_POLLIN | ZSOCK_POLLHUP | ZSOCK_POLLERR))) {
            ZSOCK_FD_CLR(fd, readfds);
        }
        if (ZSOCK_FD_ISSET(fd, writefds) && !(re & (ZSOCK_POLLOUT | ZSOCK_POLLERR))) {
            ZSOCK_FD_CLR(fd, writefds);
        }
        if (ZSOCK_FD_ISSET(fd, exceptfds) && !(re & ZSOCK_POLLPRI)) {
            ZSOCK_FD_CLR(fd, exceptfds);
        }
        rc += ZSOCK_FD_ISSET(fd, readfds) + ZSOCK_FD_ISSET(fd, writefds) +
              ZSOCK_FD_ISSET(fd, exceptfds);
    }

out:
    z_free(pfds);
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    return rc;
}
