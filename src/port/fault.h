/* Allocation fault injection for tests (CONFIG_ZSOCK_FAULT_INJECTION, a
 * test-only build switch, off by default and in no preset). Every
 * allocation of the library asks z_fault_fail() first: z_malloc(),
 * z_calloc() and z_realloc() of the port layer (the C library's or the
 * static arena's) and z_pbuf_alloc() from the pool (a heap packet buffer is
 * counted once, by its z_malloc()). One counter numbers them all from 1
 * since the last arming, so a test can fail each allocation site in turn.
 * Without the switch none of this is compiled and the sites cost nothing. */
#ifndef ZSOCK_PORT_FAULT_H_
#define ZSOCK_PORT_FAULT_H_

#include <stdbool.h>
#include <stdint.h>

#include <zsock/config.h>

#if defined(CONFIG_ZSOCK_FAULT_INJECTION)

/* Fail allocation number n (1-based, counted from this call) and no other.
 * Resets the counters. Thread-safe (atomics), as are all functions here. */
void z_fault_arm_nth(uint64_t n);

/* Fail allocation n and every one after it until disarmed (pool or memory
 * exhausted for good). Resets the counters. */
void z_fault_arm_from(uint64_t n);

/* Fail each allocation with probability ppm / 1e6, decided by a generator
 * seeded with `seed` and the allocation's number, so one seed fails the same
 * numbers every run. Resets the counters. */
void z_fault_arm_random(uint32_t ppm, uint64_t seed);

/* Stop failing allocations; the counters keep their values. */
void z_fault_disarm(void);

/* Allocations counted since the last arming (all of them while disarmed
 * too, so a test can measure a scenario's allocations). */
uint64_t z_fault_count(void);

/* Allocations failed on purpose since the last arming. */
uint64_t z_fault_injected(void);

/* For allocation sites: counts one allocation and returns true when it must
 * fail (the site then returns NULL as if memory had run out). */
bool z_fault_fail(void);

#define Z_FAULT_FAIL() z_fault_fail()
#else
#define Z_FAULT_FAIL() false
#endif

#endif /* ZSOCK_PORT_FAULT_H_ */
