/* The port layer's memory and text helpers: the static heap behind z_malloc()
 * and friends (CONFIG_ZSOCK_STATIC_MEMORY: alignment, exhaustion, coalescing,
 * realloc in place and by moving, calloc's overflow check, the statistics,
 * threads, and the library itself allocating from the arena and failing
 * with ENOMEM when it is full), and z_snprintf() against the C library's
 * snprintf. Without the option only the wrappers' contracts, the -ENOTSUP of
 * zsock_mem_stats() and the formatter are tested. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "port/port.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- z_snprintf ------------------------------------------------------------------------------ */

/* Same text and same return value as the C library's, in a buffer of every
 * size from 0 to past the whole text. */
#define SAME_AS_LIBC(...)                                                                          \
    do {                                                                                           \
        char want[128], got[128];                                                                  \
        int wn = snprintf(want, sizeof(want), __VA_ARGS__);                                        \
        for (size_t cap = 0; cap <= (size_t)wn + 1; cap++) {                                       \
            memset(got, 0x5a, sizeof(got));                                                        \
            memset(want, 0x5a, sizeof(want));                                                      \
            int w = snprintf(want, cap, __VA_ARGS__);                                              \
            int g = z_snprintf(got, cap, __VA_ARGS__);                                             \
            assert_int_equal(g, w);                                                                \
            assert_memory_equal(got, want, sizeof(got));                                           \
        }                                                                                          \
    } while (0)

static void test_snprintf_matches_libc(void **state)
{
    (void)state;
    SAME_AS_LIBC("%s", "");
    SAME_AS_LIBC("%s", "loopback");
    SAME_AS_LIBC("%s%u", "eth", 12u);
    SAME_AS_LIBC("%%%lu", 4294967295ul);
    SAME_AS_LIBC("[%s]:%u", "::1", 65535u);
    SAME_AS_LIBC("%s:%u", "10.0.0.1", 0u);
    SAME_AS_LIBC("%d %d %d %i", 0, -1, INT_MIN, INT_MAX);
    SAME_AS_LIBC("%ld %lld %lld", LONG_MIN, LLONG_MIN, LLONG_MAX);
    SAME_AS_LIBC("%llu %zu %x %lx", ULLONG_MAX, (size_t)12345, 0xdeadbeefu, 0xful);
    SAME_AS_LIBC("%c%c%c", 'a', '%', 'z');
    SAME_AS_LIBC("zsock: %s=%s: %s", "ZSOCK_MTU", "x", "Invalid argument");
    SAME_AS_LIBC("no conversion at all, 100%%");
}

static void test_snprintf_outside_subset(void **state)
{
    (void)state;
    char buf[32];
    /* Formats the compiler would reject, given through variables. */
    const char *unknown = "a%qb", *trailing = "end%";
    const char *volatile null = NULL;
    /* Not supported: shown as is rather than reading an argument. */
    assert_int_equal(z_snprintf(buf, sizeof(buf), unknown, 0), 4);
    assert_string_equal(buf, "a%qb");
    assert_int_equal(z_snprintf(buf, sizeof(buf), trailing, 0), 3);
    assert_string_equal(buf, "end");
    assert_int_equal(z_snprintf(buf, sizeof(buf), "%s", null), 6);
    assert_string_equal(buf, "(null)");
}

/* ---- wrappers: contracts that hold with either allocator ---------------------------------------
 */

static void test_wrappers_contracts(void **state)
{
    (void)state;
    z_free(NULL); /* nothing */
    unsigned char *p = z_realloc(NULL, 10);
    assert_non_null(p);
    memset(p, 7, 10);
    assert_null(z_realloc(p, 0)); /* frees p */
    unsigned char *z = z_calloc(100, 3);
    assert_non_null(z);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(z[i], 0);
    }
    z_free(z);
}

#if !defined(CONFIG_ZSOCK_STATIC_MEMORY)

static void test_stats_without_option(void **state)
{
    (void)state;
    struct zsock_mem_stats st;
    assert_int_equal(zsock_mem_stats(&st), -ENOTSUP);
}

#else

/* ---- the static heap ------------------------------------------------------------------------- */

static struct zsock_mem_stats stats(void)
{
    struct zsock_mem_stats st;
    assert_int_equal(zsock_mem_stats(&st), 0);
    return st;
}

/* Nothing of the test may stay allocated: the arena must be back to one
 * free block of its whole size, which also proves that every free merged
 * with its neighbours. */
static void assert_heap_whole(void)
{
    struct zsock_mem_stats st = stats();
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.free_blocks, 1);
    assert_true(st.largest_free + 64 >= st.size);
}

static void test_stats_basics(void **state)
{
    (void)state;
    assert_int_equal(zsock_mem_stats(NULL), -EFAULT);
    uint64_t failures = stats().failures;
    size_t big = SIZE_MAX / 2 + 1;
    assert_null(z_calloc(big, 2)); /* n * size overflows */
    assert_null(z_calloc(2, big));
    assert_null(z_malloc(SIZE_MAX));
    assert_null(z_malloc(CONFIG_ZSOCK_HEAP_BYTES)); /* never fits: the headers */
    assert_int_equal(stats().failures, failures + 4);
    struct zsock_mem_stats st = stats();
    assert_true(st.size <= CONFIG_ZSOCK_HEAP_BYTES);
    assert_true(st.size + alignof(max_align_t) > CONFIG_ZSOCK_HEAP_BYTES);
    assert_heap_whole();

    uint64_t allocs = st.allocs;
    void *p = z_malloc(1000);
    assert_non_null(p);
    st = stats();
    assert_true(st.in_use >= 1000 && st.in_use < 1000 + 64);
    assert_true(st.peak >= st.in_use);
    assert_int_equal(st.allocs, allocs + 1);
    assert_int_equal(st.free_blocks, 1);
    z_free(p);
    st = stats();
    assert_int_equal(st.in_use, 0);
    assert_true(st.peak >= 1000); /* the peak stays */
}

static void test_alignment_and_no_overlap(void **state)
{
    (void)state;
    unsigned char *p[200];
    for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
        size_t n = i % 67 + (i == 0 ? 0 : 1); /* 0 bytes, then 1..67 */
        p[i] = z_malloc(n);
        assert_non_null(p[i]);
        assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
        memset(p[i], (int)i, n);
    }
    for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
        size_t n = i % 67 + (i == 0 ? 0 : 1);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(p[i][k], (unsigned char)i); /* no block wrote over another */
        }
    }
    /* Every other one first: the free list then holds separate blocks. */
    for (size_t i = 0; i < ARRAY_SIZE(p); i += 2) {
        z_free(p[i]);
    }
    assert_true(stats().free_blocks > 50);
    for (size_t i = 1; i < ARRAY_SIZE(p); i += 2) {
        z_free(p[i]);
    }
    assert_heap_whole();
}

static void test_exhaustion_returns_null(void **state)
{
    (void)state;
    enum { CHUNK = 1000 };
    size_t max = CONFIG_ZSOCK_HEAP_BYTES / CHUNK + 1;
    void **held = calloc(max, sizeof(*held)); /* the test's own memory, not the arena's */
    assert_non_null(held);
    uint64_t failures = stats().failures;
    size_t n = 0;
    while (n < max && (held[n] = z_malloc(CHUNK)) != NULL) {
        n++;
    }
    assert_true(n < max);                             /* it did run out */
    assert_true(n > CONFIG_ZSOCK_HEAP_BYTES / 1100);  /* ... only when nearly all was used */
    assert_int_equal(stats().failures, failures + 1); /* counted */
    assert_null(z_calloc(1, CHUNK));                  /* still full */
    assert_null(z_malloc(stats().largest_free + 1));  /* one byte past what is left */
    if (stats().largest_free > 0) {
        void *last = z_malloc(stats().largest_free); /* exactly what is left */
        assert_non_null(last);
        assert_int_equal(stats().largest_free, 0);
        z_free(last);
    }
    /* Free from the middle outwards: merges on both sides. */
    for (size_t i = n / 2; i < n; i++) {
        z_free(held[i]);
    }
    for (size_t i = 0; i < n / 2; i++) {
        z_free(held[n / 2 - 1 - i]);
    }
    assert_heap_whole();
    free(held);
}

static void test_heap_realloc(void **state)
{
    (void)state;
    unsigned char *a = z_malloc(100);
    unsigned char *b = z_malloc(100);
    assert_non_null(a);
    assert_non_null(b);
    for (int i = 0; i < 100; i++) {
        a[i] = (unsigned char)i;
    }
    /* b is the last block: it grows in place into the free space above. */
    unsigned char *b2 = z_realloc(b, 5000);
    assert_ptr_equal(b2, b);
    /* a cannot grow in place (b is above it): it moves, content kept. */
    unsigned char *a2 = z_realloc(a, 300);
    assert_non_null(a2);
    assert_ptr_not_equal(a2, a);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(a2[i], i);
    }
    /* Shrinking stays in place and gives the rest back. */
    size_t before = stats().in_use;
    unsigned char *a3 = z_realloc(a2, 20);
    assert_ptr_equal(a3, a2);
    assert_true(stats().in_use < before);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(a3[i], i);
    }
    /* Too large: NULL, and the block is left as it was. */
    assert_null(z_realloc(a3, CONFIG_ZSOCK_HEAP_BYTES));
    for (int i = 0; i < 20; i++) {
        assert_int_equal(a3[i], i);
    }
    z_free(b2);
    z_free(a3);
    assert_heap_whole();
}

static void test_calloc_clears_reused_memory(void **state)
{
    (void)state;
    unsigned char *p = z_malloc(512);
    assert_non_null(p);
    memset(p, 0xaa, 512);
    z_free(p);
    unsigned char *q = z_calloc(16, 32);
    assert_ptr_equal(q, p); /* first fit: the same block */
    for (int i = 0; i < 512; i++) {
        assert_int_equal(q[i], 0);
    }
    z_free(q);
    assert_heap_whole();
}

/* Random allocations, frees and reallocs against a record of what each block
 * must hold; then everything freed must leave the arena whole. */
static void test_random_against_model(void **state)
{
    (void)state;
    enum { SLOTS = 64, ROUNDS = 20000 };
    unsigned char *p[SLOTS] = {0};
    size_t len[SLOTS] = {0};
    unsigned seed = 12345;
    for (int r = 0; r < ROUNDS; r++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 16) % SLOTS);
        size_t n = (seed >> 4) % (CONFIG_ZSOCK_HEAP_BYTES / 128) + 1;
        for (size_t k = 0; k < len[i]; k++) {
            assert_int_equal(p[i][k], (unsigned char)(i + k));
        }
        if (p[i] != NULL && (seed & 3) == 0) {
            unsigned char *q = z_realloc(p[i], n);
            if (q == NULL) {
                continue; /* full: p[i] untouched, checked next time */
            }
            for (size_t k = 0; k < (len[i] < n ? len[i] : n); k++) {
                assert_int_equal(q[k], (unsigned char)(i + k));
            }
            p[i] = q;
        } else {
            z_free(p[i]);
            p[i] = z_malloc(n);
            len[i] = 0;
            if (p[i] == NULL) {
                continue;
            }
        }
        len[i] = n;
        for (size_t k = 0; k < n; k++) {
            p[i][k] = (unsigned char)(i + k);
        }
    }
    for (int i = 0; i < SLOTS; i++) {
        z_free(p[i]);
    }
    assert_heap_whole();
}

#if !defined(ZSOCK_PORT_NONE)
enum { THREADS = 4, PER_THREAD = 20000 };

static void *hammer(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    unsigned char *held[8] = {0};
    size_t len[8] = {0};
    for (int r = 0; r < PER_THREAD; r++) {
        seed = seed * 1103515245u + 12345u;
        int i = (int)((seed >> 16) % 8);
        if (held[i] != NULL) {
            for (size_t k = 0; k < len[i]; k++) {
                if (held[i][k] != (unsigned char)(uintptr_t)arg) {
                    return (void *)1; /* another thread wrote into this block */
                }
            }
            z_free(held[i]);
            held[i] = NULL;
        } else {
            len[i] = (seed >> 8) % 700 + 1;
            held[i] = z_malloc(len[i]);
            if (held[i] != NULL) {
                memset(held[i], (int)(uintptr_t)arg, len[i]);
            }
        }
    }
    for (int i = 0; i < 8; i++) {
        z_free(held[i]);
    }
    return NULL;
}

/* Threads allocating and freeing at once: each block keeps the byte its
 * thread wrote, and the arena is whole at the end. */
static void test_threads(void **state)
{
    (void)state;
    z_thread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++) {
        assert_int_equal(z_thread_create(&t[i], hammer, (void *)(i + 1)), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *ret = NULL;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    assert_heap_whole();
}
#endif

/* The library allocates its objects from the arena, and a full arena is
 * ENOMEM to the caller, not a crash; the same call works once there is room. */
static void test_library_uses_arena(void **state)
{
    (void)state;
    int sv[2];
    /* The first call creates the fd table and the default stack's state. */
    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(zsock_close(sv[0]), 0);
    assert_int_equal(zsock_close(sv[1]), 0);
    size_t base = stats().in_use;

    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_true(stats().in_use > base); /* the pair came from the arena */
    assert_int_equal(zsock_send(sv[0], "x", 1, 0), 1);
    assert_int_equal(zsock_close(sv[0]), 0);
    assert_int_equal(zsock_close(sv[1]), 0);
    assert_int_equal(stats().in_use, base); /* and went back to it */

    /* Fill the arena, then ask for a pair. */
    void *fill[64];
    int nfill = 0;
    while (nfill < 64 && stats().largest_free > 0) {
        fill[nfill] = z_malloc(stats().largest_free);
        assert_non_null(fill[nfill]);
        nfill++;
    }
    uint64_t failures = stats().failures;
    errno = 0;
    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), -1);
    assert_int_equal(errno, ENOMEM);
    assert_true(stats().failures > failures);
    for (int i = 0; i < nfill; i++) {
        z_free(fill[i]);
    }
    assert_int_equal(zsock_socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(zsock_close(sv[0]), 0);
    assert_int_equal(zsock_close(sv[1]), 0);
    assert_int_equal(stats().in_use, base);
}

#endif /* CONFIG_ZSOCK_STATIC_MEMORY */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_snprintf_matches_libc),
        cmocka_unit_test(test_snprintf_outside_subset),
        cmocka_unit_test(test_wrappers_contracts),
#if !defined(CONFIG_ZSOCK_STATIC_MEMORY)
        cmocka_unit_test(test_stats_without_option),
#else
        cmocka_unit_test(test_stats_basics),
        cmocka_unit_test(test_alignment_and_no_overlap),
        cmocka_unit_test(test_exhaustion_returns_null),
        cmocka_unit_test(test_heap_realloc),
        cmocka_unit_test(test_calloc_clears_reused_memory),
        cmocka_unit_test(test_random_against_model),
#if !defined(ZSOCK_PORT_NONE)
        cmocka_unit_test(test_threads),
#endif
        cmocka_unit_test(test_library_uses_arena),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
