/* dom0's self-test reporting: see selftest.h. */
#include <lib/string.h>
#include "guest.h"
#include "selftest.h"

void selftest_check(struct selftest *st, const char *name, bool ok, const char *fmt, ...)
{
	char detail[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("dom0: test %s%s: %s %s\n", st->prefix, name, ok ? "PASS" : "FAIL", detail);
	if (ok)
		st->passed++;
	else
		st->failed++;
}
