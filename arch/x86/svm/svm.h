/*
 * What the files of the SVM back end share. Nothing outside arch/x86/svm/
 * includes this: the rest of Keel sees SVM only through asm/vendor.h.
 *
 * The files match arch/x86/vmx/'s concept for concept where both have
 * the concept (domain.c, iomap.c, run.c, exit.c, inject.c):
 *
 *   svm.c         probe, per-CPU enable, the vendor_ops table
 *   domain.c      per-domain state: set-up and tear-down
 *   vmcb.c        vCPU creation, guest state accessors, dump
 *   intercepts.c  intercept vectors, MSR permission map
 *   iomap.c       I/O permission maps (port passthrough)
 *   run.c         one guest entry: prepare, VMRUN stub, host interrupt
 *                 window, decode
 *   svm_run.asm   the VMRUN stub (GPRs, VMLOAD/VMSAVE, GIF)
 *   exit.c        #VMEXIT code -> struct vm_exit (decoding only)
 *   npt.c         nested paging format, ASIDs, TLB flushes
 *   inject.c      EVENTINJ, interrupt window, EXITINTINFO re-injection
 *   cr.c          intercepted CR0/CR3/CR4 writes: decoding, #GP rules
 */
#ifndef SVM_SVM_H
#define SVM_SVM_H

#include <lib/types.h>
#include <keel/exit.h>
#include <keel/domain.h>
#include <asm/insn.h>
#include <asm/vendor.h>
#include "vmcb.h"

/* CPUID 8000_000a (APM vol. 3, E.4.9): what this CPU's SVM offers. */
struct svm_caps {
	u32 revision;        /* EAX[7:0] SvmRev */
	u32 nasid;           /* EBX: number of ASIDs (valid ASIDs 1..nasid-1) */
	bool npt;            /* EDX[0] nested paging */
	bool nrips;          /* EDX[3] NRIP save: VMCB nrip valid on exits */
	bool vmcb_clean;     /* EDX[5] VMCB clean bits */
	bool flush_by_asid;  /* EDX[6] TLB_CONTROL 3 and 7 */
	bool decode_assists; /* EDX[7] CR/DR/INTn/INVLPG exit information */
	bool v_spec_ctrl;    /* EDX[20] guest IA32_SPEC_CTRL in the VMCB */
	bool tsc_aux;        /* the host has IA32_TSC_AUX (RDTSCP or RDPID) */
};
extern struct svm_caps svm_caps;

/* Per-vCPU back-end state (in vcpu->arch.vendor). */
#define SVM_INSN_LAST_SLOTS 4

struct svm_vcpu {
	u32 asid;           /* ASID of this vCPU in generation asid_gen */
	u64 asid_gen;       /* 0: none yet */
	bool need_flush;    /* the domain's p2m changed since asid was taken */
	/* The VMCB's guest state is what the last #VMEXIT stored, but for
	 * RIP and RAX, and no event was queued since: the next VMRUN needs
	 * no copy for a refusal's report (run.c). false until then. */
	bool entry_clean;
	/* The last few intercepted instructions whose length the cache
	 * confirmed, each with the VMCB fields that confirmation rested on
	 * (exit.c `insn_last_hit`), replaced round-robin, the last hit tried
	 * first: a guest alternating between two hypercalls (send, poll)
	 * must not record on every exit. deps.len == 0: empty. */
	struct svm_insn_last {
		u64 rip, cs_base, cr0, cr3, cr4, efer, rflags_vm;
		u16 cs_attrib;
		u8 cpl;
		struct insn_deps deps;
	} insn_last[SVM_INSN_LAST_SLOTS];
	u8 insn_last_hit, insn_last_next;
};

/* Per-domain back-end state (in domain->arch.vendor). */
struct svm_domain {
	paddr_t iopm_pa;    /* the domain's own I/O map; 0 = the deny-all map */
};

static inline struct vmcb *vcpu_vmcb(const struct vcpu *v)
{
	return v->arch.vmcx;
}

static inline struct svm_vcpu *vcpu_svm(struct vcpu *v)
{
	BUILD_BUG_ON(sizeof(struct svm_vcpu) > sizeof(v->arch.vendor));
	return (struct svm_vcpu *)&v->arch.vendor;
}

static inline struct svm_domain *domain_svm(struct domain *d)
{
	BUILD_BUG_ON(sizeof(struct svm_domain) > sizeof(d->arch.vendor));
	return (struct svm_domain *)&d->arch.vendor;
}

/* svm.c: this CPU's host state areas (one CPU for now). */
struct svm_cpu {
	paddr_t hsave_pa;     /* VM_HSAVE_PA: VMRUN's own host save area */
	paddr_t host_vmcb_pa; /* host FS/GS/TR/LDTR/syscall MSRs (VMSAVE/VMLOAD) */
};
extern struct svm_cpu svm_cpu;

/* svm_run.asm: enters the guest of v (its VMCB at v->arch.vmcx_pa) and
 * returns after the #VMEXIT with the guest GPRs (all but RAX and RSP,
 * which the VMCB holds) saved in v->arch.gprs. host_vmcb_pa receives the
 * host's VMSAVE state, which is reloaded before return. Runs with GIF=0
 * from before the host VMSAVE to after the host VMLOAD. */
void svm_vmrun(struct vcpu *v, paddr_t host_vmcb_pa);

/* vmcb.c */
int svm_vcpu_init(struct vcpu *v);
void svm_vcpu_destroy(struct vcpu *v);
u64 svm_get_reg(struct vcpu *v, enum vreg r);
void svm_set_reg(struct vcpu *v, enum vreg r, u64 val);
void svm_get_seg(struct vcpu *v, enum vseg_id s, struct vseg *seg);
void svm_get_paging(struct vcpu *v, struct guest_paging *gp);
void svm_skip_insn(struct vcpu *v, u8 len);
void svm_set_seg(struct vcpu *v, enum vseg_id s, const struct vseg *seg);
void svm_dump(struct vcpu *v);
/* The first VMRUN consistency check (APM 15.5.1) that `vmcb` fails, as a
 * sentence, or NULL if none of those Keel knows about. */
const char *svm_vmcb_check(const struct vmcb *vmcb);

/* intercepts.c */
#define MSRPM_SIZE (2 * PAGE_SIZE)
/* Allocates the shared MSR permission map and (svm_iomap_init) the
 * deny-all I/O map (once; later calls return 0). 0 or -ENOMEM. */
int svm_intercepts_init(void);
/* Writes Keel's intercept policy into a fresh VMCB's control area. */
void svm_intercepts_setup(struct vmcb *vmcb);
/* Sets the two intercept bits of `msr` in an MSR permission map.
 * -EINVAL if the MSR lies outside the three ranges the map covers (those
 * are always intercepted). */
int msrpm_set(u8 *msrpm, u32 msr, bool intercept_read, bool intercept_write);
/* Reads them back: bit 0 = read intercepted, bit 1 = write; MSRs outside
 * the map report 3. */
unsigned msrpm_get(const u8 *msrpm, u32 msr);

/* iomap.c */
#define IOPM_SIZE (3 * PAGE_SIZE)
/* Allocates the shared deny-all I/O map (once). 0 or -ENOMEM. */
int svm_iomap_init(void);
/* The deny-all map every domain starts with. */
paddr_t svm_iopm_deny_all_pa(void);
/* Sets or clears the intercept bit of ports [first, first+count) in an
 * I/O permission map. -EINVAL if the range passes port 0xffff. */
int iopm_set(u8 *iopm, u32 first, u32 count, bool intercept);
bool iopm_get(const u8 *iopm, u32 port);
/* Lets d's vCPUs access ports [first, first+count) directly (allow) or
 * intercepts them again. The first call gives d its own I/O map. 0,
 * -EINVAL or -ENOMEM. vendor_ops.io_allow (dom0's device ports). */
int svm_io_allow(struct domain *d, u32 first, u32 count, bool allow);
/* The I/O map d's vCPUs run with. */
extern paddr_t svm_iopm_deny_all; /* iomap.c; 0 before svm_iomap_init */
static inline paddr_t svm_iopm_pa(struct domain *d)
{
	struct svm_domain *sd = domain_svm(d);

	return sd->iopm_pa ? sd->iopm_pa : svm_iopm_deny_all;
}
void svm_io_domain_destroy(struct domain *d);

/* npt.c */
void svm_asid_init(u32 nasid);
/* The ASID allocator (npt.c says how it works). One CPU for now. */
struct svm_asids {
	u32 next;        /* next ASID to hand out */
	u32 limit;       /* one past the last valid ASID (CPUID nasid) */
	u64 gen;         /* current generation, from 1 */
	bool flush_all;  /* the next VMRUN must flush every ASID */
};
extern struct svm_asids svm_asids;
/* svm_asid_prepare when v needs a fresh ASID or a flush is due. */
void svm_asid_refresh(struct vcpu *v, struct vmcb *vmcb);

/* Chooses v's ASID and TLB_CONTROL for the coming VMRUN. Inline for the
 * common case (v's ASID current, no flush due), which only restates
 * them; npt.c otherwise. */
static inline void svm_asid_prepare(struct vcpu *v, struct vmcb *vmcb)
{
	struct svm_vcpu *sv = vcpu_svm(v);

	if (sv->asid_gen != svm_asids.gen || sv->need_flush || svm_asids.flush_all) {
		svm_asid_refresh(v, vmcb);
		return;
	}
	vmcb->control.guest_asid = sv->asid;
	vmcb->control.tlb_control = TLB_CONTROL_DO_NOTHING;
}
/* After a failed VMRUN: a flush it carried did not happen. */
void svm_asid_entry_failed(const struct vmcb *vmcb);
void svm_p2m_flush(struct domain *d);

/* domain.c */
int svm_domain_init(struct domain *d);
void svm_domain_destroy(struct domain *d);

/* exit.c: decodes v's last #VMEXIT (guest GPRs already saved). */
void svm_exit_decode(struct vcpu *v, const struct vmcb *vmcb, struct vm_exit *e);

/* inject.c */
void svm_inject(struct vcpu *v, const struct vevent *e);
bool svm_intr_open(struct vcpu *v);
void svm_want_intr_window(struct vcpu *v, bool on);
u8 svm_get_tpr(struct vcpu *v);
void svm_want_tpr_window(struct vcpu *v, u8 prio);
void svm_set_tpr(struct vcpu *v, u8 tpr);
/* After every #VMEXIT: EVENTINJ is consumed, and an event whose delivery
 * the exit interrupted (EXITINTINFO) is queued again. `injected` is the
 * EVENTINJ value the entry carried. */
void svm_events_after_exit(struct vmcb *vmcb, u64 injected);

/* run.c */
void svm_run(struct vcpu *v, struct vm_exit *exit);

/* ---- cr.c: intercepted CR0/CR3/CR4 writes ---------------------------- */

struct cpuid_regs;

enum svm_cr_insn_kind { CR_INSN_MOV, CR_INSN_CLTS, CR_INSN_LMSW_REG, CR_INSN_LMSW_MEM };

/* A decoded CR-writing instruction: which CR, the source GPR (MOV, LMSW
 * register form), and its length (0 for LMSW with a memory operand). */
struct svm_cr_insn {
	enum svm_cr_insn_kind kind;
	u8 cr;
	u8 gpr;
	u8 len;
};

/*
 * Decodes MOV CRn,r (0f 22, REX.R/REX.B, LOCK = CR8 on AMD), CLTS (0f 06)
 * and LMSW (0f 01 /6) from the `avail` bytes at b; lm64: 64-bit code
 * (REX prefixes exist). 0, -EAGAIN if more bytes are needed, -EINVAL for
 * anything else. Pure; host unit tests: test_svm_cr.c.
 */
int svm_cr_insn_decode(const u8 *b, size_t avail, bool lm64, struct svm_cr_insn *out);

/* The guest state the #GP rules of MOV CRn depend on. */
struct svm_cr_state {
	u64 cr0, cr3, cr4, efer;
	bool cs_l;          /* CS.L: 64-bit code when EFER.LMA */
	u64 cr4_allowed;    /* svm_cr4_allowed() for this guest */
	u32 phys_bits;      /* MAXPHYADDR */
};

/* The CR4 bits a guest may set: the architectural ones plus those whose
 * feature its CPUID leaf 1 / leaf 7.0 answers show. Pure. */
u64 svm_cr4_allowed(const struct cpuid_regs *l1, const struct cpuid_regs *l7);

/*
 * True if MOV to CR`cr` (0, 3, 4 or 8) of *val is accepted in state s; false
 * where the APM says #GP(0). On true, *val is what the register holds
 * afterwards (CR0.ET set, CR3 truncated outside long mode or without the
 * PCID no-flush bit). Pure.
 */
bool svm_cr_write_valid(const struct svm_cr_state *s, unsigned cr, u64 *val);

/*
 * Decodes the intercepted write to CR`cr` at the VMCB's RIP into e:
 * EXIT_CR_ACCESS with cr.has_val and the value when valid (and a fresh
 * ASID asked for), EXIT_EXCEPTION #GP(0) when the CPU would refuse it,
 * or EXIT_CR_ACCESS without a value (the kernel stops the domain) when
 * the instruction cannot be decoded.
 */
void svm_cr_write_decode(struct vcpu *v, const struct vmcb *vmcb, unsigned cr,
			 struct vm_exit *e);

#endif
