/* Scatter/gather cursor and byte ring used by the socket objects. */
#include "sockets/iov.h"

#include "port/port.h"

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

/* A lazy ring's first allocation: small exchanges stay small. */
#define RING_MIN_ALLOC 2048

int z_ring_init(struct z_ring *r, size_t cap)
{
    r->buf = z_malloc(cap > 0 ? cap : 1);
    if (r->buf == NULL) {
        return -ENOMEM;
    }
    r->cap = cap;
    r->limit = cap;
    r->lazy = false;
    r->peak = r->hint = 0;
    r->head = 0;
    r->len = 0;
    return 0;
}

int z_ring_init_lazy(struct z_ring *r, size_t limit)
{
    r->peak = r->hint = 0;
    r->buf = NULL;
    r->cap = 0;
    r->limit = limit;
    r->lazy = true;
    r->head = 0;
    r->len = 0;
    return 0;
}

void z_ring_free(struct z_ring *r)
{
    z_free(r->buf);
    r->buf = NULL;
    r->cap = r->len = r->head = 0;
    if (!r->lazy) {
        r->limit = 0;
    }
}

/* Reallocate to `cap` bytes (at least len), keeping the stored bytes and
 * their offsets. Bytes that do not wrap keep their indexes too. */
static int ring_realloc(struct z_ring *r, size_t cap)
{
    if (r->len > 0 && r->head + r->len <= r->cap) {
        if (r->head > 0 && r->head + r->len > cap) {
            memmove(r->buf, r->buf + r->head, r->len);
            r->head = 0;
        }
        uint8_t *nb = z_realloc(r->buf, cap);
        if (nb == NULL) {
            return -ENOMEM;
        }
        r->buf = nb;
        r->cap = cap;
        return 0;
    }
    uint8_t *nb = z_malloc(cap);
    if (nb == NULL) {
        return -ENOMEM;
    }
    z_ring_peek(r, 0, nb, r->len);
    z_free(r->buf);
    r->buf = nb;
    r->cap = cap;
    r->head = 0;
    return 0;
}

/* Make a lazy ring able to hold `need` bytes from its oldest one: double
 * (from RING_MIN_ALLOC) up to the limit. Returns 0 or -ENOMEM. */
static int ring_grow(struct z_ring *r, size_t need)
{
    if (need <= r->cap) {
        return 0;
    }
    size_t cap = r->cap > 0 ? r->cap : (r->hint > RING_MIN_ALLOC ? r->hint : RING_MIN_ALLOC);
    while (cap < need && cap <= r->limit / 2) {
        cap *= 2;
    }
    if (cap < need || cap > r->limit) {
        cap = need > r->limit ? need : r->limit;
    }
    return ring_realloc(r, cap);
}

size_t z_ring_copy_in(struct z_ring *r, size_t pos, struct z_iov_iter *it, size_t n)
{
    if (n == 0) {
        return 0; /* a lazy ring may have no buffer to point into */
    }
    if (r->lazy) {
        /* The offset `pos` stands for: in the free region, so at least len. */
        size_t offset = pos >= r->head ? pos - r->head : pos + r->cap - r->head;
        if (offset < r->len) {
            offset += r->cap;
        }
        if (offset + n > r->peak) {
            r->peak = offset + n;
        }
        if (offset + n > r->cap && ring_grow(r, offset + n) < 0) {
            n = r->cap > offset ? r->cap - offset : 0; /* what fits without memory */
            if (n == 0) {
                return 0;
            }
        }
        pos = z_ring_pos(r, offset);
    }
    size_t first = r->cap - pos < n ? r->cap - pos : n;
    size_t done = z_iov_gather(it, r->buf + pos, first);
    if (done == first && n > first) {
        done += z_iov_gather(it, r->buf, n - first);
    }
    return done;
}

size_t z_ring_copy_out(const struct z_ring *r, size_t pos, struct z_iov_iter *it, size_t n)
{
    if (n == 0) {
        return 0;
    }
    size_t first = r->cap - pos < n ? r->cap - pos : n;
    size_t done = z_iov_scatter(it, r->buf + pos, first);
    if (done == first && n > first) {
        done += z_iov_scatter(it, r->buf, n - first);
    }
    return done;
}

static void flat_iter(struct z_iov_iter *it, struct iovec *v, const void *p, size_t len)
{
    v->iov_base = (void *)p;
    v->iov_len = len;
    z_iov_iter_init(it, v, 1);
}

size_t z_ring_write(struct z_ring *r, const void *src, size_t len)
{
    struct iovec v;
    struct z_iov_iter it;
    size_t n = len < z_ring_space(r) ? len : z_ring_space(r);
    flat_iter(&it, &v, src, n);
    n = z_ring_copy_in(r, z_ring_pos(r, r->len), &it, n);
    z_ring_commit(r, n);
    return n;
}

size_t z_ring_peek(const struct z_ring *r, size_t offset, void *dst, size_t len)
{
    if (offset >= r->len) {
        return 0;
    }
    struct iovec v;
    struct z_iov_iter it;
    size_t n = len < r->len - offset ? len : r->len - offset;
    flat_iter(&it, &v, dst, n);
    return z_ring_copy_out(r, z_ring_pos(r, offset), &it, n);
}

void z_ring_consume(struct z_ring *r, size_t len)
{
    if (len > r->len) {
        len = r->len;
    }
    r->len -= len;
    r->head = z_ring_pos(r, len);
    if (r->lazy && r->len == 0) {
        z_free(r->buf); /* idle: no buffer until the next byte */
        r->buf = NULL;
        r->cap = 0;
        r->head = 0;
        r->hint = r->peak;
        r->peak = 0;
    }
}

int z_ring_resize(struct z_ring *r, size_t cap)
{
    if (cap < r->len) {
        cap = r->len;
    }
    if (r->lazy) {
        if (r->cap > cap && ring_realloc(r, cap > 0 ? cap : 1) < 0) {
            return -ENOMEM;
        }
        r->limit = cap;
        return 0;
    }
    if (ring_realloc(r, cap > 0 ? cap : 1) < 0) {
        return -ENOMEM;
    }
    r->limit = cap;
    return 0;
}
