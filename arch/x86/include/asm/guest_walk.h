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
 * and XD (with EFER.NXE). Returns 0 and *gpa, or what the CPU would raise:
 * -EFAULT a not-present #PF (an entry without P, or a table that is not
 * readable guest RAM), -EACCES a protection #PF (every entry present, the
 * access not permitted), -EINVAL #GP (a non-canonical address; 5-level
 * paging, which Keel does not walk, is refused the same way). Sets no
 * accessed/dirty bits.
 */
int guest_walk(const struct guest_paging *gp, gva_t va, unsigned access,
	       guest_read_fn read, void *ctx, gpa_t *gpa);

/* #PF error-code bits (SDM vol. 3 4.7). */
#define PFEC_P (1u << 0)
#define PFEC_W (1u << 1)
#define PFEC_U (1u << 2)
#define PFEC_I (1u << 4)

/* The #PF error code for a walk under gp for `access` that returned rc
 * (-EFAULT or -EACCES). */
u32 guest_walk_pfec(const struct guest_paging *gp, unsigned access, int rc);

#endif
