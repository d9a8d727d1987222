/* SipHash-2-4 (Aumasson and Bernstein), a keyed hash for values an attacker
 * must not predict: TCP initial sequence numbers (RFC 6528). */
#ifndef ZSOCK_SIPHASH_H_
#define ZSOCK_SIPHASH_H_

#include <stddef.h>
#include <stdint.h>

uint64_t z_siphash24(const uint8_t key[16], const void *data, size_t len);

#endif /* ZSOCK_SIPHASH_H_ */
