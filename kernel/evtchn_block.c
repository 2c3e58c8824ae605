/*
 * Getting events to a vCPU: the callback vector injected before VM entry,
 * and the ways a vCPU sleeps until an event comes (HLT, SCHEDOP_block,
 * SCHEDOP_poll). Contracts in include/keel/evtchn.h.
 *
 * Delivery follows Xen's HVM model (xen/arch/x86/hvm/irq.c): with
 * HVM_PARAM_CALLBACK_IRQ of type "vector", the vector is an interrupt that
 * stays asserted while the vCPU's vcpu_info.evtchn_upcall_pending is 1,
 * whatever evtchn_upcall_mask says, and that goes around the local APIC
 * (no IRR/ISR bit, no EOI). The guest's handler clears upcall_pending
 * first thing. So: before every entry, if upcall_pending is set, inject
 * the vector when the guest can take an interrupt now, else ask for an
 * interrupt-window exit and try again then.
 *
 * The per-vCPU vector of HVMOP_set_evtchn_upcall_vector is a LAPIC
 * interrupt in Xen (the guest EOIs it). Keel still injects it the same
 * way as the callback vector, around the domU's virtual LAPIC
 * (docs/lapic.md, which shares the windows below); CPUID does not
 * advertise it (XEN_HVM_CPUID_UPCALL_VECTOR), so Linux does not use it.
 * What a LAPIC interrupt has that the callback vector has not is the
 * guest's task priority: Xen holds it back while the TPR's class is at
 * least the vector's (hvm_interrupt_blocked(), hvm_intblk_tpr, for
 * hvm_intsrc_lapic only; the callback vector is hvm_intsrc_vector and
 * ignores the TPR). Keel does the same, with the guest's CR8 as its TPR:
 * a masked upcall waits, and a TPR window brings the vCPU back when the
 * guest lowers CR8.
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <keel/evtchn.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include <asm/vendor.h>
#include <asm/vintc.h>
#include <public/sched.h>

/* Xen's do_poll limit ("fairly arbitrary"). */
#define POLL_MAX_PORTS 128

/* The vector v's upcall uses, if any: the per-vCPU one wins. */
static bool upcall_vector(struct vcpu *v, u8 *vec)
{
	if (v->ev.upcall_vector) {
		*vec = v->ev.upcall_vector;
		return true;
	}
	if (v->dom->ev.callback_vector_set) {
		*vec = v->dom->ev.callback_vector;
		return true;
	}
	return false;
}

/* Checked before every VM entry: vcpu_info() inlined. */
static bool upcall_pending(struct vcpu *v)
{
	struct shared_info *s = v->dom->ev.shared_info;
	struct vcpu_info *vi;

	if (!s)
		return false;
	vi = v->ev.vcpu_info ? v->ev.vcpu_info : &s->vcpu_info[v->id];
	return __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST);
}

/* A per-vCPU upcall vector is a LAPIC interrupt: held back while the
 * guest's TPR class is >= the vector's (Xen's hvm_intblk_tpr). */
static bool tpr_masked(struct vcpu *v, u8 vec)
{
	return v->ev.upcall_vector && vendor->get_tpr(v) >= (vec >> 4);
}

bool evtchn_upcall_deliverable(struct vcpu *v)
{
	u8 vec;

	return upcall_vector(v, &vec) && upcall_pending(v) && !tpr_masked(v, vec);
}

static void window_off(struct vcpu *v)
{
	if (v->ev.upcall_window) {
		vendor->want_intr_window(v, false);
		v->ev.upcall_window = false;
	}
}

static void tpr_window_off(struct vcpu *v)
{
	if (v->ev.tpr_window) {
		vendor->want_tpr_window(v, 0);
		v->ev.tpr_window = false;
	}
}

void evtchn_upcall_deliver(struct vcpu *v)
{
	u8 vec;

	if (!upcall_vector(v, &vec) || !upcall_pending(v)) {
		window_off(v);
		tpr_window_off(v);
		return;
	}
	if (tpr_masked(v, vec)) {
		/* Vectors 0x10-0x1f (class 1) are masked even at TPR 1;
		 * class 0 does not exist (hc_hvm.c refuses vectors < 0x10). */
		window_off(v);
		vendor->want_tpr_window(v, vec >> 4);
		v->ev.tpr_window = true;
		return;
	}
	tpr_window_off(v);
	if (vendor->intr_open(v)) {
		struct vevent ev = { .vector = vec, .type = VEVENT_EXTINT };
		vendor->inject(v, &ev);
		window_off(v);
	} else {
		/* IF clear, an interrupt shadow, or an event already queued
		 * (a re-injection): come back when the guest can take it.
		 * Asked again every time, because a back end may drop the
		 * request once the window has opened (the window is one-shot). */
		vendor->want_intr_window(v, true);
		v->ev.upcall_window = true;
	}
}

void evtchn_set_callback_via(struct domain *d, u64 via)
{
	unsigned type = (unsigned)(via >> HVM_PARAM_CALLBACK_IRQ_TYPE_SHIFT);

	/* Only the vector type means anything without a virtual IOAPIC and
	 * PIC; Xen returns early for the others in a PVH domain, leaving the
	 * previous setting in place, and so does Keel. */
	if (type != HVM_PARAM_CALLBACK_TYPE_VECTOR)
		return;
	d->ev.callback_vector = (u8)via;
	d->ev.callback_vector_set = true;
	/* Xen's hvm_assert_evtchn_irq on every vCPU: one that already has
	 * an upcall pending gets it now (and wakes if it sleeps). */
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		if (upcall_pending(d->vcpus[i]))
			vcpu_kick(d->vcpus[i]);
}

void evtchn_set_upcall_vector(struct vcpu *v, u8 vector)
{
	v->ev.upcall_vector = vector;
	if (upcall_pending(v))
		vcpu_kick(v);
}

/* ---- sleeping ------------------------------------------------------------ */

void evtchn_hlt(struct vcpu *v)
{
	/* Xen's hvm_hlt -> vcpu_block: do not sleep when an interrupt could
	 * be delivered right away (the caller checked IF). */
	if (!evtchn_upcall_deliverable(v) && !vintc_pending(v))
		v->blocked = true;
}

long evtchn_sched_block(struct vcpu *v)
{
	/* Xen first re-enables event delivery (clears upcall_mask), then
	 * blocks unless events need delivery. Keel's test is simply "an
	 * upcall is pending": for a guest with IF = 0 (one that polls its
	 * shared_info instead of taking the vector) this is the condition
	 * that ends the wait, and with IF = 1 it is Xen's. */
	vcpu_info(v)->evtchn_upcall_mask = 0;
	if (!upcall_pending(v))
		v->blocked = true;
	return 0;
}

/*
 * How far around SCHEDOP_poll's argument the first read reaches for the
 * port list. Guests build both on the stack (Linux's xen_poll_irq, Keel's
 * evtchn_poll: a local port and the struct a frame apart), so the one
 * read usually brings the single port too and saves a second guest copy
 * (a page walk each) on every poll.
 */
#define POLL_WINDOW 64

/*
 * Reads the struct at `arg`, and the first port if it lies near: the
 * bytes around `arg` up to POLL_WINDOW either side, clipped to arg's own
 * page, in one copy. Those bytes are on the page the guest pointed at,
 * read through the same translation with the same rights, so the wider
 * read can fail only where the exact one fails too (then the exact reads
 * decide the error, as before); nothing is read twice. Returns 0 with
 * *port_near set when *port holds ports[0], or -EFAULT.
 */
static int poll_args(struct vcpu *v, gva_t arg, struct sched_poll *p, u32 *port,
		     bool *port_near)
{
	u8 win[2 * POLL_WINDOW + sizeof(*p)];
	gva_t page = arg & ~(gva_t)(PAGE_SIZE - 1);
	gva_t lo = arg - page >= POLL_WINDOW ? arg - POLL_WINDOW : page;
	gva_t hi = MIN(arg + sizeof(*p) + POLL_WINDOW, page + PAGE_SIZE);

	*port_near = false;
	if (arg + sizeof(*p) > hi || copy_from_guest(v, win, lo, hi - lo))
		return copy_from_guest(v, p, arg, sizeof(*p)) ? -EFAULT : 0;
	/* __builtin_memcpy: inlined for these small fixed sizes even under
	 * -fno-builtin; the bytes may sit at any alignment. */
	__builtin_memcpy(p, win + (arg - lo), sizeof(*p));
	if (p->ports >= lo && p->ports <= hi - sizeof(*port)) {
		__builtin_memcpy(port, win + (p->ports - lo), sizeof(*port));
		*port_near = true;
	}
	return 0;
}

long evtchn_sched_poll(struct vcpu *v, gva_t arg)
{
	struct domain *d = v->dom;
	struct sched_poll p;
	u32 port = 0;
	bool port_near;

	if (poll_args(v, arg, &p, &port, &port_near))
		return -EFAULT;
	if (p.nr_ports > POLL_MAX_PORTS)
		return -EINVAL;
	/* Xen returns at once when an interrupt could be delivered now (a
	 * pending upcall with IF set): the guest will see it anyway. */
	if (evtchn_upcall_deliverable(v) && (vendor->get_reg(v, VREG_RFLAGS) & RFLAGS_IF))
		return 0;
	for (u32 i = 0; i < p.nr_ports; i++) {
		int rc;
		if ((i || !port_near) &&
		    copy_from_guest(v, &port, p.ports + (u64)i * sizeof(port), sizeof(port)))
			return -EFAULT;
		rc = evtchn_port_poll(d, port);
		if (rc)
			return rc > 0 ? 0 : rc; /* pending (masked or not), or bad port */
	}
	/* Sleep until one of the ports (any port if several are listed)
	 * goes pending, any upcall is raised, or the timeout passes. The
	 * hypercall has already "returned" 0: RAX is set before the vCPU
	 * sleeps, and it resumes after the VMCALL when woken. */
	v->ev.poll_port = p.nr_ports == 1 ? (int)port : -1;
	v->ev.poll_deadline = p.timeout;
	d->ev.poll_mask |= 1u << v->id;
	v->blocked = true;
	return 0;
}
