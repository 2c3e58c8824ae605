/*
 * The MMIO move decoder (emulated config space and other trapped MMIO).
 *
 * unit-sources: arch/x86/mmio_insn.c
 *
 * Encodings are what GNU as produces for the mnemonics in the comments
 * (Intel SDM vol. 2), e.g. Linux's mmio_config_writel "movl %eax,(%rdx)".
 */
#include <stdio.h>
#include <string.h>

#include <lib/errno.h>
#include <asm/mmio_insn.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static struct mmio_insn dec(const u8 *b, size_t n, int want_rc)
{
	struct mmio_insn in;
	u8 buf[32];

	memcpy(buf, b, n);
	memset(buf + n, 0xcc, sizeof(buf) - n); /* junk after the instruction */
	int rc = mmio_insn_decode(buf, sizeof(buf), &in);
	ck_assert_msg(rc == want_rc, "decode rc %d, want %d", rc, want_rc);
	return in;
}

#define DEC(rc, ...)                                                      \
	({                                                                \
		const u8 b_[] = { __VA_ARGS__ };                          \
		dec(b_, sizeof(b_), (rc));                                \
	})

START_TEST(mmio_insn_store_reg)
{
	/* movl %eax,(%rdx) */
	struct mmio_insn in = DEC(0, 0x89, 0x02);
	ck_assert_int_eq(in.len, 2);
	ck_assert_int_eq(in.size, 4);
	ck_assert(in.write && !in.has_imm);
	ck_assert_int_eq(in.reg, 0);
	/* movw %ax,(%rdx) */
	in = DEC(0, 0x66, 0x89, 0x02);
	ck_assert_int_eq(in.len, 3);
	ck_assert_int_eq(in.size, 2);
	/* movb %al,(%rdx) */
	in = DEC(0, 0x88, 0x02);
	ck_assert_int_eq(in.size, 1);
	/* movq %r9,0x10(%rdi) : REX.WR 89 /r disp8 */
	in = DEC(0, 0x4c, 0x89, 0x4f, 0x10);
	ck_assert_int_eq(in.len, 4);
	ck_assert_int_eq(in.size, 8);
	ck_assert_int_eq(in.reg, 9);
	/* movl %esi,0x12345678(%rax,%rbx,4) : SIB + disp32 */
	in = DEC(0, 0x89, 0xb4, 0x98, 0x78, 0x56, 0x34, 0x12);
	ck_assert_int_eq(in.len, 7);
	ck_assert_int_eq(in.reg, 6);
	/* movl %ecx,0x100(%rip) */
	in = DEC(0, 0x89, 0x0d, 0x00, 0x01, 0x00, 0x00);
	ck_assert_int_eq(in.len, 6);
	/* movl %edx,0x0(,%rax,8) : SIB with no base -> disp32 */
	in = DEC(0, 0x89, 0x14, 0xc5, 0, 0, 0, 0);
	ck_assert_int_eq(in.len, 7);
	/* movl %eax,%fs:(%rdx) */
	in = DEC(0, 0x64, 0x89, 0x02);
	ck_assert_int_eq(in.len, 3);
}
END_TEST

START_TEST(mmio_insn_store_high8_and_rex_byte)
{
	u64 g[16] = { 0 };
	g[0] = 0x1122334455667788ULL; /* rax */
	g[6] = 0xabcdULL;             /* rsi */

	/* movb %ah,(%rdx): reg 4 without REX is AH */
	struct mmio_insn in = DEC(0, 0x88, 0x22);
	ck_assert(in.high8);
	ck_assert_int_eq(in.reg, 0);
	ck_assert_uint_eq(mmio_insn_store_value(&in, g) & 0xff, 0x77);
	/* movb %sil,(%rdx): with REX, reg 6 is SIL */
	in = DEC(0, 0x40, 0x88, 0x32);
	ck_assert(!in.high8);
	ck_assert_int_eq(in.reg, 6);
	ck_assert_uint_eq(mmio_insn_store_value(&in, g) & 0xff, 0xcd);
}
END_TEST

START_TEST(mmio_insn_store_imm)
{
	/* movl $0x12345678,(%rdx) */
	struct mmio_insn in = DEC(0, 0xc7, 0x02, 0x78, 0x56, 0x34, 0x12);
	ck_assert_int_eq(in.len, 6);
	ck_assert(in.has_imm);
	ck_assert_uint_eq(in.imm, 0x12345678);
	/* movw $0xbeef,0x4(%rdx) */
	in = DEC(0, 0x66, 0xc7, 0x42, 0x04, 0xef, 0xbe);
	ck_assert_int_eq(in.len, 6);
	ck_assert_int_eq(in.size, 2);
	ck_assert_uint_eq(in.imm, 0xbeef);
	/* movb $0x5,(%rax) */
	in = DEC(0, 0xc6, 0x00, 0x05);
	ck_assert_int_eq(in.len, 3);
	ck_assert_uint_eq(in.imm, 5);
	/* movq $-1,(%rax): imm32 sign-extended */
	in = DEC(0, 0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff);
	ck_assert_int_eq(in.size, 8);
	ck_assert_uint_eq(in.imm, ~0ULL);
}
END_TEST

START_TEST(mmio_insn_loads_set_register_width)
{
	u64 g[16];
	for (int i = 0; i < 16; i++)
		g[i] = 0xffffffffffffffffULL;

	/* movl (%rdx),%eax: 32-bit destination zero-extends */
	struct mmio_insn in = DEC(0, 0x8b, 0x02);
	ck_assert(!in.write);
	mmio_insn_load_result(&in, g, 0x12345678);
	ck_assert_uint_eq(g[0], 0x12345678);
	/* movw (%rdx),%cx keeps bits 16-63 */
	in = DEC(0, 0x66, 0x8b, 0x0a);
	mmio_insn_load_result(&in, g, 0xabcd);
	ck_assert_uint_eq(g[1], 0xffffffffffffabcdULL);
	/* movb (%rdx),%bh */
	in = DEC(0, 0x8a, 0x3a);
	ck_assert(in.high8);
	mmio_insn_load_result(&in, g, 0x12);
	ck_assert_uint_eq(g[3], 0xffffffffffff12ffULL);
	/* movzbl (%rdx),%r10d */
	in = DEC(0, 0x44, 0x0f, 0xb6, 0x12);
	ck_assert_int_eq(in.len, 4);
	ck_assert_int_eq(in.size, 1);
	ck_assert_int_eq(in.reg, 10);
	mmio_insn_load_result(&in, g, 0x80);
	ck_assert_uint_eq(g[10], 0x80);
	/* movzwl (%rdx),%eax */
	in = DEC(0, 0x0f, 0xb7, 0x02);
	ck_assert_int_eq(in.size, 2);
	mmio_insn_load_result(&in, g, 0xfffff00d);
	ck_assert_uint_eq(g[0], 0xf00d);
	/* movq (%rdx),%r15 */
	in = DEC(0, 0x4c, 0x8b, 0x3a);
	ck_assert_int_eq(in.size, 8);
	mmio_insn_load_result(&in, g, 0x0123456789abcdefULL);
	ck_assert_uint_eq(g[15], 0x0123456789abcdefULL);
}
END_TEST

START_TEST(mmio_insn_refuses_what_it_does_not_know)
{
	DEC(-EINVAL, 0x01, 0x02);             /* add %eax,(%rdx) */
	DEC(-EINVAL, 0x89, 0xc2);             /* mov %eax,%edx: no memory operand */
	DEC(-EINVAL, 0xf0, 0x89, 0x02);       /* lock mov: #UD */
	DEC(-EINVAL, 0xc7, 0x0a, 1, 2, 3, 4); /* c7 /1 is not MOV */
	DEC(-EINVAL, 0x89, 0x22);             /* mov %esp,(%rdx): RSP not emulated */
	DEC(-EINVAL, 0x0f, 0xaf, 0x02);       /* imul */
	/* 15 prefixes: too long */
	DEC(-EINVAL, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	    0x66, 0x66, 0x89, 0x02);
}
END_TEST

START_TEST(mmio_insn_short_fetch_asks_for_more)
{
	struct mmio_insn in;
	const u8 b[] = { 0x89, 0x84, 0x24, 0x10, 0x00, 0x00, 0x00 }; /* mov %eax,0x10(%rsp) */
	for (size_t n = 0; n < sizeof(b); n++)
		ck_assert_int_eq(mmio_insn_decode(b, n, &in), -EAGAIN);
	ck_assert_int_eq(mmio_insn_decode(b, sizeof(b), &in), 0);
	ck_assert_int_eq(in.len, 7);
}
END_TEST

/* Found by tests/fuzz/fuzz_mmio_insn.c: 13 prefixes, the opcode and a
 * ModRM asking for a SIB byte, fetched as the 15 bytes the limit allows.
 * More bytes cannot help (the instruction would be 16 bytes or longer),
 * so the answer is -EINVAL, not -EAGAIN. */
START_TEST(mmio_insn_full_fetch_never_asks_for_more)
{
	struct mmio_insn in;
	u8 b[15];

	memset(b, 0x3e, 13); /* ds: */
	b[13] = 0x89;        /* mov r32, r/m32 */
	b[14] = 0x04;        /* ModRM: SIB follows */
	ck_assert_int_eq(mmio_insn_decode(b, sizeof(b), &in), -EINVAL);
	ck_assert_int_eq(mmio_insn_decode(b, 14, &in), -EAGAIN); /* 14: the SIB may still fit */
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "mmio-insn-store-reg", &mmio_insn_store_reg_ttest },
	{ "mmio-insn-store-high8-and-rex-byte", &mmio_insn_store_high8_and_rex_byte_ttest },
	{ "mmio-insn-store-imm", &mmio_insn_store_imm_ttest },
	{ "mmio-insn-loads-set-register-width", &mmio_insn_loads_set_register_width_ttest },
	{ "mmio-insn-refuses-unknown", &mmio_insn_refuses_what_it_does_not_know_ttest },
	{ "mmio-insn-short-fetch-asks-for-more", &mmio_insn_short_fetch_asks_for_more_ttest },
	{ "mmio-insn-full-fetch-never-asks-for-more", &mmio_insn_full_fetch_never_asks_for_more_ttest },
	{ 0 },
};
