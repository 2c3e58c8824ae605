/*
 * The virtual local APIC's machinery (docs/lapic.md; the rules are in
 * vlapic_regs.c, the accesses in vlapic_access.c, the timer in
 * vlapic_timer.c): per-vCPU set-up, the TPR shared with the back end's
 * CR8, interrupt delivery through the vendor's inject path, and IPIs
 * among the domain's vCPUs.
 *
 * Delivery. A vector in IRR whose class is above the PPR's is injected as
 * an external interrupt when the guest can take one (vendor->intr_open);
 * it then moves to ISR until the guest's EOI (SDM 10.8.4). Otherwise the
 * back end is asked for a window: an interrupt window while IF is clear
 * (or an event is queued), a TPR window while the TPR alone holds it back.
 * The event-channel upcall (kernel/evtchn_block.c) uses the same two
 * windows and runs first; the windows are shared, so each side turns off
 * only what it armed and neither cancels the other's (see deliver_window).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/vendor.h>
#include <asm/vintc.h>
#include <asm/vlapic.h>

struct vlapic *vcpu_vlapic(struct vcpu *v)
{
	return &v->arch.vlapic;
}

bool vintc_present(const struct vcpu *v)
{
	return v->arch.vlapic.present;
}

u32 vintc_apic_id(const struct vcpu *v)
{
	return vlapic_id_of(v->id);
}

int vintc_vcpu_init(struct vcpu *v)
{
	if (v->dom->privileged)
		return 0; /* dom0 has no virtual LAPIC (docs/lapic.md) */
	vlapic_reset(&v->arch.vlapic, v->id);
	return vlapic_mmio_init();
}

/* The guest may have changed CR8 without an exit (SVM V_TPR, VMX TPR
 * shadow): a CR8 write sets TPR[7:4] and clears TPR[3:0] (SDM 10.8.6.1),
 * so only a differing class means the TPR moved. */
void vlapic_sync_tpr(struct vcpu *v)
{
	struct vlapic *s = vcpu_vlapic(v);
	u8 cls = vendor->get_tpr(v);

	if (cls != (s->tpr >> 4))
		s->tpr = (u8)(cls << 4);
}

void vlapic_push_tpr(struct vcpu *v)
{
	vendor->set_tpr(v, vcpu_vlapic(v)->tpr);
}

void vlapic_raise(struct vcpu *v, u8 vec, bool level)
{
	struct vlapic *s = vcpu_vlapic(v);

	if (!s->present || !vlapic_hw_enabled(s))
		return;
	if (vlapic_set_irr(s, vec, level))
		vcpu_kick(v); /* wakes it from HLT; it takes the vector next entry */
}

bool vintc_pending(const struct vcpu *v)
{
	const struct vlapic *s = &v->arch.vlapic;

	if (!s->present)
		return false;
	/* CR8 may have moved since the last exit: compare with the live
	 * class, as vintc_deliver would. */
	struct vlapic t = *s;
	u8 cls = vendor->get_tpr((struct vcpu *)v);
	if (cls != (t.tpr >> 4))
		t.tpr = (u8)(cls << 4);
	return vlapic_pending_vector(&t) >= 0;
}

/*
 * The state a start-up IPI leaves (SDM table 9-1 after INIT, then 8.4.4.1
 * for the SIPI's CS:IP): real mode, paging and protection off, CS =
 * vector << 8 with base vector << 12, IP 0, the other segments at 0 with
 * 64 KiB limits, EDX = the processor signature (CPUID.1 EAX).
 */
int vlapic_start_real_mode(struct vcpu *v, u8 vec)
{
	struct vseg code = { .sel = (u16)(vec << 8), .attr = 0x9b, .limit = 0xffff,
			     .base = (u64)vec << 12 };
	struct vseg data = { .sel = 0, .attr = 0x93, .limit = 0xffff, .base = 0 };
	struct vseg ldtr = { .attr = 0x82, .limit = 0xffff };
	struct vseg tr = { .attr = 0x8b, .limit = 0xffff };
	struct vseg table = { .limit = 0xffff };
	struct cpuid_regs r;

	vendor->set_reg(v, VREG_EFER, 0);
	vendor->set_reg(v, VREG_CR4, 0);
	vendor->set_reg(v, VREG_CR3, 0);
	vendor->set_reg(v, VREG_CR0, 0x60000010ULL);
	vendor->set_reg(v, VREG_RFLAGS, 2);
	vendor->set_reg(v, VREG_RIP, 0);
	vendor->set_reg(v, VREG_RSP, 0);
	vendor->set_seg(v, VSEG_CS, &code);
	vendor->set_seg(v, VSEG_DS, &data);
	vendor->set_seg(v, VSEG_ES, &data);
	vendor->set_seg(v, VSEG_SS, &data);
	vendor->set_seg(v, VSEG_FS, &data);
	vendor->set_seg(v, VSEG_GS, &data);
	vendor->set_seg(v, VSEG_LDTR, &ldtr);
	vendor->set_seg(v, VSEG_TR, &tr);
	vendor->set_seg(v, VSEG_GDTR, &table);
	vendor->set_seg(v, VSEG_IDTR, &table);
	for (unsigned i = 0; i < GPR_NR; i++)
		v->arch.gprs[i] = 0;
	cpuid_count(1, 0, &r);
	v->arch.gprs[GPR_RDX] = r.eax;
	return 0;
}

/* ---- IPIs (SDM 10.6.1) ------------------------------------------------------ */

/*
 * INIT and start-up IPIs: INIT puts a vCPU that is not running into
 * wait-for-SIPI; a SIPI starts it in real mode at vector << 12 (CS =
 * vector << 8, IP = 0; SDM 8.4.4.1, 10.6.1). A vCPU already running
 * ignores both (Xen refuses INIT to a running vCPU as well: it would
 * lose its state).
 */
static void ipi_init(struct vcpu *t)
{
	if (t->runnable)
		return;
	/* A vCPU that went offline (HLT with interrupts off) and is started
	 * again must not find its old vectors and timer (SDM 10.4.7.3). */
	vlapic_init_reset(vcpu_vlapic(t), t->id);
	vlapic_push_tpr(t);
	vcpu_vlapic(t)->wait_sipi = true;
}

static void ipi_sipi(struct vcpu *t, u8 vec)
{
	struct vlapic *s = vcpu_vlapic(t);

	if (t->runnable || !s->wait_sipi)
		return;
	s->wait_sipi = false;
	if (vlapic_start_real_mode(t, vec)) {
		domain_crash(t, "cannot start the vCPU in real mode for its start-up IPI");
		return;
	}
	t->runnable = true;
	t->blocked = false;
	pr_info("d%uv%u: started by SIPI at 0x%x (real mode)\n", t->dom->id, t->id,
		(unsigned)vec << 12);
}

static void ipi_one(struct vcpu *src, struct vcpu *t, u32 icr)
{
	u8 vec = VLAPIC_ICR_VECTOR(icr);

	switch (VLAPIC_ICR_MODE(icr)) {
	case VLAPIC_MODE_FIXED:
	case VLAPIC_MODE_LOWEST: /* delivered to every match: see below */
		/* A software-disabled APIC accepts no fixed interrupts
		 * (SDM 10.4.7.2: only INIT, NMI, SMI, SIPI). */
		if (vlapic_sw_enabled(vcpu_vlapic(t)))
			vlapic_raise(t, vec, false);
		break;
	case VLAPIC_MODE_INIT:
		/* INIT level de-assert (level 0, level-triggered) only
		 * synchronised arbitration IDs on old CPUs: nothing to do. */
		if ((icr & VLAPIC_ICR_LEVEL_TRIG) && !(icr & VLAPIC_ICR_LEVEL_ASSERT))
			break;
		ipi_init(t);
		break;
	case VLAPIC_MODE_SIPI:
		ipi_sipi(t, vec);
		break;
	default:
		/* NMI and SMI IPIs are not delivered yet (docs/lapic.md). */
		if (vcpu_vlapic(src)->nr_reports < 8) {
			vcpu_vlapic(src)->nr_reports++;
			pr_info("d%uv%u: IPI delivery mode %u not emulated, dropped\n",
				src->dom->id, src->id, VLAPIC_ICR_MODE(icr));
		}
		break;
	}
}

void vlapic_send_ipi(struct vcpu *v)
{
	struct vlapic *s = vcpu_vlapic(v);
	struct domain *d = v->dom;
	u32 icr = s->icr, sh = VLAPIC_ICR_SHORTHAND(icr);
	u32 dest = vlapic_x2apic_mode(s) ? s->icr2 : s->icr2 >> 24;
	bool logical = icr & VLAPIC_ICR_LOGICAL;
	u32 mode = VLAPIC_ICR_MODE(icr);

	/* A fixed or lowest-priority IPI with vector 0-15 is an illegal
	 * vector: flagged by the sender and not sent (SDM 10.5.3). */
	if ((mode == VLAPIC_MODE_FIXED || mode == VLAPIC_MODE_LOWEST) &&
	    VLAPIC_ICR_VECTOR(icr) < 16) {
		s->esr_pending |= VLAPIC_ESR_SEND_ILLEGAL;
		return;
	}
	/* Lowest priority goes to the first match (the loop stops there):
	 * arbitration among vCPUs is the implementation's choice (SDM
	 * 10.6.2.4; Xen picks one too), and Linux uses fixed. */
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *t = d->vcpus[i];
		bool hit;

		switch (sh) {
		case VLAPIC_SH_SELF:
			hit = t == v;
			break;
		case VLAPIC_SH_ALL:
			hit = true;
			break;
		case VLAPIC_SH_OTHERS:
			hit = t != v;
			break;
		default:
			hit = vlapic_match_dest(vcpu_vlapic(t), dest, logical);
			break;
		}
		if (hit && vcpu_vlapic(t)->present)
			ipi_one(v, t, icr);
		if (hit && mode == VLAPIC_MODE_LOWEST && sh == VLAPIC_SH_NONE)
			break;
	}
}

/* ---- delivery ------------------------------------------------------------------ */

static void intr_window(struct vcpu *v, bool on)
{
	struct vlapic *s = vcpu_vlapic(v);

	if (on) {
		vendor->want_intr_window(v, true);
		s->want_intr = true;
	} else if (s->want_intr) {
		/* The upcall may still want its own window. */
		if (!v->ev.upcall_window)
			vendor->want_intr_window(v, false);
		s->want_intr = false;
	}
}

static void tpr_window(struct vcpu *v, u8 cls)
{
	struct vlapic *s = vcpu_vlapic(v);

	if (cls) {
		/* An upcall interrupt window is armed: on SVM the two are
		 * exclusive and the upcall's must not be lost. Its exit
		 * brings the vCPU back here, and CR8 writes exit while it
		 * is armed (svm/inject.c), so the TPR is seen anyway. */
		if (v->ev.upcall_window)
			return;
		/* The upcall's TPR window (per-vCPU vector) may want a
		 * higher class: asking for the higher one is safe, the
		 * window may fire early (asm/vendor.h). */
		if (v->ev.tpr_window && (v->ev.upcall_vector >> 4) > cls)
			cls = v->ev.upcall_vector >> 4;
		vendor->want_tpr_window(v, cls);
		s->want_tpr = true;
	} else if (s->want_tpr) {
		if (!v->ev.tpr_window)
			vendor->want_tpr_window(v, 0);
		s->want_tpr = false;
	}
}

void vintc_deliver(struct vcpu *v)
{
	struct vlapic *s = vcpu_vlapic(v);
	u8 cls;

	if (!s->present)
		return;
	vlapic_sync_tpr(v);
	/* The common case on every entry: nothing requested. The scans
	 * below (two of IRR, one of ISR: about 150 instructions) would
	 * find nothing; only the windows asked for earlier need closing. */
	int vec = vlapic_irr_empty(s) ? -1 : vlapic_pending_vector(s);
	if (vec < 0) {
		intr_window(v, false);
		if (!vlapic_irr_empty(s) && vlapic_tpr_blocks(s, &cls) &&
		    vendor->get_tpr(v) >= cls)
			tpr_window(v, cls);
		else
			tpr_window(v, 0);
		return;
	}
	tpr_window(v, 0);
	if (!vendor->intr_open(v)) {
		/* IF clear, a shadow, or an event (the upcall) queued for
		 * this entry: come back when the guest can take it. */
		intr_window(v, true);
		return;
	}
	struct vevent ev = { .vector = (u8)vec, .type = VEVENT_EXTINT };
	vendor->inject(v, &ev);
	vlapic_accept(s, (u8)vec);
	intr_window(v, false);
}
