/* zhost: look names up with zsock's resolver (zsock_getaddrinfo and
 * zsock_getnameinfo), like a small host(1), for interoperability tests.
 * The DNS servers come from the ZSOCK_DNS environment variable, which the
 * resolver reads at its first lookup.
 *
 * Output, one line each: "NAME ADDRESS" per address, "NAME canonical CANON"
 * with -c, "ADDRESS NAME" with -x (reverse lookup of each address), and
 * "NAME error EAI_xxx: text" for a failed lookup (the exit status is then
 * 2). --stats ends with the resolver's counters. */
#include "tool_util.h"
#include <zsock/dns.h>
#include <zsock/socket.h>

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct options {
    int family;
    bool canon;
    bool reverse;
    bool addrconfig;
    bool stats;
    struct tool_net net;
};

static const char *eai_name(int rc)
{
    switch (rc) {
    case EAI_AGAIN:
        return "EAI_AGAIN";
    case EAI_BADFLAGS:
        return "EAI_BADFLAGS";
    case EAI_FAIL:
        return "EAI_FAIL";
    case EAI_FAMILY:
        return "EAI_FAMILY";
    case EAI_MEMORY:
        return "EAI_MEMORY";
    case EAI_NODATA:
        return "EAI_NODATA";
    case EAI_NONAME:
        return "EAI_NONAME";
    case EAI_SERVICE:
        return "EAI_SERVICE";
    case EAI_SOCKTYPE:
        return "EAI_SOCKTYPE";
    case EAI_SYSTEM:
        return "EAI_SYSTEM";
    case EAI_OVERFLOW:
        return "EAI_OVERFLOW";
    case EAI_ADDRFAMILY:
        return "EAI_ADDRFAMILY";
    default:
        return "EAI_UNKNOWN";
    }
}

static void print_error(const char *what, int rc)
{
    printf("%s error %s: %s\n", what, eai_name(rc), zsock_gai_strerror(rc));
}

/* Look one name up and print what came back. Returns false on an error. */
static bool host(const struct options *o, const char *name)
{
    struct zsock_addrinfo hints = {
        .ai_family = o->family,
        .ai_socktype = SOCK_STREAM, /* one entry per address */
        .ai_flags = (o->canon ? AI_CANONNAME : 0) | (o->addrconfig ? AI_ADDRCONFIG : 0),
    };
    struct zsock_addrinfo *res;
    int rc = zsock_getaddrinfo(name, NULL, &hints, &res);
    if (rc != 0) {
        print_error(name, rc);
        return false;
    }
    bool ok = true;
    if (o->canon) {
        printf("%s canonical %s\n", name, res->ai_canonname != NULL ? res->ai_canonname : "");
    }
    for (const struct zsock_addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        char addr[ZSOCK_DNS_MAX_NAME_SIZE];
        rc = zsock_getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0,
                               NI_NUMERICHOST);
        if (rc != 0) {
            print_error(name, rc);
            ok = false;
            continue;
        }
        printf("%s %s\n", name, addr);
        if (o->reverse) {
            char rname[ZSOCK_DNS_MAX_NAME_SIZE];
            rc = zsock_getnameinfo(ai->ai_addr, ai->ai_addrlen, rname, sizeof(rname), NULL, 0,
                                   NI_NAMEREQD);
            if (rc != 0) {
                print_error(addr, rc);
                ok = false;
            } else {
                printf("%s %s\n", addr, rname);
            }
        }
    }
    zsock_freeaddrinfo(res);
    return ok;
}

static void print_stats(void)
{
    struct zsock_dns_stats s;
    if (zsock_dns_stats(&s) < 0) {
        return;
    }
    printf("zhost: stats queries %" PRIu64 " answers %" PRIu64 " timeouts %" PRIu64
           " rejected %" PRIu64 " truncated %" PRIu64 " cache-hits %" PRIu64 " failovers %" PRIu64
           "\n",
           s.queries, s.answers, s.timeouts, s.rejected, s.truncated, s.cache_hits, s.failovers);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: zhost [options] NAME...\n"
               "  -4, -6         IPv4 (A) or IPv6 (AAAA) addresses only (default: both)\n"
               "  -c             print the canonical name\n"
               "  -x             reverse-resolve each address (PTR, name required)\n"
               "  --addrconfig   AI_ADDRCONFIG: only families configured here\n"
               "  --stats        print the resolver's counters at the end\n"
               "DNS servers come from ZSOCK_DNS (\"a.b.c.d[:port],...\").\n"
               "Exit status: 0, 1 for bad usage or network set-up, 2 if a lookup failed.\n");
    tool_net_usage(f);
}

enum { OPT_ADDRCONFIG = 1, OPT_STATS };

/* Returns the index of the first NAME in argv, or -1. */
static int parse_args(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"addrconfig", no_argument, NULL, OPT_ADDRCONFIG},
        {"stats", no_argument, NULL, OPT_STATS},
        {"help", no_argument, NULL, 'h'},
        TOOL_NET_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "46cxh", longopts, NULL)) != -1) {
        switch (c) {
        case '4':
            o->family = AF_INET;
            break;
        case '6':
            o->family = AF_INET6;
            break;
        case 'c':
            o->canon = true;
            break;
        case 'x':
            o->reverse = true;
            break;
        case OPT_ADDRCONFIG:
            o->addrconfig = true;
            break;
        case OPT_STATS:
            o->stats = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            if (tool_net_option("zhost", &o->net, c, optarg) != 1) {
                return -1;
            }
        }
    }
    if (optind >= argc || tool_net_check("zhost", &o->net) < 0) {
        return -1;
    }
    return optind;
}

int main(int argc, char **argv)
{
    struct options o = {.family = AF_UNSPEC};
    int first = parse_args(argc, argv, &o);
    if (first < 0) {
        usage(stderr);
        return 1;
    }
    if (tool_start("zhost", &o.net) < 0) {
        return 1;
    }
    bool ok = true;
    for (int i = first; i < argc; i++) {
        ok &= host(&o, argv[i]);
    }
    if (o.stats) {
        print_stats();
    }
    return ok ? 0 : 2;
}
