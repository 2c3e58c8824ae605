/*
 * dom0's devices: enumeration, binding, inventory (contract in hw.h).
 *
 * The binding table lists the drivers in the order they are offered a
 * device; a device no driver matches is listed as unbound.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "block/blkdev.h"
#include "block/ram_blk.h"
#include "drivers.h"
#include "evtchn.h"
#include "guest.h"
#include "hw.h"
#include "hypercall.h"
#include "physdev.h"
#include "net/netdev.h"
#include "pages.h"
#include "storage/partition.h"

static const struct pci_driver *const dom0_drivers[] = {
	&virtio_blk_driver,
	&nvme_driver,
	&ahci_driver,
	&virtio_net_driver,
	&e1000_driver,
};

static bool hw_ready;

bool dom0_hw_ready(void)
{
	return hw_ready;
}

static void print_size(char *buf, size_t n, u64 bytes)
{
	if (bytes >= (10ULL << 30))
		snprintf(buf, n, "%lu GiB", bytes >> 30);
	else if (bytes >= (10ULL << 20))
		snprintf(buf, n, "%lu MiB", bytes >> 20);
	else
		snprintf(buf, n, "%lu KiB", bytes >> 10);
}

void dom0_hw_inventory(void)
{
	if (!hw_ready) {
		puts("dom0: hardware not initialized (hw=off)");
		return;
	}
	printf("dom0: pci: %u functions, config space through %s\n", pci_ndevs,
	       pci_access_method());
	for (unsigned i = 0; i < pci_ndevs; i++) {
		const struct pci_dev *d = &pci_devs[i];
		printf("dom0: pci %02x:%02x.%u %04x:%04x class %02x%02x%02x %s: %s%s%s%s\n",
		       PCI_BUS(d->bdf), PCI_DEV(d->bdf), PCI_FN(d->bdf), d->vendor, d->device,
		       d->class, d->subclass, d->progif, pci_class_name(d->class, d->subclass),
		       d->driver ? "driver " : "no driver", d->driver ? d->driver : "",
		       d->note[0] ? " - " : "", d->note);
	}
	unsigned disks = 0, partitions = 0;
	for (unsigned i = 0; i < blkdev_count(); i++) {
		const struct blkdev *b = blkdev_get(i);
		char size[24];
		if (partition_info(b, NULL)) {
			partition_print(b);
			partitions++;
			continue;
		}
		disks++;
		print_size(size, sizeof(size), b->sectors * b->sector_size);
		/* Two lines: the console takes at most 160 characters. */
		printf("dom0: disk %s: %s, %s, model \"%s\", serial \"%s\"%s\n", b->name, b->driver,
		       size, b->model, b->serial, b->read_only ? ", read-only" : "");
		printf("dom0: disk %s: %lu sectors of %u bytes, queue depth %u, max request %u "
		       "sectors, irq %s\n", b->name, b->sectors, b->sector_size, b->queue_depth,
		       b->max_sectors, drv_irq_name(b->irq));
		if (b->discard) /* docs/discard.md */
			printf("dom0: disk %s: discard in units of %u sectors, at most %u per request\n",
			       b->name, b->discard_granularity, b->max_discard_sectors);
	}
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *n = netdev_get(i);
		netdev_poll(n); /* refreshes the link state */
		printf("dom0: nic %s: %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s, irq %s\n",
		       n->name, n->driver, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4],
		       n->mac[5], n->link_up ? "up" : "down", drv_irq_name(n->irq));
	}
	printf("dom0: inventory: %u PCI functions, %u disks, %u NICs, %u partitions\n", pci_ndevs,
	       disks, netdev_count(), partitions);
}

/* ramblk=MIB: a zeroed disk of MIB MiB in dom0's own memory, "ram0"
 * (drivers/block/ram_blk.h), which blkback exports like any other. For
 * hosts with no disk controller dom0 drives: Bochs offers ATA/IDE only
 * (docs/test-hosts.md), so a Linux guest's xvda there is this. */
static void add_ram_disk(const struct hvm_start_info *si)
{
	u64 mib = 0;
	int rc = cmdline_get_u64(si_cmdline(si), "ramblk", &mib);

	if (rc == -ENOENT)
		return;
	if (rc || !mib || mib > RAM_BLK_MAX_SECTORS / 2048 || !ram_blk_create(mib * 2048, "RAMBLK"))
		printf("dom0: ramblk=%lu: no RAM disk (1 to %u MiB, from the page pool)\n", mib,
		       RAM_BLK_MAX_SECTORS / 2048);
}

void dom0_hw_init(const struct hvm_start_info *si)
{
	char opt[8];

	if (cmdline_get(si_cmdline(si), "hw", opt, sizeof(opt)) && !strcmp(opt, "off"))
		return;
	/* msi=off: every device on INTx, as before MSI existed. */
	if (cmdline_get(si_cmdline(si), "msi", opt, sizeof(opt)) && !strcmp(opt, "off"))
		drv_msi_disabled = true;
	/* shared_info first: drivers' clock (PV time) and interrupts need it;
	 * without it they fall back to the TSC and polling. */
	if (evtchn_init())
		puts("dom0: event channels unavailable: drivers poll, TSC clock");
	u64 pages = pages_init(si);
	printf("dom0: page pool: %lu MiB for DMA and buffers\n", pages >> 8);
	pci_init(si->rsdp_paddr);
	pci_bind(dom0_drivers, ARRAY_SIZE(dom0_drivers));
	add_ram_disk(si);
	storage_scan_partitions();
	hw_ready = true;
	dom0_hw_inventory();
}
