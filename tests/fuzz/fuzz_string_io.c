/*
 * The INS/OUTS prefix decoder (arch/x86/string_io.c): guest code bytes at
 * an intercepted string I/O instruction (the guest may have rewritten
 * them since the exit).
 *
 * unit-sources: arch/x86/string_io.c arch/x86/insn.c
 *
 * Input: one mode byte (bit 0: 64-bit mode), then the bytes, in a heap
 * buffer of exactly that size (ASan sees any read past `avail`). Checks
 * the contract: a length 1..15 with an opcode 6c-6f and a segment that is
 * -1 or a data segment register, else -EAGAIN or -EINVAL; and a length
 * found with more bytes is found again with exactly that many.
 */
#include <lib/errno.h>
#include <asm/insn.h>
#include <asm/string_io.h>

#include "fuzz.h"

static int decode(const u8 *bytes, size_t avail, bool l64, struct string_io_insn *s)
{
	u8 *copy = malloc(avail ? avail : 1);
	int rc;

	memcpy(copy, bytes, avail);
	rc = string_io_decode(copy, avail, l64, s);
	free(copy);
	return rc;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	if (size < 1)
		return 0;
	bool l64 = data[0] & 1;
	struct string_io_insn s, again;
	int len = decode(data + 1, size - 1, l64, &s);

	fuzz_check(len == -EINVAL || len == -EAGAIN || (len >= 1 && len <= INSN_MAX_LEN),
		   "length %d", len);
	if (len > 0) {
		fuzz_check(s.opcode >= 0x6c && s.opcode <= 0x6f, "opcode 0x%x", s.opcode);
		fuzz_check(s.seg >= -1 && s.seg <= VSEG_GS, "segment %d", s.seg);
		fuzz_check(!l64 || s.seg == -1 || s.seg == VSEG_FS || s.seg == VSEG_GS,
			   "segment %d honoured in 64-bit mode", s.seg);
		int len2 = decode(data + 1, (size_t)len, l64, &again);
		fuzz_check(len2 == len && again.seg == s.seg && again.opcode == s.opcode,
			   "length %d with %d bytes, %d with all", len2, len, len);
	}
	return 0;
}
