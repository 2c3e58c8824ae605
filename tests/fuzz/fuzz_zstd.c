/*
 * The zstd decoder dom0 runs on kernel files (guest/dom0/image/zstd.c,
 * docs/images.md): any bytes, as an admin's file or a hostile one. The
 * input and the invariants: fuzz_decoder.h.
 *
 * unit-sources: guest/dom0/image/zstd.c guest/dom0/image/decode.c lib/format.c lib/string.c
 */
#include "../../guest/dom0/image/zstd.h"

#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	fuzz_decoder(zstd_decode, "zstd", data, size);
	return 0;
}
