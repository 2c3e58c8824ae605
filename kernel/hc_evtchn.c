/*
 * event_channel_op(cmd, arg) (Xen public/event_channel.h): copies the
 * argument in, runs the operation (kernel/evtchn.c), copies the result
 * back. As in Xen, results are copied back only on success, and a failure
 * to copy them back is -EFAULT with the operation done (undoing it "would
 * be a mess", Xen says, and the guest broke its own buffer).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/hypercall.h>
#include <asm/guest_mem.h>
#include <public/event_channel.h>

/* One operation whose structure goes in and (on success) comes back. */
#define IN_OUT(type, call)                                                     \
	do {                                                                   \
		type op_;                                                      \
		int rc_;                                                       \
		if (copy_from_guest(v, &op_, arg, sizeof(op_)))                \
			return -EFAULT;                                        \
		rc_ = call(v, &op_);                                           \
		if (!rc_ && copy_to_guest(v, arg, &op_, sizeof(op_)))          \
			rc_ = -EFAULT;                                         \
		return rc_;                                                    \
	} while (0)

/* One operation on a port of the caller's own domain, nothing copied back. */
#define ON_PORT(type, call)                                                    \
	do {                                                                   \
		type op_;                                                      \
		if (copy_from_guest(v, &op_, arg, sizeof(op_)))                \
			return -EFAULT;                                        \
		return call(v->dom, op_.port);                                 \
	} while (0)

long do_event_channel_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5)
{
	(void)a3;
	(void)a4;
	(void)a5;

	switch (cmd) {
	case EVTCHNOP_alloc_unbound:
		IN_OUT(struct evtchn_alloc_unbound, evtchn_op_alloc_unbound);
	case EVTCHNOP_bind_interdomain:
		IN_OUT(struct evtchn_bind_interdomain, evtchn_op_bind_interdomain);
	case EVTCHNOP_bind_virq:
		IN_OUT(struct evtchn_bind_virq, evtchn_op_bind_virq);
	case EVTCHNOP_bind_ipi:
		IN_OUT(struct evtchn_bind_ipi, evtchn_op_bind_ipi);
	case EVTCHNOP_status:
		IN_OUT(struct evtchn_status, evtchn_op_status);
	case EVTCHNOP_close:
		ON_PORT(struct evtchn_close, evtchn_op_close);
	case EVTCHNOP_send:
		ON_PORT(struct evtchn_send, evtchn_op_send);
	case EVTCHNOP_unmask:
		ON_PORT(struct evtchn_unmask, evtchn_op_unmask);
	case EVTCHNOP_set_priority:
		ON_PORT(struct evtchn_set_priority, evtchn_op_set_priority);
	case EVTCHNOP_bind_vcpu: {
		struct evtchn_bind_vcpu b;
		if (copy_from_guest(v, &b, arg, sizeof(b)))
			return -EFAULT;
		return evtchn_op_bind_vcpu(v->dom, b.port, b.vcpu);
	}
	case EVTCHNOP_reset:
	case EVTCHNOP_reset_cont: {
		struct evtchn_reset r;
		if (copy_from_guest(v, &r, arg, sizeof(r)))
			return -EFAULT;
		return evtchn_op_reset(v, r.dom);
	}
	case EVTCHNOP_bind_pirq: {
		/* dom0's physical IRQs (kernel/pirq.c); a domU has no mapped
		 * pirq, for which Xen answers -EINVAL. */
		struct evtchn_bind_pirq b;
		if (copy_from_guest(v, &b, arg, sizeof(b)))
			return -EFAULT;
		int rc = evtchn_op_bind_pirq(v, &b);
		if (rc == 0 && copy_to_guest(v, arg, &b, sizeof(b)))
			return -EFAULT;
		return rc;
	}
	case EVTCHNOP_init_control:
	case EVTCHNOP_expand_array:
		/* No FIFO ABI: Linux falls back to 2-level on this error. */
		return -ENOSYS;
	default:
		return -ENOSYS;
	}
}
