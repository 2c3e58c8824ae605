/*
 * The xenstore ring's byte I/O, guest side (contract in xenbus.h). Xen's
 * public/io/xs_wire.h: the guest produces into req[] and consumes rsp[];
 * indices run freely and are masked with MASK_XENSTORE_IDX; prod - cons
 * never exceeds XENSTORE_RING_SIZE on a sane ring. Data before index
 * (release), index before data (acquire), and our reads of rsp[] done
 * before rsp_cons hands the slots back (full fence), as Linux's
 * xenbus_comms.c orders them. Pure: the unit tests run it against
 * xenstored's ring.c on a page in memory.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "xenbus.h"

long xb_ring_put(struct xenstore_domain_interface *r, const void *buf, size_t n)
{
	const char *s = buf;
	u32 cons = __atomic_load_n(&r->req_cons, __ATOMIC_RELAXED);
	u32 prod = __atomic_load_n(&r->req_prod, __ATOMIC_RELAXED);

	if (prod - cons > XENSTORE_RING_SIZE)
		return -EIO;
	/* The slots are free only once cons has been read. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	u32 k = (u32)MIN((size_t)(XENSTORE_RING_SIZE - (prod - cons)), n);
	for (u32 i = 0; i < k; i++)
		r->req[MASK_XENSTORE_IDX(prod + i)] = s[i];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&r->req_prod, prod + k, __ATOMIC_RELAXED);
	return k;
}

long xb_ring_get(struct xenstore_domain_interface *r, void *buf, size_t n)
{
	char *d = buf;
	u32 cons = __atomic_load_n(&r->rsp_cons, __ATOMIC_RELAXED);
	u32 prod = __atomic_load_n(&r->rsp_prod, __ATOMIC_RELAXED);

	if (prod - cons > XENSTORE_RING_SIZE)
		return -EIO;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	u32 k = (u32)MIN((size_t)(prod - cons), n);
	for (u32 i = 0; i < k; i++)
		d[i] = r->rsp[MASK_XENSTORE_IDX(cons + i)];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&r->rsp_cons, cons + k, __ATOMIC_RELAXED);
	return k;
}

u32 xb_ring_rsp_avail(const struct xenstore_domain_interface *r)
{
	u32 cons = __atomic_load_n(&r->rsp_cons, __ATOMIC_RELAXED);
	u32 prod = __atomic_load_n(&r->rsp_prod, __ATOMIC_RELAXED);
	return prod - cons > XENSTORE_RING_SIZE ? 0 : prod - cons;
}
