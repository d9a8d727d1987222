/* The loopback interface: packets sent on it are queued as input of the same
 * interface and processed before the core lock is released, so delivery is
 * immediate but never recursive. */
#include "net/net.h"

static int loopback_output(struct z_netif *nif, struct z_pbuf *p)
{
    z_stack_defer_input_locked(nif->stack, nif, p);
    return 0;
}

static const struct z_netif_driver loopback_driver = {
    .kind = "loopback",
    .output = loopback_output,
};

struct z_netif *z_loopback_add_locked(struct z_stack *s)
{
    struct z_netif *lo = z_netif_add_locked(s, "lo", ZSOCK_IF_LOOPBACK, CONFIG_NET_LOOPBACK_MTU,
                                            NULL, &loopback_driver, NULL);
    if (lo == NULL) {
        return NULL;
    }
    z_netif_add_ipv4_locked(lo, 0x7f000001u, 0xff000000u);
    z_netif_set_up_locked(lo, true);
    return lo;
}
