/*
 * Event channels for Keel's guests (contract in evtchn.h).
 */
#include <keel/errno.h>
#include <keel/lib.h>
#include <public/hvm_op.h>
#include <public/memory.h>
#include <public/params.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"

/* The page whose guest frame shared_info replaces. In .bss, so it is RAM
 * of this domain, identity-mapped: its address is its guest-physical
 * address, and once the hypervisor has put shared_info there, the same
 * address reaches shared_info. */
static u8 shared_info_page[PAGE_SIZE] __aligned(PAGE_SIZE);

static struct shared_info *shinfo;
static struct vcpu_info *vinfo;

static struct {
	evtchn_handler_t fn;
	void *arg;
} handlers[NR_EVENT_CHANNELS];

static volatile u64 nr_upcalls, nr_unhandled;

extern void evtchn_upcall_entry(void);
void evtchn_do_upcall(void);

struct shared_info *evtchn_shared_info(void)
{
	return shinfo;
}

struct vcpu_info *evtchn_vcpu_info(void)
{
	return vinfo;
}

u64 evtchn_upcall_count(void)
{
	return nr_upcalls;
}

u64 evtchn_unhandled_count(void)
{
	return nr_unhandled;
}

/* ---- shared_info bits ------------------------------------------------------- */

static inline u64 bit(evtchn_port_t port)
{
	return 1ULL << (port % 64);
}

void evtchn_mask(evtchn_port_t port)
{
	if (shinfo && port < NR_EVENT_CHANNELS)
		__atomic_fetch_or(&shinfo->evtchn_mask[port / 64], bit(port), __ATOMIC_SEQ_CST);
}

bool evtchn_is_pending(evtchn_port_t port)
{
	return shinfo && port < NR_EVENT_CHANNELS &&
	       (__atomic_load_n(&shinfo->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) & bit(port));
}

void evtchn_clear_pending(evtchn_port_t port)
{
	if (shinfo && port < NR_EVENT_CHANNELS)
		__atomic_fetch_and(&shinfo->evtchn_pending[port / 64], ~bit(port),
				   __ATOMIC_SEQ_CST);
}

/* ---- the upcall ------------------------------------------------------------- */

/*
 * Called by evtchn_entry.asm with interrupts off. Linux's 2-level scan
 * (drivers/xen/events/events_2l.c): clear upcall_pending first, so an
 * event signalled during the scan raises it again; take the selector with
 * an exchange; for each selected word handle pending & ~mask, clearing
 * each port's pending bit before its handler runs (an event arriving
 * during the handler is then seen on the next pass, not lost).
 */
void evtchn_do_upcall(void)
{
	struct vcpu_info *vi = vinfo;

	nr_upcalls++;
	if (!shinfo || !vi)
		return;
	do {
		__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		u64 sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		while (sel) {
			unsigned w = (unsigned)__builtin_ctzll(sel);
			sel &= sel - 1;
			u64 bits;
			while ((bits = __atomic_load_n(&shinfo->evtchn_pending[w], __ATOMIC_SEQ_CST) &
				       ~__atomic_load_n(&shinfo->evtchn_mask[w], __ATOMIC_SEQ_CST))) {
				evtchn_port_t port = w * 64 + (unsigned)__builtin_ctzll(bits);
				evtchn_clear_pending(port);
				if (handlers[port].fn)
					handlers[port].fn(port, handlers[port].arg);
				else
					nr_unhandled++;
			}
		}
	} while (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
}

int evtchn_set_handler(evtchn_port_t port, evtchn_handler_t fn, void *arg)
{
	if (port == 0 || port >= NR_EVENT_CHANNELS)
		return -EINVAL;
	/* The upcall may run between the two stores: clear fn first. */
	handlers[port].fn = NULL;
	handlers[port].arg = arg;
	handlers[port].fn = fn;
	return 0;
}

/* ---- set-up ----------------------------------------------------------------- */

int evtchn_init(void)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (u64)(uintptr_t)shared_info_page >> PAGE_SHIFT,
	};
	struct xen_hvm_param cb = {
		.domid = DOMID_SELF,
		.index = HVM_PARAM_CALLBACK_IRQ,
		.value = ((u64)HVM_PARAM_CALLBACK_TYPE_VECTOR << HVM_PARAM_CALLBACK_IRQ_TYPE_SHIFT) |
			 EVTCHN_UPCALL_VECTOR,
	};
	long rc;

	if (shinfo)
		return 0;
	rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
	if (rc)
		return (int)rc;
	shinfo = (struct shared_info *)shared_info_page;
	if (!vinfo)
		vinfo = &shinfo->vcpu_info[0];
	/* Start with every port masked, as Linux does; users unmask the
	 * ports they handle. */
	for (unsigned i = 0; i < ARRAY_SIZE(shinfo->evtchn_mask); i++)
		__atomic_store_n(&shinfo->evtchn_mask[i], ~0ULL, __ATOMIC_SEQ_CST);
	idt_set_handler(EVTCHN_UPCALL_VECTOR, evtchn_upcall_entry);
	return (int)HYPERVISOR_hvm_op(HVMOP_set_param, &cb);
}

int evtchn_register_vcpu_info(struct vcpu_info *area)
{
	struct vcpu_register_vcpu_info r = {
		.mfn = (u64)(uintptr_t)area >> PAGE_SHIFT,
		.offset = (u32)((uintptr_t)area & (PAGE_SIZE - 1)),
	};
	long rc = HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, 0, &r);

	if (!rc)
		vinfo = area;
	return (int)rc;
}

/* ---- EVTCHNOP wrappers ---------------------------------------------------------- */

int evtchn_alloc_unbound(domid_t dom, domid_t remote_dom, evtchn_port_t *port)
{
	struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote_dom };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &a);

	if (!rc)
		*port = a.port;
	return rc;
}

int evtchn_bind_interdomain(domid_t remote_dom, evtchn_port_t remote_port,
			    evtchn_port_t *local_port)
{
	struct evtchn_bind_interdomain b = { .remote_dom = remote_dom, .remote_port = remote_port };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &b);

	if (!rc)
		*local_port = b.local_port;
	return rc;
}

int evtchn_bind_virq(u32 virq, u32 vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &b);

	if (!rc)
		*port = b.port;
	return rc;
}

int evtchn_bind_ipi(u32 vcpu, evtchn_port_t *port)
{
	struct evtchn_bind_ipi b = { .vcpu = vcpu };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &b);

	if (!rc)
		*port = b.port;
	return rc;
}

int evtchn_close(evtchn_port_t port)
{
	struct evtchn_close c = { .port = port };
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_close, &c);
}

int evtchn_send(evtchn_port_t port)
{
	struct evtchn_send s = { .port = port };
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_send, &s);
}

int evtchn_status(domid_t dom, evtchn_port_t port, struct evtchn_status *out)
{
	struct evtchn_status s = { .dom = dom, .port = port };
	int rc = (int)HYPERVISOR_event_channel_op(EVTCHNOP_status, &s);

	if (!rc)
		*out = s;
	return rc;
}

int evtchn_bind_vcpu(evtchn_port_t port, u32 vcpu)
{
	struct evtchn_bind_vcpu b = { .port = port, .vcpu = vcpu };
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &b);
}

int evtchn_unmask(evtchn_port_t port)
{
	struct evtchn_unmask u = { .port = port };
	return (int)HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
}

/* ---- waiting ------------------------------------------------------------------- */

void evtchn_wait(void)
{
	/* STI holds interrupts off for one more instruction, so an upcall
	 * that is already pending is taken after HLT starts, never between
	 * the two: the vCPU cannot sleep on an event it has. */
	asm volatile("sti; hlt" ::: "memory");
}

void evtchn_wait_for(volatile bool *flag)
{
	for (;;) {
		evtchn_irq_disable();
		if (*flag)
			break;
		evtchn_wait();
	}
	evtchn_irq_enable();
}

long evtchn_block(void)
{
	return HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}

long evtchn_poll(const evtchn_port_t *ports, unsigned nr_ports, u64 timeout_ns)
{
	struct sched_poll p = {
		.ports = (u64)(uintptr_t)ports,
		.nr_ports = nr_ports,
		.timeout = timeout_ns,
	};
	return HYPERVISOR_sched_op(SCHEDOP_poll, &p);
}
