/*
 * What a guest may do without the hypervisor seeing it: the intercept
 * vectors of the VMCB control area and the MSR permission map (AMD APM
 * vol. 2, 15.9-15.13). The I/O permission map is iomap.c's.
 *
 * The policy: intercept what would let a guest reach host state or the
 * hardware, what Keel must emulate (CPUID, port I/O, most MSRs, VMMCALL,
 * HLT), and nothing that nested paging already makes safe (CR3, #PF,
 * INVLPG).
 */
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <asm/cpu.h>
#include "svm.h"

/* Shared by every vCPU: the policy is the same for all domains. */
static paddr_t msrpm_pa;

/* ---- intercept vectors ---------------------------------------------------- */

/*
 * intercept_misc1 (VMCB 00ch):
 *  INTR, NMI   host interrupts belong to the host: a physical interrupt or
 *              NMI arriving in the guest ends the guest's turn (APM 15.13;
 *              with V_INTR_MASKING the guest's IF cannot hold them back).
 *  SMI         SMM firmware then runs from host state after STGI, not in
 *              the middle of a guest.
 *  INIT        an INIT is for the host CPU; taken in the guest it would
 *              reset with guest state loaded (APM 15.13).
 *  CPUID       Keel presents its own CPUID (Xen leaves, hidden SVM).
 *  INVD        discards dirty cache lines, including the host's.
 *  HLT         an idle vCPU gives the CPU back to the scheduler.
 *  INVLPGA     an SVM instruction (ASID-tagged INVLPG on host ASIDs).
 *  IOIO_PROT   port I/O through the I/O permission map.
 *  MSR_PROT    MSR access through the MSR permission map.
 *  SHUTDOWN    a guest triple fault would otherwise shut down the CPU.
 * Not intercepted: VINTR (only while an interrupt window is wanted, see
 * inject.c), CR0_SEL_WRITE and descriptor-table accesses (guest state the
 * VMCB switches), RDTSC/RDTSCP (TSC offset 0: guests see the host TSC,
 * which PV time relies on), RDPMC (host counters are unused), PUSHF/POPF,
 * IRET, INTn, PAUSE, INVLPG (nested paging: guest TLB entries are tagged
 * by ASID), RSM (#UD outside SMM), task switches (handled by hardware in
 * the guest), FERR_FREEZE.
 */
#define MISC1_INTERCEPTS                                                    \
	(INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_INIT |  \
	 INTERCEPT_CPUID | INTERCEPT_INVD | INTERCEPT_HLT |                 \
	 INTERCEPT_INVLPGA | INTERCEPT_IOIO_PROT | INTERCEPT_MSR_PROT |     \
	 INTERCEPT_SHUTDOWN)

/*
 * intercept_misc2 (VMCB 010h):
 *  VMRUN       required by VMRUN's consistency checks (APM 15.5.1); with
 *              EFER.SVME set in guest mode, all SVM instructions would
 *              otherwise run natively: VMLOAD, VMSAVE, STGI, CLGI, SKINIT
 *              too. Keel offers no nested virtualization (EXIT_VIRT_INSN).
 *  VMMCALL     the hypercall instruction.
 *  WBINVD      a full cache write-back stalls every domain; the kernel
 *              decides (EXIT_CACHE_FLUSH).
 *  XSETBV      XCR0 is not switched by VMRUN: the kernel validates the
 *              guest's value and loads it only while it runs (docs/fpu.md).
 *  MONITOR, MWAIT  hidden by CPUID (kernel/cpuid.c): #UD, as on a CPU
 *              without them and as Xen does; run natively, MWAIT would let
 *              a guest choose the CPU's sleep state. (MWAIT_COND, bit 12,
 *              is the armed variant of the same instruction; it needs a
 *              MONITOR first, which now faults.)
 * Not intercepted: RDTSCP (its TSC_AUX is the running vCPU's: run.c),
 * ICEBP (delivers #DB in the guest), RDPRU. INVLPGB/TLBSYNC raise #UD in a guest unless
 * the VMCB enables them (VMCB 090h bit 7), so misc3 stays 0.
 */
#define MISC2_INTERCEPTS                                                   \
	(INTERCEPT2_VMRUN | INTERCEPT2_VMMCALL | INTERCEPT2_VMLOAD |       \
	 INTERCEPT2_VMSAVE | INTERCEPT2_STGI | INTERCEPT2_CLGI |           \
	 INTERCEPT2_SKINIT | INTERCEPT2_WBINVD | INTERCEPT2_XSETBV |          \
	 INTERCEPT2_MONITOR | INTERCEPT2_MWAIT)

/*
 * Exceptions:
 *  #UD   a guest that uses VMCALL (Intel's hypercall instruction) on AMD
 *        gets #UD; Xen accepts it as a hypercall, so the kernel looks.
 *  #DB, #AC  a guest can make the delivery of these raise the same
 *        exception again, forever, inside microcode, where not even the
 *        host's interrupts get in (CVE-2015-8104, CVE-2015-5307; Xen and
 *        KVM intercept both). The kernel reflects them to the guest.
 * Not intercepted: #PF (nested paging), #NM (no lazy FPU switching), #MC
 * (the kernel would only reflect it; intercept once the host has a
 * machine-check policy), the rest (guest business).
 */
/* intercept_cr bits 16 + n: writes of CRn (APM 15.9). */
#define INTERCEPT_CR_WRITES ((1u << (16 + 0)) | (1u << (16 + 3)) | (1u << (16 + 4)))

#define EXCEPTION_INTERCEPTS \
	((1u << X86_EXC_UD) | (1u << X86_EXC_DB) | (1u << X86_EXC_AC))

/*
 * Control registers: writes to CR0, CR3 and CR4, so that a value the CPU
 * must refuse with #GP never reaches the VMCB (cr.c: QEMU's TCG turns
 * such writes into VMEXIT_INVALID). Reads are not intercepted: with
 * nested paging the VMCB holds the guest's own values. With
 * V_INTR_MASKING, guest CR8 writes only change V_TPR.
 * Debug registers: none. DR6/DR7 are
 * switched by the VMCB; DR0-3 are not, so run.c swaps them between vCPUs
 * (arch/x86/debugreg.c, shared with VMX).
 */

void svm_intercepts_setup(struct vmcb *vmcb)
{
	vmcb->control.intercept_cr = INTERCEPT_CR_WRITES;
	vmcb->control.intercept_dr = 0;
	vmcb->control.intercept_exceptions = EXCEPTION_INTERCEPTS;
	vmcb->control.intercept_misc1 = MISC1_INTERCEPTS;
	vmcb->control.intercept_misc2 = MISC2_INTERCEPTS;
	vmcb->control.intercept_misc3 = 0;
	vmcb->control.msrpm_base_pa = msrpm_pa;
	vmcb->control.iopm_base_pa = svm_iopm_deny_all_pa(); /* run.c: the domain's */
}

/* ---- MSR permission map (APM 15.11) ----------------------------------------
 *
 * 8 KiB, two bits per MSR (even bit: intercept RDMSR, odd: WRMSR) for
 * three ranges of 8192 MSRs, each range 2 KiB of the map:
 *   0000_0000-0000_1fff at byte 0x000, c000_0000-c000_1fff at 0x800,
 *   c001_0000-c001_1fff at 0x1000; 0x1800-0x1fff is reserved.
 * MSRs outside the ranges are always intercepted.
 */
static long msrpm_bit(u32 msr)
{
	static const struct { u32 first; u32 byte; } ranges[] = {
		{ 0x00000000, 0x0000 },
		{ 0xc0000000, 0x0800 },
		{ 0xc0010000, 0x1000 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(ranges); i++)
		if (msr - ranges[i].first < 0x2000)
			return ranges[i].byte * 8L + (msr - ranges[i].first) * 2L;
	return -EINVAL;
}

int msrpm_set(u8 *msrpm, u32 msr, bool intercept_read, bool intercept_write)
{
	long bit = msrpm_bit(msr);
	u8 *byte;

	if (bit < 0)
		return -EINVAL;
	byte = &msrpm[bit / 8];
	*byte &= ~(3u << (bit % 8));
	*byte |= (intercept_read ? 1u : 0u) << (bit % 8);
	*byte |= (intercept_write ? 2u : 0u) << (bit % 8);
	return 0;
}

unsigned msrpm_get(const u8 *msrpm, u32 msr)
{
	long bit = msrpm_bit(msr);

	if (bit < 0)
		return 3;
	return (msrpm[bit / 8] >> (bit % 8)) & 3;
}

/*
 * The MSRs a guest reads and writes directly: exactly the ones whose guest
 * values VMLOAD/VMSAVE switch with the VMCB (APM 15.5.2), so the host
 * never sees the guest's and the guest never sees the host's. The syscall
 * and segment-base MSRs are written on every context switch in a guest
 * kernel, so intercepting them would be costly. Everything else, EFER
 * above all (SVME, LME; its reads hide SVME), goes to the kernel's MSR
 * handler.
 */
static const u32 msr_passthrough[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

int svm_intercepts_init(void)
{
	u8 *msrpm;
	int rc = svm_iomap_init();

	if (rc || msrpm_pa)
		return rc;
	/* Physically contiguous and 4 KiB aligned (APM 15.11). */
	msrpm_pa = frame_alloc_contig(MSRPM_SIZE / PAGE_SIZE, PAGE_SIZE);
	if (!msrpm_pa)
		return -ENOMEM;

	msrpm = phys_to_virt(msrpm_pa);
	memset(msrpm, 0xff, MSRPM_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(msr_passthrough); i++)
		msrpm_set(msrpm, msr_passthrough[i], false, false);
	return 0;
}
