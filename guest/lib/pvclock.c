/* PV time for guests: see pvclock.h. */
#include <lib/errno.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include "evtchn.h"
#include "hypercall.h"
#include "pvclock.h"

static inline u64 rdtsc_ordered(void)
{
	u32 lo, hi;
	/* LFENCE keeps RDTSC from running ahead of the version read
	 * (Linux's rdtsc_ordered). */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((u64)hi << 32) | lo;
}

u64 pvclock_scale_delta(u64 delta, u32 mul, s8 shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (u64)(((unsigned __int128)delta * mul) >> 32);
}

static const volatile struct vcpu_time_info *time_info(void)
{
	struct shared_info *s = evtchn_shared_info();
	/* Linux reads vcpu_info[0].time in shared_info; the hypervisor keeps
	 * it valid whether or not vcpu_info was moved. */
	return s ? &s->vcpu_info[0].time : NULL;
}

u64 pvclock_now_ns(void)
{
	const volatile struct vcpu_time_info *t = time_info();
	u32 version;
	u64 ns;

	if (!t)
		return 0;
	do {
		version = t->version;
		__asm__ volatile("" ::: "memory");
		ns = t->system_time +
		     pvclock_scale_delta(rdtsc_ordered() - t->tsc_timestamp, t->tsc_to_system_mul,
					 t->tsc_shift);
		__asm__ volatile("" ::: "memory");
	} while ((version & 1) || version != t->version);
	return ns;
}

u64 pvclock_tsc_khz(void)
{
	const volatile struct vcpu_time_info *t = time_info();
	if (!t || !t->tsc_to_system_mul)
		return 0;
	u64 khz = (1000000ULL << 32) / t->tsc_to_system_mul;
	return t->tsc_shift < 0 ? khz << -t->tsc_shift : khz >> t->tsc_shift;
}

bool pvclock_tsc_stable(void)
{
	const volatile struct vcpu_time_info *t = time_info();
	return t && (t->flags & XEN_PVCLOCK_TSC_STABLE_BIT);
}

u64 pvclock_wallclock_sec(void)
{
	struct shared_info *s = evtchn_shared_info();
	volatile struct shared_info *vs = s;
	u32 version, sec, hi;

	if (!s)
		return 0;
	do {
		version = vs->wc_version;
		__asm__ volatile("" ::: "memory");
		sec = vs->wc_sec;
		hi = vs->wc_sec_hi;
		__asm__ volatile("" ::: "memory");
	} while ((version & 1) || version != vs->wc_version);
	return (((u64)hi << 32) | sec) + pvclock_now_ns() / 1000000000ULL;
}

int pvclock_timer_set(u64 deadline_ns, u32 flags)
{
	struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline_ns, .flags = flags };
	return (int)HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

int pvclock_timer_stop(void)
{
	return (int)HYPERVISOR_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
}

void pvclock_sleep_ns(u64 ns)
{
	u64 end = pvclock_now_ns() + ns;
	for (u64 now = pvclock_now_ns(); now && now < end; now = pvclock_now_ns())
		evtchn_poll(NULL, 0, end);
}
