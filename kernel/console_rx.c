/*
 * The serial console's receive ring: see include/keel/console_rx.h.
 *
 * No locking, as for the transmit queue: the hypervisor runs with
 * interrupts off, and the UART is read only from the scheduler loop and
 * from console_io on the same CPU.
 */
#include <keel/console_rx.h>
#include <keel/debug_view.h>
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/uart.h>
#include <public/xen.h>

static char ring[CONSOLE_RX_RING];
static u64 head, tail; /* bytes received / read, ever */
static u64 dropped;
static bool irq_on;

/* True if dom0 has a port bound to VIRQ_CONSOLE (global VIRQs sit on
 * vCPU 0), i.e. something will read what we raise. */
static bool dom0_listens(void)
{
	struct domain *d0 = domain_by_id(0);

	return d0 && d0->nr_vcpus && d0->vcpus[0]->ev.virq_port[VIRQ_CONSOLE];
}

/* Drains the UART into the ring; true if any byte arrived. */
static bool fill(void)
{
	bool got = false;
	int c;

	while ((c = uart_getc()) >= 0) {
		if (debug_view_key((char)c))
			continue;
		got = true;
		if (head - tail == CONSOLE_RX_RING) {
			dropped++;
			continue;
		}
		ring[head++ & (CONSOLE_RX_RING - 1)] = (char)c;
	}
	return got;
}

void console_rx_poll(void)
{
	if (fill())
		evtchn_send_global_virq(domain_by_id(0), VIRQ_CONSOLE);
}

size_t console_rx_read(char *buf, size_t n)
{
	size_t got = 0;

	fill();
	while (got < n && tail != head)
		buf[got++] = ring[tail++ & (CONSOLE_RX_RING - 1)];
	return got;
}

u64 console_rx_next_poll(u64 now)
{
	if (!dom0_listens())
		return 0;
	return now + (irq_on ? CONSOLE_RX_SAFETY_NS : CONSOLE_RX_POLL_NS);
}

void console_rx_irq_on(void)
{
	irq_on = true;
}

u64 console_rx_dropped(void)
{
	return dropped;
}
