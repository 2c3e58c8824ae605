/*
 * The guest console: line-buffered output through console_io, with the
 * debug port 0xE9 as fallback (contract in guest.h).
 */
#include <lib/string.h>
#include <public/xen.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"

#define DEBUG_PORT 0xE9

static char line[160];
static size_t line_len;
static bool use_port_e9;
static void (*sink)(const char *s, size_t n);

void console_set_sink(void (*fn)(const char *s, size_t n))
{
	sink = fn;
}

bool console_uses_port_e9(void)
{
	return use_port_e9 || xen_info()->mode == HYPERCALL_NONE;
}

static void port_e9_write(const char *s, size_t n)
{
	while (n--)
		outb(DEBUG_PORT, (u8)*s++);
}

/* One console_io per line keeps the hypervisor's "(dN) " prefixes whole.
 * The first failure (e.g. -ENOSYS) switches to port 0xE9 for good, as
 * Linux's early Xen console does. */
static void raw_write(const char *s, size_t n)
{
	if (sink) {
		sink(s, n);
		return;
	}
	if (!console_uses_port_e9()) {
		long rc = HYPERVISOR_console_io(CONSOLEIO_write, (int)n, s);

		if (rc >= 0)
			return;
		use_port_e9 = true;
	}
	port_e9_write(s, n);
}

void console_flush(void)
{
	if (line_len) {
		raw_write(line, line_len);
		line_len = 0;
	}
}

static void (*held_broken)(void);

void console_hold_line(void (*broken)(void))
{
	held_broken = broken;
}

void console_release_line(void)
{
	held_broken = NULL;
}

void console_break_line(void)
{
	void (*broken)(void) = held_broken;

	if (!broken)
		return;
	held_broken = NULL;
	console_putc('\n');
	broken();
}

void console_putc(char c)
{
	if (held_broken)
		console_break_line();
	line[line_len++] = c;
	if (c == '\n' || line_len == sizeof(line))
		console_flush();
}

void console_write(const char *s, size_t n)
{
	while (n--)
		console_putc(*s++);
}

int vprintf(const char *fmt, va_list ap)
{
	char buf[256];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		return n;
	console_write(buf, MIN((size_t)n, sizeof(buf) - 1));
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	console_write(s, strlen(s));
	console_putc('\n');
	return 0;
}
