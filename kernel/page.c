/* Frame ownership and reference counts: see include/keel/page.h. */
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/page.h>
#include <keel/printk.h>

static struct page_info *table;
static u64 nr_entries;

int page_table_init(paddr_t top)
{
	u64 n = top >> PAGE_SHIFT;
	u64 frames = ALIGN_UP(n * sizeof(struct page_info), PAGE_SIZE) >> PAGE_SHIFT;
	paddr_t pa = frame_alloc_contig(frames, PAGE_SIZE);
	if (!pa)
		return -ENOMEM;
	table = phys_to_virt(pa);
	nr_entries = n;
	for (u64 i = 0; i < n; i++)
		table[i] = (struct page_info){ .owner = PAGE_OWNER_NONE };
	return 0;
}

struct page_info *page_of(paddr_t pa)
{
	u64 f = pa >> PAGE_SHIFT;
	return f < nr_entries ? &table[f] : NULL;
}

void page_assign_run(paddr_t pa, u64 n, u16 owner)
{
	u64 f = pa >> PAGE_SHIFT;

	BUG_ON(f > nr_entries || n > nr_entries - f);
	for (struct page_info *pg = &table[f], *end = pg + n; pg < end; pg++) {
		BUG_ON(pg->owner != PAGE_OWNER_NONE);
		*pg = (struct page_info){ .owner = owner, .flags = pg->flags, .refs = 1 };
	}
}

void page_assign(paddr_t pa, u16 owner)
{
	page_assign_run(pa, 1, owner);
}

paddr_t page_alloc_for(u16 owner)
{
	paddr_t pa = frame_alloc();
	if (pa)
		page_assign(pa, owner);
	return pa;
}

int page_get(paddr_t pa, u16 owner)
{
	struct page_info *pg = page_of(pa);
	if (!pg || pg->owner != owner || pg->refs == 0)
		return -EINVAL;
	if (pg->refs == ~0u)
		return -EOVERFLOW;
	pg->refs++;
	return 0;
}

void page_put(paddr_t pa)
{
	struct page_info *pg = page_of(pa);
	BUG_ON(!pg || pg->refs == 0);
	if (--pg->refs == 0) {
		pg->owner = PAGE_OWNER_NONE;
		frame_free(pa & PAGE_MASK);
	}
}

u64 pages_owned_by(u16 owner)
{
	u64 n = 0;
	for (u64 i = 0; i < nr_entries; i++)
		if (table[i].owner == owner)
			n++;
	return n;
}

u64 pages_put_owner_refs(u16 owner)
{
	u64 held = 0;
	for (u64 i = 0; i < nr_entries; i++) {
		if (table[i].owner != owner)
			continue;
		page_put((paddr_t)i << PAGE_SHIFT);
		if (table[i].owner == owner)
			held++;
	}
	return held;
}
