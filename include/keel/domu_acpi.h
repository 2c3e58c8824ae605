/*
 * The ACPI tables a domU finds through hvm_start_info.rsdp_paddr
 * (kernel/domu_acpi.c): RSDP -> XSDT -> FADT (+ DSDT, FACS) and MADT, the
 * set Xen's toolstack gives a PVH guest (tools/libacpi/build.c as libxl
 * uses it). Linux needs the MADT: without a local APIC listed it never
 * reaches the point where it starts its Xen timer (docs/linux-guest.md).
 *
 * Pure: the builder only writes bytes into a caller's buffer, so the
 * host unit tests (tests/unit/test_domu_acpi.c) read what it made back
 * through the shared ACPI parser (hw/acpi_tables.c).
 */
#ifndef KEEL_DOMU_ACPI_H
#define KEEL_DOMU_ACPI_H

#include <lib/types.h>

/* The tables need at most this many bytes (one page) for MAX_VCPUS. */
#define DOMU_ACPI_SIZE 0x1000

/* Local APIC id of vCPU `vcpu`: 2 * id, as CPUID leaf 1 EBX[31:24]
 * reports it (kernel/cpuid.c) and libxl's MADT lists it. */
#define DOMU_APIC_ID(vcpu) ((vcpu) * 2)

/* Where each table landed: guest-physical addresses. */
struct domu_acpi_layout {
	u64 rsdp, xsdt, fadt, dsdt, facs, madt;
	size_t len; /* bytes used from the start of the buffer */
};

/*
 * Writes the tables for a domain of `nr_vcpus` vCPUs into buf[0..len),
 * to be placed at guest-physical `base` (page-aligned, below 4 GiB, as the
 * FADT's 32-bit fields hold addresses too). The MADT lists one enabled
 * local APIC per vCPU with ACPI processor UID = the Xen vCPU id (Linux's
 * cpu_acpi_id) and APIC id DOMU_APIC_ID. The FADT (revision 5) is
 * hardware-reduced, says no VGA and no CMOS RTC, and has no PM timer, SCI
 * or sleep registers.
 *
 * Returns 0 and fills *out; -EINVAL for nr_vcpus 0 or one whose APIC id
 * does not fit the 8-bit entry, for an unaligned base or one at or above
 * 4 GiB; -E2BIG when len is too small. The buffer is zeroed first.
 */
int domu_acpi_build(u8 *buf, size_t len, u64 base, unsigned nr_vcpus,
		    struct domu_acpi_layout *out);

#endif
