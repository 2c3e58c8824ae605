/*
 * The lz4 decoder dom0 runs on kernel files (guest/dom0/image/lz4.c,
 * docs/images.md): any bytes, as an admin's file or a hostile one. The
 * input and the invariants: fuzz_decoder.h.
 *
 * unit-sources: guest/dom0/image/lz4.c guest/dom0/image/decode.c lib/format.c lib/string.c
 */
#include "../../guest/dom0/image/lz4.h"

#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	fuzz_decoder(lz4_decode, "lz4", data, size);
	return 0;
}
