/*
 * The vector half of pvtest-simd's checksum (simd.c has the scalar
 * reference): compiled with -msse2 (guest/guest.mk), so the compiler
 * keeps the accumulators in XMM registers for the whole loop, which runs
 * long enough for the host timer to preempt it many times. Another
 * domain's XMM values showing up mid-loop change the result.
 */
#include "simd_role.h"

typedef u32 v4u __attribute__((vector_size(16)));

u64 simd_checksum_sse2(u64 seed, u64 iters)
{
	v4u a = { (u32)seed, (u32)(seed >> 32), (u32)~seed, CK_A3 };
	v4u b = { CK_B0, CK_B1, (u32)seed ^ CK_B2, CK_B3 };
	const v4u k = { CK_MUL, CK_MUL, CK_MUL, CK_MUL };

	for (u64 i = 0; i < iters; i++) {
		v4u step = { (u32)i, (u32)i, (u32)i, (u32)i };
		a = a * k + b;
		b ^= (a >> 13) | (a << 19);
		b += step;
	}
	return ((u64)(a[0] ^ b[1] ^ a[2]) << 32) | (a[1] ^ b[0] ^ a[3] ^ b[2] ^ b[3]);
}
