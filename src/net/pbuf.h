/* Packet buffers: fixed-size buffers from a per-stack pool, with reference
 * counts and a link for queues, plus larger buffers from the heap (within a
 * byte budget) for interfaces whose MTU exceeds the pool's buffer size, such
 * as loopback. Running out returns NULL and is counted; callers drop the
 * packet (input) or report ENOBUFS/EAGAIN (output). Thread-safe. */
#ifndef ZSOCK_PBUF_H_
#define ZSOCK_PBUF_H_

#include <stddef.h>
#include <stdint.h>

#include "port/port.h"

struct z_netif;
struct z_pbuf_pool;

struct z_pbuf {
    struct z_pbuf *next; /* queue link, owned by whoever queues it */
    struct z_pbuf_pool *pool;
    struct z_netif *netif; /* input: the interface it arrived on */
    uint8_t *data;         /* first valid byte */
    uint32_t len;          /* valid bytes */
    uint32_t size;         /* bytes of storage in buf[] */
    uint32_t refs;
    uint8_t heap;      /* allocated from the heap, not the pool */
    uint8_t csum_ok;   /* input: the device vouches for the L4 checksum */
    uint16_t gso_size; /* output: a TCP segment the device cuts into this much payload each */
#if CONFIG_NET_TX_QUEUE
    uint8_t prio;   /* output: SO_PRIORITY (0..7), the transmit class */
    int64_t txtime; /* output: leave no earlier than this (stack clock, us); 0: at once */
#endif
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    uint32_t ts_id;  /* output: the stamp sink told when it leaves (0: none) */
    uint32_t ts_key; /* output: the sink's number for this packet */
    int64_t stamp;   /* input: when it arrived (stack clock, us), if anyone listens */
#endif
    uint8_t buf[];
};

struct z_pbuf_stats {
    uint64_t allocs;
    uint64_t alloc_failures; /* pool and heap budget exhausted */
    uint32_t in_use;
    uint32_t high_water;
    size_t heap_in_use; /* bytes of heap buffers outstanding */
};

struct z_pbuf_pool {
    z_mutex_t lock;
    uint8_t *mem;
    struct z_pbuf *free;
    uint32_t count;
    uint32_t buf_size;
    size_t heap_budget;
    struct z_pbuf_stats stats;
};

/* Room left before the data of a new buffer for link + IP + transport headers. */
#define Z_PBUF_HEADROOM 64

/* Create `count` buffers of `buf_size` bytes and a heap budget in bytes.
 * Returns 0 or -ENOMEM. */
int z_pbuf_pool_init(struct z_pbuf_pool *pool, uint32_t count, uint32_t buf_size,
                     size_t heap_budget);
void z_pbuf_pool_destroy(struct z_pbuf_pool *pool);

/* A buffer able to hold `len` bytes after `headroom` bytes; data points after
 * the headroom and len is 0. NULL when nothing is available. */
struct z_pbuf *z_pbuf_alloc(struct z_pbuf_pool *pool, size_t headroom, size_t len);

void z_pbuf_ref(struct z_pbuf *p);
/* Drop a reference; the buffer returns to its pool at zero. NULL is accepted. */
void z_pbuf_free(struct z_pbuf *p);
/* Free a whole queue linked through next. */
void z_pbuf_free_chain(struct z_pbuf *p);

/* A fragment of `from` leaves as it would: same class and time; only the
 * last fragment (last) carries the transmit-stamp request. */
static inline void z_pbuf_copy_tx_meta(struct z_pbuf *to, const struct z_pbuf *from, int last)
{
#if CONFIG_NET_TX_QUEUE
    to->prio = from->prio;
    to->txtime = from->txtime;
#endif
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    to->ts_id = last ? from->ts_id : 0;
    to->ts_key = from->ts_key;
#endif
    (void)to;
    (void)from;
    (void)last;
}

/* Room before data and after data+len. */
static inline size_t z_pbuf_headroom(const struct z_pbuf *p)
{
    return (size_t)(p->data - p->buf);
}

static inline size_t z_pbuf_tailroom(const struct z_pbuf *p)
{
    return p->size - z_pbuf_headroom(p) - p->len;
}

/* Grow the data at the front by n bytes (a header); NULL without headroom. */
uint8_t *z_pbuf_push(struct z_pbuf *p, size_t n);
/* Remove n bytes from the front; NULL if fewer are there. */
uint8_t *z_pbuf_pull(struct z_pbuf *p, size_t n);
/* Append n bytes at the end; returns where they go, NULL without tailroom. */
uint8_t *z_pbuf_put(struct z_pbuf *p, size_t n);
/* Cut the data to n bytes (n <= len). */
void z_pbuf_trim(struct z_pbuf *p, size_t n);

void z_pbuf_pool_stats(struct z_pbuf_pool *pool, struct z_pbuf_stats *out);

/* The most bytes (headroom + data) one buffer from this pool can ever hold. */
static inline size_t z_pbuf_max_size(const struct z_pbuf_pool *pool)
{
    return pool->buf_size > pool->heap_budget ? pool->buf_size : pool->heap_budget;
}

#endif /* ZSOCK_PBUF_H_ */
