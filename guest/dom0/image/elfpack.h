/*
 * Splitting a PVH kernel ELF for loading through foreign mappings
 * (guest/dom0/image/elfpack.c). dom0 writes the loadable segments into
 * the new domain's RAM itself (image/load.c), however large they are,
 * and hands the hypervisor's builder (KEEL_DOMCTL_pvh_build with
 * KEEL_PVH_BUILD_PRELOADED) only a compact ELF: the ELF header, the
 * program headers with every PT_LOAD's file part cut to nothing (its
 * address and memory size kept, so the builder still checks where it
 * goes and places modules after it) and the PT_NOTE segments' bytes
 * (where XEN_ELFNOTE_PHYS32_ENTRY is). Pure code.
 *
 * elfpack_split: checks what dom0 relies on (ELF32/64 little-endian
 * x86 executable, program headers and every PT_LOAD/PT_NOTE inside the
 * file, memsz >= filesz, no address wrap-around, at most ELFPACK_MAX_SEGS
 * loadable segments, notes within ELFPACK_NOTES_MAX bytes) and fills
 * `segs` and the compact image `out` (ELFPACK_OUT_MAX bytes). The
 * hypervisor checks the rest (overlaps, RAM, the entry note). Returns
 * 0 or -ENOEXEC with one line in err ("ELF: program header 2: ...").
 */
#ifndef DOM0_IMAGE_ELFPACK_H
#define DOM0_IMAGE_ELFPACK_H

#include <lib/types.h>

#define ELFPACK_MAX_SEGS 16
#define ELFPACK_MAX_PHDRS 64
#define ELFPACK_NOTES_MAX (32 * 1024)
#define ELFPACK_OUT_MAX (64 + ELFPACK_MAX_PHDRS * 56 + ELFPACK_NOTES_MAX)

struct elfpack_seg {
	u64 paddr;  /* p_paddr: where it goes in the guest */
	u64 offset; /* its bytes in the file */
	u64 filesz;
	u64 memsz;  /* past filesz: zeros */
};

struct elfpack {
	unsigned nr_segs;
	struct elfpack_seg segs[ELFPACK_MAX_SEGS];
	size_t out_len; /* bytes of the compact ELF */
};

int elfpack_split(const u8 *elf, size_t size, struct elfpack *pk, u8 *out, char *err,
		  size_t errlen);

#endif
