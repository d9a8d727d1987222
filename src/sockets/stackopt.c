/* SO_SILENCE_ALL, SO_IP_ECHO_REPLY, SO_IPV6_ECHO_REPLY: switches of the
 * whole stack reached through any of its inet sockets, as on the nRF
 * modem. What each one silences is in net/raw.h's z_silenced() callers. */
#include "sockets/stackopt.h"

#include <errno.h>

#include "sockets/sockbase.h"

/* The stack's flag behind (level, optname), or NULL. */
static bool *flag_of(struct z_stack *s, int level, int optname)
{
    if (level == IPPROTO_ALL && optname == SO_SILENCE_ALL) {
        return &s->silence_all;
    }
    if (level == IPPROTO_IP && optname == SO_IP_ECHO_REPLY) {
        return &s->echo_reply;
    }
#if CONFIG_NET_IPV6
    if (level == IPPROTO_IPV6 && optname == SO_IPV6_ECHO_REPLY) {
        return &s->echo_reply6;
    }
#endif
    return NULL;
}

int z_stackopt_set(struct z_stack *s, int level, int optname, const void *optval, socklen_t optlen)
{
    bool *flag = flag_of(s, level, optname);
    int v;
    if (flag == NULL) {
        return -ENOPROTOOPT;
    }
    int rc = z_opt_get_int(optval, optlen, &v);
    if (rc == 0) {
        *flag = v != 0;
    }
    return rc;
}

int z_stackopt_get(struct z_stack *s, int level, int optname, void *optval, socklen_t *optlen)
{
    bool *flag = flag_of(s, level, optname);
    return flag == NULL ? -ENOPROTOOPT : z_opt_put_int(optval, optlen, *flag);
}
