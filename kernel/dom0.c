/*
 * The control domain at boot. dom0's RAM is mapped 1:1 so that its
 * drivers can hand host-physical addresses to DMA engines without an
 * IOMMU (ARCHITECTURE.md, "Memory"). The hypervisor keeps a reserve of
 * frames for itself and for domUs; dom0 takes the rest, lowest first
 * (the frame allocator hands out frames top-down, so the two meet late).
 */
#include <keel/dom0.h>
#include <keel/domain.h>
#include <keel/elf.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/mmap.h>
#include <keel/page.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <keel/pvh.h>
#include <asm/p2m.h>

/* Frames kept back from dom0 by default: 64 MiB plus 1/8 of what is
 * free, for the hypervisor's own structures and the domU pool. */
#define DOM0_RESERVE_FIXED (64ULL << 20)

static char err[160];

const struct boot_module *dom0_check_module(const struct boot_info *bi)
{
	const struct boot_module *m = NULL;
	struct elf_image img;

	for (unsigned i = 0; i < bi->nr_modules; i++)
		if (strcmp(bi->modules[i].name, "dom0") == 0)
			m = &bi->modules[i];
	if (!m) {
		pr_err("module 'dom0': missing (the boot configuration must name one module dom0)\n");
		return NULL;
	}
	if (elf_parse(phys_to_virt(m->base), m->len, &img, err, sizeof(err))) {
		pr_err("module 'dom0': %s\n", err);
		return NULL;
	}
	return m;
}

static int add_ram(struct domain *d, paddr_t pa, u64 len)
{
	struct mem_range *last = d->nr_ram ? &d->ram[d->nr_ram - 1] : NULL;
	if (last && last->hpa + last->len == pa) {
		last->len += len;
	} else {
		if (d->nr_ram == DOMAIN_MEM_RANGES)
			return -ENOSPC;
		d->ram[d->nr_ram++] = (struct mem_range){ .gpa = pa, .hpa = pa, .len = len };
	}
	d->nr_pages += len >> PAGE_SHIFT;
	return 0;
}

/* Sorted insert for the module ranges, which come after the RAM scan. */
static int insert_ram(struct domain *d, paddr_t pa, u64 len)
{
	unsigned i = 0;
	if (d->nr_ram == DOMAIN_MEM_RANGES)
		return -ENOSPC;
	while (i < d->nr_ram && d->ram[i].gpa < pa)
		i++;
	memmove(&d->ram[i + 1], &d->ram[i], (d->nr_ram - i) * sizeof(d->ram[0]));
	d->ram[i] = (struct mem_range){ .gpa = pa, .hpa = pa, .len = len };
	d->nr_ram++;
	d->nr_pages += len >> PAGE_SHIFT;
	return 0;
}

/* Takes free frames from the bottom of RAM up to `want` bytes, a run of
 * free frames at a time (a frame at a time cost about 60 instructions per
 * page of dom0's RAM, most of the boot). */
static int give_ram(struct domain *d, const struct boot_mem_range *map, unsigned nmap, u64 want)
{
	u64 got = 0;
	for (unsigned i = 0; i < nmap && got < want; i++) {
		if (map[i].type != BOOT_MEM_USABLE)
			continue;
		paddr_t end = map[i].base + map[i].len;
		for (paddr_t pa = map[i].base; pa < end && got < want;) {
			u64 max = MIN((end - pa) >> PAGE_SHIFT,
				      (want - got + PAGE_SIZE - 1) >> PAGE_SHIFT);
			u64 n = pa == 0 ? 0 : frame_free_run(pa, max);
			if (!n) {
				pa += PAGE_SIZE; /* page 0 stays unused: NULL stays NULL */
				continue;
			}
			if (add_ram(d, pa, n << PAGE_SHIFT))
				return 0; /* too fragmented: dom0 gets what fitted */
			frame_reserve(pa, n << PAGE_SHIFT);
			page_assign_run(pa, n, d->id);
			got += n << PAGE_SHIFT;
			pa += n << PAGE_SHIFT;
		}
	}
	return 0;
}

/* dom0's E820: its RAM as RAM, the host's non-RAM ranges as they are,
 * and host RAM that is not dom0's (the hypervisor's) as reserved. */
static unsigned build_memmap(const struct domain *d, const struct boot_mem_range *map,
			     unsigned nmap, struct boot_mem_range *out, unsigned max)
{
	unsigned n = 0;
#define EMIT(b, l, t)                                                              \
	do {                                                                       \
		if ((l) && n < max)                                                \
			out[n++] = (struct boot_mem_range){ (b), (l), (t), 0 };   \
	} while (0)

	for (unsigned i = 0; i < d->nr_ram; i++)
		EMIT(d->ram[i].gpa, d->ram[i].len, BOOT_MEM_USABLE);
	for (unsigned i = 0; i < nmap; i++) {
		if (map[i].type != BOOT_MEM_USABLE) {
			EMIT(map[i].base, map[i].len, map[i].type);
			continue;
		}
		u64 cur = map[i].base, end = map[i].base + map[i].len;
		for (unsigned r = 0; r < d->nr_ram && cur < end; r++) {
			u64 rb = d->ram[r].gpa, re = rb + d->ram[r].len;
			if (re <= cur || rb >= end)
				continue;
			if (rb > cur)
				EMIT(cur, rb - cur, BOOT_MEM_RESERVED);
			cur = re;
		}
		if (cur < end)
			EMIT(cur, end - cur, BOOT_MEM_RESERVED);
	}
#undef EMIT
	return mmap_sanitize(out, n, max);
}

int dom0_build(const struct boot_info *bi, const struct boot_mem_range *map, unsigned nmap,
	       const struct keel_options *opts)
{
	static struct boot_mem_range memmap[BOOT_MMAP_MAX];
	static struct pvh_module mods[BOOT_MODULES_MAX];
	static struct pvh_avoid avoid[BOOT_MODULES_MAX];
	static char mod_cmdlines[BOOT_MODULES_MAX][BOOT_NAME_MAX + BOOT_MOD_CMDLINE_MAX + 1];
	const struct boot_module *kernel = dom0_check_module(bi);
	unsigned nmods = 0, navoid = 0;
	int rc;

	if (!kernel)
		return -ENOEXEC;
	struct domain *d = domain_create(DOMID_CONTROL, "dom0", true);
	if (!d || !vcpu_create(d)) {
		pr_err("dom0: cannot create the domain\n");
		return -ENOMEM;
	}

	u64 free_bytes = frames_free() << PAGE_SHIFT;
	u64 reserve = DOM0_RESERVE_FIXED + free_bytes / 8;
	u64 want = opts->dom0_mem ? opts->dom0_mem : (free_bytes > reserve ? free_bytes - reserve : 0);
	if (want + (16ULL << 20) > free_bytes) {
		pr_err("dom0_mem=%luM: only %luM free (the hypervisor keeps at least 16M)\n",
		       want >> 20, free_bytes >> 20);
		return -ENOMEM;
	}
	give_ram(d, map, nmap, want);

	/* The modules become dom0's memory too: it reads them in place. */
	for (unsigned i = 0; i < bi->nr_modules; i++) {
		const struct boot_module *m = &bi->modules[i];
		u64 len = ALIGN_UP(m->len, PAGE_SIZE);
		if ((rc = insert_ram(d, m->base, len)))
			goto too_fragmented;
		avoid[navoid++] = (struct pvh_avoid){ m->base, len };
		for (paddr_t pa = m->base; pa < m->base + len; pa += PAGE_SIZE)
			page_assign(pa, d->id);
		if (m == kernel)
			continue;
		snprintf(mod_cmdlines[nmods], sizeof(mod_cmdlines[0]), "%s%s%s", m->name,
			 m->cmdline[0] ? " " : "", m->cmdline);
		mods[nmods] = (struct pvh_module){ m->base, m->len, mod_cmdlines[nmods] };
		nmods++;
	}
	for (unsigned i = 0; i < d->nr_ram; i++) {
		rc = p2m_map(d, d->ram[i].gpa, d->ram[i].hpa, d->ram[i].len, PT_RWX, MT_WB);
		if (rc) {
			pr_err("dom0: cannot map its RAM: %d\n", rc);
			return rc;
		}
	}
	d->max_pages = d->nr_pages;

	struct pvh_params p = {
		.image = phys_to_virt(kernel->base),
		.image_size = kernel->len,
		.cmdline = kernel->cmdline,
		.modules = mods,
		.nr_modules = nmods,
		.memmap = memmap,
		.nr_memmap = build_memmap(d, map, nmap, memmap, BOOT_MMAP_MAX),
		.avoid = avoid,
		.nr_avoid = navoid,
		.rsdp = bi->rsdp,
	};
	rc = pvh_build(d, &p, err, sizeof(err));
	if (rc) {
		pr_err("module 'dom0': %s\n", err);
		return rc;
	}
	pr_info("dom0: %lu MiB RAM 1:1 in %u ranges, %u modules\n", d->nr_pages >> 8, d->nr_ram,
		nmods);
	d->state = DOM_RUNNING;
	d->vcpus[0]->runnable = true;
	return 0;

too_fragmented:
	pr_err("dom0: memory too fragmented (more than %d ranges)\n", DOMAIN_MEM_RANGES);
	return rc;
}
