/*
 * The hypervisor's cache of guest-physical translations (arch/x86/guest_mem.c
 * gpa_ptr, stamped with d->mem_gen, which arch/x86/p2m.c bumps on every
 * change): a copy after the p2m changed must see the new mapping, never the
 * cached one. On a p2m with host pages from the C heap (phys_to_virt is the
 * identity here), through the EPT entry format.
 *
 * unit-sources: arch/x86/guest_mem.c arch/x86/guest_walk.c arch/x86/p2m.c arch/x86/paging.c arch/x86/vmx/ept.c
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>
#include <keel/domain.h>
#include <keel/page.h>
#include <keel/printk.h>
#include <asm/guest_mem.h>
#include <asm/p2m.h>
#include <asm/paging.h>
#include <asm/vendor.h>
#include "../../arch/x86/vmx/vmx.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment ---------------------------------------------------------- */

paddr_t pt_alloc_table(void)
{
	void *p = aligned_alloc(4096, 4096);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, 4096);
	return (paddr_t)(uintptr_t)p;
}

void pt_free_table(paddr_t pa) { free((void *)(uintptr_t)pa); }
void *pt_table_ptr(paddr_t pa) { return (void *)(uintptr_t)pa; }
void page_put(paddr_t pa) { (void)pa; }
void printk(int level, const char *fmt, ...) { (void)level; (void)fmt; }

static unsigned nr_flushes;
static void flush(struct domain *d) { (void)d; nr_flushes++; }
static const struct vendor_ops ops = { .name = "test", .p2m_format = &ept_format,
				       .p2m_flush = flush };
static const struct vendor_caps caps = { .p2m_max_leaf_level = 2 };
const struct vendor_ops *vendor = &ops;
const struct vendor_caps *vendor_caps = &caps;

#define KB4 0x1000ULL
static struct domain dom;
static u8 *page_a, *page_b;

static void setup(void)
{
	memset(&dom, 0, sizeof(dom));
	dom.nr_ram = 1;
	dom.ram[0] = (struct mem_range){ .gpa = 0, .len = 64 * KB4 };
	ck_assert_int_eq(p2m_init(&dom), 0);
	page_a = aligned_alloc(4096, 4096);
	page_b = aligned_alloc(4096, 4096);
	memset(page_a, 'A', 4096);
	memset(page_b, 'B', 4096);
}

static char read_byte(gpa_t gpa, int want_rc)
{
	char c = 0;
	ck_assert_int_eq(copy_from_gpa(&dom, &c, gpa, 1), want_rc);
	return c;
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(copies_follow_remap_and_unmap)
{
	setup();
	ck_assert_int_eq(p2m_map(&dom, 3 * KB4, (paddr_t)(uintptr_t)page_a, KB4, PT_RWX, MT_WB), 0);
	ck_assert_int_eq(read_byte(3 * KB4 + 5, 0), 'A');
	ck_assert_int_eq(read_byte(3 * KB4 + 6, 0), 'A'); /* from the cache */
	ck_assert_int_eq(p2m_map(&dom, 3 * KB4, (paddr_t)(uintptr_t)page_b, KB4, PT_RWX, MT_WB), 0);
	ck_assert_msg(read_byte(3 * KB4 + 5, 0) == 'B', "a copy after the remap read the old page");
	ck_assert_int_eq(p2m_unmap(&dom, 3 * KB4, KB4), 0);
	read_byte(3 * KB4 + 5, -EFAULT);
	/* Read-only now: reads work, writes are refused, also after a cached read. */
	ck_assert_int_eq(p2m_map(&dom, 3 * KB4, (paddr_t)(uintptr_t)page_a, KB4, PT_R, MT_WB), 0);
	ck_assert_int_eq(read_byte(3 * KB4, 0), 'A');
	ck_assert_int_eq(copy_to_gpa(&dom, 3 * KB4, "x", 1), -EFAULT);
	ck_assert_int_eq(page_a[0], 'A');
}
END_TEST

START_TEST(not_ram_is_refused_even_if_mapped)
{
	setup();
	ck_assert_int_eq(p2m_map(&dom, 64 * KB4, (paddr_t)(uintptr_t)page_a, KB4, PT_RWX, MT_WB), 0);
	read_byte(64 * KB4, -EFAULT);
	/* A RAM removal (domain_release_memory) bumps the stamp too. */
	ck_assert_int_eq(p2m_map(&dom, 2 * KB4, (paddr_t)(uintptr_t)page_b, KB4, PT_RWX, MT_WB), 0);
	ck_assert_int_eq(read_byte(2 * KB4, 0), 'B');
	dom.nr_ram = 0;
	dom.mem_gen++;
	read_byte(2 * KB4, -EFAULT);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "gpa-cache-copies-follow-remap-and-unmap", &copies_follow_remap_and_unmap_ttest },
	{ "gpa-cache-not-ram-is-refused-even-if-mapped", &not_ram_is_refused_even_if_mapped_ttest },
	{ 0 },
};
