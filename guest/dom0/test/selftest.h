/*
 * dom0's self-test reporting, shared by the exit, event-channel and grant
 * self-tests: one line per check, `dom0: test <prefix><name>: PASS|FAIL
 * <detail>`, and a tally for the `tests done` line.
 */
#ifndef GUEST_DOM0_SELFTEST_H
#define GUEST_DOM0_SELFTEST_H

#include <lib/types.h>

struct selftest {
	const char *prefix; /* prepended to every check name, e.g. "grant-" */
	unsigned passed, failed;
};

/* Prints one check's line and counts it. */
__printf(4, 5) void selftest_check(struct selftest *st, const char *name, bool ok,
				   const char *fmt, ...);

#endif
