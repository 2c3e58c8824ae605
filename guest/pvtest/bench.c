/*
 * The bench roles (`make bench`, docs/PERFORMANCE.md; dom0's side is
 * guest/dom0/test/bench_domu.c). Under QEMU -icount RDTSC counts
 * instructions, and Keel gives every domain the host's TSC unchanged, so
 * a domU's RDTSC and dom0's share one clock.
 *
 *   role=bench-start  prints its creation timeline and powers off:
 *                     `t0` (dom0's RDTSC before the create hypercall) to
 *                     guest_main's first instruction and to the end of
 *                     the first console line (main.c takes both RDTSCs).
 *   role=bench-pong   answers `count` events on `port` (a port dom0
 *                     allocated in this domain for the peer).
 *   role=bench-ping   binds to (`peer`, `rport`), sends and waits for the
 *                     answer `count` times (a multiple of 100) and prints
 *                     the cheapest batch of 100 round trips and the
 *                     average, as figure `name`.
 *
 * Both ping-pong sides wait in SCHEDOP_poll on a masked port and clear
 * the pending bit themselves: the round trip is two sends, two polls,
 * two domain switches, and no upcall.
 */
#include <lib/string.h>
#include "evtchn.h"
#include "guest.h"
#include "pvclock.h"
#include "pvtest.h"

#define BATCH 100
#define WAIT_NS (60ULL * 1000000000ULL)

u64 pvtest_tsc_entry, pvtest_tsc_first_line;

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((u64)hi << 32) | lo;
}

/* The bare wait: poll until pending, clear. One deadline for the whole
 * run, so no clock read per round trip. */
static void wait_fast(evtchn_port_t port, u64 deadline)
{
	while (!evtchn_is_pending(port)) {
		long rc = evtchn_poll(&port, 1, deadline);
		if (rc)
			fail("SCHEDOP_poll on port %u: %ld", port, rc);
		if (!evtchn_is_pending(port) && pvclock_now_ns() >= deadline)
			fail("timed out waiting on port %u", port);
	}
	evtchn_clear_pending(port);
}

void role_bench_start(void)
{
	u64 t0 = arg_u64("t0");

	printf("pvtest: bench create-first-insn: %lu insns (create hypercall to guest_main)\n",
	       pvtest_tsc_entry - t0);
	printf("pvtest: bench create-first-line: %lu insns (create hypercall to pvtest's first "
	       "console line written)\n", pvtest_tsc_first_line - t0);
}

void role_bench_pong(void)
{
	evtchn_port_t port = (evtchn_port_t)arg_u64("port");
	u64 count = arg_u64("count");
	u64 deadline = pvclock_now_ns() + WAIT_NS;

	evtchn_mask(port);
	for (u64 n = 0; n < count; n++) {
		wait_fast(port, deadline);
		if (evtchn_send(port))
			fail("send %lu", n);
	}
}

void role_bench_ping(void)
{
	static char name[32];
	domid_t peer = (domid_t)arg_u64("peer");
	evtchn_port_t rport = (evtchn_port_t)arg_u64("rport"), port;
	u64 count = arg_u64("count") / BATCH * BATCH, best = ~0ULL, total = 0, deadline;
	int rc;

	if (!cmdline_get(si_cmdline(start_info()), "name", name, sizeof(name)))
		fail("no name=");
	if (!count)
		fail("count below %u", BATCH);
	if ((rc = evtchn_bind_interdomain(peer, rport, &port)))
		fail("bind_interdomain(d%u, port %u): %d", peer, rport, rc);
	evtchn_mask(port);
	/* A freshly bound port is marked pending (main.c's ping says why). */
	evtchn_clear_pending(port);
	deadline = pvclock_now_ns() + WAIT_NS;
	for (u64 b = 0; b < count / BATCH; b++) {
		u64 t = rdtsc();
		for (unsigned i = 0; i < BATCH; i++) {
			if (evtchn_send(port))
				fail("send");
			wait_fast(port, deadline);
		}
		t = rdtsc() - t;
		total += t;
		if (t < best)
			best = t;
	}
	printf("pvtest: bench %s: %lu.%02lu insns/rt (iters %lu, avg %lu.%02lu, peer d%u)\n",
	       name, best / BATCH, best % BATCH, count, total / count, total % count * 100 / count,
	       peer);
}
