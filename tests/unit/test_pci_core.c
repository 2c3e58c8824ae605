/*
 * The shared PCI core (hw/pci_core.c), as the hypervisor and dom0 both use
 * it: BAR sizing of every BAR type against a fake device with hardware BAR
 * behaviour, decoding off while the BARs hold all ones, the values found
 * restored; the capability walk.
 *
 * unit-sources: hw/pci_core.c
 *
 * The fake device: 256 bytes of config space; each BAR register has a
 * mask of writable address bits and read-only type bits, as hardware does
 * (PCI Local Bus 3.0, 6.2.5.1). Every write is checked against the rule
 * "no BAR holds all ones while decoding is on".
 */
#include <string.h>

#include <hw/pci_core.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

static u8 cfg[256];
static u32 bar_rw[6];     /* writable bits of each BAR register */
static u32 bar_ro[6];     /* read-only (type) bits */
static unsigned probes_with_decoding; /* all-ones BAR writes while decoding was on */
static unsigned bar_writes;

static u32 rd(void *ctx, unsigned reg, unsigned size)
{
	u32 v = 0;
	(void)ctx;
	memcpy(&v, cfg + reg, size);
	return v;
}

static void wr(void *ctx, unsigned reg, unsigned size, u32 val)
{
	(void)ctx;
	if (reg >= PCI_BAR0 && reg < PCI_BAR0 + 24) {
		unsigned i = (reg - PCI_BAR0) / 4;
		ck_assert_uint_eq(size, 4);
		bar_writes++;
		if (val == 0xffffffffu && (rd(NULL, PCI_COMMAND, 2) &
					   (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
			probes_with_decoding++;
		val = (val & bar_rw[i]) | bar_ro[i];
	}
	memcpy(cfg + reg, &val, size);
}

static const struct pci_cfg_io io = { .read = rd, .write = wr };

/* BAR i: writable address bits `rw`, type bits `ro`, current value `val`. */
static void set_bar(unsigned i, u32 rw, u32 ro, u32 val)
{
	bar_rw[i] = rw;
	bar_ro[i] = ro;
	val = (val & rw) | ro;
	memcpy(cfg + PCI_BAR0 + 4 * i, &val, 4);
}

static u32 bar_reg(unsigned i)
{
	return rd(NULL, PCI_BAR0 + 4 * i, 4);
}

static void setup(void)
{
	memset(cfg, 0, sizeof(cfg));
	memset(bar_rw, 0, sizeof(bar_rw));
	memset(bar_ro, 0, sizeof(bar_ro));
	probes_with_decoding = bar_writes = 0;
	cfg[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
}

START_TEST(pci_core_io_bar)
{
	struct pci_bar b[6];
	setup();
	/* 32 ports at 0x6000; the upper 16 bits hardwired to 0 (x86 ports). */
	set_bar(0, 0x0000ffe0, PCI_BAR_IO, 0x6000);
	pci_core_size_bars(&io, 1, b, NULL);
	ck_assert_uint_eq(b[0].kind, PCI_BAR_IO32);
	ck_assert_uint_eq(b[0].addr, 0x6000);
	ck_assert_uint_eq(b[0].size, 0x20);
	ck_assert(!b[0].prefetch);
	ck_assert_uint_eq(bar_reg(0), 0x6001);
}
END_TEST

START_TEST(pci_core_mem32_bar)
{
	struct pci_bar b[6];
	u32 raw[6];
	setup();
	set_bar(0, 0xfffff000, PCI_BAR_MEM_TYPE_32, 0xc0001000);
	pci_core_size_bars(&io, 1, b, raw);
	ck_assert_uint_eq(b[0].kind, PCI_BAR_MEM32);
	ck_assert_uint_eq(b[0].addr, 0xc0001000);
	ck_assert_uint_eq(b[0].size, 0x1000);
	ck_assert(!b[0].prefetch);
	ck_assert_uint_eq(raw[0], 0xc0001000);
}
END_TEST

START_TEST(pci_core_mem32_prefetchable)
{
	struct pci_bar b[6];
	setup();
	set_bar(1, 0xff000000, PCI_BAR_MEM_PREFETCH, 0xfd000000);
	pci_core_size_bars(&io, 2, b, NULL);
	ck_assert_uint_eq(b[0].kind, PCI_BAR_NONE);
	ck_assert_uint_eq(b[1].kind, PCI_BAR_MEM32);
	ck_assert(b[1].prefetch);
	ck_assert_uint_eq(b[1].size, 16u << 20);
	ck_assert_uint_eq(b[1].addr, 0xfd000000);
}
END_TEST

START_TEST(pci_core_mem64_prefetchable_with_upper_half)
{
	struct pci_bar b[6];
	u32 raw[6];
	setup();
	/* BAR2/3: 64-bit prefetchable, 16 KiB at 0x8_1000_4000. */
	set_bar(2, 0xffffc000, PCI_BAR_MEM_TYPE_64 | PCI_BAR_MEM_PREFETCH, 0x10004000);
	set_bar(3, 0xffffffff, 0, 0x8);
	set_bar(4, 0xfffff000, 0, 0xc0000000);
	pci_core_size_bars(&io, 6, b, raw);
	ck_assert_uint_eq(b[2].kind, PCI_BAR_MEM64);
	ck_assert(b[2].prefetch);
	ck_assert_uint_eq(b[2].addr, 0x810004000ULL);
	ck_assert_uint_eq(b[2].size, 0x4000);
	/* The upper half is no BAR of its own; BAR4 is the next one. */
	ck_assert_uint_eq(b[3].kind, PCI_BAR_NONE);
	ck_assert_uint_eq(b[3].size, 0);
	ck_assert_uint_eq(raw[2], 0x1000400c);
	ck_assert_uint_eq(raw[3], 0x8);
	ck_assert_uint_eq(b[4].kind, PCI_BAR_MEM32);
	ck_assert_uint_eq(b[4].addr, 0xc0000000);
	/* Both halves restored. */
	ck_assert_uint_eq(bar_reg(2), 0x1000400c);
	ck_assert_uint_eq(bar_reg(3), 0x8);
}
END_TEST

START_TEST(pci_core_mem64_size_in_the_upper_half)
{
	struct pci_bar b[6];
	setup();
	/* 8 GiB: no writable address bit in the low register at all. */
	set_bar(0, 0, PCI_BAR_MEM_TYPE_64, 0);
	set_bar(1, 0xfffffffe, 0, 0x4);
	pci_core_size_bars(&io, 6, b, NULL);
	ck_assert_uint_eq(b[0].kind, PCI_BAR_MEM64);
	ck_assert_uint_eq(b[0].size, 8ULL << 30);
	ck_assert_uint_eq(b[0].addr, 0x400000000ULL);
}
END_TEST

START_TEST(pci_core_unimplemented_bar)
{
	struct pci_bar b[6];
	setup();
	/* BAR0 reads 0 and keeps nothing; BAR1's mask has a hole (broken):
	 * both unimplemented. An unimplemented 64-bit BAR still spans two
	 * registers. */
	set_bar(0, 0, 0, 0);
	set_bar(1, 0xff00f000, 0, 0x12000000);
	set_bar(2, 0, PCI_BAR_MEM_TYPE_64, 0);
	set_bar(3, 0, 0, 0);
	set_bar(4, 0xfffff000, 0, 0xc0000000);
	pci_core_size_bars(&io, 6, b, NULL);
	ck_assert_uint_eq(b[0].kind, PCI_BAR_NONE);
	ck_assert_uint_eq(b[0].size, 0);
	ck_assert_uint_eq(b[1].kind, PCI_BAR_NONE);
	ck_assert_uint_eq(b[1].size, 0);
	ck_assert_uint_eq(b[1].addr, 0);
	ck_assert_uint_eq(b[2].kind, PCI_BAR_MEM64);
	ck_assert_uint_eq(b[2].size, 0);
	ck_assert_uint_eq(b[3].kind, PCI_BAR_NONE);
	ck_assert_uint_eq(b[4].size, 0x1000);
}
END_TEST

START_TEST(pci_core_mem64_in_the_last_register)
{
	struct pci_bar b[6];
	setup();
	/* A 64-bit BAR in BAR5 has no upper register: decoded as 32-bit, and
	 * nothing past the header's BARs is written. */
	set_bar(5, 0xffff0000, PCI_BAR_MEM_TYPE_64, 0xe0000000);
	cfg[0x28] = 0x5a;
	pci_core_size_bars(&io, 6, b, NULL);
	ck_assert_uint_eq(b[5].kind, PCI_BAR_MEM32);
	ck_assert_uint_eq(b[5].size, 0x10000);
	ck_assert_uint_eq(cfg[0x28], 0x5a);
}
END_TEST

START_TEST(pci_core_bridge_sizes_two_bars_only)
{
	struct pci_bar b[6];
	setup();
	/* A bridge: BAR1 says 64-bit, but register 0x18 is the bus numbers. */
	set_bar(0, 0xfffff000, 0, 0xc0000000);
	set_bar(1, 0xffffff00, PCI_BAR_MEM_TYPE_64, 0xc0002000);
	cfg[0x18] = 0;
	cfg[0x19] = 1;
	cfg[0x1a] = 2;
	bar_rw[2] = 0xffffffff; /* would be trashed if written */
	pci_core_size_bars(&io, PCI_NR_BARS_BRIDGE, b, NULL);
	ck_assert_uint_eq(b[1].kind, PCI_BAR_MEM32);
	ck_assert_uint_eq(b[1].size, 0x100);
	ck_assert_uint_eq(rd(NULL, 0x18, 4), 0x020100);
	ck_assert_uint_eq(bar_writes, 4); /* probe + restore, two registers */
}
END_TEST

START_TEST(pci_core_decoding_off_while_probing)
{
	struct pci_bar b[6];
	setup();
	set_bar(0, 0xfffff000, 0, 0xc0001000);
	set_bar(2, 0xffffc000, PCI_BAR_MEM_TYPE_64, 0);
	set_bar(3, 0xffffffff, 0, 0x8);
	set_bar(4, 0x0000ffe0, PCI_BAR_IO, 0x6000);
	pci_core_size_bars(&io, 6, b, NULL);
	ck_assert_uint_gt(bar_writes, 0);
	ck_assert_uint_eq(probes_with_decoding, 0);
	/* The command register as found. */
	ck_assert_uint_eq(rd(NULL, PCI_COMMAND, 2),
			  PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ck_assert_uint_eq(bar_reg(0), 0xc0001000);
	ck_assert_uint_eq(bar_reg(4), 0x6001);
}
END_TEST

START_TEST(pci_core_decode_from_values)
{
	struct pci_bar b;
	/* The pure decoder: the values a sizing read, without a device. */
	ck_assert_uint_eq(pci_bar_decode(0xfebf1000, 0xfffff000, true, 0, 0, &b), 1);
	ck_assert_uint_eq(b.kind, PCI_BAR_MEM32);
	ck_assert_uint_eq(b.size, 0x1000);
	ck_assert_uint_eq(pci_bar_decode(0xc, 0xffffc00c, true, 0x1, 0xffffffff, &b), 2);
	ck_assert_uint_eq(b.addr, 0x100000000ULL);
	ck_assert_uint_eq(b.size, 0x4000);
	ck_assert(b.prefetch);
	ck_assert_uint_eq(pci_bar_decode(0xc001, 0xffffffc1, true, 0, 0, &b), 1);
	ck_assert_uint_eq(b.kind, PCI_BAR_IO32);
	ck_assert_uint_eq(b.size, 0x40);
	ck_assert_uint_eq(b.addr, 0xc000);
}
END_TEST

START_TEST(pci_core_cap_walk)
{
	setup();
	cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	cfg[PCI_CAPABILITY_LIST] = 0x41; /* low bits are reserved: ignored */
	cfg[0x40] = PCI_CAP_ID_MSI;
	cfg[0x41] = 0x50;
	cfg[0x50] = PCI_CAP_ID_VNDR;
	cfg[0x51] = 0x60;
	cfg[0x60] = PCI_CAP_ID_VNDR;
	cfg[0x61] = 0x00;
	ck_assert_uint_eq(pci_core_find_cap(&io, PCI_CAP_ID_MSI, 0), 0x40);
	ck_assert_uint_eq(pci_core_find_cap(&io, PCI_CAP_ID_VNDR, 0), 0x50);
	ck_assert_uint_eq(pci_core_find_cap(&io, PCI_CAP_ID_VNDR, 0x50), 0x60);
	ck_assert_uint_eq(pci_core_find_cap(&io, PCI_CAP_ID_VNDR, 0x60), 0);
	ck_assert_uint_eq(pci_core_find_cap(&io, PCI_CAP_ID_MSIX, 0), 0);
	/* A loop ends the walk; a pointer into the header ends it too. */
	cfg[0x61] = 0x40;
	ck_assert_uint_eq(pci_core_find_cap(&io, PCI_CAP_ID_MSIX, 0), 0);
	cfg[0x61] = 0x10;
	ck_assert_uint_eq(pci_core_find_cap(&io, PCI_CAP_ID_MSIX, 0), 0);
	/* No list bit: no capabilities. */
	cfg[PCI_STATUS] = 0;
	ck_assert_uint_eq(pci_core_find_cap(&io, PCI_CAP_ID_MSI, 0), 0);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "pci-core-io-bar", &pci_core_io_bar_ttest },
	{ "pci-core-mem32-bar", &pci_core_mem32_bar_ttest },
	{ "pci-core-mem32-prefetchable", &pci_core_mem32_prefetchable_ttest },
	{ "pci-core-mem64-prefetchable-with-upper-half", &pci_core_mem64_prefetchable_with_upper_half_ttest },
	{ "pci-core-mem64-size-in-the-upper-half", &pci_core_mem64_size_in_the_upper_half_ttest },
	{ "pci-core-unimplemented-bar", &pci_core_unimplemented_bar_ttest },
	{ "pci-core-mem64-in-the-last-register", &pci_core_mem64_in_the_last_register_ttest },
	{ "pci-core-bridge-sizes-two-bars-only", &pci_core_bridge_sizes_two_bars_only_ttest },
	{ "pci-core-decoding-off-while-probing", &pci_core_decoding_off_while_probing_ttest },
	{ "pci-core-decode-from-values", &pci_core_decode_from_values_ttest },
	{ "pci-core-cap-walk", &pci_core_cap_walk_ttest },
	{ 0 },
};
