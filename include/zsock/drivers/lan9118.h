/** @file
 * SMSC/Microchip LAN9118 (and the software-compatible LAN9220 of ARM's MPS2
 * boards) Ethernet MAC+PHY: a polled link driver for a bare-metal firmware
 * running zsock in single-loop mode (docs/embedded.md, "A link driver").
 *
 * Built only with the CMake option ZSOCK_DRIVER_LAN9118=ON (the
 * cortex-m4-qemu preset). The driver needs no interrupt: every pass of
 * zsock_net_process() reads the receive status and data FIFOs. A firmware
 * that wants to sleep between passes may enable the chip's receive
 * interrupt with zsock_lan9118_rx_irq() and wake on it. */
#ifndef ZSOCK_DRIVERS_LAN9118_H_
#define ZSOCK_DRIVERS_LAN9118_H_

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The chip's registers on QEMU's mps2-an385/an386 machines (and ARM's
 * MPS2 boards). */
#define ZSOCK_LAN9118_MPS2_BASE 0x40200000u

/**
 * Reset the LAN9118 whose registers are mapped at `base`, configure it and
 * add it to the default stack as an Ethernet interface ("eth"; further chips "eth0", "eth1"...),
 * left down and without address (bring it up with zsock_if_up() once addresses are set). The MAC
 * address is `mac` if not NULL, else the one the chip loaded from its EEPROM (MAC_ADDRH/MAC_ADDRL),
 * else, when that is not a valid unicast address, a random locally administered one.
 *
 * Returns the interface index, or -errno: -ENODEV when no chip answers at
 * `base` (byte-order test register wrong), -ETIMEDOUT when it does not come
 * out of reset, -EINVAL for a multicast `mac`, -ENOMEM. Call it from the
 * loop's thread (single-loop mode: every zsock call comes from one thread).
 */
int zsock_if_add_lan9118(uintptr_t base, const uint8_t mac[6]);

/**
 * The PHY's link status of the LAN9118 behind interface `ifindex`: 1 up,
 * 0 down, -ENODEV when ifindex is not a LAN9118 interface. Reads the PHY's
 * basic status register through the MAC's MII port. Same thread rules as
 * zsock_if_add_lan9118().
 */
int zsock_lan9118_link_up(int ifindex);

/**
 * Does the chip at `base` hold a received frame not yet read (its receive
 * status FIFO is not empty)? For a firmware deciding whether to sleep.
 * Reads one register; safe from any context.
 */
bool zsock_lan9118_rx_pending(uintptr_t base);

/**
 * Enable (`on`) or disable the chip's interrupt line for received frames
 * (push-pull, active high, as the MPS2 boards wire it to the NVIC). The
 * firmware's handler calls it with false (the line is a level: it stays
 * asserted while frames wait) and only wakes the loop; the loop calls it
 * with true before it sleeps. Never calls into zsock: safe from an
 * interrupt handler.
 */
void zsock_lan9118_rx_irq(uintptr_t base, bool on);

#ifdef __cplusplus
}
#endif

#endif /* ZSOCK_DRIVERS_LAN9118_H_ */
