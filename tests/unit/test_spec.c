/*
 * Speculation hygiene (asm/spec.h): the host policy (arch/x86/spec_policy.c)
 * on the values real CPUs report, and the rule that a guest's CPUID and
 * MSRs agree (kernel/spec_msr.c): every bit the guest is shown has an MSR
 * that works, every bit whose MSR Keel does not emulate is hidden, and
 * nothing is shown that the host lacks.
 *
 * The hosts Keel's integration tests run on report little: QEMU TCG's
 * qemu64 none of these bits, Bochs's corei7_icelake_u SPEC_CTRL, STIBP,
 * SSBD, L1D_FLUSH and ARCH_CAPABILITIES (0x1f). The other fixtures are
 * real CPUs' CPUID leaf 7 / 0x80000008 values (Skylake client, Cascade
 * Lake, a 2022 Intel part with leaf 7.2, AMD Zen 2, 3 and 4) and 500
 * random hosts.
 *
 * The MSR list in check_agreement() is written from the manuals (SDM vol.
 * 4 table 2-2, APM vol. 3 E.4.17) independently of kernel/spec_msr.c's
 * table, so that a drift between that table and the hardware's meaning
 * shows here.
 *
 * unit-sources: arch/x86/spec_policy.c kernel/spec_msr.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <asm/spec.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

#define B(n) (1u << (n))

/* ---- fixtures ---------------------------------------------------------- */

static struct spec_cpu qemu64(void)
{
	return (struct spec_cpu){ .amd = true };
}

static struct spec_cpu bochs_icelake(void)
{
	struct spec_cpu c = { .intel = true, .arch_caps = 0x1f };
	c.reg[SPEC_REG_7_ECX] = 0x405f4e;
	c.reg[SPEC_REG_7_EDX] = 0xbc000110;
	return c;
}

/* Core i7-6700K with the 2019 microcode: MD_CLEAR, TSX_FORCE_ABORT, IBRS,
 * STIBP, L1D_FLUSH, SSBD; no ARCH_CAPABILITIES; TSX (RTM) present. */
static struct spec_cpu skylake(void)
{
	struct spec_cpu c = { .intel = true };
	c.reg[SPEC_REG_7_EBX] = 0x029c6fbf;
	c.reg[SPEC_REG_7_EDX] = 0x9c002400;
	return c;
}

/* Xeon Cascade Lake: not L1TF/MDS-affected, enhanced IBRS, TSX with the
 * TSX_CTRL MSR and without TAA_NO; CORE_CAPABILITIES. */
static struct spec_cpu cascade_lake(void)
{
	struct spec_cpu c = { .intel = true };
	c.reg[SPEC_REG_7_EBX] = 0xd19ffffb;
	c.reg[SPEC_REG_7_ECX] = 0x00000808;
	c.reg[SPEC_REG_7_EDX] = 0xfc000400;
	c.arch_caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
		      ARCH_CAP_MDS_NO | ARCH_CAP_TSX_CTRL | (1ULL << 12) /* DOITM */;
	return c;
}

/* An Intel part of 2022 (Alder/Sapphire Rapids class): leaf 7.2 SPEC_CTRL
 * bits, CET (IBT and shadow stacks), WAITPKG, FB_CLEAR, no MD_CLEAR
 * needed (MDS_NO, TAA_NO), ARCH_LBR. */
static struct spec_cpu intel_2022(void)
{
	struct spec_cpu c = { .intel = true };
	c.reg[SPEC_REG_7_ECX] = B(CPUID7_ECX_WAITPKG) | B(CPUID7_ECX_CET_SS) | B(22);
	c.reg[SPEC_REG_7_EDX] = B(4) | B(CPUID7_EDX_MD_CLEAR) | B(CPUID7_EDX_ARCH_LBR) |
				B(CPUID7_EDX_IBT) | B(CPUID7_EDX_SPEC_CTRL) | B(CPUID7_EDX_STIBP) |
				B(CPUID7_EDX_L1D_FLUSH) | B(CPUID7_EDX_ARCH_CAPS) |
				B(CPUID7_EDX_CORE_CAPS) | B(CPUID7_EDX_SSBD);
	c.reg[SPEC_REG_7_2_EDX] = 0x1f;
	c.arch_caps = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_SKIP_L1DFL_VMENTRY |
		      ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO | ARCH_CAP_FB_CLEAR | ARCH_CAP_PBRSB_NO |
		      ARCH_CAP_GDS_NO | (1ULL << 25) /* GDS_CTRL */;
	return c;
}

/* EPYC 7002 (Zen 2): CLZERO, IRPERF, XSAVEERPTR, RDPRU, WBNOINVD, IBPB,
 * IBRS, STIBP, STIBP_ALWAYS_ON, PPIN, AMD_SSBD. */
static struct spec_cpu zen2(void)
{
	struct spec_cpu c = { .amd = true };
	c.reg[SPEC_REG_7_EBX] = 0x219c91a9;
	c.reg[SPEC_REG_7_ECX] = 0x00400004;
	c.reg[SPEC_REG_E8_EBX] = B(0) | B(CPUIDE8_EBX_IRPERF) | B(2) | B(4) | B(9) |
				 B(CPUIDE8_EBX_IBPB) | B(CPUIDE8_EBX_IBRS) | B(CPUIDE8_EBX_STIBP) |
				 B(CPUIDE8_EBX_STIBP_ALWAYS_ON) | B(CPUIDE8_EBX_PPIN) |
				 B(CPUIDE8_EBX_AMD_SSBD);
	return c;
}

/* EPYC 7003 (Zen 3) under an SVM back end with V_SPEC_CTRL; IBRS
 * "always on" preferred, PSFD, SSB_NO-free, IBPB_RET. */
static struct spec_cpu zen3(void)
{
	struct spec_cpu c = zen2();
	c.reg[SPEC_REG_E8_EBX] |= B(CPUIDE8_EBX_IBRS_ALWAYS_ON) | B(CPUIDE8_EBX_IBRS_SAME_MODE) |
				  B(CPUIDE8_EBX_PSFD) | B(CPUIDE8_EBX_IBPB_RET) | B(CPUIDE8_EBX_CPPC);
	c.hw_switches_spec_ctrl = true;
	return c;
}

/* EPYC 9004 (Zen 4): Zen 3 plus leaf 0x80000021 EAX with automatic IBRS,
 * SBPB (after the SRSO microcode), IBPB_BRTYPE and SRSO_NO. */
static struct spec_cpu zen4(void)
{
	struct spec_cpu c = zen3();
	c.reg[SPEC_REG_E21_EAX] = B(0) | B(2) | B(6) | B(CPUIDE21_EAX_AUTO_IBRS) |
				  B(CPUIDE21_EAX_SBPB) | B(28) | B(29);
	return c;
}

/* A host that is itself a guest of a hypervisor offering VIRT_SSBD and
 * hints without the features they qualify. */
static struct spec_cpu amd_odd(void)
{
	struct spec_cpu c = { .amd = true };
	c.reg[SPEC_REG_E8_EBX] = B(CPUIDE8_EBX_VIRT_SSBD) | B(CPUIDE8_EBX_IBRS_ALWAYS_ON) |
				 B(CPUIDE8_EBX_STIBP_ALWAYS_ON) | B(CPUIDE8_EBX_IBPB_RET) |
				 B(CPUIDE8_EBX_SSB_NO);
	return c;
}

/* ---- the guest's view -------------------------------------------------- */

struct view {
	struct spec_guest g;
	u32 ebx7, ecx7, edx7, edx72, ebx8, eax21;
};

/* The guest's CPUID for host c, through the same calls cpuid.c makes,
 * starting from the host's registers (other registers arbitrary). */
static struct view guest_view(const struct spec_cpu *c)
{
	struct view v;
	struct cpuid_regs r;

	spec_guest_init(c, &v.g);
	r = (struct cpuid_regs){ 2, c->reg[SPEC_REG_7_EBX], c->reg[SPEC_REG_7_ECX],
				 c->reg[SPEC_REG_7_EDX] };
	spec_guest_cpuid(&v.g, 7, 0, &r);
	ck_assert_uint_eq(r.eax, 2);
	v.ebx7 = r.ebx, v.ecx7 = r.ecx, v.edx7 = r.edx;
	r = (struct cpuid_regs){ 0x11, 0x1234, 0x5678, c->reg[SPEC_REG_7_2_EDX] };
	spec_guest_cpuid(&v.g, 7, 2, &r);
	ck_assert_uint_eq(r.eax, 0x11); /* 7.2 EAX/EBX/ECX untouched */
	ck_assert_uint_eq(r.ebx, 0x1234);
	ck_assert_uint_eq(r.ecx, 0x5678);
	v.edx72 = r.edx;
	r = (struct cpuid_regs){ 0x3030, c->reg[SPEC_REG_E8_EBX], 0x1111, 0x2222 };
	spec_guest_cpuid(&v.g, 0x80000008, 0, &r);
	ck_assert_uint_eq(r.eax, 0x3030);
	ck_assert_uint_eq(r.ecx, 0x1111);
	ck_assert_uint_eq(r.edx, 0x2222);
	v.ebx8 = r.ebx;
	r = (struct cpuid_regs){ c->reg[SPEC_REG_E21_EAX], 0x1, 0x2, 0x3 };
	spec_guest_cpuid(&v.g, 0x80000021, 0, &r);
	ck_assert(r.ebx == 1 && r.ecx == 2 && r.edx == 3);
	v.eax21 = r.eax;
	/* Other leaves pass untouched. */
	r = (struct cpuid_regs){ ~0u, ~0u, ~0u, ~0u };
	spec_guest_cpuid(&v.g, 7, 1, &r);
	spec_guest_cpuid(&v.g, 1, 0, &r);
	spec_guest_cpuid(&v.g, 0x80000001, 0, &r);
	ck_assert(r.eax == ~0u && r.ebx == ~0u && r.ecx == ~0u && r.edx == ~0u);
	return v;
}

static bool rd(const struct view *v, u64 spec_ctrl, u32 msr, u64 *val)
{
	return spec_msr_read(&v->g, spec_ctrl, msr, val) == 0;
}

static bool wr(const struct view *v, u64 *spec_ctrl, u32 msr, u64 val, unsigned *act)
{
	return spec_msr_write(&v->g, spec_ctrl, msr, val, act) == 0;
}

/* SPEC_CTRL bit `ctrl` works as the SDM says: settable, reads back,
 * clearable. */
static void expect_spec_ctrl_bit(const struct view *v, u64 ctrl, const char *what)
{
	u64 sc = 0, val = ~0ULL;
	unsigned act;

	ck_assert_msg(wr(v, &sc, MSR_IA32_SPEC_CTRL, ctrl, &act), "%s: wrmsr 0x48 <- 0x%llx #GP",
		      what, (unsigned long long)ctrl);
	ck_assert_msg(rd(v, sc, MSR_IA32_SPEC_CTRL, &val) && val == ctrl,
		      "%s: rdmsr 0x48 = 0x%llx, wrote 0x%llx", what, (unsigned long long)val,
		      (unsigned long long)ctrl);
	ck_assert_msg(wr(v, &sc, MSR_IA32_SPEC_CTRL, 0, &act) && sc == 0, "%s: clear", what);
}

/*
 * The agreement rule, for any host: every bit the guest sees promises an
 * MSR that works; bits promising MSRs Keel does not emulate are hidden;
 * nothing is shown that the host lacks; bits outside the rule pass
 * through; MSRs of hidden features raise #GP.
 */
static void check_agreement(const struct spec_cpu *c)
{
	struct view v = guest_view(c);
	u64 val, sc = 0;
	unsigned act;

	/* Never more than the host. */
	ck_assert_uint_eq(v.ecx7 & ~c->reg[SPEC_REG_7_ECX], 0);
	ck_assert_uint_eq(v.edx7 & ~c->reg[SPEC_REG_7_EDX], 0);
	ck_assert_uint_eq(v.edx72 & ~c->reg[SPEC_REG_7_2_EDX], 0);
	ck_assert_uint_eq(v.ebx8 & ~c->reg[SPEC_REG_E8_EBX], 0);
	ck_assert_uint_eq(v.eax21 & ~c->reg[SPEC_REG_E21_EAX], 0);
	ck_assert_uint_eq(v.ebx7, c->reg[SPEC_REG_7_EBX]); /* EBX is cpuid.c's */

	/* 0x80000021 EAX: SBPB (PRED_CMD bit 7) and automatic IBRS
	 * (EFER.AIBRSE) are refused by Keel's handlers, so never shown;
	 * PRED_CMD bit 7 #GPs. Hints such as SRSO_NO (29) pass. */
	ck_assert(!(v.eax21 & (B(CPUIDE21_EAX_SBPB) | B(CPUIDE21_EAX_AUTO_IBRS))));
	ck_assert_uint_eq(v.eax21 & B(29), c->reg[SPEC_REG_E21_EAX] & B(29));
	ck_assert(!wr(&v, &sc, MSR_IA32_PRED_CMD, 1ULL << 7, &act));

	/* Bits outside the rule keep the host's value (a sample). */
	u32 keep7 = B(4) | B(8) | B(14) | B(22) | B(24) | B(25);
	ck_assert_uint_eq(v.edx7 & keep7, c->reg[SPEC_REG_7_EDX] & keep7);
	u32 keep8 = B(0) | B(2) | B(4) | B(9);
	ck_assert_uint_eq(v.ebx8 & keep8, c->reg[SPEC_REG_E8_EBX] & keep8);

	/* IA32_SPEC_CTRL bits (SDM vol. 4 table 2-2; APM E.4.17). */
	static const struct {
		bool e8;
		u8 reg_bit;
		bool sub2;
		u64 ctrl;
		const char *what;
	} sc_bits[] = {
		{ false, 26, false, SPEC_CTRL_IBRS, "7.0 EDX 26 IBRS" },
		{ false, 27, false, SPEC_CTRL_STIBP, "7.0 EDX 27 STIBP" },
		{ false, 31, false, SPEC_CTRL_SSBD, "7.0 EDX 31 SSBD" },
		{ false, 0, true, 1ULL << 7, "7.2 EDX 0 PSFD" },
		{ false, 1, true, 3ULL << 3, "7.2 EDX 1 IPRED_CTRL" },
		{ false, 2, true, 3ULL << 5, "7.2 EDX 2 RRSBA_CTRL" },
		{ false, 3, true, 1ULL << 8, "7.2 EDX 3 DDPD_U" },
		{ false, 4, true, 1ULL << 10, "7.2 EDX 4 BHI_CTRL" },
		{ true, 14, false, SPEC_CTRL_IBRS, "8000_0008 EBX 14 IBRS" },
		{ true, 15, false, SPEC_CTRL_STIBP, "8000_0008 EBX 15 STIBP" },
		{ true, 24, false, SPEC_CTRL_SSBD, "8000_0008 EBX 24 SSBD" },
		{ true, 28, false, 1ULL << 7, "8000_0008 EBX 28 PSFD" },
	};
	u64 offered = 0;
	for (unsigned i = 0; i < sizeof(sc_bits) / sizeof(sc_bits[0]); i++) {
		u32 reg = sc_bits[i].e8 ? v.ebx8 : sc_bits[i].sub2 ? v.edx72 : v.edx7;
		if (!((reg >> sc_bits[i].reg_bit) & 1))
			continue;
		expect_spec_ctrl_bit(&v, sc_bits[i].ctrl, sc_bits[i].what);
		offered |= sc_bits[i].ctrl;
	}
	if (offered) {
		/* All together, and a bit not offered is reserved: #GP. */
		ck_assert(wr(&v, &sc, MSR_IA32_SPEC_CTRL, offered, &act));
		ck_assert(rd(&v, sc, MSR_IA32_SPEC_CTRL, &val) && val == offered);
		ck_assert(!wr(&v, &sc, MSR_IA32_SPEC_CTRL, offered | (1ULL << 63), &act));
		ck_assert_uint_eq(sc, offered);
		u64 accepted = 0; /* one assertion: Check's are not free */
		for (unsigned bit = 0; bit < 64; bit++)
			if (!((offered >> bit) & 1) && wr(&v, &sc, MSR_IA32_SPEC_CTRL, 1ULL << bit, &act))
				accepted |= 1ULL << bit;
		ck_assert_msg(!accepted, "SPEC_CTRL bits 0x%llx not offered but accepted",
			      (unsigned long long)accepted);
	} else {
		ck_assert(!rd(&v, 0, MSR_IA32_SPEC_CTRL, &val));
		ck_assert(!wr(&v, &sc, MSR_IA32_SPEC_CTRL, 0, &act));
	}

	/* IA32_PRED_CMD: IBPB with Intel's SPEC_CTRL bit or AMD's IBPB. */
	bool ibpb = ((v.edx7 >> 26) & 1) || ((v.ebx8 >> 12) & 1);
	ck_assert_int_eq(wr(&v, &sc, MSR_IA32_PRED_CMD, PRED_CMD_IBPB, &act), ibpb);
	if (ibpb) {
		ck_assert_uint_eq(act, SPEC_ACT_IBPB);
		ck_assert(wr(&v, &sc, MSR_IA32_PRED_CMD, 0, &act) && act == 0);
		ck_assert(!wr(&v, &sc, MSR_IA32_PRED_CMD, 2, &act));
	}
	ck_assert(!rd(&v, 0, MSR_IA32_PRED_CMD, &val)); /* write-only */

	/* IA32_FLUSH_CMD with L1D_FLUSH. */
	bool l1d = (v.edx7 >> 28) & 1;
	ck_assert_int_eq(wr(&v, &sc, MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D, &act), l1d);
	if (l1d) {
		ck_assert_uint_eq(act, SPEC_ACT_L1D_FLUSH);
		ck_assert(!wr(&v, &sc, MSR_IA32_FLUSH_CMD, 2, &act));
	}
	ck_assert(!rd(&v, 0, MSR_IA32_FLUSH_CMD, &val));

	/* IA32_ARCH_CAPABILITIES: readable, read-only, and it must not name
	 * MSRs Keel does not emulate (TSX_CTRL 7, MCU_CONTROL 9, DOITM 12,
	 * FB_CLEAR_CTRL 18, GDS_CTRL 25, ...). */
	bool ac = (v.edx7 >> 29) & 1;
	ck_assert_int_eq(rd(&v, 0, MSR_IA32_ARCH_CAPABILITIES, &val), ac);
	if (ac) {
		ck_assert_uint_eq(val & ~c->arch_caps, 0);
		ck_assert_uint_eq(val & ((1ULL << 7) | (1ULL << 9) | (1ULL << 10) | (1ULL << 11) |
					 (1ULL << 12) | (1ULL << 18) | (1ULL << 25)), 0);
		/* The "not affected" bits survive. */
		ck_assert_uint_eq(val & 0x21, c->arch_caps & 0x21);
		ck_assert(!wr(&v, &sc, MSR_IA32_ARCH_CAPABILITIES, val, &act));
		ck_assert(!wr(&v, &sc, MSR_IA32_ARCH_CAPABILITIES, 0, &act));
	}

	/* Bits whose MSRs Keel does not emulate: never shown, MSR #GP. */
	static const struct {
		int reg; /* 0: 7.0 ECX, 1: 7.0 EDX, 2: 8000_0008 EBX */
		u8 bit;
		u32 msr;
	} hidden[] = {
		{ 1, 9, 0x123 },        /* SRBDS_CTRL: MCU_OPT_CTRL */
		{ 1, 13, 0x10f },       /* TSX_FORCE_ABORT */
		{ 1, 30, 0xcf },        /* CORE_CAPABILITIES */
		{ 1, 19, 0x14ce },      /* ARCH_LBR: LBR_CTL */
		{ 1, 20, 0x6a2 },       /* IBT: S_CET */
		{ 0, 5, 0xe1 },         /* WAITPKG: UMWAIT_CONTROL */
		{ 0, 7, 0x6a2 },        /* CET_SS: S_CET */
		{ 0, 13, 0x982 },       /* TME: TME_ACTIVATE */
		{ 2, 25, 0xc001011f },  /* VIRT_SSBD: VIRT_SPEC_CTRL */
		{ 2, 1, 0xc00000e9 },   /* IRPERF */
		{ 2, 23, 0xc00102f1 },  /* PPIN */
		{ 2, 27, 0xc00102b0 },  /* CPPC */
	};
	for (unsigned i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		u32 reg = hidden[i].reg == 0 ? v.ecx7 : hidden[i].reg == 1 ? v.edx7 : v.ebx8;
		ck_assert_msg(!((reg >> hidden[i].bit) & 1), "bit %u of register %d shown, MSR 0x%x "
			      "not emulated", hidden[i].bit, hidden[i].reg, hidden[i].msr);
		ck_assert(!rd(&v, 0, hidden[i].msr, &val));
	}

	/* Hints only next to what they qualify (APM E.4.17). */
	if ((v.ebx8 >> 16) & 1 || (v.ebx8 >> 18) & 1 || (v.ebx8 >> 19) & 1)
		ck_assert((v.ebx8 >> 14) & 1);
	if ((v.ebx8 >> 17) & 1)
		ck_assert((v.ebx8 >> 15) & 1);
	if ((v.ebx8 >> 30) & 1)
		ck_assert((v.ebx8 >> 12) & 1);

	/* An MSR outside the rule is the caller's business. */
	ck_assert_int_eq(spec_msr_read(&v.g, 0, 0x1b, &val), SPEC_MSR_NOT_MINE);
	ck_assert_int_eq(spec_msr_write(&v.g, &sc, 0x277, 0, &act), SPEC_MSR_NOT_MINE);
}

static char *guest_names(const struct spec_cpu *c)
{
	static char buf[300];
	struct spec_guest g;

	spec_guest_init(c, &g);
	spec_guest_describe(&g, buf, sizeof(buf));
	return buf;
}

/* ---- the agreement rule on each fixture ---------------------------------- */

START_TEST(agree_qemu64_nothing_shown)
{
	struct spec_cpu c = qemu64();
	check_agreement(&c);
	ck_assert_str_eq(guest_names(&c), "nothing");
}
END_TEST

START_TEST(agree_bochs_icelake)
{
	struct spec_cpu c = bochs_icelake();
	struct view v = guest_view(&c);
	check_agreement(&c);
	/* Everything Bochs offers is implemented: nothing hidden. */
	ck_assert_uint_eq(v.edx7, 0xbc000110);
	ck_assert_str_eq(guest_names(&c), "spec-ctrl stibp ssbd flush-l1d arch-capabilities");
	ck_assert_uint_eq(v.g.arch_caps_value, 0x1f);
}
END_TEST

START_TEST(agree_skylake_hides_tsx_force_abort)
{
	struct spec_cpu c = skylake();
	struct view v = guest_view(&c);
	check_agreement(&c);
	ck_assert_uint_eq(v.edx7, 0x9c002400 & ~B(CPUID7_EDX_TSX_FORCE_ABORT));
	ck_assert_str_eq(guest_names(&c), "spec-ctrl stibp ssbd flush-l1d md-clear");
}
END_TEST

START_TEST(agree_cascade_lake_arch_caps_without_tsx_ctrl)
{
	struct spec_cpu c = cascade_lake();
	struct view v = guest_view(&c);
	check_agreement(&c);
	ck_assert(!(v.edx7 & B(CPUID7_EDX_CORE_CAPS)));
	ck_assert_uint_eq(v.g.arch_caps_value, ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL |
						       ARCH_CAP_SKIP_L1DFL_VMENTRY | ARCH_CAP_MDS_NO);
}
END_TEST

START_TEST(agree_intel_2022_spec_ctrl_subleaf2)
{
	struct spec_cpu c = intel_2022();
	struct view v = guest_view(&c);
	check_agreement(&c);
	ck_assert_uint_eq(v.edx72, 0x1f);
	ck_assert_uint_eq(v.g.spec_ctrl_mask, SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD |
						      SPEC_CTRL_PSFD | SPEC_CTRL_IPRED_DIS |
						      SPEC_CTRL_RRSBA_DIS | SPEC_CTRL_DDPD_U |
						      SPEC_CTRL_BHI_DIS_S);
	/* CET, WAITPKG and ARCH_LBR hidden; RDPID (ECX 22) and FSRM kept. */
	ck_assert_uint_eq(v.ecx7, B(22));
	ck_assert(v.edx7 & B(4));
	ck_assert(!(v.edx7 & (B(CPUID7_EDX_IBT) | B(CPUID7_EDX_ARCH_LBR))));
}
END_TEST

START_TEST(agree_zen2)
{
	struct spec_cpu c = zen2();
	struct view v = guest_view(&c);
	check_agreement(&c);
	ck_assert_str_eq(guest_names(&c),
			 "amd-ibpb amd-ibrs amd-stibp amd-stibp-always-on amd-ssbd");
	ck_assert(!(v.ebx8 & (B(CPUIDE8_EBX_IRPERF) | B(CPUIDE8_EBX_PPIN))));
}
END_TEST

START_TEST(agree_zen3)
{
	struct spec_cpu c = zen3();
	check_agreement(&c);
}
END_TEST

START_TEST(agree_zen4_hides_sbpb_and_auto_ibrs)
{
	struct spec_cpu c = zen4();
	struct view v = guest_view(&c);
	check_agreement(&c);
	ck_assert_uint_eq(v.eax21, B(0) | B(2) | B(6) | B(28) | B(29));
}
END_TEST

START_TEST(agree_hints_need_their_feature)
{
	struct spec_cpu c = amd_odd();
	struct view v = guest_view(&c);
	check_agreement(&c);
	/* Only SSB_NO (a fact about the CPU) survives. */
	ck_assert_uint_eq(v.ebx8, B(CPUIDE8_EBX_SSB_NO));
	ck_assert_uint_eq(v.g.spec_ctrl_mask, 0);
}
END_TEST

/* The rule for any host: random register values, many times. */
START_TEST(agree_random_hosts)
{
	unsigned seed = 12345;

	for (int i = 0; i < 500; i++) {
		struct spec_cpu c = { .intel = rand_r(&seed) & 1 };
		c.amd = !c.intel;
		for (int r = 0; r < SPEC_REG_NR; r++)
			c.reg[r] = (u32)rand_r(&seed) ^ ((u32)rand_r(&seed) << 16);
		c.arch_caps = ((u64)rand_r(&seed) << 32) ^ (u64)rand_r(&seed);
		c.hw_switches_spec_ctrl = rand_r(&seed) & 1;
		check_agreement(&c);
	}
}
END_TEST

/* ---- the host policy ------------------------------------------------------- */

static struct spec_mitigations choose(struct spec_cpu c)
{
	struct spec_mitigations m;
	spec_choose(&c, 0, &m);
	return m;
}

START_TEST(policy_qemu64_only_rsb_fill)
{
	struct spec_mitigations m = choose(qemu64());
	char line[400];

	ck_assert(m.rsb_fill.on);
	ck_assert(!m.has_spec_ctrl && !m.spec_ctrl_swap.on && !m.ibrs.on);
	ck_assert(!m.ibpb_on_switch.on && !m.l1d_flush.on && !m.verw.on);
	spec_describe(&m, line, sizeof(line));
	ck_assert_msg(!strncmp(line, "rsb-fill-on-exit (", 18), "%s", line);
	ck_assert_msg(strstr(line, "; off: ibrs (no IBRS), spec-ctrl-switch (no SPEC_CTRL), "
				   "ibpb-on-domain-switch (no IBPB), l1d-flush-on-entry (not "
				   "affected: not Intel), verw-on-entry (not affected: not Intel)"),
		      "%s", line);
}
END_TEST

START_TEST(policy_bochs_icelake)
{
	struct spec_mitigations m = choose(bochs_icelake());

	ck_assert(m.has_spec_ctrl && m.spec_ctrl_swap.on);
	ck_assert_uint_eq(m.host_spec_ctrl, SPEC_CTRL_IBRS);
	ck_assert(!m.spec_ctrl_always); /* enhanced IBRS (IBRS_ALL) */
	ck_assert(m.ibpb_on_switch.on);
	ck_assert(!m.l1d_flush.on);     /* RDCL_NO */
	ck_assert(!m.verw.on);          /* no MD_CLEAR to do it with */
	ck_assert_str_eq(m.verw.why, "MDS: affected, but no MD_CLEAR (microcode update needed)");
}
END_TEST

START_TEST(policy_skylake_l1d_flush_covers_verw)
{
	struct spec_mitigations m = choose(skylake());

	ck_assert(m.l1d_flush.on);
	ck_assert_str_eq(m.l1d_flush.why, "L1TF: no RDCL_NO");
	ck_assert(!m.verw.on);
	ck_assert_str_eq(m.verw.why, "done by the L1D flush");
	ck_assert(m.ibrs.on && m.spec_ctrl_always); /* IBRS without IBRS_ALL */
	ck_assert(m.ibpb_on_switch.on);
}
END_TEST

START_TEST(policy_skylake_old_microcode_says_unmitigated)
{
	struct spec_cpu c = skylake();
	c.reg[SPEC_REG_7_EDX] &= ~(B(CPUID7_EDX_L1D_FLUSH) | B(CPUID7_EDX_MD_CLEAR));
	struct spec_mitigations m = choose(c);

	ck_assert(!m.l1d_flush.on && !m.verw.on);
	ck_assert_str_eq(m.l1d_flush.why,
			 "L1TF: affected, but no L1D_FLUSH (microcode update needed)");
	ck_assert_str_eq(m.verw.why, "MDS: affected, but no MD_CLEAR (microcode update needed)");
}
END_TEST

START_TEST(policy_cascade_lake_verw_for_taa)
{
	struct spec_mitigations m = choose(cascade_lake());

	ck_assert(!m.l1d_flush.on);
	ck_assert_str_eq(m.l1d_flush.why, "not affected: RDCL_NO");
	ck_assert(m.verw.on);
	ck_assert_str_eq(m.verw.why, "TAA: TSX without TAA_NO");
	ck_assert(m.ibrs.on && !m.spec_ctrl_always);
}
END_TEST

START_TEST(policy_skip_l1dfl_vmentry)
{
	struct spec_cpu c = skylake();
	c.reg[SPEC_REG_7_EDX] |= B(CPUID7_EDX_ARCH_CAPS);
	c.arch_caps = ARCH_CAP_SKIP_L1DFL_VMENTRY;
	struct spec_mitigations m = choose(c);

	ck_assert(!m.l1d_flush.on);
	ck_assert(m.verw.on); /* MDS still: VERW takes over */
}
END_TEST

START_TEST(policy_intel_2022_fb_clear)
{
	struct spec_mitigations m = choose(intel_2022());

	ck_assert(!m.l1d_flush.on);
	ck_assert(m.verw.on);
	ck_assert_str_eq(m.verw.why, "FB_CLEAR/RFDS_CLEAR");
	ck_assert_uint_eq(m.host_spec_ctrl_bits, 0x5ff);
}
END_TEST

START_TEST(policy_zen2_legacy_ibrs_rewritten)
{
	struct spec_mitigations m = choose(zen2());

	ck_assert(m.ibpb_on_switch.on && m.ibrs.on && m.spec_ctrl_swap.on && m.spec_ctrl_always);
	ck_assert(!m.l1d_flush.on && !m.verw.on);
}
END_TEST

START_TEST(policy_zen3_hardware_switches_spec_ctrl)
{
	struct spec_mitigations m = choose(zen3());

	ck_assert(m.has_spec_ctrl && m.ibrs.on);
	ck_assert(!m.spec_ctrl_swap.on && !m.spec_ctrl_always);
	ck_assert_str_eq(m.spec_ctrl_swap.why, "switched by the hardware (V_SPEC_CTRL)");
	ck_assert_str_eq(m.ibrs.why, "enhanced IBRS");
}
END_TEST

START_TEST(policy_forced_by_command_line)
{
	struct spec_mitigations m;
	struct spec_cpu c = qemu64();

	spec_choose(&c, SPEC_FORCE_VERW | SPEC_FORCE_L1D_FLUSH, &m);
	ck_assert(m.verw.on);
	ck_assert_str_eq(m.verw.why, "forced: spec=verw");
	ck_assert(!m.l1d_flush.on); /* no IA32_FLUSH_CMD to write */
	ck_assert_str_eq(m.l1d_flush.why, "spec=l1d-flush, but no L1D_FLUSH");

	c = bochs_icelake();
	spec_choose(&c, SPEC_FORCE_VERW | SPEC_FORCE_L1D_FLUSH, &m);
	ck_assert(m.verw.on && m.l1d_flush.on);
	ck_assert_str_eq(m.l1d_flush.why, "forced: spec=l1d-flush");
}
END_TEST

START_TEST(describe_truncates_safely)
{
	struct spec_mitigations m = choose(skylake());
	char small[20];

	memset(small, 'x', sizeof(small));
	size_t n = spec_describe(&m, small, sizeof(small));
	ck_assert_uint_eq(n, sizeof(small) - 1);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "spec-agree-qemu64-nothing-shown", &agree_qemu64_nothing_shown_ttest },
	{ "spec-agree-bochs-icelake", &agree_bochs_icelake_ttest },
	{ "spec-agree-skylake-hides-tsx-force-abort", &agree_skylake_hides_tsx_force_abort_ttest },
	{ "spec-agree-cascade-lake-arch-caps-without-tsx-ctrl",
	  &agree_cascade_lake_arch_caps_without_tsx_ctrl_ttest },
	{ "spec-agree-intel-2022-spec-ctrl-subleaf2", &agree_intel_2022_spec_ctrl_subleaf2_ttest },
	{ "spec-agree-zen2", &agree_zen2_ttest },
	{ "spec-agree-zen3", &agree_zen3_ttest },
	{ "spec-agree-zen4-hides-sbpb-and-auto-ibrs", &agree_zen4_hides_sbpb_and_auto_ibrs_ttest },
	{ "spec-agree-hints-need-their-feature", &agree_hints_need_their_feature_ttest },
	{ "spec-agree-random-hosts", &agree_random_hosts_ttest },
	{ "spec-policy-qemu64-only-rsb-fill", &policy_qemu64_only_rsb_fill_ttest },
	{ "spec-policy-bochs-icelake", &policy_bochs_icelake_ttest },
	{ "spec-policy-skylake-l1d-flush-covers-verw", &policy_skylake_l1d_flush_covers_verw_ttest },
	{ "spec-policy-skylake-old-microcode-says-unmitigated",
	  &policy_skylake_old_microcode_says_unmitigated_ttest },
	{ "spec-policy-cascade-lake-verw-for-taa", &policy_cascade_lake_verw_for_taa_ttest },
	{ "spec-policy-skip-l1dfl-vmentry", &policy_skip_l1dfl_vmentry_ttest },
	{ "spec-policy-intel-2022-fb-clear", &policy_intel_2022_fb_clear_ttest },
	{ "spec-policy-zen2-legacy-ibrs-rewritten", &policy_zen2_legacy_ibrs_rewritten_ttest },
	{ "spec-policy-zen3-hardware-switches-spec-ctrl",
	  &policy_zen3_hardware_switches_spec_ctrl_ttest },
	{ "spec-policy-forced-by-command-line", &policy_forced_by_command_line_ttest },
	{ "spec-describe-truncates-safely", &describe_truncates_safely_ttest },
	{ 0 },
};
