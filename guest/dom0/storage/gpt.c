/*
 * The GPT reader (contract in gpt.h). Layouts: UEFI 2.10 section 5.2.3
 * (protective MBR), 5.3.2 (GPT header), 5.3.3 (partition entry).
 *
 * The entry array is streamed one sector at a time through the caller's
 * scratch sector: its CRC is accumulated and its entries parsed in the
 * same pass, and the result is thrown away if the CRC does not match.
 * No value from the disk is used as an index or a length before it has
 * been bounded (entry size <= sector size, count <= GPT_ENTRIES_MAX, LBAs
 * inside the disk), so a hostile table costs at most
 * GPT_ENTRIES_MAX * 4096 / 512 sector reads per header.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include "gpt.h"

/* UEFI 2.10 table 5-5: the header's fields, by byte offset. */
enum {
	H_SIGNATURE = 0, H_REVISION = 8, H_SIZE = 12, H_CRC = 16, H_RESERVED = 20,
	H_MY_LBA = 24, H_ALTERNATE_LBA = 32, H_FIRST_USABLE = 40, H_LAST_USABLE = 48,
	H_DISK_GUID = 56, H_ENTRIES_LBA = 72, H_NR_ENTRIES = 80, H_ENTRY_SIZE = 84,
	H_ENTRIES_CRC = 88, H_MIN_SIZE = 92,
};
/* Table 5-6: a partition entry's fields. */
enum {
	E_TYPE = 0, E_UNIQUE = 16, E_FIRST = 32, E_LAST = 40, E_ATTR = 48, E_NAME = 56,
	E_NAME_UNITS = 36, E_MIN_SIZE = 128,
};

static u32 le32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static u64 le64(const u8 *p)
{
	return le32(p) | (u64)le32(p + 4) << 32;
}

u32 gpt_crc32(u32 crc, const void *p, size_t n)
{
	const u8 *b = p;

	/* Bitwise: the tables are at most a few hundred KiB, read once. */
	crc = ~crc;
	while (n--) {
		crc ^= *b++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
	}
	return ~crc;
}

static bool guid_zero(const u8 *g)
{
	for (int i = 0; i < 16; i++)
		if (g[i])
			return false;
	return true;
}

/* The text order of the 16 stored bytes: the first three fields are
 * little-endian (UEFI 2.10 appendix A). */
static const u8 guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

void gpt_guid_str(const u8 guid[16], char *buf)
{
	static const char hex[] = "0123456789abcdef";
	char *p = buf;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		u8 b = guid[guid_order[i]];
		*p++ = hex[b >> 4];
		*p++ = hex[b & 15];
	}
	*p = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int gpt_guid_parse(const char *s, u8 guid[16])
{
	for (int i = 0; i < 16; i++) {
		if ((i == 4 || i == 6 || i == 8 || i == 10) && *s++ != '-')
			return -EINVAL;
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		guid[guid_order[i]] = (u8)(hi << 4 | lo);
		s += 2;
	}
	return *s ? -EINVAL : 0;
}

/* UTF-16LE (up to `units`, stopping at NUL) to UTF-8; unpaired
 * surrogates become '?'. out has GPT_NAME_MAX bytes: 36 units of at most
 * 3 bytes each (a surrogate pair is 2 units for 4 bytes). */
static void utf16_name(const u8 *p, unsigned units, char *out)
{
	size_t o = 0;

	for (unsigned i = 0; i < units; i++) {
		u32 c = p[2 * i] | (u32)p[2 * i + 1] << 8;
		if (!c)
			break;
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
			u32 lo = p[2 * i + 2] | (u32)p[2 * i + 3] << 8;
			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				i++;
			}
		}
		if (c >= 0xd800 && c < 0xe000)
			c = '?';
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | c >> 18);
			out[o++] = (char)(0x80 | ((c >> 12) & 0x3f));
			out[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	out[o] = 0;
}

struct hdr {
	u64 lba;
	u64 first_usable, last_usable;
	u64 entries_lba;
	u32 nr_entries, entry_size, entries_crc;
	u64 array_sectors;
	u8 disk_guid[16];
};

struct ctx {
	gpt_read_fn read;
	void *rctx;
	u32 ss;
	u64 sectors;
	u8 *buf;
};

/* Checks the header read from `lba` (in c->buf): 0, or -ENOENT (no
 * signature) / -EINVAL with msg set. */
static int check_header(const struct ctx *c, u64 lba, struct hdr *h, char *msg)
{
	const u8 *b = c->buf;
	const char *what = lba == 1 ? "primary" : "backup";
	u64 last = c->sectors - 1;

	if (memcmp(b + H_SIGNATURE, "EFI PART", 8)) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: no \"EFI PART\" signature", what,
			 lba);
		return -ENOENT;
	}
	u32 rev = le32(b + H_REVISION), size = le32(b + H_SIZE);
	if (rev >> 16 != 1) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: revision 0x%x, not 1.x", what, lba,
			 rev);
		return -EINVAL;
	}
	if (size < H_MIN_SIZE || size > c->ss) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: header size %u outside 92..%u", what,
			 lba, size, c->ss);
		return -EINVAL;
	}
	/* The CRC covers HeaderSize bytes with its own field as zero
	 * (UEFI 5.3.2). */
	static const u8 zero[4];
	u32 want = le32(b + H_CRC);
	u32 got = gpt_crc32(gpt_crc32(gpt_crc32(0, b, H_CRC), zero, 4), b + H_RESERVED,
			    size - H_RESERVED);
	if (got != want) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: header CRC32 0x%08x, computed 0x%08x",
			 what, lba, want, got);
		return -EINVAL;
	}
	h->lba = le64(b + H_MY_LBA);
	if (h->lba != lba) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: MyLBA is %lu", what, lba, h->lba);
		return -EINVAL;
	}
	h->first_usable = le64(b + H_FIRST_USABLE);
	h->last_usable = le64(b + H_LAST_USABLE);
	/* Usable space lies between the two headers (LBA 0 is the MBR). The
	 * AlternateLBA is not checked: a disk grown since the table was
	 * written has it short of the end, and Linux accepts that too. */
	if (h->first_usable > h->last_usable || h->first_usable < 2 || h->last_usable >= last) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: usable LBAs %lu..%lu not inside "
			 "2..%lu", what, lba, h->first_usable, h->last_usable, last - 1);
		return -EINVAL;
	}
	h->nr_entries = le32(b + H_NR_ENTRIES);
	h->entry_size = le32(b + H_ENTRY_SIZE);
	h->entries_crc = le32(b + H_ENTRIES_CRC);
	memcpy(h->disk_guid, b + H_DISK_GUID, 16);
	/* 128 * 2^n (UEFI 5.3.2); no larger than a sector here, so that
	 * entries never straddle the sectors they are streamed in. */
	if (h->entry_size < E_MIN_SIZE || h->entry_size > c->ss ||
	    (h->entry_size & (h->entry_size - 1))) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: entry size %u is not 128*2^n <= %u",
			 what, lba, h->entry_size, c->ss);
		return -EINVAL;
	}
	if (h->nr_entries < 1 || h->nr_entries > GPT_ENTRIES_MAX) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: %u entries, not 1..%u", what, lba,
			 h->nr_entries, GPT_ENTRIES_MAX);
		return -EINVAL;
	}
	h->entries_lba = le64(b + H_ENTRIES_LBA);
	h->array_sectors = ((u64)h->nr_entries * h->entry_size + c->ss - 1) / c->ss;
	/* The array: past the MBR and primary header, before the backup
	 * header, clear of the usable space. entries_lba is bounded before
	 * the sum, so a_end cannot wrap. */
	u64 a_end = h->entries_lba + h->array_sectors - 1;
	if (h->entries_lba < 2 || h->entries_lba >= last || a_end >= last ||
	    (h->entries_lba <= h->last_usable && a_end >= h->first_usable)) {
		snprintf(msg, GPT_MSG_MAX, "%s header at LBA %lu: entry array %lu+%lu outside 2..%lu "
			 "or in usable LBAs", what, lba, h->entries_lba, h->array_sectors, last - 1);
		return -EINVAL;
	}
	return 0;
}

/* Reads and checks the entry array of h into t: 0, -EINVAL, or a read
 * error (t->msg set). */
static int read_entries(const struct ctx *c, const struct hdr *h, struct gpt_table *t)
{
	const char *what = h->lba == 1 ? "primary" : "backup";
	u32 crc = 0;
	unsigned per = c->ss / h->entry_size, idx = 0;

	t->nr_parts = t->nr_ignored = 0;
	for (u64 s = 0; s < h->array_sectors; s++) {
		int rc = c->read(c->rctx, h->entries_lba + s, c->buf);
		if (rc) {
			snprintf(t->msg, GPT_MSG_MAX, "%s entry array: reading LBA %lu: error %d", what,
				 h->entries_lba + s, rc);
			return rc;
		}
		for (unsigned i = 0; i < per && idx < h->nr_entries; i++, idx++) {
			const u8 *e = c->buf + i * h->entry_size;
			crc = gpt_crc32(crc, e, h->entry_size);
			if (guid_zero(e + E_TYPE))
				continue; /* unused (UEFI 5.3.3) */
			u64 first = le64(e + E_FIRST), lastl = le64(e + E_LAST);
			if (first > lastl || first < h->first_usable || lastl > h->last_usable) {
				snprintf(t->msg, GPT_MSG_MAX, "%s entry %u: LBAs %lu..%lu not inside "
					 "usable %lu..%lu", what, idx + 1, first, lastl,
					 h->first_usable, h->last_usable);
				return -EINVAL;
			}
			if (t->nr_parts == GPT_PARTS_MAX) {
				t->nr_ignored++;
				continue;
			}
			struct gpt_part *p = &t->parts[t->nr_parts++];
			p->number = idx + 1;
			memcpy(p->type_guid, e + E_TYPE, 16);
			memcpy(p->unique_guid, e + E_UNIQUE, 16);
			p->first_lba = first;
			p->last_lba = lastl;
			p->attributes = le64(e + E_ATTR);
			utf16_name(e + E_NAME, E_NAME_UNITS, p->name);
		}
	}
	if (crc != h->entries_crc) {
		snprintf(t->msg, GPT_MSG_MAX, "%s entry array at LBA %lu: CRC32 0x%08x, computed "
			 "0x%08x", what, h->entries_lba, h->entries_crc, crc);
		return -EINVAL;
	}
	/* Two partitions sharing a sector would let two users of the disk
	 * write each other's data. */
	for (unsigned i = 0; i < t->nr_parts; i++)
		for (unsigned j = i + 1; j < t->nr_parts; j++) {
			const struct gpt_part *a = &t->parts[i], *b = &t->parts[j];
			if (a->first_lba <= b->last_lba && b->first_lba <= a->last_lba) {
				snprintf(t->msg, GPT_MSG_MAX, "%s entries %u and %u overlap (LBAs "
					 "%lu..%lu, %lu..%lu)", what, a->number, b->number,
					 a->first_lba, a->last_lba, b->first_lba, b->last_lba);
				return -EINVAL;
			}
		}
	memcpy(t->disk_guid, h->disk_guid, 16);
	t->first_usable = h->first_usable;
	t->last_usable = h->last_usable;
	return 0;
}

/* One header and its array: 0, -ENOENT (no signature), -EINVAL, or a
 * read error; t->msg says which. */
static int try_header(const struct ctx *c, u64 lba, struct gpt_table *t)
{
	struct hdr h;
	int rc = c->read(c->rctx, lba, c->buf);

	if (rc) {
		snprintf(t->msg, GPT_MSG_MAX, "reading the header at LBA %lu: error %d", lba, rc);
		return rc;
	}
	rc = check_header(c, lba, &h, t->msg);
	return rc ? rc : read_entries(c, &h, t);
}

/* dst = a + sep + b, cut at GPT_MSG_MAX - 1 characters. */
static void join(char *dst, const char *a, const char *sep, const char *b)
{
	const char *parts[3] = { a, sep, b };
	size_t o = 0;

	for (int i = 0; i < 3; i++)
		for (const char *s = parts[i]; *s && o < GPT_MSG_MAX - 1; s++)
			dst[o++] = *s;
	dst[o] = 0;
}

int gpt_read(gpt_read_fn read, void *rctx, u32 sector_size, u64 sectors, void *scratch,
	     struct gpt_table *t)
{
	struct ctx c = { read, rctx, sector_size, sectors, scratch };
	char primary[GPT_MSG_MAX], backup[GPT_MSG_MAX];
	int rc, rc2;

	memset(t, 0, sizeof(*t));
	if (sector_size != 512 && sector_size != 4096) {
		snprintf(t->msg, GPT_MSG_MAX, "sector size %u is not 512 or 4096", sector_size);
		return -EINVAL;
	}
	/* MBR, primary header, one array sector, one usable, backup. */
	if (sectors < 5) {
		snprintf(t->msg, GPT_MSG_MAX, "%lu sectors: too small for a GPT", sectors);
		return -ENOENT;
	}
	rc = read(rctx, 0, scratch);
	if (rc) {
		snprintf(t->msg, GPT_MSG_MAX, "reading the MBR at LBA 0: error %d", rc);
		return rc;
	}
	/* UEFI 5.2.3: a record of OSType 0xEE among the four at byte 446 (a
	 * hybrid MBR, 0xEE beside other types, is accepted as Linux does). */
	const u8 *mbr = scratch;
	bool sig = mbr[510] == 0x55 && mbr[511] == 0xaa, ee = false;
	for (int i = 0; i < 4 && sig; i++)
		ee |= mbr[446 + 16 * i + 4] == 0xee;
	if (!ee) {
		snprintf(t->msg, GPT_MSG_MAX, "LBA 0: no protective MBR (%s)",
			 sig ? "no record of type 0xEE" : "no 0x55AA signature");
		return -ENOENT;
	}
	rc = try_header(&c, 1, t);
	if (!rc)
		return 0;
	join(primary, t->msg, "", "");
	rc2 = try_header(&c, sectors - 1, t);
	if (!rc2) {
		t->used_backup = true; /* the primary's reason is kept for the log */
		join(t->msg, primary, "; ", "using the backup");
		return 0;
	}
	join(backup, t->msg, "", "");
	memset(t, 0, sizeof(*t)); /* nothing half-filled for a careless caller */
	if (rc == -ENOENT && rc2 == -ENOENT) {
		snprintf(t->msg, GPT_MSG_MAX, "protective MBR but no GPT header at LBA 1 or %lu",
			 sectors - 1);
		return -ENOENT;
	}
	join(t->msg, primary, "; ", backup);
	if (rc != -EINVAL && rc != -ENOENT)
		return rc; /* a read error */
	if (rc2 != -EINVAL && rc2 != -ENOENT)
		return rc2;
	return -EINVAL;
}
