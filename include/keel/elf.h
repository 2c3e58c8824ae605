/*
 * ELF images for the PVH domain builder (kernel/elf.c). Pure code:
 * unit-tested on the host.
 */
#ifndef KEEL_ELF_H
#define KEEL_ELF_H

#include <lib/types.h>

#define ELF_MAX_LOAD 16

struct elf_load {
	u64 paddr;  /* where the segment goes (p_paddr, as Xen's PVH loader) */
	u64 offset; /* in the file */
	u64 filesz;
	u64 memsz;  /* bytes past filesz are zeroed */
};

struct elf_image {
	bool is64;
	u32 phys32_entry; /* XEN_ELFNOTE_PHYS32_ENTRY */
	unsigned nr_load;
	struct elf_load load[ELF_MAX_LOAD];
	u64 lowest, highest; /* physical span of all segments [lowest, highest) */
};

/*
 * Validates an ELF image of `size` bytes at `data` as a PVH kernel:
 * ELF32 or ELF64 little-endian executable, machine x86-64 or i386 (as
 * Xen's loader accepts), program headers inside the file, every PT_LOAD's
 * file bytes inside the file, memsz >= filesz, no address overflow, no two
 * PT_LOAD segments overlapping, at least one PT_LOAD, and a "Xen" note of
 * type XEN_ELFNOTE_PHYS32_ENTRY (18) in a PT_NOTE segment. Returns 0, or
 * -ENOEXEC with a one-line reason in err ("program header 2: segment
 * 0x1000+0x2000 extends past the end of the file (0x2800 bytes)").
 */
int elf_parse(const void *data, u64 size, struct elf_image *img, char *err,
	      size_t errlen);

#endif
