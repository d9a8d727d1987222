/* Unit tests for zsock_getaddrinfo/zsock_getnameinfo/zsock_gai_strerror:
 * every error code and flag, the built-in names and services, allocation
 * failures, and differential runs against the C library's implementation. */
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
#include <net/if.h>
#include <netdb.h>

#include <cmocka.h>

#include <zsock/socket.h>

#include "unit/test_util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- Allocation failure injection -------------------------------------------
 * This binary's malloc/calloc/free stand in front of the allocator that
 * would otherwise serve the process (the sanitizer's when one is linked in,
 * else glibc's), so that a chosen allocation inside zsock_getaddrinfo() fails
 * and every block still held afterwards can be counted. They can run before
 * a sanitizer is initialised, so they are not instrumented. */

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#endif

#if defined(CONFIG_ZSOCK_STATIC_MEMORY)
/* zsock allocates from its own arena (z_malloc), never from malloc: nothing
 * to intercept here. The arena's own failures are tested in test_heap. */
#elif defined(UNDER_SANITIZER)
void *__interceptor_malloc(size_t size);
void *__interceptor_calloc(size_t n, size_t size);
void __interceptor_free(void *p);
#define next_malloc __interceptor_malloc
#define next_calloc __interceptor_calloc
#define next_free   __interceptor_free
#define CAN_INJECT  1
#elif defined(__GLIBC__)
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void __libc_free(void *p);
#define next_malloc __libc_malloc
#define next_calloc __libc_calloc
#define next_free   __libc_free
#define CAN_INJECT  1
#endif

static bool alloc_armed;
static int alloc_fail_at; /* index of the allocation to fail, -1: none */
static int alloc_seen;
#define MAX_TRACKED 128
static void *tracked[MAX_TRACKED] __attribute__((unused)); /* unused when nothing is intercepted */
static int ntracked;

#if defined(CAN_INJECT)
#define NOT_INSTRUMENTED __attribute__((no_sanitize("address", "thread", "undefined")))

NOT_INSTRUMENTED void *malloc(size_t size)
{
    if (alloc_armed && alloc_seen++ == alloc_fail_at) {
        return NULL;
    }
    void *p = next_malloc(size);
    if (alloc_armed && p != NULL && ntracked < MAX_TRACKED) {
        tracked[ntracked++] = p;
    }
    return p;
}

NOT_INSTRUMENTED void *calloc(size_t n, size_t size)
{
    if (alloc_armed && alloc_seen++ == alloc_fail_at) {
        return NULL;
    }
    void *p = next_calloc(n, size);
    if (alloc_armed && p != NULL && ntracked < MAX_TRACKED) {
        tracked[ntracked++] = p;
    }
    return p;
}

NOT_INSTRUMENTED void free(void *p)
{
    if (alloc_armed) {
        for (int i = 0; i < ntracked; i++) {
            if (tracked[i] == p) {
                tracked[i] = tracked[--ntracked];
                break;
            }
        }
    }
    next_free(p);
}
#endif

static void arm_allocations(int fail_at)
{
    alloc_seen = 0;
    alloc_fail_at = fail_at;
    ntracked = 0;
    alloc_armed = true;
}

static void disarm_allocations(void)
{
    alloc_armed = false;
}

/* ---- Helpers ----------------------------------------------------------------- */

/* One result entry in a form both libraries' lists convert to (their
 * struct addrinfo orders the fields differently). */
struct flat {
    int flags, family, socktype, protocol;
    socklen_t addrlen;
    struct sockaddr_storage addr;
    bool has_canon;
    char canon[ZSOCK_DNS_MAX_NAME_SIZE];
};

#define MAX_FLAT 32

static size_t flatten_zsock(const struct zsock_addrinfo *ai, struct flat *out)
{
    size_t n = 0;

    for (; ai != NULL; ai = ai->ai_next) {
        assert_true(n < MAX_FLAT);
        struct flat *f = &out[n++];
        memset(f, 0, sizeof(*f));
        f->flags = ai->ai_flags;
        f->family = ai->ai_family;
        f->socktype = ai->ai_socktype;
        f->protocol = ai->ai_protocol;
        f->addrlen = ai->ai_addrlen;
        assert_ptr_equal(ai->ai_addr, (const struct sockaddr *)&ai->_ai_addr);
        assert_true(ai->ai_addrlen <= sizeof(f->addr));
        memcpy(&f->addr, ai->ai_addr, ai->ai_addrlen);
        assert_int_equal(ai->ai_eflags, 0);
        if (ai->ai_canonname != NULL) {
            f->has_canon = true;
            snprintf(f->canon, sizeof(f->canon), "%s", ai->ai_canonname);
        }
    }
    return n;
}

static size_t flatten_libc(const struct addrinfo *ai, struct flat *out)
{
    size_t n = 0;

    for (; ai != NULL; ai = ai->ai_next) {
        assert_true(n < MAX_FLAT);
        struct flat *f = &out[n++];
        memset(f, 0, sizeof(*f));
        f->flags = ai->ai_flags;
        f->family = ai->ai_family;
        f->socktype = ai->ai_socktype;
        f->protocol = ai->ai_protocol;
        f->addrlen = ai->ai_addrlen;
        memcpy(&f->addr, ai->ai_addr, ai->ai_addrlen);
        if (ai->ai_canonname != NULL) {
            f->has_canon = true;
            snprintf(f->canon, sizeof(f->canon), "%s", ai->ai_canonname);
        }
    }
    return n;
}

static void describe(const struct flat *f, char *out, size_t size)
{
    char addr[INET6_ADDRSTRLEN] = "?";
    unsigned int port = 0, scope = 0;

    if (f->family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&f->addr;
        inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
        port = ntohs(sin->sin_port);
    } else if (f->family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&f->addr;
        inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
        port = ntohs(sin6->sin6_port);
        scope = sin6->sin6_scope_id;
    }
    snprintf(out, size, "{fl %#x fam %d st %d pr %d len %u %s%%%u port %u canon %s}", f->flags,
             f->family, f->socktype, f->protocol, (unsigned int)f->addrlen, addr, scope, port,
             f->has_canon ? f->canon : "-");
}

static bool flat_equal(const struct flat *a, const struct flat *b)
{
    return a->flags == b->flags && a->family == b->family && a->socktype == b->socktype &&
           a->protocol == b->protocol && a->addrlen == b->addrlen &&
           memcmp(&a->addr, &b->addr, a->addrlen) == 0 && a->has_canon == b->has_canon &&
           strcmp(a->canon, b->canon) == 0;
}

/* Runs zsock_getaddrinfo and returns the code; the list goes to out/count. */
static int zgai(const char *host, const char *serv, int family, int socktype, int protocol,
                int flags, struct flat *out, size_t *count)
{
    struct zsock_addrinfo hints;
    struct zsock_addrinfo *res = (struct zsock_addrinfo *)&res; /* must be reset */

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = flags;
    int r = zsock_getaddrinfo(host, serv, &hints, &res);
    if (r != 0) {
        assert_null(res);
        *count = 0;
        return r;
    }
    assert_non_null(res);
    *count = flatten_zsock(res, out);
    zsock_freeaddrinfo(res);
    return 0;
}

static int zgai_code(const char *host, const char *serv, int family, int socktype, int protocol,
                     int flags)
{
    struct flat list[MAX_FLAT];
    size_t n;
    return zgai(host, serv, family, socktype, protocol, flags, list, &n);
}

static void make_flat(struct flat *f, int flags, int family, int socktype, int protocol,
                      const char *addr, uint16_t port, uint32_t scope, const char *canon)
{
    memset(f, 0, sizeof(*f));
    f->flags = flags;
    f->family = family;
    f->socktype = socktype;
    f->protocol = protocol;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&f->addr;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
        f->addrlen = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&f->addr;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        sin6->sin6_scope_id = scope;
        assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
        f->addrlen = sizeof(*sin6);
    }
    if (canon != NULL) {
        f->has_canon = true;
        snprintf(f->canon, sizeof(f->canon), "%s", canon);
    }
}

static void expect_lists_equal(const char *what, const struct flat *got, size_t ngot,
                               const struct flat *want, size_t nwant)
{
    char a[512], b[512];

    if (ngot != nwant) {
        fail_msg("%s: %zu entries, expected %zu", what, ngot, nwant);
    }
    for (size_t i = 0; i < ngot; i++) {
        if (!flat_equal(&got[i], &want[i])) {
            describe(&got[i], a, sizeof(a));
            describe(&want[i], b, sizeof(b));
            fail_msg("%s: entry %zu is %s, expected %s", what, i, a, b);
        }
    }
}

/* Expected list: each address (with scope) times each socktype/protocol. */
struct want_addr {
    int family;
    const char *addr;
    uint32_t scope;
};
struct want_kind {
    int socktype, protocol;
};

static void expect_gai(const char *host, const char *serv, int family, int socktype, int protocol,
                       int flags, const struct want_addr *addrs, size_t naddrs,
                       const struct want_kind *kinds, size_t nkinds, uint16_t port,
                       const char *canon)
{
    struct flat got[MAX_FLAT], want[MAX_FLAT];
    size_t ngot, nwant = 0;
    char what[256];

    snprintf(what, sizeof(what), "getaddrinfo(%s, %s, fam %d st %d pr %d fl %#x)",
             host ? host : "NULL", serv ? serv : "NULL", family, socktype, protocol, flags);
    int r = zgai(host, serv, family, socktype, protocol, flags, got, &ngot);
    if (r != 0) {
        fail_msg("%s = %d (%s)", what, r, zsock_gai_strerror(r));
    }
    for (size_t i = 0; i < naddrs; i++) {
        for (size_t j = 0; j < nkinds; j++) {
            make_flat(&want[nwant], flags, addrs[i].family, kinds[j].socktype, kinds[j].protocol,
                      addrs[i].addr, port, addrs[i].scope, nwant == 0 ? canon : NULL);
            nwant++;
        }
    }
    expect_lists_equal(what, got, ngot, want, nwant);
}

static const struct want_kind all_kinds[] = {
    {SOCK_STREAM, IPPROTO_TCP}, {SOCK_DGRAM, IPPROTO_UDP}, {SOCK_RAW, 0}};
static const struct want_kind tcp_kind[] = {{SOCK_STREAM, IPPROTO_TCP}};
static const struct want_kind udp_kind[] = {{SOCK_DGRAM, IPPROTO_UDP}};
static const struct want_kind tcp_udp_kinds[] = {{SOCK_STREAM, IPPROTO_TCP},
                                                 {SOCK_DGRAM, IPPROTO_UDP}};

/* The services zsock knows, as the specification lists them. */
struct known_service {
    const char *name;
    uint16_t port;
    bool tcp, udp;
};

static const struct known_service known_services[] = {
    {"echo", 7, true, true},     {"discard", 9, true, true},        {"daytime", 13, true, true},
    {"ftp", 21, true, false},    {"ssh", 22, true, false},          {"telnet", 23, true, false},
    {"smtp", 25, true, false},   {"domain", 53, true, true},        {"http", 80, true, false},
    {"pop3", 110, true, false},  {"ntp", 123, false, true},         {"imap", 143, true, false},
    {"snmp", 161, true, true},   {"ldap", 389, true, true},         {"https", 443, true, true},
    {"mqtt", 1883, true, true},  {"secure-mqtt", 8883, true, true}, {"coap", 5683, true, true},
    {"coaps", 5684, true, true},
};

static int restore_hostname(void **state)
{
    (void)state;
    assert_int_equal(zsock_sethostname(CONFIG_NET_HOSTNAME, strlen(CONFIG_NET_HOSTNAME)), 0);
    return 0;
}

/* ---- gai_strerror / freeaddrinfo --------------------------------------------- */

static void test_gai_strerror(void **state)
{
    static const int codes[] = {EAI_BADFLAGS,   EAI_NONAME, EAI_AGAIN,    EAI_FAIL,
                                EAI_NODATA,     EAI_FAMILY, EAI_SOCKTYPE, EAI_SERVICE,
                                EAI_ADDRFAMILY, EAI_MEMORY, EAI_SYSTEM};
    (void)state;

    /* The same words as glibc for every code both have. */
    for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
        assert_string_equal(zsock_gai_strerror(codes[i]), gai_strerror(codes[i]));
    }
    /* glibc 2.36 has no text for EAI_OVERFLOW; zsock has one. */
    assert_string_equal(zsock_gai_strerror(EAI_OVERFLOW), "Argument buffer too small");
    assert_string_equal(zsock_gai_strerror(0), "Unknown error");
    assert_string_equal(zsock_gai_strerror(12345), "Unknown error");
    assert_string_equal(zsock_gai_strerror(-12345), "Unknown error");
    for (int e = -1000; e <= 1000; e++) {
        const char *s = zsock_gai_strerror(e);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
    }
    assert_string_equal(zsock_gai_strerror(DNS_EAI_NONAME), zsock_gai_strerror(EAI_NONAME));
    assert_int_equal(DNS_EAI_OVERFLOW, EAI_OVERFLOW);
    assert_int_equal(DNS_EAI_ADDRFAMILY, EAI_ADDRFAMILY);
}

static void test_freeaddrinfo_null(void **state)
{
    (void)state;
    zsock_freeaddrinfo(NULL);
}

/* ---- getaddrinfo: errors ------------------------------------------------------ */

struct gai_error_case {
    const char *host, *serv;
    int family, socktype, protocol, flags;
    int want;
};

static void test_gai_errors(void **state)
{
    static const struct gai_error_case cases[] = {
        /* Nothing to look up. */
        {NULL, NULL, AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {NULL, NULL, 99, 77, 0, 0x10000, EAI_NONAME},
        /* Flags. */
        {"1.2.3.4", NULL, AF_UNSPEC, 0, 0, 0x40, EAI_BADFLAGS},
        {"1.2.3.4", NULL, AF_UNSPEC, 0, 0, 0x80, EAI_BADFLAGS},
        {"1.2.3.4", NULL, AF_UNSPEC, 0, 0, 0x100, EAI_BADFLAGS},
        {"1.2.3.4", NULL, AF_UNSPEC, 0, 0, 0x200, EAI_BADFLAGS},
        {"1.2.3.4", NULL, AF_UNSPEC, 0, 0, 0x1000, EAI_BADFLAGS},
        {"1.2.3.4", NULL, AF_UNSPEC, 0, 0, (int)0x80000000u, EAI_BADFLAGS},
        {NULL, "80", AF_UNSPEC, 0, 0, AI_CANONNAME, EAI_BADFLAGS},
        {NULL, "80", 99, 77, 0, 0x1000, EAI_BADFLAGS},
        /* Family. */
        {"1.2.3.4", NULL, AF_UNIX, 0, 0, 0, EAI_FAMILY},
        {"1.2.3.4", NULL, 99, 0, 0, 0, EAI_FAMILY},
        {"1.2.3.4", NULL, -1, 0, 0, 0, EAI_FAMILY},
        {"1.2.3.4", "http", 99, 77, 0, AI_NUMERICSERV, EAI_FAMILY},
        /* Socket type and protocol. */
        {"1.2.3.4", NULL, AF_UNSPEC, SOCK_SEQPACKET, 0, 0, EAI_SOCKTYPE},
        {"1.2.3.4", NULL, AF_UNSPEC, 77, 0, 0, EAI_SOCKTYPE},
        {"1.2.3.4", NULL, AF_UNSPEC, -1, 0, 0, EAI_SOCKTYPE},
        {"1.2.3.4", NULL, AF_UNSPEC, SOCK_STREAM | SOCK_NONBLOCK, 0, 0, EAI_SOCKTYPE},
        {"1.2.3.4", NULL, AF_UNSPEC, SOCK_STREAM, IPPROTO_UDP, 0, EAI_SOCKTYPE},
        {"1.2.3.4", NULL, AF_UNSPEC, SOCK_DGRAM, IPPROTO_TCP, 0, EAI_SOCKTYPE},
        {"1.2.3.4", NULL, AF_UNSPEC, SOCK_STREAM, IPPROTO_ICMP, 0, EAI_SOCKTYPE},
        {"1.2.3.4", "nosuch", AF_UNSPEC, 77, 0, 0, EAI_SOCKTYPE},
        /* AI_NUMERICSERV is checked before the socket type. */
        {"1.2.3.4", "http", AF_UNSPEC, 77, 0, AI_NUMERICSERV, EAI_NONAME},
        {"1.2.3.4", "", AF_UNSPEC, 0, 0, AI_NUMERICSERV, EAI_NONAME},
        {"1.2.3.4", "8O", AF_UNSPEC, 0, 0, AI_NUMERICSERV, EAI_NONAME},
        /* Services. */
        {"1.2.3.4", "nosuch", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "HTTP", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "65536", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "65536", AF_UNSPEC, 0, 0, AI_NUMERICSERV, EAI_SERVICE},
        {"1.2.3.4", "4294967376", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "99999999999999999999999", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", " 80", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "+80", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "-1", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "0x50", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "80 ", AF_UNSPEC, 0, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "ntp", AF_UNSPEC, SOCK_STREAM, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "ntp", AF_UNSPEC, 0, IPPROTO_TCP, 0, EAI_SERVICE},
        {"1.2.3.4", "ssh", AF_UNSPEC, SOCK_DGRAM, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "80", AF_UNSPEC, SOCK_RAW, 0, 0, EAI_SERVICE},
        {"1.2.3.4", "80", AF_UNSPEC, 0, IPPROTO_ICMP, 0, EAI_SERVICE},
        {"1.2.3.4", "http", AF_UNSPEC, SOCK_RAW, IPPROTO_TCP, 0, EAI_SERVICE},
        {"not a host", "nosuch", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_SERVICE},
        /* Hosts. */
        {"", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_NONAME},
        {"localhost", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_NONAME},
        /* No DNS server configured: a name may resolve once one is (DHCP). */
        {"example.com", "80", AF_UNSPEC, 0, 0, 0, EAI_AGAIN},
        /* Not numeric (inet_pton's strict forms), but host names DNS is asked for. */
        {"1.2.3", "80", AF_UNSPEC, 0, 0, 0, EAI_AGAIN},
        {"0x7f.1", "80", AF_UNSPEC, 0, 0, 0, EAI_AGAIN},
        {"01.2.3.4", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_NONAME},
        {" 1.2.3.4", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_NONAME},
        {"1.2.3.4 ", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_NONAME},
        {"1.2.3.4%1", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"[1.2.3.4]", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"[::1]:80", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"[::1", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"::1]", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"[", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"[]", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"[[::1]]", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"::1::", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_NONAME},
        {"fe80::1%", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_NONAME},
        {"fe80::1%lo", "80", AF_UNSPEC, 0, 0, AI_NUMERICHOST, EAI_NONAME},
        {"fe80::1%lo", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"fe80::1%eth0", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"fe80::1%+3", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"fe80::1%-1", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"fe80::1%3x", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"fe80::1%3%4", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"fe80::1%4294967296", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"fe80::1%99999999999999999999", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"fe80::1%%3", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"%3", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        {"0000:0000:0000:0000:0000:0000:0000:0000:0", "80", AF_UNSPEC, 0, 0, 0, EAI_NONAME},
        /* A literal of the other family. */
        {"1.2.3.4", NULL, AF_INET6, 0, 0, 0, EAI_ADDRFAMILY},
        {"1.2.3.4", NULL, AF_INET6, 0, 0, AI_NUMERICHOST | AI_ALL, EAI_ADDRFAMILY},
        {"::1", NULL, AF_INET, 0, 0, 0, EAI_ADDRFAMILY},
        {"::1", NULL, AF_INET, 0, 0, AI_V4MAPPED, EAI_ADDRFAMILY},
        {"::1.2.3.4", NULL, AF_INET, 0, 0, AI_NUMERICHOST, EAI_ADDRFAMILY},
        {"::ffff:1.2.3.4", NULL, AF_INET6, 0, 0, AI_NUMERICHOST, 0},
        {"[::1]", NULL, AF_INET, 0, 0, 0, EAI_ADDRFAMILY},
        {"::1%x", NULL, AF_INET, 0, 0, 0, EAI_ADDRFAMILY},
        {"::ffff:1.2.3.4%x", NULL, AF_INET, 0, 0, 0, EAI_NONAME},
        {"::1%x", NULL, AF_INET6, 0, 0, 0, EAI_NONAME},
        /* A name without an address of the family asked for. */
        {CONFIG_NET_HOSTNAME, NULL, AF_INET6, 0, 0, 0, EAI_NODATA}, /* IPv4 only */
    };
    (void)state;

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct gai_error_case *c = &cases[i];
        int r = zgai_code(c->host, c->serv, c->family, c->socktype, c->protocol, c->flags);
        if (r != c->want) {
            fail_msg("case %zu: getaddrinfo(\"%s\", \"%s\", fam %d st %d pr %d fl %#x) = %d, "
                     "expected %d",
                     i, c->host ? c->host : "NULL", c->serv ? c->serv : "NULL", c->family,
                     c->socktype, c->protocol, c->flags, r, c->want);
        }
    }
}

static void test_gai_bad_pointers(void **state)
{
    struct zsock_addrinfo hints;
    (void)state;

    errno = 0;
    assert_int_equal(zsock_getaddrinfo("1.2.3.4", "80", NULL, NULL), EAI_SYSTEM);
    assert_int_equal(errno, EFAULT);

    /* RFC 5014 extended flags: accepted as long as none is set. */
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_EXTFLAGS;
    struct zsock_addrinfo *res = NULL;
    assert_int_equal(zsock_getaddrinfo("1.2.3.4", "80", &hints, &res), 0);
    zsock_freeaddrinfo(res);
    hints.ai_eflags = 1;
    assert_int_equal(zsock_getaddrinfo("1.2.3.4", "80", &hints, &res), EAI_BADFLAGS);
    assert_null(res);
    /* ai_eflags means nothing without AI_EXTFLAGS. */
    hints.ai_flags = 0;
    assert_int_equal(zsock_getaddrinfo("1.2.3.4", "80", &hints, &res), 0);
    zsock_freeaddrinfo(res);

    /* A host name far beyond any limit is just an unknown name. */
    size_t len = 100000;
    char *big = malloc(len + 1);
    assert_non_null(big);
    memset(big, 'a', len);
    big[len] = '\0';
    assert_int_equal(zsock_getaddrinfo(big, "80", NULL, &res), EAI_NONAME);
    big[0] = '[';
    big[len - 1] = ']';
    assert_int_equal(zsock_getaddrinfo(big, "80", NULL, &res), EAI_NONAME);
    memcpy(big, "fe80::1%", 8);
    memset(big + 8, '1', len - 8);
    assert_int_equal(zsock_getaddrinfo(big, "80", NULL, &res), EAI_NONAME);
    free(big);
}

/* ---- getaddrinfo: results ------------------------------------------------------ */

static void test_gai_numeric_hosts(void **state)
{
    static const struct want_addr a1234[] = {{AF_INET, "1.2.3.4", 0}};
    static const struct want_addr v6loop[] = {{AF_INET6, "::1", 0}};
    static const struct want_addr mapped[] = {{AF_INET6, "::ffff:1.2.3.4", 0}};
    static const struct want_addr scoped[] = {{AF_INET6, "fe80::1", 3}};
    static const struct want_addr scoped_max[] = {{AF_INET6, "fe80::1", 4294967295u}};
    static const struct want_addr scoped_global[] = {{AF_INET6, "2001:db8::1", 7}};
    (void)state;

    /* NULL hints mean zeroed hints: every socket kind, flags 0. */
    struct zsock_addrinfo *res = NULL;
    struct flat got[MAX_FLAT], want[3];
    assert_int_equal(zsock_getaddrinfo("1.2.3.4", "80", NULL, &res), 0);
    size_t n = flatten_zsock(res, got);
    zsock_freeaddrinfo(res);
    for (size_t i = 0; i < 3; i++) {
        make_flat(&want[i], 0, AF_INET, all_kinds[i].socktype, all_kinds[i].protocol, "1.2.3.4", 80,
                  0, NULL);
    }
    expect_lists_equal("NULL hints", got, n, want, 3);

    expect_gai("1.2.3.4", "80", AF_UNSPEC, 0, 0, 0, a1234, 1, all_kinds, 3, 80, NULL);
    expect_gai("1.2.3.4", "80", AF_INET, SOCK_STREAM, 0, 0, a1234, 1, tcp_kind, 1, 80, NULL);
    expect_gai("1.2.3.4", "80", AF_INET, 0, IPPROTO_UDP, 0, a1234, 1, udp_kind, 1, 80, NULL);
    expect_gai("1.2.3.4", "080", AF_INET, SOCK_DGRAM, IPPROTO_UDP, 0, a1234, 1, udp_kind, 1, 80,
               NULL);
    expect_gai("1.2.3.4", "0", AF_INET, SOCK_STREAM, 0, 0, a1234, 1, tcp_kind, 1, 0, NULL);
    expect_gai("1.2.3.4", "65535", AF_INET, SOCK_STREAM, 0, 0, a1234, 1, tcp_kind, 1, 65535, NULL);
    expect_gai("1.2.3.4", "00000000000000000000000065535", AF_INET, SOCK_STREAM, 0, 0, a1234, 1,
               tcp_kind, 1, 65535, NULL);
    expect_gai("1.2.3.4", NULL, AF_UNSPEC, 0, 0, AI_CANONNAME, a1234, 1, all_kinds, 3, 0,
               "1.2.3.4");
    expect_gai("1.2.3.4", NULL, AF_UNSPEC, 0, 0, AI_PASSIVE | AI_ADDRCONFIG, a1234, 1, all_kinds, 3,
               0, NULL);

    /* Raw sockets take any protocol and no service. */
    static const struct want_kind raw_icmp[] = {{SOCK_RAW, IPPROTO_ICMP}};
    static const struct want_kind raw_tcp[] = {{SOCK_RAW, IPPROTO_TCP}};
    static const struct want_kind raw_0[] = {{SOCK_RAW, 0}};
    expect_gai("1.2.3.4", NULL, AF_INET, 0, IPPROTO_ICMP, 0, a1234, 1, raw_icmp, 1, 0, NULL);
    expect_gai("1.2.3.4", NULL, AF_INET, SOCK_RAW, IPPROTO_TCP, 0, a1234, 1, raw_tcp, 1, 0, NULL);
    expect_gai("1.2.3.4", NULL, AF_INET, SOCK_RAW, 0, 0, a1234, 1, raw_0, 1, 0, NULL);

    /* IPv6 literals: plain, bracketed, with a numeric zone. */
    expect_gai("::1", "443", AF_UNSPEC, SOCK_STREAM, 0, 0, v6loop, 1, tcp_kind, 1, 443, NULL);
    expect_gai("[::1]", "443", AF_INET6, SOCK_STREAM, 0, 0, v6loop, 1, tcp_kind, 1, 443, NULL);
    expect_gai("0:0:0:0:0:0:0:1", "1", AF_INET6, SOCK_DGRAM, 0, AI_NUMERICHOST | AI_CANONNAME,
               v6loop, 1, udp_kind, 1, 1, "0:0:0:0:0:0:0:1");
    expect_gai("fe80::1%3", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, scoped, 1, tcp_kind, 1, 80, NULL);
    expect_gai("[fe80::1%3]", "80", AF_UNSPEC, SOCK_STREAM, 0, AI_NUMERICHOST, scoped, 1, tcp_kind,
               1, 80, NULL);
    expect_gai("FE80::1%0003", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, scoped, 1, tcp_kind, 1, 80,
               NULL);
    expect_gai("fe80::1%4294967295", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, scoped_max, 1, tcp_kind, 1,
               80, NULL);
    expect_gai("2001:db8::1%7", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, scoped_global, 1, tcp_kind, 1,
               80, NULL);

    /* IPv4 literals as mapped IPv6 addresses on request. */
    expect_gai("1.2.3.4", "80", AF_INET6, 0, 0, AI_V4MAPPED, mapped, 1, all_kinds, 3, 80, NULL);
    expect_gai("1.2.3.4", "80", AF_INET6, SOCK_STREAM, 0,
               AI_V4MAPPED | AI_ALL | AI_NUMERICHOST | AI_CANONNAME, mapped, 1, tcp_kind, 1, 80,
               "1.2.3.4");
    /* A mapped literal asked for as IPv4 is that IPv4 address (zone dropped). */
    expect_gai("::ffff:1.2.3.4", "80", AF_INET, SOCK_STREAM, 0, 0, a1234, 1, tcp_kind, 1, 80, NULL);
    expect_gai("[::FFFF:102:304%9]", "80", AF_INET, SOCK_STREAM, 0, AI_CANONNAME, a1234, 1,
               tcp_kind, 1, 80, "[::FFFF:102:304%9]");
    expect_gai("::ffff:1.2.3.4", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, mapped, 1, tcp_kind, 1, 80,
               NULL);
    /* ... and only for AF_INET6. */
    expect_gai("1.2.3.4", "80", AF_UNSPEC, SOCK_STREAM, 0, AI_V4MAPPED, a1234, 1, tcp_kind, 1, 80,
               NULL);
    expect_gai("1.2.3.4", "80", AF_INET, SOCK_STREAM, 0, AI_V4MAPPED, a1234, 1, tcp_kind, 1, 80,
               NULL);
}

static void test_gai_null_host(void **state)
{
    static const struct want_addr loop_all[] = {{AF_INET6, "::1", 0}, {AF_INET, "127.0.0.1", 0}};
    static const struct want_addr any_all[] = {{AF_INET, "0.0.0.0", 0}, {AF_INET6, "::", 0}};
    (void)state;

    expect_gai(NULL, "80", AF_UNSPEC, 0, 0, 0, loop_all, 2, all_kinds, 3, 80, NULL);
    expect_gai(NULL, "80", AF_UNSPEC, SOCK_STREAM, 0, 0, loop_all, 2, tcp_kind, 1, 80, NULL);
    expect_gai(NULL, "80", AF_INET, SOCK_STREAM, 0, 0, &loop_all[1], 1, tcp_kind, 1, 80, NULL);
    expect_gai(NULL, "80", AF_INET6, SOCK_STREAM, 0, 0, &loop_all[0], 1, tcp_kind, 1, 80, NULL);
    expect_gai(NULL, "80", AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED | AI_ALL, &loop_all[0], 1,
               tcp_kind, 1, 80, NULL);
    expect_gai(NULL, "80", AF_UNSPEC, 0, 0, AI_PASSIVE, any_all, 2, all_kinds, 3, 80, NULL);
    expect_gai(NULL, "5683", AF_UNSPEC, SOCK_DGRAM, 0, AI_PASSIVE, any_all, 2, udp_kind, 1, 5683,
               NULL);
    expect_gai(NULL, "80", AF_INET, 0, 0, AI_PASSIVE, &any_all[0], 1, all_kinds, 3, 80, NULL);
    expect_gai(NULL, "80", AF_INET6, 0, 0, AI_PASSIVE, &any_all[1], 1, all_kinds, 3, 80, NULL);
}

static void test_gai_services(void **state)
{
    static const struct want_addr a[] = {{AF_INET, "10.0.0.1", 0}};
    (void)state;

    for (size_t i = 0; i < ARRAY_SIZE(known_services); i++) {
        const struct known_service *s = &known_services[i];
        const struct want_kind *kinds = s->tcp && s->udp ? tcp_udp_kinds
                                        : s->tcp         ? tcp_kind
                                                         : udp_kind;
        size_t nkinds = s->tcp && s->udp ? 2 : 1;

        expect_gai("10.0.0.1", s->name, AF_UNSPEC, 0, 0, 0, a, 1, kinds, nkinds, s->port, NULL);
        assert_int_equal(zgai_code("10.0.0.1", s->name, AF_UNSPEC, SOCK_STREAM, 0, 0),
                         s->tcp ? 0 : EAI_SERVICE);
        assert_int_equal(zgai_code("10.0.0.1", s->name, AF_UNSPEC, SOCK_DGRAM, 0, 0),
                         s->udp ? 0 : EAI_SERVICE);
        assert_int_equal(zgai_code("10.0.0.1", s->name, AF_UNSPEC, 0, IPPROTO_TCP, 0),
                         s->tcp ? 0 : EAI_SERVICE);
        assert_int_equal(zgai_code("10.0.0.1", s->name, AF_UNSPEC, SOCK_RAW, 0, 0), EAI_SERVICE);
        assert_int_equal(zgai_code("10.0.0.1", s->name, AF_UNSPEC, 0, 0, AI_NUMERICSERV),
                         EAI_NONAME);
        if (s->udp) {
            expect_gai("10.0.0.1", s->name, AF_INET, SOCK_DGRAM, IPPROTO_UDP, 0, a, 1, udp_kind, 1,
                       s->port, NULL);
        }
    }
}

static void test_gai_names(void **state)
{
    static const struct want_addr loop_all[] = {{AF_INET6, "::1", 0}, {AF_INET, "127.0.0.1", 0}};
    /* RFC 6724 rule 1: with no IPv6 address to send from, IPv4 first. */
    static const struct want_addr loop_sorted[] = {{AF_INET, "127.0.0.1", 0}, {AF_INET6, "::1", 0}};
    static const struct want_addr mapped_loop[] = {{AF_INET6, "::ffff:127.0.0.1", 0}};
    static const struct want_addr all_mapped[] = {{AF_INET6, "::1", 0},
                                                  {AF_INET6, "::ffff:127.0.0.1", 0}};
    (void)state;

    expect_gai("localhost", "80", AF_UNSPEC, SOCK_STREAM, 0, 0, loop_sorted, 2, tcp_kind, 1, 80,
               NULL);
    expect_gai("LocalHost", "http", AF_UNSPEC, 0, 0, AI_CANONNAME, loop_sorted, 2, tcp_kind, 1, 80,
               "localhost");
    expect_gai("localhost", NULL, AF_INET, SOCK_DGRAM, 0, 0, &loop_all[1], 1, udp_kind, 1, 0, NULL);
    expect_gai("localhost", NULL, AF_INET6, SOCK_DGRAM, 0, AI_V4MAPPED, &loop_all[0], 1, udp_kind,
               1, 0, NULL);
    expect_gai("localhost", NULL, AF_INET6, SOCK_DGRAM, 0, AI_V4MAPPED | AI_ALL, all_mapped, 2,
               udp_kind, 1, 0, NULL);

    /* The host name resolves to the IPv4 loopback address, case-insensitively. */
    expect_gai(CONFIG_NET_HOSTNAME, "22", AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME, &loop_all[1], 1,
               tcp_kind, 1, 22, CONFIG_NET_HOSTNAME);
    assert_int_equal(zsock_sethostname("Node-1.lan", 10), 0);
    expect_gai("node-1.LAN", "22", AF_UNSPEC, SOCK_STREAM, 0, AI_CANONNAME, &loop_all[1], 1,
               tcp_kind, 1, 22, "Node-1.lan");
    expect_gai("NODE-1.lan", "22", AF_INET6, SOCK_STREAM, 0, AI_V4MAPPED, mapped_loop, 1, tcp_kind,
               1, 22, NULL);
    /* The name is known, but has no IPv6 address. */
    assert_int_equal(zgai_code("node-1.lan", "22", AF_INET6, 0, 0, 0), EAI_NODATA);
    assert_int_equal(zgai_code("node-1.lan", "22", AF_UNSPEC, 0, 0, AI_NUMERICHOST), EAI_NONAME);
    /* Other names go to DNS, and no server is configured here. */
    assert_int_equal(zgai_code("node-1", "22", AF_UNSPEC, 0, 0, 0), EAI_AGAIN);
    if (strcmp(CONFIG_NET_HOSTNAME, "localhost") != 0) {
        assert_int_equal(zgai_code(CONFIG_NET_HOSTNAME, "22", AF_UNSPEC, 0, 0, 0), EAI_AGAIN);
    }
    /* A host name that looks like an address is still read as one. */
    assert_int_equal(zsock_sethostname("10.1.2.3", 8), 0);
    static const struct want_addr ten[] = {{AF_INET, "10.1.2.3", 0}};
    expect_gai("10.1.2.3", "22", AF_UNSPEC, SOCK_STREAM, 0, 0, ten, 1, tcp_kind, 1, 22, NULL);
}

/* Every allocation getaddrinfo makes, failed in turn: EAI_MEMORY, a NULL
 * list and nothing left allocated; then the full run succeeds. */
static void test_gai_out_of_memory(void **state)
{
    struct zsock_addrinfo hints;
    int successes = 0;
    (void)state;

#if !defined(CAN_INJECT)
    skip();
#endif
    memset(&hints, 0, sizeof(hints));
    hints.ai_flags = AI_CANONNAME;
    for (int fail_at = 0; fail_at < 64; fail_at++) {
        struct zsock_addrinfo *res = (struct zsock_addrinfo *)&hints;

        arm_allocations(fail_at);
        int r = zsock_getaddrinfo("localhost", "80", &hints, &res);
        int held = ntracked;
        int seen = alloc_seen;
        disarm_allocations();

        if (r == 0) {
            /* 2 addresses x 3 socket kinds, plus the canonical name. */
            assert_int_equal(seen, 7);
            assert_int_equal(fail_at, 7);
            struct flat got[MAX_FLAT];
            assert_int_equal(flatten_zsock(res, got), 6);
            assert_string_equal(res->ai_canonname, "localhost");
            arm_allocations(-1);
            zsock_freeaddrinfo(res);
            held = ntracked;
            disarm_allocations();
            assert_int_equal(held, 0);
            successes++;
            break;
        }
        assert_int_equal(r, EAI_MEMORY);
        assert_null(res);
        assert_int_equal(held, 0);
        assert_int_equal(seen, fail_at + 1);
    }
    assert_int_equal(successes, 1);
}

/* ---- getaddrinfo: differential against the C library ---------------------------- */

/* Whether the system's services database agrees with zsock about a name; it
 * may lack the service or list other protocols, and then only zsock's own
 * table is checked. */
static bool libc_service_agrees(const char *name)
{
    const struct known_service *s = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(known_services); i++) {
        if (strcmp(known_services[i].name, name) == 0) {
            s = &known_services[i];
        }
    }
    if (s == NULL) {
        return false;
    }
    struct servent *tcp = getservbyname(name, "tcp");
    bool tcp_ok = s->tcp ? (tcp != NULL && ntohs((uint16_t)tcp->s_port) == s->port) : tcp == NULL;
    struct servent *udp = getservbyname(name, "udp");
    bool udp_ok = s->udp ? (udp != NULL && ntohs((uint16_t)udp->s_port) == s->port) : udp == NULL;
    return tcp_ok && udp_ok;
}

static void test_gai_differential(void **state)
{
    /* Only numeric hosts, so the C library does no lookup. Left out on
     * purpose: inet_aton forms ("1.2.3", "01.1.1.1"), which zsock refuses. */
    static const char *const hosts[] = {
        "0.0.0.0",
        "127.0.0.1",
        "1.2.3.4",
        "255.255.255.255",
        "192.168.1.200",
        "::",
        "::1",
        "fe80::1",
        "2001:db8::8:800:200c:417a",
        "::ffff:192.0.2.1",
        "::192.0.2.1",
        "FE80::ABCD",
        "1:2:3:4:5:6:7:8",
        "fe80::1%5",
        "fe80::1%0",
        "fe80::1%00009",
        "::1%4294967295",
        "2001:db8::1%12",
        "ff02::1%7",
        "fe80::1%4294967296",
        "fe80::1%x",
        "1.2.3.4%1",
        "256.1.1.1",
        "::1::",
        "1:2:3:4:5:6:7:8:9",
        "not-numeric",
        NULL,
    };
    static const char *const services[] = {
        NULL,      "0",       "7",    "80",    "65535",  "080",         "1883",   "nosuch", "echo",
        "discard", "daytime", "ftp",  "ssh",   "telnet", "smtp",        "domain", "http",   "pop3",
        "ntp",     "snmp",    "ldap", "https", "mqtt",   "secure-mqtt", "coap",   "coaps",
    };
    static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6};
    static const int socktypes[] = {0, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW};
    static const int protocols[] = {0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
    static const int flag_sets[] = {
        0,
        AI_PASSIVE,
        AI_CANONNAME,
        AI_V4MAPPED,
        AI_V4MAPPED | AI_ALL,
        AI_NUMERICSERV,
        AI_CANONNAME | AI_V4MAPPED | AI_PASSIVE | AI_ADDRCONFIG,
    };
    unsigned long compared = 0, successes = 0, skipped_services = 0;
    int codes_seen[16] = {0};
    (void)state;

    for (size_t si = 0; si < ARRAY_SIZE(services); si++) {
        const char *serv = services[si];
        bool numeric = serv == NULL || (serv[0] >= '0' && serv[0] <= '9');
        if (!numeric && strcmp(serv, "nosuch") != 0 && !libc_service_agrees(serv)) {
            skipped_services++;
            continue;
        }
        for (size_t hi = 0; hi < ARRAY_SIZE(hosts); hi++) {
            for (size_t fi = 0; fi < ARRAY_SIZE(families); fi++) {
                /* The C library sorts the two loopback/wildcard
                 * addresses by the system's routes; zsock's order is
                 * fixed and checked in test_gai_null_host. */
                if (hosts[hi] == NULL && families[fi] == AF_UNSPEC) {
                    continue;
                }
                for (size_t ti = 0; ti < ARRAY_SIZE(socktypes); ti++) {
                    for (size_t pi = 0; pi < ARRAY_SIZE(protocols); pi++) {
                        for (size_t gi = 0; gi < ARRAY_SIZE(flag_sets); gi++) {
                            int flags = flag_sets[gi] | AI_NUMERICHOST;
                            struct addrinfo lh;
                            struct addrinfo *lres = NULL;
                            struct flat ours[MAX_FLAT], theirs[MAX_FLAT];
                            size_t nours, ntheirs = 0;

                            memset(&lh, 0, sizeof(lh));
                            lh.ai_family = families[fi];
                            lh.ai_socktype = socktypes[ti];
                            lh.ai_protocol = protocols[pi];
                            lh.ai_flags = flags;
                            int r2 = getaddrinfo(hosts[hi], serv, &lh, &lres);
                            if (r2 == 0) {
                                ntheirs = flatten_libc(lres, theirs);
                                freeaddrinfo(lres);
                            }
                            int r1 = zgai(hosts[hi], serv, families[fi], socktypes[ti],
                                          protocols[pi], flags, ours, &nours);
                            char what[256];
                            snprintf(what, sizeof(what),
                                     "getaddrinfo(%s, %s, fam %d st %d pr %d fl %#x)",
                                     hosts[hi] ? hosts[hi] : "NULL", serv ? serv : "NULL",
                                     families[fi], socktypes[ti], protocols[pi], flags);
                            if (r1 != r2) {
                                fail_msg("%s: zsock %d, glibc %d", what, r1, r2);
                            }
                            expect_lists_equal(what, ours, nours, theirs, ntheirs);
                            compared++;
                            successes += r1 == 0;
                            codes_seen[-r1 & 15]++;
                        }
                    }
                }
            }
        }
    }
    print_message("getaddrinfo: %lu calls compared with the C library (%lu succeeded, %lu "
                  "service names unknown to it skipped)\n",
                  compared, successes, skipped_services);
    assert_true(compared > 50000);
    assert_true(successes > compared / 10);
    /* Every error path must have been compared. */
    assert_true(codes_seen[-EAI_NONAME & 15] > 0);
    assert_true(codes_seen[-EAI_SERVICE & 15] > 0);
    assert_true(codes_seen[-EAI_SOCKTYPE & 15] > 0);
    assert_true(codes_seen[-EAI_ADDRFAMILY & 15] > 0);
    assert_true(codes_seen[-EAI_BADFLAGS & 15] > 0);
}

/* ---- getnameinfo ---------------------------------------------------------------- */

static struct sockaddr_in sin4(const char *addr, uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
    return sin;
}

static struct sockaddr_in6 sin6(const char *addr, uint16_t port, uint32_t scope)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof(s));
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    s.sin6_scope_id = scope;
    assert_int_equal(inet_pton(AF_INET6, addr, &s.sin6_addr), 1);
    return s;
}

static void expect_gni(const void *sa, socklen_t len, int flags, int want, const char *host,
                       const char *serv)
{
    char h[NI_MAXHOST], s[NI_MAXSERV];

    memset(h, '#', sizeof(h));
    memset(s, '#', sizeof(s));
    int r = zsock_getnameinfo(sa, len, h, sizeof(h), s, sizeof(s), flags);
    if (r != want) {
        fail_msg("getnameinfo(flags %#x) = %d, expected %d", flags, r, want);
    }
    if (want == 0) {
        assert_string_equal(h, host);
        assert_string_equal(s, serv);
    }
}

static void test_gni_basic(void **state)
{
    (void)state;

    struct sockaddr_in a = sin4("1.2.3.4", 80);
    expect_gni(&a, sizeof(a), 0, 0, "1.2.3.4", "http");
    expect_gni(&a, sizeof(a), NI_NUMERICHOST, 0, "1.2.3.4", "http");
    expect_gni(&a, sizeof(a), NI_NUMERICSERV, 0, "1.2.3.4", "80");
    expect_gni(&a, sizeof(a), NI_DGRAM, 0, "1.2.3.4", "80");
    expect_gni(&a, sizeof(a), NI_NOFQDN, 0, "1.2.3.4", "http");
    /* No name in the hosts table and no DNS server to ask (yet). */
    expect_gni(&a, sizeof(a), NI_NAMEREQD, EAI_AGAIN, NULL, NULL);
    expect_gni(&a, sizeof(a) + 10, 0, 0, "1.2.3.4", "http");

    /* The loopback addresses have a name unless numbers are asked for. */
    struct sockaddr_in lo = sin4("127.0.0.1", 123);
    expect_gni(&lo, sizeof(lo), 0, 0, "localhost", "123");
    expect_gni(&lo, sizeof(lo), NI_DGRAM | NI_NAMEREQD, 0, "localhost", "ntp");
    expect_gni(&lo, sizeof(lo), NI_NUMERICHOST, 0, "127.0.0.1", "123");
    expect_gni(&lo, sizeof(lo), NI_NUMERICHOST | NI_NAMEREQD, EAI_NONAME, NULL, NULL);
    struct sockaddr_in6 lo6 = sin6("::1", 53, 0);
    expect_gni(&lo6, sizeof(lo6), 0, 0, "localhost", "domain");
    expect_gni(&lo6, sizeof(lo6), NI_DGRAM, 0, "localhost", "domain");
    expect_gni(&lo6, sizeof(lo6), NI_NUMERICHOST | NI_NUMERICSERV, 0, "::1", "53");
    struct sockaddr_in6 lo_mapped = sin6("::ffff:127.0.0.1", 0, 0);
    expect_gni(&lo_mapped, sizeof(lo_mapped), 0, 0, "::ffff:127.0.0.1", "0");
    struct sockaddr_in other_lo = sin4("127.0.0.2", 65535);
    expect_gni(&other_lo, sizeof(other_lo), 0, 0, "127.0.0.2", "65535");

    /* Zones are printed by number for every scoped address, as glibc does
     * for the ones that are not link-local. */
    struct sockaddr_in6 ll = sin6("fe80::1", 1883, 3);
    expect_gni(&ll, sizeof(ll), NI_NUMERICHOST, 0, "fe80::1%3", "mqtt");
    struct sockaddr_in6 gl = sin6("2001:db8::1", 8883, 7);
    expect_gni(&gl, sizeof(gl), 0, 0, "2001:db8::1%7", "secure-mqtt");
    struct sockaddr_in6 mx = sin6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 5684, 4294967295u);
    expect_gni(&mx, sizeof(mx), NI_DGRAM, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295",
               "coaps");
    struct sockaddr_in6 ls = sin6("::1", 0, 9);
    expect_gni(&ls, sizeof(ls), NI_NUMERICHOST, 0, "::1%9", "0");

    /* Service names per protocol, from zsock's own table. */
    for (size_t i = 0; i < ARRAY_SIZE(known_services); i++) {
        const struct known_service *s = &known_services[i];
        char port[8];
        snprintf(port, sizeof(port), "%u", s->port);
        struct sockaddr_in x = sin4("10.0.0.1", s->port);
        expect_gni(&x, sizeof(x), 0, 0, "10.0.0.1", s->tcp ? s->name : port);
        expect_gni(&x, sizeof(x), NI_DGRAM, 0, "10.0.0.1", s->udp ? s->name : port);
        expect_gni(&x, sizeof(x), NI_NUMERICSERV, 0, "10.0.0.1", port);
    }
}

static void test_gni_errors(void **state)
{
    char h[NI_MAXHOST], s[NI_MAXSERV];
    (void)state;

    struct sockaddr_in a = sin4("1.2.3.4", 80);
    struct sockaddr_in6 b = sin6("::1", 80, 0);
    assert_int_equal(zsock_getnameinfo(NULL, sizeof(a), h, sizeof(h), s, sizeof(s), 0), EAI_FAMILY);
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&a, 0, h, sizeof(h), s, sizeof(s), 0),
                     EAI_FAMILY);
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&a, 1, h, sizeof(h), s, sizeof(s), 0),
                     EAI_FAMILY);
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&a, sizeof(a) - 1, h, sizeof(h), s, sizeof(s), 0),
        EAI_FAMILY);
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&b, sizeof(b) - 1, h, sizeof(h), s, sizeof(s), 0),
        EAI_FAMILY);
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&b, sizeof(struct sockaddr_in), h,
                                       sizeof(h), s, sizeof(s), 0),
                     EAI_FAMILY);
    struct sockaddr_storage un;
    memset(&un, 0, sizeof(un));
    un.ss_family = AF_UNIX;
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&un, sizeof(un), h, sizeof(h), s, sizeof(s), 0),
        EAI_FAMILY);
    un.ss_family = AF_UNSPEC;
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&un, sizeof(un), h, sizeof(h), s, sizeof(s), 0),
        EAI_FAMILY);

    static const int bad_flags[] = {0x20, 0x40, 0x80, 0x1000, (int)0x80000000u, -1};
    for (size_t i = 0; i < ARRAY_SIZE(bad_flags); i++) {
        assert_int_equal(zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), h, sizeof(h), s,
                                           sizeof(s), bad_flags[i]),
                         EAI_BADFLAGS);
    }

    /* Neither host nor service wanted. */
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), NULL, 0, NULL, 0, 0),
                     EAI_NONAME);
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), h, 0, s, 0, 0),
                     EAI_NONAME);
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), NULL, sizeof(h), NULL, sizeof(s), 0),
        EAI_NONAME);

    /* Only one of them wanted: the other buffer is left alone. */
    memset(s, '#', sizeof(s));
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), h, sizeof(h), s, 0, 0), 0);
    assert_string_equal(h, "1.2.3.4");
    assert_int_equal(s[0], '#');
    memset(h, '#', sizeof(h));
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), h, 0, s, sizeof(s), 0), 0);
    assert_string_equal(s, "http");
    assert_int_equal(h[0], '#');
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), NULL, sizeof(h), s, sizeof(s), 0), 0);
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), h, sizeof(h), NULL, sizeof(s), 0), 0);
}

static void test_gni_overflow(void **state)
{
    char h[64], s[16];
    (void)state;

    struct sockaddr_in6 ll = sin6("fe80::1", 8000, 12);
    const char *host = "fe80::1%12";
    socklen_t hneed = (socklen_t)strlen(host) + 1;
    for (socklen_t len = 1; len < hneed; len++) {
        memset(h, '#', sizeof(h));
        assert_int_equal(
            zsock_getnameinfo((struct sockaddr *)&ll, sizeof(ll), h, len, NULL, 0, NI_NUMERICHOST),
            EAI_OVERFLOW);
        for (size_t i = 0; i < sizeof(h); i++) {
            assert_int_equal(h[i], '#');
        }
    }
    memset(h, '#', sizeof(h));
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&ll, sizeof(ll), h, hneed, NULL, 0, NI_NUMERICHOST),
        0);
    assert_string_equal(h, host);
    assert_int_equal(h[hneed], '#');

    for (socklen_t len = 1; len < 5; len++) {
        memset(s, '#', sizeof(s));
        assert_int_equal(zsock_getnameinfo((struct sockaddr *)&ll, sizeof(ll), NULL, 0, s, len, 0),
                         EAI_OVERFLOW);
        assert_int_equal(s[0], '#');
    }
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&ll, sizeof(ll), NULL, 0, s, 5, 0), 0);
    assert_string_equal(s, "8000");
    struct sockaddr_in web = sin4("1.2.3.4", 443);
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&web, sizeof(web), NULL, 0, s, 5, 0),
                     EAI_OVERFLOW);
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&web, sizeof(web), NULL, 0, s, 6, 0), 0);
    assert_string_equal(s, "https");

    /* "localhost" needs 10 bytes. */
    struct sockaddr_in lo = sin4("127.0.0.1", 0);
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&lo, sizeof(lo), h, 9, NULL, 0, 0),
                     EAI_OVERFLOW);
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)&lo, sizeof(lo), h, 10, NULL, 0, 0), 0);
    assert_string_equal(h, "localhost");

    /* A host that fits with a service that does not: the host is written,
     * the error reported. */
    memset(h, '#', sizeof(h));
    assert_int_equal(
        zsock_getnameinfo((struct sockaddr *)&web, sizeof(web), h, sizeof(h), s, 3, NI_NUMERICSERV),
        EAI_OVERFLOW);
}

static void test_gni_unaligned(void **state)
{
    _Alignas(8) char buf[sizeof(struct sockaddr_in6) + 1];
    char h[NI_MAXHOST], s[NI_MAXSERV];
    (void)state;

    struct sockaddr_in6 a = sin6("2001:db8::42", 4242, 0);
    memcpy(buf + 1, &a, sizeof(a));
    assert_int_equal(zsock_getnameinfo((struct sockaddr *)(void *)(buf + 1), sizeof(a), h,
                                       sizeof(h), s, sizeof(s), 0),
                     0);
    assert_string_equal(h, "2001:db8::42");
    assert_string_equal(s, "4242");
}

static bool link_local_scope(const struct in6_addr *a)
{
    return IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_MC_LINKLOCAL(a);
}

#define GNI_ROUNDS 50000

/* Random addresses and ports through both libraries with numeric output, and
 * back through zsock_getaddrinfo to the same socket address. */
static void test_gni_differential(void **state)
{
    static const int flag_sets[] = {NI_NUMERICHOST | NI_NUMERICSERV,
                                    NI_NUMERICHOST | NI_NUMERICSERV | NI_DGRAM,
                                    NI_NUMERICHOST | NI_NUMERICSERV | NI_NOFQDN};
    unsigned long scoped = 0;
    (void)state;

    rng_seed(0x5eed0003);
    for (int n = 0; n < GNI_ROUNDS; n++) {
        struct sockaddr_storage ss;
        socklen_t len;
        char h1[NI_MAXHOST], s1[NI_MAXSERV], h2[NI_MAXHOST], s2[NI_MAXSERV];
        int flags = flag_sets[rng_below(ARRAY_SIZE(flag_sets))];
        uint16_t port = (uint16_t)(rng_below(4) == 0 ? rng_below(1024) : rng_next());
        char expected_host[NI_MAXHOST];

        memset(&ss, 0, sizeof(ss));
        if (rng_below(3) == 0) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            sin->sin_family = AF_INET;
            sin->sin_port = htons(port);
            uint32_t v = (uint32_t)rng_next();
            memcpy(&sin->sin_addr, &v, 4);
            len = sizeof(*sin);
        } else {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons(port);
            for (int i = 0; i < 16; i++) {
                s6->sin6_addr.s6_addr[i] = rng_below(3) == 0 ? (uint8_t)rng_next() : 0;
            }
            switch (rng_below(4)) {
            case 0:
                s6->sin6_addr.s6_addr[0] = 0xfe;
                s6->sin6_addr.s6_addr[1] = 0x80;
                break;
            case 1:
                s6->sin6_addr.s6_addr[10] = 0xff;
                s6->sin6_addr.s6_addr[11] = 0xff;
                break;
            default:
                break;
            }
            if (rng_below(2) == 0) {
                s6->sin6_scope_id = rng_below(2) ? rng_below(16) : (uint32_t)rng_next();
            }
            len = sizeof(*s6);
        }
        int r1 =
            zsock_getnameinfo((struct sockaddr *)&ss, len, h1, sizeof(h1), s1, sizeof(s1), flags);
        int r2 = getnameinfo((struct sockaddr *)&ss, len, h2, sizeof(h2), s2, sizeof(s2), flags);
        assert_int_equal(r1, 0);
        assert_int_equal(r2, 0);
        assert_string_equal(s1, s2);

        /* glibc names the zone of a link-local address after its
         * interface when one has that index; zsock always uses the
         * number. */
        snprintf(expected_host, sizeof(expected_host), "%s", h2);
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            char ifname[IF_NAMESIZE];
            if (s6->sin6_scope_id != 0) {
                scoped++;
            }
            if (s6->sin6_scope_id != 0 && link_local_scope(&s6->sin6_addr) &&
                if_indextoname(s6->sin6_scope_id, ifname) != NULL) {
                char *pct = strchr(expected_host, '%');
                assert_non_null(pct);
                snprintf(pct, sizeof(expected_host) - (size_t)(pct - expected_host), "%%%u",
                         s6->sin6_scope_id);
            }
        }
        assert_string_equal(h1, expected_host);

        /* Back to the same socket address. */
        struct zsock_addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = ss.ss_family;
        hints.ai_socktype = SOCK_DGRAM;
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
        assert_int_equal(zsock_getaddrinfo(h1, s1, &hints, &res), 0);
        assert_non_null(res);
        assert_null(res->ai_next);
        assert_int_equal(res->ai_addrlen, len);
        assert_memory_equal(res->ai_addr, &ss, len);
        zsock_freeaddrinfo(res);
    }
    assert_true(scoped > GNI_ROUNDS / 10);
}

/* Where the system's services database knows a port of zsock's table under
 * the same name, getnameinfo gives the same answer as the C library. */
static void test_gni_services_match_libc(void **state)
{
    unsigned long compared = 0;
    (void)state;

    for (size_t i = 0; i < ARRAY_SIZE(known_services); i++) {
        const struct known_service *s = &known_services[i];
        for (int dgram = 0; dgram < 2; dgram++) {
            struct servent *se = getservbyport(htons(s->port), dgram ? "udp" : "tcp");
            bool ours = dgram ? s->udp : s->tcp;
            if (se == NULL || !ours || strcmp(se->s_name, s->name) != 0) {
                continue;
            }
            struct sockaddr_in a = sin4("10.9.8.7", s->port);
            char s1[NI_MAXSERV], s2[NI_MAXSERV];
            int flags = dgram ? NI_DGRAM : 0;
            assert_int_equal(
                zsock_getnameinfo((struct sockaddr *)&a, sizeof(a), NULL, 0, s1, sizeof(s1), flags),
                0);
            assert_int_equal(
                getnameinfo((struct sockaddr *)&a, sizeof(a), NULL, 0, s2, sizeof(s2), flags), 0);
            assert_string_equal(s1, s2);
            compared++;
        }
    }
    print_message("getnameinfo: %lu service names compared with the C library\n", compared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gai_strerror),
        cmocka_unit_test(test_freeaddrinfo_null),
        cmocka_unit_test(test_gai_errors),
        cmocka_unit_test(test_gai_bad_pointers),
        cmocka_unit_test(test_gai_numeric_hosts),
        cmocka_unit_test(test_gai_null_host),
        cmocka_unit_test(test_gai_services),
        cmocka_unit_test_teardown(test_gai_names, restore_hostname),
        cmocka_unit_test(test_gai_out_of_memory),
        cmocka_unit_test(test_gai_differential),
        cmocka_unit_test(test_gni_basic),
        cmocka_unit_test(test_gni_errors),
        cmocka_unit_test(test_gni_overflow),
        cmocka_unit_test(test_gni_unaligned),
        cmocka_unit_test(test_gni_differential),
        cmocka_unit_test(test_gni_services_match_libc),
    };

    return cmocka_run_group_tests_name("addrinfo", tests, NULL, NULL);
}
