/* Multiboot2 information structures (Multiboot2 specification 3.6). */
#ifndef MB2_H
#define MB2_H

#include <lib/types.h>

enum {
	MB2_TAG_END = 0,
	MB2_TAG_CMDLINE = 1,
	MB2_TAG_MODULE = 3,
	MB2_TAG_MMAP = 6,
	MB2_TAG_FRAMEBUFFER = 8,
	MB2_TAG_ACPI_OLD = 14,
	MB2_TAG_ACPI_NEW = 15,
};

struct mb2_tag {
	u32 type;
	u32 size;
};

struct mb2_tag_string {
	u32 type, size;
	char string[];
};

struct mb2_tag_module {
	u32 type, size;
	u32 mod_start, mod_end;
	char string[];
};

struct mb2_mmap_entry {
	u64 addr, len;
	u32 type, zero;
};

struct mb2_tag_mmap {
	u32 type, size;
	u32 entry_size, entry_version;
	struct mb2_mmap_entry entries[];
};

struct mb2_tag_framebuffer {
	u32 type, size;
	u64 addr;
	u32 pitch, width, height;
	u8 bpp, fb_type;
	u16 reserved;
};

#endif
