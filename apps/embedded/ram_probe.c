/* RAM probe: compiled (never linked or run) in the cross builds so that
 * bench/size_report.sh can read, with nm -S, the size on the target of the
 * objects zsock allocates at run time: each array below is exactly one
 * object long. The socket objects themselves (struct inet_sock, struct
 * tcp_sock) are private to src/sockets and not listed. */
#include "net/net.h"
#include "net/pbuf.h"
#include "net/tcp_pcb.h"
#include "net/udp.h"
#include "sockets/sockbase.h"
#include "sockets/waitq.h"

char zsock_ram_stack[sizeof(struct z_stack)];
char zsock_ram_netif[sizeof(struct z_netif)];
char zsock_ram_pbuf_header[sizeof(struct z_pbuf)];
char zsock_ram_tcp_pcb[sizeof(struct z_tcp_pcb)];
char zsock_ram_udp_pcb[sizeof(struct z_udp_pcb)];
char zsock_ram_sockbase[sizeof(struct z_sockbase)];
char zsock_ram_waitq[sizeof(struct z_waitq)];
