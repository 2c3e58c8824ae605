/*
 * The compact ELF for a preloaded PVH build (contract in elfpack.h).
 * Field offsets from the System V ABI's ELF header and program header
 * (gABI chapter 4, "ELF Header" and "Program Header"): ELF64 header 64
 * bytes, phdr 56; ELF32 header 52 bytes, phdr 32.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "decode.h"
#include "elfpack.h"

#define PT_NULL 0
#define PT_LOAD 1
#define PT_NOTE 4
#define EM_386 3
#define EM_X86_64 62
#define ET_EXEC 2

#define FAIL(...)                                   \
	do {                                        \
		snprintf(err, errlen, __VA_ARGS__); \
		return -ENOEXEC;                    \
	} while (0)

struct ph {
	u32 type;
	u64 offset, paddr, filesz, memsz;
};

static void read_ph(const u8 *p, bool is64, struct ph *h)
{
	if (is64)
		*h = (struct ph){ get_le32(p), get_le64(p + 8), get_le64(p + 24), get_le64(p + 32),
				  get_le64(p + 40) };
	else
		*h = (struct ph){ get_le32(p), get_le32(p + 4), get_le32(p + 12), get_le32(p + 16),
				  get_le32(p + 20) };
}

/* Rewrites a program header in the compact image. */
static void write_ph(u8 *p, bool is64, u32 type, u64 offset, u64 filesz)
{
	memcpy(p, &type, 4);
	if (is64) {
		memcpy(p + 8, &offset, 8);
		memcpy(p + 32, &filesz, 8);
	} else {
		u32 o = (u32)offset, f = (u32)filesz;
		memcpy(p + 4, &o, 4);
		memcpy(p + 16, &f, 4);
	}
}

int elfpack_split(const u8 *elf, size_t size, struct elfpack *pk, u8 *out, char *err,
		  size_t errlen)
{
	memset(pk, 0, sizeof(*pk));
	if (size < 52 || memcmp(elf, "\x7f" "ELF", 4))
		FAIL("ELF: not an ELF file (0x%zx bytes)", size);
	bool is64 = elf[4] == 2;
	if ((elf[4] != 1 && elf[4] != 2) || elf[5] != 1)
		FAIL("ELF: class %u / data %u is not a little-endian ELF32 or ELF64", elf[4], elf[5]);
	size_t ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32;
	if (size < ehsize)
		FAIL("ELF: header truncated (0x%zx bytes)", size);
	u16 type = get_le16(elf + 16), machine = get_le16(elf + 18);
	if (type != ET_EXEC || (machine != EM_X86_64 && machine != EM_386))
		FAIL("ELF: type %u machine %u is not an x86 executable", type, machine);
	u64 phoff = is64 ? get_le64(elf + 32) : get_le32(elf + 28);
	u16 phentsize = get_le16(elf + (is64 ? 54 : 42)), phnum = get_le16(elf + (is64 ? 56 : 44));
	if (phentsize != phsize)
		FAIL("ELF: program header size %u, expected %zu", phentsize, phsize);
	if (!phnum || phnum > ELFPACK_MAX_PHDRS)
		FAIL("ELF: %u program headers (1 to %d)", phnum, ELFPACK_MAX_PHDRS);
	if (phoff > size || (u64)phnum * phsize > size - phoff)
		FAIL("ELF: program headers at 0x%lx extend past the end of the file (0x%zx bytes)",
		     (unsigned long)phoff, size);

	/* Compact layout: header, program headers, then the notes. */
	memcpy(out, elf, ehsize);
	u64 new_phoff = ehsize;
	if (is64)
		memcpy(out + 32, &new_phoff, 8);
	else {
		u32 o = (u32)new_phoff;
		memcpy(out + 28, &o, 4);
	}
	/* No section headers in the compact image. */
	memset(out + (is64 ? 40 : 32), 0, is64 ? 8 : 4);
	memset(out + (is64 ? 60 : 48), 0, 4);
	size_t notes = ehsize + (size_t)phnum * phsize, pos = notes;

	for (unsigned i = 0; i < phnum; i++) {
		const u8 *src = elf + phoff + (u64)i * phsize;
		u8 *dst = out + ehsize + (size_t)i * phsize;
		struct ph h;
		read_ph(src, is64, &h);
		memcpy(dst, src, phsize);
		if (h.type != PT_LOAD && h.type != PT_NOTE) {
			write_ph(dst, is64, PT_NULL, 0, 0);
			continue;
		}
		if (h.offset > size || h.filesz > size - h.offset)
			FAIL("ELF: program header %u: segment 0x%lx+0x%lx extends past the end of the file (0x%zx bytes)",
			     i, (unsigned long)h.offset, (unsigned long)h.filesz, size);
		if (h.type == PT_NOTE) {
			if (h.filesz > ELFPACK_NOTES_MAX - (pos - notes))
				FAIL("ELF: notes larger than %d bytes", ELFPACK_NOTES_MAX);
			memcpy(out + pos, elf + h.offset, h.filesz);
			write_ph(dst, is64, PT_NOTE, pos, h.filesz);
			pos += h.filesz;
			continue;
		}
		if (h.memsz < h.filesz)
			FAIL("ELF: program header %u: memory size 0x%lx smaller than file size 0x%lx", i,
			     (unsigned long)h.memsz, (unsigned long)h.filesz);
		if (h.paddr + h.memsz < h.paddr)
			FAIL("ELF: program header %u: address 0x%lx + 0x%lx wraps around", i,
			     (unsigned long)h.paddr, (unsigned long)h.memsz);
		write_ph(dst, is64, PT_LOAD, 0, 0);
		if (!h.memsz)
			continue;
		if (pk->nr_segs >= ELFPACK_MAX_SEGS)
			FAIL("ELF: more than %d loadable segments", ELFPACK_MAX_SEGS);
		pk->segs[pk->nr_segs++] = (struct elfpack_seg){ h.paddr, h.offset, h.filesz, h.memsz };
	}
	if (!pk->nr_segs)
		FAIL("ELF: no loadable segment");
	pk->out_len = pos;
	return 0;
}
