/* zsock's static heap (CONFIG_ZSOCK_STATIC_MEMORY): z_malloc() and friends
 * over one static array of CONFIG_ZSOCK_HEAP_BYTES, so that the library never
 * calls the C library's malloc (docs/embedded.md, "Static memory").
 *
 * First fit over a doubly linked free list, with boundary sizes in every
 * block header so that a freed block merges with both neighbours at once:
 * the arena never holds two free blocks side by side. One mutex guards it.
 * Blocks are multiples of the platform's largest alignment (max_align_t).
 *
 * Under AddressSanitizer the arena is poisoned except the bytes handed out,
 * so overruns between blocks and uses after free are still reported; the
 * functions here that walk headers and free-list links are not instrumented.
 *
 * Without the option, the wrappers are the C library's (port.h) and only
 * zsock_mem_stats() is here, answering -ENOTSUP. */
#include "port/port.h"

#include <errno.h>
#include <string.h>

#include <zsock/net_if.h>

#if !defined(CONFIG_ZSOCK_STATIC_MEMORY)

int zsock_mem_stats(struct zsock_mem_stats *out)
{
    (void)out;
    return -ENOTSUP; /* the C library's heap keeps no figures zsock can read */
}

#else

#include <assert.h>
#include <stdalign.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_ASAN 1
#endif

#if defined(HEAP_ASAN)
#include <sanitizer/asan_interface.h>
#define NO_ASAN        __attribute__((no_sanitize("address")))
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define NO_ASAN
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ALIGN       alignof(max_align_t)
#define ROUND_UP(n) (((n) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

/* Every block starts with this header, padded to ALIGN so the payload after
 * it is aligned. size: the whole block's bytes, bit 0 set when allocated.
 * prev_size: the size of the block just below (0 for the first block), so
 * free() finds it without a walk. */
struct blk {
    size_t size;
    size_t prev_size;
};

/* A free block also holds its free-list links, in what would be the payload. */
struct free_links {
    struct blk *next, *prev;
};

#define HDR       ROUND_UP(sizeof(struct blk))
#define MIN_BLOCK (HDR + ROUND_UP(sizeof(struct free_links)))
#define USED      ((size_t)1)
#define ARENA     (CONFIG_ZSOCK_HEAP_BYTES / ALIGN * ALIGN)

_Static_assert(CONFIG_ZSOCK_HEAP_BYTES >= 1024, "CONFIG_ZSOCK_HEAP_BYTES is too small");

static alignas(max_align_t) unsigned char arena[ARENA];
static z_mutex_t heap_lock = Z_MUTEX_INITIALIZER;
static bool heap_ready;
static struct blk *free_head;
static struct zsock_mem_stats stats;

NO_ASAN static size_t bsize(const struct blk *b)
{
    return b->size & ~USED;
}

NO_ASAN static struct free_links *links(struct blk *b)
{
    return (struct free_links *)((unsigned char *)b + HDR);
}

/* The block above b, or NULL when b is the last one. */
NO_ASAN static struct blk *above(struct blk *b)
{
    unsigned char *n = (unsigned char *)b + bsize(b);
    return n < arena + ARENA ? (struct blk *)n : NULL;
}

NO_ASAN static struct blk *below(struct blk *b)
{
    return b->prev_size != 0 ? (struct blk *)((unsigned char *)b - b->prev_size) : NULL;
}

NO_ASAN static void list_insert(struct blk *b)
{
    links(b)->prev = NULL;
    links(b)->next = free_head;
    if (free_head != NULL) {
        links(free_head)->prev = b;
    }
    free_head = b;
}

NO_ASAN static void list_remove(struct blk *b)
{
    struct free_links *l = links(b);
    if (l->prev != NULL) {
        links(l->prev)->next = l->next;
    } else {
        free_head = l->next;
    }
    if (l->next != NULL) {
        links(l->next)->prev = l->prev;
    }
}

/* Sets b's size (keeping its flag) and tells the block above. */
NO_ASAN static void set_size(struct blk *b, size_t size)
{
    b->size = size | (b->size & USED);
    struct blk *n = above(b);
    if (n != NULL) {
        n->prev_size = size;
    }
}

NO_ASAN static void heap_init_locked(void)
{
    struct blk *b = (struct blk *)arena;
    POISON(arena, ARENA);
    b->size = ARENA;
    b->prev_size = 0;
    list_insert(b);
    stats.size = ARENA;
    heap_ready = true;
}

/* Cuts b (allocated) down to `need` bytes when the rest can be a block of
 * its own, which is freed and merged with a free block above. */
NO_ASAN static void trim_locked(struct blk *b, size_t need)
{
    size_t have = bsize(b);
    if (have - need < MIN_BLOCK) {
        return;
    }
    set_size(b, need);
    struct blk *r = above(b);
    POISON(r, have - need); /* was part of b's payload */
    r->size = have - need;
    r->prev_size = need;
    struct blk *n = above(r);
    if (n != NULL) {
        n->prev_size = r->size;
        if (!(n->size & USED)) {
            list_remove(n);
            set_size(r, bsize(r) + bsize(n));
        }
    }
    list_insert(r);
    stats.in_use -= have - need;
}

/* Block size for a request of n bytes, or 0 when it cannot fit at all. */
static size_t block_size(size_t n)
{
    if (n > ARENA - HDR) {
        return 0;
    }
    size_t need = ROUND_UP(n + HDR);
    return need < MIN_BLOCK ? MIN_BLOCK : need;
}

NO_ASAN static void *alloc_locked(size_t n)
{
    size_t need = block_size(n == 0 ? 1 : n);
    struct blk *b = need != 0 ? free_head : NULL;
    while (b != NULL && bsize(b) < need) {
        b = links(b)->next;
    }
    if (b == NULL) {
        stats.failures++;
        return NULL;
    }
    list_remove(b);
    b->size |= USED;
    stats.in_use += bsize(b);
    trim_locked(b, need);
    if (stats.in_use > stats.peak) {
        stats.peak = stats.in_use;
    }
    stats.allocs++;
    void *p = (unsigned char *)b + HDR;
    UNPOISON(p, n);
    return p;
}

/* The header of a pointer z_malloc() returned; asserts that it is one. */
NO_ASAN static struct blk *header_of(void *p)
{
    unsigned char *c = p;
    assert(c >= arena + HDR && c < arena + ARENA && (size_t)(c - arena) % ALIGN == 0);
    struct blk *b = (struct blk *)(c - HDR);
    assert(b->size & USED); /* a double free, or not a z_malloc() pointer */
    return b;
}

NO_ASAN static void free_locked(void *p)
{
    struct blk *b = header_of(p);
    if (!(b->size & USED)) {
        return; /* a double free in a build without assert(): leave the list whole */
    }
    POISON(p, bsize(b) - HDR);
    stats.in_use -= bsize(b);
    b->size &= ~USED;
    struct blk *n = above(b);
    if (n != NULL && !(n->size & USED)) {
        list_remove(n);
        set_size(b, bsize(b) + bsize(n));
    }
    struct blk *l = below(b);
    if (l != NULL && !(l->size & USED)) {
        list_remove(l);
        set_size(l, bsize(l) + bsize(b));
        b = l;
    }
    list_insert(b);
}

void *z_malloc(size_t size)
{
    if (Z_FAULT_FAIL()) {
        return NULL;
    }
    z_mutex_lock(&heap_lock);
    if (!heap_ready) {
        heap_init_locked();
    }
    void *p = alloc_locked(size);
    z_mutex_unlock(&heap_lock);
    return p;
}

void *z_calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size) {
        z_mutex_lock(&heap_lock);
        stats.failures++;
        z_mutex_unlock(&heap_lock);
        return NULL;
    }
    void *p = z_malloc(n * size);
    if (p != NULL) {
        memset(p, 0, n * size);
    }
    return p;
}

void z_free(void *p)
{
    if (p == NULL) {
        return;
    }
    z_mutex_lock(&heap_lock);
    free_locked(p);
    z_mutex_unlock(&heap_lock);
}

NO_ASAN void *z_realloc(void *p, size_t size)
{
    if (p == NULL) {
        return z_malloc(size);
    }
    if (size == 0) {
        z_free(p);
        return NULL;
    }
    if (Z_FAULT_FAIL()) {
        return NULL;
    }
    size_t need = block_size(size);
    z_mutex_lock(&heap_lock);
    struct blk *b = header_of(p);
    size_t have = bsize(b);
    if (need != 0 && need > have) {
        /* Grow in place into a free block above, if there is one big enough. */
        struct blk *n = above(b);
        if (n != NULL && !(n->size & USED) && have + bsize(n) >= need) {
            list_remove(n);
            stats.in_use += bsize(n);
            set_size(b, have + bsize(n));
            have = bsize(b);
        }
    }
    if (need != 0 && need <= have) {
        trim_locked(b, need);
        if (stats.in_use > stats.peak) { /* counted once trimmed: what it keeps */
            stats.peak = stats.in_use;
        }
        POISON(p, bsize(b) - HDR);
        UNPOISON(p, size);
        stats.allocs++;
        z_mutex_unlock(&heap_lock);
        return p;
    }
    /* Move: the old block stays whole if there is no room for the new one. */
    void *q = alloc_locked(size);
    if (q != NULL) {
        UNPOISON(p, have - HDR); /* the bytes past the old request are copied too */
        memcpy(q, p, have - HDR < size ? have - HDR : size);
        free_locked(p);
    }
    z_mutex_unlock(&heap_lock);
    return q;
}

NO_ASAN int zsock_mem_stats(struct zsock_mem_stats *out)
{
    if (out == NULL) {
        return -EFAULT;
    }
    z_mutex_lock(&heap_lock);
    if (!heap_ready) {
        heap_init_locked();
    }
    *out = stats;
    out->largest_free = 0;
    out->free_blocks = 0;
    for (struct blk *b = free_head; b != NULL; b = links(b)->next) {
        if (bsize(b) - HDR > out->largest_free) {
            out->largest_free = bsize(b) - HDR;
        }
        out->free_blocks++;
    }
    z_mutex_unlock(&heap_lock);
    return 0;
}

#endif /* CONFIG_ZSOCK_STATIC_MEMORY */
