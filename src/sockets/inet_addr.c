/* Text <-> binary conversion of IPv4 and IPv6 addresses (inet_pton/inet_ntop).
 * Accepts exactly the strings glibc's inet_pton accepts and prints exactly
 * what glibc's inet_ntop prints, so programs see no difference. */
#include <zsock/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Room for any text this file prints (40 bytes at most); the same size as
 * INET6_ADDRSTRLEN, which callers use for their buffers. */
#define IPV6_TEXT_MAX 46

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Strict dotted quad filling all of src: four parts of 1-3 digits, each at
 * most 255, and no leading zero (which other parsers read as octal). */
static bool parse_ipv4(const char *src, uint8_t out[4])
{
    const char *p = src;

    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (*p != '.') {
                return false;
            }
            p++;
        }
        if (*p < '0' || *p > '9') {
            return false;
        }
        unsigned int value = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9') {
            if (p > start && value == 0) {
                return false;
            }
            value = value * 10 + (unsigned int)(*p - '0');
            if (value > 255) {
                return false;
            }
            p++;
        }
        out[part] = (uint8_t)value;
    }
    return *p == '\0';
}

/* RFC 4291 section 2.2 text forms, with glibc's limits: a group has 1-4 hex
 * digits, at most one "::" which must stand for at least one zero group, and
 * a dotted quad only as the final 32 bits. */
static bool parse_ipv6(const char *src, uint8_t out[16])
{
    uint16_t groups[8];
    int count = 0;
    int gap = -1; /* index of the group the "::" stands before */
    const char *p = src;

    if (p[0] == ':') {
        if (p[1] != ':') {
            return false;
        }
        gap = 0;
        p += 2;
        if (*p == '\0') {
            goto expand;
        }
    }

    for (;;) {
        const char *token = p;
        unsigned int value = 0;
        int digits = 0;
        int v;

        while ((v = hex_value(*p)) >= 0) {
            if (++digits > 4) {
                return false;
            }
            value = (value << 4) | (unsigned int)v;
            p++;
        }
        if (*p == '.') {
            uint8_t v4[4];

            if (digits == 0 || count > 6 || !parse_ipv4(token, v4)) {
                return false;
            }
            groups[count++] = (uint16_t)((v4[0] << 8) | v4[1]);
            groups[count++] = (uint16_t)((v4[2] << 8) | v4[3]);
            break;
        }
        if (digits == 0 || count == 8) {
            return false;
        }
        groups[count++] = (uint16_t)value;
        if (*p == '\0') {
            break;
        }
        if (*p != ':') {
            return false;
        }
        p++;
        if (*p == ':') {
            if (gap >= 0) {
                return false;
            }
            gap = count;
            p++;
            if (*p == '\0') {
                break;
            }
        }
    }

expand:
    if (gap >= 0) {
        if (count == 8) {
            return false;
        }
        int zeros = 8 - count;
        memmove(&groups[gap + zeros], &groups[gap], (size_t)(count - gap) * sizeof(groups[0]));
        for (int i = 0; i < zeros; i++) {
            groups[gap + i] = 0;
        }
    } else if (count != 8) {
        return false;
    }

    for (int i = 0; i < 8; i++) {
        out[2 * i] = (uint8_t)(groups[i] >> 8);
        out[2 * i + 1] = (uint8_t)(groups[i] & 0xff);
    }
    return true;
}

/* NULL src or dst gives -1 with EFAULT: the specification promises that bad
 * pointers which can be detected never crash the stack. */
int zsock_inet_pton(sa_family_t family, const char *src, void *dst)
{
    uint8_t buf[16];
    size_t len;
    bool ok;

    if (family == AF_INET) {
        len = 4;
    } else if (family == AF_INET6) {
        len = 16;
    } else {
        errno = EAFNOSUPPORT;
        return -1;
    }
    if (src == NULL || dst == NULL) {
        errno = EFAULT;
        return -1;
    }

    ok = family == AF_INET ? parse_ipv4(src, buf) : parse_ipv6(src, buf);
    if (!ok) {
        return 0;
    }
    /* dst is only written on success, as glibc does. */
    memcpy(dst, buf, len);
    return 1;
}

static char *put_decimal(char *p, unsigned int v)
{
    if (v >= 100) {
        *p++ = (char)('0' + v / 100);
    }
    if (v >= 10) {
        *p++ = (char)('0' + v / 10 % 10);
    }
    *p++ = (char)('0' + v % 10);
    return p;
}

static char *put_hex(char *p, unsigned int v)
{
    static const char digits[] = "0123456789abcdef";
    bool started = false;

    for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned int d = (v >> shift) & 0xf;
        if (d != 0 || started || shift == 0) {
            *p++ = digits[d];
            started = true;
        }
    }
    return p;
}

static char *format_ipv4(char *p, const uint8_t a[4])
{
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            *p++ = '.';
        }
        p = put_decimal(p, a[i]);
    }
    *p = '\0';
    return p;
}

static void format_ipv6(char *out, const uint8_t a[16])
{
    unsigned int groups[8];
    int best = -1, best_len = 0;
    int run = -1, run_len = 0;
    char *p = out;

    for (int i = 0; i < 8; i++) {
        groups[i] = ((unsigned int)a[2 * i] << 8) | a[2 * i + 1];
    }

    /* The longest run of zero groups becomes "::"; on a tie the first run
     * wins, and a lone zero group is never compressed (RFC 5952 4.2). */
    for (int i = 0; i <= 8; i++) {
        if (i < 8 && groups[i] == 0) {
            if (run < 0) {
                run = i;
                run_len = 0;
            }
            run_len++;
        } else if (run >= 0) {
            if (run_len > best_len) {
                best = run;
                best_len = run_len;
            }
            run = -1;
        }
    }
    if (best_len < 2) {
        best = -1;
        best_len = 0;
    }

    /* glibc prints the IPv4-compatible (::a.b.c.d) and IPv4-mapped
     * (::ffff:a.b.c.d) forms with a dotted quad; it recognises them by the
     * shape of the compressed run alone. */
    if (best == 0 && (best_len == 6 || (best_len == 5 && groups[5] == 0xffff))) {
        memcpy(p, "::", 2);
        p += 2;
        if (best_len == 5) {
            memcpy(p, "ffff:", 5);
            p += 5;
        }
        format_ipv4(p, &a[12]);
        return;
    }

    for (int i = 0; i < 8; i++) {
        if (i == best) {
            *p++ = ':';
            *p++ = ':';
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len) {
            *p++ = ':';
        }
        p = put_hex(p, groups[i]);
    }
    *p = '\0';
}

/* NULL src or dst gives NULL with EFAULT, as in zsock_inet_pton(). */
char *zsock_inet_ntop(sa_family_t family, const void *src, char *dst, size_t size)
{
    char text[IPV6_TEXT_MAX];
    size_t len;

    if (family != AF_INET && family != AF_INET6) {
        errno = EAFNOSUPPORT;
        return NULL;
    }
    if (src == NULL || dst == NULL) {
        errno = EFAULT;
        return NULL;
    }

    if (family == AF_INET) {
        format_ipv4(text, src);
    } else {
        format_ipv6(text, src);
    }
    len = strlen(text);
    /* Nothing is written unless the whole text fits. */
    if (len >= size) {
        errno = ENOSPC;
        return NULL;
    }
    memcpy(dst, text, len + 1);
    return dst;
}
