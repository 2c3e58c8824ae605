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

/* The grant-table self-test (grant_test.c, cmdline `test=grant`): prints
 * one line per check, then powers off. */
__noreturn void grant_test_run(const struct hvm_start_info *si);

/* The event-channel self-test (evtchn_test.c): `test=evtchn` runs the
 * checks and powers off; `test=evtchn-sleep` then halts with nothing to
 * wake it. Does not return. */
__noreturn void evtchn_test_run(const struct hvm_start_info *si, const char *which);

/* The speculation-control self-test (spec_test.c, cmdline `test=spec`):
 * every CPUID bit that names an MSR, used as Linux would; one line per
 * check, then power-off. */
__noreturn void spec_test_run(void);

/*
 * Runs the domain-control scenario named by the cmdline value of
 * `scenario=` (domains.c: pingpong, spin, hostile, domctl) with the pvtest
 * module; cmdline `test=domains` selects it. Does not return.
 */
__noreturn void domains_test_run(const struct hvm_start_info *si);

/* The micro-benchmarks (bench.c, cmdline `bench`, `make bench`): one
 * line per figure, then power-off. docs/bench.md. */
__noreturn void dom0_bench_run(const struct hvm_start_info *si);
/* RDTSC at guest_main's entry and after its first console line (main.c). */
extern u64 dom0_tsc_entry, dom0_tsc_first_line;

/* The operator's shell on the serial console (cmdline `shell`). */
__noreturn void dom0_shell(const struct hvm_start_info *si);

/* Reports shared by boot and the shell (main.c). */
void dom0_print_memmap(const struct hvm_start_info *si);
void dom0_print_modules(const struct hvm_start_info *si);

#endif
