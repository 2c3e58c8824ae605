/*
 * blkback's service and xenbus side (blkback.h; docs/pvblk.md). The
 * handshake follows Linux's xen-blkback (drivers/block/xen-blkback/
 * xenbus.c) so that Linux's xen-blkfront works against it:
 *
 *   toolstack writes backend/vbd/<fe>/<dev>/{params,mode,frontend,...},
 *     state = Initialising
 *   blkback: features (sectors, sector-size, physical-sector-size, info,
 *     feature-flush-cache, feature-discard + discard-*, feature-max-
 *     indirect-segments, max-ring-page-order), state = InitWait
 *   frontend: ring-ref / ring-page-order + ring-ref%u, event-channel,
 *     protocol, state = Initialised
 *   blkback: maps the ring, binds the channel, state = Connected
 *   frontend (or `online` = 0 from the toolstack): Closing -> the backend
 *     Closing; frontend Closed -> ring undone, backend Closed.
 *
 * The service does not react to each watch event separately: any event
 * (on the backend tree or a frontend's state) makes it look at every
 * device again (reconcile), which is idempotent and cannot miss an
 * intermediate state. It runs as the loop's idle work.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "guest.h"
#include <public/io/xenbus.h>
#include "loop/loop.h"
#include "xsd/xsd.h"
#include "blkback_int.h"

#define BE_ROOT "/local/domain/0/backend/vbd"

static struct blkb_dev devs[BLKBACK_MAX_DEVS];
static struct xs_conn *conn; /* our own: its watch events are ours */
static bool started, wake;
u64 blkb_total_requests, blkb_total_violations, blkb_total_errors;

void blkb_wake(void)
{
	wake = true;
}

void blkb_kick_waiters(struct blkdev *bd)
{
	for (unsigned i = 0; i < BLKBACK_MAX_DEVS; i++) {
		struct blkb_dev *d = &devs[i];
		if (d->used && d->bd == bd && d->connected && !d->broken &&
		    (d->nr_staged || d->nr_pending))
			loop_port_kick(d->port);
	}
}

static void conn_notify(struct xs_conn *c, void *arg)
{
	(void)c;
	(void)arg;
	wake = true;
}

static int conn_call(u32 type, const char *a, const char *b)
{
	char buf[160];
	size_t la = strlen(a) + 1, lb = b ? strlen(b) + 1 : 0;
	u32 none = 0;

	if (la + lb > sizeof(buf))
		return -E2BIG;
	memcpy(buf, a, la);
	if (b)
		memcpy(buf + la, b, lb);
	return xs_call(conn, type, 0, buf, (u32)(la + lb), NULL, &none);
}

static int read_str(const char *dir, const char *node, char *buf, u32 size)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, node);
	return xsd_read(path, buf, size);
}

static int read_num(const char *dir, const char *node, u64 *v)
{
	char buf[24];
	const char *end;
	int rc = read_str(dir, node, buf, sizeof(buf));
	if (rc)
		return rc;
	if (parse_u64(buf, &end, v) || *end)
		return -EINVAL;
	return 0;
}

static int write_fmt(const char *dir, const char *node, const char *fmt, u64 v)
{
	char path[128], val[24];
	snprintf(path, sizeof(path), "%s/%s", dir, node);
	snprintf(val, sizeof(val), fmt, v);
	return xsd_write(path, val);
}

static void set_state(struct blkb_dev *d, int state)
{
	if (d->state == state)
		return;
	d->state = state;
	write_fmt(d->be, "state", "%lu", (u64)state);
}

void blkb_violation(struct blkb_dev *d, enum blk_rule r, const char *detail)
{
	if (d->broken)
		return;
	d->broken = true;
	blkb_total_violations++;
	printf("dom0: blkback: d%u/%u: protocol violation: %s%s%s: device closing\n", d->fe,
	       d->devid, blk_rule_name(r), *detail ? ": " : "", detail);
	wake = true;
}

/* params -> blkdev; features written; InitWait. False if unusable. */
static bool probe(struct blkb_dev *d)
{
	char params[32], mode[8], fe_path[64];
	u64 fe_id;

	if (read_str(d->be, "params", params, sizeof(params)) ||
	    read_str(d->be, "frontend", fe_path, sizeof(fe_path)) ||
	    read_num(d->be, "frontend-id", &fe_id) || fe_id != d->fe)
		return false; /* the toolstack has not finished writing */
	if (read_str(d->be, "mode", mode, sizeof(mode)))
		memcpy(mode, "w", 2);
	memcpy(d->fe_path, fe_path, sizeof(fe_path));
	d->bd = blkdev_by_name(params);
	if (!d->bd || d->bd->failed) {
		printf("dom0: blkback: d%u/%u: no disk \"%s\": device closing\n", d->fe, d->devid,
		       params);
		set_state(d, XenbusStateClosing);
		return false;
	}
	struct blkdev *bd = d->bd;
	d->lim.sector_ratio = bd->sector_size / BLKIF_SECTOR_SIZE;
	d->lim.sectors = bd->sectors * d->lim.sector_ratio;
	d->ro = bd->read_only || strcmp(mode, "w");
	d->lim.discard = bd->discard && !d->ro;
	d->lim.discard_gran = MAX(bd->discard_granularity, 1u) * d->lim.sector_ratio;
	d->lim.max_segs = BLK_MAX_SEGS;
	d->lim.flush = true;
	/* Xen's blkif.h: "sectors" in 512-byte units, "info" VDISK_*. */
	write_fmt(d->be, "sectors", "%lu", d->lim.sectors);
	write_fmt(d->be, "sector-size", "%lu", bd->sector_size);
	write_fmt(d->be, "physical-sector-size", "%lu", bd->sector_size);
	write_fmt(d->be, "info", "%lu", d->ro ? VDISK_READONLY : 0);
	write_fmt(d->be, "feature-flush-cache", "%lu", 1);
	write_fmt(d->be, "feature-max-indirect-segments", "%lu", BLK_MAX_SEGS);
	write_fmt(d->be, "max-ring-page-order", "%lu", BLKB_MAX_RING_ORDER);
	/* Persistent grants (blk_persist.c): used when the frontend writes
	 * feature-persistent = 1 too (read at connect, as Linux does). */
	if (blkb_persist_cap)
		write_fmt(d->be, "feature-persistent", "%lu", 1);
	if (d->lim.discard) {
		write_fmt(d->be, "feature-discard", "%lu", 1);
		write_fmt(d->be, "discard-granularity", "%lu",
			  (u64)MAX(bd->discard_granularity, 1u) * bd->sector_size);
		write_fmt(d->be, "discard-alignment", "%lu", 0);
	}
	char path[96];
	snprintf(path, sizeof(path), "%s/state", d->fe_path);
	if (!d->watching && !conn_call(XS_WATCH, path, "fe"))
		d->watching = true;
	set_state(d, XenbusStateInitWait);
	return true;
}

/* The frontend is Initialised: its ring and channel. */
static void connect(struct blkb_dev *d)
{
	char proto[24], node[16];
	u64 order = 0, port, ref;
	grant_ref_t refs[BLKB_MAX_RING_PAGES];
	int rc;

	if (!read_str(d->fe_path, "protocol", proto, sizeof(proto)) &&
	    strcmp(proto, XEN_IO_PROTO_ABI_X86_64)) {
		printf("dom0: blkback: d%u/%u: protocol \"%s\" not supported (only %s): device "
		       "closing\n", d->fe, d->devid, proto, XEN_IO_PROTO_ABI_X86_64);
		set_state(d, XenbusStateClosing);
		return;
	}
	if (read_num(d->fe_path, "event-channel", &port) || port > 0xffffffffULL) {
		printf("dom0: blkback: d%u/%u: no event-channel: device closing\n", d->fe, d->devid);
		set_state(d, XenbusStateClosing);
		return;
	}
	rc = read_num(d->fe_path, "ring-page-order", &order);
	if (rc == -ENOENT) {
		order = 0;
		rc = read_num(d->fe_path, "ring-ref", &ref);
		refs[0] = (grant_ref_t)ref;
		if (ref > 0xffffffffULL)
			rc = -EINVAL;
	} else if (!rc && order <= BLKB_MAX_RING_ORDER) {
		for (unsigned i = 0; !rc && i < (1u << order); i++) {
			snprintf(node, sizeof(node), "ring-ref%u", i);
			rc = read_num(d->fe_path, node, &ref);
			if (ref > 0xffffffffULL)
				rc = -EINVAL;
			refs[i] = (grant_ref_t)ref;
		}
	} else if (!rc) {
		rc = -E2BIG;
	}
	if (rc) {
		printf("dom0: blkback: d%u/%u: bad ring-ref/ring-page-order (%d): device closing\n",
		       d->fe, d->devid, rc);
		set_state(d, XenbusStateClosing);
		return;
	}
	/* Xen's blkif.h: persistent grants when both ends advertise them;
	 * the frontend's node is read when it is Initialised (Linux's
	 * connect_ring). */
	u64 fe_persistent = 0;
	d->persistent = blkb_persist_cap &&
			!read_num(d->fe_path, "feature-persistent", &fe_persistent) &&
			fe_persistent == 1;
	rc = blkb_ring_connect(d, refs, 1u << order, (evtchn_port_t)port);
	if (rc) {
		printf("dom0: blkback: d%u/%u: ring set-up failed (%d): device closing\n", d->fe,
		       d->devid, rc);
		set_state(d, XenbusStateClosing);
		return;
	}
	printf("dom0: blkback: d%u/%u: connected to %s (%lu sectors%s), ring of %u pages, %s\n",
	       d->fe, d->devid, d->bd->name, d->lim.sectors, d->ro ? ", read-only" : "",
	       1u << order, d->persistent ? "persistent grants" : "grants per request");
	set_state(d, XenbusStateConnected);
}

static void release(struct blkb_dev *d)
{
	char path[96];

	if (d->watching) {
		snprintf(path, sizeof(path), "%s/state", d->fe_path);
		conn_call(XS_UNWATCH, path, "fe");
	}
	blkb_ring_disconnect(d);
	memset(d, 0, sizeof(*d));
}

/* One device: moves it along the handshake from what the store says. */
static void step(struct blkb_dev *d)
{
	char buf[8];
	u64 fe_state = XenbusStateUnknown, online = 1;

	if (read_str(d->be, "frontend", buf, 1) == -ENOENT) {
		/* The toolstack removed the device: free once the device's
		 * requests are back. */
		if (!blkb_ring_busy(d))
			release(d);
		return;
	}
	if (d->state == XenbusStateUnknown || d->state == XenbusStateInitialising) {
		if (!probe(d))
			return;
	}
	read_num(d->be, "online", &online);
	if (d->fe_path[0] && read_num(d->fe_path, "state", &fe_state))
		fe_state = XenbusStateUnknown;

	if ((d->broken || !online) && d->state < XenbusStateClosing)
		set_state(d, XenbusStateClosing);
	switch (fe_state) {
	case XenbusStateInitialising:
		/* A frontend starting over after a Closed connection (Linux
		 * blkfront after resume, or a new driver instance): offer the
		 * device again, as Linux's xen-blkback does ("prepare for
		 * reconnect"). Its earlier violation, if any, went with the
		 * old ring. */
		if (d->state == XenbusStateClosed && online && !blkb_ring_busy(d) &&
		    !d->connected) {
			d->broken = false;
			set_state(d, XenbusStateInitWait);
		}
		break;
	case XenbusStateInitialised:
	case XenbusStateConnected:
		if (d->state == XenbusStateInitWait)
			connect(d);
		break;
	case XenbusStateClosing:
		if (d->state < XenbusStateClosing)
			set_state(d, XenbusStateClosing);
		break;
	case XenbusStateClosed:
	case XenbusStateUnknown:
		/* Connected or closing: once the disk has given back every
		 * request of the ring. Never connected: at once. */
		if (d->state >= XenbusStateConnected && !blkb_ring_busy(d)) {
			blkb_ring_disconnect(d);
			set_state(d, XenbusStateClosed);
		} else if (d->state == XenbusStateInitWait && fe_state == XenbusStateClosed) {
			set_state(d, XenbusStateClosed);
		}
		break;
	default:
		break;
	}
}

static struct blkb_dev *find(domid_t fe, u32 devid)
{
	for (unsigned i = 0; i < BLKBACK_MAX_DEVS; i++)
		if (devs[i].used && devs[i].fe == fe && devs[i].devid == devid)
			return &devs[i];
	return NULL;
}

static void add(domid_t fe, u32 devid)
{
	for (unsigned i = 0; i < BLKBACK_MAX_DEVS; i++) {
		struct blkb_dev *d = &devs[i];
		if (d->used)
			continue;
		memset(d, 0, sizeof(*d));
		d->used = true;
		d->fe = fe;
		d->devid = devid;
		d->index = i;
		snprintf(d->be, sizeof(d->be), BE_ROOT "/%u/%u", fe, devid);
		return;
	}
	printf("dom0: blkback: d%u/%u: more than %u devices: ignored\n", fe, devid,
	       BLKBACK_MAX_DEVS);
}

/* Lists the backend tree; new devices are added. */
static void scan(void)
{
	static char doms[512], ids[512];
	u32 n = sizeof(doms) - 1;

	if (xsd_call(XS_DIRECTORY, 0, BE_ROOT, sizeof(BE_ROOT), doms, &n))
		return;
	doms[MIN(n, (u32)sizeof(doms) - 1)] = 0;
	for (u32 i = 0; i < n; i += (u32)strlen(doms + i) + 1) {
		char path[64];
		u64 fe, id;
		const char *end;
		if (parse_u64(doms + i, &end, &fe) || *end || fe >= DOMID_FIRST_RESERVED)
			continue;
		snprintf(path, sizeof(path), BE_ROOT "/%lu", fe);
		u32 m = sizeof(ids) - 1;
		if (xsd_call(XS_DIRECTORY, 0, path, (u32)strlen(path) + 1, ids, &m))
			continue;
		ids[MIN(m, (u32)sizeof(ids) - 1)] = 0;
		for (u32 j = 0; j < m; j += (u32)strlen(ids + j) + 1)
			if (!parse_u64(ids + j, &end, &id) && !*end && id <= 0xffffffffULL &&
			    !find((domid_t)fe, (u32)id))
				add((domid_t)fe, (u32)id);
	}
}

/* The exported disks, each once (several exports of one disk share it). */
static struct blkdev *export_disk(unsigned i)
{
	struct blkb_dev *d = &devs[i];

	if (!d->used || !d->bd)
		return NULL;
	for (unsigned k = 0; k < i; k++)
		if (devs[k].used && devs[k].bd == d->bd)
			return NULL;
	return d->bd;
}

/*
 * Each loop iteration (blkback_run): the disks with requests out are
 * polled, and asked not to interrupt (blk_irq_quiet) while dom0 is awake:
 * it polls them again on its next iteration, and an interrupt then would
 * only cost dom0 a VM exit (docs/PERFORMANCE.md). A poll that completed
 * something keeps the loop going round instead of sleeping. Only when
 * dom0 is about to sleep do they interrupt again (before_sleep). True if
 * any completed.
 */
static bool poll_disks(void)
{
	bool any = false;
	for (unsigned i = 0; i < BLKBACK_MAX_DEVS; i++) {
		struct blkdev *bd = export_disk(i);
		if (!bd || !bd->inflight)
			continue;
		blk_irq_quiet(bd, true);
		if (blk_poll(bd))
			any = true;
	}
	blkb_flush_done();
	return any;
}

/*
 * dom0 is about to sleep (loop.h, loop_add_before_sleep): the quiet
 * disks may interrupt again, and, where the loop allows work, are polled
 * once more, since what completed before a disk saw the change does not
 * interrupt. True if that completed something (the loop goes round).
 */
static bool before_sleep(void *arg, bool may_work)
{
	bool any = false;
	(void)arg;

	/* Every quiet disk, not only the exported ones: an export released
	 * after its disk was made quiet must not leave it so. */
	for (unsigned i = 0; i < blkdev_count(); i++) {
		struct blkdev *bd = blkdev_get(i);
		if (!bd || !bd->quiet)
			continue;
		blk_irq_quiet(bd, false);
		if (may_work && bd->inflight && blk_poll(bd))
			any = true;
	}
	if (any)
		blkb_flush_done();
	return any;
}

bool blkback_run(void)
{
	struct xsd_sockmsg h;
	char skip[256];
	bool did = poll_disks();

	/* Drain our watch events: any of them means "look again". */
	while (xs_conn_output(conn, &h, sizeof(h)) == sizeof(h)) {
		for (u32 left = h.len; left;) {
			size_t got = xs_conn_output(conn, skip, MIN(left, (u32)sizeof(skip)));
			if (!got)
				break;
			left -= (u32)got;
		}
		wake = true;
	}
	if (!wake)
		return did;
	wake = false;
	scan();
	for (unsigned i = 0; i < BLKBACK_MAX_DEVS; i++)
		if (devs[i].used)
			step(&devs[i]);
	return true;
}

static bool idle(void *arg)
{
	(void)arg;
	bool did = blkback_run();
	/* Keep polling while a disk without an interrupt has work out. */
	for (unsigned i = 0; i < BLKBACK_MAX_DEVS; i++)
		if (devs[i].used && devs[i].bd && !devs[i].bd->irq && devs[i].bd->inflight)
			return true;
	return did;
}

int blkback_init(void)
{
	int rc;

	if (started)
		return 0;
	if ((rc = xsd_init()))
		return rc;
	conn = xs_conn_new(xsd_store(), 0, true, conn_notify, NULL);
	if (!conn)
		return -ENOMEM;
	if ((rc = conn_call(XS_WATCH, BE_ROOT, "vbd")) || (rc = loop_add_idle(idle, NULL)) ||
	    (rc = loop_add_before_sleep(before_sleep, NULL)))
		return rc;
	started = true;
	return 0;
}

void blkback_get_stats(struct blkback_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < BLKBACK_MAX_DEVS; i++) {
		if (!devs[i].used)
			continue;
		s->devs++;
		if (devs[i].connected) {
			s->connected++;
			s->persistent += devs[i].persistent;
			s->mem_pages += devs[i].nr_chunks * (BLKB_CHUNK_BYTES / PAGE_SIZE) +
					BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST;
		}
	}
	s->requests = blkb_total_requests;
	s->violations = blkb_total_violations;
	s->errors = blkb_total_errors;
	s->maps_live = blkb_maps_live;
	s->chunks_mapped = blkb_chunks_mapped;
	s->chunks_copied = blkb_chunks_copied;
	s->notifies = blkb_notifies;
	s->persistent_live = blkb_persist_live;
	s->persistent_peak = blkb_persist_peak;
	s->persistent_fallbacks = blkb_persist_fallbacks;
	s->chunks_persistent = blkb_chunks_persistent;
}

void blkback_set_data_map(bool map)
{
	blkb_use_map = map;
}

void blkback_set_persistent_max(u64 max)
{
	blkb_persist_cap = (unsigned)MIN(max, (u64)BLKB_PERSIST_MAX);
}

int blkback_state(domid_t dom, u32 devid)
{
	struct blkb_dev *d = find(dom, devid);
	return d ? d->state : -ENOENT;
}

unsigned blkback_vbd_stats(domid_t dom, struct blkback_vbd_stats *s)
{
	unsigned n = 0;

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < BLKBACK_MAX_DEVS; i++) {
		const struct blkb_dev *d = &devs[i];
		if (!d->used || d->fe != dom)
			continue;
		n++;
		s->rd_req += d->rd_req;
		s->wr_req += d->wr_req;
		s->rd_sect += d->rd_sect;
		s->wr_sect += d->wr_sect;
	}
	return n;
}
