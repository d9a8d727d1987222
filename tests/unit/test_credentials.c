/* Unit tests for the TLS credential store: every return code of the public
 * contract, copy semantics, byte-exact round trips of PEM and DER blobs, the
 * internal lookup API and concurrent use from several threads. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <zsock/tls_credentials.h>

#include "port/port.h"
#include "tls/credentials_internal.h"

/* The malloc-failure test asks for SIZE_MAX bytes; sanitizers abort on that
 * by default instead of returning NULL as the C library does. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/* Tags used by the single-threaded tests; the teardown sweeps them so one
 * failing test cannot leave entries behind for the next. */
#define TAG_BASE  100
#define TAG_SWEEP (TAG_BASE + CONFIG_TLS_MAX_CREDENTIALS_NUMBER + 16)

/* The threaded test: each thread owns the tag THREAD_TAG0 + its index. */
#define NTHREADS    4
#define ITERATIONS  10000
#define THREAD_TAG0 10000

static const enum tls_credential_type all_types[] = {
    TLS_CREDENTIAL_CA_CERTIFICATE, TLS_CREDENTIAL_PUBLIC_CERTIFICATE,
    TLS_CREDENTIAL_PRIVATE_KEY,    TLS_CREDENTIAL_PSK,
    TLS_CREDENTIAL_PSK_ID,
};

static void sweep(void)
{
    for (sec_tag_t tag = 0; tag < TAG_SWEEP; tag++) {
        for (size_t i = 0; i < sizeof(all_types) / sizeof(all_types[0]); i++) {
            (void)tls_credential_delete(tag, all_types[i]);
        }
    }
    (void)tls_credential_delete(INT_MAX, TLS_CREDENTIAL_CA_CERTIFICATE);
    for (int i = 0; i < NTHREADS; i++) {
        (void)tls_credential_delete(THREAD_TAG0 + i, TLS_CREDENTIAL_PUBLIC_CERTIFICATE);
        (void)tls_credential_delete(THREAD_TAG0 + i, TLS_CREDENTIAL_PSK);
    }
}

static int setup(void **state)
{
    (void)state;
    sweep();
    return z_cred_count() == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    int left = z_cred_count();
    sweep();
    /* A test that forgot to delete what it added is a bug in the test. */
    return left == 0 ? 0 : -1;
}

/* Asserts that (tag, type) holds exactly `len` bytes equal to `want`. */
static void expect_cred(sec_tag_t tag, enum tls_credential_type type, const void *want, size_t len)
{
    unsigned char buf[4096];
    size_t n = sizeof(buf);

    assert_true(len <= sizeof(buf));
    assert_int_equal(tls_credential_get(tag, type, buf, &n), 0);
    assert_int_equal(n, len);
    assert_memory_equal(buf, want, len);
}

static void expect_missing(sec_tag_t tag, enum tls_credential_type type)
{
    unsigned char buf[16];
    size_t n = sizeof(buf);

    assert_int_equal(tls_credential_get(tag, type, buf, &n), -ENOENT);
    assert_int_equal(n, 0);
}

static void test_add_get_delete(void **state)
{
    (void)state;
    static const char data[] = "credential bytes";

    assert_int_equal(
        tls_credential_add(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, data, sizeof(data)), 0);
    assert_int_equal(z_cred_count(), 1);
    expect_cred(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, data, sizeof(data));
    /* A get does not consume the credential. */
    expect_cred(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, data, sizeof(data));

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
    assert_int_equal(z_cred_count(), 0);
    expect_missing(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE);
}

static void test_tag_limits(void **state)
{
    (void)state;
    static const unsigned char a[] = {1}, b[] = {2};

    /* 0 and INT_MAX are ordinary tags; only negative values are reserved. */
    assert_int_equal(tls_credential_add(0, TLS_CREDENTIAL_CA_CERTIFICATE, a, sizeof(a)), 0);
    assert_int_equal(tls_credential_add(INT_MAX, TLS_CREDENTIAL_CA_CERTIFICATE, b, sizeof(b)), 0);
    expect_cred(0, TLS_CREDENTIAL_CA_CERTIFICATE, a, sizeof(a));
    expect_cred(INT_MAX, TLS_CREDENTIAL_CA_CERTIFICATE, b, sizeof(b));
    assert_int_equal(tls_credential_delete(0, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
    assert_int_equal(tls_credential_delete(INT_MAX, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
}

static void test_add_duplicate(void **state)
{
    (void)state;
    static const char first[] = "first", second[] = "second one";

    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK, first, sizeof(first)), 0);
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK, second, sizeof(second)),
                     -EEXIST);
    /* The failed add must not replace the original. */
    expect_cred(TAG_BASE, TLS_CREDENTIAL_PSK, first, sizeof(first));
    assert_int_equal(z_cred_count(), 1);

    /* Once deleted, the same (tag, type) can be added again. */
    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PSK), 0);
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK, second, sizeof(second)), 0);
    expect_cred(TAG_BASE, TLS_CREDENTIAL_PSK, second, sizeof(second));
    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PSK), 0);
}

static void test_get_missing(void **state)
{
    (void)state;
    static const char data[] = "x";
    unsigned char buf[8];
    size_t n;

    expect_missing(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE);

    /* Same tag with another type, and same type with another tag, are misses. */
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, data, 1), 0);
    expect_missing(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY);
    expect_missing(TAG_BASE + 1, TLS_CREDENTIAL_CA_CERTIFICATE);

    /* Lookups with values add would reject simply find nothing. */
    expect_missing(-1, TLS_CREDENTIAL_CA_CERTIFICATE);
    expect_missing(TAG_BASE, TLS_CREDENTIAL_NONE);
    expect_missing(TAG_BASE, (enum tls_credential_type)6);

    /* A size query (NULL buffer, size 0) on a missing entry also gives -ENOENT. */
    n = 0;
    assert_int_equal(tls_credential_get(TAG_BASE + 1, TLS_CREDENTIAL_CA_CERTIFICATE, NULL, &n),
                     -ENOENT);
    assert_int_equal(n, 0);

    /* *credlen is zeroed even when the caller passed a large buffer. */
    n = sizeof(buf);
    assert_int_equal(tls_credential_get(TAG_BASE + 2, TLS_CREDENTIAL_PSK, buf, &n), -ENOENT);
    assert_int_equal(n, 0);

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
}

static void test_delete_missing(void **state)
{
    (void)state;
    static const char data[] = "key";

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY), -ENOENT);
    assert_int_equal(tls_credential_delete(-1, TLS_CREDENTIAL_PRIVATE_KEY), -ENOENT);
    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_NONE), -ENOENT);

    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY, data, sizeof(data)),
                     0);
    /* Deleting another type under the same tag leaves the key alone. */
    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PSK), -ENOENT);
    expect_cred(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY, data, sizeof(data));

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY), 0);
    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY), -ENOENT);
}

static void test_get_buffer_too_small(void **state)
{
    (void)state;
    static const char data[] = "0123456789abcdef"; /* 17 bytes with the NUL */
    unsigned char buf[32];
    size_t n;

    assert_int_equal(
        tls_credential_add(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, data, sizeof(data)), 0);

    /* One byte short: -EFBIG, the needed length, and the buffer untouched. */
    memset(buf, 0xa5, sizeof(buf));
    n = sizeof(data) - 1;
    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, buf, &n), -EFBIG);
    assert_int_equal(n, sizeof(data));
    for (size_t i = 0; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], 0xa5);
    }

    /* Size query: NULL buffer with size 0. */
    n = 0;
    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, NULL, &n), -EFBIG);
    assert_int_equal(n, sizeof(data));

    /* Retrying with the reported length succeeds. */
    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, buf, &n), 0);
    assert_int_equal(n, sizeof(data));
    assert_memory_equal(buf, data, sizeof(data));
    /* Nothing written past the credential. */
    assert_int_equal(buf[sizeof(data)], 0xa5);

    /* A larger buffer reports the credential's length, not the buffer's. */
    n = sizeof(buf);
    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, buf, &n), 0);
    assert_int_equal(n, sizeof(data));

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
}

static void test_add_invalid_args(void **state)
{
    (void)state;
    static const char data[] = "data";

    assert_int_equal(tls_credential_add(-1, TLS_CREDENTIAL_CA_CERTIFICATE, data, sizeof(data)),
                     -EINVAL);
    assert_int_equal(tls_credential_add(TLS_SEC_TAG_NONE, TLS_CREDENTIAL_PSK, data, sizeof(data)),
                     -EINVAL);
    assert_int_equal(tls_credential_add(INT_MIN, TLS_CREDENTIAL_PSK, data, sizeof(data)), -EINVAL);
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_NONE, data, sizeof(data)),
                     -EINVAL);
    assert_int_equal(tls_credential_add(TAG_BASE, (enum tls_credential_type)6, data, sizeof(data)),
                     -EINVAL);
    assert_int_equal(
        tls_credential_add(TAG_BASE, (enum tls_credential_type) - 1, data, sizeof(data)), -EINVAL);
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK, NULL, sizeof(data)), -EINVAL);
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK, data, 0), -EINVAL);
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK, NULL, 0), -EINVAL);

    /* Rejected adds store nothing. */
    assert_int_equal(z_cred_count(), 0);
    expect_missing(TAG_BASE, TLS_CREDENTIAL_PSK);
    assert_false(z_cred_tag_exists(TAG_BASE));
}

static void test_get_invalid_args(void **state)
{
    (void)state;
    static const char data[] = "data";
    size_t n;

    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK_ID, data, sizeof(data)), 0);

    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_PSK_ID, NULL, NULL), -EINVAL);
    unsigned char buf[8];
    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_PSK_ID, buf, NULL), -EINVAL);

    /* A NULL buffer with a non-zero size is a caller bug, not a size query;
     * *credlen is left as it was. */
    n = sizeof(data);
    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_PSK_ID, NULL, &n), -EINVAL);
    assert_int_equal(n, sizeof(data));

    /* Argument errors take precedence over a miss. */
    n = 4;
    assert_int_equal(tls_credential_get(TAG_BASE + 1, TLS_CREDENTIAL_PSK_ID, NULL, &n), -EINVAL);

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PSK_ID), 0);
}

static void test_store_full(void **state)
{
    (void)state;
    const int max = CONFIG_TLS_MAX_CREDENTIALS_NUMBER;
    int v;

    for (int i = 0; i < max; i++) {
        v = i;
        assert_int_equal(
            tls_credential_add(TAG_BASE + i, TLS_CREDENTIAL_CA_CERTIFICATE, &v, sizeof(v)), 0);
    }
    assert_int_equal(z_cred_count(), max);

    /* Every slot used: a new (tag, type), even under an existing tag, fails. */
    v = -1;
    assert_int_equal(
        tls_credential_add(TAG_BASE + max, TLS_CREDENTIAL_CA_CERTIFICATE, &v, sizeof(v)), -ENOMEM);
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY, &v, sizeof(v)),
                     -ENOMEM);
    /* A duplicate is still reported as such when the store is full. */
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, &v, sizeof(v)),
                     -EEXIST);
    assert_int_equal(z_cred_count(), max);

    /* Freeing a slot in the middle makes room for exactly one more. */
    assert_int_equal(tls_credential_delete(TAG_BASE + max / 2, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
    v = max;
    assert_int_equal(
        tls_credential_add(TAG_BASE + max, TLS_CREDENTIAL_CA_CERTIFICATE, &v, sizeof(v)), 0);
    assert_int_equal(
        tls_credential_add(TAG_BASE + max + 1, TLS_CREDENTIAL_CA_CERTIFICATE, &v, sizeof(v)),
        -ENOMEM);

    /* The surviving entries are intact. */
    for (int i = 0; i <= max; i++) {
        if (i == max / 2) {
            expect_missing(TAG_BASE + i, TLS_CREDENTIAL_CA_CERTIFICATE);
            continue;
        }
        v = i;
        expect_cred(TAG_BASE + i, TLS_CREDENTIAL_CA_CERTIFICATE, &v, sizeof(v));
    }

    for (int i = 0; i <= max; i++) {
        if (i != max / 2) {
            assert_int_equal(tls_credential_delete(TAG_BASE + i, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
        }
    }
    assert_int_equal(z_cred_count(), 0);

    /* Fully recovered: the whole capacity is available again. */
    for (int i = 0; i < max; i++) {
        v = i;
        assert_int_equal(tls_credential_add(TAG_BASE + i, TLS_CREDENTIAL_PSK, &v, sizeof(v)), 0);
    }
    assert_int_equal(z_cred_count(), max);
    for (int i = 0; i < max; i++) {
        assert_int_equal(tls_credential_delete(TAG_BASE + i, TLS_CREDENTIAL_PSK), 0);
    }
    assert_int_equal(z_cred_count(), 0);
}

static void test_add_out_of_memory(void **state)
{
    (void)state;
    static const char data[] = "small";

    /* No allocator can satisfy SIZE_MAX bytes, so the copy fails before the
     * store ever reads past `data`. */
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, data, SIZE_MAX),
                     -ENOMEM);
    assert_int_equal(z_cred_count(), 0);
    expect_missing(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE);

    /* The failure leaves the store usable. */
    assert_int_equal(
        tls_credential_add(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, data, sizeof(data)), 0);
    expect_cred(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, data, sizeof(data));
    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
}

static void test_store_copies(void **state)
{
    (void)state;
    static const char orig[] = "original secret";
    char buf[sizeof(orig)];

    memcpy(buf, orig, sizeof(orig));
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK, buf, sizeof(buf)), 0);

    /* Scribbling over the caller's buffer must not reach the store. */
    memset(buf, 'X', sizeof(buf));
    expect_cred(TAG_BASE, TLS_CREDENTIAL_PSK, orig, sizeof(orig));

    /* Nor does modifying what get returned. */
    char out[sizeof(orig)];
    size_t n = sizeof(out);
    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_PSK, out, &n), 0);
    memset(out, 'Y', sizeof(out));
    expect_cred(TAG_BASE, TLS_CREDENTIAL_PSK, orig, sizeof(orig));

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PSK), 0);
}

static void test_pem_with_nul(void **state)
{
    (void)state;
    /* PEM is registered with its terminating NUL, as mbedTLS's parser wants. */
    static const char pem[] = "-----BEGIN CERTIFICATE-----\n"
                              "MIIBszCCAVmgAwIBAgIUZm9vYmFyYmF6cXV4MAoGCCqGSM49BAMCMBIxEDAOBgNV\n"
                              "BAMMB3Rlc3QtY2EwHhcNMjQwMTAxMDAwMDAwWhcNMzQwMTAxMDAwMDAwWjASMRAw\n"
                              "-----END CERTIFICATE-----\n";
    unsigned char buf[sizeof(pem) + 8];
    size_t n = sizeof(buf);

    assert_int_equal(pem[sizeof(pem) - 1], '\0');
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, pem, sizeof(pem)),
                     0);
    assert_int_equal(tls_credential_get(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE, buf, &n), 0);
    assert_int_equal(n, sizeof(pem));
    assert_memory_equal(buf, pem, sizeof(pem));
    assert_int_equal(buf[n - 1], '\0');
    assert_string_equal((const char *)buf, pem);

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_CA_CERTIFICATE), 0);
}

static void test_der_binary(void **state)
{
    (void)state;
    /* DER is arbitrary bytes: embedded NULs, 0xff and every other value must
     * survive, and the length must not be taken from strlen(). */
    unsigned char der[600];
    der[0] = 0x30;
    der[1] = 0x82;
    der[2] = 0x00;
    der[3] = 0x00;
    for (size_t i = 4; i < sizeof(der); i++) {
        der[i] = (unsigned char)(i * 7 + 3);
    }
    der[sizeof(der) - 1] = 0x00;

    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY, der, sizeof(der)), 0);
    expect_cred(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY, der, sizeof(der));

    /* A one-byte credential round-trips too. */
    static const unsigned char zero = 0;
    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PSK, &zero, 1), 0);
    expect_cred(TAG_BASE, TLS_CREDENTIAL_PSK, &zero, 1);

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY), 0);
    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PSK), 0);
}

static void test_pairs_under_one_tag(void **state)
{
    (void)state;
    static const char cert[] = "own certificate", key[] = "private key";
    static const unsigned char psk[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
    static const char psk_id[] = "client-identity";
    const sec_tag_t t = TAG_BASE;

    assert_int_equal(tls_credential_add(t, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, cert, sizeof(cert)),
                     0);
    assert_int_equal(tls_credential_add(t, TLS_CREDENTIAL_PRIVATE_KEY, key, sizeof(key)), 0);
    assert_int_equal(tls_credential_add(t + 1, TLS_CREDENTIAL_PSK, psk, sizeof(psk)), 0);
    /* PSK_ID stored without its NUL: the length is whatever the caller says. */
    assert_int_equal(tls_credential_add(t + 1, TLS_CREDENTIAL_PSK_ID, psk_id, strlen(psk_id)), 0);
    assert_int_equal(z_cred_count(), 4);

    expect_cred(t, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, cert, sizeof(cert));
    expect_cred(t, TLS_CREDENTIAL_PRIVATE_KEY, key, sizeof(key));
    expect_cred(t + 1, TLS_CREDENTIAL_PSK, psk, sizeof(psk));
    expect_cred(t + 1, TLS_CREDENTIAL_PSK_ID, psk_id, strlen(psk_id));
    /* Types not added under a tag stay absent. */
    expect_missing(t, TLS_CREDENTIAL_PSK);
    expect_missing(t + 1, TLS_CREDENTIAL_PRIVATE_KEY);

    /* Deleting one half of a pair leaves the other. */
    assert_int_equal(tls_credential_delete(t, TLS_CREDENTIAL_PRIVATE_KEY), 0);
    expect_cred(t, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, cert, sizeof(cert));
    expect_missing(t, TLS_CREDENTIAL_PRIVATE_KEY);
    assert_int_equal(tls_credential_delete(t + 1, TLS_CREDENTIAL_PSK_ID), 0);
    expect_cred(t + 1, TLS_CREDENTIAL_PSK, psk, sizeof(psk));

    assert_int_equal(tls_credential_delete(t, TLS_CREDENTIAL_PUBLIC_CERTIFICATE), 0);
    assert_int_equal(tls_credential_delete(t + 1, TLS_CREDENTIAL_PSK), 0);
}

static void test_all_types_one_tag(void **state)
{
    (void)state;
    const size_t ntypes = sizeof(all_types) / sizeof(all_types[0]);

    for (size_t i = 0; i < ntypes; i++) {
        unsigned char v = (unsigned char)(0x10 + i);
        assert_int_equal(tls_credential_add(TAG_BASE, all_types[i], &v, 1), 0);
    }
    assert_int_equal(z_cred_count(), (int)ntypes);
    for (size_t i = 0; i < ntypes; i++) {
        unsigned char v = (unsigned char)(0x10 + i);
        expect_cred(TAG_BASE, all_types[i], &v, 1);
    }
    for (size_t i = 0; i < ntypes; i++) {
        assert_int_equal(tls_credential_delete(TAG_BASE, all_types[i]), 0);
    }
}

static void test_server_certificate_alias(void **state)
{
    (void)state;
    static const char cert[] = "server certificate";

    assert_int_equal(TLS_CREDENTIAL_SERVER_CERTIFICATE, TLS_CREDENTIAL_PUBLIC_CERTIFICATE);

    /* Either name reaches the same entry. */
    assert_int_equal(
        tls_credential_add(TAG_BASE, TLS_CREDENTIAL_SERVER_CERTIFICATE, cert, sizeof(cert)), 0);
    expect_cred(TAG_BASE, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, cert, sizeof(cert));
    assert_int_equal(
        tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PUBLIC_CERTIFICATE, cert, sizeof(cert)),
        -EEXIST);
    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PUBLIC_CERTIFICATE), 0);
    expect_missing(TAG_BASE, TLS_CREDENTIAL_SERVER_CERTIFICATE);
}

static void test_internal_api(void **state)
{
    (void)state;
    static const char key[] = "key material";
    const void *data = NULL;
    size_t len = 0;

    assert_false(z_cred_tag_exists(TAG_BASE));
    assert_int_equal(z_cred_count(), 0);

    assert_int_equal(tls_credential_add(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY, key, sizeof(key)), 0);
    assert_true(z_cred_tag_exists(TAG_BASE));
    assert_false(z_cred_tag_exists(TAG_BASE + 1));
    assert_false(z_cred_tag_exists(-1));
    assert_int_equal(z_cred_count(), 1);

    z_cred_lock();
    assert_int_equal(z_cred_lookup(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY, &data, &len), 0);
    /* The store's own copy, not the caller's original. */
    assert_ptr_not_equal(data, key);
    assert_int_equal(len, sizeof(key));
    assert_memory_equal(data, key, sizeof(key));

    /* Misses leave the outputs untouched. */
    const void *sentinel = &len;
    data = sentinel;
    len = 12345;
    assert_int_equal(z_cred_lookup(TAG_BASE, TLS_CREDENTIAL_PSK, &data, &len), -ENOENT);
    assert_int_equal(z_cred_lookup(TAG_BASE + 1, TLS_CREDENTIAL_PRIVATE_KEY, &data, &len), -ENOENT);
    assert_int_equal(z_cred_lookup(-1, TLS_CREDENTIAL_PRIVATE_KEY, &data, &len), -ENOENT);
    assert_int_equal(z_cred_lookup(TAG_BASE, TLS_CREDENTIAL_NONE, &data, &len), -ENOENT);
    assert_ptr_equal(data, sentinel);
    assert_int_equal(len, 12345);
    z_cred_unlock();

    assert_int_equal(tls_credential_delete(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY), 0);
    assert_false(z_cred_tag_exists(TAG_BASE));
    assert_int_equal(z_cred_count(), 0);
    z_cred_lock();
    assert_int_equal(z_cred_lookup(TAG_BASE, TLS_CREDENTIAL_PRIVATE_KEY, &data, &len), -ENOENT);
    z_cred_unlock();
}

struct worker {
    int id;
    int failures; /* first failing iteration is logged; cmocka asserts are not thread-safe */
};

static void worker_fail(struct worker *w, int iter, const char *what, int ret)
{
    if (w->failures++ == 0) {
        fprintf(stderr, "thread %d iteration %d: %s returned %d\n", w->id, iter, what, ret);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    const sec_tag_t tag = THREAD_TAG0 + w->id;
    /* Alternate types so both the cert and PSK paths see contention. */
    const enum tls_credential_type types[2] = {TLS_CREDENTIAL_PUBLIC_CERTIFICATE,
                                               TLS_CREDENTIAL_PSK};

    for (int i = 0; i < ITERATIONS; i++) {
        /* Contents and length depend on thread and iteration, so any
         * cross-talk between threads or stale data shows up as a mismatch. */
        unsigned char mine[64], got[64];
        size_t len = 8 + (size_t)(i % 48);
        for (size_t k = 0; k < len; k++) {
            mine[k] = (unsigned char)(w->id * 61 + i * 13 + (int)k);
        }
        mine[0] = (unsigned char)w->id;
        enum tls_credential_type type = types[i & 1];

        int ret = tls_credential_add(tag, type, mine, len);
        if (ret != 0) {
            worker_fail(w, i, "add", ret);
            continue;
        }
        if (!z_cred_tag_exists(tag)) {
            worker_fail(w, i, "tag_exists", 0);
        }

        size_t n = sizeof(got);
        ret = tls_credential_get(tag, type, got, &n);
        if (ret != 0) {
            worker_fail(w, i, "get", ret);
        } else if (n != len || memcmp(got, mine, len) != 0) {
            worker_fail(w, i, "get (wrong bytes)", 0);
        }

        const void *data;
        size_t dlen;
        z_cred_lock();
        ret = z_cred_lookup(tag, type, &data, &dlen);
        if (ret != 0 || dlen != len || memcmp(data, mine, len) != 0) {
            worker_fail(w, i, "lookup", ret);
        }
        z_cred_unlock();

        ret = tls_credential_delete(tag, type);
        if (ret != 0) {
            worker_fail(w, i, "delete", ret);
        }
        n = sizeof(got);
        ret = tls_credential_get(tag, type, got, &n);
        if (ret != -ENOENT || n != 0) {
            worker_fail(w, i, "get after delete", ret);
        }
    }
    return NULL;
}

static void test_concurrent_threads(void **state)
{
    (void)state;
    z_thread_t threads[NTHREADS];
    struct worker workers[NTHREADS];

    for (int i = 0; i < NTHREADS; i++) {
        workers[i].id = i;
        workers[i].failures = 0;
        assert_int_equal(z_thread_create(&threads[i], worker_main, &workers[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(z_thread_join(threads[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(workers[i].failures, 0);
    }
    assert_int_equal(z_cred_count(), 0);
    for (int i = 0; i < NTHREADS; i++) {
        assert_false(z_cred_tag_exists(THREAD_TAG0 + i));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_get_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tag_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_buffer_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_invalid_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_get_invalid_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_out_of_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pem_with_nul, setup, teardown),
        cmocka_unit_test_setup_teardown(test_der_binary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pairs_under_one_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_types_one_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_certificate_alias, setup, teardown),
        cmocka_unit_test_setup_teardown(test_internal_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_threads, setup, teardown),
    };

    return cmocka_run_group_tests_name("credentials", tests, NULL, NULL);
}
