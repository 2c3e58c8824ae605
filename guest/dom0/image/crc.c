/*
 * CRC-32 and CRC-64 by byte-wise tables (contract in crc.h). The tables
 * are built on first use: 4 KiB of code-free constants beat 3 KiB of
 * literals, and a kernel image is checked once per launch, so the
 * one-byte-at-a-time loop is fast enough (tens of MB/s even under TCG).
 */
#include "crc.h"
#include "decode.h"

static u32 crc32_table[256];
static u64 crc64_table[256];
static bool tables_ready;

static void make_tables(void)
{
	for (u32 i = 0; i < 256; i++) {
		u32 c = i;
		u64 d = i;
		for (int k = 0; k < 8; k++) {
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
			d = (d >> 1) ^ (0xC96C5795D7870F42ull & (0ull - (d & 1)));
		}
		crc32_table[i] = c;
		crc64_table[i] = d;
	}
	tables_ready = true;
}

u32 crc32_update(u32 crc, const void *data, size_t len)
{
	const u8 *p = data;

	if (!tables_ready)
		make_tables();
	crc = ~crc;
	while (len--)
		crc = crc32_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

u64 crc64_update(u64 crc, const void *data, size_t len)
{
	const u8 *p = data;

	if (!tables_ready)
		make_tables();
	crc = ~crc;
	while (len--)
		crc = crc64_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* CRC-64 when wide, else CRC-32, a MiB at a time with progress calls. */
static u64 dec_crc(struct dec_buf *b, const u8 *data, size_t len, bool wide)
{
	u64 crc = 0;

	for (size_t done = 0, k; done < len; done += k) {
		k = MIN(len - done, (size_t)DEC_PROGRESS_BYTES);
		crc = wide ? crc64_update(crc, data + done, k)
			   : crc32_update((u32)crc, data + done, k);
		if (b->progress)
			b->progress(b->progress_ctx);
	}
	return crc;
}

u32 dec_crc32(struct dec_buf *b, const u8 *data, size_t len)
{
	return (u32)dec_crc(b, data, len, false);
}

u64 dec_crc64(struct dec_buf *b, const u8 *data, size_t len)
{
	return dec_crc(b, data, len, true);
}
