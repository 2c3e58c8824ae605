/*
 * The domain launcher (contract in launch.h; docs/launcher.md).
 *
 * Xenstore layout and permissions as libxl writes them
 * (docs/misc/xenstore-paths.pandoc in Xen): /local/domain/N belongs to
 * dom0 with read access for N ("n0", "rN") and so do the nodes under it
 * that the guest may only read (name, domid, memory/, console/); the
 * nodes the guest writes (device/, control/, data/) belong to N ("nN").
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/hvm_op.h>
#include <public/params.h>
#include "console/backend.h"
#include "domctl.h"
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "image/load.h"
#include "launch.h"
#include "pvclock.h"
#include "xsd/xsd.h"

static const char *const step_names[LAUNCH_STEP_NR] = {
	[LAUNCH_STEP_CREATE] = "create",       [LAUNCH_STEP_MEMORY] = "memory",
	[LAUNCH_STEP_BUILD] = "build",         [LAUNCH_STEP_PAGES] = "console and store pages",
	[LAUNCH_STEP_CONSOLE] = "console",     [LAUNCH_STEP_NODES] = "xenstore nodes",
	[LAUNCH_STEP_INTRODUCE] = "introduce", [LAUNCH_STEP_UNPAUSE] = "unpause",
};

const char *launch_step_name(unsigned step)
{
	return step && step < LAUNCH_STEP_NR ? step_names[step] : "?";
}

static int set_param(domid_t id, u32 index, u64 value)
{
	struct xen_hvm_param p = { .domid = id, .index = index, .value = value };

	return (int)HYPERVISOR_hvm_op(HVMOP_set_param, &p);
}

/* Writes "/local/domain/<id><rest>" = value, with perms (owner first) when
 * given. */
static int node(domid_t id, const char *rest, const char *value, const char *owner,
		const char *reader)
{
	char path[96];
	const char *perms[2] = { owner, reader };
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%u%s", id, rest);
	if (value)
		rc = xsd_write(path, value);
	else
		rc = xsd_mkdir(path);
	if (!rc && owner)
		rc = xsd_set_perms(path, perms, reader ? 2 : 1);
	return rc;
}

/*
 * /vm/N: libxl keeps the domain's VM-level entries under /vm/<uuid> and
 * links it from /local/domain/N/vm. Keel has no domain handle yet, so the
 * directory is named by the domain id and the uuid is derived from it
 * (unique among running domains, not across reboots).
 */
static int write_vm(const struct launch_params *p, domid_t id, const char *rn)
{
	char path[48], v[48];
	const char *perms[2] = { "n0", rn };
	int rc;

	snprintf(path, sizeof(path), "/vm/%u", id);
	if ((rc = xsd_mkdir(path)) || (rc = xsd_set_perms(path, perms, 2)))
		return rc;
	snprintf(path, sizeof(path), "/vm/%u/name", id);
	if ((rc = xsd_write(path, p->name)))
		return rc;
	snprintf(path, sizeof(path), "/vm/%u/uuid", id);
	snprintf(v, sizeof(v), "00000000-0000-0000-0000-%012x", id);
	if ((rc = xsd_write(path, v)))
		return rc;
	snprintf(path, sizeof(path), "/vm/%u/start_time", id);
	u64 now = pvclock_now_ns();
	snprintf(v, sizeof(v), "%lu.%02lu", now / 1000000000, now / 10000000 % 100);
	return xsd_write(path, v);
}

static int write_nodes(const struct launch_params *p, struct launch_domain *d)
{
	char n0[] = "n0", rn[8], nn[8], v[64];
	domid_t id = d->id;
	unsigned max = p->max_mem_mib ? p->max_mem_mib : p->mem_mib;
	int rc;

	snprintf(rn, sizeof(rn), "r%u", id);
	snprintf(nn, sizeof(nn), "n%u", id);
	/* The domain's directory first: children inherit its list. */
	if ((rc = node(id, "", NULL, n0, rn)) || (rc = node(id, "/name", p->name, NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "%u", id);
	if ((rc = node(id, "/domid", v, NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "/vm/%u", id);
	if ((rc = node(id, "/vm", v, NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "%u", p->mem_mib * 1024);
	if ((rc = node(id, "/memory/target", v, NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "%u", max * 1024);
	if ((rc = node(id, "/memory/static-max", v, NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "%lu", d->console_gfn);
	if ((rc = node(id, "/console/ring-ref", v, NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "%u", d->console_port);
	if ((rc = node(id, "/console/port", v, NULL, NULL)) ||
	    (rc = node(id, "/console/type", "xenconsoled", NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "%u", CONS_HISTORY);
	if ((rc = node(id, "/console/limit", v, NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "%lu", d->store_gfn);
	if ((rc = node(id, "/store/ring-ref", v, NULL, NULL)))
		return rc;
	snprintf(v, sizeof(v), "%u", d->store_port);
	if ((rc = node(id, "/store/port", v, NULL, NULL)))
		return rc;
	/* libxl's vCPU availability (Linux's cpu_hotplug.c watches cpu/). */
	for (unsigned i = 0; i < p->vcpus; i++) {
		char rest[32];
		snprintf(rest, sizeof(rest), "/cpu/%u/availability", i);
		if ((rc = node(id, rest, "online", NULL, NULL)))
			return rc;
	}
	/* The guest's own: it creates and changes nodes here. */
	if ((rc = node(id, "/device", NULL, nn, NULL)) ||
	    (rc = node(id, "/control", NULL, nn, NULL)) ||
	    (rc = node(id, "/data", NULL, nn, NULL)))
		return rc;
	/* Read-only for the guest: xenstored takes XS_RESET_WATCHES, so
	 * Linux's xenbus may clear stale watches at start (xs_reset_watches
	 * checks this node). */
	if ((rc = node(id, "/control/platform-feature-xs_reset_watches", "1", n0, rn)))
		return rc;
	return write_vm(p, id, rn);
}

static void remove_nodes(domid_t id)
{
	char path[48];

	snprintf(path, sizeof(path), "/local/domain/%u", id);
	xsd_rm(path);
	snprintf(path, sizeof(path), "/vm/%u", id);
	xsd_rm(path);
}

static int introduce(struct launch_domain *d)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "%u%c%lu%c%u", d->id, 0, d->store_gfn, 0,
			 d->store_port);

	return xsd_call(XS_INTRODUCE, 0, buf, (u32)n + 1, NULL, NULL);
}

#define DONE(d, s) ((d)->done & (1u << (s)))

/* Undoes every step done, newest first. Returns the first error. */
static int undo(struct launch_domain *d)
{
	int rc = 0, r;

	if (DONE(d, LAUNCH_STEP_INTRODUCE))
		xs_store_domain_gone(xsd_store(), d->id); /* @releaseDomain */
	if (DONE(d, LAUNCH_STEP_NODES)) {
		launch_vbds_destroy(d);
		launch_vif_detach_all(d);
		remove_nodes(d->id);
	}
	if (DONE(d, LAUNCH_STEP_CONSOLE))
		cons_back_detach(d->id);
	/* The pages, ports and memory are the domain's: they go with it.
	 * -ESRCH: someone destroyed it already (what dom0 held for it was
	 * released above all the same). */
	if (DONE(d, LAUNCH_STEP_CREATE) && (r = domctl_destroy(d->id)) && r != -ESRCH)
		rc = r;
	d->done = 0;
	return rc;
}

int launch_domain(const struct launch_params *p, struct launch_domain *d, char *err,
		  size_t errlen)
{
	unsigned max = p->max_mem_mib ? p->max_mem_mib : p->mem_mib;
	unsigned step = 0;
	domid_t id = 0;
	static char why[160];
	int rc;

	why[0] = 0;
	memset(d, 0, sizeof(*d));
	if (err && errlen)
		err[0] = 0;
	if (!p->name || !p->mem_mib || max < p->mem_mib || !p->image) {
		rc = -EINVAL;
		goto fail;
	}
	if (p->nr_modules > KEEL_DOMCTL_MODULES_MAX || (p->nr_modules && !p->modules)) {
		rc = -E2BIG;
		goto fail;
	}
	if ((rc = xsd_init()))
		goto fail;
#define STEP(s)                                  \
	do {                                     \
		step = (s);                      \
		if (p->fail_at == (s)) {         \
			rc = -EINTR;         \
			goto fail;               \
		}                                \
	} while (0)

	STEP(LAUNCH_STEP_CREATE);
	id = p->domid;
	if ((rc = domctl_create(&id, p->vcpus ? p->vcpus : 1, p->name)))
		goto fail;
	d->id = id;
	d->done |= 1u << step;

	/* RAM at 0, and room for the console and store pages past it (two
	 * more frames; max_mem is in KiB). */
	STEP(LAUNCH_STEP_MEMORY);
	if ((rc = domctl_max_mem(id, (u64)max * 1024 + 8)) ||
	    (rc = domctl_populate_ram(id, 0, (u64)p->mem_mib * 256)))
		goto fail;
	d->done |= 1u << step;

	STEP(LAUNCH_STEP_BUILD);
	struct keel_domctl_pvh_module mods[KEEL_DOMCTL_MODULES_MAX];
	for (unsigned i = 0; i < p->nr_modules; i++) {
		const char *c = p->modules[i].cmdline;
		mods[i] = (struct keel_domctl_pvh_module){ .buffer = (u64)(uintptr_t)p->modules[i].data,
							   .size = p->modules[i].size,
							   .cmdline = (u64)(uintptr_t)c,
							   .cmdline_len = c ? (u32)strlen(c) : 0 };
	}
	/* image/load.h: ELF, bzImage or compressed ELF, written through
	 * foreign mappings; its error line replaces the generic one. */
	if ((rc = image_build_domain(id, p->image, p->image_size, p->cmdline, mods, p->nr_modules,
				     why, sizeof(why))))
		goto fail;
	d->done |= 1u << step;

	/* As dom_console_create: just past the RAM of its memory map (made
	 * by the build), so the guest never takes them for RAM. The ports
	 * are the domain's, unbound, for dom0 to bind. */
	STEP(LAUNCH_STEP_PAGES);
	d->console_gfn = (u64)p->mem_mib * 256;
	d->store_gfn = d->console_gfn + 1;
	if ((rc = domctl_populate_ram(id, d->console_gfn << PAGE_SHIFT, 2)) ||
	    (rc = evtchn_alloc_unbound(id, 0, &d->console_port)) ||
	    (rc = evtchn_alloc_unbound(id, 0, &d->store_port)) ||
	    (rc = set_param(id, HVM_PARAM_CONSOLE_PFN, d->console_gfn)) ||
	    (rc = set_param(id, HVM_PARAM_CONSOLE_EVTCHN, d->console_port)) ||
	    (rc = set_param(id, HVM_PARAM_STORE_PFN, d->store_gfn)) ||
	    (rc = set_param(id, HVM_PARAM_STORE_EVTCHN, d->store_port)))
		goto fail;
	d->done |= 1u << step;

	STEP(LAUNCH_STEP_CONSOLE);
	if ((rc = cons_back_attach(id, d->console_gfn, d->console_port)))
		goto fail;
	d->done |= 1u << step;

	STEP(LAUNCH_STEP_NODES);
	/* Marked first: a failure half-way still removes what was written. */
	d->done |= 1u << step;
	if ((rc = write_nodes(p, d)) || (rc = launch_vbds_create(p, d)) ||
	    (rc = launch_vifs_create(p, d)))
		goto fail;

	STEP(LAUNCH_STEP_INTRODUCE);
	if ((rc = introduce(d)))
		goto fail;
	d->done |= 1u << step;

	if (!p->paused) {
		STEP(LAUNCH_STEP_UNPAUSE);
		if ((rc = domctl_unpause(id)))
			goto fail;
		d->done |= 1u << step;
	}
#undef STEP
	return 0;

fail:
	if (err && errlen)
		snprintf(err, errlen, "launch %s: %s failed: %d%s%s", p->name ? p->name : "?",
			 step ? launch_step_name(step) : "parameters", rc, why[0] ? ": " : "", why);
	undo(d);
	return rc;
}

int launch_unpause(struct launch_domain *d)
{
	int rc = domctl_unpause(d->id);

	if (!rc)
		d->done |= 1u << LAUNCH_STEP_UNPAUSE;
	return rc;
}

int launch_destroy(struct launch_domain *d)
{
	return undo(d);
}
