/* Hypercall dispatch: see include/keel/hypercall.h. */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/hypercall.h>
#include <keel/pirq.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <keel/vmexit.h>
#include <asm/vendor.h>
#include <public/xen.h>

static const struct hypercall_desc hypercall_table[] = {
	[__HYPERVISOR_xen_version] = { do_xen_version, "xen_version", HC_ANY },
	[__HYPERVISOR_console_io] = { do_console_io, "console_io", HC_ANY },
	[__HYPERVISOR_sched_op] = { do_sched_op, "sched_op", HC_ANY },
	[__HYPERVISOR_memory_op] = { do_memory_op, "memory_op", HC_ANY },
	[__HYPERVISOR_vcpu_op] = { do_vcpu_op, "vcpu_op", HC_ANY },
	[__HYPERVISOR_event_channel_op] = { do_event_channel_op, "event_channel_op", HC_ANY },
	[__HYPERVISOR_hvm_op] = { do_hvm_op, "hvm_op", HC_ANY },
	[__HYPERVISOR_set_timer_op] = { do_set_timer_op, "set_timer_op", HC_ANY },
	[__HYPERVISOR_domctl] = { do_domctl, "domctl", HC_DOM0_ONLY },
	[__HYPERVISOR_sysctl] = { do_sysctl, "sysctl", HC_DOM0_ONLY },
	[__HYPERVISOR_grant_table_op] = { do_grant_table_op, "grant_table_op", HC_ANY },
	[__HYPERVISOR_physdev_op] = { do_physdev_op, "physdev_op", HC_DOM0_ONLY },
};

long hypercall_continue(struct vcpu *v, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	u64 *g = v->arch.gprs;

	g[GPR_RDI] = a1;
	g[GPR_RSI] = a2;
	g[GPR_RDX] = a3;
	g[GPR_R10] = a4;
	g[GPR_R8] = a5;
	return -ERESTART;
}

enum exit_action handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
	u64 *g = v->arch.gprs;
	u64 nr = g[GPR_RAX];
	long ret;

	/* e->cpl: SS.DPL, the CPL (SDM vol. 3 5.5), from the back end's
	 * decode (include/keel/exit.h). */
	if (e->cpl != 0) {
		/* Xen: hypercalls from guest user mode fail with -EPERM. */
		ret = -EPERM;
	} else if (nr >= ARRAY_SIZE(hypercall_table) || !hypercall_table[nr].fn) {
		ret = -ENOSYS;
	} else if (hc_check_caller(hypercall_table[nr].who, v->dom)) {
		ret = -EPERM;
	} else {
		/* 32-bit guests pass arguments in EBX, ECX, EDX, ESI, EDI;
		 * Keel's PVH guests switch to long mode before any call, and
		 * Linux PVH does too, so only the 64-bit ABI is decoded. */
		ret = hypercall_table[nr].fn(v, g[GPR_RDI], g[GPR_RSI], g[GPR_RDX], g[GPR_R10],
					     g[GPR_R8]);
	}
	if (!v->runnable)
		return EXIT_STOP; /* the call shut the domain down */
	if (ret == -ERESTART)
		return EXIT_RETAIN; /* hypercall_continue(): run it again */
	g[GPR_RAX] = (u64)ret;
	return EXIT_ADVANCE;
}
