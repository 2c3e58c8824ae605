/*
 * SIMD state for Keel's guests and their FPU tests: turning SSE/AVX on
 * (CR4, XCR0), loading known values into every x87/MMX/XMM/YMM register,
 * MXCSR and the x87 control word, and reading them all back
 * (simd_regs.asm, simd.c). Guests are built -mgeneral-regs-only, so
 * between simd_load() and simd_read() nothing but these functions touches
 * the registers: whatever simd_read() finds there was left by the CPU, the
 * hypervisor, or (when switching is broken) another domain.
 */
#ifndef GUEST_SIMD_H
#define GUEST_SIMD_H

#include <lib/types.h>

/* What simd_enable() turned on. */
#define SIMD_SSE (1u << 0)   /* CR4.OSFXSR/OSXMMEXCPT: SSE, FXSAVE */
#define SIMD_XSAVE (1u << 1) /* CR4.OSXSAVE: XSETBV/XGETBV */
#define SIMD_AVX (1u << 2)   /* XCR0 has AVX: YMM upper halves */
#define SIMD_PKU (1u << 3)   /* CR4.PKE: PKRU (RDPKRU/WRPKRU) */

/* The registers the tests compare. Layout used by simd_regs.asm. */
struct simd_state {
	u64 mm[8];          /* MM0-7 (x87 ST0-7 mantissas) */
	u64 xmm[16][2];     /* XMM0-15, low quadword first */
	u64 ymm_hi[16][2];  /* bits 128-255 of YMM0-15 */
	u32 mxcsr;
	u16 fcw;            /* x87 control word */
	u16 fsw;            /* x87 status word (read only) */
	u16 ftw;            /* abridged x87 tag word (read only) */
	u32 pkru;           /* with SIMD_PKU only */
};

/* Guests whose flavour sets this (e.g. pvtest-simd) get simd_enable()
 * from guest_start() before guest_main(). */
extern const bool guest_simd __attribute__((weak));

/*
 * Sets CR4.OSFXSR and OSXMMEXCPT; where CPUID offers XSAVE, CR4.OSXSAVE
 * and XCR0 = x87|SSE, plus AVX where offered; where it offers PKU,
 * CR4.PKE (harmless: the patterns never restrict key 0, the only key
 * Keel's guests use). Touches no register state.
 * Returns SIMD_* (also kept in simd_features).
 */
unsigned simd_enable(void);
extern unsigned simd_features;

/* Loads s into the registers (YMM upper halves only if avx, PKRU only
 * with SIMD_PKU in simd_features); FSW/FTW are not loaded (MMX loads make
 * every x87 register valid, TOP 0). */
void simd_load(const struct simd_state *s, bool avx);
/* Reads every register back (ymm_hi zero unless avx, pkru unless
 * SIMD_PKU). */
void simd_read(struct simd_state *s, bool avx);

/*
 * A pattern that names its owner: every register value carries `tag` in
 * bits 48-55 and `round` in bits 32-47, and MXCSR/FCW (rounding and
 * precision fields, exception masks) and PKRU (keys 1-15) differ per tag
 * and round. All
 * exceptions stay without flags, so no instruction ever faults on them.
 */
void simd_pattern(struct simd_state *s, unsigned tag, unsigned round);

/*
 * Compares the fields simd_load() sets (MM, XMM, YMM upper if avx, MXCSR,
 * FCW, PKRU with SIMD_PKU). Returns how many differ; *why (n bytes) describes the first, with
 * the tag and round its value carries when it looks like a pattern.
 */
unsigned simd_compare(const struct simd_state *got, const struct simd_state *want, bool avx,
		      char *why, size_t n);

/* XSETBV/XGETBV; xsetbv_safe returns -1 when it completed, else the
 * vector of the exception it raised (#GP 13, #UD 6). */
int xsetbv_safe(u32 index, u64 val);
u64 xgetbv(u32 index);

u64 read_cr4(void);
void write_cr4(u64 v);
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define CR4_OSXSAVE (1ULL << 18)

#endif
