/*
 * Zeroing frames for the allocator (keel/frame.h): through the direct map.
 * Apart from frame.c so that the allocator's host unit test, whose
 * "physical" addresses are not memory it may write, compiles frame.c as it
 * is and checks what gets zeroed instead (tests/unit/test_frame.c).
 */
#include <keel/frame.h>
#include <lib/string.h>

void frame_zero(paddr_t pa, u64 n)
{
	memset(phys_to_virt(pa), 0, n * PAGE_SIZE);
}
