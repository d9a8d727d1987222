/* The DNS stub resolver (RFC 1035, RFC 3596): queries over zsock's own
 * sockets, through the public calls, in the caller's thread. A lookup sends
 * its questions (A and AAAA together) to one server at a time from a fresh
 * connected UDP socket (random ephemeral port, random ids), waits up to the
 * try's timeout, and moves on to the next server on silence, an ICMP error,
 * SERVFAIL or REFUSED; the timeout doubles each round over the list. A
 * response counts only if it matches a question exactly; a truncated one is
 * asked again over TCP. Answers, positive and negative, are cached for their
 * TTL.
 *
 * Locking: `R.lock` guards the configuration, the cache and the counters,
 * and is never held across a socket call, so the stack may call in (DHCP)
 * with its core lock held. */
#include <zsock/dns.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_internal.h"
#include "port/port.h"
#include "wire/dns.h"

#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_ATTEMPTS   2
#define EDNS_UDP_SIZE      1232 /* DNS flag day 2020: fits any path without fragments */
#define MAX_CNAME_LINKS    8
#define NEG_TTL_MAX_S      300 /* RFC 2308 recommends at most a few hours; keep it short */
#define DHCP_IFACES        4
#define MAX_QUESTIONS      2 /* A and AAAA */

/* The result of one question still being worked on. */
#define ST_PENDING (-1000)
#define ST_CHASE   (-1001) /* the CNAME chain ended at a name the answer had no records for */

struct server {
    struct sockaddr_storage sa;
    socklen_t len;
};

struct cache_entry {
    bool used;
    uint16_t qtype;
    int status; /* 0, EAI_NONAME or EAI_NODATA */
    int64_t expires;
    int64_t last_use;
    char name[Z_DNS_NAME_TEXT_MAX + 1]; /* as asked, lower case */
    char canon[Z_DNS_NAME_TEXT_MAX + 1];
    int count;
    struct z_dns_addr addr[Z_DNS_MAX_ADDRS];
};

/* The settings, under R.lock. */
static struct {
    z_mutex_t lock;
    bool env_read;
    int timeout_ms;
    int attempts;
    int cache_max;
} R = {
    .lock = Z_MUTEX_INITIALIZER,
    .timeout_ms = DEFAULT_TIMEOUT_MS,
    .attempts = DEFAULT_ATTEMPTS,
    .cache_max = CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES,
};

/* The server lists and counters, also under R.lock; apart from R so that
 * they stay in .bss (zeroed RAM) rather than .data (flash and RAM). */
static struct {
    struct server explicit_servers[CONFIG_DNS_RESOLVER_MAX_SERVERS];
    int n_explicit;
    struct server env_servers[CONFIG_DNS_RESOLVER_MAX_SERVERS];
    int n_env;
    struct {
        int ifindex; /* 0: slot free */
        uint32_t addr[3];
        int n;
    } dhcp[DHCP_IFACES];
    struct zsock_dns_stats stats;
} S;

#if CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES > 0
/* Apart from R, whose initializer would otherwise put the whole cache in
 * .data (flash and RAM on a microcontroller) instead of .bss. Under R.lock. */
static struct cache_entry cache[CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES];
#endif

/* A question of a lookup, and what has been learned for it. */
struct question {
    char name[Z_DNS_NAME_TEXT_MAX + 1]; /* the name on the wire now (after CNAMEs) */
    uint16_t qtype;
    uint16_t id;
    bool no_edns;       /* the server answered FORMERR to EDNS0: ask without */
    bool failed_here;   /* this server gave SERVFAIL/REFUSED or broke off */
    int status;         /* ST_PENDING, ST_CHASE, 0 or an EAI_* code */
    int links;          /* CNAME links followed so far */
    uint32_t ttl;       /* smallest TTL of what was used; 0: do not cache */
    uint32_t chain_ttl; /* smallest TTL of the CNAMEs followed in earlier answers */
    int count;
    struct z_dns_addr addr[Z_DNS_MAX_ADDRS];
    char canon[Z_DNS_NAME_TEXT_MAX + 1];
};

/* Counters are bumped through here so each lookup takes the lock briefly. */
#define STAT_ADD(field, n)                                                                         \
    do {                                                                                           \
        z_mutex_lock(&R.lock);                                                                     \
        S.stats.field += (n);                                                                      \
        z_mutex_unlock(&R.lock);                                                                   \
    } while (0)

/* ---- configuration -------------------------------------------------------------------------- */

/* One entry of a server list: "a.b.c.d", "a.b.c.d:port", "v6" or
 * "[v6]:port". */
static int parse_server(const char *text, size_t len, struct server *out)
{
    char buf[64];
    unsigned long port = Z_DNS_PORT;
    const char *addr = buf;

    if (len == 0 || len >= sizeof(buf)) {
        return -EINVAL;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    char *port_text = NULL;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (close == NULL || (close[1] != '\0' && close[1] != ':')) {
            return -EINVAL;
        }
        *close = '\0';
        addr = buf + 1;
        port_text = close[1] == ':' ? close + 2 : NULL;
    } else {
        char *colon = strchr(buf, ':');
        if (colon != NULL && strchr(colon + 1, ':') == NULL) {
            *colon = '\0'; /* exactly one colon: IPv4 with a port */
            port_text = colon + 1;
        }
    }
    if (port_text != NULL) {
        char *end;
        if (*port_text < '0' || *port_text > '9') {
            return -EINVAL;
        }
        port = strtoul(port_text, &end, 10);
        if (*end != '\0' || port == 0 || port > 65535) {
            return -EINVAL;
        }
    }
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *sin = (struct sockaddr_in *)&out->sa;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->sa;
    if (zsock_inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        out->len = sizeof(*sin);
        return 0;
    }
    if (zsock_inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        out->len = sizeof(*sin6);
        return 0;
    }
    return -EINVAL;
}

static int parse_server_list(const char *list, struct server *out, int max)
{
    int n = 0;

    while (list != NULL && *list != '\0') {
        size_t skip = strspn(list, ", \t");
        list += skip;
        size_t len = strcspn(list, ", \t");
        if (len == 0) {
            break;
        }
        if (n == max) {
            return -E2BIG;
        }
        int err = parse_server(list, len, &out[n]);
        if (err != 0) {
            return err;
        }
        n++;
        list += len;
    }
    return n;
}

static void cache_flush_locked(void)
{
#if CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES > 0
    memset(cache, 0, sizeof(cache));
#endif
}

/* Lock held. The environment is read at the first use, not at load time,
 * so a program may set ZSOCK_DNS itself before its first lookup. */
static void read_env_locked(void)
{
    if (R.env_read) {
        return;
    }
    R.env_read = true;
    int n = parse_server_list(getenv("ZSOCK_DNS"), S.env_servers, CONFIG_DNS_RESOLVER_MAX_SERVERS);
    if (n < 0) {
        z_diag("zsock: ZSOCK_DNS: bad server list (ignored)");
        n = 0;
    }
    S.n_env = n;
}

/* The servers a lookup uses now. Lock held. */
static int current_servers_locked(struct server *out)
{
    int n = 0;

    read_env_locked();
    if (S.n_explicit > 0) {
        memcpy(out, S.explicit_servers, sizeof(struct server) * (size_t)S.n_explicit);
        return S.n_explicit;
    }
    if (S.n_env > 0) {
        memcpy(out, S.env_servers, sizeof(struct server) * (size_t)S.n_env);
        return S.n_env;
    }
    for (int i = 0; i < DHCP_IFACES; i++) {
        for (int j = 0; j < S.dhcp[i].n && n < CONFIG_DNS_RESOLVER_MAX_SERVERS; j++) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&out[n].sa;
            memset(&out[n], 0, sizeof(out[n]));
            sin->sin_family = AF_INET;
            sin->sin_port = htons(Z_DNS_PORT);
            sin->sin_addr.s_addr = htonl(S.dhcp[i].addr[j]);
            out[n++].len = sizeof(*sin);
        }
    }
    return n;
}

int zsock_dns_set_servers(const char *list)
{
    struct server parsed[CONFIG_DNS_RESOLVER_MAX_SERVERS];
    int n = parse_server_list(list, parsed, CONFIG_DNS_RESOLVER_MAX_SERVERS);

    if (n < 0) {
        return n;
    }
    z_mutex_lock(&R.lock);
    memcpy(S.explicit_servers, parsed, sizeof(struct server) * (size_t)n);
    S.n_explicit = n;
    cache_flush_locked();
    z_mutex_unlock(&R.lock);
    return 0;
}

static void format_server(const struct server *s, char *out, size_t size)
{
    char addr[INET6_ADDRSTRLEN];

    if (s->sa.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&s->sa;
        zsock_inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
        z_snprintf(out, size, "%s:%u", addr, ntohs(sin->sin_port));
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&s->sa;
        zsock_inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
        z_snprintf(out, size, "[%s]:%u", addr, ntohs(sin6->sin6_port));
    }
}

int zsock_dns_get_servers(char (*out)[ZSOCK_DNS_SERVER_TEXT], int max)
{
    struct server list[CONFIG_DNS_RESOLVER_MAX_SERVERS];

    z_mutex_lock(&R.lock);
    int n = current_servers_locked(list);
    z_mutex_unlock(&R.lock);
    for (int i = 0; i < n && i < max && out != NULL; i++) {
        format_server(&list[i], out[i], sizeof(out[i]));
    }
    return n;
}

void z_dns_set_dhcp_servers(int ifindex, const uint32_t *servers, int n)
{
    z_mutex_lock(&R.lock);
    int slot = -1;
    for (int i = 0; i < DHCP_IFACES; i++) {
        if (S.dhcp[i].ifindex == ifindex) {
            slot = i;
            break;
        }
        if (slot < 0 && S.dhcp[i].ifindex == 0) {
            slot = i;
        }
    }
    if (slot >= 0) {
        if (n > 3) {
            n = 3;
        }
        S.dhcp[slot].ifindex = n > 0 ? ifindex : 0;
        S.dhcp[slot].n = n > 0 ? n : 0;
        for (int i = 0; i < n; i++) {
            S.dhcp[slot].addr[i] = servers[i];
        }
        if (S.n_explicit == 0 && S.n_env == 0) {
            cache_flush_locked();
        }
    }
    z_mutex_unlock(&R.lock);
}

int zsock_dns_set_options(const struct zsock_dns_options *opts)
{
    if (opts == NULL || opts->timeout_ms < 0 || opts->attempts < 0 || opts->cache_max < -1 ||
        opts->cache_max > CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES) {
        return -EINVAL;
    }
    z_mutex_lock(&R.lock);
    if (opts->timeout_ms > 0) {
        R.timeout_ms = opts->timeout_ms;
    }
    if (opts->attempts > 0) {
        R.attempts = opts->attempts;
    }
    if (opts->cache_max != 0) {
        R.cache_max = opts->cache_max < 0 ? 0 : opts->cache_max;
        cache_flush_locked();
    }
    z_mutex_unlock(&R.lock);
    return 0;
}

void zsock_dns_cache_flush(void)
{
    z_mutex_lock(&R.lock);
    cache_flush_locked();
    z_mutex_unlock(&R.lock);
}

int zsock_dns_stats(struct zsock_dns_stats *out)
{
    if (out == NULL) {
        return -EFAULT;
    }
    z_mutex_lock(&R.lock);
    *out = S.stats;
    z_mutex_unlock(&R.lock);
    return 0;
}

/* ---- cache ------------------------------------------------------------------------------------
 */

static void lower_copy(char *dst, const char *src)
{
    size_t i = 0;
    for (; src[i] != '\0' && i < Z_DNS_NAME_TEXT_MAX; i++) {
        char c = src[i];
        dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    /* A trailing dot names the same domain. */
    if (i > 0 && dst[i - 1] == '.') {
        i--;
    }
    dst[i] = '\0';
}

/* Copy a cached answer for (name, qtype) into q; true on a hit. */
static bool cache_get(const char *name, struct question *q)
{
    bool hit = false;
#if CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES > 0
    char key[Z_DNS_NAME_TEXT_MAX + 1];
    int64_t now = z_now_us();

    lower_copy(key, name);
    z_mutex_lock(&R.lock);
    for (int i = 0; i < R.cache_max; i++) {
        struct cache_entry *e = &cache[i];
        if (!e->used || e->qtype != q->qtype || strcmp(e->name, key) != 0) {
            continue;
        }
        if (now >= e->expires) {
            e->used = false;
            break;
        }
        e->last_use = now;
        q->status = e->status;
        q->count = e->count;
        memcpy(q->addr, e->addr, sizeof(q->addr));
        strcpy(q->canon, e->canon);
        S.stats.cache_hits++;
        hit = true;
        break;
    }
    z_mutex_unlock(&R.lock);
#else
    (void)name;
    (void)q;
#endif
    return hit;
}

static void cache_put(const char *name, const struct question *q)
{
#if CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES > 0
    char key[Z_DNS_NAME_TEXT_MAX + 1];
    int64_t now = z_now_us();

    if (q->ttl == 0 || (q->status != 0 && q->status != EAI_NONAME && q->status != EAI_NODATA)) {
        return;
    }
    lower_copy(key, name);
    z_mutex_lock(&R.lock);
    /* The same key, else a free slot, else the least recently used. */
    struct cache_entry *victim = NULL;
    for (int i = 0; i < R.cache_max && victim == NULL; i++) {
        if (cache[i].used && cache[i].qtype == q->qtype && strcmp(cache[i].name, key) == 0) {
            victim = &cache[i];
        }
    }
    for (int i = 0; i < R.cache_max && victim == NULL; i++) {
        if (!cache[i].used) {
            victim = &cache[i];
        }
    }
    for (int i = 0; i < R.cache_max && victim == NULL; i++) {
        victim = &cache[0];
        for (int j = 1; j < R.cache_max; j++) {
            if (cache[j].last_use < victim->last_use) {
                victim = &cache[j];
            }
        }
    }
    if (victim != NULL) {
        victim->used = true;
        victim->qtype = q->qtype;
        victim->status = q->status;
        victim->expires = now + (int64_t)q->ttl * 1000000;
        victim->last_use = now;
        strcpy(victim->name, key);
        strcpy(victim->canon, q->canon);
        victim->count = q->count;
        memcpy(victim->addr, q->addr, sizeof(victim->addr));
    }
    z_mutex_unlock(&R.lock);
#else
    (void)name;
    (void)q;
#endif
}

/* ---- answers ----------------------------------------------------------------------------------
 */

static uint32_t min_ttl(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* Negative caching time (RFC 2308 5): the SOA in the authority section,
 * min(its TTL, its MINIMUM), capped; 0 (not cached) without one. */
static uint32_t negative_ttl(const uint8_t *msg, size_t len, size_t off, const struct z_dns_hdr *h)
{
    struct z_dns_rr rr;

    for (int i = 0; i < h->ancount; i++) {
        if (z_dns_rr_parse(msg, len, &off, &rr) < 0) {
            return 0;
        }
    }
    for (int i = 0; i < h->nscount; i++) {
        if (z_dns_rr_parse(msg, len, &off, &rr) < 0) {
            return 0;
        }
        if (rr.type == Z_DNS_TYPE_SOA && rr.cls == Z_DNS_CLASS_IN) {
            int64_t minimum = z_dns_soa_minimum(msg, len, &rr);
            if (minimum < 0) {
                return 0;
            }
            return min_ttl(min_ttl(rr.ttl, (uint32_t)minimum), NEG_TTL_MAX_S);
        }
    }
    return 0;
}

static bool has_soa(const uint8_t *msg, size_t len, size_t off, const struct z_dns_hdr *h)
{
    struct z_dns_rr rr;

    for (int i = 0; i < h->ancount + h->nscount; i++) {
        if (z_dns_rr_parse(msg, len, &off, &rr) < 0) {
            return false;
        }
        if (i >= h->ancount && rr.type == Z_DNS_TYPE_SOA) {
            return true;
        }
    }
    return false;
}

/* Walk the answer section (at `off`, already known to parse) from q->name
 * along CNAMEs and collect the records of q->qtype at the end of the chain. */
static void take_answer(struct question *q, const uint8_t *msg, size_t len, size_t off,
                        const struct z_dns_hdr *h)
{
    char target[Z_DNS_NAME_TEXT_MAX + 1];
    struct z_dns_rr rr;
    uint32_t ttl = q->chain_ttl;
    bool moved = true;
    int links_here = 0;

    /* Follow the chain: each pass looks for a CNAME owned by the current name. */
    while (moved) {
        moved = false;
        size_t o = off;
        for (int i = 0; i < h->ancount; i++) {
            z_dns_rr_parse(msg, len, &o, &rr);
            if (rr.type != Z_DNS_TYPE_CNAME || rr.cls != Z_DNS_CLASS_IN ||
                !z_dns_name_equal(rr.name, q->name) ||
                z_dns_rr_target(msg, len, &rr, target, sizeof(target)) < 0) {
                continue;
            }
            if (++q->links > MAX_CNAME_LINKS) {
                q->status = EAI_FAIL;
                return;
            }
            strcpy(q->name, target);
            ttl = min_ttl(ttl, rr.ttl);
            moved = true;
            links_here++;
            break;
        }
    }

    q->count = 0;
    size_t o = off;
    for (int i = 0; i < h->ancount; i++) {
        z_dns_rr_parse(msg, len, &o, &rr);
        if (rr.type != q->qtype || rr.cls != Z_DNS_CLASS_IN ||
            !z_dns_name_equal(rr.name, q->name)) {
            continue;
        }
        if (q->qtype == Z_DNS_TYPE_PTR) {
            if (z_dns_rr_target(msg, len, &rr, q->canon, sizeof(q->canon)) == 0) {
                q->count = 1;
                ttl = min_ttl(ttl, rr.ttl);
                break;
            }
            continue;
        }
        if (q->count < Z_DNS_MAX_ADDRS) {
            struct z_dns_addr *a = &q->addr[q->count++];
            memset(a, 0, sizeof(*a));
            a->family = q->qtype == Z_DNS_TYPE_A ? AF_INET : AF_INET6;
            memcpy(a->bytes, msg + rr.rdoff, rr.rdlen);
            ttl = min_ttl(ttl, rr.ttl);
        }
    }
    if (q->count > 0) {
        q->status = 0;
        q->ttl = ttl;
        if (q->qtype != Z_DNS_TYPE_PTR) {
            strcpy(q->canon, q->name);
        }
    } else if (links_here > 0 && !has_soa(msg, len, off, h)) {
        q->status = ST_CHASE; /* ask for the end of the chain */
        q->chain_ttl = ttl;
    } else {
        q->status = EAI_NODATA;
        q->ttl = min_ttl(negative_ttl(msg, len, off, h), ttl);
    }
}

/* What handle_response() asks of the exchange. */
enum verdict { V_IGNORED, V_TAKEN, V_RESEND, V_TRUNCATED };

/* Check a response against the questions and take it if it is one of
 * theirs. *which is the question it answered. */
static enum verdict handle_response(const uint8_t *msg, size_t len, struct question *qs, int nq,
                                    int *which)
{
    struct z_dns_hdr h;
    char name[Z_DNS_NAME_TEXT_MAX + 1];
    uint16_t qtype, qclass;
    size_t off = Z_DNS_HDR_LEN;
    struct question *q = NULL;

    if (z_dns_hdr_parse(msg, len, &h) < 0 || (h.flags & Z_DNS_FLAG_QR) == 0 ||
        (h.flags & Z_DNS_OPCODE_MASK) != 0 || h.qdcount != 1 ||
        z_dns_question_parse(msg, len, &off, name, sizeof(name), &qtype, &qclass) < 0 ||
        qclass != Z_DNS_CLASS_IN) {
        return V_IGNORED;
    }
    for (int i = 0; i < nq; i++) {
        if (qs[i].status == ST_PENDING && qs[i].id == h.id && qs[i].qtype == qtype &&
            z_dns_name_equal(qs[i].name, name)) {
            q = &qs[i];
            *which = i;
            break;
        }
    }
    if (q == NULL) {
        return V_IGNORED;
    }
    /* Every record must parse before anything in the message is used. */
    size_t end = off;
    struct z_dns_rr rr;
    for (int i = 0; i < h.ancount + h.nscount; i++) {
        if (z_dns_rr_parse(msg, len, &end, &rr) < 0) {
            return V_IGNORED;
        }
    }
    if ((h.flags & Z_DNS_FLAG_TC) != 0) {
        return V_TRUNCATED;
    }
    switch (h.flags & Z_DNS_RCODE_MASK) {
    case Z_DNS_RCODE_OK:
        take_answer(q, msg, len, off, &h);
        break;
    case Z_DNS_RCODE_NXDOMAIN:
        q->status = EAI_NONAME;
        q->ttl = min_ttl(negative_ttl(msg, len, off, &h), q->chain_ttl);
        break;
    case Z_DNS_RCODE_SERVFAIL:
    case Z_DNS_RCODE_REFUSED:
        q->failed_here = true;
        break;
    case Z_DNS_RCODE_FORMERR:
        if (!q->no_edns) {
            q->no_edns = true; /* an old server that does not know EDNS0 */
            return V_RESEND;
        }
        q->status = EAI_FAIL;
        break;
    default:
        q->status = EAI_FAIL;
        break;
    }
    return V_TAKEN;
}

/* ---- transport ------------------------------------------------------------------------------ */

static int remaining_ms(int64_t deadline)
{
    int64_t left = deadline - z_now_us();
    if (left <= 0) {
        return 0;
    }
    return (int)((left + 999) / 1000);
}

/* Wait for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    struct zsock_pollfd pfd = {.fd = fd, .events = events};

    for (;;) {
        int ms = remaining_ms(deadline);
        int n = zsock_poll(&pfd, 1, ms);
        if (n > 0) {
            return (pfd.revents & (events | POLLERR | POLLHUP)) != 0 ? 1 : 0;
        }
        if (n == 0) {
            return 0;
        }
        if (errno != EINTR) {
            return -1;
        }
    }
}

static int build_query(const struct question *q, uint8_t *buf, size_t cap)
{
    return z_dns_query_build(buf, cap, q->id, q->name, q->qtype, q->no_edns ? 0 : EDNS_UDP_SIZE);
}

static uint16_t random_id(void)
{
    uint16_t id = 0;
    z_entropy(&id, sizeof(id));
    return id;
}

/* Ask q over TCP (RFC 1035 4.2.2, RFC 7766) and take the answer. Returns
 * true if an answer was taken. */
static bool ask_tcp(const struct server *srv, struct question *q, int64_t deadline)
{
    uint8_t query[2 + Z_DNS_HDR_LEN + Z_DNS_NAME_WIRE_MAX + 4 + 11];
    uint8_t *msg = NULL;
    bool taken = false;
    int fd = zsock_socket(srv->sa.ss_family, SOCK_STREAM, IPPROTO_TCP);

    if (fd < 0) {
        return false;
    }
    int n = build_query(q, query + 2, sizeof(query) - 2);
    int flags = zsock_fcntl(fd, F_GETFL, 0);
    if (n < 0 || zsock_fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        goto out;
    }
    query[0] = (uint8_t)(n >> 8);
    query[1] = (uint8_t)n;
    if (zsock_connect(fd, (const struct sockaddr *)&srv->sa, srv->len) < 0) {
        int err = 0;
        socklen_t elen = sizeof(err);
        if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) != 1 ||
            zsock_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
            goto out;
        }
    }
    size_t total = (size_t)n + 2;
    for (size_t sent = 0; sent < total;) {
        ssize_t k = zsock_send(fd, query + sent, total - sent, 0);
        if (k > 0) {
            sent += (size_t)k;
        } else if (k < 0 && errno == EAGAIN && wait_fd(fd, POLLOUT, deadline) == 1) {
            continue;
        } else {
            goto out;
        }
    }
    /* The length prefix, then the message. */
    uint8_t prefix[2];
    size_t want = sizeof(prefix), got = 0;
    uint8_t *dst = prefix;
    for (int part = 0; part < 2; part++) {
        while (got < want) {
            ssize_t k = zsock_recv(fd, dst + got, want - got, 0);
            if (k > 0) {
                got += (size_t)k;
            } else if (k < 0 && errno == EAGAIN && wait_fd(fd, POLLIN, deadline) == 1) {
                continue;
            } else {
                goto out;
            }
        }
        if (part == 0) {
            want = (size_t)prefix[0] << 8 | prefix[1];
            got = 0;
            msg = z_malloc(want > 0 ? want : 1);
            if (msg == NULL) {
                goto out;
            }
            dst = msg;
        }
    }
    int which;
    enum verdict v = handle_response(msg, want, q, 1, &which);
    if (v == V_TAKEN) {
        STAT_ADD(answers, 1);
        taken = true;
    } else {
        STAT_ADD(rejected, 1);
    }
out:
    z_free(msg);
    zsock_close(fd);
    return taken;
}

static bool all_settled(const struct question *qs, int nq)
{
    for (int i = 0; i < nq; i++) {
        if (qs[i].status == ST_PENDING && !qs[i].failed_here) {
            return false;
        }
    }
    return true;
}

static bool any_pending(const struct question *qs, int nq)
{
    for (int i = 0; i < nq; i++) {
        if (qs[i].status == ST_PENDING) {
            return true;
        }
    }
    return false;
}

static int send_question(int fd, struct question *q)
{
    uint8_t query[Z_DNS_HDR_LEN + Z_DNS_NAME_WIRE_MAX + 4 + 11];
    int n = build_query(q, query, sizeof(query));

    if (n < 0) {
        return n;
    }
    STAT_ADD(queries, 1);
    return zsock_send(fd, query, (size_t)n, 0) == n ? 0 : -errno;
}

/* One try: send every pending question to srv and collect answers until
 * each is answered, the server fails them, or the timeout passes. */
static void try_server(const struct server *srv, struct question *qs, int nq, int timeout_ms)
{
    uint8_t buf[EDNS_UDP_SIZE + 256];
    int64_t deadline = z_deadline_after_us((int64_t)timeout_ms * 1000);
    int fd = zsock_socket(srv->sa.ss_family, SOCK_DGRAM, IPPROTO_UDP);

    for (int i = 0; i < nq; i++) {
        qs[i].failed_here = false;
    }
    if (fd < 0 || zsock_connect(fd, (const struct sockaddr *)&srv->sa, srv->len) < 0) {
        goto broken;
    }
    /* A send waits for packet buffers while they are short: no longer than
     * the try, or a lookup would outlive its timeouts for good. */
    struct zsock_timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = timeout_ms % 1000 * 1000};
    zsock_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    for (int i = 0; i < nq; i++) {
        if (qs[i].status == ST_PENDING) {
            qs[i].id = random_id();
            if (send_question(fd, &qs[i]) < 0) {
                goto broken;
            }
        }
    }
    while (!all_settled(qs, nq)) {
        int ready = wait_fd(fd, POLLIN, deadline);
        if (ready == 0) {
            STAT_ADD(timeouts, 1);
            break;
        }
        ssize_t n = ready > 0 ? zsock_recv(fd, buf, sizeof(buf), ZSOCK_MSG_DONTWAIT) : -1;
        if (n < 0) {
            if (ready > 0 && errno == EAGAIN) {
                continue;
            }
            goto broken; /* ECONNREFUSED from an ICMP error: this server is not there */
        }
        int which = -1;
        switch (handle_response(buf, (size_t)n, qs, nq, &which)) {
        case V_IGNORED:
            STAT_ADD(rejected, 1);
            break;
        case V_TAKEN:
            STAT_ADD(answers, 1);
            break;
        case V_RESEND:
            STAT_ADD(answers, 1);
            if (send_question(fd, &qs[which]) < 0) {
                goto broken;
            }
            break;
        case V_TRUNCATED:
            STAT_ADD(truncated, 1);
            STAT_ADD(queries, 1);
            if (!ask_tcp(srv, &qs[which], deadline)) {
                qs[which].failed_here = true;
            }
            break;
        }
    }
    zsock_close(fd);
    return;
broken:
    for (int i = 0; i < nq; i++) {
        qs[i].failed_here = true;
    }
    if (fd >= 0) {
        zsock_close(fd);
    }
}

/* Work on the pending questions until each has a result. */
static void exchange(struct question *qs, int nq)
{
    struct server servers[CONFIG_DNS_RESOLVER_MAX_SERVERS];

    z_mutex_lock(&R.lock);
    int nservers = current_servers_locked(servers);
    int timeout_ms = R.timeout_ms;
    int attempts = R.attempts;
    z_mutex_unlock(&R.lock);

    int last = -1;
    for (int round = 0; round < attempts; round++) {
        for (int s = 0; s < nservers; s++) {
            if (!any_pending(qs, nq)) {
                goto done;
            }
            if (last >= 0 && last != s) {
                STAT_ADD(failovers, 1);
            }
            last = s;
            int t = timeout_ms;
            for (int r = 0; r < round && t < 60000; r++) {
                t *= 2;
            }
            try_server(&servers[s], qs, nq, t);
        }
    }
done:
    for (int i = 0; i < nq; i++) {
        if (qs[i].status == ST_PENDING) {
            qs[i].status = EAI_AGAIN;
        }
    }
}

/* ---- lookups ----------------------------------------------------------------------------------
 */

static void question_init(struct question *q, const char *name, uint16_t qtype)
{
    memset(q, 0, sizeof(*q));
    strcpy(q->name, name);
    /* "host.test." is "host.test": the canonical name comes back without the dot. */
    size_t len = strlen(q->name);
    if (len > 1 && q->name[len - 1] == '.') {
        q->name[len - 1] = '\0';
    }
    q->qtype = qtype;
    q->status = ST_PENDING;
    q->chain_ttl = UINT32_MAX;
}

/* Answer the questions from the cache or the servers, following CNAME
 * chains that end without records; each answer is cached under the name
 * first asked. */
static void lookup(struct question *qs, int nq)
{
    char asked[MAX_QUESTIONS][Z_DNS_NAME_TEXT_MAX + 1];
    bool need = false;

    for (int i = 0; i < nq; i++) {
        strcpy(asked[i], qs[i].name);
        if (!cache_get(qs[i].name, &qs[i])) {
            need = true;
        }
    }
    for (int pass = 0; need && pass <= MAX_CNAME_LINKS; pass++) {
        exchange(qs, nq);
        need = false;
        for (int i = 0; i < nq; i++) {
            if (qs[i].status == ST_CHASE) {
                if (qs[i].links >= MAX_CNAME_LINKS) {
                    qs[i].status = EAI_FAIL;
                    continue;
                }
                qs[i].status = ST_PENDING;
                need = true;
            }
        }
    }
    for (int i = 0; i < nq; i++) {
        if (qs[i].status == ST_PENDING || qs[i].status == ST_CHASE) {
            qs[i].status = EAI_FAIL;
        }
        cache_put(asked[i], &qs[i]);
    }
}

/* A name worth a question: a host name (RFC 1123 letters, digits and
 * hyphens, plus the underscore some zones use) that encodes, not the root.
 * Anything else ("[::1]:80", "a b") is no host's name, so no query. */
static bool sendable(const char *name)
{
    uint8_t wire[Z_DNS_NAME_WIRE_MAX];
    size_t len = strlen(name);

    if (len == 0 || len > Z_DNS_NAME_TEXT_MAX + 1 || strcmp(name, ".") == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) {
            return false;
        }
    }
    return z_dns_name_encode(wire, sizeof(wire), name) > 1;
}

/* Merge the results of several questions into one getaddrinfo outcome. */
static int merge_status(const struct question *qs, int nq)
{
    static const int order[] = {EAI_AGAIN, EAI_FAIL, EAI_NODATA};

    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
        for (int i = 0; i < nq; i++) {
            if (qs[i].status == order[k]) {
                return order[k];
            }
        }
    }
    return EAI_NONAME;
}

int z_dns_resolve(const char *name, bool want_v4, bool want_v6, struct z_dns_result *out)
{
    struct question *qs;
    int nq = 0;

    memset(out, 0, sizeof(*out));
    if (!sendable(name)) {
        return EAI_NONAME;
    }
    if (!want_v4 && !want_v6) {
        return EAI_NODATA;
    }
    qs = z_calloc(MAX_QUESTIONS, sizeof(*qs));
    if (qs == NULL) {
        return EAI_MEMORY;
    }
    if (want_v4) {
        question_init(&qs[nq++], name, Z_DNS_TYPE_A);
    }
    if (want_v6) {
        question_init(&qs[nq++], name, Z_DNS_TYPE_AAAA);
    }
    lookup(qs, nq);
    for (int i = 0; i < nq; i++) {
        if (qs[i].status != 0) {
            continue;
        }
        if (out->count == 0) {
            strcpy(out->canon, qs[i].canon);
        }
        for (int j = 0; j < qs[i].count && out->count < Z_DNS_MAX_ADDRS; j++) {
            out->addr[out->count++] = qs[i].addr[j];
        }
    }
    int status = out->count > 0 ? 0 : merge_status(qs, nq);
    z_free(qs);
    return status;
}

int z_dns_reverse(const struct z_dns_addr *addr, char *name, size_t size)
{
    char rname[Z_DNS_NAME_TEXT_MAX + 1];
    struct question *q;
    int family = addr->family == AF_INET ? 4 : 6;

    if (z_dns_reverse_name(family, addr->bytes, rname, sizeof(rname)) < 0) {
        return EAI_FAIL;
    }
    q = z_calloc(1, sizeof(*q));
    if (q == NULL) {
        return EAI_MEMORY;
    }
    question_init(q, rname, Z_DNS_TYPE_PTR);
    lookup(q, 1);
    int status = q->status;
    if (status == 0) {
        if (strlen(q->canon) >= size) {
            status = EAI_OVERFLOW;
        } else {
            strcpy(name, q->canon);
        }
    }
    z_free(q);
    return status;
}
