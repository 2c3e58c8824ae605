/*
 * blkback's data path (guest/dom0/blkback/blk_ring.c) on the host, with
 * the hypervisor, the event loop and the disk played by this file: the
 * "guest" is an array of granted pages, gnttab_copy copies between them
 * and dom0's bounce buffers (refusing bad refs as Keel's hypervisor
 * does), the disk is a RAM array behind a queue of depth QD completed
 * when the test says so. Checked: data lands on the disk and comes back
 * byte for byte (direct and indirect requests), many chunks are on the
 * device at once, read-only exports answer writes with an error and never
 * reach the disk, the per-pass budget holds, notifications follow
 * rsp_event, and each class of bad request is a named violation that
 * stops the ring.
 *
 * unit-sources: guest/dom0/blkback/blk_ring.c guest/dom0/blkback/blk_check.c guest/dom0/blkback/blk_persist.c guest/dom0/blkback/blk_slots.c
 */
#include <stdlib.h>
#include <string.h>
#include <lib/errno.h>
#include "blkback_int.h"
#include "gnttab.h"
#include "evtchn.h"
#include "loop/loop.h"
#include "pages.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"

#define FE 5
#define NREFS 1100 /* a whole persistent table (1,056) of data pages */
#define DISK_SECTORS 4096 /* 2 MiB */
#define QD 8

static u8 *gpage[NREFS];           /* the guest's granted pages by ref */
static void *slotmap[GNTTAB_MAP_SLOTS];
static u8 disk[DISK_SECTORS * 512];
static unsigned long disk_writes;

/* ---- the hypervisor ------------------------------------------------- */

u64 gnttab_slot_gpa(unsigned i) { return (u64)i << PAGE_SHIFT; }
void *gnttab_slot_va(unsigned i) { return slotmap[i]; }

void gnttab_set_map_op(struct gnttab_map_grant_ref *op, u64 addr, u32 flags, grant_ref_t ref,
		       domid_t dom)
{
	memset(op, 0, sizeof(*op));
	op->host_addr = addr;
	op->flags = flags;
	op->ref = ref;
	op->dom = dom;
}

void gnttab_set_unmap_op(struct gnttab_unmap_grant_ref *op, u64 addr, grant_handle_t handle)
{
	memset(op, 0, sizeof(*op));
	op->host_addr = addr;
	op->handle = handle;
}

static unsigned maps_live;

long gnttab_map_refs(struct gnttab_map_grant_ref *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (ops[i].dom != FE || ops[i].ref >= NREFS || !gpage[ops[i].ref]) {
			ops[i].status = GNTST_bad_gntref;
			continue;
		}
		slotmap[ops[i].host_addr >> PAGE_SHIFT] = gpage[ops[i].ref];
		ops[i].status = GNTST_okay;
		ops[i].handle = 1000 + ops[i].ref;
		maps_live++;
	}
	return 0;
}

long gnttab_unmap_refs(struct gnttab_unmap_grant_ref *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		slotmap[ops[i].host_addr >> PAGE_SHIFT] = NULL;
		ops[i].status = GNTST_okay;
		maps_live--;
	}
	return 0;
}

static u8 *copy_side(struct gnttab_copy_ptr *p, bool gref, unsigned len)
{
	if (p->offset + len > PAGE_SIZE)
		return NULL;
	if (!gref)
		return (u8 *)(uintptr_t)(p->u.gmfn << PAGE_SHIFT) + p->offset;
	if (p->domid != FE || p->u.ref >= NREFS || !gpage[p->u.ref])
		return NULL;
	return gpage[p->u.ref] + p->offset;
}

static unsigned long copies;

long gnttab_copy(struct gnttab_copy *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		u8 *s = copy_side(&ops[i].source, ops[i].flags & GNTCOPY_source_gref, ops[i].len);
		u8 *d = copy_side(&ops[i].dest, ops[i].flags & GNTCOPY_dest_gref, ops[i].len);
		if (!s || !d) {
			ops[i].status = GNTST_bad_gntref;
			continue;
		}
		memcpy(d, s, ops[i].len);
		ops[i].status = GNTST_okay;
		copies++;
	}
	return 0;
}

static unsigned notifies, bound;
int evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port, evtchn_port_t *local)
{
	(void)remote_dom;
	(void)remote_port;
	*local = 77;
	bound++;
	return 0;
}
int evtchn_close(evtchn_port_t port) { (void)port; bound--; return 0; }
int evtchn_send(evtchn_port_t port) { (void)port; notifies++; return 0; }

/* ---- dom0's environment --------------------------------------------- */

static loop_port_fn port_fn;
static void *port_arg;
static bool kicked;
int loop_bind_port(evtchn_port_t port, loop_port_fn fn, void *arg)
{
	(void)port;
	port_fn = fn;
	port_arg = arg;
	return 0;
}
void loop_unbind_port(evtchn_port_t port) { (void)port; port_fn = NULL; }
void loop_port_kick(evtchn_port_t port) { (void)port; kicked = true; }

static long pages_out;
void *pages_alloc(u64 n, u64 align)
{
	(void)align;
	pages_out += (long)n;
	return aligned_alloc(PAGE_SIZE, n * PAGE_SIZE);
}
void pages_free(void *p, u64 n) { pages_out -= (long)n; free(p); }
void drv_irq_set_handler(struct drv_irq *irq, void (*fn)(void *arg), void *arg)
{
	(void)irq; (void)fn; (void)arg;
}

static enum blk_rule last_rule;
static unsigned violations, wakes;
u64 blkb_total_requests, blkb_total_violations, blkb_total_errors;
void blkb_violation(struct blkb_dev *d, enum blk_rule r, const char *detail)
{
	(void)detail;
	if (d->broken)
		return;
	d->broken = true;
	last_rule = r;
	violations++;
}
void blkb_wake(void) { wakes++; }
/* Every completion tells blkback that its device has room (for the other
 * exports on it, blkback.c); counted here. */
static unsigned waiter_kicks;
static struct blkdev *waiter_bd;
void blkb_kick_waiters(struct blkdev *b)
{
	waiter_kicks++;
	waiter_bd = b;
}

/* ---- the disk ------------------------------------------------------- */

static unsigned long discards, flushes;
static struct blk_req *queue[64];
static unsigned nq, max_inflight;
static struct blkdev bd = {
	.name = "ram0", .sector_size = 512, .sectors = DISK_SECTORS, .max_sectors = 256,
	.queue_depth = QD, .flush = true,
};

static u32 b_max_discard(void) { return bd.max_discard_sectors; }

static unsigned submits_loud; /* submitted while the disk may interrupt */

void blk_irq_quiet(struct blkdev *b, bool quiet) { b->quiet = quiet; }

int blk_submit(struct blkdev *b, struct blk_req *r)
{
	if (nq >= b->queue_depth)
		return -EBUSY;
	submits_loud += !b->quiet;
	ck_assert(r->op != BLK_WRITE || !b->read_only);
	queue[nq++] = r;
	b->inflight++;
	max_inflight = MAX(max_inflight, nq);
	return 0;
}

static unsigned disk_complete_all(void)
{
	unsigned n = nq;
	struct blk_req *done[64];
	memcpy(done, queue, sizeof(done));
	nq = 0;
	for (unsigned i = 0; i < n; i++) {
		struct blk_req *r = done[i];
		ck_assert_uint_le((r->sector + r->count) * 512, sizeof(disk));
		if (r->op == BLK_READ)
			memcpy(r->buf, disk + r->sector * 512, r->count * 512);
		else if (r->op == BLK_DISCARD) {
			ck_assert_ptr_null(r->buf);
			ck_assert_uint_le(r->count, b_max_discard());
			memset(disk + r->sector * 512, 0xdd, r->count * 512);
			discards++;
		} else if (r->op == BLK_FLUSH) {
			ck_assert_uint_eq(r->count, 0);
			flushes++;
		} else if (r->op == BLK_WRITE) {
			memcpy(disk + r->sector * 512, r->buf, r->count * 512);
			disk_writes++;
		}
		r->status = 0;
		r->complete = true;
		bd.inflight--;
		r->done(r);
	}
	return n;
}

unsigned blk_poll(struct blkdev *b) { (void)b; return disk_complete_all(); }

/* ---- the frontend --------------------------------------------------- */

static struct blkif_front_ring front;
static struct blkb_dev dev;
static bool setup_persistent; /* feature-persistent negotiated */

static void setup(bool ro, unsigned ring_pages)
{
	memset(&dev, 0, sizeof(dev));
	memset(gpage, 0, sizeof(gpage));
	for (unsigned r = 8; r < NREFS; r++)
		gpage[r] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	/* Ring pages: refs 8.. contiguous in a run so the ring is one array. */
	u8 *ring = aligned_alloc(PAGE_SIZE, ring_pages * PAGE_SIZE);
	for (unsigned i = 0; i < ring_pages; i++) {
		free(gpage[8 + i]);
		gpage[8 + i] = ring + i * PAGE_SIZE;
	}
	struct blkif_sring *s = (struct blkif_sring *)ring;
	SHARED_RING_INIT(s);
	FRONT_RING_INIT(&front, s, ring_pages * PAGE_SIZE);
	dev.used = true;
	dev.fe = FE;
	dev.index = 0;
	dev.bd = &bd;
	bd.read_only = false;
	dev.ro = ro;
	dev.persistent = setup_persistent;
	dev.lim = (struct blk_limits){ .sectors = DISK_SECTORS, .sector_ratio = 1,
				       .max_segs = BLK_MAX_SEGS, .flush = true };
	nq = max_inflight = 0;
	violations = 0;
	wakes = 0;
	notifies = 0;
	memset(disk, 0, sizeof(disk));
	disk_writes = discards = flushes = 0;
	grant_ref_t refs[4] = { 8, 9, 10, 11 };
	pages_out = 0;
	ck_assert_int_eq(blkb_ring_connect(&dev, refs, ring_pages, 3), 0);
	ck_assert(dev.connected);
	ck_assert_uint_eq(RING_SIZE(&dev.ring), 32 * ring_pages);
}

static void teardown(void)
{
	ck_assert(!blkb_ring_busy(&dev));
	blkb_ring_disconnect(&dev);
	ck_assert_uint_eq(maps_live, 0);
	ck_assert_uint_eq(bound, 0);
	ck_assert_int_eq(pages_out, 0);
	for (unsigned r = 12; r < NREFS; r++)
		free(gpage[r]);
	free(gpage[8]);
}

/* Runs the loop: the port handler while kicked (one pass per call, as
 * the loop does), the disk completing everything between passes. */
static unsigned run(unsigned max_passes)
{
	unsigned passes = 0;
	kicked = true;
	while ((kicked || nq) && passes < max_passes) {
		if (kicked) {
			kicked = false;
			passes++;
			port_fn(77, port_arg);
		}
		disk_complete_all();
	}
	return passes;
}

static void push(const void *req)
{
	memcpy(RING_GET_REQUEST(&front, front.req_prod_pvt), req, sizeof(struct blkif_request));
	front.req_prod_pvt++;
	RING_PUSH_REQUESTS(&front);
}

/* A direct read/write of nseg whole pages starting at page ref0. */
static void push_rw(u8 op, u64 id, u64 sector, grant_ref_t ref0, unsigned nseg)
{
	struct blkif_request r = { .operation = op, .nr_segments = (u8)nseg, .id = id,
				   .sector_number = sector };
	for (unsigned i = 0; i < nseg; i++)
		r.seg[i] = (struct blkif_request_segment){ .gref = ref0 + i, .last_sect = 7 };
	push(&r);
}

/* An indirect one: its segment list in page `list`. */
static void push_indirect(u8 op, u64 id, u64 sector, grant_ref_t list, grant_ref_t ref0,
			  unsigned nseg)
{
	struct blkif_request_indirect r = { .operation = BLKIF_OP_INDIRECT, .indirect_op = op,
					    .nr_segments = (u16)nseg, .id = id,
					    .sector_number = sector, .indirect_grefs = { list } };
	struct blkif_request_segment *segs = (void *)gpage[list];
	for (unsigned i = 0; i < nseg; i++)
		segs[i] = (struct blkif_request_segment){ .gref = ref0 + i, .last_sect = 7 };
	struct blkif_request raw;
	memset(&raw, 0, sizeof(raw));
	memcpy(&raw, &r, sizeof(r));
	push(&raw);
}

static unsigned take_responses(s16 *status, u64 *ids, unsigned max)
{
	unsigned n = 0;
	while (front.rsp_cons != front.sring->rsp_prod && n < max) {
		struct blkif_response *rsp = RING_GET_RESPONSE(&front, front.rsp_cons);
		status[n] = rsp->status;
		ids[n] = rsp->id;
		n++;
		front.rsp_cons++;
	}
	return n;
}

static void fill(grant_ref_t ref0, unsigned n, u8 seed)
{
	for (unsigned i = 0; i < n; i++)
		for (unsigned b = 0; b < PAGE_SIZE; b++)
			gpage[ref0 + i][b] = (u8)(seed + i * 7 + b * 13);
}

START_TEST(blk_ring_write_then_read_back)
{
	s16 st[64];
	u64 id[64];

	setup(false, 1);
	/* Direct: 11 pages at sector 64; indirect: 32 pages at sector 1024. */
	fill(100, 11, 1);
	fill(200, 32, 2);
	push_rw(BLKIF_OP_WRITE, 1, 64, 100, 11);
	push_indirect(BLKIF_OP_WRITE, 2, 1024, 300, 200, 32);
	run(100);
	ck_assert_uint_eq(take_responses(st, id, 64), 2);
	ck_assert_int_eq(st[0], BLKIF_RSP_OKAY);
	ck_assert_int_eq(st[1], BLKIF_RSP_OKAY);
	for (unsigned i = 0; i < 11; i++)
		ck_assert(!memcmp(disk + (64 + i * 8) * 512, gpage[100 + i], PAGE_SIZE));
	for (unsigned i = 0; i < 32; i++)
		ck_assert(!memcmp(disk + (1024 + i * 8) * 512, gpage[200 + i], PAGE_SIZE));
	ck_assert_uint_eq(disk[63 * 512 + 511], 0);        /* before: untouched */
	ck_assert_uint_eq(disk[(64 + 88) * 512], 0);       /* after: untouched */

	/* Read both back into other pages. */
	push_rw(BLKIF_OP_READ, 3, 64, 400, 11);
	push_indirect(BLKIF_OP_READ, 4, 1024, 301, 420, 32);
	run(100);
	ck_assert_uint_eq(take_responses(st, id, 64), 2);
	ck_assert_int_eq(st[0], BLKIF_RSP_OKAY);
	ck_assert_uint_eq(id[0], 3);
	ck_assert_uint_eq(id[1], 4);
	for (unsigned i = 0; i < 11; i++)
		ck_assert(!memcmp(gpage[400 + i], gpage[100 + i], PAGE_SIZE));
	for (unsigned i = 0; i < 32; i++)
		ck_assert(!memcmp(gpage[420 + i], gpage[200 + i], PAGE_SIZE));
	ck_assert_uint_eq(violations, 0);
	teardown();
}
END_TEST

START_TEST(blk_ring_one_mib_indirect)
{
	s16 st[4];
	u64 id[4];

	/* 256 segments (1 MiB) ending at the disk's last sector. */
	setup(false, 1);
	fill(200, 256, 3);
	push_indirect(BLKIF_OP_WRITE, 9, DISK_SECTORS - 2048, 199, 200, 256);
	run(1000);
	ck_assert_uint_eq(take_responses(st, id, 4), 1);
	ck_assert_int_eq(st[0], BLKIF_RSP_OKAY);
	for (unsigned i = 0; i < 256; i++)
		ck_assert(!memcmp(disk + (DISK_SECTORS - 2048 + i * 8) * 512, gpage[200 + i],
				  PAGE_SIZE));
	ck_assert_uint_eq(disk_writes, 1024 * 1024 / BLKB_CHUNK_BYTES);
	teardown();
}
END_TEST

START_TEST(blk_ring_many_in_flight)
{
	s16 st[64];
	u64 id[64];

	setup(false, 1);
	/* 32 requests of 2 pages each: the device's queue (QD) fills. */
	for (unsigned i = 0; i < 32; i++)
		push_rw(BLKIF_OP_WRITE, 100 + i, i * 16, 100 + 2 * i, 2);
	/* One pass: nothing completes during it. */
	kicked = false;
	port_fn(77, port_arg);
	ck_assert_uint_eq(nq, QD);
	waiter_kicks = 0;
	run(1000);
	ck_assert_uint_eq(max_inflight, QD);
	/* Each finished chunk offers the device's room to every export on
	 * it, not only to this ring (another's staged chunks may wait). */
	ck_assert_uint_ge(waiter_kicks, 32);
	ck_assert_ptr_eq(waiter_bd, &bd);
	ck_assert_uint_eq(dev.nr_chunks, QD); /* one bounce buffer per queue slot */
	ck_assert_uint_eq(take_responses(st, id, 64), 32);
	for (unsigned i = 0; i < 32; i++)
		ck_assert_int_eq(st[i], BLKIF_RSP_OKAY);
	teardown();
}
END_TEST

START_TEST(blk_ring_budget_per_pass)
{
	s16 st[128];
	u64 id[128];

	setup(false, 4); /* 128 slots */
	bd.flush = false; /* answered at once: only the budget stops a pass */
	for (unsigned i = 0; i < 100; i++) {
		struct blkif_request r = { .operation = BLKIF_OP_FLUSH_DISKCACHE, .id = i };
		push(&r);
	}
	kicked = false;
	port_fn(77, port_arg);
	/* At most BLKB_BUDGET taken in one pass, and a kick to continue. */
	ck_assert_uint_eq(front.sring->req_prod - dev.ring.req_cons, 100 - BLKB_BUDGET);
	ck_assert(kicked);
	run(1000);
	ck_assert_uint_eq(take_responses(st, id, 128), 100);
	ck_assert_uint_eq(nq, 0); /* none reached the disk */
	bd.flush = true;
	teardown();
}
END_TEST

START_TEST(blk_ring_readonly_refuses_writes)
{
	s16 st[8];
	u64 id[8];

	setup(true, 1);
	fill(100, 2, 9);
	push_rw(BLKIF_OP_WRITE, 1, 0, 100, 2);
	push_rw(BLKIF_OP_READ, 2, 0, 110, 2);
	run(100);
	ck_assert_uint_eq(take_responses(st, id, 8), 2);
	ck_assert_int_eq(st[0], BLKIF_RSP_ERROR);
	ck_assert_int_eq(st[1], BLKIF_RSP_OKAY);
	ck_assert_uint_eq(disk_writes, 0);
	ck_assert_uint_eq(violations, 0);
	teardown();
}
END_TEST

START_TEST(blk_ring_notification_follows_rsp_event)
{
	s16 st[64];
	u64 id[64];

	setup(false, 1);
	/* The frontend is not waiting (rsp_event far ahead): no notify. */
	front.sring->rsp_event = 1000;
	push_rw(BLKIF_OP_READ, 1, 0, 100, 1);
	run(100);
	ck_assert_uint_eq(notifies, 0);
	ck_assert_uint_eq(take_responses(st, id, 64), 1);
	/* It waits for the next one: exactly one notify for it. */
	front.sring->rsp_event = front.rsp_cons + 1;
	push_rw(BLKIF_OP_READ, 2, 0, 100, 1);
	run(100);
	ck_assert_uint_eq(notifies, 1);
	teardown();
}
END_TEST

/* One bad request after a good one: the bad one is the named violation,
 * nothing after it is taken, and the ring gets no more responses (it is
 * no longer trusted; the good one's chunk still completes on the disk so
 * the device can be released). */
static void expect_violation(const void *bad, enum blk_rule rule)
{
	s16 st[8];
	u64 id[8];

	setup(false, 1);
	push_rw(BLKIF_OP_READ, 1, 0, 100, 1);
	push(bad);
	push_rw(BLKIF_OP_WRITE, 3, 0, 100, 1);
	run(100);
	ck_assert_uint_eq(violations, 1);
	ck_assert_int_eq(last_rule, rule);
	ck_assert_uint_eq(take_responses(st, id, 8), 0);
	/* The bad one is refused before it is consumed, or (a grant the
	 * hypervisor refuses) while it runs: a write's copy from the guest
	 * is batched at the end of the pass (blk_ring.c: flush_writes), so
	 * the one after it may have been taken, but it never reaches the
	 * disk (disk_writes below) and is never answered. */
	ck_assert_uint_le(dev.ring.req_cons, 3);
	/* The good read's last chunk woke the service to take it down. */
	ck_assert_uint_ge(wakes, 1);
	ck_assert_uint_eq(disk_writes, 0);
	teardown();
}

START_TEST(blk_ring_bad_requests_are_violations)
{
	struct blkif_request r = { .operation = BLKIF_OP_READ, .nr_segments = 1, .id = 2,
				   .seg = { { .gref = 100, .last_sect = 7 } } };
	struct blkif_request b;

	b = r; b.operation = 0x42;                      expect_violation(&b, BLK_RULE_OP);
	b = r; b.operation = BLKIF_OP_WRITE_BARRIER;    expect_violation(&b, BLK_RULE_OP);
	b = r; b.nr_segments = 12;                      expect_violation(&b, BLK_RULE_NSEG_MAX);
	b = r; b.nr_segments = 0;                       expect_violation(&b, BLK_RULE_NSEG_ZERO);
	b = r; b.seg[0].first_sect = 8;                 expect_violation(&b, BLK_RULE_SECT_RANGE);
	b = r; b.sector_number = DISK_SECTORS;          expect_violation(&b, BLK_RULE_BEYOND_END);
	b = r; b.seg[0].gref = 3;                       expect_violation(&b, BLK_RULE_GREF);
	b = r; b.seg[0].gref = NREFS + 5;               /* a ref the hypervisor refuses */
	b.operation = BLKIF_OP_WRITE;                   expect_violation(&b, BLK_RULE_GREF);

	struct blkif_request_indirect ind = { .operation = BLKIF_OP_INDIRECT,
					      .indirect_op = BLKIF_OP_READ, .nr_segments = 4,
					      .id = 2, .indirect_grefs = { NREFS + 1 } };
	memset(&b, 0, sizeof(b));
	memcpy(&b, &ind, sizeof(ind));
	expect_violation(&b, BLK_RULE_GREF);           /* indirect page not granted */
	ind.nr_segments = 1000;
	memcpy(&b, &ind, sizeof(ind));
	expect_violation(&b, BLK_RULE_NSEG_MAX);
}
END_TEST

START_TEST(blk_ring_duplicate_id_and_bad_prod)
{
	setup(false, 1);
	push_rw(BLKIF_OP_READ, 7, 0, 100, 1);
	push_rw(BLKIF_OP_READ, 7, 8, 101, 1);
	kicked = false;
	port_fn(77, port_arg); /* both taken in one pass: the first still in flight */
	ck_assert_uint_eq(violations, 1);
	ck_assert_int_eq(last_rule, BLK_RULE_ID_BUSY);
	run(100);
	teardown();

	setup(false, 1);
	front.sring->req_prod = 33; /* more than the ring holds */
	run(10);
	ck_assert_uint_eq(violations, 1);
	ck_assert_int_eq(last_rule, BLK_RULE_RING_PROD);
	ck_assert_uint_eq(dev.ring.req_cons, 0);
	teardown();

	/* req_prod moved back below what the backend already took. */
	setup(false, 1);
	for (unsigned i = 0; i < 4; i++)
		push_rw(BLKIF_OP_READ, i, i * 8, 100 + i, 1);
	kicked = false;
	port_fn(77, port_arg); /* 4 taken, on the disk */
	ck_assert_uint_eq(dev.ring.req_cons, 4);
	front.sring->req_prod = 2;
	port_fn(77, port_arg);
	ck_assert_uint_eq(violations, 1);
	ck_assert_int_eq(last_rule, BLK_RULE_RING_PROD);
	ck_assert_uint_eq(dev.ring.req_cons, 4);
	run(100);
	teardown();
}
END_TEST

START_TEST(blk_ring_discard_and_flush_reach_the_disk)
{
	s16 st[8];
	u64 id[8];

	setup(false, 1);
	bd.discard = true;
	bd.max_discard_sectors = 100;
	dev.lim.discard = true;
	dev.lim.discard_gran = 1;
	struct blkif_request_discard dr = { .operation = BLKIF_OP_DISCARD, .id = 5,
					    .sector_number = 16, .nr_sectors = 250 };
	struct blkif_request raw, fl = { .operation = BLKIF_OP_FLUSH_DISKCACHE, .id = 6 };
	memset(&raw, 0, sizeof(raw));
	memcpy(&raw, &dr, sizeof(dr));
	push(&raw);
	push(&fl);
	run(100);
	ck_assert_uint_eq(take_responses(st, id, 8), 2);
	ck_assert_int_eq(st[0], BLKIF_RSP_OKAY);
	ck_assert_int_eq(st[1], BLKIF_RSP_OKAY);
	ck_assert_uint_eq(discards, 3); /* 100 + 100 + 50: the device's limit */
	ck_assert_uint_eq(flushes, 1);
	/* Exactly sectors 16..265 discarded. */
	ck_assert_uint_eq(disk[16 * 512 - 1], 0);
	ck_assert_uint_eq(disk[16 * 512], 0xdd);
	ck_assert_uint_eq(disk[266 * 512 - 1], 0xdd);
	ck_assert_uint_eq(disk[266 * 512], 0);
	bd.discard = false;
	teardown();
}
END_TEST

/* Persistent grants (blk_persist.c): each gref is mapped once, on first
 * use, and kept; data moves without a grant copy; past the table's bound
 * requests with new grefs go by copy; disconnect unmaps all. */
START_TEST(blk_ring_persistent_maps_each_gref_once)
{
	s16 st[8];
	u64 id[8];

	setup_persistent = true;
	setup(false, 1);
	unsigned long copies0 = copies;
	fill(100, 11, 1);
	fill(200, 32, 2);
	push_rw(BLKIF_OP_WRITE, 1, 64, 100, 11);
	push_indirect(BLKIF_OP_WRITE, 2, 1024, 300, 200, 32);
	run(100);
	ck_assert_uint_eq(take_responses(st, id, 8), 2);
	ck_assert_int_eq(st[0], BLKIF_RSP_OKAY);
	ck_assert_int_eq(st[1], BLKIF_RSP_OKAY);
	/* The ring, 11 + 32 data pages and the indirect page. */
	ck_assert_uint_eq(maps_live, 1 + 11 + 32 + 1);
	ck_assert_uint_eq(blkb_persist_live, 11 + 32 + 1);
	ck_assert_uint_eq(copies, copies0);
	for (unsigned i = 0; i < 32; i++)
		ck_assert(!memcmp(disk + (1024 + i * 8) * 512, gpage[200 + i], PAGE_SIZE));

	/* The same grefs again with new bytes: nothing new mapped. */
	fill(100, 11, 9);
	push_rw(BLKIF_OP_WRITE, 3, 64, 100, 11);
	run(100);
	ck_assert_uint_eq(take_responses(st, id, 8), 1);
	ck_assert_uint_eq(maps_live, 45);
	for (unsigned i = 0; i < 11; i++)
		ck_assert(!memcmp(disk + (64 + i * 8) * 512, gpage[100 + i], PAGE_SIZE));

	/* Read back into 11 new grefs: mapped on first use, then filled. */
	push_rw(BLKIF_OP_READ, 4, 64, 400, 11);
	run(100);
	ck_assert_uint_eq(take_responses(st, id, 8), 1);
	ck_assert_int_eq(st[0], BLKIF_RSP_OKAY);
	ck_assert_uint_eq(maps_live, 56);
	for (unsigned i = 0; i < 11; i++)
		ck_assert(!memcmp(gpage[400 + i], gpage[100 + i], PAGE_SIZE));
	ck_assert_uint_eq(copies, copies0);

	/* A bound of 60: 11 more would pass it, so that read goes by copy,
	 * nothing more is mapped, and its data is right all the same. */
	blkb_persist_cap = 60;
	push_rw(BLKIF_OP_READ, 5, 1024, 450, 11);
	run(100);
	blkb_persist_cap = BLKB_PERSIST_MAX;
	ck_assert_uint_eq(take_responses(st, id, 8), 1);
	ck_assert_int_eq(st[0], BLKIF_RSP_OKAY);
	ck_assert_uint_eq(maps_live, 56);
	ck_assert_uint_gt(copies, copies0);
	for (unsigned i = 0; i < 11; i++)
		ck_assert(!memcmp(gpage[450 + i], gpage[200 + i], PAGE_SIZE));
	ck_assert_uint_eq(violations, 0);
	teardown(); /* every mapping undone (maps_live 0) */
	ck_assert_uint_eq(blkb_persist_live, 0);
	setup_persistent = false;
}
END_TEST

/* Every export can fill its whole persistent table at once: one
 * domain's exports (a frontend inventing grefs on two disks) cannot use
 * up the grant window the others' mappings need; past its own bound an
 * export alone goes per request. */
START_TEST(blk_ring_persistent_every_export_gets_its_whole_table)
{
	static struct blkb_dev ex[BLKBACK_MAX_DEVS];
	grant_ref_t refs[32];

	setup(false, 1); /* the guest pages; `dev` itself stays out of it */
	for (unsigned e = 0; e < BLKBACK_MAX_DEVS; e++) {
		memset(&ex[e], 0, sizeof(ex[e]));
		ex[e].fe = FE;
		ex[e].devid = 51712 + e;
		ck_assert_int_eq(blkb_persist_init(&ex[e]), 0);
	}
	for (unsigned e = 0; e < BLKBACK_MAX_DEVS; e++) {
		for (unsigned r = 0; r < BLKB_PERSIST_MAX; r += 32) {
			for (unsigned k = 0; k < 32; k++)
				refs[k] = 12 + r + k;
			ck_assert_msg(blkb_persist_map(&ex[e], refs, 32),
				      "export %u refused at %u mappings", e, ex[e].pg.nr);
		}
		ck_assert_uint_eq(ex[e].pg.nr, BLKB_PERSIST_MAX);
	}
	ck_assert_uint_eq(blkb_persist_live, BLKBACK_MAX_DEVS * BLKB_PERSIST_MAX);
	refs[0] = 12 + BLKB_PERSIST_MAX;
	ck_assert(!blkb_persist_map(&ex[0], refs, 1)); /* its own bound */
	for (unsigned e = 0; e < BLKBACK_MAX_DEVS; e++)
		blkb_persist_fini(&ex[e]);
	ck_assert_uint_eq(blkb_persist_live, 0);
	teardown();
}
END_TEST

/* dom0 is awake while blkback submits and polls the disk before it
 * sleeps (blkback.c): every request goes to the disk with its interrupt
 * off (blk_irq_quiet), so a completion costs dom0 no VM exit. */
START_TEST(blk_ring_submits_with_the_disk_quiet)
{
	s16 st[64];
	u64 id[64];

	setup(false, 1);
	bd.quiet = false; /* as after dom0's last sleep */
	submits_loud = 0;
	fill(100, 11, 1);
	push_rw(BLKIF_OP_WRITE, 1, 64, 100, 11);
	push_rw(BLKIF_OP_READ, 2, 64, 400, 11);
	run(100);
	ck_assert_uint_eq(take_responses(st, id, 64), 2);
	ck_assert_int_eq(st[0], BLKIF_RSP_OKAY);
	ck_assert_int_eq(st[1], BLKIF_RSP_OKAY);
	ck_assert_msg(submits_loud == 0, "%u requests submitted with the disk's interrupt on",
		      submits_loud);
	ck_assert(bd.quiet);
	teardown();
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "blk-ring-persistent-every-export-gets-its-whole-table",
	  &blk_ring_persistent_every_export_gets_its_whole_table_ttest },
	{ "blk-ring-submits-with-the-disk-quiet", &blk_ring_submits_with_the_disk_quiet_ttest },
	{ "blk-ring-persistent-maps-each-gref-once", &blk_ring_persistent_maps_each_gref_once_ttest },
	{ "blk-ring-discard-and-flush-reach-the-disk",
	  &blk_ring_discard_and_flush_reach_the_disk_ttest },
	{ "blk-ring-write-then-read-back", &blk_ring_write_then_read_back_ttest },
	{ "blk-ring-many-in-flight", &blk_ring_many_in_flight_ttest },
	{ "blk-ring-one-mib-indirect", &blk_ring_one_mib_indirect_ttest },
	{ "blk-ring-budget-per-pass", &blk_ring_budget_per_pass_ttest },
	{ "blk-ring-readonly-refuses-writes", &blk_ring_readonly_refuses_writes_ttest },
	{ "blk-ring-notification-follows-rsp-event", &blk_ring_notification_follows_rsp_event_ttest },
	{ "blk-ring-bad-requests-are-violations", &blk_ring_bad_requests_are_violations_ttest },
	{ "blk-ring-duplicate-id-and-bad-prod", &blk_ring_duplicate_id_and_bad_prod_ttest },
	{ 0 },
};
