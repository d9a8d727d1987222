/* Raw IP sockets (AF_INET/AF_INET6, SOCK_RAW), registered as the "raw"
 * family; sockets/raw.c, net/raw.c. */
#ifndef ZSOCK_SOCKETS_RAW_H_
#define ZSOCK_SOCKETS_RAW_H_

#include <stdbool.h>

#include "net/net.h"

/* Create a raw socket of `family` for IP protocol `proto` (1..255; 255,
 * IPPROTO_RAW, AF_INET only) on stack `s` (tests put sockets on a second
 * stack). Returns the descriptor, or -EAFNOSUPPORT, -EPROTONOSUPPORT,
 * -EMFILE, -ENOMEM. Thread-safe. */
int z_raw_socket_on(struct z_stack *s, int family, int proto, bool nonblock);

#endif /* ZSOCK_SOCKETS_RAW_H_ */
