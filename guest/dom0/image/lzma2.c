/*
 * LZMA2 and the LZMA it carries, decoded in one shot (contract in
 * lzma2.h). Written from the format's description: the LZMA2 chunk
 * layout in the XZ file format specification (tukaani.org/xz/xz-file-
 * format.txt, section 5.3.1 names the filter; the chunk headers are
 * those of liblzma's lzma2_decoder) and the LZMA model of Igor Pavlov's
 * LZMA SDK (lzma-specification.txt): a binary range coder with 11-bit
 * probabilities, a 12-state machine over literal/match/rep history, and
 * bit trees for literals, lengths and distances.
 *
 * The decoder never trusts the stream: every input byte is fetched
 * through rc_byte (which refuses to read past the chunk's compressed
 * size), every output byte through the bounds of the output buffer, and
 * every match distance against what has been decoded since the last
 * dictionary reset.
 */
#include "lzma2.h"

#define PROB_BITS 11
#define PROB_INIT (1u << (PROB_BITS - 1))
#define MOVE_BITS 5
#define RC_TOP (1u << 24)

#define STATES 12
#define LIT_STATES 7
#define POS_STATES_MAX 16
#define DIST_STATES 4
#define DIST_SLOTS 64
#define DIST_MODEL_END 14 /* slots >= this use direct bits + align */
#define FULL_DISTANCES 128
#define ALIGN_BITS 4
#define MATCH_LEN_MIN 2
#define LEN_LOW 8
#define LEN_MID 8
#define LEN_HIGH 256
#define LITERAL_CODER_SIZE 0x300
#define LC_LP_MAX 4 /* LZMA2: lc + lp <= 4 */

struct len_probs {
	u16 choice, choice2;
	u16 low[POS_STATES_MAX][LEN_LOW];
	u16 mid[POS_STATES_MAX][LEN_MID];
	u16 high[LEN_HIGH];
};

struct lzma_probs {
	u16 is_match[STATES][POS_STATES_MAX];
	u16 is_rep[STATES], is_rep0[STATES], is_rep1[STATES], is_rep2[STATES];
	u16 is_rep0_long[STATES][POS_STATES_MAX];
	u16 dist_slot[DIST_STATES][DIST_SLOTS];
	u16 dist_special[FULL_DISTANCES - DIST_MODEL_END];
	u16 dist_align[1 << ALIGN_BITS];
	struct len_probs match_len, rep_len;
	u16 literal[LITERAL_CODER_SIZE << LC_LP_MAX];
};

struct lzma_dec {
	struct dec_buf *b;
	/* range coder over the current chunk: [in_pos, in_end) */
	u32 range, code;
	size_t in_end;
	bool overrun; /* read past the chunk: reported once it ends */
	/* model */
	unsigned lc, lp, pb;
	unsigned state;
	u32 rep[4];
	size_t dict_start; /* output position of the last dictionary reset */
	u32 pending;       /* match bytes left over from the previous chunk */
	struct lzma_probs p;
};

/* The model is large (~28 KiB): static, as dom0 runs one launch at a time. */
static struct lzma_dec dec;

static u8 rc_byte(struct lzma_dec *d)
{
	struct dec_buf *b = d->b;

	if (b->in_pos >= d->in_end) {
		d->overrun = true;
		return 0;
	}
	return b->in[b->in_pos++];
}

static void rc_normalize(struct lzma_dec *d)
{
	if (d->range < RC_TOP) {
		d->range <<= 8;
		d->code = (d->code << 8) | rc_byte(d);
	}
}

static unsigned rc_bit(struct lzma_dec *d, u16 *prob)
{
	rc_normalize(d);
	u32 bound = (d->range >> PROB_BITS) * *prob;
	if (d->code < bound) {
		d->range = bound;
		*prob += ((1u << PROB_BITS) - *prob) >> MOVE_BITS;
		return 0;
	}
	d->range -= bound;
	d->code -= bound;
	*prob -= *prob >> MOVE_BITS;
	return 1;
}

/* A bit tree of `bits` levels, most significant bit first. */
static u32 rc_tree(struct lzma_dec *d, u16 *probs, unsigned bits)
{
	u32 sym = 1;

	for (unsigned i = 0; i < bits; i++)
		sym = (sym << 1) | rc_bit(d, &probs[sym]);
	return sym - (1u << bits);
}

/* A bit tree read least significant bit first (distance low bits). */
static u32 rc_tree_reverse(struct lzma_dec *d, u16 *probs, unsigned bits)
{
	u32 sym = 1, val = 0;

	for (unsigned i = 0; i < bits; i++) {
		unsigned bit = rc_bit(d, &probs[sym]);
		sym = (sym << 1) | bit;
		val |= (u32)bit << i;
	}
	return val;
}

/* Bits with probability 1/2 (the middle bits of long distances). */
static u32 rc_direct(struct lzma_dec *d, unsigned bits)
{
	u32 val = 0;

	while (bits--) {
		rc_normalize(d);
		d->range >>= 1;
		u32 bit = d->code >= d->range;
		if (bit)
			d->code -= d->range;
		val = (val << 1) | bit;
	}
	return val;
}

static void probs_reset(struct lzma_dec *d)
{
	u16 *p = (u16 *)&d->p;

	for (size_t i = 0; i < sizeof(d->p) / sizeof(u16); i++)
		p[i] = PROB_INIT;
	d->state = 0;
	d->rep[0] = d->rep[1] = d->rep[2] = d->rep[3] = 0;
	d->pending = 0;
}

static u32 decode_len(struct lzma_dec *d, struct len_probs *l, unsigned pos_state)
{
	if (!rc_bit(d, &l->choice))
		return MATCH_LEN_MIN + rc_tree(d, l->low[pos_state], 3);
	if (!rc_bit(d, &l->choice2))
		return MATCH_LEN_MIN + LEN_LOW + rc_tree(d, l->mid[pos_state], 3);
	return MATCH_LEN_MIN + LEN_LOW + LEN_MID + rc_tree(d, l->high, 8);
}

/* The distance of a new match (LZMA spec, "DecodeDistance"). */
static u32 decode_dist(struct lzma_dec *d, u32 len)
{
	unsigned ds = len - MATCH_LEN_MIN < DIST_STATES ? len - MATCH_LEN_MIN : DIST_STATES - 1;
	u32 slot = rc_tree(d, d->p.dist_slot[ds], 6);

	if (slot < 4)
		return slot;
	unsigned bits = (slot >> 1) - 1;
	u32 dist = (2 | (slot & 1)) << bits;
	if (slot < DIST_MODEL_END)
		return dist + rc_tree_reverse(d, d->p.dist_special + dist - slot - 1, bits);
	dist += rc_direct(d, bits - ALIGN_BITS) << ALIGN_BITS;
	return dist + rc_tree_reverse(d, d->p.dist_align, ALIGN_BITS);
}

/* Copies `len` bytes from distance rep[0] + 1 back, stopping at `limit`
 * (the chunk's end); what is left waits in d->pending. */
static void copy_match(struct lzma_dec *d, u32 len, size_t limit)
{
	struct dec_buf *b = d->b;
	size_t from = b->out_pos - d->rep[0] - 1;

	while (len && b->out_pos < limit) {
		b->out[b->out_pos++] = b->out[from++];
		len--;
	}
	d->pending = len;
}

static void decode_literal(struct lzma_dec *d)
{
	struct dec_buf *b = d->b;
	size_t pos = b->out_pos;
	unsigned prev = pos > d->dict_start ? b->out[pos - 1] : 0;
	/* Positions count from the dictionary reset (the window's start). */
	size_t dpos = pos - d->dict_start;
	unsigned ctx = ((dpos & ((1u << d->lp) - 1)) << d->lc) + (prev >> (8 - d->lc));
	u16 *probs = d->p.literal + LITERAL_CODER_SIZE * ctx;
	u32 sym = 1;

	if (d->state < LIT_STATES) {
		while (sym < 0x100)
			sym = (sym << 1) | rc_bit(d, &probs[sym]);
	} else {
		/* "Matched" literal: the byte at rep0 steers the first bits
		 * until they differ. */
		u32 match = b->out[pos - d->rep[0] - 1];
		u32 offset = 0x100;
		while (sym < 0x100) {
			match <<= 1;
			u32 mbit = match & offset;
			unsigned bit = rc_bit(d, &probs[offset + mbit + sym]);
			sym = (sym << 1) | bit;
			offset &= bit ? mbit : ~mbit;
		}
	}
	b->out[b->out_pos++] = (u8)sym;
	d->state = d->state < 4 ? 0 : d->state < 10 ? d->state - 3 : d->state - 6;
}

/*
 * One LZMA chunk: decodes until `limit` bytes of output. The range
 * coder was initialised by the caller. Returns 0 or -EINVAL (a distance
 * before the dictionary, the output full is the caller's check).
 */
static int lzma_chunk(struct lzma_dec *d, size_t limit)
{
	struct dec_buf *b = d->b;
	unsigned pb_mask = (1u << d->pb) - 1;

	if (d->pending)
		copy_match(d, d->pending, limit);
	while (b->out_pos < limit) {
		if (d->overrun)
			return dec_fail(b, -EINVAL, "xz: LZMA2 chunk ends inside its data");
		unsigned ps = (b->out_pos - d->dict_start) & pb_mask;
		u32 len;

		if (!rc_bit(d, &d->p.is_match[d->state][ps])) {
			decode_literal(d);
			continue;
		}
		if (!rc_bit(d, &d->p.is_rep[d->state])) {
			/* A new match: reps shift down. */
			d->rep[3] = d->rep[2];
			d->rep[2] = d->rep[1];
			d->rep[1] = d->rep[0];
			len = decode_len(d, &d->p.match_len, ps);
			d->state = d->state < LIT_STATES ? 7 : 10;
			d->rep[0] = decode_dist(d, len);
			if (d->rep[0] == 0xFFFFFFFF)
				return dec_fail(b, -EINVAL, "xz: LZMA end marker inside an LZMA2 chunk");
		} else if (!rc_bit(d, &d->p.is_rep0[d->state])) {
			if (!rc_bit(d, &d->p.is_rep0_long[d->state][ps])) {
				/* "Short rep": one byte at rep0. */
				d->state = d->state < LIT_STATES ? 9 : 11;
				len = 1;
				goto copy;
			}
			len = decode_len(d, &d->p.rep_len, ps);
			d->state = d->state < LIT_STATES ? 8 : 11;
		} else {
			u32 dist;
			if (!rc_bit(d, &d->p.is_rep1[d->state])) {
				dist = d->rep[1];
			} else {
				if (!rc_bit(d, &d->p.is_rep2[d->state])) {
					dist = d->rep[2];
				} else {
					dist = d->rep[3];
					d->rep[3] = d->rep[2];
				}
				d->rep[2] = d->rep[1];
			}
			d->rep[1] = d->rep[0];
			d->rep[0] = dist;
			len = decode_len(d, &d->p.rep_len, ps);
			d->state = d->state < LIT_STATES ? 8 : 11;
		}
copy:
		if (d->rep[0] >= b->out_pos - d->dict_start)
			return dec_fail(b, -EINVAL,
					"xz: match distance %u reaches before the dictionary (%zu bytes)",
					d->rep[0] + 1, b->out_pos - d->dict_start);
		copy_match(d, len, limit);
	}
	return 0;
}

static int set_props(struct lzma_dec *d, u8 props)
{
	if (props >= 9 * 5 * 5)
		return dec_fail(d->b, -EINVAL, "xz: LZMA properties byte 0x%02x is invalid", props);
	d->lc = props % 9;
	props /= 9;
	d->lp = props % 5;
	d->pb = props / 5;
	if (d->lc + d->lp > LC_LP_MAX)
		return dec_fail(d->b, -EINVAL, "xz: LZMA2 needs lc + lp <= 4 (lc %u, lp %u)", d->lc,
				d->lp);
	return 0;
}

/*
 * LZMA2 chunks (control byte first):
 *   0x00            end of data
 *   0x01 / 0x02     uncompressed chunk, with / without dictionary reset;
 *                   then a 16-bit big-endian size - 1 and the bytes
 *   0x80 | r<<5 | u LZMA chunk; u = bits 16..20 of the output size - 1,
 *                   then 16 bits more of it, a 16-bit compressed size - 1,
 *                   and a properties byte if r >= 2. r: 0 nothing reset,
 *                   1 state reset, 2 + new properties, 3 + dictionary reset
 */
int lzma2_decode(struct dec_buf *b)
{
	struct lzma_dec *d = &dec;
	bool need_dict = true, need_props = true;
	int rc;

	memset(d, 0, sizeof(*d));
	d->b = b;
	for (;;) {
		dec_progress(b); /* between chunks (at most 2 MiB of output each) */
		if (b->in_pos >= b->in_len)
			return dec_fail(b, -EINVAL, "xz: LZMA2 data truncated (no end marker)");
		u8 ctl = b->in[b->in_pos++];
		if (ctl == 0x00)
			return d->pending ? dec_fail(b, -EINVAL, "xz: LZMA2 data ends inside a match") : 0;
		if (ctl >= 0xE0 || ctl == 0x01) {
			/* After any dictionary reset the next LZMA chunk must
			 * bring properties (>= 0xC0), as liblzma's encoder does. */
			need_props = true;
			need_dict = false;
			d->dict_start = b->out_pos;
		} else if (need_dict) {
			return dec_fail(b, -EINVAL,
					"xz: LZMA2 chunk 0x%02x before the first dictionary reset", ctl);
		}
		if (ctl < 0x80) {
			if (d->pending)
				return dec_fail(b, -EINVAL, "xz: a match runs into an uncompressed chunk");
			if (ctl > 0x02)
				return dec_fail(b, -EINVAL, "xz: LZMA2 control byte 0x%02x is invalid",
						ctl);
			if (b->in_len - b->in_pos < 2)
				return dec_fail(b, -EINVAL, "xz: LZMA2 chunk header truncated");
			size_t n = ((size_t)b->in[b->in_pos] << 8 | b->in[b->in_pos + 1]) + 1;
			b->in_pos += 2;
			if (b->in_len - b->in_pos < n)
				return dec_fail(b, -EINVAL, "xz: uncompressed LZMA2 chunk truncated");
			if (b->out_cap - b->out_pos < n)
				return dec_fail(b, -E2BIG, "xz: output larger than %zu bytes", b->out_cap);
			memcpy(b->out + b->out_pos, b->in + b->in_pos, n);
			b->in_pos += n;
			b->out_pos += n;
			continue;
		}
		size_t hdr = ctl >= 0xC0 ? 5 : 4;
		if (b->in_len - b->in_pos < hdr)
			return dec_fail(b, -EINVAL, "xz: LZMA2 chunk header truncated");
		const u8 *h = b->in + b->in_pos;
		size_t out_n = (((size_t)ctl & 0x1F) << 16 | (size_t)h[0] << 8 | h[1]) + 1;
		size_t in_n = ((size_t)h[2] << 8 | h[3]) + 1;
		b->in_pos += hdr;
		if (ctl >= 0xC0) {
			if ((rc = set_props(d, h[4])))
				return rc;
			need_props = false;
		} else if (need_props) {
			return dec_fail(b, -EINVAL, "xz: LZMA2 chunk without properties after a reset");
		}
		if (ctl >= 0xA0)
			probs_reset(d);
		if (b->in_len - b->in_pos < in_n)
			return dec_fail(b, -EINVAL, "xz: LZMA2 chunk truncated (%zu of %zu bytes)",
					b->in_len - b->in_pos, in_n);
		if (b->out_cap - b->out_pos < out_n)
			return dec_fail(b, -E2BIG, "xz: output larger than %zu bytes", b->out_cap);
		if (in_n < 5)
			return dec_fail(b, -EINVAL, "xz: LZMA2 chunk of %zu bytes is too short", in_n);
		/* Range coder start: a zero byte, then 4 bytes of code. */
		d->in_end = b->in_pos + in_n;
		d->overrun = false;
		if (rc_byte(d) != 0)
			return dec_fail(b, -EINVAL, "xz: LZMA range coder does not start with 0");
		d->range = 0xFFFFFFFF;
		d->code = 0;
		for (int i = 0; i < 4; i++)
			d->code = (d->code << 8) | rc_byte(d);
		if ((rc = lzma_chunk(d, b->out_pos + out_n)))
			return rc;
		/* The chunk must use exactly its bytes and leave the coder
		 * flushed (code 0). The encoder's flush first does the
		 * normalisation its next bit would have done (liblzma
		 * rc_encode), so the decoder does it too. */
		rc_normalize(d);
		if (d->overrun || b->in_pos != d->in_end || d->code != 0)
			return dec_fail(b, -EINVAL,
					"xz: LZMA2 chunk's compressed size does not match its data");
	}
}
