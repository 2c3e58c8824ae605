/*
 * The setup header of Linux's x86 boot protocol (contract in bzimage.h).
 * Offsets are those of Documentation/arch/x86/boot.rst, "The real-mode
 * kernel header": setup_sects at 0x1F1, boot_flag 0xAA55 at 0x1FE, the
 * "HdrS" magic at 0x202, version at 0x206, init_size at 0x260, and from
 * protocol 2.08 payload_offset and payload_length at 0x248 and 0x24C.
 * The protected-mode kernel starts after the boot sector and the setup
 * sectors, (setup_sects + 1) * 512 bytes in, and payload_offset counts
 * from there.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "bzimage.h"
#include "decode.h"

#define OFF_SETUP_SECTS 0x1F1
#define OFF_BOOT_FLAG   0x1FE
#define OFF_HEADER      0x202
#define OFF_VERSION     0x206
#define OFF_PAYLOAD_OFF 0x248
#define OFF_PAYLOAD_LEN 0x24C
#define OFF_INIT_SIZE   0x260
#define HDR_END         0x264 /* through init_size */

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -EINVAL;                     \
	} while (0)

int bzimage_parse(const u8 *data, size_t size, struct bzimage *bz, char *err, size_t errlen)
{
	memset(bz, 0, sizeof(*bz));
	if (size < OFF_HEADER + 4 || memcmp(data + OFF_HEADER, "HdrS", 4))
		return -ENOENT;
	if (size < HDR_END)
		FAIL("bzImage: setup header truncated (file is 0x%zx bytes, needs 0x%x)", size,
		     HDR_END);
	if (get_le16(data + OFF_BOOT_FLAG) != 0xAA55)
		FAIL("bzImage: boot flag 0x%04x is not 0xAA55", get_le16(data + OFF_BOOT_FLAG));
	bz->version = get_le16(data + OFF_VERSION);
	if (bz->version < 0x208)
		FAIL("bzImage: boot protocol %u.%02u is older than 2.08 (no payload fields)",
		     bz->version >> 8, bz->version & 0xFF);
	/* 0 means 4, for the oldest kernels (boot.rst). */
	bz->setup_sects = data[OFF_SETUP_SECTS] ? data[OFF_SETUP_SECTS] : 4;
	size_t pm = ((size_t)bz->setup_sects + 1) * 512;
	if (pm > size)
		FAIL("bzImage: %u setup sectors end past the end of the file (0x%zx bytes)",
		     bz->setup_sects, size);
	u32 off = get_le32(data + OFF_PAYLOAD_OFF), len = get_le32(data + OFF_PAYLOAD_LEN);
	if (!len)
		FAIL("bzImage: payload length is 0");
	if (off > size - pm || len > size - pm - off)
		FAIL("bzImage: payload 0x%x+0x%x ends past the end of the file (0x%zx bytes)", off,
		     len, size);
	bz->payload_off = pm + off;
	bz->payload_len = len;
	bz->init_size = get_le32(data + OFF_INIT_SIZE);
	return 0;
}
