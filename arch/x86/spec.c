/*
 * The speculation mitigations' mechanism, shared by both back ends
 * (asm/spec.h; the decisions are spec_policy.c's, the guest's CPUID/MSR
 * rule kernel/spec_msr.c's, the why docs/speculation.md).
 *
 * Around each VM entry:
 *   spec_enter_guest() (C, just before the stub): IBPB when the CPU goes
 *     to another domain, the guest's IA32_SPEC_CTRL, the L1D flush;
 *   SPEC_BEFORE_ENTRY (asm/spec.inc, in the stub): VERW, after the last
 *     access to host data that matters;
 *   SPEC_AFTER_EXIT (asm/spec.inc, in the stub, before any RET): the
 *     host's IA32_SPEC_CTRL back, then 32 RSB entries stuffed.
 * The asm reads spec_asm_flags, spec_host_spec_ctrl and spec_verw_sel.
 */
#include <keel/domain.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/spec.h>
#include <asm/traps.h>
#include <asm/vendor.h>

struct spec_mitigations spec_mitigations;
struct spec_guest spec_guest;

/* Read by asm/spec.inc. */
u8 spec_asm_flags;
u64 spec_host_spec_ctrl;
u16 spec_verw_sel = GDT_DATA; /* any writable data segment will do */

/*
 * What the IBPB decision needs per physical CPU: the last domain whose
 * vCPU ran on it, by a number no other domain ever gets (domain
 * structures are reused by id). The predictors are per core (per thread
 * with SMT), so the state must be too: two CPUs running different
 * domains would otherwise each see "the same domain as last time" or
 * flush for the other's switches. Keel brings up one CPU today; like the
 * scheduler's (kernel/sched.c sched_this_cpu()), the state is reached
 * through spec_this_cpu() so that SMP gives each CPU its own.
 */
struct spec_percpu {
	u64 last_domain_gen;  /* 0: no guest has run here yet */
	unsigned last_domain_id;
};

static struct spec_percpu spec_cpu0;

static struct spec_percpu *spec_this_cpu(void)
{
	return &spec_cpu0;
}

/* Global: handed out once per domain, whichever CPU runs it first. */
static u64 next_domain_gen;
static bool ibpb_reported;

static void read_cpu(struct spec_cpu *c)
{
	struct cpuid_regs r;

	memset(c, 0, sizeof(*c));
	c->intel = cpu_features.intel;
	c->amd = cpu_features.amd;
	cpuid(0, &r);
	if (r.eax >= 7) {
		cpuid_count(7, 0, &r);
		u32 max_sub = r.eax;
		c->reg[SPEC_REG_7_EBX] = r.ebx;
		c->reg[SPEC_REG_7_ECX] = r.ecx;
		c->reg[SPEC_REG_7_EDX] = r.edx;
		if (max_sub >= 2) {
			cpuid_count(7, 2, &r);
			c->reg[SPEC_REG_7_2_EDX] = r.edx;
		}
	}
	cpuid(0x80000000, &r);
	u32 max_ext = r.eax;
	if (max_ext >= 0x80000008) {
		cpuid(0x80000008, &r);
		c->reg[SPEC_REG_E8_EBX] = r.ebx;
	}
	if (max_ext >= 0x80000021) {
		cpuid(0x80000021, &r);
		c->reg[SPEC_REG_E21_EAX] = r.eax;
	}
	if (spec_has(c, SPEC_REG_7_EDX, CPUID7_EDX_ARCH_CAPS))
		c->arch_caps = rdmsr(MSR_IA32_ARCH_CAPABILITIES);
	c->hw_switches_spec_ctrl = vendor_caps->switches_spec_ctrl;
}

void spec_init(unsigned force)
{
	struct spec_mitigations *m = &spec_mitigations;
	struct spec_cpu c;
	static char line[400];

	read_cpu(&c);
	spec_choose(&c, force, m);
	spec_guest_init(&c, &spec_guest);

	spec_host_spec_ctrl = m->host_spec_ctrl;
	if (m->has_spec_ctrl)
		wrmsr(MSR_IA32_SPEC_CTRL, m->host_spec_ctrl);
	spec_asm_flags = (m->spec_ctrl_swap.on ? SPEC_ASM_CTRL_SWAP : 0) |
			 (m->spec_ctrl_swap.on && m->spec_ctrl_always ? SPEC_ASM_CTRL_ALWAYS : 0) |
			 (m->rsb_fill.on ? SPEC_ASM_RSB_FILL : 0) | (m->verw.on ? SPEC_ASM_VERW : 0);

	pr_info("speculation: host cpuid 7.0 ecx 0x%x edx 0x%x, 7.2 edx 0x%x, 0x80000008 ebx 0x%x, "
		"0x80000021 eax 0x%x, arch_caps 0x%lx\n", c.reg[SPEC_REG_7_ECX],
		c.reg[SPEC_REG_7_EDX], c.reg[SPEC_REG_7_2_EDX], c.reg[SPEC_REG_E8_EBX],
		c.reg[SPEC_REG_E21_EAX], c.arch_caps);
	spec_describe(m, line, sizeof(line));
	pr_info("speculation: mitigations: %s\n", line);
	spec_guest_describe(&spec_guest, line, sizeof(line));
	pr_info("speculation: guests get %s\n", line);
}

static void ibpb(void)
{
	wrmsr(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
}

/* Another domain than the last one to run on this CPU (or its first
 * entry): out of line, so that the entry of the same domain again, the
 * common case, pays no stack frame for the report. */
static __attribute__((noinline)) void domain_switch(struct spec_percpu *c, struct domain *d)
{
	const struct spec_mitigations *m = &spec_mitigations;

	if (!d->arch.spec_gen)
		d->arch.spec_gen = ++next_domain_gen;
	if (d->arch.spec_gen == c->last_domain_gen)
		return;
	/* Branch predictions trained by the last domain must not steer
	 * this one (nor the hypervisor on its behalf). */
	if (m->ibpb_on_switch.on && c->last_domain_gen) {
		ibpb();
		/* Once, so that the log shows the path is taken. */
		if (!ibpb_reported) {
			ibpb_reported = true;
			pr_info("speculation: IBPB on switching from domain %u to domain %u "
				"(the first of many; not reported again)\n", c->last_domain_id, d->id);
		}
	}
	c->last_domain_gen = d->arch.spec_gen;
	c->last_domain_id = d->id;
}

void spec_enter_guest(struct vcpu *v)
{
	const struct spec_mitigations *m = &spec_mitigations;
	struct spec_percpu *c = spec_this_cpu();
	struct domain *d = v->dom;

	/* A domain's spec_gen is never 0 once it has run, nor is it ever
	 * another's, so an equal non-zero value is "same domain". */
	if (!d->arch.spec_gen || d->arch.spec_gen != c->last_domain_gen)
		domain_switch(c, d);
	/* The host's value is in the MSR; SPEC_AFTER_EXIT puts it back. */
	if (m->spec_ctrl_swap.on && v->arch.spec_ctrl != m->host_spec_ctrl)
		wrmsr(MSR_IA32_SPEC_CTRL, v->arch.spec_ctrl);
	if (m->l1d_flush.on)
		wrmsr(MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D);
}

void spec_entry_failed(void)
{
	if (spec_mitigations.spec_ctrl_swap.on)
		wrmsr(MSR_IA32_SPEC_CTRL, spec_mitigations.host_spec_ctrl);
}

void spec_do_actions(unsigned actions)
{
	/* Only reachable when the guest was offered the MSR, which needs
	 * the host to have it (kernel/spec_msr.c). */
	if (actions & SPEC_ACT_IBPB)
		ibpb();
	if (actions & SPEC_ACT_L1D_FLUSH)
		wrmsr(MSR_IA32_FLUSH_CMD, FLUSH_CMD_L1D);
}
