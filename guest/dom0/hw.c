/*
 * dom0's devices: enumeration, binding, inventory (contract in hw.h).
 *
 * The binding table lists the drivers in the order they are offered a
 * device; a device no driver matches is listed as unbound.
 */
#include <keel/lib.h>
#include "block/blkdev.h"
#include "drivers.h"
#include "guest.h"
#include "hw.h"
#include "net/netdev.h"
#include "pages.h"

static const struct pci_driver *const dom0_drivers[] = {
	&virtio_blk_driver,
	&nvme_driver,
	&ahci_driver,
	&virtio_net_driver,
	&e1000_driver,
};

static bool hw_ready;

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
		       PCI_BUS(d->bdf), PCI_SLOT(d->bdf), PCI_FUNC(d->bdf), d->vendor, d->device,
		       d->class, d->subclass, d->progif, pci_class_name(d->class, d->subclass),
		       d->driver ? "driver " : "no driver", d->driver ? d->driver : "",
		       d->note[0] ? " - " : "", d->note);
	}
	for (unsigned i = 0; i < blkdev_count(); i++) {
		const struct blkdev *b = blkdev_get(i);
		char size[24];
		print_size(size, sizeof(size), b->sectors * b->sector_size);
		printf("dom0: disk %s: %s, %s (%lu sectors of %u bytes), model \"%s\", serial \"%s\", "
		       "queue depth %u, max request %u sectors%s\n",
		       b->name, b->driver, size, b->sectors, b->sector_size, b->model, b->serial,
		       b->queue_depth, b->max_sectors, b->read_only ? ", read-only" : "");
	}
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *n = netdev_get(i);
		netdev_poll(n); /* refreshes the link state */
		printf("dom0: nic %s: %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, link %s\n", n->name,
		       n->driver, n->mac[0], n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5],
		       n->link_up ? "up" : "down");
	}
	printf("dom0: inventory: %u PCI functions, %u disks, %u NICs\n", pci_ndevs, blkdev_count(),
	       netdev_count());
}

void dom0_hw_init(const struct hvm_start_info *si)
{
	char opt[8];

	if (cmdline_get(si_cmdline(si), "hw", opt, sizeof(opt)) && !strcmp(opt, "off"))
		return;
	u64 pages = pages_init(si);
	printf("dom0: page pool: %lu MiB for DMA and buffers\n", pages >> 8);
	pci_init(si->rsdp_paddr);
	pci_bind(dom0_drivers, ARRAY_SIZE(dom0_drivers));
	hw_ready = true;
	dom0_hw_inventory();
}

/* ---- self-tests ----------------------------------------------------------- */

/*
 * pci-bar: dom0 tries to move a BAR over its own RAM; the hypervisor
 * must refuse (the register reads back unchanged, the device still
 * answers at the old address), and a sizing cycle must still report the
 * BAR's size.
 */
static int hw_pci_bar_test(void)
{
	for (unsigned i = 0; i < pci_ndevs; i++) {
		struct pci_dev *d = &pci_devs[i];
		for (unsigned b = 0; b < 6; b++) {
			struct pci_bar_info *bar = &d->bar[b];
			if (!bar->size || bar->io || !bar->addr || bar->mem64)
				continue;
			unsigned reg = PCI_BAR0 + 4 * b;
			u32 old = pci_cfg_read(d, reg, 4);
			/* dom0's own RAM: its image is at 16 MiB. */
			u32 target = 0x1000000 & ~(u32)(bar->size - 1);
			pci_cfg_write(d, reg, 4, target | (old & 0xf));
			u32 now = pci_cfg_read(d, reg, 4);
			pci_cfg_write(d, reg, 4, 0xffffffffu);
			u32 mask = pci_cfg_read(d, reg, 4);
			pci_cfg_write(d, reg, 4, old);
			u64 size = ~(u64)(mask & ~0xfu) + 1 - 0xffffffff00000000ULL;
			bool ok = now == old && size == bar->size;
			printf("dom0: pci-bar: %s %02x:%02x.%u BAR%u 0x%lx -> 0x%x: reads 0x%x after the "
			       "move (was 0x%x), size 0x%lx (expected 0x%lx)\n",
			       ok ? "PASS" : "FAIL", PCI_BUS(d->bdf), PCI_SLOT(d->bdf), PCI_FUNC(d->bdf),
			       b, bar->addr, target, now, old, size, bar->size);
			return ok ? 0 : 1;
		}
	}
	puts("dom0: pci-bar: FAIL no 32-bit memory BAR to try");
	return 1;
}

bool dom0_hw_test_known(const char *test)
{
	return !strcmp(test, "blk") || !strcmp(test, "blk-past-end") || !strcmp(test, "net") ||
	       !strcmp(test, "pci-bar") || !strcmp(test, "hw");
}

void dom0_hw_test_run(const struct hvm_start_info *si, const char *test)
{
	const char *cl = si_cmdline(si);
	int failed = 0;

	dom0_hw_init(si);
	if (!hw_ready) {
		puts("dom0: hardware tests need hw=on");
		failed = 1;
	} else if (!strcmp(test, "blk")) {
		failed = hw_blk_test(cl);
	} else if (!strcmp(test, "blk-past-end")) {
		failed = hw_blk_past_end_test(cl);
	} else if (!strcmp(test, "net")) {
		failed = hw_net_test(cl);
	} else if (!strcmp(test, "pci-bar")) {
		failed = hw_pci_bar_test();
	}
	printf("dom0: hw tests done: %s\n", failed ? "FAIL" : "PASS");
	puts("dom0: powering off");
	guest_poweroff();
}
