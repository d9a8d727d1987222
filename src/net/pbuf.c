/* Packet buffer pool: one allocation of fixed-size buffers on a free list,
 * with heap buffers for frames larger than that, within a byte budget. */
#include "net/pbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t slot_size(uint32_t buf_size)
{
    size_t s = sizeof(struct z_pbuf) + buf_size;
    return (s + 15) & ~(size_t)15;
}

int z_pbuf_pool_init(struct z_pbuf_pool *pool, uint32_t count, uint32_t buf_size,
                     size_t heap_budget)
{
    memset(pool, 0, sizeof(*pool));
    z_mutex_init(&pool->lock);
    pool->count = count;
    pool->buf_size = buf_size;
    pool->heap_budget = heap_budget;
    if (count > 0) {
        pool->mem = z_malloc(slot_size(buf_size) * count);
        if (pool->mem == NULL) {
            z_mutex_destroy(&pool->lock);
            return -ENOMEM;
        }
    }
    for (uint32_t i = 0; i < count; i++) {
        struct z_pbuf *p = (struct z_pbuf *)(pool->mem + slot_size(buf_size) * i);
        p->pool = pool;
        p->size = buf_size;
        p->next = pool->free;
        pool->free = p;
    }
    return 0;
}

void z_pbuf_pool_destroy(struct z_pbuf_pool *pool)
{
    z_free(pool->mem);
    pool->mem = NULL;
    pool->free = NULL;
    z_mutex_destroy(&pool->lock);
}

static void count_alloc(struct z_pbuf_pool *pool)
{
    pool->stats.allocs++;
    pool->stats.in_use++;
    if (pool->stats.in_use > pool->stats.high_water) {
        pool->stats.high_water = pool->stats.in_use;
    }
}

struct z_pbuf *z_pbuf_alloc(struct z_pbuf_pool *pool, size_t headroom, size_t len)
{
    size_t need = headroom + len;
    struct z_pbuf *p = NULL;
    z_mutex_lock(&pool->lock);
    if (need <= pool->buf_size) {
        /* Fault injection counts pool buffers here; heap ones in z_malloc. */
        p = Z_FAULT_FAIL() ? NULL : pool->free;
        if (p != NULL) {
            pool->free = p->next;
            p->heap = 0;
        }
    } else if (need <= UINT32_MAX && pool->stats.heap_in_use + need <= pool->heap_budget) {
        /* Counted before the allocation so concurrent callers respect the budget. */
        pool->stats.heap_in_use += need;
        z_mutex_unlock(&pool->lock);
        p = z_malloc(sizeof(*p) + need);
        z_mutex_lock(&pool->lock);
        if (p == NULL) {
            pool->stats.heap_in_use -= need;
        } else {
            p->pool = pool;
            p->size = (uint32_t)need;
            p->heap = 1;
        }
    }
    if (p == NULL) {
        pool->stats.alloc_failures++;
        z_mutex_unlock(&pool->lock);
        return NULL;
    }
    count_alloc(pool);
    z_mutex_unlock(&pool->lock);
    p->next = NULL;
    p->netif = NULL;
    p->refs = 1;
    p->data = p->buf + headroom;
    p->len = 0;
    p->csum_ok = 0;
    p->gso_size = 0;
#if CONFIG_NET_TX_QUEUE
    p->prio = 0;
    p->txtime = 0;
#endif
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    p->ts_id = 0;
    p->stamp = 0;
#endif
    return p;
}

void z_pbuf_ref(struct z_pbuf *p)
{
    z_mutex_lock(&p->pool->lock);
    p->refs++;
    z_mutex_unlock(&p->pool->lock);
}

void z_pbuf_free(struct z_pbuf *p)
{
    if (p == NULL) {
        return;
    }
    struct z_pbuf_pool *pool = p->pool;
    z_mutex_lock(&pool->lock);
    if (--p->refs > 0) {
        z_mutex_unlock(&pool->lock);
        return;
    }
    pool->stats.in_use--;
    if (p->heap) {
        pool->stats.heap_in_use -= p->size;
        z_mutex_unlock(&pool->lock);
        z_free(p);
        return;
    }
    p->next = pool->free;
    pool->free = p;
    z_mutex_unlock(&pool->lock);
}

void z_pbuf_free_chain(struct z_pbuf *p)
{
    while (p != NULL) {
        struct z_pbuf *next = p->next;
        z_pbuf_free(p);
        p = next;
    }
}

uint8_t *z_pbuf_push(struct z_pbuf *p, size_t n)
{
    if (n > z_pbuf_headroom(p)) {
        return NULL;
    }
    p->data -= n;
    p->len += (uint32_t)n;
    return p->data;
}

uint8_t *z_pbuf_pull(struct z_pbuf *p, size_t n)
{
    if (n > p->len) {
        return NULL;
    }
    p->data += n;
    p->len -= (uint32_t)n;
    return p->data;
}

uint8_t *z_pbuf_put(struct z_pbuf *p, size_t n)
{
    if (n > z_pbuf_tailroom(p)) {
        return NULL;
    }
    uint8_t *at = p->data + p->len;
    p->len += (uint32_t)n;
    return at;
}

void z_pbuf_trim(struct z_pbuf *p, size_t n)
{
    if (n < p->len) {
        p->len = (uint32_t)n;
    }
}

void z_pbuf_pool_stats(struct z_pbuf_pool *pool, struct z_pbuf_stats *out)
{
    z_mutex_lock(&pool->lock);
    *out = pool->stats;
    z_mutex_unlock(&pool->lock);
}
