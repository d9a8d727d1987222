/* Byte-level helpers for tests that build and read packets themselves, so
 * that the stack is checked against an independent reading of the wire
 * format rather than against src/wire. Big-endian reads and writes, and the
 * RFC 1071 checksum one 16-bit word at a time. */
#ifndef ZSOCK_TEST_BYTES_H_
#define ZSOCK_TEST_BYTES_H_

#include <stddef.h>
#include <stdint.h>

static inline void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] << 8 | p[1];
}

static inline uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Add n bytes to a running sum (an odd last byte padded with zero). */
static inline uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        s += rd16(p + i);
    }
    if (n % 2) {
        s += (uint32_t)p[n - 1] << 8;
    }
    return s;
}

/* Fold and complement: the checksum field. */
static inline uint16_t fold(uint32_t s)
{
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint16_t)~s;
}

#endif /* ZSOCK_TEST_BYTES_H_ */
