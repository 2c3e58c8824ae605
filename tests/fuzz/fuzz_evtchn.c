/*
 * Event channels as a state machine (kernel/evtchn.c, kernel/evtchn_2l.c):
 * the fuzzer's bytes are a sequence of EVTCHNOP_* calls by the vCPUs of
 * three domains (dom0 privileged), hypervisor-raised VIRQs, domains dying
 * and being created again, and guests writing their shared_info; after
 * each operation the invariants below are checked.
 *
 * unit-sources: kernel/evtchn.c kernel/evtchn_2l.c kernel/priv.c
 *
 * Environment: as tests/unit/test_evtchn.c, frames and shared_info pages
 * come from the C heap (counted: none may be left when every domain has
 * died); kernel/pirq.c is a small table of mapped pirqs for dom0.
 *
 * Invariants (keel/evtchn.h; Xen common/event_channel.c):
 *  - port 0 is reserved; no port at or above `valid` is in use; valid is a
 *    multiple of EVTCHN_BUCKET, at most NR_EVENT_CHANNELS;
 *  - an interdomain port's peer exists and is interdomain back to it;
 *  - a VIRQ port is recorded in its vCPU's virq_port[] and each non-zero
 *    virq_port[] entry names a VIRQ port of that VIRQ; IPI and VIRQ
 *    notify vCPUs exist; each bound pirq has exactly its port;
 *  - no event is lost: while the guests only consume events the way the
 *    2-level ABI prescribes (no scribbling on shared_info), every pending
 *    unmasked port has its selector bit and upcall_pending set on some
 *    vCPU of its domain (Xen evtchn_2l_set_pending / the guest's scan).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/frame.h>

#include "fuzz.h"

#define NR_DOMS 3
#define NR_PIRQS 8

static struct domain doms[NR_DOMS];
static bool dom_used[NR_DOMS];
static long frames_out;
static u32 pirq_port[NR_DOMS][NR_PIRQS]; /* 0 = mapped but unbound */

struct domain *domain_by_id(unsigned id)
{
	return id < NR_DOMS && dom_used[id] ? &doms[id] : NULL;
}

paddr_t frame_alloc_contig(u64 n, u64 align)
{
	void *p = aligned_alloc(align, n * PAGE_SIZE);

	fuzz_check(p != NULL, "out of memory");
	memset(p, 0xa5, n * PAGE_SIZE); /* evtchn.c must clear what it uses */
	frames_out += n;
	return (paddr_t)(uintptr_t)p;
}

void frame_free_contig(paddr_t pa, u64 n)
{
	free((void *)(uintptr_t)pa);
	frames_out -= n;
	fuzz_check(frames_out >= 0, "more frames freed than allocated");
}

int shared_info_alloc(struct domain *d)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);

	fuzz_check(p != NULL, "out of memory");
	memset(p, 0, PAGE_SIZE);
	d->ev.shared_info = p;
	d->ev.shared_info_pa = (paddr_t)(uintptr_t)p;
	frames_out++;
	return 0;
}

void shared_info_free(struct domain *d)
{
	fuzz_check(d->ev.shared_info != NULL, "shared_info freed twice");
	free(d->ev.shared_info);
	d->ev.shared_info = NULL;
	d->ev.shared_info_pa = 0;
	frames_out--;
}

void vcpu_info_release(struct vcpu *v)
{
	v->ev.vcpu_info = NULL;
}

/* Pirqs 0..NR_PIRQS-1 are mapped for the privileged domain only. */
int pirq_check_bind(struct domain *d, u32 pirq)
{
	if (!d->privileged || pirq >= NR_PIRQS)
		return -EINVAL;
	return pirq_port[d->id][pirq] ? -EEXIST : 0;
}

void pirq_bound(struct domain *d, u32 pirq, u32 port)
{
	fuzz_check(pirq < NR_PIRQS && !pirq_port[d->id][pirq], "pirq %u bound twice", pirq);
	pirq_port[d->id][pirq] = port;
}

void pirq_unbound(struct domain *d, u32 pirq)
{
	fuzz_check(pirq < NR_PIRQS && pirq_port[d->id][pirq], "pirq %u unbound twice", pirq);
	pirq_port[d->id][pirq] = 0;
}

/* ---- domains ------------------------------------------------------------- */

static void make_domain(unsigned id, unsigned nr_vcpus)
{
	struct domain *d = &doms[id];

	memset(d, 0, sizeof(*d));
	d->id = (u16)id;
	d->privileged = id == 0;
	d->state = DOM_RUNNING;
	for (unsigned i = 0; i < nr_vcpus; i++) {
		struct vcpu *v = calloc(1, sizeof(*v));
		fuzz_check(v != NULL, "out of memory");
		v->dom = d;
		v->id = i;
		v->runnable = true;
		d->vcpus[d->nr_vcpus++] = v;
	}
	memset(pirq_port[id], 0, sizeof(pirq_port[id]));
	dom_used[id] = true;
	fuzz_check(evtchn_domain_init(d) == 0, "evtchn_domain_init");
}

/* As domain_destroy: dying first, then the event state, then gone. */
static void kill_domain(unsigned id)
{
	struct domain *d = &doms[id];

	d->state = DOM_DYING;
	evtchn_domain_destroy(d);
	evtchn_domain_destroy(d); /* idempotent */
	for (unsigned p = 0; p < NR_PIRQS; p++)
		fuzz_check(!pirq_port[id][p], "pirq %u still bound after destroy", p);
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		free(d->vcpus[i]);
	dom_used[id] = false;
}

/* ---- invariants ------------------------------------------------------------ */

static bool guests_scribbled; /* a guest wrote shared_info arbitrarily */

static bool bit(const u64 *words, unsigned nr)
{
	return words[nr / 64] & (1ULL << (nr % 64));
}

static void check_domain(struct domain *d, bool full)
{
	struct evtchn *port = d->ev.port;
	struct shared_info *s = d->ev.shared_info;

	fuzz_check(port && s, "dom%u: not set up", d->id);
	fuzz_check(d->ev.valid % EVTCHN_BUCKET == 0 && d->ev.valid >= EVTCHN_BUCKET &&
			   d->ev.valid <= NR_EVENT_CHANNELS,
		   "dom%u: valid %u", d->id, d->ev.valid);
	fuzz_check(port[0].state == ECS_RESERVED, "dom%u: port 0 state %u", d->id, port[0].state);
	/* Past `valid` (4096 ports: only when the input ends, for speed). */
	for (unsigned p = d->ev.valid; full && p < NR_EVENT_CHANNELS; p++)
		fuzz_check(port[p].state == ECS_FREE, "dom%u: port %u in use past valid %u", d->id,
			   p, d->ev.valid);
	unsigned in_use = 0;
	for (unsigned p = 1; p < d->ev.valid; p++)
		in_use += port[p].state != ECS_FREE;
	fuzz_check(evtchn_nr_bound(d) == in_use, "dom%u: evtchn_nr_bound %u, %u ports in use",
		   d->id, evtchn_nr_bound(d), in_use);
	for (unsigned p = 1; p < d->ev.valid; p++) {
		const struct evtchn *c = &port[p];

		fuzz_check(c->state <= ECS_IPI && c->state != ECS_RESERVED, "dom%u port %u: state %u",
			   d->id, p, c->state);
		if (c->state == ECS_INTERDOMAIN) {
			struct domain *rd = domain_by_id(c->remote_dom);
			fuzz_check(rd && rd->ev.port && c->u.remote_port < rd->ev.valid,
				   "dom%u port %u: peer dom%u port %u missing", d->id, p,
				   c->remote_dom, c->u.remote_port);
			const struct evtchn *r = &rd->ev.port[c->u.remote_port];
			fuzz_check(r->state == ECS_INTERDOMAIN && r->remote_dom == d->id &&
					   r->u.remote_port == p,
				   "dom%u port %u -> dom%u port %u, which is state %u -> dom%u port %u",
				   d->id, p, c->remote_dom, c->u.remote_port, r->state, r->remote_dom,
				   r->u.remote_port);
		}
		if (c->state == ECS_VIRQ || c->state == ECS_IPI)
			fuzz_check(c->notify_vcpu < d->nr_vcpus, "dom%u port %u: notify vCPU %u",
				   d->id, p, c->notify_vcpu);
		if (c->state == ECS_VIRQ) {
			fuzz_check(c->u.virq < NR_VIRQS, "dom%u port %u: virq %u", d->id, p, c->u.virq);
			bool found = false;
			for (unsigned i = 0; i < d->nr_vcpus; i++)
				found |= d->vcpus[i]->ev.virq_port[c->u.virq] == p;
			fuzz_check(found, "dom%u port %u: VIRQ %u recorded on no vCPU", d->id, p,
				   c->u.virq);
		}
		if (c->state == ECS_PIRQ)
			fuzz_check(c->u.pirq < NR_PIRQS && pirq_port[d->id][c->u.pirq] == p,
				   "dom%u port %u: pirq %u", d->id, p, c->u.pirq);
		if (c->state == ECS_FREE && !guests_scribbled)
			fuzz_check(!bit(s->evtchn_pending, p), "dom%u port %u: free and pending",
				   d->id, p);
	}
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		for (unsigned virq = 0; virq < NR_VIRQS; virq++) {
			unsigned p = d->vcpus[i]->ev.virq_port[virq];
			if (!p)
				continue;
			fuzz_check(p < d->ev.valid && port[p].state == ECS_VIRQ && port[p].u.virq == virq,
				   "dom%u vCPU %u: VIRQ %u -> port %u (state %u)", d->id, i, virq, p,
				   p < NR_EVENT_CHANNELS ? port[p].state : 99);
		}
	for (unsigned q = 0; q < NR_PIRQS; q++) {
		unsigned p = pirq_port[d->id][q];
		fuzz_check(!p || (p < d->ev.valid && port[p].state == ECS_PIRQ && port[p].u.pirq == q),
			   "dom%u pirq %u -> port %u", d->id, q, p);
	}
	if (guests_scribbled)
		return;
	for (unsigned p = 1; p < d->ev.valid; p++) {
		if (!bit(s->evtchn_pending, p) || bit(s->evtchn_mask, p))
			continue;
		bool seen = false;
		for (unsigned i = 0; i < d->nr_vcpus; i++) {
			struct vcpu_info *vi = vcpu_info(d->vcpus[i]);
			seen |= (vi->evtchn_pending_sel & (1ULL << (p / 64))) &&
				vi->evtchn_upcall_pending;
		}
		fuzz_check(seen, "dom%u port %u pending and unmasked, but no vCPU was told", d->id,
			   p);
	}
}

static void check_all(bool full)
{
	for (unsigned id = 0; id < NR_DOMS; id++)
		if (dom_used[id])
			check_domain(&doms[id], full);
}

/* ---- the guest's side ---------------------------------------------------------- */

/* The 2-level upcall handler (Xen's evtchn_2l_handle_events): clear
 * upcall_pending, take the selector, clear each unmasked pending port. */
static void guest_consume(struct vcpu *v)
{
	struct shared_info *s = domain_shared_info(v->dom);
	struct vcpu_info *vi = vcpu_info(v);

	vi->evtchn_upcall_pending = 0;
	u64 sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	for (unsigned w = 0; w < 64; w++)
		if (sel & (1ULL << w))
			__atomic_fetch_and(&s->evtchn_pending[w], s->evtchn_mask[w], __ATOMIC_SEQ_CST);
}

/* ---- the operations ------------------------------------------------------------- */

static u32 pick_port(struct fuzz_in *in)
{
	/* Mostly low ports (where the action is), sometimes anything. */
	u8 b = fuzz_u8(in);
	return b < 0xf0 ? b % 72 : fuzz_u32(in);
}

static domid_t pick_domid(struct fuzz_in *in)
{
	u8 b = fuzz_u8(in);
	return b < 0xf0 ? b % (NR_DOMS + 1) : b == 0xff ? DOMID_SELF : fuzz_u16(in);
}

static int one_op(struct fuzz_in *in)
{
	u8 op = fuzz_u8(in);
	unsigned id = fuzz_u8(in) % NR_DOMS;
	struct domain *d = domain_by_id(id);

	if (!d) {
		make_domain(id, 1 + fuzz_u8(in) % MAX_VCPUS);
		return 0;
	}
	struct vcpu *cur = d->vcpus[fuzz_u8(in) % d->nr_vcpus];

	switch (op % 20) {
	case 0: {
		struct evtchn_alloc_unbound a = { .dom = pick_domid(in), .remote_dom = pick_domid(in) };
		return evtchn_op_alloc_unbound(cur, &a);
	}
	case 1: {
		struct evtchn_bind_interdomain b = { .remote_dom = pick_domid(in),
						     .remote_port = pick_port(in) };
		return evtchn_op_bind_interdomain(cur, &b);
	}
	case 2: {
		u8 virq = fuzz_u8(in);
		struct evtchn_bind_virq b = { .virq = virq < 0xf0 ? virq % (NR_VIRQS + 2) : fuzz_u32(in),
					      .vcpu = fuzz_u8(in) % (MAX_VCPUS + 1) };
		return evtchn_op_bind_virq(cur, &b);
	}
	case 3: {
		struct evtchn_bind_ipi b = { .vcpu = fuzz_u8(in) % (MAX_VCPUS + 1) };
		return evtchn_op_bind_ipi(cur, &b);
	}
	case 4: {
		struct evtchn_bind_pirq b = { .pirq = fuzz_u8(in) % (NR_PIRQS + 2) };
		return evtchn_op_bind_pirq(cur, &b);
	}
	case 5:
	case 6:
		return evtchn_op_close(d, pick_port(in));
	case 7:
	case 8:
		return evtchn_op_send(d, pick_port(in));
	case 9: {
		struct evtchn_status s = { .dom = pick_domid(in), .port = pick_port(in) };
		return evtchn_op_status(cur, &s);
	}
	case 10:
		return evtchn_op_bind_vcpu(d, pick_port(in), fuzz_u8(in) % (MAX_VCPUS + 1));
	case 11:
		return evtchn_op_unmask(d, pick_port(in));
	case 12: {
		domid_t dom = pick_domid(in);
		struct domain *t = domain_by_id(dom);
		if (t && fuzz_u8(in) & 1)
			t->state = DOM_PAUSED; /* so dom0 may reset it */
		int rc = evtchn_op_reset(cur, dom);
		if (t)
			t->state = DOM_RUNNING;
		return rc;
	}
	case 13:
		return evtchn_op_set_priority(d, pick_port(in));
	case 14:
		evtchn_send_virq(cur, fuzz_u8(in) % (NR_VIRQS + 1));
		evtchn_send_global_virq(d, fuzz_u8(in) % (NR_VIRQS + 1));
		{
			u32 p = pick_port(in);
			evtchn_send_pirq(d, p);
		}
		return 0;
	case 15: {
		u32 port;
		return evtchn_alloc_unbound_for(d, pick_domid(in), &port);
	}
	case 16:
		guest_consume(cur);
		return 0;
	case 17: {
		/* Masking a port is the guest's right (a set bit in its own
		 * page); it loses no event. */
		u32 p = pick_port(in) % NR_EVENT_CHANNELS;
		domain_shared_info(d)->evtchn_mask[p / 64] |= 1ULL << (p % 64);
		return evtchn_port_poll(d, pick_port(in));
	}
	case 18: {
		/* A hostile guest writes any word of its shared page. */
		struct shared_info *s = domain_shared_info(d);
		u8 w = fuzz_u8(in);
		u64 v = fuzz_u64(in);
		switch (w >> 6) {
		case 0: s->evtchn_pending[w % 64] = v; break;
		case 1: s->evtchn_mask[w % 64] = v; break;
		case 2: vcpu_info(cur)->evtchn_pending_sel = v; break;
		default: vcpu_info(cur)->evtchn_upcall_pending = (u8)v; break;
		}
		guests_scribbled = true;
		return 0;
	}
	default:
		if (fuzz_u8(in) % 4 == 0)
			kill_domain(id);
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };

	guests_scribbled = false;
	make_domain(0, 2);
	make_domain(1, 2);
	for (unsigned n = 0; fuzz_more(&in) && n < 2000; n++) {
		int rc = one_op(&in);
		fuzz_check(rc <= 0 || rc == 1, "operation returned %d", rc);
		check_all(false);
	}
	check_all(true);
	for (unsigned id = 0; id < NR_DOMS; id++)
		if (dom_used[id])
			kill_domain(id);
	fuzz_check(frames_out == 0, "%ld frames leaked", frames_out);
	return 0;
}
