/*
 * memory_op(cmd, arg) (Xen public/memory.h). Reservation operations
 * return the number of extents done; the others 0 or a negative errno.
 */
#ifndef KEEL_PUBLIC_MEMORY_H
#define KEEL_PUBLIC_MEMORY_H

#include <lib/types.h>
#include <public/xen.h>

#define XENMEM_increase_reservation   0
#define XENMEM_decrease_reservation   1
#define XENMEM_maximum_ram_page       2
#define XENMEM_current_reservation    3
#define XENMEM_maximum_reservation    4
#define XENMEM_machphys_mfn_list      5
#define XENMEM_populate_physmap       6
#define XENMEM_add_to_physmap         7
#define XENMEM_memory_map             9
#define XENMEM_machine_memory_map    10
#define XENMEM_exchange              11
#define XENMEM_machphys_mapping      12
#define XENMEM_set_memory_map        13
#define XENMEM_maximum_gpfn          14
#define XENMEM_remove_from_physmap   15
#define XENMEM_add_to_physmap_batch  23

/* mem_flags */
#define XENMEMF_address_bits(x)      (x)
#define XENMEMF_populate_on_demand   (1U << 16)
#define XENMEMF_exact_node_request   (1U << 17)
#define XENMEMF_vnode                (1U << 18)

/* XENMEM_{increase,decrease}_reservation, XENMEM_populate_physmap. */
struct xen_memory_reservation {
	uint64_t extent_start;   /* guest handle: xen_pfn_t[nr_extents] */
	xen_ulong_t nr_extents;
	uint32_t extent_order;   /* 2^order pages per extent */
	uint32_t mem_flags;      /* XENMEMF_* */
	domid_t domid;
	uint16_t pad[3];
};
_Static_assert(sizeof(struct xen_memory_reservation) == 32, "memory_reservation size");
_Static_assert(offsetof(struct xen_memory_reservation, nr_extents) == 8, "nr_extents");
_Static_assert(offsetof(struct xen_memory_reservation, extent_order) == 16, "extent_order");
_Static_assert(offsetof(struct xen_memory_reservation, mem_flags) == 20, "mem_flags");
_Static_assert(offsetof(struct xen_memory_reservation, domid) == 24, "domid");

/* XENMEM_current/maximum_reservation, XENMEM_maximum_gpfn: arg = domid_t *. */
struct xen_memory_domain {
	domid_t domid;
};

#define XENMAPSPACE_shared_info  0 /* idx 0: the shared_info page */
#define XENMAPSPACE_grant_table  1 /* idx = grant frame (| STATUS bit) */
#define XENMAPSPACE_gmfn         2
#define XENMAPSPACE_gmfn_range   3
#define XENMAPSPACE_gmfn_foreign 4
#define XENMAPSPACE_dev_mmio     5
#define XENMAPIDX_grant_table_status 0x80000000U

/* Places the page named by (space, idx) at gpfn, replacing what was
 * there. */
struct xen_add_to_physmap {
	domid_t domid;           /* DOMID_SELF */
	uint16_t size;           /* gmfn_range only */
	uint32_t space;          /* XENMAPSPACE_* */
	xen_ulong_t idx;
	xen_pfn_t gpfn;
};
_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "add_to_physmap size");
_Static_assert(offsetof(struct xen_add_to_physmap, size) == 2, "atp size");
_Static_assert(offsetof(struct xen_add_to_physmap, space) == 4, "atp space");
_Static_assert(offsetof(struct xen_add_to_physmap, idx) == 8, "atp idx");
_Static_assert(offsetof(struct xen_add_to_physmap, gpfn) == 16, "atp gpfn");

/* XENMEM_add_to_physmap_batch: `size` frames at once. Keel supports the
 * space Linux's privcmd uses for foreign mappings, XENMAPSPACE_gmfn_foreign
 * (dom0 only): frame idxs[i] of domain u.foreign_domid appears at gpfns[i]
 * in the caller. errs[i] gets 0 or -errno per frame; the call returns 0
 * unless the whole request is bad. */
struct xen_add_to_physmap_batch {
	domid_t domid;           /* DOMID_SELF */
	uint16_t space;          /* XENMAPSPACE_* */
	uint32_t size;
	union {
		domid_t foreign_domid;
		uint64_t pad;
	} u;
	uint64_t idxs;           /* guest handle: xen_ulong_t[size] */
	uint64_t gpfns;          /* guest handle: xen_pfn_t[size] */
	uint64_t errs;           /* guest handle: int[size], OUT */
};
_Static_assert(offsetof(struct xen_add_to_physmap_batch, u) == 8, "atpb u");
_Static_assert(offsetof(struct xen_add_to_physmap_batch, idxs) == 16, "atpb idxs");
_Static_assert(sizeof(struct xen_add_to_physmap_batch) == 40, "atpb size");

struct xen_remove_from_physmap {
	domid_t domid;
	uint16_t pad[3];
	xen_pfn_t gpfn;
};
_Static_assert(sizeof(struct xen_remove_from_physmap) == 16, "remove_from_physmap size");

/* XENMEM_memory_map: IN nr_entries = buffer capacity, OUT = entries
 * stored; the buffer holds packed E820 entries (struct xen_e820_entry). */
struct xen_memory_map {
	uint32_t nr_entries;
	uint32_t pad;
	uint64_t buffer;         /* guest handle */
};
_Static_assert(sizeof(struct xen_memory_map) == 16, "xen_memory_map size");
_Static_assert(offsetof(struct xen_memory_map, buffer) == 8, "memory_map buffer");

/* The BIOS INT 15h E820 entry: 20 bytes, packed. */
struct xen_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;           /* XEN_HVM_MEMMAP_TYPE_* numbering */
} __packed;
_Static_assert(sizeof(struct xen_e820_entry) == 20, "e820 entry size");

#endif
