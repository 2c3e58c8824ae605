/*
 * memory_op(cmd, arg) (Xen public/memory.h): placing special frames in
 * the guest's physical map and reading its E820 map. Contracts of the
 * helpers in include/keel/physmap.h.
 *
 * XENMEM_add_to_physmap follows Xen's common/memory.c and
 * arch/x86/mm/p2m.c (xenmem_add_to_physmap_one) for the argument checks
 * and their errors. Keel supports the spaces a PVH guest uses:
 * XENMAPSPACE_shared_info (idx 0) and XENMAPSPACE_grant_table (idx = table
 * frame, via kernel/grant_table.c). Moving RAM pages around (gmfn,
 * gmfn_range) is not offered.
 *
 * The reservation operations (populate_physmap, decrease_reservation)
 * belong to the domain-control code; they slot into the switch below.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/gnttab.h>
#include <keel/hypercall.h>
#include <lib/string.h>
#include <keel/page.h>
#include <keel/physmap.h>
#include <keel/priv.h>
#include <keel/vtimer.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/p2m.h>
#include <public/memory.h>

/* Xen public/memory.h: the command in the low bits of cmd, a
 * continuation's start extent above. */
#define MEMOP_EXTENT_SHIFT 6
#define MEMOP_CMD_MASK ((1ULL << MEMOP_EXTENT_SHIFT) - 1)

/* ---- the E820 map ----------------------------------------------------------- */

void domain_set_memory_map(struct domain *d, const struct boot_mem_range *map, unsigned n)
{
	n = MIN(n, DOMAIN_E820_MAX);
	for (unsigned i = 0; i < n; i++)
		d->e820[i] = (struct xen_e820_entry){
			.addr = map[i].base, .size = map[i].len, .type = map[i].type };
	d->nr_e820 = n;
}

static long memory_map(struct vcpu *v, gva_t arg)
{
	struct domain *d = v->dom;
	struct xen_memory_map map;

	if (copy_from_guest(v, &map, arg, sizeof(map)))
		return -EFAULT;
	if (!d->nr_e820)
		return -ENOSYS;
	map.nr_entries = MIN(map.nr_entries, d->nr_e820);
	if (copy_to_guest(v, map.buffer, d->e820, map.nr_entries * sizeof(d->e820[0])) ||
	    copy_to_guest(v, arg, &map, sizeof(map)))
		return -EFAULT;
	return 0;
}

/* ---- placing frames ----------------------------------------------------------- */

/* Guest frames the guest can address: below the physical address width
 * CPUID reports (the host's), and what 4-level nested tables hold. */
static bool gfn_addressable(u64 gfn)
{
	unsigned bits = MIN(cpu_features.phys_addr_bits ? cpu_features.phys_addr_bits : 36, 48);

	return gfn < (1ULL << (bits - PAGE_SHIFT));
}

int physmap_place_frame(struct domain *d, u64 gfn, paddr_t hpa, u64 old_gfn)
{
	gpa_t gpa = gfn << PAGE_SHIFT;
	paddr_t prev;

	unsigned perms;

	if (!gfn_addressable(gfn))
		return -EINVAL;
	if (!p2m_lookup(d, gpa, &prev, &perms)) {
		struct page_info *pg = page_of(prev & PAGE_MASK);
		/* Only the domain's own pages may be unhooked: not a grant
		 * mapping (even of its own page), not a foreign page, not
		 * device memory (no page_info owner). The p2m would refuse
		 * a held entry anyway (-EBUSY); -EPERM is this call's
		 * answer for all three. */
		if ((perms & PT_HELD) ||
		    ((prev & PAGE_MASK) != hpa && (!pg || pg->owner != d->id)))
			return -EPERM;
	}
	if (old_gfn != GFN_NONE && old_gfn != gfn) {
		int rc = p2m_unmap(d, old_gfn << PAGE_SHIFT, PAGE_SIZE);
		if (rc)
			return rc;
	}
	return p2m_map(d, gpa, hpa, PAGE_SIZE, PT_R | PT_W, MT_WB);
}

/* Where shared_info is mapped now: the recorded gfn, if the guest has not
 * put something else there since. */
static u64 shared_info_gfn(struct domain *d)
{
	u64 gfn = d->ev.shared_info_gfn;
	paddr_t hpa;

	if (gfn == GFN_NONE || p2m_lookup(d, gfn << PAGE_SHIFT, &hpa, NULL) ||
	    (hpa & PAGE_MASK) != d->ev.shared_info_pa)
		return GFN_NONE;
	return gfn;
}

static long add_to_physmap(struct vcpu *v, gva_t arg)
{
	struct xen_add_to_physmap x;
	struct domain *d;
	paddr_t hpa;
	u64 old;
	int rc;

	if (copy_from_guest(v, &x, arg, sizeof(x)))
		return -EFAULT;
	/* Foreign mappings only go through add_to_physmap_batch (Xen). */
	if (x.space == XENMAPSPACE_gmfn_foreign)
		return -ENOSYS;
	/* The two steps of domain_lookup_target, with the dev_mmio rule in
	 * between: its -EACCES comes before -EPERM. */
	d = domain_by_any_id(v->dom, x.domid);
	if (!d)
		return -ESRCH;
	/* Device memory: the hardware domain, for itself only. */
	if (x.space == XENMAPSPACE_dev_mmio && (d != v->dom || !is_control_domain(d)))
		return -EACCES;
	if (domain_check_target(v->dom, d))
		return -EPERM;
	/* A dying domain is a zombie kept only for the frames others still
	 * map: its p2m is gone, and a table frame grown now would be owned
	 * by an id whose owner references were already dropped, so it would
	 * never come back and the id never be reaped. Refused as the other
	 * paths refuse a dying domain (foreign maps: -ESRCH; grant-table
	 * ops: GNTST_bad_domain). */
	if (d->state == DOM_DYING)
		return -ESRCH;
	if (x.gpfn == GFN_NONE)
		return -EINVAL;

	switch (x.space) {
	case XENMAPSPACE_shared_info:
		if (x.idx != 0 || !d->ev.shared_info_pa)
			return -EINVAL;
		rc = physmap_place_frame(d, x.gpfn, d->ev.shared_info_pa, shared_info_gfn(d));
		if (rc)
			return rc;
		d->ev.shared_info_gfn = x.gpfn;
		time_update_wallclock(d);
		return 0;
	case XENMAPSPACE_grant_table:
		rc = gnttab_frame_for_physmap(d, x.idx, &hpa);
		if (rc)
			return rc;
		old = gnttab_frame_gfn(d, (unsigned)x.idx);
		rc = physmap_place_frame(d, x.gpfn, hpa, old == GNTTAB_INVALID_GFN ? GFN_NONE : old);
		if (rc)
			return rc;
		gnttab_frame_placed(d, x.idx, x.gpfn);
		return 0;
	case XENMAPSPACE_gmfn:
	case XENMAPSPACE_gmfn_range:
	case XENMAPSPACE_dev_mmio:
		return -EOPNOTSUPP; /* Keel does not move RAM or map devices this way */
	default:
		return -EINVAL; /* Xen: no frame for an unknown space */
	}
}

/* ---- foreign mappings (dom0 loading and inspecting other domains) -------- */

/* Most frames one add_to_physmap_batch call maps: bounds its time. */
#define FOREIGN_BATCH_MAX 512

/*
 * Maps frame `idx` of domain fd at `gpfn` in d (dom0). The frame must be
 * RAM fd owns (not its grant table or shared_info, which fd owns too but
 * are not in its RAM list -- fd's RAM is what dom0 may inspect), and gpfn
 * must be a hole in d's physmap, as for grant maps: nothing of d's is
 * replaced. The mapping holds a reference, so the page outlives fd's
 * destruction until XENMEM_remove_from_physmap drops it.
 */
static int map_foreign_frame(struct domain *d, struct domain *fd, u64 idx, u64 gpfn)
{
	paddr_t hpa;
	bool in_ram = false;

	if (!gfn_addressable(gpfn) || gpfn == 0)
		return -EINVAL;
	for (unsigned i = 0; i < fd->nr_ram && !in_ram; i++)
		in_ram = (idx << PAGE_SHIFT) >= fd->ram[i].gpa &&
			 (idx << PAGE_SHIFT) < fd->ram[i].gpa + fd->ram[i].len;
	if (!in_ram || p2m_lookup(fd, idx << PAGE_SHIFT, &hpa, NULL))
		return -ENOENT;
	hpa &= PAGE_MASK;
	if (!p2m_lookup(d, gpfn << PAGE_SHIFT, NULL, NULL))
		return -EBUSY; /* something is mapped there already */
	int rc = page_get(hpa, fd->id);
	if (rc)
		return -ENOENT;
	/* The entry holds the reference (asm/p2m.h): whatever removes it
	 * drops the reference too. */
	rc = p2m_map(d, gpfn << PAGE_SHIFT, hpa, PAGE_SIZE, PT_R | PT_W | PT_HELD_FOREIGN, MT_WB);
	if (rc)
		page_put(hpa);
	return rc;
}

static long add_to_physmap_batch(struct vcpu *v, gva_t arg)
{
	struct xen_add_to_physmap_batch b;
	struct domain *d = v->dom, *fd;

	if (copy_from_guest(v, &b, arg, sizeof(b)))
		return -EFAULT;
	if (b.space != XENMAPSPACE_gmfn_foreign)
		return -EOPNOTSUPP;
	if (!is_control_domain(d))
		return -EPERM; /* Xen: only a privileged domain maps others' memory */
	if (!domid_is_self(d, b.domid))
		return -EOPNOTSUPP; /* mapping into a third domain */
	if (b.size > FOREIGN_BATCH_MAX)
		return -E2BIG;
	fd = domain_by_id(b.u.foreign_domid);
	if (!fd || fd == d || fd->state == DOM_DYING)
		return -ESRCH;
	for (u32 i = 0; i < b.size; i++) {
		u64 idx, gpfn;
		int err;
		if (copy_from_guest(v, &idx, b.idxs + 8ULL * i, 8) ||
		    copy_from_guest(v, &gpfn, b.gpfns + 8ULL * i, 8))
			return -EFAULT;
		err = map_foreign_frame(d, fd, idx, gpfn);
		if (copy_to_guest(v, b.errs + 4ULL * i, &err, 4)) {
			if (!err) /* undo: the caller cannot learn it worked */
				p2m_unmap(d, gpfn << PAGE_SHIFT, PAGE_SIZE); /* and its reference */
			return -EFAULT;
		}
	}
	return 0;
}

/*
 * XENMEM_remove_from_physmap: Keel removes foreign mappings only (the
 * caller's own RAM does not balloon, and grant mappings go through
 * GNTTABOP_unmap_grant_ref).
 */
static long remove_from_physmap(struct vcpu *v, gva_t arg)
{
	struct xen_remove_from_physmap r;
	struct domain *d = v->dom;
	unsigned perms;

	if (copy_from_guest(v, &r, arg, sizeof(r)))
		return -EFAULT;
	if (!domid_is_self(d, r.domid))
		return -EOPNOTSUPP;
	if (!gfn_addressable(r.gpfn) || p2m_lookup(d, r.gpfn << PAGE_SHIFT, NULL, &perms))
		return -ENOENT;
	if (!(perms & PT_HELD_FOREIGN))
		return -EOPNOTSUPP; /* not a foreign mapping */
	return p2m_unmap(d, r.gpfn << PAGE_SHIFT, PAGE_SIZE); /* drops the reference */
}

long do_memory_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5)
{
	(void)a3;
	(void)a4;
	(void)a5;

	/* Xen keeps a continuation's progress in the bits above
	 * MEMOP_EXTENT_SHIFT; the operation is the low bits. */
	u64 start_extent = cmd >> MEMOP_EXTENT_SHIFT;

	switch (cmd & MEMOP_CMD_MASK) {
	case XENMEM_add_to_physmap:
		/* Only gmfn_range continues, with a u16 count. */
		if (start_extent > 0xffff)
			return -EDOM;
		return add_to_physmap(v, arg);
	case XENMEM_memory_map:
		return memory_map(v, arg);
	case XENMEM_add_to_physmap_batch:
		return add_to_physmap_batch(v, arg);
	case XENMEM_remove_from_physmap:
		return remove_from_physmap(v, arg);
	default:
		return -ENOSYS;
	}
}
