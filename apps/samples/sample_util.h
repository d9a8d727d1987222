/* Small steps both sample servers (echo_server, http_server) take the same
 * way: the wildcard address to bind and the server's TLS credentials.
 * Public API only; include after sample_common.h. */
#ifndef ZSOCK_SAMPLE_UTIL_H_
#define ZSOCK_SAMPLE_UTIL_H_

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <zsock/socket.h>

/* The wildcard address (every interface) of IPv6 or IPv4 with `port`, into
 * *ss. Returns its length, for bind(). */
static inline socklen_t sample_any_addr(bool ipv6, int port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (ipv6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_addr = in6addr_any;
        return sizeof(*sin6);
    }
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons((uint16_t)port);
    sin->sin_addr.s_addr = htonl(INADDR_ANY);
    return sizeof(*sin);
}

/* Give the TLS socket fd the server certificate and key of the PKI in
 * `pki`, registered under one tag. Returns 0, or -1 after printing why. */
static inline int sample_server_tls(int fd, const char *pki)
{
    if (sample_add_credential(SAMPLE_TAG_SERVER, TLS_CREDENTIAL_SERVER_CERTIFICATE, pki,
                              "server-rsa.crt") < 0 ||
        sample_add_credential(SAMPLE_TAG_SERVER, TLS_CREDENTIAL_PRIVATE_KEY, pki,
                              "server-rsa.key") < 0) {
        return -1;
    }
    sec_tag_t tags[] = {SAMPLE_TAG_SERVER};
    if (zsock_setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, tags, sizeof(tags)) < 0) {
        perror("TLS_SEC_TAG_LIST");
        return -1;
    }
    return 0;
}

#endif /* ZSOCK_SAMPLE_UTIL_H_ */
