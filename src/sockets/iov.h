/* Scatter/gather helpers: validating a msghdr's iovecs, walking them with a
 * cursor, and a byte ring that copies to and from such a cursor. */
#ifndef ZSOCK_IOV_H_
#define ZSOCK_IOV_H_

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Total byte count of `cnt` iovecs, or -EFAULT (NULL base with a length, or
 * NULL array with cnt > 0), -EMSGSIZE (cnt > IOV_MAX), -EINVAL (total
 * exceeds SSIZE_MAX). */
ssize_t z_iov_total(const struct iovec *iov, size_t cnt);

struct z_iov_iter {
    const struct iovec *iov;
    size_t cnt;
    size_t idx; /* current vector */
    size_t off; /* bytes used in the current vector */
};

void z_iov_iter_init(struct z_iov_iter *it, const struct iovec *iov, size_t cnt);

/* Gather up to `len` bytes from the iterator into dst; returns bytes copied. */
size_t z_iov_gather(struct z_iov_iter *it, void *dst, size_t len);

/* Scatter up to `len` bytes of src into the iterator; returns bytes copied. */
size_t z_iov_scatter(struct z_iov_iter *it, const void *src, size_t len);

/* A byte ring of fixed capacity. Positions passed to the copy functions are
 * absolute indexes into the buffer, so a writer can fill the free region
 * while a reader drains the stored one (each outside the owner's lock),
 * and commit or consume afterwards under it. */
struct z_ring {
    uint8_t *buf;
    size_t cap;
    size_t head; /* index of the oldest byte */
    size_t len;  /* bytes stored */
};

/* Returns 0 or -ENOMEM. */
int z_ring_init(struct z_ring *r, size_t cap);
void z_ring_free(struct z_ring *r);

static inline size_t z_ring_space(const struct z_ring *r)
{
    return r->cap - r->len;
}

/* Absolute index of the byte `offset` bytes after the oldest one. */
static inline size_t z_ring_pos(const struct z_ring *r, size_t offset)
{
    size_t pos = r->head + offset;
    return pos >= r->cap ? pos - r->cap : pos;
}

/* Copy `n` bytes from the iterator into the buffer from index `pos` on,
 * wrapping at the end; the region must be free. Returns bytes copied (less
 * than n only if the iterator runs out). */
size_t z_ring_copy_in(struct z_ring *r, size_t pos, struct z_iov_iter *it, size_t n);

/* Copy `n` bytes starting at index `pos` into the iterator, wrapping. */
size_t z_ring_copy_out(const struct z_ring *r, size_t pos, struct z_iov_iter *it, size_t n);

/* Account for `n` bytes written after the stored ones. */
static inline void z_ring_commit(struct z_ring *r, size_t n)
{
    r->len += n;
}

/* Drop `len` bytes from the front (at most what is stored). */
void z_ring_consume(struct z_ring *r, size_t len);

/* Convenience forms for callers that hold the lock for the whole copy. */
size_t z_ring_write(struct z_ring *r, const void *src, size_t len);
size_t z_ring_peek(const struct z_ring *r, size_t offset, void *dst, size_t len);

/* Change the capacity, keeping the data; a capacity below the stored
 * length is raised to it. No copy may be in progress. Returns 0 or -ENOMEM
 * (ring unchanged). */
int z_ring_resize(struct z_ring *r, size_t cap);

#endif /* ZSOCK_IOV_H_ */
