/*
 * Linux's bzImage (guest/dom0/image/bzimage.c): the x86 boot protocol's
 * setup header (Documentation/arch/x86/boot.rst in Linux) locates the
 * compressed kernel inside the file, as xl's loader finds it.
 *
 * bzimage_parse: true-or-error for `data` being a bzImage: 0 with the
 * payload's place when it is one; -ENOENT (err untouched) when the file
 * has no "HdrS" setup header at all (not a bzImage: the caller tries
 * other formats); -EINVAL with one line in err when it claims to be one
 * but a field is out of bounds ("bzImage: payload 0x2cc+0x7befe4 ends
 * past the end of the file (0x7d9000 bytes)") or the protocol is older
 * than 2.08 (no payload fields).
 */
#ifndef DOM0_IMAGE_BZIMAGE_H
#define DOM0_IMAGE_BZIMAGE_H

#include <lib/types.h>

struct bzimage {
	u16 version;       /* boot protocol, e.g. 0x20f */
	unsigned setup_sects;
	size_t payload_off; /* from the start of the file */
	size_t payload_len;
	u32 init_size;     /* memory the kernel needs to decompress itself */
};

int bzimage_parse(const u8 *data, size_t size, struct bzimage *bz, char *err, size_t errlen);

#endif
