/*
 * hvm_op(cmd, arg) (Xen public/hvm/hvm_op.h, public/hvm/params.h): the
 * per-domain HVM parameters and the event-channel upcall vector.
 *
 * Who may touch which parameter follows Xen's hvm_allow_set_param /
 * hvm_allow_get_param (xen/arch/x86/hvm/hvm.c): a domain may set a few of
 * its own (the callback, the store/console event channels) and read a few
 * more (the store/console pages); the control domain may set and read
 * anything of any domain, except that the "guest may not" rule also binds
 * dom0 for its own parameters. Deprecated indices are -EINVAL for all.
 *
 * Keel acts on HVM_PARAM_CALLBACK_IRQ (event delivery) and validates the
 * values Xen validates for the parameters it keeps; the others are stored
 * and handed back, which is all STORE_PFN/EVTCHN and CONSOLE_PFN/EVTCHN
 * need (dom0 sets them for a domU, the domU reads them).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/hypercall.h>
#include <keel/priv.h>
#include <asm/guest_mem.h>
#include <public/hvm_op.h>
#include <public/params.h>

/* Deprecated parameter numbers (Xen params.h, "deprecated" block). */
#define HVM_PARAM_PAE_ENABLED               4
#define HVM_PARAM_MEMORY_EVENT_CR0         20
#define HVM_PARAM_MEMORY_EVENT_CR3         21
#define HVM_PARAM_MEMORY_EVENT_CR4         22
#define HVM_PARAM_MEMORY_EVENT_INT3        23
#define HVM_PARAM_NESTEDHVM                24
#define HVM_PARAM_MEMORY_EVENT_SINGLE_STEP 25
#define HVM_PARAM_BUFIOREQ_EVTCHN          26
#define HVM_PARAM_MEMORY_EVENT_MSR         30

/* HVM_PARAM_TIMER_MODE's largest value (HVMPTM_one_missed_tick_pending). */
#define HVMPTM_MAX 3

static bool deprecated(u32 index)
{
	switch (index) {
	case HVM_PARAM_PAE_ENABLED:
	case HVM_PARAM_DM_DOMAIN:
	case HVM_PARAM_MEMORY_EVENT_CR0:
	case HVM_PARAM_MEMORY_EVENT_CR3:
	case HVM_PARAM_MEMORY_EVENT_CR4:
	case HVM_PARAM_MEMORY_EVENT_INT3:
	case HVM_PARAM_NESTEDHVM:
	case HVM_PARAM_MEMORY_EVENT_SINGLE_STEP:
	case HVM_PARAM_BUFIOREQ_EVTCHN:
	case HVM_PARAM_MEMORY_EVENT_MSR:
		return true;
	default:
		return false;
	}
}

static int allow_set(struct vcpu *v, struct domain *d, u32 index, u64 value)
{
	u64 old = d->hvm_params[index];

	switch (index) {
	/* A guest may set these on itself. */
	case HVM_PARAM_CALLBACK_IRQ:
	case HVM_PARAM_VM86_TSS:
	case HVM_PARAM_VM86_TSS_SIZED:
	case HVM_PARAM_ACPI_IOPORTS_LOCATION:
	case HVM_PARAM_VM_GENERATION_ID_ADDR:
	case HVM_PARAM_STORE_EVTCHN:
	case HVM_PARAM_CONSOLE_EVTCHN:
	case HVM_PARAM_X87_FIP_WIDTH:
		break;
	case HVM_PARAM_ALTP2M:
		return -EEXIST; /* read-only */
	default:
		if (deprecated(index))
			return -EINVAL;
		if (d == v->dom)
			return -EPERM; /* only a controller sets the rest */
		break;
	}
	/* Set-once parameters. */
	switch (index) {
	case HVM_PARAM_VIRIDIAN:
	case HVM_PARAM_IOREQ_PFN:
	case HVM_PARAM_BUFIOREQ_PFN:
	case HVM_PARAM_IOREQ_SERVER_PFN:
	case HVM_PARAM_NR_IOREQ_SERVER_PAGES:
	case HVM_PARAM_MCA_CAP:
		if (old != 0 && value != old)
			return -EEXIST;
		break;
	}
	return 0;
}

static int set_param(struct vcpu *v, struct domain *d, u32 index, u64 value)
{
	int rc = allow_set(v, d, index, value);

	if (rc)
		return rc;
	switch (index) {
	case HVM_PARAM_CALLBACK_IRQ:
		evtchn_set_callback_via(d, value);
		break;
	case HVM_PARAM_TIMER_MODE:
		if (value > HVMPTM_MAX)
			return -EINVAL;
		break;
	case HVM_PARAM_TRIPLE_FAULT_REASON:
		if (value > SHUTDOWN_MAX)
			return -EINVAL;
		break;
	case HVM_PARAM_X87_FIP_WIDTH:
		if (value != 0 && value != 4 && value != 8)
			return -EINVAL;
		break;
	case HVM_PARAM_NR_IOREQ_SERVER_PAGES:
		if (value == 0 || value > 64)
			return -EINVAL;
		break;
	}
	d->hvm_params[index] = value;
	return 0;
}

static int allow_get(struct vcpu *v, struct domain *d, u32 index)
{
	switch (index) {
	/* A guest may read these of itself. */
	case HVM_PARAM_CALLBACK_IRQ:
	case HVM_PARAM_VM86_TSS:
	case HVM_PARAM_VM86_TSS_SIZED:
	case HVM_PARAM_ACPI_IOPORTS_LOCATION:
	case HVM_PARAM_VM_GENERATION_ID_ADDR:
	case HVM_PARAM_STORE_PFN:
	case HVM_PARAM_STORE_EVTCHN:
	case HVM_PARAM_CONSOLE_PFN:
	case HVM_PARAM_CONSOLE_EVTCHN:
	case HVM_PARAM_ALTP2M:
	case HVM_PARAM_X87_FIP_WIDTH:
		return 0;
	default:
		if (deprecated(index))
			return -EINVAL;
		return d == v->dom ? -EPERM : 0;
	}
}

/* HVMOP_set_param / HVMOP_get_param. */
static long param_op(struct vcpu *v, bool set, gva_t arg)
{
	struct xen_hvm_param a;
	struct domain *d;
	int rc;

	if (copy_from_guest(v, &a, arg, sizeof(a)))
		return -EFAULT;
	if (a.index >= HVM_NR_PARAMS)
		return -EINVAL;
	rc = domain_lookup_target(v->dom, a.domid, &d); /* Xen: XSM_TARGET */
	if (rc)
		return rc;
	if (set)
		return set_param(v, d, a.index, a.value);
	rc = allow_get(v, d, a.index);
	if (rc)
		return rc;
	a.value = d->hvm_params[a.index];
	return copy_to_guest(v, arg, &a, sizeof(a)) ? -EFAULT : 0;
}

static long set_upcall_vector(struct vcpu *v, gva_t arg)
{
	struct xen_hvm_evtchn_upcall_vector op;

	if (copy_from_guest(v, &op, arg, sizeof(op)))
		return -EFAULT;
	/* Vectors below 16 are exceptions' (Xen: -EINVAL). */
	if (op.vector < 0x10)
		return -EINVAL;
	if (op.vcpu >= v->dom->nr_vcpus)
		return -ENOENT;
	evtchn_set_upcall_vector(v->dom->vcpus[op.vcpu], op.vector);
	return 0;
}

static long pagetable_dying(struct vcpu *v, gva_t arg)
{
	struct xen_hvm_pagetable_dying a;
	struct domain *d;

	if (copy_from_guest(v, &a, arg, sizeof(a)))
		return -EFAULT;
	/* Itself only: -ESRCH for no such domain, -EOPNOTSUPP for another. */
	d = domain_by_any_id(v->dom, a.domid);
	if (!d)
		return -ESRCH;
	if (d != v->dom)
		return -EOPNOTSUPP;
	/* A hint for shadow paging only; with nested paging Xen answers
	 * -EINVAL, and Linux stops calling it after any error. */
	return -EINVAL;
}

long do_hvm_op(struct vcpu *v, u64 cmd, u64 arg, u64 a3, u64 a4, u64 a5)
{
	(void)a3;
	(void)a4;
	(void)a5;

	switch (cmd) {
	case HVMOP_set_param:
		return param_op(v, true, arg);
	case HVMOP_get_param:
		return param_op(v, false, arg);
	case HVMOP_set_evtchn_upcall_vector:
		return set_upcall_vector(v, arg);
	case HVMOP_pagetable_dying:
		return pagetable_dying(v, arg);
	default:
		return -ENOSYS;
	}
}
