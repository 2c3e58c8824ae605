/*
 * dom0's filtered view of PCI configuration space (kernel/pci_cfg.c):
 * BAR emulation (sizing never reaches the device, moves go through the
 * hypervisor's check, 64-bit BARs move on the upper half), expansion ROMs
 * hidden, MSI enable held by the hypervisor (clear until map_pirq), MSI-X
 * enable held clear (and clear for an untrapped table even when mapped);
 * the registers the hypervisor keeps: host bridges, the LPC's
 * device-specific registers, bridge bus numbers, unknown header types;
 * bridge windows over kept ranges (kernel/pci_bridge.c); resets by dom0
 * (secondary bus reset, FLR, D3hot -> D0) and the write-back after them
 * (kernel/pci_reset.c).
 *
 * unit-sources: kernel/pci_cfg.c kernel/pci_bridge.c kernel/pci_reset.c
 *
 * The "device" is a 4 KiB array of registers with hardware BAR behaviour
 * (address bits below the size read back as 0); pci_conf_* count the
 * writes that reach it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/io.h>
#include <keel/mmio.h>
#include <keel/passthrough.h>
#include <keel/pci.h>

#include "unit.h"

#pragma GCC diagnostic ignored "-Wunused-variable"

/* ---- the fake device and the hypervisor around pci_cfg.c ----------------- */

static u8 cfg[4096];
static struct pci_func func;
static unsigned bar_writes; /* config writes that reached a BAR register */
static unsigned moves;
static u64 last_move_addr;
static bool refuse_moves;
static struct domain dom0;

struct pci_func pci_funcs[PCI_MAX_FUNCS];
unsigned pci_nr_funcs;

/* A second function (reset tests): its own config space, registered in
 * pci_funcs[0] when `child_present`. */
#define CHILD_BDF PCI_BDF(1, 0, 0)
static u8 child_cfg[4096];
static bool child_present;
#define child (pci_funcs[0])

static u64 now_ns;            /* the fake clock */
static unsigned msi_restores; /* pirq_msi_restore calls */
static struct pci_func *msi_restored;

/* Hardware BARs: BAR0 32-bit memory 4 KiB, BAR2/3 64-bit memory 16 KiB,
 * BAR4 I/O 32 ports. */
static u64 hw_mask(unsigned reg)
{
	switch (reg) {
	case 0x10: return ~0xfffULL;
	case 0x18: return ~0x3fffULL;
	case 0x1c: return ~0ULL;
	case 0x20: return ~0x1fULL;
	default: return ~0ULL;
	}
}

static u8 *space(u16 bdf)
{
	return bdf == CHILD_BDF ? child_cfg : cfg;
}

u32 pci_conf_read(u16 bdf, unsigned reg, unsigned size)
{
	u32 v = 0;
	memcpy(&v, space(bdf) + reg, size);
	return v;
}

void pci_conf_write(u16 bdf, unsigned reg, unsigned size, u32 val)
{
	u8 header = bdf == CHILD_BDF ? child.header : func.header;
	if (header == 0 && reg >= 0x10 && reg < 0x28) {
		bar_writes++;
		u32 flags = reg == 0x10 ? 0x0 : reg == 0x18 ? 0x4 : reg == 0x20 ? 0x1 : 0;
		/* 0x1c is the upper half of the 64-bit BAR2: all address bits. */
		if (reg != 0x1c)
			val = (val & (u32)hw_mask(reg) & (reg == 0x20 ? ~3u : ~0xfu)) | flags;
	}
	memcpy(space(bdf) + reg, &val, size);
}

struct pci_func *pci_func_find(u16 bdf)
{
	if (child_present && bdf == CHILD_BDF)
		return &child;
	return bdf == func.bdf ? &func : NULL;
}

/* What the hypervisor keeps (kernel/passthrough.c's table, in short): RAM
 * below 2 GiB, the IOAPIC page, the LAPIC/MSI window; ports 0-0xfff stand
 * for the PIT, PICs, CF8/CFC and Keel's UART. */
bool passthrough_mmio_ok(u64 base, u64 len, const char **why)
{
	if (base < 0x80000000ULL) {
		*why = "RAM";
		return false;
	}
	if (base < 0xfec01000ULL && base + len > 0xfec00000ULL) {
		*why = "an IOAPIC";
		return false;
	}
	if (base < 0xfef00000ULL && base + len > 0xfee00000ULL) {
		*why = "the LAPIC/MSI window";
		return false;
	}
	return true;
}

bool passthrough_io_ok(u64 first, u64 count, const char **why)
{
	if (first + count > 0x10000) {
		*why = "beyond port 0xffff";
		return false;
	}
	if (first < 0x1000) {
		*why = "Keel's console UART";
		return false;
	}
	return true;
}

u64 time_now_ns(void)
{
	return now_ns;
}

void pirq_msi_restore(struct pci_func *f)
{
	msi_restores++;
	msi_restored = f;
}

bool pci_ecam_window(paddr_t *base, u8 *start_bus, u8 *end_bus)
{
	(void)base;
	(void)start_bus;
	(void)end_bus;
	return false;
}

int passthrough_bar_move(struct domain *d, struct pci_func *f, unsigned i, u64 addr)
{
	(void)d;
	moves++;
	last_move_addr = addr;
	if (refuse_moves)
		return -EPERM;
	f->bar[i].addr = addr;
	return 0;
}

int io_register(const struct io_port_handler *h)
{
	(void)h;
	return 0;
}

int mmio_register(const struct mmio_handler *h)
{
	(void)h;
	return 0;
}

void printk(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

static void setup(void)
{
	memset(cfg, 0, sizeof(cfg));
	memset(&func, 0, sizeof(func));
	bar_writes = moves = 0;
	refuse_moves = false;
	memset(child_cfg, 0, sizeof(child_cfg));
	memset(pci_funcs, 0, sizeof(pci_funcs));
	child_present = false;
	pci_nr_funcs = 0;
	now_ns = 1000000000ULL;
	msi_restores = 0;
	msi_restored = NULL;
	func.bdf = PCI_BDF(0, 3, 0);
	func.header = 0;
	func.nr_bars = 6;
	func.bar[0] = (struct pci_bar){ .kind = PCI_BAR_MEM32, .addr = 0xc0001000, .size = 0x1000 };
	func.bar[2] = (struct pci_bar){ .kind = PCI_BAR_MEM64, .addr = 0x800000000ULL, .size = 0x4000 };
	func.bar[4] = (struct pci_bar){ .kind = PCI_BAR_IO32, .addr = 0x6000, .size = 0x20 };
	func.vbar[0] = 0xc0001000;
	func.vbar[2] = 0x4;          /* 64-bit, low address bits 0 */
	func.vbar[3] = 0x8;          /* 0x8_0000_0000 */
	func.vbar[4] = 0x6001;
	memcpy(cfg + 0x10, &func.vbar[0], 4);
	memcpy(cfg + 0x18, &func.vbar[2], 4);
	memcpy(cfg + 0x1c, &func.vbar[3], 4);
	memcpy(cfg + 0x20, &func.vbar[4], 4);
	/* MSI capability at 0x50 (64-bit), MSI-X at 0x70. */
	cfg[0x06] = 0x10;
	cfg[0x34] = 0x50;
	cfg[0x50] = PCI_CAP_ID_MSI;
	cfg[0x51] = 0x70;
	cfg[0x52] = 0x80; /* 64-bit address capable */
	cfg[0x70] = PCI_CAP_ID_MSIX;
	func.msi_cap = 0x50;
	func.msix_cap = 0x70;
	cfg[0x30] = 0x01; /* a ROM BAR with the enable bit */
	dom0.id = 0;
	dom0.privileged = true;
}

static u32 rd(unsigned reg)
{
	return vpci_read(&dom0, func.bdf, reg, 4);
}

static void wr(unsigned reg, u32 v)
{
	vpci_write(&dom0, func.bdf, reg, 4, v);
}

START_TEST(pci_cfg_bar_sizing_never_reaches_the_device)
{
	setup();
	wr(0x10, 0xffffffff);
	ck_assert_uint_eq(rd(0x10), 0xfffff000);   /* 4 KiB, 32-bit memory */
	wr(0x10, 0xc0001000);
	ck_assert_uint_eq(rd(0x10), 0xc0001000);
	wr(0x20, 0xffffffff);
	ck_assert_uint_eq(rd(0x20), 0xffffffe1);   /* 32 ports, I/O */
	wr(0x20, 0x6001);
	wr(0x18, 0xffffffff);
	wr(0x1c, 0xffffffff);
	ck_assert_uint_eq(rd(0x18), 0xffffc004);   /* 16 KiB, 64-bit */
	ck_assert_uint_eq(rd(0x1c), 0xffffffff);
	wr(0x18, 0x4);
	wr(0x1c, 0x8);
	ck_assert_uint_eq(bar_writes, 0);
	ck_assert_uint_eq(moves, 0);
	/* Unimplemented BAR1: reads 0, writes ignored. */
	wr(0x14, 0xffffffff);
	ck_assert_uint_eq(rd(0x14), 0);
}
END_TEST

START_TEST(pci_cfg_bar_move_goes_through_the_check)
{
	setup();
	wr(0x10, 0xd0000000);
	ck_assert_uint_eq(moves, 1);
	ck_assert_uint_eq(last_move_addr, 0xd0000000);
	ck_assert_uint_eq(rd(0x10), 0xd0000000);
	/* Refused: the register reads back the old address. */
	refuse_moves = true;
	wr(0x10, 0x01000000);
	ck_assert_uint_eq(moves, 2);
	ck_assert_uint_eq(rd(0x10), 0xd0000000);
	/* Partial (byte) write into the emulated register. */
	refuse_moves = false;
	vpci_write(&dom0, func.bdf, 0x13, 1, 0xe0);
	ck_assert_uint_eq(last_move_addr, 0xe0000000);
	ck_assert_uint_eq(vpci_read(&dom0, func.bdf, 0x13, 1), 0xe0);
}
END_TEST

START_TEST(pci_cfg_64bit_bar_moves_on_the_upper_half)
{
	setup();
	wr(0x18, 0x10000004); /* low half: pending, not judged */
	ck_assert_uint_eq(moves, 0);
	wr(0x1c, 0x9);        /* upper half: the move */
	ck_assert_uint_eq(moves, 1);
	ck_assert_uint_eq(last_move_addr, 0x910000000ULL);
	/* A low write followed by enabling memory decoding also moves. */
	wr(0x18, 0x20000004);
	ck_assert_uint_eq(moves, 1);
	vpci_write(&dom0, func.bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(moves, 2);
	ck_assert_uint_eq(last_move_addr, 0x920000000ULL);
}
END_TEST

START_TEST(pci_cfg_rom_hidden)
{
	setup();
	ck_assert_uint_eq(rd(0x30), 0);
	wr(0x30, 0xffffffff);
	ck_assert_uint_eq(cfg[0x30], 0x01); /* the device's register untouched */
}
END_TEST

START_TEST(pci_cfg_msi_enables_held_clear)
{
	setup();
	/* MSI: enable + 4 vectors requested in one dword write at the cap
	 * (read-modify-write: the read-only 64-bit bit 7 is written back). */
	wr(0x50, 0x00a10000 | 0x7005);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x52, 2) & PCI_MSI_FLAGS_ENABLE, 0);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x52, 2) & 0x70, 0); /* one message only */
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x52, 2) & 0x80, 0x80); /* read-only bit kept */
	ck_assert_uint_eq(cfg[0x50], PCI_CAP_ID_MSI);                      /* id/next kept */
	/* Address and data belong to the hypervisor. */
	wr(0x54, 0xfee00000);
	wr(0x5c, 0x4041);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x54, 4), 0);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x5c, 4), 0);
	/* MSI-X: enable cleared, function mask kept (16-bit write). */
	vpci_write(&dom0, func.bdf, 0x72, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x72, 2), PCI_MSIX_FLAGS_MASKALL);
	ck_assert(func.msi_refused_logged);
}
END_TEST

START_TEST(pci_cfg_msi_enable_follows_map_pirq)
{
	setup();
	/* Mapped (PHYSDEVOP_map_pirq set msi_pirq and the enable bit): dom0
	 * clearing the enable bit or asking for 8 messages changes neither;
	 * address and data writes stay dropped. */
	func.msi_pirq = 130;
	cfg[0x54] = 0x00; cfg[0x55] = 0x00; cfg[0x56] = 0xe0; cfg[0x57] = 0xfe;
	cfg[0x5c] = 0xb2;
	cfg[0x52] |= PCI_MSI_FLAGS_ENABLE;
	vpci_write(&dom0, func.bdf, 0x52, 2, 0x00b0); /* 0x80: read-only, written back */
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x52, 2) & PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_ENABLE);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x52, 2) & 0x70, 0);
	vpci_write(&dom0, func.bdf, 0x5c, 2, 0x41);
	vpci_write(&dom0, func.bdf, 0x54, 4, 0xfee0f000);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x5c, 2), 0xb2);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x54, 4), 0xfee00000u);
	/* Setting enable while mapped is no refusal. */
	vpci_write(&dom0, func.bdf, 0x52, 2, 0x80 | PCI_MSI_FLAGS_ENABLE);
	ck_assert(!func.msi_refused_logged);
	/* Unmapped: the enable bit drops at dom0's next control write. */
	func.msi_pirq = 0;
	vpci_write(&dom0, func.bdf, 0x52, 2, 0x80 | PCI_MSI_FLAGS_ENABLE);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x52, 2) & PCI_MSI_FLAGS_ENABLE, 0);
	ck_assert(func.msi_refused_logged);
}
END_TEST

START_TEST(pci_cfg_other_functions_and_misaligned)
{
	setup();
	/* No such function: writes dropped, reads from the bus (all ones in
	 * hardware; the fake returns its memory). */
	u8 before = cfg[0x04];
	vpci_write(&dom0, PCI_BDF(0, 4, 0), 0x04, 2, 0x7);
	ck_assert_uint_eq(cfg[0x04], before);
	/* Misaligned: a dword at 0x11 is dropped and reads as all ones. */
	vpci_write(&dom0, func.bdf, 0x11, 4, 0);
	ck_assert_uint_eq(moves, 0);
	ck_assert_uint_eq(vpci_read(&dom0, func.bdf, 0x11, 4), 0xffffffffu);
	/* Anything else passes through. */
	vpci_write(&dom0, func.bdf, 0x3c, 1, 0x0b);
	ck_assert_uint_eq(cfg[0x3c], 0x0b);
}
END_TEST

/* A PCI-to-PCI bridge (type 1) at 00:1c.0, primary 0, secondary 1,
 * subordinate 2, secondary latency 0. */
static void setup_bridge(void)
{
	setup();
	func.header = 1;
	func.class = 0x060400;
	func.nr_bars = 2;
	memset(&func.bar[1], 0, sizeof(func.bar) - sizeof(func.bar[0]));
	cfg[0x18] = 0;
	cfg[0x19] = 1;
	cfg[0x1a] = 2;
	cfg[0x1b] = 0;
	memset(cfg + 0x1c, 0, 4);
	func.bus_primary = 0;
	func.bus_secondary = 1;
	func.bus_subordinate = 2;
}

START_TEST(pci_cfg_bridge_bus_numbers_fixed)
{
	setup_bridge();
	/* Renumbering in one dword: the bus numbers stay, the secondary
	 * latency timer (0x1b) is written. */
	wr(0x18, 0x20404005);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x18, 4), 0x20020100);
	ck_assert_uint_eq(rd(0x18), 0x20020100);
	/* Byte and word writes. */
	vpci_write(&dom0, func.bdf, 0x19, 1, 0x40);
	ck_assert_uint_eq(cfg[0x19], 1);
	vpci_write(&dom0, func.bdf, 0x1a, 2, 0x3040);
	ck_assert_uint_eq(cfg[0x1a], 2);
	ck_assert_uint_eq(cfg[0x1b], 0x30);
	vpci_write(&dom0, func.bdf, 0x18, 1, 7);
	ck_assert_uint_eq(cfg[0x18], 0);
	/* The I/O window (0x1c) and the BARs still follow their rules. */
	vpci_write(&dom0, func.bdf, 0x1c, 2, 0x2010);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x1c, 2), 0x2010);
	wr(0x10, 0xffffffff);
	ck_assert_uint_eq(rd(0x10), 0xfffff000);
	ck_assert_uint_eq(moves, 0);
	ck_assert(func.cfg_refused_logged != 0);
}
END_TEST

START_TEST(pci_cfg_host_bridge_writes_dropped)
{
	setup();
	func.class = 0x060000;
	func.nr_bars = 0;
	func.msi_cap = func.msix_cap = 0;
	/* Q35 MCH: PCIEXBAR (0x60), PAM0-6 (0x90-0x96), SMRAM (0x9d),
	 * ESMRAMC (0x9e); and the command register. */
	cfg[0x60] = 0x01; cfg[0x63] = 0xb0;
	cfg[0x90] = 0x10; cfg[0x9d] = 0x02; cfg[0x9e] = 0x38;
	cfg[0x04] = 0x06;
	u8 before[4096];
	memcpy(before, cfg, sizeof(cfg));
	wr(0x60, 0xe0000000);
	wr(0x64, 0x1);
	for (unsigned r = 0x90; r <= 0x96; r++)
		vpci_write(&dom0, func.bdf, r, 1, 0x33);
	vpci_write(&dom0, func.bdf, 0x9c, 4, 0xffffffff);
	vpci_write(&dom0, func.bdf, 0x9d, 1, 0x40);
	vpci_write(&dom0, func.bdf, 0x9e, 1, 0x00);
	vpci_write(&dom0, func.bdf, 0x04, 2, 0x0);
	wr(0x3c, 0x0b);
	ck_assert_mem_eq(cfg, before, sizeof(cfg));
	/* Reads still reach the device. */
	ck_assert_uint_eq(rd(0x60), 0xb0000001);
	ck_assert_uint_eq(vpci_read(&dom0, func.bdf, 0x9d, 1), 0x02);
}
END_TEST

START_TEST(pci_cfg_lpc_decode_writes_dropped)
{
	setup();
	func.class = 0x060100;
	func.nr_bars = 0;
	func.msi_cap = func.msix_cap = 0;
	/* ICH9 LPC: LPC_IOD 0x80 (COMA at 0x3f8), LPC_EN 0x82 (COMA on),
	 * PMBASE 0x40, RCBA 0xf0. */
	cfg[0x80] = 0x10; cfg[0x82] = 0x01;
	cfg[0x40] = 0x01; cfg[0x41] = 0x06;
	cfg[0xf0] = 0x01; cfg[0xf3] = 0xfe;
	wr(0x80, 0);
	vpci_write(&dom0, func.bdf, 0x82, 2, 0);
	vpci_write(&dom0, func.bdf, 0x83, 1, 0xff);
	wr(0x40, 0x3f9);
	wr(0xf0, 0x1001);
	vpci_write(&dom0, func.bdf, 0x84, 4, 0x00fc03f9); /* GEN1_DEC over COM1 */
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x80, 4), 0x00010010);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x40, 4), 0x0601);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0xf0, 4), 0xfe000001);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x84, 4), 0);
	/* The header follows the type-0 rules. */
	vpci_write(&dom0, func.bdf, 0x04, 2, 0x7);
	ck_assert_uint_eq(cfg[0x04], 0x7);
	vpci_write(&dom0, func.bdf, 0x3c, 1, 0x0a);
	ck_assert_uint_eq(cfg[0x3c], 0x0a);
	/* "Other bridge" chipset glue (PIIX4 PM, PMBA at 0x40): the same. */
	func.class = 0x068000;
	wr(0x40, 0x3f9);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x40, 4), 0x0601);
	/* An ordinary device's device-specific registers pass. */
	func.class = 0x020000;
	wr(0x40, 0x3f9);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x40, 4), 0x3f9);
}
END_TEST

START_TEST(pci_cfg_unknown_header_only_command_status)
{
	setup();
	func.header = 2; /* CardBus */
	func.class = 0x060700;
	func.nr_bars = 0;
	memset(func.bar, 0, sizeof(func.bar));
	func.msi_cap = func.msix_cap = 0;
	memset(cfg + 0x08, 0, sizeof(cfg) - 0x08);
	u8 before[4096];
	/* Command and status (a dword at 0x04 covers both). */
	wr(0x04, 0x00000006);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x04, 2), 0x0006);
	vpci_write(&dom0, func.bdf, 0x04, 2, 0x0002);
	ck_assert_uint_eq(cfg[0x04], 0x02);
	memcpy(before, cfg, sizeof(cfg));
	/* The socket/ExCA BAR, bus numbers, windows, interrupt line, the
	 * device-specific registers: dropped. */
	wr(0x10, 0xfee00000);
	wr(0x18, 0x00404000);
	wr(0x1c, 0x10000000);
	wr(0x2c, 0x3f8);
	vpci_write(&dom0, func.bdf, 0x3c, 1, 0x0b);
	wr(0x40, 0x1234);
	wr(0x08, 0xffffffff);
	ck_assert_mem_eq(cfg, before, sizeof(cfg));
	ck_assert_uint_eq(moves + bar_writes, 0);
}
END_TEST

START_TEST(pci_cfg_msix_enable_needs_a_trapped_table)
{
	setup();
	/* Mapped but not trapped (the trap failed, or the BAR was
	 * unassigned): the enable bit stays clear. */
	func.msix_nr_mapped = 1;
	func.msix_trapped = false;
	vpci_write(&dom0, func.bdf, 0x72, 2, PCI_MSIX_FLAGS_ENABLE);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x72, 2) & PCI_MSIX_FLAGS_ENABLE, 0);
	ck_assert(func.msi_refused_logged);
	/* Trapped and mapped: held on, even when dom0 clears it. */
	func.msix_trapped = true;
	vpci_write(&dom0, func.bdf, 0x72, 2, PCI_MSIX_FLAGS_MASKALL);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x72, 2),
			  PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	/* Trapped, nothing mapped: clear. */
	func.msix_nr_mapped = 0;
	vpci_write(&dom0, func.bdf, 0x72, 2, PCI_MSIX_FLAGS_ENABLE);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x72, 2) & PCI_MSIX_FLAGS_ENABLE, 0);
}
END_TEST

/* Windows of the bridge from setup_bridge(): 32-bit I/O (type 1) and
 * 64-bit prefetchable (type 1) decoding, all disabled (base > limit). */
static void setup_bridge_windows(void)
{
	setup_bridge();
	cfg[0x1c] = 0xf1; cfg[0x1d] = 0x01;          /* I/O 0xf000 > 0x0fff: off */
	cfg[0x20] = 0xf0; cfg[0x21] = 0xff; cfg[0x22] = 0; cfg[0x23] = 0; /* memory off */
	cfg[0x24] = 0xf1; cfg[0x25] = 0xff; cfg[0x26] = 0x01; cfg[0x27] = 0; /* pref off */
	memset(cfg + 0x28, 0, 12);
}

START_TEST(pci_cfg_bridge_window_over_kept_range_refused)
{
	setup_bridge_windows();
	/* Memory window 0xfe000000-0xfeefffff covers the IOAPIC and the
	 * LAPIC/MSI window: the device's window stays off; dom0 reads back
	 * what it wrote (the registers are emulated). */
	wr(0x20, 0xfee0fe00);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x20, 4), 0x0000fff0);
	ck_assert_uint_eq(rd(0x20), 0xfee0fe00);
	ck_assert(func.cfg_refused_logged & PCI_CFG_LOGGED_WINDOW);
	/* Somewhere harmless (0xc0000000-0xc0ffffff): the device gets it. */
	wr(0x20, 0xc0f0c000);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x20, 4), 0xc0f0c000);
	ck_assert_uint_eq(rd(0x20), 0xc0f0c000);
	/* Moved over RAM: the device's window is turned off. */
	wr(0x20, 0x10001000);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x20, 4), 0x0000fff0);
	ck_assert_uint_eq(rd(0x20), 0x10001000);
	/* I/O window 0x0000-0x0fff: the legacy ports; stays off. 0x2000-0x2fff
	 * lands (the type nibbles are the device's). */
	vpci_write(&dom0, func.bdf, 0x1c, 2, 0x0000);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x1c, 2), 0x01f1);
	ck_assert_uint_eq(vpci_read(&dom0, func.bdf, 0x1c, 2), 0x0101);
	vpci_write(&dom0, func.bdf, 0x1c, 2, 0x2020);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x1c, 2), 0x2121);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x30, 4), 0);
	/* Back to 0x0000-0x0fff in a dword with the secondary status: the
	 * window goes off in the device, the status (0x1e) still lands. */
	wr(0x1c, 0x80000001);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x1c, 2), 0x01f1);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x30, 2), 0xffff);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x1e, 2), 0x8000);
	/* Disabling a window (base > limit) always lands. */
	wr(0x20, 0x0000fff0);
	ck_assert_uint_eq(rd(0x20), 0x0000fff0);
	ck_assert_uint_eq(moves + bar_writes, 0);
}
END_TEST

START_TEST(pci_cfg_bridge_window_linux_sequence_lands)
{
	setup_bridge_windows();
	/* Linux (pci_setup_bridge_mmio_pref) moving the 64-bit prefetchable
	 * window to 0x8_0000_0000-0x8_00ff_ffff: upper limit 0, base/limit
	 * dword (0-0xffffff for a moment: over RAM, kept off), upper base,
	 * upper limit. The device ends with the final window. */
	wr(0x2c, 0);
	wr(0x24, 0x00f10001);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x24, 2) & 0xfff0, 0xfff0); /* off */
	wr(0x28, 0x8);
	wr(0x2c, 0x8);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x24, 4), 0x00f10001);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x28, 4), 0x8);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x2c, 4), 0x8);
	ck_assert_uint_eq(rd(0x24), 0x00f10001);
	/* The same sequence towards 0x1000_0000 (RAM): the device's window
	 * goes off at the first step that would widen it and stays off. */
	wr(0x2c, 0);
	wr(0x24, 0x10f11001);
	wr(0x28, 0);
	ck_assert_uint_eq(rd(0x28), 0);
	u64 base = ((u64)pci_conf_read(func.bdf, 0x28, 4) << 32) |
		   ((u64)(pci_conf_read(func.bdf, 0x24, 2) & 0xfff0) << 16);
	u64 limit = ((u64)pci_conf_read(func.bdf, 0x2c, 4) << 32) |
		    ((u64)(pci_conf_read(func.bdf, 0x26, 2) & 0xfff0) << 16) | 0xfffff;
	ck_assert_uint_gt(base, limit);
	/* A window the device decodes already (the firmware put it over a
	 * kept range) may be rewritten unchanged: no refusal. */
	setup_bridge_windows();
	cfg[0x20] = 0xe0; cfg[0x21] = 0xfe; cfg[0x22] = 0xe0; cfg[0x23] = 0xfe;
	wr(0x20, 0xfee0fee0);
	ck_assert(!(func.cfg_refused_logged & PCI_CFG_LOGGED_WINDOW));
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x20, 4), 0xfee0fee0);
}
END_TEST

/* The device forgets its state, as a reset does. */
static void device_reset(u8 *c)
{
	memset(c + 0x04, 0, 2);
	memset(c + 0x10, 0, 0x18);
	c[0x72] = c[0x73] = 0; /* MSI-X control */
}

START_TEST(pci_cfg_flr_writes_keels_state_back)
{
	setup();
	/* PCIe capability at 0x90 (FLR capable); MSI-X entry mapped. */
	cfg[0x00] = 0xf4; cfg[0x01] = 0x1a;
	cfg[0x90] = PCI_CAP_ID_EXP;
	func.exp_cap = 0x90;
	func.msix_trapped = true;
	func.msix_nr_mapped = 1;
	cfg[0x04] = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	/* dom0 initiates FLR (a word write of Device Control). */
	vpci_write(&dom0, func.bdf, 0x98, 2, PCI_EXP_DEVCTL_BCR_FLR);
	ck_assert(func.reset_pending);
	device_reset(cfg);
	unsigned before = bar_writes;
	/* Within 100 ms: nothing is written back (the device may not
	 * answer yet). */
	now_ns += PCI_RESET_SETTLE_NS / 2;
	ck_assert_uint_eq(rd(0x00), 0x1af4);
	ck_assert(func.reset_pending);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x10, 4), 0);
	/* Not ready (the PCIe "retry" vendor ID): still nothing. */
	now_ns += PCI_RESET_SETTLE_NS;
	cfg[0x00] = 0x01; cfg[0x01] = 0x00;
	rd(0x00);
	ck_assert(func.reset_pending);
	ck_assert_uint_eq(msi_restores, 0);
	/* Ready: the BARs are where Keel has them, and MSI-X is rewritten. */
	cfg[0x00] = 0xf4; cfg[0x01] = 0x1a;
	ck_assert_uint_eq(rd(0x00), 0x1af4);
	ck_assert(!func.reset_pending);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x10, 4), 0xc0001000);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x18, 4), 0x4);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x1c, 4), 0x8);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x20, 4), 0x6001);
	ck_assert_uint_gt(bar_writes, before);
	ck_assert_uint_eq(msi_restores, 1);
	ck_assert_ptr_eq(msi_restored, &func);
	/* The command register is dom0's to restore: left as the reset left
	 * it. dom0's restore of a BAR is no move. */
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x04, 2), 0);
	wr(0x10, 0xc0001000);
	ck_assert_uint_eq(moves, 0);
	/* Only the FLR bit resets: other Device Control writes do not. */
	vpci_write(&dom0, func.bdf, 0x98, 2, 0x2810);
	ck_assert(!func.reset_pending);
	/* The byte write of 0x99 with bit 7 does. */
	vpci_write(&dom0, func.bdf, 0x99, 1, 0x80);
	ck_assert(func.reset_pending);
}
END_TEST

START_TEST(pci_cfg_secondary_bus_reset_marks_the_bus)
{
	setup_bridge();
	/* Behind the bridge (bus 1): another bridge with BAR0 and buses
	 * 1 -> 2..2 as found at boot. */
	child_present = true;
	pci_nr_funcs = 1;
	child.bdf = CHILD_BDF;
	child.header = 1;
	child.class = 0x060400;
	child.nr_bars = 2;
	child.bar[0] = (struct pci_bar){ .kind = PCI_BAR_MEM32, .addr = 0xc0200000, .size = 0x1000 };
	child.vbar[0] = 0xc0200000;
	child.bus_primary = 1;
	child.bus_secondary = 2;
	child.bus_subordinate = 2;
	child_cfg[0x00] = 0x36; child_cfg[0x01] = 0x1b;
	/* dom0 sets Secondary Bus Reset (bridge control, 0x3e). */
	vpci_write(&dom0, func.bdf, 0x3e, 2, PCI_BRIDGE_CTL_BUS_RESET);
	ck_assert_uint_eq(pci_conf_read(func.bdf, 0x3e, 2), PCI_BRIDGE_CTL_BUS_RESET);
	ck_assert(child.reset_pending);
	ck_assert(!func.reset_pending);
	/* While held in reset the child answers nothing. */
	now_ns += 2 * PCI_RESET_SETTLE_NS;
	child_cfg[0x00] = child_cfg[0x01] = 0xff;
	vpci_read(&dom0, CHILD_BDF, 0, 4);
	ck_assert(child.reset_pending);
	/* Cleared: the child comes out of reset with everything at 0. */
	vpci_write(&dom0, func.bdf, 0x3e, 2, 0);
	memset(child_cfg, 0, 0x40);
	child_cfg[0x00] = 0x36; child_cfg[0x01] = 0x1b;
	vpci_read(&dom0, CHILD_BDF, 0, 4);
	ck_assert(child.reset_pending); /* 100 ms from the release */
	now_ns += PCI_RESET_SETTLE_NS;
	vpci_read(&dom0, CHILD_BDF, 0, 4);
	ck_assert(!child.reset_pending);
	ck_assert_uint_eq(pci_conf_read(CHILD_BDF, 0x10, 4), 0xc0200000);
	ck_assert_uint_eq(pci_conf_read(CHILD_BDF, 0x18, 4) & 0xffffff, 0x020201);
	ck_assert_uint_eq(msi_restores, 1);
	/* A function outside secondary..subordinate is not touched. */
	setup_bridge();
	child_present = true;
	pci_nr_funcs = 1;
	child.bdf = PCI_BDF(3, 0, 0);
	vpci_write(&dom0, func.bdf, 0x3e, 2, PCI_BRIDGE_CTL_BUS_RESET);
	ck_assert(!child.reset_pending);
}
END_TEST

START_TEST(pci_cfg_d3hot_to_d0_is_a_reset)
{
	setup();
	cfg[0x00] = 0xf4; cfg[0x01] = 0x1a;
	cfg[0xa0] = PCI_CAP_ID_PM;
	func.pm_cap = 0xa0;
	cfg[0xa4] = PCI_PM_STATE_D3HOT;
	vpci_write(&dom0, func.bdf, 0xa4, 2, PCI_PM_STATE_D0);
	ck_assert(func.reset_pending);
	/* With No_Soft_Reset the function keeps its state: no reset. */
	setup();
	cfg[0xa0] = PCI_CAP_ID_PM;
	func.pm_cap = 0xa0;
	cfg[0xa4] = PCI_PM_STATE_D3HOT | PCI_PM_CTRL_NO_SOFT_RESET;
	vpci_write(&dom0, func.bdf, 0xa4, 2, PCI_PM_STATE_D0 | PCI_PM_CTRL_NO_SOFT_RESET);
	ck_assert(!func.reset_pending);
	/* D0 -> D3hot is no reset either. */
	cfg[0xa4] = PCI_PM_STATE_D0;
	vpci_write(&dom0, func.bdf, 0xa4, 2, PCI_PM_STATE_D3HOT);
	ck_assert(!func.reset_pending);
}
END_TEST

const struct unit_case unit_cases[] = {
	{ "pci-cfg-bar-sizing-never-reaches-the-device", &pci_cfg_bar_sizing_never_reaches_the_device_ttest },
	{ "pci-cfg-bar-move-goes-through-the-check", &pci_cfg_bar_move_goes_through_the_check_ttest },
	{ "pci-cfg-64bit-bar-moves-on-the-upper-half", &pci_cfg_64bit_bar_moves_on_the_upper_half_ttest },
	{ "pci-cfg-rom-hidden", &pci_cfg_rom_hidden_ttest },
	{ "pci-cfg-msi-enables-held-clear", &pci_cfg_msi_enables_held_clear_ttest },
	{ "pci-cfg-msi-enable-follows-map-pirq", &pci_cfg_msi_enable_follows_map_pirq_ttest },
	{ "pci-cfg-other-functions-and-misaligned", &pci_cfg_other_functions_and_misaligned_ttest },
	{ "pci-cfg-bridge-bus-numbers-fixed", &pci_cfg_bridge_bus_numbers_fixed_ttest },
	{ "pci-cfg-host-bridge-writes-dropped", &pci_cfg_host_bridge_writes_dropped_ttest },
	{ "pci-cfg-lpc-decode-writes-dropped", &pci_cfg_lpc_decode_writes_dropped_ttest },
	{ "pci-cfg-unknown-header-only-command-status", &pci_cfg_unknown_header_only_command_status_ttest },
	{ "pci-cfg-msix-enable-needs-a-trapped-table", &pci_cfg_msix_enable_needs_a_trapped_table_ttest },
	{ "pci-cfg-bridge-window-over-kept-range-refused", &pci_cfg_bridge_window_over_kept_range_refused_ttest },
	{ "pci-cfg-bridge-window-linux-sequence-lands", &pci_cfg_bridge_window_linux_sequence_lands_ttest },
	{ "pci-cfg-flr-writes-keels-state-back", &pci_cfg_flr_writes_keels_state_back_ttest },
	{ "pci-cfg-secondary-bus-reset-marks-the-bus", &pci_cfg_secondary_bus_reset_marks_the_bus_ttest },
	{ "pci-cfg-d3hot-to-d0-is-a-reset", &pci_cfg_d3hot_to_d0_is_a_reset_ttest },
	{ 0 },
};
