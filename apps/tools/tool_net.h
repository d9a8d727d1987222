/* Network set-up shared by the command-line tools (zudp, ztcp). */
#ifndef ZSOCK_TOOL_NET_H_
#define ZSOCK_TOOL_NET_H_

/* What the --tap/--pipe/--ip/--gateway/--mtu/--capture options asked for. */
struct tool_net {
    const char *tap;
    const char *pipe;
    const char *ip;
    const char *gateway;
    int mtu;
    const char *capture;
};

/* Bring the default stack up; add the interface --tap or --pipe names,
 * address it and bring it up; start --capture on it, or else on the first
 * interface that is not loopback (ZSOCK_TAP...). Errors are printed with
 * `prog` in front. Returns 0 or -1. */
int tool_net_setup(const char *prog, const struct tool_net *n);

/* Print each non-loopback interface: name, index, kind, MAC, MTU, addresses. */
void tool_net_print_interfaces(const char *prog);

#endif /* ZSOCK_TOOL_NET_H_ */
