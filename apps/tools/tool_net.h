/* Network set-up shared by the command-line tools (zudp, ztcp). */
#ifndef ZSOCK_TOOL_NET_H_
#define ZSOCK_TOOL_NET_H_

#include <stdbool.h>
#include <stdio.h>

/* What the --tap/--pipe/--ip/--gateway/--mtu/--capture/--dhcp/--dns
 * options asked for. */
struct tool_net {
    const char *tap;
    const char *pipe;
    const char *ip;
    const char *gateway;
    int mtu;
    const char *capture;
    bool dhcp;       /* --dhcp: get the address from a DHCP server */
    const char *dns; /* --dns: the resolver's servers */
};

/* Command-line options every tool takes for its network, numbered clear of
 * the tools' own. Put TOOL_NET_LONGOPTS in the getopt_long table (it needs
 * <getopt.h>) and pass unknown options to tool_net_option(). */
enum {
    TOOL_NET_OPT_TAP = 1024,
    TOOL_NET_OPT_PIPE,
    TOOL_NET_OPT_IP,
    TOOL_NET_OPT_GATEWAY,
    TOOL_NET_OPT_MTU,
    TOOL_NET_OPT_CAPTURE,
    TOOL_NET_OPT_DHCP,
    TOOL_NET_OPT_DNS,
};

#define TOOL_NET_LONGOPTS                                                                          \
    {"tap", required_argument, NULL, TOOL_NET_OPT_TAP},                                            \
        {"pipe", required_argument, NULL, TOOL_NET_OPT_PIPE},                                      \
        {"ip", required_argument, NULL, TOOL_NET_OPT_IP},                                          \
        {"gateway", required_argument, NULL, TOOL_NET_OPT_GATEWAY},                                \
        {"mtu", required_argument, NULL, TOOL_NET_OPT_MTU},                                        \
        {"capture", required_argument, NULL, TOOL_NET_OPT_CAPTURE},                                \
        {"dhcp", no_argument, NULL, TOOL_NET_OPT_DHCP},                                            \
    {                                                                                              \
        "dns", required_argument, NULL, TOOL_NET_OPT_DNS                                           \
    }

/* Take option `opt` with argument `arg` if it is a network option. Returns 1
 * when taken, 0 when it is not a network option, -1 for a bad value (the
 * error is printed with `prog` in front). */
int tool_net_option(const char *prog, struct tool_net *n, int opt, const char *arg);

/* Print the help text of the network options. */
void tool_net_usage(FILE *out);

/* Check the options together (--tap and --pipe exclude each other, as do
 * --ip and --dhcp). 0 or -1. */
int tool_net_check(const char *prog, const struct tool_net *n);

/* Bring the default stack up; add the interface --tap or --pipe names,
 * address it and bring it up; start --capture on it, or else on the first
 * interface that is not loopback (ZSOCK_TAP...). With --dhcp, start the
 * DHCP client on that interface and wait up to 30 s for a lease, printing
 * one line about it to stderr; with --dns, set the resolver's servers.
 * Errors are printed with `prog` in front. Returns 0 or -1. */
int tool_net_setup(const char *prog, const struct tool_net *n);

/* The interface the tool works on: the first one that is not loopback
 * (the one --tap/--pipe added, or ZSOCK_TAP...), or 0 if there is none. */
int tool_net_ifindex(void);

/* Print each non-loopback interface: name, index, kind, MAC, MTU, addresses. */
void tool_net_print_interfaces(const char *prog);

#endif /* ZSOCK_TOOL_NET_H_ */
