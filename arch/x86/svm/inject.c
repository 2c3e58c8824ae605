/*
 * Getting events into the guest: EVENTINJ (AMD APM vol. 2, 15.20), the
 * virtual interrupt used as an interrupt-window detector (15.21), and the
 * re-injection of events whose delivery a #VMEXIT interrupted
 * (EXITINTINFO, 15.7.2).
 */
#include <keel/printk.h>
#include <asm/cpu.h>
#include "svm.h"

void svm_inject(struct vcpu *v, const struct vevent *e)
{
	struct vmcb *vmcb = vcpu_vmcb(v);
	u64 ev = e->vector | EVENTINJ_V;

	switch (e->type) {
	case VEVENT_EXTINT:
		ev |= EVENTINJ_TYPE_INTR;
		break;
	case VEVENT_NMI:
		/* Type 2 ignores the vector; 2 keeps dumps readable. */
		ev = X86_EXC_NMI | EVENTINJ_V | EVENTINJ_TYPE_NMI;
		break;
	case VEVENT_EXCEPTION:
		ev |= EVENTINJ_TYPE_EXCEPTION;
		if (e->has_error)
			ev |= EVENTINJ_EV | ((u64)e->error_code << EVENTINJ_ERRORCODE_SHIFT);
		break;
	case VEVENT_SOFTINT:
		/* The return address pushed is the VMCB RIP, or nRIP on CPUs
		 * with NRIP save; make them agree, so the caller's RIP (after
		 * the INTn) is what the guest's IRET returns to. */
		ev |= EVENTINJ_TYPE_SOFT_INT;
		vmcb->control.nrip = vmcb->save.rip;
		break;
	default:
		pr_err("SVM: d%uv%u: event type %u not injectable\n", v->dom->id, v->id, e->type);
		return;
	}
	/* One event per entry. A queued one is replaced: the kernel only
	 * injects interrupts after intr_open(), which is false while one is
	 * queued, and an exception from a handler supersedes an interrupted
	 * delivery the same way a fault during delivery does on hardware. */
	if (vmcb->control.eventinj & EVENTINJ_V)
		pr_debug("SVM: d%uv%u: event 0x%lx replaces queued 0x%lx\n", v->dom->id, v->id,
			 ev, vmcb->control.eventinj);
	vmcb->control.eventinj = ev;
	vcpu_svm(v)->entry_clean = false; /* VMRUN checks EVENTINJ (run.c) */
}

/*
 * The guest takes an external interrupt when RFLAGS.IF is set and no
 * interrupt shadow (after STI or MOV SS) is active. The guest's GIF is
 * always 1 (Keel offers no nested SVM), and with V_INTR_MASKING the
 * guest's IF masks only virtual interrupts, which is what we inject.
 */
bool svm_intr_open(struct vcpu *v)
{
	const struct vmcb *vmcb = vcpu_vmcb(v);

	return (vmcb->save.rflags & RFLAGS_IF) &&
	       !(vmcb->control.interrupt_shadow & INTERRUPT_SHADOW) &&
	       !(vmcb->control.eventinj & EVENTINJ_V);
}

/*
 * The interrupt window (APM 15.21): pretend a virtual interrupt is
 * pending (V_IRQ) and intercept its acceptance (VINTR). The #VMEXIT comes
 * exactly when the guest could take an interrupt: IF set, no shadow.
 * V_IGN_TPR makes the guest's TPR irrelevant, since the event we will
 * inject is not a LAPIC interrupt. The window is one-shot:
 * svm_events_after_exit() lowers it when it fires, so a kernel that no
 * longer needs it pays no further exits.
 */
/* intercept_cr bit 16 + 8: MOV to CR8. */
#define INTERCEPT_CR8_WRITE (1u << 24)

static void intr_window(struct vmcb *vmcb, bool on)
{
	u64 vintr = vmcb->control.v_intr;

	vintr &= ~(V_IRQ | V_IGN_TPR | (0xfULL << V_INTR_PRIO_SHIFT) |
		   (0xffULL << V_INTR_VECTOR_SHIFT));
	/* CR8 writes exit while V_IRQ is set: QEMU 7.2's TCG, on a guest
	 * MOV to CR8 with a virtual interrupt pending, raises it without
	 * the lock its interrupt code asserts, and aborts the whole
	 * emulator (tcg_handle_interrupt: qemu_mutex_iothread_locked()).
	 * Intercepted, the write never reaches that path (cr.c stores it). */
	if (on) {
		vintr |= V_IRQ | V_IGN_TPR | (0xfULL << V_INTR_PRIO_SHIFT);
		vmcb->control.intercept_misc1 |= INTERCEPT_VINTR;
		vmcb->control.intercept_cr |= INTERCEPT_CR8_WRITE;
	} else {
		vmcb->control.intercept_misc1 &= ~INTERCEPT_VINTR;
		vmcb->control.intercept_cr &= ~INTERCEPT_CR8_WRITE;
	}
	vmcb->control.v_intr = vintr;
}

void svm_want_intr_window(struct vcpu *v, bool on)
{
	intr_window(vcpu_vmcb(v), on);
}

/*
 * With V_INTR_MASKING the guest's CR8 is V_TPR (APM 15.21.4), so its
 * task priority is in the VMCB without an exit.
 */
u8 svm_get_tpr(struct vcpu *v)
{
	return vcpu_vmcb(v)->control.v_intr & 0xf; /* CR8 = V_TPR[3:0] */
}

/* A write to the virtual LAPIC's TPR: V_TPR holds its class (CR8). */
void svm_set_tpr(struct vcpu *v, u8 tpr)
{
	struct vmcb *vmcb = vcpu_vmcb(v);

	vmcb->control.v_intr = (vmcb->control.v_intr & ~0xfULL) | (tpr >> 4);
}

/*
 * The TPR window: the guest's next MOV to CR8 exits (as Xen does for a
 * TPR-blocked interrupt, svm_intr_assist), cr.c stores the new V_TPR and
 * the kernel looks again. A V_IRQ-based window (V_INTR_PRIO against
 * V_TPR, APM 15.21.4) would avoid the exit, but QEMU's TCG compares with
 * >= where the APM has >, and aborts on CR8 writes while V_IRQ is set
 * (intr_window()). The two windows are exclusive: the kernel arms one or
 * the other.
 */
void svm_want_tpr_window(struct vcpu *v, u8 prio)
{
	struct vmcb *vmcb = vcpu_vmcb(v);

	intr_window(vmcb, false);
	if (prio)
		vmcb->control.intercept_cr |= INTERCEPT_CR8_WRITE;
}

/*
 * After a #VMEXIT, EVENTINJ is spent: either the event was delivered, or
 * its delivery was cut short by the exit, and then EXITINTINFO holds it
 * (APM 15.7.2) and it must be delivered again on the next entry, or the
 * guest loses it (e.g. an interrupt whose delivery hit a nested page
 * fault on the guest's IDT or stack). `injected` is what EVENTINJ held at
 * entry.
 *
 * The guest's own INTn, INT3 and INTO are the exception: when their
 * delivery is interrupted, RIP still points at the instruction, which
 * raises them again when it re-executes, so they are not re-injected.
 * An INTn the kernel injected (RIP already past it) is re-injected.
 */
void svm_events_after_exit(struct vmcb *vmcb, u64 injected)
{
	const u64 what = EVENTINJ_VECTOR_MASK | EVENTINJ_TYPE_MASK | EVENTINJ_V;
	u64 info = vmcb->control.exitintinfo;
	u64 type = info & EVENTINJ_TYPE_MASK;
	u8 vector = info & EVENTINJ_VECTOR_MASK;
	bool ours = (injected & EVENTINJ_V) && (injected & what) == (info & what);

	vmcb->control.eventinj = 0;
	if (vmcb->control.exitcode == VMEXIT_VINTR)
		intr_window(vmcb, false);

	if (!(info & EVENTINJ_V))
		return;
	if (!ours && type == EVENTINJ_TYPE_SOFT_INT)
		return;
	if (!ours && type == EVENTINJ_TYPE_EXCEPTION &&
	    (vector == X86_EXC_BP || vector == X86_EXC_OF))
		return;
	/* Same format; keep vector, type, EV, error code; clear reserved. */
	vmcb->control.eventinj = info & (what | EVENTINJ_EV |
					 (0xffffffffULL << EVENTINJ_ERRORCODE_SHIFT));
	if (type == EVENTINJ_TYPE_SOFT_INT)
		vmcb->control.nrip = vmcb->save.rip; /* as svm_inject() */
}
