/*
 * Kernel files as a toolstack finds them (guest/dom0/image/image.c): a
 * plain ELF (vmlinux, Keel's own guests), a Linux bzImage whose payload
 * is a compressed ELF, or a compressed ELF on its own (vmlinux.xz, as
 * libxc accepts). image_unpack turns any of them into the ELF the PVH
 * loader reads. Pure code (the caller provides memory); docs/images.md.
 */
#ifndef DOM0_IMAGE_IMAGE_H
#define DOM0_IMAGE_IMAGE_H

#include <lib/types.h>

/* The largest ELF image Keel unpacks and loads. */
#define IMAGE_MAX (1ULL << 30)

enum image_fmt {
	IMG_UNKNOWN,
	IMG_ELF,
	IMG_XZ,
	IMG_GZIP,
	IMG_LZ4,
	IMG_ZSTD,
	IMG_BZIP2,
	IMG_LZMA,
	IMG_LZO,
};

/* The format its first bytes say ("xz", "gzip", ...; "unknown"). */
enum image_fmt image_detect(const u8 *p, size_t n);
const char *image_fmt_name(enum image_fmt f);

/* Where an unpacked ELF goes: alloc(ctx, n) returns n writable bytes or
 * NULL; release(ctx, p, n) gives them back. progress(ctx), if set, is
 * called about every MiB of decompressed output (struct dec_buf). */
struct image_mem {
	void *(*alloc)(void *ctx, size_t n);
	void (*release)(void *ctx, void *p, size_t n);
	void *ctx;
	void (*progress)(void *ctx);
};

struct image_result {
	const u8 *elf;   /* the ELF: inside the input, or in `owned` */
	size_t elf_len;
	enum image_fmt container; /* IMG_ELF, or what was decompressed */
	bool bzimage;
	u8 *owned;       /* memory from mem->alloc (NULL if none): */
	size_t owned_len; /* the caller releases it after loading */
};

/*
 * Unpacks `data`: an ELF is returned as is; a bzImage's payload or a
 * bare compressed stream is decompressed into memory from `mem` (for a
 * bzImage exactly the size Linux appends to its payload, which must not
 * exceed IMAGE_MAX; for a bare stream 32 times the input, at most
 * IMAGE_MAX, halved while mem has no room, down to 1 MiB), and must be an
 * ELF. Returns 0, or a negative errno and one
 * line in err naming the cause: -EOPNOTSUPP for bzip2, lzma and lzo
 * (the format named), -ENOEXEC for neither ELF nor a known format or a
 * decompressed result that is no ELF, the decoder's error for a
 * corrupt stream, -EINVAL for a bad setup header, -ENOMEM when the
 * memory is not there. Nothing stays allocated on an error.
 */
int image_unpack(const u8 *data, size_t size, const struct image_mem *mem,
		 struct image_result *r, char *err, size_t errlen);

#endif
