/*
 * The GUID Partition Table reader (UEFI 2.10 section 5.3): pure code
 * (no hypercalls, no allocation) so that the host tests and fuzzes it
 * (tests/unit/test_gpt.c, tests/fuzz/fuzz_gpt.c). dom0's partition
 * blkdevs (partition.c) are built from what it returns.
 *
 * Everything read from the disk is hostile. The reader checks, and
 * refuses a table with one line saying what and where:
 *  - the protective MBR at LBA 0 (0x55AA, a partition record of type
 *    0xEE);
 *  - a header: "EFI PART", revision 1.x, 92 <= HeaderSize <= sector
 *    size, HeaderCRC32 over HeaderSize bytes, MyLBA where it was read,
 *    FirstUsableLBA <= LastUsableLBA inside the disk and clear of both
 *    headers and of the entry array, the entry array inside the disk,
 *    1 <= NumberOfPartitionEntries <= GPT_ENTRIES_MAX, and
 *    SizeOfPartitionEntry a power of two times 128 no larger than a
 *    sector (so that no entry straddles a sector);
 *  - PartitionEntryArrayCRC32 over count * size bytes;
 *  - every used entry (type GUID not zero): StartingLBA <= EndingLBA,
 *    both inside [FirstUsableLBA, LastUsableLBA], no two used entries
 *    overlapping.
 * If the primary header (LBA 1) or its entry array is bad, the backup
 * header (the disk's last LBA) is tried; the table is refused only when
 * both are bad. Sector sizes 512 and 4096 are supported.
 */
#ifndef GUEST_DOM0_STORAGE_GPT_H
#define GUEST_DOM0_STORAGE_GPT_H

#include <lib/types.h>

#define GPT_ENTRIES_MAX 1024  /* more than any tool writes (128 usual) */
#define GPT_PARTS_MAX 16      /* used entries kept; further ones are counted */
#define GPT_NAME_MAX 109      /* 36 UTF-16 units as UTF-8, plus NUL */
#define GPT_MSG_MAX 160

struct gpt_part {
	unsigned number;        /* 1-based index of the entry in the array */
	u8 type_guid[16];       /* as stored (mixed-endian, see gpt_guid_str) */
	u8 unique_guid[16];
	u64 first_lba, last_lba; /* inclusive, in the disk's sectors */
	u64 attributes;
	char name[GPT_NAME_MAX]; /* UTF-8, NUL-terminated */
};

struct gpt_table {
	u8 disk_guid[16];
	u64 first_usable, last_usable;
	bool used_backup;        /* the primary was bad; msg says why */
	unsigned nr_parts;
	unsigned nr_ignored;     /* used entries beyond GPT_PARTS_MAX */
	struct gpt_part parts[GPT_PARTS_MAX];
	char msg[GPT_MSG_MAX];   /* the refusal, or why the backup was used */
};

/* Reads sector `lba` (sector_size bytes) into buf: 0 or a negative errno. */
typedef int (*gpt_read_fn)(void *ctx, u64 lba, void *buf);

/*
 * Reads the GPT of a disk of `sectors` sectors of `sector_size` bytes
 * (512 or 4096) through `read`, with `scratch` a buffer of sector_size
 * bytes. Returns 0 with *t filled (t->msg empty, or saying the primary
 * was bad and the backup was used); -ENOENT if there is no protective
 * MBR or no GPT signature in either header (not a GPT disk: t->msg
 * says so); -EINVAL for a corrupt table (t->msg: what and where);
 * -EIO (or the reader's error) when a sector could not be read.
 */
int gpt_read(gpt_read_fn read, void *ctx, u32 sector_size, u64 sectors, void *scratch,
	     struct gpt_table *t);

/* CRC-32 (IEEE 802.3, reflected, as UEFI uses) of n bytes, continuing crc
 * (start with 0). */
u32 gpt_crc32(u32 crc, const void *p, size_t n);

/* The GUID as text, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case;
 * the first three fields are stored little-endian). buf >= 37 bytes. */
void gpt_guid_str(const u8 guid[16], char *buf);
/* Parses that text (either case) into the stored form: 0 or -EINVAL. */
int gpt_guid_parse(const char *s, u8 guid[16]);

#endif
