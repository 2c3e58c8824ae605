/*
 * pvtest: a minimal PVH domU for tests and benchmarks. For now it prints
 * its banner and command line, then powers off.
 */
#include <keel/lib.h>
#include "guest.h"

const char guest_name[] = "pvtest";

void guest_main(const struct hvm_start_info *si)
{
	puts("pvtest: Keel PV test domain");
	printf("pvtest: cmdline \"%s\"\n", si_cmdline(si));
	puts("pvtest: powering off");
	guest_poweroff();
}
