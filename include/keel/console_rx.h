/*
 * The serial console's receive side (kernel/console_rx.c): what the
 * operator types, for the control domain.
 *
 * The UART is read from the scheduler loop (sched.c) before every pick.
 * While every vCPU sleeps, its receive interrupt (routed through the
 * IOAPIC by kernel/pirq.c when the platform has the line) wakes the
 * scheduler; a poll every CONSOLE_RX_SAFETY_NS stays as a safety net. On
 * a platform without the line it is polled every CONSOLE_RX_POLL_NS
 * instead. Either only once dom0 has bound VIRQ_CONSOLE, i.e. once
 * someone listens. New
 * bytes go into a small ring and raise VIRQ_CONSOLE to dom0 (Xen does
 * the same for its serial console: xen/drivers/char/console.c,
 * serial_rx -> send_global_virq(VIRQ_CONSOLE)); dom0 then takes them with
 * console_io(CONSOLEIO_read) (kernel/hc_console.c). A dom0 that waits on
 * that event sleeps instead of polling console_io.
 *
 * Bytes beyond the ring's room are dropped (counted): the operator types
 * far slower than dom0 reads.
 */
#ifndef KEEL_CONSOLE_RX_H
#define KEEL_CONSOLE_RX_H

#include <lib/types.h>

#define CONSOLE_RX_RING 1024      /* bytes buffered (a power of two) */
#define CONSOLE_RX_POLL_NS 5000000 /* poll period while every vCPU sleeps */
#define CONSOLE_RX_SAFETY_NS 1000000000ULL /* the same with the interrupt */

/* Moves what the UART has received into the ring; raises VIRQ_CONSOLE to
 * dom0 if anything new arrived. Cheap when nothing did (one port read). */
void console_rx_poll(void);

/* Takes up to n buffered bytes (polling the UART first); returns how
 * many. */
size_t console_rx_read(char *buf, size_t n);

/* When the scheduler should poll next while idle (system time), given
 * `now`; 0 while nobody listens for VIRQ_CONSOLE. */
u64 console_rx_next_poll(u64 now);

/* The UART's receive interrupt is routed and enabled: idle polling slows
 * down to the safety net. */
void console_rx_irq_on(void);

/* Bytes dropped because the ring was full. */
u64 console_rx_dropped(void);

#endif
