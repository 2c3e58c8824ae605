/*
 * netback's rx queue (contract in rxq.h).
 *
 * Why one frame of slack makes every frame within the byte bound fit in
 * one piece (C = NB_RXQ_BYTES, M = NB_RXQ_FRAME_MAX, the ring C + M long,
 * a new frame of len <= M with bytes + len <= C):
 *  - not wrapped (tail >= the oldest frame's offset h): the live bytes
 *    [h, tail) have no gap, so tail - h = bytes <= C - len. If len does
 *    not fit before the end (tail > C + M - len), then h > M >= len and
 *    the frame fits at 0, below h.
 *  - wrapped (tail < h): the live span is the queued bytes plus the one
 *    gap left at the end by the frame that wrapped (gap < M), so
 *    h - tail = C + M - bytes - gap > len: it fits at tail.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "rxq.h"

void nb_rxq_clear(struct nb_rxq *q)
{
	q->head = q->count = q->bytes = q->tail = 0;
}

int nb_rxq_push(struct nb_rxq *q, const u8 *frame, size_t len)
{
	if (!len || len > NB_RXQ_FRAME_MAX)
		return -EINVAL;
	if (q->count == NB_RXQ || q->bytes + len > NB_RXQ_BYTES)
		return -ENOSPC;
	u32 at = q->count ? q->tail : 0;
	if (at + len > NB_RXQ_DATA)
		at = 0;
	memcpy(q->data + at, frame, len);
	u32 i = (q->head + q->count) % NB_RXQ;
	q->d[i].off = at;
	q->d[i].len = (u16)len;
	q->count++;
	q->bytes += (u32)len;
	q->tail = at + (u32)len;
	return 0;
}

const u8 *nb_rxq_peek(const struct nb_rxq *q, u16 *len)
{
	if (!q->count)
		return NULL;
	*len = q->d[q->head].len;
	return q->data + q->d[q->head].off;
}

void nb_rxq_pop(struct nb_rxq *q)
{
	if (!q->count)
		return;
	q->bytes -= q->d[q->head].len;
	q->head = (q->head + 1) % NB_RXQ;
	if (!--q->count)
		q->head = q->tail = 0;
}
