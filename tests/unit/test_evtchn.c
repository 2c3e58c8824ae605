/*
 * Event channels: port state transitions, the 2-level pending/mask logic,
 * and the errors Xen returns for bad ports, double closes, binding bound
 * ports and mismatched interdomain binds (Xen common/event_channel.c,
 * common/event_2l.c; docs/xen-abi.md section 3).
 *
 * unit-sources: kernel/evtchn.c kernel/evtchn_2l.c kernel/priv.c
 *
 * evtchn.c is compiled as in the hypervisor; the environment below gives
 * it two domains with two vCPUs each (dom0 privileged, dom1 not) whose
 * shared_info pages and port tables come from the C heap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/evtchn.h>
#include <keel/frame.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- environment ---------------------------------------------------------- */

static struct domain doms[3];
static bool dom_used[3];

struct domain *domain_by_id(unsigned id)
{
	return id < 3 && dom_used[id] ? &doms[id] : NULL;
}

paddr_t frame_alloc_contig(u64 n, u64 align)
{
	void *p = aligned_alloc(align, n * PAGE_SIZE);
	ck_assert_ptr_nonnull(p);
	memset(p, 0xa5, n * PAGE_SIZE); /* evtchn.c must clear what it uses */
	return (paddr_t)(uintptr_t)p;
}

void frame_free_contig(paddr_t pa, u64 n)
{
	(void)n;
	free((void *)(uintptr_t)pa);
}

int shared_info_alloc(struct domain *d)
{
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, PAGE_SIZE);
	d->ev.shared_info = p;
	d->ev.shared_info_pa = (paddr_t)(uintptr_t)p;
	return 0;
}

void shared_info_free(struct domain *d)
{
	free(d->ev.shared_info);
	d->ev.shared_info = NULL;
	d->ev.shared_info_pa = 0;
}

void vcpu_info_release(struct vcpu *v)
{
	v->ev.vcpu_info = NULL;
}

/* kernel/pirq.c: no physical IRQ is mapped here, so EVTCHNOP_bind_pirq
 * answers -EINVAL as Xen does for a domain without pirqs. */
int pirq_check_bind(struct domain *d, u32 pirq)
{
	(void)d;
	(void)pirq;
	return -EINVAL;
}

void pirq_bound(struct domain *d, u32 pirq, u32 port)
{
	(void)d;
	(void)pirq;
	(void)port;
}

void pirq_unbound(struct domain *d, u32 pirq)
{
	(void)d;
	(void)pirq;
}

static struct domain *d0, *d1;
static struct vcpu *v00, *v01, *v10, *v11;

static void make_domain(unsigned id, bool privileged)
{
	struct domain *d = &doms[id];

	memset(d, 0, sizeof(*d));
	d->id = (u16)id;
	d->privileged = privileged;
	d->state = DOM_RUNNING;
	for (unsigned i = 0; i < 2; i++) {
		struct vcpu *v = calloc(1, sizeof(*v));
		ck_assert_ptr_nonnull(v);
		v->dom = d;
		v->id = i;
		v->runnable = true;
		d->vcpus[d->nr_vcpus++] = v;
	}
	dom_used[id] = true;
	ck_assert_int_eq(evtchn_domain_init(d), 0);
}

static void setup(void)
{
	make_domain(0, true);
	make_domain(1, false);
	d0 = &doms[0];
	d1 = &doms[1];
	v00 = d0->vcpus[0];
	v01 = d0->vcpus[1];
	v10 = d1->vcpus[0];
	v11 = d1->vcpus[1];
}

/* ---- helpers -------------------------------------------------------------- */

static struct shared_info *si(struct domain *d)
{
	return domain_shared_info(d);
}

static bool pending(struct domain *d, u32 port)
{
	return evtchn_2l_is_pending(si(d), port);
}

static u32 alloc_unbound(struct vcpu *cur, domid_t dom, domid_t remote)
{
	struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote };
	int rc = evtchn_op_alloc_unbound(cur, &a);
	ck_assert_msg(rc == 0, "alloc_unbound(dom %u, remote %u): %d", dom, remote, rc);
	return a.port;
}

static int bind_interdomain(struct vcpu *cur, domid_t rdom, u32 rport, u32 *lport)
{
	struct evtchn_bind_interdomain b = { .remote_dom = rdom, .remote_port = rport,
					     .local_port = 0xdead };
	int rc = evtchn_op_bind_interdomain(cur, &b);
	if (lport)
		*lport = b.local_port;
	return rc;
}

static struct evtchn_status status(struct vcpu *cur, domid_t dom, u32 port, int want_rc)
{
	struct evtchn_status s = { .dom = dom, .port = port, .status = 0xdead };
	int rc = evtchn_op_status(cur, &s);
	ck_assert_msg(rc == want_rc, "status(dom %u, port %u): rc %d, want %d", dom, port, rc,
		      want_rc);
	return s;
}

static int bind_virq(struct vcpu *cur, u32 virq, u32 vcpu, u32 *port)
{
	struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu, .port = 0xdead };
	int rc = evtchn_op_bind_virq(cur, &b);
	if (port)
		*port = b.port;
	return rc;
}

static u32 bind_ipi(struct vcpu *cur, u32 vcpu)
{
	struct evtchn_bind_ipi b = { .vcpu = vcpu };
	ck_assert_int_eq(evtchn_op_bind_ipi(cur, &b), 0);
	return b.port;
}

static void mask(struct domain *d, u32 port)
{
	si(d)->evtchn_mask[port / 64] |= 1ULL << (port % 64);
}

#define expect_rc(call, want)                                                        \
	do {                                                                         \
		int rc_ = (call);                                                    \
		ck_assert_msg(rc_ == (want), "%s = %d, want %d", #call, rc_, (want)); \
	} while (0)

/* ---- the 2-level bit logic -------------------------------------------------- */

START_TEST(set_pending_marks_port_word_and_upcall)
{
	static struct shared_info s;
	static struct vcpu_info vi;

	memset(&s, 0, sizeof(s));
	memset(&vi, 0, sizeof(vi));
	ck_assert(evtchn_2l_set_pending(&s, &vi, 130));
	ck_assert_msg(s.evtchn_pending[2] == 1ULL << 2, "pending word 0x%llx",
		      (unsigned long long)s.evtchn_pending[2]);
	ck_assert_msg(vi.evtchn_pending_sel == 1ULL << 2, "pending_sel 0x%llx",
		      (unsigned long long)vi.evtchn_pending_sel);
	ck_assert(evtchn_2l_mark_upcall(&vi));
	ck_assert_int_eq(vi.evtchn_upcall_pending, 1);
	ck_assert(!evtchn_2l_mark_upcall(&vi)); /* already set: no second kick */
}
END_TEST

START_TEST(set_pending_twice_notifies_once)
{
	static struct shared_info s;
	static struct vcpu_info vi;

	memset(&s, 0, sizeof(s));
	memset(&vi, 0, sizeof(vi));
	ck_assert(evtchn_2l_set_pending(&s, &vi, 5));
	vi.evtchn_pending_sel = 0; /* even if the guest cleared the selector */
	ck_assert(!evtchn_2l_set_pending(&s, &vi, 5));
	ck_assert_msg(vi.evtchn_pending_sel == 0, "second set_pending touched pending_sel");
}
END_TEST

START_TEST(set_pending_same_word_notifies_once)
{
	static struct shared_info s;
	static struct vcpu_info vi;

	memset(&s, 0, sizeof(s));
	memset(&vi, 0, sizeof(vi));
	ck_assert(evtchn_2l_set_pending(&s, &vi, 64));
	ck_assert(!evtchn_2l_set_pending(&s, &vi, 65)); /* word 1 already selected */
	ck_assert(evtchn_2l_is_pending(&s, 65));
}
END_TEST

START_TEST(set_pending_masked_waits_for_unmask)
{
	static struct shared_info s;
	static struct vcpu_info vi;

	memset(&s, 0, sizeof(s));
	memset(&vi, 0, sizeof(vi));
	s.evtchn_mask[0] = 1ULL << 7;
	ck_assert(!evtchn_2l_set_pending(&s, &vi, 7));
	ck_assert(evtchn_2l_is_pending(&s, 7));
	ck_assert_msg(vi.evtchn_pending_sel == 0, "masked port selected its word");
	ck_assert(evtchn_2l_unmask(&s, &vi, 7));
	ck_assert(!evtchn_2l_is_masked(&s, 7));
	ck_assert(vi.evtchn_pending_sel & 1);
	/* Unmasking again, or a port that is not pending, notifies nothing. */
	ck_assert(!evtchn_2l_unmask(&s, &vi, 7));
	s.evtchn_mask[0] |= 1ULL << 8;
	ck_assert(!evtchn_2l_unmask(&s, &vi, 8));
}
END_TEST

START_TEST(out_of_range_port_is_masked_not_pending)
{
	static struct shared_info s;

	memset(&s, 0xff, sizeof(s));
	ck_assert(!evtchn_2l_is_pending(&s, NR_EVENT_CHANNELS));
	ck_assert(evtchn_2l_is_masked(&s, NR_EVENT_CHANNELS));
}
END_TEST

/* ---- port 0 and validity ---------------------------------------------------- */

START_TEST(port0_reserved)
{
	setup();
	struct evtchn_status s = status(v10, DOMID_SELF, 0, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_closed);
	expect_rc(evtchn_op_close(d1, 0), -EINVAL);
	expect_rc(evtchn_op_send(d1, 0), -EINVAL);
	expect_rc(evtchn_op_bind_vcpu(d1, 0, 0), -EINVAL);
	expect_rc(evtchn_port_poll(d1, 0), -EINVAL);
	/* Unmask looks at validity only, as Xen's. */
	expect_rc(evtchn_op_unmask(d1, 0), 0);
	/* The first port handed out is 1. */
	ck_assert_int_eq(alloc_unbound(v10, DOMID_SELF, 0), 1);
}
END_TEST

START_TEST(ports_valid_in_buckets_of_64)
{
	setup();
	/* Before any allocation ports 0..63 are valid (closed), 64 is not. */
	ck_assert_int_eq(status(v10, DOMID_SELF, 63, 0).status, EVTCHNSTAT_closed);
	status(v10, DOMID_SELF, 64, -EINVAL);
	expect_rc(evtchn_op_unmask(d1, 64), -EINVAL);
	for (int i = 1; i <= 64; i++)
		alloc_unbound(v10, DOMID_SELF, 0);
	/* Port 64 went out, so its bucket (64..127) is valid now. */
	ck_assert_int_eq(status(v10, DOMID_SELF, 127, 0).status, EVTCHNSTAT_closed);
	status(v10, DOMID_SELF, 128, -EINVAL);
	status(v10, DOMID_SELF, 0xffffffffu, -EINVAL);
	expect_rc(evtchn_op_send(d1, 4096), -EINVAL);
	expect_rc(evtchn_op_close(d1, 0x80000000u), -EINVAL);
}
END_TEST

START_TEST(alloc_reuses_lowest_free_port)
{
	setup();
	ck_assert_int_eq(alloc_unbound(v10, DOMID_SELF, 0), 1);
	ck_assert_int_eq(alloc_unbound(v10, DOMID_SELF, 0), 2);
	ck_assert_int_eq(alloc_unbound(v10, DOMID_SELF, 0), 3);
	expect_rc(evtchn_op_close(d1, 2), 0);
	ck_assert_int_eq(alloc_unbound(v10, DOMID_SELF, 0), 2);
}
END_TEST

START_TEST(alloc_until_full_is_enospc)
{
	setup();
	for (u32 p = 1; p < NR_EVENT_CHANNELS; p++)
		ck_assert_int_eq(alloc_unbound(v10, DOMID_SELF, 0), p);
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 0, .port = 77 };
	expect_rc(evtchn_op_alloc_unbound(v10, &a), -ENOSPC);
	ck_assert_int_eq(a.port, 77);
	u32 port;
	expect_rc(bind_virq(v10, VIRQ_TIMER, 0, &port), -ENOSPC);
	struct evtchn_bind_ipi b = { .vcpu = 0 };
	expect_rc(evtchn_op_bind_ipi(v10, &b), -ENOSPC);
	ck_assert_int_eq(v10->ev.virq_port[VIRQ_TIMER], 0);
}
END_TEST

/* ---- alloc_unbound ------------------------------------------------------------ */

START_TEST(alloc_unbound_records_remote)
{
	setup();
	u32 p = alloc_unbound(v10, DOMID_SELF, DOMID_SELF);
	struct evtchn_status s = status(v10, DOMID_SELF, p, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_unbound);
	ck_assert_int_eq(s.u.unbound.dom, 1); /* DOMID_SELF = the caller */
	ck_assert_int_eq(s.vcpu, 0);
	p = alloc_unbound(v10, DOMID_SELF, 0);
	ck_assert_int_eq(status(v10, DOMID_SELF, p, 0).u.unbound.dom, 0);
}
END_TEST

START_TEST(alloc_unbound_permissions)
{
	setup();
	struct evtchn_alloc_unbound a = { .dom = 2, .remote_dom = 0 };
	expect_rc(evtchn_op_alloc_unbound(v10, &a), -ESRCH); /* no domain 2 */
	a.dom = 0x7ff5;
	expect_rc(evtchn_op_alloc_unbound(v10, &a), -ESRCH);
	a.dom = 0; /* a domU may not allocate in dom0 */
	expect_rc(evtchn_op_alloc_unbound(v10, &a), -EPERM);
	ck_assert_int_eq(status(v00, DOMID_SELF, 1, 0).status, EVTCHNSTAT_closed);
	/* dom0 may allocate in a domU (the toolstack's job). */
	u32 p = alloc_unbound(v00, 1, 0);
	struct evtchn_status s = status(v10, DOMID_SELF, p, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_unbound);
	ck_assert_int_eq(s.u.unbound.dom, 0);
	/* ...and the hypervisor's own path. */
	u32 q;
	expect_rc(evtchn_alloc_unbound_for(d1, 0, &q), 0);
	ck_assert_uint_eq(q, p + 1);
}
END_TEST

/* ---- bind_interdomain ------------------------------------------------------------ */

START_TEST(bind_interdomain_connects_both_ends)
{
	setup();
	u32 rport = alloc_unbound(v10, DOMID_SELF, 0), lport;
	expect_rc(bind_interdomain(v00, 1, rport, &lport), 0);
	struct evtchn_status s = status(v00, DOMID_SELF, lport, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_interdomain);
	ck_assert_int_eq(s.u.interdomain.dom, 1);
	ck_assert_uint_eq(s.u.interdomain.port, rport);
	s = status(v10, DOMID_SELF, rport, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_interdomain);
	ck_assert_int_eq(s.u.interdomain.dom, 0);
	ck_assert_uint_eq(s.u.interdomain.port, lport);
	/* Xen signals the new local port (lost notifications). */
	ck_assert(pending(d0, lport));
	ck_assert(!pending(d1, rport));
	ck_assert_int_eq(vcpu_info(v00)->evtchn_upcall_pending, 1);
}
END_TEST

START_TEST(bind_interdomain_rejects_port_offered_to_another)
{
	setup();
	u32 rport = alloc_unbound(v10, DOMID_SELF, 2), lport = 0;
	expect_rc(bind_interdomain(v00, 1, rport, &lport), -EINVAL);
	ck_assert_uint_eq(lport, 0xdead); /* OUT untouched on error */
	ck_assert_int_eq(status(v10, DOMID_SELF, rport, 0).status, EVTCHNSTAT_unbound);
	ck_assert_int_eq(status(v00, DOMID_SELF, 1, 0).status, EVTCHNSTAT_closed);
	ck_assert(!pending(d0, 1));
}
END_TEST

START_TEST(bind_interdomain_bad_inputs)
{
	setup();
	u32 rport = alloc_unbound(v10, DOMID_SELF, 0), lport;
	expect_rc(bind_interdomain(v00, 2, rport, &lport), -ESRCH);
	expect_rc(bind_interdomain(v00, 0x7ff2, rport, &lport), -ESRCH);
	expect_rc(bind_interdomain(v00, 1, 0, &lport), -EINVAL);      /* reserved */
	expect_rc(bind_interdomain(v00, 1, rport + 1, &lport), -EINVAL); /* free */
	expect_rc(bind_interdomain(v00, 1, 4096, &lport), -EINVAL);
	expect_rc(bind_interdomain(v00, 1, 0xffffffffu, &lport), -EINVAL);
	/* Binding an already bound port. */
	expect_rc(bind_interdomain(v00, 1, rport, &lport), 0);
	u32 again;
	expect_rc(bind_interdomain(v00, 1, rport, &again), -EINVAL);
	/* A VIRQ or IPI port is not unbound either. */
	u32 vport;
	expect_rc(bind_virq(v10, VIRQ_TIMER, 0, &vport), 0);
	expect_rc(bind_interdomain(v00, 1, vport, &again), -EINVAL);
	/* None of the failures used up a dom0 port. */
	ck_assert_int_eq(alloc_unbound(v00, DOMID_SELF, 1), lport + 1);
}
END_TEST

START_TEST(loopback_within_one_domain)
{
	setup();
	u32 a = alloc_unbound(v10, DOMID_SELF, DOMID_SELF), b;
	expect_rc(bind_interdomain(v10, DOMID_SELF, a, &b), 0);
	ck_assert_uint_ne(a, b);
	evtchn_2l_clear_pending(si(d1), b);
	expect_rc(evtchn_op_send(d1, a), 0);
	ck_assert(pending(d1, b));
	ck_assert(!pending(d1, a));
	expect_rc(evtchn_op_send(d1, b), 0);
	ck_assert(pending(d1, a));
}
END_TEST

/* ---- close ------------------------------------------------------------------------ */

START_TEST(close_interdomain_leaves_peer_unbound)
{
	setup();
	u32 rport = alloc_unbound(v10, DOMID_SELF, 0), lport;
	expect_rc(bind_interdomain(v00, 1, rport, &lport), 0);
	expect_rc(evtchn_op_close(d0, lport), 0);
	ck_assert_int_eq(status(v00, DOMID_SELF, lport, 0).status, EVTCHNSTAT_closed);
	ck_assert(!pending(d0, lport)); /* closing clears pending */
	struct evtchn_status s = status(v10, DOMID_SELF, rport, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_unbound);
	ck_assert_int_eq(s.u.unbound.dom, 0);
	/* Sending on the now-unbound end is dropped without error. */
	expect_rc(evtchn_op_send(d1, rport), 0);
	/* And the peer can bind again. */
	expect_rc(bind_interdomain(v00, 1, rport, &lport), 0);
}
END_TEST

START_TEST(double_close_is_einval)
{
	setup();
	u32 p = alloc_unbound(v10, DOMID_SELF, 0);
	expect_rc(evtchn_op_close(d1, p), 0);
	expect_rc(evtchn_op_close(d1, p), -EINVAL);
	u32 ipi = bind_ipi(v10, 1);
	expect_rc(evtchn_op_close(d1, ipi), 0);
	expect_rc(evtchn_op_close(d1, ipi), -EINVAL);
}
END_TEST

/* ---- send ------------------------------------------------------------------------- */

START_TEST(send_interdomain_reaches_peer_notify_vcpu)
{
	setup();
	u32 rport = alloc_unbound(v10, DOMID_SELF, 0), lport;
	expect_rc(bind_interdomain(v00, 1, rport, &lport), 0);
	expect_rc(evtchn_op_bind_vcpu(d1, rport, 1), 0);
	expect_rc(evtchn_op_send(d0, lport), 0);
	ck_assert(pending(d1, rport));
	ck_assert(vcpu_info(v11)->evtchn_pending_sel & (1ULL << (rport / 64)));
	ck_assert_int_eq(vcpu_info(v11)->evtchn_upcall_pending, 1);
	ck_assert_int_eq(vcpu_info(v10)->evtchn_upcall_pending, 0);
}
END_TEST

START_TEST(send_unbound_dropped_virq_einval)
{
	setup();
	u32 p = alloc_unbound(v10, DOMID_SELF, 0), vp;
	expect_rc(evtchn_op_send(d1, p), 0);
	ck_assert(!pending(d1, p));
	expect_rc(bind_virq(v10, VIRQ_TIMER, 0, &vp), 0);
	expect_rc(evtchn_op_send(d1, vp), -EINVAL);
	expect_rc(evtchn_op_send(d1, 50), -EINVAL); /* free */
}
END_TEST

START_TEST(send_ipi_targets_its_vcpu)
{
	setup();
	u32 p = bind_ipi(v10, 1);
	struct evtchn_status s = status(v10, DOMID_SELF, p, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_ipi);
	ck_assert_int_eq(s.vcpu, 1);
	expect_rc(evtchn_op_send(d1, p), 0);
	ck_assert(pending(d1, p));
	ck_assert_int_eq(vcpu_info(v11)->evtchn_upcall_pending, 1);
	ck_assert_int_eq(vcpu_info(v10)->evtchn_upcall_pending, 0);
	struct evtchn_bind_ipi b = { .vcpu = 2 };
	expect_rc(evtchn_op_bind_ipi(v10, &b), -ENOENT);
}
END_TEST

START_TEST(masked_port_notifies_on_unmask)
{
	setup();
	u32 p = bind_ipi(v10, 0);
	mask(d1, p);
	expect_rc(evtchn_op_send(d1, p), 0);
	ck_assert(pending(d1, p));
	ck_assert_int_eq(vcpu_info(v10)->evtchn_upcall_pending, 0);
	ck_assert_int_eq(vcpu_info(v10)->evtchn_pending_sel, 0);
	expect_rc(evtchn_op_unmask(d1, p), 0);
	ck_assert_int_eq(vcpu_info(v10)->evtchn_upcall_pending, 1);
	ck_assert(!evtchn_2l_is_masked(si(d1), p));
}
END_TEST

/* ---- VIRQs --------------------------------------------------------------------------- */

START_TEST(bind_virq_rules)
{
	setup();
	u32 p0, p1, p;
	expect_rc(bind_virq(v10, VIRQ_TIMER, 0, &p0), 0);
	expect_rc(bind_virq(v10, VIRQ_TIMER, 1, &p1), 0); /* per vCPU */
	ck_assert_uint_ne(p0, p1);
	expect_rc(bind_virq(v10, VIRQ_TIMER, 0, &p), -EEXIST);
	ck_assert_uint_eq(p, 0xdead);
	expect_rc(bind_virq(v10, NR_VIRQS, 0, &p), -EINVAL);
	expect_rc(bind_virq(v10, 0xffffffffu, 0, &p), -EINVAL);
	expect_rc(bind_virq(v10, VIRQ_TIMER, 2, &p), -ENOENT);
	expect_rc(bind_virq(v10, VIRQ_TIMER, 0xffffffffu, &p), -ENOENT);
	/* Global VIRQs: vCPU 0 only, and only the handler (dom0). */
	expect_rc(bind_virq(v00, VIRQ_DOM_EXC, 1, &p), -EINVAL);
	expect_rc(bind_virq(v10, VIRQ_DOM_EXC, 0, &p), -EBUSY);
	expect_rc(bind_virq(v10, VIRQ_CONSOLE, 0, &p), -EBUSY);
	expect_rc(bind_virq(v00, VIRQ_DOM_EXC, 0, &p), 0);
	expect_rc(bind_virq(v00, VIRQ_DOM_EXC, 0, &p), -EEXIST);
	struct evtchn_status s = status(v10, DOMID_SELF, p1, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_virq);
	ck_assert_int_eq(s.u.virq, VIRQ_TIMER);
	ck_assert_int_eq(s.vcpu, 1);
}
END_TEST

START_TEST(close_virq_allows_rebind)
{
	setup();
	u32 p, q;
	expect_rc(bind_virq(v10, VIRQ_DEBUG, 1, &p), 0);
	expect_rc(evtchn_op_close(d1, p), 0);
	ck_assert_int_eq(v11->ev.virq_port[VIRQ_DEBUG], 0);
	expect_rc(bind_virq(v10, VIRQ_DEBUG, 1, &q), 0);
	ck_assert_uint_eq(p, q);
}
END_TEST

START_TEST(send_virq_api)
{
	setup();
	u32 p;
	evtchn_send_virq(v11, VIRQ_TIMER); /* not bound: nothing */
	ck_assert_int_eq(vcpu_info(v11)->evtchn_upcall_pending, 0);
	expect_rc(bind_virq(v10, VIRQ_TIMER, 1, &p), 0);
	evtchn_send_virq(v11, VIRQ_TIMER);
	ck_assert(pending(d1, p));
	ck_assert_int_eq(vcpu_info(v11)->evtchn_upcall_pending, 1);
	evtchn_send_virq(v11, NR_VIRQS); /* out of range: ignored */
	evtchn_send_virq(NULL, VIRQ_TIMER);
}
END_TEST

START_TEST(global_virq_follows_bind_vcpu)
{
	setup();
	u32 p;
	evtchn_send_global_virq(d0, VIRQ_DOM_EXC); /* unbound: nothing */
	evtchn_send_global_virq(NULL, VIRQ_DOM_EXC);
	expect_rc(bind_virq(v00, VIRQ_DOM_EXC, 0, &p), 0);
	expect_rc(evtchn_op_bind_vcpu(d0, p, 1), 0);
	evtchn_send_global_virq(d0, VIRQ_DOM_EXC);
	ck_assert(pending(d0, p));
	ck_assert_int_eq(vcpu_info(v01)->evtchn_upcall_pending, 1);
	ck_assert_int_eq(vcpu_info(v00)->evtchn_upcall_pending, 0);
	/* Closed from either vCPU's point of view, the binding is gone. */
	expect_rc(evtchn_op_close(d0, p), 0);
	ck_assert_int_eq(v00->ev.virq_port[VIRQ_DOM_EXC], 0);
}
END_TEST

/* ---- bind_vcpu / status / unmask errors -------------------------------------------------- */

START_TEST(bind_vcpu_rules)
{
	setup();
	u32 ub = alloc_unbound(v10, DOMID_SELF, 0), tp, ipi = bind_ipi(v10, 0);
	expect_rc(bind_virq(v10, VIRQ_TIMER, 0, &tp), 0);
	expect_rc(evtchn_op_bind_vcpu(d1, ub, 1), 0);
	ck_assert_int_eq(status(v10, DOMID_SELF, ub, 0).vcpu, 1);
	expect_rc(evtchn_op_bind_vcpu(d1, ub, 2), -ENOENT);
	expect_rc(evtchn_op_bind_vcpu(d1, tp, 1), -EINVAL);  /* per-vCPU VIRQ */
	expect_rc(evtchn_op_bind_vcpu(d1, ipi, 1), -EINVAL); /* IPI */
	expect_rc(evtchn_op_bind_vcpu(d1, 40, 1), -EINVAL);  /* free */
	expect_rc(evtchn_op_bind_vcpu(d1, 9999, 1), -EINVAL);
	expect_rc(evtchn_op_bind_vcpu(d1, 9999, 7), -ENOENT); /* vCPU checked first */
}
END_TEST

START_TEST(status_permissions)
{
	setup();
	u32 p = alloc_unbound(v00, DOMID_SELF, 1);
	status(v10, 0, p, -EPERM);      /* a domU may not look at dom0 */
	status(v10, 0, 5000, -EINVAL);  /* the port is checked first */
	status(v10, 2, p, -ESRCH);
	ck_assert_int_eq(status(v00, 1, 0, 0).status, EVTCHNSTAT_closed); /* dom0 may */
	ck_assert_int_eq(status(v10, 1, 0, 0).status, EVTCHNSTAT_closed); /* own id */
}
END_TEST

START_TEST(set_priority_and_reset)
{
	setup();
	u32 p = alloc_unbound(v10, DOMID_SELF, 0);
	expect_rc(evtchn_op_set_priority(d1, p), -ENOSYS);
	expect_rc(evtchn_op_set_priority(d1, 5000), -EINVAL);
	expect_rc(evtchn_op_reset(v10, 0), -EPERM);
	expect_rc(evtchn_op_reset(v10, 2), -ESRCH);
	expect_rc(evtchn_op_reset(v00, 1), -EINVAL); /* running, not paused */
	expect_rc(evtchn_op_reset(v10, DOMID_SELF), 0);
	ck_assert_int_eq(status(v10, DOMID_SELF, p, 0).status, EVTCHNSTAT_closed);
	ck_assert_int_eq(status(v10, DOMID_SELF, 0, 0).status, EVTCHNSTAT_closed);
}
END_TEST

/* ---- waking ---------------------------------------------------------------------------- */

START_TEST(event_wakes_blocked_vcpu)
{
	setup();
	u32 p = bind_ipi(v10, 1), q = bind_ipi(v10, 1);
	v11->blocked = true;
	mask(d1, p);
	expect_rc(evtchn_op_send(d1, p), 0);
	ck_assert_msg(v11->blocked, "a masked event woke a vCPU that is not polling");
	expect_rc(evtchn_op_send(d1, q), 0);
	ck_assert_msg(!v11->blocked, "an event did not wake its vCPU");
}
END_TEST

START_TEST(poll_wakes_on_masked_port)
{
	setup();
	u32 p = bind_ipi(v10, 0), other = bind_ipi(v10, 0);
	mask(d1, p);
	mask(d1, other);
	expect_rc(evtchn_port_poll(d1, p), 0);
	expect_rc(evtchn_port_poll(d1, 3000), -EINVAL);
	expect_rc(evtchn_port_poll(d1, 60), -EINVAL); /* valid but free */
	/* As SCHEDOP_poll leaves a vCPU waiting for one port. */
	v10->blocked = true;
	v10->ev.poll_port = (int)p;
	d1->ev.poll_mask |= 1;
	expect_rc(evtchn_op_send(d1, other), 0);
	ck_assert_msg(v10->blocked, "a poller woke for a port it does not poll");
	expect_rc(evtchn_op_send(d1, p), 0);
	ck_assert_msg(!v10->blocked, "a poller did not wake for its masked port");
	ck_assert_int_eq(d1->ev.poll_mask, 0);
	ck_assert_int_eq(v10->ev.poll_port, 0);
	expect_rc(evtchn_port_poll(d1, p), 1);
}
END_TEST

/* ---- teardown -------------------------------------------------------------------------- */

START_TEST(destroy_unbinds_peers)
{
	setup();
	u32 rport = alloc_unbound(v10, DOMID_SELF, 0), lport;
	expect_rc(bind_interdomain(v00, 1, rport, &lport), 0);
	evtchn_domain_destroy(d1);
	ck_assert_ptr_null(d1->ev.port);
	ck_assert_ptr_null(domain_shared_info(d1));
	struct evtchn_status s = status(v00, DOMID_SELF, lport, 0);
	ck_assert_int_eq(s.status, EVTCHNSTAT_unbound);
	ck_assert_int_eq(s.u.unbound.dom, 1);
	evtchn_domain_destroy(d1); /* idempotent */
	/* Operations on a torn-down domain fail cleanly. */
	expect_rc(evtchn_op_send(d1, rport), -EINVAL);
	struct evtchn_alloc_unbound a = { .dom = 1, .remote_dom = 0 };
	expect_rc(evtchn_op_alloc_unbound(v00, &a), -EINVAL);
	expect_rc(bind_interdomain(v00, 1, rport, NULL), -EINVAL);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "evtchn-2l-set-pending-marks-port-word-and-upcall", &set_pending_marks_port_word_and_upcall_ttest },
	{ "evtchn-2l-set-pending-twice-notifies-once", &set_pending_twice_notifies_once_ttest },
	{ "evtchn-2l-set-pending-same-word-notifies-once", &set_pending_same_word_notifies_once_ttest },
	{ "evtchn-2l-masked-waits-for-unmask", &set_pending_masked_waits_for_unmask_ttest },
	{ "evtchn-2l-out-of-range-port-masked", &out_of_range_port_is_masked_not_pending_ttest },
	{ "evtchn-port0-reserved", &port0_reserved_ttest },
	{ "evtchn-ports-valid-in-buckets-of-64", &ports_valid_in_buckets_of_64_ttest },
	{ "evtchn-alloc-reuses-lowest-free-port", &alloc_reuses_lowest_free_port_ttest },
	{ "evtchn-alloc-until-full-enospc", &alloc_until_full_is_enospc_ttest },
	{ "evtchn-alloc-unbound-records-remote", &alloc_unbound_records_remote_ttest },
	{ "evtchn-alloc-unbound-permissions", &alloc_unbound_permissions_ttest },
	{ "evtchn-bind-interdomain-connects-both-ends", &bind_interdomain_connects_both_ends_ttest },
	{ "evtchn-bind-interdomain-rejects-other-remote", &bind_interdomain_rejects_port_offered_to_another_ttest },
	{ "evtchn-bind-interdomain-bad-inputs", &bind_interdomain_bad_inputs_ttest },
	{ "evtchn-loopback-within-one-domain", &loopback_within_one_domain_ttest },
	{ "evtchn-close-interdomain-peer-unbound", &close_interdomain_leaves_peer_unbound_ttest },
	{ "evtchn-double-close-einval", &double_close_is_einval_ttest },
	{ "evtchn-send-interdomain-notify-vcpu", &send_interdomain_reaches_peer_notify_vcpu_ttest },
	{ "evtchn-send-unbound-dropped-virq-einval", &send_unbound_dropped_virq_einval_ttest },
	{ "evtchn-send-ipi-targets-its-vcpu", &send_ipi_targets_its_vcpu_ttest },
	{ "evtchn-masked-port-notifies-on-unmask", &masked_port_notifies_on_unmask_ttest },
	{ "evtchn-bind-virq-rules", &bind_virq_rules_ttest },
	{ "evtchn-close-virq-allows-rebind", &close_virq_allows_rebind_ttest },
	{ "evtchn-send-virq-api", &send_virq_api_ttest },
	{ "evtchn-global-virq-follows-bind-vcpu", &global_virq_follows_bind_vcpu_ttest },
	{ "evtchn-bind-vcpu-rules", &bind_vcpu_rules_ttest },
	{ "evtchn-status-permissions", &status_permissions_ttest },
	{ "evtchn-set-priority-and-reset", &set_priority_and_reset_ttest },
	{ "evtchn-event-wakes-blocked-vcpu", &event_wakes_blocked_vcpu_ttest },
	{ "evtchn-poll-wakes-on-masked-port", &poll_wakes_on_masked_port_ttest },
	{ "evtchn-destroy-unbinds-peers", &destroy_unbinds_peers_ttest },
	{ 0 },
};
