/*
 * dom0's exit-kind self-test (cmdline `test=...`): one check per kind of
 * VM exit Keel handles for a PVH guest, each printed as
 *
 *     dom0: test <name>: PASS|FAIL <detail>
 *
 * then `dom0: tests done: N passed, M failed`. With test=exits the domain
 * then powers off; the other values end with a step that must kill (or,
 * for hlt, power off) the domain, announced on the line before it.
 *
 * What the hypervisor must emulate for these checks to pass is written
 * down in include/public/keel_test.h: the scratch port 0x5E0, port 0x99
 * reading all ones, IA32_APIC_BASE = 0xFEE00900, #GP for MSR 0xC0DE0000,
 * the hypercall-page MSR. Expected output: guest/dom0/README.md.
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/cpuid.h>
#include <public/keel_test.h>
#include <public/sched.h>
#include <public/version.h>
#include <public/domctl.h>
#include "cpu.h"
#include "dom0.h"
#include "domctl.h"
#include "selftests.h"
#include "guest.h"
#include "selftest.h"
#include "hypercall.h"

extern char __image_end[];

static struct selftest tally = { .prefix = "" };

#define check(name, ok, ...) selftest_check(&tally, name, ok, __VA_ARGS__)

static bool have_hypervisor(const char *name)
{
	if (xen_info()->mode != HYPERCALL_NONE)
		return true;
	check(name, false, "no hypervisor");
	return false;
}

/* ---- CPUID ------------------------------------------------------------- */

static void test_cpuid(void)
{
	const struct xen_info *x = xen_info();
	struct cpuid_regs r;
	u32 base;

	r = cpuid(XEN_CPUID_FIRST_LEAF);
	base = xen_cpuid_base();
	if (base)
		check("cpuid-signature", true, "base 0x%x max leaf 0x%x", base,
		      cpuid(base).eax);
	else
		check("cpuid-signature", false,
		      "0x40000000: eax 0x%x ebx 0x%x ecx 0x%x edx 0x%x",
		      r.eax, r.ebx, r.ecx, r.edx);

	if (have_hypervisor("cpuid-version")) {
		u32 v = cpuid(base + 1).eax;

		check("cpuid-version", (v >> 16) >= 4, "%u.%u", v >> 16, v & 0xffff);
	}

	r = cpuid(1);
	check("cpuid-leaf1",
	      (r.ecx & CPUID_1_ECX_HYPERVISOR) && !(r.ecx & CPUID_1_ECX_VMX),
	      "ecx 0x%x (hypervisor bit %u, vmx bit %u)", r.ecx,
	      !!(r.ecx & CPUID_1_ECX_HYPERVISOR), !!(r.ecx & CPUID_1_ECX_VMX));

	r = cpuid(0x80000001);
	check("cpuid-ext",
	      !(r.ecx & CPUID_80000001_ECX_SVM) && (r.edx & CPUID_80000001_EDX_LM),
	      "ecx 0x%x edx 0x%x (svm bit %u, lm bit %u)", r.ecx, r.edx,
	      !!(r.ecx & CPUID_80000001_ECX_SVM), !!(r.edx & CPUID_80000001_EDX_LM));

	if (have_hypervisor("xen-version")) {
		long v = HYPERVISOR_xen_version(XENVER_version, NULL);

		check("xen-version", v == (long)x->version,
		      "xen_version 0x%lx cpuid 0x%x", v, x->version);
	}
}

/* ---- MSRs -------------------------------------------------------------- */

static void test_msr(void)
{
	const struct xen_info *x = xen_info();
	u64 v;
	bool ok;

	/* What a processor shows after reset (Intel SDM Vol. 3A, "Local APIC
	 * Status and Location"): the architectural base 0xFEE00000, the
	 * global enable bit 11, x2APIC mode (bit 10) off as long as CPUID
	 * does not offer x2APIC, and the BSP flag (bit 8) only on the
	 * bootstrap processor. dom0 runs on the vCPU it started on; CPUID's
	 * initial APIC ID says which one that is (0 = vCPU 0, the BSP). */
	struct cpuid_regs l1 = cpuid(1);
	u32 apic_id = l1.ebx >> 24;
	bool x2apic = l1.ecx & (1u << 21);
	u64 want = 0xfee00000ULL | (1ULL << 11) | (apic_id == 0 ? 1ULL << 8 : 0);
	ok = rdmsr_safe(KEEL_TEST_MSR_APIC_BASE, &v);
	/* Writing the value back is accepted; moving the base is refused. */
	bool same_ok = ok && wrmsr_safe(KEEL_TEST_MSR_APIC_BASE, v);
	bool move_gp = ok && !wrmsr_safe(KEEL_TEST_MSR_APIC_BASE, v ^ 0x100000ULL) &&
		       trap_fixup_vector == 13;
	check("msr-apic-base", ok && !x2apic && v == want && same_ok && move_gp,
	      "read 0x%lx%s, want 0x%lx (APIC ID %u, x2APIC %s); write back %s, moved base %s",
	      v, ok ? "" : " (#GP)", want, apic_id, x2apic ? "offered" : "hidden",
	      same_ok ? "ok" : "refused", move_gp ? "#GP" : "accepted");

	ok = rdmsr_safe(KEEL_TEST_MSR_UNKNOWN, &v);
	if (ok)
		check("msr-unknown-gp", false, "msr 0x%x read 0x%lx, expected #GP",
		      KEEL_TEST_MSR_UNKNOWN, v);
	else
		check("msr-unknown-gp", trap_fixup_vector == 13, "msr 0x%x: %s",
		      KEEL_TEST_MSR_UNKNOWN, trap_name((unsigned)trap_fixup_vector));

	if (have_hypervisor("msr-hypercall-page")) {
		const u8 *page = hypercall_page_addr();
		const u8 *stub = page + __HYPERVISOR_xen_version * XEN_HYPERCALL_STUB_SIZE;
		bool wr, rd, stub_ok;

		/* Rewriting the page the library already uses is harmless:
		 * the hypervisor writes the same stubs again. */
		wr = wrmsr_safe(x->msr, (u64)(uintptr_t)page);
		rd = rdmsr_safe(x->msr, &v);
		/* Stub n: mov eax, n; vmcall or vmmcall; ret. */
		stub_ok = stub[0] == 0xb8 && stub[1] == __HYPERVISOR_xen_version &&
			  !stub[2] && !stub[3] && !stub[4] && stub[5] == 0x0f &&
			  stub[6] == 0x01 && (stub[7] == 0xc1 || stub[7] == 0xd9) &&
			  stub[8] == 0xc3;
		check("msr-hypercall-page", wr && rd && v == 0 && stub_ok,
		      "msr 0x%x write %s, reads 0x%lx, stub 17: %02x %02x %02x %02x %02x %02x %02x %02x %02x",
		      x->msr, wr ? "ok" : "#GP", v, stub[0], stub[1], stub[2],
		      stub[3], stub[4], stub[5], stub[6], stub[7], stub[8]);
	}
}

/* ---- port I/O ---------------------------------------------------------- */

static void test_io(void)
{
	const u16 p = KEEL_TEST_PORT_UNEMULATED, s = KEEL_TEST_PORT;
	u8 b = inb(p);
	u16 w = inw(p);
	u32 l = inl(p), initial, v1, v2, v3;
	u16 w1;
	u8 b1;

	check("io-unemulated", b == 0xff && w == 0xffff && l == 0xffffffff,
	      "port 0x%x: inb 0x%x inw 0x%x inl 0x%x", p, b, w, l);

	/* The scratch register: 32 bits, every write stores the value
	 * zero-extended, reads return the low bytes (keel_test.h). */
	initial = inl(s);
	outl(s, 0x12345678);
	v1 = inl(s);
	w1 = inw(s);
	b1 = inb(s);
	outb(s, 0xab);
	v2 = inl(s);
	outw(s, 0xcdef);
	v3 = inl(s);
	outl(s, KEEL_TEST_PORT_RESET);
	check("io-scratch",
	      initial == KEEL_TEST_PORT_RESET && v1 == 0x12345678 && w1 == 0x5678 &&
	      b1 == 0x78 && v2 == 0xab && v3 == 0xcdef,
	      "port 0x%x: initial 0x%x; outl 0x12345678: inl 0x%x inw 0x%x inb 0x%x; "
	      "outb 0xab: inl 0x%x; outw 0xcdef: inl 0x%x",
	      s, initial, v1, w1, b1, v2, v3);
}

/* ---- hypercalls -------------------------------------------------------- */

/* A buffer that starts in mapped memory and runs into a 2 MiB page this
 * domain has removed from its own page tables (the guest-physical page
 * behind it is RAM): the hypervisor's guest-virtual copy must fail. */
static void test_hcall_crossing(const struct hvm_start_info *si)
{
	u64 hole = ALIGN_UP((u64)(uintptr_t)__image_end, SZ_2M) + SZ_2M;
	char *buf = (char *)(uintptr_t)(hole - 8);
	long rc;
	int err;

	if (!si_is_ram(si, hole - SZ_2M, 2 * SZ_2M)) {
		check("hcall-crossing", false, "no RAM at 0x%lx-0x%lx", hole - SZ_2M,
		      hole + SZ_2M - 1);
		return;
	}
	memcpy(buf, "partial\n", 8);
	err = pt_unmap_2m(hole);
	if (err) {
		check("hcall-crossing", false, "unmap 0x%lx: %d", hole, err);
		return;
	}
	rc = HYPERVISOR_console_io(CONSOLEIO_write, 16, buf);
	err = pt_map_2m(hole, hole, PTE_RW);
	check("hcall-crossing", rc == -EFAULT && !err,
	      "console_io(write, 16, 0x%lx) = %ld (hole at 0x%lx)",
	      (u64)(uintptr_t)buf, rc, hole);
}

static void test_hcall_direct(const char *name, enum hypercall_mode insn)
{
	long v = hypercall_direct(insn, __HYPERVISOR_xen_version, XENVER_version,
				  0, 0, 0, 0);

	if (v == HYPERCALL_TRAPPED)
		check(name, false, "%s trapped in the guest (%s)",
		      insn == HYPERCALL_VMMCALL ? "vmmcall" : "vmcall",
		      trap_name((unsigned)trap_fixup_vector));
	else
		check(name, v == (long)xen_info()->version,
		      "xen_version 0x%lx (native %s)", v,
		      (insn == HYPERCALL_VMMCALL) == xen_info()->vendor_amd ? "yes" : "no");
}

static void test_hypercalls(const struct hvm_start_info *si)
{
	long rc;

	if (have_hypervisor("hcall-unknown")) {
		rc = hypercall6(KEEL_TEST_HYPERCALL_UNKNOWN, 0, 0, 0, 0, 0);
		check("hcall-unknown", rc == -ENOSYS, "hypercall %d = %ld",
		      KEEL_TEST_HYPERCALL_UNKNOWN, rc);
	}
	if (have_hypervisor("hcall-bad-pointer")) {
		rc = HYPERVISOR_console_io(CONSOLEIO_write, 8,
					   (const char *)0xdead00000000ULL);
		check("hcall-bad-pointer", rc == -EFAULT,
		      "console_io(write, 8, 0xdead00000000) = %ld", rc);
	}
	if (have_hypervisor("hcall-crossing"))
		test_hcall_crossing(si);
	if (have_hypervisor("hcall-vmmcall"))
		test_hcall_direct("hcall-vmmcall", HYPERCALL_VMMCALL);
	if (have_hypervisor("hcall-vmcall"))
		test_hcall_direct("hcall-vmcall", HYPERCALL_VMCALL);
}

/* ---- the fatal last steps ---------------------------------------------- */

/*
 * A guest-physical address with nothing behind it: cmdline npf_addr=, else
 * the first 1 GiB boundary at or above max(4 GiB, end of the highest RAM
 * entry) that no memory-map entry covers (QEMU, for one, lists a reserved
 * range just below 1 TiB), provided it is below MAXPHYADDR (an address
 * above it faults in the guest, #PF with RSVD, without leaving it).
 * 4 GiB and up skips the PCI hole, where a 1:1 dom0 may see device MMIO.
 */
static u64 npf_address(const struct hvm_start_info *si)
{
	const struct hvm_memmap_table_entry *map;
	unsigned i, n, phys_bits = 36;
	u64 a, ram_end = 0;
	bool moved;

	if (!cmdline_get_u64(si_cmdline(si), "npf_addr", &a))
		return a;
	if (cpuid(0x80000000).eax >= 0x80000008)
		phys_bits = cpuid(0x80000008).eax & 0xff;

	map = si_memmap(si, &n);
	for (i = 0; i < n; i++)
		if (map[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
			ram_end = MAX(ram_end, map[i].addr + map[i].size);
	a = MAX(ALIGN_UP(ram_end, SZ_1G), 4 * SZ_1G);
	do {
		moved = false;
		for (i = 0; i < n; i++) {
			if (a + SZ_2M > map[i].addr && a < map[i].addr + map[i].size) {
				a = ALIGN_UP(map[i].addr + map[i].size, SZ_1G);
				moved = true;
			}
		}
	} while (moved);
	if (phys_bits < 64 && a >= (1ULL << phys_bits))
		a = 0xC0000000; /* below 4 GiB: the PCI hole is all that is left */
	return a;
}

static __noreturn void step_npf(const struct hvm_start_info *si)
{
	u64 gpa = npf_address(si);
	volatile u64 *p = (volatile u64 *)(uintptr_t)gpa;
	int err;
	u64 v;

	/* Map it in the guest's own tables (uncached, like MMIO) so that the
	 * access leaves the guest as a nested fault, not a guest #PF. */
	err = pt_map_2m(ALIGN_DOWN(gpa, SZ_2M), ALIGN_DOWN(gpa, SZ_2M),
			PTE_RW | PTE_PCD | PTE_PWT);
	if (err) {
		printf("dom0: test npf: FAIL cannot map 0x%lx: %d\n", gpa, err);
		guest_poweroff();
	}
	printf("dom0: touching unmapped gpa 0x%lx\n", gpa);
	console_flush();
	v = *p;
	printf("dom0: test npf: FAIL survived, read 0x%lx\n", v);
	guest_poweroff();
}

static __noreturn void step_crash(void)
{
	puts("dom0: requesting SCHEDOP_shutdown(SHUTDOWN_crash)");
	guest_crash();
}

static __noreturn void step_ud(void)
{
	puts("dom0: executing ud2");
	console_flush();
	/* The hypervisor reflects the #UD (it is no hypercall instruction):
	 * guest/lib/traps.c reports it and crashes the domain. */
	asm volatile("ud2");
	puts("dom0: test ud: FAIL survived ud2");
	guest_poweroff();
}

static __noreturn void step_hlt(void)
{
	puts("dom0: cli; hlt (expect power-off)");
	console_flush();
	cpu_halt_forever();
}

static __noreturn void step_tripfault(void)
{
	struct desc_ptr empty = { .limit = 0, .base = 0 };

	puts("dom0: loading an empty IDT and executing int3 (expect triple fault)");
	console_flush();
	lidt(&empty);
	asm volatile("int3");
	puts("dom0: test tripfault: FAIL survived int3");
	guest_poweroff();
}

/* ---- exits the back end keeps to itself --------------------------------- */

/* MOV to CR4 that resumes after the instruction with trap_fixup_vector
 * set if it faults. */
static bool write_cr4_safe(u64 v)
{
	trap_fixup_vector = -1;
	asm volatile("1: mov %0, %%cr4\n"
		     "2:\n"
		     ".pushsection .ex_table, \"a\"\n"
		     ".balign 8\n"
		     ".quad 1b, 2b\n"
		     ".popsection"
		     : : "r"(v) : "memory");
	return trap_fixup_vector < 0;
}

/*
 * VT-x only: a MOV to CR4 that sets bit 31 (reserved on every CPU, so a
 * bit the hypervisor owns through the CR4 guest/host mask) exits, and the
 * VMX back end refuses it with #GP itself, without the hypervisor's exit
 * table seeing it. The exit must be counted all the same: the domain's
 * cr_access counter goes up by exactly one. (On SVM the guest owns CR4
 * and the write faults without an exit; QEMU's TCG also mishandles such
 * writes in an SVM guest, guest/pvtest/hostile_exits.c: not run there.)
 */
static void test_cr4_refused_counted(void)
{
	u64 before[KEEL_EXIT_NR], after[KEEL_EXIT_NR];
	u64 cr4;
	bool wrote;
	int vec;

	asm volatile("mov %%cr4, %0" : "=r"(cr4));
	if (domctl_exit_counts(0, before, KEEL_EXIT_NR, NULL)) {
		check("cr4-refused-counted", false, "KEEL_DOMCTL_get_exit_counts failed");
		return;
	}
	wrote = write_cr4_safe(cr4 | (u64)1 << 31);
	vec = trap_fixup_vector;
	u64 now;
	asm volatile("mov %%cr4, %0" : "=r"(now));
	if (domctl_exit_counts(0, after, KEEL_EXIT_NR, NULL)) {
		check("cr4-refused-counted", false, "KEEL_DOMCTL_get_exit_counts failed");
		return;
	}
	u64 cr = after[KEEL_EXIT_CR_ACCESS] - before[KEEL_EXIT_CR_ACCESS];
	check("cr4-refused-counted", !wrote && vec == 13 && now == cr4 && cr == 1,
	      "mov cr4 <- 0x%lx: %s, cr4 now 0x%lx; cr_access exits +%lu (want #GP, unchanged, +1)",
	      cr4 | (u64)1 << 31, wrote ? "accepted" : trap_name((unsigned)vec), now, cr);
}

void exit_test_run(const struct hvm_start_info *si, const char *which)
{
	static const char *const known[] = {
		"exits", "npf", "crash", "ud", "hlt", "tripfault",
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(which, known[i]))
			break;
	if (i == ARRAY_SIZE(known)) {
		printf("dom0: unknown test=%s (exits, npf, crash, ud, hlt, tripfault)\n",
		       which);
		guest_poweroff();
	}

	printf("dom0: exit self-test (%s)\n", which);
	test_cpuid();
	test_msr();
	test_io();
	test_hypercalls(si);
	if (!xen_info()->vendor_amd)
		test_cr4_refused_counted();
	printf("dom0: tests done: %u passed, %u failed\n", tally.passed, tally.failed);

	if (!strcmp(which, "npf"))
		step_npf(si);
	if (!strcmp(which, "crash"))
		step_crash();
	if (!strcmp(which, "ud"))
		step_ud();
	if (!strcmp(which, "hlt"))
		step_hlt();
	if (!strcmp(which, "tripfault"))
		step_tripfault();
	puts("dom0: powering off");
	guest_poweroff();
}
