/*
 * The shared_info page and vcpu_info areas (include/keel/evtchn.h; Xen
 * public/xen.h, common/domain.c map_guest_area).
 *
 * shared_info is one frame per domain, allocated at domain creation and
 * owned by the domain (so the page accounting sees it). The hypervisor
 * writes event bits into it from the start; the guest sees it once it
 * places it in its physmap with XENMEM_add_to_physmap (kernel/hc_memory.c).
 * Besides the owner's reference the hypervisor holds one of its own, as
 * the grant table does for its frames: whatever the guest does to its
 * physmap (giving the page back with decrease_reservation, say), the
 * frame stays allocated while d->ev.shared_info points at it.
 *
 * vcpu_info for vCPU n lives in shared_info.vcpu_info[n] until the guest
 * registers its own area with VCPUOP_register_vcpu_info. That area is a
 * piece of the guest's own RAM; the hypervisor keeps a reference on its
 * frame (page_get) so that the frame cannot be freed and reused while the
 * hypervisor still writes into it, however the guest changes its physmap.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/page.h>
#include <asm/p2m.h>

BUILD_BUG_ON(sizeof(struct shared_info) > PAGE_SIZE);

int shared_info_alloc(struct domain *d)
{
	paddr_t pa = page_alloc_for(d->id);

	if (!pa)
		return -ENOMEM;
	if (page_get(pa, d->id)) { /* cannot fail on a new frame */
		page_put(pa);
		return -ENOMEM;
	}
	d->ev.shared_info_pa = pa;
	d->ev.shared_info = phys_to_virt(pa);
	return 0;
}

void shared_info_free(struct domain *d)
{
	if (!d->ev.shared_info_pa)
		return;
	/* Normally the p2m goes away with the domain; unmapping here keeps
	 * the frame from staying reachable through a p2m that outlives us. */
	if (d->ev.shared_info_gfn != GFN_NONE && d->arch.p2m.root)
		p2m_unmap(d, d->ev.shared_info_gfn << PAGE_SHIFT, PAGE_SIZE);
	page_put(d->ev.shared_info_pa); /* the hypervisor's reference */
	/* The owner's reference goes with the rest of d's memory in
	 * domain_destroy (domain_release_memory). A domain that never got
	 * there - domain_create failing after evtchn_domain_init - drops it
	 * here. */
	if (d->state != DOM_DYING)
		page_put(d->ev.shared_info_pa);
	d->ev.shared_info_pa = 0;
	d->ev.shared_info = NULL;
	d->ev.shared_info_gfn = GFN_NONE;
}

void vcpu_info_release(struct vcpu *v)
{
	if (v->ev.vcpu_info_frame)
		page_put(v->ev.vcpu_info_frame);
	v->ev.vcpu_info_frame = 0;
	v->ev.vcpu_info = NULL;
}

int register_vcpu_info(struct vcpu *v, u64 gfn, u32 offset)
{
	struct domain *d = v->dom;
	u64 gaddr = (gfn << PAGE_SHIFT) + offset;
	paddr_t hpa;
	unsigned perms;
	struct vcpu_info *new;

	/* The address must name a byte of frame `gfn` (Xen: -EINVAL). */
	if ((gaddr >> PAGE_SHIFT) != gfn || gaddr == ~0ULL)
		return -EINVAL;
	if (v->ev.vcpu_info)
		return -EBUSY; /* no re-registration, as Xen */
	/* The area must sit inside one page, naturally aligned for its
	 * 64-bit words (Xen: -ENXIO). */
	if (offset + sizeof(struct vcpu_info) > PAGE_SIZE || !IS_ALIGNED(offset, 8))
		return -ENXIO;
	/* It must be the domain's own RAM, writable: not a hole, not a page
	 * another domain granted (Xen: get_page_from_gfn fails, -EINVAL;
	 * not writable, -EACCES). */
	if (p2m_lookup(d, gfn << PAGE_SHIFT, &hpa, &perms))
		return -EINVAL;
	hpa &= PAGE_MASK;
	if (page_get(hpa, d->id))
		return -EINVAL;
	if (!(perms & PT_W)) {
		page_put(hpa);
		return -EACCES;
	}

	new = (struct vcpu_info *)((u8 *)phys_to_virt(hpa) + offset);
	memcpy(new, vcpu_info(v), sizeof(*new));
	v->ev.vcpu_info = new;
	v->ev.vcpu_info_frame = hpa;
	/* Mark everything pending so that whatever was signalled before is
	 * looked at again: a spurious scan costs the guest little, a lost
	 * event would hang it (Xen does the same). The time fields were
	 * copied with the rest; the time code refreshes them on its next
	 * update. */
	__atomic_store_n(&new->evtchn_pending_sel, ~0ULL, __ATOMIC_SEQ_CST);
	vcpu_mark_events_pending(v);
	return 0;
}
