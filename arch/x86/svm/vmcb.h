/*
 * The Virtual Machine Control Block (AMD APM vol. 2, appendix B, tables
 * B-1 "VMCB layout, control area" and B-2 "VMCB layout, state save area").
 *
 * One 4 KiB page per vCPU: the control area (0x000-0x3ff) says what to
 * intercept and reports why the guest exited; the state save area
 * (0x400-...) holds the guest state that VMRUN loads and #VMEXIT stores,
 * plus the part that only VMLOAD/VMSAVE move (FS, GS, TR, LDTR hidden
 * state, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_*).
 *
 * Field names follow the APM's, lower-cased; every offset is checked
 * against the APM at compile time below. Reserved space is named rsvd_<offset>.
 */
#ifndef SVM_VMCB_H
#define SVM_VMCB_H

#include <lib/types.h>

/* A segment register in the state save area (APM 15.5.1; the `attrib`
 * encoding is struct vseg's `attr`, asm/vendor.h). */
struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
} __packed;

struct vmcb_control {
	u32 intercept_cr;         /* 000: bits 0-15 reads of CR0-15, 16-31 writes */
	u32 intercept_dr;         /* 004: bits 0-15 reads of DR0-15, 16-31 writes */
	u32 intercept_exceptions; /* 008: bit n = exception vector n */
	u32 intercept_misc1;      /* 00c: INTERCEPT_* below (INTR ... shutdown) */
	u32 intercept_misc2;      /* 010: INTERCEPT2_* below (VMRUN ... XSETBV) */
	u32 intercept_misc3;      /* 014: INVLPGB, INVPCID, MCOMMIT, TLBSYNC */
	u8 rsvd_018[0x03c - 0x018];
	u16 pause_filter_threshold; /* 03c */
	u16 pause_filter_count;     /* 03e */
	u64 iopm_base_pa;           /* 040: 12 KiB I/O permission map */
	u64 msrpm_base_pa;          /* 048: 8 KiB MSR permission map */
	u64 tsc_offset;             /* 050 */
	u32 guest_asid;             /* 058 */
	u8 tlb_control;             /* 05c: TLB_CONTROL_* */
	u8 rsvd_05d[3];
	u64 v_intr;                 /* 060: V_TPR, V_IRQ, ... (V_* below) */
	u64 interrupt_shadow;       /* 068: bit 0 INTERRUPT_SHADOW, 1 GUEST_INTERRUPT_MASK */
	u64 exitcode;               /* 070: VMEXIT_* */
	u64 exitinfo1;              /* 078 */
	u64 exitinfo2;              /* 080 */
	u64 exitintinfo;            /* 088: EVENTINJ format */
	u64 np_enable;              /* 090: bit 0 NP_ENABLE, 1 SEV, 2 SEV-ES, ... */
	u64 avic_apic_bar;          /* 098 */
	u64 ghcb_pa;                /* 0a0 */
	u64 eventinj;               /* 0a8: EVENTINJ_* below */
	u64 n_cr3;                  /* 0b0: nested page table root */
	u64 lbr_virtualization_enable; /* 0b8: bit 0 LBR virt, 1 VMSAVE/VMLOAD virt */
	u32 vmcb_clean;             /* 0c0: clean bits (we always pass 0 = all dirty) */
	u32 rsvd_0c4;
	u64 nrip;                   /* 0c8: next sequential RIP (NRIP save feature) */
	u8 num_bytes_fetched;       /* 0d0: decode assists, #NPF/#PF only */
	u8 guest_instruction_bytes[15]; /* 0d1 */
	u64 avic_apic_backing_page; /* 0e0 */
	u64 rsvd_0e8;
	u64 avic_logical_table;     /* 0f0 */
	u64 avic_physical_table;    /* 0f8 */
	u64 rsvd_100;
	u64 vmsa_pa;                /* 108: SEV-ES */
	u8 rsvd_110[0x400 - 0x110];
} __packed;

struct vmcb_save {
	struct vmcb_seg es;         /* 400 */
	struct vmcb_seg cs;         /* 410 */
	struct vmcb_seg ss;         /* 420 */
	struct vmcb_seg ds;         /* 430 */
	struct vmcb_seg fs;         /* 440 (VMLOAD/VMSAVE) */
	struct vmcb_seg gs;         /* 450 (VMLOAD/VMSAVE) */
	struct vmcb_seg gdtr;       /* 460: limit and base only */
	struct vmcb_seg ldtr;       /* 470 (VMLOAD/VMSAVE) */
	struct vmcb_seg idtr;       /* 480: limit and base only */
	struct vmcb_seg tr;         /* 490 (VMLOAD/VMSAVE) */
	u8 rsvd_4a0[0x4cb - 0x4a0];
	u8 cpl;                     /* 4cb */
	u32 rsvd_4cc;
	u64 efer;                   /* 4d0 */
	u8 rsvd_4d8[0x548 - 0x4d8];
	u64 cr4;                    /* 548 */
	u64 cr3;                    /* 550 */
	u64 cr0;                    /* 558 */
	u64 dr7;                    /* 560 */
	u64 dr6;                    /* 568 */
	u64 rflags;                 /* 570 */
	u64 rip;                    /* 578 */
	u8 rsvd_580[0x5d8 - 0x580];
	u64 rsp;                    /* 5d8 */
	u64 s_cet;                  /* 5e0 */
	u64 ssp;                    /* 5e8 */
	u64 isst_addr;              /* 5f0 */
	u64 rax;                    /* 5f8 */
	u64 star;                   /* 600 (VMLOAD/VMSAVE, as are the next 7) */
	u64 lstar;                  /* 608 */
	u64 cstar;                  /* 610 */
	u64 sfmask;                 /* 618 */
	u64 kernel_gs_base;         /* 620 */
	u64 sysenter_cs;            /* 628 */
	u64 sysenter_esp;           /* 630 */
	u64 sysenter_eip;           /* 638 */
	u64 cr2;                    /* 640 */
	u8 rsvd_648[0x668 - 0x648];
	u64 g_pat;                  /* 668: guest PAT, used with nested paging */
	u64 dbgctl;                 /* 670 */
	u64 br_from;                /* 678 */
	u64 br_to;                  /* 680 */
	u64 lastexcpfrom;           /* 688 */
	u64 lastexcpto;             /* 690 */
	u8 rsvd_698[0x6e0 - 0x698];
	u64 spec_ctrl;              /* 6e0: guest IA32_SPEC_CTRL (V_SPEC_CTRL, CPUID 8000_000a EDX[20]) */
	u8 rsvd_6e8[0x1000 - 0x6e8];
} __packed;

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
} __packed;

#define VMCB_CHECK(field, off) \
	_Static_assert(offsetof(struct vmcb, field) == (off), "VMCB " #field)
VMCB_CHECK(control.intercept_exceptions, 0x008);
VMCB_CHECK(control.intercept_misc3, 0x014);
VMCB_CHECK(control.pause_filter_threshold, 0x03c);
VMCB_CHECK(control.iopm_base_pa, 0x040);
VMCB_CHECK(control.msrpm_base_pa, 0x048);
VMCB_CHECK(control.guest_asid, 0x058);
VMCB_CHECK(control.tlb_control, 0x05c);
VMCB_CHECK(control.v_intr, 0x060);
VMCB_CHECK(control.interrupt_shadow, 0x068);
VMCB_CHECK(control.exitcode, 0x070);
VMCB_CHECK(control.exitinfo1, 0x078);
VMCB_CHECK(control.exitinfo2, 0x080);
VMCB_CHECK(control.exitintinfo, 0x088);
VMCB_CHECK(control.np_enable, 0x090);
VMCB_CHECK(control.eventinj, 0x0a8);
VMCB_CHECK(control.n_cr3, 0x0b0);
VMCB_CHECK(control.vmcb_clean, 0x0c0);
VMCB_CHECK(control.nrip, 0x0c8);
VMCB_CHECK(control.num_bytes_fetched, 0x0d0);
VMCB_CHECK(control.vmsa_pa, 0x108);
VMCB_CHECK(save.es, 0x400);
VMCB_CHECK(save.gdtr, 0x460);
VMCB_CHECK(save.ldtr, 0x470);
VMCB_CHECK(save.idtr, 0x480);
VMCB_CHECK(save.tr, 0x490);
VMCB_CHECK(save.cpl, 0x4cb);
VMCB_CHECK(save.efer, 0x4d0);
VMCB_CHECK(save.cr4, 0x548);
VMCB_CHECK(save.cr0, 0x558);
VMCB_CHECK(save.rflags, 0x570);
VMCB_CHECK(save.rip, 0x578);
VMCB_CHECK(save.rsp, 0x5d8);
VMCB_CHECK(save.rax, 0x5f8);
VMCB_CHECK(save.star, 0x600);
VMCB_CHECK(save.kernel_gs_base, 0x620);
VMCB_CHECK(save.sysenter_eip, 0x638);
VMCB_CHECK(save.cr2, 0x640);
VMCB_CHECK(save.g_pat, 0x668);
VMCB_CHECK(save.lastexcpto, 0x690);
VMCB_CHECK(save.spec_ctrl, 0x6e0);
_Static_assert(sizeof(struct vmcb) == PAGE_SIZE, "VMCB is one page");
#undef VMCB_CHECK

/* intercept_misc1 (VMCB 00ch) */
#define INTERCEPT_INTR (1u << 0)
#define INTERCEPT_NMI (1u << 1)
#define INTERCEPT_SMI (1u << 2)
#define INTERCEPT_INIT (1u << 3)
#define INTERCEPT_VINTR (1u << 4)
#define INTERCEPT_CR0_SEL_WRITE (1u << 5)
#define INTERCEPT_RDTSC (1u << 14)
#define INTERCEPT_RDPMC (1u << 15)
#define INTERCEPT_CPUID (1u << 18)
#define INTERCEPT_RSM (1u << 19)
#define INTERCEPT_INVD (1u << 22)
#define INTERCEPT_PAUSE (1u << 23)
#define INTERCEPT_HLT (1u << 24)
#define INTERCEPT_INVLPG (1u << 25)
#define INTERCEPT_INVLPGA (1u << 26)
#define INTERCEPT_IOIO_PROT (1u << 27)
#define INTERCEPT_MSR_PROT (1u << 28)
#define INTERCEPT_TASK_SWITCH (1u << 29)
#define INTERCEPT_FERR_FREEZE (1u << 30)
#define INTERCEPT_SHUTDOWN (1u << 31)

/* intercept_misc2 (VMCB 010h) */
#define INTERCEPT2_VMRUN (1u << 0)
#define INTERCEPT2_VMMCALL (1u << 1)
#define INTERCEPT2_VMLOAD (1u << 2)
#define INTERCEPT2_VMSAVE (1u << 3)
#define INTERCEPT2_STGI (1u << 4)
#define INTERCEPT2_CLGI (1u << 5)
#define INTERCEPT2_SKINIT (1u << 6)
#define INTERCEPT2_RDTSCP (1u << 7)
#define INTERCEPT2_ICEBP (1u << 8)
#define INTERCEPT2_WBINVD (1u << 9)
#define INTERCEPT2_MONITOR (1u << 10)
#define INTERCEPT2_MWAIT (1u << 11)
#define INTERCEPT2_XSETBV (1u << 13)

/* tlb_control (VMCB 05ch). 3 and 7 need CPUID 8000_000a EDX FlushByAsid. */
#define TLB_CONTROL_DO_NOTHING 0
#define TLB_CONTROL_FLUSH_ALL_ASIDS 1
#define TLB_CONTROL_FLUSH_ASID 3
#define TLB_CONTROL_FLUSH_ASID_NONGLOBAL 7

/* v_intr (VMCB 060h, APM 15.21) */
#define V_TPR_MASK 0xffULL
#define V_IRQ (1ULL << 8)
#define V_INTR_PRIO_SHIFT 16
#define V_IGN_TPR (1ULL << 20)
#define V_INTR_MASKING (1ULL << 24)
#define V_INTR_VECTOR_SHIFT 32

/* interrupt_shadow (VMCB 068h) */
#define INTERRUPT_SHADOW (1ULL << 0)

/* np_enable (VMCB 090h) */
#define NP_ENABLE (1ULL << 0)

/* EVENTINJ and EXITINTINFO (APM 15.20): vector, type, error code valid,
 * valid, error code in bits 63:32. */
#define EVENTINJ_VECTOR_MASK 0xffULL
#define EVENTINJ_TYPE_SHIFT 8
#define EVENTINJ_TYPE_MASK (7ULL << EVENTINJ_TYPE_SHIFT)
#define EVENTINJ_TYPE_INTR (0ULL << EVENTINJ_TYPE_SHIFT)
#define EVENTINJ_TYPE_NMI (2ULL << EVENTINJ_TYPE_SHIFT)
#define EVENTINJ_TYPE_EXCEPTION (3ULL << EVENTINJ_TYPE_SHIFT)
#define EVENTINJ_TYPE_SOFT_INT (4ULL << EVENTINJ_TYPE_SHIFT)
#define EVENTINJ_EV (1ULL << 11)
#define EVENTINJ_V (1ULL << 31)
#define EVENTINJ_ERRORCODE_SHIFT 32

/* EXITINFO1 of an IOIO intercept (APM 15.10.2) */
#define IOIO_TYPE_IN (1ULL << 0)
#define IOIO_STR (1ULL << 2)
#define IOIO_REP (1ULL << 3)
#define IOIO_SZ8 (1ULL << 4)
#define IOIO_SZ16 (1ULL << 5)
#define IOIO_SZ32 (1ULL << 6)
#define IOIO_PORT_SHIFT 16

/* EXITINFO1 of a nested page fault (APM 15.25.6): the #PF error code
 * bits, plus which walk faulted. */
#define NPF_P (1ULL << 0)
#define NPF_RW (1ULL << 1)
#define NPF_US (1ULL << 2)
#define NPF_RSV (1ULL << 3)
#define NPF_ID (1ULL << 4)
#define NPF_FINAL_GPA (1ULL << 32)  /* faulted on the guest's final address */
#define NPF_GUEST_PT (1ULL << 33)   /* faulted on a guest page-table access */

/* EXITINFO1 of a CR access with decode assists (APM 15.33.1) */
#define CR_EXITINFO_MOV (1ULL << 63)
#define CR_EXITINFO_GPR_MASK 0xfULL

/* Exit codes (APM appendix C) */
#define VMEXIT_CR0_READ 0x000
#define VMEXIT_CR0_WRITE 0x010
#define VMEXIT_DR0_READ 0x020
#define VMEXIT_EXCP_BASE 0x040 /* 0x40 + vector */
#define VMEXIT_INTR 0x060
#define VMEXIT_NMI 0x061
#define VMEXIT_SMI 0x062
#define VMEXIT_INIT 0x063
#define VMEXIT_VINTR 0x064
#define VMEXIT_CPUID 0x072
#define VMEXIT_INVD 0x076
#define VMEXIT_HLT 0x078
#define VMEXIT_INVLPGA 0x07a
#define VMEXIT_IOIO 0x07b
#define VMEXIT_MSR 0x07c
#define VMEXIT_SHUTDOWN 0x07f
#define VMEXIT_VMRUN 0x080
#define VMEXIT_VMMCALL 0x081
#define VMEXIT_VMLOAD 0x082
#define VMEXIT_VMSAVE 0x083
#define VMEXIT_STGI 0x084
#define VMEXIT_CLGI 0x085
#define VMEXIT_SKINIT 0x086
#define VMEXIT_WBINVD 0x089
#define VMEXIT_MONITOR 0x08a
#define VMEXIT_MWAIT 0x08b
#define VMEXIT_XSETBV 0x08d
#define VMEXIT_NPF 0x400
#define VMEXIT_INVALID ((u64)-1)
/* QEMU 7.2 TCG stores VMEXIT_INVALID as a 32-bit -1 (0x00000000ffffffff),
 * not the APM's 64-bit -1; no real exit code has that value. */
#define VMEXIT_INVALID_32 0xffffffffULL

static inline bool vmcb_entry_failed(const struct vmcb *vmcb)
{
	return vmcb->control.exitcode == VMEXIT_INVALID ||
	       vmcb->control.exitcode == VMEXIT_INVALID_32;
}

#endif
