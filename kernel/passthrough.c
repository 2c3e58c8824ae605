/*
 * Handing the machine's devices to dom0; the policy is in
 * include/keel/passthrough.h and docs/dom0-devices.md.
 *
 * Without an IOMMU dom0 can DMA anywhere, so none of this contains a
 * malicious dom0; it keeps a buggy one (or a firmware-assigned BAR in the
 * wrong place) from mapping device memory over RAM or over the devices
 * the hypervisor drives, and it keeps the hypervisor's own ports and MMIO
 * out of dom0's reach so that Keel's console, timer and interrupt
 * controllers stay consistent.
 */
#include <keel/acpi.h>
#include <keel/domain.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <keel/msix.h>
#include <keel/passthrough.h>
#include <keel/pci.h>
#include <keel/pirq.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/p2m.h>
#include <asm/vendor.h>

/* The firmware memory map (sanitized), for the "is it RAM" test. */
static struct boot_mem_range fw_map[BOOT_MMAP_MAX];
static unsigned fw_nmap;

struct kept_range {
	u64 base, len;
	const char *what;
};

/* MMIO the hypervisor keeps (filled at boot from ACPI, with the x86
 * defaults when a table is missing). */
#define KEPT_MMIO_MAX (4 + ACPI_MAX_IOAPIC)
static struct kept_range kept_mmio[KEPT_MMIO_MAX];
static unsigned nr_kept_mmio;

/* Ports the hypervisor keeps or emulates. */
#define KEPT_IO_MAX 16
static struct kept_range kept_io[KEPT_IO_MAX];
static unsigned nr_kept_io;

static void keep(struct kept_range *t, unsigned *n, unsigned max, u64 base, u64 len,
		 const char *what)
{
	if (*n < max && len)
		t[(*n)++] = (struct kept_range){ base, len, what };
}

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

bool passthrough_mmio_ok(u64 base, u64 len, const char **why)
{
	u64 b = ALIGN_DOWN(base, PAGE_SIZE), e = ALIGN_UP(base + len, PAGE_SIZE);

	if (!len || base + len < base || e >> cpu_features.phys_addr_bits) {
		*why = "beyond the physical address width";
		return false;
	}
	for (unsigned i = 0; i < fw_nmap; i++) {
		const struct boot_mem_range *m = &fw_map[i];
		if ((m->type == BOOT_MEM_USABLE || m->type == BOOT_MEM_ACPI ||
		     m->type == BOOT_MEM_NVS) && overlaps(b, e - b, m->base, m->len)) {
			*why = "RAM";
			return false;
		}
	}
	for (unsigned i = 0; i < nr_kept_mmio; i++)
		if (overlaps(b, e - b, kept_mmio[i].base, kept_mmio[i].len)) {
			*why = kept_mmio[i].what;
			return false;
		}
	return true;
}

bool passthrough_io_ok(u64 first, u64 count, const char **why)
{
	if (!count || first + count > 0x10000) {
		*why = "beyond port 0xffff";
		return false;
	}
	for (unsigned i = 0; i < nr_kept_io; i++)
		if (overlaps(first, count, kept_io[i].base, kept_io[i].len)) {
			*why = kept_io[i].what;
			return false;
		}
	return true;
}

static int map_mmio(struct domain *d, u64 base, u64 len)
{
	u64 b = ALIGN_DOWN(base, PAGE_SIZE), e = ALIGN_UP(base + len, PAGE_SIZE);
	/* Device memory: uncached, never executable. */
	return p2m_map(d, b, b, e - b, PT_R | PT_W, MT_UC);
}

static const char *bar_kind_name(const struct pci_bar *b)
{
	static const char *const names[] = {
		[PCI_BAR_IO32] = "io", [PCI_BAR_MEM32] = "mem", [PCI_BAR_MEM64] = "mem64",
	};
	return b->kind < ARRAY_SIZE(names) && names[b->kind] ? names[b->kind] : "?";
}

/* Gives dom0 one BAR at its current address. 0 if given, -EPERM if the
 * policy refuses it (printed), other -errno on failure. */
static int give_bar(struct domain *d, const struct pci_func *f, unsigned i)
{
	const struct pci_bar *b = &f->bar[i];
	const char *why = NULL;
	int rc;

	if (!b->size || !b->addr)
		return 0; /* unimplemented or unassigned: nothing to give */
	if (b->kind == PCI_BAR_IO32) {
		if (!passthrough_io_ok(b->addr, b->size, &why))
			goto refused;
		rc = vendor->io_allow(d, (u16)b->addr, (u32)b->size, true);
	} else {
		if (!passthrough_mmio_ok(b->addr, b->size, &why))
			goto refused;
		rc = map_mmio(d, b->addr, b->size);
	}
	if (rc)
		pr_err("pci %02x:%02x.%u BAR%u: cannot give it to dom0: %d\n", PCI_BUS(f->bdf),
		       PCI_DEV(f->bdf), PCI_FN(f->bdf), i, rc);
	return rc;
refused:
	pr_warn("pci %02x:%02x.%u BAR%u %s 0x%lx+0x%lx overlaps %s: not given to dom0\n",
		PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), i, bar_kind_name(b), b->addr,
		b->size, why);
	return -EPERM;
}

/* Re-establishes every BAR mapping: after a move, the old pages may have
 * been shared with another (sub-page) BAR, which must stay mapped. */
static void remap_all_bars(struct domain *d)
{
	for (unsigned n = 0; n < pci_nr_funcs; n++) {
		const struct pci_func *f = &pci_funcs[n];
		for (unsigned i = 0; i < f->nr_bars; i++) {
			const struct pci_bar *b = &f->bar[i];
			const char *why;
			if (b->kind == PCI_BAR_IO32 && b->size && b->addr &&
			    passthrough_io_ok(b->addr, b->size, &why))
				vendor->io_allow(d, (u16)b->addr, (u32)b->size, true);
			else if ((b->kind == PCI_BAR_MEM32 || b->kind == PCI_BAR_MEM64) && b->size &&
				 b->addr && passthrough_mmio_ok(b->addr, b->size, &why))
				map_mmio(d, b->addr, b->size);
		}
	}
}

/* Another assigned BAR (of any function, this one's other BARs included)
 * of the same space that [addr, addr+size) overlaps, or NULL. */
static const struct pci_func *bar_overlap(const struct pci_func *f, unsigned i, u64 addr,
					  u64 size, unsigned *which)
{
	bool io = f->bar[i].kind == PCI_BAR_IO32;

	for (unsigned n = 0; n < pci_nr_funcs; n++) {
		const struct pci_func *g = &pci_funcs[n];
		for (unsigned j = 0; j < g->nr_bars; j++) {
			const struct pci_bar *o = &g->bar[j];
			if ((g == f && j == i) || !o->size || !o->addr ||
			    (o->kind == PCI_BAR_IO32) != io)
				continue;
			if (overlaps(addr, size, o->addr, o->size)) {
				*which = j;
				return g;
			}
		}
	}
	return NULL;
}

int passthrough_bar_move(struct domain *d, struct pci_func *f, unsigned i, u64 addr)
{
	struct pci_bar *b = &f->bar[i];
	unsigned reg = PCI_BAR0 + 4 * i, j;
	const struct pci_func *g;
	const char *why = NULL;
	bool table = msix_bar_holds_table(f, i);
	/* Address 0 of a memory BAR is "unassigned", as firmware leaves a
	 * BAR it had no room for: no range to check, nothing mapped. x86
	 * chipsets decode low RAM before PCI, so the device answers nothing
	 * there. (An I/O BAR at port 0 would decode over legacy ports: it is
	 * judged like any address.) */
	bool release = addr == 0 && b->kind != PCI_BAR_IO32;
	bool ok = release || (b->kind == PCI_BAR_IO32 ? passthrough_io_ok(addr, b->size, &why)
						      : passthrough_mmio_ok(addr, b->size, &why));

	if (!ok || (addr & (b->size - 1))) {
		pr_warn("pci %02x:%02x.%u BAR%u: dom0 moved it from 0x%lx to 0x%lx (size 0x%lx), "
			"over %s: refused\n",
			PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), i, b->addr, addr, b->size,
			ok ? "a misaligned address" : why);
		return -EPERM;
	}
	if (!release && (g = bar_overlap(f, i, addr, b->size, &j))) {
		pr_warn("pci %02x:%02x.%u BAR%u: dom0 moved it from 0x%lx to 0x%lx (size 0x%lx), "
			"over pci %02x:%02x.%u BAR%u: refused\n",
			PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), i, b->addr, addr, b->size,
			PCI_BUS(g->bdf), PCI_DEV(g->bdf), PCI_FN(g->bdf), j);
		return -EPERM;
	}
	if (table && f->msix_nr_mapped) {
		/* A mapped entry must always live in a trapped table. */
		pr_warn("pci %02x:%02x.%u BAR%u: dom0 moved it from 0x%lx to 0x%lx, but it holds "
			"the MSI-X table and %u entries are mapped (unmap_pirq first): refused\n",
			PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), i, b->addr, addr,
			f->msix_nr_mapped);
		return -EPERM;
	}
	/* Mappings dom0 holds there (foreign, grant) are never replaced
	 * (asm/p2m.h): refused before the device is touched. */
	if (!release && b->kind != PCI_BAR_IO32 &&
	    p2m_check_replace(d, ALIGN_DOWN(addr, PAGE_SIZE),
			      ALIGN_UP(addr + b->size, PAGE_SIZE) - ALIGN_DOWN(addr, PAGE_SIZE),
			      "a BAR move"))
		return -EBUSY;
	if (table)
		msix_unprotect(d, f);
	/* Reprogram with decoding off, so the device never answers at a
	 * half-written address (the low dword of a 64-bit BAR first). */
	u16 cmd = pci_conf_read(f->bdf, PCI_COMMAND, 2);
	pci_conf_write(f->bdf, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	u32 flags = f->vbar[i] & (b->kind == PCI_BAR_IO32 ? PCI_BAR_IO_FLAGS : PCI_BAR_MEM_FLAGS);
	pci_conf_write(f->bdf, reg, 4, (u32)addr | flags);
	if (b->kind == PCI_BAR_MEM64)
		pci_conf_write(f->bdf, reg + 4, 4, (u32)(addr >> 32));
	pci_conf_write(f->bdf, PCI_COMMAND, 2, cmd);

	if (b->addr) {
		if (b->kind == PCI_BAR_IO32)
			vendor->io_allow(d, (u16)b->addr, (u32)b->size, false);
		else
			p2m_unmap(d, ALIGN_DOWN(b->addr, PAGE_SIZE),
				  ALIGN_UP(b->addr + b->size, PAGE_SIZE) - ALIGN_DOWN(b->addr, PAGE_SIZE));
	}
	if (release)
		pr_info("pci %02x:%02x.%u BAR%u: dom0 unassigned it (was 0x%lx)\n", PCI_BUS(f->bdf),
			PCI_DEV(f->bdf), PCI_FN(f->bdf), i, b->addr);
	else
		pr_info("pci %02x:%02x.%u BAR%u: dom0 moved it from 0x%lx to 0x%lx\n",
			PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), i, b->addr, addr);
	b->addr = addr;
	remap_all_bars(d);
	/* The table is trapped at its new place (a first assignment included)
	 * before any guest runs again; every table's pages leave the p2m
	 * that remap_all_bars just rebuilt. */
	if (table)
		msix_protect(d, f);
	msix_reprotect(d);
	vendor->p2m_flush(d);
	return 0;
}

/* ACPI tables outside RAM: readable by dom0 (it finds the MCFG there). */
static void map_acpi_table(paddr_t pa, u64 len, void *arg)
{
	struct domain *d = arg;
	u64 b = ALIGN_DOWN(pa, PAGE_SIZE), e = ALIGN_UP(pa + len, PAGE_SIZE);

	for (u64 p = b; p < e; p += PAGE_SIZE) {
		bool ram = false;
		for (unsigned i = 0; i < fw_nmap; i++)
			if (fw_map[i].type == BOOT_MEM_USABLE &&
			    overlaps(p, PAGE_SIZE, fw_map[i].base, fw_map[i].len))
				ram = true;
		/* A table in usable RAM is either dom0's own memory (mapped
		 * already) or somebody else's: never map it from here. */
		if (!ram)
			p2m_map(d, p, p, PAGE_SIZE, PT_R, MT_WB);
	}
}

static void map_acpi(struct domain *d)
{
	for (unsigned i = 0; i < fw_nmap; i++) {
		const struct boot_mem_range *m = &fw_map[i];
		u64 b = ALIGN_DOWN(m->base, PAGE_SIZE), e = ALIGN_UP(m->base + m->len, PAGE_SIZE);
		/* ACPI reclaimable memory holds the tables: read-only. NVS is
		 * firmware scratch that AML writes: dom0 runs the AML. */
		if (m->type == BOOT_MEM_ACPI)
			p2m_map(d, b, b, e - b, PT_R, MT_WB);
		else if (m->type == BOOT_MEM_NVS)
			p2m_map(d, b, b, e - b, PT_R | PT_W, MT_WB);
	}
	acpi_for_each_table(map_acpi_table, d);
}

/*
 * Legacy platform devices dom0 gets on purpose (docs/dom0-devices.md).
 * Each is ports only; their interrupts come with the pirq work.
 */
struct legacy_dev {
	const char *name;
	u16 first, count;
};

static const struct legacy_dev legacy_devs[] = {
	/* The CMOS RTC (index 0x70, data 0x71): dom0 owns the wall clock.
	 * The hypervisor reads it only before dom0 starts, so the index
	 * register is never shared mid-access. */
	{ "rtc-cmos", 0x70, 2 },
	/* COM2, a second UART for dom0 (skipped when Keel's console is
	 * there: kept_io refuses it). */
	{ "uart-com2", 0x2f8, 8 },
};

static void give_legacy(struct domain *d)
{
	for (unsigned i = 0; i < ARRAY_SIZE(legacy_devs); i++) {
		const struct legacy_dev *l = &legacy_devs[i];
		const char *why;
		if (!passthrough_io_ok(l->first, l->count, &why)) {
			pr_info("legacy %s ports 0x%x-0x%x: kept (%s)\n", l->name, l->first,
				l->first + l->count - 1, why);
			continue;
		}
		if (vendor->io_allow(d, l->first, l->count, true) == 0)
			pr_info("legacy %s ports 0x%x-0x%x: given to dom0\n", l->name, l->first,
				l->first + l->count - 1);
	}
}

static void fill_kept(const struct keel_options *opts)
{
	paddr_t ecam;
	u8 sb, eb;

	/* The LAPIC page and the whole MSI address window (Intel SDM vol. 3
	 * 11.11.1: 0xFEExxxxx writes are interrupt messages, not memory). */
	keep(kept_mmio, &nr_kept_mmio, KEPT_MMIO_MAX, 0xfee00000, 0x100000, "the LAPIC/MSI window");
	if (acpi.lapic_addr && (acpi.lapic_addr & ~0xfffffULL) != 0xfee00000)
		keep(kept_mmio, &nr_kept_mmio, KEPT_MMIO_MAX, acpi.lapic_addr, PAGE_SIZE, "the LAPIC");
	for (unsigned i = 0; i < acpi.nr_ioapic; i++)
		keep(kept_mmio, &nr_kept_mmio, KEPT_MMIO_MAX, acpi.ioapic[i].addr, PAGE_SIZE,
		     "an IOAPIC");
	if (!acpi.nr_ioapic)
		keep(kept_mmio, &nr_kept_mmio, KEPT_MMIO_MAX, 0xfec00000, PAGE_SIZE, "the IOAPIC");
	keep(kept_mmio, &nr_kept_mmio, KEPT_MMIO_MAX, acpi.hpet_addr ? acpi.hpet_addr : 0xfed00000,
	     PAGE_SIZE, "the HPET");
	if (pci_ecam_window(&ecam, &sb, &eb))
		keep(kept_mmio, &nr_kept_mmio, KEPT_MMIO_MAX, ecam + ((u64)sb << 20),
		     (u64)(eb - sb + 1) << 20, "the ECAM window");

	if (opts->console_port)
		keep(kept_io, &nr_kept_io, KEPT_IO_MAX, opts->console_port, 8, "Keel's console UART");
	if (opts->debugexit_port)
		keep(kept_io, &nr_kept_io, KEPT_IO_MAX, opts->debugexit_port, 4, "the debug-exit port");
	keep(kept_io, &nr_kept_io, KEPT_IO_MAX, 0x20, 2, "the master PIC");
	keep(kept_io, &nr_kept_io, KEPT_IO_MAX, 0xa0, 2, "the slave PIC");
	keep(kept_io, &nr_kept_io, KEPT_IO_MAX, 0x4d0, 2, "the ELCR");
	keep(kept_io, &nr_kept_io, KEPT_IO_MAX, 0x40, 4, "the PIT");
	keep(kept_io, &nr_kept_io, KEPT_IO_MAX, 0x61, 1, "the PIT gate / NMI status");
	/* CF8-CFF: emulated config space; CF9 is the chipset reset register. */
	keep(kept_io, &nr_kept_io, KEPT_IO_MAX, 0xcf8, 8, "PCI config ports (emulated)");
	keep(kept_io, &nr_kept_io, KEPT_IO_MAX, 0xe9, 1, "the debug console (emulated)");
	keep(kept_io, &nr_kept_io, KEPT_IO_MAX, 0x5e0, 4, "the test port (emulated)");
}

int dom0_devices_init(struct domain *d0, paddr_t rsdp, const struct boot_mem_range *map,
		      unsigned nmap, const struct keel_options *opts)
{
	fw_nmap = MIN(nmap, BOOT_MMAP_MAX);
	memcpy(fw_map, map, fw_nmap * sizeof(fw_map[0]));

	acpi_init(rsdp);
	pirq_init(opts->console_port);
	pci_scan();
	fill_kept(opts);
	map_acpi(d0);

	for (unsigned n = 0; n < pci_nr_funcs; n++) {
		const struct pci_func *f = &pci_funcs[n];
		char bars[160];
		size_t len = 0;
		bars[0] = 0;
		for (unsigned i = 0; i < f->nr_bars; i++) {
			const struct pci_bar *b = &f->bar[i];
			if (!b->size || !b->addr)
				continue;
			if (give_bar(d0, f, i) == -ENOMEM)
				return -ENOMEM;
			if (len < sizeof(bars))
				len += snprintf(bars + len, sizeof(bars) - len, " BAR%u %s 0x%lx+0x%lx", i,
						bar_kind_name(b), b->addr, b->size);
		}
		pr_info("pci %02x:%02x.%u %04x:%04x class %06x%s%s\n", PCI_BUS(f->bdf),
			PCI_DEV(f->bdf), PCI_FN(f->bdf), f->vendor, f->device, f->class,
			f->irq_pin ? " INTx" : "", bars);
		msix_protect(d0, &pci_funcs[n]); /* failures: one line, MSI-X refused */
	}
	/* A later function's BAR may share a page with an earlier table. */
	msix_reprotect(d0);
	give_legacy(d0);
	pci_cfg_init(d0);
	vendor->p2m_flush(d0);
	pr_info("dom0: %u PCI functions passed through\n", pci_nr_funcs);
	return 0;
}
