/*
 * The .xz container (guest/dom0/image/xz.c), as Linux's bzImage carries
 * its payload with CONFIG_KERNEL_XZ (Debian's kernel): one stream of
 * blocks, each filtered by LZMA2 with an optional x86 BCJ filter before
 * it, checked with CRC32, CRC64 or nothing as the stream header says.
 *
 * xz_decode: decodes the first stream at b->in (stream padding and any
 * bytes after the stream footer are left alone: in_pos says where the
 * stream ended; Linux appends the output size there). Checks the header
 * and footer CRCs, each block header's CRC, sizes declared in block
 * headers, the integrity check of every block, and the index against
 * the blocks decoded. -EOPNOTSUPP names what is valid XZ but not
 * supported here: SHA-256 and reserved check types, filters other than
 * LZMA2 and x86 BCJ. Errors otherwise as decode.h ("xz: ..." lines).
 */
#ifndef DOM0_IMAGE_XZ_H
#define DOM0_IMAGE_XZ_H

#include "decode.h"

#define XZ_MAGIC "\xfd" "7zXZ\0"
#define XZ_MAGIC_LEN 6

int xz_decode(struct dec_buf *b);

#endif
