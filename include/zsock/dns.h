/** @file
 * The DNS stub resolver behind zsock_getaddrinfo() and zsock_getnameinfo(),
 * and the static hosts table. Queries go over zsock's own UDP sockets (TCP
 * when an answer is truncated) to the configured servers, in order, with a
 * per-try timeout that doubles each round; answers are checked against the
 * question and the server, and cached for their TTL.
 *
 * Servers come from, in order of precedence: zsock_dns_set_servers(), the
 * ZSOCK_DNS environment variable (read once, at the first lookup), and the
 * DNS servers learned by DHCP (zsock_dhcp4_start() in <zsock/net_if.h>).
 *
 * Every function here is safe to call from any thread, at any time,
 * including while lookups are running (they finish with the settings they
 * started with). Functions return 0 or a negative errno. */
#ifndef ZSOCK_DNS_H_
#define ZSOCK_DNS_H_

#include <stdint.h>

#include <zsock/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Most DNS servers the resolver keeps (CONFIG_DNS_RESOLVER_MAX_SERVERS). */
#define ZSOCK_DNS_MAX_SERVERS CONFIG_DNS_RESOLVER_MAX_SERVERS

/** Room for one server of zsock_dns_get_servers() ("[IPv6]:port" and NUL). */
#define ZSOCK_DNS_SERVER_TEXT 64

/**
 * Set the DNS servers from text: addresses separated by commas or spaces,
 * each "a.b.c.d", "a.b.c.d:port", "IPv6" or "[IPv6]:port" (port 53 when
 * absent). NULL or "" clears the list, so that the DHCP-learned servers
 * apply again. -EINVAL for an unparsable entry (nothing changed), -E2BIG for
 * more than ZSOCK_DNS_MAX_SERVERS entries. Clears the cache.
 */
int zsock_dns_set_servers(const char *list);

/**
 * Copy the servers lookups would use now (explicit, else environment, else
 * DHCP) into out[0..max), as "a.b.c.d:port" / "[v6]:port" strings. Returns
 * the number of servers (which may exceed max).
 */
int zsock_dns_get_servers(char (*out)[ZSOCK_DNS_SERVER_TEXT], int max);

/** Resolver tuning; zero fields keep their current value. */
struct zsock_dns_options {
    int timeout_ms; /**< first try per server (default 1000; doubled each round) */
    int attempts;   /**< rounds over the server list (default 2) */
    int cache_max;  /**< cached answers, 0..CONFIG_DNS_RESOLVER_CACHE_MAX_ENTRIES;
                         -1 turns the cache off */
};

/** Change timeouts, attempts and the cache size. -EINVAL for negative
 * values or a cache larger than the build allows. */
int zsock_dns_set_options(const struct zsock_dns_options *opts);

/** Drop every cached answer (positive and negative). */
void zsock_dns_cache_flush(void);

/** Counters of the resolver since start. */
struct zsock_dns_stats {
    uint64_t queries;    /**< queries sent (UDP and TCP, retries included) */
    uint64_t answers;    /**< answers accepted */
    uint64_t timeouts;   /**< tries that got no answer in time */
    uint64_t rejected;   /**< responses dropped: wrong id, source, question,
                              or malformed */
    uint64_t truncated;  /**< truncated UDP answers retried over TCP */
    uint64_t cache_hits; /**< lookups answered from the cache */
    uint64_t failovers;  /**< times a lookup moved on to another server */
};

/** Read the counters. */
int zsock_dns_stats(struct zsock_dns_stats *out);

/**
 * Add an entry to the hosts table: name -> one address (AF_INET or
 * AF_INET6 sockaddr; the port is ignored). A name may have several entries.
 * The table is consulted before DNS, by getaddrinfo and (for reverse
 * lookups) getnameinfo. "localhost" is built in (127.0.0.1 and ::1) and
 * cannot be removed. -EINVAL bad name or address, -EAFNOSUPPORT other
 * families, -EEXIST the same pair is present, -ENOSPC the table is full
 * (CONFIG_DNS_RESOLVER_HOSTS_MAX).
 */
int zsock_hosts_add(const char *name, const struct sockaddr *addr, socklen_t addrlen);

/** Remove every entry for name: 0, or -ENOENT if there was none. */
int zsock_hosts_remove(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* ZSOCK_DNS_H_ */
