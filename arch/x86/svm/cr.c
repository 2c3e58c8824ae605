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
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <asm/cpu.h>
#include <asm/insn.h>
#include "svm.h"

#ifndef UNIT_TEST
#include <keel/vmexit.h>
#include <asm/guest_mem.h>
#include <asm/paging.h>
#endif

#define CR4_PCIDE (1ULL << 17)
#define CR4_LA57 (1ULL << 12)
#define SEG_L (1u << 9) /* CS.L in the VMCB attribute format */

/* ---- pure rules --------------------------------------------------------- */

static bool is_legacy_prefix(u8 b)
{
	switch (b) {
	case 0xf0: case 0xf2: case 0xf3:
	case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64: case 0x65:
	case 0x66: case 0x67:
		return true;
	default:
		return false;
	}
}

int svm_cr_insn_decode(const u8 *b, size_t avail, bool lm64, struct svm_cr_insn *out)
{
	bool lock = false;
	u8 rex = 0;
	size_t i = 0;

	/* A REX counts only as the last prefix before the opcode (SDM vol. 2
	 * 2.2.1), so one followed by a legacy prefix is dropped. */
	for (;; i++) {
		if (i >= INSN_MAX_LEN)
			return -EINVAL;
		if (i >= avail)
			return -EAGAIN;
		if (is_legacy_prefix(b[i])) {
			lock |= b[i] == 0xf0;
			rex = 0;
		} else if (lm64 && (b[i] & 0xf0) == 0x40) {
			rex = b[i];
		} else {
			break;
		}
	}
	if (b[i] != 0x0f || i + 3 > INSN_MAX_LEN)
		return -EINVAL;
	if (i + 2 > avail)
		return -EAGAIN;
	memset(out, 0, sizeof(*out));
	switch (b[i + 1]) {
	case 0x06: /* CLTS */
		out->kind = CR_INSN_CLTS;
		out->cr = 0;
		out->len = (u8)(i + 2);
		return 0;
	case 0x22: /* MOV CRn, r: always a register operand, mod ignored */
		if (i + 3 > avail)
			return -EAGAIN;
		out->kind = CR_INSN_MOV;
		out->cr = (u8)(((b[i + 2] >> 3) & 7) | ((rex & 4) ? 8 : 0));
		out->gpr = (u8)((b[i + 2] & 7) | ((rex & 1) ? 8 : 0));
		/* AMD's alternative encoding of CR8: LOCK MOV CR0 (APM vol. 3
		 * "MOV CRn", CPUID AltMovCr8). */
		if (lock && out->cr == 0)
			out->cr = 8;
		out->len = (u8)(i + 3);
		return 0;
	case 0x01: /* group 7: LMSW is /6 */
		if (i + 3 > avail)
			return -EAGAIN;
		if (((b[i + 2] >> 3) & 7) != 6)
			return -EINVAL;
		out->cr = 0;
		if ((b[i + 2] >> 6) == 3) {
			out->kind = CR_INSN_LMSW_REG;
			out->gpr = (u8)((b[i + 2] & 7) | ((rex & 1) ? 8 : 0));
			out->len = (u8)(i + 3);
		} else {
			out->kind = CR_INSN_LMSW_MEM;
			out->len = 0; /* not measured: not emulated */
		}
		return 0;
	default:
		return -EINVAL;
	}
}

u64 svm_cr4_allowed(const struct cpuid_regs *l1, const struct cpuid_regs *l7)
{
	/* VME, PVI, TSD, DE, PSE, PAE, MCE, PGE, PCE, OSFXSR, OSXMMEXCPT:
	 * architectural on every x86-64 CPU. */
	u64 ok = 0x7ff;

	if (l7->ecx & (1u << 2))
		ok |= 1ULL << 11; /* UMIP */
	if (l7->ecx & (1u << 16))
		ok |= CR4_LA57;
	if (l7->ebx & (1u << 0))
		ok |= 1ULL << 16; /* FSGSBASE */
	if (l1->ecx & (1u << 17))
		ok |= CR4_PCIDE;
	if (l1->ecx & (1u << 26))
		ok |= CR4_OSXSAVE;
	if (l7->ebx & (1u << 7))
		ok |= 1ULL << 20; /* SMEP */
	if (l7->ebx & (1u << 20))
		ok |= 1ULL << 21; /* SMAP */
	if (l7->ecx & (1u << 3))
		ok |= 1ULL << 22; /* PKE */
	/* VMXE and SMXE (hidden: no nesting), KL, CET, PKS and the rest:
	 * never. */
	return ok;
}

bool svm_cr_write_valid(const struct svm_cr_state *s, unsigned cr, u64 *val)
{
	bool lma = s->efer & EFER_LMA;
	u64 v = *val;

	switch (cr) {
	case 0:
		if (v >> 32)
			return false;
		if ((v & CR0_NW) && !(v & CR0_CD))
			return false;
		if ((v & CR0_PG) && !(v & CR0_PE))
			return false;
		/* Activating long mode needs PAE (APM vol. 2 14.6.1). */
		if ((v & CR0_PG) && !(s->cr0 & CR0_PG) && (s->efer & EFER_LME) &&
		    !(s->cr4 & CR4_PAE))
			return false;
		/* Leaving long mode from 64-bit code faults; so does paging
		 * off with PCIDE set. */
		if (!(v & CR0_PG) && lma && s->cs_l)
			return false;
		if (!(v & CR0_PG) && (s->cr4 & CR4_PCIDE))
			return false;
		*val = v | CR0_ET; /* ET is fixed to 1 (APM vol. 2 3.1.1) */
		return true;
	case 3:
		if (!lma) {
			/* Outside long mode CR3 is 32 bits wide. */
			*val = v & 0xffffffffULL;
			return true;
		}
		/* With PCIDE, bit 63 asks not to flush; it is not stored. */
		if (s->cr4 & CR4_PCIDE)
			v &= ~(1ULL << 63);
		if (v >> s->phys_bits)
			return false;
		*val = v;
		return true;
	case 8:
		/* Bits 63:4 are reserved (APM vol. 2 15.21.4: "MOV CR8"). */
		return !(v >> 4);
	case 4:
		if (v & ~s->cr4_allowed)
			return false;
		if (lma && !(v & CR4_PAE))
			return false;
		if (lma && ((v ^ s->cr4) & CR4_LA57))
			return false;
		if ((v & CR4_PCIDE) && !(s->cr4 & CR4_PCIDE) && (!lma || (s->cr3 & 0xfff)))
			return false;
		return true;
	default:
		return false;
	}
}

/* ---- the machinery ------------------------------------------------------- */

#ifndef UNIT_TEST
/*
 * The bytes at CS:RIP, up to the end of RIP's page first (an instruction
 * that ends before an unmapped page must still decode), then from the
 * next page only if needed. As insn_fetch_and_length() (arch/x86/insn.c).
 */
static int fetch_and_decode(struct vcpu *v, const struct vmcb *vmcb, bool lm64,
			    struct svm_cr_insn *insn)
{
	u8 buf[INSN_MAX_LEN];
	u64 va = lm64 ? vmcb->save.rip : (vmcb->save.cs.base + vmcb->save.rip) & 0xffffffffULL;
	size_t have = 0;
	int rc = -EAGAIN;

	while (rc == -EAGAIN && have < INSN_MAX_LEN) {
		u64 at = lm64 ? va + have : (va + have) & 0xffffffffULL;
		size_t n = MIN(INSN_MAX_LEN - have, PAGE_SIZE - (at & (PAGE_SIZE - 1)));
		gpa_t gpa;

		if (gva_to_gpa(v, at, PT_X, &gpa) || copy_from_gpa(v->dom, buf + have, gpa, n))
			return -EFAULT;
		have += n;
		rc = svm_cr_insn_decode(buf, have, lm64, insn);
	}
	return rc;
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
	if (fetch_and_decode(v, vmcb, lm64, &insn) || insn.cr != cr ||
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
#endif
