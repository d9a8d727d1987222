/* Big-endian field access for the zperf wire protocol (apps/zperf/zperf.c
 * describes it), shared by zperf and bench/lwip/lwip_zperf. Header only:
 * static inline functions, safe from any thread. */
#ifndef ZSOCK_ZP_BYTES_H_
#define ZSOCK_ZP_BYTES_H_

#include <stdint.h>

/* Store v at p, most significant byte first. */
static inline void zp_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (24 - 8 * i));
    }
}

static inline void zp_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (56 - 8 * i));
    }
}

/* Read a value stored most significant byte first. */
static inline uint32_t zp_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t zp_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

#endif /* ZSOCK_ZP_BYTES_H_ */
