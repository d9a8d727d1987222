/* AF_INET sockets on a stack instance. */
#ifndef ZSOCK_INET_H_
#define ZSOCK_INET_H_

#include <stdbool.h>

#include "net/net.h"

/* Create an AF_INET socket of `type` on stack `s` (tests use this to put
 * sockets on a second stack). Returns the descriptor or a negative errno. */
int z_inet_socket_on(struct z_stack *s, int type, int proto, bool nonblock);

#endif /* ZSOCK_INET_H_ */
