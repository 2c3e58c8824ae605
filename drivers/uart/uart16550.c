/*
 * 16550 UART driver for the hypervisor console. Output is polled (which
 * keeps the console usable from fault handlers); input may raise the
 * UART's interrupt (uart_rx_irq_enable), whose handler only wakes the
 * scheduler, which reads the bytes (kernel/console_rx.c).
 */
#include <keel/uart.h>
#include <asm/cpu.h>

/* Register offsets (PC16550D datasheet) */
#define UART_THR 0 /* transmit holding (write) / receive buffer (read) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0 /* with LCR.DLAB */
#define UART_DLM 1

#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define LSR_DR 0x01   /* data ready */
#define LSR_THRE 0x20 /* transmit holding register empty */

static u16 uart_port;

void uart_init(u16 port, u32 baud)
{
	u32 div = 115200 / baud;

	uart_port = port;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, LCR_DLAB);
	outb(port + UART_DLL, div & 0xff);
	outb(port + UART_DLM, div >> 8);
	outb(port + UART_LCR, LCR_8N1);
	outb(port + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(port + UART_MCR, 0x03); /* DTR, RTS */
}

static void uart_putc(char c)
{
	/* A UART that never drains (absent hardware reads 0xff, which has
	 * THRE set) cannot hang us; bound the wait anyway. */
	for (int spins = 0; spins < 1000000; spins++)
		if (inb(uart_port + UART_LSR) & LSR_THRE)
			break;
	outb(uart_port + UART_THR, (u8)c);
}

void uart_write(const char *s, size_t n)
{
	if (!uart_port)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

/* The 16550A's transmit FIFO (PC16550D datasheet: 16 bytes). With FIFOs
 * on, THRE means the whole FIFO is empty (datasheet, LSR bit 5). */
#define UART_TX_FIFO 16

unsigned uart_tx_room(void)
{
	if (!uart_port)
		return ~0u; /* no console: everything goes nowhere at once */
	return (inb(uart_port + UART_LSR) & LSR_THRE) ? UART_TX_FIFO : 0;
}

void uart_tx_put(const char *s, size_t n)
{
	if (!uart_port)
		return;
	for (size_t i = 0; i < n; i++)
		outb(uart_port + UART_THR, (u8)s[i]);
}

void uart_rx_irq_enable(void)
{
	if (!uart_port)
		return;
	outb(uart_port + UART_MCR, 0x0b); /* DTR, RTS, OUT2 */
	outb(uart_port + UART_IER, 0x01); /* received data available */
}

int uart_getc(void)
{
	if (!uart_port || !(inb(uart_port + UART_LSR) & LSR_DR))
		return -1;
	return inb(uart_port + UART_THR);
}
