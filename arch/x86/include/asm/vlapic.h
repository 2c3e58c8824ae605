/*
 * The virtual local APIC of a domU vCPU (docs/lapic.md): its register
 * file and the pure rules over it, host-testable (tests/unit/
 * test_vlapic.c), plus the few entry points the machinery in
 * arch/x86/vlapic*.c shares. The kernel reaches it only through the
 * neutral interface in asm/vintc.h.
 *
 * References: Intel SDM vol. 3A chapter 10 (xAPIC registers, priorities,
 * the timer, ICR) and 10.12 (x2APIC: the MSR map, which accesses #GP);
 * AMD APM vol. 2 chapter 16. What a domU is told matches Xen's HVM vLAPIC
 * (xen/arch/x86/hvm/vlapic.c): version 0x50014, APIC ID = 2 * vCPU id
 * (as CPUID leaf 1 EBX[31:24] and libxl's MADT say), a timer counting
 * at 1 GHz before the divider.
 *
 * Single physical CPU, hypervisor runs with interrupts off: no locking.
 */
#ifndef ASM_VLAPIC_H
#define ASM_VLAPIC_H

#include <lib/types.h>

/* Register offsets in the xAPIC page (SDM table 10-1). The x2APIC MSR of
 * a register is 0x800 + offset / 16 (SDM table 10-6). */
#define VLAPIC_ID       0x020
#define VLAPIC_LVR      0x030
#define VLAPIC_TPR      0x080
#define VLAPIC_APR      0x090
#define VLAPIC_PPR      0x0a0
#define VLAPIC_EOI      0x0b0
#define VLAPIC_RRD      0x0c0
#define VLAPIC_LDR      0x0d0
#define VLAPIC_DFR      0x0e0
#define VLAPIC_SVR      0x0f0
#define VLAPIC_ISR      0x100 /* 8 registers, 0x10 apart */
#define VLAPIC_TMR      0x180
#define VLAPIC_IRR      0x200
#define VLAPIC_ESR      0x280
#define VLAPIC_LVT_CMCI 0x2f0
#define VLAPIC_ICR      0x300
#define VLAPIC_ICR2     0x310
#define VLAPIC_LVT_TIMER 0x320
#define VLAPIC_LVT_THERMAL 0x330
#define VLAPIC_LVT_PMC  0x340
#define VLAPIC_LVT_LINT0 0x350
#define VLAPIC_LVT_LINT1 0x360
#define VLAPIC_LVT_ERROR 0x370
#define VLAPIC_TMICT    0x380 /* timer initial count */
#define VLAPIC_TMCCT    0x390 /* timer current count */
#define VLAPIC_TDCR     0x3e0 /* timer divide configuration */
#define VLAPIC_SELF_IPI 0x3f0 /* x2APIC only */

#define VLAPIC_X2APIC_MSR_FIRST 0x800
#define VLAPIC_X2APIC_MSR_LAST  0x8ff
#define VLAPIC_MSR_APIC_BASE    0x1b
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0

/* Version register: version 0x14, max LVT entry 5 (Xen's 0x50014; no
 * CMCI entry is reported, so its register does not exist). */
#define VLAPIC_VERSION 0x00050014u

#define VLAPIC_SVR_ENABLE   (1u << 8)  /* APIC software enable */
#define VLAPIC_SVR_MASK     0x3ffu     /* vector, enable, focus checking (no EOI-broadcast suppression: version bit 24 clear) */
#define VLAPIC_LVT_MASKED   (1u << 16)
#define VLAPIC_LVT_PENDING  (1u << 12) /* delivery status (read-only) */
#define VLAPIC_TIMER_ONESHOT  0u
#define VLAPIC_TIMER_PERIODIC 1u
#define VLAPIC_TIMER_TSC_DEADLINE 2u

/* ICR fields (SDM figure 10-12). */
#define VLAPIC_ICR_VECTOR(icr)   ((u8)(icr))
#define VLAPIC_ICR_MODE(icr)     (((icr) >> 8) & 7u)
#define VLAPIC_ICR_LOGICAL       (1u << 11)
#define VLAPIC_ICR_LEVEL_ASSERT  (1u << 14)
#define VLAPIC_ICR_LEVEL_TRIG    (1u << 15)
#define VLAPIC_ICR_SHORTHAND(icr) (((icr) >> 18) & 3u)
#define VLAPIC_MODE_FIXED   0u
#define VLAPIC_MODE_LOWEST  1u
#define VLAPIC_MODE_SMI     2u
#define VLAPIC_MODE_NMI     4u
#define VLAPIC_MODE_INIT    5u
#define VLAPIC_MODE_SIPI    6u
#define VLAPIC_SH_NONE      0u
#define VLAPIC_SH_SELF      1u
#define VLAPIC_SH_ALL       2u
#define VLAPIC_SH_OTHERS    3u

/* ESR bits (SDM figure 10-9). */
#define VLAPIC_ESR_SEND_ILLEGAL (1u << 5)
#define VLAPIC_ESR_RECV_ILLEGAL (1u << 6)
#define VLAPIC_ESR_ILLEGAL_REG  (1u << 7)

/* IA32_APIC_BASE bits (SDM figure 10-26). */
#define VLAPIC_BASE_BSP  (1ULL << 8)
#define VLAPIC_BASE_EXTD (1ULL << 10) /* x2APIC mode */
#define VLAPIC_BASE_EN   (1ULL << 11)
#define VLAPIC_BASE_ADDR 0xfee00000ULL

enum vlapic_lvt {
	VLAPIC_LVT_T, VLAPIC_LVT_THM, VLAPIC_LVT_PC, VLAPIC_LVT_L0, VLAPIC_LVT_L1,
	VLAPIC_LVT_ERR, VLAPIC_LVT_NR
};

/* The shortest period a periodic timer re-arms with (ns), as KVM bounds
 * it (min_timer_period_us): a 1-count period at divider 1 would expire
 * every nanosecond and keep the scheduler busy for nothing. The first
 * expiry keeps the guest's exact count. */
#define VLAPIC_TIMER_MIN_PERIOD_NS 100000ULL

/* Side effects of a register write that the machinery carries out
 * (vlapic_reg_write's *fx). */
#define VLAPIC_FX_TPR   (1u << 0) /* the TPR changed: tell the back end (CR8) */
#define VLAPIC_FX_ICR   (1u << 1) /* send the IPI now in icr/icr2 */
#define VLAPIC_FX_TIMER (1u << 2) /* the timer's deadline changed */
#define VLAPIC_FX_EOI   (1u << 3) /* an EOI retired an in-service vector */
#define VLAPIC_FX_IRR   (1u << 4) /* a vector became pending here (self-IPI) */

struct vlapic {
	bool present;        /* this vCPU has a vLAPIC (domUs only) */
	u64 apic_base;       /* IA32_APIC_BASE */
	u32 id;              /* APIC ID as x2APIC reads it (2 * vCPU id) */
	u8 tpr;              /* full 8 bits; bits 7:4 are the guest's CR8 */
	u32 svr, ldr, dfr, esr, esr_pending;
	u32 lvt[VLAPIC_LVT_NR];
	u32 icr, icr2;       /* ICR low and high (x2APIC: high = destination) */
	u32 irr[8], isr[8], tmr[8];
	/* The timer: 1 tick = 1 ns / divider. deadline 0 = not armed. */
	u32 tmict, tdcr;
	u64 timer_start;     /* system time (ns) the count started from */
	u64 timer_deadline;  /* system time (ns) of the next expiry, 0 = none */
	u64 tsc_deadline;    /* IA32_TSC_DEADLINE as written (TSC-deadline mode) */
	bool wait_sipi;      /* INIT received: waits for a start-up IPI */
	bool want_intr;      /* we asked the back end for an interrupt window */
	bool want_tpr;       /* ... or for a TPR window */
	u32 nr_reports;      /* refused accesses reported so far (rate limit) */
};

/* ---- pure rules (arch/x86/vlapic_regs.c, unit-tested) -------------------- */

/* The state after RESET (SDM 10.4.7.1) for vCPU `vcpu_id`, BSP if 0: xAPIC
 * mode at the default base, LVTs masked, SVR 0xff (software-disabled),
 * DFR all ones, ID 2 * vcpu_id. */
void vlapic_reset(struct vlapic *s, u32 vcpu_id);

/* An INIT received (SDM 10.4.7.3): the registers go back to their reset
 * values but IA32_APIC_BASE (enable, x2APIC mode, BSP) and the ID stay;
 * in x2APIC mode the LDR is derived from the ID again. The report rate
 * limit is kept. */
void vlapic_init_reset(struct vlapic *s, u32 vcpu_id);

/* The vCPU's APIC ID (what the MADT must list): 2 * vcpu_id, as Xen. */
static inline u32 vlapic_id_of(u32 vcpu_id)
{
	return vcpu_id * 2;
}

static inline bool vlapic_x2apic_mode(const struct vlapic *s)
{
	return (s->apic_base & (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD)) ==
	       (VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
}

static inline bool vlapic_hw_enabled(const struct vlapic *s)
{
	return s->apic_base & VLAPIC_BASE_EN;
}

static inline bool vlapic_sw_enabled(const struct vlapic *s)
{
	return vlapic_hw_enabled(s) && (s->svr & VLAPIC_SVR_ENABLE);
}

/* Marks `vec` pending in IRR (TMR set for level-triggered). False, and
 * ESR "receive illegal vector" set, for vectors 0-15. */
bool vlapic_set_irr(struct vlapic *s, u8 vec, bool level);

/* The highest vector set in a 256-bit register, or -1. */
int vlapic_highest(const u32 reg[8]);

/* No vector requested at all (IRR clear): then neither
 * vlapic_pending_vector() nor vlapic_tpr_blocks() can find one. One OR
 * of the eight words; the vCPU loop asks it before every entry. */
static inline bool vlapic_irr_empty(const struct vlapic *s)
{
	return !(s->irr[0] | s->irr[1] | s->irr[2] | s->irr[3] | s->irr[4] | s->irr[5] |
		 s->irr[6] | s->irr[7]);
}

/* The processor priority (SDM 10.8.3.1): TPR if its class is at least
 * that of the highest in-service vector, else that vector's class. */
u8 vlapic_ppr(const struct vlapic *s);

/* The vector the vCPU should take next: the highest pending one whose
 * class is above the PPR's (SDM 10.8.3.1), or -1. With the APIC disabled
 * (globally or in SVR) nothing is delivered. */
int vlapic_pending_vector(const struct vlapic *s);

/* True when the highest pending vector is held back by the TPR alone
 * (its class <= TPR's, > the in-service class): then *cls is its class. */
bool vlapic_tpr_blocks(const struct vlapic *s, u8 *cls);

/* The vCPU takes `vec`: IRR -> ISR (SDM 10.8.4). */
void vlapic_accept(struct vlapic *s, u8 vec);

/* EOI: clears the highest in-service bit. Returns its vector or -1. */
int vlapic_eoi(struct vlapic *s);

/* Does destination `dest` (physical or `logical`) name this APIC?
 * x2APIC mode: 32-bit IDs, 0xffffffff broadcast, logical by cluster
 * (SDM 10.12.10.2); xAPIC: 8-bit IDs, 0xff broadcast, flat or cluster
 * logical model per DFR (SDM 10.6.2.2). */
bool vlapic_match_dest(const struct vlapic *s, u32 dest, bool logical);

/* Timer divider from TDCR (SDM figure 10-10): 1, 2, 4, ..., 128. */
unsigned vlapic_timer_divider(u32 tdcr);

/* The timer mode from LVT timer bits 18:17. */
static inline unsigned vlapic_timer_mode(const struct vlapic *s)
{
	return (s->lvt[VLAPIC_LVT_T] >> 17) & 3u;
}

/* The current count at system time `now` (0 when not counting). */
u32 vlapic_timer_current(const struct vlapic *s, u64 now);

/*
 * The timer reached its deadline (now >= timer_deadline): raises the LVT
 * timer vector unless masked, re-arms a periodic timer (missed periods
 * are skipped, not replayed), disarms a one-shot or TSC-deadline one.
 * Returns true when a vector became pending.
 */
bool vlapic_timer_expire(struct vlapic *s, u64 now);

/*
 * Reads the register at xAPIC `off` (16-byte aligned) as of system time
 * `now`. x2 selects x2APIC rules. 0 and *val, or -EINVAL for a register
 * that does not exist or is write-only in that mode (x2APIC: #GP; the
 * xAPIC caller reads 0 and sets ESR illegal register).
 */
int vlapic_reg_read(const struct vlapic *s, unsigned off, bool x2, u64 now, u64 *val);

/*
 * Writes `val` to the register at `off` as of `now`. Read-only registers,
 * absent ones, and (x2APIC) values with reserved bits set give -EINVAL
 * and change nothing. Otherwise 0, with what the machinery must do next
 * in *fx (VLAPIC_FX_*). An ICR write leaves the IPI in icr/icr2 with
 * VLAPIC_FX_ICR; a self-IPI (x2APIC SELF IPI) is set in IRR here.
 * Writes in TSC-deadline mode to the initial count are ignored.
 */
int vlapic_reg_write(struct vlapic *s, unsigned off, bool x2, u64 val, u64 now, unsigned *fx);

/* The xAPIC offset of x2APIC MSR `msr` (0x800-0x8ff). */
static inline unsigned vlapic_msr_offset(u32 msr)
{
	return (msr - VLAPIC_X2APIC_MSR_FIRST) << 4;
}

/*
 * A write of `val` to IA32_APIC_BASE (SDM 10.12.5, figure 10-27): the
 * new value, or -EINVAL (#GP) for reserved bits (0-7, 9, above
 * `maxphyaddr`), EXTD without EN, x2APIC -> xAPIC, disabled -> x2APIC,
 * or a base other than 0xfee00000 (relocation is not supported, as in
 * current Xen). BSP is read-only. A move to disabled resets the APIC
 * (the caller calls vlapic_reset keeping apic_base).
 */
int vlapic_base_check(const struct vlapic *s, u64 val, unsigned maxphyaddr, u64 *newval);

/* ---- the machinery's shared entry points (arch/x86/vlapic*.c) ----------- */

struct vcpu;

/* v's vLAPIC state (valid for every vCPU; `present` says if it is used). */
struct vlapic *vcpu_vlapic(struct vcpu *v);

/* Takes the guest's CR8 into the TPR (vlapic_sync_tpr) or the TPR into
 * the back end (vlapic_push_tpr, vendor->set_tpr). */
void vlapic_sync_tpr(struct vcpu *v);
void vlapic_push_tpr(struct vcpu *v);

/* Makes `vec` pending on v (if its APIC is enabled) and wakes v. */
void vlapic_raise(struct vcpu *v, u8 vec, bool level);

/* Sends the IPI in v's ICR to the domain's vCPUs (fixed, lowest
 * priority, INIT, SIPI; shorthands; physical and logical). */
void vlapic_send_ipi(struct vcpu *v);

/* Puts v in the real-mode state of a start-up IPI with vector `vec`.
 * 0 or -errno. */
int vlapic_start_real_mode(struct vcpu *v, u8 vec);

/* Registers the xAPIC page as emulated MMIO (once). 0 or -errno. */
int vlapic_mmio_init(void);

/* The timer's deadline changed (register or MSR write): re-arms the
 * hypervisor's side of it (vlapic_timer.c). */
void vlapic_timer_changed(struct vcpu *v);

/* IA32_TSC_DEADLINE write (vlapic_timer.c). */
void vlapic_tsc_deadline_write(struct vcpu *v, u64 val);

#endif
