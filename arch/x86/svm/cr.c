/*
 * Guest writes to CR0, CR3 and CR4 under SVM: why they are intercepted,
 * the instruction decoding that recovers the value without decode
 * assists, and the #GP rules (AMD APM vol. 3 "MOV CRn", "LMSW", "CLTS";
 * vol. 2 3.1.1-3.1.3 and 15.5.1).
 *
 * With nested paging the guest could own these registers outright, and on
 * real AMD hardware a MOV with a reserved bit set raises #GP in the guest
 * before anything reaches the VMCB. QEMU's TCG (the SVM test host, 7.2
 * and later) does not: a guest MOV to CR3 with bits set above the
 * physical-address width, or to CR4 with a reserved bit, ends the guest
 * with #VMEXIT(INVALID) (exit code -1) instead of #GP, and a MOV to CR0
 * with bits 63:32 set is taken and saved into the VMCB, which the next
 * VMRUN refuses. Either way the domain died "VM entry failed" for a
 * fault it should have received (issue 10, the exit-level hostile domU).
 * So the writes are intercepted, as Xen does for CR0 and CR4 on SVM
 * (xen/arch/x86/hvm/svm/vmcb.c), and checked here against what the CPU
 * would accept: a guest value reaches the VMCB only if it is valid, and
 * otherwise the guest gets the #GP(0) the APM specifies.
 *
 * The cost is an exit per CR0/CR3/CR4 write. CR3 writes are the frequent
 * ones (a guest's address-space switches); Keel's guests make few. CR8
 * writes are intercepted only while an interrupt window is armed
 * (inject.c says why); otherwise with V_INTR_MASKING they only set V_TPR.
 *
 * Without decode assists (QEMU has none) EXITINFO1 does not name the
 * source register, so the instruction at RIP is decoded: MOV CRn, r
 * (0f 22 /r), CLTS (0f 06) and LMSW (0f 01 /6), the three instructions
 * the CR0 write intercept catches. LMSW with a memory operand is not
 * emulated (no guest of ours uses it; the domain is stopped with the
 * kernel's one-line report).
 *
 * The decoder and the #GP rules are pure code in cr_rules.c; this file
 * fetches the instruction and applies the result to the vCPU.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <asm/cpu.h>
#include <asm/insn.h>
#include "svm.h"

#include <keel/vmexit.h>
#include <asm/guest_mem.h>
#include <asm/paging.h>

#define SEG_L (1u << 9) /* CS.L in the VMCB attribute format */

static int cr_decode(const u8 *bytes, size_t avail, bool l64, void *insn)
{
	return svm_cr_insn_decode(bytes, avail, l64, insn);
}

/* The instruction at CS:RIP, fetched page by page (insn_fetch_decode). */
static int fetch_and_decode(struct vcpu *v, const struct vmcb *vmcb, struct svm_cr_insn *insn)
{
	int rc = insn_fetch_decode(v, vmcb->save.rip, cr_decode, insn);

	return rc < 0 ? rc : 0;
}

static u64 gpr_value(struct vcpu *v, const struct vmcb *vmcb, unsigned gpr, bool lm64)
{
	u64 val = gpr == GPR_RSP ? vmcb->save.rsp : v->arch.gprs[gpr];

	/* Outside 64-bit mode only the low half is an operand. */
	return lm64 ? val : val & 0xffffffffULL;
}

void svm_cr_write_decode(struct vcpu *v, const struct vmcb *vmcb, unsigned cr,
			 struct vm_exit *e)
{
	const struct vmcb_save *s = &vmcb->save;
	bool lm64 = (s->efer & EFER_LMA) && (s->cs.attrib & SEG_L);
	struct svm_cr_state st = {
		.cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer,
		.cs_l = s->cs.attrib & SEG_L,
		.phys_bits = cpu_features.phys_addr_bits,
	};
	struct cpuid_regs l1, l7;
	struct svm_cr_insn insn;
	u64 val;

	e->reason = EXIT_CR_ACCESS;
	e->cr.cr = (u8)cr;
	e->cr.write = true;
	e->cr.gpr = GPR_NR; /* the kernel refuses this unless has_val */
	if (fetch_and_decode(v, vmcb, &insn) || insn.cr != cr ||
	    insn.kind == CR_INSN_LMSW_MEM)
		return;
	switch (insn.kind) {
	case CR_INSN_MOV:
		val = gpr_value(v, vmcb, insn.gpr, lm64);
		break;
	case CR_INSN_CLTS:
		val = s->cr0 & ~CR0_TS;
		break;
	default: /* LMSW: bits 3:0 only, and PE cannot be cleared by it */
		val = (s->cr0 & ~0xeULL) | (gpr_value(v, vmcb, insn.gpr, lm64) & 0xf);
		break;
	}
	cpuid_guest(v, 0, 0, &l1);
	l7 = (struct cpuid_regs){ 0 };
	if (l1.eax >= 7)
		cpuid_guest(v, 7, 0, &l7);
	cpuid_guest(v, 1, 0, &l1);
	st.cr4_allowed = svm_cr4_allowed(&l1, &l7);
	if (!svm_cr_write_valid(&st, cr, &val)) {
		/* As the CPU would have: #GP(0), RIP at the instruction. */
		u64 raw = e->raw, qual = e->qual;
		memset(e, 0, sizeof(*e));
		e->raw = raw;
		e->qual = qual;
		e->reason = EXIT_EXCEPTION;
		e->exc.vector = X86_EXC_GP;
		e->exc.has_error = true;
		e->exc.error_code = 0;
		return;
	}
	e->cr.has_val = true;
	e->cr.val = val;
	e->insn_len = insn.len;
	if (cr == 8) {
		/* Only while a window is armed (inject.c): the TPR is V_TPR,
		 * stored here; the kernel advances RIP and then sees whether
		 * the held-back upcall may go in. */
		struct vmcb *w = vcpu_vmcb(v);
		w->control.v_intr = (w->control.v_intr & ~0xfULL) | val;
		return;
	}
	/* MOV to CR3 flushes the guest's non-global translations, and CR0/
	 * CR4 paging bits (PG, WP, PAE, PGE, PSE, SMEP, ...) change how they
	 * are formed. VMRUN does not flush for a new VMCB CR3, so the vCPU
	 * takes a fresh ASID (npt.c). */
	vcpu_svm(v)->need_flush = true;
}
