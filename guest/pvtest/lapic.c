/*
 * role=lapic and role=lapic-hostile: the virtual local APIC
 * (arch/x86/vlapic*.c, docs/lapic.md) driven the way a kernel drives it.
 *
 * role=lapic:
 *  1. CPUID offers the APIC, x2APIC and TSC-deadline; IA32_APIC_BASE
 *     reads 0xfee00900 on vCPU 0; the xAPIC page answers (ID, version,
 *     TPR shared with CR8); x2APIC MSRs #GP in xAPIC mode;
 *  2. into x2APIC mode (invalid transitions #GP); ID, version, LDR; the
 *     SDM's #GPs on read-only, write-only and reserved;
 *  3. self-IPIs (SELF IPI MSR and ICR shorthand): taken at once with
 *     IF=1, in ISR inside the handler, held in IRR with IF=0 and by the
 *     TPR, let in by lowering it, EOI retires them;
 *  4. the timer in one-shot, periodic and TSC-deadline modes, each
 *     firing within bounds while the vCPU halts; a masked LVT delivers
 *     nothing.
 * role=lapic-hostile rounds=N seed=S: the SDM's read rules over all 256
 * x2APIC MSRs, then N random MSR and xAPIC-page accesses with random
 * values (interrupts off); the domain must neither die nor hurt others.
 */
#include <lib/string.h>
#include <public/sched.h>
#include "cpu.h"
#include "cpuregs.h"
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pvclock.h"
#include "pvtest.h"

#define MS 1000000ULL
#define MSR_APIC_BASE 0x1b
#define MSR_TSC_DEADLINE 0x6e0
#define X2(off) (0x800u + ((off) >> 4))
#define APIC_PAGE 0xfee00000ULL

#define R_ID 0x20
#define R_VER 0x30
#define R_TPR 0x80
#define R_PPR 0xa0
#define R_EOI 0xb0
#define R_LDR 0xd0
#define R_SVR 0xf0
#define R_ISR 0x100
#define R_IRR 0x200
#define R_ESR 0x280
#define R_ICR 0x300
#define R_LVTT 0x320
#define R_TMICT 0x380
#define R_TMCCT 0x390
#define R_TDCR 0x3e0
#define R_SELF 0x3f0

#define V_IPI 0x40
#define V_IPI2 0x41
#define V_LOW 0x42
#define V_TIMER 0x50

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static volatile u64 hits[256];
static volatile u32 isr_seen;   /* ISR bit of the vector, read in its handler */
static volatile bool x2mode;
static volatile u64 last_fire_ns;
static evtchn_port_t watchdog_port;

/* xAPIC register accesses as Linux's accessors make them: a 32-bit MOV
 * through a register holding the address (the compiler would otherwise
 * use MOV with a 64-bit absolute address, which the hypervisor's MMIO
 * decoder does not take, asm/mmio_insn.h). */
static u32 mmio_rd(unsigned off)
{
	u32 v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(APIC_PAGE + off) : "memory");
	return v;
}

static void mmio_wr(unsigned off, u32 v)
{
	__asm__ volatile("movl %0, (%1)" ::"r"(v), "r"(APIC_PAGE + off) : "memory");
}

static u64 reg_read(unsigned off)
{
	return x2mode ? rdmsr(X2(off)) : mmio_rd(off);
}

static void reg_write(unsigned off, u64 val)
{
	if (x2mode)
		wrmsr(X2(off), val);
	else
		mmio_wr(off, (u32)val);
}

static bool isr_bit(u8 vec)
{
	return reg_read(R_ISR + (vec >> 5) * 0x10) & (1u << (vec & 31));
}

static bool irr_bit(u8 vec)
{
	return reg_read(R_IRR + (vec >> 5) * 0x10) & (1u << (vec & 31));
}

struct intr_frame;

/* One handler per vector (GCC's interrupt attribute saves what it uses
 * and ends in IRETQ): counts, looks at ISR, EOIs. */
#define HANDLER(name, vec)                                                   \
	__attribute__((interrupt)) static void name(struct intr_frame *f)    \
	{                                                                    \
		(void)f;                                                     \
		hits[vec]++;                                                 \
		isr_seen = isr_bit(vec);                                     \
		last_fire_ns = pvclock_now_ns();                             \
		reg_write(R_EOI, 0);                                         \
	}
HANDLER(h_ipi, V_IPI)
HANDLER(h_ipi2, V_IPI2)
HANDLER(h_low, V_LOW)
HANDLER(h_timer, V_TIMER)

static void install(u8 vec, void (*h)(struct intr_frame *))
{
	idt_set_handler(vec, (void (*)(void))(uintptr_t)h);
}

static void on_watchdog(evtchn_port_t port, void *arg)
{
	(void)port;
	(void)arg;
}

/* Halts with interrupts on until vector `vec` was taken `want` times or
 * `ms` pass (a PV one-shot timer ends a halt nothing else would).
 * Returns the time waited in ns. */
static u64 wait_hits(u8 vec, u64 want, u64 ms)
{
	u64 start = pvclock_now_ns();

	while (hits[vec] < want) {
		u64 now = pvclock_now_ns();
		if (now - start > ms * MS)
			break;
		pvclock_timer_set(now + 20 * MS, 0);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	return pvclock_now_ns() - start;
}

static void expect(bool ok, const char *what)
{
	if (!ok)
		fail("%s", what);
}

static void check_discovery(void)
{
	struct cpuid_regs l1 = cpuid(1);
	u64 base;

	expect(l1.edx & (1u << 9), "CPUID.1 EDX.APIC clear");
	expect(l1.ecx & (1u << 21), "CPUID.1 ECX.x2APIC clear");
	expect(l1.ecx & (1u << 24), "CPUID.1 ECX.TSC-deadline clear");
	base = rdmsr(MSR_APIC_BASE);
	if (base != 0xfee00900ULL)
		fail("IA32_APIC_BASE 0x%lx, want 0xfee00900 (xAPIC, enabled, BSP)", base);
	if (pt_map_2m(APIC_PAGE, APIC_PAGE, PTE_RW | PTE_PCD | PTE_PWT))
		fail("cannot map the xAPIC page");
	u32 id = mmio_rd(R_ID), ver = mmio_rd(R_VER);
	if (id != 0 || ver != 0x50014)
		fail("xAPIC ID 0x%x version 0x%x, want 0 and 0x50014", id, ver);
	mmio_wr(R_TPR, 0x20);
	u64 cr8 = read_cr8();
	write_cr8(3);
	u32 tpr = mmio_rd(R_TPR);
	write_cr8(0);
	if (cr8 != 2 || tpr != 0x30)
		fail("TPR 0x20 gave CR8 %lu; CR8 3 gave TPR 0x%x (want 2 and 0x30)", cr8, tpr);
	u64 v;
	expect(!rdmsr_safe(X2(R_ID), &v), "x2APIC MSR read in xAPIC mode did not #GP");
	printf("pvtest: lapic: xAPIC: CPUID APIC/x2APIC/TSC-deadline, base 0x%lx, ID 0, "
	       "version 0x50014, TPR = CR8 << 4\n", base);
}

static void check_x2apic(void)
{
	u64 base = rdmsr(MSR_APIC_BASE), v;

	expect(!wrmsr_safe(MSR_APIC_BASE, (base & ~(1ULL << 11)) | (1ULL << 10)),
	       "IA32_APIC_BASE EXTD without EN did not #GP");
	expect(!wrmsr_safe(MSR_APIC_BASE, base | 0x1000000ULL), "relocating the APIC did not #GP");
	expect(wrmsr_safe(MSR_APIC_BASE, base | (1ULL << 10)), "x2APIC mode refused");
	x2mode = true;
	expect(!wrmsr_safe(MSR_APIC_BASE, base), "x2APIC -> xAPIC did not #GP");
	u64 id = rdmsr(X2(R_ID)), ver = rdmsr(X2(R_VER)), ldr = rdmsr(X2(R_LDR));
	if (id != 0 || ver != 0x50014 || ldr != 1)
		fail("x2APIC ID %lu version 0x%lx LDR 0x%lx, want 0, 0x50014, 1", id, ver, ldr);
	expect(!wrmsr_safe(X2(R_ID), 5), "write to the x2APIC ID did not #GP");
	expect(!rdmsr_safe(X2(R_EOI), &v), "read of EOI did not #GP");
	expect(!wrmsr_safe(X2(R_EOI), 1), "non-zero EOI write did not #GP");
	expect(!rdmsr_safe(0x801, &v), "read of absent MSR 0x801 did not #GP");
	expect(!wrmsr_safe(X2(R_TPR), 0x100), "TPR with reserved bit 8 did not #GP");
	expect(!rdmsr_safe(X2(R_SELF), &v), "read of SELF IPI did not #GP");
	expect(!wrmsr_safe(X2(0x310), 0), "write to ICR2 (xAPIC only) did not #GP");
	expect(rdmsr_safe(X2(R_PPR), &v), "read of PPR #GP'd");
	wrmsr(X2(R_SVR), 0x1ff); /* software-enable, spurious vector 0xff */
	printf("pvtest: lapic: x2APIC: mode on, ID 0 version 0x50014 LDR 1, #GP on read-only, "
	       "write-only, absent and reserved\n");
}

static void check_ipis(void)
{
	install(V_IPI, h_ipi);
	install(V_IPI2, h_ipi2);
	install(V_LOW, h_low);

	/* SELF IPI with IF=1: taken before the next instruction retires
	 * much later; in ISR inside the handler, gone after its EOI. */
	__asm__ volatile("sti" ::: "memory");
	wrmsr(X2(R_SELF), V_IPI);
	__asm__ volatile("nop; cli" ::: "memory");
	if (hits[V_IPI] != 1 || !isr_seen || isr_bit(V_IPI))
		fail("self-IPI: %lu hits, ISR in handler %u, ISR after EOI %u", hits[V_IPI],
		     isr_seen, isr_bit(V_IPI));

	/* ICR with the self shorthand, IF=0: pending in IRR until STI. */
	wrmsr(X2(R_ICR), (1u << 18) | V_IPI2);
	if (!irr_bit(V_IPI2) || hits[V_IPI2])
		fail("ICR self IPI with IF=0: IRR %u, hits %lu", irr_bit(V_IPI2), hits[V_IPI2]);
	__asm__ volatile("sti; nop; cli" ::: "memory");
	if (hits[V_IPI2] != 1)
		fail("ICR self IPI not taken after STI (%lu hits)", hits[V_IPI2]);

	/* TPR class 5 holds back vector 0x42 (class 4); PPR follows TPR. */
	wrmsr(X2(R_TPR), 0x50);
	wrmsr(X2(R_SELF), V_LOW);
	__asm__ volatile("sti; nop; nop; nop; cli" ::: "memory");
	u64 ppr = rdmsr(X2(R_PPR));
	if (hits[V_LOW] || !irr_bit(V_LOW) || ppr != 0x50 || read_cr8() != 5)
		fail("TPR 0x50: vector 0x42 hits %lu IRR %u, PPR 0x%lx, CR8 %lu", hits[V_LOW],
		     irr_bit(V_LOW), ppr, read_cr8());
	/* Lowering CR8 (no exit on either back end) lets it in. */
	__asm__ volatile("sti" ::: "memory");
	write_cr8(0);
	__asm__ volatile("nop; nop; cli" ::: "memory");
	if (hits[V_LOW] != 1)
		fail("vector 0x42 not taken after CR8 = 0 (%lu hits)", hits[V_LOW]);
	/* An illegal vector is not sent: ESR says so. */
	wrmsr(X2(R_ICR), (1u << 18) | 5);
	wrmsr(X2(R_ESR), 0);
	u64 esr = rdmsr(X2(R_ESR));
	if (!(esr & (1u << 5)))
		fail("self IPI with vector 5: ESR 0x%lx, want send-illegal (bit 5)", esr);
	printf("pvtest: lapic: IPIs: self IPI taken at once (in ISR in its handler, EOI clears it), "
	       "held in IRR with IF=0\n");
	printf("pvtest: lapic: IPIs: held by TPR 0x50, let in at CR8 0; illegal vector in ESR\n");
}

static void check_timers(void)
{
	u64 t, k;

	install(V_TIMER, h_timer);
	/* One-shot, divide by 1: 3 ms. */
	wrmsr(X2(R_TDCR), 0xb);
	wrmsr(X2(R_LVTT), V_TIMER);
	u64 start = pvclock_now_ns();
	wrmsr(X2(R_TMICT), 3000000);
	u64 cc1 = rdmsr(X2(R_TMCCT)), read_at = pvclock_now_ns() - start;
	t = wait_hits(V_TIMER, 1, 2000);
	u64 took = last_fire_ns - start;
	/* The count read right after arming is below the initial count, and
	 * 0 only if the host really let 3 ms pass in between (a loaded
	 * host can). */
	if (hits[V_TIMER] != 1 || took < 3 * MS || took > 3 * MS + 500 * MS ||
	    cc1 > 3000000 || (!cc1 && read_at < 3 * MS))
		fail("one-shot 3 ms: %lu fires after %lu us (count right after arming %lu)",
		     hits[V_TIMER], took / 1000, cc1);
	if (rdmsr(X2(R_TMCCT)) != 0)
		fail("one-shot: current count %lu after expiry, want 0", rdmsr(X2(R_TMCCT)));
	printf("pvtest: lapic: timer one-shot 3 ms fired after %lu us (halted)\n", took / 1000);

	/* Periodic, divide by 4 (TDCR 1): 4 ms = 1,000,000 counts. */
	wrmsr(X2(R_TDCR), 0x1);
	wrmsr(X2(R_LVTT), V_TIMER | (1u << 17));
	k = hits[V_TIMER];
	start = pvclock_now_ns();
	wrmsr(X2(R_TMICT), 1000000);
	t = wait_hits(V_TIMER, k + 5, 5000);
	took = last_fire_ns - start;
	wrmsr(X2(R_TMICT), 0); /* stops it */
	if (hits[V_TIMER] < k + 5 || took < 20 * MS || took > 20 * MS + 1000 * MS)
		fail("periodic 4 ms: %lu fires in %lu us", hits[V_TIMER] - k, took / 1000);
	u64 after = hits[V_TIMER];
	pvclock_sleep_ns(20 * MS);
	if (hits[V_TIMER] != after)
		fail("periodic timer still fires after initial count 0");
	printf("pvtest: lapic: timer periodic 4 ms: 5 fires in %lu us\n", took / 1000);

	/* TSC deadline: 3 ms of TSC ahead. */
	wrmsr(X2(R_LVTT), V_TIMER | (2u << 17));
	k = hits[V_TIMER];
	start = pvclock_now_ns();
	u64 dl = rdtsc() + pvclock_tsc_khz() * 3;
	wrmsr(MSR_TSC_DEADLINE, dl);
	u64 armed = rdmsr(MSR_TSC_DEADLINE);
	read_at = pvclock_now_ns() - start;
	t = wait_hits(V_TIMER, k + 1, 2000);
	took = last_fire_ns - start;
	/* Reads back as written until it fires (then 0: a loaded host may
	 * let the 3 ms pass before the read). */
	if (hits[V_TIMER] != k + 1 || (armed != dl && !(armed == 0 && read_at >= 2 * MS)) ||
	    took < 2 * MS || took > 3 * MS + 500 * MS)
		fail("TSC deadline 3 ms: %lu fires after %lu us (MSR read 0x%lx, wrote 0x%lx)",
		     hits[V_TIMER] - k, took / 1000, armed, dl);
	if (rdmsr(MSR_TSC_DEADLINE) != 0)
		fail("IA32_TSC_DEADLINE not 0 after it fired");
	printf("pvtest: lapic: timer TSC-deadline 3 ms fired after %lu us\n", took / 1000);

	/* Masked: counts, delivers nothing. */
	wrmsr(X2(R_LVTT), V_TIMER | (1u << 16));
	wrmsr(X2(R_TDCR), 0xb);
	k = hits[V_TIMER];
	wrmsr(X2(R_TMICT), 1000000);
	t = wait_hits(V_TIMER, k + 1, 30);
	if (hits[V_TIMER] != k)
		fail("masked timer delivered its vector");
	(void)t;
	printf("pvtest: lapic: timer masked LVT: nothing delivered in 30 ms\n");
}

void role_lapic(void)
{
	int rc;

	if ((rc = evtchn_bind_virq(VIRQ_TIMER, 0, &watchdog_port)))
		fail("bind VIRQ_TIMER: %d", rc);
	evtchn_set_handler(watchdog_port, on_watchdog, NULL);
	evtchn_unmask(watchdog_port);
	evtchn_irq_disable();

	check_discovery();
	check_x2apic();
	check_ipis();
	check_timers();
	printf("pvtest: lapic: PASS registers, self-IPIs, priorities and the timer's three modes\n");
}

/* ---- role=lapic-hostile -------------------------------------------------------- */

static u64 rng;

static u64 next_rand(void)
{
	/* xorshift64 */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* x2APIC MSRs a read may reach (SDM table 10-6 with Xen's six LVTs). */
static bool x2_readable(u32 msr)
{
	unsigned off = (msr - 0x800) << 4;

	if (off >= 0x100 && off < 0x280)
		return true; /* ISR, TMR, IRR */
	switch (off) {
	case R_ID: case R_VER: case R_TPR: case R_PPR: case R_LDR: case R_SVR:
	case R_ESR: case R_ICR: case R_TMICT: case R_TMCCT: case R_TDCR:
	case 0x320: case 0x330: case 0x340: case 0x350: case 0x360: case 0x370:
		return true;
	default:
		return false;
	}
}

void role_lapic_hostile(void)
{
	u64 rounds = arg_u64_or("rounds", 20000), v, base;
	unsigned wrong = 0, gps = 0, mmio_ops = 0, msr_ops = 0;

	rng = arg_u64_or("seed", 1) | 1;
	evtchn_irq_disable();
	base = rdmsr(MSR_APIC_BASE);
	if (pt_map_2m(APIC_PAGE, APIC_PAGE, PTE_RW | PTE_PCD | PTE_PWT))
		fail("cannot map the xAPIC page");
	/* The SDM's read rules over every x2APIC MSR, in x2APIC mode. */
	if (!wrmsr_safe(MSR_APIC_BASE, base | (1ULL << 10)))
		fail("x2APIC mode refused");
	for (u32 msr = 0x800; msr <= 0x8ff; msr++) {
		bool ok = rdmsr_safe(msr, &v);
		if (ok != x2_readable(msr)) {
			if (wrong++ < 4)
				printf("pvtest: lapic-hostile: rdmsr 0x%x %s, SDM says %s\n", msr,
				       ok ? "succeeded" : "#GP", ok ? "#GP" : "readable");
		}
	}
	if (wrong)
		fail("%u x2APIC MSRs broke the SDM's read rules", wrong);
	printf("pvtest: lapic-hostile: all 256 x2APIC MSRs follow the SDM's read rules\n");

	for (u64 i = 0; i < rounds; i++) {
		u64 r = next_rand(), val = next_rand();
		/* Not a CPU hog: the domU next to it checks its timing. */
		if (!(i % 32))
			HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
		bool x2 = (rdmsr(MSR_APIC_BASE) & (3ULL << 10)) == (3ULL << 10);
		switch (r % 8) {
		case 0: case 1: case 2: { /* x2APIC MSR read/write */
			u32 msr = 0x800 + (u32)((r >> 8) & 0xff);
			bool ok = (r & 0x10000) ? wrmsr_safe(msr, (r & 0x20000) ? (u32)val : val)
						: rdmsr_safe(msr, &v);
			gps += !ok;
			msr_ops++;
			if (!x2 && ok)
				fail("x2APIC MSR 0x%x reachable in xAPIC mode", msr);
			break;
		}
		case 3: /* IA32_APIC_BASE: mode changes, bad values */
			if (!wrmsr_safe(MSR_APIC_BASE, (r & 7) == 0 ? val : (base & ~0xc00ULL) |
								 ((r >> 4) & 3) << 10))
				gps++;
			msr_ops++;
			break;
		case 4: /* TSC deadline */
			gps += !wrmsr_safe(MSR_TSC_DEADLINE, (r & 1) ? rdtsc() + (val & 0xffffff) : val);
			msr_ops++;
			break;
		default: { /* the xAPIC page, any size and offset */
			unsigned size = 1u << ((r >> 3) & 3), off = (unsigned)(val & 0xfff) & ~(size - 1);
			volatile u8 *p = (volatile u8 *)(uintptr_t)(APIC_PAGE + off);
			bool wr = r & 0x100;
			switch (size) {
			case 1: if (wr) *p = (u8)val; else (void)*p; break;
			case 2: if (wr) *(volatile u16 *)p = (u16)val; else (void)*(volatile u16 *)p; break;
			case 4: if (wr) *(volatile u32 *)p = (u32)val; else (void)*(volatile u32 *)p; break;
			default: if (wr) *(volatile u64 *)p = val; else (void)*(volatile u64 *)p; break;
			}
			mmio_ops++;
			break;
		}
		}
	}
	printf("pvtest: lapic-hostile: %lu random accesses (%u MSR, %u #GP, %u xAPIC page) survived\n",
	       rounds, msr_ops, gps, mmio_ops);
	printf("pvtest: lapic-hostile: PASS\n");
}

/* ---- role=lapic-smp ---------------------------------------------------------- */

/*
 * The AP's real-mode start (it runs at TRAMP = vector << 12 after the
 * SIPI, CS = vector << 8, IP = 0): DS = CS, so its mailbox is at offset
 * MBOX_OFF. It reports each step in the mailbox: 1 = running, with its
 * x2APIC ID at +4, after switching to x2APIC mode, software-enabling its
 * APIC and sending fixed IPI 0x44 to APIC 0; 2 = saw 0x45 (physical
 * destination) pending in its IRR; 3 = saw 0x46 (logical destination);
 * 4 = saw 0x47 (all-but-self). Interrupts stay off (the IVT at 0 is not
 * its own), so vectors stay pending and it polls IRR (MSR 0x822). It ends
 * in a PAUSE loop: HLT with interrupts off would power the domain off.
 */
#define TRAMP_VEC 0x90
#define TRAMP ((u64)TRAMP_VEC << 12)
#define MBOX_OFF 0xf00

extern const u8 ap_tramp[], ap_tramp_end[];
__asm__(".pushsection .rodata\n"
	".global ap_tramp\n"
	".global ap_tramp_end\n"
	"ap_tramp:\n"
	".code16\n"
	"	movw %cs, %ax\n"
	"	movw %ax, %ds\n"
	"	movl $0x1b, %ecx\n"
	"	rdmsr\n"
	"	orl $0xc00, %eax\n"        /* EN | EXTD: x2APIC mode */
	"	wrmsr\n"
	"	movl $0x80f, %ecx\n"       /* SVR: enabled, spurious 0xff */
	"	movl $0x1ff, %eax\n"
	"	xorl %edx, %edx\n"
	"	wrmsr\n"
	"	movl $0x802, %ecx\n"       /* its x2APIC ID */
	"	rdmsr\n"
	"	movl %eax, 0xf04\n"
	"	movl $0x830, %ecx\n"       /* ICR: fixed 0x44 to APIC 0 */
	"	movl $0x44, %eax\n"
	"	xorl %edx, %edx\n"
	"	wrmsr\n"
	"	movl $1, 0xf00\n"
	"1:	movl $0x822, %ecx\n"       /* IRR bits 0x40-0x5f */
	"	rdmsr\n"
	"	testl $0x20, %eax\n"
	"	jz 1b\n"
	"	movl $2, 0xf00\n"
	"2:	movl $0x822, %ecx\n"
	"	rdmsr\n"
	"	testl $0x40, %eax\n"
	"	jz 2b\n"
	"	movl $3, 0xf00\n"
	"3:	movl $0x822, %ecx\n"
	"	rdmsr\n"
	"	testl $0x80, %eax\n"
	"	jz 3b\n"
	"	movl $4, 0xf00\n"
	"4:	pause\n"
	"	jmp 4b\n"
	".code64\n"
	"ap_tramp_end:\n"
	".popsection\n");

HANDLER(h_from_ap, 0x44)
HANDLER(h_all_but_self, 0x47)

static volatile u32 *mbox(unsigned off)
{
	return (volatile u32 *)(uintptr_t)(TRAMP + MBOX_OFF + off);
}

/* Waits (halting, interrupts on) until the AP's mailbox says `step`. */
static void wait_ap(u32 step, const char *what)
{
	u64 start = pvclock_now_ns();

	while (*mbox(0) < step) {
		if (pvclock_now_ns() - start > 5000 * MS)
			fail("the AP never got to step %u (%s): mailbox %u", step, what, *mbox(0));
		pvclock_timer_set(pvclock_now_ns() + 2 * MS, 0);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
}

static void icr(u32 dest, u32 low)
{
	wrmsr(X2(R_ICR), ((u64)dest << 32) | low);
}

void role_lapic_smp(void)
{
	int rc;

	if ((rc = evtchn_bind_virq(VIRQ_TIMER, 0, &watchdog_port)))
		fail("bind VIRQ_TIMER: %d", rc);
	evtchn_set_handler(watchdog_port, on_watchdog, NULL);
	evtchn_unmask(watchdog_port);
	evtchn_irq_disable();
	install(0x44, h_from_ap);
	install(0x47, h_all_but_self);
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1ULL << 10));
	x2mode = true;
	wrmsr(X2(R_SVR), 0x1ff);

	memcpy((void *)(uintptr_t)TRAMP, ap_tramp, (size_t)(ap_tramp_end - ap_tramp));
	*mbox(0) = 0;
	*mbox(4) = ~0u;
	/* A SIPI without INIT first starts nothing (SDM 8.4.4.1: the AP
	 * must be in wait-for-SIPI). */
	icr(2, (6u << 8) | TRAMP_VEC);
	pvclock_sleep_ns(20 * MS);
	if (*mbox(0))
		fail("a SIPI without INIT started the AP");
	/* INIT (assert, then de-assert as Linux does), then two SIPIs. */
	icr(2, (5u << 8) | (1u << 14));
	icr(2, (5u << 8) | (1u << 15));
	icr(2, (6u << 8) | TRAMP_VEC);
	icr(2, (6u << 8) | TRAMP_VEC);
	wait_ap(1, "start");
	if (*mbox(4) != 2)
		fail("the AP reads x2APIC ID %u, want 2", *mbox(4));
	u64 start = pvclock_now_ns();
	while (!hits[0x44] && pvclock_now_ns() - start < 2000 * MS) {
		pvclock_timer_set(pvclock_now_ns() + 2 * MS, 0);
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	if (hits[0x44] != 1)
		fail("the AP's fixed IPI 0x44 reached vCPU 0 %lu times, want 1", hits[0x44]);
	printf("pvtest: lapic-smp: INIT/SIPI started vCPU 1 in real mode at 0x%lx (x2APIC ID 2); "
	       "its IPI 0x44 reached vCPU 0\n", TRAMP);

	icr(2, 0x45);                          /* physical destination 2 */
	wait_ap(2, "physical IPI 0x45");
	icr(0x4, (1u << 11) | 0x46);           /* logical: cluster 0, bit 2 */
	wait_ap(3, "logical IPI 0x46");
	icr(0, (3u << 18) | 0x47);             /* all but self */
	wait_ap(4, "all-but-self IPI 0x47");
	__asm__ volatile("sti; nop; nop; cli" ::: "memory");
	if (hits[0x47] || irr_bit(0x47))
		fail("the all-but-self IPI reached its sender");
	printf("pvtest: lapic-smp: vCPU 0 -> 1 IPIs by physical and logical destination and "
	       "all-but-self arrived; none came back to the sender\n");
	printf("pvtest: lapic-smp: PASS\n");
}
