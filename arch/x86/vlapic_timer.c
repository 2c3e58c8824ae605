/*
 * The vLAPIC timer on the hypervisor's clock (docs/lapic.md). The count
 * runs at 1 GHz before the divider (the bus clock Xen reports), so one
 * count is `divider` ns of system time; the rules are vlapic_regs.c's.
 * An armed timer is a deadline in system time that the scheduler sees
 * with the PV timers (kernel/time.c asks vintc_next_deadline and calls
 * vintc_timer_fire), so it wakes a halted vCPU like VIRQ_TIMER does.
 */
#include <keel/domain.h>
#include <keel/evtchn.h>
#include <keel/sched.h>
#include <keel/vtimer.h>
#include <asm/cpu.h>
#include <asm/vintc.h>
#include <asm/vlapic.h>

u64 vintc_next_deadline(const struct vcpu *v)
{
	return v->arch.vlapic.present ? v->arch.vlapic.timer_deadline : 0;
}

void vintc_timer_fire(struct vcpu *v, u64 now)
{
	struct vlapic *s = vcpu_vlapic(v);

	if (!s->present || !s->timer_deadline || s->timer_deadline > now)
		return;
	if (vlapic_timer_expire(s, now))
		vcpu_kick(v);
}

void vlapic_timer_changed(struct vcpu *v)
{
	u64 dl = vcpu_vlapic(v)->timer_deadline;

	/* The host timer must bring the CPU back to the scheduler by then,
	 * and the scheduler's fast pass must know a timer is due
	 * (sched_deadline_changed, whichever vCPU armed it). */
	sched_deadline_changed(dl);
}

void vlapic_tsc_deadline_write(struct vcpu *v, u64 val)
{
	struct vlapic *s = vcpu_vlapic(v);
	u64 now = time_now_ns(), tsc = rdtsc();

	/* Outside TSC-deadline mode writes are ignored (SDM 10.5.4.1). */
	if (vlapic_timer_mode(s) != VLAPIC_TIMER_TSC_DEADLINE)
		return;
	s->tsc_deadline = val;
	if (!val) {
		s->timer_deadline = 0; /* 0 disarms */
		return;
	}
	/* The guest's TSC is the host's (no offset): convert the distance
	 * to ns at the calibrated rate; a deadline already passed fires at
	 * the next scheduler pass. */
	u64 ns = 0, khz = time_tsc_khz();
	if (val > tsc) {
		/* ns = ticks * 10^6 / kHz, split so that nothing overflows. */
		u64 d = val - tsc, q = d / khz, r = d % khz;
		ns = q >= VTIMER_DELTA_MAX_NS / 1000000u ? VTIMER_DELTA_MAX_NS
							  : q * 1000000u + r * 1000000u / khz;
	}
	s->timer_deadline = now + ns;
	if (!s->timer_deadline)
		s->timer_deadline = 1;
	vlapic_timer_changed(v);
}
