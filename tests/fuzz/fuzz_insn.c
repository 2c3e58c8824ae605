/*
 * The instruction-length decoder (arch/x86/insn.c): guest code bytes at
 * an intercepted instruction's RIP (the guest may have rewritten them).
 *
 * unit-sources: arch/x86/insn.c
 *
 * Input: one mode byte (bit 0: 64-bit mode), then the bytes, in a heap
 * buffer of exactly that size (ASan sees any read past `avail`). Checks
 * asm/insn.h's contract, and that the answer does not depend on how much
 * was fetched: a length L found with more bytes is found again with
 * exactly L, and every shorter fetch says -EAGAIN.
 */
#include <lib/errno.h>
#include <asm/insn.h>

#include "fuzz.h"

static int length_of(const u8 *bytes, size_t avail, bool l64)
{
	u8 *copy = malloc(avail ? avail : 1);
	int rc;

	memcpy(copy, bytes, avail);
	rc = insn_length(copy, avail, l64);
	free(copy);
	return rc;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	if (size < 1)
		return 0;
	bool l64 = data[0] & 1;
	const u8 *bytes = data + 1;
	size_t avail = size - 1;
	int len = length_of(bytes, avail, l64);

	fuzz_check(len == -EINVAL || len == -EAGAIN || (len >= 1 && len <= INSN_MAX_LEN),
		   "length %d", len);
	if (len > 0) {
		fuzz_check((size_t)len <= avail, "length %d with %zu bytes", len, avail);
		fuzz_check(length_of(bytes, len, l64) == len, "not found again with %d bytes", len);
		for (int n = 0; n < len; n++)
			fuzz_check(length_of(bytes, n, l64) == -EAGAIN,
				   "%d of %d bytes: %d, want -EAGAIN", n, len,
				   length_of(bytes, n, l64));
	}
	if (len == -EAGAIN)
		fuzz_check(avail < INSN_MAX_LEN, "-EAGAIN with %zu bytes", avail);
	return 0;
}
