/*
 * INS/OUTS decoding (arch/x86/string_io.c): the segment override and the
 * 67h prefix found among the prefixes (in 64-bit mode only FS/GS count,
 * REX skipped), the opcode, more bytes asked for, non-string opcodes and
 * over-long prefix runs refused; the address size by mode and prefix.
 *
 * unit-sources: arch/x86/string_io.c arch/x86/insn.c
 */
#include <lib/errno.h>
#include <asm/string_io.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

START_TEST(string_io_prefixes_decoded)
{
	struct string_io_insn s;
	const u8 plain[] = { 0xf3, 0x6e };
	ck_assert_int_eq(string_io_decode(plain, sizeof(plain), true, &s), 2);
	ck_assert_int_eq(s.seg, -1);
	ck_assert(!s.addr_override);
	ck_assert_uint_eq(s.opcode, 0x6e);

	const u8 gs_a32[] = { 0x65, 0x67, 0xf3, 0x48, 0x6f };
	ck_assert_int_eq(string_io_decode(gs_a32, sizeof(gs_a32), true, &s), 5);
	ck_assert_int_eq(s.seg, VSEG_GS);
	ck_assert(s.addr_override);
	ck_assert_uint_eq(s.opcode, 0x6f);

	/* ES override: ignored in 64-bit mode, honoured in 32-bit code. */
	const u8 es[] = { 0x26, 0x6e };
	ck_assert_int_eq(string_io_decode(es, sizeof(es), true, &s), 2);
	ck_assert_int_eq(s.seg, -1);
	ck_assert_int_eq(string_io_decode(es, sizeof(es), false, &s), 2);
	ck_assert_int_eq(s.seg, VSEG_ES);
	/* 0x48 outside 64-bit mode is DEC, not a prefix. */
	const u8 dec[] = { 0x48, 0x6c };
	ck_assert_int_eq(string_io_decode(dec, sizeof(dec), false, &s), -EINVAL);
}
END_TEST

START_TEST(string_io_more_bytes_or_refused)
{
	struct string_io_insn s;
	const u8 part[] = { 0xf3, 0x66 };
	ck_assert_int_eq(string_io_decode(part, sizeof(part), true, &s), -EAGAIN);
	const u8 not_string[] = { 0xee };
	ck_assert_int_eq(string_io_decode(not_string, 1, true, &s), -EINVAL);
	u8 longrun[16];
	for (int i = 0; i < 15; i++)
		longrun[i] = 0x66;
	longrun[15] = 0x6c;
	ck_assert_int_eq(string_io_decode(longrun, sizeof(longrun), true, &s), -EINVAL);
}
END_TEST

START_TEST(string_io_address_size_by_mode)
{
	const u16 L = 1u << 9, DB = 1u << 10;
	ck_assert_uint_eq(string_io_addr_size(L, true, false), 8);
	ck_assert_uint_eq(string_io_addr_size(L, true, true), 4);
	ck_assert_uint_eq(string_io_addr_size(DB, true, false), 4);  /* compatibility mode */
	ck_assert_uint_eq(string_io_addr_size(DB, false, false), 4);
	ck_assert_uint_eq(string_io_addr_size(DB, false, true), 2);
	ck_assert_uint_eq(string_io_addr_size(0, false, false), 2);
	ck_assert_uint_eq(string_io_addr_size(0, false, true), 4);
	ck_assert_uint_eq(string_io_addr_size(L, false, false), 2);  /* L ignored without LMA */
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "string-io-prefixes-decoded", &string_io_prefixes_decoded_ttest },
	{ "string-io-more-bytes-or-refused", &string_io_more_bytes_or_refused_ttest },
	{ "string-io-address-size-by-mode", &string_io_address_size_by_mode_ttest },
	{ 0 },
};
