/*
 * Domain control inside the hypervisor: the pieces behind the domctl and
 * sysctl hypercalls (kernel/domctl.c) that other code may call too.
 *
 * Memory of a domU (kernel/domain_mem.c): guest-physical RAM is
 * populated in page-aligned ranges recorded in d->ram (gpa and length;
 * the host frames behind them are scattered and found through the p2m).
 * Every frame given to d is owned by d (page_alloc_for / page_assign,
 * one owner reference); destroying d drops that reference for every
 * frame d still owns, so frames nobody else maps go straight back to the
 * allocator and frames_free() returns to its value before d existed.
 */
#ifndef KEEL_DOMCTL_H
#define KEEL_DOMCTL_H

#include <lib/types.h>

struct domain;

/*
 * Gives d nr_pages of zeroed RAM at guest-physical gpa, owned by d and
 * mapped RWX write-back in its p2m. All or nothing: on error nothing is
 * allocated or mapped. -EINVAL (misaligned, empty, wrapping, at or above
 * `limit`), -EEXIST (overlaps d's RAM), -ENOMEM (beyond d->max_pages, no
 * frames, too many ranges), -EBUSY (the range holds a grant or foreign
 * mapping of d's, which a p2m change never replaces: asm/p2m.h).
 */
int domain_populate_ram(struct domain *d, gpa_t gpa, u64 nr_pages, u64 limit);

/*
 * Drops d's owner reference on every frame d owns (RAM and anything else
 * assigned to it), then clears d->ram. Frames another domain still holds
 * a reference on (a grant mapping not yet revoked) stay allocated until
 * that reference goes. Returns the number of frames still held that way.
 * Call with d's vCPUs stopped and its p2m about to be destroyed.
 */
u64 domain_release_memory(struct domain *d);

/* Builds a PVH kernel into d (which must have RAM and not have started)
 * from an ELF image the hypervisor can read: cmdline, d's RAM as the
 * memory map, and the nr_load modules in `load` copied into d's RAM past
 * the kernel (keel/pvh.h). `preloaded`: the segments are in d's RAM
 * already (KEEL_PVH_BUILD_PRELOADED). 0 or -errno (reason printed). */
struct pvh_load_module;
int domain_build_pvh(struct domain *d, const void *image, u64 size, const char *cmdline,
		     const struct pvh_load_module *load, unsigned nr_load, bool preloaded);

#endif
