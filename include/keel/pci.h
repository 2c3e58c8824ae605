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

#include <lib/types.h>
#include <lib/pci_regs.h>
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
#define PCI_CFG_LOGGED_WINDOW 0x80 /* ... and bridge windows (kernel/pci_bridge.c) */
	/* More capability offsets (0 when absent): PCI Express (FLR), power
	 * management (D3hot -> D0 resets), Advanced Features (FLR). */
	u8 exp_cap, pm_cap, af_cap;
	/* A type 1 header's bus numbers as found at boot (fixed since). */
	u8 bus_primary, bus_secondary, bus_subordinate;
	/* dom0's view of a bridge's window registers 0x1c-0x33
	 * (kernel/pci_bridge.c), read from the device at first use. */
	u8 vwin[0x18];
	bool vwin_valid;
	/* dom0 reset the function (FLR, secondary bus reset, D3hot -> D0) at
	 * time_now_ns() reset_at: the state Keel keeps in the device (BARs,
	 * bus numbers, MSI/MSI-X messages and enables) is written back once
	 * the device is ready (kernel/pci_reset.c). */
	bool reset_pending;
	u64 reset_at;
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

/* ---- bridges and resets (kernel/pci_bridge.c, kernel/pci_reset.c) ------ */

/* Bridge windows (I/O, memory, prefetchable base/limit and their upper
 * halves: 0x1c-0x33 but the secondary status at 0x1e) are emulated for
 * dom0 (f->vwin). pci_bridge_window_write takes dom0's write into the
 * copy and programs the device with every window the copy describes that
 * is disabled or passes passthrough_mmio_ok / passthrough_io_ok (a window
 * the device decodes already is left alone); a window that does not is
 * turned off in the device, logged once per function. Returns the bytes
 * of the write it handled (bit i: reg + i); 0 for other registers and
 * headers. pci_bridge_window_read returns `hw` (the device's value at
 * reg) with the window bytes replaced by dom0's copy. */
u8 pci_bridge_window_write(struct pci_func *f, unsigned reg, unsigned size, u32 val);
u32 pci_bridge_window_read(struct pci_func *f, unsigned reg, unsigned size, u32 hw);

/* Called with each dom0 write about to reach f's registers (`val` as
 * vpci_write has it, after the filter): notices the writes that reset
 * functions (secondary bus reset through bridge control, PCIe or AF
 * "initiate FLR", a D3hot -> D0 transition without No_Soft_Reset) and
 * marks the functions concerned reset_pending. */
void pci_reset_watch(struct pci_func *f, unsigned reg, unsigned size, u32 val);

/* If f is reset_pending, at least PCI_RESET_SETTLE_NS have passed and the
 * device answers (vendor ID neither all ones nor the PCIe "retry" value),
 * writes back what Keel keeps in it: BAR addresses, a bridge's bus
 * numbers, and through pirq_msi_restore the MSI message/enable and every
 * mapped MSI-X entry and the MSI-X enable. Called on every dom0 access. */
void pci_reset_settle(struct pci_func *f);

/* After a reset the PCIe spec lets a function take 100 ms before it must
 * answer configuration requests (PCI Express Base 4.0, 6.6.1/6.6.2). */
#define PCI_RESET_SETTLE_NS 100000000ULL

#endif
