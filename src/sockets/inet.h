/* AF_INET and AF_INET6 sockets on a stack instance. */
#ifndef ZSOCK_INET_H_
#define ZSOCK_INET_H_

#include <stdbool.h>

#include "net/net.h"

/* Create an AF_INET socket of `type` on stack `s` (tests use this to put
 * sockets on a second stack). Returns the descriptor or a negative errno. */
#define z_inet_socket_on(s, type, proto, nonblock)                                                 \
    z_inet_socket_fam_on((s), AF_INET, (type), (proto), (nonblock))

/* The same for a family (AF_INET, or AF_INET6: -EAFNOSUPPORT without
 * CONFIG_NET_IPV6). */
int z_inet_socket_fam_on(struct z_stack *s, int family, int type, int proto, bool nonblock);

/* A TCP socket of the family on stack `s` (what z_inet_socket_fam_on()
 * does for SOCK_STREAM). */
int z_inet_tcp_socket_on(struct z_stack *s, int family, bool nonblock);

/* A socket address given to a socket of `family` to an endpoint. An
 * AF_INET6 socket takes sockaddr_in6 (a mapped address gives an IPv4
 * endpoint); an AF_INET one sockaddr_in. -EINVAL too short,
 * -EAFNOSUPPORT another family. */
int z_sockaddr_to_ep(const struct sockaddr *sa, socklen_t len, int family, struct z_ipep *ep);

/* Store an endpoint as a socket of `family` shows it (IPv4 on an AF_INET6
 * socket as a mapped address) into (sa, *len), truncating, with the full
 * length written back. */
void z_ep_to_sockaddr(const struct z_ipep *ep, int family, struct sockaddr *sa, socklen_t *len);

#if CONFIG_NET_IPV6
/* IPPROTO_IPV6 options shared by UDP and TCP sockets: IPV6_V6ONLY (set
 * only before bind: -EINVAL after), IPV6_UNICAST_HOPS, IPV6_TCLASS,
 * IPV6_DONTFRAG, IPV6_MTU (set). -ENOPROTOOPT for the others, -EINVAL out
 * of range. Lock held. */
int z_ip6_sockopt_set(struct z_ip6_sockopts *o, bool *v6only, bool bound, int optname,
                      const void *optval, socklen_t optlen);
/* The same options read back; IPV6_MTU: the path MTU toward the connected
 * peer `dst` (NULL: -ENOTCONN) through ifindex, capped by the option. */
int z_ip6_sockopt_get(struct z_stack *s, const struct z_ip6_sockopts *o, bool v6only,
                      const uint8_t *dst, int ifindex, int optname, void *optval,
                      socklen_t *optlen);
#endif

/* IP_TTL (1..255; -1: the default) or IP_TOS set to v. 0 or -EINVAL. */
int z_ip_ttl_tos_set(uint8_t *ttl, uint8_t *tos, int optname, int v);

#ifdef CONFIG_NET_CONTEXT_CLAMP_PORT_RANGE
/* IP_LOCAL_PORT_RANGE: a uint32_t (low 16 bits the lowest port, high 16
 * the highest, 0 for no bound) into *range. -EINVAL short, or lowest above
 * highest. */
int z_port_range_set(uint32_t *range, const void *optval, socklen_t optlen);
/* Its value back into (optval, *optlen): -EINVAL if optlen < 4. */
int z_port_range_get(uint32_t range, void *optval, socklen_t *optlen);
#endif

/* SO_BINDTODEVICE's argument (a name, empty to unbind) to an interface
 * index. -ENODEV for an unknown name. Lock held. */
int z_bindtodevice_lookup(struct z_stack *s, const void *optval, socklen_t optlen, int *ifindex);
/* SO_BINDTODEVICE read back: the name of interface ifindex (with its
 * terminating NUL; empty for 0) into (optval, *optlen), truncated. 0. Lock held. */
int z_bindtodevice_name(struct z_stack *s, int ifindex, void *optval, socklen_t *optlen);

#endif /* ZSOCK_INET_H_ */
