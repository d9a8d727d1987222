/* What the TLS and DTLS tools (ztls, zdtls) share: loading the credentials
 * their options name into zsock's store, the --verify word. */
#ifndef ZSOCK_TOOL_TLS_H_
#define ZSOCK_TOOL_TLS_H_

#include <zsock/tls_credentials.h>

#define TOOL_TAG_OWN 1  /* --cert and --key */
#define TOOL_TAG_PSK 2  /* --psk and --psk-id */
#define TOOL_TAG_CA  10 /* first --ca; the next ones follow */

/* Add the file `path` as credential (tag, type): PEM (with its NUL, as
 * mbedTLS wants) when it holds "-----BEGIN", else the bytes as they are.
 * 0, or -1 after a message on stderr. */
int tool_tls_add_credential(const char *prog, sec_tag_t tag, enum tls_credential_type type,
                            const char *path);

/* The credentials the tools' options name: own certificate and key (both or
 * neither), PSK and its identity (both or neither), n_ca CA certificates.
 * Their tags go into tags[] (room for n_ca + 2); returns the count, or -1. */
int tool_tls_load_credentials(const char *prog, const char *cert, const char *key, const char *psk,
                              const char *psk_id, const char *const *ca, int n_ca, sec_tag_t *tags);

/* --verify none|optional|required: TLS_PEER_VERIFY_*, or -2 for another
 * word. */
int tool_tls_verify_value(const char *word);

#endif /* ZSOCK_TOOL_TLS_H_ */
