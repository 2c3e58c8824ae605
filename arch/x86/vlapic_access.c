/*
 * How a guest reaches its virtual LAPIC (docs/lapic.md): the x2APIC MSRs
 * 0x800-0x8ff, the xAPIC page at 0xfee00000 (emulated MMIO, decoded by
 * the MMIO instruction decoder, kernel/mmio.c), IA32_APIC_BASE and
 * IA32_TSC_DEADLINE. The register rules are vlapic_regs.c's; this file
 * says which interface may be used when (SDM 10.12.1-10.12.5):
 *  - x2APIC MSRs only in x2APIC mode, else #GP; in that mode, reads of
 *    write-only or absent registers and writes of read-only ones, absent
 *    ones or reserved bits #GP too;
 *  - the xAPIC page only in xAPIC mode: as on hardware, nothing #GPs
 *    there; absent registers read 0 and flag "illegal register address"
 *    in ESR, writes other than aligned 32-bit stores are dropped.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <keel/mmio.h>
#include <keel/printk.h>
#include <keel/vtimer.h>
#include <asm/cpu.h>
#include <asm/vintc.h>
#include <asm/vlapic.h>

/* Carries out what a register write asked for (VLAPIC_FX_*). */
static void apply_effects(struct vcpu *v, unsigned fx)
{
	if (fx & VLAPIC_FX_TPR)
		vlapic_push_tpr(v);
	if (fx & VLAPIC_FX_TIMER)
		vlapic_timer_changed(v);
	if (fx & VLAPIC_FX_ICR)
		vlapic_send_ipi(v);
	/* VLAPIC_FX_IRR (self-IPI): pending in IRR, taken at the next
	 * entry. VLAPIC_FX_EOI: no virtual IOAPIC to tell about level-
	 * triggered vectors. */
}

static unsigned guest_maxphyaddr(void)
{
	struct cpuid_regs r;

	cpuid_count(0x80000000, 0, &r);
	if (r.eax < 0x80000008)
		return 36;
	cpuid_count(0x80000008, 0, &r);
	return r.eax & 0xff;
}

static int write_apic_base(struct vcpu *v, u64 val)
{
	struct vlapic *s = vcpu_vlapic(v);
	u64 nv;

	if (vlapic_base_check(s, val, guest_maxphyaddr(), &nv))
		return -EINVAL;
	if (!(nv & VLAPIC_BASE_EN) && vlapic_hw_enabled(s)) {
		/* Globally disabled: the APIC goes back to its power-up
		 * state but for IA32_APIC_BASE (SDM 10.4.3). */
		u32 reports = s->nr_reports; /* the rate limit outlives it */
		vlapic_reset(s, v->id);
		s->nr_reports = reports;
		vlapic_push_tpr(v);
		vlapic_timer_changed(v);
	} else if ((nv & VLAPIC_BASE_EXTD) && !vlapic_x2apic_mode(s)) {
		/* Into x2APIC mode: the logical ID is derived from the ID,
		 * cluster ID[19:4] and one bit for ID[3:0] (SDM 10.12.10.2). */
		s->ldr = ((s->id >> 4) << 16) | (1u << (s->id & 0xf));
	}
	s->apic_base = nv;
	return 0;
}

int vintc_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	struct vlapic *s = vcpu_vlapic(v);

	if (!s->present)
		return -ENOENT;
	if (msr == VLAPIC_MSR_APIC_BASE) {
		*val = s->apic_base;
		return 0;
	}
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		/* Reads 0 outside TSC-deadline mode (SDM 10.5.4.1). */
		*val = vlapic_timer_mode(s) == VLAPIC_TIMER_TSC_DEADLINE ? s->tsc_deadline : 0;
		return 0;
	}
	if (msr < VLAPIC_X2APIC_MSR_FIRST || msr > VLAPIC_X2APIC_MSR_LAST)
		return -ENOENT;
	if (!vlapic_x2apic_mode(s))
		return -EINVAL;
	vlapic_sync_tpr(v);
	return vlapic_reg_read(s, vlapic_msr_offset(msr), true, time_now_ns(), val);
}

int vintc_msr_write(struct vcpu *v, u32 msr, u64 val)
{
	struct vlapic *s = vcpu_vlapic(v);
	unsigned fx;

	if (!s->present)
		return -ENOENT;
	if (msr == VLAPIC_MSR_APIC_BASE)
		return write_apic_base(v, val);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		vlapic_tsc_deadline_write(v, val);
		return 0;
	}
	if (msr < VLAPIC_X2APIC_MSR_FIRST || msr > VLAPIC_X2APIC_MSR_LAST)
		return -ENOENT;
	if (!vlapic_x2apic_mode(s))
		return -EINVAL;
	vlapic_sync_tpr(v);
	if (vlapic_reg_write(s, vlapic_msr_offset(msr), true, val, time_now_ns(), &fx))
		return -EINVAL;
	apply_effects(v, fx);
	return 0;
}

/* ---- the xAPIC page ---------------------------------------------------------- */

/* False (and the domain killed) for a vCPU without a vLAPIC: dom0's
 * accesses to the page end as they did before there was one. */
static bool mmio_usable(struct vcpu *v, gpa_t gpa)
{
	struct vlapic *s = vcpu_vlapic(v);
	char why[96];

	if (s->present)
		return vlapic_hw_enabled(s) && !vlapic_x2apic_mode(s);
	snprintf(why, sizeof(why), "access to the local APIC page at 0x%lx (no virtual LAPIC)",
		 gpa);
	domain_crash(v, why);
	return false;
}

static u64 mmio_read(struct vcpu *v, gpa_t gpa, unsigned size)
{
	struct vlapic *s = vcpu_vlapic(v);
	unsigned off = gpa & 0xfff, b = off & 0xf;
	u64 val = 0;

	/* Disabled or in x2APIC mode, the page is not the APIC's: reads
	 * see all ones, as from an address nothing claims. */
	if (!mmio_usable(v, gpa))
		return ~0ULL;
	/* Registers are 32 bits at 16-byte boundaries (SDM 10.4.1); bytes
	 * 4-15 of each slot read 0. */
	if (b < 4) {
		vlapic_sync_tpr(v);
		if (vlapic_reg_read(s, off & ~0xfu, false, time_now_ns(), &val)) {
			s->esr_pending |= VLAPIC_ESR_ILLEGAL_REG;
			val = 0;
		}
		val = (u32)val >> (8 * b);
	}
	return size >= 8 ? val : val & ((1ULL << (8 * size)) - 1);
}

static void mmio_write(struct vcpu *v, gpa_t gpa, unsigned size, u64 val)
{
	struct vlapic *s = vcpu_vlapic(v);
	unsigned off = gpa & 0xfff, fx;

	if (!mmio_usable(v, gpa))
		return;
	/* Only aligned 32-bit (or wider: the low dword) stores reach a
	 * register; narrower or unaligned ones have undefined effects on
	 * hardware and are dropped here. */
	if ((off & 0xf) || size < 4) {
		if (s->nr_reports < 8) {
			s->nr_reports++;
			pr_info("d%uv%u: %u-byte LAPIC write at offset 0x%x dropped (not an aligned dword)\n",
				v->dom->id, v->id, size, off);
		}
		return;
	}
	vlapic_sync_tpr(v);
	if (vlapic_reg_write(s, off, false, (u32)val, time_now_ns(), &fx)) {
		/* Read-only or absent: ignored; absent ones flag it. */
		if (off != VLAPIC_ID && off != VLAPIC_LVR && off != VLAPIC_PPR &&
		    !(off >= VLAPIC_ISR && off < VLAPIC_ESR) && off != VLAPIC_TMCCT)
			s->esr_pending |= VLAPIC_ESR_ILLEGAL_REG;
		return;
	}
	apply_effects(v, fx);
}

int vlapic_mmio_init(void)
{
	static bool registered;
	static const struct mmio_handler page = {
		.base = VLAPIC_BASE_ADDR,
		.len = PAGE_SIZE,
		.domid = MMIO_ANY_DOMAIN,
		.name = "the local APIC page",
		.read = mmio_read,
		.write = mmio_write,
	};

	if (registered)
		return 0;
	int rc = mmio_register(&page);
	if (rc) {
		pr_err("virtual LAPIC: cannot register the xAPIC page: %d\n", rc);
		return rc;
	}
	registered = true;
	return 0;
}
