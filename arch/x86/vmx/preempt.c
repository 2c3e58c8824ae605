/*
 * The VMX-preemption timer as the scheduler's time-slice backstop (SDM
 * vol. 3 26.5.1; the rate is IA32_VMX_MISC[4:0], A.6).
 *
 * Normally the host LAPIC timer ends a slice: external-interrupt exiting
 * makes the guest exit whatever its RFLAGS.IF (26.2). Bochs 2.7 does not
 * honour that for a guest entered with IF = 0: VM entry recomputes its
 * interrupt masks (handleCpuContextChange in VMenterLoadCheckGuestState)
 * before it marks the CPU as being in a guest, so INTR stays masked as
 * for the host's IF = 0 until the guest itself changes IF. A guest that
 * spins with interrupts off would then keep the CPU for ever. The
 * preemption timer counts down in the guest regardless of interrupts and
 * ends the turn with its own exit (EXIT_PREEMPT), which the kernel treats
 * like a host interrupt: the vCPU loop then asks the scheduler.
 */
#include <lib/types.h>
#include "vmx.h"

#define NS_PER_MS 1000000ULL
/* Longer waits are cut (the vCPU loop re-arms on the next entry): keeps
 * ns * kHz well inside 64 bits. */
#define MAX_NS (1000 * NS_PER_MS)

u32 vmx_preemption_units(u64 ns, u64 tsc_khz, unsigned shift)
{
	if (ns > MAX_NS)
		ns = MAX_NS;
	/* TSC ticks, rounded up: ns * kHz / 10^6. */
	u64 ticks = (ns * tsc_khz + NS_PER_MS - 1) / NS_PER_MS;
	u64 units = (ticks + (1ULL << shift) - 1) >> shift;
	if (ns)
		units++;
	return units > 0xffffffffULL ? 0xffffffffu : (u32)units;
}

/* The host unit test (tests/unit/test_vmx_controls.c) compiles this file
 * for vmx_preemption_units only: arming writes the VMCS (VMWRITE) and asks
 * the scheduler, which a user-mode test cannot link or run. */
#ifndef UNIT_TEST
#include <keel/sched.h>
#include <keel/vtimer.h>
#include "vmcs.h"

void vmx_preemption_arm(void)
{
	if (!vmx.preemption_timer)
		return;
	u64 deadline = sched_leave_deadline(), now = time_now_ns();
	/* No deadline (not run by the scheduler): the longest wait. A
	 * deadline already passed: exit before the first instruction. */
	u64 ns = !deadline ? MAX_NS : deadline > now ? deadline - now : 0;
	vmwrite(GUEST_PREEMPTION_TIMER, vmx_preemption_units(ns, time_tsc_khz(),
							      vmx.preemption_shift));
}
#endif
