/* Two zsock stacks, A and B, on one simulated Ethernet segment with
 * virtual clocks, each with an IPv4 address on a /24: the set-up test_dtls
 * and test_tcp_sim share. Include after <cmocka.h>. */
#ifndef ZSOCK_TEST_SIM_PAIR_H_
#define ZSOCK_TEST_SIM_PAIR_H_

#include <stdint.h>

#include "net/net.h"
#include "net/sim.h"

struct sim_pair {
    struct z_simnet *net;
    struct z_stack *a, *b;
    struct z_netif *ia, *ib;
};

/* Link seeded with `seed`; A at addr_a, B at addr_b (host byte order). */
static inline void sim_pair_up(struct sim_pair *p, uint64_t seed, uint32_t addr_a, uint32_t addr_b)
{
    p->net = z_simnet_create(seed);
    assert_non_null(p->net);
    struct z_stack_config ca = {.name = "A", .virtual_clock = true};
    struct z_stack_config cb = {.name = "B", .virtual_clock = true};
    p->a = z_stack_create(&ca);
    p->b = z_stack_create(&cb);
    assert_non_null(p->a);
    assert_non_null(p->b);
    const uint8_t ma[6] = {2, 0, 0, 0, 0, 1}, mb[6] = {2, 0, 0, 0, 0, 2};
    p->ia = z_simnet_attach(p->net, p->a, ma);
    p->ib = z_simnet_attach(p->net, p->b, mb);
    assert_non_null(p->ia);
    assert_non_null(p->ib);
    z_stack_lock(p->a);
    z_netif_add_ipv4_locked(p->ia, addr_a, 0xffffff00u);
    z_stack_unlock(p->a);
    z_stack_lock(p->b);
    z_netif_add_ipv4_locked(p->ib, addr_b, 0xffffff00u);
    z_stack_unlock(p->b);
}

static inline void sim_pair_down(struct sim_pair *p)
{
    z_stack_destroy(p->a);
    z_stack_destroy(p->b);
    z_simnet_destroy(p->net);
}

#endif /* ZSOCK_TEST_SIM_PAIR_H_ */
