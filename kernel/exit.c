/*
 * The VM-exit dispatcher: a const table from the neutral exit reason to
 * its handler (STYLE.md rule 3). Handlers for the simple reasons live
 * here; CPUID, MSRs, port I/O and hypercalls have files of their own.
 */
#include <keel/domain.h>
#include <lib/string.h>
#include <keel/mmio.h>
#include <keel/printk.h>
#include <keel/vmexit.h>
#include <asm/cpu.h>
#include <asm/fpu.h>
#include <asm/guest_mem.h>
#include <asm/paging.h>
#include <asm/vendor.h>

static enum exit_action handle_hlt(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	/* HLT with interrupts off never ends (only NMI, INIT or reset would
	 * wake it): that vCPU goes offline. Xen treats a domain whose vCPUs
	 * have all halted that way as powered off (Linux's poweroff without
	 * ACPI S5 halts every CPU with interrupts off, the others first).
	 * With interrupts on, the vCPU sleeps until an event arrives
	 * (vcpu_kick), unless an upcall is already deliverable: then it
	 * goes on and takes the callback vector. */
	if (!(vendor->get_reg(v, VREG_RFLAGS) & RFLAGS_IF)) {
		struct domain *d = v->dom;
		bool any = false;
		v->runnable = false;
		for (unsigned i = 0; i < d->nr_vcpus; i++)
			any |= d->vcpus[i]->runnable;
		pr_info("d%uv%u: HLT with interrupts off: vCPU offline%s\n", d->id, v->id,
			any ? "" : ", no vCPU left: domain powered off");
		if (!any)
			domain_shutdown(d, SHUTDOWN_poweroff);
		return EXIT_STOP;
	}
	evtchn_hlt(v);
	return EXIT_ADVANCE; /* the run loop sees `blocked` and returns */
}

static enum exit_action handle_npf(struct vcpu *v, struct vm_exit *e)
{
	enum exit_action action;
	char why[128];

	/* Emulated MMIO (e.g. dom0's ECAM window) is absent from the p2m
	 * on purpose; its faults are accesses to carry out. */
	if (mmio_handle(v, e, &action))
		return action;
	snprintf(why, sizeof(why), "%s access to %s guest-physical 0x%lx",
		 (e->npf.access & PT_X) ? "execute" : (e->npf.access & PT_W) ? "write" : "read",
		 e->npf.present ? "protected" : "unmapped", e->npf.gpa);
	domain_crash(v, why);
	return EXIT_STOP;
}

static bool is_hypercall_insn(const u8 *b)
{
	/* VMCALL 0f 01 c1 (Intel) or VMMCALL 0f 01 d9 (AMD). */
	return b[0] == 0x0f && b[1] == 0x01 && (b[2] == 0xc1 || b[2] == 0xd9);
}

static enum exit_action handle_exception(struct vcpu *v, struct vm_exit *e)
{
	if (e->exc.vector == X86_EXC_UD) {
		/* Xen accepts the other vendor's hypercall instruction, which
		 * raises #UD (Linux picks the instruction from the CPUID
		 * vendor string, which a migrated or confused guest may get
		 * "wrong"). Anything else is the guest's own #UD. */
		u8 insn[3];
		u64 rip = vendor->get_reg(v, VREG_RIP);
		if (copy_from_guest(v, insn, rip, 3) == 0 && is_hypercall_insn(insn)) {
			struct vseg ss;

			/* What the back end fills for EXIT_HYPERCALL. */
			vendor->get_seg(v, VSEG_SS, &ss);
			e->cpl = (ss.attr >> 5) & 3;
			e->insn_len = 3;
			return handle_hypercall(v, e);
		}
		/* Reflect it: the guest's own handler decides (Linux uses
		 * ud2 for BUG/WARN). Say so, a few times per vCPU, so that a
		 * guest dying of it leaves a trace here. */
		if (v->nr_ud_reports < 4) {
			v->nr_ud_reports++;
			pr_info("d%uv%u: #UD at RIP 0x%lx (not a hypercall) reflected to the guest\n",
				v->dom->id, v->id, rip);
		}
		return EXIT_INJECT_UD;
	}
	struct vevent ev = {
		.vector = e->exc.vector,
		.type = VEVENT_EXCEPTION,
		.has_error = e->exc.has_error,
		.error_code = e->exc.error_code,
	};
	vendor->inject(v, &ev);
	return EXIT_RETAIN;
}

static enum exit_action handle_triple_fault(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	domain_crash(v, "triple fault (shutdown)");
	return EXIT_STOP;
}

static enum exit_action handle_interrupt(struct vcpu *v, struct vm_exit *e)
{
	/* The host interrupt was taken (or is held) in the hypervisor, or
	 * the back end's time-slice backstop expired; the guest resumes
	 * where it was, unless the vCPU loop finds its turn is over. */
	(void)v;
	(void)e;
	return EXIT_RETAIN;
}

static enum exit_action handle_virt_insn(struct vcpu *v, struct vm_exit *e)
{
	/* Instructions of features CPUID hides: Keel does not offer nested
	 * virtualization (the virtualization extensions) nor MONITOR/MWAIT
	 * (kernel/cpuid.c), and their instructions raise #UD as on a CPU
	 * without them (Xen does the same for MONITOR/MWAIT in HVM guests). */
	(void)v;
	(void)e;
	return EXIT_INJECT_UD;
}

static enum exit_action handle_cr_access(struct vcpu *v, struct vm_exit *e)
{
	static const enum vreg crs[] = { [0] = VREG_CR0, [3] = VREG_CR3, [4] = VREG_CR4 };
	/* CR8 is the back end's (its TPR lives in the VMCB or the virtual-
	 * APIC page): a back end that intercepts a CR8 write has stored the
	 * checked value; only RIP moves here. */
	if (e->cr.cr == 8 && e->cr.write && e->cr.has_val)
		return EXIT_ADVANCE;
	if (e->cr.cr > 4 || (e->cr.cr != 0 && e->cr.cr != 3 && e->cr.cr != 4) ||
	    (e->cr.gpr >= GPR_NR && !(e->cr.write && e->cr.has_val))) {
		domain_crash(v, "unsupported control-register access");
		return EXIT_STOP;
	}
	/* Vendor code has refused (#GP) what the CPU would refuse; what
	 * arrives here is a value the guest may have. */
	if (e->cr.write && e->cr.has_val)
		vendor->set_reg(v, crs[e->cr.cr], e->cr.val);
	else if (e->cr.write)
		vendor->set_reg(v, crs[e->cr.cr], e->cr.gpr == GPR_RSP ? vendor->get_reg(v, VREG_RSP)
									 : v->arch.gprs[e->cr.gpr]);
	else if (e->cr.gpr == GPR_RSP)
		vendor->set_reg(v, VREG_RSP, vendor->get_reg(v, crs[e->cr.cr]));
	else
		v->arch.gprs[e->cr.gpr] = vendor->get_reg(v, crs[e->cr.cr]);
	return EXIT_ADVANCE;
}

static enum exit_action handle_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	/* XSETBV (SDM vol. 2): #UD unless CR4.OSXSAVE, #GP(0) outside CPL 0
	 * (both normally raised before the exit, checked again as the
	 * guest's word is not the hardware's); XCR index in ECX, value in
	 * EDX:EAX. The value rules and the switch: asm/fpu.h. */
	struct vseg ss;
	u64 *g = v->arch.gprs;
	(void)e;

	if (!(vendor->get_reg(v, VREG_CR4) & CR4_OSXSAVE))
		return EXIT_INJECT_UD;
	vendor->get_seg(v, VSEG_SS, &ss);
	if ((vendor->get_reg(v, VREG_CR0) & CR0_PE) &&
	    (((ss.attr >> 5) & 3) != 0 || (vendor->get_reg(v, VREG_RFLAGS) & RFLAGS_VM)))
		return EXIT_INJECT_GP;
	if (fpu_xsetbv(v, (u32)g[GPR_RCX], ((g[GPR_RDX] & 0xffffffffULL) << 32) |
					     (g[GPR_RAX] & 0xffffffffULL)))
		return EXIT_INJECT_GP;
	return EXIT_ADVANCE;
}

static enum exit_action handle_cache_flush(struct vcpu *v, struct vm_exit *e)
{
	/* INVD/WBINVD: both back ends make them exit (a native WBINVD loop
	 * would stall every domain; INVD would discard the host's dirty
	 * lines). The guest's caches are the host's and DMA is coherent;
	 * flushing them on its behalf would only cost time. Treat both as
	 * no-ops; the exit counters show how often a guest asked. */
	(void)v;
	(void)e;
	return EXIT_ADVANCE;
}

static enum exit_action handle_entry_failed(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	vendor->dump(v);
	domain_crash(v, "VM entry failed (guest state or controls; details above)");
	return EXIT_STOP;
}

static const struct exit_handler exit_table[EXIT_NR] = {
	[EXIT_CPUID] = { handle_cpuid },
	[EXIT_HLT] = { handle_hlt },
	[EXIT_IO] = { handle_io },
	[EXIT_MSR_READ] = { handle_msr_read },
	[EXIT_MSR_WRITE] = { handle_msr_write },
	[EXIT_HYPERCALL] = { handle_hypercall },
	[EXIT_NPF] = { handle_npf },
	[EXIT_EXCEPTION] = { handle_exception },
	[EXIT_TRIPLE_FAULT] = { handle_triple_fault },
	[EXIT_EXTINT] = { handle_interrupt },
	[EXIT_NMI] = { handle_interrupt },
	[EXIT_INTR_WINDOW] = { handle_interrupt },
	[EXIT_NMI_WINDOW] = { handle_interrupt },
	[EXIT_PREEMPT] = { handle_interrupt },
	[EXIT_VIRT_INSN] = { handle_virt_insn },
	[EXIT_CR_ACCESS] = { handle_cr_access },
	[EXIT_XSETBV] = { handle_xsetbv },
	[EXIT_CACHE_FLUSH] = { handle_cache_flush },
	[EXIT_ENTRY_FAILED] = { handle_entry_failed },
	/* EXIT_NONE and EXIT_UNKNOWN have no handler on purpose. */
};

/* Out of line: its report buffer would otherwise give every exit's
 * dispatch a stack frame (about 12 instructions). */
static __attribute__((noinline, cold)) enum exit_action exit_unhandled(struct vcpu *v,
									 struct vm_exit *e)
{
	char why[96];

	snprintf(why, sizeof(why), "unhandled exit %s (vendor code 0x%lx, info 0x%lx)",
		 exit_reason_name(e->reason), e->raw, e->qual);
	domain_crash(v, why);
	return EXIT_STOP;
}

enum exit_action exit_dispatch(struct vcpu *v, struct vm_exit *e)
{
	if ((unsigned)e->reason >= EXIT_NR || !exit_table[e->reason].handle)
		return exit_unhandled(v, e);
	return exit_table[e->reason].handle(v, e);
}
