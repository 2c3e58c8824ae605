/*
 * The physical frame allocator: one bit per 4 KiB frame of RAM, built from
 * the boot memory map. Firmware, ACPI, the hypervisor image, the modules
 * and the first MiB are reserved at init.
 */
#ifndef KEEL_FRAME_H
#define KEEL_FRAME_H

#include <lib/types.h>
#include <keel/boot_info.h>

/*
 * Builds the allocator from a sanitized memory map (see mmap.h): frames in
 * usable ranges become free, everything else reserved. `bitmap` must hold
 * one bit per frame below `top` (the end of the highest usable range).
 * Returns 0, or -ENOMEM when the map has no usable RAM.
 */
int frame_init(const struct boot_mem_range *map, unsigned n, u64 *bitmap,
	       paddr_t top);

/* Marks [base, base+len) as in use (rounded outward to frames). */
void frame_reserve(paddr_t base, u64 len);

/* One zeroed frame, or 0 when none is free. */
paddr_t frame_alloc(void);

/* `n` contiguous zeroed frames aligned to `align` bytes (a power of two,
 * >= PAGE_SIZE), or 0. */
paddr_t frame_alloc_contig(u64 n, u64 align);

/* Returns frames to the allocator. Freeing a free frame is a hypervisor
 * bug (panic in the hypervisor, assertion in unit tests). */
void frame_free(paddr_t pa);
void frame_free_contig(paddr_t pa, u64 n);

/* True if the frame at pa is allocated or reserved. */
bool frame_in_use(paddr_t pa);

/* How many free frames follow from pa (page aligned) on, at most max. */
u64 frame_free_run(paddr_t pa, u64 max);

u64 frames_free(void);
u64 frames_total(void); /* usable frames known to the allocator */

/* The allocator's environment: zeroes `n` frames at `pa`, which frame_alloc
 * and frame_alloc_contig do before they hand frames out. The hypervisor's
 * writes through the direct map (frame_zero.c); the allocator's host unit
 * test, whose frames are not memory, records the calls instead. */
void frame_zero(paddr_t pa, u64 n);

/* Direct map: the hypervisor runs identity-mapped. */
static inline void *phys_to_virt(paddr_t pa) { return (void *)(uintptr_t)pa; }
static inline paddr_t virt_to_phys(const void *va) { return (paddr_t)(uintptr_t)va; }

#endif
