/*
 * dom0's kernel-file loader, pure parts (guest/dom0/image/): each
 * decoder against what the host's own compressor writes (xz, gzip, lz4
 * run through popen, as scripts/install-deps installs them), corrupt and
 * truncated streams with the exact messages, the bzImage setup header's
 * bounds, the format dispatch's refusals, and the compact ELF for a
 * preloaded build.
 *
 * unit-sources: guest/dom0/image/image.c guest/dom0/image/bzimage.c guest/dom0/image/elfpack.c guest/dom0/image/xz.c guest/dom0/image/lzma2.c guest/dom0/image/gzip.c guest/dom0/image/lz4.c guest/dom0/image/zstd.c guest/dom0/image/crc.c guest/dom0/image/decode.c lib/format.c lib/string.c
 */
#include <lib/errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../guest/dom0/image/bzimage.h"
#include "../../guest/dom0/image/elfpack.h"
#include "../../guest/dom0/image/gzip.h"
#include "../../guest/dom0/image/image.h"
#include "../../guest/dom0/image/lz4.h"
#include "../../guest/dom0/image/xz.h"
#include "../../guest/dom0/image/zstd.h"
#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* These cases run the host's compressors, which take seconds on a
 * loaded machine: more than Check's default 4 s per case (Check reads
 * this when main() creates the cases; an explicit setting wins). */
__attribute__((constructor)) static void longer_timeout(void)
{
	setenv("CK_DEFAULT_TIMEOUT", "30", 0);
}

#define DATA_LEN (1u << 20) /* many LZMA2 chunks (64 KiB of input each at most) */

static char err[256];

/* Compressible, x86-like test data: runs, repeats at many distances,
 * E8/E9 bytes with small operands (BCJ converts them), a little noise. */
static u8 *make_data(size_t n)
{
	u8 *d = malloc(n);
	u32 x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		if (i % 4096 < 64)
			d[i] = (u8)(x >> 24); /* noise */
		else if (i % 37 == 0)
			d[i] = 0xE8;
		else if (i > 3000 && i % 5 == 0)
			d[i] = d[i - 3000 + (x >> 28)];
		else
			d[i] = (u8)(i * 7 / 13);
	}
	return d;
}

/* data through `cmd` (reading stdin, writing stdout). */
static u8 *run_tool(const char *cmd, const u8 *data, size_t n, size_t *out_n)
{
	char in_path[] = "/tmp/keel-unit-XXXXXX", line[512];
	int fd = mkstemp(in_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
	snprintf(line, sizeof(line), "%s < %s", cmd, in_path);
	FILE *p = popen(line, "r");
	ck_assert_ptr_nonnull(p);
	size_t cap = n + 65536, got = 0, r;
	u8 *out = malloc(cap);
	while ((r = fread(out + got, 1, cap - got, p)) > 0)
		got += r;
	ck_assert_msg(pclose(p) == 0, "'%s' failed (installed? scripts/install-deps)", cmd);
	unlink(in_path);
	*out_n = got;
	return out;
}

static int decode(int (*fn)(struct dec_buf *), const u8 *in, size_t n, u8 *out, size_t cap,
		  size_t *out_n)
{
	struct dec_buf b = { .in = in, .in_len = n, .out = out, .out_cap = cap, .err = err,
			     .errlen = sizeof(err) };
	err[0] = 0;
	int rc = fn(&b);
	*out_n = b.out_pos;
	return rc;
}

static void roundtrip_n(int (*fn)(struct dec_buf *), const char *cmd, size_t len)
{
	u8 *data = make_data(len), *out = malloc(len);
	size_t zn, on;
	u8 *z = run_tool(cmd, data, len, &zn);

	ck_assert_msg(decode(fn, z, zn, out, len, &on) == 0, "%s: %s", cmd, err);
	ck_assert_uint_eq(on, len);
	ck_assert_msg(!memcmp(out, data, len), "%s: output differs", cmd);
	/* one byte of room too few */
	ck_assert_int_eq(decode(fn, z, zn, out, len - 1, &on), -E2BIG);
	free(z);
	free(out);
	free(data);
}

static void roundtrip(int (*fn)(struct dec_buf *), const char *cmd)
{
	roundtrip_n(fn, cmd, DATA_LEN);
}

START_TEST(xz_decodes_what_xz_writes)
{
	roundtrip(xz_decode, "xz -c -T1 -0 --x86 --lzma2=preset=0 --check=crc32"); /* Linux's way */
	roundtrip_n(xz_decode, "xz -c -T1 -1 --check=crc64", 300000);
}
END_TEST

START_TEST(xz_decodes_other_settings)
{
	roundtrip_n(xz_decode, "xz -c -T1 -1 --check=none", 300000);
	roundtrip_n(xz_decode, "xz -c -T1 --lzma2=preset=1,lc=1,lp=3,pb=0", 300000);
	roundtrip_n(xz_decode, "xz -c -T2 -1 --block-size=30001", 300000); /* many blocks */
}
END_TEST

START_TEST(xz_refuses_corruption_with_its_cause)
{
	u8 *data = make_data(100000), *out = malloc(100000);
	size_t zn, on;
	u8 *z = run_tool("xz -c -T1 --check=crc32", data, 100000, &zn);

	/* the block's check sits just before the index */
	u32 backward = get_le32(z + zn - 8);
	size_t check = zn - 12 - (backward + 1) * 4 - 4;
	z[check] ^= 1;
	ck_assert_int_eq(decode(xz_decode, z, zn, out, 100000, &on), -EINVAL);
	ck_assert_str_eq(err, "xz: block 0: CRC32 mismatch (data corrupt)");
	z[check] ^= 1;
	z[8] ^= 1;
	ck_assert_int_eq(decode(xz_decode, z, zn, out, 100000, &on), -EINVAL);
	ck_assert_str_eq(err, "xz: stream header CRC32 mismatch");
	z[8] ^= 1;
	ck_assert_int_eq(decode(xz_decode, z, zn - 12, out, 100000, &on), -EINVAL);
	ck_assert_str_eq(err, "xz: stream footer missing");
	ck_assert_int_eq(decode(xz_decode, z, zn / 2, out, 100000, &on), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "xz: "));
	/* damage inside the LZMA2 data: refused, whatever the symptom */
	for (size_t at = 40; at < zn - 40; at += zn / 7) {
		z[at] ^= 0x10;
		ck_assert_int_ne(decode(xz_decode, z, zn, out, 100000, &on), 0);
		ck_assert_int_eq(strncmp(err, "xz: ", 4), 0);
		z[at] ^= 0x10;
	}
	free(z);
	z = run_tool("xz -c -T1 --check=sha256", data, 100000, &zn);
	ck_assert_int_eq(decode(xz_decode, z, zn, out, 100000, &on), -EOPNOTSUPP);
	ck_assert_str_eq(err, "xz: check type 10 (SHA-256) not supported (CRC32, CRC64, none)");
	free(z);
	free(out);
	free(data);
}
END_TEST

START_TEST(gzip_decodes_what_gzip_writes)
{
	roundtrip(gzip_decode, "gzip -c -9 -n");
	roundtrip(gzip_decode, "gzip -c -1"); /* with the file name field */
	/* noise: stored blocks */
	u8 noise[70000], out[70000];
	size_t zn, on;
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (u8)((i * 2654435761u) >> 13);
	u8 *z = run_tool("gzip -c", noise, sizeof(noise), &zn);
	ck_assert_int_eq(decode(gzip_decode, z, zn, out, sizeof(out), &on), 0);
	ck_assert(!memcmp(out, noise, sizeof(noise)));
	z[zn - 8] ^= 1;
	ck_assert_int_eq(decode(gzip_decode, z, zn, out, sizeof(out), &on), -EINVAL);
	ck_assert_str_eq(err, "gzip: CRC32 mismatch (data corrupt)");
	z[2] = 9;
	ck_assert_int_eq(decode(gzip_decode, z, zn, out, sizeof(out), &on), -EOPNOTSUPP);
	ck_assert_str_eq(err, "gzip: compression method 9 is not deflate");
	free(z);
}
END_TEST

START_TEST(lz4_decodes_legacy_frames)
{
	roundtrip(lz4_decode, "lz4 -l -9 -c");
	roundtrip(lz4_decode, "lz4 -l -1 -c");
	/* Linux's appended size is left alone */
	u8 *data = make_data(50000), out[50000];
	size_t zn, on;
	u8 *z = run_tool("lz4 -l -c", data, 50000, &zn);
	z = realloc(z, zn + 4);
	memcpy(z + zn, "\x50\xc3\x00\x00", 4);
	ck_assert_int_eq(decode(lz4_decode, z, zn + 4, out, sizeof(out), &on), 0);
	ck_assert_uint_eq(on, 50000);
	/* a first match offset reaching before the block */
	static const u8 bad[] = { 0x02, 0x21, 0x4c, 0x18, 6, 0, 0, 0, 0x10, 'a', 0x05, 0x00, 0x00,
				  0x00 };
	ck_assert_int_eq(decode(lz4_decode, bad, sizeof(bad), out, sizeof(out), &on), -EINVAL);
	ck_assert_str_eq(err, "lz4: block 0: offset 5 outside the block's output");
	free(z);
	free(data);
}
END_TEST

START_TEST(zstd_decodes_what_zstd_writes)
{
	roundtrip(zstd_decode, "zstd -q -c -9");
	roundtrip_n(zstd_decode, "zstd -q -c -1 --no-check", 300000);
	/* noise: raw blocks; two frames back to back, then Linux's size */
	static u8 noise[200000], out[400000];
	size_t zn, on;
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (u8)((i * 2654435761u) >> 13);
	u8 *z = run_tool("zstd -q -c", noise, sizeof(noise), &zn);
	z = realloc(z, 2 * zn + 4);
	memcpy(z + zn, z, zn);
	memcpy(z + 2 * zn, "\x40\x0d\x06\x00", 4);
	ck_assert_int_eq(decode(zstd_decode, z, 2 * zn + 4, out, sizeof(out), &on), 0);
	ck_assert_uint_eq(on, 2 * sizeof(noise));
	ck_assert(!memcmp(out, noise, sizeof(noise)) && !memcmp(out + sizeof(noise), noise, sizeof(noise)));
	free(z);
}
END_TEST

START_TEST(zstd_refuses_corruption_with_its_cause)
{
	u8 *data = make_data(100000), *out = malloc(100000);
	size_t zn, on;
	u8 *z = run_tool("zstd -q -c -3", data, 100000, &zn);

	z[zn - 1] ^= 1; /* the content checksum */
	ck_assert_int_eq(decode(zstd_decode, z, zn, out, 100000, &on), -EINVAL);
	ck_assert_str_eq(err, "zstd: content checksum mismatch (data corrupt)");
	z[zn - 1] ^= 1;
	ck_assert_int_eq(decode(zstd_decode, z, zn / 2, out, 100000, &on), -EINVAL);
	ck_assert_int_eq(strncmp(err, "zstd: ", 6), 0);
	for (size_t at = 20; at < zn - 20; at += zn / 7) {
		z[at] ^= 0x22;
		ck_assert_int_ne(decode(zstd_decode, z, zn, out, 100000, &on), 0);
		ck_assert_int_eq(strncmp(err, "zstd: ", 6), 0);
		z[at] ^= 0x22;
	}
	/* a frame that needs a dictionary */
	static const u8 dict[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x01, 0x00, 0x07, 0, 0, 0 };
	ck_assert_int_eq(decode(zstd_decode, dict, sizeof(dict), out, 100000, &on), -EOPNOTSUPP);
	ck_assert_str_eq(err, "zstd: frame needs dictionary 7");
	free(z);
	free(out);
	free(data);
}
END_TEST

/* A minimal bzImage: 1 setup sector, protocol 2.15, the payload after. */
static size_t make_bzimage(u8 *f, const u8 *payload, size_t n)
{
	memset(f, 0, 1024);
	f[0x1F1] = 1;
	f[0x1FE] = 0x55;
	f[0x1FF] = 0xAA;
	memcpy(f + 0x202, "HdrS", 4);
	f[0x206] = 0x0F;
	f[0x207] = 0x02;
	u32 off = 0, len = (u32)n;
	memcpy(f + 0x248, &off, 4);
	memcpy(f + 0x24C, &len, 4);
	memcpy(f + 1024, payload, n);
	return 1024 + n;
}

static void *ualloc(void *ctx, size_t n)
{
	(void)ctx;
	return malloc(n);
}

static void ufree(void *ctx, void *p, size_t n)
{
	(void)ctx;
	(void)n;
	free(p);
}

static const struct image_mem umem = { ualloc, ufree, NULL, NULL };

static unsigned progress_calls;

static void count_progress(void *ctx)
{
	ck_assert_ptr_eq(ctx, &progress_calls);
	progress_calls++;
}

START_TEST(bzimage_header_fields_are_bounded)
{
	static u8 f[4096];
	struct bzimage bz;
	size_t n = make_bzimage(f, (const u8 *)"\x7f" "ELFxxxx", 8);

	ck_assert_int_eq(bzimage_parse(f, n, &bz, err, sizeof(err)), 0);
	ck_assert_uint_eq(bz.payload_off, 1024);
	ck_assert_uint_eq(bz.payload_len, 8);
	ck_assert_uint_eq(bz.version, 0x20F);
	ck_assert_int_eq(bzimage_parse(f, 0x200, &bz, err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(bzimage_parse(f, 0x240, &bz, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "bzImage: setup header truncated (file is 0x240 bytes, needs 0x264)");
	ck_assert_int_eq(bzimage_parse(f, n - 1, &bz, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "bzImage: payload 0x0+0x8 ends past the end of the file (0x407 bytes)");
	f[0x1F1] = 200;
	ck_assert_int_eq(bzimage_parse(f, n, &bz, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "bzImage: 200 setup sectors end past the end of the file (0x408 bytes)");
	f[0x1F1] = 1;
	f[0x206] = 0x07;
	ck_assert_int_eq(bzimage_parse(f, n, &bz, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "bzImage: boot protocol 2.07 is older than 2.08 (no payload fields)");
	f[0x206] = 0x0F;
	f[0x1FE] = 0;
	ck_assert_int_eq(bzimage_parse(f, n, &bz, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "bzImage: boot flag 0xaa00 is not 0xAA55");
}
END_TEST

START_TEST(image_unpack_names_what_it_refuses)
{
	static u8 f[200000];
	struct image_result r;
	u8 *data = make_data(60000);
	memcpy(data, "\x7f" "ELF", 4);
	size_t zn;
	u8 *z = run_tool("xz -c -T1 --x86 --lzma2 --check=crc32", data, 60000, &zn);
	z = realloc(z, zn + 4);
	u32 size = 60000;
	memcpy(z + zn, &size, 4);

	/* a bzImage with an xz payload and Linux's appended size */
	size_t n = make_bzimage(f, z, zn + 4);
	ck_assert_int_eq(image_unpack(f, n, &umem, &r, err, sizeof(err)), 0);
	ck_assert(r.bzimage && r.container == IMG_XZ && r.elf_len == 60000);
	ck_assert(!memcmp(r.elf, data, 60000));
	free(r.owned);
	/* the trailer disagrees with the stream */
	size = 60001;
	memcpy(f + n - 4, &size, 4);
	ck_assert_int_eq(image_unpack(f, n, &umem, &r, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "bzImage: payload decompressed to 60000 bytes, its trailer says 60001");
	/* formats Keel names but does not decode */
	static const struct {
		const char *magic, *name;
	} refused[] = { { "BZh9", "bzip2" }, { "\x5d\0\0\x80", "lzma" }, { "\x89LZO", "lzo" } };
	for (unsigned i = 0; i < 3; i++) {
		n = make_bzimage(f, (const u8 *)refused[i].magic, 4);
		ck_assert_int_eq(image_unpack(f, n, &umem, &r, err, sizeof(err)), -EOPNOTSUPP);
		char want[160];
		snprintf(want, sizeof(want),
			 "bzImage payload: %s-compressed, which Keel does not decompress (xz, gzip, lz4, zstd)",
			 refused[i].name);
		ck_assert_str_eq(err, want);
	}
	ck_assert_int_eq(image_unpack((const u8 *)"hello, world", 12, &umem, &r, err, sizeof(err)),
			 -ENOEXEC);
	ck_assert_str_eq(err, "kernel image: neither ELF nor a known compressed format (xz, gzip, lz4, zstd)");
	/* a plain ELF is passed through untouched */
	ck_assert_int_eq(image_unpack(data, 60000, &umem, &r, err, sizeof(err)), 0);
	ck_assert(r.elf == data && !r.owned && r.container == IMG_ELF);
	free(z);
	free(data);
}
END_TEST

/* A long unpack gives its caller control about every MiB of output (dom0
 * runs its loop there): 6 MiB of each format, one xz block of it, calls
 * the hook at least 5 times and still decodes every byte. */
START_TEST(image_unpack_calls_progress_about_every_mib)
{
	static const char *const tools[] = { "xz -c -T1 -0 --check=crc64", "gzip -c -1",
					     "lz4 -l -1 -c", "zstd -q -c -1" };
	const size_t len = 6u << 20;
	u8 *data = make_data(len);
	memcpy(data, "\x7f" "ELF", 4);
	struct image_mem mem = { ualloc, ufree, &progress_calls, count_progress };

	for (unsigned i = 0; i < 4; i++) {
		struct image_result r;
		size_t zn;
		u8 *z = run_tool(tools[i], data, len, &zn);
		progress_calls = 0;
		ck_assert_msg(image_unpack(z, zn, &mem, &r, err, sizeof(err)) == 0, "%s: %s",
			      tools[i], err);
		ck_assert_uint_eq(r.elf_len, len);
		ck_assert(!memcmp(r.elf, data, len));
		ck_assert_msg(progress_calls >= 5, "%s: %u progress calls", tools[i], progress_calls);
		free(r.owned);
		free(z);
	}
	free(data);
}
END_TEST

/* An ELF64 with two PT_LOADs, a PT_NOTE and a PT_GNU_STACK. */
static size_t make_elf(u8 *e)
{
	memset(e, 0, 0x3000);
	memcpy(e, "\x7f" "ELF\x02\x01\x01", 7);
	u16 half;
	half = 2;
	memcpy(e + 16, &half, 2); /* ET_EXEC */
	half = 62;
	memcpy(e + 18, &half, 2); /* x86-64 */
	u64 phoff = 64;
	memcpy(e + 32, &phoff, 8);
	half = 56;
	memcpy(e + 54, &half, 2);
	half = 4;
	memcpy(e + 56, &half, 2);
	struct {
		u32 type, flags;
		u64 off, vaddr, paddr, filesz, memsz, align;
	} ph[4] = {
		{ 1, 5, 0x1000, 0, 0x100000, 0x800, 0x800, 0x1000 },
		{ 1, 6, 0x2000, 0, 0x200000, 0x100, 0x5000, 0x1000 },
		{ 4, 4, 0x1800, 0, 0, 24, 24, 4 },
		{ 0x6474e551, 6, 0, 0, 0, 0, 0, 16 },
	};
	memcpy(e + 64, ph, sizeof(ph));
	u32 note[6] = { 4, 4, 18, 0x006e6558, 0x100010, 0 }; /* "Xen", PHYS32_ENTRY */
	memcpy(e + 0x1800, note, 24);
	return 0x3000;
}

START_TEST(elfpack_keeps_headers_and_notes_only)
{
	static u8 e[0x3000], out[ELFPACK_OUT_MAX];
	struct elfpack pk;
	size_t n = make_elf(e);

	ck_assert_int_eq(elfpack_split(e, n, &pk, out, err, sizeof(err)), 0);
	ck_assert_uint_eq(pk.nr_segs, 2);
	ck_assert_uint_eq(pk.segs[1].paddr, 0x200000);
	ck_assert_uint_eq(pk.segs[1].offset, 0x2000);
	ck_assert_uint_eq(pk.segs[1].memsz, 0x5000);
	/* header + 4 phdrs + the 24 note bytes */
	ck_assert_uint_eq(pk.out_len, 64 + 4 * 56 + 24);
	u64 off, filesz, memsz;
	memcpy(&off, out + 64 + 56 + 8, 8);
	memcpy(&filesz, out + 64 + 56 + 32, 8);
	memcpy(&memsz, out + 64 + 56 + 40, 8);
	ck_assert(off == 0 && filesz == 0 && memsz == 0x5000);
	memcpy(&off, out + 64 + 2 * 56 + 8, 8);
	ck_assert_uint_eq(off, 64 + 4 * 56);
	ck_assert(!memcmp(out + off, e + 0x1800, 24));
	u32 type;
	memcpy(&type, out + 64 + 3 * 56, 4);
	ck_assert_uint_eq(type, 0); /* other types become PT_NULL */
	/* errors */
	u64 big = 0x10000;
	memcpy(e + 64 + 56 + 32, &big, 8);
	ck_assert_int_eq(elfpack_split(e, n, &pk, out, err, sizeof(err)), -ENOEXEC);
	ck_assert_str_eq(err, "ELF: program header 1: segment 0x2000+0x10000 extends past the end of the file (0x3000 bytes)");
	big = 0x100;
	memcpy(e + 64 + 56 + 32, &big, 8);
	u64 wrap = ~0ULL - 0x100;
	memcpy(e + 64 + 56 + 24, &wrap, 8);
	ck_assert_int_eq(elfpack_split(e, n, &pk, out, err, sizeof(err)), -ENOEXEC);
	ck_assert_str_eq(err, "ELF: program header 1: address 0xfffffffffffffeff + 0x5000 wraps around");
	ck_assert_int_eq(elfpack_split(e, 40, &pk, out, err, sizeof(err)), -ENOEXEC);
	ck_assert_str_eq(err, "ELF: not an ELF file (0x28 bytes)");
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "image-xz-decodes-what-xz-writes", &xz_decodes_what_xz_writes_ttest },
	{ "image-xz-decodes-other-settings", &xz_decodes_other_settings_ttest },
	{ "image-xz-refuses-corruption-with-its-cause", &xz_refuses_corruption_with_its_cause_ttest },
	{ "image-gzip-decodes-what-gzip-writes", &gzip_decodes_what_gzip_writes_ttest },
	{ "image-lz4-decodes-legacy-frames", &lz4_decodes_legacy_frames_ttest },
	{ "image-zstd-decodes-what-zstd-writes", &zstd_decodes_what_zstd_writes_ttest },
	{ "image-zstd-refuses-corruption-with-its-cause", &zstd_refuses_corruption_with_its_cause_ttest },
	{ "image-bzimage-header-fields-are-bounded", &bzimage_header_fields_are_bounded_ttest },
	{ "image-unpack-names-what-it-refuses", &image_unpack_names_what_it_refuses_ttest },
	{ "image-elfpack-keeps-headers-and-notes-only", &elfpack_keeps_headers_and_notes_only_ttest },
	{ "image-unpack-calls-progress-about-every-mib", &image_unpack_calls_progress_about_every_mib_ttest },
	{ 0 },
};
