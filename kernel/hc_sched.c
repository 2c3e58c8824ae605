/* sched_op (Xen public/sched.h). */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/hypercall.h>
#include <keel/priv.h>
#include <keel/sched.h>
#include <asm/guest_mem.h>
#include <public/sched.h>

long do_sched_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5)
{
	(void)a3;
	(void)a4;
	(void)a5;

	switch (cmd) {
	case SCHEDOP_yield:
		vcpu_yield(v);
		return 0;
	case SCHEDOP_block:
		return evtchn_sched_block(v);
	case SCHEDOP_poll:
		return evtchn_sched_poll(v, arg);
	case SCHEDOP_shutdown: {
		struct sched_shutdown s;
		if (copy_from_guest(v, &s, arg, sizeof(s)))
			return -EFAULT;
		if (s.reason > SHUTDOWN_MAX)
			return -EINVAL;
		domain_shutdown(v->dom, (int)s.reason);
		return 0;
	}
	case SCHEDOP_remote_shutdown: {
		/* Xen: the control domain shuts another domain down (as if
		 * that domain had asked); anyone else gets -EPERM. */
		struct sched_remote_shutdown r;
		if (copy_from_guest(v, &r, arg, sizeof(r)))
			return -EFAULT;
		struct domain *d = domain_by_id(r.domain_id);
		if (!d)
			return -ESRCH;
		if (!is_control_domain(v->dom))
			return -EPERM;
		if (r.reason > SHUTDOWN_MAX)
			return -EINVAL;
		domain_shutdown(d, (int)r.reason);
		return 0;
	}
	default:
		return -ENOSYS;
	}
}
