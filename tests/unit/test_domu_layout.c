/*
 * A domU's E820 map (kernel/domu_layout.c): RAM below 1 MiB kept (Linux's
 * real-mode trampoline), the ACPI page and the legacy hole reserved, the
 * launcher's two special pages past the RAM reserved, entries sorted and
 * not overlapping, and a too-small output refused.
 *
 * unit-sources: kernel/domu_layout.c
 */
#include <lib/errno.h>
#include <keel/domu_layout.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

#define MIB (1ULL << 20)

static void check_sorted(const struct boot_mem_range *e, int n)
{
	for (int i = 1; i < n; i++)
		ck_assert_uint_le(e[i - 1].base + e[i - 1].len, e[i].base);
}

START_TEST(domu_layout_linux_sized_domain)
{
	struct mem_range ram[] = { { .gpa = 0, .len = 256 * MIB } };
	struct boot_mem_range e[8];
	ck_assert(domu_layout_has_acpi(ram, 1));
	int n = domu_layout_memmap(ram, 1, true, e, 8);
	ck_assert_int_eq(n, 5);
	check_sorted(e, n);
	ck_assert_uint_eq(e[0].base, 0);
	ck_assert_uint_eq(e[0].len, 0x9f000);
	ck_assert_uint_eq(e[0].type, BOOT_MEM_USABLE);
	ck_assert_uint_eq(e[1].base, 0x9f000);
	ck_assert_uint_eq(e[1].len, 0x1000);
	ck_assert_uint_eq(e[1].type, BOOT_MEM_RESERVED);
	ck_assert_uint_eq(e[2].base, 0xa0000);
	ck_assert_uint_eq(e[2].len, 0x60000);
	ck_assert_uint_eq(e[2].type, BOOT_MEM_RESERVED);
	ck_assert_uint_eq(e[3].base, MIB);
	ck_assert_uint_eq(e[3].len, 255 * MIB);
	ck_assert_uint_eq(e[3].type, BOOT_MEM_USABLE);
	ck_assert_uint_eq(e[4].base, 256 * MIB); /* console + store pages */
	ck_assert_uint_eq(e[4].len, 2 * 4096);
	ck_assert_uint_eq(e[4].type, BOOT_MEM_RESERVED);
}
END_TEST

START_TEST(domu_layout_split_ram_and_no_acpi)
{
	/* Two pieces, the window falling in the gap between them. */
	struct mem_range ram[] = { { .gpa = 0, .len = 0x80000 },
				   { .gpa = 2 * MIB, .len = 6 * MIB } };
	struct boot_mem_range e[8];
	ck_assert(!domu_layout_has_acpi(ram, 2));
	int n = domu_layout_memmap(ram, 2, false, e, 8);
	ck_assert_int_eq(n, 4);
	check_sorted(e, n);
	ck_assert_uint_eq(e[0].len, 0x80000);
	ck_assert_uint_eq(e[1].base, 0xa0000);
	ck_assert_uint_eq(e[1].type, BOOT_MEM_RESERVED);
	ck_assert_uint_eq(e[2].base, 2 * MIB);
	ck_assert_uint_eq(e[2].type, BOOT_MEM_USABLE);
	ck_assert_uint_eq(e[3].base, 8 * MIB);
	ck_assert_uint_eq(e[3].type, BOOT_MEM_RESERVED);
}
END_TEST

START_TEST(domu_layout_tiny_domain_below_window)
{
	struct mem_range ram[] = { { .gpa = 0, .len = 0x40000 } };
	struct boot_mem_range e[8];
	int n = domu_layout_memmap(ram, 1, false, e, 8);
	ck_assert_int_eq(n, 3);
	check_sorted(e, n);
	ck_assert_uint_eq(e[0].type, BOOT_MEM_USABLE);
	ck_assert_uint_eq(e[1].base, 0x40000); /* special pages */
	ck_assert_uint_eq(e[2].base, 0xa0000);
}
END_TEST

START_TEST(domu_layout_output_too_small)
{
	struct mem_range ram[] = { { .gpa = 0, .len = 64 * MIB } };
	struct boot_mem_range e[8];
	ck_assert_int_eq(domu_layout_memmap(ram, 1, true, e, 4), -E2BIG);
	ck_assert_int_eq(domu_layout_memmap(ram, 1, true, e, 5), 5);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "domu-layout-linux-sized-domain", &domu_layout_linux_sized_domain_ttest },
	{ "domu-layout-split-ram-and-no-acpi", &domu_layout_split_ram_and_no_acpi_ttest },
	{ "domu-layout-tiny-domain-below-window", &domu_layout_tiny_domain_below_window_ttest },
	{ "domu-layout-output-too-small", &domu_layout_output_too_small_ttest },
	{ 0 },
};
