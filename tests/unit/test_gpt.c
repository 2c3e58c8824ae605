/*
 * The GPT reader (guest/dom0/storage/gpt.c) on tables built here: good
 * ones (512- and 4096-byte sectors), each class of corruption in the
 * primary (the backup is then used, and the message says what was wrong
 * and where), both copies corrupt (refused), and a reader that fails.
 *
 * unit-sources: guest/dom0/storage/gpt.c
 */
#include <stdlib.h>
#include <string.h>
#include <lib/errno.h>
#include "../../guest/dom0/storage/gpt.h"

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

struct img {
	u32 ss;
	u64 n;
	u8 *d;
	u64 asec;   /* sectors of one entry array */
	int fail_lba; /* the reader fails this LBA (-1: none) */
	unsigned reads;
};

static void put32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (u8)(v >> (8 * i));
}

static void put64(u8 *p, u64 v)
{
	put32(p, (u32)v);
	put32(p + 4, (u32)(v >> 32));
}

static u8 *sec(struct img *im, u64 lba)
{
	return im->d + lba * im->ss;
}

static int img_read(void *ctx, u64 lba, void *buf)
{
	struct img *im = ctx;
	ck_assert_uint_lt(lba, im->n); /* the reader never asks past the disk */
	im->reads++;
	if ((int)lba == im->fail_lba)
		return -EIO;
	memcpy(buf, sec(im, lba), im->ss);
	return 0;
}

static u64 hdr_lba(struct img *im, bool primary)
{
	return primary ? 1 : im->n - 1;
}

/* Recomputes the header's CRC (after a test changed a field). */
static void fix_header(struct img *im, bool primary)
{
	u8 *h = sec(im, hdr_lba(im, primary));
	u32 size = 92;
	put32(h + 16, 0);
	put32(h + 16, gpt_crc32(0, h, size));
}

/* Recomputes the entry array's CRC, then the header's. */
static void fix_entries(struct img *im, bool primary)
{
	u8 *h = sec(im, hdr_lba(im, primary));
	u64 lba = 0;
	memcpy(&lba, h + 72, 8);
	u32 count, size;
	memcpy(&count, h + 80, 4);
	memcpy(&size, h + 84, 4);
	put32(h + 88, gpt_crc32(0, sec(im, lba), (size_t)count * size));
	fix_header(im, primary);
}

static u8 *entry(struct img *im, bool primary, unsigned i)
{
	u64 lba = primary ? 2 : im->n - 1 - im->asec;
	return sec(im, lba) + i * 128;
}

static void set_entry(struct img *im, unsigned i, u8 type, u64 first, u64 last, const char *name)
{
	for (int c = 0; c < 2; c++) {
		u8 *e = entry(im, c == 0, i);
		memset(e, 0, 128);
		memset(e, type, 16);
		for (int k = 0; k < 16; k++)
			e[16 + k] = (u8)(0x10 * (i + 1) + k);
		put64(e + 32, first);
		put64(e + 40, last);
		for (unsigned k = 0; name[k] && k < 36; k++)
			e[56 + 2 * k] = (u8)name[k];
	}
}

static void build(struct img *im, u32 ss, u64 n)
{
	im->ss = ss;
	im->n = n;
	im->d = calloc(n, ss);
	im->asec = 128 * 128 / ss;
	im->fail_lba = -1;
	im->reads = 0;
	u8 *mbr = sec(im, 0);
	mbr[446 + 4] = 0xee;
	put32(mbr + 446 + 8, 1);
	put32(mbr + 446 + 12, (u32)(n - 1));
	mbr[510] = 0x55;
	mbr[511] = 0xaa;
	for (int c = 0; c < 2; c++) {
		bool primary = c == 0;
		u8 *h = sec(im, hdr_lba(im, primary));
		memcpy(h, "EFI PART", 8);
		put32(h + 8, 0x00010000);
		put32(h + 12, 92);
		put64(h + 24, hdr_lba(im, primary));
		put64(h + 32, hdr_lba(im, !primary));
		put64(h + 40, 2 + im->asec);
		put64(h + 48, n - 2 - im->asec);
		memset(h + 56, 0xd1, 16);
		put64(h + 72, primary ? 2 : n - 1 - im->asec);
		put32(h + 80, 128);
		put32(h + 84, 128);
	}
	u64 fu = 2 + im->asec;
	set_entry(im, 0, 0xaf, fu, fu + 99, "boot");
	set_entry(im, 2, 0x0f, fu + 100, n - 2 - im->asec, "data");
	fix_entries(im, true);
	fix_entries(im, false);
}

static int parse(struct img *im, struct gpt_table *t)
{
	static u8 scratch[4096];
	return gpt_read(img_read, im, im->ss, im->n, scratch, t);
}

static void check_good(struct img *im, struct gpt_table *t)
{
	u64 fu = 2 + im->asec;
	ck_assert_uint_eq(t->nr_parts, 2);
	ck_assert_uint_eq(t->parts[0].number, 1);
	ck_assert_uint_eq(t->parts[0].first_lba, fu);
	ck_assert_uint_eq(t->parts[0].last_lba, fu + 99);
	ck_assert_str_eq(t->parts[0].name, "boot");
	ck_assert_uint_eq(t->parts[1].number, 3);
	ck_assert_uint_eq(t->parts[1].first_lba, fu + 100);
	ck_assert_uint_eq(t->parts[1].last_lba, im->n - 2 - im->asec);
	ck_assert_str_eq(t->parts[1].name, "data");
	ck_assert_uint_eq(t->parts[1].unique_guid[0], 0x30);
	ck_assert_uint_eq(t->first_usable, fu);
}

START_TEST(gpt_reads_a_good_table_512)
{
	struct img im;
	struct gpt_table t;
	build(&im, 512, 20480);
	ck_assert_int_eq(parse(&im, &t), 0);
	ck_assert_str_eq(t.msg, "");
	ck_assert(!t.used_backup);
	check_good(&im, &t);
	free(im.d);
}
END_TEST

START_TEST(gpt_reads_a_good_table_4096)
{
	struct img im;
	struct gpt_table t;
	build(&im, 4096, 2048);
	ck_assert_uint_eq(im.asec, 4);
	ck_assert_int_eq(parse(&im, &t), 0);
	check_good(&im, &t);
	/* The same table read as if the sectors were 512 bytes is not there. */
	static u8 scratch[4096];
	struct img as512 = im;
	as512.ss = 512;
	as512.n = im.n * 8;
	ck_assert_int_ne(gpt_read(img_read, &as512, 512, as512.n, scratch, &t), 0);
	free(im.d);
}
END_TEST

START_TEST(gpt_refuses_a_disk_without_protective_mbr)
{
	struct img im;
	struct gpt_table t;
	build(&im, 512, 4096);
	sec(&im, 0)[446 + 4] = 0x83;
	ck_assert_int_eq(parse(&im, &t), -ENOENT);
	ck_assert_str_eq(t.msg, "LBA 0: no protective MBR (no record of type 0xEE)");
	sec(&im, 0)[446 + 4] = 0xee;
	sec(&im, 0)[511] = 0;
	ck_assert_int_eq(parse(&im, &t), -ENOENT);
	ck_assert_str_eq(t.msg, "LBA 0: no protective MBR (no 0x55AA signature)");
	free(im.d);
}
END_TEST

/* One corruption of the primary copy: the backup must be used and the
 * message must name the problem. */
static void primary_bad(void (*corrupt)(struct img *), const char *expect)
{
	struct img im;
	struct gpt_table t;
	build(&im, 512, 20480);
	corrupt(&im);
	ck_assert_int_eq(parse(&im, &t), 0);
	ck_assert(t.used_backup);
	ck_assert_msg(strstr(t.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", t.msg, expect);
	ck_assert_msg(strstr(t.msg, "using the backup") != NULL, "message \"%s\"", t.msg);
	check_good(&im, &t);
	free(im.d);
}

static void c_sig(struct img *im) { sec(im, 1)[0] = 'X'; }
static void c_crc(struct img *im) { sec(im, 1)[60] ^= 1; }
static void c_rev(struct img *im) { put32(sec(im, 1) + 8, 0x00020000); fix_header(im, true); }
static void c_hsize(struct img *im) { put32(sec(im, 1) + 12, 513); fix_header(im, true); }
static void c_mylba(struct img *im) { put64(sec(im, 1) + 24, 7); fix_header(im, true); }
static void c_usable(struct img *im) { put64(sec(im, 1) + 48, im->n - 1); fix_header(im, true); }
static void c_usable_order(struct img *im) { put64(sec(im, 1) + 40, im->n - 20); fix_header(im, true); }
static void c_esize(struct img *im) { put32(sec(im, 1) + 84, 192); fix_header(im, true); }
static void c_esize_big(struct img *im) { put32(sec(im, 1) + 84, 1024); fix_header(im, true); }
static void c_count(struct img *im) { put32(sec(im, 1) + 80, 0x10000000); fix_header(im, true); }
static void c_count0(struct img *im) { put32(sec(im, 1) + 80, 0); fix_header(im, true); }
static void c_array_off_disk(struct img *im) { put64(sec(im, 1) + 72, im->n - 5); fix_header(im, true); }
static void c_array_huge_lba(struct img *im) { put64(sec(im, 1) + 72, ~0ULL - 3); fix_header(im, true); }
static void c_array_in_usable(struct img *im) { put64(sec(im, 1) + 72, 1000); fix_header(im, true); }
static void c_ecrc(struct img *im) { entry(im, true, 0)[40] ^= 1; }
static void c_entry_past(struct img *im)
{
	put64(entry(im, true, 2) + 40, im->n - 1 - im->asec);
	fix_entries(im, true);
}
static void c_entry_before(struct img *im)
{
	put64(entry(im, true, 0) + 32, 1);
	fix_entries(im, true);
}
static void c_entry_reversed(struct img *im)
{
	put64(entry(im, true, 0) + 32, 2 + im->asec + 50);
	put64(entry(im, true, 0) + 40, 2 + im->asec + 10);
	fix_entries(im, true);
}
static void c_overlap(struct img *im)
{
	put64(entry(im, true, 2) + 32, 2 + im->asec + 99);
	fix_entries(im, true);
}

START_TEST(gpt_uses_the_backup_for_each_bad_primary)
{
	primary_bad(c_sig, "primary header at LBA 1: no \"EFI PART\" signature");
	primary_bad(c_crc, "primary header at LBA 1: header CRC32 0x");
	primary_bad(c_rev, "revision 0x20000, not 1.x");
	primary_bad(c_hsize, "header size 513 outside 92..512");
	primary_bad(c_mylba, "MyLBA is 7");
	primary_bad(c_usable, "usable LBAs 34..20479 not inside 2..20478");
	primary_bad(c_usable_order, "usable LBAs 20460..20446 not inside");
	primary_bad(c_esize, "entry size 192 is not 128*2^n <= 512");
	primary_bad(c_esize_big, "entry size 1024 is not 128*2^n <= 512");
	primary_bad(c_count, "268435456 entries, not 1..1024");
	primary_bad(c_count0, "0 entries, not 1..1024");
	primary_bad(c_array_off_disk, "entry array 20475+32 outside");
	primary_bad(c_array_huge_lba, "entry array 18446744073709551612+32");
	primary_bad(c_array_in_usable, "entry array 1000+32 outside 2..20478 or in usable LBAs");
	primary_bad(c_ecrc, "primary entry array at LBA 2: CRC32 0x");
	primary_bad(c_entry_past, "primary entry 3: LBAs 134..20447 not inside usable 34..20446");
	primary_bad(c_entry_before, "primary entry 1: LBAs 1..133 not inside");
	primary_bad(c_entry_reversed, "primary entry 1: LBAs 84..44 not inside");
	primary_bad(c_overlap, "primary entries 1 and 3 overlap (LBAs 34..133, 133..20446)");
}
END_TEST

START_TEST(gpt_refuses_when_both_copies_are_bad)
{
	struct img im;
	struct gpt_table t;
	build(&im, 512, 20480);
	/* An overlap written consistently into both copies (CRCs right). */
	for (int c = 0; c < 2; c++) {
		put64(entry(&im, c == 0, 2) + 32, 2 + im.asec + 50);
		fix_entries(&im, c == 0);
	}
	ck_assert_int_eq(parse(&im, &t), -EINVAL);
	ck_assert_msg(strstr(t.msg, "primary entries 1 and 3 overlap") == t.msg, "%s", t.msg);
	ck_assert_uint_eq(t.nr_parts, 0);
	/* Header CRCs both wrong. */
	build(&im, 512, 20480);
	sec(&im, 1)[60] ^= 1;
	sec(&im, im.n - 1)[60] ^= 1;
	ck_assert_int_eq(parse(&im, &t), -EINVAL);
	ck_assert_msg(strstr(t.msg, "backup header at LBA 20479: header CRC32") != NULL, "%s", t.msg);
	/* No GPT header at all behind a protective MBR. */
	build(&im, 512, 20480);
	memset(sec(&im, 1), 0, 512);
	memset(sec(&im, im.n - 1), 0, 512);
	ck_assert_int_eq(parse(&im, &t), -ENOENT);
	ck_assert_str_eq(t.msg, "protective MBR but no GPT header at LBA 1 or 20479");
	free(im.d);
}
END_TEST

START_TEST(gpt_passes_on_read_errors)
{
	struct img im;
	struct gpt_table t;
	build(&im, 512, 20480);
	im.fail_lba = 0;
	ck_assert_int_eq(parse(&im, &t), -EIO);
	im.fail_lba = 5; /* in the primary array: the backup is read */
	ck_assert_int_eq(parse(&im, &t), 0);
	ck_assert(t.used_backup);
	ck_assert_msg(strstr(t.msg, "reading LBA 5: error -5") != NULL, "%s", t.msg);
	free(im.d);
}
END_TEST

START_TEST(gpt_keeps_sixteen_partitions_and_counts_the_rest)
{
	struct img im;
	struct gpt_table t;
	build(&im, 512, 20480);
	for (unsigned i = 0; i < 20; i++)
		set_entry(&im, i, 0x0f, 100 + 10 * i, 109 + 10 * i, "p");
	fix_entries(&im, true);
	fix_entries(&im, false);
	ck_assert_int_eq(parse(&im, &t), 0);
	ck_assert_uint_eq(t.nr_parts, GPT_PARTS_MAX);
	ck_assert_uint_eq(t.nr_ignored, 4);
	ck_assert_uint_eq(t.parts[15].number, 16);
	free(im.d);
}
END_TEST

START_TEST(gpt_names_and_guids_as_text)
{
	struct img im;
	struct gpt_table t;
	build(&im, 512, 20480);
	u8 *e = entry(&im, true, 0);
	memset(e + 56, 0, 72);
	/* "é", U+20AC, U+1F600 (a pair), a lone low surrogate, then 'x'. */
	static const u16 units[] = { 0xe9, 0x20ac, 0xd83d, 0xde00, 0xdc00, 'x' };
	for (unsigned k = 0; k < 6; k++)
		e[56 + 2 * k] = (u8)units[k], e[57 + 2 * k] = (u8)(units[k] >> 8);
	fix_entries(&im, true);
	ck_assert_int_eq(parse(&im, &t), 0);
	ck_assert(!t.used_backup);
	ck_assert_str_eq(t.parts[0].name, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80?x");

	char s[37];
	u8 g[16], back[16];
	for (int i = 0; i < 16; i++)
		g[i] = (u8)(i * 17);
	gpt_guid_str(g, s);
	ck_assert_str_eq(s, "33221100-5544-7766-8899-aabbccddeeff");
	ck_assert_int_eq(gpt_guid_parse("33221100-5544-7766-8899-AABBCCDDEEFF", back), 0);
	ck_assert_mem_eq(g, back, 16);
	ck_assert_int_eq(gpt_guid_parse("33221100-5544-7766-8899-aabbccddeef", back), -EINVAL);
	ck_assert_int_eq(gpt_guid_parse("33221100-5544-7766-8899-aabbccddeeff0", back), -EINVAL);
	ck_assert_int_eq(gpt_guid_parse("332211005544-7766-8899-aabbccddeeff0", back), -EINVAL);
	ck_assert_uint_eq(gpt_crc32(0, "123456789", 9), 0xcbf43926); /* the standard check */
	free(im.d);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "pvblk-gpt-reads-a-good-table-512", &gpt_reads_a_good_table_512_ttest },
	{ "pvblk-gpt-reads-a-good-table-4096", &gpt_reads_a_good_table_4096_ttest },
	{ "pvblk-gpt-refuses-a-disk-without-protective-mbr",
	  &gpt_refuses_a_disk_without_protective_mbr_ttest },
	{ "pvblk-gpt-uses-the-backup-for-each-bad-primary",
	  &gpt_uses_the_backup_for_each_bad_primary_ttest },
	{ "pvblk-gpt-refuses-when-both-copies-are-bad",
	  &gpt_refuses_when_both_copies_are_bad_ttest },
	{ "pvblk-gpt-passes-on-read-errors", &gpt_passes_on_read_errors_ttest },
	{ "pvblk-gpt-keeps-sixteen-partitions-and-counts-the-rest",
	  &gpt_keeps_sixteen_partitions_and_counts_the_rest_ttest },
	{ "pvblk-gpt-names-and-guids-as-text", &gpt_names_and_guids_as_text_ttest },
	{ 0 },
};
