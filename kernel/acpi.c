/*
 * ACPI static tables for the hypervisor: see include/keel/acpi.h. The
 * parsing (and every length, bound and checksum check) is the shared
 * core's, hw/acpi_tables.c; this file hands it the direct map and prints.
 */
#include <keel/acpi.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <lib/pci_regs.h>
#include <keel/printk.h>

struct acpi_info acpi;

/* The direct map covers RAM and the low 4 GiB; ACPI tables live below
 * 4 GiB on every machine Keel boots (the loader's RSDP included), so
 * nothing above is read. */
#define ACPI_READABLE_TOP (4ULL << 30)

static const u8 *map_direct(void *ctx, u64 pa, size_t *avail)
{
	(void)ctx;
	if (!pa || pa >= ACPI_READABLE_TOP) {
		*avail = 0;
		return NULL;
	}
	*avail = MIN(ACPI_TABLE_MAX, ACPI_READABLE_TOP - pa);
	return phys_to_virt(pa);
}

static void print_note(void *ctx, const struct acpi_note *n)
{
	(void)ctx;
	if (n->off)
		pr_warn("ACPI: %s at 0x%lx, entry at offset 0x%x (length %u): %s\n", n->sig, n->pa,
			n->off, n->len, n->why);
	else
		pr_warn("ACPI: table '%s' at 0x%lx (length %u): %s, skipped\n", n->sig, n->pa,
			n->len, n->why);
}

static const struct acpi_source direct_map = { .map = map_direct, .note = print_note };

int acpi_init(paddr_t rsdp_pa)
{
	int rc;

	if (!rsdp_pa) {
		memset(&acpi, 0, sizeof(acpi));
		pr_info("ACPI: no RSDP from the loader\n");
		return -ENOENT;
	}
	rc = acpi_read_tables(&direct_map, rsdp_pa, &acpi);
	if (rc)
		return rc;
	for (unsigned i = 0; i < acpi.nr_ecam; i++) {
		const struct acpi_ecam *e = &acpi.ecam[i];
		pr_info("ACPI: MCFG: segment %u buses %02x-%02x ECAM at 0x%lx\n", e->segment,
			e->start_bus, e->end_bus, e->base + ((u64)e->start_bus << PCI_ECAM_BUS_SHIFT));
	}
	if (acpi.lapic_addr) {
		pr_info("ACPI: MADT: LAPIC at 0x%lx, %u IOAPIC(s)%s, %u override(s)\n",
			acpi.lapic_addr, acpi.nr_ioapic, acpi.nr_ioapic ? "" : " (none)", acpi.nr_iso);
		for (unsigned i = 0; i < acpi.nr_ioapic; i++)
			pr_info("ACPI: IOAPIC id %u at 0x%lx, GSI base %u\n", acpi.ioapic[i].id,
				acpi.ioapic[i].addr, acpi.ioapic[i].gsi_base);
	}
	if (acpi.hpet_addr)
		pr_info("ACPI: HPET at 0x%lx\n", acpi.hpet_addr);
	return 0;
}

struct each_ctx {
	void (*fn)(paddr_t pa, u64 len, void *arg);
	void *arg;
};

static void each_table(void *arg, const char *sig, u64 pa, const struct acpi_buf *t)
{
	struct each_ctx *c = arg;
	/* The RSDP as a whole 36-byte structure even when only its first 20
	 * bytes count (ACPI 1.0): a reader checking its revision-2 fields
	 * finds them mapped. */
	u64 len = sig[0] == 'R' && sig[1] == 'S' && sig[2] == 'D' && sig[3] == 'P'
			  ? MAX(t->len, (size_t)ACPI_RSDP_V2_LEN)
			  : t->len;
	c->fn(pa, len, c->arg);
}

void acpi_for_each_table(void (*fn)(paddr_t pa, u64 len, void *arg), void *arg)
{
	struct each_ctx c = { fn, arg };
	/* Quietly: acpi_init printed every rejection already. */
	static const struct acpi_source quiet = { .map = map_direct };

	if (acpi.rsdp)
		acpi_walk(&quiet, acpi.rsdp, each_table, &c);
}
