/*
 * A FAT file system from a disk dom0 owns, every byte of it hostile
 * (guest/dom0/fs/fat.c).
 *
 * unit-sources: guest/dom0/fs/fat.c lib/format.c lib/string.c
 *
 * Input: the volume's first bytes (the rest of a 64 MiB volume reads as
 * zeros; reads are checked against the device's size). The harness
 * mounts it, walks the tree from the root (depth 4, 64 entries per
 * directory), reads every file it finds from a few offsets, and looks up
 * a few paths. Invariants: every call returns 0, a count within the
 * buffer, or a negative errno with a message; nothing is read outside
 * the device (checked in the callback) or outside any buffer (ASan); and
 * it all ends (a loop would time out).
 */
#include <lib/errno.h>
#include "../../guest/dom0/fs/fat.h"

#include "fuzz.h"

#define DEV_SECTORS (64u * 2048)

static const u8 *in_data;
static size_t in_size;

static int dev_read(void *ctx, u64 sector, u32 count, void *buf)
{
	(void)ctx;
	fuzz_check(sector + count <= DEV_SECTORS, "read of %u sectors at %lu past the device", count,
		   (unsigned long)sector);
	for (u32 i = 0; i < count * 512; i++) {
		u64 at = sector * 512 + i;
		((u8 *)buf)[i] = at < in_size ? in_data[at] : 0;
	}
	return 0;
}

static struct fat_vol vol;
static u8 buf[8192];
static unsigned visited;

static int visit(void *arg, const struct fat_file *e);

static void walk(const struct fat_file *dir, unsigned depth)
{
	if (depth > 4)
		return;
	int rc = fat_readdir(&vol, dir, visit, &depth);
	fuzz_check(rc <= 1, "readdir returned %d", rc);
	if (rc < 0)
		fuzz_check(vol.err[0], "error %d without a message", rc);
}

static int visit(void *arg, const struct fat_file *e)
{
	unsigned depth = *(unsigned *)arg;

	fuzz_check(strlen(e->name) <= FAT_NAME_MAX && strlen(e->short_name) < 13, "names");
	if (++visited > 256)
		return 1;
	if (e->dir) {
		struct fat_file copy = *e;
		walk(&copy, depth + 1);
	} else {
		static const u64 offs[] = { 0, 511, 4096, 65537 };
		for (unsigned i = 0; i < 4; i++) {
			long n = fat_read(&vol, e, offs[i], buf, sizeof(buf));
			fuzz_check(n <= (long)sizeof(buf), "read %ld", n);
			if (n < 0)
				fuzz_check(vol.err[0], "error %ld without a message", n);
		}
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fat_dev d = { dev_read, NULL, DEV_SECTORS, 512 };
	struct fat_file f;

	in_data = data;
	in_size = size;
	visited = 0;
	int rc = fat_mount(&vol, &d);
	if (rc) {
		fuzz_check(rc < 0 && vol.err[0], "mount %d without a message", rc);
		return 0;
	}
	fat_root(&vol, &f);
	walk(&f, 0);
	static const char *const paths[] = { "/EFI/BOOT/BOOTX64.EFI", "/guests/web.cfg", "/a/b/c/d" };
	for (unsigned i = 0; i < 3; i++) {
		rc = fat_lookup(&vol, paths[i], &f);
		fuzz_check(rc == 0 || (rc < 0 && vol.err[0]), "lookup %d", rc);
		if (!rc && !f.dir)
			fuzz_check(fat_read(&vol, &f, 0, buf, sizeof(buf)) <= (long)sizeof(buf), "read");
	}
	return 0;
}
