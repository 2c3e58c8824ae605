/*
 * Speculative-execution hygiene (docs/speculation.md).
 *
 * Three parts, so that the rules can be tested on the host:
 *  - the host policy (arch/x86/spec_policy.c, pure): what this CPU reports
 *    in, which mitigations the hypervisor uses out, with the reason for
 *    each, and the boot line that says so;
 *  - the guest rule (kernel/spec_msr.c, pure): one table pairing every
 *    CPUID bit of leaf 7 (subleaves 0 and 2), 0x80000008 EBX and
 *    0x80000021 EAX that promises an MSR with that MSR and its handlers,
 *    from which both the guest's CPUID and its MSR accesses are
 *    answered, so the two cannot disagree;
 *  - the mechanism (arch/x86/spec.c and asm/spec.inc): reads the CPU,
 *    switches IA32_SPEC_CTRL, issues IBPB, L1D flushes and VERW, fills the
 *    RSB, for both back ends.
 *
 * Sources: Intel SDM vol. 2A (CPUID leaf 07H), vol. 4 (table 2-2:
 * IA32_SPEC_CTRL, IA32_PRED_CMD, IA32_ARCH_CAPABILITIES, IA32_FLUSH_CMD);
 * Intel's "Speculative Execution Side Channel Mitigations" and the
 * L1TF/MDS/TAA deep dives; AMD APM vol. 3 E.4.17 (CPUID 8000_0008 EBX) and
 * AMD's "Software Techniques for Managing Speculation on AMD Processors".
 */
#ifndef ASM_SPEC_H
#define ASM_SPEC_H

#include <lib/types.h>
#include <asm/cpu.h>

/* ---- MSRs and their bits ------------------------------------------------ */

#define MSR_IA32_SPEC_CTRL 0x48
#define MSR_IA32_PRED_CMD 0x49
#define MSR_IA32_CORE_CAPABILITIES 0xcf
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
#define MSR_IA32_FLUSH_CMD 0x10b
#define MSR_TSX_FORCE_ABORT 0x10f
#define MSR_IA32_MCU_OPT_CTRL 0x123
#define MSR_IA32_UMWAIT_CONTROL 0xe1
#define MSR_IA32_TME_ACTIVATE 0x982
#define MSR_IA32_S_CET 0x6a2
#define MSR_IA32_LBR_CTL 0x14ce
#define MSR_AMD_IRPERF 0xc00000e9
#define MSR_AMD_PPIN 0xc00102f1
#define MSR_AMD_CPPC_CAP1 0xc00102b0
#define MSR_AMD_VIRT_SPEC_CTRL 0xc001011f

#define SPEC_CTRL_IBRS (1ULL << 0)
#define SPEC_CTRL_STIBP (1ULL << 1)
#define SPEC_CTRL_SSBD (1ULL << 2)
#define SPEC_CTRL_IPRED_DIS (3ULL << 3)  /* IPRED_DIS_U, IPRED_DIS_S */
#define SPEC_CTRL_RRSBA_DIS (3ULL << 5)  /* RRSBA_DIS_U, RRSBA_DIS_S */
#define SPEC_CTRL_PSFD (1ULL << 7)
#define SPEC_CTRL_DDPD_U (1ULL << 8)
#define SPEC_CTRL_BHI_DIS_S (1ULL << 10)

#define PRED_CMD_IBPB (1ULL << 0)
#define FLUSH_CMD_L1D (1ULL << 0)

#define ARCH_CAP_RDCL_NO (1ULL << 0)
#define ARCH_CAP_IBRS_ALL (1ULL << 1)
#define ARCH_CAP_RSBA (1ULL << 2)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ULL << 3)
#define ARCH_CAP_SSB_NO (1ULL << 4)
#define ARCH_CAP_MDS_NO (1ULL << 5)
#define ARCH_CAP_PSCHANGE_MC_NO (1ULL << 6)
#define ARCH_CAP_TSX_CTRL (1ULL << 7)
#define ARCH_CAP_TAA_NO (1ULL << 8)
#define ARCH_CAP_SBDR_SSDP_NO (1ULL << 13)
#define ARCH_CAP_FBSDP_NO (1ULL << 14)
#define ARCH_CAP_PSDP_NO (1ULL << 15)
#define ARCH_CAP_FB_CLEAR (1ULL << 17)
#define ARCH_CAP_RRSBA (1ULL << 19)
#define ARCH_CAP_BHI_NO (1ULL << 20)
#define ARCH_CAP_PBRSB_NO (1ULL << 24)
#define ARCH_CAP_GDS_NO (1ULL << 26)
#define ARCH_CAP_RFDS_NO (1ULL << 27)
#define ARCH_CAP_RFDS_CLEAR (1ULL << 28)

/*
 * What guests see of IA32_ARCH_CAPABILITIES: the host's "not affected"
 * and "this is how the CPU behaves" bits, which stay true in a guest on
 * the same CPU. Left out: bits that enumerate further MSRs Keel does not
 * emulate (TSX_CTRL 7, MCU_CONTROL 9, MISC_PACKAGE_CTRLS 10,
 * ENERGY_FILTERING_CTL 11, DOITM 12, FB_CLEAR_CTRL 18, XAPIC_DISABLE 21,
 * OVERCLOCKING_STATUS 23, GDS_CTRL 25) and anything newer than this list.
 */
#define ARCH_CAP_GUEST_MASK                                                                 \
	(ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_RSBA | ARCH_CAP_SKIP_L1DFL_VMENTRY | \
	 ARCH_CAP_SSB_NO | ARCH_CAP_MDS_NO | ARCH_CAP_PSCHANGE_MC_NO | ARCH_CAP_TAA_NO |     \
	 ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO | ARCH_CAP_FB_CLEAR |  \
	 ARCH_CAP_RRSBA | ARCH_CAP_BHI_NO | ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_NO |            \
	 ARCH_CAP_RFDS_NO | ARCH_CAP_RFDS_CLEAR)

/* ---- CPUID bits ------------------------------------------------------------ */

/* Leaf 7 subleaf 0 */
#define CPUID7_EBX_RTM 11
#define CPUID7_ECX_WAITPKG 5
#define CPUID7_ECX_CET_SS 7
#define CPUID7_ECX_TME 13
#define CPUID7_ECX_SGX_LC 30
#define CPUID7_EDX_UINTR 5
#define CPUID7_EDX_SRBDS_CTRL 9
#define CPUID7_EDX_MD_CLEAR 10
#define CPUID7_EDX_TSX_FORCE_ABORT 13
#define CPUID7_EDX_ARCH_LBR 19
#define CPUID7_EDX_IBT 20
#define CPUID7_EDX_SPEC_CTRL 26 /* IBRS and IBPB */
#define CPUID7_EDX_STIBP 27
#define CPUID7_EDX_L1D_FLUSH 28
#define CPUID7_EDX_ARCH_CAPS 29
#define CPUID7_EDX_CORE_CAPS 30
#define CPUID7_EDX_SSBD 31
/* Leaf 7 subleaf 2 EDX */
#define CPUID7_2_EDX_PSFD 0
#define CPUID7_2_EDX_IPRED_CTRL 1
#define CPUID7_2_EDX_RRSBA_CTRL 2
#define CPUID7_2_EDX_DDPD_U 3
#define CPUID7_2_EDX_BHI_CTRL 4
#define CPUID7_2_EDX_MCDT_NO 5
/* Leaf 0x80000008 EBX (AMD) */
#define CPUIDE8_EBX_IRPERF 1
#define CPUIDE8_EBX_IBPB 12
#define CPUIDE8_EBX_IBRS 14
#define CPUIDE8_EBX_STIBP 15
#define CPUIDE8_EBX_IBRS_ALWAYS_ON 16
#define CPUIDE8_EBX_STIBP_ALWAYS_ON 17
#define CPUIDE8_EBX_IBRS_PREFERRED 18
#define CPUIDE8_EBX_IBRS_SAME_MODE 19
#define CPUIDE8_EBX_PPIN 23
#define CPUIDE8_EBX_AMD_SSBD 24
#define CPUIDE8_EBX_VIRT_SSBD 25
#define CPUIDE8_EBX_SSB_NO 26
#define CPUIDE8_EBX_CPPC 27
#define CPUIDE8_EBX_PSFD 28
#define CPUIDE8_EBX_BTC_NO 29
#define CPUIDE8_EBX_IBPB_RET 30
/* Leaf 0x80000021 EAX (AMD extended features 2) */
#define CPUIDE21_EAX_AUTO_IBRS 8  /* EFER.AIBRSE */
#define CPUIDE21_EAX_SBPB 27      /* IA32_PRED_CMD bit 7 */

/* The CPUID registers the guest rule edits. */
enum spec_reg {
	SPEC_REG_7_EBX,   /* leaf 7.0 EBX (read only: RTM for TAA) */
	SPEC_REG_7_ECX,   /* leaf 7.0 ECX */
	SPEC_REG_7_EDX,   /* leaf 7.0 EDX */
	SPEC_REG_7_2_EDX, /* leaf 7.2 EDX */
	SPEC_REG_E8_EBX,  /* leaf 0x80000008 EBX */
	SPEC_REG_E21_EAX, /* leaf 0x80000021 EAX */
	SPEC_REG_NR
};

/* ---- what the CPU reports ---------------------------------------------------- */

struct spec_cpu {
	bool intel, amd;     /* CPUID vendor (Hygon counts as AMD) */
	u32 reg[SPEC_REG_NR]; /* 0 where the leaf or subleaf does not exist */
	u64 arch_caps;       /* IA32_ARCH_CAPABILITIES, 0 when not enumerated */
	/* The back end's hardware loads the guest's IA32_SPEC_CTRL at entry
	 * and restores the host's at exit (SVM's V_SPEC_CTRL, CPUID
	 * 8000_000A EDX[20]; vendor_ops.switches_spec_ctrl). */
	bool hw_switches_spec_ctrl;
};

static inline bool spec_has(const struct spec_cpu *c, enum spec_reg r, unsigned bit)
{
	return (c->reg[r] >> bit) & 1;
}

/* ---- host policy (spec_policy.c) -------------------------------------------- */

/* One mitigation's decision and the reason, for the boot line. */
struct spec_choice {
	bool on;
	const char *why;
};

struct spec_mitigations {
	/* IA32_SPEC_CTRL exists; host_spec_ctrl is what the hypervisor runs with. */
	bool has_spec_ctrl;
	u64 host_spec_ctrl;
	u64 host_spec_ctrl_bits;     /* SPEC_CTRL bits this CPU supports */
	struct spec_choice ibrs;     /* host runs with IBRS set */
	/* Guest and host values of SPEC_CTRL switched by software around
	 * entry and exit (off: no MSR, or the hardware does it). */
	struct spec_choice spec_ctrl_swap;
	/* Write the host value after every exit, even when the guest's equals
	 * it: IBRS without IBRS_ALL protects only when set after the switch
	 * to the more privileged predictor mode. */
	bool spec_ctrl_always;
	struct spec_choice ibpb_on_switch;  /* IBPB when another domain runs */
	struct spec_choice rsb_fill;        /* 32 RSB entries stuffed on exit */
	struct spec_choice l1d_flush;       /* IA32_FLUSH_CMD before entry (L1TF) */
	struct spec_choice verw;            /* VERW before entry (MDS/TAA/MMIO) */
};

/* Command line spec=verw,l1d-flush: on even where the CPU is not
 * affected (for the cautious, and to exercise the paths in tests). */
#define SPEC_FORCE_VERW (1u << 0)
#define SPEC_FORCE_L1D_FLUSH (1u << 1)

/* Decides the host's mitigations from what the CPU reports and what the
 * command line forces (SPEC_FORCE_*). Pure. */
void spec_choose(const struct spec_cpu *c, unsigned force, struct spec_mitigations *m);

/* The boot line's text after "speculation: mitigations: ": the mitigations
 * on, then "; off: " and those off, each with its reason in parentheses.
 * Returns the length (truncated to len-1). */
size_t spec_describe(const struct spec_mitigations *m, char *buf, size_t len);

/* ---- the guest rule (kernel/spec_msr.c) ------------------------------------- */

/* spec_msr_write() actions the caller carries out on the host. */
#define SPEC_ACT_IBPB (1u << 0)
#define SPEC_ACT_L1D_FLUSH (1u << 1)

/* The guest's view, computed once from the host's spec_cpu. */
struct spec_guest {
	u32 clear[SPEC_REG_NR]; /* bits the rule owns, cleared from the host value... */
	u32 set[SPEC_REG_NR];   /* ...then these (a subset of the host's) set again */
	u64 spec_ctrl_mask;     /* SPEC_CTRL bits the guest may set */
	u64 arch_caps_value;    /* what IA32_ARCH_CAPABILITIES reads, if shown */
};

/* Fills g from the host's facts: a table bit is offered when the host has
 * it, Keel implements the MSR it promises, and the bit it depends on (if
 * any) is offered too. Pure. */
void spec_guest_init(const struct spec_cpu *host, struct spec_guest *g);

/* Edits the host's CPUID output for `leaf`.`sub` into the guest's (only
 * leaves 7.0, 7.2, 0x80000008 and 0x80000021 change). Pure. */
void spec_guest_cpuid(const struct spec_guest *g, u32 leaf, u32 sub, struct cpuid_regs *r);

/* Results of spec_msr_read/write. */
#define SPEC_MSR_NOT_MINE 1 /* not an MSR of the rule: the caller decides */
#define SPEC_MSR_GP (-1)    /* the guest gets #GP */

/* A guest RDMSR/WRMSR of `msr`. *spec_ctrl is the vCPU's IA32_SPEC_CTRL.
 * 0 with *val (read) or with *actions to carry out (write, SPEC_ACT_*),
 * SPEC_MSR_GP, or SPEC_MSR_NOT_MINE. An MSR whose CPUID bit is hidden
 * raises #GP, as on a CPU without it. Pure. */
int spec_msr_read(const struct spec_guest *g, u64 spec_ctrl, u32 msr, u64 *val);
int spec_msr_write(const struct spec_guest *g, u64 *spec_ctrl, u32 msr, u64 val,
		   unsigned *actions);

/* The names of the features offered, space-separated ("nothing" if
 * none), for the boot line. Returns the length. */
size_t spec_guest_describe(const struct spec_guest *g, char *buf, size_t len);

/* ---- the mechanism (spec.c) ---------------------------------------------------- */

/* Flags the asm stubs test (asm/spec.inc; values reach nasm through
 * asm-offsets). */
#define SPEC_ASM_CTRL_SWAP (1u << 0)   /* restore host SPEC_CTRL after exit... */
#define SPEC_ASM_CTRL_ALWAYS (1u << 1) /* ...even if the guest's value equals it */
#define SPEC_ASM_RSB_FILL (1u << 2)    /* stuff the RSB after exit */
#define SPEC_ASM_VERW (1u << 3)        /* VERW just before entry */

struct vcpu;

/* Chosen at boot by spec_init(). */
extern struct spec_mitigations spec_mitigations;
extern struct spec_guest spec_guest;

/* Reads the boot CPU, chooses the mitigations (force: SPEC_FORCE_*, from
 * the command line), sets the host's IA32_SPEC_CTRL and prints what it
 * chose and why (three lines "speculation: ..."). After vendor_probe(),
 * before any guest runs. */
void spec_init(unsigned force);

/* The back ends call this last before their entry stub, with interrupts
 * off: IBPB when v's domain is not the last one that ran on this CPU, the
 * guest's IA32_SPEC_CTRL, the L1D flush. */
void spec_enter_guest(struct vcpu *v);

/* A VM entry that failed without reaching the guest or the exit path
 * (VMX VMfail): puts the host's IA32_SPEC_CTRL back. */
void spec_entry_failed(void);

/* Carries out spec_msr_write()'s actions for the calling guest. */
void spec_do_actions(unsigned actions);

#endif
