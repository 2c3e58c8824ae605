/*
 * The shared ACPI core (hw/acpi_tables.c), as the hypervisor and dom0 both
 * use it: a QEMU-like set of tables read whole; the RSDT when there is no
 * valid XSDT; and malformed tables rejected with a reason: bad checksums,
 * lengths beyond what is readable, MCFG with no or too many allocations or
 * a partial one, MADT entries of length 0 or crossing the table end.
 *
 * unit-sources: hw/acpi_tables.c
 *
 * "Physical memory" is one array at MEM_BASE; the map callback returns what
 * is left of it from an address (or only `limit` bytes when a test makes
 * memory end early), and the notes are recorded.
 */
#include <string.h>

#include <lib/errno.h>
#include <hw/acpi_tables.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

#define MEM_BASE 0xe0000ULL
#define MEM_SIZE 0x20000
#define RSDP_PA (MEM_BASE)
#define XSDT_PA (MEM_BASE + 0x1000)
#define RSDT_PA (MEM_BASE + 0x1800)
#define MCFG_PA (MEM_BASE + 0x2000)
#define MADT_PA (MEM_BASE + 0x3000)
#define HPET_PA (MEM_BASE + 0x4000)
#define FADT_PA (MEM_BASE + 0x5000)
#define DSDT_PA (MEM_BASE + 0x6000)
#define FACS_PA (MEM_BASE + 0x7000)

static u8 mem[MEM_SIZE];
static u64 mem_end; /* readable memory ends here */

#define MAX_NOTES 16
static struct acpi_note notes[MAX_NOTES];
static unsigned nr_notes;

static const u8 *map(void *ctx, u64 pa, size_t *avail)
{
	(void)ctx;
	if (pa < MEM_BASE || pa >= mem_end) {
		*avail = 0;
		return NULL;
	}
	*avail = mem_end - pa;
	return mem + (pa - MEM_BASE);
}

static void record(void *ctx, const struct acpi_note *n)
{
	(void)ctx;
	if (nr_notes < MAX_NOTES)
		notes[nr_notes++] = *n;
}

static const struct acpi_source src = { .map = map, .note = record };

/* The note about table `sig` whose reason contains `what`, or NULL. */
static const struct acpi_note *noted(const char *sig, const char *what)
{
	for (unsigned i = 0; i < nr_notes; i++)
		if (!strcmp(notes[i].sig, sig) && strstr(notes[i].why, what))
			return &notes[i];
	return NULL;
}

static u8 *at(u64 pa)
{
	return mem + (pa - MEM_BASE);
}

static void put32(u64 pa, u32 v) { memcpy(at(pa), &v, 4); }
static void put64(u64 pa, u64 v) { memcpy(at(pa), &v, 8); }

static void fix_checksum(u64 pa)
{
	u32 len;
	memcpy(&len, at(pa) + 4, 4);
	at(pa)[9] = 0;
	at(pa)[9] = (u8)-acpi_checksum(at(pa), len);
}

/* An SDT header: signature, length; checksum fixed by the caller. */
static void header(u64 pa, const char *sig, u32 len)
{
	memset(at(pa), 0, len);
	memcpy(at(pa), sig, 4);
	put32(pa + 4, len);
	at(pa)[8] = 1;
	memcpy(at(pa) + 10, "KEEL  ", 6);
}

static void rsdp(unsigned revision, u64 xsdt, u32 rsdt)
{
	u8 *r = at(RSDP_PA);
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	r[15] = (u8)revision;
	put32(RSDP_PA + 16, rsdt);
	put32(RSDP_PA + 20, 36);
	put64(RSDP_PA + 24, xsdt);
	r[8] = (u8)-acpi_checksum(r, 20);
	r[32] = (u8)-acpi_checksum(r, 36);
}

static void xsdt(const u64 *tables, unsigned n)
{
	header(XSDT_PA, "XSDT", 36 + 8 * n);
	for (unsigned i = 0; i < n; i++)
		put64(XSDT_PA + 36 + 8 * i, tables[i]);
	fix_checksum(XSDT_PA);
}

static void mcfg(unsigned entries)
{
	header(MCFG_PA, "MCFG", 44 + 16 * entries);
	for (unsigned i = 0; i < entries; i++) {
		u64 e = MCFG_PA + 44 + 16 * i;
		put64(e, 0xb0000000ULL + ((u64)i << 28));
		at(e)[8] = (u8)i; /* segment i */
		at(e)[10] = 0;
		at(e)[11] = 0xff;
	}
	fix_checksum(MCFG_PA);
}

/* MADT: LAPIC 0xfee00000, an IOAPIC (id 0 at 0xfec00000), overrides IRQ0
 * -> GSI 2 and IRQ 9 -> GSI 9 level/high, then `extra` raw bytes. */
static u32 madt(const u8 *extra, unsigned extra_len)
{
	static const u8 entries[] = {
		0, 8, 0, 0, 1, 0, 0, 0,                      /* processor local APIC */
		1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0, /* I/O APIC */
		2, 10, 0, 0, 2, 0, 0, 0, 0, 0,               /* ISO IRQ0 -> GSI 2 */
		2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0,            /* ISO IRQ9 level, high */
	};
	u32 len = 44 + sizeof(entries) + extra_len;
	header(MADT_PA, "APIC", len);
	put32(MADT_PA + 36, 0xfee00000);
	put32(MADT_PA + 40, 1);
	memcpy(at(MADT_PA + 44), entries, sizeof(entries));
	memcpy(at(MADT_PA + 44 + sizeof(entries)), extra, extra_len);
	fix_checksum(MADT_PA);
	return len;
}

static void setup(void)
{
	memset(mem, 0, sizeof(mem));
	mem_end = MEM_BASE + MEM_SIZE;
	nr_notes = 0;
	/* HPET at 0xfed00000; FADT (ACPI 6 length 276) naming DSDT/FACS
	 * through the 32-bit fields and X_DSDT. */
	header(HPET_PA, "HPET", 56);
	put64(HPET_PA + 44, 0xfed00000);
	fix_checksum(HPET_PA);
	header(FADT_PA, "FACP", 276);
	put32(FADT_PA + 36, (u32)FACS_PA);
	put32(FADT_PA + 40, 0x1234000);   /* stale 32-bit DSDT: X_DSDT wins */
	put64(FADT_PA + 140, DSDT_PA);
	fix_checksum(FADT_PA);
	header(DSDT_PA, "DSDT", 100);
	fix_checksum(DSDT_PA);
	memcpy(at(FACS_PA), "FACS", 4);
	put32(FACS_PA + 4, 64);
	mcfg(1);
	madt(NULL, 0);
	static const u64 tables[] = { MCFG_PA, MADT_PA, HPET_PA, FADT_PA };
	xsdt(tables, 4);
	rsdp(2, XSDT_PA, 0);
}

struct seen {
	unsigned n;
	char sig[16][5];
	u64 pa[16];
	size_t len[16];
};

static void see(void *arg, const char *sig, u64 pa, const struct acpi_buf *t)
{
	struct seen *s = arg;
	if (s->n < 16) {
		memcpy(s->sig[s->n], sig, 5);
		s->pa[s->n] = pa;
		s->len[s->n++] = t->len;
	}
}

START_TEST(acpi_reads_qemu_like_tables)
{
	struct acpi_info info;
	setup();
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(nr_notes, 0);
	ck_assert_uint_eq(info.rsdp, RSDP_PA);
	ck_assert_uint_eq(info.xsdt, XSDT_PA);
	ck_assert(!info.rsdt);
	ck_assert_uint_eq(info.nr_ecam, 1);
	ck_assert_uint_eq(info.ecam[0].base, 0xb0000000);
	ck_assert_uint_eq(info.ecam[0].end_bus, 0xff);
	ck_assert_ptr_eq(acpi_ecam_of_segment(&info, 0), &info.ecam[0]);
	ck_assert_ptr_null(acpi_ecam_of_segment(&info, 1));
	ck_assert_uint_eq(info.lapic_addr, 0xfee00000);
	ck_assert_uint_eq(info.nr_ioapic, 1);
	ck_assert_uint_eq(info.ioapic[0].addr, 0xfec00000);
	ck_assert_uint_eq(info.nr_iso, 2);
	ck_assert_uint_eq(acpi_iso_of_irq(&info, 0)->gsi, 2);
	ck_assert_uint_eq(acpi_iso_of_irq(&info, 9)->flags, 0x0d);
	ck_assert_ptr_null(acpi_iso_of_irq(&info, 10));
	ck_assert_uint_eq(info.hpet_addr, 0xfed00000);
	ck_assert_uint_eq(info.dsdt, DSDT_PA);
	ck_assert_uint_eq(info.facs, FACS_PA);

	/* The walk: RSDP, XSDT, the four tables, DSDT, FACS, with lengths. */
	struct seen s = { 0 };
	ck_assert_int_eq(acpi_walk(&src, RSDP_PA, see, &s), 0);
	ck_assert_uint_eq(s.n, 8);
	const char *want[] = { "RSDP", "XSDT", "MCFG", "APIC", "HPET", "FACP", "DSDT", "FACS" };
	for (unsigned i = 0; i < 8; i++)
		ck_assert_str_eq(s.sig[i], want[i]);
	ck_assert_uint_eq(s.len[0], 36);
	ck_assert_uint_eq(s.len[1], 36 + 32);
	ck_assert_uint_eq(s.len[5], 276);
	ck_assert_uint_eq(s.len[6], 100);
	ck_assert_uint_eq(s.len[7], ACPI_FACS_LEN);
}
END_TEST

START_TEST(acpi_rsdt_without_xsdt)
{
	struct acpi_info info;
	setup();
	/* ACPI 1.0: revision 0, the RSDT's 32-bit entries. */
	header(RSDT_PA, "RSDT", 36 + 8);
	put32(RSDT_PA + 36, (u32)MCFG_PA);
	put32(RSDT_PA + 40, (u32)MADT_PA);
	fix_checksum(RSDT_PA);
	rsdp(0, 0, (u32)RSDT_PA);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert(info.rsdt);
	ck_assert_uint_eq(info.xsdt, RSDT_PA);
	ck_assert_uint_eq(info.nr_ecam, 1);
	ck_assert_uint_eq(info.nr_ioapic, 1);
	ck_assert_uint_eq(info.hpet_addr, 0);
	/* Revision 2 with a broken extended checksum: the RSDT still. */
	rsdp(2, XSDT_PA, (u32)RSDT_PA);
	at(RSDP_PA)[32] ^= 1;
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert(info.rsdt);
}
END_TEST

START_TEST(acpi_rsdp_bad_checksum_or_signature)
{
	struct acpi_info info;
	setup();
	at(RSDP_PA)[8] ^= 0x55;
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), -ENOENT);
	ck_assert_ptr_nonnull(noted("RSDP", "bad checksum"));
	ck_assert_uint_eq(info.nr_ecam + info.nr_ioapic, 0);
	setup();
	memcpy(at(RSDP_PA), "RSD PTX ", 8);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), -ENOENT);
	ck_assert_ptr_nonnull(noted("RSDP", "signature"));
	/* Nothing readable at the address. */
	setup();
	ck_assert_int_eq(acpi_read_tables(&src, 0x1000, &info), -ENOENT);
	ck_assert_uint_eq(info.rsdp, 0);
}
END_TEST

START_TEST(acpi_table_bad_checksum_skipped)
{
	struct acpi_info info;
	setup();
	at(MCFG_PA)[9] ^= 1;
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_ecam, 0);
	const struct acpi_note *n = noted("MCFG", "bad checksum");
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->pa, MCFG_PA);
	/* The other tables are still read. */
	ck_assert_uint_eq(info.nr_ioapic, 1);
	/* A root table with a bad checksum: nothing at all. */
	at(XSDT_PA)[9] ^= 1;
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), -ENOENT);
	ck_assert_ptr_nonnull(noted("XSDT", "bad checksum"));
}
END_TEST

START_TEST(acpi_length_beyond_buffer)
{
	struct acpi_info info;
	setup();
	/* Readable memory ends inside the MADT: its length is beyond what
	 * can be read, so it is not read (and nothing past the end is). */
	mem_end = MADT_PA + 40;
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_ptr_nonnull(noted("APIC", "length beyond the readable bytes"));
	ck_assert_uint_eq(info.nr_ioapic, 0);
	ck_assert_uint_eq(info.nr_ecam, 1);
	/* Only part of the header readable. */
	setup();
	mem_end = HPET_PA + 20;
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_ptr_nonnull(noted("HPET", "header not readable"));
	/* A length below the header or above ACPI_TABLE_MAX. */
	setup();
	put32(MCFG_PA + 4, 20);
	put32(HPET_PA + 4, ACPI_TABLE_MAX + 1);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_ptr_nonnull(noted("MCFG", "bad length"));
	ck_assert_ptr_nonnull(noted("HPET", "bad length"));
	ck_assert_uint_eq(info.nr_ecam, 0);
	ck_assert_uint_eq(info.hpet_addr, 0);
	/* The RSDP's extended length beyond the buffer: no XSDT from it. */
	setup();
	mem_end = RSDP_PA + 30;
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), -ENOENT);
}
END_TEST

START_TEST(acpi_mcfg_zero_entries)
{
	struct acpi_info info;
	setup();
	mcfg(0);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_ecam, 0);
	ck_assert_ptr_nonnull(noted("MCFG", "no allocation"));
	/* Shorter than the fixed part (header + 8 reserved bytes). */
	setup();
	header(MCFG_PA, "MCFG", 40);
	fix_checksum(MCFG_PA);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_ecam, 0);
	ck_assert_ptr_nonnull(noted("MCFG", "shorter than its fixed part"));
}
END_TEST

START_TEST(acpi_mcfg_too_many_entries)
{
	struct acpi_info info;
	setup();
	mcfg(ACPI_MAX_ECAM + 2);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_ecam, ACPI_MAX_ECAM);
	for (unsigned i = 0; i < ACPI_MAX_ECAM; i++)
		ck_assert_uint_eq(info.ecam[i].segment, i);
	const struct acpi_note *n = noted("MCFG", "more allocations than Keel keeps");
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->off, 44 + 16 * ACPI_MAX_ECAM);
}
END_TEST

START_TEST(acpi_mcfg_partial_and_invalid_entries)
{
	struct acpi_info info;
	setup();
	/* Two allocations and 8 bytes more: the partial third is ignored;
	 * the second has end bus < start bus; the first is kept. */
	header(MCFG_PA, "MCFG", 44 + 16 * 2 + 8);
	put64(MCFG_PA + 44, 0xb0000000);
	at(MCFG_PA + 44)[11] = 0x3f;
	put64(MCFG_PA + 60, 0xc0000000);
	at(MCFG_PA + 60)[10] = 0x10;
	at(MCFG_PA + 60)[11] = 0x0f;
	memset(at(MCFG_PA + 76), 0xff, 8);
	fix_checksum(MCFG_PA);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_ecam, 1);
	ck_assert_uint_eq(info.ecam[0].end_bus, 0x3f);
	ck_assert_ptr_nonnull(noted("MCFG", "partial allocation crosses the table end"));
	ck_assert_uint_eq(noted("MCFG", "end bus < start bus")->off, 60);
	/* An unaligned base. */
	setup();
	put64(MCFG_PA + 44, 0xb0080000);
	fix_checksum(MCFG_PA);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_ecam, 0);
	ck_assert_ptr_nonnull(noted("MCFG", "unaligned base"));
}
END_TEST

START_TEST(acpi_madt_entry_length_zero)
{
	struct acpi_info info;
	/* After the good entries: an entry of length 0 (would loop forever),
	 * then an I/O APIC that must not be read. */
	static const u8 extra[] = { 1, 0, 0, 0, 1, 12, 1, 0, 0, 0x10, 0xc0, 0xfe, 0, 0, 0, 0 };
	setup();
	u32 len = madt(extra, sizeof(extra));
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_ioapic, 1);
	ck_assert_uint_eq(info.nr_iso, 2);
	const struct acpi_note *n = noted("APIC", "entry length below 2");
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->off, len - sizeof(extra));
	ck_assert_uint_eq(n->len, 0);
	/* Length 1: the same. */
	static const u8 one[] = { 1, 1 };
	setup();
	madt(one, sizeof(one));
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_ptr_nonnull(noted("APIC", "entry length below 2"));
}
END_TEST

START_TEST(acpi_madt_entry_past_the_end)
{
	struct acpi_info info;
	/* An I/O APIC entry claiming 12 bytes with 6 left in the table (the
	 * bytes after the table are readable: the core must not use them). */
	static const u8 extra[] = { 1, 12, 1, 0, 0, 0x10 };
	setup();
	u32 len = madt(extra, sizeof(extra));
	memset(at(MADT_PA + len), 0xc0, 16);
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_ioapic, 1);
	ck_assert_uint_eq(info.ioapic[0].addr, 0xfec00000);
	const struct acpi_note *n = noted("APIC", "entry crosses the table end");
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->off, len - sizeof(extra));
	ck_assert_uint_eq(n->len, 12);
	/* A single byte left: its length byte is past the end. */
	static const u8 lone[] = { 2 };
	setup();
	madt(lone, sizeof(lone));
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_iso, 2);
	ck_assert_ptr_nonnull(noted("APIC", "entry length below 2"));
}
END_TEST

START_TEST(acpi_madt_short_entries_and_limits)
{
	struct acpi_info info;
	/* An override of 8 bytes (needs 10), then more I/O APICs than kept. */
	u8 extra[8 + 12 * (ACPI_MAX_IOAPIC + 1)];
	memset(extra, 0, sizeof(extra));
	extra[0] = 2;
	extra[1] = 8;
	for (unsigned i = 0; i <= ACPI_MAX_IOAPIC; i++) {
		extra[8 + 12 * i] = 1;
		extra[8 + 12 * i + 1] = 12;
		extra[8 + 12 * i + 2] = (u8)(i + 1);
	}
	setup();
	madt(extra, sizeof(extra));
	ck_assert_int_eq(acpi_read_tables(&src, RSDP_PA, &info), 0);
	ck_assert_uint_eq(info.nr_iso, 2);
	ck_assert_ptr_nonnull(noted("APIC", "interrupt source override too short"));
	ck_assert_uint_eq(info.nr_ioapic, ACPI_MAX_IOAPIC);
	ck_assert_ptr_nonnull(noted("APIC", "more I/O APICs than Keel keeps"));
}
END_TEST

START_TEST(acpi_accessors_bounds_checked)
{
	u8 b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct acpi_buf buf = { b, sizeof(b) };
	bool ok = true;
	u64 v;

	ck_assert_uint_eq(acpi_u32(&buf, 4, &ok), 0x08070605);
	ck_assert(ok);
	ck_assert_uint_eq(acpi_u64(&buf, 0, &ok), 0x0807060504030201ULL);
	ck_assert(ok);
	ck_assert_uint_eq(acpi_u32(&buf, 5, &ok), 0);
	ck_assert(!ok);
	ok = true;
	ck_assert_uint_eq(acpi_u8(&buf, 8, &ok), 0);
	ck_assert(!ok);
	/* No wrap-around with a huge offset. */
	ck_assert(!acpi_get(&buf, (size_t)-2, 4, &v));
	ck_assert_uint_eq(v, 0);
	ck_assert(acpi_get(&buf, 7, 1, &v));
	ck_assert_uint_eq(v, 8);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "acpi-reads-qemu-like-tables", &acpi_reads_qemu_like_tables_ttest },
	{ "acpi-rsdt-without-xsdt", &acpi_rsdt_without_xsdt_ttest },
	{ "acpi-rsdp-bad-checksum-or-signature", &acpi_rsdp_bad_checksum_or_signature_ttest },
	{ "acpi-table-bad-checksum-skipped", &acpi_table_bad_checksum_skipped_ttest },
	{ "acpi-length-beyond-buffer", &acpi_length_beyond_buffer_ttest },
	{ "acpi-mcfg-zero-entries", &acpi_mcfg_zero_entries_ttest },
	{ "acpi-mcfg-too-many-entries", &acpi_mcfg_too_many_entries_ttest },
	{ "acpi-mcfg-partial-and-invalid-entries", &acpi_mcfg_partial_and_invalid_entries_ttest },
	{ "acpi-madt-entry-length-zero", &acpi_madt_entry_length_zero_ttest },
	{ "acpi-madt-entry-past-the-end", &acpi_madt_entry_past_the_end_ttest },
	{ "acpi-madt-short-entries-and-limits", &acpi_madt_short_entries_and_limits_ttest },
	{ "acpi-accessors-bounds-checked", &acpi_accessors_bounds_checked_ttest },
	{ 0 },
};
