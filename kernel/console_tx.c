/*
 * The serial console's transmit queue: see include/keel/console_tx.h.
 *
 * One ring, in the order the bytes were written, so the hypervisor's
 * lines and the domains' stay interleaved as they happened (the tests
 * read them in order). No locking: the hypervisor runs with interrupts
 * off on one CPU, and nothing prints from interrupt context.
 */
#include <keel/console_tx.h>
#include <keel/printk.h>
#include <keel/uart.h>
#include <asm/cpu.h>

static char ring[CONSOLE_TX_RING];
static u64 head, tail;   /* bytes queued / sent, ever */
static bool async;
/* What console_tx_report() prints: bytes a domain (may_drop) wrote
 * synchronously -- each of them held the CPU, interrupts off, until the
 * UART took it -- and bytes it had queued. */
static u64 guest_sync_bytes, guest_queued_bytes;

static u64 queued(void)
{
	return head - tail;
}

/*
 * Moves up to `budget` bytes to the UART. Without `wait`, only what it
 * takes at once; with it, waiting for the FIFO to empty, bounded as the
 * synchronous writer always was (a UART that never drains must not hang
 * the machine: after about a million polls the bytes go anyway).
 */
static void drain(u64 budget, bool wait)
{
	unsigned spins = 0;

	while (queued() && budget) {
		unsigned room = uart_tx_room();
		if (!room) {
			if (!wait)
				return;
			if (++spins < 1000000) {
				cpu_relax();
				continue;
			}
			room = 1;
		}
		spins = 0;
		u64 n = MIN(MIN((u64)room, budget), queued());
		u64 at = tail & (CONSOLE_TX_RING - 1);
		n = MIN(n, CONSOLE_TX_RING - at); /* up to the ring's end */
		uart_tx_put(&ring[at], n);
		tail += n;
		budget -= n;
	}
}

void console_tx_poll(void)
{
	drain(CONSOLE_TX_POLL_MAX, false);
}

void console_tx_sync(void)
{
	drain(~0ULL, true);
	async = false;
}

void console_tx_start_async(void)
{
	async = true;
}

u64 console_tx_next_poll(u64 now)
{
	return queued() ? now + CONSOLE_TX_POLL_NS : 0;
}

static void put(char c)
{
	ring[head++ & (CONSOLE_TX_RING - 1)] = c;
}

bool console_tx_queue(const char *s, size_t n, bool may_drop)
{
	u64 need = n;

	for (size_t i = 0; i < n; i++)
		need += s[i] == '\n';
	if (!async || need > CONSOLE_TX_RING) {
		/* Synchronous: what is queued first, then this, in order. */
		if (may_drop)
			guest_sync_bytes += n;
		drain(~0ULL, true);
		uart_write(s, n);
		return true;
	}
	if (CONSOLE_TX_RING - queued() < need) {
		if (may_drop)
			return false;
		drain(need - (CONSOLE_TX_RING - queued()), true);
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put('\r');
		put(s[i]);
	}
	if (may_drop)
		guest_queued_bytes += n;
	console_tx_poll();
	return true;
}

void console_tx_report(void)
{
	if (!guest_queued_bytes && !guest_sync_bytes)
		return; /* no domain wrote: nothing to say */
	printk(LOG_ERR, "keel: console: domains' output: %lu bytes queued, %lu bytes written "
	       "synchronously\n", guest_queued_bytes, guest_sync_bytes);
}
