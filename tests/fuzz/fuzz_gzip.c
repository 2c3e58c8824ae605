/*
 * The gzip decoder dom0 runs on kernel files (guest/dom0/image/gzip.c,
 * docs/images.md): any bytes, as an admin's file or a hostile one. The
 * input and the invariants: fuzz_decoder.h.
 *
 * unit-sources: guest/dom0/image/gzip.c guest/dom0/image/crc.c guest/dom0/image/decode.c lib/format.c lib/string.c
 */
#include "../../guest/dom0/image/gzip.h"

#include "fuzz_decoder.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	fuzz_decoder(gzip_decode, "gzip", data, size);
	return 0;
}
