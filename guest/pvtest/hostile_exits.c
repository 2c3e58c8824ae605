/*
 * The hostile domU's exit-level fuzzing (role=hostile exits=N; called by
 * role_hostile after its random hypercalls, contract in pvtest.h).
 *
 * Hypercalls are one way into the hypervisor; every instruction that
 * exits (or that a careless back end would let run natively) is another.
 * This phase issues N instructions drawn at random from the kinds below,
 * with random or hostile operands, and counts what each one got: nothing
 * (it completed), #UD, #GP or another exception. A fault lands in
 * guest/lib/traps.c, which finds the instruction in the exception table
 * (.ex_table) and resumes after it, so the fuzzing counts and continues.
 * Then it issues the physmap and vCPU-area hypercalls the random phase
 * leaves out (XENMEM_add_to_physmap, XENMEM_remove_from_physmap,
 * VCPUOP_register_vcpu_info, VCPUOP_register_runstate_memory_area) with
 * hostile arguments.
 *
 * Self-harm is not the point (as in hostile.c): values that would only
 * hurt this domain are left out -- paging switched off by a valid write,
 * CR3 pointed elsewhere, EFER's LME/LMA/SCE/NXE changed, the hypercall
 * page placed over our own RAM, debug breakpoints enabled, HLT with
 * interrupts off (that is a power-off), writes to the console port, and
 * physmap targets inside our RAM below the scratch area. Every register
 * or MSR written successfully is written back at once. Control-register
 * writes that the architecture must refuse (clearing PG or PAE in long
 * mode, reserved bits) are made: the hypervisor must give #GP, and if it
 * accepted one this domain would die of it, which the test sees.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/memory.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"
#include "pvtest.h"

enum kind {
	K_CPUID, K_RDMSR, K_WRMSR, K_PORT, K_CR, K_XSETBV, K_INVLPG, K_CACHE, K_DR,
	K_SVM_INSN, K_VMX_INSN, K_HCALL_INSN, K_TIME, K_MWAIT, K_XSAVES, K_MISC, K_NR
};

static const char *const kind_names[K_NR] = {
	[K_CPUID] = "cpuid", [K_RDMSR] = "rdmsr", [K_WRMSR] = "wrmsr", [K_PORT] = "port",
	[K_CR] = "cr", [K_XSETBV] = "xsetbv", [K_INVLPG] = "invlpg", [K_CACHE] = "cache",
	[K_DR] = "mov-dr", [K_SVM_INSN] = "svm-insn", [K_VMX_INSN] = "vmx-insn",
	[K_HCALL_INSN] = "vmcall-vmmcall", [K_TIME] = "rdtscp-rdpid-rdpmc",
	[K_MWAIT] = "monitor-mwait", [K_XSAVES] = "xsaves", [K_MISC] = "misc-priv",
};

struct outcome {
	u64 issued, ok, ud, gp, other;
};

static struct outcome out[K_NR];

/* One instruction at label 1 with its fixup at label 2 (traps.c resumes
 * there and stores HYPERCALL_TRAPPED in RAX, so every use names RAX as an
 * operand or a clobber). The second entry catches traps (#DB, #BP),
 * which report the address after the instruction. */
#define EX_ENTRY ".pushsection .ex_table, \"a\"\n.balign 8\n.quad 1b, 2b\n.quad 2b, 2b\n.popsection\n"
#define TRY(insn, ...) asm volatile("1: " insn "\n2:\n" EX_ENTRY __VA_ARGS__)

static void begin(void)
{
	trap_fixup_vector = -1;
}

/* Records the outcome of the instruction just issued; true if it did
 * not fault. */
static bool record(enum kind k)
{
	int vec = trap_fixup_vector;
	struct outcome *o = &out[k];

	o->issued++;
	if (vec < 0)
		o->ok++;
	else if (vec == 6)
		o->ud++;
	else if (vec == 13)
		o->gp++;
	else
		o->other++;
	return vec < 0;
}

/*
 * exit_kinds bit 16: MOV to CR0, CR3, CR4 and CR8 (and CR4.OSXSAVE for
 * XSETBV). Under QEMU's TCG as an SVM host, a reserved-bit MOV to CR3/CR4
 * used to end this domain "VM entry failed" (TCG exits VMEXIT_INVALID
 * where hardware raises #GP); Keel now intercepts and checks these writes
 * (arch/x86/svm/cr.c), so both back ends' tests set this bit; see
 * docs/hostile-fuzzing.md.
 */
#define EXIT_KIND_CR_WRITES (1ULL << 16)

static u64 kinds;
static u64 rng;
static bool have_xsave; /* CPUID.1:ECX.XSAVE, as the hypervisor shows it */
static u8 *scratch;   /* SCRATCH bytes of RAM below ramtop, ours to spoil */
static u64 ramtop;

#define SCRATCH (64u * 1024)

static u64 rnd(void)
{
	return rng_next(&rng);
}

static u64 rnd_below(u64 n)
{
	return rnd() % n;
}

/* An address inside the scratch area, `align`-aligned. */
static u64 scratch_addr(u64 align)
{
	return ((u64)(uintptr_t)scratch + rnd_below(SCRATCH - 4096)) & ~(align - 1);
}

/* ---- CPUID and MSRs ----------------------------------------------------- */

static void do_cpuid(void)
{
	static const u32 bases[] = { 0, 0x40000000, 0x80000000, 0x8fffffff, 0xc0000000 };
	u32 a = rnd_below(4) == 0 ? (u32)rnd() : bases[rnd_below(ARRAY_SIZE(bases))] + (u32)rnd_below(0x24);
	u32 c = rnd_below(2) ? (u32)rnd_below(8) : (u32)rnd(), b, d;

	begin();
	TRY("cpuid", : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "memory");
	record(K_CPUID);
}

static u32 random_msr(void)
{
	static const u32 named[] = {
		0x10, 0x1b, 0x3a, 0x48, 0x49, 0x8b, 0x10a, 0x122, 0x174, 0x175, 0x176, 0x1a0,
		0x1d9, 0x1db, 0x1dc, 0x277, 0x2ff, 0x480, 0x481, 0x48b, 0x48c, 0x491, 0x4d0,
		0x6e0, 0x800, 0x802, 0x80b, 0x830, 0x838, 0xda0, 0xc0000080, 0xc0000081,
		0xc0000082, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
		0xc0010010, 0xc0010015, 0xc0010114, 0xc0010117, 0xc0010140, 0xc0011020,
		0x40000000, 0x40000001, 0x40000200,
	};
	switch (rnd_below(6)) {
	case 0:
		return (u32)rnd_below(0x2000);
	case 1:
		return 0xc0000000u + (u32)rnd_below(0x2000);
	case 2:
		return 0xc0010000u + (u32)rnd_below(0x2000);
	case 3:
		return (u32)rnd();
	default:
		return named[rnd_below(ARRAY_SIZE(named))];
	}
}

static bool rdmsr_try(u32 idx, u64 *val)
{
	u32 lo = 0, hi = 0;

	begin();
	TRY("rdmsr", : "+a"(lo), "+d"(hi) : "c"(idx) : "memory");
	*val = ((u64)hi << 32) | lo;
	return trap_fixup_vector < 0;
}

static bool wrmsr_try(u32 idx, u64 val)
{
	u32 lo = (u32)val;

	begin();
	TRY("wrmsr", : "+a"(lo) : "c"(idx), "d"((u32)(val >> 32)) : "memory");
	return trap_fixup_vector < 0;
}

static void do_rdmsr(void)
{
	u64 v;

	rdmsr_try(random_msr(), &v);
	record(K_RDMSR);
}

static void do_wrmsr(void)
{
	u32 idx = random_msr();
	u64 old = 0, val;
	bool readable = rdmsr_safe(idx, &old);

	switch (rnd_below(4)) {
	case 0:
		val = 0;
		break;
	case 1:
		val = old ^ (1ULL << rnd_below(64));
		break;
	default:
		val = rnd();
		break;
	}
	if (idx == MSR_EFER) {
		/* Only bits the guest may not set: SVME, LMSLE, FFXSR, TCE,
		 * reserved ones. Never LME/LMA/SCE/NXE (self-harm). */
		static const u8 bad_bits[] = { 1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 14, 15, 16, 20, 40, 63 };
		val = old | (1ULL << bad_bits[rnd_below(ARRAY_SIZE(bad_bits))]);
	} else if (idx == 0x40000000) {
		/* The hypercall page: only beyond our RAM, or not page
		 * aligned (both refused with #GP), never over our RAM. */
		val = rnd_below(2) ? ramtop + (rnd_below(1 << 20) << 12) : (rnd() | 1);
	} else if (idx == 0x1d9) {
		val &= ~2ULL; /* DEBUGCTL.BTF would single-step our branches */
	}
	bool ok = wrmsr_try(idx, val);
	record(K_WRMSR);
	if (ok && readable)
		wrmsr_safe(idx, old); /* accepted: put it back */
}

/* ---- port I/O ------------------------------------------------------------ */

static void do_port(void)
{
	static const u16 named[] = { 0x20, 0x21, 0x40, 0x43, 0x60, 0x64, 0x70, 0x71, 0x80,
				     0x92, 0xa0, 0xcf8, 0xcfc, 0xcfe, 0x3f8, 0x3fd, 0x5e0,
				     0xf4, 0x510, 0x511, 0xb000, 0xb004, 0x604, 0xffff };
	u16 port = rnd_below(2) ? named[rnd_below(ARRAY_SIZE(named))] : (u16)rnd();
	u64 v = rnd();
	/* INS/OUTS too (REP, into and out of the scratch page): kernel/io.c
	 * moves them element by element. */
	unsigned op = (unsigned)rnd_below(8);

	if (port == 0xe9 && (op & 1))
		port = 0xe8; /* the debug console: garbage there helps nobody */
	u64 buf = scratch_addr(8), cnt = 1 + rnd_below(4);
	begin();
	switch (op) {
	case 0: TRY("inb %%dx, %%al", : "+a"(v) : "d"(port) : "memory"); break;
	case 1: TRY("outb %%al, %%dx", : "+a"(v) : "d"(port) : "memory"); break;
	case 2: TRY("inw %%dx, %%ax", : "+a"(v) : "d"(port) : "memory"); break;
	case 3: TRY("outw %%ax, %%dx", : "+a"(v) : "d"(port) : "memory"); break;
	case 4: TRY("inl %%dx, %%eax", : "+a"(v) : "d"(port) : "memory"); break;
	case 5: TRY("outl %%eax, %%dx", : "+a"(v) : "d"(port) : "memory"); break;
	case 6:
		TRY("rep insb", : "+D"(buf), "+c"(cnt) : "d"(port) : "rax", "memory");
		break;
	default:
		if (port == 0xe9)
			port = 0xe8;
		TRY("rep outsb", : "+S"(buf), "+c"(cnt) : "d"(port) : "rax", "memory");
		break;
	}
	record(K_PORT);
}

/* ---- control registers ---------------------------------------------------- */

#define CR_READ(n, v) TRY("mov %%cr" #n ", %%rax", : "=a"(v) : : "memory")
#define CR_WRITE(n, v) TRY("mov %%rax, %%cr" #n, : "+a"(v) : : "memory")

static u64 cr_read(unsigned n)
{
	u64 v = 0;

	begin();
	switch (n) {
	case 0: CR_READ(0, v); break;
	case 2: CR_READ(2, v); break;
	case 3: CR_READ(3, v); break;
	case 4: CR_READ(4, v); break;
	default: CR_READ(8, v); break;
	}
	return v;
}

static bool cr_write(unsigned n, u64 v)
{
	begin();
	switch (n) {
	case 0: CR_WRITE(0, v); break;
	case 2: CR_WRITE(2, v); break;
	case 3: CR_WRITE(3, v); break;
	case 4: CR_WRITE(4, v); break;
	default: CR_WRITE(8, v); break;
	}
	return trap_fixup_vector < 0;
}

static void do_cr(void)
{
	static const u8 cr0_bits[] = { 0, 1, 2, 3, 5, 16, 18, 29, 30, 31, 32, 40, 63 };
	static const unsigned regs[] = { 0, 2, 3, 4, 8 };
	unsigned n = regs[rnd_below(ARRAY_SIZE(regs))];
	u64 v, old;

	switch (rnd_below(4)) {
	case 0: /* a read */
		cr_read(n);
		record(K_CR);
		return;
	case 1: { /* CR1, CR5-7, CR9-15 do not exist: #UD */
		u64 x = rnd();
		begin();
		switch (rnd_below(6)) {
		case 0: TRY(".byte 0x0f, 0x22, 0xc8", : "+a"(x) : : "memory"); break; /* mov rax, cr1 */
		case 1: TRY(".byte 0x0f, 0x20, 0xc8", : "+a"(x) : : "memory"); break; /* mov cr1, rax */
		case 2: TRY(".byte 0x0f, 0x22, 0xe8", : "+a"(x) : : "memory"); break; /* cr5 */
		case 3: TRY(".byte 0x0f, 0x20, 0xf8", : "+a"(x) : : "memory"); break; /* cr7 */
		case 4: TRY(".byte 0x44, 0x0f, 0x22, 0xc8", : "+a"(x) : : "memory"); break; /* cr9 */
		default: TRY(".byte 0x44, 0x0f, 0x20, 0xf8", : "+a"(x) : : "memory"); break; /* cr15 */
		}
		record(K_CR);
		return;
	}
	default:
		break;
	}
	if (n != 2 && !(kinds & EXIT_KIND_CR_WRITES)) {
		/* Writes to CR0/3/4/8 left out (see EXIT_KIND_CR_WRITES). */
		cr_read(n);
		record(K_CR);
		return;
	}
	old = cr_read(n);
	switch (n) {
	case 0:
		v = old ^ (1ULL << cr0_bits[rnd_below(ARRAY_SIZE(cr0_bits))]);
		/* Clearing PE or PG in long mode must fault; setting NW
		 * without CD too. Those are made; nothing else that would
		 * switch paging off. */
		break;
	case 2:
		v = rnd();
		break;
	case 3:
		/* The same tables (a flush), or reserved bits set: never
		 * another base. */
		v = rnd_below(2) ? old : old | (1ULL << (52 + rnd_below(12)));
		break;
	case 4: {
		unsigned bit = (unsigned)rnd_below(rnd_below(2) ? 24 : 64);
		if (bit == 18 && !have_xsave)
			bit = 19; /* see do_xsetbv */
		v = old ^ (1ULL << bit);
		break;
	}
	default:
		/* The TPR, and reserved bits 63:4 that must #GP. */
		v = rnd_below(2) ? rnd_below(16) : rnd();
		break;
	}
	bool ok = cr_write(n, v);
	record(K_CR);
	if (ok && n != 2)
		cr_write(n, old);
}

/* ---- XSETBV, INVLPG, caches, debug registers ------------------------------ */

#define CR4_OSXSAVE (1ULL << 18)

static void do_xsetbv(void)
{
	static const u64 values[] = { 0, 1, 3, 7, 0x207, 0xe7, 0x2ff, 1ULL << 62 };
	u64 cr4 = cr_read(4);
	/* CR4.OSXSAVE only where CPUID offers XSAVE (leaf 1 ECX bit 26):
	 * elsewhere it is reserved (#GP). */
	bool set_osxsave = have_xsave && (kinds & EXIT_KIND_CR_WRITES) && rnd_below(2) &&
			   !(cr4 & CR4_OSXSAVE);
	u32 ecx = rnd_below(3) ? 0 : (u32)rnd_below(4);
	u64 v = rnd_below(3) ? values[rnd_below(ARRAY_SIZE(values))] : rnd();
	u32 lo = 0, hi = 0;

	if (set_osxsave && !cr_write(4, cr4 | CR4_OSXSAVE))
		set_osxsave = false;
	/* XGETBV first, to put back what XSETBV may change. */
	begin();
	TRY(".byte 0x0f, 0x01, 0xd0", : "+a"(lo), "=d"(hi) : "c"(0) : "memory"); /* xgetbv */
	bool have_old = trap_fixup_vector < 0;
	u64 old = ((u64)hi << 32) | lo;
	u32 vlo = (u32)v;
	begin();
	TRY(".byte 0x0f, 0x01, 0xd1", : "+a"(vlo) : "c"(ecx), "d"((u32)(v >> 32)) : "memory");
	bool ok = record(K_XSETBV);
	if (ok && have_old) {
		u32 olo = (u32)old;
		begin();
		TRY(".byte 0x0f, 0x01, 0xd1", : "+a"(olo) : "c"(0), "d"((u32)(old >> 32)) : "memory");
	}
	if (set_osxsave)
		cr_write(4, cr4);
}

static void do_invlpg(void)
{
	u64 a = rnd_below(2) ? scratch_addr(1) : rnd();
	u64 desc[2] = { rnd_below(4096), rnd_below(2) ? a : rnd() };
	u64 type = rnd_below(2) ? rnd_below(4) : rnd();

	begin();
	switch (rnd_below(3)) {
	case 0:
	case 1:
		TRY("invlpg (%%rax)", : "+a"(a) : : "memory");
		break;
	default:
		TRY("invpcid (%%rdx), %%rcx", : : "d"(desc), "c"(type) : "rax", "memory");
		break;
	}
	record(K_INVLPG);
}

static void do_cache(void)
{
	u64 a = scratch_addr(64);

	begin();
	switch (rnd_below(4)) {
	case 0: TRY("invd", : : : "rax", "memory"); break;
	case 1: TRY("wbinvd", : : : "rax", "memory"); break;
	case 2: TRY(".byte 0xf3, 0x0f, 0x09", : : : "rax", "memory"); break; /* wbnoinvd */
	default: TRY("clflush (%%rax)", : "+a"(a) : : "memory"); break;
	}
	record(K_CACHE);
}

#define DR_READ(n, v) TRY("mov %%dr" #n ", %%rax", : "=a"(v) : : "memory")
#define DR_WRITE(n, v) TRY("mov %%rax, %%dr" #n, : "+a"(v) : : "memory")

static void do_dr(void)
{
	unsigned n = (unsigned)rnd_below(8);
	u64 v = 0;

	begin();
	if (rnd_below(3) == 0) {
		switch (n) {
		case 0: DR_READ(0, v); break;
		case 1: DR_READ(1, v); break;
		case 2: DR_READ(2, v); break;
		case 3: DR_READ(3, v); break;
		case 4: DR_READ(4, v); break;
		case 5: DR_READ(5, v); break;
		case 6: DR_READ(6, v); break;
		default: DR_READ(7, v); break;
		}
		record(K_DR);
		return;
	}
	v = rnd_below(4) ? (u64)scratch_addr(1) : rnd();
	switch (n) {
	case 0: DR_WRITE(0, v); break;
	case 1: DR_WRITE(1, v); break;
	case 2: DR_WRITE(2, v); break;
	case 3: DR_WRITE(3, v); break;
	case 4: /* DR4/DR5: aliases of DR6/DR7 while CR4.DE = 0 */
	case 6:
		v = rnd_below(2) ? (v & 0xffffffffULL) : v; /* upper half set: #GP */
		if (n == 4)
			DR_WRITE(4, v);
		else
			DR_WRITE(6, v);
		break;
	case 5:
	case 7:
		/* No breakpoint enabled (L0-G3, LE/GE clear) and no GD (the
		 * next DR access would #DB): the rest random, the upper half
		 * sometimes set (#GP). */
		v = (v & ~0x23ffULL) | 0x400;
		if (rnd_below(2))
			v &= 0xffffffffULL;
		if (n == 5)
			DR_WRITE(5, v);
		else
			DR_WRITE(7, v);
		break;
	}
	if (rnd_below(8) == 0) {
		/* DR8-DR15 do not exist: #UD. */
		begin();
		TRY(".byte 0x44, 0x0f, 0x23, 0xc0", : "+a"(v) : : "memory"); /* mov rax, dr8 */
	}
	record(K_DR);
}

/* ---- virtualization instructions ------------------------------------------ */

/* AMD's: no guest of Keel's has SVM (CPUID hides it), so every one must
 * raise #UD -- natively on Intel, injected by the hypervisor on AMD. */
static void do_svm_insn(void)
{
	u64 a = rnd_below(2) ? scratch_addr(4096) : rnd();
	u32 c = (u32)rnd();

	begin();
	switch (rnd_below(7)) {
	case 0: TRY(".byte 0x0f, 0x01, 0xd8", : "+a"(a) : : "memory"); break; /* vmrun */
	case 1: TRY(".byte 0x0f, 0x01, 0xda", : "+a"(a) : : "memory"); break; /* vmload */
	case 2: TRY(".byte 0x0f, 0x01, 0xdb", : "+a"(a) : : "memory"); break; /* vmsave */
	case 3: TRY(".byte 0x0f, 0x01, 0xdc", : "+a"(a) : : "memory"); break; /* stgi */
	case 4: TRY(".byte 0x0f, 0x01, 0xdd", : "+a"(a) : : "memory"); break; /* clgi */
	case 5: TRY(".byte 0x0f, 0x01, 0xde", : "+a"(a) : : "memory"); break; /* skinit */
	default: TRY(".byte 0x0f, 0x01, 0xdf", : "+a"(a) : "c"(c) : "memory"); break; /* invlpga */
	}
	record(K_SVM_INSN);
}

/* Intel's VMX (and SMX, VMFUNC): #UD for every guest of Keel's too --
 * injected by the hypervisor on Intel (they exit), native on AMD. */
static void do_vmx_insn(void)
{
	u64 a = scratch_addr(8), c = rnd_below(2) ? rnd_below(4) : rnd();

	begin();
	switch (rnd_below(14)) {
	case 0: TRY("vmxon (%%rax)", : "+a"(a) : : "memory"); break;
	case 1: TRY("vmptrld (%%rax)", : "+a"(a) : : "memory"); break;
	case 2: TRY("vmclear (%%rax)", : "+a"(a) : : "memory"); break;
	case 3: TRY("vmptrst (%%rax)", : "+a"(a) : : "memory"); break;
	case 4: TRY("vmread %%rax, %%rcx", : "+a"(a), "+c"(c) : : "memory"); break;
	case 5: TRY("vmwrite %%rcx, %%rax", : "+a"(a), "+c"(c) : : "memory"); break;
	case 6: TRY("vmlaunch", : "+a"(a) : : "memory"); break;
	case 7: TRY("vmresume", : "+a"(a) : : "memory"); break;
	case 8: TRY("vmxoff", : "+a"(a) : : "memory"); break;
	case 9: TRY("invept (%%rax), %%rcx", : "+a"(a) : "c"(c) : "memory"); break;
	case 10: TRY("invvpid (%%rax), %%rcx", : "+a"(a) : "c"(c) : "memory"); break;
	case 11: /* vmfunc, EAX = function, ECX = EPTP index */
		a = rnd_below(4);
		TRY(".byte 0x0f, 0x01, 0xd4", : "+a"(a) : "c"(c) : "memory");
		break;
	case 12: /* getsec: #UD while CR4.SMXE = 0, which do_cr restores */
		a = rnd_below(8);
		TRY(".byte 0x0f, 0x37", : "+a"(a) : : "rbx", "rcx", "rdx", "memory");
		break;
	default: /* encls, enclu, pconfig */
		a = rnd_below(16);
		switch (rnd_below(3)) {
		case 0: TRY(".byte 0x0f, 0x01, 0xcf", : "+a"(a) : : "rbx", "rcx", "rdx", "memory"); break;
		case 1: TRY(".byte 0x0f, 0x01, 0xd7", : "+a"(a) : : "rbx", "rcx", "rdx", "memory"); break;
		default: TRY(".byte 0x0f, 0x01, 0xc5", : "+a"(a) : : "rbx", "rcx", "rdx", "memory"); break;
		}
		break;
	}
	record(K_VMX_INSN);
}

/* Both vendors' hypercall instructions (one is the "wrong" one for this
 * CPU: Keel takes it through #UD as Xen does) with numbers no Xen
 * defines: -ENOSYS whichever way they arrive. Counted ok only when the
 * answer is -ENOSYS. */
static void do_hcall_insn(void)
{
	u64 nr = 64 + rnd_below(0x10000), a1 = rnd(), a2 = rnd(), a3 = rnd();

	begin();
	if (rnd_below(2))
		TRY(".byte 0x0f, 0x01, 0xc1", : "+a"(nr), "+D"(a1), "+S"(a2), "+d"(a3) : : "memory");
	else
		TRY(".byte 0x0f, 0x01, 0xd9", : "+a"(nr), "+D"(a1), "+S"(a2), "+d"(a3) : : "memory");
	bool done = trap_fixup_vector < 0;
	if (done && (long)nr != -ENOSYS)
		trap_fixup_vector = 255; /* an answer, but the wrong one: "other" */
	record(K_HCALL_INSN);
}

static void do_time(void)
{
	u64 a = 0, c = rnd_below(2) ? rnd_below(8) : (rnd_below(2) ? 0x40000000 + rnd_below(4) : rnd()), d = 0;

	begin();
	switch (rnd_below(4)) {
	case 0: TRY("rdtscp", : "+a"(a), "+c"(c), "+d"(d) : : "memory"); break;
	case 1: TRY("rdpid %%rax", : "+a"(a) : : "memory"); break;
	case 2: TRY("rdpmc", : "+a"(a), "+c"(c), "+d"(d) : : "memory"); break;
	default: TRY("rdtsc", : "+a"(a), "+d"(d) : : "memory"); break;
	}
	record(K_TIME);
}

static void do_mwait(void)
{
	u64 a = scratch_addr(64), c = rnd_below(2) ? 0 : rnd(), d = rnd_below(2) ? 0 : rnd();

	begin();
	if (rnd_below(2)) {
		TRY(".byte 0x0f, 0x01, 0xc8", : "+a"(a) : "c"(c), "d"(d) : "memory"); /* monitor */
	} else {
		/* mwait: ends at the next host interrupt at the latest
		 * (those always exit), whatever the hints say. */
		a = rnd_below(2) ? rnd_below(0x40) : rnd();
		c = rnd_below(2) ? rnd_below(2) : rnd();
		TRY(".byte 0x0f, 0x01, 0xc9", : "+a"(a) : "c"(c) : "memory");
	}
	record(K_MWAIT);
}

static void do_xsaves(void)
{
	u64 area = scratch_addr(64);
	u32 lo = (u32)rnd(), hi = (u32)rnd();

	/* Garbage (or zeroes) for XRSTORS to load. */
	for (unsigned i = 0; i < 1024 / 8; i++)
		((u64 *)(uintptr_t)area)[i] = rnd_below(2) ? 0 : rnd();
	begin();
	switch (rnd_below(3)) {
	case 0: TRY("xsaves (%%rdi)", : "+a"(lo) : "D"(area), "d"(hi) : "memory"); break;
	case 1: TRY("xrstors (%%rdi)", : "+a"(lo) : "D"(area), "d"(hi) : "memory"); break;
	default: TRY("xsavec (%%rdi)", : "+a"(lo) : "D"(area), "d"(hi) : "memory"); break;
	}
	record(K_XSAVES);
}

static void do_misc(void)
{
	u64 a = scratch_addr(16), v = rnd();
	u64 cr0 = cr_read(0);

	begin();
	switch (rnd_below(10)) {
	case 0: TRY("sgdt (%%rax)", : "+a"(a) : : "memory"); break;
	case 1: TRY("sidt (%%rax)", : "+a"(a) : : "memory"); break;
	case 2: TRY("sldt %%ax", : "+a"(a) : : "memory"); break;
	case 3: TRY("str %%ax", : "+a"(a) : : "memory"); break;
	case 4: /* lmsw: MP/EM/TS (PE cannot be cleared by it) */
		v = (v & 0xe) | 1;
		TRY("lmsw %%ax", : "+a"(v) : : "memory");
		break;
	case 5: TRY("clts", : : : "rax", "memory"); break;
	case 6: TRY("ud2", : : : "rax", "memory"); break;
	case 7: TRY("int3", : : : "rax", "memory"); break;
	case 8: TRY(".byte 0xf1", : : : "rax", "memory"); break; /* icebp: #DB */
	default: TRY("rdrand %%rax", : "=a"(v) : : "memory"); break;
	}
	record(K_MISC);
	if (cr_read(0) != cr0)
		cr_write(0, cr0);
}

/* ---- hypercalls from user mode ------------------------------------------------ */

/*
 * Both hypercall instructions executed at CPL 3 ("the wrong mode"): Xen
 * answers -EPERM to a hypercall from guest user mode whatever it asks
 * (here SCHEDOP_shutdown(poweroff), which at CPL 0 would end this
 * domain), and the privileged instructions next to them raise #GP. The
 * domain gets a user code and data segment and a TSS (its kernel stack
 * for the way back), an interrupt gate user mode may call (vector 0x81)
 * to return, and the U bit on the 2 MiB page that holds this image, so
 * the user-mode code below can run in place. All of it is undone after.
 */
#define USER_VECTOR 0x81
#define SEL_UDATA   (0x18 | 3)
#define SEL_UCODE   (0x20 | 3)
#define SEL_TSS     0x28

struct __packed tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap_base;
};

static u64 user_gdt[7] __aligned(16);
static struct tss64 user_tss __aligned(16);
static u8 user_kstack[8192] __aligned(16);
static u8 user_ustack[4096] __aligned(16);
struct sched_shutdown user_sd = { .reason = SHUTDOWN_poweroff };
u64 user_results[4];      /* RAX after each user-mode step (user_code below) */
u64 user_saved_rsp;       /* the kernel stack to return to */

void user_enter(u64 rip, u64 rsp);
void user_return_entry(void);
void user_code(void);

/* user_enter(rip, rsp): saves the callee-saved registers, IRETQs to user
 * mode at rip; user_return_entry (int $0x81 from user mode) comes back
 * here and returns to user_enter's caller. user_code: VMCALL and VMMCALL
 * asking for SCHEDOP_shutdown, then OUT and CLI (both #GP at CPL 3 with
 * IOPL 0: each has an exception-table entry that resumes after it),
 * storing RAX after each; then int $0x81. */
asm(".text\n"
    ".globl user_enter\n"
    "user_enter:\n"
    "	push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "	mov %rsp, user_saved_rsp(%rip)\n"
    "	pushq $" "0x1b" "\n"          /* SS: user data */
    "	push %rsi\n"                  /* RSP */
    "	pushq $2\n"                   /* RFLAGS: IF = 0, IOPL = 0 */
    "	pushq $" "0x23" "\n"          /* CS: user code */
    "	push %rdi\n"                  /* RIP */
    "	iretq\n"
    ".globl user_return_entry\n"
    "user_return_entry:\n"
    "	mov user_saved_rsp(%rip), %rsp\n"
    "	mov $0x10, %eax\n mov %eax, %ds\n mov %eax, %es\n mov %eax, %ss\n"
    "	pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "	ret\n"
    ".globl user_code\n"
    "user_code:\n"
    "	mov $29, %eax\n mov $2, %edi\n lea user_sd(%rip), %rsi\n"   /* sched_op(shutdown) */
    "3:	vmcall\n"
    "4:	mov %rax, user_results(%rip)\n"
    "	mov $29, %eax\n mov $2, %edi\n lea user_sd(%rip), %rsi\n"
    "5:	vmmcall\n"
    "6:	mov %rax, user_results+8(%rip)\n"
    "	xor %eax, %eax\n"
    "7:	outb %al, $0x80\n"
    "8:	mov %rax, user_results+16(%rip)\n"
    "	xor %eax, %eax\n"
    "9:	cli\n"
    "10:	mov %rax, user_results+24(%rip)\n"
    "	int $" "0x81" "\n"
    "	ud2\n"
    ".pushsection .ex_table, \"a\"\n.balign 8\n"
    ".quad 3b, 4b\n.quad 5b, 6b\n.quad 7b, 8b\n.quad 9b, 10b\n"
    ".popsection\n");

static u64 *image_pde(u64 **pml4e, u64 **pdpte)
{
	u64 va = (u64)(uintptr_t)user_code;
	u64 *pml4 = (u64 *)(uintptr_t)(read_cr3() & 0x000ffffffffff000ULL);
	*pml4e = &pml4[(va >> 39) & 511];
	u64 *pdpt = (u64 *)(uintptr_t)(**pml4e & 0x000ffffffffff000ULL);
	*pdpte = &pdpt[(va >> 30) & 511];
	u64 *pd = (u64 *)(uintptr_t)(**pdpte & 0x000ffffffffff000ULL);
	return &pd[(va >> 21) & 511];
}

static void user_mode_hypercalls(unsigned rounds, u64 *eperm, u64 *gp)
{
	struct desc_ptr old_gdt, idt;
	u16 old_tr;
	u64 *pml4e, *pdpte, *pde = image_pde(&pml4e, &pdpte);
	u64 saved[3] = { *pml4e, *pdpte, *pde };
	u64 base = (u64)(uintptr_t)&user_tss;

	if (!(*pde & PTE_PS) || (u64)(uintptr_t)user_ustack >> 21 != (u64)(uintptr_t)user_code >> 21 ||
	    (u64)(uintptr_t)user_results >> 21 != (u64)(uintptr_t)user_code >> 21)
		fail("user-mode hypercalls: the image is not in one 2 MiB page");
	asm volatile("sgdt %0; sidt %1; str %2" : "=m"(old_gdt), "=m"(idt), "=m"(old_tr));
	user_gdt[1] = 0x00af9a000000ffffULL; /* kernel code, as pvh_entry's */
	user_gdt[2] = 0x00cf92000000ffffULL; /* kernel data */
	user_gdt[3] = 0x00cff2000000ffffULL; /* user data, DPL 3 */
	user_gdt[4] = 0x00affa000000ffffULL; /* user code, 64-bit, DPL 3 */
	user_gdt[5] = (sizeof(user_tss) - 1) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		      ((base >> 24) & 0xff) << 56;
	user_gdt[6] = base >> 32;
	user_tss.rsp[0] = (u64)(uintptr_t)(user_kstack + sizeof(user_kstack));
	user_tss.iomap_base = sizeof(user_tss); /* no I/O bitmap: IOPL decides */
	struct desc_ptr g = { .limit = sizeof(user_gdt) - 1, .base = (u64)(uintptr_t)user_gdt };
	asm volatile("lgdt %0; ltr %w1" : : "m"(g), "r"(SEL_TSS) : "memory");
	idt_set_handler(USER_VECTOR, user_return_entry);
	((u8 *)(uintptr_t)idt.base)[USER_VECTOR * 16 + 5] = 0xee; /* DPL 3 */
	*pml4e |= 4, *pdpte |= 4, *pde |= 4; /* U/S */
	asm volatile("invlpg (%0)" : : "r"(user_code) : "memory");

	for (unsigned i = 0; i < rounds; i++) {
		for (unsigned j = 0; j < 4; j++)
			user_results[j] = 0;
		user_enter((u64)(uintptr_t)user_code,
			   (u64)(uintptr_t)(user_ustack + sizeof(user_ustack)));
		*eperm += (user_results[0] == (u64)-EPERM) + (user_results[1] == (u64)-EPERM);
		*gp += (user_results[2] == (u64)HYPERCALL_TRAPPED) +
		       (user_results[3] == (u64)HYPERCALL_TRAPPED);
	}

	*pml4e = saved[0], *pdpte = saved[1], *pde = saved[2];
	asm volatile("invlpg (%0)" : : "r"(user_code) : "memory");
	((u8 *)(uintptr_t)idt.base)[USER_VECTOR * 16 + 5] = 0; /* absent again */
	/* The old TSS descriptor is not in the old GDT (its limit ends
	 * before it): TR keeps our TSS, which is harmless. */
	asm volatile("lgdt %0" : : "m"(old_gdt) : "memory");
	(void)old_tr;
}

/* ---- physmap and vCPU areas -------------------------------------------------- */

struct pm_tally {
	const char *name;
	u64 issued, ok;
};

enum { PM_ADD, PM_REMOVE, PM_VCPU_INFO, PM_RUNSTATE, PM_NR };
static struct pm_tally pm[PM_NR] = {
	[PM_ADD] = { "add_to_physmap" }, [PM_REMOVE] = { "remove_from_physmap" },
	[PM_VCPU_INFO] = { "register_vcpu_info" }, [PM_RUNSTATE] = { "register_runstate_area" },
};

static void pm_record(unsigned i, long rc)
{
	pm[i].issued++;
	pm[i].ok += rc == 0;
}

/* A guest frame number that is not our RAM below the scratch area:
 * scratch, just beyond RAM, far beyond, or absurd. */
static u64 hostile_gfn(void)
{
	u64 top = ramtop >> PAGE_SHIFT;
	switch (rnd_below(5)) {
	case 0:
		return ((u64)(uintptr_t)scratch >> PAGE_SHIFT) + rnd_below(SCRATCH / PAGE_SIZE);
	case 1:
		return top + rnd_below(64);
	case 2:
		return 0x100000 + rnd_below(1 << 20);
	case 3:
		return ~0ULL - rnd_below(4);
	default:
		return rnd() >> rnd_below(64);
	}
}

static void physmap_fuzz(u64 rounds, domid_t victim)
{
	static const domid_t doms[] = { DOMID_SELF, 0, 0x7ff0, DOMID_SELF, DOMID_SELF };
	static struct vcpu_runstate_info rs;

	for (u64 n = 0; n < rounds; n++) {
		switch (rnd_below(PM_NR)) {
		case PM_ADD: {
			struct xen_add_to_physmap x = {
				.domid = rnd_below(6) ? doms[rnd_below(ARRAY_SIZE(doms))] : victim,
				.size = (u16)rnd_below(4),
				.space = rnd_below(4) ? (u32)rnd_below(6) : (u32)rnd(),
				.idx = rnd_below(2) ? rnd_below(8) : rnd(),
				.gpfn = hostile_gfn(),
			};
			if (rnd_below(4) == 0)
				x.idx |= XENMAPIDX_grant_table_status;
			/* gmfn spaces move pages of ours: only scratch ones. */
			if (x.space == XENMAPSPACE_gmfn || x.space == XENMAPSPACE_gmfn_range)
				x.idx = ((u64)(uintptr_t)scratch >> PAGE_SHIFT) + rnd_below(4);
			/* A frame placed over our own code or data would be our
			 * own death (Xen allows it too): below the top of RAM,
			 * only scratch pages are targets. */
			u64 sfn = (u64)(uintptr_t)scratch >> PAGE_SHIFT;
			if (x.gpfn < (ramtop >> PAGE_SHIFT) &&
			    (x.gpfn < sfn || x.gpfn >= sfn + SCRATCH / PAGE_SIZE))
				x.gpfn += ramtop >> PAGE_SHIFT;
			pm_record(PM_ADD, HYPERVISOR_memory_op(XENMEM_add_to_physmap, &x));
			break;
		}
		case PM_REMOVE: {
			struct xen_remove_from_physmap r = {
				.domid = rnd_below(6) ? doms[rnd_below(ARRAY_SIZE(doms))] : victim,
				.gpfn = hostile_gfn(),
			};
			/* Scratch pages may be removed: we would then die
			 * touching them. Only what may have been placed
			 * there is asked for: beyond RAM or absurd. */
			if (r.gpfn < (ramtop >> PAGE_SHIFT))
				r.gpfn += ramtop >> PAGE_SHIFT;
			pm_record(PM_REMOVE, HYPERVISOR_memory_op(XENMEM_remove_from_physmap, &r));
			break;
		}
		case PM_VCPU_INFO: {
			static const u32 offsets[] = { 0, 64, 128, 4032, 4090, 4, 4096, 0xffffffffu };
			struct vcpu_register_vcpu_info vi = {
				.mfn = hostile_gfn(),
				.offset = rnd_below(2) ? offsets[rnd_below(ARRAY_SIZE(offsets))] : (u32)rnd(),
			};
			/* The hypervisor writes a registered vcpu_info (Xen
			 * too): on a page of our code it would be our own
			 * doing, as with add_to_physmap above. Below the top
			 * of RAM, only scratch pages are targets. */
			u64 sfn = (u64)(uintptr_t)scratch >> PAGE_SHIFT;
			if (vi.mfn < (ramtop >> PAGE_SHIFT) &&
			    (vi.mfn < sfn || vi.mfn >= sfn + SCRATCH / PAGE_SIZE))
				vi.mfn += ramtop >> PAGE_SHIFT;
			u32 vcpu = rnd_below(4) ? 0 : (u32)rnd_below(2) ? 1 : (u32)rnd();
			pm_record(PM_VCPU_INFO, HYPERVISOR_vcpu_op(VCPUOP_register_vcpu_info, vcpu, &vi));
			break;
		}
		default: {
			u64 addr;
			switch (rnd_below(5)) {
			case 0: /* scratch, possibly running off the end of RAM */
				addr = (u64)(uintptr_t)scratch + rnd_below(SCRATCH);
				break;
			case 1:
				addr = ramtop + rnd_below(1 << 24);
				break;
			case 2:
				addr = 0xffff800000000000ULL + rnd_below(1 << 20);
				break;
			case 3:
				addr = 0;
				break;
			default:
				addr = rnd();
				break;
			}
			struct vcpu_register_runstate_memory_area a = { .addr = addr };
			u32 vcpu = rnd_below(4) ? 0 : (u32)rnd();
			pm_record(PM_RUNSTATE,
				  HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, vcpu, &a));
			break;
		}
		}
	}
	/* The runstate area still works after all that: registered in our
	 * own data, it shows this vCPU running. */
	struct vcpu_register_runstate_memory_area a = { .addr = (u64)(uintptr_t)&rs };
	rs.state = -1;
	long rc = HYPERVISOR_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &a);
	if (rc || rs.state != RUNSTATE_running)
		fail("runstate area after the physmap fuzzing: rc %ld, state %d", rc, rs.state);
}

/* ---- the phase --------------------------------------------------------------- */

void hostile_exits(u64 n, u64 seed, u8 *scratch_area, u64 ram_top, domid_t victim)
{
	/* exit_kinds=MASK (bit i = kind i, bit 16 = control-register
	 * writes): to narrow a finding down. */
	kinds = arg_u64_or("exit_kinds", ~0ULL);
	static void (*const issue[K_NR])(void) = {
		[K_CPUID] = do_cpuid, [K_RDMSR] = do_rdmsr, [K_WRMSR] = do_wrmsr,
		[K_PORT] = do_port, [K_CR] = do_cr, [K_XSETBV] = do_xsetbv,
		[K_INVLPG] = do_invlpg, [K_CACHE] = do_cache, [K_DR] = do_dr,
		[K_SVM_INSN] = do_svm_insn, [K_VMX_INSN] = do_vmx_insn,
		[K_HCALL_INSN] = do_hcall_insn, [K_TIME] = do_time, [K_MWAIT] = do_mwait,
		[K_XSAVES] = do_xsaves, [K_MISC] = do_misc,
	};
	u64 dr7 = 0x400;

	rng = (seed ^ 0xD1B54A32D192ED03ULL) ? seed ^ 0xD1B54A32D192ED03ULL : 1;
	have_xsave = cpuid(1).ecx & (1u << 26);
	scratch = scratch_area;
	ramtop = ram_top;
	printf("pvtest: hostile: now %lu random exit-causing instructions and %lu physmap "
	       "calls (seed %lu)\n", n, n / 10, seed);
	for (u64 i = 0; i < n; i++) {
		/* Every kind at least once, then at random. */
		enum kind k = i < K_NR ? (enum kind)i : (enum kind)rnd_below(K_NR);
		if (!(kinds & (1u << k)))
			continue;
		issue[k]();
		if ((i + 1) % 5000 == 0)
			printf("pvtest: hostile: %lu instructions issued\n", i + 1);
	}
	begin();
	DR_WRITE(7, dr7);
	u64 eperm = 0, gp = 0, user_rounds = n / 100 ? n / 100 : 1;
	user_mode_hypercalls((unsigned)user_rounds, &eperm, &gp);
	printf("pvtest: hostile: user mode: %lu hypercalls (SCHEDOP_shutdown), %lu refused "
	       "-EPERM; %lu privileged instructions, %lu #GP\n", 2 * user_rounds, eperm,
	       2 * user_rounds, gp);
	physmap_fuzz(n / 10, victim);

	u64 total = 0;
	for (unsigned k = 0; k < K_NR; k++) {
		const struct outcome *o = &out[k];
		total += o->issued;
		printf("pvtest: hostile: exits %s: %lu issued: %lu completed, %lu #UD, %lu #GP, "
		       "%lu other\n", kind_names[k], o->issued, o->ok, o->ud, o->gp, o->other);
	}
	for (unsigned i = 0; i < PM_NR; i++)
		printf("pvtest: hostile: physmap %s: %lu issued, %lu accepted\n", pm[i].name,
		       pm[i].issued, pm[i].ok);
	printf("pvtest: hostile: exit fuzzing done: %lu instructions issued\n", total);
}
