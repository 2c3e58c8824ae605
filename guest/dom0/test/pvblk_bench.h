/*
 * pvblk_mode=bench's dom0 side (pvblk_bench.c; the domU's is
 * guest/pvtest/blk.c bench=1; `make bench` reads both, tests/bench.py).
 */
#ifndef GUEST_DOM0_TEST_PVBLK_BENCH_H
#define GUEST_DOM0_TEST_PVBLK_BENCH_H

#include <lib/types.h>
#include <public/xen.h>

struct blkdev;

/* The native workloads on bd, each timed on one line: whole-disk reads
 * (128 KiB, 8 in flight) three times, then the queue-depth-32 ones the
 * domU runs (sequential 64 KiB reads, random 4 KiB reads and writes; the
 * writes put back the disk's own bytes). Ends the scenario on a failure. */
void pvblk_bench_native(struct blkdev *bd);

/* While domU `dom` runs its queue-depth-32 workloads (between its
 * data/bench-qd32 = start and end): VM exits of it and of dom0, and
 * blkback's requests and notifications, on one line; then the exit
 * reasons that grew, and the interrupts of disk bd and dom0's sleeps.
 * Serves dom0's loop meanwhile; gives up after timeout_ns. */
void pvblk_bench_count(domid_t dom, struct blkdev *bd, u64 timeout_ns);

#endif
