/* A range of grant-window slots handed out one at a time (contract in
 * blkback_int.h, struct blkb_slots). */
#include "blkback_int.h"

/* Every slot free the first time the pool is used: the pools are static,
 * and a range of thousands has no handy initializer. */
static void ready(struct blkb_slots *s)
{
	if (s->ready)
		return;
	for (unsigned i = 0; i < s->n; i++)
		s->free[i / 64] |= 1ULL << (i % 64);
	s->nr_free = s->n;
	s->ready = true;
}

unsigned blkb_slots_nr_free(struct blkb_slots *s)
{
	ready(s);
	return s->nr_free;
}

u16 blkb_slot_get(struct blkb_slots *s)
{
	ready(s);
	for (unsigned w = 0;; w++) {
		if (s->free[w]) {
			unsigned b = (unsigned)__builtin_ctzll(s->free[w]);
			s->free[w] &= ~(1ULL << b);
			s->nr_free--;
			return (u16)(s->base + w * 64 + b);
		}
	}
}

void blkb_slot_put(struct blkb_slots *s, u16 slot)
{
	unsigned i = slot - s->base;

	ready(s);
	s->free[i / 64] |= 1ULL << (i % 64);
	s->nr_free++;
}
