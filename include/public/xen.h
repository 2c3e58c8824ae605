/*
 * Xen-compatible guest ABI: hypercall numbers, console_io and vm_assist
 * commands, domain ids, VIRQs and the shared_info / vcpu_info pages.
 *
 * Names and numbers follow Xen's xen/include/public/xen.h (and
 * arch-x86/xen-x86_64.h for the x86-64 layouts) so a reader can check them
 * there. Only the x86-64 ABI is described. Guest handles
 * (XEN_GUEST_HANDLE) are written as uint64_t guest-virtual addresses.
 *
 * Hypercall convention (x86-64, HVM/PVH): RAX = number; arguments in RDI,
 * RSI, RDX, R10, R8; result in RAX (a negative errno on failure, Xen's
 * numbering = include/lib/errno.h). Issued by VMCALL (Intel) or VMMCALL
 * (AMD), directly or through the hypercall page (stub i at page + 32 * i).
 * Only CPL 0 may call; CPL > 0 gets -EPERM.
 *
 * This header compiles freestanding and on the host (it uses only
 * <lib/types.h>).
 */
#ifndef KEEL_PUBLIC_XEN_H
#define KEEL_PUBLIC_XEN_H

#include <lib/types.h>

/* ---- hypercall numbers ------------------------------------------------- */

#define __HYPERVISOR_set_trap_table                 0  /* PV only */
#define __HYPERVISOR_mmu_update                     1  /* PV only */
#define __HYPERVISOR_set_gdt                        2  /* PV only */
#define __HYPERVISOR_stack_switch                   3  /* PV only */
#define __HYPERVISOR_set_callbacks                  4  /* PV only */
#define __HYPERVISOR_fpu_taskswitch                 5  /* PV only */
#define __HYPERVISOR_sched_op_compat                6
#define __HYPERVISOR_platform_op                    7  /* dom0 */
#define __HYPERVISOR_set_debugreg                   8
#define __HYPERVISOR_get_debugreg                   9
#define __HYPERVISOR_update_descriptor             10
/* 11 is unused */
#define __HYPERVISOR_memory_op                     12  /* memory.h */
#define __HYPERVISOR_multicall                     13
#define __HYPERVISOR_update_va_mapping             14
#define __HYPERVISOR_set_timer_op                  15  /* u64 absolute ns */
#define __HYPERVISOR_event_channel_op_compat       16
#define __HYPERVISOR_xen_version                   17  /* version.h */
#define __HYPERVISOR_console_io                    18  /* CONSOLEIO_* */
#define __HYPERVISOR_physdev_op_compat             19
#define __HYPERVISOR_grant_table_op                20  /* grant_table.h */
#define __HYPERVISOR_vm_assist                     21  /* VMASST_* */
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                          23  /* page stub is ud2 */
#define __HYPERVISOR_vcpu_op                       24  /* vcpu.h */
#define __HYPERVISOR_set_segment_base              25
#define __HYPERVISOR_mmuext_op                     26
#define __HYPERVISOR_xsm_op                        27
#define __HYPERVISOR_nmi_op                        28
#define __HYPERVISOR_sched_op                      29  /* sched.h */
#define __HYPERVISOR_callback_op                   30
#define __HYPERVISOR_xenoprof_op                   31
#define __HYPERVISOR_event_channel_op              32  /* event_channel.h */
#define __HYPERVISOR_physdev_op                    33
#define __HYPERVISOR_hvm_op                        34  /* hvm_op.h */
#define __HYPERVISOR_sysctl                        35
#define __HYPERVISOR_domctl                        36
#define __HYPERVISOR_kexec_op                      37
#define __HYPERVISOR_tmem_op                       38
#define __HYPERVISOR_argo_op                       39
#define __HYPERVISOR_xenpmu_op                     40
#define __HYPERVISOR_dm_op                         41
#define __HYPERVISOR_hypfs_op                      42
#define __HYPERVISOR_arch_0                        48  /* .. arch_7 = 55 */

/* The hypercall page: 128 stubs of 32 bytes each. */
#define XEN_HYPERCALL_STUB_SIZE  32
#define XEN_HYPERCALL_PAGE_STUBS 128

/* ---- console_io(cmd, count, buffer) ----------------------------------- */

#define CONSOLEIO_write 0 /* returns 0 or -errno; -EFAULT on a bad buffer */
#define CONSOLEIO_read  1 /* returns the number of bytes read */

/* ---- vm_assist(cmd, type) --------------------------------------------- */

#define VMASST_CMD_enable                0
#define VMASST_CMD_disable               1
#define VMASST_TYPE_4gb_segments         0
#define VMASST_TYPE_4gb_segments_notify  1
#define VMASST_TYPE_writable_pagetables  2
#define VMASST_TYPE_pae_extended_cr3     3
#define VMASST_TYPE_architectural_iopl   4
#define VMASST_TYPE_runstate_update_flag 5
#define VMASST_TYPE_m2p_strict           32

/* ---- domain ids ------------------------------------------------------- */

typedef uint16_t domid_t;

#define DOMID_FIRST_RESERVED 0x7FF0U
#define DOMID_SELF           0x7FF0U
#define DOMID_IO             0x7FF1U
#define DOMID_XEN            0x7FF2U
#define DOMID_COW            0x7FF3U
#define DOMID_INVALID        0x7FF4U
#define DOMID_ANY            0x7FF5U
#define DOMID_IDLE           0x7FFFU
#define DOMID_MASK           0x7FFFU

/* ---- virtual interrupts (EVTCHNOP_bind_virq) ------------------------- */

#define VIRQ_TIMER    0 /* per vCPU: singleshot/periodic timer */
#define VIRQ_DEBUG    1 /* per vCPU */
#define VIRQ_CONSOLE  2 /* global, dom0: emergency console input */
#define VIRQ_DOM_EXC  3 /* global, dom0: a domain changed state */
#define VIRQ_TBUF     4
#define VIRQ_DEBUGGER 6
#define VIRQ_XENOPROF 7
#define VIRQ_CON_RING 8
#define VIRQ_PCPU_STATE 9
#define VIRQ_MEM_EVENT 10
#define VIRQ_ARGO     11
#define VIRQ_ENOMEM   12
#define VIRQ_XENPMU   13
#define VIRQ_ARCH_0   16
#define NR_VIRQS      24

/* ---- start_info flags (SIF_*, also hvm_start_info.flags) ------------- */

#define SIF_PRIVILEGED      (1U << 0)
#define SIF_INITDOMAIN      (1U << 1) /* must be 0 for a PVH domU */
#define SIF_MULTIBOOT_MOD   (1U << 2)
#define SIF_MOD_START_PFN   (1U << 3)
#define SIF_VIRT_P2M_4TOOLS (1U << 4)
#define SIF_PM_MASK         (0xFFU << 8)

/* ---- shared_info and vcpu_info ---------------------------------------- */

typedef uint64_t xen_pfn_t;   /* x86-64: unsigned long */
typedef uint64_t xen_ulong_t; /* x86-64: unsigned long */

#define XEN_LEGACY_MAX_VCPUS 32 /* vcpu_info slots inside shared_info */
#define NR_EVENT_CHANNELS    4096 /* 2-level ABI on x86-64: 64 * 64 */

/*
 * PV time. Xen increments `version` before and after an update (odd = in
 * progress). Current system time in ns:
 *   system_time + ((((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32)
 * with a right shift when tsc_shift is negative.
 */
struct vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp; /* TSC at the last update */
	uint64_t system_time;   /* ns since boot at tsc_timestamp */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;          /* XEN_PVCLOCK_* */
	uint8_t pad1[2];
};
_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info size");
_Static_assert(offsetof(struct vcpu_time_info, tsc_timestamp) == 8, "tsc_timestamp");
_Static_assert(offsetof(struct vcpu_time_info, system_time) == 16, "system_time");
_Static_assert(offsetof(struct vcpu_time_info, tsc_to_system_mul) == 24, "mul");
_Static_assert(offsetof(struct vcpu_time_info, tsc_shift) == 28, "shift");
_Static_assert(offsetof(struct vcpu_time_info, flags) == 29, "flags");

#define XEN_PVCLOCK_TSC_STABLE_BIT (1U << 0)
#define XEN_PVCLOCK_GUEST_STOPPED  (1U << 1)

struct arch_vcpu_info {
	uint64_t cr2;
	uint64_t pad;
};

struct vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;   /* ignored by HVM injection */
	uint8_t pad0[6];
	uint64_t evtchn_pending_sel;  /* one bit per word of evtchn_pending */
	struct arch_vcpu_info arch;
	struct vcpu_time_info time;
};
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info size");
_Static_assert(offsetof(struct vcpu_info, evtchn_upcall_mask) == 1, "upcall_mask");
_Static_assert(offsetof(struct vcpu_info, evtchn_pending_sel) == 8, "pending_sel");
_Static_assert(offsetof(struct vcpu_info, arch) == 16, "arch");
_Static_assert(offsetof(struct vcpu_info, time) == 32, "time");

struct arch_shared_info {
	uint64_t max_pfn;
	xen_pfn_t pfn_to_mfn_frame_list_list;
	uint64_t nmi_reason;
	uint64_t p2m_cr3;
	uint64_t p2m_vaddr;
	uint64_t p2m_generation;
};

struct shared_info {
	struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	uint64_t evtchn_pending[64];
	uint64_t evtchn_mask[64];
	uint32_t wc_version; /* like vcpu_time_info.version */
	uint32_t wc_sec;     /* wall time at system_time 0 */
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;
	struct arch_shared_info arch;
};
_Static_assert(sizeof(struct shared_info) == 3136, "shared_info size");
_Static_assert(offsetof(struct shared_info, evtchn_pending) == 0x800, "evtchn_pending");
_Static_assert(offsetof(struct shared_info, evtchn_mask) == 0xA00, "evtchn_mask");
_Static_assert(offsetof(struct shared_info, wc_version) == 0xC00, "wc_version");
_Static_assert(offsetof(struct shared_info, wc_sec_hi) == 0xC0C, "wc_sec_hi");
_Static_assert(offsetof(struct shared_info, arch) == 0xC10, "arch");

#endif
