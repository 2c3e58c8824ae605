/*
 * Zstandard decoding, one shot (contract in zstd.h). Written from RFC
 * 8878: frames (3.1.1), blocks (3.1.1.2), literals (3.1.1.3.1) with
 * Huffman coding (4.2), sequences (3.1.1.3.2) with FSE coding (4.1) and
 * their predefined distributions (3.1.1.3.2.2), sequence execution and
 * repeat offsets (3.1.1.4, 3.1.1.5). The whole output buffer is the
 * window, so only "does the offset reach before the frame" is checked.
 */
#include "zstd.h"

#define BLOCK_MAX (128u << 10)
#define LL_MAX 35
#define ML_MAX 52
#define OF_MAX 31
#define LL_AL_MAX 9
#define ML_AL_MAX 9
#define OF_AL_MAX 8
#define HUF_AL_MAX 11
#define HUF_WEIGHT_AL_MAX 6
#define SKIPPABLE_MASK 0xFFFFFFF0u
#define SKIPPABLE_MAGIC 0x184D2A50u

struct fse_entry {
	u8 symbol, nbits;
	u16 base;
};

struct fse_table {
	unsigned al; /* accuracy log */
	struct fse_entry e[1 << LL_AL_MAX];
};

struct huf_table {
	unsigned max_bits;
	u8 sym[1 << HUF_AL_MAX], nbits[1 << HUF_AL_MAX];
};

struct zstd_state {
	struct dec_buf *b;
	size_t frame_start;
	u32 rep[3];
	struct fse_table ll, of, ml;
	bool have_ll, have_of, have_ml;
	struct huf_table huf;
	bool have_huf;
	u8 lit[BLOCK_MAX];
};

static struct zstd_state zs;

#define FAIL(...) return dec_fail(s->b, -EINVAL, "zstd: " __VA_ARGS__)

/* ---- bit streams ---- */

/* Forward (FSE table descriptions): little-endian, least significant bit first. */
struct fwd_bits {
	const u8 *p;
	size_t len, bitpos;
};

static u32 fwd_peek(const struct fwd_bits *f, unsigned n)
{
	u32 v = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t bit = f->bitpos + i;
		if (bit / 8 < f->len)
			v |= (u32)((f->p[bit / 8] >> (bit % 8)) & 1) << i;
	}
	return v;
}

/* Backward (Huffman and FSE streams): starts after the highest set bit
 * of the last byte, read from the most significant end down. */
struct back_bits {
	const u8 *p;
	long bitpos; /* bits left; negative: read past the start */
};

static int back_init(struct back_bits *r, const u8 *p, size_t len)
{
	if (!len || !p[len - 1])
		return -1;
	unsigned top = 7;
	while (!(p[len - 1] >> top))
		top--;
	r->p = p;
	r->bitpos = (long)(len - 1) * 8 + top;
	return 0;
}

/* The n bits below bitpos (zeros for those before the start). */
static u64 back_peek(const struct back_bits *r, unsigned n)
{
	u64 v = 0;
	long from = r->bitpos - (long)n;
	for (unsigned i = 0; i < n; i++) {
		long bit = from + (long)i;
		if (bit >= 0)
			v |= (u64)((r->p[bit / 8] >> (bit % 8)) & 1) << i;
	}
	return v;
}

static u64 back_read(struct back_bits *r, unsigned n)
{
	u64 v = back_peek(r, n);
	r->bitpos -= n;
	return v;
}

/* ---- FSE ---- */

static unsigned highbit(u32 v)
{
	unsigned n = 0;
	while (v >>= 1)
		n++;
	return n;
}

/* The decoding table from normalised counts (RFC 8878 4.1.1). */
static int fse_build(struct fse_table *t, const s16 *norm, unsigned nsym, unsigned al)
{
	unsigned size = 1u << al, high = size - 1, pos = 0;
	unsigned step = (size >> 1) + (size >> 3) + 3;
	u16 next[256];

	t->al = al;
	for (unsigned s = 0; s < nsym; s++) {
		if (norm[s] == -1) {
			t->e[high--].symbol = (u8)s;
			next[s] = 1;
		} else {
			next[s] = (u16)norm[s];
		}
	}
	for (unsigned s = 0; s < nsym; s++) {
		for (int i = 0; i < norm[s]; i++) {
			t->e[pos].symbol = (u8)s;
			do
				pos = (pos + step) & (size - 1);
			while (pos > high);
		}
	}
	if (pos != 0)
		return -1;
	for (unsigned u = 0; u < size; u++) {
		unsigned s = t->e[u].symbol;
		unsigned x = next[s]++;
		unsigned nb = al - highbit(x);
		t->e[u].nbits = (u8)nb;
		t->e[u].base = (u16)((x << nb) - size);
	}
	return 0;
}

/* Reads an FSE table description at in[0..len) (RFC 8878 4.1.1);
 * returns the bytes it took, or -1. */
static long fse_read(struct fse_table *t, const u8 *in, size_t len, unsigned max_sym,
		     unsigned max_al)
{
	struct fwd_bits f = { in, len, 0 };
	s16 norm[256];
	unsigned sym = 0;

	if (!len)
		return -1;
	unsigned al = fwd_peek(&f, 4) + 5;
	f.bitpos = 4;
	if (al > max_al)
		return -1;
	int remaining = (1 << al) + 1, threshold = 1 << al;
	unsigned nbits = al + 1;
	while (remaining > 1 && sym <= max_sym) {
		if (f.bitpos > len * 8)
			return -1;
		int max = (2 * threshold - 1) - remaining;
		int v = (int)fwd_peek(&f, nbits);
		int count;
		if ((v & (threshold - 1)) < max) {
			count = v & (threshold - 1);
			f.bitpos += nbits - 1;
		} else {
			count = v & (2 * threshold - 1);
			if (count >= threshold)
				count -= max;
			f.bitpos += nbits;
		}
		count--;
		remaining -= count < 0 ? -count : count;
		norm[sym++] = (s16)count;
		if (count == 0) {
			/* Zero probabilities: then 2-bit repeat counts, 3 = more. */
			unsigned rep;
			do {
				rep = fwd_peek(&f, 2);
				f.bitpos += 2;
				for (unsigned i = 0; i < rep; i++) {
					if (sym > max_sym)
						return -1;
					norm[sym++] = 0;
				}
			} while (rep == 3 && f.bitpos <= len * 8);
		}
		while (remaining < threshold && threshold > 1) {
			nbits--;
			threshold >>= 1;
		}
	}
	if (remaining != 1 || f.bitpos > len * 8)
		return -1;
	if (fse_build(t, norm, sym, al))
		return -1;
	return (long)((f.bitpos + 7) / 8);
}

static void fse_rle(struct fse_table *t, u8 symbol)
{
	t->al = 0;
	t->e[0] = (struct fse_entry){ symbol, 0, 0 };
}

static const s16 ll_default[36] = { 4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2,
				    2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1 };
static const s16 ml_default[53] = { 1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1,
				    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
				    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1 };
static const s16 of_default[29] = { 1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1,
				    1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1 };

static const u32 ll_base[36] = { 0,  1,  2,   3,   4,   5,    6,    7,    8,    9,     10,    11,
				 12, 13, 14,  15,  16,  18,   20,   22,   24,   28,    32,    40,
				 48, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };
static const u8 ll_bits[36] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  0,  0,  1,  1,
				1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const u32 ml_base[53] = { 3,  4,  5,  6,  7,   8,   9,   10,  11,   12,   13,   14,   15,   16,
				 17, 18, 19, 20, 21,  22,  23,  24,  25,   26,   27,   28,   29,   30,
				 31, 32, 33, 34, 35,  37,  39,  41,  43,   47,   51,   59,   67,   83,
				 99, 131, 259, 515, 1027, 2051, 4099, 8195, 16387, 32771, 65539 };
static const u8 ml_bits[53] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
				2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

/* ---- Huffman ---- */

/* Builds the table from weights (RFC 8878 4.2.1): the last weight is
 * implied by the others summing to a power of two. */
static int huf_build(struct huf_table *h, u8 *w, unsigned n)
{
	u32 total = 0;

	if (!n || n > 255)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		if (w[i] > HUF_AL_MAX)
			return -1;
		if (w[i])
			total += 1u << (w[i] - 1);
	}
	if (!total)
		return -1;
	unsigned max_bits = highbit(total) + 1;
	u32 left = (1u << max_bits) - total;
	if (max_bits > HUF_AL_MAX || left & (left - 1))
		return -1;
	w[n++] = (u8)(highbit(left) + 1);
	h->max_bits = max_bits;
	unsigned pos = 0;
	for (unsigned wt = 1; wt <= max_bits; wt++)
		for (unsigned s = 0; s < n; s++) {
			if (w[s] != wt)
				continue;
			for (unsigned i = 0; i < 1u << (wt - 1); i++, pos++) {
				h->sym[pos] = (u8)s;
				h->nbits[pos] = (u8)(max_bits + 1 - wt);
			}
		}
	return pos == 1u << max_bits ? 0 : -1;
}

/* The tree description at in (RFC 8878 4.2.1.1-2); bytes taken or -1. */
static long huf_read(struct huf_table *h, const u8 *in, size_t len)
{
	u8 w[256];
	unsigned n = 0;

	if (!len)
		return -1;
	unsigned hdr = in[0];
	if (hdr >= 128) {
		n = hdr - 127;
		size_t bytes = (n + 1) / 2;
		if (bytes > len - 1)
			return -1;
		for (unsigned i = 0; i < n; i++)
			w[i] = i % 2 ? in[1 + i / 2] & 15 : in[1 + i / 2] >> 4;
		return huf_build(h, w, n) ? -1 : (long)(1 + bytes);
	}
	if (hdr > len - 1 || !hdr)
		return -1;
	static struct fse_table t;
	long used = fse_read(&t, in + 1, hdr, 255, HUF_WEIGHT_AL_MAX);
	if (used < 0 || (size_t)used >= hdr)
		return -1;
	struct back_bits r;
	if (back_init(&r, in + 1 + used, hdr - (size_t)used))
		return -1;
	unsigned s1 = (unsigned)back_read(&r, t.al), s2 = (unsigned)back_read(&r, t.al);
	if (r.bitpos < 0)
		return -1;
	/* Two interleaved states until the stream is over-read. */
	for (;;) {
		if (n >= 254)
			return -1;
		w[n++] = t.e[s1].symbol;
		s1 = t.e[s1].base + (unsigned)back_read(&r, t.e[s1].nbits);
		if (r.bitpos < 0) {
			w[n++] = t.e[s2].symbol;
			break;
		}
		w[n++] = t.e[s2].symbol;
		s2 = t.e[s2].base + (unsigned)back_read(&r, t.e[s2].nbits);
		if (r.bitpos < 0) {
			if (n >= 255)
				return -1;
			w[n++] = t.e[s1].symbol;
			break;
		}
	}
	return huf_build(h, w, n) ? -1 : (long)(1 + hdr);
}

static int huf_stream(const struct huf_table *h, const u8 *in, size_t len, u8 *out, size_t n)
{
	struct back_bits r;

	if (back_init(&r, in, len))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned idx = (unsigned)back_peek(&r, h->max_bits);
		out[i] = h->sym[idx];
		r.bitpos -= h->nbits[idx];
		if (r.bitpos < 0)
			return -1;
	}
	return r.bitpos == 0 ? 0 : -1;
}

/* ---- literals ---- */

/* The literals section at in; fills s->lit, *nlit; returns bytes taken. */
static long literals(struct zstd_state *s, const u8 *in, size_t len, size_t *nlit)
{
	if (!len)
		return dec_fail(s->b, -EINVAL, "zstd: literals section missing");
	unsigned type = in[0] & 3, sf = (in[0] >> 2) & 3;
	size_t regen, comp = 0, hdr;

	if (type < 2) {
		if (sf == 0 || sf == 2) {
			hdr = 1;
			regen = in[0] >> 3;
		} else if (sf == 1) {
			hdr = 2;
			if (len < 2)
				return dec_fail(s->b, -EINVAL, "zstd: literals header truncated");
			regen = (in[0] >> 4) | (size_t)in[1] << 4;
		} else {
			hdr = 3;
			if (len < 3)
				return dec_fail(s->b, -EINVAL, "zstd: literals header truncated");
			regen = (in[0] >> 4) | (size_t)in[1] << 4 | (size_t)in[2] << 12;
		}
		if (regen > BLOCK_MAX)
			return dec_fail(s->b, -EINVAL, "zstd: %zu literals in one block", regen);
		*nlit = regen;
		if (type == 0) {
			if (regen > len - hdr)
				return dec_fail(s->b, -EINVAL, "zstd: raw literals truncated");
			memcpy(s->lit, in + hdr, regen);
			return (long)(hdr + regen);
		}
		if (len - hdr < 1)
			return dec_fail(s->b, -EINVAL, "zstd: RLE literal missing");
		memset(s->lit, in[hdr], regen);
		return (long)(hdr + 1);
	}
	unsigned bits = sf < 2 ? 10 : sf == 2 ? 14 : 18;
	hdr = sf < 2 ? 3 : sf == 2 ? 4 : 5;
	if (len < hdr)
		return dec_fail(s->b, -EINVAL, "zstd: literals header truncated");
	u64 v = 0;
	for (size_t i = 0; i < hdr; i++)
		v |= (u64)in[i] << (8 * i);
	regen = (v >> 4) & ((1u << bits) - 1);
	comp = (v >> (4 + bits)) & ((1u << bits) - 1);
	bool four = sf != 0;
	if (regen > BLOCK_MAX || comp > len - hdr)
		return dec_fail(s->b, -EINVAL, "zstd: compressed literals out of bounds");
	const u8 *p = in + hdr;
	size_t plen = comp;
	if (type == 2) {
		long t = huf_read(&s->huf, p, plen);
		if (t < 0)
			return dec_fail(s->b, -EINVAL, "zstd: bad Huffman tree description");
		s->have_huf = true;
		p += t;
		plen -= (size_t)t;
	} else if (!s->have_huf) {
		return dec_fail(s->b, -EINVAL, "zstd: treeless literals without a previous tree");
	}
	*nlit = regen;
	if (!four) {
		if (huf_stream(&s->huf, p, plen, s->lit, regen))
			return dec_fail(s->b, -EINVAL, "zstd: corrupt Huffman literal stream");
		return (long)(hdr + comp);
	}
	if (plen < 6)
		return dec_fail(s->b, -EINVAL, "zstd: literal jump table truncated");
	size_t sz[4] = { get_le16(p), get_le16(p + 2), get_le16(p + 4), 0 };
	if (sz[0] + sz[1] + sz[2] > plen - 6)
		return dec_fail(s->b, -EINVAL, "zstd: literal streams exceed their section");
	sz[3] = plen - 6 - sz[0] - sz[1] - sz[2];
	size_t each = (regen + 3) / 4, done = 0;
	const u8 *q = p + 6;
	for (int i = 0; i < 4; i++) {
		size_t want = i < 3 ? each : regen - 3 * each;
		if (3 * each > regen || huf_stream(&s->huf, q, sz[i], s->lit + done, want))
			return dec_fail(s->b, -EINVAL, "zstd: corrupt Huffman literal stream %d", i);
		q += sz[i];
		done += want;
	}
	return (long)(hdr + comp);
}

/* ---- sequences ---- */

static long table_mode(struct zstd_state *s, unsigned mode, struct fse_table *t, bool *have,
		       const s16 *def, unsigned ndef, unsigned def_al, unsigned max_sym,
		       unsigned max_al, const u8 *in, size_t len, const char *name)
{
	long used = 0;

	switch (mode) {
	case 0:
		fse_build(t, def, ndef, def_al);
		break;
	case 1:
		if (!len || in[0] > max_sym)
			return dec_fail(s->b, -EINVAL, "zstd: bad RLE %s code", name);
		fse_rle(t, in[0]);
		used = 1;
		break;
	case 2:
		used = fse_read(t, in, len, max_sym, max_al);
		if (used < 0)
			return dec_fail(s->b, -EINVAL, "zstd: bad %s FSE table", name);
		break;
	default:
		if (!*have)
			return dec_fail(s->b, -EINVAL, "zstd: repeated %s table with none before", name);
		break;
	}
	*have = true;
	return used;
}

static int sequences(struct zstd_state *s, const u8 *in, size_t len, size_t nlit)
{
	struct dec_buf *b = s->b;
	size_t pos = 0, nseq, lit_pos = 0;
	long used;

	if (!len)
		FAIL("sequences section missing");
	if (in[0] < 128) {
		nseq = in[0];
		pos = 1;
	} else if (in[0] < 255) {
		if (len < 2)
			FAIL("sequence count truncated");
		nseq = ((size_t)(in[0] - 128) << 8) + in[1];
		pos = 2;
	} else {
		if (len < 3)
			FAIL("sequence count truncated");
		nseq = in[1] + ((size_t)in[2] << 8) + 0x7F00;
		pos = 3;
	}
	if (nseq) {
		if (pos >= len)
			FAIL("compression modes missing");
		u8 modes = in[pos++];
		if (modes & 3)
			FAIL("reserved bits in compression modes");
		if ((used = table_mode(s, modes >> 6, &s->ll, &s->have_ll, ll_default, 36, 6, LL_MAX,
				       LL_AL_MAX, in + pos, len - pos, "literal length")) < 0)
			return (int)used;
		pos += (size_t)used;
		if ((used = table_mode(s, (modes >> 4) & 3, &s->of, &s->have_of, of_default, 29, 5,
				       OF_MAX, OF_AL_MAX, in + pos, len - pos, "offset")) < 0)
			return (int)used;
		pos += (size_t)used;
		if ((used = table_mode(s, (modes >> 2) & 3, &s->ml, &s->have_ml, ml_default, 53, 6,
				       ML_MAX, ML_AL_MAX, in + pos, len - pos, "match length")) < 0)
			return (int)used;
		pos += (size_t)used;
		struct back_bits r;
		if (back_init(&r, in + pos, len - pos))
			FAIL("sequence bitstream has no end marker");
		unsigned sl = (unsigned)back_read(&r, s->ll.al);
		unsigned so = (unsigned)back_read(&r, s->of.al);
		unsigned sm = (unsigned)back_read(&r, s->ml.al);
		for (size_t i = 0; i < nseq; i++) {
			unsigned llc = s->ll.e[sl].symbol, ofc = s->of.e[so].symbol,
				 mlc = s->ml.e[sm].symbol;
			if (llc > LL_MAX || mlc > ML_MAX || ofc > OF_MAX)
				FAIL("sequence code out of range");
			u32 ofv = (1u << ofc) + (u32)back_read(&r, ofc);
			size_t ml = ml_base[mlc] + back_read(&r, ml_bits[mlc]);
			size_t ll = ll_base[llc] + back_read(&r, ll_bits[llc]);
			u32 off;
			if (ofv > 3) {
				off = ofv - 3;
				s->rep[2] = s->rep[1];
				s->rep[1] = s->rep[0];
				s->rep[0] = off;
			} else {
				unsigned idx = ofv - 1 + (ll == 0);
				if (idx == 0) {
					off = s->rep[0];
				} else {
					off = idx == 3 ? s->rep[0] - 1 : s->rep[idx];
					if (idx != 1)
						s->rep[2] = s->rep[1];
					s->rep[1] = s->rep[0];
					s->rep[0] = off;
				}
			}
			if (i + 1 < nseq) {
				sl = s->ll.e[sl].base + (unsigned)back_read(&r, s->ll.e[sl].nbits);
				sm = s->ml.e[sm].base + (unsigned)back_read(&r, s->ml.e[sm].nbits);
				so = s->of.e[so].base + (unsigned)back_read(&r, s->of.e[so].nbits);
			}
			if (r.bitpos < 0)
				FAIL("sequence bitstream over-read");
			if (ll > nlit - lit_pos)
				FAIL("sequence takes more literals than decoded");
			if (ll + ml > b->out_cap - b->out_pos)
				return dec_fail(b, -E2BIG, "zstd: output larger than %zu bytes", b->out_cap);
			memcpy(b->out + b->out_pos, s->lit + lit_pos, ll);
			lit_pos += ll;
			b->out_pos += ll;
			if (!off || off > b->out_pos - s->frame_start)
				FAIL("match offset %u reaches before the frame", off);
			for (size_t k = 0; k < ml; k++, b->out_pos++)
				b->out[b->out_pos] = b->out[b->out_pos - off];
		}
		if (r.bitpos != 0)
			FAIL("sequence bitstream not fully consumed");
	} else if (pos != len) {
		FAIL("bytes after an empty sequences section");
	}
	size_t rest = nlit - lit_pos;
	if (rest > b->out_cap - b->out_pos)
		return dec_fail(b, -E2BIG, "zstd: output larger than %zu bytes", b->out_cap);
	memcpy(b->out + b->out_pos, s->lit + lit_pos, rest);
	b->out_pos += rest;
	return 0;
}

/* ---- frames ---- */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static u64 rotl(u64 v, unsigned n)
{
	return (v << n) | (v >> (64 - n));
}

static u64 xxh_round(u64 acc, u64 in)
{
	return rotl(acc + in * P2, 31) * P1;
}

/* XXH64 with seed 0 (the frame checksum: RFC 8878 3.1.1, its low 32
 * bits), with b's progress calls every DEC_PROGRESS_BYTES (a kernel's
 * frame is tens of MiB). */
static u64 xxh64(struct dec_buf *b, const u8 *p, size_t n)
{
	const u8 *start = p, *end = p + n;
	u64 h;

	if (n >= 32) {
		u64 v1 = P1 + P2, v2 = P2, v3 = 0, v4 = 0 - P1;
		for (; end - p >= 32; p += 32) {
			v1 = xxh_round(v1, get_le64(p));
			v2 = xxh_round(v2, get_le64(p + 8));
			v3 = xxh_round(v3, get_le64(p + 16));
			v4 = xxh_round(v4, get_le64(p + 24));
			if (b->progress && !((size_t)(p + 32 - start) & (DEC_PROGRESS_BYTES - 1)))
				b->progress(b->progress_ctx);
		}
		h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
		u64 v[4] = { v1, v2, v3, v4 };
		for (int i = 0; i < 4; i++)
			h = (h ^ xxh_round(0, v[i])) * P1 + P4;
	} else {
		h = P5;
	}
	h += n;
	for (; end - p >= 8; p += 8)
		h = rotl(h ^ xxh_round(0, get_le64(p)), 27) * P1 + P4;
	if (end - p >= 4) {
		h = rotl(h ^ (get_le32(p) * P1), 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl(h ^ (*p * P5), 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

static int frame(struct zstd_state *s)
{
	struct dec_buf *b = s->b;
	const u8 *in = b->in;
	size_t pos = b->in_pos + 4;
	int rc;

	if (pos >= b->in_len)
		FAIL("frame header truncated");
	u8 fhd = in[pos++];
	unsigned fcs_flag = fhd >> 6, did_flag = fhd & 3;
	bool single = fhd & 0x20, checksum = fhd & 4;
	if (fhd & 8)
		FAIL("reserved bit in the frame header");
	size_t did_len = did_flag ? 1u << (did_flag - 1) : 0;
	size_t fcs_len = fcs_flag ? 1u << fcs_flag : single;
	if (b->in_len - pos < !single + did_len + fcs_len)
		FAIL("frame header truncated");
	pos += !single;
	u32 did = 0;
	for (size_t i = 0; i < did_len; i++)
		did |= (u32)in[pos + i] << (8 * i);
	pos += did_len;
	if (did)
		return dec_fail(b, -EOPNOTSUPP, "zstd: frame needs dictionary %u", did);
	u64 fcs = 0;
	for (size_t i = 0; i < fcs_len; i++)
		fcs |= (u64)in[pos + i] << (8 * i);
	if (fcs_len == 2)
		fcs += 256;
	pos += fcs_len;

	s->frame_start = b->out_pos;
	s->rep[0] = 1;
	s->rep[1] = 4;
	s->rep[2] = 8;
	s->have_ll = s->have_of = s->have_ml = s->have_huf = false;
	for (bool last = false; !last;) {
		dec_progress(b);
		if (b->in_len - pos < 3)
			FAIL("block header truncated");
		u32 bh = in[pos] | (u32)in[pos + 1] << 8 | (u32)in[pos + 2] << 16;
		pos += 3;
		last = bh & 1;
		unsigned type = (bh >> 1) & 3;
		size_t size = bh >> 3;
		if (type == 3)
			FAIL("reserved block type");
		if (size > BLOCK_MAX)
			FAIL("block of %zu bytes exceeds 128 KiB", size);
		size_t need = type == 1 ? 1 : size;
		if (b->in_len - pos < need)
			FAIL("block truncated");
		if (type == 0 || type == 1) {
			if (size > b->out_cap - b->out_pos)
				return dec_fail(b, -E2BIG, "zstd: output larger than %zu bytes", b->out_cap);
			if (type == 0)
				memcpy(b->out + b->out_pos, in + pos, size);
			else
				memset(b->out + b->out_pos, in[pos], size);
			b->out_pos += size;
			pos += need;
			continue;
		}
		size_t nlit = 0;
		long used = literals(s, in + pos, size, &nlit);
		if (used < 0)
			return (int)used;
		if ((rc = sequences(s, in + pos + used, size - (size_t)used, nlit)))
			return rc;
		pos += size;
	}
	size_t n = b->out_pos - s->frame_start;
	if ((fcs_len || single) && n != fcs)
		FAIL("frame produced %zu bytes, its header says %lu", n, (unsigned long)fcs);
	if (checksum) {
		if (b->in_len - pos < 4)
			FAIL("checksum truncated");
		if ((u32)xxh64(b, b->out + s->frame_start, n) != get_le32(in + pos))
			FAIL("content checksum mismatch (data corrupt)");
		pos += 4;
	}
	b->in_pos = pos;
	return 0;
}

int zstd_decode(struct dec_buf *b)
{
	struct zstd_state *s = &zs;
	unsigned frames = 0;
	int rc;

	s->b = b;
	b->in_pos = 0;
	while (b->in_len - b->in_pos >= 4) {
		u32 magic = get_le32(b->in + b->in_pos);
		if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
			if (b->in_len - b->in_pos < 8 ||
			    get_le32(b->in + b->in_pos + 4) > b->in_len - b->in_pos - 8)
				FAIL("skippable frame truncated");
			b->in_pos += 8 + get_le32(b->in + b->in_pos + 4);
			continue;
		}
		if (magic != ZSTD_MAGIC)
			break;
		if ((rc = frame(s)))
			return rc;
		frames++;
	}
	if (!frames)
		FAIL("no frame");
	return 0;
}
