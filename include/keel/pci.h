/*
 * The hypervisor's own view of PCI (kernel/pci.c): configuration-space
 * access, the functions found at boot and their BARs.
 *
 * Config space is reached through the MCFG's ECAM window when ACPI gives
 * one (all 4 KiB of every function), else through ports CF8/CFC (the
 * first 256 bytes; PCI Local Bus 3.0, 3.2.2.3.2). Segment 0 only.
 * Single CPU, interrupts off in the hypervisor: the CF8/CFC pair is never
 * interleaved with another access.
 */
#ifndef KEEL_PCI_H
#define KEEL_PCI_H

#include <keel/types.h>
#include <keel/pci_regs.h>
#include <hw/pci_core.h> /* struct pci_bar: BARs are sized by the shared core */

#define PCI_MAX_FUNCS 64

struct pci_func {
	u16 bdf;
	u16 vendor, device;
	u32 class;       /* class << 16 | subclass << 8 | prog-if */
	u8 header;       /* header type, without the multi-function bit */
	u8 nr_bars;      /* 6 for type 0, 2 for type 1 */
	struct pci_bar bar[6];
	u8 msi_cap, msix_cap; /* capability offsets, 0 when absent */
	u8 irq_pin;      /* 1..4 = INTA..INTD, 0 none */
	u8 irq_line;     /* the firmware's interrupt-line value */
	/* dom0's view of the BAR registers (kernel/pci_cfg.c). */
	u32 vbar[6];
	bool msi_refused_logged;
	/* The pirq PHYSDEVOP_map_pirq gave the function's MSI (kernel/pirq.c),
	 * 0 = none. While set, the hypervisor holds MSI enabled. */
	u16 msi_pirq;
	/* MSI-X entries mapped by PHYSDEVOP_map_pirq (kernel/pirq.c). While
	 * any is, the hypervisor holds MSI-X enabled. */
	u16 msix_nr_mapped;
	/* The MSI-X table is trapped (kernel/msix.c): its BAR is assigned and
	 * the hypervisor serves dom0's accesses to its pages. MSI-X is usable
	 * (map_pirq, the enable bit) only while this is true. */
	bool msix_trapped;
	/* Register classes of the config filter whose refusal was logged
	 * (kernel/pci_cfg.c, one bit per class): one line per function. */
	u8 cfg_refused_logged;
};

extern struct pci_func pci_funcs[PCI_MAX_FUNCS];
extern unsigned pci_nr_funcs;

/* Config access of 1, 2 or 4 bytes at `reg` (aligned to its size). An
 * absent function reads as all ones. Registers past 0xff need ECAM
 * (reads all ones, writes dropped without it). */
u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size);
void pci_conf_write(u16 bdf, unsigned reg, unsigned size, u32 val);

/* The ECAM window in use: base (bus 0) and the bus range; false if none. */
bool pci_ecam_window(paddr_t *base, u8 *start_bus, u8 *end_bus);

/*
 * Finds every function on segment 0 (ECAM bus range, or buses 0-255 with
 * CF8), sizes its BARs (decoding off meanwhile) and records them in
 * pci_funcs. Call after acpi_init(). Returns the number found.
 */
unsigned pci_scan(void);

/* The function with this BDF, or NULL. */
struct pci_func *pci_func_find(u16 bdf);

/* The offset of capability `id` in the function's list, 0 if absent. */
u8 pci_find_cap(u16 bdf, u8 id);

/* ---- dom0's filtered view (kernel/pci_cfg.c) ---------------------------- */

struct domain;

/* Registers the CF8/CFC port handlers and the ECAM MMIO handler for d0.
 * Call after pci_scan(). */
void pci_cfg_init(struct domain *d0);

/* A config access by dom0 (either path), through the filter described in
 * kernel/pci_cfg.c. Same size/alignment rules as pci_conf_read. */
u32 vpci_read(struct domain *d, u16 bdf, unsigned reg, unsigned size);
void vpci_write(struct domain *d, u16 bdf, unsigned reg, unsigned size, u32 val);

#endif
