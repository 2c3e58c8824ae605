/* Per-vCPU and per-domain architectural state: what both back ends share,
 * and room for each one's own. */
#ifndef ASM_VCPU_ARCH_H
#define ASM_VCPU_ARCH_H

#include <lib/types.h>
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

/*
 * The back end's own state, opaque to everything outside arch/x86/svm/
 * and arch/x86/vmx/. Each back end lays its struct over these bytes
 * through one accessor (vcpu_svm()/domain_svm() in svm/svm.h,
 * vmx_vcpu()/domain_vmx() in vmx/vmx.h) that checks at build time that
 * the struct fits. In place rather than allocated: Keel has no
 * small-object allocator, and the vCPU (one frame) and the domain (the
 * domain table) have the room. Zeroed when the vCPU or domain is created;
 * the back end initialises it in vcpu_init()/domain_init().
 */
#define VCPU_VENDOR_BYTES 256
#define DOMAIN_VENDOR_BYTES 32

struct vcpu_vendor_state {
	u64 opaque[VCPU_VENDOR_BYTES / 8];
};

struct domain_vendor_state {
	u64 opaque[DOMAIN_VENDOR_BYTES / 8];
};

struct vcpu_arch {
	u64 gprs[GPR_NR];
	void *vmcx;       /* the VMCB or VMCS */
	paddr_t vmcx_pa;
	struct guest_debugregs debugregs; /* while not in the registers */
	void *fpu_area;   /* FXSAVE/XSAVE image, one frame (asm/fpu.h) */
	u64 xcr0;         /* the guest's XCR0 (loaded only while it runs) */
	u64 spec_ctrl;    /* the guest's IA32_SPEC_CTRL (asm/spec.h) */
	struct vcpu_vendor_state vendor;
	/* The guest's IA32_TSC_AUX (what RDTSCP/RDPID return), when the
	 * back end keeps it here: SVM (kernel/msr.c, svm/run.c); VMX passes
	 * the MSR through and switches it itself (vmx/msr.c). 0 at reset. */
	u64 tsc_aux;
};

struct domain_arch {
	struct pt p2m;    /* guest-physical -> host-physical (NPT or EPT) */
	u32 tag;          /* ASID (SVM) or VPID (VMX) */
	u64 spec_gen;     /* arch/x86/spec.c: tells domains apart for IBPB */
	struct domain_vendor_state vendor;
};

#endif
