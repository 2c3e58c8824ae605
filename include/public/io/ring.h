/*
 * Shared request/response rings (Xen public/io/ring.h): the layout every
 * split driver uses (blkif, netif, and the xenstore and console rings'
 * cousins). Keel's own header with Xen's layout and names, so a Linux or
 * Xen frontend and a Keel backend agree byte for byte.
 *
 * One shared page holds a struct NAME_sring:
 *
 *     offset  0  req_prod   written by the front: requests produced
 *     offset  4  req_event  written by the back: notify me when req_prod
 *                           passes this
 *     offset  8  rsp_prod   written by the back: responses produced
 *     offset 12  rsp_event  written by the front: notify me when rsp_prod
 *                           passes this
 *     offset 16  pvt        4 bytes the protocols may use (netif's
 *                           smartpoll_active, tapif's msg)
 *     offset 20  __pad      44 bytes, zero
 *     offset 64  ring[]     request/response slots (a union of the two)
 *
 * The number of slots is what fits in the page after those 64 bytes,
 * rounded down to a power of two, so that an index (a free-running
 * 32-bit RING_IDX) is masked with size - 1. Each side keeps its private
 * copy of where it is (NAME_front_ring / NAME_back_ring): the shared
 * indices are the other side's business and are read, never trusted.
 *
 * Who may do what: the front produces requests and consumes responses;
 * the back the opposite. The *_OVERFLOW macros let a side detect a peer
 * that claims more than the ring holds (a hostile or broken peer): a
 * backend must check RING_REQUEST_PROD_OVERFLOW before consuming.
 *
 * Barriers: the producer writes the slots, then (xen_wmb) the producer
 * index; the consumer reads the index, then (xen_rmb) the slots. The
 * notification hold-off needs a full barrier (xen_mb) between publishing
 * an index and reading the peer's event index.
 */
#ifndef KEEL_PUBLIC_IO_RING_H
#define KEEL_PUBLIC_IO_RING_H

#include <lib/types.h>

typedef unsigned int RING_IDX;

/* x86 keeps stores in order and loads in order (TSO): the write and read
 * barriers only have to stop the compiler; the full one orders a store
 * before a later load, which needs MFENCE (a locked instruction). */
#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

/* The largest power of two <= x (x > 0), as a constant expression. */
#define RING_POW2_FLOOR(x) (1u << (31 - __builtin_clz((unsigned)(x))))

/* Bytes before the first slot: the four indices, pvt and __pad. */
#define RING_HEADER_BYTES 64

/* Slots of a NAME ring in `bytes` of shared memory (a page, usually). A
 * constant expression. */
#define __CONST_RING_SIZE(name, bytes)                                                  \
	RING_POW2_FLOOR(((bytes) - RING_HEADER_BYTES) /                                 \
			sizeof(((struct name##_sring *)0)->ring[0]))

/* The same for a pointer to a shared ring. */
#define __RING_SIZE(sring, bytes)                                                       \
	RING_POW2_FLOOR(((bytes) - RING_HEADER_BYTES) / sizeof((sring)->ring[0]))

/*
 * DEFINE_RING_TYPES(name, req_t, rsp_t) declares
 *   union name##_sring_entry { req_t req; rsp_t rsp; };
 *   struct name##_sring        the shared page (layout above)
 *   struct name##_front_ring   the front's private state
 *   struct name##_back_ring    the back's private state
 * and the typedefs name##_sring_t, name##_front_ring_t, name##_back_ring_t.
 */
#define DEFINE_RING_TYPES(name, req_t, rsp_t)                                           \
	union name##_sring_entry {                                                      \
		req_t req;                                                              \
		rsp_t rsp;                                                              \
	};                                                                              \
	struct name##_sring {                                                           \
		RING_IDX req_prod, req_event;                                           \
		RING_IDX rsp_prod, rsp_event;                                           \
		union {                                                                 \
			struct {                                                        \
				uint8_t smartpoll_active;                               \
			} netif;                                                        \
			struct {                                                        \
				uint8_t msg;                                            \
			} tapif_user;                                                   \
			uint8_t pvt_pad[4];                                             \
		} pvt;                                                                  \
		uint8_t __pad[44];                                                      \
		union name##_sring_entry ring[1]; /* as many as fit: RING_SIZE */       \
	};                                                                              \
	struct name##_front_ring {                                                      \
		RING_IDX req_prod_pvt; /* requests written, not yet pushed */          \
		RING_IDX rsp_cons;     /* responses consumed */                         \
		unsigned int nr_ents;                                                   \
		struct name##_sring *sring;                                             \
	};                                                                              \
	struct name##_back_ring {                                                       \
		RING_IDX rsp_prod_pvt; /* responses written, not yet pushed */         \
		RING_IDX req_cons;     /* requests consumed */                          \
		unsigned int nr_ents;                                                   \
		struct name##_sring *sring;                                             \
	};                                                                              \
	typedef struct name##_sring name##_sring_t;                                     \
	typedef struct name##_front_ring name##_front_ring_t;                           \
	typedef struct name##_back_ring name##_back_ring_t

/* ---- set-up ---------------------------------------------------------------- */

/* The front initialises the shared page (the back only attaches). The
 * event indices start at 1: notify on the first message. */
#define SHARED_RING_INIT(s)                                                             \
	do {                                                                            \
		(s)->req_prod = (s)->rsp_prod = 0;                                      \
		(s)->req_event = (s)->rsp_event = 1;                                    \
		__builtin_memset((s)->pvt.pvt_pad, 0, sizeof((s)->pvt.pvt_pad));        \
		__builtin_memset((s)->__pad, 0, sizeof((s)->__pad));                    \
	} while (0)

#define FRONT_RING_ATTACH(r, s, i, bytes)                                               \
	do {                                                                            \
		(r)->req_prod_pvt = (i);                                                \
		(r)->rsp_cons = (i);                                                    \
		(r)->nr_ents = __RING_SIZE(s, bytes);                                   \
		(r)->sring = (s);                                                       \
	} while (0)
#define FRONT_RING_INIT(r, s, bytes) FRONT_RING_ATTACH(r, s, 0, bytes)

#define BACK_RING_ATTACH(r, s, i, bytes)                                                \
	do {                                                                            \
		(r)->rsp_prod_pvt = (i);                                                \
		(r)->req_cons = (i);                                                    \
		(r)->nr_ents = __RING_SIZE(s, bytes);                                   \
		(r)->sring = (s);                                                       \
	} while (0)
#define BACK_RING_INIT(r, s, bytes) BACK_RING_ATTACH(r, s, 0, bytes)

/* ---- state ----------------------------------------------------------------- */

#define RING_SIZE(r) ((r)->nr_ents)

/* Front only: slots free for new requests, and whether there are none. */
#define RING_FREE_REQUESTS(r) (RING_SIZE(r) - ((r)->req_prod_pvt - (r)->rsp_cons))
#define RING_FULL(r) (RING_FREE_REQUESTS(r) == 0)

/* Responses the back pushed that the front has not consumed. */
#define RING_HAS_UNCONSUMED_RESPONSES(r) ((r)->sring->rsp_prod - (r)->rsp_cons)

/* Requests the front pushed that the back has not consumed, bounded by
 * what the ring can hold past the back's own responses (so a peer's bogus
 * req_prod cannot make the back read more than a ring's worth). */
#define RING_HAS_UNCONSUMED_REQUESTS(r)                                                 \
	({                                                                              \
		unsigned int req_ = (r)->sring->req_prod - (r)->req_cons;               \
		unsigned int rsp_ = RING_SIZE(r) - ((r)->req_cons - (r)->rsp_prod_pvt); \
		req_ < rsp_ ? req_ : rsp_;                                              \
	})

/* Slot `idx` (masked). */
#define RING_GET_REQUEST(r, idx) (&((r)->sring->ring[(idx) & (RING_SIZE(r) - 1)].req))
#define RING_GET_RESPONSE(r, idx) (&((r)->sring->ring[(idx) & (RING_SIZE(r) - 1)].rsp))

/* A private copy of a slot: validate the copy, never the shared slot the
 * peer can rewrite between the check and the use. */
#define RING_COPY_REQUEST(r, idx, dst)                                                  \
	(*(dst) = *(volatile __typeof__(dst))RING_GET_REQUEST(r, idx))
#define RING_COPY_RESPONSE(r, idx, dst)                                                 \
	(*(dst) = *(volatile __typeof__(dst))RING_GET_RESPONSE(r, idx))

/* Back: would consuming index `cons` overrun the responses not yet
 * produced (the ring is full of requests)? */
#define RING_REQUEST_CONS_OVERFLOW(r, cons) (((cons) - (r)->rsp_prod_pvt) >= RING_SIZE(r))
/* A front claiming more requests than the ring holds (ill-behaved peer). */
#define RING_REQUEST_PROD_OVERFLOW(r, prod) (((prod) - (r)->rsp_prod_pvt) > RING_SIZE(r))
/* A back claiming more responses than the ring holds. */
#define RING_RESPONSE_PROD_OVERFLOW(r, prod) (((prod) - (r)->rsp_cons) > RING_SIZE(r))

/* ---- publishing ------------------------------------------------------------ */

#define RING_PUSH_REQUESTS(r)                                                           \
	do {                                                                            \
		xen_wmb(); /* slots before the index */                                 \
		(r)->sring->req_prod = (r)->req_prod_pvt;                               \
	} while (0)

#define RING_PUSH_RESPONSES(r)                                                          \
	do {                                                                            \
		xen_wmb();                                                              \
		(r)->sring->rsp_prod = (r)->rsp_prod_pvt;                               \
	} while (0)

/*
 * Notification hold-off: publish the new producer index, then notify the
 * peer only if its event index lies in (old, new] — the peer asked to be
 * woken at some index we just passed. `notify` gets the answer.
 */
#define RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, notify)                                  \
	do {                                                                            \
		RING_IDX old_ = (r)->sring->req_prod;                                   \
		RING_IDX new_ = (r)->req_prod_pvt;                                      \
		xen_wmb();                                                              \
		(r)->sring->req_prod = new_;                                            \
		xen_mb(); /* the index before reading req_event */                      \
		(notify) = (RING_IDX)(new_ - (r)->sring->req_event) <                   \
			   (RING_IDX)(new_ - old_);                                     \
	} while (0)

#define RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, notify)                                 \
	do {                                                                            \
		RING_IDX old_ = (r)->sring->rsp_prod;                                   \
		RING_IDX new_ = (r)->rsp_prod_pvt;                                      \
		xen_wmb();                                                              \
		(r)->sring->rsp_prod = new_;                                            \
		xen_mb();                                                               \
		(notify) = (RING_IDX)(new_ - (r)->sring->rsp_event) <                   \
			   (RING_IDX)(new_ - old_);                                     \
	} while (0)

/*
 * Before a side goes idle: ask to be notified at the next message
 * (event = consumed + 1), then look again, since a message may have
 * arrived between the last look and setting the event index. `more`
 * gets whether there is work after all.
 */
#define RING_FINAL_CHECK_FOR_REQUESTS(r, more)                                          \
	do {                                                                            \
		(more) = RING_HAS_UNCONSUMED_REQUESTS(r);                               \
		if (more)                                                               \
			break;                                                          \
		(r)->sring->req_event = (r)->req_cons + 1;                              \
		xen_mb();                                                               \
		(more) = RING_HAS_UNCONSUMED_REQUESTS(r);                               \
	} while (0)

#define RING_FINAL_CHECK_FOR_RESPONSES(r, more)                                         \
	do {                                                                            \
		(more) = RING_HAS_UNCONSUMED_RESPONSES(r);                              \
		if (more)                                                               \
			break;                                                          \
		(r)->sring->rsp_event = (r)->rsp_cons + 1;                              \
		xen_mb();                                                               \
		(more) = RING_HAS_UNCONSUMED_RESPONSES(r);                              \
	} while (0)

#endif
