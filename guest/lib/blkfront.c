/*
 * The PV block frontend (blkfront.h). Handshake and node names follow
 * Xen's public/io/blkif.h and Linux's drivers/block/xen-blkfront.c
 * (talk_to_blkback, blkfront_connect); the ring macros are Xen's
 * public/io/ring.h.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "blkfront.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "pages.h"
#include "pvclock.h"
#include "xenbus.h"

#define WAIT_NS (10ULL * 1000000000ULL)

static int read_u64(const char *dir, const char *node, u64 *v)
{
	char path[128], buf[32];
	const char *end;
	snprintf(path, sizeof(path), "%s/%s", dir, node);
	long n = xb_read(xenbus(), 0, path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (parse_u64(buf, &end, v) || *end)
		return -EINVAL;
	return 0;
}

static int write_u64(struct blkfront *f, u32 tx, const char *node, u64 v)
{
	char path[128], val[24];
	snprintf(path, sizeof(path), "%s/%s", f->fe, node);
	snprintf(val, sizeof(val), "%lu", v);
	return xb_write(xenbus(), tx, path, val);
}

static size_t slots_bytes(const struct blkfront *f)
{
	return RING_SIZE(&f->ring) * sizeof(struct blkfront_slot);
}

/* Ends a grant the backend should no longer map; a page it still maps
 * is left granted (and allocated) rather than reused. */
static bool end_and_free(grant_ref_t ref)
{
	if (!gnttab_end_access(ref))
		return false;
	gnttab_free_ref(ref);
	return true;
}

#define POOL_BYTES (BLKFRONT_PERSIST_PAGES * (sizeof(struct blkfront_pgrant) + sizeof(u16)))

static void free_all(struct blkfront *f)
{
	unsigned pages = 1u << f->ring_order;

	if (f->pool) {
		for (unsigned i = 0; i < f->nr_pool; i++)
			if (end_and_free(f->pool[i].ref))
				pages_free(f->pool[i].page, 1);
		pages_free(f->pool, (POOL_BYTES + PAGE_SIZE - 1) / PAGE_SIZE);
		f->pool = NULL;
		f->nr_pool = f->nr_free = 0;
	}
	if (f->slots) {
		for (unsigned i = 0; i < RING_SIZE(&f->ring); i++) {
			struct blkfront_slot *sl = &f->slots[i];
			if (sl->indirect_ref && !end_and_free(sl->indirect_ref))
				sl->indirect = NULL; /* still mapped: not ours to reuse */
			if (sl->indirect)
				pages_free(sl->indirect, 1);
		}
		pages_free(f->slots, (slots_bytes(f) + PAGE_SIZE - 1) / PAGE_SIZE);
		f->slots = NULL;
	}
	for (unsigned i = 0; i < pages; i++) {
		if (f->ring_refs[i]) {
			if (gnttab_end_access(f->ring_refs[i]))
				gnttab_free_ref(f->ring_refs[i]);
			f->ring_refs[i] = 0;
		}
	}
	if (f->ring_pages)
		pages_free(f->ring_pages, pages);
	f->ring_pages = NULL;
	if (f->port)
		evtchn_close(f->port);
	f->port = 0;
}

int blkfront_connect(struct blkfront *f, u32 devid, unsigned want_order)
{
	return blkfront_connect_opts(f, devid, want_order, true);
}

int blkfront_connect_opts(struct blkfront *f, u32 devid, unsigned want_order, bool persistent)
{
	u64 v;
	int rc;

	memset(f, 0, sizeof(*f));
	f->devid = devid;
	snprintf(f->fe, sizeof(f->fe), "device/vbd/%u", devid);
	{
		char path[96];
		snprintf(path, sizeof(path), "%s/backend", f->fe);
		if (xb_read(xenbus(), 0, path, f->be, sizeof(f->be)) < 0)
			return -ENODEV;
	}
	if ((rc = read_u64(f->fe, "backend-id", &v)))
		return -ENODEV;
	f->be_id = (domid_t)v;

	rc = xb_wait_state(xenbus(), f->be, XenbusStateInitWait, WAIT_NS);
	if (rc != XenbusStateInitWait)
		return rc < 0 ? rc : (rc >= XenbusStateClosing ? -EIO : -ETIMEDOUT);

	if ((rc = read_u64(f->be, "sectors", &f->sectors)))
		return rc;
	f->sector_size = read_u64(f->be, "sector-size", &v) ? 512 : (u32)v;
	f->info = read_u64(f->be, "info", &v) ? 0 : (u32)v;
	f->flush = !read_u64(f->be, "feature-flush-cache", &v) && v;
	f->discard = !read_u64(f->be, "feature-discard", &v) && v;
	f->max_indirect = read_u64(f->be, "feature-max-indirect-segments", &v) ? 0 : (u32)v;
	if (f->max_indirect > BLKFRONT_MAX_SEGS)
		f->max_indirect = BLKFRONT_MAX_SEGS;
	if (f->max_indirect <= BLKIF_MAX_SEGMENTS_PER_REQUEST)
		f->max_indirect = 0;
	u64 be_order = read_u64(f->be, "max-ring-page-order", &v) ? 0 : v;
	f->ring_order = (unsigned)MIN(MIN(be_order, (u64)want_order), (u64)BLKFRONT_MAX_RING_ORDER);

	/* The ring, granted to the backend. */
	unsigned pages = 1u << f->ring_order;
	f->ring_pages = pages_alloc(pages, PAGE_SIZE);
	if (!f->ring_pages)
		return -ENOMEM;
	struct blkif_sring *s = f->ring_pages;
	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&f->ring, s, (size_t)pages * PAGE_SIZE);
	f->slots = pages_alloc((slots_bytes(f) + PAGE_SIZE - 1) / PAGE_SIZE, PAGE_SIZE);
	if (!f->slots) {
		free_all(f);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < pages; i++) {
		int ref = gnttab_grant_access(f->be_id, virt_to_gfn((u8 *)f->ring_pages +
								  i * PAGE_SIZE), false);
		if (ref < 0) {
			free_all(f);
			return ref;
		}
		f->ring_refs[i] = (grant_ref_t)ref;
	}
	if ((rc = evtchn_alloc_unbound(DOMID_SELF, f->be_id, &f->port))) {
		free_all(f);
		return rc;
	}
	evtchn_mask(f->port);

	/* Publish them in one transaction (Linux talk_to_blkback). */
	for (int tries = 0;; tries++) {
		u32 tx;
		char node[16];
		if ((rc = xb_tx_start(xenbus(), &tx)))
			break;
		if (f->ring_order == 0) {
			rc = write_u64(f, tx, "ring-ref", f->ring_refs[0]);
		} else {
			rc = write_u64(f, tx, "ring-page-order", f->ring_order);
			for (unsigned i = 0; !rc && i < pages; i++) {
				snprintf(node, sizeof(node), "ring-ref%u", i);
				rc = write_u64(f, tx, node, f->ring_refs[i]);
			}
		}
		if (!rc)
			rc = write_u64(f, tx, "event-channel", f->port);
		if (!rc)
			rc = write_u64(f, tx, "feature-persistent", persistent);
		if (!rc) {
			char path[96];
			snprintf(path, sizeof(path), "%s/protocol", f->fe);
			rc = xb_write(xenbus(), tx, path, XEN_IO_PROTO_ABI_X86_64);
		}
		int end = xb_tx_end(xenbus(), tx, rc == 0);
		if (!rc && end == -EAGAIN && tries < 5)
			continue;
		if (!rc)
			rc = end;
		break;
	}
	if (!rc)
		rc = xb_switch_state(xenbus(), f->fe, XenbusStateInitialised);
	if (rc) {
		free_all(f);
		return rc;
	}
	rc = xb_wait_state(xenbus(), f->be, XenbusStateConnected, WAIT_NS);
	if (rc != XenbusStateConnected) {
		xb_switch_state(xenbus(), f->fe, XenbusStateClosed);
		free_all(f);
		return rc < 0 ? rc : (rc >= XenbusStateClosing ? -EIO : -ETIMEDOUT);
	}
	/* Linux re-reads the size at Connected, and reads the backend's
	 * feature-persistent then (blkfront_gather_backend_features). */
	read_u64(f->be, "sectors", &f->sectors);
	if (persistent && !read_u64(f->be, "feature-persistent", &v) && v == 1) {
		f->pool = pages_alloc((POOL_BYTES + PAGE_SIZE - 1) / PAGE_SIZE, PAGE_SIZE);
		f->pool_free = f->pool ? (u16 *)(f->pool + BLKFRONT_PERSIST_PAGES) : NULL;
		f->persistent = f->pool != NULL;
	}
	xb_switch_state(xenbus(), f->fe, XenbusStateConnected);
	f->connected = true;
	return 0;
}

u32 blkfront_max_sectors(const struct blkfront *f)
{
	return (f->max_indirect ? f->max_indirect : BLKIF_MAX_SEGMENTS_PER_REQUEST) *
	       BLKIF_SECTORS_PER_PAGE;
}

/* Pool pages for a request of `pages` pages into sl->pidx: the free
 * ones first (the grefs the backend has mapped), then new ones granted
 * read-write. False (nothing taken) when the pool cannot give them. */
static bool pool_take(struct blkfront *f, struct blkfront_slot *sl, unsigned pages)
{
	if (f->nr_free + (BLKFRONT_PERSIST_PAGES - f->nr_pool) < pages)
		return false;
	while (f->nr_free < pages) {
		void *pg = pages_alloc(1, PAGE_SIZE);
		int ref = pg ? gnttab_grant_access(f->be_id, virt_to_gfn(pg), false) : -ENOMEM;
		if (ref < 0) {
			if (pg)
				pages_free(pg, 1);
			return false;
		}
		f->pool[f->nr_pool].page = pg;
		f->pool[f->nr_pool].ref = (grant_ref_t)ref;
		f->pool_free[f->nr_free++] = (u16)f->nr_pool++;
	}
	for (unsigned k = 0; k < pages; k++)
		sl->pidx[k] = f->pool_free[--f->nr_free];
	sl->nr_pidx = (u16)pages;
	return true;
}

/* A persistent slot's pool pages back on the stack, in reverse so the
 * next request takes the same ones in the same order. */
static void pool_give(struct blkfront *f, struct blkfront_slot *sl)
{
	while (sl->nr_pidx)
		f->pool_free[f->nr_free++] = sl->pidx[--sl->nr_pidx];
	sl->persist = false;
}

static void end_grants(struct blkfront_slot *sl)
{
	for (unsigned i = 0; i < sl->nr_grants; i++) {
		/* A copy-based backend never keeps a mapping: revoking works. */
		while (!gnttab_end_access(sl->grants[i]))
			__asm__ volatile("pause");
		gnttab_free_ref(sl->grants[i]);
	}
	sl->nr_grants = 0;
}

static int free_slot(struct blkfront *f)
{
	for (unsigned i = 0; i < RING_SIZE(&f->ring); i++)
		if (!f->slots[i].used)
			return (int)i;
	return -EBUSY;
}

/* The segments of [buf, buf + nsect * 512): one per page touched. In a
 * persistent slot, pool page k stands for page k of buf, at the same
 * offsets (a write's data copied in now). */
static int make_segs(struct blkfront *f, struct blkfront_slot *sl, bool readonly, u8 *buf,
		     u32 nsect, struct blkif_request_segment *segs, unsigned max)
{
	unsigned n = 0;
	u64 left = (u64)nsect * BLKIF_SECTOR_SIZE;

	while (left) {
		u64 off = (uintptr_t)buf & (PAGE_SIZE - 1);
		u64 len = MIN(left, PAGE_SIZE - off);
		int ref;
		if (n == max)
			return -E2BIG;
		if (sl->persist) {
			const struct blkfront_pgrant *pg = &f->pool[sl->pidx[n]];
			if (readonly) /* a write: the backend reads our copy */
				memcpy((u8 *)pg->page + off, buf, len);
			ref = (int)pg->ref;
		} else {
			ref = gnttab_grant_access(f->be_id, virt_to_gfn(buf), readonly);
			if (ref < 0)
				return -ENOSPC;
			sl->grants[sl->nr_grants++] = (grant_ref_t)ref;
		}
		segs[n].gref = (grant_ref_t)ref;
		segs[n].first_sect = (u8)(off / BLKIF_SECTOR_SIZE);
		segs[n].last_sect = (u8)((off + len) / BLKIF_SECTOR_SIZE - 1);
		n++;
		buf += len;
		left -= len;
	}
	return (int)n;
}

int blkfront_submit(struct blkfront *f, u8 op, u64 sector, u32 nsect, void *buf)
{
	if (RING_FULL(&f->ring))
		return -EBUSY;
	int i = free_slot(f);
	if (i < 0)
		return i;
	struct blkfront_slot *sl = &f->slots[i];
	struct blkif_request *rq = RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt);
	struct blkif_request tmp;
	memset(&tmp, 0, sizeof(tmp));
	sl->nr_grants = 0;
	sl->persist = false;
	sl->nr_pidx = 0;

	if (op == BLKIF_OP_READ || op == BLKIF_OP_WRITE) {
		if (nsect > blkfront_max_sectors(f) || ((uintptr_t)buf & 511))
			return -E2BIG;
		bool ro = op == BLKIF_OP_WRITE; /* the backend only reads our pages */
		unsigned pages = (unsigned)((((uintptr_t)buf & (PAGE_SIZE - 1)) +
					     (u64)nsect * BLKIF_SECTOR_SIZE + PAGE_SIZE - 1) / PAGE_SIZE);
		sl->persist = f->persistent && pages <= (f->max_indirect ? f->max_indirect :
						     BLKIF_MAX_SEGMENTS_PER_REQUEST) &&
			      pool_take(f, sl, pages);
		if (f->persistent) {
			if (sl->persist)
				f->persist_reqs++;
			else
				f->fallback_reqs++;
		}
		sl->buf = buf;
		sl->nsect = nsect;
		if (pages <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
			int n = make_segs(f, sl, ro, buf, nsect, tmp.seg, BLKIF_MAX_SEGMENTS_PER_REQUEST);
			if (n < 0) {
				end_grants(sl);
				pool_give(f, sl);
				return n;
			}
			tmp.operation = op;
			tmp.nr_segments = (u8)n;
			tmp.sector_number = sector;
		} else {
			struct blkif_request_indirect *ir = (void *)&tmp;
			if (!f->max_indirect || pages > f->max_indirect) {
				pool_give(f, sl);
				return -E2BIG;
			}
			if (!sl->indirect && !(sl->indirect = pages_alloc(1, PAGE_SIZE))) {
				pool_give(f, sl);
				return -ENOMEM;
			}
			int n = make_segs(f, sl, ro, buf, nsect, sl->indirect, f->max_indirect);
			int ref = n;
			if (n >= 0 && f->persistent) {
				/* Granted once, read-write like every persistent
				 * grant (Linux's blkfront takes it from its pool). */
				if (!sl->indirect_ref) {
					ref = gnttab_grant_access(f->be_id, virt_to_gfn(sl->indirect), false);
					if (ref >= 0)
						sl->indirect_ref = (grant_ref_t)ref;
				}
				ref = sl->indirect_ref ? (int)sl->indirect_ref : ref;
			} else if (n >= 0) {
				ref = gnttab_grant_access(f->be_id, virt_to_gfn(sl->indirect), true);
				if (ref >= 0)
					sl->grants[sl->nr_grants++] = (grant_ref_t)ref;
			}
			if (ref < 0) {
				end_grants(sl);
				pool_give(f, sl);
				return ref == -E2BIG ? -E2BIG : -ENOSPC;
			}
			ir->operation = BLKIF_OP_INDIRECT;
			ir->indirect_op = op;
			ir->nr_segments = (u16)n;
			ir->sector_number = sector;
			ir->indirect_grefs[0] = (grant_ref_t)ref;
		}
	} else if (op == BLKIF_OP_DISCARD) {
		struct blkif_request_discard *d = (void *)&tmp;
		d->operation = op;
		d->sector_number = sector;
		d->nr_sectors = nsect;
	} else {
		tmp.operation = op;
	}
	tmp.id = (u64)i;
	*rq = tmp;
	sl->used = true;
	sl->done = false;
	sl->op = op;
	f->ring.req_prod_pvt++;
	f->inflight++;
	int notify;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&f->ring, notify);
	if (notify) {
		f->notifies++;
		evtchn_send(f->port);
	}
	return i;
}

int blkfront_push_raw(struct blkfront *f, const struct blkif_request *rq, bool notify)
{
	if (RING_FULL(&f->ring))
		return -EBUSY;
	*RING_GET_REQUEST(&f->ring, f->ring.req_prod_pvt) = *rq;
	f->ring.req_prod_pvt++;
	RING_PUSH_REQUESTS(&f->ring);
	return notify ? evtchn_send(f->port) : 0;
}

static void persist_copy_out(const struct blkfront *f, const struct blkfront_slot *sl)
{
	u8 *buf = sl->buf;
	u64 left = sl->nsect * (u64)BLKIF_SECTOR_SIZE;

	for (unsigned k = 0; left; k++) {
		u64 off = (uintptr_t)buf & (PAGE_SIZE - 1);
		u64 len = MIN(left, PAGE_SIZE - off);
		memcpy(buf, (const u8 *)f->pool[sl->pidx[k]].page + off, len);
		buf += len;
		left -= len;
	}
}

int blkfront_poll(struct blkfront *f, u64 timeout_ns)
{
	u64 deadline = pvclock_now_ns() + timeout_ns;
	int done = 0;

	for (;;) {
		RING_IDX prod = f->ring.sring->rsp_prod;
		xen_rmb();
		if (RING_RESPONSE_PROD_OVERFLOW(&f->ring, prod))
			return -EIO;
		while (f->ring.rsp_cons != prod) {
			struct blkif_response rsp;
			RING_COPY_RESPONSE(&f->ring, f->ring.rsp_cons, &rsp);
			f->ring.rsp_cons++;
			if (rsp.id >= RING_SIZE(&f->ring) || !f->slots[rsp.id].used ||
			    f->slots[rsp.id].done)
				return -EIO;
			struct blkfront_slot *sl = &f->slots[rsp.id];
			end_grants(sl);
			if (sl->persist) {
				/* A read's data out of the pool pages (same
				 * offsets as the caller's buffer). */
				if (sl->op == BLKIF_OP_READ && rsp.status == BLKIF_RSP_OKAY)
					persist_copy_out(f, sl);
				pool_give(f, sl);
			}
			sl->status = rsp.status;
			sl->done = true;
			f->inflight--;
			done++;
		}
		int more;
		RING_FINAL_CHECK_FOR_RESPONSES(&f->ring, more);
		if (more)
			continue;
		if (done || !f->inflight)
			return done;
		if (pvclock_now_ns() >= deadline)
			return -ETIMEDOUT;
		f->polls_empty++;
		evtchn_poll(&f->port, 1, deadline);
		evtchn_clear_pending(f->port);
	}
}

void blkfront_release(struct blkfront *f, int slot)
{
	f->slots[slot].used = false;
	f->slots[slot].done = false;
}

int blkfront_io(struct blkfront *f, u8 op, u64 sector, u32 nsect, void *buf)
{
	int slot = blkfront_submit(f, op, sector, nsect, buf);
	if (slot < 0)
		return slot;
	while (!f->slots[slot].done) {
		int rc = blkfront_poll(f, WAIT_NS);
		if (rc < 0)
			return rc;
	}
	int st = f->slots[slot].status;
	blkfront_release(f, slot);
	return st;
}

int blkfront_close(struct blkfront *f)
{
	int rc = xb_switch_state(xenbus(), f->fe, XenbusStateClosing);
	int st = xb_wait_state(xenbus(), f->be, XenbusStateClosing, WAIT_NS);
	if (st != XenbusStateClosing && st != XenbusStateClosed && !rc)
		rc = st < 0 ? st : -ETIMEDOUT;
	xb_switch_state(xenbus(), f->fe, XenbusStateClosed);
	/* Outstanding requests' grants go with the ring. */
	for (unsigned i = 0; f->slots && i < RING_SIZE(&f->ring); i++) {
		if (f->slots[i].used) {
			end_grants(&f->slots[i]);
			pool_give(f, &f->slots[i]);
		}
	}
	free_all(f);
	f->connected = false;
	return rc;
}
