/*
 * Guest FPU/SIMD state (x87, MMX, SSE, AVX, MXCSR, PKRU): one save area per
 * vCPU, switched eagerly whenever a vCPU takes or leaves the CPU, and the
 * guest's XCR0. The model and its reasons: docs/fpu.md.
 *
 * The hypervisor itself is built -mgeneral-regs-only and never touches
 * these registers, so whatever they hold between fpu_load() and fpu_save()
 * is the running vCPU's state. Intel SDM vol. 1 ch. 13 (XSAVE), vol. 2
 * FXSAVE/XSAVE/XRSTOR/XSETBV; AMD APM vol. 2 11.5.
 */
#ifndef ASM_FPU_H
#define ASM_FPU_H

#include <lib/types.h>
#include <asm/cpu.h>

struct vcpu;

/* XCR0 / XSTATE_BV bits (SDM vol. 1 13.1). */
#define XSTATE_X87 (1ULL << 0)
#define XSTATE_SSE (1ULL << 1)
#define XSTATE_AVX (1ULL << 2)   /* upper halves of YMM0-15 */
#define XSTATE_OPMASK (1ULL << 5)
#define XSTATE_ZMM_HI256 (1ULL << 6)
#define XSTATE_HI16_ZMM (1ULL << 7)
#define XSTATE_PKRU (1ULL << 9)
#define XSTATE_NR 10             /* components Keel may know of: 0..9 */

/* The components Keel switches when the host has them. AVX-512 (5-7) and
 * the rest are neither switched nor offered to guests. */
#define XSTATE_KEEL_SWITCHED (XSTATE_X87 | XSTATE_SSE | XSTATE_AVX | XSTATE_PKRU)

/* Size of the legacy region plus the XSAVE header (SDM 13.4): the
 * smallest XSAVE area. FXSAVE uses the first 512 bytes only. */
#define XSAVE_LEGACY_SIZE 512
#define XSAVE_MIN_SIZE 576

/*
 * What the host offers, as the pure rules below need it: whether XSAVE
 * is there, the components switched (= the host's XCR0 outside guests
 * and the largest XCR0 a guest may set), and each component's standard
 * offset and size (CPUID 0xd sub-leaf i: EBX, EAX).
 */
struct xstate_host {
	bool xsave;
	u64 xcr0;
	u32 offset[XSTATE_NR];
	u32 size[XSTATE_NR];
};

/* The guest facts CPUID depends on. */
struct xstate_guest {
	u64 xcr0;      /* the vCPU's XCR0 */
	bool osxsave;  /* guest CR4.OSXSAVE */
	bool ospke;    /* guest CR4.PKE */
};

/* ---- pure rules (arch/x86/xstate.c; host unit tests: test_xstate.c) --- */

/*
 * True if XSETBV may load `val` into XCR0 for a guest allowed `allowed`
 * (SDM vol. 2 XSETBV, vol. 1 13.3): bit 0 (x87) set, nothing outside
 * `allowed`, AVX only together with SSE, and the three AVX-512 bits all
 * or none and only with AVX. Otherwise XSETBV raises #GP(0).
 */
bool xcr0_valid(u64 val, u64 allowed);

/* Standard-format XSAVE area size for the components in xcr0 (at least
 * XSAVE_MIN_SIZE): what CPUID 0xd reports in EBX/ECX. */
u32 xstate_size(const struct xstate_host *h, u64 xcr0);

/*
 * Rewrites the XSAVE- and AVX-related bits of a host CPUID answer so that
 * the guest is told exactly what Keel switches: leaf 1 (XSAVE, OSXSAVE,
 * AVX and the AVX-encoded FMA/F16C), leaf 7 (AVX2, AVX-512, VAES,
 * VPCLMULQDQ, PKU/OSPKE; EDX is left alone), leaf 0xd (the state
 * components and sizes) and 0x80000001 (XOP, FMA4). Other leaves are
 * untouched.
 */
void xstate_cpuid(const struct xstate_host *h, const struct xstate_guest *g, u32 leaf,
		  u32 sub, struct cpuid_regs *r);

/* ---- the machinery (arch/x86/fpu.c) ------------------------------------ */

/*
 * Boot CPU, before any vCPU exists (and before the back end records the
 * host's CR0/CR4): CR0.TS/EM clear, MP/NE set; CR4.OSFXSR/OSXMMEXCPT, and
 * OSXSAVE with XCR0 = the switched components where XSAVE exists; EFER.FFXSR
 * clear (AMD's fast FXSAVE skips XMM). Prints one line saying which.
 */
void fpu_init(void);

/* Gives v its save area in the initial state (FNINIT: FCW 0x37f, FSW 0,
 * all registers empty and zero; MXCSR 0x1f80; XMM/YMM zero; PKRU 0) and
 * XCR0 = x87 only (the reset value). 0 or -ENOMEM. */
int fpu_vcpu_init(struct vcpu *v);
void fpu_vcpu_destroy(struct vcpu *v);

/* Puts v's state into the registers and loads its XCR0; called when v
 * takes the CPU. Between fpu_load(v) and fpu_save(v) nothing else may
 * touch the extended state. */
void fpu_load(struct vcpu *v);
/* Saves the registers into v's area and puts the host's XCR0 back; called
 * when v leaves the CPU. */
void fpu_save(struct vcpu *v);

/*
 * XSETBV by the running vCPU v (between fpu_load and fpu_save): XCR
 * `index` := val. 0 when loaded (it stays v's XCR0 from now on), -EINVAL
 * when the SDM says #GP(0) (index != 0, or !xcr0_valid for what CPUID
 * offers v). The caller checks CPL and CR4.OSXSAVE.
 */
int fpu_xsetbv(struct vcpu *v, u32 index, u64 val);

/* The XSAVE/AVX bits of CPUID for v (xstate_cpuid with v's facts). */
void fpu_cpuid(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r);

#endif
