/*
 * The LZ4 legacy frame (guest/dom0/image/lz4.c), what `lz4 -l` writes
 * and Linux's bzImage carries with CONFIG_KERNEL_LZ4: the magic
 * 0x184C2102, then blocks, each a 32-bit little-endian compressed size
 * and an LZ4 block of at most 8 MiB of output, independent of the others.
 *
 * lz4_decode: decodes blocks until the input ends. A repeated magic
 * starts another frame. Exactly four bytes left over are taken for
 * Linux's appended size (left unread: in_pos stops before them). The
 * format has no checksum: only the structure is checked (sizes, every
 * offset within the block's output). Errors as decode.h ("lz4: ...").
 */
#ifndef DOM0_IMAGE_LZ4_H
#define DOM0_IMAGE_LZ4_H

#include "decode.h"

#define LZ4_LEGACY_MAGIC 0x184C2102u

int lz4_decode(struct dec_buf *b);

#endif
