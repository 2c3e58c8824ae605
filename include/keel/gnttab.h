/*
 * Grant tables, version 1 (Xen public/grant_table.h; docs/xen-abi.md
 * section 5). A domain lets another one map or copy one of its pages by
 * filling an entry of its own grant table; the hypervisor checks the entry
 * on every use and marks it in use (GTF_reading / GTF_writing) while
 * another domain holds it.
 *
 * Three layers:
 *  - kernel/grant_check.c: the pure rules (entry checks and flag updates,
 *    pin counts, the maptrack handle allocator), host-unit-tested;
 *  - kernel/grant_table.c: per-domain tables, map/unmap/copy on kernel
 *    structures, domain init/destroy, the hook for XENMEM_add_to_physmap;
 *  - kernel/hc_grant.c: grant_table_op (hypercall 20): guest memory,
 *    batches, continuations.
 *
 * Terms (Xen's): the *granting* domain (rd, "remote") owns the page and
 * the table entry; the *mapping* domain (ld, "local") maps or copies it.
 * A *pin* is one use of an entry by ld (a mapping, or a copy while it
 * runs); the first pin fixes the host frame behind the entry, so the
 * granter cannot swap the page under a mapping.
 *
 * Keel's guests are all auto-translated (PVH): a mapping goes into the
 * mapper's p2m at a guest-physical address it chooses (host_addr), which
 * must be a hole there (see gnttab_map). dev_bus_addr is the frame's
 * host-physical address (what dom0's 1:1 drivers give to DMA engines).
 *
 * Concurrency: one physical CPU runs everything today, with interrupts
 * off in the hypervisor. The shared entry is nevertheless updated only
 * with atomic compare-and-exchange (the granting guest may write it at
 * any time on another CPU once SMP lands); the per-domain structures will
 * need the per-table lock Xen has (grant_rwlock) at that point.
 */
#ifndef KEEL_GNTTAB_H
#define KEEL_GNTTAB_H

#include <lib/types.h>
#include <public/grant_table.h>

struct domain;

/* Xen's default is 64 (opt_max_grant_frames); 32 frames = 16384 refs is
 * plenty for Keel's guests and what query_size reports as the maximum. */
#define GNTTAB_MAX_FRAMES 32
#define GNTTAB_ENTRIES_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))
/* Frames a new domain starts with (Xen: INITIAL_NR_GRANT_FRAMES). */
#define GNTTAB_INITIAL_FRAMES 1

/* Guest-physical addresses the p2m can hold (4-level tables: 48 bits). */
#define GNTTAB_GPA_LIMIT (1ULL << 48)

/* setup_table's frame_list value for a frame not placed in the guest's
 * physical map (Xen's INVALID_GFN / INVALID_M2P_ENTRY). */
#define GNTTAB_INVALID_GFN (~0ULL)

/* ---- the pure rules (kernel/grant_check.c) ----------------------------- */

/* Most pins of one kind (read-only or writable) an entry can carry; one
 * more is GNTST_general_error, as Xen's counter-overflow check. */
#define GNTTAB_PIN_MAX 0xffffu

/* Hypervisor-private state of one grant entry (Xen: active_grant_entry). */
struct grant_active {
	u16 pin_ro;     /* read-only pins: mappings and copies from it */
	u16 pin_rw;     /* writable pins */
	domid_t domid;  /* the domain holding the pins (valid while pinned) */
	u16 pad;
	paddr_t hpa;    /* the frame fixed at the first pin */
};
_Static_assert(sizeof(struct grant_active) == 16, "grant_active size");
#define GNTTAB_ACTIVE_FRAMES_PER_FRAME \
	(GNTTAB_ENTRIES_PER_FRAME * sizeof(struct grant_active) / PAGE_SIZE)

static inline bool grant_pinned(const struct grant_active *act)
{
	return act->pin_ro || act->pin_rw;
}

/* True if ref names an entry of a table of nr_frames frames. */
bool grant_ref_in_range(grant_ref_t ref, unsigned nr_frames);

/*
 * Checks map flags from an auto-translated caller (Xen map_grant_ref and
 * create_grant_p2m_mapping): neither host_map nor device_map ->
 * GNTST_bad_gntref; device_map, application_map or contains_pte ->
 * GNTST_general_error; otherwise GNTST_okay. Other bits are ignored.
 */
s16 grant_map_flags_check(u32 flags);

/*
 * First half of a pin of entry e (with hypervisor state act) by domain
 * ldom, read-only or writable, for a mapping (`mapping`, where
 * GTF_sub_page is refused) or a copy. Does not change the pin counts.
 *
 * If act is pinned, the pinning domain must be ldom and the counter must
 * have room; otherwise GNTST_general_error. When the entry is not yet
 * pinned, or a writable pin is the first writable one, checks the entry
 * (type GTF_permit_access, domid == ldom, not GTF_readonly for a writable
 * pin; Xen _set_status_v1) and sets GTF_reading (| GTF_writing) with a
 * compare-and-exchange of flags+domid, retried a few times if the guest
 * keeps changing the entry, then GNTST_general_error. Every refusal is
 * GNTST_general_error, as in Xen (not GNTST_permission_denied).
 *
 * On GNTST_okay the caller must either grant_pin() or, on a later failure,
 * grant_reduce_status() to undo the flags.
 */
s16 grant_acquire(struct grant_entry_v1 *e, const struct grant_active *act,
		  domid_t ldom, bool readonly, bool mapping);

/* Second half: counts the pin (after a successful grant_acquire). The
 * first pin records ldom and the frame. */
void grant_pin(struct grant_active *act, domid_t ldom, paddr_t hpa, bool readonly);

/* Drops one pin of that kind (the caller knows it exists). */
void grant_unpin(struct grant_active *act, bool readonly);

/*
 * Brings the entry's in-use flags in line with the pins, after an unpin
 * or a failed acquire (Xen reduce_status_for_pin): GTF_reading goes when
 * nothing is pinned; GTF_writing goes, for a writable use, when no
 * writable pin is left. Atomic (the guest may be writing the entry).
 */
void grant_reduce_status(struct grant_entry_v1 *e, const struct grant_active *act,
			 bool readonly);

/* GNTST_okay if [offset, offset + len) lies in one page for both sides
 * of a copy, else GNTST_bad_copy_arg. */
s16 grant_copy_range_check(u16 src_offset, u16 dst_offset, u16 len);

/*
 * The maptrack: a domain's table of the grant mappings it holds, indexed
 * by handle (Xen: struct grant_mapping). Grown a page at a time.
 */
struct grant_mapping {
	grant_ref_t ref;
	u16 flags;       /* GNTMAP_host_map [| GNTMAP_readonly]; 0 = free */
	domid_t domid;   /* the granting domain */
	u32 next_free;   /* free-list link while free */
	u32 pad;
	gpa_t gpa;       /* where the frame is mapped in the holder's p2m */
	paddr_t hpa;     /* the granted frame (holds one page reference) */
};
_Static_assert(sizeof(struct grant_mapping) == 32, "grant_mapping size");

/* Set in grant_mapping.flags when the granting domain was destroyed while
 * this mapping existed: the page stays (its reference is the mapping's),
 * the granter's table is gone. */
#define GRANT_MAPPING_ORPHAN 0x8000u

#define MAPTRACK_PER_FRAME (PAGE_SIZE / sizeof(struct grant_mapping))
/* Privileged domains: 10,240 handles, room for blkback's persistent
 * grants (8 exports x 1,056, docs/pvblk.md) beside netback's and the
 * other backends' mappings. */
#define MAPTRACK_MAX_FRAMES 80
#define MAPTRACK_MAX_FRAMES_DOMU 8 /* 1024 handles: the others */
#define MAPTRACK_NONE 0xffffffffu

struct maptrack {
	struct grant_mapping *frame[MAPTRACK_MAX_FRAMES];
	u32 nr_frames;
	u32 free_head;   /* MAPTRACK_NONE when empty */
	u32 nr_used;
};

/* An empty maptrack (no frames). */
void maptrack_init(struct maptrack *mt);

/* A free handle (its entry still free: the caller fills it), or
 * MAPTRACK_NONE when every entry is in use. */
u32 maptrack_get(struct maptrack *mt);

/* Adds a zeroed page of entries. -ENOSPC at MAPTRACK_MAX_FRAMES. */
int maptrack_add_frame(struct maptrack *mt, void *page);

/* Frees handle h (its entry must be in use). */
void maptrack_put(struct maptrack *mt, u32 h);

/* The entry of handle h, or NULL when h is beyond the table. Free
 * entries have flags == 0. */
struct grant_mapping *maptrack_entry(const struct maptrack *mt, u32 h);

/* ---- per-domain tables (kernel/grant_table.c) --------------------------- */

struct grant_table {
	unsigned nr_frames;                         /* shared frames in use */
	paddr_t shared[GNTTAB_MAX_FRAMES];          /* entries; owned by the domain */
	u64 gfn[GNTTAB_MAX_FRAMES];                 /* placement, or GNTTAB_INVALID_GFN */
	struct grant_active *active[GNTTAB_MAX_FRAMES]; /* hypervisor frames */
	struct maptrack maptrack;                   /* mappings this domain holds */
};

/*
 * Gives d its grant table with GNTTAB_INITIAL_FRAMES frames (pages owned
 * by d, not counted in d->nr_pages: Xen does not count them either).
 * Called by domain_create(), after d->id is set. 0 or -ENOMEM (nothing
 * allocated). A domain whose init was never called has an empty table
 * (0 frames), which grows on first use; everything below works for it.
 */
int gnttab_domain_init(struct domain *d);

/*
 * Tears d's grant state down; call once when d is destroyed (it never
 * runs again), before its id can be reused. Only d->id is read.
 *  - Every mapping d holds is released: the granter's pins and in-use
 *    flags are dropped (a live granter sees GTF_reading/GTF_writing go)
 *    and the page reference is put. d's p2m is not touched (the caller
 *    destroys it; p2m_destroy frees tables, never pages).
 *  - Mappings other domains hold of d's grants stay valid: each keeps its
 *    page reference, so those pages stay allocated (owned by d's id) until
 *    the holder unmaps them or is destroyed itself (Xen keeps a dying
 *    domain's pages until the last reference goes, the same way).
 *  - The hypervisor's own frames (pin counts, maptrack) are freed. d's
 *    table frames are forgotten but not put: they are d's pages with
 *    only the owner's reference, which the caller drops afterwards for
 *    every frame d owns (pages_put_owner_refs, as for its RAM), so a
 *    table frame another domain maps stays until that mapping goes.
 */
void gnttab_domain_destroy(struct domain *d);

/*
 * For XENMEM_add_to_physmap(XENMAPSPACE_grant_table, idx, gpfn): the host
 * frame of d's table frame idx, growing the table to idx + 1 frames first
 * as Xen does (gnttab_get_shared_frame_mfn). 0 and *hpa; -EINVAL when idx
 * >= GNTTAB_MAX_FRAMES (including idx with XENMAPIDX_grant_table_status:
 * v1 has no status frames); -ENOMEM.
 *
 * The frame is RAM owned by d (page_get(hpa, d->id) works) with the
 * owner's reference only, like d's RAM. The caller maps it in d's p2m at gpfn
 * (read/write, MT_WB), replacing what was there by its own rules, then
 * reports the placement with gnttab_frame_placed(). Xen also removes the
 * frame's previous placement (gnttab_frame_gfn) when it moves.
 */
int gnttab_frame_for_physmap(struct domain *d, unsigned long idx, paddr_t *hpa);

/* Records that frame idx now sits at guest frame gfn in d's p2m (for
 * GNTTAB_setup_table's frame_list). Ignored for an idx not in use. */
void gnttab_frame_placed(struct domain *d, unsigned long idx, u64 gfn);

/* Where frame idx sits in d's p2m, or GNTTAB_INVALID_GFN if it was never
 * placed, the placement was replaced since, or idx is not in use. */
u64 gnttab_frame_gfn(struct domain *d, unsigned idx);

/* Frames in d's table. */
unsigned gnttab_nr_frames(const struct domain *d);

/* True if d holds a grant mapping at the page of gpa. Memory operations
 * that would replace a p2m entry should refuse such a page (Xen refuses,
 * crashing the domain); O(mappings held). */
bool gnttab_gpa_is_mapped(struct domain *d, gpa_t gpa);

/* Mappings d holds (in-use maptrack handles). */
unsigned gnttab_nr_mappings(const struct domain *d);

/* ---- operations, for hc_grant.c and the unit tests ---------------------- */

/*
 * The domain `dom` names for a caller (query_size, setup_table,
 * get_version): DOMID_SELF or the caller's own id -> caller; another
 * existing domain -> it, if the caller is the control domain (the rule of
 * keel/priv.h); a dying domain is a bad domain to everyone. Sets *out and
 * returns GNTST_okay, or GNTST_bad_domain / GNTST_permission_denied (Xen:
 * rcu_lock_domain_by_any_id, then the XSM_TARGET check).
 */
s16 gnttab_target(struct domain *caller, domid_t dom, struct domain **out);

/* GNTTABOP_setup_table for target d: grows d's table to nr_frames.
 * GNTST_okay, or GNTST_general_error beyond GNTTAB_MAX_FRAMES or when out
 * of memory. */
s16 gnttab_setup(struct domain *d, u32 nr_frames);

/*
 * GNTTABOP_map_grant_ref by ld; fills op->status and, on success,
 * op->handle and op->dev_bus_addr. In Xen's order of checks:
 * flags (grant_map_flags_check) -> op->dom exists and is not dying
 * (GNTST_bad_domain) -> a free handle (GNTST_no_space; 8192 handles for
 * a privileged domain, 1024 for others, as each mapping may cost p2m
 * table frames from the hypervisor's pool) -> ref in range
 * (GNTST_bad_gntref) -> grant_acquire (GNTST_general_error) -> the
 * entry's frame is RAM the granter owns, writable in its p2m for a
 * writable map (GNTST_bad_page) -> host_addr: page-granular (low bits
 * ignored, as Xen), not page 0, below GNTTAB_GPA_LIMIT and a hole in
 * ld's p2m (GNTST_general_error: Xen silently orphans a RAM page there
 * and crashes the domain over a special one; Keel refuses both and
 * changes nothing). The mapping is read-only or read/write, never
 * executable (Xen's p2m_grant_map_ro/rw), and holds one page reference,
 * so the page cannot be freed while mapped. A domain may map its own
 * grants (Xen does not forbid it).
 */
void gnttab_map(struct domain *ld, struct gnttab_map_grant_ref *op);

/*
 * GNTTABOP_unmap_grant_ref by ld; fills op->status. Unknown or free
 * handle -> GNTST_bad_handle. host_addr 0 -> GNTST_okay and nothing
 * happens (Xen unmaps the host mapping only for a non-zero host_addr).
 * host_addr not the mapping's page, or the p2m entry there no longer the
 * granted frame -> GNTST_general_error. Otherwise removes the p2m entry
 * (flushed), drops the pin (clearing GTF_writing / GTF_reading when it
 * was the last of its kind), puts the page reference and frees the
 * handle. dev_bus_addr is ignored (Xen checks it only for device_map,
 * which auto-translated callers cannot have).
 */
void gnttab_unmap(struct domain *ld, struct gnttab_unmap_grant_ref *op);

/*
 * GNTTABOP_copy by ld; returns the status. len 0 -> GNTST_okay at once.
 * A side given by frame (no GNTCOPY_*_gref) must name DOMID_SELF, else
 * GNTST_permission_denied; an unknown domain -> GNTST_bad_domain. A side
 * by grant is pinned for the copy as a map would be (source read-only,
 * destination writable: GNTST_bad_gntref / GNTST_general_error /
 * GNTST_bad_page); a side by frame must be RAM ld owns (GNTST_bad_page).
 * Then offset + len beyond the page on either side -> GNTST_bad_copy_arg.
 * Pins and references are dropped before returning.
 */
s16 gnttab_copy(struct domain *ld, const struct gnttab_copy *op);

/* GNTTABOP_swap_grant_ref on d's own table: GNTST_bad_gntref for a ref
 * out of range, GNTST_eagain if either entry is pinned, else swaps the
 * two entries (a no-op when a == b). */
s16 gnttab_swap(struct domain *d, grant_ref_t a, grant_ref_t b);

#endif
