/*
 * One trip into the guest: everything the VMCB must say before VMRUN,
 * the VMRUN stub (svm_run.asm), the host's interrupt window after the
 * #VMEXIT, and the decoding of the exit (exit.c).
 *
 * Host interrupts: Keel runs with RFLAGS.IF=0. The stub brackets the
 * world switch with CLGI/STGI (GIF=0, APM 15.17), so that no NMI or SMI
 * arrives while TR and the segment bases are the guest's. VMRUN records
 * the host's IF and, with V_INTR_MASKING, that host IF is what masks
 * physical interrupts while the guest runs (APM 15.21). The stub sets IF
 * just before VMRUN (HOST_IRQ_EXITS in svm_run.asm): GIF=0 still holds
 * interrupts until the guest runs, the guest then exits on them (INTR is
 * intercepted: EXIT_EXTINT), and svm_run() lets the pending interrupt in
 * (host_interrupt_window(): the host's timer handler runs then), or the
 * next VMRUN would exit at once. That is how the scheduler's timer
 * preempts a spinning guest. NMIs and SMIs also cause exits and are taken
 * by the host at STGI.
 */
#include <asm/cpu.h>
#include <asm/spec.h>
#include "svm.h"

/*
 * DR0-3 are neither switched by VMRUN nor intercepted (the guest may use
 * breakpoints freely); DR6 and DR7 are in the VMCB. asm/debugreg.h swaps
 * DR0-3 lazily between vCPUs, so a guest neither sees nor triggers
 * another's breakpoints.
 */

/*
 * The guest state VMRUN loads and checks. A refused VMRUN should leave it
 * alone, but QEMU 7.2 TCG writes the host's values over it (it saves the
 * CPU's current state as if the guest had run), which would make the
 * crash report and svm_vmcb_check() describe the host. The copy (about
 * 58 instructions) is put back only after a refusal.
 *
 * It is skipped when nothing VMRUN checks changed since the last entry
 * succeeded (svm_vcpu.entry_clean): the save area is then what #VMEXIT
 * stored but for RIP and RAX, which no consistency check covers (APM
 * vol. 2 15.5.1), and no event is queued, so the entry cannot be refused
 * for the guest state. That is the fast path of the common exits (CPUID,
 * hypercalls, port I/O, MSR reads): only RIP moves. Every other writer of
 * the save area (svm_set_reg but RIP, svm_set_seg) and svm_inject clear
 * the flag; a new VMCB starts without it.
 */
struct entry_state {
	struct vmcb_seg es, cs, ss, ds, gdtr, idtr;
	u64 efer, cr0, cr2, cr3, cr4, dr6, dr7, rflags, rip, rsp;
	u8 cpl;
};

static void entry_state_save(struct entry_state *e, const struct vmcb_save *s)
{
	e->es = s->es, e->cs = s->cs, e->ss = s->ss, e->ds = s->ds;
	e->gdtr = s->gdtr, e->idtr = s->idtr;
	e->efer = s->efer, e->cr0 = s->cr0, e->cr2 = s->cr2, e->cr3 = s->cr3;
	e->cr4 = s->cr4, e->dr6 = s->dr6, e->dr7 = s->dr7;
	e->rflags = s->rflags, e->rip = s->rip, e->rsp = s->rsp, e->cpl = s->cpl;
}

static void entry_state_restore(const struct entry_state *e, struct vmcb_save *s)
{
	s->es = e->es, s->cs = e->cs, s->ss = e->ss, s->ds = e->ds;
	s->gdtr = e->gdtr, s->idtr = e->idtr;
	s->efer = e->efer, s->cr0 = e->cr0, s->cr2 = e->cr2, s->cr3 = e->cr3;
	s->cr4 = e->cr4, s->dr6 = e->dr6, s->dr7 = e->dr7;
	s->rflags = e->rflags, s->rip = e->rip, s->rsp = e->rsp, s->cpl = e->cpl;
}

/*
 * The host's interrupt window between #VMEXIT and the next VMRUN. An INTR
 * intercept exits before the guest acknowledges the physical interrupt,
 * so it stays pending in the local APIC (APM vol. 2 15.13.1, "INTR
 * Intercept"). Once the stub has executed STGI, the only thing holding it
 * is the host's RFLAGS.IF, which Keel keeps clear (15.17, "Global
 * Interrupt Flag": with GIF set, interrupts are taken subject to IF).
 * Opening IF for one instruction lets it in here, between the exit and
 * the re-entry: its handler (the scheduler's tick, a device's pirq) runs
 * now. Left pending, it would end the next VMRUN at once, forever. The
 * VMX back end does the same without "acknowledge interrupt on exit"
 * (vmx/exit.c). Not in exit.c, which only decodes (and which the host
 * unit tests run in user mode, where STI faults).
 */
static void host_interrupt_window(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

/*
 * IA32_TSC_AUX is not in the VMCB (outside SEV-ES) and RDTSCP/RDPID read
 * it directly in the guest, so the register must hold the running
 * vCPU's value; guest writes are intercepted (kernel/msr.c keeps it in
 * vcpu->arch.tsc_aux). The hypervisor itself never uses it, so it is
 * written only when it differs from what this CPU last loaded. Per-CPU
 * state; one CPU for now, reached as spec.c's is.
 */
struct tsc_aux_percpu {
	bool loaded;
	u64 value;
};

static struct tsc_aux_percpu tsc_aux_cpu0;

static void tsc_aux_switch_to(const struct vcpu *v)
{
	struct tsc_aux_percpu *c = &tsc_aux_cpu0;

	if (!svm_caps.tsc_aux || (c->loaded && c->value == v->arch.tsc_aux))
		return;
	wrmsr(MSR_TSC_AUX, v->arch.tsc_aux);
	c->loaded = true;
	c->value = v->arch.tsc_aux;
}

/* What the VMCB must say before every VMRUN; returns EVENTINJ as queued,
 * for svm_events_after_exit. */
static inline u64 entry_prepare(struct vcpu *v, struct vmcb *vmcb)
{
	struct domain *d = v->dom;

	svm_asid_prepare(v, vmcb);
	vmcb->control.n_cr3 = d->arch.p2m.root;
	vmcb->control.iopm_base_pa = svm_iopm_pa(d);
	/* Keel writes VMCB fields freely between entries, so nothing is
	 * declared clean: the CPU reloads everything (APM 15.15). On CPUs
	 * without clean bits the field is ignored. */
	vmcb->control.vmcb_clean = 0;
	/* RAX lives in the VMCB for VMRUN; the kernel keeps it in gprs. */
	vmcb->save.rax = v->arch.gprs[GPR_RAX];
	debugregs_switch_to(v, false);
	tsc_aux_switch_to(v);
	/* Guest writes are intercepted (kernel/msr.c), so the field is only
	 * ever written here. */
	if (svm_caps.v_spec_ctrl)
		vmcb->save.spec_ctrl = v->arch.spec_ctrl;
	return vmcb->control.eventinj;
}

/* After a #VMEXIT (not a refusal). */
static inline void exit_done(struct vcpu *v, struct vmcb *vmcb, u64 injected)
{
	v->arch.gprs[GPR_RAX] = vmcb->save.rax;
	if (!(vmcb->control.exitintinfo & EVENTINJ_V) && vmcb->control.exitcode != VMEXIT_VINTR) {
		/* What svm_events_after_exit does when no event was cut
		 * short and no window fired, without the call; then nothing
		 * is queued, and the entry state is clean. */
		vmcb->control.eventinj = 0;
		vcpu_svm(v)->entry_clean = true;
	} else {
		svm_events_after_exit(vmcb, injected);
		/* A re-injected event (EXITINTINFO) must pass VMRUN's check. */
		vcpu_svm(v)->entry_clean = !(vmcb->control.eventinj & EVENTINJ_V);
	}
	if (vmcb->control.exitcode == VMEXIT_INTR)
		host_interrupt_window();
}

/* A VMRUN refused (the caller has put the guest state back if it kept a
 * copy). */
static void entry_refused(struct vcpu *v, struct vmcb *vmcb)
{
	vcpu_svm(v)->entry_clean = false;
	vmcb->save.rax = v->arch.gprs[GPR_RAX];
	svm_asid_entry_failed(vmcb); /* EVENTINJ stays for the dump */
}

/* The entry with the copy of the guest state (entry_clean false), out of
 * line: its 200-byte copy would give every entry a large stack frame. */
static __attribute__((noinline)) void run_with_copy(struct vcpu *v, struct vmcb *vmcb)
{
	struct entry_state entry;
	u64 injected;

	entry_state_save(&entry, &vmcb->save);
	injected = entry_prepare(v, vmcb);
	spec_enter_guest(v); /* last before the stub (asm/spec.h) */
	svm_vmrun(v, svm_cpu.host_vmcb_pa);
	if (vmcb_entry_failed(vmcb)) {
		entry_state_restore(&entry, &vmcb->save);
		entry_refused(v, vmcb);
	} else {
		exit_done(v, vmcb, injected);
	}
}

void svm_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmcb *vmcb = vcpu_vmcb(v);
	u64 injected;

	if (!vcpu_svm(v)->entry_clean) {
		run_with_copy(v, vmcb);
	} else {
		injected = entry_prepare(v, vmcb);
		spec_enter_guest(v); /* last before the stub (asm/spec.h) */
		svm_vmrun(v, svm_cpu.host_vmcb_pa);
		/* Refused with a clean state: for its controls. */
		if (vmcb_entry_failed(vmcb))
			entry_refused(v, vmcb);
		else
			exit_done(v, vmcb, injected);
	}
	svm_exit_decode(v, vmcb, exit);
}
