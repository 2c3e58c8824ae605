/*
 * Where the CLI's files come from (contract in cli.h): the boot modules
 * as /boot/NAME (keel.cfg `module NAME PATH`), read-only in dom0's
 * memory, and the FAT volumes on dom0's disks as /esp/... and
 * /fat/NAME/... (fs/mount.h), read into pages of their own.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "cli.h"
#include "guest.h"
#include "domain/domain.h"
#include "fs/mount.h"

/* /boot/NAME: the module, or -errno with the reason in err. */
static int boot_module(const struct hvm_start_info *si, const char *path, const void **data,
		       u64 *size, char *err, size_t errlen)
{
	if (strncmp(path, "/boot/", 6) || !path[6] || strchr(path + 6, '/')) {
		snprintf(err, errlen, "%s: files are /boot/NAME (the boot modules), /esp/PATH (the "
			 "EFI system partition) or /fat/DISK/PATH", path);
		return -EINVAL;
	}
	if (dom_module_find(si, path + 6, data, size)) {
		snprintf(err, errlen, "%s: no boot module named %s (keel.cfg: module %s PATH)", path,
			 path + 6, path + 6);
		return -ENOENT;
	}
	return 0;
}

int cli_file(const struct hvm_start_info *si, const char *path, const void **data, u64 *size,
	     char *err, size_t errlen)
{
	if (fs_path_is_mounted_fs(path)) {
		void *buf;
		int rc = fs_read_file(path, &buf, size, err, errlen);
		if (!rc)
			*data = buf;
		return rc;
	}
	return boot_module(si, path, data, size, err, errlen);
}

int cli_file_check(const struct hvm_start_info *si, const char *path, char *err, size_t errlen)
{
	const void *data;
	u64 size;

	if (fs_path_is_mounted_fs(path))
		return fs_stat(path, &size, err, errlen);
	return boot_module(si, path, &data, &size, err, errlen);
}

void cli_file_put(const struct hvm_start_info *si, const void *data, u64 size)
{
	unsigned n;
	const struct hvm_modlist_entry *m = si_modules(si, &n);

	if (!data)
		return;
	for (unsigned i = 0; i < n; i++)
		if ((uintptr_t)data == m[i].paddr)
			return; /* a boot module: dom0's for good */
	fs_file_free((void *)(uintptr_t)data, size);
}

int cli_ls(const struct hvm_start_info *si, const char *path)
{
	unsigned n;
	const struct hvm_modlist_entry *m = si_modules(si, &n);

	if (!*path || !strcmp(path, "/")) {
		puts("       <DIR>  boot/   (the boot modules)");
		puts("       <DIR>  esp/    (the EFI system partition)");
		puts("       <DIR>  fat/    (other FAT volumes)");
		return 0;
	}
	if (!strcmp(path, "/boot") || !strcmp(path, "/boot/")) {
		for (unsigned i = 0; i < n; i++) {
			const char *c = si_module_cmdline(&m[i]);
			size_t len = 0;
			while (c[len] && c[len] != ' ')
				len++;
			if (len)
				printf("%12lu  %.*s\n", m[i].size, (int)len, c);
		}
		return 0;
	}
	if (fs_path_is_mounted_fs(path))
		return fs_list(path);
	if (!strncmp(path, "/boot/", 6)) {
		const void *data;
		u64 size;
		if (dom_module_find(si, path + 6, &data, &size)) {
			printf("ls: %s: no boot module named %s\n", path, path + 6);
			return -ENOENT;
		}
		printf("%12lu  %s\n", size, path + 6);
		return 0;
	}
	printf("ls: %s: not under /boot, /esp or /fat\n", path);
	return -ENOENT;
}
