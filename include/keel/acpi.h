/*
 * The hypervisor's reading of the ACPI static tables: RSDP -> XSDT (or
 * RSDT) -> MCFG for the PCI Express configuration window (ECAM), MADT for
 * the IOAPICs and the legacy-IRQ overrides, HPET for the timer block the
 * hypervisor keeps, the FADT for the DSDT and FACS dom0 reads. No AML:
 * the DSDT is dom0's business.
 *
 * The parsing is the shared core's (include/hw/acpi_tables.h, also in
 * dom0); kernel/acpi.c supplies the bytes through the direct map (ACPI and
 * NVS ranges are mapped write-back, anything below 4 GiB uncached:
 * asm/hostpt.h) and prints the core's rejections.
 */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <lib/types.h>
#include <hw/acpi_tables.h>

/* What acpi_init found (all zero before, or without ACPI). */
extern struct acpi_info acpi;

/*
 * Reads the tables reachable from the RSDP at `rsdp` (0: none) into
 * `acpi`, printing one line per table used. A broken table or entry (bad
 * signature, length or checksum; an entry crossing its table's end) is
 * skipped with a line naming it. Returns 0, or -ENOENT when there is no
 * usable RSDP.
 */
int acpi_init(paddr_t rsdp);

/* Calls fn for every table acpi_init read or that dom0 will want to read
 * (the RSDP, the XSDT/RSDT, each table it lists, the FADT's DSDT and
 * FACS), with the table's address and length. */
void acpi_for_each_table(void (*fn)(paddr_t pa, u64 len, void *arg), void *arg);

#endif
