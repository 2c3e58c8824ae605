/*
 * The xenbus ring transport (contract in xenbus.h): the page and event
 * channel the toolstack announces in HVM_PARAM_STORE_PFN and
 * HVM_PARAM_STORE_EVTCHN (Xen public/hvm/params.h), used as Xen's
 * public/io/xs_wire.h describes (byte I/O and barriers: xenbus_ring.c);
 * the port is notified after every index move, and a full or empty ring
 * sleeps in SCHEDOP_poll on the (masked) port.
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
		long k = xb_ring_put(ring, s, n);
		if (k < 0)
			return (int)k; /* the server moved req_cons past us */
		if (!k) {
			if (pvclock_now_ns() >= deadline)
				return -ETIMEDOUT;
			wait_port(deadline);
			continue;
		}
		evtchn_send(port);
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

static long ring_recv(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	long k = xb_ring_get(ring, buf, n);
	if (k > 0)
		evtchn_send(port); /* room for the server's next bytes */
	return k;
}

static int ring_wait(void *ctx, u64 timeout_ns)
{
	u64 deadline = pvclock_now_ns() + timeout_ns;
	(void)ctx;

	for (;;) {
		/* Corrupted indices count as "something": recv reports it. */
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
