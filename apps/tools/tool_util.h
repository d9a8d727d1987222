/* What the command-line tools (zudp, ztcp, ztls, zhttpd) share beyond their
 * network set-up: time, numbers and the command line, the test stream and
 * its checksum, sockets, the start and the end of a run. Errors are printed
 * with the tool's name (`prog`) in front. Public API only. None of it is
 * meant for more than one thread: the option parser uses getopt's globals,
 * and the stream and checksum objects belong to their caller. */
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
    TOOL_OPT_STRING,  /* const char *: the argument itself (argv's string) */
    TOOL_OPT_CALL,    /* struct tool_opt_call: the tool's own parser reads it */
};

/* The parser of a TOOL_OPT_CALL option: parse(arg, ctx) stores what `arg`
 * says (it may modify `arg`, a string of argv, and keep pointers into it)
 * and returns false for a bad value. */
struct tool_opt_call {
    bool (*parse)(char *arg, void *ctx);
    void *ctx;
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
 * or -1. Uses getopt_long, so one thread at a time. */
int tool_parse_options(const char *prog, int argc, char **argv, const struct tool_opt *opts,
                       struct tool_net *net, void (*usage)(FILE *));

/* The positional arguments MODE PORT, for a mode of `port_modes`, or MODE
 * HOST PORT, for one of `host_modes` (both lists end with NULL); `host` is
 * left alone for the former. 0, or -1 (an unknown mode or a bad port is
 * printed, a wrong number of arguments is not). */
int tool_parse_mode(const char *prog, int argc, char *const *argv, const char *const *port_modes,
                    const char *const *host_modes, const char **mode, const char **host, int *port);

/* ---- the test stream and its checksum
 *
 * The stream named by a 64-bit seed and its 64-bit checksum, as
 * apps/tools/ztcp.c describes them (tests/interop/tcp_peer.py reproduces
 * both): word j (bytes 8j..8j+7, little-endian) is splitmix64 output
 * number (j mod 8192) + 1 of `seed` XOR j; the checksum is
 * (CRC-32 << 32) | Adler-32, zlib's. Each object is its caller's: the
 * functions keep no other state, so threads with objects of their own may
 * use them at once. */

#define TOOL_STREAM_WORDS 8192                    /* period of the splitmix64 part, in words */
#define TOOL_STREAM_CHUNK (TOOL_STREAM_WORDS * 8) /* bytes tool_stream_at gives at most */

/* A stream: its period of splitmix64 words and the chunk last made (large:
 * allocate it). */
struct tool_stream {
    uint64_t pad[TOOL_STREAM_WORDS];
    uint8_t chunk[TOOL_STREAM_CHUNK];
    uint64_t chunk_no; /* which chunk `chunk` holds, UINT64_MAX: none */
};

/* The stream `seed`, from its first byte. Cannot fail. */
void tool_stream_init(struct tool_stream *s, uint64_t seed);

/* The bytes of the stream from offset `off` (< `end`) on, up to the end of
 * their chunk of TOOL_STREAM_CHUNK bytes and never past `end`: a pointer into
 * `s` (valid until the next call with `s`), their count in *len (> 0). Cannot
 * fail. Going through a stream in order makes each chunk once. */
const uint8_t *tool_stream_at(struct tool_stream *s, uint64_t off, uint64_t end, size_t *len);

/* A running checksum and the bytes it has seen. */
struct tool_checksum {
    uint32_t crc;  /* CRC-32 so far, pre-inverted */
    uint32_t a, b; /* Adler-32 sums */
    uint64_t len;  /* bytes seen */
    uint32_t tab[256];
};

/* Start a checksum over no bytes. Cannot fail. */
void tool_checksum_init(struct tool_checksum *k);

/* Add the n bytes at p. Cannot fail. */
void tool_checksum_update(struct tool_checksum *k, const uint8_t *p, size_t n);

/* The checksum of the bytes seen so far: (CRC-32 << 32) | Adler-32. */
uint64_t tool_checksum_value(const struct tool_checksum *k);

/* Send, without blocking, the next piece of stream `s` (from *off, up to
 * `end`) on fd, adding what went out to `k` and *off. 0 (also when nothing
 * fit), or -1 after an error (printed as PROG: zsock_send). */
int tool_send_stream(const char *prog, int fd, struct tool_stream *s, uint64_t *off, uint64_t end,
                     struct tool_checksum *k);

/* MiB per second of `bytes` in dt seconds; 0 for dt <= 0. */
double tool_mib_per_s(uint64_t bytes, double dt);

/* ---- sockets */

/* perror() with the tool's name: "PROG: WHAT: <strerror(errno)>". */
void tool_perror(const char *prog, const char *what);

/* An AF_INET socket (zsock_socket failure printed), or -1. */
int tool_socket(const char *prog, int type, int protocol);

/* `sin` for HOST (dotted IPv4) and PORT; false (printed) for a bad HOST. */
bool tool_sockaddr(const char *prog, const char *host, int port, struct sockaddr_in *sin);

/* An IPv4 or IPv6 socket address and its length. */
struct tool_addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in sin;
        struct sockaddr_in6 sin6;
    } u;
    socklen_t len;
};

/* Room for "[ADDR%IFNAME]:PORT". */
#define TOOL_ADDR_STRLEN (INET6_ADDRSTRLEN + IF_NAMESIZE + 10)

/* `a` for HOST and PORT. HOST: dotted IPv4, or IPv6 bare or in brackets,
 * optionally with a scope "%IFNAME" or "%INDEX" (fe80::1%tap0, [fe80::1%2]);
 * NULL: the any address, IPv6's (::) when `any6`, else IPv4's. false
 * (printed) for a bad HOST or an unknown interface. */
bool tool_addr_parse(const char *prog, const char *host, int port, bool any6, struct tool_addr *a);

/* A socket address as "A.B.C.D:PORT" or "[ADDR%IFNAME]:PORT" (the scope by
 * name when the interface is known, else its index) in buf; returns buf. */
const char *tool_addr_str(const struct sockaddr *sa, char *buf, size_t len);

/* Name on fd, a TCP socket of `family`, the SOCKS5 proxy of SPEC
 * "HOST:PORT" (an IPv6 HOST in brackets), which must be of that family
 * (SO_SOCKS5). 0, or -1 (printed). */
int tool_set_socks(const char *prog, int fd, int family, const char *spec);

/* A socket of `family` (zsock_socket failure printed), or -1. */
int tool_socket_family(const char *prog, int family, int type, int protocol);

/* For an AF_INET6 socket, IPV6_V6ONLY set to v6only (0 or 1; the stack's
 * default, on, when -1). Nothing for other sockets. 0, or -1 (printed). */
int tool_set_v6only(const char *prog, int fd, int family, int v6only);

/* Add IPv6 address SPEC ("ADDR" or "ADDR/LEN") to the tool's interface
 * (tool_net_ifindex()). 0, or -1 (printed). */
int tool_add_ipv6(const char *prog, const char *spec);

/* Print "PROG: ipv6 ADDR/LEN on IFNAME STATE ORIGIN" for each IPv6 address
 * of the interfaces that are not loopback. */
void tool_print_ipv6(const char *prog);

/* A tool's IPv6 set-up after tool_start(): --ip6 SPEC added (unless NULL);
 * when `used` (the run speaks IPv6, or SPEC or ZSOCK_IPV6 is given), wait
 * up to 3 s for duplicate address detection and print the addresses. 0, or
 * -1 (printed). */
int tool_ipv6_start(const char *prog, const char *spec, bool used);

/* Wait up to ms until no interface but loopback has a tentative IPv6
 * address (duplicate address detection takes about a second, and a
 * tentative address can be neither source nor destination). true when
 * none is left. */
bool tool_wait_ipv6(int ms);

/* SO_RCVBUF and SO_SNDBUF of `bytes`; nothing for 0 (the stack's default). */
void tool_set_buffers(int fd, int bytes);

/* A TCP listener on PORT (any address) with SO_REUSEADDR, SO_RCVBUF and
 * SO_SNDBUF of buf_bytes (unless 0) and the backlog: its descriptor, or -1. */
int tool_listener(const char *prog, int port, int backlog, int buf_bytes);

/* A TCP listener on `at` (its family, address and port) with
 * SO_REUSEADDR, IPV6_V6ONLY as tool_set_v6only takes it, SO_RCVBUF and
 * SO_SNDBUF of buf_bytes (unless 0) and the backlog: its descriptor, or -1. */
int tool_listener_at(const char *prog, const struct tool_addr *at, int v6only, int backlog,
                     int buf_bytes);

void tool_set_nonblock(int fd);

/* Accept one connection on the non-blocking listener lfd and make it
 * non-blocking; `peer` (may be NULL) gets its address. The descriptor, or
 * -1 when there is none waiting or accept failed (printed as
 * "WHO: zsock_accept: ..." unless it only would block or was aborted). */
int tool_accept(const char *who, int lfd, struct sockaddr_in *peer);

/* After the last write on fd: wait until the peer has acknowledged all
 * (FIONWRITE reaches 0; a TLS socket asks its TCP socket), so that closing
 * loses nothing, but not past `deadline` (tool_now_s() time). Returns at
 * once, silently, when FIONWRITE fails. Blocks the calling thread only. */
void tool_drain_sent(int fd, double deadline);

/* ---- a run's start and end */

/* Line-buffered stdout, the network that `net` asks for brought up and the
 * interfaces printed. 0, or -1 (printed). */
int tool_start(const char *prog, const struct tool_net *net);

/* The TCP counters of `s` as one line "PROG: stats tcp rx ... listen-drops
 * N", with `recovery` followed by the retransmission counters. */
void tool_print_tcp_stats(const char *prog, const struct zsock_net_stats *s, bool recovery);

/* The IPv6 counters of `s` as one line "PROG: stats ipv6 rx ...". */
void tool_print_ipv6_stats(const char *prog, const struct zsock_net_stats *s);

/* One line "PROG: stats if NAME rx ..." per interface; loopback only if
 * `loopback`. */
void tool_print_if_stats(const char *prog, bool loopback);

/* With ms > 0, "PROG: lingering MS ms" and stay that long: the stack keeps
 * answering ARP, ping and retransmissions meanwhile. */
void tool_linger(const char *prog, int ms);

#endif /* ZSOCK_TOOL_UTIL_H_ */
