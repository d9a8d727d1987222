/* zdhcp: the DHCPv4 client of zsock on its public API only. Gets a lease on
 * the tool's interface, reports it, follows it through renewals, then
 * releases it: what the interop test checks against dnsmasq. */
#include "tool_util.h"
#include <zsock/net_if.h>
#include <zsock/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_US 100000 /* how often the lease is looked at */

struct options {
    const char *hostname;
    int renewals;      /* release after this many renewals */
    double hold;       /* and this many seconds more */
    double timeout;    /* for the first lease */
    double time_limit; /* for the whole run */
    bool no_release;   /* leave without releasing */
    int linger_ms;
    struct tool_net net;
};

static const char *state_name(int st)
{
    static const char *const names[] = {"off",   "selecting", "requesting",
                                        "bound", "renewing",  "rebinding"};
    return st >= 0 && st < (int)(sizeof(names) / sizeof(names[0])) ? names[st] : "?";
}

static void print_lease(const char *what, const struct zsock_dhcp4_lease *l)
{
    char addr[INET_ADDRSTRLEN], router[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
    zsock_inet_ntop(AF_INET, &l->addr, addr, sizeof(addr));
    zsock_inet_ntop(AF_INET, &l->router, router, sizeof(router));
    zsock_inet_ntop(AF_INET, &l->server, server, sizeof(server));
    printf("zdhcp: %s %s/%d router %s server %s dns", what, addr, l->prefix_len, router, server);
    for (int i = 0; i < l->n_dns && i < 3; i++) {
        char d[INET_ADDRSTRLEN];
        zsock_inet_ntop(AF_INET, &l->dns[i], d, sizeof(d));
        printf("%s%s", i == 0 ? " " : ",", d);
    }
    if (l->n_dns == 0) {
        printf(" -");
    }
    printf(" domain %s lease %" PRIu32 " t1 %" PRIu32 " t2 %" PRIu32 " remaining %" PRIu32
           " renewals %" PRIu32 "\n",
           l->domain[0] != '\0' ? l->domain : "-", l->lease_s, l->t1_s, l->t2_s, l->remaining_s,
           l->renewals);
}

static void print_stats(void)
{
    struct zsock_net_stats s;
    if (zsock_net_stats(&s) < 0) {
        return;
    }
    printf("zdhcp: stats dhcp rx %" PRIu64 " tx %" PRIu64 " malformed %" PRIu64 " foreign %" PRIu64
           " offers %" PRIu64 " acks %" PRIu64 " naks %" PRIu64 " declines %" PRIu64
           " expired %" PRIu64 "\n",
           s.dhcp.rx, s.dhcp.tx, s.dhcp.drop_malformed, s.dhcp.drop_foreign, s.dhcp.offers,
           s.dhcp.acks, s.dhcp.naks, s.dhcp.declines, s.dhcp.expired);
}

/* Follow the lease until it has been renewed o->renewals times and held
 * o->hold seconds more. 0, or -1 when the time limit comes first. */
static int follow(const struct options *o, int ifindex, double start)
{
    struct zsock_dhcp4_lease l;
    if (zsock_dhcp4_get(ifindex, &l) < 0) {
        return -1;
    }
    int state = l.state;
    uint32_t renewals = l.renewals;
    double reached = l.renewals >= (uint32_t)o->renewals ? tool_now_s() : -1;
    for (;;) {
        double now = tool_now_s();
        if (reached >= 0 && now - reached >= o->hold) {
            return 0;
        }
        if (now - start >= o->time_limit) {
            printf("zdhcp: time limit: %" PRIu32 " renewals of %d\n", renewals, o->renewals);
            return -1;
        }
        tool_sleep_us(POLL_US);
        if (zsock_dhcp4_get(ifindex, &l) < 0) {
            return -1;
        }
        if (l.state != state) {
            printf("zdhcp: state %s\n", state_name(l.state));
            state = l.state;
        }
        if (l.renewals != renewals) {
            renewals = l.renewals;
            print_lease("renewed", &l);
        }
        if (reached < 0 && renewals >= (uint32_t)o->renewals) {
            reached = tool_now_s();
        }
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: zdhcp [options]\n"
               "Get a DHCP lease on the interface, follow it through renewals, release it.\n"
               "  --hostname NAME   host name sent to the server (option 12)\n"
               "  --renewals N      release after N renewals (default 1)\n"
               "  --hold SEC        keep the lease this long after them (default 0)\n"
               "  --timeout SEC     wait this long for the first lease (default 30)\n"
               "  --time-limit SEC  end the run after this long (default 120)\n"
               "  --no-release      leave without releasing the lease\n"
               "  --linger MS       stay on the network after the release (default 1000)\n");
    tool_net_usage(f);
}

int main(int argc, char **argv)
{
    struct options o = {.renewals = 1, .timeout = 30, .time_limit = 120, .linger_ms = 1000};
    const struct tool_opt opts[] = {
        {"hostname", TOOL_OPT_STRING, &o.hostname, 0, 0, NULL},
        {"renewals", TOOL_OPT_INT, &o.renewals, 0, 1000, NULL},
        {"hold", TOOL_OPT_SECONDS, &o.hold, 0, 86400, NULL},
        {"timeout", TOOL_OPT_SECONDS, &o.timeout, 1, 3600, NULL},
        {"time-limit", TOOL_OPT_SECONDS, &o.time_limit, 1, 86400, NULL},
        {"no-release", TOOL_OPT_FLAG, &o.no_release, 0, 0, NULL},
        {"linger", TOOL_OPT_INT, &o.linger_ms, 0, 600000, NULL},
        {0},
    };
    int first = tool_parse_options("zdhcp", argc, argv, opts, &o.net, usage);
    if (first < 0 || first != argc) {
        usage(stderr);
        return 2;
    }
    if (o.hostname != NULL && zsock_sethostname(o.hostname, strlen(o.hostname)) < 0) {
        tool_perror("zdhcp", "--hostname");
        return 2;
    }
    double start = tool_now_s();
    if (tool_start("zdhcp", &o.net) < 0) {
        return 1;
    }
    int ifindex = tool_net_ifindex();
    if (ifindex == 0) {
        fprintf(stderr, "zdhcp: no interface but loopback (--tap, --pipe, ZSOCK_TAP...)\n");
        return 2;
    }
    int rc = zsock_dhcp4_start(ifindex);
    if (rc < 0 && rc != -EALREADY) {
        fprintf(stderr, "zdhcp: zsock_dhcp4_start: %s\n", strerror(-rc));
        return 1;
    }
    rc = zsock_dhcp4_wait(ifindex, (int)(o.timeout * 1000));
    if (rc < 0) {
        printf("zdhcp: no lease after %.0f s: %s\n", o.timeout, strerror(-rc));
        print_stats();
        return 1;
    }
    struct zsock_dhcp4_lease l;
    zsock_dhcp4_get(ifindex, &l);
    print_lease("bound", &l);
    tool_net_print_interfaces("zdhcp");
    int status = follow(&o, ifindex, start) == 0 ? 0 : 1;
    if (!o.no_release) {
        rc = zsock_dhcp4_stop(ifindex);
        if (rc < 0) {
            fprintf(stderr, "zdhcp: zsock_dhcp4_stop: %s\n", strerror(-rc));
            status = 1;
        } else {
            printf("zdhcp: released\n");
            tool_net_print_interfaces("zdhcp");
        }
    }
    print_stats();
    tool_linger("zdhcp", o.linger_ms);
    return status;
}
