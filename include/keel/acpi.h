/*
 * The few ACPI static tables the hypervisor reads (ACPI 6.4 ch. 5; the PCI
 * Firmware spec 3.2 for MCFG): RSDP -> XSDT (or RSDT) -> MCFG for the
 * PCI Express configuration window (ECAM), MADT for the IOAPICs and the
 * legacy-IRQ overrides, HPET for the timer block the hypervisor keeps.
 * No AML: the DSDT is dom0's business.
 *
 * acpi_init() runs once at boot; the tables are read through the direct
 * map (ACPI and NVS ranges are mapped write-back, anything below 4 GiB
 * uncached: asm/hostpt.h), every table's length and checksum checked.
 */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <lib/types.h>

#define ACPI_MAX_ECAM 4
#define ACPI_MAX_IOAPIC 4
#define ACPI_MAX_ISO 16

/* One MCFG allocation: buses start..end of `segment`; bus b, device d,
 * function f at base + (b << 20 | d << 15 | f << 12) (the PCI Firmware
 * spec's base is that of bus 0 even when start > 0, as Linux reads it). */
struct acpi_ecam {
	paddr_t base;     /* address of bus 0's space, as in the table */
	u16 segment;
	u8 start_bus, end_bus;
};

struct acpi_ioapic {
	u8 id;
	paddr_t addr;
	u32 gsi_base;
};

/* An interrupt source override: ISA IRQ `source` is GSI `gsi` with the
 * MPS INTI flags (polarity bits 0-1, trigger mode bits 2-3). */
struct acpi_iso {
	u8 source;
	u32 gsi;
	u16 flags;
};

struct acpi_info {
	paddr_t rsdp;
	paddr_t xsdt;     /* or the RSDT when rsdt is set */
	bool rsdt;
	unsigned nr_ecam;
	struct acpi_ecam ecam[ACPI_MAX_ECAM];
	paddr_t lapic_addr;   /* 0 when there is no MADT */
	unsigned nr_ioapic;
	struct acpi_ioapic ioapic[ACPI_MAX_IOAPIC];
	unsigned nr_iso;
	struct acpi_iso iso[ACPI_MAX_ISO];
	paddr_t hpet_addr;    /* 0 when there is no HPET table */
};

/* What acpi_init found (all zero before, or without ACPI). */
extern struct acpi_info acpi;

/*
 * Reads the tables reachable from the RSDP at `rsdp` (0: none) into
 * `acpi`, printing one line per table used. A broken table (bad
 * signature, length or checksum) is skipped with a line naming it.
 * Returns 0, or -ENOENT when there is no usable RSDP.
 */
int acpi_init(paddr_t rsdp);

/* Calls fn for every table acpi_init read or that dom0 will want to read
 * (the RSDP, the XSDT/RSDT, each table it lists, the FADT's DSDT and
 * FACS), with the table's address and length. */
void acpi_for_each_table(void (*fn)(paddr_t pa, u64 len, void *arg), void *arg);

/* Sums `len` bytes; ACPI tables sum to 0 (mod 256). Pure. */
u8 acpi_checksum(const void *p, size_t len);

#endif
