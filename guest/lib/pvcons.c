/*
 * The PV console, guest side (contract in pvcons.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/hvm_op.h>
#include <public/io/console.h>
#include <public/params.h>
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvcons.h"

static struct xencons_interface *ring;
static evtchn_port_t port;
static u64 gfn;
static bool active;

static int get_param(u32 index, u64 *value)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
	int rc = (int)HYPERVISOR_hvm_op(HVMOP_get_param, &p);

	if (!rc)
		*value = p.value;
	return rc;
}

static void give_up(void)
{
	active = false;
	console_set_sink(NULL);
}

static void sink(const char *s, size_t n)
{
	if (!pvcons_write(s, n)) {
		/* The line that could not go through the ring. */
		HYPERVISOR_console_io(CONSOLEIO_write, (int)n, s);
	}
}

int pvcons_init(bool as_console)
{
	u64 pfn, evtchn;
	int rc;

	if ((rc = get_param(HVM_PARAM_CONSOLE_PFN, &pfn)) ||
	    (rc = get_param(HVM_PARAM_CONSOLE_EVTCHN, &evtchn)))
		return rc;
	if (!pfn || !evtchn || evtchn >= NR_EVENT_CHANNELS)
		return -ENODEV;
	/* Keel's guests are identity-mapped over their low 4 GiB, where the
	 * toolstack puts the page (just past RAM). */
	if (pfn >= (4ULL << 30) >> PAGE_SHIFT)
		return -ENODEV;
	gfn = pfn;
	ring = (struct xencons_interface *)(uintptr_t)(pfn << PAGE_SHIFT);
	port = (evtchn_port_t)evtchn;
	active = true;
	if (as_console) {
		console_flush();
		console_set_sink(sink);
	}
	return 0;
}

bool pvcons_active(void)
{
	return active;
}

u64 pvcons_gfn(void)
{
	return gfn;
}

evtchn_port_t pvcons_port(void)
{
	return port;
}

bool pvcons_write(const char *s, size_t n)
{
	u64 stall_until = 0;

	while (n && active) {
		u32 cons = __atomic_load_n(&ring->out_cons, __ATOMIC_RELAXED);
		u32 prod = __atomic_load_n(&ring->out_prod, __ATOMIC_RELAXED);
		u32 used = prod - cons;
		if (used > sizeof(ring->out)) {
			give_up(); /* the backend moved out_cons past us */
			break;
		}
		u32 room = (u32)sizeof(ring->out) - used;
		if (!room) {
			/* Full: sleep until the backend took some and said so. */
			u64 now = pvclock_now_ns();
			if (!stall_until)
				stall_until = now + PVCONS_STALL_NS;
			if (now >= stall_until) {
				give_up();
				break;
			}
			evtchn_poll(&port, 1, stall_until);
			evtchn_clear_pending(port);
			continue;
		}
		stall_until = 0;
		u32 k = (u32)MIN((size_t)room, n);
		for (u32 i = 0; i < k; i++)
			ring->out[MASK_XENCONS_IDX(prod + i, ring->out)] = s[i];
		/* The bytes before the index that publishes them. */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		__atomic_store_n(&ring->out_prod, prod + k, __ATOMIC_RELAXED);
		evtchn_send(port);
		s += k;
		n -= k;
	}
	return n == 0;
}

size_t pvcons_read(char *buf, size_t n)
{
	if (!active)
		return 0;
	u32 cons = __atomic_load_n(&ring->in_cons, __ATOMIC_RELAXED);
	u32 prod = __atomic_load_n(&ring->in_prod, __ATOMIC_RELAXED);
	u32 avail = prod - cons;
	if (avail > sizeof(ring->in)) {
		give_up();
		return 0;
	}
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (avail > n)
		avail = (u32)n;
	for (u32 i = 0; i < avail; i++)
		buf[i] = ring->in[MASK_XENCONS_IDX(cons + i, ring->in)];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&ring->in_cons, cons + avail, __ATOMIC_RELAXED);
	if (avail)
		evtchn_send(port);
	return avail;
}

void pvcons_wait_input(u64 deadline_ns)
{
	if (!active)
		return;
	u32 cons = __atomic_load_n(&ring->in_cons, __ATOMIC_RELAXED);
	if (__atomic_load_n(&ring->in_prod, __ATOMIC_RELAXED) != cons)
		return;
	evtchn_poll(&port, 1, deadline_ns);
	evtchn_clear_pending(port);
}
