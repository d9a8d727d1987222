/* What the command-line tools (zudp, ztcp, zhttpd) share beyond their
 * network set-up: time, numbers and the command line, sockets, the start and
 * the end of a run. Errors are printed with the tool's name (`prog`) in
 * front. Public API only. */
#ifndef ZSOCK_TOOL_UTIL_H_
#define ZSOCK_TOOL_UTIL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>

#include "tool_net.h"

/* ---- time */

/* Seconds on the monotonic clock. */
double tool_now_s(void);

void tool_sleep_us(long us);

/* Milliseconds left before `deadline` (tool_now_s() time), at most `cap`,
 * never negative. */
int tool_ms_left(double deadline, int cap);

/* ---- numbers and the command line */

/* The next output of the splitmix64 generator from `state` (advanced). */
uint64_t tool_splitmix64(uint64_t *state);

/* A whole string holding an integer (C notation: 10, 0x10, 010) in lo..hi. */
bool tool_parse_long(const char *s, long lo, long hi, long *out);

/* A whole string holding an unsigned 64-bit integer (C notation), no sign. */
bool tool_parse_u64(const char *s, uint64_t *out);

/* How an option's argument is read. */
enum tool_opt_kind {
    TOOL_OPT_INT,     /* int in lo..hi */
    TOOL_OPT_LONG,    /* long in lo..hi */
    TOOL_OPT_SECONDS, /* double, from whole seconds in lo..hi */
    TOOL_OPT_U64,     /* uint64_t, as tool_parse_u64 */
    TOOL_OPT_U64_ANY, /* uint64_t as strtoull reads it (a minus sign wraps around) */
    TOOL_OPT_FLAG,    /* bool set to true; the option takes no argument */
};

/* One long option --NAME of a tool: where its value goes and its range. */
struct tool_opt {
    const char *name;
    enum tool_opt_kind kind;
    void *value;
    long lo, hi;
    bool *given; /* if not NULL, set to true when the option is given */
};

#define TOOL_OPTS_MAX 32 /* options of one tool, network options not counted */

/* Read the options of argv: those of `opts` (up to an entry with a NULL
 * name), the network options into `net` (then checked together) and --help
 * (usage(stdout), exit 0). A bad value is printed as "PROG: bad value for
 * --NAME: ARG". Returns the index in argv of the first positional argument,
 * or -1. */
int tool_parse_options(const char *prog, int argc, char **argv, const struct tool_opt *opts,
                       struct tool_net *net, void (*usage)(FILE *));

/* The positional arguments MODE PORT, for a mode of `port_modes`, or MODE
 * HOST PORT, for one of `host_modes` (both lists end with NULL); `host` is
 * left alone for the former. 0, or -1 (an unknown mode or a bad port is
 * printed, a wrong number of arguments is not). */
int tool_parse_mode(const char *prog, int argc, char *const *argv, const char *const *port_modes,
                    const char *const *host_modes, const char **mode, const char **host, int *port);

/* ---- sockets */

/* perror() with the tool's name: "PROG: WHAT: <strerror(errno)>". */
void tool_perror(const char *prog, const char *what);

/* An AF_INET socket (zsock_socket failure printed), or -1. */
int tool_socket(const char *prog, int type, int protocol);

/* `sin` for HOST (dotted IPv4) and PORT; false (printed) for a bad HOST. */
bool tool_sockaddr(const char *prog, const char *host, int port, struct sockaddr_in *sin);

/* SO_RCVBUF and SO_SNDBUF of `bytes`; nothing for 0 (the stack's default). */
void tool_set_buffers(int fd, int bytes);

/* A TCP listener on PORT (any address) with SO_REUSEADDR, SO_RCVBUF and
 * SO_SNDBUF of buf_bytes (unless 0) and the backlog: its descriptor, or -1. */
int tool_listener(const char *prog, int port, int backlog, int buf_bytes);

void tool_set_nonblock(int fd);

/* Accept one connection on the non-blocking listener lfd and make it
 * non-blocking; `peer` (may be NULL) gets its address. The descriptor, or
 * -1 when there is none waiting or accept failed (printed as
 * "WHO: zsock_accept: ..." unless it only would block or was aborted). */
int tool_accept(const char *who, int lfd, struct sockaddr_in *peer);

/* ---- a run's start and end */

/* Line-buffered stdout, the network that `net` asks for brought up and the
 * interfaces printed. 0, or -1 (printed). */
int tool_start(const char *prog, const struct tool_net *net);

/* The TCP counters of `s` as one line "PROG: stats tcp rx ... listen-drops
 * N", with `recovery` followed by the retransmission counters. */
void tool_print_tcp_stats(const char *prog, const struct zsock_net_stats *s, bool recovery);

/* One line "PROG: stats if NAME rx ..." per interface; loopback only if
 * `loopback`. */
void tool_print_if_stats(const char *prog, bool loopback);

/* With ms > 0, "PROG: lingering MS ms" and stay that long: the stack keeps
 * answering ARP, ping and retransmissions meanwhile. */
void tool_linger(const char *prog, int ms);

#endif /* ZSOCK_TOOL_UTIL_H_ */
