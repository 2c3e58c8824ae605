/*
 * Access to a guest's memory from the hypervisor.
 *
 * Guest-physical accesses go through the domain's p2m; guest-virtual ones
 * first walk the guest's own page tables as the vCPU would (paging off:
 * gva == gpa; 32-bit non-PAE, PAE and 4-level paging with 2 MiB / 4 MiB /
 * 1 GiB pages; present, write (CR0.WP), user (CPL 3) and NX checked).
 * Hypercall pointer arguments are guest-virtual (Xen uses
 * hvm_copy_*_guest_linear), so hypercalls use copy_{from,to}_guest.
 * Nothing here trusts the guest: every page is translated and checked
 * separately, so a buffer that crosses into unmapped memory fails.
 */
#ifndef ASM_GUEST_MEM_H
#define ASM_GUEST_MEM_H

#include <lib/types.h>

struct vcpu;
struct domain;

/* Access kinds for gva_to_gpa (PT_R / PT_W / PT_X of asm/paging.h). */

/* Translates a guest-virtual address. 0, or guest_walk's error
 * (asm/guest_walk.h: -EFAULT not present, -EACCES not permitted, -EINVAL
 * non-canonical). */
int gva_to_gpa(struct vcpu *v, gva_t va, unsigned access, gpa_t *gpa);

struct guest_paging;

/* v's paging registers and CPL, as its page walks see them. */
void vcpu_paging(struct vcpu *v, struct guest_paging *gp);

/* The answer of v's cached instruction-fetch walk for va under the paging
 * registers gp, if that walk still holds (every guest entry it read is
 * unchanged, the p2m too: guest_mem.c `walk`); false means "do the walk",
 * not "unmapped". */
bool gva_fetch_cached(struct vcpu *v, const struct guest_paging *gp, gva_t va, gpa_t *gpa);

/* 0 or -EFAULT (nothing is guaranteed about partly copied bytes). */
int copy_from_guest(struct vcpu *v, void *dst, gva_t src, size_t len);
int copy_to_guest(struct vcpu *v, gva_t dst, const void *src, size_t len);

/* 0 when copy_to_guest(v, dst, .., len) would succeed, -EFAULT when it
 * would not; writes nothing (INS checks its destination before it reads
 * the port). */
int guest_check_writable(struct vcpu *v, gva_t dst, size_t len);

/* copy_to_guest as a supervisor access whatever v's CPL (the areas the
 * hypervisor updates on its own: runstate, secondary vcpu_time_info). */
int copy_to_guest_kernel(struct vcpu *v, gva_t dst, const void *src, size_t len);

/*
 * After a copy_{from,to}_guest of [va, va+len) (len >= 1) for `access`
 * (PT_R or PT_W) failed on behalf of an instruction v is executing:
 * injects the exception a CPU would raise if v's own page tables refuse
 * the access (#PF with its error code and CR2, or #GP(0) for a
 * non-canonical address) and returns true; false when they allow it (the
 * p2m refused: no fault a real CPU would give, the caller decides).
 */
bool guest_inject_access_fault(struct vcpu *v, gva_t va, size_t len, unsigned access);

/* Guest-physical: 0 or -EFAULT when any byte is not RAM mapped with the
 * needed permission in d's p2m. */
int copy_from_gpa(struct domain *d, void *dst, gpa_t src, size_t len);
int copy_to_gpa(struct domain *d, gpa_t dst, const void *src, size_t len);
/* Zeroes [dst, dst+len) of d's RAM, a page at a time: 0 or -EFAULT as
 * copy_to_gpa. */
int clear_gpa(struct domain *d, gpa_t dst, size_t len);

/* The hypervisor's pointer to [gpa, gpa+len) (within one page) of d's RAM
 * mapped readable in its p2m, or NULL. Valid until d's p2m or RAM changes
 * (d->mem_gen): use it at once. */
const void *gpa_read_ptr(struct domain *d, gpa_t gpa, size_t len);

#endif
