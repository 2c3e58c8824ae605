/*
 * I/O APIC programming (Intel 82093AA I/O APIC datasheet, 3.2): an index
 * register (IOREGSEL, offset 0x00) and a data window (IOWIN, 0x10);
 * register 1 holds the number of redirection entries - 1 in bits 16-23;
 * entry n is the 64-bit pair 0x10 + 2n (low) / 0x11 + 2n (high).
 * Contract in asm/ioapic.h.
 */
#include <keel/acpi.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/ioapic.h>

#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_VER 0x01
#define IOAPIC_REDTBL(n) (0x10 + 2 * (n))

/* Redirection entry, low dword. */
#define RTE_MASKED (1u << 16)
#define RTE_LEVEL (1u << 15)
#define RTE_ACTIVE_LOW (1u << 13)
/* Delivery mode fixed (000), physical destination (bit 11 clear). */

struct ioapic {
	volatile u32 *base;
	u32 gsi_base;
	unsigned pins;
};

static struct ioapic ioapics[ACPI_MAX_IOAPIC];
static unsigned nr_ioapics;

static u32 ioapic_read(struct ioapic *io, u32 reg)
{
	io->base[IOREGSEL / 4] = reg;
	return io->base[IOWIN / 4];
}

static void ioapic_write(struct ioapic *io, u32 reg, u32 val)
{
	io->base[IOREGSEL / 4] = reg;
	io->base[IOWIN / 4] = val;
}

static struct ioapic *find(u32 gsi, unsigned *pin)
{
	for (unsigned i = 0; i < nr_ioapics; i++) {
		struct ioapic *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi < io->gsi_base + io->pins) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

unsigned ioapic_init(void)
{
	unsigned gsis = 0;
	struct acpi_ioapic def = { .id = 0, .addr = 0xfec00000, .gsi_base = 0 };
	const struct acpi_ioapic *list = acpi.nr_ioapic ? acpi.ioapic : &def;
	unsigned n = acpi.nr_ioapic ? acpi.nr_ioapic : 1;

	for (unsigned i = 0; i < n && nr_ioapics < ACPI_MAX_IOAPIC; i++) {
		/* The IOAPIC page is below 4 GiB, in the hypervisor's
		 * uncached mapping of the low 4 GiB (asm/hostpt.h). */
		if (list[i].addr >= (4ULL << 30) || (list[i].addr & 0xf))
			continue;
		struct ioapic *io = &ioapics[nr_ioapics];
		io->base = phys_to_virt(list[i].addr);
		io->gsi_base = list[i].gsi_base;
		u32 ver = ioapic_read(io, IOAPIC_VER);
		if (ver == 0xffffffffu) {
			pr_warn("IOAPIC at 0x%lx does not answer\n", list[i].addr);
			continue;
		}
		io->pins = ((ver >> 16) & 0xff) + 1;
		for (unsigned p = 0; p < io->pins; p++) {
			ioapic_write(io, IOAPIC_REDTBL(p) + 1, 0);
			ioapic_write(io, IOAPIC_REDTBL(p), RTE_MASKED);
		}
		pr_info("IOAPIC at 0x%lx: GSIs %u-%u, all masked\n", list[i].addr, io->gsi_base,
			io->gsi_base + io->pins - 1);
		gsis += io->pins;
		nr_ioapics++;
	}
	return gsis;
}

bool ioapic_has_gsi(u32 gsi)
{
	unsigned pin;
	return find(gsi, &pin) != NULL;
}

int ioapic_route(u32 gsi, u8 vector, bool level, bool active_low)
{
	unsigned pin;
	struct ioapic *io = find(gsi, &pin);

	if (!io || vector < 0x20)
		return -EINVAL;
	/* Destination: the boot CPU's APIC ID (bits 56-63). Keel runs on
	 * the BSP only; CPUID 1 EBX[31:24] is its initial APIC ID in xAPIC
	 * and x2APIC mode alike (IDs below 256, physical destination). */
	struct cpuid_regs r;
	cpuid(1, &r);
	u32 apic_id = r.ebx >> 24;
	u32 lo = vector | RTE_MASKED | (level ? RTE_LEVEL : 0) | (active_low ? RTE_ACTIVE_LOW : 0);
	ioapic_write(io, IOAPIC_REDTBL(pin), RTE_MASKED);
	ioapic_write(io, IOAPIC_REDTBL(pin) + 1, apic_id << 24);
	ioapic_write(io, IOAPIC_REDTBL(pin), lo);
	return 0;
}

static void set_mask(u32 gsi, bool masked)
{
	unsigned pin;
	struct ioapic *io = find(gsi, &pin);

	if (!io)
		return;
	u32 lo = ioapic_read(io, IOAPIC_REDTBL(pin));
	lo = masked ? (lo | RTE_MASKED) : (lo & ~RTE_MASKED);
	ioapic_write(io, IOAPIC_REDTBL(pin), lo);
}

void ioapic_mask(u32 gsi)
{
	set_mask(gsi, true);
}

void ioapic_unmask(u32 gsi)
{
	set_mask(gsi, false);
}
