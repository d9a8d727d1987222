/* Helpers shared by the TLS and DTLS suites (test_tls.c, test_dtls.c):
 * credentials read from tests/tls/pki, the loopback address, int and
 * timeout options. Include after <cmocka.h> and define TLS_PKI_DIR. */
#ifndef ZSOCK_TEST_TLS_UTIL_H_
#define ZSOCK_TEST_TLS_UTIL_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

#ifndef TLS_PKI_DIR
#error "TLS_PKI_DIR must name tests/tls/pki"
#endif

/* Add file `name` of tests/tls/pki to the store as (tag, type). */
static inline void add_file(sec_tag_t tag, enum tls_credential_type type, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TLS_PKI_DIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s", path);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    buf[len] = 0;
    /* PEM with its NUL, as mbedTLS wants; DER and raw keys as they are. */
    size_t n = (size_t)len + (memcmp(buf, "-----", 5) == 0 ? 1 : 0);
    assert_int_equal(tls_credential_add(tag, type, buf, n), 0);
    free(buf);
}

/* 127.0.0.1:port. */
static inline struct sockaddr_in lo(uint16_t port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons(port)};
    s.sin_addr.s_addr = htonl(0x7f000001u);
    return s;
}

static inline void set_int(int fd, int level, int opt, int v)
{
    assert_int_equal(zsock_setsockopt(fd, level, opt, &v, sizeof(v)), 0);
}

/* The int option (level, opt) of fd, which must have one. */
static inline int get_int(int fd, int level, int opt)
{
    int v = -1;
    socklen_t len = sizeof(v);
    assert_int_equal(zsock_getsockopt(fd, level, opt, &v, &len), 0);
    return v;
}

/* SO_RCVTIMEO or SO_SNDTIMEO in milliseconds. */
static inline void set_timeo(int fd, int opt, int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    assert_int_equal(zsock_setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)), 0);
}

#endif /* ZSOCK_TEST_TLS_UTIL_H_ */
