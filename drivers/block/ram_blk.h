/*
 * A disk in dom0's memory (ram_blk.c): a blkdev ("ram0", driver "ram")
 * of `sectors` 512-byte sectors, zero-filled, for hosts with no disk
 * controller Keel drives (Bochs: its ATA/IDE is not one), so that the
 * split-PV block path can still be exercised there (blkback exports it
 * like any disk). Requests complete at the next blk_poll, as a polled
 * device's would (no interrupt), FIFO, up to queue_depth in flight;
 * flush is taken and does nothing (nothing is volatile that would
 * survive dom0), discard zeroes.
 */
#ifndef DRIVERS_RAM_BLK_H
#define DRIVERS_RAM_BLK_H

#include "blkdev.h"

#define RAM_BLK_QD 32
#define RAM_BLK_MAX_SECTORS 65536u /* 32 MiB */

/* Creates and registers one. The blkdev, or NULL (no memory, bad size:
 * 1..RAM_BLK_MAX_SECTORS sectors, a second disk: one is all a test needs). */
struct blkdev *ram_blk_create(u64 sectors, const char *serial);

#endif
