/*
 * Per-domain grant tables and the map / unmap / copy operations on them
 * (contracts in include/keel/gnttab.h; the checks themselves are in
 * grant_check.c). The facts followed here are Xen's common/grant_table.c
 * and arch/x86/hvm/grant_table.c, for an auto-translated caller.
 *
 * Memory:
 *  - shared frames (the entries the guest writes) are RAM owned by the
 *    granting domain (page_alloc_for: the owner's reference, dropped with
 *    the rest of the domain's frames when it is destroyed); the guest
 *    reaches them through XENMEM_add_to_physmap;
 *  - active entries (the hypervisor's pin counts) and maptrack frames are
 *    the hypervisor's own (frame_alloc), never mapped into a guest;
 *  - every mapping and every copy in progress holds one page reference on
 *    the granted frame, so it outlives its owner's destruction if need be.
 *
 * The tables live in a static array indexed by domain id rather than in
 * struct domain: an all-zero table is a valid empty one, so a domain
 * created without gnttab_domain_init() still works, and destruction needs
 * nothing from the domain but its id.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/gnttab.h>
#include <lib/string.h>
#include <keel/page.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <asm/p2m.h>

static struct grant_table tables[DOMID_MAX];

static struct grant_table *gt_of(const struct domain *d)
{
	return &tables[d->id];
}

static struct grant_entry_v1 *shared_entry(const struct grant_table *gt, grant_ref_t ref)
{
	struct grant_entry_v1 *f = phys_to_virt(gt->shared[ref / GNTTAB_ENTRIES_PER_FRAME]);

	return &f[ref % GNTTAB_ENTRIES_PER_FRAME];
}

static struct grant_active *active_entry(const struct grant_table *gt, grant_ref_t ref)
{
	return &gt->active[ref / GNTTAB_ENTRIES_PER_FRAME][ref % GNTTAB_ENTRIES_PER_FRAME];
}

/* A domain whose grants may be used: exists and is not being torn down. */
static struct domain *granter_by_id(domid_t id)
{
	struct domain *d = domain_by_id(id);

	return d && d->state != DOM_DYING ? d : NULL;
}

/* ---- growing and freeing ------------------------------------------------- */

/*
 * Grows d's table to n frames (n <= GNTTAB_MAX_FRAMES). On failure the
 * frames added by this call are given back and the table is as before.
 */
static int grow(struct domain *d, struct grant_table *gt, unsigned n)
{
	unsigned old = gt->nr_frames;

	while (gt->nr_frames < n) {
		unsigned i = gt->nr_frames;
		paddr_t shared = page_alloc_for(d->id);
		paddr_t act = frame_alloc_contig(GNTTAB_ACTIVE_FRAMES_PER_FRAME, PAGE_SIZE);

		if (!shared || !act) {
			if (shared)
				page_put(shared);
			if (act)
				frame_free_contig(act, GNTTAB_ACTIVE_FRAMES_PER_FRAME);
			goto undo;
		}
		/* Both are zeroed: entries invalid, nothing pinned. */
		gt->shared[i] = shared;
		gt->active[i] = phys_to_virt(act);
		gt->gfn[i] = GNTTAB_INVALID_GFN;
		gt->nr_frames = i + 1;
	}
	return 0;

undo:
	while (gt->nr_frames > old) {
		unsigned i = --gt->nr_frames;

		page_put(gt->shared[i]);
		frame_free_contig(virt_to_phys(gt->active[i]), GNTTAB_ACTIVE_FRAMES_PER_FRAME);
		gt->shared[i] = 0;
		gt->active[i] = NULL;
	}
	return -ENOMEM;
}

/*
 * Forgets the table. The shared frames are not put here: their one
 * reference is their owner's, which the domain's destruction drops for
 * every frame the domain owns (pages_put_owner_refs), RAM and table
 * frames alike; putting it here too would free a table frame that
 * another domain still maps.
 */
static void free_frames(struct grant_table *gt)
{
	for (unsigned i = 0; i < gt->nr_frames; i++)
		frame_free_contig(virt_to_phys(gt->active[i]), GNTTAB_ACTIVE_FRAMES_PER_FRAME);
	for (unsigned i = 0; i < gt->maptrack.nr_frames; i++)
		frame_free(virt_to_phys(gt->maptrack.frame[i]));
	memset(gt, 0, sizeof(*gt));
	maptrack_init(&gt->maptrack);
}

static bool table_empty(const struct grant_table *gt)
{
	return gt->nr_frames == 0 && gt->maptrack.nr_frames == 0;
}

/* ---- domain life cycle ---------------------------------------------------- */

int gnttab_domain_init(struct domain *d)
{
	struct grant_table *gt = gt_of(d);

	if (!table_empty(gt)) {
		/* The last domain with this id was not torn down (a bug in
		 * the caller): drop its state rather than inherit its grants. */
		pr_warn("domain %u: stale grant table from an earlier domain, released\n", d->id);
		gnttab_domain_destroy(d);
	}
	maptrack_init(&gt->maptrack);
	return grow(d, gt, GNTTAB_INITIAL_FRAMES);
}

/* Releases mapping m (held by the domain whose maptrack it is): the pin on
 * the granter's entry and the page reference. The p2m is the caller's. */
static void release_mapping(struct grant_mapping *m)
{
	bool ro = m->flags & GNTMAP_readonly;

	if (!(m->flags & GRANT_MAPPING_ORPHAN)) {
		struct grant_table *rgt = &tables[m->domid];
		struct grant_active *act = active_entry(rgt, m->ref);

		grant_unpin(act, ro);
		grant_reduce_status(shared_entry(rgt, m->ref), act, ro);
	}
	page_put(m->hpa);
}

void gnttab_domain_destroy(struct domain *d)
{
	struct grant_table *gt = gt_of(d);
	struct maptrack *mt = &gt->maptrack;

	/* 1. What d maps, including its own grants (its table is still
	 * there for those). */
	for (u32 h = 0; h < mt->nr_frames * MAPTRACK_PER_FRAME; h++) {
		struct grant_mapping *m = maptrack_entry(mt, h);

		if (m->flags) {
			release_mapping(m);
			maptrack_put(mt, h);
		}
	}

	/* 2. What others map of d's grants: their pins die with d's table;
	 * their mappings and page references stay until they unmap. */
	for (unsigned id = 0; id < DOMID_MAX; id++) {
		struct maptrack *omt = &tables[id].maptrack;

		if (&tables[id] == gt)
			continue;
		for (u32 h = 0; h < omt->nr_frames * MAPTRACK_PER_FRAME; h++) {
			struct grant_mapping *m = maptrack_entry(omt, h);

			if (m->flags && m->domid == d->id)
				m->flags |= GRANT_MAPPING_ORPHAN;
		}
	}

	/* 3. The table itself. */
	free_frames(gt);
}

/* ---- frames for the guest ------------------------------------------------- */

int gnttab_frame_for_physmap(struct domain *d, unsigned long idx, paddr_t *hpa)
{
	struct grant_table *gt = gt_of(d);
	int rc;

	if (idx >= GNTTAB_MAX_FRAMES)
		return -EINVAL;
	if (idx >= gt->nr_frames && (rc = grow(d, gt, idx + 1)))
		return rc;
	*hpa = gt->shared[idx];
	return 0;
}

void gnttab_frame_placed(struct domain *d, unsigned long idx, u64 gfn)
{
	struct grant_table *gt = gt_of(d);

	if (idx < gt->nr_frames)
		gt->gfn[idx] = gfn;
}

u64 gnttab_frame_gfn(struct domain *d, unsigned idx)
{
	struct grant_table *gt = gt_of(d);
	paddr_t hpa;
	u64 gfn;

	if (idx >= gt->nr_frames)
		return GNTTAB_INVALID_GFN;
	gfn = gt->gfn[idx];
	/* The guest may have put something else there since (Xen keeps an
	 * M2P; Keel checks the p2m at the recorded place instead). */
	if (gfn >= GNTTAB_GPA_LIMIT >> PAGE_SHIFT ||
	    p2m_lookup(d, gfn << PAGE_SHIFT, &hpa, NULL) ||
	    (hpa & PAGE_MASK) != gt->shared[idx])
		return GNTTAB_INVALID_GFN;
	return gfn;
}

unsigned gnttab_nr_frames(const struct domain *d)
{
	return gt_of(d)->nr_frames;
}

unsigned gnttab_nr_mappings(const struct domain *d)
{
	return gt_of(d)->maptrack.nr_used;
}

bool gnttab_gpa_is_mapped(struct domain *d, gpa_t gpa)
{
	const struct maptrack *mt = &gt_of(d)->maptrack;

	for (u32 h = 0; h < mt->nr_frames * MAPTRACK_PER_FRAME; h++) {
		const struct grant_mapping *m = maptrack_entry(mt, h);

		if (m->flags && (m->gpa >> PAGE_SHIFT) == (gpa >> PAGE_SHIFT))
			return true;
	}
	return false;
}

/* ---- query / setup / swap -------------------------------------------------- */

s16 gnttab_target(struct domain *caller, domid_t dom, struct domain **out)
{
	/* The two steps of domain_lookup_target: a dying domain is a bad
	 * domain even to a caller that may not act on it. */
	struct domain *d = domain_by_any_id(caller, dom);

	if (!d || d->state == DOM_DYING)
		return GNTST_bad_domain; /* a dying domain's table only shrinks */
	if (domain_check_target(caller, d))
		return GNTST_permission_denied;
	*out = d;
	return GNTST_okay;
}

s16 gnttab_setup(struct domain *d, u32 nr_frames)
{
	struct grant_table *gt = gt_of(d);

	if (nr_frames > GNTTAB_MAX_FRAMES)
		return GNTST_general_error;
	if (nr_frames > gt->nr_frames && grow(d, gt, nr_frames))
		return GNTST_general_error;
	return GNTST_okay;
}

s16 gnttab_swap(struct domain *d, grant_ref_t a, grant_ref_t b)
{
	struct grant_table *gt = gt_of(d);
	struct grant_entry_v1 *ea, *eb, tmp;

	if (!grant_ref_in_range(a, gt->nr_frames) || !grant_ref_in_range(b, gt->nr_frames))
		return GNTST_bad_gntref;
	if (a == b)
		return GNTST_okay;
	if (grant_pinned(active_entry(gt, a)) || grant_pinned(active_entry(gt, b)))
		return GNTST_eagain;
	ea = shared_entry(gt, a);
	eb = shared_entry(gt, b);
	tmp = *ea;
	*ea = *eb;
	*eb = tmp;
	return GNTST_okay;
}

/* ---- pinning a granted frame ------------------------------------------------ */

/*
 * The host frame behind guest frame gfn of rd, with one page reference:
 * RAM that rd owns, mapped readable (and writable for a writable use) in
 * its p2m. Xen get_paged_frame: anything else (a hole, MMIO, a page rd
 * has itself mapped from another domain) is GNTST_bad_page.
 */
static s16 get_owned_frame(struct domain *rd, u64 gfn, bool readonly, paddr_t *hpa)
{
	unsigned need = PT_R | (readonly ? 0 : PT_W);
	unsigned perms;
	paddr_t pa;

	if (gfn >= GNTTAB_GPA_LIMIT >> PAGE_SHIFT ||
	    p2m_lookup(rd, gfn << PAGE_SHIFT, &pa, &perms) || (perms & need) != need)
		return GNTST_bad_page;
	pa &= PAGE_MASK;
	if (page_get(pa, rd->id))
		return GNTST_bad_page;
	*hpa = pa;
	return GNTST_okay;
}

/*
 * Pins rd's entry `ref` for ld (a mapping or a copy) and takes a page
 * reference on its frame. GNTST_okay with *hpa, or an error with nothing
 * changed. The caller has checked ref against rd's table.
 */
static s16 pin_grant(struct domain *rd, grant_ref_t ref, domid_t ldom, bool readonly,
		     bool mapping, paddr_t *hpa)
{
	struct grant_table *rgt = gt_of(rd);
	struct grant_entry_v1 *e = shared_entry(rgt, ref);
	struct grant_active *act = active_entry(rgt, ref);
	paddr_t pa;
	s16 st;

	st = grant_acquire(e, act, ldom, readonly, mapping);
	if (st != GNTST_okay)
		return st;
	if (!grant_pinned(act)) {
		/* The first pin fixes the frame: the entry's frame field is
		 * read once, after the flags were set (the granter may not
		 * change a pinned entry's frame under us). */
		u32 gfn = __atomic_load_n(&e->frame, __ATOMIC_ACQUIRE);

		st = get_owned_frame(rd, gfn, readonly, &pa);
	} else {
		pa = act->hpa;
		st = page_get(pa, rd->id) ? GNTST_bad_domain : GNTST_okay;
	}
	if (st != GNTST_okay) {
		grant_reduce_status(e, act, readonly);
		return st;
	}
	grant_pin(act, ldom, pa, readonly);
	*hpa = pa;
	return GNTST_okay;
}

static void unpin_grant(struct domain *rd, grant_ref_t ref, bool readonly, paddr_t hpa)
{
	struct grant_table *rgt = gt_of(rd);
	struct grant_active *act = active_entry(rgt, ref);

	grant_unpin(act, readonly);
	grant_reduce_status(shared_entry(rgt, ref), act, readonly);
	page_put(hpa);
}

/* ---- map / unmap -------------------------------------------------------------- */

/*
 * A free handle of ld's maptrack, growing it by a page when needed, up to
 * the domain's limit. Every mapping may cost up to three p2m table frames
 * from the hypervisor's own pool (Keel has no per-domain paging pool as
 * Xen does), so unprivileged domains, which are frontends and map little,
 * get a smaller share than dom0 and its backends.
 */
static u32 get_handle(struct domain *ld, struct grant_table *lgt)
{
	u32 max = is_control_domain(ld) ? MAPTRACK_MAX_FRAMES : MAPTRACK_MAX_FRAMES_DOMU;
	u32 h = maptrack_get(&lgt->maptrack);
	paddr_t pa;

	if (h != MAPTRACK_NONE || lgt->maptrack.nr_frames >= max)
		return h;
	pa = frame_alloc();
	if (!pa)
		return MAPTRACK_NONE;
	maptrack_add_frame(&lgt->maptrack, phys_to_virt(pa));
	return maptrack_get(&lgt->maptrack);
}

/* host_addr's page is somewhere ld may put a grant mapping: a hole. */
static bool map_target_ok(struct domain *ld, gpa_t gpa)
{
	if (gpa == 0 || gpa >= GNTTAB_GPA_LIMIT)
		return false;
	return p2m_lookup(ld, gpa, NULL, NULL) != 0;
}

void gnttab_map(struct domain *ld, struct gnttab_map_grant_ref *op)
{
	struct grant_table *lgt = gt_of(ld);
	bool ro = op->flags & GNTMAP_readonly;
	gpa_t gpa = op->host_addr & PAGE_MASK;
	struct grant_mapping *m;
	struct domain *rd;
	paddr_t hpa;
	u32 h;
	s16 st;

	st = grant_map_flags_check(op->flags);
	if (st != GNTST_okay)
		goto out;
	rd = granter_by_id(op->dom);
	if (!rd) {
		st = GNTST_bad_domain;
		goto out;
	}
	h = get_handle(ld, lgt);
	if (h == MAPTRACK_NONE) {
		st = GNTST_no_space;
		goto out;
	}
	if (!grant_ref_in_range(op->ref, gt_of(rd)->nr_frames)) {
		st = GNTST_bad_gntref;
		goto put_handle;
	}
	st = pin_grant(rd, op->ref, ld->id, ro, true, &hpa);
	if (st != GNTST_okay)
		goto put_handle;

	/* Xen (p2m_grant_map_ro/rw): readable, writable unless read-only,
	 * never executable. */
	if (!map_target_ok(ld, gpa) ||
	    p2m_map(ld, gpa, hpa, PAGE_SIZE, (ro ? PT_R : PT_R | PT_W) | PT_HELD_GRANT, MT_WB)) {
		/* A failed map may have left part of a table behind, never
		 * a mapping: nothing to undo in the p2m. */
		st = GNTST_general_error;
		unpin_grant(rd, op->ref, ro, hpa);
		goto put_handle;
	}

	m = maptrack_entry(&lgt->maptrack, h);
	m->ref = op->ref;
	m->domid = rd->id;
	m->gpa = gpa;
	m->hpa = hpa;
	m->flags = GNTMAP_host_map | (ro ? GNTMAP_readonly : 0);
	op->handle = h;
	op->dev_bus_addr = hpa;
	op->status = GNTST_okay;
	return;

put_handle:
	maptrack_put(&lgt->maptrack, h);
out:
	op->status = st;
}

void gnttab_unmap(struct domain *ld, struct gnttab_unmap_grant_ref *op)
{
	struct grant_table *lgt = gt_of(ld);
	struct grant_mapping *m = maptrack_entry(&lgt->maptrack, op->handle);

	if (!m || !m->flags) {
		op->status = GNTST_bad_handle;
		return;
	}
	if (!op->host_addr) {
		op->status = GNTST_okay; /* Xen: nothing to do without host_addr */
		return;
	}
	/* Xen replace_grant_p2m_mapping: the p2m entry at host_addr must
	 * still be this grant's frame. */
	if ((op->host_addr & PAGE_MASK) != m->gpa || p2m_unmap_grant(ld, m->gpa, m->hpa)) {
		op->status = GNTST_general_error;
		return;
	}
	release_mapping(m);
	maptrack_put(&lgt->maptrack, op->handle);
	op->status = GNTST_okay;
}

/* ---- copy ------------------------------------------------------------------------ */

/* One side of a copy while it runs. */
struct copy_side {
	struct domain *d;
	bool by_gref;
	bool readonly;
	bool held;       /* hpa holds a reference (and a pin if by_gref) */
	grant_ref_t ref;
	paddr_t hpa;
};

/* Names the side's domain: Xen gnttab_copy_lock_domain. */
static s16 copy_side_domain(struct domain *ld, const struct gnttab_copy_ptr *p,
			    struct copy_side *s)
{
	if (!s->by_gref && p->domid != DOMID_SELF)
		return GNTST_permission_denied; /* only DOMID_SELF by frame */
	s->d = p->domid == DOMID_SELF ? ld : granter_by_id(p->domid);
	return s->d ? GNTST_okay : GNTST_bad_domain;
}

/* Takes the side's frame: Xen gnttab_copy_claim_buf. */
static s16 copy_side_claim(struct domain *ld, const struct gnttab_copy_ptr *p,
			   struct copy_side *s)
{
	s16 st;

	if (s->by_gref) {
		if (!grant_ref_in_range(p->u.ref, gt_of(s->d)->nr_frames))
			return GNTST_bad_gntref;
		s->ref = p->u.ref;
		st = pin_grant(s->d, s->ref, ld->id, s->readonly, false, &s->hpa);
	} else {
		st = get_owned_frame(s->d, p->u.gmfn, s->readonly, &s->hpa);
	}
	s->held = st == GNTST_okay;
	return st;
}

static void copy_side_release(struct copy_side *s)
{
	if (!s->held)
		return;
	if (s->by_gref)
		unpin_grant(s->d, s->ref, s->readonly, s->hpa);
	else
		page_put(s->hpa);
	s->held = false;
}

s16 gnttab_copy(struct domain *ld, const struct gnttab_copy *op)
{
	struct copy_side src = { .by_gref = op->flags & GNTCOPY_source_gref, .readonly = true };
	struct copy_side dst = { .by_gref = op->flags & GNTCOPY_dest_gref, .readonly = false };
	s16 st;

	if (!op->len)
		return GNTST_okay; /* Xen checks nothing for an empty copy */
	if ((st = copy_side_domain(ld, &op->source, &src)) != GNTST_okay ||
	    (st = copy_side_domain(ld, &op->dest, &dst)) != GNTST_okay)
		return st;
	if ((st = copy_side_claim(ld, &op->source, &src)) != GNTST_okay ||
	    (st = copy_side_claim(ld, &op->dest, &dst)) != GNTST_okay)
		goto out;
	st = grant_copy_range_check(op->source.offset, op->dest.offset, op->len);
	if (st == GNTST_okay)
		/* Both frames may be the same page: memmove. */
		memmove((u8 *)phys_to_virt(dst.hpa) + op->dest.offset,
			(const u8 *)phys_to_virt(src.hpa) + op->source.offset, op->len);
out:
	copy_side_release(&dst);
	copy_side_release(&src);
	return st;
}
