/* TLS credential store: a fixed table of (tag, type) slots, each owning a
 * private heap copy of the credential, guarded by one mutex. Secrets are
 * wiped before their memory goes back to the allocator. */
#include "tls/credentials_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "port/port.h"

struct cred_slot {
    void *data; /* NULL marks a free slot; credlen 0 is rejected so data is never NULL in use */
    size_t len;
    sec_tag_t tag;
    enum tls_credential_type type;
};

static z_mutex_t cred_lock = Z_MUTEX_INITIALIZER;
static struct cred_slot cred_slots[CONFIG_TLS_MAX_CREDENTIALS_NUMBER];

/* memset() before z_free() is a dead store the compiler may drop; writing through
 * a volatile pointer forces every byte to be cleared. */
static void cred_wipe(void *p, size_t len)
{
    volatile unsigned char *v = p;

    while (len--) {
        *v++ = 0;
    }
}

static void cred_wipe_free(void *p, size_t len)
{
    cred_wipe(p, len);
    z_free(p);
}

static bool cred_type_valid(enum tls_credential_type type)
{
    return type >= TLS_CREDENTIAL_CA_CERTIFICATE && type <= TLS_CREDENTIAL_PSK_ID;
}

/* Caller holds cred_lock. */
static struct cred_slot *cred_find(sec_tag_t tag, enum tls_credential_type type)
{
    for (size_t i = 0; i < CONFIG_TLS_MAX_CREDENTIALS_NUMBER; i++) {
        struct cred_slot *s = &cred_slots[i];

        if (s->data != NULL && s->tag == tag && s->type == type) {
            return s;
        }
    }
    return NULL;
}

/* Caller holds cred_lock. */
static struct cred_slot *cred_find_free(void)
{
    for (size_t i = 0; i < CONFIG_TLS_MAX_CREDENTIALS_NUMBER; i++) {
        if (cred_slots[i].data == NULL) {
            return &cred_slots[i];
        }
    }
    return NULL;
}

void z_cred_lock(void)
{
    z_mutex_lock(&cred_lock);
}

void z_cred_unlock(void)
{
    z_mutex_unlock(&cred_lock);
}

int tls_credential_add(sec_tag_t tag, enum tls_credential_type type, const void *cred,
                       size_t credlen)
{
    if (tag < 0 || !cred_type_valid(type) || cred == NULL || credlen == 0) {
        return -EINVAL;
    }

    /* Copy before taking the lock so a large certificate does not hold up
     * other threads; the copy is discarded if the slot turns out to be taken. */
    void *copy = z_malloc(credlen);
    if (copy == NULL) {
        return -ENOMEM;
    }
    memcpy(copy, cred, credlen);

    int ret = 0;

    z_mutex_lock(&cred_lock);
    if (cred_find(tag, type) != NULL) {
        ret = -EEXIST;
    } else {
        struct cred_slot *s = cred_find_free();

        if (s == NULL) {
            ret = -ENOMEM;
        } else {
            s->tag = tag;
            s->type = type;
            s->len = credlen;
            s->data = copy;
        }
    }
    z_mutex_unlock(&cred_lock);

    if (ret != 0) {
        cred_wipe_free(copy, credlen);
    }
    return ret;
}

int tls_credential_get(sec_tag_t tag, enum tls_credential_type type, void *cred, size_t *credlen)
{
    if (credlen == NULL || (cred == NULL && *credlen != 0)) {
        return -EINVAL;
    }

    int ret = 0;

    z_mutex_lock(&cred_lock);
    struct cred_slot *s = cred_find(tag, type);
    if (s == NULL) {
        *credlen = 0;
        ret = -ENOENT;
    } else if (*credlen < s->len) {
        /* Report the size so the caller can allocate and retry. */
        *credlen = s->len;
        ret = -EFBIG;
    } else {
        memcpy(cred, s->data, s->len);
        *credlen = s->len;
    }
    z_mutex_unlock(&cred_lock);

    return ret;
}

int tls_credential_delete(sec_tag_t tag, enum tls_credential_type type)
{
    void *data = NULL;
    size_t len = 0;

    z_mutex_lock(&cred_lock);
    struct cred_slot *s = cred_find(tag, type);
    if (s != NULL) {
        data = s->data;
        len = s->len;
        s->data = NULL;
        s->len = 0;
    }
    z_mutex_unlock(&cred_lock);

    if (data == NULL) {
        return -ENOENT;
    }
    /* The slot no longer references the copy, so nobody else can reach it. */
    cred_wipe_free(data, len);
    return 0;
}

int z_cred_lookup(sec_tag_t tag, enum tls_credential_type type, const void **data, size_t *len)
{
    const struct cred_slot *s = cred_find(tag, type);

    if (s == NULL) {
        return -ENOENT;
    }
    *data = s->data;
    *len = s->len;
    return 0;
}

bool z_cred_tag_exists(sec_tag_t tag)
{
    bool found = false;

    z_mutex_lock(&cred_lock);
    for (size_t i = 0; i < CONFIG_TLS_MAX_CREDENTIALS_NUMBER; i++) {
        if (cred_slots[i].data != NULL && cred_slots[i].tag == tag) {
            found = true;
            break;
        }
    }
    z_mutex_unlock(&cred_lock);

    return found;
}

int z_cred_count(void)
{
    int n = 0;

    z_mutex_lock(&cred_lock);
    for (size_t i = 0; i < CONFIG_TLS_MAX_CREDENTIALS_NUMBER; i++) {
        if (cred_slots[i].data != NULL) {
            n++;
        }
    }
    z_mutex_unlock(&cred_lock);

    return n;
}
