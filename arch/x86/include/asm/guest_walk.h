/*
 * The guest page-table walk behind gva_to_gpa (asm/guest_mem.h), as a pure
 * function of the paging registers and a reader of guest-physical memory,
 * so it can be tested on hand-built tables (tests/unit/test_guest_walk.c).
 * Implemented in arch/x86/guest_walk.c; only guest_mem.c and the tests use
 * it.
 */
#ifndef ASM_GUEST_WALK_H
#define ASM_GUEST_WALK_H

#include <lib/types.h>

/* What decides how a vCPU translates a linear address. */
struct guest_paging {
	u64 cr0, cr3, cr4, efer;
	unsigned cpl; /* 0..3; 3 makes every access a user access */
};

/*
 * Reads the naturally aligned little-endian value of `size` bytes (4 or 8)
 * at guest-physical `gpa` into *val. 0, or -EFAULT if it is not readable
 * guest RAM.
 */
typedef int (*guest_read_fn)(void *ctx, gpa_t gpa, unsigned size, u64 *val);

/*
 * Translates `va` as the vCPU would for an access of kind `access` (PT_R,
 * PT_W and/or PT_X of asm/paging.h): paging off (gva == gpa, 32 bits),
 * 32-bit paging (4 MiB pages with CR4.PSE), PAE, 4-level paging. Checks
 * P, R/W (user writes always, supervisor writes with CR0.WP), U/S (CPL 3)
 * and XD (with EFER.NXE). Returns 0 and *gpa, or -EFAULT (not mapped, not
 * permitted, a table not readable, a non-canonical address, 5-level
 * paging). Sets no accessed/dirty bits.
 */
int guest_walk(const struct guest_paging *gp, gva_t va, unsigned access,
	       guest_read_fn read, void *ctx, gpa_t *gpa);

#endif
