/*
 * role=blk: the PV block frontend (guest/lib/blkfront.h) against dom0's
 * blkback (docs/pvblk.md), checked byte for byte by the host afterwards
 * (tests/pvblk/test_pvblk.py).
 *
 * role=blk devid=N [order=O] [ro=1] [wait=1] [limit_kib=K] [detach_wait=1] [bench=1]
 *          [persistent=0]
 *   (persistent=0: does not offer feature-persistent: grants per request)
 *   (bench=1: timed whole-disk reads, 128 KiB at queue depth 8, then the
 *   queue-depth-32 workloads of bench_qd32_all; the image is unchanged)
 *   (detach_wait=1: after the test, writes data/blk-done and closes only
 *   when the backend goes Closing: dom0's hot unplug)
 *   (wait=1: first waits for the toolstack to add device/vbd/N: hot plug)
 *   connects to device/vbd/N (ring of up to 2^O pages, default 2), then
 *   - read-write: writes pattern 2 (the host's generator, seed 2) over
 *     the whole device, the first half at queue depth 1 and the second at
 *     queue depth 32, with I/O sizes cycling from 512 B to 1 MiB (each
 *     split into requests of at most blkfront_max_sectors, indirect when
 *     beyond 11 pages, buffers at every page offset); flushes; discards
 *     a region (when offered) and writes it again; reads everything back
 *     at queue depth 32 and checks it; closes.
 *   - ro=1: checks the info node says read-only, reads everything back and
 *     checks the host's pattern 1, then a write and (if offered) a discard
 *     must be refused with BLKIF_RSP_ERROR; closes.
 * Prints "pvtest: blk: PASS ..." with the counts, or FAIL.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "blkfront.h"
#include "gnttab.h"
#include "guest.h"
#include "pages.h"
#include "pvclock.h"
#include "pvtest.h"
#include "xenbus.h"

#define WINDOW (2u << 20)
#define QD_MAX 32

static struct blkfront bf;
static u8 *win;
static u64 nr_req, nr_bytes, max_inflight;

/* The host's generator (tests/hw/test_hw.py): word w of the disk. */
static u32 pattern_word(u64 w, u32 seed)
{
	return (u32)((w + (u64)seed * 0x10000000ULL) * 2654435761ULL) ^ (u32)(w >> 13);
}

static const u32 sizes[] = { 512, 1024, 4096, 4608, 65536, 131072, 1u << 20, 3584, 12288,
			     262144, 2048 };

/* Waits until at most `qd` requests are in flight; checks statuses. */
static void drain_to(unsigned qd)
{
	while (bf.inflight > qd) {
		int rc = blkfront_poll(&bf, 10ULL * 1000000000ULL);
		if (rc < 0)
			fail("poll: %d", rc);
		for (unsigned i = 0; i < RING_SIZE(&bf.ring); i++) {
			struct blkfront_slot *s = &bf.slots[i];
			if (s->used && s->done) {
				if (s->status != BLKIF_RSP_OKAY)
					fail("request op %u: status %d", s->op, s->status);
				blkfront_release(&bf, (int)i);
			}
		}
	}
}

/* One I/O of `bytes` at byte offset `off` of the device (its data at
 * buf), split into requests, with at most qd in flight. */
static void do_io(u8 op, u64 off, u64 bytes, u8 *buf, unsigned qd)
{
	u64 max = (u64)blkfront_max_sectors(&bf) * 512;

	while (bytes) {
		/* Requests end at page boundaries of buf when they can, so
		 * that max_sectors of segments hold them. */
		u64 room = max - ((uintptr_t)buf & (PAGE_SIZE - 1));
		u64 n = MIN(bytes, room);
		int rc;
		while ((rc = blkfront_submit(&bf, op, off / 512, (u32)(n / 512), buf)) == -EBUSY)
			drain_to(bf.inflight - 1);
		if (rc < 0)
			fail("submit op %u at %lu+%lu: %d", op, off, n, rc);
		nr_req++;
		nr_bytes += n;
		if (bf.inflight > max_inflight)
			max_inflight = bf.inflight;
		drain_to(qd - 1 < QD_MAX ? qd - 1 : 0);
		off += n;
		buf += n;
		bytes -= n;
	}
}

static void fill(u64 off, u64 len, u32 seed)
{
	u32 *p = (u32 *)win;
	for (u64 i = 0; i < len / 4; i++)
		p[i] = pattern_word(off / 4 + i, seed);
}

static void verify(u64 off, u64 len, u32 seed)
{
	const u32 *p = (const u32 *)win;
	for (u64 i = 0; i < len / 4; i++)
		if (p[i] != pattern_word(off / 4 + i, seed))
			fail("byte %lu of the device: 0x%x, expected 0x%x (seed %u)", off + i * 4, p[i],
			     pattern_word(off / 4 + i, seed), seed);
}

/* Over [start, end) of the device, window by window: write pattern seed
 * (op WRITE) or read and check it (op READ), with sizes cycling. */
static void pass(u8 op, u64 start, u64 end, u32 seed, unsigned qd, unsigned *cyc)
{
	for (u64 w = start; w < end; w += WINDOW) {
		u64 len = MIN((u64)WINDOW, end - w);
		if (op == BLKIF_OP_WRITE)
			fill(w, len, seed);
		else
			memset(win, 0xa5, len);
		for (u64 o = 0; o < len;) {
			/* (MIN evaluates its arguments twice: no side effects in it.) */
			u64 size = sizes[(*cyc)++ % ARRAY_SIZE(sizes)];
			u64 n = MIN(size, len - o);
			do_io(op, w + o, n, win + o, qd);
			o += n;
		}
		drain_to(0);
		if (op == BLKIF_OP_READ)
			verify(w, len, seed);
	}
}

/*
 * bench=1's queue-depth-32 and -1 workloads (docs/PERFORMANCE.md; dom0 runs
 * the same natively, guest/dom0/test/pvblk_bench.c): n requests of `size`
 * bytes at queue depth qd, sequential over the disk or at offsets drawn
 * by a fixed LCG (the same on both sides), each timed on one line. Reads
 * land in the window at the offset modulo its size; random writes stay in
 * the first window, which holds the disk's own bytes (read just before),
 * so the image is unchanged.
 */
static u64 bench_rng = 12345;

static u64 bench_offset(u64 i, u64 size, u64 span, bool rnd)
{
	if (!rnd)
		return (i * size) % span;
	bench_rng = bench_rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((bench_rng >> 33) % (span / size)) * size;
}

static void bench_qd(const char *name, u8 op, u64 size, u64 n, u64 span, bool rnd, unsigned qd)
{
	u64 t0 = pvclock_now_ns();

	for (u64 i = 0; i < n; i++) {
		u64 off = bench_offset(i, size, span, rnd);
		do_io(op, off, size, win + off % WINDOW, qd);
	}
	drain_to(0);
	u64 us = (pvclock_now_ns() - t0) / 1000;
	printf("pvtest: blk: bench: PV %s %lu bytes in %lu us\n", name, n * size, us);
}

static void bench_qd32_all(u64 bytes)
{
	u64 n0 = nr_req, notifies0 = bf.notifies;
	int rc;

	/* dom0 counts exits and notifications between the two marks. */
	if ((rc = xb_write(xenbus(), 0, "data/bench-qd32", "start")))
		fail("write data/bench-qd32: %d", rc);
	bench_qd("seq64k-read", BLKIF_OP_READ, 65536, 3 * bytes / 65536, bytes, false, QD_MAX);
	bench_qd("rand4k-read", BLKIF_OP_READ, 4096, 2048, bytes, true, QD_MAX);
	u64 w = MIN(bytes, (u64)WINDOW);
	do_io(BLKIF_OP_READ, 0, w, win, QD_MAX);
	drain_to(0);
	bench_qd("rand4k-write", BLKIF_OP_WRITE, 4096, 2048, w, true, QD_MAX);
	printf("pvtest: blk: bench: qd32 %lu requests, %lu notifies\n", nr_req - n0,
	       bf.notifies - notifies0);
	if ((rc = xb_write(xenbus(), 0, "data/bench-qd32", "end")))
		fail("write data/bench-qd32: %d", rc);
	/* The same at queue depth 1 (one request at a time: the latency of
	 * the whole path), fewer of them; dom0 runs the same natively. */
	bench_qd("qd1-seq64k-read", BLKIF_OP_READ, 65536, bytes / 65536, bytes, false, 1);
	bench_qd("qd1-rand4k-read", BLKIF_OP_READ, 4096, 512, bytes, true, 1);
	do_io(BLKIF_OP_READ, 0, w, win, QD_MAX);
	drain_to(0);
	bench_qd("qd1-rand4k-write", BLKIF_OP_WRITE, 4096, 512, w, true, 1);
}

void role_blk(const struct hvm_start_info *si)
{
	u32 devid = (u32)arg_u64("devid");
	unsigned order = (unsigned)arg_u64_or("order", 2);
	bool ro = arg_u64_or("ro", 0);
	int rc;

	if ((rc = xenbus_init()))
		fail("xenbus_init: %d", rc);
	/* 8 frames (4,096 refs): the persistent pool keeps up to 1,152
	 * (blkfront.h) and requests beyond it grant their own. */
	if ((rc = gnttab_init(si, 8)))
		fail("gnttab_init: %d", rc);
	pages_init(si);
	if (arg_u64_or("wait", 0)) {
		/* Hot plug: the toolstack adds device/vbd/N while we run. */
		char path[48], v[96];
		snprintf(path, sizeof(path), "device/vbd/%u/backend", devid);
		if ((rc = xb_watch(xenbus(), "device/vbd", "hotplug")))
			fail("watch device/vbd: %d", rc);
		printf("pvtest: blk: waiting for device/vbd/%u\n", devid);
		for (unsigned i = 0; xb_read(xenbus(), 0, path, v, sizeof(v)) < 0; i++) {
			char ep[64], et[16];
			if (i > 60)
				fail("no device/vbd/%u after 60 s", devid);
			xb_next_event(xenbus(), ep, sizeof(ep), et, sizeof(et), 1000000000ULL);
		}
		xb_unwatch(xenbus(), "device/vbd", "hotplug");
		printf("pvtest: blk: device/vbd/%u appeared\n", devid);
	}
	if (!(win = pages_alloc(WINDOW / PAGE_SIZE, PAGE_SIZE)))
		fail("no memory for a %u-byte window", WINDOW);
	if ((rc = blkfront_connect_opts(&bf, devid, order, arg_u64_or("persistent", 1))))
		fail("connect to device/vbd/%u: %d", devid, rc);
	u64 bytes = bf.sectors * 512;
	/* limit_kib=K: only the first K KiB (the teardown cycles). */
	u64 limit = arg_u64_or("limit_kib", 0) * 1024;
	if (limit && limit < bytes)
		bytes = limit;
	printf("pvtest: blk: connected: %lu sectors, sector-size %u, info %u, flush %u, discard %u, "
	       "indirect %u, ring of %u pages (%u slots), persistent %u\n", bf.sectors,
	       bf.sector_size, bf.info, bf.flush, bf.discard, bf.max_indirect, 1u << bf.ring_order,
	       RING_SIZE(&bf.ring), bf.persistent);
	unsigned cyc = 0;
	u64 flushes = 0, discards = 0, refused = 0;

	if (arg_u64_or("bench", 0)) {
		/* Three reads of the whole disk, 128 KiB requests, 8 in flight
		 * (as dom0's native figure), timed. */
		u64 t0 = pvclock_now_ns(), moved = 0;
		for (unsigned k = 0; k < 3; k++) {
			for (u64 o = 0; o < bytes; o += WINDOW) {
				u64 len = MIN((u64)WINDOW, bytes - o);
				for (u64 x = 0; x < len; x += 131072)
					do_io(BLKIF_OP_READ, o + x, MIN(131072ULL, len - x), win + x, 8);
				drain_to(0);
				moved += len;
			}
		}
		u64 us = (pvclock_now_ns() - t0) / 1000;
		printf("pvtest: blk: bench: PV read %lu bytes in %lu us (%lu MiB/s)\n", moved, us,
		       us ? moved * 1000000 / us / (1024 * 1024) : 0);
		verify(bytes - MIN(bytes, (u64)WINDOW), MIN(bytes, (u64)WINDOW), 1);
		bench_qd32_all(bytes);
		verify(0, MIN(bytes, (u64)WINDOW), 1);
	} else if (ro) {
		if (!(bf.info & VDISK_READONLY))
			fail("info %u without VDISK_READONLY", bf.info);
		pass(BLKIF_OP_READ, 0, bytes, 1, QD_MAX, &cyc);
		fill(0, 4096, 2);
		rc = blkfront_io(&bf, BLKIF_OP_WRITE, 0, 8, win);
		if (rc != BLKIF_RSP_ERROR)
			fail("write to a read-only disk answered %d", rc);
		refused++;
		if (bf.discard) {
			rc = blkfront_io(&bf, BLKIF_OP_DISCARD, 0, 8, NULL);
			if (rc != BLKIF_RSP_ERROR)
				fail("discard on a read-only disk answered %d", rc);
			refused++;
		}
		/* Still good after the refusals. */
		pass(BLKIF_OP_READ, 0, MIN(bytes, (u64)WINDOW), 1, 1, &cyc);
	} else {
		u64 half = (bytes / 2) & ~(u64)(PAGE_SIZE - 1);
		pass(BLKIF_OP_WRITE, 0, half, 2, 1, &cyc);
		u64 qd1_req = nr_req;
		pass(BLKIF_OP_WRITE, half, bytes, 2, QD_MAX, &cyc);
		if (bf.flush) {
			if ((rc = blkfront_io(&bf, BLKIF_OP_FLUSH_DISKCACHE, 0, 0, NULL)))
				fail("flush: %d", rc);
			flushes++;
		}
		if (bf.discard) {
			/* A quarter of the region, then written again (the host
			 * checks every byte afterwards). */
			u64 ds = (bytes / 4) & ~(u64)(PAGE_SIZE - 1);
			if ((rc = blkfront_io(&bf, BLKIF_OP_DISCARD, ds / 512, (u32)(ds / 512), NULL)))
				fail("discard: %d", rc);
			discards++;
			pass(BLKIF_OP_WRITE, ds, 2 * ds, 2, QD_MAX, &cyc);
		}
		pass(BLKIF_OP_READ, 0, bytes, 2, QD_MAX, &cyc);
		printf("pvtest: blk: %lu requests at queue depth 1, %lu at up to %u\n", qd1_req,
		       nr_req - qd1_req, QD_MAX);
	}
	if (arg_u64_or("detach_wait", 0)) {
		/* Hot unplug: tell the toolstack we are done (data/ is ours),
		 * then close when the backend goes Closing. */
		if ((rc = xb_write(xenbus(), 0, "data/blk-done", "1")))
			fail("write data/blk-done: %d", rc);
		rc = xb_wait_state(xenbus(), bf.be, XenbusStateClosing, 60ULL * 1000000000ULL);
		if (rc != XenbusStateClosing)
			fail("backend did not go Closing (state %d)", rc);
		printf("pvtest: blk: backend Closing: closing\n");
	}
	u64 pool = bf.nr_pool, preq = bf.persist_reqs, fbreq = bf.fallback_reqs;
	if ((rc = blkfront_close(&bf)))
		fail("close: %d", rc);
	printf("pvtest: blk: persistent grants: %lu requests through a pool of %lu pages, %lu "
	       "without\n", preq, pool, fbreq);
	printf("pvtest: blk: PASS %lu requests, %lu bytes, up to %lu in flight, %lu flushes, "
	       "%lu discards, %lu refused, %lu notifies\n", nr_req, nr_bytes, max_inflight, flushes,
	       discards, refused, bf.notifies);
}
