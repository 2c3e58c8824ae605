/*
 * BAR sizing and the capability walk: contract in include/hw/pci_core.h.
 * Register layout: PCI Local Bus 3.0, 6.1 (header), 6.2.5.1 (BARs), 6.7
 * (capability list).
 */
#include <hw/pci_core.h>

/* The size the writable address bits `mask` describe (the lowest set bit
 * of a contiguous run up to the top), or 0 when they describe none. */
static u64 size_of_mask(u64 mask)
{
	u64 size = ~mask + 1;

	/* A mask with a hole (e.g. ...f0f0) gives a size that is no power
	 * of two: the hardware is broken or the register unimplemented. */
	if (!mask || (size & (size - 1)))
		return 0;
	return size;
}

unsigned pci_bar_decode(u32 lo, u32 mask_lo, bool has_upper, u32 hi, u32 mask_hi,
			struct pci_bar *bar)
{
	u64 mask;

	*bar = (struct pci_bar){ .kind = PCI_BAR_NONE };
	if (lo & PCI_BAR_IO) {
		bar->kind = PCI_BAR_IO32;
		/* x86 ports are 16-bit: an I/O BAR need not implement the bits
		 * above 15, so they count as writable. */
		mask = (mask_lo & PCI_BAR_IO_PORT_MASK)
			       ? 0xffffffffffff0000ULL | (mask_lo & PCI_BAR_IO_PORT_MASK)
			       : 0;
		bar->addr = lo & PCI_BAR_IO_PORT_MASK;
	} else if ((lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 && has_upper) {
		bar->kind = PCI_BAR_MEM64;
		mask = ((u64)mask_hi << 32) | (mask_lo & PCI_BAR_MEM_ADDR_MASK);
		bar->addr = ((u64)hi << 32) | (lo & PCI_BAR_MEM_ADDR_MASK);
	} else {
		bar->kind = PCI_BAR_MEM32;
		/* Address bits above 31 do not exist: they count as writable. */
		mask = (mask_lo & PCI_BAR_MEM_ADDR_MASK)
			       ? 0xffffffff00000000ULL | (mask_lo & PCI_BAR_MEM_ADDR_MASK)
			       : 0;
		bar->addr = lo & PCI_BAR_MEM_ADDR_MASK;
	}
	bar->prefetch = !(lo & PCI_BAR_IO) && (lo & PCI_BAR_MEM_PREFETCH);
	bar->size = size_of_mask(mask);
	if (!bar->size) {
		bar->kind = bar->kind == PCI_BAR_MEM64 ? PCI_BAR_MEM64 : PCI_BAR_NONE;
		bar->addr = 0;
		bar->prefetch = false;
	}
	return bar->kind == PCI_BAR_MEM64 ? 2 : 1;
}

/* Writes all ones to `reg`, reads what stuck, restores `val`. */
static u32 probe_reg(const struct pci_cfg_io *io, unsigned reg, u32 val)
{
	u32 mask;

	io->write(io->ctx, reg, 4, 0xffffffffu);
	mask = io->read(io->ctx, reg, 4);
	io->write(io->ctx, reg, 4, val);
	return mask;
}

void pci_core_size_bars(const struct pci_cfg_io *io, unsigned nr_bars, struct pci_bar *bar,
			u32 *raw)
{
	u16 cmd;

	if (nr_bars > PCI_NR_BARS_NORMAL)
		nr_bars = PCI_NR_BARS_NORMAL;
	if (!nr_bars)
		return;
	cmd = (u16)io->read(io->ctx, PCI_COMMAND, 2);
	io->write(io->ctx, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
	for (unsigned i = 0; i < nr_bars;) {
		unsigned reg = PCI_BAR0 + 4 * i;
		u32 lo = io->read(io->ctx, reg, 4), hi = 0, mask_hi = 0;
		u32 mask_lo = probe_reg(io, reg, lo);
		bool has_upper = i + 1 < nr_bars;

		/* The upper register is probed only for a 64-bit BAR: for
		 * anything else it is the next BAR, probed on its own turn. */
		if (!(lo & PCI_BAR_IO) && (lo & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64 &&
		    has_upper) {
			hi = io->read(io->ctx, reg + 4, 4);
			mask_hi = probe_reg(io, reg + 4, hi);
		}
		unsigned n = pci_bar_decode(lo, mask_lo, has_upper, hi, mask_hi, &bar[i]);
		if (raw)
			raw[i] = lo;
		if (n == 2) {
			bar[i + 1] = (struct pci_bar){ .kind = PCI_BAR_NONE };
			if (raw)
				raw[i + 1] = hi;
		}
		i += n;
	}
	io->write(io->ctx, PCI_COMMAND, 2, cmd);
}

u8 pci_core_find_cap(const struct pci_cfg_io *io, u8 id, u8 after)
{
	u8 pos;

	if (!(io->read(io->ctx, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	pos = (u8)io->read(io->ctx, after ? after + PCI_CAP_LIST_NEXT : PCI_CAPABILITY_LIST, 1);
	/* At most 48 capabilities fit in the 192 bytes after the header: a
	 * longer walk is a loop. */
	for (unsigned n = 0; (pos & PCI_CAP_PTR_MASK) >= PCI_CFG_HEADER_END && n < 48; n++) {
		pos &= PCI_CAP_PTR_MASK;
		if (io->read(io->ctx, pos + PCI_CAP_LIST_ID, 1) == id)
			return pos;
		pos = (u8)io->read(io->ctx, pos + PCI_CAP_LIST_NEXT, 1);
	}
	return 0;
}
