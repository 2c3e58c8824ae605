/*
 * dom0's event-channel self-test (cmdline `test=evtchn`): what one domain
 * can check on its own, through guest/lib/evtchn: shared_info placement,
 * IPIs to itself, VIRQ binding, an interdomain channel looped back into
 * dom0, delivery through the callback vector (also to a vCPU waiting in
 * HLT), masking, polling, blocking, vcpu_info registration, HVM params,
 * and Xen's error for every bad input. Each check prints
 *
 *     dom0: test evtchn-<name>: PASS|FAIL <detail>
 *
 * then `dom0: evtchn tests done: N passed, M failed`, and dom0 powers
 * off. With `test=evtchn-sleep` it then halts with interrupts on and
 * nothing to wake it, which the hypervisor must treat as sleeping (the
 * scheduler reports that nothing can wake any vCPU).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/hvm_op.h>
#include <public/memory.h>
#include <public/params.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include "dom0.h"
#include "selftests.h"
#include "evtchn.h"
#include "guest.h"
#include "selftest.h"
#include "hypercall.h"

static struct selftest tally = { .prefix = "evtchn-" };

#define check(name, ok, ...) selftest_check(&tally, name, ok, __VA_ARGS__)

/* A guest-virtual address that maps nothing (non-canonical). */
#define BAD_PTR ((void *)0x0000800000000000ULL)

/* ---- handlers ---------------------------------------------------------------- */

/* Counts per port; a handler sets `fired` for evtchn_wait_for. */
static volatile u32 hits[NR_EVENT_CHANNELS];
static volatile bool fired;

static void count_handler(evtchn_port_t port, void *arg)
{
	(void)arg;
	hits[port]++;
	fired = true;
}

/* Sends once, then waits for the port's handler with HLT. Returns false
 * if the handler did not run. */
static bool send_and_wait(evtchn_port_t send, evtchn_port_t expect)
{
	u32 before = hits[expect];

	fired = false;
	if (evtchn_send(send))
		return false;
	evtchn_wait_for(&fired);
	return hits[expect] == before + 1;
}

/* ---- pvclock (for the timer wake-up) ------------------------------------------- */

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

/* System time in ns from vCPU 0's vcpu_time_info (Xen public/xen.h). */
static u64 now_ns(void)
{
	const volatile struct vcpu_time_info *t = &evtchn_shared_info()->vcpu_info[0].time;
	u32 ver;
	u64 ns;

	do {
		ver = t->version;
		asm volatile("" ::: "memory");
		u64 delta = rdtsc() - t->tsc_timestamp;
		if (t->tsc_shift < 0)
			delta >>= -t->tsc_shift;
		else
			delta <<= t->tsc_shift;
		ns = t->system_time + (u64)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
		asm volatile("" ::: "memory");
	} while ((ver & 1) || ver != t->version);
	return ns;
}

/* ---- the checks ------------------------------------------------------------------ */

static void test_shared_info(void)
{
	static u8 other_page[PAGE_SIZE] __aligned(PAGE_SIZE);
	struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info };
	char bad[120] = "";
	long rc;

	/* Bad inputs first, while nothing is placed. */
#define ATP_EXPECT(field_set, want)                                                       \
	do {                                                                              \
		x = (struct xen_add_to_physmap){ .domid = DOMID_SELF,                     \
						 .space = XENMAPSPACE_shared_info,        \
						 .gpfn = (u64)(uintptr_t)other_page >> 12 }; \
		field_set;                                                                \
		rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x);                     \
		if (rc != (want) && !bad[0])                                              \
			snprintf(bad, sizeof(bad), "%s: %ld, want %d", #field_set, rc, (want)); \
	} while (0)
	ATP_EXPECT(x.idx = 1, -EINVAL);
	ATP_EXPECT(x.gpfn = ~0ULL, -EINVAL);
	ATP_EXPECT(x.gpfn = 1ULL << 40, -EINVAL);
	ATP_EXPECT(x.domid = 40, -ESRCH);
	ATP_EXPECT(x.space = 9, -EINVAL);
	ATP_EXPECT(x.space = XENMAPSPACE_gmfn_foreign, -ENOSYS);
	ATP_EXPECT(x.space = XENMAPSPACE_dev_mmio, -EOPNOTSUPP);
#undef ATP_EXPECT
	rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, BAD_PTR);
	if (rc != -EFAULT && !bad[0])
		snprintf(bad, sizeof(bad), "bad pointer: %ld, want -EFAULT", rc);

	rc = evtchn_init();
	struct shared_info *s = evtchn_shared_info();
	/* The page now reads as shared_info: the mask words we just set,
	 * and the pvclock the hypervisor keeps in vcpu_info[0]. */
	bool looks_right = s && s->evtchn_mask[0] == ~0ULL && s->evtchn_mask[63] == ~0ULL;
	check("shared-info-map", !rc && looks_right && !bad[0],
	      "evtchn_init %ld at gpfn 0x%lx, time version %u mul 0x%x%s%s", rc,
	      (u64)(uintptr_t)s >> 12, s ? s->vcpu_info[0].time.version : 0,
	      s ? s->vcpu_info[0].time.tsc_to_system_mul : 0, bad[0] ? "; " : "", bad);
}

static void test_memory_map(const struct hvm_start_info *si)
{
	static struct xen_e820_entry e[160];
	struct xen_memory_map m = { .nr_entries = ARRAY_SIZE(e), .buffer = (u64)(uintptr_t)e };
	unsigned n_si;
	const struct hvm_memmap_table_entry *mm = si_memmap(si, &n_si);
	long rc = HYPERVISOR_memory_op(XENMEM_memory_map, &m);
	bool same = !rc && m.nr_entries == n_si;

	for (unsigned i = 0; same && i < n_si; i++)
		same = e[i].addr == mm[i].addr && e[i].size == mm[i].size && e[i].type == mm[i].type;
	/* A smaller buffer gets the first entries and the count stored. */
	struct xen_memory_map small = { .nr_entries = 1, .buffer = (u64)(uintptr_t)e };
	long rc_small = HYPERVISOR_memory_op(XENMEM_memory_map, &small);
	struct xen_memory_map badbuf = { .nr_entries = 4, .buffer = (u64)(uintptr_t)BAD_PTR };
	long rc_bad = HYPERVISOR_memory_op(XENMEM_memory_map, &badbuf);
	check("memory-map", same && !rc_small && small.nr_entries == 1 && rc_bad == -EFAULT,
	      "rc %ld, %u entries (start_info %u), first [0x%lx+0x%lx type %u]; small %ld/%u; "
	      "bad buffer %ld",
	      rc, m.nr_entries, n_si, e[0].addr, e[0].size, e[0].type, rc_small,
	      small.nr_entries, rc_bad);
}

static evtchn_port_t ipi;

static void test_ipi_self(void)
{
	u64 up = evtchn_upcall_count();
	int rc = evtchn_bind_ipi(0, &ipi);
	bool ok = !rc && ipi > 0;

	if (ok) {
		evtchn_set_handler(ipi, count_handler, NULL);
		rc = evtchn_unmask(ipi);
		ok = !rc && send_and_wait(ipi, ipi);
	}
	check("ipi-self", ok && evtchn_upcall_count() > up,
	      "port %u, rc %d, handler ran %u times, upcalls %lu", ipi, rc, hits[ipi],
	      evtchn_upcall_count() - up);
}

static void test_mask_unmask(void)
{
	u32 before = hits[ipi];
	bool pending_while_masked, silent;

	evtchn_mask(ipi);
	evtchn_send(ipi);
	pending_while_masked = evtchn_is_pending(ipi);
	silent = hits[ipi] == before && !evtchn_vcpu_info()->evtchn_upcall_pending;
	/* EVTCHNOP_unmask delivers what became pending while masked. */
	int rc = evtchn_unmask(ipi);
	evtchn_irq_disable(); /* the upcall came on the hypercall's return */
	bool delivered = hits[ipi] == before + 1 && !evtchn_is_pending(ipi);
	evtchn_irq_enable();
	check("mask-unmask", pending_while_masked && silent && !rc && delivered,
	      "pending while masked %d, silent %d, unmask %d, delivered %d",
	      pending_while_masked, silent, rc, delivered);
}

#define PINGS 1000

static evtchn_port_t loop_a, loop_b;
static volatile u32 pongs;

/* The far end of the loopback answers every ping. */
static void pong_handler(evtchn_port_t port, void *arg)
{
	(void)arg;
	(void)port;
	evtchn_send(loop_b); /* back to loop_a */
}

static void test_loopback_ping(void)
{
	int rc1 = evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &loop_a);
	int rc2 = rc1 ? rc1 : evtchn_bind_interdomain(DOMID_SELF, loop_a, &loop_b);
	bool bind_pending = !rc2 && evtchn_is_pending(loop_b); /* Xen signals the new end */
	unsigned done = 0;

	if (!rc2) {
		evtchn_clear_pending(loop_b);
		evtchn_set_handler(loop_a, count_handler, NULL);
		evtchn_set_handler(loop_b, pong_handler, NULL);
		evtchn_unmask(loop_a);
		evtchn_unmask(loop_b);
		/* Ping on a (arrives at b), b's handler pongs (arrives at a). */
		for (done = 0; done < PINGS; done++)
			if (!send_and_wait(loop_a, loop_a))
				break;
	}
	check("loopback-ping", !rc2 && bind_pending && done == PINGS,
	      "ports %u<->%u (alloc %d, bind %d), bind left local pending %d, %u/%u round trips",
	      loop_a, loop_b, rc1, rc2, bind_pending, done, PINGS);
}

static void test_status(void)
{
	struct evtchn_status s;
	evtchn_port_t ub = 0;
	char bad[120] = "";

#define ST(port, want_status, cond)                                                       \
	do {                                                                              \
		int rc_ = evtchn_status(DOMID_SELF, port, &s);                            \
		if ((rc_ || s.status != (want_status) || !(cond)) && !bad[0])             \
			snprintf(bad, sizeof(bad), "port %u: rc %d status %u vcpu %u",    \
				 (unsigned)(port), rc_, s.status, s.vcpu);                 \
	} while (0)
	evtchn_alloc_unbound(DOMID_SELF, 7, &ub);
	ST(0, EVTCHNSTAT_closed, true);
	ST(ipi, EVTCHNSTAT_ipi, s.vcpu == 0);
	ST(loop_a, EVTCHNSTAT_interdomain, s.u.interdomain.dom == 0 && s.u.interdomain.port == loop_b);
	ST(loop_b, EVTCHNSTAT_interdomain, s.u.interdomain.port == loop_a);
	ST(ub, EVTCHNSTAT_unbound, s.u.unbound.dom == 7);
	ST(63, EVTCHNSTAT_closed, true);
	evtchn_close(ub);
	ST(ub, EVTCHNSTAT_closed, true);
#undef ST
	check("status", !bad[0], "%s", bad[0] ? bad : "ipi, interdomain, unbound, closed");
}

static void test_virq_bind(void)
{
	evtchn_port_t t = 0, t2, dbg = 0, exc = 0, again;
	struct evtchn_status s;
	char bad[160] = "";

#define EXPECT(call, want)                                                                \
	do {                                                                              \
		int rc_ = (call);                                                         \
		if (rc_ != (want) && !bad[0])                                             \
			snprintf(bad, sizeof(bad), "%s = %d, want %d", #call, rc_, (want)); \
	} while (0)
	EXPECT(evtchn_bind_virq(VIRQ_TIMER, 0, &t), 0);
	EXPECT(evtchn_bind_virq(VIRQ_TIMER, 0, &t2), -EEXIST);
	EXPECT(evtchn_bind_virq(VIRQ_DEBUG, 0, &dbg), 0);
	EXPECT(evtchn_bind_virq(VIRQ_DOM_EXC, 0, &exc), 0); /* dom0 handles global VIRQs */
	EXPECT(evtchn_bind_virq(VIRQ_DOM_EXC, 0, &again), -EEXIST);
	EXPECT(evtchn_bind_virq(VIRQ_CONSOLE, 1, &again), -EINVAL); /* global: vCPU 0 only */
	EXPECT(evtchn_bind_virq(VIRQ_TIMER, 1, &again), -ENOENT);   /* dom0 has one vCPU */
	EXPECT(evtchn_bind_virq(NR_VIRQS, 0, &again), -EINVAL);
	EXPECT(evtchn_bind_virq(0xffffffffu, 0, &again), -EINVAL);
	EXPECT(evtchn_status(DOMID_SELF, t, &s), 0);
	if ((s.status != EVTCHNSTAT_virq || s.u.virq != VIRQ_TIMER || s.vcpu != 0) && !bad[0])
		snprintf(bad, sizeof(bad), "status of the timer port: %u virq %u", s.status,
			 s.u.virq);
	EXPECT(evtchn_send(t), -EINVAL); /* a VIRQ port cannot be sent on */
	EXPECT(evtchn_bind_vcpu(t, 0), -EINVAL); /* per-vCPU VIRQ */
	EXPECT(evtchn_bind_vcpu(exc, 0), 0);     /* global VIRQ may move */
	/* Closing frees the VIRQ for binding again. */
	EXPECT(evtchn_close(dbg), 0);
	EXPECT(evtchn_bind_virq(VIRQ_DEBUG, 0, &again), 0);
	EXPECT(evtchn_close(again), 0);
	EXPECT(evtchn_close(exc), 0);
	EXPECT(evtchn_close(t), 0);
	EXPECT(evtchn_close(t), -EINVAL);
#undef EXPECT
	check("virq-bind", !bad[0], "%s", bad[0] ? bad : "TIMER, DEBUG, DOM_EXC; -EEXIST, -EINVAL, -ENOENT");
}

static void test_poll(void)
{
	evtchn_port_t p = 0;
	evtchn_bind_ipi(0, &p);
	evtchn_mask(p); /* masked: only polling sees it */
	evtchn_send(p);
	evtchn_port_t list[2] = { ipi, p };
	long rc = evtchn_poll(list, 2, 0); /* p pending: returns at once */
	long rc_bad_port, rc_many, rc_fault;
	evtchn_port_t badlist[1] = { 4000 };

	rc_bad_port = evtchn_poll(badlist, 1, 0);
	rc_many = evtchn_poll(list, 129, 0);
	rc_fault = evtchn_poll(BAD_PTR, 1, 0);
	long rc_arg = HYPERVISOR_sched_op(SCHEDOP_poll, BAD_PTR);
	evtchn_close(p);
	check("poll", rc == 0 && rc_bad_port == -EINVAL && rc_many == -EINVAL &&
			      rc_fault == -EFAULT && rc_arg == -EFAULT,
	      "pending masked port %ld, bad port %ld, 129 ports %ld, bad array %ld, bad arg %ld",
	      rc, rc_bad_port, rc_many, rc_fault, rc_arg);
}

static void test_block(void)
{
	u32 before = hits[ipi];

	/* With interrupts off, an event makes upcall_pending; SCHEDOP_block
	 * then returns at once instead of sleeping. */
	evtchn_irq_disable();
	evtchn_send(ipi);
	bool pending = evtchn_vcpu_info()->evtchn_upcall_pending;
	long rc = evtchn_block();
	bool not_yet = hits[ipi] == before;
	evtchn_irq_enable(); /* and now the vector comes */
	check("block", pending && rc == 0 && not_yet && hits[ipi] == before + 1,
	      "upcall pending %d, block %ld, handled after sti %u", pending, rc, hits[ipi] - before);
}

static void test_upcall_after_hlt(void)
{
	u32 before = hits[ipi];

	/* An event that arrives while interrupts are off must be taken at
	 * the HLT that follows STI: the vCPU does not go to sleep on it. */
	evtchn_irq_disable();
	evtchn_send(ipi);
	bool queued = hits[ipi] == before;
	evtchn_wait(); /* sti; hlt */
	check("upcall-after-hlt", queued && hits[ipi] == before + 1,
	      "held while IF=0 %d, handled at hlt %u", queued, hits[ipi] - before);
}

static void test_hlt_timer_wake(void)
{
	evtchn_port_t t = 0;
	struct vcpu_set_singleshot_timer st = { 0 };
	int rc = evtchn_bind_virq(VIRQ_TIMER, 0, &t);
	u64 start, deadline, woke = 0;
	long rc_timer = -1;

	if (!rc) {
		evtchn_set_handler(t, count_handler, NULL);
		evtchn_unmask(t);
		start = now_ns();
		deadline = start + 20 * 1000 * 1000; /* 20 ms */
		st.timeout_abs_ns = deadline;
		fired = false;
		rc_timer = HYPERVISOR_vcpu_op(VCPUOP_set_singleshot_timer, 0, &st);
		if (!rc_timer) {
			/* Sleeps in HLT: nothing else can end it but the timer. */
			evtchn_wait_for(&fired);
			woke = now_ns();
		}
		evtchn_close(t);
		check("hlt-timer-wake", !rc_timer && hits[t] == 1 && woke >= deadline,
		      "VIRQ_TIMER port %u, timer %ld, slept %lu us (deadline %lu us)", t,
		      rc_timer, (woke - start) / 1000, (deadline - start) / 1000);
	} else {
		check("hlt-timer-wake", false, "bind_virq(TIMER) = %d", rc);
	}
}

static void test_register_vcpu_info(void)
{
	static u8 area[PAGE_SIZE] __aligned(PAGE_SIZE);
	struct vcpu_info *vi = (struct vcpu_info *)(area + 128);
	struct vcpu_register_vcpu_info r;
	char bad[120] = "";
	long rc;

#define REG(gfn_, off_, want)                                                             \
	do {                                                                              \
		r = (struct vcpu_register_vcpu_info){ .mfn = (gfn_), .offset = (off_) };  \
		rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r);               \
		if (rc != (want) && !bad[0])                                              \
			snprintf(bad, sizeof(bad), "gfn 0x%lx offset %u: %ld, want %d",    \
				 (u64)(gfn_), (unsigned)(off_), rc, (want));               \
	} while (0)
	u64 gfn = (u64)(uintptr_t)area >> 12;
	REG(gfn, 4090, -ENXIO);    /* crosses the page */
	REG(gfn, 4, -ENXIO);       /* misaligned */
	REG(gfn, 4096, -EINVAL);   /* not in the frame */
	REG(0xfee00, 0, -EINVAL);  /* not RAM of this domain */
	rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, BAD_PTR);
	if (rc != -EFAULT && !bad[0])
		snprintf(bad, sizeof(bad), "bad pointer: %ld", rc);
	rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 1, &r);
	if (rc != -ENOENT && !bad[0])
		snprintf(bad, sizeof(bad), "vCPU 1: %ld", rc);

	/* With interrupts off we can see what registration leaves behind:
	 * every selector bit and upcall_pending set, the time copied. */
	evtchn_irq_disable();
	u32 old_mul = evtchn_vcpu_info()->time.tsc_to_system_mul;
	int reg = evtchn_register_vcpu_info(vi);
	bool marked = vi->evtchn_pending_sel == ~0ULL && vi->evtchn_upcall_pending == 1;
	bool time_copied = vi->time.tsc_to_system_mul == old_mul;
	evtchn_irq_enable(); /* a (spurious) upcall scans everything */
	REG(gfn, 128, -EBUSY);
#undef REG
	/* Events now arrive through the new area. */
	bool works = !reg && send_and_wait(ipi, ipi) && !vi->evtchn_upcall_pending;
	check("register-vcpu-info", !reg && marked && time_copied && works && !bad[0],
	      "register %d, marked %d, time copied %d, ipi through new area %d%s%s", reg, marked,
	      time_copied, works, bad[0] ? "; " : "", bad);
}

static void test_hvm_params(void)
{
	struct xen_hvm_param p;
	char bad[160] = "";
	long rc;

#define PARAM(op, dom, idx, val, want)                                                    \
	do {                                                                              \
		p = (struct xen_hvm_param){ .domid = (dom), .index = (idx), .value = (val) }; \
		rc = HYPERVISOR_hvm_op(op, &p);                                           \
		if (rc != (want) && !bad[0])                                              \
			snprintf(bad, sizeof(bad), "%s index %u: %ld, want %d", #op,       \
				 (unsigned)(idx), rc, (want));                              \
	} while (0)
	PARAM(HVMOP_get_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, 0, 0);
	u64 cb = p.value;
	PARAM(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CONSOLE_EVTCHN, 42, 0);
	PARAM(HVMOP_get_param, DOMID_SELF, HVM_PARAM_CONSOLE_EVTCHN, 0, 0);
	u64 got = p.value;
	PARAM(HVMOP_set_param, DOMID_SELF, HVM_PARAM_STORE_PFN, 1, -EPERM);   /* not by the guest */
	PARAM(HVMOP_get_param, DOMID_SELF, HVM_PARAM_STORE_PFN, 0, 0);        /* but readable */
	PARAM(HVMOP_get_param, DOMID_SELF, HVM_PARAM_IDENT_PT, 0, -EPERM);
	PARAM(HVMOP_set_param, DOMID_SELF, HVM_PARAM_ALTP2M, 0, -EEXIST);
	PARAM(HVMOP_get_param, DOMID_SELF, 4 /* PAE_ENABLED */, 0, -EINVAL);
	PARAM(HVMOP_set_param, DOMID_SELF, HVM_PARAM_X87_FIP_WIDTH, 3, -EINVAL);
	PARAM(HVMOP_get_param, DOMID_SELF, HVM_NR_PARAMS, 0, -EINVAL);
	PARAM(HVMOP_get_param, DOMID_SELF, 0xffffffffu, 0, -EINVAL);
	PARAM(HVMOP_get_param, 40, HVM_PARAM_STORE_PFN, 0, -ESRCH);
	PARAM(HVMOP_set_param, 0, HVM_PARAM_CONSOLE_EVTCHN, 0, 0);            /* own id */
#undef PARAM
	rc = HYPERVISOR_hvm_op(HVMOP_get_param, BAD_PTR);
	if (rc != -EFAULT && !bad[0])
		snprintf(bad, sizeof(bad), "get_param bad pointer: %ld", rc);

	struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = 0, .vector = 5 };
	long rc_vec_low = HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv);
	uv = (struct xen_hvm_evtchn_upcall_vector){ .vcpu = 3, .vector = 0xf3 };
	long rc_vec_vcpu = HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv);
	struct xen_hvm_pagetable_dying pd = { .domid = DOMID_SELF };
	long rc_dying = HYPERVISOR_hvm_op(HVMOP_pagetable_dying, &pd);
	pd.domid = 40;
	long rc_dying_dom = HYPERVISOR_hvm_op(HVMOP_pagetable_dying, &pd);
	long rc_unknown = HYPERVISOR_hvm_op(99, &pd);
	bool ok = cb == 0x02000000000000f3ULL && got == 42 && rc_vec_low == -EINVAL &&
		  rc_vec_vcpu == -ENOENT && rc_dying == -EINVAL && rc_dying_dom == -ESRCH &&
		  rc_unknown == -ENOSYS && !bad[0];
	check("hvm-params", ok,
	      "callback 0x%lx, console evtchn %lu, upcall vector 5: %ld, vCPU 3: %ld, "
	      "pagetable_dying %ld/%ld, op 99 %ld%s%s",
	      cb, got, rc_vec_low, rc_vec_vcpu, rc_dying, rc_dying_dom, rc_unknown,
	      bad[0] ? "; " : "", bad);
}

static void test_vcpu_op(void)
{
	static struct vcpu_runstate_info rs;
	struct vcpu_register_runstate_memory_area a = { .addr = (u64)(uintptr_t)&rs };
	long up = HYPERVISOR_vcpu_op(VCPUOP_is_up, 0, NULL);
	long up1 = HYPERVISOR_vcpu_op(VCPUOP_is_up, 1, NULL);
	long big = HYPERVISOR_vcpu_op(VCPUOP_is_up, 0xffffffffu, NULL);
	rs.state = -1;
	long reg = HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &a);
	long unknown = HYPERVISOR_vcpu_op(99, 0, NULL);

	check("vcpu-op", up == 1 && up1 == -ENOENT && big == -ENOENT && reg == 0 &&
				 rs.state == RUNSTATE_running && unknown == -ENOSYS,
	      "is_up %ld, vCPU 1 %ld, vCPU ~0 %ld, runstate %ld (state %d), op 99 %ld", up, up1,
	      big, reg, rs.state, unknown);
}

/* Every bad input a domain can hand the event-channel hypercall, with
 * the error Xen returns for it. */
static void test_bad_inputs(void)
{
	unsigned n = 0, wrong = 0;
	char first[160] = "";
	evtchn_port_t p, bound_a, bound_b, other;

#define BAD(call, want)                                                                   \
	do {                                                                              \
		long rc_ = (call);                                                        \
		n++;                                                                      \
		if (rc_ != (want)) {                                                      \
			if (!wrong++)                                                     \
				snprintf(first, sizeof(first), "%s = %ld, want %d", #call, \
					 rc_, (want));                                     \
		}                                                                         \
	} while (0)

	/* Ports out of range, reserved, free. */
	BAD(evtchn_send(0), -EINVAL);
	BAD(evtchn_send(4096), -EINVAL);
	BAD(evtchn_send(0xffffffffu), -EINVAL);
	BAD(evtchn_send(60), -EINVAL);
	BAD(evtchn_close(0), -EINVAL);
	BAD(evtchn_close(60), -EINVAL);
	BAD(evtchn_close(5000), -EINVAL);
	BAD(evtchn_unmask(5000), -EINVAL);
	BAD(evtchn_bind_vcpu(5000, 0), -EINVAL);
	BAD(evtchn_bind_vcpu(ipi, 1), -ENOENT);
	BAD(evtchn_bind_vcpu(ipi, 0), -EINVAL); /* IPIs stay on their vCPU */
	struct evtchn_status s;
	BAD(evtchn_status(DOMID_SELF, 5000, &s), -EINVAL);
	BAD(evtchn_status(40, 1, &s), -ESRCH);
	/* Double close. */
	evtchn_alloc_unbound(DOMID_SELF, 0, &p);
	BAD(evtchn_close(p), 0);
	BAD(evtchn_close(p), -EINVAL);
	/* Domains that do not exist. */
	BAD(evtchn_alloc_unbound(40, 0, &p), -ESRCH);
	BAD(evtchn_alloc_unbound(DOMID_IO, 0, &p), -ESRCH);
	BAD(evtchn_bind_interdomain(40, 1, &p), -ESRCH);
	/* Binding what is not an unbound port offered to us. */
	BAD(evtchn_bind_interdomain(DOMID_SELF, 0, &p), -EINVAL);
	BAD(evtchn_bind_interdomain(DOMID_SELF, 60, &p), -EINVAL);
	BAD(evtchn_bind_interdomain(DOMID_SELF, 9999, &p), -EINVAL);
	BAD(evtchn_bind_interdomain(DOMID_SELF, ipi, &p), -EINVAL);
	evtchn_alloc_unbound(DOMID_SELF, 5, &other); /* offered to domain 5 */
	BAD(evtchn_bind_interdomain(DOMID_SELF, other, &p), -EINVAL);
	evtchn_close(other);
	evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &bound_a);
	BAD(evtchn_bind_interdomain(DOMID_SELF, bound_a, &bound_b), 0);
	BAD(evtchn_bind_interdomain(DOMID_SELF, bound_a, &p), -EINVAL); /* already bound */
	BAD(evtchn_close(bound_a), 0);
	BAD(evtchn_close(bound_b), 0); /* went back to unbound: closable once */
	BAD(evtchn_close(bound_b), -EINVAL);
	/* IPIs and VIRQs on vCPUs that do not exist. */
	BAD(evtchn_bind_ipi(1, &p), -ENOENT);
	BAD(evtchn_bind_ipi(0xffffffffu, &p), -ENOENT);
	BAD(evtchn_bind_virq(VIRQ_TIMER, 4, &p), -ENOENT);
	/* Operations Keel (or the 2-level ABI) does not have. */
	struct evtchn_init_control ic = { 0 };
	BAD(HYPERVISOR_event_channel_op(EVTCHNOP_init_control, &ic), -ENOSYS);
	struct evtchn_expand_array ea = { 0 };
	BAD(HYPERVISOR_event_channel_op(EVTCHNOP_expand_array, &ea), -ENOSYS);
	struct evtchn_set_priority sp = { .port = ipi, .priority = 1 };
	BAD(HYPERVISOR_event_channel_op(EVTCHNOP_set_priority, &sp), -ENOSYS);
	struct evtchn_bind_pirq bp = { .pirq = 1 };
	BAD(HYPERVISOR_event_channel_op(EVTCHNOP_bind_pirq, &bp), -EINVAL);
	BAD(HYPERVISOR_event_channel_op(99, &bp), -ENOSYS);
	BAD(HYPERVISOR_event_channel_op(-1, &bp), -ENOSYS);
	/* Pointers to nothing, for every operation. */
	for (int op = EVTCHNOP_bind_interdomain; op <= EVTCHNOP_unmask; op++)
		BAD(HYPERVISOR_event_channel_op(op, BAD_PTR), -EFAULT);
	BAD(HYPERVISOR_event_channel_op(EVTCHNOP_reset, BAD_PTR), -EFAULT);
	/* memory_op and sched_op numbers nobody implements. */
	BAD(HYPERVISOR_memory_op(63, NULL), -ENOSYS);
	BAD(HYPERVISOR_sched_op(99, NULL), -ENOSYS);
#undef BAD
	/* Nothing the failures did may have left a port behind. */
	evtchn_port_t fresh = 0;
	evtchn_alloc_unbound(DOMID_SELF, 0, &fresh);
	evtchn_close(fresh);
	check("bad-input-errors", !wrong, "%u calls, %u wrong%s%s; next free port %u", n, wrong,
	      wrong ? ": " : "", first, fresh);
}

/*
 * Interdomain sends on every port the domain can have: loopback pairs
 * (alloc_unbound + bind_interdomain to itself) until the port space is
 * full, so the pairs cover low ports, ports past 63 (a second selector
 * word) and the last port, NR_EVENT_CHANNELS - 1. Each end of each pair
 * is sent on once: the other end (and only it) must become pending, and
 * its handler must run exactly once when interrupts come back on. A
 * hypervisor that skips a port's pending bit, sets the wrong port, or
 * marks the wrong selector word fails here.
 */
#define MAX_PAIRS (NR_EVENT_CHANNELS / 2)

static evtchn_port_t pair_a[MAX_PAIRS], pair_b[MAX_PAIRS];

/* Sends on `from` with interrupts off and checks that only `to` became
 * pending, then lets the upcall run and checks `to`'s handler ran once
 * and `from`'s not at all. */
static bool send_one(evtchn_port_t from, evtchn_port_t to)
{
	u32 hf = hits[from], ht = hits[to];

	evtchn_irq_disable();
	int rc = evtchn_send(from);
	bool pend = evtchn_is_pending(to) && !evtchn_is_pending(from);
	evtchn_irq_enable(); /* the upcall comes now */
	return !rc && pend && hits[to] == ht + 1 && hits[from] == hf && !evtchn_is_pending(to);
}

static void test_many_ports(void)
{
	unsigned n = 0, wrong = 0, first_bad = 0, delivered = 0;
	evtchn_port_t lo = NR_EVENT_CHANNELS, hi = 0, fresh_before = 0, fresh_after = 0;
	int end_rc = 0;

	/* The lowest free port now, to see that closing gives it back. */
	evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &fresh_before);
	evtchn_close(fresh_before);

	while (n < MAX_PAIRS) {
		evtchn_port_t a, b;
		if ((end_rc = evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &a)))
			break;
		if ((end_rc = evtchn_bind_interdomain(DOMID_SELF, a, &b))) {
			evtchn_close(a);
			break;
		}
		evtchn_clear_pending(b); /* Xen signals the new end on binding */
		hits[a] = hits[b] = 0;
		evtchn_set_handler(a, count_handler, NULL);
		evtchn_set_handler(b, count_handler, NULL);
		evtchn_unmask(a);
		evtchn_unmask(b);
		pair_a[n] = a;
		pair_b[n] = b;
		lo = MIN(lo, MIN(a, b));
		hi = MAX(hi, MAX(a, b));
		n++;
	}
	/* Both directions of every pair. */
	for (unsigned i = 0; i < n; i++) {
		unsigned bad = !send_one(pair_a[i], pair_b[i]);
		bad += !send_one(pair_b[i], pair_a[i]);
		if (bad && !wrong)
			first_bad = i;
		wrong += bad;
	}
	for (unsigned i = 0; i < n; i++)
		delivered += hits[pair_a[i]] + hits[pair_b[i]];
	for (unsigned i = 0; i < n; i++) {
		evtchn_set_handler(pair_a[i], NULL, NULL);
		evtchn_set_handler(pair_b[i], NULL, NULL);
		evtchn_close(pair_a[i]);
		evtchn_close(pair_b[i]);
	}
	evtchn_alloc_unbound(DOMID_SELF, DOMID_SELF, &fresh_after);
	evtchn_close(fresh_after);
	check("many-ports",
	      n > 64 && !wrong && delivered == 2 * n && hi == NR_EVENT_CHANNELS - 1 &&
		      lo < 64 && end_rc == -ENOSPC && fresh_after == fresh_before,
	      "%u pairs on ports %u..%u, %u of %u sends arrived exactly once%s%u<->%u; "
	      "full: %d; free port %u/%u",
	      n, lo, hi, 2 * n - wrong, 2 * n, wrong ? ", first wrong pair " : ", e.g. ",
	      wrong ? pair_a[first_bad] : pair_a[n ? n - 1 : 0],
	      wrong ? pair_b[first_bad] : pair_b[n ? n - 1 : 0], end_rc, fresh_before,
	      fresh_after);
}

__noreturn void evtchn_test_run(const struct hvm_start_info *si, const char *which)
{
	bool sleep = !strcmp(which, "evtchn-sleep");

	if (!sleep && strcmp(which, "evtchn")) {
		printf("dom0: unknown test=%s (evtchn, evtchn-sleep)\n", which);
		guest_poweroff();
	}
	printf("dom0: event-channel self-test (%s)\n", which);
	evtchn_irq_enable();
	test_shared_info();
	if (evtchn_shared_info()) {
		test_memory_map(si);
		test_ipi_self();
		test_mask_unmask();
		test_loopback_ping();
		test_status();
		test_virq_bind();
		test_poll();
		test_block();
		test_upcall_after_hlt();
		test_hlt_timer_wake();
		test_register_vcpu_info();
		test_hvm_params();
		test_vcpu_op();
		test_bad_inputs();
		test_many_ports();
	}
	printf("dom0: evtchn tests done: %u passed, %u failed (%lu upcalls, %lu unhandled)\n",
	       tally.passed, tally.failed, evtchn_upcall_count(), evtchn_unhandled_count());
	if (sleep) {
		/* Nothing is bound that could fire, and no timer is armed. */
		puts("dom0: halting with interrupts on and nothing to wake us");
		console_flush();
		evtchn_wait();
		puts("dom0: woke up from a halt nothing could end");
	}
	puts("dom0: powering off");
	guest_poweroff();
}
