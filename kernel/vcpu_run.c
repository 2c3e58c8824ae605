/*
 * The vCPU loop (STYLE.md rule 5): pending work, enter the guest, count
 * the exit, dispatch it, carry out the handler's verdict. RIP is advanced
 * here and nowhere else.
 */
#include <keel/domain.h>
#include <keel/printk.h>
#include <keel/sched.h>
#include <keel/vmexit.h>
#include <keel/vtimer.h>
#include <asm/cpu.h>
#include <asm/fpu.h>
#include <asm/vendor.h>
#include <asm/vintc.h>

static void inject_exception(struct vcpu *v, u8 vector, bool has_error)
{
	struct vevent ev = {
		.vector = vector,
		.type = VEVENT_EXCEPTION,
		.has_error = has_error,
		.error_code = 0,
	};
	vendor->inject(v, &ev);
}

static void vcpu_run_exits(struct vcpu *v)
{
	struct vm_exit e;

	while (v->runnable && !v->blocked) {
		/* Slice over, timer due, yielded or paused (kernel/sched.c). */
		if (sched_must_leave(v))
			return;

		/* The event-channel upcall, if one is pending. */
		evtchn_upcall_deliver(v);
		/* Then the virtual LAPIC's highest deliverable vector. */
		vintc_deliver(v);
		vendor->run(v, &e);
		exit_count(v, e.reason);

		switch (exit_dispatch(v, &e)) {
		case EXIT_ADVANCE:
			if (!e.insn_len) {
				/* The vendor could not tell how long the
				 * instruction was: skipping a guessed length
				 * would corrupt the guest, so stop it. */
				domain_crash(v, "cannot decode the length of the intercepted instruction");
				return;
			}
			if (vendor->skip_insn)
				vendor->skip_insn(v, e.insn_len);
			else
				vendor->set_reg(v, VREG_RIP, vendor->get_reg(v, VREG_RIP) + e.insn_len);
			break;
		case EXIT_RETAIN:
			break;
		case EXIT_INJECT_GP:
			inject_exception(v, X86_EXC_GP, true);
			break;
		case EXIT_INJECT_UD:
			inject_exception(v, X86_EXC_UD, false);
			break;
		case EXIT_STOP:
			return;
		}
	}
}

/* The first time the scheduler gives vCPU 0 of a domain the CPU: one
 * info line with the system time since domain_create (for a domU that
 * spans the domain builder, the unpause and the switch). It is taken
 * here, once per scheduling rather than before every entry, so the exit
 * path pays nothing for it; the entry follows within the few hundred
 * instructions of vcpu_run_exits' pending-work checks. Under -icount
 * ns are instructions (docs/PERFORMANCE.md, Linux boot). */
static void log_first_entry(struct vcpu *v)
{
	struct domain *d = v->dom;

	d->entered = true;
	pr_info("domain %u (%s): first instruction %lu ns after create\n", d->id, d->name,
		time_now_ns() - d->created_ns);
}

void vcpu_run(struct vcpu *v)
{
	if (!v->dom->entered && v->id == 0)
		log_first_entry(v);
	/* The vCPU's FPU/SIMD registers and XCR0 are live from here until
	 * it gives the CPU up (asm/fpu.h): no other domain's state may be
	 * in them while it runs, nor its state in them after. */
	fpu_load(v);
	vcpu_run_exits(v);
	fpu_save(v);
}
