/*
 * PV time from a Keel guest (guest/lib/pvclock.c): the system clock from
 * the pvclock in vcpu_info (Xen public/xen.h vcpu_time_info; the formula
 * Linux's arch/x86/kernel/pvclock.c uses), the wallclock in shared_info,
 * and the one-shot timer (VCPUOP_set_singleshot_timer), which raises
 * VIRQ_TIMER. Needs evtchn_init() first (shared_info mapped).
 */
#ifndef GUEST_PVCLOCK_H
#define GUEST_PVCLOCK_H

#include <lib/types.h>
#include <public/xen.h>

/* ns for a TSC delta with the record's scale (the pvclock formula). */
u64 pvclock_scale_delta(u64 delta, u32 mul, s8 shift);

/* Hypervisor system time (ns since it booted), read from vCPU 0's
 * vcpu_time_info with the version protocol (retry while odd or changed).
 * 0 before evtchn_init. */
u64 pvclock_now_ns(void);

/* The TSC rate the record implies (kHz): (10^6 << 32) / mul, shifted. */
u64 pvclock_tsc_khz(void);

/* True if the hypervisor set XEN_PVCLOCK_TSC_STABLE_BIT. */
bool pvclock_tsc_stable(void);

/* Wall-clock seconds now: wc_sec (+ wc_sec_hi) + system time. */
u64 pvclock_wallclock_sec(void);

/* VCPUOP_set_singleshot_timer / stop for vCPU 0: 0 or -errno. */
int pvclock_timer_set(u64 deadline_ns, u32 flags);
int pvclock_timer_stop(void);

/* Sleeps about ns nanoseconds: SCHEDOP_poll on no port with a timeout
 * (it also ends early when any event arrives; it then sleeps again until
 * the time is up). */
void pvclock_sleep_ns(u64 ns);

#endif
