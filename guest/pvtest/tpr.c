/*
 * role=tpr: the guest's task priority (CR8) and the event-channel upcall
 * (kernel/evtchn_block.c), as Xen has them:
 *  1. with the callback vector (HVM_PARAM_CALLBACK_IRQ, type vector) the
 *     upcall ignores the TPR: it arrives at CR8 = 15 (Xen: the vector
 *     source bypasses the local APIC, hvm_intsrc_vector);
 *  2. with a per-vCPU upcall vector (HVMOP_set_evtchn_upcall_vector, a
 *     LAPIC interrupt in Xen) of class 15 (0xf3) and CR8 = 15, a pending
 *     upcall is held back, with interrupts enabled, for `hold_ms`
 *     although vcpu_info says it is pending;
 *  3. CR8 = 0 lets it in (the back end's TPR window, or the next entry);
 *  4. CR8 = 14 does not hold back a class-15 vector.
 * Before the fix both back ends injected the upcall whatever CR8 said.
 */
#include <lib/string.h>
#include <public/hvm_op.h>
#include <public/vcpu.h>
#include "cpuregs.h"
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvtest.h"

#define MS 1000000UL

static evtchn_port_t timer_port;
static volatile u64 fired;

static void on_timer(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
	fired++;
}

/* Spins with interrupts enabled until the handler ran since `before` or
 * `ms` pass; returns the time waited in ns, or 0 on time-out. Exits come
 * only from the host's timer (no hypercall, no HLT). */
static u64 spin_for_upcall(u64 before, u64 ms)
{
	u64 start = pvclock_now_ns();

	while (fired == before) {
		if (pvclock_now_ns() - start > ms * MS)
			return 0;
		__asm__ volatile("pause");
	}
	return pvclock_now_ns() - start + 1;
}

/* Arms a one-shot VIRQ_TIMER 1 ms from now and waits (interrupts off)
 * until the event is pending in shared_info, so it is pending before the
 * caller enables interrupts. */
static void make_pending(void)
{
	u64 deadline = pvclock_now_ns() + MS;

	evtchn_irq_disable();
	if (pvclock_timer_set(deadline, 0))
		fail("arming the timer");
	while (!evtchn_is_pending(timer_port)) {
		if (pvclock_now_ns() > deadline + 2000 * MS)
			fail("the timer event never became pending");
		__asm__ volatile("pause");
	}
}

void role_tpr(void)
{
	u64 hold_ms = arg_u64_or("hold_ms", 200), before, took;
	int rc;

	if ((rc = evtchn_bind_virq(VIRQ_TIMER, 0, &timer_port)))
		fail("bind VIRQ_TIMER: %d", rc);
	evtchn_set_handler(timer_port, on_timer, NULL);
	evtchn_unmask(timer_port);

	/* 1. The callback vector ignores the TPR. */
	write_cr8(15);
	before = fired;
	make_pending();
	evtchn_irq_enable();
	took = spin_for_upcall(before, 2000);
	evtchn_irq_disable();
	write_cr8(0);
	if (!took)
		fail("the callback-vector upcall did not arrive at CR8 15 (Xen ignores the TPR for it)");
	printf("pvtest: tpr: callback vector taken at CR8 15 (as Xen)\n");

	/* 2. A per-vCPU (LAPIC) vector of class 15 is held back at CR8 15. */
	struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = 0, .vector = EVTCHN_UPCALL_VECTOR };
	if ((rc = (int)HYPERVISOR_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv)))
		fail("HVMOP_set_evtchn_upcall_vector: %d", rc);
	write_cr8(15);
	before = fired;
	make_pending();
	evtchn_irq_enable();
	took = spin_for_upcall(before, hold_ms);
	evtchn_irq_disable();
	if (took)
		fail("the upcall (vector 0x%x) arrived %lu us after IF=1 at CR8 %lu",
		     EVTCHN_UPCALL_VECTOR, took / 1000, read_cr8());
	u8 pending = evtchn_vcpu_info()->evtchn_upcall_pending;
	if (!pending || !evtchn_is_pending(timer_port))
		fail("no upcall was pending while CR8 was 15 (upcall_pending %u)", pending);
	printf("pvtest: tpr: upcall held back %lu ms at CR8 15 with IF=1, upcall_pending %u\n",
	       hold_ms, pending);

	/* 3. Lowering CR8 lets it in. */
	evtchn_irq_enable();
	write_cr8(0);
	took = spin_for_upcall(before, 2000);
	evtchn_irq_disable();
	if (!took)
		fail("the upcall did not arrive after CR8 went back to 0");
	printf("pvtest: tpr: upcall taken after CR8 = 0 (%lu us)\n", took / 1000);

	/* 4. CR8 = 14 masks classes up to 14 only. */
	write_cr8(14);
	before = fired;
	make_pending();
	evtchn_irq_enable();
	took = spin_for_upcall(before, 2000);
	evtchn_irq_disable();
	write_cr8(0);
	if (!took)
		fail("a class-15 upcall was held back at CR8 14");
	printf("pvtest: tpr: class-15 upcall taken at CR8 14\n");
	printf("pvtest: tpr: PASS the TPR holds back the per-vCPU upcall vector of its class, "
	       "not the callback vector\n");
}
