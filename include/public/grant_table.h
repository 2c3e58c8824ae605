/*
 * grant_table_op(cmd, uop, count) (Xen public/grant_table.h), version 1.
 * `uop` points to an array of `count` operation structures; the call
 * returns 0 (or a negative errno for a bad call) and each element carries
 * its own GNTST_* status.
 */
#ifndef KEEL_PUBLIC_GRANT_TABLE_H
#define KEEL_PUBLIC_GRANT_TABLE_H

#include <lib/types.h>
#include <public/xen.h>

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

/* Refs 0..7 are reserved: 0 console, 1 xenstore. */
#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE    0
#define GNTTAB_RESERVED_XENSTORE   1

/* A v1 entry, written by the granting domain: domid and frame first, a
 * write barrier, then flags. 512 entries per 4 KiB frame. */
struct grant_entry_v1 {
	uint16_t flags;  /* GTF_* */
	domid_t domid;   /* the domain allowed to use the grant */
	uint32_t frame;  /* guest frame number */
};
_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1 size");

#define GTF_invalid          (0U << 0)
#define GTF_permit_access    (1U << 0)
#define GTF_accept_transfer  (2U << 0)
#define GTF_transitive       (3U << 0)
#define GTF_type_mask        (3U << 0)
#define _GTF_readonly        2
#define GTF_readonly         (1U << _GTF_readonly)
#define _GTF_reading         3
#define GTF_reading          (1U << _GTF_reading) /* set by the hypervisor */
#define _GTF_writing         4
#define GTF_writing          (1U << _GTF_writing) /* set by the hypervisor */
#define GTF_PWT              (1U << 5)
#define GTF_PCD              (1U << 6)
#define GTF_PAT              (1U << 7)
#define GTF_sub_page         (1U << 8)
#define GTF_transfer_committed (1U << 2)
#define GTF_transfer_completed (1U << 3)

#define GNTTABOP_map_grant_ref        0
#define GNTTABOP_unmap_grant_ref      1
#define GNTTABOP_setup_table          2
#define GNTTABOP_dump_table           3
#define GNTTABOP_transfer             4
#define GNTTABOP_copy                 5
#define GNTTABOP_query_size           6
#define GNTTABOP_unmap_and_replace    7
#define GNTTABOP_set_version          8
#define GNTTABOP_get_status_frames    9
#define GNTTABOP_get_version          10
#define GNTTABOP_swap_grant_ref       11
#define GNTTABOP_cache_flush          12

#define GNTMAP_device_map       (1U << 0)
#define GNTMAP_host_map         (1U << 1)
#define GNTMAP_readonly         (1U << 2)
#define GNTMAP_application_map  (1U << 3)
#define GNTMAP_contains_pte     (1U << 4)

#define GNTST_okay               0
#define GNTST_general_error     (-1)
#define GNTST_bad_domain        (-2)
#define GNTST_bad_gntref        (-3)
#define GNTST_bad_handle        (-4)
#define GNTST_bad_virt_addr     (-5)
#define GNTST_bad_dev_addr      (-6)
#define GNTST_no_device_space   (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page          (-9)
#define GNTST_bad_copy_arg     (-10) /* copy crosses a page boundary */
#define GNTST_address_too_big  (-11)
#define GNTST_eagain           (-12)
#define GNTST_no_space         (-13)

/* For an auto-translated backend host_addr is its own guest-physical
 * address and only GNTMAP_host_map [| GNTMAP_readonly] is allowed. */
struct gnttab_map_grant_ref {
	uint64_t host_addr;      /* IN */
	uint32_t flags;          /* IN: GNTMAP_* */
	grant_ref_t ref;         /* IN */
	domid_t dom;             /* IN: the granting domain */
	int16_t status;          /* OUT: GNTST_* */
	grant_handle_t handle;   /* OUT */
	uint64_t dev_bus_addr;   /* OUT: machine address of the frame */
};
_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "map_grant_ref size");
_Static_assert(offsetof(struct gnttab_map_grant_ref, flags) == 8, "map flags");
_Static_assert(offsetof(struct gnttab_map_grant_ref, ref) == 12, "map ref");
_Static_assert(offsetof(struct gnttab_map_grant_ref, dom) == 16, "map dom");
_Static_assert(offsetof(struct gnttab_map_grant_ref, status) == 18, "map status");
_Static_assert(offsetof(struct gnttab_map_grant_ref, handle) == 20, "map handle");
_Static_assert(offsetof(struct gnttab_map_grant_ref, dev_bus_addr) == 24, "map dev_bus_addr");

struct gnttab_unmap_grant_ref {
	uint64_t host_addr;      /* IN */
	uint64_t dev_bus_addr;   /* IN: 0 = ignore */
	grant_handle_t handle;   /* IN */
	int16_t status;          /* OUT */
	uint16_t pad;
};
_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "unmap_grant_ref size");
_Static_assert(offsetof(struct gnttab_unmap_grant_ref, handle) == 16, "unmap handle");
_Static_assert(offsetof(struct gnttab_unmap_grant_ref, status) == 20, "unmap status");

struct gnttab_setup_table {
	domid_t dom;             /* IN */
	uint16_t pad;
	uint32_t nr_frames;      /* IN */
	int16_t status;          /* OUT */
	uint16_t pad2[3];
	uint64_t frame_list;     /* IN: guest handle to xen_pfn_t[nr_frames] */
};
_Static_assert(sizeof(struct gnttab_setup_table) == 24, "setup_table size");
_Static_assert(offsetof(struct gnttab_setup_table, frame_list) == 16, "frame_list");

#define GNTCOPY_source_gref (1U << 0)
#define GNTCOPY_dest_gref   (1U << 1)

struct gnttab_copy_ptr {
	union {
		grant_ref_t ref;  /* with GNTCOPY_*_gref */
		xen_pfn_t gmfn;   /* otherwise: the caller's own frame */
	} u;
	domid_t domid;
	uint16_t offset;
	uint32_t pad;
};
_Static_assert(sizeof(struct gnttab_copy_ptr) == 16, "copy_ptr size");
_Static_assert(offsetof(struct gnttab_copy_ptr, domid) == 8, "copy_ptr domid");
_Static_assert(offsetof(struct gnttab_copy_ptr, offset) == 10, "copy_ptr offset");

/* Neither side may cross a page (GNTST_bad_copy_arg). */
struct gnttab_copy {
	struct gnttab_copy_ptr source;
	struct gnttab_copy_ptr dest;
	uint16_t len;
	uint16_t flags;          /* GNTCOPY_* */
	int16_t status;          /* OUT */
	uint16_t pad;
};
_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy size");
_Static_assert(offsetof(struct gnttab_copy, dest) == 16, "copy dest");
_Static_assert(offsetof(struct gnttab_copy, len) == 32, "copy len");
_Static_assert(offsetof(struct gnttab_copy, flags) == 34, "copy flags");
_Static_assert(offsetof(struct gnttab_copy, status) == 36, "copy status");

struct gnttab_query_size {
	domid_t dom;             /* IN */
	uint16_t pad;
	uint32_t nr_frames;      /* OUT */
	uint32_t max_nr_frames;  /* OUT */
	int16_t status;          /* OUT */
	uint16_t pad2;
};
_Static_assert(sizeof(struct gnttab_query_size) == 16, "query_size size");
_Static_assert(offsetof(struct gnttab_query_size, nr_frames) == 4, "qs nr_frames");
_Static_assert(offsetof(struct gnttab_query_size, max_nr_frames) == 8, "qs max");
_Static_assert(offsetof(struct gnttab_query_size, status) == 12, "qs status");

struct gnttab_set_version {
	uint32_t version;        /* IN/OUT: 1 (Keel supports v1 only) */
};

struct gnttab_get_version {
	domid_t dom;
	uint16_t pad;
	uint32_t version;        /* OUT */
};

/* Exchanges two entries of the caller's own table (neither in use). */
struct gnttab_swap_grant_ref {
	grant_ref_t ref_a;       /* IN */
	grant_ref_t ref_b;       /* IN */
	int16_t status;          /* OUT: GNTST_* */
	uint16_t pad;
};
_Static_assert(sizeof(struct gnttab_swap_grant_ref) == 12, "swap_grant_ref size");
_Static_assert(offsetof(struct gnttab_swap_grant_ref, status) == 8, "swap status");

#endif
