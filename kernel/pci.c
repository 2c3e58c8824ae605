/*
 * PCI enumeration and configuration access for the hypervisor; contract
 * in include/keel/pci.h. The hypervisor itself drives no PCI device: it
 * enumerates to know what it hands to dom0 (kernel/passthrough.c) and to
 * filter dom0's configuration writes (kernel/pci_cfg.c).
 */
#include <keel/acpi.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/pci.h>
#include <keel/printk.h>
#include <asm/cpu.h>

struct pci_func pci_funcs[PCI_MAX_FUNCS];
unsigned pci_nr_funcs;

/* The segment-0 ECAM window, from the MCFG (0 = use CF8/CFC). */
static paddr_t ecam_base;
static u8 ecam_start, ecam_end;

bool pci_ecam_window(paddr_t *base, u8 *start_bus, u8 *end_bus)
{
	if (!ecam_base)
		return false;
	*base = ecam_base;
	*start_bus = ecam_start;
	*end_bus = ecam_end;
	return true;
}

static volatile void *ecam_addr(u16 bdf, unsigned reg)
{
	if (!ecam_base || PCI_BUS(bdf) < ecam_start || PCI_BUS(bdf) > ecam_end)
		return NULL;
	return phys_to_virt(ecam_base + ((u64)bdf << PCI_ECAM_FUNC_SHIFT) + reg);
}

u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size)
{
	volatile void *p;

	if ((size != 1 && size != 2 && size != 4) || (reg & (size - 1)) ||
	    reg >= PCI_CFG_SPACE_EXP_SIZE)
		return 0xffffffffu;
	p = ecam_addr(bdf, reg);
	if (p) {
		/* ECAM is uncached MMIO: one access of exactly `size` bytes. */
		switch (size) {
		case 1: return *(volatile u8 *)p;
		case 2: return *(volatile u16 *)p;
		default: return *(volatile u32 *)p;
		}
	}
	/* Configuration mechanism #1 reaches the first 256 bytes only. */
	if (reg >= PCI_CONF1_REGS)
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	outl(PCI_CONF1_ADDRESS_PORT, PCI_CONF1_ADDRESS(bdf, reg));
	switch (size) {
	case 1: return inb(PCI_CONF1_DATA_PORT + (reg & 3));
	case 2: return inw(PCI_CONF1_DATA_PORT + (reg & 2));
	default: return inl(PCI_CONF1_DATA_PORT);
	}
}

void pci_conf_write(u16 bdf, unsigned reg, unsigned size, u32 val)
{
	volatile void *p;

	if ((size != 1 && size != 2 && size != 4) || (reg & (size - 1)) ||
	    reg >= PCI_CFG_SPACE_EXP_SIZE)
		return;
	p = ecam_addr(bdf, reg);
	if (p) {
		switch (size) {
		case 1: *(volatile u8 *)p = (u8)val; break;
		case 2: *(volatile u16 *)p = (u16)val; break;
		default: *(volatile u32 *)p = val; break;
		}
		return;
	}
	if (reg >= PCI_CONF1_REGS)
		return;
	outl(PCI_CONF1_ADDRESS_PORT, PCI_CONF1_ADDRESS(bdf, reg));
	switch (size) {
	case 1: outb(PCI_CONF1_DATA_PORT + (reg & 3), (u8)val); break;
	case 2: outw(PCI_CONF1_DATA_PORT + (reg & 2), (u16)val); break;
	default: outl(PCI_CONF1_DATA_PORT, val); break;
	}
}

/* The shared core's view of one function's config space (hw/pci_core.c):
 * the hypervisor's own accessors, unfiltered. */
static u32 core_read(void *ctx, unsigned reg, unsigned size)
{
	return pci_conf_read((u16)(uintptr_t)ctx, reg, size);
}

static void core_write(void *ctx, unsigned reg, unsigned size, u32 val)
{
	pci_conf_write((u16)(uintptr_t)ctx, reg, size, val);
}

static struct pci_cfg_io core_io(u16 bdf)
{
	return (struct pci_cfg_io){ .read = core_read, .write = core_write,
				    .ctx = (void *)(uintptr_t)bdf };
}

u8 pci_find_cap(u16 bdf, u8 id)
{
	struct pci_cfg_io io = core_io(bdf);
	return pci_core_find_cap(&io, id, 0);
}

struct pci_func *pci_func_find(u16 bdf)
{
	for (unsigned i = 0; i < pci_nr_funcs; i++)
		if (pci_funcs[i].bdf == bdf)
			return &pci_funcs[i];
	return NULL;
}

static void add_func(u16 bdf)
{
	struct pci_func *f;
	u32 id = pci_conf_read(bdf, PCI_VENDOR_ID, 4);

	if (pci_nr_funcs == PCI_MAX_FUNCS) {
		pr_warn("pci %02x:%02x.%u: more than %d functions, ignored\n", PCI_BUS(bdf),
			PCI_DEV(bdf), PCI_FN(bdf), PCI_MAX_FUNCS);
		return;
	}
	f = &pci_funcs[pci_nr_funcs++];
	memset(f, 0, sizeof(*f));
	f->bdf = bdf;
	f->vendor = id & 0xffff;
	f->device = id >> 16;
	f->class = pci_conf_read(bdf, PCI_CLASS_REVISION, 4) >> 8;
	f->header = pci_conf_read(bdf, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MASK;
	f->nr_bars = f->header == PCI_HEADER_TYPE_NORMAL   ? PCI_NR_BARS_NORMAL
		     : f->header == PCI_HEADER_TYPE_BRIDGE ? PCI_NR_BARS_BRIDGE
							   : 0;
	f->irq_pin = pci_conf_read(bdf, PCI_INTERRUPT_PIN, 1);
	f->irq_line = pci_conf_read(bdf, PCI_INTERRUPT_LINE, 1);
	f->msi_cap = pci_find_cap(bdf, PCI_CAP_ID_MSI);
	f->msix_cap = pci_find_cap(bdf, PCI_CAP_ID_MSIX);
	f->exp_cap = pci_find_cap(bdf, PCI_CAP_ID_EXP);
	f->pm_cap = pci_find_cap(bdf, PCI_CAP_ID_PM);
	f->af_cap = pci_find_cap(bdf, PCI_CAP_ID_AF);
	if (f->header == PCI_HEADER_TYPE_BRIDGE) {
		f->bus_primary = pci_conf_read(bdf, PCI_PRIMARY_BUS, 1);
		f->bus_secondary = pci_conf_read(bdf, PCI_SECONDARY_BUS, 1);
		f->bus_subordinate = pci_conf_read(bdf, PCI_SUBORDINATE_BUS, 1);
	}

	/* Sized with decoding off (the core restores it); dom0's emulated
	 * BAR registers (kernel/pci_cfg.c) start as the values found. */
	struct pci_cfg_io io = core_io(bdf);
	pci_core_size_bars(&io, f->nr_bars, f->bar, f->vbar);
}

unsigned pci_scan(void)
{
	unsigned first = 0, last = 255;

	const struct acpi_ecam *e = acpi_ecam_of_segment(&acpi, 0);
	if (e) {
		ecam_base = e->base;
		ecam_start = e->start_bus;
		ecam_end = e->end_bus;
		first = e->start_bus;
		last = e->end_bus;
	}
	pr_info("pci: config space through %s, buses %02x-%02x\n",
		ecam_base ? "ECAM" : "ports cf8/cfc", first, last);

	/* Every bus number the window allows: cheap (one read per absent
	 * device), and it needs no trust in the bridges' bus numbers. */
	for (unsigned bus = first; bus <= last; bus++) {
		for (unsigned dev = 0; dev < 32; dev++) {
			u16 bdf = PCI_BDF(bus, dev, 0);
			if ((pci_conf_read(bdf, PCI_VENDOR_ID, 2) & 0xffff) == 0xffff)
				continue;
			unsigned nfn =
				(pci_conf_read(bdf, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MULTIFUNC) ? 8 : 1;
			for (unsigned fn = 0; fn < nfn; fn++) {
				bdf = PCI_BDF(bus, dev, fn);
				if ((pci_conf_read(bdf, PCI_VENDOR_ID, 2) & 0xffff) != 0xffff)
					add_func(bdf);
			}
		}
	}
	return pci_nr_funcs;
}
