/*
 * Per-domain VMX state: the VPID that tags the domain's translations
 * (SDM vol. 3 29.1) and the I/O bitmaps that decide which ports exit
 * (25.6.4).
 *
 * struct domain_arch has no vendor-private pointer, so the bitmaps are
 * kept here by domain id (ids are below DOMID_MAX).
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/frame.h>
#include <keel/lib.h>
#include <keel/printk.h>
#include "vmx.h"

#define IO_PORTS 0x10000

static struct {
	paddr_t io_bitmap; /* bitmap A (ports 0-7fff) then B (8000-ffff) */
} vmx_domains[DOMID_MAX];

/*
 * VPID 0 is the host's (entries with VPID enabled need a non-zero one,
 * 27.2.1.1); a domain's is its id + 1, unique while it lives. A reused id
 * gets the first-entry flush (ept.c), so nothing of its previous owner's
 * translations is used.
 */
int vmx_domain_init(struct domain *d)
{
	if (d->id >= DOMID_MAX)
		return -EINVAL;
	/* Two contiguous pages: the VMCS takes A and B as separate
	 * addresses, contiguity only keeps the bookkeeping simple. */
	paddr_t pa = frame_alloc_contig(2, PAGE_SIZE);
	if (!pa) {
		pr_err("VMX: out of memory for the I/O bitmaps of d%u\n", d->id);
		return -ENOMEM;
	}
	/* Every port exits until someone opens it (vmx_io_allow). */
	memset(phys_to_virt(pa), 0xff, 2 * PAGE_SIZE);
	vmx_domains[d->id].io_bitmap = pa;
	d->arch.tag = d->id + 1u;
	return 0;
}

void vmx_domain_destroy(struct domain *d)
{
	if (d->id >= DOMID_MAX || !vmx_domains[d->id].io_bitmap)
		return;
	frame_free_contig(vmx_domains[d->id].io_bitmap, 2);
	vmx_domains[d->id].io_bitmap = 0;
}

paddr_t vmx_io_bitmap(const struct domain *d)
{
	return vmx_domains[d->id].io_bitmap;
}

/*
 * An access exits if the bit of any port it touches is 1, and always when
 * it wraps past 0xffff (26.1.3), so opening a range is exact. Takes effect
 * at the next entry of each of d's vCPUs (the CPU reads the bitmap then).
 * The vendor contract's io_allow (vmx.c); kernel/passthrough.c opens dom0's
 * device ports with it.
 */
int vmx_io_allow(struct domain *d, u16 port, unsigned count, bool allow)
{
	if (d->id >= DOMID_MAX || !vmx_domains[d->id].io_bitmap || !count ||
	    port + count > IO_PORTS)
		return -EINVAL;
	u8 *bm = phys_to_virt(vmx_domains[d->id].io_bitmap);
	for (unsigned p = port; p < port + count; p++) {
		if (allow)
			bm[p / 8] &= ~(1u << (p % 8));
		else
			bm[p / 8] |= 1u << (p % 8);
	}
	return 0;
}
