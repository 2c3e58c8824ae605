/*
 * A domain's I/O bitmaps (SDM vol. 3 25.6.4): which ports its vCPUs reach
 * without an exit. Bitmap A covers ports 0-7fff, B 8000-ffff; a set bit
 * makes the port exit. Kept per domain (struct vmx_domain); vmcs.c points
 * each vCPU's VMCS at them.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/printk.h>
#include "vmx.h"

#define IO_PORTS 0x10000

int vmx_iomap_init(struct domain *d)
{
	/* Two contiguous pages: the VMCS takes A and B as separate
	 * addresses, contiguity only keeps the bookkeeping simple. */
	paddr_t pa = frame_alloc_contig(2, PAGE_SIZE);
	if (!pa) {
		pr_err("VMX: out of memory for the I/O bitmaps of d%u\n", d->id);
		return -ENOMEM;
	}
	/* Every port exits until someone opens it (vmx_io_allow). */
	memset(phys_to_virt(pa), 0xff, 2 * PAGE_SIZE);
	domain_vmx(d)->io_bitmap = pa;
	return 0;
}

void vmx_iomap_destroy(struct domain *d)
{
	struct vmx_domain *vd = domain_vmx(d);

	if (!vd->io_bitmap)
		return;
	frame_free_contig(vd->io_bitmap, 2);
	vd->io_bitmap = 0;
}

paddr_t vmx_io_bitmap(struct domain *d)
{
	return domain_vmx(d)->io_bitmap;
}

/*
 * An access exits if the bit of any port it touches is 1, and always when
 * it wraps past 0xffff (26.1.3), so opening a range is exact. Takes effect
 * at the next entry of each of d's vCPUs (the CPU reads the bitmap then).
 * vendor_ops.io_allow (dom0's device ports).
 */
int vmx_io_allow(struct domain *d, u16 port, unsigned count, bool allow)
{
	paddr_t io_bitmap = domain_vmx(d)->io_bitmap;

	if (!io_bitmap || !count || port + count > IO_PORTS)
		return -EINVAL;
	u8 *bm = phys_to_virt(io_bitmap);
	for (unsigned p = port; p < port + count; p++) {
		if (allow)
			bm[p / 8] &= ~(1u << (p % 8));
		else
			bm[p / 8] |= 1u << (p % 8);
	}
	return 0;
}
