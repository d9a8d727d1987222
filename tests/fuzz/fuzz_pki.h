/* Files of the test PKI (tests/tls/pki, TLS_PKI_DIR) for the TLS fuzz
 * targets. */
#ifndef ZSOCK_FUZZ_PKI_H_
#define ZSOCK_FUZZ_PKI_H_

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

/* File `name` of the test PKI in a new buffer (the caller frees it), with
 * *len its length: PEM files with their terminating NUL, as mbedTLS wants
 * them, DER as they are. Aborts if the file cannot be read. */
static inline unsigned char *fuzz_pki_read(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", TLS_PKI_DIR, name);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    CHECK(n > 0);
    unsigned char *buf = calloc(1, (size_t)n + 1);
    CHECK(buf != NULL);
    CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n + (memcmp(buf, "-----", 5) == 0 ? 1 : 0);
    return buf;
}

#endif /* ZSOCK_FUZZ_PKI_H_ */
