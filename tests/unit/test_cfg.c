/*
 * keel.cfg parser: parsed values and the exact error lines users will see.
 *
 * unit-sources: boot/common/cfg.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/errno.h>

#include "cfg.h"
#include "unit.h"

/*
 * START_TEST(fn) defines `static const TTest *fn = &fn_ttest`: a variable,
 * which a file-scope initialiser cannot read, so unit_cases[] below takes
 * &fn_ttest and the pointer variables go unused.
 */
#pragma GCC diagnostic ignored "-Wunused-variable"

static struct keel_cfg cfg;
static char err[CFG_ERR_MAX];

/* Parse a NUL-terminated text (its NUL excluded from the length). */
static int parse(const char *text)
{
	memset(&cfg, 0x5a, sizeof(cfg));
	memset(err, 0x5a, sizeof(err));
	return cfg_parse(text, strlen(text), &cfg, err, sizeof(err));
}

/* Parse, expect failure with rc and exactly this message. */
static void expect_error(const char *text, int rc, const char *msg)
{
	int got = parse(text);

	ck_assert_msg(got == rc, "rc %d, expected %d (err \"%s\")", got, rc, err);
	ck_assert_str_eq(err, msg);
}

static void expect_module(u32 i, const char *name, const char *path,
			  const char *cmdline, u32 line)
{
	ck_assert_uint_gt(cfg.nr_modules, i);
	ck_assert_str_eq(cfg.modules[i].name, name);
	ck_assert_str_eq(cfg.modules[i].path, path);
	ck_assert_str_eq(cfg.modules[i].cmdline, cmdline);
	ck_assert_uint_eq(cfg.modules[i].line, line);
}

START_TEST(parse_modules)
{
	int rc = parse("cmdline console=com1,115200 loglvl=info\n"
		       "module dom0 /dom0.elf console=keel\n"
		       "module pvtest /pvtest.elf role=ping\n");

	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(cfg.cmdline, "console=com1,115200 loglvl=info");
	ck_assert_uint_eq(cfg.nr_modules, 2);
	expect_module(0, "dom0", "/dom0.elf", "console=keel", 2);
	expect_module(1, "pvtest", "/pvtest.elf", "role=ping", 3);
	ck_assert_ptr_eq(cfg_find_module(&cfg, "pvtest"), &cfg.modules[1]);
	ck_assert_ptr_null(cfg_find_module(&cfg, "pvtes"));
}
END_TEST

/* CRLF endings, tabs as separators (and inside command lines, where they
 * become spaces), leading/trailing blanks, comments, blank lines, no final
 * newline, backslash paths, a module without a command line. */
START_TEST(parse_whitespace_and_comments)
{
	int rc = parse("# Keel boot configuration\r\n"
		       "\r\n"
		       "   \t\r\n"
		       "\tcmdline   loglvl=debug\tconsole=com2   \r\n"
		       "module\tdom0\t\\boot\\dom0.elf   # the control domain\r\n"
		       "  module  x_y-1.2  /m/x.bin  a=1\t b=2  ");

	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_str_eq(cfg.cmdline, "loglvl=debug console=com2");
	ck_assert_uint_eq(cfg.nr_modules, 2);
	expect_module(0, "dom0", "\\boot\\dom0.elf", "", 5);
	expect_module(1, "x_y-1.2", "/m/x.bin", "a=1  b=2", 6);
}
END_TEST

START_TEST(parse_without_cmdline)
{
	int rc = parse("module dom0 /dom0.elf");

	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_str_eq(cfg.cmdline, "");
	expect_module(0, "dom0", "/dom0.elf", "", 1);
}
END_TEST

START_TEST(rejects_unknown_directive)
{
	expect_error("cmdline x\nmodul dom0 /dom0.elf\n", -EINVAL,
		     "keel.cfg:2: unknown directive 'modul' (expected 'cmdline' or 'module')");
	/* A directive is a whole word, not a prefix. */
	expect_error("cmdlinex=1\n", -EINVAL,
		     "keel.cfg:1: unknown directive 'cmdlinex=1' (expected 'cmdline' or 'module')");
}
END_TEST

/* Line numbers count every line: comments, blank lines and CRLF lines. */
START_TEST(error_names_line)
{
	expect_error("# comment\r\n\r\nmodule dom0 /dom0.elf\r\n\r\n  module pv\r\n",
		     -EINVAL,
		     "keel.cfg:5: module 'pv' without a path (module NAME PATH [CMDLINE])");
	expect_error("module dom0 /d\nmodule # only a comment\n", -EINVAL,
		     "keel.cfg:2: module without a name and path (module NAME PATH [CMDLINE])");
}
END_TEST

START_TEST(rejects_bad_module_name)
{
	expect_error("module do$m0 /dom0.elf\n", -EINVAL,
		     "keel.cfg:1: bad module name 'do$m0': character '$' not allowed "
		     "(letters, digits, '-', '_', '.')");
	expect_error("module d\xc3\xb6m0 /dom0.elf\n", -EINVAL,
		     "keel.cfg:1: bad module name 'd\xc3\xb6m0': byte 0xc3 not allowed "
		     "(letters, digits, '-', '_', '.')");
	/* 31 characters fit, 32 do not. */
	ck_assert_int_eq(parse("module dom0 /d\nmodule abcdefghijklmnopqrstuvwxyz01234 /x\n"), 0);
	expect_error("module dom0 /d\nmodule abcdefghijklmnopqrstuvwxyz012345 /x\n",
		     -ENAMETOOLONG,
		     "keel.cfg:2: module name 'abcdefghijklmnopqrstuvwxyz012345' too long "
		     "(max 31 characters)");
}
END_TEST

START_TEST(rejects_duplicate_module)
{
	expect_error("module dom0 /a\nmodule pv /b\n\nmodule dom0 /c\n", -EEXIST,
		     "keel.cfg:4: duplicate module name 'dom0' (first on line 1)");
}
END_TEST

START_TEST(rejects_too_many_modules)
{
	char text[1024];
	size_t n = 0, last;
	int i;

	n += (size_t)snprintf(text, sizeof(text), "module dom0 /dom0\n");
	for (i = 1; i < BOOT_MODULES_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "module m%d /m%d\n", i, i);
	/* BOOT_MODULES_MAX modules are accepted... */
	ck_assert_int_eq(parse(text), 0);
	ck_assert_uint_eq(cfg.nr_modules, BOOT_MODULES_MAX);
	expect_module(BOOT_MODULES_MAX - 1, "m15", "/m15", "", BOOT_MODULES_MAX);
	/* ...one more is not. */
	last = n;
	snprintf(text + last, sizeof(text) - last, "module extra /x\n");
	expect_error(text, -E2BIG, "keel.cfg:17: too many modules (max 16)");
}
END_TEST

START_TEST(rejects_long_fields)
{
	char text[2 * CFG_LINE_MAX];
	char msg[128];

	/* cmdline: 511 characters fit, 512 do not. */
	strcpy(text, "cmdline ");
	memset(text + 8, 'c', BOOT_CMDLINE_MAX - 1);
	strcpy(text + 8 + BOOT_CMDLINE_MAX - 1, "\nmodule dom0 /d\n");
	ck_assert_int_eq(parse(text), 0);
	ck_assert_uint_eq(strlen(cfg.cmdline), BOOT_CMDLINE_MAX - 1);
	memset(text + 8, 'c', BOOT_CMDLINE_MAX);
	strcpy(text + 8 + BOOT_CMDLINE_MAX, "\nmodule dom0 /d\n");
	expect_error(text, -ENAMETOOLONG, "keel.cfg:1: cmdline too long (max 511 characters)");

	/* module command line */
	strcpy(text, "module dom0 /d ");
	memset(text + 15, 'a', BOOT_MOD_CMDLINE_MAX);
	text[15 + BOOT_MOD_CMDLINE_MAX] = '\0';
	expect_error(text, -ENAMETOOLONG,
		     "keel.cfg:1: module 'dom0': cmdline too long (max 255 characters)");

	/* module path */
	strcpy(text, "module dom0 /");
	memset(text + 13, 'p', CFG_PATH_MAX);
	text[13 + CFG_PATH_MAX] = '\0';
	expect_error(text, -ENAMETOOLONG,
		     "keel.cfg:1: module 'dom0': path too long (max 255 characters)");

	/* the line itself, even when it is only a comment */
	strcpy(text, "module dom0 /d\n#");
	memset(text + 16, '#', CFG_LINE_MAX);
	text[16 + CFG_LINE_MAX] = '\0';
	snprintf(msg, sizeof(msg), "keel.cfg:2: line too long (max %d characters)", CFG_LINE_MAX);
	expect_error(text, -ENAMETOOLONG, msg);
}
END_TEST

START_TEST(rejects_second_cmdline)
{
	expect_error("cmdline a\nmodule dom0 /d\n# x\ncmdline b\n", -EINVAL,
		     "keel.cfg:4: second cmdline line (the first is line 1)");
}
END_TEST

START_TEST(requires_dom0)
{
	expect_error("cmdline a\nmodule dom1 /d\n", -ENOENT,
		     "keel.cfg: no module named 'dom0' (the control domain's kernel)");
	expect_error("", -ENOENT,
		     "keel.cfg: no module named 'dom0' (the control domain's kernel)");
}
END_TEST

START_TEST(rejects_control_characters)
{
	static const char text[] = "module dom0 /d\nmodule a\0b /x\n";

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(cfg_parse(text, sizeof(text) - 1, &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "keel.cfg:2: control character 0x00 in column 9");
	/* A lone CR (old Mac line ending) is not a line break. */
	expect_error("module dom0 /d\rmodule x /x\n", -EINVAL,
		     "keel.cfg:1: control character 0x0d in column 15");
}
END_TEST

/* A small error buffer gets a truncated, still NUL-terminated message. */
START_TEST(error_truncates_to_buffer)
{
	char small[12];

	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(cfg_parse("bogus\n", 6, &cfg, small, sizeof(small)), -EINVAL);
	ck_assert_str_eq(small, "keel.cfg:1:");
	ck_assert_int_eq(cfg_parse("bogus\n", 6, &cfg, NULL, 0), -EINVAL);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "cfg-parse-modules", &parse_modules_ttest },
	{ "cfg-parse-whitespace-and-comments", &parse_whitespace_and_comments_ttest },
	{ "cfg-parse-without-cmdline", &parse_without_cmdline_ttest },
	{ "cfg-rejects-unknown-directive", &rejects_unknown_directive_ttest },
	{ "cfg-error-names-line", &error_names_line_ttest },
	{ "cfg-rejects-bad-module-name", &rejects_bad_module_name_ttest },
	{ "cfg-rejects-duplicate-module", &rejects_duplicate_module_ttest },
	{ "cfg-rejects-too-many-modules", &rejects_too_many_modules_ttest },
	{ "cfg-rejects-long-fields", &rejects_long_fields_ttest },
	{ "cfg-rejects-second-cmdline", &rejects_second_cmdline_ttest },
	{ "cfg-requires-dom0", &requires_dom0_ttest },
	{ "cfg-rejects-control-characters", &rejects_control_characters_ttest },
	{ "cfg-error-truncates-to-buffer", &error_truncates_to_buffer_ttest },
	{ 0 },
};
