/* A simulated Ethernet segment for deterministic tests: any number of stack
 * instances (with virtual clocks) attached like hosts on a hub, and a fault
 * injector on the wire: loss, duplication, reordering, corruption, delay,
 * jitter and a rate limit, all driven by a seeded generator, so the same seed
 * gives the same run. */
#ifndef ZSOCK_SIM_H_
#define ZSOCK_SIM_H_

#include <stdint.h>

#include "net/net.h"

struct z_simnet;

struct z_sim_faults {
    uint32_t loss_ppm;    /* frames dropped, per million */
    uint32_t dup_ppm;     /* frames delivered twice */
    uint32_t reorder_ppm; /* frames held back behind later ones */
    uint32_t corrupt_ppm; /* frames with one byte flipped */
    int64_t delay_us;     /* one-way propagation delay */
    int64_t jitter_us;    /* extra random delay, 0..jitter */
    uint64_t rate_bps;    /* serialisation rate, 0 = unlimited */
    /* With a rate: frames one port's device holds before it says it is
     * full (a NIC's transmit ring; up to 64); the stack's transmit queue
     * holds the rest. 0: the device takes everything. */
    uint32_t tx_ring;
};

struct z_sim_stats {
    uint64_t sent;
    uint64_t delivered;
    uint64_t lost;
    uint64_t duplicated;
    uint64_t reordered;
    uint64_t corrupted;
};

/* NULL on allocation failure. */
struct z_simnet *z_simnet_create(uint64_t seed);
/* Frames still in flight are dropped. The stacks are not destroyed. */
void z_simnet_destroy(struct z_simnet *net);
void z_simnet_set_faults(struct z_simnet *net, const struct z_sim_faults *f);

/* Add an Ethernet interface to stack `s` (which must use a virtual clock)
 * attached to the segment, up, with the given MAC and no address. */
struct z_netif *z_simnet_attach(struct z_simnet *net, struct z_stack *s, const uint8_t mac[6]);

/* Advance time by `us` on the segment and every attached stack, delivering
 * frames and running timers in time order. */
void z_simnet_run(struct z_simnet *net, int64_t us);

/* The segment's current time. */
int64_t z_simnet_now(const struct z_simnet *net);

void z_simnet_stats(const struct z_simnet *net, struct z_sim_stats *out);

/* Put one raw frame on the wire as if `from` had sent it (tests of
 * malformed input). */
void z_simnet_inject(struct z_simnet *net, struct z_netif *from, const void *frame, size_t len);

#endif /* ZSOCK_SIM_H_ */
