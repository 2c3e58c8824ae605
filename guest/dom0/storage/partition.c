/*
 * GPT partitions as blkdevs (contract in partition.h).
 *
 * A request on a partition is not handed to the disk as is: the
 * submitter still owns it (and reads r->sector after completion), and
 * the partition's own counters and in-flight count must move. So each
 * partition keeps a pool of inner requests, one per slot of its queue:
 * submit checks the bounds, fills an inner request with the offset added
 * and submits that to the disk; the inner request's done callback
 * completes the outer one on the partition.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "guest.h"
#include "partition.h"

#define PARTS_MAX 48   /* partitions on all disks together */
#define PART_QD 32     /* inner requests per partition */

struct part_dev;

struct inner {
	struct blk_req req;      /* what the disk sees */
	struct blk_req *outer;   /* the submitter's; NULL when the slot is free */
	struct part_dev *part;
};

struct part_dev {
	struct blkdev bd;
	struct blkdev *disk;
	u64 start;                     /* first LBA on the disk */
	struct gpt_part info;
	struct inner inner[PART_QD];
	unsigned completed;            /* by inner_done, for poll's count */
};

static struct part_dev parts[PARTS_MAX];
static unsigned nr_parts;

static void inner_done(struct blk_req *in)
{
	struct inner *s = (struct inner *)((char *)in - __builtin_offsetof(struct inner, req));
	struct blk_req *r = s->outer;

	s->outer = NULL;
	s->part->completed++;
	blk_complete(&s->part->bd, r, in->status);
}

static int part_submit(struct blkdev *bd, struct blk_req *r);
static unsigned part_poll(struct blkdev *bd);

static const struct blkdev_ops part_ops = {
	.submit = part_submit,
	.poll = part_poll,
};

static struct part_dev *to_part(const struct blkdev *bd)
{
	if (!bd || bd->ops != &part_ops)
		return NULL;
	return (struct part_dev *)((char *)bd - __builtin_offsetof(struct part_dev, bd));
}

static int part_submit(struct blkdev *bd, struct blk_req *r)
{
	struct part_dev *p = to_part(bd);
	struct inner *s = NULL;

	/* The partition's end is a hard limit (the disk's is not, see
	 * blkdev.h): written so that sector + count cannot wrap. */
	if (r->op != BLK_FLUSH && (r->sector >= bd->sectors || r->count > bd->sectors - r->sector))
		return -EINVAL;
	for (unsigned i = 0; i < PART_QD && !s; i++)
		if (!p->inner[i].outer)
			s = &p->inner[i];
	if (!s)
		return -EBUSY;
	s->req = (struct blk_req){ .op = r->op, .sector = r->op == BLK_FLUSH ? 0 : r->sector + p->start,
				   .count = r->count, .buf = r->buf, .frames = r->frames,
				   .frame_off = r->frame_off, .done = inner_done };
	s->outer = r;
	s->part = p;
	int rc = blk_submit(p->disk, &s->req);
	if (rc)
		s->outer = NULL;
	return rc;
}

static unsigned part_poll(struct blkdev *bd)
{
	struct part_dev *p = to_part(bd);
	unsigned before = p->completed;

	/* The disk's driver completes the inner requests, whose done
	 * callbacks complete ours; blk_poll on the partition then
	 * acknowledges the (shared) interrupt. */
	p->disk->ops->poll(p->disk);
	return p->completed - before;
}

const struct gpt_part *partition_info(const struct blkdev *bd, struct blkdev **disk)
{
	struct part_dev *p = to_part(bd);

	if (!p)
		return NULL;
	if (disk)
		*disk = p->disk;
	return &p->info;
}

void partition_print(const struct blkdev *bd)
{
	struct part_dev *p = to_part(bd);
	char uuid[37], type[37];

	if (!p)
		return;
	gpt_guid_str(p->info.unique_guid, uuid);
	gpt_guid_str(p->info.type_guid, type);
	printf("dom0: part %s: %s LBAs %lu..%lu, %lu sectors (%lu KiB), name \"%s\"\n", bd->name,
	       p->disk->name, p->info.first_lba, p->info.last_lba, bd->sectors,
	       bd->sectors * bd->sector_size >> 10, p->info.name);
	printf("dom0: part %s: partuuid %s type %s\n", bd->name, uuid, type);
}

/* The reader gpt_read uses: one sector into buf, which is the DMA
 * scratch buffer storage_scan_partitions gave it. */
static int disk_read(void *ctx, u64 lba, void *buf)
{
	struct blkdev *disk = ctx;

	return blk_sync(disk, BLK_READ, lba, 1, buf);
}

static void add_partition(struct blkdev *disk, const struct gpt_part *gp)
{
	struct part_dev *p;
	size_t n = strlen(disk->name);
	bool digit = n && disk->name[n - 1] >= '0' && disk->name[n - 1] <= '9';

	if (nr_parts == PARTS_MAX) {
		printf("dom0: %s: partition %u not registered: %u partitions already\n", disk->name,
		       gp->number, PARTS_MAX);
		return;
	}
	p = &parts[nr_parts];
	memset(p, 0, sizeof(*p));
	p->disk = disk;
	p->start = gp->first_lba;
	p->info = *gp;
	struct blkdev *bd = &p->bd;
	snprintf(bd->name, sizeof(bd->name), "%s%s%u", disk->name, digit ? "p" : "", gp->number);
	bd->driver = disk->driver;
	memcpy(bd->model, disk->model, sizeof(bd->model));
	memcpy(bd->serial, disk->serial, sizeof(bd->serial));
	bd->sector_size = disk->sector_size;
	bd->sectors = gp->last_lba - gp->first_lba + 1;
	bd->max_sectors = disk->max_sectors;
	bd->max_frames = disk->max_frames;
	bd->queue_depth = MIN(disk->queue_depth, (unsigned)PART_QD);
	bd->read_only = disk->read_only;
	bd->flush = disk->flush;
	bd->discard = disk->discard;
	bd->discard_granularity = disk->discard_granularity;
	bd->max_discard_sectors = disk->max_discard_sectors;
	bd->ops = &part_ops;
	bd->pci = disk->pci;
	bd->irq = disk->irq;
	if (blkdev_register(bd)) {
		printf("dom0: %s: partition %u not registered: no room for more block devices\n",
		       disk->name, gp->number);
		return;
	}
	nr_parts++;
}

unsigned storage_scan_partitions(void)
{
	static struct gpt_table t;
	unsigned disks = blkdev_count(), before = nr_parts;

	for (unsigned i = 0; i < disks; i++) {
		struct blkdev *disk = blkdev_get(i);
		if (to_part(disk) || disk->failed)
			continue;
		void *buf = dma_alloc(disk->sector_size, 0);
		if (!buf) {
			printf("dom0: %s: no memory to read its GPT\n", disk->name);
			continue;
		}
		int rc = gpt_read(disk_read, disk, disk->sector_size, disk->sectors, buf, &t);
		dma_free(buf, disk->sector_size);
		if (rc == -ENOENT)
			continue; /* not a GPT disk: nothing to say */
		if (rc) {
			printf("dom0: %s: GPT refused: %s\n", disk->name, t.msg);
			continue;
		}
		if (t.used_backup)
			printf("dom0: %s: GPT: %s\n", disk->name, t.msg);
		if (t.nr_ignored)
			printf("dom0: %s: GPT: %u partitions beyond the first %u ignored\n", disk->name,
			       t.nr_ignored, GPT_PARTS_MAX);
		for (unsigned k = 0; k < t.nr_parts; k++)
			add_partition(disk, &t.parts[k]);
	}
	return nr_parts - before;
}

/* The partition of `disk` (any disk if NULL) that `match` accepts; -EEXIST
 * if two disks have one, -ENOENT if none. */
static int find_part(const struct blkdev *disk, bool (*match)(const struct part_dev *, const void *),
		     const void *arg, struct blkdev **out)
{
	struct part_dev *found = NULL;

	for (unsigned i = 0; i < nr_parts; i++) {
		struct part_dev *p = &parts[i];
		if ((disk && p->disk != disk) || !match(p, arg))
			continue;
		if (found)
			return -EEXIST;
		found = p;
	}
	if (!found)
		return -ENOENT;
	*out = &found->bd;
	return 0;
}

static bool match_number(const struct part_dev *p, const void *arg)
{
	return p->info.number == *(const u64 *)arg;
}

static bool match_name(const struct part_dev *p, const void *arg)
{
	return !strcmp(p->info.name, arg);
}

static bool match_uuid(const struct part_dev *p, const void *arg)
{
	return !memcmp(p->info.unique_guid, arg, 16);
}

int storage_lookup(const char *spec, struct blkdev **out)
{
	const char *colon = strchr(spec, ':');
	struct blkdev *disk = NULL;

	if (!strncmp(spec, "partuuid=", 9)) {
		u8 guid[16];
		if (gpt_guid_parse(spec + 9, guid))
			return -EINVAL;
		return find_part(NULL, match_uuid, guid, out);
	}
	if (!strncmp(spec, "name=", 5))
		return spec[5] ? find_part(NULL, match_name, spec + 5, out) : -EINVAL;
	if (!colon) {
		*out = blkdev_by_name(spec);
		return *out ? 0 : -ENOENT;
	}
	char dname[sizeof(disk->name)];
	size_t n = (size_t)(colon - spec);
	if (!n || n >= sizeof(dname))
		return -EINVAL;
	memcpy(dname, spec, n);
	dname[n] = 0;
	disk = blkdev_by_name(dname);
	if (!disk || to_part(disk))
		return -ENOENT;
	const char *rest = colon + 1;
	if (!strncmp(rest, "name=", 5))
		return rest[5] ? find_part(disk, match_name, rest + 5, out) : -EINVAL;
	const char *end;
	u64 num;
	if (parse_u64(rest, &end, &num) || *end || !num)
		return -EINVAL;
	return find_part(disk, match_number, &num, out);
}
