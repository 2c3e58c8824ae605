/*
 * Hypercalls from Keel's guests, with the Xen x86-64 convention: RAX =
 * number; RDI, RSI, RDX, R10, R8 = arguments; RAX = result (negative
 * errno on failure).
 *
 * Two ways to issue them:
 *  - the hypercall page (default): the guest writes a page's physical
 *    address to the MSR named by CPUID base+2 EBX; the hypervisor fills it
 *    with 32-byte stubs and hypercall n calls page + 32 * n;
 *  - direct (guest cmdline `hypercall=direct`): VMMCALL when the CPU
 *    vendor is AMD or Hygon, VMCALL otherwise, as Linux 6.1 does.
 * With no "XenVMMXenVMM" CPUID signature there is no hypervisor: every
 * hypercall returns -ENOSYS and the console uses port 0xE9.
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <lib/types.h>
#include <public/xen.h>

enum hypercall_mode {
	HYPERCALL_NONE,    /* no Xen-compatible hypervisor */
	HYPERCALL_PAGE,    /* through the hypercall page */
	HYPERCALL_VMCALL,  /* direct, Intel encoding 0f 01 c1 */
	HYPERCALL_VMMCALL, /* direct, AMD encoding 0f 01 d9 */
};

/* What hypercall_init() found. */
struct xen_info {
	u32 cpuid_base;    /* 0x400000x00 of the signature, 0 if none */
	u32 max_leaf;      /* EAX of the base leaf */
	u32 version;       /* base+1 EAX: major << 16 | minor */
	u32 msr;           /* base+2 EBX: hypercall-page MSR */
	bool vendor_amd;   /* AuthenticAMD or HygonGenuine */
	enum hypercall_mode mode;
};

/* Returned in RAX when the hypercall instruction itself trapped inside the
 * guest (e.g. #UD reflected back): never a valid hypercall result. */
#define HYPERCALL_TRAPPED (-4096L)

/*
 * Detects the hypervisor and sets up hypercalls; `want_direct` selects
 * the direct instruction instead of the page. Needs the trap table
 * (traps_init) so a refused MSR write falls back to direct. Returns the
 * mode chosen.
 */
enum hypercall_mode hypercall_init(bool want_direct);

const struct xen_info *xen_info(void);

/* Scans the CPUID range for the Xen signature: the base leaf, or 0. */
u32 xen_cpuid_base(void);

/* The hypercall page (valid when mode == HYPERCALL_PAGE). */
const u8 *hypercall_page_addr(void);

/* Hypercall `nr` through the current mode; -ENOSYS with no hypervisor. */
long hypercall6(unsigned nr, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);

/* Hypercall `nr` with a given instruction (HYPERCALL_VMCALL or
 * HYPERCALL_VMMCALL), whatever the current mode; HYPERCALL_TRAPPED if the
 * instruction faulted in the guest. For the exit self-test. */
long hypercall_direct(enum hypercall_mode insn, unsigned nr, u64 a1, u64 a2,
		      u64 a3, u64 a4, u64 a5);

static inline long HYPERVISOR_console_io(int cmd, int count, const char *buf)
{
	return hypercall6(__HYPERVISOR_console_io, (u64)cmd, (u64)count,
			  (u64)(uintptr_t)buf, 0, 0);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
	return hypercall6(__HYPERVISOR_sched_op, (u64)cmd, (u64)(uintptr_t)arg,
			  0, 0, 0);
}

static inline long HYPERVISOR_memory_op(unsigned cmd, void *arg)
{
	return hypercall6(__HYPERVISOR_memory_op, cmd, (u64)(uintptr_t)arg, 0, 0, 0);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned vcpu, void *arg)
{
	return hypercall6(__HYPERVISOR_vcpu_op, (u64)cmd, vcpu, (u64)(uintptr_t)arg, 0, 0);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
	return hypercall6(__HYPERVISOR_event_channel_op, (u64)cmd, (u64)(uintptr_t)arg,
			  0, 0, 0);
}

static inline long HYPERVISOR_hvm_op(int cmd, void *arg)
{
	return hypercall6(__HYPERVISOR_hvm_op, (u64)cmd, (u64)(uintptr_t)arg, 0, 0, 0);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
	return hypercall6(__HYPERVISOR_xen_version, (u64)cmd,
			  (u64)(uintptr_t)arg, 0, 0, 0);
}

#endif
