/*
 * The scheduler (kernel/sched.c, policy in kernel/sched_policy.c).
 *
 * Policy: credit-style weighted round robin on the one physical CPU.
 *  - Each vCPU holds a credit in nanoseconds; running costs it the time
 *    run. The runnable vCPU with the most credit runs next (ties: the one
 *    that ran least recently), for at most one time slice of
 *    SCHED_SLICE_NS (10 ms), enforced by the host LAPIC timer (and by a
 *    back end's own backstop, see sched_leave_deadline()): a spinning
 *    guest is preempted by the timer interrupt (EXIT_EXTINT).
 *  - When the best runnable vCPU has no credit left, every vCPU is given
 *    SCHED_SLICE_NS * weight / SCHED_WEIGHT_DEFAULT more, capped at
 *    SCHED_CREDIT_CAP_SLICES slices' worth, so a vCPU that slept cannot
 *    hoard credit. A domain's weight (1..SCHED_WEIGHT_MAX, default 256)
 *    sets its share of the CPU among busy domains.
 *  - A vCPU that blocks (HLT with interrupts on, SCHEDOP_block,
 *    SCHEDOP_poll) does not run until vcpu_kick() (an event) or its
 *    timer (the VIRQ_TIMER deadline of kernel/time.c, or a poll timeout).
 *  - With nothing runnable the CPU waits for the next timer with sti;hlt.
 *
 * Single physical CPU; the hypervisor runs with interrupts off except
 * where it waits for them, so nothing here needs a lock yet. Per-CPU
 * state is reached through sched_this_cpu() so that SMP can slot in.
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <lib/types.h>
#include <public/vcpu.h>

struct vcpu;
struct domain;

#define SCHED_SLICE_NS 10000000ULL    /* 10 ms */
#define SCHED_WEIGHT_DEFAULT 256
#define SCHED_WEIGHT_MAX 65535
#define SCHED_CREDIT_CAP_SLICES 2

/* Per-vCPU scheduler state, embedded in struct vcpu (keel/domain.h). */
struct sched_vcpu {
	s64 credit;        /* ns the vCPU may still run before others catch up */
	u64 last_pick;     /* sched sequence number when last picked */
	u64 run_ns;        /* total time run (domctl list reports it) */
	bool yielded;      /* SCHEDOP_yield: others first at the next pick */
	/* Xen's runstate accounting (public/vcpu.h), copied to the guest's
	 * VCPUOP_register_runstate_memory_area on every change. */
	struct vcpu_runstate_info runstate;
};

/* ---- the pure policy (kernel/sched_policy.c, unit-tested) ------------- */

/* What the policy sees of one vCPU. */
struct sched_entity {
	s64 credit;
	u64 last_pick;
	u32 weight;
	bool runnable;
	bool yielded; /* asked to let the others run first (SCHEDOP_yield) */
};

/* Index of the entity to run next among e[0..n), or -1 if none is
 * runnable: the runnable one with the most credit, ties to the smallest
 * last_pick; a yielded one only when no other is runnable. When the
 * chosen one has no credit (<= 0), first refills every entity
 * (sched_refill) and chooses again. Does not change last_pick. */
int sched_pick(struct sched_entity *e, unsigned n);

/* True if a should run before b, both runnable: not yielded first, then
 * the most credit, then the least recently picked. sched_pick's order;
 * inline, as the fast pass (kernel/sched.c) asks it for every vCPU. */
static inline bool sched_better(const struct sched_entity *a, const struct sched_entity *b)
{
	if (a->yielded != b->yielded)
		return !a->yielded;
	if (a->credit != b->credit)
		return a->credit > b->credit;
	return a->last_pick < b->last_pick;
}

/* Gives every entity SCHED_SLICE_NS * weight / SCHED_WEIGHT_DEFAULT more
 * credit, capped at SCHED_CREDIT_CAP_SLICES times that. */
void sched_refill(struct sched_entity *e, unsigned n);

/* Charges `ns` of run time to e (credit may go negative, down to minus
 * one cap, so a long non-preemptible stretch is paid back but not
 * forever). */
void sched_charge(struct sched_entity *e, u64 ns);

/* ---- the scheduler proper (kernel/sched.c) ---------------------------- */

/* Sets up the host timer interrupt. Call once after time_init(). */
void sched_init(void);

/* Runs domains until dom0 stops, then stops the machine. */
__attribute__((noreturn)) void sched_run(void);

/* The vCPU running on this CPU now (NULL in the scheduler itself). */
struct vcpu *sched_current(void);

/* Called by the vCPU loop before every entry: true when v must give up
 * the CPU now (its slice is over, a timer is due, it yielded or blocked,
 * its domain was paused). */
bool sched_must_leave(struct vcpu *v);

/* System time (ns) by which the vCPU now running must be back in the
 * scheduler: the end of its slice or the next timer due, whichever is
 * first. For a back end that arms its own time-slice backstop before each
 * entry. 0 when no vCPU is running. */
u64 sched_leave_deadline(void);

/* Asks the scheduler to run another vCPU before v resumes (SCHEDOP_yield:
 * v stays runnable and keeps its place by credit). */
void vcpu_yield(struct vcpu *v);

/* Blocking and waking belong to the event-channel code (keel/evtchn.h:
 * evtchn_hlt, evtchn_sched_block, evtchn_sched_poll set v->blocked;
 * vcpu_kick clears it). The scheduler skips blocked vCPUs, fires their
 * timers (kernel/time.c, which kicks them) and ends SCHEDOP_poll waits
 * whose v->ev.poll_deadline has passed (vcpu_kick). */

/* Some vCPU armed a timer for system time `deadline` (kernel/time.c, the
 * virtual LAPIC's timer; 0: none): the scheduler's fast pass will not
 * skip the timer sweep once it is due, and if it is before the running
 * vCPU's slice ends, the host timer is re-armed so that the CPU comes
 * back to the scheduler in time to fire it. */
void sched_deadline_changed(u64 deadline);

/* Picks made by the fast pass (docs/sched.md): after a vCPU blocked,
 * with nothing due, the policy's choice without the timer sweep. */
u64 sched_fast_picks(void);

/* From interrupt context (a device interrupt for a pirq): makes the
 * running vCPU return to the scheduler at its next exit, where deferred
 * work (kernel/pirq.c's delivery) runs. */
void sched_softirq_raise(void);

/* The host interrupts taken so far, by source and by what the CPU was
 * doing (KEEL_SYSCTL_irq_counts, include/public/sysctl.h). */
struct keel_sysctl_irqs;
void sched_irq_counts(struct keel_sysctl_irqs *k);

/* Times a CPU woke from its idle wait (the idle-power figure: an idle
 * machine should wake only for what it waits for). */
u64 sched_idle_wakeups(void);

/* Sets d's weight (1..SCHED_WEIGHT_MAX). 0 or -EINVAL. */
int sched_set_weight(struct domain *d, u32 weight);

/* Called by vcpu_create: v starts offline in the runstate accounting. */
void sched_vcpu_init(struct vcpu *v);

/* Called by domain_destroy: forgets v (it must not be current). */
void sched_vcpu_destroy(struct vcpu *v);

#endif
