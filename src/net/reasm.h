/* Fragmentation and reassembly shared by IPv4 and IPv6. Output: the payload
 * cut into fragments, each handed to the protocol to put its headers on.
 * Reassembly: datagrams being rebuilt, each
 * a list of fragments keyed by bytes the caller chooses, bounded in count,
 * bytes and time. Any overlap drops the whole datagram (RFC 5722 for IPv6,
 * the safe reading of RFC 791 for IPv4), an exact duplicate is ignored. The
 * caller checks its own header rules, counts, and fixes up the joined header.
 * Not thread-safe: every call runs under the owning stack's core lock. */
#ifndef ZSOCK_NET_REASM_H_
#define ZSOCK_NET_REASM_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/pbuf.h"

#define Z_REASM_KEY_MAX 36 /* IPv6: source, destination, identification */

struct z_reasm_frag {
    struct z_reasm_frag *next;
    uint16_t off;     /* payload offset in bytes */
    uint16_t len;     /* payload bytes */
    uint16_t skip;    /* bytes of p before the payload */
    struct z_pbuf *p; /* the fragment as received */
};

/* One datagram being reassembled. */
struct z_reasm {
    struct z_reasm *next;
    uint8_t key[Z_REASM_KEY_MAX];
    uint8_t key_len;
    int32_t total; /* payload length once the last fragment is seen, else -1 */
    size_t bytes;  /* payload bytes held */
    int64_t deadline;
    struct z_reasm_frag *frags; /* sorted by offset, no overlap */
    struct z_reasm_frag *first; /* the offset-0 fragment, if here */
    uint16_t prefix_len;        /* bytes of first->p put ahead of the payload */
    uint32_t tag;               /* the caller's note about the first fragment */
    int ifindex;                /* interface of the first fragment */
};

/* The datagrams of one protocol in one stack. Zero-initialised is empty. */
struct z_reasm_set {
    struct z_reasm *list;
    int count;    /* datagrams held */
    size_t bytes; /* payload bytes held, all datagrams */
};

struct z_reasm_limits {
    int max_count;      /* datagrams at once */
    size_t max_bytes;   /* payload bytes at once */
    int64_t timeout_us; /* from the first fragment seen */
    /* Drop a datagram too big for one buffer only once its first fragment,
     * and so the prefix length, is known (IPv6), or as soon as its length is
     * known (IPv4). */
    bool size_needs_first;
};

/* Where the caller's statistics live (the ipv4 or ipv6 block). */
struct z_reasm_counters {
    uint64_t *ok;        /* datagrams reassembled */
    uint64_t *drop;      /* fragments or datagrams dropped */
    uint64_t *no_buffer; /* no buffer to join into */
};

/* One fragment, as the caller parsed it. */
struct z_reasm_in {
    const uint8_t *key; /* which datagram: key_len <= Z_REASM_KEY_MAX bytes */
    size_t key_len;
    struct z_pbuf *p;    /* the fragment; taken */
    uint32_t off;        /* payload offset */
    uint32_t len;        /* payload bytes, after skip */
    uint16_t skip;       /* bytes of p before the payload */
    uint16_t prefix_len; /* offset 0: bytes of p to put ahead of the whole payload */
    uint32_t tag;        /* offset 0: kept in the slot and handed back on completion */
    int ifindex;         /* offset 0: kept in the slot */
    bool more;           /* more fragments follow */
    int64_t now;
};

/* Add a fragment to its datagram (created if new and within limits). Takes
 * in->p. Returns the whole datagram (first fragment's prefix, then the
 * payload; the caller fixes up the header) when this fragment completes it,
 * storing the first fragment's tag in *tag; else NULL: held, an ignored
 * duplicate, or dropped (counted in c->drop; a bad length or an overlap
 * frees the datagram). Not thread-safe (core lock). */
struct z_pbuf *z_reasm_input(struct z_reasm_set *set, struct z_pbuf_pool *pool,
                             const struct z_reasm_limits *lim, const struct z_reasm_counters *c,
                             const struct z_reasm_in *in, uint32_t *tag);

/* A datagram whose deadline is at or before now, or NULL. The caller
 * reports it and frees it with z_reasm_free. Not thread-safe (core lock). */
struct z_reasm *z_reasm_expired(struct z_reasm_set *set, int64_t now);

/* Unlink r from set and free it with its fragments. Not thread-safe (core lock). */
void z_reasm_free(struct z_reasm_set *set, struct z_reasm *r);

/* Free every datagram in set. Not thread-safe (core lock). */
void z_reasm_flush(struct z_reasm_set *set);

/* Called for each fragment by z_frag_output: put the headers on f (the
 * payload bytes [off, off + f->len) of the datagram; more: not the last)
 * and send it. Takes f. 0 or -errno. */
typedef int (*z_frag_emit_fn)(void *ctx, struct z_pbuf *f, size_t off, bool more);

/* Cut p's data into fragments of at most chunk bytes (a multiple of 8 but
 * for the last), each in a new buffer with Z_PBUF_HEADROOM, and hand them in
 * order to emit. Stops at the first error: emit's, or -ENOBUFS without a
 * buffer (counted in *no_buffer). Takes p. 0 or -errno. Not thread-safe
 * (core lock). */
int z_frag_output(struct z_pbuf_pool *pool, struct z_pbuf *p, size_t chunk, uint64_t *no_buffer,
                  z_frag_emit_fn emit, void *ctx);

#endif
