/*
 * PCI enumeration and configuration access for dom0; contract in pci.h.
 * Register layout: PCI Local Bus 3.0, 6.1-6.2 (header), 6.7 (capability
 * list); ECAM: PCI Express Base 4.0, 7.2.2; MCFG: PCI Firmware 3.2, 4.1.2.
 */
#include "pci.h"

struct pci_dev pci_devs[PCI_MAX_DEVS];
unsigned pci_ndevs;

static u64 ecam_base; /* bus 0's address; 0 = CF8/CFC */
static const u8 *acpi_root; /* the XSDT or RSDT, for the MADT */
static unsigned acpi_esize;
static u8 ecam_start, ecam_end;
static char access_method[48];

/* ---- finding the ECAM window ------------------------------------------ */

static bool acpi_sum_ok(const void *p, u32 len)
{
	const u8 *b = p;
	u8 sum = 0;
	while (len--)
		sum += *b++;
	return sum == 0;
}

/* The table at pa with signature sig, checksummed, or NULL. */
static const u8 *acpi_table(u64 pa, const char *sig)
{
	const u8 *t = (const u8 *)(uintptr_t)pa;
	u32 len;

	if (!pa || pa >= (4ULL << 30))
		return NULL;
	memcpy(&len, t + 4, 4);
	if (memcmp(t, sig, 4) || len < 36 || len > 65536 || !acpi_sum_ok(t, len))
		return NULL;
	return t;
}

static void find_mcfg(u64 rsdp_pa)
{
	const u8 *rsdp = (const u8 *)(uintptr_t)rsdp_pa;
	const u8 *root;
	u64 root_pa = 0;
	unsigned esize = 8;
	u32 len;

	if (!rsdp_pa || memcmp(rsdp, "RSD PTR ", 8) || !acpi_sum_ok(rsdp, 20))
		return;
	if (rsdp[15] >= 2)
		memcpy(&root_pa, rsdp + 24, 8);
	root = acpi_table(root_pa, "XSDT");
	if (!root) {
		u32 r32;
		memcpy(&r32, rsdp + 16, 4);
		root = acpi_table(r32, "RSDT");
		esize = 4;
	}
	if (!root)
		return;
	acpi_root = root;
	acpi_esize = esize;
	memcpy(&len, root + 4, 4);
	for (u32 off = 36; off + esize <= len; off += esize) {
		u64 pa = 0;
		memcpy(&pa, root + off, esize);
		const u8 *mcfg = acpi_table(pa, "MCFG");
		if (!mcfg)
			continue;
		u32 mlen;
		memcpy(&mlen, mcfg + 4, 4);
		for (u32 e = 44; e + 16 <= mlen; e += 16) {
			u16 seg;
			memcpy(&seg, mcfg + e + 8, 2);
			if (seg != 0)
				continue;
			memcpy(&ecam_base, mcfg + e, 8);
			ecam_start = mcfg[e + 10];
			ecam_end = mcfg[e + 11];
			return;
		}
	}
}

/*
 * INTx routing without AML: the firmware's interrupt-line value (its
 * PIC-mode routing of the device's pin) as an ISA IRQ, mapped to a GSI
 * through the MADT's interrupt source overrides (ACPI 6.4, 5.2.12.5), which
 * also give trigger and polarity. Without an override the GSI is the IRQ
 * and the line is a PCI one: level, active low.
 */
bool pci_intx_route(const struct pci_dev *d, u32 *gsi, bool *level, bool *active_low)
{
	u32 len;

	if (!d->irq_pin || d->irq_pin > 4 || !d->irq_line || d->irq_line >= 0xff)
		return false;
	*gsi = d->irq_line;
	*level = true;
	*active_low = true;
	if (!acpi_root)
		return true;
	memcpy(&len, acpi_root + 4, 4);
	for (u32 off = 36; off + acpi_esize <= len; off += acpi_esize) {
		u64 pa = 0;
		memcpy(&pa, acpi_root + off, acpi_esize);
		const u8 *madt = acpi_table(pa, "APIC");
		if (!madt)
			continue;
		u32 mlen;
		memcpy(&mlen, madt + 4, 4);
		/* Entries after the 36-byte header, LAPIC address and flags. */
		for (u32 e = 44; e + 2 <= mlen && madt[e + 1] >= 2 && e + madt[e + 1] <= mlen;
		     e += madt[e + 1]) {
			if (madt[e] != 2 || madt[e + 1] < 10 || madt[e + 3] != d->irq_line)
				continue;
			u16 flags;
			memcpy(gsi, madt + e + 4, 4);
			memcpy(&flags, madt + e + 8, 2);
			if (flags & 3)
				*active_low = (flags & 3) == 3;
			if ((flags >> 2) & 3)
				*level = ((flags >> 2) & 3) == 3;
		}
		break;
	}
	return true;
}

/* ---- configuration access ----------------------------------------------- */

static volatile u8 *ecam_ptr(u16 bdf, unsigned reg)
{
	if (!ecam_base || PCI_BUS(bdf) < ecam_start || PCI_BUS(bdf) > ecam_end)
		return NULL;
	return (volatile u8 *)(uintptr_t)(ecam_base + ((u64)bdf << 12) + reg);
}

static u32 cfg_read(u16 bdf, unsigned reg, unsigned size)
{
	volatile u8 *p = ecam_ptr(bdf, reg);

	if (p)
		return size == 1 ? mmio_read8(p) : size == 2 ? mmio_read16(p) : mmio_read32(p);
	if (reg > 0xff)
		return 0xffffffffu;
	port_out32(0xcf8, 0x80000000u | (u32)bdf << 8 | (reg & 0xfc));
	return size == 1 ? port_in8(0xcfc + (reg & 3))
	       : size == 2 ? port_in16(0xcfc + (reg & 2)) : port_in32(0xcfc);
}

static void cfg_write(u16 bdf, unsigned reg, unsigned size, u32 val)
{
	volatile u8 *p = ecam_ptr(bdf, reg);

	if (p) {
		if (size == 1)
			mmio_write8(p, (u8)val);
		else if (size == 2)
			mmio_write16(p, (u16)val);
		else
			mmio_write32(p, val);
		return;
	}
	if (reg > 0xff)
		return;
	port_out32(0xcf8, 0x80000000u | (u32)bdf << 8 | (reg & 0xfc));
	if (size == 1)
		port_out8(0xcfc + (reg & 3), (u8)val);
	else if (size == 2)
		port_out16(0xcfc + (reg & 2), (u16)val);
	else
		port_out32(0xcfc, val);
}

u32 pci_cfg_read(const struct pci_dev *d, unsigned reg, unsigned size)
{
	return cfg_read(d->bdf, reg, size);
}

void pci_cfg_write(const struct pci_dev *d, unsigned reg, unsigned size, u32 val)
{
	cfg_write(d->bdf, reg, size, val);
}

const char *pci_access_method(void)
{
	return access_method;
}

u8 pci_cap_find(const struct pci_dev *d, u8 id, u8 after)
{
	u8 pos;

	if (!(pci_cfg_read(d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = after ? pci_cfg_read(d, after + 1, 1) : pci_cfg_read(d, PCI_CAPABILITY_LIST, 1);
	for (unsigned n = 0; (pos & 0xfc) >= 0x40 && n < 48; n++) {
		pos &= 0xfc;
		if (pci_cfg_read(d, pos, 1) == id)
			return pos;
		pos = pci_cfg_read(d, pos + 1, 1);
	}
	return 0;
}

void pci_enable(const struct pci_dev *d, bool mem, bool io, bool master)
{
	u16 cmd = pci_cfg_read(d, PCI_COMMAND, 2);
	if (mem)
		cmd |= PCI_COMMAND_MEMORY;
	if (io)
		cmd |= PCI_COMMAND_IO;
	if (master)
		cmd |= PCI_COMMAND_MASTER;
	pci_cfg_write(d, PCI_COMMAND, 2, cmd);
}

volatile void *pci_bar_map(const struct pci_dev *d, unsigned i)
{
	const struct pci_bar_info *b = &d->bar[i];
	if (i >= 6 || !b->size || b->io || !b->addr)
		return NULL;
	return drv_map_mmio(b->addr, b->size);
}

/* ---- enumeration ----------------------------------------------------- */

/* Sizes BAR i (decoding is off): write all ones, read the mask, restore.
 * Returns how many registers it spans. */
static unsigned size_bar(struct pci_dev *d, unsigned i)
{
	unsigned reg = PCI_BAR0 + 4 * i;
	struct pci_bar_info *b = &d->bar[i];
	u32 lo = pci_cfg_read(d, reg, 4), mlo, hi = 0, mhi = 0;
	u64 mask;

	pci_cfg_write(d, reg, 4, 0xffffffffu);
	mlo = pci_cfg_read(d, reg, 4);
	pci_cfg_write(d, reg, 4, lo);
	if (lo & 1) {
		b->io = true;
		mask = (mlo & 0xfffc) ? (0xffffffffffff0000ULL | (mlo & 0xfffc)) : 0;
		b->addr = lo & 0xfffc;
	} else if ((lo & 6) == 4 && i < 5) {
		b->mem64 = true;
		hi = pci_cfg_read(d, reg + 4, 4);
		pci_cfg_write(d, reg + 4, 4, 0xffffffffu);
		mhi = pci_cfg_read(d, reg + 4, 4);
		pci_cfg_write(d, reg + 4, 4, hi);
		mask = ((u64)mhi << 32) | (mlo & ~0xfu);
		b->addr = ((u64)hi << 32) | (lo & ~0xfu);
	} else {
		mask = (mlo & ~0xfu) ? (0xffffffff00000000ULL | (mlo & ~0xfu)) : 0;
		b->addr = lo & ~0xfu;
	}
	b->prefetch = !b->io && (lo & 8);
	b->size = mask ? ~mask + 1 : 0;
	return b->mem64 ? 2 : 1;
}

static void scan_bus(unsigned bus, unsigned depth);

static void add_function(u16 bdf, unsigned depth)
{
	struct pci_dev *d;
	u32 id = cfg_read(bdf, PCI_VENDOR_ID, 4), cr;

	if (pci_ndevs == PCI_MAX_DEVS) {
		drv_log("pci: more than %d functions; %02x:%02x.%u and later ignored\n",
			PCI_MAX_DEVS, PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf));
		return;
	}
	d = &pci_devs[pci_ndevs++];
	memset(d, 0, sizeof(*d));
	d->bdf = bdf;
	d->vendor = id & 0xffff;
	d->device = id >> 16;
	cr = pci_cfg_read(d, PCI_CLASS_REVISION, 4);
	d->class = cr >> 24;
	d->subclass = cr >> 16;
	d->progif = cr >> 8;
	d->rev = cr;
	d->header = pci_cfg_read(d, PCI_HEADER_TYPE, 1) & 0x7f;
	d->irq_pin = pci_cfg_read(d, PCI_INTERRUPT_PIN, 1);
	d->irq_line = pci_cfg_read(d, PCI_INTERRUPT_LINE, 1);
	if (d->header == 0) {
		d->subsys_vendor = pci_cfg_read(d, PCI_SUBSYSTEM_VENDOR_ID, 2);
		d->subsys = pci_cfg_read(d, PCI_SUBSYSTEM_ID, 2);
	}

	unsigned nbars = d->header == 0 ? 6 : d->header == 1 ? 2 : 0;
	/* A host bridge's registers are the hypervisor's (its writes are
	 * dropped, docs/dom0-devices.md): nothing to size or toggle there. */
	if (d->class == 0x06 && d->subclass == 0x00)
		nbars = 0;
	if (nbars) {
		u16 cmd = pci_cfg_read(d, PCI_COMMAND, 2);
		pci_cfg_write(d, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
		for (unsigned i = 0; i < nbars;)
			i += size_bar(d, i);
		pci_cfg_write(d, PCI_COMMAND, 2, cmd);
	}
	if (d->header == 1) {
		unsigned sec = pci_cfg_read(d, PCI_SECONDARY_BUS, 1);
		if (sec > PCI_BUS(bdf) && depth < 8)
			scan_bus(sec, depth + 1);
	}
}

static void scan_bus(unsigned bus, unsigned depth)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		u16 bdf = PCI_BDF(bus, dev, 0);
		if ((cfg_read(bdf, PCI_VENDOR_ID, 2) & 0xffff) == 0xffff)
			continue;
		unsigned nfn = (cfg_read(bdf, PCI_HEADER_TYPE, 1) & 0x80) ? 8 : 1;
		for (unsigned fn = 0; fn < nfn; fn++) {
			bdf = PCI_BDF(bus, dev, fn);
			if ((cfg_read(bdf, PCI_VENDOR_ID, 2) & 0xffff) != 0xffff)
				add_function(bdf, depth);
		}
	}
}

unsigned pci_init(u64 rsdp)
{
	pci_ndevs = 0;
	find_mcfg(rsdp);
	if (ecam_base)
		snprintf(access_method, sizeof(access_method), "ECAM at 0x%lx, buses %02x-%02x",
			 ecam_base + ((u64)ecam_start << 20), ecam_start, ecam_end);
	else
		snprintf(access_method, sizeof(access_method), "ports cf8/cfc");
	scan_bus(0, 0);
	return pci_ndevs;
}

const char *pci_class_name(u8 class, u8 subclass)
{
	static const struct {
		u8 class, subclass;
		const char *name;
	} names[] = {
		{ 0x01, 0x00, "storage/SCSI" }, { 0x01, 0x01, "storage/IDE" },
		{ 0x01, 0x06, "storage/SATA" }, { 0x01, 0x08, "storage/NVMe" },
		{ 0x01, 0x80, "storage/other" }, { 0x02, 0x00, "network/Ethernet" },
		{ 0x03, 0x00, "display/VGA" }, { 0x06, 0x00, "bridge/host" },
		{ 0x06, 0x01, "bridge/ISA" }, { 0x06, 0x04, "bridge/PCI" },
		{ 0x0c, 0x03, "serial/USB" }, { 0x0c, 0x05, "serial/SMBus" },
		{ 0x07, 0x00, "comm/serial" },
	};
	static const char *const classes[] = {
		"unclassified", "storage", "network", "display", "multimedia", "memory",
		"bridge", "comm", "system", "input", "docking", "processor", "serial-bus",
	};
	for (unsigned i = 0; i < ARRAY_SIZE(names); i++)
		if (names[i].class == class && names[i].subclass == subclass)
			return names[i].name;
	return class < ARRAY_SIZE(classes) ? classes[class] : "other";
}

unsigned pci_bind(const struct pci_driver *const *drivers, unsigned n)
{
	unsigned bound = 0;

	for (unsigned i = 0; i < pci_ndevs; i++) {
		struct pci_dev *d = &pci_devs[i];
		if (d->driver)
			continue;
		for (unsigned k = 0; k < n; k++) {
			if (!drivers[k]->match(d))
				continue;
			d->driver = drivers[k]->name;
			if (drivers[k]->probe(d) == 0) {
				bound++;
			} else {
				drv_log("pci %02x:%02x.%u: %s: %s\n", PCI_BUS(d->bdf), PCI_DEV(d->bdf),
					PCI_FN(d->bdf), drivers[k]->name,
					d->note[0] ? d->note : "probe failed");
				d->driver = NULL;
			}
			break;
		}
	}
	return bound;
}
