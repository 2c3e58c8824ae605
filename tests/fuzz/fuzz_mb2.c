/*
 * The multiboot2 information parser (boot/multiboot2/mb2.c): the tags the
 * boot loader (GRUB, or whatever chain-loads Keel) leaves in memory.
 *
 * unit-sources: boot/multiboot2/mb2.c
 *
 * mb2_to_boot_info() takes the structure's 32-bit physical address, as
 * the trampoline passes it; here the structure sits below 4 GiB
 * (MAP_32BIT) and ends right before an inaccessible page, so a read past
 * its end faults. The input is the structure; its total_size field is set
 * to the input's size (the loader's one number we believe: it is how
 * much memory it filled), everything else is as the fuzzer wrote it.
 * Checks: no read outside the structure, strings in boot_info terminated,
 * counts in range, the RSDP (at least its 20 ACPI 1.0 bytes) inside the
 * structure.
 */
#include <sys/mman.h>

#include <keel/boot_info.h>

#include "fuzz.h"

struct boot_info *mb2_to_boot_info(u32 info_pa);

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

#define AREA (64u << 10)

static u8 *area; /* AREA bytes, then a PROT_NONE page */

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	if (!area) {
		area = mmap(NULL, AREA + 4096, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		fuzz_check(area != MAP_FAILED, "mmap");
		fuzz_check(mprotect(area + AREA, 4096, PROT_NONE) == 0, "mprotect");
	}
	if (size < 8 || size > AREA)
		return 0;
	/* The structure is 8-byte aligned (spec 3.6.1); it ends as close to
	 * the guard page as that allows, and the gap is zeros. */
	size_t span = ALIGN_UP(size, 8);
	u8 *info = area + AREA - span;
	memcpy(info, data, size);
	memset(info + size, 0, span - size);
	u32 total = (u32)size;
	memcpy(info, &total, 4);

	struct boot_info *bi = mb2_to_boot_info((u32)(uintptr_t)info);

	fuzz_check(bi->magic == BOOT_INFO_MAGIC, "magic");
	fuzz_check(memchr(bi->cmdline, 0, sizeof(bi->cmdline)) != NULL, "cmdline unterminated");
	fuzz_check(bi->nr_mmap <= BOOT_MMAP_MAX, "%u mmap entries", bi->nr_mmap);
	for (u32 i = 0; i < bi->nr_modules && i < BOOT_MODULES_MAX; i++) {
		fuzz_check(memchr(bi->modules[i].name, 0, BOOT_NAME_MAX) != NULL,
			   "module %u name unterminated", i);
		fuzz_check(memchr(bi->modules[i].cmdline, 0, BOOT_MOD_CMDLINE_MAX) != NULL,
			   "module %u cmdline unterminated", i);
	}
	if (bi->rsdp)
		fuzz_check(bi->rsdp >= (uintptr_t)info + 8 && bi->rsdp + 20 <= (uintptr_t)info + size,
			   "RSDP 0x%lx outside the structure", (unsigned long)bi->rsdp);
	return 0;
}
