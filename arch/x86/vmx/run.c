/*
 * The VMX run loop: one vendor_ops.run() (asm/vendor.h). Before each
 * entry: the VMCS made current, lazily switched MSRs, TLB tags, the event
 * to inject, debug registers, the preemption timer, speculation controls
 * and CR2; then the VMLAUNCH/VMRESUME stub (vmx_run.asm); after it, the
 * interrupted event delivery saved and the exit decoded (exit.c).
 */
#include <lib/string.h>
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/spec.h>
#include "vmcs.h"
#include "vmx.h"

/*
 * One vendor_ops.run(): enter the guest, decode the exit. A few exits are
 * the back end's own business (a window it opened to deliver a queued
 * event, a guest CR write that needs a #GP); those re-enter here without
 * bothering the kernel.
 */
void vmx_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmx_vcpu *p = vmx_vcpu(v);

	for (;;) {
		vmcs_load(v);
		vmx_switch_guest_msrs(v);
		if (!p->flushed)
			vmx_flush_vcpu_first_entry(v);
		else
			vmx_tlb_switch(v);
		vmx_this_cpu.last_run = v;
		vmx_inject_pending(v);
		/* DR7 and DEBUGCTL come from the VMCS; DR0-3 and DR6 are
		 * swapped here when another vCPU had them. */
		debugregs_switch_to(v, true);
		vmx_preemption_arm();
		spec_enter_guest(v); /* IBPB, SPEC_CTRL, L1D flush (asm/spec.h) */

		/* CR2 is not part of the VMCS; nothing between here and
		 * the entry can fault, so the guest's value survives. */
		if (read_cr2() != p->cr2)
			write_cr2(p->cr2);
		int rc = vmx_enter(v);
		p->cr2 = read_cr2();

		if (rc) {
			spec_entry_failed();
			memset(exit, 0, sizeof(*exit));
			exit->reason = EXIT_ENTRY_FAILED;
			vmx_report_entry_fail(v, rc);
			p->last_exit = *exit;
			return;
		}
		bool was_launched = p->launched;
		p->launched = true;
		vmx_save_vectoring(v);
		bool internal = vmx_decode_exit(v, exit);
		/* An entry that failed while loading the guest state (exit
		 * reason bit 31) leaves the launch state as it was (27.8). */
		if (exit->reason == EXIT_ENTRY_FAILED)
			p->launched = was_launched;
		p->last_exit = *exit;
		if (!internal)
			return;
		/* Dealt with here, but an exit all the same: counted with
		 * the ones the kernel sees, so the per-reason counters
		 * (bench-exits) show every exit the guest caused. */
		exit_count(v, exit->reason);
	}
}
