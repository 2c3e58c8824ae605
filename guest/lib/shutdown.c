/*
 * Power-off, reboot and crash through SCHEDOP_shutdown (contract in
 * guest.h).
 */
#include <public/sched.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"

#define QEMU_DEBUG_EXIT_PORT 0xF4

void guest_shutdown(unsigned reason)
{
	struct sched_shutdown arg = { .reason = reason };

	console_flush();
	if (xen_info()->mode != HYPERCALL_NONE) {
		long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &arg);

		printf("%s: SCHEDOP_shutdown(%u) returned %ld; halting\n",
		       guest_name, reason, rc);
		console_flush();
	} else {
		/* Bare QEMU (no hypervisor): isa-debug-exit, if present, with
		 * Keel's own exit codes (docs/design.md): 0 power-off,
		 * 1 reboot, 2 crash. QEMU then exits with 2 * code + 1. */
		outl(QEMU_DEBUG_EXIT_PORT, reason == SHUTDOWN_crash ? 2 :
					   reason == SHUTDOWN_reboot ? 1 : 0);
	}
	cpu_halt_forever();
}

void guest_poweroff(void)
{
	guest_shutdown(SHUTDOWN_poweroff);
}

void guest_reboot(void)
{
	guest_shutdown(SHUTDOWN_reboot);
}

void guest_crash(void)
{
	guest_shutdown(SHUTDOWN_crash);
}
