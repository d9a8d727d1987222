/* Hooks a firmware must supply when zsock is built with the "none" port
 * (ZSOCK_PORT=none, every cortex-m4-* preset). Both are required: a firmware
 * that lacks one fails to link, rather than running with a clock that stands
 * still or with predictable TCP initial sequence numbers. See docs/embedded.md. */
#ifndef ZSOCK_PORT_HOOKS_H_
#define ZSOCK_PORT_HOOKS_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Microseconds on a monotonic clock since an arbitrary fixed point (for
 * example a SysTick or timer counter); must never go backwards and should not
 * wrap within the device's uptime (64 bits of microseconds: 292,000 years).
 * Called with zsock's locks held: must not call into zsock. Thread-safety: the
 * none port has a single thread; an RTOS port calls it from several.
 */
int64_t zsock_port_now_us(void);

/**
 * Fill `buf` with `len` bytes from a cryptographically secure generator (a
 * hardware TRNG, or a DRBG seeded from one). Returns 0, or a negative errno
 * when no randomness can be had (zsock then fails the operation that needed
 * it where it can). Used for TCP initial sequence numbers, IP identifiers,
 * ephemeral ports and the hash keys of the connection tables: a constant or
 * guessable source makes connections hijackable. Must not call into zsock.
 */
int zsock_port_entropy(void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* ZSOCK_PORT_HOOKS_H_ */
