/*
 * The FAT reader (guest/dom0/fs/fat.c) on images made by the real tools
 * (mkfs.fat and mtools, as an admin would prepare an ESP), then the same
 * images damaged in each way the reader must refuse.
 *
 * unit-sources: guest/dom0/fs/fat.c lib/format.c lib/string.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <lib/errno.h>
#include <lib/string.h>

#include "../../guest/dom0/fs/fat.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static u8 *img;
static size_t img_size;
static struct fat_vol vol;
static unsigned reads;

static int mem_read(void *ctx, u64 sector, u32 count, void *buf)
{
	(void)ctx;
	reads++;
	ck_assert_msg((sector + count) * 512 <= img_size, "read past the image: %lu+%u",
		      (unsigned long)sector, count);
	memcpy(buf, img + sector * 512, (size_t)count * 512);
	return 0;
}

static int mount(void)
{
	struct fat_dev d = { mem_read, NULL, img_size / 512, 512 };
	return fat_mount(&vol, &d);
}

static void sh(const char *cmd)
{
	char full[600];
	/* mkfs.fat lives in /usr/sbin, which a user's PATH may lack */
	snprintf(full, sizeof(full), "PATH=$PATH:/usr/sbin:/sbin; %s", cmd);
	ck_assert_msg(system(full) == 0, "failed: %s", cmd);
}

/* A pattern file of n bytes at path. */
static void pattern_file(const char *path, size_t n, unsigned seed)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < n; i++)
		fputc((int)((i * 131 + seed) & 0xff), f);
	fclose(f);
}

static bool pattern_ok(const u8 *p, size_t n, u64 off, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (u8)(((off + i) * 131 + seed) & 0xff))
			return false;
	return true;
}

static char dir[64];
#define CFG_TEXT "name = \"web\"\nkernel = \"/boot/vmlinuz\"\n"

/*
 * An image of `mib` MiB formatted with `mkfs_args`, holding
 * /guests/web-server.cfg (a long name), /EFI/BOOT/BOOTX64.EFI, /big.bin
 * (spanning many clusters) and /empty.
 */
static void make_image(unsigned mib, const char *mkfs_args)
{
	char cmd[512], path[128];

	snprintf(dir, sizeof(dir), "/tmp/keel-fat-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "cd %s && truncate -s %uM img && mkfs.fat %s -n KEELESP img >/dev/null",
		 dir, mib, mkfs_args);
	sh(cmd);
	snprintf(path, sizeof(path), "%s/cfg", dir);
	FILE *f = fopen(path, "w");
	fputs(CFG_TEXT, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/big", dir);
	pattern_file(path, 300001, 7);
	snprintf(path, sizeof(path), "%s/efi", dir);
	pattern_file(path, 5000, 3);
	snprintf(path, sizeof(path), "%s/empty", dir);
	fclose(fopen(path, "w"));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && mmd -i img ::/guests ::/EFI ::/EFI/BOOT && mcopy -i img cfg ::/guests/web-server.cfg"
		 " && mcopy -i img efi ::/EFI/BOOT/BOOTX64.EFI && mcopy -i img big ::/big.bin"
		 " && mcopy -i img empty ::/empty",
		 dir);
	sh(cmd);
	snprintf(path, sizeof(path), "%s/img", dir);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	img_size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	img = malloc(img_size);
	ck_assert_uint_eq(fread(img, 1, img_size, f), img_size);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	sh(cmd);
}

static void check_contents(void)
{
	struct fat_file f;
	static u8 buf[400000];

	ck_assert_int_eq(mount(), 0);
	ck_assert_str_eq(vol.label, "KEELESP");
	ck_assert_int_eq(fat_lookup(&vol, "/guests/web-server.cfg", &f), 0);
	ck_assert_str_eq(f.name, "web-server.cfg");
	ck_assert_uint_eq(f.size, strlen(CFG_TEXT));
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, sizeof(buf)), (long)strlen(CFG_TEXT));
	ck_assert(!memcmp(buf, CFG_TEXT, strlen(CFG_TEXT)));
	/* case-insensitive, short names too */
	ck_assert_int_eq(fat_lookup(&vol, "/efi/boot/bootx64.efi", &f), 0);
	ck_assert_uint_eq(f.size, 5000);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, sizeof(buf)), 5000);
	ck_assert(pattern_ok(buf, 5000, 0, 3));
	ck_assert_int_eq(fat_lookup(&vol, "/big.bin", &f), 0);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, sizeof(buf)), 300001);
	ck_assert(pattern_ok(buf, 300001, 0, 7));
	/* from the middle, across cluster ends, and past the end */
	ck_assert_int_eq(fat_read(&vol, &f, 123457, buf, 70000), 70000);
	ck_assert(pattern_ok(buf, 70000, 123457, 7));
	ck_assert_int_eq(fat_read(&vol, &f, 300000, buf, 10), 1);
	ck_assert_int_eq(fat_read(&vol, &f, 300001, buf, 10), 0);
	ck_assert_int_eq(fat_lookup(&vol, "/empty", &f), 0);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, 10), 0);
	/* path errors */
	ck_assert_int_eq(fat_lookup(&vol, "/guests/nope.cfg", &f), -ENOENT);
	ck_assert_str_eq(vol.err, "'/guests/nope.cfg': no nope.cfg");
	ck_assert_int_eq(fat_lookup(&vol, "/big.bin/x", &f), -ENOTDIR);
	ck_assert_int_eq(fat_lookup(&vol, "guests", &f), -EINVAL);
	ck_assert_int_eq(fat_lookup(&vol, "/guests", &f), 0);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, 10), -EISDIR);
}

START_TEST(fat32_image_from_mkfs_reads_back)
{
	make_image(40, "-F 32 -s 1");
	check_contents();
	ck_assert_uint_eq(vol.bits, 32);
	free(img);
}
END_TEST

START_TEST(fat16_image_from_mkfs_reads_back)
{
	make_image(16, "-F 16");
	check_contents();
	ck_assert_uint_eq(vol.bits, 16);
	free(img);
}
END_TEST

/* The cluster of /big.bin and the byte offset of its FAT entry (FAT32). */
static u32 big_cluster(void)
{
	struct fat_file f;
	ck_assert_int_eq(mount(), 0);
	ck_assert_int_eq(fat_lookup(&vol, "/big.bin", &f), 0);
	return f.first_cluster;
}

static size_t fat_entry_at(u32 c)
{
	return (size_t)vol.reserved * vol.bytes_per_sector + (size_t)c * 4;
}

START_TEST(fat_damaged_images_are_refused)
{
	static u8 buf[400000];
	struct fat_file f;
	u8 save[512];

	make_image(40, "-F 32 -s 1");
	memcpy(save, img, 512);

	img[510] = 0;
	ck_assert_int_eq(mount(), -EINVAL);
	ck_assert_str_eq(vol.err, "no boot sector signature (55 aa at byte 510)");
	memcpy(img, save, 512);

	img[11] = 0x00, img[12] = 0x03; /* 768 bytes per sector */
	ck_assert_int_eq(mount(), -EINVAL);
	memcpy(img, save, 512);

	img[13] = 3; /* sectors per cluster not a power of two */
	ck_assert_int_eq(mount(), -EINVAL);
	memcpy(img, save, 512);

	/* a volume claiming more sectors than the device has */
	u32 big = (u32)(img_size / 512) * 2;
	memcpy(img + 32, &big, 4);
	ck_assert_int_eq(mount(), -EINVAL);
	ck_assert_msg(strstr(vol.err, "claims"), "%s", vol.err);
	memcpy(img, save, 512);

	/* the root cluster outside the volume */
	u32 rc = 0x0fffff00;
	memcpy(img + 44, &rc, 4);
	ck_assert_int_eq(mount(), -EINVAL);
	memcpy(img, save, 512);

	/* exFAT */
	memcpy(img + 3, "EXFAT   ", 8);
	ck_assert_int_eq(mount(), -EOPNOTSUPP);
	memcpy(img, save, 512);

	/* a FAT chain that loops back on itself */
	u32 c = big_cluster(), next;
	size_t at = fat_entry_at(c + 3);
	memcpy(&next, img + at, 4);
	memcpy(img + at, &c, 4); /* the 4th cluster points back at the 1st */
	ck_assert_int_eq(mount(), 0);
	ck_assert_int_eq(fat_lookup(&vol, "/big.bin", &f), 0);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, sizeof(buf)), -EINVAL);
	ck_assert_msg(strstr(vol.err, "loops"), "%s", vol.err);
	/* a chain pointing outside the volume */
	u32 out = vol.nr_clusters + 5;
	memcpy(img + at, &out, 4);
	ck_assert_int_eq(mount(), 0);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, sizeof(buf)), -EINVAL);
	ck_assert_msg(strstr(vol.err, "outside the volume"), "%s", vol.err);
	/* a chain ending before the file's size */
	u32 eoc = 0x0fffffff;
	memcpy(img + at, &eoc, 4);
	ck_assert_int_eq(mount(), 0);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, sizeof(buf)), -EINVAL);
	ck_assert_msg(strstr(vol.err, "chain ends before"), "%s", vol.err);
	/* a free entry in the chain */
	u32 zero = 0;
	memcpy(img + at, &zero, 4);
	ck_assert_int_eq(mount(), 0);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, sizeof(buf)), -EINVAL);
	memcpy(img + at, &next, 4);
	ck_assert_int_eq(mount(), 0);
	ck_assert_int_eq(fat_read(&vol, &f, 0, buf, sizeof(buf)), 300001);

	/* a directory entry whose cluster is outside the volume */
	ck_assert_int_eq(fat_lookup(&vol, "/guests", &f), 0);
	u64 root = vol.data_sector + (u64)(vol.root_cluster - 2) * vol.sectors_per_cluster;
	u8 *e = img + root * 512;
	bool patched = false;
	for (int i = 0; i < 16 && !patched; i++, e += 32)
		if (!memcmp(e, "BIG     BIN", 11)) {
			e[20] = 0xff, e[21] = 0x0f;
			patched = true;
		}
	ck_assert(patched);
	ck_assert_int_eq(fat_lookup(&vol, "/big.bin", &f), -EINVAL);
	ck_assert_msg(strstr(vol.err, "first cluster"), "%s", vol.err);
	free(img);
}
END_TEST

START_TEST(fat12_and_tiny_devices_are_refused_with_a_reason)
{
	make_image(2, "-F 12");
	ck_assert_int_eq(mount(), -EOPNOTSUPP);
	ck_assert_msg(strstr(vol.err, "FAT12"), "%s", vol.err);
	/* a device shorter than one read: the reader never reads past it */
	struct fat_dev d = { mem_read, NULL, 1, 512 };
	memset(img + 11, 0, 2);
	ck_assert_int_eq(fat_mount(&vol, &d), -EINVAL);
	free(img);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "fat-32-image-from-mkfs-reads-back", &fat32_image_from_mkfs_reads_back_ttest },
	{ "fat-16-image-from-mkfs-reads-back", &fat16_image_from_mkfs_reads_back_ttest },
	{ "fat-damaged-images-are-refused", &fat_damaged_images_are_refused_ttest },
	{ "fat-12-and-tiny-devices-are-refused-with-a-reason",
	  &fat12_and_tiny_devices_are_refused_with_a_reason_ttest },
	{ 0 },
};
