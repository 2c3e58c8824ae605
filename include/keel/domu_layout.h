/*
 * The guest-physical layout of a domU as Linux's PVH entry expects it
 * (kernel/domu_layout.c; docs/linux-guest.md "Memory layout"):
 *
 *   0 .. 0x9f000          RAM (Linux 6.1 panics "Real mode trampoline was
 *                         not allocated" without RAM below 1 MiB)
 *   0x9f000 .. 0xa0000    reserved: the ACPI tables (keel/domu_acpi.h)
 *   0xa0000 .. 0x100000   reserved: the legacy VGA/ROM hole, as on a PC
 *                         (Linux reserves it itself too)
 *   0x100000 .. end       RAM; the kernel at its p_paddr (16 MiB for
 *                         Debian's), the initrd after it (kernel/pvh.c)
 *   end .. end + 2 pages  reserved: the console and xenstore pages the
 *                         launcher puts just past the RAM
 *                         (guest/dom0/domain/launch.c), so Linux never
 *                         takes their frames for grant-table or ballooned
 *                         space
 *
 * start_info, the memmap and the module list go below 1 GiB (Linux's
 * early page tables map only that much); the command line and the
 * modules below 4 GiB (its pointers to them are 32-bit).
 */
#ifndef KEEL_DOMU_LAYOUT_H
#define KEEL_DOMU_LAYOUT_H

#include <keel/boot_info.h>
#include <keel/domain.h>
#include <lib/types.h>

#define DOMU_ACPI_GPA 0x9f000UL
#define DOMU_LEGACY_HOLE 0xa0000UL
#define DOMU_LOW_END 0x100000UL
/* The launcher's console and store pages, just past the RAM. */
#define DOMU_SPECIAL_PAGES 2
/* Modules (the initrd) and the command line must end below this. */
#define DOMU_MODULE_LIMIT (1ULL << 32)

/* True when [DOMU_ACPI_GPA, +4 KiB) lies inside one of the RAM ranges:
 * the builder then writes the ACPI tables there. */
bool domu_layout_has_acpi(const struct mem_range *ram, unsigned nr_ram);

/*
 * Writes the E820 map of a domU whose RAM is ram[0..nr_ram) (sorted, not
 * overlapping) into out[0..max), sorted by address: the RAM minus
 * [DOMU_ACPI_GPA, DOMU_LOW_END) as usable; the ACPI page (when `acpi`)
 * and the legacy hole as reserved; the DOMU_SPECIAL_PAGES past the
 * highest RAM byte as reserved. Returns the number of entries, or
 * -E2BIG when they do not fit in max.
 */
int domu_layout_memmap(const struct mem_range *ram, unsigned nr_ram, bool acpi,
		       struct boot_mem_range *out, unsigned max);

#endif
