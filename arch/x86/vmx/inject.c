/*
 * Event injection (SDM vol. 3 27.6) and the interrupt/NMI windows
 * (26.7.5, 26.7.6).
 *
 * An event reaches the guest through the VM-entry interruption-information
 * field, written just before entry. Three sources, in this order:
 *   1. an event whose delivery a VM exit interrupted (IDT-vectoring
 *      information, 28.2.4): it must be redelivered first (27.6.1);
 *      exceptions the back end raises itself (a refused CR write) use the
 *      same slot, since they replace the instruction that caused the exit;
 *   2. the one event the kernel queued with inject().
 * An external interrupt or NMI the guest cannot take yet stays queued and
 * the matching window exit is armed; when it arrives the back end simply
 * re-enters (vmx_window_exit), without the kernel seeing it.
 */
#include <keel/domain.h>
#include <keel/frame.h>
#include <asm/cpu.h>
#include "vmcs.h"
#include "vmx.h"

#define INTR_INFO_RESERVED 0x7ffff000u /* bits 30:12 of the entry field */

static void update_window_controls(struct vmx_vcpu *p)
{
	u32 ctl = p->proc_ctls & ~(CPU_INTERRUPT_WINDOW_EXITING | CPU_NMI_WINDOW_EXITING);

	if (p->kernel_window || p->own_window)
		ctl |= CPU_INTERRUPT_WINDOW_EXITING;
	if (p->own_nmi_window)
		ctl |= CPU_NMI_WINDOW_EXITING;
	if (ctl != p->proc_ctls) {
		p->proc_ctls = ctl;
		vmwrite(CPU_BASED_VM_EXEC_CONTROL, ctl);
	}
}

void vmx_inject(struct vcpu *v, const struct vevent *e)
{
	struct vmx_vcpu *p = vmx_vcpu(v);

	p->queued = true;
	p->queued_ev = *e;
}

void vmx_queue_exception(struct vcpu *v, u8 vector, bool has_error, u32 code)
{
	struct vmx_vcpu *p = vmx_vcpu(v);

	p->reinject = true;
	p->reinject_info = vector | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) |
			   (has_error ? INTR_INFO_DELIVER_CODE : 0) | INTR_INFO_VALID;
	p->reinject_error = code;
	p->reinject_len = 0;
}

bool vmx_intr_open(struct vcpu *v)
{
	struct vmx_vcpu *p = vmx_vcpu(v);

	vmcs_load(v);
	if (p->queued || p->reinject)
		return false;
	if (!(vmread(GUEST_RFLAGS) & RFLAGS_IF))
		return false;
	return !(vmread(GUEST_INTERRUPTIBILITY_INFO) &
		 (INTR_BLOCKING_BY_STI | INTR_BLOCKING_BY_MOV_SS));
}

/* With the TPR shadow the guest's CR8 is VTPR[7:4], byte 0x80 of its
 * virtual-APIC page (SDM 30.1.1): readable without an exit. */
u8 vmx_get_tpr(struct vcpu *v)
{
	return ((const volatile u8 *)phys_to_virt(vmx_vcpu(v)->vapic))[0x80] >> 4;
}

/*
 * The TPR window: a TPR threshold (26.6.1). A MOV to CR8 that takes
 * VTPR[7:4] below it exits "TPR below threshold" (trap-like, 30.1.2).
 * VM entry requires threshold <= VTPR[7:4] (27.2.1.1 with TPR shadow and
 * no virtual-interrupt delivery): the kernel asks only while the TPR
 * masks (VTPR[7:4] >= prio), and cancels before any entry where it does
 * not. The exit clears it again (vmx_tpr_below_threshold).
 */
void vmx_want_tpr_window(struct vcpu *v, u8 prio)
{
	vmcs_load(v);
	vmwrite(TPR_THRESHOLD, prio & 0xf);
}

/* A write to the virtual LAPIC's TPR: the VTPR byte holds all 8 bits
 * (CR8 reads bits 7:4). A threshold above the new class would fail the
 * entry check (27.2.1.1): the drop it waited for has happened, so it is
 * cleared, and the kernel looks again before the entry. */
void vmx_set_tpr(struct vcpu *v, u8 tpr)
{
	vmcs_load(v);
	((volatile u8 *)phys_to_virt(vmx_vcpu(v)->vapic))[0x80] = tpr;
	if (vmread(TPR_THRESHOLD) > (u64)(tpr >> 4))
		vmwrite(TPR_THRESHOLD, 0);
}

bool vmx_tpr_below_threshold(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	vmcs_load(v);
	vmwrite(TPR_THRESHOLD, 0);
	return false; /* the kernel sees EXIT_INTR_WINDOW and delivers */
}

/* One-shot: the exit clears it again (vmx_window_exit). */
void vmx_want_intr_window(struct vcpu *v, bool on)
{
	struct vmx_vcpu *p = vmx_vcpu(v);

	vmcs_load(v);
	p->kernel_window = on;
	update_window_controls(p);
}

/*
 * 27.2.1.3: "deliver error code" must be set exactly for the exceptions
 * that push one (#DF, #TS, #NP, #SS, #GP, #PF, #AC), and only when the
 * guest is in protected mode (CR0.PE, with unrestricted guest). The kernel
 * says what it means; the CPU's rule decides.
 */
static bool exception_has_error(u8 vector)
{
	switch (vector) {
	case X86_EXC_DF: case X86_EXC_TS: case X86_EXC_NP: case X86_EXC_SS:
	case X86_EXC_GP: case X86_EXC_PF: case X86_EXC_AC:
		return vmread(GUEST_CR0) & CR0_PE;
	default:
		return false;
	}
}

static void write_event(u32 info, u32 error, u32 len)
{
	vmwrite(VM_ENTRY_INTR_INFO, info & ~INTR_INFO_RESERVED);
	if (info & INTR_INFO_DELIVER_CODE)
		vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	vmwrite(VM_ENTRY_INSTRUCTION_LEN, len);
}

void vmx_inject_pending(struct vcpu *v)
{
	struct vmx_vcpu *p = vmx_vcpu(v);

	if (p->reinject) {
		p->reinject = false;
		write_event(p->reinject_info, p->reinject_error, p->reinject_len);
		/* A queued event waits for the next exit; make sure there is
		 * one as soon as the guest can take it. */
		if (p->queued) {
			p->own_window = true;
			update_window_controls(p);
		}
		return;
	}
	if (!p->queued)
		return;

	const struct vevent *e = &p->queued_ev;
	u32 intr = (u32)vmread(GUEST_INTERRUPTIBILITY_INFO);
	bool shadow = intr & (INTR_BLOCKING_BY_STI | INTR_BLOCKING_BY_MOV_SS);
	u32 info = e->vector | INTR_INFO_VALID, len = 0;

	switch (e->type) {
	case VEVENT_SOFTINT:
		/*
		 * A software interrupt pushes RIP + instruction length. The
		 * contract has no length: the return address is RIP, as
		 * with SVM's EVENTINJ. With zero-length injection (MISC bit
		 * 30) that is type 4; otherwise deliver it like an external
		 * interrupt (no DPL check, same frame).
		 */
		if (vmx.caps.misc & VMX_MISC_ZERO_LEN_INJECT) {
			info |= INTR_TYPE_SW_INTR << INTR_INFO_TYPE_SHIFT;
			break;
		}
		/* fall through */
	case VEVENT_EXTINT:
		/* 27.3.1.5: an external interrupt needs IF = 1 and no
		 * STI/MOV-SS shadow. */
		if (shadow || !(vmread(GUEST_RFLAGS) & RFLAGS_IF)) {
			p->own_window = true;
			update_window_controls(p);
			return;
		}
		info |= INTR_TYPE_EXT_INTR << INTR_INFO_TYPE_SHIFT;
		break;
	case VEVENT_NMI:
		/* Not while blocked by MOV SS/STI (27.3.1.5) nor, with
		 * virtual NMIs, while the guest is handling an NMI. */
		if (shadow || (vmx.vnmi && (intr & INTR_BLOCKING_BY_NMI))) {
			if (vmx.nmi_window)
				p->own_nmi_window = true;
			else
				p->own_window = true;
			update_window_controls(p);
			return;
		}
		info = X86_EXC_NMI | (INTR_TYPE_NMI << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
		break;
	case VEVENT_EXCEPTION:
	default:
		info |= INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT;
		if (exception_has_error(e->vector))
			info |= INTR_INFO_DELIVER_CODE;
		break;
	}
	p->queued = false;
	write_event(info, e->error_code, len);
}

void vmx_save_vectoring(struct vcpu *v)
{
	struct vmx_vcpu *p = vmx_vcpu(v);
	u32 info = (u32)vmread(IDT_VECTORING_INFO);

	if (!(info & INTR_INFO_VALID))
		return;
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	p->reinject = true;
	p->reinject_info = info & ~INTR_INFO_RESERVED;
	p->reinject_error = (info & INTR_INFO_DELIVER_CODE)
				    ? (u32)vmread(IDT_VECTORING_ERROR_CODE) : 0;
	/* Software interrupts and exceptions are redelivered with the
	 * length of their instruction (27.6.1). */
	p->reinject_len = (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION ||
			   type == INTR_TYPE_PRIV_SW_EXCEPTION)
				  ? (u32)vmread(VM_EXIT_INSTRUCTION_LEN) : 0;
}

bool vmx_window_exit(struct vcpu *v, bool nmi)
{
	struct vmx_vcpu *p = vmx_vcpu(v);
	bool kernel = !nmi && p->kernel_window;

	if (nmi)
		p->own_nmi_window = false;
	else
		p->own_window = p->kernel_window = false;
	update_window_controls(p);
	return !kernel;
}
