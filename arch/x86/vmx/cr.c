/*
 * Guest control registers and EFER under VMX.
 *
 * In VMX operation CR0 and CR4 have fixed bits (SDM 24.8, A.7, A.8): CR0.NE
 * and CR4.VMXE must be 1 in the guest too, although a PVH guest starts with
 * both clear and has never heard of VMXE. The guest/host masks make those
 * bits the hypervisor's (25.6.6): the guest reads its own value from the
 * read shadow, and a MOV to CR0/CR4 that would change one of them exits,
 * which the kernel turns into set_reg() (kernel/exit.c handle_cr_access).
 * Every other bit, PG and PE included, is the guest's: with unrestricted
 * guest it may switch paging and protection itself without exits.
 *
 * EFER.LMA and the "IA-32e mode guest" entry control must agree (27.3.1.1).
 * When the guest enables paging with EFER.LME set on its own, the CPU sets
 * LMA, and on the exit saves EFER (exit control "save IA32_EFER") and
 * stores LMA into the entry control (IA32_VMX_MISC bit 5, which every CPU
 * with unrestricted guest reports; A.6). So only writes made here, on the
 * kernel's behalf, have to keep them in step: update_lma().
 */
#include <keel/domain.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/guest_mem.h>
#include "vmcs.h"
#include "vmx.h"

#define CR4_PCIDE (1ULL << 17)

u64 vmx_guest_cr0(void)
{
	u64 mask = vmx.cr0_host_owned;
	return (vmread(GUEST_CR0) & ~mask) | (vmread(CR0_READ_SHADOW) & mask);
}

u64 vmx_guest_cr4(void)
{
	u64 mask = vmx.cr4_host_owned;
	return (vmread(GUEST_CR4) & ~mask) | (vmread(CR4_READ_SHADOW) & mask);
}

/*
 * With EPT and PAE paging (not long mode), VM entry takes the four PDPTEs
 * from the VMCS, not from memory (SDM 27.3.2.4): after a CR0, CR3
 * or CR4 write done here that leaves the guest in PAE paging, load them as
 * the MOV to CR would have. (A guest's own MOV to CR3, which does not
 * exit, loads them itself, and the exit saves them.)
 */
static void load_pdptes(struct vcpu *v)
{
	u64 cr0 = vmread(GUEST_CR0), cr4 = vmread(GUEST_CR4), efer = vmread(GUEST_IA32_EFER);
	u64 pdpte[4] = { 0 };

	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (efer & EFER_LMA))
		return;
	/* An unreadable table leaves them not present: the guest faults. */
	if (copy_from_gpa(v->dom, pdpte, vmread(GUEST_CR3) & ~0x1fULL, sizeof(pdpte)))
		memset(pdpte, 0, sizeof(pdpte));
	for (unsigned i = 0; i < 4; i++)
		vmwrite(GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

/* EFER.LMA = EFER.LME && CR0.PG (SDM 10.8.5), mirrored into the entry
 * control. */
static void update_lma(void)
{
	u64 efer = vmread(GUEST_IA32_EFER);
	u64 entry = vmread(VM_ENTRY_CONTROLS);
	bool lma = (efer & EFER_LME) && (vmread(GUEST_CR0) & CR0_PG);

	efer = lma ? efer | EFER_LMA : efer & ~EFER_LMA;
	entry = lma ? entry | ENTRY_IA32E_MODE_GUEST : entry & ~(u64)ENTRY_IA32E_MODE_GUEST;
	vmwrite(GUEST_IA32_EFER, efer);
	vmwrite(VM_ENTRY_CONTROLS, entry);
}

void vmx_write_cr0(struct vcpu *v, u64 val)
{
	vmwrite(CR0_READ_SHADOW, val);
	vmwrite(GUEST_CR0, (val | vmx.cr0_fixed0) & vmx.cr0_fixed1);
	update_lma();
	load_pdptes(v);
}

void vmx_write_cr4(struct vcpu *v, u64 val)
{
	vmwrite(CR4_READ_SHADOW, val);
	vmwrite(GUEST_CR4, (val | vmx.caps.cr4_fixed0) & vmx.caps.cr4_fixed1);
	load_pdptes(v);
}

void vmx_write_cr3(struct vcpu *v, u64 val)
{
	vmwrite(GUEST_CR3, val);
	load_pdptes(v);
}

/* The kernel's MSR handler owns EFER's semantics; LMA is not writable
 * (SDM 2.2.1) and is derived here. */
void vmx_write_efer(struct vcpu *v, u64 val)
{
	(void)v;
	vmwrite(GUEST_IA32_EFER, val);
	update_lma();
}

/*
 * The #GP(0) conditions of MOV to CR0/CR4 (SDM vol. 2 "MOV - Move to/from
 * Control Registers", vol. 3 2.5) that the CPU checks after deciding to
 * exit (26.1.1: only privilege checks come before the exit), for the
 * writes the masks make exit. The guest has no VMX (kernel/cpuid.c hides
 * it), so CR4.VMXE is reserved for it.
 */
bool vmx_cr_write_valid(struct vcpu *v, unsigned cr, u64 val)
{
	u64 efer = vmread(GUEST_IA32_EFER);
	(void)v;

	if (cr == 0) {
		if (val >> 32)
			return false;
		if ((val & CR0_PG) && !(val & CR0_PE))
			return false;
		if ((val & CR0_NW) && !(val & CR0_CD))
			return false;
		if ((val & CR0_PG) && !(vmread(GUEST_CR0) & CR0_PG) && (efer & EFER_LME) &&
		    !(vmread(GUEST_CR4) & CR4_PAE))
			return false;
		/* Leaving long mode from 64-bit code (CS.L = 1) faults. */
		if (!(val & CR0_PG) && (efer & EFER_LMA) &&
		    (vmread(GUEST_CS_AR_BYTES) & (1u << 13)))
			return false;
		return true;
	}
	if (cr == 4) {
		u64 old = vmread(GUEST_CR4);
		if (val & ~(vmx.caps.cr4_fixed1 & ~(u64)CR4_VMXE))
			return false;
		if ((efer & EFER_LMA) && !(val & CR4_PAE))
			return false;
		if ((val & CR4_PCIDE) && !(old & CR4_PCIDE) &&
		    (!(efer & EFER_LMA) || (vmread(GUEST_CR3) & 0xfff)))
			return false;
		return true;
	}
	return true;
}
