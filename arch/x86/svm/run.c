/*
 * One trip into the guest: everything the VMCB must say before VMRUN,
 * the VMRUN stub (svm_run.asm), and the decoding of the #VMEXIT.
 *
 * Host interrupts: Keel runs with RFLAGS.IF=0. The stub brackets the
 * world switch with CLGI/STGI (GIF=0, APM 15.17), so that no NMI or SMI
 * arrives while TR and the segment bases are the guest's. VMRUN records
 * the host's IF (0) and, with V_INTR_MASKING, that host IF is what masks
 * physical interrupts while the guest runs (APM 15.21). So physical
 * interrupts stay pending through the guest and the host alike: there is
 * no EXIT_EXTINT, and a guest that never exits keeps the CPU. NMIs and
 * SMIs do cause exits (EXIT_NMI/EXIT_EXTINT) and are taken by the host
 * at STGI. When the host gets interrupt handlers and a timer, the stub
 * must set IF just before VMRUN (HOST_IRQ_EXITS in svm_run.asm): GIF=0
 * still holds interrupts until the guest runs, the guest then exits on
 * them (INTR is intercepted), and the kernel's EXIT_EXTINT handler must
 * let the pending interrupt in, or the next VMRUN exits at once.
 */
#include "svm.h"

/*
 * DR0-3 are neither switched by VMRUN nor intercepted (the guest may use
 * breakpoints freely), so the registers hold the last guest's values.
 * The host uses none; between vCPUs they are swapped here, lazily, so a
 * guest neither sees nor triggers another's breakpoints. DR6 and DR7 are
 * in the VMCB.
 */
#define DR_ACCESS(n)                                                          \
	static inline u64 read_dr##n(void)                                    \
	{                                                                     \
		u64 x;                                                        \
		__asm__ volatile("mov %%dr" #n ", %0" : "=r"(x));             \
		return x;                                                     \
	}                                                                     \
	static inline void write_dr##n(u64 x)                                 \
	{                                                                     \
		__asm__ volatile("mov %0, %%dr" #n ::"r"(x));                 \
	}
DR_ACCESS(0)
DR_ACCESS(1)
DR_ACCESS(2)
DR_ACCESS(3)
#undef DR_ACCESS

static void debug_regs_switch(struct vcpu *v)
{
	struct vcpu *old = svm_cpu.dr_owner;
	u64 *dr;

	if (old == v)
		return;
	if (old) {
		dr = vcpu_svm(old)->dr;
		dr[0] = read_dr0();
		dr[1] = read_dr1();
		dr[2] = read_dr2();
		dr[3] = read_dr3();
	}
	dr = vcpu_svm(v)->dr;
	write_dr0(dr[0]);
	write_dr1(dr[1]);
	write_dr2(dr[2]);
	write_dr3(dr[3]);
	svm_cpu.dr_owner = v;
}

void svm_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmcb *vmcb = vcpu_vmcb(v);
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
	debug_regs_switch(v);

	svm_vmrun(v, svm_cpu.host_vmcb_pa);

	v->arch.gprs[GPR_RAX] = vmcb->save.rax;
	if (vmcb_entry_failed(vmcb))
		svm_asid_entry_failed(vmcb); /* EVENTINJ stays for the dump */
	else
		svm_events_after_exit(vmcb);
	svm_exit_decode(v, vmcb, exit);
}
