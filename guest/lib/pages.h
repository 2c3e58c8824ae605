/*
 * A page allocator over the guest's RAM (guest/lib/pages.c), for DMA
 * buffers and other memory a guest needs in page units.
 *
 * It manages one pool: the largest stretch of RAM in the start_info
 * memory map above the guest's image (and above 1 MiB), clear of the
 * start_info area and the modules, below 4 GiB (where the guest's
 * identity map reaches), at most POOL_MAX_PAGES. Runs of pages are
 * physically contiguous in the guest's address space; in dom0, which is
 * mapped 1:1, that is host-physical memory a device can DMA to.
 *
 * Not thread-safe (guests here are single-vCPU, and the allocator is not
 * used from interrupt context).
 */
#ifndef GUEST_PAGES_H
#define GUEST_PAGES_H

#include <lib/types.h>
#include <public/start_info.h>

/* Chooses the pool. Returns the number of pages it manages (0: no RAM
 * found, every allocation then fails). Idempotent. */
u64 pages_init(const struct hvm_start_info *si);

/* n contiguous, zeroed pages aligned to `align` bytes (a power of two,
 * at least PAGE_SIZE; 0 means PAGE_SIZE), or NULL. */
void *pages_alloc(u64 n, u64 align);

/* Returns n pages from pages_alloc (a whole run or part of one). Freeing
 * what was not allocated is reported and ignored. */
void pages_free(void *p, u64 n);

/* The pool's size in pages. */
u64 pages_total(void);

/* Pages of the pool not allocated now (leak checks). */
u64 pages_free_count(void);

/* The guest-physical address of a pointer into the identity map (the
 * address a device is given for DMA in dom0). */
static inline u64 virt_to_phys(const void *p)
{
	return (u64)(uintptr_t)p;
}

static inline void *phys_to_virt(u64 pa)
{
	return (void *)(uintptr_t)pa;
}

#endif
