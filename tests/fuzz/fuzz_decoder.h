/*
 * The check every kernel-file decoder harness makes (fuzz_xz.c, fuzz_gzip.c,
 * fuzz_lz4.c, fuzz_zstd.c; the decoders: guest/dom0/image/, docs/images.md).
 *
 * Input: the compressed bytes, as is (libFuzzer's own buffer, so a read
 * past its end is an ASan report); the output buffer is exactly 64 KiB
 * from malloc, so a write past it is one too. Invariants: the decoder
 * returns 0, -EINVAL, -EOPNOTSUPP or -E2BIG; on success it consumed no
 * more than the input and produced no more than the buffer; on an error
 * the message starts with the decoder's name and ": ".
 */
#ifndef FUZZ_DECODER_H
#define FUZZ_DECODER_H

#include <lib/errno.h>
#include "../../guest/dom0/image/decode.h"

#include "fuzz.h"

#define FUZZ_DECODER_OUT_CAP (64 * 1024)

static inline void fuzz_decoder(int (*decode)(struct dec_buf *), const char *name,
				const u8 *data, size_t size)
{
	static char err[200];
	char prefix[16];
	u8 *out = malloc(FUZZ_DECODER_OUT_CAP);
	struct dec_buf b = { .in = data, .in_len = size, .out = out,
			     .out_cap = FUZZ_DECODER_OUT_CAP, .err = err, .errlen = sizeof(err) };

	err[0] = 0;
	int rc = decode(&b);
	fuzz_check(rc == 0 || rc == -EINVAL || rc == -EOPNOTSUPP || rc == -E2BIG,
		   "%s decoder returned %d", name, rc);
	fuzz_check(b.in_pos <= size && b.out_pos <= FUZZ_DECODER_OUT_CAP, "positions %zu/%zu, %zu/%d",
		   b.in_pos, size, b.out_pos, FUZZ_DECODER_OUT_CAP);
	snprintf(prefix, sizeof(prefix), "%s: ", name);
	if (rc)
		fuzz_check(!strncmp(err, prefix, strlen(prefix)), "message '%s'", err);
	free(out);
}

#endif
