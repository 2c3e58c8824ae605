/*
 * Intel VT-x: detection, enabling VMX operation on a CPU (VMXON), the
 * vendor_ops table and the record of failed VMREAD/VMWRITEs (Intel SDM
 * vol. 3, chapters 24-32).
 */
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/paging.h>
#include <asm/spec.h>
#include <asm/vendor.h>
#include "vmcs.h"
#include "vmx.h"

#define CPUID1_ECX_VMX (1u << 5)

struct vmx_info vmx;
struct vmx_cpu vmx_this_cpu;

/*
 * IA32_FEATURE_CONTROL (SDM 24.7): VMXON outside SMX needs bit 2, and the
 * MSR must be locked (bit 0), else VMXON raises #GP. Firmware normally
 * locks it; if it did not, we enable VMX and lock it ourselves. Locked
 * with bit 2 clear means VT-x is switched off in the firmware setup, which
 * only a person can change. With `lock` false this only checks.
 */
static int feature_control(bool lock)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (fc & FEATURE_CONTROL_LOCKED) {
		if (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)
			return 0;
		pr_err("no hardware virtualization: VMX is disabled by the firmware "
		       "(IA32_FEATURE_CONTROL = 0x%lx is locked without 'VMX outside SMX'); "
		       "enable VT-x in the firmware setup\n", fc);
		return -ENODEV;
	}
	if (lock)
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED);
	return 0;
}

/* Reads every capability MSR this CPU has (appendix A says which exist). */
static void read_caps(struct vmx_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->pinbased = rdmsr(MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rdmsr(MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rdmsr(MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	if (c->basic & VMX_BASIC_TRUE_CTLS) {
		c->true_pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
		c->true_procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
		c->true_exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
		c->true_entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	}
	/* A.3.3: the secondary MSR exists only if the primary controls can
	 * activate the secondary ones; A.10: EPT_VPID_CAP only with EPT or
	 * VPID allowed. */
	if ((c->procbased >> 32) & CPU_ACTIVATE_SECONDARY_CONTROLS) {
		c->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if ((c->procbased2 >> 32) & (SEC_ENABLE_EPT | SEC_ENABLE_VPID))
			c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
}

/* What EPT as Keel uses it needs (25.6.11 EPTP, 29.3.2): 4-level walks, the
 * WB type for the tables themselves, UC and WB for leaves (UC is always
 * allowed for leaves; the caps bits here are for the EPTP), and some way to
 * invalidate. */
static int check_ept(const struct vmx_caps *c)
{
	static const struct {
		u64 bit;
		const char *what;
	} need[] = {
		{ EPT_CAP_WALK_4, "4-level page walks" },
		{ EPT_CAP_MEMTYPE_WB, "write-back paging structures" },
		{ EPT_CAP_2M_PAGES, "2 MiB pages" },
		{ EPT_CAP_INVEPT, "INVEPT" },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(need); i++) {
		if (!(c->ept_vpid & need[i].bit)) {
			pr_err("no hardware virtualization: VMX EPT without %s "
			       "(IA32_VMX_EPT_VPID_CAP = 0x%lx)\n", need[i].what, c->ept_vpid);
			return -ENODEV;
		}
	}
	if (!(c->ept_vpid & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		pr_err("no hardware virtualization: VMX INVEPT with no usable type\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * CR0/CR4 in VMX operation (SDM 24.8, A.7, A.8): every bit set in FIXED0
 * must be 1 and every bit clear in FIXED1 must be 0, in the host (before
 * VMXON) and in the guest. For the host we simply comply (CR0.NE, CR4.VMXE).
 * For the guest the read shadows hide what the guest did not ask for: the
 * guest/host masks cover every fixed bit, so the guest reads its own value
 * and a write that changes one of them exits (cr.c). Unrestricted guest
 * lifts the PE and PG requirements (27.3.1.1).
 */
static void setup_fixed_bits(void)
{
	const struct vmx_caps *c = &vmx.caps;
	u64 cr0_must0 = ~c->cr0_fixed1 & 0xffffffffULL;
	u64 cr4_must0 = ~c->cr4_fixed1 & 0xffffffffULL;

	vmx.cr0_fixed0 = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);
	vmx.cr0_fixed1 = c->cr0_fixed1;
	vmx.cr0_host_owned = vmx.cr0_fixed0 | cr0_must0;
	vmx.cr4_host_owned = c->cr4_fixed0 | cr4_must0;
}

static int vmx_cpu_init(void)
{
	struct vmx_cpu *cpu = &vmx_this_cpu;
	int rc = feature_control(true);

	if (rc)
		return rc;
	if (!cpu->vmxon_region) {
		/* The VMXON region: one page whose first word is the VMCS
		 * revision identifier (25.11.5); bit 31 clear. */
		cpu->vmxon_region = frame_alloc();
		if (!cpu->vmxon_region) {
			pr_err("VMX: out of memory for the VMXON region\n");
			return -ENOMEM;
		}
		*(u32 *)phys_to_virt(cpu->vmxon_region) = vmx.revision;
	}
	if (!vmx.msr_bitmap) {
		rc = vmx_msr_bitmap_init();
		if (rc) {
			pr_err("VMX: out of memory for the MSR bitmap\n");
			return rc;
		}
	}

	write_cr0((read_cr0() | vmx.caps.cr0_fixed0) & vmx.caps.cr0_fixed1);
	write_cr4((read_cr4() | vmx.caps.cr4_fixed0) & vmx.caps.cr4_fixed1);

	if (!vmx_on(cpu->vmxon_region)) {
		/* VMfailInvalid: a bad region, or already in VMX operation
		 * (e.g. left on by a previous loader). */
		pr_err("VMX: VMXON failed (VMXON region 0x%lx, revision 0x%x, CR4 0x%lx)\n",
		       cpu->vmxon_region, vmx.revision, read_cr4());
		return -EIO;
	}
	cpu->current_vmcs = 0;

	/* Translations tagged by EPTPs or VPIDs before we owned the CPU
	 * must not survive (29.4.3.3). */
	if (vmx.caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		vmx_invept(INVEPT_ALL_CONTEXT, 0);
	if (vmx.vpid && (vmx.caps.ept_vpid & VPID_CAP_INVVPID_ALL))
		vmx_invvpid(INVVPID_ALL_CONTEXT, 0);
	return 0;
}

/* The vendor contract's io_allow over iomap.c's per-domain I/O bitmaps. */
static int vmx_io_allow_op(struct domain *d, u16 first, u32 count, bool allow)
{
	if (count > 0x10000u - first)
		return -EINVAL;
	return vmx_io_allow(d, first, count, allow);
}

/* What depends on the CPU goes to struct vendor_caps (vmx_probe()). */
static const struct vendor_ops vmx_ops = {
	.name = "VMX",
	.cpu_init = vmx_cpu_init,
	.p2m_format = &ept_format,
	.p2m_flush = vmx_p2m_flush,
	.domain_init = vmx_domain_init,
	.domain_destroy = vmx_domain_destroy,
	.vcpu_init = vmx_vcpu_init,
	.vcpu_destroy = vmx_vcpu_destroy,
	.run = vmx_run,
	.inject = vmx_inject,
	.intr_open = vmx_intr_open,
	.want_intr_window = vmx_want_intr_window,
	.get_tpr = vmx_get_tpr,
	.want_tpr_window = vmx_want_tpr_window,
	.set_tpr = vmx_set_tpr,
	.get_reg = vmx_get_reg,
	.set_reg = vmx_set_reg,
	.get_seg = vmx_get_seg,
	.set_seg = vmx_set_seg,
	.dump = vmx_dump,
	.io_allow = vmx_io_allow_op,
	.hypercall_insn = { 0x0f, 0x01, 0xc1 }, /* VMCALL */
};

int vmx_probe(const struct vendor_ops **ops, struct vendor_caps *caps)
{
	struct vmx_caps *c = &vmx.caps;
	struct cpuid_regs r;
	char err[200];
	int rc;

	cpuid(1, &r);
	if (!(r.ecx & CPUID1_ECX_VMX)) {
		pr_err("no hardware virtualization: CPU has no VMX (CPUID.1:ECX.VMX = 0)\n");
		return -ENODEV;
	}
	rc = feature_control(false);
	if (rc)
		return rc;

	read_caps(c);
	/* The raw MSRs, for reproducing this CPU in tests/unit/test_vmx_controls.c. */
	pr_debug("VMX MSRs: basic 0x%lx pin 0x%lx/0x%lx proc 0x%lx/0x%lx proc2 0x%lx "
		 "exit 0x%lx/0x%lx entry 0x%lx/0x%lx (plain/TRUE)\n", c->basic, c->pinbased,
		 c->true_pinbased, c->procbased, c->true_procbased, c->procbased2, c->exit,
		 c->true_exit, c->entry, c->true_entry);
	pr_debug("VMX MSRs: misc 0x%lx ept_vpid 0x%lx cr0 fixed 0x%lx/0x%lx cr4 fixed 0x%lx/0x%lx\n",
		 c->misc, c->ept_vpid, c->cr0_fixed0, c->cr0_fixed1, c->cr4_fixed0, c->cr4_fixed1);
	vmx.revision = VMX_BASIC_REVISION(c->basic);
	/* A.1: the VMCS must fit our one page and be write-back memory, and
	 * we hand the CPU addresses above 4 GiB. */
	if (VMX_BASIC_REGION_SIZE(c->basic) > PAGE_SIZE ||
	    VMX_BASIC_MEMTYPE(c->basic) != 6 || (c->basic & VMX_BASIC_32BIT_ADDRESSES)) {
		pr_err("no hardware virtualization: unsupported IA32_VMX_BASIC 0x%lx "
		       "(needs a VMCS of at most 4 KiB in WB memory, 64-bit addresses)\n", c->basic);
		return -ENODEV;
	}

	rc = vmx_compute_controls(c, vmx_wanted_controls, vmx_wanted_controls_nr, &vmx.ctl,
				  err, sizeof(err));
	if (rc) {
		pr_err("no hardware virtualization: %s\n", err);
		return rc;
	}
	rc = check_ept(c);
	if (rc)
		return rc;
	/* cr.c relies on exits storing EFER.LMA into "IA-32e mode guest"
	 * when the guest enters long mode by itself (A.6: every CPU with
	 * unrestricted guest does). */
	if (!(c->misc & VMX_MISC_STORES_LMA)) {
		pr_err("no hardware virtualization: VMX exits do not store EFER.LMA "
		       "(IA32_VMX_MISC = 0x%lx, bit 5 clear)\n", c->misc);
		return -ENODEV;
	}

	const u32 *av = vmx.ctl.avail;
	vmx.vpid = (av[VMX_CTL_PROC2] & SEC_ENABLE_VPID) &&
		   (c->ept_vpid & VPID_CAP_INVVPID) &&
		   (c->ept_vpid & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL));
	if (!vmx.vpid) {
		/* Without a usable INVVPID, tagging would leave us no way to
		 * drop a domain's stale translations: do without VPID. */
		vmx.ctl.val[VMX_CTL_PROC2] &= ~SEC_ENABLE_VPID;
	}
	vmx.vnmi = av[VMX_CTL_PIN] & PIN_VIRTUAL_NMIS;
	vmx.nmi_window = av[VMX_CTL_PROC] & CPU_NMI_WINDOW_EXITING;
	vmx.ack_intr = av[VMX_CTL_EXIT] & EXIT_ACK_INTERRUPT_ON_EXIT;
	/* The guest's PAT goes to the hardware only when the CPU both loads
	 * it on entry and loads ours back on exit (SDM 24.7.1, 24.8.1):
	 * with only the first, the guest's memory types would stay in force
	 * for the hypervisor after an exit. Otherwise none of the three PAT
	 * controls is used and the guest's PAT stays virtual. */
	if ((av[VMX_CTL_ENTRY] & ENTRY_LOAD_IA32_PAT) && (av[VMX_CTL_EXIT] & EXIT_LOAD_IA32_PAT)) {
		vmx.pat_entry = vmx.pat_exit_load = true;
		vmx.pat_exit_save = av[VMX_CTL_EXIT] & EXIT_SAVE_IA32_PAT;
	} else {
		vmx.pat_entry = vmx.pat_exit_load = vmx.pat_exit_save = false;
		vmx.ctl.val[VMX_CTL_ENTRY] &= ~ENTRY_LOAD_IA32_PAT;
		vmx.ctl.val[VMX_CTL_EXIT] &= ~(EXIT_LOAD_IA32_PAT | EXIT_SAVE_IA32_PAT);
	}
	ept_guest_pat = vmx.pat_entry;
	vmx.lazy_tsc_aux = av[VMX_CTL_PROC2] & SEC_ENABLE_RDTSCP;
	vmx.preemption_timer = av[VMX_CTL_PIN] & PIN_PREEMPTION_TIMER;
	vmx.preemption_shift = VMX_MISC_PREEMPTION_SHIFT(c->misc);
	setup_fixed_bits();

	/* 29.3.2: 1 GiB EPT leaves only where the CPU has them. */
	caps->p2m_max_leaf_level = (c->ept_vpid & EPT_CAP_1G_PAGES) ? 3 : 2;
	/* VMX has no control that switches IA32_SPEC_CTRL (asm/spec.h). */
	caps->switches_spec_ctrl = false;

	pr_info("virtualization: VMX (EPT with %s pages, %s, unrestricted guest, %s, %s; "
		"VMCS revision 0x%x%s)\n",
		(c->ept_vpid & EPT_CAP_1G_PAGES) ? "2 MiB and 1 GiB" : "2 MiB",
		vmx.vpid ? "VPID" : "no VPID (TLB flushed on every transition)",
		vmx.vnmi ? "virtual NMIs" : "no virtual NMIs",
		vmx.preemption_timer ? "preemption timer" : "no preemption timer",
		vmx.revision, (c->basic & VMX_BASIC_TRUE_CTLS) ? ", TRUE controls" : "");
	if (vmx.preemption_timer)
		pr_debug("VMX: preemption timer counts every %u TSC ticks\n",
			 1u << vmx.preemption_shift);
	pr_debug("VMX controls: pin 0x%08x primary 0x%08x secondary 0x%08x exit 0x%08x "
		 "entry 0x%08x\n", vmx.ctl.val[VMX_CTL_PIN], vmx.ctl.val[VMX_CTL_PROC],
		 vmx.ctl.val[VMX_CTL_PROC2], vmx.ctl.val[VMX_CTL_EXIT], vmx.ctl.val[VMX_CTL_ENTRY]);
	*ops = &vmx_ops;
	return 0;
}

unsigned vmx_access_failures;

void vmx_access_failed(const char *insn, u32 field, u64 val)
{
	u64 err = 0;

	vmx_access_failures++;
	vmread_safe(VM_INSTRUCTION_ERROR, &err);
	pr_err("VMX: %s %s (0x%04x) value 0x%lx failed: VM-instruction error %lu (%s)\n", insn,
	       vmcs_field_name(field), field, val, err, vmx_insn_error_name((u32)err));
}
