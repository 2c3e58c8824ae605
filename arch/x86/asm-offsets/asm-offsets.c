/*
 * Structure offsets for assembly. The Makefile compiles this to assembly
 * and turns each "->NAME value" marker into "%define NAME value" in
 * build/include/asm-offsets.h, so nasm files never hand-copy an offset.
 */
#include <stddef.h>
#include <keel/domain.h>
#include <asm/spec.h>
#include "../vmx/vmcs.h"
#include "../vmx/vmx.h"

#define DEFINE(sym, val) __asm__ volatile("\n.ascii \"->" #sym " %0\"" ::"i"(val))
#define GPR_OFF(r) (offsetof(struct vcpu, arch.gprs) + 8 * (r))

void asm_offsets(void);
void asm_offsets(void)
{
	DEFINE(VCPU_RAX, GPR_OFF(GPR_RAX));
	DEFINE(VCPU_RCX, GPR_OFF(GPR_RCX));
	DEFINE(VCPU_RDX, GPR_OFF(GPR_RDX));
	DEFINE(VCPU_RBX, GPR_OFF(GPR_RBX));
	DEFINE(VCPU_RBP, GPR_OFF(GPR_RBP));
	DEFINE(VCPU_RSI, GPR_OFF(GPR_RSI));
	DEFINE(VCPU_RDI, GPR_OFF(GPR_RDI));
	DEFINE(VCPU_R8, GPR_OFF(GPR_R8));
	DEFINE(VCPU_R9, GPR_OFF(GPR_R9));
	DEFINE(VCPU_R10, GPR_OFF(GPR_R10));
	DEFINE(VCPU_R11, GPR_OFF(GPR_R11));
	DEFINE(VCPU_R12, GPR_OFF(GPR_R12));
	DEFINE(VCPU_R13, GPR_OFF(GPR_R13));
	DEFINE(VCPU_R14, GPR_OFF(GPR_R14));
	DEFINE(VCPU_R15, GPR_OFF(GPR_R15));
	DEFINE(VCPU_VMCX_PA, offsetof(struct vcpu, arch.vmcx_pa));
	/* VMX's own per-vCPU state, inside the vCPU (vmx/vmx.h). */
	DEFINE(VCPU_VMX_LAUNCHED, offsetof(struct vcpu, arch.vendor) + offsetof(struct vmx_vcpu, launched));
	DEFINE(VCPU_SPEC_CTRL, offsetof(struct vcpu, arch.spec_ctrl));
	/* asm/spec.inc */
	DEFINE(SPEC_ASM_CTRL_SWAP, SPEC_ASM_CTRL_SWAP);
	DEFINE(SPEC_ASM_CTRL_ALWAYS, SPEC_ASM_CTRL_ALWAYS);
	DEFINE(SPEC_ASM_RSB_FILL, SPEC_ASM_RSB_FILL);
	DEFINE(SPEC_ASM_VERW, SPEC_ASM_VERW);
	DEFINE(MSR_IA32_SPEC_CTRL, MSR_IA32_SPEC_CTRL);
	/* VMCS field encoding the VMX entry stub writes (vmx/vmx_run.asm). */
	DEFINE(VMCS_HOST_RSP, HOST_RSP);
}
