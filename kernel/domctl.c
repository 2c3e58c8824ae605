/*
 * domctl (hypercall 36) and sysctl (35): domain control for dom0. The ABI
 * is include/public/domctl.h and sysctl.h, the commands are described in
 * docs/domctl.md. Each command's entry in domctl_table/sysctl_table says
 * who may call it (hc_check_caller, keel/priv.h). Today every command is
 * the control domain's, so the hypercall table gates both families as
 * HC_DOM0_ONLY too, and a domU gets -EPERM before its frame is read.
 *
 * Even dom0's arguments are checked like anyone's: a buggy control domain
 * must get an error, not a broken hypervisor. Each command validates
 * everything before changing anything, so an error leaves all as it was.
 */
#include <keel/domain.h>
#include <keel/guest_console.h>
#include <keel/domctl.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/frame.h>
#include <keel/gnttab.h>
#include <keel/hypercall.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <keel/pvh.h>
#include <keel/sched.h>
#include <keel/vtimer.h>
#include <asm/guest_mem.h>
#include <asm/vendor.h>
#include <public/domctl.h>
#include <public/sysctl.h>

_Static_assert(KEEL_DOMCTL_MAX_VCPUS == MAX_VCPUS, "KEEL_DOMCTL_MAX_VCPUS");

/* ---- domain information ---------------------------------------------- */

static bool vcpu_started(const struct vcpu *v)
{
	return v->runnable;
}

static void fill_domaininfo(struct domain *d, struct xen_domctl_getdomaininfo *info)
{
	struct vcpu *cur = sched_current();
	unsigned online = 0, blocked = 0;
	u64 cpu_time = 0, exits = 0;

	memset(info, 0, sizeof(*info));
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = d->vcpus[i];
		cpu_time += v->sched.run_ns;
		exits += v->nr_exits;
		if (vcpu_started(v)) {
			online++;
			blocked += v->blocked;
		}
	}
	info->domain = d->id;
	info->flags = XEN_DOMINF_hvm_guest | XEN_DOMINF_hap;
	switch (d->state) {
	case DOM_DYING:
		info->flags |= XEN_DOMINF_dying;
		break;
	case DOM_SHUTDOWN:
	case DOM_CRASHED:
		info->flags |= XEN_DOMINF_shutdown |
			       ((u32)d->shutdown_reason & XEN_DOMINF_shutdownmask)
				       << XEN_DOMINF_shutdownshift;
		break;
	default:
		break;
	}
	if (d->controller_pause_count)
		info->flags |= XEN_DOMINF_paused;
	if (online && blocked == online)
		info->flags |= XEN_DOMINF_blocked;
	if (cur && cur->dom == d)
		info->flags |= XEN_DOMINF_running;
	info->tot_pages = d->nr_pages;
	info->max_pages = d->max_pages;
	info->shared_info_frame = d->ev.shared_info_gfn == GFN_NONE ? 0 : d->ev.shared_info_gfn;
	info->cpu_time = cpu_time;
	info->nr_online_vcpus = online;
	info->max_vcpu_id = d->nr_vcpus ? d->nr_vcpus - 1 : XEN_INVALID_MAX_VCPU_ID;
	info->nr_exits = exits;
	strlcpy(info->name, d->name, sizeof(info->name));
}

/* ---- the commands ------------------------------------------------------ */

static long domctl_createdomain(struct vcpu *cur, struct domain *unused, struct xen_domctl *op)
{
	struct xen_domctl_createdomain *c = &op->u.createdomain;
	char name[sizeof(c->name) + 1];
	int id;
	(void)cur, (void)unused;

	if (c->flags & ~(XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap))
		return -EINVAL;
	if (c->max_vcpus < 1 || c->max_vcpus > MAX_VCPUS)
		return -EINVAL;
	if (op->domain == 0 || op->domain >= DOMID_FIRST_RESERVED) {
		id = domain_alloc_id();
		if (id < 0)
			return id;
	} else {
		if (op->domain >= DOMID_MAX)
			return -EINVAL;
		if (domain_by_id(op->domain))
			return -EEXIST;
		id = op->domain;
	}
	/* The name: printable characters only, as it goes to the console. */
	memcpy(name, c->name, sizeof(c->name));
	name[sizeof(c->name)] = 0;
	for (char *p = name; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			*p = '_';
	if (!name[0])
		snprintf(name, sizeof(name), "d%d", id);

	struct domain *d = domain_create((unsigned)id, name, false);
	if (!d)
		return -ENOMEM;
	for (unsigned i = 0; i < c->max_vcpus; i++) {
		if (!vcpu_create(d)) {
			domain_destroy(d);
			return -ENOMEM;
		}
	}
	d->controller_pause_count = 1; /* runs at the first unpause (Xen) */
	d->weight = SCHED_WEIGHT_DEFAULT;
	d->max_pages = 0;
	op->domain = (domid_t)id;
	pr_info("domain %d (%s) created by dom0: %u vCPUs\n", id, d->name, c->max_vcpus);
	return 0;
}

static long domctl_pause(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	(void)op;
	if (d == cur->dom)
		return -EINVAL; /* Xen: no pausing oneself (it could not unpause) */
	if (!domain_is_alive(d))
		return -EINVAL;
	if (d->controller_pause_count == 255)
		return -EOVERFLOW; /* Xen's limit on toolstack pauses */
	d->controller_pause_count++;
	if (d->state == DOM_RUNNING)
		d->state = DOM_PAUSED;
	return 0;
}

static long domctl_unpause(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	(void)cur, (void)op;
	if (!domain_is_alive(d) || d->controller_pause_count == 0)
		return -EINVAL;
	if (--d->controller_pause_count)
		return 0;
	if (d->state == DOM_CREATED && d->nr_vcpus)
		d->vcpus[0]->runnable = true; /* vCPU 0 starts; others wait for VCPUOP_up */
	d->state = DOM_RUNNING;
	return 0;
}

static long domctl_destroy(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	(void)op;
	if (d == cur->dom)
		return -EINVAL; /* Xen's domain_kill refuses the caller's own */
	if (is_control_domain(d))
		return -EPERM;  /* the control domain is not anyone's to kill */
	domain_destroy(d);
	return 0;
}

static long domctl_getdomaininfo(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	(void)cur;
	fill_domaininfo(d, &op->u.getdomaininfo);
	return 0;
}

static long domctl_max_mem(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	const struct xen_domctl_max_mem *m = &op->u.max_mem;
	(void)cur;
	if (d->state == DOM_DYING)
		return -EINVAL;
	/* Like Xen, lowering the limit below what the domain has frees
	 * nothing; it only refuses further growth. */
	d->max_pages = m->max_memkb >> (PAGE_SHIFT - 10);
	return 0;
}

static long domctl_setvcpucontext(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	const struct xen_domctl_vcpucontext *c = &op->u.vcpucontext;
	if (d == cur->dom || c->vcpu >= d->nr_vcpus || d->state != DOM_CREATED)
		return -EINVAL;
	struct vcpu *v = d->vcpus[c->vcpu];
	if (vcpu_started(v))
		return -EINVAL;
	vendor->set_reg(v, VREG_RIP, c->rip);
	v->arch.gprs[GPR_RBX] = c->rbx;
	return 0;
}

static long domctl_getvcpuinfo(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	struct xen_domctl_getvcpuinfo *g = &op->u.getvcpuinfo;
	(void)cur;
	if (g->vcpu >= d->nr_vcpus)
		return -ENOENT;
	struct vcpu *v = d->vcpus[g->vcpu];
	g->online = vcpu_started(v);
	g->blocked = v->blocked;
	g->running = sched_current() == v;
	g->pad = 0;
	g->cpu_time = v->sched.run_ns;
	g->cpu = 0;
	g->pad2 = 0;
	return 0;
}

static long domctl_scheduler_op(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	struct xen_domctl_scheduler_op *s = &op->u.scheduler_op;
	(void)cur;
	if (s->sched_id != XEN_SCHEDULER_CREDIT)
		return -EINVAL;
	switch (s->cmd) {
	case XEN_DOMCTL_SCHEDOP_getinfo:
		memset(&s->u, 0, sizeof(s->u));
		s->u.credit.weight = (u16)(d->weight ? d->weight : SCHED_WEIGHT_DEFAULT);
		return 0;
	case XEN_DOMCTL_SCHEDOP_putinfo:
		if (s->u.credit.cap)
			return -EINVAL; /* Keel has no caps */
		/* Xen's credit scheduler: weight 0 means "leave as is". */
		return s->u.credit.weight ? sched_set_weight(d, s->u.credit.weight) : 0;
	default:
		return -EINVAL;
	}
}

static long domctl_populate_ram(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	const struct keel_domctl_populate_ram *p = &op->u.populate_ram;
	if (d == cur->dom || !domain_is_alive(d))
		return -EINVAL;
	return domain_populate_ram(d, p->gpa, p->nr_pages, KEEL_DOMCTL_GPA_LIMIT);
}

/*
 * The image is copied out of dom0 into hypervisor frames before it is
 * parsed: dom0 cannot change it under the ELF checks, and the builder
 * reads a plain buffer.
 */
/* A module's bytes are read from dom0's memory while they are copied into
 * the domain (through the builder's bounce page), so no hypervisor frames
 * are held for them. */
static int module_read(const struct pvh_load_module *m, u64 off, void *buf, u64 len)
{
	return copy_from_guest(m->ctx, buf, m->addr + off, len) ? -EFAULT : 0;
}

/* Copies a command line of len bytes (no NUL) at guest-virtual va into
 * buf[KEEL_DOMCTL_CMDLINE_MAX]: -E2BIG, -EFAULT, -EINVAL (NUL inside). */
static int fetch_cmdline(struct vcpu *cur, char *buf, u64 va, u32 len)
{
	if (len >= KEEL_DOMCTL_CMDLINE_MAX)
		return -E2BIG;
	if (len && copy_from_guest(cur, buf, va, len))
		return -EFAULT;
	buf[len] = 0;
	return strlen(buf) == len ? 0 : -EINVAL;
}

/*
 * The module descriptors are copied once (dom0 cannot change them after
 * the checks) and every size is bounded before the builder places
 * anything; the total is bounded by KEEL_DOMCTL_MODULES_TOTAL_MAX and by
 * the domain's RAM (the builder's placement check), so no sum can wrap.
 */
static int fetch_modules(struct vcpu *cur, struct domain *d, const struct keel_domctl_pvh_build *b,
			 struct pvh_load_module *load)
{
	static struct keel_domctl_pvh_module desc[KEEL_DOMCTL_MODULES_MAX];
	static char cmdlines[KEEL_DOMCTL_MODULES_MAX][KEEL_DOMCTL_CMDLINE_MAX];
	u64 total = 0;
	int rc;

	if (b->_pad)
		return -EINVAL;
	if (!b->nr_modules)
		return 0;
	if (b->nr_modules > KEEL_DOMCTL_MODULES_MAX)
		return -E2BIG;
	if (copy_from_guest(cur, desc, b->modules, b->nr_modules * sizeof(desc[0])))
		return -EFAULT;
	for (unsigned i = 0; i < b->nr_modules; i++) {
		const struct keel_domctl_pvh_module *m = &desc[i];
		if (!m->size || m->reserved)
			return -EINVAL;
		if (m->size > KEEL_DOMCTL_MODULES_TOTAL_MAX || m->size > d->nr_pages * PAGE_SIZE)
			return -ENOMEM;
		total += m->size;
		if (total > KEEL_DOMCTL_MODULES_TOTAL_MAX || total > d->nr_pages * PAGE_SIZE)
			return -ENOMEM;
		if (m->buffer + m->size < m->buffer)
			return -EFAULT; /* wraps: cannot be readable */
		if ((rc = fetch_cmdline(cur, cmdlines[i], m->cmdline, m->cmdline_len)))
			return rc;
		load[i] = (struct pvh_load_module){ .size = m->size, .cmdline = cmdlines[i],
						    .read = module_read, .ctx = cur, .addr = m->buffer };
	}
	return 0;
}

static long domctl_pvh_build(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	const struct keel_domctl_pvh_build *b = &op->u.pvh_build;
	static char cmdline[KEEL_DOMCTL_CMDLINE_MAX];
	static struct pvh_load_module load[KEEL_DOMCTL_MODULES_MAX];
	long rc;

	_Static_assert(KEEL_DOMCTL_MODULES_MAX <= PVH_LOAD_MAX, "module limits");
	if (d == cur->dom || d->state != DOM_CREATED || !d->nr_vcpus || vcpu_started(d->vcpus[0]))
		return -EINVAL;
	if (!b->image_size || b->image_size > KEEL_DOMCTL_IMAGE_MAX ||
	    (b->flags & ~KEEL_PVH_BUILD_PRELOADED))
		return -EINVAL;
	if ((rc = fetch_cmdline(cur, cmdline, b->cmdline, b->cmdline_len)))
		return rc;
	if ((rc = fetch_modules(cur, d, b, load)))
		return rc;

	u64 frames = ALIGN_UP(b->image_size, PAGE_SIZE) >> PAGE_SHIFT;
	paddr_t buf = frame_alloc_contig(frames, PAGE_SIZE);
	if (!buf)
		return -ENOMEM;
	if (copy_from_guest(cur, phys_to_virt(buf), b->image, b->image_size))
		rc = -EFAULT;
	else
		rc = domain_build_pvh(d, phys_to_virt(buf), b->image_size, cmdline, load,
				      b->nr_modules, b->flags & KEEL_PVH_BUILD_PRELOADED);
	frame_free_contig(buf, frames);
	return rc;
}

static long domctl_exit_counts(struct vcpu *cur, struct domain *d, struct xen_domctl *op)
{
	struct keel_domctl_exit_counts *x = &op->u.exit_counts;
	u32 n = MIN(x->nr, (u32)EXIT_NR);
	if (n && copy_to_guest(cur, x->buffer, d->exit_counts, n * sizeof(u64)))
		return -EFAULT;
	x->nr = n;
	x->total = EXIT_NR;
	return 0;
}

/* dom0's console backend shows a domU's PV console output as that
 * domain's (guest_console_write: the same "(dN)" lines and throttle as
 * console_io). Copied whole first, so a bad buffer changes nothing. */
static long domctl_console_write(struct vcpu *cur, struct domain *d,
				 struct xen_domctl *op)
{
	const struct keel_domctl_console_write *w = &op->u.console_write;
	static char buf[KEEL_DOMCTL_CONSOLE_MAX];

	/* A domain that has shut down may still have output in its ring,
	 * written before it stopped: shown until it is destroyed. */
	if (d == cur->dom || d->state == DOM_DYING)
		return -EINVAL;
	if (w->len > KEEL_DOMCTL_CONSOLE_MAX)
		return -E2BIG;
	if (w->len && copy_from_guest(cur, buf, w->buffer, w->len))
		return -EFAULT;
	guest_console_write(d, buf, w->len);
	return 0;
}

/* One domctl command: its handler and who may call it. */
struct domctl_desc {
	u32 cmd;
	long (*fn)(struct vcpu *cur, struct domain *d, struct xen_domctl *op);
	enum hc_caller who; /* hc_check_caller() */
	bool copyback;      /* the frame goes back to the caller on success */
	bool new_domain;    /* names no existing domain: d is NULL */
};

static const struct domctl_desc domctl_table[] = {
	{ .cmd = XEN_DOMCTL_createdomain, .fn = domctl_createdomain, .who = HC_DOM0_ONLY,
	  .copyback = true, .new_domain = true },
	{ .cmd = XEN_DOMCTL_destroydomain, .fn = domctl_destroy, .who = HC_DOM0_ONLY },
	{ .cmd = XEN_DOMCTL_pausedomain, .fn = domctl_pause, .who = HC_DOM0_ONLY },
	{ .cmd = XEN_DOMCTL_unpausedomain, .fn = domctl_unpause, .who = HC_DOM0_ONLY },
	{ .cmd = XEN_DOMCTL_getdomaininfo, .fn = domctl_getdomaininfo, .who = HC_DOM0_ONLY,
	  .copyback = true },
	{ .cmd = XEN_DOMCTL_max_mem, .fn = domctl_max_mem, .who = HC_DOM0_ONLY },
	{ .cmd = XEN_DOMCTL_setvcpucontext, .fn = domctl_setvcpucontext, .who = HC_DOM0_ONLY },
	{ .cmd = XEN_DOMCTL_getvcpuinfo, .fn = domctl_getvcpuinfo, .who = HC_DOM0_ONLY,
	  .copyback = true },
	{ .cmd = XEN_DOMCTL_scheduler_op, .fn = domctl_scheduler_op, .who = HC_DOM0_ONLY,
	  .copyback = true },
	{ .cmd = KEEL_DOMCTL_populate_ram, .fn = domctl_populate_ram, .who = HC_DOM0_ONLY },
	{ .cmd = KEEL_DOMCTL_pvh_build, .fn = domctl_pvh_build, .who = HC_DOM0_ONLY },
	{ .cmd = KEEL_DOMCTL_get_exit_counts, .fn = domctl_exit_counts, .who = HC_DOM0_ONLY,
	  .copyback = true },
	{ .cmd = KEEL_DOMCTL_console_write, .fn = domctl_console_write, .who = HC_DOM0_ONLY },
};

static const struct domctl_desc *domctl_find(u32 cmd)
{
	for (unsigned i = 0; i < ARRAY_SIZE(domctl_table); i++)
		if (domctl_table[i].cmd == cmd)
			return &domctl_table[i];
	return NULL;
}

long do_domctl(struct vcpu *v, u64 arg, u64 a2, u64 a3, u64 a4, u64 a5)
{
	const struct domctl_desc *desc;
	struct xen_domctl op;
	struct domain *d = NULL;
	long rc;
	(void)a2, (void)a3, (void)a4, (void)a5;

	if (copy_from_guest(v, &op, arg, sizeof(op)))
		return -EFAULT;
	if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION)
		return -EACCES;
	desc = domctl_find(op.cmd);
	if (desc && hc_check_caller(desc->who, v->dom))
		return -EPERM;

	if (desc && desc->new_domain) {
		/* Make sure the new id can be returned before creating
		 * anything: a domain nobody knows the id of would leak. */
		if (copy_to_guest(v, arg, &op, sizeof(op)))
			return -EFAULT;
	} else {
		/* domctl does not resolve DOMID_SELF (Xen's
		 * rcu_lock_domain_by_id): the target is named by its id, and
		 * a missing one is -ESRCH even for an unknown command. */
		d = domain_by_id(op.domain);
		if (!d)
			return -ESRCH;
		if (!desc)
			return -ENOSYS;
	}
	rc = desc->fn(v, d, &op);
	if (rc == 0 && desc->copyback && copy_to_guest(v, arg, &op, sizeof(op)))
		rc = -EFAULT;
	return rc;
}

/* ---- sysctl -------------------------------------------------------------- */

static long sysctl_physinfo(struct vcpu *v, struct xen_sysctl *op)
{
	struct xen_sysctl_physinfo *p = &op->u.physinfo;
	(void)v;

	memset(p, 0, sizeof(*p));
	p->threads_per_core = 1;
	p->cores_per_socket = 1;
	p->nr_cpus = 1;
	p->max_cpu_id = 0;
	p->nr_nodes = 1;
	p->cpu_khz = (u32)time_tsc_khz();
	p->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_hap;
	p->total_pages = frames_total();
	p->free_pages = frames_free();
	return 0;
}

static long sysctl_counts(struct vcpu *v, struct xen_sysctl *op)
{
	struct keel_sysctl_counts *c = &op->u.counts;
	(void)v;

	memset(c, 0, sizeof(*c));
	c->free_pages = frames_free();
	c->idle_wakeups = (u32)sched_idle_wakeups();
	c->fast_picks = (u32)sched_fast_picks();
	for (unsigned id = 0; id < DOMID_MAX; id++) {
		struct domain *d = domain_by_id(id);
		if (!d)
			continue;
		c->nr_domains++;
		c->evtchn_ports += evtchn_nr_bound(d);
		c->grant_frames += gnttab_nr_frames(d);
		c->grant_mappings += gnttab_nr_mappings(d);
	}
	return 0;
}

static long sysctl_irq_counts(struct vcpu *v, struct xen_sysctl *op)
{
	(void)v;
	memset(&op->u.irqs, 0, sizeof(op->u.irqs));
	sched_irq_counts(&op->u.irqs);
	return 0;
}

static long sysctl_domaininfolist(struct vcpu *v, struct xen_sysctl *op)
{
	struct xen_sysctl_getdomaininfolist *l = &op->u.getdomaininfolist;
	struct xen_domctl_getdomaininfo info;
	u32 n = 0;

	for (unsigned id = l->first_domain; id < DOMID_MAX && n < l->max_domains; id++) {
		struct domain *d = domain_by_id(id);
		if (!d)
			continue;
		fill_domaininfo(d, &info);
		if (copy_to_guest(v, l->buffer + (u64)n * sizeof(info), &info, sizeof(info)))
			return -EFAULT;
		n++;
	}
	l->num_domains = n;
	return 0;
}

/* The log ring for dom0's `dmesg`; bounded so one call stays short. */
#define READCONSOLE_MAX (16 * 1024)

static long sysctl_readconsole(struct vcpu *v, struct xen_sysctl *op)
{
	struct xen_sysctl_readconsole *rc = &op->u.readconsole;
	static char text[READCONSOLE_MAX];

	/* Xen's clear is 0 or 1 (a bool in its struct); incremental reads
	 * (index) are not supported. */
	if (rc->clear > 1 || rc->incremental)
		return -EINVAL;
	size_t n = printk_read_log(text, MIN((size_t)rc->count, sizeof(text)));
	if (copy_to_guest(v, rc->buffer, text, n))
		return -EFAULT; /* nothing cleared: the caller saw nothing */
	/* As Xen's read_console_ring with clear: what was read is gone.
	 * Keel reads the newest bytes, so everything up to now goes (a
	 * buffer smaller than the log drops the older unread text too). */
	if (rc->clear)
		printk_clear_log();
	rc->count = (u32)n;
	return 0;
}

/* One sysctl command: its handler and who may call it. The frame goes
 * back to the caller when the handler succeeds. */
struct sysctl_desc {
	u32 cmd;
	long (*fn)(struct vcpu *v, struct xen_sysctl *op);
	enum hc_caller who; /* hc_check_caller() */
};

static const struct sysctl_desc sysctl_table[] = {
	{ .cmd = XEN_SYSCTL_readconsole, .fn = sysctl_readconsole, .who = HC_DOM0_ONLY },
	{ .cmd = XEN_SYSCTL_physinfo, .fn = sysctl_physinfo, .who = HC_DOM0_ONLY },
	{ .cmd = XEN_SYSCTL_getdomaininfolist, .fn = sysctl_domaininfolist, .who = HC_DOM0_ONLY },
	{ .cmd = KEEL_SYSCTL_counts, .fn = sysctl_counts, .who = HC_DOM0_ONLY },
	{ .cmd = KEEL_SYSCTL_irq_counts, .fn = sysctl_irq_counts, .who = HC_DOM0_ONLY },
};

long do_sysctl(struct vcpu *v, u64 arg, u64 a2, u64 a3, u64 a4, u64 a5)
{
	const struct sysctl_desc *desc = NULL;
	struct xen_sysctl op;
	long rc;
	(void)a2, (void)a3, (void)a4, (void)a5;

	if (copy_from_guest(v, &op, arg, sizeof(op)))
		return -EFAULT;
	if (op.interface_version != XEN_SYSCTL_INTERFACE_VERSION)
		return -EACCES;
	for (unsigned i = 0; i < ARRAY_SIZE(sysctl_table) && !desc; i++)
		if (sysctl_table[i].cmd == op.cmd)
			desc = &sysctl_table[i];
	if (!desc)
		return -ENOSYS;
	if (hc_check_caller(desc->who, v->dom))
		return -EPERM;
	rc = desc->fn(v, &op);
	if (rc == 0 && copy_to_guest(v, arg, &op, sizeof(op)))
		rc = -EFAULT;
	return rc;
}
