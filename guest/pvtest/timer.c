/*
 * role=timer: PV time as a guest uses it (pvtest.h). Binds VIRQ_TIMER,
 * then checks that
 *  - one-shot timers (VCPUOP_set_singleshot_timer and set_timer_op) fire
 *    VIRQ_TIMER no earlier than their deadline by the guest's own pvclock
 *    and not much later;
 *  - VCPU_SSHOTTMR_future refuses a past deadline, a past deadline
 *    without it fires at once, a stopped timer does not fire;
 *  - the periodic timer fires every period until stopped;
 *  - the runstate area it registers counts the time it sleeps as blocked;
 *  - system time advances and the wallclock is a plausible date;
 *  - with dregs=1, the DR0-3 values it set at the start are still there at
 *    the end, whatever the domains next to it did (tests/isolation).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include "evtchn.h"
#include "cpuregs.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvtest.h"

#define MS 1000000UL
/* Lateness allowed: the emulator may not run us for a while. */
#define LATE_MAX (200 * MS)

static evtchn_port_t timer_port;

/* Sleeps on the VIRQ_TIMER port until it fires or `limit` (system time)
 * passes; returns the time it was seen, or 0 on time-out. */
static u64 wait_timer(u64 limit)
{
	while (!evtchn_is_pending(timer_port)) {
		if (pvclock_now_ns() >= limit)
			return 0;
		evtchn_poll(&timer_port, 1, limit);
	}
	u64 t = pvclock_now_ns();
	evtchn_clear_pending(timer_port);
	return t;
}

void role_timer(void)
{
	u64 rounds = arg_u64_or("rounds", 20), worst = 0;
	bool dregs = arg_u64_or("dregs", 0);
	int rc;

	if (dregs)
		for (unsigned i = 0; i < 4; i++)
			write_dr(i, 0x0000717100000000ULL + 0x100 * i);

	if ((rc = evtchn_bind_virq(VIRQ_TIMER, 0, &timer_port)))
		fail("bind VIRQ_TIMER: %d", rc);
	evtchn_clear_pending(timer_port);

	for (u64 i = 0; i < rounds; i++) {
		u64 deadline = pvclock_now_ns() + (1 + i % 5) * MS;
		if (i % 2)
			rc = pvclock_timer_set(deadline, 0);
		else
			rc = (int)hypercall6(__HYPERVISOR_set_timer_op, deadline, 0, 0, 0, 0);
		if (rc)
			fail("arming the timer: %d", rc);
		u64 seen = wait_timer(deadline + 2000 * MS);
		if (!seen)
			fail("one-shot timer %lu (deadline %lu) never fired", i, deadline);
		if (seen < deadline)
			fail("one-shot timer %lu fired %lu ns early", i, deadline - seen);
		worst = MAX(worst, seen - deadline);
	}
	if (worst > LATE_MAX)
		fail("a one-shot timer fired %lu ms late", worst / MS);
	printf("pvtest: timer: %lu one-shot timers fired on time (latest %lu us after its "
	       "deadline)\n", rounds, worst / 1000);

	u64 now = pvclock_now_ns();
	rc = pvclock_timer_set(now - MS, VCPU_SSHOTTMR_future);
	if (rc != -ETIME)
		fail("a past deadline with VCPU_SSHOTTMR_future: %d, Xen gives -ETIME", rc);
	if ((rc = pvclock_timer_set(now - MS, 0)) || !wait_timer(now + 500 * MS))
		fail("a past deadline without the flag did not fire at once (%d)", rc);
	if ((rc = pvclock_timer_set(pvclock_now_ns() + 5 * MS, 0)) || (rc = pvclock_timer_stop()))
		fail("arm and stop: %d", rc);
	if (wait_timer(pvclock_now_ns() + 30 * MS))
		fail("a stopped one-shot timer fired");
	puts("pvtest: timer: future flag, past deadline and stop behave as in Xen");

	struct vcpu_set_periodic_timer p = { .period_ns = 5 * MS };
	u64 t0 = pvclock_now_ns(), last = t0;
	if ((rc = (int)HYPERVISOR_vcpu_op(VCPUOP_set_periodic_timer, 0, &p)))
		fail("periodic timer: %d", rc);
	for (unsigned i = 1; i <= 10; i++) {
		u64 seen = wait_timer(pvclock_now_ns() + 2000 * MS);
		if (!seen)
			fail("periodic tick %u never came", i);
		/* Ticks keep to the period's grid (Xen: the next one is due a
		 * period after the last one was due, not after it was seen),
		 * so one seen late may be followed by one seen sooner; none may
		 * come before its slot. */
		if (seen + MS / 10 < t0 + i * p.period_ns)
			fail("periodic tick %u came %lu us early (%lu us after the previous one)", i,
			     (t0 + i * p.period_ns - seen) / 1000, (seen - last) / 1000);
		last = seen;
	}
	if ((rc = (int)HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL)))
		fail("stop periodic: %d", rc);
	if (wait_timer(pvclock_now_ns() + 30 * MS))
		fail("the periodic timer fired after it was stopped");
	printf("pvtest: timer: 10 periodic ticks of 5 ms in %lu ms, none after stop\n",
	       (last - t0) / MS);

	/* Runstate: the hypervisor accounts running/runnable/blocked time
	 * into the area we register (Linux's steal-time source). */
	static struct vcpu_runstate_info rs;
	struct vcpu_register_runstate_memory_area area = { .addr = (u64)(uintptr_t)&rs };
	if ((rc = (int)HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &area)))
		fail("register runstate area: %d", rc);
	/* A yield makes the hypervisor write the full record. */
	HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	u64 blocked0 = rs.time[RUNSTATE_blocked];
	if ((rc = pvclock_timer_set(pvclock_now_ns() + 30 * MS, 0)) ||
	    !wait_timer(pvclock_now_ns() + 2000 * MS))
		fail("sleeping 30 ms: %d", rc);
	if (rs.state != RUNSTATE_running)
		fail("runstate says state %d while we run", rs.state);
	u64 slept = rs.time[RUNSTATE_blocked] - blocked0;
	if (slept < 20 * MS || !rs.time[RUNSTATE_running])
		fail("runstate: %lu ms blocked over a 30 ms sleep, %lu ns running", slept / MS,
		     rs.time[RUNSTATE_running]);
	printf("pvtest: timer: runstate area: %lu ms blocked over a 30 ms sleep, %lu ms running "
	       "in all\n", slept / MS, rs.time[RUNSTATE_running] / MS);

	u64 wc = pvclock_wallclock_sec();
	/* 2020-01-01 .. 2100-01-01 */
	if (wc < 1577836800ULL || wc > 4102444800ULL)
		fail("wallclock %lu s is not a plausible date", wc);
	if (dregs) {
		for (unsigned i = 0; i < 4; i++)
			if (read_dr(i) != 0x0000717100000000ULL + 0x100 * i)
				fail("DR%u is 0x%lx, it was set to 0x%llx", i, read_dr(i),
				     0x0000717100000000ULL + 0x100 * i);
		puts("pvtest: timer: its own DR0-3 kept throughout");
	}
	printf("pvtest: timer: PASS wallclock %lu s since 1970, system time %lu ms\n", wc,
	       pvclock_now_ns() / MS);
}
