/* Credentials and the --verify word for the TLS and DTLS tools (tool_tls.h). */
#include "tool_tls.h"

#include <zsock/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tool_tls_add_credential(const char *prog, sec_tag_t tag, enum tls_credential_type type,
                            const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    size_t n;
    while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL || len == 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, buf == NULL ? "out of memory" : "empty");
        free(buf);
        return -1;
    }
    buf[len] = '\0';
    bool pem = strstr(buf, "-----BEGIN") != NULL;
    int rc = tls_credential_add(tag, type, buf, pem ? len + 1 : len);
    free(buf);
    if (rc < 0) {
        fprintf(stderr, "%s: tls_credential_add(%d, %d, %s): %s\n", prog, tag, (int)type, path,
                strerror(-rc));
        return -1;
    }
    return 0;
}

int tool_tls_load_credentials(const char *prog, const char *cert, const char *key, const char *psk,
                              const char *psk_id, const char *const *ca, int n_ca, sec_tag_t *tags)
{
    int n = 0;
    if (cert != NULL) {
        if (tool_tls_add_credential(prog, TOOL_TAG_OWN, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, cert) <
                0 ||
            tool_tls_add_credential(prog, TOOL_TAG_OWN, TLS_CREDENTIAL_PRIVATE_KEY, key) < 0) {
            return -1;
        }
        tags[n++] = TOOL_TAG_OWN;
    }
    if (psk != NULL) {
        if (tool_tls_add_credential(prog, TOOL_TAG_PSK, TLS_CREDENTIAL_PSK, psk) < 0 ||
            tool_tls_add_credential(prog, TOOL_TAG_PSK, TLS_CREDENTIAL_PSK_ID, psk_id) < 0) {
            return -1;
        }
        tags[n++] = TOOL_TAG_PSK;
    }
    for (int i = 0; i < n_ca; i++) {
        if (tool_tls_add_credential(prog, TOOL_TAG_CA + i, TLS_CREDENTIAL_CA_CERTIFICATE, ca[i]) <
            0) {
            return -1;
        }
        tags[n++] = TOOL_TAG_CA + i;
    }
    return n;
}

int tool_tls_verify_value(const char *word)
{
    return strcmp(word, "none") == 0       ? TLS_PEER_VERIFY_NONE
           : strcmp(word, "optional") == 0 ? TLS_PEER_VERIFY_OPTIONAL
           : strcmp(word, "required") == 0 ? TLS_PEER_VERIFY_REQUIRED
                                           : -2;
}
