/*
 * Intel EPT entries as the shared walker writes them through ept_format
 * (SDM vol. 3 29.3.2): R/W/X in bits 0-2, memory type in bits 5:3 (WB 6
 * for RAM, UC 0 for MMIO) with "ignore PAT", bit 7 for 2 MiB / 1 GiB
 * leaves, no user bit, and non-leaf entries that grant everything and
 * carry no memory type. Checked on the raw tables.
 *
 * unit-sources: arch/x86/paging.c arch/x86/vmx/ept.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <asm/paging.h>
#include "../../arch/x86/vmx/vmx.h"

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment: tables from the C heap ---------------------------------- */

#define MAX_TABLES 4096
static void *live[MAX_TABLES];
static unsigned nr_live;

paddr_t pt_alloc_table(void)
{
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
	ck_abort_msg("pt_free_table(%#llx): not a live table", (unsigned long long)pa);
}

void *pt_table_ptr(paddr_t pa)
{
	return (void *)(uintptr_t)pa;
}

/* ---- raw EPT bits, spelled out from the SDM independently of ept.c ------ */

#define R (1ULL << 0)
#define W (1ULL << 1)
#define X (1ULL << 2)
#define MT_SHIFT 3
#define MT(e) (((e) >> MT_SHIFT) & 7)
#define IPAT (1ULL << 6)
#define LARGE (1ULL << 7)
#define USER_X (1ULL << 10)
#define ADDR 0x000ffffffffff000ULL

#define KB4 0x1000ULL
#define MB2 0x200000ULL
#define GB1 0x40000000ULL

static struct pt pt;

static void setup(unsigned max_leaf)
{
	nr_live = 0;
	ck_assert_int_eq(pt_init(&pt, &ept_format, max_leaf), 0);
}

static void teardown(void)
{
	pt_destroy(&pt);
	ck_assert_msg(nr_live == 0, "%u tables leaked", nr_live);
}

/* The raw entry at `level` on the way to gpa (0 if the walk stops above). */
static u64 raw_entry(u64 gpa, unsigned level)
{
	u64 *t = (u64 *)(uintptr_t)pt.root;
	for (unsigned l = 4; l >= 1; l--) {
		u64 e = t[(gpa >> (12 + 9 * (l - 1))) & 511];
		if (l == level)
			return e;
		if (!(e & (R | W | X)) || (l > 1 && (e & LARGE)))
			return 0;
		t = (u64 *)(uintptr_t)(e & ADDR);
	}
	return 0;
}

#define expect_entry(gpa, level, want)                                            \
	do {                                                                      \
		u64 e_ = raw_entry((gpa), (level));                               \
		ck_assert_msg(e_ == (want), "entry for %#llx at level %u: %#llx, " \
			      "want %#llx", (unsigned long long)(gpa), (level),   \
			      (unsigned long long)e_, (unsigned long long)(want)); \
	} while (0)

/* Non-leaf entries on the way to gpa down to `leaf_level`: read, write
 * and execute allowed (the leaf decides), bits 7:3 reserved-zero. */
static void expect_tables_grant_all(u64 gpa, unsigned leaf_level)
{
	for (unsigned l = 4; l > leaf_level; l--) {
		u64 e = raw_entry(gpa, l);
		ck_assert_msg((e & 7) == 7, "level %u table entry %#llx lacks RWX", l,
			      (unsigned long long)e);
		ck_assert_msg((e & 0xf8) == 0, "level %u table entry %#llx has bits 7:3 set", l,
			      (unsigned long long)e);
	}
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(leaf_4k_ram_is_wb_rwx)
{
	setup(3);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x5000, KB4, PT_RWX, MT_WB), 0);
	expect_entry(0x1000, 1, 0x5000 | R | W | X | (6ULL << MT_SHIFT) | IPAT);
	expect_tables_grant_all(0x1000, 1);

	paddr_t pa;
	unsigned perms, level;
	ck_assert_int_eq(pt_lookup(&pt, 0x1234, &pa, &perms, &level), 0);
	ck_assert_uint_eq(pa, 0x5234);
	ck_assert_uint_eq(perms, PT_RWX);
	ck_assert_uint_eq(level, 1);
	teardown();
}
END_TEST

START_TEST(mmio_is_uc)
{
	setup(3);
	ck_assert_int_eq(pt_map(&pt, 0xfe000000, 0xfe000000, KB4, PT_R | PT_W, MT_UC), 0);
	u64 e = raw_entry(0xfe000000, 1);
	ck_assert_msg(MT(e) == 0, "MMIO memory type %llu, want UC (0)", (unsigned long long)MT(e));
	ck_assert_msg(e & IPAT, "MMIO entry %#llx without ignore-PAT", (unsigned long long)e);
	ck_assert_msg((e & 7) == (R | W), "MMIO entry %#llx: perms want RW, no X",
		      (unsigned long long)e);
	teardown();
}
END_TEST

START_TEST(large_2m_leaf)
{
	setup(3);
	ck_assert_int_eq(pt_map(&pt, 0x200000, 0x40200000, MB2, PT_RWX, MT_WB), 0);
	expect_entry(0x200000, 2, 0x40200000 | R | W | X | (6ULL << MT_SHIFT) | IPAT | LARGE);
	expect_tables_grant_all(0x200000, 2);

	paddr_t pa;
	unsigned level;
	ck_assert_int_eq(pt_lookup(&pt, 0x3fffff, &pa, NULL, &level), 0);
	ck_assert_uint_eq(pa, 0x403fffff);
	ck_assert_uint_eq(level, 2);
	ck_assert_uint_eq(nr_live, 3); /* PML4, PDPT, PD: no page table */
	teardown();
}
END_TEST

START_TEST(large_1g_leaf)
{
	setup(3);
	ck_assert_int_eq(pt_map(&pt, GB1, 2 * GB1, GB1, PT_RWX, MT_WB), 0);
	expect_entry(GB1, 3, 2 * GB1 | R | W | X | (6ULL << MT_SHIFT) | IPAT | LARGE);
	ck_assert_uint_eq(nr_live, 2); /* PML4, PDPT */
	teardown();
}
END_TEST

START_TEST(max_leaf_2_uses_2m_for_1g)
{
	/* p2m_max_leaf_level 2 (no 1 GiB EPT pages): 512 large PDEs. */
	setup(2);
	ck_assert_int_eq(pt_map(&pt, GB1, GB1, GB1, PT_RWX, MT_WB), 0);
	ck_assert_msg(!(raw_entry(GB1, 3) & LARGE), "PDPTE is a 1 GiB leaf with max level 2");
	for (u64 off = 0; off < GB1; off += MB2)
		expect_entry(GB1 + off, 2, (GB1 + off) | R | W | X | (6ULL << MT_SHIFT) | IPAT | LARGE);
	teardown();
}
END_TEST

START_TEST(permission_bits)
{
	setup(3);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x1000, KB4, PT_R, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, 0x2000, 0x2000, KB4, PT_R | PT_X, MT_WB), 0);
	ck_assert_int_eq(pt_map(&pt, 0x3000, 0x3000, KB4, PT_R | PT_W, MT_WB), 0);
	ck_assert_uint_eq(raw_entry(0x1000, 1) & 7, R);
	ck_assert_uint_eq(raw_entry(0x2000, 1) & 7, R | X);
	ck_assert_uint_eq(raw_entry(0x3000, 1) & 7, R | W);

	unsigned perms;
	ck_assert_int_eq(pt_lookup(&pt, 0x2000, NULL, &perms, NULL), 0);
	ck_assert_uint_eq(perms, PT_R | PT_X);
	teardown();
}
END_TEST

START_TEST(write_only_gets_read)
{
	/* Write without read is an EPT misconfiguration (29.3.3.1): the
	 * format must never produce it. */
	setup(3);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x1000, KB4, PT_W, MT_WB), 0);
	ck_assert_uint_eq(raw_entry(0x1000, 1) & 7, R | W);
	ck_assert_int_eq(pt_map(&pt, 0x2000, 0x2000, KB4, PT_W | PT_X, MT_WB), 0);
	ck_assert_uint_eq(raw_entry(0x2000, 1) & 7, R | W | X);
	teardown();
}
END_TEST

START_TEST(user_bit_ignored)
{
	/* EPT has no U/S bit; PT_U must not leak into bit 2 (execute) or
	 * bit 10 (user-mode execute) or come back from lookup. */
	setup(3);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x1000, KB4, PT_R | PT_W | PT_U, MT_WB), 0);
	u64 e = raw_entry(0x1000, 1);
	ck_assert_msg((e & 7) == (R | W), "entry %#llx: PT_U changed R/W/X", (unsigned long long)e);
	ck_assert_msg(!(e & USER_X), "entry %#llx: PT_U set bit 10", (unsigned long long)e);
	unsigned perms;
	ck_assert_int_eq(pt_lookup(&pt, 0x1000, NULL, &perms, NULL), 0);
	ck_assert_uint_eq(perms, PT_R | PT_W);
	teardown();
}
END_TEST

START_TEST(protect_splits_large_page_keeping_type)
{
	setup(3);
	ck_assert_int_eq(pt_map(&pt, 0, 0x800000, MB2, PT_RWX, MT_UC), 0);
	ck_assert_int_eq(pt_protect(&pt, 0x3000, KB4, PT_R), 0);
	ck_assert_msg(!(raw_entry(0x3000, 2) & LARGE), "2 MiB leaf not split");
	expect_entry(0x3000, 1, 0x803000 | R | IPAT);          /* UC: type 0 */
	expect_entry(0x4000, 1, 0x804000 | R | W | X | IPAT);
	teardown();
}
END_TEST

START_TEST(unmap_clears_and_frees)
{
	setup(3);
	ck_assert_int_eq(pt_map(&pt, 0x1000, 0x1000, KB4, PT_RWX, MT_WB), 0);
	ck_assert_int_eq(pt_unmap(&pt, 0x1000, KB4), 0);
	ck_assert_int_eq(pt_lookup(&pt, 0x1000, NULL, NULL, NULL), -ENOENT);
	ck_assert_uint_eq(((u64 *)(uintptr_t)pt.root)[0], 0);
	ck_assert_uint_eq(nr_live, 1); /* only the root is left */
	teardown();
}
END_TEST

START_TEST(format_reads_back_its_fields)
{
	/* The accessors the walker relies on, on hand-made entries. */
	u64 big = 0x40000000 | R | X | (6ULL << MT_SHIFT) | IPAT | LARGE;
	ck_assert(ept_format.present(big));
	ck_assert(ept_format.is_large(big));
	ck_assert_uint_eq(ept_format.addr(big, 3), 0x40000000);
	ck_assert_uint_eq(ept_format.perms(big), PT_R | PT_X);
	ck_assert_int_eq(ept_format.memtype(big), MT_WB);
	ck_assert_int_eq(ept_format.memtype(0x1000 | R), MT_UC);
	ck_assert(!ept_format.present(0x1000 | (6ULL << MT_SHIFT) | IPAT));
	ck_assert_uint_eq(ept_format.table(0x7000), 0x7000 | R | W | X);
	ck_assert(!ept_format.is_large(ept_format.table(0x7000)));
}
END_TEST

/* What an entry holds (PT_HELD_*) goes in bits 52/53, ignored by the CPU
 * (SDM vol. 3 table 29-6), and reads back; the rest of the entry is as
 * without it. */
START_TEST(held_bits_in_ignored_bits)
{
	u64 plain = ept_format.leaf(0x9000, 1, PT_R | PT_W, MT_WB);
	u64 f = ept_format.leaf(0x9000, 1, PT_R | PT_W | PT_HELD_FOREIGN, MT_WB);
	u64 g = ept_format.leaf(0x9000, 1, PT_R | PT_HELD_GRANT, MT_WB);
	ck_assert_uint_eq(f, plain | (1ULL << 52));
	ck_assert_uint_eq(g & ((1ULL << 52) | (1ULL << 53)), 1ULL << 53);
	ck_assert_uint_eq(ept_format.perms(f), PT_R | PT_W | PT_HELD_FOREIGN);
	ck_assert_uint_eq(ept_format.perms(g), PT_R | PT_HELD_GRANT);
	ck_assert_uint_eq(ept_format.addr(f, 1), 0x9000);
	ck_assert_int_eq(ept_format.memtype(f), MT_WB);
}
END_TEST

/* With the guest's IA32_PAT loaded on entry (ept_guest_pat), RAM leaves
 * at every level are WB with "ignore PAT" clear, so the guest's PAT type
 * combines with WB and wins (SDM vol. 3 29.3.7.2); device memory stays UC
 * with "ignore PAT" set. Without it, every leaf ignores the PAT. */
START_TEST(ram_leaves_leave_guest_pat_in_force)
{
	for (int loaded = 0; loaded <= 1; loaded++) {
		ept_guest_pat = loaded;
		for (unsigned level = 1; level <= 3; level++) {
			u64 ram = ept_format.leaf(GB1, level, PT_RWX, MT_WB);
			u64 mmio = ept_format.leaf(GB1, level, PT_R | PT_W, MT_UC);
			ck_assert_msg(MT(ram) == 6 && (int)!(ram & IPAT) == loaded,
				      "level %u RAM leaf %#llx with guest PAT %s: want WB, ignore-PAT %s",
				      level, (unsigned long long)ram, loaded ? "loaded" : "not loaded",
				      loaded ? "clear" : "set");
			ck_assert_msg(MT(mmio) == 0 && (mmio & IPAT),
				      "level %u MMIO leaf %#llx: want UC with ignore-PAT", level,
				      (unsigned long long)mmio);
			ck_assert_int_eq(ept_format.memtype(ram), MT_WB);
			ck_assert_int_eq(ept_format.memtype(mmio), MT_UC);
		}
	}
	ept_guest_pat = false;
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "ept-ram-leaves-leave-guest-pat-in-force", &ram_leaves_leave_guest_pat_in_force_ttest },
	{ "ept-leaf-4k-ram-is-wb-rwx", &leaf_4k_ram_is_wb_rwx_ttest },
	{ "ept-mmio-is-uc", &mmio_is_uc_ttest },
	{ "ept-large-2m-leaf", &large_2m_leaf_ttest },
	{ "ept-large-1g-leaf", &large_1g_leaf_ttest },
	{ "ept-max-leaf-2-uses-2m-for-1g", &max_leaf_2_uses_2m_for_1g_ttest },
	{ "ept-permission-bits", &permission_bits_ttest },
	{ "ept-write-only-gets-read", &write_only_gets_read_ttest },
	{ "ept-user-bit-ignored", &user_bit_ignored_ttest },
	{ "ept-protect-splits-large-page-keeping-type", &protect_splits_large_page_keeping_type_ttest },
	{ "ept-unmap-clears-and-frees", &unmap_clears_and_frees_ttest },
	{ "ept-format-reads-back-its-fields", &format_reads_back_its_fields_ttest },
	{ "ept-held-bits-in-ignored-bits", &held_bits_in_ignored_bits_ttest },
	{ 0 },
};
