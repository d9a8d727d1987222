/* What UDP and TCP pcbs share about their endpoints of either IP version:
 * which versions a socket takes, whether two local bindings overlap, the
 * scope of a link-local address, and the endpoint a socket call shows. */
#include <string.h>

#include "net/net.h"

uint8_t z_sock_fam(bool v6sock, bool v6only)
{
    if (!v6sock) {
        return Z_FAM4;
    }
    return v6only ? Z_FAM6 : Z_FAM4 | Z_FAM6;
}

bool z_laddr_overlap(const struct z_lbind *a, const struct z_lbind *b)
{
    uint8_t both = a->fam & b->fam;
    if ((both & Z_FAM4) && (a->a4 == 0 || b->a4 == 0 || a->a4 == b->a4)) {
        return true;
    }
#if CONFIG_NET_IPV6
    if ((both & Z_FAM6) && (z_ipv6_is_unspecified(a->a6) || z_ipv6_is_unspecified(b->a6) ||
                            memcmp(a->a6, b->a6, Z_IPV6_ALEN) == 0)) {
        return true;
    }
#endif
    return false;
}

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

void z_ipep_make(struct z_ipep *out, uint8_t fam, uint32_t a4, const uint8_t *a6, uint16_t port,
                 int ifindex)
{
    memset(out, 0, sizeof(*out));
    out->fam = fam;
    out->a4 = a4;
    out->port = port;
#if CONFIG_NET_IPV6
    memcpy(out->a6, a6, Z_IPV6_ALEN);
    if (z_ipv6_is_link_local(a6)) {
        out->scope = (uint32_t)ifindex;
    }
#else
    (void)a6;
    (void)ifindex;
#endif
}
