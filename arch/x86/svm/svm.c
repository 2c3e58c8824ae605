/*
 * AMD SVM: detection, enabling on a CPU, and the vendor_ops table
 * (AMD APM vol. 2, chapter 15 "Secure Virtual Machine").
 */
#include <lib/errno.h>
#include <keel/frame.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/paging.h>
#include <asm/vendor.h>
#include "svm.h"

/* VM_CR (APM 15.30.1): bit 4 SVMDIS makes EFER.SVME writes fault; firmware
 * sets it (and usually LOCK, bit 3) when virtualization is off in setup. */
#define VM_CR_SVMDIS (1ULL << 4)

#define CPUID_SVM_FEATURES 0x8000000a
#define SVM_EDX_NP (1u << 0)
#define SVM_EDX_NRIPS (1u << 3)
#define SVM_EDX_VMCB_CLEAN (1u << 5)
#define SVM_EDX_FLUSH_BY_ASID (1u << 6)
#define SVM_EDX_DECODE_ASSISTS (1u << 7)
#define SVM_EDX_V_SPEC_CTRL (1u << 20)

struct svm_caps svm_caps;
struct svm_cpu svm_cpu;

/*
 * Enables SVM on the calling CPU: EFER.SVME, and the two pages VMRUN needs
 * on the host side. VM_HSAVE_PA is the CPU's own save area for the host
 * state VMRUN stores and #VMEXIT restores (its format is the CPU's
 * business, APM 15.30.4). The host VMCB is ours: VMRUN does not switch FS,
 * GS, TR, LDTR, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK or SYSENTER_*, so
 * the VMRUN stub VMSAVEs the host's values there and VMLOADs them back
 * after the guest has run (APM 15.5.2).
 */
static int svm_cpu_init(void)
{
	int rc;

	if (!svm_cpu.hsave_pa) {
		svm_cpu.hsave_pa = frame_alloc();
		svm_cpu.host_vmcb_pa = frame_alloc();
		if (!svm_cpu.hsave_pa || !svm_cpu.host_vmcb_pa) {
			pr_err("SVM: out of memory for the host save areas\n");
			return -ENOMEM;
		}
	}
	rc = svm_intercepts_init();
	if (rc) {
		pr_err("SVM: out of memory for the MSR/I/O permission maps\n");
		return rc;
	}
	svm_asid_init(svm_caps.nasid);

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, svm_cpu.hsave_pa);
	return 0;
}

/* The vendor contract's io_allow (u16 first) over iomap.c's map editor,
 * which takes any u32 and checks the range itself. */
static int svm_io_allow_op(struct domain *d, u16 first, u32 count, bool allow)
{
	return svm_io_allow(d, first, count, allow);
}

/* What depends on the CPU goes to struct vendor_caps (svm_probe()). */
static const struct vendor_ops svm_ops = {
	.name = "SVM",
	.cpu_init = svm_cpu_init,
	/* APM 15.25: the nested tables use the long-mode format; walks are
	 * user accesses, so every entry carries U (asm/paging.h). */
	.p2m_format = &x86_pt_format_user,
	.p2m_flush = svm_p2m_flush,
	.domain_init = svm_domain_init,
	.domain_destroy = svm_domain_destroy,
	.vcpu_init = svm_vcpu_init,
	.vcpu_destroy = svm_vcpu_destroy,
	.run = svm_run,
	.inject = svm_inject,
	.intr_open = svm_intr_open,
	.want_intr_window = svm_want_intr_window,
	.get_tpr = svm_get_tpr,
	.want_tpr_window = svm_want_tpr_window,
	.set_tpr = svm_set_tpr,
	.get_reg = svm_get_reg,
	.set_reg = svm_set_reg,
	.get_seg = svm_get_seg,
	.get_paging = svm_get_paging,
	.skip_insn = svm_skip_insn,
	.set_seg = svm_set_seg,
	.io_allow = svm_io_allow_op,
	.dump = svm_dump,
	.hypercall_insn = { 0x0f, 0x01, 0xd9 }, /* VMMCALL */
};

/*
 * APM 15.4 "Enabling SVM": CPUID 8000_0001 ECX[2] says the CPU has SVM,
 * VM_CR.SVMDIS says whether firmware let us use it. Keel also needs nested
 * paging (CPUID 8000_000a EDX[0]): it never shadows guest page tables.
 */
int svm_probe(const struct vendor_ops **ops, struct vendor_caps *caps)
{
	struct cpuid_regs r;

	if (!cpu_features.svm) {
		pr_err("no hardware virtualization: CPU has no SVM\n");
		return -ENODEV;
	}
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
		pr_err("no hardware virtualization: SVM disabled by firmware (VM_CR.SVMDIS)\n");
		return -ENODEV;
	}
	cpuid(0x80000000, &r);
	if (r.eax < CPUID_SVM_FEATURES) {
		pr_err("no hardware virtualization: SVM without CPUID leaf 0x8000000a\n");
		return -ENODEV;
	}
	cpuid(CPUID_SVM_FEATURES, &r);
	svm_caps.revision = r.eax & 0xff;
	svm_caps.nasid = r.ebx;
	svm_caps.npt = r.edx & SVM_EDX_NP;
	svm_caps.nrips = r.edx & SVM_EDX_NRIPS;
	svm_caps.vmcb_clean = r.edx & SVM_EDX_VMCB_CLEAN;
	svm_caps.flush_by_asid = r.edx & SVM_EDX_FLUSH_BY_ASID;
	svm_caps.decode_assists = r.edx & SVM_EDX_DECODE_ASSISTS;
	/* With V_SPEC_CTRL, VMRUN loads the guest's IA32_SPEC_CTRL from the
	 * VMCB and #VMEXIT saves it there and restores the host's: always,
	 * so run.c must keep the field current (asm/spec.h). */
	svm_caps.v_spec_ctrl = r.edx & SVM_EDX_V_SPEC_CTRL;
	/* IA32_TSC_AUX: RDTSCP (8000_0001 EDX[27]) or RDPID (7.0 ECX[22]). */
	cpuid(0x80000001, &r);
	svm_caps.tsc_aux = r.edx & (1u << 27);
	cpuid(0, &r);
	if (r.eax >= 7) {
		cpuid_count(7, 0, &r);
		svm_caps.tsc_aux |= (r.ecx >> 22) & 1;
	}

	if (!svm_caps.npt) {
		pr_err("no hardware virtualization: SVM without nested paging (NPT)\n");
		return -ENODEV;
	}
	if (svm_caps.nasid < 2) {
		pr_err("no hardware virtualization: SVM reports %u ASIDs (needs at least 2)\n",
		       svm_caps.nasid);
		return -ENODEV;
	}

	/* Nested tables may use 1 GiB leaves when the CPU has 1 GiB pages
	 * (APM 15.25.1 follows the host's paging features). */
	caps->p2m_max_leaf_level = cpu_features.pdpe1gb ? 3 : 2;
	caps->switches_spec_ctrl = svm_caps.v_spec_ctrl;

	pr_info("virtualization: SVM (NPT%s, %u ASIDs, %s)\n",
		cpu_features.pdpe1gb ? " with 1 GiB pages" : "", svm_caps.nasid,
		svm_caps.nrips ? "NRIP save" : "no NRIP save; decoding instruction lengths");
	*ops = &svm_ops;
	return 0;
}
