/*
 * The pure half of svm/cr.c: decoding MOV CRn / CLTS / LMSW from bytes,
 * the CR4 bits a guest's CPUID allows, and the #GP rules for CR0, CR3 and
 * CR4 writes (AMD APM vol. 3 "MOV CRn"; vol. 2 3.1.1-3.1.3). Why the
 * writes are intercepted at all: cr.c. No vCPU or VMCB access here, so
 * the host unit tests (tests/unit/test_svm_cr.c) compile this file alone.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <asm/cpu.h>
#include <asm/insn.h>
#include "svm.h"

#define CR4_PCIDE (1ULL << 17)
#define CR4_LA57 (1ULL << 12)

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
		if (insn_is_legacy_prefix(b[i])) {
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
