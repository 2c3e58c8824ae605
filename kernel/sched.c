/*
 * The scheduler, for now: round-robin over runnable vCPUs on the one
 * physical CPU, each running until it yields, blocks or stops (time
 * slices enforced by the host timer come with the APIC work). When dom0
 * is gone the machine stops the way dom0 asked.
 */
#include <keel/domain.h>
#include <keel/machine.h>
#include <keel/printk.h>
#include <keel/sched.h>
#include <keel/vmexit.h>

static enum stop_reason dom0_stop_reason(const struct domain *d0)
{
	if (d0->state == DOM_CRASHED)
		return STOP_CRASH;
	switch (d0->shutdown_reason) {
	case SHUTDOWN_poweroff:
	case SHUTDOWN_suspend: /* no suspend support: treat as poweroff */
		return STOP_POWEROFF;
	case SHUTDOWN_reboot:
	case SHUTDOWN_soft_reset:
		return STOP_REBOOT;
	default:
		return STOP_CRASH;
	}
}

void sched_run(void)
{
	for (;;) {
		bool ran = false;
		for (unsigned id = 0; id < DOMID_MAX; id++) {
			struct domain *d = domain_by_id(id);
			if (!d || !domain_is_alive(d))
				continue;
			for (unsigned i = 0; i < d->nr_vcpus; i++) {
				struct vcpu *v = d->vcpus[i];
				if (v->runnable && !v->blocked) {
					vcpu_run(v);
					ran = true;
				}
			}
		}
		struct domain *d0 = domain_by_id(0);
		if (!d0 || !domain_is_alive(d0)) {
			pr_info("dom0 has stopped: stopping the machine\n");
			machine_stop(d0 ? dom0_stop_reason(d0) : STOP_PANIC);
		}
		if (!ran) {
			pr_err("every vCPU is blocked and nothing can wake them\n");
			machine_stop(STOP_PANIC);
		}
	}
}
