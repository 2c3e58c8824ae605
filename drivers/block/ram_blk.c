/*
 * The RAM disk (ram_blk.h). Data moves at submit (it is a memcpy); the
 * completion waits for blk_poll so that users see the asynchronous
 * device every other driver is (blkback's in-flight accounting, its
 * polling of devices without an interrupt).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "ram_blk.h"

struct ram_blk {
	struct blkdev bd;
	u8 *data;
	struct blk_req *queue[RAM_BLK_QD];
	unsigned head, count;
};

static struct ram_blk ram;

static int ram_submit(struct blkdev *bd, struct blk_req *r)
{
	struct ram_blk *rb = bd->priv;

	if (rb->count == RAM_BLK_QD)
		return -EBUSY;
	if (r->op != BLK_FLUSH && (r->sector > bd->sectors || r->count > bd->sectors - r->sector))
		r->drv_slot = 1; /* past the end: fails at completion, as a device's would */
	else
		r->drv_slot = 0;
	if (!r->drv_slot) {
		u8 *at = rb->data + r->sector * 512;
		size_t n = (size_t)r->count * 512;
		if (r->op == BLK_READ)
			memcpy(r->buf, at, n);
		else if (r->op == BLK_WRITE)
			memcpy(at, r->buf, n);
		else if (r->op == BLK_DISCARD)
			memset(at, 0, n);
	}
	rb->queue[(rb->head + rb->count++) % RAM_BLK_QD] = r;
	return 0;
}

static unsigned ram_poll(struct blkdev *bd)
{
	struct ram_blk *rb = bd->priv;
	unsigned n = 0;

	while (rb->count) {
		struct blk_req *r = rb->queue[rb->head];
		rb->head = (rb->head + 1) % RAM_BLK_QD;
		rb->count--;
		blk_complete(bd, r, r->drv_slot ? -EIO : 0);
		n++;
	}
	return n;
}

static const struct blkdev_ops ram_ops = { .submit = ram_submit, .poll = ram_poll };

struct blkdev *ram_blk_create(u64 sectors, const char *serial)
{
	struct ram_blk *rb = &ram;

	if (rb->data || !sectors || sectors > RAM_BLK_MAX_SECTORS)
		return NULL;
	rb->data = dma_alloc((size_t)sectors * 512, 0);
	if (!rb->data)
		return NULL;
	struct blkdev *bd = &rb->bd;
	strlcpy(bd->name, "ram0", sizeof(bd->name));
	bd->driver = "ram";
	strlcpy(bd->model, "Keel RAM disk", sizeof(bd->model));
	strlcpy(bd->serial, serial, sizeof(bd->serial));
	bd->sector_size = 512;
	bd->sectors = sectors;
	bd->max_sectors = 2048; /* 1 MiB, blkback's largest request */
	bd->queue_depth = RAM_BLK_QD;
	bd->flush = true;
	bd->discard = true;
	bd->discard_granularity = 1;
	bd->max_discard_sectors = (u32)sectors;
	bd->ops = &ram_ops;
	bd->priv = rb;
	if (blkdev_register(bd)) {
		dma_free(rb->data, (size_t)sectors * 512);
		rb->data = NULL;
		return NULL;
	}
	drv_log("dom0: disk ram0: RAM disk, %lu sectors of 512 bytes, serial %s\n", sectors,
		serial);
	return bd;
}
