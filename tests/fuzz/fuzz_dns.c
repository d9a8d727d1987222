/* libFuzzer target for the DNS message code (src/wire/dns.c). The first
 * input byte picks a mode:
 *   0  parse the rest as a message, as a resolver would, and check every
 *      decoded name against a reference decoder written from RFC 1035 and
 *      the rules in dns.h, and that it re-encodes to the same text;
 *   1  drive the builder with operations read from the input, then parse
 *      the message back and compare it with what was added;
 *   2  encode a text name, build a query for it, parse both back; and the
 *      reverse name of an address read from the input. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/dns.h"
#include "wire/wire.h"

#include "fuzz_check.h"

#define TEXT_CAP (Z_DNS_NAME_TEXT_MAX + 1)

/* ---- reference ------------------------------------------------------------------- */

/* The text form of a wire name without pointers, escaped as dns.h says;
 * returns its length (which may exceed Z_DNS_NAME_TEXT_MAX: out has room
 * for 4 * 255). */
static size_t ref_text(const uint8_t *w, char *out)
{
    size_t n = 0;
    for (size_t i = 0; w[i] != 0; i += 1u + w[i]) {
        if (i > 0) {
            out[n++] = '.';
        }
        for (size_t k = 1; k <= w[i]; k++) {
            uint8_t c = w[i + k];
            if (c == '.' || c == '\\' || c <= 0x20 || c >= 0x7f) {
                n += (size_t)sprintf(out + n, "\\%03u", c);
            } else {
                out[n++] = (char)c;
            }
        }
    }
    out[n] = '\0';
    return n;
}

/* Expand the name at off into an uncompressed wire name w. Pointers go
 * strictly below the start of the sequence they end, at most 128 of them
 * (dns.c's limit against pointer chains), 255 bytes at most. */
static bool ref_expand(const uint8_t *m, size_t len, size_t off, uint8_t *w, size_t *end)
{
    size_t seq = off, pos = off, wl = 0;
    int hops = 0;
    *end = SIZE_MAX;
    for (;;) {
        if (pos >= len) {
            return false;
        }
        unsigned b = m[pos];
        if (b >= 0xc0) {
            if (pos + 1 >= len || ++hops > 128) {
                return false;
            }
            size_t t = (size_t)(b - 0xc0) * 256 + m[pos + 1];
            if (t >= seq) {
                return false;
            }
            if (*end == SIZE_MAX) {
                *end = pos + 2;
            }
            seq = pos = t;
        } else if (b >= 0x40) {
            return false;
        } else if (b == 0) {
            if (wl + 1 > 255) {
                return false;
            }
            w[wl] = 0;
            if (*end == SIZE_MAX) {
                *end = pos + 1;
            }
            return true;
        } else {
            if (pos + b >= len || wl + 1 + b > 255) {
                return false;
            }
            memcpy(w + wl, m + pos, 1u + b);
            wl += 1u + b;
            pos += 1u + b;
        }
    }
}

/* The reference verdict on the name at off: valid, and where it ends. */
static bool ref_name(const uint8_t *m, size_t len, size_t off, size_t *end)
{
    uint8_t w[256];
    static char t[4 * 256];
    return ref_expand(m, len, off, w, end) && ref_text(w, t) <= Z_DNS_NAME_TEXT_MAX;
}

static size_t wire_len(const uint8_t *w)
{
    size_t i = 0;
    while (w[i] != 0) {
        i += 1u + w[i];
    }
    return i + 1;
}

/* A name that decoded: short enough, printable, equal to itself, and its
 * encoding decodes to the same text. */
static void check_text(const char *t)
{
    size_t n = strlen(t);
    CHECK(n <= Z_DNS_NAME_TEXT_MAX);
    for (size_t i = 0; i < n; i++) {
        CHECK(t[i] >= 0x21 && t[i] <= 0x7e);
    }
    CHECK(z_dns_name_equal(t, t));
    uint8_t w[Z_DNS_NAME_WIRE_MAX];
    int wl = z_dns_name_encode(w, sizeof(w), t);
    CHECK(wl >= 1 && wl <= Z_DNS_NAME_WIRE_MAX);
    CHECK((size_t)wl == wire_len(w));
    char back[TEXT_CAP];
    size_t off = 0;
    CHECK(z_dns_name_decode(w, (size_t)wl, &off, back, sizeof(back)) == 0);
    CHECK(off == (size_t)wl);
    CHECK(strcmp(back, t) == 0);
    /* Too little room: -ENOSPC and nothing written. */
    CHECK(z_dns_name_encode(w, (size_t)wl - 1, t) == -ENOSPC);
}

/* Decode at off and compare with the reference. */
static int check_decode(const uint8_t *m, size_t len, size_t off, char *text)
{
    uint8_t w[256];
    size_t ref_end;
    static char ref[4 * 256];
    bool ok = ref_expand(m, len, off, w, &ref_end) && ref_text(w, ref) <= Z_DNS_NAME_TEXT_MAX;
    size_t o = off;
    int rc = z_dns_name_decode(m, len, &o, text, TEXT_CAP);
    CHECK((rc == 0) == ok);
    if (rc < 0) {
        CHECK(rc == -EBADMSG);
        CHECK(o == off);
        return rc;
    }
    CHECK(o == ref_end && o > off && o <= len);
    CHECK(strcmp(text, ref) == 0);
    check_text(text);
    /* Exactly the room needed is enough, one byte less is not. */
    char small[TEXT_CAP];
    size_t n = strlen(text);
    o = off;
    CHECK(z_dns_name_decode(m, len, &o, small, n) == -ENOSPC && o == off);
    CHECK(z_dns_name_decode(m, len, &o, small, n + 1) == 0 && strcmp(small, text) == 0);
    return 0;
}

/* ---- mode 0: parse ----------------------------------------------------------------- */

static void fuzz_parse(const uint8_t *data, size_t size)
{
    /* A copy of exactly size bytes, so ASan sees any overread. */
    uint8_t *m = malloc(size > 0 ? size : 1);
    CHECK(m != NULL);
    memcpy(m, data, size);
    char name[TEXT_CAP];

    /* Names at every offset of small messages. */
    for (size_t off = 0; off < size && off < 300; off++) {
        (void)check_decode(m, size, off, name);
    }

    struct z_dns_hdr h;
    int rc = z_dns_hdr_parse(m, size, &h);
    CHECK((rc == 0) == (size >= Z_DNS_HDR_LEN));
    if (rc < 0) {
        goto out;
    }
    CHECK(h.id == z_get_be16(m) && h.flags == z_get_be16(m + 2));
    size_t off = Z_DNS_HDR_LEN;
    for (unsigned i = 0; i < h.qdcount; i++) {
        uint16_t qt, qc;
        size_t before = off;
        rc = z_dns_question_parse(m, size, &off, name, sizeof(name), &qt, &qc);
        if (rc < 0) {
            CHECK(rc == -EBADMSG && off == before);
            goto out;
        }
        CHECK(off > before && off <= size);
        CHECK(check_decode(m, size, before, name) == 0);
        CHECK(qt == z_get_be16(m + off - 4) && qc == z_get_be16(m + off - 2));
    }
    unsigned total = (unsigned)h.ancount + h.nscount + h.arcount;
    for (unsigned i = 0; i < total; i++) {
        struct z_dns_rr rr;
        size_t before = off;
        rc = z_dns_rr_parse(m, size, &off, &rr);
        if (rc < 0) {
            CHECK(rc == -EBADMSG && off == before);
            goto out;
        }
        CHECK(off > before && off <= size);
        CHECK(rr.rdoff + rr.rdlen == off && rr.rdoff >= before + 11);
        CHECK(rr.ttl <= 0x7fffffffu);
        CHECK(rr.type != Z_DNS_TYPE_A || rr.rdlen == 4);
        CHECK(rr.type != Z_DNS_TYPE_AAAA || rr.rdlen == 16);
        char owner[TEXT_CAP];
        CHECK(check_decode(m, size, before, owner) == 0);
        CHECK(strcmp(owner, rr.name) == 0);

        /* The target: a name that ends exactly with the rdata. */
        size_t end;
        bool ok = ref_name(m, size, rr.rdoff, &end) && end == off;
        rc = z_dns_rr_target(m, size, &rr, name, sizeof(name));
        CHECK(rc == (ok ? 0 : -EBADMSG));
        if (rc == 0) {
            char again[TEXT_CAP];
            CHECK(check_decode(m, size, rr.rdoff, again) == 0 && strcmp(again, name) == 0);
        }
        /* SOA: two names inside the rdata, then 20 bytes. */
        int64_t want = -EBADMSG;
        size_t e1, e2;
        if (rr.rdlen > 0 && ref_name(m, size, rr.rdoff, &e1) && e1 < off &&
            ref_name(m, size, e1, &e2) && e2 <= off && off - e2 >= 20) {
            want = z_get_be32(m + e2 + 16);
        }
        CHECK(z_dns_soa_minimum(m, size, &rr) == want);
        /* The same record with its rdata moved past the message. */
        struct z_dns_rr bad = rr;
        bad.rdoff = size - rr.rdlen + 1;
        CHECK(z_dns_rr_target(m, size, &bad, name, sizeof(name)) == -EBADMSG);
        CHECK(z_dns_soa_minimum(m, size, &bad) == -EBADMSG);
    }
out:
    free(m);
}

/* ---- input reader ----------------------------------------------------------------------- */

struct in {
    const uint8_t *p;
    size_t n;
};

static uint8_t u8(struct in *r)
{
    if (r->n == 0) {
        return 0;
    }
    r->n--;
    return *r->p++;
}

static uint16_t u16(struct in *r)
{
    uint16_t v = u8(r);
    return (uint16_t)(v << 8 | u8(r));
}

static uint32_t u32(struct in *r)
{
    uint32_t v = u16(r);
    return v << 16 | u16(r);
}

/* A text name from the input: either raw bytes (any text, escapes
 * included) or labels of chosen lengths drawn from a small alphabet, so
 * that names near the limits appear. */
static void read_name(struct in *r, char *out, size_t cap)
{
    static const char alpha[] = "aZ9-_.\\0*\x01\xff ";
    uint8_t mode = u8(r);
    size_t n = 0;
    if (mode & 1) {
        size_t len = u8(r);
        while (n < len && n + 1 < cap && r->n > 0) {
            char c = (char)u8(r);
            out[n++] = c != '\0' ? c : 'x';
        }
    } else {
        int labels = mode >> 5; /* 0..7 */
        for (int l = 0; l < labels; l++) {
            uint8_t spec = u8(r);
            size_t ll = spec & 0x3f;
            if (spec & 0x40) {
                ll = 63 + (spec >> 7); /* 63 or 64 */
            }
            if (n > 0 && n + 1 < cap) {
                out[n++] = '.';
            }
            for (size_t k = 0; k < ll && n + 1 < cap; k++) {
                uint8_t pick = (spec & 0x80) ? u8(r) : 0;
                out[n++] = alpha[pick % (sizeof(alpha) - 1)];
            }
        }
        if ((mode & 2) && n + 1 < cap) {
            out[n++] = '.';
        }
    }
    out[n] = '\0';
}

/* The canonical text of a name: what the decoder must give back, or false
 * when that text is too long to decode. */
static bool canonical(const char *name, char *out, uint8_t *w, int *wl)
{
    static char t[4 * 256];
    *wl = z_dns_name_encode(w, Z_DNS_NAME_WIRE_MAX, name);
    if (*wl < 0) {
        return false;
    }
    if (ref_text(w, t) > Z_DNS_NAME_TEXT_MAX) {
        return false;
    }
    strcpy(out, t);
    return true;
}

/* ---- mode 1: builder ------------------------------------------------------------------- */

#define MAX_OPS 24

struct added {
    int section; /* 0 question, 1..3 */
    bool name_ok;
    char name[TEXT_CAP];
    uint16_t type, cls;
    uint32_t ttl;
    const uint8_t *rdata;
    uint16_t rdlen;
    bool is_target;
    bool target_ok;
    char target[TEXT_CAP];
};

static uint8_t bbuf[2048];

static void check_untouched(const struct z_dns_builder *b)
{
    for (size_t i = b->len; i < b->cap; i++) {
        CHECK(bbuf[i] == 0xa5);
    }
}

static void fuzz_build(const uint8_t *data, size_t size)
{
    struct in r = {data, size};
    static struct added ops[MAX_OPS];
    int nops = 0;
    size_t cap = u16(&r) % sizeof(bbuf);
    uint16_t id = u16(&r), flags = u16(&r);
    memset(bbuf, 0xa5, sizeof(bbuf));
    struct z_dns_builder b;
    z_dns_build_init(&b, bbuf, cap, id, flags);
    CHECK(b.len == (cap >= Z_DNS_HDR_LEN ? Z_DNS_HDR_LEN : 0));
    check_untouched(&b);

    while (r.n > 0 && nops < MAX_OPS) {
        struct added *a = &ops[nops];
        memset(a, 0, sizeof(*a));
        uint8_t op = u8(&r);
        char name[300], target[300];
        read_name(&r, name, sizeof(name));
        struct z_dns_builder before = b;
        int rc;
        int kind = op % 3;
        a->section = kind == 0 ? 0 : 1 + (op >> 2) % 4; /* 4: an invalid section */
        a->type = u16(&r);
        a->cls = u16(&r);
        a->ttl = u32(&r);
        if (kind == 0) {
            rc = z_dns_build_question(&b, name, a->type, a->cls);
        } else if (kind == 1) {
            a->rdlen = u8(&r) % 40;
            if (a->rdlen > r.n) {
                a->rdlen = (uint16_t)r.n;
            }
            a->rdata = r.p;
            r.p += a->rdlen;
            r.n -= a->rdlen;
            rc = z_dns_build_rr(&b, a->section, name, a->type, a->cls, a->ttl, a->rdata, a->rdlen);
        } else {
            read_name(&r, target, sizeof(target));
            a->cls = Z_DNS_CLASS_IN;
            a->is_target = true;
            rc = z_dns_build_rr_name(&b, a->section, name, a->type, a->ttl, target);
        }

        /* What the call should have said. */
        uint8_t w[Z_DNS_NAME_WIRE_MAX], tw[Z_DNS_NAME_WIRE_MAX];
        int wl, twl = 0;
        a->name_ok = canonical(name, a->name, w, &wl);
        if (a->is_target) {
            a->target_ok = canonical(target, a->target, tw, &twl);
            a->rdlen = (uint16_t)(twl > 0 ? twl : 0);
        }
        bool bad_section =
            kind != 0 ? (a->section > 3 || a->section < before.section) : before.section > 0;
        bool names_ok = wl > 0 && (!a->is_target || twl > 0);
        size_t need = (size_t)(wl > 0 ? wl : 0) + (kind == 0 ? 4 : 10u + a->rdlen);
        int s = a->section <= 3 ? a->section : 0;
        bool room =
            before.len >= Z_DNS_HDR_LEN && cap - before.len >= need && before.count[s] < UINT16_MAX;
        if (rc == 0) {
            CHECK(names_ok && !bad_section && room);
            CHECK(b.len == before.len + need);
            CHECK(b.count[a->section] == before.count[a->section] + 1);
            CHECK(memcmp(bbuf + before.len, w, (size_t)wl) == 0);
            if (a->is_target) {
                CHECK(memcmp(bbuf + b.len - a->rdlen, tw, a->rdlen) == 0);
            }
            nops++;
        } else {
            CHECK(rc == -EINVAL || rc == -ENOSPC);
            if (rc == -ENOSPC) {
                CHECK(names_ok && !bad_section && !room);
            } else {
                CHECK(!names_ok || bad_section);
            }
            CHECK(b.len == before.len && b.section == before.section);
            CHECK(memcmp(b.count, before.count, sizeof(b.count)) == 0);
        }
        check_untouched(&b);
    }

    size_t len = z_dns_build_finish(&b);
    CHECK(len == b.len);
    if (len == 0) {
        CHECK(nops == 0 && cap < Z_DNS_HDR_LEN);
        return;
    }

    /* Parse it back; it must match up to the first entry that cannot
     * parse (a name too long as text, an A/AAAA of the wrong length). */
    struct z_dns_hdr h;
    CHECK(z_dns_hdr_parse(bbuf, len, &h) == 0);
    CHECK(h.id == id && h.flags == flags);
    CHECK(h.qdcount == b.count[0] && h.ancount == b.count[1] && h.nscount == b.count[2] &&
          h.arcount == b.count[3]);
    size_t off = Z_DNS_HDR_LEN;
    char text[TEXT_CAP];
    for (int i = 0; i < nops; i++) {
        const struct added *a = &ops[i];
        if (a->section == 0) {
            uint16_t qt, qc;
            int rc = z_dns_question_parse(bbuf, len, &off, text, sizeof(text), &qt, &qc);
            if (!a->name_ok) {
                CHECK(rc == -EBADMSG);
                return;
            }
            CHECK(rc == 0 && strcmp(text, a->name) == 0 && z_dns_name_equal(text, a->name));
            CHECK(qt == a->type && qc == a->cls);
            continue;
        }
        struct z_dns_rr rr;
        int rc = z_dns_rr_parse(bbuf, len, &off, &rr);
        bool len_bad = (a->type == Z_DNS_TYPE_A && a->rdlen != 4) ||
                       (a->type == Z_DNS_TYPE_AAAA && a->rdlen != 16);
        if (!a->name_ok || len_bad) {
            CHECK(rc == -EBADMSG);
            return;
        }
        CHECK(rc == 0 && strcmp(rr.name, a->name) == 0);
        CHECK(rr.type == a->type && rr.cls == a->cls && rr.rdlen == a->rdlen);
        CHECK(rr.ttl == ((a->ttl & 0x80000000u) ? 0 : a->ttl));
        if (a->is_target) {
            rc = z_dns_rr_target(bbuf, len, &rr, text, sizeof(text));
            if (a->target_ok) {
                CHECK(rc == 0 && strcmp(text, a->target) == 0);
            } else {
                CHECK(rc == -EBADMSG);
            }
        } else if (a->rdlen > 0) {
            CHECK(memcmp(bbuf + rr.rdoff, a->rdata, a->rdlen) == 0);
        }
    }
    CHECK(off == len);
}

/* The reverse name of an address read back independently: the labels are
 * the address bytes (IPv4) or nibbles (IPv6) in reverse order. */
static void check_reverse(int family, const uint8_t *addr)
{
    char out[100];
    int rc = z_dns_reverse_name(family, addr, out, sizeof(out));
    if (family != 4 && family != 6) {
        CHECK(rc == -EINVAL);
        return;
    }
    CHECK(rc > 0 && (size_t)rc == strlen(out));
    uint8_t back[16] = {0};
    const char *p = out;
    if (family == 4) {
        for (int i = 3; i >= 0; i--) {
            char *end;
            unsigned long v = strtoul(p, &end, 10);
            CHECK(end != p && *end == '.' && v <= 255);
            back[i] = (uint8_t)v;
            p = end + 1;
        }
        CHECK(strcmp(p, "in-addr.arpa") == 0 && memcmp(back, addr, 4) == 0);
    } else {
        CHECK(rc == 72);
        for (int i = 31; i >= 0; i--, p += 2) {
            const char *hex = "0123456789abcdef";
            const char *d = strchr(hex, p[0]);
            CHECK(p[0] != '\0' && d != NULL && p[1] == '.');
            back[i / 2] |= (uint8_t)((d - hex) << (i % 2 ? 0 : 4));
        }
        CHECK(strcmp(p, "ip6.arpa") == 0 && memcmp(back, addr, 16) == 0);
    }
    check_text(out);
    CHECK(z_dns_reverse_name(family, addr, out, (size_t)rc) == -ENOSPC);
}

/* ---- mode 2: names and queries --------------------------------------------------------- */

static void fuzz_query(const uint8_t *data, size_t size)
{
    struct in r = {data, size};
    uint16_t id = u16(&r), qtype = u16(&r), edns = u16(&r);
    size_t cap = u16(&r) % 600;
    int family = u8(&r) % 8;
    uint8_t addr[16];
    for (int i = 0; i < 16; i++) {
        addr[i] = u8(&r);
    }
    check_reverse(family, addr);
    char name[300];
    size_t n = 0;
    while (r.n > 0 && n + 1 < sizeof(name)) {
        char c = (char)u8(&r);
        name[n++] = c != '\0' ? c : '.';
    }
    name[n] = '\0';

    uint8_t w[Z_DNS_NAME_WIRE_MAX];
    char canon[TEXT_CAP];
    int wl;
    bool ok = canonical(name, canon, w, &wl);
    if (wl > 0) {
        CHECK((size_t)wl == wire_len(w) && wl <= Z_DNS_NAME_WIRE_MAX);
        CHECK(z_dns_name_equal(name, name));
        if (ok) {
            check_text(canon);
        }
    } else {
        CHECK(wl == -EINVAL);
    }

    static uint8_t q[600];
    memset(q, 0xa5, sizeof(q));
    int ql = z_dns_query_build(q, cap, id, name, qtype, edns);
    size_t need = wl > 0 ? Z_DNS_HDR_LEN + (size_t)wl + 4 + (edns > 0 ? 11 : 0) : 0;
    if (wl < 0) {
        CHECK(ql == -EINVAL);
        return;
    }
    if (cap < need) {
        CHECK(ql == -ENOSPC);
        return;
    }
    CHECK(ql >= 0 && (size_t)ql == need);
    for (size_t i = need; i < sizeof(q); i++) {
        CHECK(q[i] == 0xa5);
    }
    struct z_dns_hdr h;
    CHECK(z_dns_hdr_parse(q, need, &h) == 0);
    CHECK(h.id == id && h.flags == Z_DNS_FLAG_RD && h.qdcount == 1 && h.ancount == 0 &&
          h.nscount == 0 && h.arcount == (edns > 0 ? 1 : 0));
    CHECK(memcmp(q + Z_DNS_HDR_LEN, w, (size_t)wl) == 0);
    size_t off = Z_DNS_HDR_LEN;
    char text[TEXT_CAP];
    uint16_t qt, qc;
    int rc = z_dns_question_parse(q, need, &off, text, sizeof(text), &qt, &qc);
    if (!ok) {
        CHECK(rc == -EBADMSG);
        return;
    }
    CHECK(rc == 0 && strcmp(text, canon) == 0 && qt == qtype && qc == Z_DNS_CLASS_IN);
    if (edns > 0) {
        struct z_dns_rr rr;
        CHECK(z_dns_rr_parse(q, need, &off, &rr) == 0);
        CHECK(rr.name[0] == '\0' && rr.type == Z_DNS_TYPE_OPT && rr.cls == edns && rr.ttl == 0 &&
              rr.rdlen == 0);
    }
    CHECK(off == need);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        fuzz_parse(data + 1, size - 1);
        break;
    case 1:
        fuzz_build(data + 1, size - 1);
        break;
    default:
        fuzz_query(data + 1, size - 1);
        break;
    }
    return 0;
}
