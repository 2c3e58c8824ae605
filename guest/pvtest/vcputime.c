/*
 * role=vcputime [rounds=N]: VCPUOP_register_vcpu_time_memory_area gives
 * a second copy of this vCPU's vcpu_time_info (Xen public/xen.h,
 * public/vcpu.h), kept equal to the one in shared_info with the same
 * version protocol (kernel/time.c). Checked: the copy is written at
 * registration; over N yields (switches to dom0 and back) every
 * consistent read of it has the primary's TSC stamp, system time and
 * scale; the record is not rewritten while nothing changed it (its
 * version stays put, as Xen rewrites only a changed record); the time
 * read through either copy never goes backwards across the switches and
 * the two agree; a record the guest damaged itself is rewritten (both
 * copies, version moved) before it runs again; an unmapped address is
 * accepted and harms nothing (as in Xen for HVM guests); address 0 stops
 * the updates.
 */
#include <lib/string.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
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

static inline u64 rdtsc_now(void)
{
	u32 lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((u64)hi << 32) | lo;
}

/* System time by a consistent record at TSC `tsc` (the pvclock formula). */
static u64 time_by(const struct vcpu_time_info *t, u64 tsc)
{
	return t->system_time +
	       pvclock_scale_delta(tsc - t->tsc_timestamp, t->tsc_to_system_mul, t->tsc_shift);
}

void role_vcputime(void)
{
	u64 rounds = arg_u64_or("rounds", 50), last_ns = 0;
	struct vcpu_time_info prim, sec;
	long rc;

	memset(&area, 0, sizeof(area));
	if ((rc = register_area((u64)(uintptr_t)&area)))
		fail("VCPUOP_register_vcpu_time_memory_area: %ld, want 0", rc);
	if (!area.version || (area.version & 1) || !area.tsc_to_system_mul)
		fail("the copy is not written at registration (version %u, mul %u)", area.version,
		     area.tsc_to_system_mul);
	u32 first = area.version;
	for (u64 i = 0; i < rounds; i++) {
		HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
		read_both(&prim, &sec);
		if (!same_time(&prim, &sec))
			fail("round %lu: the copy (version %u) has TSC 0x%lx system time %lu mul %u "
			     "shift %d flags 0x%x; shared_info has 0x%lx %lu %u %d 0x%x", i, sec.version,
			     sec.tsc_timestamp, sec.system_time, sec.tsc_to_system_mul, sec.tsc_shift,
			     sec.flags, prim.tsc_timestamp, prim.system_time, prim.tsc_to_system_mul,
			     prim.tsc_shift, prim.flags);
		u64 tsc = rdtsc_now(), a = time_by(&prim, tsc), b = time_by(&sec, tsc);
		if (a != b || a < last_ns)
			fail("round %lu: time %lu by shared_info, %lu by the copy, %lu before the "
			     "switch", i, a, b, last_ns);
		last_ns = a;
		u64 now = pvclock_now_ns();
		if (now < last_ns)
			fail("round %lu: pvclock read %lu after %lu", i, now, last_ns);
		last_ns = now;
	}
	if (sec.version != first)
		fail("the copy was rewritten %u times over %lu yields though nothing changed it",
		     (sec.version - first) / 2, rounds);
	printf("pvtest: vcputime: copy equal to shared_info's over %lu yields, not rewritten, "
	       "time monotonic by both\n", rounds);

	/* Damage the primary record (the guest may write its own memory):
	 * the hypervisor finds it differs and rewrites both before we run. */
	volatile struct vcpu_time_info *p = &evtchn_shared_info()->vcpu_info[0].time;
	p->version += 2;
	p->system_time += 1000000;
	u32 damaged = p->version;
	HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
	read_both(&prim, &sec);
	if (prim.version == damaged || !same_time(&prim, &sec) || sec.version == first ||
	    time_by(&prim, rdtsc_now()) < last_ns)
		fail("a damaged record was not rewritten: version %u (damaged %u), copy %u, "
		     "system time %lu", prim.version, damaged, sec.version, prim.system_time);
	printf("pvtest: vcputime: a damaged record is rewritten before the vCPU runs again\n");

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
