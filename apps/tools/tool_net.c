/* Network set-up shared by the command-line tools: the interface that
 * --tap or --pipe names, its address (given, or from DHCP), gateway and
 * MTU, the DNS servers, a capture, and a printout of what the stack has.
 * Public API only. */
#include "tool_net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>
#ifdef CONFIG_DNS_RESOLVER
#include <zsock/dns.h>
#endif

#define DHCP_WAIT_MS 30000

static int fail(const char *prog, const char *what, int rc)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-rc));
    return -1;
}

int tool_net_ifindex(void)
{
    struct zsock_if_info info[8];
    int n = zsock_if_list(info, 8);
    for (int i = 0; i < n && i < 8; i++) {
        if (!(info[i].flags & ZSOCK_IF_LOOPBACK)) {
            return info[i].index;
        }
    }
    return 0;
}

/* --dhcp: start the client on ifindex (unless ZSOCK_DHCP did) and wait for
 * a lease; one line on stderr either way. */
static int dhcp_setup(const char *prog, int ifindex)
{
    int rc = zsock_dhcp4_start(ifindex);
    if (rc < 0 && rc != -EALREADY) {
        return fail(prog, "zsock_dhcp4_start", rc);
    }
    rc = zsock_dhcp4_wait(ifindex, DHCP_WAIT_MS);
    if (rc < 0) {
        fprintf(stderr, "%s: dhcp: no lease after %d s: %s\n", prog, DHCP_WAIT_MS / 1000,
                strerror(-rc));
        return -1;
    }
    struct zsock_dhcp4_lease l;
    if ((rc = zsock_dhcp4_get(ifindex, &l)) < 0) {
        return fail(prog, "zsock_dhcp4_get", rc);
    }
    char addr[INET_ADDRSTRLEN], router[INET_ADDRSTRLEN], server[INET_ADDRSTRLEN];
    char dns[3 * (INET_ADDRSTRLEN + 1)] = "-";
    zsock_inet_ntop(AF_INET, &l.addr, addr, sizeof(addr));
    zsock_inet_ntop(AF_INET, &l.router, router, sizeof(router));
    zsock_inet_ntop(AF_INET, &l.server, server, sizeof(server));
    for (int i = 0; i < l.n_dns && i < 3; i++) {
        char one[INET_ADDRSTRLEN];
        zsock_inet_ntop(AF_INET, &l.dns[i], one, sizeof(one));
        size_t at = i == 0 ? 0 : strlen(dns);
        snprintf(dns + at, sizeof(dns) - at, "%s%s", i == 0 ? "" : ",", one);
    }
    fprintf(stderr, "%s: dhcp: lease %s/%d router %s dns %s server %s for %u s\n", prog, addr,
            l.prefix_len, router, dns, server, (unsigned)l.lease_s);
    return 0;
}

int tool_net_setup(const char *prog, const struct tool_net *o)
{
    int rc = zsock_net_init();
    if (rc < 0) {
        return fail(prog, "zsock_net_init", rc);
    }
    int idx = 0;
    if (o->tap != NULL) {
        idx = zsock_if_add_tap(o->tap);
        if (idx < 0) {
            return fail(prog, "zsock_if_add_tap", idx);
        }
    } else if (o->pipe != NULL) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", o->pipe);
        char *colon = strchr(buf, ':');
        if (colon == NULL) {
            fprintf(stderr, "%s: --pipe wants LOCAL:PEER\n", prog);
            return -1;
        }
        *colon = '\0';
        idx = zsock_if_add_pipe(buf, colon + 1);
        if (idx < 0) {
            return fail(prog, "zsock_if_add_pipe", idx);
        }
    }
    if (idx > 0) {
        if (o->mtu > 0 && (rc = zsock_if_set_mtu(idx, o->mtu)) < 0) {
            return fail(prog, "zsock_if_set_mtu", rc);
        }
        struct in_addr a;
        int prefix;
        if (o->ip != NULL) {
            if (zsock_parse_ipv4_prefix(o->ip, &a, &prefix) < 0) {
                fprintf(stderr, "%s: bad --ip %s\n", prog, o->ip);
                return -1;
            }
            if ((rc = zsock_if_add_ipv4(idx, &a, prefix)) < 0) {
                return fail(prog, "zsock_if_add_ipv4", rc);
            }
        }
        if (o->gateway != NULL) {
            if (zsock_inet_pton(AF_INET, o->gateway, &a) != 1) {
                fprintf(stderr, "%s: bad --gateway %s\n", prog, o->gateway);
                return -1;
            }
            if ((rc = zsock_if_set_gateway(idx, &a)) < 0) {
                return fail(prog, "zsock_if_set_gateway", rc);
            }
        }
    } else if (o->ip != NULL || o->gateway != NULL || o->mtu > 0) {
        fprintf(stderr, "%s: --ip, --gateway and --mtu need --tap or --pipe\n", prog);
        return -1;
    }
    if (o->capture != NULL) {
        int cap_if = idx;
        if (cap_if == 0) {
            struct zsock_if_info info[8];
            int n = zsock_if_list(info, 8);
            for (int i = 0; i < n && i < 8 && cap_if == 0; i++) {
                if (!(info[i].flags & ZSOCK_IF_LOOPBACK)) {
                    cap_if = info[i].index;
                }
            }
        }
        if (cap_if == 0) {
            fprintf(stderr,
                    "%s: --capture: no interface but loopback (set ZSOCK_TAP, "
                    "ZSOCK_PIPE, --tap or --pipe)\n",
                    prog);
            return -1;
        }
        if ((rc = zsock_if_capture(cap_if, o->capture)) < 0) {
            return fail(prog, "zsock_if_capture", rc);
        }
    }
    if (idx > 0 && (rc = zsock_if_up(idx)) < 0) {
        return fail(prog, "zsock_if_up", rc);
    }
    if (o->dhcp) {
        int dhcp_if = idx > 0 ? idx : tool_net_ifindex();
        if (dhcp_if == 0) {
            fprintf(stderr,
                    "%s: --dhcp: no interface but loopback (set ZSOCK_TAP, ZSOCK_PIPE, "
                    "--tap or --pipe)\n",
                    prog);
            return -1;
        }
        if (dhcp_setup(prog, dhcp_if) < 0) {
            return -1;
        }
    }
    if (o->dns != NULL) {
#ifdef CONFIG_DNS_RESOLVER
        if ((rc = zsock_dns_set_servers(o->dns)) < 0) {
            return fail(prog, "--dns", rc);
        }
#else
        fprintf(stderr, "%s: --dns: this build has no DNS resolver\n", prog);
        return -1;
#endif
    }
    return 0;
}

void tool_net_print_interfaces(const char *prog)
{
    struct zsock_if_info info[8];
    int n = zsock_if_list(info, 8);
    for (int i = 0; i < n && i < 8; i++) {
        const struct zsock_if_info *f = &info[i];
        if (f->flags & ZSOCK_IF_LOOPBACK) {
            continue;
        }
        printf("%s: interface %s index %d kind %s mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u", prog,
               f->name, f->index, f->kind, f->mac[0], f->mac[1], f->mac[2], f->mac[3], f->mac[4],
               f->mac[5], (unsigned)f->mtu);
        for (int k = 0; k < f->n_ipv4 && k < 4; k++) {
            char a[INET_ADDRSTRLEN];
            zsock_inet_ntop(AF_INET, &f->ipv4[k], a, sizeof(a));
            printf(" ipv4 %s/%d", a, f->prefix_len[k]);
        }
        printf("\n");
    }
}

int tool_net_option(const char *prog, struct tool_net *n, int opt, const char *arg)
{
    switch (opt) {
    case TOOL_NET_OPT_TAP:
        n->tap = arg;
        return 1;
    case TOOL_NET_OPT_PIPE:
        n->pipe = arg;
        return 1;
    case TOOL_NET_OPT_IP:
        n->ip = arg;
        return 1;
    case TOOL_NET_OPT_GATEWAY:
        n->gateway = arg;
        return 1;
    case TOOL_NET_OPT_CAPTURE:
        n->capture = arg;
        return 1;
    case TOOL_NET_OPT_DHCP:
        n->dhcp = true;
        return 1;
    case TOOL_NET_OPT_DNS:
        n->dns = arg;
        return 1;
    case TOOL_NET_OPT_MTU: {
        char *end;
        long v = strtol(arg, &end, 10);
        if (*arg == '\0' || *end != '\0' || v < 68 || v > 65535) {
            fprintf(stderr, "%s: bad value for --mtu: %s\n", prog, arg);
            return -1;
        }
        n->mtu = (int)v;
        return 1;
    }
    default:
        return 0;
    }
}

int tool_net_check(const char *prog, const struct tool_net *n)
{
    if (n->tap != NULL && n->pipe != NULL) {
        fprintf(stderr, "%s: --tap and --pipe are exclusive\n", prog);
        return -1;
    }
    if (n->ip != NULL && n->dhcp) {
        fprintf(stderr, "%s: --ip and --dhcp are exclusive\n", prog);
        return -1;
    }
    return 0;
}

void tool_net_usage(FILE *out)
{
    fputs("Interfaces (also from ZSOCK_TAP, ZSOCK_PIPE, ZSOCK_IPV4, ZSOCK_GATEWAY,\n"
          "ZSOCK_MTU, ZSOCK_CAPTURE, ZSOCK_DHCP=1, ZSOCK_DNS in the environment):\n"
          "  --tap IFNAME      add a TAP interface\n"
          "  --pipe LOCAL:PEER add a frame pipe interface\n"
          "  --ip A.B.C.D/LEN  its address\n"
          "  --gateway A.B.C.D its default gateway\n"
          "  --mtu N           its MTU\n"
          "  --capture FILE    write a pcap of the non-loopback interface\n"
          "  --dhcp            get its address from DHCP (wait up to 30 s for a lease)\n"
          "  --dns LIST        DNS servers, comma separated (else ZSOCK_DNS or DHCP's)\n",
          out);
}
