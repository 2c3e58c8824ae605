/*
 * The xenbus ring transport (contract in xenbus.h): the page and event
 * channel the toolstack announces in HVM_PARAM_STORE_PFN and
 * HVM_PARAM_STORE_EVTCHN (Xen public/hvm/params.h), used as Xen's
 * public/io/xs_wire.h describes: the guest produces into req[] and
 * consumes rsp[], indices run freely and are masked with
 * MASK_XENSTORE_IDX, data before index (write barrier), index before data
 * (read barrier), and the port is notified after every index move.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/hvm_op.h>
#include <public/params.h>
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "xenbus.h"

static struct xenstore_domain_interface *ring;
static evtchn_port_t port;
static struct xb_client client;
static bool up;

static int get_param(u32 index, u64 *value)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
	int rc = (int)HYPERVISOR_hvm_op(HVMOP_get_param, &p);

	if (!rc)
		*value = p.value;
	return rc;
}

static void wait_port(u64 deadline)
{
	evtchn_poll(&port, 1, deadline);
	evtchn_clear_pending(port);
}

static int ring_send(void *ctx, const void *buf, size_t n, u64 timeout_ns)
{
	const char *s = buf;
	u64 deadline = pvclock_now_ns() + timeout_ns;
	(void)ctx;

	while (n) {
		u32 cons = __atomic_load_n(&ring->req_cons, __ATOMIC_RELAXED);
		u32 prod = __atomic_load_n(&ring->req_prod, __ATOMIC_RELAXED);
		if (prod - cons > XENSTORE_RING_SIZE)
			return -EIO; /* the server moved req_cons past us */
		u32 room = XENSTORE_RING_SIZE - (prod - cons);
		if (!room) {
			if (pvclock_now_ns() >= deadline)
				return -ETIMEDOUT;
			wait_port(deadline);
			continue;
		}
		/* The slots are free only once cons has been read. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		u32 k = (u32)MIN((size_t)room, n);
		for (u32 i = 0; i < k; i++)
			ring->req[MASK_XENSTORE_IDX(prod + i)] = s[i];
		__atomic_thread_fence(__ATOMIC_RELEASE);
		__atomic_store_n(&ring->req_prod, prod + k, __ATOMIC_RELAXED);
		evtchn_send(port);
		s += k;
		n -= k;
	}
	return 0;
}

static long ring_recv(void *ctx, void *buf, size_t n)
{
	char *d = buf;
	(void)ctx;

	u32 cons = __atomic_load_n(&ring->rsp_cons, __ATOMIC_RELAXED);
	u32 prod = __atomic_load_n(&ring->rsp_prod, __ATOMIC_RELAXED);
	if (prod - cons > XENSTORE_RING_SIZE)
		return -EIO;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	u32 k = (u32)MIN((size_t)(prod - cons), n);
	for (u32 i = 0; i < k; i++)
		d[i] = ring->rsp[MASK_XENSTORE_IDX(cons + i)];
	/* Our reads before the slots go back to the server. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&ring->rsp_cons, cons + k, __ATOMIC_RELAXED);
	if (k)
		evtchn_send(port);
	return k;
}

static int ring_wait(void *ctx, u64 timeout_ns)
{
	u64 deadline = pvclock_now_ns() + timeout_ns;
	(void)ctx;

	for (;;) {
		u32 cons = __atomic_load_n(&ring->rsp_cons, __ATOMIC_RELAXED);
		if (__atomic_load_n(&ring->rsp_prod, __ATOMIC_RELAXED) != cons)
			return 0;
		if (pvclock_now_ns() >= deadline)
			return -ETIMEDOUT;
		wait_port(deadline);
	}
}

int xenbus_init(void)
{
	u64 pfn, evtchn;
	int rc;

	if ((rc = get_param(HVM_PARAM_STORE_PFN, &pfn)) ||
	    (rc = get_param(HVM_PARAM_STORE_EVTCHN, &evtchn)))
		return rc;
	if (!pfn || !evtchn || evtchn >= NR_EVENT_CHANNELS)
		return -ENODEV;
	/* Identity-mapped low 4 GiB, as for the console page (pvcons.c). */
	if (pfn >= (4ULL << 30) >> PAGE_SHIFT)
		return -ENODEV;
	ring = (struct xenstore_domain_interface *)(uintptr_t)(pfn << PAGE_SHIFT);
	port = (evtchn_port_t)evtchn;
	struct xb_transport t = { ring_send, ring_recv, ring_wait, NULL };
	xb_client_init(&client, &t);
	up = true;
	return 0;
}

struct xb_client *xenbus(void)
{
	return up ? &client : NULL;
}

struct xenstore_domain_interface *xenbus_ring(void)
{
	return ring;
}

u32 xenbus_port(void)
{
	return port;
}
