/*
 * PCI enumeration and configuration access for dom0; contract in pci.h.
 * Register layout: PCI Local Bus 3.0, 6.1-6.2 (header); ECAM: PCI Express
 * Base 4.0, 7.2.2. BAR sizing, the capability walk and the ACPI tables
 * (MCFG, MADT) are the shared core's (include/hw/), as in the hypervisor.
 */
#include "pci.h"

struct pci_dev pci_devs[PCI_MAX_DEVS];
unsigned pci_ndevs;

static u64 ecam_base; /* bus 0's address; 0 = CF8/CFC */
static u8 ecam_start, ecam_end;
static struct acpi_info acpi; /* what the shared core read (hw/acpi_tables.c) */
static char access_method[48];

/* ---- ACPI: the ECAM window and the interrupt overrides ------------------- */

/* dom0 is 1:1: the tables the hypervisor mapped for it (every table the
 * RSDP reaches, read-only) are at their physical addresses, below 4 GiB
 * in dom0's identity map. */
static const u8 *map_identity(void *ctx, u64 pa, size_t *avail)
{
	(void)ctx;
	if (!pa || pa >= (4ULL << 30)) {
		*avail = 0;
		return NULL;
	}
	*avail = MIN(ACPI_TABLE_MAX, (4ULL << 30) - pa);
	return (const u8 *)(uintptr_t)pa;
}

static void log_note(void *ctx, const struct acpi_note *n)
{
	(void)ctx;
	if (n->off)
		drv_log("pci: ACPI %s at 0x%lx, entry at offset 0x%x (length %u): %s\n", n->sig,
			n->pa, n->off, n->len, n->why);
	else
		drv_log("pci: ACPI table '%s' at 0x%lx (length %u): %s, skipped\n", n->sig, n->pa,
			n->len, n->why);
}

static void read_acpi(u64 rsdp_pa)
{
	static const struct acpi_source src = { .map = map_identity, .note = log_note };
	const struct acpi_ecam *e;

	ecam_base = 0;
	if (!rsdp_pa || acpi_read_tables(&src, rsdp_pa, &acpi))
		return;
	e = acpi_ecam_of_segment(&acpi, 0);
	if (e) {
		ecam_base = e->base;
		ecam_start = e->start_bus;
		ecam_end = e->end_bus;
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
	const struct acpi_iso *iso;

	/* Pin 1-4 = INTA-INTD; line 0xff = "unknown or not connected"
	 * (PCI Local Bus 3.0, 6.2.4). */
	if (!d->irq_pin || d->irq_pin > 4 || !d->irq_line || d->irq_line >= 0xff)
		return false;
	*gsi = d->irq_line;
	*level = true;
	*active_low = true;
	iso = acpi_iso_of_irq(&acpi, d->irq_line);
	if (iso) {
		u16 pol = iso->flags & ACPI_MPS_POLARITY_MASK;
		u16 trig = (iso->flags >> ACPI_MPS_TRIGGER_SHIFT) & ACPI_MPS_TRIGGER_MASK;
		*gsi = iso->gsi;
		if (pol) /* 0: conforms to the bus */
			*active_low = pol == ACPI_MPS_POLARITY_LOW;
		if (trig)
			*level = trig == ACPI_MPS_TRIGGER_LEVEL;
	}
	return true;
}

/* ---- configuration access ----------------------------------------------- */

static volatile u8 *ecam_ptr(u16 bdf, unsigned reg)
{
	if (!ecam_base || PCI_BUS(bdf) < ecam_start || PCI_BUS(bdf) > ecam_end)
		return NULL;
	return (volatile u8 *)(uintptr_t)(ecam_base + ((u64)bdf << PCI_ECAM_FUNC_SHIFT) + reg);
}

static u32 cfg_read(u16 bdf, unsigned reg, unsigned size)
{
	volatile u8 *p = ecam_ptr(bdf, reg);

	if (p)
		return size == 1 ? mmio_read8(p) : size == 2 ? mmio_read16(p) : mmio_read32(p);
	if (reg >= PCI_CONF1_REGS)
		return 0xffffffffu;
	port_out32(PCI_CONF1_ADDRESS_PORT, PCI_CONF1_ADDRESS(bdf, reg));
	return size == 1   ? port_in8(PCI_CONF1_DATA_PORT + (reg & 3))
	       : size == 2 ? port_in16(PCI_CONF1_DATA_PORT + (reg & 2))
			   : port_in32(PCI_CONF1_DATA_PORT);
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
	if (reg >= PCI_CONF1_REGS)
		return;
	port_out32(PCI_CONF1_ADDRESS_PORT, PCI_CONF1_ADDRESS(bdf, reg));
	if (size == 1)
		port_out8(PCI_CONF1_DATA_PORT + (reg & 3), (u8)val);
	else if (size == 2)
		port_out16(PCI_CONF1_DATA_PORT + (reg & 2), (u16)val);
	else
		port_out32(PCI_CONF1_DATA_PORT, val);
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

/* The shared core's view of a function (hw/pci_core.c). */
static u32 core_read(void *ctx, unsigned reg, unsigned size)
{
	return pci_cfg_read(ctx, reg, size);
}

static void core_write(void *ctx, unsigned reg, unsigned size, u32 val)
{
	pci_cfg_write(ctx, reg, size, val);
}

static struct pci_cfg_io core_io(const struct pci_dev *d)
{
	return (struct pci_cfg_io){ .read = core_read, .write = core_write, .ctx = (void *)d };
}

u8 pci_cap_find(const struct pci_dev *d, u8 id, u8 after)
{
	struct pci_cfg_io io = core_io(d);
	return pci_core_find_cap(&io, id, after);
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

/* Sizes the BARs through the shared core (decoding off meanwhile) and
 * keeps what drivers use of them. */
static void size_bars(struct pci_dev *d, unsigned nbars)
{
	struct pci_bar bars[PCI_NR_BARS_NORMAL];
	struct pci_cfg_io io = core_io(d);

	pci_core_size_bars(&io, nbars, bars, NULL);
	for (unsigned i = 0; i < nbars; i++) {
		const struct pci_bar *b = &bars[i];
		d->bar[i] = (struct pci_bar_info){
			.addr = b->addr,
			.size = b->size,
			.io = b->kind == PCI_BAR_IO32,
			.mem64 = b->kind == PCI_BAR_MEM64,
			.prefetch = b->prefetch,
		};
	}
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
	d->header = pci_cfg_read(d, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MASK;
	d->irq_pin = pci_cfg_read(d, PCI_INTERRUPT_PIN, 1);
	d->irq_line = pci_cfg_read(d, PCI_INTERRUPT_LINE, 1);
	if (d->header == PCI_HEADER_TYPE_NORMAL) {
		d->subsys_vendor = pci_cfg_read(d, PCI_SUBSYSTEM_VENDOR_ID, 2);
		d->subsys = pci_cfg_read(d, PCI_SUBSYSTEM_ID, 2);
	}

	unsigned nbars = d->header == PCI_HEADER_TYPE_NORMAL   ? PCI_NR_BARS_NORMAL
			 : d->header == PCI_HEADER_TYPE_BRIDGE ? PCI_NR_BARS_BRIDGE
								: 0;
	/* A host bridge's registers are the hypervisor's (its writes are
	 * dropped, docs/dom0-devices.md): nothing to size or toggle there. */
	if (d->class == 0x06 && d->subclass == 0x00)
		nbars = 0;
	size_bars(d, nbars);
	if (d->header == PCI_HEADER_TYPE_BRIDGE) {
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
		unsigned nfn = (cfg_read(bdf, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MULTIFUNC) ? 8 : 1;
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
	read_acpi(rsdp);
	if (ecam_base)
		snprintf(access_method, sizeof(access_method), "ECAM at 0x%lx, buses %02x-%02x",
			 ecam_base + ((u64)ecam_start << PCI_ECAM_BUS_SHIFT), ecam_start, ecam_end);
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
