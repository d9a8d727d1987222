/* Allocation fault injection (CONFIG_ZSOCK_FAULT_INJECTION): see fault.h.
 * Lock-free so that it can sit under any lock of the library, the static
 * heap's included. */
#include "port/fault.h"

#include <stdatomic.h>

enum { MODE_OFF, MODE_NTH, MODE_FROM, MODE_RANDOM };

static _Atomic int mode;
static _Atomic uint64_t target;   /* MODE_NTH, MODE_FROM: the first number failed */
static _Atomic uint64_t seed_val; /* MODE_RANDOM */
static _Atomic uint32_t ppm_val;  /* MODE_RANDOM */
static _Atomic uint64_t counted;
static _Atomic uint64_t injected;

static void arm(int m, uint64_t n, uint32_t ppm, uint64_t seed)
{
    atomic_store(&mode, MODE_OFF); /* no decision on half-set parameters */
    atomic_store(&target, n);
    atomic_store(&ppm_val, ppm);
    atomic_store(&seed_val, seed);
    atomic_store(&counted, 0);
    atomic_store(&injected, 0);
    atomic_store(&mode, m);
}

void z_fault_arm_nth(uint64_t n)
{
    arm(MODE_NTH, n, 0, 0);
}

void z_fault_arm_from(uint64_t n)
{
    arm(MODE_FROM, n, 0, 0);
}

void z_fault_arm_random(uint32_t ppm, uint64_t seed)
{
    arm(MODE_RANDOM, 0, ppm, seed);
}

void z_fault_disarm(void)
{
    atomic_store(&mode, MODE_OFF);
}

uint64_t z_fault_count(void)
{
    return atomic_load(&counted);
}

uint64_t z_fault_injected(void)
{
    return atomic_load(&injected);
}

/* splitmix64's finaliser: a well-mixed value per (seed, number). */
static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

bool z_fault_fail(void)
{
    uint64_t n = atomic_fetch_add(&counted, 1) + 1;
    bool fail = false;
    switch (atomic_load(&mode)) {
    case MODE_NTH:
        fail = n == atomic_load(&target);
        break;
    case MODE_FROM:
        fail = n >= atomic_load(&target);
        break;
    case MODE_RANDOM:
        fail = mix(atomic_load(&seed_val) ^ n) % 1000000u < atomic_load(&ppm_val);
        break;
    default:
        break;
    }
    if (fail) {
        atomic_fetch_add(&injected, 1);
    }
    return fail;
}
