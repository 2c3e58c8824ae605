/*
 * ACPI static tables: see include/keel/acpi.h. Layouts from ACPI 6.4
 * (5.2.5 RSDP, 5.2.6 SDT header, 5.2.8 XSDT, 5.2.12 MADT) and the PCI
 * Firmware spec 3.2 (4.1.2 MCFG); HPET from the IA-PC HPET spec 1.0a
 * (3.2.4). Everything is read through the direct map and nothing is
 * trusted beyond its checksum: lengths are bounded before use.
 */
#include <keel/acpi.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/printk.h>

struct acpi_info acpi;

struct rsdp {
	char sig[8];        /* "RSD PTR " */
	u8 checksum;        /* of the first 20 bytes */
	char oem[6];
	u8 revision;        /* 0: ACPI 1.0 (RSDT only); 2: XSDT too */
	u32 rsdt;
	u32 length;         /* revision >= 2 */
	u64 xsdt;
	u8 ext_checksum;    /* of `length` bytes */
	u8 reserved[3];
} __packed;

struct sdt_header {
	char sig[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem[6];
	char oem_table[8];
	u32 oem_rev;
	u32 creator;
	u32 creator_rev;
} __packed;

BUILD_BUG_ON(sizeof(struct rsdp) != 36);
BUILD_BUG_ON(sizeof(struct sdt_header) != 36);

/* Tables larger than this are refused: no real MCFG/MADT comes close,
 * and a corrupt length must not make us walk across memory. */
#define ACPI_TABLE_MAX (64u << 10)

u8 acpi_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;
	while (len--)
		sum += *b++;
	return sum;
}

/* The table at pa if its header is sane and it sums to 0, else NULL. */
static const struct sdt_header *table_at(paddr_t pa)
{
	const struct sdt_header *h;

	if (!pa || pa >= (4ULL << 30) - sizeof(*h))
		return NULL; /* the direct map covers RAM and the low 4 GiB */
	h = phys_to_virt(pa);
	if (h->length < sizeof(*h) || h->length > ACPI_TABLE_MAX) {
		pr_warn("ACPI: table '%.4s' at 0x%lx: bad length %u, skipped\n", h->sig, pa,
			h->length);
		return NULL;
	}
	if (acpi_checksum(h, h->length)) {
		pr_warn("ACPI: table '%.4s' at 0x%lx: bad checksum, skipped\n", h->sig, pa);
		return NULL;
	}
	return h;
}

/* MCFG: 8 reserved bytes after the header, then 16-byte allocations. */
static void parse_mcfg(const struct sdt_header *h)
{
	const u8 *p = (const u8 *)h + sizeof(*h) + 8;
	const u8 *end = (const u8 *)h + h->length;

	for (; p + 16 <= end; p += 16) {
		struct acpi_ecam e;
		memcpy(&e.base, p, 8);
		memcpy(&e.segment, p + 8, 2);
		e.start_bus = p[10];
		e.end_bus = p[11];
		if (e.end_bus < e.start_bus || !e.base || (e.base & 0xfffff)) {
			pr_warn("ACPI: MCFG entry base 0x%lx buses %u-%u: invalid, skipped\n",
				e.base, e.start_bus, e.end_bus);
			continue;
		}
		if (acpi.nr_ecam == ACPI_MAX_ECAM) {
			pr_warn("ACPI: MCFG: more than %d entries, rest ignored\n", ACPI_MAX_ECAM);
			break;
		}
		acpi.ecam[acpi.nr_ecam++] = e;
		pr_info("ACPI: MCFG: segment %u buses %02x-%02x ECAM at 0x%lx\n", e.segment,
			e.start_bus, e.end_bus, e.base + ((u64)e.start_bus << 20));
	}
}

/* MADT: LAPIC address and flags, then (type, length) entries. */
static void parse_madt(const struct sdt_header *h)
{
	const u8 *p = (const u8 *)h + sizeof(*h);
	const u8 *end = (const u8 *)h + h->length;
	u32 lapic;

	if (p + 8 > end)
		return;
	memcpy(&lapic, p, 4);
	acpi.lapic_addr = lapic;
	for (p += 8; p + 2 <= end && p[1] >= 2 && p + p[1] <= end; p += p[1]) {
		switch (p[0]) {
		case 1: /* I/O APIC: id, reserved, address, GSI base */
			if (p[1] < 12 || acpi.nr_ioapic == ACPI_MAX_IOAPIC)
				break;
			struct acpi_ioapic *io = &acpi.ioapic[acpi.nr_ioapic++];
			u32 addr;
			io->id = p[2];
			memcpy(&addr, p + 4, 4);
			io->addr = addr;
			memcpy(&io->gsi_base, p + 8, 4);
			break;
		case 2: /* interrupt source override: bus, source, GSI, flags */
			if (p[1] < 10 || acpi.nr_iso == ACPI_MAX_ISO)
				break;
			struct acpi_iso *iso = &acpi.iso[acpi.nr_iso++];
			iso->source = p[3];
			memcpy(&iso->gsi, p + 4, 4);
			memcpy(&iso->flags, p + 8, 2);
			break;
		case 5: /* local APIC address override (64-bit) */
			if (p[1] >= 12)
				memcpy(&acpi.lapic_addr, p + 4, 8);
			break;
		default:
			break;
		}
	}
	pr_info("ACPI: MADT: LAPIC at 0x%lx, %u IOAPIC(s)%s, %u override(s)\n", acpi.lapic_addr,
		acpi.nr_ioapic, acpi.nr_ioapic ? "" : " (none)", acpi.nr_iso);
	for (unsigned i = 0; i < acpi.nr_ioapic; i++)
		pr_info("ACPI: IOAPIC id %u at 0x%lx, GSI base %u\n", acpi.ioapic[i].id,
			acpi.ioapic[i].addr, acpi.ioapic[i].gsi_base);
}

/* HPET: the event timer block's address is the generic address structure
 * at offset 40 (space id, width, offset, access size, then the address). */
static void parse_hpet(const struct sdt_header *h)
{
	const u8 *p = (const u8 *)h;
	if (h->length < 56 || p[40] != 0) /* 0 = system memory */
		return;
	memcpy(&acpi.hpet_addr, p + 44, 8);
	pr_info("ACPI: HPET at 0x%lx\n", acpi.hpet_addr);
}

int acpi_init(paddr_t rsdp_pa)
{
	const struct rsdp *r;
	const struct sdt_header *root;
	unsigned entry_size;

	if (!rsdp_pa || rsdp_pa >= (4ULL << 30)) {
		pr_info("ACPI: no RSDP from the loader\n");
		return -ENOENT;
	}
	r = phys_to_virt(rsdp_pa);
	if (memcmp(r->sig, "RSD PTR ", 8) || acpi_checksum(r, 20)) {
		pr_warn("ACPI: RSDP at 0x%lx: bad signature or checksum\n", rsdp_pa);
		return -ENOENT;
	}
	acpi.rsdp = rsdp_pa;
	/* The XSDT when there is one (revision 2+, extended checksum good),
	 * else the RSDT with its 32-bit entries. */
	if (r->revision >= 2 && r->length >= sizeof(*r) && r->length <= 4096 &&
	    !acpi_checksum(r, r->length) && r->xsdt) {
		acpi.xsdt = r->xsdt;
		entry_size = 8;
	} else {
		acpi.xsdt = r->rsdt;
		acpi.rsdt = true;
		entry_size = 4;
	}
	root = table_at(acpi.xsdt);
	if (!root || memcmp(root->sig, acpi.rsdt ? "RSDT" : "XSDT", 4)) {
		pr_warn("ACPI: no valid %s at 0x%lx\n", acpi.rsdt ? "RSDT" : "XSDT", acpi.xsdt);
		return -ENOENT;
	}
	unsigned n = (root->length - sizeof(*root)) / entry_size;
	const u8 *entries = (const u8 *)root + sizeof(*root);
	for (unsigned i = 0; i < n; i++) {
		u64 pa = 0;
		memcpy(&pa, entries + i * entry_size, entry_size);
		const struct sdt_header *h = table_at(pa);
		if (!h)
			continue;
		if (!memcmp(h->sig, "MCFG", 4))
			parse_mcfg(h);
		else if (!memcmp(h->sig, "APIC", 4))
			parse_madt(h);
		else if (!memcmp(h->sig, "HPET", 4))
			parse_hpet(h);
	}
	return 0;
}

void acpi_for_each_table(void (*fn)(paddr_t pa, u64 len, void *arg), void *arg)
{
	const struct sdt_header *root;
	unsigned entry_size = acpi.rsdt ? 4 : 8;

	if (!acpi.rsdp)
		return;
	fn(acpi.rsdp, sizeof(struct rsdp), arg);
	root = table_at(acpi.xsdt);
	if (!root)
		return;
	fn(acpi.xsdt, root->length, arg);
	unsigned n = (root->length - sizeof(*root)) / entry_size;
	const u8 *entries = (const u8 *)root + sizeof(*root);
	for (unsigned i = 0; i < n; i++) {
		u64 pa = 0;
		memcpy(&pa, entries + i * entry_size, entry_size);
		const struct sdt_header *h = table_at(pa);
		if (!h)
			continue;
		fn(pa, h->length, arg);
		/* FADT (ACPI 6.4, 5.2.9): FIRMWARE_CTRL at 36, DSDT at 40,
		 * their 64-bit forms X_FIRMWARE_CTRL at 132, X_DSDT at 140. */
		if (!memcmp(h->sig, "FACP", 4) && h->length >= 44) {
			const u8 *f = (const u8 *)h;
			u32 facs32, dsdt32;
			u64 facs = 0, dsdt = 0;
			memcpy(&facs32, f + 36, 4);
			memcpy(&dsdt32, f + 40, 4);
			if (h->length >= 148) {
				memcpy(&facs, f + 132, 8);
				memcpy(&dsdt, f + 140, 8);
			}
			facs = facs ? facs : facs32;
			dsdt = dsdt ? dsdt : dsdt32;
			const struct sdt_header *dh = table_at(dsdt);
			if (dh)
				fn(dsdt, dh->length, arg);
			if (facs && facs < (4ULL << 30))
				fn(facs, 64, arg); /* FACS: 64 bytes, no checksum */
		}
	}
}
