/* LAN9118 link driver: the skeleton of a driver for a real MAC, polled, for
 * a firmware running the stack in single-loop mode (docs/embedded.md, "A
 * link driver"). It runs against QEMU's emulation of the chip on the
 * mps2-an385/an386 machines (tests/interop/qemu_tap.sh) and follows the
 * SMSC LAN9118 datasheet, so a board with the chip can start from it.
 *
 * The chip is programmed through 32-bit registers: FIFO ports (receive
 * data and status, transmit data and status) and control and status
 * registers (CSR). The MAC's own registers (MAC_CR, the address, the MII
 * port to the PHY) sit behind an indirect port: MAC_CSR_CMD selects a
 * register and starts the access, MAC_CSR_DATA carries the value.
 *
 * Receive: every pass of zsock_net_process() calls rx_poll, which pops one
 * status word per frame from the RX status FIFO (length and error bits)
 * and then the frame's words from the RX data FIFO. Transmit: output
 * writes two command words and the frame into the TX data FIFO; the chip
 * sends it on its own. The transmit status FIFO may overrun (TXSAO): its
 * words are read only to count errors. No interrupt, no DMA. */
#include "net/net.h"

#include <errno.h>
#include <string.h>

#include <zsock/drivers/lan9118.h>

/* Register offsets from the chip's base address. */
#define RX_DATA_FIFO   0x00
#define TX_DATA_FIFO   0x20
#define RX_STATUS_FIFO 0x40
#define TX_STATUS_FIFO 0x48
#define ID_REV         0x50
#define IRQ_CFG        0x54
#define INT_STS        0x58
#define INT_EN         0x5c
#define BYTE_TEST      0x64
#define RX_CFG         0x6c
#define TX_CFG         0x70
#define HW_CFG         0x74
#define RX_FIFO_INF    0x7c
#define TX_FIFO_INF    0x80
#define PMT_CTRL       0x84
#define MAC_CSR_CMD    0xa4
#define MAC_CSR_DATA   0xa8

#define BYTE_TEST_VALUE 0x87654321u /* reads so whatever the bus's byte order is right */

#define IRQ_CFG_EN   (1u << 8)
#define IRQ_CFG_POL  (1u << 4) /* active high */
#define IRQ_CFG_TYPE (1u << 0) /* push-pull */
#define INT_RSFL     (1u << 3) /* RX status FIFO above its level (0: any frame) */

#define HW_CFG_SRST      (1u << 0)
#define HW_CFG_MBO       (1u << 20) /* "must be one" */
#define HW_CFG_TX_FIF_SZ (5u << 16) /* 5 KiB TX FIFO, the rest for receive: the reset value */
#define PMT_CTRL_READY   (1u << 0)

#define TX_CFG_ON   (1u << 1)
#define TX_CFG_SAO  (1u << 2) /* the TX status FIFO may overrun: no stall when unread */
#define TX_CMD_A_FS (1u << 13)
#define TX_CMD_A_LS (1u << 12)
#define TX_STS_ES   (1u << 15)

#define RX_STS_ES (1u << 15) /* error summary: CRC, length, collision... */

#define MAC_CSR_BUSY (1u << 31)
#define MAC_CSR_READ (1u << 30)

/* MAC registers behind MAC_CSR_CMD. */
#define MAC_CR      1
#define MAC_ADDRH   2
#define MAC_ADDRL   3
#define MAC_MII_ACC 6
#define MAC_MII_DAT 7

#define MAC_CR_FDPX  (1u << 20) /* full duplex */
#define MAC_CR_MCPAS (1u << 19) /* pass all multicast (IPv6 neighbour discovery, mDNS) */
#define MAC_CR_TXEN  (1u << 3)
#define MAC_CR_RXEN  (1u << 2)

#define MII_BUSY  (1u << 0)
#define MII_WRITE (1u << 1)
#define PHY_ADDR  1u /* the internal PHY */

#define PHY_BCR          0
#define PHY_BSR          1
#define PHY_ANAR         4
#define PHY_BCR_AN       0x1000u /* auto-negotiation enable */
#define PHY_BCR_AN_START 0x0200u
#define PHY_BSR_LINK     0x0004u
#define PHY_ANAR_ALL     0x01e1u /* 10/100, half and full duplex, IEEE 802.3 */

/* Bound of every busy-wait: a chip that stops answering fails the call
 * instead of hanging the firmware. The datasheet's waits are microseconds
 * (a MAC CSR access) to about 100 ms (READY after reset). */
#define SPIN_LIMIT 1000000

#define RX_BURST 32 /* frames per pass: let timers and sockets run */

struct lan9118 {
    uintptr_t base;
};

static inline uint32_t rd(uintptr_t base, uint32_t off)
{
    return *(volatile uint32_t *)(base + off);
}

static inline void wr(uintptr_t base, uint32_t off, uint32_t v)
{
    *(volatile uint32_t *)(base + off) = v;
}

/* Wait until (register & mask) == want; 0 or -ETIMEDOUT. */
static int wait_reg(uintptr_t base, uint32_t off, uint32_t mask, uint32_t want)
{
    for (int i = 0; i < SPIN_LIMIT; i++) {
        if ((rd(base, off) & mask) == want) {
            return 0;
        }
    }
    return -ETIMEDOUT;
}

static int mac_read(uintptr_t base, uint32_t reg, uint32_t *out)
{
    if (wait_reg(base, MAC_CSR_CMD, MAC_CSR_BUSY, 0) < 0) {
        return -ETIMEDOUT;
    }
    wr(base, MAC_CSR_CMD, MAC_CSR_BUSY | MAC_CSR_READ | reg);
    if (wait_reg(base, MAC_CSR_CMD, MAC_CSR_BUSY, 0) < 0) {
        return -ETIMEDOUT;
    }
    *out = rd(base, MAC_CSR_DATA);
    return 0;
}

static int mac_write(uintptr_t base, uint32_t reg, uint32_t v)
{
    if (wait_reg(base, MAC_CSR_CMD, MAC_CSR_BUSY, 0) < 0) {
        return -ETIMEDOUT;
    }
    wr(base, MAC_CSR_DATA, v);
    wr(base, MAC_CSR_CMD, MAC_CSR_BUSY | reg);
    return wait_reg(base, MAC_CSR_CMD, MAC_CSR_BUSY, 0);
}

/* The PHY's registers, through the MAC's MII port (two levels of indirection). */
static int mii_wait(uintptr_t base)
{
    for (int i = 0; i < SPIN_LIMIT; i++) {
        uint32_t acc;
        int rc = mac_read(base, MAC_MII_ACC, &acc);
        if (rc < 0 || !(acc & MII_BUSY)) {
            return rc;
        }
    }
    return -ETIMEDOUT;
}

static int phy_read(uintptr_t base, uint32_t reg, uint32_t *out)
{
    int rc = mii_wait(base);
    if (rc == 0) {
        rc = mac_write(base, MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_BUSY);
    }
    if (rc == 0) {
        rc = mii_wait(base);
    }
    if (rc == 0) {
        rc = mac_read(base, MAC_MII_DAT, out);
        *out &= 0xffff;
    }
    return rc;
}

static int phy_write(uintptr_t base, uint32_t reg, uint32_t v)
{
    int rc = mii_wait(base);
    if (rc == 0) {
        rc = mac_write(base, MAC_MII_DAT, v);
    }
    if (rc == 0) {
        rc = mac_write(base, MAC_MII_ACC, (PHY_ADDR << 11) | (reg << 6) | MII_WRITE | MII_BUSY);
    }
    return rc == 0 ? mii_wait(base) : rc;
}

/* Reset the chip and program it; the MAC address in `mac` (in: wanted, or
 * all zero for the chip's own; out: the one in use). */
static int chip_init(uintptr_t base, uint8_t mac[Z_ETH_ALEN], bool given)
{
    /* The byte-order test register answers even before the chip is ready:
     * it tells a LAN9118 is there at all. */
    if (rd(base, BYTE_TEST) != BYTE_TEST_VALUE) {
        return -ENODEV;
    }
    wr(base, HW_CFG, HW_CFG_SRST);
    if (wait_reg(base, HW_CFG, HW_CFG_SRST, 0) < 0 ||
        wait_reg(base, PMT_CTRL, PMT_CTRL_READY, PMT_CTRL_READY) < 0) {
        return -ETIMEDOUT;
    }
    wr(base, HW_CFG, HW_CFG_MBO | HW_CFG_TX_FIF_SZ);
    wr(base, INT_EN, 0);
    wr(base, INT_STS, 0xffffffffu);
    wr(base, IRQ_CFG, IRQ_CFG_POL | IRQ_CFG_TYPE); /* line configured, not enabled */
    wr(base, RX_CFG, 0);                           /* no offset, 4-byte end alignment */

    int rc;
    if (given) {
        rc = mac_write(base, MAC_ADDRL,
                       (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
                           (uint32_t)mac[3] << 24);
        if (rc == 0) {
            rc = mac_write(base, MAC_ADDRH, (uint32_t)mac[4] | (uint32_t)mac[5] << 8);
        }
    } else {
        uint32_t lo = 0;
        uint32_t hi = 0;
        rc = mac_read(base, MAC_ADDRL, &lo);
        if (rc == 0) {
            rc = mac_read(base, MAC_ADDRH, &hi);
        }
        for (int i = 0; i < 4; i++) {
            mac[i] = (uint8_t)(lo >> (8 * i));
        }
        mac[4] = (uint8_t)hi;
        mac[5] = (uint8_t)(hi >> 8);
        static const uint8_t zero[Z_ETH_ALEN];
        if (rc == 0 && (memcmp(mac, zero, Z_ETH_ALEN) == 0 || (mac[0] & 1))) {
            /* No EEPROM (or an erased one: all ones is multicast). */
            z_netif_random_mac(mac);
            return chip_init(base, mac, true);
        }
    }
    if (rc < 0) {
        return rc;
    }
    /* The PHY: advertise everything, auto-negotiate. The link comes up on
     * its own; zsock_lan9118_link_up() reads it. */
    rc = phy_write(base, PHY_ANAR, PHY_ANAR_ALL);
    if (rc == 0) {
        rc = phy_write(base, PHY_BCR, PHY_BCR_AN | PHY_BCR_AN_START);
    }
    if (rc < 0) {
        return rc;
    }
    wr(base, TX_CFG, TX_CFG_ON | TX_CFG_SAO);
    /* Unicast to our address, broadcast (accepted unless MAC_CR_BCAST) and
     * every multicast frame; the stack filters the multicast groups. */
    return mac_write(base, MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX | MAC_CR_MCPAS);
}

/* Pop `words` words of the RX data FIFO into dst (up to len bytes; the rest,
 * the CRC and the end alignment, is read and dropped). */
static void rx_read(uintptr_t base, uint8_t *dst, size_t len, size_t words)
{
    for (size_t i = 0; i < words; i++) {
        uint32_t w = rd(base, RX_DATA_FIFO);
        size_t at = i * 4;
        for (size_t b = 0; b < 4 && at + b < len; b++) {
            dst[at + b] = (uint8_t)(w >> (8 * b)); /* the FIFO is little-endian */
        }
    }
}

static void lan9118_rx_poll(struct z_netif *nif)
{
    struct lan9118 *d = nif->drv_state;
    struct z_stack *s = nif->stack;
    struct z_pbuf *head = NULL;
    struct z_pbuf **tail = &head;
    uint32_t dropped = 0;
    for (int n = 0; n < RX_BURST; n++) {
        if (((rd(d->base, RX_FIFO_INF) >> 16) & 0xff) == 0) {
            break; /* no status word: no frame */
        }
        uint32_t sts = rd(d->base, RX_STATUS_FIFO);
        size_t len = (sts >> 16) & 0x3fff; /* with the 4-byte CRC */
        size_t words = (len + 3) / 4;
        struct z_pbuf *p = NULL;
        if (!(sts & RX_STS_ES) && len >= Z_ETH_HLEN + 4) {
            p = z_pbuf_alloc(&s->pool, 0, len - 4);
        }
        if (p == NULL) {
            /* A bad frame, or no buffer: read it out all the same so the
             * FIFO keeps moving. (A long frame could be skipped with
             * RX_DP_CTRL's fast-forward instead.) */
            rx_read(d->base, NULL, 0, words);
            dropped++;
            continue;
        }
        rx_read(d->base, z_pbuf_put(p, len - 4), len - 4, words);
        *tail = p;
        tail = &p->next;
    }
    if (dropped != 0) {
        z_stack_lock(s);
        nif->stats.rx_dropped += dropped;
        z_stack_unlock(s);
    }
    if (head != NULL) {
        z_netif_input_chain(nif, head);
    }
}

static int lan9118_output(struct z_netif *nif, struct z_pbuf *p)
{
    struct lan9118 *d = nif->drv_state;
    uint32_t len = p->len;
    int rc = 0;
    if (len > 1518) { /* longer than an Ethernet frame (with a VLAN tag) without its CRC */
        rc = -EMSGSIZE;
    }
    /* Room for the two command words and the frame (TDFREE, bytes): the
     * chip drains the FIFO at line rate, so wait for it, bounded. */
    for (int i = 0; rc == 0 && (rd(d->base, TX_FIFO_INF) & 0xffff) < len + 8; i++) {
        if (i == SPIN_LIMIT) {
            rc = -ENOBUFS;
        }
    }
    if (rc == 0) {
        wr(d->base, TX_DATA_FIFO, TX_CMD_A_FS | TX_CMD_A_LS | len); /* one buffer, one frame */
        wr(d->base, TX_DATA_FIFO, (len << 16) | len);               /* tag (the length), length */
        const uint8_t *b = p->data;
        for (uint32_t at = 0; at < len; at += 4) {
            uint32_t w = 0;
            for (uint32_t k = 0; k < 4 && at + k < len; k++) {
                w |= (uint32_t)b[at + k] << (8 * k);
            }
            wr(d->base, TX_DATA_FIFO, w);
        }
    }
    /* Statuses of frames already sent: only their error bit matters. */
    while (((rd(d->base, TX_FIFO_INF) >> 16) & 0xff) != 0) {
        if (rd(d->base, TX_STATUS_FIFO) & TX_STS_ES) {
            nif->stats.tx_dropped++;
        }
    }
    z_pbuf_free(p);
    return rc;
}

static void lan9118_destroy(struct z_netif *nif)
{
    struct lan9118 *d = nif->drv_state;
    mac_write(d->base, MAC_CR, 0); /* receiver and transmitter off */
    z_free(d);
}

static const struct z_netif_driver lan9118_driver = {
    .kind = "lan9118",
    .output = lan9118_output,
    .rx_fd = NULL, /* no descriptor: rx_poll runs on every pass */
    .rx_poll = lan9118_rx_poll,
    .destroy = lan9118_destroy,
};

int zsock_if_add_lan9118(uintptr_t base, const uint8_t mac[6])
{
    uint8_t addr[Z_ETH_ALEN] = {0};
    if (mac != NULL) {
        if (mac[0] & 1) {
            return -EINVAL;
        }
        memcpy(addr, mac, sizeof(addr));
    }
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENOMEM;
    }
    struct lan9118 *d = z_calloc(1, sizeof(*d));
    if (d == NULL) {
        return -ENOMEM;
    }
    d->base = base;
    int rc = chip_init(base, addr, mac != NULL);
    if (rc < 0) {
        z_free(d);
        return rc;
    }
    z_stack_lock(s);
    struct z_netif *nif = z_netif_add_locked(s, "eth", ZSOCK_IF_ETHERNET | ZSOCK_IF_BROADCAST, 1500,
                                             addr, &lan9118_driver, d);
    rc = nif != NULL ? nif->index : -ENOMEM;
    z_stack_unlock(s);
    if (nif == NULL) {
        mac_write(base, MAC_CR, 0);
        z_free(d);
    }
    return rc;
}

int zsock_lan9118_link_up(int ifindex)
{
    struct z_stack *s = z_stack_default();
    if (s == NULL) {
        return -ENODEV;
    }
    uintptr_t base = 0;
    z_stack_lock(s);
    struct z_netif *nif = z_netif_by_index_locked(s, ifindex);
    if (nif != NULL && nif->drv == &lan9118_driver) {
        base = ((struct lan9118 *)nif->drv_state)->base;
    }
    z_stack_unlock(s);
    if (base == 0) {
        return -ENODEV;
    }
    /* The link bit latches low (IEEE 802.3 22.2.4.2.13): the first read
     * reports a drop since the last one, the second the current state. */
    uint32_t bsr;
    int rc = phy_read(base, PHY_BSR, &bsr);
    if (rc == 0) {
        rc = phy_read(base, PHY_BSR, &bsr);
    }
    return rc < 0 ? rc : (bsr & PHY_BSR_LINK) != 0;
}

bool zsock_lan9118_rx_pending(uintptr_t base)
{
    return ((rd(base, RX_FIFO_INF) >> 16) & 0xff) != 0;
}

void zsock_lan9118_rx_irq(uintptr_t base, bool on)
{
    if (on) {
        wr(base, INT_STS, INT_RSFL); /* write one to clear: a fresh edge for the next frame */
        wr(base, INT_EN, INT_RSFL);
        wr(base, IRQ_CFG, IRQ_CFG_EN | IRQ_CFG_POL | IRQ_CFG_TYPE);
    } else {
        wr(base, INT_EN, 0);
    }
}
