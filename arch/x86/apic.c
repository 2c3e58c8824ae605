/*
 * The host local APIC: see asm/apic.h.
 *
 * References: Intel SDM vol. 3 chapter 11 ("Advanced Programmable
 * Interrupt Controller"), 11.5.4 (APIC timer), 11.12 (x2APIC: register
 * at offset R is MSR 0x800 + R/16); the 8254 PIT and 8259 PIC data sheets
 * as every PC since the AT implements them (QEMU and Bochs both do).
 */
#include <lib/errno.h>
#include <keel/printk.h>
#include <asm/apic.h>
#include <asm/cpu.h>
#include <asm/traps.h>

/* Register offsets in the xAPIC page. */
#define APIC_ID       0x020
#define APIC_TPR      0x080
#define APIC_EOI      0x0b0
#define APIC_SVR      0x0f0
#define APIC_ESR      0x280
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TMICT    0x380 /* initial count */
#define APIC_TMCCT    0x390 /* current count */
#define APIC_TDCR     0x3e0 /* divide configuration */

#define APIC_SVR_ENABLE (1u << 8)
#define APIC_LVT_MASKED (1u << 16)
#define APIC_TDCR_DIV16 0x3

#define APIC_BASE_EXTD   (1ULL << 10) /* x2APIC mode */
#define APIC_BASE_ENABLE (1ULL << 11)
#define APIC_BASE_ADDR   0xfffff000ULL

#define PIT_HZ 1193182ULL
/* The calibration window: 25 ms of PIT channel 2 (fits its 16 bits). */
#define PIT_CAL_TICKS 29830u

static volatile u32 *apic_mmio;
static bool x2apic;
static u64 tsc_hz, timer_hz;
static void (*timer_handler)(void);

static u32 apic_read(u32 reg)
{
	if (x2apic)
		return (u32)rdmsr(0x800 + (reg >> 4));
	return apic_mmio[reg / 4];
}

static void apic_write(u32 reg, u32 val)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), val);
	else
		apic_mmio[reg / 4] = val;
}

u64 apic_tsc_hz(void)
{
	return tsc_hz;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

void apic_timer_set_handler(void (*fn)(void))
{
	timer_handler = fn;
}

void apic_timer_stop(void)
{
	apic_write(APIC_TMICT, 0);
}

void apic_timer_oneshot(u64 ns)
{
	/* ns * Hz / 1e9 in two steps so that neither overflows for any
	 * delay up to centuries and any timer up to 18 GHz. */
	u64 count = (ns / 1000) * (timer_hz / 1000) / 1000 + (ns % 1000) * timer_hz / 1000000000ULL;
	if (count == 0)
		count = 1;
	if (count > 0xffffffffULL)
		count = 0xffffffffULL; /* the handler re-checks and re-arms */
	apic_write(APIC_LVT_TIMER, APIC_VECTOR_TIMER); /* one-shot, unmasked */
	apic_write(APIC_TMICT, (u32)count);
}

u64 apic_scale_hz(u64 count, u64 pit_ticks)
{
	return pit_ticks ? count * PIT_HZ / pit_ticks : 0;
}

static void timer_irq(struct trap_frame *f)
{
	(void)f;
	apic_eoi();
	if (timer_handler)
		timer_handler();
}

/* The spurious vector needs no EOI (SDM 11.9). */
static void spurious_irq(struct trap_frame *f)
{
	(void)f;
}

/* A spurious IRQ 7/15 from a masked 8259 must not be EOIed at the APIC. */
static void pic_irq(struct trap_frame *f)
{
	(void)f;
}

static void error_irq(struct trap_frame *f)
{
	(void)f;
	apic_write(APIC_ESR, 0);
	u32 esr = apic_read(APIC_ESR);
	apic_eoi();
	pr_warn("APIC error interrupt, ESR 0x%x\n", esr);
}

/* The 8259s are remapped to 0x20-0x2f and masked at boot (pic.c); a
 * masked PIC can still raise its spurious IRQ 7/15, which must be
 * ignored rather than treated as an unexpected vector. */
static void pic_spurious_ignore(void)
{
	for (unsigned v = APIC_VECTOR_PIC_BASE; v < APIC_VECTOR_PIC_BASE + 16; v++)
		irq_register((u8)v, pic_irq);
}

/*
 * Counts TSC and APIC-timer ticks over PIT_CAL_TICKS of PIT channel 2 in
 * mode 0 (interrupt on terminal count): OUT2, readable as bit 5 of port
 * 0x61, rises when the count reaches zero. Bit 0 of 0x61 is channel 2's
 * gate, bit 1 the speaker (kept off).
 */
static void calibrate(void)
{
	u8 p61 = inb(0x61);
	outb(0x61, (u8)((p61 & ~0x02) | 0x01));
	outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0, binary */
	outb(0x42, PIT_CAL_TICKS & 0xff);
	outb(0x42, PIT_CAL_TICKS >> 8);

	apic_write(APIC_TDCR, APIC_TDCR_DIV16);
	apic_write(APIC_LVT_TIMER, APIC_VECTOR_TIMER | APIC_LVT_MASKED);
	apic_write(APIC_TMICT, 0xffffffff);
	u64 t0 = rdtsc();
	u32 c0 = apic_read(APIC_TMCCT);
	/* Bounded, so a PIT that never fires cannot hang the boot: 2^31
	 * reads of port 0x61 are far longer than 25 ms anywhere. */
	for (u64 spins = 0; !(inb(0x61) & 0x20) && spins < (1ULL << 31); spins++)
		cpu_relax();
	u64 t1 = rdtsc();
	u32 c1 = apic_read(APIC_TMCCT);
	apic_write(APIC_TMICT, 0);
	outb(0x61, p61);

	tsc_hz = apic_scale_hz(t1 - t0, PIT_CAL_TICKS);
	timer_hz = apic_scale_hz((u64)(c0 - c1), PIT_CAL_TICKS);
}

int apic_init(void)
{
	struct cpuid_regs r;
	cpuid(1, &r);
	if (!(r.edx & (1u << 9))) {
		pr_err("APIC: the CPU has no local APIC (CPUID.1:EDX.APIC = 0)\n");
		return -ENODEV;
	}
	u64 base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_IA32_APIC_BASE, base |= APIC_BASE_ENABLE);
	x2apic = base & APIC_BASE_EXTD;
	/* The hypervisor's page tables map the low 4 GiB uncached outside
	 * RAM (hostpt.c), which is what the APIC page needs. */
	apic_mmio = (volatile u32 *)(uintptr_t)(base & APIC_BASE_ADDR);

	pic_spurious_ignore();
	irq_register(APIC_VECTOR_TIMER, timer_irq);
	irq_register(APIC_VECTOR_SPURIOUS, spurious_irq);
	irq_register(APIC_VECTOR_ERROR, error_irq);

	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_VECTOR_SPURIOUS);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT1, APIC_LVT_MASKED);
	apic_write(APIC_LVT_ERROR, APIC_VECTOR_ERROR);
	apic_write(APIC_ESR, 0);

	calibrate();
	if (!tsc_hz || timer_hz < 1000) {
		pr_err("APIC: calibration against the PIT failed (TSC %lu Hz, APIC timer %lu Hz)\n",
		       tsc_hz, timer_hz);
		return -ENODEV;
	}
	pr_info("APIC: %s, id %u, timer %lu kHz, TSC %lu kHz\n", x2apic ? "x2APIC" : "xAPIC",
		x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24, timer_hz / 1000,
		tsc_hz / 1000);
	return 0;
}
