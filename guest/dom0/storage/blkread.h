/*
 * Sequential reads of a disk for measuring (the shell's `blkread`): what
 * `dd if=DEV of=/dev/null bs=1M` does, on dom0's own driver with no
 * guest and no backend in the path. `make bench` compares a Linux domU's
 * dd of its xvda with this on the disk behind it (docs/PERFORMANCE.md,
 * "Linux domU boot and dd").
 */
#ifndef GUEST_DOM0_STORAGE_BLKREAD_H
#define GUEST_DOM0_STORAGE_BLKREAD_H

#include <lib/types.h>

struct blkdev;

#define BLKREAD_CHUNK (1u << 20) /* dd's bs=1M */
#define BLKREAD_QD_MAX 32

struct blkread_result {
	u64 bytes;    /* read */
	u64 ns;       /* dom0's pvclock, first submit to last completion */
	u64 requests; /* sent to the device */
};

/*
 * Reads the first `bytes` of bd (a non-zero multiple of its sector size,
 * at most its capacity) from the start, in order, in requests of
 * `req_bytes` (0: 1 MiB; a multiple of the sector size up to 1 MiB) or
 * bd's largest transfer if smaller, keeping up to
 * min(bd->queue_depth, BLKREAD_QD_MAX) in flight; the data lands in one
 * 1 MiB DMA buffer and is dropped. Blocks the caller (dom0's event loop)
 * until done, so it is for a device no guest is using at the time.
 * Returns 0 with *res filled; -EINVAL for a bad length, -ENOMEM without
 * DMA memory, the first failed request's status (-EIO, -ETIMEDOUT),
 * -ETIMEDOUT when nothing completed for 10 s (the requests then stay the
 * driver's and every later call gets -EBUSY).
 */
int blkread_seq(struct blkdev *bd, u64 bytes, u32 req_bytes, struct blkread_result *res);

#endif
