/*
 * A domain's guest-physical map (asm/p2m.h): the shared walker with the
 * bound vendor's entry format (svm/npt.c or vmx/ept.c), kept in
 * d->arch.p2m.
 *
 * Every change is followed by the vendor's flush, even a failed one (it
 * may have changed part of the range) and even a plain map (it may have
 * replaced an older mapping). A flush that finds nothing cached is cheap,
 * and it spares callers from knowing which changes need one.
 *
 * Held entries (asm/p2m.h) are enforced here rather than by each caller:
 * BAR moves, MSI-X re-protection, populate, add_to_physmap and the grant
 * code all change dom0's or a domU's map, and a rule each of them had to
 * remember was a rule one of them forgot (a foreign page's reference
 * leaked, its dying owner never reaped). Xen keeps the same knowledge in
 * its p2m types (p2m_map_foreign, p2m_grant_map_rw/ro) and drops a
 * foreign reference where the entry changes (p2m_entry_modify).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/page.h>
#include <keel/printk.h>
#include <asm/p2m.h>
#include <asm/vendor.h>

/* After every change, even a failed one: the vendor's flush, and a new
 * generation for the hypervisor's own cached translations (d->mem_gen). */
static void p2m_changed(struct domain *d)
{
	vendor->p2m_flush(d);
	d->mem_gen++;
}

int p2m_init(struct domain *d)
{
	return pt_init(&d->arch.p2m, vendor->p2m_format, vendor_caps->p2m_max_leaf_level);
}

static int put_foreign(u64 va, paddr_t pa, unsigned perms, unsigned level, void *arg)
{
	(void)va;
	(void)level;
	(void)arg;
	if (perms & PT_HELD_FOREIGN)
		page_put(pa);
	return 0;
}

/*
 * The flush comes before the tables go back to the allocator, so no tagged
 * translation outlives them. Reusing the domain's ASID/VPID for another
 * domain still needs that domain's own first flush (vendor domain_init).
 * Grant entries need nothing here: gnttab_domain_destroy released them.
 */
void p2m_destroy(struct domain *d)
{
	if (!d->arch.p2m.root)
		return;
	p2m_changed(d);
	pt_walk(&d->arch.p2m, 0, 1ULL << 48, put_foreign, NULL);
	pt_destroy(&d->arch.p2m);
}

/* The first held entry in a range (the walk stops at it). */
struct held_at {
	unsigned kinds; /* PT_HELD_* to look for */
	u64 gpa;
	paddr_t hpa;
	unsigned perms;
};

static int find_held(u64 va, paddr_t pa, unsigned perms, unsigned level, void *arg)
{
	struct held_at *h = arg;

	(void)level;
	if (!(perms & h->kinds))
		return 0;
	*h = (struct held_at){ .kinds = h->kinds, .gpa = va, .hpa = pa, .perms = perms };
	return 1;
}

/* 1 and *h if [gpa, gpa+size) holds an entry of the kinds asked for. */
static int first_held(struct domain *d, gpa_t gpa, u64 size, unsigned kinds, struct held_at *h)
{
	h->kinds = kinds;
	return pt_walk(&d->arch.p2m, gpa, size, find_held, h) == 1;
}

static int refuse(struct domain *d, const struct held_at *h, const char *what)
{
	pr_warn("domain %u: p2m: %s at 0x%lx would replace its %s mapping of frame 0x%lx: "
		"refused (-EBUSY)\n", d->id, what, h->gpa,
		(h->perms & PT_HELD_GRANT) ? "grant" : "foreign", h->hpa);
	return -EBUSY;
}

int p2m_check_replace(struct domain *d, gpa_t gpa, u64 size, const char *what)
{
	struct held_at h;

	if (!d->arch.p2m.root)
		return -ESRCH;
	return first_held(d, gpa, size, PT_HELD, &h) ? refuse(d, &h, what) : 0;
}

/*
 * Removes every foreign entry in [gpa, gpa+size) with its reference, one
 * page at a time (a 4 KiB leaf's table exists, so this cannot fail for
 * want of memory), the walk starting again after each (it must not run
 * while the tables change). `what` != NULL: one line per entry dropped.
 */
static int drop_foreign(struct domain *d, gpa_t gpa, u64 size, const char *what)
{
	struct held_at h;

	while (first_held(d, gpa, size, PT_HELD_FOREIGN, &h)) {
		int rc = pt_unmap(&d->arch.p2m, h.gpa, PAGE_SIZE);
		p2m_changed(d);
		if (rc)
			return rc;
		page_put(h.hpa);
		if (what)
			pr_info("domain %u: p2m: %s at 0x%lx replaces its foreign mapping of frame "
				"0x%lx: reference dropped\n", d->id, what, h.gpa, h.hpa);
		size -= h.gpa + PAGE_SIZE - gpa;
		gpa = h.gpa + PAGE_SIZE;
	}
	return 0;
}

/* The checks p2m_map and p2m_unmap share: a live p2m, a page-aligned
 * range, no grant entry in it (refused, logged). */
static int change_allowed(struct domain *d, gpa_t gpa, u64 size, const char *what)
{
	struct held_at h;

	if (!d->arch.p2m.root)
		return -ESRCH;
	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;
	if (first_held(d, gpa, size, PT_HELD_GRANT, &h))
		return refuse(d, &h, what);
	return 0;
}

int p2m_map(struct domain *d, gpa_t gpa, paddr_t hpa, u64 size,
	    unsigned perms, enum memtype mt)
{
	unsigned held = perms & PT_HELD;
	int rc;

	if (held && (held == PT_HELD || size != PAGE_SIZE))
		return -EINVAL;
	if ((rc = change_allowed(d, gpa, size, "a new mapping")) ||
	    (rc = drop_foreign(d, gpa, size, "a new mapping")))
		return rc;
	rc = pt_map(&d->arch.p2m, gpa, hpa, size, perms, mt);
	p2m_changed(d);
	return rc;
}

int p2m_unmap(struct domain *d, gpa_t gpa, u64 size)
{
	int rc;

	if ((rc = change_allowed(d, gpa, size, "an unmap")) ||
	    (rc = drop_foreign(d, gpa, size, NULL)))
		return rc;
	rc = pt_unmap(&d->arch.p2m, gpa, size);
	p2m_changed(d);
	return rc;
}

int p2m_unmap_grant(struct domain *d, gpa_t gpa, paddr_t hpa)
{
	unsigned perms;
	paddr_t pa;
	int rc;

	if (p2m_lookup(d, gpa, &pa, &perms) || !(perms & PT_HELD_GRANT) ||
	    (pa & PAGE_MASK) != hpa)
		return -ENOENT;
	rc = pt_unmap(&d->arch.p2m, gpa & PAGE_MASK, PAGE_SIZE);
	p2m_changed(d);
	return rc;
}

int p2m_lookup(struct domain *d, gpa_t gpa, paddr_t *hpa, unsigned *perms)
{
	return pt_lookup(&d->arch.p2m, gpa, hpa, perms, NULL);
}
