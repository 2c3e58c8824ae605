/*
 * Kernel file formats and their unpacking (contract in image.h).
 *
 * Magic numbers: ELF "\x7fELF"; xz FD 37 7A 58 5A 00; gzip 1F 8B (RFC
 * 1952); the LZ4 legacy frame 02 21 4C 18 (what Linux's lz4 -l makes);
 * zstd 28 B5 2F FD (RFC 8878); bzip2 "BZh"; LZO "\x89LZO"; and raw
 * lzma, which has no magic: Linux's is "lzma -9" output, 5D 00 00
 * (properties lc=3 lp=0 pb=2 then a dictionary size below 16 MiB). These
 * are the ones Linux's arch/x86/boot/compressed/Makefile can produce.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "bzimage.h"
#include "decode.h"
#include "gzip.h"
#include "image.h"
#include "lz4.h"
#include "xz.h"
#include "zstd.h"

static const char *const fmt_names[] = {
	[IMG_UNKNOWN] = "unknown", [IMG_ELF] = "ELF",   [IMG_XZ] = "xz",
	[IMG_GZIP] = "gzip",       [IMG_LZ4] = "lz4",   [IMG_ZSTD] = "zstd",
	[IMG_BZIP2] = "bzip2",     [IMG_LZMA] = "lzma", [IMG_LZO] = "lzo",
};

const char *image_fmt_name(enum image_fmt f)
{
	return (unsigned)f < sizeof(fmt_names) / sizeof(fmt_names[0]) ? fmt_names[f] : "?";
}

enum image_fmt image_detect(const u8 *p, size_t n)
{
	if (n >= 4 && !memcmp(p, "\x7f" "ELF", 4))
		return IMG_ELF;
	if (n >= XZ_MAGIC_LEN && !memcmp(p, XZ_MAGIC, XZ_MAGIC_LEN))
		return IMG_XZ;
	if (n >= 2 && p[0] == 0x1F && p[1] == 0x8B)
		return IMG_GZIP;
	if (n >= 4 && get_le32(p) == LZ4_LEGACY_MAGIC)
		return IMG_LZ4;
	if (n >= 4 && get_le32(p) == ZSTD_MAGIC)
		return IMG_ZSTD;
	if (n >= 3 && !memcmp(p, "BZh", 3))
		return IMG_BZIP2;
	if (n >= 4 && !memcmp(p, "\x89LZO", 4))
		return IMG_LZO;
	if (n >= 3 && p[0] == 0x5D && p[1] == 0 && p[2] == 0)
		return IMG_LZMA;
	return IMG_UNKNOWN;
}

typedef int (*decoder_fn)(struct dec_buf *b);

static decoder_fn decoder(enum image_fmt f)
{
	switch (f) {
	case IMG_XZ:
		return xz_decode;
	case IMG_GZIP:
		return gzip_decode;
	case IMG_LZ4:
		return lz4_decode;
	case IMG_ZSTD:
		return zstd_decode;
	default:
		return NULL;
	}
}

#define SUPPORTED "xz, gzip, lz4, zstd"

int image_unpack(const u8 *data, size_t size, const struct image_mem *mem,
		 struct image_result *r, char *err, size_t errlen)
{
	struct bzimage bz;
	const u8 *in = data;
	size_t in_len = size, cap;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = bzimage_parse(data, size, &bz, err, errlen);
	if (rc && rc != -ENOENT)
		return rc;
	if (!rc) {
		r->bzimage = true;
		in = data + bz.payload_off;
		in_len = bz.payload_len;
	}
	enum image_fmt f = image_detect(in, in_len);
	r->container = f;
	if (f == IMG_ELF) {
		r->elf = in;
		r->elf_len = in_len;
		return 0;
	}
	const char *what = r->bzimage ? "bzImage payload" : "kernel image";
	decoder_fn fn = decoder(f);
	if (!fn) {
		if (f == IMG_UNKNOWN) {
			snprintf(err, errlen, "%s: neither ELF nor a known compressed format (%s)",
				 what, SUPPORTED);
			return -ENOEXEC;
		}
		snprintf(err, errlen, "%s: %s-compressed, which Keel does not decompress (%s)",
			 what, image_fmt_name(f), SUPPORTED);
		return -EOPNOTSUPP;
	}
	if (r->bzimage) {
		/* Linux appends the decompressed size, 32-bit little-endian,
		 * to every compressed payload (scripts/Makefile.lib,
		 * size_append). */
		cap = in_len >= 4 ? get_le32(in + in_len - 4) : 0;
		if (!cap || cap > IMAGE_MAX) {
			snprintf(err, errlen, "bzImage: decompressed size %zu is 0 or beyond %llu MiB",
				 cap, IMAGE_MAX >> 20);
			return -EINVAL;
		}
	} else {
		cap = in_len > IMAGE_MAX / 32 ? IMAGE_MAX : MAX(in_len * 32, (size_t)1 << 20);
	}
	u8 *out = mem->alloc(mem->ctx, cap);
	/* A bare stream's size is a guess: take what memory there is, down
	 * to 1 MiB (a larger output then fails with the decoder's -E2BIG). */
	while (!out && !r->bzimage && cap > ((size_t)1 << 20)) {
		cap /= 2;
		out = mem->alloc(mem->ctx, cap);
	}
	if (!out) {
		snprintf(err, errlen, "%s: no memory for %zu MiB of decompressed kernel", what,
			 cap >> 20);
		return -ENOMEM;
	}
	struct dec_buf b = { .in = in, .in_len = in_len, .out = out, .out_cap = cap,
			     .err = err, .errlen = errlen, .progress = mem->progress,
			     .progress_ctx = mem->ctx, .progress_at = DEC_PROGRESS_BYTES };
	rc = fn(&b);
	if (!rc && r->bzimage && b.out_pos != cap) {
		snprintf(err, errlen, "bzImage: payload decompressed to %zu bytes, its trailer says %zu",
			 b.out_pos, cap);
		rc = -EINVAL;
	}
	if (!rc && image_detect(out, b.out_pos) != IMG_ELF) {
		snprintf(err, errlen, "%s: decompressed %s data (%zu bytes) is not an ELF", what,
			 image_fmt_name(f), b.out_pos);
		rc = -ENOEXEC;
	}
	if (rc) {
		mem->release(mem->ctx, out, cap);
		return rc;
	}
	r->elf = out;
	r->elf_len = b.out_pos;
	r->owned = out;
	r->owned_len = cap;
	return 0;
}
