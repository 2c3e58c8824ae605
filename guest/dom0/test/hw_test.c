/*
 * dom0's hardware self-tests (cmdline `test=blk|blk-past-end|net|pci-bar|
 * pirq`, tests/hw/test_hw.py): the pci-bar and pirq checks here, the disk
 * and NIC tests in hw_blk_test.c and hw_net_test.c. Options and expected
 * lines: guest/dom0/README.md.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "drivers.h"
#include "evtchn.h"
#include "guest.h"
#include "hw/hw.h"
#include "hypercall.h"
#include "physdev.h"
#include "selftests.h"

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
			       ok ? "PASS" : "FAIL", PCI_BUS(d->bdf), PCI_DEV(d->bdf), PCI_FN(d->bdf),
			       b, bar->addr, target, now, old, size, bar->size);
			return ok ? 0 : 1;
		}
	}
	puts("dom0: pci-bar: FAIL no 32-bit memory BAR to try");
	return 1;
}

/*
 * pirq: the physdev_op / EVTCHNOP_bind_pirq subset refuses bad input
 * with Xen's errors and changes nothing; a good mapping still works after.
 * Runs on a GSI no device uses (cmdline `gsi=N`, default 7).
 */
static int hw_pirq_test(const char *cl)
{
	u64 g = 7;
	u32 pirq = 0;
	evtchn_port_t port = 0;
	int failed = 0, rc;
	struct physdev_map_pirq m;
	long lrc;

	cmdline_get_u64(cl, "gsi", &g);
	if (evtchn_init()) {
		puts("dom0: pirq: FAIL evtchn_init");
		return 1;
	}
#define CHECK(what, got, want)                                                          \
	do {                                                                            \
		long got_ = (got);                                                      \
		bool ok_ = got_ == (want);                                              \
		failed += !ok_;                                                         \
		printf("dom0: pirq: %s %s = %ld (want %d)\n", ok_ ? "PASS" : "FAIL", what, \
		       got_, (int)(want));                                              \
	} while (0)

	CHECK("map GSI 9999", physdev_map_gsi(9999, &pirq), -EINVAL);
	CHECK("map GSI 2 (the timer, Keel's)", physdev_map_gsi(2, &pirq), -EPERM);
	m = (struct physdev_map_pirq){ .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_GSI,
				       .index = (int32_t)g, .pirq = (int32_t)g + 1 };
	lrc = hypercall6(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, (u64)(uintptr_t)&m, 0, 0, 0);
	CHECK("map with pirq != GSI", lrc, -EINVAL);
	/* 00:00.0, the host bridge, has no MSI capability. */
	m = (struct physdev_map_pirq){ .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_MSI,
				       .index = -1, .pirq = -1 };
	lrc = hypercall6(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, (u64)(uintptr_t)&m, 0, 0, 0);
	CHECK("map MSI of a function without MSI", lrc, -ENODEV);
	m = (struct physdev_map_pirq){ .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_MSI,
				       .index = -1, .pirq = -1, .table_base = 0xfebf0000 };
	lrc = hypercall6(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, (u64)(uintptr_t)&m, 0, 0, 0);
	CHECK("map MSI-X of a function without MSI-X", lrc, -ENODEV);
	m = (struct physdev_map_pirq){ .domid = DOMID_SELF, .type = MAP_PIRQ_TYPE_MSI,
				       .index = -1, .pirq = -1, .bus = 256 };
	lrc = hypercall6(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, (u64)(uintptr_t)&m, 0, 0, 0);
	CHECK("map MSI on bus 256", lrc, -EINVAL);
	m = (struct physdev_map_pirq){ .domid = 5, .type = MAP_PIRQ_TYPE_GSI, .index = (int32_t)g,
				       .pirq = -1 };
	lrc = hypercall6(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, (u64)(uintptr_t)&m, 0, 0, 0);
	CHECK("map for another domain", lrc, -EPERM);
	lrc = hypercall6(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, 0xdead00000000ULL, 0, 0, 0);
	CHECK("map with a bad pointer", lrc, -EFAULT);
	struct physdev_setup_gsi sg = { .gsi = (int32_t)g, .triggering = 1, .polarity = 7 };
	lrc = hypercall6(__HYPERVISOR_physdev_op, PHYSDEVOP_setup_gsi, (u64)(uintptr_t)&sg, 0, 0, 0);
	CHECK("setup_gsi polarity 7", lrc, -EINVAL);
	CHECK("bind unmapped pirq", evtchn_bind_pirq((u32)g, &port), -EINVAL);
	CHECK("eoi unmapped pirq", physdev_eoi((u32)g), -EINVAL);
	CHECK("unknown physdev_op 99",
	      hypercall6(__HYPERVISOR_physdev_op, 99, 0, 0, 0, 0), -ENOSYS);
	CHECK("map GSI", physdev_map_gsi((u32)g, &pirq), 0);
	CHECK("pirq is the GSI", pirq, (int)g);
	CHECK("bind", evtchn_bind_pirq(pirq, &port), 0);
	rc = evtchn_bind_pirq(pirq, &port);
	CHECK("bind again", rc, -EEXIST);
	CHECK("unmap while bound", physdev_unmap_pirq(pirq), -EBUSY);
	CHECK("eoi", physdev_eoi(pirq), 0);
	CHECK("close", evtchn_close(port), 0);
	CHECK("unmap", physdev_unmap_pirq(pirq), 0);
	CHECK("eoi after unmap", physdev_eoi(pirq), -EINVAL);
	/* A function whose driver took its MSI at boot (q35's AHCI): mapping
	 * it again gives the same pirq, above the GSIs, edge (no EOI needed);
	 * unmapping it while the driver's port is bound is refused. */
	for (unsigned i = 0; i < pci_ndevs && !drv_msi_disabled; i++) {
		struct pci_dev *d = &pci_devs[i];
		u32 p1 = 0, p2 = 0;
		bool needs = true;
		if (!d->driver || !pci_cap_find(d, PCI_CAP_ID_MSI, 0) || physdev_map_msi(d->bdf, &p1))
			continue;
		CHECK("map MSI again", physdev_map_msi(d->bdf, &p2), 0);
		CHECK("the same MSI pirq", p2, (int)p1);
		CHECK("MSI pirq above the GSIs", p1 >= 128, 1);
		CHECK("MSI needs_eoi query", physdev_needs_eoi(p1, &needs), 0);
		CHECK("MSI needs no eoi", needs, 0);
		CHECK("eoi MSI", physdev_eoi(p1), 0);
		CHECK("unmap bound MSI", physdev_unmap_pirq(p1), -EBUSY);
		break;
	}
	/* A function whose driver took MSI-X entry 0 at boot (virtio-blk
	 * when the test adds one): the same pirq again, bad entries and
	 * table bases refused, and the trapped table: address/data writes
	 * dropped, the vector-control mask bit and config-space enable
	 * held as the hypervisor's. */
	for (unsigned i = 0; i < pci_ndevs && !drv_msi_disabled; i++) {
		struct pci_dev *d = &pci_devs[i];
		u8 cap = pci_cap_find(d, PCI_CAP_ID_MSIX, 0);
		u32 p1 = 0, p2 = 0;
		if (!d->driver || !cap)
			continue;
		u32 treg = pci_cfg_read(d, cap + 4, 4);
		unsigned bir = treg & 7, nr = (pci_cfg_read(d, cap + 2, 2) & 0x7ff) + 1;
		u64 base = d->bar[bir].addr;
		if (physdev_map_msix(d->bdf, 0, base, &p1))
			continue;
		CHECK("map MSI-X again", physdev_map_msix(d->bdf, 0, base, &p2), 0);
		CHECK("the same MSI-X pirq", p2, (int)p1);
		CHECK("MSI-X pirq above the GSIs", p1 >= 128, 1);
		CHECK("map MSI-X entry beyond the table", physdev_map_msix(d->bdf, nr, base, &p2),
		      -EINVAL);
		CHECK("map MSI-X with a wrong table_base",
		      physdev_map_msix(d->bdf, 0, base + 0x100000, &p2), -EINVAL);
		CHECK("unmap bound MSI-X", physdev_unmap_pirq(p1), -EBUSY);
		volatile u8 *t = (volatile u8 *)pci_bar_map(d, bir);
		if (!t)
			break;
		t += treg & ~7u;
		u32 addr = mmio_read32(t), data = mmio_read32(t + 8);
		CHECK("MSI-X entry 0 address is the hypervisor's", (addr & 0xfff00000u) == 0xfee00000u, 1);
		mmio_write32(t, 0x12345678);
		mmio_write32(t + 4, 0x9abc);
		mmio_write32(t + 8, 0x55);
		CHECK("MSI-X address write dropped", mmio_read32(t) == addr && !mmio_read32(t + 4), 1);
		CHECK("MSI-X data write dropped", mmio_read32(t + 8) == data, 1);
		mmio_write64(t + 8, 1ULL << 32 | 0x66); /* data (dropped) + vector control */
		CHECK("MSI-X qword: data dropped, mask set",
		      mmio_read32(t + 8) == data && (mmio_read32(t + 12) & 1), 1);
		mmio_write32(t + 12, 0);
		CHECK("MSI-X mask cleared", mmio_read32(t + 12) & 1, 0);
		u16 ctl = (u16)pci_cfg_read(d, cap + 2, 2);
		pci_cfg_write(d, cap + 2, 2, ctl & ~0x8000u);
		CHECK("MSI-X enable held by the hypervisor", (pci_cfg_read(d, cap + 2, 2) & 0x8000) != 0, 1);
		break;
	}
#undef CHECK
	printf("dom0: pirq: %s %d checks failed\n", failed ? "FAIL" : "PASS", failed);
	return failed;
}

void dom0_hw_test_run(const struct hvm_start_info *si, const char *test)
{
	const char *cl = si_cmdline(si);
	int failed = 0;

	dom0_hw_init(si);
	if (!dom0_hw_ready()) {
		puts("dom0: hardware tests need hw=on");
		failed = 1;
	} else if (!strcmp(test, "blk")) {
		failed = hw_blk_test(cl);
	} else if (!strcmp(test, "blk-past-end")) {
		failed = hw_blk_past_end_test(cl);
	} else if (!strcmp(test, "net")) {
		failed = hw_net_test(cl);
	} else if (!strcmp(test, "bridge")) {
		failed = hw_bridge_test(cl);
	} else if (!strcmp(test, "pci-bar")) {
		failed = hw_pci_bar_test();
	} else if (!strcmp(test, "pirq")) {
		failed = hw_pirq_test(cl);
	}
	printf("dom0: hw tests done: %s\n", failed ? "FAIL" : "PASS");
	puts("dom0: powering off");
	guest_poweroff();
}
