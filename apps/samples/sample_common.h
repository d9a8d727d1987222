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

/* Bytes sent on the stream socket fd that its peer has not acknowledged yet
 * (FIONWRITE; for TLS, with the record not yet handed to TCP); 0 when the
 * socket cannot say. Thread-safe. */
int sample_unacked(int fd);

/* Wait up to timeout_ms until the peer has acknowledged everything sent on
 * fd (sample_unacked() is 0). A zsock stack lives in its process: a
 * program that exits right after close() would take the bytes still queued
 * with it, so a server that may exit drains before it closes. Blocks the
 * calling thread. */
void sample_drain(int fd, int timeout_ms);

/* Wait up to timeout_ms until no interface holds a tentative IPv6 address:
 * a manual or SLAAC address is unusable for about a second after its
 * interface comes up, while duplicate address detection runs (RFC 4862).
 * Returns 0, or -1 on timeout. Thread-safe. */
int sample_wait_ipv6_ready(int timeout_ms);

#endif /* ZSOCK_SAMPLE_COMMON_H_ */
