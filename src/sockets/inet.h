/* AF_INET sockets on a stack instance. */
#ifndef ZSOCK_INET_H_
#define ZSOCK_INET_H_

#include <stdbool.h>

#include "net/net.h"

/* Create an AF_INET socket of `type` on stack `s` (tests use this to put
 * sockets on a second stack). Returns the descriptor or a negative errno. */
int z_inet_socket_on(struct z_stack *s, int type, int proto, bool nonblock);

/* A TCP socket on stack `s` (what z_inet_socket_on() does for SOCK_STREAM). */
int z_inet_tcp_socket_on(struct z_stack *s, bool nonblock);

/* sockaddr_in to host-order address and port: -EINVAL short, -EAFNOSUPPORT. */
int z_sockaddr_to_v4(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port);

/* Store a host-order address and port into (sa, *len), truncating, with the
 * full length written back. */
void z_v4_to_sockaddr(uint32_t addr, uint16_t port, struct sockaddr *sa, socklen_t *len);

/* SO_BINDTODEVICE's argument (a name, empty to unbind) to an interface
 * index. -ENODEV for an unknown name. Lock held. */
int z_bindtodevice_lookup(struct z_stack *s, const void *optval, socklen_t optlen, int *ifindex);

#endif /* ZSOCK_INET_H_ */
