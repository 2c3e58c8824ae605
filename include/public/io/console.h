/*
 * The PV console ring (Xen public/io/console.h): one shared page per
 * domain, announced to the guest by HVM_PARAM_CONSOLE_PFN (the page's
 * guest frame) and HVM_PARAM_CONSOLE_EVTCHN (the port to notify), and to
 * the toolstack under /local/domain/N/console/{ring-ref,port}. Keel's own
 * header with Xen's layout.
 *
 * Two byte rings, each with free-running 32-bit indices masked by the
 * ring's size (a power of two):
 *   out[]  guest -> backend: the guest produces (out_prod), the backend
 *          consumes (out_cons);
 *   in[]   backend -> guest: the backend produces (in_prod), the guest
 *          consumes (in_cons).
 * A producer never lets prod - cons exceed the ring's size; a consumer
 * must treat a larger difference (or a cons past prod) as a corrupted
 * ring. The producer writes the bytes, then (write barrier) its index;
 * after moving an index the side notifies the other through the event
 * channel.
 *
 * `connection` (Xen 4.17+) says whether a backend serves the ring; it sits
 * after the indices, so older guests that never look at it are unaffected.
 */
#ifndef KEEL_PUBLIC_IO_CONSOLE_H
#define KEEL_PUBLIC_IO_CONSOLE_H

#include <lib/types.h>

typedef uint32_t XENCONS_RING_IDX;

/* idx masked into `ring` (an array whose size is a power of two). */
#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

#define XENCONSOLE_CONNECTED    0
#define XENCONSOLE_DISCONNECTED 1

struct xencons_interface {
	char in[1024];
	char out[2048];
	XENCONS_RING_IDX in_cons, in_prod;
	XENCONS_RING_IDX out_cons, out_prod;
	uint8_t connection;
};

_Static_assert(offsetof(struct xencons_interface, out) == 1024, "xencons out");
_Static_assert(offsetof(struct xencons_interface, in_cons) == 3072, "xencons in_cons");
_Static_assert(offsetof(struct xencons_interface, out_prod) == 3084, "xencons out_prod");
_Static_assert(offsetof(struct xencons_interface, connection) == 3088, "xencons connection");

#endif
