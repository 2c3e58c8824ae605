/*
 * Instruction lengths of the intercepted instructions.
 *
 * unit-sources: arch/x86/insn.c
 *
 * Encodings are from Intel SDM vol. 2 / AMD APM vol. 3 (and match what
 * GNU as produces for the mnemonics in the comments).
 */
#include <stdio.h>
#include <string.h>

#include <lib/errno.h>
#include <asm/insn.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* Expects insn_length(bytes) == want, in the given mode; the whole byte
 * string is passed, plus trailing junk that must not be counted. */
static void check_len(const char *what, const u8 *bytes, size_t n, bool l64,
		      int want)
{
	u8 buf[32];

	memcpy(buf, bytes, n);
	memset(buf + n, 0x90, sizeof(buf) - n);
	int got = insn_length(buf, sizeof(buf), l64);
	ck_assert_msg(got == want, "%s (%s mode): length %d, want %d", what,
		      l64 ? "64-bit" : "32-bit", got, want);
}

#define LEN(l64, want, ...)                                                      \
	do {                                                                     \
		const u8 b_[] = { __VA_ARGS__ };                                 \
		check_len(#__VA_ARGS__, b_, sizeof(b_), (l64), (want));          \
	} while (0)

START_TEST(length_cpuid)
{
	LEN(false, 2, 0x0f, 0xa2);
	LEN(true, 2, 0x0f, 0xa2);
	LEN(true, 3, 0x48, 0x0f, 0xa2); /* REX.W cpuid */
}
END_TEST

START_TEST(length_plain_two_byte)
{
	LEN(true, 2, 0x0f, 0x32); /* rdmsr */
	LEN(true, 2, 0x0f, 0x30); /* wrmsr */
	LEN(true, 2, 0x0f, 0x31); /* rdtsc */
	LEN(true, 2, 0x0f, 0x08); /* invd */
	LEN(true, 2, 0x0f, 0x09); /* wbinvd */
	LEN(false, 1, 0xf4);      /* hlt */
}
END_TEST

START_TEST(length_0f01_group)
{
	LEN(true, 3, 0x0f, 0x01, 0xd9); /* vmmcall */
	LEN(true, 3, 0x0f, 0x01, 0xc1); /* vmcall */
	LEN(true, 3, 0x0f, 0x01, 0xd1); /* xsetbv */
	LEN(true, 3, 0x0f, 0x01, 0xf9); /* rdtscp */
	LEN(true, 3, 0x0f, 0x01, 0xc8); /* monitor */
	LEN(true, 3, 0x0f, 0x01, 0xc9); /* mwait */
	LEN(false, 3, 0x0f, 0x01, 0xd9);
	/* 0f 01 with a memory ModRM (e.g. lgdt [rax]) is not ours. */
	LEN(true, -EINVAL, 0x0f, 0x01, 0x10);
}
END_TEST

START_TEST(length_prefixed_io)
{
	LEN(false, 2, 0xe4, 0x60);            /* in al, 0x60 */
	LEN(false, 2, 0xe5, 0x71);            /* in eax, 0x71 */
	LEN(false, 3, 0x66, 0xe5, 0x71);      /* in ax, 0x71 */
	LEN(false, 2, 0xe6, 0x80);            /* out 0x80, al */
	LEN(false, 3, 0x66, 0xe7, 0x80);      /* out 0x80, ax */
	LEN(false, 1, 0xec);                  /* in al, dx */
	LEN(false, 2, 0x66, 0xed);            /* in ax, dx */
	LEN(true, 1, 0xee);                   /* out dx, al */
	LEN(true, 2, 0x66, 0xef);             /* out dx, ax */
	LEN(true, 2, 0xf3, 0x6c);             /* rep insb */
	LEN(true, 3, 0xf3, 0x66, 0x6d);       /* rep insw */
	LEN(true, 3, 0x66, 0xf3, 0x6f);       /* rep outsw, prefixes swapped */
	LEN(true, 4, 0x67, 0xf3, 0x2e, 0x6e); /* rep outsb cs:[esi] */
	LEN(false, 2, 0x26, 0x6e);            /* outsb es: override */
	LEN(true, 3, 0xf3, 0x48, 0x6f);       /* rep outsd with REX.W */
}
END_TEST

START_TEST(length_rex_wrmsr)
{
	LEN(true, 3, 0x48, 0x0f, 0x30);       /* REX.W wrmsr */
	LEN(true, 3, 0x41, 0x0f, 0x32);       /* REX.B rdmsr */
	LEN(true, 4, 0x66, 0x48, 0x0f, 0x30); /* legacy prefix then REX */
	/* A REX followed by a legacy prefix is ignored but still consumed. */
	LEN(true, 4, 0x48, 0x66, 0x0f, 0x30);
	/* Outside 64-bit mode 0x48 is DEC EAX, an instruction of its own. */
	LEN(false, -EINVAL, 0x48, 0x0f, 0x30);
}
END_TEST

START_TEST(length_mov_cr)
{
	LEN(true, 3, 0x0f, 0x20, 0xc0);       /* mov rax, cr0 */
	LEN(true, 3, 0x0f, 0x22, 0xd8);       /* mov cr3, rax */
	LEN(true, 4, 0x44, 0x0f, 0x22, 0xc0); /* mov cr8, rax (REX.R) */
	LEN(true, 4, 0x41, 0x0f, 0x20, 0xe7); /* mov r15, cr4 */
	LEN(false, 3, 0x0f, 0x22, 0xe0);      /* mov cr4, eax */
	LEN(false, 4, 0xf0, 0x0f, 0x20, 0xc0); /* AMD: lock mov eax, cr0 = cr8 */
	/* The mod bits are ignored: still a register operand, no
	 * displacement after the ModRM (SDM vol. 2, MOV to/from CR). */
	LEN(true, 3, 0x0f, 0x20, 0x80);
}
END_TEST

START_TEST(length_rejects_unknown)
{
	LEN(true, -EINVAL, 0x90);             /* nop */
	LEN(true, -EINVAL, 0x89, 0x07);       /* mov [rdi], eax (MMIO) */
	LEN(true, -EINVAL, 0x0f, 0x0b);       /* ud2 */
	LEN(true, -EINVAL, 0x0f, 0x21, 0xc0); /* mov rax, dr0 */
	LEN(true, -EINVAL, 0xcd, 0x80);       /* int 0x80 */
	LEN(true, -EINVAL, 0xf3, 0x90);       /* pause */
	LEN(true, -EINVAL, 0x0f, 0x01, 0xd8); /* vmrun: never skipped */
}
END_TEST

START_TEST(length_too_long)
{
	u8 b[20];

	/* 14 prefixes + hlt = 15 bytes: the longest legal instruction. */
	memset(b, 0x66, 14);
	b[14] = 0xf4;
	ck_assert_int_eq(insn_length(b, sizeof(b), false), 15);
	/* 14 prefixes + cpuid = 16 bytes: #GP on hardware, refused here. */
	b[14] = 0x0f;
	b[15] = 0xa2;
	ck_assert_int_eq(insn_length(b, sizeof(b), false), -EINVAL);
	/* 15 prefixes and no opcode in sight. */
	memset(b, 0x2e, sizeof(b));
	ck_assert_int_eq(insn_length(b, sizeof(b), false), -EINVAL);
	/* 13 prefixes + in al, imm8 = 15: fine; 14 + it = 16: refused. */
	memset(b, 0xf3, 13);
	b[13] = 0xe4;
	b[14] = 0x60;
	ck_assert_int_eq(insn_length(b, 15, false), 15);
	memset(b, 0xf3, 14);
	b[14] = 0xe4;
	b[15] = 0x60;
	ck_assert_int_eq(insn_length(b, sizeof(b), false), -EINVAL);
}
END_TEST

START_TEST(length_truncated_buffer)
{
	const u8 vmmcall[] = { 0x66, 0x0f, 0x01, 0xd9 };
	const u8 in_imm[] = { 0x66, 0xe5, 0x71 };
	const u8 mov_cr[] = { 0x48, 0x0f, 0x22, 0xd8 };

	/* Every proper prefix of the bytes asks for more; all of them is
	 * exactly enough. */
	for (size_t n = 0; n < sizeof(vmmcall); n++)
		ck_assert_msg(insn_length(vmmcall, n, true) == -EAGAIN,
			      "vmmcall with %zu of 4 bytes: %d, want -EAGAIN", n,
			      insn_length(vmmcall, n, true));
	ck_assert_int_eq(insn_length(vmmcall, sizeof(vmmcall), true), 4);
	for (size_t n = 0; n < sizeof(in_imm); n++)
		ck_assert_msg(insn_length(in_imm, n, false) == -EAGAIN,
			      "in imm8 with %zu of 3 bytes: %d, want -EAGAIN", n,
			      insn_length(in_imm, n, false));
	ck_assert_int_eq(insn_length(in_imm, sizeof(in_imm), false), 3);
	for (size_t n = 0; n < sizeof(mov_cr); n++)
		ck_assert_msg(insn_length(mov_cr, n, true) == -EAGAIN,
			      "mov cr3 with %zu of 4 bytes: %d, want -EAGAIN", n,
			      insn_length(mov_cr, n, true));
	ck_assert_int_eq(insn_length(mov_cr, sizeof(mov_cr), true), 4);
	/* An unknown opcode is refused as soon as it is seen. */
	ck_assert_int_eq(insn_length((const u8[]){ 0x66, 0x90 }, 2, true), -EINVAL);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "insn-length-cpuid", &length_cpuid_ttest },
	{ "insn-length-plain-two-byte", &length_plain_two_byte_ttest },
	{ "insn-length-0f01-group", &length_0f01_group_ttest },
	{ "insn-length-prefixed-io", &length_prefixed_io_ttest },
	{ "insn-length-rex-wrmsr", &length_rex_wrmsr_ttest },
	{ "insn-length-mov-cr", &length_mov_cr_ttest },
	{ "insn-length-rejects-unknown", &length_rejects_unknown_ttest },
	{ "insn-length-too-long", &length_too_long_ttest },
	{ "insn-length-truncated-buffer", &length_truncated_buffer_ttest },
	{ 0 },
};
