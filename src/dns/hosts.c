/* The static hosts table: names the application (zsock_hosts_add) or the
 * build ("localhost") maps to addresses without asking DNS, like a C
 * library's /etc/hosts. A fixed array under its own lock. */
#include <zsock/dns.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "dns/dns_internal.h"
#include "port/port.h"
#include "wire/dns.h"

struct host_entry {
    bool used;
    struct z_dns_addr addr;
    char name[Z_DNS_NAME_TEXT_MAX + 1];
};

static z_mutex_t hosts_lock = Z_MUTEX_INITIALIZER;
static struct host_entry hosts[CONFIG_DNS_RESOLVER_HOSTS_MAX];

static const struct z_dns_addr localhost_addrs[] = {
    {AF_INET6, {[15] = 1}},
    {AF_INET, {127, 0, 0, 1}},
};

/* A host name as the table takes it: what DNS could carry (RFC 1035
 * lengths), printable, no spaces. */
static bool valid_name(const char *name)
{
    uint8_t wire[Z_DNS_NAME_WIRE_MAX];
    size_t len = strlen(name);

    if (len == 0 || len > Z_DNS_NAME_TEXT_MAX || strcmp(name, ".") == 0) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (name[i] <= ' ' || name[i] >= 0x7f || name[i] == '\\') {
            return false;
        }
    }
    return z_dns_name_encode(wire, sizeof(wire), name) > 0;
}

static int addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct z_dns_addr *out)
{
    sa_family_t family;

    if (sa == NULL || len < sizeof(sa_family_t)) {
        return -EINVAL;
    }
    memcpy(&family, (const char *)sa + offsetof(struct sockaddr, sa_family), sizeof(family));
    memset(out, 0, sizeof(*out));
    if (family == AF_INET) {
        struct sockaddr_in sin;
        if (len < sizeof(sin)) {
            return -EINVAL;
        }
        memcpy(&sin, sa, sizeof(sin));
        out->family = AF_INET;
        memcpy(out->bytes, &sin.sin_addr, 4);
        return 0;
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 sin6;
        if (len < sizeof(sin6)) {
            return -EINVAL;
        }
        memcpy(&sin6, sa, sizeof(sin6));
        out->family = AF_INET6;
        memcpy(out->bytes, &sin6.sin6_addr, 16);
        return 0;
    }
    return -EAFNOSUPPORT;
}

static bool same_addr(const struct z_dns_addr *a, const struct z_dns_addr *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == AF_INET ? 4 : 16) == 0;
}

int zsock_hosts_add(const char *name, const struct sockaddr *addr, socklen_t addrlen)
{
    struct z_dns_addr a;
    struct host_entry *slot = NULL;
    int err;

    if (name == NULL || !valid_name(name)) {
        return -EINVAL;
    }
    err = addr_from_sockaddr(addr, addrlen, &a);
    if (err != 0) {
        return err;
    }
    z_mutex_lock(&hosts_lock);
    for (size_t i = 0; i < CONFIG_DNS_RESOLVER_HOSTS_MAX; i++) {
        if (!hosts[i].used) {
            slot = slot != NULL ? slot : &hosts[i];
        } else if (z_dns_name_equal(hosts[i].name, name) && same_addr(&hosts[i].addr, &a)) {
            z_mutex_unlock(&hosts_lock);
            return -EEXIST;
        }
    }
    if (slot == NULL) {
        z_mutex_unlock(&hosts_lock);
        return -ENOSPC;
    }
    slot->used = true;
    slot->addr = a;
    strcpy(slot->name, name);
    z_mutex_unlock(&hosts_lock);
    return 0;
}

int zsock_hosts_remove(const char *name)
{
    int removed = 0;

    if (name == NULL) {
        return -EINVAL;
    }
    z_mutex_lock(&hosts_lock);
    for (size_t i = 0; i < CONFIG_DNS_RESOLVER_HOSTS_MAX; i++) {
        if (hosts[i].used && z_dns_name_equal(hosts[i].name, name)) {
            hosts[i].used = false;
            removed++;
        }
    }
    z_mutex_unlock(&hosts_lock);
    return removed > 0 ? 0 : -ENOENT;
}

int z_hosts_lookup(const char *name, struct z_dns_addr *out, int max, char *canon,
                   size_t canon_size)
{
    int n = 0;
    const char *found = NULL;

    if (z_dns_name_equal(name, "localhost")) {
        for (size_t i = 0; i < sizeof(localhost_addrs) / sizeof(localhost_addrs[0]); i++) {
            if (n < max) {
                out[n++] = localhost_addrs[i];
            }
        }
        found = "localhost";
    }
    z_mutex_lock(&hosts_lock);
    for (size_t i = 0; i < CONFIG_DNS_RESOLVER_HOSTS_MAX && found == NULL; i++) {
        if (hosts[i].used && z_dns_name_equal(hosts[i].name, name)) {
            found = hosts[i].name;
        }
    }
    if (found != NULL && strlen(found) < canon_size) {
        strcpy(canon, found);
    }
    for (size_t i = 0; i < CONFIG_DNS_RESOLVER_HOSTS_MAX && n < max; i++) {
        if (hosts[i].used && z_dns_name_equal(hosts[i].name, name)) {
            out[n++] = hosts[i].addr;
        }
    }
    z_mutex_unlock(&hosts_lock);
    return n;
}

int z_hosts_reverse(const struct z_dns_addr *addr, char *name, size_t size)
{
    int err = -ENOENT;

    for (size_t i = 0; i < sizeof(localhost_addrs) / sizeof(localhost_addrs[0]); i++) {
        if (same_addr(addr, &localhost_addrs[i])) {
            return size > strlen("localhost") ? (strcpy(name, "localhost"), 0) : -ENOSPC;
        }
    }
    z_mutex_lock(&hosts_lock);
    for (size_t i = 0; i < CONFIG_DNS_RESOLVER_HOSTS_MAX; i++) {
        if (hosts[i].used && same_addr(&hosts[i].addr, addr)) {
            if (strlen(hosts[i].name) < size) {
                strcpy(name, hosts[i].name);
                err = 0;
            } else {
                err = -ENOSPC;
            }
            break;
        }
    }
    z_mutex_unlock(&hosts_lock);
    return err;
}
