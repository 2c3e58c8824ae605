/*
 * The GPT reader (guest/dom0/storage/gpt.c): whatever bytes are on a disk.
 *
 * unit-sources: guest/dom0/storage/gpt.c
 *
 * The input's first byte picks the sector size (odd: 4096, else 512); the
 * rest is the disk, cut to whole sectors. Checks gpt.h's contract: only
 * the documented errors, a NUL-terminated message, no read past the disk;
 * on success partitions inside the usable range, which lies between the
 * two headers, none overlapping, names NUL-terminated.
 */
#include <lib/errno.h>

#include "../../guest/dom0/storage/gpt.h"
#include "fuzz.h"

struct disk {
	const u8 *d;
	u32 ss;
	u64 n;
};

static int disk_read(void *ctx, u64 lba, void *buf)
{
	struct disk *k = ctx;

	fuzz_check(lba < k->n, "read of LBA %lu on a disk of %lu sectors", (unsigned long)lba,
		   (unsigned long)k->n);
	memcpy(buf, k->d + lba * k->ss, k->ss);
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static u8 scratch[4096];
	static struct gpt_table t;
	struct disk k;

	if (size < 1)
		return 0;
	k.ss = (data[0] & 1) ? 4096 : 512;
	k.d = data + 1;
	k.n = (size - 1) / k.ss;
	memset(&t, 0x5a, sizeof(t));
	int rc = gpt_read(disk_read, &k, k.ss, k.n, scratch, &t);
	fuzz_check(memchr(t.msg, 0, sizeof(t.msg)) != NULL, "message not NUL-terminated");
	if (rc) {
		fuzz_check(rc == -ENOENT || rc == -EINVAL, "undocumented error %d", rc);
		fuzz_check(t.msg[0] != 0, "refusal without a message");
		fuzz_check(t.nr_parts == 0, "%u partitions on refusal", t.nr_parts);
		return 0;
	}
	fuzz_check(t.used_backup == (t.msg[0] != 0), "message \"%s\", backup %d", t.msg,
		   t.used_backup);
	fuzz_check(t.first_usable >= 2 && t.first_usable <= t.last_usable &&
			   t.last_usable + 2 <= k.n,
		   "usable %lu..%lu on %lu sectors", (unsigned long)t.first_usable,
		   (unsigned long)t.last_usable, (unsigned long)k.n);
	fuzz_check(t.nr_parts <= GPT_PARTS_MAX, "%u partitions", t.nr_parts);
	for (unsigned i = 0; i < t.nr_parts; i++) {
		const struct gpt_part *p = &t.parts[i];
		fuzz_check(p->first_lba >= t.first_usable && p->first_lba <= p->last_lba &&
				   p->last_lba <= t.last_usable,
			   "partition %u: %lu..%lu", p->number, (unsigned long)p->first_lba,
			   (unsigned long)p->last_lba);
		fuzz_check(p->number >= 1 && p->number <= GPT_ENTRIES_MAX, "number %u", p->number);
		fuzz_check(memchr(p->name, 0, sizeof(p->name)) != NULL, "name not NUL-terminated");
		for (unsigned j = 0; j < i; j++)
			fuzz_check(p->first_lba > t.parts[j].last_lba ||
					   t.parts[j].first_lba > p->last_lba,
				   "partitions %u and %u overlap", t.parts[j].number, p->number);
	}
	return 0;
}
