/*
 * A vCPU's VMCB: creation in the PVH entry state, the guest-state
 * accessors of the vendor contract, and the crash dump (AMD APM vol. 2,
 * 15.5 and appendix B).
 */
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/guest_walk.h>
#include "svm.h"

/* Segment attribute bits (VMCB format = struct vseg's, asm/vendor.h). */
#define SEG_DPL_SHIFT 5
#define SEG_DPL_MASK (3u << SEG_DPL_SHIFT)
#define SEG_L (1u << 9)
#define SEG_DB (1u << 10)

/*
 * The PVH entry state (xen docs/misc/pvh.pandoc): 32-bit protected mode,
 * paging off; CS a 32-bit execute/read segment and DS/ES/SS 32-bit
 * read/write segments, all base 0 limit 4 GiB; TR a 32-bit TSS, base 0,
 * limit 0x67; CR0 = PE (plus ET, which is fixed to 1), CR4 = 0, EFLAGS =
 * 0x2. The attributes are Xen's (0xc9b, 0xc93, 0x8b). Selectors are not
 * specified; these are arbitrary but distinct, since the guest reloads
 * them from its own GDT. FS and GS get the data segment too, LDTR none.
 */
static void vmcb_set_pvh_state(struct vmcb *vmcb)
{
	static const struct vmcb_seg code32 = { 0x08, 0xc9b, 0xffffffff, 0 };
	static const struct vmcb_seg data32 = { 0x10, 0xc93, 0xffffffff, 0 };
	static const struct vmcb_seg tss32 = { 0x18, 0x08b, 0x67, 0 };
	struct vmcb_save *s = &vmcb->save;

	s->cs = code32;
	s->ds = s->es = s->ss = s->fs = s->gs = data32;
	s->tr = tss32;
	s->ldtr = (struct vmcb_seg){ 0 };
	s->gdtr = (struct vmcb_seg){ 0 };
	s->idtr = (struct vmcb_seg){ 0 };
	s->cpl = 0;
	s->cr0 = CR0_PE | CR0_ET;
	s->cr3 = 0;
	s->cr4 = 0;
	/* SVME must be set in the guest's EFER for VMRUN (APM 15.5.1); the
	 * guest never sees it (svm_get_reg). */
	s->efer = EFER_SVME;
	s->rflags = 0x2;
	s->rip = 0;
	s->rsp = 0;
	s->dr6 = 0xffff0ff0; /* architectural reset values */
	s->dr7 = 0x400;
	s->g_pat = PAT_POWER_ON;
}

int svm_vcpu_init(struct vcpu *v)
{
	struct domain *d = v->dom;
	struct vmcb *vmcb;
	paddr_t pa;

	if (!d)
		return -EINVAL;
	pa = frame_alloc(); /* zeroed: every field not set below is 0 */
	if (!pa)
		return -ENOMEM;
	vmcb = phys_to_virt(pa);
	memset(vcpu_svm(v), 0, sizeof(struct svm_vcpu)); /* no ASID yet */

	svm_intercepts_setup(vmcb);
	vmcb->control.np_enable = NP_ENABLE;
	vmcb->control.n_cr3 = d->arch.p2m.root; /* again at every entry */
	/* V_INTR_MASKING: the guest's RFLAGS.IF and CR8 govern only virtual
	 * interrupts; physical ones stay under the host's control (APM
	 * 15.21). Without it a guest with IF=0 would hold off the host. */
	vmcb->control.v_intr = V_INTR_MASKING;
	vmcb_set_pvh_state(vmcb);

	v->arch.vmcx = vmcb;
	v->arch.vmcx_pa = pa;
	return 0;
}

void svm_vcpu_destroy(struct vcpu *v)
{
	debugregs_forget(v);
	if (v->arch.vmcx_pa)
		frame_free(v->arch.vmcx_pa);
	v->arch.vmcx = NULL;
	v->arch.vmcx_pa = 0;
	memset(&v->arch.vendor, 0, sizeof(v->arch.vendor));
}

/* ---- guest state ------------------------------------------------------ */

/* EFER.LMA follows EFER.LME and CR0.PG as the CPU would set it, whichever
 * of the two the caller writes last (APM vol. 2, "Enabling and Activating
 * Long Mode"). */
static void vmcb_update_lma(struct vmcb_save *s)
{
	if ((s->efer & EFER_LME) && (s->cr0 & CR0_PG))
		s->efer |= EFER_LMA;
	else
		s->efer &= ~EFER_LMA;
}

u64 svm_get_reg(struct vcpu *v, enum vreg r)
{
	const struct vmcb_save *s = &vcpu_vmcb(v)->save;

	switch (r) {
	case VREG_RIP: return s->rip;
	case VREG_RSP: return s->rsp;
	case VREG_RFLAGS: return s->rflags;
	case VREG_CR0: return s->cr0;
	case VREG_CR2: return s->cr2;
	case VREG_CR3: return s->cr3;
	case VREG_CR4: return s->cr4;
	case VREG_EFER: return s->efer & ~EFER_SVME; /* the guest's view */
	case VREG_PAT: return s->g_pat;
	default: break;
	}
	panic("svm_get_reg: register %u", r);
}

/* The fields svm_get_reg and svm_get_seg(SS) report, read at once; the
 * CPL rule is guest_mem.c's (SS.DPL is the VMCB's CPL field, below). */
void svm_get_paging(struct vcpu *v, struct guest_paging *gp)
{
	const struct vmcb_save *s = &vcpu_vmcb(v)->save;

	gp->cr0 = s->cr0;
	gp->cr3 = s->cr3;
	gp->cr4 = s->cr4;
	gp->efer = s->efer & ~EFER_SVME;
	gp->cpl = !(s->cr0 & CR0_PE) ? 0 : (s->rflags & RFLAGS_VM) ? 3 : (s->cpl & 3u);
}

void svm_set_reg(struct vcpu *v, enum vreg r, u64 val)
{
	struct vmcb_save *s = &vcpu_vmcb(v)->save;

	/* Only RIP keeps the state VMRUN last accepted (run.c). */
	if (r != VREG_RIP)
		vcpu_svm(v)->entry_clean = false;
	switch (r) {
	case VREG_RIP:
		/* Moving RIP means the instruction at the old RIP completed
		 * (the kernel skips an intercepted one this way), so an STI
		 * or MOV SS shadow over it has ended (APM vol. 2 15.21.5).
		 * Left set, it would hold off the interrupt that ends an
		 * "sti; hlt" past the instruction after HLT (VMX does the
		 * same in vmx_set_reg). */
		s->rip = val;
		vcpu_vmcb(v)->control.interrupt_shadow &= ~INTERRUPT_SHADOW;
		return;
	case VREG_RSP: s->rsp = val; return;
	case VREG_RFLAGS: s->rflags = val | 0x2; return; /* bit 1 reads as 1 */
	case VREG_CR0:
		s->cr0 = val;
		vmcb_update_lma(s);
		return;
	case VREG_CR2: s->cr2 = val; return;
	case VREG_CR3: s->cr3 = val; return;
	case VREG_CR4: s->cr4 = val; return;
	case VREG_EFER:
		/* The hardware needs SVME; LMA is derived, not written. */
		s->efer = (val & ~(EFER_SVME | EFER_LMA)) | EFER_SVME;
		vmcb_update_lma(s);
		return;
	case VREG_PAT: s->g_pat = val; return; /* entry_clean cleared above */
	default: break;
	}
	panic("svm_set_reg: register %u", r);
}

/* svm_set_reg(VREG_RIP, RIP + len) without the two dispatches: the
 * common exits' way out (kernel/vcpu_run.c). Keeps entry_clean. */
void svm_skip_insn(struct vcpu *v, u8 len)
{
	struct vmcb *vmcb = vcpu_vmcb(v);

	vmcb->save.rip += len;
	vmcb->control.interrupt_shadow &= ~INTERRUPT_SHADOW; /* as svm_set_reg */
}

static struct vmcb_seg *vmcb_seg(struct vmcb *vmcb, enum vseg_id id)
{
	struct vmcb_save *s = &vmcb->save;

	switch (id) {
	case VSEG_ES: return &s->es;
	case VSEG_CS: return &s->cs;
	case VSEG_SS: return &s->ss;
	case VSEG_DS: return &s->ds;
	case VSEG_FS: return &s->fs;
	case VSEG_GS: return &s->gs;
	case VSEG_LDTR: return &s->ldtr;
	case VSEG_TR: return &s->tr;
	case VSEG_GDTR: return &s->gdtr;
	case VSEG_IDTR: return &s->idtr;
	default: break;
	}
	panic("SVM: segment %u", id);
}

/*
 * FS, GS, TR and LDTR live in the VMCB only between VMSAVE and VMLOAD,
 * which the VMRUN stub does around every entry, so outside run() the VMCB
 * is always current.
 *
 * The CPL is the VMCB's CPL field, which VMRUN loads and #VMEXIT saves;
 * SS.DPL in the VMCB need not match it (KVM relies on the same), so SS is
 * reported with the CPL as its DPL, and writing SS sets the CPL from its
 * DPL.
 */
void svm_get_seg(struct vcpu *v, enum vseg_id id, struct vseg *seg)
{
	struct vmcb *vmcb = vcpu_vmcb(v);
	const struct vmcb_seg *s = vmcb_seg(vmcb, id);

	seg->sel = s->selector;
	seg->attr = s->attrib;
	seg->limit = s->limit;
	seg->base = s->base;
	if (id == VSEG_SS)
		seg->attr = (seg->attr & ~SEG_DPL_MASK) |
			    ((vmcb->save.cpl & 3u) << SEG_DPL_SHIFT);
	if (id == VSEG_GDTR || id == VSEG_IDTR)
		seg->sel = seg->attr = 0;
}

void svm_set_seg(struct vcpu *v, enum vseg_id id, const struct vseg *seg)
{
	struct vmcb *vmcb = vcpu_vmcb(v);
	struct vmcb_seg *s = vmcb_seg(vmcb, id);

	vcpu_svm(v)->entry_clean = false; /* run.c */
	if (id == VSEG_GDTR || id == VSEG_IDTR) {
		s->selector = s->attrib = 0; /* only limit and base exist */
	} else {
		s->selector = seg->sel;
		s->attrib = seg->attr;
	}
	s->limit = seg->limit;
	s->base = seg->base;
	if (id == VSEG_SS)
		vmcb->save.cpl = (seg->attr & SEG_DPL_MASK) >> SEG_DPL_SHIFT;
}

/* ---- diagnosis ----------------------------------------------------------- */

/*
 * The VMRUN consistency checks of APM 15.5.1 that can be tested from the
 * VMCB alone, in the APM's order. A VMEXIT_INVALID means at least one
 * failed; this names the first one Keel knows about.
 */
const char *svm_vmcb_check(const struct vmcb *vmcb)
{
	const struct vmcb_save *s = &vmcb->save;
	const struct vmcb_control *c = &vmcb->control;
	u64 pa_limit = 1ULL << cpu_features.phys_addr_bits;
	bool lme_pg = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);
	u64 ev = c->eventinj;
	unsigned ev_type = (ev & EVENTINJ_TYPE_MASK) >> EVENTINJ_TYPE_SHIFT;

	if (!(s->efer & EFER_SVME))
		return "EFER.SVME is clear";
	if (!(s->cr0 & CR0_CD) && (s->cr0 & CR0_NW))
		return "CR0.NW is set while CR0.CD is clear";
	if (s->cr0 >> 32)
		return "CR0[63:32] is not zero";
	if (s->cr3 >> cpu_features.phys_addr_bits)
		return "CR3 has bits set above the physical-address width";
	if (s->cr4 >> 32)
		return "CR4[63:32] is not zero";
	if (s->dr6 >> 32)
		return "DR6[63:32] is not zero";
	if (s->dr7 >> 32)
		return "DR7[63:32] is not zero";
	if (s->efer >> 32)
		return "EFER has reserved bits set";
	if (lme_pg && !(s->cr4 & CR4_PAE))
		return "EFER.LME and CR0.PG are set but CR4.PAE is clear";
	if (lme_pg && !(s->cr0 & CR0_PE))
		return "EFER.LME and CR0.PG are set but CR0.PE is clear";
	if (lme_pg && (s->cr4 & CR4_PAE) && (s->cs.attrib & SEG_L) && (s->cs.attrib & SEG_DB))
		return "long mode with both CS.L and CS.D set";
	if (!(c->intercept_misc2 & INTERCEPT2_VMRUN))
		return "the VMRUN intercept is clear";
	if (c->msrpm_base_pa + MSRPM_SIZE > pa_limit || c->iopm_base_pa + IOPM_SIZE > pa_limit)
		return "the MSR or I/O permission map lies beyond the physical-address width";
	if ((ev & EVENTINJ_V) && (ev_type == 1 || ev_type > 4))
		return "EVENTINJ has a reserved event type";
	if ((ev & EVENTINJ_V) && ev_type == 3 && (ev & EVENTINJ_VECTOR_MASK) == X86_EXC_NMI)
		return "EVENTINJ injects vector 2 as an exception";
	if (c->guest_asid == 0)
		return "the guest ASID is 0";
	if ((c->np_enable & NP_ENABLE) && (c->n_cr3 >> cpu_features.phys_addr_bits))
		return "nCR3 has bits set above the physical-address width";
	return NULL;
}

static void dump_seg(const char *name, const struct vmcb_seg *s)
{
	printk(LOG_ERR, "keel:   %-4s sel 0x%04x attr 0x%03x limit 0x%08x base 0x%016lx\n",
	       name, s->selector, s->attrib, s->limit, s->base);
}

void svm_dump(struct vcpu *v)
{
	const struct vmcb *vmcb = vcpu_vmcb(v);
	const struct vmcb_control *c = &vmcb->control;
	const struct vmcb_save *s = &vmcb->save;
	const u64 *g = v->arch.gprs;

	printk(LOG_ERR, "keel: SVM d%uv%u VMCB at 0x%lx, ASID %u\n", v->dom->id, v->id,
	       v->arch.vmcx_pa, c->guest_asid);
	printk(LOG_ERR, "keel:   exitcode 0x%lx exitinfo1 0x%lx exitinfo2 0x%lx exitintinfo 0x%lx\n",
	       c->exitcode, c->exitinfo1, c->exitinfo2, c->exitintinfo);
	printk(LOG_ERR, "keel:   eventinj 0x%lx v_intr 0x%lx shadow 0x%lx tlb_control %u\n",
	       c->eventinj, c->v_intr, c->interrupt_shadow, c->tlb_control);
	printk(LOG_ERR, "keel:   intercepts cr 0x%08x dr 0x%08x exc 0x%08x misc 0x%08x 0x%08x\n",
	       c->intercept_cr, c->intercept_dr, c->intercept_exceptions, c->intercept_misc1,
	       c->intercept_misc2);
	printk(LOG_ERR, "keel:   np_enable 0x%lx n_cr3 0x%lx msrpm 0x%lx iopm 0x%lx\n",
	       c->np_enable, c->n_cr3, c->msrpm_base_pa, c->iopm_base_pa);
	printk(LOG_ERR, "keel:   rip 0x%016lx rsp 0x%016lx rflags 0x%lx cpl %u\n",
	       s->rip, s->rsp, s->rflags, s->cpl);
	printk(LOG_ERR, "keel:   cr0 0x%lx cr2 0x%lx cr3 0x%lx cr4 0x%lx efer 0x%lx\n",
	       s->cr0, s->cr2, s->cr3, s->cr4, s->efer);
	printk(LOG_ERR, "keel:   dr6 0x%lx dr7 0x%lx g_pat 0x%lx\n", s->dr6, s->dr7, s->g_pat);
	dump_seg("cs", &s->cs);
	dump_seg("ss", &s->ss);
	dump_seg("ds", &s->ds);
	dump_seg("es", &s->es);
	dump_seg("fs", &s->fs);
	dump_seg("gs", &s->gs);
	dump_seg("tr", &s->tr);
	dump_seg("ldtr", &s->ldtr);
	dump_seg("gdtr", &s->gdtr);
	dump_seg("idtr", &s->idtr);
	printk(LOG_ERR, "keel:   rax 0x%lx rbx 0x%lx rcx 0x%lx rdx 0x%lx\n",
	       s->rax, g[GPR_RBX], g[GPR_RCX], g[GPR_RDX]);
	printk(LOG_ERR, "keel:   rsi 0x%lx rdi 0x%lx rbp 0x%lx r8 0x%lx r9 0x%lx\n",
	       g[GPR_RSI], g[GPR_RDI], g[GPR_RBP], g[GPR_R8], g[GPR_R9]);
	printk(LOG_ERR, "keel:   r10 0x%lx r11 0x%lx r12 0x%lx r13 0x%lx r14 0x%lx r15 0x%lx\n",
	       g[GPR_R10], g[GPR_R11], g[GPR_R12], g[GPR_R13], g[GPR_R14], g[GPR_R15]);
	if (vmcb_entry_failed(vmcb)) {
		const char *why = svm_vmcb_check(vmcb);
		printk(LOG_ERR, "keel:   VMRUN refused the VMCB: %s\n",
		       why ? why : "none of the consistency checks Keel knows fails");
	}
}
