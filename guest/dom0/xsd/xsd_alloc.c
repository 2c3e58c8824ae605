/*
 * The store's allocator in dom0 (contract in xsd.h): power-of-two size
 * classes from 16 bytes to half a page, carved from whole pages of dom0's
 * pool; anything larger is a run of pages of its own. xs_alloc's free
 * gets the size back, so no header is needed; freed blocks go on their
 * class's list and are reused (pages of small blocks are never given back
 * to the pool: the store's working set is small and stable).
 */
#include <lib/string.h>
#include "guest.h"
#include "pages.h"
#include "xsd.h"

#define MIN_SHIFT 4
#define MAX_SHIFT (PAGE_SHIFT - 1)
#define NR_CLASSES (MAX_SHIFT - MIN_SHIFT + 1)

struct free_block {
	struct free_block *next;
};

static struct free_block *lists[NR_CLASSES];
static u64 in_use;

static unsigned class_of(size_t size)
{
	unsigned c = 0;

	while (((size_t)1 << (MIN_SHIFT + c)) < size)
		c++;
	return c;
}

static void *xsd_alloc_fn(void *ctx, size_t size)
{
	(void)ctx;
	if (!size)
		size = 1;
	if (size > ((size_t)1 << MAX_SHIFT)) {
		void *p = pages_alloc((size + PAGE_SIZE - 1) >> PAGE_SHIFT, 0);
		if (p)
			in_use += size;
		return p;
	}
	unsigned c = class_of(size);
	size_t bsize = (size_t)1 << (MIN_SHIFT + c);
	if (!lists[c]) {
		char *page = pages_alloc(1, 0);
		if (!page)
			return NULL;
		for (size_t off = 0; off < PAGE_SIZE; off += bsize) {
			struct free_block *b = (struct free_block *)(page + off);
			b->next = lists[c];
			lists[c] = b;
		}
	}
	struct free_block *b = lists[c];
	lists[c] = b->next;
	in_use += size;
	memset(b, 0, bsize);
	return b;
}

static void xsd_free_fn(void *ctx, void *p, size_t size)
{
	(void)ctx;
	if (!p)
		return;
	if (!size)
		size = 1;
	in_use -= size;
	if (size > ((size_t)1 << MAX_SHIFT)) {
		pages_free(p, (size + PAGE_SIZE - 1) >> PAGE_SHIFT);
		return;
	}
	struct free_block *b = p;
	unsigned c = class_of(size);
	b->next = lists[c];
	lists[c] = b;
}

const struct xs_alloc xsd_allocator = { xsd_alloc_fn, xsd_free_fn, NULL };

u64 xsd_alloc_in_use(void)
{
	return in_use;
}
