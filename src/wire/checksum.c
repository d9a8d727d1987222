/* Internet checksum (RFC 1071): the one's-complement sum on the data path of
 * every IPv4, ICMP and UDP packet, so it reads eight bytes per step (four on
 * 32-bit targets) and folds once at the end instead of adding 16-bit words
 * one by one. */
#include <stdint.h>
#include <string.h>

#include "wire/wire.h"

/* A 64-bit accumulator gains less than 2^35 per 32 bytes; folding every
 * CHUNK bytes keeps it far from overflow for any size_t length. */
#define CHUNK ((size_t)1 << 30)

static inline int host_is_little_endian(void)
{
    const uint16_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

#if UINTPTR_MAX > 0xffffffffu
static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v)); /* unaligned-safe; one load on common targets */
    return v;
}
#endif

static inline uint32_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    return (uint32_t)s;
}

static inline uint16_t fold32(uint32_t s)
{
    s = (s & 0xffffu) + (s >> 16);
    s = (s & 0xffffu) + (s >> 16);
    return (uint16_t)s;
}

/* The one's-complement sum is independent of byte order (RFC 1071 section
 * 2(B)): summing host-order words and swapping the folded result gives the
 * big-endian sum, and spares a byte swap per word. Word boundaries stay at
 * even offsets from `p`, so unaligned input needs no special case. */
#if UINTPTR_MAX > 0xffffffffu
static uint64_t sum_host_order(const uint8_t *p, size_t len)
{
    uint64_t lo = 0;
    uint64_t hi = 0;

    /* Adding each 64-bit load as two 32-bit halves cannot carry out of the
     * accumulators; two of them let the adds run in parallel. */
    while (len >= 32) {
        uint64_t w0 = load64(p);
        uint64_t w1 = load64(p + 8);
        uint64_t w2 = load64(p + 16);
        uint64_t w3 = load64(p + 24);
        lo += (w0 & 0xffffffffu) + (w1 & 0xffffffffu) + (w2 & 0xffffffffu) + (w3 & 0xffffffffu);
        hi += (w0 >> 32) + (w1 >> 32) + (w2 >> 32) + (w3 >> 32);
        p += 32;
        len -= 32;
    }
    while (len >= 8) {
        uint64_t w = load64(p);
        lo += w & 0xffffffffu;
        hi += w >> 32;
        p += 8;
        len -= 8;
    }
    lo += (uint64_t)fold64(hi);
#else
/* 32-bit targets: one word per step is what their loads give anyway, and
 * the loop stays a few instructions long. */
static uint64_t sum_host_order(const uint8_t *p, size_t len)
{
    uint64_t lo = 0;
#endif
    while (len >= 4) {
        uint32_t w;
        memcpy(&w, p, sizeof(w));
        lo += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, sizeof(w));
        lo += w;
        p += 2;
        len -= 2;
    }
    if (len == 1) {
        /* The pad byte is zero: in host order the data byte is the word's
         * first byte in memory. */
        lo += host_is_little_endian() ? p[0] : (uint32_t)p[0] << 8;
    }
    return fold64(lo);
}

uint32_t z_csum_add(uint32_t sum, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t acc = 0;

    while (len > CHUNK) {
        acc = fold64(acc + sum_host_order(p, CHUNK));
        p += CHUNK;
        len -= CHUNK;
    }
    acc = fold64(acc + sum_host_order(p, len));

    uint16_t s = fold32((uint32_t)acc);
    if (host_is_little_endian()) {
        s = (uint16_t)((s >> 8) | (s << 8));
    }
    /* 2^32 = 1 mod 0xffff: the end-around carry keeps the running sum exact. */
    return fold64((uint64_t)sum + s);
}

uint16_t z_csum_finish(uint32_t sum)
{
    return (uint16_t)~fold32(sum);
}

uint32_t z_csum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xffffu) + (dst >> 16) + (dst & 0xffffu) + proto + len;
}

uint32_t z_csum_pseudo6(const uint8_t src[16], const uint8_t dst[16], uint32_t upper_len,
                        uint8_t next_header)
{
    uint32_t sum = z_csum_add(0, src, 16);
    sum = z_csum_add(sum, dst, 16);
    /* Length and next header as the 32-bit words of the pseudo-header; the
     * three zero bytes add nothing. */
    return z_csum_add(sum,
                      (const uint8_t[8]){(uint8_t)(upper_len >> 24), (uint8_t)(upper_len >> 16),
                                         (uint8_t)(upper_len >> 8), (uint8_t)upper_len, 0, 0, 0,
                                         next_header},
                      8);
}
