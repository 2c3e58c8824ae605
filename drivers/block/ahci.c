/*
 * AHCI (Serial ATA AHCI 1.3.1) with ATA disks (ACS-3): every implemented
 * port with a device whose signature is an ATA disk becomes a disk. Data
 * commands use native command queuing (READ/WRITE FPDMA QUEUED, one tag
 * per command slot) when the HBA and the drive both have it, otherwise
 * READ/WRITE DMA EXT, several of which may still be issued at once (the
 * HBA runs them in order, AHCI 5.3.2). FLUSH CACHE EXT is non-queued: it
 * waits until no queued command is outstanding, and vice versa.
 *
 * Discard is DATA SET MANAGEMENT with the TRIM bit (ACS-3 7.5), a
 * non-queued DMA command like the flush, offered when IDENTIFY word 169
 * bit 0 says the drive has TRIM. Its data is one 512-byte block of LBA
 * range entries (7.5.3.2: LBA in bits 47:0, length in 63:48, at most
 * 65535 sectors each, unused entries zero), the port's own buffer (one
 * non-queued command at a time, so one buffer is enough).
 *
 * Errors (a task-file error or an HBA error interrupt status): every
 * outstanding command of the port completes with -EIO, the port is
 * stopped, its error registers are cleared and it is started again
 * (AHCI 6.2.2.1); after a queued-command error the drive's NCQ error log
 * is read (ACS-3 7.20.3 page 10h), which is what returns an ATA drive to
 * accepting queued commands. Completions are found by polling the ports;
 * when drv_irq_attach gives the HBA an interrupt (one for every port),
 * its interrupts are enabled so that a waiter sleeps until one arrives.
 */
#include "block/blkdev.h"
#include "drivers.h"
#include "pci/pci.h"

/* HBA registers (3.1). */
#define HBA_CAP 0x00
#define HBA_GHC 0x04
#define HBA_IS 0x08
#define HBA_PI 0x0c
#define CAP_NCS(c) ((((c) >> 8) & 0x1f) + 1)
#define CAP_SCLO (1u << 24)
#define CAP_SNCQ (1u << 30)
#define CAP_S64A (1u << 31)
#define GHC_IE (1u << 1)
#define GHC_AE (1u << 31)

/* Port registers (3.3), at 0x100 + 0x80 * port. */
#define PX_CLB 0x00
#define PX_CLBU 0x04
#define PX_FB 0x08
#define PX_FBU 0x0c
#define PX_IS 0x10
#define PX_IE 0x14
#define PX_CMD 0x18
#define PX_TFD 0x20
#define PX_SIG 0x24
#define PX_SSTS 0x28
#define PX_SERR 0x30
#define PX_SACT 0x34
#define PX_CI 0x38

#define CMD_ST (1u << 0)
#define CMD_CLO (1u << 3)
#define CMD_FRE (1u << 4)
#define CMD_FR (1u << 14)
#define CMD_CR (1u << 15)
#define TFD_ERR 0x01
#define TFD_DRQ 0x08
#define TFD_BSY 0x80
#define IS_ERRORS 0x7d000000u /* TFES HBFS HBDS IFS INFS OFS (3.3.5) */
/* Interrupts wanted (3.3.6): D2H register FIS, PIO setup, DMA setup, set
 * device bits (NCQ completions), descriptor processed, and the errors. */
#define IE_WANTED (0x0000000fu | 0x20u | IS_ERRORS)

#define SIG_ATA 0x00000101

/* ATA commands (ACS-3). */
#define ATA_DSM 0x06
#define ATA_DSM_TRIM 0x01     /* FEATURE bit 0 */
#define TRIM_RANGE_MAX 0xffffu
#define TRIM_ENTRIES 64       /* in one 512-byte block */
#define ATA_READ_DMA_EXT 0x25
#define ATA_READ_LOG_EXT 0x2f
#define ATA_WRITE_DMA_EXT 0x35
#define ATA_READ_FPDMA 0x60
#define ATA_WRITE_FPDMA 0x61
#define ATA_FLUSH_CACHE_EXT 0xea
#define ATA_IDENTIFY 0xec

#define AHCI_MAX_PORTS 32
#define PRDT_ENTRIES 24         /* a 64 KiB frames request spans 17 pages */
#define CMD_TABLE_SIZE (0x80 + 16 * PRDT_ENTRIES)
#define MAX_SECTORS 2048          /* 1 MiB of 512-byte sectors */
#define PRD_MAX (4u << 20)        /* bytes per PRD entry (22-bit count) */
#define SYNC_TIMEOUT_US (5ULL * 1000 * 1000)

struct ahci_cmd_hdr {
	u16 flags;   /* CFL 0-4, A 5, W 6, P 7, R 8, B 9, C 10, PMP 12-15 */
	u16 prdtl;
	u32 prdbc;
	u64 ctba;
	u32 rsvd[4];
};

struct ahci_prd {
	u64 dba;
	u32 rsvd;
	u32 dbc;     /* byte count - 1 (bit 0 set: even counts), I bit 31 */
};

_Static_assert(sizeof(struct ahci_cmd_hdr) == 32, "AHCI command header is 32 bytes");
_Static_assert(sizeof(struct ahci_prd) == 16, "AHCI PRD entry is 16 bytes");

struct ahci_port {
	struct blkdev bd;
	struct ahci_hba *hba;
	unsigned num;
	volatile u8 *regs;
	volatile struct ahci_cmd_hdr *clist; /* 32 headers, 1 KiB aligned */
	void *fis;                           /* received FIS area, 256 bytes */
	u8 *tables;                          /* nslots command tables */
	bool ncq;
	u32 busy;                            /* slots in use */
	u32 queued;                          /* of those, NCQ commands */
	struct blk_req *reqs[32];
	u64 *trim;                           /* DSM range block, 512 bytes */
};

struct ahci_hba {
	volatile u8 *abar;
	u32 cap;
	unsigned nslots;
	struct drv_irq *irq; /* one line for every port */
};

static unsigned nr_ahci_disks;

static u32 port_rd(struct ahci_port *p, unsigned reg)
{
	return mmio_read32(p->regs + reg);
}

static void port_wr(struct ahci_port *p, unsigned reg, u32 v)
{
	mmio_write32(p->regs + reg, v);
}

/* 10.1.2: stop command processing and FIS receive. */
static bool port_stop(struct ahci_port *p)
{
	port_wr(p, PX_CMD, port_rd(p, PX_CMD) & ~CMD_ST);
	if (!drv_wait(!(port_rd(p, PX_CMD) & CMD_CR), 500000))
		return false;
	port_wr(p, PX_CMD, port_rd(p, PX_CMD) & ~CMD_FRE);
	return drv_wait(!(port_rd(p, PX_CMD) & CMD_FR), 500000);
}

/* 10.3.1: start, once the device is not busy (CLO clears a stuck BSY). */
static bool port_start(struct ahci_port *p)
{
	port_wr(p, PX_SERR, 0xffffffffu);
	port_wr(p, PX_IS, 0xffffffffu);
	port_wr(p, PX_CMD, port_rd(p, PX_CMD) | CMD_FRE);
	if (port_rd(p, PX_TFD) & (TFD_BSY | TFD_DRQ)) {
		if (p->hba->cap & CAP_SCLO) {
			port_wr(p, PX_CMD, port_rd(p, PX_CMD) | CMD_CLO);
			drv_wait(!(port_rd(p, PX_CMD) & CMD_CLO), 500000);
		}
		drv_wait(!(port_rd(p, PX_TFD) & (TFD_BSY | TFD_DRQ)), 1000000);
	}
	port_wr(p, PX_CMD, port_rd(p, PX_CMD) | CMD_ST);
	return true;
}

/* Builds slot `slot`: an H2D register FIS (SATA 3.x, 10.5.5) and the
 * PRD entries for len bytes of data: r's (a contiguous buf or a frames
 * request's pages, blkdev.h), or buf's when r is NULL. -EINVAL when
 * the pieces need more than PRDT_ENTRIES. */
static int build_cmd(struct ahci_port *p, unsigned slot, u8 command, u64 lba, u16 count,
		     const struct blk_req *r, void *buf, u32 len, bool write, bool ncq)
{
	struct blk_req own = { .buf = buf };
	u8 *t = p->tables + slot * CMD_TABLE_SIZE;
	volatile struct ahci_cmd_hdr *h = &p->clist[slot];
	struct ahci_prd *prd = (struct ahci_prd *)(t + 0x80);
	unsigned n = 0;

	memset(t, 0, CMD_TABLE_SIZE);
	t[0] = 0x27;          /* H2D register FIS */
	t[1] = 0x80;          /* C: this is a command */
	t[2] = command;
	t[4] = lba;
	t[5] = lba >> 8;
	t[6] = lba >> 16;
	t[7] = 0x40;          /* device: LBA mode */
	t[8] = lba >> 24;
	t[9] = lba >> 32;
	t[10] = lba >> 40;
	if (ncq) {
		/* FPDMA: the sector count goes in FEATURES, the tag in
		 * COUNT bits 7:3 (ACS-3 7.23, 7.71). */
		t[3] = count;
		t[11] = count >> 8;
		t[12] = slot << 3;
	} else {
		t[12] = count;
		t[13] = count >> 8;
	}
	if (!r)
		r = &own;
	for (u32 off = 0, piece; off < len; off += piece, n++) {
		if (n == PRDT_ENTRIES)
			return -EINVAL;
		prd[n].dba = blk_req_dma(r, off, MIN(PRD_MAX, len - off), &piece);
		prd[n].dbc = piece - 1;
	}
	h->flags = 5 | (write ? 1u << 6 : 0); /* CFL = 5 dwords */
	h->prdtl = n;
	h->prdbc = 0;
	h->ctba = dma_addr(t);
	return 0;
}

static void issue(struct ahci_port *p, unsigned slot, bool ncq)
{
	wmb(); /* the command table and header before CI */
	if (ncq)
		port_wr(p, PX_SACT, 1u << slot);
	port_wr(p, PX_CI, 1u << slot);
}

static int ahci_submit(struct blkdev *bd, struct blk_req *r)
{
	struct ahci_port *p = bd->priv;
	bool queued = (r->op == BLK_READ || r->op == BLK_WRITE) && p->ncq;
	unsigned slot;

	/* Queued and non-queued commands never overlap (SATA: a non-queued
	 * command while NCQ commands are outstanding is an error). */
	if (p->busy && (!queued || p->queued != p->busy))
		return -EBUSY;
	for (slot = 0; slot < p->hba->nslots && (p->busy & (1u << slot)); slot++)
		;
	if (slot == p->hba->nslots)
		return -EBUSY;
	if (r->op == BLK_FLUSH) {
		build_cmd(p, slot, ATA_FLUSH_CACHE_EXT, 0, 0, NULL, NULL, 0, false, false);
	} else if (r->op == BLK_DISCARD) {
		if (!bd->discard || r->count > TRIM_RANGE_MAX * TRIM_ENTRIES)
			return -EINVAL;
		memset(p->trim, 0, 512);
		u64 lba = r->sector;
		for (u32 left = r->count, i = 0; left; i++) {
			u32 n = MIN(left, TRIM_RANGE_MAX);
			p->trim[i] = (lba & 0xffffffffffffULL) | (u64)n << 48;
			lba += n;
			left -= n;
		}
		/* COUNT: 512-byte blocks of entries; FEATURE: TRIM. */
		build_cmd(p, slot, ATA_DSM, 0, 1, NULL, p->trim, 512, true, false);
		p->tables[slot * CMD_TABLE_SIZE + 3] = ATA_DSM_TRIM;
	} else {
		u32 len = r->count * bd->sector_size;
		bool write = r->op == BLK_WRITE;
		u8 cmd = queued ? (write ? ATA_WRITE_FPDMA : ATA_READ_FPDMA)
				: (write ? ATA_WRITE_DMA_EXT : ATA_READ_DMA_EXT);
		if (r->count > MAX_SECTORS || len > PRD_MAX * PRDT_ENTRIES ||
		    build_cmd(p, slot, cmd, r->sector, (u16)r->count, r, NULL, len, write, queued))
			return -EINVAL;
	}
	p->busy |= 1u << slot;
	if (queued)
		p->queued |= 1u << slot;
	p->reqs[slot] = r;
	r->drv_slot = slot;
	issue(p, slot, queued);
	return 0;
}

/* A non-queued command with a 512-byte result into the spare buffer
 * after the command tables, waited for. True on success. */
static bool sync_cmd(struct ahci_port *p, u8 command, u64 lba, u16 count)
{
	u8 *page = p->tables + p->hba->nslots * CMD_TABLE_SIZE;

	build_cmd(p, 0, command, lba, count, NULL, page, 512, false, false);
	issue(p, 0, false);
	drv_wait(!(port_rd(p, PX_CI) & 1) || (port_rd(p, PX_IS) & IS_ERRORS), SYNC_TIMEOUT_US);
	return !(port_rd(p, PX_CI) & 1) && !(port_rd(p, PX_IS) & IS_ERRORS);
}

/* After a queued-command error the drive accepts queued commands again
 * once its NCQ error log (page 10h) has been read. A drive that cannot
 * read logs gets a harmless IDENTIFY instead, which also leaves its
 * status register clean (QEMU's keeps ERR until a non-queued command). */
static void clear_ncq_error(struct ahci_port *p)
{
	if (sync_cmd(p, ATA_READ_LOG_EXT, 0x10, 1))
		return;
	port_stop(p);
	port_start(p);
	sync_cmd(p, ATA_IDENTIFY, 0, 0);
	port_wr(p, PX_IS, 0xffffffffu);
	port_wr(p, PX_SERR, 0xffffffffu);
}

/* 6.2.2.1: every outstanding command fails, the port restarts. */
static unsigned recover(struct ahci_port *p, u32 is)
{
	struct blkdev *bd = &p->bd;
	u32 tfd = port_rd(p, PX_TFD), serr = port_rd(p, PX_SERR);
	bool was_ncq = p->queued != 0;
	unsigned done = 0, outstanding = 0;

	for (unsigned s = 0; s < 32; s++)
		outstanding += p->reqs[s] != NULL;

	drv_log("%s: port error: IS 0x%08x TFD 0x%04x (status 0x%02x, error 0x%02x) SERR 0x%08x; "
		"%u command(s) fail, port restarted\n",
		bd->name, is, tfd, tfd & 0xff, (tfd >> 8) & 0xff, serr, outstanding);
	port_stop(p);
	for (unsigned s = 0; s < 32; s++) {
		struct blk_req *r = p->reqs[s];
		if (!r)
			continue;
		p->reqs[s] = NULL;
		blk_complete(bd, r, -EIO);
		done++;
	}
	p->busy = p->queued = 0;
	port_start(p);
	if (was_ncq) {
		clear_ncq_error(p);
		port_wr(p, PX_IS, 0xffffffffu);
	} else if (p->ncq) {
		/* A non-queued command failed (a TRIM past the end). Seen on
		 * QEMU: the drive's status keeps ERR (TFD 0x0441) and the next
		 * queued read completes with a task-file error too, until a
		 * non-queued command runs (pvblk-discard-ahci's "still works"
		 * read). A harmless IDENTIFY leaves the status clean. */
		sync_cmd(p, ATA_IDENTIFY, 0, 0);
		port_wr(p, PX_IS, 0xffffffffu);
		port_wr(p, PX_SERR, 0xffffffffu);
	}
	return done;
}

static unsigned ahci_poll(struct blkdev *bd)
{
	struct ahci_port *p = bd->priv;
	unsigned done = 0;
	u32 is = port_rd(p, PX_IS);

	if (is & IS_ERRORS) {
		done = recover(p, is);
		mmio_write32(p->hba->abar + HBA_IS, 1u << p->num);
		return done;
	}
	/* Port status first, then the HBA's bit for the port: the INTx line
	 * drops once no port has an enabled status bit set (10.7.2.1). */
	port_wr(p, PX_IS, is);
	mmio_write32(p->hba->abar + HBA_IS, 1u << p->num);
	u32 active = port_rd(p, PX_CI) | port_rd(p, PX_SACT);
	u32 finished = p->busy & ~active;
	rmb();
	for (unsigned s = 0; finished && s < 32; s++) {
		if (!(finished & (1u << s)))
			continue;
		finished &= ~(1u << s);
		struct blk_req *r = p->reqs[s];
		p->reqs[s] = NULL;
		p->busy &= ~(1u << s);
		p->queued &= ~(1u << s);
		if (r) {
			blk_complete(bd, r, 0);
			done++;
		}
	}
	u64 now = drv_now_us();
	for (unsigned s = 0; s < 32; s++) {
		struct blk_req *r = p->reqs[s];
		if (r && now > r->drv_deadline_us) {
			drv_log("%s: command in slot %u (sector %lu) timed out; disk marked failed\n",
				bd->name, s, r->sector);
			bd->failed = true;
			port_stop(p);
			for (unsigned k = 0; k < 32; k++)
				if (p->reqs[k]) {
					blk_complete(bd, p->reqs[k], -ETIMEDOUT);
					p->reqs[k] = NULL;
					done++;
				}
			p->busy = p->queued = 0;
			break;
		}
	}
	return done;
}

static const struct blkdev_ops ahci_ops = {
	.submit = ahci_submit,
	.poll = ahci_poll,
};

/* IDENTIFY strings: two characters per word, high byte first. */
static void ata_string(char *dst, const u16 *words, unsigned nwords)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nwords; i++) {
		dst[n++] = words[i] >> 8;
		dst[n++] = words[i] & 0xff;
	}
	dst[n] = 0;
	while (n && (dst[n - 1] == ' ' || dst[n - 1] == 0))
		dst[--n] = 0;
}

/* Sets up one port with an ATA disk and identifies it. */
static int port_init(struct ahci_hba *hba, unsigned num, struct pci_dev *d)
{
	struct ahci_port *p = dma_alloc(sizeof(*p), 0);
	if (!p)
		return -ENOMEM;
	p->hba = hba;
	p->num = num;
	p->regs = hba->abar + 0x100 + 0x80 * num;
	/* Command list (1 KiB aligned), FIS area (256 B aligned), tables
	 * (128 B aligned) plus one spare 512-byte buffer. */
	p->clist = dma_alloc(1024, 1024);
	p->fis = dma_alloc(256, 256);
	size_t tsize = hba->nslots * CMD_TABLE_SIZE + 512;
	p->trim = dma_alloc(512, 0);
	p->tables = dma_alloc(tsize, 128);
	u16 *id = dma_alloc(512, 0);
	struct blkdev *bd = &p->bd;
	snprintf(bd->name, sizeof(bd->name), "sd%c", 'a' + nr_ahci_disks);
	if (!p->clist || !p->fis || !p->tables || !p->trim || !id)
		goto nomem;
	if (!port_stop(p)) {
		drv_log("%s: AHCI port %u does not stop; skipped\n", bd->name, num);
		goto fail;
	}
	u64 clb = dma_addr((const void *)p->clist), fb = dma_addr(p->fis);
	port_wr(p, PX_CLB, (u32)clb);
	port_wr(p, PX_CLBU, (u32)(clb >> 32));
	port_wr(p, PX_FB, (u32)fb);
	port_wr(p, PX_FBU, (u32)(fb >> 32));
	port_wr(p, PX_IE, 0); /* enabled once the port works */
	port_start(p);

	build_cmd(p, 0, ATA_IDENTIFY, 0, 0, NULL, id, 512, false, false);
	issue(p, 0, false);
	if (!drv_wait(!(port_rd(p, PX_CI) & 1) || (port_rd(p, PX_IS) & IS_ERRORS), SYNC_TIMEOUT_US) ||
	    (port_rd(p, PX_IS) & IS_ERRORS)) {
		drv_log("%s: AHCI port %u: IDENTIFY DEVICE failed (TFD 0x%x); skipped\n", bd->name, num,
			port_rd(p, PX_TFD));
		port_stop(p);
		goto fail;
	}
	port_wr(p, PX_IS, 0xffffffffu);

	ata_string(bd->serial, id + 10, 10);
	ata_string(bd->model, id + 27, 20);
	u64 sectors = 0;
	if (id[83] & (1u << 10)) /* 48-bit addressing */
		sectors = id[100] | (u64)id[101] << 16 | (u64)id[102] << 32 | (u64)id[103] << 48;
	else
		sectors = id[60] | (u64)id[61] << 16;
	bd->sector_size = 512;
	if ((id[106] & 0xc000) == 0x4000 && (id[106] & (1u << 12)))
		bd->sector_size = 2 * (id[117] | (u32)id[118] << 16);
	if (bd->sector_size < 512 || bd->sector_size > 4096 || !(id[83] & (1u << 10))) {
		drv_log("%s: AHCI port %u: needs 48-bit LBA and 512..4096-byte sectors; skipped\n",
			bd->name, num);
		port_stop(p);
		goto fail;
	}
	p->ncq = (hba->cap & CAP_SNCQ) && (id[76] & (1u << 8));
	unsigned depth = p->ncq ? MIN(hba->nslots, (id[75] & 0x1fu) + 1) : hba->nslots;
	bd->sectors = sectors;
	bd->max_sectors = MIN((u32)MAX_SECTORS, (PRD_MAX * PRDT_ENTRIES) / bd->sector_size);
	bd->queue_depth = depth;
	bd->max_frames = PRDT_ENTRIES;
	bd->flush = true;
	if (id[169] & 1) { /* DATA SET MANAGEMENT with TRIM */
		bd->discard = true;
		bd->discard_granularity = 1;
		bd->max_discard_sectors = TRIM_RANGE_MAX * TRIM_ENTRIES;
	}
	bd->driver = "ahci";
	bd->ops = &ahci_ops;
	bd->irq = hba->irq;
	if (bd->irq)
		port_wr(p, PX_IE, IE_WANTED);
	bd->priv = p;
	bd->pci = d;
	dma_free(id, 512);
	nr_ahci_disks++;
	if (blkdev_register(bd))
		drv_log("%s: too many disks, not registered\n", bd->name);
	return 0;

nomem:
	drv_log("%s: AHCI port %u: out of DMA memory\n", bd->name, num);
fail:
	dma_free(id, 512);
	dma_free(p->trim, 512);
	dma_free(p->tables, tsize);
	dma_free(p->fis, 256);
	dma_free((void *)p->clist, 1024);
	dma_free(p, sizeof(*p));
	return -EIO;
}

static bool ahci_match(const struct pci_dev *d)
{
	/* Class 01h subclass 06h interface 01h: SATA, AHCI 1.0. */
	return d->class == 0x01 && d->subclass == 0x06 && d->progif == 0x01;
}

static int ahci_probe(struct pci_dev *d)
{
	struct ahci_hba *hba = dma_alloc(sizeof(*hba), 0);
	unsigned disks = 0, first = nr_ahci_disks;

	if (!hba)
		return -ENOMEM;
	hba->abar = pci_bar_map(d, 5);
	if (!hba->abar) {
		snprintf(d->note, sizeof(d->note), "BAR5 (ABAR) is not memory");
		dma_free(hba, sizeof(*hba));
		return -ENODEV;
	}
	pci_enable(d, true, false, true);
	mmio_write32(hba->abar + HBA_GHC, mmio_read32(hba->abar + HBA_GHC) | GHC_AE);
	hba->cap = mmio_read32(hba->abar + HBA_CAP);
	hba->nslots = CAP_NCS(hba->cap);
	hba->irq = drv_irq_attach(d);
	u32 pi = mmio_read32(hba->abar + HBA_PI);
	for (unsigned port = 0; port < AHCI_MAX_PORTS; port++) {
		if (!(pi & (1u << port)))
			continue;
		volatile u8 *pr = hba->abar + 0x100 + 0x80 * port;
		/* DET = 3: device present and communication established. */
		if ((mmio_read32(pr + PX_SSTS) & 0xf) != 3)
			continue;
		u32 sig = mmio_read32(pr + PX_SIG);
		if (sig != SIG_ATA) {
			drv_log("ahci %02x:%02x.%u port %u: signature 0x%08x is not an ATA disk; skipped\n",
				PCI_BUS(d->bdf), PCI_DEV(d->bdf), PCI_FN(d->bdf), port, sig);
			continue;
		}
		if (port_init(hba, port, d) == 0)
			disks++;
	}
	d->priv = hba;
	if (hba->irq)
		mmio_write32(hba->abar + HBA_GHC, mmio_read32(hba->abar + HBA_GHC) | GHC_IE);
	if (!disks)
		snprintf(d->note, sizeof(d->note), "%u slots, no ATA disks", hba->nslots);
	else if (disks == 1)
		snprintf(d->note, sizeof(d->note), "%u slots%s, sd%c", hba->nslots,
			 (hba->cap & CAP_SNCQ) ? ", NCQ" : "", 'a' + first);
	else
		snprintf(d->note, sizeof(d->note), "%u slots%s, sd%c-sd%c", hba->nslots,
			 (hba->cap & CAP_SNCQ) ? ", NCQ" : "", 'a' + first, 'a' + first + disks - 1);
	return 0;
}

const struct pci_driver ahci_driver = {
	.name = "ahci",
	.match = ahci_match,
	.probe = ahci_probe,
};
