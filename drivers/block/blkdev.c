/* The block-device layer shared by the storage drivers; see blkdev.h. */
#include "blkdev.h"

static struct blkdev *disks[BLKDEV_MAX];
static unsigned nr_disks;

int blkdev_register(struct blkdev *bd)
{
	if (nr_disks == BLKDEV_MAX)
		return -ENOSPC;
	disks[nr_disks++] = bd;
	return 0;
}

unsigned blkdev_count(void)
{
	return nr_disks;
}

struct blkdev *blkdev_get(unsigned i)
{
	return i < nr_disks ? disks[i] : NULL;
}

struct blkdev *blkdev_by_serial(const char *serial)
{
	for (unsigned i = 0; i < nr_disks; i++)
		if (!strcmp(disks[i]->serial, serial))
			return disks[i];
	return NULL;
}

struct blkdev *blkdev_by_name(const char *name)
{
	for (unsigned i = 0; i < nr_disks; i++)
		if (!strcmp(disks[i]->name, name))
			return disks[i];
	return NULL;
}

/* A frames request's shape (blkdev.h): no buf, an aligned offset in
 * the first page, page-aligned frames, within the driver's page count. */
static bool frames_ok(const struct blkdev *bd, const struct blk_req *r)
{
	u64 bytes = (u64)r->count * bd->sector_size;
	u64 pages = (r->frame_off + bytes + PAGE_SIZE - 1) / PAGE_SIZE;

	if (r->buf || (r->frame_off & 3) || r->frame_off >= PAGE_SIZE || pages > bd->max_frames)
		return false;
	for (u64 i = 0; i < pages; i++)
		if (r->frames[i] & (PAGE_SIZE - 1))
			return false;
	return true;
}

int blk_submit(struct blkdev *bd, struct blk_req *r)
{
	int rc;

	if (bd->failed)
		return -EIO;
	if (r->op > BLK_DISCARD)
		return -EINVAL;
	if (r->op == BLK_DISCARD) {
		if (!bd->discard || bd->read_only || !r->count ||
		    r->count > bd->max_discard_sectors)
			return -EINVAL;
	} else if (r->op != BLK_FLUSH && (!r->count || r->count > bd->max_sectors))
		return -EINVAL;
	else if (r->op != BLK_FLUSH && !r->frames && (!r->buf || ((uintptr_t)r->buf & 3)))
		return -EINVAL;
	else if (r->op != BLK_FLUSH && r->frames && !frames_ok(bd, r))
		return -EINVAL;
	if (r->op == BLK_WRITE && bd->read_only)
		return -EINVAL;
	r->complete = false;
	r->status = 0;
	r->drv_deadline_us = drv_now_us() + BLK_TIMEOUT_US;
	rc = bd->ops->submit(bd, r);
	if (rc == 0)
		bd->inflight++;
	return rc;
}

unsigned blk_poll(struct blkdev *bd)
{
	unsigned n = bd->ops->poll(bd);
	drv_irq_done(bd->irq);
	return n;
}

void blk_irq_quiet(struct blkdev *bd, bool quiet)
{
	if (bd->ops->irq_quiet && bd->quiet != quiet) {
		bd->quiet = quiet;
		bd->ops->irq_quiet(bd, quiet);
	}
}

void blk_idle(struct blkdev *bd, u64 us)
{
	if (!bd->irq) {
		__asm__ volatile("pause");
		return;
	}
	if (drv_irq_wait(bd->irq, us))
		bd->nr_sleeps++;
}

int blk_wait(struct blkdev *bd, struct blk_req *r)
{
	/* Sleep in slices: a completion whose interrupt another disk on a
	 * shared line took is still found, and time-outs are checked. A
	 * disk blkback left quiet (blk_irq_quiet) must interrupt again, or
	 * every slice would run to its end; what completed while it was
	 * quiet is found by the poll before the first sleep. */
	blk_irq_quiet(bd, false);
	while (!r->complete)
		if (!blk_poll(bd) && !r->complete)
			blk_idle(bd, 20000);
	return r->status;
}

int blk_sync(struct blkdev *bd, u8 op, u64 sector, u32 count, void *buf)
{
	struct blk_req r = { .op = op, .sector = sector, .count = count, .buf = buf };
	int rc;

	while ((rc = blk_submit(bd, &r)) == -EBUSY)
		blk_poll(bd);
	if (rc)
		return rc;
	return blk_wait(bd, &r);
}

void blk_complete(struct blkdev *bd, struct blk_req *r, int status)
{
	if (bd->inflight)
		bd->inflight--;
	r->status = status;
	if (status)
		bd->nr_errors++;
	else if (r->op == BLK_READ)
		bd->nr_reads++;
	else if (r->op == BLK_WRITE)
		bd->nr_writes++;
	else if (r->op == BLK_DISCARD)
		bd->nr_discards++;
	else
		bd->nr_flushes++;
	r->complete = true;
	if (r->done)
		r->done(r);
}
