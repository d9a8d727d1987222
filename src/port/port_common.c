/* Port layer functions that need nothing of the OS beyond z_now_us() and,
 * on a hosted port, stderr: deadlines, z_snprintf() and z_diag(). The same
 * for every port. */
#include "port/port.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#if !defined(ZSOCK_PORT_NONE)
#include <stdio.h>
#endif

#if UINTPTR_MAX <= 0xffffffffu
uint64_t z_udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32);
    uint32_t lo = (uint32_t)n;
    /* The high word by one division, then the low word bit by bit (rare
     * calls, so size over speed). */
    uint32_t qhi = hi / d;
    uint32_t r = hi % d;
    uint32_t qlo = 0;
    for (int i = 31; i >= 0; i--) {
        uint32_t carry = r >> 31; /* r << 1 would lose it: then r surely exceeds d */
        r = (r << 1) | ((lo >> i) & 1u);
        qlo <<= 1;
        if (carry != 0 || r >= d) {
            r -= d;
            qlo |= 1u;
        }
    }
    if (rem != NULL) {
        *rem = r;
    }
    return ((uint64_t)qhi << 32) | qlo;
}
#endif

int64_t z_deadline_after_us(int64_t us)
{
    if (us < 0) {
        return Z_FOREVER;
    }
    int64_t now = z_now_us();
    if (us > Z_FOREVER - now) {
        return Z_FOREVER;
    }
    return now + us;
}

/* Appends one character to the output, counting those that do not fit. */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void put_str(struct out *o, const char *s)
{
    while (*s != '\0') {
        put(o, *s++);
    }
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool negative)
{
    char digits[24];
    int n = 0;
    do {
        uint32_t digit;
        v = z_udiv64(v, base, &digit);
        digits[n++] = "0123456789abcdef"[digit];
    } while (v != 0);
    if (negative) {
        put(o, '-');
    }
    while (n > 0) {
        put(o, digits[--n]);
    }
}

static int format(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = {buf, size, 0};
    for (const char *f = fmt; *f != '\0'; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        f++;
        int longs = 0;
        bool size_t_arg = false;
        for (; *f == 'l' || *f == 'z'; f++) {
            if (*f == 'z') {
                size_t_arg = true;
            } else {
                longs++;
            }
        }
        switch (*f) {
        case '%':
            put(&o, '%');
            break;
        case 'c':
            put(&o, (char)va_arg(ap, int));
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            put_str(&o, s != NULL ? s : "(null)");
            break;
        }
        case 'd':
        case 'i': {
            long long v = size_t_arg   ? (long long)va_arg(ap, ptrdiff_t)
                          : longs >= 2 ? va_arg(ap, long long)
                          : longs == 1 ? va_arg(ap, long)
                                       : va_arg(ap, int);
            /* The magnitude as unsigned, so LLONG_MIN does not overflow. */
            put_num(&o, v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v, 10, v < 0);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = size_t_arg   ? va_arg(ap, size_t)
                                   : longs >= 2 ? va_arg(ap, unsigned long long)
                                   : longs == 1 ? va_arg(ap, unsigned long)
                                                : va_arg(ap, unsigned int);
            put_num(&o, v, *f == 'x' ? 16 : 10, false);
            break;
        }
        case '\0':
            f--; /* a lone % at the end: stop at the NUL */
            break;
        default: /* not in the subset: shown as is, so the mistake is visible */
            put(&o, '%');
            put(&o, *f);
            break;
        }
    }
    if (size > 0) {
        buf[o.len < size ? o.len : size - 1] = '\0';
    }
    return o.len > INT_MAX ? INT_MAX : (int)o.len;
}

int z_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = format(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void z_diag(const char *fmt, ...)
{
#if defined(ZSOCK_PORT_NONE)
    (void)fmt; /* no stdio, and newlib's would link its malloc */
#else
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    format(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
#endif
}

void z_strlcpy(char *dst, const char *src, size_t size)
{
    size_t n = strlen(src);
    if (n >= size) {
        n = size - 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}
