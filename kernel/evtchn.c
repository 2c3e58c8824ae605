/*
 * Event-channel ports: the state machine behind EVTCHNOP_* and the API the
 * rest of the hypervisor uses (include/keel/evtchn.h).
 *
 * Behaviour and error numbers follow Xen's common/event_channel.c, case by
 * case, because Linux's event code was written against them (e.g. on
 * -EEXIST from bind_virq it scans ports with EVTCHNOP_status). Where the
 * order of Xen's checks decides which error a bad call gets, the order
 * here is the same.
 *
 * This file touches no vendor state and no guest memory, so the unit
 * tests (tests/unit/test_evtchn.c) compile it on the host.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/pirq.h>
#include <keel/priv.h>
#include <keel/frame.h>
#include <lib/string.h>

BUILD_BUG_ON(MAX_VCPUS > 32);                 /* poll_mask is a u32 */
BUILD_BUG_ON(MAX_VCPUS > XEN_LEGACY_MAX_VCPUS); /* vcpu_info slots in shared_info */
BUILD_BUG_ON(MAX_VCPUS > 255);                /* notify_vcpu is a u8 */
BUILD_BUG_ON(NR_EVENT_CHANNELS > 65536);      /* virq_port is a u16 */

#define PORT_TABLE_FRAMES (ALIGN_UP(NR_EVENT_CHANNELS * sizeof(struct evtchn), PAGE_SIZE) / PAGE_SIZE)

/* ---- lookups ------------------------------------------------------------ */

static struct evtchn *port_of(struct domain *d, u32 port)
{
	if (!d->ev.port || port >= d->ev.valid)
		return NULL;
	return &d->ev.port[port];
}

static struct vcpu *vcpu_of(struct domain *d, u32 id)
{
	return id < d->nr_vcpus ? d->vcpus[id] : NULL;
}

/* Xen's get_virq_type: which VIRQs are per vCPU, per domain or global
 * (bound only by the handling domain, dom0 here). */
enum virq_type { VIRQ_GLOBAL, VIRQ_DOMAIN, VIRQ_VCPU };

static enum virq_type virq_type(u32 virq)
{
	switch (virq) {
	case VIRQ_TIMER:
	case VIRQ_DEBUG:
	case VIRQ_XENOPROF:
	case VIRQ_XENPMU:
		return VIRQ_VCPU;
	case VIRQ_ARGO:
		return VIRQ_DOMAIN;
	default:
		return VIRQ_GLOBAL;
	}
}

/* Global VIRQs go to the hardware domain unless a handler was set (Xen's
 * get_global_virq_handler); Keel has no way to set one, so it is dom0,
 * the control domain (keel/priv.h). */
static bool is_global_virq_handler(const struct domain *d)
{
	return is_control_domain(d);
}

/* The first free port (lowest first, as Xen's get_free_port), making it
 * valid. -EINVAL for a domain being torn down, -ENOSPC when full. */
static int get_free_port(struct domain *d)
{
	if (!d->ev.port || d->state == DOM_DYING)
		return -EINVAL;
	for (u32 p = 0; p < NR_EVENT_CHANNELS; p++) {
		if (d->ev.port[p].state != ECS_FREE)
			continue;
		if (p >= d->ev.valid)
			d->ev.valid = ALIGN_UP(p + 1, EVTCHN_BUCKET);
		return (int)p;
	}
	return -ENOSPC;
}

/* ---- notification --------------------------------------------------------- */

unsigned evtchn_nr_bound(const struct domain *d)
{
	unsigned n = 0;

	for (u32 p = 1; d->ev.port && p < d->ev.valid; p++)
		n += d->ev.port[p].state != ECS_FREE;
	return n;
}

struct shared_info *domain_shared_info(struct domain *d)
{
	return d->ev.shared_info;
}

struct vcpu_info *vcpu_info(struct vcpu *v)
{
	if (v->ev.vcpu_info)
		return v->ev.vcpu_info;
	return &v->dom->ev.shared_info->vcpu_info[v->id];
}

void vcpu_kick(struct vcpu *v)
{
	struct domain *d = v->dom;

	/* A poller woken for any reason stops polling (Xen's vcpu_unblock
	 * plus the poll_mask clean-up in do_poll). */
	d->ev.poll_mask &= ~(1u << v->id);
	v->ev.poll_port = 0;
	v->ev.poll_deadline = 0;
	/* On one CPU the target is not running right now: the caller is the
	 * hypervisor on behalf of some vCPU, and v's next entry goes through
	 * evtchn_upcall_deliver. With SMP a running target needs an IPI to
	 * make it exit. */
	v->blocked = false;
}

void vcpu_mark_events_pending(struct vcpu *v)
{
	if (evtchn_2l_mark_upcall(vcpu_info(v)))
		vcpu_kick(v);
}

/* Xen's evtchn_check_pollers: wakes vCPUs polling this port, or polling
 * several ports (poll_port -1), whatever the mask says. */
static void check_pollers(struct domain *d, u32 port)
{
	for (unsigned i = 0; d->ev.poll_mask && i < d->nr_vcpus; i++) {
		struct vcpu *v = d->vcpus[i];
		if (!(d->ev.poll_mask & (1u << i)))
			continue;
		if (v->ev.poll_port <= 0 || (u32)v->ev.poll_port == port)
			vcpu_kick(v);
	}
}

/* Xen's evtchn_port_set_pending for the 2-level ABI. */
static void set_pending(struct domain *d, u32 vcpu_id, u32 port)
{
	struct vcpu *v = vcpu_of(d, vcpu_id);

	if (!v || !d->ev.shared_info)
		return;
	if (evtchn_2l_set_pending(d->ev.shared_info, vcpu_info(v), port))
		vcpu_mark_events_pending(v);
	check_pollers(d, port);
}

/* Back to free: clear the pending bit (so a re-bound port starts clean)
 * and the notify vCPU (Xen's evtchn_free). The mask bit is the guest's. */
static void free_port(struct domain *d, u32 port)
{
	evtchn_2l_clear_pending(d->ev.shared_info, port);
	d->ev.port[port] = (struct evtchn){ .state = ECS_FREE };
}

/* ---- domain set-up ---------------------------------------------------------- */

int evtchn_domain_init(struct domain *d)
{
	paddr_t pa = frame_alloc_contig(PORT_TABLE_FRAMES, PAGE_SIZE);

	if (!pa)
		return -ENOMEM;
	if (shared_info_alloc(d)) {
		frame_free_contig(pa, PORT_TABLE_FRAMES);
		return -ENOMEM;
	}
	d->ev.port = phys_to_virt(pa);
	memset(d->ev.port, 0, PORT_TABLE_FRAMES * PAGE_SIZE);
	d->ev.valid = EVTCHN_BUCKET;
	d->ev.port[0].state = ECS_RESERVED;
	d->ev.shared_info_gfn = GFN_NONE;
	return 0;
}

void evtchn_domain_destroy(struct domain *d)
{
	if (!d->ev.port)
		return;
	for (u32 p = 1; p < d->ev.valid; p++)
		if (d->ev.port[p].state != ECS_FREE)
			evtchn_op_close(d, p);
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		vcpu_info_release(d->vcpus[i]);
		memset(&d->vcpus[i]->ev, 0, sizeof(d->vcpus[i]->ev));
	}
	frame_free_contig(virt_to_phys(d->ev.port), PORT_TABLE_FRAMES);
	shared_info_free(d);
	memset(&d->ev, 0, sizeof(d->ev));
}

/* ---- EVTCHNOP_alloc_unbound ----------------------------------------------- */

static void make_unbound(struct domain *d, u32 port, u16 remote)
{
	d->ev.port[port] = (struct evtchn){ .state = ECS_UNBOUND, .remote_dom = remote };
}

int evtchn_op_alloc_unbound(struct vcpu *cur, struct evtchn_alloc_unbound *a)
{
	struct domain *d = domain_by_any_id(cur->dom, a->dom);
	int port, rc;

	if (!d)
		return -ESRCH;
	/* Xen takes the port first and checks permission after; on failure
	 * the port is simply not used. So the two steps of
	 * domain_lookup_target, with the port in between. */
	port = get_free_port(d);
	if (port < 0)
		return port;
	rc = domain_check_target(cur->dom, d);
	if (rc)
		return rc;
	/* remote_dom is not checked: the remote domain may not exist yet
	 * (the toolstack allocates before building it). */
	make_unbound(d, (u32)port, a->remote_dom == DOMID_SELF ? cur->dom->id : a->remote_dom);
	a->port = (u32)port;
	return 0;
}

int evtchn_alloc_unbound_for(struct domain *d, u16 remote, u32 *port)
{
	int p = get_free_port(d);

	if (p < 0)
		return p;
	make_unbound(d, (u32)p, remote);
	*port = (u32)p;
	return 0;
}

/* ---- EVTCHNOP_bind_interdomain ---------------------------------------------- */

int evtchn_op_bind_interdomain(struct vcpu *cur, struct evtchn_bind_interdomain *b)
{
	struct domain *ld = cur->dom;
	struct domain *rd = domain_by_any_id(cur->dom, b->remote_dom);
	struct evtchn *lchn, *rchn;
	int lport;

	if (!rd)
		return -ESRCH;
	lport = get_free_port(ld);
	if (lport < 0)
		return lport;
	/* The remote port must be unbound and offered to us. A domain may
	 * bind to its own unbound port (remote_dom = DOMID_SELF): a loopback
	 * channel. */
	rchn = port_of(rd, b->remote_port);
	if (!rchn || rchn->state != ECS_UNBOUND || rchn->remote_dom != ld->id)
		return -EINVAL;

	lchn = &ld->ev.port[lport];
	*lchn = (struct evtchn){
		.state = ECS_INTERDOMAIN,
		.remote_dom = rd->id,
		.u.remote_port = b->remote_port,
	};
	rchn->state = ECS_INTERDOMAIN;
	rchn->remote_dom = ld->id;
	rchn->u.remote_port = (u32)lport;
	/* Notifications sent while the remote port was unbound were
	 * dropped; Xen makes up for them by always signalling the new local
	 * port. */
	set_pending(ld, lchn->notify_vcpu, (u32)lport);
	b->local_port = (u32)lport;
	return 0;
}

/* ---- EVTCHNOP_bind_virq / bind_ipi -------------------------------------------- */

int evtchn_op_bind_virq(struct vcpu *cur, struct evtchn_bind_virq *b)
{
	struct domain *d = cur->dom;
	struct vcpu *v;
	enum virq_type type;
	int port;

	if (b->virq >= NR_VIRQS)
		return -EINVAL;
	type = virq_type(b->virq);
	if (type != VIRQ_VCPU && b->vcpu != 0)
		return -EINVAL;
	v = vcpu_of(d, b->vcpu);
	if (!v)
		return -ENOENT;
	if (type == VIRQ_GLOBAL && !is_global_virq_handler(d))
		return -EBUSY;
	if (v->ev.virq_port[b->virq])
		return -EEXIST;
	port = get_free_port(d);
	if (port < 0)
		return port;
	d->ev.port[port] = (struct evtchn){
		.state = ECS_VIRQ,
		.notify_vcpu = (u8)b->vcpu,
		.u.virq = b->virq,
	};
	v->ev.virq_port[b->virq] = (u16)port;
	b->port = (u32)port;
	return 0;
}

int evtchn_op_bind_ipi(struct vcpu *cur, struct evtchn_bind_ipi *b)
{
	struct domain *d = cur->dom;
	int port;

	if (!vcpu_of(d, b->vcpu))
		return -ENOENT;
	port = get_free_port(d);
	if (port < 0)
		return port;
	d->ev.port[port] = (struct evtchn){ .state = ECS_IPI, .notify_vcpu = (u8)b->vcpu };
	b->port = (u32)port;
	return 0;
}

/* EVTCHNOP_bind_pirq: dom0's physical IRQs (kernel/pirq.c checks and
 * routes; the port notifies vCPU 0, as Xen binds pirqs). */
int evtchn_op_bind_pirq(struct vcpu *cur, struct evtchn_bind_pirq *b)
{
	struct domain *d = cur->dom;
	int port, rc;

	if ((rc = pirq_check_bind(d, b->pirq)))
		return rc;
	port = get_free_port(d);
	if (port < 0)
		return port;
	d->ev.port[port] = (struct evtchn){ .state = ECS_PIRQ, .notify_vcpu = 0, .u.pirq = b->pirq };
	pirq_bound(d, b->pirq, (u32)port);
	b->port = (u32)port;
	return 0;
}

void evtchn_send_pirq(struct domain *d, u32 port)
{
	struct evtchn *chn = port_of(d, port);

	if (chn && chn->state == ECS_PIRQ)
		set_pending(d, chn->notify_vcpu, port);
}

/* ---- EVTCHNOP_close ---------------------------------------------------------- */

int evtchn_op_close(struct domain *d, u32 port)
{
	struct evtchn *chn = port_of(d, port);

	if (!chn)
		return -EINVAL;
	switch (chn->state) {
	case ECS_FREE:
	case ECS_RESERVED:
		return -EINVAL;
	case ECS_UNBOUND:
	case ECS_IPI:
		break;
	case ECS_PIRQ:
		pirq_unbound(d, chn->u.pirq); /* masks the line */
		break;
	case ECS_VIRQ: {
		/* Global and per-domain VIRQs are recorded on vCPU 0. */
		u32 owner = virq_type(chn->u.virq) == VIRQ_VCPU ? chn->notify_vcpu : 0;
		struct vcpu *v = vcpu_of(d, owner);
		if (v && v->ev.virq_port[chn->u.virq] == port)
			v->ev.virq_port[chn->u.virq] = 0;
		break;
	}
	case ECS_INTERDOMAIN: {
		/* The peer goes back to unbound, offered to us again, so the
		 * other side can rebind (Xen does exactly this). */
		struct domain *rd = domain_by_id(chn->remote_dom);
		struct evtchn *rchn = rd ? port_of(rd, chn->u.remote_port) : NULL;
		if (rchn && rchn->state == ECS_INTERDOMAIN && rchn->remote_dom == d->id &&
		    rchn->u.remote_port == port) {
			rchn->state = ECS_UNBOUND;
			rchn->u.remote_port = 0;
		}
		break;
	}
	}
	free_port(d, port);
	return 0;
}

/* ---- EVTCHNOP_send ------------------------------------------------------------ */

int evtchn_op_send(struct domain *d, u32 port)
{
	struct evtchn *chn = port_of(d, port);

	if (!chn)
		return -EINVAL;
	switch (chn->state) {
	case ECS_INTERDOMAIN: {
		struct domain *rd = domain_by_id(chn->remote_dom);
		struct evtchn *rchn = rd ? port_of(rd, chn->u.remote_port) : NULL;
		if (rchn)
			set_pending(rd, rchn->notify_vcpu, chn->u.remote_port);
		return 0;
	}
	case ECS_IPI:
		set_pending(d, chn->notify_vcpu, port);
		return 0;
	case ECS_UNBOUND:
		return 0; /* nobody listens yet: dropped, as Xen does */
	default:
		return -EINVAL; /* free, reserved, VIRQ and PIRQ ports */
	}
}

/* ---- EVTCHNOP_status ------------------------------------------------------------- */

int evtchn_op_status(struct vcpu *cur, struct evtchn_status *s)
{
	struct domain *d = domain_by_any_id(cur->dom, s->dom);
	struct evtchn *chn;
	int rc;

	/* Xen checks the port before the permission (-EINVAL first). */
	if (!d)
		return -ESRCH;
	chn = port_of(d, s->port);
	if (!chn)
		return -EINVAL;
	rc = domain_check_target(cur->dom, d);
	if (rc)
		return rc;
	memset(&s->u, 0, sizeof(s->u));
	switch (chn->state) {
	case ECS_FREE:
	case ECS_RESERVED:
		s->status = EVTCHNSTAT_closed;
		break;
	case ECS_UNBOUND:
		s->status = EVTCHNSTAT_unbound;
		s->u.unbound.dom = chn->remote_dom;
		break;
	case ECS_INTERDOMAIN:
		s->status = EVTCHNSTAT_interdomain;
		s->u.interdomain.dom = chn->remote_dom;
		s->u.interdomain.port = chn->u.remote_port;
		break;
	case ECS_PIRQ:
		s->status = EVTCHNSTAT_pirq;
		s->u.pirq = chn->u.pirq;
		break;
	case ECS_VIRQ:
		s->status = EVTCHNSTAT_virq;
		s->u.virq = chn->u.virq;
		break;
	case ECS_IPI:
		s->status = EVTCHNSTAT_ipi;
		break;
	}
	s->vcpu = chn->notify_vcpu;
	return 0;
}

/* ---- EVTCHNOP_bind_vcpu / unmask / reset / set_priority ---------------------------- */

int evtchn_op_bind_vcpu(struct domain *d, u32 port, u32 vcpu)
{
	struct evtchn *chn;

	if (!vcpu_of(d, vcpu))
		return -ENOENT;
	chn = port_of(d, port);
	if (!chn)
		return -EINVAL;
	switch (chn->state) {
	case ECS_VIRQ:
		/* A per-vCPU VIRQ belongs to its vCPU. */
		if (virq_type(chn->u.virq) == VIRQ_VCPU)
			return -EINVAL;
		chn->notify_vcpu = (u8)vcpu;
		return 0;
	case ECS_UNBOUND:
	case ECS_INTERDOMAIN:
		chn->notify_vcpu = (u8)vcpu;
		return 0;
	default:
		/* IPIs are bound to their vCPU; PIRQ rebinding is issue 6. */
		return -EINVAL;
	}
}

int evtchn_op_unmask(struct domain *d, u32 port)
{
	struct evtchn *chn = port_of(d, port);
	struct vcpu *v;

	if (!chn)
		return -EINVAL;
	/* Any valid port, bound or not (Xen does not look at the state). */
	v = vcpu_of(d, chn->notify_vcpu);
	if (v && evtchn_2l_unmask(d->ev.shared_info, vcpu_info(v), port))
		vcpu_mark_events_pending(v);
	return 0;
}

int evtchn_op_reset(struct vcpu *cur, domid_t dom)
{
	struct domain *d;
	int rc = domain_lookup_target(cur->dom, dom, &d);

	if (rc)
		return rc;
	/* Xen lets the controller reset only a domain it has paused. */
	if (d != cur->dom && d->state != DOM_PAUSED && d->state != DOM_CREATED)
		return -EINVAL;
	if (!d->ev.port)
		return -EINVAL;
	for (u32 p = 1; p < d->ev.valid; p++)
		if (d->ev.port[p].state != ECS_FREE)
			evtchn_op_close(d, p);
	return 0;
}

int evtchn_op_set_priority(struct domain *d, u32 port)
{
	/* Priorities exist only in the FIFO ABI. */
	return port_of(d, port) ? -ENOSYS : -EINVAL;
}

/* ---- VIRQs raised by the hypervisor ---------------------------------------------- */

void evtchn_send_virq(struct vcpu *v, unsigned virq)
{
	u32 port;

	if (!v || virq >= NR_VIRQS || virq_type(virq) != VIRQ_VCPU)
		return;
	port = v->ev.virq_port[virq];
	if (port)
		set_pending(v->dom, v->id, port);
}

void evtchn_send_global_virq(struct domain *d, unsigned virq)
{
	struct vcpu *v0;
	struct evtchn *chn;
	u32 port;

	if (!d || virq >= NR_VIRQS || virq_type(virq) == VIRQ_VCPU || !d->nr_vcpus)
		return;
	v0 = d->vcpus[0];
	port = v0->ev.virq_port[virq];
	chn = port ? port_of(d, port) : NULL;
	if (chn)
		set_pending(d, chn->notify_vcpu, port);
}

/* ---- SCHEDOP_poll's port test ------------------------------------------------------ */

int evtchn_port_poll(struct domain *d, u32 port)
{
	struct evtchn *chn = port_of(d, port);

	if (!chn || chn->state <= ECS_RESERVED)
		return -EINVAL;
	return evtchn_2l_is_pending(d->ev.shared_info, port);
}
