/*
 * SIMD enabling and register patterns for Keel's guests (contract in
 * simd.h). Built -mgeneral-regs-only like the rest of the library: the
 * register traffic itself is in simd_regs.asm.
 */
#include <lib/string.h>
#include "cpu.h"
#include "guest.h"
#include "simd.h"

#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_AVX (1u << 28)
#define XCR0_X87 1ULL
#define XCR0_SSE 2ULL
#define XCR0_AVX 4ULL
#define CPUID_7_ECX_PKU (1u << 3)
#define CR4_PKE (1ULL << 22)

/* FXSAVE image offsets (Intel SDM vol. 1 table 10-2). */
#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_MXCSR 24
#define FX_ST0 32
#define FX_XMM0 160

unsigned simd_features;

void simd_fxsave_ymm(void *fx, u64 (*ymm_hi)[2], bool avx);
void simd_load_regs(const struct simd_state *s, bool avx);

/* RDPKRU/WRPKRU (ECX = 0; WRPKRU needs EDX = 0 too). */
static u32 rdpkru(void)
{
	u32 v, hi;
	asm volatile("rdpkru" : "=a"(v), "=d"(hi) : "c"(0));
	return v;
}

static void wrpkru(u32 v)
{
	asm volatile("wrpkru" : : "a"(v), "c"(0), "d"(0) : "memory");
}

u64 read_cr4(void)
{
	u64 v;
	asm volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

void write_cr4(u64 v)
{
	asm volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

u64 xgetbv(u32 index)
{
	u32 lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((u64)hi << 32) | lo;
}

int xsetbv_safe(u32 index, u64 val)
{
	u32 lo = (u32)val;

	trap_fixup_vector = -1;
	asm volatile("1: xsetbv\n"
		     "2:\n"
		     ".pushsection .ex_table, \"a\"\n"
		     ".balign 8\n"
		     ".quad 1b, 2b\n"
		     ".popsection"
		     : "+a"(lo) : "c"(index), "d"((u32)(val >> 32)) : "memory");
	return trap_fixup_vector;
}

unsigned simd_enable(void)
{
	struct cpuid_regs r = cpuid(1);
	unsigned f = SIMD_SSE;

	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	if (r.ecx & CPUID_1_ECX_XSAVE) {
		write_cr4(read_cr4() | CR4_OSXSAVE);
		f |= SIMD_XSAVE;
		u64 xcr0 = XCR0_X87 | XCR0_SSE;
		/* AVX needs both the feature bit and the state component. */
		if ((r.ecx & CPUID_1_ECX_AVX) && (cpuid_count(0xd, 0).eax & XCR0_AVX))
			xcr0 |= XCR0_AVX;
		int vec = xsetbv_safe(0, xcr0);
		if (vec >= 0)
			printf("%s: simd: XSETBV 0x%lx raised %s\n", guest_name, xcr0,
			       trap_name((unsigned)vec));
		else if (xcr0 & XCR0_AVX)
			f |= SIMD_AVX;
	}
	if (cpuid(0).eax >= 7 && (cpuid_count(7, 0).ecx & CPUID_7_ECX_PKU)) {
		write_cr4(read_cr4() | CR4_PKE);
		f |= SIMD_PKU;
	}
	simd_features = f;
	return f;
}

void simd_load(const struct simd_state *s, bool avx)
{
	simd_load_regs(s, avx);
	if (simd_features & SIMD_PKU)
		wrpkru(s->pkru);
}

void simd_read(struct simd_state *s, bool avx)
{
	static u8 fx[512] __aligned(16);

	memset(s, 0, sizeof(*s));
	simd_fxsave_ymm(fx, s->ymm_hi, avx);
	memcpy(&s->fcw, fx + FX_FCW, 2);
	memcpy(&s->fsw, fx + FX_FSW, 2);
	s->ftw = fx[FX_FTW];
	memcpy(&s->mxcsr, fx + FX_MXCSR, 4);
	for (unsigned i = 0; i < 8; i++)
		memcpy(&s->mm[i], fx + FX_ST0 + 16 * i, 8);
	memcpy(s->xmm, fx + FX_XMM0, sizeof(s->xmm));
	if (simd_features & SIMD_PKU)
		s->pkru = rdpkru();
}

static u64 value(unsigned tag, unsigned round, unsigned kind, unsigned i)
{
	return (0x5eULL << 56) | ((u64)(tag & 0xff) << 48) | ((u64)(round & 0xffff) << 32) |
	       ((u64)kind << 16) | i;
}

void simd_pattern(struct simd_state *s, unsigned tag, unsigned round)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < 8; i++)
		s->mm[i] = value(tag, round, 0x11, i);
	for (unsigned i = 0; i < 16; i++) {
		s->xmm[i][0] = value(tag, round, 0x20, i);
		s->xmm[i][1] = value(tag, round, 0x21, i);
		s->ymm_hi[i][0] = value(tag, round, 0x30, i);
		s->ymm_hi[i][1] = value(tag, round, 0x31, i);
	}
	/* MXCSR: rounding control (13-14) by tag, exception masks (7-12)
	 * by round; flags (0-5) clear. FCW: rounding control (10-11) by
	 * tag, precision 64/53 bits (bit 8) by round; masks all set. */
	s->mxcsr = 0x1f80 ^ (((tag + 1) & 3) << 13) ^ ((round & 0x3f) << 7);
	s->fcw = (u16)(0x037f ^ (((tag + 1) & 3) << 10) ^ ((round & 1) << 8));
	/* PKRU: two bits per key; key 0 (bits 0-1) stays fully accessible. */
	s->pkru = ((tag + 1) << 2) | ((round & 0xff) << 8) | (0x5eu << 24);
}

static void describe(char *why, size_t n, const char *reg, u64 got, u64 want)
{
	int at = snprintf(why, n, "%s is 0x%lx, want 0x%lx", reg, got, want);
	if (at > 0 && (size_t)at < n && (got >> 56) == 0x5e)
		snprintf(why + at, n - at, " (tag %lu's value, round %lu)", (got >> 48) & 0xff,
			 (got >> 32) & 0xffff);
}

unsigned simd_compare(const struct simd_state *got, const struct simd_state *want, bool avx,
		      char *why, size_t n)
{
	unsigned bad = 0;
	char reg[16];

#define CMP(name_fmt, idx, g, w)                                         \
	do {                                                             \
		if ((g) != (w) && !bad++) {                              \
			snprintf(reg, sizeof(reg), name_fmt, idx);       \
			describe(why, n, reg, (g), (w));                 \
		}                                                        \
	} while (0)

	why[0] = 0;
	for (unsigned i = 0; i < 8; i++)
		CMP("mm%u", i, got->mm[i], want->mm[i]);
	for (unsigned i = 0; i < 16; i++)
		for (unsigned h = 0; h < 2; h++)
			CMP("xmm%u", i, got->xmm[i][h], want->xmm[i][h]);
	for (unsigned i = 0; avx && i < 16; i++)
		for (unsigned h = 0; h < 2; h++)
			CMP("ymm%u.hi", i, got->ymm_hi[i][h], want->ymm_hi[i][h]);
	CMP("mxcsr%s", "", (u64)got->mxcsr, (u64)want->mxcsr);
	CMP("fcw%s", "", (u64)got->fcw, (u64)want->fcw);
	if (simd_features & SIMD_PKU)
		CMP("pkru%s", "", (u64)got->pkru, (u64)want->pkru);
#undef CMP
	return bad;
}
