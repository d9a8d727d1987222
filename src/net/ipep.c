/* What UDP and TCP pcbs share about their endpoints of either IP version:
 * which versions a socket takes, whether two local bindings overlap, the
 * scope of a link-local address, and the endpoint a socket call shows. */
#include <string.h>

#include "net/net.h"

#if CONFIG_NET_IPV6
int z_ipep_take_scope(struct z_stack *s, const struct z_ipep *ep, bool mcast, int *ifindex)
{
    bool link_mcast = mcast && z_ipv6_is_multicast(ep->a6) && (ep->a6[1] & 0xf) <= 2;
    if (!z_ipv6_is_link_local(ep->a6) && !link_mcast) {
        return 0;
    }
    if (ep->scope != 0) {
        if (*ifindex != 0 && *ifindex != (int)ep->scope) {
            return -EINVAL;
        }
        if (z_netif_by_index_locked(s, (int)ep->scope) == NULL) {
            return -ENODEV;
        }
        *ifindex = (int)ep->scope;
        return 0;
    }
    return *ifindex != 0 || link_mcast ? 0 : -EINVAL;
}
#endif
