/*
 * Vifs for launched domains (launch.h "Vifs"): the xenstore nodes of a
 * network device as libxl writes them (libxl_nic.c, docs/misc/
 * xenstore-paths.pandoc), served by dom0's netback (netback/netback.h).
 *
 *   /local/domain/N/device/vif/D/       owner N, dom0 reads (n<N> r0)
 *       backend, backend-id, handle, mac, state = 1
 *   /local/domain/0/backend/vif/N/D/    owner dom0, N reads (n0 r<N>)
 *       frontend, frontend-id, online, state = 1, mac, bridge, handle, type
 *
 * netback's watch on backend/vif picks the device up from the loop.
 * launch_vif_detach_wait is libxl's device removal: online = 0 and the
 * backend to Closing, the frontend closes (Closing, Closed), netback
 * follows to Closed; after at most the caller's timeout the removal is
 * forced. Either way it ends in launch_vif_detach, which takes the vif
 * down synchronously (netback_vif_remove: off the bridge, rings unmapped,
 * channels closed) before the nodes go, so that a domain destroyed right
 * after leaves nothing mapped in dom0 (destroy does only that: a dead
 * domain's frontend cannot answer).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "domain/launch.h"
#include "guest.h"
#include "loop/loop.h"
#include "netback/netback.h"
#include "pvclock.h"
#include "xsd/xsd.h"

static int put(const char *dir, const char *key, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, key);
	return xsd_write(path, value);
}

static int perms(const char *dir, const char *owner, const char *reader)
{
	const char *p[2] = { owner, reader };

	return xsd_set_perms(dir, p, 2);
}

int launch_vif_attach(struct launch_domain *d, const struct launch_vif *vif)
{
	char fe[96], be[96], mac[24], v[16], own[8], rd[8];
	const u8 *m = vif->mac;
	int rc;

	if (vif->devid >= LAUNCH_MAX_VIFS)
		return -EINVAL;
	if (d->vifs & (1u << vif->devid))
		return -EEXIST;
	if ((rc = netback_init()))
		return rc;
	snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/%u", d->id, vif->devid);
	snprintf(be, sizeof(be), "/local/domain/0/backend/vif/%u/%u", d->id, vif->devid);
	/* A MAC in Xen's OUI 00:16:3e when none is given, unique per
	 * domain and device. */
	u8 def[6] = { 0x00, 0x16, 0x3e, (u8)(d->id >> 8), (u8)d->id, (u8)vif->devid };
	bool zero = true;
	for (unsigned i = 0; i < 6; i++)
		zero &= !m[i];
	if (zero)
		m = def;
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	snprintf(v, sizeof(v), "%u", vif->devid);
	snprintf(own, sizeof(own), "n%u", d->id);
	snprintf(rd, sizeof(rd), "r%u", d->id);

	d->vifs |= 1u << vif->devid; /* first: a half-written device is removed too */
	if ((rc = xsd_mkdir(fe)) || (rc = perms(fe, own, "r0")) ||
	    (rc = put(fe, "backend", be)) || (rc = put(fe, "backend-id", "0")) ||
	    (rc = put(fe, "handle", v)) || (rc = put(fe, "mac", mac)) ||
	    (rc = put(fe, "state", "1")))
		goto fail;
	/* The frontend's nodes are the guest's, as libxl leaves them. */
	char path[128];
	const char *keys[] = { "backend", "backend-id", "handle", "mac", "state" };
	for (unsigned i = 0; i < 5; i++) {
		snprintf(path, sizeof(path), "%s/%s", fe, keys[i]);
		if ((rc = perms(path, own, "r0")))
			goto fail;
	}
	snprintf(v, sizeof(v), "%u", d->id);
	if ((rc = xsd_mkdir(be)) || (rc = perms(be, "n0", rd)) ||
	    (rc = put(be, "frontend", fe)) || (rc = put(be, "frontend-id", v)) ||
	    (rc = put(be, "online", "1")) || (rc = put(be, "mac", mac)) ||
	    (rc = put(be, "bridge", vif->bridge ? vif->bridge : "xenbr0")) ||
	    (rc = put(be, "type", "vif")))
		goto fail;
	snprintf(v, sizeof(v), "%u", vif->devid);
	if ((rc = put(be, "handle", v)) || (rc = put(be, "state", "1")))
		goto fail;
	return 0;
fail:
	launch_vif_detach(d, vif->devid);
	return rc;
}

int launch_vif_detach(struct launch_domain *d, unsigned devid)
{
	char path[96];

	if (devid >= LAUNCH_MAX_VIFS || !(d->vifs & (1u << devid)))
		return -ENOENT;
	netback_vif_remove(d->id, devid);
	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%u", d->id, devid);
	xsd_rm(path);
	snprintf(path, sizeof(path), "/local/domain/%u/device/vif/%u", d->id, devid);
	xsd_rm(path);
	d->vifs &= ~(1u << devid);
	if (!d->vifs) {
		snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u", d->id);
		xsd_rm(path);
	}
	return 0;
}

static void be_path(const struct launch_domain *d, unsigned devid, char *buf, size_t size)
{
	snprintf(buf, size, "/local/domain/0/backend/vif/%u/%u", d->id, devid);
}

bool launch_vif_closed(const struct launch_domain *d, unsigned devid)
{
	char path[96], v[8];

	snprintf(path, sizeof(path), "/local/domain/0/backend/vif/%u/%u/state", d->id, devid);
	/* Gone counts as closed: nothing is left to wait for. */
	int rc = xsd_read(path, v, sizeof(v));
	return rc < 0 || !strcmp(v, "6");
}

int launch_vif_detach_start(struct launch_domain *d, unsigned devid)
{
	char be[96];

	if (devid >= LAUNCH_MAX_VIFS || !(d->vifs & (1u << devid)))
		return -ENOENT;
	if (launch_vif_closed(d, devid))
		return 0;
	/* libxl__initiate_device_generic_remove: online 0, then Closing. */
	be_path(d, devid, be, sizeof(be));
	int rc = put(be, "online", "0");
	return rc ? rc : put(be, "state", "5");
}

struct vif_arg {
	const struct launch_domain *d;
	unsigned devid;
};

static bool vif_closed(void *arg)
{
	const struct vif_arg *a = arg;
	return launch_vif_closed(a->d, a->devid);
}

int launch_vif_detach_wait(struct launch_domain *d, unsigned devid, u64 timeout_ns)
{
	struct vif_arg a = { d, devid };
	int rc = launch_vif_detach_start(d, devid);

	if (rc == -ENOENT)
		return rc;
	if (!rc && !loop_run_until(vif_closed, &a, pvclock_now_ns() + timeout_ns)) {
		printf("dom0: launch: vif%u.%u: frontend did not close in %lu ms: removed anyway\n",
		       d->id, devid, timeout_ns / 1000000);
		rc = -ETIMEDOUT;
	}
	launch_vif_detach(d, devid);
	return rc;
}

void launch_vif_detach_all(struct launch_domain *d)
{
	for (unsigned i = 0; i < LAUNCH_MAX_VIFS; i++)
		if (d->vifs & (1u << i))
			launch_vif_detach(d, i);
}

int launch_vifs_create(const struct launch_params *p, struct launch_domain *d)
{
	int rc;

	for (unsigned i = 0; i < p->nr_vifs; i++)
		if ((rc = launch_vif_attach(d, &p->vifs[i])))
			return rc;
	return 0;
}
