/*
 * The virtual local APIC's pure rules (arch/x86/vlapic_regs.c, contract
 * in arch/x86/include/asm/vlapic.h): the reset state, priorities (PPR,
 * what is deliverable, what the TPR holds back), EOI, destinations, the
 * timer's arithmetic and modes, the x2APIC MSRs' #GP rules and the
 * IA32_APIC_BASE transitions of SDM 10.12.5.
 *
 * unit-sources: arch/x86/vlapic_regs.c
 */
#include <lib/errno.h>
#include <asm/vlapic.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* An x2APIC-mode, software-enabled APIC of vCPU `id`. */
static struct vlapic x2(u32 id)
{
	struct vlapic s;
	vlapic_reset(&s, id);
	s.apic_base |= VLAPIC_BASE_EXTD;
	s.ldr = ((s.id >> 4) << 16) | (1u << (s.id & 0xf));
	s.svr = 0x1ff;
	return s;
}

static int rd(const struct vlapic *s, unsigned off, u64 *val)
{
	return vlapic_reg_read(s, off, true, 1000, val);
}

static int wr(struct vlapic *s, unsigned off, u64 val, unsigned *fx)
{
	return vlapic_reg_write(s, off, true, val, 1000, fx);
}

START_TEST(lapic_reset_state)
{
	struct vlapic s;
	u64 v;

	vlapic_reset(&s, 0);
	ck_assert(s.present);
	ck_assert_uint_eq(s.apic_base, 0xfee00900ULL);
	vlapic_reset(&s, 3);
	ck_assert_uint_eq(s.apic_base, 0xfee00800ULL);
	ck_assert_uint_eq(s.id, 6); /* 2 * vCPU id, as Xen and libxl's MADT */
	ck_assert_int_eq(vlapic_reg_read(&s, VLAPIC_ID, false, 0, &v), 0);
	ck_assert_uint_eq(v, 6u << 24);
	ck_assert_int_eq(vlapic_reg_read(&s, VLAPIC_LVR, false, 0, &v), 0);
	ck_assert_uint_eq(v, 0x50014);
	ck_assert_int_eq(vlapic_reg_read(&s, VLAPIC_SVR, false, 0, &v), 0);
	ck_assert_uint_eq(v, 0xff);
	ck_assert_int_eq(vlapic_reg_read(&s, VLAPIC_DFR, false, 0, &v), 0);
	ck_assert_uint_eq(v, 0xffffffffu);
	for (unsigned off = VLAPIC_LVT_TIMER; off <= VLAPIC_LVT_ERROR; off += 0x10) {
		ck_assert_int_eq(vlapic_reg_read(&s, off, false, 0, &v), 0);
		ck_assert_uint_eq(v, VLAPIC_LVT_MASKED);
	}
	ck_assert(!vlapic_sw_enabled(&s));
}
END_TEST

START_TEST(lapic_priority_ppr_and_delivery)
{
	struct vlapic s = x2(0);
	u8 cls = 0;

	ck_assert_int_eq(vlapic_pending_vector(&s), -1);
	ck_assert(vlapic_irr_empty(&s));
	/* Any one vector, in any of IRR's eight words, makes it non-empty. */
	for (unsigned vec = 16; vec < 256; vec += 31) {
		ck_assert(vlapic_set_irr(&s, (u8)vec, false));
		ck_assert_msg(!vlapic_irr_empty(&s), "vector 0x%x not seen", vec);
		s.irr[vec / 32] = 0;
		ck_assert(vlapic_irr_empty(&s));
	}
	ck_assert(!vlapic_set_irr(&s, 15, false)); /* 0-15 illegal */
	ck_assert(vlapic_irr_empty(&s));
	ck_assert_uint_eq(s.esr_pending & VLAPIC_ESR_RECV_ILLEGAL, VLAPIC_ESR_RECV_ILLEGAL);
	ck_assert(vlapic_set_irr(&s, 0x42, false));
	ck_assert(vlapic_set_irr(&s, 0x61, false));
	ck_assert_int_eq(vlapic_highest(s.irr), 0x61);
	ck_assert_int_eq(vlapic_pending_vector(&s), 0x61);

	/* TPR class 6 holds back 0x61 (class 6) and 0x42. */
	s.tpr = 0x60;
	ck_assert_uint_eq(vlapic_ppr(&s), 0x60);
	ck_assert_int_eq(vlapic_pending_vector(&s), -1);
	ck_assert(vlapic_tpr_blocks(&s, &cls));
	ck_assert_uint_eq(cls, 6);
	s.tpr = 0x5f; /* class 5: 0x61 goes */
	ck_assert_int_eq(vlapic_pending_vector(&s), 0x61);
	s.tpr = 0;

	/* In service: 0x61 blocks 0x42 and anything of class <= 6. */
	vlapic_accept(&s, 0x61);
	ck_assert_uint_eq(vlapic_ppr(&s), 0x60);
	ck_assert_int_eq(vlapic_pending_vector(&s), -1);
	ck_assert(!vlapic_tpr_blocks(&s, &cls)); /* ISR blocks it, not the TPR */
	ck_assert(vlapic_set_irr(&s, 0x70, false));
	ck_assert_int_eq(vlapic_pending_vector(&s), 0x70); /* nests above */
	vlapic_accept(&s, 0x70);
	ck_assert_int_eq(vlapic_eoi(&s), 0x70);
	ck_assert_int_eq(vlapic_eoi(&s), 0x61);
	ck_assert_int_eq(vlapic_pending_vector(&s), 0x42);
	vlapic_accept(&s, 0x42);
	ck_assert_int_eq(vlapic_eoi(&s), 0x42);
	ck_assert_int_eq(vlapic_eoi(&s), -1);

	/* A globally disabled APIC delivers nothing. */
	ck_assert(vlapic_set_irr(&s, 0x80, false));
	s.apic_base &= ~(VLAPIC_BASE_EN | VLAPIC_BASE_EXTD);
	ck_assert_int_eq(vlapic_pending_vector(&s), -1);
}
END_TEST

START_TEST(lapic_dest_match_physical_logical)
{
	struct vlapic a = x2(0), b = x2(9); /* IDs 0 and 18: cluster 1, bit 2 */

	ck_assert(vlapic_match_dest(&a, 0, false));
	ck_assert(!vlapic_match_dest(&b, 9, false));
	ck_assert(vlapic_match_dest(&b, 18, false));
	ck_assert(vlapic_match_dest(&b, 0xffffffffu, false));
	ck_assert_uint_eq(b.ldr, 0x10004);
	ck_assert(vlapic_match_dest(&b, 0x10004, true));
	ck_assert(vlapic_match_dest(&b, 0x1ffff, true));
	ck_assert(!vlapic_match_dest(&b, 0x00004, true)); /* wrong cluster */
	ck_assert(!vlapic_match_dest(&a, 0x10001, true));

	/* xAPIC: 8-bit IDs; flat and cluster logical models. */
	struct vlapic c;
	vlapic_reset(&c, 1); /* ID 2 */
	c.ldr = 0x04000000u;
	ck_assert(vlapic_match_dest(&c, 2, false));
	ck_assert(vlapic_match_dest(&c, 0xff, false));
	ck_assert(vlapic_match_dest(&c, 0x06, true));
	ck_assert(!vlapic_match_dest(&c, 0x01, true));
	c.dfr = 0x0fffffffu; /* cluster model */
	c.ldr = 0x21000000u; /* cluster 2, member 1 */
	ck_assert(vlapic_match_dest(&c, 0x21, true));
	ck_assert(!vlapic_match_dest(&c, 0x11, true));
}
END_TEST

START_TEST(lapic_timer_divider_and_modes)
{
	static const unsigned div[8] = { 2, 4, 8, 16, 32, 64, 128, 1 };
	struct vlapic s = x2(0);
	unsigned fx;
	u64 v;

	for (unsigned code = 0; code < 8; code++) {
		u32 tdcr = (code & 3) | ((code & 4) << 1);
		ck_assert_uint_eq(vlapic_timer_divider(tdcr), div[code]);
	}
	/* One-shot, divide by 2: 1000 counts = 2000 ns from the write. */
	ck_assert_int_eq(wr(&s, VLAPIC_LVT_TIMER, 0x50, &fx), 0);
	ck_assert_int_eq(wr(&s, VLAPIC_TDCR, 0, &fx), 0);
	ck_assert_int_eq(vlapic_reg_write(&s, VLAPIC_TMICT, true, 1000, 10000, &fx), 0);
	ck_assert_uint_eq(fx, VLAPIC_FX_TIMER);
	ck_assert_uint_eq(s.timer_deadline, 12000);
	ck_assert_uint_eq(vlapic_timer_current(&s, 11000), 500);
	ck_assert(!vlapic_timer_expire(&s, 11999));
	ck_assert(vlapic_timer_expire(&s, 12000));
	ck_assert_int_eq(vlapic_pending_vector(&s), 0x50);
	ck_assert_uint_eq(s.timer_deadline, 0);
	ck_assert_int_eq(vlapic_reg_read(&s, VLAPIC_TMCCT, true, 13000, &v), 0);
	ck_assert_uint_eq(v, 0);

	/* Periodic: missed periods are skipped, the phase kept. */
	vlapic_accept(&s, 0x50);
	vlapic_eoi(&s);
	ck_assert_int_eq(wr(&s, VLAPIC_LVT_TIMER, 0x50 | (1u << 17), &fx), 0);
	ck_assert_int_eq(vlapic_reg_write(&s, VLAPIC_TMICT, true, 500000, 0, &fx), 0);
	ck_assert_uint_eq(s.timer_deadline, 1000000);
	ck_assert(vlapic_timer_expire(&s, 3500000));
	ck_assert_uint_eq(s.timer_deadline, 4000000);
	ck_assert_int_eq(vlapic_highest(s.irr), 0x50);

	/* A period below the floor re-arms at the floor. */
	struct vlapic t = x2(0);
	ck_assert_int_eq(wr(&t, VLAPIC_TDCR, 0xb, &fx), 0);
	ck_assert_int_eq(wr(&t, VLAPIC_LVT_TIMER, 0x50 | (1u << 17), &fx), 0);
	ck_assert_int_eq(vlapic_reg_write(&t, VLAPIC_TMICT, true, 1, 0, &fx), 0);
	ck_assert_uint_eq(t.timer_deadline, 1);
	ck_assert(vlapic_timer_expire(&t, 1));
	ck_assert_uint_eq(t.timer_deadline, 1 + VLAPIC_TIMER_MIN_PERIOD_NS);
	ck_assert_uint_le(vlapic_timer_current(&t, 2), 1);

	/* Masked: counts on, delivers nothing. */
	s.irr[2] = 0;
	ck_assert_int_eq(wr(&s, VLAPIC_LVT_TIMER, 0x50 | (1u << 17) | VLAPIC_LVT_MASKED, &fx), 0);
	ck_assert(!vlapic_timer_expire(&s, 4000000));
	ck_assert_uint_eq(s.timer_deadline, 5000000);
	ck_assert_int_eq(vlapic_highest(s.irr), -1);

	/* Into TSC-deadline mode: the count is disarmed and ignored. */
	ck_assert_int_eq(wr(&s, VLAPIC_LVT_TIMER, 0x50 | (2u << 17), &fx), 0);
	ck_assert_uint_eq(s.timer_deadline, 0);
	ck_assert_int_eq(wr(&s, VLAPIC_TMICT, 100, &fx), 0);
	ck_assert_uint_eq(s.timer_deadline, 0);
	ck_assert_uint_eq(s.tmict, 0);
}
END_TEST

START_TEST(lapic_x2apic_msr_gp_rules)
{
	struct vlapic s = x2(0);
	unsigned fx;
	u64 v;

	/* Read-only registers. */
	ck_assert_int_eq(wr(&s, VLAPIC_ID, 1, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_LVR, 1, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_PPR, 0, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_LDR, 0, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_IRR, 0, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_TMCCT, 0, &fx), -EINVAL);
	/* Write-only registers. */
	ck_assert_int_eq(rd(&s, VLAPIC_EOI, &v), -EINVAL);
	ck_assert_int_eq(rd(&s, VLAPIC_SELF_IPI, &v), -EINVAL);
	/* xAPIC-only and absent registers. */
	ck_assert_int_eq(rd(&s, VLAPIC_DFR, &v), -EINVAL);
	ck_assert_int_eq(rd(&s, VLAPIC_ICR2, &v), -EINVAL);
	ck_assert_int_eq(rd(&s, VLAPIC_APR, &v), -EINVAL);
	ck_assert_int_eq(rd(&s, 0x010, &v), -EINVAL);
	ck_assert_int_eq(rd(&s, VLAPIC_LVT_CMCI, &v), -EINVAL);
	/* Reserved bits. */
	ck_assert_int_eq(wr(&s, VLAPIC_TPR, 0x100, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_EOI, 1, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_ESR, 1, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_SELF_IPI, 0x140, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_TDCR, 0x4, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_LVT_ERROR, 0x1ULL << 32, &fx), -EINVAL);
	ck_assert_int_eq(wr(&s, VLAPIC_ICR, 0x1030, &fx), -EINVAL); /* delivery status */
	/* ...and what is allowed. */
	ck_assert_int_eq(wr(&s, VLAPIC_TPR, 0x20, &fx), 0);
	ck_assert_uint_eq(fx, VLAPIC_FX_TPR);
	ck_assert_int_eq(wr(&s, VLAPIC_ICR, (5ULL << 32) | 0x4030, &fx), 0);
	ck_assert_uint_eq(fx, VLAPIC_FX_ICR);
	ck_assert_int_eq(rd(&s, VLAPIC_ICR, &v), 0);
	ck_assert_uint_eq(v, (5ULL << 32) | 0x4030);
	ck_assert_int_eq(wr(&s, VLAPIC_SELF_IPI, 0x33, &fx), 0);
	ck_assert_uint_eq(fx, VLAPIC_FX_IRR);
	ck_assert_int_eq(rd(&s, VLAPIC_IRR + 0x10, &v), 0);
	ck_assert_uint_eq(v, 1u << (0x33 - 32));
	/* xAPIC: the ICR never reads "send pending" (bit 12). */
	ck_assert_int_eq(vlapic_reg_write(&s, VLAPIC_ICR, false, 0x1030, 0, &fx), 0);
	ck_assert_int_eq(vlapic_reg_read(&s, VLAPIC_ICR, false, 0, &v), 0);
	ck_assert_uint_eq(v, 0x30);
	/* ESR: a write latches the errors seen since. */
	s.esr_pending = VLAPIC_ESR_SEND_ILLEGAL;
	ck_assert_int_eq(wr(&s, VLAPIC_ESR, 0, &fx), 0);
	ck_assert_int_eq(rd(&s, VLAPIC_ESR, &v), 0);
	ck_assert_uint_eq(v, VLAPIC_ESR_SEND_ILLEGAL);
}
END_TEST

START_TEST(lapic_svr_disable_masks_lvts)
{
	struct vlapic s = x2(0);
	unsigned fx;

	ck_assert_int_eq(wr(&s, VLAPIC_LVT_LINT0, 0x700, &fx), 0);
	ck_assert_uint_eq(s.lvt[VLAPIC_LVT_L0], 0x700);
	ck_assert_int_eq(wr(&s, VLAPIC_SVR, 0xff, &fx), 0);
	ck_assert_uint_eq(s.lvt[VLAPIC_LVT_L0], 0x700 | VLAPIC_LVT_MASKED);
	/* While disabled, the mask cannot be cleared. */
	ck_assert_int_eq(wr(&s, VLAPIC_LVT_LINT0, 0x700, &fx), 0);
	ck_assert_uint_eq(s.lvt[VLAPIC_LVT_L0] & VLAPIC_LVT_MASKED, VLAPIC_LVT_MASKED);
	/* Delivery status is read-only. */
	ck_assert_int_eq(vlapic_reg_write(&s, VLAPIC_LVT_ERROR, false, VLAPIC_LVT_PENDING | 0x30,
					  0, &fx), 0);
	ck_assert_uint_eq(s.lvt[VLAPIC_LVT_ERR] & VLAPIC_LVT_PENDING, 0);
}
END_TEST

START_TEST(lapic_init_keeps_base_and_id)
{
	struct vlapic s = x2(5);
	unsigned fx;

	ck_assert(vlapic_set_irr(&s, 0x40, false));
	vlapic_accept(&s, 0x40);
	ck_assert_int_eq(wr(&s, VLAPIC_LVT_TIMER, 0x50, &fx), 0);
	ck_assert_int_eq(wr(&s, VLAPIC_TMICT, 100, &fx), 0);
	s.tpr = 0x30;
	vlapic_init_reset(&s, 5);
	ck_assert_uint_eq(s.apic_base, 0xfee00c00ULL); /* x2APIC mode kept, no BSP */
	ck_assert_uint_eq(s.id, 10);
	ck_assert_uint_eq(s.ldr, (1u << 10));
	ck_assert_int_eq(vlapic_highest(s.isr), -1);
	ck_assert_uint_eq(s.timer_deadline, 0);
	ck_assert_uint_eq(s.tpr, 0);
	ck_assert_uint_eq(s.lvt[VLAPIC_LVT_T], VLAPIC_LVT_MASKED);
	ck_assert(!vlapic_sw_enabled(&s));
}
END_TEST

START_TEST(lapic_apic_base_transitions)
{
	struct vlapic s;
	u64 nv;

	vlapic_reset(&s, 0);
	const u64 xapic = 0xfee00900ULL, x2apic = xapic | VLAPIC_BASE_EXTD;
	ck_assert_int_eq(vlapic_base_check(&s, x2apic, 39, &nv), 0); /* xAPIC -> x2APIC */
	ck_assert_uint_eq(nv, x2apic);
	ck_assert_int_eq(vlapic_base_check(&s, 0xfee00000ULL | VLAPIC_BASE_EXTD, 39, &nv),
			 -EINVAL); /* EXTD without EN */
	ck_assert_int_eq(vlapic_base_check(&s, xapic | 1, 39, &nv), -EINVAL); /* reserved */
	ck_assert_int_eq(vlapic_base_check(&s, xapic | (1ULL << 40), 39, &nv), -EINVAL);
	ck_assert_int_eq(vlapic_base_check(&s, 0xfed00900ULL, 39, &nv), -EINVAL); /* moved */
	/* BSP is read-only. */
	ck_assert_int_eq(vlapic_base_check(&s, 0xfee00800ULL, 39, &nv), 0);
	ck_assert_uint_eq(nv, xapic);
	s.apic_base = x2apic;
	ck_assert_int_eq(vlapic_base_check(&s, xapic, 39, &nv), -EINVAL); /* x2APIC -> xAPIC */
	ck_assert_int_eq(vlapic_base_check(&s, 0xfee00000ULL, 39, &nv), 0); /* -> disabled */
	s.apic_base = nv;
	ck_assert_int_eq(vlapic_base_check(&s, x2apic, 39, &nv), -EINVAL); /* disabled -> x2APIC */
	ck_assert_int_eq(vlapic_base_check(&s, xapic, 39, &nv), 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "lapic-reset-state", &lapic_reset_state_ttest },
	{ "lapic-priority-ppr-and-delivery", &lapic_priority_ppr_and_delivery_ttest },
	{ "lapic-dest-match-physical-logical", &lapic_dest_match_physical_logical_ttest },
	{ "lapic-timer-divider-and-modes", &lapic_timer_divider_and_modes_ttest },
	{ "lapic-x2apic-msr-gp-rules", &lapic_x2apic_msr_gp_rules_ttest },
	{ "lapic-svr-disable-masks-lvts", &lapic_svr_disable_masks_lvts_ttest },
	{ "lapic-apic-base-transitions", &lapic_apic_base_transitions_ttest },
	{ "lapic-init-keeps-base-and-id", &lapic_init_keeps_base_and_id_ttest },
	{ 0 },
};
