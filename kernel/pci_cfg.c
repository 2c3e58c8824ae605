/*
 * dom0's view of PCI configuration space, through ports CF8/CFC and the
 * ECAM window (both trapped: the window is left out of dom0's p2m and
 * served by an MMIO handler). Reads and writes pass through to the
 * device except:
 *
 *  - BARs (0x10-0x24; 0x10-0x14 for bridges) are emulated registers
 *    (pci_func.vbar) with the hardware's size mask, so the usual sizing
 *    dance (write all ones, read, restore) never touches the device. A
 *    write that names a new real address is a move: the hypervisor checks
 *    the range (passthrough_bar_move: not RAM, not Keel's), then
 *    reprograms the device and moves the p2m mapping or the port
 *    permissions; a refused move leaves the BAR where it was, with one
 *    log line. For a 64-bit BAR the move happens when the upper dword is
 *    written (or decoding is enabled), so that the half-written
 *    intermediate address of a low-then-high update is never judged.
 *  - Expansion ROM BARs read as 0 and ignore writes: dom0 gets no ROMs.
 *  - MSI: the hypervisor owns message address and data (dom0's writes to
 *    them are dropped) and the enable bit: PHYSDEVOP_map_pirq
 *    (MAP_PIRQ_TYPE_MSI, kernel/pirq.c) writes the message and sets the
 *    enable bit, unmap_pirq clears it; dom0's writes to the control word
 *    keep the hypervisor's enable bit and a multiple-message-enable of 0
 *    (one message). Enabling before map_pirq is logged once per function.
 *  - MSI-X: the enable bit is the hypervisor's, set while PHYSDEVOP_map_pirq
 *    has mapped an entry of a trapped table (enabling otherwise is logged
 *    once per function); the function mask is dom0's. The table itself is
 *    trapped (kernel/msix.c): the hypervisor owns each entry's address
 *    and data.
 *  - Registers the hypervisor relies on, by class (cfg_write_mask below):
 *    host bridges take no writes, ISA/LPC bridges none to their
 *    device-specific registers, bridge bus numbers stay as at boot, and
 *    header types other than 0 and 1 take only command and status.
 *  - Bridge windows (0x1c-0x33) are emulated; the device gets only
 *    windows that cover neither RAM nor what the hypervisor keeps
 *    (kernel/pci_bridge.c).
 *  - Resets dom0 starts (secondary bus reset, FLR, D3hot -> D0) pass, and
 *    the hypervisor writes back what it keeps in the device once it is
 *    ready (kernel/pci_reset.c: pci_reset_watch before a write passes,
 *    pci_reset_settle at every access).
 *
 * The same filter serves both paths: vpci_read/vpci_write below.
 */
#include <keel/domain.h>
#include <keel/io.h>
#include <lib/string.h>
#include <keel/mmio.h>
#include <keel/passthrough.h>
#include <keel/pci.h>
#include <keel/printk.h>
#include <keel/priv.h>

static u32 all_ones(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}

/* ---- BARs ------------------------------------------------------------- */

/* The BAR whose register (dword index i) this is, and whether it is the
 * upper half of a 64-bit BAR. NULL when the register is unimplemented. */
static struct pci_bar *bar_of_reg(struct pci_func *f, unsigned i, unsigned *bar, bool *upper)
{
	if (f->bar[i].size) {
		*bar = i;
		*upper = false;
		return &f->bar[i];
	}
	if (i > 0 && f->bar[i - 1].kind == PCI_BAR_MEM64 && f->bar[i - 1].size) {
		*bar = i - 1;
		*upper = true;
		return &f->bar[i - 1];
	}
	return NULL;
}

/* Writable address bits of the low / high register of BAR b. */
static u32 bar_mask_lo(const struct pci_bar *b)
{
	u32 m = (u32)~(b->size - 1);
	return b->kind == PCI_BAR_IO32 ? m & PCI_BAR_IO_ADDR_MASK : m & PCI_BAR_MEM_ADDR_MASK;
}

static u32 bar_mask_hi(const struct pci_bar *b)
{
	return (u32)(~(b->size - 1) >> 32);
}

/* The address dom0's registers name, and whether it is "parked" (every
 * writable bit of a register set: a sizing write, not an address). */
static u64 vbar_address(const struct pci_func *f, unsigned i, bool *parked)
{
	const struct pci_bar *b = &f->bar[i];
	u32 lo = f->vbar[i] & bar_mask_lo(b);
	u64 addr = lo;

	*parked = lo == bar_mask_lo(b);
	if (b->kind == PCI_BAR_MEM64) {
		u32 hi = f->vbar[i + 1] & bar_mask_hi(b);
		addr |= (u64)hi << 32;
		if (bar_mask_hi(b) && hi == bar_mask_hi(b))
			*parked = true;
	}
	return addr;
}

static void vbar_reset(struct pci_func *f, unsigned i)
{
	const struct pci_bar *b = &f->bar[i];
	u32 flags = f->vbar[i] & (b->kind == PCI_BAR_IO32 ? PCI_BAR_IO_FLAGS : PCI_BAR_MEM_FLAGS);

	f->vbar[i] = ((u32)b->addr & bar_mask_lo(b)) | flags;
	if (b->kind == PCI_BAR_MEM64)
		f->vbar[i + 1] = (u32)(b->addr >> 32);
}

/* Carries out what dom0's registers say for BAR i, if it is a move. */
static void bar_commit(struct domain *d, struct pci_func *f, unsigned i)
{
	bool parked;
	u64 addr = vbar_address(f, i, &parked);

	if (parked || addr == f->bar[i].addr)
		return;
	if (passthrough_bar_move(d, f, i, addr))
		vbar_reset(f, i);
}

static void bar_write(struct domain *d, struct pci_func *f, unsigned i, u32 val)
{
	unsigned bi;
	bool upper;
	struct pci_bar *b = bar_of_reg(f, i, &bi, &upper);

	if (!b)
		return; /* unimplemented register: reads stay 0 */
	if (upper) {
		f->vbar[i] = val & bar_mask_hi(b);
		bar_commit(d, f, bi);
		return;
	}
	u32 flags = f->vbar[i] & (b->kind == PCI_BAR_IO32 ? PCI_BAR_IO_FLAGS : PCI_BAR_MEM_FLAGS);
	f->vbar[i] = (val & bar_mask_lo(b)) | flags;
	if (b->kind != PCI_BAR_MEM64)
		bar_commit(d, f, bi);
}

static u32 bar_read(struct pci_func *f, unsigned i)
{
	unsigned bi;
	bool upper;
	return bar_of_reg(f, i, &bi, &upper) ? f->vbar[i] : 0;
}

/* ---- the filter --------------------------------------------------------- */

static bool in_bars(const struct pci_func *f, unsigned dw)
{
	return dw >= PCI_BAR0 && dw < PCI_BAR0 + 4u * f->nr_bars;
}

static bool is_rom(const struct pci_func *f, unsigned dw)
{
	return (f->header == 0 && dw == PCI_ROM_ADDRESS) || (f->header == 1 && dw == PCI_ROM_ADDRESS1);
}

/* Length of the MSI capability at cap (PCI 3.0, 6.8.1): 64-bit address
 * and per-vector masking add dwords. */
static unsigned msi_cap_len(u16 bdf, u8 cap)
{
	u16 ctl = pci_conf_read(bdf, cap + 2, 2);
	return 10 + ((ctl & PCI_MSI_FLAGS_64BIT) ? 4 : 0) + ((ctl & PCI_MSI_FLAGS_MASKBIT) ? 10 : 0);
}

static void log_msi_refused(struct pci_func *f, const char *what, const char *why)
{
	if (f->msi_refused_logged)
		return;
	f->msi_refused_logged = true;
	pr_info("pci %02x:%02x.%u: dom0 enabling %s refused: device interrupts are INTx (%s)\n",
		PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), what, why);
}

/* ---- registers the hypervisor relies on ------------------------------------ */

/*
 * Which bytes of a dom0 write dom0 may make at all, by register class
 * (docs/dom0-devices.md, "Registers the hypervisor keeps"); the BAR, ROM,
 * MSI and MSI-X emulation below then applies to what is left.
 *
 *  - A host bridge (class 06/00: Q35's MCH, an AMD northbridge function)
 *    holds the chipset's address decoding: PCIEXBAR (moves or turns off
 *    the ECAM window the hypervisor reads config space through), PAM and
 *    SMRAM (what answers at legacy and SMM addresses), DRAM limits.
 *    Nothing of it is dom0's: every write is dropped.
 *  - An ISA/LPC bridge (06/01) decodes legacy ports and ranges outside
 *    any BAR (ICH9: PMBASE 0x40, GPIOBASE 0x48, LPC_IOD/LPC_EN 0x80-0x83
 *    route COM1, Keel's console, to the LPC, generic decode 0x84-0x93,
 *    RCBA 0xf0), and so does the chipset glue filed as "other bridge"
 *    (06/80: i440FX's PIIX4 power management function, PMBA at 0x40, on
 *    Bochs). Their device-specific registers (0x40 and up) are dropped;
 *    the header follows the type-0 rules.
 *  - A PCI-to-PCI bridge's primary, secondary and subordinate bus numbers
 *    (0x18-0x1a) keep their boot values: renumbering would make the
 *    hypervisor's per-BDF state (BARs, MSI-X traps, pirqs) name another
 *    function. The other bytes of a wider write still land.
 *  - Any header type other than 0 and 1 (CardBus bridges, type 2, have a
 *    socket BAR and windows in other places): only command and status
 *    (0x04-0x07) are writable, since the hypervisor has no BAR model for
 *    it.
 */
enum cfg_refusal {
	CFG_REFUSED_HOST, CFG_REFUSED_LPC, CFG_REFUSED_BUSNR, CFG_REFUSED_HEADER,
	CFG_REFUSED_WINDOW, /* emulated bytes: kernel/pci_bridge.c logs, with the range */
};

static const char *const cfg_refusal_why[] = {
	[CFG_REFUSED_HOST] = "host bridge (the chipset's registers are the hypervisor's)",
	[CFG_REFUSED_LPC] = ("ISA/LPC bridge register (legacy decoding, Keel's UART included, "
			     "is the hypervisor's)"),
	[CFG_REFUSED_BUSNR] = "bridge bus numbers are fixed after boot",
	[CFG_REFUSED_HEADER] = "unknown header type (only command and status are writable)",
	[CFG_REFUSED_WINDOW] = "bridge window over a range the hypervisor keeps",
};

/* Bit i set: byte reg + i of the write may reach the device. *why: the
 * class refusing the first byte that may not. */
static u8 cfg_write_mask(const struct pci_func *f, unsigned reg, unsigned size,
			 enum cfg_refusal *why)
{
	u16 cls = (u16)(f->class >> 8);
	u8 m = 0;
	bool named = false;

	for (unsigned i = 0; i < size; i++) {
		unsigned r = reg + i;
		int refuse = -1;
		if (cls == 0x0600)
			refuse = CFG_REFUSED_HOST;
		else if (f->header > 1 && (r < PCI_COMMAND || r >= PCI_CLASS_REVISION))
			refuse = CFG_REFUSED_HEADER;
		else if (f->header == 1 && r >= PCI_PRIMARY_BUS && r <= PCI_SUBORDINATE_BUS)
			refuse = CFG_REFUSED_BUSNR;
		else if ((cls == 0x0601 || cls == 0x0680) && r >= 0x40)
			refuse = CFG_REFUSED_LPC;
		if (refuse < 0) {
			m |= (u8)(1u << i);
		} else if (!named) {
			*why = (enum cfg_refusal)refuse;
			named = true;
		}
	}
	return m;
}

static void log_cfg_refused(struct pci_func *f, enum cfg_refusal why, unsigned reg)
{
	if (f->cfg_refused_logged & (1u << why))
		return;
	f->cfg_refused_logged |= (u8)(1u << why);
	pr_warn("pci %02x:%02x.%u: dom0 writing config register 0x%x refused: %s\n",
		PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), reg, cfg_refusal_why[why]);
}

u32 vpci_read(struct domain *d, u16 bdf, unsigned reg, unsigned size)
{
	struct pci_func *f = pci_func_find(bdf);
	unsigned dw = reg & ~3u, shift = 8 * (reg & 3);
	(void)d;

	if (!f || (reg & (size - 1)))
		return f ? all_ones(size) : pci_conf_read(bdf, reg, size);
	pci_reset_settle(f);
	if (in_bars(f, dw))
		return (bar_read(f, (dw - PCI_BAR0) / 4) >> shift) & all_ones(size);
	if (is_rom(f, dw))
		return 0;
	return pci_bridge_window_read(f, reg, size, pci_conf_read(bdf, reg, size));
}

void vpci_write(struct domain *d, u16 bdf, unsigned reg, unsigned size, u32 val)
{
	struct pci_func *f = pci_func_find(bdf);
	unsigned dw = reg & ~3u, shift = 8 * (reg & 3);

	if (!f || (reg & (size - 1)))
		return; /* no such function (as hardware: dropped), or misaligned */
	pci_reset_settle(f);
	enum cfg_refusal why = CFG_REFUSED_HOST;
	u8 keep = cfg_write_mask(f, reg, size, &why), all = (u8)((1u << size) - 1);
	/* Bridge windows are emulated (kernel/pci_bridge.c, which programs
	 * the device and logs refusals): their bytes are done here, the
	 * rest of the write (the secondary status) goes on. */
	u8 window = keep ? pci_bridge_window_write(f, reg, size, val) : 0;
	if (window) {
		keep &= (u8)~window;
		why = CFG_REFUSED_WINDOW;
		if (!keep)
			return;
	}
	if (keep != all) {
		/* The refused bytes keep the device's value (only bus numbers
		 * share a dword with a writable byte: no write-1-to-clear bits
		 * are written back). A refusal that changes nothing (dom0's
		 * enumeration restoring what it read) is not worth a line. */
		u32 bm = 0, cur = pci_conf_read(bdf, reg, size);
		for (unsigned i = 0; i < size; i++)
			if (keep & (1u << i))
				bm |= 0xffu << (8 * i);
		if ((val & ~bm & all_ones(size)) != (cur & ~bm & all_ones(size)) &&
		    why != CFG_REFUSED_WINDOW)
			log_cfg_refused(f, why, reg);
		if (!keep)
			return;
		val = (cur & ~bm) | (val & bm);
	}
	if (in_bars(f, dw)) {
		/* Merge a partial write into the emulated register. */
		unsigned i = (dw - PCI_BAR0) / 4;
		u32 m = all_ones(size) << shift;
		bar_write(d, f, i, (bar_read(f, i) & ~m) | ((val << shift) & m));
		return;
	}
	if (is_rom(f, dw))
		return;
	if (f->msi_cap && reg >= f->msi_cap && reg < f->msi_cap + msi_cap_len(bdf, f->msi_cap)) {
		/* Only the control word (cap + 2), with the enable bit and
		 * the message count the hypervisor's; address and data
		 * belong to the hypervisor. */
		if (reg + size <= f->msi_cap + 2u || reg >= f->msi_cap + 4u)
			return;
		u32 ctl = pci_conf_read(bdf, f->msi_cap, 4);
		u32 m = all_ones(size) << shift;
		ctl = (ctl & ~m) | ((val << shift) & m);
		if (((ctl >> 16) & PCI_MSI_FLAGS_ENABLE) && !f->msi_pirq)
			log_msi_refused(f, "MSI", "MSI needs PHYSDEVOP_map_pirq first");
		u16 c = (u16)(ctl >> 16) & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
		pci_conf_write(bdf, f->msi_cap + 2, 2, c | (f->msi_pirq ? PCI_MSI_FLAGS_ENABLE : 0));
		return;
	}
	if (f->msix_cap && reg >= f->msix_cap && reg < f->msix_cap + 12u) {
		if (reg + size <= f->msix_cap + 2u || reg >= f->msix_cap + 4u)
			return; /* the table/PBA offsets are read-only anyway */
		u32 ctl = pci_conf_read(bdf, f->msix_cap, 4);
		u32 m = all_ones(size) << shift;
		ctl = (ctl & ~m) | ((val << shift) & m);
		/* The enable bit is the hypervisor's: on while an entry is
		 * mapped, and only for a trapped table (else dom0 could have
		 * written the messages). The function mask is dom0's. */
		bool on = f->msix_nr_mapped && f->msix_trapped;
		if (((ctl >> 16) & PCI_MSIX_FLAGS_ENABLE) && !on)
			log_msi_refused(f, "MSI-X",
					f->msix_trapped ? "MSI-X needs PHYSDEVOP_map_pirq first"
							: "the MSI-X table is not trapped");
		u16 c = (u16)(ctl >> 16) & ~PCI_MSIX_FLAGS_ENABLE;
		pci_conf_write(bdf, f->msix_cap + 2, 2, c | (on ? PCI_MSIX_FLAGS_ENABLE : 0));
		return;
	}
	pci_reset_watch(f, reg, size, val);
	pci_conf_write(bdf, reg, size, val);
	if (dw == PCI_COMMAND && (pci_conf_read(bdf, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY)) {
		/* Decoding on: a 64-bit BAR whose upper half was not
		 * rewritten moves now. */
		for (unsigned i = 0; i < f->nr_bars; i++)
			if (f->bar[i].kind == PCI_BAR_MEM64 && f->bar[i].size)
				bar_commit(d, f, i);
	}
}

/* ---- CF8/CFC ----------------------------------------------------------- */

static u32 cf8_latch; /* dom0's CONFIG_ADDRESS (the only domain with access) */

static u32 cf8_read(struct vcpu *v, u16 port, unsigned size)
{
	if (!is_control_domain(v->dom) || port != 0xcf8 || size != 4)
		return all_ones(size);
	return cf8_latch;
}

static void cf8_write(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	/* Only a dword at CF8 is CONFIG_ADDRESS (PCI 3.0, 3.2.2.3.2); bytes
	 * at CF8-CFB reach other chipset registers, CF9 being the reset
	 * control, which stays the hypervisor's: dropped. */
	if (is_control_domain(v->dom) && port == 0xcf8 && size == 4)
		cf8_latch = val;
}

/* The register CFC+n addresses, or false when CONFIG_ADDRESS is off. */
static bool cfc_target(u16 port, u16 *bdf, unsigned *reg)
{
	if (!(cf8_latch & 0x80000000u))
		return false;
	*bdf = (cf8_latch >> 8) & 0xffff;
	*reg = (cf8_latch & 0xfc) + (port & 3);
	return true;
}

static u32 cfc_read(struct vcpu *v, u16 port, unsigned size)
{
	u16 bdf;
	unsigned reg;

	if (!is_control_domain(v->dom) || !cfc_target(port, &bdf, &reg) || (reg & 3) + size > 4)
		return all_ones(size);
	return vpci_read(v->dom, bdf, reg, size);
}

static void cfc_write(struct vcpu *v, u16 port, unsigned size, u32 val)
{
	u16 bdf;
	unsigned reg;

	if (is_control_domain(v->dom) && cfc_target(port, &bdf, &reg) && (reg & 3) + size <= 4)
		vpci_write(v->dom, bdf, reg, size, val);
}

/* ---- ECAM --------------------------------------------------------------- */

static paddr_t ecam_base;

static u64 ecam_read(struct vcpu *v, gpa_t gpa, unsigned size)
{
	u64 off = gpa - ecam_base;
	u16 bdf = off >> 12;
	unsigned reg = off & 0xfff;

	if (size == 8) /* two dwords, as a 64-bit MMIO read of config space splits */
		return vpci_read(v->dom, bdf, reg, 4) | (u64)vpci_read(v->dom, bdf, reg + 4, 4) << 32;
	return vpci_read(v->dom, bdf, reg, size);
}

static void ecam_write(struct vcpu *v, gpa_t gpa, unsigned size, u64 val)
{
	u64 off = gpa - ecam_base;
	u16 bdf = off >> 12;
	unsigned reg = off & 0xfff;

	if (size == 8) {
		vpci_write(v->dom, bdf, reg, 4, (u32)val);
		vpci_write(v->dom, bdf, reg + 4, 4, (u32)(val >> 32));
		return;
	}
	vpci_write(v->dom, bdf, reg, size, (u32)val);
}

void pci_cfg_init(struct domain *d0)
{
	static const struct io_port_handler cf8 = {
		.first = 0xcf8, .count = 4, .name = "PCI CONFIG_ADDRESS",
		.read = cf8_read, .write = cf8_write,
	};
	static const struct io_port_handler cfc = {
		.first = 0xcfc, .count = 4, .name = "PCI CONFIG_DATA",
		.read = cfc_read, .write = cfc_write,
	};
	paddr_t base;
	u8 sb, eb;

	if (io_register(&cf8) || io_register(&cfc))
		pr_err("pci: cannot register the config ports\n");
	if (!pci_ecam_window(&base, &sb, &eb))
		return;
	ecam_base = base;
	struct mmio_handler ecam = {
		.base = base + ((u64)sb << 20),
		.len = (u64)(eb - sb + 1) << 20,
		.domid = d0->id,
		.name = "ECAM",
		.read = ecam_read,
		.write = ecam_write,
	};
	if (mmio_register(&ecam))
		pr_err("pci: cannot register the ECAM window\n");
}
