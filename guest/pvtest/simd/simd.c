/*
 * role=simd tag=T [rounds=N] [iters=K] (pvtest-simd.elf only): the FPU
 * isolation checks a domU can make about itself.
 *
 *  1. Its registers start clean: the FNINIT/reset state (FCW 0x37f, FSW 0,
 *     all x87 registers empty and zero, MXCSR 0x1f80, XMM/YMM zero), not
 *     whatever dom0 or an earlier domain left in the CPU.
 *  2. XSETBV (where CPUID offers XSAVE): bad values raise #GP, XSETBV
 *     without CR4.OSXSAVE #UD, good values stick and CPUID follows them.
 *  3. N rounds: load a pattern carrying tag T into MM0-7, XMM0-15, the
 *     YMM upper halves, MXCSR, FCW (and PKRU with PKU), give the CPU up
 *     (SCHEDOP_yield on odd rounds; on even ones spin until the host timer
 *     has preempted it a few times), read everything back: it must be
 *     unchanged. Tag 1 turns AVX off in XCR0 over some of the yields.
 *  4. A checksum computed in XMM registers by compiled SSE2 code
 *     (checksum_sse2.c), preempted many times, equals the scalar one.
 *
 * Prints "pvtest: simd: check NAME: GOT (want WANT)" for each fact and
 * ends with PASS, or FAIL (crash) when any differed.
 * This file is built -mgeneral-regs-only like the rest of pvtest: between
 * simd_load() and simd_read() nothing here touches the registers.
 */
#include <lib/string.h>
#include <public/sched.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvtest.h"
#include "simd.h"
#include "simd_role.h"

/* This flavour enables SSE/AVX at start (guest/lib/start.c). */
const bool guest_simd = true;

#define VEC_UD 6
#define VEC_GP 13
#define NO_FAULT (-1)
#define SPIN_NS (25 * 1000000ULL) /* > 2 scheduler slices of 10 ms */

static unsigned nr_checks, nr_bad;

static void check(const char *what, u64 got, u64 want)
{
	nr_checks++;
	if (got != want)
		nr_bad++;
	printf("pvtest: simd: check %s: 0x%lx (want 0x%lx)%s\n", what, got, want,
	       got == want ? "" : " MISMATCH");
}

static void check_fresh_state(bool avx)
{
	struct simd_state got, clean;
	char why[160];

	simd_read(&got, avx);
	memset(&clean, 0, sizeof(clean));
	clean.fcw = 0x037f;
	clean.mxcsr = 0x1f80;
	check("fresh-fcw", got.fcw, 0x037f);
	check("fresh-fsw", got.fsw, 0);
	check("fresh-ftw-all-empty", got.ftw, 0);
	check("fresh-mxcsr", got.mxcsr, 0x1f80);
	unsigned bad = simd_compare(&got, &clean, avx, why, sizeof(why));
	if (bad)
		printf("pvtest: simd: fresh state: %u values not clean, first: %s\n", bad, why);
	check("fresh-registers-zero", bad, 0);
	if (simd_features & SIMD_PKU)
		check("fresh-pkru", got.pkru, 0);
}

static u64 offered_xcr0(void)
{
	struct cpuid_regs r = cpuid_count(0xd, 0);
	return ((u64)r.edx << 32) | r.eax;
}

static u32 cpuid_osxsave(void)
{
	return (cpuid(1).ecx >> 27) & 1;
}

/* Returns the XCR0 the domU keeps for the rest of the run. */
static u64 check_xsetbv(unsigned features)
{
	bool avx = features & SIMD_AVX;
	u64 offered = offered_xcr0(), want = avx ? 7 : 3;

	if (!(features & SIMD_XSAVE)) {
		puts("pvtest: simd: CPUID offers no XSAVE: XSETBV checks skipped");
		return 0;
	}
	printf("pvtest: simd: XCR0 offered 0x%lx, XSAVE area %u bytes for all of it\n", offered,
	       cpuid_count(0xd, 0).ecx);
	check("xcr0-after-enable", xgetbv(0), want);
	check("xcr0-offers-no-more-than-keel-switches", offered & ~0x207ULL, 0);

	/* The lowest XCR0 bit the CPUID leaf does not offer. */
	unsigned hole = 3;
	while (hole < 63 && (offered & (1ULL << hole)))
		hole++;
	const struct { const char *name; u32 index; u64 val; } bad[] = {
		{ "xsetbv-xcr1-gp", 1, 3 },
		{ "xsetbv-zero-gp", 0, 0 },
		{ "xsetbv-without-x87-gp", 0, 2 },
		{ "xsetbv-avx-without-sse-gp", 0, 5 },
		{ "xsetbv-unoffered-bit-gp", 0, 3 | (1ULL << hole) },
		{ "xsetbv-bit63-gp", 0, 3 | (1ULL << 63) },
		{ "xsetbv-avx512-gp", 0, 7 | 0xe0 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		check(bad[i].name, (u64)(long)xsetbv_safe(bad[i].index, bad[i].val), VEC_GP);
	check("xcr0-unchanged-by-refused-xsetbv", xgetbv(0), want);

	write_cr4(read_cr4() & ~CR4_OSXSAVE);
	check("cpuid-osxsave-clear-with-cr4", cpuid_osxsave(), 0);
	check("xsetbv-without-osxsave-ud", (u64)(long)xsetbv_safe(0, 3), VEC_UD);
	write_cr4(read_cr4() | CR4_OSXSAVE);
	check("cpuid-osxsave-set-with-cr4", cpuid_osxsave(), 1);

	check("xsetbv-x87-sse", (u64)(long)xsetbv_safe(0, 3), (u64)(long)NO_FAULT);
	check("xcr0-x87-sse", xgetbv(0), 3);
	check("cpuid-xsave-size-x87-sse", cpuid_count(0xd, 0).ebx, 576);
	if (avx) {
		check("xsetbv-x87-sse-avx", (u64)(long)xsetbv_safe(0, 7), (u64)(long)NO_FAULT);
		check("xcr0-x87-sse-avx", xgetbv(0), 7);
		check("cpuid-xsave-size-x87-sse-avx", cpuid_count(0xd, 0).ebx,
		      cpuid_count(0xd, 2).ebx + cpuid_count(0xd, 2).eax);
	}
	return want;
}

static void spin_ns(u64 ns)
{
	u64 end = pvclock_now_ns() + ns;
	while (pvclock_now_ns() < end)
		cpu_relax();
}

/*
 * Tag 1 also turns AVX off in XCR0 over the yield of every fourth round
 * and back on after it. The YMM upper halves it then reads must be its own
 * or zero (the SDM leaves the choice to the CPU), never tag 2's: which is
 * what a hypervisor that saved and restored under the guest's XCR0 would
 * hand back.
 */
static bool avx_off_over_yield(unsigned tag, u64 r, bool avx)
{
	return avx && tag == 1 && r % 4 == 1;
}

static void check_rounds(unsigned tag, u64 rounds, bool avx)
{
	struct simd_state want, got;
	char why[160];
	u64 bad_rounds = 0, offs = 0, own = 0, zero = 0;

	for (u64 r = 1; r <= rounds; r++) {
		bool off = avx_off_over_yield(tag, r, avx);
		simd_pattern(&want, tag, (unsigned)r);
		simd_load(&want, avx);
		if (off && xsetbv_safe(0, 3) >= 0)
			fail("XSETBV 3 refused");
		if (r & 1)
			HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
		else
			spin_ns(SPIN_NS);
		if (off && xsetbv_safe(0, 7) >= 0)
			fail("XSETBV 7 refused");
		simd_read(&got, avx);
		if (off) {
			offs++;
			for (unsigned i = 0; i < 16; i++)
				for (unsigned h = 0; h < 2; h++) {
					if (got.ymm_hi[i][h] == 0)
						zero++, got.ymm_hi[i][h] = want.ymm_hi[i][h];
					else if (got.ymm_hi[i][h] == want.ymm_hi[i][h])
						own++;
				}
		}
		unsigned bad = simd_compare(&got, &want, avx, why, sizeof(why));
		if (bad && bad_rounds++ < 3)
			printf("pvtest: simd: round %lu, after %s%s: %u values wrong, first: %s\n", r,
			       (r & 1) ? "a yield" : "preemption", off ? " with AVX off" : "", bad,
			       why);
	}
	if (offs)
		printf("pvtest: simd: AVX off in XCR0 over %lu yields: YMM upper halves back as "
		       "our own %lu times, zero %lu times\n", offs, own, zero);
	printf("pvtest: simd: %lu rounds (MMX, XMM%s, MXCSR, FCW%s), %lu with wrong values\n",
	       rounds, avx ? ", YMM" : "", (simd_features & SIMD_PKU) ? ", PKRU" : "", bad_rounds);
	check("rounds-registers-kept", rounds - bad_rounds, rounds);
}

/* The reference for simd_checksum_sse2(), lane by lane in general
 * registers. */
static u64 checksum_scalar(u64 seed, u64 iters)
{
	u32 a[4] = { (u32)seed, (u32)(seed >> 32), (u32)~seed, CK_A3 };
	u32 b[4] = { CK_B0, CK_B1, (u32)seed ^ CK_B2, CK_B3 };

	for (u64 i = 0; i < iters; i++) {
		for (unsigned l = 0; l < 4; l++) {
			a[l] = a[l] * CK_MUL + b[l];
			b[l] ^= (a[l] >> 13) | (a[l] << 19);
			b[l] += (u32)i;
		}
	}
	return ((u64)(a[0] ^ b[1] ^ a[2]) << 32) | (a[1] ^ b[0] ^ a[3] ^ b[2] ^ b[3]);
}

void role_simd(const struct hvm_start_info *si)
{
	unsigned tag = (unsigned)arg_u64("tag");
	u64 rounds = arg_u64_or("rounds", 20), iters = arg_u64_or("iters", 2000000);
	unsigned f = simd_features;
	bool avx = f & SIMD_AVX;
	(void)si;

	printf("pvtest: simd: tag %u: SSE%s%s%s\n", tag, (f & SIMD_XSAVE) ? ", XSAVE" : "",
	       avx ? ", AVX" : "", (f & SIMD_PKU) ? ", PKU" : "");
	/* First, before anything here loads a register. */
	check_fresh_state(avx);
	u64 xcr0 = check_xsetbv(f);
	check_rounds(tag, rounds, avx);

	u64 seed = 0x9e3779b97f4a7c15ULL * (tag + 1);
	u64 t0 = pvclock_now_ns();
	u64 vec = simd_checksum_sse2(seed, iters);
	u64 ms = (pvclock_now_ns() - t0) / 1000000;
	printf("pvtest: simd: SSE2 checksum of %lu steps: 0x%lx in %lu ms\n", iters, vec, ms);
	check("sse2-checksum-equals-scalar", vec, checksum_scalar(seed, iters));
	if (xcr0)
		check("xcr0-kept-across-switches", xgetbv(0), xcr0);

	if (nr_bad)
		fail("%u of %u checks wrong", nr_bad, nr_checks);
	printf("pvtest: simd: PASS tag %u: %u checks; clean start, %lu rounds intact%s\n", tag,
	       nr_checks, rounds, avx ? " (with YMM)" : "");
}
