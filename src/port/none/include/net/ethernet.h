/* <net/ethernet.h> for the "none" port: see zsock_netdefs.h. */
#ifndef ZSOCK_NONE_NET_ETHERNET_H_
#define ZSOCK_NONE_NET_ETHERNET_H_
#include <zsock_netdefs.h>
#endif
