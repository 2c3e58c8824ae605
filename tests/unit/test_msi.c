/*
 * MSI message composition and the MSI vector allocator
 * (include/keel/msi.h, used by kernel/pirq.c's MAP_PIRQ_TYPE_MSI).
 *
 * unit-sources:
 */
#include <keel/msi.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

START_TEST(msi_message_composition)
{
	/* Physical destination, RH = DM = 0: 0xFEE00000 | APIC ID << 12. */
	ck_assert_uint_eq(msi_compose_addr(0), 0xfee00000u);
	ck_assert_uint_eq(msi_compose_addr(1), 0xfee01000u);
	ck_assert_uint_eq(msi_compose_addr(0xff), 0xfeeff000u);
	ck_assert_uint_eq(msi_compose_addr(0x1ff), 0xfeeff000u); /* 8-bit xAPIC ID */
	/* Data: the vector, fixed delivery (bits 8-10 = 0), edge (bit 15 = 0). */
	ck_assert_uint_eq(msi_compose_data(0xb0), 0x00b0);
	ck_assert_uint_eq(msi_compose_data(0xef) & 0xff00, 0);
}
END_TEST

START_TEST(msi_vector_allocation)
{
	u64 used = 0;
	/* Lowest free slot first, every slot once, then exhausted. */
	for (int s = 0; s < NR_MSI_VECTORS; s++)
		ck_assert_int_eq(msi_vector_alloc(&used), s);
	ck_assert_int_eq(msi_vector_alloc(&used), -1);
	/* A freed slot is reused; freeing out-of-range slots changes nothing. */
	msi_vector_free(&used, 5);
	msi_vector_free(&used, -1);
	msi_vector_free(&used, NR_MSI_VECTORS);
	ck_assert_int_eq(msi_vector_alloc(&used), 5);
	ck_assert_int_eq(msi_vector_alloc(&used), -1);
	/* The range sits between the GSI vectors (0x30 + 128) and the LAPIC
	 * timer (0xf0). */
	ck_assert_uint_ge(MSI_VECTOR_BASE, 0x30 + 128);
	ck_assert_uint_le(MSI_VECTOR_BASE + NR_MSI_VECTORS, 0xf0);
}
END_TEST

START_TEST(msi_capability_layout)
{
	unsigned lo, hi, data;
	msi_cap_layout(0x0000, &lo, &hi, &data); /* 32-bit */
	ck_assert_uint_eq(lo, 4);
	ck_assert_uint_eq(hi, 0);
	ck_assert_uint_eq(data, 8);
	msi_cap_layout(0x0180, &lo, &hi, &data); /* 64-bit, per-vector masking */
	ck_assert_uint_eq(lo, 4);
	ck_assert_uint_eq(hi, 8);
	ck_assert_uint_eq(data, 12);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "msi-message-composition", &msi_message_composition_ttest },
	{ "msi-vector-allocation", &msi_vector_allocation_ttest },
	{ "msi-capability-layout", &msi_capability_layout_ttest },
	{ 0 },
};
