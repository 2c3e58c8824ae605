/*
 * Kernel loading through foreign mappings (contract in load.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "domain/domain.h"
#include "domctl.h"
#include "elfpack.h"
#include "gnttab.h"
#include "guest.h"
#include "image.h"
#include "load.h"
#include "loop/loop.h"
#include "pages.h"

/*
 * The mapping-window slot the loader writes through: between the
 * self-tests (which count up from 0) and blkback (from 128); the console
 * backend, xenstored and netback sit at the top of the window.
 */
#define LOAD_SLOT 120

/*
 * The part of dom0's page pool an unpack leaves to the services that keep
 * running while it goes on (let_others_run): rings, the NIC backlogs,
 * xenstored, blkback's staging. 16 MiB, or an eighth of a smaller pool.
 * Without it a large kernel could take the whole pool and every other
 * guest's I/O would fail with -ENOMEM until the create ended.
 */
#define LOAD_RESERVE_PAGES ((16ULL << 20) >> PAGE_SHIFT)

static u64 load_reserve(void)
{
	return MIN(LOAD_RESERVE_PAGES, pages_total() / 8);
}

static void *mem_alloc(void *ctx, size_t n)
{
	u64 pages = ALIGN_UP(n, PAGE_SIZE) >> PAGE_SHIFT, free = pages_free_count();

	(void)ctx;
	if (free < load_reserve() || free - load_reserve() < pages)
		return NULL;
	return pages_alloc(pages, 0);
}

static void mem_release(void *ctx, void *p, size_t n)
{
	(void)ctx;
	pages_free(p, ALIGN_UP(n, PAGE_SIZE) >> PAGE_SHIFT);
}

/*
 * Unpacking and writing a distribution kernel takes seconds of dom0's
 * time (tens of MiB through XZ, then a foreign mapping per page): the
 * loop's services run between steps so that the other guests' consoles,
 * disks, networks and xenstore go on meanwhile; its control ports (the
 * console's commands, VIRQ_DOM_EXC's restarts) wait (loop_run_services),
 * so no second create starts inside this one, whose decoder, segment table
 * and mapping slot are single (`building` refuses one all the same).
 */
static void let_others_run(void *ctx)
{
	(void)ctx;
	if (!loop_init())
		loop_run_services();
}

/* Writes segment s (file bytes, then zeros) page by page, letting the
 * loop run every 256 pages. */
static int write_segment(domid_t id, const u8 *elf, const struct elfpack_seg *s, char *err,
			 size_t errlen)
{
	u64 slot = gnttab_slot_gpa(LOAD_SLOT);
	u8 *va = gnttab_slot_va(LOAD_SLOT);
	u64 done = 0;

	while (done < s->memsz) {
		u64 gpa = s->paddr + done, in_page = gpa & (PAGE_SIZE - 1);
		u64 n = MIN(PAGE_SIZE - in_page, s->memsz - done);
		int rc = dom_map_foreign_one(id, gpa >> PAGE_SHIFT, slot);
		if (rc) {
			snprintf(err, errlen, "kernel segment at 0x%lx: guest frame 0x%lx cannot be mapped (%d): outside the domain's RAM?",
				 (unsigned long)s->paddr, (unsigned long)(gpa >> PAGE_SHIFT), rc);
			return rc;
		}
		u64 from_file = done < s->filesz ? MIN(n, s->filesz - done) : 0;
		memcpy(va + in_page, elf + s->offset + done, from_file);
		memset(va + in_page + from_file, 0, n - from_file);
		if ((rc = dom_unmap_foreign(slot))) {
			snprintf(err, errlen, "kernel load: unmapping guest frame 0x%lx failed (%d)",
				 (unsigned long)(gpa >> PAGE_SHIFT), rc);
			return rc;
		}
		done += n;
		if (!(gpa >> PAGE_SHIFT & 255))
			let_others_run(NULL);
	}
	return 0;
}

/* Unpacks and writes the kernel, then has the hypervisor build the
 * domain from the headers and notes kept in `compact`. */
static int build(domid_t id, const void *data, u64 size, const char *cmdline,
		 const struct keel_domctl_pvh_module *mods, unsigned nr_mods, char *err,
		 size_t errlen)
{
	static u8 compact[ELFPACK_OUT_MAX];
	static struct elfpack pk;
	const struct image_mem mem = { mem_alloc, mem_release, NULL, let_others_run };
	struct image_result r;
	int rc;

	if ((rc = image_unpack(data, size, &mem, &r, err, errlen))) {
		size_t len = strlen(err);
		if (rc == -ENOMEM && len + 1 < errlen)
			snprintf(err + len, errlen - len, " (%llu MiB free, %llu MiB kept for dom0's services)",
				 (unsigned long long)(pages_free_count() >> (20 - PAGE_SHIFT)),
				 (unsigned long long)(load_reserve() >> (20 - PAGE_SHIFT)));
		return rc;
	}
	if (r.container != IMG_ELF)
		printf("image: %s%s payload: %zu bytes of ELF\n", r.bzimage ? "bzImage, " : "",
		       image_fmt_name(r.container), r.elf_len);
	rc = elfpack_split(r.elf, r.elf_len, &pk, compact, err, errlen);
	for (unsigned i = 0; !rc && i < pk.nr_segs; i++)
		rc = write_segment(id, r.elf, &pk.segs[i], err, errlen);
	if (r.owned)
		mem_release(NULL, r.owned, r.owned_len);
	if (rc)
		return rc;
	rc = domctl_pvh_build_flags(id, compact, pk.out_len, cmdline ? cmdline : "", mods, nr_mods,
				    KEEL_PVH_BUILD_PRELOADED);
	if (rc)
		snprintf(err, errlen, "the hypervisor's PVH builder refused the kernel (%d; its console line says why)",
			 rc);
	return rc;
}

int image_build_domain(domid_t id, const void *data, u64 size, const char *cmdline,
		       const struct keel_domctl_pvh_module *mods, unsigned nr_mods, char *err,
		       size_t errlen)
{
	static bool building;
	int rc;

	if (size > IMAGE_MAX) {
		snprintf(err, errlen, "kernel image of %lu MiB is larger than %llu MiB",
			 (unsigned long)(size >> 20), IMAGE_MAX >> 20);
		return -E2BIG;
	}
	if (building) {
		snprintf(err, errlen, "another domain's kernel is being loaded");
		return -EBUSY;
	}
	if ((rc = gnttab_init(start_info(), 1))) {
		snprintf(err, errlen, "kernel load: no mapping window (%d)", rc);
		return rc;
	}
	building = true;
	rc = build(id, data, size, cmdline, mods, nr_mods, err, errlen);
	building = false;
	return rc;
}
