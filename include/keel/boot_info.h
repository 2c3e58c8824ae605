/*
 * struct boot_info: everything a loader hands to the hypervisor.
 *
 * Both loaders fill one of these -- boot/efi/ (UEFI application) and
 * boot/multiboot2/ (GRUB2) -- and enter the hypervisor at its 64-bit entry
 * point with RDI = the structure's physical address, interrupts off, in long
 * mode with the hypervisor image identity-mapped. kernel_main() copies the
 * structure before touching any memory outside its image, so the loader may
 * place it anywhere in RAM that the memory map calls usable or loader-owned.
 *
 * All strings are NUL-terminated inside their arrays. Nothing after
 * kernel_main() knows which loader ran; `loader` is for the banner only.
 */
#ifndef KEEL_BOOT_INFO_H
#define KEEL_BOOT_INFO_H

#include <lib/types.h>

#define BOOT_INFO_MAGIC 0x4b45454cb0071f0ULL /* "KEEL" boot info */
#define BOOT_INFO_VERSION 1

#define BOOT_MMAP_MAX 256
#define BOOT_MODULES_MAX 16
#define BOOT_NAME_MAX 32
#define BOOT_CMDLINE_MAX 512
#define BOOT_MOD_CMDLINE_MAX 256

/* Memory types: the E820 numbering, which is also the hvm_start_info one. */
enum boot_mem_type {
	BOOT_MEM_USABLE = 1,
	BOOT_MEM_RESERVED = 2,
	BOOT_MEM_ACPI = 3,     /* ACPI tables, reclaimable after parsing */
	BOOT_MEM_NVS = 4,      /* ACPI NVS */
	BOOT_MEM_UNUSABLE = 5, /* bad memory */
};

struct boot_mem_range {
	u64 base;
	u64 len;
	u32 type; /* enum boot_mem_type */
	u32 pad;
};

struct boot_module {
	u64 base; /* physical address, page-aligned */
	u64 len;  /* bytes */
	char name[BOOT_NAME_MAX];
	char cmdline[BOOT_MOD_CMDLINE_MAX];
};

struct boot_fb {
	u64 base; /* 0 = no framebuffer */
	u32 width, height, pitch; /* pixels, pixels, bytes per line */
	u32 bpp;
};

struct boot_info {
	u64 magic;   /* BOOT_INFO_MAGIC */
	u32 version; /* BOOT_INFO_VERSION */
	u32 nr_mmap;
	char loader[16]; /* "uefi" or "multiboot2" */
	char cmdline[BOOT_CMDLINE_MAX];
	struct boot_mem_range mmap[BOOT_MMAP_MAX];
	u32 nr_modules;
	u32 pad;
	struct boot_module modules[BOOT_MODULES_MAX];
	u64 rsdp; /* physical address of the ACPI RSDP, 0 if unknown */
	struct boot_fb fb;
};

#endif
