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
 *
 * Each source is compiled to its own object with -MMD -MP (unit.mk), so
 * editing a header or a .c file a test includes rebuilds that test.
 *
 * The tested sources are compiled as the hypervisor has them, with
 * -DUNIT_TEST but (nearly) no #ifdef for it: what touches hardware lives in
 * a file the test does not name (arch/x86/paging_frames.c, insn_fetch.c,
 * guest_mem.c, kernel/frame_zero.c), and the test defines the environment
 * the tested file calls (pt_alloc_table, frame_zero, panic, ...) itself.
 * The few #ifdef UNIT_TEST left in arch/ say at the site why.
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
