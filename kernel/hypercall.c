/* Hypercall dispatch: see include/keel/hypercall.h. */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <keel/printk.h>
#include <keel/vmexit.h>
#include <asm/vendor.h>
#include <public/xen.h>

u64 hypercall_counts[64];

static const struct hypercall_desc hypercall_table[] = {
	[__HYPERVISOR_xen_version] = { do_xen_version, "xen_version", HC_ANY },
	[__HYPERVISOR_console_io] = { do_console_io, "console_io", HC_ANY },
	[__HYPERVISOR_sched_op] = { do_sched_op, "sched_op", HC_ANY },
};

static unsigned guest_cpl(struct vcpu *v)
{
	/* SS.DPL is the CPL (SDM vol. 3 5.5; the VMCB's CPL field mirrors
	 * it on AMD). */
	struct vseg ss;
	vendor->get_seg(v, VSEG_SS, &ss);
	return (ss.attr >> 5) & 3;
}

enum exit_action handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
	u64 *g = v->arch.gprs;
	u64 nr = g[GPR_RAX];
	long ret;
	(void)e;

	if (guest_cpl(v) != 0) {
		/* Xen: hypercalls from guest user mode fail with -EPERM. */
		ret = -EPERM;
	} else if (nr >= ARRAY_SIZE(hypercall_table) || !hypercall_table[nr].fn) {
		ret = -ENOSYS;
	} else if (hypercall_table[nr].who == HC_DOM0_ONLY && !v->dom->privileged) {
		ret = -EPERM;
	} else {
		/* 32-bit guests pass arguments in EBX, ECX, EDX, ESI, EDI;
		 * Keel's PVH guests switch to long mode before any call, and
		 * Linux PVH does too, so only the 64-bit ABI is decoded. */
		ret = hypercall_table[nr].fn(v, g[GPR_RDI], g[GPR_RSI], g[GPR_RDX], g[GPR_R10],
					     g[GPR_R8]);
	}
	if (nr < ARRAY_SIZE(hypercall_counts))
		hypercall_counts[nr]++;
	if (!v->runnable)
		return EXIT_STOP; /* the call shut the domain down */
	g[GPR_RAX] = (u64)ret;
	return EXIT_ADVANCE;
}
