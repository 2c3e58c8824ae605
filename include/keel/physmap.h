/*
 * A domain's physical-memory view as the guest manages it through
 * memory_op (kernel/hc_memory.c; Xen public/memory.h): special frames
 * placed with XENMEM_add_to_physmap, and the E820 map XENMEM_memory_map
 * returns.
 */
#ifndef KEEL_PHYSMAP_H
#define KEEL_PHYSMAP_H

#include <keel/boot_info.h>
#include <lib/types.h>

struct domain;

/* Most E820 entries a domain's map keeps (Linux reads at most 127 from
 * hvm_start_info; XENMEM_memory_map returns the same map). */
#define DOMAIN_E820_MAX 128

/*
 * Records d's E820 map for XENMEM_memory_map (the builder calls it with
 * the map it puts in hvm_start_info). Entries past DOMAIN_E820_MAX are
 * dropped. Until it is called, XENMEM_memory_map answers -ENOSYS, as Xen
 * does for a domain without a map.
 */
void domain_set_memory_map(struct domain *d, const struct boot_mem_range *map, unsigned n);

/*
 * Places host frame `hpa` (owned by d: its shared_info or a grant-table
 * frame) at guest frame `gfn` in d's p2m, read/write, write-back; what was
 * mapped at gfn is unhooked (Xen's xenmem_add_to_physmap_one). `old_gfn`
 * (or GFN_NONE) is where the frame sat before: it is unmapped there, so
 * the frame appears at one place only.
 *
 * The page that was at gfn is *not* freed, unlike in Xen: it stays owned
 * by d and listed in d->ram, merely unreachable for the guest, and goes
 * back to the allocator with the rest of d's memory when d is destroyed.
 * That keeps d->ram the one description of d's RAM, and for dom0, whose
 * RAM is 1:1, it is the only sensible choice anyway. A domain loses at
 * most a page per special frame this way.
 *
 * Errors: -EINVAL (gfn beyond the guest-physical address width), -EPERM
 * (gfn holds memory that is not d's own RAM: another domain's page, a
 * grant mapping, device memory), -ENOMEM (p2m tables).
 */
int physmap_place_frame(struct domain *d, u64 gfn, paddr_t hpa, u64 old_gfn);

#endif
