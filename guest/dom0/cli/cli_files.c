/*
 * Where the CLI's files come from (contract in cli.h). Today: the boot
 * modules, as /boot/NAME (keel.cfg `module NAME PATH`), read-only in
 * dom0's memory. FAT file systems on dom0's disks (fs/fat.h) are next.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "cli.h"
#include "domain/domain.h"

int cli_file(const struct hvm_start_info *si, const char *path, const void **data, u64 *size,
	     char *err, size_t errlen)
{
	if (strncmp(path, "/boot/", 6) || !path[6] || strchr(path + 6, '/')) {
		snprintf(err, errlen, "%s: files are /boot/NAME (the boot modules) for now", path);
		return -EINVAL;
	}
	if (dom_module_find(si, path + 6, data, size)) {
		snprintf(err, errlen, "%s: no boot module named %s (keel.cfg: module %s PATH)", path,
			 path + 6, path + 6);
		return -ENOENT;
	}
	return 0;
}
