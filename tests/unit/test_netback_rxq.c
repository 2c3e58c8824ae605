/*
 * netback's rx queue (guest/dom0/netback/rxq.c): FIFO order and bytes
 * kept, the frame bound (NB_RXQ) and the byte bound (NB_RXQ_BYTES) each
 * refusing exactly the frame past it, and a long random run of pushes and
 * pops of every size checked against a model: every frame within the
 * bounds is stored whole in the byte ring (the wrap with one frame of
 * slack), none overlaps another.
 *
 * unit-sources: guest/dom0/netback/rxq.c
 */
#include <stdlib.h>
#include <string.h>
#include <lib/errno.h>
#include "../../guest/dom0/netback/rxq.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static struct nb_rxq q;
static u8 frame[NB_RXQ_FRAME_MAX];

static void fill(u32 seq, size_t len)
{
	for (size_t i = 0; i < len; i++)
		frame[i] = (u8)(seq * 31u + i * 7u);
}

static int check(u32 seq, const u8 *f, u16 len, u16 want_len)
{
	if (len != want_len)
		return 0;
	fill(seq, len);
	return !memcmp(f, frame, len);
}

START_TEST(rxq_fifo_keeps_order_and_bytes)
{
	u16 len;

	nb_rxq_clear(&q);
	ck_assert_ptr_null(nb_rxq_peek(&q, &len));
	for (u32 s = 0; s < 10; s++) {
		fill(s, 60 + s * 100);
		ck_assert_int_eq(nb_rxq_push(&q, frame, 60 + s * 100), 0);
	}
	ck_assert_uint_eq(q.count, 10);
	for (u32 s = 0; s < 10; s++) {
		const u8 *f = nb_rxq_peek(&q, &len);
		ck_assert_ptr_nonnull(f);
		ck_assert(check(s, f, len, (u16)(60 + s * 100)));
		nb_rxq_pop(&q);
	}
	ck_assert_uint_eq(q.count, 0);
	ck_assert_uint_eq(q.bytes, 0);
	ck_assert_int_eq(nb_rxq_push(&q, frame, 0), -EINVAL);
	ck_assert_int_eq(nb_rxq_push(&q, frame, NB_RXQ_FRAME_MAX + 1), -EINVAL);
}
END_TEST

START_TEST(rxq_frame_bound_refuses_the_next)
{
	nb_rxq_clear(&q);
	for (u32 s = 0; s < NB_RXQ; s++) {
		fill(s, 60);
		ck_assert_int_eq(nb_rxq_push(&q, frame, 60), 0);
	}
	ck_assert_int_eq(nb_rxq_push(&q, frame, 60), -ENOSPC);
	ck_assert_uint_eq(q.count, NB_RXQ);
	nb_rxq_pop(&q);
	fill(NB_RXQ, 60);
	ck_assert_int_eq(nb_rxq_push(&q, frame, 60), 0);
	u16 len = 0;
	const u8 *f = nb_rxq_peek(&q, &len);
	ck_assert(check(1, f, len, 60));
}
END_TEST

START_TEST(rxq_byte_bound_refuses_the_next)
{
	u32 fit = NB_RXQ_BYTES / NB_RXQ_FRAME_MAX, s;

	nb_rxq_clear(&q);
	for (s = 0; s < fit; s++) {
		fill(s, NB_RXQ_FRAME_MAX);
		ck_assert_int_eq(nb_rxq_push(&q, frame, NB_RXQ_FRAME_MAX), 0);
	}
	ck_assert_int_eq(nb_rxq_push(&q, frame, NB_RXQ_FRAME_MAX), -ENOSPC);
	/* What is left below the byte bound still takes a smaller frame. */
	u32 left = NB_RXQ_BYTES - q.bytes;
	ck_assert_int_eq(nb_rxq_push(&q, frame, left + 1), -ENOSPC);
	fill(s, left);
	ck_assert_int_eq(nb_rxq_push(&q, frame, left), 0);
	ck_assert_uint_eq(q.bytes, NB_RXQ_BYTES);
	ck_assert_int_eq(nb_rxq_push(&q, frame, 1), -ENOSPC);
}
END_TEST

/* A model queue of (seq, len); random pushes and pops; after each step
 * every queued frame's bytes are intact and no two overlap. */
START_TEST(rxq_random_wraps_keep_every_frame_whole)
{
	static u32 mseq[NB_RXQ];
	static u16 mlen[NB_RXQ];
	u32 mhead = 0, mcount = 0, mbytes = 0, next = 0;
	unsigned pushed = 0, refused = 0, bad = 0;

	srand(12345);
	nb_rxq_clear(&q);
	/* Plain comparisons in the loop (a passing ck_assert costs a write to
	 * Check's pipe), one assertion at the end. */
	for (unsigned step = 0; step < 100000 && !bad; step++) {
		bool push = rand() % 100 < 55;
		if (push) {
			u16 len = (u16)(rand() % 3 ? 1 + rand() % NB_RXQ_FRAME_MAX
						   : NB_RXQ_FRAME_MAX - rand() % 8);
			fill(next, len);
			int rc = nb_rxq_push(&q, frame, len);
			bool fits = mcount < NB_RXQ && mbytes + len <= NB_RXQ_BYTES;
			bad += rc != (fits ? 0 : -ENOSPC);
			if (fits) {
				u32 i = (mhead + mcount++) % NB_RXQ;
				mseq[i] = next;
				mlen[i] = len;
				mbytes += len;
				pushed++;
			} else {
				refused++;
			}
			next++;
		} else if (mcount) {
			u16 len;
			const u8 *f = nb_rxq_peek(&q, &len);
			bad += !f || !check(mseq[mhead], f, len, mlen[mhead]);
			nb_rxq_pop(&q);
			mbytes -= mlen[mhead];
			mhead = (mhead + 1) % NB_RXQ;
			mcount--;
		}
		bad += q.count != mcount || q.bytes != mbytes;
		if (step % 500 == 0)
			for (u32 k = 0; k < mcount; k++) {
				u32 a = (q.head + k) % NB_RXQ;
				bad += q.d[a].off + q.d[a].len > NB_RXQ_DATA;
				bad += !check(mseq[(mhead + k) % NB_RXQ], q.data + q.d[a].off,
					      q.d[a].len, mlen[(mhead + k) % NB_RXQ]);
			}
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_gt(pushed, 20000);
	ck_assert_uint_gt(refused, 100);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "pvnet-rxq-fifo-keeps-order-and-bytes", &rxq_fifo_keeps_order_and_bytes_ttest },
	{ "pvnet-rxq-frame-bound-refuses-the-next", &rxq_frame_bound_refuses_the_next_ttest },
	{ "pvnet-rxq-byte-bound-refuses-the-next", &rxq_byte_bound_refuses_the_next_ttest },
	{ "pvnet-rxq-random-wraps-keep-every-frame-whole",
	  &rxq_random_wraps_keep_every_frame_whole_ttest },
	{ 0 },
};
