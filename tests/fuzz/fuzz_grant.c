/*
 * Grant tables as a state machine (kernel/grant_check.c, the pure rules,
 * and kernel/grant_table.c, which applies them to domains): the fuzzer's
 * bytes are a sequence of guest writes to grant entries and of
 * GNTTABOP_map/unmap/copy/swap/setup_table calls between three domains
 * (dom0 privileged), with domains dying and coming back; after each
 * operation the invariants below are checked.
 *
 * unit-sources: kernel/grant_check.c kernel/grant_table.c kernel/priv.c
 *
 * Environment: as tests/unit/test_grant.c, frames and pages come from the
 * C heap and the direct map is the identity; pages carry an owner and a
 * reference count; each domain's p2m is a list of 4 KiB entries, and the
 * entries grant_table.c itself creates (p2m_map) are told apart from the
 * RAM and table frames the harness placed. The harness keeps its own list
 * of the mappings that map calls reported as made.
 *
 * Invariants (keel/gnttab.h):
 *  - every page's reference count is its owner's reference (until the
 *    owner dies) plus one per live grant mapping of it: copies leave no
 *    reference, unmaps and deaths drop exactly theirs;
 *  - the p2m entries grant_table.c made are exactly the live mappings, at
 *    their gpa, read-only when mapped read-only, and gnttab_nr_mappings()
 *    and gnttab_gpa_is_mapped() agree;
 *  - while guests keep the hypervisor's in-use bits as the ABI asks (they
 *    change entries with a compare-and-exchange that keeps GTF_reading and
 *    GTF_writing), an entry of a live granter has GTF_reading exactly
 *    when it is mapped and GTF_writing exactly when mapped writable;
 *  - when every domain has died, no frame or page is left.
 */
#include <stdarg.h>

#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/gnttab.h>
#include <keel/page.h>
#include <keel/printk.h>
#include <asm/p2m.h>

#include "fuzz.h"

void printk(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

/* ---- frames and pages ---------------------------------------------------- */

static long frames_out;

paddr_t frame_alloc_contig(u64 n, u64 align)
{
	void *p = aligned_alloc(align, n * PAGE_SIZE);

	fuzz_check(p != NULL, "out of memory");
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
	fuzz_check(frames_out >= 0, "more frames freed than allocated");
}

void frame_free(paddr_t pa)
{
	frame_free_contig(pa, 1);
}

#define MAX_PAGES 256

static struct page {
	paddr_t pa;
	u16 owner;
	bool owner_ref; /* the owner's reference is still held */
	u32 refs;
} pages[MAX_PAGES];

static struct page *find_page(paddr_t pa)
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

			fuzz_check(p != NULL, "out of memory");
			memset(p, 0, PAGE_SIZE);
			pages[i] = (struct page){ (paddr_t)(uintptr_t)p, owner, true, 1 };
			return pages[i].pa;
		}
	}
	return 0; /* out of pages: grant_table.c must cope */
}

int page_get(paddr_t pa, u16 owner)
{
	struct page *pg = find_page(pa);

	if (!pg || pg->owner != owner)
		return -EINVAL;
	pg->refs++;
	return 0;
}

void page_put(paddr_t pa)
{
	struct page *pg = find_page(pa);

	fuzz_check(pg != NULL, "page_put of a page with no references: 0x%lx",
		   (unsigned long)pa);
	if (--pg->refs == 0)
		free((void *)(uintptr_t)pg->pa);
}

/* ---- domains and their p2m ------------------------------------------------- */

#define NR_DOMS 3
#define P2M_MAX 2048
#define RAM_GFN 0x100
#define RAM_PAGES 6
#define RO_GFN 0x180       /* a RAM page the domain sees read-only */
#define TABLE_GFN 0x200    /* where grant-table frames get placed */
#define HOLE_GPA 0x800000  /* holes, for mappings */

static struct domain doms[NR_DOMS];
static bool dom_used[NR_DOMS];

static struct p2m_entry {
	gpa_t gpa;
	paddr_t hpa;
	unsigned perms;
	bool grant; /* made by grant_table.c */
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

static bool harness_map; /* p2m_map called by the harness, not grant_table.c */

int p2m_map(struct domain *d, gpa_t gpa, paddr_t hpa, u64 size, unsigned perms,
	    enum memtype mt)
{
	struct p2m_entry *e = p2m_find(d, gpa);

	(void)mt;
	fuzz_check(size == PAGE_SIZE && !(gpa & ~PAGE_MASK) && !(hpa & ~PAGE_MASK),
		   "p2m_map(0x%lx, 0x%lx, 0x%lx)", (unsigned long)gpa, (unsigned long)hpa,
		   (unsigned long)size);
	fuzz_check(harness_map || !e, "grant mapping over an existing p2m entry at 0x%lx",
		   (unsigned long)gpa);
	fuzz_check(harness_map || !(perms & PT_X), "executable grant mapping");
	if (!e) {
		if (p2m_n[d->id] == P2M_MAX)
			return -ENOMEM;
		e = &p2m[d->id][p2m_n[d->id]++];
	}
	*e = (struct p2m_entry){ gpa, hpa, perms, !harness_map };
	return 0;
}

int p2m_unmap(struct domain *d, gpa_t gpa, u64 size)
{
	struct p2m_entry *e = p2m_find(d, gpa);

	fuzz_check(size == PAGE_SIZE, "p2m_unmap size 0x%lx", (unsigned long)size);
	if (e && (e->perms & PT_HELD_GRANT))
		return -EBUSY; /* asm/p2m.h: only p2m_unmap_grant removes it */
	if (e)
		*e = p2m[d->id][--p2m_n[d->id]];
	return 0;
}

/* asm/p2m.h: the grant code's own removal of its entry. */
int p2m_unmap_grant(struct domain *d, gpa_t gpa, paddr_t hpa)
{
	struct p2m_entry *e = p2m_find(d, gpa);

	if (!e || !(e->perms & PT_HELD_GRANT) || e->hpa != hpa)
		return -ENOENT;
	fuzz_check(e->grant, "p2m_unmap_grant of an entry grant_table.c did not make at 0x%lx",
		   (unsigned long)gpa);
	*e = p2m[d->id][--p2m_n[d->id]];
	return 0;
}

/* ---- the harness's record of live mappings ---------------------------------- */

#define MAX_MAPS 512

static struct map {
	u16 ld, rd;
	bool orphan; /* the granter died */
	bool ro;
	grant_handle_t handle;
	grant_ref_t ref;
	gpa_t gpa;
	paddr_t hpa;
} maps[MAX_MAPS];
static unsigned nr_maps;
static bool guests_scribbled;

static void create(unsigned id)
{
	struct domain *d = &doms[id];

	memset(d, 0, sizeof(*d));
	d->id = (u16)id;
	d->privileged = id == 0;
	d->state = DOM_RUNNING;
	dom_used[id] = true;
	p2m_n[id] = 0;
	fuzz_check(gnttab_domain_init(d) == 0, "gnttab_domain_init");
	harness_map = true;
	for (unsigned i = 0; i < RAM_PAGES; i++) {
		paddr_t pa = page_alloc_for(d->id);
		fuzz_check(pa, "out of test pages");
		p2m_map(d, (RAM_GFN + i) << PAGE_SHIFT, pa, PAGE_SIZE, PT_RWX, MT_WB);
		if (i == 0)
			p2m_map(d, (u64)RO_GFN << PAGE_SHIFT, pa, PAGE_SIZE, PT_R | PT_X, MT_WB);
	}
	harness_map = false;
}

/* As domain_destroy: dying, grants torn down, then the owner's reference
 * on every page the domain owns (RAM and table frames), p2m gone. */
static void destroy(unsigned id)
{
	struct domain *d = &doms[id];

	d->state = DOM_DYING;
	gnttab_domain_destroy(d);
	for (int i = 0; i < MAX_PAGES; i++)
		if (pages[i].refs && pages[i].owner == id && pages[i].owner_ref) {
			pages[i].owner_ref = false;
			page_put(pages[i].pa);
		}
	p2m_n[id] = 0;
	dom_used[id] = false;
	for (unsigned i = 0; i < nr_maps;) {
		if (maps[i].ld == id) {
			maps[i] = maps[--nr_maps];
			continue;
		}
		if (maps[i].rd == id)
			maps[i].orphan = true;
		i++;
	}
}

static struct grant_entry_v1 *entry_of(struct domain *d, grant_ref_t ref)
{
	paddr_t hpa;

	if (!grant_ref_in_range(ref, gnttab_nr_frames(d)) ||
	    gnttab_frame_for_physmap(d, ref / GNTTAB_ENTRIES_PER_FRAME, &hpa))
		return NULL;
	return (struct grant_entry_v1 *)(uintptr_t)hpa + ref % GNTTAB_ENTRIES_PER_FRAME;
}

/* ---- invariants ------------------------------------------------------------- */

/* GTF_reading exactly when d's entry ref is mapped, GTF_writing exactly
 * when mapped writable (page: the entries' frame). */
static void check_in_use(struct domain *d, struct grant_entry_v1 *page, grant_ref_t ref)
{
	const struct grant_entry_v1 *e = &page[ref % GNTTAB_ENTRIES_PER_FRAME];
	bool reading = false, writing = false;

	for (unsigned m = 0; m < nr_maps; m++)
		if (maps[m].rd == d->id && !maps[m].orphan && maps[m].ref == ref) {
			reading = true;
			writing |= !maps[m].ro;
		}
	fuzz_check(!!(e->flags & GTF_reading) == reading && !!(e->flags & GTF_writing) == writing,
		   "dom%u ref %u: flags %#x, mapped %d writable %d", d->id, ref, e->flags, reading,
		   writing);
}

static void check_all(void)
{
	for (int i = 0; i < MAX_PAGES; i++) {
		if (!pages[i].refs)
			continue;
		u32 want = pages[i].owner_ref;
		for (unsigned m = 0; m < nr_maps; m++)
			want += maps[m].hpa == pages[i].pa;
		fuzz_check(pages[i].refs == want, "page 0x%lx (owner %u%s): %u references, want %u",
			   (unsigned long)pages[i].pa, pages[i].owner,
			   pages[i].owner_ref ? "" : ", dead", pages[i].refs, want);
	}
	for (unsigned id = 0; id < NR_DOMS; id++) {
		struct domain *d = domain_by_id(id);
		unsigned grant_entries = 0, mine = 0;

		if (!d)
			continue;
		for (unsigned i = 0; i < p2m_n[id]; i++)
			grant_entries += p2m[id][i].grant;
		for (unsigned m = 0; m < nr_maps; m++) {
			if (maps[m].ld != id)
				continue;
			mine++;
			struct p2m_entry *e = p2m_find(d, maps[m].gpa);
			fuzz_check(e && e->grant && e->hpa == maps[m].hpa &&
					   (e->perms & PT_HELD_GRANT) &&
					   (e->perms & ~PT_HELD_GRANT) == (maps[m].ro ? PT_R : (PT_R | PT_W)),
				   "dom%u mapping at 0x%lx: p2m entry wrong or missing", id,
				   (unsigned long)maps[m].gpa);
			fuzz_check(gnttab_gpa_is_mapped(d, maps[m].gpa), "gpa_is_mapped(0x%lx)",
				   (unsigned long)maps[m].gpa);
		}
		fuzz_check(grant_entries == mine && gnttab_nr_mappings(d) == mine,
			   "dom%u: %u grant p2m entries, %u mappings reported, %u made", id,
			   grant_entries, gnttab_nr_mappings(d), mine);
		if (guests_scribbled)
			continue;
		/* Every entry marked in use, and every entry mapped. */
		for (unsigned f = 0; f < gnttab_nr_frames(d); f++) {
			struct grant_entry_v1 *page = entry_of(d, f * GNTTAB_ENTRIES_PER_FRAME);
			for (unsigned i = 0; i < GNTTAB_ENTRIES_PER_FRAME; i++)
				if (page[i].flags & (GTF_reading | GTF_writing))
					check_in_use(d, page, f * GNTTAB_ENTRIES_PER_FRAME + i);
		}
		for (unsigned m = 0; m < nr_maps; m++)
			if (maps[m].rd == id && !maps[m].orphan)
				check_in_use(d, entry_of(d, maps[m].ref) - maps[m].ref %
							    GNTTAB_ENTRIES_PER_FRAME, maps[m].ref);
	}
}

/* ---- operations --------------------------------------------------------------- */

static grant_ref_t pick_ref(struct fuzz_in *in)
{
	u8 b = fuzz_u8(in);
	return b < 0xf0 ? b % 12 : b < 0xfc ? 500 + b % 24 : fuzz_u32(in);
}

static domid_t pick_domid(struct fuzz_in *in)
{
	u8 b = fuzz_u8(in);
	return b < 0xf0 ? b % (NR_DOMS + 1) : b == 0xff ? DOMID_SELF : fuzz_u16(in);
}

static u64 pick_gfn(struct fuzz_in *in)
{
	u8 b = fuzz_u8(in);
	switch (b >> 6) {
	case 0: return RAM_GFN + b % (RAM_PAGES + 1);
	case 1: return b & 1 ? RO_GFN : TABLE_GFN + b % 4;
	case 2: return (HOLE_GPA >> PAGE_SHIFT) + b % 8;
	default: return fuzz_u64(in);
	}
}

static void one_op(struct fuzz_in *in)
{
	u8 op = fuzz_u8(in);
	unsigned id = fuzz_u8(in) % NR_DOMS;
	struct domain *d = domain_by_id(id);

	if (!d) {
		create(id);
		return;
	}
	switch (op % 12) {
	case 0:
	case 1: {
		/* The guest grants: type, readonly, domid and frame, keeping
		 * the hypervisor's in-use bits (a compare-and-exchange). */
		struct grant_entry_v1 *e = entry_of(d, pick_ref(in));
		u8 how = fuzz_u8(in);
		domid_t to = pick_domid(in);
		u64 gfn = pick_gfn(in);
		if (!e)
			return;
		u16 keep = e->flags & (GTF_reading | GTF_writing);
		e->domid = to;
		e->frame = (u32)gfn;
		e->flags = keep | (how & 3 ? GTF_permit_access : 0) | (how & 4 ? GTF_readonly : 0) |
			   (how & 8 ? GTF_sub_page : 0);
		return;
	}
	case 2: {
		/* A hostile guest writes the entry any way it likes. */
		struct grant_entry_v1 *e = entry_of(d, pick_ref(in));
		u16 flags = fuzz_u16(in), to = fuzz_u16(in);
		u32 frame = fuzz_u32(in);
		if (e) {
			*e = (struct grant_entry_v1){ .flags = flags, .domid = to, .frame = frame };
			guests_scribbled = true;
		}
		return;
	}
	case 3:
	case 4: {
		u8 f = fuzz_u8(in);
		struct gnttab_map_grant_ref m = {
			.flags = f < 0xf0 ? GNTMAP_host_map | (f & 1 ? GNTMAP_readonly : 0) : fuzz_u32(in),
			.dom = pick_domid(in),
			.ref = pick_ref(in),
			.host_addr = pick_gfn(in) << PAGE_SHIFT | (fuzz_u8(in) & 0x7f),
		};
		gnttab_map(d, &m);
		if (m.status != GNTST_okay)
			return;
		fuzz_check(nr_maps < MAX_MAPS, "too many mappings for the harness");
		for (unsigned i = 0; i < nr_maps; i++)
			fuzz_check(maps[i].ld != id || maps[i].handle != m.handle,
				   "handle %u given twice", m.handle);
		fuzz_check(m.dom < NR_DOMS && domain_by_id(m.dom), "mapped from dom%u", m.dom);
		maps[nr_maps++] = (struct map){
			.ld = (u16)id, .rd = m.dom, .ro = m.flags & GNTMAP_readonly, .handle = m.handle,
			.ref = m.ref, .gpa = m.host_addr & PAGE_MASK, .hpa = m.dev_bus_addr,
		};
		return;
	}
	case 5:
	case 6: {
		/* Mostly a handle the domain holds, else any. */
		u8 b = fuzz_u8(in);
		unsigned mine[MAX_MAPS], nr_mine = 0;
		for (unsigned k = 0; k < nr_maps; k++)
			if (maps[k].ld == id)
				mine[nr_mine++] = k;
		struct gnttab_unmap_grant_ref u = {
			.handle = b < 0xc0 && nr_mine ? maps[mine[b % nr_mine]].handle :
				  b < 0xf0 ? b % 16 : fuzz_u32(in),
		};
		unsigned i;
		for (i = 0; i < nr_maps; i++)
			if (maps[i].ld == id && maps[i].handle == u.handle)
				break;
		u8 how = fuzz_u8(in);
		u.host_addr = how < 0xe0 && i < nr_maps ? maps[i].gpa | (how & 0xf) :
			      how < 0xf0 ? 0 : pick_gfn(in) << PAGE_SHIFT;
		gnttab_unmap(d, &u);
		if (u.status == GNTST_okay && u.host_addr) {
			fuzz_check(i < nr_maps, "unmapped handle %u that was never mapped", u.handle);
			maps[i] = maps[--nr_maps];
		} else if (i == nr_maps) {
			fuzz_check(u.status == GNTST_bad_handle || u.status == GNTST_okay,
				   "unknown handle %u: status %d", u.handle, u.status);
		}
		return;
	}
	case 7: {
		u8 f = fuzz_u8(in);
		struct gnttab_copy c = {
			.flags = f & 3,
			.len = fuzz_u8(in) & 0x80 ? fuzz_u16(in) : fuzz_u8(in),
		};
		c.source.domid = pick_domid(in);
		c.dest.domid = pick_domid(in);
		c.source.offset = fuzz_u16(in) % 4200;
		c.dest.offset = fuzz_u16(in) % 4200;
		if (f & 1)
			c.source.u.ref = pick_ref(in);
		else
			c.source.u.gmfn = pick_gfn(in);
		if (f & 2)
			c.dest.u.ref = pick_ref(in);
		else
			c.dest.u.gmfn = pick_gfn(in);
		gnttab_copy(d, &c);
		return;
	}
	case 8:
		gnttab_swap(d, pick_ref(in), pick_ref(in));
		return;
	case 9: {
		struct domain *t;
		u8 n = fuzz_u8(in);
		if (gnttab_target(d, pick_domid(in), &t) == GNTST_okay)
			gnttab_setup(t, n < 0xf0 ? n % 4 : n - 0xf0 + 28);
		return;
	}
	case 10: {
		/* XENMEM_add_to_physmap(grant_table): the frame goes into
		 * the domain's p2m, where it may then be granted. */
		u8 idx = fuzz_u8(in);
		paddr_t hpa;
		u64 gfn = TABLE_GFN + idx % 4;
		/* hc_memory.c refuses to place anything over a grant mapping. */
		if (gnttab_gpa_is_mapped(d, gfn << PAGE_SHIFT))
			return;
		if (gnttab_frame_for_physmap(d, idx % 4 == 3 ? idx : idx % 4, &hpa) == 0) {
			harness_map = true;
			p2m_map(d, gfn << PAGE_SHIFT, hpa, PAGE_SIZE, PT_RWX, MT_WB);
			harness_map = false;
			gnttab_frame_placed(d, idx % 4 == 3 ? idx : idx % 4, gfn);
			fuzz_check(gnttab_frame_gfn(d, idx % 4 == 3 ? idx : idx % 4) == gfn,
				   "frame %u placed at 0x%lx, reported at 0x%lx", idx,
				   (unsigned long)gfn,
				   (unsigned long)gnttab_frame_gfn(d, idx % 4 == 3 ? idx : idx % 4));
		}
		return;
	}
	default:
		if (fuzz_u8(in) % 3 == 0)
			destroy(id);
		return;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };

	guests_scribbled = false;
	nr_maps = 0;
	create(0);
	create(1);
	for (unsigned n = 0; fuzz_more(&in) && n < 1000; n++) {
		one_op(&in);
		check_all();
	}
	for (unsigned id = 0; id < NR_DOMS; id++)
		if (dom_used[id])
			destroy(id);
	fuzz_check(nr_maps == 0, "mappings left");
	for (int i = 0; i < MAX_PAGES; i++)
		fuzz_check(!pages[i].refs, "page 0x%lx (owner %u) leaked with %u references",
			   (unsigned long)pages[i].pa, pages[i].owner, pages[i].refs);
	fuzz_check(frames_out == 0, "%ld frames leaked", frames_out);
	return 0;
}
