/*
 * The storage self-tests (test=blk, test=blk-past-end), run against the
 * disk whose serial is cmdline `blk=SERIAL` (the host test gives the
 * disk that serial; no other disk is ever written).
 *
 * test=blk:
 *  1. reads the whole disk in large requests, several in flight, and
 *     checks the host's pattern (pattern_word(offset / 4, 1));
 *  2. writes pattern 2 over the regions in `writes` below, all submitted
 *     at once (single-sector, multi-sector, a buffer that crosses a page,
 *     an unaligned start, >= 128 KiB requests), printing
 *     `dom0: blk-test: write SECTOR+COUNT` for each (the host recomputes
 *     the expected image from these lines);
 *  3. flushes, reads every region back and checks it.
 * The host then checks every byte of the image file.
 */
#include <lib/string.h>
#include "block/blkdev.h"
#include "guest.h"
#include "disk_pattern.h"
#include "selftests.h"
#include "hw/hw.h"




static struct blkdev *find_disk(const char *cl, const char *test)
{
	char serial[24];

	if (!cmdline_get(cl, "blk", serial, sizeof(serial))) {
		printf("dom0: %s: FAIL no blk=SERIAL on the command line\n", test);
		return NULL;
	}
	struct blkdev *bd = blkdev_by_serial(serial);
	if (!bd)
		printf("dom0: %s: configured disk serial=%s absent: skipped\n", test, serial);
	return bd;
}

/* Step 1: the whole disk, CHUNK sectors per request, DEPTH in flight. */
static int verify_disk(struct blkdev *bd, u32 seed)
{
	enum { DEPTH = 4 };
	u32 chunk = MIN(bd->max_sectors, 256u);
	size_t bytes = (size_t)chunk * bd->sector_size;
	struct blk_req reqs[DEPTH];
	void *bufs[DEPTH];
	u64 next = 0, checked = 0;
	unsigned depth = MIN((unsigned)DEPTH, bd->queue_depth);
	int failed = 0;

	for (unsigned i = 0; i < depth; i++) {
		bufs[i] = dma_alloc(bytes, 0);
		if (!bufs[i]) {
			puts("dom0: blk-test: FAIL out of DMA memory");
			return 1;
		}
		reqs[i].complete = true; /* idle */
		reqs[i].cookie = NULL;
	}
	u64 t0 = drv_now_us();
	while (checked < bd->sectors) {
		for (unsigned i = 0; i < depth; i++) {
			struct blk_req *r = &reqs[i];
			if (!r->complete)
				continue;
			if (r->cookie) { /* a finished read: check it */
				if (r->status) {
					printf("dom0: blk-test: FAIL read at %lu: status %d\n", r->sector,
					       r->status);
					return 1;
				}
				long bad = pattern_mismatch(bufs[i], r->sector * bd->sector_size,
						 (size_t)r->count * bd->sector_size, seed);
				if (bad >= 0 && !failed++)
					printf("dom0: blk-test: FAIL initial pattern differs at byte %lu\n",
					       r->sector * bd->sector_size + bad);
				checked += r->count;
				r->cookie = NULL;
			}
			if (next < bd->sectors) {
				*r = (struct blk_req){ .op = BLK_READ, .sector = next,
						       .count = (u32)MIN((u64)chunk, bd->sectors - next),
						       .buf = bufs[i], .cookie = r };
				int rc = blk_submit(bd, r);
				if (rc == -EBUSY) {
					r->complete = true;
					r->cookie = NULL;
					continue;
				}
				if (rc) {
					printf("dom0: blk-test: FAIL submit: %d\n", rc);
					return 1;
				}
				next += r->count;
			}
		}
		if (!blk_poll(bd))
			blk_idle(bd, 20000);
	}
	for (unsigned i = 0; i < depth; i++)
		dma_free(bufs[i], bytes);
	printf("dom0: blk-test: %s initial pattern of %lu sectors (%lu ms)\n",
	       failed ? "FAIL" : "PASS", bd->sectors, (drv_now_us() - t0) / 1000);
	return failed ? 1 : 0;
}

struct region {
	u64 sector;     /* from the start (>= 0) or, if from_end, before the end */
	u32 count;      /* sectors */
	u32 buf_offset; /* where in its buffer the data starts */
	bool from_end;
	const char *what;
};

static const struct region writes[] = {
	{ 1, 1, 0, false, "single sector" },
	{ 37, 8, 0, false, "multi-sector" },
	/* 2 sectors starting 512 bytes before a page boundary of the buffer */
	{ 101, 2, 4096 - 512, false, "page-crossing buffer" },
	{ 203, 9, 4096 - 1024, false, "page-crossing, unaligned start" },
	{ 1024, 256, 0, false, "128 KiB" },
	{ 2048 + 3, 512, 512, false, "256 KiB, offset buffer" },
	{ 8, 1, 0, true, "single sector near the end" },
};

int hw_blk_test(const char *cl)
{
	struct blkdev *bd = find_disk(cl, "blk-test");
	enum { N = ARRAY_SIZE(writes) };
	struct blk_req reqs[N];
	void *bufs[N];
	size_t sizes[N];
	int failed = 0;

	if (!bd)
		return 0; /* reported; the absent-device test expects this */
	printf("dom0: blk-test: disk %s (%s), %lu sectors, queue depth %u\n", bd->name, bd->driver,
	       bd->sectors, bd->queue_depth);
	if (verify_disk(bd, 1))
		return 1;

	/* Step 2: every write submitted before any is waited for. */
	unsigned submitted = 0, max_inflight = 0;
	for (unsigned i = 0; i < N; i++) {
		const struct region *w = &writes[i];
		u32 count = w->count;
		u64 sector = w->from_end ? bd->sectors - w->sector : w->sector;
		size_t len = (size_t)count * bd->sector_size;
		sizes[i] = len + w->buf_offset;
		bufs[i] = dma_alloc(sizes[i], 0);
		if (!bufs[i] || sector + count > bd->sectors || count > bd->max_sectors) {
			printf("dom0: blk-test: FAIL cannot set up write %u (%s)\n", i, w->what);
			return 1;
		}
		u8 *data = (u8 *)bufs[i] + w->buf_offset;
		pattern_fill(data, sector * bd->sector_size, len, 2);
		reqs[i] = (struct blk_req){ .op = BLK_WRITE, .sector = sector, .count = count,
					    .buf = data };
		int rc;
		while ((rc = blk_submit(bd, &reqs[i])) == -EBUSY)
			blk_poll(bd);
		if (rc) {
			printf("dom0: blk-test: FAIL submit write %s: %d\n", w->what, rc);
			return 1;
		}
		submitted++;
		max_inflight = MAX(max_inflight, bd->inflight);
		printf("dom0: blk-test: write %lu+%u (%s)\n", sector, count, w->what);
	}
	for (unsigned i = 0; i < N; i++)
		if (blk_wait(bd, &reqs[i])) {
			printf("dom0: blk-test: FAIL write %lu+%u: status %d\n", reqs[i].sector,
			       reqs[i].count, reqs[i].status);
			failed++;
		}
	printf("dom0: blk-test: %s %u writes, up to %u in flight\n", failed ? "FAIL" : "PASS",
	       submitted, max_inflight);

	/* Step 3. */
	int rc = bd->flush ? blk_sync(bd, BLK_FLUSH, 0, 0, NULL) : 0;
	printf("dom0: blk-test: %s flush: %d%s\n", rc ? "FAIL" : "PASS", rc,
	       bd->flush ? "" : " (no volatile cache)");
	failed += rc != 0;
	for (unsigned i = 0; i < N; i++) {
		struct blk_req *r = &reqs[i];
		size_t len = (size_t)r->count * bd->sector_size;
		memset(r->buf, 0, len);
		rc = blk_sync(bd, BLK_READ, r->sector, r->count, r->buf);
		long bad = rc ? 0 : pattern_mismatch(r->buf, r->sector * bd->sector_size, len, 2);
		if (rc || bad >= 0) {
			printf("dom0: blk-test: FAIL read-back %lu+%u: status %d, first difference at "
			       "byte %ld\n", r->sector, r->count, rc, bad);
			failed++;
		}
		dma_free(bufs[i], sizes[i]);
	}
	printf("dom0: blk-test: %s read-back of %u regions\n", failed ? "FAIL" : "PASS", N);
	printf("dom0: blk-test: %s on %s: %lu reads, %lu writes, %lu flushes, %lu errors\n",
	       failed ? "FAIL" : "PASS", bd->name, bd->nr_reads, bd->nr_writes, bd->nr_flushes,
	       bd->nr_errors);
	printf("dom0: blk-test: %s: %lu interrupts (%s), %lu waits ended by one\n", bd->name,
	       drv_irq_count(bd->irq), drv_irq_name(bd->irq), bd->nr_sleeps);
	return failed;
}

/*
 * test=blk-past-end (blk=SERIAL[,SERIAL...]): on each disk, reads that
 * end past the last sector must complete with an error (from the device:
 * the block layer passes them on), and the disk must still work after.
 */
static int past_end_one(struct blkdev *bd)
{
	static const struct {
		s64 from_end;
		u32 count;
	} cases[] = { { 0, 1 }, { 4, 8 }, { -1000, 1 } };
	int failed = 0;
	void *buf = dma_alloc(16 * bd->sector_size, 0);

	if (!buf)
		return 1;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 sector = bd->sectors - cases[i].from_end;
		int rc = blk_sync(bd, BLK_READ, sector, cases[i].count, buf);
		bool ok = rc == -EIO;
		printf("dom0: blk-past-end: %s %s (%s) read %lu+%u on %lu sectors: status %d\n",
		       ok ? "PASS" : "FAIL", bd->name, bd->driver, sector, cases[i].count,
		       bd->sectors, rc);
		failed += !ok;
	}
	int rc = blk_sync(bd, BLK_READ, 0, 1, buf);
	long bad = rc ? 0 : pattern_mismatch(buf, 0, bd->sector_size, 1);
	printf("dom0: blk-past-end: %s %s (%s) still works: read 0+1 status %d%s\n",
	       (rc || bad >= 0) ? "FAIL" : "PASS", bd->name, bd->driver, rc,
	       bad >= 0 ? ", wrong data" : "");
	failed += rc || bad >= 0;
	dma_free(buf, 16 * bd->sector_size);
	return failed;
}

int hw_blk_past_end_test(const char *cl)
{
	char list[96];
	int failed = 0, tested = 0;

	if (!cmdline_get(cl, "blk", list, sizeof(list))) {
		puts("dom0: blk-past-end: FAIL no blk=SERIAL[,SERIAL...] on the command line");
		return 1;
	}
	for (char *s = list, *next; s && *s; s = next) {
		next = strchr(s, ',');
		if (next)
			*next++ = 0;
		struct blkdev *bd = blkdev_by_serial(s);
		if (!bd) {
			printf("dom0: blk-past-end: configured disk serial=%s absent: skipped\n", s);
			continue;
		}
		failed += past_end_one(bd);
		tested++;
	}
	printf("dom0: blk-past-end: %s %d disks tested\n", failed ? "FAIL" : "PASS", tested);
	return failed;
}
