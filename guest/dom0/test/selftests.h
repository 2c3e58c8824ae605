/*
 * dom0's self-tests: the scenarios the integration tests drive through
 * dom0's command line (`test=NAME`, `bench`). They live apart from the
 * services (the other folders of guest/dom0) because they are not part of the product: each
 * one checks something, prints its lines and powers off or crashes.
 * Expected output of each: guest/dom0/README.md.
 */
#ifndef GUEST_DOM0_TEST_SELFTESTS_H
#define GUEST_DOM0_TEST_SELFTESTS_H

#include <public/start_info.h>

/*
 * Runs the self-test `test` names (the cmdline value of `test=`), looked
 * up in one table (selftests.c). A name no entry knows goes to the
 * exit-kind self-test, which prints `dom0: unknown test=...` and powers
 * off. Does not return.
 */
__noreturn void dom0_selftest_run(const struct hvm_start_info *si, const char *test);

/* Every entry of the table: `which` is the value of `test=`. */

/* exit_test.c: "exits" runs the checks and powers off; "npf", "crash",
 * "ud", "hlt" and "tripfault" run them, then a deliberately fatal step. */
__noreturn void exit_test_run(const struct hvm_start_info *si, const char *which);

/* grant_test.c (`test=grant`): one line per check, then power-off. */
__noreturn void grant_test_run(const struct hvm_start_info *si, const char *which);

/* evtchn_test.c: `test=evtchn` runs the checks and powers off;
 * `test=evtchn-sleep` then halts with nothing to wake it. */
__noreturn void evtchn_test_run(const struct hvm_start_info *si, const char *which);

/* spec_test.c (`test=spec`): every CPUID bit that names an MSR, used as
 * Linux would; one line per check, then power-off. */
__noreturn void spec_test_run(const struct hvm_start_info *si, const char *which);

/* domains.c (`test=domains scenario=NAME`): the domain-control scenarios
 * with the pvtest module. */
__noreturn void domains_test_run(const struct hvm_start_info *si, const char *which);

/* pci_hostile_test.c (`test=pci-hostile case=...`): dom0 as a hostile
 * device owner tries to rewrite what the hypervisor keeps (host bridge,
 * LPC decode, bridge bus numbers, MSI-X tables) and checks it was kept. */
__noreturn void pci_hostile_test_run(const struct hvm_start_info *si, const char *which);

/* hw_test.c (`test=blk|blk-past-end|blk-discard|blk-partition|net|bridge|pci-bar|pirq`): brings the
 * devices up (hw/hw.h), runs the named test, prints
 * `dom0: hw tests done: PASS|FAIL` and powers off. */
__noreturn void dom0_hw_test_run(const struct hvm_start_info *si, const char *which);

/* The hardware tests' bodies (hw_blk_test.c, hw_net_test.c). Each prints
 * `dom0: <name>: PASS|FAIL ...` lines and returns the number of failures. */
int hw_blk_test(const char *cmdline);
int hw_blk_past_end_test(const char *cmdline);
/* hw_discard_test.c: test=blk-discard (BLK_DISCARD on each blk= disk). */
int hw_blk_discard_test(const char *cmdline);
/* hw_partition_test.c: test=blk-partition (GPT partitions of the blk= disk). */
int hw_blk_partition_test(const char *cmdline);
int hw_net_test(const char *cmdline);
/* hw_bridge_test.c (`test=bridge ip=...`): dom0's network service, xenbr0
 * (bridge/netsvc.h), answering the host test until its end datagram. */
int hw_bridge_test(const char *cmdline);

/* The micro-benchmarks (bench.c, cmdline `bench`, `make bench`): one
 * line per figure, then power-off. docs/PERFORMANCE.md. */
__noreturn void dom0_bench_run(const struct hvm_start_info *si);
/* bench_domu.c: the figures that need pvtest domUs (part of `bench`). */
void dom0_bench_domus(const struct hvm_start_info *si, u64 iters);

#endif
