/*
 * The guest page allocator: one pool, a bitmap, first fit (contract in
 * pages.h). The bitmap is static (POOL_MAX_PAGES bits), so the allocator
 * needs no memory of its own.
 */
#include <lib/string.h>
#include "guest.h"
#include "pages.h"

#define POOL_MAX_PAGES (64u * 1024) /* 256 MiB */
#define LOW_LIMIT 0x100000ULL       /* keep the first MiB for firmware habits */
#define HIGH_LIMIT (4ULL << 30)     /* the identity map built at entry */

extern char __image_end[];

static u64 pool_base;   /* guest-physical address of page 0 of the pool */
static u64 pool_pages;
static u64 nr_free;
static u64 bitmap[POOL_MAX_PAGES / 64]; /* 1 = in use */

static bool test_bit(u64 i) { return bitmap[i / 64] & (1ULL << (i % 64)); }
static void set_bit(u64 i) { bitmap[i / 64] |= 1ULL << (i % 64); }
static void clear_bit(u64 i) { bitmap[i / 64] &= ~(1ULL << (i % 64)); }

#define MAX_HOLES 20

struct hole {
	u64 base, end;
};

/* What must not be handed out: the image, the start_info area (the
 * builder puts the modlist, memmap and strings in the pages after the
 * start_info itself, kernel/pvh.c), and the modules. */
static unsigned collect_holes(const struct hvm_start_info *si, struct hole *h)
{
	extern char __image_start[];
	const struct hvm_modlist_entry *mods;
	unsigned n, nh = 0;
	u64 si_pa = (u64)(uintptr_t)si;

	h[nh++] = (struct hole){ (u64)(uintptr_t)__image_start, (u64)(uintptr_t)__image_end };
	h[nh++] = (struct hole){ si_pa, si_pa + 4 * PAGE_SIZE };
	mods = si_modules(si, &n);
	for (unsigned i = 0; i < n && nh < MAX_HOLES; i++)
		h[nh++] = (struct hole){ mods[i].paddr, mods[i].paddr + mods[i].size };
	for (unsigned i = 0; i < nh; i++) {
		h[i].base = ALIGN_DOWN(h[i].base, PAGE_SIZE);
		h[i].end = ALIGN_UP(h[i].end, PAGE_SIZE);
	}
	return nh;
}

u64 pages_init(const struct hvm_start_info *si)
{
	const struct hvm_memmap_table_entry *map;
	struct hole holes[MAX_HOLES];
	unsigned n, nh;
	u64 best_base = 0, best_len = 0;

	if (pool_pages)
		return pool_pages;
	nh = collect_holes(si, holes);
	map = si_memmap(si, &n);
	for (unsigned i = 0; i < n; i++) {
		if (map[i].type != XEN_HVM_MEMMAP_TYPE_RAM)
			continue;
		u64 cur = ALIGN_UP(MAX(map[i].addr, LOW_LIMIT), PAGE_SIZE);
		u64 e = ALIGN_DOWN(MIN(map[i].addr + map[i].size, HIGH_LIMIT), PAGE_SIZE);
		while (cur < e) {
			u64 stop = e;
			bool inside = false;
			for (unsigned k = 0; k < nh; k++) {
				if (cur >= holes[k].base && cur < holes[k].end) {
					cur = holes[k].end;
					inside = true;
				} else if (holes[k].base > cur && holes[k].base < stop) {
					stop = holes[k].base;
				}
			}
			if (inside)
				continue; /* re-check from past the hole */
			if (stop - cur > best_len) {
				best_base = cur;
				best_len = stop - cur;
			}
			cur = stop;
		}
	}
	pool_base = best_base;
	pool_pages = MIN(best_len >> PAGE_SHIFT, (u64)POOL_MAX_PAGES);
	nr_free = pool_pages;
	return pool_pages;
}

void *pages_alloc(u64 n, u64 align)
{
	u64 step, start;

	if (!align)
		align = PAGE_SIZE;
	if (!n || n > nr_free || (align & (align - 1)) || align < PAGE_SIZE)
		return NULL;
	step = align >> PAGE_SHIFT;
	/* First page index whose address is aligned. */
	start = (ALIGN_UP(pool_base, align) - pool_base) >> PAGE_SHIFT;
	for (u64 i = start; i + n <= pool_pages; i += step) {
		u64 j = 0;
		while (j < n && !test_bit(i + j))
			j++;
		if (j == n) {
			for (j = 0; j < n; j++)
				set_bit(i + j);
			nr_free -= n;
			void *p = (void *)(uintptr_t)(pool_base + (i << PAGE_SHIFT));
			memset(p, 0, n << PAGE_SHIFT);
			return p;
		}
	}
	return NULL;
}

void pages_free(void *p, u64 n)
{
	u64 pa = (u64)(uintptr_t)p;
	u64 first = (pa - pool_base) >> PAGE_SHIFT;

	if (pa < pool_base || (pa & (PAGE_SIZE - 1)) || first + n > pool_pages) {
		printf("%s: pages_free(0x%lx, %lu): not from the pool\n", guest_name, pa, n);
		return;
	}
	for (u64 i = first; i < first + n; i++) {
		if (!test_bit(i)) {
			printf("%s: pages_free(0x%lx, %lu): page 0x%lx already free\n", guest_name, pa,
			       n, pool_base + (i << PAGE_SHIFT));
			continue;
		}
		clear_bit(i);
		nr_free++;
	}
}

u64 pages_free_count(void)
{
	return nr_free;
}

u64 pages_total(void)
{
	return pool_pages;
}
