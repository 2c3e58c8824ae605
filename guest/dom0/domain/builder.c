/*
 * Building and watching domUs (contract in domain.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/memory.h>
#include "domain.h"
#include "loop/loop.h"
#include "domctl.h"
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"

#define NS_PER_SEC 1000000000ULL

int dom_module_find(const struct hvm_start_info *si, const char *name, const void **image,
		    u64 *size)
{
	size_t len = strlen(name);
	unsigned n;
	const struct hvm_modlist_entry *m = si_modules(si, &n);

	for (unsigned i = 0; i < n; i++) {
		const char *c = si_module_cmdline(&m[i]);
		if (!strncmp(c, name, len) && (c[len] == 0 || c[len] == ' ')) {
			*image = (const void *)(uintptr_t)m[i].paddr;
			*size = m[i].size;
			return 0;
		}
	}
	return -ENOENT;
}

int dom_create(const char *name, unsigned ram_mib, domid_t *id)
{
	domid_t d = 0;
	int rc = domctl_create(&d, 1, name);

	if (rc)
		return rc;
	/* populate_ram counts 4 KiB frames. */
	if ((rc = domctl_max_mem(d, ram_mib * 1024)) ||
	    (rc = domctl_populate_ram(d, 0, (u64)ram_mib * 256))) {
		domctl_destroy(d);
		return rc;
	}
	*id = d;
	return 0;
}

int dom_info(domid_t id, struct xen_domctl_getdomaininfo *info)
{
	return domctl_getdomaininfo(id, info);
}

int dom_shutdown_code(domid_t id)
{
	struct xen_domctl_getdomaininfo i;
	int rc = dom_info(id, &i);

	if (rc)
		return rc;
	if (!(i.flags & XEN_DOMINF_shutdown))
		return -1;
	return (int)((i.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask);
}

struct wait_down {
	const domid_t *ids;
	unsigned n;
	int rc;
};

static bool all_down(void *arg)
{
	struct wait_down *w = arg;

	for (unsigned i = 0; i < w->n; i++) {
		struct xen_domctl_getdomaininfo info;
		if ((w->rc = dom_info(w->ids[i], &info)))
			return true;
		if (!(info.flags & XEN_DOMINF_shutdown))
			return false;
	}
	return true;
}

int dom_wait_shutdown(const domid_t *ids, unsigned n, u64 timeout_ns)
{
	struct wait_down w = { ids, n, 0 };
	u64 deadline = pvclock_now_ns() + timeout_ns;
	int rc;

	if ((rc = dom_exc_init()))
		return rc;
	for (;;) {
		u64 now = pvclock_now_ns();
		if (loop_run_until(all_down, &w, MIN(deadline, now + NS_PER_SEC)))
			return w.rc;
		if (pvclock_now_ns() >= deadline)
			return -ETIMEDOUT;
	}
}

void dom_print_exits(const char *prefix, domid_t id)
{
	u64 c[KEEL_EXIT_NR];
	u32 total;

	if (domctl_exit_counts(id, c, KEEL_EXIT_NR, &total))
		return;
	printf("%sd%u exits: hypercall %lu, extint %lu, hlt %lu, io %lu, npf %lu, "
	       "cpuid %lu, cache-flush %lu, preempt %lu\n", prefix, id, c[KEEL_EXIT_HYPERCALL],
	       c[KEEL_EXIT_EXTINT], c[KEEL_EXIT_HLT], c[KEEL_EXIT_IO], c[KEEL_EXIT_NPF],
	       c[KEEL_EXIT_CPUID], c[KEEL_EXIT_CACHE_FLUSH], c[KEEL_EXIT_PREEMPT]);
}

int dom_map_foreign(domid_t fd, u64 gfn, u64 gpa, int *err)
{
	xen_ulong_t idxs[1] = { gfn };
	xen_pfn_t gpfns[1] = { gpa >> PAGE_SHIFT };
	struct xen_add_to_physmap_batch b = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_gmfn_foreign,
		.size = 1,
		.u.foreign_domid = fd,
		.idxs = (u64)(uintptr_t)idxs,
		.gpfns = (u64)(uintptr_t)gpfns,
		.errs = (u64)(uintptr_t)err,
	};
	/* Not 0, so a batch that never reached the frame is not success. */
	*err = 1;
	return (int)HYPERVISOR_memory_op(XENMEM_add_to_physmap_batch, &b);
}

int dom_map_foreign_one(domid_t fd, u64 gfn, u64 gpa)
{
	int err;
	int rc = dom_map_foreign(fd, gfn, gpa, &err);

	return rc ? rc : err;
}

int dom_unmap_foreign(u64 gpa)
{
	struct xen_remove_from_physmap r = { .domid = DOMID_SELF, .gpfn = gpa >> PAGE_SHIFT };

	return (int)HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &r);
}
