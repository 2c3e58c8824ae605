/*
 * The arch-neutral VM-exit record. Vendor code (arch/x86/svm/exit.c,
 * arch/x86/vmx/exit.c) decodes its VMCB/VMCS state into one of these;
 * kernel/exit.c dispatches on `reason` through a table.
 */
#ifndef KEEL_EXIT_H
#define KEEL_EXIT_H

#include <lib/types.h>
#include <public/domctl.h>

/*
 * The neutral exit reasons, generated from the one list in
 * include/public/domctl.h (KEEL_EXIT_REASONS): EXIT_CPUID ==
 * KEEL_EXIT_CPUID and so on, so the per-reason counters dom0 reads are
 * indexed by the same numbers. Which fields of struct vm_exit a reason
 * fills: EXIT_IO exit.io, EXIT_MSR_READ/WRITE exit.msr (the value of a
 * write in EDX:EAX), EXIT_NPF exit.npf, EXIT_EXCEPTION exit.exc,
 * EXIT_CR_ACCESS exit.cr.
 */
#define EXIT_ENUM_ENTRY_(name, num, str, what) EXIT_##name = KEEL_EXIT_##name,
enum exit_reason {
	KEEL_EXIT_REASONS(EXIT_ENUM_ENTRY_)
	EXIT_NR = KEEL_EXIT_NR
};
#undef EXIT_ENUM_ENTRY_

struct io_exit {
	u16 port;
	u8 size;     /* 1, 2 or 4 bytes */
	bool in;     /* IN/INS (true) or OUT/OUTS */
	bool string; /* INS/OUTS */
	bool rep;
};

struct msr_exit {
	u32 index;
};

/* Access bits for npf_exit.access; the PT_R/W/X values of asm/paging.h. */
struct npf_exit {
	gpa_t gpa;
	gva_t gva;        /* valid when gva_valid */
	bool gva_valid;
	bool present;     /* a translation existed (permission fault) */
	u8 access;        /* PT_R, PT_W and/or PT_X: what the guest tried */
};

struct exc_exit {
	u8 vector;
	bool has_error;
	u32 error_code;
	u64 cr2; /* for #PF */
};

struct cr_exit {
	u8 cr;       /* 0, 3, 4, 8 */
	bool write;
	u8 gpr;      /* general register number (0 = RAX ... 15 = R15), if known */
	/* A write whose value no GPR holds (CLTS, LMSW): has_val and the
	 * value to write, already checked by the vendor code. */
	bool has_val;
	u64 val;
};

struct vm_exit {
	enum exit_reason reason;
	u64 raw;       /* the vendor's own exit code, for reports */
	u64 qual;      /* vendor exit qualification / EXITINFO1, for reports */
	u8 insn_len;   /* length of the intercepted instruction; 0 = unknown */
	/* EXIT_HYPERCALL: the CPL at the exit (SS.DPL, as get_seg reports
	 * it), which the back end reads where it is cheapest (a saved CPL
	 * field where the vendor keeps one) for the hypercall privilege
	 * check. */
	u8 cpl;
	union {
		struct io_exit io;
		struct msr_exit msr;
		struct npf_exit npf;
		struct exc_exit exc;
		struct cr_exit cr;
	};
};

/* Printable name of a reason ("cpuid", "npf", ...; the list's), "invalid"
 * for a number outside it. */
const char *exit_reason_name(enum exit_reason r);

/* Counts one exit of v (v->nr_exits and its domain's per-reason counter,
 * which KEEL_DOMCTL_get_exit_counts reads). The vCPU loop counts every
 * exit the back end returns; the back end counts those it deals with
 * itself and does not return (asm/vendor.h, run()). A reason outside the
 * list counts in v->nr_exits only. */
struct vcpu;
void exit_count(struct vcpu *v, enum exit_reason r);

#endif
