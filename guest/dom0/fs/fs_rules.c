/*
 * The mount rules that need no disk (contract in fs_rules.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "fs_rules.h"

/* As stored: the GUIDs' first three fields are little-endian. */
static const u8 esp_type[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
				 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
static const u8 basic_data_type[16] = { 0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
					0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7 };

enum fs_part_kind fs_part_kind(const u8 type_guid[16])
{
	if (!memcmp(type_guid, esp_type, 16))
		return FS_PART_ESP;
	if (!memcmp(type_guid, basic_data_type, 16))
		return FS_PART_BASIC_DATA;
	return FS_PART_OTHER;
}

bool fs_sector0_says_fat(const u8 *b)
{
	if (b[510] != 0x55 || b[511] != 0xaa)
		return false;
	/* BS_FilSysType: informational only (the FAT spec decides the type
	 * by cluster count, as fat_mount does), but what mkfs.fat and every
	 * formatter write, and absent from other file systems' sector 0. */
	return !memcmp(b + 54, "FAT", 3) || !memcmp(b + 82, "FAT", 3);
}

int fs_path_split(const char *path, char *vol, size_t volsize, const char **rest)
{
	const char *name, *end;

	if (!strncmp(path, "/esp", 4) && (path[4] == '/' || !path[4])) {
		name = "esp";
		end = name + 3;
		*rest = path[4] ? path + 4 : "/";
	} else if (!strncmp(path, "/fat/", 5) && path[5] && path[5] != '/') {
		name = path + 5;
		for (end = name; *end && *end != '/'; end++)
			;
		*rest = *end ? end : "/";
	} else {
		return -EINVAL;
	}
	if ((size_t)(end - name) >= volsize)
		return -ENAMETOOLONG;
	memcpy(vol, name, (size_t)(end - name));
	vol[end - name] = 0;
	return 0;
}
