/*
 * role=blk-hostile devid=N kind=K: a frontend that connects properly and
 * then breaks the blkif protocol one way (docs/pvblk.md "What is
 * validated"); dom0's blkback must take the device to Closing (one log
 * line naming the rule) without touching the disk, and carry on serving
 * the other domains. Prints "pvtest: blk-hostile: <kind>: backend
 * Closing" and PASS, or FAIL if the backend kept the device.
 *
 * Kinds: op, nseg0, nseg12, sect, lastsect, end, gref-reserved,
 * gref-bad, indirect-op, indirect-nseg, indirect-gref, id, indices, and
 * the grants a map (or copy) is refused: gref-ro-read (a read into a
 * page granted read-only), gref-not-owned (a grant of a frame beyond
 * our memory), gref-ended (access ended before the backend got to it).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "blkfront.h"
#include "evtchn.h"
#include "gnttab.h"
#include "guest.h"
#include "pages.h"
#include "pvtest.h"
#include "xenbus.h"

static struct blkfront bf;

void role_blk_hostile(const struct hvm_start_info *si)
{
	u32 devid = (u32)arg_u64("devid");
	char kind[24];
	int rc;

	if (!cmdline_get(si_cmdline(si), "kind", kind, sizeof(kind)))
		fail("no kind=");
	if ((rc = xenbus_init()))
		fail("xenbus_init: %d", rc);
	if ((rc = gnttab_init(si, 4)))
		fail("gnttab_init: %d", rc);
	pages_init(si);
	u8 *page = pages_alloc(1, PAGE_SIZE);
	u8 *ipage = pages_alloc(1, PAGE_SIZE);
	if (!page || !ipage)
		fail("no memory");
	if ((rc = blkfront_connect(&bf, devid, 0)))
		fail("connect: %d", rc);
	int ref = gnttab_grant_access(bf.be_id, virt_to_gfn(page), false);
	int iref = gnttab_grant_access(bf.be_id, virt_to_gfn(ipage), true);
	if (ref < 0 || iref < 0)
		fail("grants: %d %d", ref, iref);

	/* A valid one-page read of sector 0; each kind spoils it. */
	struct blkif_request rq;
	struct blkif_request_indirect *ir = (void *)&rq;
	struct blkif_request_segment *iseg = (void *)ipage;
	memset(&rq, 0, sizeof(rq));
	rq.operation = BLKIF_OP_READ;
	rq.nr_segments = 1;
	rq.id = 7;
	rq.seg[0] = (struct blkif_request_segment){ .gref = (grant_ref_t)ref, .first_sect = 0,
						    .last_sect = 7 };
	for (unsigned i = 0; i < 33; i++)
		iseg[i] = rq.seg[0];
	bool notify = true;

	if (!strcmp(kind, "op")) {
		rq.operation = BLKIF_OP_RESERVED_1;
	} else if (!strcmp(kind, "nseg0")) {
		rq.nr_segments = 0;
	} else if (!strcmp(kind, "nseg12")) {
		rq.nr_segments = 12;
	} else if (!strcmp(kind, "sect")) {
		rq.seg[0].first_sect = 3;
		rq.seg[0].last_sect = 2;
	} else if (!strcmp(kind, "lastsect")) {
		rq.seg[0].last_sect = 8;
	} else if (!strcmp(kind, "end")) {
		rq.sector_number = bf.sectors - 4; /* 8 sectors: 4 past the end */
	} else if (!strcmp(kind, "gref-reserved")) {
		rq.seg[0].gref = 3;
	} else if (!strcmp(kind, "gref-bad")) {
		rq.seg[0].gref = 100000; /* far beyond our table */
	} else if (!strcmp(kind, "gref-ro-read")) {
		int ro = gnttab_grant_access(bf.be_id, virt_to_gfn(page), true);
		if (ro < 0)
			fail("grant: %d", ro);
		rq.seg[0].gref = (grant_ref_t)ro;
	} else if (!strcmp(kind, "gref-not-owned")) {
		int bad = gnttab_grant_access(bf.be_id, 0xffff0, false); /* 4 GiB: not our RAM */
		if (bad < 0)
			fail("grant: %d", bad);
		rq.seg[0].gref = (grant_ref_t)bad;
	} else if (!strcmp(kind, "gref-ended")) {
		/* Pushed, then the access ended before the backend looks. */
		blkfront_push_raw(&bf, &rq, false);
		if (!gnttab_end_access((grant_ref_t)ref))
			fail("end access: still in use");
		evtchn_send(bf.port);
		notify = false;
	} else if (!strcmp(kind, "indirect-op") || !strcmp(kind, "indirect-nseg") ||
		   !strcmp(kind, "indirect-gref")) {
		memset(&rq, 0, sizeof(rq));
		ir->operation = BLKIF_OP_INDIRECT;
		ir->indirect_op = BLKIF_OP_READ;
		ir->nr_segments = 2;
		ir->id = 7;
		ir->indirect_grefs[0] = (grant_ref_t)iref;
		if (!strcmp(kind, "indirect-op"))
			ir->indirect_op = BLKIF_OP_INDIRECT;
		else if (!strcmp(kind, "indirect-nseg"))
			ir->nr_segments = 4096;
		else
			ir->indirect_grefs[0] = 99999;
	} else if (!strcmp(kind, "id")) {
		/* Two requests with one id, taken in the same pass: the
		 * first is still at the device when the second comes. */
		blkfront_push_raw(&bf, &rq, false);
	} else if (!strcmp(kind, "indices")) {
		bf.ring.sring->req_prod = bf.ring.req_prod_pvt + RING_SIZE(&bf.ring) + 5;
		evtchn_send(bf.port);
		notify = false;
	} else {
		fail("unknown kind %s", kind);
	}
	if (notify && (rc = blkfront_push_raw(&bf, &rq, true)))
		fail("push: %d", rc);
	rc = xb_wait_state(xenbus(), bf.be, XenbusStateClosing, 10ULL * 1000000000ULL);
	if (rc != XenbusStateClosing)
		fail("%s: the backend stayed in state %d", kind, rc);
	printf("pvtest: blk-hostile: %s: backend Closing\n", kind);
	blkfront_close(&bf);
	printf("pvtest: blk-hostile: PASS %s\n", kind);
}
