/* Reading a fuzz input as a program: bytes and big-endian integers taken
 * from the front, zeros once it runs out (so every input is a complete
 * program). Used by the program targets (fuzz_stack, fuzz_api, fuzz_tls,
 * fuzz_creds); single-threaded. */
#ifndef ZSOCK_FUZZ_INPUT_H_
#define ZSOCK_FUZZ_INPUT_H_

#include <stddef.h>
#include <stdint.h>

struct in {
    const uint8_t *p;
    size_t n; /* bytes left */
};

/* The next byte, or 0 at the end. */
static inline uint8_t u8(struct in *in)
{
    if (in->n == 0) {
        return 0;
    }
    in->n--;
    return *in->p++;
}

/* The next two bytes, big-endian. */
static inline uint16_t u16(struct in *in)
{
    uint16_t hi = u8(in);
    return (uint16_t)(hi << 8 | u8(in));
}

/* The next four bytes, big-endian. */
static inline uint32_t u32(struct in *in)
{
    uint32_t hi = u16(in);
    return hi << 16 | u16(in);
}

/* The next `n` bytes into buf, zeros past the end. */
static inline void in_bytes(struct in *in, void *buf, size_t n)
{
    uint8_t *b = buf;
    for (size_t i = 0; i < n; i++) {
        b[i] = u8(in);
    }
}

#endif /* ZSOCK_FUZZ_INPUT_H_ */
