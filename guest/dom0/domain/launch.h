/*
 * The domain launcher (guest/dom0/domain/launch.c): the one way dom0
 * starts and stops a domU (self-test scenarios now, the CLI next),
 * following Xen's toolstack (libxl). docs/launcher.md has the sequence.
 *
 * launch_domain: creates the domain (name, vCPUs, memory, static max),
 * builds the PVH image with its command line, gives it a PV console page
 * and port (served by console/backend.h) and a xenstore page and port
 * (HVM_PARAM_STORE_PFN / STORE_EVTCHN), writes /local/domain/N
 * (name, domid, vm, memory/{target,static-max}, console/{ring-ref,port,
 * type,limit}, and device/, control/, data/ owned by N), INTRODUCEs it to
 * dom0's xenstored (guest/dom0/xsd/xsd.h; @introduceDomain fires) and
 * unpauses it. On any failure it undoes every step already done (nodes
 * removed, released, console detached, domain destroyed, so dom0 holds
 * nothing and the hypervisor's pages are back), writes a one-line reason
 * into err, and returns the failing step's -errno.
 *
 * launch_destroy: releases the domain from xenstored (@releaseDomain
 * fires; dom0's mapping of the store page and its channel go), detaches
 * its console (mapping and channel go), removes its xenstore nodes and
 * destroys it. 0 or the first error (every step is still tried).
 */
#ifndef GUEST_DOM0_LAUNCH_H
#define GUEST_DOM0_LAUNCH_H

#include <public/event_channel.h>
#include <public/xen.h>

/* A module for the domain (an initrd): bytes in dom0's memory. */
struct launch_module {
	const void *data;
	u64 size;
	const char *cmdline;
};

/* A disk for the domain (domain/launch_vbd.c): blkdev `target` ("vda",
 * "nvme0n1", "vda1") as virtual device `devid` (Linux's xvda is 51712 =
 * 202 << 8), read-only when read_only (backend mode "r"). */
struct launch_disk {
	const char *target;
	u32 devid;
	bool read_only;
};

#define LAUNCH_MAX_DISKS 4

/* A vif (network device) for the domain (launch_vif.c): device id
 * D < LAUNCH_MAX_VIFS, the MAC (all zero: 00:16:3e:<domid>:<D>), the
 * bridge (NULL: "xenbr0"). */
#define LAUNCH_MAX_VIFS 8
struct launch_vif {
	unsigned devid;
	u8 mac[6];
	const char *bridge;
};

struct launch_params {
	const char *name;      /* the domain's name (xenstore `name`) */
	domid_t domid;         /* the id to create it with; 0: the hypervisor picks */
	unsigned mem_mib;      /* RAM at guest-physical 0: memory/target */
	unsigned max_mem_mib;  /* memory/static-max; 0 = mem_mib */
	unsigned vcpus;        /* 0 = 1 */
	const void *image;     /* PVH ELF (e.g. a boot module, dom_module_find) */
	u64 image_size;
	const char *cmdline;   /* NULL = empty */
	/* Modules (an initrd), at most KEEL_DOMCTL_MODULES_MAX (else -E2BIG,
	 * nothing done): the hypervisor's PVH builder copies them into the
	 * domain past the kernel and lists them in its start info's modlist
	 * (KEEL_DOMCTL_pvh_build); its errors fail the build step. */
	const struct launch_module *modules;
	unsigned nr_modules;
	/* Disks, at most LAUNCH_MAX_DISKS (else -E2BIG): their xenstore
	 * nodes are written with the domain's (step `nodes`), and taken down
	 * by launch_destroy. */
	const struct launch_disk *disks;
	unsigned nr_disks;
	/* Vifs written with the other nodes (step "nodes"); served by
	 * dom0's netback as vif<domid>.<devid> on their bridge. */
	const struct launch_vif *vifs;
	unsigned nr_vifs;
	bool paused;           /* leave it paused (launch_unpause later) */
	/* Tests: fail with -EINTR just before step `fail_at`
	 * (LAUNCH_STEP_*), to prove the undo of the steps before it. */
	unsigned fail_at;
};

/* The steps, in order (docs/launcher.md). */
enum {
	LAUNCH_STEP_CREATE = 1,
	LAUNCH_STEP_MEMORY,
	LAUNCH_STEP_BUILD,
	LAUNCH_STEP_PAGES,
	LAUNCH_STEP_CONSOLE,
	LAUNCH_STEP_NODES,
	LAUNCH_STEP_INTRODUCE,
	LAUNCH_STEP_UNPAUSE,
	LAUNCH_STEP_NR
};

/* A launched domain: what dom0 set up for it. */
struct launch_domain {
	domid_t id;
	u64 console_gfn, store_gfn;
	evtchn_port_t console_port, store_port; /* the domain's ends */
	unsigned done; /* steps done (bit per LAUNCH_STEP_*) */
	u32 vbds[LAUNCH_MAX_DISKS]; /* devids attached (0: free entry) */
	u32 vifs;      /* device ids of the vifs attached (bit per devid) */
};

int launch_domain(const struct launch_params *p, struct launch_domain *d, char *err,
		  size_t errlen);
int launch_unpause(struct launch_domain *d);
int launch_destroy(struct launch_domain *d);

/*
 * Disks (domain/launch_vbd.c; docs/pvblk.md "Toolstack"). attach writes
 * the backend's nodes under /local/domain/0/backend/vbd/<id>/<devid>
 * (frontend, frontend-id, online, state, params, mode, type, dev, ...;
 * dom0's, readable by the domain) and the frontend's under
 * /local/domain/<id>/device/vbd/<devid> (backend, backend-id, state,
 * virtual-device, device-type; the domain's, readable by dom0), as libxl
 * does, for a domain being launched or already running (hot plug):
 * 0, -EEXIST, -ENOSPC (LAUNCH_MAX_DISKS), or the store's error (nothing
 * left written). detach: online = 0 and Closing to the backend, waits
 * (running dom0's loop) up to timeout_ns for the backend's Closed, then
 * removes both directories either way: 0, -ENOENT, or -ETIMEDOUT when
 * the frontend never closed (the nodes are still removed, the backend
 * frees the device). create/destroy are launch_domain's hooks.
 */
int launch_vbd_attach(struct launch_domain *d, const struct launch_disk *disk);
int launch_vbd_detach(struct launch_domain *d, u32 devid, u64 timeout_ns);
/*
 * The same detach in steps, for a caller that must not run dom0's loop
 * (the CLI's block-detach, itself a loop handler): start writes online =
 * 0 and Closing to the backend (nothing when it is Closed already): 0,
 * -ENOENT (no such devid) or the store's error. closed: whether the
 * backend has reached Closed (the frontend answered). finish removes
 * both directories and frees the entry whatever the state (blkback frees
 * the device once its requests are done): 0 or -ENOENT.
 */
int launch_vbd_detach_start(struct launch_domain *d, u32 devid);
bool launch_vbd_closed(const struct launch_domain *d, u32 devid);
int launch_vbd_detach_finish(struct launch_domain *d, u32 devid);
int launch_vbds_create(const struct launch_params *p, struct launch_domain *d);
void launch_vbds_destroy(struct launch_domain *d);

/*
 * Vifs (launch_vif.c, docs/pvnet.md): hot attach writes the frontend and
 * backend nodes as libxl does (netback connects when the guest's
 * netfront does); detach takes the vif down in netback at once (off the
 * bridge, rings unmapped, channels closed), then removes both nodes.
 * launch_destroy detaches every vif first. attach: 0, -EINVAL (devid),
 * -EEXIST, or the store's error (what was written is removed); detach:
 * 0 or -ENOENT.
 *
 * detach_wait is the orderly hot unplug of a running guest's vif:
 * detach_start (online = 0 and Closing to the backend; nothing when it
 * is Closed already: 0, -ENOENT or the store's error), then dom0's loop
 * runs until the backend is Closed (the frontend answered Closing and
 * Closed) or timeout_ns passes, then detach. 0, -ENOENT, or -ETIMEDOUT
 * when the frontend never closed (removed anyway, one line logged).
 * closed: the backend is Closed or gone. Callers that must not run the
 * loop (a loop handler) use start, closed and detach themselves.
 */
int launch_vif_attach(struct launch_domain *d, const struct launch_vif *vif);
int launch_vif_detach(struct launch_domain *d, unsigned devid);
int launch_vif_detach_start(struct launch_domain *d, unsigned devid);
bool launch_vif_closed(const struct launch_domain *d, unsigned devid);
int launch_vif_detach_wait(struct launch_domain *d, unsigned devid, u64 timeout_ns);
void launch_vif_detach_all(struct launch_domain *d);
/* The hook of step "nodes": every p->vifs attached, or the first error. */
int launch_vifs_create(const struct launch_params *p, struct launch_domain *d);

/* Step name ("create", "memory" ...) for messages. */
const char *launch_step_name(unsigned step);

#endif
