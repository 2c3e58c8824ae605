/*
 * Console isolation (pvtest.h): one domU floods the console while another
 * measures how late its timers fire. dom0's scenario `flood`
 * (guest/dom0/test/domains.c) runs them side by side.
 *
 * role=flood peer=D rport=P bytes=N e9=M
 *     writes N bytes of text lines through console_io and M bytes
 *     through port 0xE9 as fast as it can, tells the ticker (D's port
 *     P) it is done, waits 2 s (its console budget refills) and reports.
 * role=ticker port=P [period_ms=5] [ticks=N]
 *     arms a one-shot timer every period and records how late VIRQ_TIMER
 *     arrives (by its own pvclock) until the flooder's notification on
 *     port P (or N ticks), then reports the worst and the mean lateness.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/xen.h>
#include "cpu.h"
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvtest.h"

#define MS 1000000UL
#define FLOOD_LINE 64
#define TICKS_MAX 20000

void role_flood(void)
{
	domid_t peer = (domid_t)arg_u64("peer");
	u32 rport = (u32)arg_u64("rport");
	u64 bytes = arg_u64("bytes"), e9 = arg_u64_or("e9", 0);
	static char buf[4096];
	evtchn_port_t port;
	u64 line = 0, sent = 0, refused = 0;
	int rc;

	if ((rc = evtchn_bind_interdomain(peer, rport, &port)))
		fail("bind to d%u port %u: %d", peer, rport, rc);
	u64 t0 = pvclock_now_ns();
	while (sent < bytes) {
		u64 n = MIN((u64)sizeof(buf), bytes - sent);
		for (u64 i = 0; i < n; i += FLOOD_LINE) {
			char *l = buf + i;
			u64 len = MIN((u64)FLOOD_LINE, n - i);
			memset(l, 'x', len);
			snprintf(l, len, "flood: line %06lu ", line++);
			l[strlen(l)] = 'x'; /* snprintf's NUL */
			l[len - 1] = '\n';
		}
		long r = HYPERVISOR_console_io(CONSOLEIO_write, (int)n, buf);
		if (r)
			refused++;
		sent += n;
	}
	u64 t1 = pvclock_now_ns();
	for (u64 i = 0; i < e9; i++)
		outb(0xe9, (i % FLOOD_LINE) == FLOOD_LINE - 1 ? '\n' : 'e');
	u64 t2 = pvclock_now_ns();
	if ((rc = evtchn_send(port)))
		fail("notify the ticker: %d", rc);
	pvclock_sleep_ns(2000 * MS);
	printf("pvtest: flood: PASS %lu bytes through console_io in %lu ms (%lu calls refused), "
	       "%lu through port 0xE9 in %lu ms\n", sent, (t1 - t0) / MS, refused, e9,
	       (t2 - t1) / MS);
}

void role_ticker(void)
{
	u32 port = (u32)arg_u64("port");
	u64 period = arg_u64_or("period_ms", 5) * MS, max = arg_u64_or("ticks", TICKS_MAX);
	evtchn_port_t ports[2];
	u64 ticks = 0, worst = 0, sum = 0, over_1ms = 0;
	int rc;

	ports[1] = port;
	if ((rc = evtchn_bind_virq(VIRQ_TIMER, 0, &ports[0])))
		fail("bind VIRQ_TIMER: %d", rc);
	evtchn_clear_pending(ports[0]);
	u64 t0 = pvclock_now_ns();
	while (!evtchn_is_pending(port) && ticks < max) {
		u64 deadline = pvclock_now_ns() + period;
		if ((rc = pvclock_timer_set(deadline, 0)))
			fail("arming the timer: %d", rc);
		while (!evtchn_is_pending(ports[0]))
			evtchn_poll(ports, 2, 0);
		u64 seen = pvclock_now_ns();
		evtchn_clear_pending(ports[0]);
		if (seen < deadline)
			fail("tick %lu fired %lu ns early", ticks, deadline - seen);
		u64 late = seen - deadline;
		worst = MAX(worst, late);
		sum += late;
		over_1ms += late > MS;
		ticks++;
	}
	if (!ticks)
		fail("no tick");
	printf("pvtest: ticker: %lu ticks of %lu ms in %lu ms: worst %lu us late, mean %lu us, "
	       "%lu over 1 ms\n", ticks, period / MS, (pvclock_now_ns() - t0) / MS, worst / 1000,
	       sum / ticks / 1000, over_1ms);
	printf("pvtest: ticker: PASS\n");
}
