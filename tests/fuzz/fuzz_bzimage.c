/*
 * A whole kernel file as dom0's loader takes it (guest/dom0/image/
 * image.c, bzimage.c, elfpack.c; docs/images.md): the setup header, the
 * format dispatch, every decoder, then the ELF split for loading.
 *
 * unit-sources: guest/dom0/image/image.c guest/dom0/image/bzimage.c guest/dom0/image/elfpack.c guest/dom0/image/xz.c guest/dom0/image/lzma2.c guest/dom0/image/gzip.c guest/dom0/image/lz4.c guest/dom0/image/zstd.c guest/dom0/image/crc.c guest/dom0/image/decode.c lib/format.c lib/string.c
 *
 * Input: the file's bytes, as is. Memory for the unpacked ELF comes from
 * malloc, at most 8 MiB (more is refused as dom0's allocator refuses
 * it). Invariants: 0 or one of the documented errors with a non-empty
 * message; on success the ELF lies inside the input or inside what was
 * allocated, allocations are released exactly once on errors, and
 * elfpack_split keeps its segments inside that ELF and its compact
 * image inside ELFPACK_OUT_MAX.
 */
#include <lib/errno.h>
#include "../../guest/dom0/image/elfpack.h"
#include "../../guest/dom0/image/image.h"

#include "fuzz.h"

static int live;

static void *mem_alloc(void *ctx, size_t n)
{
	(void)ctx;
	if (n > (8u << 20))
		return NULL;
	live++;
	return malloc(n);
}

static void mem_release(void *ctx, void *p, size_t n)
{
	(void)ctx;
	(void)n;
	live--;
	free(p);
}

/* dom0 runs its loop here; the decoders must cope with being called
 * back between blocks. */
static void progress(void *ctx)
{
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static char err[200];
	static u8 compact[ELFPACK_OUT_MAX];
	static struct elfpack pk;
	const struct image_mem mem = { mem_alloc, mem_release, NULL, progress };
	struct image_result r;

	err[0] = 0;
	int rc = image_unpack(data, size, &mem, &r, err, sizeof(err));
	fuzz_check(rc == 0 || rc == -EINVAL || rc == -EOPNOTSUPP || rc == -E2BIG ||
			   rc == -ENOEXEC || rc == -ENOMEM,
		   "image_unpack returned %d", rc);
	if (rc) {
		fuzz_check(err[0] != 0, "error %d without a message", rc);
		fuzz_check(live == 0, "%d allocations left after an error", live);
		return 0;
	}
	bool inside = r.elf >= data && r.elf + r.elf_len <= data + size;
	bool owned = r.owned && r.elf == r.owned && r.elf_len <= r.owned_len;
	fuzz_check(inside || owned, "the ELF lies outside input and allocation");
	if (elfpack_split(r.elf, r.elf_len, &pk, compact, err, sizeof(err)) == 0) {
		fuzz_check(pk.out_len <= ELFPACK_OUT_MAX, "compact image %zu bytes", pk.out_len);
		for (unsigned i = 0; i < pk.nr_segs; i++)
			fuzz_check(pk.segs[i].offset + pk.segs[i].filesz <= r.elf_len &&
					   pk.segs[i].filesz <= pk.segs[i].memsz,
				   "segment %u outside the ELF", i);
	}
	if (r.owned)
		mem_release(NULL, r.owned, r.owned_len);
	fuzz_check(live == 0, "%d allocations left", live);
	return 0;
}
