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
	/* No guest timer or poll timeout of any vCPU is due before this
	 * system time (0: none armed). The full pass recomputes it; every
	 * new deadline lowers it (sched_deadline_changed, and the poll
	 * timeout of a vCPU that blocks). A lower bound, never higher than
	 * the true earliest deadline: the fast pass relies on that. */
	u64 timer_next;
	/* System time the host timer is armed for; 0 when it is not armed
	 * (stopped, or it fired: the handler clears it). */
	volatile u64 armed;
	u64 fast_picks;       /* picks made without the timer sweep */
	volatile bool timer_fired;
	struct keel_sysctl_irqs irqs; /* KEEL_SYSCTL_irq_counts */
};

static struct cpu_sched cpu0;

/*
 * Every vCPU of every domain, in domain-id then vCPU order (the order the
 * policy breaks its last ties in). Rebuilt only when a vCPU is created or
 * destroyed (sched_vcpu_init, sched_vcpu_destroy mark it stale), so a
 * pass does not walk the domain table. Domains that are not alive stay in
 * it and are skipped by each pass, as before.
 */
static struct vcpu *known[DOMID_MAX * MAX_VCPUS];
static unsigned n_known;
static bool known_stale = true;

static struct cpu_sched *sched_this_cpu(void)
{
	return &cpu0;
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

	c->armed = 0; /* one-shot: nothing is armed any more */
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

/*
 * Arms the host timer for system time `deadline` unless it is already
 * armed for that time or earlier and still ahead: an earlier interrupt
 * only brings the CPU back to the scheduler sooner, where a full pass
 * looks at everything again (the running vCPU is charged only what it
 * ran). A one-shot that already fired has cleared `armed`, so it is
 * never mistaken for one still to come. Saves re-programming the LAPIC
 * on most switches (the slice end only moves later).
 */
static void host_timer_arm(struct cpu_sched *c, u64 deadline, u64 now)
{
	if (c->armed > now && c->armed <= deadline)
		return;
	c->armed = deadline;
	apic_timer_oneshot(deadline > now ? deadline - now : 0);
}

void sched_deadline_changed(u64 deadline)
{
	struct cpu_sched *c = sched_this_cpu();

	if (!deadline)
		return;
	c->timer_next = earliest(c->timer_next, deadline);
	if (!c->curr || deadline >= c->next_event)
		return;
	c->next_event = deadline;
	u64 now = time_now_ns();
	c->leave_tsc = time_tsc_at(deadline, now);
	host_timer_arm(c, deadline, now);
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
	known_stale = true;
	vtimer_reset(v);
	v->blocked = false;
}

/* ---- runstate accounting (Xen public/vcpu.h) ----------------------------- */

void sched_vcpu_init(struct vcpu *v)
{
	known_stale = true;
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
 * bad address just gets no updates, as in Xen. Inlined: every switch
 * takes it twice.
 */
static __attribute__((always_inline)) inline void runstate_change(struct vcpu *v, int state,
								  u64 now)
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

static void known_rebuild(void)
{
	n_known = 0;
	for (unsigned id = domain_next_id(0); id < DOMID_MAX; id = domain_next_id(id + 1)) {
		struct domain *d = domain_by_id(id);
		for (unsigned i = 0; d && i < d->nr_vcpus; i++)
			known[n_known++] = d->vcpus[i];
	}
	known_stale = false;
}

/*
 * The timer sweep of a full pass: fires the guest timers and ends the
 * SCHEDOP_poll waits that are due, and returns the earliest deadline
 * still ahead (0 if none).
 */
static u64 sweep(u64 now)
{
	u64 next = 0;

	for (unsigned k = 0; k < n_known; k++) {
		struct vcpu *v = known[k];
		if (!domain_is_alive(v->dom))
			continue;
		u64 dl = vtimer_next_deadline(v);
		if (dl && dl <= now) {
			vtimer_fire(v, now); /* VIRQ_TIMER */
			dl = vtimer_next_deadline(v);
		}
		if (v->blocked && v->ev.poll_deadline) {
			if (v->ev.poll_deadline <= now)
				vcpu_kick(v); /* SCHEDOP_poll timed out */
			else
				next = earliest(next, v->ev.poll_deadline);
		}
		next = earliest(next, dl);
	}
	return next;
}

/* The entities the policy looks at: every vCPU of every live domain. */
static struct sched_entity entities[DOMID_MAX * MAX_VCPUS];
static struct vcpu *entity_vcpu[DOMID_MAX * MAX_VCPUS];

/* Fills the policy's table from the vCPUs of the live domains. */
static unsigned fill(void)
{
	unsigned n = 0;

	for (unsigned k = 0; k < n_known; k++) {
		struct vcpu *v = known[k];
		struct domain *d = v->dom;
		if (!domain_is_alive(d))
			continue;
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
	return n;
}

/*
 * The policy's choice among the table (sched_pick, which may refill
 * every credit), its credits written back, and every vCPU but the chosen
 * one moved to the runstate it now has (a woken one becomes runnable).
 * The chosen one goes straight to running at the same `now`, which
 * charges its runstate exactly what runnable-then-running would (zero
 * time runnable) with one copy to the guest instead of two. NULL: nothing
 * is runnable.
 */
static struct vcpu *choose(unsigned n, u64 now)
{
	int pick = sched_pick(entities, n);

	for (unsigned i = 0; i < n; i++) {
		struct vcpu *v = entity_vcpu[i];
		v->sched.credit = entities[i].credit;
		if ((int)i != pick)
			runstate_change(v, idle_runstate(v), now);
	}
	return pick < 0 ? NULL : entity_vcpu[pick];
}

/*
 * The fast pass (docs/sched.md): may the next pick skip the full pass's
 * deferred work and timer sweep, and what does the policy pick then?
 * The rule: `prev` has just left the CPU by blocking (SCHEDOP_block,
 * SCHEDOP_poll, HLT), and the full pass would have done nothing but pick:
 *  - no host interrupt was taken since the last pick (timer_fired: the
 *    slice timer, a device interrupt for a pirq, the console's UART all
 *    set it), so there is no deferred work and no console output is due;
 *  - no guest timer or poll timeout of any vCPU is due (timer_next, a
 *    lower bound of all of them, is still ahead; prev's own new poll
 *    timeout counts too);
 *  - the set of vCPUs is the one the last full pass saw (known list);
 *  - the policy's choice needs no refill (its credit is > 0).
 * Then sweep() would fire nothing and wake nobody, and the best runnable
 * vCPU by sched_better over the same vCPUs with their current credits is
 * exactly what sched_pick would return. In the ping-pong this is the
 * direct handoff to the peer the send just woke; it cannot favour a
 * domain: the choice, the credit charged for the run and the refill are
 * the policy's own. The host timer stays armed for the last full pass's
 * deadline or earlier (host_timer_arm never moves it later), so a full
 * pass still comes at least once a slice. NULL: do the full pass.
 */
static struct vcpu *fast_pick(struct cpu_sched *c, const struct vcpu *prev, u64 now)
{
	if (!prev || c->timer_fired || known_stale || idle_runstate(prev) != RUNSTATE_blocked)
		return NULL;
	u64 t = earliest(c->timer_next, prev->ev.poll_deadline);
	if (t && t <= now)
		return NULL;

	struct vcpu *best = NULL;
	struct sched_entity be = { 0 };
	for (unsigned k = 0; k < n_known; k++) {
		struct vcpu *x = known[k];
		/* can_run implies the domain is alive (DOM_RUNNING). */
		if (!can_run(x))
			continue;
		struct sched_entity e = { .credit = x->sched.credit,
					  .last_pick = x->sched.last_pick,
					  .runnable = true,
					  .yielded = x->sched.yielded };
		if (!best || sched_better(&e, &be)) {
			best = x;
			be = e;
		}
	}
	if (!best || be.credit <= 0)
		return NULL;
	c->timer_next = t;
	/* What the full pass's choose() does for the others: a yield
	 * lasts one pick (none is set here: only a running vCPU yields, and
	 * it leaves runnable), and each vCPU's runstate follows its state. */
	for (unsigned k = 0; k < n_known; k++) {
		struct vcpu *x = known[k];
		int state = idle_runstate(x);
		x->sched.yielded = false;
		if (x != best && x->sched.runstate.state != state && domain_is_alive(x->dom))
			runstate_change(x, state, now);
	}
	c->fast_picks++;
	return best;
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
	struct cpu_sched *c = sched_this_cpu();
	if (next) {
		c->armed = next;
		apic_timer_oneshot(next - now);
	} else {
		c->armed = 0;
		apic_timer_stop(); /* only a device interrupt can end the wait */
	}
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

/* Gives v the CPU from system time `now` until it leaves; returns the
 * system time it left at, its run charged to its credit. */
static u64 run_one(struct cpu_sched *c, struct vcpu *v, u64 now)
{
	v->sched.last_pick = ++c->seq;
	c->curr = v;
	/* While console output is queued, the running vCPU leaves about
	 * every millisecond so the full pass can move it on (no UART
	 * interrupt: keel/console_tx.h). */
	c->next_event = earliest(earliest(now + SCHED_SLICE_NS, c->timer_next),
				 console_tx_next_poll(now));
	c->leave_tsc = time_tsc_at(c->next_event, now);
	c->timer_fired = false;
	host_timer_arm(c, c->next_event, now);
	time_refresh_vcpu(v);
	runstate_change(v, RUNSTATE_running, now);

	vcpu_run(v);

	c->curr = NULL;
	u64 end = time_now_ns(), ran = end - now;
	runstate_change(v, idle_runstate(v), end);
	v->sched.run_ns += ran;
	struct sched_entity e = { .credit = v->sched.credit,
				  .weight = v->dom->weight ? v->dom->weight : SCHED_WEIGHT_DEFAULT };
	sched_charge(&e, ran);
	v->sched.credit = e.credit;
	return end;
}

void sched_run(void)
{
	struct cpu_sched *c = sched_this_cpu();
	struct vcpu *prev = NULL, *v = NULL;
	u64 now = 0;

	console_tx_start_async();
	for (;;) {
		/* dom0 stops only by what its own vCPU does (shutdown, a
		 * crash on its exit, a remote_shutdown of itself), which
		 * leaves that vCPU offline, not blocked: the full pass
		 * follows and looks. */
		v = fast_pick(c, prev, now);
		if (!v) {
			struct domain *d0 = control_domain();
			if (!d0 || !domain_is_alive(d0)) {
				pr_info("dom0 has stopped: stopping the machine\n");
				machine_stop(d0 ? dom0_stop_reason(d0) : STOP_PANIC);
			}
			/* The full pass. Device interrupts that arrived become
			 * events (and may wake dom0's vCPU) before the pick. */
			pirq_deliver_pending();
			console_tx_poll();
			console_rx_poll();
			now = time_now_ns();
			if (known_stale)
				known_rebuild();
			c->timer_next = sweep(now);
			v = choose(fill(), now);
		}
		if (!v) {
			idle(now, c->timer_next);
			prev = NULL;
			continue;
		}
		now = run_one(c, v, now);
		prev = v;
	}
}

u64 sched_fast_picks(void)
{
	return sched_this_cpu()->fast_picks;
}
