/*
 * MTRR MSRs per vCPU (contract in include/keel/mtrr.h). Pure state and
 * the SDM's validity rules (vol. 3A 12.11.2.1-12.11.2.3, 12.11.3), unit
 * tested on the host (tests/unit/test_mtrr.c).
 */
#include <keel/mtrr.h>
#include <lib/errno.h>
#include <lib/string.h>

#define DEF_TYPE_FE (1u << 10)
#define DEF_TYPE_E (1u << 11)
#define DEF_TYPE_VALID (0xffu | DEF_TYPE_FE | DEF_TYPE_E)
#define PHYSMASK_VALID (1u << 11)

void mtrr_init(struct vcpu_mtrr *m)
{
	memset(m, 0, sizeof(*m));
	m->def_type = MTRR_DEF_TYPE_PVH;
}

/* UC, WC, WT, WP, WB; 2, 3 and 7+ are reserved encodings (table 12-8). */
static bool type_ok(u8 t)
{
	return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

/* Index into vcpu_mtrr.fixed, or -1. */
static int fixed_index(u32 msr)
{
	if (msr == MSR_MTRR_FIX64K_00000)
		return 0;
	if (msr == MSR_MTRR_FIX16K_80000)
		return 1;
	if (msr == MSR_MTRR_FIX16K_A0000)
		return 2;
	if (msr >= MSR_MTRR_FIX4K_C0000 && msr <= MSR_MTRR_FIX4K_C0000 + 7)
		return 3 + (int)(msr - MSR_MTRR_FIX4K_C0000);
	return -1;
}

static bool is_var(u32 msr)
{
	return msr >= MSR_MTRR_PHYSBASE0 && msr < MSR_MTRR_PHYSBASE0 + 2 * MTRR_VAR_RANGES;
}

bool mtrr_is_msr(u32 msr)
{
	return msr == MSR_MTRRCAP || msr == MSR_MTRR_DEF_TYPE || fixed_index(msr) >= 0 ||
	       is_var(msr);
}

int mtrr_read(const struct vcpu_mtrr *m, u32 msr, u64 *val)
{
	int f = fixed_index(msr);

	if (msr == MSR_MTRRCAP)
		*val = MTRR_CAP_VALUE;
	else if (msr == MSR_MTRR_DEF_TYPE)
		*val = m->def_type;
	else if (f >= 0)
		*val = m->fixed[f];
	else if (is_var(msr))
		*val = (msr & 1) ? m->mask[(msr - MSR_MTRR_PHYSBASE0) / 2]
				 : m->base[(msr - MSR_MTRR_PHYSBASE0) / 2];
	else
		return -ENOENT;
	return 0;
}

int mtrr_write(struct vcpu_mtrr *m, u32 msr, u64 val, unsigned phys_bits)
{
	/* Bits 12 .. phys_bits-1 hold the address in PHYSBASE/PHYSMASK;
	 * above MAXPHYADDR they are reserved (12.11.2.3). */
	u64 addr_bits = (phys_bits >= 64 ? ~0ULL : (1ULL << phys_bits) - 1) & ~0xfffULL;
	int f = fixed_index(msr);

	if (msr == MSR_MTRRCAP)
		return -EINVAL; /* read-only */
	if (msr == MSR_MTRR_DEF_TYPE) {
		if ((val & ~(u64)DEF_TYPE_VALID) || !type_ok(val & 0xff))
			return -EINVAL;
		m->def_type = val;
		return 0;
	}
	if (f >= 0) {
		/* Eight one-byte type fields, each checked. */
		for (int i = 0; i < 8; i++)
			if (!type_ok((val >> (8 * i)) & 0xff))
				return -EINVAL;
		m->fixed[f] = val;
		return 0;
	}
	if (!is_var(msr))
		return -ENOENT;
	unsigned n = (msr - MSR_MTRR_PHYSBASE0) / 2;
	if (msr & 1) {
		if (val & ~(addr_bits | PHYSMASK_VALID))
			return -EINVAL;
		m->mask[n] = val;
	} else {
		if ((val & ~(addr_bits | 0xff)) || !type_ok(val & 0xff))
			return -EINVAL;
		m->base[n] = val;
	}
	return 0;
}
