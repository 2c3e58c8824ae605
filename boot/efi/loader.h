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

/* ---- progress.c: what the loader is doing, for a hung boot --------------- */

/* Files at least this big get progress lines while they load. */
#define PROGRESS_MIN_BYTES (2ULL << 20)
/* ... one per this many percent. */
#define PROGRESS_STEP_PCT 10

struct progress {
	const char *name; /* as shown: the path, or tftp://SERVER/NAME */
	UINT64 total, done;
	UINT32 next_pct;  /* 0 = no progress lines for this file */
};

/* Start a file's progress: nothing is printed yet. */
void progress_start(struct progress *p, const char *name, UINT64 total);
/* `done` bytes of it are in: prints "NAME: 30% (x of y KiB)" lines as
 * steps are crossed. */
void progress_update(struct progress *p, UINT64 done);

/* ---- source.c, file.c, tftp.c: where keel.cfg and the modules come from -- */

/*
 * The loader reads keel.cfg and the modules from the device it was loaded
 * from (LoadedImage.DeviceHandle): its file system (USB stick, disk, the
 * ISO's EFI image) through the Simple File System protocol, or -- when it
 * was started from the network, so that the device is a NIC with the PXE
 * base code protocol and no file system -- from the TFTP server that
 * served it, through EFI_PXE_BASE_CODE_PROTOCOL.Mtftp().
 */
struct boot_source {
	EFI_FILE_HANDLE root;              /* file system: root directory, else NULL */
	EFI_PXE_BASE_CODE_PROTOCOL *pxe;   /* network: PXE base code, else NULL */
	EFI_HANDLE nic;                    /* the handle carrying pxe */
	EFI_IP_ADDRESS server;             /* network: the TFTP server */
	char dir[CFG_PATH_MAX];            /* network: the boot file's directory ("" or ".../") */
	char server_str[16];               /* network: "a.b.c.d" */
	bool callback_installed;           /* network: our progress callback is on nic */
};

/* Find the source for `image` (printing which), ready for source_load(). */
EFI_STATUS source_open(EFI_HANDLE image, struct boot_source *src);
/* Release what source_open() took (file handle, callback protocol). */
void source_close(struct boot_source *src);

/*
 * Read the file at `path` (a keel.cfg path: ASCII, '/' or '\' separators,
 * relative to the root of the boot volume, or to the boot file's directory
 * on the TFTP server) into fresh page-aligned EfiLoaderData pages below
 * 4 GiB, zeroing the rest of the last page. `what` names the file's role in
 * the lines printed ("keel.cfg", "module 'dom0' (keel.cfg:2)"): one before
 * the transfer with the file's size, progress lines for big files, one
 * naming the file on failure. An empty file is an error (nothing useful is
 * empty).
 */
EFI_STATUS source_load(struct boot_source *src, const char *path, const char *what,
		       EFI_PHYSICAL_ADDRESS *base, UINT64 *size);

/* file.c: the Simple File System half. */
EFI_STATUS fs_open(EFI_HANDLE device, EFI_FILE_HANDLE *root);
bool fs_exists(EFI_FILE_HANDLE root, const char *path);
EFI_STATUS fs_load(EFI_FILE_HANDLE root, const char *path, const char *what,
		   EFI_PHYSICAL_ADDRESS *base, UINT64 *size);

/* tftp.c: the PXE half. */
EFI_STATUS tftp_open(EFI_HANDLE device, EFI_PXE_BASE_CODE_PROTOCOL *pxe,
		     struct boot_source *src);
void tftp_close(struct boot_source *src);
EFI_STATUS tftp_load(struct boot_source *src, const char *path, const char *what,
		     EFI_PHYSICAL_ADDRESS *base, UINT64 *size);

/* Fresh page-aligned EfiLoaderData pages below 4 GiB for `size` bytes
 * (file.c; shared by both halves); prints the failure as `what`. */
EFI_STATUS file_pages(const char *what, const char *name, UINT64 size,
		      EFI_PHYSICAL_ADDRESS *base);
/* Zero the tail of the last page after `size` bytes at `base`. */
void file_zero_tail(EFI_PHYSICAL_ADDRESS base, UINT64 size);

/* ---- config.c, modules.c ------------------------------------------------- */

/* Read and parse keel.cfg. */
EFI_STATUS config_load(struct boot_source *src, struct keel_cfg *cfg);

/* Load every module of `cfg` and list it in bi->modules. */
EFI_STATUS modules_load(struct boot_source *src, const struct keel_cfg *cfg,
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
