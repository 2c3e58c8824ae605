/*
 * Per-vCPU MTRRs (kernel/mtrr.c): the PVH reset state (enabled, default
 * WB, 8 variable ranges, fixed ranges and WC advertised), values kept as
 * written, and the SDM's #GP cases refused without changing anything:
 * MTRRcap written, reserved type encodings, reserved bits in DEF_TYPE,
 * address bits above MAXPHYADDR, the low reserved bits of PHYSMASK.
 *
 * unit-sources: kernel/mtrr.c
 */
#include <lib/errno.h>
#include <keel/mtrr.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

START_TEST(mtrr_reset_state_pvh)
{
	struct vcpu_mtrr m;
	u64 v;
	mtrr_init(&m);
	ck_assert_int_eq(mtrr_read(&m, MSR_MTRRCAP, &v), 0);
	ck_assert_uint_eq(v & 0xff, 8);
	ck_assert(v & (1u << 8));
	ck_assert(v & (1u << 10));
	ck_assert_int_eq(mtrr_read(&m, MSR_MTRR_DEF_TYPE, &v), 0);
	ck_assert_uint_eq(v, 0x806);
	for (u32 msr = 0x200; msr < 0x210; msr++) {
		ck_assert(mtrr_is_msr(msr));
		ck_assert_int_eq(mtrr_read(&m, msr, &v), 0);
		ck_assert_uint_eq(v, 0);
	}
	ck_assert(!mtrr_is_msr(0x210));
	ck_assert(!mtrr_is_msr(0x257));
	ck_assert(!mtrr_is_msr(0x270));
	ck_assert_int_eq(mtrr_read(&m, 0x270, &v), -ENOENT);
}
END_TEST

START_TEST(mtrr_values_kept_per_register)
{
	struct vcpu_mtrr m;
	u64 v;
	mtrr_init(&m);
	ck_assert_int_eq(mtrr_write(&m, 0x200 + 2 * 3, 0x80000000ULL | 0, 40), 0);      /* UC */
	ck_assert_int_eq(mtrr_write(&m, 0x201 + 2 * 3, 0xff80000000ULL | 0x800, 40), 0); /* 2 GiB, valid */
	ck_assert_int_eq(mtrr_write(&m, 0x259, 0x0101010101010101ULL, 40), 0);
	ck_assert_int_eq(mtrr_write(&m, 0x26f, 0x0606060605050404ULL, 40), 0);
	ck_assert_int_eq(mtrr_write(&m, MSR_MTRR_DEF_TYPE, 0xc00, 40), 0);
	ck_assert_int_eq(mtrr_read(&m, 0x206, &v), 0);
	ck_assert_uint_eq(v, 0x80000000ULL);
	ck_assert_int_eq(mtrr_read(&m, 0x207, &v), 0);
	ck_assert_uint_eq(v, 0xff80000800ULL);
	ck_assert_int_eq(mtrr_read(&m, 0x259, &v), 0);
	ck_assert_uint_eq(v, 0x0101010101010101ULL);
	ck_assert_int_eq(mtrr_read(&m, 0x26f, &v), 0);
	ck_assert_uint_eq(v, 0x0606060605050404ULL);
	ck_assert_int_eq(mtrr_read(&m, 0x258, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(mtrr_read(&m, MSR_MTRR_DEF_TYPE, &v), 0);
	ck_assert_uint_eq(v, 0xc00);
}
END_TEST

START_TEST(mtrr_reserved_bits_refused)
{
	struct vcpu_mtrr m;
	u64 v;
	mtrr_init(&m);
	ck_assert_int_eq(mtrr_write(&m, MSR_MTRRCAP, 0x508, 40), -EINVAL);
	ck_assert_int_eq(mtrr_write(&m, MSR_MTRR_DEF_TYPE, 0x802, 40), -EINVAL); /* type 2 */
	ck_assert_int_eq(mtrr_write(&m, MSR_MTRR_DEF_TYPE, 0x807, 40), -EINVAL); /* type 7 */
	ck_assert_int_eq(mtrr_write(&m, MSR_MTRR_DEF_TYPE, 0x1806, 40), -EINVAL); /* bit 12 */
	ck_assert_int_eq(mtrr_write(&m, 0x200, (1ULL << 40) | 6, 40), -EINVAL);  /* above MAXPHYADDR */
	ck_assert_int_eq(mtrr_write(&m, 0x200, 0x100 | 6, 40), -EINVAL);         /* bits 11:8 */
	ck_assert_int_eq(mtrr_write(&m, 0x200, 3, 40), -EINVAL);                 /* type 3 */
	ck_assert_int_eq(mtrr_write(&m, 0x201, 0x800 | 0x400, 40), -EINVAL);     /* bits 10:0 */
	ck_assert_int_eq(mtrr_write(&m, 0x201, (1ULL << 45) | 0x800, 40), -EINVAL);
	ck_assert_int_eq(mtrr_write(&m, 0x250, 0x0006060606060606ULL | (2ULL << 56), 40), -EINVAL);
	ck_assert_int_eq(mtrr_write(&m, 0x300, 0, 40), -ENOENT);
	/* Nothing changed. */
	ck_assert_int_eq(mtrr_read(&m, MSR_MTRR_DEF_TYPE, &v), 0);
	ck_assert_uint_eq(v, 0x806);
	ck_assert_int_eq(mtrr_read(&m, 0x200, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(mtrr_read(&m, 0x250, &v), 0);
	ck_assert_uint_eq(v, 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "mtrr-reset-state-pvh", &mtrr_reset_state_pvh_ttest },
	{ "mtrr-values-kept-per-register", &mtrr_values_kept_per_register_ttest },
	{ "mtrr-reserved-bits-refused", &mtrr_reserved_bits_refused_ttest },
	{ 0 },
};
