/*
 * The block-device interface every storage driver presents (virtio-blk,
 * NVMe, AHCI), and that dom0's users of disks (the self-tests now, blkback
 * later) program against.
 *
 * Requests are asynchronous: blk_submit() hands one to the device and
 * returns; blk_poll() completes what the device finished, setting
 * r->status and calling r->done (blk_idle() sleeps until the device's
 * interrupt, where it has one, says there is something). A device
 * takes up to queue_depth requests at once. Buffers are physically
 * contiguous guest memory (dom0: host memory, used for DMA as is), e.g.
 * from dma_alloc(); drivers split them at page or segment boundaries as
 * their hardware needs.
 *
 * Errors: a request the device refuses or fails completes with
 * r->status = -EIO (the driver logs the device's status code); one that
 * does not complete in BLK_TIMEOUT_US completes with -ETIMEDOUT and the
 * device is marked failed (every later request gets -EIO at submit).
 * Requests beyond the end of the disk are sent to the device like any
 * other (so that its error path is what is exercised); users that want
 * the check make it themselves against bd->sectors.
 */
#ifndef DRIVERS_BLKDEV_H
#define DRIVERS_BLKDEV_H

#include "drv.h"

struct pci_dev;
struct blkdev;

enum blk_op {
	BLK_READ,
	BLK_WRITE,
	BLK_FLUSH,   /* make completed writes durable; sector/count ignored */
	BLK_DISCARD, /* the sectors' contents may be dropped; buf ignored
	              * (only where bd->discard; blk_submit refuses it otherwise;
	              * each driver's command: docs/discard.md) */
};

#define BLK_TIMEOUT_US (10ULL * 1000 * 1000)

struct blk_req {
	/* Set by the submitter. */
	u8 op;              /* enum blk_op */
	u64 sector;         /* first sector, in units of the device's sector_size */
	u32 count;          /* sectors (0 for a flush) */
	void *buf;          /* count * sector_size bytes, contiguous, 4-byte aligned */
	/* Or, with buf NULL (READ/WRITE only, where bd->max_frames): the data
	 * lies in scattered pages, at DMA address frames[0] + frame_off up to
	 * the end of that page, then frames[1], ... each page-aligned and used
	 * from its start; frame_off 4-byte aligned; at most bd->max_frames
	 * pages. blkback's grant-map path: DMA straight into a guest's pages
	 * (docs/pvblk.md). The driver never dereferences these addresses. */
	const u64 *frames;
	u32 frame_off;
	void (*done)(struct blk_req *r); /* called on completion; may be NULL */
	void *cookie;       /* the submitter's */
	/* Set on completion. */
	bool complete;
	int status;         /* 0, -EIO, -ETIMEDOUT */
	/* The driver's. */
	u32 drv_slot;
	u64 drv_deadline_us;
};

struct blkdev_ops {
	/* Starts r. 0 if the device has it; -EBUSY if the queue is full
	 * (poll, then retry); -EINVAL if the request breaks the device's
	 * limits. r is not completed on an error return. */
	int (*submit)(struct blkdev *bd, struct blk_req *r);
	/* Completes what the device finished (and what timed out).
	 * Returns the number of requests completed. */
	unsigned (*poll)(struct blkdev *bd);
	/* Optional: asks the device not to interrupt on completions (quiet)
	 * or to interrupt again, for a caller that polls while it is busy
	 * (blkback). A hint: an interrupt may still come. */
	void (*irq_quiet)(struct blkdev *bd, bool quiet);
};

struct blkdev {
	char name[16];       /* "vda", "nvme0n1", "sda" */
	const char *driver;  /* "virtio-blk", "nvme", "ahci" */
	char model[41];
	char serial[21];
	u32 sector_size;     /* bytes */
	u64 sectors;         /* capacity */
	u32 max_sectors;     /* largest single request */
	unsigned queue_depth;
	u32 max_frames;      /* pages a frames request may span; 0: buf only */
	bool read_only;
	bool flush;          /* the device has a volatile cache to flush */
	bool discard;        /* the device takes BLK_DISCARD */
	u32 discard_granularity; /* sectors; its unit of discarding (>= 1) */
	u32 max_discard_sectors; /* largest single discard */
	bool failed;         /* timed out: requests are refused */
	unsigned inflight;   /* maintained by blk_submit / completion */
	bool quiet;          /* asked not to interrupt (blk_irq_quiet) */
	const struct blkdev_ops *ops;
	void *priv;
	struct pci_dev *pci;
	struct drv_irq *irq;  /* the device's interrupt, NULL when polled */
	u64 nr_reads, nr_writes, nr_flushes, nr_discards, nr_errors;
	u64 nr_sleeps;        /* waits that slept until the interrupt */
};

/* Disks and their partitions (guest/dom0/storage/partition.h) together. */
#define BLKDEV_MAX 64

/* The DMA address of byte `off` of r's data, and how many bytes from
 * there (at most `max`) are contiguous: the rest of buf, or of the page
 * for a frames request. For drivers building descriptors. */
static inline u64 blk_req_dma(const struct blk_req *r, u64 off, u32 max, u32 *len)
{
	if (!r->frames) {
		*len = max;
		return dma_addr(r->buf) + off;
	}
	off += r->frame_off;
	u32 in = (u32)(off & (PAGE_SIZE - 1));
	*len = MIN(max, (u32)PAGE_SIZE - in);
	return r->frames[off / PAGE_SIZE] + in;
}

/* Adds bd to the list of disks. 0 or -ENOSPC. */
int blkdev_register(struct blkdev *bd);
unsigned blkdev_count(void);
struct blkdev *blkdev_get(unsigned i);
/* The disk whose serial is `serial`, or NULL. */
struct blkdev *blkdev_by_serial(const char *serial);
/* The disk (or partition, which registers as a blkdev of its own, e.g.
 * "vda1") whose name is `name`, or NULL. */
struct blkdev *blkdev_by_name(const char *name);

/* Validates the request's shape (op, count vs max_sectors, buffer) and
 * submits it: 0, -EBUSY (queue full), -EINVAL, -EIO (device failed). */
int blk_submit(struct blkdev *bd, struct blk_req *r);
/* Completes what the device finished; with an interrupt, acknowledges
 * it afterwards (drv_irq_done) so the line can fire again. */
unsigned blk_poll(struct blkdev *bd);

/* bd->ops->irq_quiet where the driver has it (when bd->quiet changes);
 * nothing otherwise. After quiet = false, poll once more: what completed
 * before the device saw it does not interrupt. */
void blk_irq_quiet(struct blkdev *bd, bool quiet);
/* Sleeps until the device interrupts or `us` passes (without an
 * interrupt: a short busy wait). For callers with requests in flight. */
void blk_idle(struct blkdev *bd, u64 us);
/* Waits (blk_poll, blk_idle) until r is complete; returns r->status. */
int blk_wait(struct blkdev *bd, struct blk_req *r);
/* Submit (retrying while the queue is full) and wait: r->status. */
int blk_sync(struct blkdev *bd, u8 op, u64 sector, u32 count, void *buf);

/* For drivers: finishes r with status (updates counters, calls done). */
void blk_complete(struct blkdev *bd, struct blk_req *r, int status);

#endif
