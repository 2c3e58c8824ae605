/*
 * The I/O permission map (AMD APM vol. 2, 15.10.1): which ports a
 * domain's vCPUs reach without an IOIO intercept. Every domain starts
 * with the shared deny-all map; the first io_allow() gives it its own
 * (struct svm_domain, in the domain), which run.c points the VMCB at on
 * every entry.
 *
 * 12 KiB, one bit per port. An access of n bytes at port p is intercepted
 * if any of the bits p..p+n-1 is set, which is why the map runs past port
 * 0xffff: those trailing bits stay set so accesses that wrap are caught.
 */
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include "svm.h"

/* Intercepts every port; domains with passthrough ports get their own. */
paddr_t svm_iopm_deny_all;

int svm_iomap_init(void)
{
	if (svm_iopm_deny_all)
		return 0;
	/* Physically contiguous and 4 KiB aligned (APM 15.10.1). */
	svm_iopm_deny_all = frame_alloc_contig(IOPM_SIZE / PAGE_SIZE, PAGE_SIZE);
	if (!svm_iopm_deny_all)
		return -ENOMEM;
	memset(phys_to_virt(svm_iopm_deny_all), 0xff, IOPM_SIZE);
	return 0;
}

paddr_t svm_iopm_deny_all_pa(void)
{
	return svm_iopm_deny_all;
}

int iopm_set(u8 *iopm, u32 first, u32 count, bool intercept)
{
	if (first > 0xffff || count > 0x10000 - first)
		return -EINVAL;
	for (u32 p = first; p < first + count; p++) {
		if (intercept)
			iopm[p / 8] |= 1u << (p % 8);
		else
			iopm[p / 8] &= ~(1u << (p % 8));
	}
	return 0;
}

bool iopm_get(const u8 *iopm, u32 port)
{
	return iopm[port / 8] & (1u << (port % 8));
}

/*
 * Port passthrough for a domain (dom0's devices). A domain's own map is a
 * copy of the deny-all map with holes; vCPUs pick it up at their next
 * entry (run.c reads svm_iopm_pa() every time), so this may be called
 * while the domain exists, but not while one of its vCPUs is in guest mode
 * (only one CPU for now, so never).
 */
int svm_io_allow(struct domain *d, u32 first, u32 count, bool allow)
{
	struct svm_domain *sd = domain_svm(d);

	if (first > 0xffff || count > 0x10000 - first)
		return -EINVAL;
	if (!sd->iopm_pa) {
		paddr_t pa = frame_alloc_contig(IOPM_SIZE / PAGE_SIZE, PAGE_SIZE);
		if (!pa)
			return -ENOMEM;
		memset(phys_to_virt(pa), 0xff, IOPM_SIZE);
		sd->iopm_pa = pa;
	}
	return iopm_set(phys_to_virt(sd->iopm_pa), first, count, !allow);
}

void svm_io_domain_destroy(struct domain *d)
{
	struct svm_domain *sd = domain_svm(d);

	if (!sd->iopm_pa)
		return;
	frame_free_contig(sd->iopm_pa, IOPM_SIZE / PAGE_SIZE);
	sd->iopm_pa = 0;
}
