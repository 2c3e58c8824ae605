/* The 16550 UART used as the hypervisor console (drivers/uart/). */
#ifndef KEEL_UART_H
#define KEEL_UART_H

#include <lib/types.h>

/* Programs the UART at I/O `port` for `baud` 8N1 with FIFOs on. */
void uart_init(u16 port, u32 baud);
/* Writes bytes, waiting for the transmitter before each one (Bochs drops
 * characters otherwise). No-op until uart_init. */
void uart_write(const char *s, size_t n);
/*
 * Non-blocking transmit, for the console queue (kernel/console_tx.c):
 * uart_tx_room() is how many bytes the UART takes now without waiting
 * (its FIFO depth when the FIFO is empty, else 0; ~0u without a UART,
 * whose output goes nowhere), and uart_tx_put() writes at most that many
 * raw bytes (no newline conversion) without looking at the status.
 */
unsigned uart_tx_room(void);
void uart_tx_put(const char *s, size_t n);
/* Enables the receive-data interrupt (IER bit 0) and the PC's OUT2 gate
 * that connects the UART's interrupt pin to the ISA line (MCR bit 3). The
 * interrupt drops when the receive buffer has been read empty. */
void uart_rx_irq_enable(void);

/* A received byte, or -1 when none is waiting. */
int uart_getc(void);

#endif
