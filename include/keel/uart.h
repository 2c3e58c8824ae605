/* The 16550 UART used as the hypervisor console (drivers/uart/). */
#ifndef KEEL_UART_H
#define KEEL_UART_H

#include <keel/types.h>

/* Programs the UART at I/O `port` for `baud` 8N1 with FIFOs on. */
void uart_init(u16 port, u32 baud);
/* Writes bytes, waiting for the transmitter before each one (Bochs drops
 * characters otherwise). No-op until uart_init. */
void uart_write(const char *s, size_t n);
/* A received byte, or -1 when none is waiting. */
int uart_getc(void);

#endif
