/* Options that set the stack, not the socket they are given on:
 * SO_SILENCE_ALL (level IPPROTO_ALL), SO_IP_ECHO_REPLY (IPPROTO_IP) and
 * SO_IPV6_ECHO_REPLY (IPPROTO_IPV6), the nRF modem's numbers. Every
 * AF_INET/AF_INET6 socket (UDP, TCP, raw) passes its options here first. */
#ifndef ZSOCK_STACKOPT_H_
#define ZSOCK_STACKOPT_H_

#include <zsock/socket.h>

#include "net/net.h"

#if CONFIG_NET_SOCKOPT_SILENCE
/* Set one of these options of stack s (int, nonzero for on). 0, -EINVAL
 * (optlen short), or -ENOPROTOOPT when (level, optname) is not one of them
 * (the caller then tries its own). Stack lock held. */
int z_stackopt_set(struct z_stack *s, int level, int optname, const void *optval, socklen_t optlen);
/* Read one back (0 or 1). 0, -EINVAL, -ENOPROTOOPT as above. Lock held. */
int z_stackopt_get(struct z_stack *s, int level, int optname, void *optval, socklen_t *optlen);
#else
static inline int z_stackopt_set(struct z_stack *s, int level, int optname, const void *optval,
                                 socklen_t optlen)
{
    (void)s, (void)level, (void)optname, (void)optval, (void)optlen;
    return -ENOPROTOOPT;
}
static inline int z_stackopt_get(struct z_stack *s, int level, int optname, void *optval,
                                 socklen_t *optlen)
{
    (void)s, (void)level, (void)optname, (void)optval, (void)optlen;
    return -ENOPROTOOPT;
}
#endif

#endif /* ZSOCK_STACKOPT_H_ */
