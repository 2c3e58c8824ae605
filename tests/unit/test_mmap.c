/*
 * Boot memory-map sanitizing: what the hypervisor believes is RAM after
 * mmap_sanitize(), from made-up edge cases and from the maps that real
 * firmware (OVMF, SeaBIOS) hands over.
 *
 * unit-sources: kernel/mmap.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/mmap.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- helpers -------------------------------------------------------------- */

#define U BOOT_MEM_USABLE
#define R BOOT_MEM_RESERVED
#define A BOOT_MEM_ACPI
#define N BOOT_MEM_NVS
#define X BOOT_MEM_UNUSABLE

#define R_(b, l, t) { (b), (l), (t), 0 }

static struct boot_mem_range map[BOOT_MMAP_MAX];

/* "[base-end) type, ..." for failure messages. */
static const char *show(const struct boot_mem_range *m, unsigned n)
{
	static char buf[2][4096];
	static int which;
	char *b = buf[which ^= 1];
	size_t len = 0;

	b[0] = 0;
	for (unsigned i = 0; i < n && len < sizeof(buf[0]) - 64; i++)
		len += snprintf(b + len, sizeof(buf[0]) - len, "%s[%#llx-%#llx) %s", i ? ", " : "",
				(unsigned long long)m[i].base,
				(unsigned long long)(m[i].base + m[i].len),
				mmap_type_name(m[i].type));
	return n ? b : "(empty)";
}

/* Copies `in` into map, sanitizes it with capacity BOOT_MMAP_MAX and checks
 * the result against `want` range by range. */
#define sanitize_expect(in, want)                                                    \
	do {                                                                         \
		unsigned ni_ = ARRAY_SIZE(in), nw_ = sizeof(want) / sizeof(want[0]); \
		memcpy(map, in, sizeof(in));                                         \
		unsigned n_ = mmap_sanitize(map, ni_, BOOT_MMAP_MAX);               \
		bool same_ = n_ == nw_;                                              \
		for (unsigned i_ = 0; same_ && i_ < n_; i_++)                        \
			same_ = map[i_].base == want[i_].base &&                     \
				map[i_].len == want[i_].len &&                       \
				map[i_].type == want[i_].type;                       \
		ck_assert_msg(same_, "sanitized map:\n  got  %s\n  want %s",          \
			      show(map, n_), show(want, nw_));                       \
	} while (0)

/* ---- tests ---------------------------------------------------------------- */

START_TEST(sorts_by_address)
{
	static const struct boot_mem_range in[] = {
		R_(0x200000, 0x100000, R),
		R_(0x0, 0x9f000, U),
		R_(0x100000, 0x100000, U),
	};
	static const struct boot_mem_range want[] = {
		R_(0x0, 0x9f000, U),
		R_(0x100000, 0x100000, U),
		R_(0x200000, 0x100000, R),
	};
	sanitize_expect(in, want);
}
END_TEST

START_TEST(merges_adjacent_same_type)
{
	/* EFI hands out one descriptor per allocation: many touching usable
	 * pieces, out of order; touching reserved pieces merge too. */
	static const struct boot_mem_range in[] = {
		R_(0x300000, 0x100000, U),
		R_(0x100000, 0x100000, U),
		R_(0x200000, 0x100000, U),
		R_(0xfee00000, 0x1000, R),
		R_(0xfee01000, 0xff000, R),
		R_(0x500000, 0x100000, U), /* a gap before it: stays apart */
	};
	static const struct boot_mem_range want[] = {
		R_(0x100000, 0x300000, U),
		R_(0x500000, 0x100000, U),
		R_(0xfee00000, 0x100000, R),
	};
	sanitize_expect(in, want);
}
END_TEST

START_TEST(reserved_overrides_usable)
{
	/* A reserved range covering the end of RAM, and one inside it. */
	static const struct boot_mem_range in[] = {
		R_(0x100000, 0x7ff00000, U),
		R_(0x7ff00000, 0x200000, R),
		R_(0x1000000, 0x1000, R),
	};
	static const struct boot_mem_range want[] = {
		R_(0x100000, 0xf00000, U),
		R_(0x1000000, 0x1000, R),
		R_(0x1001000, 0x7ff00000 - 0x1001000, U),
		R_(0x7ff00000, 0x200000, R),
	};
	sanitize_expect(in, want);
}
END_TEST

START_TEST(acpi_inside_usable_splits_it)
{
	static const struct boot_mem_range in[] = {
		R_(0x100000, 0x3ff00000, U),
		R_(0x3f000000, 0x20000, A),
	};
	static const struct boot_mem_range want[] = {
		R_(0x100000, 0x3f000000 - 0x100000, U),
		R_(0x3f000000, 0x20000, A),
		R_(0x3f020000, 0x40000000 - 0x3f020000, U),
	};
	sanitize_expect(in, want);
}
END_TEST

START_TEST(overlap_rank_order)
{
	/* Four ranges stacked over the same RAM: each step up the order
	 * usable < ACPI < NVS < unusable < reserved wins where it lies. */
	static const struct boot_mem_range in[] = {
		R_(0x0, 0x10000, U),
		R_(0x1000, 0xe000, A),
		R_(0x2000, 0xc000, N),
		R_(0x3000, 0xa000, X),
		R_(0x4000, 0x8000, R),
	};
	static const struct boot_mem_range want[] = {
		R_(0x0, 0x1000, U),
		R_(0x1000, 0x1000, A),
		R_(0x2000, 0x1000, N),
		R_(0x3000, 0x1000, X),
		R_(0x4000, 0x8000, R),
		R_(0xc000, 0x1000, X),
		R_(0xd000, 0x1000, N),
		R_(0xe000, 0x1000, A),
		R_(0xf000, 0x1000, U),
	};
	sanitize_expect(in, want);
}
END_TEST

START_TEST(usable_trimmed_to_whole_pages)
{
	static const struct boot_mem_range in[] = {
		R_(0x0, 0x9fc00, U),         /* SeaBIOS: ends below the EBDA */
		R_(0x9fc00, 0x400, R),
		R_(0x100800, 0x2000, U),     /* both ends unaligned */
		R_(0x200100, 0xe00, U),      /* no whole page inside: dropped */
		R_(0x300400, 0x200, R),      /* not usable: kept as it is */
	};
	static const struct boot_mem_range want[] = {
		R_(0x0, 0x9f000, U),
		R_(0x9fc00, 0x400, R),
		R_(0x101000, 0x1000, U),
		R_(0x300400, 0x200, R),
	};
	sanitize_expect(in, want);
}
END_TEST

START_TEST(empty_and_wrapping_dropped)
{
	/* Neither may punch a hole: the wrapping range's end (0x100000 after
	 * wrapping) must not make it cover the RAM below. */
	static const struct boot_mem_range in[] = {
		R_(0x0, 0x80000, U),
		R_(0x100000, 0x100000, U),
		R_(0x180000, 0, R),                         /* empty */
		R_(0xfffffffffff00000ULL, 0x200000, R),     /* wraps past 2^64 */
		R_(0x400000, 0, U),                         /* empty */
	};
	static const struct boot_mem_range want[] = {
		R_(0x0, 0x80000, U),
		R_(0x100000, 0x100000, U),
	};
	sanitize_expect(in, want);
}
END_TEST

START_TEST(unknown_types_become_reserved)
{
	/* 0, 7 (persistent memory), 12 (PRAM), 0xf0000001: all unknown. They
	 * beat usable where they overlap it and merge with type 2. */
	static const struct boot_mem_range in[] = {
		R_(0x0, 0x400000, U),
		R_(0x100000, 0x100000, 7),
		R_(0x200000, 0x1000, 0),
		R_(0x201000, 0x1000, R),
		R_(0x500000, 0x100000, 12),
		R_(0x600000, 0x1000, 0xf0000001u),
	};
	static const struct boot_mem_range want[] = {
		R_(0x0, 0x100000, U),
		R_(0x100000, 0x102000, R),
		R_(0x202000, 0x1fe000, U),
		R_(0x500000, 0x101000, R),
	};
	sanitize_expect(in, want);
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++)
		ck_assert_msg(map[i].pad == 0, "range %u: pad %#x, want 0", i, map[i].pad);
}
END_TEST

START_TEST(output_capped_at_max)
{
	/* Splitting can produce more ranges than came in; never more than max. */
	static const struct boot_mem_range in[] = {
		R_(0x0, 0x10000, U),
		R_(0x4000, 0x1000, R),
		R_(0x8000, 0x1000, R),
	};
	struct boot_mem_range buf[8];
	memcpy(buf, in, sizeof(in));
	memset(buf + 3, 0x5a, sizeof(buf) - sizeof(in));
	unsigned n = mmap_sanitize(buf, 3, 4);
	ck_assert_msg(n == 4, "%u ranges with max 4: %s", n, show(buf, n));
	ck_assert_msg(buf[2].base == 0x5000 && buf[2].len == 0x3000 && buf[2].type == U &&
			      buf[3].base == 0x8000 && buf[3].len == 0x1000 && buf[3].type == R,
		      "ranges 3-4 %s, want [0x5000-0x8000) usable, [0x8000-0x9000) reserved",
		      show(buf + 2, 2));
	ck_assert_msg(buf[4].base == 0x5a5a5a5a5a5a5a5aULL, "wrote past max: %s", show(buf + 4, 1));
}
END_TEST

/* OVMF (QEMU q35, 2 GiB) as the UEFI loader converts it: one range per EFI
 * descriptor (boot services code/data and loader memory count as usable),
 * in firmware order, which is not quite sorted. */
START_TEST(ovmf_map)
{
	static const struct boot_mem_range in[] = {
		R_(0x0, 0xa0000, U),
		R_(0x100000, 0x700000, U),
		R_(0x800000, 0x8000, N),
		R_(0x808000, 0x3000, U),
		R_(0x80b000, 0x1000, N),
		R_(0x80c000, 0x4000, U),
		R_(0x810000, 0xf0000, N),
		R_(0x900000, 0x7e5f4000, U), /* conventional memory */
		R_(0x7eef4000, 0x1000000, U), /* boot services data */
		R_(0x7fef4000, 0x84000, R),
		R_(0x7ff78000, 0x8000, A),   /* ACPI reclaim */
		R_(0x7ff80000, 0x80000, N),
		R_(0xb0000000, 0x10000000, R), /* MMCONFIG */
		R_(0xffc00000, 0x400000, R),   /* flash */
		R_(0x7ef00000, 0x10000, R),    /* a late runtime allocation */
	};
	static const struct boot_mem_range want[] = {
		R_(0x0, 0xa0000, U),
		R_(0x100000, 0x700000, U),
		R_(0x800000, 0x8000, N),
		R_(0x808000, 0x3000, U),
		R_(0x80b000, 0x1000, N),
		R_(0x80c000, 0x4000, U),
		R_(0x810000, 0xf0000, N),
		R_(0x900000, 0x7ef00000 - 0x900000, U),
		R_(0x7ef00000, 0x10000, R),
		R_(0x7ef10000, 0x7fef4000 - 0x7ef10000, U),
		R_(0x7fef4000, 0x84000, R),
		R_(0x7ff78000, 0x8000, A),
		R_(0x7ff80000, 0x80000, N),
		R_(0xb0000000, 0x10000000, R),
		R_(0xffc00000, 0x400000, R),
	};
	sanitize_expect(in, want);

	u64 usable = 0xa0000 + 0x700000 + 0x3000 + 0x4000 + (0x7ef00000 - 0x900000) +
		     (0x7fef4000 - 0x7ef10000);
	unsigned n = ARRAY_SIZE(want);
	ck_assert_msg(mmap_usable_bytes(map, n) == usable, "usable bytes %#llx, want %#llx",
		      (unsigned long long)mmap_usable_bytes(map, n), (unsigned long long)usable);
	ck_assert_msg(mmap_usable_top(map, n) == 0x7fef4000, "usable top %#llx, want 0x7fef4000",
		      (unsigned long long)mmap_usable_top(map, n));
}
END_TEST

/* SeaBIOS e820 on QEMU with 6 GiB: RAM split around the PCI hole, the top
 * part above 4 GiB. */
START_TEST(seabios_e820_map)
{
	static const struct boot_mem_range in[] = {
		R_(0x0, 0x9fc00, U),
		R_(0x9fc00, 0x400, R),
		R_(0xf0000, 0x10000, R),
		R_(0x100000, 0xbffe0000 - 0x100000, U),
		R_(0xbffe0000, 0x20000, R),
		R_(0xfeffc000, 0x4000, R),
		R_(0xfffc0000, 0x40000, R),
		R_(0x100000000ULL, 0x140000000ULL, U),
	};
	static const struct boot_mem_range want[] = {
		R_(0x0, 0x9f000, U),
		R_(0x9fc00, 0x400, R),
		R_(0xf0000, 0x10000, R),
		R_(0x100000, 0xbffe0000 - 0x100000, U),
		R_(0xbffe0000, 0x20000, R),
		R_(0xfeffc000, 0x4000, R),
		R_(0xfffc0000, 0x40000, R),
		R_(0x100000000ULL, 0x140000000ULL, U),
	};
	sanitize_expect(in, want);

	unsigned n = ARRAY_SIZE(want);
	u64 usable = 0x9f000 + (0xbffe0000 - 0x100000) + 0x140000000ULL;
	ck_assert_msg(mmap_usable_bytes(map, n) == usable, "usable bytes %#llx, want %#llx",
		      (unsigned long long)mmap_usable_bytes(map, n), (unsigned long long)usable);
	ck_assert_msg(mmap_usable_top(map, n) == 0x240000000ULL, "usable top %#llx, want 0x240000000",
		      (unsigned long long)mmap_usable_top(map, n));
}
END_TEST

START_TEST(no_usable_ram_top_zero)
{
	static const struct boot_mem_range in[] = {
		R_(0x0, 0x100000, R),
		R_(0x100000, 0x800, U), /* less than a page */
	};
	memcpy(map, in, sizeof(in));
	unsigned n = mmap_sanitize(map, ARRAY_SIZE(in), BOOT_MMAP_MAX);
	ck_assert_msg(mmap_usable_bytes(map, n) == 0 && mmap_usable_top(map, n) == 0,
		      "map %s: usable bytes %#llx top %#llx, want 0 and 0", show(map, n),
		      (unsigned long long)mmap_usable_bytes(map, n),
		      (unsigned long long)mmap_usable_top(map, n));
	ck_assert_str_eq(mmap_type_name(BOOT_MEM_NVS), "NVS");
	ck_assert_str_eq(mmap_type_name(99), "reserved");
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "mmap-sorts-by-address", &sorts_by_address_ttest },
	{ "mmap-merges-adjacent-same-type", &merges_adjacent_same_type_ttest },
	{ "mmap-reserved-overrides-usable", &reserved_overrides_usable_ttest },
	{ "mmap-acpi-inside-usable-splits-it", &acpi_inside_usable_splits_it_ttest },
	{ "mmap-overlap-rank-order", &overlap_rank_order_ttest },
	{ "mmap-usable-trimmed-to-whole-pages", &usable_trimmed_to_whole_pages_ttest },
	{ "mmap-empty-and-wrapping-dropped", &empty_and_wrapping_dropped_ttest },
	{ "mmap-unknown-types-become-reserved", &unknown_types_become_reserved_ttest },
	{ "mmap-output-capped-at-max", &output_capped_at_max_ttest },
	{ "mmap-ovmf-map", &ovmf_map_ttest },
	{ "mmap-seabios-e820-map", &seabios_e820_map_ttest },
	{ "mmap-no-usable-ram-top-zero", &no_usable_ram_top_zero_ttest },
	{ 0 },
};
