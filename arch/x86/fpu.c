/*
 * Switching guest FPU/SIMD state (contract in asm/fpu.h, model in
 * docs/fpu.md).
 *
 * Neither VMRUN nor VM entry/exit touches x87/SSE/AVX registers, MXCSR,
 * PKRU or XCR0 (APM vol. 2 15.5; SDM vol. 3 ch. 27-28 list what they
 * load): without this file every domain would share them. Keel switches
 * them eagerly: the kernel's vCPU loop calls fpu_load() before a vCPU's
 * first entry of a run and fpu_save() when it gives the CPU up, so there
 * is no #NM trap and no owner to track across CPUs. The hypervisor never
 * uses these registers itself (-mgeneral-regs-only), so they keep the
 * guest's values across its exits.
 *
 * XCR0: XSAVE/XRSTOR work on the components enabled in XCR0 (SDM 13.6:
 * RFBM = XCR0 AND EDX:EAX). Saving and restoring always run with the
 * host's XCR0, the full set Keel switches, and the guest's own XCR0 is
 * loaded only around its run. If save and restore used the guest's XCR0,
 * a component the guest has switched off (say AVX) would keep the previous
 * vCPU's values in the registers, and the guest would read them after
 * turning it back on.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/fpu.h>
#include <asm/vendor.h>

#define EFER_FFXSR (1ULL << 14)
#define CR4_PKE (1UL << 22)
#define CPUID_1_EDX_FXSR (1u << 24)
/* CPUID 0x80000008 EBX[2] (AMD "RstrFpErrPtrs"): FXSAVE/XSAVE always
 * save, and FXRSTOR/XRSTOR always restore, the x87 error pointers. */
#define CPUID_E8_EBX_FP_ERR_PTRS (1u << 2)

/* Offsets in the FXSAVE image / XSAVE legacy region (SDM vol. 1 10.5.1,
 * table 10-2) and the XSAVE header (13.4.2). */
#define FX_FCW 0
#define FX_MXCSR 24
#define XSAVE_HDR_XSTATE_BV 512

#define FCW_INIT 0x037f   /* FNINIT (SDM vol. 1 8.1.5, table 8-1) */
#define MXCSR_INIT 0x1f80 /* all SIMD exceptions masked, round to nearest */

static struct xstate_host host;
static u32 area_size;        /* bytes of each vCPU's save area in use */
/* Older AMD CPUs save FIP/FDP/FOP only while an x87 exception is pending
 * and leave them alone on restore otherwise (APM vol. 5 FXSAVE/FXRSTOR;
 * the info leak of CVE-2006-1056): the next vCPU would read the last
 * one's. Clear them before each restore on such CPUs. */
static bool clear_fp_ptrs;

static inline void xsetbv(u32 index, u64 val)
{
	__asm__ volatile("xsetbv" ::"c"(index), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

static inline u64 xgetbv(u32 index)
{
	u32 lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(index));
	return ((u64)hi << 32) | lo;
}

/* REX.W forms (FXSAVE64, XSAVE64): 64-bit FIP/FDP, as a 64-bit guest
 * expects them back. EDX:EAX = all ones: every component XCR0 enables. */
static inline void xsave_all(void *area)
{
	__asm__ volatile("xsave64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
}

static inline void xrstor_all(const void *area)
{
	__asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
}

static inline void fxsave(void *area)
{
	__asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

static inline void fxrstor(const void *area)
{
	__asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

/* Makes FIP/FDP/FOP the hypervisor's (a load from a fixed address), so
 * a restore that skips them cannot leave the previous vCPU's. The x87
 * stack itself is overwritten by the restore that follows. */
static void fp_ptrs_clear(void)
{
	static const u32 zero;
	__asm__ volatile("fnclex; ffree %%st(7); fildl %0" ::"m"(zero));
}

static void describe(char *buf, size_t n)
{
	static const char *const names[XSTATE_NR] = {
		[0] = "x87", [1] = "SSE", [2] = "AVX", [9] = "PKRU",
	};
	size_t at = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < XSTATE_NR && at < n; i++)
		if ((host.xcr0 & (1ULL << i)) && names[i])
			at += snprintf(buf + at, n - at, "%s%s", at ? " " : "", names[i]);
}

void fpu_init(void)
{
	struct cpuid_regs r;
	char what[40];

	/* TS or EM set would make FXSAVE/XSAVE fault (#NM, #UD). MP and NE
	 * are what every modern OS runs with; VMX requires NE anyway. */
	write_cr0((read_cr0() & ~(CR0_TS | CR0_EM)) | CR0_MP | CR0_NE);
	/* AMD's fast FXSAVE/FXRSTOR skips XMM0-15 at CPL 0 in 64-bit mode
	 * (APM vol. 2 3.1.7): the guests' XMM registers would not be
	 * switched. Firmware may have set it. */
	if (cpu_features.amd && (rdmsr(MSR_EFER) & EFER_FFXSR))
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_FFXSR);

	cpuid(1, &r);
	if (!(r.edx & CPUID_1_EDX_FXSR))
		panic("CPU without FXSAVE/FXRSTOR: cannot switch guest FPU state");
	u64 cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	host.xsave = cpu_features.xsave;
	if (host.xsave)
		cr4 |= CR4_OSXSAVE;
	write_cr4(cr4);

	if (host.xsave) {
		cpuid_count(0xd, 0, &r);
		u64 supported = ((u64)r.edx << 32) | r.eax;
		host.xcr0 = supported & XSTATE_KEEL_SWITCHED;
		for (unsigned i = 2; i < XSTATE_NR; i++) {
			if (!(host.xcr0 & (1ULL << i)))
				continue;
			cpuid_count(0xd, i, &r);
			host.size[i] = r.eax;
			host.offset[i] = r.ebx;
		}
		/* The save area is one frame; the components Keel switches
		 * end at 2696 bytes (PKRU) on every CPU known, but trust
		 * nothing: drop what does not fit. */
		if (xstate_size(&host, host.xcr0) > PAGE_SIZE)
			host.xcr0 &= ~XSTATE_PKRU;
		if (xstate_size(&host, host.xcr0) > PAGE_SIZE)
			host.xcr0 &= ~XSTATE_AVX;
		xsetbv(0, host.xcr0);
		area_size = xstate_size(&host, host.xcr0);
	} else {
		area_size = XSAVE_LEGACY_SIZE;
	}

	if (cpu_features.amd) {
		cpuid(0x80000000, &r);
		u32 ebx = 0;
		if (r.eax >= 0x80000008) {
			cpuid(0x80000008, &r);
			ebx = r.ebx;
		}
		clear_fp_ptrs = !(ebx & CPUID_E8_EBX_FP_ERR_PTRS);
	}

	describe(what, sizeof(what));
	if (host.xsave)
		pr_info("fpu: XSAVE, guest state switched: %s (XCR0 0x%lx), %u-byte areas%s\n", what,
			xgetbv(0), area_size, clear_fp_ptrs ? ", x87 error pointers cleared" : "");
	else
		pr_info("fpu: no XSAVE: FXSAVE, guest state switched: x87 SSE, %u-byte areas%s\n",
			area_size, clear_fp_ptrs ? ", x87 error pointers cleared" : "");
}

int fpu_vcpu_init(struct vcpu *v)
{
	paddr_t pa = frame_alloc(); /* zeroed; XSAVE wants 64-byte alignment */
	if (!pa)
		return -ENOMEM;
	u8 *area = phys_to_virt(pa);

	/* The initial state (SDM vol. 1 13.6: the x87 and SSE "initial
	 * configuration"; 8.1.5 FNINIT). In the FXSAVE image: FCW 0x37f,
	 * FSW 0, abridged FTW 0 (all empty), pointers and registers 0,
	 * MXCSR 0x1f80. In an XSAVE area the header's XSTATE_BV is 0 too,
	 * so XRSTOR puts every component in its initial configuration, and
	 * takes MXCSR from the legacy region (13.8.1). */
	*(u16 *)(area + FX_FCW) = FCW_INIT;
	*(u32 *)(area + FX_MXCSR) = MXCSR_INIT;
	*(u64 *)(area + XSAVE_HDR_XSTATE_BV) = 0;
	v->arch.fpu_area = area;
	v->arch.xcr0 = XSTATE_X87; /* the reset value (SDM 13.3) */
	return 0;
}

void fpu_vcpu_destroy(struct vcpu *v)
{
	if (v->arch.fpu_area)
		frame_free(virt_to_phys(v->arch.fpu_area));
	v->arch.fpu_area = NULL;
}

void fpu_load(struct vcpu *v)
{
	if (clear_fp_ptrs)
		fp_ptrs_clear();
	if (host.xsave) {
		/* XCR0 is the host's here (see the top of the file). */
		xrstor_all(v->arch.fpu_area);
		if (v->arch.xcr0 != host.xcr0)
			xsetbv(0, v->arch.xcr0);
	} else {
		fxrstor(v->arch.fpu_area);
	}
}

/*
 * A guest's XSETBV always exits on VMX (SDM 25.1.3) and exits on SVM with
 * the intercept set (APM 15.9), but QEMU 7.2's TCG SVM ignores that
 * intercept: the guest's XSETBV then changes XCR0 without Keel seeing it
 * (validated only against what the emulated CPU supports). Keep the
 * guest's value if it is one Keel would have accepted; kill the domain if
 * not, since a component outside the switched set would not be saved.
 */
static void xcr0_sync(struct vcpu *v)
{
	static bool reported;
	u64 live = xgetbv(0);

	if (live == v->arch.xcr0)
		return;
	if (!reported) {
		reported = true;
		pr_info("fpu: d%uv%u changed XCR0 to 0x%lx without an XSETBV exit (the CPU "
			"ignores the intercept)\n", v->dom->id, v->id, live);
	}
	if (xcr0_valid(live, host.xcr0))
		v->arch.xcr0 = live;
	else
		domain_crash(v, "XCR0 set behind the hypervisor's back to a value it refuses");
}

void fpu_save(struct vcpu *v)
{
	if (host.xsave) {
		xcr0_sync(v);
		if (v->arch.xcr0 != host.xcr0)
			xsetbv(0, host.xcr0);
		xsave_all(v->arch.fpu_area);
	} else {
		fxsave(v->arch.fpu_area);
	}
}

int fpu_xsetbv(struct vcpu *v, u32 index, u64 val)
{
	if (!host.xsave || index != 0 || !xcr0_valid(val, host.xcr0))
		return -EINVAL;
	/* v runs on this CPU between fpu_load and fpu_save: its XCR0 is
	 * the live one. */
	xsetbv(0, val);
	v->arch.xcr0 = val;
	return 0;
}

void fpu_cpuid(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	u64 cr4 = vendor->get_reg(v, VREG_CR4);
	/* v runs: the live XCR0 is its own (even one set without an exit,
	 * see xcr0_sync). */
	struct xstate_guest g = {
		.xcr0 = host.xsave ? xgetbv(0) : v->arch.xcr0,
		.osxsave = cr4 & CR4_OSXSAVE,
		.ospke = cr4 & CR4_PKE,
	};
	xstate_cpuid(&host, &g, leaf, sub, r);
}
