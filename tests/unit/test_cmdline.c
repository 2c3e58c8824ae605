/*
 * The hypervisor command line: parsed options and the exact error lines a
 * user sees on the console.
 *
 * Built as one translation unit with the Keel sources it needs, included
 * below rather than named on a unit-sources line, because:
 *  - cmdline.c formats its messages with Keel's snprintf (lib/
 *    format.c), and the test should check the bytes the hypervisor prints.
 *    Linking format.c as is would not do: an executable's snprintf and
 *    vsnprintf interpose on libc's for the whole process, Check included,
 *    and Check formats its own messages with conversions (%jd) that Keel's
 *    formatter lacks. So both files are included with snprintf/vsnprintf
 *    renamed keel_snprintf/keel_vsnprintf: cmdline.c calls Keel's
 *    formatter, the rest of the process keeps libc's.
 *  - parse_u64, which decides what a number is, comes from the same
 *    format.c: the real one is tested, not a stand-in.
 *  - Compiled on its own for the host, cmdline.c would also call libc's
 *    snprintf, which gcc treats as a builtin and flags under
 *    -Wformat-truncation (see the report on cmdline.c line 179).
 *  - strlcpy is missing from glibc before 2.38 (Debian 12 has 2.36), and
 *    lib/string.c would bring memset/memcpy/strlen along with it
 *    (interposing on libc's), so it is written out below to lib/string.h's
 *    contract.
 * make sees the two included files through the object's -MMD
 * dependencies (tests/unit/unit.mk).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define vsnprintf keel_vsnprintf
#define snprintf keel_snprintf
#include "../../lib/format.c"
#include "../../kernel/cmdline.c"
#undef vsnprintf
#undef snprintf

#include <keel/cmdline.h>
#include <lib/errno.h>
#include <keel/printk.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

/* ---- helpers -------------------------------------------------------------- */

static struct keel_options o;
static char err[256];

static int parse(const char *cmdline)
{
	memset(&o, 0x5a, sizeof(o)); /* defaults must be set by the parser */
	memset(err, 0x5a, sizeof(err));
	err[sizeof(err) - 1] = 0;
	return cmdline_parse(cmdline, &o, err, sizeof(err));
}

static void expect_ok(const char *cmdline)
{
	int rc = parse(cmdline);
	ck_assert_msg(rc == 0 && err[0] == 0, "\"%s\": rc %d err \"%s\", want 0 and \"\"",
		      cmdline, rc, err);
}

static void expect_error(const char *cmdline, int want_rc, const char *want_err)
{
	int rc = parse(cmdline);
	ck_assert_msg(rc == want_rc && strcmp(err, want_err) == 0,
		      "\"%s\":\n  got  rc %d \"%s\"\n  want rc %d \"%s\"", cmdline, rc, err,
		      want_rc, want_err);
}

#define expect_field(field, want, fmt)                                              \
	ck_assert_msg(o.field == (want), #field " = " fmt ", want " fmt, o.field, (want))

/* ---- tests ---------------------------------------------------------------- */

START_TEST(defaults)
{
	static const char *const empties[] = { "", "   ", "\t \t" };
	for (unsigned i = 0; i < ARRAY_SIZE(empties); i++) {
		expect_ok(empties[i]);
		expect_field(console_port, 0x3f8, "%#x");
		expect_field(console_baud, 115200u, "%u");
		expect_field(loglvl, LOG_INFO, "%d");
		expect_field(dom0_mem, (u64)0, "%#lx");
		expect_field(debugexit_port, 0, "%#x");
		expect_field(test_fault, TEST_FAULT_NONE, "%d");
	}
}
END_TEST

START_TEST(console_port_forms)
{
	expect_ok("console=com2,9600");
	expect_field(console_port, 0x2f8, "%#x");
	expect_field(console_baud, 9600u, "%u");

	expect_ok("console=com4");
	expect_field(console_port, 0x2e8, "%#x");
	expect_field(console_baud, 115200u, "%u");

	expect_ok("console=0x2f8");
	expect_field(console_port, 0x2f8, "%#x");

	expect_ok("console=760,50"); /* decimal 0x2f8; the slowest baud */
	expect_field(console_port, 0x2f8, "%#x");
	expect_field(console_baud, 50u, "%u");

	expect_ok("console=none");
	expect_field(console_port, 0, "%#x");
}
END_TEST

START_TEST(console_bad_baud_exact_error)
{
	expect_error("console=com1,fast", -EINVAL, "cmdline: console=com1,fast: bad baud rate 'fast'");
	expect_field(console_port, 0x3f8, "%#x"); /* the port part still counts */
	expect_field(console_baud, 115200u, "%u");
	expect_error("console=com2,", -EINVAL, "cmdline: console=com2,: bad baud rate ''");
	expect_error("console=com1,9600n8", -EINVAL,
		     "cmdline: console=com1,9600n8: bad baud rate '9600n8'");

	expect_error("console=com1,7", -ERANGE,
		     "cmdline: console=com1,7: baud 7 out of range (50..115200, dividing 115200)");
	expect_error("console=com1,230400", -ERANGE,
		     "cmdline: console=com1,230400: baud 230400 out of range (50..115200, dividing 115200)");
	expect_error("console=com1,0", -ERANGE,
		     "cmdline: console=com1,0: baud 0 out of range (50..115200, dividing 115200)");
	expect_field(console_baud, 115200u, "%u");
}
END_TEST

START_TEST(console_bad_port_rejected)
{
	static const char *const bad[] = { "com5", "0", "0x10000", "0xfff9", "none,9600", "COM1" };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		char line[64], want[128];
		snprintf(line, sizeof(line), "console=%s", bad[i]);
		snprintf(want, sizeof(want),
			 "cmdline: console=%s: expected com1..com4, none or an I/O port", bad[i]);
		expect_error(line, -EINVAL, want);
		/* Keep a console to report the error on. */
		expect_field(console_port, 0x3f8, "%#x");
	}
}
END_TEST

/* A port number longer than the parser's 15-character name buffer must be
 * read whole (or refused), never cut to its first 15 characters. */
START_TEST(console_long_port_not_truncated)
{
	int rc = parse("console=0x000000000003f8");
	ck_assert_msg((rc == 0 && o.console_port == 0x3f8) ||
			      (rc == -EINVAL && o.console_port == 0x3f8),
		      "\"console=0x000000000003f8\": rc %d port %#x err \"%s\"; want port 0x3f8 "
		      "(or -EINVAL with the default port)", rc, o.console_port, err);
}
END_TEST

START_TEST(loglvl_levels)
{
	static const struct { const char *name; int level; } levels[] = {
		{ "err", LOG_ERR }, { "warn", LOG_WARN }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(levels); i++) {
		char line[32];
		snprintf(line, sizeof(line), "loglvl=%s", levels[i].name);
		expect_ok(line);
		expect_field(loglvl, levels[i].level, "%d");
	}
	expect_error("loglvl=verbose", -EINVAL,
		     "cmdline: loglvl=verbose: expected err, warn, info or debug");
	expect_field(loglvl, LOG_INFO, "%d");
	expect_error("loglvl=3", -EINVAL, "cmdline: loglvl=3: expected err, warn, info or debug");
}
END_TEST

START_TEST(dom0_mem_sizes)
{
	static const struct { const char *val; u64 bytes; } sizes[] = {
		{ "512M", 512ULL << 20 },   { "512m", 512ULL << 20 },
		{ "2G", 2ULL << 30 },       { "16384K", 16ULL << 20 },
		{ "16777216", 16ULL << 20 }, /* plain bytes, the minimum */
		{ "0x40000000", 1ULL << 30 },
		{ "65536G", 1ULL << 46 },   /* the maximum, 64 TiB */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		char line[64];
		snprintf(line, sizeof(line), "dom0_mem=%s", sizes[i].val);
		expect_ok(line);
		ck_assert_msg(o.dom0_mem == sizes[i].bytes, "%s: dom0_mem %#llx, want %#llx", line,
			      (unsigned long long)o.dom0_mem, (unsigned long long)sizes[i].bytes);
	}
}
END_TEST

START_TEST(dom0_mem_bad_and_out_of_range)
{
	expect_error("dom0_mem=bad", -EINVAL, "cmdline: dom0_mem=bad: expected a size like 512M");
	expect_error("dom0_mem=512MB", -EINVAL, "cmdline: dom0_mem=512MB: expected a size like 512M");
	expect_error("dom0_mem=1T", -EINVAL, "cmdline: dom0_mem=1T: expected a size like 512M");
	expect_error("dom0_mem=99999999999999999999", -EINVAL,
		     "cmdline: dom0_mem=99999999999999999999: expected a size like 512M");
	expect_error("dom0_mem=8M", -ERANGE, "cmdline: dom0_mem=8M out of range (16M..64T)");
	expect_error("dom0_mem=16777215", -ERANGE,
		     "cmdline: dom0_mem=16777215 out of range (16M..64T)");
	expect_error("dom0_mem=65537G", -ERANGE, "cmdline: dom0_mem=65537G out of range (16M..64T)");
	/* Would wrap to 0 if shifted without the range check first. */
	expect_error("dom0_mem=0x40000000000000G", -ERANGE,
		     "cmdline: dom0_mem=0x40000000000000G out of range (16M..64T)");
	expect_field(dom0_mem, (u64)0, "%#lx");
}
END_TEST

START_TEST(debugexit_and_test_fault)
{
	expect_ok("debugexit=0xf4\ttest_fault=ud");
	expect_field(debugexit_port, 0xf4, "%#x");
	expect_field(test_fault, TEST_FAULT_UD, "%d");
	expect_ok("test_fault=pagefault debugexit=0xfffc");
	expect_field(test_fault, TEST_FAULT_PAGEFAULT, "%d");
	expect_field(debugexit_port, 0xfffc, "%#x");
	expect_ok("test_fault=gp");
	expect_field(test_fault, TEST_FAULT_GP, "%d");

	expect_error("debugexit=0", -EINVAL, "cmdline: debugexit=0: expected an I/O port (1..0xfffc)");
	expect_error("debugexit=0xfffd", -EINVAL,
		     "cmdline: debugexit=0xfffd: expected an I/O port (1..0xfffc)");
	expect_field(debugexit_port, 0, "%#x");
	expect_error("test_fault=nmi", -EINVAL, "cmdline: test_fault=nmi: expected pagefault, ud or gp");
	expect_field(test_fault, TEST_FAULT_NONE, "%d");
}
END_TEST

START_TEST(spec_forces_mitigations)
{
	expect_ok("spec=verw");
	expect_field(spec_force, SPEC_FORCE_VERW, "%#x");
	expect_ok("spec=l1d-flush,verw");
	expect_field(spec_force, SPEC_FORCE_VERW | SPEC_FORCE_L1D_FLUSH, "%#x");
	expect_ok("loglvl=info");
	expect_field(spec_force, 0, "%#x");
	expect_error("spec=verw,ibrs", -EINVAL, "cmdline: spec=verw,ibrs: expected verw and/or l1d-flush");
	expect_error("spec=verwx", -EINVAL, "cmdline: spec=verwx: expected verw and/or l1d-flush");
}
END_TEST

START_TEST(unknown_or_valueless_option_named)
{
	expect_error("foo", -EINVAL, "cmdline: unknown option 'foo'");
	expect_error("foo=bar", -EINVAL, "cmdline: unknown option 'foo'");
	expect_error("Loglvl=info", -EINVAL, "cmdline: unknown option 'Loglvl'");
	expect_error("loglvl", -EINVAL, "cmdline: option 'loglvl' needs a value (loglvl=...)");
	expect_error("dom0_mem=", -EINVAL, "cmdline: option 'dom0_mem' needs a value (dom0_mem=...)");
}
END_TEST

START_TEST(first_error_reported_later_options_parsed)
{
	expect_error("foo debugexit=0xf4", -EINVAL, "cmdline: unknown option 'foo'");
	expect_field(debugexit_port, 0xf4, "%#x");

	expect_error("loglvl=loud console=com1,7 console=com2 bar", -EINVAL,
		     "cmdline: loglvl=loud: expected err, warn, info or debug");
	expect_field(console_port, 0x2f8, "%#x"); /* the later console= wins */

	expect_error("  console=none   dom0_mem=1M foo", -ERANGE,
		     "cmdline: dom0_mem=1M out of range (16M..64T)");
	expect_field(console_port, 0, "%#x");
}
END_TEST

START_TEST(overlong_option_and_short_error_buffer)
{
	char line[300];
	memset(line, 'a', 200);
	strcpy(line + 200, " loglvl=debug");
	expect_error(line, -EINVAL,
		     "cmdline: option 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' too long");
	expect_field(loglvl, LOG_DEBUG, "%d");

	/* A short buffer gets the start of the message, NUL-terminated, and
	 * nothing past it. */
	char small[12];
	memset(small, 0x5a, sizeof(small));
	int rc = cmdline_parse("foo", &o, small, 8);
	ck_assert_msg(rc == -EINVAL && strcmp(small, "cmdline") == 0 &&
			      (u8)small[8] == 0x5a,
		      "errlen 8: rc %d err \"%.8s\" byte 8 %#x; want -EINVAL \"cmdline\" 0x5a", rc,
		      small, (u8)small[8]);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "cmdline-defaults", &defaults_ttest },
	{ "cmdline-console-port-forms", &console_port_forms_ttest },
	{ "cmdline-console-bad-baud-exact-error", &console_bad_baud_exact_error_ttest },
	{ "cmdline-console-bad-port-rejected", &console_bad_port_rejected_ttest },
	{ "cmdline-console-long-port-not-truncated", &console_long_port_not_truncated_ttest },
	{ "cmdline-loglvl-levels", &loglvl_levels_ttest },
	{ "cmdline-dom0-mem-sizes", &dom0_mem_sizes_ttest },
	{ "cmdline-dom0-mem-bad-and-out-of-range", &dom0_mem_bad_and_out_of_range_ttest },
	{ "cmdline-debugexit-and-test-fault", &debugexit_and_test_fault_ttest },
	{ "cmdline-spec-forces-mitigations", &spec_forces_mitigations_ttest },
	{ "cmdline-unknown-or-valueless-option-named", &unknown_or_valueless_option_named_ttest },
	{ "cmdline-first-error-reported-later-options-parsed",
	  &first_error_reported_later_options_parsed_ttest },
	{ "cmdline-overlong-option-and-short-error-buffer",
	  &overlong_option_and_short_error_buffer_ttest },
	{ 0 },
};
