/* Domains and vCPUs: see include/keel/domain.h. */
#include <keel/domain.h>
#include <keel/domctl.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/gnttab.h>
#include <keel/page.h>
#include <keel/frame.h>
#include <keel/guest_console.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <keel/priv.h>
#include <keel/vtimer.h>
#include <asm/fpu.h>
#include <asm/p2m.h>
#include <asm/cpu.h>
#include <asm/vendor.h>
#include <asm/vintc.h>

#define DOMU_P2M_MAX_TABLES 1024

static struct domain domains[DOMID_MAX];
/* Bit `id` set: domains[id] is in use (created, not yet reaped). One
 * word, so the scheduler's pass over the domains (domain_next_id) skips
 * the free ids at once instead of asking each of the 64 (about 470
 * instructions on every pick: docs/PERFORMANCE.md). */
static u64 domain_used;
_Static_assert(DOMID_MAX <= 64, "domain_used is one 64-bit word");

static bool id_used(unsigned id)
{
	return domain_used & (1ULL << id);
}

static void id_set(unsigned id, bool used)
{
	if (used)
		domain_used |= 1ULL << id;
	else
		domain_used &= ~(1ULL << id);
}

static const char *const shutdown_names[] = {
	[SHUTDOWN_poweroff] = "poweroff", [SHUTDOWN_reboot] = "reboot",
	[SHUTDOWN_suspend] = "suspend",   [SHUTDOWN_crash] = "crash",
	[SHUTDOWN_watchdog] = "watchdog", [SHUTDOWN_soft_reset] = "soft_reset",
};

struct domain *domain_by_id(unsigned id)
{
	return id < DOMID_MAX && id_used(id) ? &domains[id] : NULL;
}

unsigned domain_next_id(unsigned from)
{
	u64 left = from < DOMID_MAX ? domain_used >> from : 0;

	return left ? from + (unsigned)__builtin_ctzll(left) : DOMID_MAX;
}

struct domain *domain_create(unsigned id, const char *name, bool privileged)
{
	if (id >= DOMID_MAX || id_used(id)) {
		pr_err("domain %u: id in use or out of range\n", id);
		return NULL;
	}
	struct domain *d = &domains[id];
	memset(d, 0, sizeof(*d));
	d->id = (u16)id;
	strlcpy(d->name, name, sizeof(d->name));
	d->privileged = privileged;
	d->state = DOM_CREATED;
	d->created_ns = time_now_ns();

	int rc = p2m_init(d);
	/* A domU's p2m tables come from the hypervisor's frames: cap them so
	 * that mappings scattered over its address space (grant maps at
	 * hostile addresses) cannot drain the pool. 1024 tables (4 MiB)
	 * cover about 2 GiB of RAM mapped with 4 KiB pages. dom0's 1:1 map
	 * is built by the hypervisor itself. */
	if (!rc && !privileged)
		d->arch.p2m.max_tables = DOMU_P2M_MAX_TABLES;
	if (!rc)
		rc = vendor->domain_init(d);
	if (!rc && (rc = evtchn_domain_init(d)))
		vendor->domain_destroy(d);
	if (!rc && (rc = gnttab_domain_init(d))) {
		evtchn_domain_destroy(d);
		vendor->domain_destroy(d);
	}
	if (rc) {
		pr_err("domain %u (%s): cannot create: %d\n", id, name, rc);
		p2m_destroy(d);
		return NULL;
	}
	id_set(id, true);
	return d;
}

struct vcpu *vcpu_create(struct domain *d)
{
	if (d->nr_vcpus >= MAX_VCPUS)
		return NULL;
	paddr_t pa = frame_alloc();
	if (!pa)
		return NULL;
	BUILD_BUG_ON(sizeof(struct vcpu) > PAGE_SIZE);
	struct vcpu *v = phys_to_virt(pa);
	v->dom = d;
	v->id = d->nr_vcpus;
	v->msr_pat = PAT_POWER_ON; /* the architectural reset value */
	mtrr_init(&v->mtrr);                 /* MTRRs on, default WB (pvh.pandoc) */
	if (fpu_vcpu_init(v)) {
		frame_free(pa);
		return NULL;
	}
	if (vendor->vcpu_init(v)) {
		fpu_vcpu_destroy(v);
		frame_free(pa);
		return NULL;
	}
	if (vintc_vcpu_init(v)) {
		vendor->vcpu_destroy(v);
		fpu_vcpu_destroy(v);
		frame_free(pa);
		return NULL;
	}
	sched_vcpu_init(v);
	d->vcpus[d->nr_vcpus++] = v;
	return v;
}

static void domain_stop_vcpus(struct domain *d)
{
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		d->vcpus[i]->runnable = false;
	guest_console_flush(d);
}

void domain_shutdown(struct domain *d, int reason)
{
	if (!domain_is_alive(d))
		return;
	domain_stop_vcpus(d);
	d->state = DOM_SHUTDOWN;
	d->shutdown_reason = reason;
	pr_info("domain %u (%s) shut down: %s\n", d->id, d->name,
		reason >= 0 && reason <= SHUTDOWN_MAX ? shutdown_names[reason] : "unknown");
	/* Tell the control domain, as Xen does (its toolstack watches it). */
	evtchn_send_global_virq(control_domain(), VIRQ_DOM_EXC);
}

void domain_crash(struct vcpu *v, const char *why)
{
	struct domain *d = v->dom;
	if (!domain_is_alive(d))
		return;
	domain_stop_vcpus(d);
	d->state = DOM_CRASHED;
	d->shutdown_reason = SHUTDOWN_crash;
	pr_err("domain %u (%s) vCPU %u killed at RIP 0x%lx: %s\n", d->id, d->name, v->id,
	       vendor->get_reg(v, VREG_RIP), why);
	pr_info("hypervisor unaffected; domain %u stopped\n", d->id);
	evtchn_send_global_virq(control_domain(), VIRQ_DOM_EXC);
}

bool domain_is_alive(const struct domain *d)
{
	return d->state == DOM_CREATED || d->state == DOM_RUNNING || d->state == DOM_PAUSED;
}

/* A dying domain whose last frames came back can give up its id. */
static void domain_reap(struct domain *d)
{
	if (d->state == DOM_DYING && pages_owned_by(d->id) == 0) {
		pr_info("domain %u (%s): last frames released, id free\n", d->id, d->name);
		id_set(d->id, false);
	}
}

int domain_alloc_id(void)
{
	for (unsigned id = 1; id < DOMID_MAX; id++)
		if (id_used(id))
			domain_reap(&domains[id]);
	for (unsigned id = 1; id < DOMID_MAX; id++)
		if (!id_used(id))
			return (int)id;
	return -ENOMEM;
}

/*
 * The order matters: the subsystems drop the references they hold
 * (mappings of other domains' pages, shared_info, grant frames) while
 * d->id still names d; then the vCPUs go, so nothing can run or be
 * kicked; then d's owner reference on every frame it still owns; the
 * p2m tables last (they point at those frames, and the flush must come
 * before the tables are reused).
 */
void domain_destroy(struct domain *d)
{
	if (d->state == DOM_DYING) {
		domain_reap(d);
		return;
	}
	if (domain_is_alive(d))
		domain_stop_vcpus(d);
	d->state = DOM_DYING;

	gnttab_domain_destroy(d);
	evtchn_domain_destroy(d);
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = d->vcpus[i];
		sched_vcpu_destroy(v);
		vendor->vcpu_destroy(v);
		fpu_vcpu_destroy(v);
		frame_free(virt_to_phys(v));
		d->vcpus[i] = NULL;
	}
	d->nr_vcpus = 0;
	u64 held = domain_release_memory(d);
	p2m_destroy(d);
	vendor->domain_destroy(d);

	if (held) {
		pr_info("domain %u (%s) destroyed; %lu frames still mapped by other domains\n",
			d->id, d->name, held);
	} else {
		pr_info("domain %u (%s) destroyed\n", d->id, d->name);
		id_set(d->id, false);
	}
	/* Xen raises VIRQ_DOM_EXC when a domain dies too (domain_kill). */
	evtchn_send_global_virq(control_domain(), VIRQ_DOM_EXC);
}
