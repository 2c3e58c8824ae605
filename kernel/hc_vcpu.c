/*
 * vcpu_op(cmd, vcpuid, arg) (Xen public/vcpu.h; common/domain.c
 * common_vcpu_op and arch/x86/domain.c do_vcpu_op): operations on a vCPU
 * of the caller's own domain. The timers are kernel/time.c's
 * (include/keel/vtimer.h); vcpu_info placement is kernel/shared_info.c's.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/hypercall.h>
#include <keel/vtimer.h>
#include <asm/guest_mem.h>
#include <public/vcpu.h>

/* VCPUOP_register_runstate_memory_area: Linux needs it to succeed (it
 * BUGs otherwise) and reads steal time from it. Keel records the address
 * and writes the current state once; the scheduler keeps it up to date
 * when it accounts runstate times. The address is guest-virtual and, as
 * in Xen for HVM guests, not checked: a bad one just gets no updates. */
static long register_runstate(struct vcpu *cur, struct vcpu *v, gva_t arg)
{
	struct vcpu_register_runstate_memory_area area;
	struct vcpu_runstate_info rs = { .state = RUNSTATE_running };

	if (copy_from_guest(cur, &area, arg, sizeof(area)))
		return -EFAULT;
	v->ev.runstate_gva = area.addr;
	if (v != cur)
		rs.state = v->blocked ? RUNSTATE_blocked : v->runnable ? RUNSTATE_runnable
									 : RUNSTATE_offline;
	(void)copy_to_guest(cur, area.addr, &rs, sizeof(rs));
	return 0;
}

/* VCPUOP_register_vcpu_time_memory_area (Xen public/vcpu.h; x86
 * arch_do_vcpu_op): a second copy of v's vcpu_time_info at a guest-virtual
 * address, which time_update_vcpu rewrites whenever it rewrites the
 * primary one (Linux maps it into its vDSO when TSC_STABLE is set). As in
 * Xen for HVM guests the address is not checked here (guest_handle_okay
 * accepts any): a bad one just gets no updates. 0 unregisters. */
static long register_time_area(struct vcpu *cur, struct vcpu *v, gva_t arg)
{
	struct vcpu_register_time_memory_area area;

	if (copy_from_guest(cur, &area, arg, sizeof(area)))
		return -EFAULT;
	v->ev.time_area_gva = area.addr;
	/* Not written there yet (even if it was once, before a move away
	 * and back): the scheduler's refresh writes a copy it has not
	 * written at the current address (kernel/time.c). Written at once
	 * only for the caller itself: another vCPU's paging may not be set
	 * up yet; it gets its copy when it next runs. */
	v->ev.time_area_written = 0;
	if (v == cur)
		time_update_vcpu(v);
	return 0;
}

static long vcpu_info_op(struct vcpu *cur, struct vcpu *v, gva_t arg)
{
	struct vcpu_register_vcpu_info info;
	int rc;

	if (copy_from_guest(cur, &info, arg, sizeof(info)))
		return -EFAULT;
	rc = register_vcpu_info(v, info.mfn, info.offset);
	/* The pvclock in its new place; another vCPU gets it when it next
	 * runs (its paging may not be set up yet: see register_time_area). */
	if (!rc && v == cur)
		time_update_vcpu(v);
	return rc;
}

long do_vcpu_op(struct vcpu *cur, u64 cmd, u64 vcpuid, u64 arg, u64 a4, u64 a5)
{
	struct domain *d = cur->dom;
	struct vcpu *v;
	(void)a4;
	(void)a5;

	if (vcpuid >= d->nr_vcpus)
		return -ENOENT;
	v = d->vcpus[vcpuid];

	switch (cmd) {
	case VCPUOP_is_up:
		/* "Up" = not taken down (Xen's _VPF_down); a vCPU of a
		 * running domain that was started, asleep or not. */
		return v->runnable;
	case VCPUOP_register_vcpu_info:
		return vcpu_info_op(cur, v, arg);
	case VCPUOP_register_runstate_memory_area:
		return register_runstate(cur, v, arg);
	case VCPUOP_register_vcpu_time_memory_area:
		return register_time_area(cur, v, arg);
	case VCPUOP_set_singleshot_timer: {
		struct vcpu_set_singleshot_timer t;
		if (v != cur)
			return -EINVAL; /* Xen: only for oneself */
		if (copy_from_guest(cur, &t, arg, sizeof(t)))
			return -EFAULT;
		return vtimer_set_singleshot(v, t.timeout_abs_ns, t.flags);
	}
	case VCPUOP_stop_singleshot_timer:
		if (v != cur)
			return -EINVAL;
		vtimer_stop_singleshot(v);
		return 0;
	case VCPUOP_set_periodic_timer: {
		struct vcpu_set_periodic_timer t;
		if (copy_from_guest(cur, &t, arg, sizeof(t)))
			return -EFAULT;
		return vtimer_set_periodic(v, t.period_ns);
	}
	case VCPUOP_stop_periodic_timer:
		vtimer_stop_periodic(v);
		return 0;
	default:
		return -ENOSYS;
	}
}
