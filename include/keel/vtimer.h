/*
 * PV time (kernel/time.c): the hypervisor's system clock, the pvclock
 * (struct vcpu_time_info) each vCPU finds in its vcpu_info, the wallclock
 * in shared_info, and the per-vCPU one-shot and periodic timers that raise
 * VIRQ_TIMER (Xen public/xen.h "vcpu_time_info", public/vcpu.h
 * VCPUOP_*_timer; docs/xen-abi.md section 3).
 *
 * System time is nanoseconds since the hypervisor calibrated the TSC at
 * boot, the same clock for every domain; it is what guests see as
 * `system_time` and what timer deadlines are measured in.
 *
 * Callers: kernel/hc_vcpu.c (VCPUOP_set_singleshot_timer & co.), the
 * event-channel code (time_update_vcpu when vcpu_info is placed or moved,
 * time_update_wallclock when shared_info is placed), the scheduler (which
 * asks vtimer_next_deadline when to wake up and calls vtimer_fire).
 * Single physical CPU, hypervisor runs with interrupts off: no locking.
 */
#ifndef KEEL_VTIMER_H
#define KEEL_VTIMER_H

#include <lib/types.h>
#include <asm/cpu.h>

struct vcpu;
struct domain;

/* Per-vCPU timer state, embedded in struct vcpu (keel/domain.h). */
struct vtimer {
	u64 singleshot;   /* deadline (system time, ns); 0 = not armed */
	u64 period;       /* periodic timer period in ns; 0 = stopped */
	u64 periodic_next;/* next periodic expiry (system time, ns) */
};

/* Xen's bounds for VCPUOP_set_periodic_timer (common/domain.c): at least
 * 1 ms; and the longest delta a deadline may have. */
#define VTIMER_PERIOD_MIN_NS 1000000ULL
#define VTIMER_DELTA_MAX_NS  (1ULL << 62)

/* Brings up the host APIC timer, calibrates the TSC against the PIT,
 * reads the RTC for the wallclock and starts system time at 0. Called
 * once at boot before any domain runs. 0, or -ENODEV (reason printed). */
int time_init(void);

/* System time: ns since time_init. Monotonic. */
u64 time_now_ns(void);

/* TSC frequency in kHz as calibrated at boot. */
u64 time_tsc_khz(void);

/* The TSC value at which system time will be `deadline`, given `now`,
 * the system time just read (rounded down: a compare of the TSC with it
 * answers at most a few cycles late, never a slice late). For checks on
 * every VM exit, where scaling the TSC to nanoseconds costs more than the
 * check: time_tsc_reached() is true once the TSC is there. */
u64 time_tsc_at(u64 deadline, u64 now);
/* Inline: it runs before every VM entry (sched_must_leave). */
static inline bool time_tsc_reached(u64 tsc)
{
	return rdtsc() >= tsc;
}

/*
 * VCPUOP_set_singleshot_timer: arms v's one-shot timer for the absolute
 * system time `deadline_ns`, replacing any earlier one. With
 * VCPU_SSHOTTMR_future in `flags`, a deadline already in the past is
 * refused with -ETIME (nothing changes); otherwise it fires at once. Other
 * flag bits are ignored, as Xen does. Returns 0 or -errno. When it fires, the timer
 * disarms itself and VIRQ_TIMER is sent to v (waking it if blocked).
 */
int vtimer_set_singleshot(struct vcpu *v, u64 deadline_ns, u32 flags);

/* VCPUOP_stop_singleshot_timer: disarms it (no-op when not armed). */
void vtimer_stop_singleshot(struct vcpu *v);

/* VCPUOP_set_periodic_timer: VIRQ_TIMER every period_ns, first at
 * now + period_ns. -EINVAL below VTIMER_PERIOD_MIN_NS or above
 * VTIMER_DELTA_MAX_NS. Returns 0 or -errno. */
int vtimer_set_periodic(struct vcpu *v, u64 period_ns);

/* VCPUOP_stop_periodic_timer: stops it (no-op when stopped). */
void vtimer_stop_periodic(struct vcpu *v);

/* Disarms both timers (vCPU destroyed or domain dying). */
void vtimer_reset(struct vcpu *v);

/* The earliest armed deadline of v (system time), or 0 if none; the
 * virtual LAPIC's timer (asm/vintc.h) counts too. */
u64 vtimer_next_deadline(const struct vcpu *v);

/* Fires v's timers whose deadline is <= now: VIRQ_TIMER to v (one event
 * however many expired), re-arming the periodic one, and the virtual
 * LAPIC's timer (its LVT vector). Called by the scheduler. */
void vtimer_fire(struct vcpu *v, u64 now);

/*
 * The record every vcpu_time_info holds (Xen public/xen.h): the stamp
 * is fixed at the TSC of time_init with system time 0, and the scale is
 * the one calibrated at boot, so the guest's
 *   system_time + (((tsc - tsc_timestamp) << tsc_shift) * mul >> 32)
 * is exactly time_now_ns() at every TSC value (the same formula on the
 * same delta), monotonic, with nothing to refresh while the vCPU runs or
 * sleeps (as KVM's master clock, and as Xen, which rewrites the record
 * only when its calibration changed it: __update_vcpu_system_time).
 *
 * time_update_vcpu writes it into v's vcpu_info (nothing when there is
 * none yet), the legacy slot in shared_info and the secondary copy the
 * guest registered with VCPUOP_register_vcpu_time_memory_area, version
 * odd during each update. Call when vcpu_info is placed or moved or the
 * secondary copy registered.
 *
 * time_refresh_vcpu is the scheduler's call before v runs: it rewrites a
 * copy only if it differs from the record (the guest or a move changed
 * it, or shared_info was just placed), or the secondary copy was not yet
 * written at its current address (registered for another vCPU, or its
 * page was not mapped last time). Usually it writes nothing.
 */
void time_update_vcpu(struct vcpu *v);
void time_refresh_vcpu(struct vcpu *v);

/* Writes the wallclock (wc_sec/wc_nsec: wall time at system time 0, from
 * the RTC read at boot) into d's shared_info, wc_version odd during the
 * update. Call when shared_info is placed. */
void time_update_wallclock(struct domain *d);

/* ---- pure helpers (kernel/time_scale.c, unit-tested) ------------------ */

/*
 * The pvclock scale (Xen public/xen.h, vcpu_time_info): ns for a TSC delta
 * d is ((d << shift) * mul) >> 32, with a right shift when shift < 0.
 * time_scale_from_hz picks shift so that mul is in [2^31, 2^32): the most
 * precision 32 bits give.
 */
struct time_scale {
	u32 mul;
	s8 shift;
};

void time_scale_from_hz(struct time_scale *ts, u64 hz);
u64 time_scale_apply(const struct time_scale *ts, u64 delta);

/* Seconds since 1970-01-01 00:00 UTC of a date in the proleptic
 * Gregorian calendar (year >= 1970, month 1-12, day 1-31). */
u64 time_civil_to_unix(unsigned year, unsigned month, unsigned day, unsigned hour,
		       unsigned min, unsigned sec);

#endif
