/*
 * blkback's data path (blkback_int.h): the frontend's ring mapped into
 * dom0's grant window, its requests validated (blk_check.c) and run on
 * the blkdev in chunks of at most BLKB_CHUNK_BYTES, up to nr_chunks at
 * once per export (and the device's own queue depth). Data moves one of
 * two ways (docs/pvblk.md, "The data path"): by grant copy
 * (GNTTABOP_copy between the guest's pages and dom0's bounce buffers) or
 * by grant map (blkback_data=map: the chunk's guest pages mapped and the
 * device DMAing straight to their dev_bus_addr, a frames request of
 * drivers/block/blkdev.h; requests whose pages or device do not fit are
 * copied). With persistent grants (blk_persist.c) neither: the pages are
 * mapped once per connection, and the device DMAs to them (frames
 * request) or dom0 memcpys; requests whose grants cannot all be
 * persistent take one of the two ways above. Either way the grant
 * operations are batched: the chunks a
 * pass of the ring handler takes are staged, then mapped in one batch,
 * the writes among them copied in one batch, and submitted
 * (flush_staged); the chunks a device poll completes are unmapped in one
 * batch and their read data copied in one batch before their responses
 * (blkb_flush_done). Responses are pushed with
 * RING_PUSH_RESPONSES_AND_CHECK_NOTIFY (Xen's blkif.h: notify only when
 * the front's rsp_event asks for it);
 * the request side uses RING_FINAL_CHECK_FOR_REQUESTS before going idle.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "loop/loop.h"
#include "pages.h"
#include <public/io/xenbus.h>
#include "blkback_int.h"

/* Grant-window slots for rings: above the slots the grant tests use from
 * 0, below xenstored's and the console backend's at the top. */
#define BLKB_SLOT_BASE 128

static unsigned ring_slot(const struct blkb_dev *d, unsigned i)
{
	return BLKB_SLOT_BASE + d->index * BLKB_MAX_RING_PAGES + i;
}

/* Enough copy operations for one chunk: one per 512-byte sector at worst,
 * plus one for each page boundary of the bounce buffer. */
#define COPY_OPS (BLKB_CHUNK_BYTES / BLKIF_SECTOR_SIZE + BLKB_CHUNK_BYTES / PAGE_SIZE + 1)
/* One GNTTABOP_copy batch: the ops of several chunks (copy_chunks). */
#define BATCH_OPS (4 * COPY_OPS)
static struct gnttab_copy copy_ops[BATCH_OPS];

static void handle_port(evtchn_port_t port, void *arg);

bool blkb_use_map;
u64 blkb_maps_live, blkb_chunks_mapped, blkb_chunks_copied, blkb_notifies;
u64 blkb_chunks_persistent;

/* Grant-window slots for mapped data pages, shared by all exports:
 * between the rings' slots (BLKB_SLOT_BASE + 4 * BLKBACK_MAX_DEVS) and
 * netback's (GNTTAB_MAP_SLOTS - 128). A chunk that finds too few free
 * goes by copy instead, so an export never waits on another's maps. */
#define MAP_SLOT_BASE (BLKB_SLOT_BASE + BLKB_MAX_RING_PAGES * BLKBACK_MAX_DEVS)
#define MAP_SLOTS 192
_Static_assert(MAP_SLOT_BASE + MAP_SLOTS == BLKB_PERSIST_SLOT_BASE, "map slots overlap the persistent ones");
static u64 map_free[MAP_SLOTS / 64];
static struct blkb_slots map_slots = { map_free, MAP_SLOT_BASE, MAP_SLOTS, 0, false };

/*
 * Whether a request's data can go to the device as a frames request
 * (by grant map, or straight to its persistent mappings):
 * every segment but the first starts at its page's start and every one
 * but the last runs to its page's end (what Linux's blkfront sends for
 * page-aligned I/O), so the request is one run of whole pages as NVMe's
 * PRPs need it; and the device takes frames requests.
 */
static bool frames_shape(const struct blkb_dev *d, const struct blk_req_checked *q)
{
	if (d->bd->max_frames < 2 ||
	    (q->op != BLKIF_OP_READ && q->op != BLKIF_OP_WRITE))
		return false;
	for (unsigned i = 0; i < q->nr_segs; i++) {
		const struct blk_seg *s = &q->seg[i];
		if ((i > 0 && s->first) || (i + 1 < q->nr_segs && s->first + s->count != 8))
			return false;
	}
	return true;
}

/* The per-request grant-map path (blkback_data=map) takes it. */
static bool map_shape(const struct blkb_dev *d, const struct blk_req_checked *q)
{
	return blkb_use_map && frames_shape(d, q);
}

/* Map and unmap batches: at most every slot at once. */
static struct gnttab_map_grant_ref map_ops[MAP_SLOTS];
static struct gnttab_unmap_grant_ref unmap_ops[MAP_SLOTS];

/* Unmaps the pages of chunks cs[0..n) in one batch and frees their slots
 * (all of them fit: each mapping holds a slot). */
static void unmap_chunks(struct blkb_chunk *const *cs, unsigned n)
{
	unsigned nops = 0;

	for (unsigned k = 0; k < n; k++)
		for (unsigned i = 0; i < cs[k]->nr_maps; i++)
			gnttab_set_unmap_op(&unmap_ops[nops++], gnttab_slot_gpa(cs[k]->map_slot[i]),
					    cs[k]->map_handle[i]);
	if (!nops)
		return;
	int rc = gnttab_unmap_refs(unmap_ops, nops);
	nops = 0;
	for (unsigned k = 0; k < n; k++) {
		struct blkb_chunk *c = cs[k];
		for (unsigned i = 0; i < c->nr_maps; i++, nops++) {
			if (rc || unmap_ops[nops].status != GNTST_okay)
				printf("dom0: blkback: d%u/%u: unmapping a data page: %d/%d\n", c->dev->fe,
				       c->dev->devid, rc, unmap_ops[nops].status);
			blkb_slot_put(&map_slots, c->map_slot[i]);
		}
		blkb_maps_live -= c->nr_maps;
		c->nr_maps = 0;
	}
}

/* The guest pages chunk c (sectors [c->off, c->off + c->n) of a
 * map_shape request) covers: the first segment's index, and how many. */
static unsigned chunk_pages(const struct blkb_chunk *c, unsigned *first, u32 *off)
{
	const struct blk_req_checked *q = &c->p->c;
	u64 start = (c->off + q->seg[0].first) * BLKIF_SECTOR_SIZE;
	u64 end = start + c->n * BLKIF_SECTOR_SIZE;

	*first = (unsigned)(start / PAGE_SIZE);
	*off = (u32)(start % PAGE_SIZE);
	return (unsigned)((end - 1) / PAGE_SIZE) - *first + 1;
}

/*
 * Maps the guest pages of chunks cs[0..n) (of map_shape requests) with one
 * GNTTABOP_map_grant_ref batch, writable for a read (the device writes
 * them), and points each chunk's request at their bus addresses. A chunk
 * that finds too few free slots is left unmapped (it goes by copy). ok[k]
 * false where the hypervisor refused a grant: nothing of that chunk stays
 * mapped.
 */
static void map_chunks(struct blkb_chunk *const *cs, unsigned n, bool *ok)
{
	unsigned nops = 0, first;
	u32 off;

	for (unsigned k = 0; k < n; k++) {
		struct blkb_chunk *c = cs[k];
		const struct blk_req_checked *q = &c->p->c;
		unsigned pages = chunk_pages(c, &first, &off);
		u32 flags = GNTMAP_host_map | (q->op == BLKIF_OP_WRITE ? GNTMAP_readonly : 0);
		ok[k] = true;
		c->nr_maps = 0;
		if (pages > blkb_slots_nr_free(&map_slots))
			continue;
		for (unsigned i = 0; i < pages; i++) {
			c->map_slot[i] = blkb_slot_get(&map_slots);
			gnttab_set_map_op(&map_ops[nops++], gnttab_slot_gpa(c->map_slot[i]), flags,
					  q->seg[first + i].gref, c->dev->fe);
		}
		c->nr_maps = pages; /* for now: the slots it holds */
	}
	if (!nops)
		return;
	int rc = gnttab_map_refs(map_ops, nops);
	nops = 0;
	for (unsigned k = 0; k < n; k++) {
		struct blkb_chunk *c = cs[k];
		unsigned pages = c->nr_maps, good = 0;
		c->nr_maps = 0;
		for (unsigned i = 0; i < pages; i++, nops++) {
			struct gnttab_map_grant_ref *m = &map_ops[nops];
			if (!rc && m->status == GNTST_okay) {
				/* Kept in order: mapping i of the chunk is page i. */
				c->map_slot[good] = c->map_slot[i];
				c->map_handle[good] = m->handle;
				c->frames[good++] = m->dev_bus_addr & PAGE_MASK;
			} else {
				ok[k] = false;
				blkb_slot_put(&map_slots, c->map_slot[i]);
			}
		}
		c->nr_maps = good;
		blkb_maps_live += good;
		if (!ok[k]) {
			unmap_chunks(&c, 1);
		} else if (good) {
			chunk_pages(c, &first, &off);
			c->r.buf = NULL;
			c->r.frames = c->frames;
			c->r.frame_off = off;
		}
	}
}

/* Points chunk c (of a persist_frames request) at the bus addresses of
 * its pages' persistent mappings: the device DMAs to them, nothing to
 * map, copy or unmap. */
static void persist_frames(struct blkb_chunk *c)
{
	unsigned first;
	u32 off;
	unsigned pages = chunk_pages(c, &first, &off);

	for (unsigned i = 0; i < pages; i++)
		c->frames[i] = blkb_persist_bus(c->dev, c->p->c.seg[first + i].gref);
	c->r.buf = NULL;
	c->r.frames = c->frames;
	c->r.frame_off = off;
}

/*
 * Appends to copy_ops[*nops..] the operations that copy sectors
 * [c->off, c->off + c->n) of the request between the guest's segments and
 * c->buf (to the guest when to_guest): at most COPY_OPS of them.
 */
static void add_copy_ops(const struct blkb_chunk *c, bool to_guest, unsigned *nops)
{
	const struct blk_req_checked *q = &c->p->c;
	u64 pos = 0; /* request sector at the start of segment i */

	for (unsigned i = 0; i < q->nr_segs && pos < c->off + c->n; i++) {
		const struct blk_seg *s = &q->seg[i];
		u64 nsec = s->count;
		u64 lo = MAX(pos, c->off), hi = MIN(pos + nsec, c->off + c->n);
		for (u64 x = lo; x < hi;) {
			u8 *local = (u8 *)c->buf + (x - c->off) * BLKIF_SECTOR_SIZE;
			u64 room = PAGE_SIZE - ((uintptr_t)local & (PAGE_SIZE - 1));
			u64 len = MIN((hi - x) * BLKIF_SECTOR_SIZE, room);
			u16 goff = (u16)((s->first + (x - pos)) * BLKIF_SECTOR_SIZE);
			struct gnttab_copy *op = &copy_ops[(*nops)++];
			memset(op, 0, sizeof(*op));
			if (to_guest) {
				op->source.u.gmfn = virt_to_gfn(local);
				op->source.domid = DOMID_SELF;
				op->source.offset = (u16)((uintptr_t)local & (PAGE_SIZE - 1));
				op->dest.u.ref = s->gref;
				op->dest.domid = c->dev->fe;
				op->dest.offset = goff;
				op->flags = GNTCOPY_dest_gref;
			} else {
				op->source.u.ref = s->gref;
				op->source.domid = c->dev->fe;
				op->source.offset = goff;
				op->dest.u.gmfn = virt_to_gfn(local);
				op->dest.domid = DOMID_SELF;
				op->dest.offset = (u16)((uintptr_t)local & (PAGE_SIZE - 1));
				op->flags = GNTCOPY_source_gref;
			}
			op->len = (u16)len;
			x += len / BLKIF_SECTOR_SIZE;
		}
		pos += nsec;
	}
}

/* Whether copy_ops[from, to) all went through (rc: the hypercall's). */
static bool copies_ok(int rc, unsigned from, unsigned to)
{
	if (rc)
		return false;
	for (unsigned i = from; i < to; i++)
		if (copy_ops[i].status != GNTST_okay)
			return false;
	return true;
}

/*
 * The same for a request whose grefs are all persistently mapped
 * (blk_persist.c): a memcpy per segment piece, no hypercall.
 */
static void persist_copy(const struct blkb_chunk *c, bool to_guest)
{
	const struct blk_req_checked *q = &c->p->c;
	u64 pos = 0;

	for (unsigned i = 0; i < q->nr_segs && pos < c->off + c->n; i++) {
		const struct blk_seg *s = &q->seg[i];
		u64 lo = MAX(pos, c->off), hi = MIN(pos + s->count, c->off + c->n);
		if (lo < hi) {
			/* Mapped when the request was taken, kept until the
			 * ring is disconnected: it is there. */
			u8 *page = blkb_persist_va(c->dev, s->gref);
			u8 *g = page + (s->first + (lo - pos)) * BLKIF_SECTOR_SIZE;
			u8 *local = (u8 *)c->buf + (lo - c->off) * BLKIF_SECTOR_SIZE;
			u64 len = (hi - lo) * BLKIF_SECTOR_SIZE;
			if (to_guest)
				memcpy(g, local, len);
			else
				memcpy(local, g, len);
		}
		pos += s->count;
	}
}

/*
 * Copies the data of chunks cs[0..n) between the guest's segments and
 * their bounce buffers (to the guest, or from it) in as few GNTTABOP_copy
 * calls as BATCH_OPS allows (persistently mapped requests by memcpy).
 * ok[i] false where the hypervisor refused a grant (a violation for the
 * caller to report); a broken device's chunks are skipped (ok).
 */
static void copy_chunks(struct blkb_chunk *const *cs, unsigned n, bool to_guest, bool *ok)
{
	unsigned start[BLKBACK_MAX_DEVS * BLKB_CHUNKS];

	for (unsigned i = 0; i < n;) {
		unsigned first = i, nops = 0;
		for (; i < n && nops + COPY_OPS <= BATCH_OPS; i++) {
			start[i] = nops;
			if (cs[i]->dev->broken)
				continue;
			if (cs[i]->p->persist) {
				persist_copy(cs[i], to_guest);
			} else {
				add_copy_ops(cs[i], to_guest, &nops);
			}
		}
		int rc = nops ? gnttab_copy(copy_ops, nops) : 0;
		for (unsigned k = first; k < i; k++)
			ok[k] = cs[k]->dev->broken || copies_ok(rc, start[k], k + 1 < i ? start[k + 1] : nops);
	}
}

static void respond(struct blkb_dev *d, struct blkb_pending *p, s16 status)
{
	struct blkif_response *rsp = RING_GET_RESPONSE(&d->ring, d->ring.rsp_prod_pvt);
	int notify;

	rsp->id = p->c.id;
	rsp->operation = p->c.wire_op;
	rsp->status = status;
	d->ring.rsp_prod_pvt++;
	RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&d->ring, notify);
	if (status != BLKIF_RSP_OKAY)
		blkb_total_errors++;
	p->used = false;
	d->nr_pending--;
	if (notify) {
		blkb_notifies++;
		evtchn_send(d->port);
	}
}

/* A pending request with nothing left to submit or in flight is done. */
static void maybe_finish(struct blkb_dev *d, struct blkb_pending *p)
{
	if (p->chunks || p->next < p->c.nr_sectors)
		return;
	if (d->broken) { /* no responses into a ring we stopped trusting */
		p->used = false;
		d->nr_pending--;
		return;
	}
	respond(d, p, p->failed ? BLKIF_RSP_ERROR : BLKIF_RSP_OKAY);
}

/* A chunk is done with: its request may be answered, its slot reused. */
static void chunk_release(struct blkb_chunk *c)
{
	struct blkb_dev *d = c->dev;
	struct blkb_pending *p = c->p;

	unmap_chunks(&c, 1); /* (a staged chunk dropped while mapped) */
	c->used = false;
	d->chunks_used--;
	p->chunks--;
	maybe_finish(d, p);
	/* Room for more: let the ring handlers take the next requests, this
	 * export's and those of the others on the same device, whose staged
	 * chunks may have met a queue this one filled. A device going down
	 * waits for its last chunk (blkback.c: step), so that one wakes the
	 * service too. */
	if (d->connected && !d->broken)
		loop_port_kick(d->port);
	blkb_kick_waiters(d->bd);
	if (!d->chunks_used && (d->broken || !d->connected || d->state >= XenbusStateClosing))
		blkb_wake();
}

/* Chunks the devices finished that still hold guest pages mapped or
 * whose read data still has to go to the guest: unmapped in one batch and
 * copied in as few GNTTABOP_copy calls as BATCH_OPS allows (not one
 * hypercall per chunk) by blkb_flush_done, then answered. */
static struct blkb_chunk *done[BLKBACK_MAX_DEVS * BLKB_CHUNKS];
static unsigned nr_done;

static void chunk_done(struct blk_req *r)
{
	struct blkb_chunk *c = r->cookie;
	struct blkb_dev *d = c->dev;

	if (r->status)
		c->p->failed = true;
	c->copy_back = !r->status && !r->frames && c->p->c.op == BLKIF_OP_READ && !d->broken;
	if (c->nr_maps || c->copy_back) {
		done[nr_done++] = c;
		loop_port_kick(d->port); /* its handler flushes, if no one before */
		return;
	}
	chunk_release(c);
}

void blkb_flush_done(void)
{
	static struct blkb_chunk *back[BLKBACK_MAX_DEVS * BLKB_CHUNKS];
	bool ok[BLKBACK_MAX_DEVS * BLKB_CHUNKS];
	unsigned n = nr_done, nb = 0;

	nr_done = 0;
	unmap_chunks(done, n); /* the devices are done with them: before any response */
	for (unsigned i = 0; i < n; i++)
		if (done[i]->copy_back)
			back[nb++] = done[i];
	copy_chunks(back, nb, true, ok);
	for (unsigned i = 0; i < nb; i++)
		if (!ok[i])
			blkb_violation(back[i]->dev, BLK_RULE_GREF,
				       "the hypervisor refused a copy to the guest");
	for (unsigned i = 0; i < n; i++)
		chunk_release(done[i]);
}

/*
 * Chunks staged by submit_next (taken, not yet on the device): those of
 * map_shape requests mapped in one batch, writes not mapped copied from
 * the guest in one batch, then all submitted. A chunk the device has no
 * room for stays staged, its pages mapped or data copied, until the next
 * run of the ring's handler (a completion on the device kicks every
 * export waiting for it: blkb_kick_waiters); after a violation
 * the staged chunks are dropped.
 */
static void flush_staged(struct blkb_dev *d)
{
	struct blkb_chunk *todo[BLKB_CHUNKS] = { NULL };
	bool ok[BLKB_CHUNKS];
	unsigned nt = 0, kept = 0;

	for (unsigned i = 0; i < d->nr_staged; i++)
		if (d->staged[i]->p->mappable && !d->staged[i]->map_tried && !d->broken)
			todo[nt++] = d->staged[i];
	map_chunks(todo, nt, ok);
	for (unsigned i = 0; i < nt; i++) {
		todo[i]->map_tried = true;
		if (!ok[i])
			blkb_violation(d, BLK_RULE_GREF, "the hypervisor refused a map");
	}
	nt = 0;
	for (unsigned i = 0; i < d->nr_staged; i++) {
		struct blkb_chunk *c = d->staged[i];
		if (c->r.op == BLK_WRITE && !c->r.frames && !c->copied)
			todo[nt++] = c;
	}
	copy_chunks(todo, nt, false, ok);
	for (unsigned i = 0; i < nt; i++) {
		todo[i]->copied = true;
		if (!ok[i])
			blkb_violation(d, BLK_RULE_GREF, "the hypervisor refused a copy from the guest");
	}
	/* dom0 is awake and polls the disk before it sleeps (blkback.c,
	 * poll_disks and before_sleep): the completions need no interrupt,
	 * which would only cost a VM exit (under QEMU the kick itself often
	 * completes the request and interrupts at once). */
	if (d->nr_staged && !d->broken)
		blk_irq_quiet(d->bd, true);
	for (unsigned i = 0; i < d->nr_staged; i++) {
		struct blkb_chunk *c = d->staged[i];
		int rc = d->broken ? -EIO : blk_submit(d->bd, &c->r);
		if (rc == -EBUSY) { /* waits for room (requests in flight have no order) */
			d->staged[kept++] = c;
			continue;
		}
		if (c->p->persist)
			blkb_chunks_persistent++;
		else if (c->r.frames)
			blkb_chunks_mapped++;
		else
			blkb_chunks_copied++;
		if (rc) {
			if (!d->broken)
				c->p->failed = true;
			chunk_release(c);
		}
	}
	d->nr_staged = kept;
}

static struct blkb_chunk *free_chunk(struct blkb_dev *d)
{
	for (unsigned i = 0; i < d->nr_chunks; i++)
		if (!d->chunks[i].used)
			return &d->chunks[i];
	return NULL;
}

/*
 * Hands the next part of p to the device: false when it must wait (no
 * chunk, device queue full). Flush: one chunk without data (answered at
 * once when the device has no cache to flush). Discard: chunks of at most
 * the device's max_discard_sectors.
 */
static bool submit_next(struct blkb_dev *d, struct blkb_pending *p)
{
	struct blkdev *bd = d->bd;
	u64 per = bd->sector_size / BLKIF_SECTOR_SIZE;
	struct blkb_chunk *c = free_chunk(d);

	if (!c)
		return false;
	u64 max512;
	u8 op;
	switch (p->c.op) {
	case BLKIF_OP_READ:  op = BLK_READ;  max512 = MIN((u64)BLKB_CHUNK_BYTES / 512, (u64)bd->max_sectors * per); break;
	case BLKIF_OP_WRITE: op = BLK_WRITE; max512 = MIN((u64)BLKB_CHUNK_BYTES / 512, (u64)bd->max_sectors * per); break;
	case BLKIF_OP_DISCARD: op = BLK_DISCARD; max512 = (u64)MAX(bd->max_discard_sectors, 1u) * per; break;
	default: op = BLK_FLUSH; max512 = 1; break;
	}
	if (p->mappable || p->persist_frames) /* any page offset: its pages fit the device's frames */
		max512 = MIN(max512, (u64)(MIN(bd->max_frames, BLKB_MAP_PAGES) - 1) *
				     (PAGE_SIZE / BLKIF_SECTOR_SIZE));
	c->p = p;
	c->dev = d;
	c->off = p->next;
	c->n = MIN(p->c.nr_sectors - p->next, max512);
	if (c->n > per)
		c->n -= c->n % per;
	memset(&c->r, 0, sizeof(c->r));
	c->r.op = op;
	c->r.sector = (p->c.sector + c->off) / per;
	c->r.count = (u32)(c->n / per);
	if (op == BLK_FLUSH)
		c->r.sector = c->r.count = 0;
	c->r.buf = (op == BLK_READ || op == BLK_WRITE) ? c->buf : NULL;
	c->r.done = chunk_done;
	c->r.cookie = c;
	c->nr_maps = 0;
	c->map_tried = false;
	c->copied = false;
	if (p->persist_frames)
		persist_frames(c);
	if (p->mappable || op == BLK_WRITE) {
		/* Mapped or copied from the guest with the pass's other
		 * chunks, and submitted then (flush_staged). */
		d->staged[d->nr_staged++] = c;
		c->used = true;
		d->chunks_used++;
		p->chunks++;
		p->next += c->n;
		return true;
	}
	flush_staged(d); /* what was taken before goes first */
	blk_irq_quiet(bd, true); /* as in flush_staged */
	int rc = blk_submit(bd, &c->r);
	if (rc == -EBUSY)
		return false;
	if (op == BLK_READ && p->persist)
		blkb_chunks_persistent++;
	else if (op == BLK_READ)
		blkb_chunks_copied++;
	if (rc) {
		p->failed = true;
		p->next = p->c.nr_sectors;
		maybe_finish(d, p);
		return true;
	}
	c->used = true;
	d->chunks_used++;
	p->chunks++;
	p->next += c->n;
	return true;
}

/* Starts what the pending requests still need; false if blocked. */
static bool submit_pending(struct blkb_dev *d)
{
	for (unsigned i = 0; i < RING_SIZE(&d->ring); i++) {
		struct blkb_pending *p = &d->pending[i];
		while (p->used && !d->broken && p->next < p->c.nr_sectors)
			if (!submit_next(d, p))
				return false;
	}
	return true;
}

static struct blkb_pending *free_pending(struct blkb_dev *d, u64 id, bool *dup)
{
	struct blkb_pending *free = NULL;

	*dup = false;
	for (unsigned i = 0; i < RING_SIZE(&d->ring); i++) {
		struct blkb_pending *p = &d->pending[i];
		if (!p->used) {
			if (!free)
				free = p;
		} else if (p->c.id == id) {
			*dup = true;
		}
	}
	return free;
}

/* Copies an indirect request's segment pages in and checks them: from
 * their persistent mappings when they are (or can be made) persistent,
 * else by grant copy. Either way the checks and all later reads see
 * dom0's copy, never the shared page. */
static enum blk_rule fetch_indirect(struct blkb_dev *d, struct blk_req_checked *c)
{
	struct gnttab_copy ops[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	unsigned n = c->nr_indirect_pages;

	if (d->persistent && blkb_persist_map(d, c->indirect_gref, n)) {
		for (unsigned i = 0; i < n; i++)
			memcpy((u8 *)d->indirect_page + i * PAGE_SIZE,
			       blkb_persist_va(d, c->indirect_gref[i]), PAGE_SIZE);
		return blk_check_segs(d->indirect_page, &d->lim, c);
	}
	for (unsigned i = 0; i < n; i++) {
		memset(&ops[i], 0, sizeof(ops[i]));
		ops[i].source.u.ref = c->indirect_gref[i];
		ops[i].source.domid = d->fe;
		ops[i].dest.u.gmfn = virt_to_gfn((u8 *)d->indirect_page + i * PAGE_SIZE);
		ops[i].dest.domid = DOMID_SELF;
		ops[i].len = PAGE_SIZE;
		ops[i].flags = GNTCOPY_source_gref;
	}
	if (gnttab_copy(ops, n))
		return BLK_RULE_GREF;
	for (unsigned i = 0; i < n; i++)
		if (ops[i].status != GNTST_okay)
			return BLK_RULE_GREF;
	return blk_check_segs(d->indirect_page, &d->lim, c);
}

/* Whether a read or write goes by persistent grants: all its grefs are
 * mapped (new ones now, in one batch). Not for a write to a read-only
 * export (refused before the device) nor for requests without data. */
static bool persist_wanted(struct blkb_dev *d, const struct blk_req_checked *q)
{
	grant_ref_t refs[BLK_MAX_SEGS];

	if ((q->op != BLKIF_OP_READ && q->op != BLKIF_OP_WRITE) ||
	    (d->ro && q->op == BLKIF_OP_WRITE))
		return false;
	for (unsigned i = 0; i < q->nr_segs; i++)
		refs[i] = q->seg[i].gref;
	return blkb_persist_map(d, refs, q->nr_segs);
}

/* Takes up to BLKB_BUDGET requests off the ring. */
static void take_requests(struct blkb_dev *d)
{
	unsigned budget = BLKB_BUDGET;
	int more;

	for (;;) {
		RING_IDX prod = d->ring.sring->req_prod;
		xen_rmb(); /* the index before the slots */
		if (blk_check_prod(prod, d->ring.req_cons, d->ring.rsp_prod_pvt,
				   RING_SIZE(&d->ring))) {
			blkb_violation(d, BLK_RULE_RING_PROD, "");
			return;
		}
		while (d->ring.req_cons != prod) {
			if (d->broken) /* a violation while submitting: stop */
				return;
			if (!budget--) {
				loop_port_kick(d->port);
				return;
			}
			bool dup;
			struct blkif_request rq;
			struct blkb_pending *p;
			RING_COPY_REQUEST(&d->ring, d->ring.req_cons, &rq);
			/* id sits at offset 8 in every layout (blkif.h). */
			p = free_pending(d, rq.id, &dup);
			if (dup) {
				blkb_violation(d, BLK_RULE_ID_BUSY, "");
				return;
			}
			if (!p) { /* cannot happen: blk_check_prod bounds it */
				blkb_violation(d, BLK_RULE_RING_PROD, "no free request slot");
				return;
			}
			enum blk_rule r = blk_check_request(&rq, &d->lim, &p->c);
			if (!r && p->c.indirect)
				r = fetch_indirect(d, &p->c);
			if (r) {
				blkb_violation(d, r, "");
				return;
			}
			d->ring.req_cons++;
			d->requests++;
			blkb_total_requests++;
			if (p->c.op == BLKIF_OP_READ) {
				d->rd_req++;
				d->rd_sect += p->c.nr_sectors;
			} else if (p->c.op == BLKIF_OP_WRITE) {
				d->wr_req++;
				d->wr_sect += p->c.nr_sectors;
			}
			p->used = true;
			p->persist = d->persistent && persist_wanted(d, &p->c);
			p->persist_frames = p->persist && frames_shape(d, &p->c);
			p->mappable = !p->persist && map_shape(d, &p->c);
			p->failed = false;
			p->next = 0;
			p->chunks = 0;
			d->nr_pending++;
			/* A read-only export: writes and discards are answered
			 * with an error and never reach the device. */
			if (d->ro && (p->c.op == BLKIF_OP_WRITE || p->c.op == BLKIF_OP_DISCARD)) {
				respond(d, p, BLKIF_RSP_ERROR);
				continue;
			}
			if (p->c.op == BLKIF_OP_FLUSH_DISKCACHE) {
				p->c.nr_sectors = d->bd->flush ? 1 : 0;
				if (!d->bd->flush) {
					respond(d, p, BLKIF_RSP_OKAY);
					continue;
				}
			}
			if (!submit_pending(d))
				return; /* a completion kicks us */
		}
		RING_FINAL_CHECK_FOR_REQUESTS(&d->ring, more);
		if (!more)
			return;
	}
}

static void handle_port(evtchn_port_t port, void *arg)
{
	struct blkb_dev *d = arg;
	(void)port;

	blkb_flush_done(); /* completions another poller saw */
	if (!d->connected)
		return;
	/* Pending requests first (they wait for chunks), then new ones;
	 * then the writes they staged go to the device. */
	if (!d->broken && submit_pending(d))
		take_requests(d);
	flush_staged(d);
}

bool blkb_ring_busy(const struct blkb_dev *d)
{
	return d->chunks_used != 0;
}

/* The device's interrupt, from the loop: its completions. */
static void bd_irq(void *arg)
{
	blk_poll(arg);
	blkb_flush_done();
}

int blkb_ring_connect(struct blkb_dev *d, const grant_ref_t *refs, unsigned nr_pages,
		      evtchn_port_t fe_port)
{
	struct gnttab_map_grant_ref map[BLKB_MAX_RING_PAGES];
	unsigned mapped = 0;
	int rc;

	for (unsigned i = 0; i < nr_pages; i++)
		gnttab_set_map_op(&map[i], gnttab_slot_gpa(ring_slot(d, i)), GNTMAP_host_map,
				  refs[i], d->fe);
	if (gnttab_map_refs(map, nr_pages))
		return -EFAULT;
	rc = 0;
	for (unsigned i = 0; i < nr_pages; i++) {
		if (map[i].status == GNTST_okay) {
			d->handles[i] = map[i].handle;
			mapped |= 1u << i;
		} else {
			rc = -EINVAL;
		}
	}
	d->nr_ring_pages = nr_pages;
	struct blkif_sring *s = gnttab_slot_va(ring_slot(d, 0));
	if (!rc) {
		BACK_RING_INIT(&d->ring, s, (size_t)nr_pages * PAGE_SIZE);
		d->pending = pages_alloc((RING_SIZE(&d->ring) * sizeof(struct blkb_pending) +
					  PAGE_SIZE - 1) / PAGE_SIZE, PAGE_SIZE);
		d->indirect_page = pages_alloc(BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST, PAGE_SIZE);
		if (!d->pending || !d->indirect_page)
			rc = -ENOMEM;
	}
	/* One chunk per request the device can queue, so that a busy ring
	 * keeps NVMe's or AHCI's queue full. */
	d->nr_chunks = MIN((unsigned)BLKB_CHUNKS, MAX(d->bd->queue_depth, 1u));
	for (unsigned i = 0; !rc && i < d->nr_chunks; i++) {
		d->chunks[i].buf = pages_alloc(BLKB_CHUNK_BYTES / PAGE_SIZE, PAGE_SIZE);
		if (!d->chunks[i].buf)
			rc = -ENOMEM;
	}
	if (!rc && d->persistent && blkb_persist_init(d)) {
		printf("dom0: blkback: d%u/%u: no memory for persistent grants: per request\n",
		       d->fe, d->devid);
		d->persistent = false;
	}
	if (!rc)
		rc = evtchn_bind_interdomain(d->fe, fe_port, &d->port);
	if (!rc && (rc = loop_bind_port(d->port, handle_port, d)))
		evtchn_close(d->port);
	if (!rc) {
		memset(d->pending, 0, RING_SIZE(&d->ring) * sizeof(struct blkb_pending));
		d->nr_pending = 0;
		d->chunks_used = 0;
		d->nr_staged = 0;
		d->broken = false;
		d->connected = true;
		drv_irq_set_handler(d->bd->irq, bd_irq, d->bd);
		loop_port_kick(d->port); /* requests made before we bound */
		return 0;
	}
	/* Undo what was done. */
	blkb_persist_fini(d);
	for (unsigned i = 0; i < BLKB_CHUNKS; i++) {
		if (d->chunks[i].buf)
			pages_free(d->chunks[i].buf, BLKB_CHUNK_BYTES / PAGE_SIZE);
		d->chunks[i].buf = NULL;
	}
	d->nr_chunks = 0;
	if (d->indirect_page)
		pages_free(d->indirect_page, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
	d->indirect_page = NULL;
	if (d->pending)
		pages_free(d->pending, (RING_SIZE(&d->ring) * sizeof(struct blkb_pending) +
					PAGE_SIZE - 1) / PAGE_SIZE);
	d->pending = NULL;
	for (unsigned i = 0; i < nr_pages; i++) {
		if (mapped & (1u << i)) {
			struct gnttab_unmap_grant_ref u;
			gnttab_set_unmap_op(&u, gnttab_slot_gpa(ring_slot(d, i)), d->handles[i]);
			gnttab_unmap_refs(&u, 1);
		}
	}
	return rc;
}

void blkb_ring_disconnect(struct blkb_dev *d)
{
	if (!d->connected)
		return;
	loop_unbind_port(d->port);
	evtchn_close(d->port);
	size_t pend_pages = (RING_SIZE(&d->ring) * sizeof(struct blkb_pending) + PAGE_SIZE - 1) /
			    PAGE_SIZE;
	for (unsigned i = 0; i < d->nr_ring_pages; i++) {
		struct gnttab_unmap_grant_ref u;
		gnttab_set_unmap_op(&u, gnttab_slot_gpa(ring_slot(d, i)), d->handles[i]);
		gnttab_unmap_refs(&u, 1);
	}
	/* No request of the ring is on the disk any more (blkback.c waits
	 * for that): nothing points into the persistent mappings. */
	blkb_persist_fini(d);
	for (unsigned i = 0; i < d->nr_chunks; i++) {
		pages_free(d->chunks[i].buf, BLKB_CHUNK_BYTES / PAGE_SIZE);
		d->chunks[i].buf = NULL;
	}
	d->nr_chunks = 0;
	pages_free(d->indirect_page, BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST);
	pages_free(d->pending, pend_pages);
	d->indirect_page = NULL;
	d->pending = NULL;
	d->connected = false;
}
