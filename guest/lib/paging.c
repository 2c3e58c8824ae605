/*
 * Changes to the identity map that pvh_entry.asm builds (4-level, 2 MiB
 * pages; contract in guest.h). Used by tests that need a hole in the
 * guest's own page tables or a mapping above 4 GiB.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "cpu.h"
#include "guest.h"

#define PT_POOL_PAGES 8
#define PT_ADDR_MASK  0x000ffffffffff000ULL

static u64 pt_pool[PT_POOL_PAGES][512] __aligned(PAGE_SIZE);
static unsigned pt_pool_used;

static u64 *table_at(u64 entry)
{
	return (u64 *)(uintptr_t)(entry & PT_ADDR_MASK);
}

/* The next-level table under entry *e, created from the pool if absent. */
static u64 *next_table(u64 *e, bool create)
{
	u64 *t;

	if (*e & PTE_P)
		return table_at(*e);
	if (!create || pt_pool_used == PT_POOL_PAGES)
		return NULL;
	t = pt_pool[pt_pool_used++];
	memset(t, 0, PAGE_SIZE);
	*e = (u64)(uintptr_t)t | PTE_P | PTE_RW;
	return t;
}

/* The page-directory entry for va, or NULL. */
static u64 *pde_for(u64 va, bool create)
{
	u64 *pml4 = table_at(read_cr3());
	u64 *pdpt, *pd;

	pdpt = next_table(&pml4[(va >> 39) & 511], create);
	if (!pdpt)
		return NULL;
	pd = next_table(&pdpt[(va >> 30) & 511], create);
	if (!pd)
		return NULL;
	return &pd[(va >> 21) & 511];
}

int pt_map_2m(u64 va, u64 pa, u64 flags)
{
	u64 *pde;

	if (!IS_ALIGNED(va, SZ_2M) || !IS_ALIGNED(pa, SZ_2M))
		return -EINVAL;
	pde = pde_for(va, true);
	if (!pde)
		return -ENOMEM;
	*pde = pa | flags | PTE_P | PTE_PS;
	invlpg(va);
	return 0;
}

int pt_unmap_2m(u64 va)
{
	u64 *pde = pde_for(va, false);

	if (!pde || !(*pde & PTE_P))
		return -ENOENT;
	*pde = 0;
	invlpg(va);
	return 0;
}
