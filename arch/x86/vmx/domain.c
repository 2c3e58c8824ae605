/*
 * Per-domain VMX state (struct vmx_domain, kept in the domain): the VPID
 * that tags the domain's translations (SDM vol. 3 29.1) and the I/O
 * bitmaps that decide which ports exit (iomap.c).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/printk.h>
#include "vmx.h"

/*
 * VPID 0 is the host's (entries with VPID enabled need a non-zero one,
 * 27.2.1.1); a domain's is its id + 1, unique while it lives. A reused id
 * gets the first-entry flush (ept.c), so nothing of its previous owner's
 * translations is used.
 */
int vmx_domain_init(struct domain *d)
{
	/* VPIDs are 16 bits; ids are far below (DOMID_MAX). */
	if (d->id >= DOMID_MAX)
		return -EINVAL;
	memset(domain_vmx(d), 0, sizeof(struct vmx_domain));
	int rc = vmx_iomap_init(d);
	if (rc)
		return rc;
	d->arch.tag = d->id + 1u;
	return 0;
}

void vmx_domain_destroy(struct domain *d)
{
	vmx_iomap_destroy(d);
}
