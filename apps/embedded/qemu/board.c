/* Board support of the mps2-an386 firmware: console, clock, entropy and
 * the few system calls newlib-nano needs. */
#include "board.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#include <zsock/drivers/lan9118.h>
#include <zsock_port.h>

/* ---- CMSDK APB UART0 ----------------------------------------------------------------------- */

#define UART_DATA         (*(volatile uint32_t *)(BOARD_UART0 + 0x00))
#define UART_STATE        (*(volatile uint32_t *)(BOARD_UART0 + 0x04))
#define UART_CTRL         (*(volatile uint32_t *)(BOARD_UART0 + 0x08))
#define UART_BAUDDIV      (*(volatile uint32_t *)(BOARD_UART0 + 0x10))
#define UART_STATE_TXFULL (1u << 0)
#define UART_CTRL_TXEN    (1u << 0)

/* ---- SysTick, NVIC ------------------------------------------------------------------------- */

#define SYST_CSR     (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR     (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR     (*(volatile uint32_t *)0xe000e018u)
#define NVIC_ISER0   (*(volatile uint32_t *)0xe000e100u)
#define SYST_ENABLE  (1u << 0)
#define SYST_TICKINT (1u << 1)
#define SYST_CPUCLK  (1u << 2)

#define TICK_CYCLES (BOARD_SYSCLK_HZ / 1000u) /* 1 ms */

extern volatile uint64_t board_ticks; /* startup.c */

void board_init(void)
{
    UART_BAUDDIV = BOARD_SYSCLK_HZ / 115200u; /* QEMU sends nothing with a divider under 16 */
    UART_CTRL = UART_CTRL_TXEN;
    SYST_RVR = TICK_CYCLES - 1;
    SYST_CVR = 0;
    SYST_CSR = SYST_ENABLE | SYST_TICKINT | SYST_CPUCLK;
}

void board_irq_enable(int irq)
{
    NVIC_ISER0 = 1u << irq;
}

void board_wait_for_interrupt(void)
{
    __asm volatile("wfi" ::: "memory");
}

void board_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (UART_STATE & UART_STATE_TXFULL) {
        }
        UART_DATA = (uint8_t)s[i];
    }
}

uint64_t board_ms(void)
{
    /* A 64-bit read is two loads: read until two agree, so an interrupt
     * between them cannot tear it. */
    uint64_t a, b;
    do {
        a = board_ticks;
        b = board_ticks;
    } while (a != b);
    return a;
}

/* ---- the clock and the entropy zsock asks for (zsock_port.h) ------------------------------- */

/* Microseconds: the SysTick count (ms) plus the cycles elapsed in the
 * current millisecond. The counter can wrap before its interrupt is taken,
 * which would read as a step back of one millisecond; the clock never goes
 * back, so it holds the last value returned instead. One thread calls it
 * (the loop), never an interrupt handler. */
int64_t zsock_port_now_us(void)
{
    static int64_t last;
    uint64_t ms;
    uint32_t cvr;
    do {
        ms = board_ms();
        cvr = SYST_CVR;
    } while (ms != board_ms());
    int64_t us =
        (int64_t)ms * 1000 + (int64_t)((TICK_CYCLES - 1 - cvr) / (BOARD_SYSCLK_HZ / 1000000u));
    if (us < last) {
        us = last;
    }
    last = us;
    return us;
}

/*
 * !!! NOT CRYPTOGRAPHIC: DEMONSTRATION ONLY !!!
 *
 * QEMU's MPS2 machines have no hardware random number generator, so this
 * firmware has no source of real randomness. It stirs what varies from one
 * run to the next under QEMU (the LAN9118's free-running 25 MHz counter and
 * the SysTick phase, both driven by the host's clock) through splitmix64.
 * An attacker who can guess the boot time can predict the output, and with
 * it the TCP initial sequence numbers (RFC 6528), ephemeral ports and hash
 * keys that zsock derives from it. A real board MUST read its TRNG here
 * (or a DRBG seeded from one). See docs/embedded.md.
 */
#define LAN_FREE_RUN (*(volatile uint32_t *)(ZSOCK_LAN9118_MPS2_BASE + 0x9c))

int zsock_port_entropy(void *buf, size_t len)
{
    static uint64_t state;
    uint8_t *out = buf;
    state ^= ((uint64_t)LAN_FREE_RUN << 32) ^ SYST_CVR ^ board_ms();
    while (len > 0) {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        size_t n = len < sizeof(z) ? len : sizeof(z);
        memcpy(out, &z, n);
        out += n;
        len -= n;
    }
    return 0;
}

/* ---- formatted console output -------------------------------------------------------------- */

static void put_u64(uint64_t v, unsigned base, int width, char pad)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v != 0);
    while (n < width && n < (int)sizeof(tmp)) {
        tmp[n++] = pad;
    }
    while (n > 0) {
        board_write(&tmp[--n], 1);
    }
}

static void vlog(const char *fmt, va_list ap)
{
    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            const char *q = p;
            while (*q != '\0' && *q != '%') {
                q++;
            }
            board_write(p, (size_t)(q - p));
            p = q - 1;
            continue;
        }
        char pad = ' ';
        int width = 0;
        if (p[1] == '0') {
            pad = '0';
            p++;
        }
        while (p[1] >= '0' && p[1] <= '9') {
            width = width * 10 + (*++p - '0');
        }
        int longs = 0;
        while (*++p == 'l') {
            longs++;
        }
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            board_write(s, strlen(s));
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            board_write(&c, 1);
            break;
        }
        case 'd': {
            int64_t v = longs >= 2 ? va_arg(ap, long long)
                        : longs    ? va_arg(ap, long)
                                   : va_arg(ap, int);
            if (v < 0) {
                board_write("-", 1);
                v = -v;
            }
            put_u64((uint64_t)v, 10, width, pad);
            break;
        }
        case 'u':
        case 'x': {
            uint64_t v = longs >= 2 ? va_arg(ap, unsigned long long)
                         : longs    ? va_arg(ap, unsigned long)
                                    : va_arg(ap, unsigned);
            put_u64(v, *p == 'u' ? 10 : 16, width, pad);
            break;
        }
        case '\0':
            return;
        default:
            board_write(p, 1);
            break;
        }
    }
}

void board_log(const char *fmt, ...)
{
    uint64_t ms = board_ms();
    board_write("[", 1);
    put_u64(ms / 1000, 10, 4, ' ');
    board_write(".", 1);
    put_u64(ms % 1000, 10, 3, '0');
    board_write("] ", 2);
    va_list ap;
    va_start(ap, fmt);
    vlog(fmt, ap);
    va_end(ap);
    board_write("\r\n", 2);
}

/* ---- system calls of newlib-nano ----------------------------------------------------------- */
/* Only what the firmware can reach: output to the console, and a heap
 * between .bss and the stack (zsock itself takes nothing from it: with
 * CONFIG_ZSOCK_STATIC_MEMORY its memory is the arena in .bss). The rest
 * comes from newlib's nosys stubs (failing with ENOSYS). */

int _write(int fd, const char *buf, int len);
void *_sbrk(ptrdiff_t incr);

int _write(int fd, const char *buf, int len)
{
    if (fd != 1 && fd != 2) {
        errno = EBADF;
        return -1;
    }
    board_write(buf, (size_t)len);
    return len;
}

extern char _heap_start[], _heap_end[]; /* the linker script */

void *_sbrk(ptrdiff_t incr)
{
    static char *brk = _heap_start;
    if (incr > _heap_end - brk || incr < _heap_start - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    char *old = brk;
    brk += incr;
    return old;
}
