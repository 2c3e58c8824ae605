/*
 * The shared ACPI core (hw/acpi_tables.c, used by the hypervisor's
 * kernel/acpi.c and dom0's drivers/pci/pci.c): RSDP -> XSDT/RSDT -> MCFG,
 * MADT, HPET, FADT (-> DSDT, FACS), as firmware (or a malicious boot
 * chain) left them in memory.
 *
 * unit-sources: hw/acpi_tables.c
 *
 * Input: a flags byte (bit 0: fix up the checksums, so that the parsers
 * behind them get exercised), then chunks of u16 length + bytes: chunk 0
 * is the RSDP at RSDP_PA, chunk k >= 1 the table at TABLE_PA(k). The
 * core's map callback hands out each chunk as a heap buffer of exactly its
 * bytes, so any read past what the callback said was readable is an ASan
 * report. Any other address is unreadable (NULL).
 *
 * Checks: rc 0 or -ENOENT; the counts within their arrays; every MCFG
 * window kept valid (aligned, non-zero, start <= end); every note carries
 * a reason; every table acpi_walk reports lies inside its chunk, is at
 * least a header long (20 bytes for a v1 RSDP, 64 for the FACS) and, but
 * for the FACS, sums to 0.
 */
#include <lib/errno.h>
#include <hw/acpi_tables.h>

#include "fuzz.h"

#define RSDP_PA 0xe0000ULL
#define TABLE_PA(k) (0x10000000ULL + (u64)(k) * 0x10000)
#define MAX_CHUNKS 16

static u8 *chunk[MAX_CHUNKS];
static size_t chunk_len[MAX_CHUNKS];
static unsigned nr_chunks;

static int which_chunk(u64 pa)
{
	if (pa == RSDP_PA && nr_chunks > 0)
		return 0;
	for (unsigned k = 1; k < nr_chunks; k++)
		if (pa == TABLE_PA(k))
			return (int)k;
	return -1;
}

static const u8 *map_chunk(void *ctx, u64 pa, size_t *avail)
{
	int k = which_chunk(pa);
	(void)ctx;

	*avail = k < 0 ? 0 : chunk_len[k];
	return k < 0 ? NULL : chunk[k];
}

static void check_note(void *ctx, const struct acpi_note *n)
{
	(void)ctx;
	fuzz_check(n->why && n->why[0] && n->sig[4] == 0, "note without a reason");
}

static const struct acpi_source src = { .map = map_chunk, .note = check_note };

static u32 le32(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }

static void fix_sum(u8 *p, size_t len, size_t at)
{
	p[at] = 0;
	p[at] = (u8)-acpi_checksum(p, len);
}

static void each(void *arg, const char *sig, u64 pa, const struct acpi_buf *t)
{
	int k = which_chunk(pa);
	(void)arg;

	fuzz_check(k >= 0 && t->p == chunk[k] && t->len <= chunk_len[k],
		   "%.4s at 0x%lx: %zu bytes outside its chunk", sig, (unsigned long)pa, t->len);
	/* The FADT's FACS (a root may list a table signed FACS too: that
	 * one is checked as any table). */
	if (!memcmp(sig, "FACS", 4) && t->len == ACPI_FACS_LEN)
		return;
	if (!memcmp(sig, "RSDP", 4) && pa == RSDP_PA) {
		fuzz_check(t->len >= ACPI_RSDP_V1_LEN && !acpi_checksum(t->p, ACPI_RSDP_V1_LEN) &&
				   (t->len == ACPI_RSDP_V1_LEN || !acpi_checksum(t->p, t->len)),
			   "RSDP of %zu bytes", t->len);
		return;
	}
	fuzz_check(t->len >= ACPI_SDT_HEADER_LEN && t->len <= ACPI_TABLE_MAX &&
			   le32(t->p + 4) == t->len && !acpi_checksum(t->p, t->len),
		   "%.4s at 0x%lx: length %zu", sig, (unsigned long)pa, t->len);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct fuzz_in in = { data, size };
	bool fix = fuzz_u8(&in) & 1;
	struct acpi_info info;

	for (nr_chunks = 0; nr_chunks < MAX_CHUNKS && fuzz_more(&in); nr_chunks++) {
		size_t want = fuzz_u16(&in), n = want < in.n ? want : in.n;
		u8 *c = malloc(n ? n : 1);
		memcpy(c, in.p, n);
		in.p += n;
		in.n -= n;
		if (fix && nr_chunks == 0) {
			if (n >= ACPI_RSDP_V1_LEN)
				fix_sum(c, ACPI_RSDP_V1_LEN, 8);
			if (n >= ACPI_RSDP_V2_LEN) {
				u32 len = le32(c + 20);
				fix_sum(c, len < n ? len : n, 32);
			}
		} else if (fix && n >= ACPI_SDT_HEADER_LEN) {
			u32 len = le32(c + 4);
			fix_sum(c, len < n ? len : n, 9);
		}
		chunk[nr_chunks] = c;
		chunk_len[nr_chunks] = n;
	}

	int rc = acpi_read_tables(&src, RSDP_PA, &info);
	fuzz_check(rc == 0 || rc == -ENOENT, "rc %d", rc);
	fuzz_check(info.nr_ecam <= ACPI_MAX_ECAM && info.nr_ioapic <= ACPI_MAX_IOAPIC &&
			   info.nr_iso <= ACPI_MAX_ISO,
		   "counts %u %u %u", info.nr_ecam, info.nr_ioapic, info.nr_iso);
	for (unsigned i = 0; i < info.nr_ecam; i++)
		fuzz_check(info.ecam[i].base && !(info.ecam[i].base & 0xfffff) &&
				   info.ecam[i].start_bus <= info.ecam[i].end_bus,
			   "ECAM %u: 0x%lx buses %u-%u", i, (unsigned long)info.ecam[i].base,
			   info.ecam[i].start_bus, info.ecam[i].end_bus);
	fuzz_check(rc != 0 || info.rsdp == RSDP_PA, "rsdp 0x%lx", (unsigned long)info.rsdp);
	int wrc = acpi_walk(&src, RSDP_PA, each, NULL);
	fuzz_check(wrc == rc, "walk %d, read %d", wrc, rc);
	acpi_read_tables(&src, 0, &info);
	for (unsigned k = 0; k < nr_chunks; k++)
		free(chunk[k]);
	return 0;
}
