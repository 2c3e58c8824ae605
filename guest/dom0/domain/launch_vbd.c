/*
 * Disks for launched domains (launch.h, docs/pvblk.md "Toolstack"): the
 * xenstore nodes libxl writes for a vbd (libxl_disk.c,
 * libxl__device_disk_add / libxl__device_generic_add), so that blkback
 * (guest/dom0/blkback/) and any blkfront find what they expect, and the
 * Closing/Closed handshake libxl's device removal waits for.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/io/xenbus.h>
#include "guest.h"
#include "launch.h"
#include "loop/loop.h"
#include "pvclock.h"
#include "xsd/xsd.h"

#define BE_FMT "/local/domain/0/backend/vbd/%u/%u"
#define FE_FMT "/local/domain/%u/device/vbd/%u"

static int put(const char *dir, const char *node, const char *val)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, node);
	return xsd_write(path, val);
}

static int put_num(const char *dir, const char *node, u64 v)
{
	char val[24];
	snprintf(val, sizeof(val), "%lu", v);
	return put(dir, node, val);
}

/* xvda, xvdb, ... from Linux's major-202 numbering (minor / 16). */
static void vdev_name(u32 devid, char *buf, size_t n)
{
	snprintf(buf, n, "xvd%c", (char)('a' + ((devid >> 4) & 15)));
}

int launch_vbd_attach(struct launch_domain *d, const struct launch_disk *disk)
{
	char be[80], fe[80], perm_dom[12], name[8];
	unsigned slot = LAUNCH_MAX_DISKS;
	int rc;

	if (!disk->devid || !disk->target)
		return -EINVAL;
	for (unsigned i = 0; i < LAUNCH_MAX_DISKS; i++) {
		if (d->vbds[i] == disk->devid)
			return -EEXIST;
		if (!d->vbds[i] && slot == LAUNCH_MAX_DISKS)
			slot = i;
	}
	if (slot == LAUNCH_MAX_DISKS)
		return -ENOSPC;
	snprintf(be, sizeof(be), BE_FMT, d->id, disk->devid);
	snprintf(fe, sizeof(fe), FE_FMT, d->id, disk->devid);
	vdev_name(disk->devid, name, sizeof(name));

	/* The frontend's directory: the domain's own, dom0 may read. */
	snprintf(perm_dom, sizeof(perm_dom), "n%u", d->id);
	const char *fe_perms[] = { perm_dom, "r0" };
	if ((rc = xsd_mkdir(fe)) || (rc = xsd_set_perms(fe, fe_perms, 2)) ||
	    (rc = put(fe, "backend", be)) || (rc = put_num(fe, "backend-id", 0)) ||
	    (rc = put_num(fe, "virtual-device", disk->devid)) ||
	    (rc = put(fe, "device-type", "disk")) ||
	    (rc = put_num(fe, "state", XenbusStateInitialising)))
		goto fail;
	/* The backend's: dom0's, the domain may read. `state` last: the
	 * backend starts once everything else is there. */
	snprintf(perm_dom, sizeof(perm_dom), "r%u", d->id);
	const char *be_perms[] = { "n0", perm_dom };
	if ((rc = xsd_mkdir(be)) || (rc = xsd_set_perms(be, be_perms, 2)) ||
	    (rc = put(be, "frontend", fe)) || (rc = put_num(be, "frontend-id", d->id)) ||
	    (rc = put(be, "params", disk->target)) ||
	    (rc = put(be, "mode", disk->read_only ? "r" : "w")) ||
	    (rc = put(be, "type", "phy")) || (rc = put(be, "dev", name)) ||
	    (rc = put_num(be, "removable", 0)) || (rc = put_num(be, "bootable", 1)) ||
	    (rc = put(be, "device-type", "disk")) || (rc = put_num(be, "online", 1)) ||
	    (rc = put_num(be, "state", XenbusStateInitialising)))
		goto fail;
	d->vbds[slot] = disk->devid;
	return 0;
fail:
	xsd_rm(be);
	xsd_rm(fe);
	return rc;
}

struct closed_arg {
	const char *be;
};

static bool be_closed(void *arg)
{
	const struct closed_arg *a = arg;
	char path[96], v[8];
	snprintf(path, sizeof(path), "%s/state", a->be);
	return !xsd_read(path, v, sizeof(v)) && !strcmp(v, "6");
}

/* The entry of devid in d->vbds, or LAUNCH_MAX_DISKS. */
static unsigned vbd_slot(const struct launch_domain *d, u32 devid)
{
	unsigned i;

	for (i = 0; i < LAUNCH_MAX_DISKS && (!devid || d->vbds[i] != devid); i++)
		;
	return i;
}

int launch_vbd_detach_start(struct launch_domain *d, u32 devid)
{
	char be[80];

	if (vbd_slot(d, devid) == LAUNCH_MAX_DISKS)
		return -ENOENT;
	snprintf(be, sizeof(be), BE_FMT, d->id, devid);
	/* libxl__initiate_device_generic_remove: online 0, Closing; the
	 * frontend sees Closing and closes, the backend then goes Closed.
	 * One already Closed (the guest closed it) needs nothing. */
	struct closed_arg a = { be };
	if (be_closed(&a))
		return 0;
	int rc = put_num(be, "online", 0);
	return rc ? rc : put_num(be, "state", XenbusStateClosing);
}

bool launch_vbd_closed(const struct launch_domain *d, u32 devid)
{
	char be[80];
	struct closed_arg a = { be };

	snprintf(be, sizeof(be), BE_FMT, d->id, devid);
	return be_closed(&a);
}

int launch_vbd_detach_finish(struct launch_domain *d, u32 devid)
{
	char be[80], fe[80];
	unsigned i = vbd_slot(d, devid);

	if (i == LAUNCH_MAX_DISKS)
		return -ENOENT;
	snprintf(be, sizeof(be), BE_FMT, d->id, devid);
	snprintf(fe, sizeof(fe), FE_FMT, d->id, devid);
	/* Removing the backend directory is what frees the device in
	 * blkback (after its outstanding requests), Closed or not. */
	xsd_rm(be);
	xsd_rm(fe);
	d->vbds[i] = 0;
	return 0;
}

struct vbd_arg {
	const struct launch_domain *d;
	u32 devid;
};

static bool vbd_closed(void *arg)
{
	const struct vbd_arg *a = arg;
	return launch_vbd_closed(a->d, a->devid);
}

int launch_vbd_detach(struct launch_domain *d, u32 devid, u64 timeout_ns)
{
	struct vbd_arg a = { d, devid };
	int rc;

	if ((rc = launch_vbd_detach_start(d, devid)) == -ENOENT)
		return rc;
	/* A store error still removes the nodes, as before. */
	if (!rc && !loop_run_until(vbd_closed, &a, pvclock_now_ns() + timeout_ns))
		rc = -ETIMEDOUT;
	launch_vbd_detach_finish(d, devid);
	/* Let the backend see the removal and free the device. */
	for (unsigned n = 0; n < 100 && loop_run_once(false); n++)
		;
	return rc;
}

int launch_vbds_create(const struct launch_params *p, struct launch_domain *d)
{
	if (p->nr_disks > LAUNCH_MAX_DISKS || (p->nr_disks && !p->disks))
		return -E2BIG;
	for (unsigned i = 0; i < p->nr_disks; i++) {
		int rc = launch_vbd_attach(d, &p->disks[i]);
		if (rc)
			return rc; /* undo takes down the ones attached */
	}
	return 0;
}

void launch_vbds_destroy(struct launch_domain *d)
{
	char path[64];

	for (unsigned i = 0; i < LAUNCH_MAX_DISKS; i++)
		if (d->vbds[i])
			launch_vbd_detach(d, d->vbds[i], 2ULL * 1000000000ULL);
	/* libxl__devices_destroy: the domain's backend directory goes too
	 * (hot-plugged disks included, so it is removed whatever the list). */
	snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%u", d->id);
	xsd_rm(path);
}
