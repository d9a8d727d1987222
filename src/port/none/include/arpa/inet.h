/* <arpa/inet.h> for the "none" port: see zsock_netdefs.h. inet_pton() and
 * inet_ntop() are zsock's own (zsock_inet_pton/ntop, include/zsock/socket.h),
 * with the same results as glibc's. */
#ifndef ZSOCK_NONE_ARPA_INET_H_
#define ZSOCK_NONE_ARPA_INET_H_
#include <zsock_netdefs.h>

int zsock_inet_pton(sa_family_t family, const char *src, void *dst);
char *zsock_inet_ntop(sa_family_t family, const void *src, char *dst, size_t size);

#ifndef inet_pton /* CONFIG_NET_SOCKETS_POSIX_NAMES maps it already */
/** inet_pton(): see zsock_inet_pton(). */
static inline int inet_pton(int af, const char *src, void *dst)
{
    return zsock_inet_pton((sa_family_t)af, src, dst);
}
#endif
#ifndef inet_ntop
/** inet_ntop(): see zsock_inet_ntop(). */
static inline const char *inet_ntop(int af, const void *src, char *dst, socklen_t size)
{
    return zsock_inet_ntop((sa_family_t)af, src, dst, size);
}
#endif
#endif
