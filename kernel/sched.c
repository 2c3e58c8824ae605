/*
 * The scheduler: see include/keel/sched.h for the policy (credit-style
 * weighted round robin, 10 ms slices, kernel/sched_policy.c) and the
 * contracts. This file is the machinery around it: the host timer that
 * ends slices and fires guest timers, the idle wait, blocking and waking,
 * and stopping the machine when dom0 is gone.
 *
 * How a slice ends. Before entering a vCPU the scheduler arms the host
 * LAPIC timer for the earlier of the slice's end and the next guest timer
 * deadline (any vCPU's). The interrupt makes the guest exit (both back
 * ends intercept host interrupts; see asm/vendor.h), the back end lets the
 * host take it, and the handler below only records that it fired; the
 * vCPU loop asks sched_must_leave() before every entry and comes back
 * here. sched_must_leave() also compares the clock itself, so a guest
 * that exits often is preempted on time even if an interrupt was late.
 */
#include <keel/console_rx.h>
#include <keel/console_tx.h>
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/machine.h>
#include <keel/pirq.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <keel/sched.h>
#include <keel/vmexit.h>
#include <keel/vtimer.h>
#include <public/sysctl.h>
#include <asm/apic.h>
#include <asm/guest_mem.h>
#include <asm/cpu.h>

/* What one physical CPU is doing. */
struct cpu_sched {
	struct vcpu *curr;
	u64 seq;              /* picks so far (the tie-break clock) */
	u64 next_event;       /* system time the running vCPU must leave by */
	u64 leave_tsc;        /* ... as a TSC value (time_tsc_at) */
	volatile bool timer_fired;
	struct keel_sysctl_irqs irqs; /* KEEL_SYSCTL_irq_counts */
};

static struct cpu_sched cpu0;

static struct cpu_sched *sched_this_cpu(void)
{
	return &cpu0;
}

struct vcpu *sched_current(void)
{
	return sched_this_cpu()->curr;
}

/* Interrupt context: record only (see the comment at the top), and
 * count (KEEL_SYSCTL_irq_counts). */
static void timer_interrupt(void)
{
	struct cpu_sched *c = sched_this_cpu();
	struct keel_sysctl_irqs *k = &c->irqs;

	c->timer_fired = true;
	if (!c->curr) {
		k->timer_idle++;
		return;
	}
	if (c->curr->dom->id == 0)
		k->timer_dom0++;
	else
		k->timer_domu++;
	if (!time_tsc_reached(c->leave_tsc))
		k->timer_early++;
}

void sched_softirq_raise(void)
{
	struct cpu_sched *c = sched_this_cpu();

	/* The same flag as the timer: the running vCPU leaves at its next
	 * exit, and the loop below does the deferred work. */
	c->timer_fired = true;
	if (!c->curr)
		c->irqs.device_idle++;
	else if (c->curr->dom->id == 0)
		c->irqs.device_dom0++;
	else
		c->irqs.device_domu++;
}

void sched_irq_counts(struct keel_sysctl_irqs *k)
{
	*k = sched_this_cpu()->irqs;
}

void sched_init(void)
{
	apic_timer_set_handler(timer_interrupt);
}

static enum stop_reason dom0_stop_reason(const struct domain *d0)
{
	if (d0->state == DOM_CRASHED)
		return STOP_CRASH;
	switch (d0->shutdown_reason) {
	case SHUTDOWN_poweroff:
	case SHUTDOWN_suspend: /* no suspend support: treat as poweroff */
		return STOP_POWEROFF;
	case SHUTDOWN_reboot:
	case SHUTDOWN_soft_reset:
		return STOP_REBOOT;
	default:
		return STOP_CRASH;
	}
}

/* May v be chosen: its domain runs (not paused, not dead) and v is
 * started and awake. */
static bool can_run(const struct vcpu *v)
{
	return v->dom->state == DOM_RUNNING && v->runnable && !v->blocked;
}

bool sched_must_leave(struct vcpu *v)
{
	struct cpu_sched *c = sched_this_cpu();

	if (v->pending & VCPU_PENDING_YIELD) {
		v->pending &= ~VCPU_PENDING_YIELD;
		v->sched.yielded = true;
		return true;
	}
	if (!can_run(v) || c->timer_fired)
		return true;
	/* The TSC against the deadline's TSC value: the same answer as
	 * time_now_ns() >= next_event without the scaling, on every exit. */
	return time_tsc_reached(c->leave_tsc);
}

u64 sched_leave_deadline(void)
{
	struct cpu_sched *c = sched_this_cpu();
	return c->curr ? c->next_event : 0;
}

void vcpu_yield(struct vcpu *v)
{
	v->pending |= VCPU_PENDING_YIELD;
}

void sched_deadline_changed(u64 deadline)
{
	struct cpu_sched *c = sched_this_cpu();
	if (!c->curr || !deadline || deadline >= c->next_event)
		return;
	c->next_event = deadline;
	u64 now = time_now_ns();
	c->leave_tsc = time_tsc_at(deadline, now);
	apic_timer_oneshot(deadline > now ? deadline - now : 0);
}

int sched_set_weight(struct domain *d, u32 weight)
{
	if (weight == 0 || weight > SCHED_WEIGHT_MAX)
		return -EINVAL;
	d->weight = weight;
	return 0;
}

void sched_vcpu_destroy(struct vcpu *v)
{
	BUG_ON(sched_this_cpu()->curr == v);
	vtimer_reset(v);
	v->blocked = false;
}

/* ---- runstate accounting (Xen public/vcpu.h) ----------------------------- */

void sched_vcpu_init(struct vcpu *v)
{
	v->sched.runstate = (struct vcpu_runstate_info){
		.state = RUNSTATE_offline, .state_entry_time = time_now_ns() };
}

/* Where a vCPU that is not on the CPU stands. Xen counts a vCPU of a
 * paused domain as offline. */
static int idle_runstate(const struct vcpu *v)
{
	if (v->blocked && v->runnable)
		return RUNSTATE_blocked;
	return can_run(v) ? RUNSTATE_runnable : RUNSTATE_offline;
}

/*
 * Moves v to `state` at system time `now`, charging the time since the
 * last change to the old state, and copies the record to the area the
 * guest registered (Linux reads steal time from it). The guest is not
 * running while this happens (one CPU), so no update flag is needed; a
 * bad address just gets no updates, as in Xen.
 */
static void runstate_change(struct vcpu *v, int state, u64 now)
{
	struct vcpu_runstate_info *rs = &v->sched.runstate;

	if (rs->state == state)
		return;
	if (now > rs->state_entry_time && (unsigned)rs->state < 4)
		rs->time[rs->state] += now - rs->state_entry_time;
	rs->state = state;
	rs->state_entry_time = now;
	if (v->ev.runstate_gva)
		(void)copy_to_guest_kernel(v, v->ev.runstate_gva, rs, sizeof(*rs));
}

/* The earlier of two deadlines where 0 means none. */
static u64 earliest(u64 a, u64 b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return MIN(a, b);
}

/* The entities the policy looks at: every vCPU of every live domain. */
static struct sched_entity entities[DOMID_MAX * MAX_VCPUS];
static struct vcpu *entity_vcpu[DOMID_MAX * MAX_VCPUS];

/*
 * One pass over all vCPUs: fires guest timers and poll timeouts that are
 * due, fills the policy's table, and returns the earliest deadline still
 * ahead (0 if none) in *next.
 */
static unsigned collect(u64 now, u64 *next)
{
	unsigned n = 0;
	*next = 0;
	for (unsigned id = domain_next_id(0); id < DOMID_MAX; id = domain_next_id(id + 1)) {
		struct domain *d = domain_by_id(id);
		if (!d || !domain_is_alive(d))
			continue;
		for (unsigned i = 0; i < d->nr_vcpus; i++) {
			struct vcpu *v = d->vcpus[i];
			u64 dl = vtimer_next_deadline(v);
			if (dl && dl <= now) {
				vtimer_fire(v, now); /* VIRQ_TIMER */
				dl = vtimer_next_deadline(v);
			}
			if (v->blocked && v->ev.poll_deadline) {
				if (v->ev.poll_deadline <= now)
					vcpu_kick(v); /* SCHEDOP_poll timed out */
				else
					*next = earliest(*next, v->ev.poll_deadline);
			}
			*next = earliest(*next, dl);
			runstate_change(v, idle_runstate(v), now);
			entities[n] = (struct sched_entity){
				.credit = v->sched.credit,
				.last_pick = v->sched.last_pick,
				.weight = d->weight ? d->weight : SCHED_WEIGHT_DEFAULT,
				.runnable = can_run(v),
				.yielded = v->sched.yielded,
			};
			/* A yield defers v for this one pick only. */
			v->sched.yielded = false;
			entity_vcpu[n++] = v;
		}
	}
	return n;
}

static u64 idle_wakeups;

/* Nothing to run: sleep until the next timer. */
static void idle(u64 now, u64 next)
{
	if (!next && !pirq_any_bound() && !console_rx_next_poll(now)) {
		/* Every vCPU sleeps, no timer is armed, no device interrupt
		 * is routed to a domain and dom0 does not wait for console
		 * input: no event can come, so nothing would ever run again. */
		pr_err("every vCPU is blocked and nothing can wake them\n");
		machine_stop(STOP_PANIC);
	}
	sched_this_cpu()->timer_fired = false;
	/* Console output still queued: wake up to move it on; dom0 waits
	 * for console input: wake up to look for it (no UART interrupt). */
	next = earliest(next, console_tx_next_poll(now));
	next = earliest(next, console_rx_next_poll(now));
	if (next)
		apic_timer_oneshot(next - now);
	else
		apic_timer_stop(); /* only a device interrupt can end the wait */
	/* STI's one-instruction shadow covers HLT, so an interrupt that
	 * arrives in between still ends the HLT (SDM vol. 2 STI). Any
	 * interrupt ends the wait; the scheduler then looks again (a timer
	 * cut short by the counter's range simply idles once more). */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
	idle_wakeups++;
}

u64 sched_idle_wakeups(void)
{
	return idle_wakeups;
}

void sched_run(void)
{
	struct cpu_sched *c = sched_this_cpu();

	console_tx_start_async();
	for (;;) {
		struct domain *d0 = control_domain();
		if (!d0 || !domain_is_alive(d0)) {
			pr_info("dom0 has stopped: stopping the machine\n");
			machine_stop(d0 ? dom0_stop_reason(d0) : STOP_PANIC);
		}

		/* Device interrupts that arrived become events (and may wake
		 * dom0's vCPU) before the pick. */
		pirq_deliver_pending();
		console_tx_poll();
		console_rx_poll();
		u64 now = time_now_ns(), next;
		unsigned n = collect(now, &next);
		int pick = sched_pick(entities, n);
		for (unsigned i = 0; i < n; i++)
			entity_vcpu[i]->sched.credit = entities[i].credit;
		if (pick < 0) {
			idle(now, next);
			continue;
		}

		struct vcpu *v = entity_vcpu[pick];
		v->sched.last_pick = ++c->seq;
		c->curr = v;
		/* While console output is queued, the running vCPU leaves
		 * about every millisecond so the loop above can move it on
		 * (no UART interrupt: keel/console_tx.h). */
		c->next_event = earliest(earliest(now + SCHED_SLICE_NS, next),
					 console_tx_next_poll(now));
		c->leave_tsc = time_tsc_at(c->next_event, now);
		c->timer_fired = false;
		apic_timer_oneshot(c->next_event - now);
		time_update_vcpu(v);
		runstate_change(v, RUNSTATE_running, now);

		vcpu_run(v);

		c->curr = NULL;
		u64 end = time_now_ns(), ran = end - now;
		runstate_change(v, idle_runstate(v), end);
		v->sched.run_ns += ran;
		struct sched_entity e = { .credit = v->sched.credit,
					  .weight = v->dom->weight ? v->dom->weight
								   : SCHED_WEIGHT_DEFAULT };
		sched_charge(&e, ran);
		v->sched.credit = e.credit;
	}
}
