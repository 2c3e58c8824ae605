/*
 * One page-table walker for every x86 4-level format Keel builds: the
 * hypervisor's own tables, AMD nested page tables and Intel EPT. A format
 * describes how one entry is encoded; the walker (arch/x86/paging.c) does
 * the rest: large pages where alignment allows, splitting a large page when
 * part of it is unmapped or re-protected, freeing empty tables.
 *
 * Levels are numbered 1 (4 KiB leaf / PT) to 4 (PML4). A leaf at level 2 is
 * a 2 MiB page, at level 3 a 1 GiB page.
 */
#ifndef ASM_PAGING_H
#define ASM_PAGING_H

#include <lib/types.h>

/* Permissions of a mapping. PT_U marks a host mapping as user-accessible;
 * formats without a user bit ignore it. */
#define PT_R 1u
#define PT_W 2u
#define PT_X 4u
#define PT_U 8u
#define PT_RWX (PT_R | PT_W | PT_X)

/*
 * What a leaf holds, for the hypervisor's bookkeeping (never seen by the
 * MMU: each format keeps them in bits the hardware ignores, 52 and 53 in
 * both the long-mode/NPT format, SDM vol. 3 table 4-19 / APM 5.4.1, and
 * EPT, SDM vol. 3 table 29-6). A p2m entry carrying one of them holds a
 * page reference on a frame of another domain (or a grant of its own),
 * so it may not disappear silently: the rules are asm/p2m.h's. They ride
 * along with the permissions: pt_map encodes them, pt_lookup and the
 * walk report them, pt_protect and large-page splits keep them.
 */
#define PT_HELD_FOREIGN 16u /* a foreign mapping (XENMAPSPACE_gmfn_foreign) */
#define PT_HELD_GRANT 32u   /* a grant mapping (GNTTABOP_map_grant_ref) */
#define PT_HELD (PT_HELD_FOREIGN | PT_HELD_GRANT)

enum memtype {
	MT_WB = 0, /* ordinary RAM */
	MT_UC = 1, /* device memory */
};

struct pt_format {
	const char *name;
	/* Encode a leaf at `level` (1..3) mapping `pa` with `perms`/`mt`. */
	u64 (*leaf)(paddr_t pa, unsigned level, unsigned perms, enum memtype mt);
	/* Encode a non-leaf entry pointing at the table at `pa`. */
	u64 (*table)(paddr_t pa);
	bool (*present)(u64 e);
	/* True when `e` (present, at level 2 or 3) maps a large page. */
	bool (*is_large)(u64 e);
	/* Physical address an entry points at (table or page). */
	paddr_t (*addr)(u64 e, unsigned level);
	unsigned (*perms)(u64 e);
	enum memtype (*memtype)(u64 e);
};

struct pt {
	const struct pt_format *fmt;
	paddr_t root;            /* PML4 (or EPT PML4) physical address */
	unsigned max_leaf_level; /* 2: 2 MiB pages only; 3: 1 GiB pages too */
	u32 nr_tables;           /* table frames in use, root included */
	u32 max_tables;          /* 0: no limit; else pt_map/unmap/protect
				  * fail with -ENOMEM rather than exceed it */
};

/*
 * Environment the walker needs; the hypervisor implements these with the
 * frame allocator and its direct map (paging_frames.c), the unit tests
 * with the C heap.
 * pt_alloc_table returns a zeroed 4 KiB table's physical address, 0 when
 * memory is exhausted.
 */
paddr_t pt_alloc_table(void);
void pt_free_table(paddr_t pa);
void *pt_table_ptr(paddr_t pa);

/* Allocates an empty root. Returns 0 or -ENOMEM. */
int pt_init(struct pt *pt, const struct pt_format *fmt, unsigned max_leaf_level);

/*
 * Maps [va, va+size) to [pa, pa+size) with `perms`; replaces any mapping
 * already there. va, pa and size must be 4 KiB aligned (-EINVAL otherwise).
 * Uses 2 MiB / 1 GiB leaves where va, pa and the remaining size allow.
 * Returns 0, -EINVAL or -ENOMEM (the range may then be partly mapped).
 */
int pt_map(struct pt *pt, u64 va, paddr_t pa, u64 size, unsigned perms,
	   enum memtype mt);

/* Removes every mapping in [va, va+size); large pages that straddle the
 * boundary are split. Unmapped holes are fine. 0, -EINVAL or -ENOMEM. */
int pt_unmap(struct pt *pt, u64 va, u64 size);

/* Changes the permissions of the mapped pages in [va, va+size), splitting
 * large pages at the boundaries. -ENOENT if any page there is unmapped
 * (pages before it were changed). */
int pt_protect(struct pt *pt, u64 va, u64 size, unsigned perms);

/* Translates va. Returns 0 and fills whichever out-pointers are non-NULL
 * (pa of va itself, not of the page; perms; leaf level), or -ENOENT. */
int pt_lookup(const struct pt *pt, u64 va, paddr_t *pa, unsigned *perms,
	      unsigned *level);

/*
 * Calls fn(va, pa, perms, level, arg) for every leaf that overlaps
 * [va, va+size), in address order (va and pa of the leaf's start; holes
 * are skipped a whole table at a time). Stops at the first non-zero
 * return and returns it; 0 when every leaf was visited. fn must not
 * change the tables. -EINVAL for a range the walker does not cover.
 */
int pt_walk(const struct pt *pt, u64 va, u64 size,
	    int (*fn)(u64 va, paddr_t pa, unsigned perms, unsigned level, void *arg),
	    void *arg);

/* Frees every table (never the mapped pages). pt->root becomes 0. */
void pt_destroy(struct pt *pt);

/* The hypervisor's own format (long-mode paging with NX). AMD NPT uses the
 * same encoding with U set on every entry: svm/npt.c wraps it. */
extern const struct pt_format x86_pt_format;
/* The same encoding, but every entry has U set (AMD APM 15.25.5: nested
 * page walks are user accesses). */
extern const struct pt_format x86_pt_format_user;

#endif
