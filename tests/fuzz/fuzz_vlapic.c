/*
 * The virtual local APIC's pure rules (arch/x86/vlapic_regs.c): a
 * guest's register reads and writes in xAPIC and x2APIC mode, any offset
 * and value, IA32_APIC_BASE writes, vectors raised, taken and EOI'd, and
 * the clock moving the timer on.
 *
 * unit-sources: arch/x86/vlapic_regs.c
 *
 * Invariants after every operation: a refused x2APIC write (-EINVAL, the
 * guest's #GP) changed nothing; IA32_APIC_BASE never holds EXTD without
 * EN nor a base other than 0xfee00000, and BSP never changes; while
 * software-disabled every LVT is masked; ICR never reads "send pending";
 * TPR fits 8 bits, TDCR its 4 defined bits; PPR is at least the TPR's
 * class and the highest in-service class; a deliverable vector is in IRR
 * and above PPR's class; taking it moves it from IRR to ISR; the timer's
 * current count never exceeds its initial count, and an armed deadline
 * after an expiry lies in the future.
 */
#include <lib/errno.h>
#include <asm/vlapic.h>

#include "fuzz.h"

static void check(const struct vlapic *s, u64 now, u64 bsp)
{
	fuzz_check(!(s->apic_base & VLAPIC_BASE_EXTD) || (s->apic_base & VLAPIC_BASE_EN),
		   "base 0x%llx", (unsigned long long)s->apic_base);
	fuzz_check((s->apic_base & ~0xfffULL) == VLAPIC_BASE_ADDR, "base 0x%llx",
		   (unsigned long long)s->apic_base);
	fuzz_check((s->apic_base & VLAPIC_BASE_BSP) == bsp, "BSP changed");
	if (!(s->svr & VLAPIC_SVR_ENABLE))
		for (unsigned i = 0; i < VLAPIC_LVT_NR; i++)
			fuzz_check(s->lvt[i] & VLAPIC_LVT_MASKED, "LVT %u unmasked while disabled", i);
	fuzz_check(!(s->icr & (1u << 12)), "ICR send pending");
	fuzz_check(!(s->tdcr & ~0xbu), "TDCR 0x%x", s->tdcr);
	u8 ppr = vlapic_ppr(s);
	int isrv = vlapic_highest(s->isr);
	fuzz_check((ppr & 0xf0) >= (s->tpr & 0xf0), "PPR 0x%x below TPR 0x%x", ppr, s->tpr);
	fuzz_check(isrv < 0 || (ppr & 0xf0) >= (isrv & 0xf0), "PPR 0x%x below ISR 0x%x", ppr, isrv);
	int v = vlapic_pending_vector(s);
	if (v >= 0) {
		fuzz_check(s->irr[v >> 5] & (1u << (v & 31)), "pending 0x%x not in IRR", v);
		fuzz_check((v & 0xf0) > (ppr & 0xf0), "pending 0x%x not above PPR 0x%x", v, ppr);
	}
	if (vlapic_timer_mode(s) != VLAPIC_TIMER_TSC_DEADLINE)
		fuzz_check(vlapic_timer_current(s, now) <= s->tmict, "count %u above initial %u",
			   vlapic_timer_current(s, now), s->tmict);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct vlapic s, before;
	u32 vcpu = fuzz_u8(&in) & 3;
	u64 now = 1000, v;
	unsigned fx;

	vlapic_reset(&s, vcpu);
	const u64 bsp = s.apic_base & VLAPIC_BASE_BSP;
	while (fuzz_more(&in)) {
		u8 op = fuzz_u8(&in);
		bool x2 = vlapic_x2apic_mode(&s);
		unsigned off = (fuzz_u8(&in) & 0x3f) << 4;

		switch (op % 8) {
		case 0: /* read */
			if (!vlapic_reg_read(&s, off, x2, now, &v) && !(x2 && off == VLAPIC_ICR))
				fuzz_check(v <= 0xffffffffULL, "register 0x%x read 0x%llx", off,
					   (unsigned long long)v);
			break;
		case 1: /* write */
			v = fuzz_u64(&in);
			before = s;
			if (vlapic_reg_write(&s, off, x2, x2 ? v : (u32)v, now, &fx) == -EINVAL)
				fuzz_check(!memcmp(&before, &s, sizeof(s)),
					   "refused write of 0x%x changed the state", off);
			break;
		case 2: { /* IA32_APIC_BASE */
			u64 nv;
			v = fuzz_u64(&in);
			if ((op & 0x80))
				v = (v & 0xc00) | VLAPIC_BASE_ADDR; /* a plausible one */
			if (!vlapic_base_check(&s, v, 39, &nv)) {
				bool was_x2 = x2;
				if (!(nv & VLAPIC_BASE_EN))
					vlapic_reset(&s, vcpu);
				else if ((nv & VLAPIC_BASE_EXTD) && !was_x2)
					s.ldr = ((s.id >> 4) << 16) | (1u << (s.id & 0xf));
				s.apic_base = nv;
			}
			break;
		}
		case 3: /* a vector raised (IPI, timer, self) */
			vlapic_set_irr(&s, fuzz_u8(&in), op & 0x80);
			break;
		case 4: { /* the vCPU takes the deliverable vector */
			int p = vlapic_pending_vector(&s);
			if (p >= 0) {
				vlapic_accept(&s, (u8)p);
				fuzz_check(s.isr[p >> 5] & (1u << (p & 31)), "0x%x not in ISR", p);
				fuzz_check(!(s.irr[p >> 5] & (1u << (p & 31))), "0x%x still in IRR", p);
			}
			break;
		}
		case 5: /* CR8 written by the guest */
			s.tpr = (u8)((fuzz_u8(&in) & 0xf) << 4);
			break;
		default: /* time passes; the timer fires if due */
			now += fuzz_u32(&in);
			if (s.timer_deadline && s.timer_deadline <= now) {
				vlapic_timer_expire(&s, now);
				fuzz_check(!s.timer_deadline || s.timer_deadline > now,
					   "re-armed in the past");
			}
			break;
		}
		check(&s, now, bsp);
	}
	return 0;
}
