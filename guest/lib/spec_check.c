/*
 * The speculation-control checks (spec_check.h), shared by dom0's
 * self-test (`test=spec`) and pvtest's role=spec: CPUID and MSRs must
 * agree. Every CPUID bit in leaf 7 (subleaves 0 and 2) and leaf
 * 0x80000008 EBX that names an MSR is read here, and for each one the
 * hypervisor advertises, the MSR is used the way Linux uses it: it must
 * not raise #GP (Linux probes some MSRs with the non-safe accessors once
 * CPUID promised them, and dies), and what is written must read back.
 *
 * The list below is written from the manuals (Intel SDM vol. 2A CPUID
 * leaf 7, vol. 4 MSRs; AMD APM vol. 3 E.4.17 and AMD's "Software
 * Techniques for Managing Speculation"), not from the hypervisor's own
 * table (kernel/spec_msr.c), so that a drift between the two shows here.
 *
 * Each check goes to the caller's report function, named spec-<name>.
 */
#include <lib/string.h>
#include "cpu.h"
#include "guest.h"
#include "spec_check.h"

#define MSR_SPEC_CTRL 0x48
#define MSR_PRED_CMD 0x49
#define MSR_CORE_CAPABILITIES 0xcf
#define MSR_ARCH_CAPABILITIES 0x10a
#define MSR_FLUSH_CMD 0x10b
#define MSR_TSX_FORCE_ABORT 0x10f
#define MSR_TSX_CTRL 0x122
#define MSR_MCU_OPT_CTRL 0x123
#define MSR_VIRT_SPEC_CTRL 0xc001011f

#define ARCH_CAP_TSX_CTRL (1ULL << 7)

static spec_report_fn report;

__printf(3, 4) static void check(const char *name, bool ok, const char *fmt, ...)
{
	char full[40], detail[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "spec-%s", name);
	report(full, ok, detail);
}

enum reg { EBX, ECX, EDX };

struct bit {
	u32 leaf, sub;
	enum reg reg;
	u8 bit;
};

static u32 cpuid_reg(const struct bit *b)
{
	struct cpuid_regs r;
	u32 max = cpuid(b->leaf & 0x80000000u).eax;

	if (b->leaf > max)
		return 0;
	r = cpuid_count(b->leaf, b->sub);
	return b->reg == EBX ? r.ebx : b->reg == ECX ? r.ecx : r.edx;
}

static bool has(const struct bit *b)
{
	return (cpuid_reg(b) >> b->bit) & 1;
}

/* IA32_SPEC_CTRL bits and the CPUID bits that enumerate them. */
struct spec_ctrl_bit {
	const char *name;
	struct bit intel, amd; /* leaf 0 = no such enumeration */
	u64 value;
};

static const struct spec_ctrl_bit spec_ctrl_bits[] = {
	{ "ibrs",       { 7, 0, EDX, 26 }, { 0x80000008, 0, EBX, 14 }, 1ULL << 0 },
	{ "stibp",      { 7, 0, EDX, 27 }, { 0x80000008, 0, EBX, 15 }, 1ULL << 1 },
	{ "ssbd",       { 7, 0, EDX, 31 }, { 0x80000008, 0, EBX, 24 }, 1ULL << 2 },
	{ "ipred-ctrl", { 7, 2, EDX, 1 },  { 0 },                      3ULL << 3 },
	{ "rrsba-ctrl", { 7, 2, EDX, 2 },  { 0 },                      3ULL << 5 },
	{ "psfd",       { 7, 2, EDX, 0 },  { 0x80000008, 0, EBX, 28 }, 1ULL << 7 },
	{ "ddpd-u",     { 7, 2, EDX, 3 },  { 0 },                      1ULL << 8 },
	{ "bhi-ctrl",   { 7, 2, EDX, 4 },  { 0 },                      1ULL << 10 },
};

static unsigned advertised;

static bool spec_ctrl_bit_advertised(const struct spec_ctrl_bit *s)
{
	return (s->intel.leaf && has(&s->intel)) || (s->amd.leaf && has(&s->amd));
}

/* Each SPEC_CTRL bit the CPUID offers: set it, read it back, clear it. */
static void test_spec_ctrl(void)
{
	u64 v, all = 0;
	bool any = false;

	for (unsigned i = 0; i < ARRAY_SIZE(spec_ctrl_bits); i++) {
		const struct spec_ctrl_bit *s = &spec_ctrl_bits[i];
		char name[32];
		bool w1, r1, w0, r0;
		u64 v1, v0;

		if (!spec_ctrl_bit_advertised(s))
			continue;
		advertised++;
		any = true;
		all |= s->value;
		w1 = wrmsr_safe(MSR_SPEC_CTRL, s->value);
		r1 = rdmsr_safe(MSR_SPEC_CTRL, &v1);
		w0 = wrmsr_safe(MSR_SPEC_CTRL, 0);
		r0 = rdmsr_safe(MSR_SPEC_CTRL, &v0);
		snprintf(name, sizeof(name), "ctrl-%s", s->name);
		check(name, w1 && r1 && w0 && r0 && v1 == s->value && v0 == 0,
		      "wrmsr 0x48 <- 0x%lx %s, reads 0x%lx; <- 0 %s, reads 0x%lx", s->value,
		      w1 ? "ok" : "#GP", v1, w0 ? "ok" : "#GP", v0);
	}
	if (!any)
		return;
	/* All of them at once, then a bit no CPUID leaf offers: #GP, and the
	 * value is unchanged (SDM vol. 4 table 2-2: reserved bits #GP). */
	bool w = wrmsr_safe(MSR_SPEC_CTRL, all);
	bool r = rdmsr_safe(MSR_SPEC_CTRL, &v);
	check("ctrl-all", w && r && v == all, "wrmsr 0x48 <- 0x%lx %s, reads 0x%lx", all,
	      w ? "ok" : "#GP", v);
	bool wbad = wrmsr_safe(MSR_SPEC_CTRL, 1ULL << 62);
	r = rdmsr_safe(MSR_SPEC_CTRL, &v);
	check("ctrl-reserved-gp", !wbad && r && v == all,
	      "wrmsr 0x48 <- bit 62 %s, reads 0x%lx", wbad ? "accepted" : "#GP", v);
	wrmsr_safe(MSR_SPEC_CTRL, 0);
}

/* IBPB: Intel enumerates it with SPEC_CTRL (7.0 EDX 26), AMD on its own. */
static void test_pred_cmd(void)
{
	static const struct bit intel = { 7, 0, EDX, 26 }, amd = { 0x80000008, 0, EBX, 12 };
	u64 v;

	if (!has(&intel) && !has(&amd))
		return;
	advertised++;
	bool w = wrmsr_safe(MSR_PRED_CMD, 1);
	bool w0 = wrmsr_safe(MSR_PRED_CMD, 0);
	check("ibpb", w && w0, "wrmsr 0x49 <- 1 %s, <- 0 %s", w ? "ok" : "#GP", w0 ? "ok" : "#GP");
	/* Write-only, and bit 1 is reserved (SDM vol. 4 table 2-2). */
	bool r = rdmsr_safe(MSR_PRED_CMD, &v);
	bool wbad = wrmsr_safe(MSR_PRED_CMD, 2);
	check("ibpb-reserved-gp", !r && !wbad, "rdmsr 0x49 %s, wrmsr 0x49 <- 2 %s",
	      r ? "accepted" : "#GP", wbad ? "accepted" : "#GP");
}

static void test_flush_cmd(void)
{
	static const struct bit l1d_flush = { 7, 0, EDX, 28 };

	if (!has(&l1d_flush))
		return;
	advertised++;
	bool w = wrmsr_safe(MSR_FLUSH_CMD, 1);
	bool wbad = wrmsr_safe(MSR_FLUSH_CMD, 2);
	check("l1d-flush", w && !wbad, "wrmsr 0x10b <- 1 %s, <- 2 %s", w ? "ok" : "#GP",
	      wbad ? "accepted" : "#GP");
}

static void test_arch_caps(void)
{
	static const struct bit arch_caps = { 7, 0, EDX, 29 };
	u64 v, v2, t;

	if (!has(&arch_caps))
		return;
	advertised++;
	bool r = rdmsr_safe(MSR_ARCH_CAPABILITIES, &v);
	bool w = wrmsr_safe(MSR_ARCH_CAPABILITIES, v ^ 1);
	bool r2 = rdmsr_safe(MSR_ARCH_CAPABILITIES, &v2);
	check("arch-capabilities", r && !w && r2 && v2 == v,
	      "rdmsr 0x10a %s 0x%lx; wrmsr %s (read-only); reads 0x%lx after", r ? "ok" : "#GP", v,
	      w ? "accepted" : "#GP", v2);
	/* Bits of it that name further MSRs. */
	if (v & ARCH_CAP_TSX_CTRL) {
		bool rt = rdmsr_safe(MSR_TSX_CTRL, &t);
		check("tsx-ctrl", rt, "ARCH_CAPABILITIES bit 7: rdmsr 0x122 %s 0x%lx",
		      rt ? "ok" : "#GP", t);
	}
}

/* Bits that name an MSR the guest may at least read. */
static void test_read_only(const char *name, struct bit b, u32 msr)
{
	u64 v;

	if (!has(&b))
		return;
	advertised++;
	bool r = rdmsr_safe(msr, &v);
	check(name, r, "cpuid 0x%x.%u bit %u: rdmsr 0x%x %s 0x%lx", b.leaf, b.sub, b.bit, msr,
	      r ? "ok" : "#GP", v);
}

static void test_virt_ssbd(void)
{
	static const struct bit virt_ssbd = { 0x80000008, 0, EBX, 25 };
	u64 v1, v0;

	if (!has(&virt_ssbd))
		return;
	advertised++;
	bool w1 = wrmsr_safe(MSR_VIRT_SPEC_CTRL, 1ULL << 2);
	bool r1 = rdmsr_safe(MSR_VIRT_SPEC_CTRL, &v1);
	bool w0 = wrmsr_safe(MSR_VIRT_SPEC_CTRL, 0);
	bool r0 = rdmsr_safe(MSR_VIRT_SPEC_CTRL, &v0);
	check("virt-ssbd", w1 && r1 && w0 && r0 && v1 == 4 && v0 == 0,
	      "wrmsr 0xc001011f <- 4 %s, reads 0x%lx; <- 0 %s, reads 0x%lx", w1 ? "ok" : "#GP",
	      v1, w0 ? "ok" : "#GP", v0);
}

/* MD_CLEAR names no MSR: VERW with a writable data selector must run. */
static void test_md_clear(void)
{
	static const struct bit md_clear = { 7, 0, EDX, 10 };
	u16 ds;

	if (!has(&md_clear))
		return;
	advertised++;
	asm volatile("mov %%ds, %0" : "=r"(ds));
	asm volatile("verw %0" : : "m"(ds) : "cc");
	check("md-clear", true, "verw with selector 0x%x ran", ds);
}

u64 spec_ctrl_offered(void)
{
	u64 all = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(spec_ctrl_bits); i++)
		if (spec_ctrl_bit_advertised(&spec_ctrl_bits[i]))
			all |= spec_ctrl_bits[i].value;
	return all;
}

unsigned spec_check_all(const char *who, spec_report_fn fn)
{
	struct cpuid_regs l7 = cpuid(0).eax >= 7 ? cpuid_count(7, 0) : (struct cpuid_regs){ 0 };
	struct cpuid_regs l72 = cpuid(0).eax >= 7 && l7.eax >= 2 ? cpuid_count(7, 2)
								 : (struct cpuid_regs){ 0 };
	struct cpuid_regs e8 = cpuid(0x80000000).eax >= 0x80000008 ? cpuid(0x80000008)
								   : (struct cpuid_regs){ 0 };

	report = fn;
	advertised = 0;
	printf("%s: spec: cpuid 7.0 ecx 0x%x edx 0x%x; 7.2 edx 0x%x; 0x80000008 ebx 0x%x\n", who,
	       l7.ecx, l7.edx, l72.edx, e8.ebx);

	test_spec_ctrl();
	test_pred_cmd();
	test_flush_cmd();
	test_arch_caps();
	test_md_clear();
	test_virt_ssbd();
	test_read_only("core-capabilities", (struct bit){ 7, 0, EDX, 30 }, MSR_CORE_CAPABILITIES);
	test_read_only("srbds-ctrl", (struct bit){ 7, 0, EDX, 9 }, MSR_MCU_OPT_CTRL);
	test_read_only("tsx-force-abort", (struct bit){ 7, 0, EDX, 13 }, MSR_TSX_FORCE_ABORT);

	printf("%s: spec: %u features advertised\n", who, advertised);
	return advertised;
}
