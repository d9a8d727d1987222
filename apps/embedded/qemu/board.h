/* The board support of the mps2-an386 firmware: startup (startup.c), the
 * console on CMSDK UART0, the SysTick clock, the demo's entropy and the C
 * library's system calls (board.c). Bare metal, one thread: none of these
 * functions is called from an interrupt handler unless it says so. */
#ifndef ZSOCK_QEMU_BOARD_H_
#define ZSOCK_QEMU_BOARD_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define BOARD_SYSCLK_HZ 25000000u /* QEMU's MPS2 SYSCLK, which clocks the CPU and SysTick */
#define BOARD_UART0     0x40004000u
#define BOARD_LAN_IRQ   13 /* the LAN9118's line on the NVIC */

/* Start the console (UART0, 115200 baud) and the 1 kHz SysTick. */
void board_init(void);

/* Write `len` bytes to the console, waiting while its buffer is full. */
void board_write(const char *s, size_t len);

/* Formatted output to the console with a "[seconds.millis] " prefix: %s,
 * %c, %d, %u, %x, with an l or ll for long and long long. The C library's
 * printf is left out on purpose: newlib's pulls in malloc. */
void board_log(const char *fmt, ...);

/* Milliseconds since reset (the SysTick count). */
uint64_t board_ms(void);

/* Enable an interrupt line of the NVIC. */
void board_irq_enable(int irq);

/* Sleep until the next interrupt (at most the next 1 ms SysTick). */
void board_wait_for_interrupt(void);

/* Called by startup.c for the LAN9118's interrupt (defined by main.c). */
void board_lan_irq(void);

#endif /* ZSOCK_QEMU_BOARD_H_ */
