/*
 * gzip and DEFLATE, one shot (contract in gzip.h). Written from RFC 1951:
 * blocks of three kinds (3.2.3), canonical Huffman codes rebuilt from
 * code lengths (3.2.2), the fixed code (3.2.6), dynamic code lengths
 * sent with their own code in the permuted order of 3.2.7, and
 * length/distance base tables (3.2.5). Huffman decoding walks the code
 * one bit at a time by length ("count / first code" per length), which
 * needs no tables beyond the 288 + 32 symbols sorted by code.
 */
#include "crc.h"
#include "gzip.h"

#define MAX_BITS 15
#define MAX_LITLEN 288
#define MAX_DIST 32

struct bits {
	struct dec_buf *b;
	u32 buf;      /* bits not consumed, least significant first */
	unsigned cnt; /* how many */
	bool overrun;
};

struct huff {
	u16 count[MAX_BITS + 1]; /* codes of each length */
	u16 sym[MAX_LITLEN];     /* symbols ordered by code */
};

static u32 getbits(struct bits *s, unsigned n)
{
	while (s->cnt < n) {
		if (s->b->in_pos >= s->b->in_len) {
			s->overrun = true;
			return 0;
		}
		s->buf |= (u32)s->b->in[s->b->in_pos++] << s->cnt;
		s->cnt += 8;
	}
	u32 v = s->buf & ((1u << n) - 1);
	s->buf >>= n;
	s->cnt -= n;
	return v;
}

/* Builds the canonical code from lengths (RFC 1951 3.2.2). Returns 0,
 * or -1 for an over-subscribed set. An incomplete set is allowed (one
 * distance code is legal) and fails only if a missing code is read. */
static int huff_build(struct huff *h, const u8 *len, unsigned n)
{
	u16 offs[MAX_BITS + 1];
	int left = 1;

	memset(h->count, 0, sizeof(h->count));
	for (unsigned i = 0; i < n; i++)
		h->count[len[i]]++;
	for (unsigned l = 1; l <= MAX_BITS; l++) {
		left = left * 2 - h->count[l];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (unsigned l = 1; l < MAX_BITS; l++)
		offs[l + 1] = offs[l] + h->count[l];
	for (unsigned i = 0; i < n; i++)
		if (len[i])
			h->sym[offs[len[i]]++] = (u16)i;
	return 0;
}

/* One symbol: codes are sent most significant bit first. -1: no code. */
static int huff_decode(struct bits *s, const struct huff *h)
{
	int code = 0, first = 0, index = 0;

	for (unsigned l = 1; l <= MAX_BITS; l++) {
		code |= (int)getbits(s, 1);
		int count = h->count[l];
		if (code - first < count)
			return h->sym[index + code - first];
		index += count;
		first = (first + count) << 1;
		code <<= 1;
		if (s->overrun)
			return -1;
	}
	return -1;
}

static const u16 len_base[29] = { 3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
				  31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258 };
static const u8 len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
				  2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const u16 dist_base[30] = { 1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
				   33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
				   1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577 };
static const u8 dist_extra[30] = { 0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
				   6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

static int codes(struct bits *s, const struct huff *lit, const struct huff *dist, size_t start)
{
	struct dec_buf *b = s->b;

	for (;;) {
		int sym = huff_decode(s, lit);
		if (sym < 0 || s->overrun)
			return dec_fail(b, -EINVAL, "gzip: bad literal/length code or data truncated");
		if (sym < 256) {
			if (b->out_pos >= b->out_cap)
				return dec_fail(b, -E2BIG, "gzip: output larger than %zu bytes", b->out_cap);
			b->out[b->out_pos++] = (u8)sym;
			continue;
		}
		if (sym == 256)
			return 0;
		sym -= 257;
		if (sym >= 29)
			return dec_fail(b, -EINVAL, "gzip: length code %d is invalid", sym + 257);
		size_t len = len_base[sym] + getbits(s, len_extra[sym]);
		int ds = huff_decode(s, dist);
		if (ds < 0 || ds >= 30 || s->overrun)
			return dec_fail(b, -EINVAL, "gzip: bad distance code");
		size_t d = dist_base[ds] + getbits(s, dist_extra[ds]);
		if (d > b->out_pos - start)
			return dec_fail(b, -EINVAL, "gzip: distance %zu reaches before the start", d);
		if (b->out_cap - b->out_pos < len)
			return dec_fail(b, -E2BIG, "gzip: output larger than %zu bytes", b->out_cap);
		for (size_t i = 0; i < len; i++, b->out_pos++)
			b->out[b->out_pos] = b->out[b->out_pos - d];
	}
}

static int fixed_block(struct bits *s, size_t start)
{
	static struct huff lit, dist;
	static bool built;
	u8 len[MAX_LITLEN];

	if (!built) {
		unsigned i = 0;
		for (; i < 144; i++)
			len[i] = 8;
		for (; i < 256; i++)
			len[i] = 9;
		for (; i < 280; i++)
			len[i] = 7;
		for (; i < MAX_LITLEN; i++)
			len[i] = 8;
		huff_build(&lit, len, MAX_LITLEN);
		for (i = 0; i < MAX_DIST; i++)
			len[i] = 5;
		huff_build(&dist, len, MAX_DIST);
		built = true;
	}
	return codes(s, &lit, &dist, start);
}

static int dynamic_block(struct bits *s, size_t start)
{
	static const u8 order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15 };
	static struct huff lencode, lit, dist;
	u8 len[MAX_LITLEN + MAX_DIST];
	struct dec_buf *b = s->b;

	unsigned nlen = getbits(s, 5) + 257, ndist = getbits(s, 5) + 1, ncode = getbits(s, 4) + 4;
	if (s->overrun || nlen > 286 || ndist > 30)
		return dec_fail(b, -EINVAL, "gzip: bad dynamic block header");
	memset(len, 0, 19);
	for (unsigned i = 0; i < ncode; i++)
		len[order[i]] = (u8)getbits(s, 3);
	if (huff_build(&lencode, len, 19))
		return dec_fail(b, -EINVAL, "gzip: bad code-length code");
	for (unsigned i = 0; i < nlen + ndist;) {
		int sym = huff_decode(s, &lencode);
		if (sym < 0 || s->overrun)
			return dec_fail(b, -EINVAL, "gzip: bad code lengths");
		if (sym < 16) {
			len[i++] = (u8)sym;
			continue;
		}
		unsigned rep, val = 0;
		if (sym == 16) {
			if (!i)
				return dec_fail(b, -EINVAL, "gzip: repeat with no previous length");
			val = len[i - 1];
			rep = 3 + getbits(s, 2);
		} else if (sym == 17) {
			rep = 3 + getbits(s, 3);
		} else {
			rep = 11 + getbits(s, 7);
		}
		if (i + rep > nlen + ndist)
			return dec_fail(b, -EINVAL, "gzip: code lengths overrun the table");
		while (rep--)
			len[i++] = (u8)val;
	}
	if (!len[256])
		return dec_fail(b, -EINVAL, "gzip: no end-of-block code");
	if (huff_build(&lit, len, nlen) || huff_build(&dist, len + nlen, ndist))
		return dec_fail(b, -EINVAL, "gzip: over-subscribed Huffman code");
	return codes(s, &lit, &dist, start);
}

static int inflate(struct dec_buf *b)
{
	struct bits s = { .b = b };
	size_t start = b->out_pos;
	unsigned last;
	int rc;

	do {
		dec_progress(b);
		last = getbits(&s, 1);
		unsigned type = getbits(&s, 2);
		if (s.overrun)
			return dec_fail(b, -EINVAL, "gzip: deflate data truncated");
		if (type == 0) {
			/* Stored: byte-aligned LEN, NLEN, then the bytes. */
			s.buf = 0;
			s.cnt = 0;
			if (b->in_len - b->in_pos < 4)
				return dec_fail(b, -EINVAL, "gzip: stored block truncated");
			u16 n = get_le16(b->in + b->in_pos), nn = get_le16(b->in + b->in_pos + 2);
			b->in_pos += 4;
			if ((u16)(n ^ nn) != 0xFFFF)
				return dec_fail(b, -EINVAL, "gzip: stored block length check fails");
			if (b->in_len - b->in_pos < n)
				return dec_fail(b, -EINVAL, "gzip: stored block truncated");
			if (b->out_cap - b->out_pos < n)
				return dec_fail(b, -E2BIG, "gzip: output larger than %zu bytes", b->out_cap);
			memcpy(b->out + b->out_pos, b->in + b->in_pos, n);
			b->in_pos += n;
			b->out_pos += n;
			rc = 0;
		} else if (type == 1) {
			rc = fixed_block(&s, start);
		} else if (type == 2) {
			rc = dynamic_block(&s, start);
		} else {
			return dec_fail(b, -EINVAL, "gzip: block type 3 is invalid");
		}
		if (rc)
			return rc;
	} while (!last);
	/* Whole bytes still buffered belong to the trailer. */
	b->in_pos -= s.cnt / 8;
	return 0;
}

#define FHCRC    0x02
#define FEXTRA   0x04
#define FNAME    0x08
#define FCOMMENT 0x10

int gzip_decode(struct dec_buf *b)
{
	const u8 *in = b->in;
	size_t start = b->out_pos;
	int rc;

	if (b->in_len < 18 || in[0] != 0x1F || in[1] != 0x8B)
		return dec_fail(b, -EINVAL, "gzip: no gzip header");
	if (in[2] != 8)
		return dec_fail(b, -EOPNOTSUPP, "gzip: compression method %u is not deflate", in[2]);
	u8 flg = in[3];
	if (flg & 0xE0)
		return dec_fail(b, -EOPNOTSUPP, "gzip: reserved flags 0x%02x", flg);
	size_t pos = 10;
	if (flg & FEXTRA) {
		if (b->in_len - pos < 2 || b->in_len - pos - 2 < get_le16(in + pos))
			return dec_fail(b, -EINVAL, "gzip: extra field truncated");
		pos += 2 + get_le16(in + pos);
	}
	for (u8 f = FNAME; f <= FCOMMENT; f <<= 1) {
		if (!(flg & f))
			continue;
		while (pos < b->in_len && in[pos])
			pos++;
		if (pos++ >= b->in_len)
			return dec_fail(b, -EINVAL, "gzip: %s truncated", f == FNAME ? "file name" : "comment");
	}
	if (flg & FHCRC) {
		if (b->in_len - pos < 2 || (crc32_update(0, in, pos) & 0xFFFF) != get_le16(in + pos))
			return dec_fail(b, -EINVAL, "gzip: header CRC mismatch");
		pos += 2;
	}
	b->in_pos = pos;
	if ((rc = inflate(b)))
		return rc;
	if (b->in_len - b->in_pos < 8)
		return dec_fail(b, -EINVAL, "gzip: trailer truncated");
	size_t n = b->out_pos - start;
	if (dec_crc32(b, b->out + start, n) != get_le32(in + b->in_pos))
		return dec_fail(b, -EINVAL, "gzip: CRC32 mismatch (data corrupt)");
	if ((u32)n != get_le32(in + b->in_pos + 4))
		return dec_fail(b, -EINVAL, "gzip: size %zu differs from the trailer's", n);
	b->in_pos += 8;
	return 0;
}
