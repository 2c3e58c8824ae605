/*
 * The PVH ELF loader's parser (kernel/elf.c): dom0's image from the boot
 * medium, and every domU image dom0 hands over.
 *
 * unit-sources: kernel/elf.c
 *
 * The input is the image, in a heap buffer of exactly its size (so ASan
 * sees any read past the end). On success every promise of elf_parse()'s
 * contract (keel/elf.h) is checked against the result, since the domain
 * builder copies [offset, offset + filesz) of each segment to paddr
 * without looking again.
 */
#include <keel/elf.h>
#include <lib/errno.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct elf_image img;
	char err[160];
	int rc;

	memset(err, 0x5a, sizeof(err));
	rc = elf_parse(data, size, &img, err, sizeof(err) - 1);
	fuzz_check(err[sizeof(err) - 1] == 0x5a, "wrote past errlen");
	if (rc) {
		fuzz_check(rc == -ENOEXEC, "rc %d", rc);
		fuzz_check(memchr(err, 0, sizeof(err) - 1) && err[0], "no message");
		return 0;
	}
	fuzz_check(img.nr_load >= 1 && img.nr_load <= ELF_MAX_LOAD, "%u segments", img.nr_load);
	bool entry_in = false;
	u64 lowest = ~0ULL, highest = 0;
	for (unsigned i = 0; i < img.nr_load; i++) {
		const struct elf_load *l = &img.load[i];

		fuzz_check(l->offset <= size && l->filesz <= size - l->offset,
			   "segment %u: file bytes 0x%lx+0x%lx outside 0x%zx", i,
			   (unsigned long)l->offset, (unsigned long)l->filesz, size);
		fuzz_check(l->memsz >= l->filesz && l->memsz > 0, "segment %u: memsz < filesz", i);
		fuzz_check(l->paddr + l->memsz > l->paddr, "segment %u wraps", i);
		for (unsigned j = 0; j < i; j++) {
			const struct elf_load *m = &img.load[j];
			fuzz_check(l->paddr >= m->paddr + m->memsz || m->paddr >= l->paddr + l->memsz,
				   "segments %u and %u overlap", j, i);
		}
		if (img.phys32_entry >= l->paddr && img.phys32_entry < l->paddr + l->memsz)
			entry_in = true;
		lowest = MIN(lowest, l->paddr);
		highest = MAX(highest, l->paddr + l->memsz);
	}
	fuzz_check(entry_in, "entry 0x%x outside the segments", img.phys32_entry);
	fuzz_check(img.lowest == lowest && img.highest == highest, "span 0x%lx-0x%lx, want 0x%lx-0x%lx",
		   (unsigned long)img.lowest, (unsigned long)img.highest, (unsigned long)lowest,
		   (unsigned long)highest);
	return 0;
}
