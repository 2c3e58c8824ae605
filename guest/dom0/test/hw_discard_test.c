/*
 * test=blk-discard blk=SERIAL[,SERIAL...]: BLK_DISCARD on each disk
 * (tests/storage/test_discard.py; the host gives each disk a serial and
 * its -drive discard=unmap).
 *
 * On a disk whose driver set bd->discard:
 *  1. writes pattern 2 over WRITE_BYTES at WRITE_OFF and flushes;
 *  2. discards DISCARD_BYTES at DISCARD_OFF (inside the written range,
 *     in requests of at most max_discard_sectors) and flushes;
 *  3. checks that blk_submit refuses, without sending anything to the
 *     device, a discard of 0 sectors and one of max_discard_sectors + 1;
 *  4. reads the written range back: zeros where it was discarded (QEMU
 *     reads a punched hole as zeros), pattern 2 elsewhere;
 *  5. submits reads of the written range and, while they are in flight,
 *     the same discard again, then more reads (AHCI: TRIM is non-queued,
 *     so it must wait for the NCQ reads and they for it: -EBUSY, retried);
 *     every request must succeed and the reads hold pattern 2;
 *  6. (after its summary line) discards a range that ends past the last
 *     sector: sent to the device like a read past the end, and its
 *     answer printed (`discard past the end ...: status N`; the host
 *     knows what each device answers), then reads sector 0 to show the
 *     disk still works.
 * It prints `dom0: blk-discard: write S+C` and `discard S+C` (in the
 * disk's sectors) for the host, which then checks every byte of the
 * image and that the discarded range is a hole in the file.
 * On a disk without discard: a discard is refused with -EINVAL and the
 * device sees no request (its counters do not move).
 */
#include <lib/string.h>
#include "block/blkdev.h"
#include "guest.h"
#include "disk_pattern.h"
#include "selftests.h"

#define WRITE_OFF (1u << 20)
#define WRITE_BYTES (256u << 10)
#define DISCARD_OFF (WRITE_OFF + (64u << 10))
#define DISCARD_BYTES (128u << 10)


/* Runs `op` over [sector, sector+count) in requests of at most `max`. */
static int sync_range(struct blkdev *bd, u8 op, u64 sector, u32 count, u32 max, u8 *buf)
{
	while (count) {
		u32 n = MIN(count, max);
		int rc = blk_sync(bd, op, sector, n, buf);
		if (rc)
			return rc;
		sector += n;
		count -= n;
		if (buf)
			buf += (size_t)n * bd->sector_size;
	}
	return 0;
}

/* What blk_submit must refuse, with the device's counters unchanged. */
static int refused(struct blkdev *bd, u64 sector, u32 count, const char *what)
{
	u64 before = bd->nr_discards + bd->nr_errors;
	struct blk_req r = { .op = BLK_DISCARD, .sector = sector, .count = count };
	int rc = blk_submit(bd, &r);
	bool ok = rc == -EINVAL && bd->nr_discards + bd->nr_errors == before && !bd->inflight;

	printf("dom0: blk-discard: %s %s (%s) %s: %d\n", ok ? "PASS" : "FAIL", bd->name,
	       bd->driver, what, rc);
	if (rc == 0)
		blk_wait(bd, &r);
	return !ok;
}

/* Submits r, polling while the queue is full (or, on AHCI, while
 * queued and non-queued commands would overlap); counts the retries. */
static int submit_retry(struct blkdev *bd, struct blk_req *r, unsigned *busy)
{
	int rc;

	while ((rc = blk_submit(bd, r)) == -EBUSY) {
		(*busy)++;
		if (!blk_poll(bd))
			blk_idle(bd, 1000);
	}
	return rc;
}

/* Step 5: a discard among reads in flight. */
static int discard_among_reads(struct blkdev *bd, u8 *buf)
{
	enum { NR = 4 };
	u32 ss = bd->sector_size, per = (DISCARD_OFF - WRITE_OFF) / ss / NR;
	struct blk_req reads[NR], trim;
	unsigned busy = 0;
	int failed = 0;

	memset(buf, 0xa5, DISCARD_OFF - WRITE_OFF);
	for (unsigned i = 0; i <= NR; i++) {
		struct blk_req *r = &trim;
		if (i == NR / 2) {
			trim = (struct blk_req){ .op = BLK_DISCARD, .sector = DISCARD_OFF / ss,
						 .count = DISCARD_BYTES / ss };
		} else {
			unsigned k = i < NR / 2 ? i : i - 1;
			r = &reads[k];
			*r = (struct blk_req){ .op = BLK_READ, .sector = WRITE_OFF / ss + k * per,
					       .count = per, .buf = buf + (size_t)k * per * ss };
		}
		int rc = submit_retry(bd, r, &busy);
		if (rc) {
			printf("dom0: blk-discard: FAIL submit %s: %d\n",
			       r == &trim ? "discard" : "read", rc);
			failed++;
			r->complete = true;
			r->status = rc;
		}
	}
	for (unsigned i = 0; i < NR; i++)
		failed += blk_wait(bd, &reads[i]) != 0;
	failed += blk_wait(bd, &trim) != 0;
	const u32 *w = (const u32 *)buf;
	for (u32 i = 0; !failed && i < (DISCARD_OFF - WRITE_OFF) / 4; i++)
		if (w[i] != pattern_word(WRITE_OFF / 4 + i, 2)) {
			printf("dom0: blk-discard: read among discards: wrong data at byte %u\n",
			       WRITE_OFF + 4 * i);
			failed++;
		}
	printf("dom0: blk-discard: %s discard among queued reads: %u reads, 1 discard, "
	       "%u busy retries\n", failed ? "FAIL" : "PASS", NR, busy);
	return failed;
}

static int discard_one(struct blkdev *bd)
{
	u32 ss = bd->sector_size, g = bd->discard_granularity;
	u64 wsec = WRITE_OFF / ss, dsec = DISCARD_OFF / ss;
	u32 wcount = WRITE_BYTES / ss, dcount = DISCARD_BYTES / ss;
	int failed = 0, rc;

	if (!bd->discard) {
		printf("dom0: blk-discard: %s (%s) has no discard\n", bd->name, bd->driver);
		return refused(bd, dsec, dcount, "discard without the feature refused");
	}
	printf("dom0: blk-discard: %s (%s): granularity %u sectors, at most %u sectors, "
	       "%u-byte sectors\n", bd->name, bd->driver, g, bd->max_discard_sectors, ss);
	if (!g || dsec % g || dcount % g || wsec + wcount > bd->sectors) {
		printf("dom0: blk-discard: FAIL %s: test range does not fit granularity %u or disk\n",
		       bd->name, g);
		return 1;
	}
	u8 *buf = dma_alloc(WRITE_BYTES, 0);
	if (!buf) {
		puts("dom0: blk-discard: FAIL out of DMA memory");
		return 1;
	}
	u32 *w = (u32 *)buf;
	for (u32 i = 0; i < WRITE_BYTES / 4; i++)
		w[i] = pattern_word(WRITE_OFF / 4 + i, 2);
	rc = sync_range(bd, BLK_WRITE, wsec, wcount, bd->max_sectors, buf);
	if (!rc && bd->flush)
		rc = blk_sync(bd, BLK_FLUSH, 0, 0, NULL);
	printf("dom0: blk-discard: %s write %lu+%u: %d\n", rc ? "FAIL" : "PASS", wsec, wcount, rc);
	failed += rc != 0;

	u64 discards = bd->nr_discards;
	rc = sync_range(bd, BLK_DISCARD, dsec, dcount, bd->max_discard_sectors, NULL);
	if (!rc && bd->flush)
		rc = blk_sync(bd, BLK_FLUSH, 0, 0, NULL);
	printf("dom0: blk-discard: %s discard %lu+%u: %d (%lu requests)\n", rc ? "FAIL" : "PASS",
	       dsec, dcount, rc, bd->nr_discards - discards);
	failed += rc != 0;

	failed += refused(bd, dsec, 0, "discard of 0 sectors refused");
	if (bd->max_discard_sectors < 0xffffffffu)
		failed += refused(bd, dsec, bd->max_discard_sectors + 1,
				  "discard over max_discard_sectors refused");

	memset(buf, 0xa5, WRITE_BYTES);
	rc = sync_range(bd, BLK_READ, wsec, wcount, bd->max_sectors, buf);
	long bad = -1;
	for (u32 i = 0; !rc && bad < 0 && i < WRITE_BYTES / 4; i++) {
		u64 off = WRITE_OFF + 4ull * i;
		bool gone = off >= DISCARD_OFF && off < DISCARD_OFF + DISCARD_BYTES;
		if (w[i] != (gone ? 0 : pattern_word(off / 4, 2)))
			bad = (long)off;
	}
	printf("dom0: blk-discard: %s read-back: %d, %s\n", rc || bad >= 0 ? "FAIL" : "PASS", rc,
	       bad >= 0 ? "wrong data" : "zeros where discarded, the pattern around");
	if (bad >= 0)
		printf("dom0: blk-discard: first difference at byte %ld of the disk\n", bad);
	failed += rc || bad >= 0;
	failed += discard_among_reads(bd, buf);
	dma_free(buf, WRITE_BYTES);
	printf("dom0: blk-discard: %s %s (%s): %lu discards, %lu errors\n", failed ? "FAIL" : "PASS",
	       bd->name, bd->driver, bd->nr_discards, bd->nr_errors);

	u64 psec = ALIGN_DOWN(bd->sectors - 1, g);
	rc = blk_sync(bd, BLK_DISCARD, psec, 2 * g, NULL);
	printf("dom0: blk-discard: %s (%s) discard past the end %lu+%u on %lu sectors: status %d\n",
	       bd->name, bd->driver, psec, 2 * g, bd->sectors, rc);
	buf = dma_alloc(ss, 0);
	rc = buf ? blk_sync(bd, BLK_READ, 0, 1, buf) : -ENOMEM;
	bool same = buf && !rc && ((u32 *)buf)[0] == pattern_word(0, 1);
	printf("dom0: blk-discard: %s %s (%s) still works after it: read 0+1 status %d%s\n",
	       same ? "PASS" : "FAIL", bd->name, bd->driver, rc, same ? "" : ", wrong data");
	failed += !same;
	dma_free(buf, ss);
	return failed;
}

int hw_blk_discard_test(const char *cl)
{
	char list[96];
	int failed = 0, tested = 0;

	if (!cmdline_get(cl, "blk", list, sizeof(list))) {
		puts("dom0: blk-discard: FAIL no blk=SERIAL[,SERIAL...] on the command line");
		return 1;
	}
	for (char *s = list, *next; s && *s; s = next) {
		next = strchr(s, ',');
		if (next)
			*next++ = 0;
		struct blkdev *bd = blkdev_by_serial(s);
		if (!bd) {
			printf("dom0: blk-discard: FAIL configured disk serial=%s absent\n", s);
			failed++;
			continue;
		}
		failed += discard_one(bd);
		tested++;
	}
	printf("dom0: blk-discard: %s %d disks tested\n", failed ? "FAIL" : "PASS", tested);
	return failed;
}
