/* Domain-control wrappers: see domctl.h. */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/sched.h>
#include "domctl.h"
#include "guest.h"
#include "hypercall.h"

long HYPERVISOR_domctl(struct xen_domctl *op)
{
	return hypercall6(__HYPERVISOR_domctl, (u64)(uintptr_t)op, 0, 0, 0, 0);
}

long HYPERVISOR_sysctl(struct xen_sysctl *op)
{
	return hypercall6(__HYPERVISOR_sysctl, (u64)(uintptr_t)op, 0, 0, 0, 0);
}

static void op_init(struct xen_domctl *op, u32 cmd, domid_t domid)
{
	memset(op, 0, sizeof(*op));
	op->cmd = cmd;
	op->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	op->domain = domid;
}

static int simple(u32 cmd, domid_t domid)
{
	struct xen_domctl op;
	op_init(&op, cmd, domid);
	return (int)HYPERVISOR_domctl(&op);
}

int domctl_create(domid_t *domid, unsigned vcpus, const char *name)
{
	struct xen_domctl op;
	op_init(&op, XEN_DOMCTL_createdomain, *domid);
	op.u.createdomain.flags = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap;
	op.u.createdomain.max_vcpus = vcpus;
	if (name)
		memcpy(op.u.createdomain.name, name,
		       MIN(strlen(name), sizeof(op.u.createdomain.name)));
	int rc = (int)HYPERVISOR_domctl(&op);
	if (rc == 0)
		*domid = op.domain;
	return rc;
}

int domctl_destroy(domid_t domid)
{
	return simple(XEN_DOMCTL_destroydomain, domid);
}

int domctl_pause(domid_t domid)
{
	return simple(XEN_DOMCTL_pausedomain, domid);
}

int domctl_unpause(domid_t domid)
{
	return simple(XEN_DOMCTL_unpausedomain, domid);
}

int domctl_max_mem(domid_t domid, u64 max_kb)
{
	struct xen_domctl op;
	op_init(&op, XEN_DOMCTL_max_mem, domid);
	op.u.max_mem.max_memkb = max_kb;
	return (int)HYPERVISOR_domctl(&op);
}

int domctl_populate_ram(domid_t domid, u64 gpa, u64 nr_pages)
{
	struct xen_domctl op;
	op_init(&op, KEEL_DOMCTL_populate_ram, domid);
	op.u.populate_ram.gpa = gpa;
	op.u.populate_ram.nr_pages = nr_pages;
	return (int)HYPERVISOR_domctl(&op);
}

int domctl_pvh_build_mods(domid_t domid, const void *image, u64 size, const char *cmdline,
			  const struct keel_domctl_pvh_module *mods, u32 nr)
{
	return domctl_pvh_build_flags(domid, image, size, cmdline, mods, nr, 0);
}

int domctl_pvh_build_flags(domid_t domid, const void *image, u64 size, const char *cmdline,
			   const struct keel_domctl_pvh_module *mods, u32 nr, u32 flags)
{
	struct xen_domctl op;
	op_init(&op, KEEL_DOMCTL_pvh_build, domid);
	op.u.pvh_build.image = (u64)(uintptr_t)image;
	op.u.pvh_build.image_size = size;
	op.u.pvh_build.cmdline = (u64)(uintptr_t)cmdline;
	op.u.pvh_build.cmdline_len = cmdline ? (u32)strlen(cmdline) : 0;
	op.u.pvh_build.modules = (u64)(uintptr_t)mods;
	op.u.pvh_build.nr_modules = nr;
	op.u.pvh_build.flags = flags;
	return (int)HYPERVISOR_domctl(&op);
}

int domctl_pvh_build(domid_t domid, const void *image, u64 size, const char *cmdline)
{
	return domctl_pvh_build_mods(domid, image, size, cmdline, NULL, 0);
}

int domctl_getdomaininfo(domid_t domid, struct xen_domctl_getdomaininfo *info)
{
	struct xen_domctl op;
	op_init(&op, XEN_DOMCTL_getdomaininfo, domid);
	int rc = (int)HYPERVISOR_domctl(&op);
	if (rc == 0)
		*info = op.u.getdomaininfo;
	return rc;
}

int domctl_getvcpuinfo(domid_t domid, u32 vcpu, struct xen_domctl_getvcpuinfo *info)
{
	struct xen_domctl op;
	op_init(&op, XEN_DOMCTL_getvcpuinfo, domid);
	op.u.getvcpuinfo.vcpu = vcpu;
	int rc = (int)HYPERVISOR_domctl(&op);
	if (rc == 0)
		*info = op.u.getvcpuinfo;
	return rc;
}

int domctl_set_weight(domid_t domid, u16 weight)
{
	struct xen_domctl op;
	op_init(&op, XEN_DOMCTL_scheduler_op, domid);
	op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_putinfo;
	op.u.scheduler_op.u.credit.weight = weight;
	return (int)HYPERVISOR_domctl(&op);
}

int domctl_get_weight(domid_t domid, u16 *weight)
{
	struct xen_domctl op;
	op_init(&op, XEN_DOMCTL_scheduler_op, domid);
	op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
	op.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_getinfo;
	int rc = (int)HYPERVISOR_domctl(&op);
	if (rc == 0)
		*weight = op.u.scheduler_op.u.credit.weight;
	return rc;
}

int domctl_exit_counts(domid_t domid, u64 *counts, u32 nr, u32 *total)
{
	struct xen_domctl op;
	op_init(&op, KEEL_DOMCTL_get_exit_counts, domid);
	op.u.exit_counts.buffer = (u64)(uintptr_t)counts;
	op.u.exit_counts.nr = nr;
	int rc = (int)HYPERVISOR_domctl(&op);
	if (rc == 0 && total)
		*total = op.u.exit_counts.total;
	return rc;
}

int domctl_console_write(domid_t domid, const char *buf, u32 len)
{
	struct xen_domctl op;
	op_init(&op, KEEL_DOMCTL_console_write, domid);
	op.u.console_write.buffer = (u64)(uintptr_t)buf;
	op.u.console_write.len = len;
	return (int)HYPERVISOR_domctl(&op);
}

/* A sysctl whose answer is all in op->u: cmd issued with nothing else
 * set. */
static int sysctl_query(u32 cmd, struct xen_sysctl *op)
{
	memset(op, 0, sizeof(*op));
	op->cmd = cmd;
	op->interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	return (int)HYPERVISOR_sysctl(op);
}

int sysctl_physinfo(struct xen_sysctl_physinfo *info)
{
	struct xen_sysctl op;
	int rc = sysctl_query(XEN_SYSCTL_physinfo, &op);
	if (rc == 0)
		*info = op.u.physinfo;
	return rc;
}

static int readconsole(char *buf, u32 size, bool clear, u32 *n)
{
	struct xen_sysctl op;
	memset(&op, 0, sizeof(op));
	op.cmd = XEN_SYSCTL_readconsole;
	op.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	op.u.readconsole.clear = clear;
	op.u.readconsole.buffer = (u64)(uintptr_t)buf;
	op.u.readconsole.count = size;
	int rc = (int)HYPERVISOR_sysctl(&op);
	if (rc == 0)
		*n = op.u.readconsole.count;
	return rc;
}

int sysctl_readconsole(char *buf, u32 size, u32 *n)
{
	return readconsole(buf, size, false, n);
}

int sysctl_readconsole_clear(char *buf, u32 size, u32 *n)
{
	return readconsole(buf, size, true, n);
}

int sysctl_counts(struct keel_sysctl_counts *c)
{
	struct xen_sysctl op;
	int rc = sysctl_query(KEEL_SYSCTL_counts, &op);
	if (rc == 0)
		*c = op.u.counts;
	return rc;
}

int sysctl_irq_counts(struct keel_sysctl_irqs *k)
{
	struct xen_sysctl op;
	int rc = sysctl_query(KEEL_SYSCTL_irq_counts, &op);
	if (rc == 0)
		*k = op.u.irqs;
	return rc;
}

u64 sysctl_free_pages(void)
{
	struct xen_sysctl_physinfo pi;
	return sysctl_physinfo(&pi) ? 0 : pi.free_pages;
}

int sysctl_domain_list(domid_t first, struct xen_domctl_getdomaininfo *buf, u32 max, u32 *n)
{
	struct xen_sysctl op;
	memset(&op, 0, sizeof(op));
	op.cmd = XEN_SYSCTL_getdomaininfolist;
	op.interface_version = XEN_SYSCTL_INTERFACE_VERSION;
	op.u.getdomaininfolist.first_domain = first;
	op.u.getdomaininfolist.max_domains = max;
	op.u.getdomaininfolist.buffer = (u64)(uintptr_t)buf;
	int rc = (int)HYPERVISOR_sysctl(&op);
	if (rc == 0)
		*n = op.u.getdomaininfolist.num_domains;
	return rc;
}

const char *domctl_state_name(const struct xen_domctl_getdomaininfo *info)
{
	static const char *const reasons[] = { "poweroff", "reboot", "suspend",
					       "crash", "watchdog", "soft_reset" };
	static char buf[32];
	u32 f = info->flags;

	if (f & XEN_DOMINF_dying)
		return "dying";
	if (f & XEN_DOMINF_shutdown) {
		u32 code = (f >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask;
		if (code == SHUTDOWN_crash)
			return "crashed";
		snprintf(buf, sizeof(buf), "shutdown(%s)",
			 code < ARRAY_SIZE(reasons) ? reasons[code] : "?");
		return buf;
	}
	if (f & XEN_DOMINF_paused)
		return "paused";
	if (f & XEN_DOMINF_running)
		return "running";
	if (f & XEN_DOMINF_blocked)
		return "blocked";
	return "runnable";
}

void domctl_print_list(void)
{
	static struct xen_domctl_getdomaininfo list[16];
	u32 n = 0;
	domid_t first = 0;

	printf("  id name             state              pages   vcpu-ms      exits\n");
	for (;;) {
		int rc = sysctl_domain_list(first, list, ARRAY_SIZE(list), &n);
		if (rc) {
			printf("  (domain list: error %d)\n", rc);
			return;
		}
		for (u32 i = 0; i < n; i++) {
			const struct xen_domctl_getdomaininfo *d = &list[i];
			char name[sizeof(d->name) + 1];
			memcpy(name, d->name, sizeof(d->name));
			name[sizeof(d->name)] = 0;
			printf("  %2u %-16s %-16s %7lu %9lu %10lu\n", d->domain, name,
			       domctl_state_name(d), d->tot_pages, d->cpu_time / 1000000,
			       d->nr_exits);
		}
		if (n < ARRAY_SIZE(list))
			return;
		first = list[n - 1].domain + 1;
	}
}
