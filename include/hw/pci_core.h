/*
 * The PCI rules both Keel images need, without hardware access: BAR sizing
 * and the capability-list walk, over configuration-space access functions
 * the caller supplies (struct pci_cfg_io). Compiled into the hypervisor
 * (kernel/pci.c, through pci_conf_read/write) and into dom0
 * (drivers/pci/pci.c, through its own ECAM/CF8 access), and unit-tested
 * on the host (tests/unit/test_pci_core.c) against a fake device.
 *
 * hw/ and include/hw/ belong to no image (docs/design.md, "hw/"): the
 * sources in hw/ include only include/hw/ and the hardware-fact headers
 * of include/lib/ (types.h, pci_regs.h, errno.h), call no libc function
 * and touch no hardware.
 */
#ifndef HW_PCI_CORE_H
#define HW_PCI_CORE_H

#include <lib/types.h>
#include <lib/pci_regs.h>

/* Configuration space of one function, as the caller reaches it. Accesses
 * are 1, 2 or 4 bytes, aligned to their size, below 0x100 (the type 0/1
 * header and the capability list). */
struct pci_cfg_io {
	u32 (*read)(void *ctx, unsigned reg, unsigned size);
	void (*write)(void *ctx, unsigned reg, unsigned size, u32 val);
	void *ctx;
};

enum pci_bar_kind {
	PCI_BAR_NONE,  /* not implemented, or the upper half of a 64-bit BAR */
	PCI_BAR_IO32,  /* I/O ports */
	PCI_BAR_MEM32,
	PCI_BAR_MEM64, /* occupies this register and the next */
};

struct pci_bar {
	u8 kind;       /* enum pci_bar_kind */
	bool prefetch;
	u64 addr;      /* what the hardware decodes now */
	u64 size;      /* a power of two; 0 when unimplemented */
};

/*
 * Decodes one BAR from the values sizing read (PCI Local Bus 3.0,
 * 6.2.5.1): `lo` the register as found, `mask_lo` what it read after all
 * ones were written; for a 64-bit memory BAR (`lo` says so) `hi` and
 * `mask_hi` are the same for the next register, used only when
 * `has_upper` (the BAR is not the last register of the header: a 64-bit
 * BAR there is decoded as 32-bit). Pure.
 *
 * A BAR whose writable address bits do not form a power-of-two size (none,
 * or a hole in the mask) is unimplemented: size 0, address 0, kind
 * PCI_BAR_NONE, except that a 64-bit memory BAR stays PCI_BAR_MEM64 so
 * that it still covers two registers. Returns the registers the BAR covers
 * (2 for a 64-bit BAR, else 1).
 */
unsigned pci_bar_decode(u32 lo, u32 mask_lo, bool has_upper, u32 hi, u32 mask_hi,
			struct pci_bar *bar);

/*
 * Sizes the function's BARs 0..nr_bars-1 (6 for a type 0 header, 2 for a
 * type 1; at most 6) the usual way: memory and I/O decoding off in the
 * command register, then for each register write all ones, read back
 * which address bits stuck, restore the value found; the command register
 * is restored at the end, so the device never answers at the all-ones
 * address. Fills bar[0..nr_bars-1] (the upper half of a 64-bit BAR is
 * PCI_BAR_NONE) and, when raw is not NULL, raw[0..nr_bars-1] with the
 * register values found.
 */
void pci_core_size_bars(const struct pci_cfg_io *io, unsigned nr_bars, struct pci_bar *bar,
			u32 *raw);

/*
 * The offset of the first capability `id` in the function's list after
 * the one at `after` (0: from the start), or 0 when there is none or the
 * status register says there is no list. A list that loops or points
 * into the header ends the walk.
 */
u8 pci_core_find_cap(const struct pci_cfg_io *io, u8 id, u8 after);

#endif
