/* Stopping the machine (kernel/machine.c). */
#ifndef KEEL_MACHINE_H
#define KEEL_MACHINE_H

#include <lib/types.h>

/* Why the machine stops; the value is the isa-debug-exit code
 * (docs/design.md, "Exit codes"). */
enum stop_reason {
	STOP_POWEROFF = 0,
	STOP_REBOOT = 1,
	STOP_CRASH = 2, /* dom0 crashed */
	STOP_PANIC = 3, /* hypervisor panic, fault or fatal boot error */
};

/* Where to report the stop in test runs (cmdline debugexit=). */
void machine_set_debugexit(u16 port);

/*
 * Prints "keel: machine stop: <reason>" as the last line, then powers off,
 * reboots or halts. With debugexit set, QEMU exits with status 2*reason+1.
 */
__noreturn void machine_stop(enum stop_reason why);

#endif
