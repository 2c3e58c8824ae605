/*
 * ELF parsing for the PVH domain builder: what elf_parse() accepts, what it
 * reads out of a good image, and the one-line reason it gives for a bad one.
 *
 * unit-sources: kernel/elf.c
 *
 * Images are built here byte by byte from the System V gABI layouts (ELF64
 * header 64 bytes, program header 56; ELF32 52 and 32) and Xen's note
 * format, independently of elf.c's own structures. elf.c's snprintf,
 * memcpy, memcmp and memset come from the host libc; it needs nothing else
 * from lib/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <keel/elf.h>
#include <lib/errno.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- image builder -------------------------------------------------------- */

#define PT_NULL 0
#define PT_LOAD 1
#define PT_NOTE 4
#define PT_GNU_STACK 0x6474e551
#define EM_386 3
#define EM_ARM 40
#define EM_X86_64 62
#define ET_EXEC 2
#define ET_DYN 3
#define NOTE_GUEST_OS 6
#define NOTE_PHYS32_ENTRY 18

struct seg {
	u32 type;
	u64 offset, paddr, filesz, memsz;
};

#define IMG_SIZE 0x3000
static u8 img_buf[IMG_SIZE];
static u64 img_size;
static struct elf_image img;
static char err[256];

static void put16(u64 off, u16 v) { memcpy(img_buf + off, &v, 2); }
static void put32(u64 off, u32 v) { memcpy(img_buf + off, &v, 4); }
static void put64(u64 off, u64 v) { memcpy(img_buf + off, &v, 8); }

/* Header offsets (gABI): e_type 16, e_machine 18, then per class. */
#define PHOFF_AT(is64) ((is64) ? 32 : 28)
#define PHENTSIZE_AT(is64) ((is64) ? 54 : 42)
#define PHNUM_AT(is64) ((is64) ? 56 : 44)
#define EHDR_SIZE(is64) ((is64) ? 64u : 52u)
#define PHDR_SIZE(is64) ((is64) ? 56u : 32u)

static void put_phdr(bool is64, unsigned i, const struct seg *s)
{
	u64 o = EHDR_SIZE(is64) + (u64)i * PHDR_SIZE(is64);
	if (is64) {
		put32(o, s->type);
		put32(o + 4, 5);           /* p_flags R+X */
		put64(o + 8, s->offset);
		put64(o + 16, s->paddr + 0xffffffff80000000ULL); /* p_vaddr: ignored */
		put64(o + 24, s->paddr);
		put64(o + 32, s->filesz);
		put64(o + 40, s->memsz);
		put64(o + 48, 0x1000);
	} else {
		put32(o, s->type);
		put32(o + 4, (u32)s->offset);
		put32(o + 8, (u32)s->paddr + 0xc0000000u);
		put32(o + 12, (u32)s->paddr);
		put32(o + 16, (u32)s->filesz);
		put32(o + 20, (u32)s->memsz);
		put32(o + 24, 5);
		put32(o + 28, 0x1000);
	}
}

/* A note: namesz, descsz, type, name padded to 4, desc padded to 4. */
static u64 put_note(u64 off, const char *name, u32 type, const void *desc, u32 descsz)
{
	u32 namesz = (u32)strlen(name) + 1;
	put32(off, namesz);
	put32(off + 4, descsz);
	put32(off + 8, type);
	memcpy(img_buf + off + 12, name, namesz);
	u64 d = off + 12 + ((namesz + 3) & ~3u);
	memcpy(img_buf + d, desc, descsz);
	return d + ((descsz + 3) & ~3u) - off;
}

#define ENTRY 0x100010
#define NOTE_OFF 0x200
#define NOTE2_OFF (NOTE_OFF + 24) /* after the GUEST_OS note: 12 + 4 + 8 */

/*
 * The standard good image: two PT_LOADs with a gap between them (one with
 * bss), a PT_NOTE holding a GUEST_OS note then the PHYS32_ENTRY note, and
 * a PT_GNU_STACK the parser must ignore.
 */
static struct seg segs[4];
static unsigned nsegs;

static void build(bool is64, u32 entry)
{
	memset(img_buf, 0, sizeof(img_buf));
	img_size = IMG_SIZE;
	memcpy(img_buf, "\x7f" "ELF", 4);
	img_buf[4] = is64 ? 2 : 1; /* EI_CLASS */
	img_buf[5] = 1;            /* EI_DATA: little-endian */
	img_buf[6] = 1;            /* EI_VERSION */
	put16(16, ET_EXEC);
	put16(18, is64 ? EM_X86_64 : EM_386);
	put32(20, 1);
	if (is64)
		put64(24, 0xffffffff81000000ULL); /* e_entry: not the PVH entry */
	else
		put32(24, 0xc1000000u);
	put64(PHOFF_AT(is64), 0); /* clear, then the right width */
	if (is64)
		put64(PHOFF_AT(is64), EHDR_SIZE(is64));
	else
		put32(PHOFF_AT(is64), EHDR_SIZE(is64));
	put16(PHENTSIZE_AT(is64) - 2, EHDR_SIZE(is64)); /* e_ehsize */
	put16(PHENTSIZE_AT(is64), PHDR_SIZE(is64));

	u64 e8 = entry; /* Linux writes an 8-byte descriptor in 64-bit kernels */
	u64 nlen = put_note(NOTE_OFF, "Xen", NOTE_GUEST_OS, "Keel", 5);
	ck_assert_uint_eq(NOTE_OFF + nlen, NOTE2_OFF);
	nlen += put_note(NOTE_OFF + nlen, "Xen", NOTE_PHYS32_ENTRY, &e8, is64 ? 8 : 4);

	nsegs = 0;
	segs[nsegs++] = (struct seg){ PT_LOAD, 0x1000, 0x100000, 0x1000, 0x3000 };
	segs[nsegs++] = (struct seg){ PT_NOTE, NOTE_OFF, 0, nlen, nlen };
	segs[nsegs++] = (struct seg){ PT_LOAD, 0x2000, 0x200000, 0x800, 0x800 };
	segs[nsegs++] = (struct seg){ PT_GNU_STACK, 0, 0, 0, 0 };
}

/* Writes segs[] into the image (after a test has edited them). */
static void commit(bool is64)
{
	put16(PHNUM_AT(is64), (u16)nsegs);
	for (unsigned i = 0; i < nsegs; i++)
		put_phdr(is64, i, &segs[i]);
}

static int parse(void)
{
	memset(err, 0x5a, sizeof(err));
	err[sizeof(err) - 1] = 0;
	memset(&img, 0x5a, sizeof(img));
	return elf_parse(img_buf, img_size, &img, err, sizeof(err));
}

/* Expects -ENOEXEC and an error line that contains `want`. */
#define expect_reject(what, want)                                                    \
	do {                                                                         \
		int rc_ = parse();                                                   \
		ck_assert_msg(rc_ == -ENOEXEC && strstr(err, (want)) != NULL,        \
			      "%s:\n  got  rc %d \"%s\"\n  want rc %d, a message with \"%s\"", \
			      (what), rc_, rc_ ? err : "", -ENOEXEC, (want));       \
	} while (0)

#define expect_load(i, pa, off, fsz, msz)                                            \
	ck_assert_msg(img.load[i].paddr == (pa) && img.load[i].offset == (off) &&    \
			      img.load[i].filesz == (fsz) && img.load[i].memsz == (msz), \
		      "load[%d] = paddr %#llx offset %#llx filesz %#llx memsz %#llx; want " \
		      "%#llx %#llx %#llx %#llx", (i), (unsigned long long)img.load[i].paddr, \
		      (unsigned long long)img.load[i].offset,                        \
		      (unsigned long long)img.load[i].filesz,                        \
		      (unsigned long long)img.load[i].memsz, (unsigned long long)(pa), \
		      (unsigned long long)(off), (unsigned long long)(fsz),          \
		      (unsigned long long)(msz))

static void expect_good_image(bool is64)
{
	int rc = parse();
	ck_assert_msg(rc == 0, "good ELF%d: rc %d \"%s\"", is64 ? 64 : 32, rc, err);
	ck_assert_msg(img.is64 == is64, "is64 %d, want %d", img.is64, is64);
	ck_assert_msg(img.phys32_entry == ENTRY, "phys32_entry %#x, want %#x", img.phys32_entry,
		      ENTRY);
	ck_assert_msg(img.nr_load == 2, "nr_load %u, want 2", img.nr_load);
	expect_load(0, 0x100000ULL, 0x1000ULL, 0x1000ULL, 0x3000ULL);
	expect_load(1, 0x200000ULL, 0x2000ULL, 0x800ULL, 0x800ULL);
	ck_assert_msg(img.lowest == 0x100000 && img.highest == 0x200800,
		      "span %#llx-%#llx, want 0x100000-0x200800", (unsigned long long)img.lowest,
		      (unsigned long long)img.highest);
}

/* ---- tests ---------------------------------------------------------------- */

START_TEST(accepts_elf64_pvh_kernel)
{
	build(true, ENTRY);
	commit(true);
	expect_good_image(true);
}
END_TEST

START_TEST(accepts_elf32_pvh_kernel)
{
	build(false, ENTRY);
	commit(false);
	expect_good_image(false);

	/* i386 inside an ELF64 container is what Xen accepts too. */
	build(true, ENTRY);
	commit(true);
	put16(18, EM_386);
	expect_good_image(true);
}
END_TEST

START_TEST(rejects_bad_header)
{
	build(true, ENTRY);
	commit(true);
	img_buf[1] = 'X';
	expect_reject("bad magic", "bad magic");
	img_buf[1] = 'E';

	img_size = 40; /* shorter than any ELF header */
	expect_reject("40-byte file", "not an ELF file (size 0x28");
	img_size = 60; /* an ELF32 header fits, an ELF64 one does not */
	expect_reject("60-byte ELF64", "ELF64 header truncated");
	img_size = IMG_SIZE;

	img_buf[5] = 2;
	expect_reject("big-endian", "ELF is not little-endian");
	img_buf[5] = 1;

	img_buf[4] = 3;
	expect_reject("class 3", "ELF class 3 is neither 32- nor 64-bit");
	img_buf[4] = 2;

	put16(18, EM_ARM);
	expect_reject("ARM machine", "ELF machine 40 is not x86-64 or i386");
	put16(18, EM_X86_64);

	put16(16, ET_DYN);
	expect_reject("ET_DYN", "ELF type 3 is not an executable");
	put16(16, ET_EXEC);

	put16(PHENTSIZE_AT(true), 32);
	expect_reject("phentsize 32 in ELF64", "ELF program header size 32, expected 56");
	put16(PHENTSIZE_AT(true), 56);

	put16(PHNUM_AT(true), 0);
	expect_reject("no program headers", "ELF has no program headers");
}
END_TEST

START_TEST(rejects_program_headers_past_eof)
{
	build(true, ENTRY);
	commit(true);
	put64(PHOFF_AT(true), IMG_SIZE - 100); /* 4 x 56 bytes do not fit */
	expect_reject("phoff near EOF",
		      "program headers (0x2f9c + 4 x 56) extend past the end of the file (0x3000 bytes)");
	put64(PHOFF_AT(true), 0xffffffffffffff00ULL);
	expect_reject("phoff far past EOF", "extend past the end of the file");

	build(false, ENTRY);
	commit(false);
	put16(PHNUM_AT(false), 0xffff);
	expect_reject("ELF32 with 65535 phdrs",
		      "program headers (0x34 + 65535 x 32) extend past the end of the file");
}
END_TEST

START_TEST(rejects_segment_past_eof)
{
	build(true, ENTRY);
	segs[2].filesz = 0x1001; /* 0x2000 + 0x1001 > 0x3000 */
	segs[2].memsz = 0x2000;
	commit(true);
	expect_reject("PT_LOAD one byte past EOF",
		      "program header 2: segment 0x2000+0x1001 extends past the end of the file (0x3000 bytes)");

	build(true, ENTRY);
	segs[2].offset = 0xfffffffffffff000ULL; /* offset + filesz wraps */
	segs[2].filesz = 0x2000;
	segs[2].memsz = 0x2000;
	commit(true);
	expect_reject("PT_LOAD offset wrapping", "program header 2: segment 0xfffffffffffff000+0x2000");

	build(true, ENTRY);
	segs[1].filesz = 0x4000;
	commit(true);
	expect_reject("PT_NOTE past EOF", "program header 1: segment 0x200+0x4000 extends past");
}
END_TEST

START_TEST(rejects_memsz_below_filesz_and_wrap)
{
	build(true, ENTRY);
	segs[2].memsz = 0x400;
	commit(true);
	expect_reject("memsz < filesz",
		      "program header 2: memory size 0x400 smaller than file size 0x800");

	build(true, ENTRY);
	segs[2].paddr = 0xfffffffffffff000ULL;
	segs[2].memsz = 0x2000;
	commit(true);
	expect_reject("segment wrapping 2^64",
		      "program header 2: address 0xfffffffffffff000 + 0x2000 wraps around");
}
END_TEST

START_TEST(rejects_overlapping_segments)
{
	build(true, ENTRY);
	segs[2].paddr = 0x102800; /* inside the first segment's bss */
	commit(true);
	expect_reject("overlap in bss",
		      "program header 2: segment 0x102800-0x103000 overlaps segment 0x100000-0x103000");

	build(true, ENTRY);
	segs[2].paddr = 0xff800; /* ends exactly where the first one starts: fine */
	commit(true);
	int rc = parse();
	ck_assert_msg(rc == 0, "touching segments: rc %d \"%s\", want 0", rc, err);

	build(true, ENTRY);
	segs[2].paddr = 0xff801; /* one byte into it */
	commit(true);
	expect_reject("one byte overlap", "overlaps segment 0x100000-0x103000");
}
END_TEST

START_TEST(rejects_no_load_segment)
{
	build(true, ENTRY);
	segs[0].type = PT_NULL;
	segs[2].type = PT_NULL;
	commit(true);
	expect_reject("no PT_LOAD", "ELF has no loadable segment");

	/* A PT_LOAD with nothing in memory does not count either. */
	build(true, ENTRY);
	segs[0].type = PT_NULL;
	segs[2].filesz = segs[2].memsz = 0;
	commit(true);
	expect_reject("only an empty PT_LOAD", "ELF has no loadable segment");
}
END_TEST

START_TEST(rejects_missing_phys32_note)
{
	/* The entry note with another type (XEN_ELFNOTE_ENTRY, the PV one). */
	build(true, ENTRY);
	commit(true);
	put32(NOTE2_OFF + 8, 1);
	expect_reject("no type-18 note",
		      "no PVH entry point (Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY)");

	/* The right type under another owner. */
	build(true, ENTRY);
	commit(true);
	memcpy(img_buf + NOTE2_OFF + 12, "Lin", 4);
	expect_reject("type 18 owned by \"Lin\"", "no PVH entry point");

	/* No PT_NOTE segment at all: the note bytes are there but unlisted. */
	build(true, ENTRY);
	segs[1].type = PT_NULL;
	commit(true);
	expect_reject("no PT_NOTE", "no PVH entry point");

	/* A PT_NOTE cut short inside the entry note. */
	build(true, ENTRY);
	segs[1].filesz -= 4;
	commit(true);
	expect_reject("truncated note", "no PVH entry point");
}
END_TEST

START_TEST(rejects_entry_outside_segments)
{
	build(true, 0x300000);
	commit(true);
	expect_reject("entry above",
		      "PVH entry 0x300000 lies outside the loaded segments 0x100000-0x200800");
	build(true, 0xfffff);
	commit(true);
	expect_reject("entry one byte below", "PVH entry 0xfffff lies outside");
	build(true, 0x200800);
	commit(true);
	expect_reject("entry at the end", "PVH entry 0x200800 lies outside");
}
END_TEST

/* The gap between two segments is not loaded: nothing to execute there. */
START_TEST(rejects_entry_between_segments)
{
	build(true, 0x180000);
	commit(true);
	expect_reject("entry in the gap 0x103000-0x200000", "PVH entry 0x180000");
}
END_TEST

/* Keel's own dom0 as the build produces it (KEEL_DOM0_ELF overrides the
 * path). Skipped, with a note, when it has not been built. */
START_TEST(parses_built_dom0)
{
	const char *path = getenv("KEEL_DOM0_ELF") ? getenv("KEEL_DOM0_ELF") : "build/dom0.elf";
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "elf-parses-built-dom0: %s not found, skipped\n", path);
		return;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	rewind(f);
	u8 *data = malloc(size);
	ck_assert_ptr_nonnull(data);
	ck_assert_msg(fread(data, 1, size, f) == (size_t)size, "short read of %s", path);
	fclose(f);

	memset(err, 0, sizeof(err));
	int rc = elf_parse(data, size, &img, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: rc %d \"%s\"", path, rc, err);
	ck_assert_msg(img.is64 && img.nr_load >= 1, "%s: is64 %d nr_load %u", path, img.is64,
		      img.nr_load);
	/* guest/guest.mk: DOM0_BASE 0x1000000. */
	ck_assert_msg(img.lowest == 0x1000000, "%s: lowest %#llx, want 0x1000000", path,
		      (unsigned long long)img.lowest);
	ck_assert_msg(img.phys32_entry >= img.lowest && img.phys32_entry < img.highest,
		      "%s: entry %#x outside %#llx-%#llx", path, img.phys32_entry,
		      (unsigned long long)img.lowest, (unsigned long long)img.highest);
	for (unsigned i = 0; i < img.nr_load; i++)
		ck_assert_msg(img.load[i].offset + img.load[i].filesz <= (u64)size,
			      "%s: load[%u] past EOF", path, i);
	free(data);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "elf-accepts-elf64-pvh-kernel", &accepts_elf64_pvh_kernel_ttest },
	{ "elf-accepts-elf32-pvh-kernel", &accepts_elf32_pvh_kernel_ttest },
	{ "elf-rejects-bad-header", &rejects_bad_header_ttest },
	{ "elf-rejects-program-headers-past-eof", &rejects_program_headers_past_eof_ttest },
	{ "elf-rejects-segment-past-eof", &rejects_segment_past_eof_ttest },
	{ "elf-rejects-memsz-below-filesz-and-wrap", &rejects_memsz_below_filesz_and_wrap_ttest },
	{ "elf-rejects-overlapping-segments", &rejects_overlapping_segments_ttest },
	{ "elf-rejects-no-load-segment", &rejects_no_load_segment_ttest },
	{ "elf-rejects-missing-phys32-note", &rejects_missing_phys32_note_ttest },
	{ "elf-rejects-entry-outside-segments", &rejects_entry_outside_segments_ttest },
	{ "elf-rejects-entry-between-segments", &rejects_entry_between_segments_ttest },
	{ "elf-parses-built-dom0", &parses_built_dom0_ttest },
	{ 0 },
};
