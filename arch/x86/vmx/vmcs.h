/*
 * VMCS field encodings (Intel SDM vol. 3, appendix B), VM-exit reasons
 * (appendix C) and the bit layouts of the VMCS fields the VMX back end
 * uses. Names follow the SDM so each can be checked against it.
 *
 * An encoding says what the field is (SDM 25.11.2): bit 0 access type
 * (1 = high half of a 64-bit field), bits 9:1 index, bits 11:10 type
 * (0 control, 1 exit information, 2 guest state, 3 host state), bits
 * 14:13 width (0 16-bit, 1 64-bit, 2 32-bit, 3 natural width).
 *
 * Private to arch/x86/vmx/.
 */
#ifndef VMX_VMCS_H
#define VMX_VMCS_H

#define VMCS_FIELD_TYPE(enc) (((enc) >> 10) & 3)
#define VMCS_TYPE_CONTROL 0
#define VMCS_TYPE_EXIT_INFO 1
#define VMCS_TYPE_GUEST 2
#define VMCS_TYPE_HOST 3

/* B.1.1 16-bit control fields */
#define VIRTUAL_PROCESSOR_ID 0x0000
#define POSTED_INTR_NOTIFICATION_VECTOR 0x0002
#define EPTP_INDEX 0x0004
/* B.1.2 16-bit guest-state fields */
#define GUEST_ES_SELECTOR 0x0800
#define GUEST_CS_SELECTOR 0x0802
#define GUEST_SS_SELECTOR 0x0804
#define GUEST_DS_SELECTOR 0x0806
#define GUEST_FS_SELECTOR 0x0808
#define GUEST_GS_SELECTOR 0x080a
#define GUEST_LDTR_SELECTOR 0x080c
#define GUEST_TR_SELECTOR 0x080e
#define GUEST_INTR_STATUS 0x0810
#define GUEST_PML_INDEX 0x0812
/* B.1.3 16-bit host-state fields */
#define HOST_ES_SELECTOR 0x0c00
#define HOST_CS_SELECTOR 0x0c02
#define HOST_SS_SELECTOR 0x0c04
#define HOST_DS_SELECTOR 0x0c06
#define HOST_FS_SELECTOR 0x0c08
#define HOST_GS_SELECTOR 0x0c0a
#define HOST_TR_SELECTOR 0x0c0c

/* B.2.1 64-bit control fields */
#define IO_BITMAP_A 0x2000
#define IO_BITMAP_B 0x2002
#define MSR_BITMAP 0x2004
#define VM_EXIT_MSR_STORE_ADDR 0x2006
#define VM_EXIT_MSR_LOAD_ADDR 0x2008
#define VM_ENTRY_MSR_LOAD_ADDR 0x200a
#define EXECUTIVE_VMCS_POINTER 0x200c
#define PML_ADDRESS 0x200e
#define TSC_OFFSET 0x2010
#define VIRTUAL_APIC_PAGE_ADDR 0x2012
#define APIC_ACCESS_ADDR 0x2014
#define POSTED_INTR_DESC_ADDR 0x2016
#define VM_FUNCTION_CONTROL 0x2018
#define EPT_POINTER 0x201a
#define EOI_EXIT_BITMAP0 0x201c
#define EPTP_LIST_ADDR 0x2024
#define VMREAD_BITMAP 0x2026
#define VMWRITE_BITMAP 0x2028
#define VIRT_EXCEPTION_INFO_ADDR 0x202a
#define XSS_EXIT_BITMAP 0x202c
#define TSC_MULTIPLIER 0x2032
/* B.2.2 64-bit read-only data field */
#define GUEST_PHYSICAL_ADDRESS 0x2400
/* B.2.3 64-bit guest-state fields */
#define VMCS_LINK_POINTER 0x2800
#define GUEST_IA32_DEBUGCTL 0x2802
#define GUEST_IA32_PAT 0x2804
#define GUEST_IA32_EFER 0x2806
#define GUEST_IA32_PERF_GLOBAL_CTRL 0x2808
#define GUEST_PDPTE0 0x280a
#define GUEST_PDPTE1 0x280c
#define GUEST_PDPTE2 0x280e
#define GUEST_PDPTE3 0x2810
#define GUEST_IA32_BNDCFGS 0x2812
/* B.2.4 64-bit host-state fields */
#define HOST_IA32_PAT 0x2c00
#define HOST_IA32_EFER 0x2c02
#define HOST_IA32_PERF_GLOBAL_CTRL 0x2c04

/* B.3.1 32-bit control fields */
#define PIN_BASED_VM_EXEC_CONTROL 0x4000
#define CPU_BASED_VM_EXEC_CONTROL 0x4002
#define EXCEPTION_BITMAP 0x4004
#define PAGE_FAULT_ERROR_CODE_MASK 0x4006
#define PAGE_FAULT_ERROR_CODE_MATCH 0x4008
#define CR3_TARGET_COUNT 0x400a
#define VM_EXIT_CONTROLS 0x400c
#define VM_EXIT_MSR_STORE_COUNT 0x400e
#define VM_EXIT_MSR_LOAD_COUNT 0x4010
#define VM_ENTRY_CONTROLS 0x4012
#define VM_ENTRY_MSR_LOAD_COUNT 0x4014
#define VM_ENTRY_INTR_INFO 0x4016
#define VM_ENTRY_EXCEPTION_ERROR_CODE 0x4018
#define VM_ENTRY_INSTRUCTION_LEN 0x401a
#define TPR_THRESHOLD 0x401c
#define SECONDARY_VM_EXEC_CONTROL 0x401e
#define PLE_GAP 0x4020
#define PLE_WINDOW 0x4022
/* B.3.2 32-bit read-only data fields */
#define VM_INSTRUCTION_ERROR 0x4400
#define VM_EXIT_REASON 0x4402
#define VM_EXIT_INTR_INFO 0x4404
#define VM_EXIT_INTR_ERROR_CODE 0x4406
#define IDT_VECTORING_INFO 0x4408
#define IDT_VECTORING_ERROR_CODE 0x440a
#define VM_EXIT_INSTRUCTION_LEN 0x440c
#define VMX_INSTRUCTION_INFO 0x440e
/* B.3.3 32-bit guest-state fields */
#define GUEST_ES_LIMIT 0x4800
#define GUEST_CS_LIMIT 0x4802
#define GUEST_SS_LIMIT 0x4804
#define GUEST_DS_LIMIT 0x4806
#define GUEST_FS_LIMIT 0x4808
#define GUEST_GS_LIMIT 0x480a
#define GUEST_LDTR_LIMIT 0x480c
#define GUEST_TR_LIMIT 0x480e
#define GUEST_GDTR_LIMIT 0x4810
#define GUEST_IDTR_LIMIT 0x4812
#define GUEST_ES_AR_BYTES 0x4814
#define GUEST_CS_AR_BYTES 0x4816
#define GUEST_SS_AR_BYTES 0x4818
#define GUEST_DS_AR_BYTES 0x481a
#define GUEST_FS_AR_BYTES 0x481c
#define GUEST_GS_AR_BYTES 0x481e
#define GUEST_LDTR_AR_BYTES 0x4820
#define GUEST_TR_AR_BYTES 0x4822
#define GUEST_INTERRUPTIBILITY_INFO 0x4824
#define GUEST_ACTIVITY_STATE 0x4826
#define GUEST_SMBASE 0x4828
#define GUEST_SYSENTER_CS 0x482a
#define GUEST_PREEMPTION_TIMER 0x482e
/* B.3.4 32-bit host-state field */
#define HOST_IA32_SYSENTER_CS 0x4c00

/* B.4.1 natural-width control fields */
#define CR0_GUEST_HOST_MASK 0x6000
#define CR4_GUEST_HOST_MASK 0x6002
#define CR0_READ_SHADOW 0x6004
#define CR4_READ_SHADOW 0x6006
#define CR3_TARGET_VALUE0 0x6008
/* B.4.2 natural-width read-only data fields */
#define EXIT_QUALIFICATION 0x6400
#define IO_RCX 0x6402
#define IO_RSI 0x6404
#define IO_RDI 0x6406
#define IO_RIP 0x6408
#define GUEST_LINEAR_ADDRESS 0x640a
/* B.4.3 natural-width guest-state fields */
#define GUEST_CR0 0x6800
#define GUEST_CR3 0x6802
#define GUEST_CR4 0x6804
#define GUEST_ES_BASE 0x6806
#define GUEST_CS_BASE 0x6808
#define GUEST_SS_BASE 0x680a
#define GUEST_DS_BASE 0x680c
#define GUEST_FS_BASE 0x680e
#define GUEST_GS_BASE 0x6810
#define GUEST_LDTR_BASE 0x6812
#define GUEST_TR_BASE 0x6814
#define GUEST_GDTR_BASE 0x6816
#define GUEST_IDTR_BASE 0x6818
#define GUEST_DR7 0x681a
#define GUEST_RSP 0x681c
#define GUEST_RIP 0x681e
#define GUEST_RFLAGS 0x6820
#define GUEST_PENDING_DBG_EXCEPTIONS 0x6822
#define GUEST_SYSENTER_ESP 0x6824
#define GUEST_SYSENTER_EIP 0x6826
/* B.4.4 natural-width host-state fields */
#define HOST_CR0 0x6c00
#define HOST_CR3 0x6c02
#define HOST_CR4 0x6c04
#define HOST_FS_BASE 0x6c06
#define HOST_GS_BASE 0x6c08
#define HOST_TR_BASE 0x6c0a
#define HOST_GDTR_BASE 0x6c0c
#define HOST_IDTR_BASE 0x6c0e
#define HOST_IA32_SYSENTER_ESP 0x6c10
#define HOST_IA32_SYSENTER_EIP 0x6c12
#define HOST_RSP 0x6c14
#define HOST_RIP 0x6c16

/* ---- control bits (SDM 25.6, 25.7, 25.8) ---------------------------------- */

/* Pin-based VM-execution controls (table 25-5) */
#define PIN_EXTERNAL_INTERRUPT_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_VIRTUAL_NMIS (1u << 5)
#define PIN_PREEMPTION_TIMER (1u << 6)
#define PIN_POSTED_INTERRUPTS (1u << 7)

/* Primary processor-based VM-execution controls (table 25-6) */
#define CPU_INTERRUPT_WINDOW_EXITING (1u << 2)
#define CPU_USE_TSC_OFFSETTING (1u << 3)
#define CPU_HLT_EXITING (1u << 7)
#define CPU_INVLPG_EXITING (1u << 9)
#define CPU_MWAIT_EXITING (1u << 10)
#define CPU_RDPMC_EXITING (1u << 11)
#define CPU_RDTSC_EXITING (1u << 12)
#define CPU_CR3_LOAD_EXITING (1u << 15)
#define CPU_CR3_STORE_EXITING (1u << 16)
#define CPU_CR8_LOAD_EXITING (1u << 19)
#define CPU_CR8_STORE_EXITING (1u << 20)
#define CPU_USE_TPR_SHADOW (1u << 21)
#define CPU_NMI_WINDOW_EXITING (1u << 22)
#define CPU_MOV_DR_EXITING (1u << 23)
#define CPU_UNCONDITIONAL_IO_EXITING (1u << 24)
#define CPU_USE_IO_BITMAPS (1u << 25)
#define CPU_MONITOR_TRAP_FLAG (1u << 27)
#define CPU_USE_MSR_BITMAPS (1u << 28)
#define CPU_MONITOR_EXITING (1u << 29)
#define CPU_PAUSE_EXITING (1u << 30)
#define CPU_ACTIVATE_SECONDARY_CONTROLS (1u << 31)

/* Secondary processor-based VM-execution controls (table 25-7) */
#define SEC_VIRTUALIZE_APIC_ACCESSES (1u << 0)
#define SEC_ENABLE_EPT (1u << 1)
#define SEC_DESCRIPTOR_TABLE_EXITING (1u << 2)
#define SEC_ENABLE_RDTSCP (1u << 3)
#define SEC_VIRTUALIZE_X2APIC_MODE (1u << 4)
#define SEC_ENABLE_VPID (1u << 5)
#define SEC_WBINVD_EXITING (1u << 6)
#define SEC_UNRESTRICTED_GUEST (1u << 7)
#define SEC_APIC_REGISTER_VIRTUALIZATION (1u << 8)
#define SEC_VIRTUAL_INTERRUPT_DELIVERY (1u << 9)
#define SEC_PAUSE_LOOP_EXITING (1u << 10)
#define SEC_RDRAND_EXITING (1u << 11)
#define SEC_ENABLE_INVPCID (1u << 12)
#define SEC_ENABLE_VM_FUNCTIONS (1u << 13)
#define SEC_VMCS_SHADOWING (1u << 14)
#define SEC_RDSEED_EXITING (1u << 16)
#define SEC_ENABLE_PML (1u << 17)
#define SEC_EPT_VIOLATION_VE (1u << 18)
#define SEC_ENABLE_XSAVES (1u << 20)

/* Primary VM-exit controls (table 25-13) */
#define EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define EXIT_HOST_ADDRESS_SPACE_SIZE (1u << 9)
#define EXIT_LOAD_PERF_GLOBAL_CTRL (1u << 12)
#define EXIT_ACK_INTERRUPT_ON_EXIT (1u << 15)
#define EXIT_SAVE_IA32_PAT (1u << 18)
#define EXIT_LOAD_IA32_PAT (1u << 19)
#define EXIT_SAVE_IA32_EFER (1u << 20)
#define EXIT_LOAD_IA32_EFER (1u << 21)
#define EXIT_SAVE_PREEMPTION_TIMER (1u << 22)

/* VM-entry controls (table 25-15) */
#define ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define ENTRY_IA32E_MODE_GUEST (1u << 9)
#define ENTRY_TO_SMM (1u << 10)
#define ENTRY_DEACTIVATE_DUAL_MONITOR (1u << 11)
#define ENTRY_LOAD_PERF_GLOBAL_CTRL (1u << 13)
#define ENTRY_LOAD_IA32_PAT (1u << 14)
#define ENTRY_LOAD_IA32_EFER (1u << 15)

/* ---- event fields (SDM 25.8.3, 25.9.2, 25.9.3) ---------------------------- */

/* VM-entry interruption information, VM-exit interruption information and
 * IDT-vectoring information share this layout. */
#define INTR_INFO_VECTOR_MASK 0xffu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK (7u << 8)
#define INTR_INFO_DELIVER_CODE (1u << 11)
#define INTR_INFO_NMI_UNBLOCKED_BY_IRET (1u << 12) /* exit/vectoring info only */
#define INTR_INFO_VALID (1u << 31)

#define INTR_TYPE_EXT_INTR 0
#define INTR_TYPE_NMI 2
#define INTR_TYPE_HW_EXCEPTION 3
#define INTR_TYPE_SW_INTR 4
#define INTR_TYPE_PRIV_SW_EXCEPTION 5
#define INTR_TYPE_SW_EXCEPTION 6

/* Guest interruptibility state (table 25-3) */
#define INTR_BLOCKING_BY_STI (1u << 0)
#define INTR_BLOCKING_BY_MOV_SS (1u << 1)
#define INTR_BLOCKING_BY_SMI (1u << 2)
#define INTR_BLOCKING_BY_NMI (1u << 3)

/* Segment access rights (table 25-2) */
#define AR_UNUSABLE (1u << 16)

/* ---- exit reasons (appendix C) -------------------------------------------- */

#define VMX_EXIT_REASON_BASIC(r) ((r) & 0xffff)
#define VMX_EXIT_REASON_ENTRY_FAILURE (1u << 31)

enum vmx_exit_reason {
	VMX_EXIT_EXCEPTION_NMI = 0,
	VMX_EXIT_EXTERNAL_INTERRUPT = 1,
	VMX_EXIT_TRIPLE_FAULT = 2,
	VMX_EXIT_INIT = 3,
	VMX_EXIT_SIPI = 4,
	VMX_EXIT_IO_SMI = 5,
	VMX_EXIT_OTHER_SMI = 6,
	VMX_EXIT_INTERRUPT_WINDOW = 7,
	VMX_EXIT_NMI_WINDOW = 8,
	VMX_EXIT_TASK_SWITCH = 9,
	VMX_EXIT_CPUID = 10,
	VMX_EXIT_GETSEC = 11,
	VMX_EXIT_HLT = 12,
	VMX_EXIT_INVD = 13,
	VMX_EXIT_INVLPG = 14,
	VMX_EXIT_RDPMC = 15,
	VMX_EXIT_RDTSC = 16,
	VMX_EXIT_RSM = 17,
	VMX_EXIT_VMCALL = 18,
	VMX_EXIT_VMCLEAR = 19,
	VMX_EXIT_VMLAUNCH = 20,
	VMX_EXIT_VMPTRLD = 21,
	VMX_EXIT_VMPTRST = 22,
	VMX_EXIT_VMREAD = 23,
	VMX_EXIT_VMRESUME = 24,
	VMX_EXIT_VMWRITE = 25,
	VMX_EXIT_VMXOFF = 26,
	VMX_EXIT_VMXON = 27,
	VMX_EXIT_CR_ACCESS = 28,
	VMX_EXIT_MOV_DR = 29,
	VMX_EXIT_IO_INSTRUCTION = 30,
	VMX_EXIT_RDMSR = 31,
	VMX_EXIT_WRMSR = 32,
	VMX_EXIT_INVALID_GUEST_STATE = 33,
	VMX_EXIT_MSR_LOADING = 34,
	VMX_EXIT_MWAIT = 36,
	VMX_EXIT_MONITOR_TRAP_FLAG = 37,
	VMX_EXIT_MONITOR = 39,
	VMX_EXIT_PAUSE = 40,
	VMX_EXIT_MACHINE_CHECK = 41,
	VMX_EXIT_TPR_BELOW_THRESHOLD = 43,
	VMX_EXIT_APIC_ACCESS = 44,
	VMX_EXIT_VIRTUALIZED_EOI = 45,
	VMX_EXIT_GDTR_IDTR = 46,
	VMX_EXIT_LDTR_TR = 47,
	VMX_EXIT_EPT_VIOLATION = 48,
	VMX_EXIT_EPT_MISCONFIG = 49,
	VMX_EXIT_INVEPT = 50,
	VMX_EXIT_RDTSCP = 51,
	VMX_EXIT_PREEMPTION_TIMER = 52,
	VMX_EXIT_INVVPID = 53,
	VMX_EXIT_WBINVD = 54,
	VMX_EXIT_XSETBV = 55,
	VMX_EXIT_APIC_WRITE = 56,
	VMX_EXIT_RDRAND = 57,
	VMX_EXIT_INVPCID = 58,
	VMX_EXIT_VMFUNC = 59,
	VMX_EXIT_ENCLS = 60,
	VMX_EXIT_RDSEED = 61,
	VMX_EXIT_PML_FULL = 62,
	VMX_EXIT_XSAVES = 63,
	VMX_EXIT_XRSTORS = 64,
	VMX_EXIT_REASON_NR = 65,
};

/* Exit qualification of control-register accesses (table 28-3) */
#define CR_QUAL_CR(q) ((q) & 0xf)
#define CR_QUAL_TYPE(q) (((q) >> 4) & 3)
#define CR_TYPE_MOV_TO_CR 0
#define CR_TYPE_MOV_FROM_CR 1
#define CR_TYPE_CLTS 2
#define CR_TYPE_LMSW 3
#define CR_QUAL_GPR(q) (((q) >> 8) & 0xf)

/* Exit qualification of I/O instructions (table 28-5) */
#define IO_QUAL_SIZE(q) (((q) & 7) + 1)
#define IO_QUAL_IN (1u << 3)
#define IO_QUAL_STRING (1u << 4)
#define IO_QUAL_REP (1u << 5)
#define IO_QUAL_PORT(q) (((q) >> 16) & 0xffff)

/* Exit qualification of EPT violations (table 28-7) */
#define EPT_QUAL_READ (1u << 0)
#define EPT_QUAL_WRITE (1u << 1)
#define EPT_QUAL_FETCH (1u << 2)
#define EPT_QUAL_READABLE (1u << 3)
#define EPT_QUAL_WRITABLE (1u << 4)
#define EPT_QUAL_EXECUTABLE (1u << 5)
#define EPT_QUAL_GLA_VALID (1u << 7)
#define EPT_QUAL_GLA_TRANSLATED (1u << 8)
#define EPT_QUAL_NMI_UNBLOCKED_BY_IRET (1u << 12)

/* Exit qualification of entry failures for invalid guest state (C, 27.8) */
#define ENTRY_FAIL_QUAL_PDPTE 2
#define ENTRY_FAIL_QUAL_NMI_STI 3
#define ENTRY_FAIL_QUAL_LINK_POINTER 4

#endif
