/* Forwarding header: code written for Zephyr includes <zephyr/net/socket.h>. */
#ifndef ZSOCK_ZEPHYR_NET_SOCKET_H_
#define ZSOCK_ZEPHYR_NET_SOCKET_H_
#include <zsock/socket.h>
#endif
