/*
 * The environment drivers/ expects (drivers/drv.h), for Keel's guests:
 * logging through printf, DMA memory from the page allocator, device
 * memory through the identity map, time from the TSC.
 *
 * Time: until PV time (vcpu_time_info) is available to the library, the
 * TSC is read as if it ran at DRV_TSC_HZ_MAX. Real TSCs (and QEMU TCG's,
 * which follows the host's) run at most that fast, so the clock runs fast
 * or right, never slow: delays and time-outs last at least what they
 * say (drv.h's contract), at worst a few times longer.
 */
#include <keel/lib.h>
#include "drv.h"
#include "guest.h"
#include "pages.h"

#define DRV_TSC_HZ_MAX 4000000000ULL

int drv_log(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

void *dma_alloc(size_t bytes, size_t align)
{
	if (!pages_total())
		pages_init(start_info());
	/* Page granularity: any smaller alignment comes for free. */
	return pages_alloc(ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT, MAX(align, PAGE_SIZE));
}

void dma_free(void *p, size_t bytes)
{
	if (p)
		pages_free(p, ALIGN_UP(bytes, PAGE_SIZE) >> PAGE_SHIFT);
}

/*
 * The low 4 GiB are identity-mapped at entry (the top GiB uncached, which
 * covers the 32-bit PCI hole). Above that, 2 MiB pages are added on
 * demand, uncached (PCD|PWT): 64-bit BARs live there.
 */
void *drv_map_mmio(u64 pa, u64 len)
{
	if (!len || pa + len < pa)
		return NULL;
	if (pa + len <= (4ULL << 30))
		return (void *)(uintptr_t)pa;
	for (u64 va = ALIGN_DOWN(MAX(pa, 4ULL << 30), SZ_2M); va < pa + len; va += SZ_2M)
		if (pt_map_2m(va, va, PTE_RW | PTE_PCD | PTE_PWT))
			return NULL;
	return (void *)(uintptr_t)pa;
}

static inline u64 rdtsc_now(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

u64 drv_now_us(void)
{
	return rdtsc_now() / (DRV_TSC_HZ_MAX / 1000000);
}

void drv_udelay(u64 us)
{
	u64 end = drv_now_us() + us;
	while (drv_now_us() < end)
		__asm__ volatile("pause");
}
