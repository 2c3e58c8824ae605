/* dom0's internal interfaces. */
#ifndef GUEST_DOM0_H
#define GUEST_DOM0_H

#include <public/start_info.h>

/*
 * Runs the exit-kind self-test (exit_test.c) selected by the cmdline value
 * of `test=`: "exits" runs the checks and powers off; "npf", "crash",
 * "ud", "hlt" and "tripfault" run the checks, then a deliberately fatal
 * step. Does not return.
 */
__noreturn void exit_test_run(const struct hvm_start_info *si, const char *which);

#endif
