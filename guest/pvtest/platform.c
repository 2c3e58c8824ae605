/*
 * role=platform [vcpus=N]: what a PVH domU finds of the platform Keel
 * builds for Linux (docs/linux-guest.md), checked from inside the guest:
 *   - the memory map: RAM below 1 MiB, the ACPI page at 0x9f000 and the
 *     legacy hole reserved, never RAM;
 *   - ACPI: rsdp_paddr -> RSDP (both checksums) -> XSDT -> FADT
 *     (hardware-reduced, no VGA, no CMOS RTC) with DSDT and FACS, and a
 *     MADT with one enabled local APIC per vCPU, UID = vCPU id, APIC id =
 *     what CPUID leaf 1 says for vCPU 0;
 *   - MTRRs: MTRRcap, the PVH default (enabled, WB), a variable range
 *     kept as written, a reserved type refused with #GP and not stored;
 *   - string port I/O: REP OUTSB to port 0xE9 (printed as our console
 *     line), REP INSD and a backwards (DF=1) REP INSB from the test port;
 * then prints PASS and halts with interrupts off: Keel takes the last
 * vCPU halting so as power-off.
 */
#include <lib/string.h>
#include <public/keel_test.h>
#include <public/xen.h>
#include <public/start_info.h>
#include "cpu.h"
#include "guest.h"
#include "pvtest.h"

#define ACPI_GPA 0x9f000ULL

static const u8 *phys(u64 pa)
{
	return (const u8 *)(uintptr_t)pa; /* identity-mapped (guest.h) */
}

static u32 le32(const u8 *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (u32)p[3] << 24;
}

static u64 le64(const u8 *p)
{
	return le32(p) | (u64)le32(p + 4) << 32;
}

static u8 sum(const u8 *p, u32 len)
{
	u8 s = 0;
	while (len--)
		s += *p++;
	return s;
}

static const u8 *table(u64 pa, const char *sig)
{
	const u8 *t = phys(pa);
	if (pa < ACPI_GPA || pa >= ACPI_GPA + 0x1000)
		fail("%s at 0x%lx: outside the ACPI page", sig, pa);
	if (memcmp(t, sig, 4))
		fail("table at 0x%lx is not %s", pa, sig);
	if (strcmp(sig, "FACS") && sum(t, le32(t + 4)))
		fail("%s: checksum", sig);
	return t;
}

static void check_memmap(const struct hvm_start_info *si)
{
	unsigned n;
	const struct hvm_memmap_table_entry *mm = si_memmap(si, &n);
	bool low_ram = false, acpi_reserved = false;
	for (unsigned i = 0; i < n; i++) {
		u64 s = mm[i].addr, e = mm[i].addr + mm[i].size;
		if (mm[i].type == XEN_HVM_MEMMAP_TYPE_RAM) {
			if (s == 0 && e >= 0x9f000)
				low_ram = true;
			if (s < 0x100000 && e > ACPI_GPA)
				fail("memmap entry %u 0x%lx-0x%lx: RAM over the ACPI page or legacy hole",
				     i, s, e);
		}
		if (mm[i].type == XEN_HVM_MEMMAP_TYPE_RESERVED && s <= ACPI_GPA && e >= ACPI_GPA + 0x1000)
			acpi_reserved = true;
	}
	if (!low_ram || !acpi_reserved)
		fail("memmap: RAM below 640 KiB %s, ACPI page reserved %s", low_ram ? "yes" : "no",
		     acpi_reserved ? "yes" : "no");
	printf("pvtest: platform: memmap %u entries, RAM from 0, ACPI page reserved\n", n);
}

static void check_acpi(const struct hvm_start_info *si, unsigned vcpus)
{
	const u8 *rsdp = phys(si->rsdp_paddr);
	if (si->rsdp_paddr != ACPI_GPA || memcmp(rsdp, "RSD PTR ", 8) || sum(rsdp, 20) ||
	    rsdp[15] < 2 || sum(rsdp, 36))
		fail("RSDP at 0x%lx: bad signature, revision or checksum", si->rsdp_paddr);
	const u8 *xsdt = table(le64(rsdp + 24), "XSDT");
	const u8 *fadt = NULL, *madt = NULL;
	for (u32 off = 36; off + 8 <= le32(xsdt + 4); off += 8) {
		const u8 *t = phys(le64(xsdt + off));
		if (!memcmp(t, "FACP", 4))
			fadt = table(le64(xsdt + off), "FACP");
		else if (!memcmp(t, "APIC", 4))
			madt = table(le64(xsdt + off), "APIC");
	}
	if (!fadt || !madt)
		fail("XSDT lists no %s", fadt ? "MADT" : "FADT");
	table(le64(fadt + 140), "DSDT");
	table(le64(fadt + 132), "FACS");
	u16 boot_arch = fadt[109] | fadt[110] << 8;
	if (!(le32(fadt + 112) & (1u << 20)) || (boot_arch & 0x24) != 0x24)
		fail("FADT flags 0x%x, boot arch 0x%x: want HW_REDUCED, no VGA, no CMOS RTC",
		     le32(fadt + 112), boot_arch);

	unsigned found = 0;
	u8 apic0 = cpuid(1).ebx >> 24;
	for (u32 off = 44; off + 2 <= le32(madt + 4); off += madt[off + 1]) {
		const u8 *e = madt + off;
		if (e[1] < 2)
			fail("MADT entry at %u: length %u", off, e[1]);
		if (e[0] != 0)
			continue;
		if (e[2] != found || e[3] != 2 * found || !(le32(e + 4) & 1))
			fail("MADT local APIC %u: UID %u, APIC id %u, flags 0x%x", found, e[2], e[3],
			     le32(e + 4));
		found++;
	}
	if (found != vcpus)
		fail("MADT lists %u local APICs for %u vCPUs", found, vcpus);
	if (apic0 != 0)
		fail("CPUID leaf 1 gives vCPU 0 APIC id %u, the MADT 0", apic0);
	printf("pvtest: platform: ACPI RSDP 0x%lx XSDT FACP DSDT FACS APIC, %u local APIC(s)\n",
	       si->rsdp_paddr, found);
}

static void check_mtrr(void)
{
	u64 cap = 0, def = 0, v = 0;
	if (!rdmsr_safe(0xfe, &cap) || !rdmsr_safe(0x2ff, &def))
		fail("MTRRcap or MTRR_DEF_TYPE: #GP");
	if ((cap & 0xff) != 8 || !(cap & (1u << 8)) || def != 0x806)
		fail("MTRRcap 0x%lx, DEF_TYPE 0x%lx: want VCNT 8 + FIX, enabled WB", cap, def);
	if (!wrmsr_safe(0x204, 0xc0000000ULL | 0) || !wrmsr_safe(0x205, 0xfc0000800ULL))
		fail("MTRR_PHYSBASE2/MASK2 write: #GP");
	if (!rdmsr_safe(0x204, &v) || v != 0xc0000000ULL)
		fail("MTRR_PHYSBASE2 reads 0x%lx after writing 0xc0000000", v);
	if (wrmsr_safe(0x204, 0xc0000002ULL))
		fail("MTRR_PHYSBASE2 with reserved type 2: no #GP");
	if (!rdmsr_safe(0x204, &v) || v != 0xc0000000ULL)
		fail("MTRR_PHYSBASE2 changed to 0x%lx by a refused write", v);
	if (wrmsr_safe(0xfe, cap))
		fail("MTRRcap write: no #GP");
	printf("pvtest: platform: MTRR cap 0x%lx def 0x%lx, variable range kept, reserved type #GP\n",
	       cap, def);
}

static void check_string_io(void)
{
	static const char line[] = "pvtest: platform: rep outsb reached port 0xe9\n";
	const char *si = line;
	u64 cnt = sizeof(line) - 1;
	asm volatile("cld; rep outsb" : "+S"(si), "+c"(cnt) : "d"(0xe9) : "memory");
	if (cnt || si != line + sizeof(line) - 1)
		fail("rep outsb: RCX %lu, RSI advanced %ld", cnt, (long)(si - line));

	u32 buf[6] = { 0 };
	u32 *di = &buf[1];
	outl(KEEL_TEST_PORT, 0x5a5aa5a5);
	cnt = 4;
	asm volatile("cld; rep insl" : "+D"(di), "+c"(cnt) : "d"(KEEL_TEST_PORT) : "memory");
	if (cnt || di != &buf[5] || buf[0] || buf[5])
		fail("rep insd: RCX %lu, RDI advanced %ld, guard words 0x%x 0x%x", cnt,
		     (long)(di - &buf[1]), buf[0], buf[5]);
	for (int i = 1; i <= 4; i++)
		if (buf[i] != 0x5a5aa5a5)
			fail("rep insd: element %d = 0x%x", i - 1, buf[i]);

	u8 bytes[5] = { 0 };
	u8 *bp = &bytes[3];
	cnt = 3;
	asm volatile("std; rep insb; cld" : "+D"(bp), "+c"(cnt) : "d"(KEEL_TEST_PORT) : "memory");
	if (cnt || bp != &bytes[0] || bytes[0] || bytes[4] || bytes[1] != 0xa5 || bytes[3] != 0xa5)
		fail("std; rep insb: RCX %lu, RDI at %ld, bytes %x %x %x %x %x", cnt,
		     (long)(bp - bytes), bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]);
	printf("pvtest: platform: rep insd and backwards rep insb moved the port's data\n");
}

void role_platform(const struct hvm_start_info *si)
{
	unsigned vcpus = (unsigned)arg_u64_or("vcpus", 1);

	check_memmap(si);
	check_acpi(si, vcpus);
	check_mtrr();
	check_string_io();
	printf("pvtest: platform: PASS; halting with interrupts off\n");
	for (;;)
		asm volatile("cli; hlt");
}
