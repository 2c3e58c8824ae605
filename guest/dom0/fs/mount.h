/*
 * dom0's file names (docs/fat.md, "Mounts"): the FAT file systems on the
 * disks dom0 owns, mounted read-only at boot, so the CLI can take guest
 * configs and images from them (`xl create /esp/guests/web.cfg`).
 *
 *   /esp/PATH       the EFI system partition (GPT type C12A7328-...): of
 *                   several, the first holding /keel.cfg (the medium Keel
 *                   booted from, as scripts/mkimage writes it), else the
 *                   first in disk order
 *   /fat/NAME/PATH  every other FAT volume: ESPs and "Microsoft basic
 *                   data" partitions (EBD0A0A2-...) by partition name
 *                   ("vdb1"), a whole disk without a GPT whose boot sector
 *                   says FAT by disk name ("vdc")
 *
 * The rules that need no disk are fs_rules.h's. An ESP or basic-data
 * partition whose file system fat_mount refuses
 * (corrupt, FAT12, exFAT) is not mounted; the reason is printed once at
 * boot and repeated to whoever names a path on it.
 *
 * Reads are synchronous (blk_sync, sector by sector through a DMA bounce
 * buffer): a command reading a file waits for the disk without running
 * dom0's loop, as the GPT scan does at boot. Files are at most
 * FS_FILE_MAX bytes.
 */
#ifndef GUEST_DOM0_FS_MOUNT_H
#define GUEST_DOM0_FS_MOUNT_H

#include <lib/types.h>

#define FS_FILE_MAX (256UL << 20)

/* Mounts what it finds on every registered disk and partition (call once,
 * after storage_scan_partitions), printing one line per volume mounted or
 * refused. Returns the number mounted. Later calls do nothing. */
unsigned fs_mount_all(void);

/* True when path starts with a mount's prefix ("/esp/", "/fat/"). */
bool fs_path_is_mounted_fs(const char *path);

/*
 * Reads the whole file `path` ("/esp/guests/web.cfg",
 * "/fat/vdb1/vmlinuz") into pages of its own: 0 with *data and *size
 * set (free with fs_file_free), or -errno with the reason in err: -ENOENT
 * (no such mount or file), -EISDIR, -E2BIG (over FS_FILE_MAX), -ENOMEM,
 * -EINVAL (a damaged file system, with fat.c's message), -EIO.
 */
int fs_read_file(const char *path, void **data, u64 *size, char *err, size_t errlen);
void fs_file_free(void *data, u64 size);

/* Whether `path` names a file (not a directory) without reading it: 0 with
 * *size, or -errno with the reason in err, as fs_read_file. */
int fs_stat(const char *path, u64 *size, char *err, size_t errlen);

/* Prints the directory `path` ("/", "/esp", "/esp/guests", "/fat") as
 * `ls -l` would, shortly: size or <DIR>, then the name. 0 or -errno (the
 * reason printed). */
int fs_list(const char *path);

#endif
