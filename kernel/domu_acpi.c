/*
 * ACPI tables for domUs (contract in include/keel/domu_acpi.h).
 *
 * Layout in the one page, each table at a fixed offset (the FACS 64-byte
 * aligned as ACPI 6.4 5.2.10 requires):
 *
 *   0x000 RSDP (revision 2, 36 bytes, XSDT only: no RSDT)
 *   0x040 XSDT: FADT, MADT
 *   0x080 FADT revision 5 (268 bytes)
 *   0x190 DSDT: the header only, no AML (no devices, no _S5: Linux then
 *         powers off by halting every CPU with interrupts off, which Keel
 *         takes as power-off, kernel/exit.c)
 *   0x1c0 FACS
 *   0x200 MADT: header, local APIC address, one Processor Local APIC
 *         entry per vCPU
 *
 * Field offsets are ACPI 6.4's: 5.2.5.3 RSDP, 5.2.6 header, 5.2.8 XSDT,
 * 5.2.9 FADT (table 5.9), 5.2.10 FACS, 5.2.12 MADT and 5.2.12.2 the local
 * APIC entry. What the FADT says follows Xen's libacpi for a PVH guest:
 * no legacy devices, no VGA, no CMOS RTC, and HW_REDUCED_ACPI, so Linux
 * looks for no PM timer, SCI or fixed-hardware registers.
 */
#include <keel/domu_acpi.h>
#include <lib/errno.h>
#include <lib/string.h>

#define RSDP_OFF 0x000
#define XSDT_OFF 0x040
#define FADT_OFF 0x080
#define DSDT_OFF 0x190
#define FACS_OFF 0x1c0
#define MADT_OFF 0x200

#define HDR_LEN 36
#define RSDP_LEN 36
#define RSDP_V1_LEN 20
#define XSDT_ENTRIES 2
#define FADT_LEN 268       /* revision 5 (ACPI 5.0 and later up to 6.0) */
#define FADT_REVISION 5
#define FADT_MINOR 1
#define FACS_LEN 64
#define FACS_VERSION 2
#define MADT_LAPIC_LEN 8
#define MADT_REVISION 4

/* FADT fields (table 5.9). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
/* IAPC_BOOT_ARCH (table 5.10): VGA not present, CMOS RTC not present. */
#define BOOT_ARCH_VGA_NOT_PRESENT (1u << 2)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT (1u << 5)
/* FADT flags (table 5.10): WBINVD works, HW_REDUCED_ACPI. */
#define FADT_F_WBINVD (1u << 0)
#define FADT_F_HW_REDUCED_ACPI (1u << 20)

/* MADT (table 5.43, 5.45). */
#define MADT_TYPE_LAPIC 0
#define MADT_LAPIC_ENABLED 1u
#define LAPIC_DEFAULT_BASE 0xfee00000u

static void put16(u8 *p, u16 v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put32(u8 *p, u32 v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static void put64(u8 *p, u64 v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static u8 sum(const u8 *p, size_t len)
{
	u8 s = 0;
	while (len--)
		s += *p++;
	return s;
}

/* The common header (5.2.6) of a table whose body is already written;
 * the checksum goes last, over the whole table. */
static void header(u8 *t, const char sig[4], u32 len, u8 rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "KEEL  ", 6);   /* OEMID */
	memcpy(t + 16, "KEELDOMU", 8); /* OEM table id */
	put32(t + 24, 1);              /* OEM revision */
	memcpy(t + 28, "KEEL", 4);     /* creator id */
	put32(t + 32, 1);              /* creator revision */
	t[9] = 0;
	t[9] = (u8)-sum(t, len);
}

int domu_acpi_build(u8 *buf, size_t len, u64 base, unsigned nr_vcpus,
		    struct domu_acpi_layout *out)
{
	if (!nr_vcpus || DOMU_APIC_ID(nr_vcpus - 1) > 0xfe)
		return -EINVAL; /* 0xff is the broadcast id */
	if ((base & 0xfff) || base >= (1ULL << 32) - DOMU_ACPI_SIZE)
		return -EINVAL;
	size_t madt_len = HDR_LEN + 8 + nr_vcpus * MADT_LAPIC_LEN;
	size_t need = MADT_OFF + madt_len;
	if (len < need)
		return -E2BIG;
	memset(buf, 0, len);

	u8 *dsdt = buf + DSDT_OFF;
	header(dsdt, "DSDT", HDR_LEN, 2);

	/* FACS: no checksum; nothing to wake from (no sleep states). */
	u8 *facs = buf + FACS_OFF;
	memcpy(facs, "FACS", 4);
	put32(facs + 4, FACS_LEN);
	facs[32] = FACS_VERSION;

	u8 *fadt = buf + FADT_OFF;
	/* Both the 32- and 64-bit pointers, equal: ACPICA takes X_ first
	 * and accepts the pair when they agree. */
	put32(fadt + FADT_FIRMWARE_CTRL, (u32)(base + FACS_OFF));
	put32(fadt + FADT_DSDT, (u32)(base + DSDT_OFF));
	put16(fadt + FADT_IAPC_BOOT_ARCH, BOOT_ARCH_VGA_NOT_PRESENT | BOOT_ARCH_CMOS_RTC_NOT_PRESENT);
	put32(fadt + FADT_FLAGS, FADT_F_WBINVD | FADT_F_HW_REDUCED_ACPI);
	fadt[FADT_MINOR_VERSION] = FADT_MINOR;
	put64(fadt + FADT_X_FIRMWARE_CTRL, base + FACS_OFF);
	put64(fadt + FADT_X_DSDT, base + DSDT_OFF);
	header(fadt, "FACP", FADT_LEN, FADT_REVISION);

	u8 *madt = buf + MADT_OFF;
	put32(madt + HDR_LEN, LAPIC_DEFAULT_BASE);
	put32(madt + HDR_LEN + 4, 0); /* no PCAT_COMPAT: there is no 8259 */
	for (unsigned i = 0; i < nr_vcpus; i++) {
		u8 *e = madt + HDR_LEN + 8 + i * MADT_LAPIC_LEN;
		e[0] = MADT_TYPE_LAPIC;
		e[1] = MADT_LAPIC_LEN;
		e[2] = (u8)i;              /* ACPI processor UID = Xen vCPU id */
		e[3] = (u8)DOMU_APIC_ID(i);
		put32(e + 4, MADT_LAPIC_ENABLED);
	}
	header(madt, "APIC", (u32)madt_len, MADT_REVISION);

	u8 *xsdt = buf + XSDT_OFF;
	put64(xsdt + HDR_LEN, base + FADT_OFF);
	put64(xsdt + HDR_LEN + 8, base + MADT_OFF);
	header(xsdt, "XSDT", HDR_LEN + XSDT_ENTRIES * 8, 1);

	u8 *rsdp = buf + RSDP_OFF;
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "KEEL  ", 6);
	rsdp[15] = 2;                 /* revision: ACPI 2.0+ structure */
	put32(rsdp + 16, 0);          /* no RSDT */
	put32(rsdp + 20, RSDP_LEN);
	put64(rsdp + 24, base + XSDT_OFF);
	rsdp[8] = (u8)-sum(rsdp, RSDP_V1_LEN);
	rsdp[32] = (u8)-sum(rsdp, RSDP_LEN);

	*out = (struct domu_acpi_layout){
		.rsdp = base + RSDP_OFF, .xsdt = base + XSDT_OFF, .fadt = base + FADT_OFF,
		.dsdt = base + DSDT_OFF, .facs = base + FACS_OFF, .madt = base + MADT_OFF,
		.len = need,
	};
	return 0;
}
