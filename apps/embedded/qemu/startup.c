/* Reset and exception handling of the mps2-an386 firmware: the vector table
 * (at address 0, where the Cortex-M4 reads its initial stack pointer and
 * reset handler), the reset handler that prepares the C environment, the
 * SysTick handler (the clock) and the LAN9118's interrupt. */
#include "board.h"

#include <stdint.h>
#include <string.h>

extern uint32_t _estack;
extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss;

int main(void);
void Reset_Handler(void);
void SysTick_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);
void Lan_Handler(void);

/* SysTick interrupts counted: milliseconds since the clock started. Written
 * by the handler only; board.c reads it. */
volatile uint64_t board_ticks;

#define SCB_CPACR (*(volatile uint32_t *)0xe000ed88u)

/* Runs from the reset vector on the stack QEMU loaded from vector 0. No
 * floating point before the FPU is on (the code is built for the hard-float
 * ABI), no C library before .data and .bss are set. */
void Reset_Handler(void)
{
    SCB_CPACR |= 0xfu << 20; /* CP10 and CP11: the FPU, full access */
    __asm volatile("dsb\n\tisb" ::: "memory");
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    main();
    for (;;) {
        __asm volatile("wfi");
    }
}

void SysTick_Handler(void)
{
    board_ticks++;
}

void Lan_Handler(void)
{
    board_lan_irq();
}

/* A fault: say so on the console and stop. */
void Fault_Handler(void)
{
    static const char msg[] = "\r\n*** fault: firmware stopped\r\n";
    board_write(msg, sizeof(msg) - 1);
    for (;;) {
        __asm volatile("wfi");
    }
}

void Default_Handler(void)
{
    static const char msg[] = "\r\n*** unexpected interrupt: firmware stopped\r\n";
    board_write(msg, sizeof(msg) - 1);
    for (;;) {
        __asm volatile("wfi");
    }
}

/* 16 system exceptions, then the 32 interrupt lines QEMU's MPS2 has. */
__attribute__((section(".isr_vector"), used)) static void (*const vectors[16 + 32])(void) = {
    [0] = (void (*)(void)) & _estack,
    [1] = Reset_Handler,
    [2] = Fault_Handler,    /* NMI */
    [3] = Fault_Handler,    /* HardFault */
    [4] = Fault_Handler,    /* MemManage */
    [5] = Fault_Handler,    /* BusFault */
    [6] = Fault_Handler,    /* UsageFault */
    [11] = Default_Handler, /* SVCall */
    [12] = Default_Handler, /* DebugMonitor */
    [14] = Default_Handler, /* PendSV */
    [15] = SysTick_Handler,
    [16 + BOARD_LAN_IRQ] = Lan_Handler,
};
