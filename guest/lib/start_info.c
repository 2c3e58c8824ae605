/*
 * hvm_start_info helpers (contract in guest.h). Every address in the
 * structure is guest-physical; Keel's guests run identity-mapped over the
 * first 4 GiB, and the PVH ABI keeps these structures below 4 GiB.
 */
#include <lib/string.h>
#include "guest.h"

static const void *phys(u64 pa)
{
	return (const void *)(uintptr_t)pa;
}

const char *si_cmdline(const struct hvm_start_info *si)
{
	return si->cmdline_paddr ? phys(si->cmdline_paddr) : "";
}

const struct hvm_memmap_table_entry *si_memmap(const struct hvm_start_info *si,
					      unsigned *n)
{
	/* The map fields exist from version 1 on (start_info.h). */
	if (si->version < 1 || !si->memmap_entries || !si->memmap_paddr) {
		*n = 0;
		return NULL;
	}
	*n = si->memmap_entries;
	return phys(si->memmap_paddr);
}

const struct hvm_modlist_entry *si_modules(const struct hvm_start_info *si,
					   unsigned *n)
{
	if (!si->nr_modules || !si->modlist_paddr) {
		*n = 0;
		return NULL;
	}
	*n = si->nr_modules;
	return phys(si->modlist_paddr);
}

const char *si_module_cmdline(const struct hvm_modlist_entry *m)
{
	return m->cmdline_paddr ? phys(m->cmdline_paddr) : "";
}

const char *si_mem_type_name(u32 type)
{
	static const char *const names[] = {
		[XEN_HVM_MEMMAP_TYPE_RAM] = "ram",
		[XEN_HVM_MEMMAP_TYPE_RESERVED] = "reserved",
		[XEN_HVM_MEMMAP_TYPE_ACPI] = "acpi",
		[XEN_HVM_MEMMAP_TYPE_NVS] = "nvs",
		[XEN_HVM_MEMMAP_TYPE_UNUSABLE] = "unusable",
		[XEN_HVM_MEMMAP_TYPE_DISABLED] = "disabled",
		[XEN_HVM_MEMMAP_TYPE_PMEM] = "pmem",
	};

	if (type < ARRAY_SIZE(names) && names[type])
		return names[type];
	return "unknown";
}

u64 si_ram_total(const struct hvm_start_info *si)
{
	const struct hvm_memmap_table_entry *map;
	unsigned i, n;
	u64 total = 0;

	map = si_memmap(si, &n);
	for (i = 0; i < n; i++)
		if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
			total += map[i].size;
	return total;
}

bool si_is_ram(const struct hvm_start_info *si, u64 base, u64 len)
{
	const struct hvm_memmap_table_entry *map;
	unsigned i, n;

	map = si_memmap(si, &n);
	for (i = 0; i < n; i++)
		if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM && base >= map[i].addr &&
		    base + len <= map[i].addr + map[i].size && base + len >= base)
			return true;
	return false;
}
