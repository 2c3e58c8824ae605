/*
 * netback's per-vif rx queue (rxq.c): frames from the bridge waiting for
 * the frontend to post rx buffers, as Linux netback's rx queue does
 * (drivers/net/xen-netback/rx.c, bounded by rx_queue_max bytes). Bounded
 * by NB_RXQ frames and NB_RXQ_BYTES bytes of frame data (netback.h),
 * whichever is reached first; the storage is fixed, so a frontend that
 * never posts a buffer holds no more dom0 memory than that. FIFO: the
 * oldest frame goes out first, a frame past a bound is refused (tail drop).
 *
 * Pure (no dom0 services): host unit tests pvnet-rxq-*.
 */
#ifndef GUEST_DOM0_NETBACK_RXQ_H
#define GUEST_DOM0_NETBACK_RXQ_H

#include <lib/types.h>
#include "netback.h"

#define NB_RXQ_FRAME_MAX 1514 /* MTU 1500 + Ethernet header (BRIDGE_MAX_FRAME) */

/* A ring of descriptors over a ring of bytes. The byte ring is one frame
 * longer than the byte bound: a frame that does not fit before its end
 * starts again at 0, and that slack is what lets every frame within the
 * byte bound be stored in one piece (rxq.c says why). */
#define NB_RXQ_DATA (NB_RXQ_BYTES + NB_RXQ_FRAME_MAX)

struct nb_rxq {
	struct {
		u32 off;
		u16 len;
	} d[NB_RXQ];
	u32 head, count; /* descriptors: oldest, how many */
	u32 bytes;       /* sum of the queued frames' lengths */
	u32 tail;        /* where the next frame's bytes would start */
	u8 data[NB_RXQ_DATA];
};

/* Empties the queue. */
void nb_rxq_clear(struct nb_rxq *q);
/* Appends a copy of frame[0..len): 0; -EINVAL for len 0 or above
 * NB_RXQ_FRAME_MAX; -ENOSPC if it would pass NB_RXQ frames or
 * NB_RXQ_BYTES bytes (the queue is unchanged). */
int nb_rxq_push(struct nb_rxq *q, const u8 *frame, size_t len);
/* The oldest frame and its length (valid until nb_rxq_pop), or NULL. */
const u8 *nb_rxq_peek(const struct nb_rxq *q, u16 *len);
/* Drops the oldest frame (nothing if empty). */
void nb_rxq_pop(struct nb_rxq *q);

#endif
