/* <netinet/in.h> for the "none" port: see zsock_netdefs.h. */
#ifndef ZSOCK_NONE_NETINET_IN_H_
#define ZSOCK_NONE_NETINET_IN_H_
#include <zsock_netdefs.h>
#endif
