/* getaddrinfo()/getnameinfo() with POSIX and glibc semantics. Numeric hosts
 * and services are handled here; host names go through resolve_name() (the
 * hosts table, then DNS) and addresses through reverse_name(); results are
 * put in RFC 6724 destination order. */
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_internal.h"
#include "port/port.h"

#define KNOWN_AI_FLAGS                                                                             \
    (AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_V4MAPPED | AI_ALL | AI_ADDRCONFIG |           \
     AI_NUMERICSERV | AI_EXTFLAGS)
#define KNOWN_NI_FLAGS (NI_NUMERICHOST | NI_NUMERICSERV | NI_NOFQDN | NI_NAMEREQD | NI_DGRAM)

/* Protocols a service is registered for. */
#define SVC_TCP 0x1
#define SVC_UDP 0x2

struct service {
    const char *name;
    uint16_t port;
    uint8_t protos;
};

/* IANA service names. Where Debian's /etc/services lists a service only for
 * one protocol the table does too, so that zsock and glibc give the same
 * answers; imap keeps its IANA name (glibc says "imap2"). */
static const struct service services[] = {
    {"echo", 7, SVC_TCP | SVC_UDP},
    {"discard", 9, SVC_TCP | SVC_UDP},
    {"daytime", 13, SVC_TCP | SVC_UDP},
    {"ftp", 21, SVC_TCP},
    {"ssh", 22, SVC_TCP},
    {"telnet", 23, SVC_TCP},
    {"smtp", 25, SVC_TCP},
    {"domain", 53, SVC_TCP | SVC_UDP},
    {"http", 80, SVC_TCP},
    {"pop3", 110, SVC_TCP},
    {"ntp", 123, SVC_UDP},
    {"imap", 143, SVC_TCP},
    {"snmp", 161, SVC_TCP | SVC_UDP},
    {"ldap", 389, SVC_TCP | SVC_UDP},
    {"https", 443, SVC_TCP | SVC_UDP},
    {"mqtt", 1883, SVC_TCP | SVC_UDP},
    {"secure-mqtt", 8883, SVC_TCP | SVC_UDP},
    {"coap", 5683, SVC_TCP | SVC_UDP},
    {"coaps", 5684, SVC_TCP | SVC_UDP},
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The socket kinds getaddrinfo() hands out, in glibc's order. A raw socket
 * takes any protocol number and has no ports, hence no services. */
struct sock_kind {
    int socktype;
    int protocol;
    uint8_t svc_proto; /* 0: raw */
};

static const struct sock_kind sock_kinds[] = {
    {SOCK_STREAM, IPPROTO_TCP, SVC_TCP},
    {SOCK_DGRAM, IPPROTO_UDP, SVC_UDP},
    {SOCK_RAW, 0, 0},
};

/* One socket type/protocol/port combination; each address is returned once
 * per target. */
struct gai_target {
    int socktype;
    int protocol;
    uint16_t port;
};

struct gai_addr {
    int family;
    uint32_t scope_id;
    uint8_t bytes[16]; /* AF_INET: the first four */
};

/* What a resolver may return for one name. */
#define GAI_MAX_ADDRS 8

struct gai_host {
    size_t count;
    struct gai_addr addr[GAI_MAX_ADDRS];
    char canon[ZSOCK_DNS_MAX_NAME_SIZE];
};

static const uint8_t loopback4[4] = {127, 0, 0, 1};
static const uint8_t loopback6[16] = {[15] = 1};

static bool ascii_case_equal(const char *a, const char *b)
{
    for (;; a++, b++) {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (ca != cb) {
            return false;
        }
        if (ca == '\0') {
            return true;
        }
    }
}

static void set_addr(struct gai_addr *a, int family, const uint8_t *bytes, uint32_t scope_id)
{
    memset(a, 0, sizeof(*a));
    a->family = family;
    a->scope_id = scope_id;
    memcpy(a->bytes, bytes, family == AF_INET ? 4 : 16);
}

static const struct service *service_by_name(const char *name, uint8_t proto)
{
    for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
        if ((services[i].protos & proto) != 0 && strcmp(services[i].name, name) == 0) {
            return &services[i];
        }
    }
    return NULL;
}

static const struct service *service_by_port(uint16_t port, uint8_t proto)
{
    for (size_t i = 0; i < ARRAY_SIZE(services); i++) {
        if ((services[i].protos & proto) != 0 && services[i].port == port) {
            return &services[i];
        }
    }
    return NULL;
}

/* A numeric service is one or more decimal digits. Returns the port, -1 if
 * the text is not numeric (a service name) or -2 if the number does not
 * fit in a port, which glibc would silently truncate. */
static long parse_port(const char *s)
{
    long value = 0;

    if (*s == '\0') {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return -1;
        }
        if (value <= 65535) {
            value = value * 10 + (*s - '0');
        }
    }
    return value <= 65535 ? value : -2;
}

/* Chooses the socket kinds and port(s) for the hints and service, checking
 * them in glibc's order so that combined errors give glibc's code. */
static int select_targets(const struct zsock_addrinfo *hints, const char *service,
                          struct gai_target *out, size_t *count)
{
    const struct sock_kind *kind = NULL;
    long port = 0;
    size_t n = 0;

    if (service != NULL) {
        port = parse_port(service);
        if (port == -1 && (hints->ai_flags & AI_NUMERICSERV) != 0) {
            return EAI_NONAME;
        }
    }

    if (hints->ai_socktype != 0 || hints->ai_protocol != 0) {
        for (size_t i = 0; i < ARRAY_SIZE(sock_kinds); i++) {
            const struct sock_kind *k = &sock_kinds[i];
            if (hints->ai_socktype != 0 && hints->ai_socktype != k->socktype) {
                continue;
            }
            if (hints->ai_protocol != 0 && k->svc_proto != 0 && hints->ai_protocol != k->protocol) {
                continue;
            }
            kind = k;
            break;
        }
        if (kind == NULL) {
            return EAI_SOCKTYPE;
        }
    }

    if (service != NULL && kind != NULL && kind->svc_proto == 0) {
        return EAI_SERVICE;
    }
    if (port == -2) {
        return EAI_SERVICE;
    }

    if (port >= 0) {
        if (kind != NULL) {
            out[n].socktype = kind->socktype;
            out[n].protocol = kind->svc_proto != 0 ? kind->protocol : hints->ai_protocol;
            out[n].port = (uint16_t)port;
            n++;
        } else {
            for (size_t i = 0; i < ARRAY_SIZE(sock_kinds); i++) {
                out[n].socktype = sock_kinds[i].socktype;
                out[n].protocol = sock_kinds[i].protocol;
                out[n].port = (uint16_t)port;
                n++;
            }
        }
    } else {
        /* A named service yields one target per protocol it exists for. */
        for (size_t i = 0; i < ARRAY_SIZE(sock_kinds); i++) {
            const struct sock_kind *k = &sock_kinds[i];
            if ((kind != NULL && k != kind) || k->svc_proto == 0) {
                continue;
            }
            const struct service *svc = service_by_name(service, k->svc_proto);
            if (svc != NULL) {
                out[n].socktype = k->socktype;
                out[n].protocol = k->protocol;
                out[n].port = svc->port;
                n++;
            }
        }
        if (n == 0) {
            return EAI_SERVICE;
        }
    }
    *count = n;
    return 0;
}

/* Decimal interface index after '%'; interface names need an interface
 * table, which zsock does not have yet. */
static bool parse_scope_id(const char *s, size_t len, uint32_t *scope_id)
{
    uint64_t value = 0;

    if (len == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        value = value * 10 + (uint64_t)(s[i] - '0');
        if (value > UINT32_MAX) {
            return false;
        }
    }
    *scope_id = (uint32_t)value;
    return true;
}

enum numeric_host {
    HOST_NAME,      /* not an address literal */
    HOST_LITERAL,   /* *out holds the address */
    HOST_BAD_SCOPE, /* an IPv6 address (in *out) with an unusable zone */
};

/* A dotted quad, or an IPv6 address with an optional "%scope" suffix and
 * optionally in brackets as in URLs. */
static enum numeric_host parse_numeric_host(const char *host, struct gai_addr *out)
{
    uint8_t bytes[16];
    char text[INET6_ADDRSTRLEN];
    const char *s = host;
    size_t len = strlen(host);
    uint32_t scope_id = 0;

    if (zsock_inet_pton(AF_INET, host, bytes) == 1) {
        set_addr(out, AF_INET, bytes, 0);
        return HOST_LITERAL;
    }
    if (s[0] == '[') {
        if (len < 2 || s[len - 1] != ']') {
            return HOST_NAME;
        }
        s++;
        len -= 2;
    }
    const char *pct = memchr(s, '%', len);
    size_t addr_len = pct != NULL ? (size_t)(pct - s) : len;
    if (addr_len >= sizeof(text)) {
        return HOST_NAME;
    }
    memcpy(text, s, addr_len);
    text[addr_len] = '\0';
    if (zsock_inet_pton(AF_INET6, text, bytes) != 1) {
        return HOST_NAME;
    }
    if (pct != NULL && !parse_scope_id(pct + 1, len - addr_len - 1, &scope_id)) {
        set_addr(out, AF_INET6, bytes, 0);
        return HOST_BAD_SCOPE;
    }
    set_addr(out, AF_INET6, bytes, scope_id);
    return HOST_LITERAL;
}

/* Which families have an address on an interface other than loopback
 * (AI_ADDRCONFIG, RFC 3493), and which have any address to send from
 * (RFC 6724 rule 1). zsock has no IPv6 addresses yet. */
struct addr_config {
    bool v4_configured;
    bool v4_usable;
    bool v6_configured;
    bool v6_usable;
};

static void read_addr_config(struct addr_config *c)
{
    struct zsock_if_info info[8];
    int n = zsock_if_list(info, 8);

    memset(c, 0, sizeof(*c));
    for (int i = 0; i < n && i < 8; i++) {
        if (info[i].n_ipv4 > 0 && (info[i].flags & ZSOCK_IF_UP) != 0) {
            c->v4_usable = true;
            if ((info[i].flags & ZSOCK_IF_LOOPBACK) == 0) {
                c->v4_configured = true;
            }
        }
    }
}

static bool is_loopback(const struct gai_addr *a)
{
    return (a->family == AF_INET && a->bytes[0] == 127) ||
           (a->family == AF_INET6 && memcmp(a->bytes, loopback6, 16) == 0);
}

/* AI_ADDRCONFIG: drop addresses of families not configured here; loopback
 * addresses stay, so "localhost" keeps working on an isolated host. */
static void filter_addrconfig(struct gai_host *h, const struct addr_config *c)
{
    size_t n = 0;

    for (size_t i = 0; i < h->count; i++) {
        const struct gai_addr *a = &h->addr[i];
        bool ok = is_loopback(a) || (a->family == AF_INET ? c->v4_configured : c->v6_configured);
        if (ok) {
            h->addr[n++] = *a;
        }
    }
    h->count = n;
}

/* RFC 6724 2.1 policy table precedence and 3.1 scope of a destination. IPv4
 * addresses are looked at as IPv4-mapped IPv6 addresses. */
static void policy_of(const struct gai_addr *a, int *precedence, int *scope)
{
    static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
    const uint8_t *b = a->bytes;

    if (a->family == AF_INET || memcmp(b, mapped, 12) == 0) {
        const uint8_t *v4 = a->family == AF_INET ? b : b + 12;
        *precedence = 35;
        *scope = (v4[0] == 127 || (v4[0] == 169 && v4[1] == 254)) ? 2 : 14;
        return;
    }
    *scope = 14;
    if (b[0] == 0xff) {
        *scope = b[1] & 0x0f;
    } else if ((b[0] == 0xfe && (b[1] & 0xc0) == 0x80) || memcmp(b, loopback6, 16) == 0) {
        *scope = 2;
    } else if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) {
        *scope = 5;
    }
    if (memcmp(b, loopback6, 16) == 0) {
        *precedence = 50;
    } else if (b[0] == 0x20 && b[1] == 0x02) {
        *precedence = 30;
    } else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) {
        *precedence = 5;
    } else if ((b[0] & 0xfe) == 0xfc) {
        *precedence = 3;
    } else if ((b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) || (b[0] == 0x3f && b[1] == 0xfe)) {
        *precedence = 1;
    } else {
        static const uint8_t compat[12];
        *precedence = memcmp(b, compat, 12) == 0 ? 1 : 40;
    }
}

/* Negative when a goes first (RFC 6724 section 6, the rules that apply
 * without source address details: 1 usable, 6 precedence, 8 scope). */
static int compare_dest(const struct gai_addr *a, const struct gai_addr *b,
                        const struct addr_config *c)
{
    bool ua = a->family == AF_INET ? c->v4_usable : c->v6_usable;
    bool ub = b->family == AF_INET ? c->v4_usable : c->v6_usable;
    int pa, pb, sa, sb;

    if (ua != ub) {
        return ua ? -1 : 1;
    }
    policy_of(a, &pa, &sa);
    policy_of(b, &pb, &sb);
    if (pa != pb) {
        return pa > pb ? -1 : 1;
    }
    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }
    return 0; /* rule 10: leave the order */
}

static void sort_destinations(struct gai_host *h, const struct addr_config *c)
{
    for (size_t i = 1; i < h->count; i++) {
        struct gai_addr x = h->addr[i];
        size_t j = i;
        while (j > 0 && compare_dest(&x, &h->addr[j - 1], c) < 0) {
            h->addr[j] = h->addr[j - 1];
            j--;
        }
        h->addr[j] = x;
    }
}

static void take_dns_addrs(struct gai_host *out, const struct z_dns_addr *addrs, int n)
{
    out->count = 0;
    for (int i = 0; i < n && out->count < GAI_MAX_ADDRS; i++) {
        set_addr(&out->addr[out->count++], addrs[i].family, addrs[i].bytes, 0);
    }
}

/* Name -> addresses: the hosts table ("localhost" included), our own host
 * name (the loopback address), then DNS for the families the caller can
 * use. Returns 0 or an EAI_* code. */
static int resolve_name(const char *name, int family, int flags, const struct addr_config *c,
                        struct gai_host *out)
{
    char self[CONFIG_NET_HOSTNAME_MAX_LEN + 1];
    struct z_dns_addr found[GAI_MAX_ADDRS];

    out->count = 0;
    int n = z_hosts_lookup(name, found, GAI_MAX_ADDRS, out->canon, sizeof(out->canon));
    if (n > 0) {
        take_dns_addrs(out, found, n);
        return 0;
    }
    if (zsock_gethostname(self, sizeof(self)) == 0 && ascii_case_equal(name, self)) {
        set_addr(&out->addr[out->count++], AF_INET, loopback4, 0);
        strcpy(out->canon, self);
        return 0;
    }
#ifdef CONFIG_DNS_RESOLVER
    /* IPv4 answers serve AF_INET6 callers only as mapped addresses. */
    bool want_v4 = family != AF_INET6 || (flags & AI_V4MAPPED) != 0;
    bool want_v6 = family != AF_INET;
    if ((flags & AI_ADDRCONFIG) != 0) {
        want_v4 = want_v4 && c->v4_configured;
        want_v6 = want_v6 && c->v6_configured;
        if (!want_v4 && !want_v6) {
            return EAI_NONAME;
        }
    }
    struct z_dns_result *r = z_malloc(sizeof(*r));
    if (r == NULL) {
        return EAI_MEMORY;
    }
    int err = z_dns_resolve(name, want_v4, want_v6, r);
    if (err == 0) {
        take_dns_addrs(out, r->addr, r->count);
        strcpy(out->canon, r->canon);
    }
    z_free(r);
    return err;
#else
    (void)family;
    (void)flags;
    (void)c;
    return EAI_NONAME;
#endif
}

/* Address -> name: the hosts table, then a PTR query. Returns 0 or an
 * EAI_* code (EAI_NONAME when no name is known). */
static int reverse_name(const struct gai_addr *a, char *name, size_t size)
{
    struct z_dns_addr d;

    memset(&d, 0, sizeof(d));
    d.family = a->family;
    memcpy(d.bytes, a->bytes, a->family == AF_INET ? 4 : 16);
    int err = z_hosts_reverse(&d, name, size);
    if (err == 0) {
        return 0;
    }
    if (err == -ENOSPC) {
        return EAI_OVERFLOW;
    }
#ifdef CONFIG_DNS_RESOLVER
    err = z_dns_reverse(&d, name, size);
    return err == EAI_NODATA ? EAI_NONAME : err;
#else
    return EAI_NONAME;
#endif
}

/* Keeps the addresses of the requested family, in place. With AF_INET6 and
 * AI_V4MAPPED, IPv4 addresses become ::ffff:a.b.c.d when there is no IPv6
 * address, or always with AI_ALL (after the IPv6 ones). */
static void filter_family(struct gai_host *h, int family, int flags)
{
    struct gai_addr v4[GAI_MAX_ADDRS];
    size_t n4 = 0, n = 0;

    if (family == AF_UNSPEC) {
        return;
    }
    for (size_t i = 0; i < h->count; i++) {
        if (h->addr[i].family == family) {
            h->addr[n++] = h->addr[i];
        } else if (h->addr[i].family == AF_INET) {
            v4[n4++] = h->addr[i];
        }
    }
    if (family == AF_INET6 && (flags & AI_V4MAPPED) != 0 && (n == 0 || (flags & AI_ALL) != 0)) {
        for (size_t i = 0; i < n4; i++) {
            uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff};
            memcpy(&mapped[12], v4[i].bytes, 4);
            set_addr(&h->addr[n++], AF_INET6, mapped, 0);
        }
    }
    h->count = n;
}

/* Host NULL: the wildcard addresses for a server (AI_PASSIVE), otherwise
 * the loopback addresses, in the order glibc returns them. */
static void default_host(struct gai_host *h, int family, int flags)
{
    static const uint8_t any[16];

    h->count = 0;
    if ((flags & AI_PASSIVE) != 0) {
        if (family != AF_INET6) {
            set_addr(&h->addr[h->count++], AF_INET, any, 0);
        }
        if (family != AF_INET) {
            set_addr(&h->addr[h->count++], AF_INET6, any, 0);
        }
    } else {
        if (family != AF_INET) {
            set_addr(&h->addr[h->count++], AF_INET6, loopback6, 0);
        }
        if (family != AF_INET6) {
            set_addr(&h->addr[h->count++], AF_INET, loopback4, 0);
        }
    }
}

static bool is_v4_mapped(const struct gai_addr *a)
{
    static const uint8_t prefix[12] = {[10] = 0xff, [11] = 0xff};
    return a->family == AF_INET6 && memcmp(a->bytes, prefix, sizeof(prefix)) == 0;
}

static int lookup_host(const char *host, const struct zsock_addrinfo *hints, struct gai_host *h,
                       const char **canon)
{
    int family = hints->ai_family;
    int flags = hints->ai_flags;

    if (host == NULL) {
        default_host(h, family, flags);
        *canon = NULL;
        return 0;
    }

    enum numeric_host kind = parse_numeric_host(host, &h->addr[0]);
    if (kind != HOST_NAME) {
        h->count = 1;
        /* A mapped address asked for as IPv4 is taken as the IPv4 address
         * it carries, as glibc does. */
        if (family == AF_INET && is_v4_mapped(&h->addr[0])) {
            uint8_t v4[4];
            memcpy(v4, &h->addr[0].bytes[12], 4);
            set_addr(&h->addr[0], AF_INET, v4, 0);
        }
        /* Otherwise a literal of the other family is an error, not "no
         * address"; the exception is an IPv4 literal wanted as mapped. A
         * bad zone only counts once the family is right (glibc's order). */
        if (family != AF_UNSPEC && h->addr[0].family != family) {
            if (family != AF_INET6 || (flags & AI_V4MAPPED) == 0) {
                return EAI_ADDRFAMILY;
            }
            filter_family(h, family, flags);
        }
        if (kind == HOST_BAD_SCOPE) {
            return EAI_NONAME;
        }
        *canon = host;
        return 0;
    }
    if ((flags & AI_NUMERICHOST) != 0) {
        return EAI_NONAME;
    }

    struct addr_config c;
    read_addr_config(&c);
    int err = resolve_name(host, family, flags, &c, h);
    if (err != 0) {
        return err;
    }
    if ((flags & AI_ADDRCONFIG) != 0) {
        filter_addrconfig(h, &c);
    }
    size_t before = h->count;
    filter_family(h, family, flags);
    if (h->count == 0) {
        return before > 0 ? EAI_NODATA : EAI_NONAME;
    }
    sort_destinations(h, &c);
    *canon = h->canon;
    return 0;
}

void zsock_freeaddrinfo(struct zsock_addrinfo *ai)
{
    while (ai != NULL) {
        struct zsock_addrinfo *next = ai->ai_next;
        z_free(ai->ai_canonname);
        z_free(ai);
        ai = next;
    }
}

static struct zsock_addrinfo *new_entry(const struct gai_addr *a, const struct gai_target *t,
                                        int flags)
{
    struct zsock_addrinfo *ai = z_calloc(1, sizeof(*ai));

    if (ai == NULL) {
        return NULL;
    }
    ai->ai_flags = flags;
    ai->ai_family = a->family;
    ai->ai_socktype = t->socktype;
    ai->ai_protocol = t->protocol;
    ai->ai_addr = (struct sockaddr *)&ai->_ai_addr;
    if (a->family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ai->_ai_addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(t->port);
        memcpy(&sin->sin_addr, a->bytes, 4);
        ai->ai_addrlen = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ai->_ai_addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(t->port);
        memcpy(&sin6->sin6_addr, a->bytes, 16);
        sin6->sin6_scope_id = a->scope_id;
        ai->ai_addrlen = sizeof(*sin6);
    }
    return ai;
}

int zsock_getaddrinfo(const char *host, const char *service, const struct zsock_addrinfo *hints,
                      struct zsock_addrinfo **res)
{
    static const struct zsock_addrinfo no_hints;
    struct gai_target targets[ARRAY_SIZE(sock_kinds)];
    size_t ntargets = 0;
    struct gai_host h;
    const char *canon = NULL;
    int err;

    if (res == NULL) {
        errno = EFAULT;
        return EAI_SYSTEM;
    }
    *res = NULL;
    if (host == NULL && service == NULL) {
        return EAI_NONAME;
    }
    /* POSIX: no hints is the same as zeroed hints (glibc would add
     * AI_V4MAPPED | AI_ADDRCONFIG). */
    if (hints == NULL) {
        hints = &no_hints;
    }
    if ((hints->ai_flags & ~KNOWN_AI_FLAGS) != 0) {
        return EAI_BADFLAGS;
    }
    /* RFC 5014 extended flags: none is defined, so any set bit is unknown. */
    if ((hints->ai_flags & AI_EXTFLAGS) != 0 && hints->ai_eflags != 0) {
        return EAI_BADFLAGS;
    }
    if ((hints->ai_flags & AI_CANONNAME) != 0 && host == NULL) {
        return EAI_BADFLAGS;
    }
    if (hints->ai_family != AF_UNSPEC && hints->ai_family != AF_INET &&
        hints->ai_family != AF_INET6) {
        return EAI_FAMILY;
    }

    err = select_targets(hints, service, targets, &ntargets);
    if (err != 0) {
        return err;
    }
    err = lookup_host(host, hints, &h, &canon);
    if (err != 0) {
        return err;
    }

    struct zsock_addrinfo *head = NULL;
    struct zsock_addrinfo **tail = &head;
    for (size_t i = 0; i < h.count; i++) {
        for (size_t j = 0; j < ntargets; j++) {
            struct zsock_addrinfo *ai = new_entry(&h.addr[i], &targets[j], hints->ai_flags);
            if (ai == NULL) {
                zsock_freeaddrinfo(head);
                return EAI_MEMORY;
            }
            *tail = ai;
            tail = &ai->ai_next;
        }
    }
    if ((hints->ai_flags & AI_CANONNAME) != 0 && canon != NULL) {
        size_t len = strlen(canon) + 1;
        head->ai_canonname = z_malloc(len);
        if (head->ai_canonname == NULL) {
            zsock_freeaddrinfo(head);
            return EAI_MEMORY;
        }
        memcpy(head->ai_canonname, canon, len);
    }
    *res = head;
    return 0;
}

static int copy_out(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);

    if (len >= size) {
        return EAI_OVERFLOW;
    }
    memcpy(dst, src, len + 1);
    return 0;
}

int zsock_getnameinfo(const struct sockaddr *addr, socklen_t addrlen, char *host, socklen_t hostlen,
                      char *serv, socklen_t servlen, int flags)
{
    struct gai_addr a;
    uint16_t port;
    sa_family_t family;
    bool want_host = host != NULL && hostlen > 0;
    bool want_serv = serv != NULL && servlen > 0;
    int err;

    if (addr == NULL || addrlen < offsetof(struct sockaddr, sa_family) + sizeof(sa_family_t)) {
        return EAI_FAMILY;
    }
    if ((flags & ~KNOWN_NI_FLAGS) != 0) {
        return EAI_BADFLAGS;
    }
    /* The caller's buffer need not be aligned for the sockaddr type. */
    memcpy(&family, (const char *)addr + offsetof(struct sockaddr, sa_family), sizeof(family));
    if (family == AF_INET && addrlen >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in sin;
        memcpy(&sin, addr, sizeof(sin));
        set_addr(&a, AF_INET, (const uint8_t *)&sin.sin_addr, 0);
        port = ntohs(sin.sin_port);
    } else if (family == AF_INET6 && addrlen >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, addr, sizeof(sin6));
        set_addr(&a, AF_INET6, (const uint8_t *)&sin6.sin6_addr, sin6.sin6_scope_id);
        port = ntohs(sin6.sin6_port);
    } else {
        return EAI_FAMILY;
    }
    /* POSIX: asking for neither host nor service is an error (glibc
     * returns success without doing anything). */
    if (!want_host && !want_serv) {
        return EAI_NONAME;
    }

    if (want_host) {
        char name[ZSOCK_DNS_MAX_NAME_SIZE];

        err = EAI_NONAME;
        if ((flags & NI_NUMERICHOST) == 0) {
            err = reverse_name(&a, name, sizeof(name));
            if (err == 0 && (flags & NI_NOFQDN) != 0) {
                char *dot = strchr(name, '.');
                if (dot != NULL) {
                    *dot = '\0'; /* the host part only */
                }
            }
        }
        if (err == EAI_OVERFLOW || err == EAI_MEMORY) {
            return err;
        }
        if (err != 0) {
            /* A name was required: say whether asking again may help. */
            if ((flags & NI_NAMEREQD) != 0) {
                return err == EAI_AGAIN ? EAI_AGAIN : EAI_NONAME;
            }
            /* Numeric form, with the zone of any scoped IPv6 address as
             * glibc prints it (by number: there is no interface table). */
            zsock_inet_ntop((sa_family_t)a.family, a.bytes, name, INET6_ADDRSTRLEN);
            if (a.family == AF_INET6 && a.scope_id != 0) {
                size_t len = strlen(name);
                z_snprintf(name + len, sizeof(name) - len, "%%%lu", (unsigned long)a.scope_id);
            }
        }
        err = copy_out(host, hostlen, name);
        if (err != 0) {
            return err;
        }
    }

    if (want_serv) {
        char text[sizeof("65535")];
        const struct service *svc = NULL;

        if ((flags & NI_NUMERICSERV) == 0) {
            svc = service_by_port(port, (flags & NI_DGRAM) != 0 ? SVC_UDP : SVC_TCP);
        }
        if (svc != NULL) {
            err = copy_out(serv, servlen, svc->name);
        } else {
            z_snprintf(text, sizeof(text), "%u", (unsigned int)port);
            err = copy_out(serv, servlen, text);
        }
        if (err != 0) {
            return err;
        }
    }
    return 0;
}

const char *zsock_gai_strerror(int errcode)
{
    switch (errcode) {
    case EAI_BADFLAGS:
        return "Bad value for ai_flags";
    case EAI_NONAME:
        return "Name or service not known";
    case EAI_AGAIN:
        return "Temporary failure in name resolution";
    case EAI_FAIL:
        return "Non-recoverable failure in name resolution";
    case EAI_NODATA:
        return "No address associated with hostname";
    case EAI_FAMILY:
        return "ai_family not supported";
    case EAI_SOCKTYPE:
        return "ai_socktype not supported";
    case EAI_SERVICE:
        return "Servname not supported for ai_socktype";
    case EAI_ADDRFAMILY:
        return "Address family for hostname not supported";
    case EAI_MEMORY:
        return "Memory allocation failure";
    case EAI_SYSTEM:
        return "System error";
    case EAI_OVERFLOW:
        return "Argument buffer too small";
    default:
        return "Unknown error";
    }
}
