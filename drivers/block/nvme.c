/*
 * NVMe over PCIe (NVM Express Base 1.4: 3.1 controller registers, 4.2-4.6
 * queues, PRPs and completions, 5 admin commands, 7.6 initialization; NVM
 * Command Set 1.0). One admin queue pair and one I/O queue pair; the
 * first active namespace becomes the disk. Completions are interrupt-
 * driven through drv_irq_attach (entry 0 of the function's MSI-X table,
 * else its MSI, else INTx; one vector for the admin and I/O queues),
 * polled without an interrupt.
 *
 * Discard is Dataset Management with the Deallocate attribute (NVM
 * Command Set 1.0 3.2.3, Base 1.4 6.7), offered when Identify
 * Controller's ONCS says the command exists: one range per command, in
 * the slot's PRP-list page (unused by a command without data). The
 * granularity is the namespace's NPDG when NSFEAT says it is valid; a
 * range's length is bounded by DMRSL (Identify CNS 06h) when the
 * controller reports one (QEMU skips longer ranges silently).
 */
#include "block/blkdev.h"
#include "drivers.h"
#include "pci/pci.h"

/* Controller registers (3.1). */
#define NVME_CAP 0x00
#define NVME_VS 0x08
#define NVME_INTMS 0x0c
#define NVME_INTMC 0x10
#define NVME_CC 0x14
#define NVME_CSTS 0x1c
#define NVME_AQA 0x24
#define NVME_ASQ 0x28
#define NVME_ACQ 0x30
#define NVME_DOORBELL 0x1000

#define CC_EN 1u
#define CC_IOSQES (6u << 16) /* 64-byte submission entries */
#define CC_IOCQES (4u << 20) /* 16-byte completion entries */
#define CSTS_RDY 1u
#define CSTS_CFS 2u

/* Opcodes. */
#define ADMIN_CREATE_SQ 0x01
#define ADMIN_CREATE_CQ 0x05
#define ADMIN_IDENTIFY 0x06
#define ADMIN_SET_FEATURES 0x09
#define IO_FLUSH 0x00
#define IO_WRITE 0x01
#define IO_READ 0x02
#define IO_DSM 0x09
#define DSM_AD (1u << 2)  /* CDW11: Attribute - Deallocate */
#define ONCS_DSM (1u << 2)
#define NSFEAT_OPTPERF (1u << 4) /* NPWG..NOWS are valid */

#define FEAT_NUM_QUEUES 0x07

#define ADMIN_QSIZE 16
#define IO_QSIZE 64
#define NVME_SLOTS 32        /* I/O commands in flight at most */
#define ADMIN_TIMEOUT_US (5ULL * 1000 * 1000)

struct nvme_sqe {
	u32 cdw0;            /* opcode | CID << 16 */
	u32 nsid;
	u64 rsvd;
	u64 mptr;
	u64 prp1, prp2;
	u32 cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	u32 result;
	u32 rsvd;
	u16 sq_head, sq_id;
	u16 cid;
	u16 status;          /* bit 0 phase, 1-15 status field */
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "NVMe SQE is 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 16, "NVMe CQE is 16 bytes");

struct nvme_queue {
	volatile struct nvme_sqe *sq;
	volatile struct nvme_cqe *cq;
	u16 size;
	u16 sq_tail, cq_head;
	u8 phase;
	volatile u32 *sq_db, *cq_db;
};

struct nvme {
	volatile u8 *regs;
	struct pci_dev *pci;
	unsigned dstrd;          /* doorbell stride: 4 << dstrd bytes */
	struct nvme_queue admin, io;
	struct blkdev bd;
	u32 nsid;
	u32 max_xfer;            /* bytes per command */
	struct blk_req *reqs[NVME_SLOTS];
	u64 *prp_lists[NVME_SLOTS];  /* one page each */
	u16 admin_cid;
	u8 *scratch;             /* identify data */
};

static unsigned nr_nvme;

static const char *status_name(u16 sf)
{
	unsigned sct = (sf >> 8) & 7, sc = sf & 0xff;
	if (sct == 0) {
		switch (sc) {
		case 0x01: return "invalid opcode";
		case 0x02: return "invalid field";
		case 0x04: return "data transfer error";
		case 0x06: return "internal error";
		case 0x0b: return "invalid namespace";
		case 0x80: return "LBA out of range";
		case 0x81: return "capacity exceeded";
		}
	}
	if (sct == 2)
		return "media error";
	return "error";
}

static int queue_alloc(struct nvme *n, struct nvme_queue *q, u16 qid, u16 size)
{
	q->size = size;
	q->sq = dma_alloc(sizeof(struct nvme_sqe) * size, PAGE_SIZE);
	q->cq = dma_alloc(sizeof(struct nvme_cqe) * size, PAGE_SIZE);
	if (!q->sq || !q->cq)
		return -ENOMEM;
	q->sq_tail = q->cq_head = 0;
	q->phase = 1;
	q->sq_db = (volatile u32 *)(n->regs + NVME_DOORBELL + (2 * qid) * (4u << n->dstrd));
	q->cq_db = (volatile u32 *)(n->regs + NVME_DOORBELL + (2 * qid + 1) * (4u << n->dstrd));
	return 0;
}

static void sq_push(struct nvme_queue *q, const struct nvme_sqe *e)
{
	q->sq[q->sq_tail] = *e;
	q->sq_tail = (q->sq_tail + 1) % q->size;
	wmb(); /* the entry before the doorbell */
	mmio_write32(q->sq_db, q->sq_tail);
}

/* The next completion if the controller posted one (phase tag matches). */
static bool cq_pop(struct nvme_queue *q, struct nvme_cqe *out)
{
	volatile struct nvme_cqe *e = &q->cq[q->cq_head];
	if ((e->status & 1) != q->phase)
		return false;
	rmb();
	*out = *e;
	if (++q->cq_head == q->size) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	mmio_write32(q->cq_db, q->cq_head);
	return true;
}

/* An admin command, waited for. Returns the status field (0 = success)
 * or -ETIMEDOUT; *result gets DW0. */
static int admin_cmd(struct nvme *n, struct nvme_sqe *e, u32 *result)
{
	struct nvme_cqe c;
	u16 cid = ++n->admin_cid;

	e->cdw0 = (e->cdw0 & 0xff) | (u32)cid << 16;
	sq_push(&n->admin, e);
	if (!drv_wait(cq_pop(&n->admin, &c), ADMIN_TIMEOUT_US))
		return -ETIMEDOUT;
	if (c.cid != cid)
		return -EIO;
	if (result)
		*result = c.result;
	return c.status >> 1;
}

/* Fills PRP1/PRP2 for r's len bytes (4.3: PRP1 may start mid-page; the
 * rest are whole pages, listed in a PRP list when more than one): a
 * contiguous buf, or a frames request's pages (blkdev.h), which have
 * exactly that shape. */
static int build_prps(struct nvme_sqe *e, const struct blk_req *r, u32 len, u64 *list)
{
	u32 first;
	u64 a = blk_req_dma(r, 0, PAGE_SIZE, &first);

	first = PAGE_SIZE - (u32)(a & (PAGE_SIZE - 1));
	e->prp1 = a;
	e->prp2 = 0;
	if (len <= first)
		return 0;
	u32 rest = len - first, one;
	if (rest <= PAGE_SIZE) {
		e->prp2 = blk_req_dma(r, first, PAGE_SIZE, &one);
		return 0;
	}
	unsigned pages = (rest + PAGE_SIZE - 1) / PAGE_SIZE;
	if (pages > PAGE_SIZE / 8)
		return -EINVAL; /* one list page: at most 2 MiB */
	for (unsigned i = 0; i < pages; i++)
		list[i] = blk_req_dma(r, first + (u64)i * PAGE_SIZE, PAGE_SIZE, &one);
	e->prp2 = dma_addr(list);
	return 0;
}

static int nvme_submit(struct blkdev *bd, struct blk_req *r)
{
	struct nvme *n = bd->priv;
	struct nvme_sqe e;
	unsigned slot;

	for (slot = 0; slot < NVME_SLOTS && n->reqs[slot]; slot++)
		;
	if (slot == NVME_SLOTS)
		return -EBUSY;
	memset(&e, 0, sizeof(e));
	e.nsid = n->nsid;
	if (r->op == BLK_FLUSH) {
		e.cdw0 = IO_FLUSH;
	} else if (r->op == BLK_DISCARD) {
		/* One range (6.7, figure 364): context attributes, length in
		 * logical blocks, starting LBA. */
		u32 *range = (u32 *)n->prp_lists[slot];
		if (!bd->discard)
			return -EINVAL;
		range[0] = 0;
		range[1] = r->count;
		range[2] = (u32)r->sector;
		range[3] = (u32)(r->sector >> 32);
		e.cdw0 = IO_DSM;
		e.prp1 = dma_addr(range);
		e.cdw10 = 0; /* NR: one range (0-based) */
		e.cdw11 = DSM_AD;
	} else {
		u32 len = r->count * bd->sector_size;
		if (len > n->max_xfer || build_prps(&e, r, len, n->prp_lists[slot]))
			return -EINVAL;
		e.cdw0 = r->op == BLK_READ ? IO_READ : IO_WRITE;
		e.cdw10 = (u32)r->sector;
		e.cdw11 = (u32)(r->sector >> 32);
		e.cdw12 = r->count - 1; /* 0-based number of logical blocks */
	}
	e.cdw0 |= (u32)slot << 16; /* the command identifier is the slot */
	n->reqs[slot] = r;
	r->drv_slot = slot;
	sq_push(&n->io, &e);
	return 0;
}

static unsigned nvme_poll(struct blkdev *bd)
{
	struct nvme *n = bd->priv;
	struct nvme_cqe c;
	unsigned done = 0;

	while (cq_pop(&n->io, &c)) {
		struct blk_req *r = c.cid < NVME_SLOTS ? n->reqs[c.cid] : NULL;
		if (!r) {
			drv_log("%s: completion for unknown command %u ignored\n", bd->name, c.cid);
			continue;
		}
		n->reqs[c.cid] = NULL;
		u16 sf = c.status >> 1;
		if (sf)
			drv_log("%s: %s of %u sectors at %lu failed: status type %u code 0x%02x (%s)\n",
				bd->name,
				r->op == BLK_READ ? "read" : r->op == BLK_WRITE ? "write"
				: r->op == BLK_DISCARD ? "discard" : "flush",
				r->count, r->sector, (sf >> 8) & 7, sf & 0xff, status_name(sf));
		blk_complete(bd, r, sf ? -EIO : 0);
		done++;
	}
	u64 now = drv_now_us();
	for (unsigned i = 0; i < NVME_SLOTS; i++) {
		struct blk_req *r = n->reqs[i];
		if (r && now > r->drv_deadline_us) {
			drv_log("%s: command %u (sector %lu) timed out; controller marked failed\n",
				bd->name, i, r->sector);
			bd->failed = true;
			n->reqs[i] = NULL;
			blk_complete(bd, r, -ETIMEDOUT);
			done++;
		}
	}
	return done;
}

static const struct blkdev_ops nvme_ops = {
	.submit = nvme_submit,
	.poll = nvme_poll,
};

/* Copies an identify string (space-padded ASCII), trimmed. */
static void id_string(char *dst, const u8 *src, unsigned len)
{
	memcpy(dst, src, len);
	dst[len] = 0;
	while (len && (dst[len - 1] == ' ' || dst[len - 1] == 0))
		dst[--len] = 0;
}

static bool nvme_match(const struct pci_dev *d)
{
	/* Class 01h, subclass 08h, programming interface 02h: NVMe I/O
	 * controller (PCI Code and ID Assignment 1.11). */
	return d->class == 0x01 && d->subclass == 0x08 && d->progif == 0x02;
}

/* A failed probe: the controller is disabled (it must not DMA into
 * memory that goes back to the pool) and everything is freed. */
static int fail(struct nvme *n, int rc, const char *what)
{
	struct pci_dev *d = n->pci;

	snprintf(d->note, sizeof(d->note), "%s", what);
	if (n->regs)
		mmio_write32(n->regs + NVME_CC, 0);
	drv_wait(!n->regs || !(mmio_read32(n->regs + NVME_CSTS) & CSTS_RDY), 1000000);
	dma_free((void *)n->admin.sq, sizeof(struct nvme_sqe) * ADMIN_QSIZE);
	dma_free((void *)n->admin.cq, sizeof(struct nvme_cqe) * ADMIN_QSIZE);
	dma_free((void *)n->io.sq, sizeof(struct nvme_sqe) * IO_QSIZE);
	dma_free((void *)n->io.cq, sizeof(struct nvme_cqe) * IO_QSIZE);
	for (unsigned i = 0; i < NVME_SLOTS; i++)
		dma_free(n->prp_lists[i], PAGE_SIZE);
	dma_free(n->scratch, PAGE_SIZE);
	dma_free(n, sizeof(*n));
	return rc;
}

/* 7.6.1: disable, set up the admin queue, enable, wait for ready. */
static int nvme_enable(struct nvme *n, u64 cap)
{
	u64 timeout = ((cap >> 24) & 0xff) * 500000ULL + 500000;

	if (mmio_read32(n->regs + NVME_CC) & CC_EN)
		mmio_write32(n->regs + NVME_CC, 0);
	if (!drv_wait(!(mmio_read32(n->regs + NVME_CSTS) & CSTS_RDY), timeout))
		return -ETIMEDOUT;
	mmio_write32(n->regs + NVME_INTMS, 0xffffffffu); /* masked until the I/O queue exists */
	mmio_write32(n->regs + NVME_AQA, (ADMIN_QSIZE - 1) << 16 | (ADMIN_QSIZE - 1));
	mmio_write64(n->regs + NVME_ASQ, dma_addr((const void *)n->admin.sq));
	mmio_write64(n->regs + NVME_ACQ, dma_addr((const void *)n->admin.cq));
	mmio_write32(n->regs + NVME_CC, CC_EN | CC_IOSQES | CC_IOCQES); /* MPS 4 KiB, NVM set */
	if (!drv_wait(mmio_read32(n->regs + NVME_CSTS) & (CSTS_RDY | CSTS_CFS), timeout))
		return -ETIMEDOUT;
	return (mmio_read32(n->regs + NVME_CSTS) & CSTS_CFS) ? -EIO : 0;
}

/* The largest range Dataset Management takes: DMRSL from Identify I/O
 * Command Set specific controller (CNS 06h, CSI 00h; NVM Command Set
 * 1.0 figure 97, bytes 4-7, 0 = no limit), else `dflt`. */
static u32 nvme_dmrsl(struct nvme *n, u32 dflt)
{
	struct nvme_sqe e;
	u32 dmrsl;

	memset(&e, 0, sizeof(e));
	e.cdw0 = ADMIN_IDENTIFY;
	e.prp1 = dma_addr(n->scratch);
	e.cdw10 = 6; /* CNS 06h, CNTID 0, CSI 00h (NVM) in bits 31:24 of CDW11 */
	if (admin_cmd(n, &e, NULL))
		return dflt;
	memcpy(&dmrsl, n->scratch + 4, 4);
	return dmrsl ? MIN(dmrsl, dflt) : dflt;
}

static int nvme_probe(struct pci_dev *d)
{
	struct nvme *n = dma_alloc(sizeof(*n), 0);
	struct nvme_sqe e;
	int rc;

	if (!n)
		return -ENOMEM;
	n->pci = d;
	n->regs = pci_bar_map(d, 0);
	if (!n->regs)
		return fail(n, -ENODEV, "BAR0 is not memory");
	pci_enable(d, true, false, true);
	u64 cap = mmio_read64(n->regs + NVME_CAP);
	n->dstrd = (cap >> 32) & 0xf;
	if ((cap >> 48) & 0xf)
		return fail(n, -ENODEV, "4 KiB pages not supported (CAP.MPSMIN)");
	unsigned mqes = (cap & 0xffff) + 1;
	n->scratch = dma_alloc(PAGE_SIZE, 0);
	if (!n->scratch || queue_alloc(n, &n->admin, 0, ADMIN_QSIZE) ||
	    queue_alloc(n, &n->io, 1, MIN(IO_QSIZE, mqes)))
		return fail(n, -ENOMEM, "out of DMA memory");
	for (unsigned i = 0; i < NVME_SLOTS; i++)
		if (!(n->prp_lists[i] = dma_alloc(PAGE_SIZE, 0)))
			return fail(n, -ENOMEM, "out of DMA memory");
	rc = nvme_enable(n, cap);
	if (rc)
		return fail(n, rc, rc == -EIO ? "controller fatal status on enable"
					      : "controller not ready (time-out)");

	/* Identify controller (CNS 01h): serial 4-23, model 24-63, MDTS 77. */
	struct blkdev *bd = &n->bd;
	memset(&e, 0, sizeof(e));
	e.cdw0 = ADMIN_IDENTIFY;
	e.prp1 = dma_addr(n->scratch);
	e.cdw10 = 1;
	if ((rc = admin_cmd(n, &e, NULL)))
		return fail(n, -EIO, "identify controller failed");
	id_string(bd->serial, n->scratch + 4, 20);
	id_string(bd->model, n->scratch + 24, 40);
	u8 mdts = n->scratch[77];
	u16 oncs = (u16)(n->scratch[520] | n->scratch[521] << 8);
	n->max_xfer = 2u << 20; /* the PRP list page's limit */
	if (mdts && mdts < 10)
		n->max_xfer = MIN(n->max_xfer, PAGE_SIZE << mdts);

	/* Active namespace list (CNS 02h): the first one is the disk. */
	memset(&e, 0, sizeof(e));
	e.cdw0 = ADMIN_IDENTIFY;
	e.prp1 = dma_addr(n->scratch);
	e.cdw10 = 2;
	if (admin_cmd(n, &e, NULL) == 0)
		memcpy(&n->nsid, n->scratch, 4);
	if (!n->nsid)
		return fail(n, -ENODEV, "no active namespace");

	/* Identify namespace (CNS 00h): NSZE at 0, FLBAS at 26, LBA formats
	 * from 128 (LBADS, log2 of the block size, in bits 16-23). */
	memset(&e, 0, sizeof(e));
	e.cdw0 = ADMIN_IDENTIFY;
	e.nsid = n->nsid;
	e.prp1 = dma_addr(n->scratch);
	if (admin_cmd(n, &e, NULL))
		return fail(n, -EIO, "identify namespace failed");
	u64 nsze;
	u32 lbaf;
	memcpy(&nsze, n->scratch, 8);
	memcpy(&lbaf, n->scratch + 128 + 4 * (n->scratch[26] & 0xf), 4);
	unsigned lbads = (lbaf >> 16) & 0xff;
	u16 npdg = (u16)(n->scratch[68] | n->scratch[69] << 8);
	bool optperf = n->scratch[24] & NSFEAT_OPTPERF;
	if (lbads < 9 || lbads > 12)
		return fail(n, -ENODEV, "unsupported block size");

	/* Number of queues (5.21.1.7), then the I/O queue pair: CQ first,
	 * physically contiguous; with an interrupt, the CQ raises vector 0,
	 * which is MSI-X entry 0, else the single MSI message or INTx
	 * (7.5.1) unmasked in INTMC (the mask registers are not used with
	 * MSI-X). The admin queue's vector is 0 too.
	 * The controller asserts it while the CQ holds entries the host has
	 * not consumed (head doorbell behind). */
	bd->irq = drv_irq_attach(d);
	memset(&e, 0, sizeof(e));
	e.cdw0 = ADMIN_SET_FEATURES;
	e.cdw10 = FEAT_NUM_QUEUES;
	e.cdw11 = 0; /* one SQ, one CQ (0-based) */
	admin_cmd(n, &e, NULL);
	memset(&e, 0, sizeof(e));
	e.cdw0 = ADMIN_CREATE_CQ;
	e.prp1 = dma_addr((const void *)n->io.cq);
	e.cdw10 = (u32)(n->io.size - 1) << 16 | 1;
	e.cdw11 = 1 | (bd->irq ? 2 : 0); /* PC, IEN; interrupt vector 0 */
	if (admin_cmd(n, &e, NULL))
		return fail(n, -EIO, "create I/O completion queue failed");
	memset(&e, 0, sizeof(e));
	e.cdw0 = ADMIN_CREATE_SQ;
	e.prp1 = dma_addr((const void *)n->io.sq);
	e.cdw10 = (u32)(n->io.size - 1) << 16 | 1;
	e.cdw11 = 1u << 16 | 1; /* CQ 1, PC */
	if (admin_cmd(n, &e, NULL))
		return fail(n, -EIO, "create I/O submission queue failed");
	if (bd->irq && !drv_irq_is_msix(bd->irq))
		mmio_write32(n->regs + NVME_INTMC, 1); /* not with MSI-X (3.1.3, INTMS/INTMC) */

	bd->sector_size = 1u << lbads;
	bd->sectors = nsze;
	bd->max_sectors = n->max_xfer / bd->sector_size;
	bd->queue_depth = MIN(NVME_SLOTS, n->io.size - 1);
	bd->max_frames = n->max_xfer / PAGE_SIZE + 1; /* PRP1's page and the list */
	bd->flush = true; /* Flush is mandatory; it is a no-op without a volatile cache */
	if (oncs & ONCS_DSM) {
		bd->discard = true;
		bd->discard_granularity = optperf ? (u32)npdg + 1 : 1;
		bd->max_discard_sectors = nvme_dmrsl(n, (1u << 30) / bd->sector_size);
	}
	bd->driver = "nvme";
	bd->ops = &nvme_ops;
	bd->priv = n;
	bd->pci = d;
	snprintf(bd->name, sizeof(bd->name), "nvme%un%u", nr_nvme++, n->nsid);
	d->priv = n;
	snprintf(d->note, sizeof(d->note), "%s", bd->name);
	if (blkdev_register(bd))
		drv_log("%s: too many disks, not registered\n", bd->name);
	return 0;
}

const struct pci_driver nvme_driver = {
	.name = "nvme",
	.match = nvme_match,
	.probe = nvme_probe,
};
