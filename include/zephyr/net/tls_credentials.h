/* Forwarding header: code written for Zephyr includes <zephyr/net/tls_credentials.h>. */
#ifndef ZSOCK_ZEPHYR_NET_TLS_CREDENTIALS_H_
#define ZSOCK_ZEPHYR_NET_TLS_CREDENTIALS_H_
#include <zsock/tls_credentials.h>
#endif
