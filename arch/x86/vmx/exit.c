/*
 * VM exits: the basic exit reason (SDM vol. 3 appendix C) and its exit
 * qualification (28.2.1) decoded into the arch-neutral struct vm_exit, and
 * the diagnostics of failed VM entries (VM-instruction errors, 31.4; entry
 * failures reported as exits, 27.8).
 */
#include <keel/domain.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/paging.h>
#include "vmcs.h"
#include "vmx.h"

#define CS_AR_L (1u << 13)

/* A decoder fills the parts of *e beyond reason/raw/qual/insn_len and
 * returns true when the back end has dealt with the exit itself. */
typedef bool (*decode_fn)(struct vcpu *v, struct vm_exit *e);

struct vmx_exit_desc {
	const char *name;         /* the SDM's name of the exit reason */
	enum exit_reason reason;  /* neutral reason (EXIT_UNKNOWN: not handled) */
	bool insn;                /* caused by an instruction: length is valid */
	decode_fn decode;         /* NULL: nothing beyond the reason */
};

static bool decode_exception(struct vcpu *v, struct vm_exit *e);
static bool decode_extint(struct vcpu *v, struct vm_exit *e);
static bool decode_preemption_timer(struct vcpu *v, struct vm_exit *e);
static bool decode_intr_window(struct vcpu *v, struct vm_exit *e);
static bool decode_nmi_window(struct vcpu *v, struct vm_exit *e);
static bool decode_cr(struct vcpu *v, struct vm_exit *e);
static bool decode_io(struct vcpu *v, struct vm_exit *e);
static bool decode_msr(struct vcpu *v, struct vm_exit *e);
static bool decode_entry_failure(struct vcpu *v, struct vm_exit *e);
static bool decode_vmcall(struct vcpu *v, struct vm_exit *e);
static bool decode_ept_violation(struct vcpu *v, struct vm_exit *e);
static bool decode_ept_misconfig(struct vcpu *v, struct vm_exit *e);

#define UNK EXIT_UNKNOWN
static const struct vmx_exit_desc exit_table[VMX_EXIT_REASON_NR] = {
	[VMX_EXIT_EXCEPTION_NMI] = { "exception or NMI", EXIT_EXCEPTION, false, decode_exception },
	[VMX_EXIT_EXTERNAL_INTERRUPT] = { "external interrupt", EXIT_EXTINT, false, decode_extint },
	[VMX_EXIT_TRIPLE_FAULT] = { "triple fault", EXIT_TRIPLE_FAULT, false, NULL },
	[VMX_EXIT_INIT] = { "INIT signal", UNK, false, NULL },
	[VMX_EXIT_SIPI] = { "start-up IPI", UNK, false, NULL },
	[VMX_EXIT_IO_SMI] = { "I/O SMI", UNK, false, NULL },
	[VMX_EXIT_OTHER_SMI] = { "other SMI", UNK, false, NULL },
	[VMX_EXIT_INTERRUPT_WINDOW] = { "interrupt window", EXIT_INTR_WINDOW, false,
					decode_intr_window },
	[VMX_EXIT_NMI_WINDOW] = { "NMI window", EXIT_NMI_WINDOW, false, decode_nmi_window },
	[VMX_EXIT_TASK_SWITCH] = { "task switch", UNK, false, NULL },
	[VMX_EXIT_CPUID] = { "CPUID", EXIT_CPUID, true, NULL },
	[VMX_EXIT_GETSEC] = { "GETSEC", UNK, true, NULL },
	[VMX_EXIT_HLT] = { "HLT", EXIT_HLT, true, NULL },
	[VMX_EXIT_INVD] = { "INVD", EXIT_CACHE_FLUSH, true, NULL },
	[VMX_EXIT_INVLPG] = { "INVLPG", UNK, true, NULL },
	[VMX_EXIT_RDPMC] = { "RDPMC", UNK, true, NULL },
	[VMX_EXIT_RDTSC] = { "RDTSC", UNK, true, NULL },
	[VMX_EXIT_RSM] = { "RSM", UNK, true, NULL },
	[VMX_EXIT_VMCALL] = { "VMCALL", EXIT_HYPERCALL, true, decode_vmcall },
	[VMX_EXIT_VMCLEAR] = { "VMCLEAR", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_VMLAUNCH] = { "VMLAUNCH", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_VMPTRLD] = { "VMPTRLD", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_VMPTRST] = { "VMPTRST", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_VMREAD] = { "VMREAD", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_VMRESUME] = { "VMRESUME", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_VMWRITE] = { "VMWRITE", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_VMXOFF] = { "VMXOFF", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_VMXON] = { "VMXON", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_CR_ACCESS] = { "control-register access", EXIT_CR_ACCESS, true, decode_cr },
	[VMX_EXIT_MOV_DR] = { "MOV DR", UNK, true, NULL },
	[VMX_EXIT_IO_INSTRUCTION] = { "I/O instruction", EXIT_IO, true, decode_io },
	[VMX_EXIT_RDMSR] = { "RDMSR", EXIT_MSR_READ, true, decode_msr },
	[VMX_EXIT_WRMSR] = { "WRMSR", EXIT_MSR_WRITE, true, decode_msr },
	[VMX_EXIT_INVALID_GUEST_STATE] = { "VM-entry failure due to invalid guest state",
					   EXIT_ENTRY_FAILED, false, decode_entry_failure },
	[VMX_EXIT_MSR_LOADING] = { "VM-entry failure due to MSR loading", EXIT_ENTRY_FAILED,
				   false, decode_entry_failure },
	/* Hidden by CPUID: #UD (kernel/exit.c handle_hidden_insn). */
	[VMX_EXIT_MWAIT] = { "MWAIT", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_MONITOR_TRAP_FLAG] = { "monitor trap flag", UNK, false, NULL },
	[VMX_EXIT_MONITOR] = { "MONITOR", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_PAUSE] = { "PAUSE", UNK, true, NULL },
	[VMX_EXIT_MACHINE_CHECK] = { "VM-entry failure due to machine-check event",
				     EXIT_ENTRY_FAILED, false, decode_entry_failure },
	/* The TPR window (inject.c): trap-like, RIP is past the MOV CR8. */
	[VMX_EXIT_TPR_BELOW_THRESHOLD] = { "TPR below threshold", EXIT_INTR_WINDOW, false,
					   vmx_tpr_below_threshold },
	[VMX_EXIT_APIC_ACCESS] = { "APIC access", UNK, false, NULL },
	[VMX_EXIT_VIRTUALIZED_EOI] = { "virtualized EOI", UNK, false, NULL },
	[VMX_EXIT_GDTR_IDTR] = { "access to GDTR or IDTR", UNK, true, NULL },
	[VMX_EXIT_LDTR_TR] = { "access to LDTR or TR", UNK, true, NULL },
	[VMX_EXIT_EPT_VIOLATION] = { "EPT violation", EXIT_NPF, false, decode_ept_violation },
	[VMX_EXIT_EPT_MISCONFIG] = { "EPT misconfiguration", EXIT_NONE, false,
				     decode_ept_misconfig },
	[VMX_EXIT_INVEPT] = { "INVEPT", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_RDTSCP] = { "RDTSCP", UNK, true, NULL },
	[VMX_EXIT_PREEMPTION_TIMER] = { "VMX-preemption timer expired", EXIT_PREEMPT, false,
					decode_preemption_timer },
	[VMX_EXIT_INVVPID] = { "INVVPID", EXIT_VIRT_INSN, true, NULL },
	/* With "WBINVD exiting" (controls.c); INVD above always exits. */
	[VMX_EXIT_WBINVD] = { "WBINVD or WBNOINVD", EXIT_CACHE_FLUSH, true, NULL },
	[VMX_EXIT_XSETBV] = { "XSETBV", EXIT_XSETBV, true, NULL },
	[VMX_EXIT_APIC_WRITE] = { "APIC write", UNK, false, NULL },
	[VMX_EXIT_RDRAND] = { "RDRAND", UNK, true, NULL },
	[VMX_EXIT_INVPCID] = { "INVPCID", UNK, true, NULL },
	[VMX_EXIT_VMFUNC] = { "VMFUNC", EXIT_VIRT_INSN, true, NULL },
	[VMX_EXIT_ENCLS] = { "ENCLS", UNK, true, NULL },
	[VMX_EXIT_RDSEED] = { "RDSEED", UNK, true, NULL },
	[VMX_EXIT_PML_FULL] = { "page-modification log full", UNK, false, NULL },
	[VMX_EXIT_XSAVES] = { "XSAVES", UNK, true, NULL },
	[VMX_EXIT_XRSTORS] = { "XRSTORS", UNK, true, NULL },
};
#undef UNK

static const char *exit_name(u32 basic)
{
	if (basic < VMX_EXIT_REASON_NR && exit_table[basic].name)
		return exit_table[basic].name;
	return "reserved exit reason";
}

/*
 * "NMI unblocking due to IRET" (28.2.3): the exit interrupted an IRET that
 * had already unblocked NMIs. With virtual NMIs, if the guest is resumed
 * to execute that IRET again, NMI blocking must be set back or an NMI
 * could nest inside the handler the IRET is leaving. Not when the exit
 * happened while delivering an event (that is reinjected instead).
 */
static void nmi_unblocked_by_iret(bool unblocked)
{
	if (!unblocked || !vmx.vnmi)
		return;
	if (vmread(IDT_VECTORING_INFO) & INTR_INFO_VALID)
		return;
	vmwrite(GUEST_INTERRUPTIBILITY_INFO,
		vmread(GUEST_INTERRUPTIBILITY_INFO) | INTR_BLOCKING_BY_NMI);
}

bool vmx_decode_exit(struct vcpu *v, struct vm_exit *e)
{
	u32 raw = (u32)vmread(VM_EXIT_REASON);
	u32 basic = VMX_EXIT_REASON_BASIC(raw);

	memset(e, 0, sizeof(*e));
	e->raw = raw;
	e->qual = vmread(EXIT_QUALIFICATION);

	/* Bit 31: the VM entry failed after the VMLAUNCH/VMRESUME checks
	 * (27.8); only reasons 33, 34 and 41 come this way. */
	if (raw & VMX_EXIT_REASON_ENTRY_FAILURE)
		return decode_entry_failure(v, e);

	if (basic >= VMX_EXIT_REASON_NR || !exit_table[basic].name) {
		e->reason = EXIT_UNKNOWN;
		pr_err("VMX: d%uv%u: exit reason %u is reserved in the SDM\n", v->dom->id, v->id,
		       basic);
		return false;
	}
	const struct vmx_exit_desc *d = &exit_table[basic];
	e->reason = d->reason;
	if (d->insn)
		e->insn_len = (u8)vmread(VM_EXIT_INSTRUCTION_LEN);
	if (d->reason == EXIT_UNKNOWN)
		pr_err("VMX: d%uv%u: exit '%s' (reason %u, qualification 0x%lx) is not handled\n",
		       v->dom->id, v->id, d->name, basic, e->qual);
	return d->decode ? d->decode(v, e) : false;
}

/* The CPL for the hypercall check: SS.DPL as vmx_get_seg reports it. */
static bool decode_vmcall(struct vcpu *v, struct vm_exit *e)
{
	struct vseg ss;

	vmx_get_seg(v, VSEG_SS, &ss);
	e->cpl = (ss.attr >> 5) & 3;
	return false;
}

static bool decode_exception(struct vcpu *v, struct vm_exit *e)
{
	u32 info = (u32)vmread(VM_EXIT_INTR_INFO);
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	(void)v;

	if (type == INTR_TYPE_NMI) {
		/* A host NMI (NMI exiting): it was meant for the hypervisor,
		 * which takes it through its own IDT as if it had arrived
		 * there. */
		e->reason = EXIT_NMI;
		vmx_dispatch_host_vector(X86_EXC_NMI);
		return false;
	}
	e->exc.vector = info & INTR_INFO_VECTOR_MASK;
	e->exc.has_error = info & INTR_INFO_DELIVER_CODE;
	if (e->exc.has_error)
		e->exc.error_code = (u32)vmread(VM_EXIT_INTR_ERROR_CODE);
	/* 28.2.1: for #PF the qualification is the linear address; CR2 is
	 * not written by an intercepted #PF. */
	if (e->exc.vector == X86_EXC_PF)
		e->exc.cr2 = e->qual;
	/* A #DB that causes an exit leaves DR6 alone and reports its B0-B3,
	 * BD and BS bits in the qualification instead (28.2.1, table 28-1).
	 * The guest's DR6 is in the register (debugreg.c, owner v): put the
	 * bits there as the delivery would have, before the kernel reflects
	 * the #DB, so the guest's handler finds the cause. */
	if (e->exc.vector == X86_EXC_DB && type == INTR_TYPE_HW_EXCEPTION)
		debugregs_write_dr6((debugregs_read_dr6() & ~0xfULL) | (e->qual & DR6_TRAP_BITS));
	/* INT3/INTO/INT1 are instructions: their length is reported. */
	if (type == INTR_TYPE_SW_EXCEPTION || type == INTR_TYPE_PRIV_SW_EXCEPTION)
		e->insn_len = (u8)vmread(VM_EXIT_INSTRUCTION_LEN);
	nmi_unblocked_by_iret(info & INTR_INFO_NMI_UNBLOCKED_BY_IRET);
	return false;
}

/*
 * With "acknowledge interrupt on exit" the CPU has already taken the
 * vector from the interrupt controller (28.2.2): hand it to the host's
 * IDT now, as if the interrupt had arrived in the hypervisor. Without it,
 * the interrupt is still pending; let it in for one instruction (the
 * hypervisor otherwise runs with IF = 0).
 */
static bool decode_extint(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	if (vmx.ack_intr) {
		u32 info = (u32)vmread(VM_EXIT_INTR_INFO);
		if (!(info & INTR_INFO_VALID))
			return false;
		e->qual = info & INTR_INFO_VECTOR_MASK;
		if (e->qual >= 32) {
			vmx_dispatch_host_vector((u8)e->qual);
			return false;
		}
		/*
		 * An interrupt below 32 collides with an exception vector:
		 * the legacy 8259 PIC left at the BIOS's base (IRQ 0 = vector
		 * 8) does this. Running the exception handler would crash
		 * the hypervisor; the interrupt was acknowledged and is never
		 * EOIed, which also keeps that PIC quiet from now on.
		 */
		static bool warned;
		if (!warned) {
			warned = true;
			pr_warn("VMX: dropped host interrupt vector %lu (< 32: is the legacy "
				"PIC unmasked at its BIOS base?)\n", e->qual);
		}
	} else {
		__asm__ volatile("sti; nop; cli" ::: "memory");
	}
	return false;
}

/*
 * The time-slice backstop expired (preempt.c). Where the emulator held a
 * host interrupt back instead of exiting for it (Bochs 2.7 with the
 * guest's IF = 0), it is still pending in the LAPIC: let it in for one
 * instruction, as the no-acknowledge path above does, so its handler runs
 * now (the scheduler's timer flag, a device's pirq) rather than at some
 * later entry. On hardware nothing is pending here and this costs a few
 * cycles.
 */
static bool decode_preemption_timer(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	(void)e;
	__asm__ volatile("sti; nop; cli" ::: "memory");
	return false;
}

static bool decode_intr_window(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	return vmx_window_exit(v, false);
}

static bool decode_nmi_window(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	return vmx_window_exit(v, true);
}

/* Running 64-bit code: IA-32e mode and CS.L (SDM 3.4.5). */
static bool in_64bit_mode(void)
{
	return (vmread(GUEST_IA32_EFER) & EFER_LMA) && (vmread(GUEST_CS_AR_BYTES) & CS_AR_L);
}

/*
 * Control-register exits (table 28-3). MOV to CR0/CR4 exits only when it
 * would change a bit the masks make ours (cr.c); MOV to/from CR3 only if
 * the CPU forced CR3 exiting on. A value the CPU would refuse with #GP is
 * refused here (the #GP checks come after the exit, 26.1.1); valid ones go
 * to the kernel, which writes them through set_reg().
 */
static bool decode_cr(struct vcpu *v, struct vm_exit *e)
{
	u64 q = e->qual;
	unsigned cr = CR_QUAL_CR(q), gpr = CR_QUAL_GPR(q);

	switch (CR_QUAL_TYPE(q)) {
	case CR_TYPE_MOV_TO_CR: {
		if (cr != 0 && cr != 3 && cr != 4)
			break;
		if (gpr != GPR_RSP && !in_64bit_mode())
			/* Outside 64-bit mode only the low half exists; the
			 * upper half is undefined architecturally, so keep
			 * the kernel from reading stale bits there. */
			v->arch.gprs[gpr] &= 0xffffffffULL;
		u64 val = gpr == GPR_RSP ? vmread(GUEST_RSP) : v->arch.gprs[gpr];
		if (!vmx_cr_write_valid(v, cr, val)) {
			vmx_queue_exception(v, X86_EXC_GP, true, 0);
			return true;
		}
		e->cr.cr = cr;
		e->cr.write = true;
		e->cr.gpr = gpr;
		return false;
	}
	case CR_TYPE_MOV_FROM_CR:
		if (cr != 3)
			break;
		e->cr.cr = cr;
		e->cr.write = false;
		e->cr.gpr = gpr;
		return false;
	default:
		break;
	}
	/* CLTS and LMSW only touch CR0 bits 0-3, none of which the masks
	 * claim on any CPU we know; and CR8 never exits: with the TPR shadow
	 * (controls.c) MOV to/from CR8 use the vCPU's virtual-APIC page. */
	e->reason = EXIT_UNKNOWN;
	pr_err("VMX: d%uv%u: unexpected control-register exit (qualification 0x%lx)\n",
	       v->dom->id, v->id, q);
	return false;
}

/* I/O instructions (table 28-5). */
static bool decode_io(struct vcpu *v, struct vm_exit *e)
{
	u64 q = e->qual;
	(void)v;

	e->io.port = IO_QUAL_PORT(q);
	e->io.size = IO_QUAL_SIZE(q);
	e->io.in = q & IO_QUAL_IN;
	e->io.string = q & IO_QUAL_STRING;
	e->io.rep = q & IO_QUAL_REP;
	return false;
}

static bool decode_msr(struct vcpu *v, struct vm_exit *e)
{
	e->msr.index = (u32)v->arch.gprs[GPR_RCX];
	return false;
}

static bool decode_ept_violation(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	ept_npf_decode(e->qual, &e->npf);
	e->npf.gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	if (e->npf.gva_valid)
		e->npf.gva = vmread(GUEST_LINEAR_ADDRESS);
	nmi_unblocked_by_iret(e->qual & EPT_QUAL_NMI_UNBLOCKED_BY_IRET);
	return false;
}

static bool decode_ept_misconfig(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	ept_misconfig(v, vmread(GUEST_PHYSICAL_ADDRESS));
}

/* ---- failed VM entries -------------------------------------------------------- */

/* VM-instruction error numbers (SDM vol. 3 31.4, table 31-1). */
static const char *const insn_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_insn_error_name(u32 err)
{
	if (err < ARRAY_SIZE(insn_errors) && insn_errors[err])
		return insn_errors[err];
	return err ? "reserved error number" : "no error recorded";
}

static void dump_host_state(void)
{
	static const u32 host[] = {
		HOST_CR0, HOST_CR3, HOST_CR4, HOST_CS_SELECTOR, HOST_SS_SELECTOR,
		HOST_DS_SELECTOR, HOST_ES_SELECTOR, HOST_FS_SELECTOR, HOST_GS_SELECTOR,
		HOST_TR_SELECTOR, HOST_FS_BASE, HOST_GS_BASE, HOST_TR_BASE, HOST_GDTR_BASE,
		HOST_IDTR_BASE, HOST_IA32_SYSENTER_CS, HOST_IA32_SYSENTER_ESP,
		HOST_IA32_SYSENTER_EIP, HOST_IA32_EFER, HOST_IA32_PAT, HOST_RSP, HOST_RIP,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(host); i++) {
		u64 val;
		if (vmread_safe(host[i], &val))
			printk(LOG_ERR, "keel:   %-30s 0x%lx\n", vmcs_field_name(host[i]), val);
	}
}

/*
 * VMLAUNCH/VMRESUME refused before loading any guest state (27.1, 27.2):
 * VMfailInvalid has no VMCS to say why; VMfailValid leaves the reason in
 * VM_INSTRUCTION_ERROR. The kernel then calls dump() for the guest side.
 */
void vmx_report_entry_fail(struct vcpu *v, int rc)
{
	const char *insn = vmx_vcpu(v)->launched ? "VMRESUME" : "VMLAUNCH";

	if (rc == 1) {
		pr_err("VMX: d%uv%u: %s failed with VMfailInvalid (no current VMCS; "
		       "VMCS 0x%lx)\n", v->dom->id, v->id, insn, v->arch.vmcx_pa);
		return;
	}
	u32 err = (u32)vmread(VM_INSTRUCTION_ERROR);
	pr_err("VMX: d%uv%u: %s failed: VM-instruction error %u (%s)\n", v->dom->id, v->id,
	       insn, err, vmx_insn_error_name(err));
	if (err == 7) {
		if (!vmx_check_controls())
			pr_err("VMX: no control breaks the capability MSRs; check the "
			       "control-field consistency rules of SDM 27.2.1.1\n");
	} else if (err == 8) {
		pr_err("VMX: host-state fields (SDM 27.2.2-27.2.4):\n");
		dump_host_state();
	}
}

static const char *entry_qual_name(u64 q)
{
	switch (q) {
	case ENTRY_FAIL_QUAL_PDPTE:
		return "loading the PDPTEs failed";
	case ENTRY_FAIL_QUAL_NMI_STI:
		return "injecting an NMI while blocked by STI";
	case ENTRY_FAIL_QUAL_LINK_POINTER:
		return "invalid VMCS link pointer";
	default:
		return "no further detail";
	}
}

/*
 * Entry failed while or after loading the guest state: reason 33 (a
 * guest-state check of 27.3.1 failed), 34 (an MSR in the entry load list;
 * the qualification is its 1-based index) or 41 (machine check). The CPU
 * does not say which field was wrong; the checker names the rules the
 * current state breaks, and dump() lists every field.
 */
static bool decode_entry_failure(struct vcpu *v, struct vm_exit *e)
{
	u32 basic = VMX_EXIT_REASON_BASIC((u32)e->raw);

	e->reason = EXIT_ENTRY_FAILED;
	pr_err("VMX: d%uv%u: %s (exit reason %u, qualification %lu: %s)\n", v->dom->id, v->id,
	       exit_name(basic), basic, e->qual,
	       basic == VMX_EXIT_INVALID_GUEST_STATE ? entry_qual_name(e->qual)
						     : "see SDM 27.8");
	if (basic == VMX_EXIT_INVALID_GUEST_STATE && !vmx_check_guest_state())
		pr_err("VMX: Keel's checker found no broken guest-state rule; see SDM 27.3.1\n");
	return false;
}
