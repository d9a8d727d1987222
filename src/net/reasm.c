/* Fragmentation and reassembly shared by IPv4 and IPv6 (reasm.h). */
#include "net/reasm.h"

#include <errno.h>
#include <string.h>

int z_frag_output(struct z_pbuf_pool *pool, struct z_pbuf *p, size_t chunk, uint64_t *no_buffer,
                  z_frag_emit_fn emit, void *ctx)
{
    size_t off = 0;
    int rc = 0;
    while (off < p->len && rc == 0) {
        size_t n = p->len - off < chunk ? p->len - off : chunk;
        struct z_pbuf *f = z_pbuf_alloc(pool, Z_PBUF_HEADROOM, n);
        if (f == NULL) {
            (*no_buffer)++;
            rc = -ENOBUFS;
            break;
        }
        memcpy(z_pbuf_put(f, n), p->data + off, n);
        z_pbuf_copy_tx_meta(f, p, off + n == p->len);
        rc = emit(ctx, f, off, off + n < p->len);
        off += n;
    }
    z_pbuf_free(p);
    return rc;
}

void z_reasm_free(struct z_reasm_set *set, struct z_reasm *r)
{
    for (struct z_reasm **pp = &set->list; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    while (r->frags != NULL) {
        struct z_reasm_frag *f = r->frags;
        r->frags = f->next;
        z_pbuf_free(f->p);
        z_free(f);
    }
    set->count--;
    set->bytes -= r->bytes;
    z_free(r);
}

void z_reasm_flush(struct z_reasm_set *set)
{
    while (set->list != NULL) {
        z_reasm_free(set, set->list);
    }
}

struct z_reasm *z_reasm_expired(struct z_reasm_set *set, int64_t now)
{
    for (struct z_reasm *r = set->list; r != NULL; r = r->next) {
        if (now >= r->deadline) {
            return r;
        }
    }
    return NULL;
}

static struct z_reasm *reasm_find(struct z_reasm_set *set, const struct z_reasm_limits *lim,
                                  const struct z_reasm_in *in)
{
    for (struct z_reasm *r = set->list; r != NULL; r = r->next) {
        if (r->key_len == in->key_len && memcmp(r->key, in->key, in->key_len) == 0) {
            return r;
        }
    }
    if (set->count >= lim->max_count) {
        return NULL;
    }
    struct z_reasm *r = z_calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    memcpy(r->key, in->key, in->key_len);
    r->key_len = (uint8_t)in->key_len;
    r->total = -1;
    r->deadline = in->now + lim->timeout_us;
    r->next = set->list;
    set->list = r;
    set->count++;
    return r;
}

/* -1 overlap (the datagram is dropped), 0 inserted, 1 exact duplicate. */
static int frag_insert(struct z_reasm *r, struct z_reasm_frag *nf)
{
    struct z_reasm_frag **pp = &r->frags;
    struct z_reasm_frag *before = NULL;
    while (*pp != NULL && (*pp)->off < nf->off) {
        before = *pp;
        pp = &(*pp)->next;
    }
    struct z_reasm_frag *after = *pp;
    if (after != NULL && after->off == nf->off && after->len == nf->len) {
        return 1;
    }
    /* The fragment before ends at or before us, the one after starts at or after our end. */
    if (before != NULL && before->off + before->len > nf->off) {
        return -1;
    }
    if (after != NULL && nf->off + nf->len > after->off) {
        return -1;
    }
    nf->next = after;
    *pp = nf;
    return 0;
}

/* Has every byte of the datagram arrived? */
static bool reasm_done(const struct z_reasm *r)
{
    if (r->total < 0 || r->first == NULL) {
        return false;
    }
    uint32_t expect = 0;
    for (const struct z_reasm_frag *f = r->frags; f != NULL; f = f->next) {
        if (f->off != expect) {
            return false;
        }
        expect += f->len;
    }
    return expect == (uint32_t)r->total;
}

/* The first fragment's prefix, then every fragment's payload. NULL without a buffer. */
static struct z_pbuf *reasm_join(struct z_pbuf_pool *pool, const struct z_reasm *r)
{
    size_t total = r->prefix_len + (size_t)r->total;
    struct z_pbuf *p = z_pbuf_alloc(pool, 0, total);
    if (p == NULL) {
        return NULL;
    }
    uint8_t *at = z_pbuf_put(p, total);
    memcpy(at, r->first->p->data, r->prefix_len);
    for (const struct z_reasm_frag *f = r->frags; f != NULL; f = f->next) {
        memcpy(at + r->prefix_len + f->off, f->p->data + f->skip, f->len);
    }
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    p->stamp = r->first->p->stamp;
#endif
    return p;
}

struct z_pbuf *z_reasm_input(struct z_reasm_set *set, struct z_pbuf_pool *pool,
                             const struct z_reasm_limits *lim, const struct z_reasm_counters *c,
                             const struct z_reasm_in *in, uint32_t *tag)
{
    struct z_pbuf *p = in->p;
    uint32_t off = in->off;
    uint32_t len = in->len;
    struct z_reasm *r = NULL;
    if (set->bytes + len <= lim->max_bytes) {
        r = reasm_find(set, lim, in);
    }
    if (r == NULL) {
        (*c->drop)++;
        z_pbuf_free(p);
        return NULL;
    }
    if (!in->more) {
        if (r->total >= 0 && (uint32_t)r->total != off + len) {
            goto bad;
        }
        r->total = (int32_t)(off + len);
    }
    if (r->total >= 0 && off + len > (uint32_t)r->total) {
        goto bad;
    }
    struct z_reasm_frag *nf = z_calloc(1, sizeof(*nf));
    if (nf == NULL) {
        goto bad;
    }
    nf->off = (uint16_t)off;
    nf->len = (uint16_t)len;
    nf->skip = in->skip;
    nf->p = p;
    int rc = frag_insert(r, nf);
    if (rc != 0) {
        z_free(nf);
        z_pbuf_free(p);
        if (rc < 0) {
            (*c->drop)++;
            z_reasm_free(set, r);
        }
        return NULL;
    }
    if (off == 0) {
        r->first = nf;
        r->prefix_len = in->prefix_len;
        r->tag = in->tag;
        r->ifindex = in->ifindex;
    }
    r->bytes += len;
    set->bytes += len;
    if (r->total >= 0 && (r->first != NULL || !lim->size_needs_first) &&
        r->prefix_len + (size_t)r->total > z_pbuf_max_size(pool)) {
        /* The whole datagram could never be put in one buffer here. */
        (*c->drop)++;
        z_reasm_free(set, r);
        return NULL;
    }
    if (!reasm_done(r)) {
        return NULL;
    }
    /* Complete: the slot is freed now, with or without a buffer to join into. */
    struct z_pbuf *whole = reasm_join(pool, r);
    if (whole != NULL) {
        (*c->ok)++;
        *tag = r->tag;
    } else {
        (*c->no_buffer)++;
        (*c->drop)++;
    }
    z_reasm_free(set, r);
    return whole;

bad:
    (*c->drop)++;
    z_pbuf_free(p);
    z_reasm_free(set, r);
    return NULL;
}
