/*
 * What every decompressor in guest/dom0/image/ shares: one-shot decoding
 * of a whole compressed stream in memory into a caller's buffer (the
 * output is also the LZ window, so no dictionary is allocated). Pure
 * code: compiled into dom0 and, for the unit tests and fuzzers, on the
 * host.
 *
 * Every decoder returns 0, or a negative errno with one line in the
 * caller's `err` that names the format and the cause:
 *   -EINVAL      corrupt or truncated input ("xz: block 0: CRC32 mismatch")
 *   -EOPNOTSUPP  a valid feature this decoder does not implement
 *   -E2BIG       the output would exceed the buffer
 * Nothing is read outside [in, in + in_len) nor written outside
 * [out, out + out_cap), whatever the input.
 */
#ifndef DOM0_IMAGE_DECODE_H
#define DOM0_IMAGE_DECODE_H

#include <lib/errno.h>
#include <lib/string.h>
#include <lib/types.h>

struct dec_buf {
	const u8 *in;
	size_t in_len, in_pos; /* in_pos: bytes consumed */
	u8 *out;
	size_t out_cap, out_pos; /* out_pos: bytes produced */
	char *err;
	size_t errlen;
	/* Optional: called between blocks about every DEC_PROGRESS_BYTES of
	 * output (dom0 runs its event loop there, so unpacking a large
	 * kernel does not hold up every other service); it must not touch
	 * the buffers. */
	void (*progress)(void *ctx);
	void *progress_ctx;
	size_t progress_at;
};

#define DEC_PROGRESS_BYTES (1u << 20)

/* Calls b->progress if set and another DEC_PROGRESS_BYTES came out. */
static inline void dec_progress(struct dec_buf *b)
{
	if (b->progress && b->out_pos >= b->progress_at) {
		b->progress_at = b->out_pos + DEC_PROGRESS_BYTES;
		b->progress(b->progress_ctx);
	}
}

/* Formats one error line into b->err; returns rc (for `return
 * dec_fail(b, -EINVAL, ...)`). */
int dec_fail(struct dec_buf *b, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static inline u32 get_le32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static inline u16 get_le16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static inline u64 get_le64(const u8 *p)
{
	return get_le32(p) | (u64)get_le32(p + 4) << 32;
}

#endif
