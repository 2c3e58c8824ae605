/*
 * The UEFI memory map, seen from after ExitBootServices().
 *
 * The hypervisor speaks E820 types (boot_info.h). The conversion follows
 * UEFI 2.10 section 7.2, table "Memory Type Usage after
 * ExitBootServices()": boot-services code and data, loader code and data
 * and conventional memory are free for the OS; ACPI reclaim memory is free
 * once the tables are parsed; runtime-services memory must stay mapped and
 * untouched for runtime calls, so it is reserved like MMIO, PAL code,
 * persistent memory and any type newer than this header knows.
 *
 * "Usable" therefore includes the hypervisor image, the modules and
 * boot_info (LoaderCode/Data), the firmware's page tables and our stack
 * (BootServicesData): the hypervisor reserves its image and the modules
 * itself, and copies boot_info and leaves the firmware stack and page
 * tables before it allocates anything.
 */
#include "loader.h"

static UINT32 e820_type(UINT32 efi_type)
{
	switch (efi_type) {
	case EfiConventionalMemory:
	case EfiLoaderCode:
	case EfiLoaderData:
	case EfiBootServicesCode:
	case EfiBootServicesData:
		return BOOT_MEM_USABLE;
	case EfiACPIReclaimMemory:
		return BOOT_MEM_ACPI;
	case EfiACPIMemoryNVS:
		return BOOT_MEM_NVS;
	case EfiUnusableMemory:
		return BOOT_MEM_UNUSABLE;
	default:
		return BOOT_MEM_RESERVED;
	}
}

static EFI_MEMORY_DESCRIPTOR *desc_at(void *map, UINTN desc_size, UINTN i)
{
	/* DescriptorSize, not sizeof: firmware may append fields (7.2,
	 * GetMemoryMap(): "the size ... may grow in the future"). */
	return (EFI_MEMORY_DESCRIPTOR *)((UINT8 *)map + i * desc_size);
}

/*
 * The spec does not promise an address-ordered map (edk2 happens to sort
 * it), and merging needs one. Rather than sort the descriptors (their size
 * is only known at run time), emit them by selection: each step takes the
 * lowest start above the previous one. O(n^2) on a few hundred entries.
 */
EFI_STATUS mmap_convert(void *map, UINTN map_size, UINTN desc_size,
			struct boot_info *bi)
{
	UINTN n = map_size / desc_size, done, i;
	UINT64 prev = 0;
	bool first = true;

	bi->nr_mmap = 0;
	for (done = 0; done < n; done++) {
		EFI_MEMORY_DESCRIPTOR *d = NULL;
		struct boot_mem_range *last;
		UINT64 base, len;
		UINT32 type;

		for (i = 0; i < n; i++) {
			EFI_MEMORY_DESCRIPTOR *c = desc_at(map, desc_size, i);

			if ((first || c->PhysicalStart > prev) &&
			    (!d || c->PhysicalStart < d->PhysicalStart))
				d = c;
		}
		if (!d)
			break; /* only duplicate starts remain: ignore them */
		first = false;
		prev = d->PhysicalStart;
		base = d->PhysicalStart;
		len = d->NumberOfPages * EFI_PAGE_SIZE;
		type = e820_type(d->Type);
		if (!len)
			continue;

		last = bi->nr_mmap ? &bi->mmap[bi->nr_mmap - 1] : NULL;
		if (last && last->type == type && last->base + last->len == base) {
			last->len += len;
			continue;
		}
		if (bi->nr_mmap == BOOT_MMAP_MAX)
			return EFI_BUFFER_TOO_SMALL;
		bi->mmap[bi->nr_mmap++] = (struct boot_mem_range){
			.base = base, .len = len, .type = type,
		};
	}
	return EFI_SUCCESS;
}

static const CHAR16 *efi_type_name(UINT32 type)
{
	static const CHAR16 *const names[] = {
		[EfiReservedMemoryType] = L"Reserved",
		[EfiLoaderCode] = L"LoaderCode",
		[EfiLoaderData] = L"LoaderData",
		[EfiBootServicesCode] = L"BootServicesCode",
		[EfiBootServicesData] = L"BootServicesData",
		[EfiRuntimeServicesCode] = L"RuntimeServicesCode",
		[EfiRuntimeServicesData] = L"RuntimeServicesData",
		[EfiConventionalMemory] = L"Conventional",
		[EfiUnusableMemory] = L"Unusable",
		[EfiACPIReclaimMemory] = L"ACPIReclaim",
		[EfiACPIMemoryNVS] = L"ACPIMemoryNVS",
		[EfiMemoryMappedIO] = L"MMIO",
		[EfiMemoryMappedIOPortSpace] = L"MMIOPortSpace",
		[EfiPalCode] = L"PalCode",
	};

	return type < ARRAY_SIZE(names) && names[type] ? names[type] : L"other";
}

void mmap_explain(UINT64 lo, UINT64 hi)
{
	UINTN entries, key, desc_size, i;
	UINT32 version;
	EFI_MEMORY_DESCRIPTOR *map = LibMemoryMap(&entries, &key, &desc_size, &version);

	if (!map)
		return;
	for (i = 0; i < entries; i++) {
		EFI_MEMORY_DESCRIPTOR *d = desc_at(map, desc_size, i);
		UINT64 end = d->PhysicalStart + d->NumberOfPages * EFI_PAGE_SIZE;

		if (d->PhysicalStart < hi && end > lo)
			LOG(L"  firmware map: 0x%lx-0x%lx %s", d->PhysicalStart, end,
			    efi_type_name(d->Type));
	}
	FreePool(map);
}
