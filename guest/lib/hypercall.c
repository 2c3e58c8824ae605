/*
 * Hypervisor detection and hypercall issue (contract in hypercall.h).
 */
#include <lib/errno.h>
#include <lib/string.h>
#include <public/cpuid.h>
#include "cpu.h"
#include "guest.h"
#include "hypercall.h"

static struct xen_info info;

/* The page the hypervisor fills with stubs. In .bss: identity-mapped, so
 * its virtual address is its guest-physical address. */
static u8 hypercall_page[PAGE_SIZE] __aligned(PAGE_SIZE);

const struct xen_info *xen_info(void)
{
	return &info;
}

const u8 *hypercall_page_addr(void)
{
	return hypercall_page;
}

u32 xen_cpuid_base(void)
{
	u32 base;

	/* Xen sits at the first free 0x100-aligned base (after Viridian's,
	 * say), so scan the whole range as Linux does. */
	for (base = XEN_CPUID_FIRST_LEAF; base <= XEN_CPUID_LAST_BASE;
	     base += XEN_CPUID_BASE_STEP) {
		struct cpuid_regs r = cpuid(base);

		if (r.ebx == XEN_CPUID_SIGNATURE_EBX &&
		    r.ecx == XEN_CPUID_SIGNATURE_ECX &&
		    r.edx == XEN_CPUID_SIGNATURE_EDX && r.eax >= base + 2)
			return base;
	}
	return 0;
}

static bool cpu_vendor_is_amd(void)
{
	struct cpuid_regs r = cpuid(0);

	/* "AuthenticAMD" = EBX "Auth", EDX "enti", ECX "cAMD";
	 * "HygonGenuine" = EBX "Hygo", EDX "nGen", ECX "uine". */
	return (r.ebx == 0x68747541 && r.edx == 0x69746e65 && r.ecx == 0x444d4163) ||
	       (r.ebx == 0x6f677948 && r.edx == 0x6e65476e && r.ecx == 0x656e6975);
}

/*
 * The instruction sequences. The hypervisor preserves every register but
 * RAX; the argument registers are still declared read-write because
 * Linux treats them as clobbered and a hypervisor may do the same. Each
 * direct instruction has a fixup entry: if it faults inside the guest
 * (#UD reflected back), execution resumes after it with RAX =
 * HYPERCALL_TRAPPED (traps.c).
 */
/* One direct-instruction caller per vendor instruction; `insn` is the
 * instruction's bytes. The .ex_table entry makes a #UD on it (reflected
 * by a hypervisor that does not accept it) resume after it. */
#define DEFINE_DIRECT_CALL(fn, insn)                                                   \
	static long fn(unsigned nr, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)            \
	{                                                                              \
		register u64 r10 asm("r10") = a4;                                      \
		register u64 r8 asm("r8") = a5;                                        \
		long ret = nr;                                                         \
		asm volatile("1: .byte " insn "\n"                                     \
			     "2:\n"                                                    \
			     ".pushsection .ex_table, \"a\"\n"                         \
			     ".balign 8\n"                                             \
			     ".quad 1b, 2b\n"                                          \
			     ".popsection"                                             \
			     : "+a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10),      \
			       "+r"(r8)                                                \
			     :                                                         \
			     : "memory");                                              \
		return ret;                                                            \
	}

DEFINE_DIRECT_CALL(call_vmcall, "0x0f, 0x01, 0xc1")  /* VMCALL (Intel) */
DEFINE_DIRECT_CALL(call_vmmcall, "0x0f, 0x01, 0xd9") /* VMMCALL (AMD) */

/* Xen's stubs are `mov eax, nr; vmcall/vmmcall; ret`: RCX and R11 are
 * declared clobbered as Xen's ABI allows. */
static long call_page(unsigned nr, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	register u64 r10 asm("r10") = a4;
	register u64 r8 asm("r8") = a5;
	const u8 *stub = hypercall_page + (u64)nr * XEN_HYPERCALL_STUB_SIZE;
	long ret;

	asm volatile("call *%[stub]"
		     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
		     : [stub] "r"(stub)
		     : "rcx", "r11", "memory");
	return ret;
}

long hypercall_direct(enum hypercall_mode insn, unsigned nr, u64 a1, u64 a2,
		      u64 a3, u64 a4, u64 a5)
{
	if (insn == HYPERCALL_VMMCALL)
		return call_vmmcall(nr, a1, a2, a3, a4, a5);
	return call_vmcall(nr, a1, a2, a3, a4, a5);
}

long hypercall6(unsigned nr, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	switch (info.mode) {
	case HYPERCALL_PAGE:
		if (nr >= XEN_HYPERCALL_PAGE_STUBS)
			return -ENOSYS;
		return call_page(nr, a1, a2, a3, a4, a5);
	case HYPERCALL_VMCALL:
		return call_vmcall(nr, a1, a2, a3, a4, a5);
	case HYPERCALL_VMMCALL:
		return call_vmmcall(nr, a1, a2, a3, a4, a5);
	case HYPERCALL_NONE:
		break;
	}
	return -ENOSYS;
}

/* Asks for the hypercall page. False if the MSR write faulted or the
 * page came back without stubs. */
static bool setup_hypercall_page(void)
{
	u64 pa = (u64)(uintptr_t)hypercall_page; /* identity-mapped */
	size_t i;

	if (!wrmsr_safe(info.msr, pa))
		return false;
	for (i = 0; i < XEN_HYPERCALL_STUB_SIZE; i++)
		if (hypercall_page[i] != 0)
			return true;
	return false;
}

enum hypercall_mode hypercall_init(bool want_direct)
{
	enum hypercall_mode direct;

	memset(&info, 0, sizeof(info));
	info.vendor_amd = cpu_vendor_is_amd();
	info.cpuid_base = xen_cpuid_base();
	info.mode = HYPERCALL_NONE;
	if (!info.cpuid_base)
		return info.mode;

	info.max_leaf = cpuid(info.cpuid_base).eax;
	info.version = cpuid(info.cpuid_base + 1).eax;
	info.msr = cpuid(info.cpuid_base + 2).ebx;
	direct = info.vendor_amd ? HYPERCALL_VMMCALL : HYPERCALL_VMCALL;

	if (want_direct) {
		info.mode = direct;
	} else if (setup_hypercall_page()) {
		info.mode = HYPERCALL_PAGE;
	} else {
		info.mode = direct;
		printf("%s: hypercall page refused by MSR 0x%x; using direct %s\n",
		       guest_name, info.msr,
		       direct == HYPERCALL_VMMCALL ? "vmmcall" : "vmcall");
	}
	return info.mode;
}
