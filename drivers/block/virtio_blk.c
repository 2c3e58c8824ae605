/*
 * virtio-blk over modern virtio-pci (OASIS Virtio 1.1, 5.2). One request
 * queue; each request is a chain: header (type, sector), the data split
 * into segments of at most size_max bytes, and the status byte.
 * Sectors in the header are always 512-byte units (5.2.6), whatever the
 * device's logical block size.
 *
 * Discard (VIRTIO_BLK_F_DISCARD, 5.2.6.2): a VIRTIO_BLK_T_DISCARD request
 * carries one discard_write_zeroes segment (sector, num_sectors, flags
 * 0: the unmap flag is for write-zeroes only) in place of the data; its
 * limits (max_discard_sectors, discard_sector_alignment, both in 512-byte
 * units) come from the configuration space.
 */
#include "block/blkdev.h"
#include "virtio/virtio.h"
#include "drivers.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

/* Device configuration (5.2.4). */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_ALIGNMENT 44

#define VBLK_QUEUE_MAX 128
#define VBLK_SLOTS 32       /* requests in flight at most */
#define VBLK_SEGS 34        /* data descriptors per request at most */

struct vblk_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
} __packed;

/* struct virtio_blk_discard_write_zeroes (5.2.6). */
struct vblk_discard {
	u64 sector;       /* 512-byte units */
	u32 num_sectors;
	u32 flags;        /* bit 0 unmap: write-zeroes only, 0 here */
} __packed;

/* Per-slot DMA memory: the header, a discard segment, the status byte. */
struct vblk_slot {
	struct vblk_hdr hdr;
	struct vblk_discard discard;
	u8 status;
	u8 pad[15];
};

struct vblk {
	struct virtio_dev vd;
	struct virtq q;
	struct blkdev bd;
	struct vblk_slot *slots;          /* DMA */
	struct blk_req *reqs[VBLK_SLOTS]; /* NULL = free slot */
	u32 seg_size;                     /* largest data descriptor */
	unsigned max_segs;
	unsigned max_frames;              /* data descriptors of a frames request */
	unsigned index;
};

static unsigned nr_vblk;

static int vblk_submit(struct blkdev *bd, struct blk_req *r)
{
	struct vblk *v = bd->priv;
	struct vq_buf bufs[VBLK_SEGS + 2];
	unsigned slot, n = 0;
	u32 bytes = r->op == BLK_READ || r->op == BLK_WRITE ? r->count * bd->sector_size : 0;

	for (slot = 0; slot < VBLK_SLOTS && v->reqs[slot]; slot++)
		;
	if (slot == VBLK_SLOTS)
		return -EBUSY;
	if (r->op == BLK_FLUSH && !bd->flush)
		return -EINVAL;

	struct vblk_slot *s = &v->slots[slot];
	u32 scale = bd->sector_size / 512;
	s->hdr.type = r->op == BLK_READ ? VIRTIO_BLK_T_IN
		      : r->op == BLK_WRITE ? VIRTIO_BLK_T_OUT
		      : r->op == BLK_DISCARD ? VIRTIO_BLK_T_DISCARD : VIRTIO_BLK_T_FLUSH;
	s->hdr.reserved = 0;
	s->hdr.sector = r->op == BLK_READ || r->op == BLK_WRITE ? r->sector * scale : 0;
	s->status = 0xff;
	bufs[n++] = (struct vq_buf){ &s->hdr, sizeof(s->hdr), false };
	if (r->op == BLK_DISCARD) {
		/* blk_submit bounded count by max_discard_sectors, which the
		 * probe keeps within the segment's 32-bit field. */
		if (!bd->discard)
			return -EINVAL;
		s->discard = (struct vblk_discard){ .sector = r->sector * scale,
						    .num_sectors = r->count * scale };
		bufs[n++] = (struct vq_buf){ &s->discard, sizeof(s->discard), false };
		bytes = 0;
	}
	for (u32 off = 0, len; off < bytes; off += len) {
		if (n > (r->frames ? v->max_frames : v->max_segs))
			return -EINVAL;
		/* A descriptor holds a device address: a frames request's
		 * pages are never mapped in dom0 at that address. */
		u64 a = blk_req_dma(r, off, MIN(v->seg_size, bytes - off), &len);
		bufs[n++] = (struct vq_buf){ (void *)(uintptr_t)a, len, r->op == BLK_READ };
	}
	bufs[n++] = (struct vq_buf){ &s->status, 1, true };
	int rc = virtq_add(&v->q, bufs, n, (void *)(uintptr_t)(slot + 1));
	if (rc)
		return rc;
	v->reqs[slot] = r;
	r->drv_slot = slot;
	virtq_kick(&v->vd, &v->q);
	return 0;
}

static unsigned vblk_poll(struct blkdev *bd)
{
	struct vblk *v = bd->priv;
	unsigned done = 0;
	void *cookie;
	u32 len;

	/* Reading the ISR status acknowledges the INTx interrupt (4.1.4.5);
	 * before the ring, so a completion after it interrupts again. Not
	 * with MSI-X (unused there). */
	if (bd->irq && !v->vd.msix)
		mmio_read8(v->vd.isr);
	while ((cookie = virtq_get(&v->q, &len))) {
		unsigned slot = (unsigned)(uintptr_t)cookie - 1;
		struct blk_req *r = slot < VBLK_SLOTS ? v->reqs[slot] : NULL;
		if (!r)
			continue;
		v->reqs[slot] = NULL;
		u8 st = v->slots[slot].status;
		if (st != VIRTIO_BLK_S_OK)
			drv_log("%s: %s of %u sectors at %lu failed: virtio status %u (%s)\n", bd->name,
				r->op == BLK_READ ? "read" : r->op == BLK_WRITE ? "write"
				: r->op == BLK_DISCARD ? "discard" : "flush",
				r->count, r->sector, st,
				st == VIRTIO_BLK_S_IOERR ? "I/O error"
				: st == VIRTIO_BLK_S_UNSUPP ? "unsupported" : "no status");
		blk_complete(bd, r, st == VIRTIO_BLK_S_OK ? 0 : -EIO);
		done++;
	}
	/* Time-outs: the device is declared failed, the request ends. */
	u64 now = drv_now_us();
	for (unsigned slot = 0; slot < VBLK_SLOTS; slot++) {
		struct blk_req *r = v->reqs[slot];
		if (r && now > r->drv_deadline_us) {
			drv_log("%s: request at sector %lu timed out; device marked failed\n", bd->name,
				r->sector);
			bd->failed = true;
			v->reqs[slot] = NULL;
			blk_complete(bd, r, -ETIMEDOUT);
			done++;
		}
	}
	return done;
}

/* VIRTQ_AVAIL_F_NO_INTERRUPT (virtio 1.x 2.7.7): without
 * VIRTIO_F_EVENT_IDX the device honours it, as a hint. Un-quieting is
 * followed by a full barrier so that the caller's next look at the used
 * ring comes after the device can see the flag. */
static void vblk_irq_quiet(struct blkdev *bd, bool quiet)
{
	struct vblk *v = bd->priv;

	v->q.avail[0] = quiet ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0;
	mb();
}

static const struct blkdev_ops vblk_ops = {
	.submit = vblk_submit,
	.poll = vblk_poll,
	.irq_quiet = vblk_irq_quiet,
};

/* VIRTIO_BLK_T_GET_ID: up to 20 bytes of serial, NUL-padded. */
static void vblk_get_serial(struct vblk *v, u8 *page)
{
	struct vblk_slot *s = &v->slots[0];
	struct vq_buf bufs[3];
	void *cookie;

	s->hdr = (struct vblk_hdr){ .type = VIRTIO_BLK_T_GET_ID };
	s->status = 0xff;
	bufs[0] = (struct vq_buf){ &s->hdr, sizeof(s->hdr), false };
	bufs[1] = (struct vq_buf){ page, 20, true };
	bufs[2] = (struct vq_buf){ &s->status, 1, true };
	if (virtq_add(&v->q, bufs, 3, (void *)1))
		return;
	virtq_kick(&v->vd, &v->q);
	if (!drv_wait((cookie = virtq_get(&v->q, NULL)) != NULL, 2000000))
		return;
	if (s->status == VIRTIO_BLK_S_OK) {
		memcpy(v->bd.serial, page, 20);
		v->bd.serial[20] = 0;
	}
}

/*
 * The discard limits (5.2.4): max_discard_sectors and the alignment are
 * in 512-byte units; a device offering the feature with a zero limit or
 * max_discard_seg 0 cannot take a request, so discard stays off.
 */
static void vblk_discard_limits(struct vblk *v)
{
	struct blkdev *bd = &v->bd;
	u32 scale = bd->sector_size / 512;
	u32 max = virtio_cfg32(&v->vd, CFG_MAX_DISCARD_SECTORS) / scale;
	u32 segs = virtio_cfg32(&v->vd, CFG_MAX_DISCARD_SEG);
	u32 align = virtio_cfg32(&v->vd, CFG_DISCARD_ALIGNMENT) / scale;

	/* Our request's count * scale must fit num_sectors (32 bits). */
	max = MIN(max, 0xffffffffu / scale);
	if (!max || !segs) {
		drv_log("%s: discard offered with max_discard_sectors %u, max_discard_seg %u: "
			"not used\n", bd->name, max, segs);
		return;
	}
	bd->discard = true;
	bd->max_discard_sectors = max;
	bd->discard_granularity = align ? align : 1;
}

static bool vblk_match(const struct pci_dev *d)
{
	/* 0x1042 modern, 0x1001 transitional (4.1.2.1). */
	return d->vendor == VIRTIO_PCI_VENDOR && (d->device == 0x1042 || d->device == 0x1001);
}

static int vblk_probe(struct pci_dev *d)
{
	struct vblk *v = dma_alloc(sizeof(*v), 0);
	int rc;

	if (!v)
		return -ENOMEM;
	u64 want = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
		   (1ULL << VIRTIO_BLK_F_RO) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		   (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_DISCARD);
	rc = virtio_init(&v->vd, d, want);
	if (rc)
		goto fail;
	/* The interrupt first: with MSI-X the queue's vector is part of
	 * its setup (4.1.5.1.2). */
	struct drv_irq *irq = drv_irq_attach(d);
	virtio_use_msix(&v->vd, drv_irq_is_msix(irq));
	rc = virtio_queue_init(&v->vd, &v->q, 0, VBLK_QUEUE_MAX);
	if (rc) {
		snprintf(d->note, sizeof(d->note), "request queue setup failed (%d)", rc);
		goto fail_reset;
	}
	v->slots = dma_alloc(sizeof(struct vblk_slot) * VBLK_SLOTS, 0);
	u8 *idpage = dma_alloc(PAGE_SIZE, 0);
	if (!v->slots || !idpage) {
		rc = -ENOMEM;
		goto fail_reset;
	}
	virtio_ready(&v->vd);

	struct blkdev *bd = &v->bd;
	u64 f = v->vd.features;
	bd->sector_size = 512;
	if (f & (1ULL << VIRTIO_BLK_F_BLK_SIZE)) {
		u32 bs = virtio_cfg32(&v->vd, CFG_BLK_SIZE);
		if (bs >= 512 && bs <= 4096 && !(bs & (bs - 1)))
			bd->sector_size = bs;
	}
	bd->sectors = virtio_cfg64(&v->vd, CFG_CAPACITY) / (bd->sector_size / 512);
	/* Without VIRTIO_BLK_F_SIZE_MAX a descriptor may be any size: the
	 * contiguous buffer then takes one. Requests are at most 1 MiB. */
	u32 max_bytes = 1u << 20;
	v->seg_size = max_bytes;
	if (f & (1ULL << VIRTIO_BLK_F_SIZE_MAX)) {
		u32 sm = virtio_cfg32(&v->vd, CFG_SIZE_MAX);
		if (sm >= bd->sector_size)
			v->seg_size = MIN(v->seg_size, (u32)ALIGN_DOWN(sm, bd->sector_size));
	}
	v->max_segs = MIN((max_bytes + v->seg_size - 1) / v->seg_size, (u32)VBLK_SEGS);
	if (f & (1ULL << VIRTIO_BLK_F_SEG_MAX)) {
		u32 sm = virtio_cfg32(&v->vd, CFG_SEG_MAX);
		if (sm)
			v->max_segs = MIN(v->max_segs, sm);
	}
	/* A request takes max_segs + 2 descriptors. */
	v->max_segs = MIN(v->max_segs, (unsigned)v->q.size - 2);
	/* A frames request (blkdev.h) takes one descriptor per page. */
	v->max_frames = MIN((unsigned)VBLK_SEGS, (unsigned)v->q.size - 2);
	if (f & (1ULL << VIRTIO_BLK_F_SEG_MAX)) {
		u32 sm = virtio_cfg32(&v->vd, CFG_SEG_MAX);
		if (sm)
			v->max_frames = MIN(v->max_frames, sm);
	}
	if (v->seg_size < PAGE_SIZE)
		v->max_frames = 0;
	bd->max_sectors = (u32)(MIN((u64)v->seg_size * v->max_segs, (u64)max_bytes) / bd->sector_size);
	bd->queue_depth = MIN(VBLK_SLOTS, v->q.size / (v->max_segs + 2));
	/* A frames request takes one descriptor per page (blkdev.h). */
	bd->max_frames = v->max_frames;
	bd->read_only = f & (1ULL << VIRTIO_BLK_F_RO);
	bd->flush = f & (1ULL << VIRTIO_BLK_F_FLUSH);
	bd->driver = "virtio-blk";
	bd->ops = &vblk_ops;
	bd->irq = irq;
	bd->priv = v;
	bd->pci = d;
	snprintf(bd->name, sizeof(bd->name), "vd%c", 'a' + nr_vblk);
	if (f & (1ULL << VIRTIO_BLK_F_DISCARD))
		vblk_discard_limits(v);
	snprintf(bd->model, sizeof(bd->model), "virtio-blk %04x:%04x", d->vendor, d->device);
	vblk_get_serial(v, idpage);
	dma_free(idpage, PAGE_SIZE);
	v->index = nr_vblk++;
	d->priv = v;
	snprintf(d->note, sizeof(d->note), "%s", bd->name);
	if (blkdev_register(bd))
		drv_log("%s: too many disks, not registered\n", bd->name);
	return 0;

fail_reset:
	virtio_reset(&v->vd);
fail:
	if (!d->note[0])
		snprintf(d->note, sizeof(d->note), "initialization failed (%d)", rc);
	dma_free(v, sizeof(*v));
	return rc;
}

const struct pci_driver virtio_blk_driver = {
	.name = "virtio-blk",
	.match = vblk_match,
	.probe = vblk_probe,
};
