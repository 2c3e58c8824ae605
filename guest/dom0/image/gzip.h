/*
 * gzip (RFC 1952) around DEFLATE (RFC 1951), as Linux's bzImage carries
 * its payload with CONFIG_KERNEL_GZIP (guest/dom0/image/gzip.c).
 *
 * gzip_decode: decodes the first gzip member at b->in: header (FEXTRA,
 * FNAME, FCOMMENT and FHCRC skipped and checked), the DEFLATE stream
 * (stored, fixed and dynamic Huffman blocks), then the trailer's CRC32
 * and ISIZE against the output. Bytes after the member are left alone.
 * Errors as decode.h ("gzip: ..." lines); -EOPNOTSUPP for a compression
 * method other than 8 (deflate) or reserved flags.
 */
#ifndef DOM0_IMAGE_GZIP_H
#define DOM0_IMAGE_GZIP_H

#include "decode.h"

int gzip_decode(struct dec_buf *b);

#endif
