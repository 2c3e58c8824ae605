/*
 * The zstd decoder dom0 runs on kernel files (guest/dom0/image/zstd.c,
 * docs/images.md): any bytes, as an admin's file or a hostile one.
 *
 * unit-sources: guest/dom0/image/zstd.c guest/dom0/image/decode.c lib/format.c lib/string.c
 *
 * Input: the compressed bytes, as is (libFuzzer's own buffer, so a read
 * past its end is an ASan report); the output buffer is exactly 64 KiB
 * from malloc, so a write past it is one too. Invariants: the decoder
 * returns 0, -EINVAL, -EOPNOTSUPP or -E2BIG; on success it consumed no
 * more than the input and produced no more than the buffer; on an error
 * the message starts with "zstd: ".
 */
#include <lib/errno.h>
#include "../../guest/dom0/image/zstd.h"

#include "fuzz.h"

#define OUT_CAP (64 * 1024)

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static char err[200];
	u8 *out = malloc(OUT_CAP);
	struct dec_buf b = { .in = data, .in_len = size, .out = out, .out_cap = OUT_CAP,
			     .err = err, .errlen = sizeof(err) };

	err[0] = 0;
	int rc = zstd_decode(&b);
	fuzz_check(rc == 0 || rc == -EINVAL || rc == -EOPNOTSUPP || rc == -E2BIG,
		   "zstd_decode returned %d", rc);
	fuzz_check(b.in_pos <= size && b.out_pos <= OUT_CAP, "positions %zu/%zu, %zu/%d",
		   b.in_pos, size, b.out_pos, OUT_CAP);
	if (rc)
		fuzz_check(!strncmp(err, "zstd: ", sizeof("zstd: ") - 1), "message '%s'", err);
	free(out);
	return 0;
}
