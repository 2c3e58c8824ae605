/*
 * A domU's E820 map (contract and the layout in include/keel/domu_layout.h).
 *
 * The RAM the launcher populated starts at 0 in one piece in practice,
 * but the map is computed for any sorted set of ranges: each is cut
 * around the low reserved window [DOMU_ACPI_GPA, DOMU_LOW_END), so the
 * frames behind that window stay the domain's (the ACPI page is written
 * there) but the guest never counts them as RAM.
 */
#include <keel/domu_layout.h>
#include <lib/errno.h>

#define PAGE 0x1000ULL

bool domu_layout_has_acpi(const struct mem_range *ram, unsigned nr_ram)
{
	for (unsigned i = 0; i < nr_ram; i++)
		if (ram[i].gpa <= DOMU_ACPI_GPA && DOMU_ACPI_GPA + PAGE <= ram[i].gpa + ram[i].len)
			return true;
	return false;
}

struct map {
	struct boot_mem_range *e;
	unsigned n, max;
	bool full;
};

/* Appends one entry; entries are written in address order by the caller. */
static void add(struct map *m, u64 base, u64 len, u32 type)
{
	if (!len)
		return;
	if (m->n == m->max) {
		m->full = true;
		return;
	}
	m->e[m->n++] = (struct boot_mem_range){ .base = base, .len = len, .type = type };
}

int domu_layout_memmap(const struct mem_range *ram, unsigned nr_ram, bool acpi,
		       struct boot_mem_range *out, unsigned max)
{
	struct map m = { .e = out, .max = max };
	u64 lo = acpi ? DOMU_ACPI_GPA : DOMU_LEGACY_HOLE;
	bool window_done = false;
	u64 top = 0;

	for (unsigned i = 0; i < nr_ram; i++) {
		u64 s = ram[i].gpa, e = ram[i].gpa + ram[i].len;
		if (e > top)
			top = e;
		/* The part below the window. */
		if (s < lo)
			add(&m, s, (e < lo ? e : lo) - s, BOOT_MEM_USABLE);
		/* The window itself, once, before the first RAM above it. */
		if (!window_done && e > lo) {
			if (acpi)
				add(&m, DOMU_ACPI_GPA, DOMU_LEGACY_HOLE - DOMU_ACPI_GPA,
				    BOOT_MEM_RESERVED);
			add(&m, DOMU_LEGACY_HOLE, DOMU_LOW_END - DOMU_LEGACY_HOLE, BOOT_MEM_RESERVED);
			window_done = true;
		}
		/* The part above it. */
		u64 hs = s > DOMU_LOW_END ? s : DOMU_LOW_END;
		if (e > hs)
			add(&m, hs, e - hs, BOOT_MEM_USABLE);
	}
	if (!window_done) {
		/* All RAM below the window (a tiny test domain): its special
		 * pages come first, and the hole still reads as reserved. */
		if (top && top + DOMU_SPECIAL_PAGES * PAGE <= lo)
			add(&m, top, DOMU_SPECIAL_PAGES * PAGE, BOOT_MEM_RESERVED);
		if (acpi)
			add(&m, DOMU_ACPI_GPA, DOMU_LEGACY_HOLE - DOMU_ACPI_GPA, BOOT_MEM_RESERVED);
		add(&m, DOMU_LEGACY_HOLE, DOMU_LOW_END - DOMU_LEGACY_HOLE, BOOT_MEM_RESERVED);
	} else if (top >= DOMU_LOW_END) {
		add(&m, top, DOMU_SPECIAL_PAGES * PAGE, BOOT_MEM_RESERVED);
	}
	return m.full ? -E2BIG : (int)m.n;
}
