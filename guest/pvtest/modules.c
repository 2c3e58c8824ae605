/*
 * role=modules [count=N]: checks the modules the domain builder gave us
 * (KEEL_DOMCTL_pvh_build, docs/launcher.md). It walks hvm_start_info's
 * modlist (Xen public/arch-x86/hvm/start_info.h: entries of paddr, size,
 * cmdline_paddr, reserved), checks each entry lies in our RAM (the
 * memory map), and prints one line per module with its size, command
 * line and FNV-1a checksum, which dom0 compares with its own:
 *   pvtest: modules: module I size S sum X cmdline "C"
 *   pvtest: modules: PASS N modules
 */
#include <lib/string.h>
#include <public/xen.h>
#include "guest.h"
#include "pvtest.h"

/* Keel's guests run identity-mapped over the first 4 GiB (guest.h). */
static const void *phys(u64 pa)
{
	return (const void *)(uintptr_t)pa;
}

/* FNV-1a, 32 bits (the same in dom0's launch scenario). */
static u32 fnv1a(const u8 *p, u64 n)
{
	u32 h = 2166136261u;
	for (u64 i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static bool in_memmap(const struct hvm_start_info *si, u64 pa, u64 len)
{
	unsigned n;
	const struct hvm_memmap_table_entry *mm = si_memmap(si, &n);
	for (unsigned i = 0; i < n; i++)
		if (mm[i].type == XEN_HVM_MEMMAP_TYPE_RAM && pa >= mm[i].addr && pa + len >= pa &&
		    pa + len <= mm[i].addr + mm[i].size)
			return true;
	return false;
}

void role_modules(const struct hvm_start_info *si)
{
	u64 want = arg_u64("count");

	if (si->nr_modules != want)
		fail("%u modules in the start info, expected %lu", si->nr_modules, want);
	if (want && !si->modlist_paddr)
		fail("no modlist");
	const struct hvm_modlist_entry *m = phys(si->modlist_paddr);
	for (unsigned i = 0; i < si->nr_modules; i++) {
		if (!m[i].paddr || (m[i].paddr & (PAGE_SIZE - 1)))
			fail("module %u at 0x%lx: not page-aligned", i, m[i].paddr);
		if (!in_memmap(si, m[i].paddr, m[i].size))
			fail("module %u 0x%lx+0x%lx not in RAM", i, m[i].paddr, m[i].size);
		const char *c = m[i].cmdline_paddr ? (const char *)phys(m[i].cmdline_paddr) : "";
		printf("pvtest: modules: module %u size %lu sum %x cmdline \"%s\"\n", i, m[i].size,
		       fnv1a(phys(m[i].paddr), m[i].size), c);
	}
	printf("pvtest: modules: PASS %u modules\n", si->nr_modules);
}
