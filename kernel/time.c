/*
 * PV time: see include/keel/vtimer.h.
 *
 * One clock for everything: system time is the TSC since boot scaled to
 * nanoseconds with the pvclock formula (kernel/time_scale.c), so what the
 * hypervisor computes for a deadline and what a guest computes from its
 * vcpu_time_info agree to the nanosecond. Guests read the TSC directly
 * (no offset, no RDTSC exits), and there is one physical CPU, so the TSC
 * every vCPU sees is the same monotonic counter: vcpu_time_info carries
 * XEN_PVCLOCK_TSC_STABLE_BIT, which lets Linux skip its cross-CPU
 * monotonicity clamp (docs/xen-abi.md section 3).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/hypercall.h>
#include <keel/printk.h>
#include <keel/sched.h>
#include <keel/vtimer.h>
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/rtc.h>
#include <asm/vintc.h>
#include <public/vcpu.h>
#include <public/xen.h>


static struct time_scale tsc_scale;
static u64 tsc_at_boot;
static u64 wallclock_sec; /* wall time at system time 0 */
static u64 tsc_khz;       /* apic_tsc_hz() / 1000, for the per-switch deadline */
/* The pvclock record (keel/vtimer.h), built once by time_init. */
static struct vcpu_time_info record;

int time_init(void)
{
	int rc = apic_init();
	if (rc)
		return rc;
	time_scale_from_hz(&tsc_scale, apic_tsc_hz());
	wallclock_sec = rtc_read_unix();
	tsc_at_boot = rdtsc();
	tsc_khz = apic_tsc_hz() / 1000;
	record = (struct vcpu_time_info){
		.tsc_timestamp = tsc_at_boot,
		.system_time = 0,
		.tsc_to_system_mul = tsc_scale.mul,
		.tsc_shift = tsc_scale.shift,
		.flags = XEN_PVCLOCK_TSC_STABLE_BIT,
	};
	pr_info("time: TSC %lu kHz (pvclock mul 0x%x shift %d), wallclock %lu\n",
		apic_tsc_hz() / 1000, tsc_scale.mul, tsc_scale.shift, wallclock_sec);
	return 0;
}

u64 time_now_ns(void)
{
	return time_scale_apply(&tsc_scale, rdtsc() - tsc_at_boot);
}

u64 time_tsc_khz(void)
{
	return tsc_khz;
}

u64 time_tsc_at(u64 deadline, u64 now)
{
	u64 tsc = rdtsc();

	return deadline > now ? tsc + (deadline - now) * tsc_khz / 1000000 : tsc;
}

/* ---- timers ------------------------------------------------------------ */

int vtimer_set_singleshot(struct vcpu *v, u64 deadline_ns, u32 flags)
{
	u64 now = time_now_ns();
	if ((flags & VCPU_SSHOTTMR_future) && deadline_ns < now)
		return -ETIME;
	/* 0 means "not armed" internally; a deadline of 0 is in the past
	 * anyway, and fires at once like any other. */
	v->vtimer.singleshot = deadline_ns ? deadline_ns : 1;
	sched_deadline_changed(v->vtimer.singleshot);
	return 0;
}

void vtimer_stop_singleshot(struct vcpu *v)
{
	v->vtimer.singleshot = 0;
}

int vtimer_set_periodic(struct vcpu *v, u64 period_ns)
{
	if (period_ns < VTIMER_PERIOD_MIN_NS || period_ns > VTIMER_DELTA_MAX_NS)
		return -EINVAL;
	v->vtimer.period = period_ns;
	v->vtimer.periodic_next = time_now_ns() + period_ns;
	sched_deadline_changed(v->vtimer.periodic_next);
	return 0;
}

void vtimer_stop_periodic(struct vcpu *v)
{
	v->vtimer.period = 0;
	v->vtimer.periodic_next = 0;
}

void vtimer_reset(struct vcpu *v)
{
	vtimer_stop_singleshot(v);
	vtimer_stop_periodic(v);
}

/* The earlier of two deadlines where 0 means none. */
static u64 earlier(u64 a, u64 b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return MIN(a, b);
}

u64 vtimer_next_deadline(const struct vcpu *v)
{
	u64 a = v->vtimer.singleshot, b = v->vtimer.period ? v->vtimer.periodic_next : 0;
	/* The virtual LAPIC's timer is due on the same clock (asm/vintc.h). */
	return earlier(earlier(a, b), vintc_next_deadline(v));
}

void vtimer_fire(struct vcpu *v, u64 now)
{
	bool fire = false;

	vintc_timer_fire(v, now);
	if (v->vtimer.singleshot && v->vtimer.singleshot <= now) {
		v->vtimer.singleshot = 0;
		fire = true;
	}
	if (v->vtimer.period && v->vtimer.periodic_next <= now) {
		/* Missed periods are not replayed: one event, next expiry
		 * one period from now (as Xen's periodic timer does). */
		v->vtimer.periodic_next = now + v->vtimer.period;
		fire = true;
	}
	if (fire) {
		/* Raises the port bound to VIRQ_TIMER, which kicks v when
		 * that makes an upcall pending (or wakes it from polling that
		 * port). As in Xen, a vCPU that bound nothing is not woken. */
		evtchn_send_virq(v, VIRQ_TIMER);
	}
}

long do_set_timer_op(struct vcpu *v, u64 timeout, u64 a2, u64 a3, u64 a4, u64 a5)
{
	(void)a2, (void)a3, (void)a4, (void)a5;
	if (timeout == 0) {
		vtimer_stop_singleshot(v);
		return 0;
	}
	/* Xen (common/sched/core.c do_set_timer_op) treats a deadline more
	 * than 2^50 ns (13 days) ahead as a wrapped value from an old Linux
	 * jiffies bug and fires soon instead; so does Keel. */
	u64 now = time_now_ns();
	if (timeout > now && timeout - now > (1ULL << 50))
		timeout = now + 50000;
	return vtimer_set_singleshot(v, timeout, 0);
}

/* ---- what guests read --------------------------------------------------- */

/*
 * Does *t already hold the record, with no update under way? The three
 * 8-byte words after the version (the stamp, the system time, then the
 * scale, flags and padding) compared at once: the check runs before
 * every switch (Xen's memcmp in __update_vcpu_system_time).
 */
static bool time_current(const struct vcpu_time_info *t)
{
	const u64 *a = (const u64 *)&t->tsc_timestamp, *b = (const u64 *)&record.tsc_timestamp;

	return !(t->version & 1) && a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

static void write_time(struct vcpu_time_info *t)
{
	/* Odd version while the fields change (the guest retries). The guest
	 * does not run while we write on this one CPU; the barriers keep the
	 * compiler's order for when it does elsewhere. */
	u32 version = t->version | 1;

	t->version = version;
	__asm__ volatile("" ::: "memory");
	t->tsc_timestamp = record.tsc_timestamp;
	t->system_time = record.system_time;
	t->tsc_to_system_mul = record.tsc_to_system_mul;
	t->tsc_shift = record.tsc_shift;
	t->flags = record.flags;
	t->pad1[0] = t->pad1[1] = 0;
	__asm__ volatile("" ::: "memory");
	t->version = version + 1;
}

/*
 * The secondary copy (VCPUOP_register_vcpu_time_memory_area) follows the
 * primary one with the same version protocol, as Xen's
 * update_secondary_system_time does: the version first (odd), then the
 * fields, then the version again (even, equal to the primary's). It is
 * guest-virtual memory reached through v's own page tables (as a
 * supervisor access, as Xen does), so a copy that fails (unmapped,
 * read-only) is skipped, as in Xen, and tried again before v next runs.
 */
static void write_time_secondary(struct vcpu *v, const struct vcpu_time_info *t)
{
	struct vcpu_time_info u = *t;
	gva_t at = v->ev.time_area_gva;
	gva_t ver = at + offsetof(struct vcpu_time_info, version);
	bool ok;

	u.version = t->version | 1;
	if (copy_to_guest_kernel(v, ver, &u.version, sizeof(u.version)))
		return;
	__asm__ volatile("" ::: "memory");
	/* Even if the fields could not all be written, the version goes
	 * back to even: an odd one left behind would make the guest spin. */
	ok = !copy_to_guest_kernel(v, at, &u, sizeof(u));
	__asm__ volatile("" ::: "memory");
	u.version = t->version;
	ok = !copy_to_guest_kernel(v, ver, &u.version, sizeof(u.version)) && ok;
	v->ev.time_area_written = ok ? at : 0;
}

/* Writes what differs from the record, or everything with `force`. */
static void time_write_vcpu(struct vcpu *v, bool force)
{
	struct shared_info *s = v->dom->ev.shared_info;
	if (!s)
		return; /* no shared_info yet: nothing to write */
	struct vcpu_time_info *t = v->ev.vcpu_info ? &v->ev.vcpu_info->time
						   : &s->vcpu_info[v->id].time;
	bool wrote = force || !time_current(t);

	if (wrote)
		write_time(t);
	/* Linux reads vcpu_info[0].time in shared_info for the TSC rate even
	 * after moving its vcpu_info elsewhere (docs/xen-abi.md section 3), so the
	 * legacy slot stays valid too. */
	if (v->id < XEN_LEGACY_MAX_VCPUS && &s->vcpu_info[v->id].time != t &&
	    (force || !time_current(&s->vcpu_info[v->id].time)))
		write_time(&s->vcpu_info[v->id].time);
	if (v->ev.time_area_gva &&
	    (wrote || v->ev.time_area_written != v->ev.time_area_gva))
		write_time_secondary(v, t);
}

void time_update_vcpu(struct vcpu *v)
{
	time_write_vcpu(v, true);
}

void time_refresh_vcpu(struct vcpu *v)
{
	time_write_vcpu(v, false);
}

void time_update_wallclock(struct domain *d)
{
	struct shared_info *s = domain_shared_info(d);
	if (!s)
		return;
	s->wc_version |= 1;
	__asm__ volatile("" ::: "memory");
	s->wc_sec = (u32)wallclock_sec;
	s->wc_sec_hi = (u32)(wallclock_sec >> 32);
	s->wc_nsec = 0;
	__asm__ volatile("" ::: "memory");
	s->wc_version++;
}
