/*
 * The vLAPIC's register file and priority rules (contracts in
 * asm/vlapic.h). Pure: no vCPU, no clock but the `now` passed in, so the
 * host unit tests drive every rule (tests/unit/test_vlapic.c).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <asm/vlapic.h>

/* Writable bits of each LVT (SDM figure 10-8): vector, delivery mode,
 * polarity, trigger, mask and, for the timer, its mode. Remote IRR and
 * delivery status are read-only. */
static const u32 lvt_writable[VLAPIC_LVT_NR] = {
	[VLAPIC_LVT_T] = 0x000100ffu | (3u << 17),
	[VLAPIC_LVT_THM] = 0x000107ffu,
	[VLAPIC_LVT_PC] = 0x000107ffu,
	[VLAPIC_LVT_L0] = 0x0001a7ffu,
	[VLAPIC_LVT_L1] = 0x0001a7ffu,
	[VLAPIC_LVT_ERR] = 0x000100ffu,
};

void vlapic_reset(struct vlapic *s, u32 vcpu_id)
{
	u64 base = VLAPIC_BASE_ADDR | VLAPIC_BASE_EN | (vcpu_id == 0 ? VLAPIC_BASE_BSP : 0);

	memset(s, 0, sizeof(*s));
	s->present = true;
	s->apic_base = base;
	s->id = vlapic_id_of(vcpu_id);
	s->svr = 0xff;
	s->dfr = 0xffffffffu;
	for (unsigned i = 0; i < VLAPIC_LVT_NR; i++)
		s->lvt[i] = VLAPIC_LVT_MASKED;
}

void vlapic_init_reset(struct vlapic *s, u32 vcpu_id)
{
	u64 base = s->apic_base;
	u32 reports = s->nr_reports;

	vlapic_reset(s, vcpu_id);
	s->apic_base = base;
	s->nr_reports = reports;
	if (vlapic_x2apic_mode(s))
		s->ldr = ((s->id >> 4) << 16) | (1u << (s->id & 0xf));
}

static void bit_set(u32 reg[8], u8 vec)
{
	reg[vec >> 5] |= 1u << (vec & 31);
}

static void bit_clear(u32 reg[8], u8 vec)
{
	reg[vec >> 5] &= ~(1u << (vec & 31));
}

bool vlapic_set_irr(struct vlapic *s, u8 vec, bool level)
{
	/* Vectors 0-15 are reserved: the receiver flags an illegal vector
	 * and drops it (SDM 10.5.3). */
	if (vec < 16) {
		s->esr_pending |= VLAPIC_ESR_RECV_ILLEGAL;
		return false;
	}
	bit_set(s->irr, vec);
	if (level)
		bit_set(s->tmr, vec);
	else
		bit_clear(s->tmr, vec);
	return true;
}

int vlapic_highest(const u32 reg[8])
{
	for (int i = 7; i >= 0; i--)
		if (reg[i])
			return i * 32 + 31 - __builtin_clz(reg[i]);
	return -1;
}

u8 vlapic_ppr(const struct vlapic *s)
{
	int isrv = vlapic_highest(s->isr);
	u8 isr_class = isrv < 0 ? 0 : (u8)(isrv & 0xf0);

	return (s->tpr & 0xf0) >= isr_class ? s->tpr : isr_class;
}

int vlapic_pending_vector(const struct vlapic *s)
{
	int irrv = vlapic_highest(s->irr);

	if (irrv < 0 || !vlapic_hw_enabled(s))
		return -1;
	return (irrv & 0xf0) > (vlapic_ppr(s) & 0xf0) ? irrv : -1;
}

bool vlapic_tpr_blocks(const struct vlapic *s, u8 *cls)
{
	int irrv = vlapic_highest(s->irr), isrv = vlapic_highest(s->isr);

	if (irrv < 0 || !vlapic_hw_enabled(s))
		return false;
	if (isrv >= 0 && (irrv & 0xf0) <= (isrv & 0xf0))
		return false; /* the in-service vector blocks it: EOI ends that */
	if ((irrv >> 4) > (s->tpr >> 4))
		return false;
	*cls = (u8)(irrv >> 4);
	return true;
}

void vlapic_accept(struct vlapic *s, u8 vec)
{
	bit_clear(s->irr, vec);
	bit_set(s->isr, vec);
}

int vlapic_eoi(struct vlapic *s)
{
	int v = vlapic_highest(s->isr);

	if (v >= 0) {
		bit_clear(s->isr, (u8)v);
		bit_clear(s->tmr, (u8)v);
	}
	return v;
}

bool vlapic_match_dest(const struct vlapic *s, u32 dest, bool logical)
{
	if (vlapic_x2apic_mode(s)) {
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return dest == s->id;
		/* LDR = cluster (ID[19:4]) << 16 | 1 << ID[3:0]. */
		return (dest >> 16) == (s->ldr >> 16) && (dest & s->ldr & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return dest == (s->id & 0xff);
	u8 ldr = (u8)(s->ldr >> 24);
	if ((s->dfr >> 28) == 0xf) /* flat model */
		return dest & ldr;
	/* Cluster model: bits 7:4 the cluster, 3:0 a member mask. */
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
}

unsigned vlapic_timer_divider(u32 tdcr)
{
	/* Bits 0, 1 and 3: 000 = 2, 001 = 4, ... 110 = 128, 111 = 1. */
	unsigned code = (tdcr & 3) | ((tdcr >> 1) & 4);
	return code == 7 ? 1 : 2u << code;
}

static u64 timer_period_ns(const struct vlapic *s)
{
	/* 1 GHz bus clock: one count lasts `divider` ns. */
	return (u64)s->tmict * vlapic_timer_divider(s->tdcr);
}

u32 vlapic_timer_current(const struct vlapic *s, u64 now)
{
	if (!s->timer_deadline || vlapic_timer_mode(s) == VLAPIC_TIMER_TSC_DEADLINE)
		return 0;
	if (now >= s->timer_deadline)
		return 0;
	/* Never more than the initial count, even while a period is
	 * stretched to VLAPIC_TIMER_MIN_PERIOD_NS. */
	u64 left = (s->timer_deadline - now) / vlapic_timer_divider(s->tdcr);
	return (u32)MIN(left, (u64)s->tmict);
}

/* (Re)starts the count from TMICT at `now` (one-shot or periodic). */
static void timer_restart(struct vlapic *s, u64 now)
{
	u64 p = timer_period_ns(s);

	s->timer_start = now;
	s->timer_deadline = (p && vlapic_timer_mode(s) != VLAPIC_TIMER_TSC_DEADLINE) ? now + p : 0;
}

bool vlapic_timer_expire(struct vlapic *s, u64 now)
{
	u32 lvt = s->lvt[VLAPIC_LVT_T];
	bool raised = false;

	if (!s->timer_deadline || now < s->timer_deadline)
		return false;
	/* A masked LVT still counts but delivers nothing (SDM 10.5.4). */
	if (!(lvt & VLAPIC_LVT_MASKED) && vlapic_sw_enabled(s))
		raised = vlapic_set_irr(s, (u8)lvt, false);
	if (vlapic_timer_mode(s) == VLAPIC_TIMER_PERIODIC && timer_period_ns(s)) {
		u64 p = MAX(timer_period_ns(s), VLAPIC_TIMER_MIN_PERIOD_NS);
		u64 next = s->timer_deadline + p;
		if (next <= now) /* missed periods: skip, do not replay */
			next = now + p - (now - s->timer_deadline) % p;
		s->timer_start = next - p;
		s->timer_deadline = next;
	} else {
		s->timer_deadline = 0;
		s->tsc_deadline = 0;
	}
	return raised;
}

/* ---- reads ----------------------------------------------------------------- */

int vlapic_reg_read(const struct vlapic *s, unsigned off, bool x2, u64 now, u64 *val)
{
	u64 r;

	if (off >= VLAPIC_ISR && off < VLAPIC_ISR + 0x80) {
		*val = s->isr[(off - VLAPIC_ISR) >> 4];
		return 0;
	}
	if (off >= VLAPIC_TMR && off < VLAPIC_TMR + 0x80) {
		*val = s->tmr[(off - VLAPIC_TMR) >> 4];
		return 0;
	}
	if (off >= VLAPIC_IRR && off < VLAPIC_IRR + 0x80) {
		*val = s->irr[(off - VLAPIC_IRR) >> 4];
		return 0;
	}
	switch (off) {
	case VLAPIC_ID:
		/* xAPIC: ID in bits 31:24 (SDM figure 10-6). */
		r = x2 ? s->id : (u64)(s->id & 0xff) << 24;
		break;
	case VLAPIC_LVR:
		r = VLAPIC_VERSION;
		break;
	case VLAPIC_TPR:
		r = s->tpr;
		break;
	case VLAPIC_PPR:
		r = vlapic_ppr(s);
		break;
	case VLAPIC_LDR:
		r = s->ldr;
		break;
	case VLAPIC_SVR:
		r = s->svr;
		break;
	case VLAPIC_ESR:
		r = s->esr;
		break;
	case VLAPIC_ICR:
		/* x2APIC: one 64-bit register, destination in 63:32. */
		r = x2 ? ((u64)s->icr2 << 32) | s->icr : s->icr;
		break;
	case VLAPIC_LVT_TIMER:
	case VLAPIC_LVT_THERMAL:
	case VLAPIC_LVT_PMC:
	case VLAPIC_LVT_LINT0:
	case VLAPIC_LVT_LINT1:
	case VLAPIC_LVT_ERROR:
		r = s->lvt[(off - VLAPIC_LVT_TIMER) >> 4];
		break;
	case VLAPIC_TMICT:
		r = s->tmict;
		break;
	case VLAPIC_TMCCT:
		r = vlapic_timer_current(s, now);
		break;
	case VLAPIC_TDCR:
		r = s->tdcr;
		break;
	case VLAPIC_APR:
	case VLAPIC_DFR:
	case VLAPIC_ICR2:
		/* xAPIC only (SDM table 10-6 lists no x2APIC MSR for them). */
		if (x2)
			return -EINVAL;
		r = off == VLAPIC_DFR ? s->dfr : off == VLAPIC_ICR2 ? s->icr2 : 0;
		break;
	default:
		/* EOI and SELF IPI are write-only; the rest does not exist
		 * (RRD, CMCI: the version register reports 6 LVTs). */
		return -EINVAL;
	}
	*val = r;
	return 0;
}

/* ---- writes ---------------------------------------------------------------- */

/* SVR: writing it with bit 8 clear software-disables the APIC, which
 * masks every LVT (SDM 10.4.7.2). */
static void write_svr(struct vlapic *s, u32 val)
{
	s->svr = val & VLAPIC_SVR_MASK;
	if (!(s->svr & VLAPIC_SVR_ENABLE))
		for (unsigned i = 0; i < VLAPIC_LVT_NR; i++)
			s->lvt[i] |= VLAPIC_LVT_MASKED;
}

static void write_lvt(struct vlapic *s, unsigned i, u32 val, u64 now, unsigned *fx)
{
	u32 old = s->lvt[i];

	s->lvt[i] = (old & ~lvt_writable[i]) | (val & lvt_writable[i]);
	/* While software-disabled the mask bits stay set (SDM 10.4.7.2). */
	if (!(s->svr & VLAPIC_SVR_ENABLE))
		s->lvt[i] |= VLAPIC_LVT_MASKED;
	if (i == VLAPIC_LVT_T && ((old ^ s->lvt[i]) & (3u << 17))) {
		/* A change of timer mode disarms it (SDM 10.5.4.1: switching
		 * to or from TSC-deadline mode clears the deadline and the
		 * count). */
		s->tmict = 0;
		s->tsc_deadline = 0;
		s->timer_deadline = 0;
		(void)now;
		*fx |= VLAPIC_FX_TIMER;
	}
}

/* Bits of each x2APIC register that a WRMSR may set; anything else #GPs
 * (SDM 10.12.1.2: reserved bits of x2APIC registers must be 0). */
static u64 x2_reserved(unsigned off)
{
	switch (off) {
	case VLAPIC_TPR:
		return ~0xffULL;
	case VLAPIC_SVR:
		return ~(u64)VLAPIC_SVR_MASK;
	case VLAPIC_EOI:
	case VLAPIC_ESR:
		return ~0ULL; /* only 0 may be written */
	case VLAPIC_SELF_IPI:
		return ~0xffULL;
	case VLAPIC_ICR:
		/* vector, mode, dest mode, level, trigger, shorthand; dest.
		 * Not delivery status (bit 12): gone in x2APIC mode (SDM
		 * 10.12.9), and Xen #GPs on it too. */
		return ~(0xffffffff000ccfffULL);
	case VLAPIC_TDCR:
		return ~0xbULL;
	case VLAPIC_LVT_TIMER:
	case VLAPIC_LVT_THERMAL:
	case VLAPIC_LVT_PMC:
	case VLAPIC_LVT_LINT0:
	case VLAPIC_LVT_LINT1:
	case VLAPIC_LVT_ERROR:
		return ~(u64)lvt_writable[(off - VLAPIC_LVT_TIMER) >> 4];
	default:
		return ~0xffffffffULL;
	}
}

int vlapic_reg_write(struct vlapic *s, unsigned off, bool x2, u64 val, u64 now, unsigned *fx)
{
	u32 v32 = (u32)val;

	*fx = 0;
	if (x2 && (val & x2_reserved(off)))
		return -EINVAL;
	switch (off) {
	case VLAPIC_TPR:
		s->tpr = (u8)v32;
		*fx |= VLAPIC_FX_TPR;
		break;
	case VLAPIC_EOI:
		if (vlapic_eoi(s) >= 0)
			*fx |= VLAPIC_FX_EOI;
		break;
	case VLAPIC_LDR:
		/* Read-only in x2APIC mode (derived from the ID). */
		if (x2)
			return -EINVAL;
		s->ldr = v32 & 0xff000000u;
		break;
	case VLAPIC_DFR:
		if (x2)
			return -EINVAL;
		s->dfr = v32 | 0x0fffffffu;
		break;
	case VLAPIC_SVR:
		write_svr(s, v32);
		break;
	case VLAPIC_ESR:
		/* A write latches the errors seen since the last one. x2APIC:
		 * only 0 may be written (reserved bits). */
		s->esr = s->esr_pending;
		s->esr_pending = 0;
		break;
	case VLAPIC_ICR:
		/* Delivery status (bit 12) is read-only and reads 0: the IPI
		 * is sent before the write returns, so the ICR is always idle
		 * (xAPIC guests poll it: Linux's wait_icr_idle). */
		if (x2)
			s->icr2 = (u32)(val >> 32);
		s->icr = v32 & 0x000ccfffu;
		*fx |= VLAPIC_FX_ICR;
		break;
	case VLAPIC_ICR2:
		if (x2)
			return -EINVAL;
		s->icr2 = v32 & 0xff000000u;
		break;
	case VLAPIC_LVT_TIMER:
	case VLAPIC_LVT_THERMAL:
	case VLAPIC_LVT_PMC:
	case VLAPIC_LVT_LINT0:
	case VLAPIC_LVT_LINT1:
	case VLAPIC_LVT_ERROR:
		write_lvt(s, (off - VLAPIC_LVT_TIMER) >> 4, v32, now, fx);
		break;
	case VLAPIC_TMICT:
		/* TSC-deadline mode ignores the initial count (SDM 10.5.4.1). */
		if (vlapic_timer_mode(s) == VLAPIC_TIMER_TSC_DEADLINE)
			break;
		s->tmict = v32;
		timer_restart(s, now);
		*fx |= VLAPIC_FX_TIMER;
		break;
	case VLAPIC_TDCR: {
		/* The count goes on at the new rate: keep what is left of
		 * it in counts (SDM leaves this open; Xen and KVM rescale). */
		u32 left = vlapic_timer_current(s, now);
		s->tdcr = v32 & 0xb;
		if (s->timer_deadline && left) {
			s->timer_deadline = now + (u64)left * vlapic_timer_divider(s->tdcr);
			*fx |= VLAPIC_FX_TIMER;
		}
		break;
	}
	case VLAPIC_SELF_IPI:
		if (!x2)
			return -EINVAL;
		/* Edge-triggered, fixed, to self (SDM 10.12.11). */
		if (vlapic_set_irr(s, (u8)v32, false))
			*fx |= VLAPIC_FX_IRR;
		break;
	default:
		/* ID, version, PPR, ISR/TMR/IRR, current count: read-only;
		 * the rest does not exist. */
		return -EINVAL;
	}
	return 0;
}

/* ---- IA32_APIC_BASE --------------------------------------------------------- */

int vlapic_base_check(const struct vlapic *s, u64 val, unsigned maxphyaddr, u64 *newval)
{
	u64 reserved = 0xffULL | (1ULL << 9);
	bool en = val & VLAPIC_BASE_EN, extd = val & VLAPIC_BASE_EXTD;

	if (maxphyaddr < 64)
		reserved |= ~((1ULL << maxphyaddr) - 1);
	if (val & reserved)
		return -EINVAL;
	if (extd && !en)
		return -EINVAL; /* invalid state (SDM table 10-5) */
	if (vlapic_x2apic_mode(s) && en && !extd)
		return -EINVAL; /* x2APIC -> xAPIC: only through disabled */
	if (!vlapic_hw_enabled(s) && extd)
		return -EINVAL; /* disabled -> x2APIC: only through xAPIC */
	if ((val & ~0xfffULL) != VLAPIC_BASE_ADDR)
		return -EINVAL; /* relocation: not supported */
	*newval = (val & ~VLAPIC_BASE_BSP) | (s->apic_base & VLAPIC_BASE_BSP);
	return 0;
}
