/*
 * The checksums the compressed formats carry (guest/dom0/image/crc.c):
 * CRC-32 (ISO-HDLC: reflected polynomial 0xEDB88320, as gzip and XZ use
 * it) and CRC-64 (ECMA-182, reflected 0xC96C5795D7870F42, XZ's
 * "CRC64" check). Pure code. Each takes the running value of the
 * previous call (0 to start) so data can be fed in pieces.
 */
#ifndef DOM0_IMAGE_CRC_H
#define DOM0_IMAGE_CRC_H

#include <lib/types.h>

u32 crc32_update(u32 crc, const void *data, size_t len);
u64 crc64_update(u64 crc, const void *data, size_t len);

struct dec_buf;

/* The whole checksum of [data, data+len) (from 0), a MiB at a time with
 * b's progress calls between (decode.h): a kernel's stream checks tens of
 * MiB at once. */
u32 dec_crc32(struct dec_buf *b, const u8 *data, size_t len);
u64 dec_crc64(struct dec_buf *b, const u8 *data, size_t len);

#endif
