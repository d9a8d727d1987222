/* Scatter/gather cursor and byte ring used by the socket objects. */
#include "sockets/iov.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

ssize_t z_iov_total(const struct iovec *iov, size_t cnt)
{
    if (cnt == 0) {
        return 0;
    }
    if (iov == NULL) {
        return -EFAULT;
    }
    if (cnt > IOV_MAX) {
        return -EMSGSIZE;
    }
    size_t total = 0;
    for (size_t i = 0; i < cnt; i++) {
        if (iov[i].iov_len == 0) {
            continue;
        }
        if (iov[i].iov_base == NULL) {
            return -EFAULT;
        }
        if (iov[i].iov_len > (size_t)SSIZE_MAX - total) {
            return -EINVAL;
        }
        total += iov[i].iov_len;
    }
    return (ssize_t)total;
}

void z_iov_iter_init(struct z_iov_iter *it, const struct iovec *iov, size_t cnt)
{
    it->iov = iov;
    it->cnt = cnt;
    it->idx = 0;
    it->off = 0;
}

/* Copy between the iterator and a flat buffer in the direction given. */
static size_t iov_copy(struct z_iov_iter *it, uint8_t *flat, size_t len, int to_iov)
{
    size_t done = 0;
    while (done < len && it->idx < it->cnt) {
        const struct iovec *v = &it->iov[it->idx];
        size_t avail = v->iov_len - it->off;
        if (avail == 0) {
            it->idx++;
            it->off = 0;
            continue;
        }
        size_t n = len - done < avail ? len - done : avail;
        uint8_t *base = (uint8_t *)v->iov_base + it->off;
        if (to_iov) {
            memcpy(base, flat + done, n);
        } else {
            memcpy(flat + done, base, n);
        }
        done += n;
        it->off += n;
    }
    return done;
}

size_t z_iov_gather(struct z_iov_iter *it, void *dst, size_t len)
{
    return iov_copy(it, dst, len, 0);
}

size_t z_iov_scatter(struct z_iov_iter *it, const void *src, size_t len)
{
    return iov_copy(it, (uint8_t *)src, len, 1);
}

int z_ring_init(struct z_ring *r, size_t cap)
{
    r->buf = malloc(cap > 0 ? cap : 1);
    if (r->buf == NULL) {
        return -ENOMEM;
    }
    r->cap = cap;
    r->head = 0;
    r->len = 0;
    return 0;
}

void z_ring_free(struct z_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = r->len = r->head = 0;
}

/* The ring as at most two contiguous spans starting `offset` bytes into the
 * stored data (for reading) or into the free space (for writing). */
struct spans {
    uint8_t *p[2];
    size_t n[2];
};

static struct spans ring_spans(const struct z_ring *r, size_t start, size_t len)
{
    struct spans s = {{NULL, NULL}, {0, 0}};
    size_t pos = (r->head + start) % (r->cap ? r->cap : 1);
    size_t first = r->cap - pos < len ? r->cap - pos : len;
    s.p[0] = r->buf + pos;
    s.n[0] = first;
    s.p[1] = r->buf;
    s.n[1] = len - first;
    return s;
}

size_t z_ring_write(struct z_ring *r, const void *src, size_t len)
{
    struct iovec v = {.iov_base = (void *)src, .iov_len = len};
    struct z_iov_iter it;
    z_iov_iter_init(&it, &v, 1);
    return z_ring_write_iov(r, &it, len);
}

size_t z_ring_write_iov(struct z_ring *r, struct z_iov_iter *it, size_t len)
{
    size_t n = len < z_ring_space(r) ? len : z_ring_space(r);
    struct spans s = ring_spans(r, r->len, n);
    size_t done = z_iov_gather(it, s.p[0], s.n[0]);
    if (done == s.n[0]) {
        done += z_iov_gather(it, s.p[1], s.n[1]);
    }
    r->len += done;
    return done;
}

size_t z_ring_peek(const struct z_ring *r, size_t offset, void *dst, size_t len)
{
    struct iovec v = {.iov_base = dst, .iov_len = len};
    struct z_iov_iter it;
    z_iov_iter_init(&it, &v, 1);
    return z_ring_peek_iov(r, offset, &it, len);
}

size_t z_ring_peek_iov(const struct z_ring *r, size_t offset, struct z_iov_iter *it, size_t len)
{
    if (offset >= r->len) {
        return 0;
    }
    size_t n = len < r->len - offset ? len : r->len - offset;
    struct spans s = ring_spans(r, offset, n);
    size_t done = z_iov_scatter(it, s.p[0], s.n[0]);
    if (done == s.n[0]) {
        done += z_iov_scatter(it, s.p[1], s.n[1]);
    }
    return done;
}

void z_ring_consume(struct z_ring *r, size_t len)
{
    if (len > r->len) {
        len = r->len;
    }
    r->len -= len;
    r->head = r->len == 0 ? 0 : (r->head + len) % r->cap;
}

int z_ring_resize(struct z_ring *r, size_t cap)
{
    if (cap < r->len) {
        cap = r->len;
    }
    uint8_t *nb = malloc(cap > 0 ? cap : 1);
    if (nb == NULL) {
        return -ENOMEM;
    }
    z_ring_peek(r, 0, nb, r->len);
    free(r->buf);
    r->buf = nb;
    r->cap = cap;
    r->head = 0;
    return 0;
}
