/* What the samples share: loading the test PKI into the TLS credential
 * store and printing socket addresses. Public API only. */
#ifndef ZSOCK_SAMPLE_COMMON_H_
#define ZSOCK_SAMPLE_COMMON_H_

#include <stddef.h>

#include <zsock/socket.h>
#include <zsock/tls_credentials.h>

/* Security tags the samples register their credentials under. */
#define SAMPLE_TAG_SERVER 1 /* server certificate and private key */
#define SAMPLE_TAG_CA     2 /* the CA a client trusts */

/* Where the test PKI (tests/tls/pki) is, unless --pki names another. */
#ifndef SAMPLE_PKI_DIR
#define SAMPLE_PKI_DIR "tests/tls/pki"
#endif

/* Read the file `dir`/`name` (`name` alone when dir is NULL) and add it to the credential store
 * under `tag` as `type` (PEM is added with its terminating NUL, as mbedTLS wants). Returns 0, or -1
 * after printing why. Not thread-safe (call it at start). */
int sample_add_credential(sec_tag_t tag, enum tls_credential_type type, const char *dir,
                          const char *name);

/* "ADDR port PORT" of an AF_INET or AF_INET6 socket address, into buf
 * (INET6_ADDRSTRLEN + 16 bytes is enough). Returns buf. Thread-safe. */
const char *sample_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Wait up to timeout_ms until no interface holds a tentative IPv6 address:
 * a manual or SLAAC address is unusable for about a second after its
 * interface comes up, while duplicate address detection runs (RFC 4862).
 * Returns 0, or -1 on timeout. Thread-safe. */
int sample_wait_ipv6_ready(int timeout_ms);

#endif /* ZSOCK_SAMPLE_COMMON_H_ */
