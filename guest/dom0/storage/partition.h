/*
 * GPT partitions as block devices of their own (docs/storage.md,
 * "Partitions"). At boot, after the drivers are bound, every whole disk's
 * GPT is read (gpt.h) and each partition registers as a blkdev named as
 * Linux names it: the disk's name plus the number ("vda1", "sda3"), with
 * a 'p' between when the disk's name ends in a digit ("nvme0n1p1").
 *
 * A partition blkdev forwards to its disk with its first LBA added, and,
 * unlike a whole disk, refuses at submit (-EINVAL, nothing sent to the
 * device) any read, write or discard not entirely inside the partition.
 * Its queue depth, limits, flush and discard are the disk's; its
 * completions arrive through the disk's (blk_poll/blk_idle on the
 * partition poll the disk).
 */
#ifndef GUEST_DOM0_STORAGE_PARTITION_H
#define GUEST_DOM0_STORAGE_PARTITION_H

#include "block/blkdev.h"
#include "gpt.h"

/* Reads the GPT of every registered whole disk and registers its
 * partitions, printing one line per disk whose table is refused (with
 * gpt_read's reason) or read from the backup. Returns the number of
 * partitions registered. Called once, by dom0_hw_init. */
unsigned storage_scan_partitions(void);

/* The partition's GPT entry and its disk, or NULL if bd is not a
 * partition. */
const struct gpt_part *partition_info(const struct blkdev *bd, struct blkdev **disk);

/* The inventory line of a partition ("dom0: part vda1: ..."). */
void partition_print(const struct blkdev *bd);

/*
 * Finds a disk or partition by spec (the forms blkback's configuration
 * takes; docs/storage.md):
 *   NAME               a registered name: "vda", "vda2", "nvme0n1p1"
 *   DISK:N             partition number N of DISK ("vda:2")
 *   DISK:name=LABEL    the partition of DISK whose GPT name is LABEL
 *   name=LABEL         the one partition of any disk named LABEL
 *   partuuid=GUID      the partition whose unique GUID is GUID (any case)
 * Returns 0 with *out set; -ENOENT (nothing matches), -EEXIST (name=
 * matches partitions on two disks: qualify it with DISK:), -EINVAL (a
 * malformed spec).
 */
int storage_lookup(const char *spec, struct blkdev **out);

#endif
