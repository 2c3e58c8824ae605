/*
 * Converts the multiboot2 boot information (Multiboot2 spec, section 3.6)
 * into struct boot_info. Runs in 64-bit mode on the trampoline's stack,
 * before anything else in the hypervisor: no printk here, and errors are
 * left for kernel_main to report (an empty memory map, say).
 *
 * Only total_size is believed: every tag must lie inside it and every
 * field read must lie inside its tag, strings included (a tag's string
 * need not be NUL-terminated inside the tag). A tag that breaks this ends
 * the walk, as the end tag would. Found by tests/fuzz/fuzz_mb2.c: a tag
 * size near 4 GiB wrapped the offset to the same tag forever, and
 * unterminated strings were read past the structure.
 */
#include <keel/boot_info.h>
#include <lib/string.h>

#include "mb2.h"

static struct boot_info mb2_boot_info;

#define MB2_RSDP_V1_SIZE 20
#define MB2_RSDP_V2_SIZE 36

/* Copies the string of at most `max` bytes at src (it ends at a NUL or
 * after max bytes) into dst of `size` bytes, cut and NUL-terminated. */
static void copy_string(char *dst, size_t size, const char *src, size_t max)
{
	size_t n = 0;

	while (n < max && src[n] && n + 1 < size) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = 0;
}

static void add_module(struct boot_info *bi, const struct mb2_tag_module *m)
{
	if (m->size < sizeof(*m))
		return; /* no room for mod_start/mod_end */
	if (bi->nr_modules >= BOOT_MODULES_MAX) {
		bi->nr_modules++; /* kernel_main reports the overflow */
		return;
	}
	struct boot_module *mod = &bi->modules[bi->nr_modules++];
	mod->base = m->mod_start;
	mod->len = m->mod_end - m->mod_start;

	/* GRUB passes "module2 PATH NAME CMDLINE" as the string "NAME CMDLINE". */
	const char *s = m->string, *end = (const char *)m + m->size;
	size_t i = 0;
	while (s < end && *s == ' ')
		s++;
	while (s < end && *s && *s != ' ' && i < BOOT_NAME_MAX - 1)
		mod->name[i++] = *s++;
	mod->name[i] = 0;
	while (s < end && *s && *s != ' ') /* overlong name: kernel_main sees it cut */
		s++;
	while (s < end && *s == ' ')
		s++;
	copy_string(mod->cmdline, sizeof(mod->cmdline), s, (size_t)(end - s));
}

static void add_mmap(struct boot_info *bi, const struct mb2_tag_mmap *t)
{
	const u8 *p = (const u8 *)t->entries;
	const u8 *end = (const u8 *)t + t->size;

	/* Entries are at least the 24 bytes of struct mb2_mmap_entry (a
	 * later version may make them longer) and a multiple of 8 (spec
	 * 3.6.8), which keeps each one aligned. */
	if (t->size < sizeof(*t) || t->entry_size < sizeof(struct mb2_mmap_entry) ||
	    t->entry_size % 8)
		return;
	for (; p + t->entry_size <= end; p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;
		if (bi->nr_mmap >= BOOT_MMAP_MAX)
			return;
		struct boot_mem_range *r = &bi->mmap[bi->nr_mmap++];
		r->base = e->addr;
		r->len = e->len;
		/* Multiboot2 uses the E820 numbering (1 RAM, 3 ACPI, 4 NVS, 5 bad). */
		r->type = (e->type >= 1 && e->type <= 5) ? e->type : BOOT_MEM_RESERVED;
	}
}

struct boot_info *mb2_to_boot_info(u32 info_pa);
struct boot_info *mb2_to_boot_info(u32 info_pa)
{
	struct boot_info *bi = &mb2_boot_info;
	const u8 *info = (const u8 *)(uintptr_t)info_pa;
	u32 total = *(const u32 *)info;

	memset(bi, 0, sizeof(*bi));
	bi->magic = BOOT_INFO_MAGIC;
	bi->version = BOOT_INFO_VERSION;
	strlcpy(bi->loader, "multiboot2", sizeof(bi->loader));

	for (u64 off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *tag = (const void *)(info + off);
		if (tag->type == MB2_TAG_END || tag->size < sizeof(*tag) || tag->size > total - off)
			break;
		switch (tag->type) {
		case MB2_TAG_CMDLINE:
			copy_string(bi->cmdline, sizeof(bi->cmdline),
				    ((const struct mb2_tag_string *)tag)->string,
				    tag->size - sizeof(*tag));
			break;
		case MB2_TAG_MODULE:
			add_module(bi, (const void *)tag);
			break;
		case MB2_TAG_MMAP:
			add_mmap(bi, (const void *)tag);
			break;
		/* The tag carries a copy of the RSDP: 20 bytes (ACPI 1.0) or
		 * 36 (2.0+, ACPI 6.4 5.2.5.3); a shorter tag has none. */
		case MB2_TAG_ACPI_OLD:
			if (!bi->rsdp && tag->size >= sizeof(*tag) + MB2_RSDP_V1_SIZE)
				bi->rsdp = info_pa + off + sizeof(*tag);
			break;
		case MB2_TAG_ACPI_NEW:
			if (tag->size >= sizeof(*tag) + MB2_RSDP_V2_SIZE)
				bi->rsdp = info_pa + off + sizeof(*tag);
			break;
		case MB2_TAG_FRAMEBUFFER: {
			const struct mb2_tag_framebuffer *fb = (const void *)tag;
			if (tag->size < sizeof(*fb))
				break;
			bi->fb.base = fb->addr;
			bi->fb.pitch = fb->pitch;
			bi->fb.width = fb->width;
			bi->fb.height = fb->height;
			bi->fb.bpp = fb->bpp;
			break;
		}
		default:
			break;
		}
		off += ALIGN_UP((u64)tag->size, 8);
	}
	return bi;
}
