/*
 * A domain's guest-physical map (NPT on AMD, EPT on Intel), through the
 * shared walker with the bound vendor's entry format. Every change is
 * followed by the vendor's flush before the domain runs again.
 */
#ifndef ASM_P2M_H
#define ASM_P2M_H

#include <keel/types.h>
#include <asm/paging.h>

struct domain;

int p2m_init(struct domain *d);
void p2m_destroy(struct domain *d);
/* Same contracts as pt_map/pt_unmap/pt_protect/pt_lookup. */
int p2m_map(struct domain *d, gpa_t gpa, paddr_t hpa, u64 size,
	    unsigned perms, enum memtype mt);
int p2m_unmap(struct domain *d, gpa_t gpa, u64 size);
int p2m_protect(struct domain *d, gpa_t gpa, u64 size, unsigned perms);
int p2m_lookup(struct domain *d, gpa_t gpa, paddr_t *hpa, unsigned *perms);

#endif
