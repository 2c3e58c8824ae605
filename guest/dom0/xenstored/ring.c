/*
 * The ring transport: moves bytes between a domain's xenstore page
 * (struct xenstore_domain_interface, include/public/io/xs_wire.h) and its
 * connection. The page is shared with a possibly hostile guest that may
 * change any field at any time, so:
 *  - each index is read once into a local, and everything is decided on
 *    the locals (a guest changing it under us gains nothing);
 *  - prod - cons beyond XENSTORE_RING_SIZE cannot happen on a sane ring:
 *    the connection is declared broken (Xen's xenstored does the same and
 *    sets `error`); so is a payload beyond XENSTORE_PAYLOAD_MAX;
 *  - request bytes are handed to xs_conn_input, which copies them before
 *    parsing, so later scribbling on the page cannot reach the parser.
 * Barriers as Xen's domain.c: read prod before the data it covers, write
 * the data before publishing prod, and finish reading data before giving
 * the space back with cons. __atomic_thread_fence is a compiler builtin
 * (no library call), usable in dom0 and on the host alike.
 */
#include "xs_internal.h"

#define rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static u32 read_once(const volatile u32 *p)
{
	return *p;
}

static void write_once(volatile u32 *p, u32 v)
{
	*p = v;
}

void xs_ring_init(struct xenstore_domain_interface *intf)
{
	/* Only the fields the server owns: the guest may already have queued
	 * requests (Linux writes before it knows we are there). */
	write_once(&intf->server_features, XENSTORE_SERVER_FEATURE_ERROR);
	write_once(&intf->error, XENSTORE_ERROR_NONE);
}

static int broken(struct xenstore_domain_interface *intf, u32 why)
{
	write_once(&intf->error, why);
	return -EIO;
}

/* Rounds of one pump: a guest that keeps producing on another vCPU must
 * not hold dom0's event loop; the caller pumps again on the next event. */
#define XS_RING_ROUNDS 16

int xs_ring_pump(struct xenstore_domain_interface *intf, struct xs_conn *c)
{
	int moved = 0;

	if (read_once(&intf->error) != XENSTORE_ERROR_NONE)
		return -EIO; /* already broken: nothing more is served */
	for (int round = 0; round < XS_RING_ROUNDS; round++) {
		bool progress = false;

		/* requests: guest -> store */
		u32 cons = read_once(&intf->req_cons);
		u32 prod = read_once(&intf->req_prod);

		rmb();
		if (prod - cons > XENSTORE_RING_SIZE)
			return broken(intf, XENSTORE_ERROR_RINGIDX);
		if (prod != cons) {
			u32 off = MASK_XENSTORE_IDX(cons);
			u32 len = MIN(prod - cons, XENSTORE_RING_SIZE - off);
			long n = xs_conn_input(c, (const u8 *)intf->req + off, len);

			if (n < 0)
				return broken(intf, XENSTORE_ERROR_PROTO);
			if (n > 0) {
				mb(); /* done with the bytes before the guest may reuse them */
				write_once(&intf->req_cons, cons + (u32)n);
				progress = true;
			}
		}

		/* replies and events: store -> guest */
		cons = read_once(&intf->rsp_cons);
		prod = read_once(&intf->rsp_prod);
		mb();
		if (prod - cons > XENSTORE_RING_SIZE)
			return broken(intf, XENSTORE_ERROR_RINGIDX);
		if (prod - cons < XENSTORE_RING_SIZE && xs_conn_output_pending(c)) {
			u32 off = MASK_XENSTORE_IDX(prod);
			u32 space = MIN(XENSTORE_RING_SIZE - (prod - cons), XENSTORE_RING_SIZE - off);
			size_t n = xs_conn_output(c, intf->rsp + off, space);

			if (n) {
				wmb(); /* the bytes before the index that publishes them */
				write_once(&intf->rsp_prod, prod + (u32)n);
				progress = true;
			}
		}
		if (!progress)
			break;
		moved = 1;
	}
	return moved;
}
