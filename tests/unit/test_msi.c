/*
 * MSI message composition and the MSI vector allocator
 * (include/keel/msi.h, used by kernel/pirq.c's MAP_PIRQ_TYPE_MSI), and
 * MSI-X table layout, entry composition and the filter of dom0's writes
 * to a trapped table (kernel/msix.c).
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

START_TEST(msix_table_layout_from_cap)
{
	unsigned bir, nr;
	u32 off;
	/* QEMU's NVMe: 64 entries in BAR0 at 0x2000; virtio: BAR1 at 0. */
	msix_table_layout(0x003f, 0x00002000, &bir, &off, &nr);
	ck_assert_uint_eq(bir, 0);
	ck_assert_uint_eq(off, 0x2000);
	ck_assert_uint_eq(nr, 64);
	/* Enable and function-mask bits are not part of the size. */
	msix_table_layout(0xc002, 0x00000001, &bir, &off, &nr);
	ck_assert_uint_eq(bir, 1);
	ck_assert_uint_eq(off, 0);
	ck_assert_uint_eq(nr, 3);
	msix_table_layout(0x07ff, 0x12345675, &bir, &off, &nr);
	ck_assert_uint_eq(bir, 5);
	ck_assert_uint_eq(off, 0x12345670);
	ck_assert_uint_eq(nr, 2048);
}
END_TEST

START_TEST(msix_entry_composition)
{
	u32 e[4] = { 1, 2, 3, 4 };
	msix_compose_entry(0, 0xb3, e);
	ck_assert_uint_eq(e[0], 0xfee00000u); /* address: physical, APIC 0 */
	ck_assert_uint_eq(e[1], 0);           /* upper address */
	ck_assert_uint_eq(e[2], 0xb3);        /* data: vector, fixed, edge */
	ck_assert_uint_eq(e[3], 0);           /* vector control: unmasked */
	msix_compose_entry(2, 0xef, e);
	ck_assert_uint_eq(e[0], 0xfee02000u);
	ck_assert_uint_eq(e[2], 0xef);
}
END_TEST

START_TEST(msix_write_filter)
{
	const u64 t = 0xe000002000ULL; /* 4 entries: 0x40 bytes */
	/* Address, upper address and data of every entry: dropped. */
	for (unsigned e = 0; e < 4; e++) {
		ck_assert_uint_eq(msix_write_pass_mask(t + 16 * e + 0, 4, t, 4), 0);
		ck_assert_uint_eq(msix_write_pass_mask(t + 16 * e + 4, 4, t, 4), 0);
		ck_assert_uint_eq(msix_write_pass_mask(t + 16 * e + 8, 4, t, 4), 0);
		ck_assert_uint_eq(msix_write_pass_mask(t + 16 * e + 0, 8, t, 4), 0);
		ck_assert_uint_eq(msix_write_pass_mask(t + 16 * e + 9, 1, t, 4), 0);
		/* Vector control (the mask bit): passed. */
		ck_assert_uint_eq(msix_write_pass_mask(t + 16 * e + 12, 4, t, 4), 0xf);
		ck_assert_uint_eq(msix_write_pass_mask(t + 16 * e + 12, 1, t, 4), 0x1);
		/* A qword over data and vector control: only the latter. */
		ck_assert_uint_eq(msix_write_pass_mask(t + 16 * e + 8, 8, t, 4), 0xf0);
	}
	/* Outside the table (the PBA after it, registers before it): passed. */
	ck_assert_uint_eq(msix_write_pass_mask(t + 0x40, 8, t, 4), 0xff);
	ck_assert_uint_eq(msix_write_pass_mask(t + 0x800, 4, t, 4), 0xf);
	ck_assert_uint_eq(msix_write_pass_mask(t - 4, 4, t, 4), 0xf);
	ck_assert_uint_eq(msix_write_pass_mask(t - 8, 8, t, 4), 0xff);
	/* A qword straddling the table's start: the bytes before it only. */
	ck_assert_uint_eq(msix_write_pass_mask(t - 4, 8, t, 4), 0x0f);
	/* The last entry's vector control and the byte after the table. */
	ck_assert_uint_eq(msix_write_pass_mask(t + 0x3c, 8, t, 4), 0xff);
	ck_assert_uint_eq(msix_write_pass_mask(t + 0x38, 8, t, 4), 0xf0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "msi-message-composition", &msi_message_composition_ttest },
	{ "msi-vector-allocation", &msi_vector_allocation_ttest },
	{ "msi-capability-layout", &msi_capability_layout_ttest },
	{ "msix-table-layout", &msix_table_layout_from_cap_ttest },
	{ "msix-entry-composition", &msix_entry_composition_ttest },
	{ "msix-write-filter", &msix_write_filter_ttest },
	{ 0 },
};
