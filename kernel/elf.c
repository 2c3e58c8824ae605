/*
 * ELF parsing for PVH kernels (System V gABI; Xen's docs/misc/pvh.pandoc:
 * the entry point is the XEN_ELFNOTE_PHYS32_ENTRY note, segments load at
 * their physical addresses). Everything about the image is untrusted: a
 * module is whatever was on the boot medium, and dom0 hands us domU
 * images (KEEL_DOMCTL_pvh_build).
 */
#include <keel/elf.h>
#include <lib/errno.h>
#include <lib/string.h>
#include <public/elfnote.h>

#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ET_EXEC 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4

struct elf64_ehdr {
	u8 e_ident[16];
	u16 e_type, e_machine;
	u32 e_version;
	u64 e_entry, e_phoff, e_shoff;
	u32 e_flags;
	u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf32_ehdr {
	u8 e_ident[16];
	u16 e_type, e_machine;
	u32 e_version, e_entry, e_phoff, e_shoff, e_flags;
	u16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	u32 p_type, p_flags;
	u64 p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

struct elf32_phdr {
	u32 p_type, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_flags, p_align;
};

struct phdr {
	u32 type;
	u64 offset, paddr, filesz, memsz;
};

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -ENOEXEC;                    \
	} while (0)

static void read_phdr(const u8 *data, bool is64, u64 off, struct phdr *p)
{
	if (is64) {
		struct elf64_phdr h;
		memcpy(&h, data + off, sizeof(h));
		*p = (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
	} else {
		struct elf32_phdr h;
		memcpy(&h, data + off, sizeof(h));
		*p = (struct phdr){ h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz };
	}
}

/* Looks for the PHYS32_ENTRY note in [off, off+len) of the file. */
static bool find_phys32_entry(const u8 *data, u64 off, u64 len, u32 *entry)
{
	u64 end = off + len;
	while (off + 12 <= end) {
		u32 namesz, descsz, type;
		memcpy(&namesz, data + off, 4);
		memcpy(&descsz, data + off + 4, 4);
		memcpy(&type, data + off + 8, 4);
		u64 name = off + 12;
		u64 desc = name + ALIGN_UP((u64)namesz, 4);
		u64 next = desc + ALIGN_UP((u64)descsz, 4);
		if (next > end || next <= off)
			return false;
		if (namesz == 4 && memcmp(data + name, "Xen", 4) == 0 &&
		    type == XEN_ELFNOTE_PHYS32_ENTRY && (descsz == 4 || descsz == 8)) {
			memcpy(entry, data + desc, 4);
			return true;
		}
		off = next;
	}
	return false;
}

int elf_parse(const void *image, u64 size, struct elf_image *img, char *err, size_t errlen)
{
	const u8 *data = image;
	u64 phoff, phentsize, phnum;
	bool found_note = false;

	memset(img, 0, sizeof(*img));
	if (size < sizeof(struct elf32_ehdr) || memcmp(data, "\x7f" "ELF", 4) != 0)
		FAIL("not an ELF file (size 0x%lx, bad magic)", (unsigned long)size);
	if (data[EI_DATA] != ELFDATA2LSB)
		FAIL("ELF is not little-endian");
	if (data[EI_CLASS] == ELFCLASS64) {
		struct elf64_ehdr eh;
		if (size < sizeof(eh))
			FAIL("ELF64 header truncated (file is 0x%lx bytes)", (unsigned long)size);
		memcpy(&eh, data, sizeof(eh));
		if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386)
			FAIL("ELF machine %u is not x86-64 or i386", eh.e_machine);
		if (eh.e_type != ET_EXEC)
			FAIL("ELF type %u is not an executable", eh.e_type);
		img->is64 = true;
		phoff = eh.e_phoff;
		phentsize = eh.e_phentsize;
		phnum = eh.e_phnum;
		if (phentsize != sizeof(struct elf64_phdr))
			FAIL("ELF program header size %lu, expected %zu", (unsigned long)phentsize,
			     sizeof(struct elf64_phdr));
	} else if (data[EI_CLASS] == ELFCLASS32) {
		struct elf32_ehdr eh;
		memcpy(&eh, data, sizeof(eh));
		if (eh.e_machine != EM_X86_64 && eh.e_machine != EM_386)
			FAIL("ELF machine %u is not x86-64 or i386", eh.e_machine);
		if (eh.e_type != ET_EXEC)
			FAIL("ELF type %u is not an executable", eh.e_type);
		phoff = eh.e_phoff;
		phentsize = eh.e_phentsize;
		phnum = eh.e_phnum;
		if (phentsize != sizeof(struct elf32_phdr))
			FAIL("ELF program header size %lu, expected %zu", (unsigned long)phentsize,
			     sizeof(struct elf32_phdr));
	} else {
		FAIL("ELF class %u is neither 32- nor 64-bit", data[EI_CLASS]);
	}
	if (phnum == 0)
		FAIL("ELF has no program headers");
	if (phoff > size || phnum * phentsize > size - phoff)
		FAIL("program headers (0x%lx + %lu x %lu) extend past the end of the file (0x%lx bytes)",
		     (unsigned long)phoff, (unsigned long)phnum, (unsigned long)phentsize,
		     (unsigned long)size);

	img->lowest = ~0ULL;
	for (u64 i = 0; i < phnum; i++) {
		struct phdr p;
		read_phdr(data, img->is64, phoff + i * phentsize, &p);
		if (p.type != PT_LOAD && p.type != PT_NOTE)
			continue;
		if (p.offset > size || p.filesz > size - p.offset)
			FAIL("program header %lu: segment 0x%lx+0x%lx extends past the end of the file (0x%lx bytes)",
			     (unsigned long)i, (unsigned long)p.offset, (unsigned long)p.filesz,
			     (unsigned long)size);
		if (p.type == PT_NOTE) {
			if (!found_note)
				found_note = find_phys32_entry(data, p.offset, p.filesz, &img->phys32_entry);
			continue;
		}
		if (p.memsz < p.filesz)
			FAIL("program header %lu: memory size 0x%lx smaller than file size 0x%lx",
			     (unsigned long)i, (unsigned long)p.memsz, (unsigned long)p.filesz);
		if (p.paddr + p.memsz < p.paddr)
			FAIL("program header %lu: address 0x%lx + 0x%lx wraps around",
			     (unsigned long)i, (unsigned long)p.paddr, (unsigned long)p.memsz);
		if (p.memsz == 0)
			continue;
		if (img->nr_load >= ELF_MAX_LOAD)
			FAIL("more than %d loadable segments", ELF_MAX_LOAD);
		for (unsigned j = 0; j < img->nr_load; j++) {
			const struct elf_load *q = &img->load[j];
			if (p.paddr < q->paddr + q->memsz && q->paddr < p.paddr + p.memsz)
				FAIL("program header %lu: segment 0x%lx-0x%lx overlaps segment 0x%lx-0x%lx",
				     (unsigned long)i, (unsigned long)p.paddr,
				     (unsigned long)(p.paddr + p.memsz), (unsigned long)q->paddr,
				     (unsigned long)(q->paddr + q->memsz));
		}
		img->load[img->nr_load++] = (struct elf_load){ p.paddr, p.offset, p.filesz, p.memsz };
		if (p.paddr < img->lowest)
			img->lowest = p.paddr;
		if (p.paddr + p.memsz > img->highest)
			img->highest = p.paddr + p.memsz;
	}
	if (!img->nr_load)
		FAIL("ELF has no loadable segment");
	if (!found_note)
		FAIL("no PVH entry point (Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY)");
	bool entry_loaded = false;
	for (unsigned j = 0; j < img->nr_load; j++)
		if (img->phys32_entry >= img->load[j].paddr &&
		    img->phys32_entry < img->load[j].paddr + img->load[j].memsz)
			entry_loaded = true;
	if (!entry_loaded)
		FAIL("PVH entry 0x%x lies outside the loaded segments 0x%lx-0x%lx",
		     img->phys32_entry, (unsigned long)img->lowest, (unsigned long)img->highest);
	return 0;
}
