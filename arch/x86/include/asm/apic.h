/*
 * The host's local APIC (arch/x86/apic.c): the hypervisor's own timer
 * interrupt, and the TSC frequency measured against the PIT at boot.
 *
 * Keel runs with RFLAGS.IF = 0. Host interrupts are let in only where the
 * hypervisor waits for them: around guest entry (they make the guest exit,
 * EXIT_EXTINT) and in the idle loop (sti; hlt). The timer interrupt
 * handler only acknowledges the interrupt and calls the handler set with
 * apic_timer_set_handler(); real work happens later at a safe point.
 */
#ifndef ASM_APIC_H
#define ASM_APIC_H

#include <lib/types.h>

/* Host interrupt vectors. The legacy PICs are remapped to 0x20-0x2f and
 * masked by pic.c (their spurious IRQ 7/15 land there and are ignored). */
#define APIC_VECTOR_PIC_BASE 0x20
#define APIC_VECTOR_TIMER    0xf0
#define APIC_VECTOR_ERROR    0xfe
#define APIC_VECTOR_SPURIOUS 0xff

/*
 * Enables the boot CPU's local APIC (xAPIC MMIO, or the x2APIC MSRs when
 * the firmware left x2APIC mode on), masks LINT0/LINT1, and measures the TSC and APIC-timer frequencies
 * against PIT channel 2. Returns 0, or -ENODEV with the reason printed
 * (no APIC, or a timer that does not count).
 */
int apic_init(void);

/* The TSC frequency apic_init measured (Hz). */
u64 apic_tsc_hz(void);

/* The function the timer interrupt calls (after EOI), in interrupt
 * context with interrupts off. */
void apic_timer_set_handler(void (*fn)(void));

/* Arms the one-shot timer to fire `ns` nanoseconds from now (at least one
 * timer tick; longer delays are cut to the counter's range, so the
 * handler may run early and must re-check). Replaces an armed one. */
void apic_timer_oneshot(u64 ns);

/* Disarms the timer. */
void apic_timer_stop(void);

/* Ends the current interrupt. */
void apic_eoi(void);

/* Converts a count of PIT ticks etc.; exposed for the unit tests. */
u64 apic_scale_hz(u64 count, u64 pit_ticks);

#endif
