/*
 * printk: formats into a ring of recent log text (for a later `dmesg`
 * from dom0) and writes lines at or above the console level to the
 * serial console (through its transmit queue, keel/console_tx.h).
 *
 * The log ring holds the hypervisor's own lines only. Domains' console
 * output goes to the serial console but not into the ring: a domain
 * printing a megabyte would otherwise push every hypervisor message out
 * of it, and `dmesg` is where the operator looks for those.
 */
#include <keel/console_tx.h>
#include <keel/guest_console.h>
#include <lib/string.h>
#include <keel/printk.h>

#define LOG_RING_SIZE 65536 /* a power of two */

static char log_ring[LOG_RING_SIZE];
static u64 log_head; /* total bytes ever written */
static u64 log_cleared; /* log_head at the last printk_clear_log */
static int console_level = LOG_INFO;

void printk_set_level(int level)
{
	console_level = level;
}

void console_write(const char *s, size_t n)
{
	guest_console_break_line(NULL);
	console_tx_queue(s, n, false);
}

bool console_guest_write(const char *s, size_t n, bool may_drop)
{
	if (LOG_INFO > console_level)
		return true; /* not shown at this level: nothing lost */
	return console_tx_queue(s, n, may_drop);
}

static void log_append(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		log_ring[(log_head + i) & (LOG_RING_SIZE - 1)] = s[i];
	log_head += n;
}

void vprintk(int level, const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	log_append(buf, n);
	if (level <= console_level)
		console_write(buf, n);
}

void printk(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(level, fmt, ap);
	va_end(ap);
}

size_t printk_read_log(char *buf, size_t len)
{
	u64 avail = log_head - log_cleared;
	if (avail > LOG_RING_SIZE)
		avail = LOG_RING_SIZE;
	if (len > avail)
		len = avail;
	u64 start = log_head - len;
	for (size_t i = 0; i < len; i++)
		buf[i] = log_ring[(start + i) & (LOG_RING_SIZE - 1)];
	return len;
}

void printk_clear_log(void)
{
	log_cleared = log_head;
}
