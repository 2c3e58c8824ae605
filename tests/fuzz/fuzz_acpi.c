/*
 * The ACPI table reader (kernel/acpi.c): RSDP -> XSDT/RSDT -> MCFG, MADT,
 * HPET, FADT, as firmware (or a malicious boot chain) left them in memory.
 *
 * acpi.c reads physical memory through phys_to_virt (the direct map). It
 * is included here after keel/frame.h with phys_to_virt redirected to
 * fuzz_phys_to_virt, so each table it asks for comes from the input (no
 * unit-sources line; tests/fuzz/fuzz.mk names acpi.c as a dependency).
 *
 * Input: a flags byte (bit 0: fix up the checksums, so that the parsers
 * behind them get exercised), then chunks of u16 length + bytes: chunk 0
 * is the RSDP at RSDP_PA, chunk k >= 1 the table at TABLE_PA(k). Each is
 * in a heap buffer of exactly the bytes acpi.c may read there (36 for a
 * header whose length is refused, else its length; for the RSDP, 20 or
 * its extended length), so a read past a table's own length is an ASan
 * report. Any other address is memory that reads as zeros.
 *
 * Checks: the counts within their arrays, every MCFG window acpi_init
 * kept valid (aligned, non-zero, start <= end), and every range
 * acpi_for_each_table reports non-empty and where a table was found.
 */
#include <stdarg.h>

#include <keel/frame.h>

#include "fuzz.h"

static void *fuzz_phys_to_virt(paddr_t pa);
#define phys_to_virt(pa) fuzz_phys_to_virt(pa)
#include "../../kernel/acpi.c"
#undef phys_to_virt

void printk(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

#define RSDP_PA 0xe0000ULL
#define TABLE_PA(k) (0x10000000ULL + (u64)(k) * 0x10000)
#define MAX_CHUNKS 16

static u8 *chunk[MAX_CHUNKS];
static unsigned nr_chunks;
static u8 zeros[ACPI_TABLE_MAX + 64];

static void *fuzz_phys_to_virt(paddr_t pa)
{
	if (pa == RSDP_PA && nr_chunks > 0)
		return chunk[0];
	for (unsigned k = 1; k < nr_chunks; k++)
		if (pa == TABLE_PA(k))
			return chunk[k];
	return zeros;
}

static u32 le32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }

/* Bytes acpi.c may read at a chunk: see the comment at the top. */
static size_t readable(unsigned k, const u8 *b, size_t n)
{
	u8 h[36] = { 0 };

	memcpy(h, b, n < 36 ? n : 36);
	if (k == 0) {
		u32 len = le32(h + 20);
		if (h[15] < 2)
			return 20;
		return len >= 36 && len <= 4096 ? len : 24;
	}
	u32 len = le32(h + 4);
	return len >= 36 && len <= ACPI_TABLE_MAX ? len : 36;
}

static void fix_sum(u8 *p, size_t len, size_t at)
{
	p[at] = 0;
	p[at] = (u8)-acpi_checksum(p, len);
}

static void each(paddr_t pa, u64 len, void *arg)
{
	(void)arg;
	fuzz_check(len > 0 && pa, "table range 0x%lx+0x%lx", (unsigned long)pa, (unsigned long)len);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	bool fix = fuzz_u8(&in) & 1;

	for (nr_chunks = 0; nr_chunks < MAX_CHUNKS && fuzz_more(&in); nr_chunks++) {
		size_t want = fuzz_u16(&in), n = want < in.n ? want : in.n;
		size_t len = readable(nr_chunks, in.p, n);
		u8 *c = malloc(len);
		memset(c, 0, len);
		memcpy(c, in.p, n < len ? n : len);
		in.p += n;
		in.n -= n;
		if (fix && nr_chunks == 0) {
			fix_sum(c, 20, 8);
			if (len >= 36)
				fix_sum(c, len, 32);
		} else if (fix) {
			fix_sum(c, len, 9);
		}
		chunk[nr_chunks] = c;
	}

	memset(&acpi, 0, sizeof(acpi));
	int rc = acpi_init(RSDP_PA);
	fuzz_check(rc == 0 || rc == -ENOENT, "rc %d", rc);
	fuzz_check(acpi.nr_ecam <= ACPI_MAX_ECAM && acpi.nr_ioapic <= ACPI_MAX_IOAPIC &&
			   acpi.nr_iso <= ACPI_MAX_ISO,
		   "counts %u %u %u", acpi.nr_ecam, acpi.nr_ioapic, acpi.nr_iso);
	for (unsigned i = 0; i < acpi.nr_ecam; i++)
		fuzz_check(acpi.ecam[i].base && !(acpi.ecam[i].base & 0xfffff) &&
				   acpi.ecam[i].start_bus <= acpi.ecam[i].end_bus,
			   "ECAM %u: 0x%lx buses %u-%u", i, (unsigned long)acpi.ecam[i].base,
			   acpi.ecam[i].start_bus, acpi.ecam[i].end_bus);
	if (rc == 0)
		acpi_for_each_table(each, NULL);
	acpi_init(0);
	for (unsigned k = 0; k < nr_chunks; k++)
		free(chunk[k]);
	return 0;
}
