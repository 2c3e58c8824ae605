/*
 * role=vcputime [rounds=N]: VCPUOP_register_vcpu_time_memory_area gives
 * a second copy of this vCPU's vcpu_time_info (Xen public/vcpu.h), kept
 * equal to the one in shared_info with the same version protocol
 * (kernel/time.c). Checked: the copy is written at registration; over N
 * yields every consistent read of it (version even and unchanged around
 * the read) has the primary's TSC stamp, system time and scale; its
 * version moves (updates seen); an unmapped address is accepted and
 * harms nothing (as in Xen for HVM guests); address 0 stops the updates.
 */
#include <lib/string.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvtest.h"

static struct vcpu_time_info area __aligned(64);

static long register_area(u64 addr)
{
	struct vcpu_register_time_memory_area a = { .addr = addr };

	return HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &a);
}

/* A consistent copy of *t (version even, the same before and after). */
static struct vcpu_time_info snapshot(const volatile struct vcpu_time_info *t)
{
	struct vcpu_time_info c;
	u32 v;

	do {
		v = t->version;
		__asm__ volatile("" ::: "memory");
		c = *(const struct vcpu_time_info *)t;
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || t->version != v);
	c.version = v;
	return c;
}

static bool same_time(const struct vcpu_time_info *a, const struct vcpu_time_info *b)
{
	return a->tsc_timestamp == b->tsc_timestamp && a->system_time == b->system_time &&
	       a->tsc_to_system_mul == b->tsc_to_system_mul && a->tsc_shift == b->tsc_shift &&
	       a->flags == b->flags;
}

/* Both copies read while no update comes between them (an update moves
 * the secondary's version; then read again). */
static void read_both(struct vcpu_time_info *prim, struct vcpu_time_info *sec)
{
	const volatile struct vcpu_time_info *p = &evtchn_shared_info()->vcpu_info[0].time;
	const volatile struct vcpu_time_info *s = &area;

	do {
		*sec = snapshot(s);
		*prim = snapshot(p);
	} while (s->version != sec->version);
}

void role_vcputime(void)
{
	u64 rounds = arg_u64_or("rounds", 50), changes = 0;
	struct vcpu_time_info prim, sec;
	long rc;

	memset(&area, 0, sizeof(area));
	if ((rc = register_area((u64)(uintptr_t)&area)))
		fail("VCPUOP_register_vcpu_time_memory_area: %ld, want 0", rc);
	if (!area.version || (area.version & 1) || !area.tsc_to_system_mul)
		fail("the copy is not written at registration (version %u, mul %u)", area.version,
		     area.tsc_to_system_mul);
	u32 last = area.version;
	for (u64 i = 0; i < rounds; i++) {
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
		read_both(&prim, &sec);
		if (!same_time(&prim, &sec))
			fail("round %lu: the copy (version %u) has TSC 0x%lx system time %lu mul %u "
			     "shift %d flags 0x%x; shared_info has 0x%lx %lu %u %d 0x%x", i, sec.version,
			     sec.tsc_timestamp, sec.system_time, sec.tsc_to_system_mul, sec.tsc_shift,
			     sec.flags, prim.tsc_timestamp, prim.system_time, prim.tsc_to_system_mul,
			     prim.tsc_shift, prim.flags);
		changes += sec.version != last;
		last = sec.version;
	}
	if (!changes)
		fail("the copy's version never moved over %lu yields", rounds);
	printf("pvtest: vcputime: copy equal to shared_info's over %lu yields, version moved %lu "
	       "times\n", rounds, changes);

	/* An address nothing maps: accepted, no update lands anywhere. */
	if ((rc = register_area(0x0000400000000000ULL)))
		fail("registering an unmapped address: %ld, want 0 (as Xen)", rc);
	struct vcpu_time_info before = snapshot(&area);
	HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	if ((rc = register_area(0)))
		fail("unregistering (address 0): %ld, want 0", rc);
	HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	if (area.version != before.version)
		fail("the old copy was still updated after moving it away");
	printf("pvtest: vcputime: unmapped address accepted and harmless; 0 stops the updates\n");
	printf("pvtest: vcputime: PASS\n");
}
