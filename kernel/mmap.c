/* Boot memory-map sanitizing: see include/keel/mmap.h. */
#include <lib/string.h>
#include <keel/mmap.h>

/* Higher wins where ranges overlap: never hand out memory that any
 * firmware entry says is something other than RAM. */
static int type_rank(u32 type)
{
	switch (type) {
	case BOOT_MEM_USABLE: return 0;
	case BOOT_MEM_ACPI: return 1;
	case BOOT_MEM_NVS: return 2;
	case BOOT_MEM_UNUSABLE: return 3;
	default: return 4;
	}
}

static u32 norm_type(u32 type)
{
	return type >= BOOT_MEM_USABLE && type <= BOOT_MEM_UNUSABLE ? type : BOOT_MEM_RESERVED;
}

static void sort_u64(u64 *a, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		u64 v = a[i];
		unsigned j = i;
		for (; j && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

unsigned mmap_sanitize(struct boot_mem_range *map, unsigned n, unsigned max)
{
	static u64 edges[2 * BOOT_MMAP_MAX];
	static struct boot_mem_range out[2 * BOOT_MMAP_MAX];
	unsigned ne = 0, no = 0;

	if (n > BOOT_MMAP_MAX)
		n = BOOT_MMAP_MAX;
	for (unsigned i = 0; i < n; i++) {
		if (!map[i].len || map[i].base + map[i].len < map[i].base)
			continue; /* empty or wrapping: ignore */
		edges[ne++] = map[i].base;
		edges[ne++] = map[i].base + map[i].len;
	}
	sort_u64(edges, ne);

	/* Each elementary interval between consecutive edges takes the
	 * highest-ranked type of the ranges covering it. */
	for (unsigned e = 0; e + 1 < ne; e++) {
		u64 lo = edges[e], hi = edges[e + 1];
		int best = -1;
		u32 type = 0;
		if (lo == hi)
			continue;
		for (unsigned i = 0; i < n; i++) {
			if (!map[i].len || map[i].base > lo || map[i].base + map[i].len < hi)
				continue;
			if (type_rank(map[i].type) > best) {
				best = type_rank(map[i].type);
				type = norm_type(map[i].type);
			}
		}
		if (best < 0)
			continue; /* a hole */
		if (no && out[no - 1].type == type && out[no - 1].base + out[no - 1].len == lo) {
			out[no - 1].len += hi - lo;
			continue;
		}
		out[no].base = lo;
		out[no].len = hi - lo;
		out[no].type = type;
		out[no].pad = 0;
		no++;
	}

	unsigned k = 0;
	for (unsigned i = 0; i < no && k < max; i++) {
		struct boot_mem_range r = out[i];
		if (r.type == BOOT_MEM_USABLE) {
			u64 b = ALIGN_UP(r.base, PAGE_SIZE);
			u64 e = ALIGN_DOWN(r.base + r.len, PAGE_SIZE);
			if (e <= b)
				continue;
			r.base = b;
			r.len = e - b;
		}
		map[k++] = r;
	}
	return k;
}

u64 mmap_usable_bytes(const struct boot_mem_range *map, unsigned n)
{
	u64 total = 0;
	for (unsigned i = 0; i < n; i++)
		if (map[i].type == BOOT_MEM_USABLE)
			total += map[i].len;
	return total;
}

paddr_t mmap_usable_top(const struct boot_mem_range *map, unsigned n)
{
	paddr_t top = 0;
	for (unsigned i = 0; i < n; i++)
		if (map[i].type == BOOT_MEM_USABLE && map[i].base + map[i].len > top)
			top = map[i].base + map[i].len;
	return top;
}

const char *mmap_type_name(u32 type)
{
	switch (type) {
	case BOOT_MEM_USABLE: return "usable";
	case BOOT_MEM_ACPI: return "ACPI";
	case BOOT_MEM_NVS: return "NVS";
	case BOOT_MEM_UNUSABLE: return "unusable";
	default: return "reserved";
	}
}
