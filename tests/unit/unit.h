/*
 * Host unit tests, built with Check. Each tests/unit/test_*.c defines
 *
 *     const struct unit_case unit_cases[] = { { "frames-alloc-basic", fn }, ..., { 0 } };
 *
 * and names the project sources it tests in a line of the form
 *
 *     unit-sources: kernel/frame.c arch/x86/paging.c
 *
 * inside a comment (tests/unit/unit.mk reads it). tests/unit/main.c turns the
 * table into a Check suite: `test_x --list` prints the names, `test_x NAME`
 * runs one case, `test_x` runs all.
 */
#ifndef UNIT_H
#define UNIT_H

#include <check.h>

struct unit_case {
	const char *name;
	const TTest *test; /* from START_TEST(fn): pass fn_ttest (Check 0.15 names it so) */
};

extern const struct unit_case unit_cases[];

#endif
