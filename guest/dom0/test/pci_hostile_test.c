/*
 * dom0 as a hostile owner of the machine's devices (cmdline
 * `test=pci-hostile case=NAME`; tests/isolation/test_pci.py): dom0 tries to
 * rewrite what the hypervisor relies on through its config-space and MMIO
 * access, and checks by reading back (and by effect where QEMU shows one)
 * that the hypervisor kept it. docs/dom0-devices.md has the policy.
 *
 *   host        the host bridge (Q35 MCH): PCIEXBAR, PAM0-6, SMRAM, ESMRAMC
 *               and the command register, through ECAM and CF8/CFC; ECAM
 *               must still reach every function afterwards.
 *   lpc         the ISA/LPC bridge (ICH9): LPC_IOD/LPC_EN (COM1's decode),
 *               GEN1_DEC, PMBASE moved onto COM1; the hypervisor's console
 *               must keep working meanwhile (the lines reach the serial log).
 *   bridge      a PCI-to-PCI bridge's bus numbers: renumbering refused, the
 *               function behind it still at its BDF.
 *   msix-many   every MSI-X function (more than 16 when QEMU gives them):
 *               each table trapped (address writes dropped, vector control
 *               live), each entry 0 mappable.
 *   msix-move   an MSI-X table BAR unassigned (written 0) and assigned again
 *               elsewhere: untrapped, map_pirq and the enable bit are
 *               refused; trapped at the new place once assigned.
 *   msix-move64 the same with a 64-bit table BAR (QEMU's NVMe BAR0), moved
 *               above 4 GiB.
 *   bridge-window  a bridge's memory window widened over the IOAPIC, HPET and
 *               LAPIC/MSI window (still covering the function behind it),
 *               its I/O window over the legacy ports: the device's window
 *               is off meanwhile (the function behind it stops answering),
 *               the console keeps working, and the old window restored
 *               makes the function answer again.
 *   bridge-reset  an MSI-X entry of the function behind a bridge mapped, then
 *               a function level reset, then a secondary bus reset: after
 *               each (and dom0 restoring its command register), the table
 *               answers at its BAR with the hypervisor's message in entry 0
 *               and MSI-X enabled.
 *
 * Drivers are not bound (the devices stay as the firmware left them). One
 * line per check (selftest.h), then `dom0: pci-hostile: PASS|FAIL`.
 */
#include <lib/string.h>
#include "cpu.h"
#include "drivers.h"
#include "guest.h"
#include "selftests.h"
#include "hw/hw.h"
#include "physdev.h"
#include "selftest.h"

static struct selftest st = { .prefix = "pci-" };

#define CHECK(name, ok, ...) selftest_check(&st, name, ok, __VA_ARGS__)

static struct pci_dev *find_class(u8 class, u8 subclass)
{
	for (unsigned i = 0; i < pci_ndevs; i++)
		if (pci_devs[i].class == class && pci_devs[i].subclass == subclass)
			return &pci_devs[i];
	return NULL;
}

static const char *bdf_str(u16 bdf)
{
	static char s[4][12];
	static unsigned n;
	char *p = s[n++ % 4];
	snprintf(p, 12, "%02x:%02x.%u", PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf));
	return p;
}

/* Vendor/device of every enumerated function, read again now. */
static bool all_functions_answer(unsigned *bad)
{
	*bad = 0;
	for (unsigned i = 0; i < pci_ndevs; i++) {
		const struct pci_dev *d = &pci_devs[i];
		if (pci_cfg_read(d, PCI_VENDOR_ID, 4) != ((u32)d->device << 16 | d->vendor))
			(*bad)++;
	}
	return *bad == 0;
}

/* A config write through ports CF8/CFC (mechanism #1), whatever dom0's
 * library uses. */
static void cf8_write8(u16 bdf, unsigned reg, u8 v)
{
	outl(0xcf8, 0x80000000u | (u32)bdf << 8 | (reg & 0xfc));
	outb(0xcfc + (reg & 3), v);
}

/* ---- host bridge ------------------------------------------------------------- */

static void case_host(void)
{
	struct pci_dev *h = find_class(0x06, 0x00);
	unsigned bad;

	if (!h) {
		CHECK("host-bridge-present", false, "no host bridge (class 06/00)");
		return;
	}
	/* Q35 MCH registers (Intel 3 Series / QEMU hw/pci-host/q35.h). */
	static const struct { unsigned reg, size; u32 flip; const char *name; } regs[] = {
		{ 0x60, 4, 0x00000001, "PCIEXBAR (ECAM enable)" },
		{ 0x64, 4, 0x00000001, "PCIEXBAR high" },
		{ 0x90, 1, 0x30, "PAM0" }, { 0x91, 1, 0x33, "PAM1" }, { 0x92, 1, 0x33, "PAM2" },
		{ 0x93, 1, 0x33, "PAM3" }, { 0x94, 1, 0x33, "PAM4" }, { 0x95, 1, 0x33, "PAM5" },
		{ 0x96, 1, 0x33, "PAM6" },
		{ 0x9d, 1, 0x40, "SMRAM (D_OPEN)" },
		{ 0x9e, 1, 0x01, "ESMRAMC (T_EN)" },
		{ 0x04, 2, 0x0006, "command" },
	};
	u32 before[ARRAY_SIZE(regs)];
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		before[i] = pci_cfg_read(h, regs[i].reg, regs[i].size);
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		pci_cfg_write(h, regs[i].reg, regs[i].size, before[i] ^ regs[i].flip);
	/* The same through CF8/CFC: SMRAM's D_OPEN and PAM1. */
	cf8_write8(h->bdf, 0x9d, (u8)(before[9] ^ 0x40));
	cf8_write8(h->bdf, 0x91, (u8)(before[3] ^ 0x33));
	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++) {
		char name[48];
		u32 now = pci_cfg_read(h, regs[i].reg, regs[i].size);
		snprintf(name, sizeof(name), "host-%02x-kept", regs[i].reg);
		CHECK(name, now == before[i], "%s %s: 0x%x after writing 0x%x (was 0x%x)",
		      bdf_str(h->bdf), regs[i].name, now, before[i] ^ regs[i].flip, before[i]);
	}
	/* By effect: PCIEXBAR still enables the ECAM window the hypervisor
	 * reads config space through. */
	bool answer = all_functions_answer(&bad);
	CHECK("host-ecam-still-works", answer,
	      "%u of %u functions no longer answer (config through %s)", bad, pci_ndevs,
	      pci_access_method());
}

/* ---- LPC ------------------------------------------------------------------------ */

static void case_lpc(void)
{
	struct pci_dev *l = find_class(0x06, 0x01);

	if (!l) {
		CHECK("lpc-present", false, "no ISA/LPC bridge (class 06/01)");
		return;
	}
	/* ICH9 LPC (ICH9 datasheet 13.1): LPC_IOD 0x80 (COMA range in bits
	 * 2:0, 0 = 0x3f8), LPC_EN 0x82 (bit 0: COMA decoded on LPC),
	 * GEN1_DEC 0x84, PMBASE 0x40 (ACPI PM I/O, 128 ports). */
	u32 iod = pci_cfg_read(l, 0x80, 4), gen1 = pci_cfg_read(l, 0x84, 4);
	u32 pmbase = pci_cfg_read(l, 0x40, 4);
	pci_cfg_write(l, 0x82, 2, 0);              /* COM decoding off */
	pci_cfg_write(l, 0x80, 2, 0x0007);         /* COMA moved to 0x2e8 */
	pci_cfg_write(l, 0x84, 4, 0x00fc03f9);     /* generic decode over COM1 */
	pci_cfg_write(l, 0x40, 4, 0x3f9);          /* the PM block onto COM1 */
	/* By effect: this line goes out on the hypervisor's UART with dom0's
	 * values in place (on QEMU, PMBASE at 0x3f8 puts the ACPI PM block
	 * over COM1 and the hypervisor's lines are lost until it moves
	 * away); the integration test looks for it in the serial log. */
	puts("dom0: pci-hostile: console line with dom0's LPC writes in place");
	u32 iod2 = pci_cfg_read(l, 0x80, 4), gen2 = pci_cfg_read(l, 0x84, 4);
	u32 pm2 = pci_cfg_read(l, 0x40, 4);
	CHECK("lpc-com-decode-kept", iod2 == iod, "%s LPC_IOD/LPC_EN 0x%08x (was 0x%08x)",
	      bdf_str(l->bdf), iod2, iod);
	CHECK("lpc-gen-decode-kept", gen2 == gen1, "%s GEN1_DEC 0x%08x (was 0x%08x)",
	      bdf_str(l->bdf), gen2, gen1);
	CHECK("lpc-pmbase-kept", pm2 == pmbase, "%s PMBASE 0x%08x (was 0x%08x)", bdf_str(l->bdf),
	      pm2, pmbase);
	/* Restore (only matters when the hypervisor let it through). */
	pci_cfg_write(l, 0x40, 4, pmbase);
	pci_cfg_write(l, 0x84, 4, gen1);
	pci_cfg_write(l, 0x80, 4, iod);
}

/* ---- bridge bus numbers -------------------------------------------------------- */

static void case_bridge(void)
{
	struct pci_dev *b = NULL, *behind = NULL;
	unsigned bad;

	for (unsigned i = 0; i < pci_ndevs && !behind; i++) {
		if (pci_devs[i].header != 1)
			continue;
		unsigned sec = pci_cfg_read(&pci_devs[i], PCI_SECONDARY_BUS, 1);
		for (unsigned j = 0; j < pci_ndevs; j++)
			if (PCI_BUS(pci_devs[j].bdf) == sec && sec) {
				b = &pci_devs[i];
				behind = &pci_devs[j];
				break;
			}
	}
	if (!behind) {
		CHECK("bridge-present", false, "no PCI-to-PCI bridge with a function behind it");
		return;
	}
	u32 before = pci_cfg_read(b, PCI_PRIMARY_BUS, 4);
	u32 other = (before & 0xff000000u) | 0x404005u; /* primary 5, buses 0x40-0x40 */
	pci_cfg_write(b, PCI_PRIMARY_BUS, 4, other);
	u32 after_dw = pci_cfg_read(b, PCI_PRIMARY_BUS, 4);
	pci_cfg_write(b, PCI_SECONDARY_BUS, 1, 0x41);
	pci_cfg_write(b, PCI_SUBORDINATE_BUS, 1, 0x41);
	u32 after_b = pci_cfg_read(b, PCI_PRIMARY_BUS, 4);
	CHECK("bridge-busnr-dword-kept", (after_dw & 0xffffff) == (before & 0xffffff),
	      "%s 0x18: 0x%08x after writing 0x%08x (was 0x%08x)", bdf_str(b->bdf), after_dw,
	      other, before);
	CHECK("bridge-busnr-bytes-kept", (after_b & 0xffffff) == (before & 0xffffff),
	      "%s 0x18: 0x%08x after byte writes of 0x41 (was 0x%08x)", bdf_str(b->bdf), after_b,
	      before);
	/* By effect: the function behind the bridge is where the hypervisor
	 * knows it, and nothing answers on the bus dom0 asked for. */
	u32 id = pci_cfg_read(behind, PCI_VENDOR_ID, 4);
	struct pci_dev ghost = { .bdf = PCI_BDF(0x40, PCI_DEV(behind->bdf), PCI_FN(behind->bdf)) };
	struct pci_dev ghost2 = { .bdf = PCI_BDF(0x41, PCI_DEV(behind->bdf), PCI_FN(behind->bdf)) };
	u32 gid = pci_cfg_read(&ghost, PCI_VENDOR_ID, 4), gid2 = pci_cfg_read(&ghost2, PCI_VENDOR_ID, 4);
	CHECK("bridge-function-behind-stays", id == ((u32)behind->device << 16 | behind->vendor) &&
	      gid == 0xffffffffu && gid2 == 0xffffffffu,
	      "%s reads 0x%08x, %s 0x%08x, %s 0x%08x", bdf_str(behind->bdf), id, bdf_str(ghost.bdf),
	      gid, bdf_str(ghost2.bdf), gid2);
	pci_cfg_write(b, PCI_PRIMARY_BUS, 4, before); /* restore, if it changed */
	bool answer = all_functions_answer(&bad);
	CHECK("bridge-all-functions-answer", answer, "%u of %u do not", bad,
	      pci_ndevs);
}

/* ---- MSI-X ------------------------------------------------------------------------ */

struct msix_info {
	u8 cap;
	unsigned bir, nr;
	u32 off;
};

static bool msix_info(const struct pci_dev *d, struct msix_info *m)
{
	m->cap = pci_cap_find(d, PCI_CAP_ID_MSIX, 0);
	if (!m->cap)
		return false;
	u32 treg = pci_cfg_read(d, m->cap + 4, 4);
	m->bir = treg & 7;
	m->off = treg & ~7u;
	m->nr = (pci_cfg_read(d, m->cap + 2, 2) & 0x7ff) + 1;
	return m->bir < 6;
}

/* The table's entry 0 through dom0's mapping of address `bar_addr`. */
static volatile u8 *entry0(const struct msix_info *m, u64 bar_addr)
{
	return drv_map_mmio(bar_addr + m->off, (u64)m->nr * 16)
		       ? (volatile u8 *)(uintptr_t)(bar_addr + m->off) : NULL;
}

/* Entry 0 is trapped: an address write is dropped, a vector-control write
 * lands (the device answers there, through the hypervisor). */
static bool table_trapped(volatile u8 *e, char *why, size_t n)
{
	u32 a = mmio_read32(e), vc = mmio_read32(e + 12);
	mmio_write32(e, 0x12345670);
	u32 a2 = mmio_read32(e);
	mmio_write32(e + 12, vc ^ 1);
	u32 vc2 = mmio_read32(e + 12);
	mmio_write32(e + 12, vc);
	snprintf(why, n, "address 0x%x after writing 0x12345670 (was 0x%x), vector control 0x%x "
		 "after writing 0x%x", a2, a, vc2, vc ^ 1);
	return a2 == a && vc2 == (vc ^ 1);
}

static void case_msix_many(void)
{
	unsigned n = 0, trapped = 0, mapped = 0;
	char why[160], name[48];

	for (unsigned i = 0; i < pci_ndevs; i++) {
		struct pci_dev *d = &pci_devs[i];
		struct msix_info m;
		if (!msix_info(d, &m) || !d->bar[m.bir].addr)
			continue;
		n++;
		pci_enable(d, true, false, false);
		volatile u8 *e = entry0(&m, d->bar[m.bir].addr);
		bool ok = e && table_trapped(e, why, sizeof(why));
		trapped += ok;
		snprintf(name, sizeof(name), "msix-table-trapped-%s", bdf_str(d->bdf));
		CHECK(name, ok, "%s", e ? why : "cannot map the table");
		u32 pirq = 0;
		int rc = physdev_map_msix(d->bdf, 0, d->bar[m.bir].addr, &pirq);
		u32 addr = e ? mmio_read32(e) : 0;
		bool mok = rc == 0 && (addr & 0xfff00000u) == 0xfee00000u;
		mapped += mok;
		snprintf(name, sizeof(name), "msix-map-%s", bdf_str(d->bdf));
		CHECK(name, mok, "map_pirq entry 0 = %d, pirq %u, entry address 0x%x", rc, pirq, addr);
		if (rc == 0)
			physdev_unmap_pirq(pirq);
	}
	CHECK("msix-all-trapped", n > 0 && trapped == n && mapped == n,
	      "%u MSI-X functions, %u tables trapped, %u entries mapped", n, trapped, mapped);
}

/* A free, aligned place for a memory BAR of `size`: above every memory BAR
 * of the same kind (32-bit: below the IOAPIC; 64-bit: above 4 GiB, where
 * the firmware put them, within qemu64's 40 address bits). 0 if none. */
static u64 free_mmio(u64 size, bool mem64)
{
	u64 top = mem64 ? 4ULL << 30 : 0, limit = mem64 ? 1ULL << 40 : 0xfec00000u;
	for (unsigned i = 0; i < pci_ndevs; i++)
		for (unsigned b = 0; b < 6; b++) {
			const struct pci_bar_info *x = &pci_devs[i].bar[b];
			if (x->size && !x->io && x->addr && x->addr >= (mem64 ? 4ULL << 30 : 0) &&
			    x->addr + x->size <= limit && x->addr + x->size > top)
				top = x->addr + x->size;
		}
	u64 at = ALIGN_UP(top, size);
	return at && at + size <= limit ? at : 0;
}

/* BAR registers as dom0 writes them: the low dword, then (64-bit) the
 * upper one, which is when the hypervisor judges the move. */
static void bar_set(const struct pci_dev *d, unsigned reg, bool mem64, u32 flags, u64 addr)
{
	pci_cfg_write(d, reg, 4, (u32)addr | flags);
	if (mem64)
		pci_cfg_write(d, reg + 4, 4, (u32)(addr >> 32));
}

static u64 bar_get(const struct pci_dev *d, unsigned reg, bool mem64)
{
	u64 a = pci_cfg_read(d, reg, 4) & ~0xfu;
	return mem64 ? a | (u64)pci_cfg_read(d, reg + 4, 4) << 32 : a;
}

/* msix-move (32-bit table BAR, virtio) and msix-move64 (64-bit, NVMe). */
static void case_msix_move(bool mem64)
{
	struct pci_dev *d = NULL;
	struct msix_info m;
	char why[160];
	u32 pirq = 0;
	int rc;

	for (unsigned i = 0; i < pci_ndevs && !d; i++)
		if (msix_info(&pci_devs[i], &m) && pci_devs[i].bar[m.bir].addr &&
		    pci_devs[i].bar[m.bir].mem64 == mem64 && !pci_devs[i].bar[m.bir].io)
			d = &pci_devs[i];
	if (!d) {
		CHECK("msix-move-device", false, "no MSI-X function with a %s memory table BAR",
		      mem64 ? "64-bit" : "32-bit");
		return;
	}
	struct pci_bar_info *bar = &d->bar[m.bir];
	unsigned reg = PCI_BAR0 + 4 * m.bir;
	u32 flags = pci_cfg_read(d, reg, 4) & 0xf;
	u64 old = bar_get(d, reg, mem64), to = free_mmio(bar->size, mem64);
	printf("dom0: pci-hostile: %s MSI-X table in BAR%u at 0x%lx+0x%x, %u entries; moving to "
	       "0x%lx\n", bdf_str(d->bdf), m.bir, bar->addr, m.off, m.nr, to);

	/* Unassigned, as firmware leaves a BAR it had no room for. */
	pci_enable(d, true, false, false);
	bar_set(d, reg, mem64, flags, 0);
	u64 now = bar_get(d, reg, mem64);
	CHECK("msix-bar-unassigned", now == 0, "BAR%u reads 0x%lx after writing 0 (was 0x%lx)",
	      m.bir, now, old);
	rc = physdev_map_msix(d->bdf, 0, bar->addr, &pirq);
	CHECK("msix-map-untrapped-refused", rc == -ENODEV, "map_pirq entry 0, table_base 0x%lx = "
	      "%d (want %d)", bar->addr, rc, -ENODEV);
	/* (Should the map have been let through, the enable bit is tried
	 * while it stands.) */
	u16 ctl = (u16)pci_cfg_read(d, m.cap + 2, 2);
	pci_cfg_write(d, m.cap + 2, 2, ctl | 0x8000);
	u16 ctl2 = (u16)pci_cfg_read(d, m.cap + 2, 2);
	CHECK("msix-enable-untrapped-refused", !(ctl2 & 0x8000), "control 0x%x after setting "
	      "enable", ctl2);
	pci_cfg_write(d, m.cap + 2, 2, ctl & ~0x8000);
	if (rc == 0)
		physdev_unmap_pirq(pirq);

	/* Assigned again, elsewhere: trapped there. */
	if (!to) {
		CHECK("msix-bar-assigned", false, "no free MMIO for 0x%lx bytes", bar->size);
		return;
	}
	bar_set(d, reg, mem64, flags, to);
	now = bar_get(d, reg, mem64);
	CHECK("msix-bar-assigned", now == to, "BAR%u reads 0x%lx after writing 0x%lx", m.bir, now,
	      to);
	if (now != to)
		return;
	pci_enable(d, true, false, false);
	volatile u8 *e = entry0(&m, to);
	CHECK("msix-trapped-at-new-place", e && table_trapped(e, why, sizeof(why)), "%s",
	      e ? why : "cannot map");
	rc = physdev_map_msix(d->bdf, 0, to, &pirq);
	u32 addr = e ? mmio_read32(e) : 0;
	ctl2 = (u16)pci_cfg_read(d, m.cap + 2, 2);
	CHECK("msix-map-at-new-place", rc == 0 && (addr & 0xfff00000u) == 0xfee00000u &&
	      (ctl2 & 0x8000), "map_pirq = %d, entry address 0x%x, control 0x%x", rc, addr, ctl2);
	if (rc == 0) {
		/* Mapped entries pin the table BAR. */
		u64 again = ALIGN_UP(to + bar->size, bar->size);
		bar_set(d, reg, mem64, flags, again);
		now = bar_get(d, reg, mem64);
		CHECK("msix-bar-pinned-while-mapped", now == to, "BAR%u reads 0x%lx after writing "
		      "0x%lx", m.bir, now, again);
		rc = physdev_unmap_pirq(pirq);
		ctl2 = (u16)pci_cfg_read(d, m.cap + 2, 2);
		CHECK("msix-unmap", rc == 0 && !(ctl2 & 0x8000), "unmap_pirq = %d, control 0x%x", rc,
		      ctl2);
	}
}

/* ---- bridge windows and resets ------------------------------------------------ */

/* A PCI-to-PCI bridge with an MSI-X function behind it (its table BAR
 * assigned), or false. */
static bool find_behind(struct pci_dev **bridge, struct pci_dev **behind, struct msix_info *m)
{
	for (unsigned i = 0; i < pci_ndevs; i++) {
		if (pci_devs[i].header != 1)
			continue;
		unsigned sec = pci_cfg_read(&pci_devs[i], PCI_SECONDARY_BUS, 1);
		for (unsigned j = 0; j < pci_ndevs && sec; j++)
			if (PCI_BUS(pci_devs[j].bdf) == sec && msix_info(&pci_devs[j], m) &&
			    pci_devs[j].bar[m->bir].addr && !pci_devs[j].bar[m->bir].io) {
				*bridge = &pci_devs[i];
				*behind = &pci_devs[j];
				return true;
			}
	}
	CHECK("bridge-present", false, "no PCI-to-PCI bridge with an MSI-X function behind it");
	return false;
}

static void case_bridge_window(void)
{
	struct pci_dev *b, *d;
	struct msix_info m;

	if (!find_behind(&b, &d, &m))
		return;
	pci_enable(d, true, false, false);
	volatile u8 *e = entry0(&m, d->bar[m.bir].addr);
	if (!e) {
		CHECK("bridge-window-table-mapped", false, "cannot map %s's table", bdf_str(d->bdf));
		return;
	}
	/* Entry 0 is masked (vector control 1) until mapped: a value no
	 * absent device gives (hardware reads all ones, QEMU 0). */
	u32 vc0 = mmio_read32(e + 12);
	CHECK("bridge-window-function-answers", vc0 != 0xffffffffu && vc0 != 0,
	      "%s entry 0 vector control 0x%x", bdf_str(d->bdf), vc0);

	/* The memory window widened up to 0xfeffffff: it still covers the
	 * function's table, and now the IOAPIC, the HPET and the LAPIC/MSI
	 * window too. dom0 reads back what it wrote; the device's window is
	 * off (had the write landed, the function would still answer). */
	u32 w0 = pci_cfg_read(b, PCI_MEMORY_BASE, 4), bad = 0xfef00000u | (w0 & 0xfff0);
	pci_cfg_write(b, PCI_MEMORY_BASE, 4, bad);
	u32 rb = pci_cfg_read(b, PCI_MEMORY_BASE, 4), vc1 = mmio_read32(e + 12);
	CHECK("bridge-window-reads-back", rb == bad, "%s 0x20 reads 0x%08x after writing 0x%08x",
	      bdf_str(b->bdf), rb, bad);
	CHECK("bridge-window-off-in-device", vc1 != vc0,
	      "%s's table (in the window) still answers 0x%x with the window over the "
	      "hypervisor's ranges", bdf_str(d->bdf), vc1);
	pci_cfg_write(b, PCI_MEMORY_BASE, 4, w0);
	u32 vc2 = mmio_read32(e + 12);
	CHECK("bridge-window-restored", vc2 == vc0, "%s entry 0 vector control 0x%x (was 0x%x) "
	      "after restoring window 0x%08x", bdf_str(d->bdf), vc2, vc0, w0);

	/* I/O window 0x0000-0x0fff (the PIT, PICs, CF8/CFC, COM1): refused;
	 * the console line must reach the serial log meanwhile. */
	u32 io0 = pci_cfg_read(b, PCI_IO_BASE, 2), up0 = pci_cfg_read(b, PCI_IO_BASE_UPPER16, 4);
	pci_cfg_write(b, PCI_IO_BASE_UPPER16, 4, 0);
	pci_cfg_write(b, PCI_IO_BASE, 2, io0 & 0x0f0f);
	printf("dom0: pci-hostile: console line with dom0's bridge I/O window over port 0x3f8\n");
	pci_cfg_write(b, PCI_IO_BASE, 2, io0);
	pci_cfg_write(b, PCI_IO_BASE_UPPER16, 4, up0);
	unsigned bad_n;
	bool answer = all_functions_answer(&bad_n);
	CHECK("bridge-window-all-functions-answer", answer, "%u of %u do not", bad_n, pci_ndevs);
}

/* Maps entry 0 of d's table, resets d (FLR or, sbr, through bridge b),
 * restores the command register as an OS does after a reset, and checks
 * that the table is back with the hypervisor's message and enable. */
static void reset_and_check(const char *name, struct pci_dev *b, struct pci_dev *d,
			    const struct msix_info *m, bool sbr)
{
	char check[48];
	u32 pirq = 0;

	pci_enable(d, true, false, true);
	volatile u8 *e = entry0(m, d->bar[m->bir].addr);
	int rc = e ? physdev_map_msix(d->bdf, 0, d->bar[m->bir].addr, &pirq) : -1;
	u32 a0 = e ? mmio_read32(e) : 0;
	u16 ctl0 = pci_cfg_read(d, m->cap + 2, 2);
	snprintf(check, sizeof(check), "bridge-%s-mapped", name);
	CHECK(check, rc == 0 && (a0 & 0xfff00000u) == 0xfee00000u && (ctl0 & PCI_MSIX_FLAGS_ENABLE),
	      "map_pirq %d, entry 0 address 0x%x, control 0x%x", rc, a0, ctl0);
	if (rc)
		return;
	u16 cmd = pci_cfg_read(d, PCI_COMMAND, 2);
	if (sbr) {
		u16 bc = pci_cfg_read(b, PCI_BRIDGE_CONTROL, 2);
		pci_cfg_write(b, PCI_BRIDGE_CONTROL, 2, bc | PCI_BRIDGE_CTL_BUS_RESET);
		drv_udelay(2000); /* Trst, PCI 3.0: at least 1 ms */
		pci_cfg_write(b, PCI_BRIDGE_CONTROL, 2, bc);
	} else {
		u8 exp = pci_cap_find(d, PCI_CAP_ID_EXP, 0);
		u32 devcap = exp ? pci_cfg_read(d, exp + PCI_EXP_DEVCAP, 4) : 0;
		snprintf(check, sizeof(check), "bridge-%s-capable", name);
		CHECK(check, devcap & PCI_EXP_DEVCAP_FLR, "%s: PCIe capability 0x%x, DEVCAP 0x%x",
		      bdf_str(d->bdf), exp, devcap);
		u16 dc = pci_cfg_read(d, exp + PCI_EXP_DEVCTL, 2);
		pci_cfg_write(d, exp + PCI_EXP_DEVCTL, 2, dc | PCI_EXP_DEVCTL_BCR_FLR);
	}
	/* PCIe Base 4.0, 6.6.2: 100 ms before the function must answer. */
	drv_udelay(150000);
	pci_cfg_write(d, PCI_COMMAND, 2, cmd);
	u32 a1 = mmio_read32(e), d1 = mmio_read32(e + 8);
	u16 ctl1 = pci_cfg_read(d, m->cap + 2, 2);
	snprintf(check, sizeof(check), "bridge-%s-msix-written-back", name);
	CHECK(check, a1 == a0 && (ctl1 & PCI_MSIX_FLAGS_ENABLE),
	      "%s after the reset: entry 0 address 0x%x (was 0x%x), data 0x%x, control 0x%x",
	      bdf_str(d->bdf), a1, a0, d1, ctl1);
	rc = physdev_unmap_pirq(pirq);
	snprintf(check, sizeof(check), "bridge-%s-unmap", name);
	CHECK(check, rc == 0, "unmap_pirq = %d", rc);
}

static void case_bridge_reset(void)
{
	struct pci_dev *b, *d;
	struct msix_info m;

	if (!find_behind(&b, &d, &m))
		return;
	reset_and_check("flr", b, d, &m, false);
	reset_and_check("sbr", b, d, &m, true);
}

void pci_hostile_test_run(const struct hvm_start_info *si, const char *test)
{
	char which[16] = "";

	(void)test;

	cmdline_get(si_cmdline(si), "case", which, sizeof(which));
	pci_init(si->rsdp_paddr);
	printf("dom0: pci-hostile: case %s, %u PCI functions, config through %s\n", which,
	       pci_ndevs, pci_access_method());
	if (!strcmp(which, "host"))
		case_host();
	else if (!strcmp(which, "lpc"))
		case_lpc();
	else if (!strcmp(which, "bridge"))
		case_bridge();
	else if (!strcmp(which, "msix-many"))
		case_msix_many();
	else if (!strcmp(which, "msix-move"))
		case_msix_move(false);
	else if (!strcmp(which, "msix-move64"))
		case_msix_move(true);
	else if (!strcmp(which, "bridge-window"))
		case_bridge_window();
	else if (!strcmp(which, "bridge-reset"))
		case_bridge_reset();
	else
		CHECK("case", false, "unknown case \"%s\"", which);
	printf("dom0: pci-hostile: %s %u passed, %u failed\n", st.failed ? "FAIL" : "PASS",
	       st.passed, st.failed);
	puts("dom0: powering off");
	guest_poweroff();
}
