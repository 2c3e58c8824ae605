/*
 * ACPI static tables from bytes: contract in include/hw/acpi_tables.h.
 * Offsets are the specs' (cited at each parser); every load goes through
 * acpi_get, so a table shorter than a structure it claims to hold is
 * noticed instead of read past.
 */
#include <hw/acpi_tables.h>
#include <lib/errno.h>
#include <lib/pci_regs.h>

/* SDT header (ACPI 6.4, 5.2.6): signature 0, length 4, checksum 9. */
#define SDT_LENGTH 4

/* RSDP (ACPI 6.4, 5.2.5.3). */
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24

/* MCFG (PCI Firmware 3.2, 4.1.2): 8 reserved bytes after the header, then
 * 16-byte allocations: base 0, segment 8, start bus 10, end bus 11. */
#define MCFG_ENTRIES 44
#define MCFG_ENTRY_LEN 16

/* MADT (ACPI 6.4, 5.2.12): LAPIC address 36, flags 40, then entries of
 * (type, length, ...). */
#define MADT_LAPIC 36
#define MADT_ENTRIES 44
#define MADT_IOAPIC 1         /* 5.2.12.3: id 2, address 4, GSI base 8 */
#define MADT_IOAPIC_LEN 12
#define MADT_ISO 2            /* 5.2.12.5: bus 2, source 3, GSI 4, flags 8 */
#define MADT_ISO_LEN 10
#define MADT_LAPIC_OVR 5      /* 5.2.12.8: address 4 (64-bit) */
#define MADT_LAPIC_OVR_LEN 12

/* HPET (IA-PC HPET 1.0a, 3.2.4): the event timer block's generic address
 * structure at 40 (space id 40, address 44). */
#define HPET_GAS_SPACE 40
#define HPET_GAS_ADDR 44
#define HPET_LEN 56
#define GAS_SPACE_MEMORY 0

/* FADT (ACPI 6.4, 5.2.9): FIRMWARE_CTRL 36, DSDT 40; X_FIRMWARE_CTRL 132,
 * X_DSDT 140 when the table is long enough to hold them. */
#define FADT_FACS 36
#define FADT_DSDT 40
#define FADT_X_FACS 132
#define FADT_X_DSDT 140

bool acpi_get(const struct acpi_buf *b, size_t off, unsigned size, u64 *v)
{
	*v = 0;
	if (size > 8 || off > b->len || size > b->len - off)
		return false;
	for (unsigned i = 0; i < size; i++)
		*v |= (u64)b->p[off + i] << (8 * i);
	return true;
}

static u64 get_ok(const struct acpi_buf *b, size_t off, unsigned size, bool *ok)
{
	u64 v;
	if (!acpi_get(b, off, size, &v) && ok)
		*ok = false;
	return v;
}

u8 acpi_u8(const struct acpi_buf *b, size_t off, bool *ok) { return (u8)get_ok(b, off, 1, ok); }
u16 acpi_u16(const struct acpi_buf *b, size_t off, bool *ok) { return (u16)get_ok(b, off, 2, ok); }
u32 acpi_u32(const struct acpi_buf *b, size_t off, bool *ok) { return (u32)get_ok(b, off, 4, ok); }
u64 acpi_u64(const struct acpi_buf *b, size_t off, bool *ok) { return get_ok(b, off, 8, ok); }

u8 acpi_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static bool sig_is(const struct acpi_buf *b, const char *sig, size_t n)
{
	if (b->len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (b->p[i] != (u8)sig[i])
			return false;
	return true;
}

static void note(const struct acpi_source *src, const char *sig, u64 pa, u32 off, u32 len,
		 const char *why)
{
	struct acpi_note n = { .pa = pa, .off = off, .len = len, .why = why };

	if (!src->note)
		return;
	for (unsigned i = 0; i < 4; i++) {
		char c = sig[i];
		n.sig[i] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	n.sig[4] = 0;
	src->note(src->ctx, &n);
}

/* ---- RSDP and SDT headers ------------------------------------------------ */

int acpi_rsdp_parse(const struct acpi_buf *b, u64 *root, bool *rsdt, const char **why)
{
	bool ok = true;

	if (b->len < ACPI_RSDP_V1_LEN || !sig_is(b, "RSD PTR ", 8)) {
		*why = "no RSDP signature";
		return -EINVAL;
	}
	if (acpi_checksum(b->p, ACPI_RSDP_V1_LEN)) {
		*why = "bad checksum";
		return -EINVAL;
	}
	/* ACPI 2.0+: the XSDT, if the extended structure is whole and sums
	 * to 0. An RSDP that fails only there still names an RSDT. */
	u8 rev = acpi_u8(b, RSDP_REVISION, &ok);
	u32 len = acpi_u32(b, RSDP_LENGTH, &ok);
	u64 x = acpi_u64(b, RSDP_XSDT, &ok);
	if (rev >= 2 && ok && len >= ACPI_RSDP_V2_LEN && len <= ACPI_RSDP_MAX && len <= b->len &&
	    !acpi_checksum(b->p, len) && x) {
		*root = x;
		*rsdt = false;
		return 0;
	}
	ok = true;
	*root = acpi_u32(b, RSDP_RSDT, &ok);
	*rsdt = true;
	if (!*root) {
		*why = "no RSDT or XSDT address";
		return -EINVAL;
	}
	return 0;
}

int acpi_sdt_check(struct acpi_buf *t, const char *sig, const char **why)
{
	bool ok = true;
	u32 len = acpi_u32(t, SDT_LENGTH, &ok);

	if (!ok || t->len < ACPI_SDT_HEADER_LEN) {
		*why = "header not readable";
		return -EINVAL;
	}
	if (sig && !sig_is(t, sig, 4)) {
		*why = "unexpected signature";
		return -EINVAL;
	}
	if (len < ACPI_SDT_HEADER_LEN || len > ACPI_TABLE_MAX) {
		*why = "bad length";
		return -EINVAL;
	}
	if (len > t->len) {
		*why = "length beyond the readable bytes";
		return -EINVAL;
	}
	if (acpi_checksum(t->p, len)) {
		*why = "bad checksum";
		return -EINVAL;
	}
	t->len = len;
	return 0;
}

/* ---- the tables ---------------------------------------------------------- */

int acpi_parse_mcfg(const struct acpi_source *src, u64 pa, const struct acpi_buf *t,
		    struct acpi_info *info)
{
	unsigned kept = 0;
	u32 len = (u32)t->len;

	if (len < MCFG_ENTRIES) {
		note(src, "MCFG", pa, 0, len, "shorter than its fixed part: no ECAM from it");
		return -EINVAL;
	}
	if ((len - MCFG_ENTRIES) % MCFG_ENTRY_LEN)
		note(src, "MCFG", pa, len - (len - MCFG_ENTRIES) % MCFG_ENTRY_LEN, len,
		     "a partial allocation crosses the table end: ignored");
	if (len - MCFG_ENTRIES < MCFG_ENTRY_LEN) {
		note(src, "MCFG", pa, 0, len, "no allocation: no ECAM from it");
		return -EINVAL;
	}
	for (u32 off = MCFG_ENTRIES; off + MCFG_ENTRY_LEN <= len; off += MCFG_ENTRY_LEN) {
		bool ok = true;
		struct acpi_ecam e = {
			.base = acpi_u64(t, off, &ok),
			.segment = acpi_u16(t, off + 8, &ok),
			.start_bus = acpi_u8(t, off + 10, &ok),
			.end_bus = acpi_u8(t, off + 11, &ok),
		};
		/* Bus 0's space must be 1 MiB aligned (bus n at n << 20). */
		if (!ok || e.end_bus < e.start_bus || !e.base ||
		    (e.base & ((1u << PCI_ECAM_BUS_SHIFT) - 1))) {
			note(src, "MCFG", pa, off, MCFG_ENTRY_LEN,
			     "allocation with a zero or unaligned base or end bus < start bus: "
			     "ignored");
			continue;
		}
		if (info->nr_ecam == ACPI_MAX_ECAM) {
			note(src, "MCFG", pa, off, len, "more allocations than Keel keeps: the rest "
			     "are ignored");
			break;
		}
		info->ecam[info->nr_ecam++] = e;
		kept++;
	}
	return kept ? 0 : -EINVAL;
}

int acpi_parse_madt(const struct acpi_source *src, u64 pa, const struct acpi_buf *t,
		    struct acpi_info *info)
{
	bool ok = true;
	u32 len = (u32)t->len, lapic = acpi_u32(t, MADT_LAPIC, &ok);

	if (!ok || len < MADT_ENTRIES) {
		note(src, "APIC", pa, 0, len, "shorter than its fixed part: ignored");
		return -EINVAL;
	}
	info->lapic_addr = lapic;
	for (u32 off = MADT_ENTRIES; off < len;) {
		u8 type = acpi_u8(t, off, &ok);
		u8 elen = acpi_u8(t, off + 1, &ok);
		/* An entry must cover its own type and length bytes: a length of
		 * 0 or 1 would never move the walk past it. */
		if (!ok || elen < 2) {
			note(src, "APIC", pa, off, elen,
			     "entry length below 2: the rest of the table is ignored");
			return 0;
		}
		if (elen > len - off) {
			note(src, "APIC", pa, off, elen, "entry crosses the table end: ignored");
			return 0;
		}
		struct acpi_buf e = { t->p + off, elen };
		ok = true;
		switch (type) {
		case MADT_IOAPIC:
			if (elen < MADT_IOAPIC_LEN) {
				note(src, "APIC", pa, off, elen, "I/O APIC entry too short: ignored");
			} else if (info->nr_ioapic == ACPI_MAX_IOAPIC) {
				note(src, "APIC", pa, off, elen,
				     "more I/O APICs than Keel keeps: ignored");
			} else {
				struct acpi_ioapic *io = &info->ioapic[info->nr_ioapic++];
				io->id = acpi_u8(&e, 2, &ok);
				io->addr = acpi_u32(&e, 4, &ok);
				io->gsi_base = acpi_u32(&e, 8, &ok);
			}
			break;
		case MADT_ISO:
			if (elen < MADT_ISO_LEN) {
				note(src, "APIC", pa, off, elen,
				     "interrupt source override too short: ignored");
			} else if (info->nr_iso == ACPI_MAX_ISO) {
				note(src, "APIC", pa, off, elen,
				     "more interrupt source overrides than Keel keeps: ignored");
			} else {
				struct acpi_iso *iso = &info->iso[info->nr_iso++];
				iso->source = acpi_u8(&e, 3, &ok);
				iso->gsi = acpi_u32(&e, 4, &ok);
				iso->flags = acpi_u16(&e, 8, &ok);
			}
			break;
		case MADT_LAPIC_OVR:
			if (elen < MADT_LAPIC_OVR_LEN)
				note(src, "APIC", pa, off, elen,
				     "local APIC address override too short: ignored");
			else
				info->lapic_addr = acpi_u64(&e, 4, &ok);
			break;
		default:
			break;
		}
		off += elen;
	}
	return 0;
}

int acpi_parse_hpet(const struct acpi_source *src, u64 pa, const struct acpi_buf *t,
		    struct acpi_info *info)
{
	bool ok = true;
	u8 space = acpi_u8(t, HPET_GAS_SPACE, &ok);
	u64 addr = acpi_u64(t, HPET_GAS_ADDR, &ok);

	if (!ok || t->len < HPET_LEN) {
		note(src, "HPET", pa, 0, (u32)t->len, "shorter than its fixed part: ignored");
		return -EINVAL;
	}
	if (space != GAS_SPACE_MEMORY || !addr) {
		note(src, "HPET", pa, HPET_GAS_SPACE, 12,
		     "timer block not in memory space: ignored");
		return -EINVAL;
	}
	info->hpet_addr = addr;
	return 0;
}

int acpi_parse_fadt(const struct acpi_source *src, u64 pa, const struct acpi_buf *t,
		    struct acpi_info *info)
{
	bool ok = true;
	u64 facs = acpi_u32(t, FADT_FACS, &ok), dsdt = acpi_u32(t, FADT_DSDT, &ok);

	if (!ok) {
		note(src, "FACP", pa, 0, (u32)t->len, "too short to name the DSDT: ignored");
		return -EINVAL;
	}
	/* The 64-bit fields win when present and non-zero (ACPI 6.4, 5.2.9:
	 * X_DSDT "superseded" DSDT). */
	bool x = true;
	u64 xfacs = acpi_u64(t, FADT_X_FACS, &x), xdsdt = acpi_u64(t, FADT_X_DSDT, &x);
	if (x) {
		facs = xfacs ? xfacs : facs;
		dsdt = xdsdt ? xdsdt : dsdt;
	}
	info->facs = facs;
	info->dsdt = dsdt;
	return 0;
}

/* ---- walking from the RSDP ----------------------------------------------- */

/* The table at pa, checked (signature sig, or any), or false (noted). */
static bool table_at(const struct acpi_source *src, u64 pa, const char *sig,
		     struct acpi_buf *t)
{
	const char *why;

	t->len = 0;
	t->p = pa ? src->map(src->ctx, pa, &t->len) : NULL;
	if (!t->p)
		t->len = 0;
	if (!acpi_sdt_check(t, sig, &why))
		return true;
	/* Name the table by what it says it is when that much is readable. */
	char name[4] = { '?', '?', '?', '?' };
	for (unsigned i = 0; i < 4 && i < t->len; i++)
		name[i] = (char)t->p[i];
	bool ok = true;
	note(src, t->len >= 4 ? name : (sig ? sig : "????"), pa, 0, acpi_u32(t, SDT_LENGTH, &ok),
	     why);
	return false;
}

int acpi_walk(const struct acpi_source *src, u64 rsdp, acpi_table_fn *fn, void *arg)
{
	struct acpi_buf b = { NULL, 0 }, root;
	const char *why;
	u64 root_pa, dsdt = 0, facs = 0;
	bool rsdt;

	if (rsdp)
		b.p = src->map(src->ctx, rsdp, &b.len);
	if (!b.p)
		b.len = 0;
	if (acpi_rsdp_parse(&b, &root_pa, &rsdt, &why)) {
		note(src, "RSDP", rsdp, 0, (u32)b.len, why);
		return -ENOENT;
	}
	if (!table_at(src, root_pa, rsdt ? "RSDT" : "XSDT", &root))
		return -ENOENT;
	/* The RSDP's own length: the extended structure only with an XSDT. */
	bool ok = true;
	u32 rlen = rsdt ? ACPI_RSDP_V1_LEN : acpi_u32(&b, RSDP_LENGTH, &ok);
	b.len = rlen;
	fn(arg, "RSDP", rsdp, &b);
	fn(arg, rsdt ? "RSDT" : "XSDT", root_pa, &root);

	unsigned esize = rsdt ? 4 : 8;
	for (size_t off = ACPI_SDT_HEADER_LEN; off + esize <= root.len; off += esize) {
		struct acpi_buf t;
		u64 pa;
		acpi_get(&root, off, esize, &pa);
		if (!pa || !table_at(src, pa, NULL, &t))
			continue;
		if (sig_is(&t, "FACP", 4)) {
			/* Quietly: acpi_read_tables parses it again, with notes. */
			const struct acpi_source quiet = { .map = src->map, .ctx = src->ctx };
			struct acpi_info fadt = { 0 };
			acpi_parse_fadt(&quiet, pa, &t, &fadt);
			dsdt = fadt.dsdt;
			facs = fadt.facs;
		}
		char sig[5] = { (char)t.p[0], (char)t.p[1], (char)t.p[2], (char)t.p[3], 0 };
		fn(arg, sig, pa, &t);
	}
	if ((root.len - ACPI_SDT_HEADER_LEN) % esize)
		note(src, rsdt ? "RSDT" : "XSDT", root_pa, (u32)root.len, (u32)root.len,
		     "a partial entry crosses the table end: ignored");

	struct acpi_buf t;
	if (dsdt && table_at(src, dsdt, "DSDT", &t))
		fn(arg, "DSDT", dsdt, &t);
	if (facs) {
		t.len = 0;
		t.p = src->map(src->ctx, facs, &t.len);
		if (t.p && t.len >= ACPI_FACS_LEN) {
			t.len = ACPI_FACS_LEN;
			fn(arg, "FACS", facs, &t);
		} else {
			note(src, "FACS", facs, 0, ACPI_FACS_LEN, "not readable: skipped");
		}
	}
	return 0;
}

struct read_ctx {
	const struct acpi_source *src;
	struct acpi_info *info;
};

static bool same_sig(const char *a, const char *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static void read_one(void *arg, const char *sig, u64 pa, const struct acpi_buf *t)
{
	struct read_ctx *c = arg;

	if (same_sig(sig, "MCFG"))
		acpi_parse_mcfg(c->src, pa, t, c->info);
	else if (same_sig(sig, "APIC"))
		acpi_parse_madt(c->src, pa, t, c->info);
	else if (same_sig(sig, "HPET"))
		acpi_parse_hpet(c->src, pa, t, c->info);
	else if (same_sig(sig, "FACP"))
		acpi_parse_fadt(c->src, pa, t, c->info);
	else if (same_sig(sig, "RSDT") || same_sig(sig, "XSDT")) {
		c->info->xsdt = pa;
		c->info->rsdt = sig[0] == 'R';
	}
}

int acpi_read_tables(const struct acpi_source *src, u64 rsdp, struct acpi_info *info)
{
	struct read_ctx c = { src, info };
	int rc;

	*info = (struct acpi_info){ 0 };
	rc = acpi_walk(src, rsdp, read_one, &c);
	if (!rc)
		info->rsdp = rsdp;
	return rc;
}

const struct acpi_ecam *acpi_ecam_of_segment(const struct acpi_info *info, u16 segment)
{
	for (unsigned i = 0; i < info->nr_ecam; i++)
		if (info->ecam[i].segment == segment)
			return &info->ecam[i];
	return NULL;
}

const struct acpi_iso *acpi_iso_of_irq(const struct acpi_info *info, u8 irq)
{
	for (unsigned i = 0; i < info->nr_iso; i++)
		if (info->iso[i].source == irq)
			return &info->iso[i];
	return NULL;
}
