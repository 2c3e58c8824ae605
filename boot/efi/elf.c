/*
 * The embedded hypervisor: an ELF64 x86-64 executable linked to run at
 * physical = virtual addresses (linker.ld). We trust nothing in it beyond
 * what we check here, because a truncated or wrong payload must fail with
 * a message, not overwrite firmware memory.
 */
#include "loader.h"

/* The few ELF64 definitions we need (System V gABI, "ELF Header" and
 * "Program Header"); glibc's <elf.h> is not for freestanding code. */
struct elf64_ehdr {
	UINT8 e_ident[16];
	UINT16 e_type, e_machine;
	UINT32 e_version;
	UINT64 e_entry, e_phoff, e_shoff;
	UINT32 e_flags;
	UINT16 e_ehsize, e_phentsize, e_phnum, e_shentsize, e_shnum, e_shstrndx;
};

struct elf64_phdr {
	UINT32 p_type, p_flags;
	UINT64 p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define EV_CURRENT 1
#define ET_EXEC 2
#define EM_X86_64 62
#define PT_LOAD 1

static EFI_STATUS elf_check_header(const struct elf64_ehdr *eh, UINT64 size)
{
	static const UINT8 magic[4] = { 0x7f, 'E', 'L', 'F' };

	if (size < sizeof(*eh) || CompareMem(eh->e_ident, magic, sizeof(magic))) {
		LOG(L"keel.elf: not an ELF file (%ld bytes)", size);
		return EFI_LOAD_ERROR;
	}
	if (eh->e_ident[4] != ELFCLASS64 || eh->e_ident[5] != ELFDATA2LSB ||
	    eh->e_ident[6] != EV_CURRENT || eh->e_machine != EM_X86_64) {
		LOG(L"keel.elf: not a little-endian ELF64 for x86-64 (class %d, machine %d)",
		    eh->e_ident[4], eh->e_machine);
		return EFI_LOAD_ERROR;
	}
	if (eh->e_type != ET_EXEC) {
		LOG(L"keel.elf: type %d, expected an executable (ET_EXEC)", eh->e_type);
		return EFI_LOAD_ERROR;
	}
	if (eh->e_phentsize != sizeof(struct elf64_phdr) || !eh->e_phnum ||
	    eh->e_phoff > size ||
	    (size - eh->e_phoff) / sizeof(struct elf64_phdr) < eh->e_phnum) {
		LOG(L"keel.elf: program headers outside the file (offset %ld, %d of %d bytes)",
		    eh->e_phoff, eh->e_phnum, eh->e_phentsize);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}

/* Check every PT_LOAD lies in the file and in the address space, and
 * compute the physical span [*lo, *hi) they cover together. */
static EFI_STATUS elf_check_segments(const struct elf64_ehdr *eh, UINT64 size,
				     UINT64 *lo, UINT64 *hi)
{
	const struct elf64_phdr *ph = (const void *)((const UINT8 *)eh + eh->e_phoff);
	UINTN i;

	*lo = ~0ULL;
	*hi = 0;
	for (i = 0; i < eh->e_phnum; i++, ph++) {
		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > size ||
		    size - ph->p_offset < ph->p_filesz ||
		    ph->p_paddr + ph->p_memsz < ph->p_paddr) {
			LOG(L"keel.elf: segment %d is malformed (offset %lx, file %lx, mem %lx bytes)",
			    (int)i, ph->p_offset, ph->p_filesz, ph->p_memsz);
			return EFI_LOAD_ERROR;
		}
		*lo = MIN(*lo, ph->p_paddr);
		*hi = MAX(*hi, ph->p_paddr + ph->p_memsz);
	}
	if (*hi == 0) {
		LOG(L"keel.elf: no PT_LOAD segment");
		return EFI_LOAD_ERROR;
	}
	if (eh->e_entry < *lo || eh->e_entry >= *hi) {
		LOG(L"keel.elf: entry 0x%lx outside its segments 0x%lx-0x%lx",
		    eh->e_entry, *lo, *hi);
		return EFI_LOAD_ERROR;
	}
	return EFI_SUCCESS;
}

EFI_STATUS elf_load(const void *image, UINT64 size, UINT64 *entry)
{
	const struct elf64_ehdr *eh = image;
	const struct elf64_phdr *ph;
	EFI_PHYSICAL_ADDRESS base;
	UINT64 lo, hi, pages;
	EFI_STATUS st;
	UINTN i;

	st = elf_check_header(eh, size);
	if (EFI_ERROR(st))
		return st;
	st = elf_check_segments(eh, size, &lo, &hi);
	if (EFI_ERROR(st))
		return st;

	/*
	 * One allocation for the whole span: with `ld -n` consecutive
	 * segments share pages, which separate AllocatePages() calls would
	 * refuse. EfiLoaderCode, not LoaderData: we jump into these pages on
	 * the firmware's page tables, and edk2 maps LoaderData non-executable
	 * when its PcdDxeNxMemoryProtectionPolicy asks for it (Debian 12's
	 * OVMF does not, other builds and vendors' firmware may).
	 */
	base = ALIGN_DOWN(lo, EFI_PAGE_SIZE);
	pages = EFI_SIZE_TO_PAGES(ALIGN_UP(hi, EFI_PAGE_SIZE) - base);
	st = pages_alloc(AllocateAddress, EfiLoaderCode, pages, &base);
	if (EFI_ERROR(st)) {
		LOG(L"keel.elf: its load address 0x%lx-0x%lx is not free (%r)",
		    lo, hi, st);
		mmap_explain(lo, hi);
		return st;
	}

	SetMem((void *)(UINTN)base, pages * EFI_PAGE_SIZE, 0);
	ph = (const void *)((const UINT8 *)eh + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++, ph++)
		if (ph->p_type == PT_LOAD && ph->p_filesz)
			CopyMem((void *)(UINTN)ph->p_paddr,
				(const UINT8 *)image + ph->p_offset, ph->p_filesz);
	*entry = eh->e_entry;
	LOG(L"keel.elf: 0x%lx-0x%lx, entry 0x%lx", lo, hi, eh->e_entry);
	return EFI_SUCCESS;
}
