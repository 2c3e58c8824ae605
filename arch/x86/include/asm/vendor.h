/*
 * The vendor contract: what the SVM (arch/x86/svm/) and VMX (arch/x86/vmx/)
 * back ends provide. One of them is probed at boot and bound into `vendor`;
 * nothing outside arch/x86/{svm,vmx}/ knows which.
 *
 * Guest general-purpose registers live in vcpu->arch.gprs; the back end
 * keeps them in sync across run() (on SVM, RAX also lives in the VMCB).
 * RIP, RSP, RFLAGS, control registers and segments are reached through
 * get_reg/set_reg/get_seg/set_seg.
 */
#ifndef ASM_VENDOR_H
#define ASM_VENDOR_H

#include <lib/types.h>
#include <keel/exit.h>

struct guest_paging; /* asm/guest_walk.h */
#include <asm/paging.h>

struct vcpu;
struct domain;

enum vreg {
	VREG_RIP,
	VREG_RSP,
	VREG_RFLAGS,
	VREG_CR0,
	VREG_CR2,
	VREG_CR3,
	VREG_CR4,
	VREG_EFER,
	/* IA32_PAT as the CPU applies it to the guest's own page tables
	 * while the guest runs (SVM: the VMCB's G_PAT, used with nested
	 * paging, APM vol. 2 15.25.8; VMX: GUEST_IA32_PAT, loaded on entry
	 * when the CPU has "load IA32_PAT", SDM vol. 3 25.8.1). The kernel
	 * validates values (kernel/msr.c) before it sets one. */
	VREG_PAT,
	VREG_NR
};

enum vseg_id {
	VSEG_ES, VSEG_CS, VSEG_SS, VSEG_DS, VSEG_FS, VSEG_GS,
	VSEG_LDTR, VSEG_TR, VSEG_GDTR, VSEG_IDTR, VSEG_NR
};

/*
 * A segment register. `attr` uses the AMD VMCB encoding (APM vol. 2
 * 15.5.1): bits 0-3 type, 4 S, 5-6 DPL, 7 P, 8 AVL, 9 L, 10 D/B, 11 G.
 * VMX converts to and from its access-rights format; attr 0 = unusable.
 */
struct vseg {
	u16 sel;
	u16 attr;
	u32 limit;
	u64 base;
};

enum vevent_type {
	VEVENT_EXTINT,    /* external interrupt (e.g. the upcall vector) */
	VEVENT_NMI,
	VEVENT_EXCEPTION, /* hardware exception, with or without error code */
	VEVENT_SOFTINT,
};

struct vevent {
	u8 vector;
	u8 type;          /* enum vevent_type */
	bool has_error;
	u32 error_code;
};

struct vendor_ops {
	const char *name; /* "SVM" or "VMX" */

	/* Enables virtualization on the calling CPU. 0 or -errno (printed). */
	int (*cpu_init)(void);

	/* Page-table format of this vendor's guest-physical tables. */
	const struct pt_format *p2m_format;
	/* Makes changes to d's p2m visible (TLB/ASID/INVEPT flush). */
	void (*p2m_flush)(struct domain *d);

	/* Per-domain state: tagging (ASID/VPID). 0 or -errno. */
	int (*domain_init)(struct domain *d);
	void (*domain_destroy)(struct domain *d);

	/* Allocates the VMCB/VMCS; the vCPU starts in the PVH entry state
	 * (32-bit protected mode, paging off, flat segments; see
	 * docs/misc/pvh.pandoc) with RIP = 0 until set. 0 or -errno. */
	int (*vcpu_init)(struct vcpu *v);
	void (*vcpu_destroy)(struct vcpu *v);

	/* Enters the guest and returns when it exits, with the exit decoded
	 * into *exit. An event queued with inject() is delivered on entry.
	 * An exit the back end deals with itself and re-enters from (e.g. a
	 * window it opened for an event it holds) is not returned, but
	 * counted with exit_count() (keel/exit.h), so the per-reason
	 * counters see every exit; the returned one the caller counts. */
	void (*run)(struct vcpu *v, struct vm_exit *exit);

	/* Queues one event for delivery at the next entry. */
	void (*inject)(struct vcpu *v, const struct vevent *e);
	/* True when the guest can take an external interrupt now (IF set,
	 * no interrupt shadow, no event already queued). */
	bool (*intr_open)(struct vcpu *v);
	/* Asks for EXIT_INTR_WINDOW when the guest becomes interruptible. */
	void (*want_intr_window)(struct vcpu *v, bool on);
	/* The guest's task-priority class: CR8 (0-15), the TPR's bits 7:4,
	 * which hold back its LAPIC interrupts of that class and below. */
	u8 (*get_tpr)(struct vcpu *v);
	/* Asks for EXIT_INTR_WINDOW (possibly early; the kernel checks
	 * again) once the guest's TPR class drops below `prio` (1-15); the
	 * caller guarantees get_tpr() >= prio now. 0 cancels it. The back end
	 * may drop the request once it has fired. */
	void (*want_tpr_window)(struct vcpu *v, u8 prio);
	/* Sets the guest's task priority to `tpr` (a write to its virtual
	 * LAPIC's TPR, asm/vlapic.h): CR8 becomes tpr[7:4] (SDM 10.8.6.1),
	 * as get_tpr() then reports. */
	void (*set_tpr)(struct vcpu *v, u8 tpr);

	u64 (*get_reg)(struct vcpu *v, enum vreg r);
	void (*set_reg)(struct vcpu *v, enum vreg r, u64 val);
	void (*get_seg)(struct vcpu *v, enum vseg_id s, struct vseg *seg);
	void (*set_seg)(struct vcpu *v, enum vseg_id s, const struct vseg *seg);
	/* Optional (NULL: guest_mem.c asks get_reg/get_seg): CR0, CR3, CR4,
	 * EFER (as get_reg reports them) and the CPL (0 with CR0.PE clear, 3
	 * with RFLAGS.VM, else SS.DPL as get_seg reports it) in one call,
	 * for the guest walks of every decoding exit. */
	void (*get_paging)(struct vcpu *v, struct guest_paging *gp);
	/* Optional (NULL: the kernel uses get_reg/set_reg): RIP += len, with
	 * the effects of set_reg(VREG_RIP) (an interrupt shadow ends), in
	 * one call, for the exits that skip an intercepted instruction. */
	void (*skip_insn)(struct vcpu *v, u8 len);

	/* Lets d's vCPUs access ports [first, first+count) directly (allow)
	 * or makes them exit again (!allow), through the domain's I/O
	 * permission map / I/O bitmaps. Takes effect at each vCPU's next
	 * entry. 0, -EINVAL (range past 0xffff, bad domain) or -ENOMEM. */
	int (*io_allow)(struct domain *d, u16 first, u32 count, bool allow);

	/* Prints the vendor's view of the vCPU (for crash reports). */
	void (*dump)(struct vcpu *v);

	/* The 3-byte hypercall instruction this vendor intercepts natively
	 * (VMMCALL 0f 01 d9 or VMCALL 0f 01 c1), for the hypercall page. */
	u8 hypercall_insn[3];
};

/*
 * What the probe learned about this CPU that the rest of Keel needs. Kept
 * apart so that each back end's vendor_ops is a const table (in .rodata,
 * which the host page tables map read-only: no stray write can redirect
 * an operation); these are written once, by the probe.
 */
struct vendor_caps {
	/* Largest leaf level the p2m may use (2 = 2 MiB, 3 = 1 GiB). */
	unsigned p2m_max_leaf_level;
	/* The hardware loads the guest's IA32_SPEC_CTRL (vcpu->arch.spec_ctrl,
	 * copied in by run()) at entry and the host's at exit, so software
	 * need not (asm/spec.h). */
	bool switches_spec_ctrl;
};

/* The bound back end and what its probe found; valid after
 * vendor_probe() returned 0. */
extern const struct vendor_ops *vendor;
extern const struct vendor_caps *vendor_caps;

/* Probes SVM then VMX; binds `vendor`, enables it on the boot CPU and
 * prints the features found. Returns 0, or -ENODEV after printing one line
 * saying what is missing. */
int vendor_probe(void);

/* Each back end's probe: 0 if usable (its const ops table returned in
 * *ops, what it found about the CPU filled into *caps), else -ENODEV with
 * the reason printed. */
int svm_probe(const struct vendor_ops **ops, struct vendor_caps *caps);
int vmx_probe(const struct vendor_ops **ops, struct vendor_caps *caps);

#endif
