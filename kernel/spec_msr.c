/*
 * Speculation-control CPUID bits and the MSRs they promise, for guests
 * (contract in asm/spec.h). Pure, tested in tests/unit/test_spec.c.
 *
 * A guest OS believes CPUID: once leaf 7 says SPEC_CTRL or ARCH_CAPABILITIES,
 * Linux reads and writes those MSRs with the accessors that do not expect
 * #GP, and a #GP there kills it. So one table below lists every CPUID bit
 * of leaf 7.0 ECX/EDX, 7.2 EDX, 0x80000008 EBX and 0x80000021 EAX that
 * promises an MSR (or
 * is only meaningful next to one), with the MSR and the handler Keel has
 * for it. From that table alone come both answers: the guest's CPUID (a
 * bit is shown when the host has it, its MSR has a handler here, and the
 * entry it depends on is shown) and the guest's RDMSR/WRMSR (an MSR works
 * exactly when one of its bits is shown). Bits whose MSR Keel does not
 * emulate have no handler and are always hidden.
 *
 * Bits not in the table (e.g. FSRM, AVX-512 in leaf 7 EDX, CLZERO in
 * 0x80000008 EBX) keep the host's value; kernel/cpuid.c owns them.
 */
#include <keel/lib.h>
#include <asm/spec.h>

/* What kind of MSR an entry's bit promises. */
enum spec_msr_kind {
	K_NONE,       /* no MSR: a hint, or an instruction that works in a guest */
	K_SPEC_CTRL,  /* bits of IA32_SPEC_CTRL (handled) */
	K_PRED_CMD,   /* IA32_PRED_CMD, IBPB (handled) */
	K_FLUSH_CMD,  /* IA32_FLUSH_CMD, L1D flush (handled) */
	K_ARCH_CAPS,  /* IA32_ARCH_CAPABILITIES (handled, read-only) */
	K_UNHANDLED,  /* an MSR Keel does not emulate: the bit is hidden */
};

#define NO_DEP 0xff

struct spec_feature {
	const char *name; /* as in Linux's /proc/cpuinfo where it has one */
	u8 reg;           /* enum spec_reg */
	u8 bit;
	u8 kind;          /* enum spec_msr_kind */
	u8 dep;           /* index of the entry that must be shown too, or NO_DEP */
	u32 msr;          /* the MSR, for the record (0 for K_NONE) */
	u64 ctrl;         /* K_SPEC_CTRL: the SPEC_CTRL bits it lets the guest set */
};

/* Indexes used as dependencies. */
enum { F_SPEC_CTRL, F_AMD_IBPB, F_AMD_IBRS, F_AMD_STIBP };

static const struct spec_feature features[] = {
	/* The first four are named by the enum above. */
	[F_SPEC_CTRL] = { "spec-ctrl", SPEC_REG_7_EDX, CPUID7_EDX_SPEC_CTRL, K_SPEC_CTRL, NO_DEP,
			  MSR_IA32_SPEC_CTRL, SPEC_CTRL_IBRS },
	[F_AMD_IBPB] = { "amd-ibpb", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBPB, K_PRED_CMD, NO_DEP,
			 MSR_IA32_PRED_CMD, 0 },
	[F_AMD_IBRS] = { "amd-ibrs", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS, K_SPEC_CTRL, NO_DEP,
			 MSR_IA32_SPEC_CTRL, SPEC_CTRL_IBRS },
	[F_AMD_STIBP] = { "amd-stibp", SPEC_REG_E8_EBX, CPUIDE8_EBX_STIBP, K_SPEC_CTRL, NO_DEP,
			  MSR_IA32_SPEC_CTRL, SPEC_CTRL_STIBP },

	/* Leaf 7.0 EDX (SDM vol. 2A table 3-8). Intel's SPEC_CTRL bit
	 * promises IA32_PRED_CMD as well: a second entry, same bit. */
	{ "ibpb", SPEC_REG_7_EDX, CPUID7_EDX_SPEC_CTRL, K_PRED_CMD, NO_DEP, MSR_IA32_PRED_CMD, 0 },
	{ "stibp", SPEC_REG_7_EDX, CPUID7_EDX_STIBP, K_SPEC_CTRL, NO_DEP, MSR_IA32_SPEC_CTRL,
	  SPEC_CTRL_STIBP },
	{ "ssbd", SPEC_REG_7_EDX, CPUID7_EDX_SSBD, K_SPEC_CTRL, NO_DEP, MSR_IA32_SPEC_CTRL,
	  SPEC_CTRL_SSBD },
	{ "flush-l1d", SPEC_REG_7_EDX, CPUID7_EDX_L1D_FLUSH, K_FLUSH_CMD, NO_DEP,
	  MSR_IA32_FLUSH_CMD, 0 },
	{ "arch-capabilities", SPEC_REG_7_EDX, CPUID7_EDX_ARCH_CAPS, K_ARCH_CAPS, NO_DEP,
	  MSR_IA32_ARCH_CAPABILITIES, 0 },
	/* VERW is an instruction; its buffer clearing works in a guest. */
	{ "md-clear", SPEC_REG_7_EDX, CPUID7_EDX_MD_CLEAR, K_NONE, NO_DEP, 0, 0 },
	{ "srbds-ctrl", SPEC_REG_7_EDX, CPUID7_EDX_SRBDS_CTRL, K_UNHANDLED, NO_DEP,
	  MSR_IA32_MCU_OPT_CTRL, 0 },
	{ "tsx-force-abort", SPEC_REG_7_EDX, CPUID7_EDX_TSX_FORCE_ABORT, K_UNHANDLED, NO_DEP,
	  MSR_TSX_FORCE_ABORT, 0 },
	{ "core-capabilities", SPEC_REG_7_EDX, CPUID7_EDX_CORE_CAPS, K_UNHANDLED, NO_DEP,
	  MSR_IA32_CORE_CAPABILITIES, 0 },
	{ "arch-lbr", SPEC_REG_7_EDX, CPUID7_EDX_ARCH_LBR, K_UNHANDLED, NO_DEP, MSR_IA32_LBR_CTL, 0 },
	{ "ibt", SPEC_REG_7_EDX, CPUID7_EDX_IBT, K_UNHANDLED, NO_DEP, MSR_IA32_S_CET, 0 },
	{ "uintr", SPEC_REG_7_EDX, CPUID7_EDX_UINTR, K_UNHANDLED, NO_DEP, 0x985, 0 },

	/* Leaf 7.0 ECX: bits whose MSRs Linux touches without the _safe
	 * accessors once CPUID has them. */
	{ "waitpkg", SPEC_REG_7_ECX, CPUID7_ECX_WAITPKG, K_UNHANDLED, NO_DEP,
	  MSR_IA32_UMWAIT_CONTROL, 0 },
	{ "shstk", SPEC_REG_7_ECX, CPUID7_ECX_CET_SS, K_UNHANDLED, NO_DEP, MSR_IA32_S_CET, 0 },
	{ "tme", SPEC_REG_7_ECX, CPUID7_ECX_TME, K_UNHANDLED, NO_DEP, MSR_IA32_TME_ACTIVATE, 0 },
	{ "sgx-lc", SPEC_REG_7_ECX, CPUID7_ECX_SGX_LC, K_UNHANDLED, NO_DEP, 0x8c, 0 },

	/* Leaf 7.2 EDX: further SPEC_CTRL bits. */
	{ "psfd", SPEC_REG_7_2_EDX, CPUID7_2_EDX_PSFD, K_SPEC_CTRL, NO_DEP, MSR_IA32_SPEC_CTRL,
	  SPEC_CTRL_PSFD },
	{ "ipred-ctrl", SPEC_REG_7_2_EDX, CPUID7_2_EDX_IPRED_CTRL, K_SPEC_CTRL, NO_DEP,
	  MSR_IA32_SPEC_CTRL, SPEC_CTRL_IPRED_DIS },
	{ "rrsba-ctrl", SPEC_REG_7_2_EDX, CPUID7_2_EDX_RRSBA_CTRL, K_SPEC_CTRL, NO_DEP,
	  MSR_IA32_SPEC_CTRL, SPEC_CTRL_RRSBA_DIS },
	{ "ddpd-u", SPEC_REG_7_2_EDX, CPUID7_2_EDX_DDPD_U, K_SPEC_CTRL, NO_DEP, MSR_IA32_SPEC_CTRL,
	  SPEC_CTRL_DDPD_U },
	{ "bhi-ctrl", SPEC_REG_7_2_EDX, CPUID7_2_EDX_BHI_CTRL, K_SPEC_CTRL, NO_DEP,
	  MSR_IA32_SPEC_CTRL, SPEC_CTRL_BHI_DIS_S },
	{ "mcdt-no", SPEC_REG_7_2_EDX, CPUID7_2_EDX_MCDT_NO, K_NONE, NO_DEP, 0, 0 },

	/* Leaf 0x80000008 EBX (APM vol. 3 E.4.17). Hints mean something only
	 * next to the feature they qualify. */
	{ "amd-ibrs-always-on", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS_ALWAYS_ON, K_NONE, F_AMD_IBRS, 0,
	  0 },
	{ "amd-stibp-always-on", SPEC_REG_E8_EBX, CPUIDE8_EBX_STIBP_ALWAYS_ON, K_NONE, F_AMD_STIBP,
	  0, 0 },
	{ "amd-ibrs-preferred", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS_PREFERRED, K_NONE, F_AMD_IBRS, 0,
	  0 },
	{ "amd-ibrs-same-mode", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS_SAME_MODE, K_NONE, F_AMD_IBRS, 0,
	  0 },
	{ "amd-ssbd", SPEC_REG_E8_EBX, CPUIDE8_EBX_AMD_SSBD, K_SPEC_CTRL, NO_DEP, MSR_IA32_SPEC_CTRL,
	  SPEC_CTRL_SSBD },
	{ "amd-psfd", SPEC_REG_E8_EBX, CPUIDE8_EBX_PSFD, K_SPEC_CTRL, NO_DEP, MSR_IA32_SPEC_CTRL,
	  SPEC_CTRL_PSFD },
	{ "amd-ssb-no", SPEC_REG_E8_EBX, CPUIDE8_EBX_SSB_NO, K_NONE, NO_DEP, 0, 0 },
	{ "btc-no", SPEC_REG_E8_EBX, CPUIDE8_EBX_BTC_NO, K_NONE, NO_DEP, 0, 0 },
	{ "ibpb-ret", SPEC_REG_E8_EBX, CPUIDE8_EBX_IBPB_RET, K_NONE, F_AMD_IBPB, 0, 0 },
	/* VIRT_SPEC_CTRL is for hypervisors to offer; Keel offers SSBD
	 * through SPEC_CTRL instead. */
	{ "virt-ssbd", SPEC_REG_E8_EBX, CPUIDE8_EBX_VIRT_SSBD, K_UNHANDLED, NO_DEP,
	  MSR_AMD_VIRT_SPEC_CTRL, 0 },
	{ "irperf", SPEC_REG_E8_EBX, CPUIDE8_EBX_IRPERF, K_UNHANDLED, NO_DEP, MSR_AMD_IRPERF, 0 },
	{ "amd-ppin", SPEC_REG_E8_EBX, CPUIDE8_EBX_PPIN, K_UNHANDLED, NO_DEP, MSR_AMD_PPIN, 0 },
	{ "cppc", SPEC_REG_E8_EBX, CPUIDE8_EBX_CPPC, K_UNHANDLED, NO_DEP, MSR_AMD_CPPC_CAP1, 0 },

	/* Leaf 0x80000021 EAX (AMD): what Linux writes without the _safe
	 * accessors once it is shown. SBPB is a bit of IA32_PRED_CMD that
	 * Keel's handler refuses; automatic IBRS is EFER.AIBRSE, which
	 * kernel/msr.c refuses. The MSR column stays 0: neither MSR is
	 * this table's to refuse. Hints (SRSO_NO, IBPB_BRTYPE, ...) pass. */
	{ "sbpb", SPEC_REG_E21_EAX, CPUIDE21_EAX_SBPB, K_UNHANDLED, NO_DEP, 0, 0 },
	{ "auto-ibrs", SPEC_REG_E21_EAX, CPUIDE21_EAX_AUTO_IBRS, K_UNHANDLED, NO_DEP, 0, 0 },
};

#define NR_FEATURES ARRAY_SIZE(features)

/* Whether entry i could be shown on this host on its own: the host has
 * the bit and Keel handles what it promises. The caller adds the rules
 * across entries (a bit with two entries, dependencies). */
static bool offerable(const struct spec_cpu *host, unsigned i)
{
	const struct spec_feature *f = &features[i];

	return f->kind != K_UNHANDLED && spec_has(host, f->reg, f->bit);
}

void spec_guest_init(const struct spec_cpu *host, struct spec_guest *g)
{
	bool shown[NR_FEATURES];

	memset(g, 0, sizeof(*g));
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
		switch (f->kind) {
		case K_SPEC_CTRL:
			g->spec_ctrl_mask |= f->ctrl;
			break;
		case K_PRED_CMD:
			g->pred_cmd = true;
			break;
		case K_FLUSH_CMD:
			g->flush_cmd = true;
			break;
		case K_ARCH_CAPS:
			g->arch_caps = true;
			g->arch_caps_value = host->arch_caps & ARCH_CAP_GUEST_MASK;
			break;
		default:
			break;
		}
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

/* True when `msr` is one of the table's MSRs (handled or not). */
static bool table_msr(u32 msr)
{
	for (unsigned i = 0; i < NR_FEATURES; i++)
		if (features[i].msr && features[i].msr == msr)
			return true;
	return false;
}

int spec_msr_read(const struct spec_guest *g, u64 spec_ctrl, u32 msr, u64 *val)
{
	switch (msr) {
	case MSR_IA32_SPEC_CTRL:
		if (!g->spec_ctrl_mask)
			return SPEC_MSR_GP;
		*val = spec_ctrl;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		if (!g->arch_caps)
			return SPEC_MSR_GP;
		*val = g->arch_caps_value;
		return 0;
	case MSR_IA32_PRED_CMD:
	case MSR_IA32_FLUSH_CMD:
		return SPEC_MSR_GP; /* write-only (SDM vol. 4 table 2-2) */
	default:
		/* The unhandled ones: #GP, as their bits are hidden. */
		return table_msr(msr) ? SPEC_MSR_GP : SPEC_MSR_NOT_MINE;
	}
}

int spec_msr_write(const struct spec_guest *g, u64 *spec_ctrl, u32 msr, u64 val,
		   unsigned *actions)
{
	*actions = 0;
	switch (msr) {
	case MSR_IA32_SPEC_CTRL:
		/* Bits the guest was not offered are reserved to it: #GP, as
		 * on a CPU without them. Only offered bits reach the real
		 * MSR, so the host never sees a value it would refuse. */
		if (!g->spec_ctrl_mask || (val & ~g->spec_ctrl_mask))
			return SPEC_MSR_GP;
		*spec_ctrl = val;
		return 0;
	case MSR_IA32_PRED_CMD:
		if (!g->pred_cmd || (val & ~PRED_CMD_IBPB))
			return SPEC_MSR_GP;
		if (val & PRED_CMD_IBPB)
			*actions |= SPEC_ACT_IBPB;
		return 0;
	case MSR_IA32_FLUSH_CMD:
		if (!g->flush_cmd || (val & ~FLUSH_CMD_L1D))
			return SPEC_MSR_GP;
		if (val & FLUSH_CMD_L1D)
			*actions |= SPEC_ACT_L1D_FLUSH;
		return 0;
	case MSR_IA32_ARCH_CAPABILITIES:
		return SPEC_MSR_GP; /* read-only */
	default:
		return table_msr(msr) ? SPEC_MSR_GP : SPEC_MSR_NOT_MINE;
	}
}

size_t spec_guest_describe(const struct spec_guest *g, char *buf, size_t len)
{
	size_t at = 0;

	if (len)
		buf[0] = 0;
	for (unsigned i = 0; i < NR_FEATURES; i++) {
		const struct spec_feature *f = &features[i];
		if (!((g->set[f->reg] >> f->bit) & 1))
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
