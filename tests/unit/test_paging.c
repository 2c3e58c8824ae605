/*
 * The shared page-table walker and the x86-64 entry format.
 *
 * unit-sources: arch/x86/paging.c
 *
 * Tables come from the C heap; a table's "physical address" is its pointer.
 * Every live table is tracked, so tests can count them and catch leaks and
 * double frees. Mapped "physical" addresses are never dereferenced.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <asm/paging.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment ---------------------------------------------------------- */

#define MAX_TABLES 4096
static void *live[MAX_TABLES];
static unsigned nr_live;
static int allocs_left = -1; /* >= 0: fail once this many more succeeded */

paddr_t pt_alloc_table(void)
{
	if (allocs_left == 0)
		return 0;
	if (allocs_left > 0)
		allocs_left--;
	void *p = aligned_alloc(4096, 4096);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 4096);
	ck_assert_uint_lt(nr_live, MAX_TABLES);
	live[nr_live++] = p;
	return (paddr_t)(uintptr_t)p;
}

void pt_free_table(paddr_t pa)
{
	void *p = (void *)(uintptr_t)pa;
	for (unsigned i = 0; i < nr_live; i++) {
		if (live[i] == p) {
			live[i] = live[--nr_live];
			free(p);
			return;
		}
	}
	ck_abort_msg("pt_free_table(%#llx): not a live table (double free?)",
		     (unsigned long long)pa);
}

void *pt_table_ptr(paddr_t pa)
{
	return (void *)(uintptr_t)pa;
}

/* ---- helpers -------------------------------------------------------------- */

/* Raw x86 bits, spelled out from Intel SDM vol. 3 4.5 independently of
 * paging.c. */
#define P (1ULL << 0)
#define RW (1ULL << 1)
#define US (1ULL << 2)
#define PWT (1ULL << 3)
#define PCD (1ULL << 4)
#define PS (1ULL << 7)
#define NX (1ULL << 63)
#define ADDR 0x000ffffffffff000ULL

#define KB4 0x1000ULL
#define MB2 0x200000ULL
#define GB1 0x40000000ULL

static struct pt pt;

static void setup(const struct pt_format *fmt, unsigned max_leaf)
{
	nr_live = 0;
	allocs_left = -1;
	ck_assert_int_eq(pt_init(&pt, fmt, max_leaf), 0);
	ck_assert_uint_eq(nr_live, 1);
}

/* The raw entry at `level` on the way to va (0 if the walk stops above). */
static u64 raw_entry(u64 va, unsigned level)
{
	u64 *t = (u64 *)(uintptr_t)pt.root;
	for (unsigned l = 4; l >= 1; l--) {
		u64 e = t[(va >> (12 + 9 * (l - 1))) & 511];
		if (l == level)
			return e;
		if (!(e & P) || (l <= 3 && l > 1 && (e & PS)))
			return 0;
		t = (u64 *)(uintptr_t)(e & ADDR);
	}
	return 0;
}

/* Asserts va -> want_pa with `want_perms` at leaf level `want_level`. */
#define expect_map(va, want_pa, want_perms, want_level)                          \
	do {                                                                     \
		paddr_t pa_ = 0;                                                 \
		unsigned perms_ = 0, level_ = 0;                                 \
		int rc_ = pt_lookup(&pt, (va), &pa_, &perms_, &level_);          \
		ck_assert_msg(rc_ == 0, "lookup %#llx: rc %d, want mapped",     \
			      (unsigned long long)(va), rc_);                    \
		ck_assert_msg(pa_ == (want_pa) && perms_ == (want_perms) &&      \
				      level_ == (want_level),                    \
			      "lookup %#llx: pa %#llx perms %#x level %u; want " \
			      "pa %#llx perms %#x level %u",                     \
			      (unsigned long long)(va), (unsigned long long)pa_, \
			      perms_, level_, (unsigned long long)(want_pa),     \
			      (unsigned)(want_perms), (unsigned)(want_level));   \
	} while (0)

#define expect_unmapped(va)                                                      \
	do {                                                                     \
		paddr_t pa_ = 0;                                                 \
		int rc_ = pt_lookup(&pt, (va), &pa_, NULL, NULL);                \
		ck_assert_msg(rc_ == -ENOENT, "lookup %#llx: rc %d pa %#llx, "  \
			      "want -ENOENT", (unsigned long long)(va), rc_,     \
			      (unsigned long long)pa_);                          \
	} while (0)

#define expect_tables(n)                                                         \
	ck_assert_msg(nr_live == (n), "%u live tables, want %u", nr_live,        \
		      (unsigned)(n))

static void teardown(void)
{
	pt_destroy(&pt);
	ck_assert_msg(pt.root == 0, "root not cleared by pt_destroy");
	expect_tables(0);
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(map_4k)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x5000, KB4, PT_R | PT_W, MT_WB), 0);
	expect_map(0x1000, 0x5000, PT_R | PT_W, 1);
	expect_map(0x1abc, 0x5abc, PT_R | PT_W, 1);
	expect_unmapped(0x0);
	expect_unmapped(0x2000);
	expect_tables(4); /* PML4, PDPT, PD, PT */
	teardown();
}
END_TEST

START_TEST(map_uses_2m_pages)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 0x40000000 + 2 * MB2, 6 * MB2, 2 * MB2,
				PT_RWX, MT_WB), 0);
	expect_map(0x40000000 + 2 * MB2, 6 * MB2, PT_RWX, 2);
	expect_map(0x40000000 + 3 * MB2 + 0x1234, 7 * MB2 + 0x1234, PT_RWX, 2);
	expect_tables(3); /* no level-1 table */

	/* pa only 4 KiB aligned: no 2 MiB leaf is possible. */
	ck_assert_int_eq(pt_map(&pt, 8 * MB2, 0x7000, MB2, PT_R, MT_WB), 0);
	expect_map(8 * MB2, 0x7000, PT_R, 1);
	expect_map(9 * MB2 - KB4, 0x7000 + MB2 - KB4, PT_R, 1);
	teardown();
}
END_TEST

START_TEST(map_mixes_page_sizes)
{
	setup(&x86_pt_format, 3);
	/* 4 KiB before a 2 MiB boundary, one whole 2 MiB page, 4 KiB after. */
	ck_assert_int_eq(pt_map(&pt, MB2 - KB4, 0x10000000 - KB4, MB2 + 2 * KB4,
				PT_R | PT_W, MT_WB), 0);
	expect_map(MB2 - KB4, 0x10000000 - KB4, PT_R | PT_W, 1);
	expect_map(MB2, 0x10000000, PT_R | PT_W, 2);
	expect_map(2 * MB2, 0x10000000 + MB2, PT_R | PT_W, 1);
	expect_unmapped(2 * MB2 + KB4);
	expect_unmapped(MB2 - 2 * KB4);
	teardown();
}
END_TEST

START_TEST(map_uses_1g_pages)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, GB1, 3 * GB1, 2 * GB1, PT_RWX, MT_WB), 0);
	expect_map(GB1, 3 * GB1, PT_RWX, 3);
	expect_map(2 * GB1 + 0x12345, 4 * GB1 + 0x12345, PT_RWX, 3);
	expect_tables(2); /* PML4 and PDPT only */
	teardown();

	/* The same request where 1 GiB pages are not allowed. */
	setup(&x86_pt_format, 2);
	ck_assert_int_eq(pt_map(&pt, GB1, 3 * GB1, 2 * GB1, PT_RWX, MT_WB), 0);
	expect_map(GB1, 3 * GB1, PT_RWX, 2);
	expect_map(2 * GB1 + 0x12345, 4 * GB1 + 0x12345, PT_RWX, 2);
	expect_tables(4); /* PML4, PDPT, two PDs */
	ck_assert_msg(!(raw_entry(GB1, 3) & PS), "PDPTE has PS with max_leaf_level 2");
	teardown();
}
END_TEST

START_TEST(unaligned_rejected)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 0x1001, 0x5000, KB4, PT_R, MT_WB), -EINVAL);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x5800, KB4, PT_R, MT_WB), -EINVAL);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x5000, 0x800, PT_R, MT_WB), -EINVAL);
	ck_assert_int_eq(pt_unmap(&pt, 0x1800, KB4), -EINVAL);
	ck_assert_int_eq(pt_protect(&pt, 0x1000, 0x10, PT_R), -EINVAL);
	/* Wrapping or beyond the 48 bits the walker covers. */
	ck_assert_int_eq(pt_map(&pt, 0xfffffffffffff000ULL, 0, 2 * KB4, PT_R, MT_WB),
			 -EINVAL);
	ck_assert_int_eq(pt_map(&pt, 1ULL << 48, 0, KB4, PT_R, MT_WB), -EINVAL);
	expect_unmapped(0x1000);
	expect_tables(1);
	teardown();
}
END_TEST

START_TEST(unmap_splits_2m)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 4 * MB2, 8 * MB2, MB2, PT_R | PT_W, MT_WB), 0);
	ck_assert_int_eq(pt_unmap(&pt, 4 * MB2 + 5 * KB4, KB4), 0);
	expect_unmapped(4 * MB2 + 5 * KB4);
	expect_map(4 * MB2, 8 * MB2, PT_R | PT_W, 1);
	expect_map(4 * MB2 + 4 * KB4, 8 * MB2 + 4 * KB4, PT_R | PT_W, 1);
	expect_map(4 * MB2 + 6 * KB4, 8 * MB2 + 6 * KB4, PT_R | PT_W, 1);
	expect_map(5 * MB2 - KB4, 9 * MB2 - KB4, PT_R | PT_W, 1);
	teardown();
}
END_TEST

START_TEST(unmap_splits_1g)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, GB1, 5 * GB1, GB1, PT_RWX, MT_WB), 0);
	u64 hole = GB1 + 3 * MB2 + 7 * KB4;
	ck_assert_int_eq(pt_unmap(&pt, hole, KB4), 0);
	expect_unmapped(hole);
	/* The rest of the 1 GiB page: 2 MiB pages, 4 KiB pages around the hole. */
	expect_map(GB1, 5 * GB1, PT_RWX, 2);
	expect_map(GB1 + 4 * MB2, 5 * GB1 + 4 * MB2, PT_RWX, 2);
	expect_map(2 * GB1 - MB2, 6 * GB1 - MB2, PT_RWX, 2);
	expect_map(hole - KB4, 5 * GB1 + 3 * MB2 + 6 * KB4, PT_RWX, 1);
	expect_map(hole + KB4, 5 * GB1 + 3 * MB2 + 8 * KB4, PT_RWX, 1);
	expect_map(GB1 + 3 * MB2, 5 * GB1 + 3 * MB2, PT_RWX, 1);
	expect_tables(4);
	teardown();
}
END_TEST

START_TEST(protect_splits_and_keeps_rest)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 0, 0x80000000, MB2, PT_RWX, MT_UC), 0);
	ck_assert_int_eq(pt_protect(&pt, 2 * KB4, 2 * KB4, PT_R), 0);
	expect_map(0, 0x80000000, PT_RWX, 1);
	expect_map(KB4, 0x80000000 + KB4, PT_RWX, 1);
	expect_map(2 * KB4, 0x80000000 + 2 * KB4, PT_R, 1);
	expect_map(3 * KB4 + 8, 0x80000000 + 3 * KB4 + 8, PT_R, 1);
	expect_map(4 * KB4, 0x80000000 + 4 * KB4, PT_RWX, 1);
	/* The memory type survives both the split and the new permissions. */
	for (u64 va = 0; va < 5 * KB4; va += KB4) {
		u64 e = raw_entry(va, 1);
		ck_assert_msg((e & (PCD | PWT)) == (PCD | PWT),
			      "pte for %#llx = %#llx lost UC", (unsigned long long)va,
			      (unsigned long long)e);
	}
	/* A whole large page is re-protected in place. */
	ck_assert_int_eq(pt_map(&pt, 4 * MB2, 0, MB2, PT_RWX, MT_WB), 0);
	ck_assert_int_eq(pt_protect(&pt, 4 * MB2, MB2, PT_R | PT_X), 0);
	expect_map(4 * MB2 + KB4, KB4, PT_R | PT_X, 2);
	teardown();
}
END_TEST

START_TEST(protect_hole_enoent)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 0x10000, 0x10000, 2 * KB4, PT_RWX, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, 0x13000, 0x13000, KB4, PT_RWX, MT_WB), 0);
	ck_assert_int_eq(pt_protect(&pt, 0x10000, 4 * KB4, PT_R), -ENOENT);
	/* Pages before the hole were changed; the page after was not. */
	expect_map(0x10000, 0x10000, PT_R, 1);
	expect_map(0x11000, 0x11000, PT_R, 1);
	expect_unmapped(0x12000);
	expect_map(0x13000, 0x13000, PT_RWX, 1);
	teardown();
}
END_TEST

START_TEST(remap_replaces)
{
	setup(&x86_pt_format, 3);
	/* 4 KiB pages over a 2 MiB span: a PT under the PD. */
	ck_assert_int_eq(pt_map(&pt, 2 * MB2, 0x123000, MB2, PT_R, MT_WB), 0);
	expect_map(2 * MB2, 0x123000, PT_R, 1);
	expect_tables(4);
	/* A 2 MiB leaf replaces the PT, which is freed. */
	ck_assert_int_eq(pt_map(&pt, 2 * MB2, 16 * MB2, MB2, PT_RWX, MT_WB), 0);
	expect_map(2 * MB2 + 0x5000, 16 * MB2 + 0x5000, PT_RWX, 2);
	expect_tables(3);
	/* A 4 KiB page inside it splits it; the rest keeps the old mapping. */
	ck_assert_int_eq(pt_map(&pt, 2 * MB2 + 0x5000, 0x999000, KB4, PT_R, MT_WB), 0);
	expect_map(2 * MB2 + 0x5000, 0x999000, PT_R, 1);
	expect_map(2 * MB2 + 0x4000, 16 * MB2 + 0x4000, PT_RWX, 1);
	expect_map(2 * MB2 + 0x6000, 16 * MB2 + 0x6000, PT_RWX, 1);
	expect_tables(4);
	/* A 1 GiB leaf replaces a whole subtree (PD and PT). */
	ck_assert_int_eq(pt_map(&pt, 0, 7 * GB1, GB1, PT_R, MT_WB), 0);
	expect_map(2 * MB2 + 0x5000, 7 * GB1 + 2 * MB2 + 0x5000, PT_R, 3);
	expect_tables(2);
	teardown();
}
END_TEST

START_TEST(unmap_frees_tables)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x1000, 3 * KB4, PT_RWX, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, 5 * GB1 + MB2 - KB4, 0, MB2 + 2 * KB4, PT_R, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, 0x7f0000000000ULL, GB1, GB1 + MB2, PT_R, MT_UC), 0);
	ck_assert_uint_gt(nr_live, 6);
	/* Unmap in pieces, including holes and partial large pages. */
	ck_assert_int_eq(pt_unmap(&pt, 0, 2 * KB4), 0);
	ck_assert_int_eq(pt_unmap(&pt, 0x2000, GB1), 0);
	ck_assert_int_eq(pt_unmap(&pt, 5 * GB1, MB2 + KB4), 0);
	ck_assert_int_eq(pt_unmap(&pt, 5 * GB1 + MB2 + KB4, 4 * MB2), 0);
	ck_assert_int_eq(pt_unmap(&pt, 0x7f0000000000ULL + KB4, 2 * GB1), 0);
	expect_map(0x7f0000000000ULL, GB1, PT_R, 1); /* split down to 4 KiB */
	ck_assert_int_eq(pt_unmap(&pt, 0x7f0000000000ULL, KB4), 0);
	expect_tables(1); /* only the root is left */
	/* Unmapping nothing allocates nothing. */
	ck_assert_int_eq(pt_unmap(&pt, 0, 1ULL << 47), 0);
	expect_tables(1);
	teardown();
}
END_TEST

START_TEST(destroy_frees_everything)
{
	setup(&x86_pt_format, 2);
	for (u64 i = 0; i < 64; i++)
		ck_assert_int_eq(pt_map(&pt, i * 3 * GB1 + i * KB4, i * KB4, KB4,
					PT_R, MT_WB), 0);
	ck_assert_uint_gt(nr_live, 64);
	teardown();
}
END_TEST

START_TEST(map_enomem)
{
	setup(&x86_pt_format, 3);
	allocs_left = 2; /* PDPT and PD, but no PT */
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x1000, KB4, PT_R, MT_WB), -ENOMEM);
	expect_unmapped(0x1000);
	/* The tables allocated for the failed map were not leaked into the
	 * tree: after the failure only the root remains. */
	expect_tables(1);
	allocs_left = -1;
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x1000, KB4, PT_R, MT_WB), 0);
	expect_map(0x1000, 0x1000, PT_R, 1);
	teardown();
}
END_TEST

START_TEST(lookup_unmapped_enoent)
{
	setup(&x86_pt_format, 3);
	expect_unmapped(0);
	ck_assert_int_eq(pt_map(&pt, MB2, MB2, KB4, PT_R, MT_WB), 0);
	expect_unmapped(MB2 + KB4);  /* same PT, empty entry */
	expect_unmapped(2 * MB2);    /* same PD, empty entry */
	expect_unmapped(GB1);        /* same PDPT, empty entry */
	expect_unmapped(1ULL << 40); /* empty PML4 entry */
	expect_unmapped(1ULL << 48); /* outside the walker's range */
	teardown();
}
END_TEST

START_TEST(nx_and_uc_encoding)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0xfee00000, KB4, PT_R | PT_W, MT_UC), 0);
	ck_assert_int_eq(pt_map(&pt, MB2, 0x40000000 + MB2, MB2, PT_R | PT_X, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, GB1, 3 * GB1, GB1, PT_R, MT_WB), 0);

	u64 e = raw_entry(0x1000, 1);
	ck_assert_msg((e & (P | RW | NX | PCD | PWT)) == (P | RW | NX | PCD | PWT) &&
			      !(e & US) && (e & ADDR) == 0xfee00000,
		      "4K UC RW entry %#llx", (unsigned long long)e);
	e = raw_entry(MB2, 2);
	ck_assert_msg((e & (P | PS)) == (P | PS) && !(e & (RW | NX | PCD | PWT | US)) &&
			      (e & ADDR) == 0x40000000 + MB2,
		      "2M WB RX entry %#llx", (unsigned long long)e);
	e = raw_entry(GB1, 3);
	ck_assert_msg((e & (P | PS | NX)) == (P | PS | NX) && !(e & (RW | PCD | PWT)) &&
			      (e & ADDR) == 3 * GB1,
		      "1G WB R entry %#llx", (unsigned long long)e);
	/* Tables grant everything; leaves restrict. */
	for (unsigned l = 2; l <= 4; l++) {
		e = raw_entry(0x1000, l);
		ck_assert_msg((e & (P | RW | US)) == (P | RW | US) && !(e & (NX | PS)),
			      "level %u table entry %#llx", l, (unsigned long long)e);
	}
	/* A large page's bit 12 is PAT, not address. */
	ck_assert_uint_eq(x86_pt_format.addr(raw_entry(MB2, 2) | (1ULL << 12), 2),
			  0x40000000 + MB2);
	/* No PT_R: no present entry (x86 cannot express write-only). */
	ck_assert_uint_eq(x86_pt_format.leaf(0x5000, 1, PT_W, MT_WB) & P, 0);
	teardown();
}
END_TEST

START_TEST(user_format_sets_us)
{
	setup(&x86_pt_format, 3);
	ck_assert_int_eq(pt_map(&pt, 0, 0, KB4, PT_R, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, KB4, 0, KB4, PT_R | PT_U, MT_WB), 0);
	ck_assert_msg(!(raw_entry(0, 1) & US), "supervisor leaf has US");
	ck_assert_msg(raw_entry(KB4, 1) & US, "PT_U leaf lacks US");
	expect_map(KB4, 0, PT_R | PT_U, 1);
	teardown();

	setup(&x86_pt_format_user, 3);
	ck_assert_int_eq(pt_map(&pt, 0, 0, KB4, PT_R | PT_W, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, MB2, MB2, MB2, PT_RWX, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, GB1, GB1, GB1, PT_R, MT_UC), 0);
	for (unsigned l = 1; l <= 4; l++) {
		u64 e = raw_entry(0, l);
		ck_assert_msg(e & US, "level %u entry %#llx lacks US", l,
			      (unsigned long long)e);
	}
	ck_assert_msg(raw_entry(MB2, 2) & US, "2M leaf lacks US");
	ck_assert_msg(raw_entry(GB1, 3) & US, "1G leaf lacks US");
	/* U is no permission in this format: lookups don't report it. */
	expect_map(0, 0, PT_R | PT_W, 1);
	expect_map(MB2, MB2, PT_RWX, 2);
	/* Splitting keeps US. */
	ck_assert_int_eq(pt_unmap(&pt, MB2, KB4), 0);
	ck_assert_msg(raw_entry(MB2 + KB4, 1) & US, "split leaf lacks US");
	teardown();
}
END_TEST


/* A page table with a quota refuses to grow past it (-ENOMEM), counts
 * every table it holds, and gives the count back as tables are freed. */
START_TEST(table_quota_enforced)
{
	setup(&x86_pt_format, 2);
	pt.max_tables = 4; /* root + PDPT + PD + one PT */
	ck_assert_int_eq(pt_map(&pt, 0x200000, 0x200000, PAGE_SIZE, PT_R, MT_WB), 0);
	ck_assert_msg(pt.nr_tables == 4, "nr_tables %u after one 4K mapping, expected 4",
		      pt.nr_tables);
	/* Another 2 MiB region needs a second PT: over the quota. */
	int rc = pt_map(&pt, 0x400000, 0x400000, PAGE_SIZE, PT_R, MT_WB);
	ck_assert_msg(rc == -ENOMEM, "map past the quota returned %d, expected -ENOMEM", rc);
	ck_assert_uint_eq(nr_live, 4);
	ck_assert_int_eq(pt_lookup(&pt, 0x400000, NULL, NULL, NULL), -ENOENT);
	/* Unmapping frees the PT, PD and PDPT (empty tables go). */
	ck_assert_int_eq(pt_unmap(&pt, 0x200000, PAGE_SIZE), 0);
	ck_assert_msg(pt.nr_tables == 1, "nr_tables %u after unmapping all, expected 1",
		      pt.nr_tables);
	ck_assert_int_eq(pt_map(&pt, 0x400000, 0x400000, PAGE_SIZE, PT_R, MT_WB), 0);
	pt_destroy(&pt);
	ck_assert_uint_eq(nr_live, 0);
}
END_TEST

/* What an entry holds (PT_HELD_*) rides in bits 52/53, which the MMU
 * ignores (SDM vol. 3 table 4-19), comes back from lookup and the walk,
 * and survives pt_protect; the translation bits are untouched. */
struct walk_seen {
	unsigned n;
	u64 va[8];
	unsigned perms[8];
	unsigned level[8];
};

static int record_leaf(u64 va, paddr_t pa, unsigned perms, unsigned level, void *arg)
{
	struct walk_seen *w = arg;
	(void)pa;
	if (w->n < 8) {
		w->va[w->n] = va;
		w->perms[w->n] = perms;
		w->level[w->n] = level;
	}
	w->n++;
	return 0;
}

START_TEST(held_bits_kept_and_walked)
{
	struct walk_seen w = { 0 };
	unsigned perms = 0;

	setup(&x86_pt_format, 2);
	ck_assert_int_eq(pt_map(&pt, 0x5000, 0x9000, KB4, PT_R | PT_W | PT_HELD_FOREIGN, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, 0x6000, 0xa000, KB4, PT_R | PT_HELD_GRANT, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, 0x400000, 0x400000, MB2, PT_RWX, MT_WB), 0);
	u64 e = raw_entry(0x5000, 1);
	ck_assert_uint_eq(e & ((1ULL << 52) | (1ULL << 53)), 1ULL << 52);
	ck_assert_uint_eq(e & ADDR, 0x9000);
	ck_assert(e & P && e & RW && e & NX);
	ck_assert_uint_eq(raw_entry(0x6000, 1) & ((1ULL << 52) | (1ULL << 53)), 1ULL << 53);
	ck_assert_int_eq(pt_lookup(&pt, 0x5000, NULL, &perms, NULL), 0);
	ck_assert_uint_eq(perms, PT_R | PT_W | PT_HELD_FOREIGN);
	ck_assert_int_eq(pt_protect(&pt, 0x5000, KB4, PT_R), 0);
	ck_assert_int_eq(pt_lookup(&pt, 0x5000, NULL, &perms, NULL), 0);
	ck_assert_uint_eq(perms, PT_R | PT_HELD_FOREIGN);

	/* The walk: every leaf overlapping the range, in order, holes
	 * skipped; a large leaf reported at its start. */
	ck_assert_int_eq(pt_walk(&pt, 0, GB1, record_leaf, &w), 0);
	ck_assert_uint_eq(w.n, 3);
	ck_assert_uint_eq(w.va[0], 0x5000);
	ck_assert_uint_eq(w.perms[0], PT_R | PT_HELD_FOREIGN);
	ck_assert_uint_eq(w.va[1], 0x6000);
	ck_assert_uint_eq(w.perms[1], PT_R | PT_HELD_GRANT);
	ck_assert_uint_eq(w.va[2], 0x400000);
	ck_assert_uint_eq(w.level[2], 2);
	w.n = 0;
	ck_assert_int_eq(pt_walk(&pt, 0x401000, KB4, record_leaf, &w), 0);
	ck_assert_uint_eq(w.n, 1);
	ck_assert_uint_eq(w.va[0], 0x400000);
	w.n = 0;
	ck_assert_int_eq(pt_walk(&pt, 0x7000, 0x3f9000, record_leaf, &w), 0);
	ck_assert_uint_eq(w.n, 0);
	pt_destroy(&pt);
}
END_TEST

/* NPT (the user format) and the host's tables pick a memory type by PAT
 * index PAT:PCD:PWT into the host's power-on PAT: RAM leaves index 0 (WB,
 * so a guest's own PAT type wins when the two combine, APM vol. 2
 * 15.25.8), device memory index 3 (UC, which nothing a guest chooses
 * weakens). The PAT bit is bit 7 in a 4 KiB leaf and bit 12 in a large
 * one; it must be clear in both. */
START_TEST(leaf_pat_index_wb_ram_uc_mmio)
{
	const struct pt_format *fmts[] = { &x86_pt_format, &x86_pt_format_user };

	for (unsigned f = 0; f < 2; f++)
		for (unsigned level = 1; level <= 3; level++) {
			u64 pat_bit = level == 1 ? 1ULL << 7 : 1ULL << 12;
			u64 ram = fmts[f]->leaf(GB1, level, PT_RWX, MT_WB);
			u64 mmio = fmts[f]->leaf(GB1, level, PT_R | PT_W, MT_UC);
			ck_assert_msg(!(ram & (PCD | PWT | pat_bit)),
				      "%s level %u RAM leaf %#llx: want PAT index 0 (WB)",
				      fmts[f]->name, level, (unsigned long long)ram);
			ck_assert_msg((mmio & (PCD | PWT)) == (PCD | PWT) && !(mmio & pat_bit),
				      "%s level %u MMIO leaf %#llx: want PAT index 3 (UC)",
				      fmts[f]->name, level, (unsigned long long)mmio);
			ck_assert_int_eq(fmts[f]->memtype(ram), MT_WB);
			ck_assert_int_eq(fmts[f]->memtype(mmio), MT_UC);
		}
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "paging-leaf-pat-index-wb-ram-uc-mmio", &leaf_pat_index_wb_ram_uc_mmio_ttest },
	{ "paging-map-4k", &map_4k_ttest },
	{ "paging-map-uses-2m-pages", &map_uses_2m_pages_ttest },
	{ "paging-map-mixes-page-sizes", &map_mixes_page_sizes_ttest },
	{ "paging-map-uses-1g-pages", &map_uses_1g_pages_ttest },
	{ "paging-unaligned-rejected", &unaligned_rejected_ttest },
	{ "paging-unmap-splits-2m", &unmap_splits_2m_ttest },
	{ "paging-unmap-splits-1g", &unmap_splits_1g_ttest },
	{ "paging-protect-splits-and-keeps-rest", &protect_splits_and_keeps_rest_ttest },
	{ "paging-protect-hole-enoent", &protect_hole_enoent_ttest },
	{ "paging-remap-replaces", &remap_replaces_ttest },
	{ "paging-unmap-frees-tables", &unmap_frees_tables_ttest },
	{ "paging-destroy-frees-everything", &destroy_frees_everything_ttest },
	{ "paging-map-enomem", &map_enomem_ttest },
	{ "paging-lookup-unmapped-enoent", &lookup_unmapped_enoent_ttest },
	{ "paging-nx-and-uc-encoding", &nx_and_uc_encoding_ttest },
	{ "paging-user-format-sets-us", &user_format_sets_us_ttest },
	{ "paging-table-quota-enforced", &table_quota_enforced_ttest },
	{ "paging-held-bits-kept-and-walked", &held_bits_kept_and_walked_ttest },
	{ 0 },
};
