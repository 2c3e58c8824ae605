/*
 * Nested paging and the TLB (AMD APM vol. 2, chapter 15: "TLB Control",
 * "Nested Paging").
 *
 * The nested tables themselves are the shared walker's, in the long-mode
 * format with U on every entry (x86_pt_format_user, asm/paging.h); the
 * VMCB points at d->arch.p2m.root (run.c). What is SVM-specific is the
 * TLB: guest translations (guest-virtual -> host-physical, combined from
 * both levels) are tagged with the ASID of the VMCB that made them and
 * survive VMRUN and #VMEXIT.
 *
 * ASIDs are per vCPU, not per domain: two vCPUs of one domain take turns
 * on this CPU with different CR3s, and a VMRUN does not flush, so a shared
 * ASID would let one use the other's translations.
 *
 * Allocation is by generation (as KVM does): ASIDs 1..nasid-1 are handed
 * out in order; a vCPU keeps its ASID while its generation is current.
 * When they run out, a new generation starts, every vCPU takes a fresh
 * ASID at its next entry, and the first entry of the generation flushes
 * the whole TLB (TLB_CONTROL 1, which every SVM CPU has), so no stale
 * translation of an ASID's previous owner survives. A p2m change makes
 * the domain's vCPUs take fresh ASIDs too, which needs no flush at all
 * until the ASIDs run out: with QEMU's 16 ASIDs that is every 15th, with
 * real hardware's 32768 almost never.
 */
#include <lib/errno.h>
#include <keel/printk.h>
#include "svm.h"

struct svm_asids svm_asids;

void svm_asid_init(u32 nasid)
{
	if (svm_asids.gen)
		return;
	svm_asids.next = 1; /* ASID 0 is the host's; VMRUN refuses it */
	svm_asids.limit = nasid;
	svm_asids.gen = 1;
	/* Firmware or a previous kernel may have run guests: start clean. */
	svm_asids.flush_all = true;
}

void svm_asid_refresh(struct vcpu *v, struct vmcb *vmcb)
{
	struct svm_vcpu *sv = vcpu_svm(v);

	if (sv->asid_gen != svm_asids.gen || sv->need_flush) {
		if (svm_asids.next >= svm_asids.limit) {
			svm_asids.gen++;
			svm_asids.next = 1;
			svm_asids.flush_all = true;
		}
		sv->asid = svm_asids.next++;
		sv->asid_gen = svm_asids.gen;
		sv->need_flush = false;
	}
	vmcb->control.guest_asid = sv->asid;
	vmcb->control.tlb_control = TLB_CONTROL_DO_NOTHING;
	if (svm_asids.flush_all) {
		vmcb->control.tlb_control = TLB_CONTROL_FLUSH_ALL_ASIDS;
		svm_asids.flush_all = false;
	}
}

void svm_asid_entry_failed(const struct vmcb *vmcb)
{
	if (vmcb->control.tlb_control == TLB_CONTROL_FLUSH_ALL_ASIDS)
		svm_asids.flush_all = true;
}

/*
 * Called by the p2m code after every change to d's nested tables. The
 * flush happens at each vCPU's next entry (a fresh ASID); until then none
 * of them is in guest mode, since there is one CPU and it is here.
 */
void svm_p2m_flush(struct domain *d)
{
	for (unsigned i = 0; i < d->nr_vcpus && i < MAX_VCPUS; i++)
		if (d->vcpus[i])
			vcpu_svm(d->vcpus[i])->need_flush = true;
}
