/*
 * LZ4 legacy frames (contract in lz4.h). The block format is the one of
 * lz4's doc/lz4_Block_format.md: sequences of a token (high nibble:
 * literal count, low nibble: match length - 4; 15 means "more bytes
 * follow, each added, until one is not 255"), the literals, a 16-bit
 * little-endian offset (never 0) and the match; the last sequence has
 * literals only. The legacy frame is in doc/lz4_Frame_format.md,
 * "Legacy frame".
 */
#include "lz4.h"

#define LZ4_LEGACY_BLOCK_MAX (8u << 20)
#define MIN_MATCH 4

/* A length continued in 255-steps; false if the input ends first. */
static bool more_len(const u8 *in, size_t end, size_t *pos, size_t *len)
{
	u8 c;

	do {
		if (*pos >= end)
			return false;
		c = in[(*pos)++];
		*len += c;
	} while (c == 255);
	return true;
}

static int block(struct dec_buf *b, size_t end, unsigned n)
{
	const u8 *in = b->in;
	size_t pos = b->in_pos, start = b->out_pos;

	for (;;) {
		dec_progress(b); /* legacy blocks are up to 8 MiB of output */
		if (pos >= end)
			return dec_fail(b, -EINVAL, "lz4: block %u ends inside a sequence", n);
		u8 token = in[pos++];
		size_t lit = token >> 4, mlen = (token & 15) + MIN_MATCH;
		if (lit == 15 && !more_len(in, end, &pos, &lit))
			return dec_fail(b, -EINVAL, "lz4: block %u: literal length truncated", n);
		if (lit > end - pos)
			return dec_fail(b, -EINVAL, "lz4: block %u: literals run past the block", n);
		if (lit > b->out_cap - b->out_pos)
			return dec_fail(b, -E2BIG, "lz4: output larger than %zu bytes", b->out_cap);
		memcpy(b->out + b->out_pos, in + pos, lit);
		pos += lit;
		b->out_pos += lit;
		if (pos == end)
			break; /* the last sequence: literals only */
		if (end - pos < 2)
			return dec_fail(b, -EINVAL, "lz4: block %u: offset truncated", n);
		size_t off = get_le16(in + pos);
		pos += 2;
		if (!off || off > b->out_pos - start)
			return dec_fail(b, -EINVAL, "lz4: block %u: offset %zu outside the block's output",
					n, off);
		if ((token & 15) == 15 && !more_len(in, end, &pos, &mlen))
			return dec_fail(b, -EINVAL, "lz4: block %u: match length truncated", n);
		if (mlen > b->out_cap - b->out_pos)
			return dec_fail(b, -E2BIG, "lz4: output larger than %zu bytes", b->out_cap);
		/* Byte by byte: a match may overlap what it produces. */
		for (size_t i = 0; i < mlen; i++, b->out_pos++)
			b->out[b->out_pos] = b->out[b->out_pos - off];
	}
	if (b->out_pos - start > LZ4_LEGACY_BLOCK_MAX)
		return dec_fail(b, -EINVAL, "lz4: block %u decodes to more than 8 MiB", n);
	b->in_pos = end;
	return 0;
}

int lz4_decode(struct dec_buf *b)
{
	unsigned n = 0;
	int rc;

	if (b->in_len < 4 || get_le32(b->in) != LZ4_LEGACY_MAGIC)
		return dec_fail(b, -EINVAL, "lz4: no legacy frame magic");
	b->in_pos = 4;
	while (b->in_len - b->in_pos >= 4) {
		dec_progress(b);
		size_t left = b->in_len - b->in_pos;
		u32 size = get_le32(b->in + b->in_pos);
		if (size == LZ4_LEGACY_MAGIC) {
			b->in_pos += 4;
			continue;
		}
		if (left == 4 && n)
			break; /* Linux's appended size */
		b->in_pos += 4;
		if (!size || size > left - 4)
			return dec_fail(b, -EINVAL, "lz4: block %u: size %u exceeds the input", n, size);
		if ((rc = block(b, b->in_pos + size, n)))
			return rc;
		n++;
	}
	if (!n)
		return dec_fail(b, -EINVAL, "lz4: no block");
	return 0;
}
