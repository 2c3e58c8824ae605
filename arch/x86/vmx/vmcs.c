/*
 * The VMCS of a vCPU: creation with the host state and the PVH start
 * state, the register and segment accessors of vendor_ops, and dumps that
 * name every field (Intel SDM vol. 3 chapter 25).
 */
#include <keel/domain.h>
#include <lib/errno.h>
#include <keel/frame.h>
#include <lib/string.h>
#include <keel/printk.h>
#include <asm/cpu.h>
#include <asm/debugreg.h>
#include <asm/traps.h>
#include <asm/vendor.h>
#include "vmcs.h"
#include "vmx.h"

/* ---- field names --------------------------------------------------------- */

#define F(x) { x, #x }
static const struct {
	u32 enc;
	const char *name;
} fields[] = {
	F(VIRTUAL_PROCESSOR_ID), F(POSTED_INTR_NOTIFICATION_VECTOR), F(EPTP_INDEX),
	F(GUEST_ES_SELECTOR), F(GUEST_CS_SELECTOR), F(GUEST_SS_SELECTOR),
	F(GUEST_DS_SELECTOR), F(GUEST_FS_SELECTOR), F(GUEST_GS_SELECTOR),
	F(GUEST_LDTR_SELECTOR), F(GUEST_TR_SELECTOR), F(GUEST_INTR_STATUS),
	F(GUEST_PML_INDEX),
	F(HOST_ES_SELECTOR), F(HOST_CS_SELECTOR), F(HOST_SS_SELECTOR), F(HOST_DS_SELECTOR),
	F(HOST_FS_SELECTOR), F(HOST_GS_SELECTOR), F(HOST_TR_SELECTOR),
	F(IO_BITMAP_A), F(IO_BITMAP_B), F(MSR_BITMAP), F(VM_EXIT_MSR_STORE_ADDR),
	F(VM_EXIT_MSR_LOAD_ADDR), F(VM_ENTRY_MSR_LOAD_ADDR), F(EXECUTIVE_VMCS_POINTER),
	F(PML_ADDRESS), F(TSC_OFFSET), F(VIRTUAL_APIC_PAGE_ADDR), F(APIC_ACCESS_ADDR),
	F(POSTED_INTR_DESC_ADDR), F(VM_FUNCTION_CONTROL), F(EPT_POINTER), F(EOI_EXIT_BITMAP0),
	F(EPTP_LIST_ADDR), F(VMREAD_BITMAP), F(VMWRITE_BITMAP), F(VIRT_EXCEPTION_INFO_ADDR),
	F(XSS_EXIT_BITMAP), F(TSC_MULTIPLIER),
	F(GUEST_PHYSICAL_ADDRESS),
	F(VMCS_LINK_POINTER), F(GUEST_IA32_DEBUGCTL), F(GUEST_IA32_PAT), F(GUEST_IA32_EFER),
	F(GUEST_IA32_PERF_GLOBAL_CTRL), F(GUEST_PDPTE0), F(GUEST_PDPTE1), F(GUEST_PDPTE2),
	F(GUEST_PDPTE3), F(GUEST_IA32_BNDCFGS),
	F(HOST_IA32_PAT), F(HOST_IA32_EFER), F(HOST_IA32_PERF_GLOBAL_CTRL),
	F(PIN_BASED_VM_EXEC_CONTROL), F(CPU_BASED_VM_EXEC_CONTROL), F(EXCEPTION_BITMAP),
	F(PAGE_FAULT_ERROR_CODE_MASK), F(PAGE_FAULT_ERROR_CODE_MATCH), F(CR3_TARGET_COUNT),
	F(VM_EXIT_CONTROLS), F(VM_EXIT_MSR_STORE_COUNT), F(VM_EXIT_MSR_LOAD_COUNT),
	F(VM_ENTRY_CONTROLS), F(VM_ENTRY_MSR_LOAD_COUNT), F(VM_ENTRY_INTR_INFO),
	F(VM_ENTRY_EXCEPTION_ERROR_CODE), F(VM_ENTRY_INSTRUCTION_LEN), F(TPR_THRESHOLD),
	F(SECONDARY_VM_EXEC_CONTROL), F(PLE_GAP), F(PLE_WINDOW),
	F(VM_INSTRUCTION_ERROR), F(VM_EXIT_REASON), F(VM_EXIT_INTR_INFO),
	F(VM_EXIT_INTR_ERROR_CODE), F(IDT_VECTORING_INFO), F(IDT_VECTORING_ERROR_CODE),
	F(VM_EXIT_INSTRUCTION_LEN), F(VMX_INSTRUCTION_INFO),
	F(GUEST_ES_LIMIT), F(GUEST_CS_LIMIT), F(GUEST_SS_LIMIT), F(GUEST_DS_LIMIT),
	F(GUEST_FS_LIMIT), F(GUEST_GS_LIMIT), F(GUEST_LDTR_LIMIT), F(GUEST_TR_LIMIT),
	F(GUEST_GDTR_LIMIT), F(GUEST_IDTR_LIMIT),
	F(GUEST_ES_AR_BYTES), F(GUEST_CS_AR_BYTES), F(GUEST_SS_AR_BYTES), F(GUEST_DS_AR_BYTES),
	F(GUEST_FS_AR_BYTES), F(GUEST_GS_AR_BYTES), F(GUEST_LDTR_AR_BYTES), F(GUEST_TR_AR_BYTES),
	F(GUEST_INTERRUPTIBILITY_INFO), F(GUEST_ACTIVITY_STATE), F(GUEST_SMBASE),
	F(GUEST_SYSENTER_CS), F(GUEST_PREEMPTION_TIMER),
	F(HOST_IA32_SYSENTER_CS),
	F(CR0_GUEST_HOST_MASK), F(CR4_GUEST_HOST_MASK), F(CR0_READ_SHADOW), F(CR4_READ_SHADOW),
	F(CR3_TARGET_VALUE0),
	F(EXIT_QUALIFICATION), F(IO_RCX), F(IO_RSI), F(IO_RDI), F(IO_RIP), F(GUEST_LINEAR_ADDRESS),
	F(GUEST_CR0), F(GUEST_CR3), F(GUEST_CR4), F(GUEST_ES_BASE), F(GUEST_CS_BASE),
	F(GUEST_SS_BASE), F(GUEST_DS_BASE), F(GUEST_FS_BASE), F(GUEST_GS_BASE),
	F(GUEST_LDTR_BASE), F(GUEST_TR_BASE), F(GUEST_GDTR_BASE), F(GUEST_IDTR_BASE),
	F(GUEST_DR7), F(GUEST_RSP), F(GUEST_RIP), F(GUEST_RFLAGS),
	F(GUEST_PENDING_DBG_EXCEPTIONS), F(GUEST_SYSENTER_ESP), F(GUEST_SYSENTER_EIP),
	F(HOST_CR0), F(HOST_CR3), F(HOST_CR4), F(HOST_FS_BASE), F(HOST_GS_BASE),
	F(HOST_TR_BASE), F(HOST_GDTR_BASE), F(HOST_IDTR_BASE), F(HOST_IA32_SYSENTER_ESP),
	F(HOST_IA32_SYSENTER_EIP), F(HOST_RSP), F(HOST_RIP),
};
#undef F

const char *vmcs_field_name(u32 field)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].enc == field)
			return fields[i].name;
	return "unknown field";
}

static void dump_fields_of_type(unsigned type)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++) {
		u64 val;
		if (VMCS_FIELD_TYPE(fields[i].enc) != type)
			continue;
		/* Fields this CPU does not have fail VMREAD: skip them. */
		if (vmread_safe(fields[i].enc, &val))
			printk(LOG_ERR, "keel:   %-30s 0x%lx\n", fields[i].name, val);
	}
}

void vmcs_dump_guest_state(void)
{
	dump_fields_of_type(VMCS_TYPE_GUEST);
}

/* ---- loading -------------------------------------------------------------------- */

void vmcs_load(struct vcpu *v)
{
	if (vmx_this_cpu.current_vmcs == v->arch.vmcx_pa)
		return;
	if (!vmx_ptrld(v->arch.vmcx_pa))
		panic("VMX: VMPTRLD 0x%lx for d%uv%u failed", v->arch.vmcx_pa, v->dom->id, v->id);
	vmx_this_cpu.current_vmcs = v->arch.vmcx_pa;
}

/* ---- segments ------------------------------------------------------------------ */

/* VMCS encodings of each segment's fields, indexed by enum vseg_id. GDTR
 * and IDTR have only base and limit (selector/AR 0 = none). */
static const struct {
	u16 sel, limit, ar, base;
} seg_fields[VSEG_NR] = {
	[VSEG_ES] = { GUEST_ES_SELECTOR, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES, GUEST_ES_BASE },
	[VSEG_CS] = { GUEST_CS_SELECTOR, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES, GUEST_CS_BASE },
	[VSEG_SS] = { GUEST_SS_SELECTOR, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES, GUEST_SS_BASE },
	[VSEG_DS] = { GUEST_DS_SELECTOR, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES, GUEST_DS_BASE },
	[VSEG_FS] = { GUEST_FS_SELECTOR, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES, GUEST_FS_BASE },
	[VSEG_GS] = { GUEST_GS_SELECTOR, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES, GUEST_GS_BASE },
	[VSEG_LDTR] = { GUEST_LDTR_SELECTOR, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES,
			GUEST_LDTR_BASE },
	[VSEG_TR] = { GUEST_TR_SELECTOR, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES, GUEST_TR_BASE },
	[VSEG_GDTR] = { 0, GUEST_GDTR_LIMIT, 0, GUEST_GDTR_BASE },
	[VSEG_IDTR] = { 0, GUEST_IDTR_LIMIT, 0, GUEST_IDTR_BASE },
};

/*
 * struct vseg.attr uses the VMCB layout (type..P in bits 0-7, AVL, L, D/B,
 * G in bits 8-11); the VMCS access rights have AVL..G in bits 12-15 and
 * "unusable" in bit 16 (SDM table 25-2). attr 0 means unusable.
 */
static u32 attr_to_ar(u16 attr)
{
	if (!attr)
		return AR_UNUSABLE;
	return (attr & 0xffu) | ((u32)(attr & 0xf00u) << 4);
}

static u16 ar_to_attr(u32 ar)
{
	if (ar & AR_UNUSABLE)
		return 0;
	return (ar & 0xffu) | ((ar >> 4) & 0xf00u);
}

void vmx_get_seg(struct vcpu *v, enum vseg_id s, struct vseg *seg)
{
	if ((unsigned)s >= VSEG_NR) {
		memset(seg, 0, sizeof(*seg));
		return;
	}
	vmcs_load(v);
	seg->sel = seg_fields[s].sel ? (u16)vmread(seg_fields[s].sel) : 0;
	seg->attr = seg_fields[s].ar ? ar_to_attr((u32)vmread(seg_fields[s].ar)) : 0;
	seg->limit = (u32)vmread(seg_fields[s].limit);
	seg->base = vmread(seg_fields[s].base);
}

void vmx_set_seg(struct vcpu *v, enum vseg_id s, const struct vseg *seg)
{
	if ((unsigned)s >= VSEG_NR)
		return;
	vmcs_load(v);
	if (seg_fields[s].sel)
		vmwrite(seg_fields[s].sel, seg->sel);
	if (seg_fields[s].ar)
		vmwrite(seg_fields[s].ar, attr_to_ar(seg->attr));
	vmwrite(seg_fields[s].limit, seg->limit);
	vmwrite(seg_fields[s].base, seg->base);
}

/* ---- registers ---------------------------------------------------------------- */

u64 vmx_get_reg(struct vcpu *v, enum vreg r)
{
	vmcs_load(v);
	switch (r) {
	case VREG_RIP:
		return vmread(GUEST_RIP);
	case VREG_RSP:
		return vmread(GUEST_RSP);
	case VREG_RFLAGS:
		return vmread(GUEST_RFLAGS);
	case VREG_CR0:
		return vmx_guest_cr0();
	case VREG_CR2:
		return vmx_vcpu(v)->cr2;
	case VREG_CR3:
		return vmread(GUEST_CR3);
	case VREG_CR4:
		return vmx_guest_cr4();
	case VREG_EFER:
		return vmread(GUEST_IA32_EFER);
	case VREG_PAT:
		/* Without the PAT controls the value is only kept (EPT then
		 * ignores the guest's PAT, ept.c): the guest reads back what
		 * it wrote. */
		return vmx.pat_entry ? vmread(GUEST_IA32_PAT) : vmx_vcpu(v)->pat;
	default:
		return 0;
	}
}

void vmx_set_reg(struct vcpu *v, enum vreg r, u64 val)
{
	vmcs_load(v);
	switch (r) {
	case VREG_RIP:
		vmwrite(GUEST_RIP, val);
		/*
		 * Moving RIP means the instruction at the old RIP completed
		 * (the kernel skips an intercepted instruction this way), so
		 * the one-instruction shadow of an STI or MOV SS before it
		 * has ended (SDM 25.4.2). Leaving it set would also make the
		 * injection of an interrupt after "sti; hlt" fail the VM-entry
		 * checks (27.3.1.5).
		 */
		vmwrite(GUEST_INTERRUPTIBILITY_INFO, vmread(GUEST_INTERRUPTIBILITY_INFO) &
				~(u64)(INTR_BLOCKING_BY_STI | INTR_BLOCKING_BY_MOV_SS));
		break;
	case VREG_RSP:
		vmwrite(GUEST_RSP, val);
		break;
	case VREG_RFLAGS:
		vmwrite(GUEST_RFLAGS, val | 2); /* bit 1 is always 1 */
		break;
	case VREG_CR0:
		vmx_write_cr0(v, val);
		break;
	case VREG_CR2:
		vmx_vcpu(v)->cr2 = val;
		break;
	case VREG_CR3:
		vmx_write_cr3(v, val);
		break;
	case VREG_CR4:
		vmx_write_cr4(v, val);
		break;
	case VREG_EFER:
		vmx_write_efer(v, val);
		break;
	case VREG_PAT:
		if (vmx.pat_entry)
			vmwrite(GUEST_IA32_PAT, val);
		else
			vmx_vcpu(v)->pat = val;
		break;
	default:
		break;
	}
}

/* ---- creation ------------------------------------------------------------------- */

struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

static u16 read_sel(int which)
{
	u16 s = 0;
	switch (which) {
	case 0: __asm__ volatile("mov %%cs, %0" : "=r"(s)); break;
	case 1: __asm__ volatile("mov %%ss, %0" : "=r"(s)); break;
	case 2: __asm__ volatile("mov %%ds, %0" : "=r"(s)); break;
	case 3: __asm__ volatile("mov %%es, %0" : "=r"(s)); break;
	case 4: __asm__ volatile("mov %%fs, %0" : "=r"(s)); break;
	case 5: __asm__ volatile("mov %%gs, %0" : "=r"(s)); break;
	default: __asm__ volatile("str %0" : "=r"(s)); break;
	}
	return s;
}

/*
 * The host state loaded on every VM exit (SDM 25.5, 28.5): the
 * hypervisor's current control registers, selectors and descriptor
 * tables. HOST_RSP is written by vmx_enter on each entry (the stack depth
 * can differ); HOST_RIP is the exit path of vmx_run.asm.
 */
static int write_host_state(void)
{
	struct desc_ptr gdtr, idtr;
	u16 tr = read_sel(6);

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	if (!tr) {
		/* 27.2.3: the host TR selector cannot be 0. */
		pr_err("VMX: the hypervisor has no TSS loaded (TR = 0); VM exits need one\n");
		return -EINVAL;
	}

	vmwrite(HOST_CR0, read_cr0());
	vmwrite(HOST_CR3, read_cr3());
	vmwrite(HOST_CR4, read_cr4());
	/* 27.2.3: selectors with RPL and TI 0; CS and TR never null. */
	vmwrite(HOST_CS_SELECTOR, read_sel(0) & 0xf8);
	vmwrite(HOST_SS_SELECTOR, read_sel(1) & 0xf8);
	vmwrite(HOST_DS_SELECTOR, read_sel(2) & 0xf8);
	vmwrite(HOST_ES_SELECTOR, read_sel(3) & 0xf8);
	vmwrite(HOST_FS_SELECTOR, read_sel(4) & 0xf8);
	vmwrite(HOST_GS_SELECTOR, read_sel(5) & 0xf8);
	vmwrite(HOST_TR_SELECTOR, tr & 0xf8);

	/* The TR base from its 16-byte system descriptor (SDM 8.2.3). */
	const u8 *d = (const u8 *)(uintptr_t)(gdtr.base + (tr & ~7u));
	u64 tr_base = d[2] | ((u64)d[3] << 8) | ((u64)d[4] << 16) | ((u64)d[7] << 24) |
		      ((u64)(d[8] | (d[9] << 8) | (d[10] << 16) | ((u32)d[11] << 24)) << 32);
	vmwrite(HOST_TR_BASE, tr_base);
	vmwrite(HOST_GDTR_BASE, gdtr.base);
	vmwrite(HOST_IDTR_BASE, idtr.base);
	vmwrite(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(HOST_IA32_SYSENTER_CS, rdmsr(MSR_IA32_SYSENTER_CS));
	vmwrite(HOST_IA32_SYSENTER_ESP, rdmsr(MSR_IA32_SYSENTER_ESP));
	vmwrite(HOST_IA32_SYSENTER_EIP, rdmsr(MSR_IA32_SYSENTER_EIP));
	vmwrite(HOST_IA32_EFER, rdmsr(MSR_EFER));
	if (vmx.pat_exit_load)
		vmwrite(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(HOST_RIP, (u64)(uintptr_t)vmx_exit_entry);
	return 0;
}

/* Access rights of the PVH start segments (SDM table 25-2): present, DPL
 * 0, accessed (27.3.1.2 wants the accessed bit on usable code/data). */
#define AR_CODE32 0xc09b /* G, D, P, S, type 11 execute/read accessed */
#define AR_DATA32 0xc093 /* G, D/B, P, S, type 3 read/write accessed */
#define AR_TSS32_BUSY 0x008b /* P, type 11 busy 32-bit TSS */

/* The flat selectors the PVH state uses; PVH leaves their values open, we
 * pick the conventional GDT layout (code 0x08, data 0x10, TSS 0x18). */
#define PVH_CS 0x08
#define PVH_DS 0x10
#define PVH_TR 0x18

/*
 * The PVH entry state (docs/misc/pvh.pandoc; ABI-NOTES section 2): 32-bit
 * protected mode with paging off, flat 4 GiB CS/DS/ES/SS, a 32-bit TSS,
 * CR0 = PE|ET, CR4 = 0, EFLAGS = 0x2. Unrestricted guest lets the CPU run
 * this without paging (27.3.1.1); EFER = 0, so "IA-32e mode guest" is 0.
 */
static void write_guest_state(struct vcpu *v)
{
	static const enum vseg_id data_segs[] = { VSEG_ES, VSEG_SS, VSEG_DS, VSEG_FS, VSEG_GS };

	for (unsigned i = 0; i < ARRAY_SIZE(data_segs); i++) {
		u16 s = data_segs[i];
		vmwrite(seg_fields[s].sel, PVH_DS);
		vmwrite(seg_fields[s].base, 0);
		vmwrite(seg_fields[s].limit, 0xffffffff);
		vmwrite(seg_fields[s].ar, AR_DATA32);
	}
	vmwrite(GUEST_CS_SELECTOR, PVH_CS);
	vmwrite(GUEST_CS_BASE, 0);
	vmwrite(GUEST_CS_LIMIT, 0xffffffff);
	vmwrite(GUEST_CS_AR_BYTES, AR_CODE32);
	vmwrite(GUEST_TR_SELECTOR, PVH_TR);
	vmwrite(GUEST_TR_BASE, 0);
	vmwrite(GUEST_TR_LIMIT, 0x67);
	vmwrite(GUEST_TR_AR_BYTES, AR_TSS32_BUSY);
	vmwrite(GUEST_LDTR_SELECTOR, 0);
	vmwrite(GUEST_LDTR_BASE, 0);
	vmwrite(GUEST_LDTR_LIMIT, 0);
	vmwrite(GUEST_LDTR_AR_BYTES, AR_UNUSABLE);
	vmwrite(GUEST_GDTR_BASE, 0);
	vmwrite(GUEST_GDTR_LIMIT, 0);
	vmwrite(GUEST_IDTR_BASE, 0);
	vmwrite(GUEST_IDTR_LIMIT, 0);

	/* Control registers through the same path the kernel uses, so the
	 * fixed bits and shadows are set up in one place (cr.c). EFER first:
	 * the CR0 write derives EFER.LMA from it. */
	vmwrite(GUEST_IA32_EFER, 0);
	vmx_write_cr4(v, 0);
	vmx_write_cr3(v, 0);
	vmx_write_cr0(v, CR0_PE | CR0_ET);
	vmwrite(CR0_GUEST_HOST_MASK, vmx.cr0_host_owned);
	vmwrite(CR4_GUEST_HOST_MASK, vmx.cr4_host_owned);

	vmwrite(GUEST_RIP, 0);
	vmwrite(GUEST_RSP, 0);
	vmwrite(GUEST_RFLAGS, 0x2);
	vmwrite(GUEST_DR7, 0x400);
	vmwrite(GUEST_IA32_DEBUGCTL, 0);
	vmwrite(GUEST_SYSENTER_CS, 0);
	vmwrite(GUEST_SYSENTER_ESP, 0);
	vmwrite(GUEST_SYSENTER_EIP, 0);
	if (vmx.pat_entry || vmx.pat_exit_save)
		vmwrite(GUEST_IA32_PAT, PAT_POWER_ON); /* the reset value */
	vmx_vcpu(v)->pat = PAT_POWER_ON;
	for (unsigned i = 0; i < 4; i++)
		vmwrite(GUEST_PDPTE0 + 2 * i, 0);
	vmwrite(GUEST_ACTIVITY_STATE, 0); /* active */
	vmwrite(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmwrite(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	/* 27.3.1.5: without VMCS shadowing the link pointer must be all 1s. */
	vmwrite(VMCS_LINK_POINTER, ~0ULL);
}

static void write_controls(struct vcpu *v)
{
	struct vmx_vcpu *p = vmx_vcpu(v);
	const struct vmx_controls *c = &vmx.ctl;

	p->proc_ctls = c->val[VMX_CTL_PROC];
	vmwrite(PIN_BASED_VM_EXEC_CONTROL, c->val[VMX_CTL_PIN]);
	vmwrite(CPU_BASED_VM_EXEC_CONTROL, p->proc_ctls);
	vmwrite(SECONDARY_VM_EXEC_CONTROL, c->val[VMX_CTL_PROC2]);
	vmwrite(VM_EXIT_CONTROLS, c->val[VMX_CTL_EXIT]);
	vmwrite(VM_ENTRY_CONTROLS, c->val[VMX_CTL_ENTRY]);

	/* #UD: a guest using VMMCALL (the AMD hypercall) on Intel gets it
	 * handled by the kernel as Xen does (kernel/exit.c). #DB and #AC:
	 * a guest can make their delivery raise the same exception again,
	 * forever, inside microcode where no interrupt gets in
	 * (CVE-2015-8104, CVE-2015-5307); intercepting them turns each
	 * delivery into an exit, and the kernel reflects them. */
	vmwrite(EXCEPTION_BITMAP, (1u << X86_EXC_UD) | (1u << X86_EXC_DB) | (1u << X86_EXC_AC));
	vmwrite(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmwrite(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmwrite(CR3_TARGET_COUNT, 0);
	vmwrite(VM_EXIT_MSR_STORE_COUNT, 0);
	vmwrite(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmwrite(VM_ENTRY_INTR_INFO, 0);
	vmwrite(TSC_OFFSET, 0);

	paddr_t io = vmx_io_bitmap(v->dom);
	vmwrite(IO_BITMAP_A, io);
	vmwrite(IO_BITMAP_B, io + PAGE_SIZE);
	vmwrite(MSR_BITMAP, vmx.msr_bitmap);
	if (vmx.vpid)
		vmwrite(VIRTUAL_PROCESSOR_ID, v->dom->arch.tag);
	vmwrite(EPT_POINTER, ept_pointer(v->dom));

	/* TPR shadow (30.1): the guest's CR8 is the VTPR byte (offset 0x80)
	 * of its own virtual-APIC page, never the physical LAPIC's TPR. A
	 * threshold of 0 means no TPR-below-threshold exits (26.6.1), and
	 * satisfies the entry check that it not exceed VTPR[7:4] (27.2.1.1).
	 * Injected events do not consult the VTPR (no virtual-interrupt
	 * delivery), as with SVM's EVENTINJ: the kernel holds back what the
	 * TPR masks and raises the threshold to hear when it drops
	 * (inject.c, vmx_want_tpr_window). */
	vmwrite(VIRTUAL_APIC_PAGE_ADDR, p->vapic);
	vmwrite(TPR_THRESHOLD, 0);
	/* Armed before every entry (preempt.c); expired until then. */
	if (vmx.preemption_timer)
		vmwrite(GUEST_PREEMPTION_TIMER, 0);
}

int vmx_vcpu_init(struct vcpu *v)
{
	paddr_t vmcs = frame_alloc();
	paddr_t vapic = frame_alloc();
	int rc = -ENOMEM;

	if (!vmcs || !vapic) {
		pr_err("VMX: out of memory for the VMCS of d%uv%u\n", v->dom->id, v->id);
		goto fail;
	}
	/* 25.2: the region starts with the revision identifier; VMCLEAR
	 * initialises the rest and makes the VMCS "clear". */
	*(u32 *)phys_to_virt(vmcs) = vmx.revision;
	rc = -EIO;
	if (!vmx_clear(vmcs)) {
		pr_err("VMX: VMCLEAR of a new VMCS (0x%lx) failed\n", vmcs);
		goto fail;
	}
	v->arch.vmcx = phys_to_virt(vmcs);
	v->arch.vmcx_pa = vmcs;
	/* A clear VMCS is entered with VMLAUNCH (launched = false). */
	memset(vmx_vcpu(v), 0, sizeof(struct vmx_vcpu));
	vmx_vcpu(v)->vapic = vapic;
	vmcs_load(v);

	unsigned failures = vmx_access_failures;
	write_controls(v);
	rc = write_host_state();
	if (rc)
		goto fail_loaded;
	write_guest_state(v);

	/* Each VMWRITE that failed has already been reported by name. */
	if (vmx_access_failures != failures) {
		pr_err("VMX: building the VMCS of d%uv%u failed (%u VMCS writes refused)\n",
		       v->dom->id, v->id, vmx_access_failures - failures);
		rc = -EIO;
		goto fail_loaded;
	}
	return 0;

fail_loaded:
	vmx_clear(vmcs);
	vmx_this_cpu.current_vmcs = 0;
	v->arch.vmcx = NULL;
	v->arch.vmcx_pa = 0;
	memset(&v->arch.vendor, 0, sizeof(v->arch.vendor));
fail:
	if (vmcs)
		frame_free(vmcs);
	if (vapic)
		frame_free(vapic);
	return rc;
}

void vmx_vcpu_destroy(struct vcpu *v)
{
	if (!v->arch.vmcx_pa)
		return;
	/* VMCLEAR writes any CPU-cached VMCS data back and makes the region
	 * inactive: only then may the frame be reused (25.11.1). */
	vmx_clear(v->arch.vmcx_pa);
	if (vmx_this_cpu.current_vmcs == v->arch.vmcx_pa)
		vmx_this_cpu.current_vmcs = 0;
	if (vmx_this_cpu.last_run == v)
		vmx_this_cpu.last_run = NULL;
	vmx_drop_guest_msrs(v);
	debugregs_forget(v);
	frame_free(vmx_vcpu(v)->vapic);
	frame_free(v->arch.vmcx_pa);
	v->arch.vmcx = NULL;
	v->arch.vmcx_pa = 0;
	memset(&v->arch.vendor, 0, sizeof(v->arch.vendor));
}

/* ---- dump ------------------------------------------------------------------------- */

void vmx_dump(struct vcpu *v)
{
	struct vmx_vcpu *p = vmx_vcpu(v);
	const u64 *g = v->arch.gprs;

	vmcs_load(v);
	pr_err("d%uv%u VMX state (last exit %s, VMX exit reason 0x%lx, qualification 0x%lx):\n",
	       v->dom->id, v->id, exit_reason_name(p->last_exit.reason), p->last_exit.raw,
	       p->last_exit.qual);
	pr_err("  RAX %016lx RBX %016lx RCX %016lx RDX %016lx\n", g[GPR_RAX], g[GPR_RBX],
	       g[GPR_RCX], g[GPR_RDX]);
	pr_err("  RSI %016lx RDI %016lx RBP %016lx RSP %016lx\n", g[GPR_RSI], g[GPR_RDI],
	       g[GPR_RBP], vmread(GUEST_RSP));
	pr_err("  R8  %016lx R9  %016lx R10 %016lx R11 %016lx\n", g[GPR_R8], g[GPR_R9],
	       g[GPR_R10], g[GPR_R11]);
	pr_err("  R12 %016lx R13 %016lx R14 %016lx R15 %016lx\n", g[GPR_R12], g[GPR_R13],
	       g[GPR_R14], g[GPR_R15]);
	pr_err("  CR0 %lx (guest view %lx) CR2 %lx CR3 %lx CR4 %lx (guest view %lx)\n",
	       vmread(GUEST_CR0), vmx_guest_cr0(), p->cr2, vmread(GUEST_CR3), vmread(GUEST_CR4),
	       vmx_guest_cr4());
	pr_err("  CR8 (VTPR[7:4]) %u\n", ((const u8 *)phys_to_virt(p->vapic))[0x80] >> 4);
	pr_err("  controls: pin 0x%lx primary 0x%lx secondary 0x%lx exit 0x%lx entry 0x%lx\n",
	       vmread(PIN_BASED_VM_EXEC_CONTROL), vmread(CPU_BASED_VM_EXEC_CONTROL),
	       vmread(SECONDARY_VM_EXEC_CONTROL), vmread(VM_EXIT_CONTROLS),
	       vmread(VM_ENTRY_CONTROLS));
	pr_err("  guest-state fields:\n");
	vmcs_dump_guest_state();
}
