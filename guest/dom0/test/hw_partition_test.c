/*
 * test=blk-partition blk=SERIAL [part=LABEL]: the GPT partitions of the
 * disk whose serial is SERIAL (the host wrote the table; tests/storage/
 * test_partition.py). On the partition named LABEL ("data" by default):
 *  1. every lookup form of storage_lookup() finds it, bad specs fail;
 *  2. writes pattern 2 at its first 64 sectors and its last 8, printing
 *     `dom0: blk-partition: write DISKSECTOR+COUNT` in the disk's
 *     sectors (the host checks the bytes landed there and nowhere else);
 *  3. reads and writes that end past the partition are refused with
 *     -EINVAL and never reach the disk (its counters do not move);
 *  4. where the disk can discard: discards sectors 16..47 of the
 *     partition (inside the first write), printing
 *     `dom0: blk-partition: discard DISKSECTOR+COUNT`; a discard past
 *     the end is refused like the reads in 3;
 *  5. reads the writes back through the partition and through the disk
 *     at the offset (zeros where it discarded: QEMU's discard=unmap),
 *     and flushes.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "block/blkdev.h"
#include "guest.h"
#include "disk_pattern.h"
#include "selftests.h"
#include "storage/partition.h"




/* Like pattern_mismatch() < 0, but sectors [dfirst, dfirst + dcount) of the buffer must
 * be zeros (discarded). */
static bool same_but_discarded(const u8 *buf, u64 abs, u32 count, u32 ss, u32 dfirst, u32 dcount)
{
	for (u32 i = 0; i < count; i++) {
		const u8 *sec = buf + (size_t)i * ss;
		if (i >= dfirst && i < dfirst + dcount) {
			for (u32 k = 0; k < ss; k++)
				if (sec[k])
					return false;
		} else if (pattern_mismatch(sec, (abs + i) * ss, ss, 2) >= 0) {
			return false;
		}
	}
	return true;
}

static int lookups(struct blkdev *disk, struct blkdev *part, const char *label)
{
	const struct gpt_part *gp = partition_info(part, NULL);
	char spec[96], uuid[37];
	int failed = 0;
	struct blkdev *got;

	gpt_guid_str(gp->unique_guid, uuid);
	const char *good[4];
	char s0[64], s1[64], s2[64], s3[80];
	snprintf(s0, sizeof(s0), "%s", part->name);
	snprintf(s1, sizeof(s1), "%s:%u", disk->name, gp->number);
	snprintf(s2, sizeof(s2), "%s:name=%s", disk->name, label);
	snprintf(s3, sizeof(s3), "partuuid=%s", uuid);
	good[0] = s0, good[1] = s1, good[2] = s2, good[3] = s3;
	for (unsigned i = 0; i < 4; i++) {
		got = NULL;
		int rc = storage_lookup(good[i], &got);
		bool ok = !rc && got == part;
		printf("dom0: blk-partition: %s lookup %s = %d %s\n", ok ? "PASS" : "FAIL", good[i], rc,
		       got ? got->name : "-");
		failed += !ok;
	}
	static const struct {
		const char *fmt;
		int rc;
	} bad[] = { { "%s:0", -EINVAL }, { "%s:99", -ENOENT }, { "%s:2x", -EINVAL },
		    { "%s:name=no-such-label", -ENOENT }, { "partuuid=%s-not-a-guid", -EINVAL },
		    { "nosuchdisk:1", -ENOENT }, { "name=", -EINVAL } };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(spec, sizeof(spec), bad[i].fmt, disk->name);
		int rc = storage_lookup(spec, &got);
		printf("dom0: blk-partition: %s lookup %s = %d\n", rc == bad[i].rc ? "PASS" : "FAIL",
		       spec, rc);
		failed += rc != bad[i].rc;
	}
	return failed;
}

int hw_blk_partition_test(const char *cl)
{
	char serial[24], label[40] = "data", spec[64];
	struct blkdev *disk, *part;
	int failed = 0, rc;

	if (!cmdline_get(cl, "blk", serial, sizeof(serial))) {
		puts("dom0: blk-partition: FAIL no blk=SERIAL on the command line");
		return 1;
	}
	cmdline_get(cl, "part", label, sizeof(label));
	disk = blkdev_by_serial(serial);
	if (!disk) {
		printf("dom0: blk-partition: FAIL no disk with serial %s\n", serial);
		return 1;
	}
	unsigned n = 0;
	for (unsigned i = 0; i < blkdev_count(); i++) {
		struct blkdev *d = NULL;
		if (partition_info(blkdev_get(i), &d) && d == disk)
			n++;
	}
	printf("dom0: blk-partition: disk %s (%s) has %u partitions\n", disk->name, disk->driver, n);
	snprintf(spec, sizeof(spec), "%s:name=%s", disk->name, label);
	if ((rc = storage_lookup(spec, &part))) {
		printf("dom0: blk-partition: FAIL no partition %s: %d\n", spec, rc);
		return 1;
	}
	failed += lookups(disk, part, label);

	const struct gpt_part *gp = partition_info(part, NULL);
	u32 ss = part->sector_size;
	const struct {
		u64 sector;
		u32 count;
	} w[2] = { { 0, 64 }, { part->sectors - 8, 8 } };
	void *buf = dma_alloc(64 * ss, 0);
	if (!buf)
		return failed + 1;

	/* 2. writes, in the partition's sectors. */
	for (unsigned i = 0; i < 2; i++) {
		u64 abs = gp->first_lba + w[i].sector;
		pattern_fill(buf, abs * ss, (size_t)w[i].count * ss, 2);
		rc = blk_sync(part, BLK_WRITE, w[i].sector, w[i].count, buf);
		printf("dom0: blk-partition: %s write %s sector %lu+%u: %d\n", rc ? "FAIL" : "PASS",
		       part->name, w[i].sector, w[i].count, rc);
		if (!rc)
			printf("dom0: blk-partition: write %lu+%u\n", abs, w[i].count);
		failed += rc != 0;
	}

	/* 3. past the partition's end: refused before the disk. */
	u64 disk_reqs = disk->nr_reads + disk->nr_writes + disk->nr_discards + disk->nr_errors;
	const struct {
		u8 op;
		u64 sector;
		u32 count;
	} past[] = { { BLK_READ, part->sectors - 4, 8 }, { BLK_READ, part->sectors, 1 },
		     { BLK_READ, ~0ULL - 1, 4 }, { BLK_WRITE, part->sectors - 1, 2 },
		     { BLK_DISCARD, part->sectors - 4, 8 } };
	for (unsigned i = 0; i < ARRAY_SIZE(past); i++) {
		if (past[i].op == BLK_DISCARD && !part->discard)
			continue;
		rc = blk_sync(part, past[i].op, past[i].sector, past[i].count, buf);
		printf("dom0: blk-partition: %s %s %lu+%u on %lu sectors: %d\n",
		       rc == -EINVAL ? "PASS" : "FAIL",
		       past[i].op == BLK_READ ? "read" : past[i].op == BLK_WRITE ? "write" : "discard",
		       past[i].sector, past[i].count, part->sectors, rc);
		failed += rc != -EINVAL;
	}
	u64 now = disk->nr_reads + disk->nr_writes + disk->nr_discards + disk->nr_errors;
	printf("dom0: blk-partition: %s refused requests reached the disk: %lu\n",
	       now == disk_reqs ? "PASS" : "FAIL", now - disk_reqs);
	failed += now != disk_reqs;

	/* 4. discard inside the first write. */
	enum { DFIRST = 16, DCOUNT = 32 };
	bool discarded = false;
	if (part->discard) {
		rc = blk_sync(part, BLK_DISCARD, DFIRST, DCOUNT, NULL);
		printf("dom0: blk-partition: %s discard %s sector %u+%u: %d\n", rc ? "FAIL" : "PASS",
		       part->name, DFIRST, DCOUNT, rc);
		if (!rc)
			printf("dom0: blk-partition: discard %lu+%u\n", gp->first_lba + DFIRST, DCOUNT);
		failed += rc != 0;
		discarded = !rc;
	} else {
		printf("dom0: blk-partition: %s cannot discard\n", part->name);
	}

	/* 5. read back through the partition and through the disk. */
	for (unsigned i = 0; i < 2; i++) {
		u64 abs = gp->first_lba + w[i].sector;
		size_t len = (size_t)w[i].count * ss;
		memset(buf, 0, len);
		int rc1 = blk_sync(part, BLK_READ, w[i].sector, w[i].count, buf);
		u32 dcount = i == 0 && discarded ? DCOUNT : 0;
		bool ok1 = !rc1 && same_but_discarded(buf, abs, w[i].count, ss, DFIRST, dcount);
		memset(buf, 0xa5, len);
		int rc2 = blk_sync(disk, BLK_READ, abs, w[i].count, buf);
		bool ok2 = !rc2 && same_but_discarded(buf, abs, w[i].count, ss, DFIRST, dcount);
		printf("dom0: blk-partition: %s read-back %s %lu+%u (%d) = %s %lu+%u (%d)\n",
		       ok1 && ok2 ? "PASS" : "FAIL", part->name, w[i].sector, w[i].count, rc1,
		       disk->name, abs, w[i].count, rc2);
		failed += !(ok1 && ok2);
	}
	if (part->flush) {
		rc = blk_sync(part, BLK_FLUSH, 0, 0, NULL);
		printf("dom0: blk-partition: %s flush %s: %d\n", rc ? "FAIL" : "PASS", part->name, rc);
		failed += rc != 0;
	}
	dma_free(buf, 64 * ss);
	printf("dom0: blk-partition: %s on %s: %lu reads, %lu writes, %lu discards, %lu errors, %u "
	       "in flight\n", failed ? "FAIL" : "PASS", part->name, part->nr_reads, part->nr_writes,
	       part->nr_discards, part->nr_errors, part->inflight);
	return failed;
}
