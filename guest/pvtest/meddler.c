/*
 * role=meddler [wbinvd=N] [ms=M] [arm=0|1]: a domU that sets the machine
 * state a guest may set without exits and that must stay its own (issue
 * 10):
 *  - CR8 = 15, the highest task priority. Were it the physical LAPIC's
 *    TPR, the hypervisor's own timer vector could no longer be delivered.
 *  - DR0-3, DR6 (B1 and B3) and DR7 with distinctive values, DR0 an
 *    execute breakpoint on role_timer(), code this domain never runs but
 *    a timer domU next to it does; with arm=1 (default) DR7 enables it:
 *    if the hypervisor let it leak, that domU would take a #DB it has no
 *    handler for and die.
 *    (arm=0 under QEMU TCG: its SVM emulation loads DR7 on VMRUN without
 *    updating its breakpoint list, so an armed guest breakpoint fires in
 *    every guest; docs/design.md.)
 *  - WBINVD, N times (default 1000), yielding every 10 so that other
 *    domains run in between: each must exit (EXIT_CACHE_FLUSH; dom0
 *    counts them), never flush the machine's caches natively.
 * Then it keeps yielding for M ms (default 300) and checks that every
 * value it set is still there, as it would be on a machine of its own.
 */
#include <lib/string.h>
#include <public/sched.h>
#include "cpuregs.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvtest.h"

#define MS 1000000ULL

/* DR7: R/W0 = 00 (execute) and LEN0 = 00, L0 (bit 0) with arm=1; R/W1 =
 * 01 (write) and LEN1 = 11 (4 bytes) with L1 clear; bit 10 reads as 1. */
#define MEDDLER_DR7_BASE (0x400ULL | (1ULL << 20) | (3ULL << 22))
static u64 meddler_dr7;
/* DR6 status bits B1 and B3 (the rest of DR6 reads as the CPU fixes it). */
#define MEDDLER_DR6_BITS 0xaULL

static const u64 meddler_dr[4] = {
	0, /* &role_timer, below */
	0x00000000de1de100ULL,
	0x00000000de1de200ULL,
	0x00000000de1de300ULL,
};

static void yield(void)
{
	HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

/* Fails the role unless every register still holds what it was given. */
static void check_regs(const u64 *dr, const char *when)
{
	u64 cr8 = read_cr8(), dr7 = read_dr(7);

	if (cr8 != 15)
		fail("CR8 is %lu %s, it was set to 15", cr8, when);
	for (unsigned i = 0; i < 4; i++) {
		u64 got = read_dr(i);
		if (got != dr[i])
			fail("DR%u is 0x%lx %s, it was set to 0x%lx", i, got, when, dr[i]);
	}
	if ((read_dr(6) & 0xf) != MEDDLER_DR6_BITS)
		fail("DR6[3:0] is 0x%lx %s, it was set to 0x%llx", read_dr(6) & 0xf, when,
		     MEDDLER_DR6_BITS);
	if (dr7 != meddler_dr7)
		fail("DR7 is 0x%lx %s, it was set to 0x%lx", dr7, when, meddler_dr7);
}

void role_meddler(void)
{
	u64 n = arg_u64_or("wbinvd", 1000), ms = arg_u64_or("ms", 300);
	bool arm = arg_u64_or("arm", 1);
	u64 dr[4];

	meddler_dr7 = MEDDLER_DR7_BASE | (arm ? 1 : 0);
	memcpy(dr, meddler_dr, sizeof(dr));
	dr[0] = (u64)(uintptr_t)role_timer;
	write_cr8(15);
	for (unsigned i = 0; i < 4; i++)
		write_dr(i, dr[i]);
	write_dr(6, 0xffff0ff0ULL | MEDDLER_DR6_BITS);
	write_dr(7, meddler_dr7);
	printf("pvtest: meddler: CR8 15, DR0 0x%lx (execute breakpoint on role_timer, %s), "
	       "DR1-3 0x%lx 0x%lx 0x%lx, DR7 0x%lx\n", dr[0], arm ? "armed" : "not armed", dr[1],
	       dr[2], dr[3], meddler_dr7);
	check_regs(dr, "right after setting it");

	for (u64 i = 1; i <= n; i++) {
		wbinvd();
		if (i % 10 == 0)
			yield();
	}
	check_regs(dr, "after the WBINVD loop");
	printf("pvtest: meddler: %lu WBINVDs done\n", n);

	u64 end = pvclock_now_ns() + ms * MS, rounds = 0;
	while (pvclock_now_ns() < end) {
		yield();
		rounds++;
	}
	check_regs(dr, "after yielding to the other domains");
	/* Leave CR8 high and the breakpoint armed: powering off with them
	 * set is exactly what hung the machine before. */
	printf("pvtest: meddler: PASS CR8, DR0-3, DR6 and DR7 kept over %lu WBINVDs and %lu yields "
	       "(%lu ms)\n", n, rounds, ms);
}
