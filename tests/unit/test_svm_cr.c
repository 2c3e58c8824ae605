/*
 * Intercepted CR0/CR3/CR4 writes under SVM: the decoding of the writing
 * instruction and the #GP(0) rules of MOV CRn (AMD APM vol. 3 "MOV CRn",
 * "LMSW", "CLTS"). A value the rules accept is what QEMU's VMRUN
 * consistency checks accept too; the values the exit-level hostile domU
 * writes (reserved CR4 bits, CR3 bits above MAXPHYADDR, CR0 bits 63:32)
 * are refused.
 *
 * unit-sources: arch/x86/svm/cr_rules.c arch/x86/insn.c
 */
#include <stdio.h>
#include <string.h>

#include <lib/errno.h>
#include <asm/cpu.h>
#include <asm/insn.h>
#include "../../arch/x86/svm/svm.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static struct svm_cr_insn insn;

static int dec(bool lm64, const u8 *b, size_t n)
{
	memset(&insn, 0x5a, sizeof(insn));
	return svm_cr_insn_decode(b, n, lm64, &insn);
}

#define DEC(lm64, ...)                                                            \
	dec((lm64), (const u8[]){ __VA_ARGS__ }, sizeof((const u8[]){ __VA_ARGS__ }))

START_TEST(decode_mov_cr_names_cr_gpr_and_length)
{
	ck_assert_int_eq(DEC(true, 0x0f, 0x22, 0xe0), 0); /* mov %rax, %cr4 */
	ck_assert_int_eq(insn.kind, CR_INSN_MOV);
	ck_assert_uint_eq(insn.cr, 4);
	ck_assert_uint_eq(insn.gpr, 0);
	ck_assert_uint_eq(insn.len, 3);
	ck_assert_int_eq(DEC(true, 0x41, 0x0f, 0x22, 0xdf), 0); /* mov %r15, %cr3 */
	ck_assert_uint_eq(insn.cr, 3);
	ck_assert_uint_eq(insn.gpr, 15);
	ck_assert_uint_eq(insn.len, 4);
	ck_assert_int_eq(DEC(true, 0x44, 0x0f, 0x22, 0xc6), 0); /* mov %rsi, %cr8 */
	ck_assert_uint_eq(insn.cr, 8);
	ck_assert_uint_eq(insn.gpr, 6);
	/* A REX followed by a legacy prefix is not a REX. */
	ck_assert_int_eq(DEC(true, 0x41, 0x66, 0x0f, 0x22, 0xc3), 0);
	ck_assert_uint_eq(insn.gpr, 3);
	ck_assert_uint_eq(insn.len, 5);
	/* 0x41 is INC ECX outside 64-bit mode: not part of this MOV. */
	ck_assert_int_eq(DEC(false, 0x41, 0x0f, 0x22, 0xc3), -EINVAL);
	/* AMD's LOCK MOV CR0 is CR8. */
	ck_assert_int_eq(DEC(true, 0xf0, 0x0f, 0x22, 0xc0), 0);
	ck_assert_uint_eq(insn.cr, 8);
}
END_TEST

START_TEST(decode_clts_and_lmsw)
{
	ck_assert_int_eq(DEC(true, 0x0f, 0x06), 0);
	ck_assert_int_eq(insn.kind, CR_INSN_CLTS);
	ck_assert_uint_eq(insn.cr, 0);
	ck_assert_uint_eq(insn.len, 2);
	ck_assert_int_eq(DEC(true, 0x0f, 0x01, 0xf0), 0); /* lmsw %ax */
	ck_assert_int_eq(insn.kind, CR_INSN_LMSW_REG);
	ck_assert_uint_eq(insn.gpr, 0);
	ck_assert_uint_eq(insn.len, 3);
	ck_assert_int_eq(DEC(true, 0x41, 0x0f, 0x01, 0xf1), 0); /* lmsw %r9w */
	ck_assert_uint_eq(insn.gpr, 9);
	ck_assert_int_eq(DEC(true, 0x0f, 0x01, 0x30), 0); /* lmsw (%rax) */
	ck_assert_int_eq(insn.kind, CR_INSN_LMSW_MEM);
	ck_assert_uint_eq(insn.len, 0);
	/* Other group-7 members and other opcodes are not CR writes. */
	ck_assert_int_eq(DEC(true, 0x0f, 0x01, 0xd9), -EINVAL); /* vmmcall */
	ck_assert_int_eq(DEC(true, 0x0f, 0x20, 0xc0), -EINVAL); /* mov %cr0, %rax */
	ck_assert_int_eq(DEC(true, 0x90), -EINVAL);
	/* Truncated: ask for more. */
	ck_assert_int_eq(DEC(true, 0x0f, 0x22), -EAGAIN);
	ck_assert_int_eq(DEC(true, 0x66), -EAGAIN);
}
END_TEST

/* 64-bit mode, paging on, PAE, no PCID; MAXPHYADDR 40 (QEMU's qemu64). */
static struct svm_cr_state lm(void)
{
	return (struct svm_cr_state){
		.cr0 = CR0_PE | CR0_ET | CR0_WP | CR0_PG,
		.cr3 = 0x23e000,
		.cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME,
		.cs_l = true,
		.cr4_allowed = 0x7ff,
		.phys_bits = 40,
	};
}

static bool ok(struct svm_cr_state s, unsigned cr, u64 val, u64 *out)
{
	u64 v = val;
	bool r = svm_cr_write_valid(&s, cr, &v);
	if (out)
		*out = v;
	return r;
}

START_TEST(cr0_rules)
{
	struct svm_cr_state s = lm();
	u64 got;

	ck_assert(ok(s, 0, s.cr0 | CR0_TS, &got));
	ck_assert_uint_eq(got, s.cr0 | CR0_TS);
	ck_assert(ok(s, 0, (s.cr0 | CR0_MP) & ~CR0_ET, &got));
	ck_assert_msg(got & CR0_ET, "ET is fixed to 1");
	ck_assert(!ok(s, 0, s.cr0 | (1ULL << 32), NULL));
	ck_assert(!ok(s, 0, s.cr0 | (1ULL << 63), NULL));
	ck_assert(!ok(s, 0, s.cr0 | CR0_NW, NULL));
	ck_assert(ok(s, 0, s.cr0 | CR0_NW | CR0_CD, NULL));
	ck_assert(!ok(s, 0, s.cr0 & ~CR0_PE, NULL));      /* PG without PE */
	ck_assert(!ok(s, 0, s.cr0 & ~CR0_PG, NULL));      /* leaving long mode in 64-bit code */
	s.cs_l = false;
	ck_assert(ok(s, 0, s.cr0 & ~CR0_PG, NULL));       /* from compatibility mode: allowed */
	/* Enabling paging with LME but without PAE. */
	s = lm();
	s.cr0 &= ~CR0_PG;
	s.efer &= ~EFER_LMA;
	s.cs_l = false;
	s.cr4 = 0;
	ck_assert(!ok(s, 0, s.cr0 | CR0_PG, NULL));
	s.cr4 = CR4_PAE;
	ck_assert(ok(s, 0, s.cr0 | CR0_PG, NULL));
}
END_TEST

START_TEST(cr3_rules)
{
	struct svm_cr_state s = lm();
	u64 got;

	ck_assert(ok(s, 3, 0x1000, &got));
	ck_assert_uint_eq(got, 0x1000);
	ck_assert(ok(s, 3, (1ULL << 40) - 4096, NULL));
	for (unsigned bit = 40; bit < 64; bit++)
		ck_assert_msg(!ok(s, 3, 0x1000 | (1ULL << bit), NULL), "CR3 bit %u accepted", bit);
	/* With PCIDE, bit 63 is the no-flush hint, not stored. */
	s.cr4 |= 1ULL << 17;
	ck_assert(ok(s, 3, 0x1000 | (1ULL << 63), &got));
	ck_assert_uint_eq(got, 0x1000);
	/* Outside long mode the upper half is not an operand. */
	s = lm();
	s.efer &= ~(EFER_LMA | EFER_LME);
	s.cs_l = false;
	ck_assert(ok(s, 3, 0xabcd000000001000ULL, &got));
	ck_assert_uint_eq(got, 0x1000);
}
END_TEST

START_TEST(cr4_rules)
{
	struct svm_cr_state s = lm();

	ck_assert(ok(s, 4, CR4_PAE | CR4_PGE | CR4_OSFXSR, NULL));
	ck_assert(!ok(s, 4, CR4_PAE | CR4_VMXE, NULL));       /* hidden: no nesting */
	ck_assert(!ok(s, 4, CR4_PAE | (1ULL << 50), NULL));   /* reserved */
	ck_assert(!ok(s, 4, CR4_PAE | CR4_OSXSAVE, NULL));    /* not offered */
	s.cr4_allowed |= CR4_OSXSAVE;
	ck_assert(ok(s, 4, CR4_PAE | CR4_OSXSAVE, NULL));
	ck_assert(!ok(s, 4, 0, NULL));                        /* PAE off in long mode */
	/* PCIDE: only in long mode with CR3[11:0] = 0. */
	s.cr4_allowed |= 1ULL << 17;
	ck_assert(ok(s, 4, CR4_PAE | (1ULL << 17), NULL));
	s.cr3 |= 0x5;
	ck_assert(!ok(s, 4, CR4_PAE | (1ULL << 17), NULL));
}
END_TEST

START_TEST(cr4_allowed_follows_cpuid)
{
	struct cpuid_regs l1 = { 0 }, l7 = { 0 };

	ck_assert_uint_eq(svm_cr4_allowed(&l1, &l7), 0x7ff);
	l1.ecx = (1u << 26) | (1u << 17);
	l7.ebx = (1u << 0) | (1u << 7) | (1u << 20);
	u64 a = svm_cr4_allowed(&l1, &l7);
	ck_assert(a & CR4_OSXSAVE);
	ck_assert(a & (1ULL << 17));
	ck_assert(a & (1ULL << 16));
	ck_assert(a & (1ULL << 20));
	ck_assert(a & (1ULL << 21));
	ck_assert(!(a & CR4_VMXE));
	ck_assert(!(a & (1ULL << 14)));
	ck_assert_uint_eq(a >> 23, 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "svm-cr-decode-mov-cr-names-cr-gpr-and-length", &decode_mov_cr_names_cr_gpr_and_length_ttest },
	{ "svm-cr-decode-clts-and-lmsw", &decode_clts_and_lmsw_ttest },
	{ "svm-cr-cr0-rules", &cr0_rules_ttest },
	{ "svm-cr-cr3-rules", &cr3_rules_ttest },
	{ "svm-cr-cr4-rules", &cr4_rules_ttest },
	{ "svm-cr-cr4-allowed-follows-cpuid", &cr4_allowed_follows_cpuid_ttest },
	{ 0 },
};
