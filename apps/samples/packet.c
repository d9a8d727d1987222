/* packet: raw Ethernet frames through AF_PACKET sockets, as Zephyr's
 * samples/net/sockets/packet: one thread receives with an AF_PACKET
 * SOCK_RAW ETH_P_ALL socket, another sends frames.
 *
 *   packet [-i IFNAME] [-c SEND] [-r RECV] [-t TYPE] [-d MAC] [--dgram]
 *          [--arp SENDER_IP:TARGET_IP] [-w MS]
 *
 * The sender sends SEND frames (default 5) of Ethernet type TYPE (hex,
 * default 88b5, the IEEE local experimental type) to MAC (default
 * broadcast), through a SOCK_RAW socket that writes the whole frame, or with
 * --dgram a SOCK_DGRAM socket that lets zsock build the header; --arp sends
 * one ARP request instead (type 0806). The receiver puts the interface in
 * promiscuous mode (PACKET_MR_PROMISC), prints every incoming frame of
 * TYPE as "recv LEN bytes pkttype P type 0xTYPE src MAC dst MAC: HEX" and
 * stops after RECV of them (default SEND; 0: none awaited). The interface
 * is IFNAME, or the first one that is not the loopback (ZSOCK_TAP,
 * ZSOCK_PIPE). Exits 0 when everything was sent and received within MS
 * milliseconds (default 10000). */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zsock/net_if.h>
#include <zsock/socket.h>

struct opts {
    int ifindex;
    uint8_t mac[6]; /* the interface's */
    int send, recv;
    unsigned type;
    uint8_t dst[6];
    bool dgram;
    bool arp;
    struct in_addr arp_src, arp_dst;
    int wait_ms;
    /* The receiver is listening: the sender starts then, so a frame the
     * peer answers (--arp) is not missed. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool ready;
};

static void set_ready(struct opts *o)
{
    pthread_mutex_lock(&o->lock);
    o->ready = true;
    pthread_cond_signal(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

static int parse_mac(const char *s, uint8_t out[6])
{
    unsigned v[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) {
        return -1;
    }
    for (int i = 0; i < 6; i++) {
        out[i] = (uint8_t)v[i];
    }
    return 0;
}

static void print_mac(const uint8_t *m)
{
    printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* The receiver: an ETH_P_ALL socket on the interface, promiscuous. */
static void *receiver(void *arg)
{
    struct opts *o = arg;
    intptr_t result = 1;
    int fd = zsock_socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = o->ifindex};
    struct packet_mreq mr = {.mr_ifindex = o->ifindex, .mr_type = PACKET_MR_PROMISC};
    if (fd < 0 || zsock_bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
        zsock_setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
        perror("packet: receiver socket");
        set_ready(o);
        return (void *)result;
    }
    printf("packet: receiving on interface %d\n", o->ifindex);
    fflush(stdout);
    set_ready(o);
    int got = 0;
    while (got < o->recv) {
        struct zsock_pollfd p = {.fd = fd, .events = ZSOCK_POLLIN};
        if (zsock_poll(&p, 1, o->wait_ms) != 1) {
            fprintf(stderr, "packet: %d of %d frames received in %d ms\n", got, o->recv,
                    o->wait_ms);
            break;
        }
        uint8_t f[2048];
        socklen_t len = sizeof(sll);
        ssize_t n = zsock_recvfrom(fd, f, sizeof(f), 0, (struct sockaddr *)&sll, &len);
        if (n < 14 || sll.sll_pkttype == PACKET_OUTGOING || ntohs(sll.sll_protocol) != o->type) {
            continue; /* our own frames, and other traffic */
        }
        printf("recv %zd bytes pkttype %d type 0x%04x src ", n, sll.sll_pkttype,
               ntohs(sll.sll_protocol));
        print_mac(f + 6);
        printf(" dst ");
        print_mac(f);
        printf(":");
        for (ssize_t i = 0; i < n; i++) {
            printf("%s%02x", i % 4 == 0 ? " " : "", f[i]);
        }
        printf("\n");
        fflush(stdout);
        got++;
    }
    result = got < o->recv;
    zsock_close(fd);
    return (void *)result;
}

/* An ARP request (RFC 826) for arp_dst from arp_src, as the payload of a frame. */
static size_t arp_request(const struct opts *o, uint8_t *p)
{
    static const uint8_t head[8] = {0, 1, 8, 0, 6, 4, 0, 1}; /* Ethernet, IPv4, request */
    memcpy(p, head, sizeof(head));
    memcpy(p + 8, o->mac, 6);
    memcpy(p + 14, &o->arp_src, 4);
    memset(p + 18, 0, 6);
    memcpy(p + 24, &o->arp_dst, 4);
    return 28;
}

static int sender(const struct opts *o)
{
    unsigned type = o->arp ? ETH_P_ARP : o->type;
    int fd = zsock_socket(AF_PACKET, o->dgram ? SOCK_DGRAM : SOCK_RAW, htons(type));
    struct sockaddr_ll to = {.sll_family = AF_PACKET,
                             .sll_protocol = htons(type),
                             .sll_ifindex = o->ifindex,
                             .sll_halen = 6};
    memcpy(to.sll_addr, o->dst, 6);
    if (fd < 0) {
        perror("packet: sender socket");
        return -1;
    }
    int count = o->arp ? 1 : o->send;
    for (int i = 0; i < count; i++) {
        uint8_t f[128];
        size_t hl = o->dgram ? 0 : 14; /* SOCK_RAW writes the header itself */
        if (!o->dgram) {
            memcpy(f, o->dst, 6);
            memcpy(f + 6, o->mac, 6);
            f[12] = (uint8_t)(type >> 8);
            f[13] = (uint8_t)type;
        }
        size_t len = o->arp ? arp_request(o, f + hl)
                            : (size_t)snprintf((char *)f + hl, sizeof(f) - hl,
                                               "zsock packet sample frame %d", i);
        len += hl;
        size_t min = 60 - (14 - hl); /* the Ethernet minimum: zsock pads nothing */
        if (len < min) {
            memset(f + len, 0, min - len);
            len = min;
        }
        if (zsock_sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len) {
            perror("packet: sendto");
            zsock_close(fd);
            return -1;
        }
        printf("sent %zu bytes type 0x%04x\n", len, type);
        fflush(stdout);
    }
    zsock_close(fd);
    return 0;
}

/* The interface by name, or the first that is not the loopback. */
static int find_interface(const char *name, struct opts *o)
{
    struct zsock_if_info info[8];
    int n = zsock_if_list(info, 8);
    for (int i = 0; i < n; i++) {
        bool match =
            name != NULL ? strcmp(info[i].name, name) == 0 : !(info[i].flags & ZSOCK_IF_LOOPBACK);
        if (match) {
            o->ifindex = info[i].index;
            memcpy(o->mac, info[i].mac, 6);
            return 0;
        }
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct opts o = {.send = 5, .recv = -1, .type = 0x88b5, .wait_ms = 10000};
    memset(o.dst, 0xff, 6);
    const char *ifname = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (strcmp(a, "--dgram") == 0) {
            o.dgram = true;
            continue;
        }
        if (v == NULL) {
            ok = false;
        } else if (strcmp(a, "-i") == 0) {
            ifname = v;
        } else if (strcmp(a, "-c") == 0) {
            o.send = atoi(v);
        } else if (strcmp(a, "-r") == 0) {
            o.recv = atoi(v);
        } else if (strcmp(a, "-t") == 0) {
            o.type = (unsigned)strtoul(v, NULL, 16);
        } else if (strcmp(a, "-d") == 0) {
            ok = parse_mac(v, o.dst) == 0;
        } else if (strcmp(a, "-w") == 0) {
            o.wait_ms = atoi(v);
        } else if (strcmp(a, "--arp") == 0) {
            char ips[64];
            snprintf(ips, sizeof(ips), "%s", v);
            char *colon = strchr(ips, ':');
            ok = colon != NULL;
            if (ok) {
                *colon = '\0';
                ok = inet_pton(AF_INET, ips, &o.arp_src) == 1 &&
                     inet_pton(AF_INET, colon + 1, &o.arp_dst) == 1;
            }
            o.arp = true;
        } else {
            ok = false;
        }
        if (!ok) {
            fprintf(stderr, "usage: packet [-i IFNAME] [-c SEND] [-r RECV] [-t TYPE] [-d MAC] "
                            "[--dgram] [--arp SENDER_IP:TARGET_IP] [-w MS]\n");
            return 2;
        }
        i++;
    }
    o.recv = o.recv < 0 ? o.send : o.recv;
    if (zsock_net_init() < 0 || find_interface(ifname, &o) < 0) {
        fprintf(stderr, "packet: no interface (set ZSOCK_TAP or ZSOCK_PIPE, or -i)\n");
        return 1;
    }
    printf("packet: interface %d mac ", o.ifindex);
    print_mac(o.mac);
    printf("\n");

    pthread_mutex_init(&o.lock, NULL);
    pthread_cond_init(&o.cond, NULL);
    pthread_t rx;
    if (pthread_create(&rx, NULL, receiver, &o) != 0) {
        return 1;
    }
    pthread_mutex_lock(&o.lock);
    while (!o.ready) {
        pthread_cond_wait(&o.cond, &o.lock);
    }
    pthread_mutex_unlock(&o.lock);
    int rc = sender(&o);
    void *res;
    pthread_join(rx, &res);
    bool received = res == NULL;
    printf("packet: %s\n", rc == 0 && received ? "done" : "FAILED");
    return rc == 0 && received ? 0 : 1;
}
