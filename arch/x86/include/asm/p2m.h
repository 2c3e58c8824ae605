/*
 * A domain's guest-physical map (NPT on AMD, EPT on Intel), through the
 * shared walker with the bound vendor's entry format. Every change is
 * followed by the vendor's flush before the domain runs again.
 *
 * Held entries. A 4 KiB entry may hold something besides the translation
 * (PT_HELD_*, asm/paging.h), and the p2m is the one place that makes sure
 * it is never lost, whoever changes the map:
 *  - PT_HELD_FOREIGN: one page reference on another domain's frame
 *    (XENMEM_add_to_physmap_batch). Removing the entry (p2m_unmap, or the
 *    p2m's destruction) drops that reference, so a dying owner is reaped.
 *  - PT_HELD_GRANT: a grant mapping; its reference and pin belong to the
 *    mapper's maptrack (kernel/grant_table.c), which alone removes it
 *    (p2m_unmap_grant). Anything else that would remove it is refused.
 * So p2m_map and p2m_unmap refuse a range holding a grant entry (-EBUSY,
 * nothing changed, one log line) and drop the reference of each foreign
 * entry they replace or remove (p2m_map logs it: the holder did not ask
 * for it). Callers that would rather refuse both kinds (a BAR move, a
 * populate) ask p2m_check_replace first. A destroyed p2m (a dying
 * domain) refuses every change with -ESRCH.
 */
#ifndef ASM_P2M_H
#define ASM_P2M_H

#include <lib/types.h>
#include <asm/paging.h>

struct domain;

int p2m_init(struct domain *d);

/* Drops the reference of every foreign entry, then frees the tables. */
void p2m_destroy(struct domain *d);

/*
 * pt_map's contract, plus the rules above: -EBUSY (nothing changed) if
 * [gpa, gpa+size) holds a grant entry; foreign entries there are
 * replaced and their references dropped; -ESRCH after p2m_destroy.
 * `perms` may carry one PT_HELD_* bit for a single page (size PAGE_SIZE,
 * else -EINVAL): the caller has taken what the entry holds (the page
 * reference, or the grant pin), and keeps it if the map fails.
 */
int p2m_map(struct domain *d, gpa_t gpa, paddr_t hpa, u64 size,
	    unsigned perms, enum memtype mt);

/*
 * pt_unmap's contract, plus: a foreign entry in the range goes with its
 * page reference; a grant entry makes the whole call fail with -EBUSY
 * before anything changed (logged). -ESRCH after p2m_destroy.
 */
int p2m_unmap(struct domain *d, gpa_t gpa, u64 size);

/* Removes the grant entry at gpa mapping hpa, leaving its reference to
 * the caller (the maptrack). -ENOENT if gpa holds no grant entry of
 * hpa. For kernel/grant_table.c only. */
int p2m_unmap_grant(struct domain *d, gpa_t gpa, paddr_t hpa);

/*
 * 0 if [gpa, gpa+size) holds no held entry of either kind, else -EBUSY
 * and one log line (`what` names the refused change in it); -ESRCH after
 * p2m_destroy. For changes that would rather not replace a foreign
 * mapping either, and must refuse before they change anything else (a
 * BAR move reprograms the device first, a populate allocates first).
 */
int p2m_check_replace(struct domain *d, gpa_t gpa, u64 size, const char *what);

/* pt_lookup's contract; *perms includes the PT_HELD_* bits. */
int p2m_lookup(struct domain *d, gpa_t gpa, paddr_t *hpa, unsigned *perms);

#endif
