/*
 * Resets dom0 starts through configuration space, and putting back what
 * the hypervisor keeps in the reset devices; contract at pci_reset_watch /
 * pci_reset_settle in include/keel/pci.h, policy in docs/dom0-devices.md
 * ("Resets").
 *
 * A reset returns a function's registers to their defaults: BARs 0,
 * decoding and bus mastering off, MSI and MSI-X disabled, MSI-X entries
 * masked with undefined messages, a bridge's bus numbers 0. Keel keeps
 * state that lives in those registers: the BAR addresses it checked,
 * mapped into dom0's p2m and trapped MSI-X tables at; the bus numbers its
 * per-BDF state relies on (dom0 may not rewrite them); the MSI/MSI-X
 * messages and enable bits PHYSDEVOP_map_pirq set (dom0's writes to those
 * are dropped, so dom0 could not restore them). Keel therefore writes them
 * back itself once the device is ready, and dom0 restores the rest
 * (command register, its own registers) as after any reset. Writing back
 * the BARs also keeps dom0's emulated BAR registers (f->vbar) true: a
 * restore of the same address by dom0 is no move and reaches no device.
 *
 * The resets noticed (each marks the functions it reaches):
 *  - Secondary Bus Reset, bridge control bit 6 (PCI-to-PCI Bridge 1.2,
 *    3.2.5.17): every function on the bridge's secondary..subordinate
 *    buses (as found at boot: bus numbers do not change), marked when the
 *    bit is set and again when it is cleared (devices leave reset then);
 *  - PCIe Device Control "Initiate Function Level Reset" (PCI Express
 *    Base 4.0, 7.5.3.4 bit 15) and the Advanced Features capability's FLR
 *    bit: that function;
 *  - a D3hot -> D0 transition without No_Soft_Reset (PCI PM 1.2, 5.4):
 *    that function.
 * Device-specific resets (through a BAR) are not seen: they do not touch
 * the PCI configuration of the devices Keel knows.
 *
 * When: not at the write. A function may take 100 ms after a reset before
 * it answers (PCIe Base 4.0, 6.6.1/6.6.2; until then it may answer
 * configuration reads with the "retry" vendor ID 0x0001, or not at all),
 * and writes before that may be lost. So the write back happens at dom0's
 * first access to the function (config space, either path) after 100 ms
 * have passed and the vendor ID reads sane, which is when dom0 itself may
 * restore it.
 */
#include <lib/string.h>
#include <keel/pci.h>
#include <keel/pirq.h>
#include <keel/printk.h>
#include <keel/vtimer.h>

/* The "retry" completion a PCIe root complex may report as this vendor ID
 * while the function is not ready (PCIe Base 4.0, 2.3.2). */
#define PCI_VENDOR_ID_RETRY 0x0001

static void mark(struct pci_func *f, const char *what)
{
	if (!f->reset_pending)
		pr_info("pci %02x:%02x.%u: reset by dom0 (%s): Keel's state is written back once "
			"it is ready\n", PCI_BUS(f->bdf), PCI_DEV(f->bdf), PCI_FN(f->bdf), what);
	f->reset_pending = true;
	f->reset_at = time_now_ns();
}

/* Does a write of `size` bytes at `reg` cover the whole 16-bit register
 * at `at`? *v: what it writes there. */
static bool writes_reg16(unsigned reg, unsigned size, u32 val, unsigned at, u16 *v)
{
	if (reg > at || reg + size < at + 2)
		return false;
	*v = (u16)(val >> (8 * (at - reg)));
	return true;
}

static void secondary_bus_reset(struct pci_func *bridge)
{
	for (unsigned i = 0; i < pci_nr_funcs; i++) {
		struct pci_func *g = &pci_funcs[i];
		unsigned bus = PCI_BUS(g->bdf);
		if (g != bridge && bus >= bridge->bus_secondary && bus <= bridge->bus_subordinate &&
		    bridge->bus_secondary > PCI_BUS(bridge->bdf))
			mark(g, "secondary bus reset");
	}
}

void pci_reset_watch(struct pci_func *f, unsigned reg, unsigned size, u32 val)
{
	u16 v;

	/* Bridge control's low byte (0x3e) holds the bit: any write that
	 * covers it. Set now or set before (being cleared): mark both. */
	if (f->header == PCI_HEADER_TYPE_BRIDGE && reg <= PCI_BRIDGE_CONTROL &&
	    reg + size > PCI_BRIDGE_CONTROL) {
		u16 old = (u16)pci_conf_read(f->bdf, PCI_BRIDGE_CONTROL, 2);
		u8 nb = (u8)(val >> (8 * (PCI_BRIDGE_CONTROL - reg)));
		if ((old | nb) & PCI_BRIDGE_CTL_BUS_RESET)
			secondary_bus_reset(f);
	}
	if (f->exp_cap && writes_reg16(reg, size, val, f->exp_cap + PCI_EXP_DEVCTL, &v) &&
	    (v & PCI_EXP_DEVCTL_BCR_FLR))
		mark(f, "function level reset");
	else if (f->exp_cap && size == 1 && reg == f->exp_cap + PCI_EXP_DEVCTL + 1u &&
		 (val & (PCI_EXP_DEVCTL_BCR_FLR >> 8)))
		mark(f, "function level reset");
	unsigned af = f->af_cap + (unsigned)PCI_AF_CTRL, pm = f->pm_cap + (unsigned)PCI_PM_CTRL;
	if (f->af_cap && reg <= af && reg + size > af && ((val >> (8 * (af - reg))) & PCI_AF_CTRL_FLR))
		mark(f, "function level reset");
	if (f->pm_cap && reg <= pm && reg + size > pm) {
		u16 pmcsr = (u16)pci_conf_read(f->bdf, pm, 2);
		u8 to = (u8)(val >> (8 * (pm - reg))) & PCI_PM_CTRL_STATE_MASK;
		if ((pmcsr & PCI_PM_CTRL_STATE_MASK) == PCI_PM_STATE_D3HOT &&
		    to == PCI_PM_STATE_D0 && !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET))
			mark(f, "D3hot to D0");
	}
}

void pci_reset_settle(struct pci_func *f)
{
	u16 vendor;

	if (!f->reset_pending || time_now_ns() - f->reset_at < PCI_RESET_SETTLE_NS)
		return;
	vendor = (u16)pci_conf_read(f->bdf, PCI_VENDOR_ID, 2);
	if (vendor == 0xffff || vendor == PCI_VENDOR_ID_RETRY)
		return; /* still in reset (behind a bridge holding it), or not ready */
	f->reset_pending = false;

	/* BARs with decoding off (as passthrough_bar_move), so the device
	 * never decodes a half-written 64-bit address. */
	u16 cmd = (u16)pci_conf_read(f->bdf, PCI_COMMAND, 2);
	pci_conf_write(f->bdf, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < f->nr_bars; i++) {
		const struct pci_bar *b = &f->bar[i];
		if (!b->size)
			continue;
		u32 flags = f->vbar[i] & (b->kind == PCI_BAR_IO32 ? PCI_BAR_IO_FLAGS : PCI_BAR_MEM_FLAGS);
		pci_conf_write(f->bdf, PCI_BAR0 + 4 * i, 4, (u32)b->addr | flags);
		if (b->kind == PCI_BAR_MEM64)
			pci_conf_write(f->bdf, PCI_BAR0 + 4 * (i + 1), 4, (u32)(b->addr >> 32));
	}
	pci_conf_write(f->bdf, PCI_COMMAND, 2, cmd);
	if (f->header == PCI_HEADER_TYPE_BRIDGE) {
		pci_conf_write(f->bdf, PCI_PRIMARY_BUS, 1, f->bus_primary);
		pci_conf_write(f->bdf, PCI_SECONDARY_BUS, 1, f->bus_secondary);
		pci_conf_write(f->bdf, PCI_SUBORDINATE_BUS, 1, f->bus_subordinate);
	}
	pirq_msi_restore(f);
	pr_info("pci %02x:%02x.%u: after the reset: BARs%s%s%s written back\n", PCI_BUS(f->bdf),
		PCI_DEV(f->bdf), PCI_FN(f->bdf),
		f->header == PCI_HEADER_TYPE_BRIDGE ? ", bus numbers" : "",
		f->msi_pirq ? ", MSI" : "", f->msix_nr_mapped ? ", MSI-X entries" : "");
}
