/*
 * The host's speculation mitigations, decided from what the CPU reports
 * (contract in asm/spec.h, reasoning in docs/speculation.md). Pure: no
 * CPUID, no MSR, no printing, so tests/unit/test_spec.c can feed it real
 * CPUs' values.
 */
#include <lib/string.h>
#include <asm/spec.h>

/* SPEC_CTRL bits the CPU supports, from the CPUID bits that enumerate
 * them (SDM vol. 4 table 2-2; AMD: CPUID 8000_0008 EBX). */
static u64 host_spec_ctrl_bits(const struct spec_cpu *c)
{
	static const struct {
		enum spec_reg reg;
		u8 bit;
		u64 ctrl;
	} map[] = {
		{ SPEC_REG_7_EDX, CPUID7_EDX_SPEC_CTRL, SPEC_CTRL_IBRS },
		{ SPEC_REG_7_EDX, CPUID7_EDX_STIBP, SPEC_CTRL_STIBP },
		{ SPEC_REG_7_EDX, CPUID7_EDX_SSBD, SPEC_CTRL_SSBD },
		{ SPEC_REG_7_2_EDX, CPUID7_2_EDX_PSFD, SPEC_CTRL_PSFD },
		{ SPEC_REG_7_2_EDX, CPUID7_2_EDX_IPRED_CTRL, SPEC_CTRL_IPRED_DIS },
		{ SPEC_REG_7_2_EDX, CPUID7_2_EDX_RRSBA_CTRL, SPEC_CTRL_RRSBA_DIS },
		{ SPEC_REG_7_2_EDX, CPUID7_2_EDX_DDPD_U, SPEC_CTRL_DDPD_U },
		{ SPEC_REG_7_2_EDX, CPUID7_2_EDX_BHI_CTRL, SPEC_CTRL_BHI_DIS_S },
		{ SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS, SPEC_CTRL_IBRS },
		{ SPEC_REG_E8_EBX, CPUIDE8_EBX_STIBP, SPEC_CTRL_STIBP },
		{ SPEC_REG_E8_EBX, CPUIDE8_EBX_AMD_SSBD, SPEC_CTRL_SSBD },
		{ SPEC_REG_E8_EBX, CPUIDE8_EBX_PSFD, SPEC_CTRL_PSFD },
	};
	u64 bits = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(map); i++)
		if (spec_has(c, map[i].reg, map[i].bit))
			bits |= map[i].ctrl;
	return bits;
}

static struct spec_choice on(const char *why)
{
	return (struct spec_choice){ .on = true, .why = why };
}

static struct spec_choice off(const char *why)
{
	return (struct spec_choice){ .on = false, .why = why };
}

/*
 * L1TF (Intel's L1 Terminal Fault deep dive): a guest can read any data in
 * the L1D through a non-present guest PTE, whatever the EPT says; only
 * Intel parts are affected, and RDCL_NO says this one is not. Flushing L1D
 * before every entry stops it (with SMT off; Keel uses one thread).
 * SKIP_L1DFL_VMENTRY says a hypervisor above us already does it.
 */
static struct spec_choice choose_l1d_flush(const struct spec_cpu *c, bool force)
{
	if (force)
		return spec_has(c, SPEC_REG_7_EDX, CPUID7_EDX_L1D_FLUSH)
			       ? on("forced: spec=l1d-flush")
			       : off("spec=l1d-flush, but no L1D_FLUSH");
	if (!c->intel)
		return off("not affected: not Intel");
	if (c->arch_caps & ARCH_CAP_RDCL_NO)
		return off("not affected: RDCL_NO");
	if (c->arch_caps & ARCH_CAP_SKIP_L1DFL_VMENTRY)
		return off("not needed: SKIP_L1DFL_VMENTRY");
	if (!spec_has(c, SPEC_REG_7_EDX, CPUID7_EDX_L1D_FLUSH))
		return off("L1TF: affected, but no L1D_FLUSH (microcode update needed)");
	return on("L1TF: no RDCL_NO");
}

/*
 * MDS, TAA and MMIO stale data (Intel's deep dives): buffers the host
 * filled can be sampled by the guest; VERW with the MD_CLEAR microcode
 * overwrites them. Needed when the CPU is not MDS_NO, or is MDS_NO but has
 * TSX without TAA_NO, or reports FB_CLEAR / RFDS_CLEAR (VERW clears those
 * buffers too). An L1D flush on entry already does VERW's work on parts
 * that enumerate MD_CLEAR (L1TF deep dive, "L1D flush and MDS").
 */
static struct spec_choice choose_verw(const struct spec_cpu *c, bool l1d_flush, bool force)
{
	u64 ac = c->arch_caps;
	bool mds = !(ac & ARCH_CAP_MDS_NO);
	bool taa = !mds && spec_has(c, SPEC_REG_7_EBX, CPUID7_EBX_RTM) && !(ac & ARCH_CAP_TAA_NO);
	bool fb = ac & (ARCH_CAP_FB_CLEAR | ARCH_CAP_RFDS_CLEAR);

	/* VERW is an architectural instruction on every CPU: forcing it is
	 * always possible, if useless without MD_CLEAR. */
	if (force)
		return on("forced: spec=verw");
	if (!c->intel)
		return off("not affected: not Intel");
	if (!mds && !taa && !fb)
		return off("not affected: MDS_NO");
	if (!spec_has(c, SPEC_REG_7_EDX, CPUID7_EDX_MD_CLEAR))
		return off("MDS: affected, but no MD_CLEAR (microcode update needed)");
	if (l1d_flush)
		return off("done by the L1D flush");
	return on(mds ? "MDS: no MDS_NO" : taa ? "TAA: TSX without TAA_NO" : "FB_CLEAR/RFDS_CLEAR");
}

void spec_choose(const struct spec_cpu *c, unsigned force, struct spec_mitigations *m)
{
	memset(m, 0, sizeof(*m));

	/* Every exit: the guest filled the RSB; a RET in the hypervisor that
	 * underflows or mispredicts would go where the guest pointed.
	 * Needs no feature bit, so it is always on. */
	m->rsb_fill = on("always: guest return predictions must not steer the hypervisor's");

	m->host_spec_ctrl_bits = host_spec_ctrl_bits(c);
	m->has_spec_ctrl = m->host_spec_ctrl_bits != 0;
	if (m->host_spec_ctrl_bits & SPEC_CTRL_IBRS) {
		/* The hypervisor is not built with retpolines: its indirect
		 * calls (vendor ops, exit table) rely on IBRS. */
		m->host_spec_ctrl = SPEC_CTRL_IBRS;
		bool enhanced = c->intel ? (c->arch_caps & ARCH_CAP_IBRS_ALL)
					 : spec_has(c, SPEC_REG_E8_EBX, CPUIDE8_EBX_IBRS_ALWAYS_ON);
		m->ibrs = on(enhanced ? "enhanced IBRS" : "IBRS, rewritten after every exit");
		m->spec_ctrl_always = !enhanced && !c->hw_switches_spec_ctrl;
	} else {
		m->ibrs = off("no IBRS");
	}
	if (!m->has_spec_ctrl)
		m->spec_ctrl_swap = off("no SPEC_CTRL");
	else if (c->hw_switches_spec_ctrl)
		m->spec_ctrl_swap = off("switched by the hardware (V_SPEC_CTRL)");
	else
		m->spec_ctrl_swap = on("guest's value on entry, host's after exit");

	/* Intel enumerates IBPB with SPEC_CTRL (7.0 EDX 26), AMD on its own. */
	if (spec_has(c, SPEC_REG_7_EDX, CPUID7_EDX_SPEC_CTRL) ||
	    spec_has(c, SPEC_REG_E8_EBX, CPUIDE8_EBX_IBPB))
		m->ibpb_on_switch = on("a domain must not train another's branches");
	else
		m->ibpb_on_switch = off("no IBPB");

	m->l1d_flush = choose_l1d_flush(c, force & SPEC_FORCE_L1D_FLUSH);
	m->verw = choose_verw(c, m->l1d_flush.on, force & SPEC_FORCE_VERW);
}

static void append(char *buf, size_t len, size_t *at, const char *s)
{
	while (*s && *at + 1 < len)
		buf[(*at)++] = *s++;
	if (len)
		buf[*at < len ? *at : len - 1] = 0;
}

size_t spec_describe(const struct spec_mitigations *m, char *buf, size_t len)
{
	const struct {
		const char *name;
		const struct spec_choice *c;
	} list[] = {
		{ "rsb-fill-on-exit", &m->rsb_fill },
		{ "ibrs", &m->ibrs },
		{ "spec-ctrl-switch", &m->spec_ctrl_swap },
		{ "ibpb-on-domain-switch", &m->ibpb_on_switch },
		{ "l1d-flush-on-entry", &m->l1d_flush },
		{ "verw-on-entry", &m->verw },
	};
	size_t at = 0;

	if (len)
		buf[0] = 0;
	for (int pass = 1; pass >= 0; pass--) {
		bool first = true;
		if (!pass)
			append(buf, len, &at, "; off: ");
		for (unsigned i = 0; i < ARRAY_SIZE(list); i++) {
			if (list[i].c->on != pass)
				continue;
			if (!first)
				append(buf, len, &at, ", ");
			first = false;
			append(buf, len, &at, list[i].name);
			append(buf, len, &at, " (");
			append(buf, len, &at, list[i].c->why);
			append(buf, len, &at, ")");
		}
		if (first)
			append(buf, len, &at, "none");
	}
	return at;
}
