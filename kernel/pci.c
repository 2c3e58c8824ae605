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
	return phys_to_virt(ecam_base + ((u64)bdf << 12) + reg);
}

/* Configuration mechanism #1: enable bit, bus, device, function and the
 * dword-aligned register in CF8; the data in CFC-CFF (PCI 3.0, 3.2.2.3.2). */
static u32 cf8_address(u16 bdf, unsigned reg)
{
	return 0x80000000u | ((u32)bdf << 8) | (reg & 0xfc);
}

u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size)
{
	volatile void *p;

	if ((size != 1 && size != 2 && size != 4) || (reg & (size - 1)) || reg > 0xfff)
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
	if (reg > 0xff)
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	outl(0xcf8, cf8_address(bdf, reg));
	switch (size) {
	case 1: return inb(0xcfc + (reg & 3));
	case 2: return inw(0xcfc + (reg & 2));
	default: return inl(0xcfc);
	}
}

void pci_conf_write(u16 bdf, unsigned reg, unsigned size, u32 val)
{
	volatile void *p;

	if ((size != 1 && size != 2 && size != 4) || (reg & (size - 1)) || reg > 0xfff)
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
	if (reg > 0xff)
		return;
	outl(0xcf8, cf8_address(bdf, reg));
	switch (size) {
	case 1: outb(0xcfc + (reg & 3), (u8)val); break;
	case 2: outw(0xcfc + (reg & 2), (u16)val); break;
	default: outl(0xcfc, val); break;
	}
}

u8 pci_find_cap(u16 bdf, u8 id)
{
	if (!(pci_conf_read(bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	u8 pos = pci_conf_read(bdf, PCI_CAPABILITY_LIST, 1) & 0xfc;
	/* At most 48 capabilities fit in 192 bytes: a loop is a broken list. */
	for (unsigned n = 0; pos >= 0x40 && n < 48; n++) {
		if (pci_conf_read(bdf, pos, 1) == id)
			return pos;
		pos = pci_conf_read(bdf, pos + 1, 1) & 0xfc;
	}
	return 0;
}

struct pci_func *pci_func_find(u16 bdf)
{
	for (unsigned i = 0; i < pci_nr_funcs; i++)
		if (pci_funcs[i].bdf == bdf)
			return &pci_funcs[i];
	return NULL;
}

/*
 * Sizes BAR i the usual way (PCI 3.0, 6.2.5.1): write all ones, read
 * back which address bits stuck, restore. The caller has turned decoding
 * off so that the device never answers at the all-ones address. Returns
 * the number of registers the BAR uses (2 for a 64-bit BAR).
 */
static unsigned size_bar(struct pci_func *f, unsigned i)
{
	unsigned reg = PCI_BAR0 + 4 * i;
	struct pci_bar *b = &f->bar[i];
	u32 lo = pci_conf_read(f->bdf, reg, 4), hi = 0, mlo, mhi = 0xffffffffu;
	u64 mask;

	pci_conf_write(f->bdf, reg, 4, 0xffffffffu);
	mlo = pci_conf_read(f->bdf, reg, 4);
	pci_conf_write(f->bdf, reg, 4, lo);
	if (lo & PCI_BAR_IO) {
		b->kind = PCI_BAR_IO32;
		/* x86 ports are 16-bit: bits above 15 need not stick. */
		mask = (mlo & 0xfffcu) ? 0xffffffffffff0000ULL | (mlo & 0xfffcu) : 0;
		b->addr = lo & 0xfffcu;
	} else if ((lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && i + 1 < f->nr_bars) {
		b->kind = PCI_BAR_MEM64;
		hi = pci_conf_read(f->bdf, reg + 4, 4);
		pci_conf_write(f->bdf, reg + 4, 4, 0xffffffffu);
		mhi = pci_conf_read(f->bdf, reg + 4, 4);
		pci_conf_write(f->bdf, reg + 4, 4, hi);
		mask = ((u64)mhi << 32) | (mlo & ~0xfu);
		b->addr = ((u64)hi << 32) | (lo & ~0xfu);
	} else {
		b->kind = PCI_BAR_MEM32;
		mask = (mlo & ~0xfu) ? 0xffffffff00000000ULL | (mlo & ~0xfu) : 0;
		b->addr = lo & ~0xfu;
	}
	b->prefetch = !(lo & PCI_BAR_IO) && (lo & PCI_BAR_MEM_PREFETCH);
	b->size = mask ? (~mask + 1) : 0;
	if (!b->size || (b->size & (b->size - 1))) {
		b->kind = b->kind == PCI_BAR_MEM64 ? PCI_BAR_MEM64 : PCI_BAR_NONE;
		b->size = 0;
		b->addr = 0;
	}
	f->vbar[i] = lo;
	if (b->kind == PCI_BAR_MEM64) {
		f->vbar[i + 1] = hi;
		f->bar[i + 1] = (struct pci_bar){ .kind = PCI_BAR_NONE };
		return 2;
	}
	return 1;
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
	f->header = pci_conf_read(bdf, PCI_HEADER_TYPE, 1) & 0x7f;
	f->nr_bars = f->header == 0 ? 6 : f->header == 1 ? 2 : 0;
	f->irq_pin = pci_conf_read(bdf, PCI_INTERRUPT_PIN, 1);
	f->irq_line = pci_conf_read(bdf, PCI_INTERRUPT_LINE, 1);
	f->msi_cap = pci_find_cap(bdf, PCI_CAP_ID_MSI);
	f->msix_cap = pci_find_cap(bdf, PCI_CAP_ID_MSIX);

	if (!f->nr_bars)
		return;
	u16 cmd = pci_conf_read(bdf, PCI_COMMAND, 2);
	pci_conf_write(bdf, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < f->nr_bars;)
		i += size_bar(f, i);
	pci_conf_write(bdf, PCI_COMMAND, 2, cmd);
}

unsigned pci_scan(void)
{
	unsigned first = 0, last = 255;

	for (unsigned i = 0; i < acpi.nr_ecam; i++) {
		const struct acpi_ecam *e = &acpi.ecam[i];
		if (e->segment != 0)
			continue;
		ecam_base = e->base;
		ecam_start = e->start_bus;
		ecam_end = e->end_bus;
		first = e->start_bus;
		last = e->end_bus;
		break;
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
			unsigned nfn = (pci_conf_read(bdf, PCI_HEADER_TYPE, 1) & 0x80) ? 8 : 1;
			for (unsigned fn = 0; fn < nfn; fn++) {
				bdf = PCI_BDF(bus, dev, fn);
				if ((pci_conf_read(bdf, PCI_VENDOR_ID, 2) & 0xffff) != 0xffff)
					add_func(bdf);
			}
		}
	}
	return pci_nr_funcs;
}
