/*
 * The table of dom0's self-tests (contract in selftests.h): one row per
 * `test=` value, so adding a scenario is one line here, not another
 * branch in main.c.
 */
#include <lib/string.h>
#include "selftests.h"

static const struct selftest_entry {
	const char *name;
	/* The runner, given the whole `test=` value (some runners serve
	 * several names). */
	__noreturn void (*run)(const struct hvm_start_info *si, const char *which);
} selftests[] = {
	{ "exits", exit_test_run },
	{ "npf", exit_test_run },
	{ "crash", exit_test_run },
	{ "ud", exit_test_run },
	{ "hlt", exit_test_run },
	{ "tripfault", exit_test_run },
	{ "grant", grant_test_run },
	{ "evtchn", evtchn_test_run },
	{ "evtchn-sleep", evtchn_test_run },
	{ "spec", spec_test_run },
	{ "domains", domains_test_run },
	{ "pci-hostile", pci_hostile_test_run },
	{ "blk", dom0_hw_test_run },
	{ "blk-past-end", dom0_hw_test_run },
	{ "net", dom0_hw_test_run },
	{ "bridge", dom0_hw_test_run },
	{ "pci-bar", dom0_hw_test_run },
	{ "pirq", dom0_hw_test_run },
};

void dom0_selftest_run(const struct hvm_start_info *si, const char *test)
{
	for (unsigned i = 0; i < ARRAY_SIZE(selftests); i++)
		if (!strcmp(test, selftests[i].name))
			selftests[i].run(si, test);
	/* Unknown: the exit-kind self-test names the known ones and powers
	 * off (the line tests expect for a mistyped test=). */
	exit_test_run(si, test);
}
