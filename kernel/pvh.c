/*
 * PVH domain building (Xen docs/misc/pvh.pandoc, public/arch-x86/hvm/
 * start_info.h; docs/xen-abi.md section 2): segments load at
 * p_paddr; the vCPU starts at the PHYS32_ENTRY note in 32-bit protected
 * mode with paging off and EBX = the start_info's guest-physical address.
 */
#include <keel/domain.h>
#include <keel/elf.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <keel/pvh.h>
#include <asm/guest_mem.h>
#include <asm/vendor.h>
#include <public/start_info.h>

/* Linux copies the memmap into its 128-entry e820 table without a
 * bounds check (docs/xen-abi.md section 2): at most this many. */
#define PVH_MEMMAP_MAX 127
#define START_INFO_PAGES 3
/* Linux reads the start_info, memmap and modlist through its early
 * tables, which map only the first 1 GiB. */
#define START_INFO_LIMIT SZ_1G

static bool overlaps(u64 a, u64 alen, u64 b, u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* True if [gpa, gpa+len) lies inside one RAM range of d. */
static bool in_ram(const struct domain *d, gpa_t gpa, u64 len)
{
	for (unsigned i = 0; i < d->nr_ram; i++)
		if (gpa >= d->ram[i].gpa && gpa + len <= d->ram[i].gpa + d->ram[i].len)
			return true;
	return false;
}

/* Where the builder puts p->load[i] (pvh_build is not reentered: its
 * callers hold the domctl lock or run at boot, as for `area` below). */
static gpa_t load_gpa[PVH_LOAD_MAX];

static bool is_free(const struct domain *d, const struct pvh_params *p,
		    const struct elf_image *img, gpa_t gpa, u64 len)
{
	if (!in_ram(d, gpa, len))
		return false;
	for (unsigned i = 0; i < p->nr_load; i++)
		if (overlaps(gpa, len, load_gpa[i], p->load[i].size))
			return false;
	for (unsigned i = 0; i < img->nr_load; i++)
		if (overlaps(gpa, len, img->load[i].paddr, img->load[i].memsz))
			return false;
	for (unsigned i = 0; i < p->nr_avoid; i++)
		if (overlaps(gpa, len, p->avoid[i].base, p->avoid[i].len))
			return false;
	return true;
}

/* The boot-data area: page-aligned, RAM, below 1 GiB, clear of the
 * kernel and the modules. The lowest such place, as Linux reserves the
 * first MiB anyway. */
static gpa_t find_start_info_area(const struct domain *d, const struct pvh_params *p,
				  const struct elf_image *img)
{
	u64 len = START_INFO_PAGES * PAGE_SIZE;
	for (unsigned i = 0; i < d->nr_ram; i++) {
		for (gpa_t g = MAX(d->ram[i].gpa, PAGE_SIZE); g + len <= d->ram[i].gpa + d->ram[i].len &&
							    g + len <= START_INFO_LIMIT;
		     g += PAGE_SIZE)
			if (is_free(d, p, img, g, len))
				return g;
	}
	return 0;
}

/*
 * Places the load modules page-aligned one after the other just past the
 * kernel's highest segment (as Xen's PVH dom0 builder puts the initrd
 * after the kernel, xen/arch/x86/hvm/dom0_build.c); each must lie in RAM,
 * clear of the kernel and of the avoided ranges. Sizes are bounded here
 * again (the domctl bounds them too) so gpa + size cannot wrap.
 */
static int place_load_modules(const struct domain *d, const struct pvh_params *p,
			      const struct elf_image *img, char *err, size_t errlen)
{
	gpa_t next = ALIGN_UP(img->highest, PAGE_SIZE);

	if (p->nr_load > PVH_LOAD_MAX) {
		snprintf(err, errlen, "%u modules, at most %d", p->nr_load, PVH_LOAD_MAX);
		return -E2BIG;
	}
	for (unsigned i = 0; i < p->nr_load; i++) {
		const struct pvh_load_module *m = &p->load[i];
		bool clear = m->size && m->size <= SZ_1G * 1024ULL && in_ram(d, next, m->size);
		for (unsigned j = 0; clear && j < img->nr_load; j++)
			clear = !overlaps(next, m->size, img->load[j].paddr, img->load[j].memsz);
		for (unsigned j = 0; clear && j < p->nr_avoid; j++)
			clear = !overlaps(next, m->size, p->avoid[j].base, p->avoid[j].len);
		if (clear && p->module_limit && next + m->size > p->module_limit) {
			snprintf(err, errlen, "module %u (%lu bytes) at 0x%lx ends above 0x%lx", i,
				 m->size, next, p->module_limit);
			return -ENOMEM;
		}
		if (!clear) {
			snprintf(err, errlen, "module %u (%lu bytes) does not fit in RAM at 0x%lx", i,
				 m->size, next);
			return -ENOMEM;
		}
		load_gpa[i] = next;
		next = ALIGN_UP(next + m->size, PAGE_SIZE);
	}
	return 0;
}

static int copy_load_module(struct domain *d, const struct pvh_load_module *m, gpa_t gpa)
{
	static u8 bounce[PAGE_SIZE];
	for (u64 done = 0; done < m->size;) {
		u64 n = MIN(m->size - done, (u64)sizeof(bounce));
		if (m->read(m, done, bounce, n) || copy_to_gpa(d, gpa + done, bounce, n))
			return -EFAULT;
		done += n;
	}
	return 0;
}

int pvh_build(struct domain *d, const struct pvh_params *p, char *err, size_t errlen)
{
	struct elf_image img;
	int rc;

	rc = elf_parse(p->image, p->image_size, &img, err, errlen);
	if (rc)
		return rc;

	for (unsigned i = 0; i < img.nr_load; i++) {
		const struct elf_load *l = &img.load[i];
		if (!in_ram(d, l->paddr, l->memsz)) {
			snprintf(err, errlen, "segment 0x%lx-0x%lx lies outside the domain's RAM",
				 l->paddr, l->paddr + l->memsz);
			return -ENOMEM;
		}
		for (unsigned j = 0; j < p->nr_avoid; j++) {
			if (overlaps(l->paddr, l->memsz, p->avoid[j].base, p->avoid[j].len)) {
				snprintf(err, errlen,
					 "segment 0x%lx-0x%lx overlaps boot module memory 0x%lx-0x%lx",
					 l->paddr, l->paddr + l->memsz, p->avoid[j].base,
					 p->avoid[j].base + p->avoid[j].len);
				return -EBUSY;
			}
		}
	}
	if ((rc = place_load_modules(d, p, &img, err, errlen)))
		return rc;

	/* start_info, then modlist, memmap and strings, in one area. */
	static u8 area[START_INFO_PAGES * PAGE_SIZE];
	gpa_t base = find_start_info_area(d, p, &img);
	if (!base) {
		snprintf(err, errlen, "no room below 1 GiB for the PVH start info");
		return -ENOMEM;
	}
	memset(area, 0, sizeof(area));
	struct hvm_start_info *si = (void *)area;
	size_t off = ALIGN_UP(sizeof(*si), 16);

	struct hvm_modlist_entry *mods = (void *)(area + off);
	unsigned nr_mods = p->nr_modules + p->nr_load;
	off += ALIGN_UP(nr_mods * sizeof(*mods), 16);
	struct hvm_memmap_table_entry *mm = (void *)(area + off);
	unsigned nr_mm = MIN(p->nr_memmap, PVH_MEMMAP_MAX);
	off += ALIGN_UP(nr_mm * sizeof(*mm), 16);

	/* Strings follow; check each fits. */
	size_t cmd_off = off;
	size_t need = strlen(p->cmdline) + 1;
	for (unsigned i = 0; i < p->nr_modules; i++)
		need += strlen(p->modules[i].cmdline) + 1;
	for (unsigned i = 0; i < p->nr_load; i++)
		need += strlen(p->load[i].cmdline ? p->load[i].cmdline : "") + 1;
	if (off + need > sizeof(area)) {
		snprintf(err, errlen, "PVH start info does not fit in %d pages", START_INFO_PAGES);
		return -E2BIG;
	}

	/* Everything checked: now write the domain's RAM (the segments
	 * unless dom0 wrote them itself, KEEL_PVH_BUILD_PRELOADED). */
	for (unsigned i = 0; i < img.nr_load && !p->preloaded; i++) {
		const struct elf_load *l = &img.load[i];
		if (copy_to_gpa(d, l->paddr, (const u8 *)p->image + l->offset, l->filesz) ||
		    clear_gpa(d, l->paddr + l->filesz, l->memsz - l->filesz)) {
			snprintf(err, errlen, "cannot write segment at 0x%lx", l->paddr);
			return -EFAULT;
		}
	}
	for (unsigned i = 0; i < p->nr_load; i++) {
		if (copy_load_module(d, &p->load[i], load_gpa[i])) {
			snprintf(err, errlen, "cannot read module %u", i);
			return -EFAULT;
		}
	}
	strlcpy((char *)area + off, p->cmdline, sizeof(area) - off);
	off += strlen(p->cmdline) + 1;
	for (unsigned i = 0; i < p->nr_modules; i++) {
		mods[i].paddr = p->modules[i].gpa;
		mods[i].size = p->modules[i].size;
		mods[i].cmdline_paddr = base + off;
		strlcpy((char *)area + off, p->modules[i].cmdline, sizeof(area) - off);
		off += strlen(p->modules[i].cmdline) + 1;
	}
	for (unsigned i = 0; i < p->nr_load; i++) {
		const char *c = p->load[i].cmdline ? p->load[i].cmdline : "";
		struct hvm_modlist_entry *e = &mods[p->nr_modules + i];
		e->paddr = load_gpa[i];
		e->size = p->load[i].size;
		e->cmdline_paddr = base + off;
		strlcpy((char *)area + off, c, sizeof(area) - off);
		off += strlen(c) + 1;
	}
	for (unsigned i = 0; i < nr_mm; i++) {
		mm[i].addr = p->memmap[i].base;
		mm[i].size = p->memmap[i].len;
		mm[i].type = p->memmap[i].type;
	}
	/* The same map for XENMEM_memory_map (keel/physmap.h). */
	domain_set_memory_map(d, p->memmap, nr_mm);

	si->magic = XEN_HVM_START_MAGIC_VALUE;
	si->version = 1;
	si->flags = 0;
	si->nr_modules = nr_mods;
	si->modlist_paddr = nr_mods ? base + ((u8 *)mods - area) : 0;
	si->cmdline_paddr = base + cmd_off;
	si->rsdp_paddr = p->rsdp;
	si->memmap_paddr = base + ((u8 *)mm - area);
	si->memmap_entries = nr_mm;
	if (copy_to_gpa(d, base, area, sizeof(area))) {
		snprintf(err, errlen, "cannot write the PVH start info at 0x%lx", base);
		return -EFAULT;
	}

	struct vcpu *v = d->vcpus[0];
	vendor->set_reg(v, VREG_RIP, img.phys32_entry);
	v->arch.gprs[GPR_RBX] = base;
	pr_info("domain %u: PVH kernel 0x%lx-0x%lx, entry 0x%x, start info at 0x%lx\n", d->id,
		img.lowest, img.highest, img.phys32_entry, base);
	return 0;
}
