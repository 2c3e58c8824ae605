/* Per-vCPU and per-domain architectural state: what both back ends share,
 * and room for each one's own. */
#ifndef ASM_VCPU_ARCH_H
#define ASM_VCPU_ARCH_H

#include <lib/types.h>
#include <asm/debugreg.h>
#include <asm/paging.h>
#include <asm/vlapic.h>

/*
 * Guest general-purpose registers in the order of the x86 register number
 * (RAX=0 ... R15=15), so an instruction's ModRM register field indexes it.
 * The RSP slot is unused: RSP lives in the VMCB/VMCS. The VMRUN/VMRESUME
 * stubs save and load this array; offsets come from asm-offsets.
 */
enum gpr {
	GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_NR
};

/*
 * The back end's own state, opaque to everything outside arch/x86/svm/
 * and arch/x86/vmx/. Each back end lays its struct over these bytes
 * through one accessor (vcpu_svm()/domain_svm() in svm/svm.h,
 * vmx_vcpu()/domain_vmx() in vmx/vmx.h) that checks at build time that
 * the struct fits. In place rather than allocated: Keel has no
 * small-object allocator, and the vCPU (one frame) and the domain (the
 * domain table) have the room. Zeroed when the vCPU or domain is created;
 * the back end initialises it in vcpu_init()/domain_init().
 */
#define VCPU_VENDOR_BYTES 1024
#define DOMAIN_VENDOR_BYTES 32

struct vcpu_vendor_state {
	u64 opaque[VCPU_VENDOR_BYTES / 8];
};

struct domain_vendor_state {
	u64 opaque[DOMAIN_VENDOR_BYTES / 8];
};

/*
 * One remembered guest page walk (arch/x86/guest_mem.c): with these paging
 * registers, the 4 KiB page at `va` translated for `access` to `gpa` after
 * reading `n` entries whose host addresses and values are kept, as of
 * d->mem_gen == `gen`. n == 0: empty.
 */
#define INSN_CACHE_SLOTS 4
#define GVA_DATA_SLOTS 4

struct gva_cache_entry {
	u64 cr0, cr3, cr4, efer;
	unsigned cpl, access;
	u64 va, gpa, gen;
	unsigned n, esize;
	const volatile void *at[4];
	u64 val[4];
};

/* The last instruction whose length was decoded from guest memory
 * (arch/x86/insn_fetch.c). len == 0: empty. */
struct insn_len_cache {
	u8 bytes[15];
	u8 len;
	bool l64;
	u64 va;           /* linear address of the bytes */
	gpa_t gpa;        /* ... its guest-physical address */
	u64 gen;          /* d->mem_gen when `host` was taken */
	const u8 *host;   /* ... and the hypervisor's pointer to them */
};

struct vcpu_arch {
	u64 gprs[GPR_NR];
	/* The last few instructions measured and guest walks done, each
	 * replaced round-robin: a guest alternating between two hypercalls
	 * (an event-channel send and a poll) would miss a one-entry cache
	 * every time. Slot 0 of gva_cache is for instruction fetches, the
	 * others for data (arch/x86/guest_mem.c, insn_fetch.c). */
	struct insn_len_cache insn_cache[INSN_CACHE_SLOTS];
	struct gva_cache_entry gva_cache[1 + GVA_DATA_SLOTS];
	u8 insn_cache_next, insn_cache_hit, gva_data_next;
	void *vmcx;       /* the VMCB or VMCS */
	paddr_t vmcx_pa;
	struct guest_debugregs debugregs; /* while not in the registers */
	void *fpu_area;   /* FXSAVE/XSAVE image, one frame (asm/fpu.h) */
	u64 xcr0;         /* the guest's XCR0 (loaded only while it runs) */
	u64 spec_ctrl;    /* the guest's IA32_SPEC_CTRL (asm/spec.h) */
	struct vcpu_vendor_state vendor;
	/* The guest's IA32_TSC_AUX (what RDTSCP/RDPID return), when the
	 * back end keeps it here: SVM (kernel/msr.c, svm/run.c); VMX passes
	 * the MSR through and switches it itself (vmx/msr.c). 0 at reset. */
	u64 tsc_aux;
	/* The virtual local APIC (asm/vlapic.h); domUs only. */
	struct vlapic vlapic;
};

/* One remembered gpa_ptr answer (arch/x86/guest_mem.c): guest frame `gfn`
 * is RAM, mapped at `page` with `perms`, as of d->mem_gen == `gen`. */
struct gpa_cache_entry {
	u64 gen;
	u64 gfn;
	u8 *page;         /* NULL: empty */
	unsigned perms;
};

#define GPA_CACHE_SLOTS 8

struct domain_arch {
	struct pt p2m;    /* guest-physical -> host-physical (NPT or EPT) */
	struct gpa_cache_entry gpa_cache[GPA_CACHE_SLOTS];
	u32 tag;          /* ASID (SVM) or VPID (VMX) */
	u64 spec_gen;     /* arch/x86/spec.c: tells domains apart for IBPB */
	struct domain_vendor_state vendor;
};

#endif
