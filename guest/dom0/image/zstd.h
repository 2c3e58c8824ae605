/*
 * Zstandard frames (RFC 8878), as Linux's bzImage carries its payload
 * with CONFIG_KERNEL_ZSTD (guest/dom0/image/zstd.c).
 *
 * zstd_decode: decodes the frames at b->in one after the other
 * (skippable frames skipped) until the input ends or what follows is not
 * a frame (Linux's appended size: in_pos stops before it). Checks block
 * types and sizes, the literals and sequences sections, every FSE and
 * Huffman table, every match offset against what the frame produced, the
 * frame content size when given and the content checksum (XXH64) when
 * present. -EOPNOTSUPP names a dictionary. Errors as decode.h ("zstd: ").
 */
#ifndef DOM0_IMAGE_ZSTD_H
#define DOM0_IMAGE_ZSTD_H

#include "decode.h"

#define ZSTD_MAGIC 0xFD2FB528u

int zstd_decode(struct dec_buf *b);

#endif
