/*
 * Speculation-control CPUID bits and the MSRs they promise, for guests
 * (contract in asm/spec.h). Pure, tested in tests/unit/test_spec.c.
 *
 * A guest OS believes CPUID: once leaf 7 says SPEC_CTRL or ARCH_CAPABILITIES,
 * Linux reads and writes those MSRs with the accessors that do not expect
 * #GP, and a #GP there kills it. So one table below lists every CPUID bit
 * of leaf 7.0 ECX/EDX, 7.2 EDX, 0x80000008 EBX and 0x80000021 EAX that
 * promises an MSR (or is only meaningful next to one), with the MSR and
 * the handlers Keel has for it. From that table alone come both answers:
 * the guest's CPUID (a bit is shown when the host has it, Keel emulates
 * what it promises, and the entry it depends on is shown) and the guest's
 * RDMSR/WRMSR (an MSR works exactly when one of its bits is shown, in the
 * directions it has handlers for). Bits whose MSR Keel does not emulate
 * are marked `never` and always hidden.
 *
 * Bits not in the table (e.g. FSRM, AVX-512 in leaf 7 EDX, CLZERO in
 * 0x80000008 EBX) keep the host's value; kernel/cpuid.c owns them.
 */
#include <lib/string.h>
#include <asm/spec.h>

/*
 * A guest's RDMSR/WRMSR of an MSR whose feature is shown. Return 0 (with
 * *val, or with *actions: SPEC_ACT_*) or SPEC_MSR_GP.
 */
typedef int (*spec_rd_fn)(const struct spec_guest *g, u64 spec_ctrl, u64 *val);
typedef int (*spec_wr_fn)(const struct spec_guest *g, u64 *spec_ctrl, u64 val, unsigned *actions);

/* IA32_SPEC_CTRL: the vCPU's value; only bits of shown features may be
 * set (others are reserved to the guest: #GP, as on a CPU without them),
 * so the real MSR never gets a value the host refuses. */
static int spec_ctrl_rd(const struct spec_guest *g, u64 spec_ctrl, u64 *val)
{
	(void)g;
	*val = spec_ctrl;
	return 0;
}

static int spec_ctrl_wr(const struct spec_guest *g, u64 *spec_ctrl, u64 val, unsigned *actions)
{
	(void)actions;
	if (val & ~g->spec_ctrl_mask)
		return SPEC_MSR_GP;
	*spec_ctrl = val;
	return 0;
}

/* IA32_PRED_CMD, write-only: bit 0 IBPB, done on the host for the guest. */
static int pred_cmd_wr(const struct spec_guest *g, u64 *spec_ctrl, u64 val, unsigned *actions)
{
	(void)g, (void)spec_ctrl;
	if (val & ~PRED_CMD_IBPB)
		return SPEC_MSR_GP;
	if (val & PRED_CMD_IBPB)
		*actions |= SPEC_ACT_IBPB;
	return 0;
}

/* IA32_FLUSH_CMD, write-only: bit 0 L1D flush, done on the host. */
static int flush_cmd_wr(const struct spec_guest *g, u64 *spec_ctrl, u64 val, unsigned *actions)
{
	(void)g, (void)spec_ctrl;
	if (val & ~FLUSH_CMD_L1D)
		return SPEC_MSR_GP;
	if (val & FLUSH_CMD_L1D)
		*actions |= SPEC_ACT_L1D_FLUSH;
	return 0;
}

/* IA32_ARCH_CAPABILITIES, read-only: the host's, masked at init. */
static int arch_caps_rd(const struct spec_guest *g, u64 spec_ctrl, u64 *val)
{
	(void)spec_ctrl;
	*val = g->arch_caps_value;
	return 0;
}

#define NO_DEP 0xff

/* One CPUID bit, the MSR it promises and Keel's handlers for it. A
 * handler missing in one direction makes that direction #GP (write-only
 * and read-only MSRs). An entry without an MSR is a hint or an
 * instruction that works in a guest. `never`: what the bit promises is
 * not emulated (an MSR, or a bit of one, Keel refuses): always hidden. */
struct spec_feature {
	const char *name; /* as in Linux's /proc/cpuinfo where it has one */
	u8 reg;           /* enum spec_reg */
	u8 bit;
	u8 dep;           /* index of the entry that must be shown too, or NO_DEP */
	u32 msr;          /* 0: none */
	spec_rd_fn rd;
	spec_wr_fn wr;
	u64 ctrl;         /* IA32_SPEC_CTRL bits it lets the guest set */
	bool never;
};

#define SPEC_CTRL(bits) MSR_IA32_SPEC_CTRL, spec_ctrl_rd, spec_ctrl_wr, (bits)
#define PRED_CMD MSR_IA32_PRED_CMD, NULL, pred_cmd_wr, 0
#define FLUSH_CMD MSR_IA32_FLUSH_CMD, NULL, flush_cmd_wr, 0
#define ARCH_CAPS MSR_IA32_ARCH_CAPABILITIES, arch_caps_rd, NULL, 0
#define NO_MSR 0, NULL, NULL, 0
#define NOT_EMULATED(msr) (msr), NULL, NULL, 0, true

/* Indexes used as dependencies. */
enum { F_SPEC_CTRL, F_AMD_IBPB, F_AMD_IBRS, F_AMD_STIBP };

static const struct spec_feature features[] = {
	/* The first four are named by the enum above. */
	[F_SPEC_CTRL] = { "spec-ctrl", SPEC_REG_7_EDX, CPUID7_EDX_SPEC_CTRL, NO_DEP,
	  SPEC_CTRL(SPEC_CTRL_IBRS) },
	[F_AMD_IBPB] = { "amd-ibpb", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBPB, NO_DEP, PRED_CMD },
	[F_AMD_IBRS] = { "amd-ibrs", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS, NO_DEP,
	  SPEC_CTRL(SPEC_CTRL_IBRS) },
	[F_AMD_STIBP] = { "amd-stibp", SPEC_REG_E8_EBX, CPUIDE8_EBX_STIBP, NO_DEP,
	  SPEC_CTRL(SPEC_CTRL_STIBP) },

	/* Leaf 7.0 EDX (SDM vol. 2A table 3-8). Intel's SPEC_CTRL bit
	 * promises IA32_PRED_CMD as well: a second entry, same bit. */
	{ "ibpb", SPEC_REG_7_EDX, CPUID7_EDX_SPEC_CTRL, NO_DEP, PRED_CMD },
	{ "stibp", SPEC_REG_7_EDX, CPUID7_EDX_STIBP, NO_DEP, SPEC_CTRL(SPEC_CTRL_STIBP) },
	{ "ssbd", SPEC_REG_7_EDX, CPUID7_EDX_SSBD, NO_DEP, SPEC_CTRL(SPEC_CTRL_SSBD) },
	{ "flush-l1d", SPEC_REG_7_EDX, CPUID7_EDX_L1D_FLUSH, NO_DEP, FLUSH_CMD },
	{ "arch-capabilities", SPEC_REG_7_EDX, CPUID7_EDX_ARCH_CAPS, NO_DEP, ARCH_CAPS },
	/* VERW is an instruction; its buffer clearing works in a guest. */
	{ "md-clear", SPEC_REG_7_EDX, CPUID7_EDX_MD_CLEAR, NO_DEP, NO_MSR },
	{ "srbds-ctrl", SPEC_REG_7_EDX, CPUID7_EDX_SRBDS_CTRL, NO_DEP,
	  NOT_EMULATED(MSR_IA32_MCU_OPT_CTRL) },
	{ "tsx-force-abort", SPEC_REG_7_EDX, CPUID7_EDX_TSX_FORCE_ABORT, NO_DEP,
	  NOT_EMULATED(MSR_TSX_FORCE_ABORT) },
	{ "core-capabilities", SPEC_REG_7_EDX, CPUID7_EDX_CORE_CAPS, NO_DEP,
	  NOT_EMULATED(MSR_IA32_CORE_CAPABILITIES) },
	{ "arch-lbr", SPEC_REG_7_EDX, CPUID7_EDX_ARCH_LBR, NO_DEP, NOT_EMULATED(MSR_IA32_LBR_CTL) },
	{ "ibt", SPEC_REG_7_EDX, CPUID7_EDX_IBT, NO_DEP, NOT_EMULATED(MSR_IA32_S_CET) },
	{ "uintr", SPEC_REG_7_EDX, CPUID7_EDX_UINTR, NO_DEP, NOT_EMULATED(0x985) },

	/* Leaf 7.0 ECX: bits whose MSRs Linux touches without the _safe
	 * accessors once CPUID has them. */
	{ "waitpkg", SPEC_REG_7_ECX, CPUID7_ECX_WAITPKG, NO_DEP,
	  NOT_EMULATED(MSR_IA32_UMWAIT_CONTROL) },
	{ "shstk", SPEC_REG_7_ECX, CPUID7_ECX_CET_SS, NO_DEP, NOT_EMULATED(MSR_IA32_S_CET) },
	{ "tme", SPEC_REG_7_ECX, CPUID7_ECX_TME, NO_DEP, NOT_EMULATED(MSR_IA32_TME_ACTIVATE) },
	{ "sgx-lc", SPEC_REG_7_ECX, CPUID7_ECX_SGX_LC, NO_DEP, NOT_EMULATED(0x8c) },

	/* Leaf 7.2 EDX: further SPEC_CTRL bits. */
	{ "psfd", SPEC_REG_7_2_EDX, CPUID7_2_EDX_PSFD, NO_DEP, SPEC_CTRL(SPEC_CTRL_PSFD) },
	{ "ipred-ctrl", SPEC_REG_7_2_EDX, CPUID7_2_EDX_IPRED_CTRL, NO_DEP,
	  SPEC_CTRL(SPEC_CTRL_IPRED_DIS) },
	{ "rrsba-ctrl", SPEC_REG_7_2_EDX, CPUID7_2_EDX_RRSBA_CTRL, NO_DEP,
	  SPEC_CTRL(SPEC_CTRL_RRSBA_DIS) },
	{ "ddpd-u", SPEC_REG_7_2_EDX, CPUID7_2_EDX_DDPD_U, NO_DEP, SPEC_CTRL(SPEC_CTRL_DDPD_U) },
	{ "bhi-ctrl", SPEC_REG_7_2_EDX, CPUID7_2_EDX_BHI_CTRL, NO_DEP,
	  SPEC_CTRL(SPEC_CTRL_BHI_DIS_S) },
	{ "mcdt-no", SPEC_REG_7_2_EDX, CPUID7_2_EDX_MCDT_NO, NO_DEP, NO_MSR },

	/* Leaf 0x80000008 EBX (APM vol. 3 E.4.17). Hints mean something only
	 * next to the feature they qualify. */
	{ "amd-ibrs-always-on", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS_ALWAYS_ON, F_AMD_IBRS, NO_MSR },
	{ "amd-stibp-always-on", SPEC_REG_E8_EBX, CPUIDE8_EBX_STIBP_ALWAYS_ON, F_AMD_STIBP,
	  NO_MSR },
	{ "amd-ibrs-preferred", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS_PREFERRED, F_AMD_IBRS, NO_MSR },
	{ "amd-ibrs-same-mode", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS_SAME_MODE, F_AMD_IBRS, NO_MSR },
	{ "amd-ssbd", SPEC_REG_E8_EBX, CPUIDE8_EBX_AMD_SSBD, NO_DEP, SPEC_CTRL(SPEC_CTRL_SSBD) },
	{ "amd-psfd", SPEC_REG_E8_EBX, CPUIDE8_EBX_PSFD, NO_DEP, SPEC_CTRL(SPEC_CTRL_PSFD) },
	{ "amd-ssb-no", SPEC_REG_E8_EBX, CPUIDE8_EBX_SSB_NO, NO_DEP, NO_MSR },
	{ "btc-no", SPEC_REG_E8_EBX, CPUIDE8_EBX_BTC_NO, NO_DEP, NO_MSR },
	{ "ibpb-ret", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBPB_RET, F_AMD_IBPB, NO_MSR },
	/* VIRT_SPEC_CTRL is for hypervisors to offer; Keel offers SSBD
	 * through SPEC_CTRL instead. */
	{ "virt-ssbd", SPEC_REG_E8_EBX, CPUIDE8_EBX_VIRT_SSBD, NO_DEP,
	  NOT_EMULATED(MSR_AMD_VIRT_SPEC_CTRL) },
	{ "irperf", SPEC_REG_E8_EBX, CPUIDE8_EBX_IRPERF, NO_DEP, NOT_EMULATED(MSR_AMD_IRPERF) },
	{ "amd-ppin", SPEC_REG_E8_EBX, CPUIDE8_EBX_PPIN, NO_DEP, NOT_EMULATED(MSR_AMD_PPIN) },
	{ "cppc", SPEC_REG_E8_EBX, CPUIDE8_EBX_CPPC, NO_DEP, NOT_EMULATED(MSR_AMD_CPPC_CAP1) },

	/* Leaf 0x80000021 EAX (AMD): what Linux writes without the _safe
	 * accessors once it is shown. SBPB is a bit of IA32_PRED_CMD that
	 * Keel's handler refuses; automatic IBRS is EFER.AIBRSE, which
	 * kernel/msr.c refuses. The MSR column stays 0: neither MSR is
	 * this table's to answer. Hints (SRSO_NO, IBPB_BRTYPE, ...) pass. */
	{ "sbpb", SPEC_REG_E21_EAX, CPUIDE21_EAX_SBPB, NO_DEP, NOT_EMULATED(0) },
	{ "auto-ibrs", SPEC_REG_E21_EAX, CPUIDE21_EAX_AUTO_IBRS, NO_DEP, NOT_EMULATED(0) },
};

#define NR_FEATURES ARRAY_SIZE(features)

/* Whether entry i could be shown on this host on its own: the host has
 * the bit and Keel handles what it promises. The caller adds the rules
 * across entries (a bit with two entries, dependencies). */
static bool offerable(const struct spec_cpu *host, unsigned i)
{
	const struct spec_feature *f = &features[i];

	return !f->never && spec_has(host, f->reg, f->bit);
}

void spec_guest_init(const struct spec_cpu *host, struct spec_guest *g)
{
	bool shown[NR_FEATURES];

	memset(g, 0, sizeof(*g));
	g->arch_caps_value = host->arch_caps & ARCH_CAP_GUEST_MASK;
	for (unsigned i = 0; i < NR_FEATURES; i++) {
		g->clear[features[i].reg] |= 1u << features[i].bit;
		shown[i] = offerable(host, i);
	}
	/* Every entry of a bit must be offerable for the bit to be shown. */
	for (unsigned i = 0; i < NR_FEATURES; i++)
		for (unsigned j = 0; j < NR_FEATURES; j++)
			if (features[j].reg == features[i].reg && features[j].bit == features[i].bit &&
			    !offerable(host, j))
				shown[i] = false;
	/* Dependencies point to earlier entries, so one pass settles them. */
	for (unsigned i = 0; i < NR_FEATURES; i++)
		if (features[i].dep != NO_DEP && !shown[features[i].dep])
			shown[i] = false;

	for (unsigned i = 0; i < NR_FEATURES; i++) {
		const struct spec_feature *f = &features[i];
		if (!shown[i])
			continue;
		g->set[f->reg] |= 1u << f->bit;
		g->spec_ctrl_mask |= f->ctrl;
	}
	/* SPEC_REG_7_EBX is only read (RTM, for the host policy). */
	g->clear[SPEC_REG_7_EBX] = g->set[SPEC_REG_7_EBX] = 0;
}

static void edit(const struct spec_guest *g, enum spec_reg r, u32 *val)
{
	*val = (*val & ~g->clear[r]) | g->set[r];
}

void spec_guest_cpuid(const struct spec_guest *g, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	if (leaf == 7 && sub == 0) {
		edit(g, SPEC_REG_7_ECX, &r->ecx);
		edit(g, SPEC_REG_7_EDX, &r->edx);
	} else if (leaf == 7 && sub == 2) {
		edit(g, SPEC_REG_7_2_EDX, &r->edx);
	} else if (leaf == 0x80000008) {
		edit(g, SPEC_REG_E8_EBX, &r->ebx);
	} else if (leaf == 0x80000021) {
		edit(g, SPEC_REG_E21_EAX, &r->eax);
	}
}

static bool shown(const struct spec_guest *g, const struct spec_feature *f)
{
	return (g->set[f->reg] >> f->bit) & 1;
}

/*
 * Both directions look the MSR up in the table: the first entry for it
 * whose bit is shown and that has a handler for the direction answers.
 * An MSR of the table with no such entry raises #GP, as on a CPU without
 * the feature (or for the wrong direction of a write-only or read-only
 * MSR); any other MSR is the caller's.
 */
int spec_msr_read(const struct spec_guest *g, u64 spec_ctrl, u32 msr, u64 *val)
{
	bool known = false;

	for (unsigned i = 0; i < NR_FEATURES; i++) {
		const struct spec_feature *f = &features[i];
		if (!f->msr || f->msr != msr)
			continue;
		known = true;
		if (shown(g, f) && f->rd)
			return f->rd(g, spec_ctrl, val);
	}
	return known ? SPEC_MSR_GP : SPEC_MSR_NOT_MINE;
}

int spec_msr_write(const struct spec_guest *g, u64 *spec_ctrl, u32 msr, u64 val,
		   unsigned *actions)
{
	bool known = false;

	*actions = 0;
	for (unsigned i = 0; i < NR_FEATURES; i++) {
		const struct spec_feature *f = &features[i];
		if (!f->msr || f->msr != msr)
			continue;
		known = true;
		if (shown(g, f) && f->wr)
			return f->wr(g, spec_ctrl, val, actions);
	}
	return known ? SPEC_MSR_GP : SPEC_MSR_NOT_MINE;
}

size_t spec_guest_describe(const struct spec_guest *g, char *buf, size_t len)
{
	size_t at = 0;

	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < NR_FEATURES; i++) {
		const struct spec_feature *f = &features[i];
		if (!shown(g, f))
			continue;
		/* One name per bit: skip the second entry of a shared bit. */
		bool dup = false;
		for (unsigned j = 0; j < i; j++)
			dup |= features[j].reg == f->reg && features[j].bit == f->bit;
		if (dup)
			continue;
		at += snprintf(buf + at, at < len ? len - at : 0, "%s%s", at ? " " : "", f->name);
		if (at >= len)
			at = len ? len - 1 : 0;
	}
	if (!at)
		at = snprintf(buf, len, "nothing");
	return at;
}
