/*
 * The PVH start-of-day structure (Xen public/arch-x86/hvm/start_info.h,
 * docs/misc/pvh.pandoc). The builder places it in guest RAM and enters the
 * kernel's XEN_ELFNOTE_PHYS32_ENTRY with EBX = its physical address, in
 * 32-bit protected mode with paging off (CR0 = PE, CR4 = 0, flat 4 GiB
 * CS/DS/ES/SS, TR a 32-bit TSS with base 0 and limit 0x67, EFLAGS.IF/TF/VM
 * clear). All addresses are guest-physical.
 *
 * Linux 6.1 reads the memmap and modlist early through a 1 GiB mapping,
 * so keep them (and this structure) below 1 GiB; cmdline and initrd
 * pointers are used as u32 and must be below 4 GiB. Module 0 is the initrd.
 */
#ifndef KEEL_PUBLIC_START_INFO_H
#define KEEL_PUBLIC_START_INFO_H

#include <lib/types.h>

#define XEN_HVM_START_MAGIC_VALUE 0x336ec578U

struct hvm_start_info {
	uint32_t magic;          /* XEN_HVM_START_MAGIC_VALUE */
	uint32_t version;        /* 1: memmap fields present */
	uint32_t flags;          /* SIF_* (xen.h) */
	uint32_t nr_modules;
	uint64_t modlist_paddr;  /* struct hvm_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr;  /* NUL-terminated; 0 = none */
	uint64_t rsdp_paddr;     /* ACPI RSDP; 0 = none */
	uint64_t memmap_paddr;   /* version >= 1: hvm_memmap_table_entry[] */
	uint32_t memmap_entries; /* version >= 1; 0 = no map given */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info size");
_Static_assert(offsetof(struct hvm_start_info, nr_modules) == 12, "nr_modules");
_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 16, "modlist_paddr");
_Static_assert(offsetof(struct hvm_start_info, cmdline_paddr) == 24, "cmdline_paddr");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == 32, "rsdp_paddr");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40, "memmap_paddr");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 48, "memmap_entries");

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;           /* bytes */
	uint64_t cmdline_paddr;  /* 0 = none */
	uint64_t reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry size");

/* Memory map types: the E820 / ACPI address-range numbering. */
#define XEN_HVM_MEMMAP_TYPE_RAM      1
#define XEN_HVM_MEMMAP_TYPE_RESERVED 2
#define XEN_HVM_MEMMAP_TYPE_ACPI     3
#define XEN_HVM_MEMMAP_TYPE_NVS      4
#define XEN_HVM_MEMMAP_TYPE_UNUSABLE 5
#define XEN_HVM_MEMMAP_TYPE_DISABLED 6
#define XEN_HVM_MEMMAP_TYPE_PMEM     7

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;     /* XEN_HVM_MEMMAP_TYPE_* */
	uint32_t reserved; /* 0 */
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry size");

#endif
