/*
 * The shared walker's environment in the hypervisor (asm/paging.h): table
 * pages are frames from the allocator, reached by the direct map. Apart
 * from paging.c so that the host unit tests, which compile paging.c as it
 * is, give the walker tables from the C heap instead (tests/unit/
 * test_paging.c, test_ept.c).
 */
#include <keel/frame.h>
#include <asm/paging.h>

paddr_t pt_alloc_table(void)
{
	return frame_alloc(); /* zeroed, or 0 */
}

void pt_free_table(paddr_t pa)
{
	frame_free(pa);
}

void *pt_table_ptr(paddr_t pa)
{
	return phys_to_virt(pa);
}
