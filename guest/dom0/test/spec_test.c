/*
 * dom0's speculation-control self-test (cmdline `test=spec`): the checks
 * of guest/lib/spec_check.c, one `dom0: test spec-<name>: PASS|FAIL ...`
 * line each, `dom0: spec: N features advertised`, then
 * `dom0: tests done: ...` and power-off.
 */
#include <lib/string.h>
#include "dom0.h"
#include "selftests.h"
#include "guest.h"
#include "selftest.h"
#include "spec_check.h"

static struct selftest tally = { .prefix = "" };

static void report(const char *name, bool ok, const char *detail)
{
	selftest_check(&tally, name, ok, "%s", detail);
}

__noreturn void spec_test_run(const struct hvm_start_info *si, const char *which)
{
	(void)si;
	(void)which;
	puts("dom0: speculation-control self-test (spec)");
	spec_check_all("dom0", report);
	printf("dom0: tests done: %u passed, %u failed\n", tally.passed, tally.failed);
	guest_poweroff();
}
