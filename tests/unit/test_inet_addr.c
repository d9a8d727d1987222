/* Unit tests for zsock_inet_pton/zsock_inet_ntop and the host name calls:
 * hand-written edge cases plus differential runs against the C library's
 * inet_pton/inet_ntop on random addresses and mutated strings. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include <zsock/socket.h>

#include "unit/test_util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The string in a heap block of exactly its size, so that the sanitizers
 * catch any read past the NUL. */
static char *exact_copy(const char *s)
{
    size_t len = strlen(s) + 1;
    char *p = malloc(len);
    assert_non_null(p);
    memcpy(p, s, len);
    return p;
}

/* ---- inet_pton: IPv4 ------------------------------------------------------ */

static void expect_pton4(const char *text, int ok, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    uint8_t out[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    char *copy = exact_copy(text);
    int r = zsock_inet_pton(AF_INET, copy, out);
    free(copy);
    if (r != ok) {
        fail_msg("inet_pton(AF_INET, \"%s\") = %d, expected %d", text, r, ok);
    }
    if (ok) {
        const uint8_t want[4] = {a, b, c, d};
        assert_memory_equal(out, want, 4);
    } else {
        const uint8_t untouched[4] = {0xaa, 0xaa, 0xaa, 0xaa};
        assert_memory_equal(out, untouched, 4);
    }
}

static void test_pton4_valid(void **state)
{
    (void)state;
    expect_pton4("0.0.0.0", 1, 0, 0, 0, 0);
    expect_pton4("1.2.3.4", 1, 1, 2, 3, 4);
    expect_pton4("255.255.255.255", 1, 255, 255, 255, 255);
    expect_pton4("192.168.100.1", 1, 192, 168, 100, 1);
    expect_pton4("10.0.0.10", 1, 10, 0, 0, 10);
    expect_pton4("100.200.250.199", 1, 100, 200, 250, 199);
}

static void test_pton4_invalid(void **state)
{
    static const char *const bad[] = {
        "",          "1",           "1.2",          "1.2.3",      "1.2.3.4.5",  "1.2.3.",
        ".1.2.3",    "1..2.3",      "1.2.3.4.",     "256.1.1.1",  "1.2.3.256",  "01.2.3.4",
        "1.2.3.04",  "00.1.1.1",    "1.2.3.00",     "0x1.2.3.4",  "1.2.3.4 ",   " 1.2.3.4",
        "1.2.3.4\n", "1.2.3.-4",    "1.2.3.+4",     "a.b.c.d",    "1.2.3.4a",   "1000.1.1.1",
        "1.2.3.4/8", "1.2.3.4:80",  "::1",          "1,2,3,4",    "1.2.3.4%1",  "4294967295",
        "0.0.0.0.0", "255.255.255", "1.2.3.999999", "1.2.3.2555", "1.2.3.0255", "127.1",
        "0x7f.1",    "017.0.0.1",   "1.2.3.4\t",    "1 .2.3.4",   "1. 2.3.4",   "99999999999",
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        expect_pton4(bad[i], 0, 0, 0, 0, 0);
    }
}

/* ---- inet_pton: IPv6 ------------------------------------------------------ */

static void expect_pton6(const char *text, int ok, const char *canonical)
{
    uint8_t out[16], want[16];
    char *copy = exact_copy(text);

    memset(out, 0xaa, sizeof(out));
    int r = zsock_inet_pton(AF_INET6, copy, out);
    free(copy);
    if (r != ok) {
        fail_msg("inet_pton(AF_INET6, \"%s\") = %d, expected %d", text, r, ok);
    }
    if (ok) {
        assert_int_equal(inet_pton(AF_INET6, canonical, want), 1);
        assert_memory_equal(out, want, 16);
    } else {
        memset(want, 0xaa, sizeof(want));
        assert_memory_equal(out, want, 16);
    }
}

static void test_pton6_valid(void **state)
{
    (void)state;
    expect_pton6("::", 1, "0:0:0:0:0:0:0:0");
    expect_pton6("::1", 1, "0:0:0:0:0:0:0:1");
    expect_pton6("1::", 1, "1:0:0:0:0:0:0:0");
    expect_pton6("1:2:3:4:5:6:7:8", 1, "1:2:3:4:5:6:7:8");
    expect_pton6("1:2:3:4:5:6:7::", 1, "1:2:3:4:5:6:7:0");
    expect_pton6("::2:3:4:5:6:7:8", 1, "0:2:3:4:5:6:7:8");
    expect_pton6("1::8", 1, "1:0:0:0:0:0:0:8");
    expect_pton6("fe80::1", 1, "fe80:0:0:0:0:0:0:1");
    expect_pton6("FE80::ABCD:ef01", 1, "fe80:0:0:0:0:0:abcd:ef01");
    expect_pton6("0000:0000:0000:0000:0000:0000:0000:0001", 1, "::1");
    expect_pton6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1,
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    expect_pton6("::ffff:1.2.3.4", 1, "0:0:0:0:0:ffff:102:304");
    expect_pton6("::1.2.3.4", 1, "0:0:0:0:0:0:102:304");
    expect_pton6("1:2:3:4:5:6:1.2.3.4", 1, "1:2:3:4:5:6:102:304");
    expect_pton6("1::5:6:255.255.255.255", 1, "1:0:0:0:5:6:ffff:ffff");
    expect_pton6("1:2:3:4:5::1.2.3.4", 1, "1:2:3:4:5:0:102:304");
    expect_pton6("::0.0.0.0", 1, "::");
    expect_pton6("2001:db8:0:0:1:0:0:1", 1, "2001:db8::1:0:0:1");
    expect_pton6("0:0::0:0", 1, "::");
}

static void test_pton6_invalid(void **state)
{
    static const char *const bad[] = {
        "",
        ":",
        ":::",
        "::::",
        "1:::2",
        "1::2::3",
        "::1::",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1:2:3:4:5:6:7:8::",
        "::1:2:3:4:5:6:7:8",
        "1:2:3:4::5:6:7:8",
        "12345::",
        "::12345",
        "00000::1",
        "1:2:3:4:5:6:7:8:",
        ":1:2:3:4:5:6:7:8",
        "1:",
        ":1",
        "1::2:",
        "g::1",
        "::g",
        "1:2:3:4:5:6:7:8 ",
        " ::1",
        "::1 ",
        "::1%1",
        "[::1]",
        "::1/128",
        "1.2.3.4",
        "::1.2.3",
        "::1.2.3.4.5",
        "::1.2.3.256",
        "::01.2.3.4",
        "::1.2.3.4:5",
        "::1.2.3.4::",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5:6::1.2.3.4",
        "::ffff:1.2.3.4.",
        "::ffff:.1.2.3",
        "::a.b.c.d",
        "::1a.2.3.4",
        "::ffff:1.2.3.04",
        "-::1",
        "::-1",
        "0x1::",
        "1:2:3:4:5:6:7:8\n",
    };
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        expect_pton6(bad[i], 0, NULL);
    }
}

static void test_pton_errors(void **state)
{
    uint8_t out[16];
    (void)state;

    errno = 0;
    assert_int_equal(zsock_inet_pton(AF_UNIX, "1.2.3.4", out), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    errno = 0;
    assert_int_equal(zsock_inet_pton(AF_UNSPEC, "::1", out), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    errno = 0;
    assert_int_equal(zsock_inet_pton(AF_INET, NULL, out), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(zsock_inet_pton(AF_INET6, "::1", NULL), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(zsock_inet_pton(AF_INET6, NULL, out), -1);
    assert_int_equal(errno, EFAULT);
    /* An invalid string is not an error: 0, errno untouched. */
    errno = 1234;
    assert_int_equal(zsock_inet_pton(AF_INET, "x", out), 0);
    assert_int_equal(errno, 1234);
}

/* ---- inet_ntop ------------------------------------------------------------ */

static void expect_ntop6(const char *in, const char *want)
{
    uint8_t a[16];
    char out[INET6_ADDRSTRLEN];

    assert_int_equal(inet_pton(AF_INET6, in, a), 1);
    assert_ptr_equal(zsock_inet_ntop(AF_INET6, a, out, sizeof(out)), out);
    assert_string_equal(out, want);
}

static void test_ntop_forms(void **state)
{
    (void)state;
    expect_ntop6("0:0:0:0:0:0:0:0", "::");
    expect_ntop6("0:0:0:0:0:0:0:1", "::1");
    expect_ntop6("1:0:0:0:0:0:0:0", "1::");
    expect_ntop6("1:0:0:0:0:0:0:1", "1::1");
    expect_ntop6("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8");
    expect_ntop6("1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8");       /* one zero group stays */
    expect_ntop6("1:0:0:4:0:0:0:8", "1:0:0:4::8");            /* longest run */
    expect_ntop6("1:0:0:4:0:0:7:8", "1::4:0:0:7:8");          /* first of equal runs */
    expect_ntop6("0:0:3:4:5:6:0:0", "::3:4:5:6:0:0");         /* first of equal runs */
    expect_ntop6("1:2:3:4:5:6:0:0", "1:2:3:4:5:6::");         /* run at the end */
    expect_ntop6("ABCD:EF01:0:0:0:0:0:1", "abcd:ef01::1");    /* lowercase */
    expect_ntop6("0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"); /* mapped */
    expect_ntop6("0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0");
    expect_ntop6("0:0:0:0:0:ffff:0:1", "::ffff:0.0.0.1");
    expect_ntop6("0:0:0:0:0:0:102:304", "::1.2.3.4"); /* compatible */
    expect_ntop6("0:0:0:0:0:0:100:0", "::1.0.0.0");
    expect_ntop6("0:0:0:0:0:0:0:100", "::100"); /* run of 7: not dotted */
    expect_ntop6("0:0:0:0:0:fffe:102:304", "::fffe:102:304");
    expect_ntop6("0:0:0:0:1:ffff:102:304", "::1:ffff:102:304");
    expect_ntop6("1:0:0:0:0:ffff:102:304", "1::ffff:102:304");
    expect_ntop6("0:0:0:0:ffff:0:102:304", "::ffff:0:102:304");
    expect_ntop6("64:ff9b::102:304", "64:ff9b::102:304");
    expect_ntop6("fe80::1", "fe80::1");
    expect_ntop6("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1");

    uint8_t v4[4] = {192, 0, 2, 255};
    char out[INET_ADDRSTRLEN];
    assert_ptr_equal(zsock_inet_ntop(AF_INET, v4, out, sizeof(out)), out);
    assert_string_equal(out, "192.0.2.255");
    memset(v4, 0, sizeof(v4));
    assert_ptr_equal(zsock_inet_ntop(AF_INET, v4, out, sizeof(out)), out);
    assert_string_equal(out, "0.0.0.0");
}

/* Every size below the needed one fails with ENOSPC and leaves the buffer
 * untouched; the exact size succeeds. */
static void check_ntop_sizes(sa_family_t family, const void *src, const char *want)
{
    size_t need = strlen(want) + 1;
    char buf[64];

    for (size_t size = 0; size < need; size++) {
        memset(buf, '#', sizeof(buf));
        errno = 0;
        assert_null(zsock_inet_ntop(family, src, buf, size));
        assert_int_equal(errno, ENOSPC);
        for (size_t i = 0; i < sizeof(buf); i++) {
            assert_int_equal(buf[i], '#');
        }
    }
    memset(buf, '#', sizeof(buf));
    assert_ptr_equal(zsock_inet_ntop(family, src, buf, need), buf);
    assert_string_equal(buf, want);
    for (size_t i = need; i < sizeof(buf); i++) {
        assert_int_equal(buf[i], '#');
    }
}

static void test_ntop_errors(void **state)
{
    uint8_t a[16];
    char out[INET6_ADDRSTRLEN];
    (void)state;

    assert_int_equal(inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", a), 1);
    check_ntop_sizes(AF_INET6, a, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_int_equal(inet_pton(AF_INET6, "::ffff:255.255.255.255", a), 1);
    check_ntop_sizes(AF_INET6, a, "::ffff:255.255.255.255");
    assert_int_equal(inet_pton(AF_INET6, "::", a), 1);
    check_ntop_sizes(AF_INET6, a, "::");
    assert_int_equal(inet_pton(AF_INET, "255.255.255.255", a), 1);
    check_ntop_sizes(AF_INET, a, "255.255.255.255");
    assert_int_equal(inet_pton(AF_INET, "0.0.0.0", a), 1);
    check_ntop_sizes(AF_INET, a, "0.0.0.0");

    errno = 0;
    assert_null(zsock_inet_ntop(AF_UNIX, a, out, sizeof(out)));
    assert_int_equal(errno, EAFNOSUPPORT);
    errno = 0;
    assert_null(zsock_inet_ntop(AF_INET, NULL, out, sizeof(out)));
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_null(zsock_inet_ntop(AF_INET6, a, NULL, sizeof(out)));
    assert_int_equal(errno, EFAULT);
}

/* ---- Differential: random addresses through both libraries ------------------ */

static uint16_t random_group(void)
{
    static const uint16_t special[] = {0, 1, 0xffff, 0x100, 0xfe80, 0x2001, 0xdb8, 0xa};
    switch (rng_below(4)) {
    case 0:
        return special[rng_below(ARRAY_SIZE(special))];
    case 1:
        return (uint16_t)rng_below(16);
    default:
        return (uint16_t)rng_next();
    }
}

/* Addresses shaped to hit every branch of the printer: runs of zero groups
 * of every length and position, ties, mapped and compatible forms. */
static void random_ipv6(uint8_t a[16])
{
    uint16_t g[8];

    switch (rng_below(8)) {
    case 0:
        for (int i = 0; i < 8; i++) {
            g[i] = (uint16_t)rng_next();
        }
        break;
    case 1:
        for (int i = 0; i < 8; i++) {
            g[i] = rng_below(2) ? 0 : random_group();
        }
        break;
    case 2:
        for (int i = 0; i < 8; i++) {
            g[i] = rng_below(4) ? 0 : random_group();
        }
        break;
    case 3: /* IPv4-mapped, sometimes with zero octets */
    case 4: /* IPv4-compatible */
        memset(g, 0, sizeof(g));
        g[5] = rng_below(3) == 0 ? 0 : 0xffff;
        g[6] = rng_below(3) == 0 ? 0 : random_group();
        g[7] = rng_below(3) == 0 ? 0 : random_group();
        if (rng_below(4) == 0) {
            g[rng_below(5)] = random_group();
        }
        break;
    case 5: { /* one or two explicit runs */
        for (int i = 0; i < 8; i++) {
            g[i] = (uint16_t)(1 + rng_below(0xffff));
        }
        int runs = 1 + (int)rng_below(2);
        for (int r = 0; r < runs; r++) {
            int start = (int)rng_below(8);
            int len = 1 + (int)rng_below(8 - (uint32_t)start);
            for (int i = start; i < start + len; i++) {
                g[i] = 0;
            }
        }
        break;
    }
    default:
        for (int i = 0; i < 8; i++) {
            g[i] = random_group();
        }
        break;
    }
    for (int i = 0; i < 8; i++) {
        a[2 * i] = (uint8_t)(g[i] >> 8);
        a[2 * i + 1] = (uint8_t)g[i];
    }
}

#define NTOP_ROUNDS 200000

static void test_ntop_differential(void **state)
{
    unsigned long v6_count = 0, v4_count = 0, dotted = 0, compressed = 0;
    (void)state;

    rng_seed(0x5eed0001);
    for (int n = 0; n < NTOP_ROUNDS; n++) {
        uint8_t a[16], back[16], back_libc[16];
        char ours[INET6_ADDRSTRLEN], theirs[INET6_ADDRSTRLEN];
        sa_family_t family = rng_below(5) == 0 ? AF_INET : AF_INET6;
        size_t len = family == AF_INET ? 4 : 16;

        if (family == AF_INET) {
            uint32_t v = (uint32_t)rng_next();
            if (rng_below(2)) {
                v &= rng_below(2) ? 0xff00ff00u : 0x00ff00ffu;
            }
            memcpy(a, &v, 4);
            v4_count++;
        } else {
            random_ipv6(a);
            v6_count++;
        }
        assert_non_null(inet_ntop(family, a, theirs, sizeof(theirs)));
        assert_ptr_equal(zsock_inet_ntop(family, a, ours, sizeof(ours)), ours);
        if (strcmp(ours, theirs) != 0) {
            fail_msg("round %d: zsock printed \"%s\", glibc \"%s\"", n, ours, theirs);
        }
        if (strchr(ours, '.') != NULL && family == AF_INET6) {
            dotted++;
        }
        if (strstr(ours, "::") != NULL) {
            compressed++;
        }
        char *copy = exact_copy(ours);
        assert_int_equal(zsock_inet_pton(family, copy, back), 1);
        assert_int_equal(inet_pton(family, copy, back_libc), 1);
        free(copy);
        assert_memory_equal(back, a, len);
        assert_memory_equal(back_libc, a, len);
    }
    /* The generator must really reach the interesting forms. */
    assert_true(v4_count > NTOP_ROUNDS / 10);
    assert_true(dotted > NTOP_ROUNDS / 20);
    assert_true(compressed > NTOP_ROUNDS / 4);
    assert_true(v6_count - compressed > NTOP_ROUNDS / 20);
}

/* ---- Differential: valid and mutated strings through both parsers ---------- */

/* Another text form of an IPv6 address: not compressed, leading zeros,
 * uppercase, a non-longest run compressed, or a dotted tail. */
static void alternate_ipv6_text(const uint8_t a[16], char *out, size_t size)
{
    unsigned int g[8];
    int style = (int)rng_below(5);
    size_t n = 0;

    for (int i = 0; i < 8; i++) {
        g[i] = ((unsigned int)a[2 * i] << 8) | a[2 * i + 1];
    }
    if (style == 4) {
        for (int i = 0; i < 6; i++) {
            n += (size_t)snprintf(out + n, size - n, "%x:", g[i]);
        }
        snprintf(out + n, size - n, "%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        return;
    }
    int gap_start = -1, gap_len = 0;
    if (style == 3) {
        gap_start = (int)rng_below(8);
        while (gap_start + gap_len < 8 && g[gap_start + gap_len] == 0) {
            gap_len++;
        }
        if (gap_len == 0) {
            gap_start = -1;
        }
    }
    for (int i = 0; i < 8; i++) {
        if (i == gap_start) {
            n += (size_t)snprintf(out + n, size - n, "::");
            i += gap_len - 1;
            continue;
        }
        const char *sep = (i > 0 && i != gap_start + gap_len) ? ":" : "";
        const char *fmt = style == 0 ? "%s%04x" : style == 1 ? "%s%X" : "%s%x";
        n += (size_t)snprintf(out + n, size - n, fmt, sep, g[i]);
    }
}

static void mutate(char *s, size_t size)
{
    static const char alphabet[] = ":.0123456789abcdefABCDEFgG%[]- x\t/";
    size_t len = strlen(s);
    int count = 1 + (int)rng_below(3);

    for (int m = 0; m < count; m++) {
        size_t pos = len > 0 ? rng_below((uint32_t)len + 1) : 0;
        switch (rng_below(6)) {
        case 0: /* insert */
        case 1:
            if (len + 2 < size) {
                memmove(s + pos + 1, s + pos, len - pos + 1);
                s[pos] = rng_below(3) == 0 ? ':' : alphabet[rng_below(sizeof(alphabet) - 1)];
                len++;
            }
            break;
        case 2: /* delete */
            if (pos < len) {
                memmove(s + pos, s + pos + 1, len - pos);
                len--;
            }
            break;
        case 3: /* replace */
            if (pos < len) {
                s[pos] = alphabet[rng_below(sizeof(alphabet) - 1)];
            }
            break;
        case 4: /* duplicate */
            if (pos < len && len + 2 < size) {
                memmove(s + pos + 1, s + pos, len - pos + 1);
                len++;
            }
            break;
        default: /* truncate */
            s[pos] = '\0';
            len = pos;
            break;
        }
    }
}

struct pton_stats {
    unsigned long valid, invalid;
};

static void compare_pton(sa_family_t family, const char *text, struct pton_stats *st)
{
    uint8_t ours[16], theirs[16];
    char *copy = exact_copy(text);

    memset(ours, 0x55, sizeof(ours));
    memset(theirs, 0x55, sizeof(theirs));
    int r1 = zsock_inet_pton(family, copy, ours);
    int r2 = inet_pton(family, copy, theirs);
    free(copy);
    if (r1 != r2) {
        fail_msg("inet_pton(%s, \"%s\"): zsock %d, glibc %d",
                 family == AF_INET ? "AF_INET" : "AF_INET6", text, r1, r2);
    }
    if (r1 == 1) {
        assert_memory_equal(ours, theirs, family == AF_INET ? 4 : 16);
        st->valid++;
    } else {
        st->invalid++;
    }
}

#define PTON_MUTATIONS 40000

static void test_pton_differential_mutations(void **state)
{
    struct pton_stats st6 = {0, 0}, st4 = {0, 0};
    (void)state;

    rng_seed(0x5eed0002);
    for (int n = 0; n < PTON_MUTATIONS; n++) {
        uint8_t a[16];
        char text[128];

        random_ipv6(a);
        if (rng_below(2)) {
            inet_ntop(AF_INET6, a, text, sizeof(text));
        } else {
            alternate_ipv6_text(a, text, sizeof(text));
        }
        compare_pton(AF_INET6, text, &st6);
        mutate(text, sizeof(text));
        compare_pton(AF_INET6, text, &st6);
        compare_pton(AF_INET, text, &st4);

        uint8_t *b = a;
        switch (rng_below(3)) {
        case 0:
            snprintf(text, sizeof(text), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
            break;
        case 1:
            snprintf(text, sizeof(text), "%u.%u.%u.%u", b[0] % 10, b[1] % 100, b[2], b[3] % 3);
            break;
        default:
            snprintf(text, sizeof(text), "%03u.%u.%02u.%u", b[0], b[1], b[2] % 30, b[3]);
            break;
        }
        compare_pton(AF_INET, text, &st4);
        mutate(text, sizeof(text));
        compare_pton(AF_INET, text, &st4);
        compare_pton(AF_INET6, text, &st6);
    }
    /* Both outcomes must be well represented for the comparison to mean
     * anything. */
    assert_true(st6.valid > PTON_MUTATIONS / 2);
    assert_true(st6.invalid > PTON_MUTATIONS / 2);
    assert_true(st4.valid > PTON_MUTATIONS / 4);
    assert_true(st4.invalid > PTON_MUTATIONS / 2);
}

/* Every short string over the characters that matter to the grammar. */
static void exhaustive(sa_family_t family, const char *alphabet, int max_len, struct pton_stats *st)
{
    size_t k = strlen(alphabet);
    char text[16];
    int idx[16];

    for (int len = 0; len <= max_len; len++) {
        for (int i = 0; i < len; i++) {
            idx[i] = 0;
        }
        for (;;) {
            for (int i = 0; i < len; i++) {
                text[i] = alphabet[idx[i]];
            }
            text[len] = '\0';
            compare_pton(family, text, st);
            int i = len - 1;
            while (i >= 0 && ++idx[i] == (int)k) {
                idx[i--] = 0;
            }
            if (i < 0) {
                break;
            }
        }
    }
}

static void test_pton_differential_exhaustive(void **state)
{
    struct pton_stats st = {0, 0};
    (void)state;

    exhaustive(AF_INET6, ":.0f1g", 6, &st);
    exhaustive(AF_INET6, ":1.", 9, &st);
    exhaustive(AF_INET, ".0125", 7, &st);
    exhaustive(AF_INET, ".09a", 8, &st);
    assert_true(st.valid > 100);
    assert_true(st.invalid > 100000);
}

static void test_pton_differential_list(void **state)
{
    /* Strings near the edges of the grammar, checked against glibc rather
     * than by hand. */
    static const char *const list[] = {
        "::",
        "::1",
        ":::",
        "1::",
        "1:::",
        "::1:",
        ":1::",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8::",
        "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7",
        "1::2:3:4:5:6:7",
        "1::2:3:4:5:6:7:8",
        "ffff::ffff:1.2.3.4",
        "::1.2.3.4",
        "::ffff:1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:7:1.2.3.4",
        "1:2:3:4:5::1.2.3.4",
        "1:2:3:4:5:6::1.2.3.4",
        "::1.2.3.4:1",
        "1.2.3.4::",
        "::00.1.2.3",
        "::0.01.2.3",
        "::255.255.255.255",
        "::256.255.255.255",
        "::ffff:0.0.0.0",
        "00000::",
        "0000::",
        "fffff::",
        "ABCD::EF",
        "aBcD::eF01",
        "::G",
        "1:2:3:4:5:6:7:8%",
        "fe80::1%eth0",
        "[::1]",
        "::1 ",
        "0.0.0.0",
        "255.255.255.255",
        "256.0.0.0",
        "1.2.3.4.",
        "01.1.1.1",
        "0.0.0.00",
        "1.1.1.1.1",
        "1.1.1",
        "",
        ".",
        "...",
        "1...1",
        "0x1.1.1.1",
    };
    struct pton_stats st = {0, 0};
    (void)state;

    for (size_t i = 0; i < ARRAY_SIZE(list); i++) {
        compare_pton(AF_INET6, list[i], &st);
        compare_pton(AF_INET, list[i], &st);
    }
}

/* ---- Host name ------------------------------------------------------------ */

static int restore_hostname(void **state)
{
    (void)state;
    assert_int_equal(zsock_sethostname(CONFIG_NET_HOSTNAME, strlen(CONFIG_NET_HOSTNAME)), 0);
    return 0;
}

static void test_gethostname(void **state)
{
    char buf[CONFIG_NET_HOSTNAME_MAX_LEN + 1];
    size_t need = strlen(CONFIG_NET_HOSTNAME) + 1;
    (void)state;

    assert_int_equal(zsock_gethostname(buf, sizeof(buf)), 0);
    assert_string_equal(buf, CONFIG_NET_HOSTNAME);

    /* Exactly enough room, and one byte less. */
    memset(buf, '#', sizeof(buf));
    assert_int_equal(zsock_gethostname(buf, need), 0);
    assert_string_equal(buf, CONFIG_NET_HOSTNAME);
    memset(buf, '#', sizeof(buf));
    errno = 0;
    assert_int_equal(zsock_gethostname(buf, need - 1), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_int_equal(buf[0], '#');
    errno = 0;
    assert_int_equal(zsock_gethostname(buf, 0), -1);
    assert_int_equal(errno, ENAMETOOLONG);

    errno = 0;
    assert_int_equal(zsock_gethostname(NULL, 10), -1);
    assert_int_equal(errno, EFAULT);
}

static void expect_hostname(const char *want)
{
    char buf[CONFIG_NET_HOSTNAME_MAX_LEN + 1];
    assert_int_equal(zsock_gethostname(buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void test_sethostname(void **state)
{
    char name[CONFIG_NET_HOSTNAME_MAX_LEN + 2];
    (void)state;

    assert_int_equal(zsock_sethostname("board-7.example", 15), 0);
    expect_hostname("board-7.example");

    /* Only len bytes count: no NUL needed. */
    assert_int_equal(zsock_sethostname("abcdef", 3), 0);
    expect_hostname("abc");
    assert_int_equal(zsock_sethostname("X", 1), 0);
    expect_hostname("X");

    /* The longest allowed name, then one more character. */
    memset(name, 'a', sizeof(name));
    assert_int_equal(zsock_sethostname(name, CONFIG_NET_HOSTNAME_MAX_LEN), 0);
    name[CONFIG_NET_HOSTNAME_MAX_LEN] = '\0';
    expect_hostname(name);
    errno = 0;
    assert_int_equal(zsock_sethostname(name, CONFIG_NET_HOSTNAME_MAX_LEN + 1), -1);
    assert_int_equal(errno, EINVAL);
    expect_hostname(name);

    /* A name that does not fit the caller's buffer. */
    char small[8];
    errno = 0;
    assert_int_equal(zsock_gethostname(small, sizeof(small)), -1);
    assert_int_equal(errno, ENAMETOOLONG);

    static const char *const bad[] = {"a b", "a_b", "a\tb", "a/b", "é", "a\nb", "a:b", "a@b", "a*"};
    assert_int_equal(zsock_sethostname("good", 4), 0);
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        errno = 0;
        assert_int_equal(zsock_sethostname(bad[i], strlen(bad[i])), -1);
        assert_int_equal(errno, EINVAL);
        expect_hostname("good");
    }
    /* An embedded or counted NUL is a character outside the set. */
    errno = 0;
    assert_int_equal(zsock_sethostname("ab\0cd", 5), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(zsock_sethostname("abc", 4), -1);
    assert_int_equal(errno, EINVAL);

    errno = 0;
    assert_int_equal(zsock_sethostname("", 0), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(zsock_sethostname(NULL, 3), -1);
    assert_int_equal(errno, EFAULT);
    errno = 0;
    assert_int_equal(zsock_sethostname(NULL, 0), -1);
    assert_int_equal(errno, EFAULT);
    /* A huge length is refused before anything is read. */
    errno = 0;
    assert_int_equal(zsock_sethostname("x", SIZE_MAX), -1);
    assert_int_equal(errno, EINVAL);
    expect_hostname("good");

    /* Every accepted character class. */
    assert_int_equal(zsock_sethostname("AZaz09-.", 8), 0);
    expect_hostname("AZaz09-.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pton4_valid),
        cmocka_unit_test(test_pton4_invalid),
        cmocka_unit_test(test_pton6_valid),
        cmocka_unit_test(test_pton6_invalid),
        cmocka_unit_test(test_pton_errors),
        cmocka_unit_test(test_ntop_forms),
        cmocka_unit_test(test_ntop_errors),
        cmocka_unit_test(test_ntop_differential),
        cmocka_unit_test(test_pton_differential_mutations),
        cmocka_unit_test(test_pton_differential_exhaustive),
        cmocka_unit_test(test_pton_differential_list),
        cmocka_unit_test_teardown(test_gethostname, restore_hostname),
        cmocka_unit_test_teardown(test_sethostname, restore_hostname),
    };

    return cmocka_run_group_tests_name("inet_addr", tests, NULL, NULL);
}
