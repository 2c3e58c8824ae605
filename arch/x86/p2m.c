/*
 * A domain's guest-physical map (asm/p2m.h): the shared walker with the
 * bound vendor's entry format (svm/npt.c or vmx/ept.c), kept in
 * d->arch.p2m.
 *
 * Every change is followed by the vendor's flush, even a failed one (it
 * may have changed part of the range) and even a plain map (it may have
 * replaced an older mapping). A flush that finds nothing cached is cheap,
 * and it spares callers from knowing which changes need one.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <asm/p2m.h>
#include <asm/vendor.h>

int p2m_init(struct domain *d)
{
	return pt_init(&d->arch.p2m, vendor->p2m_format, vendor->p2m_max_leaf_level);
}

/*
 * The flush comes before the tables go back to the allocator, so no tagged
 * translation outlives them. Reusing the domain's ASID/VPID for another
 * domain still needs that domain's own first flush (vendor domain_init).
 */
void p2m_destroy(struct domain *d)
{
	if (!d->arch.p2m.root)
		return;
	vendor->p2m_flush(d);
	pt_destroy(&d->arch.p2m);
}

int p2m_map(struct domain *d, gpa_t gpa, paddr_t hpa, u64 size,
	    unsigned perms, enum memtype mt)
{
	int rc = pt_map(&d->arch.p2m, gpa, hpa, size, perms, mt);

	vendor->p2m_flush(d);
	return rc;
}

int p2m_unmap(struct domain *d, gpa_t gpa, u64 size)
{
	int rc = pt_unmap(&d->arch.p2m, gpa, size);

	vendor->p2m_flush(d);
	return rc;
}

int p2m_protect(struct domain *d, gpa_t gpa, u64 size, unsigned perms)
{
	int rc = pt_protect(&d->arch.p2m, gpa, size, perms);

	vendor->p2m_flush(d);
	return rc;
}

int p2m_lookup(struct domain *d, gpa_t gpa, paddr_t *hpa, unsigned *perms)
{
	return pt_lookup(&d->arch.p2m, gpa, hpa, perms, NULL);
}
