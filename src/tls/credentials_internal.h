/* Internal access to the TLS credential store for the TLS socket layer, which
 * must read credentials in place (without a copy per handshake) and check
 * that the tags in TLS_SEC_TAG_LIST exist. Not part of the public API. */
#ifndef ZSOCK_TLS_CREDENTIALS_INTERNAL_H_
#define ZSOCK_TLS_CREDENTIALS_INTERNAL_H_

#include <stdbool.h>
#include <stddef.h>

#include <zsock/tls_credentials.h>

/*
 * Take and release the store lock. Hold it around z_cred_lookup() and for as
 * long as the data it returned is used: a concurrent tls_credential_delete()
 * wipes and frees that data. Not recursive; do not call the public
 * tls_credential_* functions, z_cred_tag_exists() or z_cred_count() while
 * holding it.
 */
void z_cred_lock(void);
void z_cred_unlock(void);

/*
 * Find the credential (tag, type) and point *data and *len at the store's own
 * copy, valid only until z_cred_unlock(). Returns 0, or -ENOENT when there is
 * no such credential (including a negative tag or an unknown type); *data and
 * *len are left untouched then. The caller must hold the store lock.
 */
int z_cred_lookup(sec_tag_t tag, enum tls_credential_type type, const void **data, size_t *len);

/*
 * True when at least one credential, of any type, is stored under tag.
 * Takes the store lock itself; the answer may be stale once it returns.
 */
bool z_cred_tag_exists(sec_tag_t tag);

/*
 * Number of credentials currently stored, 0..CONFIG_TLS_MAX_CREDENTIALS_NUMBER.
 * Takes the store lock itself; the answer may be stale once it returns.
 */
int z_cred_count(void);

#endif /* ZSOCK_TLS_CREDENTIALS_INTERNAL_H_ */
