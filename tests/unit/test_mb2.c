/*
 * The multiboot2 loader's translation of GRUB's boot information into
 * struct boot_info.
 *
 * unit-sources: boot/multiboot2/mb2.c
 *
 * The information structure is built here from the Multiboot2
 * specification (section 3.6: u32 total_size, u32 reserved, then tags of
 * u32 type, u32 size, each starting 8-byte aligned, ending with a type-0
 * tag of size 8), independently of mb2.h. mb2_to_boot_info() takes a
 * 32-bit physical address, as the trampoline passes it: on the host the
 * buffer is mapped below 2 GiB with MAP_32BIT and its address is that
 * "physical" one.
 *
 * mb2.c needs memset (host libc) and strlcpy, which glibc lacks before 2.38
 * (Debian 12 has 2.36) and which lib/string.c would bring in along
 * with its own memset/memcpy/strlen (interposing on libc's): it is written
 * out below to include/lib/string.h's contract.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <keel/boot_info.h>

#include "unit.h"

/* START_TEST(fn) also defines a pointer variable `fn`, which a file-scope
 * initialiser cannot read: unit_cases[] takes &fn_ttest instead. */
#pragma GCC diagnostic ignored "-Wunused-variable"

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

/* ---- information-structure builder ----------------------------------------- */

#define BUF_SIZE 0x10000

static u8 *buf;     /* below 4 GiB */
static u32 at;      /* next tag offset */
static struct boot_info *bi;

static u32 buf_pa(void) { return (u32)(uintptr_t)buf; }
static void put32(u32 off, u32 v) { memcpy(buf + off, &v, 4); }
static void put64(u32 off, u64 v) { memcpy(buf + off, &v, 8); }

static void begin(void)
{
	if (!buf) {
		void *p = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		ck_assert_msg(p != MAP_FAILED, "mmap(MAP_32BIT) failed");
		ck_assert_msg((uintptr_t)p < 0x100000000ULL, "buffer at %p is above 4 GiB", p);
		buf = p;
	}
	memset(buf, 0xa5, BUF_SIZE); /* nothing outside the tags may matter */
	put32(4, 0);                 /* reserved */
	at = 8;
}

/* Starts a tag with `payload` bytes after its 8-byte header; returns the
 * payload's offset. The next tag starts at the following 8-byte boundary. */
static u32 tag(u32 type, u32 payload)
{
	u32 off = at;
	ck_assert_uint_le(at + 8 + payload, BUF_SIZE - 16);
	put32(off, type);
	put32(off + 4, 8 + payload);
	at = (off + 8 + payload + 7) & ~7u;
	return off + 8;
}

static void tag_string(u32 type, const char *s)
{
	u32 p = tag(type, (u32)strlen(s) + 1);
	memcpy(buf + p, s, strlen(s) + 1);
}

static void tag_module(u32 start, u32 end, const char *s)
{
	u32 p = tag(3, 8 + (u32)strlen(s) + 1);
	put32(p, start);
	put32(p + 4, end);
	memcpy(buf + p + 8, s, strlen(s) + 1);
}

struct e820 {
	u64 base, len;
	u32 type;
};

/* Memory map tag (type 6) with entries of `entry_size` bytes (24 today;
 * the spec lets it grow, extra bytes after the known fields). */
static void tag_mmap(const struct e820 *e, unsigned n, u32 entry_size)
{
	u32 p = tag(6, 8 + n * entry_size);
	put32(p, entry_size);
	put32(p + 4, 0); /* entry_version */
	for (unsigned i = 0; i < n; i++) {
		u32 q = p + 8 + i * entry_size;
		put64(q, e[i].base);
		put64(q + 8, e[i].len);
		put32(q + 16, e[i].type);
		put32(q + 20, 0);
	}
}

/* ACPI old (14, RSDPv1: 20 bytes) or new (15, RSDPv2: 36 bytes) tag;
 * returns the RSDP copy's "physical" address. */
static u64 tag_acpi(u32 type)
{
	u32 p = tag(type, type == 14 ? 20 : 36);
	memcpy(buf + p, "RSD PTR ", 8);
	return buf_pa() + p;
}

/* Closes the structure: end tag, total_size, then converts it. */
static void end(void)
{
	tag(0, 0);
	put32(0, at);
	bi = mb2_to_boot_info(buf_pa());
	ck_assert_ptr_nonnull(bi);
}

#define expect_module(i, want_base, want_len, want_name, want_cmdline)              \
	ck_assert_msg(bi->modules[i].base == (want_base) &&                          \
			      bi->modules[i].len == (want_len) &&                    \
			      strcmp(bi->modules[i].name, (want_name)) == 0 &&       \
			      strcmp(bi->modules[i].cmdline, (want_cmdline)) == 0,   \
		      "module %d: base %#llx len %#llx name \"%s\" cmdline \"%s\"; want " \
		      "%#llx %#llx \"%s\" \"%s\"", (i),                              \
		      (unsigned long long)bi->modules[i].base,                       \
		      (unsigned long long)bi->modules[i].len, bi->modules[i].name,   \
		      bi->modules[i].cmdline, (unsigned long long)(want_base),       \
		      (unsigned long long)(want_len), (want_name), (want_cmdline))

/* ---- tests ---------------------------------------------------------------- */

START_TEST(header_and_cmdline)
{
	begin();
	tag_string(2, "GRUB 2.06-13+deb12u1");  /* boot loader name: ignored */
	tag_string(1, "console=com1,115200 loglvl=debug");
	end();
	ck_assert_msg(bi->magic == BOOT_INFO_MAGIC && bi->version == BOOT_INFO_VERSION,
		      "magic %#llx version %u; want %#llx %u", (unsigned long long)bi->magic,
		      bi->version, (unsigned long long)BOOT_INFO_MAGIC, BOOT_INFO_VERSION);
	ck_assert_str_eq(bi->loader, "multiboot2");
	ck_assert_str_eq(bi->cmdline, "console=com1,115200 loglvl=debug");
	ck_assert_msg(bi->nr_modules == 0 && bi->nr_mmap == 0 && bi->rsdp == 0 && bi->fb.base == 0,
		      "modules %u mmap %u rsdp %#llx fb %#llx; want all 0", bi->nr_modules,
		      bi->nr_mmap, (unsigned long long)bi->rsdp, (unsigned long long)bi->fb.base);
}
END_TEST

START_TEST(long_cmdline_cut)
{
	char line[700];
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	begin();
	tag_string(1, line);
	end();
	ck_assert_msg(strlen(bi->cmdline) == BOOT_CMDLINE_MAX - 1 &&
			      strncmp(bi->cmdline, line, BOOT_CMDLINE_MAX - 1) == 0,
		      "cmdline of 699 chars kept %zu chars, want %d", strlen(bi->cmdline),
		      BOOT_CMDLINE_MAX - 1);
}
END_TEST

START_TEST(modules_name_and_cmdline_split)
{
	begin();
	/* GRUB: "module2 /dom0.elf dom0 console=keel loglvl=debug" */
	tag_module(0x200000, 0x215a38, "dom0 console=keel loglvl=debug");
	tag_module(0x216000, 0x217000, "  pvtest   role=ping  id=2");
	tag_module(0x218000, 0x218001, "initrd");
	tag_module(0x219000, 0x21a000, "");
	end();
	ck_assert_uint_eq(bi->nr_modules, 4);
	expect_module(0, 0x200000ULL, 0x15a38ULL, "dom0", "console=keel loglvl=debug");
	expect_module(1, 0x216000ULL, 0x1000ULL, "pvtest", "role=ping  id=2");
	expect_module(2, 0x218000ULL, 0x1ULL, "initrd", "");
	expect_module(3, 0x219000ULL, 0x1000ULL, "", "");
}
END_TEST

START_TEST(module_long_name_cut)
{
	begin();
	/* 40 characters: the first 31 are kept, the rest is not the cmdline. */
	tag_module(0x300000, 0x301000, "abcdefghijklmnopqrstuvwxyz0123456789ABCD quiet");
	end();
	expect_module(0, 0x300000ULL, 0x1000ULL, "abcdefghijklmnopqrstuvwxyz01234", "quiet");
}
END_TEST

START_TEST(too_many_modules_counted)
{
	begin();
	for (u32 i = 0; i < BOOT_MODULES_MAX + 2; i++) {
		char s[32];
		snprintf(s, sizeof(s), "m%u arg=%u", i, i);
		tag_module(0x1000000 + i * 0x1000, 0x1000000 + i * 0x1000 + 0x800, s);
	}
	u64 rsdp = tag_acpi(15);
	end();
	ck_assert_msg(bi->nr_modules == BOOT_MODULES_MAX + 2,
		      "nr_modules %u, want %u (the kernel reports the overflow)", bi->nr_modules,
		      BOOT_MODULES_MAX + 2);
	expect_module(0, 0x1000000ULL, 0x800ULL, "m0", "arg=0");
	expect_module(BOOT_MODULES_MAX - 1, 0x1000000ULL + (BOOT_MODULES_MAX - 1) * 0x1000,
		      0x800ULL, "m15", "arg=15");
	/* What follows modules[] is intact. */
	ck_assert_msg(bi->rsdp == rsdp, "rsdp %#llx after module overflow, want %#llx",
		      (unsigned long long)bi->rsdp, (unsigned long long)rsdp);
}
END_TEST

START_TEST(mmap_types_mapped)
{
	static const struct e820 e[] = {
		{ 0x0, 0x9fc00, 1 },         { 0x9fc00, 0x400, 2 },
		{ 0x100000, 0x7fe00000, 1 }, { 0x7ff00000, 0x10000, 3 },
		{ 0x7ff10000, 0x10000, 4 },  { 0x7ff20000, 0x1000, 5 },
		{ 0x7ff21000, 0x1000, 0 },   { 0x7ff22000, 0x1000, 6 },
		{ 0x100000000ULL, 0x40000000, 7 }, { 0x140000000ULL, 0x1000, 0xffffffff },
	};
	static const u32 want_type[] = { 1, 2, 1, 3, 4, 5, 2, 2, 2, 2 };
	for (u32 entry_size = 24; entry_size <= 32; entry_size += 8) {
		begin();
		tag_mmap(e, ARRAY_SIZE(e), entry_size);
		end();
		ck_assert_msg(bi->nr_mmap == ARRAY_SIZE(e), "entry_size %u: nr_mmap %u, want %zu",
			      entry_size, bi->nr_mmap, ARRAY_SIZE(e));
		for (unsigned i = 0; i < ARRAY_SIZE(e); i++)
			ck_assert_msg(bi->mmap[i].base == e[i].base && bi->mmap[i].len == e[i].len &&
					      bi->mmap[i].type == want_type[i],
				      "entry_size %u, entry %u: %#llx+%#llx type %u; want %#llx+%#llx "
				      "type %u (from type %u)", entry_size, i,
				      (unsigned long long)bi->mmap[i].base,
				      (unsigned long long)bi->mmap[i].len, bi->mmap[i].type,
				      (unsigned long long)e[i].base, (unsigned long long)e[i].len,
				      want_type[i], e[i].type);
	}
}
END_TEST

START_TEST(mmap_capped_at_max)
{
	static struct e820 e[BOOT_MMAP_MAX + 20];
	for (unsigned i = 0; i < ARRAY_SIZE(e); i++)
		e[i] = (struct e820){ (u64)i << 20, 1 << 20, 1 };
	begin();
	tag_mmap(e, ARRAY_SIZE(e), 24);
	tag_string(1, "after-the-map");
	end();
	ck_assert_msg(bi->nr_mmap == BOOT_MMAP_MAX, "nr_mmap %u from %zu entries, want %d",
		      bi->nr_mmap, ARRAY_SIZE(e), BOOT_MMAP_MAX);
	ck_assert_msg(bi->mmap[BOOT_MMAP_MAX - 1].base == (u64)(BOOT_MMAP_MAX - 1) << 20,
		      "last kept entry base %#llx", (unsigned long long)bi->mmap[BOOT_MMAP_MAX - 1].base);
	ck_assert_str_eq(bi->cmdline, "after-the-map");
}
END_TEST

START_TEST(acpi_rsdp_address)
{
	/* New only: the address of the RSDP copy inside the tag. */
	begin();
	u64 v2 = tag_acpi(15);
	end();
	ck_assert_msg(bi->rsdp == v2, "rsdp %#llx, want the ACPI-new tag's copy at %#llx",
		      (unsigned long long)bi->rsdp, (unsigned long long)v2);

	/* Old only. */
	begin();
	u64 v1 = tag_acpi(14);
	end();
	ck_assert_msg(bi->rsdp == v1, "rsdp %#llx, want the ACPI-old tag's copy at %#llx",
		      (unsigned long long)bi->rsdp, (unsigned long long)v1);

	/* Both, in either order: the ACPI 2.0 one (XSDT) wins. */
	begin();
	tag_acpi(14);
	v2 = tag_acpi(15);
	end();
	ck_assert_msg(bi->rsdp == v2, "old then new: rsdp %#llx, want %#llx",
		      (unsigned long long)bi->rsdp, (unsigned long long)v2);
	begin();
	v2 = tag_acpi(15);
	tag_acpi(14);
	end();
	ck_assert_msg(bi->rsdp == v2, "new then old: rsdp %#llx, want %#llx",
		      (unsigned long long)bi->rsdp, (unsigned long long)v2);
}
END_TEST

START_TEST(framebuffer)
{
	begin();
	/* addr u64, pitch, width, height u32, bpp u8, type u8 (1 = RGB),
	 * reserved, then the RGB field positions and sizes. */
	u32 p = tag(8, 8 + 12 + 4 + 6);
	put64(p, 0xfd000000);
	put32(p + 8, 1280 * 4);
	put32(p + 12, 1280);
	put32(p + 16, 800);
	buf[p + 20] = 32;
	buf[p + 21] = 1;
	buf[p + 22] = buf[p + 23] = 0;
	memcpy(buf + p + 24, "\x10\x08\x08\x08\x00\x08", 6);
	end();
	ck_assert_msg(bi->fb.base == 0xfd000000 && bi->fb.pitch == 5120 && bi->fb.width == 1280 &&
			      bi->fb.height == 800 && bi->fb.bpp == 32,
		      "fb base %#llx pitch %u %ux%u bpp %u; want 0xfd000000 5120 1280x800 32",
		      (unsigned long long)bi->fb.base, bi->fb.pitch, bi->fb.width, bi->fb.height,
		      bi->fb.bpp);
}
END_TEST

START_TEST(unknown_tags_skipped_end_stops)
{
	begin();
	u32 p = tag(21, 4); /* image load base physical address: size 12 */
	put32(p, 0x100000);
	p = tag(4, 8); /* basic memory information */
	put32(p, 639);
	put32(p + 4, 2096000);
	tag(0x7777, 3); /* made-up, odd size */
	tag_module(0x400000, 0x401000, "dom0");
	tag_string(1, "first");
	tag(0, 0);
	/* Past the end tag, still inside total_size: must not be read. */
	tag_string(1, "second");
	tag_module(0x500000, 0x501000, "ghost");
	put32(0, at);
	bi = mb2_to_boot_info(buf_pa());
	ck_assert_str_eq(bi->cmdline, "first");
	ck_assert_msg(bi->nr_modules == 1, "nr_modules %u, want 1 (tags after the end tag read?)",
		      bi->nr_modules);
	expect_module(0, 0x400000ULL, 0x1000ULL, "dom0", "");
}
END_TEST

START_TEST(stops_at_total_size)
{
	begin();
	tag_string(1, "inside");
	u32 total = at;
	tag_module(0x400000, 0x401000, "outside"); /* beyond total_size, no end tag */
	put32(0, total);
	bi = mb2_to_boot_info(buf_pa());
	ck_assert_str_eq(bi->cmdline, "inside");
	ck_assert_msg(bi->nr_modules == 0, "nr_modules %u: read a tag past total_size %u",
		      bi->nr_modules, total);

	/* A second conversion starts from scratch. */
	begin();
	end();
	ck_assert_msg(bi->cmdline[0] == 0 && bi->nr_modules == 0,
		      "second run kept cmdline \"%s\" / %u modules", bi->cmdline, bi->nr_modules);
}
END_TEST

/*
 * Found by tests/fuzz/fuzz_mb2.c. A tag whose size is near 4 GiB used to
 * wrap the 32-bit offset back to itself (an endless loop at boot); a tag
 * running past total_size, and strings not terminated inside their tag,
 * were read beyond the structure, and an ACPI tag too short for an RSDP
 * still gave its address. The structure here ends right before an
 * inaccessible page, so any read past it faults.
 */
START_TEST(hostile_tags_stay_inside)
{
	long pg = sysconf(_SC_PAGESIZE);
	u8 *area = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	ck_assert_msg(area != MAP_FAILED, "mmap(MAP_32BIT) failed");
	ck_assert_int_eq(mprotect(area + pg, pg, PROT_NONE), 0);

	/* 1. Tag size 0xffffffff: must end the walk, not loop. */
	u8 *info = area + pg - 16;
	u32 w[4] = { 16, 0, 0xffffffffu, 0xffffffffu };
	memcpy(info, w, sizeof(w));
	bi = mb2_to_boot_info((u32)(uintptr_t)info);
	ck_assert_uint_eq(bi->nr_modules, 0);

	/* 2. A cmdline tag whose string fills the tag with no NUL, at the
	 * very end: the copy stops at the tag's end. */
	info = area + pg - 24;
	u32 h[4] = { 24, 0, 1, 16 };
	memcpy(info, h, sizeof(h));
	memcpy(info + 16, "abcdefgh", 8);
	bi = mb2_to_boot_info((u32)(uintptr_t)info);
	ck_assert_str_eq(bi->cmdline, "abcdefgh");

	/* 3. A module tag claiming more than total_size: ignored. */
	u32 m[6] = { 24, 0, 3, 0x1000, 0x400000, 0x401000 };
	memcpy(info, m, sizeof(m));
	bi = mb2_to_boot_info((u32)(uintptr_t)info);
	ck_assert_uint_eq(bi->nr_modules, 0);

	/* 4. A module tag whose name runs to the end: cut there. */
	u32 n[6] = { 24, 0, 3, 16, 0x400000, 0x401000 };
	memcpy(info, n, sizeof(n));
	bi = mb2_to_boot_info((u32)(uintptr_t)info);
	ck_assert_uint_eq(bi->nr_modules, 1);
	ck_assert_str_eq(bi->modules[0].name, "");

	/* 5. A memory map with entries shorter than 24 bytes, or of a size
	 * that is not a multiple of 8 (misaligned entries): none read. */
	u32 mm[6] = { 24, 0, 6, 16, 8, 0 };
	memcpy(info, mm, sizeof(mm));
	bi = mb2_to_boot_info((u32)(uintptr_t)info);
	ck_assert_uint_eq(bi->nr_mmap, 0);
	info = area + pg - 64;
	u32 odd[16] = { 64, 0, 6, 56, 26, 0 };
	memcpy(info, odd, sizeof(odd));
	bi = mb2_to_boot_info((u32)(uintptr_t)info);
	ck_assert_uint_eq(bi->nr_mmap, 0);

	/* 6. ACPI tags too short to hold an RSDP (20 bytes old, 36 new):
	 * no RSDP address pointing past the structure. */
	info = area + pg - 48;
	u32 acpi[12] = { 48, 0, 14, 8, 15, 28 };
	memcpy(info, acpi, sizeof(acpi));
	bi = mb2_to_boot_info((u32)(uintptr_t)info);
	ck_assert_uint_eq(bi->rsdp, 0);
	munmap(area, 2 * pg);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "boot-mb2-header-and-cmdline", &header_and_cmdline_ttest },
	{ "boot-mb2-long-cmdline-cut", &long_cmdline_cut_ttest },
	{ "boot-mb2-modules-name-and-cmdline-split", &modules_name_and_cmdline_split_ttest },
	{ "boot-mb2-module-long-name-cut", &module_long_name_cut_ttest },
	{ "boot-mb2-too-many-modules-counted", &too_many_modules_counted_ttest },
	{ "boot-mb2-mmap-types-mapped", &mmap_types_mapped_ttest },
	{ "boot-mb2-mmap-capped-at-max", &mmap_capped_at_max_ttest },
	{ "boot-mb2-acpi-rsdp-address", &acpi_rsdp_address_ttest },
	{ "boot-mb2-framebuffer", &framebuffer_ttest },
	{ "boot-mb2-unknown-tags-skipped-end-stops", &unknown_tags_skipped_end_stops_ttest },
	{ "boot-mb2-stops-at-total-size", &stops_at_total_size_ttest },
	{ "boot-mb2-hostile-tags-stay-inside", &hostile_tags_stay_inside_ttest },
	{ 0 },
};
