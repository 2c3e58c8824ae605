/*
 * PCI for dom0's drivers (drivers/pci/pci.c): enumeration of segment 0,
 * BARs and capabilities, configuration access, and binding devices to
 * drivers.
 *
 * Configuration space is reached through the ECAM window the ACPI MCFG
 * names (the hypervisor traps and filters it, kernel/pci_cfg.c), or
 * through ports CF8/CFC when there is no MCFG. Every BAR the firmware
 * assigned is already mapped 1:1 for dom0 by the hypervisor.
 */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include "drv.h"
#include <lib/pci_regs.h>
#include <hw/acpi_tables.h>
#include <hw/pci_core.h>

struct pci_bar_info {
	u64 addr;
	u64 size;      /* 0: not implemented */
	bool io;       /* I/O ports (addr is the first port) */
	bool mem64;
	bool prefetch;
};

struct pci_dev {
	u16 bdf;
	u16 vendor, device;
	u16 subsys_vendor, subsys;
	u8 class, subclass, progif, rev;
	u8 header;            /* 0 device, 1 bridge, 2 CardBus */
	u8 irq_pin;           /* 1..4 = INTA..INTD; 0 none */
	u8 irq_line;          /* the firmware's value */
	struct pci_bar_info bar[6];
	const char *driver;   /* the driver bound to it, NULL if none */
	char note[48];        /* what the driver says (or why it failed) */
	void *priv;           /* the driver's */
};

#define PCI_MAX_DEVS 64

extern struct pci_dev pci_devs[PCI_MAX_DEVS];
extern unsigned pci_ndevs;

/*
 * Finds the MCFG from the ACPI RSDP at `rsdp` (0: none; CF8/CFC then),
 * enumerates segment 0 from bus 0 through the bridges and sizes every
 * BAR. Returns the number of functions found.
 */
unsigned pci_init(u64 rsdp);

/* "ECAM at 0x..." or "ports cf8/cfc": how config space is reached. */
const char *pci_access_method(void);

u32 pci_cfg_read(const struct pci_dev *d, unsigned reg, unsigned size);
void pci_cfg_write(const struct pci_dev *d, unsigned reg, unsigned size, u32 val);

/* The first capability `id` after offset `after` (0: from the start of
 * the list), or 0. */
u8 pci_cap_find(const struct pci_dev *d, u8 id, u8 after);

/* Turns on memory and/or I/O decoding and bus mastering (DMA). */
void pci_enable(const struct pci_dev *d, bool mem, bool io, bool master);

/* BAR i's memory, mapped uncached; NULL if BAR i is not memory. */
volatile void *pci_bar_map(const struct pci_dev *d, unsigned i);

/* The GSI, trigger mode and polarity of d's INTx line (see pci.c for
 * how it is found without AML). False if d has no interrupt. */
bool pci_intx_route(const struct pci_dev *d, u32 *gsi, bool *level, bool *active_low);

/* "storage/NVMe", "network/Ethernet", ... from class and subclass. */
const char *pci_class_name(u8 class, u8 subclass);

struct pci_driver {
	const char *name;
	/* True if this driver handles d (IDs, class). */
	bool (*match)(const struct pci_dev *d);
	/* Takes d over: 0 when bound; -errno when the device failed (the
	 * driver has put the reason in d->note and released d). */
	int (*probe)(struct pci_dev *d);
};

/* Offers each unbound device to the drivers in order; the first whose
 * match() accepts it probes it. Returns the number bound. */
unsigned pci_bind(const struct pci_driver *const *drivers, unsigned n);

#endif
