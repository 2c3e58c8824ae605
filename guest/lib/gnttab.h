/*
 * Grant tables v1 from a Keel guest (guest/lib/gnttab.c): the guest half
 * of Xen's public/grant_table.h, written the way Linux's
 * drivers/xen/grant-table.c does it, so that what works here works for a
 * Linux frontend or backend too.
 *
 * Granting (frontend side):
 *     gnttab_init(si, 1);                         once
 *     ref = gnttab_grant_access(peer, virt_to_gfn(page), readonly);
 *     ... give `ref` to the peer ...
 *     if (gnttab_end_access(ref)) gnttab_free_ref(ref);   else: still mapped
 *
 * Using a grant (backend side):
 *     struct gnttab_map_grant_ref op;
 *     gnttab_set_map_op(&op, gnttab_slot_gpa(0), GNTMAP_host_map, ref, peer);
 *     gnttab_map_refs(&op, 1);  op.status == GNTST_okay -> gnttab_slot_va(0)
 *     gnttab_set_unmap_op(&u, gnttab_slot_gpa(0), op.handle);
 *     gnttab_unmap_refs(&u, 1);
 *
 * Where things live: gnttab_init() picks an 8 MiB guest-physical window
 * that is a hole in the guest's memory map (high in the physical address
 * space, below MAXPHYADDR), maps it in the guest's identity page tables,
 * places the table frames in its first GNTTAB_TABLE_SLOTS pages with
 * XENMEM_add_to_physmap (as Linux PVH places them at guest frames it
 * chooses), and leaves the other GNTTAB_MAP_SLOTS pages as places to map
 * other domains' grants (the hypervisor maps a grant only into a hole of
 * the caller's p2m). Keel guests are identity-mapped, so a pointer to RAM
 * is its guest-physical address and virt_to_gfn() is its frame.
 *
 * Single vCPU, no locking: the caller serialises.
 */
#ifndef GUEST_GNTTAB_H
#define GUEST_GNTTAB_H

#include <lib/types.h>
#include <public/grant_table.h>
#include <public/start_info.h>
#include "hypercall.h"

/* 36 MiB: room for dom0's backends' mappings, blkback's persistent
 * grants among them (8 exports x 1,056 slots, docs/pvblk.md); eighteen
 * 2 MiB entries of the guest's page tables, no RAM. */
#define GNTTAB_AREA_SIZE   (18 * SZ_2M)
#define GNTTAB_TABLE_SLOTS 32  /* table frames: Keel's GNTTAB_MAX_FRAMES */
#define GNTTAB_MAP_SLOTS   (GNTTAB_AREA_SIZE / PAGE_SIZE - GNTTAB_TABLE_SLOTS)
#define GNTTAB_ENTRIES_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))

static inline long HYPERVISOR_grant_table_op(unsigned cmd, void *uop, unsigned count)
{
	return hypercall6(__HYPERVISOR_grant_table_op, cmd, (u64)(uintptr_t)uop, count, 0, 0);
}

static inline u64 virt_to_gfn(const void *p)
{
	return (u64)(uintptr_t)p >> PAGE_SHIFT;
}

/*
 * Sets up the calling domain's table with nr_frames frames (at most
 * GNTTAB_TABLE_SLOTS) and the mapping window (above). Returns 0, -ENOSPC
 * when no hole for the window was found, -ENOMEM when the guest's page
 * tables ran out, or the error of GNTTABOP_query_size (as -errno, or
 * -EINVAL for a bad status) / XENMEM_add_to_physmap.
 */
int gnttab_init(const struct hvm_start_info *si, unsigned nr_frames);

/* After gnttab_init: the window's guest-physical base, the number of
 * frames placed, and the number of refs they hold. */
u64 gnttab_area_gpa(void);
unsigned gnttab_nr_frames(void);
unsigned gnttab_nr_refs(void);

/* Entry `ref` of the table (ref < gnttab_nr_refs()). */
struct grant_entry_v1 *gnttab_entry(grant_ref_t ref);

/* The mapping slots: guest-physical address and pointer of slot i
 * (i < GNTTAB_MAP_SLOTS), a hole until something is mapped there. */
u64 gnttab_slot_gpa(unsigned i);
void *gnttab_slot_va(unsigned i);

/*
 * Refs for the caller's own grants: the lowest free ref at or above
 * GNTTAB_NR_RESERVED_ENTRIES (0..7 are the toolstack's), or -ENOSPC.
 * gnttab_free_ref() returns one (its entry must have been ended).
 */
int gnttab_alloc_ref(void);
void gnttab_free_ref(grant_ref_t ref);

/* Fills entry ref for domid: domid and frame first, a write barrier,
 * then flags = GTF_permit_access [| GTF_readonly] (Linux's order: the
 * hypervisor must never see a valid entry with a stale frame). */
void gnttab_grant_access_ref(grant_ref_t ref, domid_t domid, u64 gfn, bool readonly);

/* gnttab_alloc_ref + gnttab_grant_access_ref: the ref, or -ENOSPC. */
int gnttab_grant_access(domid_t domid, u64 gfn, bool readonly);

/*
 * Revokes entry ref: flags become 0 with a compare-and-exchange that
 * succeeds only while neither GTF_reading nor GTF_writing is set (Linux
 * gnttab_end_foreign_access_ref_v1). True when revoked; false while the
 * peer still maps (or copies) it: nothing changed, try again later.
 */
bool gnttab_end_access(grant_ref_t ref);

/* The entry's flags as the hypervisor left them (one atomic read). */
u16 gnttab_flags(grant_ref_t ref);

/* Operation builders (Linux gnttab_set_map_op / gnttab_set_unmap_op, for
 * an auto-translated guest: addr is a guest-physical address). */
void gnttab_set_map_op(struct gnttab_map_grant_ref *op, u64 addr, u32 flags,
		       grant_ref_t ref, domid_t dom);
void gnttab_set_unmap_op(struct gnttab_unmap_grant_ref *op, u64 addr,
			 grant_handle_t handle);

/* The batched operations: the hypercall's return value (0, or -EFAULT,
 * -EINVAL, -ENOSYS); each element's own GNTST_* status is in it. */
long gnttab_map_refs(struct gnttab_map_grant_ref *ops, unsigned n);
long gnttab_unmap_refs(struct gnttab_unmap_grant_ref *ops, unsigned n);
long gnttab_copy(struct gnttab_copy *ops, unsigned n);

/* GNTTABOP_query_size for dom: the hypercall's return value; *out holds
 * the status and sizes. */
long gnttab_query_size(domid_t dom, struct gnttab_query_size *out);

/* "okay", "general_error", "bad_gntref", ... for a GNTST_* value. */
const char *gntst_name(int status);

#endif
