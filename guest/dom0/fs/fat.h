/*
 * A read-only FAT16/FAT32 reader (guest/dom0/fs/fat.c), so dom0 can take
 * guest configs and kernels from the file systems on the disks it owns:
 * the boot medium's EFI system partition first of all (Microsoft's "FAT:
 * General Overview of On-Disk Format", the FAT32 specification 1.03).
 *
 * Pure code: the volume's sectors come through a read callback, so the
 * host unit tests and the fuzzer drive it on images in memory and dom0 on
 * a blkdev or a partition.
 *
 * Everything on the disk is hostile. The boot sector's geometry is
 * checked against itself and against the volume's size; every cluster
 * number is checked against the cluster count before it is used; a chain
 * longer than the volume has clusters (a loop) or shorter than the file's
 * size is an error; directories are read at most FAT_MAX_DIR_ENTRIES
 * entries deep; long names are checked (sequence, checksum) and cut to
 * FAT_NAME_MAX. Errors are negative errno values with a message saying
 * what and where: -EINVAL for a damaged file system, -EOPNOTSUPP for FAT12
 * or exFAT, -ENOENT / -ENOTDIR / -EISDIR for paths, or the read
 * callback's error.
 */
#ifndef GUEST_DOM0_FS_FAT_H
#define GUEST_DOM0_FS_FAT_H

#include <lib/types.h>

#define FAT_SECTOR_MAX      4096
#define FAT_NAME_MAX        255
#define FAT_MAX_DIR_ENTRIES 65536 /* the FAT spec's limit per directory */

struct fat_dev {
	/* Reads `count` of the device's sectors (sector_size bytes each)
	 * starting at `sector`, relative to the volume, into buf: 0 or
	 * -errno. The reader never asks for sectors at or past `sectors`. */
	int (*read)(void *ctx, u64 sector, u32 count, void *buf);
	void *ctx;
	u64 sectors;      /* the volume's size in its device's sectors */
	u32 sector_size;  /* the device's sector size (512 or 4096) */
};

struct fat_vol {
	struct fat_dev dev;
	u8 bits;                 /* 16 or 32 */
	u32 bytes_per_sector, sectors_per_cluster, cluster_bytes;
	u32 reserved, nr_fats, fat_sectors;
	u32 root_entries;        /* FAT16's fixed root directory */
	u64 root_sector;         /* FAT16: its first sector */
	u32 root_cluster;        /* FAT32 */
	u64 data_sector;         /* cluster 2's first sector */
	u32 nr_clusters;         /* data clusters: valid numbers are 2..nr_clusters+1 */
	char label[12];
	/* One-sector caches: the FAT, and data for directory reads. */
	u64 fat_cached;          /* sector number + 1; 0: none */
	u8 fat_buf[FAT_SECTOR_MAX];
	u8 buf[FAT_SECTOR_MAX];
	char err[160];           /* the last error's message */
};

struct fat_file {
	u32 first_cluster;  /* 0: empty file (or FAT16's root directory) */
	u32 size;           /* bytes; 0 for directories */
	bool dir;
	bool root;          /* the root directory */
	char name[FAT_NAME_MAX + 1]; /* the long name if any, else the 8.3 one */
	char short_name[13];         /* "NAME.EXT" as stored */
};

/* Reads and checks the boot sector: 0 or -errno (message in v->err). */
int fat_mount(struct fat_vol *v, const struct fat_dev *dev);

/* The root directory. */
void fat_root(const struct fat_vol *v, struct fat_file *f);

/*
 * Follows an absolute path ("/guests/web.cfg"; components compared
 * without regard to ASCII case, against long and short names): 0 with
 * *f filled, or -errno (message in v->err).
 */
int fat_lookup(struct fat_vol *v, const char *path, struct fat_file *f);

/* Reads up to n bytes of file f from offset off: the count (0 at or
 * past the end), or -errno. -EINVAL when the chain ends, loops or leaves
 * the volume before the file's size. */
long fat_read(struct fat_vol *v, const struct fat_file *f, u64 off, void *buf, size_t n);

/* Calls fn for each entry of directory dir ("." and ".." skipped, deleted
 * entries and volume labels too); fn returning non-zero stops the walk
 * with that value. 0, fn's value, or -errno. */
int fat_readdir(struct fat_vol *v, const struct fat_file *dir,
		int (*fn)(void *arg, const struct fat_file *entry), void *arg);

#endif
