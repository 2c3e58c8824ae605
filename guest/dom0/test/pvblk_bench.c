/*
 * pvblk_mode=bench, dom0's side (pvblk_bench.h): the same workloads the
 * domU runs through blkback, run here on the disk itself, and the
 * counters of the domU's queue-depth-32 phase. Wall-clock figures under
 * QEMU TCG: they measure the emulation as much as Keel.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/domctl.h>
#include "blkback/blkback.h"
#include "block/blkdev.h"
#include "domains.h"
#include "domctl.h"
#include "drv.h"
#include "guest.h"
#include "loop/loop.h"
#include "pvblk_bench.h"
#include "pvclock.h"
#include "xsd/xsd.h"

#define QD_MAX 32
#define WINDOW (2u << 20) /* as guest/pvtest/blk.c */

static struct blk_req reqs[QD_MAX];
static u8 *win;
static u64 rng;

/* guest/pvtest/blk.c's bench_offset: the same LCG, the same offsets. */
static u64 offset(u64 i, u64 size, u64 span, bool rnd)
{
	if (!rnd)
		return (i * size) % span;
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((rng >> 33) % (span / size)) * size;
}

/* n requests of `size` bytes (op) at queue depth qd; microseconds. */
static u64 run(struct blkdev *bd, u8 op, u64 size, unsigned qd, u64 n, u64 span, bool rnd)
{
	u64 issued = 0, t0 = pvclock_now_ns();
	unsigned busy;

	for (unsigned i = 0; i < qd; i++)
		reqs[i].complete = true;
	for (;;) {
		for (unsigned i = 0; i < qd && issued < n; i++) {
			if (!reqs[i].complete)
				continue;
			if (reqs[i].count && reqs[i].status)
				domains_finish(false, "pvblk: FAIL bench request: %d", reqs[i].status);
			u64 off = offset(issued, size, span, rnd);
			reqs[i] = (struct blk_req){ .op = op, .sector = off / bd->sector_size,
						    .count = (u32)(size / bd->sector_size),
						    .buf = win + off % WINDOW };
			int rc = blk_submit(bd, &reqs[i]);
			if (rc && rc != -EBUSY)
				domains_finish(false, "pvblk: FAIL bench submit: %d", rc);
			if (rc) { /* the device's queue is full: poll first */
				reqs[i].complete = true;
				reqs[i].count = 0;
				break;
			}
			issued++;
		}
		busy = 0;
		for (unsigned i = 0; i < qd; i++)
			busy += !reqs[i].complete;
		if (issued == n && !busy)
			break;
		if (!blk_poll(bd))
			blk_idle(bd, 20000);
	}
	for (unsigned i = 0; i < qd; i++)
		if (reqs[i].count && reqs[i].status)
			domains_finish(false, "pvblk: FAIL bench request: %d", reqs[i].status);
	memset(reqs, 0, sizeof(reqs));
	return (pvclock_now_ns() - t0) / 1000;
}

static void line(const char *name, u64 bytes, u64 us)
{
	printf("dom0: pvblk: bench: native %s %lu bytes in %lu us (%lu MiB/s)\n", name, bytes, us,
	       us ? bytes * 1000000 / us / (1024 * 1024) : 0);
}

void pvblk_bench_native(struct blkdev *bd)
{
	u64 bytes = bd->sectors * bd->sector_size;

	if (!win && !(win = dma_alloc(WINDOW, 0)))
		domains_finish(false, "pvblk: FAIL no DMA memory");
	/* 128 KiB, 8 in flight, three times the disk: the domU's first. */
	line("read", 3 * bytes, run(bd, BLK_READ, 131072, 8, 3 * bytes / 131072, bytes, false));
	rng = 12345;
	line("seq64k-read", 3 * bytes, run(bd, BLK_READ, 65536, QD_MAX, 3 * bytes / 65536, bytes,
					   false));
	line("rand4k-read", 2048 * 4096, run(bd, BLK_READ, 4096, QD_MAX, 2048, bytes, true));
	u64 w = MIN(bytes, (u64)WINDOW);
	run(bd, BLK_READ, 65536, QD_MAX, w / 65536, w, false); /* what the writes put back */
	line("rand4k-write", 2048 * 4096, run(bd, BLK_WRITE, 4096, QD_MAX, 2048, w, true));
	/* Queue depth 1, as the domU's qd1- workloads (guest/pvtest/blk.c). */
	line("qd1-seq64k-read", bytes, run(bd, BLK_READ, 65536, 1, bytes / 65536, bytes, false));
	line("qd1-rand4k-read", 512 * 4096, run(bd, BLK_READ, 4096, 1, 512, bytes, true));
	run(bd, BLK_READ, 65536, QD_MAX, w / 65536, w, false);
	line("qd1-rand4k-write", 512 * 4096, run(bd, BLK_WRITE, 4096, 1, 512, w, true));
}

struct mark {
	char path[64];
	const char *want;
};

static bool marked(void *arg)
{
	const struct mark *m = arg;
	char v[16];
	return !xsd_read(m->path, v, sizeof(v)) && !strcmp(v, m->want);
}

#define NAME_(name, num, str, what) [num] = str,
static const char *const exit_name[KEEL_EXIT_NR] = { KEEL_EXIT_REASONS(NAME_) };
#undef NAME_

/* dom's exit counters (zeros if they cannot be read); their sum. */
static u64 exits(domid_t dom, u64 *c)
{
	u64 sum = 0;

	if (domctl_exit_counts(dom, c, KEEL_EXIT_NR, NULL))
		memset(c, 0, KEEL_EXIT_NR * sizeof(*c));
	for (unsigned i = 0; i < KEEL_EXIT_NR; i++)
		sum += c[i];
	return sum;
}

/* "name=count ..." of the reasons that grew from a to b. */
static void reasons(const char *who, const u64 *a, const u64 *b)
{
	char buf[256];
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < KEEL_EXIT_NR && n < sizeof(buf); i++)
		if (b[i] != a[i])
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s=%lu", exit_name[i],
					      b[i] - a[i]);
	printf("dom0: pvblk: bench: qd32 %s exits:%s\n", who, buf);
}

void pvblk_bench_count(domid_t dom, struct blkdev *bd, u64 timeout_ns)
{
	static u64 u0[KEEL_EXIT_NR], u1[KEEL_EXIT_NR], z0[KEEL_EXIT_NR], z1[KEEL_EXIT_NR];
	struct mark m = { .want = "start" };
	struct blkback_stats b0, b1;
	u64 deadline = pvclock_now_ns() + timeout_ns;

	snprintf(m.path, sizeof(m.path), "/local/domain/%u/data/bench-qd32", dom);
	if (!loop_run_until(marked, &m, deadline))
		domains_finish(false, "pvblk: FAIL no bench-qd32 start mark");
	u64 du = exits(dom, u0), d0 = exits(0, z0);
	struct loop_stats l0, l1;
	u64 irq0 = drv_irq_count(bd->irq);
	struct keel_sysctl_irqs h0, h1;
	if (sysctl_irq_counts(&h0))
		memset(&h0, 0, sizeof(h0));
	loop_get_stats(&l0);
	blkback_get_stats(&b0);
	m.want = "end";
	if (!loop_run_until(marked, &m, deadline))
		domains_finish(false, "pvblk: FAIL no bench-qd32 end mark");
	du = exits(dom, u1) - du;
	d0 = exits(0, z1) - d0;
	if (sysctl_irq_counts(&h1))
		memset(&h1, 0, sizeof(h1));
	blkback_get_stats(&b1);
	printf("dom0: pvblk: bench: qd32 phase: %lu requests, domU exits %lu, dom0 exits %lu, "
	       "backend notifications %lu\n", b1.requests - b0.requests, du, d0,
	       b1.notifies - b0.notifies);
	reasons("domU", u0, u1);
	reasons("dom0", z0, z1);
	loop_get_stats(&l1);
	printf("dom0: pvblk: bench: qd32 %s interrupts %lu, dom0 sleeps %lu\n", bd->name,
	       drv_irq_count(bd->irq) - irq0, l1.blocks - l0.blocks);
	/* The hypervisor's host interrupts over the phase (KEEL_SYSCTL_irq_counts). */
	printf("dom0: pvblk: bench: qd32 host interrupts: timer idle %u dom0 %u domU %u "
	       "(early %u), device idle %u dom0 %u domU %u\n",
	       h1.timer_idle - h0.timer_idle, h1.timer_dom0 - h0.timer_dom0,
	       h1.timer_domu - h0.timer_domu, h1.timer_early - h0.timer_early,
	       h1.device_idle - h0.device_idle, h1.device_dom0 - h0.device_dom0,
	       h1.device_domu - h0.device_domu);
}
