/*
 * Guest MSR accesses: which ones exit (the MSR bitmap, SDM vol. 3 25.6.9)
 * and the guest MSRs that live in the real registers while a vCPU runs.
 *
 * Every MSR exits to the kernel's handler (kernel/msr.c) except:
 *  - FS/GS base and SYSENTER_CS/ESP/EIP: part of the VMCS guest state,
 *    switched by every entry and exit;
 *  - STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE (and TSC_AUX when RDTSCP
 *    is on): not in the VMCS, yet SYSCALL, SWAPGS and RDTSCP read them
 *    directly in the guest, so the guest's values must be in the
 *    registers; an intercepted write could not put them there. The
 *    hypervisor never uses them (no SYSCALL, SWAPGS or RDTSCP in Keel), so
 *    they are switched lazily: only when a different vCPU runs on this CPU
 *    (as Xen's vmx_restore_guest_msrs).
 */
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <asm/cpu.h>
#include "vmx.h"

/* The 4 KiB bitmap: read-low, read-high, write-low, write-high quarters,
 * one bit per MSR in 0..1fff and c0000000..c0001fff; 1 = exit. */
#define BITMAP_READ_LOW 0
#define BITMAP_READ_HIGH 1024
#define BITMAP_WRITE_LOW 2048
#define BITMAP_WRITE_HIGH 3072

static const u32 lazy_msrs[VMX_LAZY_MSRS] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
	MSR_TSC_AUX, /* last: only with RDTSCP */
};

static unsigned nr_lazy(void)
{
	return vmx.lazy_tsc_aux ? VMX_LAZY_MSRS : VMX_LAZY_MSRS - 1;
}

static void pass_through(u8 *bm, u32 msr)
{
	unsigned rd, wr;

	if (msr <= 0x1fff) {
		rd = BITMAP_READ_LOW;
		wr = BITMAP_WRITE_LOW;
	} else if (msr >= 0xc0000000 && msr <= 0xc0001fff) {
		msr -= 0xc0000000;
		rd = BITMAP_READ_HIGH;
		wr = BITMAP_WRITE_HIGH;
	} else {
		return; /* MSRs outside both ranges always exit */
	}
	bm[rd + msr / 8] &= ~(1u << (msr % 8));
	bm[wr + msr / 8] &= ~(1u << (msr % 8));
}

int vmx_msr_bitmap_init(void)
{
	static const u32 vmcs_msrs[] = {
		MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
		MSR_IA32_SYSENTER_EIP,
	};
	paddr_t pa = frame_alloc();

	if (!pa)
		return -ENOMEM;
	u8 *bm = phys_to_virt(pa);
	memset(bm, 0xff, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(vmcs_msrs); i++)
		pass_through(bm, vmcs_msrs[i]);
	for (unsigned i = 0; i < nr_lazy(); i++)
		pass_through(bm, lazy_msrs[i]);
	vmx.msr_bitmap = pa;
	return 0;
}

void vmx_switch_guest_msrs(struct vcpu *v)
{
	struct vmx_cpu *cpu = &vmx_this_cpu;

	if (cpu->msr_owner == v)
		return;
	if (cpu->msr_owner) {
		struct vmx_vcpu *old = vmx_vcpu(cpu->msr_owner);
		for (unsigned i = 0; i < nr_lazy(); i++)
			old->lazy_msrs[i] = rdmsr(lazy_msrs[i]);
	}
	/* A new vCPU's values are 0, as after reset (SDM table 10-1). */
	struct vmx_vcpu *p = vmx_vcpu(v);
	for (unsigned i = 0; i < nr_lazy(); i++)
		wrmsr(lazy_msrs[i], p->lazy_msrs[i]);
	cpu->msr_owner = v;
}

void vmx_drop_guest_msrs(struct vcpu *v)
{
	if (vmx_this_cpu.msr_owner == v)
		vmx_this_cpu.msr_owner = NULL;
}
