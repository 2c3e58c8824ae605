/*
 * The pure rules of guest extended state: which XCR0 values XSETBV
 * accepts, the XSAVE area size, and what CPUID tells a guest. No hardware
 * access here (tests/unit/test_xstate.c runs these on the build host);
 * the machinery is in fpu.c.
 */
#include <asm/fpu.h>

#define XSTATE_AVX512 (XSTATE_OPMASK | XSTATE_ZMM_HI256 | XSTATE_HI16_ZMM)

bool xcr0_valid(u64 val, u64 allowed)
{
	/* SDM vol. 2 XSETBV "Protected Mode Exceptions" and vol. 1 13.3:
	 * #GP(0) for bit 0 clear, an unsupported bit, bit 2 without bit 1,
	 * and (AVX-512) bits 5-7 not all equal or set without bit 2. */
	if (!(val & XSTATE_X87) || (val & ~allowed))
		return false;
	if ((val & XSTATE_AVX) && !(val & XSTATE_SSE))
		return false;
	if ((val & XSTATE_AVX512) && ((val & XSTATE_AVX512) != XSTATE_AVX512 ||
				       !(val & XSTATE_AVX)))
		return false;
	return true;
}

u32 xstate_size(const struct xstate_host *h, u64 xcr0)
{
	u32 size = XSAVE_MIN_SIZE;

	/* Standard (non-compacted) format: component i >= 2 sits at the
	 * fixed offset CPUID 0xd.i EBX reports, whatever else is on (SDM
	 * 13.4.3); the area ends where the last enabled component ends. */
	for (unsigned i = 2; i < XSTATE_NR; i++)
		if ((xcr0 & (1ULL << i)) && h->offset[i] + h->size[i] > size)
			size = h->offset[i] + h->size[i];
	return size;
}

/* CPUID bits (SDM vol. 2 CPUID, AMD APM vol. 3 E.3). */
#define L1_ECX_FMA (1u << 12)
#define L1_ECX_XSAVE (1u << 26)
#define L1_ECX_OSXSAVE (1u << 27)
#define L1_ECX_AVX (1u << 28)
#define L1_ECX_F16C (1u << 29)
/* Leaf 7.0 EBX: AVX2, and the AVX-512 family (F, DQ, IFMA, PF, ER, CD,
 * BW, VL). */
#define L7_EBX_AVX2 (1u << 5)
#define L7_EBX_AVX512 ((1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) | \
		       (1u << 28) | (1u << 30) | (1u << 31))
/* Leaf 7.0 ECX: VEX-256 encodings (VAES, VPCLMULQDQ) need AVX; VBMI,
 * VBMI2, VNNI, BITALG, VPOPCNTDQ are AVX-512. PKU, and OSPKE which
 * mirrors CR4.PKE. */
#define L7_ECX_AVX ((1u << 9) | (1u << 10))
#define L7_ECX_AVX512 ((1u << 1) | (1u << 6) | (1u << 11) | (1u << 12) | (1u << 14))
#define L7_ECX_PKU (1u << 3)
#define L7_ECX_OSPKE (1u << 4)
/* Leaf 7.1 EAX: AVX-VNNI (VEX), AVX512_BF16. */
#define L7S1_EAX_AVX (1u << 4)
#define L7S1_EAX_AVX512 (1u << 5)
/* 0x80000001 ECX: XOP and FMA4 (AMD, VEX-like encodings on YMM). */
#define E1_ECX_AVX ((1u << 11) | (1u << 16))

static u32 keep_if(u32 reg, u32 bits, bool keep)
{
	return keep ? reg : reg & ~bits;
}

void xstate_cpuid(const struct xstate_host *h, const struct xstate_guest *g, u32 leaf,
		  u32 sub, struct cpuid_regs *r)
{
	u64 allowed = h->xsave ? h->xcr0 : 0;
	bool avx = allowed & XSTATE_AVX, pku = allowed & XSTATE_PKRU;

	switch (leaf) {
	case 1:
		/* OSXSAVE reports the guest's CR4, not the host's (SDM: it
		 * "reflects the value of CR4.OSXSAVE"). */
		r->ecx &= ~(L1_ECX_XSAVE | L1_ECX_OSXSAVE | L1_ECX_AVX);
		if (h->xsave)
			r->ecx |= L1_ECX_XSAVE | (g->osxsave ? L1_ECX_OSXSAVE : 0);
		if (avx)
			r->ecx |= L1_ECX_AVX;
		r->ecx = keep_if(r->ecx, L1_ECX_FMA | L1_ECX_F16C, avx);
		break;
	case 7:
		if (sub == 0) {
			r->ebx = keep_if(r->ebx, L7_EBX_AVX2, avx) & ~L7_EBX_AVX512;
			r->ecx = keep_if(r->ecx, L7_ECX_AVX, avx) & ~L7_ECX_AVX512;
			r->ecx = keep_if(r->ecx, L7_ECX_PKU, pku) & ~L7_ECX_OSPKE;
			if ((r->ecx & L7_ECX_PKU) && g->ospke)
				r->ecx |= L7_ECX_OSPKE;
		} else if (sub == 1) {
			r->eax = keep_if(r->eax, L7S1_EAX_AVX, avx) & ~L7S1_EAX_AVX512;
		}
		break;
	case 0xd:
		/* SDM vol. 1 13.2. Sub-leaf 0: EDX:EAX the XCR0 bits a guest
		 * may set, EBX the area size for its XCR0 now, ECX for all
		 * of them. Sub-leaf 1 (XSAVEOPT, XSAVEC, XGETBV1, XSAVES and
		 * IA32_XSS): nothing offered. Sub-leaf i >= 2: the host's
		 * size and offset for the components offered. */
		if (!h->xsave) {
			*r = (struct cpuid_regs){ 0 };
		} else if (sub == 0) {
			r->eax = (u32)allowed;
			r->edx = (u32)(allowed >> 32);
			r->ebx = xstate_size(h, g->xcr0);
			r->ecx = xstate_size(h, allowed);
		} else if (sub >= 2 && sub < XSTATE_NR && (allowed & (1ULL << sub))) {
			/* Keep EAX (size), EBX (offset); ECX bit 0 (user
			 * state, i.e. XCR0) stays; bit 1 (64-byte alignment
			 * in compacted form) is meaningless without XSAVEC. */
			r->ecx &= 1u;
			r->edx = 0;
		} else {
			*r = (struct cpuid_regs){ 0 };
		}
		break;
	case 0x80000001:
		r->ecx = keep_if(r->ecx, E1_ECX_AVX, avx);
		break;
	default:
		break;
	}
}
