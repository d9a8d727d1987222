/* A small lwIP network interface driver for a Linux TAP device, written for
 * the lwIP throughput client (lwip_zperf). It replaces lwIP's bundled
 * contrib tapif, which reads frames into a fixed 1514-byte buffer.
 *
 * Receive: a thread of ours waits on the TAP descriptor, reads each frame
 * (up to MTU + 18 bytes: Ethernet header and an optional VLAN tag) straight
 * into a PBUF_RAM pbuf and hands a batch of frames to lwIP under the TCPIP
 * core lock (LOCK_TCPIP_CORE), so input does not go through the tcpip
 * thread's mailbox. Transmit: linkoutput writes a frame from a pbuf chain
 * with one writev(). */
#ifndef LWIP_ZPERF_TAPNETIF_H
#define LWIP_ZPERF_TAPNETIF_H

#include "lwip/err.h"
#include "lwip/netif.h"

#include <pthread.h>
#include <stdint.h>

/* Counters and state of one TAP interface. Counters are written by the
 * receive thread (rx_*) and by linkoutput under the core lock (tx_*). */
struct tapnetif {
    int fd;                  /* the TAP descriptor, non-blocking */
    int stop_fd;             /* eventfd that ends the receive thread */
    char name[16];           /* kernel-side device name */
    size_t frame_max;        /* largest frame read: MTU + 18 */
    pthread_t rx_thread;     /* the receive thread, once started */
    int rx_started;          /* whether rx_thread runs */
    uint64_t rx_frames;      /* frames handed to lwIP */
    uint64_t rx_dropped;     /* frames dropped: no pbuf, oversized or rejected */
    uint64_t tx_frames;      /* frames written to the TAP */
    uint64_t tx_errors;      /* frames the TAP refused (write error) */
    uint64_t tx_tcp_rexmit;  /* TCP data segments sent again (sequence seen before) */
    uint32_t tx_tcp_max_end; /* highest TCP sequence end sent so far */
    int tx_tcp_seen;         /* whether tx_tcp_max_end is set */
};

/* Opens (and creates, if it does not exist) the TAP device NAME with
 * IFF_TAP | IFF_NO_PI, non-blocking, turns the device's offloads off
 * (TUNSETOFFLOAD 0: an earlier user may have left checksum/TSO offload on),
 * and fills T (zeroing it first) for a frame size of MTU + 18. Returns 0, or
 * a negative errno (EINVAL for an MTU outside 576..65516; opening
 * /dev/net/tun, TUNSETIFF: EPERM without CAP_NET_ADMIN). Not thread-safe:
 * call before the interface is added. */
int tapnetif_open(struct tapnetif *t, const char *name, unsigned mtu);

/* lwIP netif init callback, to pass to netif_add() with a struct tapnetif
 * opened by tapnetif_open() as the state and ethernet_input as the input
 * function: sets the MTU, a random locally administered MAC address, the
 * Ethernet/ARP/broadcast flags, etharp_output and our linkoutput. Returns
 * ERR_OK. Called by netif_add() under the core lock. */
err_t tapnetif_init(struct netif *netif);

/* Starts the receive thread of NETIF (added with tapnetif_init). Returns 0
 * or a negative errno from pthread_create(). Call once, without holding the
 * core lock, after netif_add(). */
int tapnetif_start(struct netif *netif);

/* Stops the receive thread (if started) and closes the descriptors of T.
 * Call without holding the core lock, after the interface is no longer used
 * for output (or removed). Not thread-safe against a second call. */
void tapnetif_close(struct tapnetif *t);

#endif /* LWIP_ZPERF_TAPNETIF_H */
