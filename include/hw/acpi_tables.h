/*
 * The ACPI static tables Keel reads, parsed from bytes (ACPI 6.4 ch. 5:
 * 5.2.5 RSDP, 5.2.6 SDT header, 5.2.7/5.2.8 RSDT/XSDT, 5.2.9 FADT, 5.2.12
 * MADT; PCI Firmware 3.2, 4.1.2 MCFG; IA-PC HPET 1.0a, 3.2.4 HPET).
 * Shared by the hypervisor (kernel/acpi.c) and dom0 (drivers/pci/pci.c),
 * unit-tested on the host (tests/unit/test_acpi.c) and fuzzed
 * (tests/fuzz/fuzz_acpi.c). No AML.
 *
 * No hardware access: the caller says where the bytes of a physical
 * address are (struct acpi_source). Every read goes through the
 * bounds-checked accessors below; a table is used only when its header is
 * readable, its signature is the one expected, its length is at least the
 * header, at most ACPI_TABLE_MAX and within what the caller can provide,
 * and it sums to 0. An entry that crosses the end of its table is
 * rejected. Every rejection is reported through acpi_source.note.
 */
#ifndef HW_ACPI_TABLES_H
#define HW_ACPI_TABLES_H

#include <lib/types.h>

/* Tables longer than this are refused: no MCFG, MADT or HPET comes close,
 * and a corrupt length must not make a reader walk across memory. */
#define ACPI_TABLE_MAX (64u << 10)
#define ACPI_SDT_HEADER_LEN 36
#define ACPI_RSDP_V1_LEN 20   /* what the first checksum covers */
#define ACPI_RSDP_V2_LEN 36   /* revision 2+: the extended structure */
#define ACPI_RSDP_MAX 4096
#define ACPI_FACS_LEN 64      /* FACS: no checksum; its length is read as 64 */

#define ACPI_MAX_ECAM 4
#define ACPI_MAX_IOAPIC 4
#define ACPI_MAX_ISO 16

/* ---- bounds-checked bytes ------------------------------------------------ */

/* `len` readable bytes at `p`. */
struct acpi_buf {
	const u8 *p;
	size_t len;
};

/* Little-endian loads of 1-8 bytes at `off`: false (and *v = 0) when they
 * do not lie inside the buffer. */
bool acpi_get(const struct acpi_buf *b, size_t off, unsigned size, u64 *v);
u8 acpi_u8(const struct acpi_buf *b, size_t off, bool *ok);
u16 acpi_u16(const struct acpi_buf *b, size_t off, bool *ok);
u32 acpi_u32(const struct acpi_buf *b, size_t off, bool *ok);
u64 acpi_u64(const struct acpi_buf *b, size_t off, bool *ok);

/* Sums `len` bytes; ACPI structures sum to 0 (mod 256). */
u8 acpi_checksum(const void *p, size_t len);

/* ---- what the tables say ------------------------------------------------- */

/* One MCFG allocation: buses start..end of `segment`; bus b, device d,
 * function f at base + (b << 20 | d << 15 | f << 12) (the PCI Firmware
 * spec's base is that of bus 0 even when start > 0, as Linux reads it). */
struct acpi_ecam {
	paddr_t base;     /* address of bus 0's space, as in the table */
	u16 segment;
	u8 start_bus, end_bus;
};

struct acpi_ioapic {
	u8 id;
	paddr_t addr;
	u32 gsi_base;
};

/* An interrupt source override: ISA IRQ `source` is GSI `gsi` with the
 * MPS INTI flags (polarity bits 0-1, trigger mode bits 2-3). */
struct acpi_iso {
	u8 source;
	u32 gsi;
	u16 flags;
};
#define ACPI_MPS_POLARITY_MASK 0x3
#define ACPI_MPS_POLARITY_LOW 0x3
#define ACPI_MPS_TRIGGER_SHIFT 2
#define ACPI_MPS_TRIGGER_MASK 0x3
#define ACPI_MPS_TRIGGER_LEVEL 0x3

struct acpi_info {
	paddr_t rsdp;
	paddr_t xsdt;     /* or the RSDT when rsdt is set */
	bool rsdt;
	unsigned nr_ecam;
	struct acpi_ecam ecam[ACPI_MAX_ECAM];
	paddr_t lapic_addr;   /* 0 when there is no MADT */
	unsigned nr_ioapic;
	struct acpi_ioapic ioapic[ACPI_MAX_IOAPIC];
	unsigned nr_iso;
	struct acpi_iso iso[ACPI_MAX_ISO];
	paddr_t hpet_addr;    /* 0 when there is no HPET table */
	paddr_t dsdt, facs;   /* from the FADT; 0 when absent */
};

/* ---- where the bytes come from ------------------------------------------- */

/* A rejected table or entry: the reader prints it as one line. */
struct acpi_note {
	char sig[5];      /* the table, NUL-terminated ("RSDP", "MADT", "????") */
	u64 pa;           /* its address */
	u32 off;          /* the entry's offset in it; 0 for the table itself */
	u32 len;          /* the length in question (the table's or the entry's) */
	const char *why;  /* what is wrong and what was done about it */
};

struct acpi_source {
	/* The bytes at physical address pa: returns a pointer from which
	 * *avail bytes may be read (NULL or *avail 0: nothing there). Tables
	 * are read only up to their own length, never past *avail. */
	const u8 *(*map)(void *ctx, u64 pa, size_t *avail);
	/* Told about every rejection; may be NULL. */
	void (*note)(void *ctx, const struct acpi_note *n);
	void *ctx;
};

/* ---- parsing ------------------------------------------------------------- */

/*
 * Checks the RSDP in `b` (signature, the 20-byte checksum; for revision 2+
 * the length and extended checksum) and returns the root table to use: the
 * XSDT (*rsdt false) when revision >= 2, the extended part is valid and the
 * address non-zero, else the RSDT (*rsdt true). 0, or -EINVAL with *why.
 */
int acpi_rsdp_parse(const struct acpi_buf *b, u64 *root, bool *rsdt, const char **why);

/*
 * Checks the system description table in `t` (readable bytes at its
 * address): header readable, signature `sig` (NULL: any), length within
 * [header, ACPI_TABLE_MAX] and within t->len, checksum 0. On success
 * trims t->len to the table's length and returns 0; else -EINVAL with
 * *why.
 */
int acpi_sdt_check(struct acpi_buf *t, const char *sig, const char **why);

/* Table parsers: `t` is a table that passed acpi_sdt_check, `pa` its
 * address (for notes). Each adds what it finds to `info` and notes every
 * entry it rejects. 0, or -EINVAL when nothing usable was found. */
int acpi_parse_mcfg(const struct acpi_source *src, u64 pa, const struct acpi_buf *t,
		    struct acpi_info *info);
int acpi_parse_madt(const struct acpi_source *src, u64 pa, const struct acpi_buf *t,
		    struct acpi_info *info);
int acpi_parse_hpet(const struct acpi_source *src, u64 pa, const struct acpi_buf *t,
		    struct acpi_info *info);
int acpi_parse_fadt(const struct acpi_source *src, u64 pa, const struct acpi_buf *t,
		    struct acpi_info *info);

/*
 * Calls fn for every table reachable from the RSDP at `rsdp` that passes
 * its checks, with its signature, address and bytes (t.len = its length):
 * the RSDP ("RSDP"), the XSDT or RSDT, each table the root lists, then the
 * FADT's DSDT and FACS ("FACS", ACPI_FACS_LEN bytes, no checksum to
 * check). Tables that fail are noted and skipped. 0, or -ENOENT (noted)
 * when there is no usable RSDP or root table.
 */
typedef void acpi_table_fn(void *arg, const char *sig, u64 pa, const struct acpi_buf *t);
int acpi_walk(const struct acpi_source *src, u64 rsdp, acpi_table_fn *fn, void *arg);

/*
 * Fills `info` (zeroed first) from the tables acpi_walk reaches: MCFG,
 * MADT, HPET, FADT. 0 or -ENOENT as acpi_walk.
 */
int acpi_read_tables(const struct acpi_source *src, u64 rsdp, struct acpi_info *info);

/* The first ECAM allocation of `segment`, or NULL. */
const struct acpi_ecam *acpi_ecam_of_segment(const struct acpi_info *info, u16 segment);

/* The interrupt source override for ISA IRQ `irq`, or NULL. */
const struct acpi_iso *acpi_iso_of_irq(const struct acpi_info *info, u8 irq);

#endif
