/* Boot memory-map processing (kernel/mmap.c). Pure code, unit-tested. */
#ifndef KEEL_MMAP_H
#define KEEL_MMAP_H

#include <keel/boot_info.h>

/*
 * Sanitizes a firmware memory map in place: sorts by address, resolves
 * overlaps (where ranges overlap, the most restrictive type wins:
 * reserved > unusable > NVS > ACPI > usable), merges adjacent ranges of
 * the same type, shrinks usable ranges to whole pages and drops empty
 * ones. Unknown types count as reserved. `max` is the capacity of map.
 * Returns the new number of ranges.
 */
unsigned mmap_sanitize(struct boot_mem_range *map, unsigned n, unsigned max);

/* Total bytes of usable RAM in a sanitized map. */
u64 mmap_usable_bytes(const struct boot_mem_range *map, unsigned n);

/* End of the highest usable range (0 if none). */
paddr_t mmap_usable_top(const struct boot_mem_range *map, unsigned n);

/* Name of a type ("usable", "reserved", "ACPI", "NVS", "unusable"). */
const char *mmap_type_name(u32 type);

#endif
