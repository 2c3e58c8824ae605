/*
 * dom0's mount rules (guest/dom0/fs/fs_rules.c): which GPT partitions
 * and which whole disks are FAT volumes to look at, and how /esp/... and
 * /fat/NAME/... paths name a volume and a file on it.
 *
 * unit-sources: guest/dom0/fs/fs_rules.c lib/format.c lib/string.c
 */
#include <lib/errno.h>
#include <lib/string.h>

#include "../../guest/dom0/fs/fs_rules.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

START_TEST(fat_mount_partition_kinds_by_type_guid)
{
	/* C12A7328-F81F-11D2-BA4B-00A0C93EC93B as stored (sgdisk's EF00) */
	static const u8 esp[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
				    0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
	/* EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 (0700) */
	static const u8 data[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
				     0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };
	/* 0FC63DAF-8483-4772-8E79-3D69D8477DE4, Linux data (8300) */
	static const u8 linux_data[16] = { 0xaf, 0x3d, 0xc6, 0x0f, 0x83, 0x84, 0x72, 0x47,
					   0x8e, 0x79, 0x3d, 0x69, 0xd8, 0x47, 0x7d, 0xe4 };
	u8 swapped[16];

	ck_assert_int_eq(fs_part_kind(esp), FS_PART_ESP);
	ck_assert_int_eq(fs_part_kind(data), FS_PART_BASIC_DATA);
	ck_assert_int_eq(fs_part_kind(linux_data), FS_PART_OTHER);
	/* the GUID in text order (big-endian fields) is not the ESP */
	memcpy(swapped, esp, 16);
	swapped[0] = 0xc1, swapped[1] = 0x2a, swapped[2] = 0x73, swapped[3] = 0x28;
	ck_assert_int_eq(fs_part_kind(swapped), FS_PART_OTHER);
}
END_TEST

START_TEST(fat_mount_whole_disk_needs_a_fat_boot_sector)
{
	static u8 b[512];

	memset(b, 0, sizeof(b));
	ck_assert(!fs_sector0_says_fat(b)); /* a blank disk */
	memcpy(b + 54, "FAT16   ", 8);
	ck_assert(!fs_sector0_says_fat(b)); /* no 55 AA */
	b[510] = 0x55, b[511] = 0xaa;
	ck_assert(fs_sector0_says_fat(b));
	memset(b + 54, 0, 8);
	memcpy(b + 82, "FAT32   ", 8);
	ck_assert(fs_sector0_says_fat(b));
	memcpy(b + 82, "NTFS    ", 8);
	ck_assert(!fs_sector0_says_fat(b)); /* an MBR or another file system */
}
END_TEST

START_TEST(fat_mount_paths_name_volume_and_file)
{
	char vol[16];
	const char *rest;

	ck_assert_int_eq(fs_path_split("/esp/guests/web.cfg", vol, sizeof(vol), &rest), 0);
	ck_assert_str_eq(vol, "esp");
	ck_assert_str_eq(rest, "/guests/web.cfg");
	ck_assert_int_eq(fs_path_split("/esp", vol, sizeof(vol), &rest), 0);
	ck_assert_str_eq(rest, "/");
	ck_assert_int_eq(fs_path_split("/esp/", vol, sizeof(vol), &rest), 0);
	ck_assert_str_eq(rest, "/");
	ck_assert_int_eq(fs_path_split("/fat/vdb1/images/vmlinuz", vol, sizeof(vol), &rest), 0);
	ck_assert_str_eq(vol, "vdb1");
	ck_assert_str_eq(rest, "/images/vmlinuz");
	ck_assert_int_eq(fs_path_split("/fat/nvme0n1p1", vol, sizeof(vol), &rest), 0);
	ck_assert_str_eq(vol, "nvme0n1p1");
	ck_assert_str_eq(rest, "/");
	/* not under a mount */
	ck_assert_int_eq(fs_path_split("/boot/pvtest", vol, sizeof(vol), &rest), -EINVAL);
	ck_assert_int_eq(fs_path_split("/espx/a", vol, sizeof(vol), &rest), -EINVAL);
	ck_assert_int_eq(fs_path_split("/fat", vol, sizeof(vol), &rest), -EINVAL);
	ck_assert_int_eq(fs_path_split("/fat/", vol, sizeof(vol), &rest), -EINVAL);
	ck_assert_int_eq(fs_path_split("/fat//a", vol, sizeof(vol), &rest), -EINVAL);
	ck_assert_int_eq(fs_path_split("esp/a", vol, sizeof(vol), &rest), -EINVAL);
	/* a volume name longer than any blkdev's */
	ck_assert_int_eq(fs_path_split("/fat/0123456789abcdef/a", vol, sizeof(vol), &rest),
			 -ENAMETOOLONG);
	ck_assert_int_eq(fs_path_split("/fat/0123456789abcde/a", vol, sizeof(vol), &rest), 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "fat-mount-partition-kinds-by-type-guid", &fat_mount_partition_kinds_by_type_guid_ttest },
	{ "fat-mount-whole-disk-needs-a-fat-boot-sector",
	  &fat_mount_whole_disk_needs_a_fat_boot_sector_ttest },
	{ "fat-mount-paths-name-volume-and-file", &fat_mount_paths_name_volume_and_file_ttest },
	{ 0 },
};
