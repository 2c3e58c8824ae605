/*
 * Physical frame allocator: a bitmap, one bit per 4 KiB frame below the top
 * of usable RAM (set = in use or not RAM). Allocation scans downwards from
 * the top so that the hypervisor's own frames come from high memory and
 * low memory stays contiguous for dom0's 1:1 RAM.
 */
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/printk.h>

static u64 *bitmap;
static u64 nr_frames;  /* frames covered by the bitmap */
static u64 nr_free;
static u64 nr_usable;
static u64 search_hint; /* frames above this index are known to be in use */

static bool test_bit(u64 f) { return bitmap[f / 64] & (1ULL << (f % 64)); }
static void set_bit(u64 f) { bitmap[f / 64] |= 1ULL << (f % 64); }
static void clear_bit(u64 f) { bitmap[f / 64] &= ~(1ULL << (f % 64)); }

int frame_init(const struct boot_mem_range *map, unsigned n, u64 *bm, paddr_t top)
{
	bitmap = bm;
	nr_frames = top >> PAGE_SHIFT;
	nr_free = nr_usable = 0;
	memset(bitmap, 0xff, ALIGN_UP(nr_frames, 64) / 8);

	for (unsigned i = 0; i < n; i++) {
		if (map[i].type != BOOT_MEM_USABLE)
			continue;
		u64 first = ALIGN_UP(map[i].base, PAGE_SIZE) >> PAGE_SHIFT;
		u64 end = ALIGN_DOWN(map[i].base + map[i].len, PAGE_SIZE) >> PAGE_SHIFT;
		if (end > nr_frames)
			end = nr_frames;
		for (u64 f = first; f < end; f++) {
			if (test_bit(f)) {
				clear_bit(f);
				nr_free++;
			}
		}
	}
	nr_usable = nr_free;
	search_hint = nr_frames;
	return nr_free ? 0 : -ENOMEM;
}

void frame_reserve(paddr_t base, u64 len)
{
	u64 first = ALIGN_DOWN(base, PAGE_SIZE) >> PAGE_SHIFT;
	u64 end = ALIGN_UP(base + len, PAGE_SIZE) >> PAGE_SHIFT;
	if (end > nr_frames)
		end = nr_frames;
	/* Whole free words at a time: dom0's RAM is reserved at boot in runs
	 * of up to the whole of memory (kernel/dom0.c give_ram). */
	for (u64 f = first; f < end;) {
		if (f % 64 == 0 && end - f >= 64 && bitmap[f / 64] == 0) {
			bitmap[f / 64] = ~0ULL;
			nr_free -= 64;
			f += 64;
			continue;
		}
		if (!test_bit(f)) {
			set_bit(f);
			nr_free--;
		}
		f++;
	}
}

paddr_t frame_alloc_contig(u64 n, u64 align)
{
	u64 step = align >> PAGE_SHIFT;
	if (!n || !step || (step & (step - 1)))
		return 0;
	u64 start = ALIGN_DOWN(search_hint >= n ? search_hint - n : 0, step);
	for (u64 f = start;; f -= step) {
		u64 i = 0;
		while (i < n && f + i < nr_frames && !test_bit(f + i))
			i++;
		if (i == n) {
			for (i = 0; i < n; i++)
				set_bit(f + i);
			nr_free -= n;
			paddr_t pa = f << PAGE_SHIFT;
			frame_zero(pa, n);
			return pa;
		}
		if (f < step)
			break;
	}
	return 0;
}

paddr_t frame_alloc(void)
{
	/* Single frames: scan whole words downwards from the hint. */
	for (u64 w = (search_hint + 63) / 64; w-- > 0;) {
		if (bitmap[w] == ~0ULL)
			continue;
		for (int b = 63; b >= 0; b--) {
			u64 f = w * 64 + b;
			if (f >= nr_frames || test_bit(f))
				continue;
			set_bit(f);
			nr_free--;
			search_hint = f + 1;
			paddr_t pa = f << PAGE_SHIFT;
			frame_zero(pa, 1);
			return pa;
		}
	}
	return 0;
}

void frame_free(paddr_t pa)
{
	u64 f = pa >> PAGE_SHIFT;
	BUG_ON(f >= nr_frames || !test_bit(f) || (pa & ~PAGE_MASK));
	clear_bit(f);
	nr_free++;
	if (f + 1 > search_hint)
		search_hint = f + 1;
}

void frame_free_contig(paddr_t pa, u64 n)
{
	for (u64 i = 0; i < n; i++)
		frame_free(pa + i * PAGE_SIZE);
}

bool frame_in_use(paddr_t pa)
{
	u64 f = pa >> PAGE_SHIFT;
	return f >= nr_frames || test_bit(f);
}

u64 frame_free_run(paddr_t pa, u64 max)
{
	u64 f = pa >> PAGE_SHIFT, n = 0;

	while (n < max && f + n < nr_frames) {
		u64 g = f + n;
		if (g % 64 == 0 && max - n >= 64 && g + 64 <= nr_frames && bitmap[g / 64] == 0) {
			n += 64;
			continue;
		}
		if (test_bit(g))
			break;
		n++;
	}
	return n;
}

u64 frames_free(void) { return nr_free; }
u64 frames_total(void) { return nr_usable; }
