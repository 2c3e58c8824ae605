/*
 * Ownership and reference counts of RAM frames (kernel/page.c), the
 * bookkeeping that lets a domain's memory be returned to the allocator
 * when it dies and keeps a granted page alive while another domain maps it.
 *
 * One struct page_info per frame below the top of RAM, indexed by frame
 * number (Xen's frame_table, much smaller). A frame given to a domain has
 * owner = domain id and refs = 1 (the owner's own reference); every grant
 * mapping or foreign mapping of it by another domain takes one more.
 * page_put() that drops the last reference frees the frame.
 */
#ifndef KEEL_PAGE_H
#define KEEL_PAGE_H

#include <lib/types.h>

#define PAGE_OWNER_NONE 0xffff /* free, hypervisor-owned or not RAM */

struct page_info {
	u16 owner; /* domain id or PAGE_OWNER_NONE */
	u16 flags;
	u32 refs;
};

/* Sets up the table for frames below `top`. 0 or -ENOMEM. Call once,
 * after frame_init. */
int page_table_init(paddr_t top);

/* The page_info of the frame at pa, or NULL above the top of RAM. */
struct page_info *page_of(paddr_t pa);

/* Allocates a zeroed frame for domain `owner` (refs = 1). 0 if none. */
paddr_t page_alloc_for(u16 owner);

/* Marks an already-allocated frame as owned by `owner` (refs = 1); used
 * for dom0's 1:1 RAM, which is taken from the allocator at boot. */
void page_assign(paddr_t pa, u16 owner);

/* page_assign for the n frames from pa (a run the caller took from the
 * allocator): one bounds check for the run, not one lookup per frame
 * (dom0's RAM is most of the boot's work, docs/PERFORMANCE.md). */
void page_assign_run(paddr_t pa, u64 n, u16 owner);

/* Takes a reference on a frame owned by `owner`. -EINVAL if pa is not a
 * frame owned by that domain (the caller must not then use it),
 * -EOVERFLOW on refcount overflow. */
int page_get(paddr_t pa, u16 owner);

/* Drops a reference; the last one frees the frame to the allocator. */
void page_put(paddr_t pa);

/* Frames owned by domain id (for accounting checks). */
u64 pages_owned_by(u16 owner);

/* Drops one reference (the owner's) on every frame owned by `owner`, for
 * a dying domain. Returns how many of them are still allocated after
 * that (held by another domain's mapping). */
u64 pages_put_owner_refs(u16 owner);

#endif
