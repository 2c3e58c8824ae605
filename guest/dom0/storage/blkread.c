/* Sequential reads for measuring: see blkread.h. */
#include <lib/errno.h>
#include <lib/string.h>
#include "block/blkdev.h"
#include "blkread.h"
#include "drv.h"
#include "pvclock.h"

static struct blk_req reqs[BLKREAD_QD_MAX];
static u8 *buf; /* kept for the next run: dom0 has no use for freeing it */
/* A run gave up on requests the device never finished: they still point
 * at reqs[] and buf, so neither may be used again. */
static bool wedged;

/* With nothing completed for this long, the device is taken as stuck. */
#define BLKREAD_STALL_NS (10ULL * 1000000000ULL)

int blkread_seq(struct blkdev *bd, u64 bytes, u32 req_bytes, struct blkread_result *res)
{
	u64 cap = bd->sectors * bd->sector_size, off = 0, t0;
	u32 want = req_bytes ? req_bytes : BLKREAD_CHUNK;
	u32 chunk = MIN(want, bd->max_sectors * bd->sector_size);
	unsigned qd = MIN(bd->queue_depth, BLKREAD_QD_MAX), busy;
	int rc = 0;

	if (!bytes || bytes > cap || bytes % bd->sector_size || !chunk || !qd ||
	    want > BLKREAD_CHUNK || want % bd->sector_size)
		return -EINVAL;
	if (wedged)
		return -EBUSY;
	if (!buf && !(buf = dma_alloc(BLKREAD_CHUNK, PAGE_SIZE)))
		return -ENOMEM;
	memset(reqs, 0, sizeof(reqs));
	for (unsigned i = 0; i < qd; i++)
		reqs[i].complete = true;
	res->requests = 0;
	t0 = pvclock_now_ns();
	u64 progress_at = t0;
	/* The queue is topped up after every poll rather than a MiB at a
	 * time: dd's reads through Linux's page cache overlap in the same
	 * way (readahead runs ahead of the read() that waits), so this is
	 * the native rate the guest's figure is held against. Every request
	 * lands on the same buffer: its bytes are dropped, as /dev/null's. */
	for (;;) {
		for (unsigned i = 0; i < qd && off < bytes && !rc; i++) {
			if (!reqs[i].complete)
				continue;
			if (reqs[i].count && (rc = reqs[i].status))
				break;
			u32 n = (u32)MIN((u64)chunk, bytes - off);
			reqs[i] = (struct blk_req){ .op = BLK_READ, .sector = off / bd->sector_size,
						    .count = n / bd->sector_size, .buf = buf };
			int s = blk_submit(bd, &reqs[i]);
			if (s == -EBUSY) { /* the device's own queue is full */
				reqs[i].complete = true;
				reqs[i].count = 0;
				break;
			}
			if (s) {
				reqs[i].complete = true;
				rc = s;
				break;
			}
			off += n;
			res->requests++;
		}
		busy = 0;
		for (unsigned i = 0; i < qd; i++)
			busy += !reqs[i].complete;
		/* On an error, what is in flight still completes before the
		 * buffer may be reused. */
		if (!busy && (off == bytes || rc))
			break;
		if (blk_poll(bd)) {
			progress_at = pvclock_now_ns();
		} else if (pvclock_now_ns() - progress_at > BLKREAD_STALL_NS) {
			wedged = true; /* the requests stay the driver's */
			rc = -ETIMEDOUT;
			break;
		} else {
			blk_idle(bd, 20000);
		}
	}
	for (unsigned i = 0; i < qd && !rc; i++)
		if (reqs[i].count && reqs[i].status)
			rc = reqs[i].status;
	res->ns = pvclock_now_ns() - t0;
	res->bytes = off;
	return rc;
}
