/*
 * A vCPU's memory-type range registers (kernel/mtrr.c), kept per vCPU as
 * the guest writes them (Intel SDM vol. 3A 12.11 "Memory Type Range
 * Registers"; AMD APM vol. 2 7.7). Keel maps guest RAM write-back in the
 * nested tables whatever they say; they are state the guest owns and
 * reads back, with the architectural #GP on reserved bits, so Linux's
 * MTRR and PAT set-up (which needs MTRRs enabled) runs as on hardware.
 *
 * A PVH vCPU starts with MTRRs enabled and default type WB (Xen's
 * docs/misc/pvh.pandoc), fixed ranges off, no variable range valid.
 */
#ifndef KEEL_MTRR_H
#define KEEL_MTRR_H

#include <lib/types.h>

#define MSR_MTRRCAP 0xfe
#define MSR_MTRR_PHYSBASE0 0x200 /* PHYSBASEn = 0x200 + 2n, PHYSMASKn = 0x201 + 2n */
#define MSR_MTRR_FIX64K_00000 0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_C0000 0x268 /* .. 0x26f: FIX4K_F8000 */
#define MSR_MTRR_DEF_TYPE 0x2ff

#define MTRR_VAR_RANGES 8
#define MTRR_FIXED_MSRS 11

/* MTRRcap: VCNT = 8, FIX (fixed ranges), WC (write-combining type). */
#define MTRR_CAP_VALUE (MTRR_VAR_RANGES | (1u << 8) | (1u << 10))
/* DEF_TYPE: E (bit 11) | type WB (6). */
#define MTRR_DEF_TYPE_PVH ((1u << 11) | 6u)

struct vcpu_mtrr {
	u64 def_type;
	u64 fixed[MTRR_FIXED_MSRS]; /* 0x250, 0x258, 0x259, 0x268..0x26f */
	u64 base[MTRR_VAR_RANGES];
	u64 mask[MTRR_VAR_RANGES];
};

/* The state of a new vCPU (above). */
void mtrr_init(struct vcpu_mtrr *m);

/* True if `msr` is one of the MTRR MSRs (cap, def_type, fixed, variable). */
bool mtrr_is_msr(u32 msr);

/* Reads `msr`: 0, or -ENOENT if it is not an MTRR MSR. */
int mtrr_read(const struct vcpu_mtrr *m, u32 msr, u64 *val);

/*
 * Writes `msr` for a vCPU whose guest-physical addresses have `phys_bits`
 * bits (CPUID 0x80000008 EAX[7:0] as the guest sees it). 0; -EINVAL when
 * the SDM says #GP (MTRRcap is read-only; a reserved bit set; a memory
 * type other than UC 0, WC 1, WT 4, WP 5, WB 6 in any type field); or
 * -ENOENT if it is not an MTRR MSR. Nothing changes on an error.
 */
int mtrr_write(struct vcpu_mtrr *m, u32 msr, u64 val, unsigned phys_bits);

#endif
