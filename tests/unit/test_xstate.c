/*
 * The pure rules of guest extended state (arch/x86/xstate.c, contract in
 * arch/x86/include/asm/fpu.h): which XCR0 values XSETBV accepts (Intel SDM
 * vol. 2 XSETBV), the XSAVE area size, and the CPUID bits a guest is shown
 * (only what Keel switches).
 *
 * unit-sources: arch/x86/xstate.c
 */
#include <asm/fpu.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* A Skylake-like host: AVX at 576 (256 bytes), AVX-512 components, PKRU
 * at 2688 (8 bytes); Keel switches x87|SSE|AVX|PKRU of it. */
static struct xstate_host skylake(void)
{
	struct xstate_host h = { .xsave = true, .xcr0 = 0x207 };
	h.offset[2] = 576, h.size[2] = 256;
	h.offset[5] = 1088, h.size[5] = 64;
	h.offset[6] = 1152, h.size[6] = 512;
	h.offset[7] = 1664, h.size[7] = 1024;
	h.offset[9] = 2688, h.size[9] = 8;
	return h;
}

START_TEST(xcr0_valid_follows_the_sdm)
{
	u64 allowed = 0x7;
	ck_assert(xcr0_valid(0x1, allowed));
	ck_assert(xcr0_valid(0x3, allowed));
	ck_assert(xcr0_valid(0x7, allowed));
	ck_assert(!xcr0_valid(0x0, allowed));          /* x87 must stay on */
	ck_assert(!xcr0_valid(0x2, allowed));
	ck_assert(!xcr0_valid(0x5, allowed));          /* AVX without SSE */
	ck_assert(!xcr0_valid(0xf, allowed));          /* MPX: not offered */
	ck_assert(!xcr0_valid(0x3 | (1ULL << 63), allowed));
	ck_assert(!xcr0_valid(0x207, allowed));        /* PKRU not offered here */
	ck_assert(xcr0_valid(0x203, 0x207));
	/* AVX-512: all three or none, and only with AVX. */
	ck_assert(xcr0_valid(0xe7, 0xe7));
	ck_assert(!xcr0_valid(0x67, 0xe7));
	ck_assert(!xcr0_valid(0xe3, 0xe7));
}
END_TEST

START_TEST(xstate_size_is_the_end_of_the_last_component)
{
	struct xstate_host h = skylake();
	ck_assert_uint_eq(xstate_size(&h, 0x1), 576);
	ck_assert_uint_eq(xstate_size(&h, 0x3), 576);
	ck_assert_uint_eq(xstate_size(&h, 0x7), 832);
	ck_assert_uint_eq(xstate_size(&h, 0x203), 2696);
	ck_assert_uint_eq(xstate_size(&h, 0x207), 2696);
}
END_TEST

START_TEST(cpuid_leaf1_shows_xsave_avx_and_guest_osxsave)
{
	struct xstate_host h = skylake();
	struct xstate_guest g = { .xcr0 = 1, .osxsave = false };
	/* FMA, XSAVE, OSXSAVE (host's), AVX, F16C all set by the host. */
	u32 host_ecx = (1u << 12) | (1u << 26) | (1u << 27) | (1u << 28) | (1u << 29) | 1u;
	struct cpuid_regs r = { .ecx = host_ecx };

	xstate_cpuid(&h, &g, 1, 0, &r);
	ck_assert_uint_eq(r.ecx, host_ecx & ~(1u << 27)); /* guest CR4.OSXSAVE clear */
	g.osxsave = true;
	r.ecx = host_ecx & ~(1u << 27);
	xstate_cpuid(&h, &g, 1, 0, &r);
	ck_assert_uint_eq(r.ecx, host_ecx);

	/* Without XSAVE (FXSAVE host): no XSAVE, OSXSAVE, AVX, FMA, F16C. */
	struct xstate_host fx = { .xsave = false };
	r.ecx = host_ecx;
	xstate_cpuid(&fx, &g, 1, 0, &r);
	ck_assert_uint_eq(r.ecx, 1u);
}
END_TEST

START_TEST(cpuid_leaf7_hides_what_is_not_switched)
{
	struct xstate_host h = skylake();
	struct xstate_guest g = { .xcr0 = 7 };
	/* EBX: AVX2, AVX512F, AVX512BW, BMI1 (bit 3, not AVX). ECX: PKU,
	 * OSPKE (the host's), VAES, AVX512_VBMI. EDX untouched. */
	struct cpuid_regs r = { .ebx = (1u << 5) | (1u << 16) | (1u << 30) | (1u << 3),
				.ecx = (1u << 3) | (1u << 4) | (1u << 9) | (1u << 1),
				.edx = 0xdeadbeef };
	xstate_cpuid(&h, &g, 7, 0, &r);
	ck_assert_uint_eq(r.ebx, (1u << 5) | (1u << 3));
	ck_assert_uint_eq(r.ecx, (1u << 3) | (1u << 9)); /* OSPKE: guest CR4.PKE clear */
	ck_assert_uint_eq(r.edx, 0xdeadbeef);

	h.xcr0 = 0x3; /* no AVX, no PKRU switched */
	r = (struct cpuid_regs){ .ebx = (1u << 5) | (1u << 3), .ecx = (1u << 3) | (1u << 9) };
	xstate_cpuid(&h, &g, 7, 0, &r);
	ck_assert_uint_eq(r.ebx, 1u << 3);
	ck_assert_uint_eq(r.ecx, 0);
}
END_TEST

START_TEST(cpuid_leaf_d_reports_offered_components_and_sizes)
{
	struct xstate_host h = skylake();
	h.xcr0 = 0x7;
	struct xstate_guest g = { .xcr0 = 0x3 };
	struct cpuid_regs r = { .eax = 0x2ff, .ebx = 2696, .ecx = 2696, .edx = 0 };

	xstate_cpuid(&h, &g, 0xd, 0, &r);
	ck_assert_uint_eq(r.eax, 0x7);
	ck_assert_uint_eq(r.edx, 0);
	ck_assert_uint_eq(r.ebx, 576);  /* for the guest's XCR0 now */
	ck_assert_uint_eq(r.ecx, 832);  /* for everything offered */
	r = (struct cpuid_regs){ .eax = 0xf, .ebx = 0x100, .ecx = 0x1, .edx = 0 };
	xstate_cpuid(&h, &g, 0xd, 1, &r); /* XSAVEOPT/XSAVEC/XSAVES: none */
	ck_assert(r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0);
	r = (struct cpuid_regs){ .eax = 256, .ebx = 576, .ecx = 2, .edx = 0 };
	xstate_cpuid(&h, &g, 0xd, 2, &r);
	ck_assert(r.eax == 256 && r.ebx == 576 && r.ecx == 0);
	r = (struct cpuid_regs){ .eax = 64, .ebx = 1088 };
	xstate_cpuid(&h, &g, 0xd, 5, &r); /* opmask: not offered */
	ck_assert(r.eax == 0 && r.ebx == 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "fpu-xcr0-valid-follows-the-sdm", &xcr0_valid_follows_the_sdm_ttest },
	{ "fpu-xstate-size-is-the-end-of-the-last-component",
	  &xstate_size_is_the_end_of_the_last_component_ttest },
	{ "fpu-cpuid-leaf1-shows-xsave-avx-and-guest-osxsave",
	  &cpuid_leaf1_shows_xsave_avx_and_guest_osxsave_ttest },
	{ "fpu-cpuid-leaf7-hides-what-is-not-switched",
	  &cpuid_leaf7_hides_what_is_not_switched_ttest },
	{ "fpu-cpuid-leaf-d-reports-offered-components-and-sizes",
	  &cpuid_leaf_d_reports_offered_components_and_sizes_ttest },
	{ 0 },
};
