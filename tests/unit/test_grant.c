/*
 * Grant tables v1: the permission rules of an entry, the in-use flags and
 * pin counts, the maptrack handles, and the page references that keep a
 * granted page alive while it is mapped (include/keel/gnttab.h).
 *
 * unit-sources: kernel/grant_check.c kernel/grant_table.c kernel/priv.c
 *
 * grant_table.c runs here against stand-ins for what it uses from the
 * rest of the hypervisor: frames and pages come from the C heap (the
 * hypervisor's direct map is the identity, so a heap address serves as
 * the "physical" address), page ownership and references are counted in
 * a small table, each domain's p2m is a list of 4 KiB entries, and
 * domain_by_id() looks up a few test domains. Every test ends by checking
 * that no frame or page is left over.
 *
 * (A page freed by page_put keeps its slot's owner with refs 0; the
 * sweep in destroy() only looks at live pages.)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/gnttab.h>
#include <keel/page.h>
#include <keel/printk.h>
#include <asm/p2m.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

/* ---- stand-ins: printk, frames, pages -------------------------------------- */

void printk(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ck_abort_msg("panic: %s", msg);
	abort();
}

static long frames_out; /* hypervisor frames allocated and not freed */

paddr_t frame_alloc_contig(u64 n, u64 align)
{
	void *p = aligned_alloc(align, n * PAGE_SIZE);

	ck_assert_ptr_nonnull(p);
	memset(p, 0, n * PAGE_SIZE);
	frames_out += n;
	return (paddr_t)(uintptr_t)p;
}

paddr_t frame_alloc(void)
{
	return frame_alloc_contig(1, PAGE_SIZE);
}

void frame_free_contig(paddr_t pa, u64 n)
{
	free((void *)(uintptr_t)pa);
	frames_out -= n;
	ck_assert_int_ge(frames_out, 0);
}

void frame_free(paddr_t pa)
{
	frame_free_contig(pa, 1);
}

#define MAX_PAGES 64

static struct test_page {
	paddr_t pa;
	u16 owner;
	u32 refs;
} pages[MAX_PAGES];

static struct test_page *find_page(paddr_t pa)
{
	for (int i = 0; i < MAX_PAGES; i++)
		if (pages[i].refs && pages[i].pa == (pa & PAGE_MASK))
			return &pages[i];
	return NULL;
}

paddr_t page_alloc_for(u16 owner)
{
	for (int i = 0; i < MAX_PAGES; i++) {
		if (!pages[i].refs) {
			void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

			memset(p, 0, PAGE_SIZE);
			pages[i] = (struct test_page){ (paddr_t)(uintptr_t)p, owner, 1 };
			return pages[i].pa;
		}
	}
	ck_abort_msg("test page table full");
	return 0;
}

int page_get(paddr_t pa, u16 owner)
{
	struct test_page *pg = find_page(pa);

	if (!pg || pg->owner != owner)
		return -EINVAL;
	pg->refs++;
	return 0;
}

void page_put(paddr_t pa)
{
	struct test_page *pg = find_page(pa);

	ck_assert_msg(pg != NULL, "page_put of a page with no references: 0x%lx", pa);
	if (--pg->refs == 0)
		free((void *)(uintptr_t)pg->pa);
}

/* References on the page at pa (0 once freed). */
static u32 refs_of(paddr_t pa)
{
	struct test_page *pg = find_page(pa);

	return pg ? pg->refs : 0;
}

static int pages_live(void)
{
	int n = 0;

	for (int i = 0; i < MAX_PAGES; i++)
		n += pages[i].refs != 0;
	return n;
}

/* ---- stand-ins: domains and their p2m --------------------------------------- */

#define NR_DOMS 4
#define P2M_MAX 11000

static struct domain doms[NR_DOMS];
static bool dom_used[NR_DOMS];

static struct p2m_entry {
	gpa_t gpa;
	paddr_t hpa;
	unsigned perms;
} p2m[NR_DOMS][P2M_MAX];
static unsigned p2m_n[NR_DOMS];

struct domain *domain_by_id(unsigned id)
{
	return id < NR_DOMS && dom_used[id] ? &doms[id] : NULL;
}

static struct p2m_entry *p2m_find(struct domain *d, gpa_t gpa)
{
	for (unsigned i = 0; i < p2m_n[d->id]; i++)
		if (p2m[d->id][i].gpa == (gpa & PAGE_MASK))
			return &p2m[d->id][i];
	return NULL;
}

int p2m_lookup(struct domain *d, gpa_t gpa, paddr_t *hpa, unsigned *perms)
{
	struct p2m_entry *e = p2m_find(d, gpa);

	if (!e)
		return -ENOENT;
	if (hpa)
		*hpa = e->hpa | (gpa & ~PAGE_MASK);
	if (perms)
		*perms = e->perms;
	return 0;
}

int p2m_map(struct domain *d, gpa_t gpa, paddr_t hpa, u64 size, unsigned perms,
	    enum memtype mt)
{
	struct p2m_entry *e = p2m_find(d, gpa);

	(void)mt;
	ck_assert_uint_eq(size, PAGE_SIZE);
	if (!e) {
		ck_assert_uint_lt(p2m_n[d->id], P2M_MAX);
		e = &p2m[d->id][p2m_n[d->id]++];
	}
	*e = (struct p2m_entry){ gpa, hpa, perms };
	return 0;
}

int p2m_unmap(struct domain *d, gpa_t gpa, u64 size)
{
	struct p2m_entry *e = p2m_find(d, gpa);

	ck_assert_uint_eq(size, PAGE_SIZE);
	if (e && (e->perms & PT_HELD_GRANT))
		return -EBUSY; /* asm/p2m.h: only p2m_unmap_grant removes it */
	if (e)
		*e = p2m[d->id][--p2m_n[d->id]];
	return 0;
}

int p2m_unmap_grant(struct domain *d, gpa_t gpa, paddr_t hpa)
{
	struct p2m_entry *e = p2m_find(d, gpa);

	if (!e || !(e->perms & PT_HELD_GRANT) || e->hpa != hpa)
		return -ENOENT;
	*e = p2m[d->id][--p2m_n[d->id]];
	return 0;
}

/* ---- fixture ------------------------------------------------------------------ */

#define DOM_A 1 /* grants */
#define DOM_B 2 /* maps */
#define RAM_GFN 0x100      /* where each domain's test RAM page sits */
#define HOLE_GPA 0x800000  /* a hole in B's p2m, for mappings */

static struct domain *create(unsigned id, bool privileged)
{
	struct domain *d = &doms[id];

	memset(d, 0, sizeof(*d));
	d->id = (u16)id;
	d->privileged = privileged;
	d->state = DOM_RUNNING;
	dom_used[id] = true;
	p2m_n[id] = 0;
	ck_assert_int_eq(gnttab_domain_init(d), 0);
	return d;
}

/* A RAM page of d at gfn (owned by d, read/write in its p2m). */
static paddr_t give_ram(struct domain *d, u64 gfn)
{
	paddr_t pa = page_alloc_for(d->id);

	p2m_map(d, gfn << PAGE_SHIFT, pa, PAGE_SIZE, PT_RWX, MT_WB);
	return pa;
}

/* Destroys d as domain_destroy() does: grants first, then the owner's
 * reference on every page d owns (pages_put_owner_refs), RAM and grant
 * table frames alike. */
static void destroy(struct domain *d)
{
	gnttab_domain_destroy(d);
	for (int i = 0; i < MAX_PAGES; i++)
		if (pages[i].refs && pages[i].owner == d->id)
			page_put(pages[i].pa);
	p2m_n[d->id] = 0;
	dom_used[d->id] = false;
}

/* d's grant entry `ref`: the frame is reached via add_to_physmap. */
static struct grant_entry_v1 *entry(struct domain *d, grant_ref_t ref)
{
	paddr_t f;

	ck_assert_int_eq(gnttab_frame_for_physmap(d, ref / GNTTAB_ENTRIES_PER_FRAME, &f), 0);
	return (struct grant_entry_v1 *)(uintptr_t)f + ref % GNTTAB_ENTRIES_PER_FRAME;
}

/* The frontend's order: domid and frame, barrier, then flags. */
static void grant(struct domain *d, grant_ref_t ref, domid_t to, u64 gfn, bool ro)
{
	struct grant_entry_v1 *e = entry(d, ref);

	e->domid = to;
	e->frame = (u32)gfn;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	e->flags = GTF_permit_access | (ro ? GTF_readonly : 0);
}

static struct gnttab_map_grant_ref map_op(domid_t dom, grant_ref_t ref, u64 gpa, u32 flags)
{
	return (struct gnttab_map_grant_ref){
		.host_addr = gpa, .flags = flags, .ref = ref, .dom = dom,
		.status = 99, .handle = 0xdead,
	};
}

static s16 map(struct domain *ld, domid_t dom, grant_ref_t ref, u64 gpa, u32 flags, u32 *handle)
{
	struct gnttab_map_grant_ref op = map_op(dom, ref, gpa, flags);

	gnttab_map(ld, &op);
	if (handle)
		*handle = op.handle;
	return op.status;
}

static s16 unmap(struct domain *ld, u64 gpa, u32 handle)
{
	struct gnttab_unmap_grant_ref op = { .host_addr = gpa, .handle = handle, .status = 99 };

	gnttab_unmap(ld, &op);
	return op.status;
}

static void no_leaks(void)
{
	ck_assert_int_eq(frames_out, 0);
	ck_assert_msg(pages_live() == 0, "%d pages still allocated", pages_live());
}

/* Both test domains gone, everything back. */
static void teardown(struct domain *a, struct domain *b)
{
	destroy(a);
	destroy(b);
	no_leaks();
}

/* ---- entry rules (grant_check.c) ----------------------------------------------- */

START_TEST(map_flags_need_host_map)
{
	ck_assert_int_eq(grant_map_flags_check(0), GNTST_bad_gntref);
	ck_assert_int_eq(grant_map_flags_check(GNTMAP_readonly), GNTST_bad_gntref);
	ck_assert_int_eq(grant_map_flags_check(GNTMAP_application_map), GNTST_bad_gntref);
	ck_assert_int_eq(grant_map_flags_check(GNTMAP_host_map), GNTST_okay);
	ck_assert_int_eq(grant_map_flags_check(GNTMAP_host_map | GNTMAP_readonly), GNTST_okay);
}
END_TEST

START_TEST(map_flags_translated_host_map_only)
{
	ck_assert_int_eq(grant_map_flags_check(GNTMAP_device_map), GNTST_general_error);
	ck_assert_int_eq(grant_map_flags_check(GNTMAP_host_map | GNTMAP_device_map),
			 GNTST_general_error);
	ck_assert_int_eq(grant_map_flags_check(GNTMAP_host_map | GNTMAP_application_map),
			 GNTST_general_error);
	ck_assert_int_eq(grant_map_flags_check(GNTMAP_host_map | GNTMAP_contains_pte),
			 GNTST_general_error);
}
END_TEST

START_TEST(ref_range)
{
	ck_assert(!grant_ref_in_range(0, 0));
	ck_assert(grant_ref_in_range(0, 1));
	ck_assert(grant_ref_in_range(511, 1));
	ck_assert(!grant_ref_in_range(512, 1));
	ck_assert(grant_ref_in_range(GNTTAB_MAX_FRAMES * 512 - 1, GNTTAB_MAX_FRAMES));
	ck_assert(!grant_ref_in_range(0xffffffffu, GNTTAB_MAX_FRAMES));
}
END_TEST

static struct grant_entry_v1 e1;
static struct grant_active act1;

static void entry_says(u16 flags, domid_t domid)
{
	e1 = (struct grant_entry_v1){ .flags = flags, .domid = domid, .frame = 0x1234 };
	act1 = (struct grant_active){ 0 };
}

START_TEST(acquire_sets_in_use_flags)
{
	entry_says(GTF_permit_access, 2);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, false, true), GNTST_okay);
	ck_assert_uint_eq(e1.flags, GTF_permit_access | GTF_reading | GTF_writing);
	ck_assert_uint_eq(e1.domid, 2);
	ck_assert_uint_eq(e1.frame, 0x1234);

	entry_says(GTF_permit_access, 2);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_okay);
	ck_assert_uint_eq(e1.flags, GTF_permit_access | GTF_reading);
}
END_TEST

START_TEST(acquire_readonly_grant_refuses_write)
{
	entry_says(GTF_permit_access | GTF_readonly, 2);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, false, true), GNTST_general_error);
	ck_assert_uint_eq(e1.flags, GTF_permit_access | GTF_readonly); /* untouched */
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, false, false), GNTST_general_error);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_okay);
	ck_assert_uint_eq(e1.flags, GTF_permit_access | GTF_readonly | GTF_reading);

	/* Pinned read-only, then a writable use: still refused. */
	grant_pin(&act1, 2, 0x5000, true);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, false, true), GNTST_general_error);
	ck_assert_uint_eq(e1.flags, GTF_permit_access | GTF_readonly | GTF_reading);
}
END_TEST

START_TEST(acquire_wrong_domid_refused)
{
	entry_says(GTF_permit_access, 3);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_general_error);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, false), GNTST_general_error);
	ck_assert_uint_eq(e1.flags, GTF_permit_access);
}
END_TEST

START_TEST(acquire_needs_permit_access)
{
	static const u16 types[] = { GTF_invalid, GTF_accept_transfer, GTF_transitive };

	for (unsigned i = 0; i < 3; i++) {
		entry_says(types[i], 2);
		ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_general_error);
		ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, false), GNTST_general_error);
		ck_assert_uint_eq(e1.flags, types[i]);
	}
}
END_TEST

START_TEST(acquire_sub_page_only_for_copy)
{
	entry_says(GTF_permit_access | GTF_sub_page, 2);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_general_error);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, false), GNTST_okay);
}
END_TEST

START_TEST(acquire_pinned_by_other_domain_refused)
{
	entry_says(GTF_permit_access, 2);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_okay);
	grant_pin(&act1, 2, 0x5000, true);
	/* Even if the granter now names domain 3, the pin holder decides. */
	e1.domid = 3;
	ck_assert_int_eq(grant_acquire(&e1, &act1, 3, true, true), GNTST_general_error);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_okay);
}
END_TEST

START_TEST(pin_counter_overflow_refused)
{
	entry_says(GTF_permit_access, 2);
	act1 = (struct grant_active){ .pin_ro = GNTTAB_PIN_MAX, .domid = 2 };
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_general_error);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, false, true), GNTST_okay);
}
END_TEST

START_TEST(reduce_status_follows_pins)
{
	entry_says(GTF_permit_access, 2);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, false, true), GNTST_okay);
	grant_pin(&act1, 2, 0x5000, false);
	ck_assert_int_eq(grant_acquire(&e1, &act1, 2, true, true), GNTST_okay);
	grant_pin(&act1, 2, 0x9999, true);
	ck_assert_uint_eq(act1.hpa, 0x5000); /* the first pin fixed the frame */
	ck_assert_uint_eq(e1.flags, GTF_permit_access | GTF_reading | GTF_writing);

	grant_unpin(&act1, false);
	grant_reduce_status(&e1, &act1, false);
	ck_assert_uint_eq(e1.flags, GTF_permit_access | GTF_reading);
	grant_unpin(&act1, true);
	grant_reduce_status(&e1, &act1, true);
	ck_assert_uint_eq(e1.flags, GTF_permit_access);
	ck_assert(!grant_pinned(&act1));
}
END_TEST

START_TEST(copy_range_within_page)
{
	ck_assert_int_eq(grant_copy_range_check(0, 0, 4096), GNTST_okay);
	ck_assert_int_eq(grant_copy_range_check(4095, 4095, 1), GNTST_okay);
	ck_assert_int_eq(grant_copy_range_check(1, 0, 4096), GNTST_bad_copy_arg);
	ck_assert_int_eq(grant_copy_range_check(0, 4095, 2), GNTST_bad_copy_arg);
	ck_assert_int_eq(grant_copy_range_check(0xffff, 0, 0xffff), GNTST_bad_copy_arg);
}
END_TEST

START_TEST(maptrack_handles_until_exhausted)
{
	static struct maptrack mt;
	static u8 pages_mem[MAPTRACK_MAX_FRAMES][PAGE_SIZE] __attribute__((aligned(4096)));
	u32 total = MAPTRACK_MAX_FRAMES * MAPTRACK_PER_FRAME;

	maptrack_init(&mt);
	ck_assert_uint_eq(maptrack_get(&mt), MAPTRACK_NONE);
	ck_assert_ptr_null(maptrack_entry(&mt, 0));
	for (u32 i = 0; i < total; i++) {
		u32 h = maptrack_get(&mt);

		if (h == MAPTRACK_NONE) {
			ck_assert_int_eq(maptrack_add_frame(&mt, pages_mem[mt.nr_frames]), 0);
			h = maptrack_get(&mt);
		}
		ck_assert_uint_eq(h, i); /* lowest first, each once */
		maptrack_entry(&mt, h)->flags = GNTMAP_host_map;
	}
	ck_assert_uint_eq(mt.nr_used, total);
	ck_assert_uint_eq(maptrack_get(&mt), MAPTRACK_NONE);
	ck_assert_int_eq(maptrack_add_frame(&mt, pages_mem[0]), -ENOSPC);
	ck_assert_ptr_null(maptrack_entry(&mt, total));

	maptrack_put(&mt, 77);
	ck_assert_uint_eq(maptrack_entry(&mt, 77)->flags, 0);
	ck_assert_uint_eq(maptrack_get(&mt), 77);
	ck_assert_uint_eq(maptrack_get(&mt), MAPTRACK_NONE);
}
END_TEST

/* ---- map / unmap (grant_table.c) -------------------------------------------------- */

START_TEST(map_takes_reference_and_sets_flags)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	struct gnttab_map_grant_ref op = map_op(DOM_A, 10, HOLE_GPA | 0x123, GNTMAP_host_map);
	paddr_t hpa;
	unsigned perms;

	ck_assert_uint_eq(gnttab_nr_frames(a), GNTTAB_INITIAL_FRAMES);
	grant(a, 10, DOM_B, RAM_GFN, false);
	gnttab_map(b, &op);
	ck_assert_int_eq(op.status, GNTST_okay);
	ck_assert_uint_eq(op.dev_bus_addr, page);
	ck_assert_uint_eq(refs_of(page), 2);
	ck_assert_uint_eq(entry(a, 10)->flags, GTF_permit_access | GTF_reading | GTF_writing);
	ck_assert_int_eq(p2m_lookup(b, HOLE_GPA, &hpa, &perms), 0);
	ck_assert_uint_eq(hpa, page);
	ck_assert_uint_eq(perms, PT_R | PT_W | PT_HELD_GRANT); /* never executable */
	ck_assert_uint_eq(gnttab_nr_mappings(b), 1);
	ck_assert(gnttab_gpa_is_mapped(b, HOLE_GPA + 8));

	/* The guest ends the grant while mapped: it must see it in use. */
	ck_assert_int_eq(unmap(b, HOLE_GPA, op.handle), GNTST_okay);
	ck_assert_uint_eq(refs_of(page), 1);
	ck_assert_uint_eq(entry(a, 10)->flags, GTF_permit_access);
	ck_assert_int_eq(p2m_lookup(b, HOLE_GPA, NULL, NULL), -ENOENT);
	ck_assert_uint_eq(gnttab_nr_mappings(b), 0);
	ck_assert(!gnttab_gpa_is_mapped(b, HOLE_GPA));
	teardown(a, b);
}
END_TEST

START_TEST(map_readonly_grant_writable_refused)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	unsigned perms;
	u32 h;

	grant(a, 8, DOM_B, RAM_GFN, true);
	ck_assert_int_eq(map(b, DOM_A, 8, HOLE_GPA, GNTMAP_host_map, &h), GNTST_general_error);
	/* Nothing changed. */
	ck_assert_uint_eq(entry(a, 8)->flags, GTF_permit_access | GTF_readonly);
	ck_assert_uint_eq(refs_of(page), 1);
	ck_assert_int_eq(p2m_lookup(b, HOLE_GPA, NULL, NULL), -ENOENT);
	ck_assert_uint_eq(gnttab_nr_mappings(b), 0);

	ck_assert_int_eq(map(b, DOM_A, 8, HOLE_GPA, GNTMAP_host_map | GNTMAP_readonly, &h),
			 GNTST_okay);
	ck_assert_uint_eq(entry(a, 8)->flags, GTF_permit_access | GTF_readonly | GTF_reading);
	ck_assert_int_eq(p2m_lookup(b, HOLE_GPA, NULL, &perms), 0);
	ck_assert_uint_eq(perms, PT_R | PT_HELD_GRANT);
	ck_assert_int_eq(unmap(b, HOLE_GPA, h), GNTST_okay);
	ck_assert_uint_eq(entry(a, 8)->flags, GTF_permit_access | GTF_readonly);
	teardown(a, b);
}
END_TEST

START_TEST(map_bad_inputs_change_nothing)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	paddr_t own = give_ram(b, RAM_GFN);
	u32 h;

	grant(a, 9, DOM_B, RAM_GFN, false);
	grant(a, 11, 3, RAM_GFN, false);          /* granted to someone else */
	grant(a, 12, DOM_B, 0x777, false);        /* a frame A does not have */
	grant(a, 13, DOM_B, RAM_GFN, false);
	entry(a, 13)->flags = GTF_accept_transfer; /* not permit_access */

	ck_assert_int_eq(map(b, 3, 9, HOLE_GPA, GNTMAP_host_map, &h), GNTST_bad_domain);
	ck_assert_int_eq(map(b, DOMID_SELF, 9, HOLE_GPA, GNTMAP_host_map, &h), GNTST_bad_domain);
	ck_assert_int_eq(map(b, 0xffff, 9, HOLE_GPA, GNTMAP_host_map, &h), GNTST_bad_domain);
	ck_assert_int_eq(map(b, DOM_A, 512, HOLE_GPA, GNTMAP_host_map, &h), GNTST_bad_gntref);
	ck_assert_int_eq(map(b, DOM_A, 0xffffffff, HOLE_GPA, GNTMAP_host_map, &h),
			 GNTST_bad_gntref);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA, 0, &h), GNTST_bad_gntref);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA, GNTMAP_device_map, &h), GNTST_general_error);
	ck_assert_int_eq(map(b, DOM_A, 11, HOLE_GPA, GNTMAP_host_map, &h), GNTST_general_error);
	ck_assert_int_eq(map(b, DOM_A, 13, HOLE_GPA, GNTMAP_host_map, &h), GNTST_general_error);
	ck_assert_int_eq(map(b, DOM_A, 12, HOLE_GPA, GNTMAP_host_map, &h), GNTST_bad_page);
	/* Over B's own RAM, at page 0, beyond the p2m: refused. */
	ck_assert_int_eq(map(b, DOM_A, 9, RAM_GFN << PAGE_SHIFT, GNTMAP_host_map, &h),
			 GNTST_general_error);
	ck_assert_int_eq(map(b, DOM_A, 9, 0, GNTMAP_host_map, &h), GNTST_general_error);
	ck_assert_int_eq(map(b, DOM_A, 9, GNTTAB_GPA_LIMIT, GNTMAP_host_map, &h),
			 GNTST_general_error);

	ck_assert_uint_eq(refs_of(page), 1);
	ck_assert_uint_eq(refs_of(own), 1);
	ck_assert_uint_eq(entry(a, 9)->flags, GTF_permit_access);
	ck_assert_uint_eq(entry(a, 12)->flags, GTF_permit_access);
	ck_assert_uint_eq(entry(a, 13)->flags, GTF_accept_transfer);
	ck_assert_uint_eq(gnttab_nr_mappings(b), 0);
	ck_assert_uint_eq(p2m_n[DOM_B], 1); /* only its RAM page */
	teardown(a, b);
}
END_TEST

START_TEST(map_twice_flags_until_last_unmap)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	u32 h1, h2, h3;

	grant(a, 20, DOM_B, RAM_GFN, false);
	ck_assert_int_eq(map(b, DOM_A, 20, HOLE_GPA, GNTMAP_host_map | GNTMAP_readonly, &h1),
			 GNTST_okay);
	ck_assert_int_eq(map(b, DOM_A, 20, HOLE_GPA + 0x1000, GNTMAP_host_map, &h2),
			 GNTST_okay);
	/* A second mapping at an occupied address is refused. */
	ck_assert_int_eq(map(b, DOM_A, 20, HOLE_GPA, GNTMAP_host_map, &h3), GNTST_general_error);
	ck_assert_uint_ne(h1, h2);
	ck_assert_uint_eq(refs_of(page), 3);

	/* While pinned, the granter retargets the entry's frame: the pin
	 * keeps the first frame. */
	entry(a, 20)->frame = 0x999;
	ck_assert_int_eq(map(b, DOM_A, 20, HOLE_GPA + 0x2000, GNTMAP_host_map, &h3), GNTST_okay);
	ck_assert_uint_eq(refs_of(page), 4);
	ck_assert_int_eq(unmap(b, HOLE_GPA + 0x2000, h3), GNTST_okay);

	ck_assert_int_eq(unmap(b, HOLE_GPA + 0x1000, h2), GNTST_okay);
	ck_assert_uint_eq(entry(a, 20)->flags, GTF_permit_access | GTF_reading);
	ck_assert_int_eq(unmap(b, HOLE_GPA, h1), GNTST_okay);
	ck_assert_uint_eq(entry(a, 20)->flags, GTF_permit_access);
	ck_assert_uint_eq(refs_of(page), 1);
	teardown(a, b);
}
END_TEST

START_TEST(unmap_bad_handle_and_address)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	u32 h;

	ck_assert_int_eq(unmap(b, HOLE_GPA, 0), GNTST_bad_handle);
	grant(a, 9, DOM_B, RAM_GFN, false);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA, GNTMAP_host_map, &h), GNTST_okay);
	ck_assert_int_eq(unmap(b, HOLE_GPA, h + 1), GNTST_bad_handle);
	ck_assert_int_eq(unmap(b, HOLE_GPA, 123456), GNTST_bad_handle);
	ck_assert_int_eq(unmap(b, HOLE_GPA + 0x1000, h), GNTST_general_error);
	ck_assert_int_eq(unmap(b, 0, h), GNTST_okay); /* Xen: no host_addr, nothing done */
	ck_assert_uint_eq(refs_of(page), 2);
	ck_assert_int_eq(p2m_lookup(b, HOLE_GPA, NULL, NULL), 0);

	ck_assert_int_eq(unmap(b, HOLE_GPA, h), GNTST_okay);
	ck_assert_int_eq(unmap(b, HOLE_GPA, h), GNTST_bad_handle); /* twice */
	ck_assert_uint_eq(refs_of(page), 1);
	teardown(a, b);
}
END_TEST

START_TEST(map_own_grant)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	u32 h;

	grant(a, 15, DOM_A, RAM_GFN, false);
	ck_assert_int_eq(map(a, DOM_A, 15, HOLE_GPA, GNTMAP_host_map, &h), GNTST_okay);
	ck_assert_uint_eq(refs_of(page), 2);
	/* Destroying A with its self-mapping in place releases both. */
	teardown(a, b);
}
END_TEST

START_TEST(handles_exhausted_no_space)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, true);
	paddr_t page = give_ram(a, RAM_GFN);
	u32 total = MAPTRACK_MAX_FRAMES * MAPTRACK_PER_FRAME, h;

	grant(a, 9, DOM_B, RAM_GFN, true);
	for (u32 i = 0; i < total; i++)
		ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA + ((u64)i << PAGE_SHIFT),
				     GNTMAP_host_map | GNTMAP_readonly, &h), GNTST_okay);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA + ((u64)total << PAGE_SHIFT),
			     GNTMAP_host_map | GNTMAP_readonly, &h), GNTST_no_space);
	ck_assert_uint_eq(refs_of(page), 1 + total);
	ck_assert_int_eq(unmap(b, HOLE_GPA + 5 * PAGE_SIZE, 5), GNTST_okay);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA + 5 * PAGE_SIZE,
			     GNTMAP_host_map | GNTMAP_readonly, &h), GNTST_okay);
	ck_assert_uint_eq(h, 5);
	/* B's destruction releases all of them. */
	destroy(b);
	ck_assert_uint_eq(refs_of(page), 1);
	ck_assert_uint_eq(entry(a, 9)->flags, GTF_permit_access | GTF_readonly);
	destroy(a);
	no_leaks();
}
END_TEST

START_TEST(unprivileged_handle_limit)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	u32 limit = MAPTRACK_MAX_FRAMES_DOMU * MAPTRACK_PER_FRAME, h;

	grant(a, 9, DOM_B, RAM_GFN, true);
	for (u32 i = 0; i < limit; i++)
		ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA + ((u64)i << PAGE_SHIFT),
				     GNTMAP_host_map | GNTMAP_readonly, &h), GNTST_okay);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA + ((u64)limit << PAGE_SHIFT),
			     GNTMAP_host_map | GNTMAP_readonly, &h), GNTST_no_space);
	ck_assert_uint_eq(refs_of(page), 1 + limit);
	teardown(b, a);
}
END_TEST

/* ---- destruction -------------------------------------------------------------------- */

START_TEST(page_outlives_destroyed_granter)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	u32 h;

	grant(a, 9, DOM_B, RAM_GFN, false);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA, GNTMAP_host_map, &h), GNTST_okay);
	*(volatile u32 *)(uintptr_t)page = 0xfeedf00d;
	destroy(a);
	/* A's RAM reference and table are gone; B's mapping keeps the page. */
	ck_assert_uint_eq(refs_of(page), 1);
	ck_assert_uint_eq(*(volatile u32 *)(uintptr_t)page, 0xfeedf00d);
	/* A new domain with A's id does not inherit anything. */
	a = create(DOM_A, false);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA + 0x1000, GNTMAP_host_map, &h),
			 GNTST_general_error);
	ck_assert_int_eq(unmap(b, HOLE_GPA, 0), GNTST_okay); /* the orphan: handle 0 */
	ck_assert_uint_eq(refs_of(page), 0);
	teardown(a, b);
}
END_TEST

START_TEST(destroyed_mapper_releases_pins)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t page = give_ram(a, RAM_GFN);
	u32 h;

	grant(a, 9, DOM_B, RAM_GFN, false);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA, GNTMAP_host_map, &h), GNTST_okay);
	destroy(b);
	/* The frontend can now end its grant: flags are clear. */
	ck_assert_uint_eq(entry(a, 9)->flags, GTF_permit_access);
	ck_assert_uint_eq(refs_of(page), 1);
	destroy(a);
	no_leaks();
}
END_TEST

START_TEST(destroyed_domain_table_frames_freed)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t f;

	ck_assert_int_eq(gnttab_frame_for_physmap(a, 5, &f), 0);
	ck_assert_uint_eq(gnttab_nr_frames(a), 6);
	ck_assert_int_eq(pages_live(), 6 + GNTTAB_INITIAL_FRAMES);
	teardown(a, b);
}
END_TEST

START_TEST(table_frame_mapped_by_other_outlives_owner)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t f;

	ck_assert_int_eq(gnttab_frame_for_physmap(a, 0, &f), 0);
	ck_assert_int_eq(page_get(f, DOM_A), 0); /* B maps A's table frame (foreign map) */
	destroy(a);
	ck_assert_uint_eq(refs_of(f), 1);        /* kept for B, not freed twice */
	page_put(f);                              /* B lets go */
	ck_assert_uint_eq(refs_of(f), 0);
	destroy(b);
	no_leaks();
}
END_TEST

/* ---- frames, setup, target, swap ----------------------------------------------------- */

START_TEST(frame_for_physmap_grows_and_bounds)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t f0, f3, again;

	ck_assert_int_eq(gnttab_frame_for_physmap(a, 0, &f0), 0);
	ck_assert_int_eq(gnttab_frame_for_physmap(a, 3, &f3), 0);
	ck_assert_uint_eq(gnttab_nr_frames(a), 4);
	ck_assert_int_eq(gnttab_frame_for_physmap(a, 3, &again), 0);
	ck_assert_uint_eq(again, f3);
	ck_assert_int_eq(page_get(f3, DOM_A), 0); /* owned by A */
	page_put(f3);
	ck_assert_int_eq(gnttab_frame_for_physmap(a, GNTTAB_MAX_FRAMES, &again), -EINVAL);
	ck_assert_int_eq(gnttab_frame_for_physmap(a, 0x80000000ul, &again), -EINVAL);
	ck_assert_uint_eq(gnttab_nr_frames(a), 4);

	/* Placement, as add_to_physmap reports it. */
	ck_assert_uint_eq(gnttab_frame_gfn(a, 3), GNTTAB_INVALID_GFN);
	p2m_map(a, 0x5000ul << PAGE_SHIFT, f3, PAGE_SIZE, PT_R | PT_W, MT_WB);
	gnttab_frame_placed(a, 3, 0x5000);
	ck_assert_uint_eq(gnttab_frame_gfn(a, 3), 0x5000);
	p2m_map(a, 0x5000ul << PAGE_SHIFT, f0, PAGE_SIZE, PT_R | PT_W, MT_WB);
	ck_assert_uint_eq(gnttab_frame_gfn(a, 3), GNTTAB_INVALID_GFN); /* replaced */
	ck_assert_uint_eq(gnttab_frame_gfn(a, 30), GNTTAB_INVALID_GFN);
	p2m_unmap(a, 0x5000ul << PAGE_SHIFT, PAGE_SIZE);
	teardown(a, b);
}
END_TEST

START_TEST(setup_and_target_rules)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	struct domain *z = create(0, true), *t = NULL;

	ck_assert_int_eq(gnttab_target(a, DOMID_SELF, &t), GNTST_okay);
	ck_assert_ptr_eq(t, a);
	ck_assert_int_eq(gnttab_target(a, DOM_A, &t), GNTST_okay);
	ck_assert_int_eq(gnttab_target(a, DOM_B, &t), GNTST_permission_denied);
	ck_assert_int_eq(gnttab_target(a, 3, &t), GNTST_bad_domain);
	ck_assert_int_eq(gnttab_target(z, DOM_B, &t), GNTST_okay);
	ck_assert_ptr_eq(t, b);

	ck_assert_int_eq(gnttab_setup(a, GNTTAB_MAX_FRAMES + 1), GNTST_general_error);
	ck_assert_uint_eq(gnttab_nr_frames(a), GNTTAB_INITIAL_FRAMES);
	ck_assert_int_eq(gnttab_setup(a, 4), GNTST_okay);
	ck_assert_uint_eq(gnttab_nr_frames(a), 4);
	ck_assert_int_eq(gnttab_setup(a, 2), GNTST_okay); /* never shrinks */
	ck_assert_uint_eq(gnttab_nr_frames(a), 4);
	destroy(z);
	teardown(a, b);
}
END_TEST

START_TEST(swap_refuses_pinned_entries)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	u32 h;

	give_ram(a, RAM_GFN);
	grant(a, 9, DOM_B, RAM_GFN, false);
	grant(a, 10, 3, 0x42, true);
	ck_assert_int_eq(gnttab_swap(a, 9, 512), GNTST_bad_gntref);
	ck_assert_int_eq(gnttab_swap(a, 9, 9), GNTST_okay);
	ck_assert_int_eq(gnttab_swap(a, 9, 10), GNTST_okay);
	ck_assert_uint_eq(entry(a, 9)->domid, 3);
	ck_assert_uint_eq(entry(a, 10)->domid, DOM_B);
	ck_assert_int_eq(map(b, DOM_A, 10, HOLE_GPA, GNTMAP_host_map, &h), GNTST_okay);
	ck_assert_int_eq(gnttab_swap(a, 9, 10), GNTST_eagain);
	ck_assert_int_eq(unmap(b, HOLE_GPA, h), GNTST_okay);
	teardown(a, b);
}
END_TEST

/* ---- copy --------------------------------------------------------------------------------- */

static struct gnttab_copy copy_op(u64 src, domid_t sdom, u16 soff, u64 dst, domid_t ddom,
				  u16 doff, u16 len, u16 flags)
{
	struct gnttab_copy op = { .len = len, .flags = flags };

	if (flags & GNTCOPY_source_gref)
		op.source.u.ref = (u32)src;
	else
		op.source.u.gmfn = src;
	if (flags & GNTCOPY_dest_gref)
		op.dest.u.ref = (u32)dst;
	else
		op.dest.u.gmfn = dst;
	op.source.domid = sdom;
	op.source.offset = soff;
	op.dest.domid = ddom;
	op.dest.offset = doff;
	return op;
}

START_TEST(copy_rules_and_bytes)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t apage = give_ram(a, RAM_GFN), bpage = give_ram(b, RAM_GFN);
	paddr_t bpage2 = give_ram(b, RAM_GFN + 1);
	u8 *ap = (u8 *)(uintptr_t)apage, *bp = (u8 *)(uintptr_t)bpage;
	u8 *bp2 = (u8 *)(uintptr_t)bpage2;
	struct gnttab_copy op;

	for (int i = 0; i < 4096; i++)
		ap[i] = (u8)(i * 7);
	grant(a, 9, DOM_B, RAM_GFN, true);

	/* From A's read-only grant into B's own frame. */
	op = copy_op(9, DOM_A, 100, RAM_GFN, DOMID_SELF, 200, 300, GNTCOPY_source_gref);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_okay);
	ck_assert_int_eq(memcmp(bp + 200, ap + 100, 300), 0);
	ck_assert_uint_eq(entry(a, 9)->flags, GTF_permit_access | GTF_readonly);
	ck_assert_uint_eq(refs_of(apage), 1);

	/* Frame to frame inside B. */
	op = copy_op(RAM_GFN, DOMID_SELF, 0, RAM_GFN + 1, DOMID_SELF, 0, 4096, 0);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_okay);
	ck_assert_int_eq(memcmp(bp2, bp, 4096), 0);

	/* Refusals. */
	op = copy_op(9, DOM_A, 0, 9, DOM_A, 0, 8, GNTCOPY_source_gref | GNTCOPY_dest_gref);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_general_error); /* read-only dest */
	op = copy_op(RAM_GFN, DOM_B, 0, RAM_GFN + 1, DOMID_SELF, 0, 8, 0);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_permission_denied); /* frame, not SELF */
	op = copy_op(9, 3, 0, RAM_GFN, DOMID_SELF, 0, 8, GNTCOPY_source_gref);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_bad_domain);
	op = copy_op(600, DOM_A, 0, RAM_GFN, DOMID_SELF, 0, 8, GNTCOPY_source_gref);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_bad_gntref);
	op = copy_op(0x777, DOMID_SELF, 0, RAM_GFN, DOMID_SELF, 0, 8, 0);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_bad_page);
	op = copy_op(~0ull, DOMID_SELF, 0, RAM_GFN, DOMID_SELF, 0, 8, 0);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_bad_page);
	op = copy_op(9, DOM_A, 4000, RAM_GFN, DOMID_SELF, 0, 200, GNTCOPY_source_gref);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_bad_copy_arg);
	op = copy_op(9, DOM_A, 0, RAM_GFN, DOMID_SELF, 4095, 2, GNTCOPY_source_gref);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_bad_copy_arg);
	op = copy_op(0x777, 77, 0, 0x777, 77, 0, 0, 0); /* len 0: nothing checked */
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_okay);
	/* A's grant names B, not A itself. */
	op = copy_op(9, DOM_A, 0, RAM_GFN, DOMID_SELF, 0, 8, GNTCOPY_source_gref);
	ck_assert_int_eq(gnttab_copy(a, &op), GNTST_general_error);

	/* After all that: no pins, no extra references. */
	ck_assert_uint_eq(entry(a, 9)->flags, GTF_permit_access | GTF_readonly);
	ck_assert_uint_eq(refs_of(apage), 1);
	ck_assert_uint_eq(refs_of(bpage), 1);
	ck_assert_uint_eq(refs_of(bpage2), 1);
	teardown(a, b);
}
END_TEST

START_TEST(copy_into_mapped_grant_keeps_mapping_flags)
{
	struct domain *a = create(DOM_A, false), *b = create(DOM_B, false);
	paddr_t apage = give_ram(a, RAM_GFN);
	struct gnttab_copy op;
	u32 h;

	give_ram(b, RAM_GFN);
	grant(a, 9, DOM_B, RAM_GFN, false);
	ck_assert_int_eq(map(b, DOM_A, 9, HOLE_GPA, GNTMAP_host_map | GNTMAP_readonly, &h),
			 GNTST_okay);
	op = copy_op(RAM_GFN, DOMID_SELF, 0, 9, DOM_A, 0, 64, GNTCOPY_dest_gref);
	ck_assert_int_eq(gnttab_copy(b, &op), GNTST_okay);
	/* The copy's writable pin went; the read-only mapping's stays. */
	ck_assert_uint_eq(entry(a, 9)->flags, GTF_permit_access | GTF_reading);
	ck_assert_uint_eq(refs_of(apage), 2);
	ck_assert_int_eq(unmap(b, HOLE_GPA, h), GNTST_okay);
	teardown(a, b);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "grant-map-flags-need-host-map", &map_flags_need_host_map_ttest },
	{ "grant-map-flags-translated-host-map-only", &map_flags_translated_host_map_only_ttest },
	{ "grant-ref-range", &ref_range_ttest },
	{ "grant-acquire-sets-in-use-flags", &acquire_sets_in_use_flags_ttest },
	{ "grant-acquire-readonly-grant-refuses-write", &acquire_readonly_grant_refuses_write_ttest },
	{ "grant-acquire-wrong-domid-refused", &acquire_wrong_domid_refused_ttest },
	{ "grant-acquire-needs-permit-access", &acquire_needs_permit_access_ttest },
	{ "grant-acquire-sub-page-only-for-copy", &acquire_sub_page_only_for_copy_ttest },
	{ "grant-acquire-pinned-by-other-domain-refused",
	  &acquire_pinned_by_other_domain_refused_ttest },
	{ "grant-pin-counter-overflow-refused", &pin_counter_overflow_refused_ttest },
	{ "grant-reduce-status-follows-pins", &reduce_status_follows_pins_ttest },
	{ "grant-copy-range-within-page", &copy_range_within_page_ttest },
	{ "grant-maptrack-handles-until-exhausted", &maptrack_handles_until_exhausted_ttest },
	{ "grant-map-takes-reference-and-sets-flags", &map_takes_reference_and_sets_flags_ttest },
	{ "grant-map-readonly-grant-writable-refused",
	  &map_readonly_grant_writable_refused_ttest },
	{ "grant-map-bad-inputs-change-nothing", &map_bad_inputs_change_nothing_ttest },
	{ "grant-map-twice-flags-until-last-unmap", &map_twice_flags_until_last_unmap_ttest },
	{ "grant-unmap-bad-handle-and-address", &unmap_bad_handle_and_address_ttest },
	{ "grant-map-own-grant", &map_own_grant_ttest },
	{ "grant-handles-exhausted-no-space", &handles_exhausted_no_space_ttest },
	{ "grant-unprivileged-handle-limit", &unprivileged_handle_limit_ttest },
	{ "grant-page-outlives-destroyed-granter", &page_outlives_destroyed_granter_ttest },
	{ "grant-destroyed-mapper-releases-pins", &destroyed_mapper_releases_pins_ttest },
	{ "grant-destroyed-domain-table-frames-freed", &destroyed_domain_table_frames_freed_ttest },
	{ "grant-table-frame-mapped-by-other-outlives-owner",
	  &table_frame_mapped_by_other_outlives_owner_ttest },
	{ "grant-frame-for-physmap-grows-and-bounds", &frame_for_physmap_grows_and_bounds_ttest },
	{ "grant-setup-and-target-rules", &setup_and_target_rules_ttest },
	{ "grant-swap-refuses-pinned-entries", &swap_refuses_pinned_entries_ttest },
	{ "grant-copy-rules-and-bytes", &copy_rules_and_bytes_ttest },
	{ "grant-copy-into-mapped-grant-keeps-mapping-flags",
	  &copy_into_mapped_grant_keeps_mapping_flags_ttest },
	{ 0 },
};
