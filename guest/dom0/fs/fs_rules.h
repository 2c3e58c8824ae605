/*
 * The mount rules of guest/dom0/fs/mount.c that need no disk: which
 * partitions and disks are FAT volumes to look at, and how a path names
 * a volume and a file on it (docs/fat.md, "Mounts"). Pure, so the host
 * unit tests drive them (tests/unit/test_fs_rules.c).
 */
#ifndef GUEST_DOM0_FS_FS_RULES_H
#define GUEST_DOM0_FS_FS_RULES_H

#include <lib/types.h>

enum fs_part_kind {
	FS_PART_OTHER,      /* not looked at */
	FS_PART_ESP,        /* EFI system partition: C12A7328-F81F-11D2-BA4B-00A0C93EC93B */
	FS_PART_BASIC_DATA, /* Microsoft basic data: EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 */
};

/* The kind of a GPT partition by its type GUID, as stored on disk (the
 * first three fields little-endian, UEFI 2.10 appendix A). */
enum fs_part_kind fs_part_kind(const u8 type_guid[16]);

/* Whether sector 0 of a disk without a GPT (512 bytes at least) is a FAT
 * boot sector worth mounting: the 55 AA signature and "FAT" in the
 * file-system type field (byte 54 for FAT12/16, 82 for FAT32), so a disk
 * of another kind is passed over without a complaint. */
bool fs_sector0_says_fat(const u8 *sector0);

/*
 * Splits a path under the mounts: "/esp/PATH" gives volume "esp";
 * "/fat/NAME/PATH" gives NAME. *rest points into path at the file's
 * absolute path on the volume ("/" for its root). 0; -EINVAL for a path
 * under neither (or "/fat" alone, or an empty NAME); -ENAMETOOLONG when
 * NAME does not fit vol (volsize bytes with its NUL).
 */
int fs_path_split(const char *path, char *vol, size_t volsize, const char **rest);

#endif
