/*
 * The VMX back end's private interfaces: capability MSRs, the computed
 * controls, per-vCPU and per-CPU state, and the VMX instructions.
 * Nothing outside arch/x86/vmx/ includes this; the rest of Keel sees VMX
 * only through struct vendor_ops (asm/vendor.h).
 *
 * The files match arch/x86/svm/'s concept for concept where both have
 * the concept (domain.c, iomap.c, run.c, exit.c, inject.c):
 *
 *   vmx.c          probe, VMXON, the vendor_ops table
 *   controls.c     the VM-execution/exit/entry controls from the MSRs
 *   domain.c       per-domain state: set-up (VPID) and tear-down
 *   vmcs.c         vCPU creation, guest state accessors, dump
 *   cr.c           guest CR0/CR3/CR4/EFER (fixed bits, read shadows)
 *   msr.c          MSR bitmap, lazily switched MSRs
 *   iomap.c        I/O bitmaps (port passthrough)
 *   run.c          the run loop: prepare, VMLAUNCH/VMRESUME, decode
 *   vmx_run.asm    the VMLAUNCH/VMRESUME stub (GPRs, host RSP/RIP)
 *   exit.c         exit reason -> struct vm_exit; entry-failure reports
 *   entry_check.c  the SDM's VM-entry checks, for reports
 *   ept.c          EPT format, INVEPT/INVVPID
 *   inject.c       event injection, interrupt/NMI windows
 *   preempt.c      the VMX-preemption timer
 *
 * Section numbers in arch/x86/vmx/ are those of the current Intel SDM
 * vol. 3C (24 introduction, 25 VMCS, 26 non-root operation, 27 VM entries,
 * 28 VM exits, 29 EPT and VPID, 31 instruction reference, appendix A
 * capability MSRs); SDMs before 2023 number the same chapters one lower.
 */
#ifndef VMX_VMX_H
#define VMX_VMX_H

#include <lib/types.h>
#include <keel/domain.h>
#include <asm/vendor.h>

/* Capability MSRs (SDM vol. 3 appendix A) */
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_VMCS_ENUM 0x48a
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490

/* IA32_FEATURE_CONTROL (SDM vol. 3 24.7) */
#define FEATURE_CONTROL_LOCKED (1ULL << 0)
#define FEATURE_CONTROL_VMX_INSIDE_SMX (1ULL << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ULL << 2)

/* IA32_VMX_BASIC (A.1) */
#define VMX_BASIC_REVISION(b) ((u32)(b) & 0x7fffffff)
#define VMX_BASIC_REGION_SIZE(b) ((u32)((b) >> 32) & 0x1fff)
#define VMX_BASIC_32BIT_ADDRESSES (1ULL << 48)
#define VMX_BASIC_MEMTYPE(b) ((unsigned)((b) >> 50) & 0xf)
#define VMX_BASIC_TRUE_CTLS (1ULL << 55)

/* IA32_VMX_MISC (A.6) */
#define VMX_MISC_PREEMPTION_SHIFT(m) ((unsigned)(m) & 0x1f) /* timer ticks per 2^n TSC */
#define VMX_MISC_STORES_LMA (1ULL << 5)
#define VMX_MISC_ZERO_LEN_INJECT (1ULL << 30)

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define EPT_CAP_EXECUTE_ONLY (1ULL << 0)
#define EPT_CAP_WALK_4 (1ULL << 6)
#define EPT_CAP_MEMTYPE_UC (1ULL << 8)
#define EPT_CAP_MEMTYPE_WB (1ULL << 14)
#define EPT_CAP_2M_PAGES (1ULL << 16)
#define EPT_CAP_1G_PAGES (1ULL << 17)
#define EPT_CAP_INVEPT (1ULL << 20)
#define EPT_CAP_INVEPT_SINGLE (1ULL << 25)
#define EPT_CAP_INVEPT_ALL (1ULL << 26)
#define VPID_CAP_INVVPID (1ULL << 32)
#define VPID_CAP_INVVPID_SINGLE (1ULL << 41)
#define VPID_CAP_INVVPID_ALL (1ULL << 42)

/* INVEPT / INVVPID types (SDM vol. 3 31.3) */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXT 2
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT 2

/* ---- controls (controls.c) ------------------------------------------------ */

enum vmx_ctl_field {
	VMX_CTL_PIN,   /* pin-based VM-execution controls */
	VMX_CTL_PROC,  /* primary processor-based VM-execution controls */
	VMX_CTL_PROC2, /* secondary processor-based VM-execution controls */
	VMX_CTL_EXIT,  /* VM-exit controls */
	VMX_CTL_ENTRY, /* VM-entry controls */
	VMX_CTL_NR
};

/* The capability MSRs as read from the CPU; a value is 0 when the CPU does
 * not have that MSR (TRUE_* without BASIC bit 55; PROCBASED_CTLS2 without
 * the 1-setting of "activate secondary controls"; EPT_VPID_CAP without EPT
 * or VPID). */
struct vmx_caps {
	u64 basic;
	u64 pinbased, procbased, procbased2, exit, entry;
	u64 true_pinbased, true_procbased, true_exit, true_entry;
	u64 misc, ept_vpid;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
};

/* One control Keel wants. */
#define VMX_WANT_REQUIRED 1u /* without it, VMX is unusable: probe fails */
#define VMX_WANT_DYNAMIC 2u  /* toggled at run time: checked, initially 0 */
struct vmx_ctl_want {
	u8 field;       /* enum vmx_ctl_field */
	u8 bit;
	u8 flags;       /* VMX_WANT_* */
	s8 needs;       /* index in the same table of a control this one
			 * needs (SDM 27.2.1.1), or -1 */
	const char *name; /* the SDM's name of the control */
};

struct vmx_controls {
	u32 val[VMX_CTL_NR];   /* the value to program at vCPU creation */
	u32 avail[VMX_CTL_NR]; /* wanted bits the CPU allows (val | dynamic) */
	u32 allowed0[VMX_CTL_NR], allowed1[VMX_CTL_NR]; /* from the MSRs used */
};

/* Keel's wish list (controls.c) and its length. */
extern const struct vmx_ctl_want vmx_wanted_controls[];
extern const unsigned vmx_wanted_controls_nr;

/*
 * Computes every control from the capability MSRs (SDM vol. 3 A.3-A.5 and
 * 32.5.1): bits whose allowed-0 setting is 1 are forced on; a wanted bit is
 * set when its allowed-1 setting is 1 and what it needs is set. The TRUE_*
 * MSRs are used where BASIC bit 55 says they exist (they may clear
 * "default1" bits such as CR3-load exiting); PROCBASED_CTLS2 has no TRUE
 * variant. Pure: no MSR access, no printing.
 *
 * Returns 0, or -ENODEV when a VMX_WANT_REQUIRED control is not allowed,
 * with a one-line reason naming the control and the MSR in err.
 */
int vmx_compute_controls(const struct vmx_caps *caps,
			 const struct vmx_ctl_want *want, unsigned nr_want,
			 struct vmx_controls *out, char *err, size_t errlen);

/* Name of the capability MSR that governs `field` given `basic`. */
const char *vmx_ctl_msr_name(enum vmx_ctl_field field, u64 basic);
/* "pin-based", "primary processor-based", ... */
const char *vmx_ctl_field_name(enum vmx_ctl_field field);
/* The SDM name of control bit `bit` of `field`, or NULL if not one Keel
 * knows. */
const char *vmx_ctl_bit_name(enum vmx_ctl_field field, unsigned bit);

/*
 * The VMX-preemption timer (preempt.c): the value that makes it expire
 * `ns` nanoseconds from now on a TSC of `tsc_khz`, the timer counting
 * down once every 2^shift TSC ticks (SDM 26.5.1, A.6). Rounded up so that
 * it never expires before the deadline, plus one unit because the count
 * may start anywhere inside the first unit; saturates at 0xffffffff.
 * Pure (unit-tested).
 */
u32 vmx_preemption_units(u64 ns, u64 tsc_khz, unsigned shift);

/* The EPT entry format for the shared walker (ept.c). */
extern const struct pt_format ept_format;
/* True when EPT leaves for RAM leave the guest's PAT in force (the CPU
 * loads GUEST_IA32_PAT on entry); set once by vmx_init before any domain
 * exists (ept.c's ept_leaf says why). */
extern bool ept_guest_pat;

/* ---- global state (vmx.c) -------------------------------------------------- */

struct vmx_info {
	struct vmx_caps caps;
	struct vmx_controls ctl;
	u32 revision;          /* VMCS revision identifier */
	u64 cr0_fixed0, cr0_fixed1; /* guest view: PE/PG relaxed (unrestricted) */
	u64 cr0_host_owned, cr4_host_owned; /* guest/host masks */
	paddr_t msr_bitmap;    /* shared by all vCPUs (msr.c) */
	bool vpid, vnmi, nmi_window, ack_intr, pat_entry, pat_exit_save,
	     pat_exit_load, xsaves;
	bool lazy_tsc_aux;     /* RDTSCP on: IA32_TSC_AUX is the guest's */
	bool preemption_timer; /* armed before every entry (preempt.c) */
	unsigned preemption_shift; /* IA32_VMX_MISC[4:0] */
};
extern struct vmx_info vmx;

/* Per physical CPU (one for now; an array indexed by CPU with SMP). */
struct vmx_cpu {
	paddr_t vmxon_region;
	paddr_t current_vmcs;   /* loaded with VMPTRLD, or 0 */
	struct vcpu *msr_owner; /* whose lazily switched MSRs are loaded */
	struct vcpu *last_run;
};
extern struct vmx_cpu vmx_this_cpu;

/* ---- per-vCPU and per-domain state (in their arch.vendor) ---------------- */

#define VMX_LAZY_MSRS 6

struct vmx_vcpu {
	/* VMLAUNCH done on the current VMCS (its launch state, 25.11.3):
	 * the next entry is VMRESUME. Read by vmx_run.asm (asm-offsets). */
	bool launched;
	u64 cr2;              /* VMX does not switch CR2 (SDM 27.3, 28.5) */
	u64 pat;              /* the guest's PAT where the CPU cannot load it */
	/* inject.c */
	bool queued;          /* an event from vendor_ops.inject() */
	struct vevent queued_ev;
	bool reinject;        /* an event whose delivery an exit interrupted */
	u32 reinject_info, reinject_error, reinject_len;
	bool kernel_window;   /* the kernel asked for EXIT_INTR_WINDOW */
	bool own_window;      /* we need a window for the queued event */
	bool own_nmi_window;
	u32 proc_ctls;        /* CPU_BASED_VM_EXEC_CONTROL as programmed */
	bool flushed;         /* first-entry INVEPT/INVVPID done */
	u64 lazy_msrs[VMX_LAZY_MSRS]; /* msr.c */
	paddr_t vapic;        /* virtual-APIC page: the guest's CR8 (TPR shadow) */
	struct vm_exit last_exit;     /* for dump() */
};

struct vmx_domain {
	paddr_t io_bitmap;    /* bitmap A (ports 0-7fff) then B (8000-ffff) */
};

/* ---- VMX instructions ------------------------------------------------------ */

/* Records a failed VMWRITE/VMREAD: prints the field by name and the
 * VM-instruction error. */
void vmx_access_failed(const char *insn, u32 field, u64 val);
/* How many VMREAD/VMWRITEs have failed so far. */
extern unsigned vmx_access_failures;

static inline bool vmread_safe(u32 field, u64 *val)
{
	bool fail;
	u64 v = 0;
	__asm__ volatile("vmread %2, %1\n\tsetna %0"
			 : "=qm"(fail), "=rm"(v)
			 : "r"((u64)field)
			 : "cc");
	*val = v;
	return !fail;
}

static inline u64 vmread(u32 field)
{
	u64 v;
	if (!vmread_safe(field, &v))
		vmx_access_failed("VMREAD", field, 0);
	return v;
}

static inline bool vmwrite_safe(u32 field, u64 val)
{
	bool fail;
	__asm__ volatile("vmwrite %1, %2\n\tsetna %0"
			 : "=qm"(fail)
			 : "rm"(val), "r"((u64)field)
			 : "cc");
	return !fail;
}

static inline void vmwrite(u32 field, u64 val)
{
	if (!vmwrite_safe(field, val))
		vmx_access_failed("VMWRITE", field, val);
}

/* VMXON/VMCLEAR/VMPTRLD take the physical address in memory. True on
 * success. */
static inline bool vmx_on(paddr_t pa)
{
	bool fail;
	__asm__ volatile("vmxon %1\n\tsetna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmx_clear(paddr_t pa)
{
	bool fail;
	__asm__ volatile("vmclear %1\n\tsetna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmx_ptrld(paddr_t pa)
{
	bool fail;
	__asm__ volatile("vmptrld %1\n\tsetna %0" : "=qm"(fail) : "m"(pa) : "cc", "memory");
	return !fail;
}

static inline bool vmx_invept(u64 type, u64 eptp)
{
	struct { u64 eptp, zero; } desc = { eptp, 0 };
	bool fail;
	__asm__ volatile("invept %1, %2\n\tsetna %0"
			 : "=qm"(fail)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	return !fail;
}

static inline bool vmx_invvpid(u64 type, u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };
	bool fail;
	__asm__ volatile("invvpid %1, %2\n\tsetna %0"
			 : "=qm"(fail)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	return !fail;
}

static inline struct vmx_vcpu *vmx_vcpu(struct vcpu *v)
{
	BUILD_BUG_ON(sizeof(struct vmx_vcpu) > sizeof(v->arch.vendor));
	return (struct vmx_vcpu *)&v->arch.vendor;
}

static inline struct vmx_domain *domain_vmx(struct domain *d)
{
	BUILD_BUG_ON(sizeof(struct vmx_domain) > sizeof(d->arch.vendor));
	return (struct vmx_domain *)&d->arch.vendor;
}

/* ---- between the files ------------------------------------------------------ */

/* vmcs.c */
/* Makes v's VMCS the current one on this CPU (VMPTRLD when needed). Every
 * VMREAD/VMWRITE on behalf of v goes after this. */
void vmcs_load(struct vcpu *v);
const char *vmcs_field_name(u32 field);
/* Prints every guest-state field the CPU has, by SDM name. */
void vmcs_dump_guest_state(void);
int vmx_vcpu_init(struct vcpu *v);
void vmx_vcpu_destroy(struct vcpu *v);
u64 vmx_get_reg(struct vcpu *v, enum vreg r);
void vmx_set_reg(struct vcpu *v, enum vreg r, u64 val);
void vmx_get_seg(struct vcpu *v, enum vseg_id s, struct vseg *seg);
void vmx_set_seg(struct vcpu *v, enum vseg_id s, const struct vseg *seg);
void vmx_dump(struct vcpu *v);

/* cr.c */
/* Guest view <-> hardware value of CR0/CR4 (fixed bits, read shadows). */
u64 vmx_guest_cr0(void);
u64 vmx_guest_cr4(void);
void vmx_write_cr0(struct vcpu *v, u64 val);
void vmx_write_cr4(struct vcpu *v, u64 val);
void vmx_write_cr3(struct vcpu *v, u64 val);
void vmx_write_efer(struct vcpu *v, u64 val);
/* Checks a guest MOV to CR0/CR4 the way the CPU would have (SDM vol. 2
 * MOV CR; those #GP conditions come after the VM exit, 26.1.1). True if
 * the value is architecturally valid. */
bool vmx_cr_write_valid(struct vcpu *v, unsigned cr, u64 val);

/* exit.c */
/* Decodes the exit just taken into *e. Returns true if the exit was dealt
 * with inside the back end and the guest should simply be re-entered. */
bool vmx_decode_exit(struct vcpu *v, struct vm_exit *e);
/* Prints VM-instruction error `err` with its SDM 31.4 meaning. */
const char *vmx_insn_error_name(u32 err);
/* Reports a VMLAUNCH/VMRESUME that failed (rc 1 invalid, 2 valid). */
void vmx_report_entry_fail(struct vcpu *v, int rc);

/* entry_check.c */
/* Checks the current VMCS's guest state against the SDM 27.3.1 rules Keel
 * can break and prints each violated rule with the field's name. Returns
 * the number of problems found. */
unsigned vmx_check_guest_state(void);
/* Same for the controls against the capability MSRs (SDM 27.2.1). */
unsigned vmx_check_controls(void);

/* ept.c */
u64 ept_pointer(const struct domain *d);
void vmx_p2m_flush(struct domain *d);
void vmx_flush_vcpu_first_entry(struct vcpu *v);
/* Before entering v: if another vCPU of v's domain ran last here, drop the
 * translations tagged with their shared VPID. */
void vmx_tlb_switch(struct vcpu *v);
/* Prints the EPT entries on the walk to gpa and panics (misconfiguration
 * is always Keel's bug). */
__noreturn void ept_misconfig(struct vcpu *v, gpa_t gpa);
void ept_npf_decode(u64 qual, struct npf_exit *npf);

/* inject.c */
void vmx_inject(struct vcpu *v, const struct vevent *e);
bool vmx_intr_open(struct vcpu *v);
void vmx_want_intr_window(struct vcpu *v, bool on);
/* Writes the event to deliver (if any) into the VMCS; run before entry. */
void vmx_inject_pending(struct vcpu *v);
/* Saves an interrupted event delivery (IDT-vectoring information); run
 * after every exit. */
void vmx_save_vectoring(struct vcpu *v);
/* Interrupt/NMI window exits: true if the back end asked for it alone. */
bool vmx_window_exit(struct vcpu *v, bool nmi);
/* The guest's CR8 (VTPR[7:4]); the TPR window (TPR threshold) and its
 * exit. vendor.h: get_tpr, want_tpr_window. */
u8 vmx_get_tpr(struct vcpu *v);
void vmx_want_tpr_window(struct vcpu *v, u8 prio);
void vmx_set_tpr(struct vcpu *v, u8 tpr);
bool vmx_tpr_below_threshold(struct vcpu *v, struct vm_exit *e);
/* Queues a hardware exception from inside the back end. */
void vmx_queue_exception(struct vcpu *v, u8 vector, bool has_error, u32 code);

/* preempt.c */
/* Arms the VMX-preemption timer for the end of the running vCPU's turn
 * (sched_leave_deadline()); the current VMCS must be v's. No-op without
 * the timer. */
void vmx_preemption_arm(void);

/* msr.c */
int vmx_msr_bitmap_init(void);
void vmx_switch_guest_msrs(struct vcpu *v);
void vmx_drop_guest_msrs(struct vcpu *v);

/* domain.c */
int vmx_domain_init(struct domain *d);
void vmx_domain_destroy(struct domain *d);

/* iomap.c */
/* Gives d its I/O bitmaps, every port exiting. 0 or -ENOMEM. */
int vmx_iomap_init(struct domain *d);
void vmx_iomap_destroy(struct domain *d);
paddr_t vmx_io_bitmap(struct domain *d);
/* Lets d access ports [port, port+count) directly (allow) or intercepts
 * them again. 0 or -EINVAL. */
int vmx_io_allow(struct domain *d, u16 port, unsigned count, bool allow);

/* run.c */
/* vendor_ops.run: enters v's guest until an exit the kernel must see. */
void vmx_run(struct vcpu *v, struct vm_exit *exit);

/* vmx_run.asm */
/* Enters the guest (VMRESUME if vmx_vcpu(v)->launched, else VMLAUNCH) with
 * its GPRs from v->arch.gprs, and saves them again on exit. Returns 0
 * after a VM exit, 1 on VMfailInvalid, 2 on VMfailValid. */
int vmx_enter(struct vcpu *v);
void vmx_exit_entry(void);
/* Runs the host's IDT handler for `vector` as if it had arrived (used
 * for the interrupt acknowledged on exit, SDM 28.2). */
void vmx_dispatch_host_vector(u8 vector);

#endif
