/* The resolver's internal interface: what getaddrinfo()/getnameinfo()
 * (src/sockets/addrinfo.c) ask of the hosts table (src/dns/hosts.c) and the
 * DNS stub resolver (src/dns/resolver.c), and what DHCP tells the resolver.
 * Results are EAI_* codes, as getaddrinfo() returns them. */
#ifndef ZSOCK_DNS_INTERNAL_H_
#define ZSOCK_DNS_INTERNAL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zsock/socket.h>

/* Most addresses one lookup returns. */
#define Z_DNS_MAX_ADDRS 8

/* One address: family AF_INET (the first 4 bytes) or AF_INET6. */
struct z_dns_addr {
    int family;
    uint8_t bytes[16];
};

/* The hosts table: fill out[0..max) with the entries for name (in the order
 * they were added; "localhost" gives ::1 then 127.0.0.1) and copy the name
 * as entered into canon. Returns the count, 0 if the name is not in the
 * table. Thread-safe. */
int z_hosts_lookup(const char *name, struct z_dns_addr *out, int max, char *canon,
                   size_t canon_size);

/* The first name in the hosts table for an address: 0, or -ENOENT (or
 * -ENOSPC when name is too small). Thread-safe. */
int z_hosts_reverse(const struct z_dns_addr *addr, char *name, size_t size);

/* What a DNS lookup of one name found. */
struct z_dns_result {
    int count;
    struct z_dns_addr addr[Z_DNS_MAX_ADDRS];
    char canon[ZSOCK_DNS_MAX_NAME_SIZE]; /* end of the CNAME chain */
};

/* Ask DNS for the A (want_v4) and/or AAAA (want_v6) records of name, both
 * at once when both are wanted; addresses of the two are merged (A first).
 * Returns 0 when at least one address was found, else EAI_NONAME (no such
 * name, or a name that cannot be sent), EAI_NODATA (no address of the
 * families asked), EAI_AGAIN (no server answered, or none is configured),
 * EAI_FAIL (a server refused the query as malformed, a CNAME loop) or
 * EAI_MEMORY. Blocks up to the configured timeouts. Thread-safe. */
int z_dns_resolve(const char *name, bool want_v4, bool want_v6, struct z_dns_result *out);

/* Reverse lookup (PTR) of an address: 0 with the name, or an EAI_* code as
 * above. Thread-safe. */
int z_dns_reverse(const struct z_dns_addr *addr, char *name, size_t size);

/* The DNS servers a DHCP lease on interface ifindex gave (IPv4, host byte
 * order), replacing what that interface gave before; n == 0 forgets them.
 * Lookups use them when no server was set explicitly or in the
 * environment. Takes only the resolver's own lock, so the stack may call it
 * with its core lock held. */
void z_dns_set_dhcp_servers(int ifindex, const uint32_t *servers, int n);

#endif /* ZSOCK_DNS_INTERNAL_H_ */
