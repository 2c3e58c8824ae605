/*
 * The FAT volumes on dom0's disks as /esp and /fat/NAME (contract in
 * mount.h). Which partitions are looked at comes from their GPT type
 * (UEFI 2.10 section 5.3.3: the EFI system partition; Microsoft's basic
 * data type for FAT volumes other systems make); a disk without a GPT is
 * looked at when its sector 0 carries a FAT boot sector's file-system
 * type field ("FAT" at byte 54 for FAT12/16, 82 for FAT32), so a raw
 * disk of some other kind is left alone without a complaint.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "guest.h"
#include "pages.h"
#include "block/blkdev.h"
#include "fat.h"
#include "fs_rules.h"
#include "mount.h"
#include "storage/partition.h"

#define MOUNT_MAX 8
#define REFUSED_MAX 8

struct mount {
	char name[16];      /* "esp", or the blkdev's name under /fat */
	struct blkdev *bd;
	bool esp;
	struct fat_vol vol;
};

static struct mount mounts[MOUNT_MAX];
static unsigned nr_mounts;
static bool scanned;
/* Volumes refused at boot: "vda1: <why>", said again to whoever names
 * /esp (an ESP) or /fat/NAME. */
static struct {
	char name[16];
	bool esp;
	char why[200];
} refused[REFUSED_MAX];
static unsigned nr_refused;
static u8 *bounce; /* one sector of DMA-able memory (dom0 is 1:1) */

/* fat_dev.read: the blkdev's sectors one at a time through the bounce
 * buffer (fat.c asks for one FAT sector per call). */
static int dev_read(void *ctx, u64 sector, u32 count, void *buf)
{
	struct blkdev *bd = ctx;

	for (u32 i = 0; i < count; i++) {
		int rc = blk_sync(bd, BLK_READ, sector + i, 1, bounce);
		if (rc)
			return rc;
		memcpy((u8 *)buf + (size_t)i * bd->sector_size, bounce, bd->sector_size);
	}
	return 0;
}

/* A whole disk's sector 0 is a FAT boot sector (fs_rules.h). */
static bool looks_fat(struct blkdev *bd)
{
	return !blk_sync(bd, BLK_READ, 0, 1, bounce) && fs_sector0_says_fat(bounce);
}

static bool has_partitions(struct blkdev *disk)
{
	struct blkdev *owner;

	for (unsigned i = 0; i < blkdev_count(); i++)
		if (partition_info(blkdev_get(i), &owner) && owner == disk)
			return true;
	return false;
}

static bool holds_keel_cfg(struct mount *m)
{
	struct fat_file f;

	return !fat_lookup(&m->vol, "/keel.cfg", &f) && !f.dir;
}

static void try_mount(struct blkdev *bd, bool esp)
{
	if (nr_mounts == MOUNT_MAX) {
		printf("dom0: fs: %s not mounted: %u volumes already\n", bd->name, MOUNT_MAX);
		return;
	}
	struct mount *m = &mounts[nr_mounts];
	struct fat_dev dev = { dev_read, bd, bd->sectors, bd->sector_size };
	int rc = fat_mount(&m->vol, &dev);
	if (rc) {
		printf("dom0: fs: %s%s refused: %s\n", bd->name, esp ? " (EFI system partition)" : "",
		       m->vol.err);
		if (nr_refused < REFUSED_MAX) {
			snprintf(refused[nr_refused].name, sizeof(refused[0].name), "%s", bd->name);
			refused[nr_refused].esp = esp;
			snprintf(refused[nr_refused].why, sizeof(refused[0].why), "%s", m->vol.err);
			nr_refused++;
		}
		return;
	}
	m->bd = bd;
	m->esp = esp;
	snprintf(m->name, sizeof(m->name), "%s", bd->name);
	nr_mounts++;
}

unsigned fs_mount_all(void)
{
	if (scanned)
		return nr_mounts;
	scanned = true;
	bounce = pages_alloc(1, 0);
	if (!bounce) {
		puts("dom0: fs: no memory for the read buffer: nothing mounted");
		return 0;
	}
	for (unsigned i = 0; i < blkdev_count(); i++) {
		struct blkdev *bd = blkdev_get(i);
		const struct gpt_part *gp = partition_info(bd, NULL);
		if (bd->failed || bd->sector_size > FAT_SECTOR_MAX)
			continue;
		if (gp) {
			enum fs_part_kind kind = fs_part_kind(gp->type_guid);
			if (kind != FS_PART_OTHER)
				try_mount(bd, kind == FS_PART_ESP);
		} else if (!has_partitions(bd) && looks_fat(bd)) {
			try_mount(bd, false);
		}
	}
	/* /esp: the first ESP holding keel.cfg, else the first ESP. */
	struct mount *esp = NULL;
	for (unsigned i = 0; i < nr_mounts && !esp; i++)
		if (mounts[i].esp && holds_keel_cfg(&mounts[i]))
			esp = &mounts[i];
	for (unsigned i = 0; i < nr_mounts && !esp; i++)
		if (mounts[i].esp)
			esp = &mounts[i];
	if (esp)
		snprintf(esp->name, sizeof(esp->name), "esp");
	for (unsigned i = 0; i < nr_mounts; i++) {
		struct mount *m = &mounts[i];
		printf("dom0: fs: %s%s: FAT%u, label \"%s\", %u clusters of %u bytes\n",
		       m == esp ? "/esp on " : "/fat/", m->bd->name, m->vol.bits, m->vol.label,
		       m->vol.nr_clusters, m->vol.cluster_bytes);
	}
	return nr_mounts;
}

bool fs_path_is_mounted_fs(const char *path)
{
	return !strncmp(path, "/esp/", 5) || !strcmp(path, "/esp") || !strncmp(path, "/fat/", 5) ||
	       !strcmp(path, "/fat");
}

/* The mount a path names and the path inside it ("/" for its root): the
 * mount, or NULL with the reason in err. */
static struct mount *resolve(const char *path, const char **rest, char *err, size_t errlen)
{
	char name[sizeof(mounts[0].name)];
	bool esp;

	fs_mount_all();
	int rc = fs_path_split(path, name, sizeof(name), rest);
	if (rc) {
		snprintf(err, errlen, rc == -ENAMETOOLONG ? "%s: no such FAT volume under /fat" :
			 "%s: not under /esp or /fat/NAME", path);
		return NULL;
	}
	esp = !strncmp(path, "/esp", 4);
	for (unsigned i = 0; i < nr_mounts; i++) /* "/fat/esp" is not /esp */
		if (!strcmp(mounts[i].name, name) && (esp || strcmp(name, "esp")))
			return &mounts[i];
	for (unsigned i = 0; i < nr_refused; i++)
		if (esp ? refused[i].esp : !strcmp(refused[i].name, name)) {
			if (esp)
				snprintf(err, errlen, "%s: the EFI system partition %s was refused: %s",
					 path, refused[i].name, refused[i].why);
			else
				snprintf(err, errlen, "%s: the file system on %s was refused: %s", path,
					 name, refused[i].why);
			return NULL;
		}
	if (esp)
		snprintf(err, errlen, "%s: no EFI system partition on dom0's disks", path);
	else
		snprintf(err, errlen, "%s: no FAT volume %s (ls /fat shows them)", path, name);
	return NULL;
}

/* The file `path` names: its mount, or NULL with rc and err set. */
static struct mount *find_file(const char *path, struct fat_file *f, int *rc, char *err,
			       size_t errlen)
{
	const char *rest;
	struct mount *m = resolve(path, &rest, err, errlen);

	*rc = -ENOENT;
	if (!m)
		return NULL;
	if ((*rc = fat_lookup(&m->vol, rest, f))) {
		snprintf(err, errlen, "%s: %s", path, m->vol.err);
		return NULL;
	}
	if (f->dir) {
		snprintf(err, errlen, "%s: is a directory", path);
		*rc = -EISDIR;
		return NULL;
	}
	if (f->size > FS_FILE_MAX) {
		snprintf(err, errlen, "%s: %u bytes, more than the %lu MiB dom0 reads", path, f->size,
			 FS_FILE_MAX >> 20);
		*rc = -E2BIG;
		return NULL;
	}
	return m;
}

int fs_stat(const char *path, u64 *size, char *err, size_t errlen)
{
	struct fat_file f;
	int rc;

	if (!find_file(path, &f, &rc, err, errlen))
		return rc;
	*size = f.size;
	return 0;
}

int fs_read_file(const char *path, void **data, u64 *size, char *err, size_t errlen)
{
	struct fat_file f;
	int rc;
	struct mount *m = find_file(path, &f, &rc, err, errlen);

	if (!m)
		return rc;
	u64 pages = ((u64)f.size + PAGE_SIZE - 1) / PAGE_SIZE;
	void *buf = pages_alloc(pages ? pages : 1, 0);
	if (!buf) {
		snprintf(err, errlen, "%s: no memory in dom0 for its %u bytes", path, f.size);
		return -ENOMEM;
	}
	long got = fat_read(&m->vol, &f, 0, buf, f.size);
	if (got != (long)f.size) {
		pages_free(buf, pages ? pages : 1);
		snprintf(err, errlen, "%s: %s", path, got < 0 ? m->vol.err : "read short");
		return got < 0 ? (int)got : -EIO;
	}
	*data = buf;
	*size = f.size;
	return 0;
}

void fs_file_free(void *data, u64 size)
{
	u64 pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;

	if (data)
		pages_free(data, pages ? pages : 1);
}

static int print_entry(void *arg, const struct fat_file *e)
{
	(void)arg;
	if (e->dir)
		printf("%12s  %s/\n", "<DIR>", e->name);
	else
		printf("%12u  %s\n", e->size, e->name);
	return 0;
}

int fs_list(const char *path)
{
	char err[256];
	const char *rest;
	struct fat_file f;
	int rc;

	fs_mount_all();
	if (!strcmp(path, "/fat") || !strcmp(path, "/fat/")) {
		for (unsigned i = 0; i < nr_mounts; i++)
			if (strcmp(mounts[i].name, "esp"))
				printf("%12s  %s/   (FAT%u \"%s\")\n", "<DIR>", mounts[i].name,
				       mounts[i].vol.bits, mounts[i].vol.label);
		return 0;
	}
	struct mount *m = resolve(path, &rest, err, sizeof(err));
	if (!m) {
		printf("ls: %s\n", err);
		return -ENOENT;
	}
	if ((rc = fat_lookup(&m->vol, rest, &f))) {
		printf("ls: %s: %s\n", path, m->vol.err);
		return rc;
	}
	if (!f.dir)
		return print_entry(NULL, &f);
	if ((rc = fat_readdir(&m->vol, &f, print_entry, NULL)) < 0) {
		printf("ls: %s: %s\n", path, m->vol.err);
		return rc;
	}
	return 0;
}
