/*
 * role=blk-pg-hostile devid=N: a frontend that negotiates persistent
 * grants (docs/pvblk.md "Persistent grants") and then uses its grants the
 * ways a careless or hostile one may, none of which is a protocol
 * violation; blkback must serve each correctly. The host checks the disk
 * afterwards (tests/pvblk/test_pvblk.py, pvblk-persistent-hostile-
 * frontend): pattern 3 of the host's generator at the sectors below, the
 * rest of the disk untouched (pattern 1).
 *
 *   ro-then-rw: a page granted read-only carries a write (blkback cannot
 *     map it read-write: that request goes per request and is written);
 *     then the same gref, granted read-write, carries a read: it must
 *     land in the page (no read-only leftover). Sectors 0..7.
 *   repoint: a gref blkback maps persistently (a write from page A,
 *     sectors 8..15) cannot be revoked while connected; its entry is then
 *     pointed at page B behind blkback's back: a write through it still
 *     writes A's bytes (sectors 16..23: blkback keeps the frame it
 *     mapped), and a read through it lands in A, B untouched.
 *   dup: one request naming the same gref in two segments (a write of
 *     16 sectors from one page, sectors 24..39): mapped once, both
 *     segments written.
 *   mid-request: 16 reads through 16 new grants pushed, then the
 *     frontend closes at once without taking a response; after the
 *     backend is Closed every grant of the connection can be revoked
 *     (blkback unmapped them all).
 * Prints "pvtest: blk-pg-hostile: <case> ok" for each and PASS.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "blkfront.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "pages.h"
#include "pvclock.h"
#include "pvtest.h"
#include "xenbus.h"

#define WAIT_NS (10ULL * 1000000000ULL)
#define MID_REQS 16

static struct blkfront bf;

/* The host's generator (blk.c, tests/hw/test_hw.py): word w of the disk. */
static u32 pattern_word(u64 w, u32 seed)
{
	return (u32)((w + (u64)seed * 0x10000000ULL) * 2654435761ULL) ^ (u32)(w >> 13);
}

/* Page p holds pattern 3's bytes at disk offset off. */
static void fill3(u8 *p, u64 off)
{
	for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
		((u32 *)p)[i] = pattern_word(off / 4 + i, 3);
}

static bool is3(const u8 *p, u64 off)
{
	for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
		if (((const u32 *)p)[i] != pattern_word(off / 4 + i, 3))
			return false;
	return true;
}

/* Pushes rq and waits for the response with its id: its status. */
static int raw_io(struct blkif_request *rq)
{
	u64 deadline = pvclock_now_ns() + WAIT_NS;
	int rc = blkfront_push_raw(&bf, rq, true);

	if (rc)
		return rc;
	for (;;) {
		RING_IDX prod = bf.ring.sring->rsp_prod;
		xen_rmb();
		while (bf.ring.rsp_cons != prod) {
			struct blkif_response rsp;
			RING_COPY_RESPONSE(&bf.ring, bf.ring.rsp_cons, &rsp);
			bf.ring.rsp_cons++;
			if (rsp.id == rq->id)
				return rsp.status;
		}
		int more;
		RING_FINAL_CHECK_FOR_RESPONSES(&bf.ring, more);
		if (more)
			continue;
		if (pvclock_now_ns() >= deadline)
			return -ETIMEDOUT;
		evtchn_poll(&bf.port, 1, deadline);
		evtchn_clear_pending(bf.port);
	}
}

/* A one-segment request of 8 sectors at `sector` through ref. */
static void one_page(struct blkif_request *rq, u8 op, u64 id, u64 sector, grant_ref_t ref)
{
	memset(rq, 0, sizeof(*rq));
	rq->operation = op;
	rq->nr_segments = 1;
	rq->id = id;
	rq->sector_number = sector;
	rq->seg[0] = (struct blkif_request_segment){ .gref = ref, .first_sect = 0, .last_sect = 7 };
}

static void must(const char *what, int status)
{
	if (status != BLKIF_RSP_OKAY)
		fail("%s: status %d", what, status);
}

void role_blk_pg_hostile(const struct hvm_start_info *si)
{
	u32 devid = (u32)arg_u64("devid");
	struct blkif_request rq;
	grant_ref_t mid[MID_REQS];
	int rc;

	if ((rc = xenbus_init()))
		fail("xenbus_init: %d", rc);
	if ((rc = gnttab_init(si, 4)))
		fail("gnttab_init: %d", rc);
	pages_init(si);
	u8 *a = pages_alloc(1, PAGE_SIZE), *a2 = pages_alloc(1, PAGE_SIZE);
	u8 *b2 = pages_alloc(1, PAGE_SIZE), *a3 = pages_alloc(1, PAGE_SIZE);
	u8 *midp = pages_alloc(MID_REQS, PAGE_SIZE);
	if (!a || !a2 || !b2 || !a3 || !midp)
		fail("no memory");
	if ((rc = blkfront_connect(&bf, devid, 0)))
		fail("connect: %d", rc);
	if (!bf.persistent)
		fail("the backend did not offer feature-persistent");

	/* ro-then-rw. */
	fill3(a, 0);
	int g = gnttab_grant_access(bf.be_id, virt_to_gfn(a), true);
	if (g < 0)
		fail("grant: %d", g);
	one_page(&rq, BLKIF_OP_WRITE, 1, 0, (grant_ref_t)g);
	must("write through a read-only grant", raw_io(&rq));
	if (!gnttab_end_access((grant_ref_t)g))
		fail("a read-only grant stayed mapped after its write");
	gnttab_grant_access_ref((grant_ref_t)g, bf.be_id, virt_to_gfn(a), false);
	memset(a, 0, PAGE_SIZE);
	one_page(&rq, BLKIF_OP_READ, 2, 0, (grant_ref_t)g);
	must("read through the same gref, now read-write", raw_io(&rq));
	if (!is3(a, 0))
		fail("ro-then-rw: the read did not land in the page");
	printf("pvtest: blk-pg-hostile: ro-then-rw ok\n");

	/* repoint. */
	fill3(a2, 4096);
	memset(b2, 0x5a, PAGE_SIZE);
	int g2 = gnttab_grant_access(bf.be_id, virt_to_gfn(a2), false);
	if (g2 < 0)
		fail("grant: %d", g2);
	one_page(&rq, BLKIF_OP_WRITE, 3, 8, (grant_ref_t)g2);
	must("write through a fresh grant", raw_io(&rq));
	if (gnttab_end_access((grant_ref_t)g2))
		fail("repoint: the backend did not keep the grant mapped (revoked)");
	/* Behind the backend's back: the entry now names page B. */
	gnttab_entry((grant_ref_t)g2)->frame = (u32)virt_to_gfn(b2);
	one_page(&rq, BLKIF_OP_WRITE, 4, 16, (grant_ref_t)g2);
	must("write through the re-pointed grant", raw_io(&rq));
	one_page(&rq, BLKIF_OP_READ, 5, 0, (grant_ref_t)g2);
	must("read through the re-pointed grant", raw_io(&rq));
	if (!is3(a2, 0))
		fail("repoint: the read did not land in the page the backend mapped");
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (b2[i] != 0x5a)
			fail("repoint: byte %u of the page never mapped changed", i);
	gnttab_entry((grant_ref_t)g2)->frame = (u32)virt_to_gfn(a2);
	printf("pvtest: blk-pg-hostile: repoint ok\n");

	/* dup. */
	fill3(a3, 12288);
	int g3 = gnttab_grant_access(bf.be_id, virt_to_gfn(a3), false);
	if (g3 < 0)
		fail("grant: %d", g3);
	one_page(&rq, BLKIF_OP_WRITE, 6, 24, (grant_ref_t)g3);
	rq.nr_segments = 2;
	rq.seg[1] = rq.seg[0];
	must("one gref in two segments", raw_io(&rq));
	printf("pvtest: blk-pg-hostile: dup ok\n");

	/* mid-request. */
	for (unsigned i = 0; i < MID_REQS; i++) {
		int r = gnttab_grant_access(bf.be_id, virt_to_gfn(midp + i * PAGE_SIZE), false);
		if (r < 0)
			fail("grant: %d", r);
		mid[i] = (grant_ref_t)r;
		one_page(&rq, BLKIF_OP_READ, 100 + i, 64 + 8 * i, mid[i]);
		if ((rc = blkfront_push_raw(&bf, &rq, i + 1 == MID_REQS)))
			fail("push: %d", rc);
	}
	xb_switch_state(xenbus(), bf.fe, XenbusStateClosing);
	rc = xb_wait_state(xenbus(), bf.be, XenbusStateClosing, WAIT_NS);
	if (rc != XenbusStateClosing && rc != XenbusStateClosed)
		fail("mid-request: the backend went to state %d, not Closing", rc);
	xb_switch_state(xenbus(), bf.fe, XenbusStateClosed);
	rc = xb_wait_state(xenbus(), bf.be, XenbusStateClosed, WAIT_NS);
	if (rc != XenbusStateClosed)
		fail("mid-request: the backend went to state %d, not Closed", rc);
	/* Closed: the backend has unmapped everything of this connection. */
	grant_ref_t all[3 + MID_REQS] = { (grant_ref_t)g, (grant_ref_t)g2, (grant_ref_t)g3 };
	memcpy(&all[3], mid, sizeof(mid));
	for (unsigned i = 0; i < ARRAY_SIZE(all); i++)
		if (!gnttab_end_access(all[i]))
			fail("mid-request: grant %u still mapped after the backend's Closed", all[i]);
	printf("pvtest: blk-pg-hostile: mid-request ok\n");
	blkfront_close(&bf);
	printf("pvtest: blk-pg-hostile: PASS\n");
}
