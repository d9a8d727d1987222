/* DNS messages (RFC 1035, RFC 3596, RFC 6891): names in wire and text form,
 * the header, questions and resource records, a query builder and a simple
 * answer builder. Every read is checked against the message length first;
 * compression pointers may only point backwards, so decoding a name always
 * ends. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire/dns.h"
#include "wire/wire.h"

#define PTR_MASK 0xc0 /* label length byte: 11 = pointer, 00 = label */

/* Pointer hops allowed in one name. A name has at most 127 labels, and a
 * sane compressor never chains pointers without a label in between, so this
 * only stops a pointer chain built to make every name of a big message cost
 * a walk through the whole message. */
#define MAX_HOPS 128

int z_dns_hdr_parse(const uint8_t *msg, size_t len, struct z_dns_hdr *h)
{
    if (msg == NULL || len < Z_DNS_HDR_LEN) {
        return -EBADMSG;
    }
    h->id = z_get_be16(msg);
    h->flags = z_get_be16(msg + 2);
    h->qdcount = z_get_be16(msg + 4);
    h->ancount = z_get_be16(msg + 6);
    h->nscount = z_get_be16(msg + 8);
    h->arcount = z_get_be16(msg + 10);
    return 0;
}

/* ---- names ------------------------------------------------------------------ */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Append one label byte to text t (room for Z_DNS_NAME_TEXT_MAX + 1) at n,
 * escaped as the header describes. Returns the new length, which may exceed
 * Z_DNS_NAME_TEXT_MAX: then nothing past the limit was written. */
static size_t text_put(char *t, size_t n, uint8_t c)
{
    char e[4];
    size_t k = 1;
    if (c == '.' || c == '\\' || c < 0x21 || c > 0x7e) {
        e[0] = '\\';
        e[1] = (char)('0' + c / 100);
        e[2] = (char)('0' + c / 10 % 10);
        e[3] = (char)('0' + c % 10);
        k = 4;
    } else {
        e[0] = (char)c;
    }
    for (size_t i = 0; i < k; i++) {
        if (n + i < Z_DNS_NAME_TEXT_MAX) {
            t[n + i] = e[i];
        }
    }
    return n + k;
}

int z_dns_name_decode(const uint8_t *msg, size_t len, size_t *off, char *out, size_t cap)
{
    if (msg == NULL || off == NULL || *off >= len) {
        return -EBADMSG;
    }
    char text[Z_DNS_NAME_TEXT_MAX + 1];
    size_t pos = *off;
    size_t seq = *off; /* start of the label sequence being read */
    size_t end = 0;    /* where the name ends in place, once known */
    size_t wire = 0;
    size_t n = 0;
    int hops = 0;

    for (;;) {
        if (pos >= len) {
            return -EBADMSG;
        }
        uint8_t l = msg[pos];
        if ((l & PTR_MASK) == PTR_MASK) {
            if (len - pos < 2 || ++hops > MAX_HOPS) {
                return -EBADMSG;
            }
            size_t target = ((size_t)(l & 0x3f) << 8) | msg[pos + 1];
            /* Strictly before this sequence: targets decrease, no loop. */
            if (target >= seq) {
                return -EBADMSG;
            }
            if (hops == 1) {
                end = pos + 2;
            }
            pos = seq = target;
            continue;
        }
        if (l & PTR_MASK) {
            return -EBADMSG; /* 01 (extended, retired by RFC 6891) and 10 (reserved) */
        }
        wire += 1u + l;
        if (wire > Z_DNS_NAME_WIRE_MAX) {
            return -EBADMSG;
        }
        if (l == 0) {
            pos++;
            break;
        }
        if (len - pos - 1 < l) {
            return -EBADMSG;
        }
        if (n > 0) {
            if (n < Z_DNS_NAME_TEXT_MAX) {
                text[n] = '.'; /* the separator, not escaped */
            }
            n++;
        }
        for (size_t i = 0; i < l; i++) {
            n = text_put(text, n, msg[pos + 1 + i]);
        }
        if (n > Z_DNS_NAME_TEXT_MAX) {
            return -EBADMSG;
        }
        pos += 1u + l;
    }
    if (hops == 0) {
        end = pos;
    }
    if (out == NULL || cap < n + 1) {
        return -ENOSPC;
    }
    memcpy(out, text, n);
    out[n] = '\0';
    *off = end;
    return 0;
}

int z_dns_name_encode(uint8_t *buf, size_t cap, const char *name)
{
    if (name == NULL) {
        return -EINVAL;
    }
    uint8_t w[Z_DNS_NAME_WIRE_MAX];
    size_t wl = 0;
    const char *p = name;
    if (p[0] == '.' && p[1] == '\0') {
        p++; /* "." is the root, as "" */
    }
    while (*p != '\0') {
        /* One label: its length byte at lp, filled in at the end. */
        size_t lp = wl;
        size_t ll = 0;
        if (wl >= Z_DNS_NAME_WIRE_MAX) {
            return -EINVAL;
        }
        wl++;
        while (*p != '\0' && *p != '.') {
            uint8_t c;
            if (*p == '\\') {
                p++;
                if (is_digit(p[0])) {
                    if (!is_digit(p[1]) || !is_digit(p[2])) {
                        return -EINVAL;
                    }
                    int v = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
                    if (v > 255) {
                        return -EINVAL;
                    }
                    c = (uint8_t)v;
                    p += 3;
                } else if (*p == '\0') {
                    return -EINVAL;
                } else {
                    c = (uint8_t)*p++;
                }
            } else {
                c = (uint8_t)*p++;
            }
            if (ll == Z_DNS_LABEL_MAX || wl >= Z_DNS_NAME_WIRE_MAX) {
                return -EINVAL;
            }
            w[wl++] = c;
            ll++;
        }
        if (ll == 0) {
            return -EINVAL; /* a leading dot or ".." */
        }
        w[lp] = (uint8_t)ll;
        if (*p == '.') {
            p++; /* a separator, or the optional trailing dot */
        }
    }
    if (wl >= Z_DNS_NAME_WIRE_MAX) {
        return -EINVAL;
    }
    w[wl++] = 0;
    if (buf == NULL || cap < wl) {
        return -ENOSPC;
    }
    memcpy(buf, w, wl);
    return (int)wl;
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Length of a text name without its trailing dot, unless that dot is
 * escaped ("a\." ends with a label byte, not a separator). */
static size_t len_without_dot(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || s[n - 1] != '.') {
        return n;
    }
    size_t bs = 0;
    while (bs < n - 1 && s[n - 2 - bs] == '\\') {
        bs++;
    }
    return bs % 2 == 0 ? n - 1 : n;
}

bool z_dns_name_equal(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return false;
    }
    size_t na = len_without_dot(a);
    if (na != len_without_dot(b)) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

/* ---- questions and records ------------------------------------------------- */

int z_dns_question_parse(const uint8_t *msg, size_t len, size_t *off, char *name, size_t cap,
                         uint16_t *qtype, uint16_t *qclass)
{
    if (off == NULL) {
        return -EBADMSG;
    }
    size_t pos = *off;
    int rc = z_dns_name_decode(msg, len, &pos, name, cap);
    if (rc < 0) {
        return rc;
    }
    if (len - pos < 4) {
        return -EBADMSG;
    }
    if (qtype != NULL) {
        *qtype = z_get_be16(msg + pos);
    }
    if (qclass != NULL) {
        *qclass = z_get_be16(msg + pos + 2);
    }
    *off = pos + 4;
    return 0;
}

int z_dns_rr_parse(const uint8_t *msg, size_t len, size_t *off, struct z_dns_rr *rr)
{
    if (off == NULL || rr == NULL) {
        return -EBADMSG;
    }
    size_t pos = *off;
    if (z_dns_name_decode(msg, len, &pos, rr->name, sizeof(rr->name)) < 0) {
        return -EBADMSG;
    }
    if (len - pos < 10) {
        return -EBADMSG;
    }
    uint16_t type = z_get_be16(msg + pos);
    uint16_t rdlen = z_get_be16(msg + pos + 8);
    pos += 10;
    if (len - pos < rdlen) {
        return -EBADMSG;
    }
    if ((type == Z_DNS_TYPE_A && rdlen != 4) || (type == Z_DNS_TYPE_AAAA && rdlen != 16)) {
        return -EBADMSG;
    }
    uint32_t ttl = z_get_be32(msg + pos - 6);
    rr->type = type;
    rr->cls = z_get_be16(msg + pos - 8);
    rr->ttl = (ttl & 0x80000000u) ? 0 : ttl;
    rr->rdlen = rdlen;
    rr->rdoff = pos;
    *off = pos + rdlen;
    return 0;
}

/* The rdata of rr lies inside msg (rr may come from anywhere). */
static bool rdata_ok(size_t len, const struct z_dns_rr *rr)
{
    return rr != NULL && rr->rdoff <= len && len - rr->rdoff >= rr->rdlen;
}

int z_dns_rr_target(const uint8_t *msg, size_t len, const struct z_dns_rr *rr, char *out,
                    size_t cap)
{
    if (!rdata_ok(len, rr)) {
        return -EBADMSG;
    }
    size_t pos = rr->rdoff;
    char text[Z_DNS_NAME_TEXT_MAX + 1];
    int rc = z_dns_name_decode(msg, len, &pos, text, sizeof(text));
    if (rc < 0) {
        return rc;
    }
    if (pos != rr->rdoff + rr->rdlen) {
        return -EBADMSG;
    }
    size_t n = strlen(text);
    if (out == NULL || cap < n + 1) {
        return -ENOSPC;
    }
    memcpy(out, text, n + 1);
    return 0;
}

int64_t z_dns_soa_minimum(const uint8_t *msg, size_t len, const struct z_dns_rr *rr)
{
    if (!rdata_ok(len, rr)) {
        return -EBADMSG;
    }
    size_t end = rr->rdoff + rr->rdlen;
    size_t pos = rr->rdoff;
    char text[Z_DNS_NAME_TEXT_MAX + 1];
    /* MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM. */
    for (int i = 0; i < 2; i++) {
        if (pos >= end || z_dns_name_decode(msg, len, &pos, text, sizeof(text)) < 0 || pos > end) {
            return -EBADMSG;
        }
    }
    if (end - pos < 20) {
        return -EBADMSG;
    }
    return z_get_be32(msg + pos + 16);
}

/* ---- building ---------------------------------------------------------------- */

int z_dns_query_build(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t qtype,
                      uint16_t edns_udp_size)
{
    struct z_dns_builder b;
    z_dns_build_init(&b, buf, cap, id, Z_DNS_FLAG_RD);
    int rc = z_dns_build_question(&b, name, qtype, Z_DNS_CLASS_IN);
    if (rc == 0 && edns_udp_size > 0) {
        /* OPT: root owner, the payload size as class, extended RCODE,
         * version and flags (the TTL) all zero, no options. */
        rc = z_dns_build_rr(&b, 3, "", Z_DNS_TYPE_OPT, edns_udp_size, 0, NULL, 0);
    }
    if (rc < 0) {
        return rc;
    }
    return (int)z_dns_build_finish(&b);
}

int z_dns_reverse_name(int family, const uint8_t *addr, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    char text[80];
    size_t n = 0;
    if (addr == NULL) {
        return -EINVAL;
    }
    if (family == 4) {
        /* By hand, not snprintf: newlib's links its malloc (docs/embedded.md). */
        for (int i = 3; i >= 0; i--) {
            if (addr[i] >= 100) {
                text[n++] = (char)('0' + addr[i] / 100);
            }
            if (addr[i] >= 10) {
                text[n++] = (char)('0' + addr[i] / 10 % 10);
            }
            text[n++] = (char)('0' + addr[i] % 10);
            text[n++] = '.';
        }
        memcpy(text + n, "in-addr.arpa", sizeof("in-addr.arpa"));
        n += sizeof("in-addr.arpa") - 1;
    } else if (family == 6) {
        for (int i = 15; i >= 0; i--) {
            text[n++] = hex[addr[i] & 15];
            text[n++] = '.';
            text[n++] = hex[addr[i] >> 4];
            text[n++] = '.';
        }
        memcpy(text + n, "ip6.arpa", sizeof("ip6.arpa"));
        n += sizeof("ip6.arpa") - 1;
    } else {
        return -EINVAL;
    }
    if (out == NULL || cap < n + 1) {
        return -ENOSPC;
    }
    memcpy(out, text, n + 1);
    return (int)n;
}

void z_dns_build_init(struct z_dns_builder *b, uint8_t *buf, size_t cap, uint16_t id,
                      uint16_t flags)
{
    memset(b, 0, sizeof(*b));
    b->buf = buf;
    b->cap = cap;
    /* Without room for the header every later call fails with -ENOSPC. */
    if (buf != NULL && cap >= Z_DNS_HDR_LEN) {
        memset(buf, 0, Z_DNS_HDR_LEN);
        z_put_be16(buf, id);
        z_put_be16(buf + 2, flags);
        b->len = Z_DNS_HDR_LEN;
    }
}

/* Room for n more bytes and one more entry in section s. */
static int build_room(const struct z_dns_builder *b, int s, size_t n)
{
    if (b->len < Z_DNS_HDR_LEN || b->cap - b->len < n || b->count[s] == UINT16_MAX) {
        return -ENOSPC;
    }
    return 0;
}

int z_dns_build_question(struct z_dns_builder *b, const char *name, uint16_t qtype, uint16_t qclass)
{
    if (b->section > 0) {
        return -EINVAL;
    }
    uint8_t w[Z_DNS_NAME_WIRE_MAX];
    int wl = z_dns_name_encode(w, sizeof(w), name);
    if (wl < 0) {
        return wl;
    }
    int rc = build_room(b, 0, (size_t)wl + 4);
    if (rc < 0) {
        return rc;
    }
    uint8_t *p = b->buf + b->len;
    memcpy(p, w, (size_t)wl);
    z_put_be16(p + wl, qtype);
    z_put_be16(p + wl + 2, qclass);
    b->len += (size_t)wl + 4;
    b->count[0]++;
    return 0;
}

int z_dns_build_rr(struct z_dns_builder *b, int section, const char *name, uint16_t type,
                   uint16_t cls, uint32_t ttl, const void *rdata, uint16_t rdlen)
{
    if (section < 1 || section > 3 || section < b->section || (rdata == NULL && rdlen > 0)) {
        return -EINVAL;
    }
    uint8_t w[Z_DNS_NAME_WIRE_MAX];
    int wl = z_dns_name_encode(w, sizeof(w), name);
    if (wl < 0) {
        return wl;
    }
    int rc = build_room(b, section, (size_t)wl + 10 + rdlen);
    if (rc < 0) {
        return rc;
    }
    uint8_t *p = b->buf + b->len;
    memcpy(p, w, (size_t)wl);
    p += wl;
    z_put_be16(p, type);
    z_put_be16(p + 2, cls);
    z_put_be32(p + 4, ttl);
    z_put_be16(p + 8, rdlen);
    if (rdlen > 0) {
        memcpy(p + 10, rdata, rdlen);
    }
    b->len += (size_t)wl + 10 + rdlen;
    b->count[section]++;
    b->section = section;
    return 0;
}

int z_dns_build_rr_name(struct z_dns_builder *b, int section, const char *name, uint16_t type,
                        uint32_t ttl, const char *target)
{
    uint8_t w[Z_DNS_NAME_WIRE_MAX];
    int wl = z_dns_name_encode(w, sizeof(w), target);
    if (wl < 0) {
        return wl;
    }
    return z_dns_build_rr(b, section, name, type, Z_DNS_CLASS_IN, ttl, w, (uint16_t)wl);
}

size_t z_dns_build_finish(struct z_dns_builder *b)
{
    if (b->len < Z_DNS_HDR_LEN) {
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        z_put_be16(b->buf + 4 + 2 * i, b->count[i]);
    }
    return b->len;
}
