/*
 * keel.cfg: the UEFI loader's configuration file (format: docs/design.md,
 * "keel.cfg"; summary in docs/boot.md).
 *
 * The parser is freestanding -- no libc, no gnu-efi, no lib/ -- so the
 * same object links into the UEFI loader and into the host unit tests
 * (tests/unit/test_cfg.c).
 */
#ifndef KEEL_BOOT_CFG_H
#define KEEL_BOOT_CFG_H

#include <keel/boot_info.h>
#include <lib/types.h>

#define CFG_LINE_MAX 1024 /* bytes per line, without the line ending */
#define CFG_PATH_MAX 256  /* bytes per module path, with the NUL */
#define CFG_ERR_MAX 160   /* a buffer this size holds any cfg_parse() error */

struct keel_cfg_module {
	char name[BOOT_NAME_MAX];             /* [A-Za-z0-9._-]{1,31} */
	char path[CFG_PATH_MAX];              /* as written: '/' or '\' separators */
	char cmdline[BOOT_MOD_CMDLINE_MAX];   /* "" when the line has none */
	u32 line;                             /* for the loader's error messages */
};

struct keel_cfg {
	char cmdline[BOOT_CMDLINE_MAX]; /* "" without a cmdline line */
	u32 nr_modules;
	struct keel_cfg_module modules[BOOT_MODULES_MAX]; /* in file order */
};

/*
 * Parse the `len` bytes at `text` (need not be NUL-terminated) into `*out`.
 *
 * Returns 0, or a negative errno with a one-line message in `err` (always
 * NUL-terminated when errlen > 0, truncated to errlen - 1 characters):
 *   -EINVAL        syntax: unknown directive, missing field, bad name
 *                  character, second cmdline line, control character
 *   -ENAMETOOLONG  a line, module name, path or command line is too long
 *   -EEXIST        two modules with the same name
 *   -E2BIG         more than BOOT_MODULES_MAX modules
 *   -ENOENT        no module named "dom0"
 * Messages read "keel.cfg:LINE: what is wrong", or "keel.cfg: ..." for the
 * missing dom0, which belongs to no line. `*out` is undefined on error.
 */
int cfg_parse(const char *text, size_t len, struct keel_cfg *out, char *err,
	      size_t errlen);

/* The module named `name`, or NULL. */
const struct keel_cfg_module *cfg_find_module(const struct keel_cfg *cfg,
					      const char *name);

#endif
