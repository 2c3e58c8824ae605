/*
 * The domains scenarios about dom0's mappings of a domU's memory
 * (domains.c has the list): `foreign` (foreign mappings as a toolstack
 * makes them, and every mistake refused) and `held` (grant and foreign
 * mappings are never overwritten or lost, asm/p2m.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/memory.h>
#include <public/sched.h>
#include "domain/domain.h"
#include "domains.h"
#include "domctl.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pci/pci.h"

#define WAIT_NS DOMAINS_WAIT_NS


/* The first loadable segment of the pvtest ELF64 image: where it goes and
 * where its bytes are in the file. */
static bool first_segment(u64 *paddr, u64 *offset, u64 *filesz)
{
	const u8 *e = domains_image;
	u64 phoff;
	u16 phentsize, phnum;
	memcpy(&phoff, e + 32, 8);
	memcpy(&phentsize, e + 54, 2);
	memcpy(&phnum, e + 56, 2);
	for (u16 i = 0; i < phnum; i++) {
		const u8 *ph = e + phoff + (u64)i * phentsize;
		u32 type;
		memcpy(&type, ph, 4);
		if (type != 1 /* PT_LOAD */)
			continue;
		memcpy(offset, ph + 8, 8);
		memcpy(paddr, ph + 24, 8);
		memcpy(filesz, ph + 32, 8);
		return *filesz > 0;
	}
	return false;
}

/* dom0 maps a built (paused) domU's pages into its own physmap, as a
 * toolstack does to load or inspect a guest, and every mistake gets its
 * error without changing anything. */
void scenario_foreign(const struct hvm_start_info *si)
{
	u64 paddr, offset, filesz;
	int rc, err;

	if ((rc = gnttab_init(si, 1)))
		domains_finish(false, "FAIL gnttab_init (for its mapping window): %d", rc);
	if (!first_segment(&paddr, &offset, &filesz))
		domains_finish(false, "FAIL no loadable segment in the pvtest image");
	u64 before = sysctl_free_pages();
	domid_t f = domains_domu_create("foreign");
	domains_domu_build(f, "role=work steps=1");
	u64 gfn = paddr >> PAGE_SHIFT, slot0 = gnttab_slot_gpa(0), slot1 = gnttab_slot_gpa(1);

	domains_check("map", dom_map_foreign(f, gfn, slot0, &err), 0);
	domains_check("map-err", err, 0);
	u64 n = MIN(filesz, PAGE_SIZE - (paddr & (PAGE_SIZE - 1)));
	const u8 *page = (const u8 *)gnttab_slot_va(0) + (paddr & (PAGE_SIZE - 1));
	domains_check("page-holds-the-loaded-image", memcmp(page, (const u8 *)domains_image + offset, n) == 0, 1);
	domains_check("map-same-frame-again", dom_map_foreign_one(f, gfn, slot1), 0);
	((volatile u8 *)gnttab_slot_va(0))[0] ^= 0x5a;
	domains_check("both-mappings-are-one-frame",
	      ((volatile u8 *)gnttab_slot_va(1))[0] == ((volatile u8 *)gnttab_slot_va(0))[0], 1);

	/* Mistakes: each refused per frame or as a whole, nothing changed. */
	domains_check("map-onto-a-mapped-slot", dom_map_foreign_one(f, gfn, slot0), -EBUSY);
	domains_check("map-beyond-its-ram", dom_map_foreign_one(f, 0x7ffff, gnttab_slot_gpa(2)), -ENOENT);
	domains_check("map-own-domain", dom_map_foreign(0, gfn, gnttab_slot_gpa(2), &err), -ESRCH);
	domains_check("map-no-such-domain", dom_map_foreign(63, gfn, gnttab_slot_gpa(2), &err), -ESRCH);
	domains_check("map-onto-own-ram", dom_map_foreign_one(f, gfn, 0x2000000), -EBUSY);
	domains_check("remove-own-ram", dom_unmap_foreign(0x2000000), -EOPNOTSUPP);
	domains_check("remove-a-hole", dom_unmap_foreign(gnttab_slot_gpa(2)), -ENOENT);

	/* Destroyed while mapped: the pages outlive it until unmapped. */
	domains_check("destroy-while-mapped", domctl_destroy(f), 0);
	struct xen_domctl_getdomaininfo info;
	domains_check("listed-as-dying", domctl_getdomaininfo(f, &info) == 0 &&
				 (info.flags & XEN_DOMINF_dying), 1);
	domains_check("unmap-0", dom_unmap_foreign(slot0), 0);
	domains_check("unmap-1", dom_unmap_foreign(slot1), 0);
	domains_check("unmap-twice", dom_unmap_foreign(slot1), -ENOENT);
	domains_check("destroy-finishes", domctl_destroy(f), 0);
	domains_check("gone", domctl_getdomaininfo(f, &info), -ESRCH);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "foreign: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "foreign: PASS dom0 mapped a domU's pages, and every mistake was refused");
}

/* ---- held mappings: never overwritten, never lost (asm/p2m.h) ------------ */

static int add_to_physmap(domid_t dom, unsigned space, u64 idx, u64 gpa)
{
	struct xen_add_to_physmap x = {
		.domid = dom, .space = space, .idx = idx, .gpfn = gpa >> PAGE_SHIFT,
	};
	return (int)HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);
}

static u64 bar_read64(const struct pci_dev *p, unsigned i)
{
	return (pci_cfg_read(p, PCI_BAR0 + 4 * i, 4) & ~0xfULL) |
	       (u64)pci_cfg_read(p, PCI_BAR0 + 4 * i + 4, 4) << 32;
}

/* Reprograms 64-bit BAR i (low dword, then high: the hypervisor acts on
 * the high one) and returns what it reads back. */
static u64 bar_move64(const struct pci_dev *p, unsigned i, u64 addr)
{
	u32 lo = pci_cfg_read(p, PCI_BAR0 + 4 * i, 4);

	pci_cfg_write(p, PCI_BAR0 + 4 * i, 4, (u32)addr | (lo & 0xf));
	pci_cfg_write(p, PCI_BAR0 + 4 * i + 4, 4, (u32)(addr >> 32));
	return bar_read64(p, i);
}

/* A device with MSI-X and a 64-bit memory BAR that does not hold its
 * table; *bar64 is that BAR, *table the page of the MSI-X table. */
static const struct pci_dev *msix_dev_with_bar64(unsigned *bar64, u64 *table)
{
	for (unsigned n = 0; n < pci_ndevs; n++) {
		const struct pci_dev *p = &pci_devs[n];
		u8 cap = pci_cap_find(p, PCI_CAP_ID_MSIX, 0);
		if (!cap)
			continue;
		u32 treg = pci_cfg_read(p, cap + 4, 4);
		unsigned bir = treg & 7;
		if (bir >= 6 || !p->bar[bir].addr)
			continue;
		for (unsigned i = 0; i < 6; i++) {
			const struct pci_bar_info *b = &p->bar[i];
			if (i != bir && b->mem64 && b->addr && b->size && b->size <= 64 * PAGE_SIZE) {
				*bar64 = i;
				*table = (p->bar[bir].addr + (treg & ~7u)) & ~(u64)(PAGE_SIZE - 1);
				return p;
			}
		}
	}
	return NULL;
}

void scenario_held(const struct hvm_start_info *si)
{
	static u8 own[PAGE_SIZE] __aligned(PAGE_SIZE);
	struct gnttab_map_grant_ref m;
	struct gnttab_unmap_grant_ref u;
	struct xen_domctl_getdomaininfo info;
	evtchn_port_t port, local;
	u64 paddr, offset, filesz, table;
	unsigned bar;
	char cg[96];
	int rc;

	/* dom0's grant table and handle table first: they stay (see
	 * scenario_zombie). */
	if ((rc = gnttab_init(si, 1)))
		domains_finish(false, "FAIL gnttab_init: %d", rc);
	gnttab_grant_access_ref(9, 0, virt_to_gfn(own), true);
	gnttab_set_map_op(&m, gnttab_slot_gpa(1), GNTMAP_host_map | GNTMAP_readonly, 9, 0);
	if (gnttab_map_refs(&m, 1) || m.status)
		domains_finish(false, "FAIL mapping dom0's own grant: status %d", m.status);
	gnttab_set_unmap_op(&u, gnttab_slot_gpa(1), m.handle);
	if (gnttab_unmap_refs(&u, 1) || u.status || !gnttab_end_access(9))
		domains_finish(false, "FAIL unmapping dom0's own grant: status %d", u.status);
	if (!first_segment(&paddr, &offset, &filesz))
		domains_finish(false, "FAIL no loadable segment in the pvtest image");
	pci_init(si->rsdp_paddr);
	const struct pci_dev *dev = msix_dev_with_bar64(&bar, &table);
	if (!dev)
		domains_finish(false, "held: FAIL no PCI device with MSI-X and a 64-bit BAR "
		       "(QEMU: -device virtio-rng-pci)");
	u64 bar_home = dev->bar[bar].addr, bar_size = dev->bar[bar].size;
	/* Two BAR-sized blocks in dom0's mapping window, clear of the slots
	 * used below: A gets a foreign mapping in its second page, B stays
	 * empty. */
	u64 block_a = ALIGN_UP(gnttab_slot_gpa(64), bar_size), block_b = block_a + 2 * bar_size;
	printf("dom0: domains: device %02x:%02x.%u BAR%u 0x%lx+0x%lx, MSI-X table page 0x%lx\n",
	       PCI_BUS(dev->bdf), PCI_DEV(dev->bdf), PCI_FN(dev->bdf), bar, bar_home, bar_size,
	       table);

	u64 before = sysctl_free_pages();
	domid_t g = domains_domu_create("holder");
	if ((rc = evtchn_alloc_unbound(g, 0, &port)) ||
	    (rc = evtchn_bind_interdomain(g, port, &local)))
		domains_finish(false, "FAIL channel to d%u: %d", g, rc);
	evtchn_clear_pending(local);
	snprintf(cg, sizeof(cg), "role=granter peer=0 port=%u gref=8", port);
	domains_domu_build(g, cg);
	domains_check("unpause-holder", domctl_unpause(g), 0);
	u64 limit = pvclock_now_ns() + WAIT_NS;
	while (!evtchn_is_pending(local) && pvclock_now_ns() < limit)
		evtchn_poll(&local, 1, limit);
	domains_check("holder-granted", evtchn_is_pending(local), 1);

	/* A grant mapping (slot 0) and foreign mappings (slot 1, block A,
	 * the MSI-X table page: a hole in dom0's map). */
	u64 gfn = paddr >> PAGE_SHIFT, slot0 = gnttab_slot_gpa(0), slot1 = gnttab_slot_gpa(1);
	gnttab_set_map_op(&m, slot0, GNTMAP_host_map | GNTMAP_readonly, 8, g);
	long hrc = gnttab_map_refs(&m, 1);
	domains_check("grant-map", hrc ? hrc : m.status, GNTST_okay);
	domains_check("foreign-map", dom_map_foreign_one(g, gfn, slot1), 0);
	domains_check("foreign-map-in-block-a", dom_map_foreign_one(g, gfn, block_a + PAGE_SIZE), 0);
	domains_check("foreign-map-on-msix-table-page", dom_map_foreign_one(g, gfn, table), 0);

	/* Every other mapping at those places: refused, nothing changed. */
	struct gnttab_map_grant_ref m2;
	domains_check("foreign-over-grant", dom_map_foreign_one(g, gfn, slot0), -EBUSY);
	domains_check("foreign-over-foreign", dom_map_foreign_one(g, gfn, slot1), -EBUSY);
	gnttab_set_map_op(&m2, slot1, GNTMAP_host_map | GNTMAP_readonly, 8, g);
	hrc = gnttab_map_refs(&m2, 1);
	domains_check("grant-over-foreign", hrc ? hrc : m2.status, GNTST_general_error);
	domains_check("shared-info-over-grant", add_to_physmap(DOMID_SELF, XENMAPSPACE_shared_info, 0, slot0),
	      -EPERM);
	domains_check("grant-frame-over-foreign",
	      add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0, slot1), -EPERM);
	domains_check("remove-a-grant-mapping-as-foreign", dom_unmap_foreign(slot0), -EOPNOTSUPP);
	domains_check("grant-page-intact", ((const u8 *)gnttab_slot_va(0))[1], (u8)(1 * 31 + 7));

	/* A BAR moved onto a foreign mapping: refused (the register reads
	 * back unchanged). */
	domains_check("bar-move-onto-foreign-refused", bar_move64(dev, bar, block_a) == bar_home, 1);
	/* A BAR move elsewhere re-protects the MSI-X table page: the foreign
	 * mapping found there goes, with its reference. */
	domains_check("bar-move-to-empty-block", bar_move64(dev, bar, block_b) == block_b, 1);
	domains_check("msix-table-page-unmapped-again", dom_unmap_foreign(table), -ENOENT);
	domains_check("bar-move-home", bar_move64(dev, bar, bar_home) == bar_home, 1);

	/* Dying while dom0 still holds its pages: a zombie, whose grant table
	 * must not grow (its frames would never come back). */
	domains_check("destroy-while-mapped", domctl_destroy(g), 0);
	domains_check("listed-as-dying", domctl_getdomaininfo(g, &info) == 0 &&
				 (info.flags & XEN_DOMINF_dying), 1);
	u64 mid = sysctl_free_pages();
	domains_check("dying-grant-table-grow", add_to_physmap(g, XENMAPSPACE_grant_table, 4, 0x800000),
	      -ESRCH);
	domains_check("dying-grant-table-frame-0", add_to_physmap(g, XENMAPSPACE_grant_table, 0, 0x800000),
	      -ESRCH);
	domains_check("dying-shared-info", add_to_physmap(g, XENMAPSPACE_shared_info, 0, 0x801000), -ESRCH);
	domains_check("free-pages-unchanged-by-refusals", (long)sysctl_free_pages(), (long)mid);

	/* dom0 lets go: the zombie is reaped, every page is back. */
	gnttab_set_unmap_op(&u, slot0, m.handle);
	hrc = gnttab_unmap_refs(&u, 1);
	domains_check("grant-unmap", hrc ? hrc : u.status, GNTST_okay);
	domains_check("foreign-unmap", dom_unmap_foreign(slot1), 0);
	domains_check("foreign-unmap-block-a", dom_unmap_foreign(block_a + PAGE_SIZE), 0);
	domains_check("destroy-dying-domain-finishes", domctl_destroy(g), 0);
	domains_check("reaped", domctl_getdomaininfo(g, &info), -ESRCH);
	evtchn_close(local);
	domains_check_free_pages(before);
	if (domains_nr_bad())
		domains_finish(false, "held: FAIL %u of %u checks", domains_nr_bad(), domains_nr_checks());
	domains_finish(true, "held: PASS no held mapping was overwritten or lost; the dying domU's table "
	       "stayed shut; reaped, every page back");
}
