/*
 * The domU ACPI tables (kernel/domu_acpi.c), read back through the shared
 * ACPI parser the hypervisor and dom0 use (hw/acpi_tables.c): every
 * table reachable from the RSDP, checksums right, no parser complaint;
 * the MADT's entries one per vCPU with UID = vCPU id and APIC id = 2 *
 * id; the FADT hardware-reduced without VGA or CMOS RTC; bad arguments
 * refused.
 *
 * unit-sources: kernel/domu_acpi.c hw/acpi_tables.c
 */
#include <stdio.h>
#include <string.h>

#include <lib/errno.h>
#include <hw/acpi_tables.h>
#include <keel/domu_acpi.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

#define BASE 0x9f000ULL

static u8 page[DOMU_ACPI_SIZE];
static unsigned nr_notes;

static const u8 *map(void *ctx, u64 pa, size_t *avail)
{
	(void)ctx;
	if (pa < BASE || pa >= BASE + sizeof(page)) {
		*avail = 0;
		return NULL;
	}
	*avail = BASE + sizeof(page) - pa;
	return page + (pa - BASE);
}

static void record(void *ctx, const struct acpi_note *n)
{
	(void)ctx;
	fprintf(stderr, "note: %s at 0x%llx: %s\n", n->sig, (unsigned long long)n->pa, n->why);
	nr_notes++;
}

static const struct acpi_source src = { .map = map, .note = record };

#define MAX_SEEN 8
static char seen[MAX_SEEN][5];
static u64 seen_pa[MAX_SEEN];
static unsigned nr_seen;

static void collect(void *arg, const char *sig, u64 pa, const struct acpi_buf *t)
{
	(void)arg;
	(void)t;
	if (nr_seen < MAX_SEEN) {
		memcpy(seen[nr_seen], sig, 5);
		seen_pa[nr_seen++] = pa;
	}
}

static bool was_seen(const char *sig, u64 pa)
{
	for (unsigned i = 0; i < nr_seen; i++)
		if (!strcmp(seen[i], sig) && seen_pa[i] == pa)
			return true;
	return false;
}

static u32 le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

START_TEST(domu_acpi_tables_parse_back)
{
	struct domu_acpi_layout l;
	ck_assert_int_eq(domu_acpi_build(page, sizeof(page), BASE, 2, &l), 0);
	ck_assert_uint_eq(l.rsdp, BASE);
	ck_assert_uint_le(l.len, sizeof(page));
	nr_notes = nr_seen = 0;
	ck_assert_int_eq(acpi_walk(&src, l.rsdp, collect, NULL), 0);
	ck_assert_uint_eq(nr_notes, 0);
	ck_assert(was_seen("RSDP", l.rsdp));
	ck_assert(was_seen("XSDT", l.xsdt));
	ck_assert(was_seen("FACP", l.fadt));
	ck_assert(was_seen("APIC", l.madt));
	ck_assert(was_seen("DSDT", l.dsdt));
	ck_assert(was_seen("FACS", l.facs));
	ck_assert_uint_eq(nr_seen, 6);
	ck_assert_uint_eq(l.facs % 64, 0);

	struct acpi_info info;
	ck_assert_int_eq(acpi_read_tables(&src, l.rsdp, &info), 0);
	ck_assert(!info.rsdt);
	ck_assert_uint_eq(info.xsdt, l.xsdt);
	ck_assert_uint_eq(info.lapic_addr, 0xfee00000);
	ck_assert_uint_eq(info.nr_ioapic, 0);
	ck_assert_uint_eq(info.dsdt, l.dsdt);
	ck_assert_uint_eq(info.facs, l.facs);
	ck_assert_uint_eq(nr_notes, 0);
}
END_TEST

START_TEST(domu_acpi_madt_one_lapic_per_vcpu)
{
	for (unsigned n = 1; n <= 4; n++) {
		struct domu_acpi_layout l;
		ck_assert_int_eq(domu_acpi_build(page, sizeof(page), BASE, n, &l), 0);
		const u8 *m = page + (l.madt - BASE);
		u32 len = le32(m + 4);
		ck_assert_uint_eq(len, 44 + 8 * n);
		u8 s = 0;
		for (u32 i = 0; i < len; i++)
			s += m[i];
		ck_assert_uint_eq(s, 0);
		ck_assert_uint_eq(le32(m + 40) & 1, 0); /* no PCAT_COMPAT */
		for (unsigned v = 0; v < n; v++) {
			const u8 *e = m + 44 + 8 * v;
			ck_assert_uint_eq(e[0], 0);     /* processor local APIC */
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(e[2], v);     /* UID = vCPU id */
			ck_assert_uint_eq(e[3], 2 * v); /* APIC id as CPUID says */
			ck_assert_uint_eq(le32(e + 4), 1);
		}
	}
}
END_TEST

START_TEST(domu_acpi_fadt_hw_reduced_no_vga_no_rtc)
{
	struct domu_acpi_layout l;
	ck_assert_int_eq(domu_acpi_build(page, sizeof(page), BASE, 1, &l), 0);
	const u8 *f = page + (l.fadt - BASE);
	ck_assert_uint_eq(f[8], 5);                         /* revision */
	ck_assert_uint_eq(le32(f + 4), 268);
	u16 boot_arch = f[109] | f[110] << 8;
	ck_assert_uint_eq(boot_arch, (1u << 2) | (1u << 5)); /* no VGA, no CMOS RTC, no 8042 */
	ck_assert(le32(f + 112) & (1u << 20));               /* HW_REDUCED_ACPI */
	ck_assert_uint_eq(le32(f + 76), 0);                  /* no PM timer */
	ck_assert_uint_eq(f[46] | f[47] << 8, 0);            /* no SCI */
	ck_assert_uint_eq(le32(f + 48), 0);                  /* no SMI command port */
}
END_TEST

START_TEST(domu_acpi_bad_arguments_refused)
{
	struct domu_acpi_layout l;
	ck_assert_int_eq(domu_acpi_build(page, sizeof(page), BASE, 0, &l), -EINVAL);
	ck_assert_int_eq(domu_acpi_build(page, sizeof(page), BASE, 129, &l), -EINVAL);
	ck_assert_int_eq(domu_acpi_build(page, sizeof(page), BASE + 8, 1, &l), -EINVAL);
	ck_assert_int_eq(domu_acpi_build(page, sizeof(page), 1ULL << 32, 1, &l), -EINVAL);
	ck_assert_int_eq(domu_acpi_build(page, 0x200, BASE, 1, &l), -E2BIG);
	ck_assert_int_eq(domu_acpi_build(page, sizeof(page), BASE, 128, &l), 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "domu-acpi-tables-parse-back", &domu_acpi_tables_parse_back_ttest },
	{ "domu-acpi-madt-one-lapic-per-vcpu", &domu_acpi_madt_one_lapic_per_vcpu_ttest },
	{ "domu-acpi-fadt-hw-reduced-no-vga-no-rtc", &domu_acpi_fadt_hw_reduced_no_vga_no_rtc_ttest },
	{ "domu-acpi-bad-arguments-refused", &domu_acpi_bad_arguments_refused_ttest },
	{ 0 },
};
