/* Scatter/gather helpers: validating a msghdr's iovecs, walking them with a
 * cursor, and a byte ring that copies to and from such a cursor. */
#ifndef ZSOCK_IOV_H_
#define ZSOCK_IOV_H_

#include <stdbool.h>
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

/* A byte ring. Positions passed to the copy functions are absolute indexes
 * into the buffer, so a writer can fill the free region while a reader
 * drains the stored one (each outside the owner's lock), and commit or
 * consume afterwards under it.
 *
 * An eager ring (z_ring_init) allocates its whole capacity at once and never
 * moves its bytes except in z_ring_resize(). A lazy ring (z_ring_init_lazy)
 * allocates nothing until bytes arrive, grows on demand up to `limit` (the
 * space it reports is always `limit - len`, whatever is allocated), and
 * releases its buffer when it becomes empty: an idle connection holds no
 * buffer memory. The next allocation starts at the size the last busy
 * period needed, so a bulk transfer does not regrow from small each time. Growing keeps the stored
 * bytes and their offsets from the oldest one; indexes are recomputed from offsets, so a lazy ring
 * must be copied into and out of with its owner's lock held for the whole copy. */
struct z_ring {
    uint8_t *buf;
    size_t cap;   /* bytes allocated: indexes wrap here */
    size_t head;  /* index of the oldest byte */
    size_t len;   /* bytes stored */
    size_t limit; /* most bytes it may hold (== cap for an eager ring) */
    bool lazy;
    size_t peak; /* lazy: most bytes needed since the buffer was allocated */
    size_t hint; /* lazy: the peak of the last busy period, the next first size */
};

/* Allocate an eager ring of `cap` bytes. Returns 0 or -ENOMEM. */
int z_ring_init(struct z_ring *r, size_t cap);

/* Prepare a lazy ring that may hold up to `limit` bytes; allocates nothing
 * and cannot fail (returns 0). */
int z_ring_init_lazy(struct z_ring *r, size_t limit);

/* Free the buffer; the ring is then empty with no capacity. */
void z_ring_free(struct z_ring *r);

/* Bytes that may still be stored (for a lazy ring, whether or not memory
 * for them is allocated yet). */
static inline size_t z_ring_space(const struct z_ring *r)
{
    return r->limit - r->len;
}

/* Absolute index of the byte `offset` bytes after the oldest one. */
static inline size_t z_ring_pos(const struct z_ring *r, size_t offset)
{
    size_t pos = r->head + offset;
    return pos >= r->cap ? pos - r->cap : pos;
}

/* Copy `n` bytes from the iterator into the buffer from index `pos` on,
 * wrapping at the end; the region must be free. A lazy ring first grows to
 * hold them (`pos` is taken as the offset it stands for). Returns bytes
 * copied: less than n if the iterator runs out, or, on a lazy ring, if
 * memory to grow cannot be obtained (then as many as fit, possibly 0). */
size_t z_ring_copy_in(struct z_ring *r, size_t pos, struct z_iov_iter *it, size_t n);

/* Copy `n` bytes starting at index `pos` into the iterator, wrapping. */
size_t z_ring_copy_out(const struct z_ring *r, size_t pos, struct z_iov_iter *it, size_t n);

/* Account for `n` bytes written after the stored ones. */
static inline void z_ring_commit(struct z_ring *r, size_t n)
{
    r->len += n;
}

/* Drop `len` bytes from the front (at most what is stored). A lazy ring
 * that becomes empty frees its buffer. */
void z_ring_consume(struct z_ring *r, size_t len);

/* Convenience forms for callers that hold the lock for the whole copy:
 * z_ring_write appends and returns the bytes stored (fewer than `len` when
 * space, or for a lazy ring memory, runs out); z_ring_peek copies from
 * `offset` bytes after the oldest one without consuming. */
size_t z_ring_write(struct z_ring *r, const void *src, size_t len);
size_t z_ring_peek(const struct z_ring *r, size_t offset, void *dst, size_t len);

/* Change the capacity, keeping the data; a capacity below the stored
 * length is raised to it. No copy may be in progress. For a lazy ring this
 * sets the limit (shrinking the allocation if it is above). Returns 0 or
 * -ENOMEM (ring unchanged). */
int z_ring_resize(struct z_ring *r, size_t cap);

#endif /* ZSOCK_IOV_H_ */
