/** @file
 * TLS credentials store: certificates, keys and pre-shared keys registered
 * under a numeric security tag, referenced later by TLS_SEC_TAG_LIST. */
#ifndef ZSOCK_TLS_CREDENTIALS_H_
#define ZSOCK_TLS_CREDENTIALS_H_

#include <stddef.h>

#include <zsock/config.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Security tag: a reference to a set of credentials. Negative values are reserved. */
typedef int sec_tag_t;

/** No tag. */
#define TLS_SEC_TAG_NONE -1

/** TLS credential types (Zephyr's numbers). */
enum tls_credential_type {
    TLS_CREDENTIAL_NONE = 0,               /**< Unspecified. */
    TLS_CREDENTIAL_CA_CERTIFICATE = 1,     /**< Trusted CA certificate (DER or PEM). */
    TLS_CREDENTIAL_PUBLIC_CERTIFICATE = 2, /**< Own certificate, paired with a private key. */
    TLS_CREDENTIAL_SERVER_CERTIFICATE = 2, /**< Deprecated name of the public certificate. */
    TLS_CREDENTIAL_PRIVATE_KEY = 3,        /**< Private key (DER or PEM). */
    TLS_CREDENTIAL_PSK = 4,                /**< Pre-shared key, paired with its identity. */
    TLS_CREDENTIAL_PSK_ID = 5,             /**< Pre-shared key identity. */
};

/**
 * Add a credential under (tag, type). The store keeps its own copy of the
 * `credlen` bytes at `cred`, so the caller's buffer may be freed at once
 * (Zephyr keeps only a pointer; zsock copies). PEM data is stored as given;
 * include the terminating NUL in `credlen` as mbedTLS expects.
 * Returns 0, -EINVAL (tag negative, type unknown, cred NULL or credlen 0),
 * -EEXIST (that tag already has that type), -ENOMEM (no free slot, at most
 * CONFIG_TLS_MAX_CREDENTIALS_NUMBER, or no memory for the copy).
 * Thread-safe.
 */
int tls_credential_add(sec_tag_t tag, enum tls_credential_type type, const void *cred,
                       size_t credlen);

/**
 * Copy the credential (tag, type) into `cred`; *credlen holds the buffer
 * size on input and the credential length on output.
 * Returns 0, -ENOENT (not found; *credlen set to 0), -EFBIG (buffer too
 * small; *credlen set to the length needed), -EINVAL (credlen NULL, or cred
 * NULL with a non-zero size). Thread-safe.
 */
int tls_credential_get(sec_tag_t tag, enum tls_credential_type type, void *cred, size_t *credlen);

/**
 * Delete the credential (tag, type) and wipe its copy.
 * Returns 0 or -ENOENT. Thread-safe. A TLS socket that already loaded the
 * credential keeps using its own parsed copy.
 */
int tls_credential_delete(sec_tag_t tag, enum tls_credential_type type);

#ifdef __cplusplus
}
#endif

#endif /* ZSOCK_TLS_CREDENTIALS_H_ */
