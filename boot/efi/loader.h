/*
 * The UEFI loader's internal interfaces (boot/efi/; overview: docs/boot.md).
 *
 * Every function here except pages.c's prints one line saying what failed
 * and where (LOG) when it fails, and returns an EFI status, which efi_main() hands back to the
 * firmware after releasing what was allocated (pages.c). Nothing here runs
 * after ExitBootServices() except handoff.c's last steps.
 */
#ifndef KEEL_BOOT_EFI_LOADER_H
#define KEEL_BOOT_EFI_LOADER_H

#include <efi.h>
#include <efilib.h>

#include <keel/boot_info.h>

#include "cfg.h"

/* One line on the firmware console (which OVMF also sends to the serial
 * port). fmt is a wide literal in gnu-efi's Print() syntax: %a = ASCII
 * string, %r = EFI_STATUS, %lx = UINT64. */
#define LOG(fmt, ...) Print(L"keel-efi: " fmt L"\n", ##__VA_ARGS__)

/* Highest address for loader-made data the hypervisor reads early
 * (modules, boot_info): its first page tables need only cover 4 GiB. */
#define LOADER_MAX_ADDR 0xffffffffULL

/* ---- pages.c: page allocations, released together on failure --------- */

/*
 * AllocatePages() with the loader's bookkeeping. `how` is AllocateAnyPages,
 * AllocateMaxAddress or AllocateAddress with *addr as for the boot service
 * (UEFI 2.10 section 7.2, EFI_BOOT_SERVICES.AllocatePages()).
 */
EFI_STATUS pages_alloc(EFI_ALLOCATE_TYPE how, EFI_MEMORY_TYPE type, UINTN pages,
		       EFI_PHYSICAL_ADDRESS *addr);
/* Free one allocation made by pages_alloc() (found by its address). */
void pages_free(EFI_PHYSICAL_ADDRESS addr);
/* Free every allocation still held: the failure path before returning to
 * the firmware, so that a later boot option finds memory as it was. */
void pages_free_all(void);

/* ---- file.c: the boot volume --------------------------------------------- */

/* The root directory of the volume this image was loaded from. */
EFI_STATUS volume_open(EFI_HANDLE image, EFI_FILE_HANDLE *root);

/*
 * Read the file at `path` (ASCII, '/' or '\' separators, relative to the
 * root) into fresh page-aligned EfiLoaderData pages below 4 GiB. `what`
 * names the file's role in error lines ("keel.cfg", "module 'dom0'").
 * An empty file is an error (EFI_END_OF_FILE): nothing useful is empty.
 */
EFI_STATUS file_load(EFI_FILE_HANDLE root, const char *path, const char *what,
		     EFI_PHYSICAL_ADDRESS *base, UINT64 *size);

/* ---- config.c, modules.c ------------------------------------------------- */

/* Read and parse \keel.cfg. */
EFI_STATUS config_load(EFI_FILE_HANDLE root, struct keel_cfg *cfg);

/* Load every module of `cfg` and list it in bi->modules. */
EFI_STATUS modules_load(EFI_FILE_HANDLE root, const struct keel_cfg *cfg,
			struct boot_info *bi);

/* ---- elf.c: the embedded hypervisor ---------------------------------- */

/* Check the ELF64 image and copy its PT_LOAD segments to their physical
 * addresses; *entry = e_entry. */
EFI_STATUS elf_load(const void *image, UINT64 size, UINT64 *entry);

/* ---- fwinfo.c: what the firmware knows -------------------------------- */

/* Physical address of the ACPI RSDP (2.0 preferred, else 1.0), or 0. */
UINT64 acpi_find_rsdp(void);
/* The GOP framebuffer, or fb->base = 0 without one. */
void gop_query(struct boot_fb *fb);

/* ---- mmap.c: memory map ---------------------------------------------- */

/*
 * Convert a UEFI memory map (GetMemoryMap() output; sorted in place) into
 * bi->mmap as E820 types, merging adjacent ranges of the same type. Makes
 * no firmware calls, so it may run between GetMemoryMap() and
 * ExitBootServices(). EFI_BUFFER_TOO_SMALL if more than BOOT_MMAP_MAX
 * ranges remain.
 */
EFI_STATUS mmap_convert(void *map, UINTN map_size, UINTN desc_size,
			struct boot_info *bi);

/* Print the firmware's memory map entries that overlap [lo, hi): says who
 * holds an address we could not allocate. */
void mmap_explain(UINT64 lo, UINT64 hi);

/* ---- handoff.c --------------------------------------------------------- */

/*
 * Take the final memory map, exit boot services and enter the hypervisor
 * at `entry` with RDI = bi. Returns (having printed why) only on a failure
 * before ExitBootServices() was called; if ExitBootServices() itself keeps
 * failing, it halts, since the firmware may then be half shut down.
 */
EFI_STATUS handoff(EFI_HANDLE image, struct boot_info *bi, UINT64 entry);

#endif
