/* <net/if_arp.h> for the "none" port: see zsock_netdefs.h. */
#ifndef ZSOCK_NONE_NET_IF_ARP_H_
#define ZSOCK_NONE_NET_IF_ARP_H_
#include <zsock_netdefs.h>
#endif
