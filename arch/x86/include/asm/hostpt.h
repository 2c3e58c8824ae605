/* The hypervisor's own page tables (arch/x86/hostpt.c). */
#ifndef ASM_HOSTPT_H
#define ASM_HOSTPT_H

#include <keel/boot_info.h>

/*
 * Builds Keel's 4-level tables and switches to them: the direct map
 * (identity) of all RAM in `map` write-back, the rest of the low 4 GiB
 * uncached (device memory), everything no-execute; the image's text
 * read-only + executable, rodata read-only, data/bss writable (W^X);
 * page 0 unmapped so NULL dereferences fault. Enables EFER.NXE and CR0.WP.
 * Returns 0 or -ENOMEM (the boot tables stay in place).
 */
int hostpt_init(const struct boot_mem_range *map, unsigned n);

/* Maps device memory [pa, pa+len) (page-aligned outward) 1:1, uncached,
 * for the hypervisor itself (an MSI-X table in a BAR above 4 GiB).
 * 0 or -errno. */
int hostpt_map_mmio(u64 pa, u64 len);

#endif
