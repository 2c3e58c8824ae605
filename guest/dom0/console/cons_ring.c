/*
 * The backend's side of a PV console ring (contract in cons_ring.h).
 *
 * Ordering (the producer/consumer protocol of console.h): read the
 * producer index, then (acquire) the bytes it covers; finish reading the
 * bytes before publishing the new consumer index (full barrier: the guest
 * may reuse the space as soon as it sees it). Writing input: the bytes,
 * then (release) the producer index.
 */
#include <lib/errno.h>
#include "cons_ring.h"

static u32 load(const XENCONS_RING_IDX *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

int cons_ring_read_out(struct xencons_interface *r, char *dst, size_t max)
{
	u32 cons = load(&r->out_cons), prod = load(&r->out_prod);
	u32 avail = prod - cons; /* free-running: wraps correctly */

	if (avail > sizeof(r->out))
		return -EIO;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (avail > max)
		avail = (u32)max;
	for (u32 i = 0; i < avail; i++)
		dst[i] = ((volatile char *)r->out)[MASK_XENCONS_IDX(cons + i, r->out)];
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&r->out_cons, cons + avail, __ATOMIC_RELAXED);
	return (int)avail;
}

int cons_ring_write_in(struct xencons_interface *r, const char *src, size_t n)
{
	u32 cons = load(&r->in_cons), prod = load(&r->in_prod);
	u32 used = prod - cons;

	if (used > sizeof(r->in))
		return -EIO;
	u32 room = (u32)sizeof(r->in) - used;
	if (room > n)
		room = (u32)n;
	for (u32 i = 0; i < room; i++)
		((volatile char *)r->in)[MASK_XENCONS_IDX(prod + i, r->in)] = src[i];
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&r->in_prod, prod + room, __ATOMIC_RELAXED);
	return (int)room;
}
