/*
 * keel.cfg (boot/common/cfg.c): whatever bytes are on the boot medium.
 *
 * unit-sources: boot/common/cfg.c
 *
 * Checks cfg.h's contract on every input: a result inside the documented
 * errors, an error message NUL-terminated inside any errlen, and on
 * success a configuration whose strings fit their arrays, whose module
 * names are unique and legal, and which has a dom0.
 */
#include <lib/errno.h>

#include "cfg.h"
#include "fuzz.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static void check_string(const char *s, size_t size, const char *what)
{
	fuzz_check(memchr(s, 0, size) != NULL, "%s not NUL-terminated in its %zu bytes", what,
		   size);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct keel_cfg cfg;
	char err[CFG_ERR_MAX + 1];
	int rc;

	memset(&cfg, 0x5a, sizeof(cfg));
	memset(err, 0x5a, sizeof(err));
	rc = cfg_parse((const char *)data, size, &cfg, err, CFG_ERR_MAX);
	fuzz_check(err[CFG_ERR_MAX] == 0x5a, "wrote past errlen");
	check_string(err, CFG_ERR_MAX, "err");
	if (rc) {
		fuzz_check(rc == -EINVAL || rc == -ENAMETOOLONG || rc == -EEXIST || rc == -E2BIG ||
				   rc == -ENOENT,
			   "undocumented error %d", rc);
		fuzz_check(strncmp(err, "keel.cfg", 8) == 0, "message \"%s\"", err);
	} else {
		fuzz_check(err[0] == 0, "success with message \"%s\"", err);
		check_string(cfg.cmdline, sizeof(cfg.cmdline), "cmdline");
		fuzz_check(cfg.nr_modules >= 1 && cfg.nr_modules <= BOOT_MODULES_MAX,
			   "%u modules", cfg.nr_modules);
		for (u32 i = 0; i < cfg.nr_modules; i++) {
			const struct keel_cfg_module *m = &cfg.modules[i];

			check_string(m->name, sizeof(m->name), "module name");
			check_string(m->path, sizeof(m->path), "module path");
			check_string(m->cmdline, sizeof(m->cmdline), "module cmdline");
			fuzz_check(m->name[0] && m->path[0], "module %u: empty name or path", i);
			for (const char *c = m->name; *c; c++)
				fuzz_check(name_char(*c), "module name \"%s\"", m->name);
			for (u32 j = 0; j < i; j++)
				fuzz_check(strcmp(cfg.modules[j].name, m->name) != 0,
					   "two modules named %s", m->name);
			fuzz_check(cfg_find_module(&cfg, m->name) == m, "cfg_find_module(%s)",
				   m->name);
		}
		fuzz_check(cfg_find_module(&cfg, "dom0") != NULL, "no dom0 module");
	}

	/* Every errlen, 0 included, bounds the message. */
	size_t errlen = size % (CFG_ERR_MAX + 1);
	memset(err, 0x5a, sizeof(err));
	int rc2 = cfg_parse((const char *)data, size, &cfg, err, errlen);
	fuzz_check(rc2 == rc, "rc %d with errlen %zu, %d with %d", rc2, errlen, rc, CFG_ERR_MAX);
	fuzz_check(err[errlen] == 0x5a, "errlen %zu: wrote past it", errlen);
	if (errlen)
		check_string(err, errlen, "short err");
	return 0;
}
