/* <netpacket/packet.h> for the "none" port: see zsock_netdefs.h. */
#ifndef ZSOCK_NONE_NETPACKET_PACKET_H_
#define ZSOCK_NONE_NETPACKET_PACKET_H_
#include <zsock_netdefs.h>
#endif
