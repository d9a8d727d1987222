/* The stack: instances, interfaces, link drivers, timers and statistics.
 * One mutex per stack instance (the core lock) guards everything in it;
 * functions named *_locked expect it held. A stack instance is a struct, so a
 * test can run two hosts in one process; the default instance, with loopback
 * up, is created by the first socket call. */
#ifndef ZSOCK_NET_H_
#define ZSOCK_NET_H_

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <zsock/net_if.h>

#include "net/pbuf.h"
#include "net/reasm.h"
#include "port/port.h"
#include "wire/ipv6.h"
#include "wire/wire.h"

struct z_stack;
struct z_netif;

/* ---- link drivers ------------------------------------------------------------------------ */

struct z_netif_driver {
    const char *kind; /* "loopback", "tap", "pipe", "sim" */
    /* Transmit one frame (an Ethernet frame, or an IP packet on a raw-IP
     * link such as loopback). Takes the buffer. Called with the core lock
     * held; must not block. Returns 0 or a negative errno (frame dropped). */
    int (*output)(struct z_netif *nif, struct z_pbuf *p);
    /* OS descriptor the core thread waits on for input, or -1. */
    int (*rx_fd)(struct z_netif *nif);
    /* Read what is available and pass each frame to z_netif_input().
     * Called by the core thread without the core lock. */
    void (*rx_poll)(struct z_netif *nif);
    /* Release the driver's resources (core lock not held). */
    void (*destroy)(struct z_netif *nif);
#if CONFIG_NET_TX_QUEUE
    /* Optional: a descriptor that polls writable when a busy device (its
     * output returned -EAGAIN, keeping the frame; only with transmit
     * queues) can take frames again; -1 or NULL: the driver calls
     * z_netif_tx_wake_locked() itself. */
    int (*tx_fd)(struct z_netif *nif);
#endif
};

/* ---- interfaces ---------------------------------------------------------------------------------
 */

#define Z_NETIF_MAX_IPV4 4

struct z_ipv4_ifaddr {
    uint32_t addr;
    uint32_t mask;
};

/* Packets waiting for a neighbor's link address (ARP, ND), oldest first. */
struct z_neigh_queue {
    struct z_pbuf *head;
    uint8_t n;
};

struct z_arp_entry {
    uint32_t ip;
    uint8_t mac[Z_ETH_ALEN];
    uint8_t state;                /* Z_ARP_FREE, Z_ARP_INCOMPLETE, Z_ARP_REACHABLE */
    uint8_t tries;                /* requests sent while incomplete */
    int64_t deadline;             /* incomplete: next retry; reachable: expiry */
    struct z_neigh_queue pending; /* IP packets waiting for the answer */
};

#define Z_ARP_FREE       0
#define Z_ARP_INCOMPLETE 1
#define Z_ARP_REACHABLE  2

#if CONFIG_NET_TX_QUEUE
/* Transmit classes: SO_PRIORITY's eight values, 802.1Q order (1, background,
 * ranks below 0, best effort; 7 is highest). */
#define Z_TXQ_CLASSES 8

/* Frames waiting to leave an interface: one FIFO per class, served highest
 * first, and frames held for their SO_TXTIME, earliest first. */
struct z_txq {
    struct z_pbuf *head[Z_TXQ_CLASSES];
    struct z_pbuf *tail[Z_TXQ_CLASSES];
    struct z_pbuf *timed; /* sorted by txtime */
    uint32_t n;           /* frames in the classes */
    uint32_t n_timed;     /* frames on the timed list */
    bool blocked;         /* the device is full: wait until it says otherwise */
};
#endif

struct z_capture;
struct z_dhcp4;
struct z_igmp_if;
struct z_ip6_if;
struct z_ip6_stack;

struct z_netif {
    struct z_netif *next;
    struct z_stack *stack;
    int index;
    char name[IFNAMSIZ];
    uint32_t flags; /* ZSOCK_IF_* */
    uint32_t mtu;
    uint32_t gso_max; /* TCP segmentation offload: largest packet the device cuts (0: none) */
    uint8_t mac[Z_ETH_ALEN];
    struct z_ipv4_ifaddr ipv4[Z_NETIF_MAX_IPV4];
    int n_ipv4;
    uint32_t gateway; /* 0: none */
    const struct z_netif_driver *drv;
    void *drv_state;
    struct z_arp_entry *arp;
    int arp_size;
    struct zsock_if_stats stats;
    struct z_capture *capture;
#ifdef CONFIG_NET_DHCPV4
    struct z_dhcp4 *dhcp;   /* DHCPv4 client running here (dhcp4.c), or NULL */
    struct z_igmp_if *igmp; /* IPv4 groups joined (igmp.c), NULL before the first */
#endif
    struct z_ip6_if *ip6; /* IPv6 state (net/ip6.h), or NULL if it could not be allocated */
#if CONFIG_NET_TX_QUEUE
    struct z_txq txq;
#endif
};

/* ---- stack instance
 * -------------------------------------------------------------------------------- */

struct z_udp_pcb; /* UDP protocol control block */
struct z_raw_pcb; /* raw IP socket (raw.h) */
struct z_packet_sock;
struct z_tcp_pcb; /* TCP protocol control block */
struct z_tcp_tables;

#define Z_STACK_WAKEUPS 64

struct z_stack {
    z_mutex_t lock;
    char name[16];
    bool virtual_clock;
    int64_t vnow_us;
    bool is_default; /* the process's default instance, the one the DNS resolver uses */

    struct z_pbuf_pool pool;
    struct z_netif *ifaces;
    struct z_netif *graveyard; /* removed, freed by the core thread */
    int next_ifindex;

    /* Input queued while the lock was held (loopback); processed before the
     * lock is released, so loopback never recurses. */
    struct z_pbuf *pending_head;
    struct z_pbuf *pending_tail;
    bool processing;

    /* Socket wake-ups queued while the lock is held, run just before it is
     * released (z_stack_unlock, z_stack_wait): a burst of input wakes each
     * socket once, not once per packet. */
    struct {
        void (*fn)(void *ctx);
        void *ctx;
    } wakeups[Z_STACK_WAKEUPS];
    int nwakeups;
#if CONFIG_NET_SOCKETS_SOCKS
    /* True while those run: outside protocol processing, so a wake-up may
     * call into TCP (the SOCKS5 exchange sends and reads from one). */
    bool in_wakeups;
#endif

    uint16_t ip_id;
    struct z_reasm_set reasm; /* IPv4 datagrams being reassembled */

    struct z_udp_pcb *udp_pcbs;
    struct z_tcp_pcb *tcp_pcbs;
    struct z_tcp_tables *tcp_tab; /* TCP lookup tables and timer heap (tcp_glue.c) */
    uint8_t isn_key[16];          /* RFC 6528 secret */
    int64_t tcp_next;             /* earliest TCP timer, INT64_MAX: none */
#if CONFIG_NET_TX_QUEUE
    int64_t tx_next; /* earliest SO_TXTIME frame held on any interface, INT64_MAX: none */
#endif
#if CONFIG_NET_SOCKETS_TIMESTAMPING
    struct z_ts_sink *ts_sinks; /* sockets wanting transmit stamps */
    uint32_t ts_next_id;
    int rx_stampers; /* sockets wanting receive stamps: input is stamped while > 0 */
#endif

    bool echo_reply;  /* answer ICMP echo requests (SO_IP_ECHO_REPLY) */
    int icmp_tokens;  /* ICMP errors still allowed in this tick */
    bool silence_all; /* SO_SILENCE_ALL: no echo replies, ICMP errors or RSTs (net/raw.h) */
#if CONFIG_NET_IPV6
    bool echo_reply6; /* answer ICMPv6 echo requests (SO_IPV6_ECHO_REPLY) */
#endif
#if CONFIG_NET_SOCKETS_RAW
    struct z_raw_pcb *raw_pcbs; /* raw IP sockets (net/raw.h) */
#endif
    /* Echo replies received go here, if set (zsock_ping(), net_info.c): a
     * pointer, so a firmware that never pings links none of it. */
    void (*echo_reply_hook)(struct z_stack *s, uint32_t src, uint32_t rest);

    struct zsock_net_stats stats;
    struct z_ip6_stack *ip6; /* IPv6 reassembly, destination cache (net/ip6.h) */
#if CONFIG_NET_SOCKETS_PACKET
    struct z_packet_sock *packet_socks;         /* AF_PACKET sockets (src/sockets/packet.c) */
    const struct z_packet_sock *packet_tx_self; /* the one sending now: no copy to itself */
#endif

    int64_t next_tick;

    /* Single-loop mode: no core thread; the application runs the stack
     * with z_stack_process() (zsock_net_process()), and a blocking call
     * runs it while it waits (z_stack_wait()). */
    bool polled;

    /* Core thread (absent with a virtual clock or in single-loop mode). */
    bool thread_running;
    bool thread_stop;
    z_thread_t thread;
    int wake_fd;
};

/* Options for z_stack_create(). */
struct z_stack_config {
    const char *name;
    bool virtual_clock;  /* time advances only through z_stack_advance() */
    bool loopback;       /* add lo with 127.0.0.1/8 */
    uint32_t pbuf_count; /* pool buffers; 0: CONFIG_NET_PBUF_COUNT */
    bool pbuf_no_heap;   /* no heap buffers beyond the pool (as a small target) */
};

/* Create a stack; NULL on allocation failure. Starts no thread. */
struct z_stack *z_stack_create(const struct z_stack_config *cfg);

/* Stop the core thread, remove every interface, free everything. No socket
 * may still use the stack. */
void z_stack_destroy(struct z_stack *s);

/* The default instance: created on first use with loopback up, plus any
 * interfaces named in the environment (ZSOCK_TAP...), and its core thread
 * running, or in single-loop mode (the none port; zsock_net_init_polled()
 * or ZSOCK_CORE_THREAD=0 on the posix port) without one. NULL only if
 * memory ran out or the core thread could not start. */
struct z_stack *z_stack_default(void);

/* Start the core thread of a real-clock stack (idempotent). 0 or -errno. */
int z_stack_start(struct z_stack *s);

/* Wake the core thread so it notices new drivers or timers. */
void z_stack_kick(struct z_stack *s);

/* One pass of the core thread's work, for a real-clock stack without a core
 * thread (single-loop mode): free removed interfaces, read every driver's
 * pending input, run due timers. Drivers with an OS descriptor are waited
 * on until input arrives, the stack's next timed work is due or
 * `deadline_us` passes, whichever is first; the wait is skipped when an
 * interface has no descriptor (its rx_poll is called on every pass) and on
 * the none port, which has no descriptors. *next_us receives when the stack
 * next has timed work (monotonic microseconds). Lock not held; only one
 * thread may run it at a time. 0, -EINVAL for a virtual-clock stack, -EBUSY
 * if the core thread runs, or another negative errno from poll(). */
int z_stack_process(struct z_stack *s, int64_t deadline_us, int64_t *next_us);

/* Let `us` microseconds pass with the lock not held: sleep, or in
 * single-loop mode run z_stack_process() until then, so that what the
 * caller waits for (buffers coming back) can happen. */
void z_stack_pause(struct z_stack *s, int64_t us);

/* The default stack if it exists and runs in single-loop mode, else NULL.
 * Never creates it. Thread-safe. */
struct z_stack *z_stack_polled_default(void);

void z_stack_lock(struct z_stack *s);
/* Process queued input, run queued wake-ups, then release the lock. */
void z_stack_unlock(struct z_stack *s);

/* Call fn(ctx) before the lock is released, once however often it is asked
 * for in this critical section (the stack's way to wake a socket). ctx must
 * stay valid until then. Lock held. */
void z_stack_wakeup_locked(struct z_stack *s, void (*fn)(void *ctx), void *ctx);

/* Drop queued calls with this ctx (it is about to be freed). Lock held. */
void z_stack_wakeup_cancel_locked(struct z_stack *s, void *ctx);

/* Wait on `cond` with the lock held (released while waiting), after
 * processing queued input and running queued wake-ups; if there were any,
 * return 0 at once instead, so the caller checks its condition again.
 * In single-loop mode nobody else runs the stack, so instead of sleeping on
 * `cond` it releases the lock for one z_stack_process() pass (bounded by
 * the deadline) and returns 0. Returns as z_cond_wait_until(). */
int z_stack_wait(struct z_stack *s, z_cond_t *cond, int64_t deadline_us);

/* Microseconds on the stack's clock. */
int64_t z_stack_now_us(const struct z_stack *s);

/* Virtual clock only: move time forward by `us`, running timers. */
void z_stack_advance(struct z_stack *s, int64_t us);

/* Run the periodic work (ARP aging and retries, reassembly timeouts) if
 * due. Lock held. */
void z_stack_tick_locked(struct z_stack *s);

/* Queue a received frame for processing before the lock is released. Lock held. */
void z_stack_defer_input_locked(struct z_stack *s, struct z_netif *nif, struct z_pbuf *p);

/* A driver received a frame: take the lock, process it, release. */
void z_netif_input(struct z_netif *nif, struct z_pbuf *p);

/* Hand a chain of frames (linked by `next`) to the stack in one critical
 * section, so a burst costs one lock round and wakes each socket once.
 * Takes the chain. Lock not held. */
void z_netif_input_chain(struct z_netif *nif, struct z_pbuf *chain);

/* Process one received frame; lock held. Takes the buffer. */
void z_netif_input_locked(struct z_netif *nif, struct z_pbuf *p);

/* ---- interfaces (lock held unless stated)
 * ------------------------------------------------------------ */

/* Add an interface driven by `drv`; index assigned. NULL on failure. The
 * name is made unique (lo, tap0...). Not up yet. */
struct z_netif *z_netif_add_locked(struct z_stack *s, const char *name, uint32_t flags,
                                   uint32_t mtu, const uint8_t *mac,
                                   const struct z_netif_driver *drv, void *drv_state);
/* Remove an interface (lock held). It is freed, and its driver destroyed,
 * once the core thread can no longer be reading from it. */
void z_netif_remove_locked(struct z_netif *nif);
/* Free removed interfaces (core thread, lock not held). */
void z_netif_free_graveyard(struct z_stack *s);
struct z_netif *z_netif_by_index_locked(struct z_stack *s, int index);
struct z_netif *z_netif_by_name_locked(struct z_stack *s, const char *name);
int z_netif_set_up_locked(struct z_netif *nif, bool up);
int z_netif_add_ipv4_locked(struct z_netif *nif, uint32_t addr, uint32_t mask);
int z_netif_del_ipv4_locked(struct z_netif *nif, uint32_t addr);
/* For drivers on a non-blocking OS descriptor: read up to 64 frames of at
 * most frame_max bytes and pass each to z_netif_input() (lock not held). */
void z_netif_rx_drain_fd(struct z_netif *nif, int fd, size_t frame_max);

/* A random locally administered unicast MAC address. */
void z_netif_random_mac(uint8_t mac[Z_ETH_ALEN]);

/* Pass an outgoing frame to the driver (capture, statistics). Takes p.
 * With transmit queues, a frame waits in its class (p->prio) while the
 * device is busy or earlier frames wait, and until its p->txtime; 0 then
 * means queued, -ENOBUFS that the queue is full (the frame is dropped). */
int z_netif_output_locked(struct z_netif *nif, struct z_pbuf *p);

#if CONFIG_NET_TX_QUEUE
/* The device of nif can take frames again: send what waits, highest class
 * first, until it is busy again. */
void z_netif_tx_wake_locked(struct z_netif *nif);
/* Release the SO_TXTIME frames that are due on every interface (the stack's
 * timer, at s->tx_next). */
void z_netif_tx_timers_locked(struct z_stack *s, int64_t now);
/* Free every frame waiting on nif (interface down or removed). */
void z_netif_tx_flush_locked(struct z_netif *nif);
#endif

#if CONFIG_NET_SOCKETS_TIMESTAMPING
/* A socket that wants to know when its packets leave (SO_TIMESTAMPING):
 * registered with z_ts_sink_add_locked, it gets an id the packets carry
 * (p->ts_id); sent() is called, lock held, with the packet's key and the
 * time it went to the device. Packets still queued when the sink goes
 * report nothing. */
struct z_ts_sink {
    struct z_ts_sink *next;
    uint32_t id;
    void (*sent)(struct z_ts_sink *sink, uint32_t key, int64_t when);
};
void z_ts_sink_add_locked(struct z_stack *s, struct z_ts_sink *sink);
void z_ts_sink_remove_locked(struct z_stack *s, struct z_ts_sink *sink);
#endif

/* Is `addr` one of ours (on any interface)? */
bool z_ipv4_is_local_locked(struct z_stack *s, uint32_t addr);
/* Is `addr` a broadcast address of `nif` (limited or directed)? */
bool z_ipv4_is_broadcast(const struct z_netif *nif, uint32_t addr);

/* ---- drivers
 * -------------------------------------------------------------------------------------------- */

struct z_netif *z_loopback_add_locked(struct z_stack *s);
/* Open /dev/net/tun as `ifname` (TAP). Returns the interface or NULL with *err. */
struct z_netif *z_tap_add_locked(struct z_stack *s, const char *ifname, int *err);
/* A frame pipe over a Unix datagram socket bound at `local`, sending to `peer`. */
struct z_netif *z_pipe_add_locked(struct z_stack *s, const char *local, const char *peer, int *err);

/* ---- capture
 * -------------------------------------------------------------------------------------------- */

/* Start writing every frame of nif to a pcap file (replacing a running
 * capture), or stop with path NULL. 0 or -errno. */
int z_capture_start_locked(struct z_netif *nif, const char *path);
void z_capture_frame(struct z_netif *nif, const struct z_pbuf *p, int64_t now_us);
void z_capture_stop_locked(struct z_netif *nif);

/* ---- protocols (lock held)
 * --------------------------------------------------------------------------- */

/* neigh.c: what ARP and ND share. */
/* Put an Ethernet header (our MAC to dst, type) on p and send it on nif.
 * Takes p. 0 or -errno (-ENOBUFS without headroom). Lock held. */
int z_eth_output_locked(struct z_netif *nif, const uint8_t dst[Z_ETH_ALEN], uint16_t type,
                        struct z_pbuf *p);
/* Queue p until the neighbor is resolved. Takes p. 0, or -ENOBUFS when
 * CONFIG_NET_ARP_QUEUE packets already wait (p is freed; the caller counts
 * it, and tells nobody: like a loss on the wire). Lock held. */
int z_neigh_queue_put(struct z_neigh_queue *q, struct z_pbuf *p);
/* Send every waiting packet, oldest first, to dst with z_eth_output_locked;
 * q is empty after. Lock held. */
void z_neigh_queue_send(struct z_neigh_queue *q, struct z_netif *nif, const uint8_t dst[Z_ETH_ALEN],
                        uint16_t type);
/* Free every waiting packet; returns how many there were. Lock held. */
unsigned z_neigh_queue_drop(struct z_neigh_queue *q);

void z_arp_input_locked(struct z_netif *nif, struct z_pbuf *p);
/* Send an IP packet to next hop `nh` on an Ethernet interface, resolving it. Takes p. */
int z_arp_output_locked(struct z_netif *nif, uint32_t nh, struct z_pbuf *p);
void z_arp_announce_locked(struct z_netif *nif, uint32_t addr);
void z_arp_tick_locked(struct z_netif *nif, int64_t now);
void z_arp_flush_locked(struct z_netif *nif);

void z_ipv4_input_locked(struct z_netif *nif, struct z_pbuf *p);
void z_ipv4_tick_locked(struct z_stack *s, int64_t now);
void z_ipv4_reasm_flush_locked(struct z_stack *s);

/* Route lookup: the interface and next hop for dst, honouring a bound
 * interface (0: any). -ENETUNREACH when there is no route. */
int z_ipv4_route_locked(struct z_stack *s, uint32_t dst, int bound_ifindex, struct z_netif **out,
                        uint32_t *next_hop);
/* The source address to use toward dst from nif. */
uint32_t z_ipv4_select_source(const struct z_netif *nif, uint32_t dst);

struct z_ipv4_tx {
    uint32_t src; /* 0: chosen from the route */
    uint32_t dst;
    uint8_t proto;
    uint8_t ttl;
    uint8_t tos;
    bool df;
    int ifindex; /* SO_BINDTODEVICE or IP_MULTICAST_IF, 0: any */
#if CONFIG_NET_IGMP
    bool mcast_loop; /* to a group: a copy to this host too if the interface joined it */
#endif
};

/* Send a packet whose transport header and payload are at p->data, with
 * headroom for the IP and link headers. Fragments it if larger than the
 * MTU (unless df, which gives -EMSGSIZE). Takes p. Returns 0 or -errno. */
int z_ipv4_output_locked(struct z_stack *s, const struct z_ipv4_tx *tx, struct z_pbuf *p);

void z_icmp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p);
/* Send an ICMP error about the IP packet `orig` (header + at least 8 bytes). */
void z_icmp_send_error_locked(struct z_stack *s, const struct z_netif *nif, uint8_t type,
                              uint8_t code, uint32_t extra, const uint8_t *orig, size_t orig_len);

void z_udp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p);
void z_tcp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p);

/* ---- IPv4 multicast (igmp.c; lock held) ------------------------------------------------ */

#if CONFIG_NET_IGMP
/* Take a reference on group for nif: the first joins it (reports go out).
 * -EINVAL not multicast, -ENOBUFS no slot left, -ENOMEM. */
int z_igmp_join_locked(struct z_netif *nif, uint32_t group);
/* Drop a reference; the last leaves the group. -EADDRNOTAVAIL not joined. */
int z_igmp_leave_locked(struct z_netif *nif, uint32_t group);
/* Has nif joined group (224.0.0.1 always)? */
bool z_igmp_is_member(const struct z_netif *nif, uint32_t group);
/* Is mac the Ethernet address of a group nif joined? */
bool z_igmp_mac_wanted(const struct z_netif *nif, const uint8_t mac[Z_ETH_ALEN]);
/* An IGMP message (p: the IPv4 packet). Takes p. */
void z_igmp_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, struct z_pbuf *p);
void z_igmp_tick_locked(struct z_netif *nif, int64_t now);
/* The interface came up: report every group again. */
void z_igmp_up_locked(struct z_netif *nif);
void z_igmp_free_locked(struct z_netif *nif);
#else
static inline bool z_igmp_is_member(const struct z_netif *nif, uint32_t group)
{
    (void)nif;
    return group == Z_IGMP_ALL_HOSTS;
}
static inline bool z_igmp_mac_wanted(const struct z_netif *nif, const uint8_t mac[Z_ETH_ALEN])
{
    (void)nif;
    (void)mac;
    return false;
}
static inline void z_igmp_tick_locked(struct z_netif *nif, int64_t now)
{
    (void)nif;
    (void)now;
}
static inline void z_igmp_up_locked(struct z_netif *nif)
{
    (void)nif;
}
static inline void z_igmp_free_locked(struct z_netif *nif)
{
    (void)nif;
}
#endif

/* ---- transport endpoints of either IP version ----------------------------------------- */

/* IP versions, as bits: a pcb takes the packets of the versions it holds
 * (an AF_INET6 socket bound to :: without IPV6_V6ONLY takes both). */
#define Z_FAM4 1
#define Z_FAM6 2

/* Reads of a pcb's or an endpoint's IP version(s), and of "an AF_INET6
 * socket": without CONFIG_NET_IPV6 they are constants (IPv4, no), so the
 * compiler drops every IPv6 branch of the code that tests them. */
#if CONFIG_NET_IPV6
#define Z_FAM(x) (x)
#define Z_V6(x)  (x)
#else
#define Z_FAM(x) ((void)(x), Z_FAM4)
#define Z_V6(x)  ((void)(x), false)
#endif

/* An address and port of one IP version. An AF_INET6 socket's IPv4-mapped
 * address (::ffff:a.b.c.d) becomes a Z_FAM4 endpoint here: IPv4 is
 * IPv4 inside the stack, whatever family the socket shows. */
struct z_ipep {
    uint8_t fam; /* Z_FAM4 or Z_FAM6 */
    uint16_t port;
    uint32_t a4; /* Z_FAM4: host order */
#if CONFIG_NET_IPV6
    uint32_t scope;          /* Z_FAM6: interface of a link-local address, 0 none */
    uint8_t a6[Z_IPV6_ALEN]; /* Z_FAM6 */
#endif
};

/* IPv6 socket options a UDP or TCP pcb applies to what it sends. */
struct z_ip6_sockopts {
    uint8_t hops;   /* IPV6_UNICAST_HOPS; 0: the interface's */
    uint8_t tclass; /* IPV6_TCLASS */
    bool dontfrag;  /* IPV6_DONTFRAG: EMSGSIZE rather than fragments */
    uint16_t mtu;   /* IPV6_MTU: the most the socket sends in one packet; 0: the path's */
};

/* The IP versions a socket takes when not bound to an address: IPv4 for
 * AF_INET, IPv6 and (without IPV6_V6ONLY) IPv4 for AF_INET6. */
static inline uint8_t z_sock_fam(bool v6sock, bool v6only)
{
    if (!Z_V6(v6sock)) {
        return Z_FAM4;
    }
    return v6only ? Z_FAM6 : Z_FAM4 | Z_FAM6;
}

/* A local binding as the port checks see it. */
struct z_lbind {
    uint8_t fam;       /* the versions taken */
    uint32_t a4;       /* 0: any */
    const uint8_t *a6; /* :: any; unused without CONFIG_NET_IPV6 */
};

/* The binding of a UDP or TCP pcb (fields fam, laddr, laddr6). */
#if CONFIG_NET_IPV6
#define Z_ADDR6(field) (field)
#else
#define Z_ADDR6(field) NULL /* the field does not exist */
#endif
#define Z_LBIND(pcb) ((struct z_lbind){(pcb)->fam, (pcb)->laddr, Z_ADDR6((pcb)->laddr6)})

/* Do two bindings share an address (a wildcard of a version both take, or
 * the same address)? */
static inline bool z_laddr_overlap(const struct z_lbind *a, const struct z_lbind *b)
{
    uint8_t both = Z_FAM(a->fam) & Z_FAM(b->fam);
    if ((both & Z_FAM4) && (a->a4 == 0 || b->a4 == 0 || a->a4 == b->a4)) {
        return true;
    }
#if CONFIG_NET_IPV6
    if ((both & Z_FAM6) && (z_ipv6_is_unspecified(a->a6) || z_ipv6_is_unspecified(b->a6) ||
                            memcmp(a->a6, b->a6, Z_IPV6_ALEN) == 0)) {
        return true;
    }
#endif
    return false;
}

#if CONFIG_NET_IPV6
/* A link-local address (or, with mcast, a link-scope group) names its
 * link: take ep's scope into *ifindex, which must agree with it. 0, or
 * -EINVAL (no scope and no device, or a different one), -ENODEV. */
int z_ipep_take_scope(struct z_stack *s, const struct z_ipep *ep, bool mcast, int *ifindex);
#endif

/* Fill an endpoint (a link-local IPv6 address gets ifindex as its scope).
 * a6 is read only with CONFIG_NET_IPV6. */
static inline void z_ipep_make(struct z_ipep *out, uint8_t fam, uint32_t a4, const uint8_t *a6,
                               uint16_t port, int ifindex)
{
    memset(out, 0, sizeof(*out));
    out->fam = Z_FAM(fam);
    out->a4 = a4;
    out->port = port;
#if CONFIG_NET_IPV6
    memcpy(out->a6, a6, Z_IPV6_ALEN);
    if (z_ipv6_is_link_local(a6)) {
        out->scope = (uint32_t)ifindex;
    }
#else
    (void)a6;
    (void)ifindex;
#endif
}

/* The ephemeral ports a socket draws from: the stack's range
 * (CONFIG_NET_EPHEMERAL_PORT_MIN..MAX), narrowed by IP_LOCAL_PORT_RANGE's
 * `clamp` (low 16 bits the lowest port, high 16 the highest, 0 for no
 * bound) when the two ranges meet, as Linux does. */
static inline void z_eph_range(uint32_t clamp, uint32_t *lo, uint32_t *span)
{
    uint32_t a = CONFIG_NET_EPHEMERAL_PORT_MIN, b = CONFIG_NET_EPHEMERAL_PORT_MAX;
    uint32_t cl = clamp & 0xffff, ch = clamp >> 16;
    if (cl > a && cl <= b) {
        a = cl;
    }
    if (ch != 0 && ch < b && ch >= a) {
        b = ch;
    }
    *lo = a;
    *span = b - a + 1;
}

/* Is the endpoint's address the unspecified one (0.0.0.0 or ::)? */
static inline bool z_ipep_any(const struct z_ipep *e)
{
#if CONFIG_NET_IPV6
    if (e->fam == Z_FAM6) {
        return z_ipv6_is_unspecified(e->a6);
    }
#endif
    return e->a4 == 0;
}

/* When the stack next has timed work (tick or TCP timer). Lock held. */
int64_t z_stack_next_event_locked(struct z_stack *s);
/* An ICMP error arrived about a UDP datagram we sent (orig = its IP header on). */
void z_udp_icmp_error_locked(struct z_stack *s, int err, const uint8_t *orig, size_t orig_len);

/* ---- IPv6 (ipv6.c, nd.c, icmp6.c, mld.c; lock held unless stated) ---------------------------
 * Addresses are uint8_t[16] in network order. */

#if CONFIG_NET_IPV6
/* Create and free the stack's IPv6 state (lock not needed: the stack is
 * not shared yet, or no longer). 0 or -ENOMEM. */
int z_ipv6_stack_init(struct z_stack *s);
void z_ipv6_stack_destroy(struct z_stack *s);
/* Give a new interface its IPv6 state; -ENOMEM. Removal frees it. */
int z_ipv6_if_attach_locked(struct z_netif *nif);
void z_ipv6_if_detach_locked(struct z_netif *nif);
/* The interface went up (link-local address and DAD, router solicitation,
 * MLD reports; ::1 on loopback) or down (neighbor cache and routers flushed). */
void z_ipv6_if_up_locked(struct z_netif *nif);
void z_ipv6_if_down_locked(struct z_netif *nif);
/* Add an address (origin ZSOCK_IPV6_ORIGIN_*, lifetimes in seconds,
 * 0xffffffff infinite). -EEXIST, -ENOSPC, -ENOMEM (no IPv6 state). */
int z_ipv6_add_addr_locked(struct z_netif *nif, const uint8_t addr[16], int plen, int origin,
                           uint32_t valid_s, uint32_t preferred_s);
/* Remove an address: 0 or -EADDRNOTAVAIL. */
int z_ipv6_del_addr_locked(struct z_netif *nif, const uint8_t addr[16]);
/* Fill the IPv6 fields of zsock_if_info. */
/* Upper-layer reachability confirmation (RFC 4861 7.3.1): the neighbor ip
 * on nif just proved it hears us (TCP acknowledged new data); its cache
 * entry becomes REACHABLE without a probe. */
void z_nd_confirm_locked(struct z_netif *nif, const uint8_t ip[16]);
/* May a socket bind a: one of our addresses, and for a link-local one, an
 * address of interface ifindex (when given)? */
bool z_ipv6_bindable_locked(struct z_stack *s, const uint8_t a[16], int ifindex);
/* Is an address of nif still in duplicate address detection? */
bool z_ipv6_dad_pending_locked(const struct z_netif *nif);
/* The MAC changed: the addresses made from it are replaced. */
void z_ipv6_mac_changed_locked(struct z_netif *nif);
void z_ipv6_if_info_locked(const struct z_netif *nif, struct zsock_if_info *out);
/* Should a frame to this 33:33:xx multicast MAC be taken (a group we joined)? */
bool z_ipv6_mcast_mac_wanted(const struct z_netif *nif, const uint8_t mac[Z_ETH_ALEN]);
/* An IPv6 packet (data at its header) arrived on nif; eth_src is the
 * frame's source MAC, NULL on a raw-IP link. Takes p. */
void z_ipv6_input_locked(struct z_netif *nif, struct z_pbuf *p, const uint8_t *eth_src);
/* Timers: DAD, router solicitation, neighbor cache, lifetimes, MLD,
 * reassembly, the ICMPv6 rate limit. Run from z_stack_tick_locked. */
void z_ipv6_tick_locked(struct z_stack *s, int64_t now);
#else  /* !CONFIG_NET_IPV6: the stack without IPv6 (a smaller build) */
static inline int z_ipv6_stack_init(struct z_stack *s)
{
    (void)s;
    return 0;
}
static inline void z_ipv6_stack_destroy(struct z_stack *s)
{
    (void)s;
}
static inline int z_ipv6_if_attach_locked(struct z_netif *nif)
{
    (void)nif;
    return 0;
}
static inline void z_ipv6_if_detach_locked(struct z_netif *nif)
{
    (void)nif;
}
static inline void z_ipv6_if_up_locked(struct z_netif *nif)
{
    (void)nif;
}
static inline void z_ipv6_if_down_locked(struct z_netif *nif)
{
    (void)nif;
}
static inline int z_ipv6_add_addr_locked(struct z_netif *nif, const uint8_t addr[16], int plen,
                                         int origin, uint32_t valid_s, uint32_t preferred_s)
{
    (void)nif, (void)addr, (void)plen, (void)origin, (void)valid_s, (void)preferred_s;
    return -EAFNOSUPPORT;
}
static inline int z_ipv6_del_addr_locked(struct z_netif *nif, const uint8_t addr[16])
{
    (void)nif, (void)addr;
    return -EAFNOSUPPORT;
}
static inline bool z_ipv6_dad_pending_locked(const struct z_netif *nif)
{
    (void)nif;
    return false;
}
static inline void z_ipv6_mac_changed_locked(struct z_netif *nif)
{
    (void)nif;
}
static inline void z_ipv6_if_info_locked(const struct z_netif *nif, struct zsock_if_info *out)
{
    (void)nif;
    out->n_ipv6 = 0;
}
static inline bool z_ipv6_mcast_mac_wanted(const struct z_netif *nif, const uint8_t mac[Z_ETH_ALEN])
{
    (void)nif;
    return mac[0] != 0x33 ||
           mac[1] != 0x33; /* no IPv6 groups; other multicast is not ours to judge */
}
static inline void z_ipv6_input_locked(struct z_netif *nif, struct z_pbuf *p,
                                       const uint8_t *eth_src)
{
    (void)eth_src;
    nif->stats.rx_dropped++;
    z_pbuf_free(p);
}
static inline void z_ipv6_tick_locked(struct z_stack *s, int64_t now)
{
    (void)s, (void)now;
}
#endif /* CONFIG_NET_IPV6 */

/* Is `a` one of our addresses (any interface, usable or not)? */
bool z_ipv6_is_local_locked(struct z_stack *s, const uint8_t a[16]);

struct z_ipv6_tx {
    uint8_t src[16]; /* :: chosen by source address selection */
    uint8_t dst[16];
    uint8_t proto;     /* next header of what p holds */
    uint8_t hop_limit; /* 0: the interface's (an RA's, else 64); 1 for multicast */
    uint8_t tclass;
    uint32_t flow;
    int ifindex;     /* outgoing interface (scope of link-local/multicast); 0: routed */
    bool dontfrag;   /* -EMSGSIZE rather than fragments */
    bool mcast_loop; /* to a group: a copy to this host too if the interface joined it */
    uint16_t mtu;    /* fragment below this size too (IPV6_MTU); 0: the path MTU only */
};

/* Route toward dst: the interface and next hop, honouring ifindex (0: any).
 * -ENETUNREACH when there is no route, -ENETDOWN for a bound interface that
 * is down. */
int z_ipv6_route_locked(struct z_stack *s, const uint8_t dst[16], int ifindex, struct z_netif **out,
                        uint8_t next_hop[16]);
/* Source address selection (RFC 6724 5: same address, scope, avoid
 * deprecated, longest prefix) among nif's usable addresses. -EADDRNOTAVAIL
 * if there is none. */
int z_ipv6_select_source(const struct z_netif *nif, const uint8_t dst[16], uint8_t out[16]);
/* Send a packet whose upper-layer header and payload are at p->data, with
 * headroom for the IPv6 and link headers: route, source, hop limit,
 * fragmentation beyond the path MTU (never below 1280), neighbor
 * resolution. Takes p. 0 or -errno. */
int z_ipv6_output_locked(struct z_stack *s, const struct z_ipv6_tx *tx, struct z_pbuf *p);
/* The path MTU toward dst through nif (the link's, or less from Packet Too Big). */
uint32_t z_ipv6_path_mtu_locked(struct z_stack *s, const struct z_netif *nif,
                                const uint8_t dst[16]);
/* UDP and TCP over IPv6 arrive here: p->data at the IPv6 header (parsed
 * in *ip, fragments already reassembled), the upper-layer header `off`
 * bytes in; handed to udp.c or tcp_glue.c. Takes p. */
void z_ipv6_l4_input_locked(struct z_netif *nif, const struct z_ipv6_hdr *ip, uint8_t proto,
                            struct z_pbuf *p, size_t off);

/* ---- DHCPv4 client (dhcp4.c; lock held unless stated)
 * ------------------------------------------------------------------------ */

#ifdef CONFIG_NET_DHCPV4
/* Start the client on an Ethernet interface and bring it up. -ENOTSUP not
 * Ethernet, -EALREADY running, -ENOMEM. */
int z_dhcp4_start_locked(struct z_netif *nif);
/* Stop it: RELEASE a held lease, remove what it configured. -EALREADY if
 * it is not running. */
int z_dhcp4_stop_locked(struct z_netif *nif);
/* The interface is being removed: drop the client without a RELEASE. */
void z_dhcp4_detach_locked(struct z_netif *nif);
/* Fill `out` (state ZSOCK_DHCP4_OFF when the client is not running). */
void z_dhcp4_get_locked(const struct z_netif *nif, struct zsock_dhcp4_lease *out);
/* Wait up to timeout_ms (-1: forever) for interface ifindex of `s` to hold
 * a lease. Lock NOT held. 0, -ETIMEDOUT, -ENODEV (no such interface, or
 * removed meanwhile), -EALREADY (client not running, or stopped meanwhile). */
int z_dhcp4_wait(struct z_stack *s, int ifindex, int timeout_ms);
/* Timers: retransmissions, T1, T2, expiry. Run from z_stack_tick_locked. */
void z_dhcp4_tick_locked(struct z_netif *nif, int64_t now);
/* A UDP datagram to port 68 on an interface running the client. */
void z_dhcp4_input_locked(struct z_netif *nif, const struct z_ipv4_hdr *ip, const uint8_t *payload,
                          size_t len);
/* Should an IPv4 packet to an address that is not ours be taken anyway?
 * True for a DHCP reply unicast to the address being offered (the client
 * has no address yet). pkt is the IP packet, len its length. */
bool z_dhcp4_accept_locked(const struct z_netif *nif, const struct z_ipv4_hdr *ip,
                           const uint8_t *pkt, size_t len);
/* An ARP packet arrived: the client's check of an offered address. */
void z_dhcp4_arp_input_locked(struct z_netif *nif, const struct z_arp *a);
/* Send an ARP probe (RFC 5227: sender address 0) for `addr` (arp.c). */
void z_arp_probe_locked(struct z_netif *nif, uint32_t addr);
#endif

#endif /* ZSOCK_NET_H_ */
