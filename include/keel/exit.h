/*
 * The arch-neutral VM-exit record. Vendor code (arch/x86/svm/exit.c,
 * arch/x86/vmx/exit.c) decodes its VMCB/VMCS state into one of these;
 * kernel/exit.c dispatches on `reason` through a table.
 */
#ifndef KEEL_EXIT_H
#define KEEL_EXIT_H

#include <keel/types.h>

enum exit_reason {
	EXIT_NONE = 0,      /* no exit (e.g. entry was not attempted) */
	EXIT_CPUID,
	EXIT_HLT,
	EXIT_IO,            /* port I/O: exit.io */
	EXIT_MSR_READ,      /* exit.msr */
	EXIT_MSR_WRITE,     /* exit.msr; value in EDX:EAX */
	EXIT_HYPERCALL,     /* VMMCALL on AMD / VMCALL on Intel */
	EXIT_NPF,           /* nested page fault / EPT violation: exit.npf */
	EXIT_EXCEPTION,     /* intercepted guest exception: exit.exc */
	EXIT_TRIPLE_FAULT,  /* shutdown */
	EXIT_EXTINT,        /* a host interrupt arrived while the guest ran */
	EXIT_NMI,
	EXIT_INTR_WINDOW,   /* the guest can now take an interrupt */
	EXIT_VIRT_INSN,     /* the guest used a virtualization instruction */
	EXIT_CR_ACCESS,     /* exit.cr */
	EXIT_XSETBV,
	EXIT_CACHE_FLUSH,   /* INVD / WBINVD */
	EXIT_ENTRY_FAILED,  /* VM entry refused the guest state */
	EXIT_UNKNOWN,       /* anything vendor code does not decode */
	/* The back end's own time-slice backstop expired (the guest's turn
	 * may be over; the vCPU loop asks the scheduler). Appended so that
	 * the counters' numbering (KEEL_EXIT_*) stays as it was. */
	EXIT_PREEMPT,
	EXIT_NR
};

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
	union {
		struct io_exit io;
		struct msr_exit msr;
		struct npf_exit npf;
		struct exc_exit exc;
		struct cr_exit cr;
	};
};

/* Printable name of a reason ("cpuid", "npf", ...). */
const char *exit_reason_name(enum exit_reason r);

#endif
