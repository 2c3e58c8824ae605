/* Per-vCPU architectural state shared by both back ends. */
#ifndef ASM_VCPU_ARCH_H
#define ASM_VCPU_ARCH_H

#include <keel/types.h>
#include <asm/debugreg.h>
#include <asm/paging.h>

/*
 * Guest general-purpose registers in the order of the x86 register number
 * (RAX=0 ... R15=15), so an instruction's ModRM register field indexes it.
 * The RSP slot is unused: RSP lives in the VMCB/VMCS. The VMRUN/VMRESUME
 * stubs save and load this array; offsets come from asm-offsets.
 */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_NR
};

struct vcpu_arch {
	u64 gprs[GPR_NR];
	void *vmcx;       /* the VMCB or VMCS (vendor-private) */
	paddr_t vmcx_pa;
	void *priv;       /* further vendor-private state */
	bool launched;    /* VMX: VMLAUNCH done; SVM: unused */
	struct guest_debugregs debugregs; /* while not in the registers */
	void *fpu_area;   /* FXSAVE/XSAVE image, one frame (asm/fpu.h) */
	u64 xcr0;         /* the guest's XCR0 (loaded only while it runs) */
	u64 spec_ctrl;    /* the guest's IA32_SPEC_CTRL (asm/spec.h) */
	/* The guest's IA32_TSC_AUX (what RDTSCP/RDPID return), when the
	 * back end keeps it here: SVM (kernel/msr.c, svm/run.c); VMX passes
	 * the MSR through and switches it itself (vmx/msr.c). 0 at reset. */
	u64 tsc_aux;
};

struct domain_arch {
	struct pt p2m;    /* guest-physical -> host-physical (NPT or EPT) */
	u32 tag;          /* ASID (SVM) or VPID (VMX) */
	u64 spec_gen;     /* arch/x86/spec.c: tells domains apart for IBPB */
};

#endif
