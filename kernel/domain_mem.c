/*
 * A domU's memory: populating its guest-physical RAM, building a PVH
 * kernel into it, and giving every frame back when it dies. Contracts in
 * include/keel/domctl.h.
 *
 * RAM comes from the frame allocator in 2 MiB-aligned runs where it can
 * (fewer, larger p2m entries: NPT/EPT can map them with one 2 MiB leaf)
 * and single frames otherwise. Each frame is owned by the domain with one
 * reference (include/keel/page.h), so the ownership table, not the p2m,
 * is what destruction trusts: whatever was assigned to the domain, by
 * this file or another subsystem, goes back when the owner reference is
 * dropped.
 */
#include <keel/domain.h>
#include <keel/domctl.h>
#include <keel/domu_acpi.h>
#include <keel/domu_layout.h>
#include <keel/physmap.h>
#include <asm/guest_mem.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/page.h>
#include <keel/printk.h>
#include <keel/pvh.h>
#include <asm/p2m.h>

/* Frames the hypervisor keeps for itself (vCPU structures, page tables,
 * builder buffers) whatever domains ask for: 4 MiB. */
#define HV_FRAME_RESERVE 1024

#define RUN_FRAMES (SZ_2M >> PAGE_SHIFT)

static bool ranges_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* Unmaps [gpa, gpa + len) and drops the frames behind it: the undo of a
 * populate that failed half-way. */
static void unpopulate(struct domain *d, gpa_t gpa, u64 len)
{
	for (u64 off = 0; off < len; off += PAGE_SIZE) {
		paddr_t hpa;
		unsigned perms;
		if (p2m_lookup(d, gpa + off, &hpa, &perms) == 0)
			page_put(hpa);
	}
	p2m_unmap(d, gpa, len);
}

/* Adds [gpa, gpa+len) to d->ram, sorted, merged with neighbours. The
 * caller has checked for overlap and for room (ram_slot_needed). */
static void ram_insert(struct domain *d, gpa_t gpa, u64 len)
{
	unsigned i = 0;
	while (i < d->nr_ram && d->ram[i].gpa < gpa)
		i++;
	if (i > 0 && d->ram[i - 1].gpa + d->ram[i - 1].len == gpa) {
		d->ram[i - 1].len += len;
		if (i < d->nr_ram && gpa + len == d->ram[i].gpa) {
			d->ram[i - 1].len += d->ram[i].len;
			memmove(&d->ram[i], &d->ram[i + 1], (d->nr_ram - i - 1) * sizeof(d->ram[0]));
			d->nr_ram--;
		}
		return;
	}
	if (i < d->nr_ram && gpa + len == d->ram[i].gpa) {
		d->ram[i].gpa = gpa;
		d->ram[i].len += len;
		return;
	}
	memmove(&d->ram[i + 1], &d->ram[i], (d->nr_ram - i) * sizeof(d->ram[0]));
	/* hpa 0: a domU's frames are scattered; the p2m knows them. */
	d->ram[i] = (struct mem_range){ .gpa = gpa, .hpa = 0, .len = len };
	d->nr_ram++;
}

static bool ram_slot_needed(const struct domain *d, gpa_t gpa, u64 len)
{
	for (unsigned i = 0; i < d->nr_ram; i++)
		if (d->ram[i].gpa + d->ram[i].len == gpa || gpa + len == d->ram[i].gpa)
			return false;
	return true;
}

int domain_populate_ram(struct domain *d, gpa_t gpa, u64 nr_pages, u64 limit)
{
	/* Overflow-safe bounds: every product and sum below stays under
	 * `limit`, which is far below 2^64. */
	if (!nr_pages || (gpa & ~PAGE_MASK) || gpa >= limit ||
	    nr_pages > (limit - gpa) >> PAGE_SHIFT)
		return -EINVAL;
	u64 len = nr_pages << PAGE_SHIFT;
	for (unsigned i = 0; i < d->nr_ram; i++)
		if (ranges_overlap(gpa, len, d->ram[i].gpa, d->ram[i].len))
			return -EEXIST;
	if (nr_pages > d->max_pages || d->nr_pages > d->max_pages - nr_pages)
		return -ENOMEM;
	if (frames_free() < HV_FRAME_RESERVE || nr_pages > frames_free() - HV_FRAME_RESERVE)
		return -ENOMEM;
	if (ram_slot_needed(d, gpa, len) && d->nr_ram == DOMAIN_MEM_RANGES)
		return -ENOMEM;
	/* A hole may hold a grant mapping of d's: never replaced
	 * (asm/p2m.h). Checked before anything is allocated. */
	int rc = p2m_check_replace(d, gpa, len, "populate_ram");
	if (rc)
		return rc;

	u64 done = 0;
	while (done < len) {
		gpa_t at = gpa + done;
		u64 n = 1;
		paddr_t pa = 0;
		if (IS_ALIGNED(at, SZ_2M) && len - done >= SZ_2M) {
			pa = frame_alloc_contig(RUN_FRAMES, SZ_2M);
			n = pa ? RUN_FRAMES : 1;
		}
		if (!pa)
			pa = frame_alloc();
		if (!pa)
			goto fail;
		page_assign_run(pa, n, d->id);
		if (p2m_map(d, at, pa, n * PAGE_SIZE, PT_RWX, MT_WB)) {
			for (u64 i = 0; i < n; i++)
				page_put(pa + i * PAGE_SIZE);
			goto fail;
		}
		done += n * PAGE_SIZE;
	}
	ram_insert(d, gpa, len);
	d->nr_pages += nr_pages;
	return 0;

fail:
	unpopulate(d, gpa, done);
	return -ENOMEM;
}

u64 domain_release_memory(struct domain *d)
{
	u64 held = pages_put_owner_refs(d->id);
	d->nr_ram = 0;
	d->nr_pages = 0;
	d->mem_gen++;
	return held;
}

/*
 * A domU gets the layout Linux's PVH entry expects (keel/domu_layout.h):
 * its E820 map from domu_layout_memmap, and ACPI tables
 * (keel/domu_acpi.h) written into the reserved page below 640 KiB, whose
 * RSDP start_info names. The builder must leave the low reserved window
 * alone (nothing of its own is placed there).
 */
int domain_build_pvh(struct domain *d, const void *image, u64 size, const char *cmdline,
		     const struct pvh_load_module *load, unsigned nr_load, bool preloaded)
{
	static struct boot_mem_range memmap[DOMAIN_E820_MAX];
	static u8 acpi[DOMU_ACPI_SIZE];
	static char err[160];
	const struct pvh_avoid low = { DOMU_ACPI_GPA, DOMU_LOW_END - DOMU_ACPI_GPA };
	struct domu_acpi_layout tables = { 0 };
	bool has_acpi = domu_layout_has_acpi(d->ram, d->nr_ram);
	int rc;

	int n = domu_layout_memmap(d->ram, d->nr_ram, has_acpi, memmap, DOMAIN_E820_MAX);
	if (n < 0) {
		pr_info("domain %u (%s): cannot build: its E820 map needs more than %d entries\n",
			d->id, d->name, DOMAIN_E820_MAX);
		return n;
	}
	if (has_acpi) {
		rc = domu_acpi_build(acpi, sizeof(acpi), DOMU_ACPI_GPA, d->nr_vcpus, &tables);
		if (!rc && copy_to_gpa(d, DOMU_ACPI_GPA, acpi, sizeof(acpi)))
			rc = -EFAULT;
		if (rc) {
			pr_info("domain %u (%s): cannot build: ACPI tables at 0x%lx: %d\n", d->id,
				d->name, DOMU_ACPI_GPA, rc);
			return rc;
		}
	}
	struct pvh_params p = {
		.image = image,
		.image_size = size,
		.cmdline = cmdline,
		.memmap = memmap,
		.nr_memmap = (unsigned)n,
		.avoid = &low,
		.nr_avoid = 1,
		.rsdp = tables.rsdp,
		.load = load,
		.nr_load = nr_load,
		.module_limit = DOMU_MODULE_LIMIT,
		.preloaded = preloaded,
	};
	rc = pvh_build(d, &p, err, sizeof(err));
	if (rc)
		pr_info("domain %u (%s): cannot build: %s\n", d->id, d->name, err);
	return rc;
}
