/*
 * The .xz container (contract in xz.h), following "The .xz File Format"
 * 1.1.0 (tukaani.org/xz/xz-file-format.txt): stream header (section
 * 2.1.1), blocks (3), index (4), stream footer (2.1.2). The x86 BCJ
 * filter is described in the same document's section 5.3.2 and its
 * algorithm is the one of the LZMA SDK's Bra86.c.
 */
#include "crc.h"
#include "lzma2.h"
#include "xz.h"

#define XZ_FILTER_X86   0x04
#define XZ_FILTER_LZMA2 0x21
#define XZ_CHECK_NONE  0x00
#define XZ_CHECK_CRC32 0x01
#define XZ_CHECK_CRC64 0x04
#define XZ_CHECK_SHA256 0x0A

/* A variable-length integer (section 1.2): 7 bits per byte, low first,
 * at most 9 bytes, no needless trailing zero byte. */
static int get_vli(const u8 *p, size_t len, size_t *pos, u64 *val)
{
	*val = 0;
	for (unsigned i = 0; i < 9; i++) {
		if (*pos >= len)
			return -1;
		u8 c = p[(*pos)++];
		*val |= (u64)(c & 0x7F) << (7 * i);
		if (!(c & 0x80))
			return (c == 0 && i) ? -1 : 0;
	}
	return -1;
}

/* Check sizes by type (section 2.1.1.2): 0, then 4, 8, 16, 32, 64 bytes
 * for each group of three IDs. */
static size_t check_size(unsigned type)
{
	return type == 0 ? 0 : 4u << ((type - 1) / 3);
}

static bool msbyte_ok(u8 b)
{
	return b == 0 || b == 0xFF;
}

/*
 * The x86 BCJ decoder over a whole block's output: E8/E9 (CALL/JMP
 * rel32) operands were turned from relative into absolute addresses by
 * the encoder so that repeated targets compress; turn them back. `pos`
 * is the stream position of buf[0] (the filter's start offset). The
 * mask tracks E8/E9 bytes seen in the last three positions so that a
 * byte inside a converted operand is not taken for an opcode, as the
 * encoder did.
 */
static void bcj_x86(u8 *buf, size_t size, u32 pos)
{
	static const bool allowed[8] = { true, true, true, false, true, false, false, false };
	static const u8 bit_num[8] = { 0, 1, 2, 2, 3, 3, 3, 3 };
	size_t prev_pos = (size_t)-1;
	u32 prev_mask = 0;

	if (size <= 4)
		return;
	size -= 4;
	for (size_t i = 0; i < size; i++) {
		if ((buf[i] & 0xFE) != 0xE8)
			continue;
		prev_pos = i - prev_pos;
		if (prev_pos > 3) {
			prev_mask = 0;
		} else {
			prev_mask = (prev_mask << (prev_pos - 1)) & 7;
			if (prev_mask && (!allowed[prev_mask] ||
					  msbyte_ok(buf[i + 4 - bit_num[prev_mask]]))) {
				prev_pos = i;
				prev_mask = (prev_mask << 1) | 1;
				continue;
			}
		}
		prev_pos = i;
		if (!msbyte_ok(buf[i + 4])) {
			prev_mask = (prev_mask << 1) | 1;
			continue;
		}
		u32 src = get_le32(buf + i + 1), dest;
		for (;;) {
			dest = src - (pos + (u32)i + 5);
			if (!prev_mask)
				break;
			unsigned j = bit_num[prev_mask] * 8;
			if (!msbyte_ok((u8)(dest >> (24 - j))))
				break;
			src = dest ^ ((1u << (32 - j)) - 1);
		}
		dest &= 0x01FFFFFF;
		dest |= 0u - (dest & 0x01000000);
		buf[i + 1] = (u8)dest;
		buf[i + 2] = (u8)(dest >> 8);
		buf[i + 3] = (u8)(dest >> 16);
		buf[i + 4] = (u8)(dest >> 24);
		i += 4;
	}
}

struct xz_totals {
	u64 blocks, unpadded, uncompressed;
};

/* One block (section 3) at b->in_pos; adds its sizes to t. */
static int block(struct dec_buf *b, unsigned check, unsigned n, struct xz_totals *t)
{
	const u8 *in = b->in;
	size_t start = b->in_pos, hsize = ((size_t)in[start] + 1) * 4, pos = start + 2;
	u64 csize = 0, usize = 0, id, plen;
	bool has_x86 = false;
	u32 x86_start = 0;
	int rc;

	if (b->in_len - start < hsize)
		return dec_fail(b, -EINVAL, "xz: block %u: header truncated", n);
	if (crc32_update(0, in + start, hsize - 4) != get_le32(in + start + hsize - 4))
		return dec_fail(b, -EINVAL, "xz: block %u: header CRC32 mismatch", n);
	u8 flags = in[start + 1];
	unsigned nfilters = (flags & 3) + 1;
	if (flags & 0x3C)
		return dec_fail(b, -EOPNOTSUPP, "xz: block %u: reserved header flags 0x%02x", n,
				flags);
	size_t hend = start + hsize - 4;
	if (((flags & 0x40) && get_vli(in, hend, &pos, &csize)) ||
	    ((flags & 0x80) && get_vli(in, hend, &pos, &usize)))
		return dec_fail(b, -EINVAL, "xz: block %u: bad size in header", n);
	for (unsigned f = 0; f < nfilters; f++) {
		if (get_vli(in, hend, &pos, &id) || get_vli(in, hend, &pos, &plen) ||
		    plen > hend - pos)
			return dec_fail(b, -EINVAL, "xz: block %u: bad filter %u in header", n, f);
		bool last = f == nfilters - 1;
		if (id == XZ_FILTER_LZMA2 && last) {
			/* The dictionary size (one byte, <= 40) only bounds
			 * the encoder here: the whole output is the window. */
			if (plen != 1 || in[pos] > 40)
				return dec_fail(b, -EINVAL, "xz: block %u: bad LZMA2 properties", n);
		} else if (id == XZ_FILTER_X86 && !last && !has_x86) {
			if (plen == 4)
				x86_start = get_le32(in + pos);
			else if (plen != 0)
				return dec_fail(b, -EINVAL, "xz: block %u: bad x86 filter properties",
						n);
			has_x86 = true;
		} else if (last) {
			return dec_fail(b, -EOPNOTSUPP, "xz: block %u: last filter 0x%lx is not LZMA2",
					n, (unsigned long)id);
		} else {
			return dec_fail(b, -EOPNOTSUPP,
					"xz: block %u: filter 0x%lx not supported (only x86 BCJ and LZMA2)",
					n, (unsigned long)id);
		}
		pos += plen;
	}
	for (; pos < hend; pos++)
		if (in[pos])
			return dec_fail(b, -EINVAL, "xz: block %u: header padding is not zero", n);

	size_t data = start + hsize, out0 = b->out_pos;
	b->in_pos = data;
	if ((rc = lzma2_decode(b)))
		return rc;
	u64 got_c = b->in_pos - data, got_u = b->out_pos - out0;
	if (((flags & 0x40) && got_c != csize) || ((flags & 0x80) && got_u != usize))
		return dec_fail(b, -EINVAL, "xz: block %u: sizes differ from its header", n);
	if (has_x86)
		bcj_x86(b->out + out0, got_u, x86_start);
	/* Block padding to a multiple of four, zeros. */
	while ((b->in_pos - start) & 3) {
		if (b->in_pos >= b->in_len || in[b->in_pos])
			return dec_fail(b, -EINVAL, "xz: block %u: bad padding", n);
		b->in_pos++;
	}
	size_t csz = check_size(check);
	if (b->in_len - b->in_pos < csz)
		return dec_fail(b, -EINVAL, "xz: block %u: check truncated", n);
	const u8 *want = in + b->in_pos;
	if (check == XZ_CHECK_CRC32 && dec_crc32(b, b->out + out0, got_u) != get_le32(want))
		return dec_fail(b, -EINVAL, "xz: block %u: CRC32 mismatch (data corrupt)", n);
	if (check == XZ_CHECK_CRC64 && dec_crc64(b, b->out + out0, got_u) != get_le64(want))
		return dec_fail(b, -EINVAL, "xz: block %u: CRC64 mismatch (data corrupt)", n);
	b->in_pos += csz;
	t->blocks++;
	t->unpadded += hsize + got_c + csz;
	t->uncompressed += got_u;
	return 0;
}

/* The index (section 4) at b->in_pos: records must match the blocks
 * (their count and summed sizes). Returns its size in *isize. */
static int read_index(struct dec_buf *b, const struct xz_totals *t, size_t *isize)
{
	const u8 *in = b->in;
	size_t start = b->in_pos, pos = start + 1;
	u64 nrec, unpadded = 0, uncompressed = 0, u, c;

	if (get_vli(in, b->in_len, &pos, &nrec) || nrec != t->blocks)
		return dec_fail(b, -EINVAL, "xz: index: record count differs from the %lu blocks",
				(unsigned long)t->blocks);
	for (u64 i = 0; i < nrec; i++) {
		if (get_vli(in, b->in_len, &pos, &u) || get_vli(in, b->in_len, &pos, &c))
			return dec_fail(b, -EINVAL, "xz: index: record %lu truncated", (unsigned long)i);
		unpadded += u;
		uncompressed += c;
	}
	if (unpadded != t->unpadded || uncompressed != t->uncompressed)
		return dec_fail(b, -EINVAL, "xz: index: sizes differ from the blocks decoded");
	while ((pos - start) & 3) {
		if (pos >= b->in_len || in[pos])
			return dec_fail(b, -EINVAL, "xz: index: bad padding");
		pos++;
	}
	if (b->in_len - pos < 4 || crc32_update(0, in + start, pos - start) != get_le32(in + pos))
		return dec_fail(b, -EINVAL, "xz: index: CRC32 mismatch or truncated");
	pos += 4;
	*isize = pos - start;
	b->in_pos = pos;
	return 0;
}

int xz_decode(struct dec_buf *b)
{
	const u8 *in = b->in;
	struct xz_totals t = { 0 };
	size_t isize = 0;
	int rc;

	if (b->in_len < 12 || memcmp(in, XZ_MAGIC, XZ_MAGIC_LEN))
		return dec_fail(b, -EINVAL, "xz: no stream header");
	if (crc32_update(0, in + 6, 2) != get_le32(in + 8))
		return dec_fail(b, -EINVAL, "xz: stream header CRC32 mismatch");
	if (in[6] || (in[7] & 0xF0))
		return dec_fail(b, -EOPNOTSUPP, "xz: reserved stream flags 0x%02x%02x", in[6], in[7]);
	unsigned check = in[7];
	if (check != XZ_CHECK_NONE && check != XZ_CHECK_CRC32 && check != XZ_CHECK_CRC64)
		return dec_fail(b, -EOPNOTSUPP, "xz: check type %u%s not supported (CRC32, CRC64, none)",
				check, check == XZ_CHECK_SHA256 ? " (SHA-256)" : "");
	b->in_pos = 12;
	for (;;) {
		if (b->in_pos >= b->in_len)
			return dec_fail(b, -EINVAL, "xz: stream truncated after %lu blocks",
					(unsigned long)t.blocks);
		if (in[b->in_pos] == 0)
			break; /* index indicator */
		if (t.blocks >= 1u << 20)
			return dec_fail(b, -EINVAL, "xz: more than %u blocks", 1u << 20);
		if ((rc = block(b, check, (unsigned)t.blocks, &t)))
			return rc;
	}
	if ((rc = read_index(b, &t, &isize)))
		return rc;
	const u8 *f = in + b->in_pos;
	if (b->in_len - b->in_pos < 12 || memcmp(f + 10, "YZ", 2))
		return dec_fail(b, -EINVAL, "xz: stream footer missing");
	if (crc32_update(0, f + 4, 6) != get_le32(f))
		return dec_fail(b, -EINVAL, "xz: stream footer CRC32 mismatch");
	if (((u64)get_le32(f + 4) + 1) * 4 != isize || f[8] != in[6] || f[9] != in[7])
		return dec_fail(b, -EINVAL, "xz: stream footer does not match header and index");
	b->in_pos += 12;
	return 0;
}
